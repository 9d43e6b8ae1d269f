/*
 * portal_pages.c -- the logged-in person's pages (issue 16): the overview
 * and product change (AURA-PORTAL-2), "my data" (GDPR-15, GDPR-20),
 * consents (GDPR-7), the objection to direct marketing (GDPR-21), and
 * rights requests with their status and deadlines (GDPR-12).
 *
 * The person is the actor (vault_actor_subject): every read passes the
 * gate as GATE_ROLE_SUBJECT and is audited before the page goes out;
 * every right goes into the request queue as the API's do (channel
 * "portal"), verified by the login, and is executed by the same vault
 * calls.
 */
#include "portal_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/api_report.h"
#include "../calendar/calendar.h"
#include "../rights/rights.h"

/* Who acts on the person's requests: the person. */
static const struct vault_request_actor person = {"data_subject",
                                                  "data_subject"};

static const char *
category_shown(const struct policy *pol, const char *id)
{
	long ci = policy_category_index(pol, id);

	if (ci < 0 || pol->categories[ci].description == NULL)
		return id;
	return pol->categories[ci].description;
}

static void
note(struct portal *p, struct web_html *h, enum portal_key key)
{
	web_html_raw(h, "<p class=\"message\" role=\"status\">");
	web_html_text(h, portal_s(p, key));
	web_html_raw(h, "</p>");
}

/* Answers a vault refusal or failure as a page: the reason names rules
 * and ids, never a value. */
static int
refused(struct portal *p, enum vaern_err err)
{
	switch (err) {
	case VAERN_E_DENIED:
		return portal_message(p, 403, P_err_refused, p->c.msg.text);
	case VAERN_E_INVALID:
		return portal_message(p, 400, P_err_input, p->c.msg.text);
	case VAERN_E_LIMIT:
		return portal_message(p, 413, P_err_input, p->c.msg.text);
	case VAERN_E_EXISTS:
		return portal_message(p, 409, P_err_refused, p->c.msg.text);
	case VAERN_E_NOTFOUND:
		return portal_message(p, 404, P_err_refused, p->c.msg.text);
	default: return portal_message(p, 500, P_err_internal, NULL);
	}
}

/* A change's answer: the refusal's page, or 303 to page (below the
 * portal's base) once it is done. */
static int
done_or_refused(struct portal *p, enum vaern_err err, const char *page)
{
	char to[POLICY_NAME_MAX + 48];

	if (err != VAERN_OK)
		return refused(p, err);
	(void)snprintf(to, sizeof(to), "%s/%s", p->base, page);
	return web_redirect(p->res, to);
}

/* ---- the overview and product change (AURA-PORTAL-2) -------------------- */

struct shown {
	struct portal *p;
	struct web_html *h;
	size_t n;
};

static enum vaern_err
fact_row(void *arg, const struct vault_fact_out *f)
{
	struct shown *s = arg;
	char day[11];

	portal_date(f->collected_at, day);
	web_html_raw(s->h, "<tr><th scope=\"row\">");
	web_html_text(s->h, category_shown(s->p->c.policy, f->category));
	web_html_raw(s->h, "</th><td>");
	web_html_text(s->h, f->value);
	web_html_raw(s->h, "</td><td>");
	web_html_text(s->h, day);
	web_html_raw(s->h, "</td></tr>");
	s->n++;
	return VAERN_OK;
}

