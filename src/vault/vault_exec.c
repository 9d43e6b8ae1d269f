/*
 * vault_exec.c -- executing the other verified rights requests:
 * rectification (GDPR-16), restriction and its lifting (GDPR-18),
 * objection to direct marketing (GDPR-21), consent withdrawal (GDPR-7),
 * each through the vault calls the direct API uses, in one transaction
 * with the request's transition (vault_requests.c stores and audits the
 * request; vault_erase.c executes an erasure).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../calendar/calendar.h"
#include "../common/utf8.h"
#include "../retention/retention.h"
#include "vault_internal.h"
#include "vault_requests_internal.h"

/* ---- executing the other rights (GDPR-16, GDPR-18, GDPR-21, GDPR-7) ----
 */

#define EXEC_WHAT_MAX 320 /* bytes of what an execution did, in words */

/* An execution: the request, where it goes, whose transaction. */
struct exec {
	struct controller *c;
	struct store_request s;
	struct store_subject subj;    /* the request's subject */
	enum rights_status to;        /* completed or in_progress */
	char was[STORE_WORD_MAX + 1]; /* the status before */
	int own;                      /* 1: the transaction is ours, not a
	                                 caller's batch */
};

/*
 * Loads request id for executing a right of type, and checks that it may
 * go to completed (complete) or in_progress: of that type, open, verified
 * (AOPT-ACCESS-1), its subject still in the vault. A request in progress
 * may stay there for a further step.
 */
static enum vaern_err
exec_load(struct vault *v, const char *controller, const char *id,
          enum rights_type type, int complete,
          const struct vault_request_actor *who, struct exec *x,
          struct vaern_msg *msg)
{
	enum rights_status from;
	enum vaern_err err;

	memset(x, 0, sizeof(*x));
	if ((err = vlt_need_audit(v, who, msg)) != VAERN_OK ||
	    (err = vlt_request_load(v, controller, id, &x->c, &x->s, msg)) !=
	            VAERN_OK ||
	    (err = rights_status_parse(x->s.status, &from, msg)) != VAERN_OK)
		return err;
	if (strcmp(x->s.type, rights_type_name(type)) != 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the request is a %s request, not %s",
		                  x->s.type, rights_type_name(type));
	x->to = complete ? RIGHTS_COMPLETED : RIGHTS_IN_PROGRESS;
	vlt_word_copy(x->was, sizeof(x->was), x->s.status);
	/* Only a request in progress may stay where it is. */
	if (!(from == RIGHTS_IN_PROGRESS && x->to == from) &&
	    (err = rights_transition(from, x->to,
	                             x->s.verified_at != STORE_NO_TIME, msg)) !=
	            VAERN_OK)
		return err;
	err = store_subject_by_uid(v->store, x->c->rowid, x->s.subject,
	                           &x->subj, msg);
	if (err == VAERN_E_NOTFOUND)
		return vaern_fail(msg, VAERN_E_NOTFOUND,
		                  "the request's subject is no longer in the "
		                  "vault");
	return err;
}

/* Opens the execution's transaction, or joins the caller's batch. */
static enum vaern_err
exec_begin(struct vault *v, struct exec *x, struct vaern_msg *msg)
{
	x->own = !v->batch;
	return x->own ? vault_begin(v, msg) : VAERN_OK;
}

/*
 * After the right's own writes (err): writes the request's new status
 * with its transition (or, for a further step in progress, its time), in
 * the same transaction, and ends it: committed if all went well, rolled
 * back otherwise (a caller's batch is left to the caller). reason is
 * told to the person: no personal data but what staff wrote.
 */
static enum vaern_err
exec_end(struct vault *v, struct exec *x, enum vaern_err err,
         const struct vault_request_actor *who, const char *reason,
         struct vaern_msg *msg)
{
	if (err == VAERN_OK) {
		vlt_word_copy(x->s.status, sizeof(x->s.status),
		              rights_status_name(x->to));
		if (x->to == RIGHTS_COMPLETED)
			vlt_word_copy(x->s.status_reason,
			              sizeof(x->s.status_reason), reason);
		if (strcmp(x->was, x->s.status) != 0) {
			err = vlt_request_write(v, &x->s, x->was, who, reason,
			                        msg);
		} else {
			x->s.updated_at = clock_now();
			err = vlt_request_store(v, &x->s, 1, NULL, NULL, msg);
		}
	}
	if (!x->own)
		return err;
	if (err == VAERN_OK && (err = vault_commit(v, msg)) == VAERN_OK)
		return VAERN_OK;
	vault_rollback(v);
	return err;
}

