/*
 * vault_consent.c -- the consent ledger (GDPR-7, TEL-MKT-2), unsubscribe
 * tokens (SHOP-MKT-1, AOPT-MKT-1) and visitors' cookie choices
 * (AURA-COOKIE-1, AOPT-COOKIE-1, SHOP-MKT-2).
 *
 * The ledger is append-only: a withdrawal is a new row, never an update,
 * so what was lawful before it stays documented. A purpose's state row
 * (consent_state) holds only what changes: the last use, and when the
 * purpose's records go once the consent has ended (TEL-MKT-2).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../common/utf8.h"
#include "../retention/retention.h"
#include "vault_internal.h"

#define UNSUB_SECRET_BYTES 32
#define DAY_SECONDS        86400
#define SOURCE_CHARS       "abcdefghijklmnopqrstuvwxyz0123456789_-"
#define VISITOR_CHARS                                                          \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

static const char unsub_unknown[] = "no such unsubscribe link";

/* Returns 1 if purpose rests on consent (Art. 6(1)(a) or 9(2)(a)). */
static int
rests_on_consent(const struct policy_purpose *pp)
{
	return (pp->basis & BASIS_A) || pp->art9 == 'a';
}

static int
source_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= VAULT_SOURCE_MAX && strspn(s, SOURCE_CHARS) == n;
}

/* Text of 1..VAULT_CONSENT_TEXT_MAX bytes of UTF-8; line breaks and tabs
 * allowed (a consent text may have paragraphs), other controls not. */
static int
text_ok(const char *t)
{
	size_t len = strlen(t), i = 0;

	if (len == 0 || len > VAULT_CONSENT_TEXT_MAX)
		return 0;
	while (i < len) {
		uint32_t cp;
		size_t n =
		        utf8_decode((const unsigned char *)t + i, len - i, &cp);

		if (n == 0 || (utf8_is_control(cp) && cp != '\n' &&
		               cp != '\t' && cp != '\r'))
			return 0;
		i += n;
	}
	return 1;
}

enum vaern_err
vault_text_hash_parse(const char *hex,
                      unsigned char hash[VAULT_TEXT_HASH_BYTES],
                      struct vaern_msg *msg)
{
	size_t len = 0;

	if (strlen(hex) != 2 * VAULT_TEXT_HASH_BYTES ||
	    strspn(hex, "0123456789abcdefABCDEF") !=
	            2 * VAULT_TEXT_HASH_BYTES ||
	    sodium_hex2bin(hash, VAULT_TEXT_HASH_BYTES, hex, strlen(hex), NULL,
	                   &len, NULL) != 0 ||
	    len != VAULT_TEXT_HASH_BYTES)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "'text_hash' is the SHA-256 of the text, 64 "
		                  "hex digits");
	return VAERN_OK;
}

/* What the ledger says of one purpose. */
struct ledger_scan {
	const char *purpose;
	int any;          /* a record of the purpose exists */
	int in_force;     /* the latest record is a give */
	int64_t latest;   /* the latest record's time */
	int64_t given_at; /* the latest give's time */
	int64_t seq;      /* the latest record's sequence number */
};

static enum vaern_err
scan_one(void *arg, const struct store_consent_rec *r)
{
	struct ledger_scan *l = arg;

	if (strcmp(r->purpose, l->purpose) != 0 || r->seq < l->seq)
		return VAERN_OK;
	l->any = 1;
	l->seq = r->seq;
	l->in_force = !r->withdrawn;
	l->latest = r->at;
	if (!r->withdrawn)
		l->given_at = r->at;
	return VAERN_OK;
}

static enum vaern_err
ledger_scan(struct vault *v, int64_t subject, const char *purpose,
            struct ledger_scan *l, struct vaern_msg *msg)
{
	memset(l, 0, sizeof(*l));
	l->purpose = purpose;
	l->latest = INT64_MIN;
	l->given_at = INT64_MIN;
	return store_consent_foreach(v->store, subject, scan_one, l, msg);
}

