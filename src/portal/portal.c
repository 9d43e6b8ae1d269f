/*
 * portal.c -- the portal's request context, page frame, cookie banner,
 * style sheet and gpc.json (portal.h, issue 16).
 *
 * AURA-SEC-1: the server refuses plain HTTP off loopback (src/http) and
 * sends HSTS over TLS; every page has a CSP without any script or inline
 * style (web_page_headers); every form carries a token and is checked
 * against its Origin (portal_form_check); the pages work without
 * JavaScript (there is none).
 */
#include "portal_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"

const char *
portal_s(const struct portal *p, enum portal_key key)
{
	/* portal_table is en, da, sv: enum web_lang's order. */
	return portal_table[p->lang][key];
}

void
portal_date(int64_t t, char out[11])
{
	if (t == INT64_MIN) {
		(void)snprintf(out, 11, "-");
		return;
	}
	cal_format_date(cal_day_of(t), out);
}

_Static_assert(WEB_TOKEN_LEN == VAULT_PORTAL_TOKEN_LEN, "one token size");

int
portal_begin(struct http_request *req, struct http_response *res, void *app,
             struct portal *p, int need_session)
{
	const char *controller = http_request_param(req, "controller");
	const char *gpc = http_request_header(req, "Sec-GPC");
	int rc;

	memset(p, 0, sizeof(*p));
	p->req = req;
	p->res = res;
	p->lang = web_lang_choose(req, NULL);
	if (begin_public(req, res, app, &p->c))
		return 1;
	if (controller == NULL ||
	    vault_policy(p->c.v, controller, &p->c.policy, &p->c.msg) !=
	            VAERN_OK ||
	    !p->c.policy->portal.declared) {
		p->c.policy = NULL;
		web_page_headers(res);
		(void)http_respond_text(res, 404, "text/plain; charset=utf-8",
		                        "No such portal.\n");
		return 1;
	}
	p->controller = p->c.policy->controller.id;
	(void)snprintf(p->base, sizeof(p->base), "/portal/%s", p->controller);
	p->lang = web_lang_choose(req, p->c.policy->controller.language);
	p->gpc = gpc != NULL && strcmp(gpc, "1") == 0;
	if (web_cookie(req, PORTAL_CHOICE_COOKIE, p->choice,
	               sizeof(p->choice)) != 1 ||
	    (strcmp(p->choice, "necessary") != 0 &&
	     strcmp(p->choice, "statistics") != 0))
		p->choice[0] = '\0';
	/* Not logged in: the visitor of the pages before login. */
	(void)snprintf(p->c.actor.controller, sizeof(p->c.actor.controller),
	               "%s", p->controller);
	(void)snprintf(p->c.actor.name, sizeof(p->c.actor.name), "visitor");
	(void)snprintf(p->c.actor.role, sizeof(p->c.actor.role), "visitor");
	rc = web_cookie(req, PORTAL_SESSION_COOKIE, p->token, sizeof(p->token));
	if (rc != 0) {
		enum vaern_err err =
		        rc < 0 ? VAERN_E_DENIED
		               : vault_portal_session(p->c.v, p->controller,
		                                      p->token, &p->session,
		                                      &p->c.msg);

		if (err == VAERN_OK) {
			p->logged_in = 1;
			/* AURA-PORTAL-1: the session knows only the person's
			 * id; every read is theirs, through the gate. */
			vault_actor_subject(&p->c.actor, p->controller,
			                    p->session.subject);
		} else if (err != VAERN_E_DENIED) {
			(void)portal_message(p, 500, P_err_internal, NULL);
			return 1;
		}
	}
	/* The page's reads share one snapshot (api_after_handler ends it):
	 * taken after the session check, which may write its last use. */
	(void)vault_read_begin(p->c.v, NULL);
	if (p->logged_in) {
		if (vault_portal_csrf(p->c.v, p->controller, p->token, p->csrf,
		                      &p->c.msg) != VAERN_OK) {
			(void)portal_message(p, 500, P_err_internal, NULL);
			return 1;
		}
	} else if (web_cookie(req, PORTAL_PRE_COOKIE, p->csrf,
	                      sizeof(p->csrf)) != 1 ||
	           strlen(p->csrf) != VAULT_PORTAL_TOKEN_LEN) {
		web_token_new(p->csrf);
		p->new_pre = 1;
	}
	if (need_session && !p->logged_in) {
		if (strcmp(http_request_method(req), "GET") == 0 ||
		    strcmp(http_request_method(req), "HEAD") == 0) {
			char to[sizeof(p->base) + 8];

			(void)snprintf(to, sizeof(to), "%s/login", p->base);
			if (p->new_pre)
				(void)web_cookie_set(res, PORTAL_PRE_COOKIE,
				                     p->csrf, -1);
			(void)web_redirect(res, to);
			return 1;
		}
		(void)portal_message(p, 401, P_err_session, NULL);
		return 1;
	}
	return 0;
}

