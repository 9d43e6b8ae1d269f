/*
 * test_multipart.c -- the portal's multipart/form-data parser
 * (src/web/web_multipart.c; issue 17, SHOP-BREACH-1): each rule of its
 * strictness on a table of bodies, with the status and the words of the
 * message, and what an accepted form holds.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <string.h>

#include "web/web.h"

#define TYPE "multipart/form-data; boundary=XyZ"
#define PART(name)                                                             \
	"--XyZ\r\nContent-Disposition: form-data; name=\"" name "\"\r\n\r\n"
#define FILEPART(fn)                                                           \
	"--XyZ\r\nContent-Disposition: form-data; name=\"shot\"; "             \
	"filename=\"" fn "\"\r\nContent-Type: image/png\r\n\r\n"
#define END "--XyZ--\r\n"

static const struct web_part_field fields[] = {
        {"token", 8, 1, 0, 0}, {"text", 16, 1, 0, 1}, {"line", 16, 1, 0, 0},
        {"shot", 8, 2, 1, 0},  {NULL, 0, 0, 0, 0},
};

static void
test_rules(void **state)
{
	static const struct {
		const char *type;
		const char *body;
		int status;
		const char *words; /* in the message, or NULL */
	} cases[] = {
	        {TYPE, PART("token") "t\r\n" END, 0, NULL},
	        {"multipart/form-data; boundary=\"XyZ\"",
	         PART("token") "t\r\n--XyZ--", 0, NULL}, /* quoted, no CRLF */
	        {"Multipart/Form-Data;boundary=XyZ", PART("token") "t\r\n" END,
	         0, NULL},
	        {"multipart/form-data", END, 415, "boundary"},
	        {"multipart/mixed; boundary=XyZ", END, 415, "boundary"},
	        {TYPE "; charset=utf-8", END, 415, "boundary"},
	        {"multipart/form-data; boundary=", END, 415, "boundary"},
	        {"multipart/form-data; boundary=a"
	         "01234567890123456789012345678901234567890123456789012345678"
	         "9012345678901",
	         END, 415, "boundary"}, /* 71 characters */
	        {TYPE, "x\r\n" PART("token") "t\r\n" END, 400, "open"},
	        {TYPE, "", 400, "open"},
	        {TYPE, PART("token") "t\r\n" END "x", 400, "after its end"},
	        {TYPE, PART("token") "t", 400, "ends inside"},
	        {TYPE, PART("token") "t\r\n--XyZ", 400, "CRLF"},
	        {TYPE, PART("nope") "t\r\n" END, 400, "unknown form field"},
	        {TYPE, PART("token") "a\r\n" PART("token") "b\r\n" END, 400,
	         "'token' twice"},
	        {TYPE, PART("token") "123456789\r\n" END, 413, "larger than 8"},
	        {TYPE, PART("line") "a\nb\r\n" END, 400, "not text"},
	        {TYPE, PART("text") "a\x01\r\n" END, 400, "not text"},
	        {TYPE, PART("text") "a\xff\r\n" END, 400, "not text"},
	        {TYPE, PART("text") "a\rb\r\n" END, 400, "not text"},
	        {TYPE,
	         "--XyZ\r\nContent-Disposition: attachment; name=\"token\""
	         "\r\n\r\nt\r\n" END,
	         400, "Content-Disposition"},
	        {TYPE,
	         "--XyZ\r\nContent-Disposition: form-data; name=token"
	         "\r\n\r\nt\r\n" END,
	         400, "Content-Disposition"},
	        {TYPE,
	         "--XyZ\r\nContent-Disposition: form-data; name=\"token\"; "
	         "name=\"line\"\r\n\r\nt\r\n" END,
	         400, "Content-Disposition"},
	        {TYPE,
	         "--XyZ\r\nContent-Disposition: form-data; name=\"to\\\"ken\""
	         "\r\n\r\nt\r\n" END,
	         400, "Content-Disposition"},
	        {TYPE,
	         "--XyZ\r\nContent-Disposition: form-data; name=\"token\"; "
	         "filename*=UTF-8''a\r\n\r\nt\r\n" END,
	         400, "Content-Disposition"},
	        {TYPE,
	         "--XyZ\r\nContent-Transfer-Encoding: base64\r\n"
	         "Content-Disposition: form-data; "
	         "name=\"token\"\r\n\r\nt\r\n" END,
	         400, "a header other than"},
	        {TYPE,
	         "--XyZ\r\nContent-Type: text/plain\r\nContent-Type: text/plain"
	         "\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nt"
	         "\r\n" END,
	         400, "a header other than"},
	        {TYPE, "--XyZ\r\nContent-Type: text/plain\r\n\r\nt\r\n" END,
	         400, "no Content-Disposition"},
	        {TYPE, "--XyZ\r\nbroken\r\n\r\nt\r\n" END, 400, "malformed"},
	        {TYPE, PART("token") "t\r\n" FILEPART("") "\r\n" END, 0,
	         NULL}, /* an empty file input: no file */
	        {TYPE, PART("shot") "t\r\n" END, 400, "needs a filename"},
	        {TYPE, FILEPART("a.png") "123456789\r\n" END, 413,
	         "larger than 8"},
	        {TYPE,
	         FILEPART("a") "1\r\n" FILEPART("b") "2\r\n" FILEPART(
	                 "c") "3\r\n" END,
	         413, "more than 2 files"},
	};
	struct web_multipart m;
	struct vaern_msg msg;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st;

		memset(&msg, 0, sizeof(msg));
		st = web_multipart(cases[i].type,
		                   (const unsigned char *)cases[i].body,
		                   strlen(cases[i].body), fields, &m, &msg);
		if (st != cases[i].status)
			fail_msg("case %zu: status %d, expected %d (%s)", i, st,
			         cases[i].status, msg.text);
		if (cases[i].words != NULL &&
		    strstr(msg.text, cases[i].words) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, msg.text,
			         cases[i].words);
		if (st != 0 && m.nparts != 0)
			fail_msg("case %zu: a refused form holds parts", i);
		web_multipart_free(&m);
	}
}

