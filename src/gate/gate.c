/*
 * gate.c -- the policy decision point (DESIGN.md "One gate").
 *
 * gate_decide() walks the rules below in order and stops at the first that
 * refuses; a request that passes them all is allowed. Each refusal names
 * the clause of mission/CLAUSES.md (or the GDPR article) that decided, and
 * a reason that names ids from the policy only, never a value: the
 * decision goes to the audit trail and back to the caller.
 *
 *   1. the request is well formed (indexes in range)     GDPR-32
 *   2. need-to-know: the role lists the purpose          AURA-SHARE-1
 *   3. clearance for a clearance purpose                 TEL-LOG-2
 *   4. restriction: only while_restricted purposes       GDPR-18
 *   5. objection to direct marketing                     GDPR-21
 *   6. consent for a purpose resting on consent alone    GDPR-7
 *   7. the categories are the purpose's                  GDPR-32
 *   8. special categories need art9 (and consent)        CEK-SPECIAL-1
 *   9. disclosure: the recipient, transfer and condition AURA-SHARE-1,
 *      AURA-XFER-1, CEK-XFER-1, CEK-SHARE-1, TEL-LOG-3
 *
 * An answer to the person's own request (GATE_ANSWER: the access report,
 * the portable copy) has no purpose; it is decided by who answers
 * (GDPR-15, GDPR-20: the data-protection officer, the local operator, or
 * anyone holding an open, verified request of that kind about the
 * subject, AOPT-ACCESS-1) and then category by category (TEL-LOG-2).
 * The local operator (GATE_ROLE_OPERATOR) reads and answers, nothing
 * more.
 *
 * An allow carries a mark that gate_release_mint turns, once the decision
 * is audited, into the capability the fact reader demands.
 *
 * Pure: no I/O, no allocation, no clock, no global state.
 */
#include "gate.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Rules (static strings; struct gate_decision.rule points at them). */
#define RULE_ACCESS      "GDPR-32"
#define RULE_NEED        "AURA-SHARE-1"
#define RULE_CLEARANCE   "TEL-LOG-2"
#define RULE_RESTRICTION "GDPR-18"
#define RULE_OBJECTION   "GDPR-21"
#define RULE_CONSENT     "GDPR-7"
#define RULE_SPECIAL     "CEK-SPECIAL-1"
#define RULE_SHARE       "AURA-SHARE-1"
#define RULE_PRIOR       "CEK-SHARE-1"
#define RULE_DEMAND      "TEL-LOG-3"
#define RULE_XFER        "AURA-XFER-1"
#define RULE_XFER_NONE   "CEK-XFER-1"
#define RULE_REPORT      "GDPR-15"
#define RULE_PORTABLE    "GDPR-20"
#define RULE_PORTAL      "AURA-PORTAL-1"
#define RULE_CHANGE      "AURA-PORTAL-2"
#define RULE_NEW_PURPOSE "CEK-PURP-5"

/* The mark of an allow, and of a minted release (curl's DYNINIT). */
#define GATE_DECISION_ALLOWED 0x6a7e0a11UL
#define GATE_RELEASE_MINTED   0x6a7e4e1eUL

static void set_reason(struct gate_decision *d, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));
static void allow(struct gate_decision *d, const char *rule, const char *fmt,
                  ...) __attribute__((format(printf, 3, 4)));
static void deny(struct gate_decision *d, const char *rule, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));

static void
set_reason(struct gate_decision *d, const char *fmt, va_list ap)
{
	/* Truncated to fit: ids are at most POLICY_NAME_MAX bytes each. */
	(void)vsnprintf(d->reason, sizeof d->reason, fmt, ap);
}

static void
allow(struct gate_decision *d, const char *rule, const char *fmt, ...)
{
	va_list ap;

	d->allow = 1;
	d->rule = rule;
	d->mint = GATE_DECISION_ALLOWED;
	va_start(ap, fmt);
	set_reason(d, fmt, ap);
	va_end(ap);
}

static void
deny(struct gate_decision *d, const char *rule, const char *fmt, ...)
{
	va_list ap;

	d->allow = 0;
	d->rule = rule;
	d->nreleased = 0;
	d->mint = 0;
	va_start(ap, fmt);
	set_reason(d, fmt, ap);
	va_end(ap);
}

