/*
 * policy_recipients.c -- where data goes: the country codes, `transfers:`
 * and `recipients:` (their categories, conditions and transfer checks).
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

static const char *const recipient_keys[] = {
        "name",    "type",      "agreement", "needs",      "demand",
        "country", "safeguard", "purposes",  "categories", NULL};

static const char *const transfer_keys[] = {"country", "safeguard", NULL};

/* In the order of enum recipient_type. */
static const char *const recipient_types[] = {"processor", "third_party",
                                              "authority", NULL};

/* In the order of enum recipient_condition, the processor's left out. */
static const char *const needs_names[] = {"",
                                          "consent",
                                          "prior_agreement",
                                          "consent_or_prior_agreement",
                                          "legal_demand",
                                          NULL};

/* ---------------------------------------------------------------------
 * Countries (ISO 3166-1 alpha-2, all 249 assigned codes).
 */

static const char iso_countries[] =
        "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
        "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
        "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
        "DE DJ DK DM DO DZ "
        "EC EE EG EH ER ES ET "
        "FI FJ FK FM FO FR "
        "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
        "HK HM HN HR HT HU "
        "ID IE IL IM IN IO IQ IR IS IT "
        "JE JM JO JP "
        "KE KG KH KI KM KN KP KR KW KY KZ "
        "LA LB LC LI LK LR LS LT LU LV LY "
        "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY "
        "MZ "
        "NA NC NE NF NG NI NL NO NP NR NU NZ "
        "OM "
        "PA PE PF PG PH PK PL PM PN PR PS PT PW PY "
        "QA "
        "RE RO RS RU RW "
        "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
        "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ "
        "UA UG UM US UY UZ "
        "VA VC VE VG VI VN VU "
        "WF WS "
        "YE YT "
        "ZA ZM ZW ";

/* The 27 EU member states and the EEA's Iceland, Liechtenstein, Norway. */
#define EU_COUNTRIES                                                           \
	"AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL "   \
	"PT RO SE SI SK "
static const char eu_countries[] = EU_COUNTRIES;
static const char eea_countries[] = EU_COUNTRIES "IS LI NO ";

/* Returns 1 if code is two uppercase letters listed in list. */
static int
country_listed(const char *list, const char *code)
{
	const char *p;

	if (code == NULL || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' ||
	    code[1] > 'Z' || code[2] != '\0')
		return 0;
	for (p = list; p[0] != '\0'; p += 3)
		if (p[0] == code[0] && p[1] == code[1])
			return 1;
	return 0;
}

int
policy_country_in_eea(const char *country)
{
	return country_listed(eea_countries, country);
}

int
policy_country_in_eu(const char *country)
{
	return country_listed(eu_countries, country);
}

/*
 * Reads a country code into out (3 bytes). Returns 1 if valid; reports
 * and returns 0 otherwise.
 */
int
policy_take_country(struct loader *ld, const struct ynode *v, const char *ctx,
                    const char *key, char out[3])
{
	char nb[SHOW_BUF];

	out[0] = '\0';
	if (country_listed(iso_countries, v->text)) {
		memcpy(out, v->text, 3);
		return 1;
	}
	/* The two codes people write that ISO 3166 does not have. */
	if (strcmp(v->text, "UK") == 0)
		policy_diag(ld, v,
		            "%s: %s 'UK' is not an ISO 3166 code: use GB", ctx,
		            key);
	else if (strcmp(v->text, "EL") == 0)
		policy_diag(ld, v,
		            "%s: %s 'EL' is not an ISO 3166 code: use GR", ctx,
		            key);
	else
		policy_diag(
		        ld, v,
		        "%s: %s '%s' is not an ISO 3166 alpha-2 country code "
		        "(two capital letters, e.g. DK)",
		        ctx, key, policy_show(nb, v->text));
	return 0;
}

void
policy_compile_transfers(struct loader *ld, const struct ynode *root)
{
	const struct ynode *at, *v = policy_map_get(root, "transfers", &at);
	struct policy *p = ld->p;
	size_t i;

	if (v == NULL || policy_is_null(v)) {
		policy_diag(ld, v != NULL ? v : root,
		            "the policy has no transfers (none, or a list of "
		            "{country, safeguard})");
		return;
	}
	if (v->bad)
		return;
	if (v->kind == Y_SCALAR && v->plain &&
	    (strcmp(v->text, "none") == 0 ||
	     strcmp(v->text, "eea_only") == 0)) {
		/* No transfer outside the EU/EEA at all. */
		p->transfers_none = 1;
		return;
	}
	if (v->kind == Y_SCALAR && v->plain &&
	    strcmp(v->text, "eu_only") == 0) {
		/* CEK-XFER-1: "never outside the EU": Norway, Iceland and
		 * Liechtenstein are outside too. */
		p->transfers_none = 1;
		p->transfers_eu_only = 1;
		return;
	}
	if (v->kind != Y_SEQ) {
		policy_diag(
		        ld, v,
		        "transfers must be eu_only, eea_only (or none), or a "
		        "list of {country, safeguard}");
		return;
	}
	p->transfers = policy_pcalloc(ld, v->n, sizeof(*p->transfers));
	if (p->transfers == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		const struct ynode *it = v->items[i], *cv;
		struct policy_transfer *t = &p->transfers[p->ntransfers];

		if (it->bad)
			continue;
		if (it->kind != Y_MAP) {
			policy_diag(
			        ld, it,
			        "transfers: each entry is a mapping {country, "
			        "safeguard}");
			continue;
		}
		p->ntransfers++;
		t->line = it->line;
		t->column = it->column;
		policy_check_keys(ld, it, transfer_keys, "transfers");
		cv = policy_get_scalar(ld, it, "country", it, "transfer", 1);
		if (cv != NULL)
			policy_take_country(ld, cv, "transfers", "country",
			                    t->country);
		/* AURA-XFER-1: a transfer has a recorded safeguard. */
		t->safeguard =
		        policy_get_text(ld, it, "safeguard", it, "transfer", 1);
	}
}

