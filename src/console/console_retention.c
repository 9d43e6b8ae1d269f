/*
 * console_retention.c -- the retention view of the staff console (issue
 * 20, point 3): the plan as vaern's own SVG chart (render_chart, shared
 * with `vaern retention chart`) with the counts beside it, the undated
 * and held facts called out, and the legal holds in force (CEK-HOLD-1)
 * with their lift and the form that places one: the same vault calls as
 * `vaern subject hold` and PUT/DELETE /v1/subjects/{id}/holds, audited as
 * the logged-in actor.
 */
#include "console_views.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../vault/vault_console.h"
#include "console_internal.h"

/* One called-out count: key, then the total over the chart's series. */
static void
callout(struct web_html *h, const struct cview *v, enum cview_key key,
        const char *kind, int64_t n)
{
	web_html_raw(h, "<li>");
	cview_word(h, v, key);
	web_html_printf(h, ": <strong data-callout=\"%s\">%lld</strong></li>",
	                kind, (long long)n);
}

static void
holds_table(struct web_html *h, const struct cview *v,
            const struct cview_hold *holds, size_t n, int more)
{
	static const enum cview_key cols[] = {
	        V_col_hold,   V_col_subject,   V_col_category, V_col_review,
	        V_col_placed, V_col_placed_by, V_col_action};
	char day[11];

	if (n == 0) {
		web_html_raw(h, "<p id=\"holds-none\">");
		cview_word(h, v, V_holds_none);
		web_html_raw(h, "</p>");
		return;
	}
	cview_table_open(h, v, V_holds_title, "holds", cols,
	                 sizeof(cols) / sizeof(cols[0]));
	for (size_t i = 0; i < n; i++) {
		const struct cview_hold *x = &holds[i];

		web_html_printf(h, "<tr data-hold=\"%lld\"><td>%lld</td><td>",
		                (long long)x->id, (long long)x->id);
		web_html_text(h, x->subject);
		web_html_raw(h, "</td><td>");
		if (x->category[0] != '\0')
			web_html_text(h, x->category);
		else
			cview_word(h, v, V_all_categories);
		cview_day(x->review_at, day);
		web_html_raw(h, "</td><td data-review=\"");
		web_html_text(h, day);
		web_html_raw(h, "\">");
		web_html_text(h, day);
		cview_day(x->placed_at, day);
		web_html_raw(h, "</td><td>");
		web_html_text(h, day);
		web_html_raw(h, "</td><td>");
		web_html_text(h, x->placed_by);
		/* CEK-HOLD-1: lifting is a POST with the form's token. */
		web_html_raw(h,
		             "</td><td><form class=\"inline\" method=\"post\" "
		             "action=\"");
		web_html_text(h, v->base);
		web_html_raw(h, "/retention/lift\">");
		cview_csrf_field(h, v);
		web_html_raw(h, "<input type=\"hidden\" name=\"subject\" "
		                "value=\"");
		web_html_text(h, x->subject);
		web_html_printf(h,
		                "\"><input type=\"hidden\" name=\"hold\" "
		                "value=\"%lld\"><button type=\"submit\" "
		                "aria-label=\"",
		                (long long)x->id);
		cview_word(h, v, V_hold_lift);
		web_html_printf(h, " %lld\">", (long long)x->id);
		cview_word(h, v, V_hold_lift);
		web_html_raw(h, "</button></form></td></tr>");
	}
	web_html_raw(h, "</tbody></table></div>");
	if (more) {
		web_html_raw(h, "<p>");
		cview_word(h, v, V_holds_more);
		web_html_raw(h, "</p>");
	}
}

static void
hold_form(struct web_html *h, const struct cview *v, const struct policy *p)
{
	web_html_raw(h, "<h3 id=\"place-h\">");
	cview_word(h, v, V_hold_place_title);
	web_html_raw(h, "</h3><form method=\"post\" action=\"");
	web_html_text(h, v->base);
	web_html_raw(h, "/retention/hold\" aria-labelledby=\"place-h\">");
	cview_csrf_field(h, v);
	web_html_raw(h, "<label for=\"hold-subject\">");
	cview_word(h, v, V_hold_subject);
	web_html_raw(h, "</label><input id=\"hold-subject\" name=\"subject\" "
	                "required pattern=\"[0-9a-fA-F]{32}\" maxlength=\"32\" "
	                "autocomplete=\"off\"><label for=\"hold-category\">");
	cview_word(h, v, V_hold_category);
	web_html_raw(h, "</label><select id=\"hold-category\" "
	                "name=\"category\"><option value=\"\">");
	cview_word(h, v, V_all_categories);
	web_html_raw(h, "</option>");
	for (size_t i = 0; p != NULL && i < p->ncategories; i++) {
		web_html_raw(h, "<option>");
		web_html_text(h, p->categories[i].id);
		web_html_raw(h, "</option>");
	}
	web_html_raw(h, "</select><label for=\"hold-reason\">");
	cview_word(h, v, V_hold_reason);
	web_html_raw(h, "</label><input id=\"hold-reason\" name=\"reason\" "
	                "required maxlength=\"512\" autocomplete=\"off\">"
	                "<label for=\"hold-review\">");
	cview_word(h, v, V_hold_review);
	web_html_raw(h, "</label><input id=\"hold-review\" name=\"review\" "
	                "type=\"date\"><div><button type=\"submit\">");
	cview_word(h, v, V_hold_place);
	web_html_raw(h, "</button></div></form>");
}

