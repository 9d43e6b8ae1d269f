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
 * each opened under the old wrap key and sealed under the new one with
 * XChaCha20-Poly1305 (what the rotation does per key, without SQLite).
 */
#include <sodium.h>
#include <sqlite3.h>
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
	sqlite3_stmt *s = NULL;
	sqlite3 *db;
	int64_t gen;
	int ok = 0;

	snprintf(path, sizeof(path), "%s/vaern.db", dir);
	if (store_open_sqlite(path, 0, &st, &msg) != VAERN_OK ||
	    keys_ring_open(st, dir, &r, &msg) != VAERN_OK) {
		fprintf(stderr, "bench: %s\n", msg.text);
		goto done;
	}
	db = store_sqlite_db(st);
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
	                       "INSERT INTO ks.subject_key(uid, controller,"
	                       " kek, wrapped) VALUES (?1, 1, ?2, ?3)",
	                       -1, &s, NULL) != SQLITE_OK)
		goto done;
	for (long i = 0; i < n; i++) {
		randombytes_buf(uid, sizeof(uid));
		randombytes_buf(key, sizeof(key));
		randombytes_buf(nonce, sizeof(nonce));
		keys_wrap(r, key, ad, keys_ad_subject(ad, uid, 1), nonce,
		          wrapped, &gen);
		sqlite3_bind_blob(s, 1, uid, sizeof(uid), SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, gen);
		sqlite3_bind_blob(s, 3, wrapped, sizeof(wrapped),
		                  SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto done;
		sqlite3_reset(s);
	}
	ok = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
done:
	sqlite3_finalize(s);
	sodium_memzero(key, sizeof(key));
	keys_ring_free(r);
	store_close(st);
	return ok;
}

/*
 * The baseline: every wrapped key of the keystore of dir, opened under
 * old (a wrap key) and sealed under a fresh one; keys per second.
 */
static double
aead_loop(const char *dir, long n)
{
	char path[512];
	unsigned char *all, *uids, w1[KEYS_BYTES], w2[KEYS_BYTES];
	unsigned char key[KEYS_BYTES], ad[KEYS_AD_MAX], out[KEYS_WRAPPED];
	unsigned char nonce[KEYS_NONCE_BYTES];
	sqlite3_stmt *s = NULL;
	sqlite3 *db = NULL;
	long k = 0, bad = 0;
	double t0, t1;

	all = malloc((size_t)n * KEYS_WRAPPED);
	uids = malloc((size_t)n * STORE_UID_BYTES);
	if (all == NULL || uids == NULL)
		return 0;
	randombytes_buf(w1, sizeof(w1));
	randombytes_buf(w2, sizeof(w2));
	snprintf(path, sizeof(path), "%s/keystore.db", dir);
	/* the same keys: re-sealed under w1 first, so the loop opens what
	 * it reads (the stored ones are under the vault's wrap key) */
	sqlite3_open(path, &db);
	sqlite3_prepare_v2(db, "SELECT uid FROM subject_key", -1, &s, NULL);
	while (k < n && sqlite3_step(s) == SQLITE_ROW) {
		memcpy(uids + k * STORE_UID_BYTES, sqlite3_column_blob(s, 0),
		       STORE_UID_BYTES);
		randombytes_buf(key, sizeof(key));
		randombytes_buf(nonce, sizeof(nonce));
		memcpy(all + k * KEYS_WRAPPED, nonce, KEYS_NONCE_BYTES);
		crypto_aead_xchacha20poly1305_ietf_encrypt(
		        all + k * KEYS_WRAPPED + KEYS_NONCE_BYTES, NULL, key,
		        KEYS_BYTES, ad,
		        keys_ad_subject(ad, uids + k * STORE_UID_BYTES, 1),
		        NULL, nonce, w1);
		k++;
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	t0 = now_s();
	for (long i = 0; i < k; i++) {
		size_t adlen =
		        keys_ad_subject(ad, uids + i * STORE_UID_BYTES, 1);
		unsigned char *w = all + i * KEYS_WRAPPED;

		if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		            key, NULL, NULL, w + KEYS_NONCE_BYTES,
		            KEYS_WRAPPED - KEYS_NONCE_BYTES, ad, adlen, w,
		            w1) != 0)
			bad++;
		randombytes_buf(nonce, sizeof(nonce));
		memcpy(out, nonce, KEYS_NONCE_BYTES);
		crypto_aead_xchacha20poly1305_ietf_encrypt(
		        out + KEYS_NONCE_BYTES, NULL, key, KEYS_BYTES, ad, adlen,
		        NULL, nonce, w2);
		memcpy(w, out, KEYS_WRAPPED);
	}
	t1 = now_s();
	free(all);
	free(uids);
	sodium_memzero(key, sizeof(key));
	if (bad > 0)
		fprintf(stderr, "bench: %ld keys did not open\n", bad);
	return (double)k / (t1 - t0);
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
	if (n < 1 || runs < 1 || runs > 16 || batch < 0 ||
	    sodium_init() < 0) {
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
