/*
 * console_incidents.c -- the incidents of the staff console (issue 20,
 * point 5; SHOP-BREACH-2, SHOP-BREACH-3, GDPR-33): the cases with their
 * receipt, feedback and 72-hour clocks, a case's page, and the breach
 * register's fields as a form that updates the case through the same
 * vault calls as `vaern incidents triage|receipt|feedback` and the API.
 * The report's texts stay sealed here: the case page shows deadlines and
 * the register, which holds the DPO's own words.
 */
#include "console_views.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vault/vault_incident.h"
#include "console_internal.h"

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void
cell(struct web_html *h, const char *text)
{
	web_html_raw(h, "<td>");
	web_html_text(h, text != NULL ? text : "-");
	web_html_raw(h, "</td>");
}

/* A deadline's cell: sent at, or due (overdue when past). */
static void
deadline_cell(struct web_html *h, const struct cview *v, json_t *c,
              const char *at_key, const char *due_key, const char *kind)
{
	const char *at = str(c, at_key), *due = str(c, due_key);
	int closed = json_is_true(json_object_get(c, "closed"));
	int late = !closed && at == NULL &&
	           json_is_true(json_object_get(c, "overdue")) && due != NULL;

	web_html_printf(h, "<td data-%s=\"%s\"%s>", kind,
	                at != NULL ? "sent"
	                : late     ? "overdue"
	                           : "due",
	                late ? " class=\"clock-late\"" : "");
	if (at != NULL) {
		cview_word(h, v, V_inc_sent);
		web_html_raw(h, " ");
		web_html_text(h, at);
	} else {
		cview_word(h, v, late ? V_inc_overdue : V_inc_due);
		web_html_raw(h, " ");
		web_html_text(h, due != NULL ? due : "-");
	}
	web_html_raw(h, "</td>");
}

/* GDPR Art. 33(1): the 72 hours in colour and in words. */
static void
clock_cell(struct web_html *h, const struct cview *v, json_t *c)
{
	json_t *left = json_object_get(c, "hours_left");
	long long n;

	if (!json_is_integer(left)) {
		web_html_raw(h, "<td data-clock=\"none\">");
		cview_word(h, v, V_inc_no_clock);
		web_html_raw(h, "</td>");
		return;
	}
	n = (long long)json_integer_value(left);
	web_html_printf(h, "<td data-clock=\"%lld\" class=\"%s\">", n,
	                n < 0    ? "clock-late"
	                : n < 24 ? "clock-soon"
	                         : "clock-ok");
	web_html_printf(h, "%lld ", n < 0 ? -n : n);
	cview_word(h, v, n < 0 ? V_inc_hours_late : V_inc_hours_left);
	web_html_raw(h, "</td>");
}

void
cview_incidents(struct web_html *h, const struct cview *v, json_t *list)
{
	static const enum cview_key cols[] = {
	        V_col_case,  V_col_received, V_col_receipt, V_col_feedback,
	        V_col_class, V_col_clock,    V_col_status};
	size_t i;
	json_t *c;

	if (json_array_size(list) == 0) {
		web_html_raw(h, "<p id=\"no-cases\">");
		cview_word(h, v, V_inc_none);
		web_html_raw(h, "</p>");
		return;
	}
	cview_table_open(h, v, V_inc_title, "cases", cols,
	                 sizeof(cols) / sizeof(cols[0]));
	json_array_foreach(list, i, c)
	{
		const char *id = str(c, "case");
		int closed = json_is_true(json_object_get(c, "closed"));

		if (id == NULL)
			continue;
		web_html_raw(h, "<tr data-case=\"");
		web_html_text(h, id);
		web_html_raw(h, "\"><td><a href=\"");
		web_html_text(h, v->base);
		web_html_raw(h, "/incidents/");
		web_html_text(h, id);
		web_html_raw(h, "\">");
		web_html_text(h, id);
		web_html_raw(h, "</a></td>");
		cell(h, str(c, "received_at"));
		deadline_cell(h, v, c, "receipt_at", "receipt_due", "receipt");
		deadline_cell(h, v, c, "feedback_at", "feedback_due",
		              "feedback");
		cell(h, str(c, "classification"));
		clock_cell(h, v, c);
		web_html_raw(h, "<td>");
		cview_word(h, v, closed ? V_inc_closed : V_inc_open);
		web_html_raw(h, "</td></tr>");
	}
	web_html_raw(h, "</tbody></table></div>");
}

