/*
 * vault_retention.c -- when every fact goes, and the sweep that takes it
 * (issue 4; DESIGN.md "Retention").
 *
 * Each fact carries its expiry and the rule that decided it, computed by
 * src/retention from the policy and the subject's events, and recomputed
 * whenever an event is recorded. The sweep reads only what is due through
 * the (expires_at, rule) index; the plan counts from that index alone.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../common/crash.h"
#include "../common/utf8.h"
#include "../retention/retention.h"
#include "vault_internal.h"

#define EVENTS_MAX        256   /* events of one subject used for retention */
#define SWEEP_BATCH_FIRST 1024  /* due facts of a sweep's first page */
#define SWEEP_BATCH_MAX   16384 /* and of its largest (one transaction) */
#define ANON_DATA_MAX     2048  /* bytes of one anonymised record (JSON) */
#define SUBJECT_FACTS     4096  /* facts of one subject recomputed at once */
#define REASON_MAX        512   /* bytes of an audit reason (AUDIT_TEXT_MAX) */

/* ---- expiry of one fact ------------------------------------------------- */

struct events {
	const struct policy *p;
	struct retention_event ev[EVENTS_MAX];
	size_t n;
};

static enum vaern_err
event_collect(void *arg, const struct store_event *e)
{
	struct events *es = arg;
	long ei = policy_event_index(es->p, e->kind);

	if (ei < 0)
		return VAERN_OK; /* no longer in the policy: no anchor */
	if (es->n == EVENTS_MAX) {
		/* In time order: the oldest matter least. */
		memmove(es->ev, es->ev + 1,
		        (EVENTS_MAX - 1) * sizeof(es->ev[0]));
		es->n--;
	}
	es->ev[es->n].event = (size_t)ei;
	es->ev[es->n].at = e->at;
	es->n++;
	return VAERN_OK;
}

static enum vaern_err
events_load(struct vault *v, const struct controller *c, int64_t subject,
            struct events *es, struct vaern_msg *msg)
{
	es->p = c->policy;
	es->n = 0;
	return store_event_foreach(v->store, subject, event_collect, es, msg);
}

static void
rule_label(const struct controller *c, long rule, char out[VAULT_RULE_MAX + 1])
{
	(void)snprintf(out, VAULT_RULE_MAX + 1, "%s/%s", c->name,
	               c->policy->retention[rule].id);
}

/*
 * The expiry of a fact of category collected at collected_at, given the
 * subject's events: *expires_at (STORE_NO_TIME while no clock runs) and
 * the deciding rule's label into rule ("" if none).
 */
static enum vaern_err
fact_expiry(const struct controller *c, const char *category,
            int64_t collected_at, const struct events *es, int erased,
            int64_t *expires_at, char rule[VAULT_RULE_MAX + 1],
            struct vaern_msg *msg)
{
	struct retention_result r;
	long ci = policy_category_index(c->policy, category);
	enum vaern_err err;

	*expires_at = STORE_NO_TIME;
	rule[0] = '\0';
	if (ci < 0)
		return VAERN_OK; /* dropped from the policy: kept, shown */
	err = retention_fact_expiry(c->policy, (size_t)ci, collected_at,
	                            es ? es->ev : NULL, es ? es->n : 0, &r);
	if (err != VAERN_OK)
		return vaern_fail(msg, err,
		                  "category '%s': no retention rule holds it",
		                  category);
	/* GDPR-17, AOPT-ERASE-1: after an erasure only a legal obligation
	 * keeps a fact, so its date is the legal rule's whatever the other
	 * rules say (the date the erasure answer gave). */
	if (erased && r.legal && r.legal_rule >= 0) {
		r.expires_at = r.legal_until;
		r.rule = r.legal_rule;
	}
	if (r.expires_at != RETENTION_NEVER)
		*expires_at = r.expires_at;
	if (r.rule >= 0)
		rule_label(c, r.rule, rule);
	return VAERN_OK;
}

enum vaern_err
vlt_fact_expiry(const struct controller *c, const char *category,
                int64_t collected_at, int64_t *expires_at,
                char rule[VAULT_RULE_MAX + 1], struct vaern_msg *msg)
{
	return fact_expiry(c, category, collected_at, NULL, 0, expires_at, rule,
	                   msg);
}

/* ---- recompute ---------------------------------------------------------- */

struct fact_ref {
	int64_t id;
	int64_t collected_at;
	int64_t expires_at;
	char category[POLICY_NAME_MAX + 1];
};

struct fact_refs {
	struct fact_ref *items;
	size_t n, cap;
	struct vaern_msg *msg;
};

static enum vaern_err
ref_collect(void *arg, const struct store_fact *f)
{
	struct fact_refs *r = arg;
	size_t len = strlen(f->category);

	if (r->n == r->cap)
		return vaern_fail(r->msg, VAERN_E_LIMIT,
		                  "more than %d facts in one subject",
		                  SUBJECT_FACTS);
	if (len > POLICY_NAME_MAX)
		return vaern_fail(r->msg, VAERN_E_STORE,
		                  "a category is too long");
	r->items[r->n].id = f->id;
	r->items[r->n].collected_at = f->collected_at;
	r->items[r->n].expires_at = f->expires_at;
	memcpy(r->items[r->n].category, f->category, len + 1);
	r->n++;
	return VAERN_OK;
}

