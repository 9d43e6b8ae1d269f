/*
 * vault_requests.c -- rights requests (issue 5): registration, the legal
 * deadline and its one extension (GDPR-12), identity verification by a
 * one-time code or a staff attestation (AOPT-ACCESS-1), status changes,
 * each one transaction and each audited without personal data; scoped by
 * controller (AURA-RIGHTS-1). Executing a verified request: erasure
 * (GDPR-17), rectification (GDPR-16), restriction and its lifting
 * (GDPR-18), objection to direct marketing (GDPR-21), consent withdrawal
 * (GDPR-7), each through the vault calls the direct API uses, in one
 * transaction with the request's transition; and the authority a verified
 * access or portability request gives to release its report
 * (vault_report.c renders nothing: src/report does).
 *
 * The rules (deadline arithmetic, which status follows which) are in
 * src/rights; this file stores and audits.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../calendar/calendar.h"
#include "../common/utf8.h"
#include "../retention/retention.h"
#include "vault_internal.h"

#define KDF_CTX_CODE   "vaerncod" /* the key that hashes one-time codes */
#define CODE_HASH      32
#define PURPOSE        "rights_request" /* the audit entries' purpose */
#define MESSAGE_MAX    4096             /* bytes of one spooled message */
#define SPOOL_NAME_MAX 128
#define AUDIT_CATS_MAX 1024 /* categories named in the audit */
#define AUDIT_WHY_MAX  480  /* bytes of an audit reason (< AUDIT_TEXT_MAX) */

static const char *const channels[] = {"email", "letter",  "phone",
                                       "web",   "portal",  "in_person",
                                       "api",   "opendsr", NULL};

void
vault_set_outbox(struct vault *v, vault_outbox_fn fn, void *arg)
{
	v->outbox_fn = fn;
	v->outbox_arg = arg;
}

/* A UUID in lower-case text: 8-4-4-4-12 hex digits. */
static int
uuid_ok(const char *id)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == '-' ? id[i] != '-'
		                    : !((id[i] >= '0' && id[i] <= '9') ||
		                        (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	}
	return id[i] == '\0';
}

static void
uuid_new(char out[VAULT_REQUEST_ID_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t o = 0;

	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0xf];
	}
	out[o] = '\0';
}

static void
word_copy(char *dst, size_t size, const char *src)
{
	(void)snprintf(dst, size, "%s", src != NULL ? src : "");
}

/* store row -> vault view. */
static enum vaern_err
request_out(const struct store_request *s, struct vault_request *r,
            struct vaern_msg *msg)
{
	struct vaern_msg why = {{0}};

	memset(r, 0, sizeof(*r));
	word_copy(r->id, sizeof(r->id), s->id);
	if (rights_type_parse(s->type, &r->type, &why) != VAERN_OK ||
	    rights_status_parse(s->status, &r->status, &why) != VAERN_OK)
		return vaern_fail(msg, VAERN_E_STORE,
		                  "request %s: malformed row: %s", s->id,
		                  why.text);
	memcpy(r->subject, s->subject, VAULT_UID_BYTES);
	word_copy(r->channel, sizeof(r->channel), s->channel);
	r->received_at = s->received_at;
	r->due_original = rights_due(cal_day_of(s->received_at));
	r->due = s->due;
	r->extended_months = s->extended_months;
	word_copy(r->extension_reason, sizeof(r->extension_reason),
	          s->extension_reason);
	r->extended_at =
	        s->extended_at == STORE_NO_TIME ? INT64_MIN : s->extended_at;
	word_copy(r->status_reason, sizeof(r->status_reason), s->status_reason);
	r->verified_at =
	        s->verified_at == STORE_NO_TIME ? INT64_MIN : s->verified_at;
	word_copy(r->verified_by, sizeof(r->verified_by), s->verified_by);
	word_copy(r->verify_method, sizeof(r->verify_method), s->verify_method);
	word_copy(r->attestation, sizeof(r->attestation), s->attestation);
	word_copy(r->created_by, sizeof(r->created_by), s->created_by);
	r->updated_at = s->updated_at;
	return VAERN_OK;
}

/* One audit entry per transition: ids, statuses and the clause only --
 * never a reason, an attestation, a code or an address (they may hold
 * personal data). categories (ids, or NULL) are those acted on. */
static void
request_event(struct vault_audit_event *e, const char *controller,
              const struct vault_request_actor *who, const char *action,
              const unsigned char *uid, const char *categories, int allowed,
              const char *rule, const char *reason)
{
	memset(e, 0, sizeof(*e));
	e->controller = controller;
	e->actor = who->name;
	e->role = who->role;
	e->purpose = PURPOSE;
	e->action = action;
	e->subject = uid;
	e->categories = categories != NULL && categories[0] ? categories : NULL;
	e->allowed = allowed;
	e->rule = rule;
	e->reason = reason;
}

static enum vaern_err
audit_categories(struct vault *v, const char *controller,
                 const struct vault_request_actor *who, const char *action,
                 const unsigned char *uid, const char *categories, int allowed,
                 const char *rule, const char *reason, struct vaern_msg *msg)
{
	struct vault_audit_event e;

	request_event(&e, controller, who, action, uid, categories, allowed,
	              rule, reason);
	return v->audit_fn(v->audit_arg, &e, msg);
}

static enum vaern_err
need_audit(struct vault *v, const struct vault_request_actor *who,
           struct vaern_msg *msg)
{
	if (v->audit_fn == NULL)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "no audit trail is attached: a request is "
		                  "not changed without an audit entry");
	if (who->name == NULL || who->role == NULL)
		return vaern_fail(msg, VAERN_E_INVALID, "no actor");
	return VAERN_OK;
}

/* Loads controller and request; VAERN_E_NOTFOUND names neither value. */
static enum vaern_err
request_load(struct vault *v, const char *controller, const char *id,
             struct controller **c, struct store_request *s,
             struct vaern_msg *msg)
{
	enum vaern_err err;

	if ((err = vlt_controller(v, controller, c, msg)) != VAERN_OK)
		return err;
	if (!uuid_ok(id))
		return vaern_fail(msg, VAERN_E_NOTFOUND, "no such request");
	err = store_request_get(v->store, (*c)->rowid, id, s, msg);
	if (err == VAERN_E_NOTFOUND)
		return vaern_fail(msg, VAERN_E_NOTFOUND,
		                  "no such request of controller '%s'",
		                  controller);
	return err;
}

/* Writes s and its transition from -> s->status in the open transaction. */
static enum vaern_err
request_write(struct vault *v, struct store_request *s, const char *from,
              const struct vault_request_actor *who, const char *reason,
              struct vaern_msg *msg)
{
	struct store_transition t;
	enum vaern_err err;

	s->updated_at = clock_now();
	t.seq = 0;
	t.at = s->updated_at;
	t.from = from;
	t.to = s->status;
	t.actor = who->name;
	t.reason = reason;
	if (from != NULL &&
	    (err = store_request_update(v->store, s, msg)) != VAERN_OK)
		return err;
	return store_transition_insert(v->store, s->rowid, &t, msg);
}

/* Commits a transition and audits it. */
static enum vaern_err
request_commit(struct vault *v, const char *controller,
               const struct controller *c, struct store_request *s,
               const char *from, const struct vault_request_actor *who,
               const char *reason, const char *rule, struct vault_request *out,
               struct vaern_msg *msg)
{
	struct vault_audit_event e;
	enum vaern_err err;
	char action[64], why[160];

	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = request_write(v, s, from, who, reason, msg);
	(void)snprintf(action, sizeof(action), "request_%s", s->status);
	(void)snprintf(why, sizeof(why), "request %s (%s): %s -> %s", s->id,
	               s->type, from != NULL ? from : "new", s->status);
	request_event(&e, controller, who, action, s->subject, NULL, 1, rule,
	              why);
	if ((err = vlt_change_end(v, err, &e, msg)) != VAERN_OK)
		return err;
	/* GDPR-12: an extension, a completion, a refusal is told. */
	if ((err = vlt_request_notify(v, controller, c, s, who, NULL, msg)) !=
	    VAERN_OK)
		return err;
	return request_out(s, out, msg);
}

