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

static json_t *
instant_json(int64_t at)
{
	char buf[21];

	cal_format_instant(at, buf);
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

/* A growing string whose old copies are wiped: it holds personal data. */
struct buf {
	char *data;
	size_t len, cap;
	int failed;
};

/* Grows b to hold n more bytes; 0 on success. The old copy is wiped. */
static int
buf_grow(struct buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *d;

	if (b->failed)
		return -1;
	while (cap < b->len + n + 1)
		cap *= 2;
	if ((d = malloc(cap)) == NULL) {
		b->failed = 1;
		return -1;
	}
	if (b->data != NULL) {
		memcpy(d, b->data, b->len);
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	b->data = d;
	b->cap = cap;
	return 0;
}

static inline void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap && buf_grow(b, n) != 0)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Makes room for n bytes up front (an empty buffer only). */
static void
buf_reserve(struct buf *b, size_t n)
{
	if (b->data != NULL || b->failed)
		return;
	if ((b->data = malloc(n + 1)) == NULL) {
		b->failed = 1;
		return;
	}
	b->cap = n + 1;
	b->data[0] = '\0';
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

/* ---- the access report (streamed JSON) -------------------------------- */

/* 1 for the bytes a JSON string must escape: controls, '"', '\\'. */
static const unsigned char needs_escape[256] = {
        [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
        [0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
        [0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
        [0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
        [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
        [0x1e] = 1, [0x1f] = 1, ['"'] = 1,  ['\\'] = 1,
};

static void
j_str(struct buf *b, const char *s)
{
	const unsigned char *q = (const unsigned char *)s;
	const char *run = s;

	buf_add(b, "\"", 1);
	for (;; q++) {
		char esc[8];

		while (!needs_escape[*q])
			q++;
		if (*q == '\0')
			break;
		buf_add(b, run, (size_t)((const char *)q - run));
		run = (const char *)q + 1;
		switch (*q) {
		case '"': buf_add(b, "\\\"", 2); break;
		case '\\': buf_add(b, "\\\\", 2); break;
		case '\n': buf_add(b, "\\n", 2); break;
		case '\r': buf_add(b, "\\r", 2); break;
		case '\t': buf_add(b, "\\t", 2); break;
		default:
			(void)snprintf(esc, sizeof(esc), "\\u%04x", *q);
			buf_add(b, esc, 6);
		}
	}
	buf_add(b, run, (size_t)((const char *)q - run));
	buf_add(b, "\"", 1);
}

/* ,"key": (the comma unless first) */
static void
j_key(struct buf *b, const char *key, int first)
{
	/* Keys are this file's own literals: nothing in them to escape. */
	size_t n = strlen(key);

	if (!first)
		buf_add(b, ",", 1);
	buf_add(b, "\"", 1);
	buf_add(b, key, n);
	buf_add(b, "\":", 2);
}

static void
j_kstr(struct buf *b, const char *key, const char *v, int first)
{
	j_key(b, key, first);
	if (v == NULL)
		buf_str(b, "null");
	else
		j_str(b, v);
}

static void
j_kint(struct buf *b, const char *key, int64_t v, int first)
{
	char num[24], *d = num + sizeof(num);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	j_key(b, key, first);
	do
		*--d = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--d = '-';
	buf_add(b, d, (size_t)(num + sizeof(num) - d));
}

static void
j_kbool(struct buf *b, const char *key, int v)
{
	j_key(b, key, 0);
	buf_str(b, v ? "true" : "false");
}

static void
j_kinstant(struct buf *b, const char *key, int64_t at)
{
	char when[21];

	cal_format_instant(at, when);
	j_kstr(b, key, when, 0);
}

static void
j_kexpiry(struct buf *b, const char *key, int64_t at)
{
	char day[11];

	if (at == REPORT_NEVER) {
		j_kstr(b, key, NULL, 0);
		return;
	}
	if (at == INT64_MIN) {
		j_kstr(b, key, "unknown", 0);
		return;
	}
	cal_format_date(cal_day_of(at), day);
	j_kstr(b, key, day, 0);
}

static void
j_controller(struct buf *b, const struct policy *p)
{
	const struct policy_controller *c = &p->controller;

	buf_add(b, "{", 1);
	j_kstr(b, "id", c->id, 1);
	j_kstr(b, "name", c->name, 0);
	j_kstr(b, "registration", c->registration, 0);
	j_kstr(b, "address", c->address, 0);
	j_kstr(b, "email", c->email, 0);
	j_kstr(b, "phone", c->phone, 0);
	j_kstr(b, "country", c->country, 0);
	j_kstr(b, "complaints", c->complaints, 0);
	j_key(b, "authority", 0);
	buf_add(b, "{", 1);
	j_kstr(b, "name", c->authority_name, 1);
	j_kstr(b, "url", c->authority_url, 0);
	buf_str(b, "}}");
}

static void
j_purposes(struct buf *b, const struct policy *p, size_t ci)
{
	int first = 1;

	buf_add(b, "[", 1);
	for (size_t i = 0; i < p->npurposes; i++) {
		const struct policy_purpose *pu = &p->purposes[i];
		int bfirst = 1;

		if (!has_category(pu->categories, pu->ncategories, ci))
			continue;
		if (!first)
			buf_add(b, ",", 1);
		first = 0;
		buf_add(b, "{", 1);
		j_kstr(b, "id", pu->id, 1);
		j_kstr(b, "description", pu->description, 0);
		j_key(b, "legal_basis", 0);
		buf_add(b, "[", 1);
		for (int k = 0; k < 6; k++) {
			if (!(pu->basis & (1u << k)))
				continue;
			if (!bfirst)
				buf_add(b, ",", 1);
			bfirst = 0;
			j_str(b, basis_names[k]);
		}
		buf_add(b, "]", 1);
		if (pu->art9) {
			char letter[2] = {pu->art9, '\0'};

			j_kstr(b, "art9", letter, 0);
		}
		if (pu->legitimate_interests != NULL)
			j_kstr(b, "legitimate_interests",
			       pu->legitimate_interests, 0);
		buf_add(b, "}", 1);
	}
	buf_add(b, "]", 1);
}

static void
j_recipients(struct buf *b, const struct policy *p, size_t ci)
{
	int first = 1;

	buf_add(b, "[", 1);
	for (size_t i = 0; i < p->nrecipients; i++) {
		const struct policy_recipient *r = &p->recipients[i];

		if (!has_category(r->categories, r->ncategories, ci))
			continue;
		if (!first)
			buf_add(b, ",", 1);
		first = 0;
		buf_add(b, "{", 1);
		j_kstr(b, "id", r->id, 1);
		j_kstr(b, "name", r->name, 0);
		j_kstr(b, "type", recipient_type_name(r->type), 0);
		j_kstr(b, "country", r->country, 0);
		j_kbool(b, "outside_eea", r->outside_eea);
		if (r->safeguard != NULL)
			j_kstr(b, "safeguard", r->safeguard, 0);
		buf_add(b, "}", 1);
	}
	buf_add(b, "]", 1);
}

/*
 * TEL-CAT-3, GDPR-15: the name of where fact f came from, as the policy
 * declares it ("Krak (118.dk)"), or NULL when the fact names only a kind.
 */
static const char *
source_shown(const struct policy *p, const struct policy_category *c,
             const struct report_fact *f)
{
	const struct policy_source *s;

	if (f->source == NULL)
		return NULL;
	if ((s = policy_source_find(p, f->source)) != NULL)
		return s->name;
	if (c != NULL && c->source_party != NULL &&
	    strcmp(f->source, c->source_party) == 0)
		return c->source_party;
	return NULL;
}

/* CEK-CONTACT-1: 1 if f is of a category given about another person. */
static int
about_others(const struct policy *p, const struct report_fact *f)
{
	long ci = policy_category_index(p, f->category);

	return ci >= 0 && p->categories[ci].about_others;
}

/* For each fact, the index of its category in the policy (-1: none). */
static long *
fact_categories(const struct report_input *in, unsigned char *present)
{
	long *fc = malloc((in->nfacts + 1) * sizeof(*fc));

	if (fc == NULL)
		return NULL;
	for (size_t i = 0; i < in->nfacts; i++) {
		fc[i] = policy_category_index(in->policy,
		                              in->facts[i].category);
		if (fc[i] >= 0)
			present[fc[i]] = 1;
	}
	return fc;
}

static const char *const rights_names[7] = {
        "access",      "rectification", "erasure",         "restriction",
        "portability", "objection",     "withdraw_consent"};

/* The entry of withheld for category ci, or NULL. */
static const struct report_withheld *
withheld_of(const struct report_input *in, size_t ci)
{
	for (size_t i = 0; i < in->nwithheld; i++)
		if (in->withheld[i].category == ci)
			return &in->withheld[i];
	return NULL;
}

static const char *
unit_name(enum period_unit u)
{
	switch (u) {
	case PERIOD_DAYS: return "days";
	case PERIOD_WEEKS: return "weeks";
	case PERIOD_MONTHS: return "months";
	case PERIOD_YEARS: return "years";
	}
	return "?";
}

/* The retention rules that hold category ci (GDPR-15(1)(d)): [{"rule",
 * "clause", "period", "from"}]. */
static void
j_retention(struct buf *b, const struct policy *p, size_t ci)
{
	int first = 1;
	char period[32];

	buf_add(b, "[", 1);
	for (size_t i = 0; i < p->nretention; i++) {
		const struct policy_retention *r = &p->retention[i];

		if (!has_category(r->categories, r->ncategories, ci))
			continue;
		if (!first)
			buf_add(b, ",", 1);
		first = 0;
		buf_add(b, "{", 1);
		j_kstr(b, "rule", r->id, 1);
		if (r->clause != NULL)
			j_kstr(b, "clause", r->clause, 0);
		(void)snprintf(period, sizeof(period), "%d %s", r->period.count,
		               unit_name(r->period.unit));
		j_kstr(b, "period", period, 0);
		j_key(b, "from", 0);
		buf_add(b, "[", 1);
		for (size_t k = 0; k < r->nanchors; k++) {
			if (k > 0)
				buf_add(b, ",", 1);
			j_str(b, r->anchors[k]);
		}
		buf_str(b, "]}");
	}
	buf_add(b, "]", 1);
}

char *
report_access_json(const struct report_input *in, size_t *len)
{
	const struct policy *p = in->policy;
	struct buf b = {NULL, 0, 0, 0};
	char kept[REPORT_RETENTION_WORDS_MAX];
	unsigned char *present = calloc(p->ncategories + 1, 1);
	long *fc = present != NULL ? fact_categories(in, present) : NULL;
	int first = 1;

	if (fc == NULL) {
		free(present);
		return NULL;
	}
	/* One allocation in the common case: the values and a line of
	 * JSON around each fact and each entry. */
	{
		size_t want = 65536 + in->nfacts * 200 + in->nuses * 240;

		for (size_t i = 0; i < in->nfacts; i++)
			want += strlen(in->facts[i].value);
		buf_reserve(&b, want);
	}
	buf_add(&b, "{", 1);
	j_kstr(&b, "report", "access", 1);
	j_kstr(&b, "article", "GDPR Art. 15", 0);
	j_kstr(&b, "subject", in->subject, 0);
	if (in->request != NULL) {
		j_kstr(&b, "request", in->request, 0);
		j_kstr(&b, "request_type", in->request_type, 0);
	}
	j_kinstant(&b, "generated_at", in->now);
	j_kstr(&b, "language", p->controller.language, 0);
	{
		int others = 0;

		for (size_t i = 0; i < in->nfacts; i++)
			others |= about_others(p, &in->facts[i]);
		/* CEK-CONTACT-1: the report says so. */
		j_kbool(&b, "contains_data_about_others", others);
		if (others)
			j_kstr(&b, "about_others_note",
			       "Some of this data was given by you about "
			       "another "
			       "person (e.g. a contact person or a relative); "
			       "it "
			       "is marked about_others (CEK-CONTACT-1).",
			       0);
	}
	j_key(&b, "controller", 0);
	j_controller(&b, p);
	/* Only the categories the person has data in, in the policy's
	 * order. */
	j_key(&b, "categories", 0);
	buf_add(&b, "[", 1);
	for (size_t ci = 0; ci < p->ncategories; ci++) {
		const struct policy_category *c = &p->categories[ci];
		int ffirst = 1;

		const struct report_withheld *w = withheld_of(in, ci);

		if (!present[ci] && w == NULL)
			continue;
		if (!first)
			buf_add(&b, ",", 1);
		first = 0;
		buf_add(&b, "{", 1);
		j_kstr(&b, "category", c->id, 1);
		if (w != NULL) {
			/* TEL-LOG-2, GDPR-15(1): told it exists, not shown. */
			j_key(&b, "withheld", 0);
			buf_add(&b, "{", 1);
			j_kstr(&b, "rule", w->rule, 1);
			j_kstr(&b, "reason", w->reason, 0);
			j_kint(&b, "facts", (int64_t)w->facts, 0);
			buf_add(&b, "}", 1);
		}
		j_key(&b, "retention", 0);
		j_retention(&b, p, ci);
		j_kstr(&b, "description", c->description, 0);
		j_kbool(&b, "special", c->special);
		j_kstr(&b, "source", source_name(c->source), 0);
		/* GDPR-15: beside the rules, the period or its criteria in
		 * words, in lang or the controller's language. */
		(void)report_retention_words(
		        p, ci,
		        in->lang != NULL ? in->lang : p->controller.language,
		        kept, sizeof(kept));
		j_kstr(&b, "retention_text", kept, 0);
		if (c->source == SOURCE_THIRD_PARTY && c->source_party)
			j_kstr(&b, "source_party", c->source_party, 0);
		/* CEK-CONTACT-1: given by the person about someone else. */
		j_kbool(&b, "about_others", c->about_others);
		j_key(&b, "purposes", 0);
		j_purposes(&b, p, ci);
		j_key(&b, "recipients", 0);
		j_recipients(&b, p, ci);
		j_key(&b, "facts", 0);
		buf_add(&b, "[", 1);
		for (size_t i = 0; i < in->nfacts; i++) {
			const struct report_fact *f = &in->facts[i];

			if (fc[i] != (long)ci)
				continue;
			if (!ffirst)
				buf_add(&b, ",", 1);
			ffirst = 0;
			buf_add(&b, "{", 1);
			j_kint(&b, "id", f->id, 1);
			j_kstr(&b, "value", f->value, 0);
			j_kstr(&b, "purpose", f->purpose, 0);
			j_kinstant(&b, "collected_at", f->collected_at);
			j_kbool(&b, "provided_by_subject", f->provided);
			if (f->source != NULL)
				j_kstr(&b, "source", f->source, 0);
			if (source_shown(p, c, f) != NULL)
				j_kstr(&b, "source_name", source_shown(p, c, f),
				       0);
			j_kbool(&b, "about_others", c->about_others);
			j_kexpiry(&b, "deleted_by", f->expires_at);
			/* GDPR-15: no date yet, never a bare null: what the
			 * date waits for, in words. */
			if (f->expires_at == REPORT_NEVER)
				j_kstr(&b, "retention_text", kept, 0);
			buf_add(&b, "}", 1);
		}
		buf_str(&b, "]}");
	}
	buf_add(&b, "]", 1);
	j_key(&b, "events", 0);
	buf_add(&b, "[", 1);
	for (size_t i = 0; i < in->nevents; i++) {
		if (i > 0)
			buf_add(&b, ",", 1);
		buf_add(&b, "{", 1);
		j_kstr(&b, "kind", in->events[i].kind, 1);
		j_kinstant(&b, "at", in->events[i].at);
		buf_add(&b, "}", 1);
	}
	buf_add(&b, "]", 1);
	j_key(&b, "processing", 0);
	buf_add(&b, "[", 1);
	for (size_t i = 0; i < in->nuses; i++) {
		const struct report_use *u = &in->uses[i];

		if (i > 0)
			buf_add(&b, ",", 1);
		buf_add(&b, "{", 1);
		j_kint(&b, "seq", u->seq, 1);
		j_kinstant(&b, "at", u->at);
		j_kstr(&b, "role", u->role ? u->role : "", 0);
		j_kstr(&b, "purpose", u->purpose ? u->purpose : "", 0);
		j_kstr(&b, "action", u->action ? u->action : "", 0);
		j_kstr(&b, "categories", u->categories ? u->categories : "", 0);
		j_kbool(&b, "allowed", u->allowed);
		j_kstr(&b, "rule", u->rule ? u->rule : "", 0);
		buf_add(&b, "}", 1);
	}
	buf_add(&b, "]", 1);
	/* The GDPR gives all of them whatever the policy text lists. */
	j_key(&b, "rights", 0);
	buf_add(&b, "[", 1);
	for (int r = 0; r < 7; r++) {
		if (r > 0)
			buf_add(&b, ",", 1);
		j_str(&b, rights_names[r]);
	}
	buf_str(&b, "]}");
	free(fc);
	free(present);
	return buf_finish(&b, len);
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
	if (in->request != NULL) {
		put(doc, "request", json_string(in->request), &failed);
		put(doc, "request_type", json_string(in->request_type),
		    &failed);
	}
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
		/* CEK-CONTACT-1: given by the person about someone else. */
		put(o, "about_others",
		    json_boolean(about_others(in->policy, f)), &failed);
		append(data, o, &failed);
	}
	put(doc, "data", data, &failed);
	if (in->nwithheld > 0) {
		json_t *wl = json_array();

		for (size_t i = 0; wl != NULL && i < in->nwithheld; i++) {
			const struct report_withheld *w = &in->withheld[i];

			append(wl,
			       json_pack("{s:s, s:s, s:s, s:I}", "category",
			                 in->policy->categories[w->category].id,
			                 "rule", w->rule, "reason", w->reason,
			                 "facts", (json_int_t)w->facts),
			       &failed);
		}
		put(doc, "withheld", wl, &failed);
	}
	if (failed) {
		json_decref(doc);
		return NULL;
	}
	return doc;
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

	int others = 0;

	/* CEK-CONTACT-1: a copy holding data the person gave about others
	 * says so in a fifth column (absent otherwise, so the common copy
	 * keeps its four). */
	for (size_t i = 0; i < in->nfacts; i++)
		others |= report_is_portable(in->policy, &in->facts[i]) &&
		          about_others(in->policy, &in->facts[i]);
	buf_str(&b,
	        others ? "category,value,purpose,collected_at,about_others\r\n"
	               : "category,value,purpose,collected_at\r\n");
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
		if (others)
			buf_str(&b, about_others(in->policy, f) ? ",true"
			                                        : ",false");
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
	L_REQUEST,
	L_WITHHELD,
	L_RETENTION,
	L_ABOUT_OTHERS,
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
         "Events",
         "Your request",
         "Kept about you, but not shown in this report (the rule in "
         "brackets)",
         "Kept",
         "Given by you about another person (CEK-CONTACT-1)"},
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
         "Hændelser",
         "Din anmodning",
         "Opbevares om dig, men vises ikke i denne rapport (reglen i "
         "parentes)",
         "Opbevares",
         "Givet af dig om en anden person (CEK-CONTACT-1)"},
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
         "Händelser",
         "Din begäran",
         "Sparas om dig men visas inte i denna rapport (regeln inom "
         "parentes)",
         "Sparas",
         "Lämnat av dig om en annan person (CEK-CONTACT-1)"},
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

static void
tag(struct buf *b, const char *open, const char *text, const char *close)
{
	buf_str(b, open);
	html_text(b, text);
	buf_str(b, close);
}

static const char *
or_empty(const char *s)
{
	return s != NULL ? s : "";
}

static void
html_category(struct buf *b, const char *const *l, const char *lang,
              const struct report_input *in, size_t ci, const long *fc)
{
	const struct policy *p = in->policy;
	const struct policy_category *c = &p->categories[ci];
	int any = 0;
	char when[21], day[11], kept[REPORT_RETENTION_WORDS_MAX];

	/* GDPR-15: the period, or the criteria that set it, in words. */
	(void)report_retention_words(p, ci, lang, kept, sizeof(kept));

	tag(b, "<section><h2>", c->description ? c->description : c->id,
	    "</h2>\n<dl>");
	tag(b, "<dt>", l[L_CATEGORY], "</dt>");
	tag(b, "<dd><code>", c->id, "</code></dd>");
	tag(b, "<dt>", l[L_SOURCE], "</dt><dd>");
	html_text(b, source_name(c->source));
	if (c->source == SOURCE_THIRD_PARTY && c->source_party != NULL)
		tag(b, " (", c->source_party, ")");
	buf_str(b, "</dd>");
	if (c->about_others)
		tag(b, "<dd><em>", l[L_ABOUT_OTHERS], "</em></dd>");
	tag(b, "<dt>", l[L_PURPOSES], "</dt><dd><ul>");
	for (size_t i = 0; i < p->npurposes; i++) {
		const struct policy_purpose *pu = &p->purposes[i];
		int bfirst = 1;

		if (!has_category(pu->categories, pu->ncategories, ci))
			continue;
		tag(b, "<li>", pu->description ? pu->description : pu->id, "");
		tag(b, " &mdash; ", l[L_BASIS], ": ");
		for (int k = 0; k < 6; k++) {
			if (!(pu->basis & (1u << k)))
				continue;
			if (!bfirst)
				buf_str(b, ", ");
			bfirst = 0;
			html_text(b, basis_names[k]);
		}
		buf_str(b, "</li>");
	}
	buf_str(b, "</ul></dd>");
	tag(b, "<dt>", l[L_RECIPIENTS], "</dt><dd>");
	for (size_t i = 0; i < p->nrecipients; i++) {
		const struct policy_recipient *r = &p->recipients[i];

		if (!has_category(r->categories, r->ncategories, ci))
			continue;
		if (any)
			buf_str(b, ", ");
		any = 1;
		html_text(b, r->name ? r->name : r->id);
		tag(b, " (", r->country, ")");
	}
	if (!any)
		html_text(b, l[L_NONE]);
	/* GDPR-15(1)(d): how long, in words, in the page's language. */
	tag(b, "</dd><dt>", l[L_RETENTION], "</dt>");
	tag(b, "<dd>", kept, "</dd>");
	buf_str(b, "</dl>\n");
	if (withheld_of(in, ci) != NULL) {
		const struct report_withheld *w = withheld_of(in, ci);

		/* TEL-LOG-2, GDPR-15(1): told it exists, not shown. */
		tag(b, "<p class=\"withheld\">", l[L_WITHHELD], " (");
		html_text(b, w->rule);
		buf_str(b, ").</p>\n<dl>");
		/* GDPR-15(1)(d): for how long, even when not shown. */
		tag(b, "<dt>", l[L_RETENTION], "</dt><dd><ul>");
		for (size_t i = 0; i < p->nretention; i++) {
			const struct policy_retention *r = &p->retention[i];
			char period[32];

			if (!has_category(r->categories, r->ncategories, ci))
				continue;
			(void)snprintf(period, sizeof(period), "%d %s",
			               r->period.count,
			               unit_name(r->period.unit));
			tag(b, "<li><code>", r->id, "</code>: ");
			html_text(b, period);
			for (size_t k = 0; k < r->nanchors; k++)
				tag(b, k ? ", " : " &mdash; ", r->anchors[k],
				    "");
			buf_str(b, "</li>");
		}
		buf_str(b, "</ul></dd></dl>\n");
	}
	buf_str(b, "<table><tr>");
	tag(b, "<th>", l[L_VALUE], "</th>");
	tag(b, "<th>", l[L_PURPOSES], "</th>");
	tag(b, "<th>", l[L_COLLECTED], "</th>");
	tag(b, "<th>", l[L_DELETED_BY], "</th></tr>\n");
	for (size_t i = 0; i < in->nfacts; i++) {
		const struct report_fact *f = &in->facts[i];

		if (fc[i] != (long)ci)
			continue;
		tag(b, "<tr><td>", f->value, "");
		if (source_shown(p, c, f) != NULL) /* TEL-CAT-3 */
			tag(b, " <small>(", source_shown(p, c, f), ")</small>");
		buf_str(b, "</td>");
		tag(b, "<td>", f->purpose, "</td>");
		cal_format_instant(f->collected_at, when);
		tag(b, "<td>", when, "</td>");
		if (f->expires_at == REPORT_NEVER ||
		    f->expires_at == INT64_MIN) {
			tag(b, "<td>", l[L_KEPT_OPEN], ": ");
			tag(b, "", kept, "</td></tr>\n");
		} else {
			cal_format_date(cal_day_of(f->expires_at), day);
			tag(b, "<td>", day, "</td></tr>\n");
		}
	}
	buf_str(b, "</table></section>\n");
}

char *
report_access_html(const struct report_input *in, const char *lang, size_t *len)
{
	const struct policy *p = in->policy;
	const struct policy_controller *ctrl = &p->controller;
	int li = lang != NULL && strcmp(lang, "da") == 0   ? 1
	         : lang != NULL && strcmp(lang, "sv") == 0 ? 2
	                                                   : 0;
	const char *const *l = labels[li];
	struct buf b = {NULL, 0, 0, 0};
	unsigned char *present = calloc(p->ncategories + 1, 1);
	long *fc = present != NULL ? fact_categories(in, present) : NULL;
	char when[21];

	if (fc == NULL) {
		free(present);
		return NULL;
	}
	buf_str(&b, "<!DOCTYPE html>\n<html lang=\"");
	buf_str(&b, li == 1 ? "da" : li == 2 ? "sv" : "en");
	buf_str(&b, "\"><head><meta charset=\"utf-8\"><title>");
	html_text(&b, l[L_TITLE]);
	buf_str(&b, "</title></head>\n<body>\n");
	tag(&b, "<h1>", l[L_TITLE], "</h1>\n");
	tag(&b, "<p>", l[L_INTRO], "</p>\n<p>");
	tag(&b, "", l[L_CONTROLLER], ": ");
	tag(&b, "<strong>", or_empty(ctrl->name), "</strong>");
	tag(&b, ", ", or_empty(ctrl->address), "");
	tag(&b, ", ", or_empty(ctrl->email), "<br>");
	tag(&b, "", l[L_GENERATED], ": ");
	cal_format_instant(in->now, when);
	tag(&b, "<time>", when, "</time>");
	if (in->request != NULL) {
		tag(&b, "<br>", l[L_REQUEST], ": ");
		tag(&b, "<code>", in->request, "</code>");
	}
	buf_str(&b, "</p>\n");
	for (size_t ci = 0; ci < p->ncategories; ci++)
		if (present[ci] || withheld_of(in, ci) != NULL)
			html_category(&b, l, lang, in, ci, fc);
	if (in->nevents > 0) {
		tag(&b, "<section><h2>", l[L_EVENTS], "</h2><ul>");
		for (size_t i = 0; i < in->nevents; i++) {
			cal_format_instant(in->events[i].at, when);
			tag(&b, "<li>", when, " ");
			tag(&b, "", in->events[i].kind, "</li>");
		}
		buf_str(&b, "</ul></section>\n");
	}
	tag(&b, "<section><h2>", l[L_PROCESSING], "</h2>\n<table><tr>");
	tag(&b, "<th>", l[L_WHEN], "</th>");
	tag(&b, "<th>", l[L_ROLE], "</th>");
	tag(&b, "<th>", l[L_PURPOSES], "</th>");
	tag(&b, "<th>", l[L_ACTION], "</th>");
	tag(&b, "<th>", l[L_DECISION], "</th></tr>\n");
	for (size_t i = 0; i < in->nuses; i++) {
		const struct report_use *u = &in->uses[i];

		cal_format_instant(u->at, when);
		tag(&b, "<tr><td>", when, "</td>");
		tag(&b, "<td>", or_empty(u->role), "</td>");
		tag(&b, "<td>", or_empty(u->purpose), "</td>");
		tag(&b, "<td>", or_empty(u->action), "</td>");
		tag(&b, "<td>", u->allowed ? l[L_ALLOWED] : l[L_DENIED],
		    "</td></tr>\n");
	}
	buf_str(&b, "</table></section>\n");
	tag(&b, "<section><h2>", l[L_RIGHTS], "</h2><ul>");
	for (int r = 0; r < 7; r++)
		tag(&b, "<li>", right_labels[li][r], "</li>");
	buf_str(&b, "</ul></section>\n");
	tag(&b, "<section><h2>", l[L_COMPLAIN], "</h2>");
	if (ctrl->complaints != NULL)
		tag(&b, "<p>", ctrl->complaints, "</p>");
	tag(&b, "<p>", l[L_AUTHORITY], ": ");
	html_text(&b, or_empty(ctrl->authority_name));
	if (ctrl->authority_url != NULL) {
		buf_str(&b, " <a href=\"");
		html_text(&b, ctrl->authority_url);
		buf_str(&b, "\">");
		html_text(&b, ctrl->authority_url);
		buf_str(&b, "</a>");
	}
	buf_str(&b, "</p></section>\n</body></html>\n");
	free(fc);
	free(present);
	return buf_finish(&b, len);
}