int
portal_form_check(struct portal *p, const char *csrf)
{
	const char *why = web_form_refusal(p->req, p->csrf, p->new_pre, csrf);

	if (why == NULL)
		return 0;
	if (audit_change(&p->c, "portal_form_refused", NULL,
	                 p->logged_in ? p->session.subject : NULL, NULL, 0,
	                 "AURA-SEC-1", why) != VAERN_OK) {
		(void)fail(p->res, VAERN_E_IO, &p->c.msg);
		return 1;
	}
	(void)portal_message(p, 403, P_err_forbidden, NULL);
	return 1;
}

int
portal_form(struct portal *p, const char *const *keys, const char **values,
            char **buf)
{
	char why[VAERN_MSG_MAX + 32];
	int st;

	if ((st = web_form(p->req, keys, values, buf, &p->c.msg)) == 0)
		return portal_form_check(p, values[0]);
	/* Bad input is refused and audited; the reason names the field,
	 * never its value. */
	(void)snprintf(why, sizeof(why), "a form refused: %s", p->c.msg.text);
	if (audit_change(&p->c, "portal_form_refused", NULL,
	                 p->logged_in ? p->session.subject : NULL, NULL, 0,
	                 "AURA-SEC-1", why) != VAERN_OK) {
		(void)fail(p->res, VAERN_E_IO, &p->c.msg);
		return 1;
	}
	(void)portal_message(p, st, P_err_input, p->c.msg.text);
	return 1;
}

void
portal_csrf_field(struct portal *p, struct web_html *h)
{
	web_html_raw(h, "<input type=\"hidden\" name=\"csrf\" value=\"");
	web_html_text(h, p->csrf);
	web_html_raw(h, "\">");
}

/* AURA-COOKIE-1, AOPT-COOKIE-1: only necessary cookies until the visitor
 * chooses; statistics only when accepted; Sec-GPC honoured. */
static void
banner(struct portal *p, struct web_html *h)
{
	if (p->gpc) {
		web_html_raw(h, "<p class=\"gpc\" role=\"status\">");
		web_html_text(h, portal_s(p, P_cookie_gpc));
		web_html_raw(h, "</p>");
		return;
	}
	if (p->choice[0] != '\0')
		return;
	web_html_raw(h, "<section class=\"banner\" "
	                "aria-labelledby=\"cookies-h\"><h2 id=\"cookies-h\">");
	web_html_text(h, portal_s(p, P_cookie_title));
	web_html_raw(h, "</h2><p>");
	web_html_text(h, portal_s(p, P_cookie_intro));
	web_html_raw(h, "</p><form method=\"post\" action=\"");
	web_html_text(h, p->base);
	web_html_raw(h, "/cookies\">");
	portal_csrf_field(p, h);
	web_html_raw(h, "<button type=\"submit\" name=\"choice\" "
	                "value=\"necessary\">");
	web_html_text(h, portal_s(p, P_cookie_necessary));
	web_html_raw(h, "</button> <button type=\"submit\" name=\"choice\" "
	                "value=\"statistics\">");
	web_html_text(h, portal_s(p, P_cookie_accept));
	web_html_raw(h, "</button></form></section>");
}

