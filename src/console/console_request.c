/*
 * console_request.c -- a rights request's page in the staff console
 * (issue 20, point 2): its facts, days left, history, and the actions
 * its state allows: send a code, verify by code or attestation
 * (AOPT-ACCESS-1), extend with a reason (GDPR-12), execute the right
 * (GDPR-15/20 report, 16, 17, 18, 21, 7(3)), complete, refuse with a
 * reason. Each action calls the same vault function as the API and the
 * CLI, with the session's actor as who: the vault checks the request's
 * state and audits the change as that actor.
 */
#include "console_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../rights/rights.h"

/* The actions, by the path's {action}. operational: a right executed on
 * the subject's data, for a role that processes it (not the DPO, as the
 * API: AURA-SHARE-1). */
static const struct action {
	const char *id;
	enum console_key label;
	int operational;
} actions[] = {
        {"code", C_act_code, 0},         {"verify", C_act_verify, 0},
        {"attest", C_act_attest, 0},     {"extend", C_act_extend, 0},
        {"start", C_act_start, 0},       {"erase", C_act_erase, 1},
        {"rectify", C_act_rectify, 1},   {"restrict", C_act_restrict, 1},
        {"lift", C_act_lift, 1},         {"object", C_act_object, 1},
        {"withdraw", C_act_withdraw, 1}, {"complete", C_act_complete, 0},
        {"refuse", C_act_refuse, 0},
};
#define NACTIONS (sizeof(actions) / sizeof(actions[0]))

static const struct action *
action_of(const char *id)
{
	for (size_t i = 0; id != NULL && i < NACTIONS; i++)
		if (strcmp(actions[i].id, id) == 0)
			return &actions[i];
	return NULL;
}

static int
is_open(const struct vault_request *r)
{
	return r->status != RIGHTS_COMPLETED && r->status != RIGHTS_REFUSED &&
	       r->status != RIGHTS_CANCELLED;
}

/* ---- the page ----------------------------------------------------------- */

static void
row(struct web_html *h, struct console *cx, enum console_key key,
    const char *value)
{
	web_html_raw(h, "<tr><th scope=\"row\">");
	web_html_text(h, console_s(cx, key));
	web_html_raw(h, "</th><td>");
	web_html_text(h, value);
	web_html_raw(h, "</td></tr>");
}

struct history {
	struct web_html *h;
};

static enum vaern_err
history_row(void *arg, const struct vault_transition *t)
{
	struct web_html *h = ((struct history *)arg)->h;
	char at[24];

	console_instant(t->at, at);
	web_html_raw(h, "<tr><td>");
	web_html_text(h, at);
	web_html_raw(h, "</td><td>");
	web_html_text(h, t->from != NULL ? t->from : "-");
	web_html_raw(h, "</td><td>");
	web_html_text(h, t->to);
	web_html_raw(h, "</td><td>");
	web_html_text(h, t->actor);
	web_html_raw(h, "</td><td>");
	web_html_text(h, t->reason != NULL ? t->reason : "");
	web_html_raw(h, "</td></tr>");
	return VAERN_OK;
}

/* An action's form: opens it (the caller adds fields and closes with
 * form_end). */
static void
form_start(struct web_html *h, struct console *cx,
           const struct vault_request *r, const struct action *a)
{
	web_html_printf(h, "<form method=\"post\" class=\"act-%s\" action=\"",
	                a->id);
	web_html_text(h, cx->base);
	web_html_raw(h, "/requests/");
	web_html_text(h, r->id);
	web_html_printf(h, "/%s\"><fieldset><legend>", a->id);
	web_html_text(h, console_s(cx, a->label));
	web_html_raw(h, "</legend>");
	console_csrf_field(h, cx);
}

static void
form_end(struct web_html *h, struct console *cx, const struct action *a)
{
	web_html_raw(h, "<button type=\"submit\">");
	web_html_text(h, console_s(cx, a->label));
	web_html_raw(h, "</button></fieldset></form>");
}

/* A labelled input of an action's form (id made unique by the action). */
static void
field(struct web_html *h, struct console *cx, const struct action *a,
      const char *name, enum console_key label, const char *attrs)
{
	web_html_printf(h, "<label for=\"%s-%s\">", a->id, name);
	web_html_text(h, console_s(cx, label));
	web_html_printf(h, "</label><input id=\"%s-%s\" name=\"%s\" %s>", a->id,
	                name, name, attrs);
}

