/*
 * test_ids.c -- table-driven tests of the identifier module.
 *
 * Every row is {type, input, default country, expected ok, expected normal
 * form}; a failing row also names a fragment of the message it expects, so
 * a test proves the message says which rule failed. Every failing row is
 * also checked not to leak the value into its message (GDPR-32), and
 * every passing row to be a fixed point: its normal form normalises to
 * itself, so two spellings give one blind index.
 */
/* cmocka needs these before it, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <string.h>

#include "ids/ids.h"

/* 2024-06-15, the reference date of every row unless a row sets its own. */
#define ASOF_2024_06_15 19889L
#define ASOF_1990_01_01 7305L
#define ASOF_2000_02_29 11016L
#define ASOF_9999_12_31 2932896L

#define NOK 0
#define OK  1

struct norm_case {
	enum id_type type;   /* the identifier type */
	const char *input;   /* the value as a user or file spells it */
	const char *country; /* default country for phone numbers, or NULL */
	int ok;              /* OK if it must be accepted */
	const char *normal;  /* its normal form (ok), or a fragment of the
	                        message (not ok) */
	long asof;           /* reference date; 0 means ASOF_2024_06_15 */
};

/*
 * Danish CPR (CEK-CAT-1, TEL-CAT-1): format, day and month ranges, the
 * century table of the 7th digit, leap days, and no modulus-11 check.
 */
static const struct norm_case cpr_cases[] = {
        /* 010190-1234 fails modulus 11 (sum 84): accepted, as since 2007. */
        {ID_CPR, "010190-1234", NULL, OK, "010190-1234", 0},
        {ID_CPR, "0101901234", NULL, OK, "010190-1234", 0},
        {ID_CPR, "010190 1234", NULL, OK, "010190-1234", 0},
        {ID_CPR, " \t010190-1234\r\n", NULL, OK, "010190-1234", 0},
        {ID_CPR, "310190-1234", NULL, OK, "310190-1234", 0},
        {ID_CPR, "011390-1234", NULL, NOK, "month does not exist", 0},
        {ID_CPR, "010090-1234", NULL, NOK, "month does not exist", 0},
        {ID_CPR, "000190-1234", NULL, NOK, "day does not exist", 0},
        {ID_CPR, "320190-1234", NULL, NOK, "day does not exist", 0},
        {ID_CPR, "310490-1234", NULL, NOK, "birth date does not exist", 0},
        /* 7th digit 0-3: 1900s, so 29 Feb 1900 does not exist. */
        {ID_CPR, "290200-0123", NULL, NOK, "birth date does not exist", 0},
        {ID_CPR, "290200-3123", NULL, NOK, "birth date does not exist", 0},
        {ID_CPR, "290296-1234", NULL, OK, "290296-1234", 0},
        {ID_CPR, "290297-1234", NULL, NOK, "birth date does not exist", 0},
        /* 7th digit 4 or 9: 2000s if YY <= 36, else 1900s. */
        {ID_CPR, "290200-4000", NULL, OK, "290200-4000", 0},
        {ID_CPR, "290236-4000", NULL, OK, "290236-4000", 0},
        {ID_CPR, "290237-4000", NULL, NOK, "birth date does not exist", 0},
        {ID_CPR, "290200-9000", NULL, OK, "290200-9000", 0},
        {ID_CPR, "290240-9000", NULL, OK, "290240-9000", 0},
        {ID_CPR, "290241-9000", NULL, NOK, "birth date does not exist", 0},
        /* 7th digit 5-8: 2000s if YY <= 57, else 1800s. */
        {ID_CPR, "290200-5000", NULL, OK, "290200-5000", 0},
        {ID_CPR, "290256-8000", NULL, OK, "290256-8000", 0},
        {ID_CPR, "290258-5000", NULL, NOK, "birth date does not exist", 0},
        {ID_CPR, "290200-7000", NULL, OK, "290200-7000", 0},
        {ID_CPR, "010158-6000", NULL, OK, "010158-6000", 0},
        {ID_CPR, "010190/1234", NULL, NOK, "expected DDMMYY-SSSS", 0},
        {ID_CPR, "010190--1234", NULL, NOK, "expected DDMMYY-SSSS", 0},
        {ID_CPR, "010190-123", NULL, NOK, "expected DDMMYY-SSSS", 0},
        {ID_CPR, "010190-12345", NULL, NOK, "expected DDMMYY-SSSS", 0},
        {ID_CPR, "01019O-1234", NULL, NOK, "expected DDMMYY-SSSS", 0},
        {ID_CPR, "0101-901234", NULL, NOK, "expected DDMMYY-SSSS", 0},
        {ID_CPR, "010190+1234", NULL, NOK, "expected DDMMYY-SSSS", 0},
        {ID_CPR,
         "010190-12\x01"
         "34",
         NULL, NOK, "control character", 0},
        {ID_CPR, "", NULL, NOK, "is empty", 0},
        {ID_CPR, "   ", NULL, NOK, "is empty", 0},
};

