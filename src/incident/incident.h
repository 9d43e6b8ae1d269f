/*
 * incident.h -- security-weakness reports and the breach register
 * (issue 17): the model, without storage or cryptography.
 *
 * What is here: the words of a case (classification, nature, risk), the
 * limits of a report, the deadlines (SHOP-BREACH-2: the receipt in
 * working days of the controller's country, the feedback a calendar
 * period later; GDPR Art. 33(1): 72 hours from awareness), the check of
 * a screenshot's magic bytes, the check of the register fields a DPO
 * writes, and the register's exports (JSON, CSV, HTML, every text
 * escaped). src/vault/vault_incident.c stores and seals cases.
 *
 * Messages name fields and rules, never a value: a report's texts are
 * personal data potentially.
 */
#ifndef VAERN_INCIDENT_H
#define VAERN_INCIDENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../policy/policy.h"

#define INCIDENT_TEXT_MAX      8192 /* bytes in one text of a report */
#define INCIDENT_FILES_MAX     5    /* screenshots in one report */
#define INCIDENT_FILE_MAX      ((size_t)5 * 1024 * 1024) /* bytes each */
#define INCIDENT_CASE_LEN      16 /* "SB-" + 12 characters, and a NUL */
#define INCIDENT_SECRET_LEN    44 /* base64url of 32 bytes, and a NUL */
#define INCIDENT_AWARE_SECONDS (72 * 3600) /* GDPR Art. 33(1) */
#define INCIDENT_PER_ADDRESS   5           /* reports per address per window */
#define INCIDENT_RATE_WINDOW   3600        /* seconds of that window */

enum incident_class {
	INCIDENT_UNCLASSIFIED,
	INCIDENT_NOT_BREACH, /* no weakness, no breach */
	INCIDENT_WEAKNESS,   /* a weakness, no personal data breached */
	INCIDENT_DATA_BREACH /* a personal data breach (GDPR Art. 4(12)) */
};

/* The name of c ("unclassified", "not_breach", "weakness",
 * "personal_data_breach"); static. */
const char *incident_class_name(enum incident_class c);

/* The class named text; -1 if none. */
int incident_class_parse(const char *text);

/* The kind of a screenshot from its first bytes: "image/png",
 * "image/jpeg", or NULL for anything else (GDPR-32: no other file is
 * accepted). */
const char *incident_image_type(const unsigned char *b, size_t len);

/*
 * Checks a text of a report: valid UTF-8 of at most INCIDENT_TEXT_MAX
 * bytes without control characters but newline and tab; required texts
 * must hold more than white space. NULL is absent (VAERN_OK unless
 * required). field names the field in msg.
 */
enum vaern_err incident_text_check(const char *text, const char *field,
                                   int required, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(2)));

/* The day the receipt is due: receipt_working_days working days of
 * country after the day of receipt (SHOP-BREACH-2). */
long incident_receipt_due(const struct policy *p, long received_day)
        __attribute__((nonnull));

/* The day the feedback is due: the policy's period after the day of
 * receipt (SHOP-BREACH-2). */
long incident_feedback_due(const struct policy *p, long received_day)
        __attribute__((nonnull));

/*
 * Checks and merges the register fields of a triage (GDPR Art. 33(3),
 * 33(5)) in patch into reg (an object, changed in place only on
 * success). Keys: classification, aware_at, nature (a list of
 * confidentiality, integrity, availability), categories (category ids
 * of p), subjects_approx, records_approx (whole numbers >= 0),
 * consequences, measures_taken, measures_proposed (texts), risk (none,
 * low, high), notify (true/false), notify_reason, notified_at,
 * delay_reason. aware_at and notified_at are not after now and
 * notified_at not before aware_at; a notification later than 72 hours
 * after awareness needs delay_reason; notify needs notify_reason. A
 * null value removes the key. VAERN_E_INVALID names the key at fault.
 */
