/*
 * console_audit.c -- the audit view of the staff console (issue 20,
 * point 4; GDPR-32): the chain's verification and its newest checkpoint,
 * the entries of the DPO's controller filtered by subject, actor,
 * purpose, decision and time, a page at a time, and their CSV export
 * (audit_query.h). A person is named in a POST form only, never in an
 * address: an address is logged and kept by browsers.
 */
#include "console_views.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audit/audit_checkpoints.h"
#include "../audit/audit_query.h"
#include "../calendar/calendar.h"
#include "../ids/ids.h"
#include "console_internal.h"

static void
chain_section(struct web_html *h, const struct cview *v,
              const struct cview_chain *ch)
{
	char at[21];

	web_html_raw(h, "<section aria-labelledby=\"chain-h\"><h2 "
	                "id=\"chain-h\">");
	cview_word(h, v, V_audit_chain);
	web_html_raw(h, "</h2>");
	if (ch->ok) {
		web_html_raw(h,
		             "<p id=\"chain\" data-ok=\"1\" class=\"message\" "
		             "role=\"status\">");
		cview_word(h, v, V_audit_chain_ok);
		web_html_printf(h,
		                " <strong data-entries=\"%lld\">%lld</strong>",
		                (long long)ch->entries, (long long)ch->entries);
		web_html_raw(h, "</p><p>");
		cview_word(h, v, V_audit_head);
		web_html_printf(h,
		                " <span data-head-seq=\"%lld\">%lld</span> "
		                "<code class=\"hash\">",
		                (long long)ch->head_seq,
		                (long long)ch->head_seq);
		web_html_text(h, ch->head);
		web_html_raw(h, "</code></p>");
	} else {
		web_html_raw(h, "<p id=\"chain\" data-ok=\"0\" class=\"message "
		                "alert\" role=\"alert\">");
		cview_word(h, v, V_audit_chain_bad);
		web_html_raw(h, " ");
		web_html_text(h, ch->problem);
		web_html_raw(h, "</p>");
	}
	web_html_raw(h, "<p id=\"checkpoint\">");
	if (ch->checkpoint == 0) {
		cview_word(h, v, V_audit_checkpoint_none);
	} else if (ch->checkpoint > 0) {
		cview_instant(ch->checkpoint_at, at);
		cview_word(h, v, V_audit_checkpoint);
		web_html_printf(
		        h,
		        " <span data-checkpoint-seq=\"%lld\">%lld</span>"
		        " (",
		        (long long)ch->checkpoint_seq,
		        (long long)ch->checkpoint_seq);
		web_html_text(h, at);
		web_html_raw(h, ")");
	} else {
		cview_word(h, v, V_audit_checkpoint_bad);
		web_html_raw(h, " ");
		web_html_text(h, ch->checkpoint_problem);
	}
	web_html_raw(h, "</p></section>");
}

static void
text_input(struct web_html *h, const struct cview *v, const char *id,
           const char *name, enum cview_key label, const char *value,
           const char *extra)
{
	web_html_printf(h, "<label for=\"%s\">", id);
	cview_word(h, v, label);
	web_html_printf(h, "</label><input id=\"%s\" name=\"%s\" %s value=\"",
	                id, name, extra);
	if (value != NULL)
		web_html_text(h, value);
	web_html_raw(h, "\">");
}

/* The filter's fields; prefix tells the GET form's ids from the POST
 * form's. */