static int
has_index(const size_t *set, size_t n, size_t idx)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == idx)
			return 1;
	return 0;
}

static int
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static const char *
action_name(enum gate_action a)
{
	switch (a) {
	case GATE_READ: return "read";
	case GATE_EXPORT: return "export";
	case GATE_DISCLOSE: return "disclose";
	case GATE_COLLECT: return "collect";
	case GATE_ANSWER: return "answer";
	}
	return "?";
}

/*
 * Rule 1: the request refers to nothing outside the policy. Returns 1 if
 * well formed, else 0 with the deny written to d.
 */
static int
check_request(const struct policy *p, const struct gate_request *r,
              struct gate_decision *d)
{
	size_t i;

	if (r->role >= p->nroles && r->role != GATE_ROLE_OPERATOR &&
	    r->role != GATE_ROLE_SUBJECT) {
		deny(d, RULE_ACCESS,
		     "malformed request: role index %zu out of range (%zu "
		     "roles)",
		     r->role, p->nroles);
		return 0;
	}
	if (r->action != GATE_ANSWER && r->role != GATE_ROLE_OPERATOR &&
	    r->role != GATE_ROLE_SUBJECT && r->purpose >= p->npurposes) {
		deny(d, RULE_ACCESS,
		     "malformed request: purpose index %zu out of range (%zu "
		     "purposes)",
		     r->purpose, p->npurposes);
		return 0;
	}
	if (r->action != GATE_READ && r->action != GATE_EXPORT &&
	    r->action != GATE_DISCLOSE && r->action != GATE_COLLECT &&
	    r->action != GATE_ANSWER) {
		deny(d, RULE_ACCESS, "malformed request: unknown action %d",
		     (int)r->action);
		return 0;
	}
	if (r->categories != NULL && r->ncategories == 0) {
		/* An empty list is not "all": only NULL means that. */
		deny(d, RULE_ACCESS,
		     "malformed request: an empty list of categories");
		return 0;
	}
	if (r->categories != NULL)
		for (i = 0; i < r->ncategories; i++)
			if (r->categories[i] >= p->ncategories) {
				deny(d, RULE_ACCESS,
				     "malformed request: category index %zu "
				     "out of range (%zu categories)",
				     r->categories[i], p->ncategories);
				return 0;
			}
	if (r->action == GATE_DISCLOSE) {
		if (r->recipient < 0 ||
		    (size_t)r->recipient >= p->nrecipients) {
			deny(d, RULE_ACCESS,
			     "malformed request: disclose needs a recipient; "
			     "index %ld out of range (%zu recipients)",
			     r->recipient, p->nrecipients);
			return 0;
		}
	} else if (r->recipient >= 0) {
		deny(d, RULE_ACCESS,
		     "malformed request: %s names recipient index %ld; only "
		     "disclose has a recipient",
		     action_name(r->action), r->recipient);
		return 0;
	}
	return 1;
}

/*
 * Rule 7: fills released with the categories asked for (duplicates
 * dropped), or all the purpose uses; each must be the purpose's. Returns
 * the count, or 0 with the deny written to d.
 */
static size_t
release_set(const struct policy *p, const struct gate_request *r,
            struct gate_decision *d, size_t *released)
{
	const struct policy_purpose *pp = &p->purposes[r->purpose];
	size_t i, n = 0;

	if (r->categories == NULL) {
		for (i = 0; i < pp->ncategories; i++)
			if (!has_index(released, n, pp->categories[i]))
				released[n++] = pp->categories[i];
		if (n == 0)
			deny(d, RULE_ACCESS, "purpose '%s' uses no category",
			     pp->id);
		return n;
	}
	for (i = 0; i < r->ncategories; i++) {
		size_t c = r->categories[i];

		/* GDPR Art. 5(1)(b): the gate releases no category the
		 * purpose does not use. */
		if (!has_index(pp->categories, pp->ncategories, c)) {
			deny(d, RULE_ACCESS,
			     "category '%s' is not used by purpose '%s'",
			     p->categories[c].id, pp->id);
			return 0;
		}
		if (!has_index(released, n, c))
			released[n++] = c;
	}
	return n;
}

/* Rule 9, outside the EU/EEA. Returns 1 if the transfer may go. */
static int
check_transfer(const struct policy *p, const struct policy_recipient *rc,
               struct gate_decision *d)
{
	size_t i;

