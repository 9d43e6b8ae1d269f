/*
 * api_incidents.c -- security-weakness reports and the breach register
 * (issue 17) over HTTP.
 *
 *   POST  /v1/reports                   public intake (SHOP-BREACH-1)
 *   POST  /v1/reports/{case}/status     the reporter's view, by secret
 *   GET   /report/{controller}          the plain intake page (no
 *                                       screenshots; links to the
 *                                       portal's form, portal_report.c)
 *   POST  /report/{controller}          its form, urlencoded
 *   GET   /v1/incidents                 cases due (?due_within=2d, ?all=1)
 *   GET   /v1/incidents/register        Art. 33(5) (?format=json|csv|html)
 *   GET   /v1/incidents/affected        who was affected, from the audit
 *                                       trail (GDPR-33; point 4)
 *   GET   /v1/incidents/{case}          a case, its texts (audited)
 *   PATCH /v1/incidents/{case}          triage: the register fields
 *   GET   /v1/incidents/{case}/screenshots/{n}  a screenshot (audited)
 *   POST  /v1/incidents/{case}/receipt  the receipt (SHOP-BREACH-2)
 *   POST  /v1/incidents/{case}/feedback the feedback (SHOP-BREACH-2)
 *   GET   /v1/incidents/{case}/notification  the draft to Datatilsynet/IMY
 *   POST  /v1/incidents/{case}/notices  Art. 34 messages to the people
 *                                       found by the search (?from=&to=..)
 *
 * Intake is public; every /v1/incidents route is for a role with
 * `audit: true` (the DPO) or `incidents: true` (issue 17 point 6), and a
 * refusal is audited.
 */
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../incident/affected.h"
#include "../vault/vault_incident.h"
#include "api_internal.h"

/* A base64 screenshot of 5 MiB, and the JSON around it. */
#define B64_MAX (((INCIDENT_FILE_MAX + 2) / 3) * 4)

static int
ri_fail(struct http_response *res, enum vaern_err err,
        const struct vaern_msg *msg)
{
	if (err == VAERN_E_DENIED && strncmp(msg->text, "rate:", 5) == 0)
		return http_respond_error(res, 429, "too_many", "%s",
		                          msg->text + 6);
	return fail(res, err, msg);
}

/* A text member: NULL if absent or null; answers 400 if not a string. */
static int
ri_text(struct http_response *res, json_t *doc, const char *key,
        const char *name, const char **out)
{
	json_t *v = json_object_get(doc, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		(void)http_respond_error(res, 400, "invalid",
		                         "'%s' must be a string", name);
		return 1;
	}
	*out = json_string_value(v);
	return 0;
}

/* POST /v1/reports: a report of a security weakness, without a token
 * (SHOP-BREACH-1). Answers 201 with the case number and the secret. */
