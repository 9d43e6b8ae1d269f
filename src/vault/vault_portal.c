/*
 * vault_portal.c -- the portal's login and sessions (vault_portal.h,
 * issue 16): AURA-LOGIN-1, AURA-PORTAL-1.
 *
 * No enumeration: a login start answers a token whether or not anyone
 * holds the identifiers, and does the same work for both: the same rows
 * written in one transaction (the login, its queued code, the throttle)
 * and the same audit entry. The code of nobody is random and never sent,
 * so no code is ever right for it. No login waits for an outbox: the
 * server's delivery thread sends the queued codes
 * (vault_portal_code_deliver), so a slow or dead mail server shows in
 * no answer. The caller pads both answers to a floor (src/portal).
 */
#include "vault_portal.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../staff/staff.h"
#include "../store/store_portal.h"
#include "vault_internal.h"

#define PURPOSE "portal_login" /* the audit entries' purpose */
#define ACTOR   "data_subject"

/* The keyed hash of a token, a code, a throttle key: BLAKE2b-256 under
 * the controller's blind-index key, domain-separated by what. */
static void
keyed(struct vault *v, const struct controller *c, const char *what,
      const void *a, size_t alen, const void *b, size_t blen,
      unsigned char out[STORE_PORTAL_HASH])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, vlt_blind_key(v, c), KEY_BYTES,
	                        STORE_PORTAL_HASH);
	crypto_generichash_update(&h, (const unsigned char *)what,
	                          strlen(what) + 1);
	crypto_generichash_update(&h, a, alen);
	if (b != NULL)
		crypto_generichash_update(&h, b, blen);
	crypto_generichash_final(&h, out, STORE_PORTAL_HASH);
	sodium_memzero(&h, sizeof(h));
}

