/*
 * vault_visit.c -- data collected automatically about a visitor: visits
 * (statistics cookies, AURA-COOKIE-1) and marketing pixels (marketing
 * cookies, SHOP-MKT-2), kept encrypted until the policy's rule for the
 * cookie purpose's categories says they go (AURA-RET-1).
 *
 * The key scheme. A visitor is no subject, so there is no subject key to
 * seal under, and a key per visitor would cost a row (and an unwrap) per
 * visitor. Instead each controller has one random data key per expiry
 * day, made when the first visit due that day is stored and wrapped
 * under the master key as subject keys are (AD: a domain, the controller
 * and the day). A visit is sealed under the key of its own expiry day,
 * with the controller, the visitor's blind index, its kind, its time and
 * its expiry as associated data: a ciphertext moved to another visitor,
 * kind or day does not open. The sweep deletes the due visits and then
 * the keys of the days it emptied, so on the day visit data is due every
 * copy of it, backups included, becomes noise (as erasing a subject's
 * key does, DESIGN.md "Keys"). A withdrawal deletes the visitor's rows at
 * once (secure_delete); a copy in a backup taken before stays readable
 * with the master key until its day key goes, the retention date at the
 * latest. Rotating the master key re-wraps the day keys with the subject
 * keys.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../common/utf8.h"
#include "../retention/retention.h"
#include "vault_internal.h"

#define FIELD_ABSENT   0xffff /* length of a field not given */
#define PAYLOAD_FIELDS 3      /* ip, page, recipient */
#define PAYLOAD_MAX                                                            \
	(1 + PAYLOAD_FIELDS * 2 + VAULT_IP_MAX + VAULT_PAGE_MAX +              \
	 POLICY_NAME_MAX)
#define PAYLOAD_VERSION 1
#define VISIT_AD_BYTES  (8 + STORE_BLIND_BYTES + 1 + 8 + 8)

static void
le64(unsigned char *p, int64_t v)
{
	uint64_t u = (uint64_t)v;

	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(u >> (8 * i));
}

