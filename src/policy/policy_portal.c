/*
 * policy_portal.c -- `portal:`, the self-service portal (issue 16):
 *
 *   portal:
 *     purpose: self_service          the self-service purpose (basis b)
 *     login:                         identifier sets (AURA-LOGIN-1)
 *       - [username]
 *       - [installation_number, contract_number]
 *     proofs: [code, password]       how the person proves it is them
 *     changes: [product_change]      what the person may record anew
 *     source: portal                 where such a record comes from
 *
 * Every set is a list of identifier categories, each of them used by
 * some purpose; a code needs an e-mail or phone category to go to.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "policy_internal.h"

static const char *const portal_keys[] = {"purpose", "login",  "proofs",
                                          "changes", "source", NULL};

static const char *const proof_names[] = {"code", "password", NULL};

static long
category_named(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->ncategories; i++)
		if (p->categories[i].id != NULL &&
		    strcmp(p->categories[i].id, name) == 0)
			return (long)i;
	return -1;
}

/* One login set: [cat, ...] of identifier categories. */
static void
compile_login(struct loader *ld, const struct ynode *v,
              struct policy_portal_login *set)
{
	const struct ynode *one = NULL;
	const struct ynode *const *items;
	char nb[SHOW_BUF];
	size_t n;

	n = policy_list_items(ld, v, "portal", "login", &one, &items);
	if (v->kind == Y_SEQ && n == 0)
		policy_diag(ld, v,
		            "portal: login: a set names at least one "
		            "identifier category");
	if (n > POLICY_PORTAL_SET_MAX) {
		policy_diag(ld, v,
		            "portal: login: at most %d categories in one set",
		            POLICY_PORTAL_SET_MAX);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = items[i];
		long ci;

		if (it->bad)
			continue;
		if (it->kind != Y_SCALAR) {
			policy_diag(ld, it,
			            "portal: login: each entry is a category");
			continue;
		}
		ci = category_named(ld->p, it->text);
		if (ci < 0) {
			policy_diag(ld, it,
			            "portal: login: unknown category '%s'",
			            policy_show(nb, it->text));
			continue;
		}
		if (ld->p->categories[ci].identifier == ID_NONE) {
			policy_diag(ld, it,
			            "portal: login: category '%s' is not an "
			            "identifier (AURA-LOGIN-1)",
			            policy_show(nb, it->text));
			continue;
		}
		for (size_t k = 0; k < set->n; k++)
			if (set->categories[k] == (size_t)ci) {
				policy_diag(ld, it,
				            "portal: login: category '%s' "
				            "twice in one set",
				            policy_show(nb, it->text));
				ci = -1;
				break;
			}
		if (ci >= 0)
			set->categories[set->n++] = (size_t)ci;
	}
}

static void
compile_logins(struct loader *ld, const struct ynode *v, const struct ynode *at,
               struct policy_portal *pt)
{
	if (v == NULL || policy_is_null(v)) {
		policy_diag(ld, v != NULL ? v : at,
		            "portal: login is required (AURA-LOGIN-1)");
		return;
	}
	if (v->bad)
		return;
	if (v->kind != Y_SEQ || v->n == 0) {
		policy_diag(ld, v,
		            "portal: login is a list of identifier sets, as "
		            "[[username], [installation_number, "
		            "contract_number]]");
		return;
	}
	if (v->n > POLICY_PORTAL_LOGINS_MAX) {
		policy_diag(ld, v, "portal: login: at most %d sets",
		            POLICY_PORTAL_LOGINS_MAX);
		return;
	}
	for (size_t i = 0; i < v->n; i++) {
		struct policy_portal_login *set = &pt->logins[pt->nlogins];

		memset(set, 0, sizeof(*set));
		compile_login(ld, v->items[i], set);
		if (set->n > 0)
			pt->nlogins++;
	}
}

static void
compile_proofs(struct loader *ld, const struct ynode *pv,
               struct policy_portal *pt)
{
	const struct ynode *one = NULL;
	const struct ynode *const *items;
	char nb[SHOW_BUF];
	size_t n;

	if (pv == NULL || policy_is_null(pv)) {
		pt->proofs = POLICY_PROOF_CODE;
		return;
	}
	n = policy_list_items(ld, pv, "portal", "proofs", &one, &items);
	if (pv->kind == Y_SEQ && n == 0)
		policy_diag(ld, pv, "portal: proofs must not be empty");
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = items[i];
		int k = it->kind == Y_SCALAR && !it->bad
		                ? policy_word_index(proof_names, it->text)
		                : -1;

		if (it->bad)
			continue;
		if (k < 0)
			policy_diag(ld, it,
			            "portal: unknown proof '%s' (one of: code, "
			            "password)",
			            it->kind == Y_SCALAR
			                    ? policy_show(nb, it->text)
			                    : "...");
		else
			pt->proofs |= 1u << k;
	}
	if (pt->proofs == POLICY_PROOF_PASSWORD)
		/* A forgotten password is recovered by a code. */
		policy_diag(ld, pv,
		            "portal: proofs: password needs code beside it "
		            "(a forgotten password)");
}

