/*
 * retention.h -- when a fact or a consent record must go, and what of it
 * survives anonymisation.
 *
 * Pure computation over a compiled policy (policy.h): no I/O, no clock, no
 * allocation. The vault recomputes a fact's expiry with
 * retention_fact_expiry() whenever an anchoring event of its subject
 * changes, and a sweep as of a day removes (or anonymises) what is due:
 * retention_is_due(). The language is documented in docs/policy.md
 * ("retention", "events").
 *
 * Times are seconds since the epoch (UTC); dates are UTC days. A fact is
 * due at the first midnight UTC at or after the instant its period ends
 * (TEL-LOG-1, issue 10: never before the full period, in any time zone),
 * so a sweep as of the day before keeps it. Periods are calendar periods
 * (calendar.h): 31 December + 2 months is due on the last day of
 * February.
 *
 * Risks the caller must mind:
 *  - RETENTION_NEVER means "not determined yet" (a state still open, or an
 *    anchor event not yet recorded), not "kept for ever": result.wait
 *    says which, so a retention plan can show what each fact waits for.
 *  - The result holds only as long as the events it was computed from:
 *    recompute when an event of the subject is recorded or changed.
 *  - retention_generalise() output is what survives anonymisation; its
 *    input is personal data, and no error here ever echoes it.
 */
#ifndef VAERN_RETENTION_H
#define VAERN_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../policy/policy.h"

/* expires_at of what is not due at any known date (yet). */
#define RETENTION_NEVER INT64_MAX

/* The instants accepted as collection, event, consent times:
 * 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define RETENTION_TIME_MIN (-62135596800LL)
#define RETENTION_TIME_MAX 253402300799LL

/* Bytes retention_generalise writes at most for year, age band and area,
 * terminating NUL included ("100+", "1984", "83xx"). */
#define RETENTION_GENERALISED_MAX 8

/* One recorded occurrence of an event of the subject. */
struct retention_event {
	size_t event; /* index into policy.events */
	int64_t at;   /* seconds since the epoch, UTC; may lie in the
	                 future (a warranty's end known at sale,
	                 AOPT-CUST-1) */
};

/* Why a result is RETENTION_NEVER. */
enum retention_wait {
	RETENTION_WAIT_NONE,   /* expires_at is a date */
	RETENTION_WAIT_OPEN,   /* a state is open: the anchor event ends a
	                          state that has started again since it
	                          last happened (a customer still;
	                          CEK-RET-1) -- event is that anchor */
	RETENTION_WAIT_EVENT,  /* no anchor of the rule has happened: waiting
	                          for event (the rule's first event anchor) */
	RETENTION_WAIT_CONSENT /* the consent is still valid (TEL-MKT-2) */
};

struct retention_result {
	int64_t expires_at; /* midnight UTC of the due day (the first at or
	                       after the period's end), or RETENTION_NEVER */
	long rule;          /* index into policy.retention of the deciding
	                       rule (the latest expiry), or -1 */
	enum retention_action action; /* what the deciding rule does */
	int legal;                    /* 1 if any rule holding it names a
	                                 legal_obligation (GDPR-17) */
	int64_t legal_until;      /* the latest expiry among those legal rules
	                             (erasure waits until then), INT64_MIN if
	                             none */
	long legal_rule;          /* the legal rule giving legal_until (index
	                             into policy.retention), or -1 */
	enum retention_wait wait; /* why expires_at is RETENTION_NEVER */
	long event; /* with RETENTION_WAIT_OPEN or _EVENT: the event (index
	               into policy.events); else -1 */
};

