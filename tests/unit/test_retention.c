/*
 * test_retention.c -- due dates of facts and consent records, and the
 * generalisations that survive anonymisation (src/retention).
 *
 * One test per retention clause of CLAUSES.md, each a table of concrete
 * cases computed on the real seed policies (the files in policies/, found
 * through VAERN_SOURCE_ROOT, set by meson): a category, its collection time,
 * the subject's events, and the due day expected (or "never" with what the fact
 * waits for). Every dated case is also swept the day before its due day (kept)
 * and on it (due). Month ends clamp: 31 December + 2 months is due 28 February
 * (29 in a leap year).
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

#include "calendar/calendar.h"
#include "policy/policy.h"
#include "retention/retention.h"

#define DAY 86400

/* ------------------------------------------------------------------ */
/* Loading                                                            */
/* ------------------------------------------------------------------ */

enum seed { AURA, AOPT, SHOP, CEK, TEL, NSEEDS };

static const char *const seed_file[NSEEDS] = {
        "aura-fiber.yaml", "aurora-optimal.yaml", "webshop.yaml",
        "cekura.yaml",     "telenor.yaml",
};

static struct policy *loaded[NSEEDS];

static void
print_diags(const char *what, const struct policy_diags *d)
{
	for (size_t i = 0; i < d->count; i++)
		print_error("%s:%u:%u: %s\n", what, d->items[i].line,
		            d->items[i].column, d->items[i].message);
}

/* The compiled seed policy s, loaded once. */
static const struct policy *
pol(enum seed s)
{
	static struct policy_diags diags;
	const char *root = getenv("VAERN_SOURCE_ROOT");
	struct policy *p = NULL;
	char path[4096];
	int n;

	if (loaded[s] != NULL)
		return loaded[s];
	n = snprintf(path, sizeof(path), "%s/policies/%s",
	             root != NULL && *root != '\0' ? root : ".", seed_file[s]);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	if (policy_load_file(path, &p, &diags) != VAERN_OK) {
		print_diags(path, &diags);
		fail_msg("%s refused", path);
	}
	loaded[s] = p;
	return p;
}

/* A policy from text; the caller frees it. */
static struct policy *
pol_text(const char *text)
{
	static struct policy_diags diags;
	struct policy *p = NULL;

	if (policy_load_buffer(text, strlen(text), &p, &diags) != VAERN_OK) {
		print_diags("(inline)", &diags);
		fail_msg("inline policy refused");
	}
	return p;
}

/* ------------------------------------------------------------------ */
/* Cases                                                              */
/* ------------------------------------------------------------------ */

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" as seconds. */
static int64_t
at(const char *text)
{
	int64_t t;

	if (cal_parse_instant(text, &t, NULL) != VAERN_OK)
		fail_msg("bad instant in the test: %s", text);
	return t;
}

#define NEVER   NULL /* due: not determined */
#define MAX_OCC 6

struct occurrence {
	const char *event; /* an event id of the policy */
	const char *at;    /* instant */
};

struct fact_case {
	const char *what;     /* the situation, for the failure message */
	const char *category; /* a category id */
	const char *collected;
	struct occurrence events[MAX_OCC];
	const char *due;  /* "YYYY-MM-DD", or NEVER */
	const char *rule; /* the deciding rule's id */
	enum retention_wait wait;
	const char *event; /* awaited or open event, or NULL */
	int legal;         /* any holding rule is a legal obligation */
};

/* Runs the cases on p: expiry, deciding rule, wait, and the sweep the
 * day before the due day (kept) and on it (due). */
