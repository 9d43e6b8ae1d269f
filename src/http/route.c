/*
 * route.c -- route patterns, matching, and the percent-decoding of path
 * parameters and query parameters.
 *
 * A pattern is compiled once at start into segments. A request path is
 * matched raw (still percent-encoded), segment by segment: literal
 * segments compare byte for byte, a parameter segment takes any non-empty
 * segment. Only the matched route's parameters are decoded, and each is
 * checked for length, UTF-8 and control characters before a handler sees
 * it (CONVENTIONS.md habit 5). Messages name the pattern's parameter, never
 * the value.
 */
#include "http_impl.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../common/utf8.h"

/* Longest method name a route may use. */
#define METHOD_MAX 16

/* Longest {name} of a path parameter. */
#define PARAM_NAME_MAX 32

/* A segment of a request path, into the path. */
struct path_segment {
	const char *p; /* first byte */
	size_t len;    /* bytes */
};

static int
is_literal_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' ||
	       c == '-';
}

static int
is_name_char(int c, int first)
{
	return (c >= 'a' && c <= 'z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

static int
is_label_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Checks a {name} body text[0..len). */
static int
valid_param_name(const char *text, size_t len)
{
	if (len == 0 || len > PARAM_NAME_MAX)
		return 0;
	for (size_t k = 0; k < len; k++)
		if (!is_name_char((unsigned char)text[k], k == 0))
			return 0;
	return 1;
}

/* 1 if the last segment of e is a parameter named like an earlier one. */
static int
param_repeated(const struct route_entry *e)
{
	const struct route_segment *last = &e->seg[e->nsegments - 1];

	for (size_t k = 0; k + 1 < e->nsegments; k++)
		if (e->seg[k].param && e->seg[k].len == last->len &&
		    memcmp(e->seg[k].text, last->text, last->len) == 0)
			return 1;
	return 0;
}

enum vaern_err
route_compile(const struct http_route *r, size_t i, int builtin,
              struct route_entry *e, struct vaern_msg *msg)
{
	const char *p, *end;
	size_t len, nparams = 0;

	memset(e, 0, sizeof(*e));
	if (r->method == NULL || r->pattern == NULL || r->name == NULL ||
	    r->handler == NULL)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "route %zu: method, pattern, handler and "
		                  "name are all required",
		                  i);
	len = strlen(r->method);
	if (len == 0 || len > METHOD_MAX)
		return vaern_fail(msg, VAERN_E_INVALID, "route %zu: bad method",
		                  i);
	for (size_t k = 0; k < len; k++)
		if (r->method[k] < 'A' || r->method[k] > 'Z')
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "route %zu: method must be upper-case "
			        "letters",
			        i);
	if (strcmp(r->method, "HEAD") == 0)
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "route %zu: HEAD is answered by the GET route", i);
	len = strlen(r->name);
	if (len == 0 || len > HTTP_ROUTE_NAME_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "route %zu: name must be 1..%d bytes", i,
		                  HTTP_ROUTE_NAME_MAX);
	for (size_t k = 0; k < len; k++)
		if (!is_label_char((unsigned char)r->name[k]))
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "route %zu: name may use only "
			                  "A-Z a-z 0-9 . _ -",
			                  i);
	if (strcmp(r->name, HTTP_UNMATCHED) == 0 && !builtin)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "route %zu: the name \"%s\" is reserved", i,
		                  HTTP_UNMATCHED);
	len = strlen(r->pattern);
	if (len == 0 || len > HTTP_PATTERN_MAX || r->pattern[0] != '/')
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "route %zu (%s): the pattern must start with "
		                  "'/' and be at most %d bytes",
		                  i, r->name, HTTP_PATTERN_MAX);

	e->method = r->method;
	e->name = r->name;
	e->handler = r->handler;
	e->builtin = builtin;
	if (len == 1)
		return VAERN_OK; /* "/": no segments */
	p = r->pattern + 1;
	end = r->pattern + len;
	while (p <= end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *stop = slash != NULL ? slash : end;
		struct route_segment *s;
		size_t slen = (size_t)(stop - p);

		if (e->nsegments == HTTP_SEGMENTS_MAX)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "route %zu (%s): more than %d segments", i,
			        r->name, HTTP_SEGMENTS_MAX);
		s = &e->seg[e->nsegments++];
		if (slen >= 2 && p[0] == '{' && p[slen - 1] == '}') {
			s->text = p + 1;
			s->len = slen - 2;
			s->param = 1;
			if (!valid_param_name(s->text, s->len))
				return vaern_fail(
				        msg, VAERN_E_INVALID,
				        "route %zu (%s): a parameter "
				        "name must match [a-z_][a-z0-9_]* "
				        "and be at most %d bytes",
				        i, r->name, PARAM_NAME_MAX);
			if (param_repeated(e))
				return vaern_fail(msg, VAERN_E_INVALID,
				                  "route %zu (%s): parameter "
				                  "{%.*s} repeated",
				                  i, r->name, (int)s->len,
				                  s->text);
			if (++nparams > HTTP_PARAMS_MAX)
				return vaern_fail(
				        msg, VAERN_E_INVALID,
				        "route %zu (%s): more than %d "
				        "parameters",
				        i, r->name, HTTP_PARAMS_MAX);
		} else {
			s->text = p;
			s->len = slen;
			if (slen == 0)
				return vaern_fail(
				        msg, VAERN_E_INVALID,
				        "route %zu (%s): empty segment", i,
				        r->name);
			for (size_t k = 0; k < slen; k++)
				if (!is_literal_char((unsigned char)p[k]))
					return vaern_fail(
					        msg, VAERN_E_INVALID,
					        "route %zu (%s): a literal "
					        "segment may use only A-Z a-z "
					        "0-9 "
					        ". _ ~ -",
					        i, r->name);
		}
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	return VAERN_OK;
}

