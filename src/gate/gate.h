/*
 * gate.h -- the policy decision point: the one place that decides whether
 * personal data may be read, exported or disclosed (DESIGN.md "One gate").
 *
 *   decide(role, purpose, action, subject state, categories, recipient,
 *          evidence) -> allow | deny, the rule and reason, the categories
 *          released
 *
 * gate_decide() is a pure function of the compiled policy, the request and
 * the subject's state: no I/O, no allocation, no clock. The caller (the
 * vault / the HTTP API) reads the state, asks the gate, audits the
 * decision, and releases exactly the categories the gate released.
 *
 * Reasons name roles, purposes, categories and recipients, never a value.
 */
#ifndef VAERN_GATE_H
#define VAERN_GATE_H

#include <stddef.h>

#include "../common/err.h"
#include "../policy/policy.h"

#define GATE_REASON_MAX 256

enum gate_action {
	GATE_READ,    /* read facts for a purpose */
	GATE_EXPORT,  /* export (portability, access report) */
	GATE_DISCLOSE /* hand over to a recipient */
};

/* What the vault knows of the subject. Arrays are indexed like the
 * policy's purposes and recipients; NULL means all zero. */
struct gate_state {
	int restricted;               /* processing restricted (GDPR-18) */
	int objected_marketing;       /* objected to direct marketing
	                                 (GDPR-21, CEK-RIGHTS-1) */
	const unsigned char *consent; /* [npurposes]: 1 if a consent to the
	                                 purpose is on record and not
	                                 withdrawn (GDPR-7) */
	const unsigned char *agreed;  /* [nrecipients]: 1 if a prior agreement
	                                 with the person to disclose to the
	                                 recipient is on record (CEK-SHARE-1) */
};

struct gate_request {
	size_t role;    /* index into policy->roles */
	size_t purpose; /* index into policy->purposes */
	enum gate_action action;
	const size_t *categories; /* the categories asked for (indexes);
	                             NULL: all the purpose uses */
	size_t ncategories;
	long recipient;         /* index into policy->recipients with
	                           GATE_DISCLOSE, else -1 */
	const char *demand;     /* the kind of legal demand presented
	                           ("court_order"), or NULL */
	const char *demand_ref; /* its reference (case number); required
	                           with demand (TEL-LOG-3) */
};

struct gate_decision {
	int allow;                    /* 1 allow, 0 deny */
	const char *rule;             /* the clause or article that decided,
	                                 e.g. "GDPR-18"; static */
	char reason[GATE_REASON_MAX]; /* why, in words */
	size_t nreleased;             /* categories released (allow only) */
};

/*
 * Decides r for a subject in state s under policy p. On allow, writes the
 * released category indexes to released (room for p->ncategories) and
 * their count to d->nreleased; on deny d->nreleased is 0. Returns VAERN_OK
 * whatever the decision, or VAERN_E_INVALID if r is malformed (an index
 * out of range: a caller bug, also a deny).
 */
enum vaern_err gate_decide(const struct policy *p, const struct gate_request *r,
                           const struct gate_state *s, struct gate_decision *d,
                           size_t *released)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5)));

#endif