int
portal_overview(struct http_request *req, struct http_response *res, void *app)
{
	const struct policy_portal *pt;
	struct vault_access a;
	struct gate_decision d;
	struct portal p;
	struct web_html h;
	struct shown s;
	const char *done = http_request_query(req, "done");
	enum vaern_err err;

	if (portal_begin(req, res, app, &p, 1))
		return 0;
	pt = &p.c.policy->portal;
	portal_page_start(&p, &h, P_overview_title);
	if (done != NULL && strcmp(done, "change") == 0)
		note(&p, &h, P_change_done);
	if (done != NULL && strcmp(done, "password") == 0)
		note(&p, &h, P_password_done);
	web_html_raw(&h, "<p>");
	web_html_text(&h, portal_s(&p, P_overview_intro));
	web_html_raw(&h, "</p><table><thead><tr><th scope=\"col\">");
	web_html_text(&h, portal_s(&p, P_col_data));
	web_html_raw(&h, "</th><th scope=\"col\">");
	web_html_text(&h, portal_s(&p, P_col_value));
	web_html_raw(&h, "</th><th scope=\"col\">");
	web_html_text(&h, portal_s(&p, P_recorded));
	web_html_raw(&h, "</th></tr></thead><tbody>");
	memset(&a, 0, sizeof(a));
	a.actor = &p.c.actor;
	a.purpose = p.c.policy->purposes[pt->purpose].id;
	a.action = GATE_READ;
	s.p = &p;
	s.h = &h;
	s.n = 0;
	/* AURA-PORTAL-1: read now, through the gate, as the person; the
	 * page is the only copy and it is not cached (no-store). */
	err = vault_subject_access(p.c.v, p.session.subject, &a, fact_row, &s,
	                           &d, &p.c.msg);
	if (err != VAERN_OK) {
		web_html_free(&h);
		return refused(&p, err);
	}
	web_html_raw(&h, "</tbody></table>");
	if (s.n == 0) {
		web_html_raw(&h, "<p>");
		web_html_text(&h, portal_s(&p, P_overview_none));
		web_html_raw(&h, "</p>");
	}
	for (size_t i = 0; i < pt->nchanges; i++) {
		const struct policy_category *cat =
		        &p.c.policy->categories[pt->changes[i]];

		web_html_raw(&h, "<section><h2>");
		web_html_text(&h, portal_s(&p, P_change_title));
		web_html_raw(&h, ": ");
		web_html_text(&h, cat->description != NULL ? cat->description
		                                           : cat->id);
		web_html_raw(&h, "</h2><form method=\"post\" action=\"");
		web_html_text(&h, p.base);
		web_html_raw(&h, "/change\">");
		portal_csrf_field(&p, &h);
		web_html_raw(&h, "<input type=\"hidden\" name=\"category\" "
		                 "value=\"");
		web_html_text(&h, cat->id);
		web_html_printf(&h, "\"><label for=\"change%zu\">", i);
		web_html_text(&h, portal_s(&p, P_change_label));
		web_html_printf(
		        &h,
		        "</label><input id=\"change%zu\" name=\"value\" "
		        "required maxlength=\"1024\"><button "
		        "type=\"submit\">",
		        i);
		web_html_text(&h, portal_s(&p, P_change_submit));
		web_html_raw(&h, "</button></form></section>");
	}
	if (pt->proofs & POLICY_PROOF_PASSWORD) {
		web_html_raw(&h, "<section><h2>");
		web_html_text(&h, portal_s(&p, P_password_title));
		web_html_raw(&h, "</h2><p>");
		web_html_text(&h, portal_s(&p, P_password_intro));
		web_html_raw(&h, "</p><form method=\"post\" action=\"");
		web_html_text(&h, p.base);
		web_html_raw(&h, "/password\">");
		portal_csrf_field(&p, &h);
		web_html_raw(&h, "<label for=\"pw\">");
		web_html_text(&h, portal_s(&p, P_password_label));
		web_html_raw(&h, "</label><input id=\"pw\" name=\"password\" "
		                 "type=\"password\" required minlength=\"10\" "
		                 "maxlength=\"128\" "
		                 "autocomplete=\"new-password\"><button "
		                 "type=\"submit\">");
		web_html_text(&h, portal_s(&p, P_password_submit));
		web_html_raw(&h, "</button></form></section>");
	}
	portal_page_end(&p, &h);
	portal_visit(&p, "overview");
	return portal_respond(&p, 200, &h);
}

/* POST /portal/{controller}/change: a new value of a category the portal
 * lets the person change (a product), recorded as a new fact under the
 * portal's purpose, basis (b): AURA-PORTAL-2. The gate decides (collect,
 * as the person) and the vault audits it with the write. */
int
portal_change(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"csrf", "category", "value", NULL};
	const char *values[4];
	const struct policy_portal *pt;
	struct vault_fact_in f;
	struct portal p;
	enum vaern_err err;
	char *buf = NULL;
	int64_t first = 0;
	long ci;
	int rc, ok = 0;

	if (portal_begin(req, res, app, &p, 1))
		return 0;
	if (portal_form(&p, keys, values, &buf)) {
		rc = 0;
		goto done;
	}
	pt = &p.c.policy->portal;
	ci = values[1] != NULL ? policy_category_index(p.c.policy, values[1])
	                       : -1;
	for (size_t i = 0; ci >= 0 && i < pt->nchanges; i++)
		ok |= pt->changes[i] == (size_t)ci;
	if (!ok || values[2] == NULL) {
		rc = portal_message(
		        &p, 400, P_err_input,
		        values[2] == NULL ? "value: required"
		                          : "category: not one to change here");
		goto done;
	}
	memset(&f, 0, sizeof(f));
	f.category = p.c.policy->categories[ci].id;
	f.value = values[2];
	f.purpose = p.c.policy->purposes[pt->purpose].id;
	f.source = pt->source >= 0 ? p.c.policy->sources[pt->source].id : NULL;
	f.collected_at = INT64_MIN;
	err = vault_facts_add(p.c.v, &p.c.actor, p.session.subject, &f, 1,
	                      &first, &p.c.msg);
	rc = done_or_refused(&p, err, "overview?done=change");
