/*
 * api_consent.c -- consent and the visitor's choices: the consent ledger
 * of a subject (GDPR-7, TEL-MKT-2) and the texts consent was given to,
 * the one-click unsubscribe links (SHOP-MKT-1, AOPT-MKT-1; RFC 8058), the
 * visitors' cookie choices (AURA-COOKIE-1, AOPT-COOKIE-1, SHOP-MKT-2), and
 * the visits and pixels collected under them (AURA-RET-1).
 */
#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audit/audit.h"
#include "../calendar/calendar.h"
#include "../common/utf8.h"
#include "../vault/vault.h"
#include "api_internal.h"

/* The audit reason of a consent record: its source and the first bytes
 * of the text's hash (ids and hashes, never a value). */
static void
consent_reason(char *buf, size_t bufsz, const char *source,
               const struct vault_consent_done *done)
{
	char hex[2 * VAULT_TEXT_HASH_BYTES + 1];

	if (!done->has_text_hash) {
		(void)snprintf(buf, bufsz, "source %.64s", source);
		return;
	}
	sodium_bin2hex(hex, sizeof(hex), done->text_hash,
	               sizeof(done->text_hash));
	(void)snprintf(buf, bufsz, "source %.64s; text sha256 %.16s", source,
	               hex);
}

/* What consent_prepare needs to write a consent's reason. */
struct consent_prep {
	char *reason; /* the event's reason buffer */
	size_t size;
	const char *source;
	const struct vault_consent_done *done; /* the text's hash, once
	                                          known */
};

/* The reason of a consent's audit entry, made in its transaction. */
static void
consent_prepare(void *arg, struct vault_audit_event *e)
{
	struct consent_prep *p = arg;

	consent_reason(p->reason, p->size, p->source, p->done);
	e->reason = p->reason;
}

/*
 * POST /v1/subjects/{id}/consents:
 *   {"purpose", "source", "given_at", "text" | "text_hash"};
 * DELETE /v1/subjects/{id}/consents/{purpose}?source=S (GDPR-7).
 */