static void
filter_fields(struct web_html *h, const struct cview *v,
              const struct cview_audit_filter *f, const struct policy *p,
              const char *prefix)
{
	static const enum cview_key dwords[] = {
	        V_decision_any, V_decision_allowed, V_decision_denied};
	static const char *const dvalues[] = {"", "allowed", "denied"};
	char id[32];

	(void)snprintf(id, sizeof(id), "%s-actor", prefix);
	text_input(h, v, id, "actor", V_audit_actor, f->actor,
	           "maxlength=\"128\" autocomplete=\"off\"");
	web_html_printf(h, "<label for=\"%s-purpose\">", prefix);
	cview_word(h, v, V_audit_purpose);
	web_html_printf(h,
	                "</label><select id=\"%s-purpose\" name=\"purpose\">"
	                "<option value=\"\">",
	                prefix);
	cview_word(h, v, V_decision_any);
	web_html_raw(h, "</option>");
	for (size_t i = 0; p != NULL && i < p->npurposes; i++) {
		int sel = f->purpose != NULL &&
		          strcmp(f->purpose, p->purposes[i].id) == 0;

		web_html_raw(h, sel ? "<option selected>" : "<option>");
		web_html_text(h, p->purposes[i].id);
		web_html_raw(h, "</option>");
	}
	/* The console's and the system's own purposes are in the trail
	 * too (console, retention, incident ...): typed in the actor
	 * field's sibling would be one more field; the select offers the
	 * policy's, and any other comes back selected as asked. */
	if (f->purpose != NULL &&
	    (p == NULL || policy_purpose_index(p, f->purpose) < 0)) {
		web_html_raw(h, "<option selected>");
		web_html_text(h, f->purpose);
		web_html_raw(h, "</option>");
	}
	web_html_printf(h, "</select><label for=\"%s-decision\">", prefix);
	cview_word(h, v, V_audit_decision);
	web_html_printf(h,
	                "</label><select id=\"%s-decision\" "
	                "name=\"decision\">",
	                prefix);
	for (int i = 0; i < 3; i++) {
		int sel = (i == 0 && f->decision < 0) ||
		          (i == 1 && f->decision == 1) ||
		          (i == 2 && f->decision == 0);

		web_html_printf(h, "<option value=\"%s\"%s>", dvalues[i],
		                sel ? " selected" : "");
		cview_word(h, v, dwords[i]);
		web_html_raw(h, "</option>");
	}
	web_html_raw(h, "</select>");
	(void)snprintf(id, sizeof(id), "%s-from", prefix);
	text_input(h, v, id, "from", V_audit_from, f->from, "type=\"date\"");
	(void)snprintf(id, sizeof(id), "%s-to", prefix);
	text_input(h, v, id, "to", V_audit_to, f->to, "type=\"date\"");
}

void
cview_audit_begin(struct web_html *h, const struct cview *v,
                  const struct cview_chain *chain,
                  const struct cview_audit_filter *f, const struct policy *p,
                  const char *const *id_types, size_t ntypes)
{
	chain_section(h, v, chain);
	/* The filter without a person: a GET, so a page can be bookmarked;
	 * ids and words only, never a personal value. */
	web_html_raw(h, "<section aria-labelledby=\"filter-h\"><h2 "
	                "id=\"filter-h\">");
	cview_word(h, v, V_audit_filter);
	web_html_raw(h, "</h2><form method=\"get\" action=\"");
	web_html_text(h, v->base);
	web_html_raw(h, "/audit\"><fieldset><legend>");
	cview_word(h, v, V_audit_filter);
	web_html_raw(h, "</legend>");
	filter_fields(h, v, f, p, "f");
	web_html_raw(h, "<div><button type=\"submit\">");
	cview_word(h, v, V_audit_apply);
	web_html_raw(h, "</button></div></fieldset></form>");
	/* One person: the id or an identifier typed in a POST form. */
	web_html_raw(h, "<form method=\"post\" action=\"");
	web_html_text(h, v->base);
	web_html_raw(h, "/audit\"><fieldset><legend>");
	cview_word(h, v, V_audit_subject_title);
	web_html_raw(h, "</legend><p>");
	cview_word(h, v, V_audit_subject_intro);
	web_html_raw(h, "</p>");
	cview_csrf_field(h, v);
	text_input(h, v, "s-subject", "subject", V_audit_subject_id, f->subject,
	           "maxlength=\"32\" pattern=\"[0-9a-fA-F]{32}\" "
	           "autocomplete=\"off\"");
	web_html_raw(h, "<label for=\"s-type\">");
	cview_word(h, v, V_audit_id_type);
	web_html_raw(h, "</label><select id=\"s-type\" name=\"id_type\">"
	                "<option value=\"\">-</option>");
	for (size_t i = 0; i < ntypes; i++) {
		web_html_raw(h, "<option>");
		web_html_text(h, id_types[i]);
		web_html_raw(h, "</option>");
	}
	web_html_raw(h, "</select>");
	text_input(h, v, "s-value", "id_value", V_audit_id_value, NULL,
	           "maxlength=\"254\" autocomplete=\"off\"");
	filter_fields(h, v, f, p, "s");
	web_html_raw(h, "<div><button type=\"submit\">");
	cview_word(h, v, V_audit_subject_show);
	web_html_raw(h, "</button></div></fieldset></form></section>");
	{
		static const enum cview_key cols[] = {
		        V_col_seq,     V_col_at,         V_col_actor,
		        V_col_role,    V_col_purpose,    V_col_action_done,
		        V_col_subject, V_col_categories, V_col_decision,
		        V_col_rule,    V_col_reason};

		cview_table_open(h, v, V_audit_title, "entries", cols,
		                 sizeof(cols) / sizeof(cols[0]));
	}
}

