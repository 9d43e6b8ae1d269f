/*
 * vault_requests.c -- rights requests (issue 5): registration, the legal
 * deadline and its one extension (GDPR-12), identity verification by a
 * one-time code or a staff attestation (AOPT-ACCESS-1), status changes,
 * each one transaction and each audited without personal data; scoped by
 * controller (AURA-RIGHTS-1). Executing a verified request is in
 * vault_erase.c (GDPR-17) and vault_exec.c (GDPR-16, GDPR-18, GDPR-21,
 * GDPR-7); here are their reports' JSON and the authority a verified
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
#include "vault_requests_internal.h"

#define KDF_CTX_CODE   "vaerncod" /* the key that hashes one-time codes */
#define CODE_HASH      32
#define PURPOSE        "rights_request" /* the audit entries' purpose */
#define MESSAGE_MAX    4096             /* bytes of one spooled message */
#define SPOOL_NAME_MAX 128

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

void
vlt_word_copy(char *dst, size_t size, const char *src)
{
	size_t n = src != NULL ? strnlen(src, size - 1) : 0;

	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = '\0';
}

/* store row -> vault view. */
enum vaern_err
vlt_request_out(const struct store_request *s, struct vault_request *r,
                struct vaern_msg *msg)
{
	struct vaern_msg why = {{0}};

	memset(r, 0, sizeof(*r));
	vlt_word_copy(r->id, sizeof(r->id), s->id);
	if (rights_type_parse(s->type, &r->type, &why) != VAERN_OK ||
	    rights_status_parse(s->status, &r->status, &why) != VAERN_OK)
		return vaern_fail(msg, VAERN_E_STORE,
		                  "request %s: malformed row: %s", s->id,
		                  why.text);
	memcpy(r->subject, s->subject, VAULT_UID_BYTES);
	vlt_word_copy(r->channel, sizeof(r->channel), s->channel);
	r->received_at = s->received_at;
	r->due_original = rights_due(cal_day_of(s->received_at));
	r->due = s->due;
	r->extended_months = s->extended_months;
	vlt_word_copy(r->extension_reason, sizeof(r->extension_reason),
	              s->extension_reason);
	r->extended_at =
	        s->extended_at == STORE_NO_TIME ? INT64_MIN : s->extended_at;
	vlt_word_copy(r->status_reason, sizeof(r->status_reason),
	              s->status_reason);
	r->verified_at =
	        s->verified_at == STORE_NO_TIME ? INT64_MIN : s->verified_at;
	vlt_word_copy(r->verified_by, sizeof(r->verified_by), s->verified_by);
	vlt_word_copy(r->verify_method, sizeof(r->verify_method),
	              s->verify_method);
	vlt_word_copy(r->attestation, sizeof(r->attestation), s->attestation);
	vlt_word_copy(r->created_by, sizeof(r->created_by), s->created_by);
	r->updated_at = s->updated_at;
	return VAERN_OK;
}

/* One audit entry per transition: ids, statuses and the clause only --
 * never a reason, an attestation, a code or an address (they may hold
 * personal data). categories (ids, or NULL) are those acted on. */
