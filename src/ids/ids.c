/*
 * ids.c -- normalise and validate personal and company identifiers.
 *
 * Each identifier type has one parser that reads the trimmed input byte by
 * byte against a fixed grammar (no locale, no sscanf) and writes the one
 * normal form the vault blind-indexes. The parsers never put any part of
 * the value into a message: messages are fixed strings that say which rule
 * failed (CONVENTIONS.md habit 4; GDPR-32). Digit buffers that held a
 * value are wiped before returning.
 */
#include "ids.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../common/utf8.h"

#define SECONDS_PER_DAY 86400

/* 9999-12-31 as days since 1970-01-01: the last date with a 4-digit year. */
#define ASOF_DAYS_MAX 2932896L

#define CPR_DIGITS       10
#define PNR_DIGITS       10 /* YYMMDDNNNN, the digits the Luhn check covers */
#define CVR_DIGITS       8
#define ORGNR_DIGITS     10
#define CARD_MIN         13
#define CARD_MAX         19
#define EMAIL_LOCAL_MAX  64
#define EMAIL_DOMAIN_MAX 253
#define DNS_LABEL_MAX    63
#define USERNAME_MAX     64
#define OTHER_MAX        128

/* E.164: at most 15 digits, country code included. */
#define E164_MIN 8
#define E164_MAX 15
/* Digits a phone parser buffers: "00" plus a full E.164 number. */
#define PHONE_DIGITS_MAX (E164_MAX + 2)
#define DK_NATIONAL      8
#define SE_NATIONAL_MIN  7
#define SE_NATIONAL_MAX  9

/* Coordination numbers add 60 to the day of birth (Skatteverket). */
#define SE_COORDINATION_OFFSET 60

/* A birth date resolved from an identifier. */
struct birth_date {
	long year; /* full year, e.g. 1981 */
	int month; /* 1..12 */
	int day;   /* 1..31, the real day (coordination offset removed) */
};

static const struct {
	enum id_type type; /* the type */
	const char *name;  /* its name in policies and on the command line */
	const char *label; /* how messages name it */
} id_types[] = {
        {ID_CPR, "cpr", "CPR number"},
        {ID_PERSONNUMMER, "personnummer", "personnummer"},
        {ID_CVR, "cvr", "CVR number"},
        {ID_ORGNR, "orgnr", "organisationsnummer"},
        {ID_EMAIL, "email", "e-mail address"},
        {ID_PHONE, "phone", "phone number"},
        {ID_CARD, "card", "card number"},
        {ID_USERNAME, "username", "username"},
        {ID_OTHER, "other", "identifier"},
};

#define N_ID_TYPES (sizeof(id_types) / sizeof(id_types[0]))

enum id_type
id_type_from_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return ID_NONE;
	for (i = 0; i < N_ID_TYPES; i++)
		if (strcmp(name, id_types[i].name) == 0)
			return id_types[i].type;
	return ID_NONE;
}

const char *
id_type_name(enum id_type type)
{
	size_t i;

	for (i = 0; i < N_ID_TYPES; i++)
		if (id_types[i].type == type)
			return id_types[i].name;
	return "none";
}

static const char *
id_label(enum id_type type)
{
	size_t i;

	for (i = 0; i < N_ID_TYPES; i++)
		if (id_types[i].type == type)
			return id_types[i].label;
	return "identifier";
}

/*
 * Fails with why, prefixed by the type's label. why is always a fixed
 * string: never pass anything derived from the value (GDPR-32).
 */
static enum vaern_err
id_fail(struct vaern_msg *msg, enum id_type type, const char *why)
{
	return vaern_fail(msg, VAERN_E_INVALID, "%s: %s", id_label(type), why);
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int
all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_digit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* The number written by the two digits at s. */
static int
two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static int
is_leap(long year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
date_exists(long year, int month, int day)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
	                             31, 31, 30, 31, 30, 31};
	int last;

	if (month < 1 || month > 12 || day < 1)
		return 0;
	last = days[month - 1];
	if (month == 2 && is_leap(year))
		last = 29;
	return day <= last;
}

/* Returns <0, 0, >0 as a is before, on, or after b. */
static int
date_cmp(const struct birth_date *a, const struct birth_date *b)
{
	if (a->year != b->year)
		return a->year < b->year ? -1 : 1;
	if (a->month != b->month)
		return a->month < b->month ? -1 : 1;
	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	return 0;
}

