/*
 * affected.c -- the people a breach affected, from the audit trail
 * (issue 17 point 4; GDPR-33). The search reads the release index
 * written with the trail (src/store/store_audit_release.h): one index
 * range, never the trail; the scan of the trail itself stays as its
 * cross-check and the benchmark's baseline. Both keep the distinct
 * subjects in an open-addressed set with a bit per category released to
 * each, so the per-category counts are exact without a second pass.
 */
#include "affected.h"

#include "../store/db.h"
#include "../store/store_audit_release.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One subject: its id and the categories released of it. */
struct slot {
	uint64_t id[2]; /* the subject's 16 bytes */
	uint64_t mask;  /* bit i: names[i] released; 0: a free slot (a
	                   subject is added with a category or not at all) */
};

/* A categories text seen before and its mask (rows repeat a few). */
struct cat_memo {
	char *text;
	uint64_t mask;
};

#define MEMO_SLOTS 256

/* A category set of the release index (its name id) and its mask. */
struct set_memo {
	int64_t id; /* 0: free */
	uint64_t mask;
};

/* Adds held back while their slots are fetched from memory: the set is
 * larger than the caches and the subjects come in random order, so one
 * add at a time waits for memory at each (bench/README.md). */
#define PENDING 32

struct search {
	struct slot *slots;
	size_t cap, n; /* cap a power of two */
	struct cat_memo memo[MEMO_SLOTS];
	struct affected *out;
	uint64_t want; /* the categories asked for; ~0: any */
	const struct affected_query *q;
	char action[AFFECTED_CATEGORY_MAX + 16]; /* the route's action, or
	                                            "" for any release */
	/* By the release index: */
	struct audit_release_reader *rd;
	int64_t actor_id, role_id, action_id; /* 0: any */
	struct set_memo *sets; /* open-addressed by id, setcap a power of
	                          two */
	size_t setcap, nsets;
	struct vaern_msg *msg; /* the search's, for the callback */
	struct pending {       /* adds whose slot is being fetched */
		uint64_t id[2], mask, hash;
	} pend[PENDING];
	size_t npend;
};

static uint64_t
fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

_Static_assert(sizeof(((struct slot *)0)->id) == AFFECTED_UID_BYTES,
               "a slot holds a subject id");

/* A subject id's slot hash: ids are random, but mixed all the same
 * (the benchmark's are not), the high bits folded onto the low. */
static uint64_t
uid_hash(const uint64_t id[2])
{
	uint64_t h = (id[0] ^ (id[1] * 0x9e3779b97f4a7c15ull)) *
	             0xd6e8feb86659fd93ull;

	return h ^ (h >> 32);
}

static int
set_grow(struct search *s)
{
	size_t cap = s->cap ? s->cap * 2 : 4096;
	struct slot *n = calloc(cap, sizeof(*n));

	if (n == NULL)
		return -1;
	for (size_t i = 0; i < s->cap; i++) {
		size_t j;

		if (s->slots[i].mask == 0)
			continue;
		j = uid_hash(s->slots[i].id) & (cap - 1);
		while (n[j].mask != 0)
			j = (j + 1) & (cap - 1);
		n[j] = s->slots[i];
	}
	free(s->slots);
	s->slots = n;
	s->cap = cap;
	return 0;
}

/* Adds subject id, whose uid_hash is hash, with the categories of mask
 * (not 0) to the set, which has room for it. */
static void
set_put(struct search *s, const uint64_t id[2], uint64_t hash, uint64_t mask)
{
	size_t j = hash & (s->cap - 1);

	assert(mask != 0 && (s->n + 1) * 2 <= s->cap);
	while (s->slots[j].mask != 0 &&
	       (s->slots[j].id[0] != id[0] || s->slots[j].id[1] != id[1]))
		j = (j + 1) & (s->cap - 1);
	if (s->slots[j].mask == 0) {
		s->slots[j].id[0] = id[0];
		s->slots[j].id[1] = id[1];
		s->n++;
	}
	s->slots[j].mask |= mask;
}

/* Adds subject uid (AFFECTED_UID_BYTES) with the categories of mask (not
 * 0) to the set; -1 when out of memory. */
