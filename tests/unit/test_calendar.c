/*
 * test_calendar.c -- table-driven tests of the calendar module: day counts,
 * calendar periods (GDPR-12, CEK-RET-1, AURA-RET-1), parsers, holidays,
 * working days (SHOP-BREACH-2) and the clock.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar/calendar.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Days since the epoch of a date written as numbers. */
static long
ymd(int year, int month, int day)
{
	struct cal_date d = {year, month, day};

	return cal_to_days(d);
}

/* Days since the epoch of "YYYY-MM-DD", failing the test if malformed. */
static long
day_of(const char *text)
{
	struct vaern_msg msg = {{0}};
	long days = 0;

	if (cal_parse_date(text, &days, &msg) != VAERN_OK)
		fail_msg("bad date in test table: %s (%s)", text, msg.text);
	return days;
}

/* ---- day counts ---- */

static void
test_known_day_counts(void **state)
{
	static const struct {
		int year, month, day;
		long days;
	} cases[] = {
	        {1970, 1, 1, 0},         {1970, 1, 2, 1},
	        {1969, 12, 31, -1},      {1900, 1, 1, -25567},
	        {2000, 1, 1, 10957},     {2000, 3, 1, 11017},
	        {2024, 2, 29, 19782},    {2038, 1, 19, 24855},
	        {0, 3, 1, -719468},      {1, 1, 1, -719162},
	        {9999, 12, 31, 2932896}, {-1, 12, 31, -719529},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		struct cal_date d;

		assert_int_equal(
		        ymd(cases[i].year, cases[i].month, cases[i].day),
		        cases[i].days);
		d = cal_from_days(cases[i].days);
		assert_int_equal(d.year, cases[i].year);
		assert_int_equal(d.month, cases[i].month);
		assert_int_equal(d.day, cases[i].day);
	}
}

/*
 * Walks every day from 1900-01-01 to 2100-12-31 with an independent
 * counter built from cal_days_in_month, and checks both conversions.
 */
static void
test_every_day_1900_2100(void **state)
{
	struct cal_date walk = {1900, 1, 1};
	long days = ymd(1900, 1, 1);

	(void)state;
	while (walk.year <= 2100) {
		struct cal_date d = cal_from_days(days);

		assert_int_equal(cal_to_days(walk), days);
		assert_int_equal(d.year, walk.year);
		assert_int_equal(d.month, walk.month);
		assert_int_equal(d.day, walk.day);
		assert_true(cal_valid(d.year, d.month, d.day));
		if (++walk.day > cal_days_in_month(walk.year, walk.month)) {
			walk.day = 1;
			if (++walk.month > 12) {
				walk.month = 1;
				walk.year++;
			}
		}
		days++;
	}
	assert_int_equal(days, ymd(2101, 1, 1));
	/* 201 years with 49 leap years: 1904 to 2096; 1900, 2100 are not. */
	assert_int_equal(days - ymd(1900, 1, 1), 201 * 365 + 49);
}

/* Round trip over about +-27,000 years, one day in 97, into BC. */
static void
test_round_trip_wide(void **state)
{
	long days;

	(void)state;
	for (days = -10000000; days <= 10000000; days += 97) {
		struct cal_date d = cal_from_days(days);

		assert_true(cal_valid(d.year, d.month, d.day));
		assert_int_equal(cal_to_days(d), days);
	}
}

static void
test_leap_years(void **state)
{
	static const struct {
		int year;
		int february;
	} cases[] = {
	        {1900, 28}, {2000, 29}, {2024, 29}, {2023, 28},
	        {2100, 28}, {1600, 29}, {2400, 29}, {1996, 29},
	        {0, 29},    {-4, 29},   {-100, 28},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		assert_int_equal(cal_days_in_month(cases[i].year, 2),
		                 cases[i].february);
		assert_int_equal(cal_valid(cases[i].year, 2, 29),
		                 cases[i].february == 29);
	}
}

