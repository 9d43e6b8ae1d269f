/*
 * strict.c -- strict HTTP/1.1 framing (issue 12, request smuggling;
 * RFC 9112 sections 2.2, 3.2, 5, 6): what the daemon tolerates and a
 * proxy in front may read otherwise is refused with 400 before routing.
 *
 *   - Content-Length twice with different values; Content-Length with
 *     Transfer-Encoding; a Transfer-Encoding other than one "chunked"
 *     (RFC 9112 6.1: a server that does not understand a coding answers
 *     501/400 and closes); Transfer-Encoding in HTTP/1.0;
 *   - no Host in HTTP/1.1, or more than one Host;
 *   - a header name that is not a token (a space before the colon);
 *     a control character in a header value;
 *   - a bare LF as a line end, a NUL in a header line, a header folded
 *     over lines (obs-fold): see strict_layout below;
 *   - more than HTTP_QUERY_MAX query parameters: 414, and the daemon is
 *     kept from recording them (strict_query_cut).
 *
 * libmicrohttpd 0.9.75 accepts a bare LF as a line end, stops a header
 * value at a NUL and forwards the rest of the line nowhere, and hands the
 * application only the parsed header records. It parses in place,
 * though: the request line and the headers stay in one block, from the
 * method the handler receives for MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE
 * bytes, each line end and each name's colon overwritten with NUL, each
 * record pointing into the block. A CRLF leaves two NULs, a bare LF one,
 * a NUL in a value leaves bytes after the value's end. strict_layout
 * walks from the end of the request line (the version's end) through the
 * records and accepts only the layout that CRLF-ended lines without NULs
 * leave; any other layout (a future daemon that copies the records, for
 * instance) fails closed with 400. Its one blind spot: a NUL and a bare
 * LF that together leave what a CRLF leaves (LF NUL CR LF for CR LF CR
 * LF); docs/api.md says so. The request line itself (a NUL in the target,
 * extra spaces) is checked in server.c against what on_uri saw.
 */
#include "http_impl.h"

#include <string.h>

/* Header records looked at; a request with more gets 431. */
#define STRICT_HEADERS_MAX 128

/* What the header walk collects. */
struct strict_walk {
	size_t n;                                   /* records in h */
	int overflow;                               /* 1: more than fit */
	struct strict_header h[STRICT_HEADERS_MAX]; /* in arrival order */
};