static void
token_new(struct vault *v, unsigned char raw[VAULT_PORTAL_TOKEN_BYTES],
          char text[VAULT_PORTAL_TOKEN_LEN + 1])
{
	vlt_random(v, raw, VAULT_PORTAL_TOKEN_BYTES);
	sodium_bin2base64(text, VAULT_PORTAL_TOKEN_LEN + 1, raw,
	                  VAULT_PORTAL_TOKEN_BYTES,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* The raw bytes of a token as the browser sent it; -1 if malformed. */
static int
token_parse(const char *text, unsigned char raw[VAULT_PORTAL_TOKEN_BYTES])
{
	size_t len = 0;

	if (strlen(text) != VAULT_PORTAL_TOKEN_LEN ||
	    sodium_base642bin(raw, VAULT_PORTAL_TOKEN_BYTES, text,
	                      VAULT_PORTAL_TOKEN_LEN, NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != VAULT_PORTAL_TOKEN_BYTES)
		return -1;
	return 0;
}

/* A token's stored hash: unkeyed, so a session is found before its
 * controller's key is needed, and 256 random bits need no key. */
static void
token_hash(const unsigned char raw[VAULT_PORTAL_TOKEN_BYTES],
           unsigned char out[STORE_PORTAL_HASH])
{
	crypto_generichash(out, STORE_PORTAL_HASH, raw,
	                   VAULT_PORTAL_TOKEN_BYTES, NULL, 0);
}

/* The code of a queued login, derived from its salt under the
 * controller's key: the store keeps the salt until the code is sent,
 * never the code (AURA-LOGIN-1). */
static void
code_digits(struct vault *v, const struct controller *c,
            const unsigned char salt[STORE_PORTAL_HASH],
            char digits[VAULT_PORTAL_CODE_DIGITS + 1])
{
	unsigned char h[STORE_PORTAL_HASH];
	unsigned long long n = 0;

	keyed(v, c, "portal code digits", salt, STORE_PORTAL_HASH, NULL, 0, h);
	for (size_t i = 0; i < 8; i++)
		n = n << 8 | h[i];
	/* 2^64 / 10^8: the bias of the modulus is below 10^-11. */
	(void)snprintf(digits, VAULT_PORTAL_CODE_DIGITS + 1, "%0*llu",
	               VAULT_PORTAL_CODE_DIGITS, n % 100000000ull);
	n = 0;
	sodium_memzero(h, sizeof(h));
}

static enum vaern_err
audit(struct vault *v, const char *controller, const char *action,
      const unsigned char *uid, int allowed, const char *rule,
      const char *reason, struct vaern_msg *msg)
{
	struct vault_audit_event e;

	memset(&e, 0, sizeof(e));
	e.controller = controller;
	e.actor = ACTOR;
	e.role = ACTOR;
	e.purpose = PURPOSE;
	e.action = action;
	e.subject = uid;
	e.allowed = allowed;
	e.rule = rule;
	e.reason = reason;
	return vault_audit_record(v, &e, msg);
}

/* Seconds to wait before the next try of a key that failed n times,
 * the latest at last. */
static int64_t
throttle_wait(int64_t n, int64_t free, int64_t last, int64_t now)
{
	int64_t delay;

	if (n < free || last == STORE_NO_TIME)
		return 0;
	n -= free;
	delay = n >= 10 ? VAULT_PORTAL_DELAY_MAX : (int64_t)1 << n;
	if (delay > VAULT_PORTAL_DELAY_MAX)
		delay = VAULT_PORTAL_DELAY_MAX;
	return last + delay > now ? last + delay - now : 0;
}

/* The wait the keys impose now (the longer): k1 an identifier set's,
 * k2 an address's (which many people may share: more free tries). */
static enum vaern_err
throttle_check(struct vault *v, const unsigned char *k1,
               const unsigned char *k2, int64_t now, int64_t *wait,
               struct vaern_msg *msg)
{
	const unsigned char *keys[2] = {k1, k2};
	enum vaern_err err;

	*wait = 0;
	for (int i = 0; i < 2; i++) {
		int64_t n, last, w;

		if (keys[i] == NULL)
			continue;
		if ((err = store_portal_throttle_get(v->store, keys[i], &n,
		                                     &last, msg)) != VAERN_OK)
			return err;
		if ((w = throttle_wait(n,
		                       i == 0 ? VAULT_PORTAL_FREE_TRIES
		                              : VAULT_PORTAL_FREE_ADDRESS,
		                       last, now)) > *wait)
			*wait = w;
	}
	return VAERN_OK;
}

static enum vaern_err
throttle_hit(struct vault *v, const unsigned char *k1, const unsigned char *k2,
             int64_t now, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;

	if (k1 != NULL)
		err = store_portal_throttle_hit(v->store, k1, now, msg);
	if (err == VAERN_OK && k2 != NULL)
		err = store_portal_throttle_hit(v->store, k2, now, msg);
	return err;
}

/* The throttle key of a client address. */
static void
address_key(struct vault *v, const struct controller *c, const char *client,
            unsigned char out[STORE_PORTAL_HASH])
{
	keyed(v, c, "portal address", client, strlen(client), NULL, 0, out);
}

static enum vaern_err
refuse_throttled(struct vault *v, const char *controller, int64_t wait,
                 struct vault_portal_login_out *out, struct vaern_msg *msg)
{
	char why[96];
	enum vaern_err err;

	out->wait = wait;
	(void)snprintf(why, sizeof(why),
	               "too many failed logins: the next try in %lld s",
	               (long long)wait);
	if ((err = audit(v, controller, "portal_throttled", NULL, 0,
	                 "AURA-LOGIN-1", why, msg)) != VAERN_OK)
		return err;
	return vaern_fail(msg, VAERN_E_LIMIT,
	                  "too many attempts: try again in %lld seconds",
	                  (long long)wait);
}

/* The identifiers of in, normalised, as a throttle key; the vault's
 * identities for the lookup into ids. */
static enum vaern_err
login_identities(struct vault *v, const struct controller *c,
                 const struct vault_portal_login_in *in,
                 struct vault_identity *ids,
                 unsigned char key[STORE_PORTAL_HASH], struct vaern_msg *msg)
{
	const struct policy *p = c->policy;
	const struct policy_portal_login *set;
	crypto_generichash_state h;
	char norm[ID_NORM_MAX];
	enum vaern_err err = VAERN_OK;

	if (!p->portal.declared)
		return vaern_fail(msg, VAERN_E_NOTFOUND,
		                  "the policy of '%s' has no portal", c->name);
	if (in->set >= p->portal.nlogins)
		return vaern_fail(msg, VAERN_E_INVALID, "way: one of 1..%zu",
		                  p->portal.nlogins);
	set = &p->portal.logins[in->set];
	if (in->nvalues != set->n)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "this way of logging in needs %zu values",
		                  set->n);
	crypto_generichash_init(&h, vlt_blind_key(v, c), KEY_BYTES,
	                        STORE_PORTAL_HASH);
	crypto_generichash_update(&h, (const unsigned char *)"portal login",
	                          13);
	for (size_t i = 0; i < set->n; i++) {
		const struct policy_category *cat =
		        &p->categories[set->categories[i]];
		struct vaern_msg why = {{0}};

		if (in->values[i] == NULL || in->values[i][0] == '\0') {
			err = vaern_fail(msg, VAERN_E_INVALID,
			                 "'%s' is required", cat->id);
			break;
		}
		if (id_normalise(cat->identifier, in->values[i],
		                 p->controller.country, cal_day_of(clock_now()),
		                 norm, sizeof(norm), &why) != VAERN_OK) {
			err = vaern_fail(msg, VAERN_E_INVALID,
			                 "'%s' is not valid", cat->id);
			break;
		}
		crypto_generichash_update(&h, (const unsigned char *)cat->id,
		                          strlen(cat->id) + 1);
		crypto_generichash_update(&h, (const unsigned char *)norm,
		                          strlen(norm) + 1);
		ids[i].category = cat->id;
		ids[i].value = in->values[i];
	}
	crypto_generichash_final(&h, key, STORE_PORTAL_HASH);
	sodium_memzero(&h, sizeof(h));
	sodium_memzero(norm, sizeof(norm));
	return err;
}

/* The code message in the language chosen on the page. */
static void
code_text(const char *lang, const char *controller, const char *digits,
          char *out, size_t size)
{
	if (lang != NULL && strcmp(lang, "da") == 0)
		(void)snprintf(out, size,
		               "Din kode til at logge ind hos %s er %s. Den "
		               "gælder i 10 minutter og kan bruges én gang.",
		               controller, digits);
	else if (lang != NULL && strcmp(lang, "sv") == 0)
		(void)snprintf(out, size,
		               "Din kod för att logga in hos %s är %s. Den "
		               "gäller i 10 minuter och kan användas en gång.",
		               controller, digits);
	else
		(void)snprintf(out, size,
		               "Your code to log in to %s is %s. It is valid "
		               "for 10 minutes and can be used once.",
		               controller, digits);
}

static const char *
code_title(const char *lang)
{
	if (lang != NULL && strcmp(lang, "da") == 0)
		return "Din kode til at logge ind";
	if (lang != NULL && strcmp(lang, "sv") == 0)
		return "Din inloggningskod";
	return "Your login code";
}

/* Sends the code to the person's contact on record, read through the
 * gate (audited); 1 in *sent if it went, 0 (VAERN_OK) if there is no
 * contact on record. */
static enum vaern_err
code_send(struct vault *v, const struct controller *c, const unsigned char *uid,
          const char *digits, const char *lang, int *sent,
          struct vaern_msg *msg)
{
	const struct vault_request_actor who = {ACTOR, ACTOR};
	struct vlt_contact_find cf;
	struct vault_message m;
	struct vaern_msg why = {{0}};
	char body[512];
	enum vaern_err err;

	*sent = 0;
	err = vlt_contact_of(v, c, PURPOSE, "one-time login code", uid, ID_NONE,
	                     &who, &cf, &why);
	if (err == VAERN_E_INVALID)
		return VAERN_OK; /* no contact: the same answer as nobody */
	if (err != VAERN_OK) {
		*msg = why;
		return err;
	}
	code_text(lang, c->policy->controller.name, digits, body, sizeof(body));
	memset(&m, 0, sizeof(m));
	m.controller = c->name;
	m.request = "portal-login";
	m.contact_type = cf.want == ID_PHONE ? "phone" : "email";
	m.to = cf.value;
	m.title = code_title(lang);
	m.body = body;
	err = v->outbox_fn != NULL
	              ? v->outbox_fn(v->outbox_arg, &m, msg)
	              : vaern_fail(msg, VAERN_E_IO, "no outbox is set");
	sodium_memzero(body, sizeof(body));
	sodium_memzero(&cf, sizeof(cf));
	*sent = err == VAERN_OK;
	return err;
}

/* A dummy argon2id string, checked when there is no password to check
 * (the same time for nobody). Made once per process, whichever worker
 * thread needs it first. */
static char dummy_hash[STAFF_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void
dummy_make(void)
{
	if (staff_password_hash("vaern-no-password", 17, dummy_hash, NULL) !=
	    VAERN_OK)
		dummy_hash[0] = '\0';
}

static enum vaern_err session_open(struct vault *v, const struct controller *c,
                                   const unsigned char *uid, const char *proof,
                                   struct vault_portal_login_out *out,
                                   struct vaern_msg *msg);

static enum vaern_err
login_password(struct vault *v, const struct controller *c, int found,
               const unsigned char *uid, const char *password,
               const unsigned char *idkey, const unsigned char *addrkey,
               struct vault_portal_login_out *out, struct vaern_msg *msg)
{
	char stored[STORE_PORTAL_PWHASH];
	unsigned char whose[VAULT_UID_BYTES];
	enum vaern_err err;
	int right;

	if (!(c->policy->portal.proofs & POLICY_PROOF_PASSWORD))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the policy of '%s' allows no password",
		                  c->name);
	stored[0] = '\0';
	/* No enumeration: nobody's look-up is the same query, for an id
	 * no one has. */
	if (found)
		memcpy(whose, uid, sizeof(whose));
	else
		vlt_random(v, whose, sizeof(whose));
	err = store_portal_password_get(v->store, c->rowid, whose, stored, msg);
	if (err != VAERN_OK && err != VAERN_E_NOTFOUND)
		return err;
	if (err == VAERN_OK && !found)
		err = VAERN_E_NOTFOUND;
	if (err == VAERN_E_NOTFOUND) {
		(void)pthread_once(&dummy_once, dummy_make);
		/* The same work as a real check; never right. */
		right = crypto_pwhash_str_verify(dummy_hash, password,
		                                 strlen(password)) == 2;
	} else {
		right = staff_password_verify(stored, password,
		                              strlen(password));
	}
	if (!right) {
		if ((err = vlt_begin(v, msg)) == VAERN_OK) {
			err = throttle_hit(v, idkey, addrkey, clock_now(), msg);
			err = vlt_end(v, err, msg);
		}
		if (err == VAERN_OK)
			err = audit(v, c->name, "portal_login_failed",
			            found ? uid : NULL, 0, "AURA-LOGIN-1",
			            "wrong password, or no such person", msg);
		if (err != VAERN_OK)
			return err;
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "the details or the password are wrong");
	}
	if ((err = vlt_begin(v, msg)) == VAERN_OK) {
		err = store_portal_throttle_clear(v->store, idkey, msg);
		err = vlt_end(v, err, msg);
	}
	if (err != VAERN_OK)
		return err;
	return session_open(v, c, uid, "password", out, msg);
}

enum vaern_err
vault_portal_login_start(struct vault *v,
                         const struct vault_portal_login_in *in,
                         struct vault_portal_login_out *out,
                         struct vaern_msg *msg)
{
	struct controller *c;
	struct vault_identity ids[POLICY_PORTAL_SET_MAX];
	struct store_portal_login l;
	struct store_portal_code_out o;
	unsigned char idkey[STORE_PORTAL_HASH], addrkey[STORE_PORTAL_HASH];
	unsigned char raw[VAULT_PORTAL_TOKEN_BYTES], uid[VAULT_UID_BYTES];
	char digits[VAULT_PORTAL_CODE_DIGITS + 1];
	struct vaern_msg why = {{0}};
	enum vaern_err err;
	int64_t now = clock_now();
	int found = 0;

	memset(out, 0, sizeof(*out));
	memset(&l, 0, sizeof(l));
	memset(&o, 0, sizeof(o));
	if (v->audit_fn == NULL)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "no audit trail is attached");
	if ((err = vlt_controller(v, in->controller, &c, msg)) != VAERN_OK)
		return err;
	if ((err = login_identities(v, c, in, ids, idkey, msg)) != VAERN_OK)
		return err;
	address_key(v, c, in->client, addrkey);
	if ((err = throttle_check(v, idkey, addrkey, now, &out->wait, msg)) !=
	    VAERN_OK)
		return err;
	if (out->wait > 0)
		return refuse_throttled(v, in->controller, out->wait, out, msg);
	err = vault_subject_find_identities(v, in->controller, ids, in->nvalues,
	                                    uid, &why);
	if (err == VAERN_OK)
		found = 1;
	else if (err != VAERN_E_NOTFOUND) {
		*msg = why;
		return err;
	}
	if (in->password != NULL)
		return login_password(v, c, found, uid, in->password, idkey,
		                      addrkey, out, msg);
	/* The same work whoever was named: a salt, its code, a token. */
	vlt_random(v, o.salt, sizeof(o.salt));
	code_digits(v, c, o.salt, digits);
	token_new(v, raw, out->token);
	token_hash(raw, l.token_hash);
	l.controller = c->rowid;
	l.has_subject = found;
	if (found)
		memcpy(l.subject, uid, VAULT_UID_BYTES);
	/* Nobody's code is random and never sent: never right. */
	if (!found)
		vlt_random(v, (unsigned char *)digits,
		           VAULT_PORTAL_CODE_DIGITS);
	keyed(v, c, "portal code", raw, sizeof(raw), digits,
	      VAULT_PORTAL_CODE_DIGITS, l.code_hash);
	memcpy(l.throttle, idkey, sizeof(idkey));
	l.created_at = now;
	l.expires_at = now + VAULT_PORTAL_CODE_TTL;
	l.used_at = STORE_NO_TIME;
	(void)snprintf(o.controller, sizeof(o.controller), "%s", c->name);
	o.has_subject = found;
	if (found)
		memcpy(o.subject, uid, VAULT_UID_BYTES);
	(void)snprintf(o.lang, sizeof(o.lang), "%s",
	               in->lang != NULL ? in->lang : "en");
	o.due_at = now;
	o.expires_at = l.expires_at;
	if ((err = vlt_begin(v, msg)) == VAERN_OK) {
		err = store_portal_login_insert(v->store, &l, msg);
		/* The code is queued with its login, nobody's too (the
		 * delivery drops it): the same rows either way. */
		o.login = l.id;
		if (err == VAERN_OK)
			err = store_portal_code_out_insert(v->store, &o, msg);
		/* A start counts against the identifiers (codes sent to one
		 * person); only failures against the address. */
		if (err == VAERN_OK)
			err = throttle_hit(v, idkey, NULL, now, msg);
		err = vlt_end(v, err, msg);
	}
	if (err == VAERN_OK)
		err = audit(v, in->controller, "portal_login_code",
		            found ? uid : NULL, 1, "AURA-LOGIN-1",
		            found ? "a one-time login code was queued for the "
		                    "contact on record"
		                  : "no one-time code: no person holds the "
		                    "identifiers",
		            msg);
	sodium_memzero(digits, sizeof(digits));
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(&l, sizeof(l));
	sodium_memzero(&o, sizeof(o));
	if (err != VAERN_OK)
		sodium_memzero(out->token, sizeof(out->token));
	return err;
}

