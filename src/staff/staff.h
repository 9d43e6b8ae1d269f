/*
 * staff.h -- the staff console's credentials (issue 20, point 1): the
 * password (argon2id, libsodium's crypto_pwhash), the second factor
 * (TOTP, RFC 6238, computed by Debian's liboath), the otpauth URI an
 * authenticator app reads, and its QR code (encoded by Debian's
 * libqrencode, drawn as SVG here). Pure functions: no storage, no clock;
 * src/vault/vault_staff.c keeps the hash, the sealed TOTP secret and the
 * throttle, and decides a login.
 *
 * WARNING: a password, a TOTP secret and a code are secrets. Callers
 * keep them in memory they wipe (sodium_memzero), never pass them to a
 * message, a log or the audit trail, and read them from stdin or a form,
 * never from a command line or a URL.
 */
#ifndef VAERN_STAFF_H
#define VAERN_STAFF_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define STAFF_PASSWORD_MIN 12 /* bytes */
#define STAFF_PASSWORD_MAX                                                     \
	256                   /* bytes: argon2id takes any length; the         \
	                         bound keeps a form field bounded */
#define STAFF_HASH_MAX    128 /* crypto_pwhash_STRBYTES, NUL included */
#define STAFF_TOTP_SECRET 20  /* bytes: 160 bits, RFC 4226 4 (R6) */
#define STAFF_TOTP_STEP   30  /* seconds, RFC 6238 5.2 */
#define STAFF_TOTP_DIGITS 6   /* what authenticator apps show */
#define STAFF_TOTP_WINDOW                                                      \
	1                             /* steps accepted either side: clock     \
	                                 drift, RFC 6238 5.2 */
#define STAFF_CODE_MAX   8            /* digits of a code, NUL excluded */
#define STAFF_BASE32_MAX 64           /* the secret in base32, NUL included */
#define STAFF_URI_MAX    512          /* an otpauth URI, NUL included */
#define STAFF_QR_SVG_MAX (256 * 1024) /* bytes of a QR code's SVG */
#define STAFF_LABEL_MAX  128          /* issuer or account name */

/* The HMAC a TOTP uses (RFC 6238 1.2): SHA-1 for authenticator apps. */
enum staff_totp_hash { STAFF_SHA1, STAFF_SHA256, STAFF_SHA512 };

/*
 * Checks a new password: STAFF_PASSWORD_MIN..MAX bytes of UTF-8 without
 * control characters. VAERN_E_INVALID with a message naming the rule,
 * never the password.
 */
enum vaern_err staff_password_check(const char *pw, size_t len,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/*
 * Hashes pw (len bytes) with argon2id (crypto_pwhash_str_alg, the
 * interactive limits: 64 MiB, 2 passes) into out, the encoded string that
 * carries its salt and parameters. VAERN_E_NOMEM if the memory is not
 * there.
 */
enum vaern_err staff_password_hash(const char *pw, size_t len,
                                   char out[STAFF_HASH_MAX],
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/* 1 if pw matches hash (constant time in the password, as
 * crypto_pwhash_str_verify is), else 0. */
int staff_password_verify(const char *hash, const char *pw, size_t len)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* A new random TOTP secret. */
void staff_totp_secret_new(unsigned char secret[STAFF_TOTP_SECRET])
        __attribute__((nonnull));

/*
 * The code (digits 6..8, NUL-terminated in out) of secret (len bytes) at
 * Unix time t, with a step of step seconds counted from 0: RFC 6238,
 * computed by liboath (oath_totp_generate2). VAERN_E_INVALID for a
 * parameter liboath refuses.
 */
enum vaern_err
staff_totp_code(const unsigned char *secret, size_t len, int64_t t,
                unsigned step, unsigned digits, enum staff_totp_hash hash,
                char out[STAFF_CODE_MAX + 1], struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 7)));

/*
 * Checks code against secret at time now, SHA-1, STAFF_TOTP_DIGITS
 * digits, STAFF_TOTP_STEP, STAFF_TOTP_WINDOW steps either side (liboath's
 * oath_totp_validate4_callback, compared in constant time). 1 and *step
 * (the time step, t / STAFF_TOTP_STEP, the code belongs to) if it is
 * valid, else 0. The caller refuses a step at or before the last one
 * accepted (replay, RFC 6238 5.2).
 */
int staff_totp_check(const unsigned char secret[STAFF_TOTP_SECRET], int64_t now,
                     const char *code, int64_t *step)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));

/*
 * The otpauth URI of Google Authenticator's key-URI format:
 * otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1
 * &digits=6&period=30, issuer and account percent-encoded (1..
 * STAFF_LABEL_MAX bytes each). The URI holds the secret: the caller wipes
 * out.
 */
enum vaern_err staff_otpauth_uri(const char *issuer, const char *account,
                                 const unsigned char secret[STAFF_TOTP_SECRET],
                                 char out[STAFF_URI_MAX], struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/*
 * The QR code of text (libqrencode, error correction M, 8-bit mode) drawn
 * as an SVG document into a malloc'ed, NUL-terminated *svg (*len bytes):
 * one path of unit squares on a white square with a 4-module quiet zone,
 * no script. The caller wipes and frees it (it encodes a secret).
 */
enum vaern_err staff_qr_svg(const char *text, char **svg, size_t *len,
                            struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

#endif
