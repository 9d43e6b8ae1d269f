/*
 * vault_erase.c -- executing a verified erasure request (GDPR-17,
 * AOPT-ERASE-1) and the operator's erasure, in one transaction with the
 * request's transition; the request itself is stored and audited by
 * vault_requests.c.
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

/* ---- executing an erasure (GDPR-17, AOPT-ERASE-1) ------------------------
 */

#define ERASE_EVENTS_MAX 256  /* events of the subject considered */
#define KEEP_SCOPE       1    /* keep[]: a fact the request does not concern */
#define KEEP_LAW         2    /* keep[]: a fact a legal obligation keeps */
#define ERASE_FACTS_MAX  4096 /* facts of one subject erased at once */

struct erase_fact {
	int64_t id;
	int64_t collected_at;
	long category;   /* index into the policy; -1: no longer in it */
	int64_t until;   /* kept: the legal rule's expiry (the sweep's) */
	long legal_rule; /* kept: the legal rule deciding until */
};

struct erase_walk {
	const struct policy *p;
	struct retention_event ev[ERASE_EVENTS_MAX];
	size_t nev;
	struct erase_fact *facts;
	size_t nfacts;
	struct vaern_msg *msg;
};

static enum vaern_err
erase_event(void *arg, const struct store_event *e)
{
	struct erase_walk *w = arg;
	long ei = policy_event_index(w->p, e->kind);

	if (ei < 0)
		return VAERN_OK;
	if (w->nev == ERASE_EVENTS_MAX) {
		memmove(w->ev, w->ev + 1,
		        (ERASE_EVENTS_MAX - 1) * sizeof(w->ev[0]));
		w->nev--;
	}
	w->ev[w->nev].event = (size_t)ei;
	w->ev[w->nev].at = e->at;
	w->nev++;
	return VAERN_OK;
}

static enum vaern_err
erase_fact_collect(void *arg, const struct store_fact *f)
{
	struct erase_walk *w = arg;

	if (w->nfacts == ERASE_FACTS_MAX)
		return vaern_fail(w->msg, VAERN_E_LIMIT,
		                  "more than %d facts in one subject",
		                  ERASE_FACTS_MAX);
	w->facts[w->nfacts].id = f->id;
	w->facts[w->nfacts].collected_at = f->collected_at;
	w->facts[w->nfacts].category = policy_category_index(w->p, f->category);
	w->nfacts++;
	return VAERN_OK;
}

/* The first legal rule holding category ci (the law it names). */
static long
legal_rule(const struct policy *p, long ci)
{
	for (size_t r = 0; r < p->nretention; r++) {
		if (p->retention[r].legal_obligation == NULL)
			continue;
		for (size_t k = 0; k < p->retention[r].ncategories; k++) {
			if (p->retention[r].categories[k] == (size_t)ci)
				return (long)r;
		}
	}
	return -1;
}

/* Decides fact by fact; fills rep->kept and marks kept facts (id < 0
 * never happens, so kept facts get category | KEEP_BIT in keep[]). */