int
h_report_submit(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {
	        "controller", "description", "how_found", "where",
	        "contact",    "screenshots", NULL};
	static const char *const contact_keys[] = {"name", "email", "phone",
	                                           NULL};
	struct ctx c;
	struct vault_report_in in;
	struct vault_report_receipt r;
	unsigned char *files[INCIDENT_FILES_MAX] = {0};
	const unsigned char *cfiles[INCIDENT_FILES_MAX];
	size_t lens[INCIDENT_FILES_MAX] = {0}, i;
	json_t *doc = NULL, *contact, *shots, *it;
	char d1[11], d2[11];
	enum vaern_err err;
	int rc = 0;

	if (begin_public(req, res, app, &c))
		return 0; /* answered */
	if (body_any(req, res, keys, &doc))
		return 0; /* answered */
	memset(&in, 0, sizeof(in));
	if (ri_text(res, doc, "controller", "controller", &in.controller) ||
	    ri_text(res, doc, "description", "description", &in.description) ||
	    ri_text(res, doc, "how_found", "how_found", &in.how_found) ||
	    ri_text(res, doc, "where", "where", &in.where))
		goto done; /* answered */
	contact = json_object_get(doc, "contact");
	if (contact != NULL && !json_is_null(contact)) {
		if (!json_is_object(contact) ||
		    check_keys(contact, contact_keys, &c.msg) != 0) {
			rc = http_respond_error(res, 400, "invalid",
			                        "'contact' is an object of "
			                        "name, email, phone (texts)");
			goto done;
		}
		if (ri_text(res, contact, "name", "contact.name",
		            &in.contact_name) ||
		    ri_text(res, contact, "email", "contact.email",
		            &in.contact_email) ||
		    ri_text(res, contact, "phone", "contact.phone",
		            &in.contact_phone))
			goto done; /* answered */
	}
	shots = json_object_get(doc, "screenshots");
	if (shots != NULL && !json_is_null(shots)) {
		if (!json_is_array(shots)) {
			rc = http_respond_error(res, 400, "invalid",
			                        "'screenshots' is a list of "
			                        "base64 images");
			goto done;
		}
		if (json_array_size(shots) > INCIDENT_FILES_MAX) {
			rc = http_respond_error(res, 413, "too_large",
			                        "at most %d screenshots in one "
			                        "report",
			                        INCIDENT_FILES_MAX);
			goto done;
		}
		json_array_foreach(shots, i, it)
		{
			const char *b64 = json_string_value(it);
			size_t n = b64 != NULL ? strlen(b64) : 0;

			if (b64 != NULL && n > B64_MAX) {
				rc = http_respond_error(
				        res, 413, "too_large",
				        "screenshot %zu is larger than 5 MiB",
				        i + 1);
				goto done;
			}
			if (b64 == NULL ||
			    (files[i] = malloc(n / 4 * 3 + 3)) == NULL ||
			    sodium_base642bin(files[i], n / 4 * 3 + 3, b64, n,
			                      "\r\n", &lens[i], NULL,
			                      sodium_base64_VARIANT_ORIGINAL) !=
			            0) {
				rc = http_respond_error(
				        res, 400, "invalid",
				        "screenshot %zu is not base64", i + 1);
				goto done;
			}
			cfiles[i] = files[i];
			in.nfiles = i + 1;
		}
		in.files = cfiles;
		in.file_lens = lens;
	}
	in.client = http_request_client(req);
	err = vault_report_add(c.v, &in, &r, &c.msg);
	if (err != VAERN_OK) {
		rc = ri_fail(res, err, &c.msg);
		goto done;
	}
	cal_format_date(r.receipt_due, d1);
	cal_format_date(r.feedback_due, d2);
	rc = http_respond_json(
	        res, 201,
	        json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "case",
	                  r.case_id, "secret", r.secret, "controller",
	                  r.controller, "receipt_due", d1, "feedback_due", d2,
	                  "receipt_sent", r.receipt_sent, "note",
	                  "Keep the case number and the secret: they are the "
	                  "only way to follow the case."));
	sodium_memzero(&r, sizeof(r));
done:
	for (i = 0; i < INCIDENT_FILES_MAX; i++) {
		if (files[i] != NULL)
			sodium_memzero(files[i], lens[i]);
		free(files[i]);
	}
	json_decref(doc);
	return rc;
}

/* POST /v1/reports/{case}/status {"secret": ...}: the reporter's view.
 * The secret travels in the body, never in a URL (logs, history). */
int
h_report_status(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"secret", NULL};
	const char *id = http_request_param(req, "case"), *secret;
	struct ctx c;
	json_t *doc = NULL, *out = NULL;
	enum vaern_err err;
	int rc = 0;

	if (begin_public(req, res, app, &c))
		return 0; /* answered */
	if (body(req, res, keys, &doc))
		return 0; /* answered */
	if (ri_text(res, doc, "secret", "secret", &secret))
		goto done; /* answered */
	if (secret == NULL || id == NULL) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'secret' is required");
		goto done;
	}
	err = vault_report_status(c.v, id, secret, &out, &c.msg);
	rc = err == VAERN_OK ? http_respond_json(res, 200, out)
	                     : fail(res, err, &c.msg);
done:
	json_decref(doc);
	return rc;
}

/* The page answers with a strict CSP of its own: no script, the form
 * posts to this server only. */
static int
ri_page(struct http_response *res, int status, char *html)
{
	int rc;

	if (html == NULL)
		return fail(res, VAERN_E_NOMEM, NULL);
	if (http_respond_header(res, "Content-Security-Policy",
	                        "default-src 'none'; form-action 'self'; "
	                        "frame-ancestors 'none'") != 0) {
		free(html);
		return http_respond_error(res, 500, "internal",
		                          "cannot set the page's CSP");
	}
	rc = http_respond_body(res, status, "text/html; charset=utf-8", html,
	                       strlen(html));
	free(html);
	return rc;
}

