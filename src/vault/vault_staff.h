/*
 * vault_staff.h -- the staff console's credentials in the vault (issue 20,
 * point 1; vault_staff.c): enrolment, the login with its throttle and
 * lockout, unlock, status. Part of the vault's API, apart from vault.h as
 * vault_incident.h is.
 */
#ifndef VAERN_VAULT_STAFF_H
#define VAERN_VAULT_STAFF_H

#include <stddef.h>
#include <stdint.h>

#include "vault.h"

#define VAULT_CONSOLE_URI_MAX        512 /* an otpauth URI, NUL included */
#define VAULT_CONSOLE_THROTTLE_AFTER 3   /* wrong tries before a wait */
#define VAULT_CONSOLE_THROTTLE_WAIT                                            \
	30                            /* seconds after the 3rd, doubled        \
	                                 after each further one */
#define VAULT_CONSOLE_LOCK_AFTER   10 /* wrong tries that lock */
#define VAULT_CONSOLE_LOCK_SECONDS 3600

/*
 * Gives actor name of controller console access: password (len bytes,
 * staff_password_check's rules) hashed with argon2id, and a new TOTP
 * secret sealed under the keystore's "console" root key (bound to the
 * actor), its throttle reset. With role set, the actor is new and is
 * added first, its bearer token into token (VAULT_TOKEN_MAX bytes); with
 * role NULL it must exist (a re-enrolment replaces the old password and
 * secret). One transaction with its audit entry (action
 * "console_enrol", by who), so a failure leaves nothing behind. uri gets
 * the otpauth URI for the authenticator app.
 * WARNING: uri and token hold secrets: the caller wipes them.
 */
enum vaern_err
vault_console_enrol(struct vault *v, const char *controller, const char *name,
                    const char *role, const char *password, size_t len,
                    const char *who, char *token,
                    char uri[VAULT_CONSOLE_URI_MAX], struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5, 7, 9)));

/*
 * A console login of actor name of controller with password (len bytes)
 * and a TOTP code, at clock_now(). VAERN_OK and *out: the actor, its
 * throttle reset, the code's time step kept (a code is good once: RFC
 * 6238 5.2). VAERN_E_DENIED, one message for every cause (no such
 * actor, no console access, wrong password, wrong or replayed code), and
 * a wrong try counted; VAERN_E_LIMIT without trying after
 * VAULT_CONSOLE_THROTTLE_AFTER wrong tries until the wait has passed,
 * and while locked (VAULT_CONSOLE_LOCK_AFTER wrong tries lock for
 * VAULT_CONSOLE_LOCK_SECONDS). Every try is audited (action
 * "console_login", allowed or not, the cause in words, no value).
 */
enum vaern_err
vault_console_login(struct vault *v, const char *controller, const char *name,
                    const char *password, size_t len, const char *code,
                    struct vault_actor *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 6, 7)));

/* Whether actor name of controller has console access: *enrolled 1 or
 * 0, and *locked_until (INT64_MIN: not locked) and *failures (wrong
 * tries in a row) when it has. For `actor list`. */
enum vaern_err vault_console_status(struct vault *v, const char *controller,
                                    const char *name, int *enrolled,
                                    int64_t *locked_until, int64_t *failures,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5, 6)));

/* Lifts a lockout of actor name (its wrong tries forgotten); audited as
 * "console_unlock" by who in role ("operator" from the CLI; a DPO's from
 * the console). VAERN_E_NOTFOUND if it has no console access. */
enum vaern_err vault_console_unlock(struct vault *v, const char *controller,
                                    const char *name, const char *who,
                                    const char *role, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5)));

/*
 * Enrolment in the browser (issue 20, point 3): the first login shows
 * the authenticator's secret until a first code confirms it. With the
 * right password of actor name whose second factor no code has
 * confirmed yet (no login with a code since `actor add --console` or
 * `actor console`), uri gets the otpauth URI again (audited
 * "console_enrol_shown"). VAERN_E_EXISTS once confirmed (never shown
 * again); VAERN_E_DENIED for a wrong password or no such actor, counted
 * and audited as a login's; VAERN_E_LIMIT while throttled or locked.
 * WARNING: uri holds the secret: the caller wipes it.
 */
enum vaern_err
vault_console_enrolment(struct vault *v, const char *controller,
                        const char *name, const char *password, size_t len,
                        char uri[VAULT_CONSOLE_URI_MAX], struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

/* ---- staff sessions (issue 20, point 2; vault_staff_session.c) ---- */

#define VAULT_CONSOLE_TOKEN_BYTES 32
#define VAULT_CONSOLE_TOKEN_LEN   43         /* base64url, no padding */
#define VAULT_CONSOLE_IDLE        (15 * 60)  /* as the portal's */
#define VAULT_CONSOLE_ABSOLUTE    (8 * 3600) /* as the portal's */
#define VAULT_CONSOLE_TOUCH       60 /* seconds between seen_at writes */
#define VAULT_CONSOLE_FREE_ADDRESS                                             \
	10 /* failed logins from one client address before a delay (the        \
	      per-actor throttle counts per name) */

/* An open staff session. */
struct vault_console_session {
	int64_t id;
	struct vault_actor actor; /* whose: every page is the actor's */
	int64_t created_at;
};

/*
 * A console login over HTTP: the per-address throttle (each failure
 * from client counts; past VAULT_CONSOLE_FREE_ADDRESS the next try waits
 * VAULT_CONSOLE_THROTTLE_WAIT seconds, doubled with each further one, at
 * most 15 minutes: VAERN_E_LIMIT, *wait, audited
 * "console_login" denied), then vault_console_login (its per-actor
 * throttle and lockout, its audit), then a session: its token (32
 * random bytes as base64url) into token, only its hash stored.
 * WARNING: token opens the session: the caller hands it to the cookie
 * and wipes it.
 */
enum vaern_err vault_console_web_login(struct vault *v, const char *controller,
                                       const char *name, const char *password,
                                       size_t len, const char *code,
                                       const char *client,
                                       struct vault_console_session *out,
                                       char token[VAULT_CONSOLE_TOKEN_LEN + 1],
                                       int64_t *wait, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

/* The per-address throttle alone (vault_console_web_login's; also for
 * the first login's enrolment): check gives VAERN_E_LIMIT and *wait
 * (audited) while client must wait; hit counts one failure from it. */
enum vaern_err vault_console_address_check(struct vault *v,
                                           const char *controller,
                                           const char *client, int64_t *wait,
                                           struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));
enum vaern_err
vault_console_address_hit(struct vault *v, const char *controller,
                          const char *client, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

/*
 * The open session of controller whose token is token: VAERN_E_DENIED
 * for a token malformed, unknown, ended, idle past VAULT_CONSOLE_IDLE,
 * older than VAULT_CONSOLE_ABSOLUTE, of a revoked actor or one without
 * console access any more (one timed out is ended; every refusal of a
 * well-formed token is audited "console_session_refused").
 */
enum vaern_err vault_console_session(struct vault *v, const char *controller,
                                     const char *token,
                                     struct vault_console_session *out,
                                     struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

/* Ends session s; audited ("console_logout") as its actor. */
enum vaern_err vault_console_logout(struct vault *v,
                                    const struct vault_console_session *s,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

/* The forms' CSRF token of a session: a keyed hash of its token under
 * the controller's key, as base64url; derived, never stored. */
enum vaern_err
vault_console_csrf(struct vault *v, const char *controller, const char *token,
                   char out[VAULT_CONSOLE_TOKEN_LEN + 1], struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

#endif
