/*
 * smtp.h -- the SMTP outbox (issue 5): one-time codes (AOPT-ACCESS-1) sent
 * as e-mail through a mail server, with libcurl's SMTP client. It plugs
 * into the vault with vault_set_outbox(v, smtp_outbox_send, outbox).
 *
 * Transport security: smtps:// is TLS from the first byte; smtp:// must
 * upgrade with STARTTLS (CURLUSESSL_ALL), and the server's certificate is
 * verified either way. Only a mail server on a loopback address may be
 * spoken to in the clear, and only when asked for (insecure), as `vaern
 * serve` serves plain HTTP (AURA-SEC-1).
 *
 * Personal data: the address and the body (the code) are never in an
 * error message. A mail server's reply can quote the recipient, so
 * libcurl's error text is never used: a failure is described by libcurl's
 * fixed name for its error code and the server's numeric reply code.
 *
 * Risks the caller should know: a send blocks the calling thread for at
 * most the total timeout (SMTP_TIMEOUT_DEFAULT unless set). A phone
 * number cannot be reached by e-mail: such a message is refused, or
 * spooled to phone_spool if one is set.
 */
#ifndef VAERN_SMTP_H
#define VAERN_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../vault/vault.h"

#define SMTP_URL_MAX          512   /* bytes of the server URL */
#define SMTP_ADDR_MAX         254   /* bytes of an address (RFC 5321) */
#define SMTP_USER_MAX         256   /* bytes of the login name */
#define SMTP_PASSWORD_MAX     256   /* bytes of the password */
#define SMTP_TITLE_MAX        256   /* bytes of a subject line, unencoded */
#define SMTP_BODY_MAX         8192  /* bytes of a body, unencoded */
#define SMTP_MESSAGE_MAX      32768 /* bytes of a formatted message */
#define SMTP_TIMEOUT_DEFAULT  30    /* seconds a whole send may take */
#define SMTP_TIMEOUT_MAX      300
#define SMTP_CONNECT_TIMEOUT  10 /* seconds to connect (at most the total) */
#define SMTP_MESSAGE_ID_BYTES 16 /* random bytes in a Message-ID */

/* How to reach the mail server. The strings are copied by
 * smtp_outbox_new; none needs to outlive the call. */
struct smtp_config {
	const char *url;  /* smtp://HOST[:PORT] or smtps://HOST[:PORT] */
	const char *from; /* the sender's address: MAIL FROM and From: */
	const char *user; /* login name, or NULL for no AUTH */
	const char *password_file; /* with user: a file whose first line is
	                              the password (not readable by others) */
	const char *ca_file;       /* CA certificates to verify the server
	                              with, or NULL for the system's */
	const char *phone_spool;   /* a spool directory for phone messages
	                              (vault_outbox_spool), or NULL: refused */
	int insecure;              /* 1: smtp:// to a loopback address
	                              without TLS */
	unsigned timeout;          /* seconds a send may take; 0: default */
};

struct smtp_outbox;

/*
 * Checks cfg and reads the password file: refuses (VAERN_E_INVALID, msg
 * says why) a URL that is not smtp:// or smtps:// with a host, carries a
 * login, a query or a fragment; insecure off loopback or with smtps://;
 * a bad From address; a user without a password file or the reverse; a
 * password file readable by others (VAERN_E_DENIED) or unreadable
 * (VAERN_E_IO). Nothing is sent. Initialises libcurl, so it must be
 * called before other threads start. The caller frees *out with
 * smtp_outbox_free.
 */
enum vaern_err smtp_outbox_new(const struct smtp_config *cfg,
                               struct smtp_outbox **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Wipes the password and frees o. Accepts NULL. */
void smtp_outbox_free(struct smtp_outbox *o);

/* 1 if o speaks TLS to its server (smtps://, or STARTTLS required). */
int smtp_outbox_tls(const struct smtp_outbox *o) __attribute__((nonnull));

/*
 * A vault_outbox_fn (arg: the struct smtp_outbox). Sends an e-mail
 * message to m->to, on a connection of its own (safe from any number of
 * threads), dated by vaern's clock (clock_now, as the code's expiry). A phone
 * message goes to the phone spool, or is refused (VAERN_E_INVALID: no SMS
 * sender is configured). A malformed message (header injection, bad UTF-8, too
 * long): VAERN_E_INVALID. The server unreachable, refusing or too slow:
 * VAERN_E_UPSTREAM. No error message holds the address or the body.
 */
enum vaern_err smtp_outbox_send(void *arg, const struct vault_message *m,
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* ---- the message format, exposed for tests ---- */

/*
 * An address fit for a header and an SMTP envelope: 3..SMTP_ADDR_MAX
 * bytes of printable ASCII, one '@' with text on both sides, none of
 * space, '<', '>', '(', ')', ',', ';', ':', '"', '\\' (which would let it
 * name further recipients or commands). 1 if fit.
 */
int smtp_address_ok(const char *addr) __attribute__((nonnull));

/*
 * Writes the value of a Subject: header for title (UTF-8 without control
 * characters, at most SMTP_TITLE_MAX bytes) into out (size n): as it is if
 * it is printable ASCII and fits one line, else as RFC 2047 encoded-words
 * (=?UTF-8?Q?...?=, each at most 75 bytes, never splitting a character)
 * folded with CRLF SP. VAERN_E_INVALID for a control character (CR and LF:
 * header injection) or bad UTF-8; VAERN_E_LIMIT if out is too small.
 */
enum vaern_err smtp_encode_subject(const char *title, char *out, size_t n,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * Formats an RFC 5322 message into out (size n; NUL-terminated, *len its
 * length): Date (at `now`, UTC), From, To, Subject, Message-ID (random,
 * at the From address's domain), MIME-Version, Content-Type text/plain;
 * charset=UTF-8, Content-Transfer-Encoding quoted-printable (the message
 * is 7-bit, so the server needs no 8BITMIME), every line ending in CRLF
 * and at most 76 characters in the body. The body's line breaks (LF or
 * CRLF) become CRLF. VAERN_E_INVALID for an unfit address, a bad title
 * (see above) or a body that is not UTF-8 or holds control characters
 * other than line breaks and tabs; VAERN_E_LIMIT past the limits. On
 * failure out holds nothing of the body.
 */
enum vaern_err smtp_format_message(const char *from, const char *to,
                                   const char *title, const char *body,
                                   int64_t now, char *out, size_t n,
                                   size_t *len, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 6, 8)));

/* 1 if host, as a URL writes it ("127.0.0.1", "[::1]"), is a loopback
 * address (127.0.0.0/8, ::1, ::ffff:127.x); the webhooks use it too. */
int smtp_host_loopback(const char *host) __attribute__((nonnull));

#endif