/* Inside the caller's transaction. */
enum vaern_err
vlt_retention_recompute(struct vault *v, const struct controller *c,
                        int64_t subject, struct vaern_msg *msg)
{
	struct events *es;
	struct fact_refs refs = {0};
	struct store_subject s;
	enum vaern_err err;
	int erased;

	es = malloc(sizeof(*es));
	refs.items = calloc(SUBJECT_FACTS, sizeof(*refs.items));
	refs.cap = SUBJECT_FACTS;
	refs.msg = msg;
	if (es == NULL || refs.items == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	if ((err = store_subject_by_rowid(v->store, subject, &s, msg)) !=
	    VAERN_OK)
		goto done;
	erased = (s.state & STORE_STATE_ERASED) != 0;
	if ((err = events_load(v, c, subject, es, msg)) != VAERN_OK ||
	    (err = store_fact_foreach(v->store, subject, ref_collect, &refs,
	                              msg)) != VAERN_OK)
		goto done;
	for (size_t i = 0; i < refs.n; i++) {
		char rule[VAULT_RULE_MAX + 1];
		int64_t exp;

		if ((err = fact_expiry(c, refs.items[i].category,
		                       refs.items[i].collected_at, es, erased,
		                       &exp, rule, msg)) != VAERN_OK ||
		    (err = store_fact_set_expiry(
		             v->store, subject, refs.items[i].id, exp,
		             rule[0] ? rule : NULL, msg)) != VAERN_OK)
			goto done;
	}
done:
	free(es);
	free(refs.items);
	return err;
}

enum vaern_err
vault_retention_recompute(struct vault *v, const char *controller,
                          const unsigned char uid[VAULT_UID_BYTES],
                          struct vaern_msg *msg)
{
	struct controller *c;
	struct store_subject s;
	enum vaern_err err;

	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = vlt_retention_recompute(v, c, s.rowid, msg);
	return vlt_end(v, err, msg);
}

/* ---- the sweep ---------------------------------------------------------- */

/* Holds in force, by subject, loaded once per sweep. */
struct hold_ref {
	int64_t subject;
	char category[POLICY_NAME_MAX + 1]; /* "" for the whole subject */
};

struct holds {
	struct hold_ref *items;
	size_t n, cap;
	struct vaern_msg *msg;
};

static enum vaern_err
hold_collect(void *arg, const struct store_hold *h)
{
	struct holds *hs = arg;
	size_t len = h->category ? strlen(h->category) : 0;

	if (hs->n == hs->cap) {
		size_t cap = hs->cap ? hs->cap * 2 : 64;
		struct hold_ref *p = realloc(hs->items, cap * sizeof(*p));

		if (p == NULL)
			return vaern_fail(hs->msg, VAERN_E_NOMEM,
			                  "out of memory");
		hs->items = p;
		hs->cap = cap;
	}
	if (len > POLICY_NAME_MAX)
		len = POLICY_NAME_MAX;
	hs->items[hs->n].subject = h->subject;
	memcpy(hs->items[hs->n].category, h->category ? h->category : "", len);
	hs->items[hs->n].category[len] = '\0';
	hs->n++;
	return VAERN_OK;
}

/*
 * GDPR-18: a subject whose processing is restricted is held whole, its
 * data only stored until the restriction is lifted (what an erasure left
 * is not: the law keeps it until its date, GDPR-17).
 */
static enum vaern_err
restricted_collect(void *arg, int64_t subject)
{
	struct store_hold h;

	memset(&h, 0, sizeof(h));
	h.subject = subject;
	return hold_collect(arg, &h);
}

static int
hold_by_subject(const void *a, const void *b)
{
	const struct hold_ref *x = a, *y = b;

	return (x->subject > y->subject) - (x->subject < y->subject);
}

/* The holds in force and the restricted subjects, sorted by subject. */
static enum vaern_err
holds_load(struct vault *v, struct holds *hs, struct vaern_msg *msg)
{
	enum vaern_err err;

	hs->n = 0;
	if ((err = store_hold_foreach(v->store, 0, hold_collect, hs, msg)) !=
	            VAERN_OK ||
	    (err = store_subject_restricted_foreach(
	             v->store, restricted_collect, hs, msg)) != VAERN_OK)
		return err;
	if (hs->n > 1)
		qsort(hs->items, hs->n, sizeof(*hs->items), hold_by_subject);
	return VAERN_OK;
}

/* Whether a hold covers category of subject (holds sorted by subject). */
static int
is_held(const struct holds *hs, int64_t subject, const char *category)
{
	size_t lo = 0, hi = hs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (hs->items[mid].subject < subject)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < hs->n && hs->items[lo].subject == subject; lo++) {
		if (hs->items[lo].category[0] == '\0' ||
		    strcmp(hs->items[lo].category, category) == 0)
			return 1;
	}
	return 0;
}

/*
 * What a rule or category label id of the due index means in the
 * policies, resolved once per sweep.
 */
struct label_ref {
	int64_t id;           /* the label id; 0: no rule */
	struct controller *c; /* rules: the rule's controller (NULL: not in
	                         any policy); categories: whose policy */
	long index;           /* into c's retention rules or categories;
	                         -1 if the policy no longer has it */
	char text[STORE_LABEL_MAX + 1]; /* "controller/rule" or the
	                                   category id */
};

struct label_refs {
	struct label_ref *items; /* malloc'ed, grows */
	size_t n, cap;
};

/* A fact of the subject being swept, with its labels resolved. */
struct subject_fact {
	struct store_fact_key k;
	size_t rule;     /* index into sweep.rules (when due) */
	size_t category; /* index into sweep.cats (when due) */
	int in_page;     /* its due entry is in the current page */
	int go;          /* due, not held, its rule known: it goes */
};

/* One sweep's state. */
struct sweep {
	struct vault *v;
	int64_t as_of;
	int dry_run;
	struct holds hs;            /* the holds in force */
	struct label_refs rules;    /* rule labels met so far */
	struct label_refs cats;     /* (category label, controller) met */
	struct subject_fact *facts; /* the subject being swept */
	size_t nfacts, facts_cap;   /* malloc'ed, grows */
	int64_t ahead; /* facts taken before their page came (a subject's
	                  facts of later pages), for the progress count */
	struct vault_sweep_report *rep;
	struct vaern_msg *msg;
};

