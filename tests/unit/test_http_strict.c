/*
 * test_http_strict.c -- table-driven unit tests of the request-framing
 * parsers of issue 12 (src/http/strict.c, src/http/guard.c): the framing
 * rules, the header-block layout check, the trusted-proxy list and
 * X-Forwarded-For. The black-box side is tests/cli/test_http.py.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_impl.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A header from a literal name and value. */
#define HDR(k, v)                                                              \
	{                                                                      \
		k, sizeof(k) - 1, v, sizeof(v) - 1                             \
	}

/* GDPR-32; issue 12: each framing rule, both sides. */
static void
test_framing_rules(void **state)
{
	static const struct {
		struct strict_header h[3];
		size_t n;
		int http11;
		enum strict_result want;
	} cases[] = {
	        {{HDR("Host", "t")}, 1, 1, STRICT_OK},
	        {{{NULL, 0, NULL, 0}}, 0, 1, STRICT_BAD_HOST},
	        {{{NULL, 0, NULL, 0}}, 0, 0, STRICT_OK},
	        {{HDR("Host", "a"), HDR("host", "b")}, 2, 1, STRICT_BAD_HOST},
	        {{HDR("Host", "t"), HDR("Content-Length", "5"),
	          HDR("content-length", "5")},
	         3,
	         1,
	         STRICT_OK},
	        {{HDR("Host", "t"), HDR("Content-Length", "5"),
	          HDR("Content-Length", "6")},
	         3,
	         1,
	         STRICT_TWO_LENGTHS},
	        {{HDR("Host", "t"), HDR("Transfer-Encoding", "chunked")},
	         2,
	         1,
	         STRICT_OK},
	        {{HDR("Host", "t"), HDR("Transfer-Encoding", "CHUNKED ")},
	         2,
	         1,
	         STRICT_OK},
	        {{HDR("Host", "t"), HDR("Transfer-Encoding", "chunked")},
	         2,
	         0,
	         STRICT_BAD_ENCODING},
	        {{HDR("Host", "t"), HDR("Transfer-Encoding", "xchunked")},
	         2,
	         1,
	         STRICT_BAD_ENCODING},
	        {{HDR("Host", "t"), HDR("Transfer-Encoding", "gzip, chunked")},
	         2,
	         1,
	         STRICT_BAD_ENCODING},
	        {{HDR("Transfer-Encoding", "chunked"),
	          HDR("Transfer-Encoding", "chunked"), HDR("Host", "t")},
	         3,
	         1,
	         STRICT_BAD_ENCODING},
	        {{HDR("Host", "t"), HDR("Content-Length", "5"),
	          HDR("Transfer-Encoding", "chunked")},
	         3,
	         1,
	         STRICT_LENGTH_AND_ENCODING},
	        {{HDR("Host", "t"), HDR("X A", "b")}, 2, 1, STRICT_BAD_NAME},
	        {{HDR("Host", "t"), HDR("X-A", "a\x01")},
	         2,
	         1,
	         STRICT_BAD_VALUE},
	        {{HDR("Host", "t"), HDR("X-A", "a\tb")}, 2, 1, STRICT_OK},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		enum strict_result r =
		        strict_framing(cases[i].h, cases[i].n, cases[i].http11);

		if (r != cases[i].want)
			fail_msg("case %zu: %d, want %d", i, r, cases[i].want);
	}
}

/* Builds the block the daemon leaves from raw: each CRLF or bare LF to
 * NULs, each header's colon to NUL; records into it. Returns the block's
 * length; *line_end the request line's end. */
static size_t
parse_in_place(char *b, size_t len, struct strict_header *h, size_t *n,
               size_t *line_end)
{
	size_t pos = 0, line = 0;

	*n = 0;
	*line_end = 0;
	while (pos < len) {
		char *nl = memchr(b + pos, '\n', len - pos), *colon;
		size_t end = (size_t)(nl - b);

		if (end > line && b[end - 1] == '\r')
			b[end - 1] = '\0';
		b[end] = '\0';
		pos = end + 1;
		if (line == 0) {
			*line_end = strlen(b);
		} else if (b[line] == '\0') {
			return pos;
		} else {
			colon = strchr(b + line, ':');
			*colon = '\0';
			h[*n].key = b + line;
			h[*n].key_len = strlen(b + line);
			for (colon++; *colon == ' '; colon++)
				;
			h[*n].value = colon;
			h[*n].value_len = strlen(colon);
			(*n)++;
		}
		line = pos;
	}
	return pos;
}

