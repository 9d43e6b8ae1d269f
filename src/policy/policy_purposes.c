/*
 * policy_purposes.c -- the sections that say what is kept and why: data
 * sources, events, categories and purposes (their legal basis, consent,
 * cookies and card warnings).
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

static const char *const category_keys[] = {
        "description", "special",      "identifier", "format", "source",
        "from",        "about_others", "store",      NULL};

static const char *const purpose_keys[] = {"description",
                                           "basis",
                                           "legitimate_interests",
                                           "art9",
                                           "categories",
                                           "mandatory",
                                           "consent",
                                           "direct_marketing",
                                           "service_message",
                                           "requires_clearance",
                                           "while_restricted",
                                           "cookie",
                                           "card_expiry_warning",
                                           "subjects",
                                           NULL};

static const char *const consent_keys[] = {"sources", "text", NULL};

static const char *const event_keys[] = {"description",      "ends",
                                         "known_in_advance", "on_consent",
                                         "on_withdrawal",    NULL};

/* Art. 9 kinds; the last two are Danish-law sensitive data. */
static const char *const special_kinds[] = {"health",
                                            "genetic",
                                            "biometric",
                                            "racial_or_ethnic_origin",
                                            "political_opinions",
                                            "religious_beliefs",
                                            "trade_union",
                                            "sex_life",
                                            "family_relations",
                                            "social_problems",
                                            NULL};

/* In the order of enum value_format, identifier left out: it is implied
 * by `identifier`. */
static const char *const format_names[] = {"text", "date", "",
                                           "card_last4_expiry", NULL};

/* In the order of enum data_source. */
static const char *const source_names[] = {"subject", "automatic",
                                           "third_party", "controller", NULL};

/*
 * `ends: S` of event k (value v): S is the event that starts the state k
 * ends. Resolved once every event is named, so S may come later in the
 * file. A start is not itself an end, so states do not chain.
 */
static void
resolve_ends(struct loader *ld, const struct ynode *k, const struct ynode *v,
             struct policy_event *e)
{
	const struct ynode *sv;
	char ctx[CTX_MAX], nb[SHOW_BUF];
	const char *hint;
	long s;

	snprintf(ctx, sizeof(ctx), "event '%s'", policy_show(nb, k->text));
	sv = policy_get_scalar(ld, v, "ends", k, ctx, 0);
	if (sv == NULL)
		return;
	s = policy_index_find(&ld->events, sv->text);
	if (s < 0) {
		hint = policy_index_suggest(ld, &ld->events, sv->text);
		if (hint != NULL)
			policy_diag(
			        ld, sv,
			        "%s: ends undefined event '%s' (did you mean "
			        "'%s'?)",
			        ctx, policy_show(nb, sv->text), hint);
		else
			policy_diag(
			        ld, sv,
			        "%s: ends undefined event '%s' (ends names the "
			        "event that starts the state, e.g. "
			        "relationship_start)",
			        ctx, policy_show(nb, sv->text));
		return;
	}
	if (&ld->p->events[s] == e) {
		policy_diag(ld, sv, "%s cannot end itself", ctx);
		return;
	}
	e->ends = s;
}

static const char *const source_keys[] = {"name", "kind", NULL};

/*
 * `sources:` (TEL-CAT-3, GDPR-20): the named places facts come from, each
 * {name, kind}; a fact's source is one of them (or its category's kind),
 * so no caller's free text is stored as a source.
 */
void
policy_compile_sources(struct loader *ld, const struct ynode *root)
{
	struct policy *p = ld->p;
	const struct ynode *sec =
	        NAME_ENTRIES(ld, root, "sources", 0, "source",
	                     struct policy_source, p->sources, p->nsources);

	if (sec == NULL)
		return;
	for (size_t i = 0; i + 1 < sec->n; i += 2) {
		const struct ynode *k = sec->items[i], *v = sec->items[i + 1];
		struct policy_source *s = &p->sources[i / 2];
		char ctx[CTX_MAX], nb[SHOW_BUF];
		int kind;

		snprintf(ctx, sizeof(ctx), "source '%s'",
		         policy_show(nb, k->text));
		if (v->bad || v->kind != Y_MAP) {
			if (!v->bad)
				policy_diag(ld, v,
				            "%s is a mapping {name, kind}",
				            ctx);
			continue;
		}
		policy_check_keys(ld, v, source_keys, ctx);
		s->name = policy_get_text(ld, v, "name", k, ctx, 1);
		kind = policy_get_choice(ld, v, "kind", ctx, source_names, -1);
		if (kind < 0 && policy_map_get(v, "kind", NULL) == NULL)
			policy_diag(ld, k,
			            "%s has no kind (subject, automatic, "
			            "third_party or controller)",
			            ctx);
		s->kind = kind >= 0 ? (enum data_source)kind : SOURCE_SUBJECT;
	}
}

