/*
 * test_utf8.c -- the shared UTF-8 checks: strict decoding (RFC 3629) and
 * the one-line text check every free-text field uses (hold reasons,
 * request reasons, page addresses).
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

#include "common/utf8.h"

static void
test_line_ok(void **state)
{
	static const struct {
		const char *text;
		size_t max;
		int ok;
	} cases[] = {
	        {"Retssag 2026-114", 64, 1},
	        {"Søren Ærø, Göteborg", 64, 1}, /* letters of both seeds */
	        {"", 64, 0},                    /* empty */
	        {"abcd", 3, 0},                 /* over max bytes */
	        {"abc", 3, 1},                  /* exactly max */
	        {"\xc3\xa6", 1, 0},             /* æ is 2 bytes */
	        {"line\nbreak", 64, 0},         /* C0 control */
	        {"tab\there", 64, 0},
	        {"del\x7f", 64, 0},                /* DEL */
	        {"c1\xc2\x85", 64, 0},             /* U+0085, a C1 control */
	        {"bad\xff", 64, 0},                /* not UTF-8 */
	        {"over\xc0\xaf", 64, 0},           /* overlong '/' */
	        {"cut\xe2\x82", 64, 0},            /* truncated sequence */
	        {"sur\xed\xa0\x80", 64, 0},        /* a surrogate */
	        {"emoji \xf0\x9f\x94\x92", 64, 1}, /* 4 bytes, U+1F512 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (utf8_line_ok(cases[i].text, cases[i].max) != cases[i].ok)
			fail_msg("case %zu: expected %d", i, cases[i].ok);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_line_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
