/*
 * api_subjects.c -- the handlers of /v1/subjects: the create (handed to
 * the create writer, api.c), the gated reads and disclosures answered
 * straight from decrypted values, rectification (GDPR-16), events,
 * restriction (GDPR-18), objection (GDPR-21), agreements (CEK-SHARE-1)
 * and legal holds (CEK-HOLD-1).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audit/audit.h"
#include "../calendar/calendar.h"
#include "../common/utf8.h"
#include "../vault/vault.h"
#include "api_internal.h"

#define FACTS_MAX VAULT_FACTS_PER_DOC

/* A released subject's JSON text: a first allocation and the most one
 * answer may take. */
#define TEXT_MIN ((size_t)4096)
#define TEXT_MAX ((size_t)64 * 1024 * 1024)

static void
text_wipe(struct text *t)
{
	if (t->data != NULL)
		sodium_memzero(t->data, t->len);
	t->len = 0;
	t->failed = 0;
}

/* Makes room for n more bytes. Returns 0, or -1 (failed) past TEXT_MAX
 * or out of memory. */
static int
text_room(struct text *t, size_t n)
{
	size_t cap;
	char *p;

	if (t->failed)
		return -1;
	if (n <= t->cap - t->len)
		return 0;
	if (n > TEXT_MAX - t->len) {
		t->failed = 1;
		return -1;
	}
	for (cap = t->cap < TEXT_MIN ? TEXT_MIN : t->cap; cap - t->len < n;)
		cap = cap > TEXT_MAX / 2 ? TEXT_MAX : cap * 2;
	if ((p = malloc(cap)) == NULL) {
		t->failed = 1;
		return -1;
	}
	if (t->data != NULL) {
		memcpy(p, t->data, t->len);
		sodium_memzero(t->data, t->cap);
		free(t->data);
	}
	t->data = p;
	t->cap = cap;
	return 0;
}

static void
text_raw(struct text *t, const char *s, size_t n)
{
	if (text_room(t, n) == 0) {
		memcpy(t->data + t->len, s, n);
		t->len += n;
	}
}

#define text_lit(t, lit) text_raw((t), (lit), sizeof(lit) - 1)

/*
 * A JSON string: s[0..n) quoted and escaped as RFC 8259 asks (quote,
 * backslash, control characters), UTF-8 passed through. Bytes that are
 * not UTF-8 fail the text: nothing is written half-escaped.
 */
static void
text_str(struct text *t, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	/* Each byte takes at most 6 ("\u00XX"), plus the quotes. */
	if (n > (TEXT_MAX - 2) / 6 || text_room(t, 6 * n + 2) != 0) {
		t->failed = 1;
		return;
	}
	t->data[t->len++] = '"';
	while (i < n) {
		unsigned char ch = p[i];
		char *out = t->data + t->len;
		uint32_t cp;
		size_t k;

		if (ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\') {
			*out = (char)ch;
			t->len++;
			i++;
			continue;
		}
		if (ch == '"' || ch == '\\') {
			out[0] = '\\';
			out[1] = (char)ch;
			t->len += 2;
			i++;
			continue;
		}
		if (ch < 0x20) {
			memcpy(out, "\\u00", 4);
			out[4] = hex[ch >> 4];
			out[5] = hex[ch & 0xf];
			t->len += 6;
			i++;
			continue;
		}
		if ((k = utf8_decode(p + i, n - i, &cp)) == 0) {
			t->failed = 1;
			return;
		}
		memcpy(out, p + i, k);
		t->len += k;
		i += k;
	}
	t->data[t->len++] = '"';
}

static void
text_cstr(struct text *t, const char *s)
{
	if (s == NULL)
		text_lit(t, "null");
	else
		text_str(t, s, strlen(s));
}

static void
text_int(struct text *t, int64_t v)
{
	char buf[24];
	char *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	text_raw(t, p, (size_t)(buf + sizeof(buf) - p));
}

/* An instant as JSON: "2026-01-01T00:00:00Z", or null for none. */
static void
text_time(struct text *t, int64_t at)
{
	char buf[21];

	if (at == INT64_MIN) {
		text_lit(t, "null");
		return;
	}
	cal_format_instant(at, buf);
	text_str(t, buf, strlen(buf));
}