static int
due_by_subject(const void *a, const void *b)
{
	const struct store_due *x = a, *y = b;

	if (x->subject != y->subject)
		return x->subject < y->subject ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Adds facts and visits to rule's line of rep. */
static void
count_rule_fv(struct vault_sweep_report *rep, const char *rule, int64_t facts,
              int64_t visits)
{
	for (size_t i = 0; i < rep->nrules; i++) {
		if (strcmp(rep->rules[i].rule, rule) == 0) {
			rep->rules[i].facts += facts;
			rep->rules[i].visits += visits;
			return;
		}
	}
	if (rep->nrules == VAULT_SWEEP_RULES_MAX) {
		rep->other_rules += facts + visits;
		return;
	}
	(void)snprintf(rep->rules[rep->nrules].rule, sizeof(rep->rules[0].rule),
	               "%s", rule);
	rep->rules[rep->nrules].facts = facts;
	rep->rules[rep->nrules++].visits = visits;
}

static void
count_rule_n(struct vault_sweep_report *rep, const char *rule, int64_t n)
{
	count_rule_fv(rep, rule, n, 0);
}

static void
count_rule(struct vault_sweep_report *rep, const char *rule)
{
	count_rule_n(rep, rule, 1);
}

int
vlt_rule_find(struct vault *v, const char *label, struct controller **c,
              long *rule)
{
	char name[POLICY_NAME_MAX + 1];
	const char *slash = strchr(label, '/');
	size_t n;

	if (slash == NULL || (n = (size_t)(slash - label)) > POLICY_NAME_MAX)
		return -1;
	memcpy(name, label, n);
	name[n] = '\0';
	if (vlt_controller(v, name, c, NULL) != VAERN_OK)
		return -1;
	for (size_t i = 0; i < (*c)->policy->nretention; i++) {
		if (strcmp((*c)->policy->retention[i].id, slash + 1) == 0) {
			*rule = (long)i;
			return 0;
		}
	}
	return -1;
}

/* Reading one fact's value (identifier blinds, anonymisation). */
struct value_read {
	char value[VAULT_VALUE_MAX + 1];
	size_t len;
};

static enum vaern_err
value_copy(void *arg, const struct vault_fact_out *f)
{
	struct value_read *r = arg;

	r->len = f->len < VAULT_VALUE_MAX ? f->len : VAULT_VALUE_MAX;
	memcpy(r->value, f->value, r->len);
	r->value[r->len] = '\0';
	return VAERN_OK;
}

static enum vaern_err
fact_value(struct vault *v, const struct store_subject *s,
           const unsigned char *key, int64_t id, struct value_read *out,
           struct vaern_msg *msg)
{
	struct fact_walk w;

	w.v = v;
	w.s = s;
	w.key = key;
	w.rel = NULL;
	w.withheld = NULL;
	w.fn = value_copy;
	w.arg = out;
	w.msg = msg;
	w.count = 0;
	return store_fact_get(v->store, s->rowid, id, vlt_fact_open_upkeep, &w,
	                      msg);
}

/* Removes the blind entry e (type byte + blind) from the subject's list. */
static void
blinds_remove(struct store_subject *s, const unsigned char *e)
{
	const size_t w = 1 + STORE_BLIND_BYTES;

	for (size_t k = 0; k + w <= s->blinds_len; k += w) {
		if (memcmp(s->blinds + k, e, w) == 0) {
			memmove(s->blinds + k, s->blinds + k + w,
			        s->blinds_len - k - w);
			s->blinds_len -= w;
			return;
		}
	}
}

/* Crypto-shreds the subject: identifiers, rows, and the wrapped key. */
static enum vaern_err
shred(struct vault *v, const struct store_subject *s, struct vaern_msg *msg)
{
	enum vaern_err err;

	for (size_t k = 0; k + 1 + STORE_BLIND_BYTES <= s->blinds_len;
	     k += 1 + STORE_BLIND_BYTES) {
		err = store_identifier_delete(v->store, s->controller,
		                              s->blinds[k], s->blinds + k + 1,
		                              msg);
		if (err != VAERN_OK)
			return err;
	}
	return store_subject_delete(v->store, s->rowid, msg);
}

/* Per-batch counts of one controller, for its audit entry. */
struct batch_counts {
	struct controller *c;
	struct vault_sweep_report r;
	char reason[REASON_MAX + 1]; /* the entry's reason: the counts */
	struct vault_audit_event ev; /* the entry, once in the outbox */
};

static struct batch_counts *
batch_slot(struct batch_counts *bc, size_t *n, struct controller *c)
{
	for (size_t i = 0; i < *n; i++) {
		if (bc[i].c == c)
			return &bc[i];
	}
	if (*n == VAULT_CONTROLLERS_MAX)
		return NULL;
	memset(&bc[*n], 0, sizeof(bc[*n]));
	bc[*n].c = c;
	return &bc[(*n)++];
}

/* Whether the batch b changed something (a page that only passed held
 * facts did not). */
static int
batch_changed(const struct batch_counts *b)
{
	return b->r.facts_deleted + b->r.facts_anonymised +
	               b->r.subjects_shredded + b->r.consents_expired +
	               b->r.visits_deleted !=
	       0;
}

/*
 * Inside the batch's transaction: b's audit entry (its counts by rule)
 * into the outbox, so the deletions and their entry commit as one (issue
 * 12: a crash between a commit and its entry once lost the entry).
 */
static enum vaern_err
audit_batch(struct vault *v, struct batch_counts *b, struct vaern_msg *msg)
{
	char *reason = b->reason;
	size_t off;

	off = (size_t)snprintf(
	        reason, sizeof(b->reason),
	        "deleted %lld, anonymised %lld, shredded %lld "
	        "subjects, held %lld, consents %lld, visits %lld; by rule:",
	        (long long)b->r.facts_deleted, (long long)b->r.facts_anonymised,
	        (long long)b->r.subjects_shredded, (long long)b->r.facts_held,
	        (long long)b->r.consents_expired,
	        (long long)b->r.visits_deleted);
	for (size_t i = 0; i < b->r.nrules && off < sizeof(b->reason); i++) {
		const char *slash = strchr(b->r.rules[i].rule, '/');
		const char *id = slash ? slash + 1 : b->r.rules[i].rule;

		if (b->r.rules[i].facts > 0 && off < sizeof(b->reason))
			off += (size_t)snprintf(
			        reason + off, sizeof(b->reason) - off,
			        " %s=%lld", id, (long long)b->r.rules[i].facts);
		if (b->r.rules[i].visits > 0 && off < sizeof(b->reason))
			off += (size_t)snprintf(
			        reason + off, sizeof(b->reason) - off,
			        " %s:visits=%lld", id,
			        (long long)b->r.rules[i].visits);
	}
	if (off >= sizeof(b->reason))
		reason[sizeof(b->reason) - 1] = '\0';
	memset(&b->ev, 0, sizeof(b->ev));
	b->ev.controller = b->c->name;
	b->ev.actor = "retention";
	b->ev.role = "retention";
	b->ev.purpose = "retention";
	b->ev.action = "retention_sweep";
	b->ev.allowed = 1;
	b->ev.rule = "GDPR-5(1)(e)";
	b->ev.reason = reason;
	return vault_audit_outbox(v, &b->ev, msg);
}

static void
report_add(struct vault_sweep_report *to, const struct vault_sweep_report *r)
{
	to->facts_deleted += r->facts_deleted;
	to->facts_anonymised += r->facts_anonymised;
	to->anon_records += r->anon_records;
	to->subjects_shredded += r->subjects_shredded;
	to->facts_held += r->facts_held;
	to->consents_expired += r->consents_expired;
	to->visits_deleted += r->visits_deleted;
	for (size_t i = 0; i < r->nrules; i++)
		count_rule_fv(to, r->rules[i].rule, r->rules[i].facts,
		              r->rules[i].visits);
	to->other_rules += r->other_rules;
}

/* An anonymised record being built for one subject and rule. */
struct anon {
	long rule;
	char data[ANON_DATA_MAX];
	size_t len;
	int any;
};

static void
anon_put(struct anon *a, const char *category, const char *value)
{
	int n;

	if (a->len == 0)
		a->len = (size_t)snprintf(a->data, sizeof(a->data), "{");
	/* Generalised values are digits, letters and '-' (year, area,
	 * band): no JSON escaping is needed. */
	n = snprintf(a->data + a->len, sizeof(a->data) - a->len,
	             "%s\"%s\":\"%s\"", a->any ? "," : "", category, value);
	if (n > 0 && (size_t)n < sizeof(a->data) - a->len - 1) {
		a->len += (size_t)n;
		a->any = 1;
	}
}

static enum vaern_err
label_slot(struct label_refs *l, struct vaern_msg *msg)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		struct label_ref *p = realloc(l->items, cap * sizeof(*p));

		if (p == NULL)
			return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		l->items = p;
		l->cap = cap;
	}
	memset(&l->items[l->n], 0, sizeof(l->items[0]));
	return VAERN_OK;
}

