/*
 * bench_rotate.c -- master-key rotation: keys re-wrapped per second
 * (issue 13; goal >= 200,000/s at 1 million subjects), beside a plain
 * AEAD loop on the same keys in the same run. Run by scripts/bench-rotate,
 * never by the test suite.
 *
 *   vaern-bench-rotate [--subjects N] [--runs R] [--batch B]
 *
 * Per run: a fresh data directory whose keystore holds N subject keys
 * wrapped under generation 1 (made directly: the rotation reads nothing
 * else), then keys_rotate() to a new master key, timed from the first
 * batch to the retirement (rep.seconds; begin and rename excluded, they
 * are O(1)). The baseline: the same N wrapped keys, read into memory,
 * each opened and sealed again with XChaCha20-Poly1305 under the same
 * ring (what the rotation does per key, without SQLite).
 */
#include "store/db.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/keys/keys.h"
#include "../src/store/store.h"
#include "../src/vault/vault.h"

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Fills the keystore of dir with n subject keys under generation 1. */
static int
fill(const char *dir, long n)
{
	char path[512];
	struct vaern_msg msg = {{0}};
	struct store *st = NULL;
	struct keys_ring *r = NULL;
	unsigned char key[KEYS_BYTES], uid[STORE_UID_BYTES];
	unsigned char ad[KEYS_AD_MAX], nonce[KEYS_NONCE_BYTES];
	unsigned char wrapped[KEYS_WRAPPED];
	struct db_stmt *s = NULL;
	struct db *db;
	int64_t gen;
	int ok = 0;

	snprintf(path, sizeof(path), "%s/vaern.db", dir);
	if (store_open_sqlite(path, 0, &st, &msg) != VAERN_OK ||
	    keys_ring_open(st, dir, &r, &msg) != VAERN_OK) {
		fprintf(stderr, "bench: %s\n", msg.text);
		goto done;
	}
	db = store_sqlite_db(st);
	if (db_exec(db, "BEGIN", NULL) != DB_OK ||
	    db_prepare(db,
	               "INSERT INTO ks.subject_key(uid, controller,"
	               " kek, wrapped) VALUES (?1, 1, ?2, ?3)",
	               0, &s) != DB_OK)
		goto done;
	for (long i = 0; i < n; i++) {
		randombytes_buf(uid, sizeof(uid));
		randombytes_buf(key, sizeof(key));
		randombytes_buf(nonce, sizeof(nonce));
		keys_wrap(r, key, ad, keys_ad_subject(ad, uid, 1), nonce,
		          wrapped, &gen);
		db_bind_blob(s, 1, uid, sizeof(uid));
		db_bind_int64(s, 2, gen);
		db_bind_blob(s, 3, wrapped, sizeof(wrapped));
		if (db_step(s) != DB_DONE)
			goto done;
		db_reset(s);
	}
	ok = db_exec(db, "COMMIT", NULL) == DB_OK;
done:
	db_finalize(s);
	sodium_memzero(key, sizeof(key));
	keys_ring_free(r);
	store_close(st);
	return ok;
}

/*
 * The baseline: the same wrapped keys (the keystore of dir, read into
 * memory), each opened and sealed again under the same ring's newest
 * generation: the AEAD work of a rotation, nonces drawn 64 at a time as
 * the rotation draws them, without SQLite. Keys per second.
 */
