/*
 * incident_message.c -- the messages of issue 17, worded in
 * templates/incident/{en,da,sv}.strings: the receipt and the feedback to
 * the reporter of a security weakness (SHOP-BREACH-2) and the message to
 * each person a breach at high risk affects (GDPR Art. 34), in the
 * language of the person it goes to.
 */
#include "incident.h"

#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "incident_strings.h"

/* The row of incident_table for lang: en, da, sv (else en). */
static size_t
row(const char *lang)
{
	if (lang != NULL && strcmp(lang, "da") == 0)
		return 1;
	if (lang != NULL && strcmp(lang, "sv") == 0)
		return 2;
	return 0;
}

static const char *
T(const char *lang, enum incident_key k)
{
	return incident_table[row(lang)][k];
}

const char *
incident_message_title(const char *lang, enum incident_message_kind kind)
{
	switch (kind) {
	case INCIDENT_MSG_RECEIPT: return T(lang, I_receipt_title);
	case INCIDENT_MSG_FEEDBACK: return T(lang, I_feedback_title);
	case INCIDENT_MSG_NOTICE: return T(lang, I_notice_title);
	}
	return T(lang, I_notice_title);
}

void
incident_receipt_body(const char *lang, const char *case_id, long feedback_due,
                      char *out, size_t outsz)
{
	char due[11];

	cal_format_date(feedback_due, due);
	(void)snprintf(out, outsz, "%s\n\n%s: %s\n%s %s.\n",
	               T(lang, I_receipt_text), T(lang, I_case), case_id,
	               T(lang, I_feedback_due), due);
}

void
incident_feedback_body(const char *lang, const char *case_id, const char *text,
                       int closed, char *out, size_t outsz)
{
	(void)snprintf(out, outsz, "%s\n\n%s\n\n%s: %s\n%s\n",
	               T(lang, I_feedback_text), text, T(lang, I_case), case_id,
	               T(lang, closed ? I_closed : I_more));
}

/* Appends "label value value ..." (the values that are set) to out. */
static void
contact_line(char *out, size_t outsz, const char *label, const char *a,
             const char *b, const char *c)
{
	size_t n = strlen(out);

	if (a == NULL && b == NULL && c == NULL)
		return;
	(void)snprintf(out + n, n < outsz ? outsz - n : 0, "%s%s%s%s%s%s%s\n",
	               label, a != NULL ? " " : "", a != NULL ? a : "",
	               b != NULL ? " " : "", b != NULL ? b : "",
	               c != NULL ? " " : "", c != NULL ? c : "");
}

/* GDPR Art. 34(2): the nature of the breach, the DPO's or another contact
 * point, the likely consequences, the measures taken and proposed. */
void
incident_notice_body(const struct policy *p, const char *lang, json_t *reg,
                     char *out, size_t outsz)
{
	const struct policy_controller *c = &p->controller;
	const char *cons =
	        json_string_value(json_object_get(reg, "consequences"));
	const char *meas =
	        json_string_value(json_object_get(reg, "measures_taken"));
	const char *prop =
	        json_string_value(json_object_get(reg, "measures_proposed"));

	(void)snprintf(out, outsz, "%s\n\n%s\n%s\n\n%s\n%s\n%s%s%s%s\n",
	               T(lang, I_notice_intro), T(lang, I_notice_consequences),
	               cons != NULL ? cons : "", T(lang, I_notice_measures),
	               meas != NULL ? meas : "", prop != NULL ? "\n" : "",
	               prop != NULL ? T(lang, I_notice_proposed) : "",
	               prop != NULL ? "\n" : "", prop != NULL ? prop : "");
	contact_line(out, outsz, T(lang, I_notice_contact), c->name, c->email,
	             c->phone);
	contact_line(out, outsz, T(lang, I_notice_dpo), c->dpo_name,
	             c->dpo_email, c->dpo_phone);
}

/* The language a country-code top-level domain or calling code says:
 * Denmark da, Sweden sv, another country en; NULL: says nothing. */
static const char *
country_lang(const char *cc)
{
	if (strcmp(cc, "dk") == 0 || strcmp(cc, "45") == 0)
		return "da";
	if (strcmp(cc, "se") == 0 || strcmp(cc, "46") == 0)
		return "sv";
	return "en";
}

const char *
incident_person_lang(const char *email, const char *phone, const char *fallback)
{
	const char *dot;

	/* A phone number in E.164 (+CC...) names its country. The
	 * Nordic codes are two digits; any other + code is abroad. */
	if (phone != NULL && phone[0] == '+' && phone[1] >= '1' &&
	    phone[1] <= '9' && phone[2] >= '0' && phone[2] <= '9') {
		char cc[3] = {phone[1], phone[2], '\0'};

		return country_lang(cc);
	}
	/* An e-mail domain under a country's two-letter domain names it;
	 * .com, .net, .eu ... say nothing. */
	if (email != NULL && (dot = strrchr(email, '.')) != NULL &&
	    strchr(dot, '@') == NULL && strlen(dot + 1) == 2 &&
	    strcmp(dot + 1, "eu") != 0) {
		char cc[3] = {(char)(dot[1] | 0x20), (char)(dot[2] | 0x20),
		              '\0'};

		return country_lang(cc);
	}
	return fallback != NULL && fallback[0] != '\0' ? fallback : "en";
}