done:
	web_form_free(buf);
	return rc;
}

/* ---- my data (GDPR-15, GDPR-20) ----------------------------------------- */

int
portal_data(struct http_request *req, struct http_response *res, void *app)
{
	static const struct {
		const char *kind;
		enum portal_key key;
	} downloads[] = {{"report-html", P_data_report},
	                 {"copy-json", P_data_json},
	                 {"copy-csv", P_data_csv}};
	struct portal p;
	struct web_html h;

	if (portal_begin(req, res, app, &p, 1))
		return 0;
	portal_page_start(&p, &h, P_data_title);
	web_html_raw(&h, "<p>");
	web_html_text(&h, portal_s(&p, P_data_intro));
	web_html_raw(&h, "</p><ul class=\"downloads\">");
	for (size_t i = 0; i < sizeof(downloads) / sizeof(downloads[0]); i++) {
		web_html_raw(&h, "<li><form method=\"post\" action=\"");
		web_html_text(&h, p.base);
		web_html_raw(&h, "/data/");
		web_html_raw(&h, downloads[i].kind);
		web_html_raw(&h, "\">");
		portal_csrf_field(&p, &h);
		web_html_raw(&h, "<button type=\"submit\">");
		web_html_text(&h, portal_s(&p, downloads[i].key));
		web_html_raw(&h, "</button></form></li>");
	}
	web_html_raw(&h, "</ul>");
	portal_page_end(&p, &h);
	portal_visit(&p, "data");
	return portal_respond(&p, 200, &h);
}

/*
 * Files a request of type for the person (channel portal), verified by
 * the login (AOPT-ACCESS-1: the person proved who they are to log in),
 * into out. cats: the data concerned (AURA-RIGHTS-1), or NULL.
 */
static enum vaern_err
request_file(struct portal *p, const char *type, const char *const *cats,
             size_t ncats, struct vault_request *out)
{
	struct vault_request_in in;
	char method[64];
	enum vaern_err err;

	memset(&in, 0, sizeof(in));
	in.type = type;
	in.subject = p->session.subject;
	in.channel = "portal";
	in.received_at = INT64_MIN;
	in.categories = cats;
	in.ncategories = ncats;
	if ((err = vault_request_add(p->c.v, p->controller, &in, &person, out,
	                             &p->c.msg)) != VAERN_OK)
		return err;
	(void)snprintf(method, sizeof(method), "portal login by %s",
	               p->session.proof);
	return vault_request_attest(p->c.v, p->controller, out->id, method,
	                            &person, out, &p->c.msg);
}

/* POST /portal/{controller}/data/{kind}: the download, recorded as an
 * access or portability request answered at once (GDPR-15, GDPR-20). */