/* Issue 12: bare LF and NUL found in what the daemon leaves. */
static void
test_layout(void **state)
{
	static const struct {
		const char *raw;
		size_t len;
		enum strict_result want;
	} cases[] = {
#define RAW(s, w) {s, sizeof(s) - 1, w}
	        RAW("GET / HTTP/1.1\r\nHost: t\r\nX-A:  b \r\n\r\n", STRICT_OK),
	        RAW("GET / HTTP/1.0\r\n\r\n", STRICT_OK),
	        RAW("GET / HTTP/1.1\r\nX-A:\r\n\r\n", STRICT_OK),
	        RAW("GET / HTTP/1.1\nHost: t\r\n\r\n", STRICT_BAD_LINE),
	        RAW("GET / HTTP/1.1\r\nHost: t\n\r\n", STRICT_BAD_LINE),
	        RAW("GET / HTTP/1.1\r\nHost: t\r\n\n", STRICT_BAD_LINE),
	        RAW("GET / HTTP/1.0\n\n", STRICT_BAD_LINE),
	        RAW("GET / HTTP/1.1\r\nHost: t\x00u\r\n\r\n", STRICT_BAD_LINE),
	        RAW("GET / HTTP/1.1\r\nHost: t\x00\r\n\r\n", STRICT_BAD_LINE),
	        RAW("GET / HTTP/1.1\r\nHost: t\r\nA: b\x00\r\n\r\n",
	            STRICT_BAD_LINE),
#undef RAW
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct strict_header h[8];
		char b[128];
		size_t n, line_end, len;
		enum strict_result r;

		assert_true(cases[i].len < sizeof(b));
		memcpy(b, cases[i].raw, cases[i].len);
		len = parse_in_place(b, cases[i].len, h, &n, &line_end);
		r = strict_layout(b, len, line_end, h, n);
		if (r != cases[i].want)
			fail_msg("case %zu: %d, want %d", i, r, cases[i].want);
	}
}

/* A record pointing outside the block fails, never reads there. */
static void
test_layout_records_outside(void **state)
{
	char b[] = "GET / HTTP/1.1\0\0Host\0 t\0\0\0";
	struct strict_header h = {b + 16, 4, b + 22, 1};

	(void)state;
	/* sizeof(b): the literal's own NUL is the last of the four */
	assert_int_equal(strict_layout(b, sizeof(b), 14, &h, 1), STRICT_OK);
	h.value_len = 100;
	assert_int_equal(strict_layout(b, sizeof(b), 14, &h, 1),
	                 STRICT_BAD_LINE);
	h.value_len = 1;
	h.key = (const char *)((uintptr_t)b - 4); /* before the block */
	assert_int_equal(strict_layout(b, sizeof(b), 14, &h, 1),
	                 STRICT_BAD_LINE);
	h.key = b + 16;
	assert_int_equal(strict_layout(b, sizeof(b), 40, &h, 1),
	                 STRICT_BAD_LINE);
}

/* Issue 12: more than HTTP_QUERY_MAX parameters are cut off. */
static void
test_query_cut(void **state)
{
	char ok[512] = "/p?", over[512] = "/p?", none[] = "/p";
	size_t n = 3, m = 3;

	(void)state;
	for (int i = 0; i < HTTP_QUERY_MAX; i++) {
		n += (size_t)snprintf(ok + n, sizeof(ok) - n, "%sk=v",
		                      i ? "&" : "");
		m += (size_t)snprintf(over + m, sizeof(over) - m, "k=v&");
	}
	(void)snprintf(over + m, sizeof(over) - m, "k=v");
	assert_int_equal(strict_query_cut(ok), 0);
	assert_int_equal(strlen(ok), n);
	assert_int_equal(strict_query_cut(over), 1);
	assert_string_equal(over, "/p?");
	assert_int_equal(strict_query_cut(none), 0);
}

static void
ip4(const char *s, uint8_t ip[GUARD_IP_LEN])
{
	memset(ip, 0, GUARD_IP_LEN);
	ip[10] = ip[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, s, ip + 12), 1);
}