static int
consent(struct http_request *req, struct http_response *res, void *app,
        int withdraw)
{
	struct ctx c;
	unsigned char uid[VAULT_UID_BYTES], hash[VAULT_TEXT_HASH_BYTES];
	struct vault_consent_act act;
	struct vault_consent_done done;
	struct vault_audit_event ev;
	struct consent_prep prep;
	const char *hash_hex = NULL;
	char hex[2 * VAULT_TEXT_HASH_BYTES + 1], reason[160];
	json_t *doc = NULL, *answer;
	enum vaern_err err;
	int rc;

	memset(&act, 0, sizeof(act));
	memset(&done, 0, sizeof(done));
	act.at = INT64_MIN;
	act.withdraw = withdraw;
	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (subject_param(req, res, uid))
		return 0; /* answered */
	if (withdraw) {
		act.purpose = http_request_param(req, "purpose");
		act.source = http_request_query(req, "source");
		if (act.source == NULL)
			act.source = "api";
	} else {
		if (body(req, res, consent_keys, &doc))
			return 0; /* answered */
		act.purpose = str_member(doc, "purpose");
		act.source = str_member(doc, "source");
		act.text = str_member(doc, "text");
		hash_hex = str_member(doc, "text_hash");
		if (act.purpose == NULL || act.source == NULL ||
		    parse_time(str_member(doc, "given_at"), &act.at, &c.msg) !=
		            0) {
			rc = http_respond_error(res, 400, "invalid", "%s",
			                        c.msg.text[0]
			                                ? c.msg.text
			                                : "purpose and source "
			                                  "are required");
			goto done;
		}
		if (hash_hex != NULL) {
			if (vault_text_hash_parse(hash_hex, hash, &c.msg)) {
				rc = http_respond_error(res, 400, "invalid",
				                        "%s", c.msg.text);
				goto done;
			}
			act.text_hash = hash;
		}
	}
	/* Another controller's subject is not found, whatever the role. */
	if ((err = vault_subject_exists(c.v, c.actor.controller, uid,
	                                &c.msg)) != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	if (policy_purpose_index(c.policy, act.purpose) >= 0 &&
	    !role_has_purpose(&c, act.purpose)) {
		rc = refuse(&c, res,
		            withdraw ? "consent_withdraw" : "consent_give",
		            act.purpose, uid, "AURA-SHARE-1",
		            "role '%s' may not use purpose '%s'", c.actor.role,
		            act.purpose);
		goto done;
	}
	/* GDPR-7; the entry commits with the consent (issue 12), its reason
	 * made in the transaction, once the text's hash is known. */
	reason[0] = '\0';
	prep.reason = reason;
	prep.size = sizeof(reason);
	prep.source = act.source;
	prep.done = &done;
	change_event(&c, &ev, withdraw ? "consent_withdraw" : "consent_give",
	             act.purpose, uid, NULL, 1, "GDPR-7", reason);
	vault_audit_next_change(c.v, &ev);
	vault_audit_prepare(c.v, consent_prepare, &prep);
	err = vault_consent_apply(c.v, c.actor.controller, uid, &act, &done,
	                          &c.msg);
	vault_audit_next_change(c.v, NULL);
	if (err == VAERN_OK) {
		consent_reason(reason, sizeof(reason), act.source, &done);
		err = audit_change_event(&c, &ev);
	}
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	answer =
	        json_pack("{s:s, s:s, s:s, s:s, s:o}", "subject",
	                  http_request_param(req, "id"), "purpose", act.purpose,
	                  "consent", withdraw ? "withdrawn" : "given", "source",
	                  act.source, "at", time_json(done.at));
	if (done.has_text_hash) {
		sodium_bin2hex(hex, sizeof(hex), done.text_hash,
		               sizeof(done.text_hash));
		json_object_set_new(answer, "text_hash", json_string(hex));
	}
	if (withdraw)
		/* TEL-MKT-2: the ledger is kept as proof until then. */
		json_object_set_new(answer, "kept_until",
		                    time_json(done.expires_at));
	if (done.unsubscribe_token[0] != '\0')
		/* SHOP-MKT-1: shown once; only its hash is kept. */
		json_object_set_new(answer, "unsubscribe_token",
		                    json_string(done.unsubscribe_token));
	rc = http_respond_json(res, withdraw ? 200 : 201, answer);
done:
	sodium_memzero(&done, sizeof(done));
	json_decref(doc);
	return rc;
}

int
h_consent_give(struct http_request *req, struct http_response *res, void *app)
{
	return consent(req, res, app, 0);
}

int
h_consent_withdraw(struct http_request *req, struct http_response *res,
                   void *app)
{
	return consent(req, res, app, 1);
}

/* The ledger read back: rows and, per purpose, its state. */
struct history {
	json_t *rows;
	json_t *purposes; /* purpose id -> null, filled after the walk */
};

static enum vaern_err
history_json(void *arg, const struct vault_consent_rec *r)
{
	struct history *h = arg;
	char hex[2 * VAULT_TEXT_HASH_BYTES + 1];
	json_t *o;

	if (r->text_hash != NULL)
		sodium_bin2hex(hex, sizeof(hex), r->text_hash,
		               VAULT_TEXT_HASH_BYTES);
	o = json_pack("{s:s, s:I, s:o, s:s, s:s, s:s?}", "purpose", r->purpose,
	              "seq", (json_int_t)r->seq, "at", time_json(r->at),
	              "event", r->withdrawn ? "withdrawn" : "given", "source",
	              r->source, "text_hash", r->text_hash ? hex : NULL);
	if (o == NULL || json_array_append_new(h->rows, o) != 0 ||
	    json_object_set_new(h->purposes, r->purpose, json_null()) != 0)
		return VAERN_E_NOMEM;
	return VAERN_OK;
}

/* GET /v1/subjects/{id}/consents: the ledger (GDPR-7), with each
 * purpose's state (in force, last use, kept until: TEL-MKT-2). */
int
h_consent_history(struct http_request *req, struct http_response *res,
                  void *app)
{
	struct ctx c;
	unsigned char uid[VAULT_UID_BYTES];
	struct history h;
	const char *purpose;
	json_t *val;
	enum vaern_err err;

	if (begin_subject(req, res, app, &c, uid))
		return 0; /* answered */
	if (!role_operational(&c) && !role_audits(&c))
		return refuse(&c, res, "consent_history", NULL, uid,
		              "AURA-SHARE-1",
		              "role '%s' uses no purpose and may not read the "
		              "consent ledger",
		              c.actor.role);
	h.rows = json_array();
	h.purposes = json_object();
	err = vault_consent_history(c.v, c.actor.controller, uid, history_json,
	                            &h, &c.msg);
	json_object_foreach(h.purposes, purpose, val)
	{
		struct vault_consent_state st;

		if (err != VAERN_OK)
			break;
		if ((err = vault_consent_state(c.v, c.actor.controller, uid,
		                               purpose, &st, &c.msg)) !=
		    VAERN_OK)
			break;
		json_object_set_new(
		        h.purposes, purpose,
		        json_pack("{s:b, s:o, s:o}", "in_force", st.in_force,
		                  "last_used", time_json(st.last_used),
		                  "kept_until", time_json(st.expires_at)));
	}
	if (err == VAERN_OK)
		err = audit_change(&c, "consent_history", NULL, uid, NULL, 1,
		                   "GDPR-7", "consent ledger read");
	if (err != VAERN_OK) {
		json_decref(h.rows);
		json_decref(h.purposes);
		return fail(res, err, &c.msg);
	}
	return http_respond_json(res, 200,
	                         json_pack("{s:s, s:o, s:o}", "subject",
	                                   http_request_param(req, "id"),
	                                   "consents", h.rows, "purposes",
	                                   h.purposes));
}

/* GET /v1/consent-texts/{hash}: the text a consent was given to. */
int
h_consent_text(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	unsigned char hash[VAULT_TEXT_HASH_BYTES];
	const char *hex = http_request_param(req, "hash");
	char *text = NULL;
	enum vaern_err err;
	int rc;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (hex == NULL || vault_text_hash_parse(hex, hash, &c.msg) != VAERN_OK)
		return http_respond_error(res, 400, "invalid", "%s",
		                          c.msg.text[0] ? c.msg.text
		                                        : "a text hash is 64 "
		                                          "hex digits");
	err = vault_consent_text(c.v, hash, &text, &c.msg);
	if (err != VAERN_OK)
		return fail(res, err, &c.msg);
	rc = http_respond_json(
	        res, 200,
	        json_pack("{s:s, s:s}", "text_hash", hex, "text", text));
	free(text);
	return rc;
}

/* ---- unsubscribe links (SHOP-MKT-1, AOPT-MKT-1; RFC 8058) ---------------- */

static int
wants_html(struct http_request *req)
{
	const char *accept = http_request_header(req, "Accept");

	return accept != NULL && strstr(accept, "text/html") != NULL;
}

static int
unsubscribe_answer(struct http_request *req, struct http_response *res,
                   const struct vault_unsubscribe *u, int status, int changed)
{
	char page[1024];
	int n;

	if (!wants_html(req))
		return http_respond_json(
		        res, status,
		        json_pack("{s:s, s:s, s:b, s:b}", "controller",
		                  u->controller, "purpose", u->purpose,
		                  "subscribed", u->in_force && !changed,
		                  "unsubscribed", changed));
	/* Ids only (policy ids are [a-z0-9_-]); no script: the page works
	 * under the default CSP, a form posts the one-click body. */
	n = snprintf(page, sizeof(page),
	             "<!doctype html><html><head><meta charset=\"utf-8\">"
	             "<title>Unsubscribe</title></head><body>"
	             "<p>Consent to <b>%s</b> of <b>%s</b>: %s.</p>%s"
	             "</body></html>\n",
	             u->purpose, u->controller,
	             changed       ? "withdrawn"
	             : u->in_force ? "in force"
	                           : "already withdrawn",
	             u->in_force && !changed
	                     ? "<form method=\"post\"><input type=\"hidden\" "
	                       "name=\"List-Unsubscribe\" value=\"One-Click\">"
	                       "<button>Unsubscribe</button></form>"
	                     : "");
	if (n < 0 || (size_t)n >= sizeof(page))
		return fail(res, VAERN_E_INTERNAL, NULL);
	return http_respond_body(res, status, "text/html; charset=utf-8", page,
	                         (size_t)n);
}

/* begin_public(), then what the token of the path ({token}) was made for
 * into *u. 1 once it has answered (404 for an unknown token). */
static int
begin_unsubscribe(struct http_request *req, struct http_response *res,
                  void *app, struct ctx *c, struct vault_unsubscribe *u)
{
	const char *token = http_request_param(req, "token");
	enum vaern_err err;

	if (begin_public(req, res, app, c))
		return 1;
	err = vault_unsubscribe_find(c->v, token ? token : "", u, &c->msg);
	if (err != VAERN_OK) {
		(void)fail(res, err, &c->msg);
		return 1;
	}
	return 0;
}

/* GET /v1/unsubscribe/{token}: what a POST would do; changes nothing. */
int
h_unsubscribe_show(struct http_request *req, struct http_response *res,
                   void *app)
{
	struct ctx c;
	struct vault_unsubscribe u;

	if (begin_unsubscribe(req, res, app, &c, &u))
		return 0; /* answered */
	return unsubscribe_answer(req, res, &u, 200, 0);
}

/* 1 if the body is empty or the RFC 8058 one-click form body. */
static int
one_click_body(struct http_request *req)
{
	static const char form[] = "List-Unsubscribe=One-Click";
	size_t len = 0;
	const char *b = http_request_body(req, &len);

	while (len > 0 && (b[len - 1] == '\n' || b[len - 1] == '\r'))
		len--;
	return len == 0 ||
	       (len == sizeof(form) - 1 && memcmp(b, form, len) == 0);
}

/* POST /v1/unsubscribe/{token}: withdraws the consent the token was made
 * for, no login needed (SHOP-MKT-1, AOPT-MKT-1; GDPR-7: as easy as
 * giving). A second POST changes nothing. */
int
h_unsubscribe(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	struct vault_unsubscribe u;
	struct vault_consent_act act;
	struct vault_consent_done done;
	struct audit_entry e;
	enum vaern_err err;

	if (begin_unsubscribe(req, res, app, &c, &u))
		return 0; /* answered */
	if (!one_click_body(req))
		return http_respond_error(res, 400, "invalid",
		                          "the body of a one-click unsubscribe "
		                          "is List-Unsubscribe=One-Click "
		                          "(RFC 8058), or empty");
	if (!u.in_force)
		return unsubscribe_answer(req, res, &u, 200, 0);
	memset(&act, 0, sizeof(act));
	act.purpose = u.purpose;
	act.source = "unsubscribe_link";
	act.withdraw = 1;
	act.at = INT64_MIN;
	err = vault_consent_apply(c.v, u.controller, u.uid, &act, &done,
	                          &c.msg);
	if (err == VAERN_E_EXISTS) /* withdrawn meanwhile */
		return unsubscribe_answer(req, res, &u, 200, 0);
	if (err == VAERN_OK) {
		memset(&e, 0, sizeof(e));
		e.controller = u.controller;
		e.actor = "unsubscribe_link";
		e.role = "subject";
		e.purpose = u.purpose;
		e.action = "consent_withdraw";
		e.subject = u.uid;
		e.allowed = 1;
		e.rule = "SHOP-MKT-1";
		e.reason = "source unsubscribe_link; one click, no login";
		err = audit_submit(&c, &e, &c.msg);
	}
	if (err != VAERN_OK)
		return fail(res, err, &c.msg);
	return unsubscribe_answer(req, res, &u, 200, 1);
}

/* ---- visitors' cookie choices (AURA-COOKIE-1, AOPT-COOKIE-1, SHOP-MKT-2) */

/* 1 if the request carries the Global Privacy Control signal. */
static int
gpc_signal(struct http_request *req)
{
	const char *g = http_request_header(req, "Sec-GPC");

	return g != NULL && strcmp(g, "1") == 0;
}

/*
 * The visitor's latest choice into *ch (defaults when none: necessary
 * only); with Sec-GPC: 1, marketing off, recorded as a choice of source
 * "gpc" unless the latest already has marketing off. 1 if answered.
 */
static int
visitor_choice(struct ctx *c, struct http_request *req,
               struct http_response *res, const char *visitor,
               struct vault_choice *ch, char source[VAULT_SOURCE_MAX + 1],
               int *chosen)
{
	enum vaern_err err;

	*chosen = 0;
	err = vault_choice_get(c->v, c->actor.controller, visitor, ch, source,
	                       &c->msg);
	if (err == VAERN_E_NOTFOUND) {
		memset(ch, 0, sizeof(*ch));
		ch->at = INT64_MIN;
		source[0] = '\0';
		ch->source = NULL;
	} else if (err != VAERN_OK) {
		(void)fail(res, err, &c->msg);
		return 1;
	} else {
		*chosen = 1;
	}
	if (gpc_signal(req) && (!*chosen || ch->marketing)) {
		struct vault_choice g = {ch->statistics, 0, "gpc", INT64_MIN};
		struct vault_choice_done d;
		char reason[128];

		if ((err = vault_choice_put(c->v, c->actor.controller, visitor,
		                            &g, &d, &c->msg)) != VAERN_OK) {
			(void)fail(res, err, &c->msg);
			return 1;
		}
		/* SHOP-MKT-2: the refusal ends the marketing processing;
		 * what it deleted is on record. */
		(void)snprintf(reason, sizeof(reason),
		               "statistics %s, marketing off (gpc); deleted "
		               "%lld visits, %lld pixels",
		               g.statistics ? "on" : "off",
		               (long long)d.visits_deleted,
		               (long long)d.pixels_deleted);
		if ((err = audit_change(c, "cookie_choice", NULL, NULL, NULL, 1,
		                        "SHOP-MKT-2", reason)) != VAERN_OK) {
			(void)fail(res, err, &c->msg);
			return 1;
		}
		ch->marketing = 0;
		ch->at = clock_now();
		(void)snprintf(source, VAULT_SOURCE_MAX + 1, "gpc");
		ch->source = source;
		*chosen = 1;
	}
	return 0;
}

static int
choice_answer(struct http_response *res, int status,
              const struct vault_choice *ch, int chosen, int gpc,
              const struct vault_choice_done *d)
{
	json_t *doc = json_pack(
	        "{s:b, s:b, s:b, s:b, s:s?, s:o, s:b}", "necessary", 1,
	        "statistics", ch->statistics, "marketing", ch->marketing,
	        "chosen", chosen, "source", chosen ? ch->source : NULL, "at",
	        time_json(chosen ? ch->at : INT64_MIN), "gpc", gpc);

	/* What the choice deleted at once (GDPR-7, GDPR-21). */
	if (doc != NULL && d != NULL)
		json_object_set_new(doc, "deleted",
		                    json_pack("{s:I, s:I}", "visits",
		                              (json_int_t)d->visits_deleted,
		                              "pixels",
		                              (json_int_t)d->pixels_deleted));
	return http_respond_json(res, status, doc);
}

/* A boolean member of a choice: 1, 0, or -1 (absent); -2 if not a
 * boolean. */
static int
bool_member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return -1;
	return json_is_boolean(v) ? json_is_true(v) : -2;
}

