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
#include <stdint.h>

#include "../common/err.h"
#include "../policy/policy.h"

#define GATE_REASON_MAX 256

enum gate_action {
	GATE_READ,     /* read facts for a purpose */
	GATE_EXPORT,   /* export facts for a purpose */
	GATE_DISCLOSE, /* hand over to a recipient */
	GATE_COLLECT,  /* store new facts for a purpose (added to a known
	                  person): the same rules as a read */
	GATE_ANSWER    /* answer the person's own rights request: the access
	                  report (GDPR-15) or the portable copy (GDPR-20);
	                  no purpose, decided category by category
	                  (gate_answer_category) */
};

/*
 * The role of the local operator (the `vaern` CLI on the data directory,
 * who holds the master key): not a role of the policy. It may read
 * (GATE_READ), collect (GATE_COLLECT; the vault still checks consent and
 * special categories) and answer (GATE_ANSWER) every category, and
 * nothing else;
 * each such decision is audited like any other (GDPR-32).
 */
#define GATE_ROLE_OPERATOR ((size_t)-1)

/*
 * The data subject themself, logged in to the self-service portal
 * (issue 16; AURA-PORTAL-1, -2): not a role of the policy. Only about
 * their own data (gate_request.self): reads (GATE_READ) under the
 * portal's purpose, records (GATE_COLLECT) the categories the portal
 * lets them change (AURA-PORTAL-2), and has their own verified access or
 * portability request answered (GATE_ANSWER); nothing else.
 */
#define GATE_ROLE_SUBJECT ((size_t)-2)

/* What the vault found of a rights request presented as the authority for
 * a GATE_ANSWER (AOPT-ACCESS-1); the gate decides on it. */
struct gate_rights_request {
	int present;        /* 1: a request of the controller was named */
	int about_subject;  /* it is about this subject */
	int open;           /* not completed, refused or withdrawn */
	int verified;       /* the person's identity was verified */
	const char *kind;   /* its kind ("access", "portability", ...) */
	const char *status; /* its status ("completed"), for the reason */
	const char *method; /* how it was verified ("code"), or NULL */
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
	const unsigned char *untold;  /* [npurposes]: 1 if the purpose is new
	                                 or widened since the person was
	                                 added and they have not been told of
	                                 it a full notice_period ago
	                                 (CEK-PURP-5); NULL: all zero */
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
	int portability;        /* GATE_ANSWER: 1 the portable copy,
	                           0 the access report */
	const struct gate_rights_request *request; /* GATE_ANSWER: the
	                           request it answers, or NULL (then only a
	                           role with audit: true answers) */
	int self; /* GATE_ROLE_SUBJECT: 1 if the actor is the
	             subject asked about (the vault binds the
	             portal's session to its person) */
};

struct gate_decision {
	int allow;                    /* 1 allow, 0 deny */
	const char *rule;             /* the clause or article that decided,
	                                 e.g. "GDPR-18"; static */
	char reason[GATE_REASON_MAX]; /* why, in words */
	size_t nreleased;             /* categories released (allow only) */
	unsigned long mint;           /* set by gate_decide's allow only:
	                                 what gate_release_mint checks */
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

/*
 * GATE_ANSWER, one category: whether role (an index, or
 * GATE_ROLE_OPERATOR) may show category ci in the person's report. NULL
 * if it may, else the rule that withholds it (TEL-LOG-2: every purpose of
 * the category needs clearance and the role has none), with the reason
 * in reason (GATE_REASON_MAX bytes). The person is still told the
 * category exists, its purposes and its retention (GDPR-15(1)).
 */
const char *gate_answer_category(const struct policy *p, size_t role, size_t ci,
                                 char reason[GATE_REASON_MAX])
        __attribute__((nonnull(1, 4)));

/* ---- what a role may do: every release rule lives here -------------- */

/* 1 if role ri lists purpose pi (need-to-know, AURA-SHARE-1). */
int gate_role_has_purpose(const struct policy *p, size_t ri, size_t pi)
        __attribute__((nonnull(1)));
/* 1 if role ri uses some purpose that uses category ci. */
int gate_role_has_category(const struct policy *p, size_t ri, size_t ci)
        __attribute__((nonnull(1)));
/* 1 if role ri processes data (has a purpose): it may change a subject's
 * state; an audit-only role (the DPO) reads, never writes. */
int gate_role_operational(const struct policy *p, size_t ri)
        __attribute__((nonnull(1)));
/* 1 if role ri reads the audit trail (audit: true): the data-protection
 * officer (GDPR-32), who answers the person's requests. */
int gate_role_audits(const struct policy *p, size_t ri)
        __attribute__((nonnull(1)));

/* ---- the release: a capability only an audited allow mints ----------- */

#define GATE_SUBJECT_BYTES 16
#define GATE_RELEASE_SET   ((POLICY_ITEMS_MAX + 7) / 8)

/*
 * What the fact reader needs to open a subject's facts (CONVENTIONS.md
 * item 13, like curl's DYNINIT): minted by gate_release_mint from an
 * allow of gate_decide once its audit entry is written, bound to the
 * subject, the released categories and that entry. Read-only for
 * everyone else: a path that skips the gate has nothing to pass.
 */
struct gate_release {
	unsigned long magic;         /* GATE_RELEASE_MINTED once minted */
	const struct policy *policy; /* the policy decided under */
	unsigned char subject[GATE_SUBJECT_BYTES]; /* the subject's id */
	int64_t audit_seq; /* the decision's audit entry (> 0) */
	size_t nreleased;  /* categories released */
	unsigned char set[GATE_RELEASE_SET]; /* bit ci: category ci */
};

/*
 * Mints out from an allow d (of gate_decide under p, with its released
 * categories) for subject, once the decision's audit entry audit_seq (> 0)
 * is written. One decision mints one release (d's mark is spent).
 * VAERN_E_DENIED for a deny, a spent or forged decision, or no audit
 * entry: out is then zeroed (no capability).
 */
enum vaern_err
gate_release_mint(const struct policy *p, struct gate_decision *d,
                  const size_t *released,
                  const unsigned char subject[GATE_SUBJECT_BYTES],
                  int64_t audit_seq, struct gate_release *out)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 6)));

/*
 * 1 if rel releases category ci of subject, else 0. rel must be minted
 * (asserted: a reader handed anything else is a bug).
 */
int gate_release_allows(const struct gate_release *rel,
                        const unsigned char subject[GATE_SUBJECT_BYTES],
                        size_t ci) __attribute__((nonnull(1, 2)));

#endif