/* ---- a case ------------------------------------------------------------- */

const char *const cview_register_keys[] = {
        "csrf",         "classification",  "aware_at",
        "nature_c",     "nature_i",        "nature_a",
        "categories",   "subjects_approx", "records_approx",
        "consequences", "measures_taken",  "measures_proposed",
        "risk",         "notify",          "notify_reason",
        "notified_at",  "delay_reason",    NULL};

enum {
	RK_CSRF,
	RK_CLASS,
	RK_AWARE,
	RK_NC,
	RK_NI,
	RK_NA,
	RK_CATS,
	RK_SUBJ,
	RK_REC,
	RK_CONSEQ,
	RK_TAKEN,
	RK_PROPOSED,
	RK_RISK,
	RK_NOTIFY,
	RK_NREASON,
	RK_NOTIFIED,
	RK_DELAY,
};

/* A whole number >= 0 of up to 12 digits into *n; -1 if not one. */
static int
count_of(const char *s, json_int_t *n)
{
	size_t len = strlen(s);

	if (len == 0 || len > 12 || strspn(s, "0123456789") != len)
		return -1;
	*n = 0;
	for (size_t i = 0; i < len; i++)
		*n = *n * 10 + (s[i] - '0');
	return 0;
}

json_t *
cview_register_patch(const char *const *values, struct vaern_msg *msg)
{
	static const int texts[] = {RK_AWARE,    RK_CONSEQ,  RK_TAKEN,
	                            RK_PROPOSED, RK_NREASON, RK_NOTIFIED,
	                            RK_DELAY,    RK_RISK};
	json_t *patch = json_object(), *nature, *cats;
	const char *const *k = cview_register_keys;

	if (patch == NULL)
		return NULL;
	if (values[RK_CLASS] != NULL &&
	    strcmp(values[RK_CLASS], "unclassified") != 0)
		json_object_set_new(patch, k[RK_CLASS],
		                    json_string(values[RK_CLASS]));
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		json_object_set_new(patch, k[texts[i]],
		                    values[texts[i]] != NULL
		                            ? json_string(values[texts[i]])
		                            : json_null());
	for (int i = RK_SUBJ; i <= RK_REC; i++) {
		json_int_t n;

		if (values[i] == NULL) {
			json_object_set_new(patch, k[i], json_null());
			continue;
		}
		if (count_of(values[i], &n) != 0) {
			(void)vaern_fail(msg, VAERN_E_INVALID,
			                 "'%s' is a whole number >= 0", k[i]);
			json_decref(patch);
			return NULL;
		}
		json_object_set_new(patch, k[i], json_integer(n));
	}
	nature = json_array();
	if (values[RK_NC] != NULL)
		json_array_append_new(nature, json_string("confidentiality"));
	if (values[RK_NI] != NULL)
		json_array_append_new(nature, json_string("integrity"));
	if (values[RK_NA] != NULL)
		json_array_append_new(nature, json_string("availability"));
	json_object_set_new(patch, "nature",
	                    json_array_size(nature) > 0 ? nature : json_null());
	if (json_array_size(nature) == 0)
		json_decref(nature);
	/* Category ids, comma-separated. */
	cats = json_array();
	if (values[RK_CATS] != NULL && cats != NULL) {
		const char *p = values[RK_CATS];

		while (*p != '\0') {
			size_t n = strcspn(p, ",");
			size_t a = 0, b = n;

			while (a < b && (p[a] == ' ' || p[a] == '\t'))
				a++;
			while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
				b--;
			if (b > a)
				json_array_append_new(
				        cats, json_stringn(p + a, b - a));
			p += n;
			if (*p == ',')
				p++;
		}
	}
	json_object_set_new(patch, "categories",
	                    json_array_size(cats) > 0 ? cats : json_null());
	if (json_array_size(cats) == 0)
		json_decref(cats);
	if (values[RK_NOTIFY] == NULL)
		json_object_set_new(patch, "notify", json_null());
	else if (strcmp(values[RK_NOTIFY], "yes") == 0)
		json_object_set_new(patch, "notify", json_true());
	else if (strcmp(values[RK_NOTIFY], "no") == 0)
		json_object_set_new(patch, "notify", json_false());
	else {
		(void)vaern_fail(msg, VAERN_E_INVALID,
		                 "'notify' is yes, no or blank");
		json_decref(patch);
		return NULL;
	}
	return patch;
}

