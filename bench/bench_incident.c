/*
 * bench_incident.c -- the affected-people search over the audit trail
 * (issue 17 point 4; GDPR-33): N audit entries (default 10 million),
 * searched by vaern's incident_affected (the release index) beside, from
 * the same run, the full scan of the trail it replaced
 * (incident_affected_scan) and a plain SQLite query of the same entries
 * (SELECT count(DISTINCT subject) with the same filters). Run by
 * scripts/bench-incident; never by the tests.
 *
 *   vaern-bench-incident DIR [ENTRIES] [RUNS]   (ENTRIES 0: reuse DIR)
 *
 * The entries: 30 days, 200,000 subjects, 12 categories, 5 roles, 40
 * actors; reads, exports, disclosures to 3 recipients, creates and
 * denials, in the columns and indexes of src/store/store_audit.c (the
 * hash columns hold a byte: the search reads neither), written as a
 * trail made before the release index: the first open of the audit store
 * backfills the index, timed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/incident/affected.h"
#include "../src/store/db.h"
#include "../src/store/store_audit.h"

#define DAY      86400
#define T0       1796083200 /* 2026-12-01T00:00:00Z */
#define SUBJECTS 200000
#define ROLES    5
#define ACTORS   40

static const char *const roles[ROLES] = {"customer_service", "marketing",
                                         "bookkeeper", "security",
                                         "management"};
static const char *const category_sets[] = {
        "customer_name,customer_email",
        "customer_email",
        "customer_name,customer_email,billing_address",
        "orders",
        "orders,invoices",
        "billing_address,billing_phone",
        "newsletter_email",
        "customer_name,username",
};
static const char *const actions[] = {"read",   "read",
                                      "read",   "read",
                                      "export", "disclose:google",
                                      "create", "disclose:payment_gateway"};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process: the figure to compare on a loaded,
 * shared machine, where the wall clock mostly measures the queue. */
static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
generate(const char *path, long n)
{
	struct db *db = NULL;
	struct db_stmt *st = NULL;
	unsigned char uid[16], one = 0;
	char actor[32];
	int rc = -1;

	if (db_open_sqlite(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                   5000, &db) != DB_OK)
		goto done;
	if (db_exec(db,
	            "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
	            "CREATE TABLE IF NOT EXISTS audit("
	            " seq INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
	            " controller TEXT, actor TEXT, role TEXT, purpose TEXT,"
	            " action TEXT NOT NULL, subject BLOB, categories TEXT,"
	            " decision INTEGER NOT NULL, rule TEXT, reason TEXT,"
	            " prev_hash BLOB NOT NULL, hash BLOB NOT NULL,"
	            " policy TEXT, outbox INTEGER, version INTEGER);"
	            "BEGIN;",
	            NULL) != DB_OK ||
	    db_prepare(db,
	               "INSERT INTO audit(seq, at, controller, actor,"
	               " role, purpose, action, subject, categories,"
	               " decision, rule, reason, prev_hash, hash)"
	               " VALUES(?,?,'webshop',?,?,'p',?,?,?,?,NULL,"
	               "NULL,?,?)",
	               0, &st) != DB_OK)
		goto done;
	for (long i = 0; i < n; i++) {
		uint64_t r = next(), s = next() % SUBJECTS;
		int a = (int)(r % ACTORS);

		memset(uid, 0, sizeof(uid));
		memcpy(uid, &s, sizeof(s));
		uid[15] = 0x5a;
		(void)snprintf(actor, sizeof(actor), "actor%d", a);
		db_bind_int64(st, 1, i + 1);
		db_bind_int64(st, 2, T0 + (int64_t)i * 30 * DAY / n);
		db_bind_text(st, 3, actor, -1);
		db_bind_text(st, 4, roles[a % ROLES], -1);
		db_bind_text(st, 5, actions[(r >> 8) % 8], -1);
		db_bind_blob(st, 6, uid, 16);
		db_bind_text(st, 7, category_sets[(r >> 16) % 8], -1);
		db_bind_int(st, 8, (r >> 24) % 20 != 0);
		db_bind_blob(st, 9, &one, 1);
		db_bind_blob(st, 10, &one, 1);
		if (db_step(st) != DB_DONE)
			goto done;
		db_reset(st);
		if (i % 1000000 == 999999 &&
		    db_exec(db, "COMMIT; BEGIN;", NULL) != DB_OK)
			goto done;
	}
	if (db_exec(db,
	            "COMMIT; CREATE INDEX IF NOT EXISTS audit_at ON "
	            "audit(at);"
	            "CREATE INDEX IF NOT EXISTS audit_subject_run"
	            " ON audit(seq >> 9, subject)"
	            " WHERE subject IS NOT NULL;"
	            "CREATE UNIQUE INDEX IF NOT EXISTS audit_moved"
	            " ON audit(outbox) WHERE outbox IS NOT NULL;"
	            "PRAGMA wal_checkpoint(TRUNCATE);",
	            NULL) != DB_OK)
		goto done;
	rc = 0;
done:
	if (rc != 0)
		fprintf(stderr, "generate: %s\n", db_errmsg(db));
	db_finalize(st);
	db_close(db);
	return rc;
}

