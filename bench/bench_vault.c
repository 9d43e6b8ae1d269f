/*
 * bench_vault.c -- ingest and lookup throughput of the vault, beside the
 * same workload on plain SQLite without encryption (the floor), measured
 * in the same run.
 *
 * Workload (issue 2): N subjects with 3 identifiers (CPR, e-mail, phone)
 * and 6 facts each (the 3 identifiers, name, address, orders), 20,000
 * subjects per transaction through vault_subject_add_many (the bulk path
 * import uses: checking and sealing on a second thread); then N lookups by
 * e-mail in random order, one vault_subject_find each.
 * The floor keeps the same rows under the same indexes (a subject row with
 * a random 16-byte id, 3 identifier rows, 6 fact rows), with the values in
 * clear and no validation.
 *
 * Usage: vaern-bench [--subjects N] [--dir DIR] [--runs R]
 * It prints medians over R runs (default 3) and their ratio. Not a test:
 * it never fails on a figure.
 */
#include "store/db.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "calendar/calendar.h"
#include "vault/vault.h"

#define BATCH     20000
#define FACTS     6
#define VALUE_MAX 64

struct person {
	char v[FACTS][VALUE_MAX]; /* cpr, email, phone, name, address, orders */
};

static const char *const categories[FACTS] = {"cpr",  "email",   "phone",
                                              "name", "address", "orders"};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
make_people(struct person *p, long n)
{
	static const char *const first[] = {"Jens", "Mette", "Søren",  "Anna",
	                                    "Lars", "Ida",   "Mikkel", "Sofie"};
	static const char *const last[] = {"Jensen",   "Nielsen",  "Hansen",
	                                   "Pedersen", "Andersen", "Larsen"};

	for (long i = 0; i < n; i++) {
		int day = 1 + (int)(i % 28), month = 1 + (int)(i / 28 % 12);
		int yy = (int)(i / 336 % 100), serial = (int)(i / 33600);

		/* serials 0000-3999 with any YY: born in the 1900s */
		snprintf(p[i].v[0], VALUE_MAX, "%02d%02d%02d-%04d", day, month,
		         yy, serial);
		snprintf(p[i].v[1], VALUE_MAX, "person%ld@example.dk", i);
		snprintf(p[i].v[2], VALUE_MAX, "+45%08ld", 20000000L + i);
		snprintf(p[i].v[3], VALUE_MAX, "%s %s", first[i % 8],
		         last[i % 6]);
		snprintf(p[i].v[4], VALUE_MAX, "Vestergade %ld, %ld Aarhus C",
		         1 + i % 200, 8000 + i % 10);
		snprintf(p[i].v[5], VALUE_MAX, "order %ld: 2 items, 499 DKK",
		         100000 + i);
	}
}

static long
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long)sb.st_size : 0;
}

static long
peak_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

struct result {
	double ingest; /* subjects per second */
	double lookup; /* lookups per second */
	double bytes;  /* bytes on disk per subject */
};

/* ---- vaern --------------------------------------------------------------- */

/* The vault's input: the people as fact lists, made before any timing. */
static struct vault_subject_in *
make_input(struct person *people, long n, struct vault_fact_in **factsp)
{
	struct vault_fact_in *facts =
	        malloc((size_t)n * FACTS * sizeof(*facts));
	struct vault_subject_in *in = malloc((size_t)n * sizeof(*in));

	if (facts == NULL || in == NULL) {
		free(facts);
		free(in);
		return NULL;
	}
	for (long k = 0; k < n; k++) {
		for (int j = 0; j < FACTS; j++) {
			struct vault_fact_in *f = &facts[k * FACTS + j];

			f->category = categories[j];
			f->value = people[k].v[j];
			f->purpose = "customer_admin";
			f->source = NULL;
			f->collected_at = INT64_MIN;
		}
		in[k].facts = &facts[k * FACTS];
		in[k].nfacts = FACTS;
		in[k].consents = NULL;
		in[k].nconsents = 0;
	}
	*factsp = facts;
	return in;
}

