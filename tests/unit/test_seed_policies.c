/*
 * test_seed_policies.c -- the five seed controllers' policies, compiled.
 *
 * Loads policies/{aura-fiber,aurora-optimal,webshop,cekura,telenor}.yaml and
 * policies/example.yaml with policy_load_file() and checks, one test per
 * clause of CLAUSES.md that is policy rather than behaviour, the compiled
 * facts that express the clause. A few tests also load a copy of a seed
 * policy with one entry added (policy_load_buffer) to show that what the
 * file says is enforced: a transfer without safeguard (AURA-XFER-1), any
 * transfer at all (CEK-XFER-1), an uncleared role on logging data
 * (TEL-LOG-2), a state's end naming no start (AOPT-CUST-1), consent
 * records of a purpose without consent (TEL-MKT-2), a generalisation that
 * does not fit its category (TEL-STAT-1). The due dates the retention
 * clauses promise are computed in test_retention.c.
 *
 * The source root comes from the environment variable VAERN_SOURCE_ROOT
 * (set by meson), else ".".
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#define ALL_RIGHTS                                                             \
	(RIGHT_ACCESS | RIGHT_RECTIFICATION | RIGHT_ERASURE |                  \
	 RIGHT_RESTRICTION | RIGHT_PORTABILITY | RIGHT_OBJECTION)

/* Days since 1970-01-01 (computed independently of the calendar module). */
#define DAYS_2018_05_25 17676L
#define DAYS_2021_03_23 18709L

/* ------------------------------------------------------------------ */
/* Loading                                                            */
/* ------------------------------------------------------------------ */

enum seed { AURA, AOPT, SHOP, CEK, TEL, EXAMPLE, NSEEDS };

static const char *const seed_file[NSEEDS] = {
        "aura-fiber.yaml", "aurora-optimal.yaml", "webshop.yaml",
        "cekura.yaml",     "telenor.yaml",        "example.yaml",
};

static struct policy *loaded[NSEEDS];

static const char *
source_root(void)
{
	const char *root = getenv("VAERN_SOURCE_ROOT");
	return root && *root ? root : ".";
}

static void
seed_path(enum seed s, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s/policies/%s", source_root(),
	                 seed_file[s]);
	assert_true(n > 0 && (size_t)n < outsz);
}

static void
print_diags(const char *what, const struct policy_diags *d)
{
	for (size_t i = 0; i < d->count; i++)
		print_error("%s:%u:%u: %s\n", what, d->items[i].line,
		            d->items[i].column, d->items[i].message);
	if (d->dropped)
		print_error("%s: %zu more problems\n", what, d->dropped);
}

/* The compiled policy of seed s, loaded once; fails the test if refused. */
static const struct policy *
pol(enum seed s)
{
	if (loaded[s])
		return loaded[s];
	char path[4096];
	seed_path(s, path, sizeof path);
	static struct policy_diags diags;
	memset(&diags, 0, sizeof diags);
	struct policy *p = NULL;
	enum vaern_err err = policy_load_file(path, &p, &diags);
	if (err != VAERN_OK) {
		print_diags(path, &diags);
		fail_msg("%s refused: %s", path, vaern_strerror(err));
	}
	assert_non_null(p);
	assert_int_equal(diags.count, 0);
	loaded[s] = p;
	return p;
}