/* The ledger's expiry (TEL-MKT-2) as the store keeps it. */
static enum vaern_err
ledger_expiry(const struct policy *p, size_t pi, int64_t withdrawn_at,
              int64_t last_used, int64_t *expires, struct vaern_msg *msg)
{
	struct retention_result res;
	enum vaern_err err;

	err = retention_consent_expiry(p, pi, withdrawn_at, last_used, &res);
	*expires = STORE_NO_TIME;
	if (err == VAERN_E_NOTFOUND)
		return VAERN_OK; /* no rule holds it: it goes with the subject
		                  */
	if (err != VAERN_OK)
		return vaern_fail(msg, err,
		                  "consent to '%s': its retention cannot be "
		                  "computed",
		                  p->purposes[pi].id);
	if (res.expires_at != RETENTION_NEVER)
		*expires = res.expires_at;
	return VAERN_OK;
}

/* A new unsubscribe token: the text to hand out and the hash to keep. */
void
vlt_unsub_token_new(char token[VAULT_UNSUB_TOKEN_MAX], unsigned char hash[32])
{
	unsigned char secret[UNSUB_SECRET_BYTES];

	randombytes_buf(secret, sizeof(secret));
	sodium_bin2base64(token, VAULT_UNSUB_TOKEN_MAX, secret, sizeof(secret),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	crypto_generichash(hash, 32, secret, sizeof(secret), NULL, 0);
	sodium_memzero(secret, sizeof(secret));
}

/* The hash of a token as handed out; -1 if it is not one. */
static int
unsub_token_hash(const char *token, unsigned char hash[32])
{
	unsigned char secret[UNSUB_SECRET_BYTES];
	size_t len = 0;
	int rc = -1;

	if (strlen(token) >= VAULT_UNSUB_TOKEN_MAX)
		return -1;
	if (sodium_base642bin(secret, sizeof(secret), token, strlen(token),
	                      NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
	    len == sizeof(secret)) {
		crypto_generichash(hash, 32, secret, sizeof(secret), NULL, 0);
		rc = 0;
	}
	sodium_memzero(secret, sizeof(secret));
	return rc;
}

/* Resolves the text shown into done->text_hash; *text_new is the text
 * to keep (NULL: already on record). Writes nothing. */
static enum vaern_err
text_resolve(struct vault *v, const struct policy_purpose *pp,
             const struct vault_consent_act *act,
             struct vault_consent_done *done, const char **text_new,
             struct vaern_msg *msg)
{
	const char *text = act->text;
	char *kept = NULL;
	enum vaern_err err;

	*text_new = NULL;
	if (text == NULL && act->text_hash == NULL)
		text = pp->consent_text; /* the policy's own wording */
	if (text != NULL) {
		if (!text_ok(text))
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "'text' is 1 to %d bytes of UTF-8 "
			                  "without control characters",
			                  VAULT_CONSENT_TEXT_MAX);
		if ((err = id_refuse_card(text, "'text'", msg)) != VAERN_OK)
			return err;
		crypto_hash_sha256(done->text_hash, (const unsigned char *)text,
		                   strlen(text));
		if (act->text_hash != NULL &&
		    sodium_memcmp(act->text_hash, done->text_hash,
		                  VAULT_TEXT_HASH_BYTES) != 0)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "'text_hash' is not the SHA-256 of "
			                  "'text'");
		done->has_text_hash = 1;
		*text_new = text;
		return VAERN_OK;
	}
	if (act->text_hash == NULL)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "consent to '%s': the text shown is missing "
		                  "('text', or 'text_hash' of a text on "
		                  "record; GDPR-7)",
		                  pp->id);
	err = store_consent_text_get(v->store, act->text_hash, &kept, NULL);
	free(kept);
	if (err == VAERN_E_NOTFOUND)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "'text_hash': no consent text with this hash "
		                  "is on record; send the text itself");
	if (err != VAERN_OK)
		return vaern_fail(msg, err, "consent text: lookup failed");
	memcpy(done->text_hash, act->text_hash, VAULT_TEXT_HASH_BYTES);
	done->has_text_hash = 1;
	return VAERN_OK;
}

/*
 * SHOP-MKT-1, TEL-MKT-2: the events the policy has a consent to purpose
 * pi (or its withdrawal, by any route) record, at the consent's time; the
 * subject's expiries follow. Inside the caller's transaction.
 */
