/*
 * render.c -- the privacy notice (GDPR Art. 13/14; issue 15 point 1),
 * rendered from the compiled policy in da, sv or en as HTML, Markdown or
 * plain text, and the writer the records of processing share.
 *
 * Every word comes from the template table (templates/notice); the
 * policy's own texts are inserted as written, escaped for the format.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "render_internal.h"

static const char *const lang_names[] = {"en", "da", "sv"};

/* ---- the writer --------------------------------------------------------- */

const char *
render_word(enum render_lang lang, enum render_key key)
{
	return render_table[lang][key];
}

void
rw_init(struct rw *w, enum render_format fmt, enum render_lang lang)
{
	memset(w, 0, sizeof(*w));
	w->fmt = fmt;
	w->lang = lang;
}

void
rw_free(struct rw *w)
{
	free(w->data);
	w->data = NULL;
	w->len = w->cap = 0;
}

/* Makes room for n more bytes and a NUL; 0, or -1 (w->failed set). */
static int
rw_reserve(struct rw *w, size_t n)
{
	size_t want, cap;
	char *p;

	if (w->failed)
		return -1;
	if (n > RENDER_MAX || w->len + n + 1 > RENDER_MAX) {
		w->failed = w->over = 1;
		return -1;
	}
	want = w->len + n + 1;
	if (want <= w->cap)
		return 0;
	cap = w->cap < 4096 ? 4096 : w->cap;
	while (cap < want)
		cap *= 2;
	if (cap > RENDER_MAX)
		cap = RENDER_MAX;
	if ((p = realloc(w->data, cap)) == NULL) {
		w->failed = 1;
		return -1;
	}
	w->data = p;
	w->cap = cap;
	return 0;
}

static void
rw_putn(struct rw *w, const char *s, size_t n)
{
	if (rw_reserve(w, n) != 0)
		return;
	memcpy(w->data + w->len, s, n);
	w->len += n;
	w->data[w->len] = '\0';
}

void
rw_raw(struct rw *w, const char *s)
{
	rw_putn(w, s, strlen(s));
}

void
rw_rawf(struct rw *w, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		w->failed = 1;
		return;
	}
	rw_putn(w, buf, (size_t)n);
}

/* One byte of text, escaped for the format. Control characters (a
 * folded YAML text's newlines among them) become a space. */
static void
rw_escape_byte(struct rw *w, unsigned char c)
{
	char one[2] = {(char)c, '\0'};

	if (c < 0x20 || c == 0x7f) {
		rw_raw(w, " ");
		return;
	}
	if (w->csv) {
		/* No spreadsheet runs a cell as a formula. */
		if (w->cell_start && strchr("=+-@", c) != NULL)
			rw_raw(w, "'");
		w->cell_start = 0;
		rw_raw(w, c == '"' ? "\"\"" : one);
		return;
	}
	switch (w->fmt) {
	case RENDER_HTML:
		if (c == '<')
			rw_raw(w, "&lt;");
		else if (c == '>')
			rw_raw(w, "&gt;");
		else if (c == '&')
			rw_raw(w, "&amp;");
		else if (c == '"')
			rw_raw(w, "&quot;");
		else if (c == '\'')
			rw_raw(w, "&#39;");
		else
			rw_raw(w, one);
		break;
	case RENDER_MD:
		/* Markdown's inline markup, so policy text stays text. */
		if (strchr("\\`*_[]<>#|", c) != NULL)
			rw_raw(w, "\\");
		rw_raw(w, one);
		break;
	case RENDER_TXT: rw_raw(w, one); break;
	}
}

void
rw_text(struct rw *w, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		rw_escape_byte(w, (unsigned char)*s);
}

void
rw_word(struct rw *w, enum render_key key)
{
	rw_text(w, render_word(w->lang, key));
}

