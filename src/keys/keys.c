/*
 * keys.c -- the ring: the master key generations one process holds, the
 * wrap keys derived from them, and the index root (see keys.h).
 */
#include "keys.h"

#include "../store/db.h"
#include <assert.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../calendar/calendar.h"
#include "../store/store.h"
#include "keys_internal.h"

#define KDF_CTX_WRAP "vaernwrp" /* wraps keys; the same as before issue 13 */

static void
le64(unsigned char *p, int64_t v)
{
	uint64_t u = (uint64_t)v;

	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(u >> (8 * i));
}

size_t
keys_ad_subject(unsigned char ad[KEYS_AD_MAX], const unsigned char *uid,
                int64_t controller)
{
	memcpy(ad, uid, STORE_UID_BYTES);
	le64(ad + STORE_UID_BYTES, controller);
	return STORE_UID_BYTES + 8;
}

#define DAY_AD_DOMAIN "vaern visit key"
size_t
keys_ad_day(unsigned char ad[KEYS_AD_MAX], int64_t controller,
            int64_t expires_at)
{
	size_t d = sizeof(DAY_AD_DOMAIN) - 1;

	memcpy(ad, DAY_AD_DOMAIN, d);
	le64(ad + d, controller);
	le64(ad + d + 8, expires_at);
	return d + 16;
}

#define TRAFFIC_AD_DOMAIN "vaern traffic day"
size_t
keys_ad_traffic(unsigned char ad[KEYS_AD_MAX], int64_t controller, int64_t day)
{
	size_t d = sizeof(TRAFFIC_AD_DOMAIN) - 1;

	memcpy(ad, TRAFFIC_AD_DOMAIN, d);
	le64(ad + d, controller);
	le64(ad + d + 8, day);
	return d + 16;
}

size_t
keys_ad_root(unsigned char ad[KEYS_AD_MAX], const char *name)
{
	size_t n = strlen(name);

	if (n > KEYS_AD_MAX - 10)
		n = KEYS_AD_MAX - 10;
	memcpy(ad, "vaern root", 10);
	memcpy(ad + 10, name, n);
	return 10 + n;
}

size_t
keys_ad_kek(unsigned char ad[KEYS_AD_MAX], int up, int64_t gen)
{
	memcpy(ad, up ? "vaern kek up  " : "vaern kek down", 14);
	le64(ad + 14, gen);
	return 22;
}

/* ---- generations ----------------------------------------------------- */

struct keys_gen *
keys_ring_find(struct keys_ring *r, int64_t gen)
{
	for (size_t i = 0; i < KEYS_GEN_MAX; i++)
		if (r->g[i].gen == gen && gen != 0)
			return &r->g[i];
	return NULL;
}

/* Takes master as generation gen (an empty slot). */
struct keys_gen *
keys_ring_add(struct keys_ring *r, int64_t gen, const unsigned char *master)
{
	struct keys_gen *g = keys_ring_find(r, gen);

	for (size_t i = 0; g == NULL && i < KEYS_GEN_MAX; i++)
		if (r->g[i].gen == 0)
			g = &r->g[i];
	if (g == NULL)
		return NULL;
	g->gen = gen;
	memcpy(g->master, master, KEYS_BYTES);
	crypto_kdf_derive_from_key(g->wrap, KEYS_BYTES, 1, KDF_CTX_WRAP,
	                           g->master);
	return g;
}

static void
gen_drop(struct keys_gen *g)
{
	sodium_memzero(g, sizeof(*g));
}

void
keys_seal(const unsigned char *wrapkey, const unsigned char *key,
          const unsigned char *ad, size_t adlen, const unsigned char *nonce,
          unsigned char *out)
{
	memcpy(out, nonce, KEYS_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + KEYS_NONCE_BYTES, NULL,
	                                           key, KEYS_BYTES, ad, adlen,
	                                           NULL, out, wrapkey);
}

int
keys_open(const unsigned char *wrapkey, const unsigned char *wrapped,
          size_t len, const unsigned char *ad, size_t adlen, unsigned char *key)
{
	if (len != KEYS_WRAPPED)
		return -1;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(
	        key, NULL, NULL, wrapped + KEYS_NONCE_BYTES,
	        len - KEYS_NONCE_BYTES, ad, adlen, wrapped, wrapkey);
}

