/*
 * keys_rotate.c -- master-key rotation while vaern serves (issue 13;
 * GDPR-32). See keys_rotate() in keys.h for the contract.
 *
 * The states of the kek table, and why a kill -9 anywhere loses nothing:
 *   1. only "current" c: nothing begun. A new key file made by a run
 *      that died here (master.key.next) is taken up by the next run.
 *   2. c "current", n "next", with n's key wrapped under c (up) and c's
 *      under n (down): every wrapped key is under c or n, each row
 *      re-wrapped in place (one UPDATE, so never under neither); anyone
 *      holding c or n holds both. Re-running resumes.
 *   3. n "current", c "retired", no cross-wrapping: every key is under n
 *      (the last pass and the retirement are one transaction). With the
 *      default source, master.key.next is then renamed onto master.key;
 *      a run that died before the rename does it next time.
 */
#include "../store/db.h"
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../calendar/calendar.h"
#include "../store/store.h"
#include "keys.h"
#include "keys_internal.h"

#define BATCH_DEFAULT 20000 /* keys re-wrapped per transaction */

/*
 * The two columns a wrapped key's associated data is made of, read from
 * its row by either engine: first a blob (a subject's uid), a text (a
 * root key's name) or an integer; second an integer.
 */
struct keys_ad_cols {
	const void *p; /* the blob or the NUL-terminated text, or NULL */
	int n;         /* its bytes */
	int64_t a, b;  /* the integers */
};

/*
 * Every kind of wrapped key, in one place: its table in the keystore and
 * how its associated data is made from its row. A new kind of wrapped key
 * (the audit MAC key) is one more line here, or a row of root_key.
 */
struct keys_kind {
	const char *name;       /* for messages */
	const char *table;      /* ks.<table>: rowid, kek, wrapped, ... */
	const char *ad_columns; /* two columns, passed to ad() */
	char first;             /* the first's type: 'b'lob, 't'ext, 'i'nt */
	size_t (*ad)(unsigned char ad[KEYS_AD_MAX],
	             const struct keys_ad_cols *c);
};

static size_t
ad_subject(unsigned char ad[KEYS_AD_MAX], const struct keys_ad_cols *c)
{
	if (c->p == NULL || c->n != STORE_UID_BYTES)
		return 0;
	return keys_ad_subject(ad, c->p, c->b);
}

static size_t
ad_day(unsigned char ad[KEYS_AD_MAX], const struct keys_ad_cols *c)
{
	return keys_ad_day(ad, c->a, c->b);
}

static size_t
ad_root(unsigned char ad[KEYS_AD_MAX], const struct keys_ad_cols *c)
{
	return c->p != NULL ? keys_ad_root(ad, c->p) : 0;
}

static size_t
ad_traffic(unsigned char ad[KEYS_AD_MAX], const struct keys_ad_cols *c)
{
	return keys_ad_traffic(ad, c->a, c->b);
}

static const struct keys_kind keys_kinds[] = {
        {"subject key", "subject_key", "uid, controller", 'b', ad_subject},
        {"visit day key", "day_key", "controller, expires_at", 'i', ad_day},
        {"root key", "root_key", "name, 0", 't', ad_root},
        {"traffic day key", "traffic_key", "controller, day", 'i', ad_traffic},
};
#define NKINDS (sizeof(keys_kinds) / sizeof(keys_kinds[0]))

static enum vaern_err
db_fail(struct db *db, struct vaern_msg *msg, const char *what)
{
	return vaern_fail(msg, VAERN_E_STORE, "keystore %s: %s", what,
	                  db_errmsg(db));
}

/* What the SQL function vaern_rewrap() works with. */
struct rewrap_ctx {
	struct keys_ring *r;
	struct keys_gen *to; /* the generation keys go under */
	unsigned char *key;  /* sodium_malloc'ed: one key at a time */
	unsigned char nonce[64 * KEYS_NONCE_BYTES]; /* drawn 64 at a time */
	size_t used;                /* bytes of nonce handed out */
	char failed[VAERN_MSG_MAX]; /* why a key did not open */
};

/*
 * The key of kind wrapped (len bytes) under generation kek, opened and
 * wrapped again under x->to into out (KEYS_WRAPPED bytes). -1, with
 * x->failed saying why, if it does not open: the caller fails its
 * transaction, so a key is never dropped and nothing is retired.
 */
