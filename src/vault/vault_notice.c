/*
 * vault_notice.c -- told before a new purpose is used (CEK-PURP-5, issue
 * 15 point 4): what a loaded version made new or widened is recorded
 * with the load (vlt_changes_record), kept per controller while its
 * policy is in force (vlt_changes_read), and turned into the gate's
 * `untold` per person (vlt_untold); vault_policy_notices gives the plan
 * and sends the notices through the outbox.
 */
#include "vault_notice.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../render/render.h"
#include "../store/store_notice.h"
#include "vault_internal.h"

#define NOTICE_PURPOSE  "policy_change_notice" /* the audit entries' */
#define NOTICE_RULE     "CEK-PURP-5"
#define NOTICE_BODY_MAX 4096

/* What is new or widened in the policy in force, by purpose index. */
struct vlt_changes {
	size_t n;           /* the policy's purposes */
	unsigned char *has; /* [n]: 1 if a version changed it */
	int64_t *since;     /* [n]: the newest such version's load */
	char (*version)[VAULT_POLICY_VERSION_LEN + 1]; /* [n]: its digest */
	char (*what)[STORE_CHANGE_WHAT_MAX];           /* [n]: what changed */
};

void
vlt_changes_free(struct vlt_changes *ch)
{
	if (ch == NULL)
		return;
	free(ch->has);
	free(ch->since);
	free(ch->version);
	free(ch->what);
	free(ch);
}

/* ---- what a version changed ------------------------------------------- */

static int
has_index(const size_t *a, size_t n, size_t x)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] == x)
			return 1;
	return 0;
}

/* Appends s to out (size n, NUL-ended), truncating. */
static void
cat(char *out, size_t n, const char *s)
{
	size_t len = strlen(out), k = strlen(s);

	if (len + 1 >= n)
		return;
	if (k > n - 1 - len)
		k = n - 1 - len;
	memcpy(out + len, s, k);
	out[len + k] = '\0';
}

/* Appends s to out, after sep unless out is empty. */
static void
append(char *out, size_t n, const char *sep, const char *s)
{
	if (out[0] != '\0')
		cat(out, n, sep);
	cat(out, n, s);
}

/*
 * What purpose npi of b widens over a (the previous version), into what
 * ("" if nothing): new purpose, new categories, a new legal basis or
 * Art. 9 condition, a new recipient.
 */
static void
purpose_change(const struct policy *a, const struct policy *b, size_t npi,
               char what[STORE_CHANGE_WHAT_MAX])
{
	const struct policy_purpose *np = &b->purposes[npi];
	long opi = policy_purpose_index(a, np->id);
	const struct policy_purpose *op;
	char list[STORE_CHANGE_WHAT_MAX];

	what[0] = '\0';
	if (opi < 0) {
		append(what, STORE_CHANGE_WHAT_MAX, "; ", "new purpose");
		return;
	}
	op = &a->purposes[opi];
	list[0] = '\0';
	for (size_t i = 0; i < np->ncategories; i++) {
		long oc = policy_category_index(
		        a, b->categories[np->categories[i]].id);

		if (oc < 0 ||
		    !has_index(op->categories, op->ncategories, (size_t)oc))
			append(list, sizeof(list), ", ",
			       b->categories[np->categories[i]].id);
	}
	if (list[0] != '\0') {
		append(what, STORE_CHANGE_WHAT_MAX, "; ", "new categories: ");
		cat(what, STORE_CHANGE_WHAT_MAX, list);
	}
	/* A weaker basis: one the purpose did not rest on before, other than
	 * the person's own consent (which the gate asks for anyway). */
	if ((np->basis & ~op->basis & ~(unsigned)BASIS_A) != 0 ||
	    (np->art9 != 0 && np->art9 != 'a' && np->art9 != op->art9))
		append(what, STORE_CHANGE_WHAT_MAX, "; ", "new legal basis");
	list[0] = '\0';
	for (size_t r = 0; r < b->nrecipients; r++) {
		const struct policy_recipient *nr = &b->recipients[r];
		long orr = policy_recipient_index(a, nr->id);

		if (!has_index(nr->purposes, nr->npurposes, npi))
			continue;
		if (orr < 0 ||
		    !has_index(a->recipients[orr].purposes,
		               a->recipients[orr].npurposes, (size_t)opi))
			append(list, sizeof(list), ", ", nr->id);
	}
	if (list[0] != '\0') {
		append(what, STORE_CHANGE_WHAT_MAX, "; ", "new recipients: ");
		cat(what, STORE_CHANGE_WHAT_MAX, list);
	}
}