/* Parses a category list: a JSON array of strings, or "a,b" text. */
static int
categories_of(json_t *list, const char *text, const char **out, size_t *n,
              char *buf, size_t bufsz, struct vaern_msg *msg)
{
	size_t i;
	json_t *item;

	*n = 0;
	if (list != NULL && !json_is_null(list)) {
		if (!json_is_array(list) ||
		    json_array_size(list) > CATEGORIES_MAX) {
			(void)vaern_fail(msg, VAERN_E_INVALID,
			                 "'categories' is a list of at most %d "
			                 "category ids",
			                 CATEGORIES_MAX);
			return -1;
		}
		json_array_foreach(list, i, item)
		{
			if (!json_is_string(item)) {
				(void)vaern_fail(
				        msg, VAERN_E_INVALID,
				        "'categories' holds category ids");
				return -1;
			}
			out[(*n)++] = json_string_value(item);
		}
		return 1;
	}
	if (text != NULL) {
		char *p, *save = NULL;
		size_t len = strlen(text);

		if (len >= bufsz) {
			(void)vaern_fail(msg, VAERN_E_INVALID,
			                 "'categories' is too long");
			return -1;
		}
		memcpy(buf, text, len + 1);
		for (p = strtok_r(buf, ",", &save); p != NULL;
		     p = strtok_r(NULL, ",", &save)) {
			if (*n == CATEGORIES_MAX) {
				(void)vaern_fail(msg, VAERN_E_INVALID,
				                 "too many categories");
				return -1;
			}
			out[(*n)++] = p;
		}
		return 1;
	}
	return 0;
}

/* Writes one released fact into the answer (a struct text). */
static enum vaern_err
fact_json(void *arg, const struct vault_fact_out *f)
{
	struct text *t = arg;

	if (t->len > 0 && t->data[t->len - 1] == '}')
		text_lit(t, ",");
	text_lit(t, "{\"id\":");
	text_int(t, f->id);
	text_lit(t, ",\"category\":");
	text_cstr(t, f->category);
	text_lit(t, ",\"value\":");
	text_str(t, f->value, f->len);
	text_lit(t, ",\"purpose\":");
	text_cstr(t, f->purpose);
	text_lit(t, ",\"source\":");
	text_cstr(t, f->source);
	text_lit(t, ",\"collected_at\":");
	text_time(t, f->collected_at);
	if (f->provided_by_subject)
		text_lit(t, ",\"provided_by_subject\":true}");
	else
		text_lit(t, ",\"provided_by_subject\":false}");
	return t->failed ? VAERN_E_NOMEM : VAERN_OK;
}

/*
 * The gated read or disclosure, answered as JSON:
 *   {"subject","purpose","facts":[{"id","category","value","purpose",
 *    "source","collected_at","provided_by_subject"}...],"rule"}
 * written straight into the thread's buffer, which is wiped after.
 */
static int
access_respond(struct ctx *c, struct http_response *res,
               const unsigned char uid[VAULT_UID_BYTES],
               struct vault_access *acc, int status)
{
	struct text *t = &c->w->body;
	struct gate_decision d;
	char hex[VAULT_UID_HEX];
	enum vaern_err err;
	int rc;

	acc->actor = &c->actor;
	vault_uid_format(uid, hex);
	text_wipe(t);
	text_lit(t, "{\"subject\":");
	text_cstr(t, hex);
	text_lit(t, ",\"purpose\":");
	text_cstr(t, acc->purpose);
	text_lit(t, ",\"facts\":[");
	err = vault_subject_access(c->v, uid, acc, fact_json, t, &d, &c->msg);
	if (err != VAERN_OK) {
		text_wipe(t);
		if (err == VAERN_E_DENIED)
			return http_respond_error(res, 403, "forbidden", "%s",
			                          c->msg.text);
		return fail(res, err, &c->msg);
	}
	text_lit(t, "],\"rule\":");
	text_cstr(t, d.rule != NULL ? d.rule : "");
	text_lit(t, "}");
	if (t->failed)
		rc = fail(res, VAERN_E_NOMEM, NULL);
	else
		rc = http_respond_body(res, status, "application/json", t->data,
		                       t->len);
	text_wipe(t);
	return rc;
}

static const char *const fact_keys[] = {"category", "value",        "purpose",
                                        "source",   "collected_at", NULL};

static void
create_job_free(struct create_job *job)
{
	vault_prepared_free(job->prepared); /* if never written */
	free(job->facts);
	free(job->consents);
	json_decref(job->doc);
	json_decref(job->unsubscribe);
	free(job);
}

/* The answer to a create, once the writer is done with it: the hold's
 * finish callback, on the worker thread. Frees job. */
static void
create_answer(void *arg, struct http_response *res)
{
	struct create_job *job = arg;
	char hex[VAULT_UID_HEX];
	char location[sizeof("/v1/subjects/") + VAULT_UID_HEX];

	if (job->err != VAERN_OK) {
		(void)fail(res, job->err, &job->msg);
	} else {
		vault_uid_format(job->uid, hex);
		json_t *answer =
		        json_pack("{s:s, s:I, s:I}", "subject", hex, "facts",
		                  (json_int_t)job->nfacts, "consents",
		                  (json_int_t)job->nconsents);

		/* SHOP-MKT-1: each newsletter's link, shown once. */
		if (answer != NULL && job->unsubscribe != NULL)
			json_object_set(answer, "unsubscribe_tokens",
			                job->unsubscribe);
		/* Issue 12: the new subject's own resource (RFC 9110 15.3.2).
		 */
		(void)snprintf(location, sizeof(location), "/v1/subjects/%s",
		               hex);
		(void)http_respond_header(res, "Location", location);
		(void)http_respond_json(res, 201, answer);
	}
	create_job_free(job);
}