/* Deletes queued code id in a transaction of its own. */
static enum vaern_err
code_out_drop(struct vault *v, int64_t id, struct vaern_msg *msg)
{
	enum vaern_err err;

	if ((err = vlt_begin(v, msg)) == VAERN_OK) {
		err = store_portal_code_out_delete(v->store, id, msg);
		err = vlt_end(v, err, msg);
	}
	return err;
}

/* Sends queued code o (taken: its try counted) to its person; why gets
 * the reason it was not sent, NULL if it was; *retry 1 if the outbox
 * failed and a later try may succeed. */
static enum vaern_err
code_out_send(struct vault *v, const struct store_portal_code_out *o,
              const char **why, int *retry, struct vaern_msg *msg)
{
	struct controller *c;
	struct vaern_msg quiet = {{0}};
	char digits[VAULT_PORTAL_CODE_DIGITS + 1];
	enum vaern_err err;
	int sent = 0;

	*why = NULL;
	*retry = 0;
	if (clock_now() >= o->expires_at) {
		*why = "the code expired before it could be sent";
		return VAERN_OK;
	}
	if (o->tries >= VAULT_PORTAL_SEND_TRIES) {
		*why = "the outbox failed at every try";
		return VAERN_OK;
	}
	if (vlt_controller(v, o->controller, &c, &quiet) != VAERN_OK ||
	    !c->policy->portal.declared) {
		*why = "the controller has no portal now";
		return VAERN_OK;
	}
	code_digits(v, c, o->salt, digits);
	err = code_send(v, c, o->subject, digits, o->lang, &sent, &quiet);
	sodium_memzero(digits, sizeof(digits));
	switch (err) {
	case VAERN_OK:
		if (!sent)
			*why = "no e-mail address or phone number on record";
		return VAERN_OK;
	case VAERN_E_NOTFOUND:
	case VAERN_E_CRYPTO:
		*why = "the person is no longer on record";
		return VAERN_OK;
	case VAERN_E_DENIED:
		*why = "the gate refused the contact on record";
		return VAERN_OK;
	case VAERN_E_INVALID:
		/* A phone number without an SMS sender, or a message the
		 * outbox refuses: no later try does better. */
		*why = "the outbox refused the message";
		return VAERN_OK;
	case VAERN_E_STORE:
	case VAERN_E_NOMEM: *msg = quiet; return err;
	default:
		*why = o->tries + 1 >= VAULT_PORTAL_SEND_TRIES
		               ? "the outbox failed at every try"
		               : "the outbox failed: tried again later";
		*retry = o->tries + 1 < VAULT_PORTAL_SEND_TRIES;
		return VAERN_OK;
	}
}