/*
 * The civil date of days since 1970-01-01 (0 <= days <= ASOF_DAYS_MAX):
 * 400-year eras counted from 0000-03-01, so the leap day ends the year.
 */
static struct birth_date
date_from_days(long days)
{
	struct birth_date d;
	long z, era, doe, yoe, doy, mp;

	z = days + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d.day = (int)(doy - (153 * mp + 2) / 5 + 1);
	d.month = (int)(mp < 10 ? mp + 3 : mp - 9);
	d.year = yoe + era * 400 + (d.month <= 2);
	return d;
}

/* Luhn (ISO/IEC 7812-1) over the n digits at d. */
static int
luhn_ok_n(const char *d, size_t n)
{
	unsigned sum = 0;
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned v = (unsigned)(d[n - 1 - i] - '0');

		if (v > 9)
			return 0;
		if (i % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

int
id_luhn_ok(const char *digits)
{
	return luhn_ok_n(digits, strlen(digits));
}

/*
 * Validates UTF-8: no overlong forms, no surrogates, nothing above
 * U+10FFFF, and no C1 control characters (U+0080..U+009F). Returns NULL,
 * or the fixed reason the text is refused.
 */
static const char *
utf8_check(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((n = utf8_decode(p + i, len - i, &cp)) == 0)
			return "is not valid UTF-8";
		if (cp >= 0x80 && cp <= 0x9f)
			return "contains a control character";
		i += n;
	}
	return NULL;
}

/*
 * Danish CPR number (CPR-loven; CEK-CAT-1, TEL-CAT-1): DDMMYY-SSSS,
 * DDMMYYSSSS or DDMMYY SSSS. The 7th digit with YY gives the century. No
 * modulus-11 check: numbers issued since 2007 need not pass it.
 */
static enum vaern_err
norm_cpr(const char *s, size_t len, char *out, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_E_INVALID;
	char d[CPR_DIGITS];
	long year;
	int day, month, yy, c7;

	if (len == CPR_DIGITS && all_digits(s, len)) {
		memcpy(d, s, CPR_DIGITS);
	} else if (len == CPR_DIGITS + 1 && (s[6] == '-' || s[6] == ' ') &&
	           all_digits(s, 6) && all_digits(s + 7, 4)) {
		memcpy(d, s, 6);
		memcpy(d + 6, s + 7, 4);
	} else {
		err = id_fail(msg, ID_CPR, "expected DDMMYY-SSSS (10 digits)");
		goto done;
	}
	day = two_digits(d);
	month = two_digits(d + 2);
	yy = two_digits(d + 4);
	c7 = d[6] - '0';
	if (month < 1 || month > 12) {
		err = id_fail(msg, ID_CPR, "the month does not exist");
		goto done;
	}
	if (day < 1 || day > 31) {
		err = id_fail(msg, ID_CPR, "the day does not exist");
		goto done;
	}
	/* The CPR office's century table, keyed by the 7th digit. */
	if (c7 <= 3)
		year = 1900 + yy;
	else if (c7 == 4 || c7 == 9)
		year = (yy <= 36 ? 2000 : 1900) + yy;
	else
		year = (yy <= 57 ? 2000 : 1800) + yy;
	if (!date_exists(year, month, day)) {
		err = id_fail(msg, ID_CPR,
		              "the birth date does not exist (that month has "
		              "fewer days in the century the 7th digit gives)");
		goto done;
	}
	memcpy(out, d, 6);
	out[6] = '-';
	memcpy(out + 7, d + 6, 4);
	out[11] = '\0';
	err = VAERN_OK;
done:
	explicit_bzero(d, sizeof(d));
	return err;
}

/*
 * Swedish personnummer (folkbokföringslagen; AOPT-CAT-1): YYMMDD-NNNN,
 * YYMMDD+NNNN (100 or older), YYMMDDNNNN, YYYYMMDD-NNNN or YYYYMMDDNNNN.
 * Luhn over YYMMDDNNNN; day + 60 is a coordination number. The century of
 * the 10-digit form is the one that puts the birth date on or before the
 * reference date and less than 100 years before it ('-'), or 100 years
 * earlier still ('+').
 */
static enum vaern_err
norm_personnummer(const char *s, size_t len, long asof_days, char *out,
                  size_t outsz, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_E_INVALID;
	struct birth_date birth, today;
	char d[PNR_DIGITS];
	char sep = '-';
	int century = -1, raw_day, n;

	if (len == 10 && all_digits(s, 10)) {
		memcpy(d, s, 10);
	} else if (len == 11 && (s[6] == '-' || s[6] == '+') &&
	           all_digits(s, 6) && all_digits(s + 7, 4)) {
		sep = s[6];
		memcpy(d, s, 6);
		memcpy(d + 6, s + 7, 4);
	} else if (len == 12 && all_digits(s, 12)) {
		century = two_digits(s);
		memcpy(d, s + 2, 10);
	} else if (len == 13 && s[8] == '-' && all_digits(s, 8) &&
	           all_digits(s + 9, 4)) {
		century = two_digits(s);
		memcpy(d, s + 2, 6);
		memcpy(d + 6, s + 9, 4);
	} else {
		err = id_fail(msg, ID_PERSONNUMMER,
		              "expected YYMMDD-NNNN, YYMMDD+NNNN or "
		              "YYYYMMDD-NNNN");
		goto done;
	}

	birth.month = two_digits(d + 2);
	raw_day = two_digits(d + 4);
	birth.day = raw_day;
	if (raw_day > SE_COORDINATION_OFFSET)
		birth.day = raw_day - SE_COORDINATION_OFFSET;
	if (birth.month < 1 || birth.month > 12) {
		err = id_fail(msg, ID_PERSONNUMMER, "the month does not exist");
		goto done;
	}
	if (birth.day < 1 || birth.day > 31) {
		err = id_fail(msg, ID_PERSONNUMMER,
		              "the day does not exist (1..31, or 61..91 for a "
		              "coordination number)");
		goto done;
	}
	if (!luhn_ok_n(d, PNR_DIGITS)) {
		err = id_fail(msg, ID_PERSONNUMMER,
		              "the check digit does not match");
		goto done;
	}

	if (asof_days <= 0) {
		time_t now = time(NULL);

		if (now < 0) {
			err = id_fail(msg, ID_PERSONNUMMER,
			              "the system clock is not available");
			goto done;
		}
		asof_days = (long)(now / SECONDS_PER_DAY);
	}
	if (asof_days > ASOF_DAYS_MAX) {
		err = id_fail(msg, ID_PERSONNUMMER,
		              "the reference date is after the year 9999");
		goto done;
	}
	today = date_from_days(asof_days);

	if (century >= 0) {
		birth.year = century * 100L + two_digits(d);
	} else {
		long yy = two_digits(d);

		/* The latest year ending in YY not after this year ... */
		birth.year = today.year - (today.year - yy) % 100;
		/* ... unless that birthday is still to come this year. */
		if (date_cmp(&birth, &today) > 0)
			birth.year -= 100;
		if (sep == '+')
			birth.year -= 100;
	}
	if (!date_exists(birth.year, birth.month, birth.day)) {
		err = id_fail(msg, ID_PERSONNUMMER,
		              "the birth date does not exist");
		goto done;
	}
	if (date_cmp(&birth, &today) > 0) {
		err = id_fail(msg, ID_PERSONNUMMER,
		              "the birth date is in the future");
		goto done;
	}

	/* The day stays as given: day + 60 marks a coordination number. */
	n = snprintf(out, outsz, "%04ld%.4s-%.4s", birth.year, d + 2, d + 6);
	if (n != 13) {
		err = vaern_fail(msg, VAERN_E_INTERNAL,
		                 "personnummer: the normal form did not fit");
		goto done;
	}
	err = VAERN_OK;
done:
	explicit_bzero(d, sizeof(d));
	return err;
}

/*
 * Danish CVR number (CEK-CAT-1): 8 digits, optionally prefixed "DK", spaces
 * allowed between digits; first digit not 0; modulus 11 with weights
 * 2,7,6,5,4,3,2,1.
 */
static enum vaern_err
norm_cvr(const char *s, size_t len, char *out, struct vaern_msg *msg)
{
	static const int weight[CVR_DIGITS] = {2, 7, 6, 5, 4, 3, 2, 1};
	enum vaern_err err = VAERN_E_INVALID;
	char d[CVR_DIGITS];
	size_t i = 0, n = 0;
	int sum = 0;

	if (len >= 2 && (s[0] == 'D' || s[0] == 'd') &&
	    (s[1] == 'K' || s[1] == 'k'))
		i = 2;
	for (; i < len; i++) {
		if (s[i] == ' ')
			continue;
		if (!is_digit((unsigned char)s[i])) {
			err = id_fail(msg, ID_CVR,
			              "only digits and spaces may follow the "
			              "optional DK prefix");
			goto done;
		}
		if (n == CVR_DIGITS) {
			err = id_fail(msg, ID_CVR, "expected 8 digits");
			goto done;
		}
		d[n++] = s[i];
	}
	if (n != CVR_DIGITS) {
		err = id_fail(msg, ID_CVR, "expected 8 digits");
		goto done;
	}
	if (d[0] == '0') {
		err = id_fail(msg, ID_CVR, "the first digit cannot be 0");
		goto done;
	}
	for (i = 0; i < CVR_DIGITS; i++)
		sum += weight[i] * (d[i] - '0');
	if (sum % 11 != 0) {
		err = id_fail(msg, ID_CVR,
		              "the check digit does not match (modulus 11)");
		goto done;
	}
	memcpy(out, d, CVR_DIGITS);
	out[CVR_DIGITS] = '\0';
	err = VAERN_OK;
done:
	explicit_bzero(d, sizeof(d));
	return err;
}

/*
 * Swedish organisationsnummer (Bolagsverket): NNNNNN-NNNN or NNNNNNNNNN,
 * optionally with the century prefix "16"; Luhn over the 10 digits; the
 * third digit is 2 or more, which sets it apart from a personnummer.
 */
static enum vaern_err
norm_orgnr(const char *s, size_t len, char *out, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_E_INVALID;
	char d[ORGNR_DIGITS];

	if ((len == 12 || len == 13) && s[0] == '1' && s[1] == '6') {
		s += 2;
		len -= 2;
	} else if (len == 12 || len == 13) {
		err = id_fail(msg, ID_ORGNR,
		              "a 12-digit form must start with the prefix 16");
		goto done;
	}
	if (len == 10 && all_digits(s, 10)) {
		memcpy(d, s, 10);
	} else if (len == 11 && s[6] == '-' && all_digits(s, 6) &&
	           all_digits(s + 7, 4)) {
		memcpy(d, s, 6);
		memcpy(d + 6, s + 7, 4);
	} else {
		err = id_fail(msg, ID_ORGNR,
		              "expected NNNNNN-NNNN (10 digits)");
		goto done;
	}
	if (d[2] < '2') {
		err = id_fail(msg, ID_ORGNR,
		              "the third digit must be 2 or more (a legal "
		              "person's number)");
		goto done;
	}
	if (!luhn_ok_n(d, ORGNR_DIGITS)) {
		err = id_fail(msg, ID_ORGNR, "the check digit does not match");
		goto done;
	}
	memcpy(out, d, 6);
	out[6] = '-';
	memcpy(out + 7, d + 6, 4);
	out[11] = '\0';
	err = VAERN_OK;
done:
	explicit_bzero(d, sizeof(d));
	return err;
}

static int
is_label_char(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '-';
}

/*
 * E-mail address (AOPT-CAT-1, CEK-CAT-1, TEL-CAT-1): one '@'; a local part
 * of 1..64 printable ASCII characters without spaces; a domain of
 * dot-separated LDH labels. The whole address is lower-cased: RFC 5321
 * lets a host treat the local part's case as significant, but practically
 * none does, and a person who types Anna@ once and anna@ the next time
 * must be found as one person. Quoted local parts and raw UTF-8 are
 * refused.
 */
static enum vaern_err
norm_email(const char *s, size_t len, char *out, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_E_INVALID;
	const char *at, *dom;
	size_t llen, dlen, i, label = 0, dots = 0;

	at = memchr(s, '@', len);
	if (at == NULL) {
		err = id_fail(msg, ID_EMAIL, "there is no '@'");
		goto done;
	}
	llen = (size_t)(at - s);
	dom = at + 1;
	dlen = len - llen - 1;
	if (memchr(dom, '@', dlen) != NULL) {
		err = id_fail(msg, ID_EMAIL, "there is more than one '@'");
		goto done;
	}
	if (llen == 0 || llen > EMAIL_LOCAL_MAX) {
		err = id_fail(msg, ID_EMAIL,
		              "the local part must have 1 to 64 characters");
		goto done;
	}
	for (i = 0; i < llen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f) {
			err = id_fail(msg, ID_EMAIL,
			              "the local part may only hold printable "
			              "ASCII without spaces");
			goto done;
		}
		if (c == '.' && (i == 0 || i == llen - 1 || s[i - 1] == '.')) {
			err = id_fail(msg, ID_EMAIL,
			              "the local part has a dot at either end "
			              "or two dots in a row");
			goto done;
		}
	}
	if (dlen == 0 || dlen > EMAIL_DOMAIN_MAX) {
		err = id_fail(msg, ID_EMAIL,
		              "the domain must have 1 to 253 characters");
		goto done;
	}
	for (i = 0; i <= dlen; i++) {
		unsigned char c = i < dlen ? (unsigned char)dom[i] : '.';

		if (c != '.' && !is_label_char(c)) {
			err = id_fail(msg, ID_EMAIL,
			              "the domain may only hold letters, "
			              "digits, '-' and '.'");
			goto done;
		}
		if (c != '.') {
			label++;
			continue;
		}
		if (label == 0) {
			err = id_fail(msg, ID_EMAIL,
			              "the domain has an empty label (a dot at "
			              "either end or two dots in a row)");
			goto done;
		}
		if (label > DNS_LABEL_MAX) {
			err = id_fail(msg, ID_EMAIL,
			              "a domain label is longer than 63 "
			              "characters");
			goto done;
		}
		if (dom[i - label] == '-' || dom[i - 1] == '-') {
			err = id_fail(msg, ID_EMAIL,
			              "a domain label starts or ends with '-'");
			goto done;
		}
		if (i < dlen)
			dots++;
		label = 0;
	}
	if (dots == 0) {
		err = id_fail(msg, ID_EMAIL, "the domain has no dot");
		goto done;
	}
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[i] = c;
	}
	out[len] = '\0';
	err = VAERN_OK;
