/*
 * vault_facts.c -- facts added to a person already in the vault
 * (AURA-PORTAL-2, TEL-LOG-1, CEK-RET-4): a call recorded, an invoice, a
 * product change, logging data. Every check of vault_subject_add, and the
 * gate: the actor's role must be allowed to collect for each fact's
 * purpose (GATE_COLLECT: need-to-know, clearance, restriction,
 * objection, consent, special categories), audited in the same
 * transaction as the write.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "vault_internal.h"

#define CATEGORY_LIST_MAX 4096

/* What the subject has on record already: (purpose, category) index pairs,
 * read from the rows' clear columns (nothing is decrypted). */
struct have_walk {
	const struct policy *p;
	size_t *pairs; /* [2 * cap] */
	size_t n, cap;
};

static enum vaern_err
have_each(void *arg, const struct store_fact *f)
{
	struct have_walk *w = arg;
	long pi = policy_purpose_index(w->p, f->purpose);
	long ci = policy_category_index(w->p, f->category);

	if (pi < 0 || ci < 0)
		return VAERN_OK;
	for (size_t k = 0; k < w->n; k++)
		if (w->pairs[2 * k] == (size_t)pi &&
		    w->pairs[2 * k + 1] == (size_t)ci)
			return VAERN_OK;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		size_t *np = realloc(w->pairs, 2 * cap * sizeof(*np));

		if (np == NULL)
			return VAERN_E_NOMEM;
		w->pairs = np;
		w->cap = cap;
	}
	w->pairs[2 * w->n] = (size_t)pi;
	w->pairs[2 * w->n + 1] = (size_t)ci;
	w->n++;
	return VAERN_OK;
}

/* The ids of the categories of the facts of purpose pp, "a,b". */
static size_t
purpose_categories(const struct fact_plan *plan, size_t n,
                   const struct policy *p, const struct policy_purpose *pp,
                   size_t *idx, char *buf, size_t bufsz)
{
	size_t k = 0, off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t ci = (size_t)(plan[i].category - p->categories);
		int seen = 0;

		if (plan[i].purpose != pp)
			continue;
		for (size_t j = 0; j < k && !seen; j++)
			seen = idx[j] == ci;
		if (seen)
			continue;
		idx[k++] = ci;
		if (off + strlen(plan[i].category->id) + 2 <= bufsz)
			off += (size_t)snprintf(buf + off, bufsz - off, "%s%s",
			                        off ? "," : "",
			                        plan[i].category->id);
	}
	return k;
}

/* Writes one collection decision about subject s to the audit trail
 * (GDPR-32): ids, the rule and the reason, never a value. */
static enum vaern_err
collect_audit(struct vault *v, const struct controller *c,
              const struct store_subject *s, const struct vault_actor *actor,
              const char *purpose, const char *cats, int allowed,
              const char *rule, const char *reason, struct vaern_msg *msg)
{
	struct vault_audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.controller = c->name;
	ev.actor = actor->name;
	ev.role = actor->role;
	ev.purpose = purpose;
	ev.action = "collect";
	ev.subject = s->uid;
	ev.categories = cats != NULL && cats[0] ? cats : NULL;
	ev.allowed = allowed;
	ev.rule = rule != NULL ? rule : "";
	ev.reason = reason;
	return v->audit_fn(v->audit_arg, &ev, msg);
}

/* Asks the gate whether actor may collect for every purpose of plan;
 * a refusal is audited and returned (VAERN_E_DENIED). On allow, each
 * purpose's decision is in d[pi]. */
static enum vaern_err
gate_collect(struct vault *v, const struct controller *c,
             const struct store_subject *s, const struct vault_actor *actor,
             size_t role, const struct fact_plan *plan, size_t n,
             struct gate_decision *d, struct vaern_msg *msg)
{
	const struct policy *p = c->policy;
	unsigned char *consent = calloc(p->npurposes + 1, 1);
	unsigned char *agreed = calloc(p->nrecipients + 1, 1);
	unsigned char *untold = calloc(p->npurposes + 1, 1);
	size_t *idx = calloc(p->ncategories + 1, sizeof(*idx));
	size_t *released = calloc(p->ncategories + 1, sizeof(*released));
	char cats[CATEGORY_LIST_MAX];
	struct gate_state gs;
	enum vaern_err err;