int
portal_download(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"csrf", NULL};
	const char *values[2], *kind = http_request_param(req, "kind");
	enum api_report_format fmt;
	enum vault_export what;
	struct vault_request r;
	struct portal p;
	enum vaern_err err;
	char *buf = NULL, *body = NULL, disposition[96];
	size_t len = 0;
	int rc;

	if (portal_begin(req, res, app, &p, 1))
		return 0;
	if (portal_form(&p, keys, values, &buf)) {
		web_form_free(buf);
		return 0;
	}
	web_form_free(buf);
	if (kind != NULL && strcmp(kind, "report-html") == 0) {
		fmt = API_REPORT_HTML;
		what = VAULT_EXPORT_ACCESS;
	} else if (kind != NULL && strcmp(kind, "copy-json") == 0) {
		fmt = API_REPORT_JSON;
		what = VAULT_EXPORT_PORTABILITY;
	} else if (kind != NULL && strcmp(kind, "copy-csv") == 0) {
		fmt = API_REPORT_CSV;
		what = VAULT_EXPORT_PORTABILITY;
	} else {
		return portal_message(&p, 404, P_err_input,
		                      "report-html, copy-json or copy-csv");
	}
	err = request_file(
	        &p, what == VAULT_EXPORT_ACCESS ? "access" : "portability",
	        NULL, 0, &r);
	if (err == VAERN_OK)
		err = api_report_build(p.c.v, p.c.api->db_path, &p.c.actor,
		                       p.c.policy, p.session.subject, what, fmt,
		                       web_lang_code(p.lang), r.id, &body, &len,
		                       &p.c.msg);
	/* Answered: the request is completed, as staff would complete it. */
	if (err == VAERN_OK)
		err = vault_request_set_status(p.c.v, p.controller, r.id,
		                               RIGHTS_COMPLETED, NULL, &person,
		                               &r, &p.c.msg);
	if (err != VAERN_OK) {
		if (body != NULL) {
			sodium_memzero(body, len);
			free(body);
		}
		return refused(&p, err);
	}
	(void)snprintf(disposition, sizeof(disposition),
	               "attachment; filename=\"%s-%s.%s\"", p.controller,
	               what == VAULT_EXPORT_ACCESS ? "report" : "copy",
	               fmt == API_REPORT_HTML  ? "html"
	               : fmt == API_REPORT_CSV ? "csv"
	                                       : "json");
	(void)http_respond_header(res, "Content-Disposition", disposition);
	web_page_headers(res);
	rc = http_respond_body(
	        res, 200,
	        fmt == API_REPORT_HTML  ? "text/html; charset=utf-8"
	        : fmt == API_REPORT_CSV ? "text/csv; charset=utf-8"
	                                : "application/json",
	        body, len);
	sodium_memzero(body, len);
	free(body);
	return rc;
}

/* ---- consents (GDPR-7) and the objection (GDPR-21) ---------------------- */

static int
rests_on_consent(const struct policy_purpose *pp)
{
	return (pp->basis & BASIS_A) || pp->art9 == 'a';
}

/* The consent source of the portal for purpose pp, or NULL when the
 * policy records consent to it by other channels only. */
static const char *
give_source(const struct portal *p, const struct policy_purpose *pp)
{
	const struct policy_portal *pt = &p->c.policy->portal;
	const char *mine =
	        pt->source >= 0 ? p->c.policy->sources[pt->source].id : NULL;

	for (size_t i = 0; i < pp->nconsent_sources; i++)
		if (strcmp(pp->consent_sources[i], "portal") == 0 ||
		    (mine != NULL && strcmp(pp->consent_sources[i], mine) == 0))
			return pp->consent_sources[i];
	return NULL;
}

struct history {
	struct portal *p;
	struct web_html *h;
	const char *purpose;
};

static enum vaern_err
history_row(void *arg, const struct vault_consent_rec *r)
{
	struct history *hi = arg;
	char day[11];

	if (strcmp(r->purpose, hi->purpose) != 0)
		return VAERN_OK;
	portal_date(r->at, day);
	web_html_raw(hi->h, "<li>");
	web_html_text(hi->h, day);
	web_html_raw(hi->h, ": ");
	web_html_text(hi->h, portal_s(hi->p, r->withdrawn ? P_consent_withdrawn
	                                                  : P_consent_given));
	web_html_raw(hi->h, " (");
	web_html_text(hi->h, portal_s(hi->p, P_consent_source));
	web_html_raw(hi->h, " ");
	web_html_text(hi->h, r->source != NULL ? r->source : "-");
	web_html_raw(hi->h, ")</li>");
	return VAERN_OK;
}

static void
consent_button(struct portal *p, struct web_html *h, const char *purpose,
               int give)
{
	web_html_raw(h, "<form method=\"post\" action=\"");
	web_html_text(h, p->base);
	web_html_raw(h, "/consents\">");
	portal_csrf_field(p, h);
	web_html_raw(h, "<input type=\"hidden\" name=\"purpose\" value=\"");
	web_html_text(h, purpose);
	web_html_raw(h, give ? "\"><button type=\"submit\" name=\"action\" "
	                       "value=\"give\">"
	                     : "\"><button type=\"submit\" name=\"action\" "
	                       "value=\"withdraw\">");
	web_html_text(h,
	              portal_s(p, give ? P_consent_give : P_consent_withdraw));
	web_html_raw(h, "</button></form>");
}