/*
 * Reads the list jf of facts of a body into facts ([its size]), each with
 * the body's defaults dpurpose and dsource; cats gets their category ids.
 * With role_check, a fact of a purpose the role lacks is refused (403,
 * audited, AURA-SHARE-1). 1 once it has answered (*rc), else 0.
 */
static int
facts_parse(struct ctx *c, struct http_response *res, json_t *jf,
            const char *dpurpose, const char *dsource, int role_check,
            struct vault_fact_in *facts, size_t *nf, char *cats, size_t catsz,
            int *rc)
{
	json_t *item;
	size_t i, off = 0;

	cats[0] = '\0';
	json_array_foreach(jf, i, item)
	{
		struct vault_fact_in *f = &facts[*nf];

		if (!json_is_object(item) ||
		    check_keys(item, fact_keys, &c->msg) != 0) {
			*rc = http_respond_error(
			        res, 400, "invalid", "fact %zu: %s", i + 1,
			        c->msg.text[0] ? c->msg.text : "not an object");
			return 1;
		}
		f->category = str_member(item, "category");
		f->value = str_member(item, "value");
		f->purpose = str_member(item, "purpose");
		f->source = str_member(item, "source");
		if (f->purpose == NULL)
			f->purpose = dpurpose;
		if (f->source == NULL)
			f->source = dsource;
		if (parse_time(str_member(item, "collected_at"),
		               &f->collected_at, &c->msg) != 0) {
			*rc = http_respond_error(res, 400, "invalid",
			                         "fact %zu: %s", i + 1,
			                         c->msg.text);
			return 1;
		}
		if (f->purpose == NULL || f->category == NULL ||
		    f->value == NULL) {
			*rc = http_respond_error(
			        res, 400, "invalid",
			        "fact %zu: category, value and "
			        "purpose are required",
			        i + 1);
			return 1;
		}
		/* AURA-SHARE-1: collect only for the role's purposes. */
		if (role_check && !role_has_purpose(c, f->purpose)) {
			int known = policy_purpose_index(c->policy,
			                                 f->purpose) >= 0;

			*rc = refuse(c, res, "create",
			             known ? f->purpose : NULL, NULL,
			             "AURA-SHARE-1",
			             "fact %zu: role '%s' may not use purpose "
			             "'%.64s'",
			             i + 1, c->actor.role,
			             known ? f->purpose : "(unknown)");
			return 1;
		}
		if (off + strlen(f->category) + 2 < catsz) {
			off += (size_t)snprintf(cats + off, catsz - off,
			                        "%s%.64s", *nf ? "," : "",
			                        f->category);
		}
		(*nf)++;
	}
	return 0;
}