enum vaern_err
vlt_consent_events(struct vault *v, const struct controller *c, int64_t subject,
                   size_t pi, int withdraw, int64_t at, struct vaern_msg *msg)
{
	const struct policy *p = c->policy;
	enum vaern_err err;
	int any = 0;

	for (size_t i = 0; i < p->nevents; i++) {
		struct store_event e;
		long on = withdraw ? p->events[i].on_withdrawal
		                   : p->events[i].on_consent;

		if (on != (long)pi)
			continue;
		e.subject = subject;
		e.kind = p->events[i].id;
		e.at = at;
		if ((err = store_event_insert(v->store, &e, msg)) != VAERN_OK)
			return err;
		any = 1;
	}
	return any ? vlt_retention_recompute(v, c, subject, msg) : VAERN_OK;
}

enum vaern_err
vault_consent_apply(struct vault *v, const char *controller,
                    const unsigned char uid[VAULT_UID_BYTES],
                    const struct vault_consent_act *act,
                    struct vault_consent_done *done, struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct store_subject s;
	struct store_consent rec;
	struct store_consent_state cs;
	struct ledger_scan l;
	const struct policy_purpose *pp;
	const char *text_new = NULL;
	unsigned char token_hash[32];
	int64_t now = clock_now(), at;
	long pi;
	int known = 0, token = 0;

	memset(done, 0, sizeof(*done));
	done->expires_at = INT64_MIN;
	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	if (act->purpose == NULL ||
	    (pi = policy_purpose_index(c->policy, act->purpose)) < 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the policy of '%s' has no purpose '%.64s'",
		                  controller,
		                  act->purpose ? act->purpose : "(none)");
	pp = &c->policy->purposes[pi];
	if (!rests_on_consent(pp))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "purpose '%s' does not rest on consent",
		                  pp->id);
	if (act->source == NULL || !source_ok(act->source))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a consent source is 1 to %d characters of "
		                  "a-z 0-9 _ -",
		                  VAULT_SOURCE_MAX);
	for (size_t k = 0; k < pp->nconsent_sources; k++)
		known |= strcmp(pp->consent_sources[k], act->source) == 0;
	/* GDPR-7: withdrawing is as easy as giving, by any channel. */
	if (!act->withdraw && !known)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "'%.64s' is not a way the policy records "
		                  "consent to '%s'",
		                  act->source, pp->id);
	if (act->withdraw && (act->text != NULL || act->text_hash != NULL))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a withdrawal carries no text");
	at = act->at == INT64_MIN ? now : act->at;
	if (at > now)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "consent recorded in the future");
	if (!act->withdraw &&
	    (err = text_resolve(v, pp, act, done, &text_new, msg)) != VAERN_OK)
		return err;
	if ((err = ledger_scan(v, s.rowid, pp->id, &l, msg)) != VAERN_OK)
		return err;
	/* Append-only, in time order: a record cannot be dated before the
	 * purpose's latest, so a withdrawal is never retroactive (GDPR-7). */
	if (l.any && at < l.latest)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "consent to '%s': a record cannot be dated "
		                  "before the latest one (GDPR-7: withdrawal "
		                  "is not retroactive)",
		                  pp->id);
	if (act->withdraw && !l.in_force)
		return vaern_fail(msg, VAERN_E_EXISTS,
		                  "no consent to '%s' is in force", pp->id);
	if ((err = store_consent_state_get(v->store, s.rowid, pp->id, &cs,
	                                   msg)) != VAERN_OK)
		return err;
	/* GDPR-7: the consent was in force when it was last used, so a
	 * withdrawal cannot be dated before that use. */
	if (act->withdraw && cs.last_used != STORE_NO_TIME &&
	    at < cs.last_used) {
		char used[21];

		cal_format_instant(cs.last_used, used);
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "consent to '%s': a withdrawal cannot be "
		                  "dated before its last use (%s; GDPR-7: "
		                  "withdrawal is not retroactive)",
		                  pp->id, used);
	}
	if (act->withdraw) {
		/* TEL-MKT-2: kept until the period after the later of the
		 * withdrawal and the last use (or the giving, if never
		 * used). */
		int64_t last = cs.last_used != STORE_NO_TIME ? cs.last_used
		                                             : l.given_at;

		if ((err = ledger_expiry(c->policy, (size_t)pi, at, last,
		                         &cs.expires_at, msg)) != VAERN_OK)
			return err;
	} else {
		cs.expires_at = STORE_NO_TIME; /* kept while valid */
		/* SHOP-MKT-1, AOPT-MKT-1: every subscriber can unsubscribe
		 * without logging in. */
		token = pp->direct_marketing && (pp->basis & BASIS_A);
	}
	rec.subject = s.rowid;
	rec.purpose = pp->id;
	rec.given_at = at;
	rec.withdrawn_at = act->withdraw ? at : STORE_NO_TIME;
	rec.source = act->source;
	rec.text_hash = done->has_text_hash ? done->text_hash : NULL;
	if (token)
		vlt_unsub_token_new(done->unsubscribe_token, token_hash);
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		goto out;
	if (text_new != NULL)
		err = store_consent_text_put(v->store, done->text_hash,
		                             text_new, msg);
	if (err == VAERN_OK)
		err = store_consent_insert(v->store, &rec, msg);
	/* A consent in force keeps its subject through a sweep (TEL-MKT-2).
	 * Withdrawn, with no rule holding its records, they go with the
	 * subject: at the next sweep if this consent was all that kept it,
	 * else when its facts go. */
	if (err == VAERN_OK && act->withdraw &&
	    cs.expires_at == STORE_NO_TIME) {
		int remains = 1;

		err = store_subject_remains(v->store, s.rowid, now, &remains,
		                            msg);
		if (err == VAERN_OK && !remains)
			cs.expires_at = at;
	}
	/* A state row only where one is needed: a withdrawal, or a give
	 * that ends an earlier withdrawal's countdown. */
	if (err == VAERN_OK &&
	    (act->withdraw || cs.last_used != STORE_NO_TIME || l.any))
		err = store_consent_state_put(v->store, s.rowid, pp->id, &cs,
		                              msg);
	if (err == VAERN_OK && token)
		err = store_unsubscribe_put(v->store, token_hash, s.rowid,
		                            pp->id, msg);
	if (err == VAERN_OK)
		err = vlt_consent_events(v, c, s.rowid, (size_t)pi,
		                         act->withdraw, at, msg);
	err = vlt_end(v, err, msg);