enum vaern_err
vault_request_add(struct vault *v, const char *controller,
                  const struct vault_request_in *in,
                  const struct vault_request_actor *who,
                  struct vault_request *out, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_subject subj;
	struct store_request s;
	enum rights_type type;
	enum vaern_err err;
	int64_t now = clock_now();
	char accepted[128], scope[STORE_SCOPE_MAX];
	size_t i;

	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if (in->type == NULL)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a request needs its type");
	if ((err = rights_type_parse(in->type, &type, msg)) != VAERN_OK)
		return err;
	if (in->channel == NULL)
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "a request needs its channel (email, letter, "
		        "phone, web, portal, in_person, api, opendsr)");
	for (i = 0; channels[i] != NULL; i++) {
		if (strcmp(channels[i], in->channel) == 0)
			break;
	}
	if (channels[i] == NULL)
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "unknown channel '%.32s' (email, letter, phone, "
		        "web, portal, in_person, api, opendsr)",
		        in->channel);
	if (in->received_at != INT64_MIN && in->received_at > now)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the time of receipt lies in the future");
	if (in->id != NULL && !uuid_ok(in->id))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a request id is a UUID in lower-case hex");
	/* AURA-RIGHTS-1: the subject must be one of this controller's. */
	if (in->subject == NULL)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a request needs its subject");
	err = vlt_subject(v, controller, in->subject, &c, &subj, msg);
	if (err == VAERN_E_NOTFOUND)
		return vaern_fail(msg, VAERN_E_NOTFOUND,
		                  "no such subject of controller '%s'",
		                  controller);
	if (err != VAERN_OK)
		return err;
	/* AOPT-ACCESS-1: the policy says by which channels each right is
	 * accepted ("written" means written). */
	if (!policy_request_channel_ok(c->policy, rights_type_name(type),
	                               in->channel, accepted, sizeof(accepted)))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "channel: the policy of '%s' accepts %s "
		                  "requests only by %s, not by %s "
		                  "(AOPT-ACCESS-1)",
		                  controller, rights_type_name(type), accepted,
		                  in->channel);
	if ((err = vlt_scope_build(c->policy, in->categories, in->ncategories,
	                           scope, sizeof(scope), msg)) != VAERN_OK)
		return err;
	memset(&s, 0, sizeof(s));
	s.controller = c->rowid;
	if (in->id != NULL)
		word_copy(s.id, sizeof(s.id), in->id);
	else
		uuid_new(s.id);
	word_copy(s.type, sizeof(s.type), rights_type_name(type));
	memcpy(s.subject, in->subject, VAULT_UID_BYTES);
	word_copy(s.channel, sizeof(s.channel), in->channel);
	s.received_at = in->received_at == INT64_MIN ? now : in->received_at;
	s.due = rights_due(cal_day_of(s.received_at)); /* GDPR-12 */
	s.extended_at = STORE_NO_TIME;
	s.verified_at = STORE_NO_TIME;
	word_copy(s.status, sizeof(s.status),
	          rights_status_name(RIGHTS_RECEIVED));
	word_copy(s.created_by, sizeof(s.created_by), who->name);
	s.updated_at = now;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_request_insert(v->store, &s, msg);
	if (err == VAERN_E_EXISTS)
		err = vaern_fail(msg, VAERN_E_EXISTS,
		                 "a request with this id already exists");
	if (err == VAERN_OK && scope[0] != '\0')
		err = store_request_scope_put(v->store, s.rowid, scope, msg);
	if (err == VAERN_OK)
		err = request_write(v, &s, NULL, who, NULL, msg);
	{
		struct vault_audit_event e;
		char why[160];

		(void)snprintf(why, sizeof(why), "request %s (%s) received",
		               s.id, s.type);
		request_event(&e, controller, who, "request_received",
		              s.subject, NULL, 1, "GDPR-12", why);
		if ((err = vlt_change_end(v, err, &e, msg)) != VAERN_OK)
			return err;
	}
	/* GDPR-12: the person is told it arrived and by when it is
	 * answered. */
	if ((err = vlt_request_notify(v, controller, c, &s, who, NULL, msg)) !=
	    VAERN_OK)
		return err;
	return request_out(&s, out, msg);
}

enum vaern_err
vault_request_get(struct vault *v, const char *controller, const char *id,
                  struct vault_request *out, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_request s;
	enum vaern_err err;

	if ((err = request_load(v, controller, id, &c, &s, msg)) != VAERN_OK)
		return err;
	return request_out(&s, out, msg);
}

struct request_walk {
	enum vaern_err (*fn)(void *arg, const struct vault_request *r);
	void *arg;
	struct vaern_msg *msg;
};

static enum vaern_err
request_each(void *arg, const struct store_request *s)
{
	struct request_walk *w = arg;
	struct vault_request r;
	enum vaern_err err;

	if ((err = request_out(s, &r, w->msg)) != VAERN_OK)
		return err;
	return w->fn(w->arg, &r);
}

enum vaern_err
vault_request_foreach(struct vault *v, const char *controller, long due_by,
                      int open_only,
                      enum vaern_err (*fn)(void *arg,
                                           const struct vault_request *r),
                      void *arg, struct vaern_msg *msg)
{
	struct controller *c;
	struct request_walk w = {fn, arg, msg};
	enum vaern_err err;

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	return store_request_foreach(v->store, c->rowid, due_by, open_only,
	                             request_each, &w, msg);
}

struct transition_walk {
	enum vaern_err (*fn)(void *arg, const struct vault_transition *t);
	void *arg;
};

static enum vaern_err
transition_each(void *arg, const struct store_transition *s)
{
	struct transition_walk *w = arg;
	struct vault_transition t = {s->at, s->from, s->to, s->actor,
	                             s->reason};

	return w->fn(w->arg, &t);
}

enum vaern_err
vault_request_transitions(
        struct vault *v, const char *controller, const char *id,
        enum vaern_err (*fn)(void *arg, const struct vault_transition *t),
        void *arg, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_request s;
	struct transition_walk w = {fn, arg};
	enum vaern_err err;

	if ((err = request_load(v, controller, id, &c, &s, msg)) != VAERN_OK)
		return err;
	return store_transition_foreach(v->store, s.rowid, transition_each, &w,
	                                msg);
}

enum vaern_err
vault_request_set_status(struct vault *v, const char *controller,
                         const char *id, enum rights_status to,
                         const char *reason,
                         const struct vault_request_actor *who,
                         struct vault_request *out, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_request s;
	enum rights_status from;
	enum vaern_err err;
	char was[STORE_WORD_MAX + 1];

	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if (to == RIGHTS_VERIFIED)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a request is verified by a code or a staff "
		                  "attestation, not by setting its status "
		                  "(AOPT-ACCESS-1)");
	if (to == RIGHTS_EXTENDED)
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "a deadline is extended with its reason and "
		        "months, not by setting the status (GDPR-12)");
	if (to == RIGHTS_REFUSED && (reason == NULL || reason[0] == '\0'))
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "a refusal needs its reason: it is told to the "
		        "person (GDPR-12)");
	if (reason != NULL && reason[0] != '\0' &&
	    !utf8_line_ok(reason, VAULT_REQUEST_TEXT_MAX))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a reason is 1 to %d bytes of UTF-8 text "
		                  "without control characters",
		                  VAULT_REQUEST_TEXT_MAX);
	if ((err = request_load(v, controller, id, &c, &s, msg)) != VAERN_OK)
		return err;
	if ((err = rights_status_parse(s.status, &from, msg)) != VAERN_OK)
		return err;
	if ((err = rights_transition(from, to, s.verified_at != STORE_NO_TIME,
	                             msg)) != VAERN_OK)
		return err;
	word_copy(was, sizeof(was), s.status);
	word_copy(s.status, sizeof(s.status), rights_status_name(to));
	if (reason != NULL && reason[0] != '\0')
		word_copy(s.status_reason, sizeof(s.status_reason), reason);
	return request_commit(v, controller, c, &s, was, who, reason, "GDPR-12",
	                      out, msg);
}

enum vaern_err
vault_request_extend(struct vault *v, const char *controller, const char *id,
                     int months, const char *reason,
                     const struct vault_request_actor *who,
                     struct vault_request *out, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_request s;
	enum rights_status from;
	enum vaern_err err;
	char was[STORE_WORD_MAX + 1];

	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if (!utf8_line_ok(reason, VAULT_REQUEST_TEXT_MAX))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "an extension needs its reason, told to the "
		                  "person: 1 to %d bytes of UTF-8 text without "
		                  "control characters (GDPR-12)",
		                  VAULT_REQUEST_TEXT_MAX);
	if ((err = request_load(v, controller, id, &c, &s, msg)) != VAERN_OK)
		return err;
	if ((err = rights_status_parse(s.status, &from, msg)) != VAERN_OK)
		return err;
	if ((err = rights_extension_check(from, s.extended_months > 0, months,
	                                  cal_day_of(s.received_at),
	                                  clock_today(), msg)) != VAERN_OK ||
	    (err = rights_transition(from, RIGHTS_EXTENDED,
	                             s.verified_at != STORE_NO_TIME, msg)) !=
	            VAERN_OK)
		return err;
	word_copy(was, sizeof(was), s.status);
	word_copy(s.status, sizeof(s.status),
	          rights_status_name(RIGHTS_EXTENDED));
	s.extended_months = months;
	s.extended_at = clock_now();
	s.due = rights_due_extended(cal_day_of(s.received_at), months);
	word_copy(s.extension_reason, sizeof(s.extension_reason), reason);
	return request_commit(v, controller, c, &s, was, who, reason, "GDPR-12",
	                      out, msg);
}

/* Marks s verified by method, moving it to verified. */
static enum vaern_err
verify_prepare(struct store_request *s, const char *method,
               const char *attestation, const struct vault_request_actor *who,
               char was[STORE_WORD_MAX + 1], struct vaern_msg *msg)
{
	enum rights_status from;
	enum vaern_err err;

	if ((err = rights_status_parse(s->status, &from, msg)) != VAERN_OK ||
	    (err = rights_transition(from, RIGHTS_VERIFIED,
	                             s->verified_at != STORE_NO_TIME, msg)) !=
	            VAERN_OK)
		return err;
	word_copy(was, STORE_WORD_MAX + 1, s->status);
	word_copy(s->status, sizeof(s->status),
	          rights_status_name(RIGHTS_VERIFIED));
	s->verified_at = clock_now();
	word_copy(s->verified_by, sizeof(s->verified_by), who->name);
	word_copy(s->verify_method, sizeof(s->verify_method), method);
	word_copy(s->attestation, sizeof(s->attestation), attestation);
	return VAERN_OK;
}

enum vaern_err
vault_request_attest(struct vault *v, const char *controller, const char *id,
                     const char *method, const struct vault_request_actor *who,
                     struct vault_request *out, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_request s;
	enum vaern_err err;
	char was[STORE_WORD_MAX + 1];

	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if (!utf8_line_ok(method, VAULT_REQUEST_TEXT_MAX))
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "an attestation says how the identity was "
		        "verified: 1 to %d bytes of UTF-8 text without "
		        "control characters",
		        VAULT_REQUEST_TEXT_MAX);
	if ((err = request_load(v, controller, id, &c, &s, msg)) != VAERN_OK ||
	    (err = verify_prepare(&s, "attestation", method, who, was, msg)) !=
	            VAERN_OK)
		return err;
	return request_commit(v, controller, c, &s, was, who,
	                      "staff attestation", "AOPT-ACCESS-1", out, msg);
}