enum vaern_err
vault_portal_code_deliver(struct vault *v, int *more, struct vaern_msg *msg)
{
	struct store_portal_code_out o;
	const char *why = NULL;
	enum vaern_err err;
	int64_t now = clock_now();
	int taken = 0, retry = 0;

	*more = 0;
	if (v->audit_fn == NULL)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "no audit trail is attached");
	err = store_portal_code_out_next(v->store, now, &o, msg);
	if (err == VAERN_E_NOTFOUND)
		return VAERN_OK;
	if (err != VAERN_OK)
		return err;
	*more = 1;
	/* Taken first: of several nodes, one sends it. */
	if ((err = vlt_begin(v, msg)) == VAERN_OK) {
		err = store_portal_code_out_take(v->store, o.id, o.due_at,
		                                 now + VAULT_PORTAL_SEND_RETRY,
		                                 &taken, msg);
		err = vlt_end(v, err, msg);
	}
	if (err != VAERN_OK || !taken)
		goto done;
	/* Nobody's: nothing to send, nothing to audit (the start was). */
	if (!o.has_subject) {
		err = code_out_drop(v, o.id, msg);
		goto done;
	}
	if ((err = code_out_send(v, &o, &why, &retry, msg)) != VAERN_OK)
		goto done;
	if (!retry && (err = code_out_drop(v, o.id, msg)) != VAERN_OK)
		goto done;
	err = audit(v, o.controller,
	            why == NULL ? "portal_login_code_sent"
	                        : "portal_login_code_unsent",
	            o.subject, why == NULL, "AURA-LOGIN-1",
	            why == NULL ? "the one-time login code was sent to the "
	                          "contact on record"
	                        : why,
	            msg);
