/*
 * console_queue.c -- the request queue page (issue 20, point 2; GDPR-12):
 * open rights requests by due day with the days left in colour, the
 * filters of GET /v1/requests as a GET form, the search by identifier
 * (a POST form: the value never in a URL), and the DPO's page of the
 * staff's console access (lockouts lifted there).
 */
#include "console_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/api_console.h"
#include "../calendar/calendar.h"
#include "../rights/rights.h"

#define STAFF_LIST_MAX 256 /* actors the staff page lists */

/* A <select> of names (NULL-terminated by count) with "any" first. */
static void
select_names(struct web_html *h, struct console *cx, const char *id,
             enum console_key label, const char *(*name)(int), int count,
             const char *chosen)
{
	web_html_printf(h, "<label for=\"%s\">", id);
	web_html_text(h, console_s(cx, label));
	web_html_printf(h, "</label><select id=\"%s\" name=\"%s\">", id, id);
	web_html_raw(h, "<option value=\"\">");
	web_html_text(h, console_s(cx, C_queue_any));
	web_html_raw(h, "</option>");
	for (int i = 0; i < count; i++) {
		const char *n = name(i);

		web_html_raw(h, "<option");
		if (chosen != NULL && strcmp(chosen, n) == 0)
			web_html_raw(h, " selected");
		web_html_raw(h, ">");
		web_html_text(h, n);
		web_html_raw(h, "</option>");
	}
	web_html_raw(h, "</select>");
}

static const char *
type_name(int i)
{
	return rights_type_name((enum rights_type)i);
}

static const char *
status_name(int i)
{
	return rights_status_name((enum rights_status)i);
}