/* ---- one-time codes (AOPT-ACCESS-1) ------------------------------------ */

/* keyed BLAKE2b(request id || code) under a key derived per controller
 * from the index root (the master key before issue 13): the stored hash cannot
 * be searched without it. */
static void
code_hash(struct vault *v, const struct controller *c, const char *id,
          const char *code, unsigned char out[CODE_HASH])
{
	unsigned char key[KEY_BYTES];
	crypto_generichash_state st;

	crypto_kdf_derive_from_key(key, sizeof(key), (uint64_t)c->rowid,
	                           KDF_CTX_CODE, keys_ring_root(v->ring));
	crypto_generichash_init(&st, key, sizeof(key), CODE_HASH);
	crypto_generichash_update(&st, (const unsigned char *)id, strlen(id));
	crypto_generichash_update(&st, (const unsigned char *)":", 1);
	crypto_generichash_update(&st, (const unsigned char *)code,
	                          strlen(code));
	crypto_generichash_final(&st, out, CODE_HASH);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&st, sizeof(st));
}

/* Finds the first e-mail and phone fact of the subject. */
struct contact_find {
	const struct policy *p;
	char email[ID_NORM_MAX], phone[ID_NORM_MAX];
	enum id_type want; /* the answer: ID_EMAIL or ID_PHONE */
	const char *value; /* the answer: email or phone */
};

static enum vaern_err
contact_each(void *arg, const struct vault_fact_out *f)
{
	struct contact_find *cf = arg;
	long ci = policy_category_index(cf->p, f->category);
	char *to;

	if (ci < 0)
		return VAERN_OK;
	switch (cf->p->categories[ci].identifier) {
	case ID_EMAIL: to = cf->email; break;
	case ID_PHONE: to = cf->phone; break;
	default: return VAERN_OK;
	}
	if (to[0] != '\0' || f->len >= ID_NORM_MAX)
		return VAERN_OK;
	memcpy(to, f->value, f->len);
	to[f->len] = '\0';
	return VAERN_OK;
}

/*
 * The address a one-time code for request rid goes to (AOPT-ACCESS-1):
 * read through the gate like every release (the vault itself reads, for
 * the outbox; the address never reaches the caller), the e-mail and phone
 * categories only, audited before anything is decrypted.
 */
static enum vaern_err
contact_of(struct vault *v, const struct controller *c, const char *rid,
           const unsigned char *uid, enum id_type want,
           const struct vault_request_actor *who, const char *purpose,
           const char *what, struct contact_find *cf, struct vaern_msg *msg)
{
	enum vaern_err err;
	enum id_type order[2] = {want, ID_NONE};
	struct store_subject s;
	struct gate_request r;
	struct gate_state gs;
	struct gate_decision d;
	struct gate_release rel;
	size_t *wanted = NULL, *released = NULL, n = 0;
	const struct policy *p = c->policy;
	char extra[96];

	memset(cf, 0, sizeof(*cf));
	cf->p = p;
	if (want == ID_NONE) {
		order[0] = ID_EMAIL;
		order[1] = ID_PHONE;
	}
	err = store_subject_by_uid(v->store, c->rowid, uid, &s, msg);
	if (err == VAERN_E_NOTFOUND)
		return vaern_fail(msg, VAERN_E_NOTFOUND,
		                  "the request's subject is no longer in the "
		                  "vault");
	if (err != VAERN_OK)
		return err;
	wanted = calloc(p->ncategories + 1, sizeof(*wanted));
	released = calloc(p->ncategories + 1, sizeof(*released));
	if (wanted == NULL || released == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	for (size_t ci = 0; ci < p->ncategories; ci++)
		if (p->categories[ci].identifier == order[0] ||
		    (order[1] != ID_NONE &&
		     p->categories[ci].identifier == order[1]))
			wanted[n++] = ci;
	if (n > 0) {
		memset(&r, 0, sizeof(r));
		memset(&gs, 0, sizeof(gs));
		r.role = GATE_ROLE_OPERATOR;
		r.action = GATE_READ;
		r.categories = wanted;
		r.ncategories = n;
		r.recipient = -1;
		(void)snprintf(extra, sizeof(extra),
		               "the address for request %s's %s", rid, what);
		if ((err = vlt_gate(v, c, s.uid, s.uid, who->name, who->role,
		                    &r, &gs, purpose, "read", extra, &d,
		                    released, &rel, msg)) != VAERN_OK ||
		    (err = vlt_release_walk(v, &s, &rel, contact_each, cf, NULL,
		                            msg)) != VAERN_OK)
			goto done;
	}
	for (size_t i = 0; i < 2 && order[i] != ID_NONE; i++) {
		const char *a = order[i] == ID_EMAIL ? cf->email : cf->phone;

		if (a[0] != '\0') {
			cf->want = order[i];
			cf->value = a;
			goto done;
		}
	}
	err = vaern_fail(msg, VAERN_E_INVALID,
	                 "the subject has no %s on record to send a code "
	                 "to: verify the identity by a staff attestation",
	                 want == ID_PHONE   ? "phone number"
	                 : want == ID_EMAIL ? "e-mail address"
	                                    : "e-mail address or phone "
	                                      "number");
done:
	if (err != VAERN_OK)
		sodium_memzero(cf, sizeof(*cf));
	free(wanted);
	free(released);
	return err;
}

enum vaern_err
vlt_request_contact(struct vault *v, const struct controller *c,
                    const char *rid, const unsigned char *uid,
                    const struct vault_request_actor *who,
                    struct vlt_contact *out, struct vaern_msg *msg)
{
	struct contact_find cf;
	enum vaern_err err;

	memset(out, 0, sizeof(*out));
	err = contact_of(v, c, rid, uid, ID_NONE, who, "rights_request",
	                 "message", &cf, msg);
	if (err == VAERN_E_INVALID)
		return VAERN_OK; /* no address on record: found 0 */
	if (err != VAERN_OK)
		return err;
	(void)snprintf(out->to, sizeof(out->to), "%s", cf.value);
	out->type = cf.want == ID_PHONE ? "phone" : "email";
	out->found = 1;
	sodium_memzero(&cf, sizeof(cf));
	return VAERN_OK;
}

enum vaern_err
vault_request_send_code(struct vault *v, const char *controller, const char *id,
                        enum id_type contact,
                        const struct vault_request_actor *who,
                        struct vault_code_sent *sent, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_request s;
	struct store_code code;
	struct contact_find cf;
	struct vault_message m;
	enum rights_status status;
	enum vaern_err err;
	int64_t n = 0;
	char digits[VAULT_CODE_DIGITS + 1], body[512], expiry[21], why[160];

	memset(&cf, 0, sizeof(cf));
	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if (contact != ID_NONE && contact != ID_EMAIL && contact != ID_PHONE)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a code goes to an e-mail address or a phone "
		                  "number");
	if (v->outbox_fn == NULL)
		return vaern_fail(msg, VAERN_E_IO, "no outbox is set");
	if ((err = request_load(v, controller, id, &c, &s, msg)) != VAERN_OK ||
	    (err = rights_status_parse(s.status, &status, msg)) != VAERN_OK)
		return err;
	if (rights_status_final(status))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the request is %s: no code is sent",
		                  s.status);
	if (s.verified_at != STORE_NO_TIME)
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "the requester's identity is already verified");
	if ((err = store_code_count(v->store, s.rowid, &n, msg)) != VAERN_OK)
		return err;
	if (n >= VAULT_CODES_PER_REQUEST)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "%d codes were sent for this request: verify "
		                  "the identity by a staff attestation",
		                  VAULT_CODES_PER_REQUEST);
	if ((err = contact_of(v, c, s.id, s.subject, contact, who,
	                      "identity_verification", "one-time code", &cf,
	                      msg)) != VAERN_OK)
		return err;
	(void)snprintf(digits, sizeof(digits), "%0*u", VAULT_CODE_DIGITS,
	               (unsigned)randombytes_uniform(100000000u));
	memset(&code, 0, sizeof(code));
	code_hash(v, c, s.id, digits, code.hash);
	word_copy(code.contact, sizeof(code.contact), id_type_name(cf.want));
	code.created_at = clock_now();
	code.expires_at = code.created_at + VAULT_CODE_TTL;
	code.used_at = STORE_NO_TIME;
	cal_format_instant(code.expires_at, expiry);
	(void)snprintf(body, sizeof(body),
	               "Your code to confirm your %s request to %s is %s. "
	               "It is valid until %s and can be used once.",
	               s.type, c->policy->controller.name, digits, expiry);
	m.controller = controller;
	m.request = s.id;
	m.contact_type = code.contact;
	m.to = cf.value;
	m.title = "Your verification code";
	m.body = body;
	/* Sent first, then stored: a message that cannot be sent leaves no
	 * code behind, and no write transaction waits on an outbox (an SMTP
	 * server may take its whole timeout) holding every writer up. */
	err = v->outbox_fn(v->outbox_arg, &m, msg);
	sent->contact_type = cf.want == ID_PHONE ? "phone" : "email";
	if (err == VAERN_OK && (err = vlt_begin(v, msg)) == VAERN_OK) {
		struct vault_audit_event e;

		err = store_code_insert(v->store, s.rowid, &code, msg);
		(void)snprintf(why, sizeof(why),
		               "request %s: code %lld sent by %s", s.id,
		               (long long)code.seq, sent->contact_type);
		request_event(&e, controller, who, "request_code_sent",
		              s.subject, NULL, 1, "AOPT-ACCESS-1", why);
		err = vlt_change_end(v, err, &e, msg);
	}
	sodium_memzero(digits, sizeof(digits));
	sodium_memzero(body, sizeof(body));
	sodium_memzero(&cf, sizeof(cf));
	if (err != VAERN_OK)
		return err;
	sent->expires_at = code.expires_at;
	sent->attempts = VAULT_CODE_ATTEMPTS;
	return VAERN_OK;
}