static int
rewrap_one(struct rewrap_ctx *x, size_t kind, int64_t kek, const void *wrapped,
           size_t len, const struct keys_ad_cols *c,
           unsigned char out[KEYS_WRAPPED])
{
	unsigned char ad[KEYS_AD_MAX];
	struct keys_gen *g = keys_ring_find(x->r, kek);
	size_t adlen = keys_kinds[kind].ad(ad, c);

	if (g == NULL || adlen == 0 || wrapped == NULL ||
	    keys_open(g->wrap, wrapped, len, ad, adlen, x->key) != 0) {
		(void)snprintf(x->failed, sizeof(x->failed),
		               "a %s does not open under master key generation "
		               "%lld; nothing was retired",
		               keys_kinds[kind].name, (long long)kek);
		return -1;
	}
	if (x->used == sizeof(x->nonce)) {
		randombytes_buf(x->nonce, sizeof(x->nonce));
		x->used = 0;
	}
	keys_seal(x->to->wrap, x->key, ad, adlen, x->nonce + x->used, out);
	x->used += KEYS_NONCE_BYTES;
	sodium_memzero(x->key, KEYS_BYTES);
	return 0;
}

/*
 * vaern_rewrap(kind, kek, wrapped, ad1, ad2): rewrap_one as an SQL
 * function of SQLite, so one UPDATE re-wraps a rowid range in place; a
 * key that does not open is an error, which fails the UPDATE.
 */
static void
fn_rewrap(sqlite3_context *ctx, int argc, sqlite3_value **v)
{
	struct rewrap_ctx *x = sqlite3_user_data(ctx);
	unsigned char out[KEYS_WRAPPED];
	int kind = sqlite3_value_int(v[0]);
	struct keys_ad_cols c = {NULL, 0, 0, 0};

	(void)argc; /* 5: the function is registered with 5 */
	assert(argc == 5 && kind >= 0 && (size_t)kind < NKINDS);
	if (keys_kinds[kind].first == 'b') {
		c.p = sqlite3_value_blob(v[3]);
		c.n = sqlite3_value_bytes(v[3]);
	} else if (keys_kinds[kind].first == 't') {
		c.p = sqlite3_value_text(v[3]);
		c.n = sqlite3_value_bytes(v[3]);
	} else
		c.a = sqlite3_value_int64(v[3]);
	c.b = sqlite3_value_int64(v[4]);
	if (rewrap_one(x, (size_t)kind, sqlite3_value_int64(v[1]),
	               sqlite3_value_blob(v[2]),
	               (size_t)sqlite3_value_bytes(v[2]), &c, out) != 0) {
		sqlite3_result_error(ctx, x->failed, -1);
		return;
	}
	sqlite3_result_blob(ctx, out, KEYS_WRAPPED, SQLITE_TRANSIENT);
}

/*
 * Re-wraps the keys of kind k with rowid in (from, from + span] that are
 * not under generation to: one UPDATE, in place, inside the caller's
 * transaction. *n gets how many.
 */
static enum vaern_err
rewrap_range(struct db *db, size_t kind, int64_t to, int64_t from, int64_t span,
             int64_t *n, struct rewrap_ctx *x, struct vaern_msg *msg)
{
	const struct keys_kind *k = &keys_kinds[kind];
	char sql[320];
	struct db_stmt *s = NULL;
	int rc;

	*n = 0;
	(void)snprintf(sql, sizeof(sql),
	               "UPDATE ks.%s SET kek = ?2,"
	               " wrapped = vaern_rewrap(%zu, kek, wrapped, %s)"
	               " WHERE rowid > ?1 AND rowid <= ?3 AND kek <> ?2",
	               k->table, kind, k->ad_columns);
	if (db_prepare(db, sql, 0, &s) != DB_OK)
		return db_fail(db, msg, k->name);
	db_bind_int64(s, 1, from);
	db_bind_int64(s, 2, to);
	db_bind_int64(s, 3, from + span);
	x->failed[0] = '\0';
	rc = db_step(s);
	db_finalize(s);
	if (rc != DB_DONE) {
		if (x->failed[0] != '\0')
			return vaern_fail(msg, VAERN_E_CRYPTO, "%s", x->failed);
		return db_fail(db, msg, k->name);
	}
	*n = db_changes(db);
	return VAERN_OK;
}

/* ---- PostgreSQL's batches --------------------------------------------- */

