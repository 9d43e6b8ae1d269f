/*
 * message.c -- what a handler sees: the request getters, the JSON body
 * parser, the response helpers with their security headers, and bounded
 * text buffers.
 *
 * jansson's own error text quotes the input ("... near 'secret'"), so it
 * never leaves this file: a parse error is reported as a fixed phrase
 * chosen by json_error_code() plus a line and a column (CONVENTIONS.md
 * habit 4; GDPR-32).
 */
#include "http_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/utf8.h"

/* Headers every response carries unless the handler set its own. */
static const struct {
	const char *name;  /* header name */
	const char *value; /* header value */
	int tls_only;      /* 1: only over TLS */
} security_headers[] = {
        {"Cache-Control", "no-store", 0},
        {"X-Content-Type-Options", "nosniff", 0},
        {"Content-Security-Policy",
         "default-src 'none'; "
         "frame-ancestors 'none'",
         0},
        {"Referrer-Policy", "no-referrer", 0},
        /* AURA-SEC-1: once served over TLS, always over TLS. */
        {"Strict-Transport-Security", "max-age=31536000", 1},
};

#define N_SECURITY_HEADERS                                                     \
	(sizeof(security_headers) / sizeof(security_headers[0]))

/* Headers the daemon writes itself, or that a respond helper sets. */
static const char *const reserved_headers[] = {
        "Content-Length", "Transfer-Encoding", "Connection",
        "Date",           "Content-Type",
};

#define N_RESERVED_HEADERS                                                     \
	(sizeof(reserved_headers) / sizeof(reserved_headers[0]))

/* Longest header name and value a handler may add. */
#define RES_HEADER_NAME_MAX  64
#define RES_HEADER_VALUE_MAX 4096

/* Smallest allocation of a growing http_buf. */
#define BUF_MIN 4096

/* ---- the request ---- */

const char *
http_request_method(const struct http_request *req)
{
	return req->method;
}

const char *
http_request_path(const struct http_request *req)
{
	return req->path;
}

const char *
http_request_route(const struct http_request *req)
{
	return req->route != NULL ? req->route->name : HTTP_UNMATCHED;
}

const char *
http_request_param(const struct http_request *req, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < req->nparams; i++)
		if (req->params[i].name_len == len &&
		    memcmp(req->params[i].name, name, len) == 0)
			return req->params[i].value;
	return NULL;
}

const char *
http_request_query(const struct http_request *req, const char *key)
{
	for (size_t i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].key, key) == 0)
			return req->query[i].value;
	return NULL;
}

const char *
http_request_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
http_request_client(const struct http_request *req)
{
	return req->client;
}

int
http_request_tls(const struct http_request *req)
{
	return req->tls;
}

const char *
http_request_body(const struct http_request *req, size_t *len)
{
	if (len != NULL)
		*len = req->body_len;
	return req->body != NULL ? req->body : "";
}

/* 1 if the Content-Type value names application/json, parameters
 * (";charset=utf-8") allowed. */
static int
is_json_media_type(const char *ct)
{
	static const char json[] = "application/json";
	size_t n = sizeof(json) - 1;

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, json, n) != 0)
		return 0;
	ct += n;
	return *ct == '\0' || *ct == ';' || *ct == ' ' || *ct == '\t';
}

/* A fixed phrase for a jansson error: never jansson's text, which quotes
 * the input. */
static const char *
json_phrase(enum json_error_code code)
{
	switch (code) {
	case json_error_out_of_memory: return "out of memory";
	case json_error_stack_overflow: return "nested too deeply";
	case json_error_invalid_utf8: return "invalid UTF-8";
	case json_error_premature_end_of_input:
		return "unexpected end of input";
	case json_error_end_of_input_expected:
		return "unexpected data after the document";
	case json_error_invalid_syntax: return "invalid syntax";
	case json_error_null_character: return "\\u0000 in a string";
	case json_error_null_byte_in_key: return "NUL byte in an object key";
	case json_error_duplicate_key: return "duplicate object key";
	case json_error_numeric_overflow: return "number out of range";
	case json_error_unknown:
	case json_error_cannot_open_file:
	case json_error_invalid_argument:
	case json_error_invalid_format:
	case json_error_wrong_type:
	case json_error_null_value:
	case json_error_item_not_found:
	case json_error_index_out_of_range: break;
	}
	return "not a valid JSON document";
}

int
http_request_json(const struct http_request *req, json_t **out,
                  struct vaern_msg *msg)
{
	json_error_t err;
	json_t *doc;