static int
run_vaern(const char *dir, const char *policy, struct person *people, long n,
          long *order, const struct vault_subject_in *in, struct result *r)
{
	struct vaern_msg msg = {{0}};
	struct policy_diags *diags = calloc(1, sizeof(*diags));
	struct vault *v = NULL;
	unsigned char uid[VAULT_UID_BYTES];
	char path[4096];
	double t0, t1;
	int rc = -1;

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0 || vault_init(dir, &msg) != VAERN_OK ||
	    vault_open(dir, &v, &msg) != VAERN_OK ||
	    vault_policy_load(v, policy, diags, NULL, &msg) != VAERN_OK) {
		fprintf(stderr, "bench: setup: %s\n", msg.text);
		goto done;
	}
	vault_set_cache_kib(v, 256 * 1024);
	t0 = now_s();
	for (long i = 0; i < n; i += BATCH) {
		size_t m = (size_t)(n - i < BATCH ? n - i : BATCH);

		if (vault_subject_add_many(v, "bench", in + i, m, NULL, NULL,
		                           &msg) != VAERN_OK)
			goto fail;
	}
	t1 = now_s();
	r->ingest = (double)n / (t1 - t0);
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		if (vault_subject_find(v, "bench", ID_EMAIL,
		                       people[order[i]].v[1], uid,
		                       &msg) != VAERN_OK)
			goto fail;
	}
	t1 = now_s();
	r->lookup = (double)n / (t1 - t0);
	vault_close(v);
	v = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, VAULT_DB_FILE);
	r->bytes = (double)file_size(path) / (double)n;
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "bench: vaern: %s\n", msg.text);
done:
	vault_close(v);
	free(diags);
	return rc;
}

/* ---- plain SQLite floor ------------------------------------------------ */

static const char floor_schema[] =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
        "PRAGMA cache_size=-262144;"
        "CREATE TABLE subject(id INTEGER PRIMARY KEY, controller INTEGER"
        " NOT NULL, uid BLOB NOT NULL, created_at INTEGER NOT NULL);"
        "CREATE UNIQUE INDEX subject_uid ON subject(uid);"
        "CREATE TABLE identifier(controller INTEGER NOT NULL, type INTEGER"
        " NOT NULL, value TEXT NOT NULL, subject INTEGER NOT NULL,"
        " PRIMARY KEY(controller, type, value)) WITHOUT ROWID;"
        "CREATE TABLE fact(subject INTEGER NOT NULL, id INTEGER NOT NULL,"
        " category INTEGER NOT NULL, purpose INTEGER NOT NULL, source INTEGER"
        " NOT NULL, collected_at INTEGER NOT NULL, provided INTEGER NOT NULL,"
        " expires_at INTEGER, value TEXT NOT NULL,"
        " PRIMARY KEY(subject, id)) WITHOUT ROWID;";

static int
run_floor(const char *dir, struct person *people, long n, long *order,
          struct result *r)
{
	struct db *db = NULL;
	struct db_stmt *ins_s = NULL, *ins_i = NULL, *ins_f = NULL;
	struct db_stmt *find = NULL;
	char path[4096];
	unsigned char pool[4096];
	size_t pool_used = sizeof(pool);
	double t0, t1;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/floor.db", dir);
	unlink(path);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "-wal");
	unlink(path);
	snprintf(path, sizeof(path), "%s/floor.db", dir);
	if (db_open_sqlite(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                   5000, &db) != DB_OK ||
	    db_exec(db, floor_schema, NULL) != DB_OK ||
	    db_prepare(db,
	               "INSERT INTO subject(controller, uid,"
	               " created_at) VALUES (1, ?1, ?2)",
	               0, &ins_s) != DB_OK ||
	    db_prepare(db, "INSERT INTO identifier VALUES (1, ?1, ?2, ?3)", 0,
	               &ins_i) != DB_OK ||
	    db_prepare(db,
	               "INSERT INTO fact VALUES (?1, ?2, ?3, 1, 1, ?4,"
	               " 1, NULL, ?5)",
	               0, &ins_f) != DB_OK ||
	    db_prepare(db,
	               "SELECT s.uid FROM identifier AS i JOIN subject"
	               " AS s ON s.id = i.subject WHERE i.controller"
	               " = 1 AND i.type = 2 AND i.value = ?1",
	               0, &find) != DB_OK) {
		fprintf(stderr, "bench: floor: %s\n", db_errmsg(db));
		goto done;
	}
	t0 = now_s();
	for (long i = 0; i < n; i += BATCH) {
		db_exec(db, "BEGIN", NULL);
		for (long k = i; k < n && k < i + BATCH; k++) {
			sqlite3_int64 rowid;

			/* random ids from a pool, as the vault takes them */
			if (pool_used == sizeof(pool)) {
				randombytes_buf(pool, sizeof(pool));
				pool_used = 0;
			}
			db_bind_blob(ins_s, 1, pool + pool_used, 16);
			pool_used += 16;
			db_bind_int64(ins_s, 2, (sqlite3_int64)time(NULL));
			if (db_step(ins_s) != DB_DONE)
				goto fail;
			db_reset(ins_s);
			rowid = sqlite3_last_insert_rowid(db->lite);
			for (int j = 0; j < 3; j++) {
				db_bind_int(ins_i, 1, j + 1);
				db_bind_text(ins_i, 2, people[k].v[j], -1);
				db_bind_int64(ins_i, 3, rowid);
				if (db_step(ins_i) != DB_DONE)
					goto fail;
				db_reset(ins_i);
			}
			for (int j = 0; j < FACTS; j++) {
				db_bind_int64(ins_f, 1, rowid);
				db_bind_int(ins_f, 2, j + 1);
				db_bind_int(ins_f, 3, j + 1);
				db_bind_int64(ins_f, 4,
				              (sqlite3_int64)time(NULL));
				db_bind_text(ins_f, 5, people[k].v[j], -1);
				if (db_step(ins_f) != DB_DONE)
					goto fail;
				db_reset(ins_f);
			}
		}
		if (db_exec(db, "COMMIT", NULL) != DB_OK)
			goto fail;
	}
	t1 = now_s();
	r->ingest = (double)n / (t1 - t0);
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		db_bind_text(find, 1, people[order[i]].v[1], -1);
		if (db_step(find) != DB_ROW || db_column_bytes(find, 0) != 16)
			goto fail;
		db_reset(find);
	}
	t1 = now_s();
	r->lookup = (double)n / (t1 - t0);
	db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL);
	r->bytes = (double)file_size(path) / (double)n;
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "bench: floor: %s\n", db_errmsg(db));
done:
	db_finalize(ins_s);
	db_finalize(ins_i);
	db_finalize(ins_f);
	db_finalize(find);
	db_close(db);
	return rc;
}

