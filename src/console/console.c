/*
 * console.c -- the staff console's framework (console_internal.h, issue
 * 20): the page's context, the staff session and role, the layout, forms,
 * messages and the style sheet.
 *
 * As the portal (AURA-SEC-1): the server refuses plain HTTP off loopback
 * (src/http) and sends HSTS over TLS; every page has a CSP without any
 * script or inline style (web_page_headers); every form carries a token
 * and is checked against its Origin (console_form); the pages work
 * without JavaScript (there is none). GDPR-32: every page is the
 * actor's, in its role; a role refused a page is audited.
 */
#include "console_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"

_Static_assert(WEB_TOKEN_LEN == VAULT_CONSOLE_TOKEN_LEN, "one token size");

/* Every page of the console, in the nav's order; dpo: only a role that
 * reads the audit trail opens it (the others do not see the link). */
static const struct {
	const char *id; /* the page id and the path under base */
	enum console_key key;
	int dpo;
} pages[] = {
        {"requests", C_nav_requests, 0}, {"retention", C_nav_retention, 0},
        {"audit", C_nav_audit, 1},       {"incidents", C_nav_incidents, 1},
        {"policies", C_nav_policies, 1}, {"staff", C_nav_staff, 1},
};

const char *
console_s(const struct console *cx, enum console_key key)
{
	/* console_table is en, da, sv: enum web_lang's order. */
	return console_table[cx->lang][key];
}

void
console_date(int64_t t, char out[11])
{
	if (t == INT64_MIN) {
		(void)snprintf(out, 11, "-");
		return;
	}
	cal_format_date(cal_day_of(t), out);
}

void
console_instant(int64_t t, char out[24])
{
	char iso[21];

	if (t == INT64_MIN) {
		(void)snprintf(out, 24, "-");
		return;
	}
	cal_format_instant(t, iso);
	/* 2026-12-07T14:05:09Z -> 2026-12-07 14:05 UTC */
	(void)snprintf(out, 24, "%.10s %.5s UTC", iso, iso + 11);
}

/* The context before the session: controller, language, actor nobody. */
static int
start(struct http_request *req, struct http_response *res, void *app,
      const char *page_id, struct console *cx)
{
	const char *controller = http_request_param(req, "controller");

	memset(cx, 0, sizeof(*cx));
	cx->req = req;
	cx->res = res;
	cx->page = page_id;
	cx->lang = web_lang_choose(req, NULL);
	if (begin_public(req, res, app, &cx->c))
		return 1;
	if (controller == NULL ||
	    vault_policy(cx->c.v, controller, &cx->c.policy, &cx->c.msg) !=
	            VAERN_OK) {
		cx->c.policy = NULL;
		web_page_headers(res);
		(void)http_respond_text(res, 404, "text/plain; charset=utf-8",
		                        "No such console.\n");
		return 1;
	}
	cx->controller = cx->c.policy->controller.id;
	(void)snprintf(cx->base, sizeof(cx->base), "/console/%s",
	               cx->controller);
	cx->lang = web_lang_choose(req, cx->c.policy->controller.language);
	(void)snprintf(cx->c.actor.controller, sizeof(cx->c.actor.controller),
	               "%s", cx->controller);
	(void)snprintf(cx->c.actor.name, sizeof(cx->c.actor.name), "(unknown)");
	(void)snprintf(cx->c.actor.role, sizeof(cx->c.actor.role), "none");
	return 0;
}

/* The session of the cookie, if any, and the forms' token. */
static int
session(struct console *cx)
{
	enum vaern_err err;
	int rc = web_cookie(cx->req, CONSOLE_SESSION_COOKIE, cx->token,
	                    sizeof(cx->token));

	if (rc != 0) {
		err = rc < 0 ? VAERN_E_DENIED
		             : vault_console_session(cx->c.v, cx->controller,
		                                     cx->token, &cx->session,
		                                     &cx->c.msg);
		if (err == VAERN_OK) {
			cx->logged_in = 1;
			/* GDPR-32: from here on the page is the actor's: the
			 * gate decides for its role, the audit names it. */
			cx->c.actor = cx->session.actor;
			cx->dpo = role_audits(&cx->c);
		} else if (err != VAERN_E_DENIED) {
			(void)console_message(cx, 500, C_err_internal, NULL);
			return 1;
		}
	}
	/* The page's reads share one snapshot (api_after_handler ends it),
	 * taken after the session check, which may write its last use. */
	(void)vault_read_begin(cx->c.v, NULL);
	if (cx->logged_in) {
		if (vault_console_csrf(cx->c.v, cx->controller, cx->token,
		                       cx->csrf, &cx->c.msg) != VAERN_OK) {
			(void)console_message(cx, 500, C_err_internal, NULL);
			return 1;
		}
	} else if (web_cookie(cx->req, CONSOLE_PRE_COOKIE, cx->csrf,
	                      sizeof(cx->csrf)) != 1 ||
	           strlen(cx->csrf) != VAULT_CONSOLE_TOKEN_LEN) {
		web_token_new(cx->csrf);
		cx->new_pre = 1;
	}
	return 0;
}