int
portal_consents(struct http_request *req, struct http_response *res, void *app)
{
	const struct policy *pol;
	const char *done = http_request_query(req, "done");
	struct portal p;
	struct web_html h;
	size_t shown = 0;
	int marketing = 0;

	if (portal_begin(req, res, app, &p, 1))
		return 0;
	pol = p.c.policy;
	portal_page_start(&p, &h, P_consents_title);
	if (done != NULL && strcmp(done, "consent") == 0)
		note(&p, &h, P_consent_done);
	if (done != NULL && strcmp(done, "objection") == 0)
		note(&p, &h, P_objection_done);
	/* The ledger is read for the person; audited as a read of it. */
	if (audit_change(&p.c, "consent_history", NULL, p.session.subject, NULL,
	                 1, "GDPR-7",
	                 "the person reads their consents on the portal") !=
	    VAERN_OK) {
		web_html_free(&h);
		return portal_message(&p, 500, P_err_internal, NULL);
	}
	for (size_t i = 0; i < pol->npurposes; i++) {
		const struct policy_purpose *pp = &pol->purposes[i];
		struct vault_consent_state st;
		struct history hi = {&p, &h, pp->id};

		marketing |= pp->direct_marketing;
		if (!rests_on_consent(pp))
			continue;
		if (vault_consent_state(p.c.v, p.controller, p.session.subject,
		                        pp->id, &st, &p.c.msg) != VAERN_OK)
			memset(&st, 0, sizeof(st));
		shown++;
		web_html_raw(&h, "<section><h2>");
		web_html_text(&h, pp->description != NULL ? pp->description
		                                          : pp->id);
		web_html_raw(&h, "</h2><p><strong>");
		web_html_text(
		        &h, portal_s(&p, st.in_force ? P_consent_in_force
		                                     : P_consent_not_in_force));
		web_html_raw(&h, "</strong></p>");
		if (pp->consent_text != NULL) {
			web_html_raw(&h, "<p>");
			web_html_text(&h, portal_s(&p, P_consent_text));
			web_html_raw(&h, ": <q>");
			web_html_text(&h, pp->consent_text);
			web_html_raw(&h, "</q></p>");
		}
		web_html_raw(&h, "<h3>");
		web_html_text(&h, portal_s(&p, P_consent_history));
		web_html_raw(&h, "</h3><ul>");
		if (vault_consent_history(p.c.v, p.controller,
		                          p.session.subject, history_row, &hi,
		                          &p.c.msg) != VAERN_OK) {
			web_html_free(&h);
			return portal_message(&p, 500, P_err_internal, NULL);
		}
		web_html_raw(&h, "</ul>");
		/* GDPR-7: withdrawing is one button, as giving is. */
		if (st.in_force)
			consent_button(&p, &h, pp->id, 0);
		else if (give_source(&p, pp) != NULL)
			consent_button(&p, &h, pp->id, 1);
		web_html_raw(&h, "</section>");
	}
	if (shown == 0) {
		web_html_raw(&h, "<p>");
		web_html_text(&h, portal_s(&p, P_consents_none));
		web_html_raw(&h, "</p>");
	}
	if (marketing) {
		web_html_raw(&h, "<section><h2>");
		web_html_text(&h, portal_s(&p, P_objection_title));
		web_html_raw(&h, "</h2><p>");
		web_html_text(&h, portal_s(&p, P_objection_intro));
		web_html_raw(&h, "</p><form method=\"post\" action=\"");
		web_html_text(&h, p.base);
		web_html_raw(&h, "/objection\">");
		portal_csrf_field(&p, &h);
		web_html_raw(&h, "<button type=\"submit\">");
		web_html_text(&h, portal_s(&p, P_objection_submit));
		web_html_raw(&h, "</button></form></section>");
	}
	portal_page_end(&p, &h);
	return portal_respond(&p, 200, &h);
}

/* POST /portal/{controller}/consents: give (the ledger, GDPR-7) or
 * withdraw (a consent-withdrawal request executed at once). */
