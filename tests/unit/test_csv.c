/*
 * test_csv.c -- table-driven tests of the RFC 4180 reader (src/cli/csv.h)
 * that `vaern import` reads customer files with: quoting, line ends, line
 * numbers across quoted line breaks, the byte-order mark, UTF-8, limits,
 * and error positions whose messages never quote the input (GDPR-32,
 * CONVENTIONS.md habit 4).
 *
 * Every table is read twice: from one buffer, and through a source that
 * hands out one byte at a time (so no state may depend on where the
 * source's chunks end).
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

#include "cli/csv.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_RECS   5
#define MAX_FIELDS 5

/* A source that returns at most step bytes per call. */
struct drip {
	const char *data;
	size_t len, off, step;
};

static long
drip_read(void *arg, char *buf, size_t n)
{
	struct drip *d = arg;
	size_t left = d->len - d->off;

	if (n > d->step)
		n = d->step;
	if (n > left)
		n = left;
	memcpy(buf, d->data + d->off, n);
	d->off += n;
	return (long)n;
}

static long
failing_read(void *arg, char *buf, size_t n)
{
	(void)arg;
	(void)buf;
	(void)n;
	return -1;
}

/* Opens a reader of in: mode 0 from a buffer, 1 byte by byte, 2 in
 * chunks of 7 bytes. */
static struct csv_reader *
open_reader(const char *in, size_t len, char delim, int mode, struct drip *d)
{
	struct csv_reader *r = NULL;

	if (mode == 0) {
		assert_int_equal(csv_new_buffer(in, len, delim, &r), VAERN_OK);
	} else {
		d->data = in;
		d->len = len;
		d->off = 0;
		d->step = mode == 1 ? 1 : 7;
		assert_int_equal(csv_new(drip_read, d, delim, &r), VAERN_OK);
	}
	return r;
}

/* ---- records read as they are ---- */

static const struct ok_case {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	char delim;
	const char *rec[MAX_RECS][MAX_FIELDS]; /* NULL-terminated rows */
	unsigned long line[MAX_RECS];          /* first line of each */
} ok_cases[] = {
        {"empty input", "", 0, ',', {{NULL}}, {0}},
        {"one field", "a", 0, ',', {{"a", NULL}}, {1}},
        {"LF ends",
         "a,b\nc,d\n",
         0,
         ',',
         {{"a", "b", NULL}, {"c", "d", NULL}},
         {1, 2}},
        {"CRLF ends",
         "a,b\r\nc,d\r\n",
         0,
         ',',
         {{"a", "b", NULL}, {"c", "d", NULL}},
         {1, 2}},
        {"no final line end",
         "a,b\nc,d",
         0,
         ',',
         {{"a", "b", NULL}, {"c", "d", NULL}},
         {1, 2}},
        {"empty fields", ",,\n", 0, ',', {{"", "", "", NULL}}, {1}},
        {"trailing delimiter", "a,\n", 0, ',', {{"a", "", NULL}}, {1}},
        {"blank line is one empty field",
         "a\n\nb\n",
         0,
         ',',
         {{"a", NULL}, {"", NULL}, {"b", NULL}},
         {1, 2, 3}},
        {"quoted with delimiter",
         "\"a,b\",c\n",
         0,
         ',',
         {{"a,b", "c", NULL}},
         {1}},
        {"doubled quotes",
         "\"say \"\"hi\"\"\",x\n",
         0,
         ',',
         {{"say \"hi\"", "x", NULL}},
         {1}},
        {"empty quoted", "\"\",\"\"\n", 0, ',', {{"", "", NULL}}, {1}},
        {"only a quote", "\"\"\"\"\n", 0, ',', {{"\"", NULL}}, {1}},
        {"line break in quotes counts lines",
         "\"a\nb\nc\",d\ne,f\n",
         0,
         ',',
         {{"a\nb\nc", "d", NULL}, {"e", "f", NULL}},
         {1, 4}},
        {"CRLF kept in quotes",
         "\"a\r\nb\"\r\nc\r\n",
         0,
         ',',
         {{"a\r\nb", NULL}, {"c", NULL}},
         {1, 3}},
        {"spaces are content",
         " a , b \n",
         0,
         ',',
         {{" a ", " b ", NULL}},
         {1}},
        {"BOM skipped",
         "\xef\xbb\xbfname,email\nx,y\n",
         0,
         ',',
         {{"name", "email", NULL}, {"x", "y", NULL}},
         {1, 2}},
        {"BOM only", "\xef\xbb\xbf", 0, ',', {{NULL}}, {0}},
        {"UTF-8 kept", "Søren,Ærø\n", 0, ',', {{"Søren", "Ærø", NULL}}, {1}},
        {"4-byte UTF-8",
         "\xf0\x9f\x98\x80\n",
         0,
         ',',
         {{"\xf0\x9f\x98\x80", NULL}},
         {1}},
        {"semicolon delimiter",
         "a;\"b;c\";d\n",
         0,
         ';',
         {{"a", "b;c", "d", NULL}},
         {1}},
        {"comma is content with semicolons",
         "a,b;c\n",
         0,
         ';',
         {{"a,b", "c", NULL}},
         {1}},
        {"tab delimiter", "a\tb\n", 0, '\t', {{"a", "b", NULL}}, {1}},
        {"quoted last field at end",
         "a,\"b\"",
         0,
         ',',
         {{"a", "b", NULL}},
         {1}},
};

