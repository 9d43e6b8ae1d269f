/*
 * audit_query.h -- the data-protection officer's view of the audit trail
 * (issue 20, point 4; GDPR-32): one controller's entries filtered by
 * subject, actor, purpose, decision and time, a page at a time, and the
 * same entries as CSV with spreadsheet formulas defused.
 *
 * The trail holds ids and policy words only (audit.h), so what a query
 * returns may be shown to the officer; who may run one is the caller's
 * decision (a role with audit: true).
 */
#ifndef VAERN_AUDIT_QUERY_H
#define VAERN_AUDIT_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "audit.h"

#define AUDIT_QUERY_PAGE     50   /* entries one page shows by default */
#define AUDIT_QUERY_PAGE_MAX 1000 /* entries one page may show */
#define AUDIT_CSV_LINE_MAX                                                     \
	16384 /* bytes of one CSV line: every field                            \
	         at its limit, every byte quoted */

/* Which entries a query selects; every bound given must hold (AND). */
struct audit_query {
	const char *controller;       /* required: this controller's only */
	const unsigned char *subject; /* AUDIT_SUBJECT_BYTES, or NULL: any */
	const char *actor;            /* this actor name exactly, or NULL */
	const char *purpose;          /* this purpose id exactly, or NULL */
	int decision;                 /* -1: any, 1: allowed, 0: denied */
	int64_t from_at;              /* at >= from_at; INT64_MIN: none */
	int64_t to_at;                /* at < to_at; INT64_MAX: none */
	int64_t after_seq;            /* seq > after_seq: the next page */
	int64_t limit;                /* at most this many; 0: all */
};

/* A query that selects every entry of controller (the bounds open). */
void audit_query_init(struct audit_query *q, const char *controller)
        __attribute__((nonnull(1)));

/*
 * Calls fn for each entry of the trail db_path that q selects, in seq
 * order, at most q->limit of them; stops at the first non-OK from fn and
 * returns it. *more (may be NULL) is 1 when a further entry matches
 * after the last one given (its page is "after" that seq). A row changed
 * behind vaern's back (malformed) is given, marked, only when no actor,
 * purpose or decision is asked for (its fields cannot be trusted to
 * match). VAERN_E_INVALID for a query without a controller or with a
 * bound out of range.
 */
enum vaern_err
audit_query_run(const char *db_path, const struct audit_query *q,
                enum vaern_err (*fn)(void *arg, const struct audit_record *r),
                void *arg, int *more, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/*
 * One CSV cell (RFC 4180) of text into out (size bytes), NUL-ended:
 * quoted when it holds a comma, a quote, CR or LF; and a cell that
 * begins with =, +, -, @, a tab or CR gets a leading apostrophe, so a
 * spreadsheet shows it as text instead of running it as a formula (CSV
 * injection). NULL is an empty cell. Returns the length written, or -1
 * (out holds "") when it does not fit.
 */
long audit_csv_cell(const char *text, char *out, size_t size)
        __attribute__((nonnull(2)));

/* The header line of the CSV export, "seq,at,...\r\n". */
const char *audit_csv_header(void);

/*
 * The CSV line of entry r ("\r\n"-ended) into out (AUDIT_CSV_LINE_MAX
 * bytes): seq, time (UTC), controller, actor, role, purpose, action,
 * subject (subject, the caller's text of r's subject id, or NULL),
 * categories, decision (allowed, denied), rule, reason, policy, hash.
 * Every text through audit_csv_cell. Returns its length, or -1.
 */
long audit_csv_line(const struct audit_record *r, const char *subject,
                    char *out) __attribute__((nonnull(1, 3)));

#endif