#define PG_BATCH_DEFAULT 1000        /* keys per transaction on PostgreSQL */
#define PG_ARRAY_MAX     (64u << 20) /* bytes of one batch's arrays */

/* A growing array literal ({"...",...}), at most PG_ARRAY_MAX bytes. */
struct pg_array {
	char *p;
	size_t len, cap;
};

static int
array_add(struct pg_array *t, const char *s, size_t n)
{
	if (t->len + n + 2 > t->cap) {
		size_t cap = t->cap != 0 ? t->cap : 4096;
		char *q;

		while (cap < t->len + n + 2)
			cap *= 2;
		if (cap > PG_ARRAY_MAX || (q = realloc(t->p, cap)) == NULL)
			return -1;
		t->p = q;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
	return 0;
}

/* Adds one element: "{" before the first, "," before the others. */
static int
array_elem(struct pg_array *t, const char *prefix, const char *s, size_t n)
{
	return array_add(t, t->len == 0 ? "{\"" : ",\"", 2) ||
	       array_add(t, prefix, strlen(prefix)) || array_add(t, s, n) ||
	       array_add(t, "\"", 1);
}

/*
 * One batch on PostgreSQL, which has neither SQLite's rowid ranges nor an
 * SQL function running in this process (the master key never goes to
 * the server): up to batch keys of kind not under generation to, locked
 * (FOR UPDATE; with skip_locked, SKIP LOCKED: a second run, on this node
 * or another, takes other rows, and a row a node is erasing is left to
 * the retirement), re-wrapped here, and written back by their row
 * address (ctid: stable while the row is locked) in one UPDATE. Inside
 * the caller's transaction. *n gets how many; 0: none left to lock.
 */
static enum vaern_err
rewrap_pg_batch(struct db *db, size_t kind, int64_t to, size_t batch,
                int skip_locked, int64_t *n, struct rewrap_ctx *x,
                struct vaern_msg *msg)
{
	const struct keys_kind *k = &keys_kinds[kind];
	struct pg_array tids = {NULL, 0, 0}, keys = {NULL, 0, 0};
	char sql[400], hex[2 * KEYS_WRAPPED + 1];
	unsigned char out[KEYS_WRAPPED];
	enum vaern_err err = VAERN_OK;
	struct db_stmt *s = NULL;
	int64_t rows = 0;
	int rc;

	*n = 0;
	x->failed[0] = '\0';
	(void)snprintf(sql, sizeof(sql),
	               "SELECT ctid, kek, wrapped, %s FROM ks.%s"
	               " WHERE kek <> ?1 LIMIT ?2 FOR UPDATE%s",
	               k->ad_columns, k->table,
	               skip_locked ? " SKIP LOCKED" : "");
	if (db_prepare(db, sql, 0, &s) != DB_OK) {
		err = db_fail(db, msg, k->name);
		goto done;
	}
	db_bind_int64(s, 1, to);
	db_bind_int64(s, 2, (int64_t)batch);
	while ((rc = db_step(s)) == DB_ROW) {
		const char *tid = (const char *)db_column_text(s, 0);
		struct keys_ad_cols c = {NULL, 0, 0, 0};

		if (k->first == 'b')
			c.p = db_column_blob(s, 3);
		else if (k->first == 't')
			c.p = db_column_text(s, 3);
		else
			c.a = db_column_int64(s, 3);
		c.n = c.p != NULL ? db_column_bytes(s, 3) : 0;
		c.b = db_column_int64(s, 4);
		if (rewrap_one(x, kind, db_column_int64(s, 1),
		               db_column_blob(s, 2),
		               (size_t)db_column_bytes(s, 2), &c, out) != 0) {
			err = vaern_fail(msg, VAERN_E_CRYPTO, "%s", x->failed);
			goto done;
		}
		sodium_bin2hex(hex, sizeof(hex), out, sizeof(out));
		/* bytea's hex input, \x..., its backslash escaped */
		if (tid == NULL ||
		    array_elem(&tids, "", tid, strlen(tid)) != 0 ||
		    array_elem(&keys, "\\\\x", hex, 2 * KEYS_WRAPPED) != 0) {
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
			goto done;
		}
		rows++;
	}
	if (rc != DB_DONE) {
		err = db_fail(db, msg, k->name);
		goto done;
	}
	db_finalize(s);
	s = NULL;
	if (rows == 0)
		goto done;
	if (array_add(&tids, "}", 1) != 0 || array_add(&keys, "}", 1) != 0) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	/* ANY(...) makes it a TID scan; the join pairs each row with its
	 * new wrapping. */
	(void)snprintf(
	        sql, sizeof(sql),
	        "UPDATE ks.%s AS t SET kek = ?1, wrapped = v.w"
	        " FROM unnest(CAST(?2 AS TID[]), CAST(?3 AS BYTEA[]))"
	        " AS v(c, w)"
	        " WHERE t.ctid = ANY(CAST(?2 AS TID[])) AND t.ctid = v.c",
	        k->table);
	if (db_prepare(db, sql, 0, &s) != DB_OK) {
		err = db_fail(db, msg, k->name);
		goto done;
	}
	db_bind_int64(s, 1, to);
	db_bind_text(s, 2, tids.p, (int)tids.len);
	db_bind_text(s, 3, keys.p, (int)keys.len);
	if (db_step(s) != DB_DONE) {
		err = db_fail(db, msg, k->name);
		goto done;
	}
	if (db_changes(db) != rows) {
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "keystore %s: %lld of %lld locked keys "
		                 "re-wrapped; nothing was retired",
		                 k->name, (long long)db_changes(db),
		                 (long long)rows);
		goto done;
	}
	*n = rows;
done:
	db_finalize(s);
	free(tids.p);
	free(keys.p);
	sodium_memzero(hex, sizeof(hex));
	return err;
}

