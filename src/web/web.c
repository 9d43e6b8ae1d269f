/*
 * web.c -- pages, languages, cookies, forms, CSRF and Origin (web.h).
 */
#include "web.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../common/utf8.h"

/* ---- HTML ---------------------------------------------------------------- */

void
web_html_init(struct web_html *h, size_t max)
{
	memset(h, 0, sizeof(*h));
	h->max = max != 0 ? max : WEB_PAGE_MAX;
}

/* Room for n more bytes and a NUL; grown by fresh allocation, the old
 * buffer wiped (it may hold personal data). */
static int
reserve(struct web_html *h, size_t n)
{
	size_t cap;
	char *p;

	if (h->failed)
		return -1;
	if (h->len + n + 1 <= h->cap)
		return 0;
	if (h->len + n + 1 > h->max) {
		h->failed = 1;
		return -1;
	}
	cap = h->cap ? h->cap : 8192;
	while (cap < h->len + n + 1)
		cap *= 2;
	if (cap > h->max)
		cap = h->max;
	if ((p = malloc(cap)) == NULL) {
		h->failed = 1;
		return -1;
	}
	if (h->data != NULL) {
		memcpy(p, h->data, h->len);
		sodium_memzero(h->data, h->cap);
		free(h->data);
	}
	h->data = p;
	h->cap = cap;
	return 0;
}

static void
append(struct web_html *h, const char *s, size_t n)
{
	if (reserve(h, n) != 0)
		return;
	memcpy(h->data + h->len, s, n);
	h->len += n;
	h->data[h->len] = '\0';
}

void
web_html_raw(struct web_html *h, const char *markup)
{
	append(h, markup, strlen(markup));
}

void
web_html_text(struct web_html *h, const char *text)
{
	const char *p = text, *run = text;

	for (; *p != '\0'; p++) {
		const char *rep = NULL;

		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		append(h, run, (size_t)(p - run));
		append(h, rep, strlen(rep));
		run = p + 1;
	}
	append(h, run, (size_t)(p - run));
}

void
web_html_printf(struct web_html *h, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		h->failed = 1;
		return;
	}
	append(h, buf, (size_t)n);
}

void
web_html_free(struct web_html *h)
{
	if (h->data != NULL) {
		sodium_memzero(h->data, h->cap);
		free(h->data);
	}
	h->data = NULL;
	h->len = h->cap = 0;
}

void
web_page_headers(struct http_response *res)
{
	(void)http_respond_header(
	        res, "Content-Security-Policy",
	        "default-src 'self'; script-src 'none'; style-src 'self'; "
	        "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
	        "base-uri 'none'; object-src 'none'");
	(void)http_respond_header(res, "X-Frame-Options", "DENY");
	/* no-referrer (the API's) makes a browser send "Origin: null" with
	 * a form, which the Origin check must refuse: same-origin keeps the
	 * page's own origin on its forms and tells other sites nothing. */
	(void)http_respond_header(res, "Referrer-Policy", "same-origin");
}

int
web_respond_html(struct http_response *res, int status, struct web_html *h)
{
	int rc;

	web_page_headers(res);
	if (h->failed || h->data == NULL) {
		web_html_free(h);
		return http_respond_error(res, 500, "internal",
		                          "the page could not be written");
	}
	rc = http_respond_body(res, status, "text/html; charset=utf-8", h->data,
	                       h->len);
	web_html_free(h);
	return rc;
}

int
web_redirect(struct http_response *res, const char *path)
{
	web_page_headers(res);
	if (http_respond_header(res, "Location", path) != 0)
		return -1;
	return http_respond_text(res, 303, "text/plain; charset=utf-8",
	                         "See Other\n");
}

/* ---- languages ----------------------------------------------------------- */

static const char *const lang_codes[] = {"en", "da", "sv"};

const char *
web_lang_code(enum web_lang l)
{
	return (unsigned)l < 3 ? lang_codes[l] : "en";
}

int
web_lang_parse(const char *s, enum web_lang *l)
{
	for (int i = 0; s != NULL && i < 3; i++)
		if (strcmp(s, lang_codes[i]) == 0) {
			*l = (enum web_lang)i;
			return 0;
		}
	return -1;
}

/* The first of da, sv, en an Accept-Language header lists (with q > 0),
 * -1 if none. "da-DK" counts as da. */
