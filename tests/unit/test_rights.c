/*
 * test_rights.c -- table-driven tests of the rights module: the deadline
 * of a rights request and its extension (GDPR-12), the transitions of its
 * status (AOPT-ACCESS-1: nothing handled before the identity is verified),
 * and the names of types (AURA-RIGHTS-1) and statuses.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <string.h>

#include "calendar/calendar.h"
#include "rights/rights.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static long
day_of(const char *text)
{
	struct vaern_msg msg = {{0}};
	long days = 0;

	if (cal_parse_date(text, &days, &msg) != VAERN_OK)
		fail_msg("bad date in test table: %s (%s)", text, msg.text);
	return days;
}

/* GDPR-12: one calendar month from receipt, clamped to the month's end. */
static void
test_GDPR_12_due_one_calendar_month(void **state)
{
	static const struct {
		const char *received, *due;
	} cases[] = {
	        {"2026-01-31", "2026-02-28"}, /* not a leap year */
	        {"2024-01-31", "2024-02-29"}, /* leap year */
	        {"2024-01-30", "2024-02-29"}, {"2024-01-29", "2024-02-29"},
	        {"2023-01-29", "2023-02-28"}, {"2026-11-30", "2026-12-30"},
	        {"2026-03-31", "2026-04-30"}, {"2026-12-31", "2027-01-31"},
	        {"2026-02-28", "2026-03-28"}, {"2024-02-29", "2024-03-29"},
	        {"2026-05-15", "2026-06-15"}, {"2026-08-31", "2026-09-30"},
	        {"2100-01-31", "2100-02-28"}, /* not a leap year */
	        {"2000-01-31", "2000-02-29"}, /* leap year */
	};
	char got[11];

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		cal_format_date(rights_due(day_of(cases[i].received)), got);
		if (strcmp(got, cases[i].due) != 0)
			fail_msg("received %s: due %s, expected %s",
			         cases[i].received, got, cases[i].due);
	}
}

/* GDPR-12: extended by up to two further months, counted from receipt. */
static void
test_GDPR_12_extension_counted_from_receipt(void **state)
{
	static const struct {
		const char *received;
		int months;
		const char *due;
	} cases[] = {
	        {"2026-01-31", 2, "2026-04-30"},
	        {"2026-01-31", 1, "2026-03-31"},
	        {"2024-12-31", 2, "2025-03-31"},
	        {"2025-11-30", 2, "2026-02-28"},
	        {"2027-11-30", 2, "2028-02-29"},
	        {"2026-10-31", 1, "2026-12-31"},
	        {"2026-06-15", 2, "2026-09-15"},
	};
	char got[11];

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		cal_format_date(rights_due_extended(day_of(cases[i].received),
		                                    cases[i].months),
		                got);
		if (strcmp(got, cases[i].due) != 0)
			fail_msg("received %s + %d: due %s, expected %s",
			         cases[i].received, cases[i].months, got,
			         cases[i].due);
	}
}

/* GDPR-12: once, 1..2 months, within the first month, not when final. */
static void
test_GDPR_12_extension_rules(void **state)
{
	static const struct {
		enum rights_status status;
		int extended, months;
		const char *received, *today;
		enum vaern_err want;
		const char *mentions;
	} cases[] = {
	        {RIGHTS_RECEIVED, 0, 2, "2026-01-31", "2026-02-10", VAERN_OK,
	         NULL},
	        {RIGHTS_VERIFIED, 0, 1, "2026-01-31", "2026-02-28", VAERN_OK,
	         NULL},
	        {RIGHTS_IN_PROGRESS, 0, 2, "2026-01-31", "2026-03-01",
	         VAERN_E_INVALID, "2026-02-28"},
	        {RIGHTS_EXTENDED, 1, 1, "2026-01-31", "2026-02-10",
	         VAERN_E_INVALID, "once"},
	        {RIGHTS_VERIFIED, 0, 3, "2026-01-31", "2026-02-10",
	         VAERN_E_INVALID, "not 3"},
	        {RIGHTS_VERIFIED, 0, 0, "2026-01-31", "2026-02-10",
	         VAERN_E_INVALID, "not 0"},
	        {RIGHTS_VERIFIED, 0, -1, "2026-01-31", "2026-02-10",
	         VAERN_E_INVALID, "months"},
	        {RIGHTS_COMPLETED, 0, 1, "2026-01-31", "2026-02-10",
	         VAERN_E_INVALID, "completed"},
	        {RIGHTS_CANCELLED, 0, 1, "2026-01-31", "2026-02-10",
	         VAERN_E_INVALID, "cancelled"},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};
		enum vaern_err err = rights_extension_check(
		        cases[i].status, cases[i].extended, cases[i].months,
		        day_of(cases[i].received), day_of(cases[i].today),
		        &msg);

		if (err != cases[i].want)
			fail_msg("case %zu: %d, expected %d (%s)", i, err,
			         cases[i].want, msg.text);
		if (cases[i].mentions != NULL &&
		    strstr(msg.text, cases[i].mentions) == NULL)
			fail_msg("case %zu: '%s' does not mention '%s'", i,
			         msg.text, cases[i].mentions);
	}
}