/* PUT /v1/visitors/{visitor_id}/choices: {"necessary", "statistics",
 * "marketing"} (booleans), appended; the latest decides. */
int
h_choice_put(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"necessary", "statistics",
	                                   "marketing", NULL};
	struct ctx c;
	struct vault_choice ch;
	struct vault_choice_done d;
	const char *visitor = http_request_param(req, "visitor_id");
	char reason[160];
	json_t *doc = NULL;
	int st, necessary, gpc = gpc_signal(req), rc;
	enum vaern_err err;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if ((st = http_request_json(req, &doc, &c.msg)) != 0)
		return http_respond_error(res, st, http_error_code(st), "%s",
		                          c.msg.text);
	if (!json_is_object(doc)) {
		rc = http_respond_error(res, 400, "invalid",
		                        "expected an object {necessary, "
		                        "statistics, marketing}");
		goto done;
	}
	if (check_key_names(doc, keys, &c.msg) != 0) {
		rc = http_respond_error(res, 400, "invalid", "%s", c.msg.text);
		goto done;
	}
	necessary = bool_member(doc, "necessary");
	ch.statistics = bool_member(doc, "statistics");
	ch.marketing = bool_member(doc, "marketing");
	if (necessary == -2 || ch.statistics < 0 || ch.marketing < 0) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'statistics' and 'marketing' are "
		                        "required, and every choice is true or "
		                        "false");
		goto done;
	}
	if (necessary == 0) {
		rc = http_respond_error(
		        res, 400, "invalid",
		        "'necessary': session cookies (login, cart) cannot be "
		        "refused here; a visitor who refuses them cannot order "
		        "(AOPT-COOKIE-1)");
		goto done;
	}
	if (!role_operational(&c)) {
		rc = refuse(&c, res, "cookie_choice", NULL, NULL,
		            "AURA-SHARE-1",
		            "role '%s' uses no purpose and may not record "
		            "cookie choices",
		            c.actor.role);
		goto done;
	}
	/* Sec-GPC: 1 is a refusal of marketing and sale, whatever the
	 * banner said. */
	if (gpc)
		ch.marketing = 0;
	ch.source = gpc ? "gpc" : "banner";
	ch.at = INT64_MIN;
	err = vault_choice_put(c.v, c.actor.controller, visitor ? visitor : "",
	                       &ch, &d, &c.msg);
	if (err == VAERN_OK) {
		(void)snprintf(reason, sizeof(reason),
		               "statistics %s, marketing %s (%s); deleted %lld "
		               "visits, %lld pixels",
		               ch.statistics ? "on" : "off",
		               ch.marketing ? "on" : "off", ch.source,
		               (long long)d.visits_deleted,
		               (long long)d.pixels_deleted);
		err = audit_change(&c, "cookie_choice", NULL, NULL, NULL, 1,
		                   "AURA-COOKIE-1", reason);
	}
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	ch.at = clock_now();
	rc = choice_answer(res, 200, &ch, 1, gpc, &d);