	*out = NULL;
	if (!is_json_media_type(http_request_header(req, "Content-Type"))) {
		(void)vaern_fail(msg, VAERN_E_INVALID,
		                 "Content-Type must be application/json");
		return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
	}
	if (req->body_len == 0) {
		(void)vaern_fail(msg, VAERN_E_INVALID,
		                 "the request body is empty");
		return MHD_HTTP_BAD_REQUEST;
	}
	doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES,
	                 &err);
	if (doc == NULL) {
		if (err.line > 0 && err.column > 0)
			(void)vaern_fail(
			        msg, VAERN_E_INVALID,
			        "invalid JSON at line %d, column %d: %s",
			        err.line, err.column,
			        json_phrase(json_error_code(&err)));
		else
			(void)vaern_fail(msg, VAERN_E_INVALID,
			                 "invalid JSON: %s",
			                 json_phrase(json_error_code(&err)));
		explicit_bzero(&err, sizeof(err));
		return MHD_HTTP_BAD_REQUEST;
	}
	*out = doc;
	return 0;
}

void
request_clear(struct http_request *req)
{
	for (size_t i = 0; i < req->nquery; i++) {
		explicit_bzero(req->query[i].key, strlen(req->query[i].key));
		free(req->query[i].key);
		explicit_bzero(req->query[i].value,
		               strlen(req->query[i].value));
		free(req->query[i].value);
	}
	req->nquery = 0;
	explicit_bzero(req->params, sizeof(req->params));
	req->nparams = 0;
	if (req->body != NULL) {
		explicit_bzero(req->body, req->body_cap);
		free(req->body);
	}
	req->body = NULL;
	req->body_len = req->body_cap = 0;
}

/* ---- the response ---- */

const char *
http_error_code(int status)
{
	switch (status) {
	case 400: return "bad_request";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 406: return "not_acceptable";
	case 408: return "request_timeout";
	case 409: return "conflict";
	case 410: return "gone";
	case 411: return "length_required";
	case 413: return "payload_too_large";
	case 414: return "uri_too_long";
	case 415: return "unsupported_media_type";
	case 422: return "unprocessable";
	case 429: return "too_many_requests";
	case 431: return "headers_too_large";
	case 451: return "unavailable_for_legal_reasons";
	case 500: return "internal_error";
	case 501: return "not_implemented";
	case 503: return "unavailable";
	}
	if (status >= 400 && status < 500)
		return "client_error";
	return "server_error";
}

/* The daemon's free callback for a response body: wipes, then frees. */
static void
body_free(void *cls)
{
	struct http_body *b = cls;

	explicit_bzero(b->data, b->len);
	free(b);
}

static void
body_drop(struct http_body *b)
{
	if (b != NULL)
		body_free(b);
}

/* Replaces res's status, type and body; takes b. Returns 0 or -1 (b
 * freed). */
static int
set_response(struct http_response *res, int status, const char *ctype,
             struct http_body *b)
{
	size_t len = b != NULL ? b->len : 0;

	if (status < HTTP_STATUS_MIN || status > HTTP_STATUS_MAX ||
	    ((status == 204 || status == 304) && len > 0) ||
	    strlen(ctype) >= HTTP_CONTENT_TYPE_MAX ||
	    strpbrk(ctype, "\r\n") != NULL) {
		body_drop(b);
		return -1;
	}
	body_drop(res->body);
	res->body = b;
	res->status = status;
	memcpy(res->content_type, ctype, strlen(ctype) + 1);
	res->set = 1;
	return 0;
}

static struct http_body *
body_new(size_t len)
{
	struct http_body *b;

	if (len > SIZE_MAX - sizeof(*b))
		return NULL;
	b = malloc(sizeof(*b) + len);
	if (b != NULL)
		b->len = len;
	return b;
}

int
http_respond_body(struct http_response *res, int status,
                  const char *content_type, const void *body, size_t len)
{
	struct http_body *b = NULL;

	if (len > 0) {
		if (body == NULL || (b = body_new(len)) == NULL)
			return -1;
		memcpy(b->data, body, len);
	}
	return set_response(res, status, content_type, b);
}

int
http_respond_text(struct http_response *res, int status,
                  const char *content_type, const char *text)
{
	return http_respond_body(res, status, content_type, text, strlen(text));
}

int
http_respond_json(struct http_response *res, int status, json_t *take)
{
	struct http_body *b = NULL;
	size_t len;
	int rc = -1;

	if (take == NULL)
		return -1;
	len = json_dumpb(take, NULL, 0, JSON_COMPACT);
	if (len == 0)
		goto done;
	/* Dumped straight into the body allocation: no other copy of what
	 * may be personal data. */
	b = body_new(len);
	if (b == NULL ||
	    json_dumpb(take, (char *)b->data, len, JSON_COMPACT) != len) {
		body_drop(b);
		goto done;
	}
	rc = set_response(res, status, "application/json", b);
done:
	json_decref(take);
	return rc;
}