static enum vaern_err
erase_plan(const struct policy *p, struct erase_walk *w, unsigned char *keep,
           struct vault_erasure *rep, int64_t now, struct vaern_msg *msg)
{
	for (size_t i = 0; i < w->nfacts; i++) {
		struct retention_result r;
		long ci = w->facts[i].category, lr;
		size_t k;

		keep[i] = 0;
		if (ci < 0)
			continue;
		if (retention_fact_expiry(p, (size_t)ci,
		                          w->facts[i].collected_at, w->ev,
		                          w->nev, &r) != VAERN_OK)
			continue; /* no rule holds it: nothing keeps it */
		/* GDPR-17(3)(b): kept while a legal obligation runs. */
		if (!r.legal || r.legal_until == INT64_MIN ||
		    (r.legal_until != RETENTION_NEVER && r.legal_until <= now))
			continue;
		keep[i] = KEEP_LAW;
		/* AOPT-ERASE-1: only the law keeps it now, so its date is
		 * the legal rule's, and the sweep's. */
		w->facts[i].until = r.legal_until;
		w->facts[i].legal_rule = r.legal_rule;
		lr = r.legal_rule >= 0 ? r.legal_rule : legal_rule(p, ci);
		for (k = 0; k < rep->nkept; k++) {
			if (strcmp(rep->kept[k].category,
			           p->categories[ci].id) == 0)
				break;
		}
		if (k == rep->nkept) {
			if (rep->nkept == VAULT_ERASE_KEPT_MAX)
				return vaern_fail(msg, VAERN_E_LIMIT,
				                  "too many categories kept");
			rep->nkept++;
			vlt_word_copy(rep->kept[k].category,
			              sizeof(rep->kept[k].category),
			              p->categories[ci].id);
			rep->kept[k].law =
			        lr >= 0 ? p->retention[lr].legal_obligation
			                : "";
			vlt_word_copy(rep->kept[k].rule,
			              sizeof(rep->kept[k].rule),
			              lr >= 0 ? p->retention[lr].id : "");
			rep->kept[k].until = INT64_MIN;
		}
		rep->kept[k].facts++;
		if (r.legal_until != RETENTION_NEVER &&
		    (rep->kept[k].until == INT64_MIN ||
		     r.legal_until > rep->kept[k].until))
			rep->kept[k].until = r.legal_until;
	}
	return VAERN_OK;
}

/* AURA-RIGHTS-1: a request that names the data it concerns erases only
 * that; the rest is kept as it is (rep->not_concerned). */
static enum vaern_err
erase_scope(struct vault *v, const struct policy *p, int64_t request,
            const struct erase_walk *w, unsigned char *keep,
            struct vault_erasure *rep, struct vaern_msg *msg)
{
	char scope[STORE_SCOPE_MAX];
	enum vaern_err err;

	if ((err = vlt_scope_read(v, request, scope, sizeof(scope), msg)) ||
	    scope[0] == '\0')
		return err;
	for (size_t i = 0; i < w->nfacts; i++) {
		long ci = w->facts[i].category;

		/* A category gone from the policy is erased as before. */
		if (keep[i] || ci < 0 ||
		    vlt_scope_has(scope, p->categories[ci].id))
			continue;
		keep[i] = KEEP_SCOPE;
		rep->not_concerned++;
	}
	return VAERN_OK;
}

/* The answer told to the person, as the completed request's reason. */
static void
erase_reason(const struct vault_erasure *rep, char *out, size_t size)
{
	size_t len;

	(void)snprintf(out, size, "erased %zu facts%s", rep->erased,
	               rep->shredded ? "; nothing kept"
	               : rep->nkept  ? "; kept:"
	                             : "");
	if (rep->not_concerned > 0) {
		len = strlen(out);
		(void)snprintf(out + len, size - len,
		               "; %zu facts the request does not concern left "
		               "as they are",
		               rep->not_concerned);
	}
	for (size_t k = 0; k < rep->nkept; k++) {
		char until[11] = "";

		len = strlen(out);
		if (rep->kept[k].until != INT64_MIN)
			cal_format_date(cal_day_of(rep->kept[k].until), until);
		(void)snprintf(out + len, size - len, "%s %s until %s (%s)",
		               k ? ";" : "", rep->kept[k].category,
		               until[0] ? until : "its retention starts",
		               rep->kept[k].law);
	}
}

/* Deletes what is not kept, inside the caller's transaction. */
static enum vaern_err
erase_write(struct vault *v, const struct controller *c,
            const struct store_subject *subj, const struct erase_walk *w,
            const unsigned char *keep, struct vault_erasure *rep,
            struct vaern_msg *msg)
{
	unsigned char blinds[STORE_BLINDS_MAX];
	size_t nb = 0;
	unsigned types = 0; /* identifier types of kept facts */
	int partial = rep->nkept > 0 || rep->not_concerned > 0;
	enum vaern_err err;