done:
	sodium_memzero(&o, sizeof(o));
	return err;
}

static enum vaern_err
session_open(struct vault *v, const struct controller *c,
             const unsigned char *uid, const char *proof,
             struct vault_portal_login_out *out, struct vaern_msg *msg)
{
	struct store_portal_session s;
	unsigned char raw[VAULT_PORTAL_TOKEN_BYTES];
	enum vaern_err err;
	char why[96];

	memset(&s, 0, sizeof(s));
	token_new(v, raw, out->token);
	token_hash(raw, s.token_hash);
	sodium_memzero(raw, sizeof(raw));
	s.controller = c->rowid;
	memcpy(s.subject, uid, VAULT_UID_BYTES);
	(void)snprintf(s.proof, sizeof(s.proof), "%s", proof);
	s.created_at = clock_now();
	if ((err = vlt_begin(v, msg)) == VAERN_OK) {
		err = store_portal_session_insert(v->store, &s, msg);
		err = vlt_end(v, err, msg);
	}
	(void)snprintf(why, sizeof(why),
	               "the person logged in to the portal (%s); session %lld",
	               proof, (long long)s.id);
	if (err == VAERN_OK)
		err = audit(v, c->name, "portal_login", uid, 1, "AURA-LOGIN-1",
		            why, msg);
	if (err != VAERN_OK) {
		sodium_memzero(out->token, sizeof(out->token));
		return err;
	}
	memcpy(out->subject, uid, VAULT_UID_BYTES);
	return VAERN_OK;
}

