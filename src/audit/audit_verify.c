/*
 * audit_verify.c -- the trail read back: audit_verify walks the chain and
 * names the first entry changed, removed or reordered; audit_read is the
 * data-protection officer's view (GDPR-32; see audit.h for the format).
 */
#include "audit.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../store/store_audit.h"
#include "audit_internal.h"

/* ---- verify -------------------------------------------------------------- */

struct verify_walk {
	const struct audit_anchor *anchor;    /* or NULL */
	struct audit_verify_result *res;      /* being filled */
	int64_t last_seq;                     /* 0 before entry 1 */
	unsigned char last[AUDIT_HASH_BYTES]; /* its hash; zeros: genesis */
	int anchor_seen;                      /* the anchor's entry passed */
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

/*
 * Checks in the order that names the cause best: a gap in seq is a
 * removal; a prev_hash that is not the previous hash is a reordering (or
 * a removal hidden by renumbering); a hash that does not match the
 * entry's own content is a change.
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
	audit_hash_row(v->last, r, h);
	if (sodium_memcmp(h, r->hash, AUDIT_HASH_BYTES) != 0)
		return walk_bad(v, r->seq, AUDIT_CHANGED,
		                "entry %lld: content changed (hash does not "
		                "match)",
		                (long long)r->seq);
	if (v->anchor != NULL && r->seq == v->anchor->seq) {
		if (sodium_memcmp(r->hash, v->anchor->hash, AUDIT_HASH_BYTES) !=
		    0)
			return walk_bad(v, r->seq, AUDIT_ANCHOR,
			                "entry %lld: hash differs from the "
			                "anchor (the trail was rewritten up to "
			                "here)",
			                (long long)r->seq);
		v->anchor_seen = 1;
	}
	v->last_seq = r->seq;
	memcpy(v->last, r->hash, AUDIT_HASH_BYTES);
	v->res->entries++;
	return VAERN_OK;
}

enum vaern_err
audit_verify(const char *db_path, const struct audit_anchor *anchor,
             struct audit_verify_result *res, struct vaern_msg *msg)
{
	struct audit_store_filter all = {NULL, INT64_MIN, INT64_MAX,
	                                 0,    0,         NULL};
	struct audit_store *st = NULL;
	struct verify_walk v;
	enum vaern_err err;

	memset(res, 0, sizeof(*res));
	memset(&v, 0, sizeof(v));
	v.anchor = anchor;
	v.res = res;
	if (anchor != NULL && anchor->seq < 1)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "an anchor's entry number starts at 1");
	if (sodium_init() < 0)
		return vaern_fail(msg, VAERN_E_CRYPTO,
		                  "libsodium failed to initialise");
	if ((err = audit_store_open(db_path, 0, &st, msg)) != VAERN_OK)
		return err;
	res->ok = 1; /* until the walk finds a bad entry */
	err = audit_store_foreach(st, &all, verify_one, &v, msg);
	audit_store_close(st);
	if (err == WALK_STOP)
		return VAERN_OK;
	if (err != VAERN_OK) {
		res->ok = 0;
		return err;
	}
	if (anchor != NULL && !v.anchor_seen) {
		(void)walk_bad(&v, anchor->seq, AUDIT_ANCHOR,
		               "entry %lld is missing (the trail ends at %lld: "
		               "entries were cut off the end)",
		               (long long)anchor->seq, (long long)v.last_seq);
		return VAERN_OK;
	}
	res->head_seq = v.last_seq;
	memcpy(res->head, v.last, AUDIT_HASH_BYTES);
	return VAERN_OK;
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
