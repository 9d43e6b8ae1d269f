/*
 * api_requests.c -- rights requests (issue 5) under /v1/requests: register,
 * list, verify the person (AOPT-ACCESS-1), extend (GDPR-12), and execute
 * erasure, rectification, restriction, objection and consent withdrawal
 * through a verified request; and OpenDSR v2 beside the native API.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../vault/vault.h"
#include "api_console.h"
#include "api_internal.h"

/*
 * Every actor of a controller may register and handle its rights requests:
 * a request shows no personal data but the subject's id, and the code is
 * sent only to a contact already on record (AOPT-ACCESS-1). A request
 * names its controller through the caller's token: another controller's
 * requests and subjects are not found (AURA-RIGHTS-1).
 */

#define OPENDSR_VERSION    "2.0"
#define OPENDSR_IDENTITIES 16 /* subject_identities in one request */

/* A string member, or NULL; answers 400 (and returns 1) if present but
 * not a string. */
static int
rq_string(struct http_response *res, json_t *doc, const char *key,
          const char **out)
{
	json_t *v = json_object_get(doc, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		(void)http_respond_error(res, 400, "invalid",
		                         "'%s' must be a string", key);
		return 1;
	}
	*out = json_string_value(v);
	return 0;
}

/* The answer to a failed code send: too many codes for a request is 429,
 * not a body size (fail() would say 413). */
static int
rq_fail(struct http_response *res, enum vaern_err err,
        const struct vaern_msg *msg)
{
	if (err == VAERN_E_LIMIT)
		return http_respond_error(res, 429, "too_many", "%s",
		                          msg->text);
	return fail(res, err, msg);
}

static struct vault_request_actor
rq_who(const struct ctx *c)
{
	struct vault_request_actor who = {c->actor.name, c->actor.role};

	return who;
}

static json_t *
rq_transition_json_new(const struct vault_transition *t)
{
	return json_pack("{s:o, s:s?, s:s, s:s, s:s?}", "at", time_json(t->at),
	                 "from", t->from, "to", t->to, "actor", t->actor,
	                 "reason", t->reason);
}

static enum vaern_err
rq_transition_json(void *arg, const struct vault_transition *t)
{
	json_t *j = rq_transition_json_new(t);

	return j != NULL && json_array_append_new(arg, j) == 0 ? VAERN_OK
	                                                       : VAERN_E_NOMEM;
}

/* Answers status with the request (and its history if asked). */
static int
rq_respond(struct ctx *c, struct http_response *res, int status,
           const struct vault_request *r, int history)
{
	json_t *j = vault_request_json(c->actor.controller, r, clock_today());
	json_t *list;
	enum vaern_err err;
	char scope[VAULT_SCOPE_MAX + 1];

	if (j == NULL)
		return fail(res, VAERN_E_NOMEM, NULL);
	/* AURA-RIGHTS-1: the data the request concerns; null: all of it. */
	if ((err = vault_request_scope(c->v, c->actor.controller, r->id, scope,
	                               &c->msg)) != VAERN_OK) {
		json_decref(j);
		return fail(res, err, &c->msg);
	}
	json_object_set_new(j, "categories", vault_scope_json(scope));
	if (history) {
		list = json_array();
		err = vault_request_transitions(c->v, c->actor.controller,
		                                r->id, rq_transition_json, list,
		                                &c->msg);
		if (err != VAERN_OK) {
			json_decref(list);
			json_decref(j);
			return fail(res, err, &c->msg);
		}
		json_object_set_new(j, "transitions", list);
	}
	return http_respond_json(res, status, j);
}

/* Answers a change to a request: the failure err, or status with the
 * request as it is now. */
static int
rq_answer(struct ctx *c, struct http_response *res, enum vaern_err err,
          int status, const struct vault_request *r)
{
	return err != VAERN_OK ? fail(res, err, &c->msg)
	                       : rq_respond(c, res, status, r, 0);
}

/* The request of the path ({request}) into *r, if it is one of the
 * actor's controller; 1 once it has answered (404, 500). */
static int
rq_get(struct ctx *c, struct http_request *req, struct http_response *res,
       struct vault_request *r)
{
	const char *id = http_request_param(req, "request");
	enum vaern_err err;

	err = vault_request_get(c->v, c->actor.controller, id ? id : "", r,
	                        &c->msg);
	if (err != VAERN_OK) {
		(void)fail(res, err, &c->msg);
		return 1;
	}
	return 0;
}

/*
 * POST /v1/requests: {"type", "subject", "channel", "received_at",
 * "controller", "categories"}. AURA-RIGHTS-1: the request names the
 * company (the actor's controller) and may name the data it concerns.
 */