int
http_respond_error(struct http_response *res, int status, const char *code,
                   const char *fmt, ...)
{
	struct vaern_msg message;
	json_t *doc;
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	(void)vsnprintf(message.text, sizeof(message.text), fmt, ap);
	va_end(ap);
	/* Truncation may have cut a character in two: keep whole ones. */
	len = utf8_valid_prefix((const unsigned char *)message.text,
	                        strlen(message.text));
	doc = json_pack("{s:{s:s,s:s%}}", "error", "code", code, "message",
	                message.text, len);
	return http_respond_json(res, status, doc);
}

/* RFC 9110 token characters. */
static int
is_token_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int
http_respond_header(struct http_response *res, const char *name,
                    const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value);
	struct http_res_header *h;

	if (res->nheaders == HTTP_RES_HEADERS_MAX || nlen == 0 ||
	    nlen > RES_HEADER_NAME_MAX || vlen > RES_HEADER_VALUE_MAX)
		return -1;
	for (size_t k = 0; k < nlen; k++)
		if (!is_token_char((unsigned char)name[k]))
			return -1;
	for (size_t k = 0; k < vlen; k++) {
		unsigned char c = (unsigned char)value[k];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
	}
	for (size_t k = 0; k < N_RESERVED_HEADERS; k++)
		if (strcasecmp(name, reserved_headers[k]) == 0)
			return -1;
	h = &res->headers[res->nheaders];
	h->name = strdup(name);
	h->value = strdup(value);
	if (h->name == NULL || h->value == NULL) {
		free(h->name);
		free(h->value);
		h->name = h->value = NULL;
		return -1;
	}
	res->nheaders++;
	return 0;
}

void
response_clear(struct http_response *res)
{
	body_drop(res->body);
	for (size_t i = 0; i < res->nheaders; i++) {
		free(res->headers[i].name);
		free(res->headers[i].value);
	}
	memset(res, 0, sizeof(*res));
}

static int
handler_set_header(const struct http_response *res, const char *name)
{
	for (size_t i = 0; i < res->nheaders; i++)
		if (strcasecmp(res->headers[i].name, name) == 0)
			return 1;
	return 0;
}

struct MHD_Response *
response_build(struct http_response *res, int tls, int closing)
{
	struct MHD_Response *r;
	struct http_body *b = res->body;

	if (b != NULL) {
		r = MHD_create_response_from_buffer_with_free_callback_cls(
		        b->len, b->data, body_free, b);
		if (r == NULL)
			return NULL; /* res still owns b */
		res->body = NULL;
	} else {
		r = MHD_create_response_from_buffer(0, NULL,
		                                    MHD_RESPMEM_PERSISTENT);
		if (r == NULL)
			return NULL;
	}
	if (res->content_type[0] != '\0' &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                            res->content_type) != MHD_YES)
		goto fail;
	for (size_t i = 0; i < res->nheaders; i++)
		if (MHD_add_response_header(r, res->headers[i].name,
		                            res->headers[i].value) != MHD_YES)
			goto fail;
	for (size_t i = 0; i < N_SECURITY_HEADERS; i++) {
		if (security_headers[i].tls_only && !tls)
			continue;
		if (handler_set_header(res, security_headers[i].name))
			continue;
		if (MHD_add_response_header(r, security_headers[i].name,
		                            security_headers[i].value) !=
		    MHD_YES)
			goto fail;
	}
	if (closing && MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION,
	                                       "close") != MHD_YES)
		goto fail;
	return r;
fail:
	MHD_destroy_response(r);
	return NULL;
}

/* ---- text buffers ---- */

void
http_buf_init(struct http_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
http_buf_free(struct http_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Makes room for extra more bytes plus a NUL. Returns 0 or -1 (failed). */
static int
buf_reserve(struct http_buf *b, size_t extra)
{
	size_t want, cap;
	char *p;

	if (b->failed)
		return -1;
	if (extra > b->max - b->len) {
		b->failed = 1;
		return -1;
	}
	want = b->len + extra + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap < BUF_MIN ? BUF_MIN : b->cap;
	while (cap < want)
		cap = cap > (b->max + 1) / 2 ? b->max + 1 : cap * 2;
	p = realloc(b->data, cap);
	if (p == NULL) {
		b->failed = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int
http_buf_append(struct http_buf *b, const char *s, size_t len)
{
	if (buf_reserve(b, len) != 0)
		return -1;
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
http_buf_printf(struct http_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) != 0) {
		b->failed = 1;
		return -1;
	}
	va_start(ap, fmt);
	(void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}