/* The rule of label id (0: none) as *at, an index into sw->rules. */
static enum vaern_err
rule_ref(struct sweep *sw, int64_t id, size_t *at)
{
	struct label_ref *l;
	enum vaern_err err;

	for (size_t i = 0; i < sw->rules.n; i++) {
		if (sw->rules.items[i].id == id) {
			*at = i;
			return VAERN_OK;
		}
	}
	if ((err = label_slot(&sw->rules, sw->msg)) != VAERN_OK)
		return err;
	l = &sw->rules.items[sw->rules.n];
	l->id = id;
	l->index = -1;
	if (id != 0) {
		if ((err = store_label_text(sw->v->store, id, l->text,
		                            sw->msg)) != VAERN_OK)
			return err;
		if (vlt_rule_find(sw->v, l->text, &l->c, &l->index) != 0) {
			l->c = NULL;
			l->index = -1;
		}
	}
	*at = sw->rules.n++;
	return VAERN_OK;
}

/* The category of label id in c's policy as *at, into sw->cats. */
static enum vaern_err
category_ref(struct sweep *sw, int64_t id, struct controller *c, size_t *at)
{
	struct label_ref *l;
	enum vaern_err err;

	for (size_t i = 0; i < sw->cats.n; i++) {
		if (sw->cats.items[i].id == id && sw->cats.items[i].c == c) {
			*at = i;
			return VAERN_OK;
		}
	}
	if ((err = label_slot(&sw->cats, sw->msg)) != VAERN_OK)
		return err;
	l = &sw->cats.items[sw->cats.n];
	l->id = id;
	l->c = c;
	if ((err = store_label_text(sw->v->store, id, l->text, sw->msg)) !=
	    VAERN_OK)
		return err;
	l->index = c != NULL ? policy_category_index(c->policy, l->text) : -1;
	*at = sw->cats.n++;
	return VAERN_OK;
}

static enum vaern_err
fact_key_collect(void *arg, const struct store_fact_key *k)
{
	struct sweep *sw = arg;

	if (sw->nfacts == sw->facts_cap) {
		size_t cap = sw->facts_cap ? 2 * sw->facts_cap : 64;
		struct subject_fact *p = realloc(sw->facts, cap * sizeof(*p));

		if (p == NULL)
			return vaern_fail(sw->msg, VAERN_E_NOMEM,
			                  "out of memory");
		sw->facts = p;
		sw->facts_cap = cap;
	}
	memset(&sw->facts[sw->nfacts], 0, sizeof(sw->facts[0]));
	sw->facts[sw->nfacts++].k = *k;
	return VAERN_OK;
}

