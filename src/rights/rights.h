/*
 * rights.h -- rights requests (issue 5): their types, their statuses, the
 * legal deadline and which status may follow which.
 *
 * Pure computation: no I/O, no clock, no allocation. The vault
 * (src/vault/vault_requests.c) stores requests and calls these to decide.
 *
 * Dates are days since 1970-01-01 (UTC, calendar.h). A request received at
 * any time of a day counts from that day: it is due at the end of the day
 * one calendar month later (GDPR Art. 12(3); GDPR-12), clamped to the
 * month's last day, so a request received on 31 January is due on the
 * last day of February. An extension is counted from the receipt too, not
 * from the clamped due date: 31 January + 1 + 2 months = 30 April.
 */
#ifndef VAERN_RIGHTS_H
#define VAERN_RIGHTS_H

#include <stddef.h>

#include "../common/err.h"

/* What the person asks for (GDPR Art. 15-21, 7(3); AURA-RIGHTS-1). */
enum rights_type {
	RIGHTS_ACCESS,
	RIGHTS_PORTABILITY,
	RIGHTS_RECTIFICATION,
	RIGHTS_ERASURE,
	RIGHTS_RESTRICTION,
	RIGHTS_OBJECTION,
	RIGHTS_CONSENT_WITHDRAWAL,
	RIGHTS_TYPE_COUNT_
};

/* Where a request stands. */
enum rights_status {
	RIGHTS_RECEIVED,    /* registered, identity not verified */
	RIGHTS_VERIFIED,    /* identity verified (AOPT-ACCESS-1) */
	RIGHTS_IN_PROGRESS, /* being handled */
	RIGHTS_COMPLETED,   /* answered (final) */
	RIGHTS_REFUSED,     /* refused, with a reason (final) */
	RIGHTS_EXTENDED,    /* the deadline was extended (GDPR-12) */
	RIGHTS_CANCELLED,   /* withdrawn by the person (final) */
	RIGHTS_STATUS_COUNT_
};

/* The longest extension, in months (GDPR Art. 12(3)). */
#define RIGHTS_EXTENSION_MAX_MONTHS 2

/* Bytes of the longest type or status name, NUL excluded. */
#define RIGHTS_NAME_MAX 24

/* "access", "portability", ..., "consent_withdrawal". */
const char *rights_type_name(enum rights_type t);
/* Parses a type name; VAERN_E_INVALID with msg listing the names. */
enum vaern_err rights_type_parse(const char *name, enum rights_type *t,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* "received", "verified", "in_progress", ... */
const char *rights_status_name(enum rights_status s);
enum vaern_err rights_status_parse(const char *name, enum rights_status *s,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* 1 if s is final: completed, refused or cancelled. */
int rights_status_final(enum rights_status s);

/* The due day of a request received on day received (GDPR-12). */
long rights_due(long received);

/* The due day after an extension by months (1..2) from received. */
long rights_due_extended(long received, int months);

/*
 * Whether a request may go from status from to status to.
 *   received    -> verified, extended, refused, cancelled
 *   verified    -> in_progress, completed, extended, refused, cancelled
 *   in_progress -> completed, extended, refused, cancelled
 *   extended    -> verified, in_progress, completed, refused, cancelled
 *   completed, refused, cancelled: final, nothing follows.
 * verified says whether the identity is verified: in_progress and
 * completed need it (AOPT-ACCESS-1: nothing is disclosed before), and a
 * verified request is not verified again. Returns VAERN_OK, or
 * VAERN_E_INVALID with msg naming both statuses and why.
 */
enum vaern_err rights_transition(enum rights_status from, enum rights_status to,
                                 int verified, struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/*
 * Whether the deadline may be extended on day today: once only
 * (already_extended), by 1..2 months, before the original due day has
 * passed (the person must be told within the first month), and not once
 * the request is final.
 */
enum vaern_err rights_extension_check(enum rights_status status,
                                      int already_extended, int months,
                                      long received, long today,
                                      struct vaern_msg *msg)
        __attribute__((warn_unused_result));

#endif