static void
cell(struct web_html *h, const char *text)
{
	web_html_raw(h, "<td>");
	if (text != NULL)
		web_html_text(h, text);
	web_html_raw(h, "</td>");
}

void
cview_audit_row(struct web_html *h, const struct cview *v,
                const struct audit_record *r, const char *subject)
{
	const struct audit_entry *e = &r->entry;
	char at[21];

	cview_instant(r->at, at);
	web_html_printf(h, "<tr data-seq=\"%lld\"><td>%lld</td>",
	                (long long)r->seq, (long long)r->seq);
	cell(h, at);
	if (r->malformed) {
		web_html_raw(h, "<td colspan=\"9\">");
		cview_word(h, v, V_audit_malformed);
		web_html_raw(h, "</td></tr>");
		return;
	}
	cell(h, e->actor);
	cell(h, e->role);
	cell(h, e->purpose);
	cell(h, e->action);
	cell(h, subject);
	cell(h, e->categories);
	web_html_printf(h, "<td data-decision=\"%s\">",
	                e->allowed ? "allowed" : "denied");
	cview_word(h, v, e->allowed ? V_decision_allowed : V_decision_denied);
	web_html_raw(h, "</td>");
	cell(h, e->rule);
	cell(h, e->reason);
	web_html_raw(h, "</tr>");
}

/* The filter as hidden fields (a POST form's next page and export). */
static void
hidden(struct web_html *h, const char *name, const char *value)
{
	if (value == NULL)
		return;
	web_html_printf(h, "<input type=\"hidden\" name=\"%s\" value=\"", name);
	web_html_text(h, value);
	web_html_raw(h, "\">");
}

static const char *
decision_value(int d)
{
	return d < 0 ? NULL : d ? "allowed" : "denied";
}

/* The filter as a query string (without a person), after "?"; how many
 * parameters it wrote. */
static int
query(struct web_html *h, const struct cview_audit_filter *f)
{
	const char *names[] = {"actor", "purpose", "decision", "from", "to"};
	const char *values[] = {f->actor, f->purpose,
	                        decision_value(f->decision), f->from, f->to};
	int first = 1;

	for (size_t i = 0; i < 5; i++) {
		if (values[i] == NULL)
			continue;
		web_html_raw(h, first ? "" : "&amp;");
		web_html_raw(h, names[i]);
		web_html_raw(h, "=");
		cview_url_text(h, values[i]);
		first = 0;
	}
	return !first;
}

static void
post_form(struct web_html *h, const struct cview *v,
          const struct cview_audit_filter *f, const char *path,
          const char *after, enum cview_key label)
{
	web_html_raw(h, "<form class=\"inline\" method=\"post\" action=\"");
	web_html_text(h, v->base);
	web_html_raw(h, path);
	web_html_raw(h, "\">");
	cview_csrf_field(h, v);
	hidden(h, "subject", f->subject);
	hidden(h, "actor", f->actor);
	hidden(h, "purpose", f->purpose);
	hidden(h, "decision", decision_value(f->decision));
	hidden(h, "from", f->from);
	hidden(h, "to", f->to);
	hidden(h, "after", after);
	web_html_raw(h, "<button type=\"submit\">");
	cview_word(h, v, label);
	web_html_raw(h, "</button></form> ");
}

