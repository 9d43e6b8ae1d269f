/*
 * portal_report.c -- the weakness report on the portal (issue 17,
 * SHOP-BREACH-1): public pages, no login (anonymous reports are
 * accepted).
 *
 *   GET  /portal/{controller}/report         the form
 *   POST /portal/{controller}/report         multipart/form-data: the
 *                                            texts and up to 5
 *                                            screenshots; the case
 *                                            number, the secret (once)
 *                                            and the deadlines
 *   GET  /portal/{controller}/report/status  the case number and secret
 *   POST /portal/{controller}/report/status  the receipt and feedback
 *
 * The report goes through vault_report_add, as POST /v1/reports does:
 * the same checks (magic bytes, sizes, white space), the same sealing,
 * the same per-address rate limit (the store's count), the same receipt.
 * No session exists to bind a CSRF token to: each form carries a token
 * of the instant it was served, MACed under the controller's key
 * (vault_report_form_token), and its Origin must be this site
 * (web_origin_ok). docs/incidents.md says why.
 */
#include "portal_internal.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../vault/vault_incident.h"

/* The multipart form's fields, in this order (F_*). A textarea's line
 * breaks come as CRLF: twice the text limit here, the limit itself in
 * incident_text_check. */
enum { F_TOKEN, F_DESC, F_HOW, F_WHERE, F_NAME, F_EMAIL, F_PHONE, F_SHOT };
static const struct web_part_field report_fields[] = {
        {"token", 128, 1, 0, 0},
        {"description", 2 * INCIDENT_TEXT_MAX, 1, 0, 1},
        {"how_found", 2 * INCIDENT_TEXT_MAX, 1, 0, 1},
        {"where", 2 * INCIDENT_TEXT_MAX, 1, 0, 0},
        {"contact_name", 2 * INCIDENT_TEXT_MAX, 1, 0, 0},
        {"contact_email", 2 * INCIDENT_TEXT_MAX, 1, 0, 0},
        {"contact_phone", 2 * INCIDENT_TEXT_MAX, 1, 0, 0},
        {"screenshots", INCIDENT_FILE_MAX, INCIDENT_FILES_MAX, 1, 0},
        {NULL, 0, 0, 0, 0},
};

size_t
portal_report_body_max(void)
{
	/* Five screenshots, the texts, and the parts' headers. */
	return INCIDENT_FILES_MAX * INCIDENT_FILE_MAX + 256 * 1024;
}

int
portal_report_admit(struct http_request *req, void *app)
{
	const char *length = http_request_header(req, "Content-Length");
	const char *client = http_request_client(req);
	struct vaern_msg msg;
	struct vault *v;
	enum vaern_err err;

	/* Another site's page cannot make the server read 25 MiB. */
	if (!web_origin_ok(req))
		return 403;
	/* Nor can an address past its reports of the hour: a body larger
	 * than a form without screenshots (or of unknown length) is refused
	 * unread; a small one gets its 429 page from the handler. */
	if (client == NULL ||
	    (length != NULL && strspn(length, "0123456789") == strlen(length) &&
	     strlen(length) < 7)) /* under 1,000,000 bytes */
		return 0;
	if ((v = api_thread_vault(app, &msg)) == NULL)
		return 500;
	err = vault_report_rate_check(v, client, &msg);
	return err == VAERN_OK ? 0 : err == VAERN_E_DENIED ? 429 : 500;
}

/* The form's hidden token for page ("report", "status"). */
static int
token_field(struct portal *p, struct web_html *h, const char *page)
{
	char token[VAULT_REPORT_FORM_TOKEN_LEN + 1];

	if (vault_report_form_token(p->c.v, p->controller, page, clock_now(),
	                            token, &p->c.msg) != VAERN_OK)
		return -1;
	web_html_raw(h, "<input type=\"hidden\" name=\"token\" value=\"");
	web_html_text(h, token);
	web_html_raw(h, "\">");
	return 0;
}

static int refusal(struct portal *p, int status, enum portal_key key,
                   const char *detail, const char *page);

/* AURA-SEC-1 without a session: the Origin and the page's token. 1
 * once it has answered (403 page, audited). */