static void
test_valid(void **state)
{
	static const struct {
		int year, month, day;
		int valid;
	} cases[] = {
	        {2024, 1, 31, 1},  {2024, 4, 31, 0}, {2024, 4, 30, 1},
	        {2024, 0, 1, 0},   {2024, 13, 1, 0}, {2024, 12, 0, 0},
	        {2024, 12, 32, 0}, {2023, 2, 29, 0}, {2024, 6, -1, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++)
		assert_int_equal(
		        cal_valid(cases[i].year, cases[i].month, cases[i].day),
		        cases[i].valid);
	assert_int_equal(cal_days_in_month(2024, 0), 0);
	assert_int_equal(cal_days_in_month(2024, 13), 0);
}

static void
test_weekday(void **state)
{
	static const struct {
		const char *date;
		int weekday; /* 0 = Monday */
	} cases[] = {
	        {"1970-01-01", 3}, {"1969-12-31", 2}, {"1969-12-29", 0},
	        {"2024-01-01", 0}, {"2000-02-29", 1}, {"2025-06-20", 4},
	        {"2025-11-01", 5}, {"2025-04-20", 6}, {"1900-01-01", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++)
		assert_int_equal(cal_weekday(day_of(cases[i].date)),
		                 cases[i].weekday);
}

/* ---- periods ---- */

static void
test_add_period(void **state)
{
	static const struct {
		const char *from;
		int count;
		enum period_unit unit;
		const char *to;
	} cases[] = {
	        {"2024-01-31", 1, PERIOD_MONTHS, "2024-02-29"},
	        {"2023-12-31", 2, PERIOD_MONTHS, "2024-02-29"},
	        {"2024-02-29", 1, PERIOD_YEARS, "2025-02-28"},
	        {"2023-01-31", 1, PERIOD_MONTHS, "2023-02-28"},
	        {"2024-02-29", 4, PERIOD_YEARS, "2028-02-29"},
	        {"2096-02-29", 4, PERIOD_YEARS, "2100-02-28"},
	        {"2024-03-31", 1, PERIOD_MONTHS, "2024-04-30"},
	        {"2024-01-15", 1, PERIOD_MONTHS, "2024-02-15"},
	        {"2024-11-30", 3, PERIOD_MONTHS, "2025-02-28"},
	        {"2024-05-17", 0, PERIOD_MONTHS, "2024-05-17"},
	        {"2024-05-17", 0, PERIOD_DAYS, "2024-05-17"},
	        {"2024-02-28", 1, PERIOD_DAYS, "2024-02-29"},
	        {"2024-12-31", 1, PERIOD_DAYS, "2025-01-01"},
	        {"2024-12-25", 2, PERIOD_WEEKS, "2025-01-08"},
	        {"2024-01-31", 12, PERIOD_MONTHS, "2025-01-31"},
	        {"1969-12-31", 1, PERIOD_MONTHS, "1970-01-31"},
	        {"1900-01-31", 1, PERIOD_MONTHS, "1900-02-28"},
	        /* GDPR-12: one month from receipt on 31 January. */
	        {"2025-01-31", 1, PERIOD_MONTHS, "2025-02-28"},
	        {"2024-01-31", 1, PERIOD_MONTHS, "2024-02-29"},
	        /*
	         * GDPR-12 extended by two further months: at most three
	         * months from receipt (EDPB Guidelines 01/2022).
	         */
	        {"2025-01-31", 3, PERIOD_MONTHS, "2025-04-30"},
	        /* CEK-RET-1: "2 months after" the relationship ends. */
	        {"2024-12-31", 2, PERIOD_MONTHS, "2025-02-28"},
	        {"2025-06-30", 2, PERIOD_MONTHS, "2025-08-30"},
	        /* AURA-RET-1: cookie data at most "24 months". */
	        {"2024-02-29", 24, PERIOD_MONTHS, "2026-02-28"},
	        {"2023-08-31", 24, PERIOD_MONTHS, "2025-08-31"},
	        /* SHOP-BREACH-2: feedback within 2 weeks. */
	        {"2025-04-16", 2, PERIOD_WEEKS, "2025-04-30"},
	        /* Negative counts go back with the same clamping. */
	        {"2024-03-31", -1, PERIOD_MONTHS, "2024-02-29"},
	        {"2025-02-28", -1, PERIOD_YEARS, "2024-02-28"},
	        {"2024-01-01", -1, PERIOD_DAYS, "2023-12-31"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		struct period p = {cases[i].count, cases[i].unit};
		char got[11];

		cal_format_date(cal_add_period(day_of(cases[i].from), p), got);
		if (strcmp(got, cases[i].to) != 0)
			fail_msg("%s + %d (unit %d): got %s, want %s",
			         cases[i].from, cases[i].count,
			         (int)cases[i].unit, got, cases[i].to);
	}
}

/* Huge counts stay defined (no overflow under UBSan) and keep order. */
static void
test_add_period_extremes(void **state)
{
	static const enum period_unit units[] = {PERIOD_DAYS, PERIOD_WEEKS,
	                                         PERIOD_MONTHS, PERIOD_YEARS};
	long today = day_of("2025-01-01");
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(units); i++) {
		struct period big = {2147483647, units[i]};
		struct period small = {-2147483647 - 1, units[i]};

		assert_true(cal_add_period(today, big) > today);
		assert_true(cal_add_period(today, small) < today);
	}
}

static void
test_parse_period_good(void **state)
{
	static const struct {
		const char *text;
		int count;
		enum period_unit unit;
	} cases[] = {
	        {"1 day", 1, PERIOD_DAYS},
	        {"30 days", 30, PERIOD_DAYS},
	        {"1 week", 1, PERIOD_WEEKS},
	        {"2 weeks", 2, PERIOD_WEEKS},
	        {"1 month", 1, PERIOD_MONTHS},    /* GDPR-12 */
	        {"2 months", 2, PERIOD_MONTHS},   /* CEK-RET-1 */
	        {"24 months", 24, PERIOD_MONTHS}, /* AURA-RET-1 */
	        {"1 year", 1, PERIOD_YEARS},
	        {"5 years", 5, PERIOD_YEARS},
	        {"0 days", 0, PERIOD_DAYS},
	        {"1000 years", 1000, PERIOD_YEARS},
	        {"2months", 2, PERIOD_MONTHS},
	        {"2   months", 2, PERIOD_MONTHS},
	        {"  3 weeks  ", 3, PERIOD_WEEKS},
	        {"007 days", 7, PERIOD_DAYS},
	        {"1 days", 1, PERIOD_DAYS},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};
		struct period p = {-1, PERIOD_DAYS};

		if (cal_parse_period(cases[i].text, &p, &msg) != VAERN_OK)
			fail_msg("\"%s\": %s", cases[i].text, msg.text);
		assert_int_equal(p.count, cases[i].count);
		assert_int_equal(p.unit, cases[i].unit);
	}
}

static void
test_parse_period_bad(void **state)
{
	static const struct {
		const char *text;
		const char *message; /* a part of the message */
	} cases[] = {
	        {"", "empty"},
	        {"   ", "empty"},
	        {"-1 days", "negative"},
	        {"1001 days", "larger than 1000"},
	        {"99999999999999999999999 months", "larger than 1000"},
	        {"months", "expected a number"},
	        {"+2 months", "expected a number"},
	        {"2", "expected a unit"},
	        {"2  ", "expected a unit"},
	        {"2 fortnights", "unknown unit"},
	        {"2 Months", "unknown unit"},
	        {"2 MONTHS", "unknown unit"},
	        {"2 monthss", "unknown unit"},
	        {"2 mon", "unknown unit"},
	        {"2.5 months", "whole number"},
	        {"2,5 months", "whole number"},
	        {"2 months later", "unexpected text"},
	        {"2 months 3 days", "unexpected text"},
	        {"2\tmonths", "unknown unit"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};
		struct period p = {-7, PERIOD_YEARS};

		assert_int_equal(cal_parse_period(cases[i].text, &p, &msg),
		                 VAERN_E_INVALID);
		if (strstr(msg.text, cases[i].message) == NULL)
			fail_msg("\"%s\": message \"%s\" lacks \"%s\"",
			         cases[i].text, msg.text, cases[i].message);
		/* A failure leaves the output as it was. */
		assert_int_equal(p.count, -7);
		assert_int_equal(p.unit, PERIOD_YEARS);
	}
}

/* ---- dates and instants ---- */

static void
test_parse_date_good(void **state)
{
	static const struct {
		const char *text;
		int year, month, day;
	} cases[] = {
	        {"1970-01-01", 1970, 1, 1},   {"2024-02-29", 2024, 2, 29},
	        {"2000-02-29", 2000, 2, 29},  {"1000-01-01", 1000, 1, 1},
	        {"9999-12-31", 9999, 12, 31}, {"2025-12-31", 2025, 12, 31},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};
		long days = 0;

		if (cal_parse_date(cases[i].text, &days, &msg) != VAERN_OK)
			fail_msg("\"%s\": %s", cases[i].text, msg.text);
		assert_int_equal(
		        days, ymd(cases[i].year, cases[i].month, cases[i].day));
	}
}

