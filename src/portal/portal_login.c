/*
 * portal_login.c -- logging in and out of the portal (issue 16):
 * AURA-LOGIN-1 (the policy's identifier sets and proofs, no enumeration,
 * throttling), AURA-PORTAL-1 (the session: a __Host- cookie, only its
 * hash kept; logout ends it, or every session of the person).
 */
#include "portal_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const login_keys[] = {
        "csrf", "way", "v1", "v2", "v3", "v4", "proof", "password", NULL};

/* An autocomplete hint for a category's identifier type. */
static const char *
autocomplete(enum id_type t)
{
	switch (t) {
	case ID_USERNAME: return "username";
	case ID_EMAIL: return "email";
	case ID_PHONE: return "tel";
	default: return "off";
	}
}

/* The login page: one form per way the policy declares. */
static int
login_page(struct portal *p, int status, enum portal_key note)
{
	const struct policy *pol = p->c.policy;
	const struct policy_portal *pt = &pol->portal;
	struct web_html h;

	portal_page_start(p, &h, P_login_title);
	if (note != P__COUNT) {
		web_html_raw(&h, "<p class=\"message\" role=\"alert\">");
		web_html_text(&h, portal_s(p, note));
		web_html_raw(&h, "</p>");
	}
	web_html_raw(&h, "<p>");
	web_html_text(&h, portal_s(p, P_login_intro));
	web_html_raw(&h, "</p>");
	for (size_t i = 0; i < pt->nlogins; i++) {
		const struct policy_portal_login *set = &pt->logins[i];

		web_html_printf(&h,
		                "<form method=\"post\" action=\"%s/login\" "
		                "class=\"way\" aria-labelledby=\"way%zu\">"
		                "<h2 id=\"way%zu\">",
		                p->base, i + 1, i + 1);
		web_html_text(&h, portal_s(p, P_login_way));
		for (size_t k = 0; k < set->n; k++) {
			const struct policy_category *cat =
			        &pol->categories[set->categories[k]];

			web_html_raw(&h, k == 0 ? ": " : " + ");
			web_html_text(&h, cat->description != NULL
			                          ? cat->description
			                          : cat->id);
		}
		web_html_raw(&h, "</h2>");
		portal_csrf_field(p, &h);
		web_html_printf(&h,
		                "<input type=\"hidden\" name=\"way\" "
		                "value=\"%zu\">",
		                i + 1);
		for (size_t k = 0; k < set->n; k++) {
			const struct policy_category *cat =
			        &pol->categories[set->categories[k]];

			web_html_printf(&h, "<label for=\"w%zuv%zu\">", i + 1,
			                k + 1);
			web_html_text(&h, cat->description != NULL
			                          ? cat->description
			                          : cat->id);
			web_html_printf(
			        &h,
			        "</label><input id=\"w%zuv%zu\" "
			        "name=\"v%zu\" required maxlength=\"256\" "
			        "autocomplete=\"%s\">",
			        i + 1, k + 1, k + 1,
			        autocomplete(cat->identifier));
		}
		web_html_raw(&h, "<button type=\"submit\" name=\"proof\" "
		                 "value=\"code\">");
		web_html_text(&h, portal_s(p, P_login_submit));
		web_html_raw(&h, "</button>");
		if (pt->proofs & POLICY_PROOF_PASSWORD) {
			web_html_printf(&h, "<label for=\"w%zupw\">", i + 1);
			web_html_text(&h, portal_s(p, P_login_password));
			web_html_printf(
			        &h,
			        "</label><input id=\"w%zupw\" "
			        "name=\"password\" type=\"password\" "
			        "maxlength=\"128\" "
			        "autocomplete=\"current-password\">"
			        "<button type=\"submit\" name=\"proof\" "
			        "value=\"password\">",
			        i + 1);
			web_html_text(&h, portal_s(p, P_login_password_submit));
			web_html_raw(&h, "</button>");
		}
		web_html_raw(&h, "</form>");
	}
	portal_page_end(p, &h);
	return portal_respond(p, status, &h);
}

int
portal_login_page(struct http_request *req, struct http_response *res,
                  void *app)
{
	struct portal p;

	if (portal_begin(req, res, app, &p, 0))
		return 0;
	portal_visit(&p, "login");
	return login_page(&p, 200, P__COUNT);
}