/* The default of recipient.categories: those of its purposes. */
static void
recipient_default_categories(struct loader *ld, struct policy_recipient *r)
{
	struct policy *p = ld->p;
	unsigned char *use;
	size_t i, j, n = 0;

	if (p->ncategories == 0)
		return;
	use = policy_pcalloc(ld, p->ncategories, 1);
	if (use == NULL)
		return;
	for (i = 0; i < r->npurposes; i++) {
		const struct policy_purpose *pp = &p->purposes[r->purposes[i]];

		for (j = 0; j < pp->ncategories; j++)
			use[pp->categories[j]] = 1;
	}
	for (i = 0; i < p->ncategories; i++)
		n += use[i];
	r->categories = policy_pcalloc(ld, n, sizeof(size_t));
	if (r->categories != NULL)
		for (i = 0; i < p->ncategories; i++)
			if (use[i])
				r->categories[r->ncategories++] = i;
	free(use);
}

/* AURA-XFER-1, CEK-XFER-1: transfers outside the EU/EEA. */
static void
check_recipient_transfer(struct loader *ld, const struct ynode *map,
                         const struct ynode *k, const char *ctx,
                         struct policy_recipient *r)
{
	const struct ynode *cv = policy_map_get(map, "country", NULL);
	const struct ynode *at = cv != NULL ? cv : k;
	struct policy *p = ld->p;
	size_t i;
	int country_seen = 0;

	if (p->transfers_none) {
		policy_diag(
		        ld, at,
		        "transfers: %s, but %s is in %s (outside the EU/EEA) "
		        "(CEK-XFER-1)",
		        p->transfers_eu_only ? "eu_only" : "none", ctx,
		        r->country);
		return;
	}
	if (r->safeguard == NULL) {
		policy_diag(ld, at, "%s in %s has no safeguard (AURA-XFER-1)",
		            ctx, r->country);
		return;
	}
	for (i = 0; i < p->ntransfers; i++) {
		const struct policy_transfer *t = &p->transfers[i];

		if (strcmp(t->country, r->country) != 0)
			continue;
		country_seen = 1;
		if (t->safeguard != NULL &&
		    strcmp(t->safeguard, r->safeguard) == 0)
			return;
	}
	policy_diag(
	        ld, policy_map_get(map, "safeguard", NULL),
	        country_seen
	                ? "%s in %s: its safeguard matches no transfers entry "
	                  "for %s (AURA-XFER-1)"
	                : "%s in %s: transfers has no entry for %s "
	                  "(AURA-XFER-1)",
	        ctx, r->country, r->country);
}