int
portal_consent_post(struct http_request *req, struct http_response *res,
                    void *app)
{
	static const char *const keys[] = {"csrf", "purpose", "action", NULL};
	const char *values[4];
	const struct policy_purpose *pp = NULL;
	struct portal p;
	enum vaern_err err;
	char *buf = NULL;
	long pi;
	int rc;

	if (portal_begin(req, res, app, &p, 1))
		return 0;
	if (portal_form(&p, keys, values, &buf)) {
		rc = 0;
		goto done;
	}
	pi = values[1] != NULL ? policy_purpose_index(p.c.policy, values[1])
	                       : -1;
	if (pi >= 0)
		pp = &p.c.policy->purposes[pi];
	if (pp == NULL || !rests_on_consent(pp) || values[2] == NULL ||
	    (strcmp(values[2], "give") != 0 &&
	     strcmp(values[2], "withdraw") != 0)) {
		rc = portal_message(&p, 400, P_err_input,
		                    "purpose: one resting on consent; action: "
		                    "give or withdraw");
		goto done;
	}
	if (strcmp(values[2], "give") == 0) {
		struct vault_consent_act act;
		struct vault_consent_done cd;
		struct vault_audit_event ev;

		memset(&act, 0, sizeof(act));
		act.purpose = pp->id;
		act.source = give_source(&p, pp);
		act.at = INT64_MIN;
		if (act.source == NULL) {
			rc = portal_message(&p, 400, P_err_input,
			                    "this consent is not given here");
			goto done;
		}
		change_event(&p.c, &ev, "consent_give", pp->id,
		             p.session.subject, NULL, 1, "GDPR-7",
		             "given on the portal by the person");
		vault_audit_next_change(p.c.v, &ev);
		err = vault_consent_apply(p.c.v, p.controller,
		                          p.session.subject, &act, &cd,
		                          &p.c.msg);
		vault_audit_next_change(p.c.v, NULL);
		sodium_memzero(cd.unsubscribe_token,
		               sizeof(cd.unsubscribe_token));
		if (err == VAERN_OK)
			err = audit_change_event(&p.c, &ev);
	} else {
		struct vault_request r;
		struct vault_withdrawal w;
		struct vault_consent_state st;
		const char *purposes[1] = {pp->id};

		/* None in force: refused before any request is filed. */
		if ((err = vault_consent_state(p.c.v, p.controller,
		                               p.session.subject, pp->id, &st,
		                               &p.c.msg)) != VAERN_OK) {
			rc = refused(&p, err);
			goto done;
		}
		if (!st.in_force) {
			rc = portal_message(&p, 409, P_err_refused,
			                    "no consent to this purpose is in "
			                    "force (GDPR-7)");
			goto done;
		}

		/* GDPR-7: as easy as giving; into the request queue as a
		 * verified, executed consent withdrawal. */
		err = request_file(&p, "consent_withdrawal", NULL, 0, &r);
		if (err == VAERN_OK)
			err = vault_request_withdraw(p.c.v, p.controller, r.id,
			                             purposes, 1, &person, &w,
			                             &r, &p.c.msg);
	}
	rc = done_or_refused(&p, err, "consents?done=consent");
done:
	web_form_free(buf);
	return rc;
}

/* POST /portal/{controller}/objection: GDPR-21(2), absolute: an
 * objection request, verified by the login and executed at once. */
int
portal_objection(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"csrf", NULL};
	const char *values[2];
	struct vault_request r;
	struct portal p;
	enum vaern_err err;
	char *buf = NULL;
	int rc;

	if (portal_begin(req, res, app, &p, 1))
		return 0;
	if (portal_form(&p, keys, values, &buf)) {
		rc = 0;
		goto done;
	}
	err = request_file(&p, "objection", NULL, 0, &r);
	if (err == VAERN_OK)
		err = vault_request_object(p.c.v, p.controller, r.id, NULL, 0,
		                           &person, &r, &p.c.msg);
	rc = done_or_refused(&p, err, "consents?done=objection");
done:
	web_form_free(buf);
	return rc;
}

/* ---- requests and their status (GDPR-12) -------------------------------- */

static const char *const fileable[] = {"rectification", "erasure",
                                       "restriction", NULL};

static enum portal_key
type_key(enum rights_type t)
{
	switch (t) {
	case RIGHTS_ACCESS: return P_type_access;
	case RIGHTS_PORTABILITY: return P_type_portability;
	case RIGHTS_RECTIFICATION: return P_type_rectification;
	case RIGHTS_ERASURE: return P_type_erasure;
	case RIGHTS_RESTRICTION: return P_type_restriction;
	case RIGHTS_OBJECTION: return P_type_objection;
	default: return P_type_consent_withdrawal;
	}
}

static enum portal_key
status_key(enum rights_status s)
{
	switch (s) {
	case RIGHTS_RECEIVED: return P_status_received;
	case RIGHTS_VERIFIED: return P_status_verified;
	case RIGHTS_IN_PROGRESS: return P_status_in_progress;
	case RIGHTS_COMPLETED: return P_status_completed;
	case RIGHTS_REFUSED: return P_status_refused;
	case RIGHTS_EXTENDED: return P_status_extended;
	default: return P_status_cancelled;
	}
}