static void
complete_box(struct web_html *h, struct console *cx, const struct action *a)
{
	web_html_printf(h,
	                "<label><input type=\"checkbox\" name=\"complete\" "
	                "value=\"1\" id=\"%s-complete\"> ",
	                a->id);
	web_html_text(h, console_s(cx, C_f_complete));
	web_html_raw(h, "</label>");
}

/* ---- rectification: the facts the request concerns (GDPR-16) ----------- */

/* 1 if category id is in scope (category ids, comma-separated; "": all
 * the person's data), as the vault reads a request's scope. */
static int
scope_has(const char *scope, const char *id)
{
	size_t n = strlen(id);

	if (scope[0] == '\0')
		return 1;
	for (const char *p = scope;;) {
		const char *end = strchr(p, ',');
		size_t k = end != NULL ? (size_t)(end - p) : strlen(p);

		if (k == n && memcmp(p, id, n) == 0)
			return 1;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

/* The facts' walk: the page, and the categories released so far. */
struct rect_walk {
	struct web_html *h;
	struct console *cx;
	const struct vault_request *r;
	unsigned char *released; /* per category index: listed already */
	size_t nfacts;           /* facts listed */
};

/* One released fact: its id, category, value (escaped; personal data,
 * only in the page, whose buffer is wiped) and a form for its corrected
 * value. */
static enum vaern_err
rect_fact(void *arg, const struct vault_fact_out *f)
{
	struct rect_walk *w = arg;
	struct web_html *h = w->h;
	struct console *cx = w->cx;
	const struct action *a = action_of("rectify");
	long ci = policy_category_index(cx->c.policy, f->category);
	long long id = (long long)f->id;

	if (ci >= 0)
		w->released[ci] = 1;
	w->nfacts++;
	web_html_printf(h, "<tr id=\"fact-%lld\"><td>%lld</td><td>", id, id);
	web_html_text(h, f->category);
	web_html_raw(h, "</td><td class=\"value\">");
	web_html_text(h, f->value);
	web_html_raw(h, "</td><td>");
	web_html_raw(h, "<form method=\"post\" class=\"act-rectify\" "
	                "action=\"");
	web_html_text(h, cx->base);
	web_html_raw(h, "/requests/");
	web_html_text(h, w->r->id);
	web_html_raw(h, "/rectify\">");
	console_csrf_field(h, cx);
	web_html_printf(h,
	                "<input type=\"hidden\" name=\"fact\" value=\"%lld\">"
	                "<label for=\"rectify-value-%lld\">",
	                id, id);
	web_html_text(h, console_s(cx, C_f_value));
	web_html_printf(h,
	                "</label><input id=\"rectify-value-%lld\" "
	                "name=\"value\" required maxlength=\"1000\" "
	                "autocomplete=\"off\"><label><input type=\"checkbox\" "
	                "name=\"complete\" value=\"1\" "
	                "id=\"rectify-complete-%lld\"> ",
	                id, id);
	web_html_text(h, console_s(cx, C_f_complete));
	web_html_raw(h, "</label><button type=\"submit\">");
	web_html_text(h, console_s(cx, a->label));
	web_html_raw(h, "</button></form></td></tr>");
	return VAERN_OK;
}

/* A note under the facts (console_note's, without its id: the page's
 * own note may be above). */
static void
rect_note(struct web_html *h, struct console *cx, int error,
          enum console_key key, const char *detail)
{
	web_html_raw(h, error ? "<p class=\"error\" role=\"alert\">"
	                      : "<p class=\"message\">");
	web_html_text(h, console_s(cx, key));
	if (detail != NULL) {
		web_html_raw(h, " ");
		web_html_text(h, detail);
	}
	web_html_raw(h, "</p>");
}

/*
 * The person's facts of the categories the request concerns, each with a
 * form for its corrected value. They are read as the API's rectification
 * flow reads them (GET /v1/subjects/{id}/facts?purpose=P&categories=...):
 * through the gate as the session's actor in its role (AURA-SHARE-1),
 * for the role's purposes in the policy's order, each asked for the
 * request's categories it uses that an earlier purpose has not released;
 * every read is decided and audited by vault_subject_access before a
 * value is opened (GDPR-32). A refused read is shown with the gate's
 * reason (ids and rules only).
 */
static void
rectify_facts(struct web_html *h, struct console *cx,
              const struct vault_request *r, const char *scope)
{
	static const enum console_key heads[] = {C_h_fact, C_h_category,
	                                         C_h_value, C_act_rectify};
	const struct policy *p = cx->c.policy;
	long ri = policy_role_index(p, cx->c.actor.role);
	struct rect_walk w = {h, cx, r, NULL, 0};
	const char **cats = NULL;
	struct gate_decision d;
	struct vault_access acc;
	struct vaern_msg m = {{0}};
	enum vaern_err err = VAERN_OK;
	char why[640] = "";

	web_html_raw(h, "<div class=\"rectify\"><h3>");
	web_html_text(h, console_s(cx, C_rect_facts));
	web_html_raw(h, "</h3><p>");
	web_html_text(h, console_s(cx, C_rect_intro));
	web_html_raw(h, "</p>");
	if (ri < 0 || (w.released = calloc(p->ncategories + 1, 1)) == NULL ||
	    (cats = calloc(p->ncategories + 1, sizeof(*cats))) == NULL) {
		rect_note(h, cx, 1, C_err_internal, NULL);
		goto done;
	}
	console_table_open(h, cx, "facts", heads,
	                   sizeof(heads) / sizeof(heads[0]));
	for (size_t k = 0; k < p->roles[ri].npurposes; k++) {
		const struct policy_purpose *pu =
		        &p->purposes[p->roles[ri].purposes[k]];
		size_t n = 0;

		for (size_t i = 0; i < pu->ncategories; i++) {
			size_t ci = pu->categories[i];

			if (!w.released[ci] &&
			    scope_has(scope, p->categories[ci].id))
				cats[n++] = p->categories[ci].id;
		}
		if (n == 0)
			continue;
		memset(&acc, 0, sizeof(acc));
		acc.actor = &cx->c.actor;
		acc.purpose = pu->id;
		acc.action = GATE_READ;
		acc.categories = cats;
		acc.ncategories = n;
		err = vault_subject_access(cx->c.v, r->subject, &acc, rect_fact,
		                           &w, &d, &m);
		if (err == VAERN_OK) {
			for (size_t i = 0; i < n; i++)
				w.released[policy_category_index(p, cats[i])] =
				        1;
		} else if (err == VAERN_E_DENIED) {
			/* Recorded (denied) by the vault; the next purpose
			 * may still be allowed. Ids and rules only. */
			size_t len = strlen(why);

			(void)snprintf(why + len, sizeof(why) - len, "%s%s: %s",
			               len > 0 ? "; " : "", pu->id, m.text);
			err = VAERN_OK;
		} else {
			break;
		}
	}
	web_html_raw(h, "</tbody></table>");
	if (err != VAERN_OK)
		rect_note(h, cx, 1, C_err_internal, NULL);
	else if (w.nfacts == 0)
		rect_note(h, cx, 0, C_rect_none, NULL);
	if (why[0] != '\0')
		rect_note(h, cx, 1, C_rect_refused, why);
done:
	web_html_raw(h, "</div>");
	free(cats);
	free(w.released);
}

/* The forms of the actions r's state allows. */
static void
action_forms(struct web_html *h, struct console *cx,
             const struct vault_request *r, const char *scope)
{
	int verified = r->verified_at != INT64_MIN;
	int operational = role_operational(&cx->c);
	const struct action *a;

	web_html_raw(h, "<h2>");
	web_html_text(h, console_s(cx, C_req_actions));
	web_html_raw(h, "</h2>");
	if (!is_open(r)) {
		web_html_raw(h, "<p>");
		web_html_text(h, console_s(cx, C_req_closed));
		web_html_raw(h, "</p>");
		return;
	}
	web_html_raw(h, "<div class=\"actions\">");
	if (!verified) {
		a = action_of("code");
		form_start(h, cx, r, a);
		web_html_raw(h, "<label for=\"code-contact\">");
		web_html_text(h, console_s(cx, C_f_contact));
		web_html_raw(h, "</label><select id=\"code-contact\" "
		                "name=\"contact\"><option value=\"\">");
		web_html_text(h, console_s(cx, C_f_contact_any));
		web_html_raw(h, "</option><option value=\"email\">e-mail"
		                "</option><option value=\"phone\">phone"
		                "</option></select>");
		form_end(h, cx, a);
		a = action_of("verify");
		form_start(h, cx, r, a);
		field(h, cx, a, "code", C_f_code,
		      "required inputmode=\"numeric\" pattern=\"[0-9]{8}\" "
		      "maxlength=\"8\" autocomplete=\"off\"");
		form_end(h, cx, a);
		a = action_of("attest");
		form_start(h, cx, r, a);
		field(h, cx, a, "attestation", C_f_attestation,
		      "required maxlength=\"512\"");
		form_end(h, cx, a);
	}
	if (r->extended_months == 0) {
		a = action_of("extend");
		form_start(h, cx, r, a);
		web_html_raw(h, "<label for=\"extend-months\">");
		web_html_text(h, console_s(cx, C_f_months));
		web_html_raw(h, "</label><select id=\"extend-months\" "
		                "name=\"months\"><option>1</option>"
		                "<option>2</option></select>");
		field(h, cx, a, "reason", C_f_reason,
		      "required maxlength=\"512\"");
		form_end(h, cx, a);
	}
	if (verified && operational) {
		switch (r->type) {
		case RIGHTS_ERASURE:
			a = action_of("erase");
			form_start(h, cx, r, a);
			web_html_raw(h, "<p>");
			web_html_text(h, console_s(cx, C_f_erase_note));
			web_html_raw(h, "</p>");
			form_end(h, cx, a);
			break;
		case RIGHTS_RECTIFICATION:
			rectify_facts(h, cx, r, scope);
			break;
		case RIGHTS_RESTRICTION:
			a = action_of("restrict");
			form_start(h, cx, r, a);
			complete_box(h, cx, a);
			form_end(h, cx, a);
			a = action_of("lift");
			form_start(h, cx, r, a);
			field(h, cx, a, "reason", C_f_reason,
			      "required maxlength=\"512\"");
			form_end(h, cx, a);
			break;
		case RIGHTS_OBJECTION:
		case RIGHTS_CONSENT_WITHDRAWAL:
			a = action_of(r->type == RIGHTS_OBJECTION ? "object"
			                                          : "withdraw");
			form_start(h, cx, r, a);
			field(h, cx, a, "purposes", C_f_purposes,
			      "maxlength=\"1000\"");
			form_end(h, cx, a);
			break;
		default: break;
		}
	}
	if (verified &&
	    (r->type == RIGHTS_ACCESS || r->type == RIGHTS_PORTABILITY)) {
		/* GDPR-15, 20: the answer, fetched by a link (a GET: a
		 * read, audited by the report as this actor). */
		web_html_raw(h, "<div><h3>");
		web_html_text(h, console_s(cx, C_act_report));
		web_html_raw(h, "</h3><ul>");
		static const char *const as_access[] = {"html", "json", NULL};
		static const char *const as_copy[] = {"json", "csv", NULL};
		for (const char *const *f = r->type == RIGHTS_ACCESS ? as_access
		                                                     : as_copy;
		     *f != NULL; f++) {
			web_html_raw(h, "<li><a href=\"");
			web_html_text(h, cx->base);
			web_html_raw(h, "/requests/");
			web_html_text(h, r->id);
			web_html_printf(h, "/report?format=%s&amp;lang=%s\">",
			                *f, web_lang_code(cx->lang));
			web_html_text(h, *f);
			web_html_raw(h, "</a></li>");
		}
		web_html_raw(h, "</ul></div>");
	}
	if (r->status == RIGHTS_VERIFIED) {
		a = action_of("start");
		form_start(h, cx, r, a);
		form_end(h, cx, a);
	}
	if (verified) {
		a = action_of("complete");
		form_start(h, cx, r, a);
		field(h, cx, a, "reason", C_f_reason_optional,
		      "maxlength=\"512\"");
		form_end(h, cx, a);
	}
	a = action_of("refuse");
	form_start(h, cx, r, a);
	field(h, cx, a, "reason", C_f_reason, "required maxlength=\"512\"");
	form_end(h, cx, a);
	web_html_raw(h, "</div>");
}

/* The request's page: status with note above (C__COUNT: none; error:
 * styled as a refusal) and detail (a vault message: ids and rules). */
static int
request_page(struct console *cx, const char *id, int status,
             enum console_key note, int error, const char *detail)
{
	struct vault_request r;
	struct web_html h;
	struct history hist;
	static const enum console_key heads[] = {C_h_at, C_h_from, C_h_to,
	                                         C_h_actor, C_h_reason};
	char scope[VAULT_SCOPE_MAX + 1], day[11], due[11];
	char text[POLICY_NAME_MAX + VAULT_WORD_MAX + 160];
	long today = clock_today(), left;
	enum vaern_err err;
	struct vaern_msg m = {{0}};

	err = vault_request_get(cx->c.v, cx->controller, id, &r, &m);
	if (err == VAERN_E_NOTFOUND || err == VAERN_E_INVALID)
		return console_message(cx, 404, C_req_none, NULL);
	if (err == VAERN_OK)
		err = vault_request_scope(cx->c.v, cx->controller, r.id, scope,
		                          &m);
	/* GDPR-32: the page opens the request's sealed texts (reasons told
	 * to the person): on the record, as the actor, before it goes. */
	if (err == VAERN_OK) {
		(void)snprintf(text, sizeof(text), "request %s: its page",
		               r.id);
		err = audit_change(&cx->c, "console_request_view", NULL,
		                   r.subject, NULL, 1, "GDPR-32", text);
	}
	if (err != VAERN_OK)
		return console_message(cx, 500, C_err_internal, NULL);
	console_page_open(&h, cx, console_s(cx, C_req_title));
	/* Done: the action's name; refused: why. */
	if (note != C__COUNT && error)
		console_note(&h, cx, 1, note, detail);
	else if (note != C__COUNT)
		console_note(&h, cx, 0, C_done, console_s(cx, note));
	web_html_raw(&h, "<table class=\"request\" id=\"request\"><tbody>");
	row(&h, cx, C_req_id, r.id);
	row(&h, cx, C_req_type, rights_type_name(r.type));
	row(&h, cx, C_req_status, rights_status_name(r.status));
	row(&h, cx, C_req_channel, r.channel);
	console_date(r.received_at, day);
	row(&h, cx, C_req_received, day);
	cal_format_date(r.due, due);
	if (r.extended_months > 0) {
		(void)snprintf(text, sizeof(text), "%s (%s %d)", due,
		               console_s(cx, C_req_extended),
		               r.extended_months);
		row(&h, cx, C_req_due, text);
		row(&h, cx, C_req_extension_reason, r.extension_reason);
	} else {
		row(&h, cx, C_req_due, due);
	}
	left = r.due - today;
	web_html_printf(&h, "<tr class=\"%s\"><th scope=\"row\">",
	                !is_open(&r) ? "closed"
	                : left < 0   ? "over"
	                : left <= 7  ? "soon"
	                             : "ok");
	web_html_text(&h, console_s(cx, C_req_days_left));
	web_html_printf(&h,
	                "</th><td class=\"days\" data-days-left=\"%ld\">%ld",
	                left, left);
	if (left < 0 && is_open(&r)) {
		web_html_raw(&h, " ");
		web_html_text(&h, console_s(cx, C_req_overdue));
	}
	web_html_raw(&h, "</td></tr>");
	if (r.verified_at != INT64_MIN) {
		console_date(r.verified_at, day);
		(void)snprintf(text, sizeof(text), "%s, %s (%s)", day,
		               r.verify_method, r.verified_by);
		row(&h, cx, C_req_verified, text);
	} else {
		row(&h, cx, C_req_verified, console_s(cx, C_no));
	}
	row(&h, cx, C_req_scope,
	    scope[0] != '\0' ? scope : console_s(cx, C_req_scope_all));
	if (r.status == RIGHTS_REFUSED || r.status == RIGHTS_COMPLETED)
		row(&h, cx, C_req_outcome, r.status_reason);
	web_html_raw(&h, "</tbody></table>");
	action_forms(&h, cx, &r, scope);
	web_html_raw(&h, "<h2>");
	web_html_text(&h, console_s(cx, C_req_history));
	web_html_raw(&h, "</h2>");
	console_table_open(&h, cx, "history", heads,
	                   sizeof(heads) / sizeof(heads[0]));
	hist.h = &h;
	err = vault_request_transitions(cx->c.v, cx->controller, r.id,
	                                history_row, &hist, &m);
	web_html_raw(&h, "</tbody></table><p><a href=\"");
	web_html_text(&h, cx->base);
	web_html_raw(&h, "/requests\">");
	web_html_text(&h, console_s(cx, C_nav_requests));
	web_html_raw(&h, "</a></p>");
	return console_page_send(cx, &h, status, err);
}

/* GET /console/{controller}/requests/{request}[?done=action] */
int
console_request_page(struct http_request *req, struct http_response *res,
                     void *app)
{
	struct console cx;
	const struct action *done;

	if (console_begin(req, res, app, "requests", 0, &cx))
		return 0;
	done = action_of(http_request_query(req, "done"));
	return request_page(&cx, http_request_param(req, "request"), 200,
	                    done != NULL ? done->label : C__COUNT, 0, NULL);
}

/* GET /console/{controller}/requests/{request}/report?format=&lang=: the
 * answer to a verified access or portability request, as the API's
 * (report_send: through the gate, audited as this actor). */
int
console_request_report(struct http_request *req, struct http_response *res,
                       void *app)
{
	struct console cx;
	struct vault_request r;
	enum vaern_err err;

	if (console_begin(req, res, app, "requests", 0, &cx))
		return 0;
	err = vault_request_get(cx.c.v, cx.controller,
	                        http_request_param(req, "request"), &r,
	                        &cx.c.msg);
	if (err != VAERN_OK)
		return console_message(&cx, 404, C_req_none, NULL);
	if (r.type != RIGHTS_ACCESS && r.type != RIGHTS_PORTABILITY)
		return console_message(&cx, 400, C_err_input,
		                       "a report answers access and "
		                       "portability");
	return report_send(&cx.c, req, res, r.subject,
	                   r.type == RIGHTS_ACCESS ? VAULT_EXPORT_ACCESS
	                                           : VAULT_EXPORT_PORTABILITY,
	                   r.id);
}

/* ---- the actions --------------------------------------------------------- */

enum {
	F_CSRF,
	F_CONTACT,
	F_CODE,
	F_ATTEST,
	F_MONTHS,
	F_REASON,
	F_PURPOSES,
	F_FACT,
	F_VALUE,
	F_COMPLETE,
	F_COUNT
};

/* Splits a comma-separated list of purpose ids (in place) into out. */
static size_t
split_purposes(char *list, const char *out[VAULT_PURPOSES_MAX])
{
	size_t n = 0;
	char *p = list;

	while (p != NULL && *p != '\0' && n < VAULT_PURPOSES_MAX) {
		char *comma = strchr(p, ',');

		if (comma != NULL)
			*comma = '\0';
		while (*p == ' ')
			p++;
		for (char *e = p + strlen(p); e > p && e[-1] == ' '; e--)
			e[-1] = '\0';
		if (*p != '\0')
			out[n++] = p;
		p = comma != NULL ? comma + 1 : NULL;
	}
	return n;
}

/* A fact id: 1 to 18 digits; -1 otherwise. */
static int64_t
fact_id(const char *s)
{
	int64_t v = 0;
	size_t n = 0;

	for (; s != NULL && *s >= '0' && *s <= '9' && n < 18; s++, n++)
		v = v * 10 + (*s - '0');
	return s != NULL && *s == '\0' && n > 0 ? v : -1;
}

/* Runs action a on request id with the form's values v: VAERN_OK or the
 * vault's refusal (msg: ids and rules, never a value). */
static enum vaern_err
run(struct console *cx, const struct action *a, const char *id, const char **v,
    char *purposes_buf)
{
	struct vault_request_actor who = {cx->c.actor.name, cx->c.actor.role};
	struct vault_request r;
	struct vaern_msg *msg = &cx->c.msg;
	const char *ctl = cx->controller;
	enum vaern_err err;

	if (strcmp(a->id, "code") == 0) {
		struct vault_code_sent sent;
		enum id_type contact = ID_NONE;

		if (v[F_CONTACT] != NULL) {
			contact = id_type_from_name(v[F_CONTACT]);
			if (contact != ID_EMAIL && contact != ID_PHONE)
				return vaern_fail(msg, VAERN_E_INVALID,
				                  "contact: email or phone");
		}
		return vault_request_send_code(cx->c.v, ctl, id, contact, &who,
		                               &sent, msg);
	}
	if (strcmp(a->id, "verify") == 0)
		return v[F_CODE] == NULL
		               ? vaern_fail(msg, VAERN_E_INVALID,
		                            "code is required")
		               : vault_request_check_code(cx->c.v, ctl, id,
		                                          v[F_CODE], &who, &r,
		                                          msg);
	if (strcmp(a->id, "attest") == 0)
		return v[F_ATTEST] == NULL
		               ? vaern_fail(msg, VAERN_E_INVALID,
		                            "attestation is required")
		               : vault_request_attest(cx->c.v, ctl, id,
		                                      v[F_ATTEST], &who, &r,
		                                      msg);
	if (strcmp(a->id, "extend") == 0) {
		int months =
		        v[F_MONTHS] != NULL && strcmp(v[F_MONTHS], "1") == 0 ? 1
		        : v[F_MONTHS] != NULL && strcmp(v[F_MONTHS], "2") == 0
		                ? 2
		                : 0;

		if (months == 0 || v[F_REASON] == NULL)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "months (1 or 2) and reason are "
			                  "required (GDPR-12)");
		return vault_request_extend(cx->c.v, ctl, id, months,
		                            v[F_REASON], &who, &r, msg);
	}
	if (strcmp(a->id, "erase") == 0) {
		struct vault_erasure *rep = calloc(1, sizeof(*rep));

		if (rep == NULL)
			return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		err = vault_request_erase(cx->c.v, ctl, id, &who, rep, &r, msg);
		free(rep);
		return err;
	}
	if (strcmp(a->id, "rectify") == 0) {
		struct vault_rectification ch;

		memset(&ch, 0, sizeof(ch));
		if ((ch.fact = fact_id(v[F_FACT])) < 0 || v[F_VALUE] == NULL)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "fact (its id) and value are "
			                  "required");
		ch.value = v[F_VALUE];
		return vault_request_rectify(cx->c.v, ctl, id, &ch, 1,
		                             v[F_COMPLETE] != NULL, &who, &r,
		                             msg);
	}
	if (strcmp(a->id, "restrict") == 0 || strcmp(a->id, "lift") == 0) {
		int lift = strcmp(a->id, "lift") == 0;

		if (lift && v[F_REASON] == NULL)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "reason is required (GDPR-18(3))");
		return vault_request_restrict(
		        cx->c.v, ctl, id, lift, lift || v[F_COMPLETE] != NULL,
		        lift ? v[F_REASON] : NULL, &who, &r, msg);
	}
	if (strcmp(a->id, "object") == 0 || strcmp(a->id, "withdraw") == 0) {
		const char *list[VAULT_PURPOSES_MAX];
		size_t n = split_purposes(purposes_buf, list);
		struct vault_withdrawal *rep;

		if (strcmp(a->id, "object") == 0)
			return vault_request_object(cx->c.v, ctl, id,
			                            n > 0 ? list : NULL, n,
			                            &who, &r, msg);
		if ((rep = calloc(1, sizeof(*rep))) == NULL)
			return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		err = vault_request_withdraw(cx->c.v, ctl, id,
		                             n > 0 ? list : NULL, n, &who, rep,
		                             &r, msg);
		free(rep);
		return err;
	}
	if (strcmp(a->id, "refuse") == 0 && v[F_REASON] == NULL)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "reason is required: it is told to the "
		                  "person");
	return vault_request_set_status(
	        cx->c.v, ctl, id,
	        strcmp(a->id, "start") == 0      ? RIGHTS_IN_PROGRESS
	        : strcmp(a->id, "complete") == 0 ? RIGHTS_COMPLETED
	                                         : RIGHTS_REFUSED,
	        v[F_REASON], &who, &r, msg);
}