	if (rc->outside_eu && p->transfers_eu_only) {
		/* CEK-XFER-1: "never outside the EU" holds for the EEA's
		 * three non-members as well. */
		deny(d, RULE_XFER_NONE,
		     "recipient '%s' is in %s, outside the EU, and the policy "
		     "promises no transfer outside the EU",
		     rc->id, rc->country);
		return 0;
	}
	if (!rc->outside_eea)
		return 1;
	if (p->transfers_none) {
		/* CEK-XFER-1: no transfer outside the EU at all. */
		deny(d, RULE_XFER_NONE,
		     "recipient '%s' is in %s, outside the EU/EEA, and the "
		     "policy promises no transfer",
		     rc->id, rc->country);
		return 0;
	}
	/* AURA-XFER-1: the recipient's safeguard must be a recorded
	 * destination for its country. */
	if (nonempty(rc->safeguard))
		for (i = 0; i < p->ntransfers; i++)
			if (strcmp(p->transfers[i].country, rc->country) == 0 &&
			    p->transfers[i].safeguard != NULL &&
			    strcmp(p->transfers[i].safeguard, rc->safeguard) ==
			            0)
				return 1;
	deny(d, RULE_XFER,
	     "recipient '%s' is in %s, outside the EU/EEA, with no recorded "
	     "safeguard",
	     rc->id, rc->country);
	return 0;
}

/* Rule 9: a disclosure to r->recipient. Returns 1 and writes the allow to
 * d, or 0 with the deny. */
static int
check_disclosure(const struct policy *p, const struct gate_request *r,
                 const struct gate_state *s, struct gate_decision *d,
                 const size_t *released, size_t nreleased)
{
	const struct policy_recipient *rc = &p->recipients[r->recipient];
	const struct policy_purpose *pp = &p->purposes[r->purpose];
	const char *role = p->roles[r->role].id;
	int consent = s->consent != NULL && s->consent[r->purpose];
	int agreed = s->agreed != NULL && s->agreed[r->recipient];
	size_t i;

	/* AURA-SHARE-1: only to recipients the policy lists, for the
	 * purposes and categories it lists them for. */
	if (!has_index(rc->purposes, rc->npurposes, r->purpose)) {
		deny(d, RULE_SHARE,
		     "recipient '%s' does not receive data for purpose '%s'",
		     rc->id, pp->id);
		return 0;
	}
	for (i = 0; i < nreleased; i++)
		if (!has_index(rc->categories, rc->ncategories, released[i])) {
			deny(d, RULE_SHARE,
			     "recipient '%s' does not receive category '%s'",
			     rc->id, p->categories[released[i]].id);
			return 0;
		}
	if (!check_transfer(p, rc, d))
		return 0;

	if (rc->type == RECIPIENT_PROCESSOR) {
		/* AURA-SHARE-1, AOPT-SHARE-1: a processor under its data
		 * processing agreement. */
		if (!nonempty(rc->agreement)) {
			deny(d, RULE_SHARE,
			     "processor '%s' has no data processing agreement",
			     rc->id);
			return 0;
		}
		allow(d, RULE_SHARE,
		      "role '%s' may disclose to processor '%s' for purpose "
		      "'%s' under agreement '%s'",
		      role, rc->id, pp->id, rc->agreement);
		return 1;
	}

	switch (rc->needs) {
	case NEEDS_CONSENT:
		/* AURA-SHARE-1, SHOP-MKT-2: to third parties only with the
		 * person's consent. */
		if (!consent) {
			deny(d, RULE_SHARE,
			     "recipient '%s' needs consent to purpose '%s', "
			     "none on record",
			     rc->id, pp->id);
			return 0;
		}
		allow(d, RULE_SHARE,
		      "role '%s' may disclose to recipient '%s' for purpose "
		      "'%s' with consent on record",
		      role, rc->id, pp->id);
		return 1;
	case NEEDS_PRIOR_AGREEMENT:
		/* CEK-SHARE-1: only when agreed with the person beforehand. */
		if (!agreed) {
			deny(d, RULE_PRIOR,
			     "recipient '%s' needs a prior agreement with the "
			     "person, none on record",
			     rc->id);
			return 0;
		}
		allow(d, RULE_PRIOR,
		      "role '%s' may disclose to recipient '%s' for purpose "
		      "'%s' with a prior agreement on record",
		      role, rc->id, pp->id);
		return 1;
	case NEEDS_CONSENT_OR_PRIOR_AGREEMENT:
		if (!consent && !agreed) {
			deny(d, RULE_PRIOR,
			     "recipient '%s' needs consent to purpose '%s' or "
			     "a prior agreement, neither on record",
			     rc->id, pp->id);
			return 0;
		}
		allow(d, RULE_PRIOR,
		      "role '%s' may disclose to recipient '%s' for purpose "
		      "'%s' with %s on record",
		      role, rc->id, pp->id,
		      agreed ? "a prior agreement" : "consent");
		return 1;
	case NEEDS_LEGAL_DEMAND:
		/* TEL-LOG-3: the demand the policy names, with its
		 * reference; the reference itself is not repeated here. */
		if (!nonempty(rc->demand) || r->demand == NULL ||
		    strcmp(r->demand, rc->demand) != 0) {
			deny(d, RULE_DEMAND, "recipient '%s' needs a %s",
			     rc->id,
			     nonempty(rc->demand) ? rc->demand
			                          : "legal demand");
			return 0;
		}
		if (!nonempty(r->demand_ref)) {
			deny(d, RULE_DEMAND,
			     "recipient '%s': the %s has no reference", rc->id,
			     rc->demand);
			return 0;
		}
		allow(d, RULE_DEMAND,
		      "role '%s' may disclose to recipient '%s' for purpose "
		      "'%s' on a %s",
		      role, rc->id, pp->id, rc->demand);
		return 1;
	case NEEDS_AGREEMENT_ON_RECORD: break;
	}
	/* A non-processor with no condition the gate knows: refuse. */
	deny(d, RULE_SHARE, "recipient '%s' has no disclosure condition",
	     rc->id);
	return 0;
}

