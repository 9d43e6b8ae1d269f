/*
 * calendar.c -- dates, calendar periods, working days, and the one clock.
 *
 * Dates are days since 1970-01-01 in the proleptic Gregorian calendar; the
 * conversions are the civil-from-days / days-from-civil algorithms (400-year
 * eras of 146097 days, years counted from 1 March so the leap day falls at
 * the end). Every parser here reads its input byte by byte against a fixed
 * grammar: no locale, no sscanf, nothing past the terminating NUL.
 */
#include "calendar.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECONDS_PER_DAY 86400

/* The sizes of the buffers cal_format_date and cal_format_instant fill. */
#define DATE_TEXT_SIZE    11
#define INSTANT_TEXT_SIZE 21

/*
 * Dates are kept within about +-999,000 years of the epoch so that the year
 * always fits an int and no intermediate sum overflows. That is far beyond
 * any retention period; a day count outside it is clamped to its edge.
 */
#define DAYS_LIMIT 365000000L
#define YEAR_LIMIT 999000LL

/* The Gregorian Easter dates repeat every 5,700,000 years. */
#define EASTER_CYCLE 5700000

/* Largest count cal_parse_period accepts. */
#define PERIOD_COUNT_MAX 1000

/* Longest fraction of a second cal_parse_instant reads (nanoseconds). */
#define FRACTION_DIGITS_MAX 9

static const char date_grammar[] = "expected YYYY-MM-DD";
static const char instant_grammar[] =
        "expected YYYY-MM-DD, optionally followed by THH:MM[:SS[.fff]] and "
        "Z or +HH:MM or -HH:MM";

/* Quotient and remainder rounded towards minus infinity. */
static long long
floor_div(long long a, long long b)
{
	long long q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static long long
floor_mod(long long a, long long b)
{
	long long r = a % b;

	if (r != 0 && ((r < 0) != (b < 0)))
		r += b;
	return r;
}

static int
is_leap(long long year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int
cal_days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
	                             31, 31, 30, 31, 30, 31};

	if (month < 1 || month > 12)
		return 0;
	if (month == 2 && is_leap(year))
		return 29;
	return days[month - 1];
}

int
cal_valid(int year, int month, int day)
{
	return month >= 1 && month <= 12 && day >= 1 &&
	       day <= cal_days_in_month(year, month);
}

long
cal_to_days(struct cal_date d)
{
	long long y = d.year, era, yoe, doy, doe;
	int m = d.month;

	/* Count years from 1 March, so February (and its leap day) is last. */
	if (m <= 2)
		y--;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d.day - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	/* 719468 days from 0000-03-01 to 1970-01-01. */
	return (long)(era * 146097 + doe - 719468);
}

struct cal_date
cal_from_days(long days)
{
	struct cal_date d;
	long long z, era, doe, yoe, doy, mp, y;

	if (days > DAYS_LIMIT)
		days = DAYS_LIMIT;
	if (days < -DAYS_LIMIT)
		days = -DAYS_LIMIT;
	z = (long long)days + 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	y = yoe + era * 400;
	d.day = (int)(doy - (153 * mp + 2) / 5 + 1);
	d.month = (int)(mp < 10 ? mp + 3 : mp - 9);
	d.year = (int)(d.month <= 2 ? y + 1 : y);
	return d;
}

int
cal_weekday(long days)
{
	/* 1970-01-01 was a Thursday (3 when Monday is 0). */
	return (int)((floor_mod(days, 7) + 3) % 7);
}

/*
 * Months and years move the calendar month and keep the day of the month,
 * clamped to the new month's last day (GDPR Art. 12(3); GDPR-12: a request
 * received 31 January is due on the last day of February). A negative count
 * moves backwards with the same clamping.
 */
long
cal_add_period(long days, struct period p)
{
	struct cal_date d;
	long long months, year, sum;

	switch (p.unit) {
	case PERIOD_DAYS:
	case PERIOD_WEEKS:
		sum = (long long)p.count * (p.unit == PERIOD_WEEKS ? 7 : 1);
		sum += days;
		if (sum > DAYS_LIMIT)
			sum = DAYS_LIMIT;
		if (sum < -DAYS_LIMIT)
			sum = -DAYS_LIMIT;
		return (long)sum;
	case PERIOD_MONTHS:
	case PERIOD_YEARS: break;
	}

	d = cal_from_days(days);
	months = (long long)p.count * (p.unit == PERIOD_YEARS ? 12 : 1);
	months += (long long)d.year * 12 + (d.month - 1);
	year = floor_div(months, 12);
	if (year > YEAR_LIMIT)
		year = YEAR_LIMIT;
	if (year < -YEAR_LIMIT)
		year = -YEAR_LIMIT;
	d.year = (int)year;
	d.month = (int)floor_mod(months, 12) + 1;
	if (d.day > cal_days_in_month(d.year, d.month))
		d.day = cal_days_in_month(d.year, d.month);
	return cal_to_days(d);
}