int
h_request_add(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {
	        "type",       "subject",    "channel", "received_at",
	        "controller", "categories", NULL};
	const char *cats[CATEGORIES_MAX];
	const char *controller = NULL;
	json_t *jc, *item;
	size_t i;
	struct ctx c;
	struct vault_request_in in;
	struct vault_request r;
	struct vault_request_actor who;
	unsigned char uid[VAULT_UID_BYTES];
	const char *subject, *received;
	json_t *doc = NULL;
	enum vaern_err err;
	int rc;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (body_any(req, res, keys, &doc))
		return 0; /* answered */
	memset(&in, 0, sizeof(in));
	if (rq_string(res, doc, "type", &in.type) ||
	    rq_string(res, doc, "subject", &subject) ||
	    rq_string(res, doc, "channel", &in.channel) ||
	    rq_string(res, doc, "received_at", &received) ||
	    rq_string(res, doc, "controller", &controller)) {
		rc = 0; /* answered */
		goto done;
	}
	/* AURA-RIGHTS-1: one installation, several companies: the request
	 * is to the company the token acts for. */
	if (controller != NULL && strcmp(controller, c.actor.controller) != 0) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'controller': the request names "
		                        "another company than '%s', which this "
		                        "token acts for (AURA-RIGHTS-1)",
		                        c.actor.controller);
		goto done;
	}
	jc = json_object_get(doc, "categories");
	if (jc != NULL && !json_is_null(jc)) {
		if (!json_is_array(jc) || json_array_size(jc) == 0 ||
		    json_array_size(jc) > CATEGORIES_MAX) {
			rc = http_respond_error(
			        res, 400, "invalid",
			        "'categories' is a list of 1 to "
			        "%d category ids",
			        CATEGORIES_MAX);
			goto done;
		}
		json_array_foreach(jc, i, item)
		{
			if (!json_is_string(item)) {
				rc = http_respond_error(
				        res, 400, "invalid",
				        "'categories': item %zu is not a "
				        "category id",
				        i + 1);
				goto done;
			}
			cats[i] = json_string_value(item);
		}
		in.categories = cats;
		in.ncategories = json_array_size(jc);
	}
	if (in.type == NULL || subject == NULL || in.channel == NULL) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'type', 'subject' and 'channel' are "
		                        "required");
		goto done;
	}
	if (parse_time(received, &in.received_at, &c.msg) != 0) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'received_at': %s", c.msg.text);
		goto done;
	}
	if (vault_uid_parse(subject, uid, &c.msg) != VAERN_OK) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'subject' is a subject id: 32 hex "
		                        "digits");
		goto done;
	}
	in.subject = uid;
	who = rq_who(&c);
	err = vault_request_add(c.v, c.actor.controller, &in, &who, &r, &c.msg);
	rc = rq_answer(&c, res, err, 201, &r);
done:
	json_decref(doc);
	return rc;
}

struct rq_list {
	const char *controller;
	long today;
	json_t *list;
};

static enum vaern_err
rq_list_each(void *arg, const struct vault_request *r)
{
	struct rq_list *l = arg;
	json_t *j = vault_request_json(l->controller, r, l->today);

	return j != NULL && json_array_append_new(l->list, j) == 0
	               ? VAERN_OK
	               : VAERN_E_NOMEM;
}