static int
is_tchar(unsigned char c)
{
	/* RFC 9110 5.6.2 token characters. */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
ows(char c)
{
	return c == ' ' || c == '\t';
}

static int
name_is(const struct strict_header *h, const char *name)
{
	return h->key_len == strlen(name) &&
	       strncasecmp(h->key, name, h->key_len) == 0;
}

enum strict_result
strict_layout(const char *block, size_t len, size_t line_end,
              const struct strict_header *h, size_t n)
{
	const unsigned char *b = (const unsigned char *)block;
	uintptr_t base = (uintptr_t)block;
	size_t next;

	/* The request line ends in CRLF: two NULs, the version before. */
	if (line_end == 0 || line_end > len || len - line_end < 4 ||
	    b[line_end - 1] == 0 || b[line_end] != 0 || b[line_end + 1] != 0)
		return STRICT_BAD_LINE;
	next = line_end + 2;
	for (size_t i = 0; i < n; i++) {
		uintptr_t k = (uintptr_t)h[i].key, v = (uintptr_t)h[i].value;
		size_t ko, vo;

		if (k < base || k - base >= len || v < base || v - base > len)
			return STRICT_BAD_LINE;
		ko = (size_t)(k - base);
		vo = (size_t)(v - base);
		if (ko != next)
			return STRICT_BAD_LINE;
		/* name, its colon (now NUL), optional whitespace, value */
		if (h[i].key_len == 0 || h[i].key_len >= len - ko ||
		    memchr(b + ko, 0, h[i].key_len) != NULL ||
		    b[ko + h[i].key_len] != 0 || vo < ko + h[i].key_len + 1)
			return STRICT_BAD_LINE;
		for (size_t j = ko + h[i].key_len + 1; j < vo; j++)
			if (b[j] != ' ' && b[j] != '\t')
				return STRICT_BAD_LINE;
		/* the value, then CRLF (two NULs) */
		if (h[i].value_len > len - vo ||
		    len - vo - h[i].value_len < 2 ||
		    memchr(b + vo, 0, h[i].value_len) != NULL ||
		    b[vo + h[i].value_len] != 0 ||
		    b[vo + h[i].value_len + 1] != 0)
			return STRICT_BAD_LINE;
		next = vo + h[i].value_len + 2;
	}
	/* The empty line that ends the headers, and nothing else. */
	if (len - next != 2 || b[next] != 0 || b[next + 1] != 0)
		return STRICT_BAD_LINE;
	return STRICT_OK;
}

enum strict_result
strict_framing(const struct strict_header *h, size_t n, int http11)
{
	struct strict_header cl = {NULL, 0, NULL, 0};
	size_t hosts = 0, encodings = 0, ncl = 0;

	for (size_t i = 0; i < n; i++) {
		struct strict_header t = h[i];

		/* Trailing whitespace is not part of a value (RFC 9110 5.5);
		 * the daemon keeps it. */
		while (t.value_len > 0 && ows(t.value[t.value_len - 1]))
			t.value_len--;
		for (size_t j = 0; j < h[i].key_len; j++)
			if (!is_tchar((unsigned char)h[i].key[j]))
				return STRICT_BAD_NAME;
		for (size_t j = 0; j < h[i].value_len; j++) {
			unsigned char c = (unsigned char)h[i].value[j];

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return STRICT_BAD_VALUE;
		}
		if (name_is(&h[i], "Host")) {
			hosts++;
		} else if (name_is(&h[i], "Transfer-Encoding")) {
			encodings++;
			if (t.value_len != 7 ||
			    strncasecmp(t.value, "chunked", 7) != 0)
				return STRICT_BAD_ENCODING;
		} else if (name_is(&h[i], "Content-Length")) {
			if (ncl > 0 &&
			    (cl.value_len != t.value_len ||
			     memcmp(cl.value, t.value, t.value_len) != 0))
				return STRICT_TWO_LENGTHS;
			cl = t;
			ncl++;
		}
	}
	if (encodings > 1 || (encodings > 0 && !http11))
		return STRICT_BAD_ENCODING;
	if (encodings > 0 && ncl > 0)
		return STRICT_LENGTH_AND_ENCODING;
	if (hosts > 1 || (hosts == 0 && http11))
		return STRICT_BAD_HOST;
	return STRICT_OK;
}

const char *
strict_phrase(enum strict_result r)
{
	switch (r) {
	case STRICT_OK: return "ok";
	case STRICT_BAD_LINE:
		return "a header line not ended by CRLF, holding a NUL, or "
		       "folded";
	case STRICT_BAD_NAME: return "a header name that is not a token";
	case STRICT_BAD_VALUE: return "a control character in a header value";
	case STRICT_BAD_ENCODING:
		return "Transfer-Encoding other than a single chunked "
		       "(HTTP/1.1 only)";
	case STRICT_TWO_LENGTHS:
		return "two Content-Length headers with different values";
	case STRICT_LENGTH_AND_ENCODING:
		return "Content-Length together with Transfer-Encoding";
	case STRICT_BAD_HOST: return "HTTP/1.1 needs exactly one Host header";
	case STRICT_TOO_MANY: return "too many header lines";
	case STRICT_BAD_REQUEST_LINE:
		return "a request line with a NUL or more than single spaces";
	}
	return "malformed request";
}

static enum MHD_Result
collect(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
        const char *value, size_t value_size)
{
	struct strict_walk *w = cls;

	(void)kind;
	if (w->n == STRICT_HEADERS_MAX) {
		w->overflow = 1;
		return MHD_NO;
	}
	w->h[w->n++] = (struct strict_header){key, key_size,
	                                      value != NULL ? value : "",
	                                      value != NULL ? value_size : 0};
	return MHD_YES;
}

enum strict_result
strict_check(struct MHD_Connection *conn, const char *method,
             const char *version)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
	        conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	uintptr_t end = (uintptr_t)version + strlen(version);
	struct strict_walk *w;
	enum strict_result r;

	/* The version is the request line's last word. */
	if (ci == NULL || end <= (uintptr_t)method ||
	    end - (uintptr_t)method >= ci->header_size)
		return STRICT_BAD_LINE;
	w = malloc(sizeof(*w));
	if (w == NULL)
		return STRICT_TOO_MANY;
	w->n = 0;
	w->overflow = 0;
	(void)MHD_get_connection_values_n(conn, MHD_HEADER_KIND, collect, w);
	if (w->overflow)
		r = STRICT_TOO_MANY;
	else if ((r = strict_layout(method, ci->header_size,
	                            (size_t)(end - (uintptr_t)method), w->h,
	                            w->n)) == STRICT_OK)
		r = strict_framing(w->h, w->n,
		                   strcmp(version, MHD_HTTP_VERSION_1_0) != 0);
	free(w);
	return r;
}

int
strict_query_cut(char *uri)
{
	char *q = strchr(uri, '?');
	size_t params = 1;

	if (q == NULL)
		return 0;
	for (const char *p = q + 1; *p != '\0'; p++)
		params += *p == '&';
	if (params <= HTTP_QUERY_MAX)
		return 0;
	/* The daemon splits the query after this call, recording every
	 * parameter in the connection's pool until it runs out and the
	 * request goes unanswered: leave it none to record. */
	q[1] = '\0';
	return 1;
}