void
keys_wrap(const struct keys_ring *r, const unsigned char *key,
          const unsigned char *ad, size_t adlen, const unsigned char *nonce,
          unsigned char *out, int64_t *gen)
{
	const struct keys_gen *g = NULL;

	for (size_t i = 0; i < KEYS_GEN_MAX; i++)
		if (r->g[i].gen == r->newest)
			g = &r->g[i];
	assert(g != NULL);
	keys_seal(g->wrap, key, ad, adlen, nonce, out);
	*gen = g->gen;
}

enum vaern_err
keys_unwrap(struct keys_ring *r, struct store *st, int64_t gen,
            const unsigned char *wrapped, size_t len, const unsigned char *ad,
            size_t adlen, unsigned char *key, struct vaern_msg *msg)
{
	struct keys_gen *g = keys_ring_find(r, gen);
	enum vaern_err err;

	if (g == NULL && st != NULL) {
		r->seen_max = -1; /* force a full look */
		if ((err = keys_ring_refresh(r, st, msg)) != VAERN_OK)
			return err;
		g = keys_ring_find(r, gen);
	}
	if (g == NULL)
		return vaern_fail(
		        msg, VAERN_E_CRYPTO,
		        "a key is wrapped under master key generation "
		        "%lld, which this process does not hold",
		        (long long)gen);
	if (keys_open(g->wrap, wrapped, len, ad, adlen, key) != 0)
		return vaern_fail(
		        msg, VAERN_E_CRYPTO,
		        "a wrapped key failed authentication: wrong "
		        "master key, or the row was altered or moved");
	return VAERN_OK;
}

int64_t
keys_ring_newest(const struct keys_ring *r)
{
	return r->newest;
}

const unsigned char *
keys_ring_root(const struct keys_ring *r)
{
	return r->root;
}

/* ---- the kek table ---------------------------------------------------- */

/*
 * Takes the other generation of a rotation under way from its wrapping
 * under one r holds: row (gen, state, up, down). up is gen's master under
 * the previous generation's wrap key; down is the previous one's under
 * gen's.
 */
static void
take_cross(struct keys_ring *r, int64_t gen, int64_t prev,
           const unsigned char *up, size_t uplen, const unsigned char *down,
           size_t downlen)
{
	unsigned char ad[KEYS_AD_MAX], *m = r->scratch;
	struct keys_gen *have_new = keys_ring_find(r, gen);
	struct keys_gen *have_old = keys_ring_find(r, prev);
	size_t adlen;

	if (have_old != NULL && have_new == NULL && up != NULL) {
		adlen = keys_ad_kek(ad, 1, gen);
		if (keys_open(have_old->wrap, up, uplen, ad, adlen, m) == 0)
			(void)keys_ring_add(r, gen, m);
	} else if (have_new != NULL && have_old == NULL && down != NULL) {
		adlen = keys_ad_kek(ad, 0, gen);
		if (keys_open(have_new->wrap, down, downlen, ad, adlen, m) == 0)
			(void)keys_ring_add(r, prev, m);
	}
	sodium_memzero(m, KEYS_BYTES);
}

/* The newest generation r holds that is not retired; 0 if none. */
static int64_t
newest_live(struct keys_ring *r, const int64_t *live, size_t nlive)
{
	int64_t best = 0;

	for (size_t i = 0; i < nlive; i++)
		if (keys_ring_find(r, live[i]) != NULL && live[i] > best)
			best = live[i];
	return best;
}