static void
check_ok_case(const struct ok_case *c, int mode)
{
	size_t len = c->len ? c->len : strlen(c->in);
	struct drip d;
	struct csv_reader *r = open_reader(c->in, len, c->delim, mode, &d);
	struct csv_record rec;
	struct vaern_msg msg = {{0}};
	size_t k;

	for (k = 0; k < MAX_RECS && c->rec[k][0] != NULL; k++) {
		size_t n = 0;

		if (csv_read(r, &rec, NULL, &msg) != VAERN_OK)
			fail_msg("%s (mode %d): record %zu: %s", c->name, mode,
			         k + 1, msg.text);
		while (n < MAX_FIELDS && c->rec[k][n] != NULL)
			n++;
		if (rec.nfields != n)
			fail_msg("%s (mode %d): record %zu has %zu fields, "
			         "expected %zu",
			         c->name, mode, k + 1, rec.nfields, n);
		for (size_t i = 0; i < n; i++) {
			if (strcmp(rec.fields[i], c->rec[k][i]) != 0 ||
			    rec.lens[i] != strlen(c->rec[k][i]))
				fail_msg("%s (mode %d): record %zu field %zu",
				         c->name, mode, k + 1, i + 1);
		}
		if (rec.line != c->line[k])
			fail_msg("%s (mode %d): record %zu on line %lu, "
			         "expected %lu",
			         c->name, mode, k + 1, rec.line, c->line[k]);
	}
	if (csv_read(r, &rec, NULL, &msg) != VAERN_E_NOTFOUND)
		fail_msg("%s (mode %d): more records than expected", c->name,
		         mode);
	assert_int_equal(rec.nfields, 0);
	/* The end stays the end. */
	assert_int_equal(csv_read(r, &rec, NULL, &msg), VAERN_E_NOTFOUND);
	if (csv_offset(r) != len)
		fail_msg("%s (mode %d): offset %llu, expected %zu", c->name,
		         mode, csv_offset(r), len);
	csv_free(r);
}

static void
test_records(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(ok_cases); i++) {
		for (int mode = 0; mode < 3; mode++)
			check_ok_case(&ok_cases[i], mode);
	}
}

/* ---- errors: position, kind, and never the content ---- */