enum vaern_err
vault_request_check_code(struct vault *v, const char *controller,
                         const char *id, const char *code,
                         const struct vault_request_actor *who,
                         struct vault_request *out, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_request s;
	struct store_code sc;
	struct vault_audit_event e;
	enum rights_status status;
	enum vaern_err err;
	unsigned char hash[CODE_HASH];
	char was[STORE_WORD_MAX + 1], why[160];
	const char *refusal = NULL;
	int64_t now = clock_now();
	size_t len = strlen(code);
	int right;

	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	for (size_t i = 0; i < len; i++) {
		if (code[i] < '0' || code[i] > '9')
			len = 0;
	}
	if (len != VAULT_CODE_DIGITS)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a code is %d decimal digits",
		                  VAULT_CODE_DIGITS);
	if ((err = request_load(v, controller, id, &c, &s, msg)) != VAERN_OK ||
	    (err = rights_status_parse(s.status, &status, msg)) != VAERN_OK)
		return err;
	if (rights_status_final(status))
		return vaern_fail(msg, VAERN_E_INVALID, "the request is %s",
		                  s.status);
	if (s.verified_at != STORE_NO_TIME)
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "the requester's identity is already verified");
	err = store_code_latest(v->store, s.rowid, &sc, msg);
	if (err != VAERN_OK)
		return err == VAERN_E_NOTFOUND ? VAERN_E_INVALID : err;
	code_hash(v, c, s.id, code, hash);
	right = sodium_memcmp(hash, sc.hash, CODE_HASH) == 0;
	sodium_memzero(hash, sizeof(hash));
	if (sc.used_at != STORE_NO_TIME)
		refusal = "the code was already used; send a new one";
	else if (now >= sc.expires_at)
		refusal = "the code has expired; send a new one";
	else if (sc.attempts >= VAULT_CODE_ATTEMPTS)
		refusal = "too many wrong codes; send a new one";
	if (refusal != NULL)
		return vaern_fail(msg, VAERN_E_DENIED, "%s (AOPT-ACCESS-1)",
		                  refusal);
	sc.attempts++;
	if (!right) {
		/* The one write of a wrong entry: its count. */
		if ((err = vlt_begin(v, msg)) != VAERN_OK)
			return err;
		err = store_code_update(v->store, s.rowid, &sc, msg);
		(void)snprintf(why, sizeof(why),
		               "request %s: wrong code, attempt %d of %d", s.id,
		               sc.attempts, VAULT_CODE_ATTEMPTS);
		request_event(&e, controller, who, "request_code_rejected",
		              s.subject, NULL, 0, "AOPT-ACCESS-1", why);
		if ((err = vlt_change_end(v, err, &e, msg)) != VAERN_OK)
			return err;
		return vaern_fail(
		        msg, VAERN_E_DENIED,
		        "wrong code; %d attempts left (AOPT-ACCESS-1)",
		        VAULT_CODE_ATTEMPTS - sc.attempts);
	}
	sc.used_at = now;
	if ((err = verify_prepare(&s, "code", NULL, who, was, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_code_update(v->store, s.rowid, &sc, msg);
	if (err == VAERN_OK)
		err = request_write(v, &s, was, who, "one-time code", msg);
	(void)snprintf(why, sizeof(why), "request %s (%s): %s -> verified",
	               s.id, s.type, was);
	request_event(&e, controller, who, "request_verified", s.subject, NULL,
	              1, "AOPT-ACCESS-1", why);
	if ((err = vlt_change_end(v, err, &e, msg)) != VAERN_OK)
		return err;
	return request_out(&s, out, msg);
}

/* ---- the spool outbox ----------------------------------------------------
 */

enum vaern_err
vault_outbox_spool(void *arg, const struct vault_message *m,
                   struct vaern_msg *msg)
{
	const char *dir = arg;
	char path[PATH_MAX], tmp[PATH_MAX], name[SPOOL_NAME_MAX];
	char stamp[21];
	struct timespec ts;
	unsigned char r[4];
	json_t *doc;
	char *text = NULL;
	enum vaern_err err = VAERN_OK;
	size_t len, off = 0;
	int fd = -1;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return vaern_fail(msg, VAERN_E_IO,
		                  "cannot create the outbox %s", dir);
	cal_format_instant(clock_now(), stamp);
	randombytes_buf(r, sizeof(r));
	/* Names sort in the order written: the (possibly set) clock, then
	 * the real time in nanoseconds. */
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)snprintf(name, sizeof(name),
	               "%s-%010lld%09ld-%s-%02x%02x%02x%02x", stamp,
	               (long long)ts.tv_sec, (long)ts.tv_nsec, m->request, r[0],
	               r[1], r[2], r[3]);
	if (snprintf(path, sizeof(path), "%s/%s.json", dir, name) >=
	            (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >=
	            (int)sizeof(tmp))
		return vaern_fail(msg, VAERN_E_IO, "outbox path too long");
	doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "controller",
	                m->controller, "request", m->request, "channel",
	                m->contact_type, "to", m->to, "title", m->title, "body",
	                m->body);
	if (doc == NULL ||
	    (text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	len = strlen(text);
	if (len > MESSAGE_MAX) {
		err = vaern_fail(msg, VAERN_E_LIMIT, "message too long");
		goto done;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) <
	    0) {
		err = vaern_fail(msg, VAERN_E_IO, "cannot write to the outbox");
		goto done;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = vaern_fail(msg, VAERN_E_IO,
			                 "cannot write to the outbox");
			goto done;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		err = vaern_fail(msg, VAERN_E_IO, "cannot write to the outbox");
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		err = vaern_fail(msg, VAERN_E_IO, "cannot write to the outbox");
done:
	if (fd >= 0)
		(void)close(fd);
	if (err != VAERN_OK)
		(void)unlink(tmp);
	if (text != NULL) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	json_decref(doc); /* the strings hold the address and the code */
	return err;
}

/* ---- JSON ---------------------------------------------------------------
 */

static json_t *
time_or_null(int64_t t)
{
	char buf[21];

	if (t == INT64_MIN)
		return json_null();
	cal_format_instant(t, buf);
	return json_string(buf);
}

static json_t *
text_or_null(const char *t)
{
	return t[0] != '\0' ? json_string(t) : json_null();
}

json_t *
vault_request_json(const char *controller, const struct vault_request *r,
                   long today)
{
	char uid[VAULT_UID_HEX], due[11], due0[11];
	int open = !rights_status_final(r->status);

	vault_uid_format(r->subject, uid);
	cal_format_date(r->due, due);
	cal_format_date(r->due_original, due0);
	return json_pack(
	        "{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:b, s:I, s:o, s:b,"
	        " s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o}",
	        "id", r->id, "controller", controller, "type",
	        rights_type_name(r->type), "subject", uid, "channel",
	        r->channel, "received_at", time_or_null(r->received_at),
	        "due_date", due, "due_date_original", due0, "overdue",
	        open && today > r->due, "days_left",
	        (json_int_t)(r->due - today), "extension",
	        r->extended_months > 0 ? json_pack("{s:i, s:s, s:o}", "months",
	                                           r->extended_months, "reason",
	                                           r->extension_reason, "at",
	                                           time_or_null(r->extended_at))
	                               : json_null(),
	        "verified", (int)(r->verified_at != INT64_MIN), "verified_at",
	        time_or_null(r->verified_at), "verified_by",
	        text_or_null(r->verified_by), "verify_method",
	        text_or_null(r->verify_method), "attestation",
	        text_or_null(r->attestation), "status_reason",
	        text_or_null(r->status_reason), "created_by",
	        text_or_null(r->created_by), "status",
	        rights_status_name(r->status), "updated_at",
	        time_or_null(r->updated_at));
}

/* ---- executing an erasure (GDPR-17, AOPT-ERASE-1) ------------------------
 */

#define ERASE_EVENTS_MAX 256  /* events of the subject considered */
#define KEEP_SCOPE       1    /* keep[]: a fact the request does not concern */
#define KEEP_LAW         2    /* keep[]: a fact a legal obligation keeps */
#define ERASE_FACTS_MAX  4096 /* facts of one subject erased at once */

struct erase_fact {
	int64_t id;
	int64_t collected_at;
	long category;   /* index into the policy; -1: no longer in it */
	int64_t until;   /* kept: the legal rule's expiry (the sweep's) */
	long legal_rule; /* kept: the legal rule deciding until */
};

struct erase_walk {
	const struct policy *p;
	struct retention_event ev[ERASE_EVENTS_MAX];
	size_t nev;
	struct erase_fact *facts;
	size_t nfacts;
	struct vaern_msg *msg;
};

static enum vaern_err
erase_event(void *arg, const struct store_event *e)
{
	struct erase_walk *w = arg;
	long ei = policy_event_index(w->p, e->kind);

	if (ei < 0)
		return VAERN_OK;
	if (w->nev == ERASE_EVENTS_MAX) {
		memmove(w->ev, w->ev + 1,
		        (ERASE_EVENTS_MAX - 1) * sizeof(w->ev[0]));
		w->nev--;
	}
	w->ev[w->nev].event = (size_t)ei;
	w->ev[w->nev].at = e->at;
	w->nev++;
	return VAERN_OK;
}

static enum vaern_err
erase_fact_collect(void *arg, const struct store_fact *f)
{
	struct erase_walk *w = arg;

	if (w->nfacts == ERASE_FACTS_MAX)
		return vaern_fail(w->msg, VAERN_E_LIMIT,
		                  "more than %d facts in one subject",
		                  ERASE_FACTS_MAX);
	w->facts[w->nfacts].id = f->id;
	w->facts[w->nfacts].collected_at = f->collected_at;
	w->facts[w->nfacts].category = policy_category_index(w->p, f->category);
	w->nfacts++;
	return VAERN_OK;
}

/* The first legal rule holding category ci (the law it names). */
static long
legal_rule(const struct policy *p, long ci)
{
	for (size_t r = 0; r < p->nretention; r++) {
		if (p->retention[r].legal_obligation == NULL)
			continue;
		for (size_t k = 0; k < p->retention[r].ncategories; k++) {
			if (p->retention[r].categories[k] == (size_t)ci)
				return (long)r;
		}
	}
	return -1;
}

/* Decides fact by fact; fills rep->kept and marks kept facts (id < 0
 * never happens, so kept facts get category | KEEP_BIT in keep[]). */
static enum vaern_err
erase_plan(const struct policy *p, struct erase_walk *w, unsigned char *keep,
           struct vault_erasure *rep, int64_t now, struct vaern_msg *msg)
{
	for (size_t i = 0; i < w->nfacts; i++) {
		struct retention_result r;
		long ci = w->facts[i].category, lr;
		size_t k;

		keep[i] = 0;
		if (ci < 0)
			continue;
		if (retention_fact_expiry(p, (size_t)ci,
		                          w->facts[i].collected_at, w->ev,
		                          w->nev, &r) != VAERN_OK)
			continue; /* no rule holds it: nothing keeps it */
		/* GDPR-17(3)(b): kept while a legal obligation runs. */
		if (!r.legal || r.legal_until == INT64_MIN ||
		    (r.legal_until != RETENTION_NEVER && r.legal_until <= now))
			continue;
		keep[i] = KEEP_LAW;
		/* AOPT-ERASE-1: only the law keeps it now, so its date is
		 * the legal rule's, and the sweep's. */
		w->facts[i].until = r.legal_until;
		w->facts[i].legal_rule = r.legal_rule;
		lr = r.legal_rule >= 0 ? r.legal_rule : legal_rule(p, ci);
		for (k = 0; k < rep->nkept; k++) {
			if (strcmp(rep->kept[k].category,
			           p->categories[ci].id) == 0)
				break;
		}
		if (k == rep->nkept) {
			if (rep->nkept == VAULT_ERASE_KEPT_MAX)
				return vaern_fail(msg, VAERN_E_LIMIT,
				                  "too many categories kept");
			rep->nkept++;
			word_copy(rep->kept[k].category,
			          sizeof(rep->kept[k].category),
			          p->categories[ci].id);
			rep->kept[k].law =
			        lr >= 0 ? p->retention[lr].legal_obligation
			                : "";
			word_copy(rep->kept[k].rule, sizeof(rep->kept[k].rule),
			          lr >= 0 ? p->retention[lr].id : "");
			rep->kept[k].until = INT64_MIN;
		}
		rep->kept[k].facts++;
		if (r.legal_until != RETENTION_NEVER &&
		    (rep->kept[k].until == INT64_MIN ||
		     r.legal_until > rep->kept[k].until))
			rep->kept[k].until = r.legal_until;
	}
	return VAERN_OK;
}

/* AURA-RIGHTS-1: a request that names the data it concerns erases only
 * that; the rest is kept as it is (rep->not_concerned). */
static enum vaern_err
erase_scope(struct vault *v, const struct policy *p, int64_t request,
            const struct erase_walk *w, unsigned char *keep,
            struct vault_erasure *rep, struct vaern_msg *msg)
{
	char scope[STORE_SCOPE_MAX];
	enum vaern_err err;

	if ((err = vlt_scope_read(v, request, scope, sizeof(scope), msg)) ||
	    scope[0] == '\0')
		return err;
	for (size_t i = 0; i < w->nfacts; i++) {
		long ci = w->facts[i].category;

		/* A category gone from the policy is erased as before. */
		if (keep[i] || ci < 0 ||
		    vlt_scope_has(scope, p->categories[ci].id))
			continue;
		keep[i] = KEEP_SCOPE;
		rep->not_concerned++;
	}
	return VAERN_OK;
}

/* The answer told to the person, as the completed request's reason. */
static void
erase_reason(const struct vault_erasure *rep, char *out, size_t size)
{
	size_t len;

	(void)snprintf(out, size, "erased %zu facts%s", rep->erased,
	               rep->shredded ? "; nothing kept"
	               : rep->nkept  ? "; kept:"
	                             : "");
	if (rep->not_concerned > 0) {
		len = strlen(out);
		(void)snprintf(out + len, size - len,
		               "; %zu facts the request does not concern left "
		               "as they are",
		               rep->not_concerned);
	}
	for (size_t k = 0; k < rep->nkept; k++) {
		char until[11] = "";

		len = strlen(out);
		if (rep->kept[k].until != INT64_MIN)
			cal_format_date(cal_day_of(rep->kept[k].until), until);
		(void)snprintf(out + len, size - len, "%s %s until %s (%s)",
		               k ? ";" : "", rep->kept[k].category,
		               until[0] ? until : "its retention starts",
		               rep->kept[k].law);
	}
}

/* Deletes what is not kept, inside the caller's transaction. */
static enum vaern_err
erase_write(struct vault *v, const struct controller *c,
            const struct store_subject *subj, const struct erase_walk *w,
            const unsigned char *keep, struct vault_erasure *rep,
            struct vaern_msg *msg)
{
	unsigned char blinds[STORE_BLINDS_MAX];
	size_t nb = 0;
	unsigned types = 0; /* identifier types of kept facts */
	int partial = rep->nkept > 0 || rep->not_concerned > 0;
	enum vaern_err err;

	for (size_t i = 0; i < w->nfacts; i++) {
		if (keep[i]) {
			char label[VAULT_RULE_MAX + 1];
			const struct erase_fact *f = &w->facts[i];

			types |= 1u << c->policy->categories[f->category]
			                       .identifier;
			if (keep[i] != KEEP_LAW)
				continue; /* not concerned: as it was */
			(void)snprintf(label, sizeof(label), "%s/%s", c->name,
			               c->policy->retention[f->legal_rule].id);
			if ((err = store_fact_set_expiry(
			             v->store, subj->rowid, f->id,
			             f->until == RETENTION_NEVER ? STORE_NO_TIME
			                                         : f->until,
			             label, msg)) != VAERN_OK)
				return err;
			continue;
		}
		if (partial &&
		    (err = store_fact_delete(v->store, subj->rowid,
		                             w->facts[i].id, msg)) != VAERN_OK)
			return err;
		rep->erased++;
	}
	for (size_t k = 0; k + 1 + STORE_BLIND_BYTES <= subj->blinds_len;
	     k += 1 + STORE_BLIND_BYTES) {
		if (partial && (types & (1u << subj->blinds[k]))) {
			memcpy(blinds + nb, subj->blinds + k,
			       1 + STORE_BLIND_BYTES);
			nb += 1 + STORE_BLIND_BYTES;
			continue;
		}
		if ((err = store_identifier_delete(
		             v->store, c->rowid, subj->blinds[k],
		             subj->blinds + k + 1, msg)) != VAERN_OK)
			return err;
	}
	if (!partial) {
		/* GDPR-17: the wrapped key goes with the subject row. */
		rep->shredded = 1;
		return store_subject_delete(v->store, subj->rowid, msg);
	}
	if ((err = store_subject_set_blinds(v->store, subj->rowid, blinds, nb,
	                                    msg)) != VAERN_OK)
		return err;
	/* AURA-RIGHTS-1: data the request does not concern stays as it
	 * is; only what the law keeps is restricted (GDPR-18). */
	if (rep->nkept == 0)
		return VAERN_OK;
	/* GDPR-17, AOPT-ERASE-1: what the law keeps is dated by the law
	 * alone from now on (vlt_retention_recompute), and this restriction
	 * does not hold the sweep: the law's date is the sweep's. */
	return store_subject_set_state(
	        v->store, subj->rowid,
	        subj->state | STORE_STATE_RESTRICTED | STORE_STATE_ERASED, msg);
}

/*
 * Reads the subject's events and facts and decides, fact by fact, what a
 * legal obligation keeps (erase_plan). *wp and *keepp are the caller's to
 * free with erase_free, also on failure.
 */
static enum vaern_err
erase_prepare(struct vault *v, const struct controller *c,
              const struct store_subject *subj, struct erase_walk **wp,
              unsigned char **keepp, struct vault_erasure *rep,
              struct vaern_msg *msg)
{
	struct erase_walk *w;
	enum vaern_err err;

	*keepp = NULL;
	if ((*wp = w = calloc(1, sizeof(*w))) == NULL ||
	    (w->facts = calloc(ERASE_FACTS_MAX, sizeof(*w->facts))) == NULL ||
	    (*keepp = calloc(ERASE_FACTS_MAX, 1)) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	w->p = c->policy;
	w->msg = msg;
	if ((err = store_event_foreach(v->store, subj->rowid, erase_event, w,
	                               msg)) != VAERN_OK ||
	    (err = store_fact_foreach(v->store, subj->rowid, erase_fact_collect,
	                              w, msg)) != VAERN_OK)
		return err;
	return erase_plan(c->policy, w, *keepp, rep, clock_now(), msg);
}

static void
erase_free(struct erase_walk *w, unsigned char *keep)
{
	if (w != NULL)
		free(w->facts);
	free(w);
	free(keep);
}

/* The categories kept, comma-separated (ids, never values). */
static void
erase_kept_categories(const struct vault_erasure *rep, char *cats, size_t size)
{
	cats[0] = '\0';
	for (size_t k = 0; k < rep->nkept; k++) {
		size_t len = strlen(cats);

		(void)snprintf(cats + len, size - len, "%s%s", k ? "," : "",
		               rep->kept[k].category);
	}
}

/* The local operator's upkeep of the vault, audited as the CLI audits
 * the operator (purpose vault_operation; ids and counts only). */
static enum vaern_err
audit_operator(struct vault *v, const char *controller,
               const struct vault_request_actor *who, const char *action,
               const unsigned char *uid, const char *categories,
               const char *reason, struct vaern_msg *msg)
{
	struct vault_audit_event e;

	memset(&e, 0, sizeof(e));
	e.controller = controller;
	e.actor = who->name;
	e.role = who->role;
	e.purpose = "vault_operation";
	e.action = action;
	e.subject = uid;
	e.categories = categories != NULL && categories[0] ? categories : NULL;
	e.allowed = 1;
	e.rule = "GDPR-17";
	e.reason = reason;
	return v->audit_fn(v->audit_arg, &e, msg);
}

/* The reasons an operator may give for destroying what the law keeps:
 * words, never free text, as they go into the audit trail. */
static const char *const override_reasons[] = {"court_order", "authority_order",
                                               "wrong_subject",
                                               "unlawfully_collected", NULL};

enum vaern_err
vault_operator_erase(struct vault *v, const char *controller,
                     const unsigned char uid[VAULT_UID_BYTES],
                     const struct vault_request_actor *who,
                     const char *override, struct vault_erasure *rep,
                     struct vaern_msg *msg)
{
	struct controller *c;
	struct store_subject subj;
	struct erase_walk *w = NULL;
	unsigned char *keep = NULL;
	enum vaern_err err;
	char cats[AUDIT_CATS_MAX], why[AUDIT_WHY_MAX];
	size_t k;
	int held = 0;

	memset(rep, 0, sizeof(*rep));
	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if (override != NULL) {
		for (k = 0; override_reasons[k] != NULL; k++)
			if (strcmp(override_reasons[k], override) == 0)
				break;
		if (override_reasons[k] == NULL)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "--destroy-legally-kept-data: the "
			                  "reason is one "
			                  "of court_order, authority_order, "
			                  "wrong_subject, "
			                  "unlawfully_collected");
	}
	if ((err = vlt_subject(v, controller, uid, &c, &subj, msg)) != VAERN_OK)
		return err;
	/* CEK-HOLD-1: held data is never erased while the hold stands, not
	 * even by the override. */
	if ((err = vlt_subject_held(v, subj.rowid, NULL, &held, msg)) !=
	    VAERN_OK)
		goto done;
	if (held) {
		err = vaern_fail(msg, VAERN_E_DENIED,
		                 "the subject is under a legal hold "
		                 "(CEK-HOLD-1): lift the hold first");
		goto done;
	}
	if ((err = erase_prepare(v, c, &subj, &w, &keep, rep, msg)) != VAERN_OK)
		goto done;
	erase_kept_categories(rep, cats, sizeof(cats));
	if (override != NULL) {
		size_t n = 0;

		/* The loud way: everything goes, the law's share too, and
		 * the trail says so, with the reason and what the law
		 * kept, before it happens. */
		(void)snprintf(why, sizeof(why),
		               "OVERRIDE of GDPR-17(3): data kept by a legal "
		               "obligation destroyed (reason: %s; kept "
		               "categories: %.300s)",
		               override, rep->nkept ? cats : "none");
		if ((err = audit_operator(v, c->name, who, "erase_override",
		                          uid, cats, why, msg)) != VAERN_OK ||
		    (err = vault_subject_erase(v, controller, uid, &n, msg)) !=
		            VAERN_OK)
			goto done;
		memset(rep, 0, sizeof(*rep));
		rep->erased = n;
		rep->shredded = 1;
		goto done;
	}
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		goto done;
	err = erase_write(v, c, &subj, w, keep, rep, msg);
	if ((err = vlt_end(v, err, msg)) != VAERN_OK)
		goto done;
	/* The erased rows' pages leave the write-ahead log (GDPR-17). */
	if (!v->batch)
		(void)store_checkpoint(v->store, NULL);
	(void)snprintf(why, sizeof(why),
	               "erased by the local operator: %zu facts, %zu "
	               "categories kept by law",
	               rep->erased, rep->nkept);
	err = audit_operator(v, c->name, who, "erase", uid, cats, why, msg);
done:
	erase_free(w, keep);
	return err;
}

enum vaern_err
vault_request_erase(struct vault *v, const char *controller, const char *id,
                    const struct vault_request_actor *who,
                    struct vault_erasure *rep, struct vault_request *out,
                    struct vaern_msg *msg)
{
	struct controller *c;
	struct store_request s;
	struct store_subject subj;
	struct erase_walk *w = NULL;
	struct vault_audit_event e;
	unsigned char *keep = NULL;
	enum rights_status from;
	enum vaern_err err;
	int held = 0, gone = 0;
	struct vlt_contact ct = {{0}, NULL, 0};
	char was[STORE_WORD_MAX + 1], why[160], cats[AUDIT_CATS_MAX];

	memset(rep, 0, sizeof(*rep));
	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if ((err = request_load(v, controller, id, &c, &s, msg)) != VAERN_OK ||
	    (err = rights_status_parse(s.status, &from, msg)) != VAERN_OK)
		return err;
	if (strcmp(s.type, rights_type_name(RIGHTS_ERASURE)) != 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the request is a %s request, not erasure",
		                  s.type);
	if ((err = rights_transition(from, RIGHTS_COMPLETED,
	                             s.verified_at != STORE_NO_TIME, msg)) !=
	    VAERN_OK)
		return err;
	err = store_subject_by_uid(v->store, c->rowid, s.subject, &subj, msg);
	if (err == VAERN_E_NOTFOUND)
		gone = 1; /* erased before: nothing left to erase */
	else if (err != VAERN_OK)
		return err;
	if (!gone) {
		/* CEK-HOLD-1: held data is never erased while the hold
		 * stands. */
		if ((err = vlt_subject_held(v, subj.rowid, NULL, &held, msg)) !=
		    VAERN_OK)
			return err;
		if (held)
			return vaern_fail(
			        msg, VAERN_E_DENIED,
			        "the subject is under a legal hold "
			        "(CEK-HOLD-1): lift the hold first, or "
			        "refuse the request with the reason");
		/* GDPR-12: the answer goes to the address the erasure
		 * removes, read now. */
		if ((err = vlt_request_contact(v, c, s.id, s.subject, who, &ct,
		                               msg)) != VAERN_OK)
			goto done;
		if ((err = erase_prepare(v, c, &subj, &w, &keep, rep, msg)) !=
		            VAERN_OK ||
		    (err = erase_scope(v, c->policy, s.rowid, w, keep, rep,
		                       msg)) != VAERN_OK)
			goto done;
	} else {
		rep->shredded = 1;
	}
	word_copy(was, sizeof(was), s.status);
	word_copy(s.status, sizeof(s.status),
	          rights_status_name(RIGHTS_COMPLETED));
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		goto done;
	if (!gone)
		err = erase_write(v, c, &subj, w, keep, rep, msg);
	erase_reason(rep, s.status_reason, sizeof(s.status_reason));
	if (err == VAERN_OK)
		err = request_write(v, &s, was, who, s.status_reason, msg);
	erase_kept_categories(rep, cats, sizeof(cats));
	(void)snprintf(why, sizeof(why),
	               "request %s (erasure): %s -> completed; %zu facts "
	               "erased, %zu categories kept by law",
	               s.id, was, rep->erased, rep->nkept);
	/* Kept categories are ids, not values: they may be named. The entry
	 * commits with the erasure (issue 12). */
	request_event(&e, controller, who, "request_erasure", s.subject, cats,
	              1, "GDPR-17", why);
	err = vlt_change_end(v, err, &e, msg);
	/* The erased rows' pages leave the write-ahead log (GDPR-17); after
	 * the commit, whatever the hook said. */
	if (!v->batch)
		(void)store_checkpoint(v->store, NULL);
	if (err != VAERN_OK)
		goto done;
	if ((err = vlt_request_notify(v, controller, c, &s, who, &ct, msg)) !=
	    VAERN_OK)
		goto done;
	err = request_out(&s, out, msg);
done:
	erase_free(w, keep);
	vlt_contact_wipe(&ct);
	return err;
}

json_t *
vault_erasure_json(const struct vault_erasure *rep)
{
	json_t *kept = json_array();

	for (size_t k = 0; kept != NULL && k < rep->nkept; k++) {
		char until[11] = "";

		if (rep->kept[k].until != INT64_MIN)
			cal_format_date(cal_day_of(rep->kept[k].until), until);
		json_array_append_new(
		        kept,
		        json_pack("{s:s, s:I, s:s, s:s, s:s?}", "category",
		                  rep->kept[k].category, "facts",
		                  (json_int_t)rep->kept[k].facts, "law",
		                  rep->kept[k].law, "rule", rep->kept[k].rule,
		                  "until", until[0] ? until : NULL));
	}
	return json_pack("{s:I, s:b, s:o, s:I}", "erased",
	                 (json_int_t)rep->erased, "shredded", rep->shredded,
	                 "kept", kept, "not_concerned",
	                 (json_int_t)rep->not_concerned);
}

json_t *
vault_rectification_json(const struct vault_rectification *ch, size_t n)
{
	json_t *facts = json_array();

	for (size_t i = 0; facts != NULL && i < n; i++)
		json_array_append_new(facts,
		                      json_pack("{s:I, s:s}", "fact",
		                                (json_int_t)ch[i].fact,
		                                "category", ch[i].category));
	return json_pack("{s:o*}", "facts", facts);
}

json_t *
vault_objection_json(const struct policy *p)
{
	json_t *refused = json_array();

	for (size_t i = 0; refused != NULL && i < p->npurposes; i++) {
		if (p->purposes[i].direct_marketing)
			json_array_append_new(refused,
			                      json_string(p->purposes[i].id));
	}
	return json_pack("{s:b, s:o*}", "direct_marketing", 1,
	                 "purposes_refused", refused);
}

json_t *
vault_withdrawal_json(const struct vault_withdrawal *rep)
{
	json_t *list = json_array();

	for (size_t i = 0; list != NULL && i < rep->n; i++)
		json_array_append_new(
		        list,
		        json_pack("{s:s, s:o}", "purpose",
		                  rep->purposes[i].purpose, "kept_until",
		                  time_or_null(rep->purposes[i].kept_until)));
	return json_pack("{s:o*}", "purposes", list);
}

/* ---- executing the other rights (GDPR-16, GDPR-18, GDPR-21, GDPR-7) ----
 */

#define EXEC_WHAT_MAX 320 /* bytes of what an execution did, in words */

/* An execution: the request, where it goes, whose transaction. */
struct exec {
	struct controller *c;
	struct store_request s;
	struct store_subject subj;    /* the request's subject */
	enum rights_status to;        /* completed or in_progress */
	char was[STORE_WORD_MAX + 1]; /* the status before */
	int own;                      /* 1: the transaction is ours, not a
	                                 caller's batch */
};

/*
 * Loads request id for executing a right of type, and checks that it may
 * go to completed (complete) or in_progress: of that type, open, verified
 * (AOPT-ACCESS-1), its subject still in the vault. A request in progress
 * may stay there for a further step.
 */
static enum vaern_err
exec_load(struct vault *v, const char *controller, const char *id,
          enum rights_type type, int complete,
          const struct vault_request_actor *who, struct exec *x,
          struct vaern_msg *msg)
{
	enum rights_status from;
	enum vaern_err err;

	memset(x, 0, sizeof(*x));
	if ((err = need_audit(v, who, msg)) != VAERN_OK ||
	    (err = request_load(v, controller, id, &x->c, &x->s, msg)) !=
	            VAERN_OK ||
	    (err = rights_status_parse(x->s.status, &from, msg)) != VAERN_OK)
		return err;
	if (strcmp(x->s.type, rights_type_name(type)) != 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the request is a %s request, not %s",
		                  x->s.type, rights_type_name(type));
	x->to = complete ? RIGHTS_COMPLETED : RIGHTS_IN_PROGRESS;
	word_copy(x->was, sizeof(x->was), x->s.status);
	/* Only a request in progress may stay where it is. */
	if (!(from == RIGHTS_IN_PROGRESS && x->to == from) &&
	    (err = rights_transition(from, x->to,
	                             x->s.verified_at != STORE_NO_TIME, msg)) !=
	            VAERN_OK)
		return err;
	err = store_subject_by_uid(v->store, x->c->rowid, x->s.subject,
	                           &x->subj, msg);
	if (err == VAERN_E_NOTFOUND)
		return vaern_fail(msg, VAERN_E_NOTFOUND,
		                  "the request's subject is no longer in the "
		                  "vault");
	return err;
}

/* Opens the execution's transaction, or joins the caller's batch. */
static enum vaern_err
exec_begin(struct vault *v, struct exec *x, struct vaern_msg *msg)
{
	x->own = !v->batch;
	return x->own ? vault_begin(v, msg) : VAERN_OK;
}

/*
 * After the right's own writes (err): writes the request's new status
 * with its transition (or, for a further step in progress, its time), in
 * the same transaction, and ends it: committed if all went well, rolled
 * back otherwise (a caller's batch is left to the caller). reason is
 * told to the person: no personal data but what staff wrote.
 */
static enum vaern_err
exec_end(struct vault *v, struct exec *x, enum vaern_err err,
         const struct vault_request_actor *who, const char *reason,
         struct vaern_msg *msg)
{
	if (err == VAERN_OK) {
		word_copy(x->s.status, sizeof(x->s.status),
		          rights_status_name(x->to));
		if (x->to == RIGHTS_COMPLETED)
			word_copy(x->s.status_reason,
			          sizeof(x->s.status_reason), reason);
		if (strcmp(x->was, x->s.status) != 0) {
			err = request_write(v, &x->s, x->was, who, reason, msg);
		} else {
			x->s.updated_at = clock_now();
			err = store_request_update(v->store, &x->s, msg);
		}
	}
	if (!x->own)
		return err;
	if (err == VAERN_OK && (err = vault_commit(v, msg)) == VAERN_OK)
		return VAERN_OK;
	vault_rollback(v);
	return err;
}

/* The execution's audit entry: the request, its transition and what was
 * done (ids and counts), under the clause that grants the right. */
static enum vaern_err
exec_audit(struct vault *v, const char *controller,
           const struct vault_request_actor *who, const struct exec *x,
           const char *action, const char *categories, const char *rule,
           const char *what, struct vaern_msg *msg)
{
	char why[AUDIT_WHY_MAX];

	enum vaern_err err;

	(void)snprintf(why, sizeof(why), "request %s (%s): %s -> %s; %s",
	               x->s.id, x->s.type, x->was, x->s.status, what);
	if ((err = audit_categories(v, controller, who, action, x->s.subject,
	                            categories, 1, rule, why, msg)) != VAERN_OK)
		return err;
	/* GDPR-12: a completed request is told (a step in progress not). */
	return vlt_request_notify(v, controller, x->c, &x->s, who, NULL, msg);
}

/* Appends name to a comma-separated list of ids unless it is there. */
static void
list_add(char *list, size_t size, const char *name)
{
	size_t len = strlen(list), n = strlen(name);

	for (const char *p = list; *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t k = end != NULL ? (size_t)(end - p) : strlen(p);

		if (k == n && memcmp(p, name, n) == 0)
			return;
		p += k + (end != NULL);
	}
	(void)snprintf(list + len, size - len, "%s%s", len ? "," : "", name);
}

enum vaern_err
vault_request_rectify(struct vault *v, const char *controller, const char *id,
                      struct vault_rectification *changes, size_t n,
                      int complete, const struct vault_request_actor *who,
                      struct vault_request *out, struct vaern_msg *msg)
{
	struct exec x;
	enum vaern_err err;
	char cats[AUDIT_CATS_MAX] = "", what[EXEC_WHAT_MAX];
	char scope[STORE_SCOPE_MAX];

	if ((err = exec_load(v, controller, id, RIGHTS_RECTIFICATION, complete,
	                     who, &x, msg)) != VAERN_OK)
		return err;
	if (n == 0 || n > VAULT_RECTIFY_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a rectification names 1 to %d facts, each "
		                  "with its new value",
		                  VAULT_RECTIFY_MAX);
	if ((err = vlt_scope_read(v, x.s.rowid, scope, sizeof(scope), msg)))
		return err;
	for (size_t i = 0; i < n; i++) {
		if (changes[i].value == NULL)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "fact %lld: the new value is missing",
			                  (long long)changes[i].fact);
		for (size_t k = 0; k < i; k++) {
			if (changes[k].fact == changes[i].fact)
				return vaern_fail(msg, VAERN_E_INVALID,
				                  "fact %lld is named twice",
				                  (long long)changes[i].fact);
		}
		err = changes[i].fact < 1
		              ? VAERN_E_NOTFOUND
		              : vault_fact_category(v, controller, x.s.subject,
		                                    changes[i].fact,
		                                    changes[i].category, msg);
		if (err == VAERN_E_NOTFOUND)
			return vaern_fail(msg, VAERN_E_NOTFOUND,
			                  "the request's subject has no fact "
			                  "%lld",
			                  (long long)changes[i].fact);
		if (err != VAERN_OK)
			return err;
		/* AURA-RIGHTS-1: only the data the request concerns. */
		if (!vlt_scope_has(scope, changes[i].category))
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "fact %lld: category '%s' is not among "
			        "the data the request concerns (%s; "
			        "AURA-RIGHTS-1)",
			        (long long)changes[i].fact, changes[i].category,
			        scope);
		list_add(cats, sizeof(cats), changes[i].category);
	}
	(void)snprintf(what, sizeof(what), "rectified %zu fact%s: %s", n,
	               n == 1 ? "" : "s", cats);
	/* GDPR-16: the new values replace the old ones, all or none. */
	if ((err = exec_begin(v, &x, msg)) != VAERN_OK)
		return err;
	for (size_t i = 0; err == VAERN_OK && i < n; i++)
		err = vault_fact_rectify(v, controller, x.s.subject,
		                         changes[i].fact, changes[i].value,
		                         msg);
	if ((err = exec_end(v, &x, err, who, what, msg)) != VAERN_OK ||
	    (err = exec_audit(v, controller, who, &x, "request_rectification",
	                      cats, "GDPR-16", what, msg)) != VAERN_OK)
		return err;
	return request_out(&x.s, out, msg);
}

enum vaern_err
vault_request_restrict(struct vault *v, const char *controller, const char *id,
                       int lift, int complete, const char *reason,
                       const struct vault_request_actor *who,
                       struct vault_request *out, struct vaern_msg *msg)
{
	struct exec x;
	enum vaern_err err;
	char what[EXEC_WHAT_MAX];

	if (reason != NULL && reason[0] == '\0')
		reason = NULL;
	if (lift && reason == NULL)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "lifting a restriction needs its reason: the "
		                  "person is told before it is lifted "
		                  "(GDPR-18)");
	if (reason != NULL && !utf8_line_ok(reason, VAULT_REQUEST_TEXT_MAX))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a reason is 1 to %d bytes of UTF-8 text "
		                  "without control characters",
		                  VAULT_REQUEST_TEXT_MAX);
	if ((err = exec_load(v, controller, id, RIGHTS_RESTRICTION,
	                     lift || complete, who, &x, msg)) != VAERN_OK)
		return err;
	if (lift && !(x.subj.state & STORE_STATE_RESTRICTED))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the subject's processing is not restricted: "
		                  "there is nothing to lift");
	(void)snprintf(what, sizeof(what), "%s",
	               lift ? "restriction of processing lifted"
	                    : "processing restricted: only stored, and used "
	                      "only for purposes allowed while restricted");
	if ((err = exec_begin(v, &x, msg)) != VAERN_OK)
		return err;
	err = vault_subject_restrict(v, controller, x.s.subject, !lift, msg);
	/* The staff's reason (told to the person) goes to the request's
	 * history, never to the audit trail. */
	if ((err = exec_end(v, &x, err, who, reason != NULL ? reason : what,
	                    msg)) != VAERN_OK ||
	    (err = exec_audit(v, controller, who, &x,
	                      lift ? "request_restriction_lifted"
	                           : "request_restriction",
	                      NULL, "GDPR-18", what, msg)) != VAERN_OK)
		return err;
	return request_out(&x.s, out, msg);
}