/* More than WEB_PARTS_MAX parts (empty file inputs) is 413. */
static void
test_parts_limit(void **state)
{
	char body[4096];
	size_t n = 0;
	struct web_multipart m;
	struct vaern_msg msg;

	(void)state;
	for (int i = 0; i <= WEB_PARTS_MAX; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s\r\n",
		                      FILEPART(""));
	n += (size_t)snprintf(body + n, sizeof(body) - n, END);
	assert_int_equal(web_multipart(TYPE, (const unsigned char *)body, n,
	                               fields, &m, &msg),
	                 413);
	assert_non_null(strstr(msg.text, "more than 16 parts"));
}

/* What an accepted form holds: texts copied (CRLF as LF), files in the
 * body, empty inputs left out. */
static void
test_accepted(void **state)
{
	static const char body[] = PART("text") "one\r\ntwo\r\n" FILEPART(
	        "a.png") "\x89PNG\r\n\x1a\n\r\n" PART("line") "\r\n" FILEPART("") "\r\n" END;
	struct web_multipart m;
	struct vaern_msg msg;

	(void)state;
	assert_int_equal(web_multipart(TYPE, (const unsigned char *)body,
	                               sizeof(body) - 1, fields, &m, &msg),
	                 0);
	assert_int_equal(m.nparts, 3);
	assert_string_equal(web_multipart_text(&m, 1), "one\ntwo");
	assert_null(web_multipart_text(&m, 2)); /* sent empty */
	assert_null(web_multipart_text(&m, 0)); /* not sent */
	assert_int_equal(m.parts[1].field, 3);
	assert_int_equal(m.parts[1].len, 8);
	assert_memory_equal(m.parts[1].data, "\x89PNG\r\n\x1a\n", 8);
	assert_null(m.parts[1].text);
	web_multipart_free(&m);
	assert_int_equal(m.nparts, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rules),
	        cmocka_unit_test(test_parts_limit),
	        cmocka_unit_test(test_accepted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