const struct policy_source *
policy_source_find(const struct policy *p, const char *id)
{
	for (size_t i = 0; i < p->nsources; i++)
		if (strcmp(p->sources[i].id, id) == 0)
			return &p->sources[i];
	/* By its name too ("Krak (118.dk)"), as the policy spells it. */
	for (size_t i = 0; i < p->nsources; i++)
		if (p->sources[i].name != NULL &&
		    strcmp(p->sources[i].name, id) == 0)
			return &p->sources[i];
	return NULL;
}

const char *
policy_source_kind_name(enum data_source kind)
{
	if ((unsigned)kind < sizeof(source_names) / sizeof(source_names[0]) - 1)
		return source_names[kind];
	return "subject";
}

int
policy_source_kind(const struct policy *p, const struct policy_category *c,
                   const char *source, const struct policy_source **out)
{
	const struct policy_source *s = policy_source_find(p, source);
	int k;

	*out = s;
	if (s != NULL)
		return (int)s->kind;
	if ((k = policy_word_index(source_names, source)) >= 0)
		return k;
	if (c->source_party != NULL && strcmp(source, c->source_party) == 0)
		return SOURCE_THIRD_PARTY;
	return -1;
}

void
policy_compile_events(struct loader *ld, const struct ynode *root)
{
	struct policy *p = ld->p;
	const struct ynode *sec =
	        NAME_ENTRIES(ld, root, "events", 0, "event",
	                     struct policy_event, p->events, p->nevents);
	size_t i;

	if (sec == NULL)
		return;
	for (i = 0; i < p->nevents; i++) {
		p->events[i].ends = -1;
		p->events[i].on_consent = -1;
		p->events[i].on_withdrawal = -1;
	}
	for (i = 0; i + 1 < sec->n; i += 2) {
		const struct ynode *k = sec->items[i], *v = sec->items[i + 1];
		struct policy_event *e = &p->events[i / 2];
		char ctx[CTX_MAX], nb[SHOW_BUF];

		if (strcmp(k->text, ANCHOR_COLLECTED) == 0 ||
		    strcmp(k->text, ANCHOR_FINANCIAL_YEAR_END) == 0)
			policy_diag(ld, k,
			            "event '%s' is a built-in anchor: choose "
			            "another id",
			            policy_show(nb, k->text));
		if (v->bad || policy_is_null(v))
			continue;
		if (v->kind == Y_SCALAR) {
			e->description = policy_pstrndup(ld, v->text, v->len);
			continue;
		}
		if (v->kind != Y_MAP) {
			policy_diag(ld, v,
			            "event '%s' must have a description (text) "
			            "or be "
			            "a mapping (description, ends)",
			            policy_show(nb, k->text));
			continue;
		}
		snprintf(ctx, sizeof(ctx), "event '%s'",
		         policy_show(nb, k->text));
		policy_check_keys(ld, v, event_keys, ctx);
		e->description =
		        policy_get_text(ld, v, "description", k, ctx, 0);
		/* AOPT-CUST-1, CEK-RET-5: dated ahead only when declared. */
		e->known_in_advance =
		        policy_get_bool(ld, v, "known_in_advance", ctx);
	}
	policy_index_build(ld, &ld->events, p->nevents, policy_event_name);

	/* CEK-RET-1, AOPT-CUST-1: an end event names the start it ends. */
	for (i = 0; i + 1 < sec->n; i += 2)
		if (sec->items[i + 1]->kind == Y_MAP && !sec->items[i + 1]->bad)
			resolve_ends(ld, sec->items[i], sec->items[i + 1],
			             &p->events[i / 2]);
	for (i = 0; i + 1 < sec->n; i += 2) {
		const struct policy_event *e = &p->events[i / 2];
		char nb[SHOW_BUF], sb[SHOW_BUF];

		if (e->ends >= 0 && p->events[e->ends].ends >= 0)
			policy_diag(
			        ld,
			        policy_map_get(sec->items[i + 1], "ends", NULL),
			        "event '%s' ends '%s', which itself ends a "
			        "state: "
			        "ends must name the event that starts one",
			        policy_show(nb, sec->items[i]->text),
			        policy_show(sb, p->events[e->ends].id));
	}
}