static const char *
role_name(const struct policy *p, size_t ri)
{
	if (ri == GATE_ROLE_SUBJECT)
		return "data_subject";
	return ri == GATE_ROLE_OPERATOR ? "operator" : p->roles[ri].id;
}

/* The categories asked for (duplicates dropped), or every category of
 * the policy; the count. */
static size_t
asked_set(const struct policy *p, const struct gate_request *r,
          size_t *released)
{
	size_t i, n = 0;

	if (r->categories == NULL) {
		for (i = 0; i < p->ncategories; i++)
			released[n++] = i;
		return n;
	}
	for (i = 0; i < r->ncategories; i++)
		if (!has_index(released, n, r->categories[i]))
			released[n++] = r->categories[i];
	return n;
}

/*
 * The local operator holds the master key and administers the vault: it
 * reads any category (its reads are audited, GDPR-32), and answers the
 * person's requests; it is no staff role and uses no purpose, so it
 * neither exports for a purpose nor discloses.
 */
static enum vaern_err
decide_operator(const struct policy *p, const struct gate_request *r,
                struct gate_decision *d, size_t *released)
{
	if (r->action != GATE_READ && r->action != GATE_COLLECT) {
		deny(d, RULE_ACCESS,
		     "the local operator may read, collect and answer the "
		     "person's requests, not %s for a purpose",
		     action_name(r->action));
		return VAERN_OK;
	}
	allow(d, RULE_ACCESS,
	      "the operator (the local operator, or the vault itself) may %s",
	      action_name(r->action));
	d->nreleased = asked_set(p, r, released);
	return VAERN_OK;
}

const char *
gate_answer_category(const struct policy *p, size_t role, size_t ci,
                     char reason[GATE_REASON_MAX])
{
	const struct policy_role *rl =
	        role == GATE_ROLE_OPERATOR || role >= p->nroles
	                ? NULL
	                : &p->roles[role];
	int any = 0, open = 0;

	reason[0] = '\0';
	if (ci >= p->ncategories) {
		(void)snprintf(reason, GATE_REASON_MAX,
		               "category index %zu out of range", ci);
		return RULE_ACCESS;
	}
	/* TEL-LOG-2: data kept only for a clearance purpose is shown only
	 * by cleared staff (the local operator holds the key and is not
	 * staff: it shows everything, audited). */
	for (size_t i = 0; i < p->npurposes; i++) {
		if (!policy_purpose_uses(p, i, ci))
			continue;
		any = 1;
		if (!p->purposes[i].requires_clearance)
			open = 1;
	}
	if (role == GATE_ROLE_OPERATOR || !any || open ||
	    (rl != NULL && rl->cleared))
		return NULL;
	(void)snprintf(reason, GATE_REASON_MAX,
	               "category '%s' is kept only for purposes that require "
	               "clearance; role '%s' is not cleared",
	               p->categories[ci].id, role_name(p, role));
	return RULE_CLEARANCE;
}