/* POST /v1/subjects: {"purpose", "source", "facts": [...], "consents"} */
int
h_subject_create(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"purpose", "source", "facts",
	                                   "consents", NULL};
	struct ctx c;
	struct create_job *job = NULL;
	struct vault_fact_in *facts = NULL;
	struct vault_consent_in *consents = NULL;
	char cats[AUDIT_CATEGORIES_MAX];
	const char *dpurpose, *dsource;
	json_t *doc = NULL, *jf, *jc, *item;
	size_t nf = 0, nc = 0, i;
	enum vaern_err err;
	int rc;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (body(req, res, keys, &doc))
		return 0; /* answered */
	dpurpose = str_member(doc, "purpose");
	dsource = str_member(doc, "source");
	jf = json_object_get(doc, "facts");
	jc = json_object_get(doc, "consents");
	if (!json_is_array(jf) || json_array_size(jf) == 0 ||
	    json_array_size(jf) > FACTS_MAX ||
	    (jc != NULL &&
	     (!json_is_array(jc) || json_array_size(jc) > FACTS_MAX))) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'facts' is a list of 1 to %d facts; "
		                        "'consents' a list",
		                        FACTS_MAX);
		goto done;
	}
	facts = calloc(json_array_size(jf), sizeof(*facts));
	consents = calloc(json_array_size(jc) + 1, sizeof(*consents));
	if (facts == NULL || consents == NULL) {
		rc = fail(res, VAERN_E_NOMEM, NULL);
		goto done;
	}
	if (facts_parse(&c, res, jf, dpurpose, dsource, 1, facts, &nf, cats,
	                sizeof(cats), &rc))
		goto done;
	json_array_foreach(jc, i, item)
	{
		struct vault_consent_in *ci = &consents[nc];

		if (!json_is_object(item) ||
		    check_keys(item, consent_keys, &c.msg) != 0 ||
		    (ci->purpose = str_member(item, "purpose")) == NULL ||
		    (ci->source = str_member(item, "source")) == NULL ||
		    parse_time(str_member(item, "given_at"), &ci->given_at,
		               &c.msg) != 0) {
			rc = http_respond_error(
			        res, 400, "invalid",
			        "consent %zu: purpose and source "
			        "are required%s%s",
			        i + 1, c.msg.text[0] ? ": " : "", c.msg.text);
			goto done;
		}
		nc++;
	}
	if ((job = calloc(1, sizeof(*job))) == NULL) {
		rc = fail(res, VAERN_E_NOMEM, NULL);
		goto done;
	}
	err = vault_subject_prepare(c.v, c.actor.controller, facts, nf,
	                            consents, nc, &job->prepared, &c.msg);
	if (err == VAERN_E_DENIED) {
		/* The policy refused the collection: audited like a read. */
		rc = refuse(&c, res, "create", facts[0].purpose, NULL,
		            "collection", "%s", c.msg.text);
		goto done;
	}
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	/* The audit entry's ids outlive this call: copied into the job. */
	job->actor = c.actor;
	if (strlen(facts[0].purpose) >= sizeof(job->purpose)) {
		rc = http_respond_error(res, 400, "invalid",
		                        "fact 1: the purpose id is too long");
		goto done;
	}
	memcpy(job->purpose, facts[0].purpose, strlen(facts[0].purpose) + 1);
	memcpy(job->categories, cats, sizeof(cats));
	for (i = 0; i < nc; i++) {
		const char *purpose, *token;

		token = vault_prepared_unsubscribe(job->prepared, i, &purpose);
		if (token == NULL)
			continue;
		if (job->unsubscribe == NULL)
			job->unsubscribe = json_object();
		json_object_set_new(job->unsubscribe, purpose,
		                    json_string(token));
	}
	job->nfacts = nf;
	job->nconsents = nc;
	/* Answered by create_answer once written and audited. */
	if ((job->hold = http_respond_later(res, create_answer, job)) == NULL) {
		rc = http_respond_error(res, 503, "unavailable",
		                        "the server is stopping");
		goto done;
	}
	/* The prepared subject points into these until it is written. */
	job->doc = doc;
	job->facts = facts;
	job->consents = consents;
	create_submit(c.api, job);
	return 0;
done:
	if (job != NULL)
		create_job_free(job);
	free(facts);
	free(consents);
	json_decref(doc);
	return rc;
}

/*
 * POST /v1/subjects/{id}/facts: facts added to a known person
 * (AURA-PORTAL-2, TEL-LOG-1, CEK-RET-4). Bulk {"purpose", "source",
 * "facts": [...]} or one fact {"category", "value", "purpose", "source",
 * "collected_at"}. Every check of a create; the gate decides per purpose
 * (vault_facts_add: GATE_COLLECT) and audits its decision.
 */
int
h_facts_add(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"purpose",  "source", "facts",
	                                   "category", "value",  "collected_at",
	                                   NULL};
	struct ctx c;
	unsigned char uid[VAULT_UID_BYTES];
	struct vault_fact_in *facts = NULL;
	char cats[AUDIT_CATEGORIES_MAX], hex[VAULT_UID_HEX];
	json_t *doc = NULL, *jf, *one = NULL, *ids;
	size_t nf = 0;
	int64_t first = 0;
	enum vaern_err err;
	int rc = 0;

	if (begin_subject(req, res, app, &c, uid))
		return 0; /* answered */
	if (body(req, res, keys, &doc))
		return 0; /* answered */
	jf = json_object_get(doc, "facts");
	if (jf == NULL && json_object_get(doc, "category") != NULL) {
		/* One fact: the body is the fact. */
		if ((one = json_array()) == NULL ||
		    (json_array_append_new(one, json_deep_copy(doc)) != 0)) {
			rc = fail(res, VAERN_E_NOMEM, NULL);
			goto done;
		}
		json_object_del(json_array_get(one, 0), "facts");
		jf = one;
	} else if (json_object_get(doc, "category") != NULL ||
	           json_object_get(doc, "value") != NULL) {
		rc = http_respond_error(res, 400, "invalid",
		                        "a body is one fact or 'facts', a "
		                        "list, not both");
		goto done;
	}
	if (!json_is_array(jf) || json_array_size(jf) == 0 ||
	    json_array_size(jf) > FACTS_MAX) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'facts' is a list of 1 to %d facts",
		                        FACTS_MAX);
		goto done;
	}
	if ((facts = calloc(json_array_size(jf), sizeof(*facts))) == NULL) {
		rc = fail(res, VAERN_E_NOMEM, NULL);
		goto done;
	}
	if (facts_parse(&c, res, jf, str_member(doc, "purpose"),
	                str_member(doc, "source"), 0, facts, &nf, cats,
	                sizeof(cats), &rc))
		goto done;
	/* The gate decides and the vault audits (allowed or refused). */
	err = vault_facts_add(c.v, &c.actor, uid, facts, nf, &first, &c.msg);
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	vault_uid_format(uid, hex);
	ids = json_array();
	for (size_t i = 0; ids != NULL && i < nf; i++)
		json_array_append_new(ids, json_integer(first + (json_int_t)i));
	rc = http_respond_json(res, 201,
	                       json_pack("{s:s, s:I, s:o*}", "subject", hex,
	                                 "facts", (json_int_t)nf, "fact_ids",
	                                 ids));