/*
 * Every key not under r's newest generation, on PostgreSQL: batches of
 * batch keys, each its own short transaction (commit: 1; no advisory
 * lock, the rows' own locks suffice, so the nodes write on), or all
 * inside the caller's (commit: 0: the retirement, which holds the store
 * lock every writer of keys takes, and so takes every key left, locked
 * or not). The keys themselves are the progress: a run that dies loses
 * its open batch only, and the next run, on any node, goes on.
 */
static enum vaern_err
rewrap_pg(struct db *db, size_t batch, int commit, int64_t *total, int64_t left,
          struct rewrap_ctx *x, const struct keys_rotate_opts *o,
          struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	int64_t n;

	if (batch == 0)
		batch = PG_BATCH_DEFAULT;
	for (size_t i = 0; i < NKINDS && err == VAERN_OK; i++) {
		do {
			if (commit && db_exec(db, "BEGIN", NULL) != DB_OK) {
				err = db_fail(db, msg, "begin");
				break;
			}
			err = rewrap_pg_batch(db, i, x->r->newest, batch,
			                      commit, &n, x, msg);
			if (commit && err == VAERN_OK &&
			    db_exec(db, "COMMIT", NULL) != DB_OK)
				err = db_fail(db, msg, "commit");
			if (commit && err != VAERN_OK)
				(void)db_exec(db, "ROLLBACK", NULL);
			if (err == VAERN_OK)
				*total += n;
			if (err == VAERN_OK && n > 0 && o != NULL &&
			    o->progress)
				o->progress(o->progress_arg, *total, left);
		} while (err == VAERN_OK && n > 0);
	}
	return err;
}

/* The largest rowid of table (0 if empty). */
static int64_t
max_rowid(struct db *db, const char *table)
{
	char sql[96];
	struct db_stmt *s = NULL;
	int64_t m = 0;

	(void)snprintf(sql, sizeof(sql), "SELECT max(rowid) FROM ks.%s", table);
	if (db_prepare(db, sql, 0, &s) == DB_OK && db_step(s) == DB_ROW)
		m = db_column_int64(s, 0);
	db_finalize(s);
	return m;
}

/* Keys of every kind not under generation to. */
static enum vaern_err
count_left(struct db *db, int64_t to, int64_t *n, struct vaern_msg *msg)
{
	char sql[128];
	struct db_stmt *s = NULL;

	*n = 0;
	for (size_t i = 0; i < NKINDS; i++) {
		(void)snprintf(sql, sizeof(sql),
		               "SELECT count(*) FROM ks.%s WHERE kek <> ?1",
		               keys_kinds[i].table);
		if (db_prepare(db, sql, 0, &s) != DB_OK)
			return db_fail(db, msg, "count");
		db_bind_int64(s, 1, to);
		if (db_step(s) == DB_ROW)
			*n += db_column_int64(s, 0);
		db_finalize(s);
	}
	return VAERN_OK;
}

