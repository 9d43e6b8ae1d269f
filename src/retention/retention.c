/*
 * retention.c -- due dates of facts and consent records, and the
 * generalisations that survive anonymisation (retention.h).
 *
 * Everything is a function of the compiled policy and the arguments: the
 * vault stores the result (fact.expires_at, indexed) and the sweep reads
 * only what is due. Days are UTC days since the epoch (calendar.h).
 */
#include "retention.h"

#include <stdbool.h>
#include <string.h>

#include "../calendar/calendar.h"

#define SECONDS_PER_DAY 86400

/* No instant: an event that has not occurred. */
#define NO_TIME INT64_MIN

/* Longest trimmed value year, age band and area look at ("SE-123 45"
 * is 9 bytes; a date 10). Anything longer is not of their shape. */
#define SHAPE_MAX 16

/* A ten-year age band stops at this age: "100+". */
#define AGE_BAND_TOP 100

static int
time_ok(int64_t t)
{
	return t >= RETENTION_TIME_MIN && t <= RETENTION_TIME_MAX;
}

/*
 * TEL-LOG-1, every period (issue 10): the first midnight UTC at or after
 * the instant the period ends, i.e. from's UTC day plus the period in
 * calendar arithmetic, one day later if from is not itself a midnight.
 * So nothing goes before its full period has run, in any time zone and
 * across a summer-time change, and expiries stay whole days (the due
 * index, the plan and the visitors' day keys count by day).
 */
static int64_t
due_at(int64_t from, struct period period)
{
	long day = cal_day_of(from);
	long due = cal_add_period(day, period);

	if (from != (int64_t)day * SECONDS_PER_DAY)
		due++;
	return (int64_t)due * SECONDS_PER_DAY;
}

static void
result_reset(struct retention_result *out)
{
	out->expires_at = RETENTION_NEVER;
	out->rule = -1;
	out->action = RETENTION_DELETE;
	out->legal = 0;
	out->legal_until = INT64_MIN;
	out->legal_rule = -1;
	out->wait = RETENTION_WAIT_NONE;
	out->event = -1;
}

/* The latest recorded occurrence of event e, or NO_TIME. */
static int64_t
latest(const struct retention_event *events, size_t nevents, long e)
{
	int64_t t = NO_TIME;
	size_t i;

	for (i = 0; i < nevents; i++)
		if ((long)events[i].event == e && events[i].at > t)
			t = events[i].at;
	return t;
}

/*
 * The last day of the financial year in which day falls. A year that
 * ends on the last day of a month ends on it in every year, so a
 * financial year ending 28 February ends on the 29th in a leap year.
 */
static long
fy_end_of(const struct policy_controller *c, long day)
{
	struct cal_date d = cal_from_days(day), end;
	int month_end =
	        c->fy_end_day >= cal_days_in_month(2023, c->fy_end_month);

	end.year = d.year;
	end.month = c->fy_end_month;
	end.day = month_end ? cal_days_in_month(end.year, end.month)
	                    : c->fy_end_day;
	if (cal_to_days(end) < day) {
		end.year++;
		if (month_end)
			end.day = cal_days_in_month(end.year, end.month);
	}
	return cal_to_days(end);
}

/*
 * One rule's verdict on a fact: *expires (or RETENTION_NEVER with *wait
 * and *event saying why).
 */
static void
rule_expiry(const struct policy *p, const struct policy_retention *r,
            int64_t collected_at, const struct retention_event *events,
            size_t nevents, int64_t *expires, enum retention_wait *wait,
            long *event)
{
	long first_event = -1;
	int64_t start = 0;
	bool happened = false;
	size_t i;

	*expires = RETENTION_NEVER;
	*wait = RETENTION_WAIT_NONE;
	*event = -1;
	for (i = 0; i < r->nanchors; i++) {
		long a = r->anchor_event[i];
		int64_t t, from;

		if (a == ANCHOR_EVENT_COLLECTED) {
			from = collected_at;
		} else if (a == ANCHOR_EVENT_FY_END) {
			/* The period runs from the day after the year's
			 * end: 5 years from FY 2024 is due 2030-01-01. */
			from = ((int64_t)fy_end_of(&p->controller,
			                           cal_day_of(collected_at)) +
			        1) *
			       SECONDS_PER_DAY;
		} else if (a >= 0 && (size_t)a < p->nevents) {
			long s = p->events[a].ends;

			if (first_event < 0)
				first_event = a;
			t = latest(events, nevents, a);
			/* CEK-RET-1, AOPT-CUST-1: the state this event ends
			 * has started again since (or never ended). */
			if (s >= 0) {
				int64_t st = latest(events, nevents, s);

				if (st != NO_TIME && st > t) {
					*wait = RETENTION_WAIT_OPEN;
					*event = a;
					return;
				}
			}
			if (t == NO_TIME)
				continue;
			from = t;
		} else {
			continue; /* not compiled: the loader refused it */
		}
		if (!happened || from > start)
			start = from;
		happened = true;
	}
	if (!happened) {
		*wait = RETENTION_WAIT_EVENT;
		*event = first_event;
		return;
	}
	*expires = due_at(start, r->period);
}

