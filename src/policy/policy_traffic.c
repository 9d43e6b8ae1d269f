/*
 * policy_traffic.c -- the telecom sections: `traffic:` (the retained-data
 * store) and `incidents:`.
 */
#include <errno.h>
#include <fcntl.h>
#include <libfyaml.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "policy_internal.h"

#include "../common/utf8.h"

static const char *const traffic_keys[] = {"purpose", "recipient", "period",
                                           "ingest", NULL};

/* Returns the index of the entry of a named section whose id is name, or
 * -1 (a small linear search: roles and recipients are few). */
static long
find_named(const char *name, size_t n, size_t size, const void *base)
{
	for (size_t i = 0; i < n; i++) {
		const char *const *id =
		        (const char *const *)((const char *)base + i * size);

		if (*id != NULL && strcmp(*id, name) == 0)
			return (long)i;
	}
	return -1;
}

/*
 * `traffic:` -- the telecom retained-data store (issue 18): the purpose
 * it serves (one that requires clearance, TEL-LOG-2), the recipient a
 * delivery goes to (an authority on a court order, TEL-LOG-3), how long a
 * day is kept (TEL-LOG-1) and the cleared roles that ingest.
 */
void
policy_compile_traffic(struct loader *ld, const struct ynode *root)
{
	const struct ynode *at, *v = policy_map_get(root, "traffic", &at);
	const struct ynode *pv, *rv, *sv, *iv;
	struct policy_traffic *t = &ld->p->traffic;
	struct vaern_msg msg;
	char nb[SHOW_BUF];
	const char *ctx = "traffic";
	long i;

	if (v == NULL || policy_is_null(v) || v->bad) {
		for (size_t c = 0; c < ld->p->ncategories; c++)
			if (ld->p->categories[c].traffic)
				policy_diag_at(
				        ld, ld->p->categories[c].line,
				        ld->p->categories[c].column,
				        "category '%s' is kept in the traffic "
				        "store, but the policy declares no "
				        "traffic:",
				        ld->p->categories[c].id);
		return;
	}
	if (v->kind != Y_MAP) {
		policy_diag(ld, v, "traffic must be a mapping");
		return;
	}
	t->declared = 1;
	t->line = v->line;
	t->column = v->column;
	policy_check_keys(ld, v, traffic_keys, ctx);
	pv = policy_get_scalar(ld, v, "purpose", v, ctx, 1);
	if (pv != NULL) {
		i = find_named(pv->text, ld->p->npurposes,
		               sizeof(*ld->p->purposes), ld->p->purposes);
		if (i < 0)
			policy_diag(ld, pv, "traffic: unknown purpose '%s'",
			            policy_show(nb, pv->text));
		else if (!ld->p->purposes[i].requires_clearance)
			policy_diag(
			        ld, pv,
			        "traffic: purpose '%s' must require clearance "
			        "(TEL-LOG-2)",
			        policy_show(nb, pv->text));
		else
			t->purpose = (size_t)i;
	}
	rv = policy_get_scalar(ld, v, "recipient", v, ctx, 1);
	if (rv != NULL) {
		i = find_named(rv->text, ld->p->nrecipients,
		               sizeof(*ld->p->recipients), ld->p->recipients);
		if (i < 0)
			policy_diag(ld, rv, "traffic: unknown recipient '%s'",
			            policy_show(nb, rv->text));
		else if (ld->p->recipients[i].demand == NULL ||
		         strcmp(ld->p->recipients[i].demand, "court_order") !=
		                 0)
			policy_diag(ld, rv,
			            "traffic: recipient '%s' must need a "
			            "court_order "
			            "(TEL-LOG-3)",
			            policy_show(nb, rv->text));
		else
			t->recipient = (size_t)i;
	}
	sv = policy_get_scalar(ld, v, "period", v, ctx, 1);
	if (sv != NULL) {
		memset(&msg, 0, sizeof(msg));
		if (cal_parse_period(sv->text, &t->period, &msg) != VAERN_OK)
			policy_diag(ld, sv, "traffic: period: %s", msg.text);
	}
	iv = policy_map_get(v, "ingest", NULL);
	if (iv == NULL || policy_is_null(iv) || iv->bad)
		return;
	if (iv->kind != Y_SEQ) {
		policy_diag(ld, iv, "traffic: ingest must be a list of roles");
		return;
	}
	t->ingest = policy_pcalloc(ld, iv->n, sizeof(*t->ingest));
	for (size_t k = 0; t->ingest != NULL && k < iv->n; k++) {
		const struct ynode *it = iv->items[k];

		if (it->bad || it->kind != Y_SCALAR) {
			policy_diag(ld, it,
			            "traffic: ingest: each entry is a role");
			continue;
		}
		i = find_named(it->text, ld->p->nroles, sizeof(*ld->p->roles),
		               ld->p->roles);
		if (i < 0)
			policy_diag(ld, it,
			            "traffic: ingest: unknown role '%s'",
			            policy_show(nb, it->text));
		else if (!ld->p->roles[i].cleared)
			policy_diag(ld, it,
			            "traffic: ingest: role '%s' is not cleared "
			            "(TEL-LOG-2)",
			            policy_show(nb, it->text));
		else
			t->ingest[t->ningest++] = (size_t)i;
	}
}

/*
 * incidents: {receipt: "N working days", feedback: PERIOD} (issue 17,
 * SHOP-BREACH-2). The receipt counts working days of the controller's
 * country; the feedback is a calendar period.
 */
void
policy_compile_incidents(struct loader *ld, const struct ynode *root)
{
	static const char *const keys[] = {"receipt", "feedback", NULL};
	struct policy_incidents *in = &ld->p->incidents;
	const struct ynode *v = policy_map_get(root, "incidents", NULL), *r, *f;
	struct vaern_msg msg;
	char *end = NULL;
	long n;

	in->receipt_working_days = 2;
	in->feedback.count = 2;
	in->feedback.unit = PERIOD_WEEKS;
	if (v == NULL || policy_is_null(v) || v->bad)
		return;
	in->line = v->line;
	in->column = v->column;
	if (v->kind != Y_MAP) {
		policy_diag(ld, v,
		            "incidents must be a mapping (receipt, feedback)");
		return;
	}
	policy_check_keys(ld, v, keys, "incidents");
	r = policy_get_scalar(ld, v, "receipt", NULL, "incidents", 0);
	if (r != NULL) {
		n = strtol(r->text, &end, 10);
		if (end == r->text || n < 1 || n > 30 ||
		    (strcmp(end, " working days") != 0 &&
		     strcmp(end, " working day") != 0))
			policy_diag(
			        ld, r,
			        "incidents: receipt is 1..30 working days, as "
			        "\"2 working days\"");
		else
			in->receipt_working_days = (int)n;
	}
	f = policy_get_scalar(ld, v, "feedback", NULL, "incidents", 0);
	if (f != NULL &&
	    (cal_parse_period(f->text, &in->feedback, &msg) != VAERN_OK ||
	     in->feedback.count < 1))
		policy_diag(ld, f,
		            "incidents: feedback is a period of at least one "
		            "day, as "
		            "\"2 weeks\"");
}
