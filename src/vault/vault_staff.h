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
 * "console_unlock" by who. VAERN_E_NOTFOUND if it has no console access. */
enum vaern_err vault_console_unlock(struct vault *v, const char *controller,
                                    const char *name, const char *who,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

#endif