done:
	return err;
}

/* Returns "DK" or "SE" for country (NULL meaning DK), or NULL. */
static const char *
phone_country(const char *country)
{
	if (country == NULL)
		return "DK";
	if (strlen(country) != 2)
		return NULL;
	if ((country[0] == 'D' || country[0] == 'd') &&
	    (country[1] == 'K' || country[1] == 'k'))
		return "DK";
	if ((country[0] == 'S' || country[0] == 's') &&
	    (country[1] == 'E' || country[1] == 'e'))
		return "SE";
	return NULL;
}

/*
 * Phone number in E.164 (AOPT-CAT-1, CEK-CAT-1, TEL-CAT-1). International
 * with "+" or "00"; otherwise national in default_country: Denmark has no
 * trunk prefix and 8 digits, Sweden a trunk 0 and 7 to 9 digits after it.
 * Spaces, dashes, dots and parentheses are dropped; so is a "(0)" trunk
 * marker after a country code ("+46 (0)70 ...").
 */
static enum vaern_err
norm_phone(const char *s, size_t len, const char *default_country, char *out,
           size_t outsz, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_E_INVALID;
	char d[PHONE_DIGITS_MAX];
	const char *country, *cc = "", *num;
	size_t i, n = 0, nlen;
	int plus = 0, wrote;

	country = phone_country(default_country);
	if (country == NULL) {
		err = id_fail(msg, ID_PHONE,
		              "the default country must be DK or SE");
		goto done;
	}
	for (i = 0; i < len; i++) {
		char c = s[i];
		int intl = plus || (n >= 2 && d[0] == '0' && d[1] == '0');

		if (is_digit((unsigned char)c)) {
			if (n == sizeof(d)) {
				err = id_fail(msg, ID_PHONE,
				              "there are more than 15 digits");
				goto done;
			}
			d[n++] = c;
		} else if (c == '+') {
			if (plus || n > 0) {
				err = id_fail(msg, ID_PHONE,
				              "'+' may only start the number");
				goto done;
			}
			plus = 1;
		} else if (c == '(' && intl && n > (plus ? 0u : 2u) &&
		           len - i >= 3 && s[i + 1] == '0' && s[i + 2] == ')') {
			i += 2;
		} else if (c != ' ' && c != '-' && c != '.' && c != '(' &&
		           c != ')') {
			err = id_fail(msg, ID_PHONE,
			              "only digits, '+', spaces, dashes, dots "
			              "and parentheses are allowed");
			goto done;
		}
	}
	if (n == 0) {
		err = id_fail(msg, ID_PHONE, "there are no digits");
		goto done;
	}

	num = d;
	nlen = n;
	if (!plus && n >= 2 && d[0] == '0' && d[1] == '0') {
		num = d + 2;
		nlen = n - 2;
	} else if (!plus && strcmp(country, "DK") == 0) {
		if (n != DK_NATIONAL) {
			err = id_fail(msg, ID_PHONE,
			              "a Danish number has 8 digits");
			goto done;
		}
		cc = "45";
	} else if (!plus) {
		if (d[0] != '0') {
			err = id_fail(msg, ID_PHONE,
			              "a Swedish national number starts "
			              "with 0");
			goto done;
		}
		num = d + 1;
		nlen = n - 1;
		cc = "46";
	}

	/* From here num holds the number after '+', less cc if set. */
	if (cc[0] == '\0') {
		if (nlen < E164_MIN || nlen > E164_MAX) {
			err = id_fail(msg, ID_PHONE,
			              "an international number has 8 to 15 "
			              "digits after the '+'");
			goto done;
		}
		if (num[0] == '0') {
			err = id_fail(msg, ID_PHONE,
			              "a country code cannot start with 0");
			goto done;
		}
		if (num[0] == '4' && num[1] == '5') {
			cc = "45";
			num += 2;
			nlen -= 2;
		} else if (num[0] == '4' && num[1] == '6') {
			cc = "46";
			num += 2;
			nlen -= 2;
		}
	}
	if (strcmp(cc, "45") == 0 && nlen != DK_NATIONAL) {
		err = id_fail(msg, ID_PHONE,
		              "a Danish number has 8 digits after +45");
		goto done;
	}
	if (strcmp(cc, "46") == 0 &&
	    (nlen < SE_NATIONAL_MIN || nlen > SE_NATIONAL_MAX)) {
		err = id_fail(msg, ID_PHONE,
		              "a Swedish number has 7 to 9 digits after +46, "
		              "without the trunk 0");
		goto done;
	}
	wrote = snprintf(out, outsz, "+%s%.*s", cc, (int)nlen, num);
	if (wrote < 0 || (size_t)wrote >= outsz) {
		err = vaern_fail(msg, VAERN_E_INTERNAL,
		                 "phone number: the normal form did not fit");
		goto done;
	}
	err = VAERN_OK;
done:
	explicit_bzero(d, sizeof(d));
	return err;
}

