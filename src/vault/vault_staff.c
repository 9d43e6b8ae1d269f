/*
 * vault_staff.c -- the staff console's credentials (issue 20, point 1):
 * enrolment (argon2id hash, TOTP secret sealed under a keystore root
 * key), the login with its throttle and lockout, every try audited
 * without a value (GDPR-32: access control, logging of access). The
 * cryptography is src/staff; the SQL src/store/store_console.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../staff/staff.h"
#include "../store/store_console.h"
#include "vault_internal.h"
#include "vault_staff.h"

#define PURPOSE         "console" /* the audit entries' purpose */
#define RULE            "GDPR-32"
#define KEYS_ROOT_STAFF "console" /* the keystore's root of the sealing */
#define SEALED_LEN      (STAFF_TOTP_SECRET + VLT_SEAL_OVERHEAD)
#define DENIED          "the name, password or code is not valid"

_Static_assert(VAULT_CONSOLE_URI_MAX == STAFF_URI_MAX, "one URI size");
_Static_assert(STORE_PWHASH_MAX >= STAFF_HASH_MAX, "the hash fits its row");
_Static_assert(STORE_SEALED_MAX >= SEALED_LEN, "the secret fits its row");

/* The associated data of an actor's sealed secret: moved to another
 * actor's row, it does not open. */
static size_t
secret_ad(unsigned char ad[48], int64_t actor)
{
	int n = snprintf((char *)ad, 48, "console|%" PRId64 "|totp", actor);

	return n < 0 ? 0 : (size_t)n;
}

/* The root key of the sealing (keys_root_get: re-wrapped by every
 * master-key rotation); create only inside a write transaction. The
 * caller wipes root. */
static enum vaern_err
staff_root(struct vault *v, int create, unsigned char root[KEY_BYTES],
           struct vaern_msg *msg)
{
	return keys_root_get(v->ring, v->store, KEYS_ROOT_STAFF, create, root,
	                     msg);
}

static void
staff_event(struct vault_audit_event *e, const char *controller,
            const char *actor, const char *role, const char *action,
            int allowed, const char *reason)
{
	memset(e, 0, sizeof(*e));
	e->controller = controller;
	e->actor = actor;
	e->role = role;
	e->purpose = PURPOSE;
	e->action = action;
	e->allowed = allowed;
	e->rule = RULE;
	e->reason = reason;
}

enum vaern_err
vault_console_enrol(struct vault *v, const char *controller, const char *name,
                    const char *role, const char *password, size_t len,
                    const char *who, char *token,
                    char uri[VAULT_CONSOLE_URI_MAX], struct vaern_msg *msg)
{
	struct controller *c;
	struct store_console cr;
	struct store_actor a;
	struct vault_audit_event e;
	unsigned char secret[STAFF_TOTP_SECRET], root[KEY_BYTES], ad[48];
	char issuer[STAFF_LABEL_MAX + 1], why[160];
	enum vaern_err err;

	uri[0] = '\0';
	if (token != NULL)
		token[0] = '\0';
	memset(&cr, 0, sizeof(cr));
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if ((err = staff_password_check(password, len, msg)) != VAERN_OK)
		return err;
	if (role != NULL && token == NULL)
		return vaern_fail(msg, VAERN_E_INTERNAL, "enrol: no token");
	/* argon2id before the transaction: it takes a tenth of a second and
	 * 64 MiB, and holds no lock meanwhile. */
	if ((err = staff_password_hash(password, len, cr.password_hash, msg)) !=
	    VAERN_OK)
		return err;
	staff_totp_secret_new(secret);
	(void)snprintf(issuer, sizeof(issuer), "vaern %s", controller);
	if ((err = staff_otpauth_uri(issuer, name, secret, uri, msg)) !=
	    VAERN_OK)
		goto done;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		goto done;
	if (role != NULL) {
		err = vlt_actor_insert(v, c, name, role, token, &a.id, msg);
		(void)snprintf(a.role, sizeof(a.role), "%s", role);
	} else {
		err = store_console_actor(v->store, c->rowid, name, &a, msg);
		if (err == VAERN_E_NOTFOUND)
			err = vaern_fail(msg, VAERN_E_NOTFOUND,
			                 "no valid actor named '%.64s'", name);
	}
	if (err == VAERN_OK)
		err = staff_root(v, 1, root, msg);
	if (err == VAERN_OK) {
		cr.actor = a.id;
		cr.enrolled_at = clock_now();
		cr.totp_len = SEALED_LEN;
		vlt_seal(v, cr.totp_sealed, secret, sizeof(secret), ad,
		         secret_ad(ad, a.id), root);
		err = store_console_put(v->store, &cr, msg);
	}
	(void)snprintf(why, sizeof(why),
	               "console access (password, TOTP) given to actor %s",
	               name);
	staff_event(&e, controller, who, "operator", "console_enrol", 1, why);
	/* The credential and its audit entry commit as one, or neither. */
	err = vlt_change_end(v, err, &e, msg);
done:
	if (err != VAERN_OK) {
		sodium_memzero(uri, VAULT_CONSOLE_URI_MAX);
		if (token != NULL)
			sodium_memzero(token, VAULT_TOKEN_MAX);
	}
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(root, sizeof(root));
	sodium_memzero(&cr, sizeof(cr));
	return err;
}