/* The execution's audit entry: the request, its transition and what was
 * done (ids and counts), under the clause that grants the right. */
static enum vaern_err
exec_audit(struct vault *v, const char *controller,
           const struct vault_request_actor *who, const struct exec *x,
           const char *action, const char *categories, const char *rule,
           const char *what, struct vaern_msg *msg)
{
	char why[AUDIT_WHY_MAX];

	enum vaern_err err;

	(void)snprintf(why, sizeof(why), "request %s (%s): %s -> %s; %s",
	               x->s.id, x->s.type, x->was, x->s.status, what);
	if ((err = vlt_audit_categories(v, controller, who, action,
	                                x->s.subject, categories, 1, rule, why,
	                                msg)) != VAERN_OK)
		return err;
	/* GDPR-12: a completed request is told (a step in progress not). */
	return vlt_request_notify(v, controller, x->c, &x->s, who, NULL, msg);
}

/* Appends name to a comma-separated list of ids unless it is there. */
static void
list_add(char *list, size_t size, const char *name)
{
	size_t len = strlen(list), n = strlen(name);

	for (const char *p = list; *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t k = end != NULL ? (size_t)(end - p) : strlen(p);

		if (k == n && memcmp(p, name, n) == 0)
			return;
		p += k + (end != NULL);
	}
	(void)snprintf(list + len, size - len, "%s%s", len ? "," : "", name);
}

enum vaern_err
vault_request_rectify(struct vault *v, const char *controller, const char *id,
                      struct vault_rectification *changes, size_t n,
                      int complete, const struct vault_request_actor *who,
                      struct vault_request *out, struct vaern_msg *msg)
{
	struct exec x;
	enum vaern_err err;
	char cats[AUDIT_CATS_MAX] = "", what[EXEC_WHAT_MAX];
	char scope[STORE_SCOPE_MAX];

	if ((err = exec_load(v, controller, id, RIGHTS_RECTIFICATION, complete,
	                     who, &x, msg)) != VAERN_OK)
		return err;
	if (n == 0 || n > VAULT_RECTIFY_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a rectification names 1 to %d facts, each "
		                  "with its new value",
		                  VAULT_RECTIFY_MAX);
	if ((err = vlt_scope_read(v, x.s.rowid, scope, sizeof(scope), msg)))
		return err;
	for (size_t i = 0; i < n; i++) {
		if (changes[i].value == NULL)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "fact %lld: the new value is missing",
			                  (long long)changes[i].fact);
		for (size_t k = 0; k < i; k++) {
			if (changes[k].fact == changes[i].fact)
				return vaern_fail(msg, VAERN_E_INVALID,
				                  "fact %lld is named twice",
				                  (long long)changes[i].fact);
		}
		err = changes[i].fact < 1
		              ? VAERN_E_NOTFOUND
		              : vault_fact_category(v, controller, x.s.subject,
		                                    changes[i].fact,
		                                    changes[i].category, msg);
		if (err == VAERN_E_NOTFOUND)
			return vaern_fail(msg, VAERN_E_NOTFOUND,
			                  "the request's subject has no fact "
			                  "%lld",
			                  (long long)changes[i].fact);
		if (err != VAERN_OK)
			return err;
		/* AURA-RIGHTS-1: only the data the request concerns. */
		if (!vlt_scope_has(scope, changes[i].category))
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "fact %lld: category '%s' is not among "
			        "the data the request concerns (%s; "
			        "AURA-RIGHTS-1)",
			        (long long)changes[i].fact, changes[i].category,
			        scope);
		list_add(cats, sizeof(cats), changes[i].category);
	}
	(void)snprintf(what, sizeof(what), "rectified %zu fact%s: %s", n,
	               n == 1 ? "" : "s", cats);
	/* GDPR-16: the new values replace the old ones, all or none. */
	if ((err = exec_begin(v, &x, msg)) != VAERN_OK)
		return err;
	for (size_t i = 0; err == VAERN_OK && i < n; i++)
		err = vault_fact_rectify(v, controller, x.s.subject,
		                         changes[i].fact, changes[i].value,
		                         msg);
	if ((err = exec_end(v, &x, err, who, what, msg)) != VAERN_OK ||
	    (err = exec_audit(v, controller, who, &x, "request_rectification",
	                      cats, "GDPR-16", what, msg)) != VAERN_OK)
		return err;
	return vlt_request_out(&x.s, out, msg);
}