/*
 * Reads the subject's facts and decides which go: due, not held, of a
 * rule the policy still has, of the subject's controller (*c, the first
 * such rule's). Those of the page (pe[0..npe), sorted by id) are marked;
 * held ones of the page are counted (each held fact once per sweep: the
 * page passes it once). *remains: a fact stays.
 */
static enum vaern_err
subject_plan(struct sweep *sw, const struct store_due *pe, size_t npe,
             struct controller **c, int *remains, size_t *ngo,
             struct batch_counts *bc, size_t *nbc)
{
	int64_t subject = pe[0].subject;
	size_t k = 0;
	enum vaern_err err;

	*c = NULL;
	*remains = 0;
	*ngo = 0;
	sw->nfacts = 0;
	if ((err = store_fact_key_foreach(sw->v->store, subject,
	                                  fact_key_collect, sw, sw->msg)) !=
	    VAERN_OK)
		return err;
	for (size_t i = 0; i < sw->nfacts; i++) {
		struct subject_fact *f = &sw->facts[i];

		while (k < npe && pe[k].id < f->k.id)
			k++;
		f->in_page = k < npe && pe[k].id == f->k.id;
		if (f->k.expires_at == STORE_NO_TIME ||
		    f->k.expires_at > sw->as_of)
			continue;
		if ((err = rule_ref(sw, f->k.rule, &f->rule)) != VAERN_OK)
			return err;
		if (*c == NULL)
			*c = sw->rules.items[f->rule].c;
	}
	for (size_t i = 0; i < sw->nfacts; i++) {
		struct subject_fact *f = &sw->facts[i];
		const struct label_ref *rl, *cl;

		if (f->k.expires_at == STORE_NO_TIME ||
		    f->k.expires_at > sw->as_of) {
			*remains = 1;
			continue;
		}
		rl = &sw->rules.items[f->rule];
		if ((err = category_ref(sw, f->k.category, rl->c,
		                        &f->category)) != VAERN_OK)
			return err;
		cl = &sw->cats.items[f->category];
		if (is_held(&sw->hs, subject, cl->text)) {
			struct batch_counts *b =
			        sw->dry_run || *c == NULL
			                ? NULL
			                : batch_slot(bc, nbc, *c);

			if (f->in_page) {
				if (b != NULL)
					b->r.facts_held++;
				else
					sw->rep->facts_held++;
			}
			*remains = 1;
			continue;
		}
		if (rl->c == NULL || rl->c != *c || cl->index < 0) {
			*remains = 1; /* the policy changed: kept, plan shows */
			continue;
		}
		f->go = 1;
		(*ngo)++;
	}
	return VAERN_OK;
}

/* Whether every due fact of the subject goes, by deletion, and none is an
 * identifier (whose blind index goes with it). */
static int
all_plain(const struct sweep *sw, const struct controller *c)
{
	for (size_t i = 0; i < sw->nfacts; i++) {
		const struct subject_fact *f = &sw->facts[i];
		long r, ci;

		if (f->k.expires_at == STORE_NO_TIME ||
		    f->k.expires_at > sw->as_of)
			continue;
		if (!f->go)
			return 0; /* held or kept: not every due fact */
		r = sw->rules.items[f->rule].index;
		ci = sw->cats.items[f->category].index;
		if (c->policy->retention[r].action != RETENTION_DELETE ||
		    c->policy->categories[ci].format == FORMAT_IDENTIFIER)
			return 0;
	}
	return 1;
}

/*
 * Sweeps one subject inside the open transaction: every due fact of it,
 * not only those of the page, so the subject is whole in one
 * transaction (killed half-way, nothing of it is half-deleted). The
 * subject row is read only to unwrap its key (identifiers, anonymised
 * survivors) or to shred it. Dry: counts the page's entries only.
 */
static enum vaern_err
sweep_subject(struct sweep *sw, const struct store_due *pe, size_t npe,
              struct batch_counts *bc, size_t *nbc)
{
	struct vault *v = sw->v;
	struct vaern_msg *msg = sw->msg;
	struct store_subject s;
	struct controller *c;
	struct batch_counts *b;
	unsigned char key[KEY_BYTES];
	struct value_read *val = NULL;
	struct anon anon[8];
	size_t nanon = 0, ngo;
	int have_row = 0, have_key = 0, blinds_dirty = 0, remains;
	enum vaern_err err;