/*
 * Payment card number (SHOP-PAY-1): 13 to 19 digits, single spaces or
 * dashes between digits, Luhn.
 */
static enum vaern_err
norm_card(const char *s, size_t len, char *out, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_E_INVALID;
	char d[CARD_MAX];
	size_t i, n = 0;
	int after_sep = 1;

	for (i = 0; i < len; i++) {
		if (is_digit((unsigned char)s[i])) {
			if (n == CARD_MAX) {
				err = id_fail(msg, ID_CARD,
				              "expected 13 to 19 digits");
				goto done;
			}
			d[n++] = s[i];
			after_sep = 0;
		} else if (s[i] == ' ' || s[i] == '-') {
			if (after_sep) {
				err = id_fail(msg, ID_CARD,
				              "a space or dash may only stand "
				              "singly between digits");
				goto done;
			}
			after_sep = 1;
		} else {
			err = id_fail(msg, ID_CARD,
			              "only digits, spaces and dashes are "
			              "allowed");
			goto done;
		}
	}
	if (after_sep) {
		err = id_fail(msg, ID_CARD,
		              "a space or dash may only stand singly between "
		              "digits");
		goto done;
	}
	if (n < CARD_MIN) {
		err = id_fail(msg, ID_CARD, "expected 13 to 19 digits");
		goto done;
	}
	if (!luhn_ok_n(d, n)) {
		err = id_fail(msg, ID_CARD, "the check digit does not match");
		goto done;
	}
	memcpy(out, d, n);
	out[n] = '\0';
	err = VAERN_OK;
done:
	explicit_bzero(d, sizeof(d));
	return err;
}