/*
 * AURA-SHARE-1, as the API's rectification: once the request may be
 * executed (else the vault says why not), only a role that processes the
 * fact's category changes it. 0 to go on; 1 refused (audited, the reason
 * in cx->c.msg); -1 the refusal could not be audited.
 */
static int
rectify_role_check(struct console *cx, const struct vault_request *r,
                   const char *fact)
{
	char category[POLICY_NAME_MAX + 1], why[200];
	struct vaern_msg m = {{0}};
	int64_t id = fact_id(fact);

	if (r->type != RIGHTS_RECTIFICATION || r->verified_at == INT64_MIN ||
	    !is_open(r) || id < 1 ||
	    vault_fact_category(cx->c.v, cx->controller, r->subject, id,
	                        category, &m) != VAERN_OK)
		return 0; /* the vault names it */
	if (role_has_category(&cx->c, category))
		return 0;
	(void)snprintf(why, sizeof(why),
	               "role '%.64s' may not process category '%.64s'",
	               cx->c.actor.role, category);
	if (audit_change(&cx->c, "request_rectification", NULL, r->subject,
	                 NULL, 0, "AURA-SHARE-1", why) != VAERN_OK)
		return -1;
	(void)vaern_fail(&cx->c.msg, VAERN_E_DENIED, "%s (AURA-SHARE-1)", why);
	return 1;
}