static enum vaern_err
no_audit(void *arg, const struct vault_audit_event *e, struct vaern_msg *msg)
{
	(void)arg;
	(void)e;
	(void)msg;
	return VAERN_OK;
}

static enum vaern_err
count_fact(void *arg, const struct vault_fact_out *f)
{
	(void)f;
	(*(long *)arg)++;
	return VAERN_OK;
}

/*
 * --load DIR: makes DIR a data directory with the bench controller and n
 * subjects (for scripts/bench-api), then measures in-process what one
 * API read does: find by e-mail + the gated read for customer_admin, with
 * a no-op audit hook (so HTTP and audit overhead show beside it).
 */
static int
load_dir(const char *dir, const char *policy, struct person *people, long n,
         long *order, const struct vault_subject_in *in)
{
	struct vaern_msg msg = {{0}};
	struct policy_diags *diags = calloc(1, sizeof(*diags));
	struct vault *v = NULL;
	struct vault_actor actor = {0, "bench", "bench", "staff", 0, {0}};
	struct vault_access acc = {
	        &actor, "customer_admin", GATE_READ, NULL, 0, NULL, NULL, NULL};
	struct gate_decision d;
	unsigned char uid[VAULT_UID_BYTES];
	double t0, t1;
	long facts = 0;
	int rc = 1;

	if (diags == NULL || vault_init(dir, &msg) != VAERN_OK ||
	    vault_open(dir, &v, &msg) != VAERN_OK ||
	    vault_policy_load(v, policy, diags, NULL, &msg) != VAERN_OK)
		goto fail;
	vault_set_cache_kib(v, 256 * 1024);
	t0 = now_s();
	for (long i = 0; i < n; i += BATCH) {
		size_t m = (size_t)(n - i < BATCH ? n - i : BATCH);

		if (vault_subject_add_many(v, "bench", in + i, m, NULL, NULL,
		                           &msg) != VAERN_OK)
			goto fail;
	}
	t1 = now_s();
	printf("loaded %ld subjects in %.1f s (%.0f/s)\n", n, t1 - t0,
	       (double)n / (t1 - t0));
	vault_set_audit(v, no_audit, NULL);
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		if (vault_subject_find(v, "bench", ID_EMAIL,
		                       people[order[i]].v[1], uid,
		                       &msg) != VAERN_OK ||
		    vault_subject_access(v, uid, &acc, count_fact, &facts, &d,
		                         &msg) != VAERN_OK)
			goto fail;
	}
	t1 = now_s();
	printf("in-process read (find by e-mail + gated read, audit hook "
	       "no-op, 1 thread): %.0f reads/s, %.1f us each\n",
	       (double)n / (t1 - t0), (t1 - t0) * 1e6 / (double)n);
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "bench: load: %s\n", msg.text);
done:
	vault_close(v);
	free(diags);
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
	const char *dir = "bench-data", *policy = "bench/bench-policy.yaml";
	const char *load = NULL;
	long n = 200000, *order;
	struct vault_fact_in *facts = NULL;
	struct vault_subject_in *in;
	int runs = 3;
	struct person *people;
	double vi[16], vl[16], vb[16], fi[16], fl[16], fb[16];
	long rss_vaern = 0, rss_base;

	for (int i = 1; i < argc; i++) {
		char *end = NULL;

		if (strcmp(argv[i], "--subjects") == 0 && i + 1 < argc) {
			n = strtol(argv[++i], &end, 10);
			if (*end != '\0' || n < 1 || n > 20000000)
				goto usage;
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = (int)strtol(argv[++i], &end, 10);
			if (*end != '\0' || runs < 1 || runs > 16)
				goto usage;
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
			policy = argv[++i];
		} else if (strcmp(argv[i], "--load") == 0 && i + 1 < argc) {
			load = argv[++i];
		} else {
			goto usage;
		}
	}
	if (sodium_init() < 0)
		return 1;
	clock_set((int64_t)time(NULL));
	people = malloc((size_t)n * sizeof(*people));
	order = malloc((size_t)n * sizeof(*order));
	if (people == NULL || order == NULL)
		return 1;
	make_people(people, n);
	if ((in = make_input(people, n, &facts)) == NULL)
		return 1;
	for (long i = 0; i < n; i++)
		order[i] = i;
	for (long i = n - 1; i > 0;
	     i--) { /* shuffle: lookups in random order */
		long j = (long)randombytes_uniform((uint32_t)(i + 1)), t;

		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	if (load != NULL)
		return load_dir(load, policy, people, n, order, in);
	rss_base = peak_rss_kib();
	printf("vaern bench: %ld subjects, 3 identifiers + 6 facts each, "
	       "%d per transaction, %d runs (medians)\n",
	       n, BATCH, runs);
	fflush(stdout);
	/* Alternate the two so machine noise falls on both alike. */
	for (int r = 0; r < runs; r++) {
		struct result rv, rf;

		if (run_vaern(dir, policy, people, n, order, in, &rv) != 0)
			return 1;
		if (r == 0)
			rss_vaern = peak_rss_kib() - rss_base;
		if (run_floor(dir, people, n, order, &rf) != 0)
			return 1;
		vi[r] = rv.ingest, vl[r] = rv.lookup, vb[r] = rv.bytes;
		fi[r] = rf.ingest, fl[r] = rf.lookup, fb[r] = rf.bytes;
		printf("  run %d: vaern %.0f subjects/s %.0f lookups/s | floor "
		       "%.0f subjects/s %.0f lookups/s\n",
		       r + 1, rv.ingest, rv.lookup, rf.ingest, rf.lookup);
		fflush(stdout);
	}
	{
		double mvi = median(vi, runs), mvl = median(vl, runs);
		double mvb = median(vb, runs), mfi = median(fi, runs);
		double mfl = median(fl, runs), mfb = median(fb, runs);

		printf("\n%-22s %14s %14s %8s   %s\n", "", "vaern",
		       "plain SQLite", "ratio", "goal");
		printf("%-22s %14.0f %14.0f %8.2f   >= 30000/s, ratio <= 1.3\n",
		       "ingest subjects/s", mvi, mfi, mfi / mvi);
		printf("%-22s %14.0f %14.0f %8.2f   >= 150000/s, ratio <= "
		       "1.3\n",
		       "lookups/s", mvl, mfl, mfl / mvl);
		printf("%-22s %14.0f %14.0f %8.2f   1M subjects < 1 GiB\n",
		       "bytes/subject on disk", mvb, mfb, mvb / mfb);
		printf("%-22s %14.0f %14s\n", "1M subjects (MiB)",
		       mvb * 1e6 / 1048576.0, "");
		printf("%-22s %14ld %14s   (vaern's peak RSS above the "
		       "generated input; page cache set to 256 MiB)\n",
		       "peak memory KiB", rss_vaern, "");
	}
	free(people);
	free(order);
	free(facts);
	free(in);
	return 0;
usage:
	fputs("usage: vaern-bench [--subjects N] [--runs R] [--dir DIR] "
	      "[--policy FILE] [--load DIR]\n",
	      stderr);
	return 2;
}