	for (size_t i = 0; i < w->nfacts; i++) {
		if (keep[i]) {
			char label[VAULT_RULE_MAX + 1];
			const struct erase_fact *f = &w->facts[i];

			types |= 1u << c->policy->categories[f->category]
			                       .identifier;
			if (keep[i] != KEEP_LAW)
				continue; /* not concerned: as it was */
			(void)snprintf(label, sizeof(label), "%s/%s", c->name,
			               c->policy->retention[f->legal_rule].id);
			if ((err = store_fact_set_expiry(
			             v->store, subj->rowid, f->id,
			             f->until == RETENTION_NEVER ? STORE_NO_TIME
			                                         : f->until,
			             label, msg)) != VAERN_OK)
				return err;
			continue;
		}
		if (partial &&
		    (err = store_fact_delete(v->store, subj->rowid,
		                             w->facts[i].id, msg)) != VAERN_OK)
			return err;
		rep->erased++;
	}
	for (size_t k = 0; k + 1 + STORE_BLIND_BYTES <= subj->blinds_len;
	     k += 1 + STORE_BLIND_BYTES) {
		if (partial && (types & (1u << subj->blinds[k]))) {
			memcpy(blinds + nb, subj->blinds + k,
			       1 + STORE_BLIND_BYTES);
			nb += 1 + STORE_BLIND_BYTES;
			continue;
		}
		if ((err = store_identifier_delete(
		             v->store, c->rowid, subj->blinds[k],
		             subj->blinds + k + 1, msg)) != VAERN_OK)
			return err;
	}
	if (!partial) {
		/* GDPR-17: the wrapped key goes with the subject row. */
		rep->shredded = 1;
		return store_subject_delete(v->store, subj->rowid, msg);
	}
	if ((err = store_subject_set_blinds(v->store, subj->rowid, blinds, nb,
	                                    msg)) != VAERN_OK)
		return err;
	/* AURA-RIGHTS-1: data the request does not concern stays as it
	 * is; only what the law keeps is restricted (GDPR-18). */
	if (rep->nkept == 0)
		return VAERN_OK;
	/* GDPR-17, AOPT-ERASE-1: what the law keeps is dated by the law
	 * alone from now on (vlt_retention_recompute), and this restriction
	 * does not hold the sweep: the law's date is the sweep's. */
	return store_subject_set_state(
	        v->store, subj->rowid,
	        subj->state | STORE_STATE_RESTRICTED | STORE_STATE_ERASED, msg);
}

/*
 * Reads the subject's events and facts and decides, fact by fact, what a
 * legal obligation keeps (erase_plan). *wp and *keepp are the caller's to
 * free with erase_free, also on failure.
 */
static enum vaern_err
erase_prepare(struct vault *v, const struct controller *c,
              const struct store_subject *subj, struct erase_walk **wp,
              unsigned char **keepp, struct vault_erasure *rep,
              struct vaern_msg *msg)
{
	struct erase_walk *w;
	enum vaern_err err;

	*keepp = NULL;
	if ((*wp = w = calloc(1, sizeof(*w))) == NULL ||
	    (w->facts = calloc(ERASE_FACTS_MAX, sizeof(*w->facts))) == NULL ||
	    (*keepp = calloc(ERASE_FACTS_MAX, 1)) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	w->p = c->policy;
	w->msg = msg;
	if ((err = store_event_foreach(v->store, subj->rowid, erase_event, w,
	                               msg)) != VAERN_OK ||
	    (err = store_fact_foreach(v->store, subj->rowid, erase_fact_collect,
	                              w, msg)) != VAERN_OK)
		return err;
	return erase_plan(c->policy, w, *keepp, rep, clock_now(), msg);
}

static void
erase_free(struct erase_walk *w, unsigned char *keep)
{
	if (w != NULL)
		free(w->facts);
	free(w);
	free(keep);
}

/* The categories kept, comma-separated (ids, never values). */
static void
erase_kept_categories(const struct vault_erasure *rep, char *cats, size_t size)
{
	cats[0] = '\0';
	for (size_t k = 0; k < rep->nkept; k++) {
		size_t len = strlen(cats);

		(void)snprintf(cats + len, size - len, "%s%s", k ? "," : "",
		               rep->kept[k].category);
	}
}

/* The local operator's upkeep of the vault, audited as the CLI audits
 * the operator (purpose vault_operation; ids and counts only). */
static enum vaern_err
audit_operator(struct vault *v, const char *controller,
               const struct vault_request_actor *who, const char *action,
               const unsigned char *uid, const char *categories,
               const char *reason, struct vaern_msg *msg)
{
	struct vault_audit_event e;

	memset(&e, 0, sizeof(e));
	e.controller = controller;
	e.actor = who->name;
	e.role = who->role;
	e.purpose = "vault_operation";
	e.action = action;
	e.subject = uid;
	e.categories = categories != NULL && categories[0] ? categories : NULL;
	e.allowed = 1;
	e.rule = "GDPR-17";
	e.reason = reason;
	return v->audit_fn(v->audit_arg, &e, msg);
}

/* The reasons an operator may give for destroying what the law keeps:
 * words, never free text, as they go into the audit trail. */
static const char *const override_reasons[] = {"court_order", "authority_order",
                                               "wrong_subject",
                                               "unlawfully_collected", NULL};

enum vaern_err
vault_operator_erase(struct vault *v, const char *controller,
                     const unsigned char uid[VAULT_UID_BYTES],
                     const struct vault_request_actor *who,
                     const char *override, struct vault_erasure *rep,
                     struct vaern_msg *msg)
{
	struct controller *c;
	struct store_subject subj;
	struct erase_walk *w = NULL;
	unsigned char *keep = NULL;
	enum vaern_err err;
	char cats[AUDIT_CATS_MAX], why[AUDIT_WHY_MAX];
	size_t k;
	int held = 0;