static const struct err_case {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	size_t records_before;
	enum vaern_err err;
	unsigned long line, column;
	const char *says;
} err_cases[] = {
        {"unterminated quote", "a,b\nSECRET,\"SECRET\nSECRET", 0, 1,
         VAERN_E_INVALID, 2, 8, "never closed"},
        {"quote in unquoted field", "a,SEC\"RET\n", 0, 0, VAERN_E_INVALID, 1, 6,
         "quote inside an unquoted field"},
        {"text after closing quote", "\"SECRET\"x,b\n", 0, 0, VAERN_E_INVALID,
         1, 9, "after the closing quote"},
        {"space after closing quote", "\"SECRET\" ,b\n", 0, 0, VAERN_E_INVALID,
         1, 9, "after the closing quote"},
        {"lone CR", "a,b\rc\n", 0, 0, VAERN_E_INVALID, 1, 4, "carriage return"},
        {"CR at the end", "a,b\r", 0, 0, VAERN_E_INVALID, 1, 4,
         "carriage return"},
        {"Latin-1 byte", "a,b\nS\xf8ren,SECRET\n", 0, 1, VAERN_E_INVALID, 2, 2,
         "UTF-8"},
        {"Latin-1 after multi-line quoted field",
         "\"SEC\nRET\",x\n\"ab\"\"c\xe6\",y\n", 0, 1, VAERN_E_INVALID, 3, 7,
         "UTF-8"},
        {"stray continuation byte", "ab,\x80SECRET\n", 0, 0, VAERN_E_INVALID, 1,
         4, "UTF-8"},
        {"overlong encoding", "a,\xc0\xafSECRET\n", 0, 0, VAERN_E_INVALID, 1, 3,
         "UTF-8"},
        {"surrogate", "\xed\xa0\x80SECRET\n", 0, 0, VAERN_E_INVALID, 1, 1,
         "UTF-8"},
        {"truncated sequence at end", "SECRET\xe2\x82", 0, 0, VAERN_E_INVALID,
         1, 7, "UTF-8"},
        {"NUL byte", "SECRET,a\0b\n", 10, 0, VAERN_E_INVALID, 1, 9, "NUL"},
};

static void
check_err_case(const struct err_case *c, int mode)
{
	size_t len = c->len ? c->len : strlen(c->in);
	struct drip d;
	struct csv_reader *r = open_reader(c->in, len, ',', mode, &d);
	struct csv_record rec;
	struct vaern_msg msg = {{0}}, again = {{0}};
	struct csv_pos pos = {0, 0}, pos2 = {0, 0};
	enum vaern_err err;

	for (size_t k = 0; k < c->records_before; k++) {
		if (csv_read(r, &rec, NULL, &msg) != VAERN_OK)
			fail_msg("%s (mode %d): record %zu: %s", c->name, mode,
			         k + 1, msg.text);
	}
	err = csv_read(r, &rec, &pos, &msg);
	if (err != c->err || pos.line != c->line || pos.column != c->column)
		fail_msg("%s (mode %d): err %d at %lu:%lu (%s), expected %d at "
		         "%lu:%lu",
		         c->name, mode, err, pos.line, pos.column, msg.text,
		         c->err, c->line, c->column);
	if (strstr(msg.text, c->says) == NULL)
		fail_msg("%s: message '%s' does not say '%s'", c->name,
		         msg.text, c->says);
	if (strstr(msg.text, "SECRET") != NULL || strstr(msg.text, "RET"))
		fail_msg("%s: the message quotes the input", c->name);
	assert_int_equal(rec.nfields, 0);
	/* The reader stays at the error. */
	assert_int_equal(csv_read(r, &rec, &pos2, &again), err);
	assert_int_equal(pos2.line, pos.line);
	assert_int_equal(pos2.column, pos.column);
	assert_string_equal(again.text, msg.text);
	csv_free(r);
}

static void
test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(err_cases); i++) {
		for (int mode = 0; mode < 3; mode++)
			check_err_case(&err_cases[i], mode);
	}
}

/* ---- limits ---- */

/* Reads text (one record expected) and returns the error. */
static enum vaern_err
read_one(const char *text, size_t len, struct csv_pos *pos,
         struct vaern_msg *msg)
{
	struct csv_reader *r = NULL;
	struct csv_record rec;
	enum vaern_err err;

	assert_int_equal(csv_new_buffer(text, len, ',', &r), VAERN_OK);
	err = csv_read(r, &rec, pos, msg);
	csv_free(r);
	return err;
}