/*
 * Re-wraps every key not under r's newest generation, in rowid ranges of
 * batch: each range its own transaction (commit: 1), or all inside the
 * caller's (commit: 0). Rows added meanwhile get higher rowids and are
 * reached; the retirement's pass (commit: 0) catches any other.
 */
static enum vaern_err
rewrap(struct keys_ring *r, struct db *db, size_t batch, int commit,
       int64_t *total, const struct keys_rotate_opts *o, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	struct rewrap_ctx *x = NULL;
	int64_t left = 0, from, n;

	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->key = sodium_malloc(KEYS_BYTES)) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	x->r = r;
	x->used = sizeof(x->nonce);
	if ((x->to = keys_ring_find(r, r->newest)) == NULL) {
		err = vaern_fail(msg, VAERN_E_INTERNAL,
		                 "the new master key is not held");
		goto done;
	}
	if (o != NULL && o->progress != NULL &&
	    (err = count_left(db, r->newest, &left, msg)) != VAERN_OK)
		goto done;
	if (db_engine(db) != DB_SQLITE) {
		err = rewrap_pg(db, batch, commit, total, left, x, o, msg);
		goto done;
	}
	/* SQLite: an SQL function re-wraps rowid ranges in place. */
	if (sqlite3_create_function(db->lite, "vaern_rewrap", 5,
	                            SQLITE_UTF8 | SQLITE_DIRECTONLY, x,
	                            fn_rewrap, NULL, NULL) != DB_OK) {
		err = db_fail(db, msg, "function");
		goto done;
	}
	if (batch == 0)
		batch = BATCH_DEFAULT;
	for (size_t i = 0; i < NKINDS && err == VAERN_OK; i++) {
		for (from = 0; err == VAERN_OK &&
		               from < max_rowid(db, keys_kinds[i].table);
		     from += (int64_t)batch) {
			if (commit &&
			    db_begin(db, DB_WRITE, DB_LOCK_STORE) != DB_OK) {
				err = db_fail(db, msg, "begin");
				break;
			}
			err = rewrap_range(db, i, r->newest, from,
			                   (int64_t)batch, &n, x, msg);
			if (commit && err == VAERN_OK &&
			    db_exec(db, "COMMIT", NULL) != DB_OK)
				err = db_fail(db, msg, "commit");
			if (commit && err != VAERN_OK)
				(void)db_exec(db, "ROLLBACK", NULL);
			if (err == VAERN_OK)
				*total += n;
			if (err == VAERN_OK && o != NULL && o->progress)
				o->progress(o->progress_arg, *total, left);
		}
	}
done:
	if (x != NULL) {
		if (db_engine(db) == DB_SQLITE)
			(void)sqlite3_create_function(db->lite, "vaern_rewrap",
			                              5, SQLITE_UTF8, NULL,
			                              NULL, NULL, NULL);
		sodium_free(x->key);
		sodium_memzero(x, sizeof(*x));
		free(x);
	}
	return err;
}

enum vaern_err
keys_rewrap_all(struct keys_ring *r, struct store *st, size_t batch, int64_t *n,
                const struct keys_rotate_opts *o, struct vaern_msg *msg)
{
	enum vaern_err err;

	*n = 0;
	/* No checkpoint per batch (each would copy and fsync what the next
	 * batch rewrites): one at the end (keys_rotate), as the sweep does. */
	store_set_autocheckpoint(st, 0);
	err = rewrap(r, store_sqlite_db(st), batch, 1, n, o, msg);
	store_set_autocheckpoint(st, STORE_AUTOCHECKPOINT_DEFAULT);
	return err;
}

/* ---- the steps ------------------------------------------------------- */

static enum vaern_err
path_in(char *out, const char *dir, const char *file, struct vaern_msg *msg)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, file);

	if (n < 0 || n >= PATH_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the data directory path is too long");
	return VAERN_OK;
}

/* The generation and state of the master key key (0 and "" if none). */
static enum vaern_err
kek_of(struct db *db, const unsigned char *key, int64_t *gen, char state[16],
       struct vaern_msg *msg)
{
	char check[KEYS_HEX + 1];
	struct db_stmt *s = NULL;