/* The valid actor name of c and its credential; VAERN_E_NOTFOUND (msg
 * untouched) if either is missing. */
static enum vaern_err
staff_find(struct vault *v, const struct controller *c, const char *name,
           struct store_actor *a, struct store_console *cr,
           struct vaern_msg *msg)
{
	enum vaern_err err =
	        store_console_actor(v->store, c->rowid, name, a, msg);

	return err == VAERN_OK ? store_console_get(v->store, a->id, cr, msg)
	                       : err;
}

/* Seconds a throttled actor still waits at now (0: none). */
static int64_t
throttle_wait(const struct store_console *cr, int64_t now)
{
	int64_t shift, until;

	if (cr->failures < VAULT_CONSOLE_THROTTLE_AFTER ||
	    cr->last_failure_at == STORE_NO_TIME)
		return 0;
	shift = cr->failures - VAULT_CONSOLE_THROTTLE_AFTER;
	if (shift > 6)
		shift = 6; /* at most 32 minutes between tries */
	until = cr->last_failure_at +
	        ((int64_t)VAULT_CONSOLE_THROTTLE_WAIT << shift);
	return until > now ? until - now : 0;
}

/* Audits a try that changed nothing (no such actor, throttled). */
static enum vaern_err
audit_refusal(struct vault *v, const char *controller, const char *actor,
              const char *role, const char *reason, struct vaern_msg *msg)
{
	struct vault_audit_event e;

	staff_event(&e, controller, actor, role, "console_login", 0, reason);
	if (v->audit_fn == NULL)
		return vaern_fail(msg, VAERN_E_INTERNAL,
		                  "console: no audit trail");
	return v->audit_fn(v->audit_arg, &e, msg);
}

/* Spends the time a real check takes, so a missing actor is not told
 * apart by the clock. */
static void
check_nothing(const char *password, size_t len)
{
	char hash[STAFF_HASH_MAX];

	if (staff_password_hash(password, len, hash, NULL) == VAERN_OK)
		sodium_memzero(hash, sizeof(hash));
}

/* 1 if code is good for cr at now and newer than its last step;
 * *cause says why not. The secret never leaves this function. */
static enum vaern_err
code_good(struct vault *v, const struct store_console *cr, const char *code,
          int64_t now, int64_t *step, const char **cause, struct vaern_msg *msg)
{
	unsigned char root[KEY_BYTES], ad[48];
	unsigned char secret[STAFF_TOTP_SECRET + 1];
	size_t got = 0;
	enum vaern_err err;

	*step = -1;
	if (cr->totp_len != SEALED_LEN)
		return vaern_fail(msg, VAERN_E_CRYPTO,
		                  "console: malformed "
		                  "secret");
	if ((err = staff_root(v, 0, root, msg)) != VAERN_OK)
		goto done;
	err = vlt_unseal(secret, cr->totp_sealed, cr->totp_len, ad,
	                 secret_ad(ad, cr->actor), root, &got, msg);
	if (err == VAERN_OK && got != STAFF_TOTP_SECRET)
		err = vaern_fail(msg, VAERN_E_CRYPTO,
		                 "console: malformed "
		                 "secret");
	if (err != VAERN_OK)
		goto done;
	if (!staff_totp_check(secret, now, code, step))
		*cause = "wrong code";
	else if (*step <= cr->last_step)
		*cause = "replayed code"; /* RFC 6238 5.2: once only */
done:
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(root, sizeof(root));
	return err;
}