/* GET /report/{controller}: the plain intake page (SHOP-BREACH-1),
 * without screenshots; public. */
int
h_report_page(struct http_request *req, struct http_response *res, void *app)
{
	const char *controller = http_request_param(req, "controller");
	const struct policy *p = NULL;
	char action[POLICY_NAME_MAX + 16], portal[POLICY_NAME_MAX + 16];
	struct ctx c;

	if (begin_public(req, res, app, &c))
		return 0; /* answered */
	if (controller == NULL ||
	    vault_policy(c.v, controller, &p, &c.msg) != VAERN_OK)
		return http_respond_error(res, 404, "not_found",
		                          "no such controller");
	(void)snprintf(action, sizeof(action), "/report/%s", controller);
	/* Kept for every controller; one with a portal has the form with
	 * screenshots there (portal_report.c), linked from here. */
	(void)snprintf(portal, sizeof(portal), "/portal/%s/report", controller);
	return ri_page(res, 200,
	               incident_form_html(p->controller.name,
	                                  p->controller.language, action,
	                                  p->portal.declared ? portal : NULL));
}

/* POST /report/{controller}: the page's form (urlencoded; screenshots go
 * through POST /v1/reports). Answers 201 with a page holding the case
 * number and the secret. */
int
h_report_page_post(struct http_request *req, struct http_response *res,
                   void *app)
{
	static const char *const keys[] = {
	        "description",   "how_found",     "where", "contact_name",
	        "contact_email", "contact_phone", NULL};
	const char *controller = http_request_param(req, "controller");
	const char *type = http_request_header(req, "Content-Type");
	const char *values[7];
	const struct policy *p = NULL;
	struct vault_report_in in;
	struct vault_report_receipt r;
	struct ctx c;
	size_t len = 0;
	const char *raw = http_request_body(req, &len);
	char *body = NULL, d1[11], d2[11];
	enum vaern_err err;
	int rc;

	if (begin_public(req, res, app, &c))
		return 0; /* answered */
	if (controller == NULL ||
	    vault_policy(c.v, controller, &p, &c.msg) != VAERN_OK)
		return http_respond_error(res, 404, "not_found",
		                          "no such controller");
	if (type == NULL ||
	    strncmp(type, "application/x-www-form-urlencoded", 33) != 0)
		return http_respond_error(res, 415, "unsupported_media_type",
		                          "the form is "
		                          "application/x-www-form-urlencoded");
	if (memchr(raw, '\0', len) != NULL || (body = strdup(raw)) == NULL)
		return http_respond_error(res, 400, "invalid",
		                          "the form holds a NUL byte");
	if (incident_form_decode(body, keys, values, &c.msg) != 0) {
		rc = http_respond_error(res, 400, "invalid", "%s", c.msg.text);
		goto done;
	}
	memset(&in, 0, sizeof(in));
	in.controller = controller;
	in.description = values[0];
	in.how_found = values[1];
	in.where = values[2];
	in.contact_name = values[3];
	in.contact_email = values[4];
	in.contact_phone = values[5];
	in.client = http_request_client(req);
	err = vault_report_add(c.v, &in, &r, &c.msg);
	if (err != VAERN_OK) {
		rc = ri_fail(res, err, &c.msg);
		goto done;
	}
	cal_format_date(r.receipt_due, d1);
	cal_format_date(r.feedback_due, d2);
	rc = ri_page(res, 201,
	             incident_thanks_html(p->controller.language, r.case_id,
	                                  r.secret, d1, d2));
	sodium_memzero(&r, sizeof(r));
done:
	if (body != NULL) {
		sodium_memzero(body, strlen(body));
		free(body);
	}
	return rc;
}

/* begin() and the role check of every /v1/incidents route (point 6). */
static int
ri_begin(struct http_request *req, struct http_response *res, void *app,
         struct ctx *c, const char *action)
{
	long ri;

	if (begin(req, res, app, c))
		return 1; /* answered */
	ri = policy_role_index(c->policy, c->actor.role);
	if (ri >= 0 &&
	    (c->policy->roles[ri].audit || c->policy->roles[ri].incidents))
		return 0;
	(void)refuse(c, res, action, NULL, NULL, "SHOP-BREACH-3",
	             "role '%s' may not handle security reports (needs "
	             "audit: true or incidents: true)",
	             c->actor.role);
	return 1;
}

