/*
 * console_policies.c -- the policies page of the staff console (issue 20,
 * point 6): the versions of the controller's policy vaern has loaded
 * (vault_policy_history), the privacy notice in da, sv and en as the
 * public page renders it (src/render), and what changed between two
 * versions in words (render_policy_diff). The policy holds no personal
 * data: nothing here is sealed.
 */
#include "console_views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "console_internal.h"

static void
version_select(struct web_html *h, const struct cview *v, const char *name,
               enum cview_key label, const struct cview_version *versions,
               size_t n, const char *chosen)
{
	web_html_printf(h, "<label for=\"d-%s\">", name);
	cview_word(h, v, label);
	web_html_printf(h, "</label><select id=\"d-%s\" name=\"%s\">", name,
	                name);
	for (size_t i = 0; i < n; i++) {
		char at[21];
		int sel = chosen != NULL &&
		          strncmp(versions[i].version, chosen,
		                  strlen(chosen)) == 0 &&
		          strlen(chosen) >= 4;

		cview_instant(versions[i].loaded_at, at);
		web_html_raw(h, "<option value=\"");
		web_html_text(h, versions[i].version);
		web_html_raw(h, sel ? "\" selected>" : "\">");
		web_html_printf(h, "%.12s", versions[i].version);
		web_html_raw(h, " (");
		web_html_text(h, at);
		web_html_raw(h, ")</option>");
	}
	web_html_raw(h, "</select>");
}

void
cview_policies(struct web_html *h, const struct cview *v,
               const struct cview_version *versions, size_t n, const char *from,
               const char *to, const char *diff)
{
	static const enum cview_key cols[] = {V_col_version, V_col_loaded,
	                                      V_col_policy_date, V_col_current,
	                                      V_pol_preview};
	static const char *const langs[] = {"da", "sv", "en"};
	char at[21];

	web_html_raw(h, "<section aria-labelledby=\"ver-h\"><h2 id=\"ver-h\">");
	cview_word(h, v, V_pol_versions);
	web_html_raw(h, "</h2>");
	cview_table_open(h, v, V_pol_versions, "versions", cols,
	                 sizeof(cols) / sizeof(cols[0]));
	for (size_t i = 0; i < n; i++) {
		const struct cview_version *x = &versions[i];

		cview_instant(x->loaded_at, at);
		web_html_raw(h, "<tr data-version=\"");
		web_html_text(h, x->version);
		web_html_printf(h, "\" data-current=\"%d\"><td><code>",
		                x->current);
		web_html_printf(h, "%.12s", x->version);
		web_html_raw(h, "</code></td><td>");
		web_html_text(h, at);
		web_html_raw(h, "</td><td>");
		web_html_text(h, x->policy_date[0] ? x->policy_date : "-");
		web_html_raw(h, "</td><td>");
		if (x->current)
			cview_word(h, v, V_pol_current);
		web_html_raw(h, "</td><td>");
		/* The notice as it reads under this version, in each
		 * language: a page of its own (the public notice's CSP). */
		for (size_t l = 0; l < 3; l++) {
			web_html_raw(h, "<a href=\"");
			web_html_text(h, v->base);
			web_html_raw(h, "/policies/notice?version=");
			web_html_text(h, x->version);
			web_html_printf(h,
			                "&amp;lang=%s\" hreflang=\"%s\" "
			                "lang=\"%s\">%s</a> ",
			                langs[l], langs[l], langs[l], langs[l]);
		}
		web_html_raw(h, "</td></tr>");
	}
	web_html_raw(h, "</tbody></table></div></section>");
	web_html_raw(h, "<section aria-labelledby=\"diff-h\"><h2 "
	                "id=\"diff-h\">");
	cview_word(h, v, V_pol_diff);
	web_html_raw(h, "</h2><form method=\"get\" action=\"");
	web_html_text(h, v->base);
	web_html_raw(h, "/policies\">");
	version_select(h, v, "from", V_pol_from, versions, n,
	               from != NULL ? from
	               : n > 1      ? versions[n - 2].version
	                            : NULL);
	version_select(h, v, "to", V_pol_to, versions, n,
	               to != NULL ? to
	               : n > 0    ? versions[n - 1].version
	                          : NULL);
	web_html_printf(h, "<input type=\"hidden\" name=\"lang\" value=\"%s\">",
	                web_lang_code(v->lang));
	web_html_raw(h, "<div><button type=\"submit\">");
	cview_word(h, v, V_pol_diff_show);
	web_html_raw(h, "</button></div></form>");
	if (diff != NULL) {
		web_html_raw(h, "<pre class=\"diff\" id=\"diff\">");
		web_html_text(h, diff);
		web_html_raw(h, "</pre>");
	} else {
		web_html_raw(h, "<p>");
		cview_word(h, v, V_pol_no_diff);
		web_html_raw(h, "</p>");
	}
	web_html_raw(h, "</section>");
}

/* ---- the handlers -------------------------------------------------------- */

struct versions {
	struct cview_version *list;
	size_t n;
	const char *current;
};

