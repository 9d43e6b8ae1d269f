/*
 * bench_retention.c -- the retention benchmark (issue 4): a full plan and
 * a sweep over N facts of which 1% are due, beside a plain-SQLite floor
 * doing the same work on the same rows.
 *
 *   vaern-bench-retention [--facts N] [--dir DIR] [--policy FILE]
 *                         [--template DIR]
 *
 * --template DIR: when DIR holds the data of an earlier run with the same
 * N, copy it instead of loading (iterating on the sweep); else load and
 * keep a copy there. The copy is untimed.
 *
 * Loads N facts (6 per subject: 1 identifier and 5 others) through the
 * bulk path in a child process, so the parent's peak memory is that of
 * the plan and the sweep alone. 3% of the subjects were collected 400
 * days before the clock: their two visit-log facts (rule "visits",
 * collected + 1 year) are due, 1% of all facts. Everything else waits
 * for years. The floor: the same fact rows and (expires_at, rule) index
 * in plain SQLite, the same pragmas (WAL, synchronous=FULL,
 * secure_delete); its plan is the same GROUP BY, its sweep one DELETE.
 * Not a test: it prints figures, it never fails on one.
 */
#include "store/db.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../src/calendar/calendar.h"
#include "../src/vault/vault.h"

#define FACTS 6
#define BATCH 20000
#define DAY   86400LL
#define T0    1767225600LL /* 2026-01-01T00:00:00Z, the clock */

static const char *const categories[FACTS] = {"email",  "name",   "address",
                                              "orders", "visits", "notes"};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of the process so far (user + system). */
static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long
peak_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Subject k's collection time: 3% of subjects 400 days back. */
static int64_t
collected(long k)
{
	if (k % 100 < 3)
		return T0 - 400 * DAY;
	return T0 - (k % 300) * DAY - 3600;
}

static enum vaern_err
no_audit(void *arg, const struct vault_audit_event *e, struct vaern_msg *msg)
{
	(void)arg;
	(void)e;
	(void)msg;
	return VAERN_OK;
}

static int
load(const char *dir, const char *policy, long subjects)
{
	struct vaern_msg msg = {{0}};
	struct policy_diags *diags = calloc(1, sizeof(*diags));
	struct vault *v = NULL;
	struct vault_subject_in *in = calloc(BATCH, sizeof(*in));
	struct vault_fact_in *facts = calloc(BATCH * FACTS, sizeof(*facts));
	char(*vals)[FACTS][48] = calloc(BATCH, sizeof(*vals));
	double t0;

	if (diags == NULL || in == NULL || facts == NULL || vals == NULL ||
	    vault_init(dir, &msg) != VAERN_OK ||
	    vault_open(dir, &v, &msg) != VAERN_OK ||
	    vault_policy_load(v, policy, diags, NULL, &msg) != VAERN_OK) {
		fprintf(stderr, "bench: setup: %s\n", msg.text);
		return 1;
	}
	vault_set_cache_kib(v, 128 * 1024);
	t0 = now_s();
	for (long i = 0; i < subjects; i += BATCH) {
		long m = subjects - i < BATCH ? subjects - i : BATCH;

		for (long j = 0; j < m; j++) {
			long k = i + j;

			snprintf(vals[j][0], 48, "p%ld@bench.example", k);
			snprintf(vals[j][1], 48, "Person %ld", k);
			snprintf(vals[j][2], 48, "Gade %ld, 8000 Aarhus",
			         k % 997);
			snprintf(vals[j][3], 48, "order %ld", k * 7);
			snprintf(vals[j][4], 48, "visits %ld", k % 13);
			snprintf(vals[j][5], 48, "note %ld", k % 17);
			for (int f = 0; f < FACTS; f++) {
				struct vault_fact_in *fi =
				        &facts[j * FACTS + f];

				fi->category = categories[f];
				fi->value = vals[j][f];
				fi->purpose = "customer_admin";
				fi->source = NULL;
				fi->collected_at = collected(k);
			}
			in[j].facts = &facts[j * FACTS];
			in[j].nfacts = FACTS;
		}
		if (vault_subject_add_many(v, "bench", in, (size_t)m, NULL,
		                           NULL, &msg) != VAERN_OK) {
			fprintf(stderr, "bench: load: %s\n", msg.text);
			return 1;
		}
	}
	printf("loaded %ld facts (%ld subjects) in %.1f s\n", subjects * FACTS,
	       subjects, now_s() - t0);
	vault_close(v);
	return 0;
}