/* Checks a list of purpose ids: at most VAULT_PURPOSES_MAX, each once. */
static enum vaern_err
purposes_check(const char *const *purposes, size_t n, struct vaern_msg *msg)
{
	if (n > VAULT_PURPOSES_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "at most %d purposes in one request",
		                  VAULT_PURPOSES_MAX);
	for (size_t i = 0; i < n; i++) {
		if (purposes[i] == NULL)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "a purpose is missing");
		for (size_t k = 0; k < i; k++) {
			if (strcmp(purposes[k], purposes[i]) == 0)
				return vaern_fail(
				        msg, VAERN_E_INVALID,
				        "purpose '%.64s' is named twice",
				        purposes[i]);
		}
	}
	return VAERN_OK;
}

enum vaern_err
vault_request_object(struct vault *v, const char *controller, const char *id,
                     const char *const *purposes, size_t n,
                     const struct vault_request_actor *who,
                     struct vault_request *out, struct vaern_msg *msg)
{
	struct exec x;
	const struct policy *p;
	enum vaern_err err;
	char list[AUDIT_CATS_MAX] = "", what[EXEC_WHAT_MAX];

	if ((err = exec_load(v, controller, id, RIGHTS_OBJECTION, 1, who, &x,
	                     msg)) != VAERN_OK ||
	    (err = purposes_check(purposes, n, msg)) != VAERN_OK)
		return err;
	p = x.c->policy;
	for (size_t i = 0; i < n; i++) {
		long pi = policy_purpose_index(p, purposes[i]);

		if (pi < 0)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "the policy of '%s' has no purpose "
			                  "'%.64s'",
			                  controller, purposes[i]);
		if (!p->purposes[pi].direct_marketing)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "purpose '%s' is not direct marketing: an "
			        "objection to it is weighed by the controller "
			        "(GDPR-21(1)), not executed here; answer the "
			        "request by its status, with the reason",
			        p->purposes[pi].id);
	}
	/* GDPR-21(3), CEK-RIGHTS-1: absolute, so it covers every
	 * direct-marketing purpose (the subject's one objection flag). */
	for (size_t i = 0; i < p->npurposes; i++) {
		if (p->purposes[i].direct_marketing)
			list_add(list, sizeof(list), p->purposes[i].id);
	}
	(void)snprintf(what, sizeof(what),
	               "objection to direct marketing recorded; refused from "
	               "now on: %s",
	               list[0] ? list : "(no direct-marketing purpose)");
	if ((err = exec_begin(v, &x, msg)) != VAERN_OK)
		return err;
	err = vault_subject_object(v, controller, x.s.subject, 1, msg);
	if ((err = exec_end(v, &x, err, who, what, msg)) != VAERN_OK ||
	    (err = exec_audit(v, controller, who, &x, "request_objection", NULL,
	                      "GDPR-21", what, msg)) != VAERN_OK)
		return err;
	return request_out(&x.s, out, msg);
}