	if ((err = subject_plan(sw, pe, npe, &c, &remains, &ngo, bc, nbc)) !=
	            VAERN_OK ||
	    ngo == 0)
		return err;
	if (sw->dry_run) {
		for (size_t i = 0; i < sw->nfacts; i++) {
			const struct subject_fact *f = &sw->facts[i];
			const struct label_ref *rl = &sw->rules.items[f->rule];

			if (!f->go || !f->in_page)
				continue;
			if (c->policy->retention[rl->index].action ==
			    RETENTION_ANONYMISE)
				sw->rep->facts_anonymised++;
			else
				sw->rep->facts_deleted++;
			count_rule(sw->rep, rl->text);
		}
		return VAERN_OK;
	}
	if ((b = batch_slot(bc, nbc, c)) == NULL)
		return VAERN_OK; /* more controllers than a vault loads */
	if (all_plain(sw, c)) {
		int64_t n;

		/* The common case in one statement: every due fact goes
		 * and none needs its value. */
		if ((err = store_fact_delete_due(v->store, pe[0].subject,
		                                 sw->as_of, &n, msg)) !=
		    VAERN_OK)
			goto done;
		for (size_t i = 0; i < sw->nfacts; i++) {
			const struct subject_fact *f = &sw->facts[i];

			if (!f->go)
				continue;
			b->r.facts_deleted++;
			count_rule(&b->r, sw->rules.items[f->rule].text);
			if (!f->in_page)
				sw->ahead++;
		}
		goto left;
	}
	for (size_t i = 0; i < sw->nfacts; i++) {
		struct subject_fact *f = &sw->facts[i];
		const struct label_ref *rl = &sw->rules.items[f->rule];
		const struct policy_retention *pr;
		const struct policy_category *cat;
		long r = rl->index, ci;

		if (!f->go)
			continue;
		ci = sw->cats.items[f->category].index;
		pr = &c->policy->retention[r];
		cat = &c->policy->categories[ci];
		if (cat->format == FORMAT_IDENTIFIER ||
		    pr->action == RETENTION_ANONYMISE) {
			if (!have_row) {
				err = store_subject_by_rowid(
				        v->store, pe[0].subject, &s, msg);
				if (err != VAERN_OK) {
					/* Facts of no subject: left alone. */
					if (err == VAERN_E_NOTFOUND)
						err = VAERN_OK;
					goto done;
				}
				have_row = 1;
			}
			if (!have_key) {
				if ((err = vlt_unwrap_key(v, &s, key, msg)))
					goto done;
				have_key = 1;
			}
			if (val == NULL &&
			    (val = sodium_malloc(sizeof(*val))) == NULL) {
				err = vaern_fail(msg, VAERN_E_NOMEM,
				                 "out of memory");
				goto done;
			}
			if ((err = fact_value(v, &s, key, f->k.id, val, msg)))
				goto done;
		}
		if (cat->format == FORMAT_IDENTIFIER) {
			unsigned char e[1 + STORE_BLIND_BYTES];

			e[0] = (unsigned char)cat->identifier;
			vlt_blind_index(vlt_blind_key(v, c), cat->identifier,
			                cat->id, val->value, e + 1);
			err = store_identifier_delete(v->store, c->rowid, e[0],
			                              e + 1, msg);
			if (err != VAERN_OK && err != VAERN_E_NOTFOUND)
				goto done;
			blinds_remove(&s, e);
			blinds_dirty = 1;
		}
		if (pr->action == RETENTION_ANONYMISE) {
			size_t k;
			char out[64];

			for (k = 0; k < nanon && anon[k].rule != r; k++)
				;
			if (k == nanon &&
			    nanon < sizeof(anon) / sizeof(*anon)) {
				memset(&anon[nanon], 0, sizeof(anon[0]));
				anon[nanon++].rule = r;
			}
			for (size_t j = 0; j < pr->nkeep && k < nanon; j++) {
				if (pr->keep[j] != (size_t)ci)
					continue;
				if (pr->keep_as[j] == GENERALISE_DROP)
					continue;
				if (retention_generalise(
				            pr->keep_as[j], val->value,
				            (long)(sw->as_of / 86400), out,
				            sizeof(out), NULL) == VAERN_OK)
					anon_put(&anon[k], cat->id, out);
			}
			b->r.facts_anonymised++;
		} else {
			b->r.facts_deleted++;
		}
		if ((err = store_fact_delete(v->store, pe[0].subject, f->k.id,
		                             msg)) != VAERN_OK &&
		    err != VAERN_E_NOTFOUND)
			goto done;
		err = VAERN_OK;
		if (!f->in_page)
			sw->ahead++;
		count_rule(&b->r, rl->text);
	}
	for (size_t k = 0; k < nanon; k++) {
		char label[VAULT_RULE_MAX + 1];

		if (!anon[k].any)
			continue;
		anon[k].data[anon[k].len++] = '}';
		anon[k].data[anon[k].len] = '\0';
		rule_label(c, anon[k].rule, label);
		if ((err = store_anon_insert(v->store, c->rowid, label,
		                             sw->as_of, anon[k].data, msg)) !=
		    VAERN_OK)
			goto done;
		b->r.anon_records++;
	}
	if (blinds_dirty &&
	    (err = store_subject_set_blinds(v->store, s.rowid, s.blinds,
	                                    s.blinds_len, msg)) != VAERN_OK)
		goto done;
left:
	/* Nothing left of its facts: consent records kept on their own? */
	if (!remains &&
	    (err = store_subject_remains(v->store, pe[0].subject, sw->as_of,
	                                 &remains, msg)) != VAERN_OK)
		goto done;
	if (!remains) {
		if (!have_row) {
			err = store_subject_by_rowid(v->store, pe[0].subject,
			                             &s, msg);
			if (err == VAERN_E_NOTFOUND) {
				err = VAERN_OK;
				goto done;
			}
			if (err != VAERN_OK)
				goto done;
		}
		if ((err = shred(v, &s, msg)) != VAERN_OK)
			goto done;
		b->r.subjects_shredded++;
	}
done:
	if (have_key)
		sodium_memzero(key, sizeof(key));
	if (val != NULL)
		sodium_free(val);
	for (size_t k = 0; k < nanon; k++)
		sodium_memzero(anon[k].data, sizeof(anon[k].data));
	return err;
}

/*
 * Commits the batch with each controller's audit entry (its counts) in
 * the outbox, then hands the entries to the audit hook, which moves
 * them into the trail.
 */
static enum vaern_err
batch_end(struct vault *v, enum vaern_err err, struct batch_counts *bc,
          size_t nbc, struct vault_sweep_report *rep, struct vaern_msg *msg)
{
	for (size_t i = 0; i < nbc && err == VAERN_OK; i++) {
		if (batch_changed(&bc[i]))
			err = audit_batch(v, &bc[i], msg);
	}
	if ((err = vlt_end(v, err, msg)) != VAERN_OK)
		return err;
	crash_point("sweep_committed");
	for (size_t i = 0; i < nbc; i++) {
		report_add(rep, &bc[i].r);
		if (batch_changed(&bc[i]) &&
		    (err = v->audit_fn(v->audit_arg, &bc[i].ev, msg)) !=
		            VAERN_OK)
			return err;
	}
	return VAERN_OK;
}