enum vaern_err
api_request_list_build(struct vault *v, const char *controller,
                       const struct vault_request_filter *f, long today,
                       json_t **out, struct vaern_msg *msg)
{
	struct rq_list l = {controller, today, json_array()};
	enum vaern_err err;

	*out = NULL;
	if (l.list == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	err = vault_request_queue(v, controller, f, rq_list_each, &l, msg);
	if (err != VAERN_OK) {
		json_decref(l.list);
		return err;
	}
	if ((*out = json_pack("{s:o}", "requests", l.list)) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	return VAERN_OK;
}

/* GET /v1/requests?due_within=7d&overdue=1&type=T&status=S&all=1: the
 * queue (issue 20, point 3): open requests (all with all=1), filtered,
 * by due date (GDPR-12). */
int
h_request_list(struct http_request *req, struct http_response *res, void *app)
{
	struct vault_request_filter f;
	struct ctx c;
	json_t *doc;
	enum vaern_err err;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if ((err = vault_request_filter_parse(
	             http_request_query(req, "type"),
	             http_request_query(req, "status"),
	             http_request_query(req, "due_within"),
	             http_request_query(req, "overdue"),
	             http_request_query(req, "all"), clock_today(), &f,
	             &c.msg)) != VAERN_OK)
		return http_respond_error(res, 400, "invalid", "%s",
		                          c.msg.text);
	err = api_request_list_build(c.v, c.actor.controller, &f, clock_today(),
	                             &doc, &c.msg);
	if (err != VAERN_OK)
		return fail(res, err, &c.msg);
	return http_respond_json(res, 200, doc);
}

/* GET /v1/requests/{request}: the request and its transitions. */
int
h_request_get(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	struct vault_request r;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (rq_get(&c, req, res, &r))
		return 0; /* answered */
	return rq_respond(&c, res, 200, &r, 1);
}

/* PATCH /v1/requests/{request}: {"status", "reason"} */
int
h_request_status(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"status", "reason", NULL};
	const char *id = http_request_param(req, "request");
	struct ctx c;
	struct vault_request r;
	struct vault_request_actor who;
	enum rights_status to;
	const char *status, *reason;
	json_t *doc = NULL;
	enum vaern_err err;
	int rc;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (body_any(req, res, keys, &doc))
		return 0; /* answered */
	if (rq_string(res, doc, "status", &status) ||
	    rq_string(res, doc, "reason", &reason)) {
		rc = 0; /* answered */
		goto done;
	}
	if (status == NULL) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'status' is required");
		goto done;
	}
	who = rq_who(&c);
	if ((err = rights_status_parse(status, &to, &c.msg)) == VAERN_OK)
		err = vault_request_set_status(c.v, c.actor.controller,
		                               id ? id : "", to, reason, &who,
		                               &r, &c.msg);
	rc = rq_answer(&c, res, err, 200, &r);
done:
	json_decref(doc);
	return rc;
}

/* POST /v1/requests/{request}/extension: {"months", "reason"} (GDPR-12) */
int
h_request_extend(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"months", "reason", NULL};
	const char *id = http_request_param(req, "request");
	struct ctx c;
	struct vault_request r;
	struct vault_request_actor who;
	const char *reason;
	json_t *doc = NULL, *months;
	json_int_t n;
	enum vaern_err err;
	int rc;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (body_any(req, res, keys, &doc))
		return 0; /* answered */
	if (rq_string(res, doc, "reason", &reason)) {
		rc = 0; /* answered */
		goto done;
	}
	months = json_object_get(doc, "months");
	if (!json_is_integer(months) || reason == NULL) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'months' (1 or 2) and 'reason' are "
		                        "required (GDPR-12)");
		goto done;
	}
	who = rq_who(&c);
	/* Out of int range is as wrong as 3: the vault refuses it. */
	n = json_integer_value(months);
	err = vault_request_extend(c.v, c.actor.controller, id ? id : "",
	                           n < -100 || n > 100 ? 100 : (int)n, reason,
	                           &who, &r, &c.msg);
	rc = rq_answer(&c, res, err, 200, &r);
done:
	json_decref(doc);
	return rc;
}

/* POST /v1/requests/{request}/code: {"contact": "email"|"phone"}: sends a
 * one-time code to the contact on record (AOPT-ACCESS-1). */
int
h_request_code(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"contact", NULL};
	const char *id = http_request_param(req, "request");
	struct ctx c;
	struct vault_code_sent sent;
	struct vault_request_actor who;
	enum id_type contact = ID_NONE;
	const char *name;
	json_t *doc = NULL;
	enum vaern_err err;
	int rc;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (body_any(req, res, keys, &doc))
		return 0; /* answered */
	if (rq_string(res, doc, "contact", &name)) {
		rc = 0; /* answered */
		goto done;
	}
	if (name != NULL) {
		contact = id_type_from_name(name);
		if (contact != ID_EMAIL && contact != ID_PHONE) {
			rc = http_respond_error(res, 400, "invalid",
			                        "'contact' is email or phone");
			goto done;
		}
	}
	who = rq_who(&c);
	err = vault_request_send_code(c.v, c.actor.controller, id ? id : "",
	                              contact, &who, &sent, &c.msg);
	rc = err != VAERN_OK
	             ? rq_fail(res, err, &c.msg)
	             : http_respond_json(res, 202,
	                                 json_pack("{s:s, s:s, s:o, s:i}",
	                                           "request", id, "sent_to",
	                                           sent.contact_type,
	                                           "expires_at",
	                                           time_json(sent.expires_at),
	                                           "attempts", sent.attempts));
done:
	json_decref(doc);
	return rc;
}

/* POST /v1/requests/{request}/verification: {"code"} or {"attestation"}
 * (AOPT-ACCESS-1). */