enum vaern_err
vault_request_restrict(struct vault *v, const char *controller, const char *id,
                       int lift, int complete, const char *reason,
                       const struct vault_request_actor *who,
                       struct vault_request *out, struct vaern_msg *msg)
{
	struct exec x;
	enum vaern_err err;
	char what[EXEC_WHAT_MAX];

	if (reason != NULL && reason[0] == '\0')
		reason = NULL;
	if (lift && reason == NULL)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "lifting a restriction needs its reason: the "
		                  "person is told before it is lifted "
		                  "(GDPR-18)");
	if (reason != NULL && !utf8_line_ok(reason, VAULT_REQUEST_TEXT_MAX))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a reason is 1 to %d bytes of UTF-8 text "
		                  "without control characters",
		                  VAULT_REQUEST_TEXT_MAX);
	if (reason != NULL &&
	    (err = id_refuse_card(reason, "the reason", msg)) != VAERN_OK)
		return err;
	if ((err = exec_load(v, controller, id, RIGHTS_RESTRICTION,
	                     lift || complete, who, &x, msg)) != VAERN_OK)
		return err;
	if (lift && !(x.subj.state & STORE_STATE_RESTRICTED))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the subject's processing is not restricted: "
		                  "there is nothing to lift");
	(void)snprintf(what, sizeof(what), "%s",
	               lift ? "restriction of processing lifted"
	                    : "processing restricted: only stored, and used "
	                      "only for purposes allowed while restricted");
	if ((err = exec_begin(v, &x, msg)) != VAERN_OK)
		return err;
	err = vault_subject_restrict(v, controller, x.s.subject, !lift, msg);
	/* The staff's reason (told to the person) goes to the request's
	 * history, never to the audit trail. */
	if ((err = exec_end(v, &x, err, who, reason != NULL ? reason : what,
	                    msg)) != VAERN_OK ||
	    (err = exec_audit(v, controller, who, &x,
	                      lift ? "request_restriction_lifted"
	                           : "request_restriction",
	                      NULL, "GDPR-18", what, msg)) != VAERN_OK)
		return err;
	return vlt_request_out(&x.s, out, msg);
}

/* Checks a list of purpose ids: at most VAULT_PURPOSES_MAX, each once. */
static enum vaern_err
purposes_check(const char *const *purposes, size_t n, struct vaern_msg *msg)
{
	if (n > VAULT_PURPOSES_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "at most %d purposes in one request",
		                  VAULT_PURPOSES_MAX);
	for (size_t i = 0; i < n; i++) {
		if (purposes[i] == NULL)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "a purpose is missing");
		for (size_t k = 0; k < i; k++) {
			if (strcmp(purposes[k], purposes[i]) == 0)
				return vaern_fail(
				        msg, VAERN_E_INVALID,
				        "purpose '%.64s' is named twice",
				        purposes[i]);
		}
	}
	return VAERN_OK;
}

enum vaern_err
vault_request_object(struct vault *v, const char *controller, const char *id,
                     const char *const *purposes, size_t n,
                     const struct vault_request_actor *who,
                     struct vault_request *out, struct vaern_msg *msg)
{
	struct exec x;
	const struct policy *p;
	enum vaern_err err;
	char list[AUDIT_CATS_MAX] = "", what[EXEC_WHAT_MAX];

	if ((err = exec_load(v, controller, id, RIGHTS_OBJECTION, 1, who, &x,
	                     msg)) != VAERN_OK ||
	    (err = purposes_check(purposes, n, msg)) != VAERN_OK)
		return err;
	p = x.c->policy;
	for (size_t i = 0; i < n; i++) {
		long pi = policy_purpose_index(p, purposes[i]);

		if (pi < 0)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "the policy of '%s' has no purpose "
			                  "'%.64s'",
			                  controller, purposes[i]);
		if (!p->purposes[pi].direct_marketing)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "purpose '%s' is not direct marketing: an "
			        "objection to it is weighed by the controller "
			        "(GDPR-21(1)), not executed here; answer the "
			        "request by its status, with the reason",
			        p->purposes[pi].id);
	}
	/* GDPR-21(3), CEK-RIGHTS-1: absolute, so it covers every
	 * direct-marketing purpose (the subject's one objection flag). */
	for (size_t i = 0; i < p->npurposes; i++) {
		if (p->purposes[i].direct_marketing)
			list_add(list, sizeof(list), p->purposes[i].id);
	}
	(void)snprintf(what, sizeof(what),
	               "objection to direct marketing recorded; refused from "
	               "now on: %s",
	               list[0] ? list : "(no direct-marketing purpose)");
	if ((err = exec_begin(v, &x, msg)) != VAERN_OK)
		return err;
	err = vault_subject_object(v, controller, x.s.subject, 1, msg);
	if ((err = exec_end(v, &x, err, who, what, msg)) != VAERN_OK ||
	    (err = exec_audit(v, controller, who, &x, "request_objection", NULL,
	                      "GDPR-21", what, msg)) != VAERN_OK)
		return err;
	return vlt_request_out(&x.s, out, msg);
}

