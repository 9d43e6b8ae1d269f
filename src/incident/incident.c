/*
 * incident.c -- the model of security reports and the breach register
 * (issue 17): words, limits, deadlines, checks and the register's
 * exports. No storage, no cryptography (src/vault/vault_incident.c).
 */
#include "incident.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../common/utf8.h"

static const char *const class_names[] = {
        "unclassified", "not_breach", "weakness", "personal_data_breach", NULL};

const char *
incident_class_name(enum incident_class c)
{
	return class_names[c];
}

int
incident_class_parse(const char *text)
{
	for (int i = 0; class_names[i] != NULL; i++)
		if (strcmp(class_names[i], text) == 0)
			return i;
	return -1;
}

/* SHOP-BREACH-1: screenshots are PNG or JPEG, known by their magic
 * bytes, never by a name or a declared type. */
const char *
incident_image_type(const unsigned char *b, size_t len)
{
	static const unsigned char png[8] = {0x89, 'P',  'N',  'G',
	                                     '\r', '\n', 0x1a, '\n'};

	if (len >= sizeof(png) + 16 && memcmp(b, png, sizeof(png)) == 0)
		return "image/png";
	if (len >= 4 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff &&
	    b[len - 2] == 0xff && b[len - 1] == 0xd9)
		return "image/jpeg";
	return NULL;
}

enum vaern_err
incident_text_check(const char *text, const char *field, int required,
                    struct vaern_msg *msg)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t len, i, n;
	int blank = 1;

	if (text == NULL) {
		if (required)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "'%s' is required", field);
		return VAERN_OK;
	}
	len = strlen(text);
	if (len > INCIDENT_TEXT_MAX)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "'%s' is longer than %d bytes", field,
		                  INCIDENT_TEXT_MAX);
	for (i = 0; i < len; i += n) {
		uint32_t cp;

		if ((n = utf8_decode(s + i, len - i, &cp)) == 0)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "'%s' is not valid UTF-8 (byte %zu)",
			                  field, i + 1);
		if (utf8_is_control(cp) && cp != '\n' && cp != '\t' &&
		    cp != '\r')
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "'%s' holds a control character "
			                  "(byte %zu)",
			                  field, i + 1);
		if (!(cp == ' ' || cp == '\n' || cp == '\t' || cp == '\r' ||
		      cp == 0xa0 || cp == 0x3000 ||
		      (cp >= 0x2000 && cp <= 0x200b)))
			blank = 0;
	}
	if (required && blank)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "'%s' holds only white space", field);
	return VAERN_OK;
}

long
incident_receipt_due(const struct policy *p, long received_day)
{
	return cal_add_working_days(p->controller.country, received_day,
	                            p->incidents.receipt_working_days);
}

long
incident_feedback_due(const struct policy *p, long received_day)
{
	return cal_add_period(received_day, p->incidents.feedback);
}

/* ---- the register fields (GDPR Art. 33(3), 33(5)) ---------------------- */

static const char *const register_texts[] = {
        "consequences",  "measures_taken", "measures_proposed",
        "notify_reason", "delay_reason",   NULL};
static const char *const register_keys[] = {
        "classification", "aware_at",        "nature",
        "categories",     "subjects_approx", "records_approx",
        "consequences",   "measures_taken",  "measures_proposed",
        "risk",           "notify",          "notify_reason",
        "notified_at",    "delay_reason",    NULL};
static const char *const natures[] = {"confidentiality", "integrity",
                                      "availability", NULL};
static const char *const risks[] = {"none", "low", "high", NULL};

static int
word_in(const char *const *words, const char *w)
{
	for (size_t i = 0; words[i] != NULL; i++)
		if (strcmp(words[i], w) == 0)
			return 1;
	return 0;
}