/*
 * `on_consent: P` / `on_withdrawal: P` of one event: P is a purpose that
 * records consent. Returns its index, or -1 (absent or reported).
 */
static long
event_purpose(struct loader *ld, const struct ynode *k, const struct ynode *v,
              const char *key)
{
	const struct ynode *sv;
	char ctx[CTX_MAX], nb[SHOW_BUF];
	long pi;

	snprintf(ctx, sizeof(ctx), "event '%s'", policy_show(nb, k->text));
	sv = policy_get_scalar(ld, v, key, k, ctx, 0);
	if (sv == NULL)
		return -1;
	pi = policy_index_find(&ld->purposes, sv->text);
	if (pi < 0) {
		policy_diag(ld, sv, "%s: %s names undefined purpose '%s'", ctx,
		            key, policy_show(nb, sv->text));
		return -1;
	}
	if (ld->p->purposes[pi].consent_sources == NULL) {
		policy_diag(ld, sv,
		            "%s: %s: purpose '%s' records no consent (it needs "
		            "consent.sources)",
		            ctx, key, policy_show(nb, sv->text));
		return -1;
	}
	return pi;
}

/* SHOP-MKT-1: the events a consent or its withdrawal records. */
void
policy_compile_event_links(struct loader *ld, const struct ynode *root)
{
	const struct ynode *sec = policy_map_get(root, "events", NULL);
	struct policy *p = ld->p;
	size_t i;

	if (sec == NULL || sec->kind != Y_MAP || p->events == NULL)
		return;
	for (i = 0; i + 1 < sec->n && i / 2 < p->nevents; i += 2) {
		const struct ynode *k = sec->items[i], *v = sec->items[i + 1];

		if (v->bad || v->kind != Y_MAP)
			continue;
		p->events[i / 2].on_consent =
		        event_purpose(ld, k, v, "on_consent");
		p->events[i / 2].on_withdrawal =
		        event_purpose(ld, k, v, "on_withdrawal");
	}
}