/*
 * Reads exactly n decimal digits at *s into *value and advances *s.
 * Returns 0, or -1 (with *s unchanged) if any of them is not a digit. Stops
 * at the first non-digit, so it never reads past a NUL.
 */
static int
take_digits(const char **s, int n, int *value)
{
	const char *p = *s;
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*value = v;
	*s = p + n;
	return 0;
}

/* Consumes the character c at *s; returns 0, or -1 if *s holds another. */
static int
take_char(const char **s, char c)
{
	if (**s != c)
		return -1;
	(*s)++;
	return 0;
}

/*
 * Parses "YYYY-MM-DD" at *s into days and advances *s past it; what
 * follows is the caller's business. grammar is the message for a
 * malformed input. Messages quote only a field that cannot be a real date
 * (month 13, day 30 of February), never the input.
 */
static enum vaern_err
take_date(const char **s, long *days, const char *grammar,
          struct vaern_msg *msg)
{
	const char *p = *s;
	struct cal_date d;

	if (take_digits(&p, 4, &d.year) < 0 || take_char(&p, '-') < 0 ||
	    take_digits(&p, 2, &d.month) < 0 || take_char(&p, '-') < 0 ||
	    take_digits(&p, 2, &d.day) < 0)
		return vaern_fail(msg, VAERN_E_INVALID, "%s", grammar);
	if (d.year < 1000)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "year before 1000 is out of range");
	if (d.month < 1 || d.month > 12)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "month %d does not exist", d.month);
	if (d.day < 1 || d.day > cal_days_in_month(d.year, d.month))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "day %d does not exist in month %d of that "
		                  "year",
		                  d.day, d.month);
	*days = cal_to_days(d);
	*s = p;
	return VAERN_OK;
}

enum vaern_err
cal_parse_date(const char *text, long *days, struct vaern_msg *msg)
{
	const char *p = text;
	long parsed;
	enum vaern_err err;

	err = take_date(&p, &parsed, date_grammar, msg);
	if (err != VAERN_OK)
		goto done;
	if (*p != '\0') {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "unexpected text after the date; %s",
		                 date_grammar);
		goto done;
	}
	*days = parsed;
done:
	return err;
}

/*
 * Parses "HH:MM[:SS[.fff]]" at *s into seconds since midnight. The
 * fraction is read and dropped: vaern counts whole seconds.
 */
static enum vaern_err
take_time(const char **s, int *seconds, struct vaern_msg *msg)
{
	const char *p = *s;
	int hour, minute, second = 0, i;

	if (take_digits(&p, 2, &hour) < 0 || take_char(&p, ':') < 0 ||
	    take_digits(&p, 2, &minute) < 0)
		return vaern_fail(msg, VAERN_E_INVALID, "%s", instant_grammar);
	if (take_char(&p, ':') == 0) {
		if (take_digits(&p, 2, &second) < 0)
			return vaern_fail(msg, VAERN_E_INVALID, "%s",
			                  instant_grammar);
		if (take_char(&p, '.') == 0) {
			for (i = 0; p[i] >= '0' && p[i] <= '9'; i++)
				if (i == FRACTION_DIGITS_MAX)
					return vaern_fail(
					        msg, VAERN_E_INVALID,
					        "fraction of a second longer "
					        "than %d digits",
					        FRACTION_DIGITS_MAX);
			if (i == 0)
				return vaern_fail(msg, VAERN_E_INVALID,
				                  "expected digits after '.'");
			p += i;
		}
	}
	if (hour > 23)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "hour %d does not exist", hour);
	if (minute > 59)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "minute %d does not exist", minute);
	/* A leap second (:60) is not representable in epoch seconds. */
	if (second > 59)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "second %d does not exist", second);
	*seconds = hour * 3600 + minute * 60 + second;
	*s = p;
	return VAERN_OK;
}

/*
 * Parses the zone at *s: "Z", "+HH:MM", "-HH:MM", or nothing (UTC). Sets
 * *offset to the seconds the local time is ahead of UTC.
 */