static struct vault_request_actor
ri_who(const struct ctx *c)
{
	struct vault_request_actor who = {c->actor.name, c->actor.role};

	return who;
}

/* GET /v1/incidents?due_within=2d&all=1 (SHOP-BREACH-2). */
int
h_incident_list(struct http_request *req, struct http_response *res, void *app)
{
	const char *within = http_request_query(req, "due_within");
	const char *all = http_request_query(req, "all");
	struct ctx c;
	json_t *list = NULL;
	long days = 0, due_by = LONG_MAX;
	enum vaern_err err;

	if (ri_begin(req, res, app, &c, "incident_list"))
		return 0; /* answered */
	if (within != NULL) {
		if (cal_parse_days(within, &days) != 0)
			return http_respond_error(res, 400, "invalid",
			                          "'due_within' is a number of "
			                          "days: 2, 2d or 1w");
		due_by = clock_today() + days;
	}
	if (all != NULL && strcmp(all, "1") != 0 && strcmp(all, "0") != 0 &&
	    strcmp(all, "true") != 0 && strcmp(all, "false") != 0)
		return http_respond_error(res, 400, "invalid",
		                          "'all' is true or false");
	err = vault_incident_list(c.v, c.actor.controller, due_by,
	                          all != NULL && (strcmp(all, "1") == 0 ||
	                                          strcmp(all, "true") == 0),
	                          &list, &c.msg);
	if (err != VAERN_OK)
		return fail(res, err, &c.msg);
	return http_respond_json(res, 200, json_pack("{s:o}", "cases", list));
}

/* GET /v1/incidents/{case}: the case, its texts and register. */
int
h_incident_get(struct http_request *req, struct http_response *res, void *app)
{
	struct vault_request_actor who;
	struct ctx c;
	json_t *out = NULL;
	enum vaern_err err;

	if (ri_begin(req, res, app, &c, "incident_read"))
		return 0; /* answered */
	who = ri_who(&c);
	err = vault_incident_get(c.v, c.actor.controller,
	                         http_request_param(req, "case"), 1, &who, &out,
	                         &c.msg);
	return err == VAERN_OK ? http_respond_json(res, 200, out)
	                       : fail(res, err, &c.msg);
}

/* PATCH /v1/incidents/{case}: triage (SHOP-BREACH-3, GDPR-33). */
int
h_incident_triage(struct http_request *req, struct http_response *res,
                  void *app)
{
	static const char *const keys[] = {
	        "classification", "aware_at",        "nature",
	        "categories",     "subjects_approx", "records_approx",
	        "consequences",   "measures_taken",  "measures_proposed",
	        "risk",           "notify",          "notify_reason",
	        "notified_at",    "delay_reason",    NULL};
	struct vault_request_actor who;
	struct ctx c;
	json_t *doc = NULL, *out = NULL;
	enum vaern_err err;

	if (ri_begin(req, res, app, &c, "incident_triage"))
		return 0; /* answered */
	if (body_any(req, res, keys, &doc))
		return 0; /* answered */
	who = ri_who(&c);
	err = vault_incident_triage(c.v, c.actor.controller,
	                            http_request_param(req, "case"), doc, &who,
	                            &out, &c.msg);
	json_decref(doc);
	return err == VAERN_OK ? http_respond_json(res, 200, out)
	                       : fail(res, err, &c.msg);
}

/* GET /v1/incidents/{case}/screenshots/{n}: a screenshot, decrypted,
 * served as the image it was checked to be (audited). */
int
h_incident_screenshot(struct http_request *req, struct http_response *res,
                      void *app)
{
	const char *n = http_request_param(req, "n");
	struct vault_request_actor who;
	struct ctx c;
	unsigned char *bytes = NULL;
	size_t len = 0;
	char type[16];
	enum vaern_err err;
	int rc;

	if (ri_begin(req, res, app, &c, "incident_read"))
		return 0; /* answered */
	if (n == NULL || n[0] < '1' || n[0] > '5' || n[1] != '\0')
		return http_respond_error(res, 404, "not_found",
		                          "no such screenshot (1 to 5)");
	who = ri_who(&c);
	err = vault_incident_screenshot(
	        c.v, c.actor.controller, http_request_param(req, "case"),
	        n[0] - '0', &who, type, &bytes, &len, &c.msg);
	if (err != VAERN_OK)
		return fail(res, err, &c.msg);
	rc = http_respond_body(res, 200, type, bytes, len);
	sodium_memzero(bytes, len);
	free(bytes);
	return rc;
}