	memset(rep, 0, sizeof(*rep));
	if ((err = vlt_need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if (override != NULL) {
		for (k = 0; override_reasons[k] != NULL; k++)
			if (strcmp(override_reasons[k], override) == 0)
				break;
		if (override_reasons[k] == NULL)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "--destroy-legally-kept-data: the "
			                  "reason is one "
			                  "of court_order, authority_order, "
			                  "wrong_subject, "
			                  "unlawfully_collected");
	}
	if ((err = vlt_subject(v, controller, uid, &c, &subj, msg)) != VAERN_OK)
		return err;
	/* CEK-HOLD-1: held data is never erased while the hold stands, not
	 * even by the override. */
	if ((err = vlt_subject_held(v, subj.rowid, NULL, &held, msg)) !=
	    VAERN_OK)
		goto done;
	if (held) {
		err = vaern_fail(msg, VAERN_E_DENIED,
		                 "the subject is under a legal hold "
		                 "(CEK-HOLD-1): lift the hold first");
		goto done;
	}
	if ((err = erase_prepare(v, c, &subj, &w, &keep, rep, msg)) != VAERN_OK)
		goto done;
	erase_kept_categories(rep, cats, sizeof(cats));
	if (override != NULL) {
		size_t n = 0;

		/* The loud way: everything goes, the law's share too, and
		 * the trail says so, with the reason and what the law
		 * kept, before it happens. */
		(void)snprintf(why, sizeof(why),
		               "OVERRIDE of GDPR-17(3): data kept by a legal "
		               "obligation destroyed (reason: %s; kept "
		               "categories: %.300s)",
		               override, rep->nkept ? cats : "none");
		if ((err = audit_operator(v, c->name, who, "erase_override",
		                          uid, cats, why, msg)) != VAERN_OK ||
		    (err = vault_subject_erase(v, controller, uid, &n, msg)) !=
		            VAERN_OK)
			goto done;
		memset(rep, 0, sizeof(*rep));
		rep->erased = n;
		rep->shredded = 1;
		goto done;
	}
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		goto done;
	err = erase_write(v, c, &subj, w, keep, rep, msg);
	if ((err = vlt_end(v, err, msg)) != VAERN_OK)
		goto done;
	/* The erased rows' pages leave the write-ahead log (GDPR-17). */
	if (!v->batch)
		(void)store_checkpoint(v->store, NULL);
	(void)snprintf(why, sizeof(why),
	               "erased by the local operator: %zu facts, %zu "
	               "categories kept by law",
	               rep->erased, rep->nkept);
	err = audit_operator(v, c->name, who, "erase", uid, cats, why, msg);
done:
	erase_free(w, keep);
	return err;
}

enum vaern_err
vault_request_erase(struct vault *v, const char *controller, const char *id,
                    const struct vault_request_actor *who,
                    struct vault_erasure *rep, struct vault_request *out,
                    struct vaern_msg *msg)
{
	struct controller *c;
	struct store_request s;
	struct store_subject subj;
	struct erase_walk *w = NULL;
	struct vault_audit_event e;
	unsigned char *keep = NULL;
	enum rights_status from;
	enum vaern_err err;
	int held = 0, gone = 0;
	struct vlt_contact ct = {{0}, NULL, 0};
	char was[STORE_WORD_MAX + 1], why[160], cats[AUDIT_CATS_MAX];

