/*
 * vault_staff_session.c -- the staff console's sessions (issue 20, point
 * 2; vault_staff.h): bound to an actor, as the portal's are bound to a
 * data subject. A session token is 32 random bytes; only its BLAKE2b
 * hash is stored (a copy of the database opens no session). Idle 15
 * minutes, absolute 8 hours, as the portal's (AURA-PORTAL-1). The
 * per-address throttle shares the portal's throttle rows under its own
 * keyed hash (GDPR-32: access control).
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../store/store_console.h"
#include "../store/store_portal.h"
#include "vault_internal.h"
#include "vault_staff.h"

#define PURPOSE       "console"
#define RULE          "GDPR-32"
#define ADDRESS_DELAY (15 * 60) /* the longest wait of an address */

_Static_assert(STORE_CONSOLE_HASH == STORE_PORTAL_HASH, "one hash size");

static enum vaern_err
audit(struct vault *v, const char *controller, const char *actor,
      const char *role, const char *action, int allowed, const char *reason,
      struct vaern_msg *msg)
{
	struct vault_audit_event e;

	memset(&e, 0, sizeof(e));
	e.controller = controller;
	e.actor = actor;
	e.role = role;
	e.purpose = PURPOSE;
	e.action = action;
	e.allowed = allowed;
	e.rule = RULE;
	e.reason = reason;
	return vault_audit_record(v, &e, msg);
}

/* A keyed hash under the controller's key, domain-separated by what. */
static void
keyed(struct vault *v, const struct controller *c, const char *what,
      const char *text, unsigned char out[STORE_CONSOLE_HASH])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, vlt_blind_key(v, c), KEY_BYTES,
	                        STORE_CONSOLE_HASH);
	crypto_generichash_update(&h, (const unsigned char *)what,
	                          strlen(what) + 1);
	crypto_generichash_update(&h, (const unsigned char *)text,
	                          strlen(text));
	crypto_generichash_final(&h, out, STORE_CONSOLE_HASH);
	sodium_memzero(&h, sizeof(h));
}