static enum vaern_err
take_zone(const char **s, int *offset, struct vaern_msg *msg)
{
	const char *p = *s;
	int sign, hour, minute;

	*offset = 0;
	if (*p == '\0')
		return VAERN_OK;
	if (take_char(&p, 'Z') == 0) {
		*s = p;
		return VAERN_OK;
	}
	if (*p != '+' && *p != '-')
		return vaern_fail(msg, VAERN_E_INVALID, "%s", instant_grammar);
	sign = *p == '-' ? -1 : 1;
	p++;
	if (take_digits(&p, 2, &hour) < 0 || take_char(&p, ':') < 0 ||
	    take_digits(&p, 2, &minute) < 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "expected a zone offset +HH:MM or -HH:MM");
	if (hour > 23 || minute > 59)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "zone offset out of range");
	*offset = sign * (hour * 3600 + minute * 60);
	*s = p;
	return VAERN_OK;
}

enum vaern_err
cal_parse_instant(const char *text, int64_t *seconds, struct vaern_msg *msg)
{
	const char *p = text;
	long days;
	int time_of_day = 0, offset = 0;
	enum vaern_err err;

	err = take_date(&p, &days, instant_grammar, msg);
	if (err != VAERN_OK)
		goto done;
	if (*p == '\0')
		goto set;
	/* RFC 3339 section 5.6 allows a space in place of the 'T'. */
	if (*p != 'T' && *p != ' ') {
		err = vaern_fail(msg, VAERN_E_INVALID, "%s", instant_grammar);
		goto done;
	}
	p++;
	err = take_time(&p, &time_of_day, msg);
	if (err != VAERN_OK)
		goto done;
	/* A time without a zone is read as UTC. */
	err = take_zone(&p, &offset, msg);
	if (err != VAERN_OK)
		goto done;
	if (*p != '\0') {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "unexpected text after the instant; %s",
		                 instant_grammar);
		goto done;
	}
set:
	/* Years 1000..9999: no overflow is possible here. */
	*seconds = (int64_t)days * SECONDS_PER_DAY + time_of_day - offset;
done:
	return err;
}

/* The period units as written, singular and plural. */
static const struct {
	const char *name;
	enum period_unit unit;
} period_names[] = {
        {"day", PERIOD_DAYS},     {"days", PERIOD_DAYS},
        {"week", PERIOD_WEEKS},   {"weeks", PERIOD_WEEKS},
        {"month", PERIOD_MONTHS}, {"months", PERIOD_MONTHS},
        {"year", PERIOD_YEARS},   {"years", PERIOD_YEARS},
};

/*
 * Accepts "<n> <unit>" with any number of spaces (also none, "2months")
 * between them and around them. CEK-RET-1 ("2 months"), AURA-RET-1
 * ("24 months") and GDPR-12 ("1 month") are written this way in policies.
 */
enum vaern_err
cal_parse_period(const char *text, struct period *p, struct vaern_msg *msg)
{
	const char *s = text, *unit;
	size_t unit_len, i;
	int count = 0, digits = 0;
	enum vaern_err err = VAERN_OK;

	while (*s == ' ')
		s++;
	if (*s == '\0') {
		err = vaern_fail(msg, VAERN_E_INVALID, "empty period");
		goto done;
	}
	if (*s == '-') {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "a period cannot be negative");
		goto done;
	}
	/* Saturate above the limit, so a long number cannot overflow. */
	for (; *s >= '0' && *s <= '9'; s++, digits++)
		if (count <= PERIOD_COUNT_MAX)
			count = count * 10 + (*s - '0');
	if (digits == 0) {
		err = vaern_fail(
		        msg, VAERN_E_INVALID,
		        "expected a number at the start of the period");
		goto done;
	}
	if (*s == '.' || *s == ',') {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "the count must be a whole number");
		goto done;
	}
	if (count > PERIOD_COUNT_MAX) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "count is larger than %d", PERIOD_COUNT_MAX);
		goto done;
	}
	while (*s == ' ')
		s++;
	unit = s;
	while (*s != '\0' && *s != ' ')
		s++;
	unit_len = (size_t)(s - unit);
	while (*s == ' ')
		s++;
	if (unit_len == 0) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "expected a unit after the number: day, week, "
		                 "month or year");
		goto done;
	}
	if (*s != '\0') {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "unexpected text after the unit");
		goto done;
	}
	for (i = 0; i < sizeof(period_names) / sizeof(period_names[0]); i++)
		if (strlen(period_names[i].name) == unit_len &&
		    memcmp(period_names[i].name, unit, unit_len) == 0)
			break;
	if (i == sizeof(period_names) / sizeof(period_names[0])) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "unknown unit; expected day(s), week(s), "
		                 "month(s) or year(s) in lower case");
		goto done;
	}
	p->count = count;
	p->unit = period_names[i].unit;
done:
	return err;
}