/* The trusted-proxy list: good and bad items, named by position. */
static void
test_parse_proxies(void **state)
{
	static const struct {
		const char *text;
		enum vaern_err want;
		size_t n;
		const char *mentions;
	} cases[] = {
	        {"127.0.0.1", VAERN_OK, 1, NULL},
	        {" 10.0.0.0/8 , ::1,fe80::/10", VAERN_OK, 3, NULL},
	        {"", VAERN_OK, 0, NULL},
	        {"10.0.0.0/33", VAERN_E_INVALID, 0, "item 1"},
	        {"::1/129", VAERN_E_INVALID, 0, "item 1"},
	        {"127.0.0.1,proxy.example", VAERN_E_INVALID, 0, "item 2"},
	        {"10.0.0.0/", VAERN_E_INVALID, 0, "item 1"},
	        {"1.2.3.4/8x", VAERN_E_INVALID, 0, "item 1"},
	        {"1.2.3.4,,5.6.7.8", VAERN_E_INVALID, 0, "item 2"},
	};
	struct guard_cidr list[HTTP_PROXIES_MAX];
	char many[HTTP_PROXIES_MAX * 12 + 16] = "";

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};
		size_t n = 99;
		enum vaern_err err = guard_parse_proxies(
		        cases[i].text, list, HTTP_PROXIES_MAX, &n, &msg);

		if (err != cases[i].want || n != cases[i].n)
			fail_msg("case %zu: err %d n %zu", i, err, n);
		if (cases[i].mentions != NULL)
			assert_non_null(strstr(msg.text, cases[i].mentions));
		assert_null(strstr(msg.text, "proxy.example"));
	}
	for (int i = 0; i <= HTTP_PROXIES_MAX; i++)
		(void)snprintf(many + strlen(many), sizeof(many) - strlen(many),
		               "%s10.0.0.%d", i ? "," : "", i);
	{
		struct vaern_msg msg = {{0}};
		size_t n;

		assert_int_equal(guard_parse_proxies(many, list,
		                                     HTTP_PROXIES_MAX, &n,
		                                     &msg),
		                 VAERN_E_LIMIT);
	}
}

/* X-Forwarded-For: the rightmost entry that is not a trusted proxy. */
static void
test_forwarded_client(void **state)
{
	static const struct {
		const char *values[2];
		size_t nvalues;
		int rc;
		const char *client;
	} cases[] = {
	        {{"198.51.100.7"}, 1, 0, "198.51.100.7"},
	        {{"198.51.100.7, 10.1.2.3"}, 1, 0, "198.51.100.7"},
	        {{"203.0.113.9, 198.51.100.7 ,10.1.2.3"}, 1, 0, "198.51.100.7"},
	        {{"198.51.100.7", "10.1.2.3, 10.9.9.9"}, 2, 0, "198.51.100.7"},
	        {{"10.1.1.1, 10.2.2.2"}, 1, 0, "10.1.1.1"},
	        {{"198.51.100.7, x"}, 1, -1, NULL},
	        {{"unknown, 198.51.100.7"}, 1, 0, "198.51.100.7"},
	        {{"198.51.100.7,"}, 1, -1, NULL},
	        {{""}, 1, 1, NULL},
	        {{"", " "}, 2, -1, NULL},
	};
	struct guard_cidr proxies[1];
	struct vaern_msg msg = {{0}};
	size_t n;

	(void)state;
	assert_int_equal(
	        guard_parse_proxies("10.0.0.0/8", proxies, 1, &n, &msg),
	        VAERN_OK);
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		uint8_t ip[GUARD_IP_LEN], want[GUARD_IP_LEN];
		int rc = guard_forwarded_client(proxies, n, cases[i].values,
		                                cases[i].nvalues, ip);

		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d", i, rc);
		if (cases[i].client != NULL) {
			ip4(cases[i].client, want);
			if (memcmp(ip, want, GUARD_IP_LEN) != 0)
				fail_msg("case %zu: another client", i);
		}
	}
}

/* connections_max fits the descriptors, with the daemon's slack. */
static void
test_fit_descriptors(void **state)
{
	static const struct {
		unsigned max, threads;
		uint64_t fds;
	} cases[] = {
	        {1024, 4, 20000}, {1024, 4, 1024}, {1024, 256, 4096},
	        {10, 4, 50},      {64, 1, 100},    {65536, 4, 1u << 20},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		unsigned got = guard_fit_descriptors(
		        cases[i].max, cases[i].threads, cases[i].fds);

		assert_true(got <= cases[i].max);
		if (got > 16)
			assert_true(guard_daemon_limit(got, cases[i].threads) +
			                    128 <=
			            cases[i].fds);
		if (guard_daemon_limit(cases[i].max, cases[i].threads) + 128 <=
		    cases[i].fds)
			assert_int_equal(got, cases[i].max);
	}
	assert_int_equal(guard_fit_descriptors(1024, 4, 20000), 1024);
	assert_true(guard_fit_descriptors(1024, 4, 1024) < 1024);
	assert_int_equal(guard_fit_descriptors(10, 4, 50), 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_framing_rules),
	        cmocka_unit_test(test_layout),
	        cmocka_unit_test(test_layout_records_outside),
	        cmocka_unit_test(test_query_cut),
	        cmocka_unit_test(test_parse_proxies),
	        cmocka_unit_test(test_forwarded_client),
	        cmocka_unit_test(test_fit_descriptors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
