/*
 * policy_retention.c -- the `retention:` section: each rule's anchors,
 * waiting events, period and what is kept, and the check that every
 * category is covered.
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

static const char *const retention_keys[] = {
        "clause", "categories", "consents",         "anchor",    "period",
        "action", "keep",       "legal_obligation", "waits_for", NULL};

/* In the order of enum generalise. */
static const char *const generalise_names[] = {"as_is", "year", "age_band",
                                               "area",  "drop", NULL};

/* In the order of enum retention_action. */
static const char *const action_names[] = {"delete", "anonymise", NULL};

/* Anchors: built-ins or events; the period runs from the latest. */
static void
take_anchors(struct loader *ld, const struct ynode *map, const struct ynode *k,
             const char *ctx, struct policy_retention *r)
{
	const struct ynode *v = policy_map_get(map, "anchor", NULL), *one;
	const struct ynode *const *items;
	size_t n, i, j;

	if (v == NULL || policy_is_null(v)) {
		policy_diag(ld, v != NULL ? v : k, "%s has no anchor", ctx);
		return;
	}
	n = policy_list_items(ld, v, ctx, "anchor", &one, &items);
	if (v->kind == Y_SEQ && n == 0)
		policy_diag(ld, v, "%s has no anchor", ctx);
	if (n == 0)
		return;
	r->anchors = policy_pcalloc(ld, n, sizeof(char *));
	r->anchor_event = policy_pcalloc(ld, n, sizeof(long));
	if (r->anchors == NULL || r->anchor_event == NULL)
		return;
	for (i = 0; i < n; i++) {
		const struct ynode *it = items[i];
		char nb[SHOW_BUF];
		const char *hint;

		if (it->bad)
			continue;
		if (it->kind != Y_SCALAR || policy_is_null(it)) {
			policy_diag(ld, it, "%s: anchor must name events", ctx);
			continue;
		}
		if (strcmp(it->text, ANCHOR_COLLECTED) != 0 &&
		    strcmp(it->text, ANCHOR_FINANCIAL_YEAR_END) != 0 &&
		    policy_index_find(&ld->events, it->text) < 0) {
			static const char *const builtins[] = {
			        ANCHOR_COLLECTED, ANCHOR_FINANCIAL_YEAR_END};

			hint = policy_index_suggest(ld, &ld->events, it->text);
			if (hint == NULL)
				hint = policy_suggest(ld, it->text, builtins,
				                      2);
			if (hint != NULL)
				policy_diag(ld, it,
				            "undefined event '%s' in %s (did "
				            "you mean "
				            "'%s'?)",
				            policy_show(nb, it->text), ctx,
				            hint);
			else
				policy_diag(ld, it,
				            "undefined event '%s' in %s (an "
				            "anchor is "
				            "collected, financial_year_end or "
				            "an id "
				            "of events)",
				            policy_show(nb, it->text), ctx);
			continue;
		}
		for (j = 0; j < r->nanchors; j++)
			if (strcmp(r->anchors[j], it->text) == 0)
				break;
		if (j < r->nanchors) {
			policy_diag(ld, it, "%s: anchor '%s' is listed twice",
			            ctx, policy_show(nb, it->text));
			continue;
		}
		if (strcmp(it->text, ANCHOR_COLLECTED) == 0)
			r->anchor_event[r->nanchors] = ANCHOR_EVENT_COLLECTED;
		else if (strcmp(it->text, ANCHOR_FINANCIAL_YEAR_END) == 0)
			r->anchor_event[r->nanchors] = ANCHOR_EVENT_FY_END;
		else
			r->anchor_event[r->nanchors] =
			        policy_index_find(&ld->events, it->text);
		r->anchors[r->nanchors] =
		        policy_pstrndup(ld, it->text, it->len);
		if (r->anchors[r->nanchors] != NULL)
			r->nanchors++;
	}
}

/*
 * `waits_for: E` (issue 10): the rule says a fact it holds stays undated
 * until E, one of its anchors that ends a running state.
 */
