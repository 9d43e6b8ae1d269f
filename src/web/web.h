/*
 * web.h -- the machinery of vaern's server-rendered pages: the person's
 * portal (src/portal, issue 16) and the staff console (issue 20). This
 * header is the module's whole API.
 *
 *   HTML        a bounded, wiping buffer; text is always escaped, markup
 *               comes only from the program (web_html_raw)
 *   languages   da, sv, en: ?lang=, the language cookie, Accept-Language,
 *               the policy's default, in that order (web_lang_choose)
 *   cookies     __Host- cookies only: Secure, HttpOnly, SameSite=Strict,
 *               Path=/ (web_cookie_set), read back strictly (web_cookie)
 *   forms       application/x-www-form-urlencoded, every field known,
 *               none twice, none over WEB_FIELD_MAX (web_form);
 *               multipart/form-data for a form with files, as strictly
 *               (web_multipart, web_multipart.c)
 *   CSRF        a token in every form (the caller derives it from the
 *               session; vault_portal_csrf) compared in constant time
 *               (web_token_equal), plus the Origin check (web_origin_ok)
 *   headers     a strict CSP without inline script or style,
 *               frame-ancestors 'none', no-store (web_page_headers); the
 *               http module adds HSTS over TLS
 *
 * Sessions, login throttling and one-time codes are the vault's
 * (src/vault/vault_portal.h): they need the keys and the store.
 *
 * Personal data: a page holds it; the buffer is wiped when freed. Nothing
 * here logs.
 */
#ifndef VAERN_WEB_H
#define VAERN_WEB_H

#include <stddef.h>

#include "../common/err.h"
#include "../http/http.h"

#define WEB_PAGE_MAX   ((size_t)1024 * 1024) /* bytes of one page */
#define WEB_FIELD_MAX  1024 /* bytes of one decoded form field */
#define WEB_FIELDS_MAX 32   /* fields of one form */
#define WEB_COOKIE_MAX 128  /* bytes of a cookie value we read */

/* A page being written. */
struct web_html {
	char *data; /* owned; NUL-terminated while not failed */
	size_t len; /* bytes written */
	size_t cap; /* bytes allocated */
	size_t max; /* the ceiling (WEB_PAGE_MAX when 0 at init) */
	int failed; /* 1 after a write failed (no memory, past max) */
};

void web_html_init(struct web_html *h, size_t max) __attribute__((nonnull));
/* Appends program markup as is. Never pass request input or data. */
void web_html_raw(struct web_html *h, const char *markup)
        __attribute__((nonnull));
/* Appends text escaped for an element or a quoted attribute. */
void web_html_text(struct web_html *h, const char *text)
        __attribute__((nonnull));
/* Appends formatted program markup: the arguments are numbers or
 * program strings, never input (use web_html_text for those). */
void web_html_printf(struct web_html *h, const char *fmt, ...)
        __attribute__((nonnull(1, 2), format(printf, 2, 3)));
/* Wipes and frees h's buffer. */
void web_html_free(struct web_html *h) __attribute__((nonnull));

/*
 * Answers status with the page h (text/html; charset=utf-8) and the
 * page headers, then frees h. A failed h answers 500 instead.
 */
int web_respond_html(struct http_response *res, int status, struct web_html *h)
        __attribute__((nonnull));

/* Content-Security-Policy: default-src 'self'; script-src 'none' (no
 * JavaScript at all); style-src 'self'; img-src 'self'; form-action
 * 'self'; frame-ancestors 'none'; base-uri 'none'; and
 * X-Frame-Options: DENY, Referrer-Policy: same-origin (a form then
 * carries its Origin; no-referrer would make it "null"); the http module
 * adds Cache-Control: no-store. */
void web_page_headers(struct http_response *res) __attribute__((nonnull));

/* 303 See Other to the path (program text) with the page headers. */
int web_redirect(struct http_response *res, const char *path)
        __attribute__((nonnull));

enum web_lang { WEB_EN = 0, WEB_DA = 1, WEB_SV = 2 };

/* "en", "da", "sv". */
const char *web_lang_code(enum web_lang l);
/* 0 and *l for "en", "da" or "sv"; -1 for anything else. */
int web_lang_parse(const char *s, enum web_lang *l) __attribute__((nonnull(2)));

/*
 * The page's language: ?lang= (which the caller then keeps in the
 * language cookie), the cookie WEB_LANG_COOKIE, the first of da, sv, en
 * that Accept-Language lists with q > 0, else dflt (a policy's
 * controller.language; anything else: en).
 */
#define WEB_LANG_COOKIE "__Host-vaern_lang"
enum web_lang web_lang_choose(struct http_request *req, const char *dflt)
        __attribute__((nonnull(1)));

/*
 * The value of cookie name in the request's Cookie header into out
 * (size bytes): 1 if found, 0 if absent, -1 if it is there but malformed
 * or too long (a value of other than [A-Za-z0-9_-]).
 */
int web_cookie(struct http_request *req, const char *name, char *out,
               size_t size) __attribute__((nonnull));

/*
 * Sets cookie name (which must begin "__Host-") to value: Path=/;
 * Secure; HttpOnly; SameSite=Strict, and Max-Age=max_age when max_age
 * >= 0 (0 removes it), else a session cookie. -1 on a bad name or
 * value, or too many headers.
 */