int
console_begin_public(struct http_request *req, struct http_response *res,
                     void *app, const char *page_id, struct console *cx)
{
	return start(req, res, app, page_id, cx) || session(cx);
}

int
console_begin(struct http_request *req, struct http_response *res, void *app,
              const char *page_id, int dpo_only, struct console *cx)
{
	char why[160];

	if (console_begin_public(req, res, app, page_id, cx))
		return 1;
	if (!cx->logged_in) {
		if (strcmp(http_request_method(req), "GET") == 0 ||
		    strcmp(http_request_method(req), "HEAD") == 0) {
			char to[sizeof(cx->base) + 8];

			(void)snprintf(to, sizeof(to), "%s/login", cx->base);
			if (cx->new_pre)
				(void)web_cookie_set(res, CONSOLE_PRE_COOKIE,
				                     cx->csrf, -1);
			(void)web_redirect(res, to);
			return 1;
		}
		(void)console_message(cx, 401, C_err_session, NULL);
		return 1;
	}
	if (dpo_only && !cx->dpo) {
		/* GDPR-32: need-to-know; the refusal is on the record. */
		(void)snprintf(why, sizeof(why),
		               "role '%.64s' may not open the console's "
		               "DPO-only page '%.32s'",
		               cx->c.actor.role, page_id);
		if (audit_change(&cx->c, "console_page", NULL, NULL, NULL, 0,
		                 "GDPR-32", why) != VAERN_OK) {
			(void)console_message(cx, 500, C_err_internal, NULL);
			return 1;
		}
		(void)console_message(cx, 403, C_err_role, NULL);
		return 1;
	}
	return 0;
}

int
console_form(struct http_request *req, struct console *cx,
             const char *const *keys, const char **values, char **buf)
{
	char why[VAERN_MSG_MAX + 32];
	const char *refusal;
	int st;

	*buf = NULL;
	if ((st = web_form(req, keys, values, buf, &cx->c.msg)) != 0) {
		/* The reason names the field, never its value. */
		(void)snprintf(why, sizeof(why), "a form refused: %s",
		               cx->c.msg.text);
		if (audit_change(&cx->c, "console_form_refused", NULL, NULL,
		                 NULL, 0, "AURA-SEC-1", why) != VAERN_OK) {
			(void)console_message(cx, 500, C_err_internal, NULL);
			return 1;
		}
		(void)console_message(cx, st, C_err_input, cx->c.msg.text);
		return 1;
	}
	refusal = web_form_refusal(req, cx->csrf, cx->new_pre, values[0]);
	if (refusal == NULL)
		return 0;
	if (audit_change(&cx->c, "console_form_refused", NULL, NULL, NULL, 0,
	                 "AURA-SEC-1", refusal) != VAERN_OK) {
		(void)console_message(cx, 500, C_err_internal, NULL);
		return 1;
	}
	(void)console_message(cx, 403, C_err_forbidden, NULL);
	return 1;
}

void
console_csrf_field(struct web_html *h, struct console *cx)
{
	web_html_raw(h, "<input type=\"hidden\" name=\"csrf\" value=\"");
	web_html_text(h, cx->csrf);
	web_html_raw(h, "\">");
}