static void
field_text(struct web_html *h, const struct cview *v, const char *name,
           enum cview_key label, const char *value, int area)
{
	web_html_printf(h, "<label for=\"r-%s\">", name);
	cview_word(h, v, label);
	if (area) {
		web_html_printf(h,
		                "</label><textarea id=\"r-%s\" name=\"%s\" "
		                "rows=\"3\" maxlength=\"1024\">",
		                name, name);
		if (value != NULL)
			web_html_text(h, value);
		web_html_raw(h, "</textarea>");
		return;
	}
	web_html_printf(h,
	                "</label><input id=\"r-%s\" name=\"%s\" "
	                "maxlength=\"1024\" value=\"",
	                name, name);
	if (value != NULL)
		web_html_text(h, value);
	web_html_raw(h, "\">");
}

/* A select of words; the one in force selected. */
static void
field_select(struct web_html *h, const struct cview *v, const char *name,
             enum cview_key label, const char *const *values,
             const enum cview_key *words, size_t n, const char *current)
{
	web_html_printf(h, "<label for=\"r-%s\">", name);
	cview_word(h, v, label);
	web_html_printf(h, "</label><select id=\"r-%s\" name=\"%s\">", name,
	                name);
	for (size_t i = 0; i < n; i++) {
		int sel = current != NULL ? strcmp(current, values[i]) == 0
		                          : values[i][0] == '\0';

		web_html_raw(h, "<option value=\"");
		web_html_text(h, values[i]);
		web_html_raw(h, sel ? "\" selected>" : "\">");
		if (words != NULL)
			cview_word(h, v, words[i]);
		else
			web_html_text(h, values[i]);
		web_html_raw(h, "</option>");
	}
	web_html_raw(h, "</select>");
}