/*
 * Swedish personnummer (AOPT-CAT-1): Luhn, coordination numbers, century
 * resolution against the reference date, '+', 12-digit forms.
 */
static const struct norm_case pnr_cases[] = {
        {ID_PERSONNUMMER, "811218-9876", NULL, OK, "19811218-9876", 0},
        {ID_PERSONNUMMER, "8112189876", NULL, OK, "19811218-9876", 0},
        {ID_PERSONNUMMER, "19811218-9876", NULL, OK, "19811218-9876", 0},
        {ID_PERSONNUMMER, "198112189876", NULL, OK, "19811218-9876", 0},
        {ID_PERSONNUMMER, " 811218-9876 ", NULL, OK, "19811218-9876", 0},
        /* '+': 100 or older. */
        {ID_PERSONNUMMER, "811218+9876", NULL, OK, "18811218-9876", 0},
        {ID_PERSONNUMMER, "811218-9875", NULL, NOK, "check digit", 0},
        {ID_PERSONNUMMER, "19811218-9875", NULL, NOK, "check digit", 0},
        /* Coordination numbers: day + 60, kept as given. */
        {ID_PERSONNUMMER, "811278-9873", NULL, OK, "19811278-9873", 0},
        {ID_PERSONNUMMER, "811291-9876", NULL, OK, "19811291-9876", 0},
        {ID_PERSONNUMMER, "810291-9878", NULL, NOK, "birth date does not", 0},
        {ID_PERSONNUMMER, "811260-9870", NULL, NOK, "day does not exist", 0},
        {ID_PERSONNUMMER, "811292-9870", NULL, NOK, "day does not exist", 0},
        {ID_PERSONNUMMER, "811232-9870", NULL, NOK, "day does not exist", 0},
        {ID_PERSONNUMMER, "811200-9870", NULL, NOK, "day does not exist", 0},
        {ID_PERSONNUMMER, "811318-9870", NULL, NOK, "month does not exist", 0},
        {ID_PERSONNUMMER, "810018-9870", NULL, NOK, "month does not exist", 0},
        /* Century relative to 2024-06-15: yesterday, today, tomorrow. */
        {ID_PERSONNUMMER, "240614-1230", NULL, OK, "20240614-1230", 0},
        {ID_PERSONNUMMER, "240615-1239", NULL, OK, "20240615-1239", 0},
        {ID_PERSONNUMMER, "240616-1238", NULL, OK, "19240616-1238", 0},
        {ID_PERSONNUMMER, "240614+1230", NULL, OK, "19240614-1230", 0},
        {ID_PERSONNUMMER, "240616+1238", NULL, OK, "18240616-1238", 0},
        {ID_PERSONNUMMER, "20240615-1239", NULL, OK, "20240615-1239", 0},
        {ID_PERSONNUMMER, "20240616-1238", NULL, NOK, "in the future", 0},
        /* Another reference date moves the century. */
        {ID_PERSONNUMMER, "951218-9870", NULL, OK, "19951218-9870", 0},
        {ID_PERSONNUMMER, "951218-9870", NULL, OK, "18951218-9870",
         ASOF_1990_01_01},
        {ID_PERSONNUMMER, "811218-9876", NULL, OK, "19811218-9876",
         ASOF_1990_01_01},
        /* Leap days: 2000 is a leap year, 1900 is not. */
        {ID_PERSONNUMMER, "000229-1235", NULL, OK, "20000229-1235", 0},
        {ID_PERSONNUMMER, "000229+1235", NULL, NOK, "birth date does not", 0},
        {ID_PERSONNUMMER, "000229-1235", NULL, OK, "20000229-1235",
         ASOF_2000_02_29},
        {ID_PERSONNUMMER, "240229-1237", NULL, OK, "20240229-1237", 0},
        {ID_PERSONNUMMER, "240229-1237", NULL, OK, "19240229-1237",
         ASOF_2000_02_29},
        {ID_PERSONNUMMER, "19000229-1235", NULL, NOK, "birth date does not", 0},
        {ID_PERSONNUMMER, "19811218+9876", NULL, NOK, "expected", 0},
        {ID_PERSONNUMMER, "811218 9876", NULL, NOK, "expected", 0},
        {ID_PERSONNUMMER, "811218-987", NULL, NOK, "expected", 0},
        {ID_PERSONNUMMER, "1981121-89876", NULL, NOK, "expected", 0},
        {ID_PERSONNUMMER, "81121A-9876", NULL, NOK, "expected", 0},
        {ID_PERSONNUMMER, "811218-9876", NULL, NOK, "reference date",
         ASOF_9999_12_31 + 1},
        {ID_PERSONNUMMER, "811218-9876", NULL, OK, "99811218-9876",
         ASOF_9999_12_31},
};

