/*
 * api_report.h -- builds a person's access report (GDPR-15) or portable
 * copy (GDPR-20) from the vault and the audit trail: the work behind
 * GET /v1/subjects/{id}/report and /export and of GET
 * /v1/requests/{request}/report (and `vaern requests report`), apart from
 * HTTP so that the benchmark (bench/bench_rights.c) times the same code.
 */
#ifndef VAERN_API_REPORT_H
#define VAERN_API_REPORT_H

#include <stddef.h>

#include "../common/err.h"
#include "../vault/vault.h"

enum api_report_format { API_REPORT_JSON, API_REPORT_HTML, API_REPORT_CSV };

/*
 * Reads the subject's facts through vault_subject_export (audited), and
 * for an access report its events and the audit entries about it in
 * audit_db, then renders the answer: *body (malloc'd, holds personal
 * data: the caller wipes it with sodium_memzero and frees it) of *len
 * bytes. lang: "da", "sv", "en" or NULL (the controller's language). HTML
 * is for the access report, CSV for the portable copy.
 *
 * request NULL: the bare report, for the data-protection officer's role
 * only. request, the id of a rights request about uid of the kind asked
 * (access or portability): the answer to it, for any role of the
 * controller once the request is verified and open (vault.h), naming the
 * request in the document.
 */
enum vaern_err api_report_build(
        struct vault *v, const char *audit_db, const struct vault_actor *actor,
        const struct policy *p, const unsigned char uid[VAULT_UID_BYTES],
        enum vault_export kind, enum api_report_format format, const char *lang,
        const char *request, char **body, size_t *len, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5, 10, 11)));

#endif