/* The whole transition table, and AOPT-ACCESS-1: no handling before the
 * identity is verified. */
static void
test_AOPT_ACCESS_1_transitions(void **state)
{
	enum {
		R = RIGHTS_RECEIVED,
		V = RIGHTS_VERIFIED,
		P = RIGHTS_IN_PROGRESS,
		C = RIGHTS_COMPLETED,
		F = RIGHTS_REFUSED,
		E = RIGHTS_EXTENDED,
		X = RIGHTS_CANCELLED
	};
	/* ok[from][to] with the identity verified (1) or not (0). */
	static const struct {
		int from, to, verified, ok;
	} cases[] = {
	        {R, V, 0, 1}, {R, E, 0, 1}, {R, F, 0, 1}, {R, X, 0, 1},
	        {R, P, 0, 0}, {R, C, 0, 0}, {R, R, 0, 0}, {V, P, 1, 1},
	        {V, C, 1, 1}, {V, E, 1, 1}, {V, F, 1, 1}, {V, X, 1, 1},
	        {V, R, 1, 0}, {V, V, 1, 0}, {P, C, 1, 1}, {P, E, 1, 1},
	        {P, F, 1, 1}, {P, X, 1, 1}, {P, V, 1, 0}, {P, R, 1, 0},
	        {E, V, 0, 1}, {E, V, 1, 0}, {E, P, 1, 1}, {E, P, 0, 0},
	        {E, C, 1, 1}, {E, C, 0, 0}, {E, F, 0, 1}, {E, X, 0, 1},
	        {E, E, 1, 0}, {C, X, 1, 0}, {C, P, 1, 0}, {F, C, 1, 0},
	        {X, R, 0, 0}, {X, V, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};
		enum vaern_err err =
		        rights_transition((enum rights_status)cases[i].from,
		                          (enum rights_status)cases[i].to,
		                          cases[i].verified, &msg);

		if ((err == VAERN_OK) != cases[i].ok)
			fail_msg("%s -> %s (verified %d): %s",
			         rights_status_name(cases[i].from),
			         rights_status_name(cases[i].to),
			         cases[i].verified,
			         err == VAERN_OK ? "allowed" : msg.text);
		if (err != VAERN_OK && (err != VAERN_E_INVALID || !msg.text[0]))
			fail_msg("case %zu: no clear error", i);
	}
}

/* AURA-RIGHTS-1: every right has a name, and names round-trip. */
static void
test_AURA_RIGHTS_1_names_round_trip(void **state)
{
	struct vaern_msg msg = {{0}};
	enum rights_type t;
	enum rights_status s;

	(void)state;
	for (int i = 0; i < RIGHTS_TYPE_COUNT_; i++) {
		assert_int_equal(
		        rights_type_parse(rights_type_name(i), &t, &msg),
		        VAERN_OK);
		assert_int_equal(t, i);
		assert_true(strlen(rights_type_name(i)) <= RIGHTS_NAME_MAX);
	}
	for (int i = 0; i < RIGHTS_STATUS_COUNT_; i++) {
		assert_int_equal(
		        rights_status_parse(rights_status_name(i), &s, &msg),
		        VAERN_OK);
		assert_int_equal(s, i);
	}
	assert_int_equal(rights_type_parse("deletion", &t, &msg),
	                 VAERN_E_INVALID);
	assert_non_null(strstr(msg.text, "erasure"));
	assert_int_equal(rights_type_parse("", &t, &msg), VAERN_E_INVALID);
	assert_int_equal(rights_status_parse("done", &s, &msg),
	                 VAERN_E_INVALID);
	assert_true(rights_status_final(RIGHTS_COMPLETED));
	assert_true(rights_status_final(RIGHTS_REFUSED));
	assert_true(rights_status_final(RIGHTS_CANCELLED));
	assert_false(rights_status_final(RIGHTS_EXTENDED));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_GDPR_12_due_one_calendar_month),
	        cmocka_unit_test(test_GDPR_12_extension_counted_from_receipt),
	        cmocka_unit_test(test_GDPR_12_extension_rules),
	        cmocka_unit_test(test_AOPT_ACCESS_1_transitions),
	        cmocka_unit_test(test_AURA_RIGHTS_1_names_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