static void
test_parse_date_bad(void **state)
{
	static const struct {
		const char *text;
		const char *message; /* a part of the message */
	} cases[] = {
	        {"", "expected YYYY-MM-DD"},
	        {"2024", "expected YYYY-MM-DD"},
	        {"2024-1-01", "expected YYYY-MM-DD"},
	        {"2024-01-1", "expected YYYY-MM-DD"},
	        {"24-01-01", "expected YYYY-MM-DD"},
	        {"2024/01/01", "expected YYYY-MM-DD"},
	        {"20240101", "expected YYYY-MM-DD"},
	        {"+2024-01-01", "expected YYYY-MM-DD"},
	        {" 2024-01-01", "expected YYYY-MM-DD"},
	        {"2024-0a-01", "expected YYYY-MM-DD"},
	        {"2024-13-01", "month 13 does not exist"},
	        {"2024-00-10", "month 0 does not exist"},
	        {"2023-02-29", "day 29 does not exist"},
	        {"2100-02-29", "day 29 does not exist"},
	        {"2024-04-31", "day 31 does not exist"},
	        {"2024-01-00", "day 0 does not exist"},
	        {"0999-12-31", "out of range"},
	        {"0000-01-01", "out of range"},
	        {"2024-01-01 ", "unexpected text"},
	        {"2024-01-01T00:00Z", "unexpected text"},
	        {"2024-01-011", "unexpected text"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};
		long days = 12345;

		assert_int_equal(cal_parse_date(cases[i].text, &days, &msg),
		                 VAERN_E_INVALID);
		if (strstr(msg.text, cases[i].message) == NULL)
			fail_msg("\"%s\": message \"%s\" lacks \"%s\"",
			         cases[i].text, msg.text, cases[i].message);
		assert_int_equal(days, 12345);
	}
	/* A NULL message is allowed. */
	{
		long days = 1;

		assert_int_equal(cal_parse_date("2024-13-01", &days, NULL),
		                 VAERN_E_INVALID);
		assert_int_equal(days, 1);
	}
}