enum vaern_err
keys_ring_refresh(struct keys_ring *r, struct store *st, struct vaern_msg *msg)
{
	struct db *db = store_sqlite_db(st);
	struct db_stmt *s = NULL;
	enum vaern_err err = VAERN_OK;
	int64_t live[KEYS_GEN_MAX], current = 0, maxgen = 0, nretired = 0;
	int64_t prev = 0;
	size_t nlive = 0;
	int rc;

	/* Every write transaction asks: the statement is kept prepared (on
	 * the one connection it was made on; keys_ring_free finalises it). */
	if (r->probe_db != db) {
		db_finalize(r->probe);
		r->probe = NULL;
		r->probe_db = db;
		if (db_prepare(db,
		               "SELECT max(gen), count(*) FILTER (WHERE state"
		               " = 'retired') FROM ks.kek",
		               1, &r->probe) != DB_OK) {
			r->probe_db = NULL;
			return vaern_fail(msg, VAERN_E_STORE, "keystore: %s",
			                  db_errmsg(db));
		}
	}
	if (db_step(r->probe) != DB_ROW) {
		db_reset(r->probe);
		return vaern_fail(msg, VAERN_E_STORE, "keystore: %s",
		                  db_errmsg(db));
	}
	maxgen = db_column_int64(r->probe, 0);
	nretired = db_column_int64(r->probe, 1);
	db_reset(r->probe);
	if (maxgen == r->seen_max && nretired == r->seen_retired)
		return VAERN_OK;
	if (db_prepare(db,
	               "SELECT gen, state, up, down FROM ks.kek"
	               " ORDER BY gen",
	               0, &s) != DB_OK)
		return vaern_fail(msg, VAERN_E_STORE, "keystore: %s",
		                  db_errmsg(db));
	while ((rc = db_step(s)) == DB_ROW) {
		int64_t gen = db_column_int64(s, 0);
		const char *state = (const char *)db_column_text(s, 1);
		struct keys_gen *g = keys_ring_find(r, gen);

		if (state != NULL && strcmp(state, "retired") == 0) {
			if (g != NULL)
				gen_drop(g); /* the old key goes */
			continue;
		}
		if (state != NULL && strcmp(state, "current") == 0)
			current = gen;
		if (nlive < KEYS_GEN_MAX)
			live[nlive++] = gen;
		if (state != NULL && strcmp(state, "next") == 0 && prev != 0)
			take_cross(r, gen, prev, db_column_blob(s, 2),
			           (size_t)db_column_bytes(s, 2),
			           db_column_blob(s, 3),
			           (size_t)db_column_bytes(s, 3));
		prev = gen;
	}
	db_finalize(s);
	if (rc != DB_DONE)
		return vaern_fail(msg, VAERN_E_STORE, "keystore: %s",
		                  db_errmsg(db));
	if (newest_live(r, live, nlive) == 0 && current != 0) {
		/* A rotation finished while this process held only the old
		 * key: its source may give the new one now. */
		err = keys_ring_reload(r, st, msg);
		if (err != VAERN_OK)
			return err;
	}
	if ((r->newest = newest_live(r, live, nlive)) == 0)
		return vaern_fail(msg, VAERN_E_CRYPTO,
		                  "the master key was retired by a key "
		                  "rotation; give vaern the new key "
		                  "(docs/operations.md)");
	r->seen_max = maxgen;
	r->seen_retired = nretired;
	return VAERN_OK;
}

/*
 * Loads the master key from its source and finds its generation: *state
 * gets its state ("current", "next", "retired") or "" if it is none of
 * the keystore's.
 */
static enum vaern_err
scratch_generation(struct keys_ring *r, struct store *st, int64_t *gen,
                   char *state, size_t statesz, struct vaern_msg *msg)
{
	struct db *db = store_sqlite_db(st);
	struct db_stmt *s = NULL;
	char check[KEYS_HEX + 1];

	keys_check_value(r->scratch, check);
	if (db_prepare(db,
	               "SELECT gen, state FROM ks.kek"
	               " WHERE check_value = ?1",
	               0, &s) != DB_OK) {
		sodium_memzero(r->scratch, KEYS_BYTES);
		return vaern_fail(msg, VAERN_E_STORE, "keystore: %s",
		                  db_errmsg(db));
	}
	db_bind_text(s, 1, check, KEYS_HEX);
	if (db_step(s) == DB_ROW) {
		*gen = db_column_int64(s, 0);
		(void)snprintf(state, statesz, "%s",
		               (const char *)db_column_text(s, 1));
	}
	db_finalize(s);
	if (*gen != 0 && strcmp(state, "retired") != 0)
		(void)keys_ring_add(r, *gen, r->scratch);
	sodium_memzero(r->scratch, KEYS_BYTES);
	return VAERN_OK;
}

static enum vaern_err
load_source(struct keys_ring *r, struct store *st, int64_t *gen, char *state,
            size_t statesz, struct vaern_msg *msg)
{
	enum vaern_err err;

	*gen = 0;
	state[0] = '\0';
	if ((err = keys_master_load(r->dir, r->scratch, r->source, msg)))
		return err;
	return scratch_generation(r, st, gen, state, statesz, msg);
}

enum vaern_err
keys_ring_reload(struct keys_ring *r, struct store *st, struct vaern_msg *msg)
{
	char state[16], next[PATH_MAX];
	enum vaern_err err;
	int64_t gen;
	int n;

	if ((err = load_source(r, st, &gen, state, sizeof(state), msg)) ||
	    (gen != 0 && strcmp(state, "retired") != 0))
		return err;
	/* GDPR-32, issue 14: a rotation ended (on this node or another)
	 * while this process held only the old key, and master.key is not
	 * yet the new one: with the default source the new key is
	 * master.key.next until this node's `vaern key rotate` renames it
	 * (placed there beforehand on every node of a PostgreSQL store). */
	n = snprintf(next, sizeof(next), "%s/%s", r->dir, KEYS_NEXT_FILE);
	if (!keys_source_is_default() || n < 0 || (size_t)n >= sizeof(next) ||
	    access(next, F_OK) != 0)
		return VAERN_OK;
	if ((err = keys_file_read(next, r->scratch, msg)) != VAERN_OK)
		return err;
	state[0] = '\0';
	return scratch_generation(r, st, &gen, state, sizeof(state), msg);
}