enum vaern_err
vlt_changes_record(struct vault *v, const char *controller,
                   const char *old_text, size_t old_len, const struct policy *b,
                   const char *version, int64_t since, struct vaern_msg *msg)
{
	struct policy_diags *diags = calloc(1, sizeof(*diags));
	struct policy *a = NULL;
	enum vaern_err err = VAERN_OK;

	if (diags == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	/* The version in force until now no longer compiles: nothing to
	 * compare with, so every purpose counts as new. */
	if (policy_load_buffer(old_text, old_len, &a, diags) != VAERN_OK)
		a = NULL;
	for (size_t i = 0; i < b->npurposes && err == VAERN_OK; i++) {
		char what[STORE_CHANGE_WHAT_MAX];

		if (a != NULL)
			purpose_change(a, b, i, what);
		else
			(void)snprintf(what, sizeof(what), "new purpose");
		if (what[0] != '\0')
			err = store_purpose_change_add(
			        v->store, controller, version,
			        b->purposes[i].id, what, since, msg);
	}
	policy_free(a);
	free(diags);
	return err;
}

/* ---- the changes in force, per controller ------------------------------ */

static enum vaern_err
change_one(void *arg, const struct store_purpose_change *pc)
{
	struct controller *c = arg;
	struct vlt_changes *ch = c->changes;
	long pi = policy_purpose_index(c->policy, pc->purpose);

	/* A purpose since removed is not in force; a later change of the
	 * same purpose supersedes an earlier one. */
	if (pi < 0)
		return VAERN_OK;
	ch->has[pi] = 1;
	ch->since[pi] = pc->since;
	(void)snprintf(ch->version[pi], sizeof(ch->version[pi]), "%s",
	               pc->version);
	(void)snprintf(ch->what[pi], sizeof(ch->what[pi]), "%s", pc->what);
	return VAERN_OK;
}

enum vaern_err
vlt_changes_read(struct vault *v, struct controller *c, struct vaern_msg *msg)
{
	struct vlt_changes *ch;
	size_t n = c->policy->npurposes + 1;
	enum vaern_err err;

	vlt_changes_free(c->changes);
	c->changes = NULL;
	if ((ch = calloc(1, sizeof(*ch))) == NULL ||
	    (ch->has = calloc(n, 1)) == NULL ||
	    (ch->since = calloc(n, sizeof(*ch->since))) == NULL ||
	    (ch->version = calloc(n, sizeof(*ch->version))) == NULL ||
	    (ch->what = calloc(n, sizeof(*ch->what))) == NULL) {
		vlt_changes_free(ch);
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	}
	ch->n = c->policy->npurposes;
	c->changes = ch;
	err = store_purpose_change_foreach(v->store, c->name, change_one, c,
	                                   msg);
	if (err != VAERN_OK) {
		vlt_changes_free(ch);
		c->changes = NULL;
	}
	return err;
}

/* The instant from which a person told at told_at may have the changed
 * purposes used for their data: the notice period from told_at, ended at
 * the first midnight (UTC) at or after its exact end. */
static int64_t
usable_from(const struct policy *p, int64_t told_at)
{
	long day = cal_day_of(told_at);
	int64_t into = told_at - (int64_t)day * 86400;
	long end = cal_add_period(day, p->controller.notice_period);

	return ((int64_t)end + (into > 0 ? 1 : 0)) * 86400;
}

enum vaern_err
vlt_untold(struct vault *v, const struct controller *c,
           const struct store_subject *s, const unsigned char *consent,
           unsigned char *untold, struct vaern_msg *msg)
{
	const struct vlt_changes *ch = c->changes;
	int64_t now = clock_now();
	enum vaern_err err;

	if (ch == NULL)
		return VAERN_OK;
	for (size_t i = 0; i < ch->n; i++) {
		int64_t told = 0;

		/* Added after the change: told by the notice in force. */
		if (!ch->has[i] || s->created_at >= ch->since[i])
			continue;
		/* A consent in force to a purpose that did not exist before
		 * was given after the change, knowing it (GDPR-7): told. */
		if (consent != NULL && consent[i] &&
		    strncmp(ch->what[i], "new purpose", 11) == 0)
			continue;
		if ((err = store_change_notice_get(v->store, c->name,
		                                   ch->version[i], s->rowid,
		                                   &told, msg)) != VAERN_OK)
			return err;
		untold[i] = told == 0 || now < usable_from(c->policy, told);
	}
	return VAERN_OK;
}

/* ---- the plan, and the messages ---------------------------------------- */

/* Tells one person of version (the purposes idx[0..n)) through the
 * outbox, records the day and audits it; *status says what happened. */
static enum vaern_err
tell(struct vault *v, struct controller *c, const struct store_subject *s,
     const char *version, const size_t *idx, size_t n,
     const struct vault_request_actor *who, const char **status,
     int64_t *told_at, struct vaern_msg *msg)
{
	const struct policy *p = c->policy;
	struct vlt_contact_find cf;
	struct vault_message m;
	struct vault_audit_event e;
	enum render_lang lang = render_policy_lang(p);
	int64_t now = clock_now();
	char title[256], body[NOTICE_BODY_MAX], why[160];
	enum vaern_err err;

	(void)snprintf(why, sizeof(why),
	               "the address for the notice of policy version %.12s",
	               version);
	err = vlt_contact_of(v, c, NOTICE_PURPOSE, why, s->uid, ID_NONE, who,
	                     &cf, msg);
	if (err == VAERN_E_INVALID || err == VAERN_E_NOTFOUND) {
		*status = "no_contact";
		return VAERN_OK;
	}
	if (err != VAERN_OK)
		return err;
	render_change_notice(p, lang, idx, n, cal_day_of(usable_from(p, now)),
	                     title, sizeof(title), body, sizeof(body));
	memset(&m, 0, sizeof(m));
	m.controller = c->name;
	m.request = "policy-change";
	m.contact_type = cf.want == ID_PHONE ? "phone" : "email";
	m.to = cf.value;
	m.title = title;
	m.body = body;
	/* Sent, then recorded and audited: the message is the act. A
	 * failed send records nothing; the next run tries again. */
	err = v->outbox_fn(v->outbox_arg, &m, msg);
	sodium_memzero(&cf, sizeof(cf));
	if (err != VAERN_OK)
		return err;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	(void)snprintf(why, sizeof(why),
	               "notice of policy version %.12s sent by %s; the new or "
	               "widened purposes apply from the end of the notice "
	               "period",
	               version, m.contact_type);
	memset(&e, 0, sizeof(e));
	e.controller = c->name;
	e.actor = who->name;
	e.role = who->role;
	e.purpose = NOTICE_PURPOSE;
	e.action = "policy_change_notice";
	e.subject = s->uid;
	e.allowed = 1;
	e.rule = NOTICE_RULE;
	e.reason = why;
	err = vlt_change_end(v,
	                     store_change_notice_put(v->store, c->name, version,
	                                             s->rowid, now, msg),
	                     &e, msg);
	if (err == VAERN_OK) {
		*status = "sent";
		*told_at = now;
	}
	return err;
}

/* One version's plan: its people, then the version with its counts. */
static enum vaern_err
plan_version(struct vault *v, struct controller *c, size_t first, int send,
             const int64_t *ids, size_t nids,
             const struct vault_request_actor *who,
             const struct vault_notices_out *out, struct vaern_msg *msg)
{
	const struct vlt_changes *ch = c->changes;
	const struct policy *p = c->policy;
	const char *version = ch->version[first];
	struct vault_notice_change vc;
	size_t *idx = calloc(ch->n + 1, sizeof(*idx)), n = 0;
	char *list = calloc(1, POLICY_ITEMS_MAX * 2 * STORE_CHANGE_WHAT_MAX);
	enum vaern_err err = VAERN_OK;

	if (idx == NULL || list == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	for (size_t i = first; i < ch->n; i++) {
		size_t len = strlen(list);

		if (!ch->has[i] || strcmp(ch->version[i], version) != 0)
			continue;
		idx[n++] = i;
		(void)snprintf(list + len,
		               POLICY_ITEMS_MAX * 2 * STORE_CHANGE_WHAT_MAX -
		                       len,
		               "%s%s (%s)", len > 0 ? "; " : "",
		               p->purposes[i].id, ch->what[i]);
	}
	memset(&vc, 0, sizeof(vc));
	vc.version = version;
	vc.since = ch->since[first];
	vc.purposes = list;
	for (size_t k = 0; k < nids && err == VAERN_OK; k++) {
		struct store_subject s;
		struct vault_notice_person vp;

		if ((err = store_subject_by_rowid(v->store, ids[k], &s, msg)) !=
		    VAERN_OK)
			break;
		/* Added after the change: told by the notice in force. An
		 * erased person's data is no longer used. */
		if (s.created_at >= vc.since || (s.state & STORE_STATE_ERASED))
			continue;
		memset(&vp, 0, sizeof(vp));
		vp.version = version;
		vp.subject = s.uid;
		if ((err = store_change_notice_get(v->store, c->name, version,
		                                   s.rowid, &vp.told_at,
		                                   msg)) != VAERN_OK)
			break;
		vp.status = vp.told_at != 0 ? "told" : "to_tell";
		if (vp.told_at == 0 && send &&
		    (err = tell(v, c, &s, version, idx, n, who, &vp.status,
		                &vp.told_at, msg)) != VAERN_OK)
			break;
		if (vp.told_at != 0) {
			vp.usable_from = usable_from(p, vp.told_at);
			vc.told++;
		} else if (strcmp(vp.status, "no_contact") == 0)
			vc.no_contact++;
		else
			vc.to_tell++;
		err = out->person(out->arg, &vp);
	}
	if (err == VAERN_OK)
		err = out->change(out->arg, &vc);
done:
	free(idx);
	free(list);
	return err;
}

enum vaern_err
vault_policy_notices(struct vault *v, const char *controller, int send,
                     const struct vault_request_actor *who,
                     const struct vault_notices_out *out, struct vaern_msg *msg)
{
	struct controller *c;
	int64_t *ids = NULL;
	size_t nids = 0;
	enum vaern_err err;

	if (send && v->outbox_fn == NULL)
		return vaern_fail(msg, VAERN_E_IO, "no outbox is set");
	if (send && v->audit_fn == NULL)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "notices of a change need the audit trail");
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if (c->changes == NULL && (err = vlt_changes_read(v, c, msg)))
		return err;
	{
		int any = 0;

		for (size_t i = 0; i < c->changes->n; i++)
			any |= c->changes->has[i];
		if (!any)
			return VAERN_OK; /* nothing new since anyone was added
			                  */
	}
	if ((err = store_subject_rowids(v->store, c->rowid, &ids, &nids,
	                                msg)) != VAERN_OK)
		return err;
	/* Each version once, at its first purpose. */
	for (size_t i = 0; i < c->changes->n && err == VAERN_OK; i++) {
		int seen = 0;

		if (!c->changes->has[i])
			continue;
		for (size_t k = 0; k < i && !seen; k++)
			seen = c->changes->has[k] &&
			       strcmp(c->changes->version[k],
			              c->changes->version[i]) == 0;
		if (!seen)
			err = plan_version(v, c, i, send, ids, nids, who, out,
			                   msg);
	}
	free(ids);
	return err;
}

/* ---- every controller, for the scheduled sweep ------------------------- */

static enum vaern_err
count_sent(void *arg, const struct vault_notice_person *p)
{
	if (strcmp(p->status, "sent") == 0)
		(*(int64_t *)arg)++;
	return VAERN_OK;
}

static enum vaern_err
ignore_change(void *arg, const struct vault_notice_change *c)
{
	(void)arg;
	(void)c;
	return VAERN_OK;
}

enum vaern_err
vault_policy_notices_send(struct vault *v, const char *controller,
                          const struct vault_request_actor *who, int64_t *sent,
                          struct vaern_msg *msg)
{
	struct vlt_names ns = {NULL, 0, 0};
	struct vault_notices_out out = {ignore_change, count_sent, sent};
	enum vaern_err err;

	*sent = 0;
	/* The names are read before any write. */
	err = controller != NULL
	              ? vlt_name_add(&ns, controller, 0)
	              : vault_controller_foreach(v, vlt_name_add, &ns, msg);
	if (err == VAERN_E_NOMEM)
		err = vaern_fail(msg, err, "out of memory");
	for (size_t i = 0; i < ns.n && err == VAERN_OK; i++)
		err = vault_policy_notices(v, ns.name[i], 1, who, &out, msg);
	free(ns.name);
	return err;
}