static void
test_parse_instant_good(void **state)
{
	/* 2024-03-31 00:00:00 UTC */
	const int64_t base = (int64_t)ymd(2024, 3, 31) * 86400;
	static const struct {
		const char *text;
		int64_t after_base; /* seconds after 2024-03-31T00:00:00Z */
	} cases[] = {
	        {"2024-03-31", 0},
	        {"2024-03-31T00:00Z", 0},
	        {"2024-03-31T00:00:00Z", 0},
	        {"2024-03-31T12:34:56Z", 45296},
	        {"2024-03-31T12:34:56", 45296},
	        {"2024-03-31T12:34", 45240},
	        {"2024-03-31 12:34:56Z", 45296},
	        {"2024-03-31 12:34", 45240},
	        {"2024-03-31T12:34:56.789Z", 45296},
	        {"2024-03-31T12:34:56.1", 45296},
	        {"2024-03-31T12:34:56.123456789+00:00", 45296},
	        {"2024-03-31T23:59:59Z", 86399},
	        {"2024-03-31T12:00:00+02:00", 36000},
	        {"2024-03-31T12:00:00-05:30", 63000},
	        {"2024-03-31T01:00+01:00", 0},
	        {"2024-03-31T00:30:00+01:00", -1800},
	        {"2024-03-30T23:00:00-01:00", 0},
	        {"2024-03-31T00:00-00:00", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};
		int64_t t = 0;

		if (cal_parse_instant(cases[i].text, &t, &msg) != VAERN_OK)
			fail_msg("\"%s\": %s", cases[i].text, msg.text);
		if (t != base + cases[i].after_base)
			fail_msg("\"%s\": got %lld, want %lld", cases[i].text,
			         (long long)t,
			         (long long)(base + cases[i].after_base));
	}
}

static void
test_parse_instant_bad(void **state)
{
	static const struct {
		const char *text;
		const char *message; /* a part of the message */
	} cases[] = {
	        {"", "expected YYYY-MM-DD"},
	        {"2024-13-01T00:00Z", "month 13 does not exist"},
	        {"2023-02-29T00:00Z", "day 29 does not exist"},
	        {"2024-03-31T", "expected YYYY-MM-DD"},
	        {"2024-03-31T1", "expected YYYY-MM-DD"},
	        {"2024-03-31T12", "expected YYYY-MM-DD"},
	        {"2024-03-31T12:3", "expected YYYY-MM-DD"},
	        {"2024-03-31T12:34:5", "expected YYYY-MM-DD"},
	        {"2024-03-31X12:34", "expected YYYY-MM-DD"},
	        {"2024-03-31Z", "expected YYYY-MM-DD"},
	        {"2024-03-31T24:00Z", "hour 24 does not exist"},
	        {"2024-03-31T12:60Z", "minute 60 does not exist"},
	        {"2024-03-31T12:00:60Z", "second 60 does not exist"},
	        {"2024-03-31T12:00:00.Z", "digits after '.'"},
	        {"2024-03-31T12:00:00.1234567890Z", "longer than 9 digits"},
	        {"2024-03-31T12:00:00+2", "expected a zone offset"},
	        {"2024-03-31T12:00:00+0200", "expected a zone offset"},
	        {"2024-03-31T12:00:00+24:00", "zone offset out of range"},
	        {"2024-03-31T12:00:00+01:60", "zone offset out of range"},
	        {"2024-03-31T12:00:00z", "expected YYYY-MM-DD"},
	        {"2024-03-31T12:00:00 Z", "expected YYYY-MM-DD"},
	        {"2024-03-31T12:00:00ZZ", "unexpected text"},
	        {"2024-03-31T12:00:00+01:00 ", "unexpected text"},
	        {"2024-03-31T12:00:00Z garbage", "unexpected text"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};
		int64_t t = 777;

		assert_int_equal(cal_parse_instant(cases[i].text, &t, &msg),
		                 VAERN_E_INVALID);
		if (strstr(msg.text, cases[i].message) == NULL)
			fail_msg("\"%s\": message \"%s\" lacks \"%s\"",
			         cases[i].text, msg.text, cases[i].message);
		assert_int_equal(t, 777);
	}
}