void
cview_audit_end(struct web_html *h, const struct cview *v,
                const struct cview_audit_filter *f, size_t nrows, int more,
                int64_t last_seq)
{
	char after[24];

	web_html_raw(h, "</tbody></table></div>");
	if (nrows == 0) {
		web_html_raw(h, "<p id=\"no-entries\">");
		cview_word(h, v, V_audit_none);
		web_html_raw(h, "</p>");
	}
	(void)snprintf(after, sizeof(after), "%lld", (long long)last_seq);
	web_html_raw(h, "<p class=\"pages\">");
	if (f->subject != NULL) {
		if (more)
			post_form(h, v, f, "/audit", after, V_audit_next);
		post_form(h, v, f, "/audit/export", NULL, V_audit_csv);
	} else {
		if (more) {
			web_html_raw(h, "<a id=\"next\" rel=\"next\" href=\"");
			web_html_text(h, v->base);
			web_html_raw(h, "/audit?");
			if (query(h, f))
				web_html_raw(h, "&amp;");
			web_html_printf(h, "after=%s\">", after);
			cview_word(h, v, V_audit_next);
			web_html_raw(h, "</a> ");
		}
		web_html_raw(h, "<a id=\"export\" href=\"");
		web_html_text(h, v->base);
		web_html_raw(h, "/audit/export");
		if (f->actor != NULL || f->purpose != NULL ||
		    f->decision >= 0 || f->from != NULL || f->to != NULL) {
			web_html_raw(h, "?");
			(void)query(h, f);
		}
		web_html_raw(h, "\">");
		cview_word(h, v, V_audit_csv);
		web_html_raw(h, "</a>");
	}
	web_html_raw(h, "</p>");
}

/* ---- the handlers -------------------------------------------------------- */

#define CVIEW_EXPORT_MAX   100000 /* entries one CSV export holds */
#define CVIEW_EXPORT_BYTES ((size_t)128 * 1024 * 1024)

/* An id of the trail's kind: 1..128 printable ASCII without spaces. */
static int
id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CVIEW_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* The request's filter, from the query (GET) or the form (POST). */
struct audit_req {
	struct cview_audit_filter f; /* as the page shows it again */
	struct audit_query q;        /* as the trail is read */
	unsigned char uid[VAULT_UID_BYTES];
	char subject[VAULT_UID_HEX]; /* the person's id, hex */
	char why[160];               /* the audit entry's reason: which
	                                filters, never their values */
};

/* Reads the filter's fields (actor, purpose, decision, from, to, after)
 * into r. 1 once it has answered 400. */
static int
filter_read(struct console *cx, struct audit_req *r, const char *actor,
            const char *purpose, const char *decision, const char *from,
            const char *to, const char *after)
{
	const char *bad = NULL;
	int64_t t;

	audit_query_init(&r->q, cx->controller);
	r->f.decision = -1;
	if (actor != NULL && !id_ok(actor))
		bad = "actor: an actor's name";
	else if (purpose != NULL && !id_ok(purpose))
		bad = "purpose: a purpose id";
	else if (decision != NULL && strcmp(decision, "allowed") != 0 &&
	         strcmp(decision, "denied") != 0)
		bad = "decision: allowed, denied or blank";
	if (bad == NULL && from != NULL) {
		if (parse_time(from, &t, &cx->c.msg) != 0)
			bad = "from: a date, YYYY-MM-DD";
		else
			r->q.from_at = t;
	}
	if (bad == NULL && to != NULL) {
		if (parse_time(to, &t, &cx->c.msg) != 0)
			bad = "to: a date, YYYY-MM-DD";
		else
			r->q.to_at = t;
	}
	if (bad == NULL && r->q.from_at > r->q.to_at)
		bad = "from: after to";
	if (bad == NULL && after != NULL) {
		size_t n = strlen(after);

		if (n == 0 || n > 18 || strspn(after, "0123456789") != n)
			bad = "after: an entry's number";
		else
			r->q.after_seq = strtoll(after, NULL, 10);
	}
	if (bad != NULL) {
		(void)cview_fail(cx, 400, V_err_input, bad);
		return 1;
	}
	r->f.actor = r->q.actor = actor;
	r->f.purpose = r->q.purpose = purpose;
	r->f.from = from;
	r->f.to = to;
	if (decision != NULL)
		r->f.decision = r->q.decision =
		        strcmp(decision, "allowed") == 0;
	(void)snprintf(r->why, sizeof(r->why), "filters:%s%s%s%s%s%s",
	               actor != NULL ? " actor" : "",
	               purpose != NULL ? " purpose" : "",
	               decision != NULL ? " decision" : "",
	               from != NULL ? " from" : "", to != NULL ? " to" : "",
	               actor == NULL && purpose == NULL && decision == NULL &&
	                               from == NULL && to == NULL
	                       ? " none"
	                       : "");
	return 0;
}

/* The person of a POST: the id, or an identifier typed with its type
 * (found through the blind index, as the API's lookup). 1 once it has
 * answered. */
