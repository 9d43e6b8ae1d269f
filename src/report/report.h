/*
 * report.h -- what a person gets back when they use their rights: the
 * access report (GDPR-15) and the portable copy (GDPR-20).
 *
 * Pure: the caller reads the facts (decrypted), the subject's events and
 * the processing recorded about them in the audit trail, and passes them
 * in; these functions shape the answer from them and the compiled policy.
 * No I/O, no clock.
 *
 * The access report holds, for each category the person has data in (and
 * no other), the values, the purposes with their legal basis, the
 * recipients, the source (TEL-CAT-3) and the date each fact goes; then the
 * person's rights and who to complain to (AURA-COMPLAIN-1, AOPT-COMPLAIN-1,
 * CEK-COMPLAIN-1). It renders as JSON and as an HTML page in Danish,
 * Swedish or English.
 *
 * The portable copy holds only what the person provided, under consent or
 * contract (GDPR-20): JSON or CSV, format "vaern-portable/1", documented in
 * docs/api.md.
 *
 * A category the gate withheld from the role that made the report
 * (struct report_withheld) is listed with its purposes, its retention
 * rules and the rule that withholds it, without values ("withheld" in
 * JSON, a section of the HTML page, "withheld" in the portable copy).
 *
 * A report that answers a rights request names it ("request" and
 * "request_type" in JSON, a line of the HTML page; not in CSV, whose
 * columns are the data).
 */
#ifndef VAERN_REPORT_H
#define VAERN_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../policy/policy.h"

#define REPORT_NEVER INT64_MAX /* a fact with no end date */

struct report_fact {
	int64_t id;
	const char *category; /* a category id of the policy */
	const char *purpose;  /* the purpose it was collected for */
	int64_t collected_at; /* seconds since the epoch */
	int64_t expires_at;   /* seconds; REPORT_NEVER, or INT64_MIN: not
	                         computed */
	int provided;         /* 1: the person gave it */
	const char *value;    /* NUL-terminated */
	const char *source;   /* where it came from: a kind word or a source
	                         the policy declares (TEL-CAT-3); NULL: not
	                         known */
};

struct report_event {
	const char *kind;
	int64_t at;
};

/* One entry of the audit trail about the person: who did what, why. */
struct report_use {
	int64_t seq;
	int64_t at;
	const char *role;
	const char *purpose;
	const char *action; /* "read", "export", "disclose:<recipient>" */
	const char *categories;
	int allowed;
	const char *rule;
};

/* A category the answer withholds from the role that asked (TEL-LOG-2):
 * the person is still told it exists, its purposes and its retention
 * (GDPR-15(1)(a), (d)), and the rule that withholds it. */
struct report_withheld {
	size_t category;    /* index into the policy's categories */
	size_t facts;       /* facts of it on record */
	const char *rule;   /* e.g. "TEL-LOG-2" */
	const char *reason; /* ids only */
};

struct report_input {
	const struct policy *policy;
	const char *subject; /* the subject id, hex */
	int64_t now;         /* when the report is made */
	const struct report_fact *facts;
	size_t nfacts;
	const struct report_event *events;
	size_t nevents;
	const struct report_use *uses;
	size_t nuses;
	const char *request;      /* the rights request it answers (its
	                             id), or NULL for the bare report */
	const char *request_type; /* "access" or "portability"; with
	                             request */
	const struct report_withheld *withheld; /* what the gate held back */
	size_t nwithheld;
	const char *lang; /* "da", "sv", "en" for the JSON report's
	                     retention words (GDPR-15); NULL: the
	                     controller's language */
};

/*
 * The access report as JSON (documented in docs/api.md): a malloc'd,
 * NUL-terminated string of *len bytes the caller wipes and frees, or NULL
 * when out of memory. Categories appear in the policy's order, facts in
 * the order given.
 */
char *report_access_json(const struct report_input *in, size_t *len);

/* The portable copy as a JSON object, or NULL when out of memory. */
json_t *report_portable(const struct report_input *in);

/*
 * The portable copy as CSV (RFC 4180, CRLF, a header line
 * "category,value,purpose,collected_at"): a malloc'd, NUL-terminated
 * string the caller wipes and frees, or NULL when out of memory.
 */
char *report_portable_csv(const struct report_input *in, size_t *len);

/*
 * The access report as an HTML page in language lang ("da", "sv" or "en";
 * anything else: "en"). Every value is escaped. A malloc'd string the
 * caller wipes and frees, or NULL when out of memory.
 */
char *report_access_html(const struct report_input *in, const char *lang,
                         size_t *len);

/* Bytes report_retention_words writes at most (NUL included). */
#define REPORT_RETENTION_WORDS_MAX 2048

/*
 * How long facts of category (an index into p->categories) are kept, in
 * words, in lang ("da", "sv", "en"; anything else "en"): every rule
 * holding it, its period and what the period runs from (an event by its
 * description in the policy), and the law that requires it
 * ("until 2 months after Du er stoppet som kunde or ..."; GDPR-15, issue
 * 10). Writes at most size bytes into out (truncated, NUL-terminated);
 * returns the length written. No personal data: policy text only.
 */
size_t report_retention_words(const struct policy *p, size_t category,
                              const char *lang, char *out, size_t size)
        __attribute__((nonnull));

/* 1 if the fact goes into the portable copy (provided by the person,
 * under a purpose resting on consent or contract), else 0. */
int report_is_portable(const struct policy *p, const struct report_fact *f);

#endif