/*
 * GATE_ANSWER: who answers (the DPO, the local operator, or a verified
 * request's handler), then category by category.
 */
static enum vaern_err
decide_answer(const struct policy *p, const struct gate_request *r,
              struct gate_decision *d, size_t *released)
{
	const struct gate_rights_request *q = r->request;
	const char *rule = r->portability ? RULE_PORTABLE : RULE_REPORT;
	const char *kind = r->portability ? "portability" : "access";
	const char *who = role_name(p, r->role);
	char why[GATE_REASON_MAX];
	size_t i, n, k = 0;

	if (r->role == GATE_ROLE_SUBJECT && !r->self) {
		deny(d, rule, "a data subject reaches only their own data");
		return VAERN_OK;
	}
	if (q != NULL && q->present) {
		/* AOPT-ACCESS-1: the verified request authorises its
		 * answer, to whoever handles the controller's requests. */
		if (q->kind == NULL || strcmp(q->kind, kind) != 0) {
			deny(d, rule, "the request is a %s request, not %s",
			     q->kind != NULL ? q->kind : "other", kind);
			return VAERN_OK;
		}
		if (!q->about_subject) {
			deny(d, rule, "the request is about another subject");
			return VAERN_OK;
		}
		if (!q->open) {
			deny(d, rule, "the request is %s",
			     q->status != NULL ? q->status : "closed");
			return VAERN_OK;
		}
		if (!q->verified) {
			/* The answer's rule decides (GDPR-15/20); the reason
			 * names AOPT-ACCESS-1. */
			deny(d, rule,
			     "nothing is disclosed before the requester's "
			     "identity is verified (AOPT-ACCESS-1)");
			return VAERN_OK;
		}
	} else if (r->role == GATE_ROLE_SUBJECT ||
	           (r->role != GATE_ROLE_OPERATOR &&
	            !p->roles[r->role].audit)) {
		/* The data-protection officer answers the person's requests
		 * (the role that reads the audit trail, GDPR-32). */
		deny(d, rule,
		     "role '%s' may not answer rights requests (only a role "
		     "with audit: true, or with a verified request)",
		     who);
		return VAERN_OK;
	}
	n = asked_set(p, r, released);
	for (i = 0; i < n; i++)
		if (gate_answer_category(p, r->role, released[i], why) == NULL)
			released[k++] = released[i];
	if (q != NULL && q->present)
		allow(d, rule,
		      "the person's %s request, verified by %s: its answer "
		      "by role '%s'",
		      kind, q->method != NULL ? q->method : "staff", who);
	else
		allow(d, rule, "the person's %s request, answered by role '%s'",
		      kind, who);
	d->nreleased = k;
	return VAERN_OK;
}

/*
 * The data subject on the portal (issue 16): their own data only, under
 * the portal's purpose; a change only to what the portal lets them
 * change, and not while processing is restricted (GDPR-18).
 */
