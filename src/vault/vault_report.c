/*
 * vault_report.c -- the reads behind a person's access report (GDPR-15)
 * and portable copy (GDPR-20): every fact of the subject, released to the
 * data-protection officer, or to whoever handles a verified rights request
 * of that kind about the subject (AOPT-ACCESS-1), and audited before
 * anything is released.
 */
#include <stdio.h>
#include <string.h>

#include "vault.h"
#include "vault_internal.h"

enum vaern_err
vault_subject_export(struct vault *v, const struct vault_actor *actor,
                     const unsigned char uid[VAULT_UID_BYTES],
                     enum vault_export kind, const char *request,
                     enum vaern_err (*fn)(void *arg,
                                          const struct vault_fact_out *f),
                     void *arg, struct vaern_msg *msg)
{
	enum vaern_err err, refusal = VAERN_E_DENIED;
	struct controller *c;
	struct store_subject s;
	struct vault_audit_event ev;
	struct vaern_msg why = {{0}};
	char reason[GATE_REASON_MAX];
	const char *what =
	        kind == VAULT_EXPORT_ACCESS ? "access" : "portability";
	int allowed;

	if (v->audit_fn == NULL)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "no audit trail is attached: nothing is "
		                  "released without an audit entry");
	if (request != NULL) {
		if ((err = vlt_controller(v, actor->controller, &c, msg)))
			return err;
		err = vlt_request_authorises(v, c, request, uid,
		                             kind == VAULT_EXPORT_PORTABILITY,
		                             reason, sizeof(reason), &why);
		if (err == VAERN_E_NOTFOUND)
			return vaern_fail(msg, err, "%s", why.text);
		if (err != VAERN_OK && err != VAERN_E_INVALID)
			return vaern_fail(msg, err, "%s", why.text);
		allowed = err == VAERN_OK;
		if (!allowed) {
			refusal = err;
			(void)snprintf(reason, sizeof(reason),
			               "request %.40s: %.200s", request,
			               why.text);
		}
	}
	err = vlt_subject(v, actor->controller, uid, &c, &s, msg);
	if (err == VAERN_E_NOTFOUND && request != NULL)
		return vaern_fail(msg, err,
		                  "the request's subject is no longer in the "
		                  "vault");
	if (err != VAERN_OK)
		return err;
	if (request == NULL) {
		long rl = policy_role_index(c->policy, actor->role);

		/* The data-protection officer answers the person's requests:
		 * the role that reads the audit trail (GDPR-32) and no
		 * purpose's role, as the report holds every category. */
		allowed = rl >= 0 && c->policy->roles[rl].audit;
		if (allowed)
			(void)snprintf(reason, sizeof(reason),
			               "the person's %s request, answered by "
			               "role '%s'",
			               what, actor->role);
		else
			(void)snprintf(
			        reason, sizeof(reason),
			        "role '%s' may not answer rights requests "
			        "(only a role with audit: true, or with a "
			        "verified request)",
			        actor->role);
	}
	memset(&ev, 0, sizeof(ev));
	memset(&ev, 0, sizeof(ev));
	ev.controller = c->name;
	ev.actor = actor->name;
	ev.role = actor->role;
	ev.purpose = kind == VAULT_EXPORT_ACCESS ? "subject_access"
	                                         : "data_portability";
	ev.action = request != NULL ? "request_report" : "export";
	ev.subject = s.uid;
	ev.categories = "*";
	ev.allowed = allowed;
	ev.rule = kind == VAULT_EXPORT_ACCESS ? "GDPR-15" : "GDPR-20";
	ev.reason = reason;
	if ((err = v->audit_fn(v->audit_arg, &ev, msg)) != VAERN_OK)
		return err; /* no audit entry, no release */
	if (!allowed)
		return vaern_fail(msg, refusal, "%s",
		                  request != NULL ? why.text : reason);
	return vault_subject_facts(v, actor->controller, uid, fn, arg, msg);
}