	memset(rep, 0, sizeof(*rep));
	if ((err = vlt_need_audit(v, who, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_request_load(v, controller, id, &c, &s, msg)) !=
	            VAERN_OK ||
	    (err = rights_status_parse(s.status, &from, msg)) != VAERN_OK)
		return err;
	if (strcmp(s.type, rights_type_name(RIGHTS_ERASURE)) != 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the request is a %s request, not erasure",
		                  s.type);
	if ((err = rights_transition(from, RIGHTS_COMPLETED,
	                             s.verified_at != STORE_NO_TIME, msg)) !=
	    VAERN_OK)
		return err;
	err = store_subject_by_uid(v->store, c->rowid, s.subject, &subj, msg);
	if (err == VAERN_E_NOTFOUND)
		gone = 1; /* erased before: nothing left to erase */
	else if (err != VAERN_OK)
		return err;
	if (!gone) {
		/* CEK-HOLD-1: held data is never erased while the hold
		 * stands. */
		if ((err = vlt_subject_held(v, subj.rowid, NULL, &held, msg)) !=
		    VAERN_OK)
			return err;
		if (held)
			return vaern_fail(
			        msg, VAERN_E_DENIED,
			        "the subject is under a legal hold "
			        "(CEK-HOLD-1): lift the hold first, or "
			        "refuse the request with the reason");
		/* GDPR-12: the answer goes to the address the erasure
		 * removes, read now. */
		if ((err = vlt_request_contact(v, c, s.id, s.subject, who, &ct,
		                               msg)) != VAERN_OK)
			goto done;
		if ((err = erase_prepare(v, c, &subj, &w, &keep, rep, msg)) !=
		            VAERN_OK ||
		    (err = erase_scope(v, c->policy, s.rowid, w, keep, rep,
		                       msg)) != VAERN_OK)
			goto done;
	} else {
		rep->shredded = 1;
	}
	vlt_word_copy(was, sizeof(was), s.status);
	vlt_word_copy(s.status, sizeof(s.status),
	              rights_status_name(RIGHTS_COMPLETED));
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		goto done;
	if (!gone)
		err = erase_write(v, c, &subj, w, keep, rep, msg);
	erase_reason(rep, s.status_reason, sizeof(s.status_reason));
	if (err == VAERN_OK)
		err = vlt_request_write(v, &s, was, who, s.status_reason, msg);
	erase_kept_categories(rep, cats, sizeof(cats));
	(void)snprintf(why, sizeof(why),
	               "request %s (erasure): %s -> completed; %zu facts "
	               "erased, %zu categories kept by law",
	               s.id, was, rep->erased, rep->nkept);
	/* Kept categories are ids, not values: they may be named. The entry
	 * commits with the erasure (issue 12). */
	vlt_request_event(&e, controller, who, "request_erasure", s.subject,
	                  cats, 1, "GDPR-17", why);
	err = vlt_change_end(v, err, &e, msg);
	/* The erased rows' pages leave the write-ahead log (GDPR-17); after
	 * the commit, whatever the hook said. */
	if (!v->batch)
		(void)store_checkpoint(v->store, NULL);
	if (err != VAERN_OK)
		goto done;
	if ((err = vlt_request_notify(v, controller, c, &s, who, &ct, msg)) !=
	    VAERN_OK)
		goto done;
	err = vlt_request_out(&s, out, msg);
done:
	erase_free(w, keep);
	vlt_contact_wipe(&ct);
	return err;
}