struct mine {
	struct portal *p;
	struct web_html *h; /* NULL: only look for an open one of type */
	size_t n;
	enum rights_type type;
	int open_of_type;
};

static enum vaern_err
request_row(void *arg, const struct vault_request *r)
{
	struct mine *m = arg;
	char received[11], due[11];

	if (memcmp(r->subject, m->p->session.subject, VAULT_UID_BYTES) != 0)
		return VAERN_OK;
	if (m->h == NULL) {
		m->open_of_type |=
		        r->type == m->type && !rights_status_final(r->status);
		return VAERN_OK;
	}
	m->n++;
	portal_date(r->received_at, received);
	cal_format_date(r->due, due);
	web_html_raw(m->h, "<tr><td>");
	web_html_text(m->h, portal_s(m->p, type_key(r->type)));
	web_html_raw(m->h, "</td><td>");
	web_html_text(m->h, portal_s(m->p, status_key(r->status)));
	web_html_raw(m->h, "</td><td>");
	web_html_text(m->h, received);
	web_html_raw(m->h, "</td><td>");
	web_html_text(m->h, due);
	web_html_raw(m->h, "</td><td>");
	if (r->extended_months > 0) {
		web_html_printf(m->h, "%d ", r->extended_months);
		web_html_text(m->h, portal_s(m->p, P_months));
		web_html_raw(m->h, ": ");
		web_html_text(m->h, r->extension_reason);
	}
	web_html_raw(m->h, "</td><td>");
	web_html_text(m->h, r->status_reason);
	web_html_raw(m->h, "</td></tr>");
	return VAERN_OK;
}

int
portal_requests(struct http_request *req, struct http_response *res, void *app)
{
	static const enum portal_key cols[] = {P_request_type,  P_col_status,
	                                       P_col_received,  P_col_due,
	                                       P_col_extension, P_col_reason};
	const char *done = http_request_query(req, "done");
	const struct policy *pol;
	struct portal p;
	struct web_html h;
	struct mine m;

	if (portal_begin(req, res, app, &p, 1))
		return 0;
	pol = p.c.policy;
	portal_page_start(&p, &h, P_requests_title);
	if (done != NULL && strcmp(done, "filed") == 0)
		note(&p, &h, P_request_filed);
	web_html_raw(&h, "<table><thead><tr>");
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		web_html_raw(&h, "<th scope=\"col\">");
		web_html_text(&h, portal_s(&p, cols[i]));
		web_html_raw(&h, "</th>");
	}
	web_html_raw(&h, "</tr></thead><tbody>");
	memset(&m, 0, sizeof(m));
	m.p = &p;
	m.h = &h;
	if (audit_change(&p.c, "request_list", "rights_request",
	                 p.session.subject, NULL, 1, "GDPR-12",
	                 "the person reads their requests on the portal") !=
	            VAERN_OK ||
	    vault_request_foreach(p.c.v, p.controller, LONG_MAX, 0, request_row,
	                          &m, &p.c.msg) != VAERN_OK) {
		web_html_free(&h);
		return portal_message(&p, 500, P_err_internal, NULL);
	}
	web_html_raw(&h, "</tbody></table>");
	if (m.n == 0) {
		web_html_raw(&h, "<p>");
		web_html_text(&h, portal_s(&p, P_requests_none));
		web_html_raw(&h, "</p>");
	}
	web_html_raw(&h, "<h2>");
	web_html_text(&h, portal_s(&p, P_request_submit));
	web_html_raw(&h, "</h2><p>");
	web_html_text(&h, portal_s(&p, P_requests_intro));
	web_html_raw(&h, "</p><form method=\"post\" action=\"");
	web_html_text(&h, p.base);
	web_html_raw(&h, "/requests\">");
	portal_csrf_field(&p, &h);
	web_html_raw(&h, "<label for=\"type\">");
	web_html_text(&h, portal_s(&p, P_request_type));
	web_html_raw(&h, "</label><select id=\"type\" name=\"type\">");
	for (size_t i = 0; fileable[i] != NULL; i++) {
		enum rights_type t;
		struct vaern_msg msg = {{0}};

		if (rights_type_parse(fileable[i], &t, &msg) != VAERN_OK)
			continue;
		web_html_raw(&h, "<option value=\"");
		web_html_raw(&h, fileable[i]);
		web_html_raw(&h, "\">");
		web_html_text(&h, portal_s(&p, type_key(t)));
		web_html_raw(&h, "</option>");
	}
	web_html_raw(&h, "</select><fieldset><legend>");
	web_html_text(&h, portal_s(&p, P_request_data));
	web_html_raw(&h, "</legend>");
	for (size_t i = 0; i < pol->ncategories && i < WEB_FIELDS_MAX - 2;
	     i++) {
		const struct policy_category *cat = &pol->categories[i];

		if (cat->traffic)
			continue;
		web_html_printf(&h,
		                "<label><input type=\"checkbox\" name=\"c%zu\" "
		                "value=\"1\"> ",
		                i);
		web_html_text(&h, cat->description != NULL ? cat->description
		                                           : cat->id);
		web_html_raw(&h, "</label>");
	}
	web_html_raw(&h, "</fieldset><button type=\"submit\">");
	web_html_text(&h, portal_s(&p, P_request_submit));
	web_html_raw(&h, "</button></form>");
	portal_page_end(&p, &h);
	return portal_respond(&p, 200, &h);
}

