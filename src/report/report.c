/*
 * report.c -- the access report (GDPR-15) and the portable copy (GDPR-20);
 * see report.h.
 */
#include "report.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"

/* ---- shared -------------------------------------------------------------- */

static const char *const basis_names[6] = {
        "consent",         "contract",    "legal_obligation",
        "vital_interests", "public_task", "legitimate_interests",
};

static const char *
source_name(enum data_source s)
{
	switch (s) {
	case SOURCE_SUBJECT: return "subject";
	case SOURCE_AUTOMATIC: return "automatic";
	case SOURCE_THIRD_PARTY: return "third_party";
	case SOURCE_CONTROLLER: return "controller";
	}
	return "subject";
}

static const char *
recipient_type_name(enum recipient_type t)
{
	switch (t) {
	case RECIPIENT_PROCESSOR: return "processor";
	case RECIPIENT_THIRD_PARTY: return "third_party";
	case RECIPIENT_AUTHORITY: return "authority";
	}
	return "third_party";
}

static long
days_of(int64_t seconds)
{
	int64_t d = seconds / 86400;

	if (seconds % 86400 < 0)
		d--;
	return (long)d;
}

static json_t *
instant_json(int64_t at)
{
	char buf[21];

	cal_format_instant(at, buf);
	return json_string(buf);
}

/* A fact's end: its date, null when it never goes, or "unknown". */
static json_t *
expiry_json(int64_t at)
{
	char buf[11];

	if (at == REPORT_NEVER)
		return json_null();
	if (at == INT64_MIN)
		return json_string("unknown");
	cal_format_date(days_of(at), buf);
	return json_string(buf);
}

static int
has_category(const size_t *cats, size_t n, size_t ci)
{
	for (size_t i = 0; i < n; i++)
		if (cats[i] == ci)
			return 1;
	return 0;
}

/* Adds key to o unless v is NULL (a failed allocation makes the whole
 * document fail: set sticks). */
static void
put(json_t *o, const char *key, json_t *v, int *failed)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		*failed = 1;
}

