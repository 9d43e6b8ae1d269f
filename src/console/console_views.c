/*
 * console_views.c -- what the staff console's views share
 * (console_views.h; issue 20, points 3 to 6): their words, dates, links,
 * style rules.
 */
#include "console_views.h"

#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "console_internal.h"

void
cview_of(const struct console *cx, struct cview *v)
{
	v->lang = cx->lang;
	v->base = cx->base;
	v->csrf = cx->csrf;
	v->dpo = cx->dpo;
}

void
cview_page_open(struct console *cx, struct web_html *h, enum cview_key title,
                const char *const *done, const enum cview_key *done_keys,
                size_t ndone)
{
	const char *q = http_request_query(cx->req, "done");
	struct cview v;

	cview_of(cx, &v);
	console_page_open(h, cx, cview_s(cx->lang, title));
	/* A style sheet may stand in the body (HTML: body-ok): the views'
	 * rules, after the console's; no inline style (CSP). */
	web_html_raw(h, "<link rel=\"stylesheet\" "
	                "href=\"/console-assets/views.css\">");
	for (size_t i = 0; q != NULL && i < ndone; i++)
		if (strcmp(q, done[i]) == 0)
			cview_status(h, &v, done_keys[i], NULL, 0);
}

int
cview_fail(struct console *cx, int status, enum cview_key key,
           const char *detail)
{
	struct web_html h;
	struct cview v;

	cview_of(cx, &v);
	console_page_open(&h, cx, cview_s(cx->lang, key));
	cview_status(&h, &v, key, detail, 1);
	web_html_raw(&h, "<p><a href=\"");
	web_html_text(&h, cx->base);
	web_html_raw(&h, "/");
	web_html_text(&h, cx->page != NULL ? cx->page : "");
	web_html_raw(&h, "\">");
	web_html_text(&h, cx->page != NULL ? cx->page : cx->base);
	web_html_raw(&h, "</a></p>");
	console_page_close(&h, cx);
	return console_respond(cx, status, &h);
}

int
cview_audit(struct console *cx, const char *action, const char *page,
            const unsigned char *subject, const char *reason)
{
	if (audit_change(&cx->c, action, page, subject, NULL, 1, "GDPR-32",
	                 reason) == VAERN_OK)
		return 0;
	(void)cview_fail(cx, 500, V_err_internal, NULL);
	return 1;
}

int
cview_fail_vault(struct console *cx, enum vaern_err err)
{
	int input = err == VAERN_E_INVALID || err == VAERN_E_NOTFOUND ||
	            err == VAERN_E_EXISTS || err == VAERN_E_LIMIT;

	return cview_fail(cx, cview_status_of(err),
	                  input ? V_err_input : V_err_internal, cx->c.msg.text);
}

int
cview_status_of(enum vaern_err err)
{
	switch (err) {
	case VAERN_E_INVALID: return 400;
	case VAERN_E_NOTFOUND: return 404;
	case VAERN_E_EXISTS: return 409;
	case VAERN_E_DENIED: return 403;
	case VAERN_E_LIMIT: return 413;
	default: return 500;
	}
}

/* GET /console-assets/views.css: the views' rules (cview_css). */
int
console_views_css(struct http_request *req, struct http_response *res,
                  void *app)
{
	(void)req;
	(void)app;
	(void)http_respond_header(res, "Cache-Control", "public, max-age=3600");
	return http_respond_text(res, 200, "text/css; charset=utf-8",
	                         cview_css);
}

const char *
cview_s(enum web_lang lang, enum cview_key key)
{
	/* cview_table is en, da, sv: enum web_lang's order. */
	return cview_table[lang][key];
}

void
cview_word(struct web_html *h, const struct cview *v, enum cview_key key)
{
	web_html_text(h, cview_s(v->lang, key));
}

void
cview_csrf_field(struct web_html *h, const struct cview *v)
{
	web_html_raw(h, "<input type=\"hidden\" name=\"csrf\" value=\"");
	web_html_text(h, v->csrf);
	web_html_raw(h, "\">");
}

void
cview_status(struct web_html *h, const struct cview *v, enum cview_key key,
             const char *detail, int alert)
{
	web_html_raw(h, alert ? "<p class=\"message alert\" role=\"alert\">"
	                      : "<p class=\"message\" role=\"status\">");
	cview_word(h, v, key);
	if (detail != NULL) {
		web_html_raw(h, " ");
		web_html_text(h, detail);
	}
	web_html_raw(h, "</p>");
}

void
cview_day(int64_t t, char out[11])
{
	if (t == INT64_MIN) {
		(void)snprintf(out, 11, "-");
		return;
	}
	cal_format_date(cal_day_of(t), out);
}

void
cview_instant(int64_t t, char out[21])
{
	if (t == INT64_MIN) {
		(void)snprintf(out, 21, "-");
		return;
	}
	cal_format_instant(t, out);
}

void
cview_table_open(struct web_html *h, const struct cview *v,
                 enum cview_key label, const char *id,
                 const enum cview_key *cols, size_t ncols)
{
	/* A region that scrolls sideways on a narrow screen: reachable by
	 * keyboard (WCAG 2.1.1), named for a screen reader. */
	web_html_raw(h, "<div class=\"wide\" tabindex=\"0\" role=\"region\" "
	                "aria-label=\"");
	cview_word(h, v, label);
	web_html_printf(h, "\"><table id=\"%s\"><thead><tr>", id);
	for (size_t i = 0; i < ncols; i++) {
		web_html_raw(h, "<th scope=\"col\">");
		cview_word(h, v, cols[i]);
		web_html_raw(h, "</th>");
	}
	web_html_raw(h, "</tr></thead><tbody>");
}

void
cview_url_text(struct web_html *h, const char *value)
{
	static const char hexd[] = "0123456789ABCDEF";
	char buf[4];

	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~') {
			buf[0] = (char)*p;
			buf[1] = '\0';
		} else {
			buf[0] = '%';
			buf[1] = hexd[*p >> 4];
			buf[2] = hexd[*p & 15];
			buf[3] = '\0';
		}
		web_html_raw(h, buf);
	}
}

/* The views' rules, served after the console's own sheet: the chart
 * beside its table on a wide screen, the clocks' colours (with words
 * beside them: colour is never the only sign). */
const char cview_css[] =
        ".ret-layout{display:flex;flex-wrap:wrap;gap:1.5rem;"
        "align-items:flex-start}"
        ".ret-layout figure{flex:2 1 34rem;margin:0;min-width:20rem}"
        ".ret-tables{flex:1 1 20rem;overflow-x:auto}"
        ".ret-tables table{font-size:0.85rem}"
        ".callouts strong{font-size:1.1rem}"
        ".wide{overflow-x:auto}"
        "td.num,th.num{text-align:right}"
        ".clock-ok{color:#1b5e20;font-weight:bold}"
        ".clock-soon{color:#8a4b00;font-weight:bold}"
        ".clock-late{color:#b00020;font-weight:bold}"
        ".alert{border-left-color:#b00020;background:#fdecee}"
        "fieldset{border:1px solid #767676;margin:0.75rem 0;"
        "padding:0.5rem 1rem}"
        "textarea{font:inherit;width:100%;max-width:40rem}"
        "form.inline{display:inline;margin:0}"
        "form.inline button{margin-top:0}"
        "pre.diff{white-space:pre-wrap;background:#f6f6f6;padding:0.5rem}\n";
