/*
 * vault_access.c -- who may see what: actors and their tokens, the
 * subject's state (restriction, objection, consents, agreements), and the
 * gated read that every release of personal data goes through.
 */
#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../keys/keys.h"
#include "../store/store_audit.h"
#include "../store/store_console.h"
#include "vault_internal.h"

#define TOKEN_PREFIX       "vaern_"
#define TOKEN_ID_BYTES     (STORE_TOKEN_ID_HEX / 2)
#define TOKEN_SECRET_BYTES 32
#define CATEGORY_LIST_MAX  4096

/* Names of actors: short, printable, no separators that confuse logs. */
static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > STORE_NAME_MAX)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                 "0123456789._@-") == n;
}

static void
token_hash(const unsigned char *secret, size_t len, unsigned char out[32])
{
	crypto_generichash(out, 32, secret, len, NULL, 0);
}

/*
 * Inserts actor name of c in role inside the caller's transaction and
 * writes its bearer token to token (vault_actor_add; the console's
 * enrolment of a new actor, vault_staff.c). *id gets the actor's row id.
 */
enum vaern_err
vlt_actor_insert(struct vault *v, struct controller *c, const char *name,
                 const char *role, char token[VAULT_TOKEN_MAX], int64_t *id,
                 struct vaern_msg *msg)
{
	enum vaern_err err;
	struct store_actor a;
	unsigned char tid[TOKEN_ID_BYTES], secret[TOKEN_SECRET_BYTES];
	char secret64[sodium_base64_ENCODED_LEN(
	        TOKEN_SECRET_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	int n;

	token[0] = '\0';
	*id = 0;
	if (!name_ok(name))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "an actor name is 1 to %d characters of "
		                  "A-Z a-z 0-9 . _ @ -",
		                  STORE_NAME_MAX);
	if (policy_role_index(c->policy, role) < 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the policy of '%s' has no role '%.64s'",
		                  c->name, role);
	memset(&a, 0, sizeof(a));
	randombytes_buf(tid, sizeof(tid));
	randombytes_buf(secret, sizeof(secret));
	sodium_bin2hex(a.token_id, sizeof(a.token_id), tid, sizeof(tid));
	token_hash(secret, sizeof(secret), a.token_hash);
	a.controller = c->rowid;
	memcpy(a.name, name, strlen(name) + 1);
	memcpy(a.role, role, strlen(role) + 1);
	a.created_at = clock_now();
	a.revoked_at = STORE_NO_TIME;
	sodium_bin2base64(secret64, sizeof(secret64), secret, sizeof(secret),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	err = store_actor_insert(v->store, &a, msg);
	if (err == VAERN_OK) {
		*id = a.id;
		/* vaern_<public id>_<secret>: the id finds the row, the
		 * secret proves the caller holds the token. */
		n = snprintf(token, VAULT_TOKEN_MAX, TOKEN_PREFIX "%s_%s",
		             a.token_id, secret64);
		if (n < 0 || n >= VAULT_TOKEN_MAX)
			err = vaern_fail(msg, VAERN_E_INTERNAL,
			                 "token too long");
	}
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(secret64, sizeof(secret64));
	return err;
}

enum vaern_err
vault_actor_add(struct vault *v, const char *controller, const char *name,
                const char *role, char token[VAULT_TOKEN_MAX],
                struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	int64_t id;

	token[0] = '\0';
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = vlt_actor_insert(v, c, name, role, token, &id, msg);
	err = vlt_end(v, err, msg);
	if (err != VAERN_OK)
		sodium_memzero(token, VAULT_TOKEN_MAX);
	return err;
}

enum vaern_err
vault_actor_revoke(struct vault *v, const char *controller, const char *name,
                   struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct store_actor a;

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	/* Issue 20: its console password hash and sealed TOTP secret go
	 * with it. */
	err = store_console_actor(v->store, c->rowid, name, &a, msg);
	if (err == VAERN_OK)
		err = store_console_forget(v->store, a.id, msg);
	if (err == VAERN_E_NOTFOUND)
		err = VAERN_OK; /* store_actor_revoke says so */
	if (err == VAERN_OK)
		err = store_actor_revoke(v->store, c->rowid, name, clock_now(),
		                         msg);
	return vlt_end(v, err, msg);
}

struct actor_walk {
	enum vaern_err (*fn)(void *arg, const char *name, const char *role,
	                     int64_t created_at, int64_t revoked_at);
	void *arg;
};

static enum vaern_err
actor_each(void *arg, const struct store_actor *a)
{
	struct actor_walk *w = arg;

	return w->fn(w->arg, a->name, a->role, a->created_at,
	             a->revoked_at == STORE_NO_TIME ? INT64_MIN
	                                            : a->revoked_at);
}

enum vaern_err
vault_actor_foreach(struct vault *v, const char *controller,
                    enum vaern_err (*fn)(void *arg, const char *name,
                                         const char *role, int64_t created_at,
                                         int64_t revoked_at),
                    void *arg, struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct actor_walk w = {fn, arg};

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	return store_actor_foreach(v->store, c->rowid, actor_each, &w, msg);
}

/* The controller name of a controller row id, among the loaded ones. */
static enum vaern_err
controller_by_rowid(struct vault *v, int64_t rowid, struct controller **out,
                    struct vaern_msg *msg)
{
	for (size_t i = 0; i < v->nctrl; i++) {
		if (v->ctrl[i].rowid == rowid) {
			*out = &v->ctrl[i];
			return VAERN_OK;
		}
	}
	return vaern_fail(msg, VAERN_E_NOTFOUND, "controller not loaded");
}

static enum vaern_err
load_all_controllers(void *arg, const char *name, int64_t loaded_at)
{
	struct controller *c;

	(void)loaded_at;
	return vlt_controller(arg, name, &c, NULL);
}

enum vaern_err
vault_actor_auth(struct vault *v, const char *token, struct vault_actor *out,
                 struct vaern_msg *msg)
{
	static const char denied[] = "the bearer token is not valid";
	char id[STORE_TOKEN_ID_HEX + 1];
	unsigned char secret[TOKEN_SECRET_BYTES], hash[32];
	struct store_actor a;
	struct controller *c = NULL;
	const char *p = token;
	size_t len = 0;
	enum vaern_err err = VAERN_E_DENIED, got;

	memset(out, 0, sizeof(*out));
	if (strncmp(p, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
		return vaern_fail(msg, VAERN_E_DENIED, denied);
	p += strlen(TOKEN_PREFIX);
	if (strlen(p) < STORE_TOKEN_ID_HEX + 1 ||
	    strspn(p, "0123456789abcdef") != STORE_TOKEN_ID_HEX ||
	    p[STORE_TOKEN_ID_HEX] != '_')
		return vaern_fail(msg, VAERN_E_DENIED, denied);
	memcpy(id, p, STORE_TOKEN_ID_HEX);
	id[STORE_TOKEN_ID_HEX] = '\0';
	p += STORE_TOKEN_ID_HEX + 1;
	if (sodium_base642bin(secret, sizeof(secret), p, strlen(p), NULL, &len,
	                      NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != sizeof(secret))
		goto done;
	if ((got = store_actor_by_token_id(v->store, id, &a, msg)) !=
	    VAERN_OK) {
		/* A store that failed (a database that went away) is not a
		 * verdict on the token: the caller answers with the store's
		 * error, not "unauthorized" (issue 14, failover). */
		if (got != VAERN_E_NOTFOUND) {
			sodium_memzero(secret, sizeof(secret));
			return got;
		}
		goto done;
	}
	token_hash(secret, sizeof(secret), hash);
	if (sodium_memcmp(hash, a.token_hash, sizeof(hash)) != 0 ||
	    a.revoked_at != STORE_NO_TIME)
		goto done;
	if (controller_by_rowid(v, a.controller, &c, NULL) != VAERN_OK) {
		(void)vault_controller_foreach(v, load_all_controllers, v,
		                               NULL);
		if (controller_by_rowid(v, a.controller, &c, NULL) != VAERN_OK)
			goto done;
	}
	out->id = a.id;
	(void)snprintf(out->controller, sizeof(out->controller), "%s", c->name);
	memcpy(out->name, a.name, sizeof(out->name));
	memcpy(out->role, a.role, sizeof(out->role));
	err = VAERN_OK;
done:
	sodium_memzero(secret, sizeof(secret));
	if (err != VAERN_OK)
		return vaern_fail(msg, VAERN_E_DENIED, denied);
	return VAERN_OK;
}

/* ---- subject state ------------------------------------------------------ */

static enum vaern_err
state_flag(struct vault *v, const char *controller,
           const unsigned char uid[VAULT_UID_BYTES], int bit, int on,
           struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct store_subject s;

	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_subject_set_state(v->store, s.rowid,
	                              on ? (s.state | bit) : (s.state & ~bit),
	                              msg);
	return vlt_end(v, err, msg);
}

enum vaern_err
vault_subject_restrict(struct vault *v, const char *controller,
                       const unsigned char uid[VAULT_UID_BYTES], int on,
                       struct vaern_msg *msg)
{
	return state_flag(v, controller, uid, STORE_STATE_RESTRICTED, on, msg);
}

enum vaern_err
vault_subject_object(struct vault *v, const char *controller,
                     const unsigned char uid[VAULT_UID_BYTES], int on,
                     struct vaern_msg *msg)
{
	return state_flag(v, controller, uid, STORE_STATE_OBJECTED_MARKETING,
	                  on, msg);
}

enum vaern_err
vault_consent_record(struct vault *v, const char *controller,
                     const unsigned char uid[VAULT_UID_BYTES],
                     const char *purpose, const char *source, int withdraw,
                     int64_t at, struct vaern_msg *msg)
{
	struct vault_consent_act act;
	struct vault_consent_done done;
	enum vaern_err err;

	memset(&act, 0, sizeof(act));
	act.purpose = purpose;
	act.source = source;
	act.withdraw = withdraw;
	act.at = at;
	err = vault_consent_apply(v, controller, uid, &act, &done, msg);
	sodium_memzero(&done, sizeof(done));
	return err;
}

enum vaern_err
vault_agreement_record(struct vault *v, const char *controller,
                       const unsigned char uid[VAULT_UID_BYTES],
                       const char *recipient, int withdraw, int64_t at,
                       struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct store_subject s;
	long ri;

	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	if ((ri = policy_recipient_index(c->policy, recipient)) < 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the policy of '%s' has no recipient '%.64s'",
		                  controller, recipient);
	if (at == INT64_MIN)
		at = clock_now();
	if (at > clock_now())
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "agreement recorded in the future");
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_agreement_insert(v->store, s.rowid,
	                             c->policy->recipients[ri].id, at, withdraw,
	                             msg);
	return vlt_end(v, err, msg);
}

/* ---- the gated read ----------------------------------------------------- */

void
vault_set_audit(struct vault *v, vault_audit_fn fn, void *arg)
{
	v->audit_fn = fn;
	v->audit_arg = arg;
}

/* ---- the audit MAC key and the outbox (issue 12) ------------------------ */

/* The audit MAC key's name among the keystore's root keys (src/keys):
 * wrapped under the master key's wrap key, re-wrapped by every rotation
 * (issue 13), never derived from the master key. */
#define AUDIT_KEY_ROOT "audit_mac"

enum vaern_err
vault_audit_key(struct vault *v, int create,
                unsigned char key[VAULT_AUDIT_KEY_BYTES], struct vaern_msg *msg)
{
	enum vaern_err err;

	if (v->batch)
		return vaern_fail(msg, VAERN_E_INTERNAL,
		                  "vault_audit_key: not inside a batch");
	/* One write transaction: two processes never both make a key, and
	 * the key comes with its pending head (store_audit.h). Not
	 * vlt_begin: this is no change to audit (vlt_end). */
	if ((err = store_begin(v->store, msg)) != VAERN_OK)
		return err;
	err = keys_root_get(v->ring, v->store, AUDIT_KEY_ROOT, 0, key, msg);
	if (err == VAERN_E_NOTFOUND && create &&
	    (err = keys_root_get(v->ring, v->store, AUDIT_KEY_ROOT, 1, key,
	                         msg)) == VAERN_OK)
		err = store_audit_head_pending(v->store, msg);
	else if (err == VAERN_E_NOTFOUND)
		err = vaern_fail(msg, VAERN_E_NOTFOUND,
		                 "the data store has no audit MAC key yet");
	if (err == VAERN_OK)
		err = store_commit(v->store, msg);
	else
		store_rollback(v->store);
	if (err != VAERN_OK)
		sodium_memzero(key, VAULT_AUDIT_KEY_BYTES);
	return err;
}

void
vault_audit_next_change(struct vault *v, struct vault_audit_event *e)
{
	v->next_change = e;
	v->next_prepare = NULL;
	v->next_prepare_arg = NULL;
}

void
vault_audit_prepare(struct vault *v, vault_audit_prepare_fn fn, void *arg)
{
	v->next_prepare = fn;
	v->next_prepare_arg = arg;
}

enum vaern_err
vlt_change_end(struct vault *v, enum vaern_err err, struct vault_audit_event *e,
               struct vaern_msg *msg)
{
	if (err == VAERN_OK && v->audit_fn != NULL)
		v->next_change = e;
	err = vlt_end(v, err, msg);
	v->next_change = NULL;
	if (err != VAERN_OK || v->audit_fn == NULL)
		return err;
	return v->audit_fn(v->audit_arg, e, msg);
}

enum vaern_err
vault_audit_outbox(struct vault *v, struct vault_audit_event *e,
                   struct vaern_msg *msg)
{
	struct audit_row r;

	memset(&r, 0, sizeof(r));
	if (e->at == 0)
		e->at = clock_now();
	r.at = e->at;
	r.controller = e->controller;
	r.actor = e->actor;
	r.role = e->role;
	r.purpose = e->purpose;
	r.action = e->action;
	r.subject = e->subject;
	r.categories = e->categories;
	r.decision = e->allowed;
	r.rule = e->rule;
	r.reason = e->reason;
	/* Issue 12: the version it was decided under, kept with it. */
	if (e->policy == NULL && e->controller != NULL)
		e->policy = vault_policy_version(v, e->controller);
	r.policy = e->policy;
	return store_audit_outbox_add(v->store, &r, &e->outbox_id, msg);
}

/* Writes the ids of categories idx[0..n) to buf as "a,b,c" (cut at the
 * last id that fits). */
static void
category_list(const struct policy *p, const size_t *idx, size_t n, char *buf,
              size_t bufsz)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *id = p->categories[idx[i]].id;
		size_t len = strlen(id);

		if (off + len + 2 > bufsz)
			break;
		if (i > 0)
			buf[off++] = ',';
		memcpy(buf + off, id, len + 1);
		off += len;
	}
}

static const char *
action_name(enum gate_action a)
{
	switch (a) {
	case GATE_READ: return "read";
	case GATE_EXPORT: return "export";
	case GATE_DISCLOSE: return "disclose";
	case GATE_COLLECT: return "collect";
	case GATE_ANSWER: return "export";
	}
	return "read";
}

void
vault_actor_subject(struct vault_actor *out, const char *controller,
                    const unsigned char uid[VAULT_UID_BYTES])
{
	memset(out, 0, sizeof(*out));
	(void)snprintf(out->controller, sizeof(out->controller), "%s",
	               controller);
	(void)snprintf(out->name, sizeof(out->name), "data_subject");
	(void)snprintf(out->role, sizeof(out->role), "data_subject");
	out->self = 1;
	memcpy(out->subject, uid, VAULT_UID_BYTES);
}

int
vlt_actor_is(const struct vault_actor *actor, const unsigned char *uid)
{
	return actor->self && uid != NULL &&
	       sodium_memcmp(actor->subject, uid, VAULT_UID_BYTES) == 0;
}

int
vlt_gate_role(const struct policy *p, const struct vault_actor *actor,
              size_t *role)
{
	long rl;

	/* The person on the portal, whatever a policy names its roles. */
	if (actor->self) {
		*role = GATE_ROLE_SUBJECT;
		return 0;
	}
	rl = policy_role_index(p, actor->role);
	*role = rl >= 0 ? (size_t)rl : GATE_ROLE_OPERATOR;
	if (rl >= 0)
		return 0;
	/* The CLI's actor has no row (id 0) and the role "operator". */
	return actor->id == 0 && strcmp(actor->role, "operator") == 0 ? 0 : -1;
}

enum vaern_err
vlt_gate(struct vault *v, const struct controller *c, const unsigned char *uid,
         const unsigned char bind[GATE_SUBJECT_BYTES], const char *actor,
         const char *role, const struct gate_request *r,
         const struct gate_state *gs, const char *purpose, const char *action,
         const char *reason_extra, struct gate_decision *d, size_t *released,
         struct gate_release *rel, struct vaern_msg *msg)
{
	const struct policy *p = c->policy;
	struct vault_audit_event ev;
	char cats[CATEGORY_LIST_MAX], reason[GATE_REASON_MAX + 256];
	enum vaern_err err;

	memset(rel, 0, sizeof(*rel));
	if (v->audit_fn == NULL)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "no audit trail is attached: nothing is "
		                  "released without an audit entry");
	if (gate_decide(p, r, gs, d, released) != VAERN_OK)
		d->allow = 0;
	/* Every decision is audited, allowed or denied (GDPR-32). */
	if (d->allow)
		category_list(p, released, d->nreleased, cats, sizeof(cats));
	else if (r->categories != NULL)
		category_list(p, r->categories, r->ncategories, cats,
		              sizeof(cats));
	else
		(void)snprintf(cats, sizeof(cats), "*");
	(void)snprintf(reason, sizeof(reason), "%s%s%s", d->reason,
	               reason_extra != NULL ? "; " : "",
	               reason_extra != NULL ? reason_extra : "");
	memset(&ev, 0, sizeof(ev));
	ev.controller = c->name;
	ev.actor = actor;
	ev.role = role;
	ev.purpose = purpose;
	ev.action = action;
	ev.subject = uid;
	ev.categories = cats[0] != '\0' ? cats : NULL;
	ev.allowed = d->allow;
	ev.rule = d->rule != NULL ? d->rule : "";
	ev.reason = reason;
	if ((err = v->audit_fn(v->audit_arg, &ev, msg)) != VAERN_OK)
		return err; /* no audit entry, no release */
	v->audited++;
	if (!d->allow)
		return vaern_fail(msg, VAERN_E_DENIED, "%s (%s)", d->reason,
		                  d->rule != NULL ? d->rule : "policy");
	/* Only now, after the entry, is there anything to read with. */
	if (gate_release_mint(p, d, released, bind, v->audited, rel) !=
	    VAERN_OK)
		return vaern_fail(msg, VAERN_E_INTERNAL,
		                  "the gate's allow could not be minted");
	assert(rel->nreleased <= p->ncategories);
	return VAERN_OK;
}

/* The subject's state, as the gate needs it: consents in force (consent,
 * [npurposes]) and the agreement with recipient ri (agreed). */
enum vaern_err
vlt_subject_state(struct vault *v, const struct policy *p,
                  const struct store_subject *s, long ri,
                  unsigned char *consent, unsigned char *agreed,
                  struct gate_state *gs, struct vaern_msg *msg)
{
	enum vaern_err err;