void
console_page_open(struct web_html *h, struct console *cx, const char *title)
{
	web_html_init(h, CONSOLE_PAGE_MAX);
	web_html_printf(h,
	                "<!DOCTYPE html>\n<html lang=\"%s\"><head>"
	                "<meta charset=\"utf-8\">"
	                "<meta name=\"viewport\" content=\"width=device-width, "
	                "initial-scale=1\"><title>",
	                web_lang_code(cx->lang));
	web_html_text(h, title);
	web_html_raw(h, " - ");
	web_html_text(h, console_s(cx, C_title));
	web_html_raw(h, "</title><link rel=\"stylesheet\" "
	                "href=\"/console-assets/console.css\"></head><body>"
	                "<a class=\"skip\" href=\"#main\">");
	web_html_text(h, console_s(cx, C_skip));
	web_html_raw(h, "</a><header><p class=\"brand\">");
	web_html_text(h, cx->c.policy->controller.name);
	web_html_raw(h, " &middot; ");
	web_html_text(h, console_s(cx, C_title));
	web_html_raw(h, "</p>");
	web_lang_nav(h, http_request_path(cx->req), cx->lang,
	             console_s(cx, C_lang_label));
	if (cx->logged_in) {
		web_html_raw(h, "<nav class=\"main\" aria-label=\"");
		web_html_text(h, console_s(cx, C_nav_label));
		web_html_raw(h, "\"><ul>");
		for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
			if (pages[i].dpo && !cx->dpo)
				continue;
			web_html_raw(h, "<li><a href=\"");
			web_html_text(h, cx->base);
			web_html_raw(h, "/");
			web_html_raw(h, pages[i].id);
			web_html_raw(h, "\"");
			if (cx->page != NULL &&
			    strcmp(cx->page, pages[i].id) == 0)
				web_html_raw(h, " aria-current=\"page\"");
			web_html_raw(h, ">");
			web_html_text(h, console_s(cx, pages[i].key));
			web_html_raw(h, "</a></li>");
		}
		web_html_raw(h, "</ul></nav><form class=\"logout\" "
		                "method=\"post\" action=\"");
		web_html_text(h, cx->base);
		web_html_raw(h, "/logout\"><span class=\"who\">");
		web_html_text(h, cx->c.actor.name);
		web_html_raw(h, " (");
		web_html_text(h, cx->c.actor.role);
		web_html_raw(h, ")</span> ");
		console_csrf_field(h, cx);
		web_html_raw(h, "<button type=\"submit\">");
		web_html_text(h, console_s(cx, C_nav_logout));
		web_html_raw(h, "</button></form>");
	}
	web_html_raw(h, "</header><main id=\"main\"><h1>");
	web_html_text(h, title);
	web_html_raw(h, "</h1>");
}

void
console_page_close(struct web_html *h, struct console *cx)
{
	web_html_raw(h, "</main><footer><p>");
	web_html_text(h, console_s(cx, C_footer));
	web_html_raw(h, "</p></footer></body></html>\n");
}

int
console_respond(struct console *cx, int status, struct web_html *h)
{
	const char *q = http_request_query(cx->req, "lang");
	enum web_lang l;

	if (cx->new_pre)
		(void)web_cookie_set(cx->res, CONSOLE_PRE_COOKIE, cx->csrf, -1);
	/* The switcher's choice is kept: a preference, not personal data. */
	if (q != NULL && web_lang_parse(q, &l) == 0)
		(void)web_cookie_set(cx->res, WEB_LANG_COOKIE, web_lang_code(l),
		                     365L * 24 * 3600);
	return web_respond_html(cx->res, status, h);
}

int
console_page_send(struct console *cx, struct web_html *h, int status,
                  enum vaern_err err)
{
	if (err != VAERN_OK) {
		web_html_free(h);
		return console_message(cx, 500, C_err_internal, NULL);
	}
	console_page_close(h, cx);
	return console_respond(cx, status, h);
}

int
console_message(struct console *cx, int status, enum console_key key,
                const char *detail)
{
	struct web_html h;

	if (cx->c.policy == NULL) {
		web_page_headers(cx->res);
		return http_respond_text(cx->res, status,
		                         "text/plain; charset=utf-8",
		                         "No such console.\n");
	}
	console_page_open(&h, cx, console_s(cx, C_title));
	console_note(&h, cx, status >= 400, key, detail);
	web_html_raw(&h, "<p><a href=\"");
	web_html_text(&h, cx->base);
	web_html_raw(&h, cx->logged_in ? "/requests\">" : "/login\">");
	web_html_text(&h, console_s(cx, cx->logged_in ? C_nav_requests
	                                              : C_login_title));
	web_html_raw(&h, "</a></p>");
	console_page_close(&h, cx);
	return console_respond(cx, status, &h);
}

