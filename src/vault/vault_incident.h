/*
 * vault_incident.h -- security-weakness reports and the breach register
 * in the vault (issue 17): intake, deadlines, triage, the register.
 *
 * A case's texts (description, how found, where, the reporter's contact,
 * the feedback, the register's free texts) and its screenshots are
 * personal data potentially: each is sealed (XChaCha20-Poly1305) under
 * the case's own random key, which is stored only wrapped under the
 * keystore's root key "incident" (issue 13: wrapped under the master key,
 * re-wrapped by a rotation; vlt_incident_key_wrap is the one place that
 * wraps). The reporter's address is kept only as a keyed hash, for
 * the rate limit. The follow-up secret is kept only as a hash.
 *
 * Every change is one transaction, then one audit entry (purpose
 * "incident", the case number and the clause; never a text). Calls that
 * change a case need the audit trail attached (vault_set_audit).
 * Messages name fields and rules, never a value.
 */
#ifndef VAERN_VAULT_INCIDENT_H
#define VAERN_VAULT_INCIDENT_H

#include <jansson.h>

#include "../incident/incident.h"
#include "vault.h"

/* A report as it arrives (SHOP-BREACH-1). Texts NULL when absent. */
struct vault_report_in {
	const char *controller;  /* NULL: the vault's only controller */
	const char *description; /* required, not only white space */
	const char *how_found;
	const char *where;
	const char *contact_name; /* no contact at all: anonymous */
	const char *contact_email;
	const char *contact_phone;
	const unsigned char *const *files; /* screenshots, PNG or JPEG */
	const size_t *file_lens;
	size_t nfiles;      /* 0..INCIDENT_FILES_MAX */
	const char *client; /* the sender's address; only its keyed hash
	                       is kept (the rate limit) */
};

/* What the reporter gets back. */
struct vault_report_receipt {
	char controller[POLICY_NAME_MAX + 1];
	char case_id[INCIDENT_CASE_LEN];
	char secret[INCIDENT_SECRET_LEN]; /* shown once, kept only hashed */
	long receipt_due, feedback_due;   /* days */
	int receipt_sent;                 /* 1: the receipt went to the
	                                     contact given (SHOP-BREACH-2) */
};

/*
 * Takes a report: checks every field (VAERN_E_INVALID naming it, or
 * VAERN_E_LIMIT for a text, a file or a count too large), refuses a sixth
 * report from one address within INCIDENT_RATE_WINDOW seconds
 * (VAERN_E_DENIED with "rate"), then seals and stores it with its
 * deadlines and audits "incident_reported". Nothing is stored on failure.
 * With a contact, the receipt is then sent through the outbox at once and
 * recorded ("incident_receipt"; out->receipt_sent); if it cannot be sent
 * the report stands and the receipt stays due.
 */
enum vaern_err
vault_report_add(struct vault *v, const struct vault_report_in *in,
                 struct vault_report_receipt *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/*
 * The per-address limit of vault_report_add, read ahead: VAERN_E_DENIED
 * (its message beginning "rate:") when client already sent
 * INCIDENT_PER_ADDRESS reports within INCIDENT_RATE_WINDOW seconds, for
 * a refusal before a large body is read. A read only: the count that
 * decides stays vault_report_add's, in its write transaction.
 */
enum vaern_err vault_report_rate_check(struct vault *v, const char *client,
                                       struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * The token of the portal's report forms (vault_incident_form.c): the
 * instant at and a MAC of it, controller and page ("report", "status")
 * under the controller's key, as VAULT_REPORT_FORM_TOKEN_LEN base64url
 * characters. No session: an anonymous reporter has none.
 */
#define VAULT_REPORT_FORM_TTL       (2 * 3600) /* seconds a form is good */
#define VAULT_REPORT_FORM_TOKEN_LEN 54         /* base64url of 40 bytes */
enum vaern_err vault_report_form_token(
        struct vault *v, const char *controller, const char *page, int64_t at,
        char out[VAULT_REPORT_FORM_TOKEN_LEN + 1], struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5)));

/* 1 if token is one vault_report_form_token made for controller and
 * page at most VAULT_REPORT_FORM_TTL seconds before now (and not after
 * it); 0 otherwise (compared in constant time). */
int vault_report_form_check(struct vault *v, const char *controller,
                            const char *page, const char *token, int64_t now)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/*
 * The reporter's view of case_id with its secret: received, receipt,
 * feedback (its text) and whether the case is closed. A wrong secret or
 * an unknown case: VAERN_E_DENIED, the same answer for both.
 */