static void
test_limits(void **state)
{
	static const struct {
		const char *what;
		size_t field_bytes; /* the one long field */
		size_t fields;      /* how many fields */
		int quoted;
		enum vaern_err err;
	} cases[] = {
	        {"field at the limit", CSV_FIELD_MAX, 1, 0, VAERN_OK},
	        {"field over the limit", CSV_FIELD_MAX + 1, 1, 0,
	         VAERN_E_LIMIT},
	        {"quoted field over the limit", CSV_FIELD_MAX + 1, 1, 1,
	         VAERN_E_LIMIT},
	        {"fields at the limit", 1, CSV_FIELDS_MAX, 0, VAERN_OK},
	        {"fields over the limit", 1, CSV_FIELDS_MAX + 1, 0,
	         VAERN_E_LIMIT},
	        {"empty fields over the limit", 0, CSV_FIELDS_MAX + 1, 0,
	         VAERN_E_LIMIT},
	        {"record over the limit", CSV_FIELD_MAX,
	         CSV_RECORD_MAX / CSV_FIELD_MAX + 1, 0, VAERN_E_LIMIT},
	        {"record at the limit", CSV_FIELD_MAX,
	         CSV_RECORD_MAX / CSV_FIELD_MAX, 0, VAERN_OK},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		size_t per = cases[i].field_bytes + 3, len = 0;
		char *text = malloc(per * cases[i].fields + 2);
		struct vaern_msg msg = {{0}};
		struct csv_pos pos = {0, 0};
		enum vaern_err err;

		assert_non_null(text);
		for (size_t f = 0; f < cases[i].fields; f++) {
			if (f > 0)
				text[len++] = ',';
			if (cases[i].quoted)
				text[len++] = '"';
			memset(text + len, 'x', cases[i].field_bytes);
			len += cases[i].field_bytes;
			if (cases[i].quoted)
				text[len++] = '"';
		}
		text[len++] = '\n';
		err = read_one(text, len, &pos, &msg);
		if (err != cases[i].err)
			fail_msg("%s: err %d (%s)", cases[i].what, err,
			         msg.text);
		if (err != VAERN_OK &&
		    (pos.line != 1 || strstr(msg.text, "more than") == NULL))
			fail_msg("%s: at %lu:%lu: %s", cases[i].what, pos.line,
			         pos.column, msg.text);
		free(text);
	}
}

/* ---- the rest of the contract ---- */

static void
test_delimiters(void **state)
{
	static const char bad[] = {'"', '\r', '\n', '\0', (char)0xc3};
	struct csv_reader *r = NULL;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		assert_int_equal(csv_new_buffer("a", 1, bad[i], &r),
		                 VAERN_E_INVALID);
		assert_null(r);
	}
}

static void
test_read_error(void **state)
{
	struct csv_reader *r = NULL;
	struct csv_record rec;
	struct vaern_msg msg = {{0}};

	(void)state;
	assert_int_equal(csv_new(failing_read, NULL, ',', &r), VAERN_OK);
	assert_int_equal(csv_read(r, &rec, NULL, &msg), VAERN_E_IO);
	assert_non_null(strstr(msg.text, "cannot be read"));
	csv_free(r);
	csv_free(NULL);
}

/* Records stay valid until the next read; the reader's buffer grows. */
static void
test_long_records_in_a_row(void **state)
{
	size_t n = 3 * 70000;
	char *text = malloc(n + 16);
	struct csv_reader *r = NULL;
	struct csv_record rec;
	struct vaern_msg msg = {{0}};
	size_t len = 0;

	(void)state;
	assert_non_null(text);
	for (int k = 0; k < 3; k++) {
		memset(text + len, 'a' + k, 60000);
		len += 60000;
		text[len++] = ',';
		text[len++] = 'z';
		text[len++] = '\n';
	}
	assert_int_equal(csv_new_buffer(text, len, ',', &r), VAERN_OK);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(csv_read(r, &rec, NULL, &msg), VAERN_OK);
		assert_int_equal(rec.nfields, 2);
		assert_int_equal(rec.lens[0], 60000);
		assert_int_equal(rec.fields[0][59999], 'a' + k);
		assert_string_equal(rec.fields[1], "z");
		assert_int_equal(rec.line, (unsigned long)k + 1);
	}
	assert_int_equal(csv_read(r, &rec, NULL, &msg), VAERN_E_NOTFOUND);
	csv_free(r);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_records),
	        cmocka_unit_test(test_errors),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_delimiters),
	        cmocka_unit_test(test_read_error),
	        cmocka_unit_test(test_long_records_in_a_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