static double
aead_loop(const char *dir, long n)
{
	char path[512];
	struct vaern_msg msg = {{0}};
	struct store *st = NULL;
	struct keys_ring *r = NULL;
	unsigned char *all = NULL, *uids = NULL, key[KEYS_BYTES];
	unsigned char ad[KEYS_AD_MAX], nonce[64 * KEYS_NONCE_BYTES];
	int64_t *gens = NULL, gen;
	struct db_stmt *s = NULL;
	long k = 0, bad = 0;
	size_t used = sizeof(nonce);
	double t0, t1, rate = 0;

	all = malloc((size_t)n * KEYS_WRAPPED);
	uids = malloc((size_t)n * STORE_UID_BYTES);
	gens = malloc((size_t)n * sizeof(*gens));
	snprintf(path, sizeof(path), "%s/vaern.db", dir);
	if (all == NULL || uids == NULL || gens == NULL ||
	    store_open_sqlite(path, 0, &st, &msg) != VAERN_OK ||
	    keys_ring_open(st, dir, &r, &msg) != VAERN_OK ||
	    db_prepare(store_sqlite_db(st),
	               "SELECT uid, kek, wrapped FROM ks.subject_key", 0,
	               &s) != DB_OK)
		goto done;
	while (k < n && db_step(s) == DB_ROW) {
		memcpy(uids + k * STORE_UID_BYTES, db_column_blob(s, 0),
		       STORE_UID_BYTES);
		gens[k] = db_column_int64(s, 1);
		memcpy(all + k * KEYS_WRAPPED, db_column_blob(s, 2),
		       KEYS_WRAPPED);
		k++;
	}
	t0 = now_s();
	for (long i = 0; i < k; i++) {
		size_t adlen =
		        keys_ad_subject(ad, uids + i * STORE_UID_BYTES, 1);
		unsigned char *w = all + i * KEYS_WRAPPED;

		if (keys_unwrap(r, NULL, gens[i], w, KEYS_WRAPPED, ad, adlen,
		                key, &msg) != VAERN_OK)
			bad++;
		if (used == sizeof(nonce)) {
			randombytes_buf(nonce, sizeof(nonce));
			used = 0;
		}
		keys_wrap(r, key, ad, adlen, nonce + used, w, &gen);
		used += KEYS_NONCE_BYTES;
	}
	t1 = now_s();
	rate = (double)k / (t1 - t0);
	if (bad > 0)
		fprintf(stderr, "bench: %ld keys did not open\n", bad);
done:
	db_finalize(s);
	keys_ring_free(r);
	store_close(st);
	free(all);
	free(uids);
	free(gens);
	sodium_memzero(key, sizeof(key));
	return rate;
}

int
main(int argc, char **argv)
{
	long n = 1000000, runs = 3, batch = 0;
	double rot[16], base[16];
	char dir[] = "/tmp/vaern-bench-rotate-XXXXXX";

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--subjects") == 0)
			n = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--runs") == 0)
			runs = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--batch") == 0)
			batch = strtol(argv[i + 1], NULL, 10);
	}
	if (n < 1 || runs < 1 || runs > 16 || batch < 0 || sodium_init() < 0) {
		fputs("usage: vaern-bench-rotate [--subjects N] [--runs 1..16]"
		      " [--batch B]\n",
		      stderr);
		return 2;
	}
	unsetenv("VAERN_MASTER_KEY");
	unsetenv("VAERN_MASTER_KEY_FILE");
	unsetenv("VAERN_MASTER_KEY_COMMAND");
	for (long r = 0; r < runs; r++) {
		struct vaern_msg msg = {{0}};
		struct keys_rotate_opts o;
		struct keys_rotate_report rep;
		char cmd[128];

		if (mkdtemp(dir) == NULL || rmdir(dir) != 0 ||
		    vault_init(dir, &msg) != VAERN_OK || !fill(dir, n)) {
			fprintf(stderr, "bench: set-up failed: %s\n", msg.text);
			return 1;
		}
		memset(&o, 0, sizeof(o));
		o.batch = (size_t)batch;
		if (keys_rotate(dir, &o, &rep, &msg) != VAERN_OK) {
			fprintf(stderr, "bench: rotate: %s\n", msg.text);
			return 1;
		}
		rot[r] = (double)rep.rewrapped / rep.seconds;
		base[r] = aead_loop(dir, n);
		fprintf(stderr,
		        "run %ld: %lld keys in %.2f s: %.0f keys/s; AEAD loop "
		        "%.0f keys/s\n",
		        r + 1, (long long)rep.rewrapped, rep.seconds, rot[r],
		        base[r]);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
		memcpy(dir + sizeof(dir) - 7, "XXXXXX", 6);
	}
	qsort(rot, (size_t)runs, sizeof(double), cmp_double);
	qsort(base, (size_t)runs, sizeof(double), cmp_double);
	printf("master-key rotation, %ld subject keys, median of %ld run(s)\n",
	       n, runs);
	printf("  %-34s %12.0f keys/s\n", "vaern key rotate (re-wrap + SQLite)",
	       rot[runs / 2]);
	printf("  %-34s %12.0f keys/s\n", "baseline: plain AEAD loop",
	       base[runs / 2]);
	printf("  %-34s %12.2f x\n", "ratio baseline / vaern",
	       base[runs / 2] / rot[runs / 2]);
	printf("  %-34s %12s\n", "goal (issue 13)", ">= 200000 keys/s");
	return 0;
}