void
cview_retention(struct web_html *h, const struct cview *v,
                const struct render_chart *c, const char *fragment,
                const struct cview_hold *holds, size_t nholds, int more,
                const struct policy *p)
{
	int64_t undated = 0, restricted = 0, held = 0;

	for (size_t i = 0; i < c->nseries; i++) {
		undated += c->series[i].undated;
		restricted += c->series[i].restricted;
		held += c->series[i].held;
	}
	web_html_raw(h, "<p>");
	cview_word(h, v, V_ret_intro);
	/* The chart and its tables are vaern's own markup (render_chart:
	 * every rule id escaped there). */
	web_html_raw(h, "</p><div class=\"ret-layout\">");
	web_html_raw(h, fragment);
	web_html_raw(h, "</div><section aria-labelledby=\"callouts-h\">"
	                "<h2 id=\"callouts-h\">");
	cview_word(h, v, V_ret_callouts);
	web_html_raw(h, "</h2><ul class=\"callouts\">");
	callout(h, v, V_ret_undated, "undated", undated);
	callout(h, v, V_ret_restricted, "restricted", restricted);
	callout(h, v, V_ret_held, "held", held);
	web_html_raw(h, "</ul></section><section aria-labelledby=\"holds-h\">"
	                "<h2 id=\"holds-h\">");
	cview_word(h, v, V_holds_title);
	web_html_raw(h, "</h2>");
	if (!v->dpo) {
		/* CEK-HOLD-1: holds are the DPO's (roles with audit: true),
		 * as on the API. */
		web_html_raw(h, "<p>");
		cview_word(h, v, V_holds_dpo);
		web_html_raw(h, "</p></section>");
		return;
	}
	holds_table(h, v, holds, nholds, more);
	hold_form(h, v, p);
	web_html_raw(h, "</section>");
}

/* ---- the handlers -------------------------------------------------------- */

struct holds_copy {
	struct cview_hold *holds;
	size_t n;
	int more;
};

static enum vaern_err
hold_copy(void *arg, const struct vault_hold_row *r)
{
	struct holds_copy *hc = arg;
	struct cview_hold *x;

	if (hc->n == CVIEW_HOLDS_MAX) {
		hc->more = 1;
		return VAERN_OK;
	}
	x = &hc->holds[hc->n++];
	memset(x, 0, sizeof(*x));
	x->id = r->id;
	vault_uid_format(r->subject, x->subject);
	(void)snprintf(x->category, sizeof(x->category), "%s",
	               r->category != NULL ? r->category : "");
	x->review_at = r->review_at;
	x->placed_at = r->placed_at;
	(void)snprintf(x->placed_by, sizeof(x->placed_by), "%s", r->placed_by);
	return VAERN_OK;
}

/* GET /console/{controller}/retention: the plan as a chart, the counts,
 * the callouts; the holds in force for the DPO (customer service reads
 * the plan too: counts and rule ids only). */
int
console_retention(struct http_request *req, struct http_response *res,
                  void *app)
{
	static const char *const done[] = {"placed", "lifted"};
	static const enum cview_key done_keys[] = {V_hold_placed,
	                                           V_hold_lifted};
	struct console cx;
	struct vault_chart *chart = NULL;
	struct holds_copy hc = {NULL, 0, 0};
	struct web_html h;
	struct cview v;
	char *fragment = NULL;
	size_t len = 0;
	enum vaern_err err;
	int rc;

	if (console_begin(req, res, app, "retention", 0, &cx))
		return 0;
	cview_of(&cx, &v);
	chart = calloc(1, sizeof(*chart));
	hc.holds = cx.dpo ? calloc(CVIEW_HOLDS_MAX, sizeof(*hc.holds)) : NULL;
	if (chart == NULL || (cx.dpo && hc.holds == NULL)) {
		rc = cview_fail(&cx, 503, V_err_internal, NULL);
		goto done;
	}
	/* The same build as `vaern retention chart` (vault_console.h). */
	err = vault_retention_chart(cx.c.v, cx.controller, clock_now(), chart,
	                            &cx.c.msg);
	if (err == VAERN_OK)
		err = render_chart_fragment(&chart->chart,
		                            (enum render_lang)cx.lang,
		                            &fragment, &len, &cx.c.msg);
	if (err == VAERN_OK && cx.dpo)
		err = vault_holds_in_force(cx.c.v, cx.controller, hold_copy,
		                           &hc, &cx.c.msg);
	if (err != VAERN_OK) {
		rc = cview_fail_vault(&cx, err);
		goto done;
	}
	if (cview_audit(&cx, "console_view", "retention", NULL,
	                cx.dpo ? "retention view: the plan's counts and the "
	                         "legal holds in force"
	                       : "retention view: the plan's counts")) {
		rc = 0;
		goto done;
	}
	cview_page_open(&cx, &h, V_ret_title, done, done_keys, 2);
	cview_retention(&h, &v, &chart->chart, fragment, hc.holds, hc.n,
	                hc.more, cx.c.policy);
	console_page_close(&h, &cx);
	rc = console_respond(&cx, 200, &h);
done:
	free(fragment);
	free(chart);
	free(hc.holds);
	return rc;
}