	*gen = 0;
	state[0] = '\0';
	keys_check_value(key, check);
	if (db_prepare(db,
	               "SELECT gen, state FROM ks.kek"
	               " WHERE check_value = ?1",
	               0, &s) != DB_OK)
		return db_fail(db, msg, "kek");
	db_bind_text(s, 1, check, KEYS_HEX);
	if (db_step(s) == DB_ROW) {
		*gen = db_column_int64(s, 0);
		(void)snprintf(state, 16, "%s", db_column_text(s, 1));
	}
	db_finalize(s);
	return VAERN_OK;
}

/* Makes the file's directory entry durable (a rename). */
static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/*
 * Step 3's rename, if a run died between the retirement and the rename:
 * master.key.next holds the current generation, master.key a retired
 * one. *done is 1 if it renamed.
 */
static enum vaern_err
finish_rename(struct db *db, const char *dir, const char *keyp,
              const char *nextp, unsigned char *tmp, int *done,
              struct vaern_msg *msg)
{
	enum vaern_err err;
	char state[16];
	int64_t gen;

	*done = 0;
	if (!keys_source_is_default() || access(nextp, F_OK) != 0)
		return VAERN_OK;
	if ((err = keys_file_read(nextp, tmp, msg)) != VAERN_OK ||
	    (err = kek_of(db, tmp, &gen, state, msg)) != VAERN_OK)
		return err;
	if (strcmp(state, "current") != 0)
		return VAERN_OK;
	if ((err = keys_file_read(keyp, tmp, msg)) != VAERN_OK ||
	    (err = kek_of(db, tmp, &gen, state, msg)) != VAERN_OK)
		return err;
	if (strcmp(state, "retired") != 0 && gen != 0)
		return VAERN_OK;
	if (rename(nextp, keyp) != 0)
		return vaern_fail(msg, VAERN_E_IO, "%s: %s", keyp,
		                  strerror(errno));
	sync_dir(dir);
	*done = 1;
	return VAERN_OK;
}

/* The new master key into key: given, or left by a run that died in
 * state 1, or made now in master.key.next (default source only). */
static enum vaern_err
new_key(const char *nextp, const struct keys_rotate_opts *o, unsigned char *key,
        struct vaern_msg *msg)
{
	enum vaern_err err;

	if (o->new_key_file != NULL)
		return keys_file_read(o->new_key_file, key, msg);
	if (o->new_key_command != NULL)
		return keys_command_read(o->new_key_command, key, msg);
	if (!keys_source_is_default())
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the master key does not come from "
		                  "master.key: give the new one with "
		                  "--new-key-file or --new-key-command");
	err = keys_file_create(nextp, NULL, msg);
	if (err != VAERN_OK && err != VAERN_E_EXISTS)
		return err;
	return keys_file_read(nextp, key, msg);
}

/* State 1 to 2: records generation n with the cross-wrappings. */
static enum vaern_err
begin_next(struct keys_ring *r, struct db *db, const unsigned char *master,
           int64_t *n, struct vaern_msg *msg)
{
	unsigned char ad[KEYS_AD_MAX], nonce[KEYS_NONCE_BYTES];
	unsigned char up[KEYS_WRAPPED], down[KEYS_WRAPPED];
	char check[KEYS_HEX + 1];
	struct keys_gen *gc = keys_ring_find(r, r->newest), *gn;
	enum vaern_err err = VAERN_OK;
	struct db_stmt *s = NULL;
	int64_t gen = 0;

	if (db_begin(db, DB_WRITE, DB_LOCK_STORE) != DB_OK)
		return db_fail(db, msg, "begin");
	/* Under the write lock: one rotation at a time. */
	if (db_prepare(db,
	               "SELECT max(gen) + 1, count(*) FILTER (WHERE state = "
	               "'next')"
	               " FROM ks.kek",
	               0, &s) == DB_OK &&
	    db_step(s) == DB_ROW) {
		gen = db_column_int64(s, 0);
		if (db_column_double(s, 1) > 0) {
			err = vaern_fail(msg, VAERN_E_EXISTS,
			                 "another key rotation is under way");
			goto done;
		}
	}
	db_finalize(s);
	s = NULL;
	if (gen < 2 || gc == NULL ||
	    (gn = keys_ring_add(r, gen, master)) == NULL) {
		err = vaern_fail(msg, VAERN_E_INTERNAL,
		                 "cannot begin the rotation");
		goto done;
	}
	randombytes_buf(nonce, sizeof(nonce));
	keys_seal(gc->wrap, gn->master, ad, keys_ad_kek(ad, 1, gen), nonce, up);
	randombytes_buf(nonce, sizeof(nonce));
	keys_seal(gn->wrap, gc->master, ad, keys_ad_kek(ad, 0, gen), nonce,
	          down);
	keys_check_value(master, check);
	if (db_prepare(db,
	               "INSERT INTO ks.kek(gen, check_value, state,"
	               " created_at, up, down)"
	               " VALUES (?1, ?2, 'next', ?3, ?4, ?5)",
	               0, &s) != DB_OK) {
		err = db_fail(db, msg, "kek");
		goto done;
	}
	db_bind_int64(s, 1, gen);
	db_bind_text(s, 2, check, KEYS_HEX);
	db_bind_int64(s, 3, clock_now());
	db_bind_blob(s, 4, up, KEYS_WRAPPED);
	db_bind_blob(s, 5, down, KEYS_WRAPPED);
	if (db_step(s) != DB_DONE)
		err = db_fail(db, msg, "kek");
done:
	db_finalize(s);
	if (err == VAERN_OK && db_exec(db, "COMMIT", NULL) != DB_OK)
		err = db_fail(db, msg, "commit");
	if (err != VAERN_OK)
		(void)db_exec(db, "ROLLBACK", NULL);
	else
		r->newest = gen;
	*n = gen;
	return err;
}