static int
throttled(struct portal *p, int64_t wait)
{
	char after[24];

	(void)snprintf(after, sizeof(after), "%lld", (long long)wait);
	(void)http_respond_header(p->res, "Retry-After", after);
	return portal_message(p, 429, P_err_throttled, NULL);
}

/* The session's cookie, and the login's removed. */
static void
session_cookie(struct portal *p, const char *token)
{
	(void)web_cookie_set(p->res, PORTAL_SESSION_COOKIE, token, -1);
	(void)web_cookie_set(p->res, PORTAL_LOGIN_COOKIE, "gone", 0);
	(void)web_cookie_set(p->res, PORTAL_PRE_COOKIE, "gone", 0);
}

int
portal_login_post(struct http_request *req, struct http_response *res,
                  void *app)
{
	const char *values[9];
	struct vault_portal_login_in in;
	struct vault_portal_login_out out;
	struct portal p;
	enum vaern_err err;
	char *buf = NULL, to[POLICY_NAME_MAX + 32];
	long long started = web_ms_now();
	long way = 0;
	int rc;

	if (portal_begin(req, res, app, &p, 0))
		return 0;
	if (portal_form(&p, login_keys, values, &buf)) {
		rc = 0;
		goto done;
	}
	if (values[1] != NULL && strlen(values[1]) == 1 &&
	    values[1][0] >= '1' && values[1][0] <= '4')
		way = values[1][0] - '0';
	if (way < 1 || (size_t)way > p.c.policy->portal.nlogins) {
		rc = portal_message(&p, 400, P_err_input, "way");
		goto done;
	}
	memset(&in, 0, sizeof(in));
	in.controller = p.controller;
	in.set = (size_t)way - 1;
	in.nvalues = p.c.policy->portal.logins[in.set].n;
	for (size_t i = 0; i < 4; i++) {
		if (i >= in.nvalues && values[2 + i] != NULL) {
			rc = portal_message(&p, 400, P_err_input,
			                    "a value this way does not take");
			goto done;
		}
		if (i < in.nvalues)
			in.values[i] = values[2 + i];
	}
	in.client = http_request_client(req);
	in.lang = web_lang_code(p.lang);
	if (values[6] != NULL && strcmp(values[6], "password") == 0) {
		if (values[7] == NULL) {
			rc = portal_message(&p, 400, P_err_input, "password");
			goto done;
		}
		in.password = values[7];
	} else if (values[6] != NULL && strcmp(values[6], "code") != 0) {
		rc = portal_message(&p, 400, P_err_input, "proof");
		goto done;
	}
	err = vault_portal_login_start(p.c.v, &in, &out, &p.c.msg);
	/* AURA-LOGIN-1: the code (nobody's too) was queued; the delivery
	 * thread sends it while this answer waits for its floor. */
	if (err == VAERN_OK && in.password == NULL)
		api_courier_wake(p.c.api);
	if (err == VAERN_E_INVALID) {
		rc = portal_message(&p, 400, P_err_input, p.c.msg.text);
		goto done;
	}
	web_floor_wait(started, PORTAL_LOGIN_FLOOR_MS);
	if (err == VAERN_E_LIMIT) {
		rc = throttled(&p, out.wait);
	} else if (err == VAERN_E_DENIED && in.password != NULL) {
		rc = login_page(&p, 401, P_err_password);
	} else if (err != VAERN_OK) {
		rc = portal_message(&p, 500, P_err_internal, NULL);
	} else if (in.password != NULL) {
		session_cookie(&p, out.token);
		(void)snprintf(to, sizeof(to), "%s/overview", p.base);
		rc = web_redirect(res, to);
	} else {
		(void)web_cookie_set(res, PORTAL_LOGIN_COOKIE, out.token,
		                     VAULT_PORTAL_CODE_TTL);
		(void)snprintf(to, sizeof(to), "%s/code", p.base);
		rc = web_redirect(res, to);
	}
	sodium_memzero(&out, sizeof(out));
done:
	web_form_free(buf);
	return rc;
}