/* The normal text form of an IPv4 or IPv6 address; -1 if it is none. */
static int
ip_normal(const char *ip, char out[VAULT_IP_MAX + 1])
{
	unsigned char addr[16];
	char buf[INET6_ADDRSTRLEN];
	int rc = -1;

	if (strlen(ip) > VAULT_IP_MAX)
		return -1;
	if ((inet_pton(AF_INET, ip, addr) == 1 &&
	     inet_ntop(AF_INET, addr, buf, sizeof(buf)) != NULL) ||
	    (inet_pton(AF_INET6, ip, addr) == 1 &&
	     inet_ntop(AF_INET6, addr, buf, sizeof(buf)) != NULL)) {
		if (strlen(buf) <= VAULT_IP_MAX) {
			memcpy(out, buf, strlen(buf) + 1);
			rc = 0;
		}
	}
	sodium_memzero(addr, sizeof(addr));
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

/* ---- the sealed payload: version, then (u16 length, bytes) per field -- */

static size_t
payload_put(unsigned char *p, size_t off, const char *field)
{
	size_t n = field != NULL ? strlen(field) : 0;

	p[off] = (unsigned char)(field != NULL ? n & 0xff : 0xff);
	p[off + 1] = (unsigned char)(field != NULL ? n >> 8 : 0xff);
	if (n > 0)
		memcpy(p + off + 2, field, n);
	return off + 2 + n;
}

static size_t
payload_encode(unsigned char p[PAYLOAD_MAX], const char *ip, const char *page,
               const char *recipient)
{
	size_t off = 1;

	p[0] = PAYLOAD_VERSION;
	off = payload_put(p, off, ip);
	off = payload_put(p, off, page);
	return payload_put(p, off, recipient);
}

/*
 * Splits a payload of len bytes into NUL-terminated fields copied into
 * text (at least len + PAYLOAD_FIELDS bytes); field[i] is NULL for a
 * field not given. 0, or -1 if malformed.
 */
static int
payload_decode(const unsigned char *p, size_t len, char *text,
               const char *field[PAYLOAD_FIELDS])
{
	size_t off = 1, to = 0;

	if (len < 1 || p[0] != PAYLOAD_VERSION)
		return -1;
	for (int i = 0; i < PAYLOAD_FIELDS; i++) {
		size_t n;

		if (off + 2 > len)
			return -1;
		n = (size_t)p[off] | (size_t)p[off + 1] << 8;
		off += 2;
		field[i] = NULL;
		if (n == FIELD_ABSENT)
			continue;
		if (n > len - off)
			return -1;
		memcpy(text + to, p + off, n);
		text[to + n] = '\0';
		field[i] = text + to;
		to += n + 1;
		off += n;
	}
	return off == len ? 0 : -1;
}

/* ---- day keys ------------------------------------------------------------ */

/*
 * The data key of controller's visits due at expires_at into key (the
 * caller wipes it); create: make and keep one if the day has none (inside
 * the caller's transaction), else VAERN_E_NOTFOUND.
 */
static enum vaern_err
day_key(struct vault *v, int64_t controller, int64_t expires_at, int create,
        unsigned char key[KEY_BYTES], struct vaern_msg *msg)
{
	unsigned char wrapped[STORE_WRAPPED_MAX], ad[KEYS_AD_MAX];
	unsigned char nonce[KEYS_NONCE_BYTES];
	size_t len = 0, adlen = keys_ad_day(ad, controller, expires_at);
	enum vaern_err err;
	int64_t kek = 0;

	err = store_visit_key_get(v->store, controller, expires_at, wrapped,
	                          &len, &kek, msg);
	if (err == VAERN_OK)
		return keys_unwrap(v->ring, v->store, kek, wrapped, len, ad,
		                   adlen, key, msg);
	if (err != VAERN_E_NOTFOUND || !create)
		return err;
	vlt_random(v, key, KEY_BYTES);
	vlt_random(v, nonce, sizeof(nonce));
	keys_wrap(v->ring, key, ad, adlen, nonce, wrapped, &kek);
	return store_visit_key_put(v->store, controller, expires_at, wrapped,
	                           KEYS_WRAPPED, kek, msg);
}

static size_t
visit_ad(unsigned char ad[VISIT_AD_BYTES], int64_t controller,
         const unsigned char *blind, int kind, int64_t at, int64_t expires_at)
{
	le64(ad, controller);
	memcpy(ad + 8, blind, STORE_BLIND_BYTES);
	ad[8 + STORE_BLIND_BYTES] = (unsigned char)kind;
	le64(ad + 8 + STORE_BLIND_BYTES + 1, at);
	le64(ad + 8 + STORE_BLIND_BYTES + 1 + 8, expires_at);
	return VISIT_AD_BYTES;
}

/* ---- storing ------------------------------------------------------------- */

/*
 * When data of purpose pi collected at at goes: the latest expiry among
 * the rules of its categories, counted with no events (a visitor has
 * none). VAERN_E_DENIED if one of them gives no date.
 */
static enum vaern_err
visit_expiry(const struct controller *c, size_t pi, int64_t at,
             int64_t *expires_at, long *rule, struct vaern_msg *msg)
{
	const struct policy *p = c->policy;
	const struct policy_purpose *pp = &p->purposes[pi];

	*expires_at = INT64_MIN;
	*rule = -1;
	for (size_t k = 0; k < pp->ncategories; k++) {
		struct retention_result r;
		size_t ci = pp->categories[k];

		if (retention_fact_expiry(p, ci, at, NULL, 0, &r) != VAERN_OK)
			return vaern_fail(msg, VAERN_E_DENIED,
			                  "category '%s': no retention rule "
			                  "holds it: nothing is stored",
			                  p->categories[ci].id);
		/* AURA-RET-1: kept at most the rule's period; a rule that
		 * waits for an event would keep a visitor's data for ever. */
		if (r.expires_at == RETENTION_NEVER)
			return vaern_fail(
			        msg, VAERN_E_DENIED,
			        "the policy of '%s' gives category '%s' of "
			        "purpose '%s' no retention date from its "
			        "collection: rule '%s' counts from an event, "
			        "and a visitor has none; nothing is stored "
			        "(GDPR-5(1)(e); hold it by a rule with "
			        "anchor: collected)",
			        c->name, p->categories[ci].id, pp->id,
			        r.rule >= 0 ? p->retention[r.rule].id : "?");
		if (r.expires_at > *expires_at) {
			*expires_at = r.expires_at;
			*rule = r.rule;
		}
	}
	if (*rule < 0)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "purpose '%s' has no categories: nothing is "
		                  "stored",
		                  pp->id);
	return VAERN_OK;
}