/* Folds one holding rule's verdict into out: the latest expiry wins. */
static void
fold(const struct policy *p, size_t rule, int64_t expires,
     enum retention_wait wait, long event, struct retention_result *out)
{
	const struct policy_retention *r = &p->retention[rule];

	/* GDPR-17: erasure waits for the longest legal obligation. */
	if (r->legal_obligation != NULL) {
		out->legal = 1;
		if (expires > out->legal_until) {
			out->legal_until = expires;
			out->legal_rule = (long)rule;
		}
	}
	if (out->rule >= 0 && expires <= out->expires_at)
		return;
	out->expires_at = expires;
	out->rule = (long)rule;
	out->action = r->action;
	out->wait = wait;
	out->event = event;
}

static int
holds(const size_t *list, size_t n, size_t idx)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == idx)
			return 1;
	return 0;
}

enum vaern_err
retention_fact_expiry(const struct policy *p, size_t category,
                      int64_t collected_at,
                      const struct retention_event *events, size_t nevents,
                      struct retention_result *out)
{
	enum vaern_err err = VAERN_E_INVALID;
	size_t i;

	result_reset(out);
	if (category >= p->ncategories || !time_ok(collected_at) ||
	    (events == NULL && nevents > 0))
		goto done;
	for (i = 0; i < nevents; i++)
		if (events[i].event >= p->nevents || !time_ok(events[i].at))
			goto done;
	for (i = 0; i < p->nretention; i++) {
		const struct policy_retention *r = &p->retention[i];
		enum retention_wait wait;
		int64_t expires;
		long event;

		if (!holds(r->categories, r->ncategories, category))
			continue;
		rule_expiry(p, r, collected_at, events, nevents, &expires,
		            &wait, &event);
		fold(p, i, expires, wait, event, out);
	}
	/* TEL-RET-1: the loader gives every category a rule. */
	if (out->rule >= 0)
		err = VAERN_OK;
done:
	if (err != VAERN_OK)
		result_reset(out);
	return err;
}

enum vaern_err
retention_consent_expiry(const struct policy *p, size_t purpose,
                         int64_t withdrawn_at, int64_t last_used_at,
                         struct retention_result *out)
{
	enum vaern_err err = VAERN_E_INVALID;
	size_t i;

	result_reset(out);
	if (purpose >= p->npurposes || !time_ok(last_used_at) ||
	    (withdrawn_at != RETENTION_NEVER && !time_ok(withdrawn_at)))
		goto done;
	for (i = 0; i < p->nretention; i++) {
		const struct policy_retention *r = &p->retention[i];
		int64_t from, expires = RETENTION_NEVER;
		enum retention_wait wait = RETENTION_WAIT_CONSENT;

		if (!holds(r->consents, r->nconsents, purpose))
			continue;
		/* TEL-MKT-2: kept while valid, then period after the later
		 * of its end and its last use. */
		if (withdrawn_at != RETENTION_NEVER) {
			from = withdrawn_at > last_used_at ? withdrawn_at
			                                   : last_used_at;
			expires = due_at(from, r->period);
			wait = RETENTION_WAIT_NONE;
		}
		fold(p, i, expires, wait, -1, out);
	}
	err = out->rule >= 0 ? VAERN_OK : VAERN_E_NOTFOUND;
done:
	if (err != VAERN_OK)
		result_reset(out);
	return err;
}

int
retention_is_due(const struct retention_result *r, int64_t now)
{
	return r->expires_at != RETENTION_NEVER && r->expires_at <= now;
}

enum generalise
retention_survivor(const struct policy *p, long rule, size_t category)
{
	const struct policy_retention *r;
	size_t i;

	if (rule < 0 || (size_t)rule >= p->nretention)
		return GENERALISE_DROP;
	r = &p->retention[rule];
	if (r->action != RETENTION_ANONYMISE)
		return GENERALISE_DROP;
	for (i = 0; i < r->nkeep; i++)
		if (r->keep[i] == category)
			return r->keep_as[i];
	return GENERALISE_DROP;
}

/* ---------------------------------------------------------------------
 * Generalisation (TEL-STAT-1).
 */

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Copies value without surrounding blanks into buf (SHAPE_MAX + 1
 * bytes). Returns its length, or -1 if it is longer than SHAPE_MAX.
 */
static int
trimmed(const char *value, char *buf)
{
	size_t len;

	while (is_blank(*value))
		value++;
	len = strnlen(value, SHAPE_MAX + 2);
	if (len > SHAPE_MAX + 1)
		return -1;
	while (len > 0 && is_blank(value[len - 1]))
		len--;
	if (len > SHAPE_MAX)
		return -1;
	memcpy(buf, value, len);
	buf[len] = '\0';
	return (int)len;
}