out:
	if (err != VAERN_OK) {
		sodium_memzero(done->unsubscribe_token,
		               sizeof(done->unsubscribe_token));
		return err;
	}
	done->at = at;
	if (act->withdraw && cs.expires_at != STORE_NO_TIME)
		done->expires_at = cs.expires_at;
	return VAERN_OK;
}

struct history_walk {
	enum vaern_err (*fn)(void *arg, const struct vault_consent_rec *r);
	void *arg;
};

static enum vaern_err
history_one(void *arg, const struct store_consent_rec *r)
{
	struct history_walk *w = arg;
	struct vault_consent_rec out;

	out.purpose = r->purpose;
	out.seq = r->seq;
	out.at = r->at;
	out.withdrawn = r->withdrawn;
	out.source = r->source;
	out.text_hash = r->text_hash;
	return w->fn(w->arg, &out);
}

enum vaern_err
vault_consent_history(struct vault *v, const char *controller,
                      const unsigned char uid[VAULT_UID_BYTES],
                      enum vaern_err (*fn)(void *arg,
                                           const struct vault_consent_rec *r),
                      void *arg, struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct store_subject s;
	struct history_walk w = {fn, arg};

	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	return store_consent_foreach(v->store, s.rowid, history_one, &w, msg);
}

enum vaern_err
vault_consent_state(struct vault *v, const char *controller,
                    const unsigned char uid[VAULT_UID_BYTES],
                    const char *purpose, struct vault_consent_state *st,
                    struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct store_subject s;
	struct store_consent_state cs;

	memset(st, 0, sizeof(*st));
	st->last_used = INT64_MIN;
	st->expires_at = INT64_MIN;
	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	if ((err = store_consent_valid(v->store, s.rowid, purpose,
	                               &st->in_force, msg)) != VAERN_OK ||
	    (err = store_consent_state_get(v->store, s.rowid, purpose, &cs,
	                                   msg)) != VAERN_OK)
		return err;
	if (cs.last_used != STORE_NO_TIME)
		st->last_used = cs.last_used;
	if (cs.expires_at != STORE_NO_TIME)
		st->expires_at = cs.expires_at;
	return VAERN_OK;
}