/* POST /v1/incidents/{case}/receipt (SHOP-BREACH-2). */
int
h_incident_receipt(struct http_request *req, struct http_response *res,
                   void *app)
{
	struct vault_request_actor who;
	struct ctx c;
	json_t *out = NULL;
	enum vaern_err err;

	if (ri_begin(req, res, app, &c, "incident_receipt"))
		return 0; /* answered */
	who = ri_who(&c);
	err = vault_incident_receipt(c.v, c.actor.controller,
	                             http_request_param(req, "case"), &who,
	                             &out, &c.msg);
	return err == VAERN_OK ? http_respond_json(res, 200, out)
	                       : fail(res, err, &c.msg);
}

/* POST /v1/incidents/{case}/feedback {"text", "closed"} (SHOP-BREACH-2). */
int
h_incident_feedback(struct http_request *req, struct http_response *res,
                    void *app)
{
	static const char *const keys[] = {"text", "closed", NULL};
	struct vault_request_actor who;
	struct ctx c;
	json_t *doc = NULL, *out = NULL, *closed;
	const char *text;
	enum vaern_err err;
	int rc = 0;

	if (ri_begin(req, res, app, &c, "incident_feedback"))
		return 0; /* answered */
	if (body_any(req, res, keys, &doc))
		return 0; /* answered */
	if (ri_text(res, doc, "text", "text", &text))
		goto done; /* answered */
	closed = json_object_get(doc, "closed");
	if (closed != NULL && !json_is_boolean(closed)) {
		rc = http_respond_error(res, 400, "invalid",
		                        "'closed' is true or false");
		goto done;
	}
	who = ri_who(&c);
	err = vault_incident_feedback(c.v, c.actor.controller,
	                              http_request_param(req, "case"),
	                              text != NULL ? text : "",
	                              json_is_true(closed), &who, &out, &c.msg);
	rc = err == VAERN_OK ? http_respond_json(res, 200, out)
	                     : fail(res, err, &c.msg);
done:
	json_decref(doc);
	return rc;
}

/* GET /v1/incidents/register?format=json|csv|html (GDPR Art. 33(5)). */
int
h_incident_register(struct http_request *req, struct http_response *res,
                    void *app)
{
	const char *format = http_request_query(req, "format");
	struct vault_request_actor who;
	struct ctx c;
	json_t *list = NULL;
	enum vaern_err err;
	char *text;
	int rc;

	if (ri_begin(req, res, app, &c, "incident_register"))
		return 0; /* answered */
	if (format == NULL)
		format = "json";
	if (strcmp(format, "json") != 0 && strcmp(format, "csv") != 0 &&
	    strcmp(format, "html") != 0)
		return http_respond_error(res, 400, "invalid",
		                          "'format' is json, csv or html");
	who = ri_who(&c);
	err = vault_incident_register(c.v, c.actor.controller, &who, &list,
	                              &c.msg);
	if (err != VAERN_OK)
		return fail(res, err, &c.msg);
	if (strcmp(format, "json") == 0)
		return http_respond_json(res, 200,
		                         json_pack("{s:s, s:o}", "controller",
		                                   c.actor.controller,
		                                   "breaches", list));
	text = strcmp(format, "csv") == 0
	               ? incident_register_csv(list)
	               : incident_register_html(list,
	                                        c.policy->controller.name);
	json_decref(list);
	if (text == NULL)
		return fail(res, VAERN_E_NOMEM, NULL);
	rc = http_respond_text(res, 200,
	                       strcmp(format, "csv") == 0
	                               ? "text/csv; charset=utf-8"
	                               : "text/html; charset=utf-8",
	                       text);
	free(text);
	return rc;
}

/* The search of the query string (from, to, actor, role, recipient,
 * route, categories) into q; list and buf hold the categories. 1 once it
 * has answered (400). */