static void
compile_recipient(struct loader *ld, const struct ynode *k,
                  const struct ynode *v, struct policy_recipient *r)
{
	const struct policy *p = ld->p;
	const struct ynode *type_node, *needs_node, *sv;
	struct ref *refs, *crefs;
	char ctx[CTX_MAX], nb[SHOW_BUF];
	size_t nrefs, ncrefs, i, j, m;
	int t, needs;

	snprintf(ctx, sizeof(ctx), "recipient '%s'", policy_show(nb, k->text));
	if (v->bad)
		return;
	if (v->kind != Y_MAP) {
		policy_diag(ld, v, "%s must be a mapping", ctx);
		return;
	}
	policy_check_keys(ld, v, recipient_keys, ctx);
	r->name = policy_get_text(ld, v, "name", k, ctx, 1);

	type_node = policy_get_scalar(ld, v, "type", k, ctx, 1);
	t = type_node != NULL
	            ? policy_get_choice(ld, v, "type", ctx, recipient_types, -1)
	            : -1;
	if (t >= 0)
		r->type = (enum recipient_type)t;
	r->agreement = policy_get_text(ld, v, "agreement", k, ctx, 0);
	r->demand = policy_get_text(ld, v, "demand", k, ctx, 0);
	needs_node = policy_get_scalar(ld, v, "needs", k, ctx, 0);
	needs = needs_node != NULL && needs_node->len > 0
	                ? policy_word_index(needs_names, needs_node->text)
	                : -1;
	if (needs_node != NULL && needs < 0)
		policy_diag(ld, needs_node,
		            "%s: unknown needs '%s' (one of: consent, "
		            "prior_agreement, consent_or_prior_agreement, "
		            "legal_demand)",
		            ctx, policy_show(nb, needs_node->text));

	switch (t) {
	case RECIPIENT_PROCESSOR:
		/* AURA-SHARE-1, AOPT-SHARE-1: processors act under a data
		 * processing agreement; that agreement is the condition. */
		r->needs = NEEDS_AGREEMENT_ON_RECORD;
		if (r->agreement == NULL && !ld->nomem)
			policy_diag(ld, type_node,
			            "%s is a processor but has no agreement "
			            "(AURA-SHARE-1)",
			            ctx);
		if (needs_node != NULL)
			policy_diag(ld, needs_node,
			            "%s is a processor: its agreement is its "
			            "condition, remove needs",
			            ctx);
		break;
	case RECIPIENT_THIRD_PARTY:
		/* AURA-SHARE-1, CEK-SHARE-1: consent or prior agreement. */
		if (needs_node == NULL)
			policy_diag(ld, type_node,
			            "%s is a third party but has no needs "
			            "(consent, "
			            "prior_agreement or "
			            "consent_or_prior_agreement)",
			            ctx);
		else if (needs == NEEDS_LEGAL_DEMAND)
			policy_diag(
			        ld, needs_node,
			        "%s: needs legal_demand is for an authority",
			        ctx);
		else if (needs > 0)
			r->needs = (enum recipient_condition)needs;
		break;
	case RECIPIENT_AUTHORITY:
		/* TEL-LOG-3: an authority gets data on a legal demand. */
		if (needs != NEEDS_LEGAL_DEMAND &&
		    (needs_node == NULL || needs > 0))
			policy_diag(
			        ld, needs_node != NULL ? needs_node : type_node,
			        "%s is an authority but needs no legal_demand "
			        "(TEL-LOG-3)",
			        ctx);
		r->needs = NEEDS_LEGAL_DEMAND;
		break;
	default: break;
	}
	if (needs == NEEDS_LEGAL_DEMAND && t == RECIPIENT_AUTHORITY &&
	    r->demand == NULL && !ld->nomem)
		policy_diag(ld, needs_node,
		            "%s needs legal_demand but names no demand (e.g. "
		            "court_order) (TEL-LOG-3)",
		            ctx);

	sv = policy_get_scalar(ld, v, "country", k, ctx, 0);
	if (sv != NULL)
		policy_take_country(ld, sv, ctx, "country", r->country);
	else if (policy_map_get(v, "country", NULL) == NULL ||
	         policy_is_null(policy_map_get(v, "country", NULL)))
		memcpy(r->country, p->controller.country, 3);
	r->safeguard = policy_get_text(ld, v, "safeguard", k, ctx, 0);
	if (r->country[0] != '\0' && !policy_country_in_eu(r->country))
		r->outside_eu = 1;
	if (r->country[0] != '\0' && !policy_country_in_eea(r->country)) {
		r->outside_eea = 1;
		check_recipient_transfer(ld, v, k, ctx, r);
	} else if (r->outside_eu && p->transfers_eu_only) {
		const struct ynode *cv = policy_map_get(v, "country", NULL);

		policy_diag(
		        ld, cv != NULL ? cv : k,
		        "transfers: eu_only, but %s is in %s (outside the EU) "
		        "(CEK-XFER-1)",
		        ctx, r->country);
	}

	refs = policy_take_refs(ld, v, "purposes", k, ctx, "purpose",
	                        &ld->purposes, 1, &r->purposes, &r->npurposes,
	                        &nrefs);
	free(refs);
	crefs = policy_take_refs(ld, v, "categories", k, ctx, "category",
	                         &ld->categories, 0, &r->categories,
	                         &r->ncategories, &ncrefs);
	if (policy_map_get(v, "categories", NULL) == NULL) {
		recipient_default_categories(ld, r);
	} else {
		/* A recipient gets no category none of its purposes uses. */
		for (i = 0; i < ncrefs; i++) {
			for (j = 0; j < r->npurposes; j++) {
				const struct policy_purpose *pp =
				        &p->purposes[r->purposes[j]];

				for (m = 0; m < pp->ncategories; m++)
					if (pp->categories[m] == crefs[i].idx)
						break;
				if (m < pp->ncategories)
					break;
			}
			if (j == r->npurposes && r->npurposes > 0)
				policy_diag(
				        ld, crefs[i].at,
				        "%s receives category '%s', which none "
				        "of "
				        "its purposes uses",
				        ctx,
				        policy_show(nb,
				                    p->categories[crefs[i].idx]
				                            .id));
		}
	}
	free(crefs);
}

void
policy_compile_recipients(struct loader *ld, const struct ynode *root)
{
	struct policy *p = ld->p;
	const struct ynode *sec = NAME_ENTRIES(
	        ld, root, "recipients", 0, "recipient", struct policy_recipient,
	        p->recipients, p->nrecipients);

	if (sec == NULL)
		return;
	for (size_t i = 0; i + 1 < sec->n; i += 2)
		compile_recipient(ld, sec->items[i], sec->items[i + 1],
		                  &p->recipients[i / 2]);
}