int
h_request_verify(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"code", "attestation", NULL};
	const char *id = http_request_param(req, "request");
	struct ctx c;
	struct vault_request r;
	struct vault_request_actor who;
	const char *code, *attestation;
	json_t *doc = NULL;
	enum vaern_err err;
	int rc;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (body_any(req, res, keys, &doc))
		return 0; /* answered */
	if (rq_string(res, doc, "code", &code) ||
	    rq_string(res, doc, "attestation", &attestation)) {
		rc = 0; /* answered */
		goto done;
	}
	if ((code == NULL) == (attestation == NULL)) {
		rc = http_respond_error(res, 400, "invalid",
		                        "one of 'code' and 'attestation' is "
		                        "required");
		goto done;
	}
	who = rq_who(&c);
	err = code != NULL ? vault_request_check_code(c.v, c.actor.controller,
	                                              id ? id : "", code, &who,
	                                              &r, &c.msg)
	                   : vault_request_attest(c.v, c.actor.controller,
	                                          id ? id : "", attestation,
	                                          &who, &r, &c.msg);
	rc = rq_answer(&c, res, err, 200, &r);
done:
	json_decref(doc);
	return rc;
}

/*
 * begin() for a handler that executes a right on a request's subject:
 * only a role that processes the subject's data, not an audit-only role
 * (the DPO reads, never writes); a refusal is audited under action.
 * Returns 1 once it has answered.
 */
static int
rq_begin_operational(struct http_request *req, struct http_response *res,
                     void *app, struct ctx *c, const char *action)
{
	if (begin(req, res, app, c))
		return 1;
	if (!role_operational(c)) {
		(void)refuse(c, res, action, NULL, NULL, "AURA-SHARE-1",
		             "role '%s' uses no purpose and may not execute "
		             "a request",
		             c->actor.role);
		return 1;
	}
	return 0;
}

/* POST /v1/requests/{request}/erasure: executes a verified erasure
 * request (GDPR-17, AOPT-ERASE-1): what is kept, under which law, until
 * when. A role that uses no purpose (the DPO) may not erase. */
int
h_request_erase(struct http_request *req, struct http_response *res, void *app)
{
	const char *id = http_request_param(req, "request");
	struct ctx c;
	struct vault_request r;
	struct vault_request_actor who;
	struct vault_erasure *rep;
	enum vaern_err err;
	json_t *j;
	int rc;

	if (rq_begin_operational(req, res, app, &c, "request_erasure"))
		return 0; /* answered */
	if ((rep = calloc(1, sizeof(*rep))) == NULL)
		return fail(res, VAERN_E_NOMEM, NULL);
	who = rq_who(&c);
	err = vault_request_erase(c.v, c.actor.controller, id ? id : "", &who,
	                          rep, &r, &c.msg);
	if (err != VAERN_OK) {
		free(rep);
		return fail(res, err, &c.msg);
	}
	j = vault_request_json(c.actor.controller, &r, clock_today());
	if (j != NULL)
		json_object_set_new(j, "erasure", vault_erasure_json(rep));
	free(rep);
	rc = j != NULL ? http_respond_json(res, 200, j)
	               : fail(res, VAERN_E_NOMEM, NULL);
	return rc;
}

/*
 * GET /v1/requests/{request}/report?format=&lang=: the answer to a
 * verified, open access (GDPR-15: json or html) or portability (GDPR-20:
 * json or csv) request, the same document as the subject's report with
 * the request named. Any role of the controller may fetch it: verifying
 * the person is what authorises this disclosure (AOPT-ACCESS-1); the
 * audit entry names the request.
 */
int
h_request_report(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	struct vault_request r;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (rq_get(&c, req, res, &r))
		return 0; /* answered */
	if (r.type != RIGHTS_ACCESS && r.type != RIGHTS_PORTABILITY)
		return http_respond_error(
		        res, 400, "invalid",
		        "the request is a %s request: a report "
		        "answers access and portability",
		        rights_type_name(r.type));
	return report_send(&c, req, res, r.subject,
	                   r.type == RIGHTS_ACCESS ? VAULT_EXPORT_ACCESS
	                                           : VAULT_EXPORT_PORTABILITY,
	                   r.id);
}

/*
 * Executing the other rights through a request (GDPR-16, GDPR-18,
 * GDPR-21, GDPR-7): only a role that processes the subject's data (not
 * the DPO, like erasure); the vault checks the request (its type, open,
 * verified) and acts through the same calls as the direct routes.
 */

/* "complete": an optional boolean; answers 400 (and returns 1) if it is
 * something else. */
static int
rq_bool(struct http_response *res, json_t *doc, const char *key, int dflt,
        int *out)
{
	json_t *v = json_object_get(doc, key);

	*out = dflt;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		(void)http_respond_error(res, 400, "invalid",
		                         "'%s' must be true or false", key);
		return 1;
	}
	*out = json_is_true(v);
	return 0;
}

