/*
 * affected.c -- the people a breach affected, from the audit trail
 * (issue 17 point 4; GDPR-33). SQLite filters the window (the audit_at
 * index) and the columns; this file keeps the distinct subjects in an
 * open-addressed set with a bit per category released to each, so the
 * per-category counts are exact without a second pass.
 */
#include "affected.h"

#include "../store/db.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One subject: its id and the categories released of it. */
struct slot {
	unsigned char uid[AFFECTED_UID_BYTES];
	uint64_t mask; /* bit i: names[i] released */
	int used;
};

/* A categories text seen before and its mask (rows repeat a few). */
struct cat_memo {
	char *text;
	uint64_t mask;
};

#define MEMO_SLOTS 256

struct search {
	struct slot *slots;
	size_t cap, n; /* cap a power of two */
	struct cat_memo memo[MEMO_SLOTS];
	struct affected *out;
	uint64_t want; /* the categories asked for; ~0: any */
	const struct affected_query *q;
};

static uint64_t
fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
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

		if (!s->slots[i].used)
			continue;
		j = fnv(s->slots[i].uid, AFFECTED_UID_BYTES) & (cap - 1);
		while (n[j].used)
			j = (j + 1) & (cap - 1);
		n[j] = s->slots[i];
	}
	free(s->slots);
	s->slots = n;
	s->cap = cap;
	return 0;
}

static int
set_add(struct search *s, const unsigned char *uid, uint64_t mask)
{
	size_t j;

	if ((s->n + 1) * 2 > s->cap && set_grow(s) != 0)
		return -1;
	j = fnv(uid, AFFECTED_UID_BYTES) & (s->cap - 1);
	while (s->slots[j].used &&
	       memcmp(s->slots[j].uid, uid, AFFECTED_UID_BYTES) != 0)
		j = (j + 1) & (s->cap - 1);
	if (!s->slots[j].used) {
		memcpy(s->slots[j].uid, uid, AFFECTED_UID_BYTES);
		s->slots[j].used = 1;
		s->n++;
	}
	s->slots[j].mask |= mask;
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
	case 'd': return strncmp(action, "disclose:", 9) == 0;
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

enum vaern_err
incident_affected(const char *path, const struct affected_query *q,
                  struct affected *out, struct vaern_msg *msg)
{
	struct search s;
	struct db *db = NULL;
	struct db_stmt *st = NULL;
	enum vaern_err err = VAERN_OK;
	char action[AFFECTED_CATEGORY_MAX + 16];
	size_t i, k;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	s.out = out;
	s.q = q;
	if (q->controller == NULL || q->from > q->to)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a search needs the controller and a window "
		                  "whose start is not after its end");
	if (q->recipient != NULL && q->action != NULL)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "give a recipient or a route, not both");
	/* The categories asked for take the first bits. */
	s.want = q->ncategories ? 0 : ~0ull;
	for (i = 0; i < q->ncategories; i++) {
		int b = cat_bit(out, q->categories[i],
		                strlen(q->categories[i]));

		if (b < 0)
			return vaern_fail(msg, VAERN_E_LIMIT,
			                  "at most %d categories",
			                  AFFECTED_CATEGORIES);
		s.want |= 1ull << b;
	}
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
	if (q->recipient != NULL)
		(void)snprintf(action, sizeof(action), "disclose:%s",
		               q->recipient);
	else if (q->action != NULL)
		(void)snprintf(action, sizeof(action), "%s", q->action);
	else
		action[0] = '\0';
	while ((rc = db_step(st)) == DB_ROW) {
		const unsigned char *uid = db_column_blob(st, 0);
		const char *cats = (const char *)db_column_text(st, 1);
		uint64_t mask = 0;

		const char *ctl = (const char *)db_column_text(st, 2);
		const char *act = (const char *)db_column_text(st, 3);

		if (uid == NULL || cats == NULL || ctl == NULL || act == NULL ||
		    db_column_bytes(st, 0) != AFFECTED_UID_BYTES ||
		    strcmp(ctl, q->controller) != 0 || !is_release(act) ||
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
	if (s.n > 0 &&
	    (out->subjects = malloc(s.n * AFFECTED_UID_BYTES)) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	for (i = 0, k = 0; i < s.cap; i++) {
		if (!s.slots[i].used)
			continue;
		memcpy(out->subjects[k++], s.slots[i].uid, AFFECTED_UID_BYTES);
		for (size_t b = 0; b < out->ncategories; b++)
			if (s.slots[i].mask & (1ull << b))
				out->counts[b]++;
	}
	out->nsubjects = k;
	if (k > 1)
		qsort(out->subjects, k, AFFECTED_UID_BYTES, uid_cmp);
done:
	db_finalize(st);
	db_close(db);
	free(s.slots);
	for (i = 0; i < MEMO_SLOTS; i++)
		free(s.memo[i].text);
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