int64_t
incident_time(json_t *reg, const char *key)
{
	const char *t = json_string_value(json_object_get(reg, key));
	struct vaern_msg msg;
	int64_t at;

	if (t == NULL || cal_parse_instant(t, &at, &msg) != VAERN_OK)
		return INT64_MIN;
	return at;
}

/* A time of the register, normalised to its instant text in *out (a new
 * reference). */
static enum vaern_err
reg_time(json_t *v, const char *key, int64_t now, json_t **out,
         struct vaern_msg *msg)
{
	char text[21];
	int64_t at;

	if (!json_is_string(v) ||
	    cal_parse_instant(json_string_value(v), &at, msg) != VAERN_OK)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "'%s' is a time: YYYY-MM-DDTHH:MM:SSZ", key);
	if (at > now)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "'%s' lies in the future", key);
	cal_format_instant(at, text);
	*out = json_string(text);
	return *out != NULL ? VAERN_OK : VAERN_E_NOMEM;
}

static enum vaern_err
reg_words(const struct policy *p, json_t *v, const char *key,
          const char *const *words, struct vaern_msg *msg)
{
	size_t i;
	json_t *it;

	if (!json_is_array(v) || json_array_size(v) > POLICY_ITEMS_MAX)
		return vaern_fail(msg, VAERN_E_INVALID, "'%s' is a list", key);
	json_array_foreach(v, i, it)
	{
		const char *w = json_string_value(it);

		if (w == NULL ||
		    (words != NULL ? !word_in(words, w)
		                   : policy_category_index(p, w) < 0))
			return vaern_fail(
			        msg, VAERN_E_INVALID, "'%s' item %zu is not %s",
			        key, i + 1,
			        words != NULL ? "confidentiality, integrity "
			                        "or availability"
			                      : "a category of the policy");
	}
	return VAERN_OK;
}

/* One key of a triage, checked; *val a new reference to store, or NULL
 * to remove the key. */
static enum vaern_err
reg_value(const struct policy *p, const char *key, json_t *v, int64_t now,
          json_t **val, struct vaern_msg *msg)
{
	enum vaern_err err;

	*val = NULL;
	if (json_is_null(v))
		return VAERN_OK;
	if (strcmp(key, "classification") == 0) {
		const char *w = json_string_value(v);

		if (w == NULL || incident_class_parse(w) < 0)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "'classification' is not_breach, "
			                  "weakness or personal_data_breach");
	} else if (strcmp(key, "aware_at") == 0 ||
	           strcmp(key, "notified_at") == 0) {
		return reg_time(v, key, now, val, msg);
	} else if (strcmp(key, "nature") == 0) {
		if ((err = reg_words(p, v, key, natures, msg)) != VAERN_OK)
			return err;
	} else if (strcmp(key, "categories") == 0) {
		if ((err = reg_words(p, v, key, NULL, msg)) != VAERN_OK)
			return err;
	} else if (strcmp(key, "subjects_approx") == 0 ||
	           strcmp(key, "records_approx") == 0) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "'%s' is a whole number >= 0", key);
	} else if (strcmp(key, "risk") == 0) {
		const char *w = json_string_value(v);

		if (w == NULL || !word_in(risks, w))
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "'risk' is none, low or high");
	} else if (strcmp(key, "notify") == 0) {
		if (!json_is_boolean(v))
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "'notify' is true or false");
	} else if (word_in(register_texts, key)) {
		if (!json_is_string(v))
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "'%s' is a text", key);
		if ((err = incident_text_check(json_string_value(v), key, 1,
		                               msg)) != VAERN_OK)
			return err == VAERN_E_LIMIT ? VAERN_E_INVALID : err;
	}
	*val = json_incref(v);
	return VAERN_OK;
}