enum vaern_err
vault_request_withdraw(struct vault *v, const char *controller, const char *id,
                       const char *const *purposes, size_t n,
                       const struct vault_request_actor *who,
                       struct vault_withdrawal *rep, struct vault_request *out,
                       struct vaern_msg *msg)
{
	struct exec x;
	const struct policy *p;
	struct vault_consent_act act;
	struct vault_consent_done done;
	enum vaern_err err;
	char list[AUDIT_CATS_MAX] = "", what[EXEC_WHAT_MAX];

	memset(rep, 0, sizeof(*rep));
	if ((err = exec_load(v, controller, id, RIGHTS_CONSENT_WITHDRAWAL, 1,
	                     who, &x, msg)) != VAERN_OK ||
	    (err = purposes_check(purposes, n, msg)) != VAERN_OK)
		return err;
	p = x.c->policy;
	for (size_t i = 0; i < n; i++)
		word_copy(rep->purposes[rep->n++].purpose,
		          sizeof(rep->purposes[0].purpose), purposes[i]);
	/* None named: every consent of the person in force. */
	for (size_t i = 0; n == 0 && i < p->npurposes; i++) {
		const struct policy_purpose *pp = &p->purposes[i];
		struct vault_consent_state st;

		if (!((pp->basis & BASIS_A) || pp->art9 == 'a'))
			continue;
		if ((err = vault_consent_state(v, controller, x.s.subject,
		                               pp->id, &st, msg)) != VAERN_OK)
			return err;
		if (st.in_force && rep->n < VAULT_PURPOSES_MAX)
			word_copy(rep->purposes[rep->n++].purpose,
			          sizeof(rep->purposes[0].purpose), pp->id);
	}
	if (rep->n == 0)
		return vaern_fail(msg, VAERN_E_EXISTS,
		                  "no consent of the request's subject is in "
		                  "force");
	for (size_t i = 0; i < rep->n; i++)
		list_add(list, sizeof(list), rep->purposes[i].purpose);
	(void)snprintf(what, sizeof(what),
	               "consent withdrawn: %s (processing before stays "
	               "lawful)",
	               list);
	/* GDPR-7: appended to the ledger, never overwriting it; by the
	 * channel the request came through. */
	memset(&act, 0, sizeof(act));
	act.source = x.s.channel;
	act.withdraw = 1;
	act.at = INT64_MIN;
	if ((err = exec_begin(v, &x, msg)) != VAERN_OK)
		return err;
	for (size_t i = 0; err == VAERN_OK && i < rep->n; i++) {
		act.purpose = rep->purposes[i].purpose;
		err = vault_consent_apply(v, controller, x.s.subject, &act,
		                          &done, msg);
		rep->purposes[i].kept_until = done.expires_at;
	}
	sodium_memzero(&done, sizeof(done));
	if ((err = exec_end(v, &x, err, who, what, msg)) != VAERN_OK ||
	    (err = exec_audit(v, controller, who, &x,
	                      "request_consent_withdrawal", NULL, "GDPR-7",
	                      what, msg)) != VAERN_OK)
		return err;
	return request_out(&x.s, out, msg);
}