/* Danish CVR (CEK-CAT-1), with the numbers printed in the seeds. */
static const struct norm_case cvr_cases[] = {
        {ID_CVR, "21628549", NULL, OK, "21628549", 0},    /* seed 000 */
        {ID_CVR, "21 62 85 49", NULL, OK, "21628549", 0}, /* seed 000 */
        {ID_CVR, "34046352", NULL, OK, "34046352", 0},    /* seed 003 */
        {ID_CVR, "DK21628549", NULL, OK, "21628549", 0},
        {ID_CVR, "DK 34046352", NULL, OK, "34046352", 0},
        {ID_CVR, "dk34046352", NULL, OK, "34046352", 0},
        {ID_CVR, "21628548", NULL, NOK, "check digit", 0},
        {ID_CVR, "34046353", NULL, NOK, "check digit", 0},
        /* 01234560 passes modulus 11 but no CVR starts with 0. */
        {ID_CVR, "01234560", NULL, NOK, "first digit", 0},
        {ID_CVR, "2162854", NULL, NOK, "8 digits", 0},
        {ID_CVR, "216285490", NULL, NOK, "8 digits", 0},
        {ID_CVR, "DK", NULL, NOK, "8 digits", 0},
        {ID_CVR, "21-62-85-49", NULL, NOK, "only digits and spaces", 0},
        {ID_CVR, "SE21628549", NULL, NOK, "only digits and spaces", 0},
};

/* Swedish organisationsnummer, with the number printed in seed 001. */
static const struct norm_case orgnr_cases[] = {
        {ID_ORGNR, "559331-7323", NULL, OK, "559331-7323", 0}, /* seed 001 */
        {ID_ORGNR, "5593317323", NULL, OK, "559331-7323", 0},
        {ID_ORGNR, "16559331-7323", NULL, OK, "559331-7323", 0},
        {ID_ORGNR, "165593317323", NULL, OK, "559331-7323", 0},
        {ID_ORGNR, "556012-5790", NULL, OK, "556012-5790", 0},
        {ID_ORGNR, "202100-0001", NULL, OK, "202100-0001", 0},
        {ID_ORGNR, "559331-7324", NULL, NOK, "check digit", 0},
        /* A personnummer is not an organisationsnummer. */
        {ID_ORGNR, "121212-1212", NULL, NOK, "third digit", 0},
        {ID_ORGNR, "811218-9876", NULL, NOK, "third digit", 0},
        {ID_ORGNR, "195593317323", NULL, NOK, "prefix 16", 0},
        {ID_ORGNR, "559331+7323", NULL, NOK, "expected", 0},
        {ID_ORGNR, "559331-732", NULL, NOK, "expected", 0},
        {ID_ORGNR, "55933-17323", NULL, NOK, "expected", 0},
};

#define S10 "abcdefghij"
#define S60 S10 S10 S10 S10 S10 S10
#define L63 S60 "abc"