static int
token_check(struct portal *p, const char *page, const char *token)
{
	const char *why = NULL;

	if (!web_origin_ok(p->req))
		why = "a report form from another origin (SHOP-BREACH-1)";
	else if (!vault_report_form_check(p->c.v, p->controller, page, token,
	                                  clock_now()))
		why = "a report form without a valid token (SHOP-BREACH-1)";
	if (why == NULL)
		return 0;
	if (audit_change(&p->c, "report_form_refused", NULL, NULL, NULL, 0,
	                 "SHOP-BREACH-1", why) != VAERN_OK) {
		(void)fail(p->res, VAERN_E_IO, &p->c.msg);
		return 1;
	}
	(void)refusal(p, 403, P_err_report_token, NULL,
	              strcmp(page, "report") == 0 ? "/report"
	                                          : "/report/status");
	return 1;
}

/* A labelled input or textarea (area) named name. */
static void
field(struct portal *p, struct web_html *h, const char *name,
      enum portal_key label, int area, const char *attrs)
{
	web_html_printf(h, "<label for=\"%s\">", name);
	web_html_text(h, portal_s(p, label));
	web_html_printf(h,
	                area ? "</label><textarea id=\"%s\" name=\"%s\" "
	                       "rows=\"6\" maxlength=\"8192\"%s></textarea>"
	                     : "</label><input id=\"%s\" name=\"%s\" "
	                       "maxlength=\"500\"%s>",
	                name, name, attrs);
}

/* A link to the report form or the status page. */
static void
page_link(struct portal *p, struct web_html *h, const char *path,
          enum portal_key key)
{
	web_html_raw(h, "<p><a href=\"");
	web_html_text(h, p->base);
	web_html_raw(h, path);
	web_html_raw(h, "\">");
	web_html_text(h, portal_s(p, key));
	web_html_raw(h, "</a></p>");
}

/*
 * A refusal's page: the report's title, the message (key) and the
 * reason (detail: names the field or rule, never a value), and a link
 * back to the form of page ("/report" or "/report/status").
 */
static int
refusal(struct portal *p, int status, enum portal_key key, const char *detail,
        const char *page)
{
	struct web_html h;

	portal_page_start(p, &h,
	                  strcmp(page, "/report") == 0 ? P_report_title
	                                               : P_status_title);
	web_html_raw(&h, "<p class=\"message\" role=\"alert\">");
	web_html_text(&h, portal_s(p, key));
	if (detail != NULL) {
		web_html_raw(&h, " ");
		web_html_text(&h, detail);
	}
	web_html_raw(&h, "</p>");
	page_link(p, &h, page,
	          strcmp(page, "/report") == 0 ? P_report_link
	                                       : P_report_status_link);
	portal_page_end(p, &h);
	return portal_respond(p, status, &h);
}

/* GET /portal/{controller}/report: the form. */
int
portal_report_page(struct http_request *req, struct http_response *res,
                   void *app)
{
	struct portal p;
	struct web_html h;

	if (portal_begin(req, res, app, &p, 0))
		return 0;
	portal_visit(&p, "report");
	portal_page_start(&p, &h, P_report_title);
	web_html_raw(&h, "<p>");
	web_html_text(&h, portal_s(&p, P_report_intro));
	web_html_raw(&h, "</p><form method=\"post\" action=\"");
	web_html_text(&h, p.base);
	web_html_raw(&h, "/report\" enctype=\"multipart/form-data\" "
	                 "class=\"report\">");
	if (token_field(&p, &h, "report") != 0) {
		web_html_free(&h);
		return portal_message(&p, 500, P_err_internal, NULL);
	}
	field(&p, &h, "description", P_report_description, 1, " required");
	field(&p, &h, "how_found", P_report_how_found, 1, "");
	field(&p, &h, "where", P_report_where, 0, "");
	web_html_raw(&h, "<fieldset><legend>");
	web_html_text(&h, portal_s(&p, P_report_contact));
	web_html_raw(&h, "</legend>");
	field(&p, &h, "contact_name", P_report_name, 0,
	      " autocomplete=\"name\"");
	field(&p, &h, "contact_email", P_report_email, 0,
	      " type=\"email\" autocomplete=\"email\"");
	field(&p, &h, "contact_phone", P_report_phone, 0,
	      " type=\"tel\" autocomplete=\"tel\"");
	web_html_raw(&h, "</fieldset><label for=\"screenshots\">");
	web_html_text(&h, portal_s(&p, P_report_screenshots));
	web_html_raw(&h,
	             "</label><input id=\"screenshots\" name=\"screenshots\" "
	             "type=\"file\" accept=\"image/png,image/jpeg\" "
	             "multiple><button type=\"submit\">");
	web_html_text(&h, portal_s(&p, P_report_submit));
	web_html_raw(&h, "</button></form>");
	page_link(&p, &h, "/report/status", P_report_status_link);
	portal_page_end(&p, &h);
	return portal_respond(&p, 200, &h);
}