static int
set_add(struct search *s, const unsigned char *uid, uint64_t mask)
{
	uint64_t id[2];

	if ((s->n + 1) * 2 > s->cap && set_grow(s) != 0)
		return -1;
	memcpy(id, uid, sizeof(id));
	set_put(s, id, uid_hash(id), mask);
	return 0;
}

/* Puts the pending adds into the set (grown first if need be). */
static int
pend_flush(struct search *s)
{
	while ((s->n + s->npend) * 2 > s->cap)
		if (set_grow(s) != 0)
			return -1;
	for (size_t i = 0; i < s->npend; i++)
		set_put(s, s->pend[i].id, s->pend[i].hash, s->pend[i].mask);
	s->npend = 0;
	return 0;
}

/* set_add, held back until PENDING adds have their slots on the way
 * from memory. pend_flush ends a search. */
static int
pend_add(struct search *s, const unsigned char *uid, uint64_t mask)
{
	struct pending *p;

	if (s->npend == PENDING && pend_flush(s) != 0)
		return -1;
	p = &s->pend[s->npend++];
	memcpy(p->id, uid, sizeof(p->id));
	p->mask = mask;
	p->hash = uid_hash(p->id);
	if (s->cap > 0)
		__builtin_prefetch(&s->slots[p->hash & (s->cap - 1)], 1);
	return 0;
}

/* The bit of category name (len bytes), added if new; -1 past the
 * limit. */
static int
cat_bit(struct affected *a, const char *name, size_t len)
{
	size_t i;

	if (len > AFFECTED_CATEGORY_MAX)
		len = AFFECTED_CATEGORY_MAX;
	for (i = 0; i < a->ncategories; i++)
		if (strncmp(a->names[i], name, len) == 0 &&
		    a->names[i][len] == '\0')
			return (int)i;
	if (a->ncategories == AFFECTED_CATEGORIES)
		return -1;
	memcpy(a->names[i], name, len);
	a->names[i][len] = '\0';
	a->ncategories++;
	return (int)i;
}

/* The mask of a categories text ("a,b,c"), memoised. */
static int
cat_mask(struct search *s, const char *text, size_t len, uint64_t *mask)
{
	uint64_t h = fnv((const unsigned char *)text, len);
	struct cat_memo *m = &s->memo[h & (MEMO_SLOTS - 1)];
	const char *p = text, *end = text + len;

	if (m->text != NULL && strlen(m->text) == len &&
	    memcmp(m->text, text, len) == 0) {
		*mask = m->mask;
		return 0;
	}
	*mask = 0;
	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t n = c != NULL ? (size_t)(c - p) : (size_t)(end - p);
		int b;

		if (n > 0) {
			if ((b = cat_bit(s->out, p, n)) < 0)
				return -1;
			*mask |= 1ull << b;
		}
		p += n + 1;
	}
	free(m->text);
	if ((m->text = malloc(len + 1)) != NULL) {
		memcpy(m->text, text, len);
		m->text[len] = '\0';
		m->mask = *mask;
	}
	return 0;
}

static int
uid_cmp(const void *a, const void *b)
{
	return memcmp(a, b, AFFECTED_UID_BYTES);
}

/* The releases: allowed reads, exports (a person's report, a portable
 * copy) and disclosures naming a subject and the categories released
 * (src/vault/vault_access.c, vault_report.c). A create or a change
 * released nothing. */
#define SEARCH_FROM                                                            \
	"SELECT subject, categories, controller, action, actor, role"          \
	" FROM audit"
/* SQLite filters only the window and the decision; the text columns are
 * compared here, on SQLite's own pages (no copy), cheaper than the same
 * predicates in SQL (bench/README.md). */
#define SEARCH_WHERE " WHERE at >= ?1 AND at <= ?2 AND decision = 1"

/* A window over most of the trail reads the table in order (NOT
 * INDEXED): cheaper than an index probe and a row lookup per entry. */
static const char search_sql[] = SEARCH_FROM SEARCH_WHERE;
static const char search_scan_sql[] = SEARCH_FROM " NOT INDEXED" SEARCH_WHERE;