/* E-mail (AOPT-CAT-1, CEK-CAT-1, TEL-CAT-1). */
static const struct norm_case email_cases[] = {
        /* Lower-cased whole, so Anna@ and anna@ are one person. */
        {ID_EMAIL, "Alice.Smith@Example.COM", NULL, OK,
         "alice.smith@example.com", 0},
        {ID_EMAIL, "  bob@x.dk \n", NULL, OK, "bob@x.dk", 0},
        {ID_EMAIL, "user+tag@sub.example.co.uk", NULL, OK,
         "user+tag@sub.example.co.uk", 0},
        {ID_EMAIL, "kundeservice@telenor.dk", NULL, OK,
         "kundeservice@telenor.dk", 0},
        {ID_EMAIL, "a@xn--bb-eka.dk", NULL, OK, "a@xn--bb-eka.dk", 0},
        {ID_EMAIL, "a@a-b.c0", NULL, OK, "a@a-b.c0", 0},
        {ID_EMAIL, S60 "abcd@x.dk", NULL, OK, S60 "abcd@x.dk", 0},
        {ID_EMAIL, S60 "abcde@x.dk", NULL, NOK, "1 to 64", 0},
        {ID_EMAIL, "a@" L63 ".dk", NULL, OK, "a@" L63 ".dk", 0},
        {ID_EMAIL, "a@" L63 "d.dk", NULL, NOK, "longer than 63", 0},
        {ID_EMAIL, "bob@localhost", NULL, NOK, "no dot", 0},
        {ID_EMAIL, "bob.x.dk", NULL, NOK, "no '@'", 0},
        {ID_EMAIL, "bob@@x.dk", NULL, NOK, "more than one '@'", 0},
        {ID_EMAIL, "bob@x@y.dk", NULL, NOK, "more than one '@'", 0},
        {ID_EMAIL, "@x.dk", NULL, NOK, "1 to 64", 0},
        {ID_EMAIL, "bob@", NULL, NOK, "1 to 253", 0},
        {ID_EMAIL, "a..b@x.dk", NULL, NOK, "two dots", 0},
        {ID_EMAIL, ".bob@x.dk", NULL, NOK, "either end", 0},
        {ID_EMAIL, "bob.@x.dk", NULL, NOK, "either end", 0},
        {ID_EMAIL, "bob@x..dk", NULL, NOK, "empty label", 0},
        {ID_EMAIL, "bob@.x.dk", NULL, NOK, "empty label", 0},
        {ID_EMAIL, "bob@x.dk.", NULL, NOK, "empty label", 0},
        {ID_EMAIL, "bob@-x.dk", NULL, NOK, "'-'", 0},
        {ID_EMAIL, "bob@x-.dk", NULL, NOK, "'-'", 0},
        {ID_EMAIL, "bob@x.dk-", NULL, NOK, "'-'", 0},
        {ID_EMAIL, "b ob@x.dk", NULL, NOK, "printable ASCII", 0},
        {ID_EMAIL,
         "b\xc3\xb8"
         "b@x.dk",
         NULL, NOK, "printable ASCII", 0},
        {ID_EMAIL, "bob@x_y.dk", NULL, NOK, "letters, digits", 0},
        {ID_EMAIL, "bob@x y.dk", NULL, NOK, "letters, digits", 0},
        {ID_EMAIL, "bob\x01@x.dk", NULL, NOK, "control character", 0},
        {ID_EMAIL, "bob\x7f@x.dk", NULL, NOK, "control character", 0},
};

/* Phone in E.164 (AOPT-CAT-1, CEK-CAT-1, TEL-CAT-1). */
static const struct norm_case phone_cases[] = {
        {ID_PHONE, "+45 12 34 56 78", NULL, OK, "+4512345678", 0},
        {ID_PHONE, "0045 12 34 56 78", NULL, OK, "+4512345678", 0},
        {ID_PHONE, "12345678", NULL, OK, "+4512345678", 0},
        {ID_PHONE, "12 34 56 78", "DK", OK, "+4512345678", 0},
        {ID_PHONE, "(+45) 12-34.56.78", "dk", OK, "+4512345678", 0},
        {ID_PHONE, "72 100 100", NULL, OK, "+4572100100", 0},
        {ID_PHONE, "87 92 55 77", NULL, OK, "+4587925577", 0},
        {ID_PHONE, "+4512345678", "SE", OK, "+4512345678", 0},
        {ID_PHONE, "1234567", NULL, NOK, "8 digits", 0},
        {ID_PHONE, "123456789", NULL, NOK, "8 digits", 0},
        {ID_PHONE, "+45 1234567", NULL, NOK, "8 digits after +45", 0},
        {ID_PHONE, "+45 123456789", NULL, NOK, "8 digits after +45", 0},
        {ID_PHONE, "070-123 45 67", "SE", OK, "+46701234567", 0},
        {ID_PHONE, "08-123 456", "SE", OK, "+468123456", 0},
        {ID_PHONE, "+46 70 123 45 67", NULL, OK, "+46701234567", 0},
        {ID_PHONE, "+46 (0)70 123 45 67", NULL, OK, "+46701234567", 0},
        {ID_PHONE, "0046 (0)70 123 45 67", NULL, OK, "+46701234567", 0},
        {ID_PHONE, "0046 70 123 45 67", "SE", OK, "+46701234567", 0},
        {ID_PHONE, "+46 070 123 45 67", NULL, NOK, "after +46", 0},
        {ID_PHONE, "70-123 45 67", "SE", NOK, "starts with 0", 0},
        {ID_PHONE, "0701234567", NULL, NOK, "8 digits", 0},
        {ID_PHONE, "0812345", "SE", NOK, "after +46", 0},
        {ID_PHONE, "+1 212 555 0100", NULL, OK, "+12125550100", 0},
        {ID_PHONE, "+44 20 7946 0958", NULL, OK, "+442079460958", 0},
        {ID_PHONE, "+0 123 456 789", NULL, NOK, "country code", 0},
        {ID_PHONE, "+1234567", NULL, NOK, "8 to 15", 0},
        {ID_PHONE, "+1234567890123456", NULL, NOK, "8 to 15", 0},
        {ID_PHONE, "+12345678901234567890", NULL, NOK, "more than 15", 0},
        {ID_PHONE, "+45 12+345678", NULL, NOK, "'+' may only", 0},
        {ID_PHONE, "++4512345678", NULL, NOK, "'+' may only", 0},
        {ID_PHONE, "12345678x", NULL, NOK, "only digits", 0},
        {ID_PHONE, "+45/12345678", NULL, NOK, "only digits", 0},
        {ID_PHONE, "( - )", NULL, NOK, "no digits", 0},
        {ID_PHONE, "12345678", "NO", NOK, "DK or SE", 0},
        {ID_PHONE, "12345678", "DKK", NOK, "DK or SE", 0},
};

