/*
 * bench_rights.c -- the rights benchmark (issue 5): a person's access
 * report with 10,000 facts and 10,000 audit entries about them, and an
 * erasure, each beside plain SQLite reading the same rows.
 *
 *   vaern-bench-rights [--facts N] [--entries N] [--runs R] [--dir DIR]
 *
 * The report is built by api_report_build, the code behind
 * GET /v1/subjects/{id}/report: the audited export (its audit entry
 * appended durably, as the server's answer waits for it), every fact
 * decrypted, the subject's audit entries read, the JSON rendered. The
 * floor reads the same fact rows (ciphertexts, not decrypted) and audit
 * rows with plain SQLite. The erasure (vault_subject_erase) removes a
 * typical customer (1 identifier, 4 facts) in its own durable transaction
 * and checkpoints the log (GDPR-17); its floors read the same rows, and
 * delete them in one plain durable transaction. Medians of R runs, in one
 * process. Not a test: it prints figures, it never fails on one.
 */
#include "store/db.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/api/api_report.h"
#include "../src/audit/audit.h"
#include "../src/common/heap.h"
#include "../src/vault/vault.h"

#define T0 1767225600LL /* 2026-01-01T00:00:00Z */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
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

struct hook {
	char db[1024];
	struct audit_trail trail; /* db, no data store, a key of zeros */
};

/* The audit hook: each decision appended durably before release. */
static enum vaern_err
audit_hook(void *arg, const struct vault_audit_event *e, struct vaern_msg *msg)
{
	struct hook *h = arg;
	struct audit_entry a = {0};

	memset(&a, 0, sizeof(a));
	a.controller = e->controller;
	a.actor = e->actor;
	a.role = e->role;
	a.purpose = e->purpose;
	a.action = e->action;
	a.subject = e->subject;
	a.categories = e->categories;
	a.allowed = e->allowed;
	a.rule = e->rule;
	a.reason = e->reason;
	return audit_append_direct(&h->trail, &a, 1, NULL, msg);
}

/* Plain SQLite: reads every row of a query, returns how many. */
static long
read_rows(struct db *db, const char *sql, const void *blob, int bloblen,
          long long id)
{
	struct db_stmt *s;
	long n = 0;
	size_t bytes = 0;

	if (db_prepare(db, sql, 0, &s) != DB_OK) {
		fprintf(stderr, "bench: %s: %s\n", sql, db_errmsg(db));
		exit(1);
	}
	if (blob != NULL)
		db_bind_blob(s, 1, blob, bloblen);
	else
		db_bind_int64(s, 1, id);
	while (db_step(s) == DB_ROW) {
		for (int c = 0; c < sqlite3_column_count(s->lite); c++)
			bytes += (size_t)db_column_bytes(s, c);
		n++;
	}
	db_finalize(s);
	return bytes > 0 ? n : n;
}

static long long
subject_rowid(struct db *db, const unsigned char uid[VAULT_UID_BYTES])
{
	struct db_stmt *s;
	long long id = -1;

	if (db_prepare(db, "SELECT id FROM subject WHERE uid = ?1", 0, &s) !=
	    DB_OK)
		return -1;
	db_bind_blob(s, 1, uid, VAULT_UID_BYTES);
	if (db_step(s) == DB_ROW)
		id = db_column_int64(s, 0);
	db_finalize(s);
	return id;
}