/* POST /console/{controller}/requests/{request}/{action} */
int
console_request_action(struct http_request *req, struct http_response *res,
                       void *app)
{
	static const char *const keys[] = {"csrf",        "contact", "code",
	                                   "attestation", "months",  "reason",
	                                   "purposes",    "fact",    "value",
	                                   "complete",    NULL};
	const char *values[F_COUNT + 1];
	const char *id = http_request_param(req, "request");
	const struct action *a;
	struct console cx;
	struct vault_request r;
	char *buf = NULL, *purposes = NULL, why[160];
	char to[sizeof(cx.base) + VAULT_REQUEST_ID_LEN + 48];
	enum vaern_err err;
	int rc, status;

	_Static_assert(sizeof(keys) / sizeof(keys[0]) == F_COUNT + 1,
	               "one key per field");
	if (console_begin(req, res, app, "requests", 0, &cx))
		return 0;
	if (console_form(req, &cx, keys, values, &buf)) {
		rc = 0;
		goto done;
	}
	if ((a = action_of(http_request_param(req, "action"))) == NULL ||
	    id == NULL ||
	    vault_request_get(cx.c.v, cx.controller, id, &r, &cx.c.msg) !=
	            VAERN_OK) {
		rc = console_message(&cx, 404, C_req_none, NULL);
		goto done;
	}
	if (a->operational && !role_operational(&cx.c)) {
		/* AURA-SHARE-1, as the API: the DPO reads, never writes. */
		(void)snprintf(why, sizeof(why),
		               "role '%.64s' uses no purpose and may not "
		               "execute a request",
		               cx.c.actor.role);
		if (audit_change(&cx.c, "request_execute", NULL, NULL, NULL, 0,
		                 "AURA-SHARE-1", why) != VAERN_OK)
			rc = console_message(&cx, 500, C_err_internal, NULL);
		else
			rc = request_page(&cx, r.id, 403, C_err_role, 1, NULL);
		goto done;
	}
	if (strcmp(a->id, "rectify") == 0 &&
	    (rc = rectify_role_check(&cx, &r, values[F_FACT])) != 0) {
		rc = rc < 0 ? console_message(&cx, 500, C_err_internal, NULL)
		            : request_page(&cx, r.id, 403, C_err_role, 1,
		                           cx.c.msg.text);
		goto done;
	}
	if (values[F_PURPOSES] != NULL &&
	    (purposes = strdup(values[F_PURPOSES])) == NULL) {
		rc = console_message(&cx, 500, C_err_internal, NULL);
		goto done;
	}
	err = run(&cx, a, r.id, values, purposes);
	if (err == VAERN_OK) {
		/* Post/Redirect/Get: a reload does not act twice. */
		(void)snprintf(to, sizeof(to), "%s/requests/%s?done=%s",
		               cx.base, r.id, a->id);
		rc = web_redirect(res, to);
		goto done;
	}
	switch (err) {
	case VAERN_E_INVALID: status = 400; break;
	case VAERN_E_DENIED: status = 403; break;
	case VAERN_E_NOTFOUND: status = 404; break;
	case VAERN_E_EXISTS: status = 409; break;
	case VAERN_E_LIMIT: status = 429; break;
	default: status = 500; break;
	}
	rc = status == 500 ? console_message(&cx, 500, C_err_internal, NULL)
	                   : request_page(&cx, r.id, status, C_err_action, 1,
	                                  cx.c.msg.text);
done:
	free(purposes);
	web_form_free(buf);
	return rc;
}
