/*
 * staff.c -- the staff console's credentials (issue 20, point 1):
 * argon2id passwords, RFC 6238 codes through liboath, the otpauth URI and
 * its QR code as SVG through libqrencode.
 */
#include "staff.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/utf8.h"

#define QR_QUIET 4 /* modules of white around the code (ISO 18004) */

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_ready = OATH_OK;

static void
oath_start(void)
{
	oath_ready = oath_init();
}

/* liboath's global state, set up once per process. */
static int
oath_ok(void)
{
	(void)pthread_once(&oath_once, oath_start);
	return oath_ready == OATH_OK;
}

enum vaern_err
staff_password_check(const char *pw, size_t len, struct vaern_msg *msg)
{
	if (len < STAFF_PASSWORD_MIN || len > STAFF_PASSWORD_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "password: %d to %d bytes",
		                  STAFF_PASSWORD_MIN, STAFF_PASSWORD_MAX);
	if (memchr(pw, '\0', len) != NULL ||
	    !utf8_line_ok(pw, STAFF_PASSWORD_MAX))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "password: UTF-8 text without control "
		                  "characters");
	return VAERN_OK;
}

enum vaern_err
staff_password_hash(const char *pw, size_t len, char out[STAFF_HASH_MAX],
                    struct vaern_msg *msg)
{
	_Static_assert(crypto_pwhash_STRBYTES <= STAFF_HASH_MAX,
	               "STAFF_HASH_MAX holds crypto_pwhash_str");
	out[0] = '\0';
	if (crypto_pwhash_str_alg(out, pw, len,
	                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                          crypto_pwhash_MEMLIMIT_INTERACTIVE,
	                          crypto_pwhash_ALG_ARGON2ID13) != 0)
		return vaern_fail(msg, VAERN_E_NOMEM,
		                  "password: out of memory for argon2id");
	return VAERN_OK;
}

int
staff_password_verify(const char *hash, const char *pw, size_t len)
{
	/* Only our own argon2id strings: a hash of another kind, or one
	 * cut short, is no match. */
	if (strncmp(hash, crypto_pwhash_argon2id_STRPREFIX,
	            strlen(crypto_pwhash_argon2id_STRPREFIX)) != 0)
		return 0;
	return crypto_pwhash_str_verify(hash, pw, len) == 0;
}

void
staff_totp_secret_new(unsigned char secret[STAFF_TOTP_SECRET])
{
	randombytes_buf(secret, STAFF_TOTP_SECRET);
}

static int
hash_flags(enum staff_totp_hash h)
{
	return h == STAFF_SHA256   ? OATH_TOTP_HMAC_SHA256
	       : h == STAFF_SHA512 ? OATH_TOTP_HMAC_SHA512
	                           : 0;
}

enum vaern_err
staff_totp_code(const unsigned char *secret, size_t len, int64_t t,
                unsigned step, unsigned digits, enum staff_totp_hash hash,
                char out[STAFF_CODE_MAX + 1], struct vaern_msg *msg)
{
	out[0] = '\0';
	if (!oath_ok())
		return vaern_fail(msg, VAERN_E_INTERNAL, "liboath: init");
	if (digits < 6 || digits > STAFF_CODE_MAX || step == 0 || t < 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "totp: 6 to %d digits, a step, a time",
		                  STAFF_CODE_MAX);
	if (oath_totp_generate2((const char *)secret, len, (time_t)t, step, 0,
	                        digits, hash_flags(hash), out) != OATH_OK) {
		out[0] = '\0';
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "totp: liboath refused");
	}
	return VAERN_OK;
}

/* liboath's comparison hook: 0 when the code it computed (test) is the
 * one typed (handle), in constant time. */
static int
code_cmp(void *handle, const char *test)
{
	const char *typed = handle;
	size_t n = strlen(typed);

	return strlen(test) != n || sodium_memcmp(test, typed, n) != 0;
}

int
staff_totp_check(const unsigned char secret[STAFF_TOTP_SECRET], int64_t now,
                 const char *code, int64_t *step)
{
	char typed[STAFF_CODE_MAX + 1];
	size_t n = strlen(code);
	uint64_t counter = 0;
	int pos = 0, rc;

	*step = -1;
	if (!oath_ok() || n != STAFF_TOTP_DIGITS ||
	    strspn(code, "0123456789") != n || now < 0)
		return 0;
	memcpy(typed, code, n + 1);
	rc = oath_totp_validate4_callback(
	        (const char *)secret, STAFF_TOTP_SECRET, (time_t)now,
	        STAFF_TOTP_STEP, 0, STAFF_TOTP_DIGITS, STAFF_TOTP_WINDOW, &pos,
	        &counter, 0, code_cmp, typed);
	sodium_memzero(typed, sizeof(typed));
	if (rc < 0)
		return 0;
	*step = (int64_t)counter;
	return 1;
}