static void
compile_category(struct loader *ld, const struct ynode *k,
                 const struct ynode *v, struct policy_category *c)
{
	const struct ynode *sv;
	char ctx[CTX_MAX], nb[SHOW_BUF];
	int i;

	snprintf(ctx, sizeof(ctx), "category '%s'", policy_show(nb, k->text));
	/* An empty category (`address:`) has no attributes to give. */
	if (v->bad || policy_is_null(v))
		return;
	if (v->kind != Y_MAP) {
		policy_diag(ld, v, "%s must be a mapping ({} for none)", ctx);
		return;
	}
	policy_check_keys(ld, v, category_keys, ctx);
	c->description = policy_get_text(ld, v, "description", k, ctx, 0);

	sv = policy_get_scalar(ld, v, "special", k, ctx, 0);
	if (sv != NULL) {
		i = policy_word_index(special_kinds, sv->text);
		if (i < 0)
			policy_diag(
			        ld, sv,
			        "%s: special '%s' is not an Art. 9 kind "
			        "(health, "
			        "genetic, biometric, racial_or_ethnic_origin, "
			        "political_opinions, religious_beliefs, "
			        "trade_union, sex_life, family_relations, "
			        "social_problems)",
			        ctx, policy_show(nb, sv->text));
		else {
			c->special = 1;
			c->special_kind = policy_pstrdup(ld, special_kinds[i]);
		}
	}

	c->identifier = ID_NONE;
	sv = policy_get_scalar(ld, v, "identifier", k, ctx, 0);
	if (sv != NULL) {
		enum id_type t = id_type_from_name(sv->text);

		if (t == ID_CARD)
			policy_diag(ld, sv,
			            "identifier: card is refused: vaern never "
			            "stores "
			            "a full card number (SHOP-PAY-1)");
		else if (t == ID_NONE)
			policy_diag(ld, sv,
			            "%s: unknown identifier '%s' (one of: cpr, "
			            "personnummer, cvr, orgnr, email, phone, "
			            "username, other)",
			            ctx, policy_show(nb, sv->text));
		else
			c->identifier = t;
	}

	c->format = FORMAT_TEXT;
	sv = policy_get_scalar(ld, v, "format", k, ctx, 0);
	if (sv != NULL) {
		i = sv->len > 0 ? policy_word_index(format_names, sv->text)
		                : -1;
		if (i < 0)
			policy_diag(
			        ld, sv,
			        "%s: unknown format '%s' (one of: text, date, "
			        "card_last4_expiry)",
			        ctx, policy_show(nb, sv->text));
		else if (policy_map_get(v, "identifier", NULL) != NULL)
			policy_diag(
			        ld, sv,
			        "%s has an identifier, which sets its format: "
			        "remove format",
			        ctx);
		else
			c->format = (enum value_format)i;
	}
	if (c->identifier != ID_NONE)
		c->format = FORMAT_IDENTIFIER;

	i = policy_get_choice(ld, v, "source", ctx, source_names,
	                      SOURCE_SUBJECT);
	c->source = i >= 0 ? (enum data_source)i : SOURCE_SUBJECT;
	/* TEL-CAT-3: the third party a category comes from is named. */
	c->source_party = policy_get_text(ld, v, "from", k, ctx,
	                                  c->source == SOURCE_THIRD_PARTY);
	c->about_others = policy_get_bool(ld, v, "about_others", ctx);
	/* Issue 18: records kept in the retained-data store, not as facts. */
	{
		const struct ynode *st =
		        policy_get_scalar(ld, v, "store", k, ctx, 0);

		if (st != NULL && strcmp(st->text, "traffic") == 0)
			c->traffic = 1;
		else if (st != NULL)
			policy_diag(ld, st, "%s: store must be traffic", ctx);
	}
}

void
policy_compile_categories(struct loader *ld, const struct ynode *root)
{
	struct policy *p = ld->p;
	const struct ynode *sec = NAME_ENTRIES(
	        ld, root, "categories", 1, "category", struct policy_category,
	        p->categories, p->ncategories);

	if (sec == NULL)
		return;
	for (size_t i = 0; i + 1 < sec->n; i += 2)
		compile_category(ld, sec->items[i], sec->items[i + 1],
		                 &p->categories[i / 2]);
	policy_index_build(ld, &ld->categories, p->ncategories,
	                   policy_category_name);
}

/* Basis: one letter of Art. 6(1), or a list of them. */
static unsigned
take_basis(struct loader *ld, const struct ynode *map, const struct ynode *k,
           const char *ctx, const struct ynode **basis_node)
{
	const struct ynode *v = policy_map_get(map, "basis", NULL), *one;
	const struct ynode *const *items;
	unsigned basis = 0;
	size_t n, i;

	*basis_node = v;
	if (v == NULL || policy_is_null(v)) {
		policy_diag(ld, v != NULL ? v : k, "%s has no basis", ctx);
		return 0;
	}
	n = policy_list_items(ld, v, ctx, "basis", &one, &items);
	if (v->kind == Y_SEQ && n == 0)
		policy_diag(ld, v, "%s has no basis", ctx);
	for (i = 0; i < n; i++) {
		const struct ynode *it = items[i];
		char nb[SHOW_BUF];

		if (it->bad)
			continue;
		if (it->kind == Y_SCALAR && it->len == 1 &&
		    it->text[0] >= 'a' && it->text[0] <= 'f') {
			basis |= 1u << (it->text[0] - 'a');
			continue;
		}
		policy_diag(
		        ld, it,
		        "%s: basis '%s' is not a letter a-f of GDPR Art. 6(1)",
		        ctx,
		        it->kind == Y_SCALAR ? policy_show(nb, it->text)
		                             : "...");
	}
	return basis;
}