/* A real date "YYYY-MM-DD" into *days; 0 if not one. */
static int
take_date(const char *value, long *days, char *buf)
{
	if (trimmed(value, buf) != 10)
		return 0;
	return cal_parse_date(buf, days, NULL) == VAERN_OK;
}

/*
 * The two leading digits of a Danish or Swedish postcode into lead[2]:
 * "NNNN" (Denmark, 0555..9990, optionally "DK-"), "NNNNN" or "NNN NN"
 * (Sweden, 100 00..989 99, optionally "SE-" or "S-"). Returns 0 if value
 * is not one.
 */
static int
take_postcode(const char *value, char lead[2], char *buf)
{
	const char *s = buf;
	int len = trimmed(value, buf), dk = 0, se = 0, n, i;

	if (len < 0)
		return 0;
	if (strncmp(s, "DK-", 3) == 0) {
		dk = 1;
		s += 3;
	} else if (strncmp(s, "SE-", 3) == 0) {
		se = 1;
		s += 3;
	} else if (strncmp(s, "S-", 2) == 0) {
		se = 1;
		s += 2;
	}
	n = (int)strlen(s);
	for (i = 0; i < n; i++)
		if (!is_digit(s[i]) && !(n == 6 && i == 3 && s[i] == ' '))
			return 0;
	if (n == 4 && se)
		return 0;
	if ((n == 5 || n == 6) && (dk || s[0] == '0'))
		return 0;
	if (n < 4 || n > 6)
		return 0;
	lead[0] = s[0];
	lead[1] = s[1];
	return 1;
}

/* Completed years of life on day asof of someone born on day birth. */
static int
age_on(long birth, long asof)
{
	struct cal_date b = cal_from_days(birth), a = cal_from_days(asof);
	int age = a.year - b.year;

	if (a.month < b.month || (a.month == b.month && a.day < b.day))
		age--;
	return age;
}

/* The ten-year band of age >= 0 into text (RETENTION_GENERALISED_MAX):
 * "0-9", "10-19", ... "90-99", "100+". */
static void
age_band(int age, char *text)
{
	char d = (char)('0' + age / 10);

	if (age >= AGE_BAND_TOP) {
		memcpy(text, "100+", 5);
		return;
	}
	if (age < 10) {
		memcpy(text, "0-9", 4);
		return;
	}
	text[0] = d;
	text[1] = '0';
	text[2] = '-';
	text[3] = d;
	text[4] = '9';
	text[5] = '\0';
}

/* Writes text into out if it fits. */
static enum vaern_err
put(const char *text, char *out, size_t outlen, struct vaern_msg *msg)
{
	size_t len = strlen(text);

	if (len >= outlen)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "the generalised value needs %zu bytes",
		                  len + 1);
	memcpy(out, text, len + 1);
	return VAERN_OK;
}

enum vaern_err
retention_generalise(enum generalise kind, const char *value, long asof_days,
                     char *out, size_t outlen, struct vaern_msg *msg)
{
	char buf[SHAPE_MAX + 1], text[RETENTION_GENERALISED_MAX];
	enum vaern_err err;
	long days;
	int age;

	if (outlen > 0)
		out[0] = '\0';
	switch (kind) {
	case GENERALISE_AS_IS: err = put(value, out, outlen, msg); break;
	case GENERALISE_YEAR:
		if (!take_date(value, &days, buf)) {
			err = vaern_fail(msg, VAERN_E_INVALID,
			                 "year: not a date (YYYY-MM-DD)");
			break;
		}
		memcpy(text, buf, 4);
		text[4] = '\0';
		err = put(text, out, outlen, msg);
		break;
	case GENERALISE_AGE_BAND:
		if (!take_date(value, &days, buf)) {
			err = vaern_fail(msg, VAERN_E_INVALID,
			                 "age_band: not a birth date "
			                 "(YYYY-MM-DD)");
			break;
		}
		if (days > asof_days) {
			err = vaern_fail(
			        msg, VAERN_E_INVALID,
			        "age_band: the birth date is after the "
			        "day of anonymisation");
			break;
		}
		age = age_on(days, asof_days);
		age_band(age, text);
		err = put(text, out, outlen, msg);
		break;
	case GENERALISE_AREA:
		if (!take_postcode(value, text, buf)) {
			err = vaern_fail(msg, VAERN_E_INVALID,
			                 "area: not a postcode (Danish NNNN or "
			                 "Swedish NNN NN)");
			break;
		}
		memcpy(text + 2, "xx", 3);
		err = put(text, out, outlen, msg);
		break;
	case GENERALISE_DROP: err = put("", out, outlen, msg); break;
	default:
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "unknown generalisation %d", (int)kind);
		break;
	}
	/* The copy held personal data (CONVENTIONS.md habit 4). */
	explicit_bzero(buf, sizeof(buf));
	if (err != VAERN_OK && outlen > 0)
		out[0] = '\0';
	return err;
}