/* username and other: bounded, valid UTF-8 text, kept as trimmed. */
static enum vaern_err
norm_text(enum id_type type, const char *s, size_t len, size_t max, char *out,
          struct vaern_msg *msg)
{
	const char *why;

	if (len > max)
		return id_fail(msg, type,
		               type == ID_USERNAME
		                       ? "is longer than 64 bytes"
		                       : "is longer than 128 bytes");
	why = utf8_check(s, len);
	if (why != NULL)
		return id_fail(msg, type, why);
	memcpy(out, s, len);
	out[len] = '\0';
	return VAERN_OK;
}

/*
 * Validates value as an identifier of type and writes its normal form to
 * out. Returns VAERN_OK; VAERN_E_INVALID with msg saying which rule failed
 * (never quoting the value) and out wiped to an empty string; or
 * VAERN_E_LIMIT if outsz is below ID_NORM_MAX (out then untouched but for
 * an empty string if it has room).
 */
enum vaern_err
id_normalise(enum id_type type, const char *value, const char *default_country,
             long asof_days, char *out, size_t outsz, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_E_INVALID;
	const char *s;
	size_t len, i;

	if (msg != NULL)
		msg->text[0] = '\0';
	if (outsz < ID_NORM_MAX) {
		if (outsz > 0)
			out[0] = '\0';
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "%s: the output buffer is smaller than "
		                  "ID_NORM_MAX",
		                  id_label(type));
	}
	out[0] = '\0';

	len = strnlen(value, ID_INPUT_MAX + 1);
	if (len > ID_INPUT_MAX) {
		err = id_fail(msg, type, "is longer than 254 bytes");
		goto done;
	}
	s = value;
	while (len > 0 && is_space((unsigned char)s[0])) {
		s++;
		len--;
	}
	while (len > 0 && is_space((unsigned char)s[len - 1]))
		len--;
	if (len == 0) {
		err = id_fail(msg, type, "is empty");
		goto done;
	}
	for (i = 0; i < len; i++) {
		if (is_ctl((unsigned char)s[i])) {
			err = id_fail(msg, type,
			              "contains a control character");
			goto done;
		}
	}

	switch (type) {
	case ID_CPR: err = norm_cpr(s, len, out, msg); break;
	case ID_PERSONNUMMER:
		err = norm_personnummer(s, len, asof_days, out, outsz, msg);
		break;
	case ID_CVR: err = norm_cvr(s, len, out, msg); break;
	case ID_ORGNR: err = norm_orgnr(s, len, out, msg); break;
	case ID_EMAIL: err = norm_email(s, len, out, msg); break;
	case ID_PHONE:
		err = norm_phone(s, len, default_country, out, outsz, msg);
		break;
	case ID_CARD: err = norm_card(s, len, out, msg); break;
	case ID_USERNAME:
		err = norm_text(type, s, len, USERNAME_MAX, out, msg);
		break;
	case ID_OTHER:
		err = norm_text(type, s, len, OTHER_MAX, out, msg);
		break;
	case ID_NONE:
	default:
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "unknown identifier type");
		break;
	}
