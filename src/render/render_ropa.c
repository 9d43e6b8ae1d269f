/*
 * render_ropa.c -- the records of processing activities (GDPR Art. 30(1);
 * GDPR-30; issue 15 point 2), from the compiled policy: per purpose the
 * controller, representative and DPO (a), the purpose (b), the categories
 * of data subjects and of data (c), the recipients (d), the transfers and
 * their safeguards (e), the time limits for erasure (f) and the security
 * measures (g). What the policy does not state is said to be not stated,
 * never guessed.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "render_internal.h"

static const char *const type_names[] = {"processor", "third_party",
                                         "authority"};

/* Does recipient r receive data for purpose i? A recipient listing no
 * purposes receives for every one. */
static int
receives(const struct policy_recipient *r, size_t i)
{
	if (r->npurposes == 0)
		return 1;
	for (size_t j = 0; j < r->npurposes; j++)
		if (r->purposes[j] == i)
			return 1;
	return 0;
}

/* Does retention rule r hold some category of purpose pp (or its consent
 * records)? */
static int
rule_applies(const struct policy_retention *r, const struct policy_purpose *pp,
             size_t i)
{
	for (size_t j = 0; j < r->nconsents; j++)
		if (r->consents[j] == i)
			return 1;
	for (size_t j = 0; j < r->ncategories; j++)
		for (size_t k = 0; k < pp->ncategories; k++)
			if (r->categories[j] == pp->categories[k])
				return 1;
	return 0;
}

static int
has_dpo(const struct policy_controller *c)
{
	return c->dpo_email != NULL || c->dpo_phone != NULL ||
	       c->dpo_address != NULL;
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *
texts_json(char **a, size_t n, const char *none)
{
	json_t *arr;

	if (n == 0)
		return json_string(none);
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(a[i]));
	return arr;
}

static json_t *
purpose_json(const struct policy *p, size_t i, enum render_lang lang)
{
	const struct policy_purpose *pp = &p->purposes[i];
	const char *none = render_word(lang, R_not_stated);
	char letters[16], art9[2] = {pp->art9, '\0'}, words[1024];
	json_t *cats = json_array(), *recs = json_array(),
	       *erasure = json_array(), *o;

	render_basis_letters(pp->basis, letters);
	for (size_t j = 0; j < pp->ncategories; j++) {
		const struct policy_category *c =
		        &p->categories[pp->categories[j]];

		json_array_append_new(
		        cats,
		        json_pack("{s:s, s:s?, s:b, s:s?}", "id", c->id,
		                  "description", c->description, "special",
		                  c->special, "special_kind", c->special_kind));
	}
	for (size_t j = 0; j < p->nrecipients; j++) {
		const struct policy_recipient *r = &p->recipients[j];

		if (!receives(r, i))
			continue;
		json_array_append_new(
		        recs,
		        json_pack("{s:s, s:s?, s:s, s:s?, s:b, s:s?}", "id",
		                  r->id, "name", r->name, "type",
		                  type_names[r->type], "country",
		                  r->country[0] != '\0' ? r->country : NULL,
		                  "third_country", r->outside_eea, "safeguard",
		                  r->safeguard));
	}
	for (size_t j = 0; j < p->nretention; j++) {
		const struct policy_retention *r = &p->retention[j];

		if (!rule_applies(r, pp, i))
			continue;
		render_retention_words(p, r, lang, words, sizeof(words));
		json_array_append_new(
		        erasure,
		        json_pack("{s:s, s:s?, s:s, s:s?}", "rule", r->id,
		                  "clause", r->clause, "period", words,
		                  "legal_obligation", r->legal_obligation));
	}
	o = json_pack("{s:s, s:s?, s:s, s:s?, s:s?, s:o, s:o, s:o, s:o}", "id",
	              pp->id, "description", pp->description, "legal_basis",
	              letters, "legitimate_interests", pp->legitimate_interests,
	              "art9", pp->art9 ? art9 : NULL, "data_subjects",
	              texts_json(pp->subjects, pp->nsubjects, none),
	              "categories", cats, "recipients", recs, "erasure",
	              erasure);
	return o;
}