/* Appends s percent-encoded (RFC 3986: unreserved kept) to out at *at. */
static int
pct_append(char *out, size_t size, size_t *at, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (*at + 4 > size)
			return -1;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL) {
			out[(*at)++] = (char)ch;
		} else {
			out[(*at)++] = '%';
			out[(*at)++] = hex[ch >> 4];
			out[(*at)++] = hex[ch & 15];
		}
	}
	out[*at] = '\0';
	return 0;
}

static int
raw_append(char *out, size_t size, size_t *at, const char *s)
{
	size_t n = strlen(s);

	if (*at + n + 1 > size)
		return -1;
	memcpy(out + *at, s, n + 1);
	*at += n;
	return 0;
}

enum vaern_err
staff_otpauth_uri(const char *issuer, const char *account,
                  const unsigned char secret[STAFF_TOTP_SECRET],
                  char out[STAFF_URI_MAX], struct vaern_msg *msg)
{
	char *b32 = NULL, tail[96];
	size_t b32len = 0, at = 0;
	enum vaern_err err = VAERN_OK;
	int bad;

	out[0] = '\0';
	if (issuer[0] == '\0' || strlen(issuer) > STAFF_LABEL_MAX ||
	    account[0] == '\0' || strlen(account) > STAFF_LABEL_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "otpauth: issuer and account are 1 to %d "
		                  "bytes",
		                  STAFF_LABEL_MAX);
	if (!oath_ok() ||
	    oath_base32_encode((const char *)secret, STAFF_TOTP_SECRET, &b32,
	                       &b32len) != OATH_OK)
		return vaern_fail(msg, VAERN_E_NOMEM, "otpauth: base32");
	/* Authenticator apps read the secret without padding. */
	while (b32len > 0 && b32[b32len - 1] == '=')
		b32[--b32len] = '\0';
	(void)snprintf(tail, sizeof(tail),
	               "&algorithm=SHA1&digits=%d&period=%d", STAFF_TOTP_DIGITS,
	               STAFF_TOTP_STEP);
	bad = raw_append(out, STAFF_URI_MAX, &at, "otpauth://totp/") ||
	      pct_append(out, STAFF_URI_MAX, &at, issuer) ||
	      raw_append(out, STAFF_URI_MAX, &at, ":") ||
	      pct_append(out, STAFF_URI_MAX, &at, account) ||
	      raw_append(out, STAFF_URI_MAX, &at, "?secret=") ||
	      raw_append(out, STAFF_URI_MAX, &at, b32) ||
	      raw_append(out, STAFF_URI_MAX, &at, "&issuer=") ||
	      pct_append(out, STAFF_URI_MAX, &at, issuer) ||
	      raw_append(out, STAFF_URI_MAX, &at, tail);
	if (bad) {
		sodium_memzero(out, STAFF_URI_MAX);
		out[0] = '\0';
		err = vaern_fail(msg, VAERN_E_LIMIT, "otpauth: URI too long");
	}
	sodium_memzero(b32, b32len);
	free(b32);
	return err;
}

enum vaern_err
staff_qr_svg(const char *text, char **svg, size_t *len, struct vaern_msg *msg)
{
	QRcode *qr;
	char *buf = NULL;
	size_t at = 0, cap = STAFF_QR_SVG_MAX;
	int n, size;
	enum vaern_err err = VAERN_OK;

	*svg = NULL;
	*len = 0;
	if ((qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) ==
	    NULL)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "qr: the text does not fit a QR code");
	if ((buf = malloc(cap)) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	size = qr->width + 2 * QR_QUIET;
	n = snprintf(buf, cap,
	             "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	             "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
	             "shape-rendering=\"crispEdges\" role=\"img\" "
	             "aria-label=\"QR code\">\n"
	             "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n"
	             "<path fill=\"#000\" d=\"",
	             size, size, size * 6, size * 6, size, size);
	if (n < 0 || (size_t)n >= cap)
		goto over;
	at = (size_t)n;
	/* One unit square per dark module (bit 0 of each byte). */
	for (int y = 0; y < qr->width; y++) {
		for (int x = 0; x < qr->width; x++) {
			if (!(qr->data[y * qr->width + x] & 1))
				continue;
			n = snprintf(buf + at, cap - at, "M%d %dh1v1h-1z",
			             x + QR_QUIET, y + QR_QUIET);
			if (n < 0 || (size_t)n >= cap - at)
				goto over;
			at += (size_t)n;
		}
	}
	n = snprintf(buf + at, cap - at, "\"/>\n</svg>\n");
	if (n < 0 || (size_t)n >= cap - at)
		goto over;
	at += (size_t)n;
	*svg = buf;
	*len = at;
	buf = NULL;
	goto done;
over:
	err = vaern_fail(msg, VAERN_E_LIMIT, "qr: the SVG is too large");
done:
	if (buf != NULL) {
		sodium_memzero(buf, cap);
		free(buf);
	}
	/* The modules spell the secret too. */
	sodium_memzero(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
	return err;
}