int
route_same(const struct route_entry *a, const struct route_entry *b)
{
	if (strcmp(a->method, b->method) != 0 || a->nsegments != b->nsegments)
		return 0;
	for (size_t k = 0; k < a->nsegments; k++) {
		if (a->seg[k].param != b->seg[k].param)
			return 0;
		if (!a->seg[k].param && (a->seg[k].len != b->seg[k].len ||
		                         memcmp(a->seg[k].text, b->seg[k].text,
		                                a->seg[k].len) != 0))
			return 0;
	}
	return 1;
}

/* Splits a raw path into at most HTTP_SEGMENTS_MAX segments. Returns the
 * count, or -1 if the path does not start with '/' or has more. */
static int
split_path(const char *path, struct path_segment segs[HTTP_SEGMENTS_MAX])
{
	const char *p;
	int n = 0;

	if (path[0] != '/')
		return -1;
	if (path[1] == '\0')
		return 0;
	p = path + 1;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);

		if (n == HTTP_SEGMENTS_MAX)
			return -1;
		segs[n].p = p;
		segs[n].len = len;
		n++;
		if (slash == NULL)
			return n;
		p = slash + 1;
	}
}

static int
segments_match(const struct route_entry *e, const struct path_segment *segs,
               size_t n)
{
	if (e->nsegments != n)
		return 0;
	for (size_t k = 0; k < n; k++) {
		if (e->seg[k].param) {
			if (segs[k].len == 0)
				return 0;
		} else if (e->seg[k].len != segs[k].len ||
		           memcmp(e->seg[k].text, segs[k].p, segs[k].len) !=
		                   0) {
			return 0;
		}
	}
	return 1;
}

/* Appends method to the comma-separated list allow if not in it yet. */
static void
allow_add(char allow[HTTP_ALLOW_MAX], const char *method)
{
	size_t used = strlen(allow), mlen = strlen(method);
	const char *p = allow;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");

		if (len == mlen && memcmp(p, method, mlen) == 0)
			return;
		p += len;
		while (*p == ',' || *p == ' ')
			p++;
	}
	if (used + (used > 0 ? 2 : 0) + mlen + 1 > HTTP_ALLOW_MAX)
		return; /* cannot happen with METHOD_MAX and the few methods */
	if (used > 0) {
		memcpy(allow + used, ", ", 2);
		used += 2;
	}
	memcpy(allow + used, method, mlen + 1);
}

