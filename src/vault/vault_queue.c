/*
 * vault_queue.c -- the request queue (issue 20, point 3; GDPR-12): open
 * rights requests by due day, filtered by type, status, due within N
 * days and overdue. One walk behind GET /v1/requests, `vaern requests
 * list` and the staff console's queue page, so the filter is written
 * once.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../rights/rights.h"
#include "vault_internal.h"
#include "vault_requests_internal.h"

/* "1"/"true" is 1, "0"/"false" 0, anything else -1. */
static int
flag_parse(const char *s)
{
	if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0)
		return 1;
	if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0)
		return 0;
	return -1;
}

enum vaern_err
vault_request_filter_parse(const char *type, const char *status,
                           const char *due_within, const char *overdue,
                           const char *all, long today,
                           struct vault_request_filter *out,
                           struct vaern_msg *msg)
{
	enum rights_type t;
	enum rights_status st;
	long days;
	int every = 0;

	memset(out, 0, sizeof(*out));
	out->due_by = LONG_MAX;
	out->type = out->status = -1;
	out->texts = 1;
	if (type != NULL) {
		if (rights_type_parse(type, &t, NULL) != VAERN_OK)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "'type' is access, portability, "
			        "rectification, erasure, restriction, "
			        "objection or consent_withdrawal");
		out->type = (int)t;
	}
	if (status != NULL) {
		if (rights_status_parse(status, &st, NULL) != VAERN_OK)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "'status' is received, verified, "
			                  "in_progress, extended, completed, "
			                  "refused or cancelled");
		out->status = (int)st;
	}
	if (due_within != NULL) {
		if (cal_parse_days(due_within, &days) != 0)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "'due_within' is a number of days: 7, "
			        "7d or 2w");
		out->due_by = today + days;
	}
	if (overdue != NULL && (out->overdue = flag_parse(overdue)) < 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "'overdue' is true or false");
	if (all != NULL && (every = flag_parse(all)) < 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "'all' is true or false");
	/* A closed status asked for is listed; else open ones unless all. */
	out->open_only =
	        !every &&
	        !(out->status >= 0 &&
	          rights_status_final((enum rights_status)out->status));
	if (out->overdue) {
		/* GDPR-12: past its day and still open. */
		out->open_only = 1;
		if (out->due_by > today - 1)
			out->due_by = today - 1;
	}
	return VAERN_OK;
}

struct queue_walk {
	const struct vault_request_filter *f;
	enum vaern_err (*fn)(void *arg, const struct vault_request *r);
	void *arg;
	struct vaern_msg *msg;
	struct vault *v;
	struct store_request *open; /* one row's copy, its texts opened */
	struct vault_request r;     /* as the caller gets it */
};

static enum vaern_err
queue_each(void *arg, const struct store_request *s)
{
	struct queue_walk *w = arg;
	const struct vault_request_filter *f = w->f;
	enum vaern_err err;

	/* Type and status before anything is copied or opened. */
	if ((f->type >= 0 &&
	     strcmp(s->type, rights_type_name((enum rights_type)f->type)) !=
	             0) ||
	    (f->status >= 0 &&
	     strcmp(s->status,
	            rights_status_name((enum rights_status)f->status)) != 0))
		return VAERN_OK;
	if (f->texts) {
		*w->open = *s;
		vlt_request_texts_open(w->v, w->open);
		s = w->open;
	}
	err = vlt_request_out(s, &w->r, w->msg);
	if (!f->texts) {
		/* Sealed as stored: not for the caller's eyes. */
		w->r.status_reason[0] = '\0';
		w->r.extension_reason[0] = '\0';
		w->r.attestation[0] = '\0';
	}
	if (err == VAERN_OK)
		err = w->fn(w->arg, &w->r);
	return err;
}

enum vaern_err
vault_request_queue(struct vault *v, const char *controller,
                    const struct vault_request_filter *f,
                    enum vaern_err (*fn)(void *arg,
                                         const struct vault_request *r),
                    void *arg, struct vaern_msg *msg)
{
	struct controller *c;
	struct queue_walk *w;
	enum vaern_err err;

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	/* The two buffers hold opened texts: one allocation, wiped. */
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->open = malloc(sizeof(*w->open))) == NULL) {
		free(w);
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	}
	w->f = f;
	w->fn = fn;
	w->arg = arg;
	w->msg = msg;
	w->v = v;
	err = store_request_foreach(v->store, c->rowid, f->due_by, f->open_only,
	                            queue_each, w, msg);
	sodium_memzero(w->open, sizeof(*w->open));
	free(w->open);
	sodium_memzero(w, sizeof(*w));
	free(w);
	return err;
}