static void
register_form(struct web_html *h, const struct cview *v, json_t *c, json_t *reg)
{
	static const char *const classes[] = {"unclassified", "not_breach",
	                                      "weakness",
	                                      "personal_data_breach"};
	static const char *const risks[] = {"", "none", "low", "high"};
	static const enum cview_key risk_words[] = {V_risk_unset, V_risk_none,
	                                            V_risk_low, V_risk_high};
	static const char *const notify[] = {"", "yes", "no"};
	static const enum cview_key notify_words[] = {
	        V_notify_unset, V_notify_yes, V_notify_no};
	static const struct {
		const char *name, *word;
		enum cview_key label;
	} natures[] = {
	        {"nature_c", "confidentiality", V_nature_confidentiality},
	        {"nature_i", "integrity", V_nature_integrity},
	        {"nature_a", "availability", V_nature_availability}};
	json_t *nature = json_object_get(reg, "nature"), *x;
	json_t *notify_v = json_object_get(reg, "notify");
	char num[24];
	size_t i;

	web_html_raw(h, "<section aria-labelledby=\"reg-h\"><h2 id=\"reg-h\">");
	cview_word(h, v, V_inc_register);
	web_html_raw(h, "</h2><form method=\"post\" action=\"");
	web_html_text(h, v->base);
	web_html_raw(h, "/incidents/");
	web_html_text(h, str(c, "case"));
	web_html_raw(h, "/register\">");
	cview_csrf_field(h, v);
	field_select(h, v, "classification", V_inc_classification, classes,
	             NULL, 4, str(c, "classification"));
	field_text(h, v, "aware_at", V_inc_aware_at, str(reg, "aware_at"), 0);
	web_html_raw(h, "<fieldset><legend>");
	cview_word(h, v, V_inc_nature);
	web_html_raw(h, "</legend>");
	for (i = 0; i < 3; i++) {
		int on = 0;
		size_t j;

		json_array_foreach(nature, j, x)
		{
			if (json_string_value(x) != NULL &&
			    strcmp(json_string_value(x), natures[i].word) == 0)
				on = 1;
		}
		web_html_printf(h,
		                "<div><input type=\"checkbox\" id=\"r-%s\" "
		                "name=\"%s\" value=\"1\"%s> <label "
		                "for=\"r-%s\">",
		                natures[i].name, natures[i].name,
		                on ? " checked" : "", natures[i].name);
		cview_word(h, v, natures[i].label);
		web_html_raw(h, "</label></div>");
	}
	web_html_raw(h, "</fieldset>");
	{
		/* The categories, comma-separated again. */
		struct web_html cats;
		json_t *list = json_object_get(reg, "categories");

		web_html_init(&cats, 8192);
		json_array_foreach(list, i, x)
		{
			if (json_string_value(x) == NULL)
				continue;
			if (i > 0)
				web_html_raw(&cats, ",");
			web_html_raw(&cats, json_string_value(x));
		}
		field_text(h, v, "categories", V_inc_categories,
		           cats.failed ? NULL : cats.data, 0);
		web_html_free(&cats);
	}
	for (i = 0; i < 2; i++) {
		const char *key = i ? "records_approx" : "subjects_approx";
		json_t *n = json_object_get(reg, key);

		if (json_is_integer(n))
			(void)snprintf(num, sizeof(num), "%lld",
			               (long long)json_integer_value(n));
		field_text(h, v, key,
		           i ? V_inc_records_approx : V_inc_subjects_approx,
		           json_is_integer(n) ? num : NULL, 0);
	}
	field_text(h, v, "consequences", V_inc_consequences,
	           str(reg, "consequences"), 1);
	field_text(h, v, "measures_taken", V_inc_measures_taken,
	           str(reg, "measures_taken"), 1);
	field_text(h, v, "measures_proposed", V_inc_measures_proposed,
	           str(reg, "measures_proposed"), 1);
	field_select(h, v, "risk", V_inc_risk, risks, risk_words, 4,
	             str(reg, "risk"));
	field_select(h, v, "notify", V_inc_notify, notify, notify_words, 3,
	             json_is_true(notify_v)    ? "yes"
	             : json_is_false(notify_v) ? "no"
	                                       : NULL);
	field_text(h, v, "notify_reason", V_inc_notify_reason,
	           str(reg, "notify_reason"), 1);
	field_text(h, v, "notified_at", V_inc_notified_at,
	           str(reg, "notified_at"), 0);
	field_text(h, v, "delay_reason", V_inc_delay_reason,
	           str(reg, "delay_reason"), 1);
	web_html_raw(h, "<div><button type=\"submit\">");
	cview_word(h, v, V_inc_save);
	web_html_raw(h, "</button></div></form></section>");
}

