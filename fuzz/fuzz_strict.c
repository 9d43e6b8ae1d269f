/*
 * fuzz_strict.c -- libFuzzer harness for the HTTP module's request-framing
 * parsers of issue 12: the strict header-block check (src/http/strict.c)
 * and the trusted-proxy and X-Forwarded-For parsers (src/http/guard.c).
 *
 * data[0] picks the target; the rest is the input.
 *   0  a raw header block, parsed in place the way libmicrohttpd 0.9.75
 *      does (line ends and colons to NUL, records into the block), then
 *      strict_layout and strict_framing. Checks the contract both ways: a
 *      block of CRLF lines without NUL or fold passes the layout, and a
 *      bare LF or a NUL in a line never does.
 *   1  strict_layout on a block with records at arbitrary offsets, some
 *      outside it: it must never read outside (ASan).
 *   2  guard_parse_proxies on the first line, guard_forwarded_client on
 *      the rest: no overrun, at most HTTP_PROXIES_MAX entries.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_INPUT_MAX 8192
#define FUZZ_HEADERS   64

/* Emulates the daemon's in-place parse of block[0..len). Returns the
 * header block's length (through its empty line), 0 if the daemon would
 * have refused it itself or it is incomplete. *bad is 1 if the raw
 * bytes held a bare LF or a NUL before the empty line, or a folded line.
 * *line_nul is 1 for a NUL in the request line. */
static size_t
daemon_parse(char *b, size_t len, struct strict_header *h, size_t *n, int *bad,
             int *line_nul)
{
	size_t pos = 0, line = 0;
	int first = 1;

	*n = 0;
	*bad = 0;
	*line_nul = 0;
	for (;;) {
		char *nl = memchr(b + pos, '\n', len - pos), *colon;
		size_t end;

		if (nl == NULL)
			return 0;
		end = (size_t)(nl - b);
		/* The request line is server.c's to check (NULs are the
		 * daemon's separators there); NULs in header lines here. */
		if (memchr(b + line, '\0', end - line) != NULL) {
			if (first)
				*line_nul = 1;
			else
				*bad = 1;
		}
		if (end > line && b[end - 1] == '\r') {
			b[end - 1] = '\0';
		} else {
			*bad = 1;
		}
		b[end] = '\0';
		pos = end + 1;
		if (b[line] == '\0') {
			/* The empty line ends the headers (an empty first
			 * line the daemon skips; not made here). */
			if (first)
				return 0;
			return pos;
		}
		if (first) {
			first = 0;
		} else if (b[line] == ' ' || b[line] == '\t') {
			*bad = 1; /* obs-fold: the daemon moves the value */
			return 0;
		} else {
			colon = strchr(b + line, ':');
			if (colon == NULL || *n == FUZZ_HEADERS)
				return 0; /* the daemon's own 400 / ours */
			*colon = '\0';
			h[*n].key = b + line;
			h[*n].key_len = strlen(b + line);
			if (h[*n].key_len == 0)
				*bad = 1; /* no name: refused by the layout */
			colon++;
			while (*colon == ' ' || *colon == '\t')
				colon++;
			h[*n].value = colon;
			h[*n].value_len = strlen(colon);
			(*n)++;
		}
		line = pos;
	}
}

static int
has_bare_lf(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (d[i] == '\n' && (i == 0 || d[i - 1] != '\r'))
			return 1;
	return 0;
}

static void
fuzz_block(const uint8_t *data, size_t size)
{
	struct strict_header h[FUZZ_HEADERS];
	char *b = malloc(size ? size : 1);
	size_t n, len;
	int bad, line_nul, amb;

	if (b == NULL)
		return;
	memcpy(b, data, size);
	/* A NUL alone changes the count of NULs the layout sees, and so
	 * does a bare LF alone; together they can cancel out (LF NUL CR LF
	 * leaves what CR LF CR LF leaves): the known limit of checking
	 * after the daemon's parse (docs/api.md). */
	line_nul = memchr(data, '\0', size) != NULL && has_bare_lf(data, size);
	len = daemon_parse(b, size, h, &n, &bad, &amb);
	line_nul |= amb;
	if (len > 0) {
		/* A NUL in the request line may pose as a line end and the
		 * layout can tell neither way: the request-line check of
		 * server.c and the daemon's version check refuse it. */
		enum strict_result r = strict_layout(b, len, strlen(b), h, n);
		int line_ok = !line_nul && (n > 0 || len >= 5);

		if (!line_nul && bad && r == STRICT_OK)
			abort();
		if (!bad && line_ok && r != STRICT_OK)
			abort();
		(void)strict_framing(h, n, data[0] & 1);
	}
	free(b);
}

static void
fuzz_records(const uint8_t *data, size_t size)
{
	struct strict_header h[4];
	size_t n = 0, blen;
	char *b;

	if (size < 16)
		return;
	blen = size - 16;
	b = malloc(blen ? blen : 1);
	if (b == NULL)
		return;
	memcpy(b, data + 16, blen);
	for (size_t i = 0; i < 4; i++) {
		/* offsets around the block, lengths up to twice it */
		long ko = (long)data[4 * i] - 8, vo = (long)data[4 * i + 1] - 8;

		h[n].key = (const char *)((uintptr_t)b + (uintptr_t)ko);
		h[n].key_len = data[4 * i + 2];
		h[n].value = (const char *)((uintptr_t)b + (uintptr_t)vo);
		h[n].value_len = data[4 * i + 3];
		n++;
	}
	(void)strict_layout(b, blen, data[5], h, data[0] & 3);
	free(b);
}

static void
fuzz_proxies(const uint8_t *data, size_t size)
{
	struct guard_cidr list[HTTP_PROXIES_MAX];
	const char *values[4];
	struct vaern_msg msg;
	uint8_t ip[GUARD_IP_LEN];
	size_t n = 99, nv = 0;
	char *s = malloc(size + 1), *p;

	if (s == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	p = strchr(s, '\n');
	if (p != NULL)
		*p++ = '\0';
	if (guard_parse_proxies(s, list, HTTP_PROXIES_MAX, &n, &msg) ==
	    VAERN_OK) {
		if (n > HTTP_PROXIES_MAX)
			abort();
		for (size_t i = 0; i < n; i++)
			if (list[i].bits > 128)
				abort();
	} else if (n != 0 || msg.text[0] == '\0') {
		abort();
	} else {
		n = 0;
	}
	while (p != NULL && nv < 4) {
		values[nv++] = p;
		p = strchr(p, '\n');
		if (p != NULL)
			*p++ = '\0';
	}
	(void)guard_forwarded_client(list, n, values, nv, ip);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > FUZZ_INPUT_MAX)
		return 0;
	switch (data[0] % 3) {
	case 0: fuzz_block(data + 1, size - 1); break;
	case 1: fuzz_records(data + 1, size - 1); break;
	default: fuzz_proxies(data + 1, size - 1); break;
	}
	return 0;
}
