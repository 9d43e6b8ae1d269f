/*
 * vault_incident.c -- security-weakness reports and the breach register
 * (issue 17; SHOP-BREACH-1..3, GDPR-33): sealing, storage, deadlines,
 * messages and audit. The model (words, checks, exports) is
 * src/incident; the SQL is src/store/store_incident.c.
 */
#include "vault_incident.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../common/utf8.h"
#include "../store/store_incident.h"
#include "vault_internal.h"

#define PURPOSE      "incident" /* the audit entries' purpose */
#define KDF_CTX_ADDR "vaerninc" /* the key of the address hashes */
/* The keystore's root key of the case keys (keys_root_get). */
#define KEYS_ROOT_INCIDENT "incident"
#define CASE_ALPHA         "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
#define SEALED_MAX         (INCIDENT_FILE_MAX + VLT_SEAL_OVERHEAD)
#define DOC_MAX            ((size_t)64 * 1024) /* a sealed JSON document */

static long
day_of(int64_t t)
{
	return (long)(t >= 0 ? t / 86400 : -((-t + 86399) / 86400));
}

/* ---- the case key: the one place that wraps it (a keystore, issue 13,
 * may take it over) ---------------------------------------------------- */

static size_t
case_ad(unsigned char *ad, size_t adsz, const char *case_id, const char *what)
{
	int n = snprintf((char *)ad, adsz, "incident|%s|%s", case_id, what);

	return n < 0 ? 0 : (size_t)n < adsz ? (size_t)n : adsz - 1;
}

/*
 * The root of the incident keys: a random key kept wrapped in the
 * keystore (issue 13: keys_root_get, re-wrapped by every master-key
 * rotation), made by the first report (create 1, inside its write
 * transaction). The caller wipes root.
 */
static enum vaern_err
incident_root(struct vault *v, int create, unsigned char root[KEY_BYTES],
              struct vaern_msg *msg)
{
	return keys_root_get(v->ring, v->store, KEYS_ROOT_INCIDENT, create,
	                     root, msg);
}

/* Wraps key (KEY_BYTES) of case_id under the incident root into out
 * (KEY_BYTES + VLT_SEAL_OVERHEAD bytes), inside a write transaction. */
static enum vaern_err
vlt_incident_key_wrap(struct vault *v, const char *case_id,
                      const unsigned char *key, unsigned char *out,
                      struct vaern_msg *msg)
{
	unsigned char ad[64], root[KEY_BYTES];
	size_t adlen = case_ad(ad, sizeof(ad), case_id, "key");
	enum vaern_err err;

	if ((err = incident_root(v, 1, root, msg)) == VAERN_OK)
		vlt_seal(v, out, key, KEY_BYTES, ad, adlen, root);
	sodium_memzero(root, sizeof(root));
	return err;
}

/* Unwraps the case key of r into key (the caller wipes it). */
static enum vaern_err
vlt_incident_key_unwrap(struct vault *v, const struct store_incident *r,
                        unsigned char key[KEY_BYTES + 1], struct vaern_msg *msg)
{
	unsigned char ad[64], root[KEY_BYTES];
	size_t adlen = case_ad(ad, sizeof(ad), r->case_id, "key"), len = 0;
	enum vaern_err err;

	if (r->wrapped_len != KEY_BYTES + VLT_SEAL_OVERHEAD)
		return vaern_fail(msg, VAERN_E_CRYPTO, "malformed case key");
	if ((err = incident_root(v, 0, root, msg)) == VAERN_OK)
		err = vlt_unseal(key, r->wrapped_key, r->wrapped_len, ad, adlen,
		                 root, &len, msg);
	sodium_memzero(root, sizeof(root));
	return err;
}

/* Seals JSON doc (compact) for field what of the case under key into a
 * malloc'ed *out. */