static enum vaern_err
decide_subject(const struct policy *p, const struct gate_request *r,
               const struct gate_state *s, struct gate_decision *d,
               size_t *released)
{
	const struct policy_portal *pt = &p->portal;
	size_t n;

	if (!r->self) {
		deny(d, RULE_ACCESS,
		     "a data subject reaches only their own data");
		return VAERN_OK;
	}
	if (!pt->declared || r->purpose >= p->npurposes ||
	    r->purpose != pt->purpose) {
		deny(d, RULE_PORTAL,
		     "the portal serves only its own purpose%s%s",
		     pt->declared ? " " : " (the policy has no portal)",
		     pt->declared ? p->purposes[pt->purpose].id : "");
		return VAERN_OK;
	}
	if (r->action != GATE_READ && r->action != GATE_COLLECT) {
		deny(d, RULE_ACCESS, "a data subject may not %s for a purpose",
		     action_name(r->action));
		return VAERN_OK;
	}
	if (r->action == GATE_COLLECT) {
		if (r->categories == NULL) {
			deny(d, RULE_CHANGE,
			     "a change on the portal names its categories");
			return VAERN_OK;
		}
		for (size_t i = 0; i < r->ncategories; i++)
			if (!has_index(pt->changes, pt->nchanges,
			               r->categories[i])) {
				deny(d, RULE_CHANGE,
				     "category '%s' is not one the portal lets "
				     "the person change",
				     p->categories[r->categories[i]].id);
				return VAERN_OK;
			}
		if (s->restricted) {
			deny(d, RULE_RESTRICTION,
			     "processing is restricted: nothing new is "
			     "recorded");
			return VAERN_OK;
		}
	}
	if ((n = release_set(p, r, d, released)) == 0)
		return VAERN_OK;
	if (r->action == GATE_COLLECT)
		allow(d, RULE_CHANGE,
		      "the person records a change on the portal under "
		      "purpose '%s', basis (b)",
		      p->purposes[r->purpose].id);
	else
		allow(d, RULE_PORTAL,
		      "the person reads their own data on the portal, purpose "
		      "'%s'",
		      p->purposes[r->purpose].id);
	d->nreleased = n;
	return VAERN_OK;
}

int
gate_role_has_purpose(const struct policy *p, size_t ri, size_t pi)
{
	return ri < p->nroles && pi < p->npurposes &&
	       has_index(p->roles[ri].purposes, p->roles[ri].npurposes, pi);
}

int
gate_role_has_category(const struct policy *p, size_t ri, size_t ci)
{
	if (ri >= p->nroles || ci >= p->ncategories)
		return 0;
	for (size_t i = 0; i < p->roles[ri].npurposes; i++)
		if (policy_purpose_uses(p, p->roles[ri].purposes[i], ci))
			return 1;
	return 0;
}

int
gate_role_operational(const struct policy *p, size_t ri)
{
	return ri < p->nroles && p->roles[ri].npurposes > 0;
}

int
gate_role_audits(const struct policy *p, size_t ri)
{
	return ri < p->nroles && p->roles[ri].audit;
}

enum vaern_err
gate_release_mint(const struct policy *p, struct gate_decision *d,
                  const size_t *released,
                  const unsigned char subject[GATE_SUBJECT_BYTES],
                  int64_t audit_seq, struct gate_release *out)
{
	memset(out, 0, sizeof *out);
	if (!d->allow || d->mint != GATE_DECISION_ALLOWED || audit_seq <= 0)
		return VAERN_E_DENIED;
	assert(d->nreleased <= p->ncategories);
	for (size_t i = 0; i < d->nreleased; i++) {
		assert(released[i] < p->ncategories);
		out->set[released[i] / 8] |=
		        (unsigned char)(1u << (released[i] % 8));
	}
	d->mint = 0; /* one decision, one release */
	out->policy = p;
	memcpy(out->subject, subject, GATE_SUBJECT_BYTES);
	out->audit_seq = audit_seq;
	out->nreleased = d->nreleased;
	out->magic = GATE_RELEASE_MINTED;
	return VAERN_OK;
}

int
gate_release_allows(const struct gate_release *rel,
                    const unsigned char subject[GATE_SUBJECT_BYTES], size_t ci)
{
	/* A reader is never handed an unminted release. */
	assert(rel->magic == GATE_RELEASE_MINTED && rel->audit_seq > 0);
	if (rel->magic != GATE_RELEASE_MINTED ||
	    memcmp(rel->subject, subject, GATE_SUBJECT_BYTES) != 0 ||
	    ci >= GATE_RELEASE_SET * 8)
		return 0;
	return (rel->set[ci / 8] >> (ci % 8)) & 1;
}