/* The stored hash of a token as the browser sent it; -1 if malformed. */
static int
token_hash(const char *text, unsigned char out[STORE_CONSOLE_HASH])
{
	unsigned char raw[VAULT_CONSOLE_TOKEN_BYTES];
	size_t len = 0;

	if (strlen(text) != VAULT_CONSOLE_TOKEN_LEN ||
	    sodium_base642bin(raw, sizeof(raw), text, VAULT_CONSOLE_TOKEN_LEN,
	                      NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != sizeof(raw))
		return -1;
	crypto_generichash(out, STORE_CONSOLE_HASH, raw, sizeof(raw), NULL, 0);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

/* Seconds an address that failed n times, the latest at last, waits:
 * past VAULT_CONSOLE_FREE_ADDRESS, VAULT_CONSOLE_THROTTLE_WAIT doubled
 * with each further failure, at most ADDRESS_DELAY. */
static int64_t
address_wait(int64_t n, int64_t last, int64_t now)
{
	int64_t delay;

	if (n < VAULT_CONSOLE_FREE_ADDRESS || last == STORE_NO_TIME)
		return 0;
	n -= VAULT_CONSOLE_FREE_ADDRESS;
	delay = n >= 6 ? ADDRESS_DELAY
	               : (int64_t)VAULT_CONSOLE_THROTTLE_WAIT << n;
	if (delay > ADDRESS_DELAY)
		delay = ADDRESS_DELAY;
	return last + delay > now ? last + delay - now : 0;
}

enum vaern_err
vault_console_address_check(struct vault *v, const char *controller,
                            const char *client, int64_t *wait,
                            struct vaern_msg *msg)
{
	struct controller *c;
	unsigned char key[STORE_CONSOLE_HASH];
	int64_t n = 0, last = STORE_NO_TIME;
	enum vaern_err err;
	char why[96];

	*wait = 0;
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	keyed(v, c, "console address", client, key);
	if ((err = store_portal_throttle_get(v->store, key, &n, &last, msg)) !=
	    VAERN_OK)
		return err;
	if ((*wait = address_wait(n, last, clock_now())) == 0)
		return VAERN_OK;
	(void)snprintf(why, sizeof(why),
	               "too many failed logins from one address: the next "
	               "try in %" PRId64 " s",
	               *wait);
	if ((err = audit(v, controller, "(unknown)", "none", "console_login", 0,
	                 why, msg)) != VAERN_OK)
		return err;
	return vaern_fail(msg, VAERN_E_LIMIT,
	                  "too many wrong tries: try again in %" PRId64
	                  " seconds",
	                  *wait);
}

enum vaern_err
vault_console_address_hit(struct vault *v, const char *controller,
                          const char *client, struct vaern_msg *msg)
{
	struct controller *c;
	unsigned char key[STORE_CONSOLE_HASH];
	enum vaern_err err;

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	keyed(v, c, "console address", client, key);
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_portal_throttle_hit(v->store, key, clock_now(), msg);
	return vlt_end(v, err, msg);
}

static enum vaern_err
session_open(struct vault *v, int64_t actor,
             char token[VAULT_CONSOLE_TOKEN_LEN + 1], int64_t *id,
             struct vaern_msg *msg)
{
	unsigned char raw[VAULT_CONSOLE_TOKEN_BYTES], hash[STORE_CONSOLE_HASH];
	enum vaern_err err;

	vlt_random(v, raw, sizeof(raw));
	sodium_bin2base64(token, VAULT_CONSOLE_TOKEN_LEN + 1, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	crypto_generichash(hash, sizeof(hash), raw, sizeof(raw), NULL, 0);
	sodium_memzero(raw, sizeof(raw));
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_console_session_insert(v->store, hash, actor, clock_now(),
	                                   id, msg);
	return vlt_end(v, err, msg);
}

enum vaern_err
vault_console_web_login(struct vault *v, const char *controller,
                        const char *name, const char *password, size_t len,
                        const char *code, const char *client,
                        struct vault_console_session *out,
                        char token[VAULT_CONSOLE_TOKEN_LEN + 1], int64_t *wait,
                        struct vaern_msg *msg)
{
	int64_t now = clock_now();
	enum vaern_err err, e2;

	memset(out, 0, sizeof(*out));
	token[0] = '\0';
	if ((err = vault_console_address_check(v, controller, client, wait,
	                                       msg)) != VAERN_OK)
		return err;
	err = vault_console_login(v, controller, name, password, len, code,
	                          &out->actor, msg);
	if (err == VAERN_E_DENIED || err == VAERN_E_LIMIT) {
		/* Every failure from the address counts, whichever name it
		 * tried: guessing across names is slowed too. */
		struct vaern_msg m2 = {{0}};

		if ((e2 = vault_console_address_hit(v, controller, client,
		                                    &m2)) != VAERN_OK) {
			*msg = m2;
			return e2;
		}
		return err;
	}
	if (err != VAERN_OK)
		return err;
	if ((err = session_open(v, out->actor.id, token, &out->id, msg)) !=
	    VAERN_OK) {
		sodium_memzero(token, VAULT_CONSOLE_TOKEN_LEN + 1);
		return err;
	}
	out->created_at = now;
	return VAERN_OK;
}

enum vaern_err
vault_console_session(struct vault *v, const char *controller,
                      const char *token, struct vault_console_session *out,
                      struct vaern_msg *msg)
{
	struct controller *c;
	struct store_console_session s;
	unsigned char hash[STORE_CONSOLE_HASH];
	int64_t now = clock_now();
	const char *why = NULL;
	enum vaern_err err;
	int known;

	memset(out, 0, sizeof(*out));
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if (token_hash(token, hash) != 0)
		return vaern_fail(msg, VAERN_E_DENIED, "no session");
	err = store_console_session_get(v->store, hash, &s, msg);
	known = err == VAERN_OK && s.actor.controller == c->rowid;
	if (err != VAERN_OK && err != VAERN_E_NOTFOUND)
		return err;
	if (!known)
		why = "an unknown session token";
	else if (s.ended_at != STORE_NO_TIME)
		why = "the session has ended (logged out)";
	else if (s.actor.revoked_at != STORE_NO_TIME)
		why = "the actor is revoked";
	else if (!s.enrolled)
		why = "the actor has no console access any more";
	else if (now - s.seen_at >= VAULT_CONSOLE_IDLE)
		why = "the session was idle for 15 minutes";
	else if (now - s.created_at >= VAULT_CONSOLE_ABSOLUTE)
		why = "the session is 8 hours old";
	if (why != NULL) {
		err = VAERN_OK;
		if (known && s.ended_at == STORE_NO_TIME &&
		    (err = vlt_begin(v, msg)) == VAERN_OK) {
			err = store_console_session_set(v->store, s.id, 1, now,
			                                msg);
			err = vlt_end(v, err, msg);
		}
		if (err == VAERN_OK && v->audit_fn != NULL)
			err = audit(v, controller,
			            known ? s.actor.name : "(unknown)",
			            known ? s.actor.role : "none",
			            "console_session_refused", 0, why, msg);
		return err != VAERN_OK
		               ? err
		               : vaern_fail(msg, VAERN_E_DENIED, "no session");
	}
	if (now - s.seen_at >= VAULT_CONSOLE_TOUCH &&
	    (err = vlt_begin(v, msg)) == VAERN_OK) {
		err = store_console_session_set(v->store, s.id, 0, now, msg);
		if ((err = vlt_end(v, err, msg)) != VAERN_OK)
			return err;
	}
	out->id = s.id;
	out->created_at = s.created_at;
	out->actor.id = s.actor.id;
	(void)snprintf(out->actor.controller, sizeof(out->actor.controller),
	               "%s", c->name);
	(void)snprintf(out->actor.name, sizeof(out->actor.name), "%s",
	               s.actor.name);
	(void)snprintf(out->actor.role, sizeof(out->actor.role), "%s",
	               s.actor.role);
	return VAERN_OK;
}

enum vaern_err
vault_console_logout(struct vault *v, const struct vault_console_session *s,
                     struct vaern_msg *msg)
{
	enum vaern_err err;
	char why[64];

	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_console_session_set(v->store, s->id, 1, clock_now(), msg);
	if ((err = vlt_end(v, err, msg)) != VAERN_OK)
		return err;
	(void)snprintf(why, sizeof(why), "console session %" PRId64 " ended",
	               s->id);
	return audit(v, s->actor.controller, s->actor.name, s->actor.role,
	             "console_logout", 1, why, msg);
}

enum vaern_err
vault_console_csrf(struct vault *v, const char *controller, const char *token,
                   char out[VAULT_CONSOLE_TOKEN_LEN + 1], struct vaern_msg *msg)
{
	struct controller *c;
	unsigned char h[STORE_CONSOLE_HASH];
	enum vaern_err err;

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	keyed(v, c, "console csrf", token, h);
	sodium_bin2base64(out, VAULT_CONSOLE_TOKEN_LEN + 1, h, sizeof(h),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(h, sizeof(h));
	return VAERN_OK;
}