/*
 * Years outside 0..9999 do not fit the format; snprintf truncates them
 * rather than overflow the buffer.
 */
void
cal_format_date(long days, char out[static DATE_TEXT_SIZE])
{
	struct cal_date d = cal_from_days(days);

	/* Reports format one date a fact: digits by hand for 0..9999. */
	if (d.year < 0 || d.year > 9999) {
		(void)snprintf(out, DATE_TEXT_SIZE, "%04d-%02d-%02d", d.year,
		               d.month, d.day);
		return;
	}
	out[0] = (char)('0' + d.year / 1000);
	out[1] = (char)('0' + d.year / 100 % 10);
	out[2] = (char)('0' + d.year / 10 % 10);
	out[3] = (char)('0' + d.year % 10);
	out[4] = '-';
	out[5] = (char)('0' + d.month / 10);
	out[6] = (char)('0' + d.month % 10);
	out[7] = '-';
	out[8] = (char)('0' + d.day / 10);
	out[9] = (char)('0' + d.day % 10);
	out[10] = '\0';
}

long
cal_day_of(int64_t seconds)
{
	return (long)floor_div(seconds, SECONDS_PER_DAY);
}

void
cal_format_instant(int64_t seconds, char out[static INSTANT_TEXT_SIZE])
{
	long long days;
	unsigned rest;

	days = floor_div(seconds, SECONDS_PER_DAY);
	rest = (unsigned)(seconds - days * SECONDS_PER_DAY);
	if (days > DAYS_LIMIT || days < -DAYS_LIMIT)
		days = days > 0 ? DAYS_LIMIT : -DAYS_LIMIT;
	/* The date fills at most 10 bytes, the time the other 11. */
	cal_format_date((long)days, out);
	{
		char *t = out + DATE_TEXT_SIZE - 1; /* the date is 10 bytes */
		unsigned h = rest / 3600 % 24, m = rest / 60 % 60,
		         sec = rest % 60;

		t[0] = 'T';
		t[1] = (char)('0' + h / 10);
		t[2] = (char)('0' + h % 10);
		t[3] = ':';
		t[4] = (char)('0' + m / 10);
		t[5] = (char)('0' + m % 10);
		t[6] = ':';
		t[7] = (char)('0' + sec / 10);
		t[8] = (char)('0' + sec % 10);
		t[9] = 'Z';
		t[10] = '\0';
	}
}

/* Meeus/Jones/Butcher, the anonymous Gregorian algorithm. */
long
cal_easter(int year)
{
	struct cal_date d;
	long long y, a, b, c, dd, e, f, g, h, i, k, l, m;

	/* Reduce into the cycle, so the divisions below see y >= 0. */
	y = floor_mod(year, EASTER_CYCLE);
	a = y % 19;
	b = y / 100;
	c = y % 100;
	dd = b / 4;
	e = b % 4;
	f = (b + 8) / 25;
	g = (b - f + 1) / 3;
	h = (19 * a + b - dd - g + 15) % 30;
	i = c / 4;
	k = c % 4;
	l = (32 + 2 * e + 2 * i - h - k) % 7;
	m = (a + 11 * h + 22 * l) / 451;
	d.year = year;
	d.month = (int)((h + l - 7 * m + 114) / 31);
	d.day = (int)((h + l - 7 * m + 114) % 31 + 1);
	return cal_to_days(d);
}

/*
 * Holidays that move with Easter, as days after Easter Sunday. Denmark:
 * Maundy Thursday, Good Friday, Easter Sunday and Monday, Ascension Day,
 * Whit Sunday and Whit Monday. Sweden: the same without Maundy Thursday
 * and Whit Monday.
 */
static const int dk_easter_offsets[] = {-3, -2, 0, 1, 39, 49, 50};
static const int se_easter_offsets[] = {-2, 0, 1, 39, 49};

#define EASTER_STORE_BEDEDAG 26
#define EASTER_WHIT_MONDAY   50

static int
is_listed(long value, const int *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == value)
			return 1;
	return 0;
}

/*
 * Danish public holidays (folkekirkens helligdage), plus three days that
 * are not statutory but on which offices customarily close, so that no
 * deadline is counted as a working day on them: Constitution Day
 * (Grundlovsdag, 5 June), Christmas Eve and New Year's Eve. Store Bededag
 * was abolished as a holiday from 2024 on.
 */
static int
dk_holiday(struct cal_date d, long easter_offset)
{
	if ((d.month == 1 && d.day == 1) || (d.month == 6 && d.day == 5) ||
	    (d.month == 12 &&
	     (d.day == 24 || d.day == 25 || d.day == 26 || d.day == 31)))
		return 1;
	if (easter_offset == EASTER_STORE_BEDEDAG)
		return d.year <= 2023;
	return is_listed(easter_offset, dk_easter_offsets,
	                 sizeof(dk_easter_offsets) /
	                         sizeof(dk_easter_offsets[0]));
}