static int
person_read(struct console *cx, struct audit_req *r, const char *subject,
            const char *id_type, const char *id_value)
{
	enum vaern_err err;

	if (subject != NULL) {
		if (vault_uid_parse(subject, r->uid, &cx->c.msg) != VAERN_OK) {
			(void)cview_fail(cx, 400, V_err_input,
			                 "subject: the person's id, 32 "
			                 "hexadecimal digits");
			return 1;
		}
	} else if (id_type != NULL && id_value != NULL) {
		enum id_type t = id_type_from_name(id_type);

		if (t == ID_NONE) {
			(void)cview_fail(cx, 400, V_err_input,
			                 "id_type: an identifier type");
			return 1;
		}
		err = vault_subject_find(cx->c.v, cx->controller, t, id_value,
		                         r->uid, &cx->c.msg);
		if (err != VAERN_OK) {
			/* The message names the type, never the value. */
			(void)cview_fail(cx, cview_status_of(err), V_err_input,
			                 err == VAERN_E_NOTFOUND
			                         ? "no person has this "
			                           "identifier"
			                         : cx->c.msg.text);
			return 1;
		}
	} else {
		(void)cview_fail(cx, 400, V_err_input,
		                 "subject: the person's id, or id_type and "
		                 "id_value");
		return 1;
	}
	vault_uid_format(r->uid, r->subject);
	r->q.subject = r->uid;
	r->f.subject = r->subject;
	return 0;
}

/* A query parameter, NULL when absent or blank (a GET form sends its
 * blank fields). */
static const char *
query_value(struct http_request *req, const char *key)
{
	const char *q = http_request_query(req, key);

	return q != NULL && q[0] != '\0' ? q : NULL;
}

/* Reads the request's filter: GET from the query (a person there is
 * refused: never in an address), POST from the form. 1 once it has
 * answered. */
static int
audit_request(struct http_request *req, struct console *cx, struct audit_req *r,
              char **buf)
{
	static const char *const keys[] = {"csrf",     "subject", "id_type",
	                                   "id_value", "actor",   "purpose",
	                                   "decision", "from",    "to",
	                                   "after",    NULL};
	const char *values[11];

	memset(r, 0, sizeof(*r));
	*buf = NULL;
	if (strcmp(http_request_method(req), "POST") != 0) {
		if (http_request_query(req, "subject") != NULL ||
		    http_request_query(req, "id_value") != NULL) {
			(void)cview_fail(
			        cx, 400, V_err_input,
			        "subject: a person is named in the "
			        "POST form only, never in the address");
			return 1;
		}
		return filter_read(
		        cx, r, query_value(req, "actor"),
		        query_value(req, "purpose"),
		        query_value(req, "decision"), query_value(req, "from"),
		        query_value(req, "to"), query_value(req, "after"));
	}
	if (console_form(req, cx, keys, values, buf))
		return 1;
	return filter_read(cx, r, values[4], values[5], values[6], values[7],
	                   values[8], values[9]) ||
	       person_read(cx, r, values[1], values[2], values[3]);
}

/* The newest of the n checkpoints (by entry). */
static const struct audit_anchor *
newest(const struct audit_anchor *a, size_t n)
{
	const struct audit_anchor *best = NULL;

	for (size_t i = 0; i < n; i++)
		if (best == NULL || a[i].seq > best->seq)
			best = &a[i];
	return best;
}

/* When checkpoint a was signed: the AT of its file's name
 * (ckpt-SEQ-AT.json, in its source "checkpoint NAME"), signed with it. */
static int64_t
signed_at(const struct audit_anchor *a)
{
	const char *p = a->source != NULL ? strrchr(a->source, '-') : NULL;
	int64_t at = 0;

	for (p = p != NULL ? p + 1 : ""; *p >= '0' && *p <= '9'; p++)
		at = at * 10 + (*p - '0');
	return at;
}

/* GDPR-32: the chain verified now, from the trail, the head the data
 * store kept and, when the server knows where they are (serve
 * --checkpoints), every signed checkpoint as an anchor. */