/* State 2 to 3, in one transaction: the last keys, then the retirement. */
static enum vaern_err
retire(struct keys_ring *r, struct db *db, int64_t *total,
       struct vaern_msg *msg)
{
	enum vaern_err err;
	struct db_stmt *s = NULL;

	if (db_begin(db, DB_WRITE, DB_LOCK_STORE) != DB_OK)
		return db_fail(db, msg, "begin");
	err = rewrap(r, db, BATCH_DEFAULT, 0, total, NULL, msg);
	if (err == VAERN_OK &&
	    db_prepare(db,
	               "UPDATE ks.kek SET"
	               " state = CASE gen WHEN ?1 THEN 'current'"
	               "  ELSE 'retired' END,"
	               " retired_at = CASE gen WHEN ?1 THEN NULL"
	               "  ELSE coalesce(retired_at, ?2) END,"
	               " up = NULL, down = NULL",
	               0, &s) != DB_OK)
		err = db_fail(db, msg, "kek");
	if (err == VAERN_OK) {
		db_bind_int64(s, 1, r->newest);
		db_bind_int64(s, 2, clock_now());
		if (db_step(s) != DB_DONE)
			err = db_fail(db, msg, "kek");
	}
	db_finalize(s);
	if (err == VAERN_OK && db_exec(db, "COMMIT", NULL) != DB_OK)
		err = db_fail(db, msg, "commit");
	if (err != VAERN_OK)
		(void)db_exec(db, "ROLLBACK", NULL);
	return err;
}

enum vaern_err
keys_rotate(const char *dir, const struct keys_rotate_opts *o,
            struct keys_rotate_report *rep, struct vaern_msg *msg)
{
	char dbp[PATH_MAX], keyp[PATH_MAX], nextp[PATH_MAX], state[16];
	struct store *st = NULL;
	struct keys_ring *r = NULL;
	unsigned char *tmp = NULL;
	enum vaern_err err;
	struct timespec t0, t1;
	struct db *db;
	int64_t gen = 0, next = 0;
	int from_next_file = 0, logged = 0, done = 0, on_pg;