enum vaern_err vault_report_status(struct vault *v, const char *case_id,
                                   const char *secret, json_t **out,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/* The case as staff see it; texts 1 opens the report's texts (audited
 * "incident_read"). *out is the caller's. */
enum vaern_err vault_incident_get(struct vault *v, const char *controller,
                                  const char *case_id, int texts,
                                  const struct vault_request_actor *who,
                                  json_t **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5, 6)));

/* The cases of controller: open ones with a deadline on or before day
 * due_by (LONG_MAX: every open one), or every case with all. */
enum vaern_err vault_incident_list(struct vault *v, const char *controller,
                                   long due_by, int all, json_t **out,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 5)));

/* Records the receipt (SHOP-BREACH-2) and sends it through the outbox
 * when the reporter gave a contact. Twice: VAERN_E_EXISTS. */
enum vaern_err vault_incident_receipt(struct vault *v, const char *controller,
                                      const char *case_id,
                                      const struct vault_request_actor *who,
                                      json_t **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5)));

/* Records the feedback text (what was done) and whether the case is
 * closed (SHOP-BREACH-2), sealed, and sends it through the outbox when
 * the reporter gave a contact. A closed case takes no more feedback. */
enum vaern_err vault_incident_feedback(struct vault *v, const char *controller,
                                       const char *case_id, const char *text,
                                       int closed,
                                       const struct vault_request_actor *who,
                                       json_t **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 6, 7)));

/* Triage (SHOP-BREACH-3, GDPR-33): merges the register fields of patch
 * (incident_register_merge says which) into the case's register. */
enum vaern_err vault_incident_triage(struct vault *v, const char *controller,
                                     const char *case_id, json_t *patch,
                                     const struct vault_request_actor *who,
                                     json_t **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5, 6)));

/* The register of personal data breaches (GDPR Art. 33(5)): one object
 * per case classified personal_data_breach, by receipt. Audited
 * "incident_register". */
enum vaern_err vault_incident_register(struct vault *v, const char *controller,
                                       const struct vault_request_actor *who,
                                       json_t **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/*
 * The draft notification of a personal data breach to the authority
 * (GDPR Art. 33(3)) in lang (da, sv, en): incident_notification's fields,
 * filled from the case's register. VAERN_E_INVALID for a case not
 * classified personal_data_breach. Audited "incident_notification".
 */
enum vaern_err
vault_incident_notification(struct vault *v, const char *controller,
                            const char *case_id, const char *lang,
                            const struct vault_request_actor *who, json_t **out,
                            struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5, 6)));

/* What vault_incident_notify did. */
struct vault_notice_report {
	long sent;       /* messages sent now */
	long already;    /* people who had theirs: never twice */
	long no_contact; /* people without an e-mail or phone on record,
	                    or no longer in the vault */
};

/*
 * The Art. 34 messages of a breach at high risk: to each of the n
 * subjects (the affected people, src/incident/affected.h) through the
 * outbox, in each person's language (incident_person_lang: their phone's
 * or e-mail's country, else the controller's): what happened, the likely
 * consequences, the measures, the DPO contact. Recorded per person and
 * audited per person ("incident_notice", the subject's id); a person
 * who had one is skipped. VAERN_E_INVALID unless the case is a
 * personal_data_breach with risk high, consequences and measures_taken.
 */
enum vaern_err
vault_incident_notify(struct vault *v, const char *controller,
                      const char *case_id,
                      const unsigned char (*subjects)[VAULT_UID_BYTES],
                      size_t n, const struct vault_request_actor *who,
                      struct vault_notice_report *rep, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 6, 7)));

/* Screenshot seq (1..) of the case, decrypted into *bytes (malloc'ed,
 * *len bytes; the caller wipes and frees it) with its type ("image/png",
 * "image/jpeg"), once its reading is audited ("incident_read"). */
enum vaern_err vault_incident_screenshot(struct vault *v,
                                         const char *controller,
                                         const char *case_id, int seq,
                                         const struct vault_request_actor *who,
                                         char type[16], unsigned char **bytes,
                                         size_t *len, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5, 6, 7, 8)));

/* Audits a search of the affected people (src/incident/affected.h) by
 * who, with what (counts, never an id) as the reason (GDPR-33). */
enum vaern_err
vault_incident_audit_search(struct vault *v, const char *controller,
                            const struct vault_request_actor *who,
                            const char *what, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/* Counts over every controller, for /metrics. */
struct vault_incident_counts {
	long open;             /* cases not closed */
	long receipt_overdue;  /* open, no receipt, past its day */
	long feedback_overdue; /* open, no feedback, past its day */
	long breach_clock;     /* breaches aware, not notified, no decision
	                          not to, the 72 hours running or run out */
	long breach_late;      /* of those, past the 72 hours */
};
enum vaern_err vault_incident_counts(struct vault *v,
                                     struct vault_incident_counts *out,
                                     struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

#endif