static void
take_waits_for(struct loader *ld, const struct ynode *map,
               const struct ynode *k, const char *ctx,
               struct policy_retention *r)
{
	const struct ynode *sv =
	        policy_get_scalar(ld, map, "waits_for", k, ctx, 0);
	char nb[SHOW_BUF];
	size_t j;

	if (sv == NULL)
		return;
	for (j = 0; j < r->nanchors; j++)
		if (strcmp(r->anchors[j], sv->text) == 0)
			break;
	if (j == r->nanchors || r->anchor_event[j] < 0) {
		policy_diag(ld, sv,
		            "%s: waits_for '%s' is not an event of its anchor",
		            ctx, policy_show(nb, sv->text));
		return;
	}
	if (ld->p->events[r->anchor_event[j]].ends < 0) {
		policy_diag(
		        ld, sv,
		        "%s: waits_for '%s' ends no running state (it needs "
		        "ends: in events)",
		        ctx, policy_show(nb, sv->text));
		return;
	}
	r->waits_for = r->anchor_event[j];
}

/*
 * Why category c cannot survive anonymisation generalised by how, or NULL
 * if it can (TEL-STAT-1; docs/policy.md "retention").
 */
static const char *
keep_misfit(const struct policy_category *c, enum generalise how)
{
	if (how == GENERALISE_DROP)
		return NULL;
	if (c->special)
		return "special (Art. 9) data does not survive anonymisation";
	switch (how) {
	case GENERALISE_AS_IS:
		if (c->format == FORMAT_IDENTIFIER)
			return "an identifier kept as is still identifies";
		if (c->format == FORMAT_DATE)
			return "a date kept as is can single a person out "
			       "(use year or age_band)";
		if (c->format == FORMAT_CARD_LAST4_EXP)
			return "card digits do not survive anonymisation";
		return NULL;
	case GENERALISE_YEAR:
	case GENERALISE_AGE_BAND:
		return c->format == FORMAT_DATE ? NULL
		                                : "it needs a category of "
		                                  "format date";
	case GENERALISE_AREA:
		return c->format == FORMAT_TEXT ? NULL
		                                : "it needs a postcode "
		                                  "category of format text";
	case GENERALISE_DROP: break;
	}
	return NULL;
}

/* One kept category: checks it against the rule, then records it. */
static void
keep_one(struct loader *ld, struct policy_retention *r, const char *ctx,
         size_t cat, enum generalise how, const struct ynode *at,
         const struct ynode *how_at, int listed)
{
	const struct policy_category *c = &ld->p->categories[cat];
	const char *why;
	char nb[SHOW_BUF];
	size_t j;

	for (j = 0; j < r->ncategories; j++)
		if (r->categories[j] == cat)
			break;
	if (j == r->ncategories && r->categories != NULL) {
		policy_diag(ld, at,
		            "%s keeps category '%s', which is not one of its "
		            "categories",
		            ctx, policy_show(nb, c->id));
		return;
	}
	why = keep_misfit(c, how);
	if (why != NULL && listed)
		policy_diag(
		        ld, at,
		        "%s: keep lists category '%s', which would survive as "
		        "is, but %s: name a generalisation that fits it "
		        "(keep: {category: year}) or leave it out (TEL-STAT-1)",
		        ctx, policy_show(nb, c->id), why);
	else if (why != NULL)
		policy_diag(ld, how_at,
		            "%s: category '%s' cannot be kept as %s: %s", ctx,
		            policy_show(nb, c->id), generalise_names[how], why);
	/* Dropped is not kept: keep lists only what survives. */
	if (why != NULL || how == GENERALISE_DROP)
		return;
	r->keep[r->nkeep] = cat;
	r->keep_as[r->nkeep] = how;
	r->nkeep++;
}

/*
 * `keep`: a mapping of category id -> generalisation, or (kept as is) a
 * list of category ids. Duplicate keys are refused while building.
 */
static void
take_keep(struct loader *ld, const struct ynode *v, const char *ctx,
          struct policy_retention *r)
{
	struct ref *refs = NULL;
	size_t n, i;