done:
	if (err != VAERN_OK)
		explicit_bzero(out, outsz);
	return err;
}

#define SCAN_CARD_MIN 12 /* Maestro has 12-digit numbers */

/*
 * Checks the digit groups of one run (groups were separated by a run of
 * separators): every sequence of whole consecutive groups of 12..19
 * digits that starts with a card-network digit (2-6) and passes Luhn is a
 * card number, when it is grouped as card numbers are written: one solid
 * group, groups of 3 or more digits but perhaps the last (4-4-4-4, Amex
 * 4-6-5, Diners 4-6-4 or 4-4-4-2), or groups all of one length (digits
 * spaced out one or two at a time).
 * Whole groups only: a window cut out of a longer solid number (an order
 * or account number) is not a card; and dates and phone numbers (2-digit
 * groups of mixed lengths: 2026-01-05 - 2027-01-05, +45 20 30 40 50) are
 * not taken for one, which keeps false positives near the 10% that Luhn
 * alone lets through.
 */
static int
card_in_run(const char *digits, const size_t *gstart, size_t ngroups,
            size_t ndigits)
{
	for (size_t i = 0; i < ngroups; i++) {
		size_t from = gstart[i], first = 0, shortest = SIZE_MAX;
		int uniform = 1;

		if (digits[from] < '2' || digits[from] > '6')
			continue;
		for (size_t j = i; j < ngroups; j++) {
			size_t to = j + 1 < ngroups ? gstart[j + 1] : ndigits;
			size_t n = to - from;
			size_t glen = to - gstart[j];

			if (n > CARD_MAX)
				break;
			if (j == i)
				first = glen;
			uniform &= glen == first;
			/* shortest: of the groups before this last one */
			if (n >= SCAN_CARD_MIN && (uniform || shortest >= 3) &&
			    luhn_ok_n(digits + from, n))
				return 1;
			if (glen < shortest)
				shortest = glen;
		}
	}
	return 0;
}