static int
accept_language(const char *h)
{
	while (h != NULL && *h != '\0') {
		const char *end = strchr(h, ','), *semi;
		size_t n = end != NULL ? (size_t)(end - h) : strlen(h);
		char tag[16];
		size_t t = 0;
		int zero = 0;

		while (n > 0 && (*h == ' ' || *h == '\t')) {
			h++;
			n--;
		}
		semi = memchr(h, ';', n);
		if (semi != NULL) {
			const char *q = semi + 1;

			while (*q == ' ')
				q++;
			zero = strncmp(q, "q=0", 3) == 0 &&
			       (q[3] == '\0' || q[3] == ',' ||
			        (q[3] == '.' &&
			         strspn(q + 4, "0") == strcspn(q + 4, ",")));
		}
		while (t < n && t + 1 < sizeof(tag) && h[t] != ';' &&
		       h[t] != '-' && h[t] != ' ') {
			tag[t] = h[t];
			t++;
		}
		tag[t] = '\0';
		for (int i = 0; i < 3 && !zero; i++)
			if (strcasecmp(tag, lang_codes[i]) == 0)
				return i;
		h = end != NULL ? end + 1 : NULL;
	}
	return -1;
}

enum web_lang
web_lang_choose(struct http_request *req, const char *dflt)
{
	enum web_lang l = WEB_EN;
	char c[8];
	int a;

	if (web_lang_parse(http_request_query(req, "lang"), &l) == 0)
		return l;
	if (web_cookie(req, WEB_LANG_COOKIE, c, sizeof(c)) == 1 &&
	    web_lang_parse(c, &l) == 0)
		return l;
	if ((a = accept_language(
	             http_request_header(req, "Accept-Language"))) >= 0)
		return (enum web_lang)a;
	if (dflt != NULL && web_lang_parse(dflt, &l) == 0)
		return l;
	return WEB_EN;
}

/* ---- cookies ------------------------------------------------------------- */

static int
cookie_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int
web_cookie(struct http_request *req, const char *name, char *out, size_t size)
{
	const char *h = http_request_header(req, "Cookie");
	size_t nlen = strlen(name);

	if (size > 0)
		out[0] = '\0';
	while (h != NULL && *h != '\0') {
		const char *end = strchr(h, ';');
		size_t n;

		while (*h == ' ')
			h++;
		n = end != NULL ? (size_t)(end - h) : strlen(h);
		if (n > nlen && strncmp(h, name, nlen) == 0 && h[nlen] == '=') {
			const char *v = h + nlen + 1;
			size_t vlen = n - nlen - 1;

			if (vlen + 1 > size || vlen > WEB_COOKIE_MAX)
				return -1;
			for (size_t i = 0; i < vlen; i++)
				if (!cookie_char((unsigned char)v[i]))
					return -1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return 1;
		}
		h = end != NULL ? end + 1 : NULL;
	}
	return 0;
}

int
web_cookie_set(struct http_response *res, const char *name, const char *value,
               long max_age)
{
	char line[512], age[32] = "";
	int n;

	if (strncmp(name, "__Host-", 7) != 0)
		return -1;
	for (const char *p = value; *p != '\0'; p++)
		if (!cookie_char((unsigned char)*p))
			return -1;
	if (max_age >= 0)
		(void)snprintf(age, sizeof(age), "; Max-Age=%ld", max_age);
	n = snprintf(line, sizeof(line),
	             "%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict%s", name,
	             value, age);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	return http_respond_header(res, "Set-Cookie", line);
}

/* ---- forms --------------------------------------------------------------- */

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one field in place (at p, NUL-terminated); its length, or
 * -1 for a bad escape or a NUL. */