enum vaern_err
vault_portal_login_code(struct vault *v, const char *controller,
                        const char *login_token, const char *code,
                        const char *client, struct vault_portal_login_out *out,
                        struct vaern_msg *msg)
{
	struct controller *c;
	struct store_portal_login l;
	unsigned char raw[VAULT_PORTAL_TOKEN_BYTES], hash[STORE_PORTAL_HASH];
	unsigned char addrkey[STORE_PORTAL_HASH];
	enum vaern_err err;
	int64_t now = clock_now();
	size_t len = strlen(code);
	const char *why = NULL;
	int right;

	memset(out, 0, sizeof(*out));
	if (v->audit_fn == NULL)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "no audit trail is attached");
	for (size_t i = 0; i < len; i++)
		if (code[i] < '0' || code[i] > '9')
			len = 0;
	if (len != VAULT_PORTAL_CODE_DIGITS)
		return vaern_fail(msg, VAERN_E_INVALID, "code: %d digits",
		                  VAULT_PORTAL_CODE_DIGITS);
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	address_key(v, c, client, addrkey);
	if (token_parse(login_token, raw) != 0) {
		err = audit(v, controller, "portal_login_failed", NULL, 0,
		            "AURA-LOGIN-1", "a malformed login token", msg);
		return err != VAERN_OK ? err
		                       : vaern_fail(msg, VAERN_E_DENIED,
		                                    "the code is wrong or has "
		                                    "expired: start again");
	}
	token_hash(raw, hash);
	err = store_portal_login_get(v->store, hash, &l, msg);
	if (err == VAERN_OK && l.controller != c->rowid)
		err = VAERN_E_NOTFOUND;
	if (err == VAERN_E_NOTFOUND) {
		why = "an unknown login token";
	} else if (err != VAERN_OK) {
		goto done;
	} else {
		if ((err = throttle_check(v, l.throttle, addrkey, now,
		                          &out->wait, msg)) != VAERN_OK)
			goto done;
		if (out->wait > 0) {
			err = refuse_throttled(v, controller, out->wait, out,
			                       msg);
			goto done;
		}
		if (l.used_at != STORE_NO_TIME)
			why = "the code was used already";
		else if (now >= l.expires_at)
			why = "the code has expired (10 minutes)";
		else if (l.attempts >= VAULT_PORTAL_CODE_TRIES)
			why = "the code is locked after 5 wrong entries";
	}
	if (why != NULL) {
		err = audit(v, controller, "portal_login_failed",
		            err == VAERN_OK && l.has_subject ? l.subject : NULL,
		            0, "AURA-LOGIN-1", why, msg);
		if (err == VAERN_OK || err == VAERN_E_NOTFOUND)
			err = vaern_fail(msg, VAERN_E_DENIED,
			                 "the code is wrong or has expired: "
			                 "start again");
		goto done;
	}
	keyed(v, c, "portal code", raw, sizeof(raw), code,
	      VAULT_PORTAL_CODE_DIGITS, hash);
	right = sodium_memcmp(hash, l.code_hash, sizeof(hash)) == 0 &&
	        l.has_subject;
	if (!right) {
		l.attempts++;
		if ((err = vlt_begin(v, msg)) == VAERN_OK) {
			err = store_portal_login_update(v->store, &l, msg);
			if (err == VAERN_OK)
				err = throttle_hit(v, l.throttle, addrkey, now,
				                   msg);
			err = vlt_end(v, err, msg);
		}
		if (err == VAERN_OK)
			err = audit(
			        v, controller,
			        l.attempts >= VAULT_PORTAL_CODE_TRIES
			                ? "portal_lockout"
			                : "portal_login_failed",
			        l.has_subject ? l.subject : NULL, 0,
			        "AURA-LOGIN-1",
			        l.attempts >= VAULT_PORTAL_CODE_TRIES
			                ? "a wrong code, the fifth: the code "
			                  "is locked"
			                : "a wrong code",
			        msg);
		if (err == VAERN_OK)
			err = vaern_fail(msg, VAERN_E_DENIED,
			                 "the code is wrong or has expired: "
			                 "start again");
		goto done;
	}
	l.used_at = now;
	if ((err = vlt_begin(v, msg)) == VAERN_OK) {
		err = store_portal_login_update(v->store, &l, msg);
		if (err == VAERN_OK)
			err = store_portal_throttle_clear(v->store, l.throttle,
			                                  msg);
		err = vlt_end(v, err, msg);
	}
	if (err == VAERN_OK)
		err = session_open(v, c, l.subject, "code", out, msg);