/* A refusal of vault_report_add or the form: its page, naming the field
 * (c.msg never holds a value). */
static int
refused(struct portal *p, enum vaern_err err)
{
	if (err == VAERN_E_DENIED && strncmp(p->c.msg.text, "rate:", 5) == 0)
		return refusal(p, 429, P_err_report_rate, NULL, "/report");
	if (err == VAERN_E_INVALID || err == VAERN_E_LIMIT)
		return refusal(p, err == VAERN_E_LIMIT ? 413 : 400,
		               P_err_report_input, p->c.msg.text, "/report");
	return portal_message(p, 500, P_err_internal, NULL);
}

/* A row of the answer's table. */
static void
row(struct portal *p, struct web_html *h, enum portal_key key, const char *v)
{
	web_html_raw(h, "<tr><th scope=\"row\">");
	web_html_text(h, portal_s(p, key));
	web_html_raw(h, "</th><td>");
	web_html_text(h, v);
	web_html_raw(h, "</td></tr>");
}

/* POST /portal/{controller}/report: the report, through the same vault
 * call as POST /v1/reports. 201 with the case number and secret. */
int
portal_report_post(struct http_request *req, struct http_response *res,
                   void *app)
{
	struct portal p;
	struct web_multipart form;
	struct vault_report_in in;
	struct vault_report_receipt r;
	const unsigned char *files[INCIDENT_FILES_MAX];
	size_t lens[INCIDENT_FILES_MAX], len = 0;
	const unsigned char *body;
	struct web_html h;
	char d1[11], d2[11];
	enum vaern_err err;
	int st, rc;

	if (portal_begin(req, res, app, &p, 0))
		return 0;
	body = (const unsigned char *)http_request_body(req, &len);
	st = web_multipart(http_request_header(req, "Content-Type"), body, len,
	                   report_fields, &form, &p.c.msg);
	if (st != 0)
		return refusal(&p, st, P_err_report_input, p.c.msg.text,
		               "/report");
	if (token_check(&p, "report", web_multipart_text(&form, F_TOKEN))) {
		web_multipart_free(&form);
		return 0;
	}
	memset(&in, 0, sizeof(in));
	in.controller = p.controller;
	/* A blank required description is the vault's to refuse (it says
	 * "white space" or "required"), as for the API. */
	in.description = web_multipart_text(&form, F_DESC);
	in.how_found = web_multipart_text(&form, F_HOW);
	in.where = web_multipart_text(&form, F_WHERE);
	in.contact_name = web_multipart_text(&form, F_NAME);
	in.contact_email = web_multipart_text(&form, F_EMAIL);
	in.contact_phone = web_multipart_text(&form, F_PHONE);
	for (size_t i = 0; i < form.nparts; i++) {
		if (form.parts[i].field != F_SHOT)
			continue;
		assert(in.nfiles < INCIDENT_FILES_MAX);
		files[in.nfiles] = form.parts[i].data;
		lens[in.nfiles++] = form.parts[i].len;
	}
	in.files = files;
	in.file_lens = lens;
	in.client = http_request_client(req);
	err = vault_report_add(p.c.v, &in, &r, &p.c.msg);
	web_multipart_free(&form);
	if (err != VAERN_OK)
		return refused(&p, err);
	cal_format_date(r.receipt_due, d1);
	cal_format_date(r.feedback_due, d2);
	portal_page_start(&p, &h, P_report_thanks);
	web_html_raw(&h, "<p class=\"message\" role=\"status\">");
	web_html_text(&h, portal_s(&p, P_report_keep));
	web_html_raw(&h, "</p><table><tbody>");
	row(&p, &h, P_report_case, r.case_id);
	row(&p, &h, P_report_secret, r.secret);
	row(&p, &h, P_report_receipt_due, d1);
	row(&p, &h, P_report_feedback_due, d2);
	web_html_raw(&h, "</tbody></table>");
	page_link(&p, &h, "/report/status", P_report_status_link);
	portal_page_end(&p, &h);
	sodium_memzero(&r, sizeof(r));
	rc = portal_respond(&p, 201, &h);
	return rc;
}