enum vaern_err
incident_register_merge(const struct policy *p, json_t *reg, json_t *patch,
                        int64_t now, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	json_t *next = NULL, *v, *val;
	const char *key;
	int64_t aware, notified;

	if (!json_is_object(patch) || json_object_size(patch) == 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a triage is an object of register fields");
	if ((next = json_deep_copy(reg)) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	json_object_foreach(patch, key, v)
	{
		if (!word_in(register_keys, key)) {
			err = vaern_fail(msg, VAERN_E_INVALID,
			                 "unknown register field '%.40s'", key);
			goto done;
		}
		if ((err = reg_value(p, key, v, now, &val, msg)) != VAERN_OK)
			goto done;
		if (val == NULL)
			(void)json_object_del(next, key);
		else if (json_object_set_new(next, key, val) != 0) {
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
			goto done;
		}
	}
	/* GDPR Art. 33(1): the 72 hours run from awareness; a later
	 * notification states the reasons for the delay. */
	aware = incident_time(next, "aware_at");
	notified = incident_time(next, "notified_at");
	if (notified != INT64_MIN && aware == INT64_MIN) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "'notified_at' needs 'aware_at'");
		goto done;
	}
	if (notified != INT64_MIN && notified < aware) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "'notified_at' lies before 'aware_at'");
		goto done;
	}
	if (notified != INT64_MIN &&
	    notified > aware + INCIDENT_AWARE_SECONDS &&
	    json_object_get(next, "delay_reason") == NULL) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "'delay_reason' is required: the notification "
		                 "came more than 72 hours after awareness "
		                 "(GDPR Art. 33(1))");
		goto done;
	}
	if (json_object_get(next, "notify") != NULL &&
	    json_object_get(next, "notify_reason") == NULL) {
		err = vaern_fail(
		        msg, VAERN_E_INVALID,
		        "'notify_reason' is required with the decision "
		        "'notify' (SHOP-BREACH-3)");
		goto done;
	}
	if (notified != INT64_MIN &&
	    !json_is_true(json_object_get(next, "notify"))) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "'notified_at' needs the decision 'notify': "
		                 "true");
		goto done;
	}
	if (json_object_update(reg, next) != 0) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	json_object_foreach(patch, key, v)
	{
		if (json_is_null(v))
			(void)json_object_del(reg, key);
	}
done:
	json_decref(next);
	return err;
}

/* ---- the register's exports ------------------------------------------- */

/* A growing text; failed sticks. */
struct out {
	char *s;
	size_t len, cap;
	int failed;
};

static void
out_add(struct out *o, const char *t, size_t n)
{
	if (o->failed)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 1024;
		char *s;

		while (cap < o->len + n + 1)
			cap *= 2;
		if ((s = realloc(o->s, cap)) == NULL) {
			o->failed = 1;
			return;
		}
		o->s = s;
		o->cap = cap;
	}
	memcpy(o->s + o->len, t, n);
	o->len += n;
	o->s[o->len] = '\0';
}

/* The text written, handed to the caller (malloc'ed), or NULL (and
 * freed) if a write failed. */
static char *
out_take(struct out *o)
{
	if (o->failed) {
		free(o->s);
		return NULL;
	}
	return o->s;
}

static void
out_str(struct out *o, const char *t)
{
	out_add(o, t, strlen(t));
}

/* Text escaped for HTML: & < > " ' as entities. */
static void
out_html(struct out *o, const char *t)
{
	for (; *t; t++) {
		switch (*t) {
		case '&': out_str(o, "&amp;"); break;
		case '<': out_str(o, "&lt;"); break;
		case '>': out_str(o, "&gt;"); break;
		case '"': out_str(o, "&quot;"); break;
		case '\'': out_str(o, "&#39;"); break;
		default: out_add(o, t, 1);
		}
	}
}

/* One CSV cell (RFC 4180), a formula start neutralised. */
static void
out_csv(struct out *o, const char *t)
{
	out_str(o, "\"");
	if (*t == '=' || *t == '+' || *t == '-' || *t == '@')
		out_str(o, "'");
	for (; *t; t++) {
		if (*t == '"')
			out_str(o, "\"\"");
		else
			out_add(o, t, 1);
	}
	out_str(o, "\"");
}