void
console_note(struct web_html *h, struct console *cx, int error,
             enum console_key key, const char *detail)
{
	web_html_raw(h, error ? "<p class=\"error\" role=\"alert\" id=\"note\">"
	                      : "<p class=\"message\" role=\"status\" "
	                        "id=\"note\">");
	web_html_text(h, console_s(cx, key));
	if (detail != NULL) {
		web_html_raw(h, " ");
		web_html_text(h, detail);
	}
	web_html_raw(h, "</p>");
}

void
console_table_open(struct web_html *h, struct console *cx, const char *id,
                   const enum console_key *keys, size_t n)
{
	web_html_raw(h, "<table id=\"");
	web_html_text(h, id);
	web_html_raw(h, "\"><thead><tr>");
	for (size_t i = 0; i < n; i++) {
		web_html_raw(h, "<th scope=\"col\">");
		web_html_text(h, console_s(cx, keys[i]));
		web_html_raw(h, "</th>");
	}
	web_html_raw(h, "</tr></thead><tbody>");
}

/* GET /console/{controller}: the queue, or the login page. */
int
console_home(struct http_request *req, struct http_response *res, void *app)
{
	struct console cx;
	char to[sizeof(cx.base) + 16];

	if (console_begin_public(req, res, app, "home", &cx))
		return 0;
	(void)snprintf(to, sizeof(to), "%s/%s", cx.base,
	               cx.logged_in ? "requests" : "login");
	if (cx.new_pre)
		(void)web_cookie_set(res, CONSOLE_PRE_COOKIE, cx.csrf, -1);
	return web_redirect(res, to);
}

/* The one style sheet: no inline style anywhere (CSP). The queue's
 * colours are render_queue's classes (over, soon, ok). */
static const char css[] =
        "body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;"
        "background:#fff;line-height:1.5}"
        "header,main,footer{max-width:72rem;margin:0 auto;"
        "padding:0.75rem 1rem}"
        "header{border-bottom:1px solid #767676}"
        ".brand{font-weight:bold;margin:0}"
        "nav ul{list-style:none;padding:0;margin:0.25rem 0;display:flex;"
        "flex-wrap:wrap;gap:1rem}"
        "nav a[aria-current]{font-weight:bold}"
        "a{color:#0b4f9c}a:focus,button:focus,input:focus,select:focus,"
        "textarea:focus{outline:3px solid #f5a000;outline-offset:2px}"
        ".skip{position:absolute;left:-10000px}.skip:focus{left:1rem;"
        "top:1rem;background:#fff}"
        ".message{padding:0.5rem;border-left:4px solid #0b4f9c;"
        "background:#eef4fb}"
        ".error{padding:0.5rem;border-left:4px solid #a00;"
        "background:#fbeaea}"
        "table{border-collapse:collapse;width:100%}th,td{text-align:left;"
        "border-bottom:1px solid #ccc;padding:0.25rem 0.5rem;"
        "vertical-align:top}"
        "td.days{text-align:right}"
        "tr.over td.days{background:#f8d0d0;color:#600}"
        "tr.soon td.days{background:#fbe7b0;color:#530}"
        "tr.ok td.days{background:#d8eedd;color:#063}"
        "label{display:block;margin-top:0.5rem}"
        "fieldset{border:1px solid #ccc;margin:0.75rem 0}"
        ".filters{display:flex;flex-wrap:wrap;gap:1rem;align-items:end}"
        ".filters label{margin:0}"
        ".actions{display:grid;grid-template-columns:repeat(auto-fill,"
        "minmax(18rem,1fr));gap:0.75rem}"
        ".qr svg{width:14rem;height:14rem}"
        "code.uri{word-break:break-all}"
        "input,select,button,textarea{font:inherit;padding:0.25rem 0.5rem}"
        "button{margin-top:0.5rem;background:#0b4f9c;color:#fff;"
        "border:0;border-radius:3px;cursor:pointer}"
        ".logout{margin:0.25rem 0}"
        "footer{border-top:1px solid #767676;font-size:0.9rem}\n";

int
console_css(struct http_request *req, struct http_response *res, void *app)
{
	(void)req;
	(void)app;
	(void)http_respond_header(res, "Cache-Control", "public, max-age=3600");
	return http_respond_text(res, 200, "text/css; charset=utf-8", css);
}