enum vaern_err
rw_take(struct rw *w, char **out, size_t *len, struct vaern_msg *msg)
{
	*out = NULL;
	*len = 0;
	if (w->failed || w->data == NULL) {
		int over = w->over;

		rw_free(w);
		if (over)
			return vaern_fail(msg, VAERN_E_LIMIT,
			                  "the rendered document is over %u "
			                  "bytes",
			                  RENDER_MAX);
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	}
	*out = w->data;
	*len = w->len;
	w->data = NULL;
	w->len = w->cap = 0;
	return VAERN_OK;
}

/* ---- the page ----------------------------------------------------------- */

/* Printable and readable without it; no script, no external resource. */
const char render_style[] =
        "body{font-family:system-ui,sans-serif;line-height:1.5;"
        "max-width:46rem;margin:2rem auto;padding:0 1rem;color:#111;"
        "background:#fff}"
        "h1{font-size:1.8rem}h2{font-size:1.3rem;margin-top:2rem;"
        "border-bottom:1px solid #ccc}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;"
        "padding:.3rem;vertical-align:top;text-align:left}"
        "a{color:#0645ad}"
        "@media print{body{margin:0;max-width:none}a{color:#000}"
        "h2{break-after:avoid}}";

void
render_csp(char out[static RENDER_CSP_MAX])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
	                                   sodium_base64_VARIANT_ORIGINAL)];

	crypto_hash_sha256(h, (const unsigned char *)render_style,
	                   strlen(render_style));
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
	                  sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, RENDER_CSP_MAX,
	         "default-src 'none'; style-src 'sha256-%s'; "
	         "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	         b64);
}

void
rw_html_begin(struct rw *w, const char *title)
{
	rw_rawf(w,
	        "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n"
	        "<meta charset=\"utf-8\">\n"
	        "<meta name=\"viewport\" content=\"width=device-width, "
	        "initial-scale=1\">\n<title>",
	        lang_names[w->lang]);
	rw_text(w, title);
	rw_raw(w, "</title>\n<style>");
	rw_raw(w, render_style);
	rw_raw(w, "</style>\n</head>\n<body>\n<main>\n");
}

void
rw_html_end(struct rw *w)
{
	rw_raw(w, "</main>\n</body>\n</html>\n");
}

/* ---- words -------------------------------------------------------------- */

int
render_lang_parse(const char *s, enum render_lang *out)
{
	for (size_t i = 0; i < sizeof(lang_names) / sizeof(lang_names[0]); i++)
		if (strcmp(s, lang_names[i]) == 0) {
			*out = (enum render_lang)i;
			return 0;
		}
	return -1;
}

enum render_lang
render_policy_lang(const struct policy *p)
{
	enum render_lang l = RENDER_EN;

	if (render_lang_parse(p->controller.language, &l) != 0)
		l = RENDER_EN;
	return l;
}

int
render_format_parse(const char *s, enum render_format *out)
{
	if (strcmp(s, "html") == 0)
		*out = RENDER_HTML;
	else if (strcmp(s, "md") == 0)
		*out = RENDER_MD;
	else if (strcmp(s, "txt") == 0)
		*out = RENDER_TXT;
	else
		return -1;
	return 0;
}

int
render_ropa_format_parse(const char *s, enum render_ropa_format *out)
{
	if (strcmp(s, "json") == 0)
		*out = ROPA_JSON;
	else if (strcmp(s, "csv") == 0)
		*out = ROPA_CSV;
	else if (strcmp(s, "html") == 0)
		*out = ROPA_HTML;
	else
		return -1;
	return 0;
}

void
render_basis_letters(unsigned basis, char out[static 16])
{
	size_t n = 0;

	for (unsigned i = 0; i < 6; i++) {
		if (!(basis & (1u << i)))
			continue;
		if (n > 0) {
			out[n++] = ',';
			out[n++] = ' ';
		}
		out[n++] = (char)('a' + i);
	}
	out[n] = '\0';
}

/* Appends s to out (outlen bytes, NUL-ended), truncating. */
static void
cat(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(out), m = strlen(s);

	if (n + 1 >= outlen)
		return;
	if (m > outlen - n - 1)
		m = outlen - n - 1;
	memcpy(out + n, s, m);
	out[n + m] = '\0';
}