/* ---- open, init ------------------------------------------------------- */

/* The index root: unwrapped, or made for a vault from before issue 13
 * (its blind indexes derive from the master key of generation 1). */
static enum vaern_err
load_root(struct keys_ring *r, struct store *st, struct vaern_msg *msg)
{
	struct db *db = store_sqlite_db(st);
	unsigned char ad[KEYS_AD_MAX], wrapped[KEYS_WRAPPED];
	unsigned char nonce[KEYS_NONCE_BYTES];
	size_t adlen = keys_ad_root(ad, KEYS_ROOT_INDEX);
	enum vaern_err err;
	struct keys_gen *g1;
	int64_t gen = 0;

	err = keys_root_get(r, st, KEYS_ROOT_INDEX, 0, r->root, msg);
	if (err != VAERN_E_NOTFOUND)
		return err;
	if ((g1 = keys_ring_find(r, 1)) == NULL)
		return vaern_fail(msg, VAERN_E_CRYPTO,
		                  "the keystore has no index root");
	memcpy(r->root, g1->master, KEYS_BYTES);
	randombytes_buf(nonce, sizeof(nonce));
	keys_wrap(r, r->root, ad, adlen, nonce, wrapped, &gen);
	if (db_begin(db, DB_WRITE, DB_LOCK_STORE) != DB_OK)
		return vaern_fail(msg, VAERN_E_STORE, "keystore: %s",
		                  db_errmsg(db));
	err = keys_root_put(db, KEYS_ROOT_INDEX, gen, wrapped, msg);
	if (err == VAERN_OK && db_exec(db, "COMMIT", NULL) != DB_OK)
		err = vaern_fail(msg, VAERN_E_STORE, "keystore: %s",
		                 db_errmsg(db));
	if (err != VAERN_OK)
		(void)db_exec(db, "ROLLBACK", NULL);
	return err;
}

enum vaern_err
keys_root_get(struct keys_ring *r, struct store *st, const char *name,
              int create, unsigned char *key, struct vaern_msg *msg)
{
	struct db *db = store_sqlite_db(st);
	struct db_stmt *s = NULL;
	unsigned char ad[KEYS_AD_MAX], wrapped[KEYS_WRAPPED];
	unsigned char nonce[KEYS_NONCE_BYTES];
	size_t adlen = keys_ad_root(ad, name), len = 0;
	int64_t gen = 0;
	int rc;

	if (db_prepare(db,
	               "SELECT kek, wrapped FROM ks.root_key"
	               " WHERE name = ?1",
	               0, &s) != DB_OK)
		return vaern_fail(msg, VAERN_E_STORE, "keystore: %s",
		                  db_errmsg(db));
	db_bind_text(s, 1, name, -1);
	if ((rc = db_step(s)) == DB_ROW) {
		gen = db_column_int64(s, 0);
		len = (size_t)db_column_bytes(s, 1);
		if (len == KEYS_WRAPPED)
			memcpy(wrapped, db_column_blob(s, 1), len);
	}
	db_finalize(s);
	if (rc == DB_ROW)
		return keys_unwrap(r, st, gen, wrapped, len, ad, adlen, key,
		                   msg);
	if (rc != DB_DONE)
		return vaern_fail(msg, VAERN_E_STORE, "keystore: %s",
		                  db_errmsg(db));
	if (!create)
		return vaern_fail(msg, VAERN_E_NOTFOUND, "no root key '%s'",
		                  name);
	randombytes_buf(key, KEYS_BYTES);
	randombytes_buf(nonce, sizeof(nonce));
	keys_wrap(r, key, ad, adlen, nonce, wrapped, &gen);
	return keys_root_put(db, name, gen, wrapped, msg);
}