enum vaern_err
vault_request_scope(struct vault *v, const char *controller, const char *id,
                    char out[VAULT_SCOPE_MAX + 1], struct vaern_msg *msg)
{
	struct controller *c;
	struct store_request s;
	enum vaern_err err;

	out[0] = '\0';
	if ((err = request_load(v, controller, id, &c, &s, msg)) != VAERN_OK)
		return err;
	return vlt_scope_read(v, s.rowid, out, VAULT_SCOPE_MAX + 1, msg);
}

/* ---- the report's authority (GDPR-15, GDPR-20; vault_report.c) -------- */

enum vaern_err
vlt_request_evidence(struct vault *v, struct controller *c, const char *id,
                     const unsigned char *uid, struct vlt_request_evidence *ev,
                     struct vaern_msg *msg)
{
	struct store_request s;
	enum rights_status status;
	enum vaern_err err;

	memset(ev, 0, sizeof(*ev));
	if (!uuid_ok(id))
		return vaern_fail(msg, VAERN_E_NOTFOUND, "no such request");
	err = store_request_get(v->store, c->rowid, id, &s, msg);
	if (err == VAERN_E_NOTFOUND)
		return vaern_fail(msg, VAERN_E_NOTFOUND,
		                  "no such request of controller '%s'",
		                  c->name);
	if (err != VAERN_OK ||
	    (err = rights_status_parse(s.status, &status, msg)) != VAERN_OK)
		return err;
	/* What the request is; the gate decides what it authorises
	 * (AOPT-ACCESS-1, GDPR-15, GDPR-20). */
	(void)snprintf(ev->kind, sizeof(ev->kind), "%s", s.type);
	(void)snprintf(ev->status, sizeof(ev->status), "%s", s.status);
	(void)snprintf(ev->method, sizeof(ev->method), "%s", s.verify_method);
	(void)snprintf(ev->id, sizeof(ev->id), "%s", s.id);
	{
		char scope[STORE_SCOPE_MAX];

		if ((err = vlt_scope_read(v, s.rowid, scope, sizeof(scope),
		                          msg)) != VAERN_OK)
			return err;
		/* AURA-RIGHTS-1: the answer covers the data concerned. */
		for (size_t ci = 0; ci < c->policy->ncategories; ci++)
			if (scope[0] != '\0' &&
			    vlt_scope_has(scope, c->policy->categories[ci].id))
				ev->categories[ev->ncategories++] = ci;
	}
	ev->q.present = 1;
	ev->q.about_subject = memcmp(s.subject, uid, VAULT_UID_BYTES) == 0;
	ev->q.open = !rights_status_final(status);
	ev->q.verified = s.verified_at != STORE_NO_TIME;
	ev->q.kind = ev->kind;
	ev->q.status = ev->status;
	ev->q.method = ev->method[0] != '\0' ? ev->method : NULL;
	return VAERN_OK;
}