static void
compile_consent(struct loader *ld, const struct ynode *v,
                struct policy_purpose *pp, const char *ctx)
{
	const struct ynode *src;
	const struct ynode *const *items;
	char cctx[CTX_MAX + 10];
	size_t n, i;

	if (v->bad || policy_is_null(v))
		return;
	snprintf(cctx, sizeof(cctx), "%s consent", ctx);
	if (v->kind != Y_MAP) {
		policy_diag(ld, v,
		            "%s: consent must be a mapping (sources, text)",
		            ctx);
		return;
	}
	policy_check_keys(ld, v, consent_keys, cctx);
	pp->consent_text = policy_get_text(ld, v, "text", v, cctx, 0);
	src = policy_map_get(v, "sources", NULL);
	if (src == NULL || policy_is_null(src))
		return; /* reported by the caller if consent is needed */
	n = policy_list_items(ld, src, cctx, "sources", NULL, &items);
	if (n == 0)
		return;
	pp->consent_sources = policy_pcalloc(ld, n, sizeof(char *));
	if (pp->consent_sources == NULL)
		return;
	for (i = 0; i < n; i++) {
		const struct ynode *it = items[i];

		if (it->bad)
			continue;
		if (it->kind != Y_SCALAR || !policy_is_id(it->text, it->len)) {
			policy_diag(ld, it,
			            "%s: a consent source is an id such as "
			            "web_form or cookie_banner",
			            ctx);
			continue;
		}
		pp->consent_sources[pp->nconsent_sources] =
		        policy_pstrndup(ld, it->text, it->len);
		if (pp->consent_sources[pp->nconsent_sources] != NULL)
			pp->nconsent_sources++;
	}
}

/*
 * The purpose's cookie category (AURA-COOKIE-1, AOPT-COOKIE-1, SHOP-MKT-2):
 * one of necessary, statistics, marketing; each named by one purpose at
 * most, so a visit or a pixel has one purpose; a marketing cookie purpose
 * is direct marketing (GDPR-21 and Sec-GPC apply to it).
 */
static void
take_cookie(struct loader *ld, const struct ynode *v, struct policy_purpose *pp,
            const char *ctx)
{
	static const char *const kinds[] = {"necessary", "statistics",
	                                    "marketing", NULL};
	const struct ynode *sv =
	        policy_get_scalar(ld, v, "cookie", NULL, ctx, 0);
	char nb[SHOW_BUF];
	int k;

	pp->cookie = COOKIE_NONE;
	if (sv == NULL)
		return;
	if ((k = policy_word_index(kinds, sv->text)) < 0) {
		policy_diag(
		        ld, sv,
		        "%s: cookie '%s' is not a cookie category (necessary, "
		        "statistics or marketing)",
		        ctx, policy_show(nb, sv->text));
		return;
	}
	for (const struct policy_purpose *o = ld->p->purposes; o < pp; o++) {
		if (o->cookie == (enum policy_cookie)(k + 1)) {
			policy_diag(
			        ld, sv,
			        "%s: cookie category '%s' is already that of "
			        "purpose '%s'",
			        ctx, kinds[k], policy_show(nb, o->id));
			return;
		}
	}
	if (k + 1 == COOKIE_MARKETING && !pp->direct_marketing) {
		policy_diag(
		        ld, sv,
		        "%s: cookie 'marketing' needs direct_marketing: true "
		        "(SHOP-MKT-2)",
		        ctx);
		return;
	}
	pp->cookie = (enum policy_cookie)(k + 1);
}

static const char *const warning_keys[] = {"card", "next_payment", "to", NULL};

/*
 * One category of `card_expiry_warning:` (key), used by the purpose and of
 * the format the warning needs; its index, or -1 (reported).
 */
static long
warning_category(struct loader *ld, const struct ynode *w,
                 const struct policy_purpose *pp, const char *key, int format,
                 enum id_type identifier, const char *want, const char *ctx)
{
	const struct ynode *sv = policy_get_scalar(ld, w, key, NULL, ctx, 1);
	char nb[SHOW_BUF];
	long ci;
	int used = 0;