/*
 * Computes when the fact of category (an index into p->categories),
 * collected at collected_at, is due, given the subject's recorded events
 * (any order, an event may occur several times; events may be NULL when
 * nevents is 0).
 *
 * Each rule holding the category gives an expiry:
 *  - the period runs from the latest of the rule's anchors that has
 *    happened: `collected` is collected_at; `financial_year_end` is the
 *    day after the end of the financial year (controller.fy_end_month/
 *    day) in which the fact was collected; an event anchor is the latest
 *    recorded occurrence of that event, future dates included;
 *  - an event anchor E that ends a state S (`ends: S`) is open when S has
 *    an occurrence later than E's latest, or S occurred and E never did:
 *    then the rule's expiry is RETENTION_NEVER (RETENTION_WAIT_OPEN);
 *  - when no anchor has happened (and none is open) it is RETENTION_NEVER
 *    (RETENTION_WAIT_EVENT, waiting for the first event anchor);
 *  - else midnight UTC of (the anchor's UTC day + period), one day
 *    later if the anchor instant is not itself a midnight UTC.
 * The latest expiry wins (RETENTION_NEVER beats every date; among equal
 * expiries the first rule in file order decides), so a rule with a
 * legal_obligation that runs longer always outlasts the general rule
 * (AOPT-RET-2, CEK-RET-2).
 *
 * Returns VAERN_OK and fills *out; VAERN_E_INVALID if category or an
 * event index is out of range, a time is outside RETENTION_TIME_MIN..MAX,
 * events is NULL with nevents > 0, or no rule holds the category (the
 * loader refuses such a policy). On failure *out says RETENTION_NEVER,
 * rule -1: nothing is due on a bad input.
 */
enum vaern_err retention_fact_expiry(const struct policy *p, size_t category,
                                     int64_t collected_at,
                                     const struct retention_event *events,
                                     size_t nevents,
                                     struct retention_result *out)
        __attribute__((warn_unused_result, nonnull(1, 6)));

/*
 * Computes when a consent record of purpose (an index into p->purposes)
 * is due (TEL-MKT-2): kept while the consent is valid (withdrawn_at is
 * RETENTION_NEVER: RETENTION_WAIT_CONSENT), then until the rule's period
 * after the later of withdrawn_at and last_used_at (the last use, or the
 * time the consent was given if it was never used), counted in UTC days
 * as for facts. Rules hold consent records through `consents:`; the
 * latest expiry among them wins.
 *
 * Returns VAERN_OK; VAERN_E_NOTFOUND if no rule holds the purpose's
 * consent records (they then follow the subject: erased with it);
 * VAERN_E_INVALID for a purpose out of range or a time outside
 * RETENTION_TIME_MIN..MAX. On failure *out says RETENTION_NEVER, rule -1.
 */
enum vaern_err retention_consent_expiry(const struct policy *p, size_t purpose,
                                        int64_t withdrawn_at,
                                        int64_t last_used_at,
                                        struct retention_result *out)
        __attribute__((warn_unused_result, nonnull(1, 5)));

/* Returns 1 if a fact or record with result r is due as of now, i.e.
 * r->expires_at <= now; 0 otherwise (RETENTION_NEVER is never due). */
int retention_is_due(const struct retention_result *r, int64_t now)
        __attribute__((nonnull));

/*
 * How category survives when rule (an index into p->retention, e.g.
 * result.rule) applies: its keep generalisation if the rule anonymises
 * and keeps it, else GENERALISE_DROP (deleted). GENERALISE_DROP also for
 * indexes out of range.
 */
enum generalise retention_survivor(const struct policy *p, long rule,
                                   size_t category) __attribute__((nonnull));

/*
 * Writes into out (outlen bytes) what survives of value under kind
 * (TEL-STAT-1):
 *  - GENERALISE_AS_IS:    value unchanged;
 *  - GENERALISE_YEAR:     "YYYY-MM-DD" (a real date) -> "YYYY";
 *  - GENERALISE_AGE_BAND: a birth date "YYYY-MM-DD" -> the ten-year band
 *                         of the age on asof_days (days since the
 *                         epoch): "0-9", "10-19", ..., "90-99", "100+";
 *  - GENERALISE_AREA:     a Danish ("8300", "DK-8300") or Swedish
 *                         ("12345", "123 45", "SE-123 45") postcode ->
 *                         its first two digits and "xx": "83xx", "12xx";
 *  - GENERALISE_DROP:     "" (nothing survives).
 * Surrounding blanks are ignored. asof_days is used by the age band only.
 *
 * Returns VAERN_OK; VAERN_E_INVALID if value is not of the expected shape
 * (a birth date after asof_days included) or kind is unknown;
 * VAERN_E_LIMIT if out is too small (RETENTION_GENERALISED_MAX always
 * suffices except for GENERALISE_AS_IS). On failure out is "" (if outlen
 * > 0) and msg (may be NULL) says what shape was expected, never the
 * value.
 */
enum vaern_err retention_generalise(enum generalise kind, const char *value,
                                    long asof_days, char *out, size_t outlen,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(2, 4)));

#endif