/* A query parameter, NULL when absent or empty (a form's blank field). */
static const char *
query(struct http_request *req, const char *name)
{
	const char *v = http_request_query(req, name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The search form: an identifier category of the policy and a value. */
static void
search_form(struct web_html *h, struct console *cx)
{
	const struct policy *pol = cx->c.policy;

	web_html_raw(h, "<form method=\"post\" class=\"filters\" "
	                "role=\"search\" action=\"");
	web_html_text(h, cx->base);
	web_html_raw(h, "/search\">");
	console_csrf_field(h, cx);
	web_html_raw(h, "<div><label for=\"category\">");
	web_html_text(h, console_s(cx, C_search_category));
	web_html_raw(h, "</label><select id=\"category\" name=\"category\">"
	                "<option value=\"request\">");
	web_html_text(h, console_s(cx, C_search_request_id));
	web_html_raw(h, "</option>");
	for (size_t i = 0; i < pol->ncategories; i++) {
		if (pol->categories[i].identifier == ID_NONE)
			continue;
		web_html_raw(h, "<option value=\"");
		web_html_text(h, pol->categories[i].id);
		web_html_raw(h, "\">");
		web_html_text(h, pol->categories[i].description != NULL
		                         ? pol->categories[i].description
		                         : pol->categories[i].id);
		web_html_raw(h, "</option>");
	}
	web_html_raw(h, "</select></div><div><label for=\"value\">");
	web_html_text(h, console_s(cx, C_search_value));
	web_html_raw(h, "</label><input id=\"value\" name=\"value\" required "
	                "maxlength=\"256\" autocomplete=\"off\"></div>"
	                "<div><button type=\"submit\">");
	web_html_text(h, console_s(cx, C_search_submit));
	web_html_raw(h, "</button></div></form>");
}

/* A filter's checkbox (value "true"), checked as the query has it. */
static void
checkbox(struct web_html *h, struct console *cx, const char *name,
         enum console_key label)
{
	const char *now = query(cx->req, name);

	web_html_printf(h,
	                "<label><input type=\"checkbox\" name=\"%s\" "
	                "value=\"true\"%s> ",
	                name,
	                now != NULL && strcmp(now, "true") == 0 ? " checked"
	                                                        : "");
	web_html_text(h, console_s(cx, label));
	web_html_raw(h, "</label>");
}

/* The queue's filter form, as GET /v1/requests spells it. */
static void
filter_form(struct web_html *h, struct console *cx)
{
	const char *due = query(cx->req, "due_within");

	web_html_raw(h, "<form method=\"get\" class=\"filters\" action=\"");
	web_html_text(h, cx->base);
	web_html_raw(h, "/requests\"><div>");
	select_names(h, cx, "type", C_queue_type, type_name, RIGHTS_TYPE_COUNT_,
	             query(cx->req, "type"));
	web_html_raw(h, "</div><div>");
	select_names(h, cx, "status", C_queue_status, status_name,
	             RIGHTS_STATUS_COUNT_, query(cx->req, "status"));
	web_html_raw(h, "</div><div><label for=\"due_within\">");
	web_html_text(h, console_s(cx, C_queue_due_within));
	web_html_raw(h, "</label><input id=\"due_within\" name=\"due_within\" "
	                "inputmode=\"numeric\" maxlength=\"6\" size=\"6\"");
	if (due != NULL) {
		web_html_raw(h, " value=\"");
		web_html_text(h, due);
		web_html_raw(h, "\"");
	}
	web_html_raw(h, "></div><div>");
	checkbox(h, cx, "overdue", C_queue_overdue);
	checkbox(h, cx, "all", C_queue_all);
	web_html_raw(h, "</div><div><button type=\"submit\">");
	web_html_text(h, console_s(cx, C_queue_filter));
	web_html_raw(h, "</button></div></form>");
}

/* GET /console/{controller}/requests?type=&status=&due_within=&overdue=
 * &all=: the queue (GDPR-12), both roles. */
int
console_queue(struct http_request *req, struct http_response *res, void *app)
{
	struct console cx;
	struct vault_request_filter f;
	struct web_html h;
	char link[sizeof(cx.base) + 16], *table = NULL;
	size_t len = 0;
	long today = clock_today();
	enum vaern_err err;
	int status = 200;

	if (console_begin(req, res, app, "requests", 0, &cx))
		return 0;
	console_page_open(&h, &cx, console_s(&cx, C_queue_title));
	filter_form(&h, &cx);
	search_form(&h, &cx);
	err = vault_request_filter_parse(
	        query(req, "type"), query(req, "status"),
	        query(req, "due_within"), query(req, "overdue"),
	        query(req, "all"), today, &f, &cx.c.msg);
	if (err == VAERN_OK) {
		(void)snprintf(link, sizeof(link), "%s/requests", cx.base);
		err = api_console_queue_table(cx.c.v, cx.controller, &f, today,
		                              (enum render_lang)cx.lang, link,
		                              &table, &len, &cx.c.msg);
	}
	if (err == VAERN_OK) {
		web_html_raw(&h, table);
	} else {
		/* A bad filter names its parameter, never more. */
		status = err == VAERN_E_INVALID ? 400 : 500;
		web_html_raw(&h, "<p class=\"error\" role=\"alert\">");
		web_html_text(&h,
		              console_s(&cx, status == 400 ? C_err_input
		                                           : C_err_internal));
		if (status == 400) {
			web_html_raw(&h, " ");
			web_html_text(&h, cx.c.msg.text);
		}
		web_html_raw(&h, "</p>");
	}
	free(table);
	console_page_close(&h, &cx);
	return console_respond(&cx, status, &h);
}

/* The requests of one subject, for the search's answer. */
struct found {
	const unsigned char *uid;
	struct web_html *h;
	struct console *cx;
	long today;
	size_t n;
};

static enum vaern_err
found_row(void *arg, const struct vault_request *r)
{
	struct found *f = arg;
	char day[11];

	if (sodium_memcmp(r->subject, f->uid, VAULT_UID_BYTES) != 0)
		return VAERN_OK;
	f->n++;
	web_html_raw(f->h, "<li><a href=\"");
	web_html_text(f->h, f->cx->base);
	web_html_raw(f->h, "/requests/");
	web_html_text(f->h, r->id);
	web_html_raw(f->h, "\">");
	web_html_text(f->h, r->id);
	web_html_raw(f->h, "</a> ");
	web_html_text(f->h, rights_type_name(r->type));
	web_html_raw(f->h, ", ");
	web_html_text(f->h, rights_status_name(r->status));
	cal_format_date(r->due, day);
	web_html_printf(f->h, ", %s</li>", day);
	return VAERN_OK;
}

/* POST /console/{controller}/search: category (an identifier category of
 * the policy, or "request" for a request's id) and value. The value is
 * personal data: it stays in the body, is never echoed, logged or
 * audited; the audit entry names the category and what was found. */
int
console_search(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"csrf", "category", "value", NULL};
	const char *values[4];
	struct console cx;
	struct web_html h;
	struct vault_identity id;
	struct vault_request r;
	struct vault_request_filter f;
	unsigned char uid[VAULT_UID_BYTES];
	struct found found;
	char *buf = NULL, why[160], to[sizeof(cx.base) + 64];
	enum vaern_err err;
	int rc, status = 200;

	if (console_begin(req, res, app, "requests", 0, &cx))
		return 0;
	if (console_form(req, &cx, keys, values, &buf)) {
		rc = 0;
		goto done;
	}
	if (values[1] == NULL || values[2] == NULL) {
		rc = console_message(&cx, 400, C_err_input, "category, value");
		goto done;
	}
	if (strcmp(values[1], "request") == 0) {
		err = vault_request_get(cx.c.v, cx.controller, values[2], &r,
		                        &cx.c.msg);
		if (err == VAERN_OK) {
			(void)snprintf(to, sizeof(to), "%s/requests/%s",
			               cx.base, r.id);
			rc = web_redirect(res, to);
		} else if (err == VAERN_E_NOTFOUND || err == VAERN_E_INVALID) {
			rc = console_message(&cx, 404, C_search_none, NULL);
		} else {
			rc = console_message(&cx, 500, C_err_internal, NULL);
		}
		goto done;
	}
	id.category = values[1];
	id.value = values[2];
	err = vault_subject_find_identities(cx.c.v, cx.controller, &id, 1, uid,
	                                    &cx.c.msg);
	if (err == VAERN_E_INVALID) {
		/* The message names the category, never the value. */
		rc = console_message(&cx, 400, C_err_input, cx.c.msg.text);
		goto done;
	}
	if (err != VAERN_OK && err != VAERN_E_NOTFOUND) {
		rc = console_message(&cx, 500, C_err_internal, NULL);
		goto done;
	}
	console_page_open(&h, &cx, console_s(&cx, C_search_title));
	memset(&found, 0, sizeof(found));
	if (err == VAERN_OK) {
		found.uid = uid;
		found.h = &h;
		found.cx = &cx;
		found.today = clock_today();
		memset(&f, 0, sizeof(f));
		f.due_by = LONG_MAX;
		f.type = -1;
		f.status = -1;
		web_html_raw(&h, "<ul id=\"found\">");
		err = vault_request_queue(cx.c.v, cx.controller, &f, found_row,
		                          &found, &cx.c.msg);
		web_html_raw(&h, "</ul>");
	} else {
		err = VAERN_OK;
	}
	(void)snprintf(why, sizeof(why),
	               "a search by identifier (category %.64s): %s, %zu "
	               "request(s)",
	               values[1], found.uid != NULL ? "found" : "nobody",
	               found.n);
	if (err == VAERN_OK)
		err = audit_change(&cx.c, "console_search", NULL, found.uid,
		                   values[1], 1, "GDPR-32", why);
	if (err != VAERN_OK) {
		web_html_free(&h);
		rc = console_message(&cx, 500, C_err_internal, NULL);
		goto done;
	}
	if (found.n == 0) {
		console_note(&h, &cx, 0, C_search_none, NULL);
		status = 404;
	}
	web_html_raw(&h, "<p><a href=\"");
	web_html_text(&h, cx.base);
	web_html_raw(&h, "/requests\">");
	web_html_text(&h, console_s(&cx, C_nav_requests));
	web_html_raw(&h, "</a></p>");
	console_page_close(&h, &cx);
	rc = console_respond(&cx, status, &h);
done:
	web_form_free(buf);
	return rc;
}

/* The actors of the staff page. */
struct staff_list {
	size_t n;
	struct {
		char name[POLICY_NAME_MAX + 1];
		char role[POLICY_NAME_MAX + 1];
	} a[STAFF_LIST_MAX];
};

static enum vaern_err
staff_one(void *arg, const char *name, const char *role, int64_t created_at,
          int64_t revoked_at)
{
	struct staff_list *l = arg;

	(void)created_at;
	if (revoked_at != INT64_MIN || l->n == STAFF_LIST_MAX)
		return VAERN_OK;
	(void)snprintf(l->a[l->n].name, sizeof(l->a[l->n].name), "%s", name);
	(void)snprintf(l->a[l->n].role, sizeof(l->a[l->n].role), "%s", role);
	l->n++;
	return VAERN_OK;
}

/* The staff page's table: who has console access, who is locked. */
static int
staff_page(struct console *cx, int status, enum console_key note)
{
	static const enum console_key heads[] = {
	        C_staff_name, C_staff_role, C_staff_console, C_staff_locked};
	struct staff_list *l = calloc(1, sizeof(*l));
	struct web_html h;
	enum vaern_err err;

	if (l == NULL)
		return console_message(cx, 500, C_err_internal, NULL);
	err = vault_actor_foreach(cx->c.v, cx->controller, staff_one, l,
	                          &cx->c.msg);
	if (err != VAERN_OK) {
		free(l);
		return console_message(cx, 500, C_err_internal, NULL);
	}
	console_page_open(&h, cx, console_s(cx, C_nav_staff));
	if (note != C__COUNT)
		console_note(&h, cx, 0, note, NULL);
	console_table_open(&h, cx, "staff", heads,
	                   sizeof(heads) / sizeof(heads[0]));
	for (size_t i = 0; i < l->n && err == VAERN_OK; i++) {
		int enrolled = 0;
		int64_t locked = INT64_MIN, failures = 0;
		char until[24];

		err = vault_console_status(cx->c.v, cx->controller,
		                           l->a[i].name, &enrolled, &locked,
		                           &failures, &cx->c.msg);
		web_html_raw(&h, "<tr><td>");
		web_html_text(&h, l->a[i].name);
		web_html_raw(&h, "</td><td>");
		web_html_text(&h, l->a[i].role);
		web_html_raw(&h, "</td><td>");
		web_html_text(&h, console_s(cx, enrolled ? C_yes : C_no));
		if (enrolled)
			web_html_printf(&h, " (%lld)", (long long)failures);
		web_html_raw(&h, "</td><td>");
		if (enrolled && (locked != INT64_MIN || failures > 0)) {
			console_instant(locked, until);
			web_html_text(&h, until);
			web_html_raw(&h, "<form method=\"post\" action=\"");
			web_html_text(&h, cx->base);
			web_html_raw(&h, "/staff\">");
			console_csrf_field(&h, cx);
			web_html_raw(&h, "<input type=\"hidden\" name=\"name\" "
			                 "value=\"");
			web_html_text(&h, l->a[i].name);
			web_html_raw(&h, "\"><button type=\"submit\">");
			web_html_text(&h, console_s(cx, C_staff_unlock));
			web_html_raw(&h, "</button></form>");
		} else {
			web_html_raw(&h, "-");
		}
		web_html_raw(&h, "</td></tr>");
	}
	web_html_raw(&h, "</tbody></table>");
	free(l);
	return console_page_send(cx, &h, status, err);
}

/* GET /console/{controller}/staff (DPO only): console access and
 * lockouts; POST: lift one actor's lockout (name). */
int
console_staff(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"csrf", "name", NULL};
	const char *values[3];
	struct console cx;
	char *buf = NULL;
	enum vaern_err err;
	int rc;

	if (console_begin(req, res, app, "staff", 1, &cx))
		return 0;
	if (strcmp(http_request_method(req), "POST") != 0)
		return staff_page(&cx, 200, C__COUNT);
	if (console_form(req, &cx, keys, values, &buf)) {
		rc = 0;
		goto done;
	}
	if (values[1] == NULL) {
		rc = console_message(&cx, 400, C_err_input, "name");
		goto done;
	}
	/* Audited as console_unlock by this actor (vault_console_unlock). */
	err = vault_console_unlock(cx.c.v, cx.controller, values[1],
	                           cx.c.actor.name, cx.c.actor.role, &cx.c.msg);
	if (err == VAERN_E_NOTFOUND)
		rc = console_message(&cx, 404, C_err_input, cx.c.msg.text);
	else if (err != VAERN_OK)
		rc = console_message(&cx, 500, C_err_internal, NULL);
	else
		rc = staff_page(&cx, 200, C_staff_unlocked);
done:
	web_form_free(buf);
	return rc;
}