static void
test_format(void **state)
{
	static const struct {
		int64_t seconds;
		const char *date;
		const char *instant;
	} cases[] = {
	        {0, "1970-01-01", "1970-01-01T00:00:00Z"},
	        {-1, "1969-12-31", "1969-12-31T23:59:59Z"},
	        {86399, "1970-01-01", "1970-01-01T23:59:59Z"},
	        {1711843200 + 45296, "2024-03-31", "2024-03-31T12:34:56Z"},
	        {951782400, "2000-02-29", "2000-02-29T00:00:00Z"},
	        {253402300799LL, "9999-12-31", "9999-12-31T23:59:59Z"},
	        {-62135596800LL, "0001-01-01", "0001-01-01T00:00:00Z"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		char date[11], instant[21];
		struct vaern_msg msg = {{0}};
		int64_t back = 0;
		long days = 0;

		cal_format_date(
		        (long)(cases[i].seconds >= 0
		                       ? cases[i].seconds / 86400
		                       : (cases[i].seconds - 86399) / 86400),
		        date);
		cal_format_instant(cases[i].seconds, instant);
		assert_string_equal(date, cases[i].date);
		assert_string_equal(instant, cases[i].instant);
		/* What is written parses back, where the parser allows. */
		if (cases[i].seconds < 0 || cases[i].seconds > 253402300799LL)
			continue;
		assert_int_equal(cal_parse_instant(instant, &back, &msg),
		                 VAERN_OK);
		assert_int_equal(back, cases[i].seconds);
		assert_int_equal(cal_parse_date(date, &days, &msg), VAERN_OK);
		assert_int_equal(days, cases[i].seconds / 86400);
	}
}

/* Out-of-range years are not pretty but never overflow the buffer. */
static void
test_format_no_overflow(void **state)
{
	static const int64_t seconds[] = {
	        INT64_MIN,      INT64_MIN + 1,  -1000000000000000LL,
	        -62135596801LL, 253402300800LL, 1000000000000000LL,
	        INT64_MAX,
	};
	static const long days[] = {
	        -2147483647L - 1, -1000000000L, -719529,
	        2932897,          1000000000L,  2147483647L,
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(seconds); i++) {
		char buf[21 + 8];

		memset(buf, '#', sizeof(buf));
		cal_format_instant(seconds[i], buf);
		assert_true(strlen(buf) <= 20);
		assert_memory_equal(buf + 21, "########", 8);
	}
	for (i = 0; i < N_ELEMS(days); i++) {
		char buf[11 + 8];

		memset(buf, '#', sizeof(buf));
		cal_format_date(days[i], buf);
		assert_true(strlen(buf) <= 10);
		assert_memory_equal(buf + 11, "########", 8);
	}
}

/* ---- Easter, holidays, working days ---- */

static void
test_easter(void **state)
{
	static const struct {
		int year;
		const char *easter;
	} cases[] = {
	        {2024, "2024-03-31"}, {2025, "2025-04-20"},
	        {2026, "2026-04-05"}, {2019, "2019-04-21"},
	        {2000, "2000-04-23"}, {2023, "2023-04-09"},
	        {2008, "2008-03-23"}, {2011, "2011-04-24"},
	        {1818, "1818-03-22"}, {2038, "2038-04-25"},
	        {1961, "1961-04-02"}, {2285, "2285-03-22"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		char got[11];

		cal_format_date(cal_easter(cases[i].year), got);
		assert_string_equal(got, cases[i].easter);
		assert_int_equal(cal_weekday(cal_easter(cases[i].year)), 6);
	}
	/* Always a Sunday from 22 March to 25 April, in any year. */
	for (i = 0; i < 5000; i++) {
		int year = (int)i * 7 - 10000;
		long e = cal_easter(year);

		assert_int_equal(cal_weekday(e), 6);
		assert_true(e >= ymd(year, 3, 22));
		assert_true(e <= ymd(year, 4, 25));
	}
}

struct holiday_case {
	const char *date;
	int holiday;
};

static void
check_holidays(const char *country, const struct holiday_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cal_is_holiday(country, day_of(cases[i].date)) !=
		    cases[i].holiday)
			fail_msg("%s %s: holiday should be %d", country,
			         cases[i].date, cases[i].holiday);
}

static void
test_holidays_dk(void **state)
{
	static const struct holiday_case cases[] = {
	        {"2024-01-01", 1}, /* New Year */
	        {"2024-03-28", 1}, /* Maundy Thursday */
	        {"2024-03-29", 1}, /* Good Friday */
	        {"2024-03-30", 0}, /* Easter Saturday */
	        {"2024-03-31", 1}, /* Easter Sunday */
	        {"2024-04-01", 1}, /* Easter Monday */
	        {"2024-04-26", 0}, /* Store Bededag abolished from 2024 */
	        {"2024-05-09", 1}, /* Ascension */
	        {"2024-05-19", 1}, /* Whit Sunday */
	        {"2024-05-20", 1}, /* Whit Monday */
	        {"2024-06-05", 1}, /* Constitution Day (customary) */
	        {"2024-12-24", 1}, /* Christmas Eve */
	        {"2024-12-25", 1},
	        {"2024-12-26", 1},
	        {"2024-12-27", 0},
	        {"2024-12-31", 1}, /* New Year's Eve (customary) */
	        {"2023-05-05", 1}, /* Store Bededag, last time */
	        {"2022-05-13", 1}, /* Store Bededag */
	        {"2023-05-18", 1}, /* Ascension */
	        {"2025-04-17", 1}, /* Maundy Thursday */
	        {"2025-04-18", 1},
	        {"2025-04-21", 1},
	        {"2025-05-16", 0}, /* would have been Store Bededag */
	        {"2025-05-29", 1},
	        {"2025-06-08", 1},
	        {"2025-06-09", 1},
	        {"2025-05-01", 0}, /* not a Danish holiday */
	        {"2025-06-06", 0},
	        {"2025-01-06", 0},
	        {"2025-12-23", 0},
	        {"2025-03-15", 0}, /* a plain Saturday is no holiday */
	};

	(void)state;
	check_holidays("DK", cases, N_ELEMS(cases));
}

static void
test_holidays_se(void **state)
{
	static const struct holiday_case cases[] = {
	        {"2025-01-01", 1}, /* New Year */
	        {"2025-01-06", 1}, /* Epiphany */
	        {"2025-04-17", 0}, /* Maundy Thursday is not */
	        {"2025-04-18", 1}, /* Good Friday */
	        {"2025-04-20", 1}, /* Easter Sunday */
	        {"2025-04-21", 1}, /* Easter Monday */
	        {"2025-05-01", 1}, /* 1 May */
	        {"2025-05-29", 1}, /* Ascension */
	        {"2025-06-05", 0},
	        {"2025-06-06", 1}, /* National Day */
	        {"2025-06-08", 1}, /* Whit Sunday (Pingstdagen) */
	        {"2025-06-09", 0}, /* Whit Monday, not since 2005 */
	        {"2025-06-19", 0},
	        {"2025-06-20", 1}, /* Midsummer Eve */
	        {"2025-06-21", 1}, /* Midsummer Day */
	        {"2025-06-27", 0}, /* a later Friday in June */
	        {"2025-10-31", 0}, /* a Friday */
	        {"2025-11-01", 1}, /* All Saints' Day */
	        {"2025-11-08", 0},
	        {"2025-12-24", 1},
	        {"2025-12-25", 1},
	        {"2025-12-26", 1},
	        {"2025-12-31", 1},
	        {"2024-06-21", 1}, /* Midsummer Eve */
	        {"2024-06-22", 1}, /* Midsummer Day */
	        {"2024-06-14", 0},
	        {"2024-11-02", 1}, /* All Saints' Day */
	        {"2020-10-31", 1}, /* All Saints' Day on 31 October */
	        {"2026-06-19", 1}, /* Midsummer Eve on the 19th */
	        {"2026-06-20", 1},
	        {"2022-06-24", 1}, /* Midsummer Eve on the 24th */
	        {"2022-06-25", 1},
	        {"2004-05-31", 1}, /* Whit Monday before 2005 */
	        {"2003-06-06", 0}, /* National Day, not yet a holiday */
	        {"2005-06-06", 1},
	};

	(void)state;
	check_holidays("SE", cases, N_ELEMS(cases));
}

/* Other countries, and none, have weekends only. */
static void
test_holidays_other(void **state)
{
	static const char *const countries[] = {"NO", "dk", "", "DKK", NULL};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(countries); i++) {
		assert_false(
		        cal_is_holiday(countries[i], day_of("2025-12-25")));
		assert_true(
		        cal_is_working_day(countries[i], day_of("2025-04-18")));
		assert_false(
		        cal_is_working_day(countries[i], day_of("2025-04-19")));
	}
}