void
cview_incident(struct web_html *h, const struct cview *v, json_t *c,
               const struct policy *p)
{
	json_t *reg = json_object_get(c, "register");
	int closed = json_is_true(json_object_get(c, "closed"));

	(void)p;
	web_html_raw(h, "<p><a href=\"");
	web_html_text(h, v->base);
	web_html_raw(h, "/incidents\">");
	cview_word(h, v, V_inc_back);
	web_html_raw(h, "</a></p><section aria-labelledby=\"dl-h\"><h2 "
	                "id=\"dl-h\">");
	cview_word(h, v, V_inc_deadlines);
	web_html_raw(h, "</h2><table id=\"deadlines\"><tbody><tr><th "
	                "scope=\"row\">");
	cview_word(h, v, V_col_received);
	web_html_raw(h, "</th>");
	cell(h, str(c, "received_at"));
	web_html_raw(h, "</tr><tr><th scope=\"row\">");
	cview_word(h, v, V_col_receipt);
	web_html_raw(h, "</th>");
	deadline_cell(h, v, c, "receipt_at", "receipt_due", "receipt");
	web_html_raw(h, "</tr><tr><th scope=\"row\">");
	cview_word(h, v, V_col_feedback);
	web_html_raw(h, "</th>");
	deadline_cell(h, v, c, "feedback_at", "feedback_due", "feedback");
	web_html_raw(h, "</tr><tr><th scope=\"row\">");
	cview_word(h, v, V_col_clock);
	web_html_raw(h, "</th>");
	clock_cell(h, v, c);
	web_html_raw(h, "</tr><tr><th scope=\"row\">");
	cview_word(h, v, V_inc_notify_by);
	web_html_raw(h, "</th>");
	cell(h, str(c, "notify_by"));
	web_html_raw(h, "</tr><tr><th scope=\"row\">");
	cview_word(h, v, V_col_status);
	web_html_raw(h, "</th><td>");
	cview_word(h, v, closed ? V_inc_closed : V_inc_open);
	web_html_raw(h, "</td></tr></tbody></table></section>");
	if (!closed) {
		/* SHOP-BREACH-2: the receipt, once; the feedback. */
		if (str(c, "receipt_at") == NULL) {
			web_html_raw(h, "<form method=\"post\" action=\"");
			web_html_text(h, v->base);
			web_html_raw(h, "/incidents/");
			web_html_text(h, str(c, "case"));
			web_html_raw(h, "/receipt\">");
			cview_csrf_field(h, v);
			web_html_raw(h, "<button type=\"submit\">");
			cview_word(h, v, V_inc_receipt_send);
			web_html_raw(h, "</button></form>");
		}
		web_html_raw(h, "<section aria-labelledby=\"fb-h\"><h2 "
		                "id=\"fb-h\">");
		cview_word(h, v, V_inc_feedback_title);
		web_html_raw(h, "</h2><form method=\"post\" action=\"");
		web_html_text(h, v->base);
		web_html_raw(h, "/incidents/");
		web_html_text(h, str(c, "case"));
		web_html_raw(h, "/feedback\">");
		cview_csrf_field(h, v);
		web_html_raw(h, "<label for=\"fb-text\">");
		cview_word(h, v, V_inc_feedback_text);
		web_html_raw(h,
		             "</label><textarea id=\"fb-text\" name=\"text\" "
		             "rows=\"4\" maxlength=\"1024\" required>"
		             "</textarea><div><input type=\"checkbox\" "
		             "id=\"fb-closed\" name=\"closed\" value=\"1\"> "
		             "<label for=\"fb-closed\">");
		cview_word(h, v, V_inc_feedback_closed);
		web_html_raw(h, "</label></div><div><button type=\"submit\">");
		cview_word(h, v, V_inc_feedback_send);
		web_html_raw(h, "</button></div></form></section>");
	}
	register_form(h, v, c, reg);
}

/* ---- the handlers -------------------------------------------------------- */

/* GET /console/{controller}/incidents: every case (the DPO's). */
int
console_incidents(struct http_request *req, struct http_response *res,
                  void *app)
{
	struct console cx;
	struct web_html h;
	struct cview v;
	json_t *list = NULL;
	enum vaern_err err;

	if (console_begin(req, res, app, "incidents", 1, &cx))
		return 0;
	cview_of(&cx, &v);
	err = vault_incident_list(cx.c.v, cx.controller, LONG_MAX, 1, &list,
	                          &cx.c.msg);
	if (err != VAERN_OK)
		return cview_fail_vault(&cx, err);
	if (cview_audit(&cx, "console_view", "incident", NULL,
	                "incidents view: cases, deadlines, clocks")) {
		json_decref(list);
		return 0;
	}
	cview_page_open(&cx, &h, V_inc_title, NULL, NULL, 0);
	cview_incidents(&h, &v, list);
	console_page_close(&h, &cx);
	json_decref(list);
	return console_respond(&cx, 200, &h);
}