done:
	free(facts);
	json_decref(one);
	json_decref(doc);
	return rc;
}

/* POST /v1/subjects/lookup: {"type", "value", "purpose", "categories"}:
 * find by identifier and read for the purpose, in one audited call. */
int
h_lookup(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"type", "value", "purpose",
	                                   "categories", NULL};
	struct ctx c;
	struct vault_access acc;
	unsigned char uid[VAULT_UID_BYTES];
	const char *type, *value, *cats[CATEGORIES_MAX];
	char buf[1];
	size_t ncats = 0;
	enum id_type t;
	enum vaern_err err;
	json_t *doc = NULL;
	int rc, have;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (body(req, res, keys, &doc))
		return 0; /* answered */
	type = str_member(doc, "type");
	value = str_member(doc, "value");
	memset(&acc, 0, sizeof(acc));
	acc.purpose = str_member(doc, "purpose");
	if (type == NULL || value == NULL || acc.purpose == NULL) {
		rc = http_respond_error(res, 400, "invalid",
		                        "type, value and purpose are required");
		goto done;
	}
	if ((t = id_type_from_name(type)) == ID_NONE) {
		rc = http_respond_error(res, 400, "invalid",
		                        "unknown identifier type");
		goto done;
	}
	have = categories_of(json_object_get(doc, "categories"), NULL, cats,
	                     &ncats, buf, sizeof(buf), &c.msg);
	if (have < 0) {
		rc = http_respond_error(res, 400, "invalid", "%s", c.msg.text);
		goto done;
	}
	if (policy_purpose_index(c.policy, acc.purpose) < 0) {
		rc = http_respond_error(res, 400, "invalid",
		                        "the policy has no purpose '%.64s'",
		                        acc.purpose);
		goto done;
	}
	/* Need-to-know before the lookup: a role that may not use the
	 * purpose learns nothing, not even whether the person exists. */
	if (!role_has_purpose(&c, acc.purpose)) {
		rc = refuse(&c, res, "lookup", acc.purpose, NULL,
		            "AURA-SHARE-1",
		            "role '%s' may not use purpose '%s'", c.actor.role,
		            acc.purpose);
		goto done;
	}
	err = vault_subject_find(c.v, c.actor.controller, t, value, uid,
	                         &c.msg);
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	acc.action = GATE_READ;
	acc.categories = have ? cats : NULL;
	acc.ncategories = ncats;
	rc = access_respond(&c, res, uid, &acc, 200);
done:
	json_decref(doc);
	return rc;
}

/* GET /v1/subjects/{id}/facts?purpose=P[&categories=a,b] */
int
h_facts(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	struct vault_access acc;
	unsigned char uid[VAULT_UID_BYTES];
	const char *cats[CATEGORIES_MAX];
	char buf[HTTP_QUERY_VALUE_MAX + 1];
	size_t ncats = 0;
	int have;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (subject_param(req, res, uid))
		return 0; /* answered */
	memset(&acc, 0, sizeof(acc));
	acc.purpose = http_request_query(req, "purpose");
	if (acc.purpose == NULL)
		return http_respond_error(res, 400, "invalid",
		                          "every read declares a purpose "
		                          "(?purpose=...)");
	have = categories_of(NULL, http_request_query(req, "categories"), cats,
	                     &ncats, buf, sizeof(buf), &c.msg);
	if (have < 0)
		return http_respond_error(res, 400, "invalid", "%s",
		                          c.msg.text);
	acc.action = GATE_READ;
	acc.categories = have ? cats : NULL;
	acc.ncategories = ncats;
	return access_respond(&c, res, uid, &acc, 200);
}

/* POST /v1/subjects/{id}/disclosures:
 * {"recipient", "purpose", "categories", "demand", "demand_ref"} */