enum vaern_err
keys_root_put(struct db *db, const char *name, int64_t gen,
              const unsigned char *wrapped, struct vaern_msg *msg)
{
	struct db_stmt *s = NULL;
	int rc = SQLITE_ERROR;

	if (db_prepare(db,
	               "INSERT INTO ks.root_key(name, kek, wrapped)"
	               " VALUES (?1, ?2, ?3) ON CONFLICT(name) DO UPDATE SET"
	               " kek = excluded.kek, wrapped = excluded.wrapped",
	               0, &s) == DB_OK) {
		db_bind_text(s, 1, name, -1);
		db_bind_int64(s, 2, gen);
		db_bind_blob(s, 3, wrapped, KEYS_WRAPPED);
		rc = db_step(s);
	}
	db_finalize(s);
	if (rc != DB_DONE)
		return vaern_fail(msg, VAERN_E_STORE, "keystore: %s",
		                  db_errmsg(db));
	return VAERN_OK;
}

enum vaern_err
keys_ring_new(const char *dir, struct keys_ring **out, struct vaern_msg *msg)
{
	struct keys_ring *r;
	int n;

	*out = NULL;
	if ((r = sodium_malloc(sizeof(*r))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	memset(r, 0, sizeof(*r));
	r->seen_max = -1;
	n = snprintf(r->dir, sizeof(r->dir), "%s", dir);
	if (n < 0 || (size_t)n >= sizeof(r->dir)) {
		sodium_free(r);
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the data directory path is too long");
	}
	*out = r;
	return VAERN_OK;
}

enum vaern_err
keys_ring_open(struct store *st, const char *dir, struct keys_ring **out,
               struct vaern_msg *msg)
{
	struct keys_ring *r = NULL;
	enum vaern_err err;
	char state[16];
	int64_t gen;

	*out = NULL;
	if ((err = keys_ring_new(dir, &r, msg)) != VAERN_OK)
		return err;
	if ((err = load_source(r, st, &gen, state, sizeof(state), msg)))
		goto done;
	if (gen == 0) {
		err = vaern_fail(msg, VAERN_E_CRYPTO,
		                 "the master key does not belong to the data "
		                 "directory %s",
		                 dir);
		goto done;
	}
	if (strcmp(state, "retired") == 0) {
		err = vaern_fail(msg, VAERN_E_CRYPTO,
		                 "the master key (%s) was retired by a key "
		                 "rotation; give vaern the new key (if the "
		                 "rotation was interrupted, run 'vaern key "
		                 "rotate' to finish it)",
		                 r->source);
		goto done;
	}
	if ((err = keys_ring_refresh(r, st, msg)) != VAERN_OK ||
	    (err = load_root(r, st, msg)) != VAERN_OK)
		goto done;
done:
	if (err != VAERN_OK) {
		keys_ring_free(r);
		return err;
	}
	*out = r;
	return VAERN_OK;
}

void
keys_ring_free(struct keys_ring *r)
{
	if (r != NULL)
		db_finalize(r->probe);
	sodium_free(r); /* wipes */
}

enum vaern_err
keys_init(struct store *st, const unsigned char *master, struct vaern_msg *msg)
{
	struct db *db = store_sqlite_db(st);
	struct keys_ring *r = NULL;
	unsigned char ad[KEYS_AD_MAX], wrapped[KEYS_WRAPPED];
	unsigned char nonce[KEYS_NONCE_BYTES];
	char check[KEYS_HEX + 1];
	struct db_stmt *s = NULL;
	enum vaern_err err;
	int64_t gen = 0;
	int rc = SQLITE_ERROR;

	if ((err = keys_ring_new(".", &r, msg)) != VAERN_OK)
		return err;
	(void)keys_ring_add(r, 1, master);
	r->newest = 1;
	keys_check_value(master, check);
	if (db_prepare(db,
	               "INSERT INTO ks.kek(gen, check_value, state,"
	               " created_at) VALUES (1, ?1, 'current', ?2)",
	               0, &s) == DB_OK) {
		db_bind_text(s, 1, check, KEYS_HEX);
		db_bind_int64(s, 2, clock_now());
		rc = db_step(s);
	}
	db_finalize(s);
	if (rc != DB_DONE) {
		/* Generation 1 is there already: a vault exists. */
		err = vaern_fail(msg,
		                 db_errkind(db) == DB_EK_UNIQUE ? VAERN_E_EXISTS
		                                                : VAERN_E_STORE,
		                 "keystore: %s", db_errmsg(db));
		goto done;
	}
	randombytes_buf(r->root, KEYS_BYTES);
	randombytes_buf(nonce, sizeof(nonce));
	keys_wrap(r, r->root, ad, keys_ad_root(ad, KEYS_ROOT_INDEX), nonce,
	          wrapped, &gen);
	err = keys_root_put(db, KEYS_ROOT_INDEX, gen, wrapped, msg);
done:
	keys_ring_free(r);
	return err;
}