/* Checks in against the policy; *pi gets the cookie purpose. */
static enum vaern_err
visit_check(const struct controller *c, const struct vault_visit_in *in,
            char ip[VAULT_IP_MAX + 1], long *pi, struct vaern_msg *msg)
{
	const struct policy *p = c->policy;
	const char *cookie;

	if (in->kind != VAULT_VISIT && in->kind != VAULT_PIXEL)
		return vaern_fail(msg, VAERN_E_INVALID, "unknown visit kind");
	cookie = in->kind == VAULT_VISIT ? "statistics" : "marketing";
	if (in->ip == NULL && in->kind == VAULT_VISIT)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "'ip' is required: an IPv4 or IPv6 address");
	if (in->ip != NULL && ip_normal(in->ip, ip) != 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "'ip' is an IPv4 or IPv6 address");
	if (in->page != NULL && !utf8_line_ok(in->page, VAULT_PAGE_MAX))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "'page' is 1 to %d bytes of text",
		                  VAULT_PAGE_MAX);
	if (in->page != NULL && id_contains_card_number(in->page))
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "'page' holds a full payment card number, "
		                  "which vaern never stores (SHOP-PAY-1)");
	*pi = policy_cookie_purpose(p, in->kind == VAULT_VISIT
	                                       ? COOKIE_STATISTICS
	                                       : COOKIE_MARKETING);
	if (*pi < 0)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "the policy of '%s' has no purpose with "
		                  "cookie: %s",
		                  c->name, cookie);
	if (in->recipient != NULL) {
		long ri = in->kind == VAULT_PIXEL
		                  ? policy_recipient_index(p, in->recipient)
		                  : -1;
		int of = 0;

		for (size_t k = 0; ri >= 0 && k < p->recipients[ri].npurposes;
		     k++)
			of |= p->recipients[ri].purposes[k] == (size_t)*pi;
		if (!of)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "'recipient': the policy has no "
			                  "recipient '%.64s' of purpose '%s'",
			                  in->recipient, p->purposes[*pi].id);
	}
	return VAERN_OK;
}

enum vaern_err
vault_visit_add(struct vault *v, const char *controller, const char *visitor,
                const struct vault_visit_in *in, struct vault_visit_done *done,
                struct vaern_msg *msg)
{
	unsigned char blind[STORE_BLIND_BYTES], key[KEY_BYTES];
	unsigned char ad[VISIT_AD_BYTES], pt[PAYLOAD_MAX];
	unsigned char ct[PAYLOAD_MAX + VLT_SEAL_OVERHEAD];
	char ip[VAULT_IP_MAX + 1], label[VAULT_RULE_MAX + 1];
	char source[STORE_LABEL_MAX + 1];
	struct controller *c;
	struct store_choice sc;
	struct store_visit sv;
	int64_t now = clock_now(), expires_at;
	size_t len = 0;
	long pi = -1, rule = -1;
	int kind = in->kind == VAULT_VISIT ? STORE_VISIT_STATISTICS
	                                   : STORE_VISIT_MARKETING;
	enum vaern_err err;