static void
chain_state(struct console *cx, struct cview_chain *ch)
{
	struct audit_trail t;
	struct audit_verify_result vr;
	struct audit_anchor *ck = NULL;
	const struct audit_anchor *last;
	struct vaern_msg msg = {{0}};
	char outbox[PATH_MAX];
	size_t nck = 0;
	enum vaern_err err;

	memset(ch, 0, sizeof(*ch));
	memset(&t, 0, sizeof(t));
	if (cx->c.api->checkpoints != NULL) {
		err = audit_checkpoints_read(cx->c.api->checkpoints, NULL, &ck,
		                             &nck, &msg);
		if (err == VAERN_E_IO) {
			/* None written yet (no checkpoint.pub): none. */
			nck = 0;
		} else if (err != VAERN_OK) {
			/* A forged or changed checkpoint: named, refused. */
			ch->checkpoint = -1;
			(void)snprintf(ch->checkpoint_problem,
			               sizeof(ch->checkpoint_problem), "%s",
			               msg.text);
			nck = 0;
		} else if ((last = newest(ck, nck)) != NULL) {
			ch->checkpoint = 1;
			ch->checkpoint_seq = last->seq;
			ch->checkpoint_at = signed_at(last);
		}
	}
	(void)snprintf(outbox, sizeof(outbox), "%s/%s", cx->c.api->dir,
	               VAULT_DB_FILE);
	t.path = cx->c.api->db_path;
	t.outbox_path = outbox;
	err = vault_audit_key(cx->c.v, 0, t.key, &msg);
	if (err == VAERN_E_NOTFOUND)
		t.unkeyed = 1;
	else if (err != VAERN_OK) {
		(void)snprintf(ch->problem, sizeof(ch->problem), "%s",
		               msg.text);
		goto done;
	}
	err = audit_verify(&t, ck, nck, &vr, &msg);
	sodium_memzero(t.key, sizeof(t.key));
	if (err != VAERN_OK) {
		(void)snprintf(ch->problem, sizeof(ch->problem), "%s",
		               msg.text);
		goto done;
	}
	ch->ok = vr.ok;
	ch->entries = vr.entries;
	ch->head_seq = vr.head_seq;
	sodium_bin2hex(ch->head, sizeof(ch->head), vr.head, sizeof(vr.head));
	if (!vr.ok) {
		(void)snprintf(ch->problem, sizeof(ch->problem), "%s",
		               vr.message);
		if (vr.problem == AUDIT_CHECKPOINT) {
			ch->checkpoint = -1;
			(void)snprintf(ch->checkpoint_problem,
			               sizeof(ch->checkpoint_problem), "%s",
			               vr.message);
		}
	}
done:
	audit_checkpoints_free(ck, nck);
}

struct page_walk {
	struct web_html *h;
	const struct cview *v;
	size_t n;
	int64_t last;
};

static enum vaern_err
page_row(void *arg, const struct audit_record *r)
{
	struct page_walk *w = arg;
	char hex[VAULT_UID_HEX];

	if (r->entry.subject != NULL && !r->malformed)
		vault_uid_format(r->entry.subject, hex);
	cview_audit_row(w->h, w->v, r,
	                r->entry.subject != NULL && !r->malformed ? hex : NULL);
	w->n++;
	w->last = r->seq;
	return w->h->failed ? VAERN_E_LIMIT : VAERN_OK;
}

/* The identifier types of the policy's categories, each once. */
static size_t
id_types(const struct policy *p, const char **out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < p->ncategories; i++) {
		const char *t;
		size_t k;

		if (p->categories[i].identifier == ID_NONE)
			continue;
		t = id_type_name(p->categories[i].identifier);
		for (k = 0; k < n && strcmp(out[k], t) != 0; k++)
			;
		if (k == n && n < cap)
			out[n++] = t;
	}
	return n;
}