	memset(&gs, 0, sizeof(gs));
	if (!consent || !agreed || !untold || !idx || !released) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	if ((err = vlt_subject_state(v, p, s, -1, consent, agreed, &gs, msg)) ||
	    (err = vlt_untold(v, c, s, consent, untold, msg)))
		goto done;
	/* CEK-PURP-5: no new data for a purpose the person is not yet told
	 * of. */
	gs.untold = untold;
	for (size_t i = 0; i < n; i++) {
		const struct policy_purpose *pp = plan[i].purpose;
		size_t pi = (size_t)(pp - p->purposes);
		struct gate_request r;
		int first = 1;

		for (size_t k = 0; k < i; k++)
			first &= plan[k].purpose != pp;
		if (!first)
			continue;
		memset(&r, 0, sizeof(r));
		r.role = role;
		r.self = vlt_actor_is(actor, s->uid);
		r.purpose = pi;
		r.action = GATE_COLLECT;
		r.categories = idx;
		r.ncategories = purpose_categories(plan, n, p, pp, idx, cats,
		                                   sizeof(cats));
		r.recipient = -1;
		if (gate_decide(p, &r, &gs, &d[pi], released) != VAERN_OK)
			d[pi].allow = 0;
		if (d[pi].allow)
			continue;
		/* GDPR-32: the refusal is audited; nothing is written. */
		if ((err = collect_audit(v, c, s, actor, pp->id, cats, 0,
		                         d[pi].rule, d[pi].reason, msg)) ==
		    VAERN_OK)
			err = vaern_fail(msg, VAERN_E_DENIED, "%s (%s)",
			                 d[pi].reason,
			                 d[pi].rule ? d[pi].rule : "policy");
		goto done;
	}
done:
	free(consent);
	free(agreed);
	free(untold);
	free(idx);
	free(released);
	return err;
}

/* Audits a refusal by the policy's checks (consent, special category,
 * card number: msg says which, never a value); returns VAERN_E_DENIED, or
 * the audit's failure. */
static enum vaern_err
audit_refusal(struct vault *v, const struct controller *c,
              const struct store_subject *s, const struct vault_actor *actor,
              const char *purpose, struct vaern_msg *msg)
{
	struct vault_audit_event ev;
	struct vaern_msg why = {{0}};
	enum vaern_err err;

	if (msg != NULL)
		memcpy(why.text, msg->text, sizeof(why.text));
	memset(&ev, 0, sizeof(ev));
	ev.controller = c->name;
	ev.actor = actor->name;
	ev.role = actor->role;
	ev.purpose =
	        policy_purpose_index(c->policy, purpose ? purpose : "") >= 0
	                ? purpose
	                : NULL;
	ev.action = "collect";
	ev.subject = s->uid;
	ev.allowed = 0;
	ev.rule = "collection";
	ev.reason = why.text;
	if ((err = v->audit_fn(v->audit_arg, &ev, msg)) != VAERN_OK)
		return err;
	return vaern_fail(msg, VAERN_E_DENIED, "%s", why.text);
}

/* Audits each purpose's allowed collection (inside the write's
 * transaction: no entry, no write). */