/* POST /portal/{controller}/requests: a rectification, erasure or
 * restriction request naming the data concerned (AURA-RIGHTS-1), into
 * the staff's queue, verified by the login; due in one month
 * (GDPR-12). One open request of a kind at a time. */
int
portal_request_post(struct http_request *req, struct http_response *res,
                    void *app)
{
	const char *keys[WEB_FIELDS_MAX + 1], *values[WEB_FIELDS_MAX + 1];
	const char *cats[WEB_FIELDS_MAX];
	char names[WEB_FIELDS_MAX][8], *buf = NULL;
	const struct policy *pol;
	struct vault_request r;
	struct portal p;
	struct mine m;
	enum rights_type t;
	enum vaern_err err;
	size_t nkeys = 0, ncats = 0, ncat;
	int rc, ok = 0;

	if (portal_begin(req, res, app, &p, 1))
		return 0;
	pol = p.c.policy;
	keys[nkeys++] = "csrf";
	keys[nkeys++] = "type";
	ncat = pol->ncategories < WEB_FIELDS_MAX - 2 ? pol->ncategories
	                                             : WEB_FIELDS_MAX - 2;
	for (size_t i = 0; i < ncat; i++) {
		(void)snprintf(names[i], sizeof(names[i]), "c%zu", i);
		keys[nkeys++] = names[i];
	}
	keys[nkeys] = NULL;
	if (portal_form(&p, keys, values, &buf)) {
		rc = 0;
		goto done;
	}
	for (size_t i = 0; values[1] != NULL && fileable[i] != NULL; i++)
		ok |= strcmp(values[1], fileable[i]) == 0;
	if (!ok || rights_type_parse(values[1], &t, &p.c.msg) != VAERN_OK) {
		rc = portal_message(&p, 400, P_err_input,
		                    "type: rectification, erasure or "
		                    "restriction");
		goto done;
	}
	for (size_t i = 0; i < ncat; i++) {
		if (values[2 + i] == NULL)
			continue;
		if (strcmp(values[2 + i], "1") != 0 ||
		    pol->categories[i].traffic) {
			rc = portal_message(&p, 400, P_err_input,
			                    "a category box is 1 or absent");
			goto done;
		}
		cats[ncats++] = pol->categories[i].id;
	}
	memset(&m, 0, sizeof(m));
	m.p = &p;
	m.type = t;
	if ((err = vault_request_foreach(p.c.v, p.controller, LONG_MAX, 1,
	                                 request_row, &m, &p.c.msg)) !=
	    VAERN_OK) {
		rc = refused(&p, err);
		goto done;
	}
	if (m.open_of_type) {
		/* Filed twice: refused, nothing changed, audited. */
		if (audit_change(&p.c, "request_add", "rights_request",
		                 p.session.subject, NULL, 0, "GDPR-12",
		                 "an open request of this type exists") !=
		    VAERN_OK) {
			rc = portal_message(&p, 500, P_err_internal, NULL);
			goto done;
		}
		rc = portal_message(&p, 409, P_request_twice, NULL);
		goto done;
	}
	err = request_file(&p, values[1], ncats > 0 ? cats : NULL, ncats, &r);
	rc = done_or_refused(&p, err, "requests?done=filed");
done:
	web_form_free(buf);
	return rc;
}
