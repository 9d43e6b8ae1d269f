/*
 * fuzz_http.c -- libFuzzer harness for the HTTP module's parsers: the
 * percent-decoder of path and query parameters, and route matching with
 * parameter extraction.
 *
 * Besides the sanitizers it checks the contract of http_impl.h: a decoded
 * value fits its limit, is NUL-terminated at its length, holds no NUL and
 * is valid UTF-8; a failure leaves an empty string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "http/http_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longest input tried: a few path segments past every limit. */
#define FUZZ_INPUT_MAX 4096

static int
nop_handler(struct http_request *req, struct http_response *res, void *app)
{
	(void)req;
	(void)res;
	(void)app;
	return -1;
}

static const struct http_route table[] = {
        {"GET", "/v1/subjects/{id}/facts", nop_handler, "a"},
        {"POST", "/v1/subjects/{id}/facts", nop_handler, "b"},
        {"GET", "/v1/subjects/{id}/facts/{fact}", nop_handler, "c"},
        {"DELETE", "/v1/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}", nop_handler, "d"},
        {"GET", "/", nop_handler, "e"},
};

#define N_TABLE (sizeof(table) / sizeof(table[0]))

static void
check_decode(const char *in, size_t len, int plus, size_t dstmax)
{
	char *dst = malloc(dstmax + 1);
	size_t outlen = 12345;
	enum pct_result r;

	if (dst == NULL)
		return;
	r = http_pct_decode(in, len, plus, dst, dstmax, &outlen);
	if (r == PCT_OK) {
		if (outlen > dstmax || outlen > len || dst[outlen] != '\0' ||
		    strlen(dst) != outlen ||
		    utf8_valid_prefix((const unsigned char *)dst, outlen) !=
		            outlen)
			abort();
	} else if (outlen != 0 || dst[0] != '\0') {
		abort();
	}
	free(dst);
}

static void
check_route(const char *path)
{
	static struct route_entry entries[N_TABLE];
	static int compiled;
	static const char *const methods[] = {"GET", "HEAD", "POST", "DELETE",
	                                      "PUT"};
	struct http_request req;
	char allow[HTTP_ALLOW_MAX];
	size_t index;

	if (!compiled) {
		for (size_t i = 0; i < N_TABLE; i++)
			if (route_compile(&table[i], i, 0, &entries[i], NULL) !=
			    VAERN_OK)
				abort();
		compiled = 1;
	}
	for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
		switch (route_find(entries, N_TABLE, methods[m], path, &index,
		                   allow)) {
		case ROUTE_FOUND:
			if (index >= N_TABLE)
				abort();
			memset(&req, 0, sizeof(req));
			req.path = path;
			req.route = &entries[index];
			if (route_params(&req, NULL) == VAERN_OK) {
				for (size_t k = 0; k < req.nparams; k++)
					if (strlen(req.params[k].value) >
					    HTTP_PARAM_MAX)
						abort();
			}
			break;
		case ROUTE_NO_METHOD:
			if (allow[0] == '\0')
				abort();
			break;
		case ROUTE_NO_PATH: break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in;

	if (size < 2 || size > FUZZ_INPUT_MAX)
		return 0;
	in = malloc(size - 1);
	if (in == NULL)
		return 0;
	/* data[0] picks the flags and the limit; the rest is the input. */
	memcpy(in, data + 1, size - 2);
	in[size - 2] = '\0';
	check_decode(in, size - 2, data[0] & 1, (size_t)(data[0] >> 1) * 4);
	check_decode(in, size - 2, 0, HTTP_PARAM_MAX);
	check_route(in);
	free(in);
	return 0;
}