int
h_disclose(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"recipient",  "purpose",
	                                   "categories", "demand",
	                                   "demand_ref", NULL};
	struct ctx c;
	struct vault_access acc;
	unsigned char uid[VAULT_UID_BYTES];
	const char *cats[CATEGORIES_MAX];
	char buf[1];
	size_t ncats = 0;
	json_t *doc = NULL;
	int rc, have;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (subject_param(req, res, uid))
		return 0; /* answered */
	if (body(req, res, keys, &doc))
		return 0; /* answered */
	memset(&acc, 0, sizeof(acc));
	acc.recipient = str_member(doc, "recipient");
	acc.purpose = str_member(doc, "purpose");
	acc.demand = str_member(doc, "demand");
	acc.demand_ref = str_member(doc, "demand_ref");
	have = categories_of(json_object_get(doc, "categories"), NULL, cats,
	                     &ncats, buf, sizeof(buf), &c.msg);
	if (acc.recipient == NULL || acc.purpose == NULL || have < 0) {
		rc = http_respond_error(res, 400, "invalid", "%s",
		                        have < 0 ? c.msg.text
		                                 : "recipient and purpose are "
		                                   "required");
		goto done;
	}
	acc.action = GATE_DISCLOSE;
	acc.categories = have ? cats : NULL;
	acc.ncategories = ncats;
	rc = access_respond(&c, res, uid, &acc, 200);
done:
	json_decref(doc);
	return rc;
}

/* PATCH /v1/subjects/{id}/facts/{fact}: {"value"} (GDPR-16) */
int
h_rectify(struct http_request *req, struct http_response *res, void *app)
{
	struct vault_audit_event ev;
	static const char *const keys[] = {"value", NULL};
	struct ctx c;
	unsigned char uid[VAULT_UID_BYTES];
	const char *fact = http_request_param(req, "fact"), *value;
	char category[POLICY_NAME_MAX + 1];
	char *end = NULL;
	long long id;
	json_t *doc = NULL;
	enum vaern_err err;
	int rc;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (subject_param(req, res, uid))
		return 0; /* answered */
	id = fact != NULL ? strtoll(fact, &end, 10) : 0;
	if (fact == NULL || end == fact || *end != '\0' || id < 1)
		return http_respond_error(res, 404, "not_found",
		                          "no such fact");
	if (body(req, res, keys, &doc))
		return 0; /* answered */
	if ((value = str_member(doc, "value")) == NULL) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'value' is required");
		goto done;
	}
	/* AURA-SHARE-1: only a role that processes the fact's category. */
	err = vault_fact_category(c.v, c.actor.controller, uid, id, category,
	                          &c.msg);
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	if (!role_has_category(&c, category)) {
		rc = refuse(&c, res, "rectify", NULL, uid, "AURA-SHARE-1",
		            "role '%s' may not process category '%s'",
		            c.actor.role, category);
		goto done;
	}
	/* GDPR-16; the entry commits with the change (issue 12). */
	change_event(&c, &ev, "rectify", NULL, uid, NULL, 1, "GDPR-16",
	             "fact rectified");
	vault_audit_next_change(c.v, &ev);
	err = vault_fact_rectify(c.v, c.actor.controller, uid, id, value,
	                         &c.msg);
	vault_audit_next_change(c.v, NULL);
	if (err == VAERN_OK)
		err = audit_change_event(&c, &ev);
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	rc = http_respond_json(res, 200,
	                       json_pack("{s:s, s:I, s:b}", "subject",
	                                 http_request_param(req, "id"), "fact",
	                                 (json_int_t)id, "rectified", 1));
done:
	json_decref(doc);
	return rc;
}