void
portal_page_start(struct portal *p, struct web_html *h, enum portal_key title)
{
	static const struct {
		const char *path;
		enum portal_key key;
	} nav[] = {{"/overview", P_nav_overview},
	           {"/data", P_nav_data},
	           {"/consents", P_nav_consents},
	           {"/requests", P_nav_requests}};

	web_html_init(h, 0);
	web_html_printf(h,
	                "<!DOCTYPE html>\n<html lang=\"%s\"><head>"
	                "<meta charset=\"utf-8\">"
	                "<meta name=\"viewport\" content=\"width=device-width, "
	                "initial-scale=1\"><title>",
	                web_lang_code(p->lang));
	web_html_text(h, portal_s(p, title));
	web_html_raw(h, " - ");
	web_html_text(h, p->c.policy->controller.name);
	web_html_raw(h, "</title><link rel=\"stylesheet\" "
	                "href=\"/portal-assets/portal.css\"></head><body>"
	                "<a class=\"skip\" href=\"#main\">");
	web_html_text(h, portal_s(p, P_skip));
	web_html_raw(h, "</a><header><p class=\"brand\">");
	web_html_text(h, p->c.policy->controller.name);
	web_html_raw(h, " &middot; ");
	web_html_text(h, portal_s(p, P_title));
	web_html_raw(h, "</p>");
	web_lang_nav(h, http_request_path(p->req), p->lang,
	             portal_s(p, P_lang_label));
	if (p->logged_in) {
		web_html_raw(h, "<nav class=\"main\" aria-label=\"");
		web_html_text(h, portal_s(p, P_title));
		web_html_raw(h, "\"><ul>");
		for (size_t i = 0; i < sizeof(nav) / sizeof(nav[0]); i++) {
			web_html_raw(h, "<li><a href=\"");
			web_html_text(h, p->base);
			web_html_raw(h, nav[i].path);
			web_html_raw(h, "\">");
			web_html_text(h, portal_s(p, nav[i].key));
			web_html_raw(h, "</a></li>");
		}
		web_html_raw(h, "</ul></nav><form class=\"logout\" "
		                "method=\"post\" action=\"");
		web_html_text(h, p->base);
		web_html_raw(h, "/logout\">");
		portal_csrf_field(p, h);
		web_html_raw(h, "<button type=\"submit\">");
		web_html_text(h, portal_s(p, P_nav_logout));
		web_html_raw(h,
		             "</button> <button type=\"submit\" name=\"all\" "
		             "value=\"1\">");
		web_html_text(h, portal_s(p, P_nav_logout_all));
		web_html_raw(h, "</button></form>");
	}
	web_html_raw(h, "</header>");
	banner(p, h);
	web_html_raw(h, "<main id=\"main\"><h1>");
	web_html_text(h, portal_s(p, title));
	web_html_raw(h, "</h1>");
}

void
portal_page_end(struct portal *p, struct web_html *h)
{
	web_html_raw(h, "</main><footer><p>");
	web_html_text(h, portal_s(p, P_footer));
	/* SHOP-BREACH-1: anyone may report a weakness, logged in or not. */
	web_html_raw(h, "</p><p><a href=\"");
	web_html_text(h, p->base);
	web_html_raw(h, "/report\">");
	web_html_text(h, portal_s(p, P_report_link));
	web_html_raw(h, "</a></p></footer></body></html>\n");
}

int
portal_respond(struct portal *p, int status, struct web_html *h)
{
	const char *q = http_request_query(p->req, "lang");
	enum web_lang l;

	if (p->new_pre)
		(void)web_cookie_set(p->res, PORTAL_PRE_COOKIE, p->csrf, -1);
	/* The switcher's choice is kept: a preference, not personal data. */
	if (q != NULL && web_lang_parse(q, &l) == 0)
		(void)web_cookie_set(p->res, WEB_LANG_COOKIE, web_lang_code(l),
		                     365L * 24 * 3600);
	return web_respond_html(p->res, status, h);
}