void
vlt_request_event(struct vault_audit_event *e, const char *controller,
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

enum vaern_err
vlt_audit_categories(struct vault *v, const char *controller,
                     const struct vault_request_actor *who, const char *action,
                     const unsigned char *uid, const char *categories,
                     int allowed, const char *rule, const char *reason,
                     struct vaern_msg *msg)
{
	struct vault_audit_event e;

	vlt_request_event(&e, controller, who, action, uid, categories, allowed,
	                  rule, reason);
	return v->audit_fn(v->audit_arg, &e, msg);
}

enum vaern_err
vlt_need_audit(struct vault *v, const struct vault_request_actor *who,
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
enum vaern_err
vlt_request_load(struct vault *v, const char *controller, const char *id,
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
	if (err == VAERN_OK)
		vlt_request_texts_open(v, s);
	return err;
}

/*
 * Issue 11, point 5: the free text of a request (refusal and other status
 * reasons, the extension's reason, the staff attestation, the reasons of
 * its transitions) is sealed under the person's data key, so it goes with
 * the erasure. Once the person is erased (the key shredded) it reads as
 * REQUEST_TEXT_ERASED; text written after that (the erasure's own
 * account of what the law keeps, no caller's words) is kept as is.
 */
#define REQUEST_TEXT_FIELD  "request text"
#define REQUEST_TEXT_ERASED "(erased with the person)"

/* The data key of the request's subject: 1 and key, or 0 when the person
 * is gone (erased). The caller wipes key. */
static int
request_key(struct vault *v, int64_t controller, const unsigned char *uid,
            struct store_subject *subj, unsigned char key[KEY_BYTES])
{
	struct vaern_msg quiet = {{0}};

	return store_subject_by_uid(v->store, controller, uid, subj, &quiet) ==
	               VAERN_OK &&
	       vlt_unwrap_key(v, subj, key, &quiet) == VAERN_OK;
}

/* Seals text (a buffer of size bytes) in place, unless empty or sealed. */
static enum vaern_err
text_seal(struct vault *v, const struct store_subject *subj,
          const unsigned char key[KEY_BYTES], char *text, size_t size,
          struct vaern_msg *msg)
{
	char sealed[VLT_TEXT_SEALED_MAX];
	enum vaern_err err;

	if (text[0] == '\0' || strncmp(text, "sealed:", 7) == 0)
		return VAERN_OK;
	err = vlt_text_seal(v, subj, key, REQUEST_TEXT_FIELD, text, sealed,
	                    sizeof(sealed), msg);
	if (err == VAERN_OK)
		vlt_word_copy(text, size, sealed);
	return err;
}

/* Opens text (size bytes) in place; key NULL: the person is erased. */
static void
text_open(const struct store_subject *subj, const unsigned char *key,
          char *text, size_t size)
{
	char plain[VAULT_REQUEST_TEXT_MAX + 1];
	struct vaern_msg quiet = {{0}};

	if (strncmp(text, "sealed:", 7) != 0)
		return;
	if (key != NULL &&
	    vlt_text_open(subj, key, REQUEST_TEXT_FIELD, text, plain,
	                  sizeof(plain), &quiet) == VAERN_OK)
		vlt_word_copy(text, size, plain);
	else
		vlt_word_copy(text, size, REQUEST_TEXT_ERASED);
	sodium_memzero(plain, sizeof(plain));
}

void
vlt_request_texts_open(struct vault *v, struct store_request *s)
{
	struct store_subject subj;
	unsigned char key[KEY_BYTES];
	int have;

	/* Most open requests have no text yet: no key to unwrap. */
	if (s->status_reason[0] == '\0' && s->extension_reason[0] == '\0' &&
	    s->attestation[0] == '\0')
		return;
	have = request_key(v, s->controller, s->subject, &subj, key);

	text_open(&subj, have ? key : NULL, s->status_reason,
	          sizeof(s->status_reason));
	text_open(&subj, have ? key : NULL, s->extension_reason,
	          sizeof(s->extension_reason));
	text_open(&subj, have ? key : NULL, s->attestation,
	          sizeof(s->attestation));
	sodium_memzero(key, sizeof(key));
}

/* Writes s with its texts sealed (s itself keeps them in clear); reason,
 * if not NULL, is sealed into reason_out (VLT_TEXT_SEALED_MAX bytes) for
 * the transition. */
enum vaern_err
vlt_request_store(struct vault *v, const struct store_request *s, int update,
                  const char *reason, char *reason_out, struct vaern_msg *msg)
{
	struct store_request *sealed;
	struct store_subject subj;
	unsigned char key[KEY_BYTES];
	enum vaern_err err = VAERN_OK;
	int have;

	if ((sealed = malloc(sizeof(*sealed))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	*sealed = *s;
	have = request_key(v, s->controller, s->subject, &subj, key);
	if (reason != NULL)
		vlt_word_copy(reason_out, VLT_TEXT_SEALED_MAX, reason);
	if (have &&
	    ((err = text_seal(v, &subj, key, sealed->status_reason,
	                      sizeof(sealed->status_reason), msg)) !=
	             VAERN_OK ||
	     (err = text_seal(v, &subj, key, sealed->extension_reason,
	                      sizeof(sealed->extension_reason), msg)) !=
	             VAERN_OK ||
	     (err = text_seal(v, &subj, key, sealed->attestation,
	                      sizeof(sealed->attestation), msg)) != VAERN_OK ||
	     (reason != NULL &&
	      (err = text_seal(v, &subj, key, reason_out, VLT_TEXT_SEALED_MAX,
	                       msg)) != VAERN_OK)))
		goto done;
	if (update)
		err = store_request_update(v->store, sealed, msg);
done:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(sealed, sizeof(*sealed));
	free(sealed);
	return err;
}

/* Writes s and its transition from -> s->status in the open transaction. */
enum vaern_err
vlt_request_write(struct vault *v, struct store_request *s, const char *from,
                  const struct vault_request_actor *who, const char *reason,
                  struct vaern_msg *msg)
{
	struct store_transition t;
	enum vaern_err err;
	char sealed_reason[VLT_TEXT_SEALED_MAX];

	s->updated_at = clock_now();
	t.seq = 0;
	t.at = s->updated_at;
	t.from = from;
	t.to = s->status;
	t.actor = who->name;
	t.reason = reason != NULL ? sealed_reason : NULL;
	if ((err = vlt_request_store(v, s, from != NULL, reason, sealed_reason,
	                             msg)) != VAERN_OK ||
	    (err = store_transition_insert(v->store, s->rowid, &t, msg)) !=
	            VAERN_OK)
		return err;
	/* Issue 19: the webhook event, queued with the change. */
	return vlt_webhook_request(v, s, from, msg);
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
	err = vlt_request_write(v, s, from, who, reason, msg);
	(void)snprintf(action, sizeof(action), "request_%s", s->status);
	(void)snprintf(why, sizeof(why), "request %s (%s): %s -> %s", s->id,
	               s->type, from != NULL ? from : "new", s->status);
	vlt_request_event(&e, controller, who, action, s->subject, NULL, 1,
	                  rule, why);
	if ((err = vlt_change_end(v, err, &e, msg)) != VAERN_OK)
		return err;
	/* GDPR-12: an extension, a completion, a refusal is told. */
	if ((err = vlt_request_notify(v, controller, c, s, who, NULL, msg)) !=
	    VAERN_OK)
		return err;
	return vlt_request_out(s, out, msg);
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

	if ((err = vlt_need_audit(v, who, msg)) != VAERN_OK)
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
		vlt_word_copy(s.id, sizeof(s.id), in->id);
	else
		uuid_new(s.id);
	vlt_word_copy(s.type, sizeof(s.type), rights_type_name(type));
	memcpy(s.subject, in->subject, VAULT_UID_BYTES);
	vlt_word_copy(s.channel, sizeof(s.channel), in->channel);
	s.received_at = in->received_at == INT64_MIN ? now : in->received_at;
	s.due = rights_due(cal_day_of(s.received_at)); /* GDPR-12 */
	s.extended_at = STORE_NO_TIME;
	s.verified_at = STORE_NO_TIME;
	vlt_word_copy(s.status, sizeof(s.status),
	              rights_status_name(RIGHTS_RECEIVED));
	vlt_word_copy(s.created_by, sizeof(s.created_by), who->name);
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
		err = vlt_request_write(v, &s, NULL, who, NULL, msg);
	{
		struct vault_audit_event e;
		char why[160];

		(void)snprintf(why, sizeof(why), "request %s (%s) received",
		               s.id, s.type);
		vlt_request_event(&e, controller, who, "request_received",
		                  s.subject, NULL, 1, "GDPR-12", why);
		if ((err = vlt_change_end(v, err, &e, msg)) != VAERN_OK)
			return err;
	}
	/* GDPR-12: the person is told it arrived and by when it is
	 * answered. */
	if ((err = vlt_request_notify(v, controller, c, &s, who, NULL, msg)) !=
	    VAERN_OK)
		return err;
	return vlt_request_out(&s, out, msg);
}

enum vaern_err
vault_request_get(struct vault *v, const char *controller, const char *id,
                  struct vault_request *out, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_request s;
	enum vaern_err err;

	if ((err = vlt_request_load(v, controller, id, &c, &s, msg)) !=
	    VAERN_OK)
		return err;
	return vlt_request_out(&s, out, msg);
}

enum vaern_err
vault_request_foreach(struct vault *v, const char *controller, long due_by,
                      int open_only,
                      enum vaern_err (*fn)(void *arg,
                                           const struct vault_request *r),
                      void *arg, struct vaern_msg *msg)
{
	struct vault_request_filter f = {due_by, open_only, 0, -1, -1, 1};

	return vault_request_queue(v, controller, &f, fn, arg, msg);
}

struct transition_walk {
	enum vaern_err (*fn)(void *arg, const struct vault_transition *t);
	void *arg;
	const struct store_subject *subj; /* the person, to open reasons */
	const unsigned char *key;         /* NULL: the person is erased */
};

static enum vaern_err
transition_each(void *arg, const struct store_transition *s)
{
	struct transition_walk *w = arg;
	char reason[VLT_TEXT_SEALED_MAX];
	struct vault_transition t = {s->at, s->from, s->to, s->actor,
	                             s->reason};
	enum vaern_err err;

	if (s->reason != NULL) {
		vlt_word_copy(reason, sizeof(reason), s->reason);
		text_open(w->subj, w->key, reason, sizeof(reason));
		t.reason = reason;
	}
	err = w->fn(w->arg, &t);
	sodium_memzero(reason, sizeof(reason));
	return err;
}

enum vaern_err
vault_request_transitions(
        struct vault *v, const char *controller, const char *id,
        enum vaern_err (*fn)(void *arg, const struct vault_transition *t),
        void *arg, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_request s;
	struct store_subject subj;
	unsigned char key[KEY_BYTES];
	struct transition_walk w = {fn, arg, &subj, NULL};
	enum vaern_err err;

	if ((err = vlt_request_load(v, controller, id, &c, &s, msg)) !=
	    VAERN_OK)
		return err;
	if (request_key(v, s.controller, s.subject, &subj, key))
		w.key = key;
	err = store_transition_foreach(v->store, s.rowid, transition_each, &w,
	                               msg);
	sodium_memzero(key, sizeof(key));
	return err;
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

	if ((err = vlt_need_audit(v, who, msg)) != VAERN_OK)
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
	if (reason != NULL &&
	    (err = id_refuse_card(reason, "the reason", msg)) != VAERN_OK)
		return err;
	if ((err = vlt_request_load(v, controller, id, &c, &s, msg)) !=
	    VAERN_OK)
		return err;
	if ((err = rights_status_parse(s.status, &from, msg)) != VAERN_OK)
		return err;
	if ((err = rights_transition(from, to, s.verified_at != STORE_NO_TIME,
	                             msg)) != VAERN_OK)
		return err;
	vlt_word_copy(was, sizeof(was), s.status);
	vlt_word_copy(s.status, sizeof(s.status), rights_status_name(to));
	if (reason != NULL && reason[0] != '\0')
		vlt_word_copy(s.status_reason, sizeof(s.status_reason), reason);
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

	if ((err = vlt_need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if (!utf8_line_ok(reason, VAULT_REQUEST_TEXT_MAX))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "an extension needs its reason, told to the "
		                  "person: 1 to %d bytes of UTF-8 text without "
		                  "control characters (GDPR-12)",
		                  VAULT_REQUEST_TEXT_MAX);
	if ((err = id_refuse_card(reason, "the reason", msg)) != VAERN_OK)
		return err;
	if ((err = vlt_request_load(v, controller, id, &c, &s, msg)) !=
	    VAERN_OK)
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
	vlt_word_copy(was, sizeof(was), s.status);
	vlt_word_copy(s.status, sizeof(s.status),
	              rights_status_name(RIGHTS_EXTENDED));
	s.extended_months = months;
	s.extended_at = clock_now();
	s.due = rights_due_extended(cal_day_of(s.received_at), months);
	vlt_word_copy(s.extension_reason, sizeof(s.extension_reason), reason);
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
	vlt_word_copy(was, STORE_WORD_MAX + 1, s->status);
	vlt_word_copy(s->status, sizeof(s->status),
	              rights_status_name(RIGHTS_VERIFIED));
	s->verified_at = clock_now();
	vlt_word_copy(s->verified_by, sizeof(s->verified_by), who->name);
	vlt_word_copy(s->verify_method, sizeof(s->verify_method), method);
	vlt_word_copy(s->attestation, sizeof(s->attestation), attestation);
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

	if ((err = vlt_need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if (!utf8_line_ok(method, VAULT_REQUEST_TEXT_MAX))
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "an attestation says how the identity was "
		        "verified: 1 to %d bytes of UTF-8 text without "
		        "control characters",
		        VAULT_REQUEST_TEXT_MAX);
	if ((err = id_refuse_card(method, "the attestation", msg)) != VAERN_OK)
		return err;
	if ((err = vlt_request_load(v, controller, id, &c, &s, msg)) !=
	            VAERN_OK ||
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

static enum vaern_err
contact_each(void *arg, const struct vault_fact_out *f)
{
	struct vlt_contact_find *cf = arg;
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
 * The address a message to the person goes to: a one-time code
 * (AOPT-ACCESS-1), an Art. 34 message (GDPR-33). Read through the gate
 * like every release (the vault itself reads, for the outbox; the address
 * never reaches the caller), the e-mail and phone categories only,
 * audited under purpose with why appended to the reason, before anything
 * is decrypted.
 */
enum vaern_err
vlt_contact_of(struct vault *v, const struct controller *c, const char *purpose,
               const char *why, const unsigned char *uid, enum id_type want,
               const struct vault_request_actor *who,
               struct vlt_contact_find *cf, struct vaern_msg *msg)
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
		if ((err = vlt_gate(v, c, s.uid, s.uid, who->name, who->role,
		                    &r, &gs, purpose, "read", why, &d, released,
		                    &rel, msg)) != VAERN_OK ||
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

/* The address for request rid's message what ("one-time code", ...). */
static enum vaern_err
contact_of(struct vault *v, const struct controller *c, const char *rid,
           const unsigned char *uid, enum id_type want,
           const struct vault_request_actor *who, const char *purpose,
           const char *what, struct vlt_contact_find *cf, struct vaern_msg *msg)
{
	char extra[160];

	(void)snprintf(extra, sizeof(extra), "the address for request %s's %s",
	               rid, what);
	return vlt_contact_of(v, c, purpose, extra, uid, want, who, cf, msg);
}

enum vaern_err
vlt_request_contact(struct vault *v, const struct controller *c,
                    const char *rid, const unsigned char *uid,
                    const struct vault_request_actor *who,
                    struct vlt_contact *out, struct vaern_msg *msg)
{
	struct vlt_contact_find cf;
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
	struct vlt_contact_find cf;
	struct vault_message m;
	enum rights_status status;
	enum vaern_err err;
	int64_t n = 0;
	char digits[VAULT_CODE_DIGITS + 1], body[512], expiry[21], why[160];

	memset(&cf, 0, sizeof(cf));
	if ((err = vlt_need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if (contact != ID_NONE && contact != ID_EMAIL && contact != ID_PHONE)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a code goes to an e-mail address or a phone "
		                  "number");
	if (v->outbox_fn == NULL)
		return vaern_fail(msg, VAERN_E_IO, "no outbox is set");
	if ((err = vlt_request_load(v, controller, id, &c, &s, msg)) !=
	            VAERN_OK ||
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
	vlt_word_copy(code.contact, sizeof(code.contact),
	              id_type_name(cf.want));
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
		vlt_request_event(&e, controller, who, "request_code_sent",
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

	if ((err = vlt_need_audit(v, who, msg)) != VAERN_OK)
		return err;
	for (size_t i = 0; i < len; i++) {
		if (code[i] < '0' || code[i] > '9')
			len = 0;
	}
	if (len != VAULT_CODE_DIGITS)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a code is %d decimal digits",
		                  VAULT_CODE_DIGITS);
	if ((err = vlt_request_load(v, controller, id, &c, &s, msg)) !=
	            VAERN_OK ||
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
		vlt_request_event(&e, controller, who, "request_code_rejected",
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
		err = vlt_request_write(v, &s, was, who, "one-time code", msg);
	(void)snprintf(why, sizeof(why), "request %s (%s): %s -> verified",
	               s.id, s.type, was);
	vlt_request_event(&e, controller, who, "request_verified", s.subject,
	                  NULL, 1, "AOPT-ACCESS-1", why);
	if ((err = vlt_change_end(v, err, &e, msg)) != VAERN_OK)
		return err;
	return vlt_request_out(&s, out, msg);
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