enum vaern_err
vault_consent_text(struct vault *v,
                   const unsigned char hash[VAULT_TEXT_HASH_BYTES], char **text,
                   struct vaern_msg *msg)
{
	return store_consent_text_get(v->store, hash, text, msg);
}

/*
 * The gate released data under purpose pi, which rests on the consent in
 * force: records the use (TEL-MKT-2). The read path stays a read: one
 * point lookup, and a write at most once per UTC day per subject and
 * purpose (the day is all the retention clock counts).
 */
enum vaern_err
vlt_consent_touch(struct vault *v, const struct controller *c, int64_t subject,
                  size_t pi, struct vaern_msg *msg)
{
	const struct policy_purpose *pp = &c->policy->purposes[pi];
	struct store_consent_state cs;
	int64_t now = clock_now();
	enum vaern_err err;

	if ((err = store_consent_state_get(v->store, subject, pp->id, &cs,
	                                   msg)) != VAERN_OK)
		return err;
	if (cs.last_used != STORE_NO_TIME &&
	    (cs.last_used >= now ||
	     cs.last_used / DAY_SECONDS == now / DAY_SECONDS))
		return VAERN_OK;
	cs.last_used = now;
	/* In force, so kept while valid; recomputed all the same. */
	if ((err = ledger_expiry(c->policy, pi, RETENTION_NEVER, now,
	                         &cs.expires_at, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_consent_state_put(v->store, subject, pp->id, &cs, msg);
	return vlt_end(v, err, msg);
}

/* ---- unsubscribe links (SHOP-MKT-1, AOPT-MKT-1) ------------------------ */

static enum vaern_err
load_one(void *arg, const char *name, int64_t loaded_at)
{
	struct controller *c;

	(void)loaded_at;
	return vlt_controller(arg, name, &c, NULL);
}

static struct controller *
controller_of_row(struct vault *v, int64_t rowid)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < v->nctrl; i++)
			if (v->ctrl[i].rowid == rowid)
				return &v->ctrl[i];
		if (pass == 0)
			(void)vault_controller_foreach(v, load_one, v, NULL);
	}
	return NULL;
}

enum vaern_err
vault_unsubscribe_find(struct vault *v, const char *token,
                       struct vault_unsubscribe *out, struct vaern_msg *msg)
{
	unsigned char hash[32];
	char purpose[STORE_LABEL_MAX + 1];
	struct store_subject s;
	struct controller *c;
	int64_t subject = 0;
	enum vaern_err err;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (unsub_token_hash(token, hash) != 0)
		return vaern_fail(msg, VAERN_E_NOTFOUND, unsub_unknown);
	err = store_unsubscribe_find(v->store, hash, &subject, purpose, NULL);
	if (err == VAERN_E_NOTFOUND)
		return vaern_fail(msg, VAERN_E_NOTFOUND, unsub_unknown);
	if (err != VAERN_OK)
		return vaern_fail(msg, err, "unsubscribe: lookup failed");
	if ((err = store_subject_by_rowid(v->store, subject, &s, NULL)) !=
	            VAERN_OK ||
	    (c = controller_of_row(v, s.controller)) == NULL ||
	    policy_purpose_index(c->policy, purpose) < 0)
		return vaern_fail(msg, VAERN_E_NOTFOUND, unsub_unknown);
	n = strlen(c->name);
	if (n >= sizeof(out->controller) ||
	    strlen(purpose) >= sizeof(out->purpose))
		return vaern_fail(msg, VAERN_E_NOTFOUND, unsub_unknown);
	memcpy(out->controller, c->name, n + 1);
	memcpy(out->purpose, purpose, strlen(purpose) + 1);
	memcpy(out->uid, s.uid, VAULT_UID_BYTES);
	return store_consent_valid(v->store, s.rowid, purpose, &out->in_force,
	                           msg);
}

/* ---- cookie choices ---------------------------------------------------- */

/* The visitor id's blind index under the controller's key: the id is a
 * cookie value (personal data under the ePrivacy rules), never stored. */
enum vaern_err
vlt_visitor_blind(struct vault *v, const struct controller *c,
                  const char *visitor, unsigned char out[STORE_BLIND_BYTES],
                  struct vaern_msg *msg)
{
	static const char domain[] = "vaern visitor\n";
	crypto_generichash_state h;
	size_t n = strlen(visitor);