static int
ri_query(struct http_request *req, struct http_response *res, struct ctx *c,
         struct affected_query *q, const char **list, char *buf, size_t bufsz)
{
	const char *cats = http_request_query(req, "categories");

	memset(q, 0, sizeof(*q));
	q->controller = c->actor.controller;
	if (http_request_query(req, "from") == NULL ||
	    http_request_query(req, "to") == NULL) {
		(void)http_respond_error(res, 400, "invalid",
		                         "'from' and 'to' are required");
		return 1;
	}
	if (parse_time(http_request_query(req, "from"), &q->from, &c->msg) ||
	    parse_time(http_request_query(req, "to"), &q->to, &c->msg)) {
		(void)http_respond_error(res, 400, "invalid", "%s",
		                         c->msg.text);
		return 1;
	}
	q->actor = http_request_query(req, "actor");
	q->role = http_request_query(req, "role");
	q->recipient = http_request_query(req, "recipient");
	q->action = http_request_query(req, "route");
	if (cats != NULL) {
		char *p, *save = NULL;

		(void)snprintf(buf, bufsz, "%s", cats);
		for (p = strtok_r(buf, ",", &save); p != NULL;
		     p = strtok_r(NULL, ",", &save)) {
			if (policy_category_index(c->policy, p) < 0 ||
			    q->ncategories == AFFECTED_CATEGORIES) {
				(void)http_respond_error(
				        res, 400, "invalid",
				        "'categories' item %zu is not a "
				        "category of the policy",
				        q->ncategories + 1);
				return 1;
			}
			list[q->ncategories++] = p;
		}
		q->categories = list;
	}
	return 0;
}

/* GET /v1/incidents/affected?from=&to=[&actor=][&role=][&recipient=]
 * [&route=][&categories=a,b]: the people whose data was released in the
 * window by what leaked (GDPR-33), from the audit trail. Audited. */
int
h_incident_affected(struct http_request *req, struct http_response *res,
                    void *app)
{
	const char *list[AFFECTED_CATEGORIES];
	char buf[HTTP_QUERY_VALUE_MAX + 1], why[96];
	struct affected_query q;
	struct affected a;
	struct ctx c;
	json_t *out;
	enum vaern_err err;

	if (ri_begin(req, res, app, &c, "incident_affected"))
		return 0; /* answered */
	if (ri_query(req, res, &c, &q, list, buf, sizeof(buf)))
		return 0; /* answered */
	err = incident_affected(c.api->db_path, &q, &a, &c.msg);
	if (err != VAERN_OK)
		return fail(res, err, &c.msg);
	(void)snprintf(why, sizeof(why), "affected people searched: %zu found",
	               a.nsubjects);
	if ((err = audit_change(&c, "incident_affected", "incident", NULL, NULL,
	                        1, "GDPR-33", why)) != VAERN_OK) {
		incident_affected_free(&a);
		return fail(res, err, &c.msg);
	}
	out = incident_affected_json(&a);
	incident_affected_free(&a);
	return out != NULL ? http_respond_json(res, 200, out)
	                   : fail(res, VAERN_E_NOMEM, NULL);
}

/* POST /v1/incidents/{case}/notices?from=&to=[&...]: the Art. 34
 * message to each person the search finds (GDPR-33; point 5), never
 * twice. */
int
h_incident_notices(struct http_request *req, struct http_response *res,
                   void *app)
{
	const char *list[AFFECTED_CATEGORIES];
	char buf[HTTP_QUERY_VALUE_MAX + 1];
	struct vault_notice_report rep;
	struct vault_request_actor who;
	struct affected_query q;
	struct affected a;
	struct ctx c;
	enum vaern_err err;

	if (ri_begin(req, res, app, &c, "incident_notice"))
		return 0; /* answered */
	if (ri_query(req, res, &c, &q, list, buf, sizeof(buf)))
		return 0; /* answered */
	if ((err = incident_affected(c.api->db_path, &q, &a, &c.msg)) !=
	    VAERN_OK)
		return fail(res, err, &c.msg);
	who = ri_who(&c);
	err = vault_incident_notify(
	        c.v, c.actor.controller, http_request_param(req, "case"),
	        (const unsigned char(*)[VAULT_UID_BYTES])a.subjects,
	        a.nsubjects, &who, &rep, &c.msg);
	incident_affected_free(&a);
	if (err != VAERN_OK)
		return fail(res, err, &c.msg);
	return http_respond_json(
	        res, 200,
	        json_pack("{s:i, s:i, s:i}", "sent", (int)rep.sent, "already",
	                  (int)rep.already, "no_contact", (int)rep.no_contact));
}