static enum vaern_err
version_one(void *arg, const char *version, int64_t loaded_at,
            const struct policy *p)
{
	struct versions *vs = arg;
	struct cview_version *x;

	if (vs->n == CVIEW_VERSIONS_MAX) {
		/* The newest are kept: drop the oldest listed. */
		memmove(vs->list, vs->list + 1,
		        (CVIEW_VERSIONS_MAX - 1) * sizeof(*vs->list));
		vs->n--;
	}
	x = &vs->list[vs->n++];
	memset(x, 0, sizeof(*x));
	(void)snprintf(x->version, sizeof(x->version), "%s", version);
	x->loaded_at = loaded_at;
	if (p != NULL)
		cal_format_date(p->controller.policy_version, x->policy_date);
	x->current = vs->current != NULL && strcmp(version, vs->current) == 0;
	return VAERN_OK;
}

/* A version of the query: 4 to 64 lowercase hex digits (the vault says
 * so otherwise), or NULL. */
static const char *
version_param(struct http_request *req, const char *key)
{
	const char *q = http_request_query(req, key);

	return q != NULL && q[0] != '\0' ? q : NULL;
}

/* GET /console/{controller}/policies[?from=V&to=V]: the versions, the
 * previews, the diff in the page's language (the DPO's). */
int
console_policies(struct http_request *req, struct http_response *res, void *app)
{
	struct console cx;
	struct versions vs = {NULL, 0, NULL};
	struct policy *pa = NULL, *pb = NULL;
	char found[VAULT_POLICY_VERSION_LEN + 1];
	const char *from = version_param(req, "from");
	const char *to = version_param(req, "to");
	struct web_html h;
	struct cview v;
	char *diff = NULL;
	size_t len = 0;
	enum vaern_err err;
	int rc;

	if (console_begin(req, res, app, "policies", 1, &cx))
		return 0;
	cview_of(&cx, &v);
	if ((vs.list = calloc(CVIEW_VERSIONS_MAX, sizeof(*vs.list))) == NULL)
		return cview_fail(&cx, 503, V_err_internal, NULL);
	vs.current = vault_policy_version(cx.c.v, cx.controller);
	err = vault_policy_history(cx.c.v, cx.controller, version_one, &vs,
	                           &cx.c.msg);
	if (err == VAERN_OK && from != NULL && to != NULL) {
		err = vault_policy_stored(cx.c.v, cx.controller, from, 0, &pa,
		                          found, &cx.c.msg);
		if (err == VAERN_OK)
			err = vault_policy_stored(cx.c.v, cx.controller, to, 0,
			                          &pb, found, &cx.c.msg);
		if (err == VAERN_OK)
			err = render_policy_diff(pa, pb,
			                         (enum render_lang)cx.lang,
			                         &diff, &len, &cx.c.msg);
	}
	if (err != VAERN_OK) {
		rc = cview_fail_vault(&cx, err);
		goto done;
	}
	if (cview_audit(&cx, "console_view", "policies", NULL,
	                diff != NULL ? "policies view: versions and a diff"
	                             : "policies view: versions")) {
		rc = 0;
		goto done;
	}
	cview_page_open(&cx, &h, V_pol_title, NULL, NULL, 0);
	cview_policies(&h, &v, vs.list, vs.n, from, to, diff);
	console_page_close(&h, &cx);
	rc = console_respond(&cx, 200, &h);
done:
	free(diff);
	policy_free(pa);
	policy_free(pb);
	free(vs.list);
	return rc;
}

/* GET /console/{controller}/policies/notice?version=V&lang=L: the notice
 * as the public page renders it under version V (default: in force), a
 * page of its own with the notice's CSP (its style block by hash, no
 * script). */
int
console_policy_notice(struct http_request *req, struct http_response *res,
                      void *app)
{
	struct console cx;
	struct policy *p = NULL;
	char found[VAULT_POLICY_VERSION_LEN + 1], csp[RENDER_CSP_MAX];
	const char *version = version_param(req, "version");
	enum render_lang lang;
	char *text = NULL;
	size_t len = 0;
	enum vaern_err err;
	int rc;

	if (console_begin(req, res, app, "policies", 1, &cx))
		return 0;
	lang = (enum render_lang)cx.lang;
	err = vault_policy_stored(
	        cx.c.v, cx.controller,
	        version != NULL ? version
	                        : vault_policy_version(cx.c.v, cx.controller),
	        0, &p, found, &cx.c.msg);
	if (err == VAERN_OK)
		err = render_notice(p, lang, RENDER_HTML, &text, &len,
		                    &cx.c.msg);
	if (err != VAERN_OK) {
		rc = cview_fail_vault(&cx, err);
		goto done;
	}
	if (cview_audit(&cx, "console_view", "policies", NULL,
	                "notice preview")) {
		rc = 0;
		goto done;
	}
	render_csp(csp);
	(void)http_respond_header(res, "Content-Security-Policy", csp);
	rc = http_respond_body(res, 200, "text/html; charset=utf-8", text, len);
done:
	free(text);
	policy_free(p);
	return rc;
}
