/*
 * audit_verify.c -- the trail read back: audit_verify walks the chain and
 * names the first entry changed, removed or reordered; audit_read is the
 * data-protection officer's view (GDPR-32; see audit.h for the format).
 */
#include "audit.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store_audit.h"
#include "audit_internal.h"

/* ---- verify -------------------------------------------------------------- */

struct verify_walk {
	const unsigned char *key;           /* NULL: every entry v1 */
	int64_t keyed_from;                 /* entries keyed from here */
	const struct audit_anchor *anchors; /* sorted by seq */
	size_t nanchors;
	size_t next_anchor;                   /* the first not yet passed */
	struct audit_verify_result *res;      /* being filled */
	int64_t last_seq;                     /* 0 before entry 1 */
	int64_t last_version;                 /* its encoding version */
	unsigned char last[AUDIT_HASH_BYTES]; /* its hash; zeros: genesis */
};

/* Returned by the walk to stop at the first bad entry; never escapes. */
#define WALK_STOP VAERN_E_DENIED

static enum vaern_err walk_bad(struct verify_walk *v, int64_t seq,
                               enum audit_problem problem, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static enum vaern_err
walk_bad(struct verify_walk *v, int64_t seq, enum audit_problem problem,
         const char *fmt, ...)
{
	va_list ap;

	v->res->ok = 0;
	v->res->first_bad = seq;
	v->res->problem = problem;
	va_start(ap, fmt);
	(void)vsnprintf(v->res->message, sizeof(v->res->message), fmt, ap);
	va_end(ap);
	return WALK_STOP;
}

static const char *
anchor_name(const struct audit_anchor *a)
{
	return a->source != NULL ? a->source : "the anchor";
}

static enum audit_problem
anchor_problem(const struct audit_anchor *a)
{
	return a->problem != AUDIT_INTACT ? a->problem : AUDIT_ANCHOR;
}

/*
 * Checks in the order that names the cause best: a gap in seq is a
 * removal; a prev_hash that is not the previous hash is a reordering (or
 * a removal hidden by renumbering); a MAC that does not match the
 * entry's own content is a change (or an entry forged without the key).
 */
static enum vaern_err
verify_one(void *arg, const struct audit_row *r)
{
	struct verify_walk *v = arg;
	unsigned char h[AUDIT_HASH_BYTES];
	int64_t want = v->last_seq + 1;

	if (r->seq == want + 1)
		return walk_bad(v, want, AUDIT_MISSING,
		                "entry %lld is missing (removed)",
		                (long long)want);
	if (r->seq > want)
		return walk_bad(v, want, AUDIT_MISSING,
		                "entry %lld is missing (removed, with the ones "
		                "up to %lld)",
		                (long long)want, (long long)(r->seq - 1));
	if (r->seq < want)
		return walk_bad(v, r->seq, AUDIT_CHANGED,
		                "entry %lld: sequence number out of range "
		                "(changed)",
		                (long long)r->seq);
	if (r->malformed)
		return walk_bad(v, r->seq, AUDIT_CHANGED,
		                "entry %lld: content changed (a column has the "
		                "wrong type or size)",
		                (long long)r->seq);
	if (sodium_memcmp(r->prev_hash, v->last, AUDIT_HASH_BYTES) != 0) {
		if (r->seq == 1)
			return walk_bad(v, 1, AUDIT_LINK,
			                "entry 1: previous hash is not the "
			                "start of the chain (reordered or "
			                "removed)");
		return walk_bad(v, r->seq, AUDIT_LINK,
		                "entry %lld: previous hash does not match "
		                "entry %lld (reordered or removed)",
		                (long long)r->seq, (long long)v->last_seq);
	}
	/*
	 * The version is in what the MAC covers, but a row could claim
	 * version 1 (unkeyed) to be forged without the key: from keyed_from
	 * on, every entry must be keyed, and versions never go back.
	 */
	if ((r->seq >= v->keyed_from) != (r->version > AUDIT_ENCODING_V1))
		return walk_bad(v, r->seq, AUDIT_CHANGED,
		                "entry %lld: content changed (%s entry where "
		                "the chain is %s)",
		                (long long)r->seq,
		                r->version > AUDIT_ENCODING_V1 ? "a keyed"
		                                               : "an unkeyed",
		                r->seq >= v->keyed_from ? "keyed" : "unkeyed");
	if (r->version < AUDIT_ENCODING_V1 ||
	    r->version > AUDIT_ENCODING_VERSION || r->version < v->last_version)
		return walk_bad(v, r->seq, AUDIT_CHANGED,
		                "entry %lld: content changed (encoding version "
		                "%lld out of place)",
		                (long long)r->seq, (long long)r->version);
	if (r->version > AUDIT_ENCODING_V1 && v->key == NULL)
		return walk_bad(v, r->seq, AUDIT_CHANGED,
		                "entry %lld: keyed, but the data store has no "
		                "audit key",
		                (long long)r->seq);
	audit_hash_row(v->key, v->last, r, h);
	if (sodium_memcmp(h, r->hash, AUDIT_HASH_BYTES) != 0)
		return walk_bad(v, r->seq, AUDIT_CHANGED,
		                "entry %lld: content changed (%s does not "
		                "match)",
		                (long long)r->seq,
		                r->version > AUDIT_ENCODING_V1 ? "MAC"
		                                               : "hash");
	for (; v->next_anchor < v->nanchors &&
	       v->anchors[v->next_anchor].seq == r->seq;
	     v->next_anchor++) {
		const struct audit_anchor *a = &v->anchors[v->next_anchor];

		if (sodium_memcmp(r->hash, a->hash, AUDIT_HASH_BYTES) != 0)
			return walk_bad(v, r->seq, anchor_problem(a),
			                "entry %lld: MAC differs from %s (the "
			                "trail was rewritten up to here)",
			                (long long)r->seq, anchor_name(a));
	}
	v->last_seq = r->seq;
	v->last_version = r->version;
	memcpy(v->last, r->hash, AUDIT_HASH_BYTES);
	v->res->entries++;
	return VAERN_OK;
}

static int
anchor_cmp(const void *a, const void *b)
{
	const struct audit_anchor *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

/*
 * The data store's head, checked against its own MAC, into *head; *have
 * 0 when the data store keeps none (a trail never written since the
 * key came). VAERN_OK with res filled (not ok) when the head itself was
 * tampered with.
 */
static enum vaern_err
read_head(const struct audit_trail *t, struct audit_head_row *head, int *have,
          struct audit_verify_result *res, struct vaern_msg *msg)
{
	struct audit_vault *av = NULL;
	unsigned char tag[AUDIT_HASH_BYTES];
	enum vaern_err err;

	*have = 0;
	if ((err = audit_vault_open(t->outbox_path, &av, msg)) != VAERN_OK)
		return err;
	err = audit_vault_head_get(av, head, msg);
	audit_vault_close(av);
	if (err == VAERN_E_STORE) {
		/* The row is there but of the wrong shape. */
		res->ok = 0;
		res->problem = AUDIT_HEAD;
		(void)snprintf(res->message, sizeof(res->message),
		               "the data store's audit head is malformed "
		               "(changed)");
		return VAERN_OK;
	}
	if (err == VAERN_E_NOTFOUND) {
		if (!t->unkeyed) {
			res->ok = 0;
			res->problem = AUDIT_HEAD;
			(void)snprintf(res->message, sizeof(res->message),
			               "the data store keeps an audit key but "
			               "no audit head (removed)");
		}
		return VAERN_OK;
	}
	if (err != VAERN_OK)
		return err;
	if (head->seq == AUDIT_HEAD_PENDING)
		return VAERN_OK; /* no keyed entry was ever written */
	if (t->unkeyed) {
		res->ok = 0;
		res->problem = AUDIT_HEAD;
		(void)snprintf(
		        res->message, sizeof(res->message),
		        "the data store keeps an audit head but no audit "
		        "key (removed)");
		return VAERN_OK;
	}
	audit_head_tag(t->key, head, tag);
	if (sodium_memcmp(tag, head->tag, AUDIT_HASH_BYTES) != 0 ||
	    head->seq < 0 || head->keyed_from < 1 ||
	    head->keyed_from > head->seq + 1) {
		res->ok = 0;
		res->first_bad = head->seq;
		res->problem = AUDIT_HEAD;
		(void)snprintf(res->message, sizeof(res->message),
		               "the data store's audit head fails its MAC "
		               "(changed)");
		return VAERN_OK;
	}
	*have = 1;
	return VAERN_OK;
}

enum vaern_err
audit_verify(const struct audit_trail *t, const struct audit_anchor *anchors,
             size_t n, struct audit_verify_result *res, struct vaern_msg *msg)
{
	/* From the lowest seq there is: rows numbered 0 or below are
	 * tampering, and must be seen. */
	struct audit_store_filter all = {NULL,      INT64_MIN, INT64_MAX,
	                                 INT64_MIN, 0,         NULL};
	struct audit_store *st = NULL;
	struct audit_anchor *list = NULL;
	struct audit_head_row head;
	struct verify_walk v;
	enum vaern_err err;
	size_t nlist = 0;
	int have_head = 0;

	memset(res, 0, sizeof(*res));
	memset(&v, 0, sizeof(v));
	v.res = res;
	v.key = t->unkeyed ? NULL : t->key;
	v.keyed_from = t->unkeyed ? INT64_MAX : 1;
	for (size_t i = 0; i < n; i++) {
		if (anchors[i].seq < 0)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "an anchor's entry number starts at 1");
	}
	if (sodium_init() < 0)
		return vaern_fail(msg, VAERN_E_CRYPTO,
		                  "libsodium failed to initialise");
	res->ok = 1; /* until something bad is found */
	if (t->outbox_path != NULL) {
		if ((err = read_head(t, &head, &have_head, res, msg)) !=
		            VAERN_OK ||
		    !res->ok)
			return err;
		/* No head recorded yet: no keyed entry was ever written. */
		v.keyed_from = have_head ? head.keyed_from : INT64_MAX;
	}
	if ((list = calloc(n + 1, sizeof(*list))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (anchors[i].seq > 0)
			list[nlist++] = anchors[i];
	}
	if (have_head && head.seq > 0) {
		list[nlist].seq = head.seq;
		memcpy(list[nlist].hash, head.mac, AUDIT_HASH_BYTES);
		list[nlist].problem = AUDIT_HEAD;
		list[nlist].source = "the data store's head";
		nlist++;
	}
	qsort(list, nlist, sizeof(*list), anchor_cmp);
	v.anchors = list;
	v.nanchors = nlist;
	if ((err = audit_store_open(t->path, 0, &st, msg)) != VAERN_OK) {
		res->ok = 0;
		goto done;
	}
	err = audit_store_foreach(st, &all, verify_one, &v, msg);
	audit_store_close(st);
	if (err == WALK_STOP) {
		err = VAERN_OK;
		goto done;
	}
	if (err != VAERN_OK) {
		res->ok = 0;
		goto done;
	}
	if (v.next_anchor < nlist) {
		const struct audit_anchor *a = &list[v.next_anchor];

		(void)walk_bad(&v, a->seq, anchor_problem(a),
		               "entry %lld is missing (the trail ends at %lld: "
		               "entries were cut off the end, or the trail "
		               "emptied; %s has it)",
		               (long long)a->seq, (long long)v.last_seq,
		               anchor_name(a));
		goto done;
	}
	res->head_seq = v.last_seq;
	memcpy(res->head, v.last, AUDIT_HASH_BYTES);
done:
	free(list);
	return err;
}

/* ---- signed checkpoints -------------------------------------------------- */

/* What a checkpoint signs. */
#define CHECKPOINT_DOMAIN "vaern-audit-checkpoint-v1"
#define CHECKPOINT_BYTES                                                       \
	(sizeof(CHECKPOINT_DOMAIN) - 1 + 8 + AUDIT_HASH_BYTES + 8)

static void
le64_put(unsigned char *p, int64_t v)
{
	uint64_t u = (uint64_t)v;

	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(u >> (8 * i));
}

static void
checkpoint_bytes(unsigned char out[CHECKPOINT_BYTES], int64_t seq,
                 const unsigned char head[AUDIT_HASH_BYTES], int64_t at)
{
	size_t d = sizeof(CHECKPOINT_DOMAIN) - 1;

	memcpy(out, CHECKPOINT_DOMAIN, d);
	le64_put(out + d, seq);
	memcpy(out + d + 8, head, AUDIT_HASH_BYTES);
	le64_put(out + d + 8 + AUDIT_HASH_BYTES, at);
}

void
audit_checkpoint_sign(const unsigned char sk[AUDIT_CHECKPOINT_SK_BYTES],
                      int64_t seq, const unsigned char head[AUDIT_HASH_BYTES],
                      int64_t at, unsigned char sig[AUDIT_CHECKPOINT_SIG_BYTES])
{
	unsigned char m[CHECKPOINT_BYTES];

	checkpoint_bytes(m, seq, head, at);
	crypto_sign_detached(sig, NULL, m, sizeof(m), sk);
}

int
audit_checkpoint_check(const unsigned char pk[AUDIT_CHECKPOINT_PK_BYTES],
                       int64_t seq, const unsigned char head[AUDIT_HASH_BYTES],
                       int64_t at,
                       const unsigned char sig[AUDIT_CHECKPOINT_SIG_BYTES])
{
	unsigned char m[CHECKPOINT_BYTES];

	checkpoint_bytes(m, seq, head, at);
	return crypto_sign_verify_detached(sig, m, sizeof(m), pk) == 0;
}

/* ---- read ---------------------------------------------------------------- */

struct read_walk {
	enum vaern_err (*fn)(void *arg, const struct audit_record *r);
	void *arg;
};

static enum vaern_err
read_one(void *arg, const struct audit_row *r)
{
	struct read_walk *rw = arg;
	struct audit_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.seq = r->seq;
	rec.at = r->at;
	rec.entry.controller = r->controller;
	rec.entry.actor = r->actor;
	rec.entry.role = r->role;
	rec.entry.purpose = r->purpose;
	rec.entry.action = r->action;
	rec.entry.subject = r->subject;
	rec.entry.categories = r->categories;
	rec.entry.allowed = r->decision == 1;
	rec.entry.rule = r->rule;
	rec.entry.reason = r->reason;
	rec.entry.policy = r->policy;
	if (r->prev_hash != NULL)
		memcpy(rec.prev_hash, r->prev_hash, AUDIT_HASH_BYTES);
	if (r->hash != NULL)
		memcpy(rec.hash, r->hash, AUDIT_HASH_BYTES);
	rec.malformed = r->malformed || (r->decision != 0 && r->decision != 1);
	return rw->fn(rw->arg, &rec);
}

enum vaern_err
audit_read(const char *db_path, const struct audit_filter *f,
           enum vaern_err (*fn)(void *arg, const struct audit_record *r),
           void *arg, struct vaern_msg *msg)
{
	struct audit_store_filter sf;
	struct audit_store *st = NULL;
	struct read_walk rw = {fn, arg};
	enum vaern_err err;

	if (f->limit < 0 || f->after_seq < 0 || f->from_at > f->to_at)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "audit read: a bound is out of range");
	sf.subject = f->subject;
	sf.from_at = f->from_at;
	sf.to_at = f->to_at;
	sf.after_seq = f->after_seq;
	sf.limit = f->limit;
	sf.controller = f->controller;
	if ((err = audit_store_open(db_path, 0, &st, msg)) != VAERN_OK)
		return err;
	err = audit_store_foreach(st, &sf, read_one, &rw, msg);
	audit_store_close(st);
	return err;
}
