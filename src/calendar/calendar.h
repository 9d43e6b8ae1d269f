/*
 * calendar.h -- dates, calendar periods, working days, and the one clock.
 *
 * vaern counts dates as days since 1970-01-01 (proleptic Gregorian, UTC)
 * and instants as seconds since the epoch (UTC). Periods are calendar
 * periods: one month after 31 January is the last day of February
 * (GDPR Art. 12(3); retention rules in CLAUSES.md).
 *
 * All "now" in vaern goes through clock_now(): tests and the CLI can set it
 * (--as-of, or the environment variable VAERN_AS_OF), so retention and
 * deadlines can be tested on chosen dates.
 */
#ifndef VAERN_CALENDAR_H
#define VAERN_CALENDAR_H

#include <stdint.h>

#include "../common/err.h"

/* The environment variable that sets the clock, read by clock_init_env. */
#define CLOCK_ENV "VAERN_AS_OF"

struct cal_date {
	int year;  /* e.g. 2024 */
	int month; /* 1..12 */
	int day;   /* 1..31 */
};

enum period_unit { PERIOD_DAYS, PERIOD_WEEKS, PERIOD_MONTHS, PERIOD_YEARS };

struct period {
	int count;             /* >= 0 */
	enum period_unit unit; /* the calendar unit */
};

/* Returns 1 if y/m/d is a real date, 0 otherwise. */
int cal_valid(int year, int month, int day);

/* Days since 1970-01-01 for d (valid date assumed). */
long cal_to_days(struct cal_date d);

/* The date of days since 1970-01-01. */
struct cal_date cal_from_days(long days);

/* Day of week of days since the epoch: 0 = Monday .. 6 = Sunday. */
int cal_weekday(long days);

/* Number of days in month of year. */
int cal_days_in_month(int year, int month);

/*
 * Adds p to the date days and returns the result. Months and years clamp
 * to the month's last day: 2024-01-31 + 1 month = 2024-02-29;
 * 2023-12-31 + 2 months = 2024-02-29; 2024-02-29 + 1 year = 2025-02-28.
 */
long cal_add_period(long days, struct period p);

/*
 * Parses "YYYY-MM-DD" into days since the epoch. Returns VAERN_OK or
 * VAERN_E_INVALID with msg (may be NULL) saying what is wrong.
 *
 * Risk: the message names the part that is wrong ("day 30 does not exist
 * in month 2 ..."), which is right for a command-line argument but
 * echoes personal data when the text is a value (a birth date). Such
 * callers pass msg NULL and say only that the value is not a date.
 */
enum vaern_err cal_parse_date(const char *text, long *days,
                              struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* A number of days ahead as an operator or a query writes it: "7", "7d"
 * or "2w" (0..3660 days) into *days: 0, or -1 if it is not one. The one
 * parser of --due-within and ?due_within= (requests, incidents). */
int cal_parse_days(const char *text, long *days) __attribute__((nonnull));

/*
 * Parses "YYYY-MM-DD" (midnight UTC), "YYYY-MM-DDTHH:MM[:SS]Z" or with a
 * "+HH:MM"/"-HH:MM" offset, into seconds since the epoch (UTC). The
 * message names the part that is wrong, as cal_parse_date's does.
 */
enum vaern_err cal_parse_instant(const char *text, int64_t *seconds,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * Parses a period: "<n> day(s)|week(s)|month(s)|year(s)" (also "2 months",
 * "24 months", "1 year"), n from 0 to 1000.
 */
enum vaern_err cal_parse_period(const char *text, struct period *p,
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* The UTC day (days since 1970-01-01) of an instant in seconds since the
 * epoch, rounded down: instants before the epoch too. */
long cal_day_of(int64_t seconds);

/* Writes "YYYY-MM-DD" for days into out (at least 11 bytes). */
void cal_format_date(long days, char out[static 11]);

/* Writes "YYYY-MM-DDTHH:MM:SSZ" for seconds into out (at least 21 bytes). */
void cal_format_instant(int64_t seconds, char out[static 21]);

/*
 * Working days. country is "DK" or "SE". Returns 1 if days is a public
 * holiday there (Easter-relative holidays included; Denmark's Store Bededag
 * is a holiday only until 2023), 0 otherwise.
 */
int cal_is_holiday(const char *country, long days);

/* Returns 1 if days is neither a weekend day nor a holiday in country. */
int cal_is_working_day(const char *country, long days);

/* The date n working days after days in country (n >= 0). */
long cal_add_working_days(const char *country, long days, int n);

/* Easter Sunday of year, as days since the epoch. */
long cal_easter(int year);

/*
 * The clock. clock_now() returns the set time if one was set, the system
 * time otherwise. clock_set() fixes it (seconds since the epoch);
 * clock_unset() returns to the system time. clock_init_env() reads
 * VAERN_AS_OF (a date or an instant) if set; it returns VAERN_E_INVALID
 * with msg if the variable is malformed.
 */
int64_t clock_now(void);
long clock_today(void);
void clock_set(int64_t seconds);
void clock_unset(void);
enum vaern_err clock_init_env(struct vaern_msg *msg)
        __attribute__((warn_unused_result));

#endif