static enum vaern_err
audit_collect(struct vault *v, const struct controller *c,
              const struct store_subject *s, const struct vault_actor *actor,
              const struct fact_plan *plan, size_t n,
              const struct gate_decision *d, struct vaern_msg *msg)
{
	const struct policy *p = c->policy;
	size_t *idx = calloc(p->ncategories + 1, sizeof(*idx));
	char cats[CATEGORY_LIST_MAX], reason[GATE_REASON_MAX + 64];
	enum vaern_err err = VAERN_OK;

	if (idx == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	for (size_t i = 0; err == VAERN_OK && i < n; i++) {
		const struct policy_purpose *pp = plan[i].purpose;
		size_t pi = (size_t)(pp - p->purposes), count = 0;
		int first = 1;

		for (size_t k = 0; k < i; k++)
			first &= plan[k].purpose != pp;
		if (!first)
			continue;
		for (size_t k = 0; k < n; k++)
			count += plan[k].purpose == pp;
		(void)purpose_categories(plan, n, p, pp, idx, cats,
		                         sizeof(cats));
		(void)snprintf(reason, sizeof(reason),
		               "%s; %zu facts added to the subject",
		               d[pi].reason, count);
		err = collect_audit(v, c, s, actor, pp->id, cats, 1, d[pi].rule,
		                    reason, msg);
	}
	free(idx);
	return err;
}

/* The consents in force among the purposes of facts, as the check of
 * vault_subject_add reads them (GDPR-7, CEK-SPECIAL-1). */
static enum vaern_err
consents_in_force(struct vault *v, const struct policy *p,
                  const struct store_subject *s,
                  const struct vault_fact_in *facts, size_t n,
                  struct vault_consent_in *out, size_t *nout,
                  struct vaern_msg *msg)
{
	enum vaern_err err;

	*nout = 0;
	for (size_t i = 0; i < p->npurposes; i++) {
		const struct policy_purpose *pp = &p->purposes[i];
		int used = 0, valid = 0;

		if (!(pp->basis & BASIS_A) && pp->art9 != 'a')
			continue;
		for (size_t k = 0; k < n && !used; k++)
			used = facts[k].purpose != NULL &&
			       strcmp(facts[k].purpose, pp->id) == 0;
		if (!used)
			continue;
		if ((err = store_consent_valid(v->store, s->rowid, pp->id,
		                               &valid, msg)) != VAERN_OK)
			return err;
		if (!valid)
			continue;
		out[*nout].purpose = pp->id;
		out[*nout].source = "ledger";
		out[*nout].given_at = INT64_MIN;
		(*nout)++;
	}
	return VAERN_OK;
}

/* Writes the checked facts from id first on, inside the transaction. */
static enum vaern_err
facts_write(struct vault *v, const struct controller *c,
            struct store_subject *s, const struct fact_plan *plan, size_t n,
            int64_t first, struct vaern_msg *msg)
{
	unsigned char key[KEY_BYTES], ad[VLT_AD_MAX], *ct = NULL;
	size_t blinds_len = s->blinds_len;
	enum vaern_err err;

	if ((err = vlt_unwrap_key(v, s, key, msg)) != VAERN_OK)
		return err;
	if ((ct = malloc(VAULT_VALUE_MAX + VLT_SEAL_OVERHEAD)) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const struct fact_plan *fp = &plan[i];
		struct store_fact f;
		char rule[VAULT_RULE_MAX + 1];
		size_t len = strlen(fp->value);

		if (fp->category->format == FORMAT_IDENTIFIER) {
			unsigned char e[1 + STORE_BLIND_BYTES];
			int dup = 0;

			e[0] = (unsigned char)fp->category->identifier;
			vlt_blind_index(vlt_blind_key(v, c),
			                fp->category->identifier,
			                fp->category->id, fp->value, e + 1);
			for (size_t k = 0; k + sizeof(e) <= s->blinds_len;
			     k += sizeof(e))
				dup |= memcmp(s->blinds + k, e, sizeof(e)) == 0;
			if (!dup) {
				if (s->blinds_len + sizeof(e) >
				    STORE_BLINDS_MAX) {
					err = vaern_fail(
					        msg, VAERN_E_LIMIT,
					        "at most %d identifiers per "
					        "subject",
					        STORE_IDS_PER_SUBJECT);
					goto done;
				}
				err = store_identifier_insert(
				        v->store, c->rowid, e[0], e + 1,
				        s->rowid, msg);
				if (err == VAERN_E_EXISTS)
					err = vaern_fail(
					        msg, VAERN_E_EXISTS,
					        "fact %zu: another subject of "
					        "'%s' already has this %s "
					        "(category '%s')",
					        i + 1, c->name,
					        id_type_name(
					                fp->category
					                        ->identifier),
					        fp->category->id);
				if (err != VAERN_OK)
					goto done;
				memcpy(s->blinds + s->blinds_len, e, sizeof(e));
				s->blinds_len += sizeof(e);
			}
		}
		memset(&f, 0, sizeof(f));
		f.subject = s->rowid;
		f.id = first + (int64_t)i;
		f.category = fp->category->id;
		f.purpose = fp->purpose->id;
		f.source = fp->source;
		f.collected_at = fp->collected_at;
		f.provided_by_subject = fp->provided;
		if ((err = vlt_fact_expiry(c, f.category, f.collected_at,
		                           &f.expires_at, rule, msg)) !=
		    VAERN_OK)
			goto done;
		f.rule = rule[0] ? rule : NULL;
		vlt_seal(v, ct, (const unsigned char *)fp->value, len, ad,
		         vlt_fact_ad(ad, s->uid, f.id, f.category), key);
		f.ct = ct;
		f.ctlen = len + VLT_SEAL_OVERHEAD;
		if ((err = store_fact_insert(v->store, &f, msg)) != VAERN_OK)
			goto done;
	}
	if (s->blinds_len != blinds_len &&
	    (err = store_subject_set_blinds(v->store, s->rowid, s->blinds,
	                                    s->blinds_len, msg)) != VAERN_OK)
		goto done;
	/* The subject's events may already run a clock (TEL-RET-1). */
	err = vlt_retention_recompute(v, c, s->rowid, msg);
done:
	sodium_memzero(key, sizeof(key));
	if (ct != NULL) {
		sodium_memzero(ct, VAULT_VALUE_MAX + VLT_SEAL_OVERHEAD);
		free(ct);
	}
	return err;
}

enum vaern_err
vault_facts_add(struct vault *v, const struct vault_actor *actor,
                const unsigned char uid[VAULT_UID_BYTES],
                const struct vault_fact_in *facts, size_t nfacts,
                int64_t *first_id, struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct store_subject s;
	struct have_walk hw = {NULL, NULL, 0, 0};
	struct vault_consent_in *cons = NULL;
	struct fact_plan *plan = NULL;
	struct gate_decision *d = NULL;
	const struct policy *p;
	size_t ncons = 0, role;
	int64_t max = 0;
	int began = 0;

	*first_id = 0;
	if (v->audit_fn == NULL)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "no audit trail is attached: nothing is "
		                  "stored without an audit entry");
	if (nfacts == 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "facts: at least one fact is needed");
	if (nfacts > VAULT_FACTS_PER_ADD)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "facts: at most %d at once",
		                  VAULT_FACTS_PER_ADD);
	if ((err = vlt_subject(v, actor->controller, uid, &c, &s, msg)))
		return err;
	p = c->policy;
	if (vlt_gate_role(p, actor, &role) != 0)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "role '%s' is no longer in the policy",
		                  actor->role);
	hw.p = p;
	cons = calloc(p->npurposes + 1, sizeof(*cons));
	plan = calloc(nfacts, sizeof(*plan));
	d = calloc(p->npurposes + 1, sizeof(*d));
	if (cons == NULL || plan == NULL || d == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	/* Every check of a new subject, with what is on record counted
	 * (CEK-MAND-1) and the consents in force (GDPR-7). */
	if ((err = store_fact_foreach(v->store, s.rowid, have_each, &hw,
	                              msg)) != VAERN_OK ||
	    (err = consents_in_force(v, p, &s, facts, nfacts, cons, &ncons,
	                             msg)) != VAERN_OK ||
	    (err = vlt_facts_check(p, facts, nfacts, cons, ncons, hw.pairs,
	                           hw.n, clock_now(), plan, msg)) != VAERN_OK ||
	    (err = vlt_cookie_allowed(v, c, facts, plan, nfacts, msg)) !=
	            VAERN_OK) {
		if (err == VAERN_E_DENIED)
			err = audit_refusal(v, c, &s, actor, facts[0].purpose,
			                    msg);
		goto done;
	}
	/* The gate, per purpose: a refusal is audited, nothing written. */
	if ((err = gate_collect(v, c, &s, actor, role, plan, nfacts, d, msg)))
		goto done;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		goto done;
	began = 1;
	if ((err = store_fact_max_id(v->store, s.rowid, &max, msg)) ||
	    (err = facts_write(v, c, &s, plan, nfacts, max + 1, msg)) ||
	    (err = audit_collect(v, c, &s, actor, plan, nfacts, d, msg)))
		goto done;
	*first_id = max + 1;
done:
	if (began)
		err = vlt_end(v, err, msg);
	if (plan != NULL) {
		sodium_memzero(plan, nfacts * sizeof(*plan));
		free(plan);
	}
	free(cons);
	free(d);
	free(hw.pairs);
	return err;
}
