/*
 * bench_audit.c -- audit-trail throughput (GDPR-32; issue 3 section 5:
 * "writes are batched by one writer so auditing does not cap
 * throughput; an API call returns only after its audit entry is
 * durable").
 *
 * T threads (default 8) call audit_append concurrently, each append
 * blocking until its entry is committed with synchronous=FULL. Measured
 * beside the baseline of one transaction (one fsync) per entry: the same
 * writer with max_batch = 1, same threads, same run. Each run starts on a
 * fresh database file in DIR, which must be on the disk the vault uses
 * (not tmpfs: there fsync is free and both figures are meaningless).
 *
 * Usage: vaern-bench-audit [--threads T] [--entries N] [--baseline-entries M]
 *                          [--runs R] [--dir DIR]
 * Prints medians over R runs (default 3): entries/s, per-append latency
 * median and p99, entries per transaction. Not a test: it never fails on
 * a figure.
 */
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"

#define THREADS_MAX 256
#define RUNS_MAX    15

struct worker {
	struct audit_writer *w; /* shared */
	int id;                 /* 0.. */
	long n;                 /* appends to make */
	double *lat;            /* [n] seconds per append */
	long failed;            /* appends that failed */
};

struct figures {
	double rate;   /* entries/s */
	double p50_us; /* per-append latency */
	double p99_us;
	double per_tx; /* entries per transaction */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static const unsigned char subject[AUDIT_SUBJECT_BYTES] = {
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
        0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00};

static void *
worker_main(void *arg)
{
	struct worker *k = arg;
	char actor[32];
	/* A typical gate decision: ids, categories, rule and reason. */
	struct audit_entry e = {
	        .controller = "benchshop",
	        .actor = actor,
	        .role = "support",
	        .purpose = "customer_service",
	        .action = "read",
	        .subject = subject,
	        .categories = "name,email,phone,address,orders",
	        .allowed = 1,
	        .rule = "GDPR-6",
	        .reason = "purpose customer_service allows role support to "
	                  "read name, email, phone, address, orders",
	};

	snprintf(actor, sizeof(actor), "staff-%d", k->id);
	for (long i = 0; i < k->n; i++) {
		struct vaern_msg msg = {{0}};
		double t0 = now_s();

		if (audit_append(k->w, &e, NULL, &msg) != VAERN_OK) {
			if (k->failed++ == 0)
				fprintf(stderr, "append: %s\n", msg.text);
		}
		k->lat[i] = now_s() - t0;
	}
	return NULL;
}

static void
remove_db(const char *path)
{
	char side[4200];

	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

static int
fresh_db(const char *path)
{
	sqlite3 *db = NULL;
	int ok;

	remove_db(path);
	ok = sqlite3_open(path, &db) == SQLITE_OK &&
	     sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) ==
	             SQLITE_OK;
	sqlite3_close(db);
	return ok;
}

/* One run: total entries over threads, batches of at most max_batch. */
static int
run(const char *path, int threads, long total, size_t max_batch,
    struct figures *out)
{
	struct worker k[THREADS_MAX];
	pthread_t th[THREADS_MAX];
	struct vaern_msg msg = {{0}};
	struct audit_writer *w = NULL;
	double *lat, t0, t1;
	long per = total / threads, n = per * threads, failed = 0;
	uint64_t entries = 0, batches = 0;
	struct audit_verify_result res;