	if (sv == NULL)
		return -1;
	if ((ci = policy_category_index(ld->p, sv->text)) < 0) {
		policy_diag(ld, sv, "%s: %s is undefined category '%s'", ctx,
		            key, policy_show(nb, sv->text));
		return -1;
	}
	for (size_t i = 0; i < pp->ncategories; i++)
		used |= pp->categories[i] == (size_t)ci;
	if (!used || (int)ld->p->categories[ci].format != format ||
	    (identifier != ID_NONE &&
	     ld->p->categories[ci].identifier != identifier)) {
		policy_diag(ld, sv,
		            "%s: %s must be a category of the purpose with %s "
		            "(SHOP-PAY-1)",
		            ctx, key, want);
		return -1;
	}
	return ci;
}

/*
 * SHOP-PAY-1: `card_expiry_warning: {card, next_payment, to}` on the
 * purpose that warns the customer when the card (last 4 digits and
 * expiry) runs out before the next recurring payment.
 */
static void
take_card_warning(struct loader *ld, const struct ynode *v,
                  struct policy_purpose *pp, const char *ctx)
{
	const struct ynode *w = policy_map_get(v, "card_expiry_warning", NULL);
	char wctx[CTX_MAX + 32];

	pp->warn_card = pp->warn_payment = pp->warn_to = -1;
	if (w == NULL || w->bad)
		return;
	snprintf(wctx, sizeof(wctx), "%s: card_expiry_warning", ctx);
	if (w->kind != Y_MAP) {
		policy_diag(ld, w, "%s is a mapping {card, next_payment, to}",
		            wctx);
		return;
	}
	policy_check_keys(ld, w, warning_keys, wctx);
	pp->warn_card =
	        warning_category(ld, w, pp, "card", FORMAT_CARD_LAST4_EXP,
	                         ID_NONE, "format card_last4_expiry", wctx);
	pp->warn_payment =
	        warning_category(ld, w, pp, "next_payment", FORMAT_DATE,
	                         ID_NONE, "format date", wctx);
	pp->warn_to = warning_category(ld, w, pp, "to", FORMAT_IDENTIFIER,
	                               ID_EMAIL, "identifier email", wctx);
	if (pp->warn_card < 0 || pp->warn_payment < 0 || pp->warn_to < 0)
		pp->warn_card = pp->warn_payment = pp->warn_to = -1;
}

static void
compile_purpose(struct loader *ld, const struct ynode *k, const struct ynode *v,
                struct policy_purpose *pp)
{
	const struct ynode *basis_node, *sv, *consent, *art9_node;
	struct ref *refs = NULL, *mrefs = NULL;
	char ctx[CTX_MAX], nb[SHOW_BUF], cb[SHOW_BUF];
	size_t nrefs = 0, nmrefs = 0, i, j;

	snprintf(ctx, sizeof(ctx), "purpose '%s'", policy_show(nb, k->text));
	if (v->bad)
		return;
	if (v->kind != Y_MAP) {
		policy_diag(ld, v, "%s must be a mapping", ctx);
		return;
	}
	policy_check_keys(ld, v, purpose_keys, ctx);
	pp->description = policy_get_text(ld, v, "description", k, ctx, 0);
	pp->basis = take_basis(ld, v, k, ctx, &basis_node);

	art9_node = policy_map_get(v, "art9", NULL);
	sv = policy_get_scalar(ld, v, "art9", k, ctx, 0);
	if (sv != NULL) {
		if (sv->len == 1 && sv->text[0] >= 'a' && sv->text[0] <= 'j')
			pp->art9 = sv->text[0];
		else
			policy_diag(ld, sv,
			            "%s: art9 '%s' is not a letter a-j of GDPR "
			            "Art. 9(2)",
			            ctx, policy_show(nb, sv->text));
	}

	/* Basis (f) names the interests balanced (Art. 13(1)(d)). */
	pp->legitimate_interests =
	        policy_get_text(ld, v, "legitimate_interests", k, ctx, 0);
	if ((pp->basis & BASIS_F) && pp->legitimate_interests == NULL &&
	    !ld->nomem)
		policy_diag(
		        ld, basis_node,
		        "%s uses basis (f) but states no legitimate_interests",
		        ctx);