enum vaern_err
gate_decide(const struct policy *p, const struct gate_request *r,
            const struct gate_state *s, struct gate_decision *d,
            size_t *released)
{
	const struct policy_role *role;
	const struct policy_purpose *pp;
	int consent;
	size_t i, n;

	memset(d, 0, sizeof *d);
	if (!check_request(p, r, d))
		return VAERN_E_INVALID;
	if (r->action == GATE_ANSWER)
		return decide_answer(p, r, d, released);
	/* CEK-PURP-5: before data is used for a new purpose, the person is
	 * told; the vault says who has not been (long enough). The local
	 * operator is held to it too when it names the purpose. */
	if (s->untold != NULL && s->untold[r->purpose]) {
		deny(d, RULE_NEW_PURPOSE,
		     "purpose '%s' is new or widened since the person was "
		     "added; they have not been told of it %s",
		     p->purposes[r->purpose].id,
		     "a full notice period ago (vaern policy notices)");
		return VAERN_OK;
	}
	if (r->role == GATE_ROLE_OPERATOR)
		return decide_operator(p, r, d, released);
	if (r->role == GATE_ROLE_SUBJECT)
		return decide_subject(p, r, s, d, released);
	role = &p->roles[r->role];
	pp = &p->purposes[r->purpose];
	consent = s->consent != NULL && s->consent[r->purpose];

	/* AURA-SHARE-1: staff only for the purposes their role needs. A
	 * clearance purpose outside the role is TEL-LOG-2's refusal: the
	 * loader keeps uncleared roles from listing such purposes at all. */
	if (!has_index(role->purposes, role->npurposes, r->purpose)) {
		if (pp->requires_clearance && !role->cleared)
			deny(d, RULE_CLEARANCE,
			     "purpose '%s' requires clearance; role '%s' is "
			     "not cleared",
			     pp->id, role->id);
		else
			deny(d, RULE_NEED, "role '%s' may not use purpose '%s'",
			     role->id, pp->id);
		return VAERN_OK;
	}
	/* TEL-LOG-2: only security-cleared staff. */
	if (pp->requires_clearance && !role->cleared) {
		deny(d, RULE_CLEARANCE,
		     "purpose '%s' requires clearance; role '%s' is not "
		     "cleared",
		     pp->id, role->id);
		return VAERN_OK;
	}
	/* GDPR-18, SHOP-RIGHTS-1: restricted data is only stored, except for
	 * legal claims, protection of a person, public interest. */
	if (s->restricted && !pp->while_restricted) {
		deny(d, RULE_RESTRICTION,
		     "processing is restricted; purpose '%s' is not allowed "
		     "while restricted",
		     pp->id);
		return VAERN_OK;
	}
	/* GDPR-21, CEK-RIGHTS-1: objection to direct marketing is absolute.
	 * Service messages are not marketing and continue (TEL-MKT-1). */
	if (s->objected_marketing && pp->direct_marketing) {
		deny(d, RULE_OBJECTION,
		     "the person objected to direct marketing; purpose '%s' "
		     "is direct marketing",
		     pp->id);
		return VAERN_OK;
	}
	/* GDPR-7: a purpose resting on consent alone needs it on record. */
	if (pp->basis == BASIS_A && !consent) {
		deny(d, RULE_CONSENT,
		     "purpose '%s' rests on consent; none on record", pp->id);
		return VAERN_OK;
	}

	n = release_set(p, r, d, released);
	if (n == 0)
		return VAERN_OK;

	/* CEK-SPECIAL-1, SHOP-SPECIAL-1: special categories only under an
	 * Art. 9(2) condition; under (a) with the person's consent. */
	for (i = 0; i < n; i++) {
		const struct policy_category *c = &p->categories[released[i]];

		if (!c->special)
			continue;
		if (pp->art9 == 0) {
			deny(d, RULE_SPECIAL,
			     "category '%s' is special; purpose '%s' has no "
			     "Art. 9 condition",
			     c->id, pp->id);
			return VAERN_OK;
		}
		if (pp->art9 == 'a' && !consent) {
			deny(d, RULE_SPECIAL,
			     "category '%s' is special; purpose '%s' needs "
			     "explicit consent, none on record",
			     c->id, pp->id);
			return VAERN_OK;
		}
	}

	if (r->action == GATE_DISCLOSE) {
		if (!check_disclosure(p, r, s, d, released, n))
			return VAERN_OK;
	} else {
		/* GDPR-32: access control passed. */
		allow(d, RULE_ACCESS, "role '%s' may %s for purpose '%s'",
		      role->id, action_name(r->action), pp->id);
	}
	d->nreleased = n;
	return VAERN_OK;
}