int
portal_message(struct portal *p, int status, enum portal_key key,
               const char *detail)
{
	struct web_html h;

	if (p->c.policy == NULL) {
		web_page_headers(p->res);
		return http_respond_text(p->res, status,
		                         "text/plain; charset=utf-8",
		                         "No such portal.\n");
	}
	portal_page_start(p, &h, P_title);
	web_html_raw(&h, "<p class=\"message\" role=\"alert\">");
	web_html_text(&h, portal_s(p, key));
	if (detail != NULL) {
		web_html_raw(&h, " ");
		web_html_text(&h, detail);
	}
	web_html_raw(&h, "</p><p><a href=\"");
	web_html_text(&h, p->base);
	web_html_raw(&h, p->logged_in ? "/overview\">" : "/login\">");
	web_html_text(
	        &h, portal_s(p, p->logged_in ? P_nav_overview : P_login_title));
	web_html_raw(&h, "</a></p>");
	portal_page_end(p, &h);
	return portal_respond(p, status, &h);
}

void
portal_visit(struct portal *p, const char *page)
{
	struct vault_visit_in in;
	struct vault_visit_done done;
	struct vaern_msg msg = {{0}};
	char visitor[WEB_COOKIE_MAX + 1];

	/* AURA-COOKIE-1: nothing automatic without the visitor's yes. */
	if (p->gpc || strcmp(p->choice, "statistics") != 0 ||
	    web_cookie(p->req, PORTAL_VISITOR_COOKIE, visitor,
	               sizeof(visitor)) != 1)
		return;
	memset(&in, 0, sizeof(in));
	in.kind = VAULT_VISIT;
	in.ip = http_request_client(p->req);
	in.page = page;
	/* A visit that cannot be kept (no such purpose, the choice off on
	 * record) is simply not kept. */
	if (vault_visit_add(p->c.v, p->controller, visitor, &in, &done, &msg) ==
	    VAERN_OK)
		(void)audit_change(&p->c, "visit", done.purpose, NULL, NULL, 1,
		                   "AURA-COOKIE-1",
		                   "a portal visit, statistics accepted");
	sodium_memzero(visitor, sizeof(visitor));
}

/* GET /portal/{controller}: the overview, or the login page. */
int
portal_home(struct http_request *req, struct http_response *res, void *app)
{
	struct portal p;
	char to[sizeof(p.base) + 16];

	if (portal_begin(req, res, app, &p, 0))
		return 0;
	(void)snprintf(to, sizeof(to), "%s/%s", p.base,
	               p.logged_in ? "overview" : "login");
	if (p.new_pre)
		(void)web_cookie_set(res, PORTAL_PRE_COOKIE, p.csrf, -1);
	return web_redirect(res, to);
}

/* POST /portal/{controller}/cookies: the banner's choice, kept in a
 * cookie and, for statistics, on record against a random visitor id
 * (vault_choice_put: the proof of the consent, AURA-COOKIE-1). */