static json_t *
transfers_json(const struct policy *p, enum render_lang lang)
{
	json_t *arr;

	if (p->transfers_none)
		return json_string(render_word(lang, R_transfers_none));
	if (p->ntransfers == 0)
		return json_string(render_word(lang, R_not_stated));
	arr = json_array();
	for (size_t i = 0; i < p->ntransfers; i++)
		json_array_append_new(
		        arr, json_pack("{s:s, s:s?}", "country",
		                       p->transfers[i].country, "safeguard",
		                       p->transfers[i].safeguard));
	return arr;
}

static json_t *
ropa_json(const struct policy *p, enum render_lang lang)
{
	const struct policy_controller *c = &p->controller;
	const char *none = render_word(lang, R_not_stated);
	json_t *purposes = json_array(), *dpo;
	char date[11];

	for (size_t i = 0; i < p->npurposes; i++)
		json_array_append_new(purposes, purpose_json(p, i, lang));
	dpo = has_dpo(c)
	              ? json_pack("{s:s?, s:s?, s:s?, s:s?}", "name",
	                          c->dpo_name, "email", c->dpo_email, "phone",
	                          c->dpo_phone, "address", c->dpo_address)
	              : json_string(none);
	cal_format_date(c->policy_version, date);
	return json_pack(
	        "{s:{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?}, s:s, s:o, s:s, "
	        "s:o, s:o, s:o}",
	        "controller", "id", c->id, "name", c->name, "country",
	        c->country, "registration", c->registration, "address",
	        c->address, "email", c->email, "phone", c->phone,
	        "representative", c->representative ? c->representative : none,
	        "dpo", dpo, "policy_version", date, "processing", purposes,
	        "transfers", transfers_json(p, lang), "security",
	        texts_json(p->security, p->nsecurity, none));
}

/* ---- CSV and HTML: one row per purpose ---------------------------------- */

/* Starts a cell: HTML <td>, or a CSV field (quoted). */
static void
cell_begin(struct rw *w, int first)
{
	if (w->csv) {
		rw_raw(w, first ? "\"" : ",\"");
		w->cell_start = 1;
	} else
		rw_raw(w, "<td>");
}

static void
cell_end(struct rw *w)
{
	rw_raw(w, w->csv ? "\"" : "</td>");
}

/* A cell holding one text. */
static void
cell(struct rw *w, int first, const char *text)
{
	cell_begin(w, first);
	rw_text(w, text);
	cell_end(w);
}

/* Separates the items of a cell. */
static void
sep(struct rw *w, size_t i)
{
	if (i > 0)
		rw_raw(w, w->csv ? " | " : "<br>");
}

static void
cell_texts(struct rw *w, char **a, size_t n)
{
	cell_begin(w, 0);
	if (n == 0)
		rw_word(w, R_not_stated);
	for (size_t i = 0; i < n; i++) {
		sep(w, i);
		rw_text(w, a[i]);
	}
	cell_end(w);
}

static void
cell_dpo(struct rw *w, const struct policy_controller *c)
{
	const char *parts[] = {c->dpo_name, c->dpo_email, c->dpo_phone,
	                       c->dpo_address};
	size_t n = 0;

	cell_begin(w, 0);
	if (!has_dpo(c))
		rw_word(w, R_not_stated);
	for (size_t i = 0; i < 4; i++)
		if (parts[i] != NULL) {
			rw_raw(w, n++ > 0 ? ", " : "");
			rw_text(w, parts[i]);
		}
	cell_end(w);
}

static void
cell_transfers(struct rw *w, const struct policy *p, size_t purpose)
{
	size_t n = 0;

	cell_begin(w, 0);
	for (size_t i = 0; i < p->nrecipients; i++) {
		const struct policy_recipient *r = &p->recipients[i];

		if (!r->outside_eea || !receives(r, purpose))
			continue;
		sep(w, n++);
		rw_text(w, r->name);
		rw_raw(w, " (");
		rw_text(w, r->country);
		rw_raw(w, ": ");
		rw_text(w, r->safeguard);
		rw_raw(w, ")");
	}
	for (size_t i = 0; i < p->ntransfers; i++) {
		sep(w, n++);
		rw_text(w, p->transfers[i].country);
		rw_raw(w, ": ");
		rw_text(w, p->transfers[i].safeguard);
	}
	if (n == 0)
		rw_word(w, p->transfers_none ? R_transfers_none : R_not_stated);
	cell_end(w);
}