	memset(done, 0, sizeof(*done));
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK ||
	    (err = vlt_visitor_blind(v, c, visitor, blind, msg)) != VAERN_OK ||
	    (err = visit_check(c, in, ip, &pi, msg)) != VAERN_OK ||
	    (err = visit_expiry(c, (size_t)pi, now, &expires_at, &rule, msg)) !=
	            VAERN_OK)
		goto wipe;
	(void)snprintf(label, sizeof(label), "%s/%s", c->name,
	               c->policy->retention[rule].id);
	len = payload_encode(pt, in->ip != NULL ? ip : NULL, in->page,
	                     in->recipient);
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		goto wipe;
	/* The choice is read under the write lock: a withdrawal that
	 * commits first is seen, one that commits after deletes this. */
	err = store_choice_latest(v->store, c->rowid, blind, &sc, source, NULL);
	if (err == VAERN_E_NOTFOUND ||
	    (err == VAERN_OK &&
	     !(kind == STORE_VISIT_STATISTICS ? sc.statistics : sc.marketing)))
		err = vaern_fail(msg, VAERN_E_DENIED,
		                 "the visitor's latest choice has %s cookies "
		                 "off: nothing is stored (%s)",
		                 kind == STORE_VISIT_STATISTICS ? "statistics"
		                                                : "marketing",
		                 kind == STORE_VISIT_STATISTICS
		                         ? "AURA-COOKIE-1"
		                         : "SHOP-MKT-2");
	else if (err != VAERN_OK)
		err = vaern_fail(msg, err, "cookie choice: lookup failed");
	if (err == VAERN_OK)
		err = day_key(v, c->rowid, expires_at, 1, key, msg);
	if (err == VAERN_OK) {
		vlt_seal(v, ct, pt, len, ad,
		         visit_ad(ad, c->rowid, blind, kind, now, expires_at),
		         key);
		sv.id = 0;
		sv.controller = c->rowid;
		sv.visitor = blind;
		sv.kind = kind;
		sv.at = now;
		sv.expires_at = expires_at;
		sv.rule = label;
		sv.ct = ct;
		sv.ctlen = len + VLT_SEAL_OVERHEAD;
		err = store_visit_insert(v->store, &sv, msg);
	}
	if ((err = vlt_end(v, err, msg)) == VAERN_OK) {
		done->at = now;
		done->expires_at = expires_at;
		(void)snprintf(done->rule, sizeof(done->rule), "%s",
		               c->policy->retention[rule].id);
		(void)snprintf(done->purpose, sizeof(done->purpose), "%s",
		               c->policy->purposes[pi].id);
	}
wipe:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(pt, sizeof(pt));
	sodium_memzero(ip, sizeof(ip));
	return err;
}

/* ---- reading ------------------------------------------------------------- */

struct visit_walk {
	struct vault *v;
	const struct controller *c;
	struct gate_release rel;               /* what the gate released */
	unsigned char bind[STORE_BLIND_BYTES]; /* the visitor's blind */
	enum vaern_err (*fn)(void *arg, const struct vault_visit_out *o);
	void *arg;
	struct vaern_msg *msg;
	unsigned char key[KEY_BYTES];            /* the day key of key_day */
	int64_t key_day;                         /* INT64_MIN: none loaded */
	unsigned char pt[PAYLOAD_MAX + 1];       /* decrypted */
	char text[PAYLOAD_MAX + PAYLOAD_FIELDS]; /* its fields */
};

/* Whether the walk's release covers a category of the cookie purpose that
 * collects kind (CONVENTIONS.md item 13: no release, no plaintext). */
static int
kind_released(const struct visit_walk *w, int kind)
{
	const struct policy *p = w->c->policy;
	long pi = policy_cookie_purpose(p, kind == STORE_VISIT_STATISTICS
	                                           ? COOKIE_STATISTICS
	                                           : COOKIE_MARKETING);

	assert(w->rel.audit_seq > 0 && w->rel.audit_seq <= w->v->audited);
	if (pi < 0 || w->rel.audit_seq <= 0)
		return 0;
	for (size_t i = 0; i < p->purposes[pi].ncategories; i++)
		if (gate_release_allows(&w->rel, w->bind,
		                        p->purposes[pi].categories[i]))
			return 1;
	return 0;
}