enum vaern_err
vault_request_withdraw(struct vault *v, const char *controller, const char *id,
                       const char *const *purposes, size_t n,
                       const struct vault_request_actor *who,
                       struct vault_withdrawal *rep, struct vault_request *out,
                       struct vaern_msg *msg)
{
	struct exec x;
	const struct policy *p;
	struct vault_consent_act act;
	struct vault_consent_done done;
	enum vaern_err err;
	char list[AUDIT_CATS_MAX] = "", what[EXEC_WHAT_MAX];

	memset(rep, 0, sizeof(*rep));
	if ((err = exec_load(v, controller, id, RIGHTS_CONSENT_WITHDRAWAL, 1,
	                     who, &x, msg)) != VAERN_OK ||
	    (err = purposes_check(purposes, n, msg)) != VAERN_OK)
		return err;
	p = x.c->policy;
	for (size_t i = 0; i < n; i++)
		vlt_word_copy(rep->purposes[rep->n++].purpose,
		              sizeof(rep->purposes[0].purpose), purposes[i]);
	/* None named: every consent of the person in force. */
	for (size_t i = 0; n == 0 && i < p->npurposes; i++) {
		const struct policy_purpose *pp = &p->purposes[i];
		struct vault_consent_state st;

		if (!((pp->basis & BASIS_A) || pp->art9 == 'a'))
			continue;
		if ((err = vault_consent_state(v, controller, x.s.subject,
		                               pp->id, &st, msg)) != VAERN_OK)
			return err;
		if (st.in_force && rep->n < VAULT_PURPOSES_MAX)
			vlt_word_copy(rep->purposes[rep->n++].purpose,
			              sizeof(rep->purposes[0].purpose), pp->id);
	}
	if (rep->n == 0)
		return vaern_fail(msg, VAERN_E_EXISTS,
		                  "no consent of the request's subject is in "
		                  "force");
	for (size_t i = 0; i < rep->n; i++)
		list_add(list, sizeof(list), rep->purposes[i].purpose);
	(void)snprintf(what, sizeof(what),
	               "consent withdrawn: %s (processing before stays "
	               "lawful)",
	               list);
	/* GDPR-7: appended to the ledger, never overwriting it; by the
	 * channel the request came through. */
	memset(&act, 0, sizeof(act));
	act.source = x.s.channel;
	act.withdraw = 1;
	act.at = INT64_MIN;
	if ((err = exec_begin(v, &x, msg)) != VAERN_OK)
		return err;
	for (size_t i = 0; err == VAERN_OK && i < rep->n; i++) {
		act.purpose = rep->purposes[i].purpose;
		err = vault_consent_apply(v, controller, x.s.subject, &act,
		                          &done, msg);
		rep->purposes[i].kept_until = done.expires_at;
	}
	sodium_memzero(&done, sizeof(done));
	if ((err = exec_end(v, &x, err, who, what, msg)) != VAERN_OK ||
	    (err = exec_audit(v, controller, who, &x,
	                      "request_consent_withdrawal", NULL, "GDPR-7",
	                      what, msg)) != VAERN_OK)
		return err;
	return vlt_request_out(&x.s, out, msg);
}

enum vaern_err
vault_request_scope(struct vault *v, const char *controller, const char *id,
                    char out[VAULT_SCOPE_MAX + 1], struct vaern_msg *msg)
{
	struct controller *c;
	struct store_request s;
	enum vaern_err err;

	out[0] = '\0';
	if ((err = vlt_request_load(v, controller, id, &c, &s, msg)) !=
	    VAERN_OK)
		return err;
	return vlt_scope_read(v, s.rowid, out, VAULT_SCOPE_MAX + 1, msg);
}
