/*
 * vault_report.c -- the reads behind a person's access report (GDPR-15)
 * and portable copy (GDPR-20): the gate decides who may answer (the
 * data-protection officer, the local operator, or whoever handles a
 * verified rights request of that kind about the subject,
 * AOPT-ACCESS-1) and which categories the answer may show that role
 * (TEL-LOG-2); the decision is audited before anything is decrypted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault.h"
#include "vault_internal.h"

enum vaern_err
vault_subject_export(struct vault *v, const struct vault_actor *actor,
                     const unsigned char uid[VAULT_UID_BYTES],
                     enum vault_export kind, const char *request,
                     enum vaern_err (*fn)(void *arg,
                                          const struct vault_fact_out *f),
                     void *arg, struct vault_withheld *withheld,
                     size_t *nwithheld, struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct store_subject s;
	struct vlt_request_evidence ev;
	struct gate_request r;
	struct gate_state gs;
	struct gate_decision d;
	struct gate_release rel;
	const struct policy *p;
	size_t *released = NULL, *counts = NULL, n = 0;
	char extra[VAULT_REQUEST_ID_LEN + 16];
	size_t rl;

	if (nwithheld != NULL)
		*nwithheld = 0;
	memset(&r, 0, sizeof(r));
	memset(&gs, 0, sizeof(gs));
	if (v->audit_fn == NULL)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "no audit trail is attached: nothing is "
		                  "released without an audit entry");
	if ((err = vlt_controller(v, actor->controller, &c, msg)))
		return err;
	if (request != NULL &&
	    (err = vlt_request_evidence(v, c, request, uid, &ev, msg)) !=
	            VAERN_OK)
		return err;
	err = vlt_subject(v, actor->controller, uid, &c, &s, msg);
	if (err == VAERN_E_NOTFOUND && request != NULL)
		return vaern_fail(msg, err,
		                  "the request's subject is no longer in the "
		                  "vault");
	if (err != VAERN_OK)
		return err;
	p = c->policy;
	if (vlt_gate_role(p, actor, &rl) != 0)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "role '%s' is no longer in the policy",
		                  actor->role);
	released = calloc(p->ncategories + 1, sizeof(*released));
	counts = calloc(p->ncategories + 1, sizeof(*counts));
	if (released == NULL || counts == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	r.role = rl;
	r.self = vlt_actor_is(actor, s.uid);
	r.action = GATE_ANSWER;
	r.recipient = -1;
	r.portability = kind == VAULT_EXPORT_PORTABILITY;
	r.request = request != NULL ? &ev.q : NULL;
	/* AURA-RIGHTS-1: a request's answer covers the data it concerns. */
	if (request != NULL && ev.ncategories > 0) {
		r.categories = ev.categories;
		r.ncategories = ev.ncategories;
	}
	gs.restricted = (s.state & STORE_STATE_RESTRICTED) != 0;
	if (request != NULL)
		(void)snprintf(extra, sizeof(extra), "request %s", ev.id);
	err = vlt_gate(v, c, s.uid, s.uid, actor->name, actor->role, &r, &gs,
	               kind == VAULT_EXPORT_ACCESS ? "subject_access"
	                                           : "data_portability",
	               request != NULL ? "request_report" : "export",
	               request != NULL ? extra : NULL, &d, released, &rel, msg);
	/* A request that does not authorise its answer is the caller's
	 * mistake to correct (400), not a policy refusal of the role. */
	if (err == VAERN_E_DENIED && request != NULL)
		err = VAERN_E_INVALID;
	if (err != VAERN_OK)
		goto done;
	if ((err = vlt_release_walk(v, &s, &rel, fn, arg, counts, msg)))
		goto done;
	for (size_t ci = 0; withheld != NULL && ci < p->ncategories; ci++) {
		int asked = r.categories == NULL;

		for (size_t k = 0; !asked && k < r.ncategories; k++)
			asked = r.categories[k] == ci;
		/* Data the request does not concern is not withheld: it is
		 * not part of the question (AURA-RIGHTS-1). */
		if (counts[ci] == 0 || !asked)
			continue;
		withheld[n].category = ci;
		withheld[n].facts = counts[ci];
		withheld[n].rule =
		        gate_answer_category(p, r.role, ci, withheld[n].reason);
		if (withheld[n].rule == NULL) {
			withheld[n].rule = kind == VAULT_EXPORT_ACCESS
			                           ? "GDPR-15"
			                           : "GDPR-20";
			(void)snprintf(
			        withheld[n].reason, sizeof(withheld[n].reason),
			        "category '%s' is not part of this answer",
			        p->categories[ci].id);
		}
		n++;
	}
	if (nwithheld != NULL)
		*nwithheld = n;
done:
	free(released);
	free(counts);
	return err;
}