	memset(rep, 0, sizeof(*rep));
	{
		char probe[8];

		/* On PostgreSQL (DIR/store.conf) there is no vaern.db. */
		on_pg = db_store_conf(dir, 1, probe, sizeof(probe)) != 0;
		sodium_memzero(probe, sizeof(probe));
	}
	if ((err = path_in(dbp, dir, "vaern.db", msg)) ||
	    (err = path_in(keyp, dir, KEYS_FILE, msg)) ||
	    (err = path_in(nextp, dir, KEYS_NEXT_FILE, msg)))
		return err;
	if ((tmp = sodium_malloc(KEYS_BYTES)) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	if (!on_pg && access(dbp, F_OK) != 0) {
		err = vaern_fail(msg, VAERN_E_NOTFOUND,
		                 "%s: no database; is %s a data directory?",
		                 dbp, dir);
		goto done;
	}
	if ((err = store_open_sqlite(dbp, 0, &st, msg)) != VAERN_OK)
		goto done;
	db = store_sqlite_db(st);
	if ((err = finish_rename(db, dir, keyp, nextp, tmp, &done, msg)))
		goto done;
	if (done) {
		rep->resumed = rep->key_file_renamed = 1;
		goto done;
	}
	if ((err = keys_ring_open(st, dir, &r, msg)) != VAERN_OK) {
		/* A wrong or retired master key is the caller's input. */
		if (err == VAERN_E_CRYPTO)
			err = VAERN_E_INVALID;
		goto done;
	}
	rep->from_gen = r->newest;
	{
		struct db_stmt *s = NULL;

		if (db_prepare(db,
		               "SELECT gen FROM ks.kek"
		               " WHERE state = 'next'",
		               0, &s) == DB_OK &&
		    db_step(s) == DB_ROW)
			next = db_column_int64(s, 0);
		db_finalize(s);
	}
	if (next != 0) {
		/* State 2: resume; the ring holds both by the cross-wrap. A
		 * new key given must be the one it is rotating to. */
		rep->resumed = 1;
		if (o->new_key_file != NULL || o->new_key_command != NULL) {
			if ((err = new_key(nextp, o, tmp, msg)) != VAERN_OK ||
			    (err = kek_of(db, tmp, &gen, state, msg)) !=
			            VAERN_OK)
				goto done;
			if (gen != next) {
				err = vaern_fail(msg, VAERN_E_INVALID,
				                 "a rotation to another key is "
				                 "under way: run 'vaern key "
				                 "rotate' without a new key to "
				                 "finish it first");
				goto done;
			}
		}
		if (keys_ring_find(r, next) == NULL) {
			err = vaern_fail(
			        msg, VAERN_E_CRYPTO,
			        "a rotation is under way and the new "
			        "key cannot be taken from the keystore");
			goto done;
		}
		r->newest = next;
		for (size_t i = 0; i < KEYS_GEN_MAX; i++)
			if (r->g[i].gen != 0 && r->g[i].gen < rep->from_gen)
				rep->from_gen = r->g[i].gen;
		if (rep->from_gen == next)
			rep->from_gen = next - 1;
		from_next_file =
		        keys_source_is_default() && access(nextp, F_OK) == 0;
	} else {
		if ((err = new_key(nextp, o, tmp, msg)) != VAERN_OK ||
		    (err = kek_of(db, tmp, &gen, state, msg)) != VAERN_OK)
			goto done;
		if (gen != 0) {
			err = vaern_fail(msg, VAERN_E_INVALID,
			                 "the new master key is not new: it is "
			                 "generation %lld (%s)",
			                 (long long)gen, state);
			goto done;
		}
		from_next_file =
		        o->new_key_file == NULL && o->new_key_command == NULL;
		if ((err = begin_next(r, db, tmp, &next, msg)) != VAERN_OK)
			goto done;
	}
	rep->to_gen = next;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((err = keys_rewrap_all(r, st, o->batch, &rep->rewrapped, o, msg)) !=
	            VAERN_OK ||
	    (err = retire(r, db, &rep->rewrapped, msg)) != VAERN_OK)
		goto done;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rep->seconds = (double)(t1.tv_sec - t0.tv_sec) +
	               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* The cross-wrappings' pages, zeroed (secure_delete), leave the
	 * log too. */
	if (db_engine(db) == DB_SQLITE)
		(void)sqlite3_wal_checkpoint_v2(db->lite, NULL,
		                                SQLITE_CHECKPOINT_TRUNCATE,
		                                &logged, &done);
	else
		/* PostgreSQL keeps the old row versions (the keys under the
		 * retired generation, the cross-wrappings) until a vacuum:
		 * one now, which takes no lock that stops the nodes. Their
		 * bytes may stay in free space and in the WAL until
		 * overwritten: destroy the retired key (docs/operations.md).
		 */
		(void)db_exec(db,
		              "VACUUM ks.kek, ks.subject_key, ks.day_key,"
		              " ks.root_key, ks.traffic_key",
		              NULL);
	if (from_next_file) {
		if (rename(nextp, keyp) != 0) {
			err = vaern_fail(msg, VAERN_E_IO, "%s: %s", keyp,
			                 strerror(errno));
			goto done;
		}
		sync_dir(dir);
		rep->key_file_renamed = 1;
	}
done:
	keys_ring_free(r);
	store_close(st);
	sodium_free(tmp);
	return err;
}