/* "purpose" (a string) or "purposes" (a list of strings), or neither. */
static int
rq_purposes(struct http_response *res, json_t *doc,
            const char *out[VAULT_PURPOSES_MAX], size_t *n)
{
	json_t *one = json_object_get(doc, "purpose");
	json_t *list = json_object_get(doc, "purposes"), *item;
	size_t i;

	*n = 0;
	if (one != NULL && list != NULL)
		return http_respond_error(res, 400, "invalid",
		                          "'purpose' or 'purposes', not both"),
		       1;
	if (one != NULL) {
		if (!json_is_string(one))
			return http_respond_error(res, 400, "invalid",
			                          "'purpose' must be a string"),
			       1;
		out[(*n)++] = json_string_value(one);
		return 0;
	}
	if (list == NULL)
		return 0;
	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > VAULT_PURPOSES_MAX)
		return http_respond_error(res, 400, "invalid",
		                          "'purposes' is a list of 1 to %d "
		                          "purpose ids",
		                          VAULT_PURPOSES_MAX),
		       1;
	json_array_foreach(list, i, item)
	{
		if (!json_is_string(item))
			return http_respond_error(res, 400, "invalid",
			                          "'purposes' holds purpose "
			                          "ids"),
			       1;
		out[(*n)++] = json_string_value(item);
	}
	return 0;
}

/* Answers 200 with the request and, under key, what was done (taken). */
static int
rq_done(struct ctx *c, struct http_response *res, const struct vault_request *r,
        const char *key, json_t *what)
{
	json_t *j = vault_request_json(c->actor.controller, r, clock_today());

	if (j == NULL || what == NULL ||
	    json_object_set_new(j, key, what) != 0) {
		json_decref(j);
		return fail(res, VAERN_E_NOMEM, NULL);
	}
	return http_respond_json(res, 200, j);
}

/* One change of a rectification body: {"fact": N, "value": "..."}. */
static int
rq_change(struct http_response *res, json_t *o, struct vault_rectification *ch)
{
	static const char *const keys[] = {"fact", "value", NULL};
	json_t *fact = json_object_get(o, "fact");
	json_t *value = json_object_get(o, "value");
	struct vaern_msg msg = {{0}};

	if (check_key_names(o, keys, &msg) != 0)
		return http_respond_error(res, 400, "invalid", "%s", msg.text),
		       1;
	if (!json_is_integer(fact) || !json_is_string(value))
		return http_respond_error(res, 400, "invalid",
		                          "a change is {\"fact\": its id, "
		                          "\"value\": the new value}"),
		       1;
	memset(ch, 0, sizeof(*ch));
	ch->fact = json_integer_value(fact);
	ch->value = json_string_value(value);
	return 0;
}

/*
 * POST /v1/requests/{request}/rectification: {"fact", "value"} or
 * {"facts": [{"fact", "value"}, ...]}, and "complete" (default true; false
 * keeps the request in progress for a further call) (GDPR-16). The role
 * must process each fact's category (AURA-SHARE-1), as for PATCH
 * /v1/subjects/{id}/facts/{fact}.
 */
int
h_request_rectify(struct http_request *req, struct http_response *res,
                  void *app)
{
	static const char *const keys[] = {"fact", "value", "facts", "complete",
	                                   NULL};
	struct ctx c;
	struct vault_request r;
	struct vault_request_actor who;
	struct vault_rectification *changes = NULL;
	json_t *doc = NULL, *list, *item;
	size_t n = 0, i;
	int complete, rc = 0;
	enum vaern_err err;

	if (rq_begin_operational(req, res, app, &c, "request_rectification"))
		return 0; /* answered */
	if (body_any(req, res, keys, &doc))
		return 0; /* answered */
	if (rq_bool(res, doc, "complete", 1, &complete))
		goto done; /* answered */
	list = json_object_get(doc, "facts");
	if ((list != NULL) == (json_object_get(doc, "fact") != NULL ||
	                       json_object_get(doc, "value") != NULL) ||
	    (list != NULL &&
	     (!json_is_array(list) || json_array_size(list) == 0 ||
	      json_array_size(list) > VAULT_RECTIFY_MAX))) {
		rc = http_respond_error(
		        res, 400, "invalid",
		        "give 'fact' and 'value', or 'facts': a "
		        "list of 1 to %d of them",
		        VAULT_RECTIFY_MAX);
		goto done;
	}
	if ((changes = calloc(VAULT_RECTIFY_MAX, sizeof(*changes))) == NULL) {
		rc = fail(res, VAERN_E_NOMEM, NULL);
		goto done;
	}
	if (list == NULL) {
		json_t *one = json_pack("{s:O?, s:O?}", "fact",
		                        json_object_get(doc, "fact"), "value",
		                        json_object_get(doc, "value"));

		if (one == NULL) {
			rc = fail(res, VAERN_E_NOMEM, NULL);
			goto done;
		}
		i = (size_t)rq_change(res, one, &changes[n++]);
		json_decref(one);
		if (i != 0)
			goto done; /* answered */
	}
	json_array_foreach(list, i, item)
	{
		if (!json_is_object(item)) {
			rc = http_respond_error(res, 400, "invalid",
			                        "'facts' holds objects");
			goto done;
		}
		if (rq_change(res, item, &changes[n++]))
			goto done; /* answered */
	}
	if (rq_get(&c, req, res, &r))
		goto done; /* answered */
	/* AURA-SHARE-1, once the request may be executed (the vault says
	 * why not otherwise): only a role that processes each category. */
	for (i = 0;
	     r.type == RIGHTS_RECTIFICATION && r.verified_at != INT64_MIN &&
	     !rights_status_final(r.status) && i < n;
	     i++) {
		char category[POLICY_NAME_MAX + 1];

		if (changes[i].fact < 1 ||
		    vault_fact_category(c.v, c.actor.controller, r.subject,
		                        changes[i].fact, category,
		                        &c.msg) != VAERN_OK)
			break; /* the vault names it */
		if (!role_has_category(&c, category)) {
			rc = refuse(&c, res, "request_rectification", NULL,
			            r.subject, "AURA-SHARE-1",
			            "role '%s' may not process category '%s'",
			            c.actor.role, category);
			goto done;
		}
	}
	who = rq_who(&c);
	err = vault_request_rectify(c.v, c.actor.controller, r.id, changes, n,
	                            complete, &who, &r, &c.msg);
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	rc = rq_done(&c, res, &r, "rectification",
	             vault_rectification_json(changes, n));
done:
	free(changes);
	json_decref(doc);
	return rc;
}