/* GET /v1/incidents/{case}/notification?lang=da|sv|en&format=json|html:
 * the draft notification to Datatilsynet / IMY (GDPR Art. 33(3)). */
int
h_incident_notification(struct http_request *req, struct http_response *res,
                        void *app)
{
	const char *format = http_request_query(req, "format");
	const char *lang = http_request_query(req, "lang");
	struct vault_request_actor who;
	struct ctx c;
	json_t *out = NULL;
	enum vaern_err err;
	char *html;
	int rc;

	if (ri_begin(req, res, app, &c, "incident_notification"))
		return 0; /* answered */
	if (format == NULL)
		format = "json";
	if (lang == NULL)
		lang = c.policy->controller.language;
	if ((strcmp(format, "json") != 0 && strcmp(format, "html") != 0) ||
	    (strcmp(lang, "da") != 0 && strcmp(lang, "sv") != 0 &&
	     strcmp(lang, "en") != 0))
		return http_respond_error(
		        res, 400, "invalid",
		        "'format' is json or html, 'lang' da, "
		        "sv or en");
	who = ri_who(&c);
	err = vault_incident_notification(c.v, c.actor.controller,
	                                  http_request_param(req, "case"), lang,
	                                  &who, &out, &c.msg);
	if (err != VAERN_OK)
		return fail(res, err, &c.msg);
	if (strcmp(format, "json") == 0)
		return http_respond_json(res, 200, out);
	html = incident_notification_html(out);
	json_decref(out);
	if (html == NULL)
		return fail(res, VAERN_E_NOMEM, NULL);
	rc = http_respond_text(res, 200, "text/html; charset=utf-8", html);
	free(html);
	return rc;
}

void
incident_metrics(struct api *a, struct http_buf *out)
{
	struct vault_incident_counts n;
	struct vaern_msg msg = {{0}};
	struct vault *v = api_thread_vault(a, &msg);

	/* The worker's own vault: no master key read per scrape. */
	if (v == NULL || vault_incident_counts(v, &n, &msg) != VAERN_OK)
		return;
	(void)http_buf_printf(
	        out,
	        "# HELP vaern_incidents_open Security reports not closed "
	        "(SHOP-BREACH-2).\n"
	        "# TYPE vaern_incidents_open gauge\n"
	        "vaern_incidents_open %ld\n"
	        "# HELP vaern_incidents_overdue Open reports past a "
	        "deadline, by deadline (SHOP-BREACH-2).\n"
	        "# TYPE vaern_incidents_overdue gauge\n"
	        "vaern_incidents_overdue{deadline=\"receipt\"} %ld\n"
	        "vaern_incidents_overdue{deadline=\"feedback\"} %ld\n"
	        "# HELP vaern_breaches_clock_running Breaches with the "
	        "72-hour clock running or run out, not notified (GDPR-33).\n"
	        "# TYPE vaern_breaches_clock_running gauge\n"
	        "vaern_breaches_clock_running %ld\n"
	        "# HELP vaern_breaches_late Of those, past the 72 hours.\n"
	        "# TYPE vaern_breaches_late gauge\n"
	        "vaern_breaches_late %ld\n",
	        n.open, n.receipt_overdue, n.feedback_overdue, n.breach_clock,
	        n.breach_late);
	/* Issue 19: the rights requests' deadlines (GDPR-12). */
	{
		long soon = 0, late = 0;

		if (vault_request_counts(v, &soon, &late, &msg) != VAERN_OK)
			return;
		(void)http_buf_printf(
		        out,
		        "# HELP vaern_requests_due_soon Open rights requests "
		        "due within 7 days (GDPR-12).\n"
		        "# TYPE vaern_requests_due_soon gauge\n"
		        "vaern_requests_due_soon %ld\n"
		        "# HELP vaern_requests_overdue Open rights requests "
		        "past their deadline (GDPR-12).\n"
		        "# TYPE vaern_requests_overdue gauge\n"
		        "vaern_requests_overdue %ld\n",
		        soon, late);
	}
}