/* Payment card (SHOP-PAY-1). */
static const struct norm_case card_cases[] = {
        {ID_CARD, "4111 1111 1111 1111", NULL, OK, "4111111111111111", 0},
        {ID_CARD, "4111-1111-1111-1111", NULL, OK, "4111111111111111", 0},
        {ID_CARD, "4111111111111111", NULL, OK, "4111111111111111", 0},
        {ID_CARD, "4222222222222", NULL, OK, "4222222222222", 0},
        {ID_CARD, "4111111111111111110", NULL, OK, "4111111111111111110", 0},
        {ID_CARD, "4111111111111112", NULL, NOK, "check digit", 0},
        {ID_CARD, "411111111119", NULL, NOK, "13 to 19", 0},
        {ID_CARD, "41111111111111111103", NULL, NOK, "13 to 19", 0},
        {ID_CARD, "4111  1111 1111 1111", NULL, NOK, "singly", 0},
        {ID_CARD, "-4111111111111111", NULL, NOK, "singly", 0},
        {ID_CARD, "4111111111111111-", NULL, NOK, "singly", 0},
        {ID_CARD, "4111 1111 1111 111a", NULL, NOK, "only digits", 0},
        {ID_CARD, "4111.1111.1111.1111", NULL, NOK, "only digits", 0},
};

/* Usernames and controller-specific keys (AOPT-CAT-1: customer number). */
static const struct norm_case text_cases[] = {
        {ID_USERNAME, "  alice ", NULL, OK, "alice", 0},
        {ID_USERNAME,
         "\xc3\x85sa \xc3\x98"
         "berg",
         NULL, OK,
         "\xc3\x85sa \xc3\x98"
         "berg",
         0},
        {ID_USERNAME, S60 "abcd", NULL, OK, S60 "abcd", 0},
        {ID_USERNAME, S60 "abcde", NULL, NOK, "longer than 64", 0},
        {ID_USERNAME, "a\tb", NULL, NOK, "control character", 0},
        {ID_USERNAME, "a\x7f", NULL, NOK, "control character", 0},
        {ID_USERNAME,
         "a\xc2\x85"
         "b",
         NULL, NOK, "control character", 0},
        {ID_USERNAME, "a\xc3", NULL, NOK, "UTF-8", 0},
        {ID_USERNAME, "a\xc0\xaf", NULL, NOK, "UTF-8", 0},
        {ID_USERNAME, "a\xe0\x80\xaf", NULL, NOK, "UTF-8", 0},
        {ID_USERNAME, "a\xed\xa0\x80", NULL, NOK, "UTF-8", 0},
        {ID_USERNAME, "a\xf4\x90\x80\x80", NULL, NOK, "UTF-8", 0},
        {ID_USERNAME, "a\x80", NULL, NOK, "UTF-8", 0},
        {ID_USERNAME, "\xf0\x9f\x98\x80", NULL, OK, "\xf0\x9f\x98\x80", 0},
        {ID_USERNAME, " \n ", NULL, NOK, "is empty", 0},
        {ID_OTHER, " CUST-00042 ", NULL, OK, "CUST-00042", 0},
        {ID_OTHER, "order no. 7 / 2024", NULL, OK, "order no. 7 / 2024", 0},
        {ID_OTHER, S60 S60 "abcdefgh", NULL, OK, S60 S60 "abcdefgh", 0},
        {ID_OTHER, S60 S60 "abcdefghi", NULL, NOK, "longer than 128", 0},
        {ID_OTHER, "a\x1b[31m", NULL, NOK, "control character", 0},
        {ID_OTHER, "\xff", NULL, NOK, "UTF-8", 0},
        {ID_OTHER, "", NULL, NOK, "is empty", 0},
        {ID_NONE, "x", NULL, NOK, "unknown identifier type", 0},
};

/*
 * Fails if msg holds any 4 consecutive digits of the value, or the whole
 * trimmed value when it is 6 bytes or more (GDPR-32: personal data never
 * reaches an error message).
 */