	if (v->kind == Y_SCALAR && !policy_is_null(v)) {
		policy_diag(
		        ld, v,
		        "%s: keep must be a mapping (category: generalisation) "
		        "or a list",
		        ctx);
		return;
	}
	n = v->kind == Y_MAP ? v->n / 2 : v->n;
	if (n == 0)
		return;
	r->keep = policy_pcalloc(ld, n, sizeof(*r->keep));
	r->keep_as = policy_pcalloc(ld, n, sizeof(*r->keep_as));
	if (r->keep == NULL || r->keep_as == NULL)
		return;
	if (v->kind == Y_SEQ) {
		n = policy_resolve_list(ld, v, "keep", ctx, "category",
		                        &ld->categories, &refs);
		for (i = 0; i < n; i++)
			keep_one(ld, r, ctx, refs[i].idx, GENERALISE_AS_IS,
			         refs[i].at, refs[i].at, 1);
		free(refs);
		return;
	}
	for (i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *key = v->items[i], *how = v->items[i + 1];
		char nb[SHOW_BUF], hb[SHOW_BUF];
		const char *hint;
		long cat;
		int g;

		cat = policy_index_find(&ld->categories, key->text);
		if (cat < 0) {
			hint = policy_index_suggest(ld, &ld->categories,
			                            key->text);
			if (hint != NULL)
				policy_diag(ld, key,
				            "undefined category '%s' in %s "
				            "keep (did "
				            "you mean '%s'?)",
				            policy_show(nb, key->text), ctx,
				            hint);
			else
				policy_diag(
				        ld, key,
				        "undefined category '%s' in %s keep",
				        policy_show(nb, key->text), ctx);
			continue;
		}
		if (how->bad)
			continue;
		g = how->kind == Y_SCALAR
		            ? policy_word_index(generalise_names, how->text)
		            : -1;
		if (g < 0) {
			policy_diag(ld, how,
			            "%s: keep '%s': unknown generalisation "
			            "'%s' (one "
			            "of: as_is, year, age_band, area, drop)",
			            ctx, policy_show(nb, key->text),
			            how->kind == Y_SCALAR
			                    ? policy_show(hb, how->text)
			                    : "...");
			continue;
		}
		keep_one(ld, r, ctx, (size_t)cat, (enum generalise)g, key, how,
		         0);
	}
}

/*
 * `consents`: purposes whose consent records the rule holds (TEL-MKT-2).
 * Only a purpose that records consent has such records.
 */
static void
take_consents(struct loader *ld, const struct ynode *v, const struct ynode *k,
              const char *ctx, struct policy_retention *r)
{
	struct ref *refs;
	size_t n, i;

	refs = policy_take_refs(ld, v, "consents", k, ctx, "purpose",
	                        &ld->purposes, 0, &r->consents, &r->nconsents,
	                        &n);
	for (i = 0; i < n; i++) {
		const struct policy_purpose *pp = &ld->p->purposes[refs[i].idx];
		char nb[SHOW_BUF];

		if (pp->nconsent_sources == 0 && !(pp->basis & BASIS_A) &&
		    pp->art9 != 'a')
			policy_diag(
			        ld, refs[i].at,
			        "%s: purpose '%s' records no consent (basis a, "
			        "art9 a or consent.sources), so it has no "
			        "consent records to keep",
			        ctx, policy_show(nb, pp->id));
	}
	free(refs);
}

static void
compile_rule(struct loader *ld, const struct ynode *k, const struct ynode *v,
             struct policy_retention *r)
{
	const struct ynode *sv, *kv, *cv, *av;
	struct ref *refs;
	struct vaern_msg msg;
	char ctx[CTX_MAX], nb[SHOW_BUF];
	size_t nrefs;
	int a, consents_only;

	snprintf(ctx, sizeof(ctx), "retention rule '%s'",
	         policy_show(nb, k->text));
	if (v->bad)
		return;
	if (v->kind != Y_MAP) {
		policy_diag(ld, v, "%s must be a mapping", ctx);
		return;
	}
	policy_check_keys(ld, v, retention_keys, ctx);
	r->clause = policy_get_text(ld, v, "clause", k, ctx, 0);