static enum vaern_err
plan_count(void *arg, const struct vault_plan_row *r)
{
	*(long long *)arg += r->facts;
	return VAERN_OK;
}

/* ---- the plain-SQLite floor --------------------------------------------- */

static int
floor_load(const char *path, long subjects)
{
	struct db *db;
	struct db_stmt *s;
	unsigned char ct[64];

	remove(path);
	if (db_open_sqlite(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                   5000, &db) != DB_OK)
		return 1;
	db_exec(db,
	        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	        "PRAGMA secure_delete=ON; PRAGMA cache_size=-65536;"
	        "CREATE TABLE fact(subject INTEGER NOT NULL, id INTEGER NOT "
	        "NULL, category INTEGER NOT NULL, collected_at INTEGER NOT "
	        "NULL, expires_at INTEGER, ct BLOB NOT NULL, rule INTEGER,"
	        " PRIMARY KEY(subject, id)) WITHOUT ROWID;"
	        "CREATE INDEX fact_due ON fact(expires_at, rule);"
	        "BEGIN",
	        NULL);
	db_prepare(db,
	           "INSERT INTO fact VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	           "?7)",
	           0, &s);
	memset(ct, 0xa5, sizeof(ct));
	for (long k = 0; k < subjects; k++) {
		for (int f = 0; f < FACTS; f++) {
			int64_t c = collected(k);
			int visits = f >= 4;

			db_bind_int64(s, 1, k + 1);
			db_bind_int(s, 2, f + 1);
			db_bind_int(s, 3, f + 10);
			db_bind_int64(s, 4, c);
			db_bind_int64(s, 5,
			              (c / DAY + (visits ? 365 : 3652)) * DAY);
			db_bind_blob(s, 6, ct, 40);
			db_bind_int(s, 7, visits ? 2 : 1);
			db_step(s);
			db_reset(s);
		}
		if (k % BATCH == BATCH - 1)
			db_exec(db, "COMMIT; BEGIN", NULL);
	}
	db_finalize(s);
	db_exec(db, "COMMIT", NULL);
	db_close(db);
	return 0;
}

static int
floor_run(const char *path, double *plan_s, double *sweep_s, double *sweep_cpu,
          long long *deleted)
{
	struct db *db;
	struct db_stmt *s;
	double t0, c0;

	/* Measured on a fresh connection, like the vault's. */
	if (db_open_sqlite(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                   5000, &db) != DB_OK)
		return 1;
	db_exec(db, "PRAGMA secure_delete=ON; PRAGMA synchronous=FULL", NULL);
	t0 = now_s();
	db_prepare(db,
	           "SELECT rule, expires_at, count(*) FROM fact"
	           " GROUP BY expires_at, rule",
	           0, &s);
	while (db_step(s) == DB_ROW)
		;
	db_finalize(s);
	*plan_s = now_s() - t0;
	t0 = now_s();
	c0 = cpu_s();
	db_prepare(db, "DELETE FROM fact WHERE expires_at <= ?1", 0, &s);
	db_bind_int64(s, 1, T0);
	db_step(s);
	*deleted = db_changes(db);
	db_finalize(s);
	sqlite3_wal_checkpoint_v2(db->lite, NULL, SQLITE_CHECKPOINT_TRUNCATE,
	                          NULL, NULL);
	*sweep_s = now_s() - t0;
	*sweep_cpu = cpu_s() - c0;
	db_close(db);
	return 0;
}