static enum vaern_err
seal_doc(struct vault *v, const char *case_id, const char *what,
         const unsigned char *key, json_t *doc, unsigned char **out,
         size_t *len, struct vaern_msg *msg)
{
	unsigned char ad[64];
	size_t adlen = case_ad(ad, sizeof(ad), case_id, what), n;
	char *text = json_dumps(doc, JSON_COMPACT);

	*out = NULL;
	if (text == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	n = strlen(text);
	if (n > DOC_MAX) {
		sodium_memzero(text, n);
		free(text);
		return vaern_fail(msg, VAERN_E_LIMIT, "the %s is too large",
		                  what);
	}
	if ((*out = malloc(n + VLT_SEAL_OVERHEAD)) != NULL)
		vlt_seal(v, *out, (const unsigned char *)text, n, ad, adlen,
		         key);
	*len = n + VLT_SEAL_OVERHEAD;
	sodium_memzero(text, n);
	free(text);
	return *out != NULL ? VAERN_OK
	                    : vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
}

/* Opens a sealed JSON document (NULL blob: an empty object). */
static enum vaern_err
open_doc(const char *case_id, const char *what, const unsigned char *key,
         const unsigned char *ct, size_t ctlen, json_t **out,
         struct vaern_msg *msg)
{
	unsigned char ad[64], *plain;
	size_t adlen = case_ad(ad, sizeof(ad), case_id, what), len = 0;
	enum vaern_err err;

	*out = NULL;
	if (ct == NULL) {
		*out = json_object();
		return *out != NULL ? VAERN_OK : VAERN_E_NOMEM;
	}
	if (ctlen < VLT_SEAL_OVERHEAD || ctlen > DOC_MAX + VLT_SEAL_OVERHEAD)
		return vaern_fail(msg, VAERN_E_CRYPTO, "malformed sealed %s",
		                  what);
	if ((plain = malloc(ctlen - VLT_SEAL_OVERHEAD + 1)) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	err = vlt_unseal(plain, ct, ctlen, ad, adlen, key, &len, msg);
	if (err == VAERN_OK &&
	    (*out = json_loadb((const char *)plain, len, 0, NULL)) == NULL)
		err = vaern_fail(msg, VAERN_E_STORE, "malformed sealed %s",
		                 what);
	sodium_memzero(plain, len);
	free(plain);
	return err;
}

/* ---- audit ------------------------------------------------------------- */

static enum vaern_err
need_audit(struct vault *v, const struct vault_request_actor *who,
           struct vaern_msg *msg)
{
	if (v->audit_fn == NULL)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "no audit trail is attached: a case is not "
		                  "changed without an audit entry");
	if (who->name == NULL || who->role == NULL)
		return vaern_fail(msg, VAERN_E_INVALID, "no actor");
	return VAERN_OK;
}

/* One audit entry: the case number, the action and the clause only
 * (never a text); why (at least 128 bytes) holds its reason. */
static void
case_event(struct vault_audit_event *e, char *why, size_t whysz,
           const char *controller, const struct vault_request_actor *who,
           const char *action, const char *case_id, const char *rule,
           const char *what)
{
	(void)snprintf(why, whysz, "case %s: %s", case_id, what);
	memset(e, 0, sizeof(*e));
	e->controller = controller;
	e->actor = who->name;
	e->role = who->role;
	e->purpose = PURPOSE;
	e->action = action;
	e->allowed = 1;
	e->rule = rule;
	e->reason = why;
}

/* Audits a read (before it is released). */
static enum vaern_err
audit_case(struct vault *v, const char *controller,
           const struct vault_request_actor *who, const char *action,
           const char *case_id, const char *rule, const char *what,
           struct vaern_msg *msg)
{
	struct vault_audit_event e;
	char why[128];

	case_event(&e, why, sizeof(why), controller, who, action, case_id, rule,
	           what);
	return v->audit_fn(v->audit_arg, &e, msg);
}

/*
 * Ends the transaction of a change to case_id with its audit entry, the
 * two committed as one (issue 12: the audit outbox).
 */
static enum vaern_err
change_end(struct vault *v, enum vaern_err err, const char *controller,
           const struct vault_request_actor *who, const char *action,
           const char *case_id, const char *rule, const char *what,
           struct vaern_msg *msg)
{
	struct vault_audit_event e;
	char why[128];

	case_event(&e, why, sizeof(why), controller, who, action, case_id, rule,
	           what);
	/* Issue 19: "incident_triage" is the webhook event
	 * "incident.triage", queued with the change. */
	if (err == VAERN_OK && strncmp(action, "incident_", 9) == 0) {
		char type[40];

		(void)snprintf(type, sizeof(type), "incident.%s", action + 9);
		err = vlt_webhook_case(v, type, controller, case_id, NULL, NULL,
		                       msg);
	}
	return vlt_change_end(v, err, &e, msg);
}

/* ---- intake (SHOP-BREACH-1) -------------------------------------------- */

static enum vaern_err
only_controller(void *arg, const char *name, int64_t loaded_at)
{
	char *one = arg;

	(void)loaded_at;
	if (one[0] != '\0') {
		one[0] = '\1';
		return VAERN_E_EXISTS;
	}
	(void)snprintf(one, POLICY_NAME_MAX + 1, "%s", name);
	return VAERN_OK;
}

/* The controller a report goes to. */
static enum vaern_err
report_controller(struct vault *v, const char *name, struct controller **c,
                  struct vaern_msg *msg)
{
	char one[POLICY_NAME_MAX + 1] = "";
	enum vaern_err err;

	if (name == NULL) {
		err = vault_controller_foreach(v, only_controller, one, msg);
		if (err == VAERN_E_EXISTS || one[0] == '\1')
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "'controller' is required: this "
			                  "vault hosts several controllers");
		if (err != VAERN_OK)
			return err;
		if (one[0] == '\0')
			return vaern_fail(msg, VAERN_E_NOTFOUND,
			                  "no controller takes reports here");
		name = one;
	}
	err = vlt_controller(v, name, c, msg);
	if (err == VAERN_E_NOTFOUND || err == VAERN_E_INVALID)
		return vaern_fail(msg, VAERN_E_NOTFOUND, "no such controller");
	return err;
}

/* The reporter's contact, checked: each given part is one line; an
 * e-mail address and a phone number must be ones. */
static enum vaern_err
contact_check(const struct vault_report_in *in, const char *country,
              char email[VAULT_VALUE_MAX / 64], char phone[64],
              struct vaern_msg *msg)
{
	struct vaern_msg why;

	email[0] = phone[0] = '\0';
	if (in->contact_name != NULL && !utf8_line_ok(in->contact_name, 200))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "'contact.name' is one line of at most 200 "
		                  "bytes");
	if (in->contact_email != NULL &&
	    id_normalise(ID_EMAIL, in->contact_email, country, clock_today(),
	                 email, VAULT_VALUE_MAX / 64, &why) != VAERN_OK)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "'contact.email' is not an e-mail address");
	if (in->contact_phone != NULL &&
	    id_normalise(ID_PHONE, in->contact_phone, country, clock_today(),
	                 phone, 64, &why) != VAERN_OK)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "'contact.phone' is not a phone number");
	return VAERN_OK;
}

static void
case_new(char out[INCIDENT_CASE_LEN])
{
	memcpy(out, "SB-", 3);
	for (size_t i = 3; i < INCIDENT_CASE_LEN - 1; i++)
		out[i] =
		        CASE_ALPHA[randombytes_uniform(sizeof(CASE_ALPHA) - 1)];
	out[INCIDENT_CASE_LEN - 1] = '\0';
}

static int
case_ok(const char *id)
{
	if (strlen(id) != INCIDENT_CASE_LEN - 1 || strncmp(id, "SB-", 3) != 0)
		return 0;
	for (size_t i = 3; id[i]; i++)
		if (strchr(CASE_ALPHA, id[i]) == NULL)
			return 0;
	return 1;
}

static void
secret_hash(const char *secret, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)secret,
	                   strlen(secret), NULL, 0);
}

/* The keyed hash of a sender's address (the rate limit only); create:
 * inside a write transaction, making the incident root if need be. */
static enum vaern_err
addr_hash(struct vault *v, const char *client, int create,
          unsigned char out[16], struct vaern_msg *msg)
{
	unsigned char root[KEY_BYTES], k[32];
	enum vaern_err err;

	if ((err = incident_root(v, create, root, msg)) == VAERN_OK) {
		crypto_kdf_derive_from_key(k, sizeof(k), 17, KDF_CTX_ADDR,
		                           root);
		crypto_generichash(out, 16, (const unsigned char *)client,
		                   strlen(client), k, sizeof(k));
	}
	sodium_memzero(root, sizeof(root));
	sodium_memzero(k, sizeof(k));
	return err;
}

static enum vaern_err
rate_refusal(struct vaern_msg *msg)
{
	return vaern_fail(msg, VAERN_E_DENIED,
	                  "rate: at most %d reports an hour from one "
	                  "address; try again later",
	                  INCIDENT_PER_ADDRESS);
}

enum vaern_err
vault_report_rate_check(struct vault *v, const char *client,
                        struct vaern_msg *msg)
{
	unsigned char h[16];
	int64_t n = 0;
	enum vaern_err err = addr_hash(v, client, 0, h, msg);

