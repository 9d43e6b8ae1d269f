/*
 * bench_incident.c -- the affected-people search over the audit trail
 * (issue 17 point 4; GDPR-33): N audit entries (default 10 million),
 * searched by vaern's incident_affected beside a plain SQLite query of
 * the same entries (the baseline: SELECT count(DISTINCT subject) with the
 * same filters). Run by scripts/bench-incident; never by the tests.
 *
 *   vaern-bench-incident DIR [ENTRIES] [RUNS]   (ENTRIES 0: reuse DIR)
 *
 * The entries: 30 days, 200,000 subjects, 12 categories, 5 roles, 40
 * actors; reads, exports, disclosures to 3 recipients, creates and
 * denials, in the columns of src/store/store_audit.c (the hash columns
 * hold a byte: the search reads neither).
 */
#include "store/db.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/incident/affected.h"

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
	            " policy TEXT);"
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
	            "audit(at); PRAGMA wal_checkpoint(TRUNCATE);",
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
	               " AND (action IN ('read', 'export', 'request_report')"
	               "  OR substr(action, 1, 9) = 'disclose:')",
	               0, &st) == DB_OK) {
		db_bind_int64(st, 1, q->from);
		db_bind_int64(st, 2, q->to);
		db_bind_text(st, 3, q->controller, -1);
		if (q->role != NULL)
			db_bind_text(st, 4, q->role, -1);
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

int
main(int argc, char **argv)
{
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
	        {"one day, one role",
	         {"webshop", T0 + 10 * DAY, T0 + 11 * DAY, NULL,
	          "customer_service", NULL, NULL, NULL, 0}},
	};
	double t;

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
	printf("%-24s %12s %10s %12s %10s %8s\n", "search", "vaern s", "people",
	       "sqlite s", "people", "ratio");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		double tv[16], tb[16];
		long people = 0, base = 0;
		int k = runs > 16 ? 16 : runs;

		for (int r = 0; r < k; r++) {
			struct vaern_msg msg = {{0}};
			struct affected a;

			t = now_s();
			if (incident_affected(path, &cases[c].q, &a, &msg) !=
			    VAERN_OK) {
				fprintf(stderr, "search: %s\n", msg.text);
				return 1;
			}
			tv[r] = now_s() - t;
			people = (long)a.nsubjects;
			incident_affected_free(&a);
			t = now_s();
			base = baseline(path, &cases[c].q);
			tb[r] = now_s() - t;
		}
		qsort(tv, (size_t)k, sizeof(double), dcmp);
		qsort(tb, (size_t)k, sizeof(double), dcmp);
		printf("%-24s %12.3f %10ld %12.3f %10ld %7.2fx\n",
		       cases[c].name, tv[k / 2], people, tb[k / 2], base,
		       tv[k / 2] / tb[k / 2]);
		if (people != base) {
			fprintf(stderr, "MISMATCH: vaern %ld, sqlite %ld\n",
			        people, base);
			return 1;
		}
	}
	return 0;
}