	/* A rule holds facts of categories, consent records, or both. */
	cv = policy_map_get(v, "consents", NULL);
	av = policy_map_get(v, "categories", NULL);
	consents_only = cv != NULL && !policy_is_null(cv) &&
	                (av == NULL || policy_is_null(av));
	if (cv != NULL && !policy_is_null(cv))
		take_consents(ld, v, k, ctx, r);
	refs = policy_take_refs(ld, v, "categories", k, ctx, "category",
	                        &ld->categories, !consents_only, &r->categories,
	                        &r->ncategories, &nrefs);
	free(refs);

	/* TEL-MKT-2: a consent record's clock is fixed (the later of the
	 * consent's end and its last use); anchors are for facts. */
	av = policy_map_get(v, "anchor", NULL);
	if (!consents_only)
		take_anchors(ld, v, k, ctx, r);
	else if (av != NULL)
		policy_diag(
		        ld, av,
		        "%s: anchor applies to categories; a consent record is "
		        "kept from the later of the consent's end and its last "
		        "use (TEL-MKT-2)",
		        ctx);

	sv = policy_get_scalar(ld, v, "period", k, ctx, 1);
	if (sv != NULL) {
		memset(&msg, 0, sizeof(msg));
		if (cal_parse_period(sv->text, &r->period, &msg) != VAERN_OK)
			policy_diag(
			        ld, sv, "%s: period: %s", ctx,
			        msg.text[0] != '\0'
			                ? msg.text
			                : "not a period (N days, weeks, months "
			                  "or years)");
	}

	a = policy_get_choice(ld, v, "action", ctx, action_names,
	                      RETENTION_DELETE);
	r->action = a >= 0 ? (enum retention_action)a : RETENTION_DELETE;
	if (consents_only && a == RETENTION_ANONYMISE)
		policy_diag(ld, policy_map_get(v, "action", NULL),
		            "%s: consent records are documentation: they are "
		            "deleted, not anonymised (GDPR-7)",
		            ctx);
	kv = policy_map_get(v, "keep", NULL);
	if (kv != NULL && a != RETENTION_ANONYMISE && a >= 0)
		policy_diag(ld, kv, "%s: keep needs action: anonymise", ctx);
	else if (kv != NULL && !kv->bad && a >= 0)
		take_keep(ld, kv, ctx, r); /* TEL-STAT-1 */
	/* GDPR-17: erasure waits for the law that requires keeping. */
	r->legal_obligation =
	        policy_get_text(ld, v, "legal_obligation", k, ctx, 0);
	take_waits_for(ld, v, k, ctx, r);
}

void
policy_compile_retention(struct loader *ld, const struct ynode *root)
{
	struct policy *p = ld->p;
	const struct ynode *sec = NAME_ENTRIES(
	        ld, root, "retention", 1, "retention rule",
	        struct policy_retention, p->retention, p->nretention);
	size_t i, j, k;
	unsigned char *covered;

	if (sec != NULL && p->retention == NULL)
		return;
	for (i = 0; i < p->nretention; i++)
		p->retention[i].waits_for = -1;
	for (i = 0; sec != NULL && i + 1 < sec->n; i += 2)
		compile_rule(ld, sec->items[i], sec->items[i + 1],
		             &p->retention[i / 2]);

	/* TEL-RET-1: data is kept only as long as needed, so every category
	 * has a rule that ends it. */
	if (sec == NULL || p->ncategories == 0)
		return;
	covered = policy_pcalloc(ld, p->ncategories, 1);
	if (covered == NULL)
		return;
	for (j = 0; j < p->nretention; j++)
		for (k = 0; k < p->retention[j].ncategories; k++)
			covered[p->retention[j].categories[k]] = 1;
	for (i = 0; i < p->ncategories; i++) {
		char nb[SHOW_BUF];

		if (!covered[i])
			policy_diag_at(
			        ld, p->categories[i].line,
			        p->categories[i].column,
			        "category '%s' has no retention rule: it would "
			        "be kept for ever (TEL-RET-1)",
			        policy_show(nb, p->categories[i].id));
	}
	free(covered);
}