/* The columns of the register, in order. */
static const char *const columns[] = {"case",
                                      "received_at",
                                      "classification",
                                      "aware_at",
                                      "nature",
                                      "categories",
                                      "subjects_approx",
                                      "records_approx",
                                      "consequences",
                                      "measures_taken",
                                      "measures_proposed",
                                      "risk",
                                      "notify",
                                      "notify_reason",
                                      "notified_at",
                                      "delay_reason",
                                      NULL};

/* The value of one column as text into buf (or a pointer to the JSON
 * string); "" when absent. */
static const char *
cell(json_t *e, const char *key, char *buf, size_t bufsz)
{
	json_t *v = json_object_get(e, key);

	buf[0] = '\0';
	if (v == NULL || json_is_null(v))
		return buf;
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		(void)snprintf(buf, bufsz, "%lld",
		               (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		(void)snprintf(buf, bufsz, "%s",
		               json_is_true(v) ? "true" : "false");
	else if (json_is_array(v)) {
		size_t i, at = 0;
		json_t *it;

		json_array_foreach(v, i, it)
		{
			const char *w = json_string_value(it);
			int n;

			if (w == NULL)
				continue;
			n = snprintf(buf + at, bufsz - at, "%s%s", i ? "," : "",
			             w);
			if (n < 0 || (size_t)n >= bufsz - at)
				break;
			at += (size_t)n;
		}
	}
	return buf;
}

char *
incident_register_csv(json_t *list)
{
	struct out o = {0};
	char buf[1024];
	size_t i, k;
	json_t *e;

	for (k = 0; columns[k] != NULL; k++) {
		out_str(&o, k ? "," : "");
		out_str(&o, columns[k]);
	}
	out_str(&o, "\r\n");
	json_array_foreach(list, i, e)
	{
		for (k = 0; columns[k] != NULL; k++) {
			out_str(&o, k ? "," : "");
			out_csv(&o, cell(e, columns[k], buf, sizeof(buf)));
		}
		out_str(&o, "\r\n");
	}
	return out_take(&o);
}

char *
incident_register_html(json_t *list, const char *controller_name)
{
	struct out o = {0};
	char buf[1024];
	size_t i, k;
	json_t *e;

	out_str(&o, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	            "<title>Register of personal data breaches "
	            "(GDPR Art. 33(5))</title></head><body>\n<h1>");
	out_html(&o, controller_name);
	out_str(&o, ": register of personal data breaches (GDPR Art. "
	            "33(5))</h1>\n<table>\n<tr>");
	for (k = 0; columns[k] != NULL; k++) {
		out_str(&o, "<th>");
		out_html(&o, columns[k]);
		out_str(&o, "</th>");
	}
	out_str(&o, "</tr>\n");
	json_array_foreach(list, i, e)
	{
		out_str(&o, "<tr>");
		for (k = 0; columns[k] != NULL; k++) {
			out_str(&o, "<td>");
			out_html(&o, cell(e, columns[k], buf, sizeof(buf)));
			out_str(&o, "</td>");
		}
		out_str(&o, "</tr>\n");
	}
	out_str(&o, "</table>\n</body></html>\n");
	return out_take(&o);
}

/* ---- the draft notification (GDPR Art. 33(3); point 5) ---------------- */

/* One field of the forms: its id and its label in da, sv, en. */
static const struct {
	const char *id;
	const char *label[3];
} fields[] = {
        {"controller",
         {"Dataansvarlig", "Personuppgiftsansvarig", "Controller"}},
        {"registration",
         {"CVR-nummer", "Organisationsnummer", "Registration number"}},
        {"contact",
         {"Kontaktoplysninger", "Kontaktuppgifter", "Contact details"}},
        {"case", {"Sagsnummer", "Ärendenummer", "Case number"}},
        {"aware_at",
         {"Tidspunkt for konstatering af bruddet",
          "När personuppgiftsincidenten upptäcktes",
          "When the breach was discovered"}},
        {"notify_by",
         {"Frist for anmeldelse (72 timer)",
          "Sista tidpunkt för anmälan (72 timmar)",
          "Deadline for notification (72 hours)"}},
        {"nature",
         {"Bruddets karakter", "Typ av incident", "Nature of the breach"}},
        {"categories",
         {"Kategorier af personoplysninger", "Kategorier av personuppgifter",
          "Categories of personal data"}},
        {"subjects_approx",
         {"Omtrentligt antal berørte personer",
          "Ungefärligt antal berörda personer",
          "Approximate number of data subjects"}},
        {"records_approx",
         {"Omtrentligt antal berørte registreringer",
          "Ungefärligt antal berörda poster", "Approximate number of records"}},
        {"consequences",
         {"Sandsynlige konsekvenser", "Sannolika konsekvenser",
          "Likely consequences"}},
        {"measures_taken",
         {"Trufne foranstaltninger", "Vidtagna åtgärder", "Measures taken"}},
        {"measures_proposed",
         {"Foreslåede foranstaltninger", "Planerade åtgärder",
          "Measures proposed"}},
        {"risk",
         {"Risiko for de registrerede", "Risk för de registrerade",
          "Risk to the data subjects"}},
        {"subjects_informed",
         {"Er de registrerede underrettet (art. 34)",
          "Har de registrerade informerats (art. 34)",
          "Data subjects informed (Art. 34)"}},
        {"delay_reason",
         {"Begrundelse for forsinket anmeldelse", "Skäl till försenad anmälan",
          "Reasons for the delay"}},
};

static const struct {
	const char *word;
	const char *text[3];
} words[] = {
        {"confidentiality",
         {"Brud på fortroligheden", "Konfidentialitet", "Confidentiality"}},
        {"integrity", {"Brud på integriteten", "Riktighet", "Integrity"}},
        {"availability",
         {"Brud på tilgængeligheden", "Tillgänglighet", "Availability"}},
        {"none", {"Ingen risiko", "Ingen risk", "No risk"}},
        {"low", {"Risiko", "Risk", "Risk"}},
        {"high", {"Høj risiko", "Hög risk", "High risk"}},
};

static size_t
lang_of(const char *lang)
{
	return strcmp(lang, "da") == 0 ? 0 : strcmp(lang, "sv") == 0 ? 1 : 2;
}

static const char *
word_text(const char *w, size_t li)
{
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(words[i].word, w) == 0)
			return words[i].text[li];
	return w;
}

/* The value of field id, a new reference (json null when unknown). */
static json_t *
value_of(const struct policy *p, const char *id, json_t *c, json_t *reg,
         size_t li)
{
	json_t *v;

	if (strcmp(id, "controller") == 0)
		return json_string(p->controller.name);
	if (strcmp(id, "registration") == 0)
		return json_string(p->controller.registration
		                           ? p->controller.registration
		                           : "");
	if (strcmp(id, "contact") == 0)
		return json_pack("{s:s?, s:s?, s:s?}", "address",
		                 p->controller.address, "email",
		                 p->controller.email, "phone",
		                 p->controller.phone);
	if (strcmp(id, "case") == 0 || strcmp(id, "notify_by") == 0 ||
	    strcmp(id, "subjects_informed") == 0)
		return json_incref(json_object_get(c, id)
		                           ? json_object_get(c, id)
		                           : json_null());
	v = json_object_get(reg, id);
	if (v == NULL)
		return json_null();
	if (strcmp(id, "nature") == 0 || strcmp(id, "categories") == 0) {
		json_t *out = json_array(), *it;
		size_t i;

		json_array_foreach(v, i, it)
		{
			const char *w = json_string_value(it);
			long ci;

			if (w == NULL)
				continue;
			if (strcmp(id, "nature") == 0)
				w = word_text(w, li);
			else if ((ci = policy_category_index(p, w)) >= 0 &&
			         p->categories[ci].description != NULL)
				w = p->categories[ci].description;
			json_array_append_new(out, json_string(w));
		}
		return out;
	}
	if (strcmp(id, "risk") == 0 && json_is_string(v))
		return json_string(word_text(json_string_value(v), li));
	return json_incref(v);
}

json_t *
incident_notification(const struct policy *p, json_t *c, json_t *reg,
                      const char *lang)
{
	size_t li = lang_of(lang);
	json_t *list = json_array();

	if (list == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *f = json_pack("{s:s, s:s, s:o}", "id", fields[i].id,
		                      "label", fields[i].label[li], "value",
		                      value_of(p, fields[i].id, c, reg, li));

		if (f == NULL || json_array_append_new(list, f) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	return json_pack("{s:s, s:s?, s:s, s:s, s:o}", "authority",
	                 p->controller.authority_name
	                         ? p->controller.authority_name
	                         : (strcmp(p->controller.country, "SE") == 0
	                                    ? "IMY"
	                                    : "Datatilsynet"),
	                 "authority_url", p->controller.authority_url, "form",
	                 strcmp(p->controller.country, "SE") == 0
	                         ? "IMY"
	                         : "Datatilsynet",
	                 "language",
	                 li == 0   ? "da"
	                 : li == 1 ? "sv"
	                           : "en",
	                 "fields", list);
}

/* A value as escaped HTML text. */
static void
put_value(struct out *o, json_t *v)
{
	char *t;

	if (json_is_string(v)) {
		out_html(o, json_string_value(v));
		return;
	}
	if (json_is_null(v))
		return;
	if (json_is_array(v)) {
		size_t i;
		json_t *it;

		json_array_foreach(v, i, it)
		{
			if (i)
				out_str(o, ", ");
			put_value(o, it);
		}
		return;
	}
	if (json_is_object(v)) {
		const char *k;
		json_t *it;
		int first = 1;

		json_object_foreach(v, k, it)
		{
			if (json_is_null(it))
				continue;
			if (!first)
				out_str(o, "; ");
			first = 0;
			put_value(o, it);
		}
		return;
	}
	if ((t = json_dumps(v, JSON_ENCODE_ANY)) != NULL) {
		out_html(o, t);
		free(t);
	}
}

char *
incident_notification_html(json_t *draft)
{
	json_t *fl = json_object_get(draft, "fields"), *f;
	const char *lang =
	        json_string_value(json_object_get(draft, "language"));
	const char *auth =
	        json_string_value(json_object_get(draft, "authority"));
	struct out o = {0};
	size_t i;

	out_str(&o, "<!DOCTYPE html>\n<html lang=\"");
	out_html(&o, lang != NULL ? lang : "en");
	out_str(&o, "\"><head><meta charset=\"utf-8\"><title>");
	out_html(&o, auth != NULL ? auth : "");
	out_str(&o, "</title></head><body>\n<h1>");
	out_html(&o, auth != NULL ? auth : "");
	out_str(&o, " (GDPR art. 33)</h1>\n<table>\n");
	json_array_foreach(fl, i, f)
	{
		out_str(&o, "<tr><th>");
		put_value(&o, json_object_get(f, "label"));
		out_str(&o, "</th><td>");
		put_value(&o, json_object_get(f, "value"));
		out_str(&o, "</td></tr>\n");
	}
	out_str(&o, "</table>\n</body></html>\n");
	return out_take(&o);
}

/* ---- the intake page (SHOP-BREACH-1; until the portal exists) --------- */

static const struct {
	const char *lang;
	const char *title, *intro, *description, *how_found, *where, *name,
	        *email, *phone, *anonymous, *send, *thanks, *keep, *case_no,
	        *secret, *receipt, *feedback, *portal;
} page_words[] = {
        {"da", "Anmeld en sikkerhedsbrist",
         "Beskriv problemet så detaljeret som muligt. Du må gerne være "
         "anonym, men uden kontaktoplysninger kan vi ikke melde tilbage.",
         "Hvad er problemet?", "Hvordan blev du opmærksom på det?",
         "Hvor har du oplevet det?", "Navn", "E-mail", "Telefon",
         "Kontaktoplysninger (frivillige)", "Send anmeldelse",
         "Tak for din anmeldelse",
         "Gem sagsnummeret og koden: med dem kan du følge sagen.", "Sagsnummer",
         "Kode", "Kvittering senest", "Tilbagemelding senest",
         "Med skærmbilleder: brug formularen på vores selvbetjening"},
        {"sv", "Anmäl en säkerhetsbrist",
         "Beskriv problemet så utförligt som möjligt. Du får vara anonym, "
         "men utan kontaktuppgifter kan vi inte återkomma till dig.",
         "Vad är problemet?", "Hur upptäckte du det?", "Var såg du det?",
         "Namn", "E-post", "Telefon", "Kontaktuppgifter (frivilliga)",
         "Skicka anmälan", "Tack för din anmälan",
         "Spara ärendenumret och koden: med dem kan du följa ärendet.",
         "Ärendenummer", "Kod", "Kvitto senast", "Återkoppling senast",
         "Med skärmbilder: använd formuläret i vår självbetjäning"},
        {"en", "Report a security weakness",
         "Describe the problem in as much detail as you can. You may stay "
         "anonymous, but without contact details we cannot reply.",
         "What is the problem?", "How did you find it?",
         "Where did you see it?", "Name", "E-mail", "Phone",
         "Contact details (optional)", "Send the report",
         "Thank you for your report",
         "Keep the case number and the code: with them you can follow the "
         "case.",
         "Case number", "Code", "Receipt at the latest",
         "Feedback at the latest",
         "With screenshots: use the form of our self-service portal"},
};

static size_t
page_lang(const char *lang)
{
	for (size_t i = 0; i < sizeof(page_words) / sizeof(page_words[0]); i++)
		if (strcmp(page_words[i].lang, lang) == 0)
			return i;
	return 2;
}

static void
page_head(struct out *o, size_t li, const char *title)
{
	out_str(o, "<!DOCTYPE html>\n<html lang=\"");
	out_str(o, page_words[li].lang);
	out_str(o, "\"><head><meta charset=\"utf-8\"><title>");
	out_html(o, title);
	out_str(o, "</title></head><body>\n<h1>");
	out_html(o, title);
	out_str(o, "</h1>\n");
}

static void
page_field(struct out *o, const char *name, const char *label, int area,
           int required)
{
	out_str(o, "<p><label for=\"");
	out_str(o, name);
	out_str(o, "\">");
	out_html(o, label);
	out_str(o, "</label><br>");
	out_str(o, area ? "<textarea rows=\"6\" cols=\"60\" maxlength=\"8192\""
	                : "<input maxlength=\"200\"");
	out_str(o, " id=\"");
	out_str(o, name);
	out_str(o, "\" name=\"");
	out_str(o, name);
	out_str(o, required ? "\" required>" : "\">");
	out_str(o, area ? "</textarea></p>\n" : "</p>\n");
}

char *
incident_form_html(const char *controller_name, const char *lang,
                   const char *action, const char *portal_form)
{
	size_t li = page_lang(lang);
	struct out o = {0};

	page_head(&o, li, page_words[li].title);
	out_str(&o, "<p>");
	out_html(&o, controller_name);
	out_str(&o, "</p>\n<p>");
	out_html(&o, page_words[li].intro);
	if (portal_form != NULL) {
		out_str(&o, "</p>\n<p><a href=\"");
		out_html(&o, portal_form);
		out_str(&o, "\">");
		out_html(&o, page_words[li].portal);
		out_str(&o, "</a>");
	}
	out_str(&o, "</p>\n<form method=\"post\" action=\"");
	out_html(&o, action);
	out_str(&o, "\" enctype=\"application/x-www-form-urlencoded\">\n");
	page_field(&o, "description", page_words[li].description, 1, 1);
	page_field(&o, "how_found", page_words[li].how_found, 1, 0);
	page_field(&o, "where", page_words[li].where, 0, 0);
	out_str(&o, "<fieldset><legend>");
	out_html(&o, page_words[li].anonymous);
	out_str(&o, "</legend>\n");
	page_field(&o, "contact_name", page_words[li].name, 0, 0);
	page_field(&o, "contact_email", page_words[li].email, 0, 0);
	page_field(&o, "contact_phone", page_words[li].phone, 0, 0);
	out_str(&o, "</fieldset>\n<p><button type=\"submit\">");
	out_html(&o, page_words[li].send);
	out_str(&o, "</button></p>\n</form>\n</body></html>\n");
	return out_take(&o);
}

char *
incident_thanks_html(const char *lang, const char *case_id, const char *secret,
                     const char *receipt_due, const char *feedback_due)
{
	size_t li = page_lang(lang);
	struct out o = {0};
	const char *rows[4][2] = {{page_words[li].case_no, case_id},
	                          {page_words[li].secret, secret},
	                          {page_words[li].receipt, receipt_due},
	                          {page_words[li].feedback, feedback_due}};

	page_head(&o, li, page_words[li].thanks);
	out_str(&o, "<p>");
	out_html(&o, page_words[li].keep);
	out_str(&o, "</p>\n<table>\n");
	for (size_t i = 0; i < 4; i++) {
		out_str(&o, "<tr><th>");
		out_html(&o, rows[i][0]);
		out_str(&o, "</th><td>");
		out_html(&o, rows[i][1]);
		out_str(&o, "</td></tr>\n");
	}
	out_str(&o, "</table>\n</body></html>\n");
	return out_take(&o);
}

/* A %XX digit's value, or -1. */
static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
incident_form_decode(char *body, const char *const *keys, const char **values,
                     struct vaern_msg *msg)
{
	char *p = body, *amp, *eq, *r, *w;
	size_t k;

	for (k = 0; keys[k] != NULL; k++)
		values[k] = NULL;
	while (p != NULL && *p != '\0') {
		if ((amp = strchr(p, '&')) != NULL)
			*amp = '\0';
		if ((eq = strchr(p, '=')) == NULL) {
			(void)vaern_fail(msg, VAERN_E_INVALID,
			                 "the form is key=value pairs");
			return -1;
		}
		*eq = '\0';
		for (k = 0; keys[k] != NULL; k++)
			if (strcmp(keys[k], p) == 0)
				break;
		if (keys[k] == NULL || values[k] != NULL) {
			(void)vaern_fail(msg, VAERN_E_INVALID,
			                 keys[k] == NULL
			                         ? "unknown form field"
			                         : "a form field twice");
			return -1;
		}
		/* Decoded in place: '+' is a space, %XX a byte. */
		for (r = w = eq + 1; *r != '\0'; r++) {
			if (*r == '+') {
				*w++ = ' ';
			} else if (*r == '%') {
				int hi = hex_value(r[1]),
				    lo = hi < 0 ? -1 : hex_value(r[2]);

				if (lo < 0 || (hi == 0 && lo == 0)) {
					(void)vaern_fail(
					        msg, VAERN_E_INVALID,
					        "form field '%s': a bad %%XX "
					        "escape",
					        keys[k]);
					return -1;
				}
				*w++ = (char)(hi * 16 + lo);
				r += 2;
			} else {
				*w++ = *r;
			}
		}
		*w = '\0';
		/* A blank field of a form is an absent one. */
		values[k] = eq[1] != '\0' ? eq + 1 : NULL;
		p = amp != NULL ? amp + 1 : NULL;
	}
	return 0;
}
