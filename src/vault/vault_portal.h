/*
 * vault_portal.h -- the person's login to the self-service portal and
 * their sessions (issue 16; AURA-LOGIN-1, AURA-PORTAL-1). Part of the
 * vault module: the vault holds the keys (the codes are keyed hashes),
 * finds the person by the identifiers the policy's `portal.login`
 * declares, queues the code in the store and, from the server's delivery
 * thread, reads their contact through the gate and sends the code
 * through the outbox; every step is audited (never an identifier's
 * value).
 *
 * Tokens (a login's, a session's) are 32 random bytes handed to the
 * browser as 43 characters of base64url; only their BLAKE2b hash is
 * stored, so a copy of the database opens no session.
 */
#ifndef VAERN_VAULT_PORTAL_H
#define VAERN_VAULT_PORTAL_H

#include <stdint.h>

#include "vault.h"

#define VAULT_PORTAL_TOKEN_BYTES 32
#define VAULT_PORTAL_TOKEN_LEN   43 /* base64url, no padding */
#define VAULT_PORTAL_CODE_DIGITS 8
#define VAULT_PORTAL_CODE_TTL    (10 * 60)  /* a code lives 10 minutes */
#define VAULT_PORTAL_CODE_TRIES  5          /* wrong codes that kill it */
#define VAULT_PORTAL_IDLE        (15 * 60)  /* a session's idle timeout */
#define VAULT_PORTAL_ABSOLUTE    (8 * 3600) /* and its absolute one */
#define VAULT_PORTAL_TOUCH       60         /* seconds between seen_at writes */
#define VAULT_PORTAL_FREE_TRIES                                                \
	10 /* an identifier set's tries (code                                  \
	      requests and failures) before a                                  \
	      delay */
#define VAULT_PORTAL_FREE_ADDRESS                                              \
	20                                  /* an address's failures before a  \
	                                       delay (people share addresses) */
#define VAULT_PORTAL_DELAY_MAX    (15 * 60) /* the longest delay */
#define VAULT_PORTAL_PASSWORD_MIN 10        /* characters of a password */
#define VAULT_PORTAL_PASSWORD_MAX 128

/* What the login form gave: set (an index into portal.login) and one
 * value per category of the set, in order. The values are personal
 * data: never logged, never echoed. */
struct vault_portal_login_in {
	const char *controller;
	size_t set;
	const char *values[POLICY_PORTAL_SET_MAX];
	size_t nvalues;
	const char *client;   /* the client's address, for its throttle */
	const char *password; /* the password proof, or NULL: a code */
	const char *lang;     /* the code message's language (da|sv|en) */
};

/* What a login step answers. */
struct vault_portal_login_out {
	char token[VAULT_PORTAL_TOKEN_LEN + 1]; /* the login's token (start)
	                                           or the session's (done) */
	int64_t wait; /* VAERN_E_LIMIT: seconds until the next try */
	unsigned char subject[VAULT_UID_BYTES]; /* a session's person */
};

/*
 * Starts a login with a one-time code (AURA-LOGIN-1): finds the one
 * person holding the set's identifiers and queues a code
 * (VAULT_PORTAL_CODE_DIGITS digits, VAULT_PORTAL_CODE_TTL, at most
 * VAULT_PORTAL_CODE_TRIES wrong entries) for their e-mail (else phone)
 * on record, in the store, in the login's own transaction:
 * vault_portal_code_deliver sends it. Whether or not anyone holds them,
 * the answer is the same and costs the same (no enumeration): a login
 * token in out->token, and the same rows written (nobody's queued code
 * is only deleted by the delivery; a code for nobody can never be
 * right). Nothing here waits for an outbox.
 *
 * Throttled per identifier set (each start and each wrong code or
 * password counts; past VAULT_PORTAL_FREE_TRIES) and per client address
 * (each failure counts; past VAULT_PORTAL_FREE_ADDRESS): the next try
 * waits 2^(n - free) seconds, at most VAULT_PORTAL_DELAY_MAX, from the
 * latest; a login clears its identifier set's count:
 * VAERN_E_LIMIT with out->wait, audited (portal_throttled). A value not
 * valid for its category: VAERN_E_INVALID naming the category, nothing
 * counted. Audited (portal_login_code), never with a value.
 *
 * With in->password: checks the person's password (argon2id) instead
 * and, if right, opens a session at once (out->token is the session's);
 * VAERN_E_DENIED otherwise, the same for no such person or no password
 * set (the hash is checked against a dummy then: the same time).
 */