	if (n < VAULT_VISITOR_MIN || n > VAULT_VISITOR_MAX ||
	    strspn(visitor, VISITOR_CHARS) != n)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a visitor id is %d to %d characters of A-Z "
		                  "a-z 0-9 _ -",
		                  VAULT_VISITOR_MIN, VAULT_VISITOR_MAX);
	crypto_generichash_init(&h, vlt_blind_key(v, c), KEY_BYTES,
	                        STORE_BLIND_BYTES);
	crypto_generichash_update(&h, (const unsigned char *)domain,
	                          sizeof(domain) - 1);
	crypto_generichash_update(&h, (const unsigned char *)visitor, n);
	crypto_generichash_final(&h, out, STORE_BLIND_BYTES);
	sodium_memzero(&h, sizeof(h));
	return VAERN_OK;
}

enum vaern_err
vault_choice_put(struct vault *v, const char *controller, const char *visitor,
                 const struct vault_choice *ch, struct vault_choice_done *done,
                 struct vaern_msg *msg)
{
	unsigned char blind[STORE_BLIND_BYTES];
	struct controller *c;
	struct store_choice sc;
	struct vault_choice_done d = {0, 0};
	enum vaern_err err;
	int64_t now = clock_now();

	if (done != NULL)
		*done = d;

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK ||
	    (err = vlt_visitor_blind(v, c, visitor, blind, msg)) != VAERN_OK)
		return err;
	if (ch->source == NULL || !source_ok(ch->source))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a choice's source is 1 to %d characters of "
		                  "a-z 0-9 _ -",
		                  VAULT_SOURCE_MAX);
	if ((err = id_refuse_card(ch->source, "a choice's source", msg)) !=
	    VAERN_OK)
		return err;
	if (ch->at != INT64_MIN && ch->at > now)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a choice made in the future");
	sc.at = ch->at == INT64_MIN ? now : ch->at;
	sc.statistics = ch->statistics != 0;
	sc.marketing = ch->marketing != 0;
	sc.source = ch->source;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_choice_insert(v->store, c->rowid, blind, &sc, msg);
	/* A category turned off ends its processing: what was collected
	 * under it goes now, in this transaction, not at its retention date
	 * (consent withdrawn, GDPR-17(1)(b); objection to statistics under
	 * (f) with no overriding ground stated, GDPR-21, GDPR-17(1)(c)). */
	if (err == VAERN_OK && !sc.statistics)
		err = store_visit_delete(v->store, c->rowid, blind,
		                         STORE_VISIT_STATISTICS,
		                         &d.visits_deleted, msg);
	if (err == VAERN_OK && !sc.marketing)
		err = store_visit_delete(v->store, c->rowid, blind,
		                         STORE_VISIT_MARKETING,
		                         &d.pixels_deleted, msg);
	if ((err = vlt_end(v, err, msg)) == VAERN_OK && done != NULL)
		*done = d;
	return err;
}

enum vaern_err
vault_choice_get(struct vault *v, const char *controller, const char *visitor,
                 struct vault_choice *ch, char source[VAULT_SOURCE_MAX + 1],
                 struct vaern_msg *msg)
{
	unsigned char blind[STORE_BLIND_BYTES];
	char label[STORE_LABEL_MAX + 1];
	struct controller *c;
	struct store_choice sc;
	enum vaern_err err;

	memset(ch, 0, sizeof(*ch));
	source[0] = '\0';
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK ||
	    (err = vlt_visitor_blind(v, c, visitor, blind, msg)) != VAERN_OK)
		return err;
	if ((err = store_choice_latest(v->store, c->rowid, blind, &sc, label,
	                               msg)) != VAERN_OK)
		return err;
	ch->statistics = sc.statistics;
	ch->marketing = sc.marketing;
	ch->at = sc.at;
	(void)snprintf(source, VAULT_SOURCE_MAX + 1, "%s", label);
	ch->source = source;
	return VAERN_OK;
}

void
vault_set_unsubscribe_tokens(struct vault *v, int on)
{
	v->unsub_tokens = on != 0;
}

enum vaern_err
vault_audit_record(struct vault *v, const struct vault_audit_event *e,
                   struct vaern_msg *msg)
{
	if (v->audit_fn == NULL)
		return VAERN_OK;
	return v->audit_fn(v->audit_arg, e, msg);
}