/* A period in words in lang ("30 days"), appended to out. */
static void
period_words(struct period pd, enum render_lang lang, char *out, size_t outlen)
{
	static const enum render_key units[][2] = {
	        [PERIOD_DAYS] = {R_day, R_days},
	        [PERIOD_WEEKS] = {R_week, R_weeks},
	        [PERIOD_MONTHS] = {R_month, R_months},
	        [PERIOD_YEARS] = {R_year, R_years}};
	char num[24];

	snprintf(num, sizeof(num), "%d ", pd.count);
	cat(out, outlen, num);
	cat(out, outlen, render_word(lang, units[pd.unit][pd.count != 1]));
}

/* The template word of event ev (ev_<name>), or NULL if there is none. */
static const char *
event_template(const struct policy_event *ev, enum render_lang lang)
{
	char key[POLICY_NAME_MAX + 8];

	snprintf(key, sizeof(key), "ev_%s", ev->id);
	for (size_t k = 0; k < R__COUNT; k++)
		if (strcmp(render_key_names[k], key) == 0)
			return render_word(lang, (enum render_key)k);
	return NULL;
}

const char *
render_event_words(const struct policy *p, size_t ev, enum render_lang lang)
{
	const struct policy_event *e = &p->events[ev];
	const char *t;

	/* The controller's own words in its own language; the templates'
	 * in the others (issue 15 point 2). */
	if (lang == render_policy_lang(p) && e->description != NULL)
		return e->description;
	if ((t = event_template(e, lang)) != NULL)
		return t;
	return e->description != NULL ? e->description : e->id;
}

enum vaern_err
render_lang_check(const struct policy *p, enum render_lang lang,
                  struct vaern_msg *msg)
{
	if (lang == render_policy_lang(p))
		return VAERN_OK;
	for (size_t i = 0; i < p->nevents; i++)
		if (event_template(&p->events[i], lang) == NULL)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "event '%s' has no wording in '%s': "
			                  "templates/notice/%s.strings needs "
			                  "ev_%s",
			                  p->events[i].id, lang_names[lang],
			                  lang_names[lang], p->events[i].id);
	return VAERN_OK;
}

/* GDPR Art. 13(2)(a): the period in words, from the policy's own anchors.
 * The one wording of retention periods (issue 15; issue 10 point 9 may
 * fold its own into this one). */
void
render_retention_words(const struct policy *p, const struct policy_retention *r,
                       enum render_lang lang, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	out[0] = '\0';
	period_words(r->period, lang, out, outlen);
	cat(out, outlen, " ");
	cat(out, outlen,
	    render_word(lang,
	                r->nanchors > 1 ? R_ret_from_latest : R_ret_after));
	cat(out, outlen, r->nanchors > 1 ? ": " : " ");
	for (size_t i = 0; i < r->nanchors; i++) {
		long ev = r->anchor_event[i];
		const char *a;

		if (i > 0)
			cat(out, outlen, "; ");
		if (ev == ANCHOR_EVENT_COLLECTED)
			a = render_word(lang, R_ret_collected);
		else if (ev == ANCHOR_EVENT_FY_END)
			a = render_word(lang, R_ret_fy_end);
		else if (ev >= 0 && (size_t)ev < p->nevents)
			a = render_event_words(p, (size_t)ev, lang);
		else
			a = r->anchors[i];
		cat(out, outlen, a);
	}
	if (r->action == RETENTION_ANONYMISE) {
		cat(out, outlen, ", ");
		cat(out, outlen, render_word(lang, R_ret_anonymise));
	}
}

/* ---- the notice's layout ------------------------------------------------ */