static void
row(struct rw *w, const struct policy *p, size_t i)
{
	const struct policy_controller *c = &p->controller;
	const struct policy_purpose *pp = &p->purposes[i];
	char letters[16], words[1024];
	size_t n = 0;

	if (!w->csv)
		rw_raw(w, "<tr>");
	cell(w, 1, c->name);
	cell(w, 0,
	     c->representative != NULL ? c->representative
	                               : render_word(w->lang, R_not_stated));
	cell_dpo(w, c);
	cell_begin(w, 0);
	rw_text(w, pp->description != NULL ? pp->description : pp->id);
	render_basis_letters(pp->basis, letters);
	rw_raw(w, " (");
	rw_word(w, R_basis);
	rw_raw(w, " ");
	rw_text(w, letters);
	rw_raw(w, ")");
	cell_end(w);
	cell_texts(w, pp->subjects, pp->nsubjects);
	cell_begin(w, 0);
	for (size_t j = 0; j < pp->ncategories; j++) {
		const struct policy_category *pc =
		        &p->categories[pp->categories[j]];

		sep(w, j);
		rw_text(w, pc->description != NULL ? pc->description : pc->id);
		if (pc->special) {
			rw_raw(w, " (");
			rw_word(w, R_special);
			rw_raw(w, ")");
		}
	}
	cell_end(w);
	cell_begin(w, 0);
	for (size_t j = 0; j < p->nrecipients; j++) {
		const struct policy_recipient *r = &p->recipients[j];

		if (!receives(r, i))
			continue;
		sep(w, n++);
		rw_text(w, r->name);
	}
	if (n == 0)
		rw_word(w, R_no_recipients);
	cell_end(w);
	cell_transfers(w, p, i);
	cell_begin(w, 0);
	n = 0;
	for (size_t j = 0; j < p->nretention; j++) {
		const struct policy_retention *r = &p->retention[j];

		if (!rule_applies(r, pp, i))
			continue;
		sep(w, n++);
		render_retention_words(p, r, w->lang, words, sizeof(words));
		rw_text(w, words);
	}
	if (n == 0)
		rw_word(w, R_not_stated);
	cell_end(w);
	cell_texts(w, p->security, p->nsecurity);
	rw_raw(w, w->csv ? "\r\n" : "</tr>\n");
}

static const enum render_key columns[] = {
        R_ropa_controller, R_ropa_representative, R_h_dpo,
        R_ropa_purpose,    R_ropa_subjects,       R_ropa_categories,
        R_ropa_recipients, R_ropa_transfers,      R_ropa_erasure,
        R_ropa_security};

static void
ropa_table(struct rw *w, const struct policy *p)
{
	size_t ncol = sizeof(columns) / sizeof(columns[0]);

	if (!w->csv) {
		char t[POLICY_TEXT_MAX + 128];

		snprintf(t, sizeof(t), "%s - %s",
		         render_word(w->lang, R_h_ropa), p->controller.name);
		rw_html_begin(w, t);
		rw_raw(w, "<h1>");
		rw_text(w, t);
		rw_raw(w, "</h1>\n<table>\n<thead><tr>");
	}
	for (size_t i = 0; i < ncol; i++) {
		if (w->csv) {
			cell(w, i == 0, render_word(w->lang, columns[i]));
		} else {
			rw_raw(w, "<th scope=\"col\">");
			rw_word(w, columns[i]);
			rw_raw(w, "</th>");
		}
	}
	rw_raw(w, w->csv ? "\r\n" : "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < p->npurposes; i++)
		row(w, p, i);
	if (!w->csv) {
		rw_raw(w, "</tbody>\n</table>\n");
		rw_html_end(w);
	}
}

enum vaern_err
render_ropa(const struct policy *p, enum render_lang lang,
            enum render_ropa_format format, char **out, size_t *len,
            struct vaern_msg *msg)
{
	struct rw w;
	enum vaern_err err;

	*out = NULL;
	*len = 0;
	if ((err = render_lang_check(p, lang, msg)) != VAERN_OK)
		return err;
	if (format == ROPA_JSON) {
		json_t *doc = ropa_json(p, lang);
		char *text;

		if (doc == NULL)
			return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(doc);
		if (text == NULL)
			return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		*out = text;
		*len = strlen(text);
		return VAERN_OK;
	}
	rw_init(&w, RENDER_HTML, lang);
	w.csv = format == ROPA_CSV;
	ropa_table(&w, p);
	return rw_take(&w, out, len, msg);
}
