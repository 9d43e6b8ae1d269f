/*
 * vault_plan.c -- the retention plan: what goes when, by rule and day,
 * counted from the due index alone (issue 4; issue 10: undated facts and
 * those a restriction holds, each a line of its own per rule).
 */
#include <stdlib.h>
#include <string.h>

#include "../store/store_console.h"
#include "vault_internal.h"

/* ---- the plan ----------------------------------------------------------- */

/* A (rule, day) count of visits, read before the facts' plan. */
struct visit_row {
	int64_t rule;
	int64_t expires_at;
	int64_t count;
};

struct plan_walk {
	struct vault *v;
	const char *controller;
	enum vaern_err (*fn)(void *arg, const struct vault_plan_row *r);
	void *arg;
	struct vaern_msg *msg;
	int64_t cached_rule;
	struct controller *c;
	long r;
	struct visit_row *visits;  /* malloc'ed, in expires_at order */
	size_t nvisits, cap, next; /* next: the first not passed on yet */
	int restricted;            /* emitting the restriction's rows */
};

static enum vaern_err
visit_row_add(void *arg, int64_t rule, int64_t expires_at, int64_t count)
{
	struct plan_walk *w = arg;

	if (w->nvisits == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct visit_row *p = realloc(w->visits, cap * sizeof(*p));

		if (p == NULL)
			return vaern_fail(w->msg, VAERN_E_NOMEM,
			                  "out of memory");
		w->visits = p;
		w->cap = cap;
	}
	w->visits[w->nvisits].rule = rule;
	w->visits[w->nvisits].expires_at = expires_at;
	w->visits[w->nvisits++].count = count;
	return VAERN_OK;
}

static enum vaern_err
plan_emit(struct plan_walk *w, int64_t rule, int64_t expires_at, int64_t facts,
          int64_t visits)
{
	struct vault_plan_row row;
	char label[STORE_LABEL_MAX + 1];
	enum vaern_err err;

	if (rule != w->cached_rule) {
		w->cached_rule = rule;
		w->c = NULL;
		if (rule != 0) {
			err = store_label_text(w->v->store, rule, label,
			                       w->msg);
			if (err != VAERN_OK)
				return err;
			if (vlt_rule_find(w->v, label, &w->c, &w->r) != 0)
				w->c = NULL;
		}
	}
	memset(&row, 0, sizeof(row));
	if (w->c == NULL) {
		if (w->controller != NULL)
			return VAERN_OK;
		row.controller = "(unknown)";
		row.rule = "(none)";
		row.action = visits > 0 ? "delete" : "keep";
	} else {
		const struct policy_retention *pr =
		        &w->c->policy->retention[w->r];

		if (w->controller != NULL &&
		    strcmp(w->controller, w->c->name) != 0)
			return VAERN_OK;
		row.controller = w->c->name;
		row.rule = pr->id;
		/* A visit has no subject: nothing of it survives. */
		row.action = pr->action == RETENTION_ANONYMISE && visits == 0
		                     ? "anonymise"
		                     : "delete";
		row.clause = pr->clause;
		row.legal = pr->legal_obligation != NULL;
	}
	row.due = expires_at == STORE_NO_TIME ? INT64_MIN : expires_at;
	row.restricted = w->restricted;
	row.facts = facts;
	row.visits = visits;
	return w->fn(w->arg, &row);
}

/* Passes on the visit rows due before until (all: INT64_MAX). */
static enum vaern_err
plan_visits_until(struct plan_walk *w, int64_t until)
{
	enum vaern_err err;

	for (; w->next < w->nvisits && w->visits[w->next].expires_at < until;
	     w->next++) {
		const struct visit_row *r = &w->visits[w->next];

		if ((err = plan_emit(w, r->rule, r->expires_at, 0, r->count)) !=
		    VAERN_OK)
			return err;
	}
	return VAERN_OK;
}

/* GDPR-18: a rule's facts held by restriction, a line of their own. */
static enum vaern_err
plan_restricted_row(void *arg, int64_t rule, int64_t count)
{
	struct plan_walk *w = arg;

	w->restricted = 1;
	return plan_emit(w, rule, STORE_NO_TIME, count, 0);
}

/* A fact row of the plan, after the visit rows due before it. */
static enum vaern_err
plan_row(void *arg, int64_t rule, int64_t expires_at, int64_t count)
{
	struct plan_walk *w = arg;
	enum vaern_err err;

	if (expires_at != STORE_NO_TIME &&
	    (err = plan_visits_until(w, expires_at)) != VAERN_OK)
		return err;
	return plan_emit(w, rule, expires_at, count, 0);
}

enum vaern_err
vault_retention_plan(struct vault *v, const char *controller,
                     enum vaern_err (*fn)(void *arg,
                                          const struct vault_plan_row *r),
                     void *arg, struct vaern_msg *msg)
{
	struct plan_walk w = {v,  controller, fn, arg, msg, -1, NULL,
	                      -1, NULL,       0,  0,   0,   0};
	struct controller *c;
	enum vaern_err err;

	if (controller != NULL &&
	    (err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	/* Facts and visits in one due order: the visits' (rule, day)
	 * counts are few (a day per rule), read first and merged in. */
	if ((err = store_visit_plan(v->store, visit_row_add, &w, msg)) ==
	            VAERN_OK &&
	    (err = store_fact_plan(v->store, plan_row, &w, msg)) == VAERN_OK &&
	    (err = plan_visits_until(&w, INT64_MAX)) == VAERN_OK)
		err = store_fact_plan_restricted(v->store, plan_restricted_row,
		                                 &w, msg);
	free(w.visits);
	return err;
}

/* ---- legal holds in the plan (issue 20, point 2) ----------------------- */

struct held_walk {
	struct vault *v;
	struct controller *c;
	enum vaern_err (*fn)(void *arg, const char *rule, int64_t facts);
	void *arg;
	struct vaern_msg *msg;
};

static enum vaern_err
held_row(void *arg, int64_t rule, int64_t facts)
{
	struct held_walk *w = arg;
	char label[STORE_LABEL_MAX + 1];
	struct controller *c = NULL;
	long r = -1;
	enum vaern_err err;

	if (rule == 0)
		return w->fn(w->arg, "(none)", facts);
	if ((err = store_label_text(w->v->store, rule, label, w->msg)) !=
	    VAERN_OK)
		return err;
	if (vlt_rule_find(w->v, label, &c, &r) != 0 || c != w->c)
		return w->fn(w->arg, "(none)", facts);
	return w->fn(w->arg, c->policy->retention[r].id, facts);
}

enum vaern_err
vault_retention_held(struct vault *v, const char *controller,
                     enum vaern_err (*fn)(void *arg, const char *rule,
                                          int64_t facts),
                     void *arg, struct vaern_msg *msg)
{
	struct held_walk w = {v, NULL, fn, arg, msg};
	enum vaern_err err;

	if ((err = vlt_controller(v, controller, &w.c, msg)) != VAERN_OK)
		return err;
	return store_console_held(v->store, w.c->rowid, held_row, &w, msg);
}