/* Characters in UTF-8 text s (its bytes that start a character). */
static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void
h1(struct rw *w, const char *a, const char *b)
{
	switch (w->fmt) {
	case RENDER_HTML: rw_raw(w, "<h1>"); break;
	case RENDER_MD: rw_raw(w, "# "); break;
	case RENDER_TXT: break;
	}
	rw_text(w, a);
	rw_raw(w, " - ");
	rw_text(w, b);
	switch (w->fmt) {
	case RENDER_HTML: rw_raw(w, "</h1>\n"); break;
	case RENDER_MD:
	case RENDER_TXT: rw_raw(w, "\n\n"); break;
	}
}

static void
h2(struct rw *w, enum render_key key)
{
	const char *t = render_word(w->lang, key);

	switch (w->fmt) {
	case RENDER_HTML:
		rw_raw(w, "<h2>");
		rw_text(w, t);
		rw_raw(w, "</h2>\n");
		break;
	case RENDER_MD:
		rw_raw(w, "## ");
		rw_text(w, t);
		rw_raw(w, "\n\n");
		break;
	case RENDER_TXT:
		rw_text(w, t);
		rw_raw(w, "\n");
		for (size_t n = chars(t); n > 0; n--)
			rw_raw(w, "-");
		rw_raw(w, "\n\n");
		break;
	}
}

static void
p_begin(struct rw *w)
{
	if (w->fmt == RENDER_HTML)
		rw_raw(w, "<p>");
}

static void
p_end(struct rw *w)
{
	rw_raw(w, w->fmt == RENDER_HTML ? "</p>\n" : "\n\n");
}

static void
ul_begin(struct rw *w)
{
	if (w->fmt == RENDER_HTML)
		rw_raw(w, "<ul>\n");
}

static void
ul_end(struct rw *w)
{
	rw_raw(w, w->fmt == RENDER_HTML ? "</ul>\n" : "\n");
}

static void
li_begin(struct rw *w)
{
	rw_raw(w, w->fmt == RENDER_HTML ? "<li>"
	          : w->fmt == RENDER_MD ? "- "
	                                : "  * ");
}

static void
li_end(struct rw *w)
{
	rw_raw(w, w->fmt == RENDER_HTML ? "</li>\n" : "\n");
}

/* A label in bold (HTML, Markdown) followed by ": ". */
static void
label(struct rw *w, enum render_key key)
{
	rw_raw(w, w->fmt == RENDER_HTML ? "<strong>"
	          : w->fmt == RENDER_MD ? "**"
	                                : "");
	rw_word(w, key);
	rw_raw(w, w->fmt == RENDER_HTML ? "</strong>: "
	          : w->fmt == RENDER_MD ? "**: "
	                                : ": ");
}

/* A line of its own within a list item or paragraph. */
static void
br(struct rw *w)
{
	rw_raw(w, w->fmt == RENDER_HTML ? "<br>\n"
	          : w->fmt == RENDER_MD ? "  \n  "
	                                : "\n    ");
}

/* A link (the authority's site): shown as its address in every format. */
static void
link(struct rw *w, const char *url)
{
	if (w->fmt == RENDER_HTML && (strncmp(url, "https://", 8) == 0 ||
	                              strncmp(url, "http://", 7) == 0)) {
		rw_raw(w, "<a href=\"");
		rw_text(w, url);
		rw_raw(w, "\">");
		rw_text(w, url);
		rw_raw(w, "</a>");
	} else if (w->fmt == RENDER_MD) {
		rw_raw(w, "<");
		for (const char *s = url; *s != '\0'; s++)
			if ((unsigned char)*s > 0x20 && *s != '>' && *s != '<')
				rw_putn(w, s, 1);
		rw_raw(w, ">");
	} else {
		rw_text(w, url);
	}
}

/* "label: value" as a list item, when value is set. */
static void
li_field(struct rw *w, enum render_key key, const char *value)
{
	if (value == NULL)
		return;
	li_begin(w);
	label(w, key);
	rw_text(w, value);
	li_end(w);
}

/* The names of n categories (indexes into p), comma-separated. */
static void
category_list(struct rw *w, const struct policy *p, const size_t *idx, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct policy_category *c = &p->categories[idx[i]];

		if (i > 0)
			rw_raw(w, ", ");
		rw_text(w, c->description != NULL ? c->description : c->id);
	}
}