/* Any day count is defined behaviour, however far out (UBSan build). */
static void
test_extreme_days(void **state)
{
	static const long days[] = {
	        -2147483647L - 1, 2147483647L,       -1000000000000L,
	        1000000000000L,   (long)(~0UL >> 1), -(long)(~0UL >> 1) - 1,
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(days); i++) {
		struct period month = {1, PERIOD_MONTHS};
		int weekday = cal_weekday(days[i]);

		assert_true(weekday >= 0 && weekday <= 6);
		(void)cal_is_holiday("DK", days[i]);
		(void)cal_is_holiday("SE", days[i]);
		(void)cal_is_working_day("SE", days[i]);
		(void)cal_add_working_days("DK", days[i], 3);
		(void)cal_add_working_days("DK", days[i], -3);
		(void)cal_add_period(days[i], month);
	}
}

static void
test_working_days(void **state)
{
	static const struct {
		const char *country;
		const char *from;
		int n;
		const char *to;
	} cases[] = {
	        {"DK", "2025-01-06", 0, "2025-01-06"},
	        {"DK", "2025-01-04", 0, "2025-01-04"}, /* n = 0: same day */
	        {"DK", "2025-01-06", 1, "2025-01-07"},
	        {"DK", "2025-01-10", 1, "2025-01-13"}, /* over a weekend */
	        {"DK", "2025-01-11", 1, "2025-01-13"}, /* from a Saturday */
	        {"DK", "2025-01-06", 5, "2025-01-13"},
	        {"DK", "2025-01-06", 10, "2025-01-20"},
	        /* Easter 2024 in Denmark: 28 March to 1 April off. */
	        {"DK", "2024-03-27", 1, "2024-04-02"},
	        /*
	         * SHOP-BREACH-2: a receipt within 2 working days. Reported
	         * the Wednesday before Easter 2025: Denmark closes from
	         * Maundy Thursday to Easter Monday, Sweden only from Good
	         * Friday.
	         */
	        {"DK", "2025-04-16", 1, "2025-04-22"},
	        {"DK", "2025-04-16", 2, "2025-04-23"},
	        {"SE", "2025-04-16", 1, "2025-04-17"},
	        {"SE", "2025-04-16", 2, "2025-04-22"},
	        {"NO", "2025-04-16", 2, "2025-04-18"},
	        /* Christmas to New Year. */
	        {"DK", "2025-12-23", 1, "2025-12-29"},
	        {"DK", "2025-12-30", 1, "2026-01-02"},
	        {"SE", "2025-12-30", 1, "2026-01-02"},
	        {"SE", "2026-01-05", 1, "2026-01-07"}, /* over Epiphany */
	        /* Store Bededag moves a deadline in 2023, not in 2024. */
	        {"DK", "2023-05-04", 1, "2023-05-08"},
	        {"DK", "2024-04-25", 1, "2024-04-26"},
	        /* Swedish midsummer 2025. */
	        {"SE", "2025-06-19", 1, "2025-06-23"},
	        /* Backwards. */
	        {"DK", "2024-04-02", -1, "2024-03-27"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		char got[11];
		long to;

		to = cal_add_working_days(cases[i].country,
		                          day_of(cases[i].from), cases[i].n);
		cal_format_date(to, got);
		if (strcmp(got, cases[i].to) != 0)
			fail_msg("%s %s + %d working days: got %s, want %s",
			         cases[i].country, cases[i].from, cases[i].n,
			         got, cases[i].to);
		if (cases[i].n != 0)
			assert_true(cal_is_working_day(cases[i].country, to));
	}
}

/* ---- the clock ---- */

static void
test_clock_set_unset(void **state)
{
	static const struct {
		int64_t seconds;
		long today;
	} cases[] =
	        {
	                {0, 0},
	                {86399, 0},
	                {86400, 1},
	                {-1, -1},
	                {-86400, -1},
	                {-86401, -2},
	                {1735689600, 20089}, /* 2025-01-01T00:00:00Z
	                                      */
	        };
	size_t i;
	time_t before, after;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		clock_set(cases[i].seconds);
		assert_int_equal(clock_now(), cases[i].seconds);
		assert_int_equal(clock_today(), cases[i].today);
	}
	clock_unset();
	before = time(NULL);
	assert_true(clock_now() >= (int64_t)before);
	after = time(NULL);
	assert_true(clock_now() <= (int64_t)after);
	assert_int_equal(clock_today(), (long)(time(NULL) / 86400));
}

