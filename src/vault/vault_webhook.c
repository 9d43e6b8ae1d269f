/*
 * vault_webhook.c -- the events webhooks carry (issue 19, point 6), queued
 * in the store inside the transaction of the change they tell of, so a
 * change committed is an event queued and a change rolled back none.
 *
 * A body names ids, types, statuses and dates only: the event's id, the
 * controller, a request's id, type, status and deadline, a case number
 * and its classification; never a subject, a fact, a reason or a contact
 * (no personal data, GDPR-32).
 *
 *   {"id": "<32 hex>", "type": "request.created",
 *    "created_at": "2026-12-07T11:00:00Z", "controller": "telenor",
 *    "data": {...}}
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../store/store_webhook.h"
#include "vault.h"
#include "vault_internal.h"

/* One-of-a-kind events are kept this long after they are delivered, so
 * the deadline scan does not queue them again (the longest "due within"
 * is VAULT_WEBHOOK_DUE_MAX days; a request's deadline at most three
 * months after receipt). */
#define WEBHOOK_ONCE_KEEP (400l * 86400)

enum vaern_err
vlt_webhook_add(struct vault *v, const char *type, const char *controller,
                json_t *data, const char *once, struct vaern_msg *msg)
{
	struct store_webhook_event e;
	unsigned char raw[16];
	char at[21];
	json_t *body = NULL;
	char *text = NULL;
	enum vaern_err err = VAERN_OK;

	memset(&e, 0, sizeof(e));
	vlt_random(v, raw, sizeof(raw));
	sodium_bin2hex(e.eid, sizeof(e.eid), raw, sizeof(raw));
	(void)snprintf(e.type, sizeof(e.type), "%s", type);
	e.created_at = clock_now();
	cal_format_instant(e.created_at, at);
	body = json_pack("{s:s, s:s, s:s, s:s?, s:o}", "id", e.eid, "type",
	                 type, "created_at", at, "controller", controller,
	                 "data", data != NULL ? data : json_object());
	data = NULL;
	if (body == NULL ||
	    (text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	            NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	if (strlen(text) >= sizeof(e.body)) {
		err = vaern_fail(msg, VAERN_E_INTERNAL,
		                 "webhook: an event body past %d bytes",
		                 STORE_WEBHOOK_BODY_MAX - 1);
		goto done;
	}
	memcpy(e.body, text, strlen(text) + 1);
	err = store_webhook_add(v->store, &e, once, NULL, msg);
done:
	json_decref(data);
	json_decref(body);
	free(text);
	return err;
}

/*
 * The queue's own transactions (the delivery thread's acknowledgements,
 * the deadline scan, a sweep's event): not changes to personal data, so
 * no audit entry and no vlt_end (whose crash point marks a change
 * committed); inside a batch, the batch's.
 */
static enum vaern_err
queue_begin(struct vault *v, struct vaern_msg *msg)
{
	return v->batch ? VAERN_OK : store_begin(v->store, msg);
}

static enum vaern_err
queue_end(struct vault *v, enum vaern_err err, struct vaern_msg *msg)
{
	if (v->batch)
		return err;
	if (err == VAERN_OK)
		return store_commit(v->store, msg);
	store_rollback(v->store);
	return err;
}

/* The loaded controller of rowid's name, or NULL. */
static const char *
controller_name(const struct vault *v, int64_t rowid)
{
	for (size_t i = 0; i < v->nctrl; i++)
		if (v->ctrl[i].rowid == rowid)
			return v->ctrl[i].name;
	return NULL;
}

/* The request fields of an event: id, type, status, deadline. */
static json_t *
request_data(const struct store_request *s)
{
	char due[11];

	cal_format_date(s->due, due);
	return json_pack("{s:{s:s, s:s, s:s, s:s, s:i}}", "request", "id",
	                 s->id, "type", s->type, "status", s->status, "due",
	                 due, "extended_months", s->extended_months);
}

enum vaern_err
vlt_webhook_request(struct vault *v, const struct store_request *s,
                    const char *from, struct vaern_msg *msg)
{
	char type[STORE_WEBHOOK_TYPE_MAX + STORE_WORD_MAX];

	/* A step within a status (a second rectification) is no event. */
	if (from != NULL && strcmp(from, s->status) == 0)
		return VAERN_OK;
	(void)snprintf(type, sizeof(type), "request.%s",
	               from == NULL ? "created" : s->status);
	return vlt_webhook_add(v, type, controller_name(v, s->controller),
	                       request_data(s), NULL, msg);
}

enum vaern_err
vlt_webhook_case(struct vault *v, const char *type, const char *controller,
                 const char *case_id, const char *classification,
                 const char *once, struct vaern_msg *msg)
{
	return vlt_webhook_add(v, type, controller,
	                       json_pack("{s:{s:s, s:s?}}", "case", "id",
	                                 case_id, "classification",
	                                 classification),
	                       once, msg);
}

enum vaern_err
vault_webhook_event(struct vault *v, const char *type, const char *controller,
                    struct json_t *data, struct vaern_msg *msg)
{
	enum vaern_err err;

	if ((err = queue_begin(v, msg)) != VAERN_OK) {
		json_decref(data);
		return err;
	}
	err = vlt_webhook_add(v, type, controller, data, NULL, msg);
	return queue_end(v, err, msg);
}

enum vaern_err
vault_webhook_sweep(struct vault *v, const struct vault_sweep_report *rep,
                    uint64_t traffic_days, struct vaern_msg *msg)
{
	return vault_webhook_event(
	        v, "retention.sweep_done", NULL,
	        json_pack("{s:{s:b, s:I, s:I, s:I, s:I, s:I, s:I}}", "sweep",
	                  "stopped", rep->stopped, "facts_deleted",
	                  (json_int_t)rep->facts_deleted, "facts_anonymised",
	                  (json_int_t)rep->facts_anonymised,
	                  "subjects_shredded",
	                  (json_int_t)rep->subjects_shredded,
	                  "consents_expired", (json_int_t)rep->consents_expired,
	                  "visits_deleted", (json_int_t)rep->visits_deleted,
	                  "traffic_days_deleted", (json_int_t)traffic_days),
	        msg);
}

/* ---- the deadline scan ---------------------------------------------- */

struct due_scan {
	struct vault *v;
	const char *controller;
	long today, within;
	struct vaern_msg *msg;
};

static enum vaern_err
due_each(void *arg, const struct vault_request *r)
{
	struct due_scan *d = arg;
	char once[STORE_WEBHOOK_ONCE_MAX], due[11];
	const char *type;

	if (r->due < d->today) {
		type = "request.overdue";
	} else if (r->due - d->today <= d->within) {
		type = "request.due_soon";
	} else {
		return VAERN_OK;
	}
	cal_format_date(r->due, due);
	/* One of each per deadline: an extension's new one is told anew. */
	(void)snprintf(once, sizeof(once), "%s:%s:%s", type, r->id, due);
	return vlt_webhook_add(
	        d->v, type, d->controller,
	        json_pack("{s:{s:s, s:s, s:s, s:s, s:i}}", "request", "id",
	                  r->id, "type", rights_type_name(r->type), "status",
	                  rights_status_name(r->status), "due", due,
	                  "days_left", (int)(r->due - d->today)),
	        once, d->msg);
}

static enum vaern_err
due_controller(void *arg, const char *controller, int64_t loaded_at)
{
	struct due_scan *d = arg;

	(void)loaded_at;
	d->controller = controller;
	/* Only the open requests due by the end of the window. */
	return vault_request_foreach(d->v, controller, d->today + d->within, 1,
	                             due_each, d, d->msg);
}

enum vaern_err
vault_webhook_scan(struct vault *v, long within_days, struct vaern_msg *msg)
{
	struct due_scan d = {v, NULL, clock_today(), within_days, msg};
	enum vaern_err err;

	if ((err = queue_begin(v, msg)) != VAERN_OK)
		return err;
	/* It opens requests' and cases' sealed texts: the master key
	 * generation of a rotation under way, as vlt_begin takes it. */
	err = keys_ring_refresh(v->ring, v->store, msg);
	if (err == VAERN_OK)
		err = vault_controller_foreach(v, due_controller, &d, msg);
	if (err == VAERN_OK)
		err = vlt_incident_webhook_scan(v, msg);
	return queue_end(v, err, msg);
}

/* ---- counts for /metrics ---- */

struct due_count {
	struct vault *v;
	long today;
	long *due_soon, *overdue;
	struct vaern_msg *msg;
};

static enum vaern_err
count_each(void *arg, const struct vault_request *r)
{
	struct due_count *d = arg;

	if (r->due < d->today)
		(*d->overdue)++;
	else
		(*d->due_soon)++;
	return VAERN_OK;
}

static enum vaern_err
count_controller(void *arg, const char *controller, int64_t loaded_at)
{
	struct due_count *d = arg;

	(void)loaded_at;
	return vault_request_foreach(d->v, controller, d->today + 7, 1,
	                             count_each, d, d->msg);
}

enum vaern_err
vault_request_counts(struct vault *v, long *due_soon, long *overdue,
                     struct vaern_msg *msg)
{
	struct due_count d = {v, clock_today(), due_soon, overdue, msg};

	*due_soon = *overdue = 0;
	return vault_controller_foreach(v, count_controller, &d, msg);
}

/* ---- delivery ------------------------------------------------------- */

enum vaern_err
vault_webhook_endpoints(struct vault *v, const char *const *keys, size_t n,
                        struct vaern_msg *msg)
{
	enum vaern_err err;

	if ((err = queue_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_webhook_endpoints(v->store, keys, n, msg);
	return queue_end(v, err, msg);
}

enum vaern_err
vault_webhook_next(struct vault *v, const char *key,
                   struct store_webhook_event *e, int64_t *pending,
                   struct vaern_msg *msg)
{
	return store_webhook_next(v->store, key, e, pending, msg);
}

enum vaern_err
vault_webhook_ack(struct vault *v, const char *key, int64_t id,
                  struct vaern_msg *msg)
{
	enum vaern_err err;

	if ((err = queue_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_webhook_ack(v->store, key, id, msg);
	if (err == VAERN_OK)
		err = store_webhook_prune(v->store,
		                          clock_now() - WEBHOOK_ONCE_KEEP, msg);
	return queue_end(v, err, msg);
}