/* ---- the notice's sections ---------------------------------------------- */

static void
sec_controller(struct rw *w, const struct policy *p)
{
	const struct policy_controller *c = &p->controller;

	h2(w, R_h_controller);
	ul_begin(w);
	li_begin(w);
	rw_text(w, c->name);
	li_end(w);
	li_field(w, R_registration, c->registration);
	li_field(w, R_address, c->address);
	li_field(w, R_phone, c->phone);
	li_field(w, R_email, c->email);
	ul_end(w);
	/* Art. 13(1)(b): the DPO's contact, where one is designated. */
	if (c->dpo_email == NULL && c->dpo_phone == NULL &&
	    c->dpo_address == NULL)
		return;
	h2(w, R_h_dpo);
	ul_begin(w);
	if (c->dpo_name != NULL) {
		li_begin(w);
		rw_text(w, c->dpo_name);
		li_end(w);
	}
	li_field(w, R_address, c->dpo_address);
	li_field(w, R_phone, c->dpo_phone);
	li_field(w, R_email, c->dpo_email);
	ul_end(w);
}

static void
sec_purposes(struct rw *w, const struct policy *p)
{
	static const enum render_key bases[] = {R_basis_a, R_basis_b,
	                                        R_basis_c, R_basis_d,
	                                        R_basis_e, R_basis_f};

	/* Art. 13(1)(c), (d): each purpose, its basis, the interests. */
	h2(w, R_h_purposes);
	ul_begin(w);
	for (size_t i = 0; i < p->npurposes; i++) {
		const struct policy_purpose *pp = &p->purposes[i];
		int first = 1;

		li_begin(w);
		rw_text(w, pp->description != NULL ? pp->description : pp->id);
		br(w);
		label(w, R_basis);
		for (unsigned b = 0; b < 6; b++) {
			if (!(pp->basis & (1u << b)))
				continue;
			if (!first)
				rw_raw(w, "; ");
			first = 0;
			rw_word(w, bases[b]);
		}
		if (pp->art9 != 0) {
			br(w);
			rw_word(w, R_art9);
			rw_rawf(w, " %c", pp->art9);
		}
		if (pp->legitimate_interests != NULL) {
			br(w);
			label(w, R_interests);
			rw_text(w, pp->legitimate_interests);
		}
		if (pp->ncategories > 0) {
			br(w);
			label(w, R_data_used);
			category_list(w, p, pp->categories, pp->ncategories);
		}
		if (pp->direct_marketing) {
			br(w);
			rw_word(w, R_direct_marketing);
		}
		li_end(w);
	}
	ul_end(w);
}

static void
sec_categories(struct rw *w, const struct policy *p)
{
	static const enum render_key sources[] = {
	        [SOURCE_SUBJECT] = R_source_subject,
	        [SOURCE_AUTOMATIC] = R_source_automatic,
	        [SOURCE_THIRD_PARTY] = R_source_third_party,
	        [SOURCE_CONTROLLER] = R_source_controller};

	/* Art. 14(1)(d), (2)(f): the categories and where each comes from
	 * (TEL-CAT-3: a third party by name). */
	h2(w, R_h_categories);
	ul_begin(w);
	for (size_t i = 0; i < p->ncategories; i++) {
		const struct policy_category *c = &p->categories[i];

		li_begin(w);
		rw_text(w, c->description != NULL ? c->description : c->id);
		if (c->special) {
			rw_raw(w, " (");
			rw_word(w, R_special);
			rw_raw(w, ")");
		}
		if (c->about_others) {
			rw_raw(w, " (");
			rw_word(w, R_about_others);
			rw_raw(w, ")");
		}
		rw_raw(w, " - ");
		rw_word(w, sources[c->source]);
		if (c->source == SOURCE_THIRD_PARTY &&
		    c->source_party != NULL) {
			rw_raw(w, " ");
			rw_text(w, c->source_party);
		}
		li_end(w);
	}
	ul_end(w);
}