static void
assert_no_leak(const char *input, const char *msg)
{
	char digits[ID_INPUT_MAX + 1], window[5];
	size_t n = 0, i, len;
	const char *s = input;

	for (i = 0; input[i] != '\0' && n < ID_INPUT_MAX; i++)
		if (input[i] >= '0' && input[i] <= '9')
			digits[n++] = input[i];
	for (i = 0; i + 4 <= n; i++) {
		memcpy(window, digits + i, 4);
		window[4] = '\0';
		if (strstr(msg, window) != NULL)
			fail_msg("message \"%s\" quotes digits of the value",
			         msg);
	}
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\n'))
		len--;
	if (len >= 6 && memmem(msg, strlen(msg), s, len) != NULL)
		fail_msg("message \"%s\" quotes the value", msg);
}

static void
run_cases(const struct norm_case *cases, size_t n)
{
	char out[ID_NORM_MAX], again[ID_NORM_MAX];
	struct vaern_msg msg;
	enum vaern_err err;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct norm_case *c = &cases[i];
		long asof = c->asof != 0 ? c->asof : ASOF_2024_06_15;

		memset(out, 'x', sizeof(out));
		err = id_normalise(c->type, c->input, c->country, asof, out,
		                   sizeof(out), &msg);
		if (c->ok) {
			if (err != VAERN_OK)
				fail_msg("row %zu (%s): refused: %s", i,
				         id_type_name(c->type), msg.text);
			assert_string_equal(out, c->normal);
			assert_string_equal(msg.text, "");
			/* The normal form is a fixed point. */
			err = id_normalise(c->type, out, c->country, asof,
			                   again, sizeof(again), &msg);
			assert_int_equal(err, VAERN_OK);
			assert_string_equal(again, out);
			continue;
		}
		if (err != VAERN_E_INVALID)
			fail_msg("row %zu (%s): accepted as \"%s\"", i,
			         id_type_name(c->type), out);
		assert_string_equal(out, "");
		if (strstr(msg.text, c->normal) == NULL)
			fail_msg("row %zu: message \"%s\" lacks \"%s\"", i,
			         msg.text, c->normal);
		assert_no_leak(c->input, msg.text);
	}
}

#define RUN(t) run_cases(t, sizeof(t) / sizeof(t[0]))

/* CEK-CAT-1, TEL-CAT-1 */
static void
test_cpr(void **state)
{
	(void)state;
	RUN(cpr_cases);
}

/* AOPT-CAT-1 */
static void
test_personnummer(void **state)
{
	(void)state;
	RUN(pnr_cases);
}

/* A reference date of 0 or below means today's system date. */
static void
test_personnummer_system_date(void **state)
{
	char out[ID_NORM_MAX];
	enum vaern_err err;
	long asof[] = {0, -1, -100000};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(asof) / sizeof(asof[0]); i++) {
		err = id_normalise(ID_PERSONNUMMER, "811218-9876", NULL,
		                   asof[i], out, sizeof(out), NULL);
		assert_int_equal(err, VAERN_OK);
		assert_string_equal(out, "19811218-9876");
	}
}

/* CEK-CAT-1 */
static void
test_cvr(void **state)
{
	(void)state;
	RUN(cvr_cases);
}

static void
test_orgnr(void **state)
{
	(void)state;
	RUN(orgnr_cases);
}

static void
test_email(void **state)
{
	(void)state;
	RUN(email_cases);
}

static void
test_phone(void **state)
{
	(void)state;
	RUN(phone_cases);
}

/* SHOP-PAY-1 */
static void
test_card(void **state)
{
	(void)state;
	RUN(card_cases);
}

static void
test_text(void **state)
{
	(void)state;
	RUN(text_cases);
}

/*
 * Every type refuses input longer than ID_INPUT_MAX before reading it, and
 * an e-mail address of exactly ID_INPUT_MAX bytes is accepted.
 */
static void
test_input_limit(void **state)
{
	char in[ID_INPUT_MAX + 2], out[ID_NORM_MAX];
	struct vaern_msg msg;
	enum vaern_err err;
	int t;

	(void)state;
	memset(in, '1', ID_INPUT_MAX + 1);
	in[ID_INPUT_MAX + 1] = '\0';
	for (t = ID_CPR; t <= ID_OTHER; t++) {
		err = id_normalise((enum id_type)t, in, NULL, ASOF_2024_06_15,
		                   out, sizeof(out), &msg);
		assert_int_equal(err, VAERN_E_INVALID);
		assert_string_equal(out, "");
		assert_non_null(strstr(msg.text, "longer than 254"));
		assert_no_leak(in, msg.text);
	}

	/* 64 + '@' + 63 + '.' + 63 + '.' + 58 + ".dk" = 254 bytes. */
	memset(in, 'a', ID_INPUT_MAX);
	in[64] = '@';
	in[128] = '.';
	in[192] = '.';
	memcpy(in + ID_INPUT_MAX - 3, ".dk", 4);
	assert_int_equal(strlen(in), ID_INPUT_MAX);
	err = id_normalise(ID_EMAIL, in, NULL, 0, out, sizeof(out), &msg);
	assert_int_equal(err, VAERN_OK);
	assert_string_equal(out, in);
	in[0] = ' ';
	in[ID_INPUT_MAX] = ' ';
	in[ID_INPUT_MAX + 1] = '\0';
	err = id_normalise(ID_EMAIL, in, NULL, 0, out, sizeof(out), &msg);
	assert_int_equal(err, VAERN_E_INVALID);
}