/* The status form, with the result above it when out is not NULL. */
static int
status_page(struct portal *p, int status, json_t *out)
{
	struct web_html h;

	portal_page_start(p, &h, P_status_title);
	if (out != NULL) {
		static const struct {
			const char *key;
			enum portal_key label;
		} rows[] = {{"received_at", P_status_received_at},
		            {"receipt_due", P_report_receipt_due},
		            {"receipt_at", P_status_receipt_at},
		            {"feedback_due", P_report_feedback_due},
		            {"feedback_at", P_status_feedback_at},
		            {"feedback", P_status_feedback}};

		web_html_raw(&h, "<table><tbody>");
		row(p, &h, P_report_case,
		    json_string_value(json_object_get(out, "case")));
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			const char *v = json_string_value(
			        json_object_get(out, rows[i].key));

			row(p, &h, rows[i].label,
			    v != NULL ? v : portal_s(p, P_status_pending));
		}
		row(p, &h, P_status_closed,
		    portal_s(p, json_is_true(json_object_get(out, "closed"))
		                        ? P_yes
		                        : P_no));
		web_html_raw(&h, "</tbody></table>");
	}
	web_html_raw(&h, "<p>");
	web_html_text(&h, portal_s(p, P_status_intro));
	web_html_raw(&h, "</p><form method=\"post\" action=\"");
	web_html_text(&h, p->base);
	web_html_raw(&h, "/report/status\">");
	if (token_field(p, &h, "status") != 0) {
		web_html_free(&h);
		return portal_message(p, 500, P_err_internal, NULL);
	}
	web_html_raw(&h, "<label for=\"case\">");
	web_html_text(&h, portal_s(p, P_report_case));
	web_html_raw(&h, "</label><input id=\"case\" name=\"case\" required "
	                 "maxlength=\"15\" autocomplete=\"off\">"
	                 "<label for=\"secret\">");
	web_html_text(&h, portal_s(p, P_report_secret));
	web_html_raw(&h, "</label><input id=\"secret\" name=\"secret\" "
	                 "type=\"password\" required maxlength=\"64\" "
	                 "autocomplete=\"off\"><button type=\"submit\">");
	web_html_text(&h, portal_s(p, P_status_submit));
	web_html_raw(&h, "</button></form>");
	page_link(p, &h, "/report", P_report_link);
	portal_page_end(p, &h);
	return portal_respond(p, status, &h);
}

/* GET /portal/{controller}/report/status: the form. */
int
portal_report_status_page(struct http_request *req, struct http_response *res,
                          void *app)
{
	struct portal p;

	if (portal_begin(req, res, app, &p, 0))
		return 0;
	return status_page(&p, 200, NULL);
}

/* POST /portal/{controller}/report/status: the reporter's view, as POST
 * /v1/reports/{case}/status answers it. The secret is in the body, never
 * in a URL. */
int
portal_report_status_post(struct http_request *req, struct http_response *res,
                          void *app)
{
	static const char *const keys[] = {"token", "case", "secret", NULL};
	const char *values[4];
	struct portal p;
	json_t *out = NULL;
	char *buf = NULL;
	enum vaern_err err;
	int st, rc;

	if (portal_begin(req, res, app, &p, 0))
		return 0;
	if ((st = web_form(req, keys, values, &buf, &p.c.msg)) != 0) {
		web_form_free(buf);
		return refusal(&p, st, P_err_report_input, p.c.msg.text,
		               "/report/status");
	}
	if (token_check(&p, "status", values[0])) {
		web_form_free(buf);
		return 0;
	}
	if (values[1] == NULL || values[2] == NULL) {
		web_form_free(buf);
		return refusal(&p, 400, P_err_report_input,
		               values[1] == NULL ? "case: required"
		                                 : "secret: required",
		               "/report/status");
	}
	err = vault_report_status(p.c.v, values[1], values[2], &out, &p.c.msg);
	web_form_free(buf);
	if (err == VAERN_E_DENIED)
		return refusal(&p, 403, P_err_report_secret, NULL,
		               "/report/status");
	if (err != VAERN_OK)
		return portal_message(&p, 500, P_err_internal, NULL);
	rc = status_page(&p, 200, out);
	json_decref(out);
	return rc;
}