/*
 * POST /v1/requests/{request}/restriction: {"lift": false, "complete":
 * false} restricts processing and keeps the request in progress (with
 * "complete": true it is completed with the restriction in force);
 * {"lift": true, "reason"} lifts it and completes the request, the reason
 * told to the person (GDPR-18).
 */
int
h_request_restrict(struct http_request *req, struct http_response *res,
                   void *app)
{
	static const char *const keys[] = {"lift", "complete", "reason", NULL};
	const char *id = http_request_param(req, "request");
	struct ctx c;
	struct vault_request r;
	struct vault_request_actor who;
	const char *reason;
	json_t *doc = NULL;
	int lift, complete, rc = 0;
	enum vaern_err err;

	if (rq_begin_operational(req, res, app, &c, "request_restriction"))
		return 0; /* answered */
	if (body_any(req, res, keys, &doc))
		return 0; /* answered */
	if (rq_bool(res, doc, "lift", 0, &lift) ||
	    rq_bool(res, doc, "complete", 0, &complete) ||
	    rq_string(res, doc, "reason", &reason))
		goto done; /* answered */
	who = rq_who(&c);
	err = vault_request_restrict(c.v, c.actor.controller, id ? id : "",
	                             lift, complete, reason, &who, &r, &c.msg);
	rc = err != VAERN_OK ? fail(res, err, &c.msg)
	                     : rq_done(&c, res, &r, "restriction",
	                               json_pack("{s:b}", "restricted", !lift));
done:
	json_decref(doc);
	return rc;
}

/*
 * POST /v1/requests/{request}/objection: {"purposes": [...]} (optional;
 * direct-marketing purposes only): the objection to direct marketing,
 * absolute (GDPR-21, CEK-RIGHTS-1); the answer lists the purposes the
 * gate refuses from now on.
 * POST /v1/requests/{request}/consent-withdrawal: {"purpose"} or
 * {"purposes": [...]} (neither: every consent in force) (GDPR-7,
 * CEK-RIGHTS-1); the answer says until when each ledger is kept as proof
 * (TEL-MKT-2).
 */