/*
 * Swedish public holidays (lag (1989:253) om allmanna helgdagar), plus
 * Midsummer Eve, Christmas Eve and New Year's Eve, which are not statutory
 * but count as Sundays under semesterlagen (1977:480) section 3, so offices
 * close. The National Day (6 June) replaced Whit Monday in 2005.
 */
static int
se_holiday(struct cal_date d, long easter_offset, int weekday)
{
	if ((d.month == 1 && (d.day == 1 || d.day == 6)) ||
	    (d.month == 5 && d.day == 1) ||
	    (d.month == 12 &&
	     (d.day == 24 || d.day == 25 || d.day == 26 || d.day == 31)))
		return 1;
	if (d.month == 6 && d.day == 6)
		return d.year >= 2005;
	/* Midsummer Eve: the Friday from 19 to 25 June; the Day after it. */
	if (d.month == 6 && weekday == 4 && d.day >= 19 && d.day <= 25)
		return 1;
	if (d.month == 6 && weekday == 5 && d.day >= 20 && d.day <= 26)
		return 1;
	/* All Saints' Day: the Saturday from 31 October to 6 November. */
	if (weekday == 5 &&
	    ((d.month == 10 && d.day == 31) || (d.month == 11 && d.day <= 6)))
		return 1;
	if (easter_offset == EASTER_WHIT_MONDAY)
		return d.year <= 2004;
	return is_listed(easter_offset, se_easter_offsets,
	                 sizeof(se_easter_offsets) /
	                         sizeof(se_easter_offsets[0]));
}

int
cal_is_holiday(const char *country, long days)
{
	struct cal_date d;
	long easter_offset;

	if (country == NULL)
		return 0;
	d = cal_from_days(days);
	easter_offset = days - cal_easter(d.year);
	if (strcmp(country, "DK") == 0)
		return dk_holiday(d, easter_offset);
	if (strcmp(country, "SE") == 0)
		return se_holiday(d, easter_offset, cal_weekday(days));
	return 0;
}

int
cal_is_working_day(const char *country, long days)
{
	return cal_weekday(days) < 5 && !cal_is_holiday(country, days);
}

/*
 * Steps one day at a time and counts only working days, so the result is
 * always a working day when n > 0 (SHOP-BREACH-2: a receipt within 2
 * working days). A negative n counts backwards.
 */
long
cal_add_working_days(const char *country, long days, int n)
{
	long step = n < 0 ? -1 : 1;
	long long left = n < 0 ? -(long long)n : n;

	while (left > 0 && days > -DAYS_LIMIT && days < DAYS_LIMIT) {
		days += step;
		if (cal_is_working_day(country, days))
			left--;
	}
	return days;
}

/*
 * The set clock. Atomic because server threads read it while a test or
 * the CLI may set it; the value is stored before the flag is raised.
 */
static atomic_int clock_is_set;
static _Atomic int64_t clock_value;

int64_t
clock_now(void)
{
	if (atomic_load(&clock_is_set))
		return atomic_load(&clock_value);
	return (int64_t)time(NULL);
}

long
clock_today(void)
{
	return (long)floor_div(clock_now(), SECONDS_PER_DAY);
}

void
clock_set(int64_t seconds)
{
	atomic_store(&clock_value, seconds);
	atomic_store(&clock_is_set, 1);
}

void
clock_unset(void)
{
	atomic_store(&clock_is_set, 0);
}

/*
 * VAERN_AS_OF unset or empty means the system time. A malformed value
 * leaves the clock as it was; the caller names the variable in its report.
 */
enum vaern_err
clock_init_env(struct vaern_msg *msg)
{
	const char *value = getenv(CLOCK_ENV);
	int64_t seconds;
	enum vaern_err err = VAERN_OK;

	if (value == NULL || value[0] == '\0') {
		clock_unset();
		goto done;
	}
	err = cal_parse_instant(value, &seconds, msg);
	if (err != VAERN_OK)
		goto done;
	clock_set(seconds);
done:
	return err;
}

int
cal_parse_days(const char *text, long *days)
{
	char *end = NULL;
	long n = strtol(text, &end, 10);

	if (end == text || n < 0 || n > 3660)
		return -1;
	if (*end == 'w' && end[1] == '\0')
		n *= 7;
	else if (!(*end == '\0' || (*end == 'd' && end[1] == '\0')))
		return -1;
	*days = n;
	return 0;
}