#define SCAN_DIGITS  256 /* digits of one run kept; longer runs restart */
#define SCAN_GROUPS  64
#define SCAN_SEP_MAX 8 /* separator characters between two groups */

/*
 * The length in bytes of the separator character at p, or 0: whatever a
 * person may put between digit groups of a card number (SHOP-PAY-1):
 * spaces, tabs, line breaks, dots, slashes, dashes, underscores, and the
 * Unicode spaces and dashes (no-break, figure, thin, narrow no-break,
 * hyphens, en and em dash, minus).
 */
static size_t
card_separator(const unsigned char *p)
{
	if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '.' ||
	    *p == '/' || *p == '-' || *p == '_' || *p == '\\')
		return 1;
	if (p[0] == 0xC2 && p[1] == 0xA0) /* U+00A0 no-break space */
		return 2;
	if (p[0] == 0xE2 && p[1] == 0x80 &&
	    ((p[2] >= 0x80 && p[2] <= 0x95) || p[2] == 0xAF))
		return 3; /* U+2000..U+2015 spaces and dashes, U+202F */
	if (p[0] == 0xE2 && p[1] == 0x88 && p[2] == 0x92)
		return 3; /* U+2212 minus */
	if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
		return 3; /* U+3000 ideographic space */
	return 0;
}