static int
rq_purposes_exec(struct http_request *req, struct http_response *res, void *app,
                 int withdraw)
{
	static const char *const keys[] = {"purpose", "purposes", NULL};
	const char *id = http_request_param(req, "request");
	const char *purposes[VAULT_PURPOSES_MAX];
	struct ctx c;
	struct vault_request r;
	struct vault_request_actor who;
	struct vault_withdrawal *rep = NULL;
	json_t *doc = NULL;
	size_t n = 0;
	int rc = 0;
	enum vaern_err err;

	if (rq_begin_operational(req, res, app, &c,
	                         withdraw ? "request_consent_withdrawal"
	                                  : "request_objection"))
		return 0; /* answered */
	if (body_any(req, res, keys, &doc))
		return 0; /* answered */
	if (rq_purposes(res, doc, purposes, &n))
		goto done; /* answered */
	if ((rep = calloc(1, sizeof(*rep))) == NULL) {
		rc = fail(res, VAERN_E_NOMEM, NULL);
		goto done;
	}
	who = rq_who(&c);
	err = withdraw ? vault_request_withdraw(c.v, c.actor.controller,
	                                        id ? id : "", purposes, n, &who,
	                                        rep, &r, &c.msg)
	               : vault_request_object(c.v, c.actor.controller,
	                                      id ? id : "", purposes, n, &who,
	                                      &r, &c.msg);
	if (err != VAERN_OK)
		rc = fail(res, err, &c.msg);
	else if (withdraw)
		rc = rq_done(&c, res, &r, "consent_withdrawal",
		             vault_withdrawal_json(rep));
	else
		rc = rq_done(&c, res, &r, "objection",
		             vault_objection_json(c.policy));
done:
	free(rep);
	json_decref(doc);
	return rc;
}

int
h_request_object(struct http_request *req, struct http_response *res, void *app)
{
	return rq_purposes_exec(req, res, app, 0);
}

int
h_request_withdraw(struct http_request *req, struct http_response *res,
                   void *app)
{
	return rq_purposes_exec(req, res, app, 1);
}

/* ---- OpenDSR v2 beside the native API ------------------------------- */

static const char *
opendsr_status(enum rights_status s)
{
	switch (s) {
	case RIGHTS_IN_PROGRESS: return "in_progress";
	case RIGHTS_COMPLETED:
	case RIGHTS_REFUSED: return "completed";
	case RIGHTS_CANCELLED: return "cancelled";
	default: return "pending";
	}
}

/* The due day's last second: what "due on the 28th" means. */
static json_t *
opendsr_due(long due)
{
	return time_json((int64_t)due * 86400 + 86399);
}

/* GET /v1/opendsr/discovery */
int
h_opendsr_discovery(struct http_request *req, struct http_response *res,
                    void *app)
{
	struct ctx c;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	return http_respond_json(
	        res, 200,
	        json_pack("{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}],"
	                  " s:[s, s, s], s:n}",
	                  "api_version", OPENDSR_VERSION, "controller_id",
	                  c.actor.controller, "supported_identities",
	                  "identity_type", "email", "identity_format", "raw",
	                  "identity_type", "phone_number", "identity_format",
	                  "raw", "identity_type", "controller_customer_id",
	                  "identity_format", "raw",
	                  "supported_subject_request_types", "access",
	                  "portability", "erasure", "processor_certificate"));
}

/* Finds the one subject that subject_identities name; answers errors. */
static int
opendsr_subject(struct ctx *c, struct http_response *res, json_t *ids,
                unsigned char uid[VAULT_UID_BYTES])
{
	int found = 0;
	size_t i;
	json_t *item;

	if (!json_is_array(ids) || json_array_size(ids) == 0 ||
	    json_array_size(ids) > OPENDSR_IDENTITIES)
		return http_respond_error(res, 400, "invalid",
		                          "'subject_identities' is a list of 1 "
		                          "to %d identities",
		                          OPENDSR_IDENTITIES),
		       1;
	json_array_foreach(ids, i, item)
	{
		const char *type = NULL, *value = NULL, *format = NULL;
		unsigned char one[VAULT_UID_BYTES];
		enum vaern_err err;

		if (json_is_object(item)) {
			type = str_member(item, "identity_type");
			value = str_member(item, "identity_value");
			format = str_member(item, "identity_format");
		}
		if (type == NULL || value == NULL)
			return http_respond_error(
			               res, 400, "invalid",
			               "subject_identities[%zu]: "
			               "'identity_type' and 'identity_value' "
			               "are required",
			               i),
			       1;
		if (format != NULL && strcmp(format, "raw") != 0)
			return http_respond_error(
			               res, 400, "invalid",
			               "subject_identities[%zu]: only "
			               "identity_format 'raw' is supported",
			               i),
			       1;
		if (strcmp(type, "email") == 0)
			err = vault_subject_find(c->v, c->actor.controller,
			                         ID_EMAIL, value, one, &c->msg);
		else if (strcmp(type, "phone_number") == 0)
			err = vault_subject_find(c->v, c->actor.controller,
			                         ID_PHONE, value, one, &c->msg);
		else if (strcmp(type, "controller_customer_id") == 0)
			err = vault_uid_parse(value, one, &c->msg) == VAERN_OK
			              ? vault_subject_exists(
			                        c->v, c->actor.controller, one,
			                        &c->msg)
			              : VAERN_E_NOTFOUND;
		else
			return http_respond_error(
			               res, 400, "invalid",
			               "subject_identities[%zu]: unsupported "
			               "identity_type '%.32s' (email, "
			               "phone_number, controller_customer_id)",
			               i, type),
			       1;
		if (err == VAERN_E_INVALID)
			return http_respond_error(res, 400, "invalid",
			                          "subject_identities[%zu]: "
			                          "not a valid %s",
			                          i, type),
			       1;
		if (err == VAERN_E_NOTFOUND)
			continue;
		if (err != VAERN_OK)
			return fail(res, err, &c->msg), 1;
		if (found && memcmp(one, uid, VAULT_UID_BYTES) != 0)
			return http_respond_error(
			               res, 400, "invalid",
			               "subject_identities name two different "
			               "subjects"),
			       1;
		memcpy(uid, one, VAULT_UID_BYTES);
		found = 1;
	}
	if (!found)
		return http_respond_error(res, 404, "not_found",
		                          "no subject of controller '%s' has "
		                          "these subject_identities",
		                          c->actor.controller),
		       1;
	return 0;
}