static enum vaern_err
sweep_consents(struct vault *v, int64_t now, int dry_run,
               struct vault_sweep_report *rep, struct vaern_msg *msg)
{
	int64_t subjects[256], purposes[256];
	size_t n;
	enum vaern_err err;

	for (;;) {
		struct batch_counts bc[VAULT_CONTROLLERS_MAX];
		size_t nbc = 0;

		if ((err = store_consent_due(v->store, now, subjects, purposes,
		                             256, &n, msg)) != VAERN_OK)
			return err;
		if (n == 0)
			return VAERN_OK;
		if (dry_run) {
			rep->consents_expired += (int64_t)n;
			return VAERN_OK; /* the due set does not shrink */
		}
		if ((err = vlt_begin(v, msg)) != VAERN_OK)
			return err;
		for (size_t i = 0; i < n && err == VAERN_OK; i++) {
			struct store_subject s;
			struct batch_counts *b = NULL;
			int remains;

			err = store_subject_by_rowid(v->store, subjects[i], &s,
			                             msg);
			if (err != VAERN_OK)
				break;
			for (size_t k = 0; k < v->nctrl && b == NULL; k++) {
				if (v->ctrl[k].rowid == s.controller)
					b = batch_slot(bc, &nbc, &v->ctrl[k]);
			}
			if ((err = store_consent_delete(v->store, s.rowid,
			                                purposes[i], msg)) ||
			    (err = store_subject_remains(v->store, s.rowid, now,
			                                 &remains, msg)))
				break;
			if (b != NULL)
				b->r.consents_expired++;
			else
				rep->consents_expired++;
			if (!remains) {
				if ((err = shred(v, &s, msg)) != VAERN_OK)
					break;
				if (b != NULL)
					b->r.subjects_shredded++;
				else
					rep->subjects_shredded++;
			}
		}
		if ((err = batch_end(v, err, bc, nbc, rep, msg)) != VAERN_OK)
			return err;
	}
}

/* ---- visits (AURA-RET-1) ------------------------------------------------ */

#define TALLY_LABELS 64 /* distinct rules counted in one visit batch */

/* Visits taken by one batch, by rule label id. */
struct tally {
	int64_t label[TALLY_LABELS];
	int64_t n[TALLY_LABELS];
	size_t k;
	int64_t other; /* of labels past the table */
};

static void
tally_addn(struct tally *t, int64_t label, int64_t n)
{
	size_t i;

	for (i = 0; i < t->k && t->label[i] != label; i++)
		;
	if (i == t->k) {
		if (t->k == TALLY_LABELS) {
			t->other += n;
			return;
		}
		t->label[t->k] = label;
		t->n[t->k++] = 0;
	}
	t->n[i] += n;
}

static void
tally_add(void *arg, int64_t label)
{
	tally_addn(arg, label, 1);
}

static enum vaern_err
tally_row(void *arg, int64_t rule, int64_t expires_at, int64_t count)
{
	(void)expires_at;
	tally_addn(arg, rule, count);
	return VAERN_OK;
}

/*
 * Counts n visits of rule label into the batch slot of its controller
 * (audited with the batch), or into rep for a controller no longer
 * loaded.
 */
static enum vaern_err
count_visits(struct vault *v, int64_t label, int64_t n, struct batch_counts *bc,
             size_t *nbc, struct vault_sweep_report *rep, struct vaern_msg *msg)
{
	char text[STORE_LABEL_MAX + 1];
	struct controller *c = NULL;
	struct batch_counts *b;
	long r;
	enum vaern_err err;

	if ((err = store_label_text(v->store, label, text, msg)) != VAERN_OK)
		return err;
	/* A visit's expiry was fixed at collection: it goes even if the
	 * policy has dropped its rule since. */
	(void)vlt_rule_find(v, text, &c, &r);
	if (c != NULL && (b = batch_slot(bc, nbc, c)) != NULL) {
		b->r.visits_deleted += n;
		count_rule_fv(&b->r, text, 0, n);
	} else {
		rep->visits_deleted += n;
		count_rule_fv(rep, text, 0, n);
	}
	return VAERN_OK;
}

/*
 * Deletes the visits due at now, in transactions of up to
 * SWEEP_BATCH_MAX, each audited with its counts by rule; then the day
 * keys those days no longer need (crypto-shredding every copy). Holds do
 * not apply: a visit has no subject. dry_run: counts only.
 */
static enum vaern_err
sweep_visits(struct vault *v, int64_t now, int dry_run,
             struct vault_sweep_report *rep, struct vaern_msg *msg)
{
	struct tally t;
	enum vaern_err err;

	if (dry_run) {
		memset(&t, 0, sizeof(t));
		if ((err = store_visit_due_count(v->store, now, tally_row, &t,
		                                 msg)) != VAERN_OK)
			return err;
		for (size_t i = 0; i < t.k; i++) {
			char text[STORE_LABEL_MAX + 1];

			err = store_label_text(v->store, t.label[i], text, msg);
			if (err != VAERN_OK)
				return err;
			rep->visits_deleted += t.n[i];
			count_rule_fv(rep, text, 0, t.n[i]);
		}
		rep->visits_deleted += t.other;
		rep->other_rules += t.other;
		return VAERN_OK;
	}
	for (;;) {
		struct batch_counts bc[VAULT_CONTROLLERS_MAX];
		size_t nbc = 0, n = 0;
		int64_t dropped;

		memset(&t, 0, sizeof(t));
		if ((err = vlt_begin(v, msg)) != VAERN_OK)
			return err;
		err = store_visit_take_due(v->store, now, SWEEP_BATCH_MAX,
		                           tally_add, &t, &n, msg);
		for (size_t i = 0; i < t.k && err == VAERN_OK; i++)
			err = count_visits(v, t.label[i], t.n[i], bc, &nbc, rep,
			                   msg);
		if (err == VAERN_OK && t.other > 0) {
			rep->visits_deleted += t.other;
			rep->other_rules += t.other;
		}
		/* The last batch: the keys of the emptied days go too. */
		if (err == VAERN_OK && n < SWEEP_BATCH_MAX)
			err = store_visit_key_drop_due(v->store, now, &dropped,
			                               msg);
		if ((err = batch_end(v, err, bc, nbc, rep, msg)) != VAERN_OK)
			return err;
		if (n < SWEEP_BATCH_MAX)
			return VAERN_OK;
	}
}