/* GET and POST /console/{controller}/audit: the DPO's (GDPR-32). */
int
console_audit(struct http_request *req, struct http_response *res, void *app)
{
	struct console cx;
	struct audit_req *r = NULL;
	struct cview_chain chain;
	struct page_walk w;
	struct web_html h;
	struct cview v;
	const char *types[16];
	size_t ntypes;
	char *buf = NULL, why[256];
	int more = 0, rc = 0;
	enum vaern_err err;

	if (console_begin(req, res, app, "audit", 1, &cx))
		return 0;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return cview_fail(&cx, 503, V_err_internal, NULL);
	if (audit_request(req, &cx, r, &buf))
		goto done;
	cview_of(&cx, &v);
	if (r->q.limit == 0)
		r->q.limit = AUDIT_QUERY_PAGE;
	/* The view is audited before it answers: its filters named, never
	 * their values; the person's id in the entry's subject field. */
	(void)snprintf(why, sizeof(why), "audit view, %s%s", r->why,
	               r->q.subject != NULL ? " subject" : "");
	if (cview_audit(&cx, "console_audit_view", "audit", r->q.subject, why))
		goto done;
	chain_state(&cx, &chain);
	ntypes = id_types(cx.c.policy, types, 16);
	cview_page_open(&cx, &h, V_audit_title, NULL, NULL, 0);
	cview_audit_begin(&h, &v, &chain, &r->f, cx.c.policy, types, ntypes);
	memset(&w, 0, sizeof(w));
	w.h = &h;
	w.v = &v;
	err = audit_query_run(cx.c.api->db_path, &r->q, page_row, &w, &more,
	                      &cx.c.msg);
	if (err != VAERN_OK) {
		web_html_free(&h);
		rc = cview_fail_vault(&cx, err);
		goto done;
	}
	cview_audit_end(&h, &v, &r->f, w.n, more, w.last);
	console_page_close(&h, &cx);
	rc = console_respond(&cx, 200, &h);
done:
	web_form_free(buf);
	free(r);
	return rc;
}

struct csv_walk {
	struct web_html *out; /* a bounded, wiping buffer: CSV, not HTML */
	long n;
	char *line;
};

static enum vaern_err
csv_row(void *arg, const struct audit_record *r)
{
	struct csv_walk *w = arg;
	char hex[VAULT_UID_HEX];

	if (r->entry.subject != NULL && !r->malformed)
		vault_uid_format(r->entry.subject, hex);
	if (audit_csv_line(
	            r, r->entry.subject != NULL && !r->malformed ? hex : NULL,
	            w->line) < 0)
		return VAERN_E_LIMIT;
	web_html_raw(w->out, w->line);
	w->n++;
	return w->out->failed ? VAERN_E_LIMIT : VAERN_OK;
}

/* GET and POST /console/{controller}/audit/export: the same filter as
 * CSV (audit_csv_line: formulas defused), at most CVIEW_EXPORT_MAX
 * entries (more: 413, narrow the filter). */
int
console_audit_export(struct http_request *req, struct http_response *res,
                     void *app)
{
	struct console cx;
	struct audit_req *r = NULL;
	struct csv_walk w = {NULL, 0, NULL};
	struct web_html out;
	char *buf = NULL, why[256];
	int more = 0, rc = 0;
	enum vaern_err err;

	if (console_begin(req, res, app, "audit", 1, &cx))
		return 0;
	web_html_init(&out, CVIEW_EXPORT_BYTES);
	r = calloc(1, sizeof(*r));
	w.line = malloc(AUDIT_CSV_LINE_MAX);
	if (r == NULL || w.line == NULL) {
		rc = cview_fail(&cx, 503, V_err_internal, NULL);
		goto done;
	}
	if (audit_request(req, &cx, r, &buf))
		goto done;
	r->q.after_seq = 0;
	r->q.limit = CVIEW_EXPORT_MAX;
	w.out = &out;
	web_html_raw(&out, audit_csv_header());
	err = audit_query_run(cx.c.api->db_path, &r->q, csv_row, &w, &more,
	                      &cx.c.msg);
	if (err == VAERN_OK && more)
		err = vaern_fail(&cx.c.msg, VAERN_E_LIMIT,
		                 "more than %d entries: narrow the filter",
		                 CVIEW_EXPORT_MAX);
	if (err != VAERN_OK || out.failed) {
		rc = cview_fail(&cx,
		                err == VAERN_OK ? 413 : cview_status_of(err),
		                V_err_input, cx.c.msg.text);
		goto done;
	}
	(void)snprintf(why, sizeof(why),
	               "audit CSV export of %ld entries, %s%s", w.n, r->why,
	               r->q.subject != NULL ? " subject" : "");
	if (cview_audit(&cx, "console_audit_export", "audit", r->q.subject,
	                why))
		goto done;
	web_page_headers(res);
	(void)http_respond_header(res, "Content-Disposition",
	                          "attachment; filename=\"audit.csv\"");
	rc = http_respond_body(res, 200, "text/csv; charset=utf-8", out.data,
	                       out.len);
done:
	web_html_free(&out);
	web_form_free(buf);
	free(w.line);
	free(r);
	return rc;
}