static void
usage(void)
{
	fprintf(stderr, "usage: vaern-bench-rights [--facts N] [--entries N] "
	                "[--runs R] [--dir DIR]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	long nfacts = 10000, nentries = 10000;
	int runs = 9;
	char dir[512] = "", path[1100], dbpath[1100];
	struct vaern_msg msg = {{0}};
	struct policy_diags *diags = calloc(1, sizeof(*diags));
	struct vault *v = NULL;
	struct vault_fact_in *facts;
	char(*vals)[48];
	unsigned char uid[VAULT_UID_BYTES];
	struct hook hook;
	struct vault_actor dpo;
	const struct policy *p = NULL;
	struct audit_entry *es;
	double *t_rep, *t_floor, *t_erase, *t_rfloor, *t_dfloor;
	size_t replen = 0;
	struct db *db, *adb;
	long long rowid;
	int made = 0;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--facts") == 0)
			nfacts = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--entries") == 0)
			nentries = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--runs") == 0)
			runs = (int)strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0)
			(void)snprintf(dir, sizeof(dir), "%s", argv[++i]);
		else
			usage();
	}
	if (nfacts < 1 || nfacts > VAULT_FACTS_PER_ADD || nentries < 0 ||
	    runs < 1 || runs > 101)
		usage();
	if (dir[0] == '\0') {
		const char *tmp = getenv("TMPDIR");

		(void)snprintf(dir, sizeof(dir), "%s/vaern-bench-rights.XXXXXX",
		               tmp ? tmp : "/tmp");
		if (mkdtemp(dir) == NULL || rmdir(dir) != 0) {
			perror("bench: mkdtemp");
			return 1;
		}
		made = 1;
	}
	(void)snprintf(path, sizeof(path), "%s/bench/bench-rights.yaml",
	               getenv("VAERN_SOURCE_ROOT") ? getenv("VAERN_SOURCE_ROOT")
	                                           : ".");
	(void)snprintf(hook.db, sizeof(hook.db), "%s/audit.db", dir);
	memset(&hook.trail, 0, sizeof(hook.trail));
	hook.trail.path = hook.db;
	(void)snprintf(dbpath, sizeof(dbpath), "%s/vaern.db", dir);
	/* As `vaern serve` does (src/main.c). */
	heap_keep_freed();
	clock_set(T0);
	if (sodium_init() < 0 || diags == NULL || vault_init(dir, &msg) ||
	    vault_open(dir, &v, &msg) ||
	    vault_policy_load(v, path, diags, NULL, &msg) ||
	    vault_policy(v, "bench", &p, &msg)) {
		fprintf(stderr,
		        "bench: setup: %s (run from the source tree, "
		        "or set VAERN_SOURCE_ROOT)\n",
		        msg.text);
		return 1;
	}
	if (access(hook.db, F_OK) != 0 && audit_create(hook.db, &msg)) {
		fprintf(stderr, "bench: audit: %s\n", msg.text);
		return 1;
	}
	vault_set_audit(v, audit_hook, &hook);

	/* The person: an e-mail, a name, an address and a long history. */
	facts = calloc((size_t)nfacts, sizeof(*facts));
	vals = calloc((size_t)nfacts, sizeof(*vals));
	for (long i = 0; i < nfacts; i++) {
		facts[i].purpose = "customer_admin";
		facts[i].collected_at = T0 - 86400 * (i % 3000) - 60;
		facts[i].value = vals[i];
		if (i == 0) {
			facts[i].category = "email";
			(void)snprintf(vals[i], 48, "karen@example.dk");
		} else if (i == 1) {
			facts[i].category = "name";
			(void)snprintf(vals[i], 48, "Karen Jensen");
		} else if (i == 2) {
			facts[i].category = "address";
			(void)snprintf(vals[i], 48,
			               "Vestergade 3, 8000 Aarhus");
		} else {
			facts[i].category = "orders";
			(void)snprintf(vals[i], 48,
			               "order %ld: 2 x coffee, DKK %ld",
			               100000 + i, 50 + i % 400);
		}
	}
	if (vault_subject_add(v, "bench", facts, (size_t)nfacts, NULL, 0, uid,
	                      &msg)) {
		fprintf(stderr, "bench: add: %s\n", msg.text);
		return 1;
	}
	/* What was done with the data: nentries audit entries about them. */
	es = calloc((size_t)nentries + 1, sizeof(*es));
	for (long i = 0; i < nentries; i++) {
		es[i].controller = "bench";
		es[i].actor = "staff";
		es[i].role = "staff";
		es[i].purpose = "customer_admin";
		es[i].action = i % 10 ? "read" : "disclose:carrier";
		es[i].subject = uid;
		es[i].categories = "name,address";
		es[i].allowed = 1;
		es[i].rule = "GDPR-32";
		es[i].reason = "role 'staff' may use purpose 'customer_admin'";
	}
	if (nentries > 0 && audit_append_direct(&hook.trail, es,
	                                        (size_t)nentries, NULL, &msg)) {
		fprintf(stderr, "bench: audit: %s\n", msg.text);
		return 1;
	}
	memset(&dpo, 0, sizeof(dpo));
	(void)snprintf(dpo.controller, sizeof(dpo.controller), "bench");
	(void)snprintf(dpo.name, sizeof(dpo.name), "dpo");
	(void)snprintf(dpo.role, sizeof(dpo.role), "dpo");
	printf("a subject with %ld facts and %ld audit entries; %d runs each\n",
	       nfacts, nentries, runs);

	if (db_open_sqlite(dbpath, SQLITE_OPEN_READWRITE, 5000, &db) ||
	    db_open_sqlite(hook.db, SQLITE_OPEN_READONLY, 5000, &adb)) {
		fprintf(stderr, "bench: sqlite open\n");
		return 1;
	}
	rowid = subject_rowid(db, uid);
	t_rep = calloc((size_t)runs, sizeof(double));
	t_floor = calloc((size_t)runs, sizeof(double));
	t_erase = calloc((size_t)runs, sizeof(double));
	t_rfloor = calloc((size_t)runs, sizeof(double));
	t_dfloor = calloc((size_t)runs, sizeof(double));
	for (int r = 0; r < runs; r++) {
		char *body = NULL;
		size_t len = 0;
		double t;
		long nf, na;

		t = now_ms();
		if (api_report_build(v, hook.db, &dpo, p, uid,
		                     VAULT_EXPORT_ACCESS, API_REPORT_JSON, NULL,
		                     NULL, &body, &len, &msg)) {
			fprintf(stderr, "bench: report: %s\n", msg.text);
			return 1;
		}
		t_rep[r] = now_ms() - t;
		replen = len;
		sodium_memzero(body, len);
		free(body);

		t = now_ms();
		nf = read_rows(db, "SELECT * FROM fact WHERE subject = ?1",
		               NULL, 0, rowid);
		na = read_rows(adb, "SELECT * FROM audit WHERE subject = ?1",
		               uid, VAULT_UID_BYTES, 0);
		t_floor[r] = now_ms() - t;
		if (nf != nfacts || na < nentries) {
			fprintf(stderr,
			        "bench: the floor read %ld facts, %ld "
			        "entries\n",
			        nf, na);
			return 1;
		}
	}
	printf("access report: %zu bytes of JSON\n", replen);

	/* Erasure: a typical customer each run, and one for each floor. */
	for (int r = 0; r < runs; r++) {
		unsigned char e[VAULT_UID_BYTES], f2[VAULT_UID_BYTES];
		struct vault_fact_in c[4];
		char email[48], email2[48];
		size_t n = 0;
		double t;
		long long id2;
		char sql[256];

		for (int k = 0; k < 2; k++) {
			char *em = k ? email2 : email;

			(void)snprintf(em, 48, "erase%d.%d@example.dk", r, k);
			memset(c, 0, sizeof(c));
			for (int i = 0; i < 4; i++) {
				c[i].purpose = "customer_admin";
				c[i].collected_at = T0 - 3600;
			}
			c[0].category = "email";
			c[0].value = em;
			c[1].category = "name";
			c[1].value = "Ole Hansen";
			c[2].category = "address";
			c[2].value = "Nørregade 7, 1165 København K";
			c[3].category = "orders";
			c[3].value = "order 1: 1 x tea";
			if (vault_subject_add(v, "bench", c, 4, NULL, 0,
			                      k ? f2 : e, &msg)) {
				fprintf(stderr, "bench: add: %s\n", msg.text);
				return 1;
			}
		}
		t = now_ms();
		if (vault_subject_erase(v, "bench", e, &n, &msg) || n != 4) {
			fprintf(stderr, "bench: erase: %s\n", msg.text);
			return 1;
		}
		t_erase[r] = now_ms() - t;

		id2 = subject_rowid(db, f2);
		t = now_ms();
		(void)read_rows(db, "SELECT * FROM fact WHERE subject = ?1",
		                NULL, 0, id2);
		(void)read_rows(db,
		                "SELECT * FROM identifier WHERE subject = ?1",
		                NULL, 0, id2);
		(void)read_rows(db, "SELECT * FROM subject WHERE id = ?1", NULL,
		                0, id2);
		t_rfloor[r] = now_ms() - t;

		/* The same rows deleted in one durable plain transaction. */
		(void)snprintf(sql, sizeof(sql),
		               "PRAGMA synchronous=FULL; BEGIN IMMEDIATE;"
		               " DELETE FROM fact WHERE subject = %lld;"
		               " DELETE FROM identifier WHERE subject = %lld;"
		               " DELETE FROM subject WHERE id = %lld; COMMIT",
		               id2, id2, id2);
		t = now_ms();
		if (db_exec(db, sql, NULL) != DB_OK) {
			fprintf(stderr, "bench: floor delete: %s\n",
			        db_errmsg(db));
			return 1;
		}
		t_dfloor[r] = now_ms() - t;
	}

	{
		double rep = median(t_rep, runs), fl = median(t_floor, runs);
		double er = median(t_erase, runs), rf = median(t_rfloor, runs);
		double df = median(t_dfloor, runs);

		printf("\nmedian of %d runs             vaern ms   plain "
		       "SQLite ms"
		       "   ratio   goal\n",
		       runs);
		printf("access report (%ld facts)    %9.2f   %15.2f   %5.1f   "
		       "<= 50 ms\n",
		       nfacts, rep, fl, fl > 0 ? rep / fl : 0);
		printf("erasure (4 facts)            %9.2f   %15.3f   %5.0f   "
		       "<= 5 ms   (floor: reading the rows)\n",
		       er, rf, rf > 0 ? er / rf : 0);
		printf("                                         %15.2f   %5.1f"
		       "            (floor: deleting them, one durable "
		       "transaction)\n",
		       df, df > 0 ? er / df : 0);
	}
	db_close(db);
	db_close(adb);
	vault_close(v);
	if (made) {
		char cmd[700];

		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench: could not remove %s\n", dir);
	}
	free(facts);
	free(vals);
	free(es);
	free(diags);
	free(t_rep);
	free(t_floor);
	free(t_erase);
	free(t_rfloor);
	free(t_dfloor);
	return 0;
}