/* Whether action releases data: a read, an export (a person's report,
 * a portable copy), a report for a request or a disclosure. */
static int
is_release(const char *action)
{
	switch (action[0]) {
	case 'r':
		return strcmp(action, "read") == 0 ||
		       strcmp(action, "request_report") == 0;
	case 'e': return strcmp(action, "export") == 0;
	case 'd':
		return strncmp(action, "disclose:", 9) == 0 &&
		       action[9] != '\0';
	default: return 0;
	}
}

/* Whether text column col equals want (NULL: anything). */
static int
text_is(struct db_stmt *st, int col, const char *want)
{
	const char *t;

	if (want == NULL)
		return 1;
	t = (const char *)db_column_text(st, col);
	return t != NULL && strcmp(t, want) == 0;
}

/* 1 if the window [from, to] spans more than an eighth of the trail's
 * time (its first and last entries, two probes of the audit_at index). */
static int
window_wide(struct db *db, int64_t from, int64_t to)
{
	struct db_stmt *st = NULL;
	int wide = 0;

	if (db_prepare(db,
	               "SELECT (SELECT min(at) FROM audit),"
	               " (SELECT max(at) FROM audit)",
	               0, &st) == DB_OK &&
	    db_step(st) == DB_ROW && db_column_type(st, 0) != DB_NULL) {
		int64_t lo = db_column_int64(st, 0);
		int64_t hi = db_column_int64(st, 1);

		if (from < lo)
			from = lo;
		if (to > hi)
			to = hi;
		wide = hi > lo && to >= from && (to - from) > (hi - lo) / 8;
	}
	db_finalize(st);
	return wide;
}

/* Checks q and gives the categories asked for the first bits of out;
 * s->want gets their mask (every bit when none is asked). */
static enum vaern_err
search_start(struct search *s, const struct affected_query *q,
             struct affected *out, struct vaern_msg *msg)
{
	memset(out, 0, sizeof(*out));
	memset(s, 0, sizeof(*s));
	s->out = out;
	s->q = q;
	if (q->controller == NULL || q->from > q->to)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a search needs the controller and a window "
		                  "whose start is not after its end");
	if (q->recipient != NULL && q->action != NULL)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "give a recipient or a route, not both");
	s->want = q->ncategories ? 0 : ~0ull;
	for (size_t i = 0; i < q->ncategories; i++) {
		int b = cat_bit(out, q->categories[i],
		                strlen(q->categories[i]));

		if (b < 0)
			return vaern_fail(msg, VAERN_E_LIMIT,
			                  "at most %d categories",
			                  AFFECTED_CATEGORIES);
		s->want |= 1ull << b;
	}
	/* The route's action: a recipient's is its disclosure. */
	if (q->recipient != NULL)
		(void)snprintf(s->action, sizeof(s->action), "disclose:%s",
		               q->recipient);
	else if (q->action != NULL)
		(void)snprintf(s->action, sizeof(s->action), "%s", q->action);
	return VAERN_OK;
}

/* The distinct subjects of s, sorted, and the people per category. */
static enum vaern_err
search_finish(struct search *s, struct affected *out, struct vaern_msg *msg)
{
	size_t k = 0;

	if (s->n > 0 &&
	    (out->subjects = malloc(s->n * AFFECTED_UID_BYTES)) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < s->cap; i++) {
		if (s->slots[i].mask == 0)
			continue;
		memcpy(out->subjects[k++], s->slots[i].id, AFFECTED_UID_BYTES);
		for (size_t b = 0; b < out->ncategories; b++)
			if (s->slots[i].mask & (1ull << b))
				out->counts[b]++;
	}
	out->nsubjects = k;
	if (k > 1)
		qsort(out->subjects, k, AFFECTED_UID_BYTES, uid_cmp);
	return VAERN_OK;
}

static void
search_free(struct search *s)
{
	free(s->slots);
	free(s->sets);
	for (size_t i = 0; i < MEMO_SLOTS; i++)
		free(s->memo[i].text);
}

/* ---- by the release index (store_audit_release.h) ---------------------- */