static int
code_page(struct portal *p, int status, enum portal_key note)
{
	struct web_html h;

	portal_page_start(p, &h, P_code_title);
	if (note != P__COUNT) {
		web_html_raw(&h, "<p class=\"message\" role=\"alert\">");
		web_html_text(&h, portal_s(p, note));
		web_html_raw(&h, "</p>");
	}
	web_html_raw(&h, "<p>");
	web_html_text(&h, portal_s(p, P_code_intro));
	web_html_raw(&h, "</p><form method=\"post\" action=\"");
	web_html_text(&h, p->base);
	web_html_raw(&h, "/code\">");
	portal_csrf_field(p, &h);
	web_html_raw(&h, "<label for=\"code\">");
	web_html_text(&h, portal_s(p, P_code_label));
	web_html_raw(&h, "</label><input id=\"code\" name=\"code\" required "
	                 "inputmode=\"numeric\" pattern=\"[0-9]{8}\" "
	                 "maxlength=\"8\" autocomplete=\"one-time-code\">"
	                 "<button type=\"submit\">");
	web_html_text(&h, portal_s(p, P_code_submit));
	web_html_raw(&h, "</button></form><p><a href=\"");
	web_html_text(&h, p->base);
	web_html_raw(&h, "/login\">");
	web_html_text(&h, portal_s(p, P_code_again));
	web_html_raw(&h, "</a></p>");
	portal_page_end(p, &h);
	return portal_respond(p, status, &h);
}

int
portal_code_page(struct http_request *req, struct http_response *res, void *app)
{
	struct portal p;

	if (portal_begin(req, res, app, &p, 0))
		return 0;
	return code_page(&p, 200, P__COUNT);
}

int
portal_code_post(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"csrf", "code", NULL};
	const char *values[3];
	struct vault_portal_login_out out;
	struct portal p;
	enum vaern_err err;
	char *buf = NULL, login[WEB_COOKIE_MAX + 1], to[POLICY_NAME_MAX + 32];
	int rc;

	if (portal_begin(req, res, app, &p, 0))
		return 0;
	if (portal_form(&p, keys, values, &buf)) {
		rc = 0;
		goto done;
	}
	if (values[1] == NULL) {
		rc = code_page(&p, 400, P_err_input);
		goto done;
	}
	if (web_cookie(req, PORTAL_LOGIN_COOKIE, login, sizeof(login)) != 1)
		login[0] = '\0';
	err = vault_portal_login_code(p.c.v, p.controller, login, values[1],
	                              http_request_client(req), &out, &p.c.msg);
	sodium_memzero(login, sizeof(login));
	if (err == VAERN_OK) {
		session_cookie(&p, out.token);
		sodium_memzero(&out, sizeof(out));
		(void)snprintf(to, sizeof(to), "%s/overview", p.base);
		rc = web_redirect(res, to);
	} else if (err == VAERN_E_INVALID) {
		rc = code_page(&p, 400, P_err_input);
	} else if (err == VAERN_E_LIMIT) {
		rc = throttled(&p, out.wait);
	} else if (err == VAERN_E_DENIED) {
		rc = code_page(&p, 401, P_err_code);
	} else {
		rc = portal_message(&p, 500, P_err_internal, NULL);
	}
done:
	web_form_free(buf);
	return rc;
}

int
portal_logout(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"csrf", "all", NULL};
	const char *values[3];
	struct portal p;
	char *buf = NULL;
	int rc, all;

	if (portal_begin(req, res, app, &p, 1))
		return 0;
	if (portal_form(&p, keys, values, &buf)) {
		rc = 0;
		goto done;
	}
	all = values[1] != NULL && strcmp(values[1], "1") == 0;
	if (vault_portal_logout(p.c.v, p.controller, &p.session, all,
	                        &p.c.msg) != VAERN_OK) {
		rc = portal_message(&p, 500, P_err_internal, NULL);
		goto done;
	}
	(void)web_cookie_set(res, PORTAL_SESSION_COOKIE, "gone", 0);
	p.logged_in = 0;
	rc = portal_message(&p, 200, P_logged_out, NULL);
done:
	web_form_free(buf);
	return rc;
}

int
portal_password(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"csrf", "password", NULL};
	const char *values[3];
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
	err = vault_portal_password_set(p.c.v, p.controller, p.session.subject,
	                                values[1] != NULL ? values[1] : "",
	                                &p.c.msg);
	if (err == VAERN_E_INVALID)
		rc = portal_message(&p, 400, P_err_input, p.c.msg.text);
	else if (err != VAERN_OK)
		rc = portal_message(&p, 500, P_err_internal, NULL);
	else
		rc = portal_message(&p, 200, P_password_done, NULL);
done:
	web_form_free(buf);
	return rc;
}