static void
sec_recipients(struct rw *w, const struct policy *p)
{
	static const enum render_key types[] = {
	        [RECIPIENT_PROCESSOR] = R_processor,
	        [RECIPIENT_THIRD_PARTY] = R_third_party,
	        [RECIPIENT_AUTHORITY] = R_authority};
	static const enum render_key needs[] = {
	        [NEEDS_AGREEMENT_ON_RECORD] = R_needs_agreement,
	        [NEEDS_CONSENT] = R_needs_consent,
	        [NEEDS_PRIOR_AGREEMENT] = R_needs_prior_agreement,
	        [NEEDS_CONSENT_OR_PRIOR_AGREEMENT] =
	                R_needs_consent_or_prior_agreement,
	        [NEEDS_LEGAL_DEMAND] = R_needs_legal_demand};

	/* Art. 13(1)(e): recipients and processors. */
	h2(w, R_h_recipients);
	if (p->nrecipients == 0) {
		p_begin(w);
		rw_word(w, R_no_recipients);
		p_end(w);
		return;
	}
	ul_begin(w);
	for (size_t i = 0; i < p->nrecipients; i++) {
		const struct policy_recipient *r = &p->recipients[i];

		li_begin(w);
		rw_text(w, r->name != NULL ? r->name : r->id);
		rw_raw(w, " (");
		rw_word(w, types[r->type]);
		if (r->type != RECIPIENT_PROCESSOR) {
			rw_raw(w, "; ");
			rw_word(w, needs[r->needs]);
		}
		rw_raw(w, ")");
		if (r->country[0] != '\0') {
			rw_raw(w, " - ");
			rw_word(w, R_country);
			rw_raw(w, ": ");
			rw_text(w, r->country);
		}
		if (r->outside_eea && r->safeguard != NULL) {
			rw_raw(w, "; ");
			rw_word(w, R_safeguard);
			rw_raw(w, ": ");
			rw_text(w, r->safeguard);
		}
		li_end(w);
	}
	ul_end(w);
}

static void
sec_transfers(struct rw *w, const struct policy *p)
{
	size_t n = 0;

	/* Art. 13(1)(f): transfers and their safeguards, or none. */
	h2(w, R_h_transfers);
	for (size_t i = 0; i < p->nrecipients; i++)
		n += p->recipients[i].outside_eea;
	if (p->ntransfers == 0 && n == 0) {
		p_begin(w);
		rw_word(w, p->transfers_none ? R_transfers_none
		                             : R_transfers_not_stated);
		p_end(w);
		return;
	}
	ul_begin(w);
	for (size_t i = 0; i < p->ntransfers; i++) {
		li_begin(w);
		rw_word(w, R_country);
		rw_raw(w, ": ");
		rw_text(w, p->transfers[i].country);
		rw_raw(w, "; ");
		rw_word(w, R_safeguard);
		rw_raw(w, ": ");
		rw_text(w, p->transfers[i].safeguard);
		li_end(w);
	}
	for (size_t i = 0; i < p->nrecipients; i++) {
		const struct policy_recipient *r = &p->recipients[i];

		if (!r->outside_eea)
			continue;
		li_begin(w);
		rw_text(w, r->name != NULL ? r->name : r->id);
		rw_raw(w, " - ");
		rw_word(w, R_country);
		rw_raw(w, ": ");
		rw_text(w, r->country);
		rw_raw(w, "; ");
		rw_word(w, R_safeguard);
		rw_raw(w, ": ");
		rw_text(w, r->safeguard);
		li_end(w);
	}
	ul_end(w);
}