/* The mask of category set id (a name of the index), memoised. */
static enum vaern_err
set_mask(struct search *s, int64_t id, uint64_t *mask, struct vaern_msg *msg)
{
	char *text = NULL;
	size_t j;
	enum vaern_err err;
	int over;

	if (s->nsets * 2 >= s->setcap) {
		size_t cap = s->setcap ? s->setcap * 2 : 256;
		struct set_memo *n = calloc(cap, sizeof(*n));

		if (n == NULL)
			return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		for (size_t i = 0; i < s->setcap; i++) {
			if (s->sets[i].id == 0)
				continue;
			j = (size_t)s->sets[i].id & (cap - 1);
			while (n[j].id != 0)
				j = (j + 1) & (cap - 1);
			n[j] = s->sets[i];
		}
		free(s->sets);
		s->sets = n;
		s->setcap = cap;
	}
	j = (size_t)id & (s->setcap - 1);
	while (s->sets[j].id != 0 && s->sets[j].id != id)
		j = (j + 1) & (s->setcap - 1);
	if (s->sets[j].id == id) {
		*mask = s->sets[j].mask;
		return VAERN_OK;
	}
	if ((err = audit_release_name_text(s->rd, id, &text, msg)) != VAERN_OK)
		return err;
	over = cat_mask(s, text, strlen(text), mask) != 0;
	free(text);
	if (over)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "more than %d distinct categories",
		                  AFFECTED_CATEGORIES);
	s->sets[j].id = id;
	s->sets[j].mask = *mask;
	s->nsets++;
	return VAERN_OK;
}

/* One release the index found: filtered by what leaked, counted. */
static enum vaern_err
hit(void *arg, const struct audit_release_hit *h)
{
	struct search *s = arg;
	uint64_t mask;
	enum vaern_err err;

	if ((s->actor_id != 0 && h->actor != s->actor_id) ||
	    (s->role_id != 0 && h->role != s->role_id) ||
	    (s->action_id != 0 && h->action != s->action_id))
		return VAERN_OK;
	if ((err = set_mask(s, h->categories, &mask, s->msg)) != VAERN_OK)
		return err;
	if ((mask &= s->want) == 0)
		return VAERN_OK;
	s->out->entries++;
	if (pend_add(s, h->subject, mask) != 0)
		return vaern_fail(s->msg, VAERN_E_NOMEM, "out of memory");
	return VAERN_OK;
}

/* The id of name in the index into *id; *none 1 when it was never named
 * (then nothing matches it). */
static enum vaern_err
known(struct search *s, const char *name, int64_t *id, int *none,
      struct vaern_msg *msg)
{
	enum vaern_err err;

	*id = 0;
	if (name == NULL || name[0] == '\0')
		return VAERN_OK;
	err = audit_release_name_id(s->rd, name, id, msg);
	if (err == VAERN_E_NOTFOUND) {
		*none = 1;
		return VAERN_OK;
	}
	return err;
}

/*
 * The search by the release index: the blocks of the window (one range
 * of its index), every filter compared on their records. Never the trail.
 */
enum vaern_err
incident_affected(const char *path, const struct affected_query *q,
                  struct affected *out, struct vaern_msg *msg)
{
	struct search s;
	enum vaern_err err;
	int64_t ctl = 0;
	int none = 0;

	if ((err = search_start(&s, q, out, msg)) != VAERN_OK)
		return err;
	s.msg = msg;
	if ((err = audit_release_reader_open(path, &s.rd, msg)) != VAERN_OK ||
	    (err = known(&s, q->controller, &ctl, &none, msg)) != VAERN_OK ||
	    (err = known(&s, q->actor, &s.actor_id, &none, msg)) != VAERN_OK ||
	    (err = known(&s, q->role, &s.role_id, &none, msg)) != VAERN_OK ||
	    (err = known(&s, s.action, &s.action_id, &none, msg)) != VAERN_OK)
		goto done;
	if (!none) /* else a name the index never saw: no release matches */
		err = audit_release_scan(s.rd, ctl, q->from, q->to, hit, &s,
		                         msg);
	if (err == VAERN_OK && pend_flush(&s) != 0)
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	if (err != VAERN_OK)
		goto done;
	err = search_finish(&s, out, msg);
done:
	audit_release_reader_close(s.rd);
	search_free(&s);
	if (err != VAERN_OK)
		incident_affected_free(out);
	return err;
}