/* The file's text, NUL-terminated (caller frees). */
static char *
seed_text(enum seed s)
{
	char path[4096];
	seed_path(s, path, sizeof path);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	char *buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* text with the one occurrence of needle replaced by repl (caller frees). */
static char *
replace_once(const char *text, const char *needle, const char *repl)
{
	const char *at = strstr(text, needle);
	assert_non_null(at);
	assert_null(strstr(at + 1, needle)); /* exactly one occurrence */
	size_t pre = (size_t)(at - text), nl = strlen(needle);
	size_t rl = strlen(repl), post = strlen(at + nl);
	char *out = malloc(pre + rl + post + 1);
	assert_non_null(out);
	memcpy(out, text, pre);
	memcpy(out + pre, repl, rl);
	memcpy(out + pre + rl, at + nl, post + 1);
	return out;
}

/* Loads text as a policy; returns the result, frees the policy. */
static enum vaern_err
load_text(const char *text, int show_diags)
{
	static struct policy_diags diags;
	memset(&diags, 0, sizeof diags);
	struct policy *p = NULL;
	enum vaern_err err = policy_load_buffer(text, strlen(text), &p, &diags);
	if (err == VAERN_OK)
		assert_non_null(p);
	else
		assert_null(p);
	if (show_diags && err != VAERN_OK)
		print_diags("(modified seed)", &diags);
	policy_free(p);
	return err;
}

/* ------------------------------------------------------------------ */
/* Lookups                                                            */
/* ------------------------------------------------------------------ */

static const struct policy_category *
cat(const struct policy *p, const char *id)
{
	long i = policy_category_index(p, id);
	if (i < 0)
		fail_msg("no category %s", id);
	assert_string_equal(p->categories[i].id, id);
	return &p->categories[i];
}

static const struct policy_purpose *
purp(const struct policy *p, const char *id)
{
	long i = policy_purpose_index(p, id);
	if (i < 0)
		fail_msg("no purpose %s", id);
	assert_string_equal(p->purposes[i].id, id);
	return &p->purposes[i];
}

static const struct policy_recipient *
rcpt(const struct policy *p, const char *id)
{
	long i = policy_recipient_index(p, id);
	if (i < 0)
		fail_msg("no recipient %s", id);
	assert_string_equal(p->recipients[i].id, id);
	return &p->recipients[i];
}

static const struct policy_role *
role(const struct policy *p, const char *id)
{
	long i = policy_role_index(p, id);
	if (i < 0)
		fail_msg("no role %s", id);
	assert_string_equal(p->roles[i].id, id);
	return &p->roles[i];
}

static const struct policy_retention *
rule(const struct policy *p, const char *id)
{
	for (size_t i = 0; i < p->nretention; i++)
		if (strcmp(p->retention[i].id, id) == 0)
			return &p->retention[i];
	fail_msg("no retention rule %s", id);
	return NULL;
}

static int
rule_has_category(const struct policy *p, const struct policy_retention *r,
                  const char *cat_id)
{
	long c = policy_category_index(p, cat_id);
	assert_true(c >= 0);
	for (size_t i = 0; i < r->ncategories; i++)
		if (r->categories[i] == (size_t)c)
			return 1;
	return 0;
}

static int
rule_has_anchor(const struct policy_retention *r, const char *a)
{
	for (size_t i = 0; i < r->nanchors; i++)
		if (strcmp(r->anchors[i], a) == 0)
			return 1;
	return 0;
}

/* Asserts that event end_id ends the state event start_id starts (`ends:`;
 * CEK-RET-1, AOPT-CUST-1): while start is later, end's rules do not run. */
static void
assert_ends(const struct policy *p, const char *end_id, const char *start_id)
{
	long e = policy_event_index(p, end_id);
	long s = policy_event_index(p, start_id);
	if (e < 0 || s < 0)
		fail_msg("no event %s or %s", end_id, start_id);
	if (p->events[e].ends != s)
		fail_msg("event %s does not end %s", end_id, start_id);
	assert_int_equal(p->events[s].ends, -1);
}

/* The retention rules covering category cat_id: count, and the first. */
static size_t
rules_for(const struct policy *p, const char *cat_id,
          const struct policy_retention **first)
{
	size_t n = 0;
	*first = NULL;
	for (size_t i = 0; i < p->nretention; i++)
		if (rule_has_category(p, &p->retention[i], cat_id)) {
			if (!n)
				*first = &p->retention[i];
			n++;
		}
	return n;
}

static int
uses(const struct policy *p, const char *purpose_id, const char *cat_id)
{
	long pu = policy_purpose_index(p, purpose_id);
	long c = policy_category_index(p, cat_id);
	assert_true(pu >= 0);
	assert_true(c >= 0);
	return policy_purpose_uses(p, (size_t)pu, (size_t)c);
}

static int
is_mandatory(const struct policy *p, const struct policy_purpose *pu,
             const char *cat_id)
{
	long c = policy_category_index(p, cat_id);
	assert_true(c >= 0);
	for (size_t i = 0; i < pu->nmandatory; i++)
		if (pu->mandatory[i] == (size_t)c)
			return 1;
	return 0;
}

static int
has_source(const struct policy_purpose *pu, const char *src)
{
	for (size_t i = 0; i < pu->nconsent_sources; i++)
		if (strcmp(pu->consent_sources[i], src) == 0)
			return 1;
	return 0;
}

static int
role_has(const struct policy *p, const struct policy_role *r,
         const char *purpose_id)
{
	long pu = policy_purpose_index(p, purpose_id);
	assert_true(pu >= 0);
	for (size_t i = 0; i < r->npurposes; i++)
		if (r->purposes[i] == (size_t)pu)
			return 1;
	return 0;
}

static int
rcpt_has_purpose(const struct policy *p, const struct policy_recipient *r,
                 const char *purpose_id)
{
	long pu = policy_purpose_index(p, purpose_id);
	assert_true(pu >= 0);
	for (size_t i = 0; i < r->npurposes; i++)
		if (r->purposes[i] == (size_t)pu)
			return 1;
	return 0;
}

static int
rcpt_has_category(const struct policy *p, const struct policy_recipient *r,
                  const char *cat_id)
{
	long c = policy_category_index(p, cat_id);
	assert_true(c >= 0);
	for (size_t i = 0; i < r->ncategories; i++)
		if (r->categories[i] == (size_t)c)
			return 1;
	return 0;
}

static void
assert_period(const struct policy_retention *r, int count,
              enum period_unit unit)
{
	assert_int_equal(r->period.count, count);
	assert_int_equal(r->period.unit, unit);
}

static void
assert_contains(const char *haystack, const char *needle)
{
	assert_non_null(haystack);
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static void
assert_dk_authority(const struct policy *p)
{
	assert_string_equal(p->controller.authority_name, "Datatilsynet");
	assert_contains(p->controller.authority_url, "datatilsynet.dk");
}

/* ------------------------------------------------------------------ */
/* Every seed loads, with its controller's identity                   */
/* ------------------------------------------------------------------ */

static void
test_example_loads(void **state)
{
	(void)state;
	const struct policy *p = pol(EXAMPLE);
	assert_string_equal(p->controller.id, "example");
	assert_true(p->transfers_none);
	const struct policy_retention *r = rule(p, "bookkeeping");
	assert_string_equal(r->anchors[0], ANCHOR_FINANCIAL_YEAR_END);
	assert_period(r, 5, PERIOD_YEARS);
	assert_non_null(r->legal_obligation);
}

static void
test_AURA_controller_identity(void **state)
{
	(void)state;
	const struct policy *p = pol(AURA);
	assert_string_equal(p->controller.id, "aura-fiber");
	assert_string_equal(p->controller.name, "AURA Fiber A/S");
	assert_string_equal(p->controller.country, "DK");
	assert_int_equal(p->controller.registration_type, ID_CVR);
	assert_string_equal(p->controller.registration, "21628549");
	assert_string_equal(p->controller.language, "da");
}

static void
test_AOPT_controller_identity(void **state)
{
	(void)state;
	const struct policy *p = pol(AOPT);
	assert_string_equal(p->controller.id, "aurora-optimal");
	assert_string_equal(p->controller.name, "Aurora Optimal AB");
	assert_string_equal(p->controller.country, "SE");
	assert_int_equal(p->controller.registration_type, ID_ORGNR);
	assert_string_equal(p->controller.registration, "559331-7323");
	assert_string_equal(p->controller.language, "sv");
}

static void
test_SHOP_controller_identity_placeholder_cvr(void **state)
{
	(void)state;
	const struct policy *p = pol(SHOP);
	assert_string_equal(p->controller.id, "webshop");
	assert_string_equal(p->controller.country, "DK");
	/* The text names no CVR: a marked placeholder that passes modulus
	 * 11 (the loader validates it). */
	assert_int_equal(p->controller.registration_type, ID_CVR);
	assert_string_equal(p->controller.registration, "12345674");
	assert_contains(p->controller.name, "navn ikke oplyst");
}

static void
test_CEK_controller_identity(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	assert_string_equal(p->controller.id, "cekura");
	assert_string_equal(p->controller.name, "CEKURA A/S");
	assert_int_equal(p->controller.registration_type, ID_CVR);
	assert_string_equal(p->controller.registration, "34046352");
	assert_contains(p->controller.address, "Amagerbrogade 41");
	/* "Denne Privatlivspolitik er gældende fra 25. maj 2018." */
	assert_int_equal(p->controller.policy_version, DAYS_2018_05_25);
}

static void
test_TEL_controller_identity(void **state)
{
	(void)state;
	const struct policy *p = pol(TEL);
	assert_string_equal(p->controller.id, "telenor");
	assert_int_equal(p->controller.registration_type, ID_CVR);
	assert_string_equal(p->controller.registration, "19433692");
	assert_dk_authority(p);
}

/* Storage limitation: in every seed, each category is covered by one
 * retention rule, so nothing is kept without a period; a second rule may
 * hold it only when a law requires keeping it (bookkeeping), and then the
 * later of the two expiries decides (src/retention; AOPT-RET-2,
 * CEK-RET-2). */
static void
test_seeds_every_category_has_one_general_retention_rule(void **state)
{
	(void)state;
	for (int s = 0; s < NSEEDS; s++) {
		if (s == EXAMPLE)
			continue;
		const struct policy *p = pol((enum seed)s);
		for (size_t c = 0; c < p->ncategories; c++) {
			size_t general = 0, legal = 0;
			for (size_t i = 0; i < p->nretention; i++) {
				const struct policy_retention *r =
				        &p->retention[i];
				if (!rule_has_category(p, r,
				                       p->categories[c].id))
					continue;
				if (r->legal_obligation)
					legal++;
				else
					general++;
			}
			if (general + legal == 0 || general > 1 || legal > 1)
				fail_msg(
				        "%s: category %s is in %zu general and "
				        "%zu legal retention rules",
				        seed_file[s], p->categories[c].id,
				        general, legal);
		}
	}
}

/* ------------------------------------------------------------------ */
/* AURA -- AURA Fiber A/S                                             */
/* ------------------------------------------------------------------ */

static void
test_AURA_LOGIN_1_username_or_installation_and_contract(void **state)
{
	(void)state;
	const struct policy *p = pol(AURA);
	assert_int_equal(cat(p, "username")->identifier, ID_USERNAME);
	assert_int_equal(cat(p, "installation_number")->identifier, ID_OTHER);
	assert_int_equal(cat(p, "contract_number")->identifier, ID_OTHER);
	assert_int_equal(cat(p, "username")->format, FORMAT_IDENTIFIER);
	const struct policy_purpose *id = purp(p, "identification");
	assert_int_equal(id->basis, BASIS_B);
	assert_true(uses(p, "identification", "username"));
	assert_true(uses(p, "identification", "installation_number"));
	assert_true(uses(p, "identification", "contract_number"));
	/* Either way of logging in is enough: neither set is mandatory. */
	assert_int_equal(id->nmandatory, 0);
}

/* AURA-PORTAL-2: after login the customer sees agreement and products and
 * can change product; "for at vi kan opfylde din kontrakt" -> basis (b). */
static void
test_AURA_PORTAL_2_product_change_under_contract(void **state)
{
	(void)state;
	const struct policy *p = pol(AURA);
	const struct policy_purpose *pu = purp(p, "self_service");
	assert_int_equal(pu->basis, BASIS_B);
	assert_null(pu->legitimate_interests);
	assert_int_equal(pu->nconsent_sources, 0);
	assert_false(pu->direct_marketing);
	assert_true(uses(p, "self_service", "agreement"));
	assert_true(uses(p, "self_service", "product_change"));
	assert_int_equal(cat(p, "agreement")->source, SOURCE_CONTROLLER);
	assert_int_equal(cat(p, "product_change")->source, SOURCE_SUBJECT);
	/* A product change is processed under (b) only: every purpose that
	 * uses it rests on the contract alone. */
	long pc = policy_category_index(p, "product_change");
	assert_true(pc >= 0);
	size_t users = 0;
	for (size_t i = 0; i < p->npurposes; i++)
		if (policy_purpose_uses(p, i, (size_t)pc)) {
			assert_int_equal(p->purposes[i].basis, BASIS_B);
			users++;
		}
	assert_int_equal(users, 1);
	/* The staff who serve the customer in the portal may use it. */
	assert_true(role_has(p, role(p, "customer_service"), "self_service"));
}

/* AURA-COOKIE-1: IP address and visit statistics are collected
 * automatically, only once the visitor accepts cookies; basis (f), the
 * interest being statistics to optimise, develop and market the services. */
static void
test_AURA_COOKIE_1_automatic_data_after_cookie_consent(void **state)
{
	(void)state;
	const struct policy *p = pol(AURA);
	assert_int_equal(cat(p, "ip_address")->source, SOURCE_AUTOMATIC);
	assert_int_equal(cat(p, "visit_statistics")->source, SOURCE_AUTOMATIC);
	const struct policy_purpose *pu = purp(p, "visit_statistics");
	assert_int_equal(pu->basis, BASIS_F);
	assert_non_null(pu->legitimate_interests);
	assert_contains(pu->legitimate_interests, "statistik");
	assert_contains(pu->legitimate_interests, "optimere");
	assert_contains(pu->legitimate_interests, "markedsføre");
	assert_false(pu->direct_marketing);
	/* The visit endpoint takes it only with the statistics choice. */
	assert_int_equal(pu->cookie, COOKIE_STATISTICS);
	assert_ptr_equal(
	        &p->purposes[policy_cookie_purpose(p, COOKIE_STATISTICS)], pu);
	assert_int_equal(policy_cookie_purpose(p, COOKIE_MARKETING), -1);
	/* The cookie acceptance is recorded: the banner is the only way in. */
	assert_int_equal(pu->nconsent_sources, 1);
	assert_true(has_source(pu, "cookie_banner"));
	assert_non_null(pu->consent_text);
	assert_contains(pu->consent_text, "cookies");
	assert_int_equal(pu->ncategories, 2);
	assert_true(uses(p, "visit_statistics", "ip_address"));
	assert_true(uses(p, "visit_statistics", "visit_statistics"));
	/* The automatic data serves visit statistics only. */
	long ip = policy_category_index(p, "ip_address");
	long vs = policy_category_index(p, "visit_statistics");
	for (size_t i = 0; i < p->npurposes; i++) {
		if (&p->purposes[i] == pu)
			continue;
		assert_false(policy_purpose_uses(p, i, (size_t)ip));
		assert_false(policy_purpose_uses(p, i, (size_t)vs));
	}
}

static void
test_AURA_RET_1_cookie_data_24_months(void **state)
{
	(void)state;
	const struct policy *p = pol(AURA);
	const struct policy_retention *r = rule(p, "cookie_data");
	assert_string_equal(r->clause, "AURA-RET-1");
	assert_true(rule_has_category(p, r, "ip_address"));
	assert_true(rule_has_category(p, r, "visit_statistics"));
	assert_int_equal(r->nanchors, 1);
	assert_string_equal(r->anchors[0], ANCHOR_COLLECTED);
	assert_period(r, 24, PERIOD_MONTHS);
	assert_int_equal(r->action, RETENTION_DELETE);
	assert_null(r->legal_obligation);
}

static void
test_AURA_SHARE_1_need_to_know_processors_and_law_only(void **state)
{
	(void)state;
	const struct policy *p = pol(AURA);
	size_t processors = 0, authorities = 0;
	for (size_t i = 0; i < p->nrecipients; i++) {
		const struct policy_recipient *r = &p->recipients[i];
		switch (r->type) {
		case RECIPIENT_PROCESSOR:
			assert_int_equal(r->needs, NEEDS_AGREEMENT_ON_RECORD);
			assert_non_null(r->agreement);
			assert_true(strlen(r->agreement) > 0);
			processors++;
			break;
		case RECIPIENT_AUTHORITY:
			assert_int_equal(r->needs, NEEDS_LEGAL_DEMAND);
			assert_non_null(r->demand);
			authorities++;
			break;
		case RECIPIENT_THIRD_PARTY:
			/* only on explicit consent */
			assert_int_equal(r->needs, NEEDS_CONSENT);
			break;
		}
	}
	assert_true(processors >= 1);
	assert_true(authorities >= 1);
	assert_string_equal(rcpt(p, "it_suppliers")->agreement,
	                    "DPA-AURA-IT-001");
	/* Need to know: the staff who deliver the product see no cookie
	 * statistics, the web analysts no login data. */
	const struct policy_role *cs = role(p, "customer_service");
	assert_true(role_has(p, cs, "identification"));
	assert_true(role_has(p, cs, "self_service"));
	assert_false(role_has(p, cs, "visit_statistics"));
	const struct policy_role *wa = role(p, "web_analytics");
	assert_false(role_has(p, wa, "identification"));
	assert_false(role_has(p, wa, "self_service"));
}

static void
test_AURA_XFER_1_transfer_needs_safeguard(void **state)
{
	(void)state;
	const struct policy *p = pol(AURA);
	/* Transfers are not ruled out, but none is allowed without a
	 * recorded destination and safeguard: today there is none. */
	assert_false(p->transfers_none);
	assert_int_equal(p->ntransfers, 0);
	for (size_t i = 0; i < p->nrecipients; i++)
		assert_false(p->recipients[i].outside_eea);

	char *text = seed_text(AURA);
	/* A recipient in the US without a safeguard is refused ... */
	char *no_sg = replace_once(text, "\nrecipients:\n",
	                           "\n"
	                           "recipients:\n"
	                           "  us_host:\n"
	                           "    name: US hosting\n"
	                           "    type: processor\n"
	                           "    agreement: DPA-TEST-1\n"
	                           "    country: US\n"
	                           "    purposes: [self_service]\n");
	assert_int_equal(load_text(no_sg, 0), VAERN_E_INVALID);
	/* ... and accepted with a safeguard matching a destination. */
	char *with_sg = replace_once(no_sg, "    country: US\n",
	                             "    country: US\n"
	                             "    safeguard: scc\n");
	char *with_dest = replace_once(with_sg, "\ntransfers: []\n",
	                               "\ntransfers:\n"
	                               "  - {country: US, safeguard: scc}\n");
	assert_int_equal(load_text(with_dest, 1), VAERN_OK);
	free(with_dest);
	free(with_sg);
	free(no_sg);
	free(text);
}

static void
test_AURA_RIGHTS_1_all_six_rights(void **state)
{
	(void)state;
	assert_int_equal(pol(AURA)->rights, ALL_RIGHTS);
}

/* AURA-COMPLAIN-1: "Du kan enten henvende dig direkte til os eller til
 * Datatilsynet" (datatilsynet.dk). */
static void
test_AURA_COMPLAIN_1_controller_or_datatilsynet(void **state)
{
	(void)state;
	const struct policy *p = pol(AURA);
	assert_dk_authority(p);
	assert_string_equal(p->controller.country, "DK");
	assert_contains(p->controller.complaints, "AURA Fiber");
	assert_contains(p->controller.complaints, "Datatilsynet");
}

static void
test_AURA_VER_1_version_2021_03_23(void **state)
{
	(void)state;
	assert_int_equal(pol(AURA)->controller.policy_version, DAYS_2021_03_23);
}

/* ------------------------------------------------------------------ */
/* AOPT -- Aurora Optimal AB                                          */
/* ------------------------------------------------------------------ */

static void
test_AOPT_CAT_1_categories(void **state)
{
	(void)state;
	const struct policy *p = pol(AOPT);
	static const char *const ids[] = {
	        "name",         "personnummer",
	        "address",      "phone",
	        "email",        "payment_details",
	        "account_info", "ip_address",
	        "site_usage",   "customer_number",
	        "purchases",    "customer_service_log",
	};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		assert_false(cat(p, ids[i])->special);
	assert_int_equal(cat(p, "personnummer")->identifier, ID_PERSONNUMMER);
	assert_int_equal(cat(p, "phone")->identifier, ID_PHONE);
	assert_int_equal(cat(p, "email")->identifier, ID_EMAIL);
	assert_int_equal(cat(p, "customer_number")->identifier, ID_OTHER);
	assert_int_equal(cat(p, "customer_number")->source, SOURCE_CONTROLLER);
	assert_int_equal(cat(p, "ip_address")->source, SOURCE_AUTOMATIC);
	assert_int_equal(cat(p, "site_usage")->source, SOURCE_AUTOMATIC);
	/* Customer-service communication is documented. */
	assert_true(uses(p, "customer_service", "customer_service_log"));
}

/* AOPT-PURP-1: identify the customer, handle and deliver orders, invoicing
 * and payment ("köpeavtal ... rättsliga förpliktelser": b and c), customer
 * service, complaints under consumer law (a legal obligation). */
static void
test_AOPT_PURP_1_purposes_and_bases(void **state)
{
	(void)state;
	const struct policy *p = pol(AOPT);
	static const struct {
		const char *id;
		unsigned basis;
	} want[] = {
	        {"identify_customer", BASIS_B},   {"orders", BASIS_B},
	        {"invoicing", BASIS_B | BASIS_C}, {"customer_service", BASIS_B},
	        {"complaints", BASIS_C},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct policy_purpose *pu = purp(p, want[i].id);
		assert_int_equal(pu->basis, want[i].basis);
		/* The purchase contract, not a consent, is the ground; none of
		 * these is marketing. */
		assert_int_equal(pu->nconsent_sources, 0);
		assert_false(pu->direct_marketing);
	}
	assert_true(uses(p, "identify_customer", "personnummer"));
	assert_true(uses(p, "identify_customer", "customer_number"));
	assert_true(uses(p, "orders", "purchases"));
	assert_true(uses(p, "orders", "address")); /* delivery */
	assert_true(uses(p, "invoicing", "payment_details"));
	assert_true(uses(p, "customer_service", "customer_service_log"));
	assert_true(uses(p, "complaints", "purchases"));
	assert_true(uses(p, "complaints", "customer_service_log"));
}

static void
test_AOPT_MKT_1_newsletter_needs_consent(void **state)
{
	(void)state;
	const struct policy *p = pol(AOPT);
	const struct policy_purpose *pu = purp(p, "newsletter");
	assert_int_equal(pu->basis, BASIS_A);
	assert_true(pu->direct_marketing);
	assert_true(pu->nconsent_sources >= 1);
	assert_true(uses(p, "newsletter", "email"));
	/* No other purpose sends marketing. */
	for (size_t i = 0; i < p->npurposes; i++)
		if (&p->purposes[i] != pu)
			assert_false(p->purposes[i].direct_marketing);
}

/* AOPT-SHARE-1: shared only where law requires or allows; processors
 * (transport and logistics, banks and card companies, marketing suppliers)
 * under a personuppgiftsbiträdesavtal; never sold. */
static void
test_AOPT_SHARE_1_processors_under_agreement_never_sold(void **state)
{
	(void)state;
	const struct policy *p = pol(AOPT);
	/* Each processor helps with what the text says: orders and delivery,
	 * payment, marketing. */
	static const struct {
		const char *id, *purpose;
	} procs[] = {
	        {"transport_logistics", "orders"},
	        {"banks_card_companies", "invoicing"},
	        {"marketing_suppliers", "newsletter"},
	};
	for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++) {
		const struct policy_recipient *r = rcpt(p, procs[i].id);
		assert_int_equal(r->type, RECIPIENT_PROCESSOR);
		assert_int_equal(r->needs, NEEDS_AGREEMENT_ON_RECORD);
		assert_non_null(r->agreement);
		assert_true(strlen(r->agreement) > 0);
		assert_true(rcpt_has_purpose(p, r, procs[i].purpose));
	}
	/* Never sold or given to an independent third party; authorities
	 * only when the law requires it; every processor under agreement. */
	size_t authorities = 0;
	for (size_t i = 0; i < p->nrecipients; i++) {
		const struct policy_recipient *r = &p->recipients[i];
		assert_int_not_equal(r->type, RECIPIENT_THIRD_PARTY);
		if (r->type == RECIPIENT_AUTHORITY) {
			assert_int_equal(r->needs, NEEDS_LEGAL_DEMAND);
			assert_non_null(r->demand);
			authorities++;
		} else {
			assert_int_equal(r->needs, NEEDS_AGREEMENT_ON_RECORD);
			assert_non_null(r->agreement);
		}
	}
	assert_true(authorities >= 1);
	/* The logistics firms get what delivery needs, not the personnummer
	 * or payment details. */
	const struct policy_recipient *t = rcpt(p, "transport_logistics");
	assert_true(rcpt_has_category(p, t, "address"));
	assert_false(rcpt_has_category(p, t, "personnummer"));
	assert_false(rcpt_has_category(p, t, "payment_details"));
}

/* AOPT-CUST-1: a customer while buying, paying by instalments, subscribing,
 * using a product, or while a warranty runs. The customer-data rule runs
 * from the latest of those events (an anchor list: docs/policy.md); each
 * end names the start of its state (`ends:`), so the period does not run
 * while an instalment plan, subscription or product use has started again,
 * and a warranty end recorded at the sale lies ahead. The dates themselves:
 * tests/unit/test_retention.c. */
static void
test_AOPT_CUST_1_customer_while_any_relation_runs(void **state)
{
	(void)state;
	const struct policy *p = pol(AOPT);
	const struct policy_retention *r = rule(p, "customer_data");
	static const char *const anchors[] = {
	        "last_contact",    "instalment_end", "subscription_end",
	        "product_use_end", "warranty_end",
	};
	assert_int_equal(r->nanchors, 6);
	for (size_t i = 0; i < 5; i++) {
		assert_true(rule_has_anchor(r, anchors[i]));
		assert_true(policy_event_index(p, anchors[i]) >= 0);
	}
	/* Issue 10: collecting data from the customer is a contact, so no
	 * fact stays undated; the latest anchor wins, so a later contact
	 * still moves the date. */
	assert_true(rule_has_anchor(r, ANCHOR_COLLECTED));
	assert_false(rule_has_anchor(r, ANCHOR_FINANCIAL_YEAR_END));
	assert_false(
	        policy_rule_may_stay_undated(p, (size_t)(r - p->retention)));
	/* A purchase is a customer contact: the last_contact event says so. */
	long lc = policy_event_index(p, "last_contact");
	assert_contains(p->events[lc].description, "köp");
	assert_int_equal(p->events[lc].ends, -1);
	/* While a state runs, the person is a customer. */
	assert_ends(p, "instalment_end", "instalment_start");
	assert_ends(p, "subscription_end", "subscription_start");
	assert_ends(p, "product_use_end", "product_use_start");
	/* The warranty's end is known at the sale (dated ahead). */
	assert_int_equal(p->events[policy_event_index(p, "warranty_end")].ends,
	                 -1);
	/* The purchases, instalments, subscriptions and warranties themselves
	 * fall under this one rule, not a shorter one. */
	const struct policy_retention *only;
	assert_int_equal(rules_for(p, "purchases", &only), 1);
	assert_ptr_equal(only, r);
	/* The customer number also documents the bookkeeping (AOPT-RET-2). */
	assert_int_equal(rules_for(p, "customer_number", &only), 2);
	assert_ptr_equal(only, r);

	/* A state's end that names no real start is refused. */
	char *text = seed_text(AOPT);
	char *bad = replace_once(text, "    ends: subscription_start\n",
	                         "    ends: subscription_begin\n");
	assert_int_equal(load_text(bad, 0), VAERN_E_INVALID);
	free(bad);
	free(text);
}

static void
test_AOPT_RET_1_three_years_from_latest_contact(void **state)
{
	(void)state;
	const struct policy *p = pol(AOPT);
	const struct policy_retention *r = rule(p, "customer_data");
	assert_string_equal(r->clause, "AOPT-RET-1");
	assert_period(r, 3, PERIOD_YEARS);
	assert_null(r->legal_obligation);
	assert_true(rule_has_category(p, r, "name"));
	assert_true(rule_has_category(p, r, "personnummer"));
	assert_true(rule_has_category(p, r, "customer_service_log"));
	assert_false(rule_has_category(p, r, "bookkeeping_records"));
	/* The statistics cookies' data (AOPT-COOKIE-1) is a visitor's, who
	 * has no customer events: 3 years from the visit. */
	assert_false(rule_has_category(p, r, "ip_address"));
	r = rule(p, "site_statistics");
	assert_string_equal(r->clause, "AOPT-RET-1");
	assert_period(r, 3, PERIOD_YEARS);
	assert_int_equal(r->nanchors, 1);
	assert_string_equal(r->anchors[0], ANCHOR_COLLECTED);
	assert_true(rule_has_category(p, r, "ip_address"));
	assert_true(rule_has_category(p, r, "site_usage"));
}

static void
test_AOPT_RET_2_bookkeeping_7_years(void **state)
{
	(void)state;
	const struct policy *p = pol(AOPT);
	const struct policy_retention *r = rule(p, "bookkeeping");
	assert_string_equal(r->clause, "AOPT-RET-2");
	assert_int_equal(r->nanchors, 1);
	assert_string_equal(r->anchors[0], ANCHOR_FINANCIAL_YEAR_END);
	assert_period(r, 7, PERIOD_YEARS);
	assert_contains(r->legal_obligation, "Bokföringslagen");
	assert_true(rule_has_category(p, r, "bookkeeping_records"));
	/* The customer number links the records: held by both rules, the
	 * later expiry wins (test_retention.c). */
	assert_true(rule_has_category(p, r, "customer_number"));
	assert_true(rule_has_category(p, rule(p, "customer_data"),
	                              "customer_number"));
	/* Calendar-year financial year: BFL's "calendar year in which the
	 * financial year ended" is then the financial year's end. */
	assert_int_equal(p->controller.fy_end_month, 12);
	assert_int_equal(p->controller.fy_end_day, 31);
}

static void
test_AOPT_ERASE_1_bookkeeping_survives_erasure(void **state)
{
	(void)state;
	const struct policy *p = pol(AOPT);
	const struct policy_retention *r;
	/* What bookkeeping law requires is under a legal obligation, which
	 * holds erasure back (GDPR-17) ... */
	assert_int_equal(rules_for(p, "bookkeeping_records", &r), 1);
	assert_non_null(r->legal_obligation);
	assert_true(purp(p, "bookkeeping")->while_restricted);
	/* ... the rest of the customer data is erasable on request. */
	assert_int_equal(rules_for(p, "name", &r), 1);
	assert_null(r->legal_obligation);
	assert_int_equal(rules_for(p, "email", &r), 1);
	assert_null(r->legal_obligation);
}

/* AOPT-COMPLAIN-1: complaints to the Swedish supervisory authority
 * ("Datainspektionen" in the text, IMY since 2021), after contacting
 * Aurora Optimal if the person wishes. */
static void
test_AOPT_COMPLAIN_1_swedish_authority(void **state)
{
	(void)state;
	const struct policy *p = pol(AOPT);
	assert_string_equal(p->controller.country, "SE");
	assert_contains(p->controller.complaints, "support@auroraoptimal.com");
	assert_contains(p->controller.authority_name, "IMY");
	assert_contains(p->controller.authority_name, "Datainspektionen");
	assert_contains(p->controller.authority_url, "imy.se");
	assert_contains(p->controller.complaints, "IMY");
}

/* ------------------------------------------------------------------ */
/* SHOP -- Danish web shop                                            */
/* ------------------------------------------------------------------ */

static void
test_SHOP_RET_1_contact_form_2_years_from_last_contact(void **state)
{
	(void)state;
	const struct policy *p = pol(SHOP);
	const struct policy_retention *r = rule(p, "contact_form");
	assert_string_equal(r->clause, "SHOP-RET-1");
	/* "Hvis du ikke efterfølgende indgår i en yderligere relation": the
	 * latest contact, or the end of a relationship that followed (open
	 * while it runs). */
	assert_int_equal(r->nanchors, 3);
	assert_string_equal(r->anchors[0], ANCHOR_COLLECTED); /* issue 10 */
	assert_string_equal(r->anchors[1], "last_contact");
	assert_string_equal(r->anchors[2], "relationship_end");
	assert_ends(p, "relationship_end", "relationship_start");
	assert_period(r, 2, PERIOD_YEARS);
	static const char *const ids[] = {
	        "contact_name",
	        "contact_address",
	        "contact_phone",
	        "contact_email",
	};
	for (size_t i = 0; i < 4; i++) {
		assert_true(rule_has_category(p, r, ids[i]));
		assert_true(uses(p, "contact_requests", ids[i]));
	}
	assert_int_equal(cat(p, "contact_email")->identifier, ID_EMAIL);
	assert_int_equal(cat(p, "contact_phone")->identifier, ID_PHONE);
}

static void
test_SHOP_MKT_1_newsletter_until_unsubscribed(void **state)
{
	(void)state;
	const struct policy *p = pol(SHOP);
	const struct policy_purpose *pu = purp(p, "newsletter");
	assert_int_equal(pu->basis, BASIS_A);
	assert_true(pu->direct_marketing);
	assert_true(pu->nconsent_sources >= 1);
	const struct policy_retention *r = rule(p, "newsletter");
	assert_string_equal(r->clause, "SHOP-MKT-1");
	assert_true(rule_has_category(p, r, "newsletter_email"));
	assert_int_equal(r->nanchors, 1);
	assert_string_equal(r->anchors[0], "newsletter_unsubscribed");
	/* Subscribing again makes an earlier unsubscription stale. */
	assert_ends(p, "newsletter_unsubscribed", "newsletter_subscribed");
	assert_period(r, 0, PERIOD_DAYS);
}

static void
test_SHOP_RET_2_customers_5_years_from_relationship_end(void **state)
{
	(void)state;
	const struct policy *p = pol(SHOP);
	const struct policy_retention *r = rule(p, "customers");
	assert_string_equal(r->clause, "SHOP-RET-2");
	assert_int_equal(r->nanchors, 1);
	assert_string_equal(r->anchors[0], "relationship_end");
	/* Kept while the relationship runs. */
	assert_ends(p, "relationship_end", "relationship_start");
	assert_period(r, 5, PERIOD_YEARS);
	assert_true(rule_has_category(p, r, "customer_name"));
	assert_true(rule_has_category(p, r, "billing_address"));
	assert_true(rule_has_category(p, r, "card_last4_expiry"));
}

static void
test_SHOP_RET_3_direct_contact_5_years_from_last_contact(void **state)
{
	(void)state;
	const struct policy *p = pol(SHOP);
	const struct policy_retention *r = rule(p, "direct_contact");
	assert_string_equal(r->clause, "SHOP-RET-3");
	assert_int_equal(r->nanchors, 3);
	assert_string_equal(r->anchors[0], ANCHOR_COLLECTED); /* issue 10 */
	assert_string_equal(r->anchors[1], "last_contact");
	assert_string_equal(r->anchors[2], "relationship_end");
	assert_period(r, 5, PERIOD_YEARS);
	assert_true(rule_has_category(p, r, "direct_contact_notes"));
	assert_true(rule_has_category(p, r, "direct_contact_phone"));
}

static void
test_SHOP_PAY_1_card_last4_and_expiry_only(void **state)
{
	(void)state;
	const struct policy *p = pol(SHOP);
	const struct policy_category *c = cat(p, "card_last4_expiry");
	assert_int_equal(c->format, FORMAT_CARD_LAST4_EXP);
	assert_int_equal(c->identifier, ID_NONE);
	/* No category holds full card numbers. */
	for (size_t i = 0; i < p->ncategories; i++)
		assert_int_not_equal(p->categories[i].identifier, ID_CARD);
	/* Used to warn before the next recurring payment. */
	const struct policy_purpose *pu = purp(p, "card_expiry_notice");
	assert_int_equal(pu->basis, BASIS_B);
	assert_true(uses(p, "card_expiry_notice", "card_last4_expiry"));
	assert_true(uses(p, "card_expiry_notice", "customer_email"));
	/* The gateway is a processor, and vaern gives it no card data. */
	const struct policy_recipient *g = rcpt(p, "payment_gateway");
	assert_int_equal(g->type, RECIPIENT_PROCESSOR);
	assert_non_null(g->agreement);
	assert_false(rcpt_has_category(p, g, "card_last4_expiry"));
	/* No recipient at all receives the card digits. */
	for (size_t i = 0; i < p->nrecipients; i++)
		assert_false(rcpt_has_category(p, &p->recipients[i],
		                               "card_last4_expiry"));
}

/* SHOP-PAY-2: billing address and phone are stored to prefill later
 * purchases (and to contact the buyer about the order); the address may be
 * shared with the supplier of a welcome gift, which gets nothing else it
 * does not need. */
static void
test_SHOP_PAY_2_billing_prefill_and_gift_supplier(void **state)
{
	(void)state;
	const struct policy *p = pol(SHOP);
	const struct policy_purpose *pf = purp(p, "checkout_prefill");
	assert_true(uses(p, "checkout_prefill", "billing_address"));
	assert_true(uses(p, "checkout_prefill", "billing_phone"));
	assert_false(uses(p, "checkout_prefill", "card_last4_expiry"));
	assert_false(pf->direct_marketing);
	if (pf->basis & BASIS_F)
		assert_non_null(pf->legitimate_interests);
	assert_true(uses(p, "orders", "billing_phone"));
	assert_int_equal(cat(p, "billing_address")->source, SOURCE_SUBJECT);
	assert_int_equal(cat(p, "billing_phone")->source, SOURCE_SUBJECT);
	assert_int_equal(cat(p, "billing_phone")->identifier, ID_PHONE);
	/* Stored: kept by the customer rule, not dropped after checkout. */
	const struct policy_retention *r;
	assert_int_equal(rules_for(p, "billing_address", &r), 1);
	assert_string_equal(r->id, "customers");
	assert_int_equal(rules_for(p, "billing_phone", &r), 1);
	assert_string_equal(r->id, "customers");
	const struct policy_recipient *g = rcpt(p, "gift_suppliers");
	assert_int_equal(g->type, RECIPIENT_PROCESSOR);
	assert_non_null(g->agreement);
	assert_true(rcpt_has_purpose(p, g, "welcome_gift"));
	assert_int_equal(g->npurposes, 1);
	assert_false(purp(p, "welcome_gift")->direct_marketing);
	/* Only the address (and the name to put on it) goes to the gift
	 * supplier. */
	assert_true(rcpt_has_category(p, g, "billing_address"));
	assert_int_equal(g->ncategories, 2);
	assert_true(rcpt_has_category(p, g, "customer_name"));
	assert_false(rcpt_has_category(p, g, "billing_phone"));
	/* The gift purpose itself needs no more than that either. */
	assert_int_equal(purp(p, "welcome_gift")->ncategories, 2);
	assert_true(uses(p, "welcome_gift", "billing_address"));
	assert_true(uses(p, "welcome_gift", "customer_name"));
}

static void
test_SHOP_SPECIAL_1_no_sensitive_data_without_consent(void **state)
{
	(void)state;
	const struct policy *p = pol(SHOP);
	/* The text names no kind of sensitive data, so the policy defines
	 * no special category: vaern stores none for the shop. */
	for (size_t i = 0; i < p->ncategories; i++)
		assert_false(p->categories[i].special);
	/* And every consent purpose has a recorded consent source. */
	for (size_t i = 0; i < p->npurposes; i++)
		if (p->purposes[i].basis & BASIS_A)
			assert_true(p->purposes[i].nconsent_sources >= 1);
}

/* SHOP-MKT-2: data is passed to others for marketing only with consent
 * (given by accepting cookies, creating a user, or buying); the marketing
 * pixels of Google, Facebook, LinkedIn, Instagram and Twitter only with
 * cookie consent; marketing can be refused at any time (direct marketing:
 * objection is absolute). */
static void
test_SHOP_MKT_2_marketing_sharing_only_with_consent(void **state)
{
	(void)state;
	const struct policy *p = pol(SHOP);
	const struct policy_recipient *mp = rcpt(p, "marketing_partners");
	assert_int_equal(mp->type, RECIPIENT_THIRD_PARTY);
	assert_int_equal(mp->needs, NEEDS_CONSENT);
	assert_true(rcpt_has_purpose(p, mp, "marketing"));
	/* The pixels' registrations are collected automatically. */
	assert_int_equal(cat(p, "web_behaviour")->source, SOURCE_AUTOMATIC);
	assert_true(uses(p, "marketing_pixels", "web_behaviour"));
	static const char *const pixels[] = {
	        "google", "facebook", "linkedin", "instagram", "twitter",
	};
	for (size_t i = 0; i < 5; i++) {
		const struct policy_recipient *r = rcpt(p, pixels[i]);
		assert_int_equal(r->type, RECIPIENT_THIRD_PARTY);
		assert_int_equal(r->needs, NEEDS_CONSENT);
		assert_int_equal(r->npurposes, 1);
		assert_true(rcpt_has_purpose(p, r, "marketing_pixels"));
	}
	const struct policy_purpose *px = purp(p, "marketing_pixels");
	assert_int_equal(px->basis, BASIS_A);
	assert_true(px->direct_marketing);
	assert_true(has_source(px, "cookie_banner"));
	assert_int_equal(px->nconsent_sources, 1); /* cookie consent only */
	const struct policy_purpose *m = purp(p, "marketing");
	assert_int_equal(m->basis, BASIS_A);
	assert_true(m->direct_marketing);
	assert_true(has_source(m, "cookie_banner"));
	assert_true(has_source(m, "web_form"));
	assert_true(has_source(m, "purchase"));
	/* Every third party receives data only on consent, and only for
	 * consent-based purposes. */
	for (size_t i = 0; i < p->nrecipients; i++) {
		const struct policy_recipient *r = &p->recipients[i];
		if (r->type != RECIPIENT_THIRD_PARTY)
			continue;
		assert_int_equal(r->needs, NEEDS_CONSENT);
		for (size_t j = 0; j < r->npurposes; j++)
			assert_true(p->purposes[r->purposes[j]].basis &
			            BASIS_A);
	}
	/* No recipient of any kind gets data for marketing without the
	 * person's consent. */
	for (size_t i = 0; i < p->nrecipients; i++) {
		const struct policy_recipient *r = &p->recipients[i];
		for (size_t j = 0; j < r->npurposes; j++)
			if (p->purposes[r->purposes[j]].direct_marketing)
				assert_int_equal(r->needs, NEEDS_CONSENT);
	}
}

static void
test_SHOP_RIGHTS_1_rights_and_restriction_exceptions(void **state)
{
	(void)state;
	const struct policy *p = pol(SHOP);
	assert_int_equal(p->rights, ALL_RIGHTS);
	/* While restricted: legal claims (and bookkeeping storage) only. */
	assert_true(purp(p, "legal_claims")->while_restricted);
	assert_true(purp(p, "bookkeeping")->while_restricted);
	for (size_t i = 0; i < p->npurposes; i++)
		if (p->purposes[i].direct_marketing)
			assert_false(p->purposes[i].while_restricted);
	assert_false(purp(p, "orders")->while_restricted);
}

static void
test_SHOP_BREACH_1_reports_anonymous_allowed(void **state)
{
	(void)state;
	const struct policy *p = pol(SHOP);
	const struct policy_purpose *pu = purp(p, "security_reports");
	assert_true(uses(p, "security_reports", "breach_report"));
	assert_true(uses(p, "security_reports", "reporter_contact"));
	assert_true(is_mandatory(p, pu, "breach_report"));
	assert_false(is_mandatory(p, pu, "reporter_contact"));
	assert_true(role_has(p, role(p, "security"), "security_reports"));
}

/* ------------------------------------------------------------------ */
/* CEK -- CEKURA A/S                                                  */
/* ------------------------------------------------------------------ */

static void
test_CEK_CAT_1_categories(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	static const char *const ids[] = {
	        "name",
	        "address",
	        "email",
	        "phone",
	        "birth_date",
	        "payment_details",
	        "delivery_point",
	        "customer_number",
	        "power_of_attorney",
	        "cpr",
	        "orders",
	        "consumption_delivery",
	        "call_recordings",
	        "correspondence",
	        "digital_behaviour",
	        "company_cvr",
	        "company_name",
	};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		assert_false(cat(p, ids[i])->special);
	assert_int_equal(cat(p, "cpr")->identifier, ID_CPR);
	assert_int_equal(cat(p, "email")->identifier, ID_EMAIL);
	assert_int_equal(cat(p, "phone")->identifier, ID_PHONE);
	assert_int_equal(cat(p, "company_cvr")->identifier, ID_CVR);
	assert_int_equal(cat(p, "birth_date")->format, FORMAT_DATE);
	assert_int_equal(cat(p, "digital_behaviour")->source, SOURCE_AUTOMATIC);
	assert_int_equal(cat(p, "customer_number")->source, SOURCE_CONTROLLER);
}

static void
test_CEK_SPECIAL_1_special_only_given_and_consented(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	static const struct {
		const char *id, *kind;
	} sp[] = {
	        {"health", "health"},
	        {"family_relations", "family_relations"},
	        {"social_problems", "social_problems"},
	};
	for (size_t i = 0; i < 3; i++) {
		const struct policy_category *c = cat(p, sp[i].id);
		assert_true(c->special);
		assert_string_equal(c->special_kind, sp[i].kind);
		assert_int_equal(c->source, SOURCE_SUBJECT); /* "som du selv
		                                                 giver os" */
	}
	/* Every purpose that uses a special category rests on explicit
	 * consent, with a recorded source. */
	size_t users = 0;
	for (size_t pu = 0; pu < p->npurposes; pu++)
		for (size_t c = 0; c < p->ncategories; c++) {
			if (!p->categories[c].special ||
			    !policy_purpose_uses(p, pu, c))
				continue;
			assert_int_equal(p->purposes[pu].art9, 'a');
			assert_true(p->purposes[pu].basis & BASIS_A);
			assert_true(p->purposes[pu].nconsent_sources >= 1);
			users++;
		}
	assert_true(users >= 3);
	assert_int_equal(purp(p, "special_needs")->art9, 'a');
	/* Need to know: marketing staff never reach special data. */
	const struct policy_role *mk = role(p, "marketing");
	assert_false(role_has(p, mk, "special_needs"));
}

static void
test_CEK_CONTACT_1_contact_persons_and_data_about_others(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	assert_true(cat(p, "contact_persons")->about_others);
	assert_true(cat(p, "power_of_attorney")->about_others);
	assert_false(cat(p, "name")->about_others);
	assert_true(uses(p, "customer_admin", "contact_persons"));
	assert_true(uses(p, "customer_admin", "company_cvr"));
	assert_true(uses(p, "customer_admin", "company_name"));
}

/* CEK-PURP-1: administration of potential and existing customer
 * relationships, "artikel 6, stk. 1, litra b og litra f"; the legitimate
 * interests: no disclosure to anyone but the customer, marketing the
 * products, compliance with the law. */
static void
test_CEK_PURP_1_customer_admin_b_and_f(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	const struct policy_purpose *pu = purp(p, "customer_admin");
	assert_int_equal(pu->basis, BASIS_B | BASIS_F);
	assert_non_null(pu->legitimate_interests);
	assert_contains(pu->legitimate_interests, "udlevering");
	assert_contains(pu->legitimate_interests, "markedsføre");
	assert_contains(pu->legitimate_interests, "lovgivning");
	assert_int_equal(pu->nconsent_sources, 0);
	assert_false(pu->direct_marketing);
	/* Entering and administering the agreement: identification,
	 * payment, delivery, consumption. */
	assert_true(uses(p, "customer_admin", "name"));
	assert_true(uses(p, "customer_admin", "cpr"));
	assert_true(uses(p, "customer_admin", "payment_details"));
	assert_true(uses(p, "customer_admin", "delivery_point"));
	assert_true(uses(p, "customer_admin", "consumption_delivery"));
	/* Not special data: that is on consent only (CEK-SPECIAL-1). */
	assert_int_equal(pu->art9, 0);
	assert_false(uses(p, "customer_admin", "health"));
}

/* CEK-PURP-2: electronic or phone marketing on consent (a), which may be
 * given by entering a competition; postal marketing, targeted ads on
 * cekura.dk and segmentation under (f); the customer can always opt out
 * (direct marketing: objection is unconditional). */
static void
test_CEK_PURP_2_marketing_consent_and_post(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	const struct policy_purpose *e = purp(p, "marketing_consent");
	assert_int_equal(e->basis, BASIS_A);
	assert_true(e->direct_marketing);
	assert_true(has_source(e, "competition_entry"));
	assert_non_null(e->consent_text);
	assert_true(uses(p, "marketing_consent", "email"));
	assert_true(uses(p, "marketing_consent", "phone"));
	const struct policy_purpose *post = purp(p, "marketing_post");
	assert_int_equal(post->basis, BASIS_F);
	assert_non_null(post->legitimate_interests);
	assert_contains(post->legitimate_interests, "markedsføre");
	assert_contains(post->description, "post");
	assert_contains(post->description, "annoncering");
	assert_contains(post->description, "segmentering");
	/* The competitions through which the consent is given. */
	assert_true(uses(p, "competitions", "competition_entries"));
	/* Opt-out is always possible: objection to it is absolute. */
	assert_true(post->direct_marketing);
	assert_true(uses(p, "marketing_post", "address"));
	/* Electronic contact details are not used for marketing without
	 * consent: no direct-marketing purpose without (a) uses them. */
	assert_false(uses(p, "marketing_post", "email"));
	assert_false(uses(p, "marketing_post", "phone"));
	long em = policy_category_index(p, "email");
	long ph = policy_category_index(p, "phone");
	for (size_t i = 0; i < p->npurposes; i++) {
		const struct policy_purpose *pu = &p->purposes[i];
		if (!pu->direct_marketing || (pu->basis & BASIS_A))
			continue;
		assert_false(policy_purpose_uses(p, i, (size_t)em));
		assert_false(policy_purpose_uses(p, i, (size_t)ph));
	}
}

/* CEK-PURP-3: registering visits to cekura.dk to develop and improve the
 * digital services, and for statistics, market research and internal
 * studies: basis (f). */
static void
test_CEK_PURP_3_digital_services_legitimate_interest(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	const struct policy_purpose *pu = purp(p, "digital_services");
	assert_int_equal(pu->basis, BASIS_F);
	assert_non_null(pu->legitimate_interests);
	assert_contains(pu->legitimate_interests, "digitale tjenester");
	assert_contains(pu->description, "statistik");
	assert_false(pu->direct_marketing);
	assert_true(uses(p, "digital_services", "digital_behaviour"));
	assert_int_equal(cat(p, "digital_behaviour")->source, SOURCE_AUTOMATIC);
}

/* CEK-PURP-4: "Vi optager også løbende telefonsamtaler til dokumentation
 * og uddannelse af medarbejdere": basis (f). */
static void
test_CEK_PURP_4_call_recording_legitimate_interest(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	const struct policy_purpose *pu = purp(p, "call_recording");
	assert_int_equal(pu->basis, BASIS_F);
	assert_contains(pu->legitimate_interests, "uddanne");
	assert_contains(pu->legitimate_interests, "dokumentere");
	assert_int_equal(pu->nconsent_sources, 0);
	assert_false(pu->direct_marketing);
	assert_true(uses(p, "call_recording", "call_recordings"));
	/* The recordings are used for documentation and training only, and
	 * each use is on (f). */
	long cr = policy_category_index(p, "call_recordings");
	for (size_t i = 0; i < p->npurposes; i++)
		if (policy_purpose_uses(p, i, (size_t)cr)) {
			assert_true(p->purposes[i].basis & BASIS_F);
			assert_false(p->purposes[i].direct_marketing);
		}
}

static void
test_CEK_SHARE_1_only_by_prior_agreement(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	assert_true(p->nrecipients >= 3);
	for (size_t i = 0; i < p->nrecipients; i++) {
		assert_int_equal(p->recipients[i].type, RECIPIENT_THIRD_PARTY);
		assert_int_equal(p->recipients[i].needs, NEEDS_PRIOR_AGREEMENT);
	}
	(void)rcpt(p, "family_members");
	(void)rcpt(p, "general_practitioner");
	(void)rcpt(p, "public_authorities");
}

static void
test_CEK_XFER_1_no_transfers(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	assert_true(p->transfers_none);
	assert_int_equal(p->ntransfers, 0);
	for (size_t i = 0; i < p->nrecipients; i++)
		assert_false(p->recipients[i].outside_eea);
	/* Even with a safeguard, a recipient outside the EU/EEA is
	 * refused. */
	char *text = seed_text(CEK);
	char *mod = replace_once(text, "\nrecipients:\n",
	                         "\n"
	                         "recipients:\n"
	                         "  us_cloud:\n"
	                         "    name: US cloud\n"
	                         "    type: third_party\n"
	                         "    needs: prior_agreement\n"
	                         "    country: US\n"
	                         "    safeguard: scc\n"
	                         "    purposes: [customer_admin]\n");
	assert_int_equal(load_text(mod, 0), VAERN_E_INVALID);
	/* Control: the same recipient inside the EEA is accepted. */
	char *ctl = replace_once(mod,
	                         "    country: US\n"
	                         "    safeguard: scc\n",
	                         "    country: SE\n");
	assert_int_equal(load_text(ctl, 1), VAERN_OK);
	free(ctl);
	free(mod);
	free(text);
}

static void
test_CEK_RET_1_two_months_after_relationship_or_dialogue(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	const struct policy_retention *r = rule(p, "general");
	assert_string_equal(r->clause, "CEK-RET-1");
	assert_int_equal(r->nanchors, 3);
	assert_true(rule_has_anchor(r, ANCHOR_COLLECTED)); /* a dialogue */
	assert_true(rule_has_anchor(r, "relationship_end"));
	assert_true(rule_has_anchor(r, "last_contact"));
	/* "efter du er stoppet som kunde": not while still a customer. */
	assert_ends(p, "relationship_end", "relationship_start");
	assert_period(r, 2, PERIOD_MONTHS);
	assert_null(r->legal_obligation);
	assert_true(rule_has_category(p, r, "name"));
	assert_true(rule_has_category(p, r, "cpr"));
	assert_true(rule_has_category(p, r, "health"));
}

static void
test_CEK_RET_2_bookkeeping_5y_from_fy_end(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	const struct policy_retention *r = rule(p, "bookkeeping");
	assert_string_equal(r->clause, "CEK-RET-2");
	assert_int_equal(r->nanchors, 1);
	assert_string_equal(r->anchors[0], ANCHOR_FINANCIAL_YEAR_END);
	assert_period(r, 5, PERIOD_YEARS);
	assert_contains(r->legal_obligation, "Bogføringsloven");
	assert_true(rule_has_category(p, r, "bookkeeping_records"));
	/* "bl.a. fakturaer, tilgodehavender, betalingsoplysninger": payment
	 * details are bookkeeping data as well as customer data; the later
	 * expiry of the two rules wins (test_retention.c). */
	assert_true(rule_has_category(p, r, "payment_details"));
	assert_true(
	        rule_has_category(p, rule(p, "general"), "payment_details"));
	assert_true(uses(p, "bookkeeping", "payment_details"));
	assert_true(rule_has_category(p, r, "customer_number"));
}

static void
test_CEK_RET_3_marketing_records_1_year(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	const struct policy_retention *r = rule(p, "marketing_material");
	assert_string_equal(r->clause, "CEK-RET-3");
	assert_true(rule_has_category(p, r, "marketing_material"));
	assert_int_equal(r->nanchors, 1);
	assert_string_equal(r->anchors[0], ANCHOR_COLLECTED);
	assert_period(r, 1, PERIOD_YEARS);
}

static void
test_CEK_RET_4_calls_2_months_after_subscription_end(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	const struct policy_retention *r = rule(p, "call_recordings");
	assert_string_equal(r->clause, "CEK-RET-4");
	assert_true(rule_has_category(p, r, "call_recordings"));
	assert_int_equal(r->nanchors, 1);
	assert_string_equal(r->anchors[0], "subscription_end");
	/* "mens du er kunde hos os": kept while the subscription runs. */
	assert_ends(p, "subscription_end", "subscription_start");
	assert_period(r, 2, PERIOD_MONTHS);
	/* Deleted sooner on request: no legal obligation holds it back. */
	assert_null(r->legal_obligation);
}

static void
test_CEK_RET_5_competitions_1_year_after_end(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	const struct policy_retention *r = rule(p, "competitions");
	assert_string_equal(r->clause, "CEK-RET-5");
	assert_true(rule_has_category(p, r, "competition_entries"));
	/* "op til": 1 year from the entry at most until the end is on
	 * record, which may be dated ahead (known_in_advance). */
	assert_int_equal(r->nanchors, 2);
	assert_string_equal(r->anchors[0], ANCHOR_COLLECTED);
	assert_string_equal(r->anchors[1], "competition_end");
	assert_true(p->events[policy_event_index(p, "competition_end")]
	                    .known_in_advance);
	assert_period(r, 1, PERIOD_YEARS);
}

static void
test_CEK_HOLD_1_dispute_documentation_while_restricted(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	const struct policy_purpose *pu = purp(p, "disputes");
	assert_true(pu->basis & BASIS_F);
	assert_true(pu->while_restricted);
	assert_true(uses(p, "disputes", "call_recordings"));
	assert_true(uses(p, "disputes", "correspondence"));
	assert_int_equal(pu->art9, 0); /* no special data (CEK-SPECIAL-1) */
}

static void
test_CEK_MAND_1_name_address_phone_mandatory(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	const struct policy_purpose *pu = purp(p, "customer_admin");
	assert_int_equal(pu->nmandatory, 3);
	assert_true(is_mandatory(p, pu, "name"));
	assert_true(is_mandatory(p, pu, "address"));
	assert_true(is_mandatory(p, pu, "phone"));
	assert_false(is_mandatory(p, pu, "cpr"));
	assert_false(is_mandatory(p, pu, "email"));
}

static void
test_CEK_RIGHTS_1_all_rights(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	assert_int_equal(p->rights, ALL_RIGHTS);
	/* Unconditional objection: every marketing purpose is marked direct
	 * marketing. */
	assert_true(purp(p, "marketing_consent")->direct_marketing);
	assert_true(purp(p, "marketing_post")->direct_marketing);
}

/* CEK-COMPLAIN-1: complaints to the customer service manager; if
 * dissatisfied with the answer, to Datatilsynet (datatilsynet.dk). */
static void
test_CEK_COMPLAIN_1_customer_service_manager_then_authority(void **state)
{
	(void)state;
	const struct policy *p = pol(CEK);
	const char *c = p->controller.complaints;
	assert_contains(c, "kundeservicechef");
	assert_contains(c, "Datatilsynet");
	assert_contains(c, "mail@cekura.dk");
	/* First the customer service manager, then the authority. */
	assert_true(strstr(c, "kundeservicechef") < strstr(c, "Datatilsynet"));
	assert_dk_authority(p);
	(void)role(p, "customer_service_manager");
}

/* ------------------------------------------------------------------ */
/* TEL -- Telenor                                                     */
/* ------------------------------------------------------------------ */

static void
test_TEL_CAT_1_self_provided(void **state)
{
	(void)state;
	const struct policy *p = pol(TEL);
	static const char *const ids[] = {
	        "name",          "address",
	        "email",         "phone",
	        "cpr",           "payment_details",
	        "contract_type", "customer_service_contacts",
	};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		assert_int_equal(cat(p, ids[i])->source, SOURCE_SUBJECT);
	assert_int_equal(cat(p, "cpr")->identifier, ID_CPR);
	assert_true(uses(p, "contract", "payment_details"));
	assert_true(uses(p, "contract", "contract_type"));
}

/* TEL-CAT-2: collected automatically: usage including the calls made, and
 * the phone's location (the mast it is attached to), to run and
 * troubleshoot the network and to meet the logging duty. */
static void
test_TEL_CAT_2_automatic_usage_and_location(void **state)
{
	(void)state;
	const struct policy *p = pol(TEL);
	assert_int_equal(cat(p, "usage")->source, SOURCE_AUTOMATIC);
	assert_int_equal(cat(p, "location")->source, SOURCE_AUTOMATIC);
	assert_int_equal(cat(p, "logging_data")->source, SOURCE_AUTOMATIC);
	/* Issue 18: kept in the retained-data store, not as facts. */
	assert_true(cat(p, "logging_data")->traffic);
	assert_true(p->traffic.declared);
	assert_string_equal(p->purposes[p->traffic.purpose].id,
	                    "data_retention_logging");
	assert_int_equal(p->traffic.period.count, 1);
	assert_int_equal(p->traffic.period.unit, PERIOD_YEARS);
	assert_ptr_equal(&p->recipients[p->traffic.recipient],
	                 rcpt(p, "police"));
	for (size_t i = 0; i < p->traffic.ningest; i++)
		assert_true(p->roles[p->traffic.ingest[i]].cleared);
	assert_contains(cat(p, "usage")->description, "opkald");
	assert_contains(cat(p, "location")->description, "mast");
	/* To run and troubleshoot the network ... */
	assert_true(uses(p, "network_operation", "location"));
	assert_true(uses(p, "network_operation", "usage"));
	assert_true(role_has(p, role(p, "network_operations"),
	                     "network_operation"));
	/* ... and for the logging duty, a legal obligation. */
	assert_true(uses(p, "data_retention_logging", "logging_data"));
	assert_int_equal(purp(p, "data_retention_logging")->basis, BASIS_C);
	/* The location is not marketing material. */
	assert_false(uses(p, "marketing", "location"));
}

static void
test_TEL_CAT_3_third_party_sources_recorded(void **state)
{
	(void)state;
	const struct policy *p = pol(TEL);
	const struct policy_category *cr = cat(p, "credit_rating");
	assert_int_equal(cr->source, SOURCE_THIRD_PARTY);
	assert_contains(cr->source_party, "kreditoplysningsbureau");
	const struct policy_category *di = cat(p, "directory_info");
	assert_int_equal(di->source, SOURCE_THIRD_PARTY);
	assert_non_null(di->source_party);
	assert_true(strlen(di->source_party) > 0);
	assert_true(uses(p, "credit_check", "credit_rating"));
}

static void
test_TEL_LOG_1_logging_kept_1_year(void **state)
{
	(void)state;
	const struct policy *p = pol(TEL);
	const struct policy_retention *r = rule(p, "logging");
	assert_string_equal(r->clause, "TEL-LOG-1");
	assert_true(rule_has_category(p, r, "logging_data"));
	assert_int_equal(r->nanchors, 1);
	assert_string_equal(r->anchors[0], ANCHOR_COLLECTED);
	assert_period(r, 1, PERIOD_YEARS);
	assert_contains(r->legal_obligation, "Logningsbekendtgørelsen");
	const struct policy_purpose *pu = purp(p, "data_retention_logging");
	assert_int_equal(pu->basis, BASIS_C);
}

static void
test_TEL_LOG_2_only_cleared_staff_read_logging(void **state)
{
	(void)state;
	const struct policy *p = pol(TEL);
	const struct policy_purpose *pu = purp(p, "data_retention_logging");
	assert_true(pu->requires_clearance);
	/* The logging data is reachable only through clearance purposes. */
	long ld = policy_category_index(p, "logging_data");
	assert_true(ld >= 0);
	for (size_t i = 0; i < p->npurposes; i++)
		if (policy_purpose_uses(p, i, (size_t)ld))
			assert_true(p->purposes[i].requires_clearance);
	/* Only cleared roles list it, and there is one. */
	size_t cleared = 0;
	for (size_t i = 0; i < p->nroles; i++)
		if (role_has(p, &p->roles[i], "data_retention_logging")) {
			assert_true(p->roles[i].cleared);
			cleared++;
		}
	assert_true(cleared >= 1);
	assert_true(role(p, "logging_officer")->cleared);
	assert_false(role(p, "customer_service")->cleared);

	/* An uncleared role with the logging purpose is refused; the same
	 * role with clearance is accepted. */
	char *text = seed_text(TEL);
	char *bad = replace_once(text, "\nroles:\n",
	                         "\n"
	                         "roles:\n"
	                         "  intruder:\n"
	                         "    purposes: [data_retention_logging]\n");
	assert_int_equal(load_text(bad, 0), VAERN_E_INVALID);
	char *ok = replace_once(text, "\nroles:\n",
	                        "\n"
	                        "roles:\n"
	                        "  intruder:\n"
	                        "    cleared: true\n"
	                        "    purposes: [data_retention_logging]\n");
	assert_int_equal(load_text(ok, 1), VAERN_OK);
	free(ok);
	free(bad);
	free(text);
}

static void
test_TEL_LOG_3_police_only_on_court_order(void **state)
{
	(void)state;
	const struct policy *p = pol(TEL);
	const struct policy_recipient *r = rcpt(p, "police");
	assert_int_equal(r->type, RECIPIENT_AUTHORITY);
	assert_int_equal(r->needs, NEEDS_LEGAL_DEMAND);
	assert_string_equal(r->demand, "court_order");
	assert_int_equal(r->npurposes, 1);
	assert_true(rcpt_has_purpose(p, r, "data_retention_logging"));
	assert_int_equal(r->ncategories, 1);
	assert_true(rcpt_has_category(p, r, "logging_data"));
	/* No other recipient gets logging data. */
	for (size_t i = 0; i < p->nrecipients; i++)
		if (&p->recipients[i] != r)
			assert_false(rcpt_has_category(p, &p->recipients[i],
			                               "logging_data"));
}

static void
test_TEL_MKT_1_consent_marketing_and_service_messages(void **state)
{
	(void)state;
	const struct policy *p = pol(TEL);
	const struct policy_purpose *sm = purp(p, "service_messages");
	assert_true(sm->service_message);
	assert_false(sm->direct_marketing);
	assert_false(sm->basis & BASIS_A);
	const struct policy_purpose *m = purp(p, "marketing");
	assert_true(m->direct_marketing);
	assert_false(m->service_message);
	assert_int_equal(m->basis, BASIS_A);
	assert_true(m->nconsent_sources >= 1);
	/* Selected third parties, with the customer's permission only. */
	const struct policy_recipient *r = rcpt(p, "marketing_partners");
	assert_int_equal(r->type, RECIPIENT_THIRD_PARTY);
	assert_int_equal(r->needs, NEEDS_CONSENT);
	assert_true(rcpt_has_purpose(p, r, "marketing"));
	/* Only the consent purpose is direct marketing. */
	for (size_t i = 0; i < p->npurposes; i++)
		if (p->purposes[i].direct_marketing)
			assert_true(p->purposes[i].basis & BASIS_A);
}

static void
test_TEL_MKT_2_consents_kept_2_years_after_last_use(void **state)
{
	(void)state;
	const struct policy *p = pol(TEL);
	const struct policy_retention *r = rule(p, "marketing_consents");
	assert_string_equal(r->clause, "TEL-MKT-2");
	/* The consent ledger's records of the marketing consent ... */
	assert_int_equal(r->nconsents, 1);
	assert_int_equal(r->consents[0], policy_purpose_index(p, "marketing"));
	/* ... and the documentation facts, on the same clock: open while the
	 * consent runs, then 2 years from the later of its end and its last
	 * use. The dates: test_retention.c. */
	assert_true(rule_has_category(p, r, "marketing_consent_record"));
	assert_int_equal(r->nanchors, 3);
	assert_true(rule_has_anchor(r, ANCHOR_COLLECTED));
	assert_true(rule_has_anchor(r, "consent_end"));
	assert_true(rule_has_anchor(r, "consent_last_used"));
	assert_ends(p, "consent_end", "consent_given");
	assert_period(r, 2, PERIOD_YEARS);
	assert_int_equal(r->action, RETENTION_DELETE);
	assert_true(
	        uses(p, "consent_documentation", "marketing_consent_record"));

	/* A purpose that records no consent has no consent records. */
	char *text = seed_text(TEL);
	char *bad = replace_once(text, "    consents: [marketing]\n",
	                         "    consents: [statistics]\n");
	assert_int_equal(load_text(bad, 0), VAERN_E_INVALID);
	free(bad);
	free(text);
}

/* TEL-STAT-1: statistics and analyses for internal use, about e.g. sales,
 * services and network traffic. */
static void
test_TEL_STAT_1_internal_statistics(void **state)
{
	(void)state;
	const struct policy *p = pol(TEL);
	const struct policy_purpose *pu = purp(p, "statistics");
	assert_int_equal(pu->basis, BASIS_F);
	assert_non_null(pu->legitimate_interests);
	assert_contains(pu->legitimate_interests, "netværkstrafik");
	assert_contains(pu->description, "internt");
	assert_false(pu->direct_marketing);
	assert_true(role_has(p, role(p, "analytics"), "statistics"));
	assert_true(uses(p, "statistics", "usage"));
	assert_false(uses(p, "statistics", "logging_data"));
	assert_false(uses(p, "statistics", "cpr"));
	/* Internal: no recipient receives data for statistics. */
	for (size_t i = 0; i < p->nrecipients; i++)
		assert_false(
		        rcpt_has_purpose(p, &p->recipients[i], "statistics"));

	/* What survives the person for the statistics: the policy names it
	 * (contract type as is, postcode area, birth year); the rest of the
	 * customer data is deleted. */
	const struct policy_retention *r = rule(p, "customer_data");
	assert_int_equal(r->action, RETENTION_ANONYMISE);
	assert_int_equal(r->nkeep, 3);
	static const struct {
		const char *category;
		enum generalise as;
	} keep[] = {
	        {"contract_type", GENERALISE_AS_IS},
	        {"postcode", GENERALISE_AREA},
	        {"birth_date", GENERALISE_YEAR},
	};
	for (size_t i = 0; i < 3; i++) {
		long c = policy_category_index(p, keep[i].category);
		assert_true(c >= 0);
		assert_int_equal(r->keep[i], c);
		assert_int_equal(r->keep_as[i], keep[i].as);
		assert_true(uses(p, "statistics", keep[i].category));
	}
	assert_int_equal(cat(p, "birth_date")->format, FORMAT_DATE);

	/* A generalisation that does not fit the category is refused, and
	 * so is an identifier kept as is. */
	char *text = seed_text(TEL);
	static const char *const misfits[][2] = {
	        {"      birth_date: year\n", "      birth_date: area\n"},
	        {"      postcode: area\n", "      postcode: year\n"},
	        {"      contract_type: as_is\n", "      cpr: as_is\n"},
	};
	for (size_t i = 0; i < 3; i++) {
		char *bad = replace_once(text, misfits[i][0], misfits[i][1]);
		assert_int_equal(load_text(bad, 0), VAERN_E_INVALID);
		free(bad);
	}
	free(text);
}

static void
test_TEL_RET_1_only_as_long_as_needed_unless_law(void **state)
{
	(void)state;
	const struct policy *p = pol(TEL);
	const struct policy_retention *r = rule(p, "customer_data");
	assert_string_equal(r->clause, "TEL-RET-1");
	assert_int_equal(r->nanchors, 1);
	/* The text gives no period: bounded by the end of the relationship,
	 * kept while it runs (the period itself is the controller's to
	 * confirm). */
	assert_string_equal(r->anchors[0], "relationship_end");
	assert_ends(p, "relationship_end", "relationship_start");
	assert_null(r->legal_obligation);
	assert_true(rule_has_category(p, r, "cpr"));
	assert_true(rule_has_category(p, r, "location"));
	/* Longer only where a law requires it. */
	for (size_t i = 0; i < p->nretention; i++) {
		const struct policy_retention *x = &p->retention[i];
		if (x == r || strcmp(x->id, "marketing_consents") == 0)
			continue;
		assert_non_null(x->legal_obligation);
	}
	const struct policy_retention *b = rule(p, "bookkeeping");
	assert_string_equal(b->anchors[0], ANCHOR_FINANCIAL_YEAR_END);
	assert_period(b, 5, PERIOD_YEARS);
	assert_contains(b->legal_obligation, "Bogføringsloven");
}

/* ------------------------------------------------------------------ */

static int
teardown_all(void **state)
{
	(void)state;
	for (int s = 0; s < NSEEDS; s++) {
		policy_free(loaded[s]);
		loaded[s] = NULL;
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_example_loads),
	        cmocka_unit_test(test_AURA_controller_identity),
	        cmocka_unit_test(test_AOPT_controller_identity),
	        cmocka_unit_test(test_SHOP_controller_identity_placeholder_cvr),
	        cmocka_unit_test(test_CEK_controller_identity),
	        cmocka_unit_test(test_TEL_controller_identity),
	        cmocka_unit_test(
	                test_seeds_every_category_has_one_general_retention_rule),

	        cmocka_unit_test(
	                test_AURA_LOGIN_1_username_or_installation_and_contract),
	        cmocka_unit_test(
	                test_AURA_PORTAL_2_product_change_under_contract),
	        cmocka_unit_test(
	                test_AURA_COOKIE_1_automatic_data_after_cookie_consent),
	        cmocka_unit_test(test_AURA_RET_1_cookie_data_24_months),
	        cmocka_unit_test(
	                test_AURA_SHARE_1_need_to_know_processors_and_law_only),
	        cmocka_unit_test(test_AURA_XFER_1_transfer_needs_safeguard),
	        cmocka_unit_test(test_AURA_RIGHTS_1_all_six_rights),
	        cmocka_unit_test(
	                test_AURA_COMPLAIN_1_controller_or_datatilsynet),
	        cmocka_unit_test(test_AURA_VER_1_version_2021_03_23),

	        cmocka_unit_test(test_AOPT_CAT_1_categories),
	        cmocka_unit_test(test_AOPT_PURP_1_purposes_and_bases),
	        cmocka_unit_test(test_AOPT_MKT_1_newsletter_needs_consent),
	        cmocka_unit_test(
	                test_AOPT_SHARE_1_processors_under_agreement_never_sold),
	        cmocka_unit_test(
	                test_AOPT_CUST_1_customer_while_any_relation_runs),
	        cmocka_unit_test(
	                test_AOPT_RET_1_three_years_from_latest_contact),
	        cmocka_unit_test(test_AOPT_RET_2_bookkeeping_7_years),
	        cmocka_unit_test(
	                test_AOPT_ERASE_1_bookkeeping_survives_erasure),
	        cmocka_unit_test(test_AOPT_COMPLAIN_1_swedish_authority),

	        cmocka_unit_test(
	                test_SHOP_RET_1_contact_form_2_years_from_last_contact),
	        cmocka_unit_test(test_SHOP_MKT_1_newsletter_until_unsubscribed),
	        cmocka_unit_test(
	                test_SHOP_RET_2_customers_5_years_from_relationship_end),
	        cmocka_unit_test(
	                test_SHOP_RET_3_direct_contact_5_years_from_last_contact),
	        cmocka_unit_test(test_SHOP_PAY_1_card_last4_and_expiry_only),
	        cmocka_unit_test(
	                test_SHOP_PAY_2_billing_prefill_and_gift_supplier),
	        cmocka_unit_test(
	                test_SHOP_SPECIAL_1_no_sensitive_data_without_consent),
	        cmocka_unit_test(
	                test_SHOP_MKT_2_marketing_sharing_only_with_consent),
	        cmocka_unit_test(
	                test_SHOP_RIGHTS_1_rights_and_restriction_exceptions),
	        cmocka_unit_test(test_SHOP_BREACH_1_reports_anonymous_allowed),

	        cmocka_unit_test(test_CEK_CAT_1_categories),
	        cmocka_unit_test(
	                test_CEK_SPECIAL_1_special_only_given_and_consented),
	        cmocka_unit_test(
	                test_CEK_CONTACT_1_contact_persons_and_data_about_others),
	        cmocka_unit_test(test_CEK_PURP_1_customer_admin_b_and_f),
	        cmocka_unit_test(test_CEK_PURP_2_marketing_consent_and_post),
	        cmocka_unit_test(
	                test_CEK_PURP_3_digital_services_legitimate_interest),
	        cmocka_unit_test(
	                test_CEK_PURP_4_call_recording_legitimate_interest),
	        cmocka_unit_test(test_CEK_SHARE_1_only_by_prior_agreement),
	        cmocka_unit_test(test_CEK_XFER_1_no_transfers),
	        cmocka_unit_test(
	                test_CEK_RET_1_two_months_after_relationship_or_dialogue),
	        cmocka_unit_test(test_CEK_RET_2_bookkeeping_5y_from_fy_end),
	        cmocka_unit_test(test_CEK_RET_3_marketing_records_1_year),
	        cmocka_unit_test(
	                test_CEK_RET_4_calls_2_months_after_subscription_end),
	        cmocka_unit_test(test_CEK_RET_5_competitions_1_year_after_end),
	        cmocka_unit_test(
	                test_CEK_HOLD_1_dispute_documentation_while_restricted),
	        cmocka_unit_test(test_CEK_MAND_1_name_address_phone_mandatory),
	        cmocka_unit_test(test_CEK_RIGHTS_1_all_rights),
	        cmocka_unit_test(
	                test_CEK_COMPLAIN_1_customer_service_manager_then_authority),

	        cmocka_unit_test(test_TEL_CAT_1_self_provided),
	        cmocka_unit_test(test_TEL_CAT_2_automatic_usage_and_location),
	        cmocka_unit_test(test_TEL_CAT_3_third_party_sources_recorded),
	        cmocka_unit_test(test_TEL_LOG_1_logging_kept_1_year),
	        cmocka_unit_test(
	                test_TEL_LOG_2_only_cleared_staff_read_logging),
	        cmocka_unit_test(test_TEL_LOG_3_police_only_on_court_order),
	        cmocka_unit_test(
	                test_TEL_MKT_1_consent_marketing_and_service_messages),
	        cmocka_unit_test(
	                test_TEL_MKT_2_consents_kept_2_years_after_last_use),
	        cmocka_unit_test(test_TEL_STAT_1_internal_statistics),
	        cmocka_unit_test(
	                test_TEL_RET_1_only_as_long_as_needed_unless_law),
	};
	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