/* Starts a hold form's POST: the DPO's page (customer service gets the
 * audited 403), the form (keys[1] "subject"), the person's id into uid.
 * 1 once it has answered; *buf is the caller's to free either way. */
static int
hold_begin(struct http_request *req, struct http_response *res, void *app,
           const char *const *keys, const char **values, char **buf,
           struct console *cx, unsigned char uid[VAULT_UID_BYTES])
{
	*buf = NULL;
	if (console_begin(req, res, app, "retention", 1, cx) ||
	    console_form(req, cx, keys, values, buf))
		return 1;
	if (values[1] != NULL &&
	    vault_uid_parse(values[1], uid, &cx->c.msg) == VAERN_OK)
		return 0;
	(void)cview_fail(cx, 400, V_err_input,
	                 "subject: the person's id, 32 hexadecimal digits");
	return 1;
}

/* POST /console/{controller}/retention/hold: csrf, subject, category
 * (blank: all), reason, review (YYYY-MM-DD, optional). CEK-HOLD-1: the
 * DPO's (dpo_only: customer service gets the audited 403). */
int
console_hold_place(struct http_request *req, struct http_response *res,
                   void *app)
{
	static const char *const keys[] = {"csrf",   "subject", "category",
	                                   "reason", "review",  NULL};
	const char *values[6];
	struct console cx;
	unsigned char uid[VAULT_UID_BYTES];
	char *buf = NULL, to[sizeof(cx.base) + 32];
	int64_t review = INT64_MIN, id = 0;
	enum vaern_err err;
	int rc;

	if (hold_begin(req, res, app, keys, values, &buf, &cx, uid)) {
		rc = 0;
		goto done;
	}
	if (values[3] == NULL) {
		rc = cview_fail(&cx, 400, V_err_input,
		                "reason: why the data is held is required");
		goto done;
	}
	if (values[4] != NULL && parse_time(values[4], &review, &cx.c.msg)) {
		rc = cview_fail(&cx, 400, V_err_input,
		                "review: a date, YYYY-MM-DD");
		goto done;
	}
	/* The same call as PUT /v1/subjects/{id}/holds, audited as the
	 * actor in its role (the reason stays sealed, out of the trail). */
	err = vault_hold_place(cx.c.v, cx.controller, uid, values[2], values[3],
	                       review, cx.c.actor.name, cx.c.actor.role, &id,
	                       &cx.c.msg);
	if (err != VAERN_OK) {
		rc = cview_fail_vault(&cx, err);
		goto done;
	}
	(void)snprintf(to, sizeof(to), "%s/retention?done=placed", cx.base);
	rc = web_redirect(res, to);
done:
	web_form_free(buf);
	return rc;
}

/* POST /console/{controller}/retention/lift: csrf, subject, hold. */
int
console_hold_lift(struct http_request *req, struct http_response *res,
                  void *app)
{
	static const char *const keys[] = {"csrf", "subject", "hold", NULL};
	const char *values[4];
	struct console cx;
	unsigned char uid[VAULT_UID_BYTES];
	char *buf = NULL, to[sizeof(cx.base) + 32];
	int64_t id = 0;
	enum vaern_err err;
	int rc;

	if (hold_begin(req, res, app, keys, values, &buf, &cx, uid)) {
		rc = 0;
		goto done;
	}
	if (values[2] == NULL || strlen(values[2]) > 18 ||
	    strspn(values[2], "0123456789") != strlen(values[2]) ||
	    (id = strtoll(values[2], NULL, 10)) < 1) {
		rc = cview_fail(&cx, 400, V_err_input,
		                "hold: the hold's number");
		goto done;
	}
	err = vault_hold_lift(cx.c.v, cx.controller, uid, id, cx.c.actor.name,
	                      cx.c.actor.role, &cx.c.msg);
	if (err != VAERN_OK) {
		rc = cview_fail_vault(&cx, err);
		goto done;
	}
	(void)snprintf(to, sizeof(to), "%s/retention?done=lifted", cx.base);
	rc = web_redirect(res, to);
done:
	web_form_free(buf);
	return rc;
}