/* The caller's buffer must hold ID_NORM_MAX; msg may be NULL. */
static void
test_api_edges(void **state)
{
	char small[ID_NORM_MAX - 1], out[ID_NORM_MAX];
	struct vaern_msg msg;

	(void)state;
	memset(small, 'x', sizeof(small));
	assert_int_equal(id_normalise(ID_CVR, "21628549", NULL, 0, small,
	                              sizeof(small), &msg),
	                 VAERN_E_LIMIT);
	assert_string_equal(small, "");
	assert_int_equal(id_normalise(ID_CVR, "21628548", NULL, 0, out,
	                              sizeof(out), NULL),
	                 VAERN_E_INVALID);
	assert_string_equal(out, "");
	assert_int_equal(id_normalise(ID_CVR, "21628549", NULL, 0, out,
	                              sizeof(out), NULL),
	                 VAERN_OK);
	assert_string_equal(out, "21628549");
	assert_int_equal(id_normalise((enum id_type)99, "x", NULL, 0, out,
	                              sizeof(out), &msg),
	                 VAERN_E_INVALID);
}

static void
test_type_names(void **state)
{
	static const char *names[] = {"cpr",   "personnummer", "cvr",
	                              "orgnr", "email",        "phone",
	                              "card",  "username",     "other"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum id_type t = id_type_from_name(names[i]);

		assert_int_equal(t, (int)i + ID_CPR);
		assert_string_equal(id_type_name(t), names[i]);
	}
	assert_int_equal(id_type_from_name("CPR"), ID_NONE);
	assert_int_equal(id_type_from_name(""), ID_NONE);
	assert_int_equal(id_type_from_name("none"), ID_NONE);
	assert_int_equal(id_type_from_name(NULL), ID_NONE);
	assert_string_equal(id_type_name(ID_NONE), "none");
	assert_string_equal(id_type_name((enum id_type)99), "none");
}