static void
test_clock_env(void **state)
{
	static const struct {
		const char *value; /* NULL: unset */
		int ok;
		int64_t now; /* -1: the system time */
	} cases[] = {
	        {"2025-01-01", 1, 1735689600},
	        {"2025-01-01T12:00:00Z", 1, 1735732800},
	        {"2025-01-01T12:00:00+01:00", 1, 1735729200},
	        {"2025-01-01 06:30", 1, 1735713000},
	        {"", 1, -1},
	        {NULL, 1, -1},
	        {"2025-02-30", 0, 0},
	        {"yesterday", 0, 0},
	        {"2025-01-01T25:00Z", 0, 0},
	};
	const int64_t preset = 1000000000;
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};
		enum vaern_err err;

		if (cases[i].value == NULL)
			assert_int_equal(unsetenv(CLOCK_ENV), 0);
		else
			assert_int_equal(setenv(CLOCK_ENV, cases[i].value, 1),
			                 0);
		clock_set(preset);
		err = clock_init_env(&msg);
		if (!cases[i].ok) {
			assert_int_equal(err, VAERN_E_INVALID);
			assert_true(msg.text[0] != '\0');
			/* A malformed value leaves the clock alone. */
			assert_int_equal(clock_now(), preset);
			continue;
		}
		if (err != VAERN_OK)
			fail_msg("%s: %s", cases[i].value, msg.text);
		if (cases[i].now >= 0) {
			assert_int_equal(clock_now(), cases[i].now);
		} else {
			int64_t now = clock_now();

			assert_true(now >= (int64_t)time(NULL) - 5);
			assert_true(now <= (int64_t)time(NULL));
		}
	}
	assert_int_equal(unsetenv(CLOCK_ENV), 0);
	clock_unset();
}