/* ---- by a scan of the trail: the cross-check and the baseline ---------- */

enum vaern_err
incident_affected_scan(const char *path, const struct affected_query *q,
                       struct affected *out, struct vaern_msg *msg)
{
	struct search s;
	struct db *db = NULL;
	struct db_stmt *st = NULL;
	enum vaern_err err;
	const char *action = s.action;
	int rc;

	if ((err = search_start(&s, q, out, msg)) != VAERN_OK)
		return err;
	if (db_open_file(path, SQLITE_OPEN_READONLY, 5000, &db) != DB_OK ||
	    db_prepare(db,
	               window_wide(db, q->from, q->to) ? search_scan_sql
	                                               : search_sql,
	               0, &st) != DB_OK) {
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "cannot read the audit trail: %s",
		                 db != NULL ? db_errmsg(db) : "no memory");
		goto done;
	}
	db_bind_int64(st, 1, q->from);
	db_bind_int64(st, 2, q->to);
	while ((rc = db_step(st)) == DB_ROW) {
		const unsigned char *uid = db_column_blob(st, 0);
		const char *cats = (const char *)db_column_text(st, 1);
		uint64_t mask = 0;

		const char *ctl = (const char *)db_column_text(st, 2);
		const char *act = (const char *)db_column_text(st, 3);

		if (uid == NULL || cats == NULL || ctl == NULL || act == NULL ||
		    db_column_bytes(st, 0) != AFFECTED_UID_BYTES ||
		    cats[0] == '\0' || strcmp(ctl, q->controller) != 0 ||
		    !is_release(act) ||
		    (action[0] != '\0' && strcmp(act, action) != 0) ||
		    !text_is(st, 4, q->actor) || !text_is(st, 5, q->role))
			continue;
		if (cat_mask(&s, cats, (size_t)db_column_bytes(st, 1), &mask) !=
		    0) {
			err = vaern_fail(msg, VAERN_E_LIMIT,
			                 "more than %d distinct categories",
			                 AFFECTED_CATEGORIES);
			goto done;
		}
		if ((mask &= s.want) == 0)
			continue;
		out->entries++;
		if (set_add(&s, uid, mask) != 0) {
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
			goto done;
		}
	}
	if (rc != DB_DONE) {
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "reading the audit trail: %s", db_errmsg(db));
		goto done;
	}
	err = search_finish(&s, out, msg);
done:
	db_finalize(st);
	db_close(db);
	search_free(&s);
	if (err != VAERN_OK)
		incident_affected_free(out);
	return err;
}

void
incident_affected_free(struct affected *a)
{
	if (a == NULL)
		return;
	free(a->subjects);
	a->subjects = NULL;
	a->nsubjects = 0;
}

/* The answer of a search: the subjects (hex ids) and the count per
 * category. */
json_t *
incident_affected_json(const struct affected *a)
{
	json_t *subjects = json_array(), *counts = json_object();
	char hex[2 * AFFECTED_UID_BYTES + 1];

	if (subjects == NULL || counts == NULL) {
		json_decref(subjects);
		json_decref(counts);
		return NULL;
	}
	for (size_t i = 0; i < a->nsubjects; i++) {
		sodium_bin2hex(hex, sizeof(hex), a->subjects[i],
		               AFFECTED_UID_BYTES);
		json_array_append_new(subjects, json_string(hex));
	}
	for (size_t i = 0; i < a->ncategories; i++)
		if (a->counts[i] > 0)
			json_object_set_new(
			        counts, a->names[i],
			        json_integer((json_int_t)a->counts[i]));
	return json_pack("{s:I, s:I, s:o, s:o}", "people",
	                 (json_int_t)a->nsubjects, "entries",
	                 (json_int_t)a->entries, "by_category", counts,
	                 "subjects", subjects);
}