done:
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(&l, sizeof(l));
	return err;
}

enum vaern_err
vault_portal_session(struct vault *v, const char *controller, const char *token,
                     struct vault_portal_session *out, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_portal_session s;
	unsigned char raw[VAULT_PORTAL_TOKEN_BYTES], hash[STORE_PORTAL_HASH];
	enum vaern_err err;
	int64_t now = clock_now();
	const char *why = NULL;

	memset(out, 0, sizeof(*out));
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if (token_parse(token, raw) != 0)
		return vaern_fail(msg, VAERN_E_DENIED, "no session");
	token_hash(raw, hash);
	sodium_memzero(raw, sizeof(raw));
	err = store_portal_session_get(v->store, hash, &s, msg);
	if (err == VAERN_E_NOTFOUND ||
	    (err == VAERN_OK && s.controller != c->rowid))
		why = "an unknown session token";
	else if (err != VAERN_OK)
		return err;
	else if (s.ended_at != STORE_NO_TIME)
		why = "the session has ended (logged out)";
	else if (now - s.seen_at >= VAULT_PORTAL_IDLE)
		why = "the session was idle for 15 minutes";
	else if (now - s.created_at >= VAULT_PORTAL_ABSOLUTE)
		why = "the session is 8 hours old";
	if (why != NULL) {
		int known = err == VAERN_OK && s.controller == c->rowid;

		err = VAERN_OK;
		if (known && s.ended_at == STORE_NO_TIME &&
		    (err = vlt_begin(v, msg)) == VAERN_OK) {
			err = store_portal_session_end(v->store, s.id, now,
			                               msg);
			err = vlt_end(v, err, msg);
		}
		if (err == VAERN_OK && v->audit_fn != NULL)
			err = audit(v, controller, "portal_session_refused",
			            known ? s.subject : NULL, 0,
			            "AURA-PORTAL-1", why, msg);
		if (err != VAERN_OK)
			return err;
		return vaern_fail(msg, VAERN_E_DENIED, "no session");
	}
	if (now - s.seen_at >= VAULT_PORTAL_TOUCH &&
	    (err = vlt_begin(v, msg)) == VAERN_OK) {
		err = store_portal_session_touch(v->store, s.id, now, msg);
		if ((err = vlt_end(v, err, msg)) != VAERN_OK)
			return err;
	}
	out->id = s.id;
	memcpy(out->subject, s.subject, VAULT_UID_BYTES);
	(void)snprintf(out->proof, sizeof(out->proof), "%s", s.proof);
	out->created_at = s.created_at;
	return VAERN_OK;
}