enum route_match
route_find(const struct route_entry *routes, size_t n, const char *method,
           const char *path, size_t *index, char allow[HTTP_ALLOW_MAX])
{
	struct path_segment segs[HTTP_SEGMENTS_MAX];
	int nsegs = split_path(path, segs);
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	int path_known = 0;

	allow[0] = '\0';
	if (nsegs < 0)
		return ROUTE_NO_PATH;
	for (size_t i = 0; i < n; i++) {
		if (!segments_match(&routes[i], segs, (size_t)nsegs))
			continue;
		if (strcmp(routes[i].method, want) == 0) {
			*index = i;
			return ROUTE_FOUND;
		}
		path_known = 1;
	}
	if (!path_known)
		return ROUTE_NO_PATH;
	/* The Allow list, in table order. */
	for (size_t i = 0; i < n; i++) {
		if (!segments_match(&routes[i], segs, (size_t)nsegs))
			continue;
		allow_add(allow, routes[i].method);
		if (strcmp(routes[i].method, "GET") == 0)
			allow_add(allow, "HEAD");
	}
	return ROUTE_NO_METHOD;
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum pct_result
http_pct_decode(const char *src, size_t len, int plus, char *dst, size_t dstmax,
                size_t *outlen)
{
	size_t i = 0, o = 0, k;
	enum pct_result result = PCT_OK;

	while (i < len) {
		unsigned char c = (unsigned char)src[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3 ||
			    (hi = hex_value((unsigned char)src[i + 1])) < 0 ||
			    (lo = hex_value((unsigned char)src[i + 2])) < 0) {
				result = PCT_BAD_ESCAPE;
				goto done;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 3;
		} else {
			if (plus && c == '+')
				c = ' ';
			i++;
		}
		if (o == dstmax) {
			result = PCT_TOO_LONG;
			goto done;
		}
		dst[o++] = (char)c;
	}
	for (k = 0; k < o;) {
		uint32_t cp;
		size_t n =
		        utf8_decode((const unsigned char *)dst + k, o - k, &cp);

		if (n == 0) {
			result = PCT_BAD_UTF8;
			goto done;
		}
		if (utf8_is_control(cp)) {
			result = PCT_CONTROL;
			goto done;
		}
		k += n;
	}
done:
	if (result != PCT_OK) {
		explicit_bzero(dst, o);
		o = 0;
	}
	dst[o] = '\0';
	*outlen = o;
	return result;
}

static const char *
pct_phrase(enum pct_result r)
{
	switch (r) {
	case PCT_OK: return "is valid";
	case PCT_BAD_ESCAPE: return "has a malformed percent-escape";
	case PCT_CONTROL: return "contains a NUL or control character";
	case PCT_BAD_UTF8: return "is not valid UTF-8";
	case PCT_TOO_LONG: return "is too long";
	}
	return "is invalid";
}

enum vaern_err
route_params(struct http_request *req, struct vaern_msg *msg)
{
	const struct route_entry *e = req->route;
	struct path_segment segs[HTTP_SEGMENTS_MAX];
	int nsegs = split_path(req->path, segs);

	req->nparams = 0;
	if (nsegs < 0 || (size_t)nsegs != e->nsegments)
		return vaern_fail(msg, VAERN_E_INTERNAL,
		                  "path does not fit its route");
	for (size_t k = 0; k < e->nsegments; k++) {
		struct http_param *p;
		enum pct_result r;
		size_t outlen;

		if (!e->seg[k].param)
			continue;
		assert(req->nparams < HTTP_PARAMS_MAX);
		p = &req->params[req->nparams++];
		p->name = e->seg[k].text;
		p->name_len = e->seg[k].len;
		r = http_pct_decode(segs[k].p, segs[k].len, 0, p->value,
		                    HTTP_PARAM_MAX, &outlen);
		if (r != PCT_OK)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "path parameter {%.*s} %s",
			                  (int)p->name_len, p->name,
			                  pct_phrase(r));
	}
	return VAERN_OK;
}

/* State of the query iteration. */
struct query_walk {
	struct http_request *req; /* where decoded parameters go */
	enum vaern_err err;       /* the first failure, or VAERN_OK */
	struct vaern_msg *msg;    /* its message */
};

/* Decodes src into a new allocation of at most max bytes in *out. */
static enum pct_result
decode_dup(const char *src, size_t max, char **out)
{
	size_t len = strlen(src), outlen;
	enum pct_result r;
	char *dst;

	*out = NULL;
	/* Decoding never lengthens, so len bytes suffice; a src longer than
	 * 3 * max cannot decode to max bytes. */
	if (len > 3 * max)
		return PCT_TOO_LONG;
	dst = malloc(len + 1);
	if (dst == NULL)
		return PCT_OK; /* *out NULL with PCT_OK: out of memory */
	r = http_pct_decode(src, len, 0, dst, max < len ? max : len, &outlen);
	if (r != PCT_OK) {
		free(dst);
		return r;
	}
	*out = dst;
	return PCT_OK;
}

/* The daemon has already turned '+' into ' ' in the query; with the
 * module's no-op unescaper everything else arrives still encoded. */
static enum MHD_Result
query_one(void *cls, enum MHD_ValueKind kind, const char *key,
          const char *value)
{
	struct query_walk *w = cls;
	struct http_request *req = w->req;
	struct http_query *q;
	enum pct_result r;

	(void)kind;
	if (key == NULL || key[0] == '\0')
		return MHD_YES; /* "?&" or "?=v": nothing to name */
	if (req->nquery == HTTP_QUERY_MAX) {
		w->err = vaern_fail(w->msg, VAERN_E_INVALID,
		                    "more than %d query parameters",
		                    HTTP_QUERY_MAX);
		return MHD_NO;
	}
	q = &req->query[req->nquery];
	r = decode_dup(key, HTTP_QUERY_KEY_MAX, &q->key);
	if (r == PCT_OK && q->key != NULL)
		r = decode_dup(value != NULL ? value : "", HTTP_QUERY_VALUE_MAX,
		               &q->value);
	if (r != PCT_OK) {
		w->err = vaern_fail(w->msg, VAERN_E_INVALID,
		                    "a query parameter %s", pct_phrase(r));
		goto fail;
	}
	if (q->key == NULL || q->value == NULL) {
		w->err = vaern_fail(w->msg, VAERN_E_NOMEM, "out of memory");
		goto fail;
	}
	req->nquery++;
	return MHD_YES;
fail:
	if (q->key != NULL) {
		explicit_bzero(q->key, strlen(q->key));
		free(q->key);
	}
	q->key = NULL;
	return MHD_NO;
}

enum vaern_err
route_query(struct http_request *req, struct vaern_msg *msg)
{
	struct query_walk w = {req, VAERN_OK, msg};

	req->nquery = 0;
	(void)MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND,
	                                query_one, &w);
	return w.err;
}