done:
	json_decref(doc);
	return rc;
}

/* GET /v1/visitors/{visitor_id}/choices: the latest choice. */
int
h_choice_get(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	struct vault_choice ch;
	char source[VAULT_SOURCE_MAX + 1];
	const char *visitor = http_request_param(req, "visitor_id");
	int chosen;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (visitor_choice(&c, req, res, visitor ? visitor : "", &ch, source,
	                   &chosen))
		return 0; /* answered */
	return choice_answer(res, 200, &ch, chosen, gpc_signal(req), NULL);
}

#define PAGE_MAX VAULT_PAGE_MAX /* bytes of a page address */

/*
 * POST /v1/visitors/{visitor_id}/visits {"ip", "page"} (AURA-COOKIE-1,
 * AOPT-COOKIE-1) and POST /v1/visitors/{visitor_id}/pixels {"recipient",
 * "page"} (SHOP-MKT-2): automatically collected data, accepted only when
 * the visitor's latest choice has the cookie category of the purpose on,
 * and then stored encrypted until the policy's rule for the purpose's
 * categories (AURA-RET-1; vault_visit_add). Each decision is an audit
 * entry of the purpose and its categories, without the address, the page
 * or the visitor.
 */
static int
automatic(struct http_request *req, struct http_response *res, void *app,
          enum policy_cookie kind)
{
	static const char *const visit_keys[] = {"ip", "page", NULL};
	static const char *const pixel_keys[] = {"recipient", "page", NULL};
	struct ctx c;
	struct vault_choice ch;
	char source[VAULT_SOURCE_MAX + 1], cats[AUDIT_CATEGORIES_MAX];
	char action[POLICY_NAME_MAX + 8];
	const char *visitor = http_request_param(req, "visitor_id");
	const char *ip, *page, *recipient = NULL;
	const char *what =
	        kind == COOKIE_STATISTICS ? "statistics" : "marketing";
	const char *rule =
	        kind == COOKIE_STATISTICS ? "AURA-COOKIE-1" : "SHOP-MKT-2";
	const struct policy_purpose *pp;
	struct vault_visit_in in;
	struct vault_visit_done done;
	char kept[256];
	unsigned char addr[16];
	json_t *doc = NULL;
	size_t off = 0;
	long pi, ri = -1;
	int chosen, rc, on;
	enum vaern_err err;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (body(req, res, kind == COOKIE_STATISTICS ? visit_keys : pixel_keys,
	         &doc))
		return 0; /* answered */
	page = str_member(doc, "page");
	ip = str_member(doc, "ip");
	if (kind == COOKIE_STATISTICS &&
	    (ip == NULL || (inet_pton(AF_INET, ip, addr) != 1 &&
	                    inet_pton(AF_INET6, ip, addr) != 1))) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'ip' is required: an IPv4 or IPv6 "
		                        "address");
		goto done;
	}
	if (page != NULL && !utf8_line_ok(page, PAGE_MAX)) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'page' is 1 to %d bytes of text",
		                        PAGE_MAX);
		goto done;
	}
	if ((pi = policy_cookie_purpose(c.policy, kind)) < 0) {
		rc = http_respond_error(
		        res, 403, "forbidden",
		        "the policy of '%s' has no purpose with "
		        "cookie: %s: nothing is collected "
		        "automatically for it (%s)",
		        c.actor.controller, what, rule);
		goto done;
	}
	pp = &c.policy->purposes[pi];
	if (kind == COOKIE_MARKETING &&
	    (recipient = str_member(doc, "recipient")) != NULL) {
		ri = policy_recipient_index(c.policy, recipient);
		for (size_t k = 0;
		     ri >= 0 && k < c.policy->recipients[ri].npurposes; k++) {
			if (c.policy->recipients[ri].purposes[k] == (size_t)pi)
				break;
			if (k + 1 == c.policy->recipients[ri].npurposes)
				ri = -1;
		}
		if (ri < 0) {
			rc = http_respond_error(
			        res, 400, "invalid",
			        "'recipient': the policy has no "
			        "recipient '%.64s' of purpose "
			        "'%s'",
			        recipient, pp->id);
			goto done;
		}
	}
	(void)snprintf(action, sizeof(action), "%s%s%s",
	               kind == COOKIE_STATISTICS ? "visit" : "pixel",
	               ri >= 0 ? ":" : "",
	               ri >= 0 ? c.policy->recipients[ri].id : "");
	if (!role_has_purpose(&c, pp->id)) {
		rc = refuse(&c, res, action, pp->id, NULL, "AURA-SHARE-1",
		            "role '%s' may not use purpose '%s'", c.actor.role,
		            pp->id);
		goto done;
	}
	if (visitor_choice(&c, req, res, visitor ? visitor : "", &ch, source,
	                   &chosen)) {
		rc = 0; /* answered */
		goto done;
	}
	for (size_t k = 0; k < pp->ncategories; k++) {
		const char *id = c.policy->categories[pp->categories[k]].id;

		if (off + strlen(id) + 2 >= sizeof(cats))
			break;
		off += (size_t)snprintf(cats + off, sizeof(cats) - off, "%s%s",
		                        k ? "," : "", id);
	}
	if (off == 0)
		cats[0] = '\0';
	on = kind == COOKIE_STATISTICS ? ch.statistics : ch.marketing;
	if (!on) {
		const char *why = gpc_signal(req) && kind == COOKIE_MARKETING
		                          ? "the browser sends Sec-GPC: 1, a "
		                            "refusal of marketing"
		                  : chosen ? "the visitor refused"
		                           : "the visitor has not chosen";

		if (audit_change(&c, action, pp->id, NULL, cats, 0, rule,
		                 why) != VAERN_OK) {
			rc = fail(res, VAERN_E_IO, &c.msg);
			goto done;
		}
		rc = http_respond_error(
		        res, 403,
		        kind == COOKIE_STATISTICS ? "no_statistics_consent"
		                                  : "no_marketing_consent",
		        "%s %s cookies: nothing is collected for purpose '%s' "
		        "(%s)",
		        why, what, pp->id, rule);
		goto done;
	}
	in.kind = kind == COOKIE_STATISTICS ? VAULT_VISIT : VAULT_PIXEL;
	in.ip = kind == COOKIE_STATISTICS ? ip : NULL;
	in.page = page;
	in.recipient = ri >= 0 ? recipient : NULL;
	err = vault_visit_add(c.v, c.actor.controller, visitor ? visitor : "",
	                      &in, &done, &c.msg);
	if (err == VAERN_E_DENIED) {
		/* The policy keeps it without a date, or the choice changed
		 * meanwhile: nothing stored, and the refusal on record. The
		 * message names policy terms only. */
		if (audit_change(&c, action, pp->id, NULL, cats, 0, rule,
		                 c.msg.text) != VAERN_OK) {
			rc = fail(res, VAERN_E_IO, &c.msg);
			goto done;
		}
		rc = http_respond_error(res, 403, "forbidden", "%s",
		                        c.msg.text);
		goto done;
	}
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	cal_format_instant(done.expires_at, kept);
	(void)snprintf(kept + strlen(kept), sizeof(kept) - strlen(kept),
	               ": %s stored, kept until then by rule %s",
	               kind == COOKIE_STATISTICS ? "visit" : "pixel",
	               done.rule);
	err = audit_change(&c, action, pp->id, NULL, cats, 1, rule, kept);
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	rc = http_respond_json(
	        res, 201,
	        json_pack("{s:b, s:b, s:s, s:s, s:o, s:s}", "accepted", 1,
	                  "stored", 1, "purpose", pp->id, "categories", cats,
	                  "kept_until", time_json(done.expires_at), "rule",
	                  done.rule));