enum vaern_err vault_portal_login_start(struct vault *v,
                                        const struct vault_portal_login_in *in,
                                        struct vault_portal_login_out *out,
                                        struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

/*
 * Completes a login: the code entered for the login token. Right: the
 * code is used up and a session opened, its token in out->token, the
 * person in out->subject (audited portal_login). Wrong, expired, used,
 * or the login unknown: VAERN_E_DENIED, one message for all (a wrong
 * code counts, audited portal_login_failed; the fifth kills the code,
 * audited portal_lockout). Not VAULT_PORTAL_CODE_DIGITS digits:
 * VAERN_E_INVALID, nothing counted. Throttled as the start.
 */
enum vaern_err vault_portal_login_code(struct vault *v, const char *controller,
                                       const char *login_token,
                                       const char *code, const char *client,
                                       struct vault_portal_login_out *out,
                                       struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

#define VAULT_PORTAL_SEND_TRIES 3  /* deliveries of a code tried */
#define VAULT_PORTAL_SEND_RETRY 30 /* seconds between two of them */

/*
 * Delivers the oldest code due (vault_portal_login_start queued it):
 * takes its row (so that of several nodes one sends it), reads the
 * person's contact through the gate (audited) and hands the message to
 * the vault's outbox (vault_set_outbox: SMTP or the spool). Sent, or
 * nobody's, or no contact on record, or expired, or tried
 * VAULT_PORTAL_SEND_TRIES times: the row is deleted; an outbox failure
 * leaves it for another try in VAULT_PORTAL_SEND_RETRY seconds. Each
 * outcome for a person is audited (portal_login_code_sent, or
 * portal_login_code_unsent with why), never with the address or the
 * code. *more is 1 if a row was due (call again), 0 if none was.
 * An outbox failure is not an error here; a store failure is.
 */
enum vaern_err vault_portal_code_deliver(struct vault *v, int *more,
                                         struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

/* A session found by its token. */
struct vault_portal_session {
	int64_t id;
	unsigned char subject[VAULT_UID_BYTES];
	char proof[16];
	int64_t created_at;
};

/*
 * The open session of controller whose token is token (AURA-PORTAL-1):
 * VAERN_E_DENIED for a token that is malformed, unknown, ended, idle
 * past VAULT_PORTAL_IDLE or older than VAULT_PORTAL_ABSOLUTE (a session
 * timed out is ended; every refusal of a well-formed token is audited,
 * portal_session_refused, with why); its last use is recorded at most
 * every VAULT_PORTAL_TOUCH seconds.
 */
enum vaern_err
vault_portal_session(struct vault *v, const char *controller, const char *token,
                     struct vault_portal_session *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

/* Ends the session s (everywhere = 0) or every session of its person
 * (1); audited (portal_logout). */
enum vaern_err vault_portal_logout(struct vault *v, const char *controller,
                                   const struct vault_portal_session *s,
                                   int everywhere, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

/*
 * Sets the person's password (argon2id, crypto_pwhash_str at the
 * interactive limits): VAULT_PORTAL_PASSWORD_MIN..MAX bytes of UTF-8,
 * VAERN_E_INVALID otherwise. Audited (portal_password_set).
 */
enum vaern_err
vault_portal_password_set(struct vault *v, const char *controller,
                          const unsigned char uid[VAULT_UID_BYTES],
                          const char *password, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

/* A hash of a session token for a form's CSRF token (32 bytes of
 * keyed BLAKE2b under the controller's key, as base64url into out):
 * derived, never stored. */
enum vaern_err vault_portal_csrf(struct vault *v, const char *controller,
                                 const char *session_token,
                                 char out[VAULT_PORTAL_TOKEN_LEN + 1],
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

#endif