/* cal_day_of: the UTC day of an instant, rounded down (issue 10: one
 * helper for retention, reports and requests). */
static void
test_day_of(void **state)
{
	static const struct {
		int64_t seconds;
		long day;
	} cases[] = {
	        {0, 0},
	        {86399, 0},
	        {86400, 1},
	        {-1, -1},
	        {-86400, -1},
	        {-86401, -2},
	        {1768084200, 20463}, /* 2026-01-10T22:30:00Z */
	        {1768003200, 20463}, /* 2026-01-10T00:00:00Z */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(cal_day_of(cases[i].seconds), cases[i].day);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_day_of),
	        cmocka_unit_test(test_known_day_counts),
	        cmocka_unit_test(test_every_day_1900_2100),
	        cmocka_unit_test(test_round_trip_wide),
	        cmocka_unit_test(test_leap_years),
	        cmocka_unit_test(test_valid),
	        cmocka_unit_test(test_weekday),
	        cmocka_unit_test(test_add_period),
	        cmocka_unit_test(test_add_period_extremes),
	        cmocka_unit_test(test_parse_period_good),
	        cmocka_unit_test(test_parse_period_bad),
	        cmocka_unit_test(test_parse_date_good),
	        cmocka_unit_test(test_parse_date_bad),
	        cmocka_unit_test(test_parse_instant_good),
	        cmocka_unit_test(test_parse_instant_bad),
	        cmocka_unit_test(test_format),
	        cmocka_unit_test(test_format_no_overflow),
	        cmocka_unit_test(test_easter),
	        cmocka_unit_test(test_holidays_dk),
	        cmocka_unit_test(test_holidays_se),
	        cmocka_unit_test(test_holidays_other),
	        cmocka_unit_test(test_extreme_days),
	        cmocka_unit_test(test_working_days),
	        cmocka_unit_test(test_clock_set_unset),
	        cmocka_unit_test(test_clock_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