/* The baseline: SQLite alone, the same filters, distinct subjects. */
static long
baseline(const char *path, const struct affected_query *q)
{
	struct db *db = NULL;
	struct db_stmt *st = NULL;
	long n = -1;

	if (db_open_sqlite(path, SQLITE_OPEN_READONLY, 5000, &db) == DB_OK &&
	    db_prepare(db,
	               "SELECT count(DISTINCT subject) FROM audit"
	               " WHERE at >= ?1 AND at <= ?2 AND decision = 1"
	               " AND subject IS NOT NULL AND categories IS NOT NULL"
	               " AND controller = ?3 AND (?4 IS NULL OR role = ?4)"
	               " AND (?5 IS NULL OR actor = ?5)"
	               " AND (?6 IS NULL OR instr(',' || categories || ',',"
	               "  ',' || ?6 || ',') > 0)"
	               " AND (action IN ('read', 'export', 'request_report')"
	               "  OR substr(action, 1, 9) = 'disclose:')",
	               0, &st) == DB_OK) {
		db_bind_int64(st, 1, q->from);
		db_bind_int64(st, 2, q->to);
		db_bind_text(st, 3, q->controller, -1);
		if (q->role != NULL)
			db_bind_text(st, 4, q->role, -1);
		if (q->actor != NULL)
			db_bind_text(st, 5, q->actor, -1);
		if (q->ncategories == 1)
			db_bind_text(st, 6, q->categories[0], -1);
		if (db_step(st) == DB_ROW)
			n = (long)db_column_int64(st, 0);
	}
	db_finalize(st);
	db_close(db);
	return n;
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A search: vaern's by the index, vaern's by the scan, or SQLite's. */
typedef enum vaern_err (*search_fn)(const char *, const struct affected_query *,
                                    struct affected *, struct vaern_msg *);

/* The plain SQLite query as a search (people only). */
static enum vaern_err
sqlite_search(const char *path, const struct affected_query *q,
              struct affected *a, struct vaern_msg *msg)
{
	long n = baseline(path, q);

	memset(a, 0, sizeof(*a));
	if (n < 0)
		return vaern_fail(msg, VAERN_E_STORE, "baseline failed");
	a->nsubjects = (size_t)n;
	return VAERN_OK;
}

/* Times fn on q: the medians of k runs, wall and CPU, the people found. */
static int
timed(search_fn fn, const char *path, const struct affected_query *q, int k,
      double *wall, double *cpu, long *people)
{
	double tv[16], tc[16];

	for (int r = 0; r < k; r++) {
		struct vaern_msg msg = {{0}};
		struct affected a;
		double t = now_s(), c = cpu_s();

		if (fn(path, q, &a, &msg) != VAERN_OK) {
			fprintf(stderr, "search: %s\n", msg.text);
			return -1;
		}
		tv[r] = now_s() - t;
		tc[r] = cpu_s() - c;
		*people = (long)a.nsubjects;
		incident_affected_free(&a);
	}
	qsort(tv, (size_t)k, sizeof(double), dcmp);
	qsort(tc, (size_t)k, sizeof(double), dcmp);
	*wall = tv[k / 2];
	*cpu = tc[k / 2];
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *const orders[] = {"orders"};
	char path[4096];
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 10000000L;
	int runs = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;
	struct {
		const char *name;
		struct affected_query q;
	} cases[] = {
	        {"all 30 days, any role",
	         {"webshop", T0, T0 + 30 * DAY, NULL, NULL, NULL, NULL, NULL,
	          0}},
	        {"all 30 days, one role",
	         {"webshop", T0, T0 + 30 * DAY, NULL, "customer_service", NULL,
	          NULL, NULL, 0}},
	        {"all 30 days, one actor",
	         {"webshop", T0, T0 + 30 * DAY, "actor7", NULL, NULL, NULL,
	          NULL, 0}},
	        {"all 30 days, orders",
	         {"webshop", T0, T0 + 30 * DAY, NULL, NULL, NULL, NULL, orders,
	          1}},
	        {"one day, one role",
	         {"webshop", T0 + 10 * DAY, T0 + 11 * DAY, NULL,
	          "customer_service", NULL, NULL, NULL, 0}},
	};
	struct audit_store *st = NULL;
	struct vaern_msg msg = {{0}};
	double t, c0;
	int k = runs > 16 ? 16 : runs;

	setvbuf(stdout, NULL, _IOLBF, 0); /* each line as it is measured */
	if (argc < 2 || n < 0 || runs < 1) {
		fprintf(stderr, "usage: vaern-bench-incident DIR [ENTRIES] "
		                "[RUNS]\n");
		return 2;
	}
	(void)snprintf(path, sizeof(path), "%s/audit.db", argv[1]);
	t = now_s();
	if (n > 0 && generate(path, n) != 0) /* 0: search DIR's trail again */
		return 1;
	printf("generated %ld audit entries in %.1f s\n", n, now_s() - t);
	/* The migration: the first writable open indexes every release. */
	t = now_s();
	c0 = cpu_s();
	if (audit_store_open(path, 1, &st, &msg) != VAERN_OK) {
		fprintf(stderr, "open: %s\n", msg.text);
		return 1;
	}
	audit_store_close(st);
	printf("release index backfilled in %.1f s (CPU %.1f s)\n", now_s() - t,
	       cpu_s() - c0);
	printf("seconds, wall (CPU), median of %d\n", k);
	printf("%-24s %16s %16s %16s %8s %8s\n", "search", "index", "full scan",
	       "plain sqlite", "speedup", "people");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		double w[3], u[3];
		long people[3];
		char cell[3][32];
		search_fn fns[3] = {incident_affected, incident_affected_scan,
		                    sqlite_search};

		for (int f = 0; f < 3; f++) {
			if (timed(fns[f], path, &cases[c].q, k, &w[f], &u[f],
			          &people[f]) != 0)
				return 1;
			(void)snprintf(cell[f], sizeof(cell[f]), "%.3f (%.3f)",
			               w[f], u[f]);
		}
		/* The speedup over the full scan, in CPU time. */
		printf("%-24s %16s %16s %16s %7.1fx %8ld\n", cases[c].name,
		       cell[0], cell[1], cell[2], u[1] / u[0], people[0]);
		if (people[0] != people[1] || people[0] != people[2]) {
			fprintf(stderr,
			        "MISMATCH: index %ld, scan %ld, sqlite %ld\n",
			        people[0], people[1], people[2]);
			return 1;
		}
	}
	return 0;
}