	/* GDPR Art. 30(1)(c): whose data the purpose processes. */
	policy_take_texts(ld, policy_map_get(v, "subjects", NULL), ctx,
	                  "subjects", &pp->subjects, &pp->nsubjects);

	/* GDPR-7: consent is recorded, so the purpose says how. */
	consent = policy_map_get(v, "consent", NULL);
	if (consent != NULL)
		compile_consent(ld, consent, pp, ctx);
	if (pp->nconsent_sources == 0 && (consent == NULL || !consent->bad)) {
		if (pp->basis & BASIS_A)
			policy_diag(
			        ld, basis_node,
			        "%s uses basis (a) but has no consent.sources "
			        "(GDPR-7)",
			        ctx);
		else if (pp->art9 == 'a')
			policy_diag(ld, art9_node,
			            "%s uses art9 (a), explicit consent, but "
			            "has no "
			            "consent.sources (GDPR-7)",
			            ctx);
	}

	refs = policy_take_refs(
	        ld, v, "categories", k, ctx, "category", &ld->categories,
	        ld->traffic_purpose == NULL ||
	                strcmp(ld->traffic_purpose, k->text) != 0,
	        &pp->categories, &pp->ncategories, &nrefs);
	/* CEK-SPECIAL-1, SHOP-SPECIAL-1: Art. 9 data needs an Art. 9(2)
	 * condition besides the Art. 6 basis. */
	for (i = 0; i < nrefs && art9_node == NULL; i++) {
		const struct policy_category *c =
		        &ld->p->categories[refs[i].idx];

		if (c->special)
			policy_diag(ld, refs[i].at,
			            "category '%s' is special (Art. 9) but %s "
			            "has no "
			            "art9 condition (CEK-SPECIAL-1)",
			            policy_show(cb, c->id), ctx);
	}

	/* CEK-MAND-1: the mandatory categories are among the purpose's. */
	mrefs = policy_take_refs(ld, v, "mandatory", k, ctx, "category",
	                         &ld->categories, 0, &pp->mandatory,
	                         &pp->nmandatory, &nmrefs);
	for (i = 0; i < nmrefs; i++) {
		for (j = 0; j < pp->ncategories; j++)
			if (pp->categories[j] == mrefs[i].idx)
				break;
		if (j == pp->ncategories && pp->categories != NULL)
			policy_diag(
			        ld, mrefs[i].at,
			        "mandatory category '%s' is not in the "
			        "categories "
			        "of %s (CEK-MAND-1)",
			        policy_show(cb,
			                    ld->p->categories[mrefs[i].idx].id),
			        ctx);
	}

	pp->direct_marketing = policy_get_bool(ld, v, "direct_marketing", ctx);
	pp->service_message = policy_get_bool(ld, v, "service_message", ctx);
	/* TEL-MKT-1: opting out stops marketing, not service messages, so
	 * one purpose cannot be both. */
	if (pp->direct_marketing && pp->service_message)
		policy_diag(ld, policy_map_get(v, "service_message", NULL),
		            "%s cannot be both direct_marketing and "
		            "service_message "
		            "(TEL-MKT-1)",
		            ctx);
	pp->requires_clearance =
	        policy_get_bool(ld, v, "requires_clearance", ctx);
	pp->while_restricted = policy_get_bool(ld, v, "while_restricted", ctx);
	take_cookie(ld, v, pp, ctx);
	take_card_warning(ld, v, pp, ctx);
	free(refs);
	free(mrefs);
}

void
policy_compile_purposes(struct loader *ld, const struct ynode *root)
{
	struct policy *p = ld->p;
	/* Names first: nothing here refers to a purpose, but the index is
	 * complete before any purpose can fail half-way. */
	const struct ynode *sec =
	        NAME_ENTRIES(ld, root, "purposes", 1, "purpose",
	                     struct policy_purpose, p->purposes, p->npurposes);
	size_t i;

	if (sec == NULL)
		return;
	policy_index_build(ld, &ld->purposes, p->npurposes,
	                   policy_purpose_name);
	for (i = 0; i + 1 < sec->n; i += 2)
		compile_purpose(ld, sec->items[i], sec->items[i + 1],
		                &p->purposes[i / 2]);
}