/* Loads every controller, so consent sweeps can name theirs. */
static enum vaern_err
load_controller(void *arg, const char *name, int64_t loaded_at)
{
	struct controller *c;

	(void)loaded_at;
	return vlt_controller(arg, name, &c, NULL);
}

enum vaern_err
vault_retention_sweep(struct vault *v, int64_t as_of, int dry_run,
                      vault_progress_fn progress, void *parg,
                      struct vault_sweep_report *rep, struct vaern_msg *msg)
{
	struct sweep sw;
	struct store_due *page = NULL, last;
	size_t batch = SWEEP_BATCH_FIRST;
	int have_last = 0, any = 0, locked = 0;
	int64_t done_n = 0, total = 0;
	enum vaern_err err;

	memset(rep, 0, sizeof(*rep));
	memset(&sw, 0, sizeof(sw));
	sw.v = v;
	sw.as_of = as_of;
	sw.dry_run = dry_run;
	sw.rep = rep;
	sw.msg = msg;
	sw.hs.msg = msg;
	if (v->batch)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a sweep runs its own transactions");
	if (!dry_run && v->audit_fn == NULL)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a sweep needs the audit trail");
	if ((err = vault_controller_foreach(v, load_controller, v, msg)) !=
	    VAERN_OK)
		return err;
	/* Several nodes on one PostgreSQL: one sweeps at a time. */
	if (!dry_run) {
		if ((err = store_lock_try(v->store, STORE_LOCK_SWEEP, &locked,
		                          msg)) != VAERN_OK)
			return err;
		if (!locked)
			return vaern_fail(msg, VAERN_E_EXISTS,
			                  "a sweep is running on another node; "
			                  "this one did nothing");
	}
	if (progress != NULL &&
	    (err = store_fact_due_count(v->store, as_of, &total, msg)) !=
	            VAERN_OK)
		return err;
	if ((page = malloc(SWEEP_BATCH_MAX * sizeof(*page))) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	/* The log is copied once, at the end (below), not per batch. */
	if (!dry_run)
		store_set_autocheckpoint(v->store, 0);
	for (;;) {
		struct batch_counts bc[VAULT_CONTROLLERS_MAX];
		size_t n = 0, nbc = 0;

		/*
		 * One transaction per page: the holds, the page and each of
		 * its subjects are read under the write lock, so a hold
		 * placed meanwhile is seen before anything it holds goes.
		 */
		if (!dry_run && (err = vlt_begin(v, msg)) != VAERN_OK)
			goto done;
		if (!dry_run || !have_last) {
			if ((err = holds_load(v, &sw.hs, msg)) != VAERN_OK)
				goto page_done;
		}
		/*
		 * Keyset paging: held facts stay due, so each page starts
		 * after the last one seen, not at the first due fact.
		 */
		if ((err = store_fact_due(v->store, as_of,
		                          have_last ? &last : NULL, page, batch,
		                          &n, msg)) != VAERN_OK ||
		    n == 0)
			goto page_done;
		last = page[n - 1];
		have_last = 1;
		qsort(page, n, sizeof(*page), due_by_subject);
		for (size_t i = 0; i < n && err == VAERN_OK;) {
			size_t j = i + 1;

			while (j < n && page[j].subject == page[i].subject)
				j++;
			err = sweep_subject(&sw, page + i, j - i, bc, &nbc);
			i = j;
		}
	page_done:
		if (!dry_run) {
			if ((err = batch_end(v, err, bc, nbc, rep, msg)) !=
			    VAERN_OK)
				goto done;
		} else if (err != VAERN_OK) {
			goto done;
		}
		if (!have_last || n == 0)
			break;
		any = 1;
		done_n += (int64_t)n + sw.ahead;
		sw.ahead = 0;
		if (progress != NULL &&
		    progress(parg, done_n, total > done_n ? total : done_n)) {
			rep->stopped = 1;
			break;
		}
		if (n < batch)
			break;
		/* Small first pages answer at once; larger ones amortise
		 * the commits of a big sweep. */
		if (batch < SWEEP_BATCH_MAX)
			batch *= 2;
	}
	if (!rep->stopped &&
	    (err = sweep_consents(v, as_of, dry_run, rep, msg)) != VAERN_OK)
		goto done;
	if (!rep->stopped &&
	    (err = sweep_visits(v, as_of, dry_run, rep, msg)) != VAERN_OK)
		goto done;
	any |= rep->consents_expired > 0 || rep->visits_deleted > 0;
done:
	/* As after an erasure: no page of removed data stays in the log. */
	if (any && !dry_run)
		(void)store_checkpoint(v->store, NULL);
	store_set_autocheckpoint(v->store, STORE_AUTOCHECKPOINT_DEFAULT);
	if (locked)
		store_lock_release(v->store, STORE_LOCK_SWEEP);
	free(sw.hs.items);
	free(sw.rules.items);
	free(sw.cats.items);
	free(sw.facts);
	free(page);
	return err;
}