int
id_contains_card_number(const char *text)
{
	char digits[SCAN_DIGITS];
	size_t gstart[SCAN_GROUPS];
	size_t nd = 0, ng = 0, nsep = 0;
	int found = 0, in_group = 0;
	const unsigned char *p = (const unsigned char *)text;

	while (!found) {
		size_t seplen;

		if (is_digit(*p)) {
			if (!in_group) {
				if (ng == SCAN_GROUPS || nd == SCAN_DIGITS) {
					found = card_in_run(digits, gstart, ng,
					                    nd);
					nd = ng = 0;
				}
				gstart[ng++] = nd;
				in_group = 1;
				nsep = 0;
			}
			if (nd == SCAN_DIGITS) {
				/* A solid run this long is no card. */
				found = card_in_run(digits, gstart, ng - 1,
				                    gstart[ng - 1]);
				nd = 0;
				ng = 1;
				gstart[0] = 0;
			}
			digits[nd++] = (char)*p++;
			continue;
		}
		/* A run of separators between digits continues the run of
		 * groups: "4111.1111", "4111 - 1111", "4111  1111". */
		seplen = card_separator(p);
		if (seplen > 0 && ng > 0 && nsep < SCAN_SEP_MAX) {
			in_group = 0;
			nsep++;
			p += seplen;
			continue;
		}
		if (ng > 0)
			found = card_in_run(digits, gstart, ng, nd);
		nd = ng = nsep = 0;
		in_group = 0;
		if (*p == '\0')
			break;
		p += seplen > 0 ? seplen : 1;
	}
	explicit_bzero(digits, sizeof(digits));
	return found;
}

enum vaern_err
id_refuse_card(const char *text, const char *field, struct vaern_msg *msg)
{
	if (!id_contains_card_number(text))
		return VAERN_OK;
	return vaern_fail(msg, VAERN_E_DENIED,
	                  "%s holds a full payment card number, which vaern "
	                  "never stores (SHOP-PAY-1); keep only the last 4 "
	                  "digits and the expiry",
	                  field);
}