/* POST /v1/subjects/{id}/events: {"kind", "at"} */
int
h_event(struct http_request *req, struct http_response *res, void *app)
{
	struct vault_audit_event ev;
	static const char *const keys[] = {"kind", "at", NULL};
	struct ctx c;
	unsigned char uid[VAULT_UID_BYTES];
	const char *kind;
	int64_t at;
	json_t *doc = NULL;
	enum vaern_err err;
	int rc;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (subject_param(req, res, uid))
		return 0; /* answered */
	if (body(req, res, keys, &doc))
		return 0; /* answered */
	if ((kind = str_member(doc, "kind")) == NULL ||
	    parse_time(str_member(doc, "at"), &at, &c.msg) != 0) {
		rc = http_respond_error(res, 400, "invalid", "%s",
		                        c.msg.text[0] ? c.msg.text
		                                      : "'kind' is required");
		goto done;
	}
	if ((err = vault_subject_exists(c.v, c.actor.controller, uid,
	                                &c.msg)) != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	if (!role_operational(&c)) {
		rc = refuse(&c, res, "event", NULL, uid, "AURA-SHARE-1",
		            "role '%s' uses no purpose and may not record "
		            "events",
		            c.actor.role);
		goto done;
	}
	change_event(&c, &ev, "event", NULL, uid, NULL, 1, "GDPR-32", kind);
	vault_audit_next_change(c.v, &ev);
	err = vault_event_record(c.v, c.actor.controller, uid, kind, at,
	                         &c.msg);
	vault_audit_next_change(c.v, NULL);
	if (err == VAERN_OK)
		err = audit_change_event(&c, &ev);
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	rc = http_respond_json(
	        res, 201,
	        json_pack("{s:s, s:s, s:o}", "subject",
	                  http_request_param(req, "id"), "event", kind, "at",
	                  time_json(at == INT64_MIN ? clock_now() : at)));
done:
	json_decref(doc);
	return rc;
}

/* PUT and DELETE of /objection, /restriction (GDPR-21, GDPR-18). */
static int
flag(struct http_request *req, struct http_response *res, void *app,
     int restriction, int on)
{
	struct vault_audit_event ev;
	struct ctx c;
	unsigned char uid[VAULT_UID_BYTES];
	enum vaern_err err;

	if (begin_subject(req, res, app, &c, uid))
		return 0; /* answered */
	if (!role_operational(&c))
		return refuse(&c, res, restriction ? "restrict" : "object",
		              NULL, uid, "AURA-SHARE-1",
		              "role '%s' uses no purpose and may not change "
		              "the subject's state",
		              c.actor.role);
	change_event(&c, &ev,
	             restriction ? (on ? "restrict" : "lift")
	                         : (on ? "object" : "withdraw_objection"),
	             NULL, uid, NULL, 1, restriction ? "GDPR-18" : "GDPR-21",
	             restriction ? "restriction of processing"
	                         : "objection to direct marketing");
	vault_audit_next_change(c.v, &ev);
	err = restriction ? vault_subject_restrict(c.v, c.actor.controller, uid,
	                                           on, &c.msg)
	                  : vault_subject_object(c.v, c.actor.controller, uid,
	                                         on, &c.msg);
	vault_audit_next_change(c.v, NULL);
	if (err == VAERN_OK)
		err = audit_change_event(&c, &ev);
	if (err != VAERN_OK)
		return fail(res, err, &c.msg);
	return http_respond_json(
	        res, 200,
	        json_pack("{s:s, s:b}", "subject",
	                  http_request_param(req, "id"),
	                  restriction ? "restricted" : "objected", on));
}

int
h_restrict(struct http_request *req, struct http_response *res, void *app)
{
	return flag(req, res, app, 1, 1);
}

int
h_unrestrict(struct http_request *req, struct http_response *res, void *app)
{
	return flag(req, res, app, 1, 0);
}

int
h_object(struct http_request *req, struct http_response *res, void *app)
{
	return flag(req, res, app, 0, 1);
}

int
h_unobject(struct http_request *req, struct http_response *res, void *app)
{
	return flag(req, res, app, 0, 0);
}

/* PUT and DELETE of /agreements/{recipient} (CEK-SHARE-1). */
static int
agreement(struct http_request *req, struct http_response *res, void *app,
          int on)
{
	struct vault_audit_event ev;
	struct ctx c;
	unsigned char uid[VAULT_UID_BYTES];
	const char *recipient = http_request_param(req, "recipient");
	enum vaern_err err;

	if (begin_subject(req, res, app, &c, uid))
		return 0; /* answered */
	if (!role_operational(&c))
		return refuse(&c, res, on ? "agreement" : "agreement_withdraw",
		              NULL, uid, "AURA-SHARE-1",
		              "role '%s' uses no purpose and may not record "
		              "agreements",
		              c.actor.role);
	change_event(&c, &ev, on ? "agreement" : "agreement_withdraw", NULL,
	             uid, NULL, 1, "CEK-SHARE-1", recipient);
	vault_audit_next_change(c.v, &ev);
	err = vault_agreement_record(c.v, c.actor.controller, uid, recipient,
	                             !on, INT64_MIN, &c.msg);
	vault_audit_next_change(c.v, NULL);
	if (err == VAERN_OK)
		err = audit_change_event(&c, &ev);
	if (err != VAERN_OK)
		return fail(res, err, &c.msg);
	return http_respond_json(res, 200,
	                         json_pack("{s:s, s:s, s:b}", "subject",
	                                   http_request_param(req, "id"),
	                                   "recipient", recipient, "agreed",
	                                   on));
}

int
h_agree(struct http_request *req, struct http_response *res, void *app)
{
	return agreement(req, res, app, 1);
}

int
h_disagree(struct http_request *req, struct http_response *res, void *app)
{
	return agreement(req, res, app, 0);
}

/* ---- legal holds (CEK-HOLD-1) ------------------------------------------ */

/*
 * Holds are placed and lifted by the roles that may read the audit trail
 * (audit: true, the data-protection officer): a hold overrides retention
 * and erasure, a compliance decision, not a customer-service one.
 * Answers 403 (audited) for any other role; 0 when allowed.
 */
static int
hold_role(struct ctx *c, struct http_response *res, const char *action,
          const unsigned char *uid, int *answered)
{
	*answered = 0;
	if (role_audits(c))
		return 0;
	*answered = 1;
	return refuse(c, res, action, NULL, uid, "CEK-HOLD-1",
	              "role '%s' may not place or lift legal holds (roles "
	              "with audit: true may)",
	              c->actor.role);
}

/* PUT /v1/subjects/{id}/holds: {"reason", "category", "review"}. */
int
h_hold_place(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"reason", "category", "review",
	                                   NULL};
	struct ctx c;
	unsigned char uid[VAULT_UID_BYTES];
	const char *reason, *category;
	json_t *doc = NULL, *cat;
	int64_t review, id;
	enum vaern_err err;
	int rc, answered;

	if (begin_subject(req, res, app, &c, uid))
		return 0; /* answered */
	rc = hold_role(&c, res, "hold_place", uid, &answered);
	if (answered)
		return rc;
	if (body(req, res, keys, &doc))
		return 0; /* answered */
	cat = json_object_get(doc, "category");
	category = str_member(doc, "category");
	if ((reason = str_member(doc, "reason")) == NULL) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'reason' is required: why the data "
		                        "is held");
		goto done;
	}
	if (cat != NULL && !json_is_null(cat) && category == NULL) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'category' is a category id");
		goto done;
	}
	if (json_object_get(doc, "review") != NULL &&
	    str_member(doc, "review") == NULL) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'review' is a date (YYYY-MM-DD)");
		goto done;
	}
	if (parse_time(str_member(doc, "review"), &review, &c.msg) != 0) {
		rc = http_respond_error(res, 400, "invalid", "'review': %s",
		                        c.msg.text);
		goto done;
	}
	/* Audited through the request's hook: answered once durable. */
	err = vault_hold_place(c.v, c.actor.controller, uid, category, reason,
	                       review, c.actor.name, c.actor.role, &id, &c.msg);
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	rc = http_respond_json(
	        res, 201,
	        json_pack("{s:s, s:I, s:s*, s:o}", "subject",
	                  http_request_param(req, "id"), "hold", (json_int_t)id,
	                  "category", category, "review_at",
	                  review == INT64_MIN ? json_null()
	                                      : time_json(review)));