static void
sec_retention(struct rw *w, const struct policy *p)
{
	char words[1024];

	/* Art. 13(2)(a): each period in words. */
	h2(w, R_h_retention);
	ul_begin(w);
	for (size_t i = 0; i < p->nretention; i++) {
		const struct policy_retention *r = &p->retention[i];

		li_begin(w);
		if (r->ncategories > 0) {
			category_list(w, p, r->categories, r->ncategories);
		} else {
			rw_word(w, R_ret_consent_records);
			for (size_t j = 0; j < r->nconsents; j++) {
				const struct policy_purpose *pp =
				        &p->purposes[r->consents[j]];

				rw_raw(w, j > 0 ? ", " : " ");
				rw_text(w, pp->description != NULL
				                   ? pp->description
				                   : pp->id);
			}
		}
		rw_raw(w, ": ");
		render_retention_words(p, r, w->lang, words, sizeof(words));
		rw_text(w, words);
		if (r->legal_obligation != NULL) {
			rw_raw(w, " (");
			rw_word(w, R_ret_law);
			rw_raw(w, " ");
			rw_text(w, r->legal_obligation);
			rw_raw(w, ")");
		}
		li_end(w);
	}
	ul_end(w);
}

/* " (only by e-mail, letter)" when the policy restricts the channels of
 * request type (AOPT-ACCESS-1); nothing when every channel is accepted. */
static void
channels(struct rw *w, const struct policy *p, const char *type)
{
	static const enum render_key words[] = {
	        R_ch_email,  R_ch_letter,    R_ch_phone, R_ch_web,
	        R_ch_portal, R_ch_in_person, R_ch_api,   R_ch_opendsr};
	unsigned mask = 0;
	size_t n = 0;

	for (size_t t = 0; policy_request_type_names[t] != NULL; t++)
		if (t < POLICY_REQUEST_TYPES &&
		    strcmp(policy_request_type_names[t], type) == 0)
			mask = p->request_channels[t];
	if (mask == 0)
		return;
	rw_raw(w, " (");
	rw_word(w, R_rights_only_by);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!(mask & (1u << i)))
			continue;
		rw_raw(w, n++ > 0 ? ", " : " ");
		rw_word(w, words[i]);
	}
	rw_raw(w, ")");
}

static void
sec_rights(struct rw *w, const struct policy *p)
{
	static const char *const types[] = {"access",      "rectification",
	                                    "erasure",     "restriction",
	                                    "portability", "objection"};
	static const enum render_key rights[] = {
	        R_right_access,      R_right_rectification, R_right_erasure,
	        R_right_restriction, R_right_portability,   R_right_objection};
	const struct policy_controller *c = &p->controller;

	/* Art. 13(2)(b): the rights, and how to use them. */
	h2(w, R_h_rights);
	ul_begin(w);
	for (unsigned i = 0; i < 6; i++)
		if (p->rights & (1u << i)) {
			li_begin(w);
			rw_word(w, rights[i]);
			channels(w, p, types[i]);
			li_end(w);
		}
	ul_end(w);
	p_begin(w);
	rw_word(w, R_rights_how);
	p_end(w);
	ul_begin(w);
	li_field(w, R_email, c->email);
	li_field(w, R_phone, c->phone);
	li_field(w, R_address, c->address);
	ul_end(w);
}

static void
sec_consent(struct rw *w, const struct policy *p)
{
	size_t n = 0;

	/* Art. 13(2)(c): consent can be withdrawn. */
	for (size_t i = 0; i < p->npurposes; i++)
		n += (p->purposes[i].basis & BASIS_A) != 0 ||
		     p->purposes[i].art9 == 'a';
	if (n == 0)
		return;
	h2(w, R_h_consent);
	p_begin(w);
	rw_word(w, R_consent_withdraw);
	channels(w, p, "consent_withdrawal");
	p_end(w);
	ul_begin(w);
	for (size_t i = 0; i < p->npurposes; i++) {
		const struct policy_purpose *pp = &p->purposes[i];

		if (!(pp->basis & BASIS_A) && pp->art9 != 'a')
			continue;
		li_begin(w);
		rw_text(w, pp->description != NULL ? pp->description : pp->id);
		li_end(w);
	}
	ul_end(w);
}