int
main(int argc, char **argv)
{
	long long nfacts = 10000000, planned = 0, floor_deleted = 0;
	const char *dir = "/tmp/vaern-bench-retention";
	const char *policy = "bench/bench-retention.yaml";
	const char *template = NULL;
	char cmd[8192], fpath[1024], tpath[1024];
	struct vault *v = NULL;
	struct vaern_msg msg = {{0}};
	struct vault_sweep_report rep;
	double t0, c0, plan_s, sweep_s, sweep_cpu, fplan_s, fsweep_s,
	        fsweep_cpu;
	long subjects, kib;
	pid_t pid;
	int status = 0, have_template = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--facts") == 0 && i + 1 < argc)
			nfacts = atoll(argv[++i]);
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
			policy = argv[++i];
		else if (strcmp(argv[i], "--template") == 0 && i + 1 < argc)
			template = argv[++i];
		else {
			fprintf(stderr, "usage: vaern-bench-retention [--facts "
			                "N] [--dir DIR] [--policy FILE] "
			                "[--template DIR]\n");
			return 2;
		}
	}
	subjects = (long)(nfacts / FACTS);
	if (sodium_init() < 0)
		return 1;
	clock_set(T0);
	if (strlen(dir) > 900 || (template && strlen(template) > 900))
		return 2;
	snprintf(fpath, sizeof(fpath), "%.900s-floor.db", dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%.900s' '%s' '%s-wal' '%s-shm'",
	         dir, fpath, fpath, fpath);
	if (system(cmd) != 0)
		return 1;
	fflush(stdout);
	if (template != NULL) {
		snprintf(tpath, sizeof(tpath), "%.900s/floor.db", template);
		have_template = access(tpath, R_OK) == 0;
	}
	if (have_template) {
		snprintf(cmd, sizeof(cmd),
		         "cp -a '%.900s/vault' '%.900s' && "
		         "cp '%.900s/floor.db' '%.900s'",
		         template, dir, template, fpath);
		if (system(cmd) != 0)
			return 1;
		printf("copied the data of %s\n", template);
	} else if (getenv("BENCH_NOFORK") != NULL) {
		return load(dir, policy, subjects);
	} else if ((pid = fork()) == 0) {
		int rc = load(dir, policy, subjects);

		fflush(stdout);
		_exit(rc);
	}
	if (!have_template &&
	    (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)) {
		fprintf(stderr, "bench: the load failed (status %d)\n", status);
		return 1;
	}
	if (!have_template && floor_load(fpath, subjects) != 0) {
		fprintf(stderr, "bench: the floor failed\n");
		return 1;
	}
	if (!have_template && template != NULL) {
		snprintf(
		        cmd, sizeof(cmd),
		        "mkdir -p '%.900s' && cp -a '%.900s' '%.900s/vault' && "
		        "cp '%.900s' '%.900s/floor.db'",
		        template, dir, template, fpath, template);
		if (system(cmd) != 0)
			return 1;
	}
	if (vault_open(dir, &v, &msg) != VAERN_OK) {
		fprintf(stderr, "bench: %s\n", msg.text);
		return 1;
	}
	vault_set_audit(v, no_audit, NULL);
	t0 = now_s();
	if (vault_retention_plan(v, NULL, plan_count, &planned, &msg) !=
	    VAERN_OK) {
		fprintf(stderr, "bench: plan: %s\n", msg.text);
		return 1;
	}
	plan_s = now_s() - t0;
	t0 = now_s();
	c0 = cpu_s();
	if (vault_retention_sweep(v, T0, 0, NULL, NULL, &rep, &msg) !=
	    VAERN_OK) {
		fprintf(stderr, "bench: sweep: %s\n", msg.text);
		return 1;
	}
	sweep_s = now_s() - t0;
	sweep_cpu = cpu_s() - c0;
	kib = peak_kib();
	vault_close(v);
	if (floor_run(fpath, &fplan_s, &fsweep_s, &fsweep_cpu,
	              &floor_deleted)) {
		fprintf(stderr, "bench: the floor failed\n");
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%.900s' '%s' '%s-wal' '%s-shm'",
	         dir, fpath, fpath, fpath);
	(void)system(cmd);

	printf("%lld facts planned, %lld due and deleted (floor %lld)\n",
	       planned, (long long)rep.facts_deleted, floor_deleted);
	printf("%-28s %10s %12s %8s   %s\n", "", "vaern s", "plain SQLite",
	       "ratio", "goal");
	printf("%-28s %10.2f %12.2f %8.2f   %s\n", "full plan", plan_s, fplan_s,
	       plan_s / fplan_s, "<= 10 s");
	printf("%-28s %10.2f %12.2f %8.2f   %s\n", "sweep of the 1% due",
	       sweep_s, fsweep_s, sweep_s / fsweep_s, "<= 2 s");
	printf("%-28s %10.2f %12.2f %8.2f   %s\n", "sweep CPU s (user+sys)",
	       sweep_cpu, fsweep_cpu, sweep_cpu / fsweep_cpu,
	       "(load-independent)");
	printf("%-28s %10ld %12s %8s   %s\n", "peak memory KiB (plan+sweep)",
	       kib, "", "", "< 262144");
	return 0;
}