static void
append(json_t *a, json_t *v, int *failed)
{
	if (v == NULL || json_array_append_new(a, v) != 0)
		*failed = 1;
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* ---- the access report ------------------------------------------------- */

static json_t *
controller_json(const struct policy *p, int *failed)
{
	const struct policy_controller *c = &p->controller;
	json_t *o = json_object(), *auth = json_object();

	if (o == NULL || auth == NULL) {
		json_decref(o);
		json_decref(auth);
		*failed = 1;
		return NULL;
	}
	put(o, "id", json_string(c->id), failed);
	put(o, "name", str_or_null(c->name), failed);
	put(o, "registration", str_or_null(c->registration), failed);
	put(o, "address", str_or_null(c->address), failed);
	put(o, "email", str_or_null(c->email), failed);
	put(o, "phone", str_or_null(c->phone), failed);
	put(o, "country", json_string(c->country), failed);
	put(auth, "name", str_or_null(c->authority_name), failed);
	put(auth, "url", str_or_null(c->authority_url), failed);
	put(o, "complaints", str_or_null(c->complaints), failed);
	put(o, "authority", auth, failed);
	return o;
}

static json_t *
purposes_json(const struct policy *p, size_t ci, int *failed)
{
	json_t *a = json_array();

	if (a == NULL) {
		*failed = 1;
		return NULL;
	}
	for (size_t i = 0; i < p->npurposes; i++) {
		const struct policy_purpose *pu = &p->purposes[i];
		json_t *o, *basis;

		if (!has_category(pu->categories, pu->ncategories, ci))
			continue;
		o = json_object();
		basis = json_array();
		if (o == NULL || basis == NULL) {
			json_decref(o);
			json_decref(basis);
			*failed = 1;
			continue;
		}
		for (int b = 0; b < 6; b++)
			if (pu->basis & (1u << b))
				append(basis, json_string(basis_names[b]),
				       failed);
		put(o, "id", json_string(pu->id), failed);
		put(o, "description", str_or_null(pu->description), failed);
		put(o, "legal_basis", basis, failed);
		if (pu->art9) {
			char letter[2] = {pu->art9, '\0'};

			put(o, "art9", json_string(letter), failed);
		}
		if (pu->legitimate_interests != NULL)
			put(o, "legitimate_interests",
			    json_string(pu->legitimate_interests), failed);
		append(a, o, failed);
	}
	return a;
}

static json_t *
recipients_json(const struct policy *p, size_t ci, int *failed)
{
	json_t *a = json_array();

	if (a == NULL) {
		*failed = 1;
		return NULL;
	}
	for (size_t i = 0; i < p->nrecipients; i++) {
		const struct policy_recipient *r = &p->recipients[i];
		json_t *o;

		if (!has_category(r->categories, r->ncategories, ci))
			continue;
		if ((o = json_object()) == NULL) {
			*failed = 1;
			continue;
		}
		put(o, "id", json_string(r->id), failed);
		put(o, "name", str_or_null(r->name), failed);
		put(o, "type", json_string(recipient_type_name(r->type)),
		    failed);
		put(o, "country", json_string(r->country), failed);
		put(o, "outside_eea", json_boolean(r->outside_eea), failed);
		if (r->safeguard != NULL)
			put(o, "safeguard", json_string(r->safeguard), failed);
		append(a, o, failed);
	}
	return a;
}

static json_t *
fact_json(const struct report_fact *f, int with_expiry, int *failed)
{
	json_t *o = json_object();

	if (o == NULL) {
		*failed = 1;
		return NULL;
	}
	put(o, "id", json_integer(f->id), failed);
	put(o, "value", json_string(f->value), failed);
	put(o, "purpose", json_string(f->purpose), failed);
	put(o, "collected_at", instant_json(f->collected_at), failed);
	put(o, "provided_by_subject", json_boolean(f->provided), failed);
	if (with_expiry)
		put(o, "deleted_by", expiry_json(f->expires_at), failed);
	return o;
}

static json_t *
category_json(const struct policy *p, size_t ci, const struct report_input *in,
              int *failed)
{
	const struct policy_category *c = &p->categories[ci];
	json_t *o = json_object(), *facts = json_array();

	if (o == NULL || facts == NULL) {
		json_decref(o);
		json_decref(facts);
		*failed = 1;
		return NULL;
	}
	for (size_t i = 0; i < in->nfacts; i++)
		if (strcmp(in->facts[i].category, c->id) == 0)
			append(facts, fact_json(&in->facts[i], 1, failed),
			       failed);
	put(o, "category", json_string(c->id), failed);
	put(o, "description", str_or_null(c->description), failed);
	put(o, "special", json_boolean(c->special), failed);
	put(o, "source", json_string(source_name(c->source)), failed);
	if (c->source == SOURCE_THIRD_PARTY && c->source_party != NULL)
		put(o, "source_party", json_string(c->source_party), failed);
	put(o, "purposes", purposes_json(p, ci, failed), failed);
	put(o, "recipients", recipients_json(p, ci, failed), failed);
	put(o, "facts", facts, failed);
	return o;
}

static json_t *
rights_json(const struct policy *p, int *failed)
{
	static const struct {
		unsigned bit;
		const char *name;
	} rights[] = {
	        {RIGHT_ACCESS, "access"},
	        {RIGHT_RECTIFICATION, "rectification"},
	        {RIGHT_ERASURE, "erasure"},
	        {RIGHT_RESTRICTION, "restriction"},
	        {RIGHT_PORTABILITY, "portability"},
	        {RIGHT_OBJECTION, "objection"},
	};
	json_t *a = json_array();

	if (a == NULL) {
		*failed = 1;
		return NULL;
	}
	/* The GDPR gives all six whatever the policy text lists; the
	 * policy's list is what it promises on top (none can be dropped). */
	for (size_t i = 0; i < sizeof(rights) / sizeof(rights[0]); i++)
		append(a, json_string(rights[i].name), failed);
	(void)p;
	append(a, json_string("withdraw_consent"), failed);
	return a;
}

json_t *
report_access(const struct report_input *in)
{
	const struct policy *p = in->policy;
	json_t *doc = json_object(), *cats = json_array(),
	       *events = json_array(), *uses = json_array();
	int failed = 0;

	if (doc == NULL || cats == NULL || events == NULL || uses == NULL) {
		json_decref(doc);
		json_decref(cats);
		json_decref(events);
		json_decref(uses);
		return NULL;
	}
	put(doc, "report", json_string("access"), &failed);
	put(doc, "article", json_string("GDPR Art. 15"), &failed);
	put(doc, "subject", json_string(in->subject), &failed);
	put(doc, "generated_at", instant_json(in->now), &failed);
	put(doc, "language", json_string(p->controller.language), &failed);
	put(doc, "controller", controller_json(p, &failed), &failed);
	/* Only the categories the person has data in. */
	for (size_t ci = 0; ci < p->ncategories; ci++) {
		int any = 0;

		for (size_t i = 0; i < in->nfacts && !any; i++)
			any = strcmp(in->facts[i].category,
			             p->categories[ci].id) == 0;
		if (any)
			append(cats, category_json(p, ci, in, &failed),
			       &failed);
	}
	put(doc, "categories", cats, &failed);
	for (size_t i = 0; i < in->nevents; i++) {
		json_t *o = json_object();

		if (o == NULL) {
			failed = 1;
			break;
		}
		put(o, "kind", json_string(in->events[i].kind), &failed);
		put(o, "at", instant_json(in->events[i].at), &failed);
		append(events, o, &failed);
	}
	put(doc, "events", events, &failed);
	for (size_t i = 0; i < in->nuses; i++) {
		const struct report_use *u = &in->uses[i];
		json_t *o = json_object();

		if (o == NULL) {
			failed = 1;
			break;
		}
		put(o, "seq", json_integer(u->seq), &failed);
		put(o, "at", instant_json(u->at), &failed);
		put(o, "role", json_string(u->role ? u->role : ""), &failed);
		put(o, "purpose", json_string(u->purpose ? u->purpose : ""),
		    &failed);
		put(o, "action", json_string(u->action ? u->action : ""),
		    &failed);
		put(o, "categories",
		    json_string(u->categories ? u->categories : ""), &failed);
		put(o, "allowed", json_boolean(u->allowed), &failed);
		put(o, "rule", json_string(u->rule ? u->rule : ""), &failed);
		append(uses, o, &failed);
	}
	put(doc, "processing", uses, &failed);
	put(doc, "rights", rights_json(p, &failed), &failed);
	if (failed) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* ---- the portable copy ------------------------------------------------- */

int
report_is_portable(const struct policy *p, const struct report_fact *f)
{
	long pi;

	if (!f->provided)
		return 0;
	pi = policy_purpose_index(p, f->purpose);
	return pi >= 0 && (p->purposes[pi].basis & (BASIS_A | BASIS_B)) != 0;
}

json_t *
report_portable(const struct report_input *in)
{
	json_t *doc = json_object(), *data = json_array();
	int failed = 0;

	if (doc == NULL || data == NULL) {
		json_decref(doc);
		json_decref(data);
		return NULL;
	}
	put(doc, "format", json_string("vaern-portable/1"), &failed);
	put(doc, "article", json_string("GDPR Art. 20"), &failed);
	put(doc, "controller", json_string(in->policy->controller.id), &failed);
	put(doc, "subject", json_string(in->subject), &failed);
	put(doc, "generated_at", instant_json(in->now), &failed);
	for (size_t i = 0; i < in->nfacts; i++) {
		const struct report_fact *f = &in->facts[i];
		json_t *o;

		if (!report_is_portable(in->policy, f))
			continue;
		if ((o = json_object()) == NULL) {
			failed = 1;
			break;
		}
		put(o, "category", json_string(f->category), &failed);
		put(o, "value", json_string(f->value), &failed);
		put(o, "purpose", json_string(f->purpose), &failed);
		put(o, "collected_at", instant_json(f->collected_at), &failed);
		append(data, o, &failed);
	}
	put(doc, "data", data, &failed);
	if (failed) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* A growing string whose old copies are wiped: it holds personal data. */
struct buf {
	char *data;
	size_t len, cap;
	int failed;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((d = malloc(cap)) == NULL) {
			b->failed = 1;
			return;
		}
		if (b->data != NULL) {
			memcpy(d, b->data, b->len);
			sodium_memzero(b->data, b->cap);
			free(b->data);
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static char *
buf_finish(struct buf *b, size_t *len)
{
	if (b->failed) {
		if (b->data != NULL) {
			sodium_memzero(b->data, b->cap);
			free(b->data);
		}
		return NULL;
	}
	if (b->data == NULL)
		buf_add(b, "", 0);
	if (b->failed)
		return NULL;
	if (len != NULL)
		*len = b->len;
	return b->data;
}

/* One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line
 * end, or starts with a character a spreadsheet would run as a formula. */
static void
csv_field(struct buf *b, const char *s)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL ||
	            (s[0] != '\0' && strchr("=+-@\t", s[0]) != NULL);

	if (!quote) {
		buf_str(b, s);
		return;
	}
	buf_add(b, "\"", 1);
	if (s[0] != '\0' && strchr("=+-@\t", s[0]) != NULL)
		buf_add(b, "'", 1); /* not a formula (CWE-1236) */
	for (const char *q = s; *q; q++) {
		if (*q == '"')
			buf_add(b, "\"\"", 2);
		else
			buf_add(b, q, 1);
	}
	buf_add(b, "\"", 1);
}

char *
report_portable_csv(const struct report_input *in, size_t *len)
{
	struct buf b = {NULL, 0, 0, 0};
	char when[21];

	buf_str(&b, "category,value,purpose,collected_at\r\n");
	for (size_t i = 0; i < in->nfacts; i++) {
		const struct report_fact *f = &in->facts[i];

		if (!report_is_portable(in->policy, f))
			continue;
		csv_field(&b, f->category);
		buf_add(&b, ",", 1);
		csv_field(&b, f->value);
		buf_add(&b, ",", 1);
		csv_field(&b, f->purpose);
		buf_add(&b, ",", 1);
		cal_format_instant(f->collected_at, when);
		buf_str(&b, when);
		buf_add(&b, "\r\n", 2);
	}
	return buf_finish(&b, len);
}

/* ---- the HTML page ------------------------------------------------------- */

enum label {
	L_TITLE,
	L_INTRO,
	L_CONTROLLER,
	L_GENERATED,
	L_CATEGORY,
	L_SOURCE,
	L_PURPOSES,
	L_BASIS,
	L_RECIPIENTS,
	L_NONE,
	L_VALUE,
	L_COLLECTED,
	L_DELETED_BY,
	L_KEPT_OPEN,
	L_PROCESSING,
	L_WHEN,
	L_ROLE,
	L_ACTION,
	L_DECISION,
	L_ALLOWED,
	L_DENIED,
	L_RIGHTS,
	L_COMPLAIN,
	L_AUTHORITY,
	L_EVENTS,
	L_COUNT
};

static const char *const labels[3][L_COUNT] = {
        /* English */
        {"Your personal data",
         "This is the data we hold about you and "
         "what we do with it (GDPR Art. 15).",
         "Controller",
         "Made",
         "Category",
         "Source",
         "Purposes",
         "Legal basis",
         "Recipients",
         "none",
         "Value",
         "Collected",
         "Deleted by",
         "no date yet: kept while its reason lasts",
         "Processing recorded",
         "When",
         "Role",
         "Action",
         "Decision",
         "allowed",
         "refused",
         "Your rights",
         "Complaints",
         "Supervisory authority",
         "Events"},
        /* Danish */
        {"Dine personoplysninger",
         "Her er de oplysninger, vi har om dig, "
         "og hvad vi bruger dem til (databeskyttelsesforordningen art. 15).",
         "Dataansvarlig",
         "Dannet",
         "Kategori",
         "Kilde",
         "Formål",
         "Retsgrundlag",
         "Modtagere",
         "ingen",
         "Værdi",
         "Indsamlet",
         "Slettes senest",
         "ingen dato endnu: opbevares, så længe formålet består",
         "Registreret behandling",
         "Hvornår",
         "Rolle",
         "Handling",
         "Afgørelse",
         "tilladt",
         "afvist",
         "Dine rettigheder",
         "Klager",
         "Tilsynsmyndighed",
         "Hændelser"},
        /* Swedish */
        {"Dina personuppgifter",
         "Här är de uppgifter vi har om dig och "
         "vad vi gör med dem (dataskyddsförordningen artikel 15).",
         "Personuppgiftsansvarig",
         "Skapad",
         "Kategori",
         "Källa",
         "Ändamål",
         "Rättslig grund",
         "Mottagare",
         "inga",
         "Värde",
         "Insamlad",
         "Raderas senast",
         "inget datum än: sparas så länge ändamålet består",
         "Registrerad behandling",
         "När",
         "Roll",
         "Åtgärd",
         "Beslut",
         "tillåten",
         "nekad",
         "Dina rättigheter",
         "Klagomål",
         "Tillsynsmyndighet",
         "Händelser"},
};

static const char *const right_labels[3][7] = {
        {"access", "rectification", "erasure", "restriction", "portability",
         "objection", "withdrawing consent"},
        {"indsigt", "berigtigelse", "sletning", "begrænsning",
         "dataportabilitet", "indsigelse", "tilbagetrækning af samtykke"},
        {"tillgång", "rättelse", "radering", "begränsning", "dataportabilitet",
         "invändning", "återkallelse av samtycke"},
};

static void
html_text(struct buf *b, const char *s)
{
	for (const char *q = s; q != NULL && *q; q++) {
		switch (*q) {
		case '&': buf_str(b, "&amp;"); break;
		case '<': buf_str(b, "&lt;"); break;
		case '>': buf_str(b, "&gt;"); break;
		case '"': buf_str(b, "&quot;"); break;
		case '\'': buf_str(b, "&#39;"); break;
		default: buf_add(b, q, 1);
		}
	}
}

static const char *
member(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static void
tag(struct buf *b, const char *open, const char *text, const char *close)
{
	buf_str(b, open);
	html_text(b, text);
	buf_str(b, close);
}

static void
html_category(struct buf *b, const char *const *l, const json_t *c)
{
	const json_t *v;
	size_t i;

	tag(b, "<section><h2>",
	    member(c, "description")[0] ? member(c, "description")
	                                : member(c, "category"),
	    "</h2>\n<dl>");
	tag(b, "<dt>", l[L_CATEGORY], "</dt>");
	tag(b, "<dd><code>", member(c, "category"), "</code></dd>");
	tag(b, "<dt>", l[L_SOURCE], "</dt>");
	buf_str(b, "<dd>");
	html_text(b, member(c, "source"));
	if (json_object_get(c, "source_party") != NULL)
		tag(b, " (", member(c, "source_party"), ")");
	buf_str(b, "</dd>");
	tag(b, "<dt>", l[L_PURPOSES], "</dt><dd><ul>");
	json_array_foreach(json_object_get(c, "purposes"), i, v)
	{
		const json_t *basis;
		size_t k;

		tag(b, "<li>",
		    member(v, "description")[0] ? member(v, "description")
		                                : member(v, "id"),
		    "");
		tag(b, " &mdash; ", l[L_BASIS], ": ");
		json_array_foreach(json_object_get(v, "legal_basis"), k, basis)
		{
			if (k > 0)
				buf_str(b, ", ");
			html_text(b, json_string_value(basis));
		}
		buf_str(b, "</li>");
	}
	buf_str(b, "</ul></dd>");
	tag(b, "<dt>", l[L_RECIPIENTS], "</dt><dd>");
	if (json_array_size(json_object_get(c, "recipients")) == 0)
		html_text(b, l[L_NONE]);
	json_array_foreach(json_object_get(c, "recipients"), i, v)
	{
		if (i > 0)
			buf_str(b, ", ");
		html_text(b, member(v, "name")[0] ? member(v, "name")
		                                  : member(v, "id"));
		tag(b, " (", member(v, "country"), ")");
	}
	buf_str(b, "</dd></dl>\n<table><tr>");
	tag(b, "<th>", l[L_VALUE], "</th>");
	tag(b, "<th>", l[L_PURPOSES], "</th>");
	tag(b, "<th>", l[L_COLLECTED], "</th>");
	tag(b, "<th>", l[L_DELETED_BY], "</th></tr>\n");
	json_array_foreach(json_object_get(c, "facts"), i, v)
	{
		const json_t *end = json_object_get(v, "deleted_by");

		tag(b, "<tr><td>", member(v, "value"), "</td>");
		tag(b, "<td>", member(v, "purpose"), "</td>");
		tag(b, "<td>", member(v, "collected_at"), "</td>");
		tag(b, "<td>",
		    json_is_string(end) ? json_string_value(end)
		                        : l[L_KEPT_OPEN],
		    "</td></tr>\n");
	}
	buf_str(b, "</table></section>\n");
}

char *
report_access_html(const json_t *report, const char *lang, size_t *len)
{
	int li = lang != NULL && strcmp(lang, "da") == 0   ? 1
	         : lang != NULL && strcmp(lang, "sv") == 0 ? 2
	                                                   : 0;
	const char *const *l = labels[li];
	const json_t *ctrl = json_object_get(report, "controller"), *v;
	const json_t *auth = json_object_get(ctrl, "authority");
	struct buf b = {NULL, 0, 0, 0};
	size_t i;

	buf_str(&b, "<!DOCTYPE html>\n<html lang=\"");
	buf_str(&b, li == 1 ? "da" : li == 2 ? "sv" : "en");
	buf_str(&b, "\"><head><meta charset=\"utf-8\"><title>");
	html_text(&b, l[L_TITLE]);
	buf_str(&b, "</title></head>\n<body>\n");
	tag(&b, "<h1>", l[L_TITLE], "</h1>\n");
	tag(&b, "<p>", l[L_INTRO], "</p>\n<p>");
	tag(&b, "", l[L_CONTROLLER], ": ");
	tag(&b, "<strong>", member(ctrl, "name"), "</strong>");
	tag(&b, ", ", member(ctrl, "address"), "");
	tag(&b, ", ", member(ctrl, "email"), "<br>");
	tag(&b, "", l[L_GENERATED], ": ");
	tag(&b, "<time>", member(report, "generated_at"), "</time></p>\n");
	json_array_foreach(json_object_get(report, "categories"), i, v)
	        html_category(&b, l, v);
	if (json_array_size(json_object_get(report, "events")) > 0) {
		tag(&b, "<section><h2>", l[L_EVENTS], "</h2><ul>");
		json_array_foreach(json_object_get(report, "events"), i, v)
		{
			tag(&b, "<li>", member(v, "at"), " ");
			tag(&b, "", member(v, "kind"), "</li>");
		}
		buf_str(&b, "</ul></section>\n");
	}
	tag(&b, "<section><h2>", l[L_PROCESSING], "</h2>\n<table><tr>");
	tag(&b, "<th>", l[L_WHEN], "</th>");
	tag(&b, "<th>", l[L_ROLE], "</th>");
	tag(&b, "<th>", l[L_PURPOSES], "</th>");
	tag(&b, "<th>", l[L_ACTION], "</th>");
	tag(&b, "<th>", l[L_DECISION], "</th></tr>\n");
	json_array_foreach(json_object_get(report, "processing"), i, v)
	{
		tag(&b, "<tr><td>", member(v, "at"), "</td>");
		tag(&b, "<td>", member(v, "role"), "</td>");
		tag(&b, "<td>", member(v, "purpose"), "</td>");
		tag(&b, "<td>", member(v, "action"), "</td>");
		tag(&b, "<td>",
		    json_is_true(json_object_get(v, "allowed")) ? l[L_ALLOWED]
		                                                : l[L_DENIED],
		    "</td></tr>\n");
	}
	buf_str(&b, "</table></section>\n");
	tag(&b, "<section><h2>", l[L_RIGHTS], "</h2><ul>");
	for (int r = 0; r < 7; r++)
		tag(&b, "<li>", right_labels[li][r], "</li>");
	buf_str(&b, "</ul></section>\n");
	tag(&b, "<section><h2>", l[L_COMPLAIN], "</h2>");
	if (member(ctrl, "complaints")[0])
		tag(&b, "<p>", member(ctrl, "complaints"), "</p>");
	tag(&b, "<p>", l[L_AUTHORITY], ": ");
	html_text(&b, member(auth, "name"));
	if (member(auth, "url")[0]) {
		buf_str(&b, " <a href=\"");
		html_text(&b, member(auth, "url"));
		buf_str(&b, "\">");
		html_text(&b, member(auth, "url"));
		buf_str(&b, "</a>");
	}
	buf_str(&b, "</p></section>\n</body></html>\n");
	return buf_finish(&b, len);
}