done:
	json_decref(doc);
	return rc;
}

/* DELETE /v1/subjects/{id}/holds/{hold}. */
int
h_hold_lift(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	unsigned char uid[VAULT_UID_BYTES];
	const char *hold = http_request_param(req, "hold");
	char *end = NULL;
	long long id;
	enum vaern_err err;
	int rc, answered;

	if (begin_subject(req, res, app, &c, uid))
		return 0; /* answered */
	rc = hold_role(&c, res, "hold_lift", uid, &answered);
	if (answered)
		return rc;
	id = hold != NULL ? strtoll(hold, &end, 10) : 0;
	if (hold == NULL || end == hold || *end != '\0' || id < 1)
		return http_respond_error(res, 404, "not_found",
		                          "no such hold");
	err = vault_hold_lift(c.v, c.actor.controller, uid, (int64_t)id,
	                      c.actor.name, c.actor.role, &c.msg);
	if (err == VAERN_E_NOTFOUND)
		return http_respond_error(res, 404, "not_found",
		                          "no hold %lld in force", id);
	if (err != VAERN_OK)
		return fail(res, err, &c.msg);
	return http_respond_json(res, 200,
	                         json_pack("{s:s, s:I, s:b}", "subject",
	                                   http_request_param(req, "id"),
	                                   "hold", (json_int_t)id, "lifted",
	                                   1));
}

static enum vaern_err
hold_item(void *arg, const struct vault_hold *h)
{
	json_t *list = arg;

	return json_array_append_new(
	               list,
	               json_pack("{s:I, s:s*, s:s, s:o, s:o, s:s, s:o}", "hold",
	                         (json_int_t)h->id, "category", h->category,
	                         "reason", h->reason, "review_at",
	                         h->review_at == INT64_MIN
	                                 ? json_null()
	                                 : time_json(h->review_at),
	                         "placed_at", time_json(h->placed_at),
	                         "placed_by", h->placed_by, "lifted_at",
	                         h->lifted_at == INT64_MIN
	                                 ? json_null()
	                                 : time_json(h->lifted_at))) == 0
	               ? VAERN_OK
	               : VAERN_E_NOMEM;
}

/* GET /v1/subjects/{id}/holds: every hold, lifted ones included. */
int
h_holds(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	unsigned char uid[VAULT_UID_BYTES];
	json_t *list;
	enum vaern_err err;
	int rc, answered;

	if (begin_subject(req, res, app, &c, uid))
		return 0; /* answered */
	rc = hold_role(&c, res, "holds", uid, &answered);
	if (answered)
		return rc;
	if ((list = json_array()) == NULL)
		return fail(res, VAERN_E_NOMEM, NULL);
	err = vault_hold_foreach(c.v, c.actor.controller, uid, hold_item, list,
	                         &c.msg);
	if (err != VAERN_OK) {
		json_decref(list);
		return fail(res, err, &c.msg);
	}
	return http_respond_json(res, 200,
	                         json_pack("{s:s, s:o}", "subject",
	                                   http_request_param(req, "id"),
	                                   "holds", list));
}