static void
sec_cookies(struct rw *w, const struct policy *p)
{
	static const enum render_key kinds[] = {
	        [COOKIE_NECESSARY] = R_cookie_necessary,
	        [COOKIE_STATISTICS] = R_cookie_statistics,
	        [COOKIE_MARKETING] = R_cookie_marketing};
	int any = 0;

	/* AURA-COOKIE-1, AOPT-COOKIE-1, SHOP-MKT-2: by category. */
	for (size_t i = 0; i < p->npurposes; i++)
		any |= p->purposes[i].cookie != COOKIE_NONE;
	if (!any)
		return;
	h2(w, R_h_cookies);
	ul_begin(w);
	for (int k = COOKIE_NECESSARY; k <= COOKIE_MARKETING; k++) {
		long i = policy_cookie_purpose(p, (enum policy_cookie)k);
		const struct policy_purpose *pp;

		if (i < 0)
			continue;
		pp = &p->purposes[i];
		li_begin(w);
		label(w, kinds[k]);
		rw_text(w, pp->description != NULL ? pp->description : pp->id);
		li_end(w);
	}
	ul_end(w);
}

/* CEK-PURP-5, Art. 13(3): told before a new purpose is used, and how
 * long before (the policy's notice_period). */
static void
sec_changes(struct rw *w, const struct policy *p)
{
	const char *t = render_word(w->lang, R_changes_text);
	const char *at = strstr(t, "{period}");
	char period[64] = "", head[512];

	period_words(p->controller.notice_period, w->lang, period,
	             sizeof(period));
	h2(w, R_h_changes);
	p_begin(w);
	if (at == NULL) {
		rw_text(w, t);
	} else {
		snprintf(head, sizeof(head), "%.*s", (int)(at - t), t);
		rw_text(w, head);
		rw_text(w, period);
		rw_text(w, at + strlen("{period}"));
	}
	p_end(w);
}

static void
sec_complaints(struct rw *w, const struct policy *p)
{
	const struct policy_controller *c = &p->controller;

	/* Art. 13(2)(d); every *-COMPLAIN-1: first the controller where the
	 * policy says so, then the authority. */
	h2(w, R_h_complaints);
	if (c->complaints != NULL) {
		p_begin(w);
		rw_word(w, R_complain_first);
		rw_raw(w, " ");
		rw_text(w, c->complaints);
		p_end(w);
	}
	p_begin(w);
	rw_word(w, R_complain_authority);
	rw_raw(w, " ");
	rw_text(w, c->authority_name);
	if (c->authority_url != NULL) {
		rw_raw(w, ", ");
		link(w, c->authority_url);
	}
	p_end(w);
}

enum vaern_err
render_notice(const struct policy *p, enum render_lang lang,
              enum render_format format, char **out, size_t *len,
              struct vaern_msg *msg)
{
	struct rw w;
	char date[11];
	const char *title = render_word(lang, R_title);
	enum vaern_err err;

	*out = NULL;
	*len = 0;
	if ((err = render_lang_check(p, lang, msg)) != VAERN_OK)
		return err;
	rw_init(&w, format, lang);
	if (format == RENDER_HTML) {
		char t[POLICY_TEXT_MAX + 64];

		snprintf(t, sizeof(t), "%s - %s", title, p->controller.name);
		rw_html_begin(&w, t);
	}
	h1(&w, title, p->controller.name);
	/* AURA-VER-1: the version date. */
	cal_format_date(p->controller.policy_version, date);
	p_begin(&w);
	rw_word(&w, R_version);
	rw_raw(&w, " ");
	rw_text(&w, date);
	p_end(&w);
	sec_controller(&w, p);
	sec_purposes(&w, p);
	sec_categories(&w, p);
	sec_recipients(&w, p);
	sec_transfers(&w, p);
	sec_retention(&w, p);
	sec_rights(&w, p);
	sec_consent(&w, p);
	sec_cookies(&w, p);
	sec_changes(&w, p);
	sec_complaints(&w, p);
	if (format == RENDER_HTML)
		rw_html_end(&w);
	return rw_take(&w, out, len, msg);
}