/* GET /console/{controller}/incidents/{case}: a case, its register. */
int
console_incident(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const done[] = {"saved", "receipt", "feedback"};
	static const enum cview_key done_keys[] = {
	        V_inc_saved, V_inc_receipt_done, V_inc_feedback_done};
	struct console cx;
	struct vault_request_actor who;
	struct web_html h;
	struct cview v;
	json_t *c = NULL;
	enum vaern_err err;

	if (console_begin(req, res, app, "incidents", 1, &cx))
		return 0;
	cview_of(&cx, &v);
	who.name = cx.c.actor.name;
	who.role = cx.c.actor.role;
	/* Deadlines and the register; the report's texts stay sealed. */
	err = vault_incident_get(cx.c.v, cx.controller,
	                         http_request_param(req, "case"), 0, &who, &c,
	                         &cx.c.msg);
	if (err != VAERN_OK)
		return cview_fail_vault(&cx, err);
	if (cview_audit(&cx, "console_view", "incident", NULL,
	                "incident case view: deadlines and register")) {
		json_decref(c);
		return 0;
	}
	cview_page_open(&cx, &h, V_inc_case_title, done, done_keys, 3);
	web_html_raw(&h, "<p class=\"case-id\"><strong>");
	web_html_text(&h, json_string_value(json_object_get(c, "case")));
	web_html_raw(&h, "</strong></p>");
	cview_incident(&h, &v, c, cx.c.policy);
	console_page_close(&h, &cx);
	json_decref(c);
	return console_respond(&cx, 200, &h);
}

/* POST /console/{controller}/incidents/{case}/{action}: register (the
 * register's fields: vault_incident_triage, as PATCH
 * /v1/incidents/{case} and `vaern incidents triage`), receipt, feedback
 * (SHOP-BREACH-2). */
int
console_incident_post(struct http_request *req, struct http_response *res,
                      void *app)
{
	static const char *const plain[] = {"csrf", NULL};
	static const char *const fb[] = {"csrf", "text", "closed", NULL};
	const char *action = http_request_param(req, "action");
	const char *id = http_request_param(req, "case");
	const char *values[20];
	struct console cx;
	struct vault_request_actor who;
	json_t *patch = NULL, *out = NULL;
	char *buf = NULL, to[sizeof(cx.base) + 64];
	enum vaern_err err;
	const char *done;
	int rc;

	if (console_begin(req, res, app, "incidents", 1, &cx))
		return 0;
	who.name = cx.c.actor.name;
	who.role = cx.c.actor.role;
	if (action == NULL || id == NULL ||
	    (strcmp(action, "register") != 0 &&
	     strcmp(action, "receipt") != 0 && strcmp(action, "feedback") != 0))
		return cview_fail(&cx, 404, V_err_input,
		                  "action: register, receipt or feedback");
	if (console_form(req, &cx,
	                 strcmp(action, "register") == 0   ? cview_register_keys
	                 : strcmp(action, "feedback") == 0 ? fb
	                                                   : plain,
	                 values, &buf)) {
		web_form_free(buf);
		return 0;
	}
	if (strcmp(action, "register") == 0) {
		if ((patch = cview_register_patch(values, &cx.c.msg)) == NULL) {
			rc = cview_fail(&cx, 400, V_err_input, cx.c.msg.text);
			goto end;
		}
		err = vault_incident_triage(cx.c.v, cx.controller, id, patch,
		                            &who, &out, &cx.c.msg);
		done = "saved";
	} else if (strcmp(action, "receipt") == 0) {
		err = vault_incident_receipt(cx.c.v, cx.controller, id, &who,
		                             &out, &cx.c.msg);
		done = "receipt";
	} else {
		if (values[1] == NULL) {
			rc = cview_fail(&cx, 400, V_err_input,
			                "text: what was done is required");
			goto end;
		}
		err = vault_incident_feedback(cx.c.v, cx.controller, id,
		                              values[1], values[2] != NULL,
		                              &who, &out, &cx.c.msg);
		done = "feedback";
	}
	if (err != VAERN_OK) {
		rc = cview_fail_vault(&cx, err);
		goto end;
	}
	(void)snprintf(to, sizeof(to), "%s/incidents/%s?done=%s", cx.base,
	               json_string_value(json_object_get(out, "case")) != NULL
	                       ? json_string_value(json_object_get(out, "case"))
	                       : id,
	               done);
	rc = web_redirect(res, to);
end:
	json_decref(patch);
	json_decref(out);
	web_form_free(buf);
	return rc;
}