static long
decode(char *p)
{
	char *r, *w;

	for (r = w = p; *r != '\0'; r++) {
		if (*r == '+') {
			*w++ = ' ';
		} else if (*r == '%') {
			int hi = hex_value(r[1]),
			    lo = hi < 0 ? -1 : hex_value(r[2]);

			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (long)(w - p);
}

/* Valid UTF-8 without control characters but tab, CR and LF. */
static int
field_ok(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	if (utf8_valid_prefix(u, len) != len)
		return 0;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(u + i, len - i, &cp);

		if (n == 0)
			return 0;
		if (utf8_is_control(cp) && cp != '\t' && cp != '\r' &&
		    cp != '\n')
			return 0;
		i += n;
	}
	return 1;
}

int
web_form(struct http_request *req, const char *const *keys, const char **values,
         char **buf, struct vaern_msg *msg)
{
	const char *type = http_request_header(req, "Content-Type");
	size_t len = 0, k, nfields = 0;
	const char *body = http_request_body(req, &len);
	char *p;

	*buf = NULL;
	for (k = 0; keys[k] != NULL; k++)
		values[k] = NULL;
	if (type == NULL ||
	    strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0 ||
	    (type[33] != '\0' && type[33] != ';')) {
		(void)vaern_fail(
		        msg, VAERN_E_INVALID,
		        "the form is application/x-www-form-urlencoded");
		return 415;
	}
	if (memchr(body, '\0', len) != NULL) {
		(void)vaern_fail(msg, VAERN_E_INVALID,
		                 "the form holds a NUL byte");
		return 400;
	}
	if ((*buf = malloc(len + 1)) == NULL) {
		(void)vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		return 503;
	}
	memcpy(*buf, body, len + 1);
	p = *buf;
	while (p != NULL && *p != '\0') {
		char *amp = strchr(p, '&'), *eq;
		long n;

		if (amp != NULL)
			*amp = '\0';
		if (++nfields > WEB_FIELDS_MAX) {
			(void)vaern_fail(msg, VAERN_E_INVALID,
			                 "the form has more than %d fields",
			                 WEB_FIELDS_MAX);
			return 400;
		}
		if ((eq = strchr(p, '=')) == NULL) {
			(void)vaern_fail(msg, VAERN_E_INVALID,
			                 "the form is key=value pairs");
			return 400;
		}
		*eq = '\0';
		for (k = 0; keys[k] != NULL; k++)
			if (strcmp(keys[k], p) == 0)
				break;
		if (keys[k] == NULL || values[k] != NULL) {
			(void)vaern_fail(msg, VAERN_E_INVALID,
			                 keys[k] == NULL
			                         ? "an unknown form field"
			                         : "form field '%s' twice",
			                 keys[k] != NULL ? keys[k] : "");
			return 400;
		}
		if ((n = decode(eq + 1)) < 0) {
			(void)vaern_fail(msg, VAERN_E_INVALID,
			                 "form field '%s': a bad %%XX escape",
			                 keys[k]);
			return 400;
		}
		if ((size_t)n > WEB_FIELD_MAX) {
			(void)vaern_fail(
			        msg, VAERN_E_LIMIT,
			        "form field '%s': longer than %d bytes",
			        keys[k], WEB_FIELD_MAX);
			return 413;
		}
		if (!field_ok(eq + 1, (size_t)n)) {
			(void)vaern_fail(msg, VAERN_E_INVALID,
			                 "form field '%s': not text (UTF-8 "
			                 "without control characters)",
			                 keys[k]);
			return 400;
		}
		values[k] = n > 0 ? eq + 1 : NULL;
		p = amp != NULL ? amp + 1 : NULL;
	}
	return 0;
}

void
web_form_free(char *buf)
{
	if (buf == NULL)
		return;
	sodium_memzero(buf, strlen(buf));
	free(buf);
}

/* ---- CSRF and Origin ----------------------------------------------------- */

int
web_token_equal(const char *a, const char *b)
{
	size_t n;

	if (a == NULL || b == NULL || (n = strlen(a)) != strlen(b) || n == 0)
		return 0;
	return sodium_memcmp(a, b, n) == 0;
}

int
web_origin_ok(struct http_request *req)
{
	const char *origin = http_request_header(req, "Origin");
	const char *site = http_request_header(req, "Sec-Fetch-Site");
	const char *host = http_request_header(req, "Host");
	const char *scheme = http_request_tls(req) ? "https://" : "http://";
	size_t sl = strlen(scheme);

	if (site != NULL && strcmp(site, "same-origin") != 0 &&
	    strcmp(site, "none") != 0)
		return 0;
	if (origin == NULL)
		return 1;
	if (host == NULL || strncmp(origin, scheme, sl) != 0)
		return 0;
	return strcmp(origin + sl, host) == 0;
}

/* ---- tokens, refusals, timing, the language switch ------------------- */

void
web_token_new(char out[WEB_TOKEN_LEN + 1])
{
	unsigned char raw[WEB_TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, WEB_TOKEN_LEN + 1, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

const char *
web_form_refusal(struct http_request *req, const char *expected, int fresh,
                 const char *got)
{
	if (!web_origin_ok(req))
		return "a form from another origin (AURA-SEC-1)";
	if (fresh || !web_token_equal(got, expected))
		return "a form without its CSRF token (AURA-SEC-1)";
	return NULL;
}

long long
web_ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
web_floor_wait(long long started, long long floor_ms)
{
	long long left = floor_ms - (web_ms_now() - started);
	struct timespec ts;

	if (left <= 0)
		return;
	ts.tv_sec = (time_t)(left / 1000);
	ts.tv_nsec = (long)(left % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
}

void
web_lang_nav(struct web_html *h, const char *path, enum web_lang current,
             const char *label)
{
	static const char *const names[] = {"English", "Dansk", "Svenska"};

	web_html_raw(h, "<nav class=\"langs\" aria-label=\"");
	web_html_text(h, label);
	web_html_raw(h, "\"><ul>");
	for (int l = 0; l < 3; l++) {
		const char *code = web_lang_code((enum web_lang)l);

		web_html_raw(h, "<li><a href=\"");
		web_html_text(h, path);
		web_html_printf(h, "?lang=%s\" lang=\"%s\" hreflang=\"%s\"%s>",
		                code, code, code,
		                (int)current == l ? " aria-current=\"true\""
		                                  : "");
		web_html_text(h, names[l]);
		web_html_raw(h, "</a></li>");
	}
	web_html_raw(h, "</ul></nav>");
}