	if (!fresh_db(path) ||
	    audit_writer_start(path, max_batch, &w, &msg) != VAERN_OK) {
		fprintf(stderr, "start: %s\n", msg.text);
		return 0;
	}
	if ((lat = calloc((size_t)n, sizeof(*lat))) == NULL)
		return 0;
	t0 = now_s();
	for (int i = 0; i < threads; i++) {
		k[i] = (struct worker){w, i, per, lat + i * per, 0};
		pthread_create(&th[i], NULL, worker_main, &k[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		failed += k[i].failed;
	}
	t1 = now_s();
	audit_writer_stats(w, &entries, &batches);
	audit_writer_stop(w);
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	out->rate = (double)n / (t1 - t0);
	out->p50_us = lat[n / 2] * 1e6;
	out->p99_us = lat[(size_t)((double)n * 0.99)] * 1e6;
	out->per_tx = batches ? (double)entries / (double)batches : 0;
	free(lat);
	/* The figure counts only if the chain it wrote holds. */
	if (failed != 0 || audit_verify(path, NULL, &res, &msg) != VAERN_OK ||
	    !res.ok || res.entries != n) {
		fprintf(stderr, "run invalid: %ld failed, verify: %s\n", failed,
		        res.ok ? msg.text : res.message);
		return 0;
	}
	return 1;
}

static int
cmp_fig_rate(const void *a, const void *b)
{
	return cmp_double(&((const struct figures *)a)->rate,
	                  &((const struct figures *)b)->rate);
}

/* The median run (by rate) of r runs. */
static int
measure(const char *path, int threads, long total, size_t max_batch, int runs,
        struct figures *median)
{
	struct figures f[RUNS_MAX];

	for (int i = 0; i < runs; i++) {
		if (!run(path, threads, total, max_batch, &f[i]))
			return 0;
	}
	qsort(f, (size_t)runs, sizeof(f[0]), cmp_fig_rate);
	*median = f[runs / 2];
	return 1;
}

static long
arg_long(const char *opt, const char *text, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || end == text || v < min || v > max) {
		fprintf(stderr, "%s: %ld to %ld\n", opt, min, max);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	int threads = 8, runs = 3;
	long entries = 40000, base_entries = 4000;
	const char *dir = NULL;
	char tmpl[] = "./vaern-bench-audit.XXXXXX", path[4096];
	struct figures group, base;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];

		if (i + 1 >= argc)
			goto usage;
		if (strcmp(opt, "--threads") == 0)
			threads = (int)arg_long(opt, argv[++i], 1, THREADS_MAX);
		else if (strcmp(opt, "--entries") == 0)
			entries = arg_long(opt, argv[++i], 1, 100000000);
		else if (strcmp(opt, "--baseline-entries") == 0)
			base_entries = arg_long(opt, argv[++i], 1, 100000000);
		else if (strcmp(opt, "--runs") == 0)
			runs = (int)arg_long(opt, argv[++i], 1, RUNS_MAX);
		else if (strcmp(opt, "--dir") == 0)
			dir = argv[++i];
		else
			goto usage;
	}
	if (entries < threads || base_entries < threads) {
		fputs("fewer entries than threads\n", stderr);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	if (dir == NULL && (dir = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/audit-bench.db", dir);
	printf("audit trail, %d threads appending, each append durable "
	       "(synchronous=FULL)\nmedian of %d runs; database %s\n\n",
	       threads, runs, path);
	if (!measure(path, threads, base_entries, 1, runs, &base) ||
	    !measure(path, threads, entries, 0, runs, &group))
		return 1;
	printf("%-34s %12s %10s %10s %8s\n", "", "entries/s", "p50 us",
	       "p99 us", "per tx");
	printf("%-34s %12.0f %10.0f %10.0f %8.1f\n",
	       "baseline: one transaction/entry", base.rate, base.p50_us,
	       base.p99_us, base.per_tx);
	printf("%-34s %12.0f %10.0f %10.0f %8.1f\n",
	       "group commit (one writer)", group.rate, group.p50_us,
	       group.p99_us, group.per_tx);
	printf("\nratio group / baseline: %.1fx entries/s\n",
	       group.rate / base.rate);
	remove_db(path);
	if (dir == tmpl && rmdir(tmpl) != 0)
		perror(tmpl);
	return 0;
usage:
	fputs("usage: vaern-bench-audit [--threads T] [--entries N]\n"
	      "       [--baseline-entries M] [--runs R] [--dir DIR]\n",
	      stderr);
	return 2;
}