	for (size_t i = 0; i < p->npurposes; i++) {
		int valid = 0;

		if (!(p->purposes[i].basis & BASIS_A) &&
		    p->purposes[i].art9 != 'a')
			continue;
		if ((err = store_consent_valid(v->store, s->rowid,
		                               p->purposes[i].id, &valid, msg)))
			return err;
		consent[i] = (unsigned char)valid;
	}
	if (ri >= 0) {
		int valid = 0;

		if ((err = store_agreement_valid(v->store, s->rowid,
		                                 p->recipients[ri].id, &valid,
		                                 msg)))
			return err;
		agreed[ri] = (unsigned char)valid;
	}
	/* GDPR-18; GDPR-17: what an erasure left is only stored, even if a
	 * restriction is lifted since. */
	gs->restricted =
	        (s->state & (STORE_STATE_RESTRICTED | STORE_STATE_ERASED)) != 0;
	gs->objected_marketing =
	        (s->state & STORE_STATE_OBJECTED_MARKETING) != 0;
	gs->consent = consent;
	gs->agreed = agreed;
	return VAERN_OK;
}

enum vaern_err
vault_subject_access(struct vault *v, const unsigned char uid[VAULT_UID_BYTES],
                     const struct vault_access *a,
                     enum vaern_err (*fn)(void *arg,
                                          const struct vault_fact_out *f),
                     void *arg, struct gate_decision *d, struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct store_subject s;
	struct gate_request r;
	struct gate_state gs;
	struct gate_release rel;
	const struct policy *p;
	unsigned char *consent = NULL, *agreed = NULL, *untold = NULL;
	size_t *wanted = NULL, *released = NULL;
	char action[POLICY_NAME_MAX + 16];
	char extra[200];
	long ri = -1, pi = -1;
	size_t rl;
	int allowed;

	memset(d, 0, sizeof(*d));
	memset(&r, 0, sizeof(r));
	memset(&gs, 0, sizeof(gs));
	if (v->audit_fn == NULL)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "no audit trail is attached: nothing is "
		                  "released without an audit entry");
	if ((err = vlt_subject(v, a->actor->controller, uid, &c, &s, msg)))
		return err;
	p = c->policy;
	if (vlt_gate_role(p, a->actor, &rl) != 0)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "role '%s' is no longer in the policy",
		                  a->actor->role);
	if ((a->purpose != NULL || rl != GATE_ROLE_OPERATOR) &&
	    (pi = policy_purpose_index(p, a->purpose ? a->purpose : "")) < 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the policy of '%s' has no purpose '%.64s'",
		                  c->name, a->purpose ? a->purpose : "");
	if (a->recipient != NULL &&
	    (ri = policy_recipient_index(p, a->recipient)) < 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the policy of '%s' has no recipient '%.64s'",
		                  c->name, a->recipient);
	consent = calloc(p->npurposes + 1, 1);
	agreed = calloc(p->nrecipients + 1, 1);
	untold = calloc(p->npurposes + 1, 1);
	wanted = calloc(a->ncategories + 1, sizeof(*wanted));
	released = calloc(p->ncategories + 1, sizeof(*released));
	if (!consent || !agreed || !untold || !wanted || !released) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < a->ncategories; i++) {
		long ci = policy_category_index(p, a->categories[i]);

		if (ci < 0) {
			err = vaern_fail(msg, VAERN_E_INVALID,
			                 "the policy of '%s' has no category "
			                 "'%.64s'",
			                 c->name, a->categories[i]);
			goto done;
		}
		wanted[i] = (size_t)ci;
	}
	if ((err = vlt_subject_state(v, p, &s, ri, consent, agreed, &gs, msg)))
		goto done;
	/* CEK-PURP-5: a purpose named is held to the notice of its change. */
	if (pi >= 0) {
		if ((err = vlt_untold(v, c, &s, consent, untold, msg)) !=
		    VAERN_OK)
			goto done;
		gs.untold = untold;
	}
	r.role = rl;
	r.self = vlt_actor_is(a->actor, uid);
	r.purpose = pi >= 0 ? (size_t)pi : 0;
	r.action = a->action;
	r.categories = a->categories != NULL ? wanted : NULL;
	r.ncategories = a->categories != NULL ? a->ncategories : 0;
	r.recipient = ri;
	r.demand = a->demand;
	r.demand_ref = a->demand_ref;
	/* TEL-MKT-2: a release under a consent is its use. Recorded before
	 * the release, so a consent's ledger never goes early. The gate is
	 * pure: asking it twice gives the same answer. */
	{
		struct gate_decision pre;

		if (gate_decide(p, &r, &gs, &pre, released) != VAERN_OK)
			pre.allow = 0;
		if (pi >= 0 && consent[pi] && pre.allow &&
		    (err = vlt_consent_touch(v, c, s.rowid, (size_t)pi, msg)))
			goto done;
		allowed = pre.allow;
	}
	(void)snprintf(action, sizeof(action), "%s%s%s", action_name(a->action),
	               ri >= 0 ? ":" : "", ri >= 0 ? p->recipients[ri].id : "");
	/* TEL-LOG-3: which legal demand a disclosure rested on is part of
	 * its record (a case reference, not personal data). */
	extra[0] = '\0';
	if (allowed && a->demand != NULL && a->demand_ref != NULL)
		(void)snprintf(extra, sizeof(extra), "%.32s %.128s", a->demand,
		               a->demand_ref);
	err = vlt_gate(v, c, s.uid, s.uid, a->actor->name, a->actor->role, &r,
	               &gs, pi >= 0 ? p->purposes[pi].id : "vault_operation",
	               action, extra[0] != '\0' ? extra : NULL, d, released,
	               &rel, msg);
	if (err != VAERN_OK)
		goto done;
	err = vlt_release_walk(v, &s, &rel, fn, arg, NULL, msg);
done:
	free(consent);
	free(agreed);
	free(untold);
	free(wanted);
	free(released);
	return err;
}