static void
run_cases(const struct policy *p, const struct fact_case *cases, size_t n)
{
	size_t failures = 0;

	for (size_t i = 0; i < n; i++) {
		const struct fact_case *c = &cases[i];
		struct retention_event ev[MAX_OCC];
		struct retention_result r;
		size_t nev = 0;
		long cat = policy_category_index(p, c->category);
		int64_t want = c->due != NULL ? at(c->due) : RETENTION_NEVER;
		const char *rule_id;
		int ok;

		assert_true(cat >= 0);
		for (size_t j = 0; j < MAX_OCC && c->events[j].event; j++) {
			long e = policy_event_index(p, c->events[j].event);

			if (e < 0)
				fail_msg("%s: no event %s", c->what,
				         c->events[j].event);
			ev[nev].event = (size_t)e;
			ev[nev].at = at(c->events[j].at);
			nev++;
		}
		assert_int_equal(retention_fact_expiry(p, (size_t)cat,
		                                       at(c->collected), ev,
		                                       nev, &r),
		                 VAERN_OK);
		rule_id = r.rule >= 0 ? p->retention[r.rule].id : "(none)";
		ok = r.expires_at == want && strcmp(rule_id, c->rule) == 0 &&
		     r.wait == c->wait && r.legal == c->legal &&
		     (c->event == NULL
		              ? r.event == -1
		              : r.event == policy_event_index(p, c->event));
		if (want != RETENTION_NEVER) {
			/* A sweep as of the day before keeps it. */
			ok = ok && !retention_is_due(&r, want - DAY) &&
			     !retention_is_due(&r, want - 1) &&
			     retention_is_due(&r, want) &&
			     retention_is_due(&r, want + DAY);
		} else {
			ok = ok && !retention_is_due(&r, INT64_MAX - 1);
		}
		if (!ok) {
			char got[21] = "never";

			if (r.expires_at != RETENTION_NEVER)
				cal_format_instant(r.expires_at, got);
			print_error("FAIL %s (%s): got %s by rule %s, wait %d, "
			            "event %ld, legal %d; want %s by %s\n",
			            c->what, c->category, got, rule_id,
			            (int)r.wait, r.event, r.legal,
			            c->due ? c->due : "never", c->rule);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

#define RUN(seed, cases)                                                       \
	run_cases(pol(seed), (cases), sizeof(cases) / sizeof((cases)[0]))

/* ------------------------------------------------------------------ */
/* AURA                                                               */
/* ------------------------------------------------------------------ */

/* AURA-RET-1: cookie-collected data is kept at most 24 months. Collected
 * 2024-03-15 it is due 2026-03-15: a sweep as of 2026-03-14 keeps it. */
static void
test_AURA_RET_1_cookie_data_due_24_months_after_collection(void **state)
{
	static const struct fact_case cases[] = {
	        {"collected mid-day: due at the next midnight after 24 months "
	         "(TEL-LOG-1 rule)",
	         "ip_address",
	         "2024-03-15T10:30:00Z",
	         {{0}},
	         "2026-03-16",
	         "cookie_data",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"collected on a leap day: 28 February 24 months later ends at "
	         "its midnight",
	         "visit_statistics",
	         "2024-02-29T23:59:59Z",
	         {{0}},
	         "2026-03-01",
	         "cookie_data",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        /* Events of the subject do not move a collected anchor. */
	        {"an event does not matter",
	         "visit_statistics",
	         "2024-12-31",
	         {{"relationship_start", "2025-06-01"}},
	         "2026-12-31",
	         "cookie_data",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	};

	(void)state;
	RUN(AURA, cases);
}

/* ------------------------------------------------------------------ */
/* AOPT                                                               */
/* ------------------------------------------------------------------ */

/* AOPT-CUST-1: a customer while buying, paying by instalments,
 * subscribing, using a product, or while a warranty runs: the 3 years of
 * AOPT-RET-1 do not run while one of those states runs; a warranty end
 * known at the sale (dated ahead) moves the start of the period. */
static void
test_AOPT_CUST_1_customer_while_a_state_runs_or_warranty_ahead(void **state)
{
	static const struct fact_case cases[] = {
	        {"a subscription runs: no date, though the last contact is "
	         "old",
	         "purchases",
	         "2023-05-01",
	         {{"subscription_start", "2023-05-01"},
	          {"last_contact", "2023-05-01"}},
	         NEVER,
	         "customer_data",
	         RETENTION_WAIT_OPEN,
	         "subscription_end",
	         0},
	        {"an instalment plan runs",
	         "name",
	         "2024-03-15",
	         {{"last_contact", "2024-03-15"},
	          {"instalment_start", "2024-03-15"}},
	         NEVER,
	         "customer_data",
	         RETENTION_WAIT_OPEN,
	         "instalment_end",
	         0},
	        {"a product is in use again after an earlier end",
	         "email",
	         "2020-01-10",
	         {{"product_use_start", "2020-01-10"},
	          {"product_use_end", "2021-01-10"},
	          {"product_use_start", "2024-06-01"}},
	         NEVER,
	         "customer_data",
	         RETENTION_WAIT_OPEN,
	         "product_use_end",
	         0},
	        {"the subscription ended after the last contact",
	         "purchases",
	         "2023-05-01",
	         {{"subscription_start", "2023-05-01"},
	          {"last_contact", "2024-01-10"},
	          {"subscription_end", "2024-06-30"}},
	         "2027-06-30",
	         "customer_data",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"the warranty ends in the future: 3 years from its end",
	         "purchases",
	         "2024-03-15",
	         {{"last_contact", "2024-03-15"},
	          {"warranty_end", "2027-03-15"}},
	         "2030-03-15",
	         "customer_data",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"a later contact after the warranty ended",
	         "phone",
	         "2019-03-15",
	         {{"warranty_end", "2021-03-15"},
	          {"last_contact", "2022-08-31"}},
	         "2025-08-31",
	         "customer_data",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	};

	(void)state;
	RUN(AOPT, cases);
}

/* AOPT-RET-1: normally at most 3 years from the latest customer contact. */
static void
test_AOPT_RET_1_three_years_from_latest_contact(void **state)
{
	static const struct fact_case cases[] = {
	        {"the latest of two contacts",
	         "name",
	         "2024-01-05",
	         {{"last_contact", "2024-01-05"},
	          {"last_contact", "2024-03-15T12:00:00Z"}},
	         "2027-03-16",
	         "customer_data",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"a contact on a leap day",
	         "customer_service_log",
	         "2024-02-29",
	         {{"last_contact", "2024-02-29"}},
	         "2027-02-28",
	         "customer_data",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"no contact recorded: 3 years from its collection (issue 10)",
	         "personnummer",
	         "2024-03-15",
	         {{0}},
	         "2027-03-15",
	         "customer_data",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	};

	(void)state;
	RUN(AOPT, cases);
}

/* AOPT-RET-2: bookkeeping data 7 years (Bokföringslagen): from the day
 * after the financial year of collection (31 December). The customer
 * number is held by both rules: the later expiry, the law's, wins; an
 * open relationship still beats it. */
static void
test_AOPT_RET_2_bookkeeping_7_years_outlasts_customer_rule(void **state)
{
	static const struct fact_case cases[] = {
	        {"a record of FY 2024",
	         "bookkeeping_records",
	         "2024-03-15",
	         {{0}},
	         "2032-01-01",
	         "bookkeeping",
	         RETENTION_WAIT_NONE,
	         NULL,
	         1},
	        {"the last second of FY 2024",
	         "bookkeeping_records",
	         "2024-12-31T23:59:59Z",
	         {{0}},
	         "2032-01-01",
	         "bookkeeping",
	         RETENTION_WAIT_NONE,
	         NULL,
	         1},
	        {"customer number: 3 years after contact < 7 years of law",
	         "customer_number",
	         "2024-03-15",
	         {{"last_contact", "2024-05-01"}},
	         "2032-01-01",
	         "bookkeeping",
	         RETENTION_WAIT_NONE,
	         NULL,
	         1},
	        {"customer number of a customer who stayed 9 years",
	         "customer_number",
	         "2016-03-15",
	         {{"last_contact", "2025-05-01"}},
	         "2028-05-01",
	         "customer_data",
	         RETENTION_WAIT_NONE,
	         NULL,
	         1},
	        {"customer number while subscribing",
	         "customer_number",
	         "2024-03-15",
	         {{"subscription_start", "2024-03-15"}},
	         NEVER,
	         "customer_data",
	         RETENTION_WAIT_OPEN,
	         "subscription_end",
	         1},
	};
	const struct policy *p = pol(AOPT);
	struct retention_event ev = {
	        (size_t)policy_event_index(p, "last_contact"),
	        at("2024-05-01")};
	struct retention_result r;

	(void)state;
	RUN(AOPT, cases);
	/* GDPR-17, AOPT-ERASE-1: erasure waits for the legal rule only. */
	assert_int_equal(
	        retention_fact_expiry(
	                p, (size_t)policy_category_index(p, "customer_number"),
	                at("2024-03-15"), &ev, 1, &r),
	        VAERN_OK);
	assert_int_equal(r.legal_until, at("2032-01-01"));
	assert_int_equal(retention_fact_expiry(
	                         p, (size_t)policy_category_index(p, "name"),
	                         at("2024-03-15"), &ev, 1, &r),
	                 VAERN_OK);
	assert_int_equal(r.legal, 0);
	assert_int_equal(r.legal_until, INT64_MIN);
}

/* ------------------------------------------------------------------ */
/* SHOP                                                               */
/* ------------------------------------------------------------------ */

/* SHOP-RET-1: contact-form data with no further relationship: 2 years
 * from the latest contact; a relationship that follows holds it. */
static void
test_SHOP_RET_1_contact_form_2_years_from_latest_contact(void **state)
{
	static const struct fact_case cases[] = {
	        {"no further relationship",
	         "contact_email",
	         "2024-03-15",
	         {{"last_contact", "2024-03-15T09:00:00Z"}},
	         "2026-03-16",
	         "contact_form",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"the person became a customer",
	         "contact_name",
	         "2024-03-15",
	         {{"last_contact", "2024-03-15"},
	          {"relationship_start", "2024-04-01"}},
	         NEVER,
	         "contact_form",
	         RETENTION_WAIT_OPEN,
	         "relationship_end",
	         0},
	        {"the relationship that followed ended",
	         "contact_phone",
	         "2024-03-15",
	         {{"last_contact", "2024-03-15"},
	          {"relationship_start", "2024-04-01"},
	          {"relationship_end", "2025-01-31"}},
	         "2027-01-31",
	         "contact_form",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	};

	(void)state;
	RUN(SHOP, cases);
}

/* SHOP-RET-2: customer data 5 years from the end of the relationship;
 * kept while it runs, also when a former customer returns. */
static void
test_SHOP_RET_2_customers_5_years_after_relationship_end(void **state)
{
	static const struct fact_case cases[] = {
	        {"the relationship ended 31 December",
	         "customer_name",
	         "2020-01-01",
	         {{"relationship_start", "2020-01-01"},
	          {"relationship_end", "2024-12-31T15:00:00Z"}},
	         "2030-01-01",
	         "customers",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"a former customer returned",
	         "billing_address",
	         "2020-01-01",
	         {{"relationship_start", "2020-01-01"},
	          {"relationship_end", "2024-12-31"},
	          {"relationship_start", "2025-06-01"}},
	         NEVER,
	         "customers",
	         RETENTION_WAIT_OPEN,
	         "relationship_end",
	         0},
	        {"an end recorded without a start",
	         "orders",
	         "2024-02-29",
	         {{"relationship_end", "2024-02-29"}},
	         "2029-02-28",
	         "customers",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"no relationship recorded: waiting for its end",
	         "card_last4_expiry",
	         "2024-03-15",
	         {{0}},
	         NEVER,
	         "customers",
	         RETENTION_WAIT_EVENT,
	         "relationship_end",
	         0},
	};

	(void)state;
	RUN(SHOP, cases);
}

/* SHOP-RET-3: other direct contact: up to 5 years from the latest
 * contact. */
static void
test_SHOP_RET_3_direct_contact_5_years_from_latest_contact(void **state)
{
	static const struct fact_case cases[] = {
	        {"a phone call",
	         "direct_contact_notes",
	         "2024-10-31",
	         {{"last_contact", "2024-10-31"}},
	         "2029-10-31",
	         "direct_contact",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"contacted on a leap day, then again",
	         "direct_contact_phone",
	         "2023-01-01",
	         {{"last_contact", "2023-01-01"},
	          {"last_contact", "2024-02-29"}},
	         "2029-02-28",
	         "direct_contact",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"a customer now",
	         "direct_contact_email",
	         "2024-01-01",
	         {{"last_contact", "2024-01-01"},
	          {"relationship_start", "2024-02-01"}},
	         NEVER,
	         "direct_contact",
	         RETENTION_WAIT_OPEN,
	         "relationship_end",
	         0},
	};

	(void)state;
	RUN(SHOP, cases);
}

/* ------------------------------------------------------------------ */
/* CEK                                                                */
/* ------------------------------------------------------------------ */

/* CEK-RET-1: up to 2 months after the customer relationship or the
 * dialogue ends. A customer still is never due because of an old
 * dialogue. */
static void
test_CEK_RET_1_two_months_after_relationship_end(void **state)
{
	static const struct fact_case cases[] = {
	        {"ended 31 December: due at the end of February",
	         "name",
	         "2020-05-01",
	         {{"relationship_start", "2020-05-01"},
	          {"relationship_end", "2024-12-31T16:00:00Z"}},
	         "2025-03-01",
	         "general",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"still a customer, with an earlier dialogue",
	         "address",
	         "2023-01-01",
	         {{"relationship_start", "2023-01-01"},
	          {"last_contact", "2024-06-01"}},
	         NEVER,
	         "general",
	         RETENTION_WAIT_OPEN,
	         "relationship_end",
	         0},
	        {"a customer again after an earlier end",
	         "cpr",
	         "2019-01-01",
	         {{"relationship_start", "2019-01-01"},
	          {"relationship_end", "2021-01-01"},
	          {"last_contact", "2021-01-02"},
	          {"relationship_start", "2024-01-01"}},
	         NEVER,
	         "general",
	         RETENTION_WAIT_OPEN,
	         "relationship_end",
	         0},
	        {"a dialogue only, ended 31 August",
	         "email",
	         "2024-08-01",
	         {{"last_contact", "2024-08-31"}},
	         "2024-10-31",
	         "general",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"a dialogue ended 31 December 2023: leap-year February",
	         "phone",
	         "2023-12-01",
	         {{"last_contact", "2023-12-31"}},
	         "2024-02-29",
	         "general",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"a dialogue after the relationship ended",
	         "health",
	         "2022-01-01",
	         {{"relationship_start", "2022-01-01"},
	          {"relationship_end", "2024-12-31"},
	          {"last_contact", "2025-01-15"}},
	         "2025-03-15",
	         "general",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	};

	(void)state;
	RUN(CEK, cases);
}

/* CEK-RET-2: bookkeeping data 5 years from the end of the financial
 * year: FY 2024 (31 December) is due 2030-01-01. Payment details and the
 * customer number are held by the general rule too: the law's 5 years
 * outlast its 2 months. */
static void
test_CEK_RET_2_bookkeeping_5y_from_fy_end_outlasts_general(void **state)
{
	static const struct fact_case cases[] = {
	        {"an invoice of FY 2024",
	         "bookkeeping_records",
	         "2024-03-15",
	         {{0}},
	         "2030-01-01",
	         "bookkeeping",
	         RETENTION_WAIT_NONE,
	         NULL,
	         1},
	        {"an invoice of the first second of FY 2025",
	         "bookkeeping_records",
	         "2025-01-01T00:00:00Z",
	         {{0}},
	         "2031-01-01",
	         "bookkeeping",
	         RETENTION_WAIT_NONE,
	         NULL,
	         1},
	        {"payment details: 2 months after the end < 5 years of law",
	         "payment_details",
	         "2024-03-15",
	         {{"relationship_start", "2024-03-01"},
	          {"relationship_end", "2024-10-31"}},
	         "2030-01-01",
	         "bookkeeping",
	         RETENTION_WAIT_NONE,
	         NULL,
	         1},
	        {"customer number of a customer still",
	         "customer_number",
	         "2018-03-15",
	         {{"relationship_start", "2018-03-15"}},
	         NEVER,
	         "general",
	         RETENTION_WAIT_OPEN,
	         "relationship_end",
	         1},
	        {"customer number, relationship ended long after collection",
	         "customer_number",
	         "2018-03-15",
	         {{"relationship_start", "2018-03-15"},
	          {"relationship_end", "2025-06-30"}},
	         "2025-08-30",
	         "general",
	         RETENTION_WAIT_NONE,
	         NULL,
	         1},
	};

	(void)state;
	RUN(CEK, cases);
}

/* A compact policy whose financial year ends 30 June, and one ending on
 * the last day of February (29 February in a leap year). */
static const char fy_policy[] =
        "vaern: 1\n"
        "controller:\n"
        "  id: fy\n"
        "  name: FY ApS\n"
        "  country: DK\n"
        "  registration: \"21628549\"\n"
        "  authority: {name: Datatilsynet}\n"
        "  policy_version: 2026-01-01\n"
        "  financial_year_end: 06-30\n"
        "categories:\n"
        "  invoices: {source: controller}\n"
        "purposes:\n"
        "  bookkeeping: {basis: c, categories: [invoices]}\n"
        "retention:\n"
        "  bookkeeping:\n"
        "    categories: [invoices]\n"
        "    anchor: financial_year_end\n"
        "    period: 5 years\n"
        "    legal_obligation: Bogføringsloven § 10\n"
        "transfers: none\n"
        "roles:\n"
        "  bookkeeper: {purposes: [bookkeeping]}\n";

/* CEK-RET-2 for a controller whose financial year does not end in
 * December (no seed has one): the year in which the fact was collected,
 * and the period from the day after its end. */
static void
test_CEK_RET_2_financial_year_not_ending_in_december(void **state)
{
	static const struct {
		const char *fy_end, *collected, *due;
	} cases[] = {
	        {"06-30", "2024-03-15", "2029-07-01"},
	        {"06-30", "2024-06-30T23:59:59Z", "2029-07-01"},
	        {"06-30", "2024-07-01", "2030-07-01"},
	        /* The end of February ends the year in a leap year too. */
	        {"02-28", "2024-02-29", "2029-03-01"},
	        {"02-28", "2023-03-01", "2029-03-01"},
	        {"02-28", "2025-02-28", "2030-03-01"},
	        {"09-15", "2024-09-16", "2030-09-16"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[sizeof(fy_policy)];
		char *fy;
		struct policy *p;
		struct retention_result r;

		memcpy(text, fy_policy, sizeof(fy_policy));
		fy = strstr(text, "06-30");
		assert_non_null(fy);
		memcpy(fy, cases[i].fy_end, 5);
		p = pol_text(text);
		assert_int_equal(retention_fact_expiry(p, 0,
		                                       at(cases[i].collected),
		                                       NULL, 0, &r),
		                 VAERN_OK);
		if (r.expires_at != at(cases[i].due))
			fail_msg("FY end %s, collected %s: want %s",
			         cases[i].fy_end, cases[i].collected,
			         cases[i].due);
		assert_int_equal(r.legal, 1);
		assert_int_equal(r.rule, 0);
		policy_free(p);
	}
}

/* CEK-RET-3: marketing-material records up to 1 year after registration
 * (the fact's collection). */
static void
test_CEK_RET_3_marketing_records_1_year_after_registration(void **state)
{
	static const struct fact_case cases[] = {
	        {"registered on a leap day",
	         "marketing_material",
	         "2024-02-29T08:00:00Z",
	         {{0}},
	         "2025-03-01",
	         "marketing_material",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"a customer still: registration decides, not the customer",
	         "marketing_material",
	         "2024-03-15",
	         {{"relationship_start", "2020-01-01"}},
	         "2025-03-15",
	         "marketing_material",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	};

	(void)state;
	RUN(CEK, cases);
}

/* CEK-RET-4: call recordings while a customer, up to 2 months after the
 * subscription ends. */
static void
test_CEK_RET_4_calls_while_subscribed_then_2_months(void **state)
{
	static const struct fact_case cases[] = {
	        {"the subscription runs",
	         "call_recordings",
	         "2024-05-01",
	         {{"subscription_start", "2023-01-01"},
	          {"last_contact", "2024-05-01"}},
	         NEVER,
	         "call_recordings",
	         RETENTION_WAIT_OPEN,
	         "subscription_end",
	         0},
	        {"terminated 31 December",
	         "call_recordings",
	         "2024-05-01",
	         {{"subscription_start", "2023-01-01"},
	          {"subscription_end", "2024-12-31"}},
	         "2025-02-28",
	         "call_recordings",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"notice given: the end is dated ahead",
	         "call_recordings",
	         "2024-05-01",
	         {{"subscription_start", "2023-01-01"},
	          {"subscription_end", "2025-03-31"}},
	         "2025-05-31",
	         "call_recordings",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"never subscribed: waiting for a subscription's end",
	         "call_recordings",
	         "2024-05-01",
	         {{"last_contact", "2024-05-01"}},
	         NEVER,
	         "call_recordings",
	         RETENTION_WAIT_EVENT,
	         "subscription_end",
	         0},
	};

	(void)state;
	RUN(CEK, cases);
}

/* CEK-RET-5: competition entries up to 1 year after the competition
 * ends; the end may be known (dated ahead) when the entry is made. */
static void
test_CEK_RET_5_competition_entries_1_year_after_end(void **state)
{
	static const struct fact_case cases[] = {
	        {"the competition ends after the entry",
	         "competition_entries",
	         "2024-05-01",
	         {{"competition_end", "2024-06-30T22:00:00Z"}},
	         "2025-07-01",
	         "competitions",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"the end not yet recorded: 1 year from the entry (issue 10)",
	         "competition_entries",
	         "2024-05-01",
	         {{0}},
	         "2025-05-01",
	         "competitions",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	};

	(void)state;
	RUN(CEK, cases);
}

/* ------------------------------------------------------------------ */
/* TEL                                                                */
/* ------------------------------------------------------------------ */

/* TEL-MKT-2: marketing consents are kept as documentation while valid
 * and until 2 years after the later of their end and their last use;
 * the documentation facts follow the same clock. */
static void
test_TEL_MKT_2_consent_records_2_years_after_end_or_last_use(void **state)
{
	static const struct {
		const char *what;
		const char *withdrawn; /* NULL: still valid */
		const char *last_used; /* or the time it was given */
		const char *due;       /* NULL: never */
	} ledger[] = {
	        {"valid", NULL, "2024-03-01", NULL},
	        {"withdrawn after its last use", "2024-05-10T12:00:00Z",
	         "2024-03-01",
	         "2026-05-11"}, /* mid-day: the next midnight, issue 10 */
	        {"last used after the withdrawal was recorded", "2024-05-10",
	         "2024-08-01", "2026-08-01"},
	        {"never used, withdrawn on a leap day", "2024-02-29",
	         "2023-01-01", "2026-02-28"},
	};
	static const struct fact_case facts[] = {
	        {"documentation of a valid consent",
	         "marketing_consent_record",
	         "2023-01-01",
	         {{"consent_given", "2023-01-01"},
	          {"consent_last_used", "2024-03-01"}},
	         NEVER,
	         "marketing_consents",
	         RETENTION_WAIT_OPEN,
	         "consent_end",
	         0},
	        {"documentation of a withdrawn consent",
	         "marketing_consent_record",
	         "2023-01-01",
	         {{"consent_given", "2023-01-01"},
	          {"consent_last_used", "2024-03-01"},
	          {"consent_end", "2024-05-10"}},
	         "2026-05-10",
	         "marketing_consents",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"consent given again after a withdrawal",
	         "marketing_consent_record",
	         "2023-01-01",
	         {{"consent_given", "2023-01-01"},
	          {"consent_end", "2024-05-10"},
	          {"consent_given", "2025-01-01"}},
	         NEVER,
	         "marketing_consents",
	         RETENTION_WAIT_OPEN,
	         "consent_end",
	         0},
	};
	const struct policy *p = pol(TEL);
	size_t marketing = (size_t)policy_purpose_index(p, "marketing");
	struct retention_result r;

	(void)state;
	for (size_t i = 0; i < sizeof(ledger) / sizeof(ledger[0]); i++) {
		int64_t w = ledger[i].withdrawn ? at(ledger[i].withdrawn)
		                                : RETENTION_NEVER;

		assert_int_equal(
		        retention_consent_expiry(p, marketing, w,
		                                 at(ledger[i].last_used), &r),
		        VAERN_OK);
		if (ledger[i].due == NULL) {
			assert_int_equal(r.expires_at, RETENTION_NEVER);
			assert_int_equal(r.wait, RETENTION_WAIT_CONSENT);
		} else {
			if (r.expires_at != at(ledger[i].due))
				fail_msg("%s: want %s", ledger[i].what,
				         ledger[i].due);
			assert_int_equal(r.wait, RETENTION_WAIT_NONE);
			assert_false(
			        retention_is_due(&r, at(ledger[i].due) - DAY));
			assert_true(retention_is_due(&r, at(ledger[i].due)));
		}
		assert_string_equal(p->retention[r.rule].id,
		                    "marketing_consents");
		assert_int_equal(r.action, RETENTION_DELETE);
	}
	/* A purpose whose consent records no rule holds (none has any). */
	assert_int_equal(retention_consent_expiry(
	                         p, (size_t)policy_purpose_index(p, "contract"),
	                         at("2024-05-10"), at("2024-03-01"), &r),
	                 VAERN_E_NOTFOUND);
	assert_int_equal(r.expires_at, RETENTION_NEVER);
	assert_int_equal(r.rule, -1);
	RUN(TEL, facts);
}

/* TEL-RET-1: kept only as long as the purpose needs (while a customer,
 * then anonymised at the end), unless a law requires longer (logging 1
 * year, bookkeeping 5 years). */
static void
test_TEL_RET_1_as_long_as_needed_unless_law_requires_longer(void **state)
{
	static const struct fact_case cases[] = {
	        {"a customer still",
	         "name",
	         "2020-01-01",
	         {{"relationship_start", "2020-01-01"}},
	         NEVER,
	         "customer_data",
	         RETENTION_WAIT_OPEN,
	         "relationship_end",
	         0},
	        {"the relationship ended: due on its day (0 days)",
	         "cpr",
	         "2020-01-01",
	         {{"relationship_start", "2020-01-01"},
	          {"relationship_end", "2024-03-15T16:00:00Z"}},
	         "2024-03-16",
	         "customer_data",
	         RETENTION_WAIT_NONE,
	         NULL,
	         0},
	        {"logging data: 1 year, by law",
	         "logging_data",
	         "2024-03-15T20:00:00Z",
	         {{"relationship_start", "2020-01-01"}},
	         "2025-03-16",
	         "logging",
	         RETENTION_WAIT_NONE,
	         NULL,
	         1},
	        {"invoices: 5 years from FY end, by law",
	         "invoices",
	         "2024-03-15",
	         {{"relationship_start", "2020-01-01"},
	          {"relationship_end", "2024-03-15"}},
	         "2030-01-01",
	         "bookkeeping",
	         RETENTION_WAIT_NONE,
	         NULL,
	         1},
	};
	const struct policy *p = pol(TEL);
	struct retention_event ev[2];
	struct retention_result r;

	(void)state;
	RUN(TEL, cases);
	/* At the end the customer data is anonymised, not deleted whole. */
	ev[0].event = (size_t)policy_event_index(p, "relationship_start");
	ev[0].at = at("2020-01-01");
	ev[1].event = (size_t)policy_event_index(p, "relationship_end");
	ev[1].at = at("2024-03-15");
	assert_int_equal(retention_fact_expiry(
	                         p, (size_t)policy_category_index(p, "address"),
	                         at("2020-01-01"), ev, 2, &r),
	                 VAERN_OK);
	assert_int_equal(r.action, RETENTION_ANONYMISE);
}

/* TEL-STAT-1: what survives anonymisation for the internal statistics is
 * what the policy names: the contract type as is, the postcode's area,
 * the birth year; everything else of the customer is deleted. */
static void
test_TEL_STAT_1_survivors_and_generalisation(void **state)
{
	static const struct {
		enum generalise kind;
		const char *value;
		const char *asof; /* age band only */
		enum vaern_err err;
		const char *out;
	} cases[] = {
	        {GENERALISE_YEAR, "1984-07-09", NULL, VAERN_OK, "1984"},
	        {GENERALISE_YEAR, " 1984-07-09\t", NULL, VAERN_OK, "1984"},
	        {GENERALISE_YEAR, "2024-02-29", NULL, VAERN_OK, "2024"},
	        {GENERALISE_YEAR, "2023-02-29", NULL, VAERN_E_INVALID, ""},
	        {GENERALISE_YEAR, "84-07-09", NULL, VAERN_E_INVALID, ""},
	        {GENERALISE_YEAR, "1984/07/09", NULL, VAERN_E_INVALID, ""},
	        {GENERALISE_YEAR, "1984-07-09T10:00:00Z", NULL, VAERN_E_INVALID,
	         ""},
	        {GENERALISE_YEAR, "", NULL, VAERN_E_INVALID, ""},
	        {GENERALISE_AREA, "8300", NULL, VAERN_OK, "83xx"},
	        {GENERALISE_AREA, "DK-2300", NULL, VAERN_OK, "23xx"},
	        {GENERALISE_AREA, "0800", NULL, VAERN_OK, "08xx"},
	        {GENERALISE_AREA, "123 45", NULL, VAERN_OK, "12xx"},
	        {GENERALISE_AREA, "12345", NULL, VAERN_OK, "12xx"},
	        {GENERALISE_AREA, "SE-831 30", NULL, VAERN_OK, "83xx"},
	        {GENERALISE_AREA, "S-83130", NULL, VAERN_OK, "83xx"},
	        {GENERALISE_AREA, "830", NULL, VAERN_E_INVALID, ""},
	        {GENERALISE_AREA, "023 45", NULL, VAERN_E_INVALID, ""},
	        {GENERALISE_AREA, "DK-123 45", NULL, VAERN_E_INVALID, ""},
	        {GENERALISE_AREA, "SE-8300", NULL, VAERN_E_INVALID, ""},
	        {GENERALISE_AREA, "8300 Odder", NULL, VAERN_E_INVALID, ""},
	        {GENERALISE_AREA, "Knudsminde 10, 8300 Odder", NULL,
	         VAERN_E_INVALID, ""},
	        {GENERALISE_AGE_BAND, "1990-07-15", "2024-07-14", VAERN_OK,
	         "30-39"},
	        {GENERALISE_AGE_BAND, "1990-07-15", "2030-07-14", VAERN_OK,
	         "30-39"},
	        {GENERALISE_AGE_BAND, "1990-07-15", "2030-07-15", VAERN_OK,
	         "40-49"},
	        {GENERALISE_AGE_BAND, "2020-01-01", "2024-01-01", VAERN_OK,
	         "0-9"},
	        {GENERALISE_AGE_BAND, "2020-01-01", "2020-01-01", VAERN_OK,
	         "0-9"},
	        {GENERALISE_AGE_BAND, "1920-05-01", "2024-05-01", VAERN_OK,
	         "100+"},
	        {GENERALISE_AGE_BAND, "1925-05-01", "2024-05-01", VAERN_OK,
	         "90-99"},
	        {GENERALISE_AGE_BAND, "2025-01-01", "2024-05-01",
	         VAERN_E_INVALID, ""},
	        {GENERALISE_AGE_BAND, "1990-13-01", "2024-05-01",
	         VAERN_E_INVALID, ""},
	        {GENERALISE_AS_IS, "postpaid 100 GB", NULL, VAERN_OK,
	         "postpaid 100 GB"},
	        {GENERALISE_DROP, "8300", NULL, VAERN_OK, ""},
	        {(enum generalise)42, "8300", NULL, VAERN_E_INVALID, ""},
	};
	const struct policy *p = pol(TEL);
	long rule = -1;
	char out[64];
	struct vaern_msg msg;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long asof = 0;
		enum vaern_err err;

		if (cases[i].asof != NULL)
			assert_int_equal(
			        cal_parse_date(cases[i].asof, &asof, NULL),
			        VAERN_OK);
		memset(out, 'X', sizeof(out));
		memset(&msg, 0, sizeof(msg));
		err = retention_generalise(cases[i].kind, cases[i].value, asof,
		                           out, sizeof(out), &msg);
		if (err != cases[i].err || strcmp(out, cases[i].out) != 0)
			fail_msg("case %zu (kind %d): got %d '%s'", i,
			         (int)cases[i].kind, (int)err, out);
		/* The refusal names the shape, never the value. */
		if (err != VAERN_OK && cases[i].value[0] != '\0') {
			assert_true(msg.text[0] != '\0');
			assert_null(strstr(msg.text, cases[i].value));
		}
	}
	/* Too small a buffer: refused, nothing half-written. */
	memset(out, 'X', sizeof(out));
	assert_int_equal(retention_generalise(GENERALISE_YEAR, "1984-07-09", 0,
	                                      out, 4, NULL),
	                 VAERN_E_LIMIT);
	assert_string_equal(out, "");
	assert_int_equal(retention_generalise(GENERALISE_AREA, "8300", 0, out,
	                                      RETENTION_GENERALISED_MAX, NULL),
	                 VAERN_OK);

	/* The policy names the survivors of its anonymising rule. */
	for (size_t i = 0; i < p->nretention; i++)
		if (strcmp(p->retention[i].id, "customer_data") == 0)
			rule = (long)i;
	assert_true(rule >= 0);
#define SURVIVOR(c)                                                            \
	retention_survivor(p, rule, (size_t)policy_category_index(p, (c)))
	assert_int_equal(SURVIVOR("contract_type"), GENERALISE_AS_IS);
	assert_int_equal(SURVIVOR("postcode"), GENERALISE_AREA);
	assert_int_equal(SURVIVOR("birth_date"), GENERALISE_YEAR);
	assert_int_equal(SURVIVOR("name"), GENERALISE_DROP);
	assert_int_equal(SURVIVOR("cpr"), GENERALISE_DROP);
	assert_int_equal(SURVIVOR("usage"), GENERALISE_DROP);
#undef SURVIVOR
	/* A deleting rule keeps nothing; nor does a rule out of range. */
	assert_int_equal(retention_survivor(p, rule + 1, 0), GENERALISE_DROP);
	assert_int_equal(retention_survivor(p, -1, 0), GENERALISE_DROP);
	assert_int_equal(retention_survivor(p, 999, 0), GENERALISE_DROP);
}

/* ------------------------------------------------------------------ */
/* Bad input                                                          */
/* ------------------------------------------------------------------ */

/* Nothing is due on a bad input: the result says never, rule -1. */
static void
test_bad_input_is_refused_and_nothing_is_due(void **state)
{
	const struct policy *p = pol(CEK);
	size_t name = (size_t)policy_category_index(p, "name");
	struct retention_event ev = {
	        (size_t)policy_event_index(p, "relationship_end"),
	        at("2024-01-01")};
	struct retention_event bad_event = {p->nevents, at("2024-01-01")};
	struct retention_event bad_time = {0, RETENTION_TIME_MAX + 1};
	struct retention_result r;

	(void)state;
	assert_int_equal(
	        retention_fact_expiry(p, p->ncategories, 0, NULL, 0, &r),
	        VAERN_E_INVALID);
	assert_int_equal(r.expires_at, RETENTION_NEVER);
	assert_int_equal(r.rule, -1);
	assert_int_equal(retention_fact_expiry(p, name, 0, &bad_event, 1, &r),
	                 VAERN_E_INVALID);
	assert_int_equal(r.expires_at, RETENTION_NEVER);
	assert_int_equal(retention_fact_expiry(p, name, 0, &bad_time, 1, &r),
	                 VAERN_E_INVALID);
	assert_int_equal(retention_fact_expiry(p, name, INT64_MIN, &ev, 1, &r),
	                 VAERN_E_INVALID);
	assert_int_equal(retention_fact_expiry(p, name, 0, NULL, 1, &r),
	                 VAERN_E_INVALID);
	assert_false(retention_is_due(&r, INT64_MAX));
	/* The earliest and latest instants are fine. */
	assert_int_equal(
	        retention_fact_expiry(p, name, RETENTION_TIME_MIN, &ev, 1, &r),
	        VAERN_OK);
	ev.at = RETENTION_TIME_MAX;
	assert_int_equal(
	        retention_fact_expiry(p, name, RETENTION_TIME_MAX, &ev, 1, &r),
	        VAERN_OK);
	assert_true(r.expires_at > RETENTION_TIME_MAX);
	assert_int_equal(retention_consent_expiry(p, p->npurposes,
	                                          RETENTION_NEVER, 0, &r),
	                 VAERN_E_INVALID);
	assert_int_equal(retention_consent_expiry(p, 0, RETENTION_NEVER,
	                                          RETENTION_NEVER, &r),
	                 VAERN_E_INVALID);
}

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
	        cmocka_unit_test(
	                test_AURA_RET_1_cookie_data_due_24_months_after_collection),
	        cmocka_unit_test(
	                test_AOPT_CUST_1_customer_while_a_state_runs_or_warranty_ahead),
	        cmocka_unit_test(
	                test_AOPT_RET_1_three_years_from_latest_contact),
	        cmocka_unit_test(
	                test_AOPT_RET_2_bookkeeping_7_years_outlasts_customer_rule),
	        cmocka_unit_test(
	                test_SHOP_RET_1_contact_form_2_years_from_latest_contact),
	        cmocka_unit_test(
	                test_SHOP_RET_2_customers_5_years_after_relationship_end),
	        cmocka_unit_test(
	                test_SHOP_RET_3_direct_contact_5_years_from_latest_contact),
	        cmocka_unit_test(
	                test_CEK_RET_1_two_months_after_relationship_end),
	        cmocka_unit_test(
	                test_CEK_RET_2_bookkeeping_5y_from_fy_end_outlasts_general),
	        cmocka_unit_test(
	                test_CEK_RET_2_financial_year_not_ending_in_december),
	        cmocka_unit_test(
	                test_CEK_RET_3_marketing_records_1_year_after_registration),
	        cmocka_unit_test(
	                test_CEK_RET_4_calls_while_subscribed_then_2_months),
	        cmocka_unit_test(
	                test_CEK_RET_5_competition_entries_1_year_after_end),
	        cmocka_unit_test(
	                test_TEL_MKT_2_consent_records_2_years_after_end_or_last_use),
	        cmocka_unit_test(
	                test_TEL_RET_1_as_long_as_needed_unless_law_requires_longer),
	        cmocka_unit_test(test_TEL_STAT_1_survivors_and_generalisation),
	        cmocka_unit_test(test_bad_input_is_refused_and_nothing_is_due),
	};

	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