static enum vaern_err
visit_open(void *arg, const struct store_visit *sv)
{
	struct visit_walk *w = arg;
	struct vault_visit_out o;
	unsigned char ad[VISIT_AD_BYTES];
	const char *field[PAYLOAD_FIELDS];
	const char *slash = strchr(sv->rule, '/');
	size_t len = 0;
	enum vaern_err err;

	if (!kind_released(w, sv->kind))
		return VAERN_OK; /* not released: never decrypted */
	if (sv->ctlen < VLT_SEAL_OVERHEAD ||
	    sv->ctlen - VLT_SEAL_OVERHEAD > PAYLOAD_MAX)
		return vaern_fail(w->msg, VAERN_E_CRYPTO,
		                  "a visit's ciphertext is malformed");
	if (w->key_day != sv->expires_at) {
		err = day_key(w->v, sv->controller, sv->expires_at, 0, w->key,
		              w->msg);
		if (err == VAERN_E_NOTFOUND)
			return vaern_fail(w->msg, VAERN_E_CRYPTO,
			                  "a visit's day key is missing");
		if (err != VAERN_OK)
			return err;
		w->key_day = sv->expires_at;
	}
	err = vlt_unseal(w->pt, sv->ct, sv->ctlen, ad,
	                 visit_ad(ad, sv->controller, sv->visitor, sv->kind,
	                          sv->at, sv->expires_at),
	                 w->key, &len, w->msg);
	if (err != VAERN_OK)
		return err;
	if (payload_decode(w->pt, len, w->text, field) != 0) {
		err = vaern_fail(w->msg, VAERN_E_CRYPTO,
		                 "a visit's payload is malformed");
		goto done;
	}
	o.kind = sv->kind == STORE_VISIT_STATISTICS ? VAULT_VISIT : VAULT_PIXEL;
	o.at = sv->at;
	o.expires_at = sv->expires_at;
	o.rule = slash != NULL ? slash + 1 : sv->rule;
	o.ip = field[0];
	o.page = field[1];
	o.recipient = field[2];
	err = w->fn(w->arg, &o);
done:
	sodium_memzero(w->pt, sizeof(w->pt));
	sodium_memzero(w->text, sizeof(w->text));
	return err;
}

enum vaern_err
vault_visit_foreach(struct vault *v, const struct vault_actor *actor,
                    const char *visitor,
                    enum vaern_err (*fn)(void *arg,
                                         const struct vault_visit_out *o),
                    void *arg, struct vaern_msg *msg)
{
	unsigned char blind[STORE_BLIND_BYTES];
	struct controller *c;
	struct visit_walk *w = NULL;
	struct gate_request r;
	struct gate_state gs;
	struct gate_decision d;
	size_t *wanted = NULL, *released = NULL, n = 0;
	const struct policy *p;
	enum vaern_err err;
	size_t rl;

	if ((err = vlt_controller(v, actor->controller, &c, msg)) != VAERN_OK ||
	    (err = vlt_visitor_blind(v, c, visitor, blind, msg)) != VAERN_OK)
		return err;
	p = c->policy;
	if (vlt_gate_role(p, actor, &rl) != 0)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "role '%s' is no longer in the policy",
		                  actor->role);
	wanted = calloc(p->ncategories + 1, sizeof(*wanted));
	released = calloc(p->ncategories + 1, sizeof(*released));
	/* Guarded memory for the key and the decrypted payload. */
	w = sodium_malloc(sizeof(*w));
	if (wanted == NULL || released == NULL || w == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	memset(w, 0, sizeof(*w));
	for (int k = COOKIE_STATISTICS; k <= COOKIE_MARKETING; k++) {
		long pi = policy_cookie_purpose(p, (enum policy_cookie)k);

		for (size_t i = 0; pi >= 0 && i < p->purposes[pi].ncategories;
		     i++)
			wanted[n++] = p->purposes[pi].categories[i];
	}
	memset(&r, 0, sizeof(r));
	memset(&gs, 0, sizeof(gs));
	r.role = rl;
	r.action = GATE_ANSWER;
	r.recipient = -1;
	r.categories = n > 0 ? wanted : NULL;
	r.ncategories = n;
	if (n == 0) {
		/* No cookie purpose: nothing can be stored, nothing to read;
		 * still decided and audited. */
		r.categories = NULL;
	}
	memcpy(w->bind, blind, sizeof(blind));
	if ((err = vlt_gate(v, c, NULL, blind, actor->name, actor->role, &r,
	                    &gs, NULL, "visitor_visits",
	                    "a visitor's stored visits and pixels", &d,
	                    released, &w->rel, msg)) != VAERN_OK)
		goto done;
	w->v = v;
	w->c = c;
	w->fn = fn;
	w->arg = arg;
	w->msg = msg;
	w->key_day = INT64_MIN;
	err = store_visit_foreach(v->store, c->rowid, blind, visit_open, w,
	                          msg);
done:
	sodium_free(w); /* wipes it */
	free(wanted);
	free(released);
	return err;
}