enum vaern_err
vault_console_login(struct vault *v, const char *controller, const char *name,
                    const char *password, size_t len, const char *code,
                    struct vault_actor *out, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_actor a;
	struct store_console cr;
	struct vault_audit_event e;
	const char *cause = NULL;
	char why[160], until[21];
	int64_t now = clock_now(), wait, step = -1, failures = 0;
	int64_t locked = STORE_NO_TIME;
	enum vaern_err err;

	memset(out, 0, sizeof(*out));
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if (len > STAFF_PASSWORD_MAX)
		len = STAFF_PASSWORD_MAX + 1; /* wrong, and bounded */
	err = staff_find(v, c, name, &a, &cr, msg);
	if (err == VAERN_E_NOTFOUND) {
		/* The name typed is not recorded: it may be anything. */
		check_nothing(password, len);
		err = audit_refusal(v, controller, "(unknown)", "none",
		                    "no actor with console access by that name",
		                    msg);
		return err != VAERN_OK
		               ? err
		               : vaern_fail(msg, VAERN_E_DENIED, DENIED);
	}
	if (err != VAERN_OK)
		return err;
	if (cr.locked_until != STORE_NO_TIME && now < cr.locked_until) {
		cal_format_instant(cr.locked_until, until);
		err = audit_refusal(v, controller, a.name, a.role,
		                    "locked after wrong tries", msg);
		if (err == VAERN_OK)
			err = vaern_fail(
			        msg, VAERN_E_LIMIT,
			        "console access is locked after %d wrong "
			        "tries until %s",
			        VAULT_CONSOLE_LOCK_AFTER, until);
		goto done;
	}
	if ((wait = throttle_wait(&cr, now)) > 0) {
		err = audit_refusal(v, controller, a.name, a.role,
		                    "throttled after wrong tries", msg);
		if (err == VAERN_OK)
			err = vaern_fail(msg, VAERN_E_LIMIT,
			                 "too many wrong tries: try again in "
			                 "%" PRId64 " seconds",
			                 wait);
		goto done;
	}
	if (!staff_password_verify(cr.password_hash, password, len))
		cause = "wrong password";
	else if ((err = code_good(v, &cr, code, now, &step, &cause, msg)) !=
	         VAERN_OK)
		goto done;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		goto done;
	if (cause == NULL) {
		err = store_console_good(v->store, a.id, step, msg);
		if (err == VAERN_E_EXISTS) {
			/* Another login took this code first: a replay. */
			cause = "replayed code";
			err = VAERN_OK;
		}
	}
	if (err == VAERN_OK && cause != NULL)
		err = store_console_wrong(v->store, a.id, now,
		                          VAULT_CONSOLE_LOCK_AFTER,
		                          now + VAULT_CONSOLE_LOCK_SECONDS,
		                          &failures, &locked, msg);
	if (cause == NULL)
		(void)snprintf(why, sizeof(why), "console login");
	else
		(void)snprintf(why, sizeof(why), "%s (wrong try %" PRId64 "%s)",
		               cause, failures,
		               locked != STORE_NO_TIME && locked > now
		                       ? ", locked"
		                       : "");
	staff_event(&e, controller, a.name, a.role, "console_login",
	            cause == NULL, why);
	if ((err = vlt_change_end(v, err, &e, msg)) != VAERN_OK)
		goto done;
	if (cause != NULL) {
		err = vaern_fail(msg, VAERN_E_DENIED, DENIED);
		goto done;
	}
	out->id = a.id;
	(void)snprintf(out->controller, sizeof(out->controller), "%s", c->name);
	(void)snprintf(out->name, sizeof(out->name), "%s", a.name);
	(void)snprintf(out->role, sizeof(out->role), "%s", a.role);
done:
	sodium_memzero(&cr, sizeof(cr));
	return err;
}