/* POST /v1/opendsr/requests */
int
h_opendsr_create(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"subject_request_id",
	                                   "subject_request_type",
	                                   "submitted_time",
	                                   "subject_identities",
	                                   "api_version",
	                                   "property_id",
	                                   "status_callback_urls",
	                                   "extensions",
	                                   NULL};
	struct ctx c;
	struct vault_request_in in;
	struct vault_request r;
	struct vault_request_actor who;
	unsigned char uid[VAULT_UID_BYTES];
	const char *type, *submitted, *rid;
	json_t *doc = NULL;
	enum vaern_err err;
	int rc;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (body_any(req, res, keys, &doc))
		return 0; /* answered */
	memset(&in, 0, sizeof(in));
	if (rq_string(res, doc, "subject_request_type", &type) ||
	    rq_string(res, doc, "submitted_time", &submitted) ||
	    rq_string(res, doc, "subject_request_id", &rid)) {
		rc = 0; /* answered */
		goto done;
	}
	if (type == NULL ||
	    (strcmp(type, "access") != 0 && strcmp(type, "portability") != 0 &&
	     strcmp(type, "erasure") != 0)) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'subject_request_type' is access, "
		                        "portability or erasure");
		goto done;
	}
	if (submitted == NULL ||
	    parse_time(submitted, &in.received_at, &c.msg) != 0) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'submitted_time' is required: an RFC "
		                        "3339 time");
		goto done;
	}
	if (opendsr_subject(&c, res, json_object_get(doc, "subject_identities"),
	                    uid)) {
		rc = 0; /* answered */
		goto done;
	}
	in.type = type;
	in.subject = uid;
	in.channel = "opendsr";
	in.id = rid;
	who = rq_who(&c);
	err = vault_request_add(c.v, c.actor.controller, &in, &who, &r, &c.msg);
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	rc = http_respond_json(
	        res, 201,
	        json_pack("{s:s, s:s, s:o, s:o, s:s}", "subject_request_id",
	                  r.id, "controller_id", c.actor.controller,
	                  "received_time", time_json(r.received_at),
	                  "expected_completion_time", opendsr_due(r.due),
	                  "api_version", OPENDSR_VERSION));
done:
	json_decref(doc);
	return rc;
}

static json_t *
opendsr_json(const char *controller, const struct vault_request *r)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:n,"
	                 " s:{s:s}}",
	                 "subject_request_id", r->id, "controller_id",
	                 controller, "subject_request_type",
	                 rights_type_name(r->type), "request_status",
	                 opendsr_status(r->status), "received_time",
	                 time_json(r->received_at), "expected_completion_time",
	                 opendsr_due(r->due), "api_version", OPENDSR_VERSION,
	                 "results_url", "extensions", "vaern_status",
	                 rights_status_name(r->status));
}

/* GET /v1/opendsr/requests/{request} */
int
h_opendsr_get(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	struct vault_request r;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (rq_get(&c, req, res, &r))
		return 0; /* answered */
	return http_respond_json(res, 200,
	                         opendsr_json(c.actor.controller, &r));
}

/* DELETE /v1/opendsr/requests/{request}: the person cancels. */
int
h_opendsr_cancel(struct http_request *req, struct http_response *res, void *app)
{
	const char *id = http_request_param(req, "request");
	struct ctx c;
	struct vault_request r;
	struct vault_request_actor who;
	enum vaern_err err;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	who = rq_who(&c);
	err = vault_request_set_status(c.v, c.actor.controller, id ? id : "",
	                               RIGHTS_CANCELLED, NULL, &who, &r,
	                               &c.msg);
	if (err != VAERN_OK)
		return fail(res, err, &c.msg);
	return http_respond_json(res, 202,
	                         opendsr_json(c.actor.controller, &r));
}