done:
	json_decref(doc);
	return rc;
}

int
h_visit(struct http_request *req, struct http_response *res, void *app)
{
	return automatic(req, res, app, COOKIE_STATISTICS);
}

int
h_pixel(struct http_request *req, struct http_response *res, void *app)
{
	return automatic(req, res, app, COOKIE_MARKETING);
}

#define VISITS_READ_MAX 10000 /* visits in one answer */

/* The stored visits of a visitor being read, as JSON. */
struct visits_read {
	json_t *list;
	int64_t visits, pixels;
	int truncated;
};

static enum vaern_err
visit_item(void *arg, const struct vault_visit_out *o)
{
	struct visits_read *r = arg;

	if (json_array_size(r->list) == VISITS_READ_MAX) {
		r->truncated = 1;
		return VAERN_E_LIMIT; /* stops the walk; not an error */
	}
	if (o->kind == VAULT_VISIT)
		r->visits++;
	else
		r->pixels++;
	return json_array_append_new(
	               r->list,
	               json_pack(
	                       "{s:s, s:o, s:s?, s:s?, s:s?, s:o, s:s}", "kind",
	                       o->kind == VAULT_VISIT ? "visit" : "pixel", "at",
	                       time_json(o->at), "ip", o->ip, "page", o->page,
	                       "recipient", o->recipient, "kept_until",
	                       time_json(o->expires_at), "rule", o->rule)) == 0
	               ? VAERN_OK
	               : VAERN_E_NOMEM;
}