static void
test_luhn(void **state)
{
	static const struct {
		const char *digits; /* the input */
		int ok;             /* expected result */
	} cases[] = {
	        {"79927398713", 1},
	        {"79927398710", 0},
	        {"4111111111111111", 1},
	        {"4111111111111112", 0},
	        {"5593317323", 1},
	        {"8112189876", 1},
	        {"0", 1},
	        {"", 0},
	        {"7992739871a", 0},
	        {"4111 1111 1111 1111", 0},
	        {"-79927398713", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (id_luhn_ok(cases[i].digits) != cases[i].ok)
			fail_msg("luhn row %zu", i);
}

/* SHOP-PAY-1: a full card number anywhere in free text is found. */
static void
test_contains_card_number(void **state)
{
	static const struct {
		const char *text; /* free text */
		int found;        /* expected result */
	} cases[] = {
	        {"card 4111 1111 1111 1111 exp 12/27", 1},
	        {"card 4111-1111-1111-1111", 1},
	        {"4111111111111111", 1},
	        {"pan:4111111111111111.", 1},
	        {"4222222222222", 1},       /* 13 digits */
	        {"4111111111111111110", 1}, /* 19 digits */
	        /* A PAN among other digit groups: whole groups are checked. */
	        {"ref 12 4111111111111111 98", 1},
	        {"kort 4111 1111 1111 1111 12 27", 1},
	        /* A window cut from a longer solid number is no card. */
	        {"x124111111111111111198x", 0},
	        /* Luhn-valid, but 7 is no card network's first digit. */
	        {"ref 7992739871", 0},
	        {"order 1234567890123", 0}, /* 13 digits, not Luhn */
	        /* Neither the 16 digits nor any 13..18 window passes. */
	        {"order 4111111111111113", 0},
	        /* 4111111111111112 fails; its last 13 digits pass, but a
	         * window of a solid number does not count. */
	        {"order 4111111111111112", 0},
	        {"411111111117", 1}, /* 12 digits, Luhn (Maestro length) */
	        {"411111111119", 0}, /* 12 digits, Luhn fails */
	        {"41111111119", 0},  /* 11 digits: too short for a card */
	        {"4111  1111 1111 1111", 1}, /* a run of separators */
	        {"4111 -1111-1111-1111", 1},
	        {"4111\n1111 1111 1111", 1},
	        /* Separated too far apart: no longer one number. */
	        {"4111         1111 1111 1111", 0},
	        /* No 13..19 window of all ones passes Luhn. */
	        {"1111111111111111111111111111111", 0},
	        {"tel 12 34 56 78, cvr 21628549", 0},
	        {"", 0},
	        {"no digits at all", 0},
	        {"4111111111111111-", 1},
	        {"-4111111111111111", 1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (id_contains_card_number(cases[i].text) != cases[i].found)
			fail_msg("card scan row %zu", i);
}

/*
 * SHOP-PAY-1: one scanner for every text that enters, and at least 30
 * spellings of real test numbers of every network: Visa (4), Mastercard
 * (51-55 and 2221-2720), American Express (34, 37), Diners (30, 36),
 * JCB (35), Discover (6011), UnionPay (62), Maestro (50, 67, 63), with
 * every separator a person types between the groups.
 */
static void
test_card_spellings(void **state)
{
	static const char *const found[] = {
	        "4111111111111111",
	        "4111.1111.1111.1111",
	        "4111/1111/1111/1111",
	        "4111  1111  1111  1111",
	        "4111\xc2\xa0"
	        "1111\xc2\xa0"
	        "1111\xc2\xa0"
	        "1111", /* U+00A0 */
	        "4111 - 1111 - 1111 - 1111",
	        "4111_1111_1111_1111",
	        "4111\t1111\t1111\t1111",
	        "kort: 4012 8888 8888 1881, udl\xc3\xb8"
	        "b 12/27",
	        "5555555555554444",
	        "5105-1051-0510-5100",
	        "5555\xe2\x80\xaf"
	        "5555\xe2\x80\xaf"
	        "5555\xe2\x80\xaf"
	        "4444", /* U+202F */
	        "2221000000000009",
	        "2221 0000 0000 0009",
	        "2223.0031.2200.3222",
	        "378282246310005",
	        "3782 822463 10005",
	        "3714-496353-98431",
	        "3400 0000 0000 009",
	        "3622 720627 1667",
	        "3056 9309 0259 04",
	        "3530111333300000",
	        "3566 0020 2036 0505",
	        "3530/1113/3330/0000",
	        "6011111111111117",
	        "6011 1111 1111 1117",
	        "6011.0009.9013.9424",
	        "6011\xe2\x80\x93"
	        "1111\xe2\x80\x93"
	        "1111\xe2\x80\x93"
	        "1117", /* en dash */
	        "6200000000000005",
	        "6212 3456 7890 1232",
	        "6212345678901234569",
	        "6759 6498 2643 8453",
	        "6304 0000 0000 0000",
	        "500000000009",
	        "5000 0000 0009",
	        "nummer 4111 1111 1111 1111.",
	        "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", /* one at a time */
	        "41 11 11 11 11 11 11 11",         /* two at a time */
	        "4111 1111 1111 1111 12 27",       /* expiry after it */
	};
	static const char *const not_found[] = {
	        "+45 12 34 56 78",
	        /* Dates are grouped unlike card numbers: 2026010120270801
	         * passes Luhn, the range is no card. */
	        "2026-01-01 - 2027-08-01", "fra 2026-01-02 til 2027-06-02",
	        "CPR 010190-1234", "ordre 2026-01-05 kl. 10:00",
	        "4111 1111 1111 1112", /* Luhn fails */
	        "7992 7398 7100 0003", /* 7: no card network */
	        "41111111119",         /* 11 digits */
	        "4111x1111x1111x1111", /* letters are no separator */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(found) / sizeof(found[0]); i++)
		if (!id_contains_card_number(found[i]))
			fail_msg("card spelling %zu not found: %s", i,
			         found[i]);
	for (i = 0; i < sizeof(not_found) / sizeof(not_found[0]); i++)
		if (id_contains_card_number(not_found[i]))
			fail_msg("no card in row %zu, but one found", i);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cpr),
	        cmocka_unit_test(test_personnummer),
	        cmocka_unit_test(test_personnummer_system_date),
	        cmocka_unit_test(test_cvr),
	        cmocka_unit_test(test_orgnr),
	        cmocka_unit_test(test_email),
	        cmocka_unit_test(test_phone),
	        cmocka_unit_test(test_card),
	        cmocka_unit_test(test_text),
	        cmocka_unit_test(test_input_limit),
	        cmocka_unit_test(test_api_edges),
	        cmocka_unit_test(test_type_names),
	        cmocka_unit_test(test_luhn),
	        cmocka_unit_test(test_contains_card_number),
	        cmocka_unit_test(test_card_spellings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