enum vaern_err incident_register_merge(const struct policy *p, json_t *reg,
                                       json_t *patch, int64_t now,
                                       struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/* An instant of the register ("2026-12-07T10:00:00Z"), or INT64_MIN
 * when key is absent or not one. */
int64_t incident_time(json_t *reg, const char *key) __attribute__((nonnull));

/*
 * The register (Art. 33(5)) as CSV or HTML from its JSON list (each
 * entry an object as vault_incident_register makes). Every text is
 * escaped (CSV quoting, HTML entities; a cell starting with = + - @ is
 * prefixed with ' against spreadsheet formulas). Returns a malloc'ed
 * NUL-terminated text the caller frees, or NULL when out of memory.
 */
char *incident_register_csv(json_t *list) __attribute__((nonnull));
char *incident_register_html(json_t *list, const char *controller_name)
        __attribute__((nonnull));

/* ---- the messages (incident_message.c; templates/incident) ------------ */

enum incident_message_kind {
	INCIDENT_MSG_RECEIPT,  /* to the reporter: received (SHOP-BREACH-2) */
	INCIDENT_MSG_FEEDBACK, /* to the reporter: what was done */
	INCIDENT_MSG_NOTICE,   /* to a person affected (GDPR Art. 34) */
};

/* The title of a message of kind in lang (da, sv, en; else en). Static. */
const char *incident_message_title(const char *lang,
                                   enum incident_message_kind kind);

/* The receipt's text in lang: received, the case, the day the feedback
 * is due (days since the epoch). Truncated to outsz. */
void incident_receipt_body(const char *lang, const char *case_id,
                           long feedback_due, char *out, size_t outsz)
        __attribute__((nonnull));

/* The feedback's text in lang: the staff's text, the case, whether it is
 * closed. */
void incident_feedback_body(const char *lang, const char *case_id,
                            const char *text, int closed, char *out,
                            size_t outsz) __attribute__((nonnull));

/* The Art. 34 message in lang from register reg: what happened, the
 * likely consequences, the measures taken and proposed, the controller's
 * and (when declared) the DPO's contact. */
void incident_notice_body(const struct policy *p, const char *lang, json_t *reg,
                          char *out, size_t outsz) __attribute__((nonnull));

/*
 * The language (da, sv, en) of the person at e-mail address email and
 * phone number phone (normalised, either NULL): the phone's country code
 * (+45 da, +46 sv, another en), else the e-mail's country domain (.dk
 * da, .se sv, another two-letter country en; .com, .eu and the like say
 * nothing), else fallback (the controller's language).
 */
const char *incident_person_lang(const char *email, const char *phone,
                                 const char *fallback);

/*
 * The draft notification of case c (its clear view, with "case",
 * "notify_by", "subjects_informed") and register reg to the supervisory
 * authority (GDPR Art. 33(3)): the fields of Datatilsynet's form (a DK
 * controller) or IMY's (SE), labelled in lang (da, sv; else en), filled
 * from reg and the policy. A new JSON object, or NULL when out of memory.
 */
json_t *incident_notification(const struct policy *p, json_t *c, json_t *reg,
                              const char *lang) __attribute__((nonnull));

/* The draft as an HTML page, every text escaped; malloc'ed, or NULL. */
char *incident_notification_html(json_t *draft) __attribute__((nonnull));

/*
 * The plain intake page (SHOP-BREACH-1), for any controller, portal or
 * not: an HTML form in lang (da, sv; else en) posting urlencoded fields
 * description, how_found, where, contact_name, contact_email,
 * contact_phone to action, with a link to portal_form (the portal's
 * form, which takes screenshots) when not NULL; and the page answering
 * it with the case number, the secret and the deadlines. Every text
 * escaped; no script. malloc'ed, or NULL.
 */
char *incident_form_html(const char *controller_name, const char *lang,
                         const char *action, const char *portal_form)
        __attribute__((nonnull(1, 2, 3)));
char *incident_thanks_html(const char *lang, const char *case_id,
                           const char *secret, const char *receipt_due,
                           const char *feedback_due) __attribute__((nonnull));

/*
 * Decodes an application/x-www-form-urlencoded body in place: values[i]
 * gets the value of keys[i] (NULL-terminated), NULL when absent or
 * blank. -1 with msg for an unknown or repeated key, a pair without '='
 * or a bad %XX escape (%00 included); messages name keys, never values.
 */
int incident_form_decode(char *body, const char *const *keys,
                         const char **values, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

#endif