/*
 * GET /v1/visitors/{visitor_id}/visits: what vaern keeps of a visitor's
 * visits and pixels, decrypted, for a role with `audit: true` (the DPO
 * answering a visitor's access request, GDPR-15). The vault asks the gate
 * and audits the decision before it decrypts anything: the categories,
 * never the data or the visitor.
 */
int
h_visits_get(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	struct visits_read r = {NULL, 0, 0, 0};
	const char *visitor = http_request_param(req, "visitor_id");
	enum vaern_err err;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (!role_audits(&c))
		return refuse(&c, res, "visitor_visits", NULL, NULL, "GDPR-32",
		              "role '%s' may not read a visitor's stored "
		              "data: roles with audit: true only",
		              c.actor.role);
	if ((r.list = json_array()) == NULL)
		return fail(res, VAERN_E_NOMEM, NULL);
	err = vault_visit_foreach(c.v, &c.actor, visitor ? visitor : "",
	                          visit_item, &r, &c.msg);
	if (err == VAERN_E_LIMIT && r.truncated)
		err = VAERN_OK;
	if (err != VAERN_OK) {
		json_decref(r.list);
		return fail(res, err, &c.msg);
	}
	/* The decision was audited by the vault before the read (GDPR-32);
	 * the answer is held until that entry is durable. */
	return http_respond_json(res, 200,
	                         json_pack("{s:o, s:b}", "visits", r.list,
	                                   "truncated", r.truncated));
}