enum vaern_err
vault_console_enrolment(struct vault *v, const char *controller,
                        const char *name, const char *password, size_t len,
                        char uri[VAULT_CONSOLE_URI_MAX], struct vaern_msg *msg)
{
	struct controller *c;
	struct store_actor a;
	struct store_console cr;
	struct vault_audit_event e;
	unsigned char root[KEY_BYTES], ad[48];
	unsigned char secret[STAFF_TOTP_SECRET + 1];
	char issuer[STAFF_LABEL_MAX + 1], why[160];
	int64_t now = clock_now(), failures = 0, locked = STORE_NO_TIME;
	size_t got = 0;
	enum vaern_err err;

	uri[0] = '\0';
	memset(&cr, 0, sizeof(cr));
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if (len > STAFF_PASSWORD_MAX)
		len = STAFF_PASSWORD_MAX + 1;
	err = staff_find(v, c, name, &a, &cr, msg);
	if (err == VAERN_E_NOTFOUND) {
		check_nothing(password, len);
		err = audit_refusal(v, controller, "(unknown)", "none",
		                    "no actor with console access by that name",
		                    msg);
		return err != VAERN_OK
		               ? err
		               : vaern_fail(msg, VAERN_E_DENIED, DENIED);
	}
	if (err != VAERN_OK)
		return err;
	if ((cr.locked_until != STORE_NO_TIME && now < cr.locked_until) ||
	    throttle_wait(&cr, now) > 0) {
		err = audit_refusal(v, controller, a.name, a.role,
		                    "throttled after wrong tries", msg);
		if (err == VAERN_OK)
			err = vaern_fail(
			        msg, VAERN_E_LIMIT,
			        "too many wrong tries: try again later");
		goto done;
	}
	if (!staff_password_verify(cr.password_hash, password, len)) {
		if ((err = vlt_begin(v, msg)) != VAERN_OK)
			goto done;
		err = store_console_wrong(v->store, a.id, now,
		                          VAULT_CONSOLE_LOCK_AFTER,
		                          now + VAULT_CONSOLE_LOCK_SECONDS,
		                          &failures, &locked, msg);
		(void)snprintf(why, sizeof(why),
		               "wrong password at enrolment (wrong try %" PRId64
		               ")",
		               failures);
		staff_event(&e, controller, a.name, a.role, "console_login", 0,
		            why);
		if ((err = vlt_change_end(v, err, &e, msg)) == VAERN_OK)
			err = vaern_fail(msg, VAERN_E_DENIED, DENIED);
		goto done;
	}
	if (cr.last_step >= 0) {
		/* Confirmed by a first code: the secret is never shown
		 * again (a re-enrolment, `actor console`, makes a new one). */
		err = vaern_fail(msg, VAERN_E_EXISTS,
		                 "the second factor is confirmed already");
		goto done;
	}
	if (cr.totp_len != SEALED_LEN) {
		err = vaern_fail(msg, VAERN_E_CRYPTO,
		                 "console: malformed secret");
		goto done;
	}
	if ((err = staff_root(v, 0, root, msg)) != VAERN_OK)
		goto done;
	err = vlt_unseal(secret, cr.totp_sealed, cr.totp_len, ad,
	                 secret_ad(ad, cr.actor), root, &got, msg);
	if (err == VAERN_OK && got != STAFF_TOTP_SECRET)
		err = vaern_fail(msg, VAERN_E_CRYPTO,
		                 "console: malformed secret");
	if (err != VAERN_OK)
		goto done;
	(void)snprintf(issuer, sizeof(issuer), "vaern %s", controller);
	if ((err = staff_otpauth_uri(issuer, a.name, secret, uri, msg)) !=
	    VAERN_OK)
		goto done;
	staff_event(&e, controller, a.name, a.role, "console_enrol_shown", 1,
	            "the second factor's secret shown for a first code "
	            "(password right, not confirmed yet)");
	if (v->audit_fn == NULL)
		err = vaern_fail(msg, VAERN_E_INTERNAL,
		                 "console: no audit trail");
	else
		err = v->audit_fn(v->audit_arg, &e, msg);
done:
	if (err != VAERN_OK)
		sodium_memzero(uri, VAULT_CONSOLE_URI_MAX);
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(root, sizeof(root));
	sodium_memzero(&cr, sizeof(cr));
	return err;
}

enum vaern_err
vault_console_unlock(struct vault *v, const char *controller, const char *name,
                     const char *who, const char *role, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_actor a;
	struct store_console cr;
	struct vault_audit_event e;
	char why[160];
	enum vaern_err err;

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = staff_find(v, c, name, &a, &cr, msg);
	if (err == VAERN_E_NOTFOUND)
		err = vaern_fail(msg, VAERN_E_NOTFOUND,
		                 "no actor named '%.64s' with console access",
		                 name);
	if (err == VAERN_OK)
		err = store_console_unlock(v->store, a.id, msg);
	(void)snprintf(why, sizeof(why), "console lockout of actor %s lifted",
	               name);
	staff_event(&e, controller, who, role, "console_unlock", 1, why);
	err = vlt_change_end(v, err, &e, msg);
	sodium_memzero(&cr, sizeof(cr));
	return err;
}

enum vaern_err
vault_console_status(struct vault *v, const char *controller, const char *name,
                     int *enrolled, int64_t *locked_until, int64_t *failures,
                     struct vaern_msg *msg)
{
	struct controller *c;
	struct store_actor a;
	struct store_console cr;
	enum vaern_err err;

	*enrolled = 0;
	*locked_until = INT64_MIN;
	*failures = 0;
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	err = staff_find(v, c, name, &a, &cr, msg);
	if (err == VAERN_E_NOTFOUND)
		return VAERN_OK;
	if (err != VAERN_OK)
		return err;
	*enrolled = 1;
	*failures = cr.failures;
	if (cr.locked_until != STORE_NO_TIME && cr.locked_until > clock_now())
		*locked_until = cr.locked_until;
	sodium_memzero(&cr, sizeof(cr));
	return VAERN_OK;
}