	if (err == VAERN_E_NOTFOUND)
		return VAERN_OK; /* no report has ever been taken */
	if (err == VAERN_OK)
		err = store_incident_count_addr(
		        v->store, h, clock_now() - INCIDENT_RATE_WINDOW, &n,
		        msg);
	if (err == VAERN_OK && n >= INCIDENT_PER_ADDRESS)
		err = rate_refusal(msg);
	sodium_memzero(h, sizeof(h));
	return err;
}

static int intake_receipt(struct vault *v, const char *controller,
                          const char *case_id);

enum vaern_err
vault_report_add(struct vault *v, const struct vault_report_in *in,
                 struct vault_report_receipt *out, struct vaern_msg *msg)
{
	static const struct vault_request_actor reporter = {"reporter",
	                                                    "public"};
	struct store_incident r;
	struct controller *c;
	unsigned char key[KEY_BYTES], sid[32], wrapped[KEY_BYTES + 64];
	unsigned char *sealed = NULL;
	const char *types[INCIDENT_FILES_MAX];
	char email[VAULT_VALUE_MAX / 64], phone[64];
	json_t *doc = NULL, *contact = NULL;
	enum vaern_err err;
	int64_t now = clock_now(), n = 0;
	size_t i;

	memset(&r, 0, sizeof(r));
	memset(out, 0, sizeof(*out));
	if ((err = need_audit(v, &reporter, msg)) != VAERN_OK)
		return err;
	if ((err = report_controller(v, in->controller, &c, msg)) != VAERN_OK)
		return err;
	/* Every field first: a bad one stores nothing. */
	if ((err = incident_text_check(in->description, "description", 1,
	                               msg)) != VAERN_OK ||
	    (err = incident_text_check(in->how_found, "how_found", 0, msg)) !=
	            VAERN_OK ||
	    (err = incident_text_check(in->where, "where", 0, msg)) !=
	            VAERN_OK ||
	    (err = contact_check(in, c->policy->controller.country, email,
	                         phone, msg)) != VAERN_OK)
		goto done;
	if (in->nfiles > INCIDENT_FILES_MAX) {
		err = vaern_fail(msg, VAERN_E_LIMIT,
		                 "at most %d screenshots in one report",
		                 INCIDENT_FILES_MAX);
		goto done;
	}
	for (i = 0; i < in->nfiles; i++) {
		if (in->file_lens[i] > INCIDENT_FILE_MAX) {
			err = vaern_fail(msg, VAERN_E_LIMIT,
			                 "screenshot %zu is larger than 5 MiB",
			                 i + 1);
			goto done;
		}
		if ((types[i] = incident_image_type(
		             in->files[i], in->file_lens[i])) == NULL) {
			err = vaern_fail(msg, VAERN_E_INVALID,
			                 "screenshot %zu is not a PNG or JPEG "
			                 "image",
			                 i + 1);
			goto done;
		}
	}
	/* The texts, sealed as one document under the case's key. */
	doc = json_pack("{s:s, s:s?, s:s?}", "description", in->description,
	                "how_found", in->how_found, "where", in->where);
	contact = json_pack("{s:s?, s:s?, s:s?}", "name", in->contact_name,
	                    "email", email[0] ? email : NULL, "phone",
	                    phone[0] ? phone : NULL);
	if (doc == NULL || contact == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	r.has_contact = email[0] || phone[0];
	if (json_object_size(contact) > 0 &&
	    json_object_set(doc, "contact", contact) != 0) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	r.controller = c->rowid;
	case_new(r.case_id);
	vlt_random(v, sid, sizeof(sid));
	sodium_bin2base64(out->secret, sizeof(out->secret), sid, sizeof(sid),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	secret_hash(out->secret, r.secret_hash);
	r.received_at = now;
	r.receipt_due = incident_receipt_due(c->policy, day_of(now));
	r.feedback_due = incident_feedback_due(c->policy, day_of(now));
	r.receipt_at = r.feedback_at = r.aware_at = STORE_NO_TIME;
	(void)snprintf(r.classification, sizeof(r.classification), "%s",
	               incident_class_name(INCIDENT_UNCLASSIFIED));
	r.nfiles = (int)in->nfiles;
	r.updated_at = now;
	vlt_random(v, key, sizeof(key));
	r.wrapped_key = wrapped;
	r.wrapped_len = KEY_BYTES + VLT_SEAL_OVERHEAD;
	if ((err = seal_doc(v, r.case_id, "report", key, doc, &r.report,
	                    &r.report_len, msg)) != VAERN_OK)
		goto done;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		goto done;
	/* The rate limit is for the public intake; the operator typing in
	 * reports taken by phone or letter (client NULL) is not limited.
	 * Counted in the write transaction: two reports at once count. */
	if (in->client != NULL &&
	    (err = addr_hash(v, in->client, 1, r.addr_hash, msg)) == VAERN_OK &&
	    (err = store_incident_count_addr(v->store, r.addr_hash,
	                                     now - INCIDENT_RATE_WINDOW, &n,
	                                     msg)) == VAERN_OK &&
	    n >= INCIDENT_PER_ADDRESS)
		err = rate_refusal(msg);
	if (err == VAERN_OK)
		err = vlt_incident_key_wrap(v, r.case_id, key, wrapped, msg);
	if (err == VAERN_OK)
		err = store_incident_insert(v->store, &r, msg);
	for (i = 0; err == VAERN_OK && i < in->nfiles; i++) {
		unsigned char ad[64];
		char what[32];
		size_t adlen;

		(void)snprintf(what, sizeof(what), "file%zu", i + 1);
		adlen = case_ad(ad, sizeof(ad), r.case_id, what);
		if ((sealed = malloc(in->file_lens[i] + VLT_SEAL_OVERHEAD)) ==
		    NULL) {
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
			break;
		}
		vlt_seal(v, sealed, in->files[i], in->file_lens[i], ad, adlen,
		         key);
		err = store_incident_file_insert(
		        v->store, r.rowid, (int)i + 1, types[i], sealed,
		        in->file_lens[i] + VLT_SEAL_OVERHEAD, msg);
		free(sealed);
		sealed = NULL;
	}
	if ((err = change_end(v, err, c->name, &reporter, "incident_reported",
	                      r.case_id, "SHOP-BREACH-1", "report received",
	                      msg)) != VAERN_OK)
		goto done;
	(void)snprintf(out->controller, sizeof(out->controller), "%s", c->name);
	memcpy(out->case_id, r.case_id, sizeof(out->case_id));
	out->receipt_due = r.receipt_due;
	out->feedback_due = r.feedback_due;
	/* SHOP-BREACH-2: "always a receipt within 1-2 working days, so that
	 * you know we received it" -- sent now, when a contact was given,
	 * not left to a staff action. The report is taken already: a
	 * receipt that cannot be sent now stays due and listed. */
	if (r.has_contact)
		out->receipt_sent = intake_receipt(v, c->name, r.case_id);
done:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(sid, sizeof(sid));
	sodium_memzero(email, sizeof(email));
	sodium_memzero(phone, sizeof(phone));
	free(r.report);
	json_decref(contact);
	json_decref(doc);
	if (err != VAERN_OK)
		sodium_memzero(out, sizeof(*out));
	return err;
}

/* ---- reading a case ---------------------------------------------------- */

static json_t *
day_json(long day)
{
	char d[11];

	cal_format_date(day, d);
	return json_string(d);
}

static json_t *
instant_json(int64_t t)
{
	char s[21];

	if (t == STORE_NO_TIME || t == INT64_MIN)
		return json_null();
	cal_format_instant(t, s);
	return json_string(s);
}

/* The 72-hour clock (GDPR Art. 33(1)): seconds left (negative: late) of
 * a breach the controller is aware of, not notified and not decided
 * against; INT64_MIN when no clock runs. */
static int64_t
breach_clock(const struct store_incident *r, json_t *reg, int64_t now)
{
	json_t *notify = reg != NULL ? json_object_get(reg, "notify") : NULL;

	if (strcmp(r->classification,
	           incident_class_name(INCIDENT_DATA_BREACH)) != 0 ||
	    r->aware_at == STORE_NO_TIME || json_is_false(notify) ||
	    (reg != NULL && json_object_get(reg, "notified_at") != NULL))
		return INT64_MIN;
	return r->aware_at + INCIDENT_AWARE_SECONDS - now;
}

/* The clear view of r; reg (may be NULL) adds the register and the
 * 72-hour clock. */
static json_t *
case_json(const char *controller, const struct store_incident *r, json_t *reg)
{
	int64_t left = breach_clock(r, reg, clock_now());
	json_t *j = json_pack(
	        "{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:s, s:o, s:b, s:i}",
	        "case", r->case_id, "controller", controller, "received_at",
	        instant_json(r->received_at), "receipt_due",
	        day_json(r->receipt_due), "receipt_at",
	        instant_json(r->receipt_at), "feedback_due",
	        day_json(r->feedback_due), "feedback_at",
	        instant_json(r->feedback_at), "closed", r->closed,
	        "classification", r->classification, "aware_at",
	        instant_json(r->aware_at), "contact_given", r->has_contact,
	        "screenshots", r->nfiles);

	if (j == NULL)
		return NULL;
	if (left != INT64_MIN) {
		json_object_set_new(
		        j, "notify_by",
		        instant_json(r->aware_at + INCIDENT_AWARE_SECONDS));
		json_object_set_new(
		        j, "hours_left",
		        json_integer(left >= 0 ? left / 3600
		                               : -((-left + 3599) / 3600)));
	}
	if (reg != NULL)
		json_object_set(j, "register", reg);
	return j;
}

/* Loads case_id of controller: VAERN_E_NOTFOUND names no value. */
static enum vaern_err
case_load(struct vault *v, const char *controller, const char *case_id,
          struct controller **c, struct store_incident *r,
          struct vaern_msg *msg)
{
	enum vaern_err err;

	memset(r, 0, sizeof(*r));
	if ((err = vlt_controller(v, controller, c, msg)) != VAERN_OK)
		return err;
	if (!case_ok(case_id))
		return vaern_fail(msg, VAERN_E_NOTFOUND,
		                  "no such case (a case number is SB- and 12 "
		                  "letters and digits)");
	err = store_incident_get(v->store, (*c)->rowid, case_id, r, msg);
	if (err == VAERN_E_NOTFOUND)
		return vaern_fail(msg, VAERN_E_NOTFOUND,
		                  "no such case of controller '%s'",
		                  controller);
	return err;
}

enum vaern_err
vault_report_status(struct vault *v, const char *case_id, const char *secret,
                    json_t **out, struct vaern_msg *msg)
{
	struct store_incident r;
	unsigned char h[32], key[KEY_BYTES + 1];
	json_t *fb = NULL;
	enum vaern_err err;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	secret_hash(secret, h);
	if (!case_ok(case_id) ||
	    store_incident_get(v->store, 0, case_id, &r, msg) != VAERN_OK ||
	    sodium_memcmp(h, r.secret_hash, sizeof(h)) != 0) {
		store_incident_clear(&r);
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "no case with this number and secret");
	}
	if (r.feedback != NULL) {
		if ((err = vlt_incident_key_unwrap(v, &r, key, msg)) !=
		    VAERN_OK)
			goto done;
		err = open_doc(r.case_id, "feedback", key, r.feedback,
		               r.feedback_len, &fb, msg);
		sodium_memzero(key, sizeof(key));
		if (err != VAERN_OK)
			goto done;
	}
	*out = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:o?}", "case",
	                 r.case_id, "received_at", instant_json(r.received_at),
	                 "receipt_due", day_json(r.receipt_due), "receipt_at",
	                 instant_json(r.receipt_at), "feedback_due",
	                 day_json(r.feedback_due), "feedback_at",
	                 instant_json(r.feedback_at), "closed", r.closed,
	                 "feedback", json_incref(json_object_get(fb, "text")));
	err = *out != NULL ? VAERN_OK
	                   : vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