enum vaern_err
vault_portal_logout(struct vault *v, const char *controller,
                    const struct vault_portal_session *s, int everywhere,
                    struct vaern_msg *msg)
{
	struct controller *c;
	enum vaern_err err;
	int64_t n = 1, now = clock_now();
	char why[96];

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_begin(v, msg)) == VAERN_OK) {
		if (everywhere)
			err = store_portal_session_end_all(
			        v->store, c->rowid, s->subject, now, &n, msg);
		else
			err = store_portal_session_end(v->store, s->id, now,
			                               msg);
		err = vlt_end(v, err, msg);
	}
	if (err != VAERN_OK)
		return err;
	(void)snprintf(why, sizeof(why), "%lld session(s) ended%s",
	               (long long)n, everywhere ? ", everywhere" : "");
	return audit(v, controller, "portal_logout", s->subject, 1,
	             "AURA-PORTAL-1", why, msg);
}

enum vaern_err
vault_portal_password_set(struct vault *v, const char *controller,
                          const unsigned char uid[VAULT_UID_BYTES],
                          const char *password, struct vaern_msg *msg)
{
	struct controller *c;
	char hash[STAFF_HASH_MAX];
	size_t len = strlen(password);
	enum vaern_err err;

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if (!(c->policy->portal.proofs & POLICY_PROOF_PASSWORD))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the policy of '%s' allows no password",
		                  controller);
	if (len < VAULT_PORTAL_PASSWORD_MIN || len > VAULT_PORTAL_PASSWORD_MAX)
		return vaern_fail(
		        msg, VAERN_E_INVALID, "password: %d to %d characters",
		        VAULT_PORTAL_PASSWORD_MIN, VAULT_PORTAL_PASSWORD_MAX);
	if ((err = staff_password_hash(password, len, hash, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_begin(v, msg)) == VAERN_OK) {
		err = store_portal_password_set(v->store, c->rowid, uid, hash,
		                                clock_now(), msg);
		err = vlt_end(v, err, msg);
	}
	sodium_memzero(hash, sizeof(hash));
	if (err != VAERN_OK)
		return err;
	return audit(v, controller, "portal_password_set", uid, 1,
	             "AURA-LOGIN-1", "the person set a portal password", msg);
}

enum vaern_err
vault_portal_csrf(struct vault *v, const char *controller,
                  const char *session_token,
                  char out[VAULT_PORTAL_TOKEN_LEN + 1], struct vaern_msg *msg)
{
	struct controller *c;
	unsigned char h[STORE_PORTAL_HASH];
	enum vaern_err err;

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	keyed(v, c, "portal csrf", session_token, strlen(session_token), NULL,
	      0, h);
	sodium_bin2base64(out, VAULT_PORTAL_TOKEN_LEN + 1, h, sizeof(h),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(h, sizeof(h));
	return VAERN_OK;
}