static void
compile_changes(struct loader *ld, const struct ynode *cv,
                struct policy_portal *pt)
{
	const struct ynode *one = NULL;
	const struct ynode *const *items;
	char nb[SHOW_BUF];
	size_t n;

	if (cv == NULL || policy_is_null(cv))
		return;
	n = policy_list_items(ld, cv, "portal", "changes", &one, &items);
	if (n > POLICY_PORTAL_CHANGES) {
		policy_diag(ld, cv, "portal: changes: at most %d categories",
		            POLICY_PORTAL_CHANGES);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = items[i];
		long ci;

		if (it->bad)
			continue;
		ci = it->kind == Y_SCALAR ? category_named(ld->p, it->text)
		                          : -1;
		if (ci < 0) {
			policy_diag(ld, it,
			            "portal: changes: unknown category '%s'",
			            it->kind == Y_SCALAR
			                    ? policy_show(nb, it->text)
			                    : "...");
			continue;
		}
		if (!policy_purpose_uses(ld->p, pt->purpose, (size_t)ci)) {
			policy_diag(ld, it,
			            "portal: changes: category '%s' is not "
			            "used by the portal's purpose '%s' "
			            "(AURA-PORTAL-2)",
			            policy_show(nb, it->text),
			            ld->p->purposes[pt->purpose].id);
			continue;
		}
		if (ld->p->categories[ci].identifier != ID_NONE ||
		    ld->p->categories[ci].special) {
			policy_diag(ld, it,
			            "portal: changes: category '%s' is an "
			            "identifier or special: not changed on "
			            "the portal",
			            policy_show(nb, it->text));
			continue;
		}
		pt->changes[pt->nchanges++] = (size_t)ci;
	}
}

void
policy_compile_portal(struct loader *ld, const struct ynode *root)
{
	const struct ynode *v = policy_map_get(root, "portal", NULL), *pv, *sv;
	struct policy_portal *pt = &ld->p->portal;
	struct policy *p = ld->p;
	char nb[SHOW_BUF];
	int contact = 0;

	memset(pt, 0, sizeof(*pt));
	pt->source = -1;
	if (v == NULL || policy_is_null(v) || v->bad)
		return;
	if (v->kind != Y_MAP) {
		policy_diag(ld, v,
		            "portal must be a mapping (purpose, login, proofs, "
		            "changes, source)");
		return;
	}
	pt->line = v->line;
	pt->column = v->column;
	policy_check_keys(ld, v, portal_keys, "portal");
	pv = policy_get_scalar(ld, v, "purpose", v, "portal", 1);
	if (pv == NULL)
		return;
	{
		long pi = -1;

		for (size_t i = 0; i < p->npurposes; i++)
			if (p->purposes[i].id != NULL &&
			    strcmp(p->purposes[i].id, pv->text) == 0)
				pi = (long)i;
		if (pi < 0) {
			policy_diag(ld, pv, "portal: unknown purpose '%s'",
			            policy_show(nb, pv->text));
			return;
		}
		/* AURA-PORTAL-2: the self-service is the contract's. */
		if (!(p->purposes[pi].basis & BASIS_B)) {
			policy_diag(ld, pv,
			            "portal: purpose '%s' must rest on basis "
			            "(b), the contract (AURA-PORTAL-2)",
			            policy_show(nb, pv->text));
			return;
		}
		if (p->purposes[pi].requires_clearance) {
			policy_diag(ld, pv,
			            "portal: purpose '%s' requires clearance "
			            "(TEL-LOG-2): not shown to the person",
			            policy_show(nb, pv->text));
			return;
		}
		pt->purpose = (size_t)pi;
	}
	compile_logins(ld, policy_map_get(v, "login", NULL), v, pt);
	compile_proofs(ld, policy_map_get(v, "proofs", NULL), pt);
	compile_changes(ld, policy_map_get(v, "changes", NULL), pt);
	sv = policy_get_scalar(ld, v, "source", NULL, "portal", 0);
	if (sv != NULL) {
		for (size_t i = 0; i < p->nsources; i++)
			if (p->sources[i].id != NULL &&
			    strcmp(p->sources[i].id, sv->text) == 0)
				pt->source = (long)i;
		if (pt->source < 0)
			policy_diag(ld, sv, "portal: unknown source '%s'",
			            policy_show(nb, sv->text));
		else if (p->sources[pt->source].kind != SOURCE_SUBJECT)
			policy_diag(ld, sv,
			            "portal: source '%s' must be of kind "
			            "subject: the person gives it",
			            policy_show(nb, sv->text));
	}
	for (size_t i = 0; i < p->ncategories; i++)
		if (p->categories[i].identifier == ID_EMAIL ||
		    p->categories[i].identifier == ID_PHONE)
			contact = 1;
	if ((pt->proofs & POLICY_PROOF_CODE) && !contact)
		policy_diag(ld, v,
		            "portal: a code goes to an e-mail or phone on "
		            "record, and the policy has no such category");
	pt->declared = 1;
}