int
portal_cookies(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"csrf", "choice", NULL};
	const char *values[3];
	struct portal p;
	struct vault_choice ch;
	char *buf = NULL, visitor[WEB_COOKIE_MAX + 1], to[sizeof(p.base) + 16];
	int rc;

	if (portal_begin(req, res, app, &p, 0))
		return 0;
	if (portal_form(&p, keys, values, &buf)) {
		web_form_free(buf);
		return 0;
	}
	if (values[1] == NULL || (strcmp(values[1], "necessary") != 0 &&
	                          strcmp(values[1], "statistics") != 0)) {
		web_form_free(buf);
		return portal_message(&p, 400, P_err_input,
		                      "choice: necessary or statistics");
	}
	memset(&ch, 0, sizeof(ch));
	/* Sec-GPC: 1 is a refusal the banner cannot override. */
	ch.statistics = strcmp(values[1], "statistics") == 0 && !p.gpc;
	ch.source = p.gpc ? "gpc" : "banner";
	ch.at = INT64_MIN;
	(void)snprintf(p.choice, sizeof(p.choice), "%s",
	               ch.statistics ? "statistics" : "necessary");
	web_form_free(buf);
	if ((rc = web_cookie(req, PORTAL_VISITOR_COOKIE, visitor,
	                     sizeof(visitor))) != 1 ||
	    strlen(visitor) < VAULT_VISITOR_MIN) {
		web_token_new(visitor);
		visitor[24] = '\0';
	}
	if (ch.statistics || rc == 1) {
		enum vaern_err err = vault_choice_put(
		        p.c.v, p.controller, visitor, &ch, NULL, &p.c.msg);

		if (err == VAERN_OK)
			err = audit_change(&p.c, "cookie_choice", NULL, NULL,
			                   NULL, 1, "AURA-COOKIE-1",
			                   ch.statistics
			                           ? "statistics on (portal "
			                             "banner)"
			                           : "statistics off (portal "
			                             "banner)");
		if (err != VAERN_OK)
			return portal_message(&p, 500, P_err_internal, NULL);
		if (ch.statistics)
			(void)web_cookie_set(res, PORTAL_VISITOR_COOKIE,
			                     visitor, 365L * 24 * 3600);
	}
	sodium_memzero(visitor, sizeof(visitor));
	(void)web_cookie_set(res, PORTAL_CHOICE_COOKIE, p.choice,
	                     365L * 24 * 3600);
	(void)snprintf(to, sizeof(to), "%s/%s", p.base,
	               p.logged_in ? "overview" : "login");
	return web_redirect(res, to);
}

/* The one style sheet: no inline style anywhere (CSP). */
static const char css[] =
        "body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;"
        "background:#fff;line-height:1.5}"
        "header,main,footer,.banner,.gpc{max-width:48rem;margin:0 auto;"
        "padding:0.75rem 1rem}"
        "header{border-bottom:1px solid #767676}"
        ".brand{font-weight:bold;margin:0}"
        "nav ul{list-style:none;padding:0;margin:0.25rem 0;display:flex;"
        "flex-wrap:wrap;gap:1rem}"
        "a{color:#0b4f9c}a:focus,button:focus,input:focus,select:focus"
        "{outline:3px solid #f5a000;outline-offset:2px}"
        ".skip{position:absolute;left:-10000px}.skip:focus{left:1rem;"
        "top:1rem;background:#fff}"
        ".banner{border:2px solid #0b4f9c;margin-top:1rem}"
        ".message{padding:0.5rem;border-left:4px solid #0b4f9c;"
        "background:#eef4fb}"
        "table{border-collapse:collapse;width:100%}th,td{text-align:left;"
        "border-bottom:1px solid #ccc;padding:0.25rem 0.5rem;"
        "vertical-align:top}"
        "label{display:block;margin-top:0.5rem}"
        "input,select,button,textarea{font:inherit;padding:0.25rem 0.5rem}"
        "textarea{width:100%;box-sizing:border-box}"
        "fieldset{margin-top:0.75rem}input[type=file]{display:block}"
        "button{margin-top:0.5rem;background:#0b4f9c;color:#fff;"
        "border:0;border-radius:3px;cursor:pointer}"
        "footer{border-top:1px solid #767676;font-size:0.9rem}\n";

int
portal_css(struct http_request *req, struct http_response *res, void *app)
{
	(void)req;
	(void)app;
	(void)http_respond_header(res, "Cache-Control", "public, max-age=3600");
	return http_respond_text(res, 200, "text/css; charset=utf-8", css);
}

/* GET /.well-known/gpc.json: this site honours Global Privacy Control
 * (AURA-COOKIE-1, AOPT-COOKIE-1). */
int
portal_gpc(struct http_request *req, struct http_response *res, void *app)
{
	(void)req;
	(void)app;
	(void)http_respond_header(res, "Cache-Control",
	                          "public, max-age=86400");
	return http_respond_text(res, 200, "application/json",
	                         "{\"gpc\": true, \"lastUpdate\": "
	                         "\"2026-12-07\"}\n");
}