done:
	json_decref(fb);
	store_incident_clear(&r);
	return err;
}

/* Opens the register (and, with report, the report's texts and the
 * feedback) of r. */
static enum vaern_err
case_open(struct vault *v, const struct store_incident *r, json_t **reg,
          json_t **report, json_t **feedback, struct vaern_msg *msg)
{
	unsigned char key[KEY_BYTES + 1];
	enum vaern_err err;

	if ((err = vlt_incident_key_unwrap(v, r, key, msg)) != VAERN_OK)
		return err;
	err = open_doc(r->case_id, "register", key, r->reg, r->reg_len, reg,
	               msg);
	if (err == VAERN_OK && report != NULL)
		err = open_doc(r->case_id, "report", key, r->report,
		               r->report_len, report, msg);
	if (err == VAERN_OK && feedback != NULL && r->feedback != NULL)
		err = open_doc(r->case_id, "feedback", key, r->feedback,
		               r->feedback_len, feedback, msg);
	sodium_memzero(key, sizeof(key));
	return err;
}

enum vaern_err
vault_incident_get(struct vault *v, const char *controller, const char *case_id,
                   int texts, const struct vault_request_actor *who,
                   json_t **out, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_incident r;
	json_t *reg = NULL, *report = NULL, *fb = NULL;
	enum vaern_err err;

	*out = NULL;
	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if ((err = case_load(v, controller, case_id, &c, &r, msg)) != VAERN_OK)
		goto done;
	/* The texts are released only once their reading is audited. */
	if (texts &&
	    (err = audit_case(v, controller, who, "incident_read", r.case_id,
	                      "SHOP-BREACH-1", "report read", msg)) != VAERN_OK)
		goto done;
	if ((err = case_open(v, &r, &reg, texts ? &report : NULL,
	                     texts ? &fb : NULL, msg)) != VAERN_OK)
		goto done;
	if ((*out = case_json(controller, &r, reg)) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	if (report != NULL)
		json_object_set(*out, "report", report);
	if (fb != NULL)
		json_object_set(*out, "feedback", json_object_get(fb, "text"));
done:
	json_decref(reg);
	json_decref(report);
	json_decref(fb);
	store_incident_clear(&r);
	return err;
}

struct list_ctx {
	struct vault *v;
	const char *controller;
	long due_by;
	int all;
	json_t *list;
	struct vaern_msg *msg;
};

static enum vaern_err
list_each(void *arg, const struct store_incident *r)
{
	struct list_ctx *l = arg;
	json_t *reg = NULL, *j;
	enum vaern_err err;
	int due = !r->closed && ((r->receipt_at == STORE_NO_TIME &&
	                          r->receipt_due <= l->due_by) ||
	                         (r->feedback_at == STORE_NO_TIME &&
	                          r->feedback_due <= l->due_by));

	if (!l->all && !due)
		return VAERN_OK;
	if ((err = case_open(l->v, r, &reg, NULL, NULL, l->msg)) != VAERN_OK)
		return err;
	j = case_json(l->controller, r, NULL);
	if (j != NULL) {
		int64_t left = breach_clock(r, reg, clock_now());

		if (left != INT64_MIN)
			json_object_set_new(j, "hours_left",
			                    json_integer(left / 3600));
		json_object_set_new(
		        j, "overdue",
		        json_boolean(!r->closed &&
		                     ((r->receipt_at == STORE_NO_TIME &&
		                       r->receipt_due < clock_today()) ||
		                      (r->feedback_at == STORE_NO_TIME &&
		                       r->feedback_due < clock_today()))));
	}
	json_decref(reg);
	return j != NULL && json_array_append_new(l->list, j) == 0
	               ? VAERN_OK
	               : vaern_fail(l->msg, VAERN_E_NOMEM, "out of memory");
}

enum vaern_err
vault_incident_list(struct vault *v, const char *controller, long due_by,
                    int all, json_t **out, struct vaern_msg *msg)
{
	struct controller *c;
	struct list_ctx l = {v, controller, due_by, all, NULL, msg};
	enum vaern_err err;

	*out = NULL;
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if ((l.list = json_array()) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	err = store_incident_foreach(v->store, c->rowid, list_each, &l, msg);
	if (err != VAERN_OK) {
		json_decref(l.list);
		return err;
	}
	*out = l.list;
	return VAERN_OK;
}

/* ---- receipt and feedback (SHOP-BREACH-2) ------------------------------ */

/* Sends a message about r to the reporter's contact, if any, in the
 * reporter's language (the contact's country, else the controller's). */
static enum vaern_err
tell_reporter(struct vault *v, struct controller *c,
              const struct store_incident *r, int feedback, const char *text,
              int closed, struct vaern_msg *msg)
{
	struct vault_message m;
	json_t *report = NULL, *reg = NULL, *contact;
	const char *email, *phone, *lang;
	char body[INCIDENT_TEXT_MAX + 512];
	enum vaern_err err;

	if (!r->has_contact)
		return VAERN_OK;
	if (v->outbox_fn == NULL)
		return vaern_fail(msg, VAERN_E_IO, "no outbox is set");
	if ((err = case_open(v, r, &reg, &report, NULL, msg)) != VAERN_OK)
		goto done;
	contact = json_object_get(report, "contact");
	email = json_string_value(json_object_get(contact, "email"));
	phone = json_string_value(json_object_get(contact, "phone"));
	lang = incident_person_lang(email, phone,
	                            c->policy->controller.language);
	if (!feedback)
		incident_receipt_body(lang, r->case_id, r->feedback_due, body,
		                      sizeof(body));
	else
		incident_feedback_body(lang, r->case_id, text, closed, body,
		                       sizeof(body));
	memset(&m, 0, sizeof(m));
	m.controller = c->name;
	m.request = r->case_id;
	m.contact_type = email != NULL ? "email" : "phone";
	m.to = email != NULL ? email : phone;
	m.title = incident_message_title(lang, feedback ? INCIDENT_MSG_FEEDBACK
	                                                : INCIDENT_MSG_RECEIPT);
	m.body = body;
	if (m.to != NULL)
		err = v->outbox_fn(v->outbox_arg, &m, msg);
	sodium_memzero(body, sizeof(body));
done:
	json_decref(report);
	json_decref(reg);
	return err;
}

/* Sends the receipt of case r (loaded) and records it, audited as who's
 * (SHOP-BREACH-2): sent first, then recorded, so a message that cannot be
 * sent records no receipt. */
static enum vaern_err
receipt_send(struct vault *v, struct controller *c, const char *controller,
             struct store_incident *r, const struct vault_request_actor *who,
             const char *why, struct vaern_msg *msg)
{
	enum vaern_err err;

	if (r->receipt_at != STORE_NO_TIME)
		return vaern_fail(msg, VAERN_E_EXISTS,
		                  "the receipt of this case was already sent");
	if ((err = tell_reporter(v, c, r, 0, NULL, 0, msg)) != VAERN_OK)
		return err;
	r->receipt_at = r->updated_at = clock_now();
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	return change_end(v, store_incident_update(v->store, r, msg),
	                  controller, who, "incident_receipt", r->case_id,
	                  "SHOP-BREACH-2", why, msg);
}

/* The receipt of a report just taken, sent and recorded as the
 * intake's: 1 if it was. */
static int
intake_receipt(struct vault *v, const char *controller, const char *case_id)
{
	static const struct vault_request_actor intake = {"intake", "public"};
	struct vaern_msg msg = {{0}};
	struct controller *c;
	struct store_incident r;
	int sent = 0;

	if (case_load(v, controller, case_id, &c, &r, &msg) == VAERN_OK)
		sent = receipt_send(v, c, controller, &r, &intake,
		                    "receipt sent on receipt of the report",
		                    &msg) == VAERN_OK;
	store_incident_clear(&r);
	return sent;
}

enum vaern_err
vault_incident_receipt(struct vault *v, const char *controller,
                       const char *case_id,
                       const struct vault_request_actor *who, json_t **out,
                       struct vaern_msg *msg)
{
	struct controller *c;
	struct store_incident r;
	enum vaern_err err;

	*out = NULL;
	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if ((err = case_load(v, controller, case_id, &c, &r, msg)) != VAERN_OK)
		goto done;
	err = receipt_send(v, c, controller, &r, who,
	                   r.has_contact ? "receipt sent"
	                                 : "receipt recorded (anonymous)",
	                   msg);
	if (err == VAERN_OK && (*out = case_json(controller, &r, NULL)) == NULL)
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
done:
	store_incident_clear(&r);
	return err;
}

enum vaern_err
vault_incident_feedback(struct vault *v, const char *controller,
                        const char *case_id, const char *text, int closed,
                        const struct vault_request_actor *who, json_t **out,
                        struct vaern_msg *msg)
{
	struct controller *c;
	struct store_incident r;
	unsigned char key[KEY_BYTES + 1];
	json_t *doc = NULL;
	enum vaern_err err;

	*out = NULL;
	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if ((err = incident_text_check(text, "text", 1, msg)) != VAERN_OK)
		return err;
	if ((err = case_load(v, controller, case_id, &c, &r, msg)) != VAERN_OK)
		goto done;
	if (r.closed) {
		err = vaern_fail(msg, VAERN_E_INVALID, "the case is closed");
		goto done;
	}
	if ((doc = json_pack("{s:s, s:b}", "text", text, "closed", closed)) ==
	    NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	if ((err = vlt_incident_key_unwrap(v, &r, key, msg)) != VAERN_OK)
		goto done;
	free(r.feedback);
	r.feedback = NULL;
	err = seal_doc(v, r.case_id, "feedback", key, doc, &r.feedback,
	               &r.feedback_len, msg);
	sodium_memzero(key, sizeof(key));
	if (err != VAERN_OK)
		goto done;
	if ((err = tell_reporter(v, c, &r, 1, text, closed, msg)) != VAERN_OK)
		goto done;
	r.feedback_at = r.updated_at = clock_now();
	if (r.receipt_at == STORE_NO_TIME)
		r.receipt_at = r.feedback_at; /* the feedback receipts too */
	r.closed = closed != 0;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		goto done;
	err = change_end(
	        v, store_incident_update(v->store, &r, msg), controller, who,
	        "incident_feedback", r.case_id, "SHOP-BREACH-2",
	        closed ? "feedback given, case closed" : "feedback given", msg);
	if (err == VAERN_OK && (*out = case_json(controller, &r, NULL)) == NULL)
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
done:
	json_decref(doc);
	store_incident_clear(&r);
	return err;
}

/* ---- triage and the register (SHOP-BREACH-3, GDPR-33) ------------------- */

enum vaern_err
vault_incident_triage(struct vault *v, const char *controller,
                      const char *case_id, json_t *patch,
                      const struct vault_request_actor *who, json_t **out,
                      struct vaern_msg *msg)
{
	struct controller *c;
	struct store_incident r;
	unsigned char key[KEY_BYTES + 1];
	json_t *reg = NULL;
	const char *cls;
	enum vaern_err err;
	char what[96];

	*out = NULL;
	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if ((err = case_load(v, controller, case_id, &c, &r, msg)) != VAERN_OK)
		goto done;
	if ((err = case_open(v, &r, &reg, NULL, NULL, msg)) != VAERN_OK)
		goto done;
	if ((err = incident_register_merge(c->policy, reg, patch, clock_now(),
	                                   msg)) != VAERN_OK)
		goto done;
	cls = json_string_value(json_object_get(reg, "classification"));
	(void)snprintf(
	        r.classification, sizeof(r.classification), "%s",
	        cls != NULL ? cls : incident_class_name(INCIDENT_UNCLASSIFIED));
	r.aware_at = incident_time(reg, "aware_at");
	if (r.aware_at == INT64_MIN)
		r.aware_at = STORE_NO_TIME;
	if ((err = vlt_incident_key_unwrap(v, &r, key, msg)) != VAERN_OK)
		goto done;
	free(r.reg);
	r.reg = NULL;
	err = seal_doc(v, r.case_id, "register", key, reg, &r.reg, &r.reg_len,
	               msg);
	sodium_memzero(key, sizeof(key));
	if (err != VAERN_OK)
		goto done;
	r.updated_at = clock_now();
	/* The fields changed, by name; never their texts. */
	{
		const char *k;
		json_t *x;
		size_t at = 0;

		what[0] = '\0';
		json_object_foreach(patch, k, x)
		{
			int n = snprintf(what + at, sizeof(what) - at, "%s%s",
			                 at ? "," : "set ", k);

			(void)x;
			if (n < 0 || (size_t)n >= sizeof(what) - at)
				break;
			at += (size_t)n;
		}
	}
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		goto done;
	if ((err = change_end(v, store_incident_update(v->store, &r, msg),
	                      controller, who, "incident_triage", r.case_id,
	                      "GDPR-33", what, msg)) != VAERN_OK)
		goto done;
	if ((*out = case_json(controller, &r, reg)) == NULL)
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
done:
	json_decref(reg);
	store_incident_clear(&r);
	return err;
}

struct reg_ctx {
	struct vault *v;
	json_t *list;
	struct vaern_msg *msg;
};

static enum vaern_err
reg_each(void *arg, const struct store_incident *r)
{
	struct reg_ctx *l = arg;
	json_t *reg = NULL, *e;
	enum vaern_err err;

	if (strcmp(r->classification,
	           incident_class_name(INCIDENT_DATA_BREACH)) != 0)
		return VAERN_OK;
	if ((err = case_open(l->v, r, &reg, NULL, NULL, l->msg)) != VAERN_OK)
		return err;
	e = json_deep_copy(reg);
	if (e != NULL) {
		json_object_set_new(e, "case", json_string(r->case_id));
		json_object_set_new(e, "received_at",
		                    instant_json(r->received_at));
	}
	json_decref(reg);
	return e != NULL && json_array_append_new(l->list, e) == 0
	               ? VAERN_OK
	               : vaern_fail(l->msg, VAERN_E_NOMEM, "out of memory");
}

enum vaern_err
vault_incident_register(struct vault *v, const char *controller,
                        const struct vault_request_actor *who, json_t **out,
                        struct vaern_msg *msg)
{
	struct controller *c;
	struct reg_ctx l = {v, NULL, msg};
	enum vaern_err err;

	*out = NULL;
	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if ((err = audit_case(v, controller, who, "incident_register", "-",
	                      "GDPR-33", "register read", msg)) != VAERN_OK)
		return err;
	if ((l.list = json_array()) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	err = store_incident_foreach(v->store, c->rowid, reg_each, &l, msg);
	if (err != VAERN_OK) {
		json_decref(l.list);
		return err;
	}
	*out = l.list;
	return VAERN_OK;
}

/* The case, checked to be a personal data breach, with its register. */
static enum vaern_err
breach_load(struct vault *v, const char *controller, const char *case_id,
            struct controller **c, struct store_incident *r, json_t **reg,
            struct vaern_msg *msg)
{
	enum vaern_err err;

	*reg = NULL;
	if ((err = case_load(v, controller, case_id, c, r, msg)) != VAERN_OK)
		return err;
	if (strcmp(r->classification,
	           incident_class_name(INCIDENT_DATA_BREACH)) != 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the case is not classified "
		                  "personal_data_breach");
	return case_open(v, r, reg, NULL, NULL, msg);
}

enum vaern_err
vault_incident_notification(struct vault *v, const char *controller,
                            const char *case_id, const char *lang,
                            const struct vault_request_actor *who, json_t **out,
                            struct vaern_msg *msg)
{
	struct controller *c;
	struct store_incident r;
	json_t *reg = NULL, *view = NULL;
	int64_t sent = 0;
	enum vaern_err err;

	*out = NULL;
	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if ((err = breach_load(v, controller, case_id, &c, &r, &reg, msg)) !=
	            VAERN_OK ||
	    (err = store_incident_notice_count(v->store, r.rowid, &sent,
	                                       msg)) != VAERN_OK)
		goto done;
	if ((view = case_json(controller, &r, NULL)) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	if (r.aware_at != STORE_NO_TIME)
		json_object_set_new(
		        view, "notify_by",
		        instant_json(r.aware_at + INCIDENT_AWARE_SECONDS));
	json_object_set_new(view, "subjects_informed",
	                    json_integer((json_int_t)sent));
	if ((err = audit_case(v, controller, who, "incident_notification",
	                      r.case_id, "GDPR-33", "draft notification",
	                      msg)) != VAERN_OK)
		goto done;
	if ((*out = incident_notification(c->policy, view, reg, lang)) == NULL)
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
done:
	json_decref(view);
	json_decref(reg);
	store_incident_clear(&r);
	return err;
}

enum vaern_err
vault_incident_notify(struct vault *v, const char *controller,
                      const char *case_id,
                      const unsigned char (*subjects)[VAULT_UID_BYTES],
                      size_t n, const struct vault_request_actor *who,
                      struct vault_notice_report *rep, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_incident r;
	struct vlt_contact_find cf;
	struct vault_message m;
	json_t *reg = NULL;
	const char *risk;
	char body[3 * INCIDENT_TEXT_MAX + 1024], why[128];
	enum vaern_err err;

	memset(rep, 0, sizeof(*rep));
	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if (v->outbox_fn == NULL)
		return vaern_fail(msg, VAERN_E_IO, "no outbox is set");
	if ((err = breach_load(v, controller, case_id, &c, &r, &reg, msg)) !=
	    VAERN_OK)
		goto done;
	risk = json_string_value(json_object_get(reg, "risk"));
	if (risk == NULL || strcmp(risk, "high") != 0 ||
	    json_object_get(reg, "consequences") == NULL ||
	    json_object_get(reg, "measures_taken") == NULL) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "messages to the people (GDPR Art. 34) need "
		                 "risk 'high', 'consequences' and "
		                 "'measures_taken' in the register");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const char *lang;
		int has = 0;

		if ((err = store_incident_notice_has(v->store, r.rowid,
		                                     subjects[i], &has, msg)) !=
		    VAERN_OK)
			goto done;
		if (has) {
			rep->already++;
			continue;
		}
		(void)snprintf(why, sizeof(why),
		               "the address for case %s's Art. 34 message",
		               r.case_id);
		err = vlt_contact_of(v, c, PURPOSE, why, subjects[i], ID_NONE,
		                     who, &cf, msg);
		if (err == VAERN_E_INVALID || err == VAERN_E_NOTFOUND) {
			rep->no_contact++;
			continue;
		}
		if (err != VAERN_OK)
			goto done;
		/* In the person's language (their phone's or e-mail's
		 * country, else the controller's), from the templates. */
		lang = incident_person_lang(cf.email[0] ? cf.email : NULL,
		                            cf.phone[0] ? cf.phone : NULL,
		                            c->policy->controller.language);
		incident_notice_body(c->policy, lang, reg, body, sizeof(body));
		memset(&m, 0, sizeof(m));
		m.controller = c->name;
		m.request = r.case_id;
		m.contact_type = cf.want == ID_PHONE ? "phone" : "email";
		m.to = cf.value;
		m.title = incident_message_title(lang, INCIDENT_MSG_NOTICE);
		m.body = body;
		/* Sent, then recorded and audited: the message is the act. */
		err = v->outbox_fn(v->outbox_arg, &m, msg);
		sodium_memzero(&cf, sizeof(cf));
		if (err != VAERN_OK)
			goto done;
		if ((err = vlt_begin(v, msg)) != VAERN_OK)
			goto done;
		{
			struct vault_audit_event e;

			case_event(&e, why, sizeof(why), controller, who,
			           "incident_notice", r.case_id, "GDPR-33",
			           "Art. 34 message sent");
			e.subject = subjects[i];
			err = vlt_change_end(
			        v,
			        store_incident_notice_insert(v->store, r.rowid,
			                                     subjects[i],
			                                     clock_now(), msg),
			        &e, msg);
			if (err != VAERN_OK)
				goto done;
		}
		rep->sent++;
	}
done:
	sodium_memzero(body, sizeof(body));
	json_decref(reg);
	store_incident_clear(&r);
	return err;
}

enum vaern_err
vault_incident_screenshot(struct vault *v, const char *controller,
                          const char *case_id, int seq,
                          const struct vault_request_actor *who, char type[16],
                          unsigned char **bytes, size_t *len,
                          struct vaern_msg *msg)
{
	struct controller *c;
	struct store_incident r;
	unsigned char key[KEY_BYTES + 1], ad[64], *sealed = NULL;
	size_t sealed_len = 0, adlen;
	char what[32];
	enum vaern_err err;

	*bytes = NULL;
	*len = 0;
	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if ((err = case_load(v, controller, case_id, &c, &r, msg)) != VAERN_OK)
		goto done;
	if (seq < 1 || seq > r.nfiles) {
		err = vaern_fail(msg, VAERN_E_NOTFOUND, "no such screenshot");
		goto done;
	}
	if ((err = store_incident_file_get(v->store, r.rowid, seq, type,
	                                   &sealed, &sealed_len, msg)) !=
	    VAERN_OK)
		goto done;
	if (sealed_len < VLT_SEAL_OVERHEAD ||
	    (*bytes = malloc(sealed_len - VLT_SEAL_OVERHEAD + 1)) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	/* Released only once its reading is audited. */
	(void)snprintf(what, sizeof(what), "file%d", seq);
	if ((err = audit_case(v, controller, who, "incident_read", r.case_id,
	                      "SHOP-BREACH-1", "screenshot read", msg)) !=
	    VAERN_OK)
		goto done;
	if ((err = vlt_incident_key_unwrap(v, &r, key, msg)) != VAERN_OK)
		goto done;
	adlen = case_ad(ad, sizeof(ad), r.case_id, what);
	err = vlt_unseal(*bytes, sealed, sealed_len, ad, adlen, key, len, msg);
	sodium_memzero(key, sizeof(key));
done:
	if (err != VAERN_OK) {
		free(*bytes);
		*bytes = NULL;
		*len = 0;
	}
	free(sealed);
	store_incident_clear(&r);
	return err;
}

enum vaern_err
vault_incident_audit_search(struct vault *v, const char *controller,
                            const struct vault_request_actor *who,
                            const char *what, struct vaern_msg *msg)
{
	enum vaern_err err;

	if ((err = need_audit(v, who, msg)) != VAERN_OK)
		return err;
	return audit_case(v, controller, who, "incident_affected", "-",
	                  "GDPR-33", what, msg);
}

struct count_ctx {
	struct vault *v;
	struct vault_incident_counts *n;
	struct vaern_msg *msg;
};

static enum vaern_err
count_each(void *arg, const struct store_incident *r)
{
	struct count_ctx *k = arg;
	long today = clock_today();
	json_t *reg = NULL;
	enum vaern_err err;
	int64_t left;

	if (r->closed)
		return VAERN_OK;
	k->n->open++;
	if (r->receipt_at == STORE_NO_TIME && r->receipt_due < today)
		k->n->receipt_overdue++;
	if (r->feedback_at == STORE_NO_TIME && r->feedback_due < today)
		k->n->feedback_overdue++;
	if (r->aware_at == STORE_NO_TIME)
		return VAERN_OK;
	if ((err = case_open(k->v, r, &reg, NULL, NULL, k->msg)) != VAERN_OK)
		return err;
	left = breach_clock(r, reg, clock_now());
	json_decref(reg);
	if (left != INT64_MIN) {
		k->n->breach_clock++;
		if (left < 0)
			k->n->breach_late++;
	}
	return VAERN_OK;
}

/*
 * The deadlines of open cases as webhook events, each once (issue 19):
 * a breach's 72-hour clock started, within its last 24 hours, run out
 * (GDPR-33); the receipt and the feedback past due (SHOP-BREACH-2).
 */
static enum vaern_err
webhook_each(void *arg, const struct store_incident *r)
{
	struct count_ctx *k = arg;
	const char *name = NULL;
	long today = clock_today();
	json_t *reg = NULL;
	enum vaern_err err = VAERN_OK;
	char once[96];
	int64_t left;

	for (size_t i = 0; i < k->v->nctrl; i++)
		if (k->v->ctrl[i].rowid == r->controller)
			name = k->v->ctrl[i].name;
	if (r->closed)
		return VAERN_OK;
	if (r->receipt_at == STORE_NO_TIME && r->receipt_due < today) {
		(void)snprintf(once, sizeof(once),
		               "incident.receipt_overdue:%s", r->case_id);
		if ((err = vlt_webhook_case(k->v, "incident.receipt_overdue",
		                            name, r->case_id, r->classification,
		                            once, k->msg)) != VAERN_OK)
			return err;
	}
	if (r->feedback_at == STORE_NO_TIME && r->feedback_due < today) {
		(void)snprintf(once, sizeof(once),
		               "incident.feedback_overdue:%s", r->case_id);
		if ((err = vlt_webhook_case(k->v, "incident.feedback_overdue",
		                            name, r->case_id, r->classification,
		                            once, k->msg)) != VAERN_OK)
			return err;
	}
	if (r->aware_at == STORE_NO_TIME)
		return VAERN_OK;
	if ((err = case_open(k->v, r, &reg, NULL, NULL, k->msg)) != VAERN_OK)
		return err;
	left = breach_clock(r, reg, clock_now());
	json_decref(reg);
	if (left == INT64_MIN)
		return VAERN_OK;
	{
		static const struct {
			const char *type;
			int64_t below; /* seconds left under which it is told */
		} steps[] = {
		        {"breach.clock_started", INCIDENT_AWARE_SECONDS + 1},
		        {"breach.deadline_near", 24 * 3600},
		        {"breach.deadline_passed", 0},
		};

		for (size_t i = 0;
		     i < sizeof(steps) / sizeof(steps[0]) && err == VAERN_OK;
		     i++) {
			if (left >= steps[i].below)
				continue;
			(void)snprintf(once, sizeof(once), "%s:%s",
			               steps[i].type, r->case_id);
			err = vlt_webhook_case(k->v, steps[i].type, name,
			                       r->case_id, r->classification,
			                       once, k->msg);
		}
	}
	return err;
}

enum vaern_err
vlt_incident_webhook_scan(struct vault *v, struct vaern_msg *msg)
{
	struct vault_incident_counts n;
	struct count_ctx k = {v, &n, msg};

	return store_incident_foreach(v->store, 0, webhook_each, &k, msg);
}

enum vaern_err
vault_incident_counts(struct vault *v, struct vault_incident_counts *out,
                      struct vaern_msg *msg)
{
	struct count_ctx k = {v, out, msg};

	memset(out, 0, sizeof(*out));
	return store_incident_foreach(v->store, 0, count_each, &k, msg);
}