int web_cookie_set(struct http_response *res, const char *name,
                   const char *value, long max_age) __attribute__((nonnull));

/*
 * Decodes the request's urlencoded form into values (one per keys entry,
 * NULL-terminated keys; absent or blank fields NULL), decoded in a copy
 * *buf the caller frees with web_form_free. Returns 0, or the status to
 * answer with msg naming the field at fault (never its value): 415 not
 * a form, 413 a field over WEB_FIELD_MAX, 400 an unknown field, one
 * twice, a bad escape, a NUL, invalid UTF-8 or control characters (a
 * line break allowed only in fields listed in multiline, or none).
 */
int web_form(struct http_request *req, const char *const *keys,
             const char **values, char **buf, struct vaern_msg *msg)
        __attribute__((nonnull(1, 2, 3, 4)));
void web_form_free(char *buf);

/* 1 if a and b are equal tokens (constant time for equal lengths). */
int web_token_equal(const char *a, const char *b);

/*
 * AURA-SEC-1, the CSRF rule's second half: 1 if the request's Origin is
 * absent or is this server's own ("https://" or, on plain loopback HTTP,
 * "http://", then the Host header), and Sec-Fetch-Site, when sent, is
 * same-origin or none; else 0.
 */
int web_origin_ok(struct http_request *req) __attribute__((nonnull));

/* ---- multipart/form-data (web_multipart.c; RFC 7578) -------------------- */

#define WEB_PARTS_MAX       16   /* parts of one multipart form */
#define WEB_PART_FIELDS_MAX 16   /* fields a multipart form may name */
#define WEB_PART_HEADER_MAX 1024 /* bytes of one part's header line */
#define WEB_BOUNDARY_MAX    70   /* RFC 2046 */

/* A field a multipart form may hold; a list ends with name NULL. */
struct web_part_field {
	const char *name; /* the form field's name */
	size_t max;       /* bytes of one value: 413 past it */
	unsigned count;   /* values at most: 1 for a text (twice: 400), n
	                     for files (n + 1: 413) */
	int file;         /* 1: a file input (a filename must be given and
	                     is never kept; an empty input is no file) */
	int multiline;    /* text only: line breaks allowed (CRLF kept as
	                     LF) */
};

/* One value of a multipart form. */
struct web_part {
	size_t field;              /* its index in the field list */
	const unsigned char *data; /* its bytes, in the request body (not
	                              copied: no temporary file) */
	size_t len;                /* bytes */
	char *text;                /* a text field's checked copy,
	                              NUL-terminated, owned (wiped when
	                              freed); NULL for a file */
};

/* A parsed form: parts in the order sent, empty file inputs left out. */
struct web_multipart {
	struct web_part parts[WEB_PARTS_MAX];
	size_t nparts;
};

/*
 * Parses body (len bytes; the caller keeps it while out is used) of
 * content_type against fields. Strict: multipart/form-data with exactly
 * one boundary parameter; no preamble; no epilogue beyond one CRLF; at
 * most WEB_PARTS_MAX parts; each part's headers one Content-Disposition
 * (form-data, a quoted name of fields, a quoted filename exactly for a
 * file field) and at most one Content-Type, each line at most
 * WEB_PART_HEADER_MAX bytes; each value within its field's max and
 * count; text UTF-8 without control characters but tab (and line breaks
 * when multiline). Returns 0, or the status to answer with msg naming
 * the field or part at fault (never a value): 415 not such a form, 413
 * a value, a count or the parts over their limits, 400 anything
 * malformed, 503 out of memory. On failure out holds nothing.
 */
int web_multipart(const char *content_type, const unsigned char *body,
                  size_t len, const struct web_part_field *fields,
                  struct web_multipart *out, struct vaern_msg *msg)
        __attribute__((nonnull(2, 4, 5)));

/* The text of field (an index into the list) in m, NULL if absent or
 * empty. */
const char *web_multipart_text(const struct web_multipart *m, size_t field)
        __attribute__((nonnull));

/* Wipes and frees the texts of m. Safe on a zeroed or freed m. */
void web_multipart_free(struct web_multipart *m) __attribute__((nonnull));

/* ---- shared by the portal and the console's sessions and forms ---- */

#define WEB_TOKEN_BYTES 32
#define WEB_TOKEN_LEN   43 /* base64url of WEB_TOKEN_BYTES, no padding */

/* A new random token (a pre-login form's CSRF token). */
void web_token_new(char out[WEB_TOKEN_LEN + 1]) __attribute__((nonnull));

/*
 * AURA-SEC-1: why a form is refused, or NULL to accept it: from another
 * origin (web_origin_ok), or its token got not equal to expected (or
 * expected fresh: a pre-login token the browser did not have yet). The
 * reason names the rule, never a value.
 */
const char *web_form_refusal(struct http_request *req, const char *expected,
                             int fresh, const char *got)
        __attribute__((nonnull(1)));

/* Milliseconds of the monotonic clock. */
long long web_ms_now(void);
/* Sleeps until floor_ms after started (web_ms_now): a login answers in
 * the same time whoever it named (no enumeration). */
void web_floor_wait(long long started, long long floor_ms);

/* The language switch: a nav (aria-label label) of links to path in
 * each language, current marked. */
void web_lang_nav(struct web_html *h, const char *path, enum web_lang current,
                  const char *label) __attribute__((nonnull));

#endif
