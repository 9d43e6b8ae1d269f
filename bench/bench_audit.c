/*
 * bench_audit.c -- audit-trail throughput (GDPR-32; issue 3 section 5:
 * "writes are batched by one writer so auditing does not cap
 * throughput; an API call returns only after its audit entry is
 * durable").
 *
 * T threads (default 8) call audit_append concurrently, each append
 * blocking until its entry is committed with synchronous=FULL; and, as
 * the HTTP API appends, C asynchronous appends in flight (default 64, one
 * per connection: audit_append_async, a new one as soon as one is
 * durable). Measured beside the baseline of one transaction (one fsync)
 * per entry: the same writer with max_batch = 1, same threads, same run.
 * Each entry names one of 20,000 random subjects, as the API's reads do.
 * Each run starts on a fresh trail (audit_create) in DIR, which must be
 * on the disk the vault uses (not tmpfs: there fsync is free and the
 * figures are meaningless).
 *
 * Usage: vaern-bench-audit [--threads T] [--inflight C] [--entries N]
 *                          [--baseline-entries M] [--runs R] [--dir DIR]
 * Prints medians over R runs (default 3): entries/s, per-append latency
 * median and p99, entries per transaction, CPU time per entry (all
 * threads of the process). Not a test: it never fails on a figure.
 */
#include "store/db.h"
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
	double cpu_us; /* process CPU time per entry, all threads */
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

/* CPU seconds the process used so far, all threads. */
static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The subjects entries name, drawn at random for each entry as the API's
 * reads do (the trail's subject index then grows at random places). */
#define SUBJECTS 20000
static unsigned char subjects[SUBJECTS][AUDIT_SUBJECT_BYTES];

/* A subject at random: xorshift64, cheap beside the append it feeds (a
 * system call per draw would be measured as the trail's cost). */
static const unsigned char *
random_subject(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return subjects[x % SUBJECTS];
}

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
	        .subject = subjects[0],
	        .categories = "name,email,phone,address,orders",
	        .allowed = 1,
	        .rule = "GDPR-6",
	        .reason = "purpose customer_service allows role support to "
	                  "read name, email, phone, address, orders",
	};

	uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(k->id + 1);

	snprintf(actor, sizeof(actor), "staff-%d", k->id);
	for (long i = 0; i < k->n; i++) {
		struct vaern_msg msg = {{0}};
		double t0 = now_s();

		e.subject = random_subject(&rng);
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

/* A new trail, made as vaern init makes it. */
static int
fresh_db(const char *path)
{
	struct vaern_msg msg = {{0}};

	remove_db(path);
	if (audit_create(path, &msg) != VAERN_OK) {
		fprintf(stderr, "create: %s\n", msg.text);
		return 0;
	}
	return 1;
}

/* The asynchronous appends in flight: the API's pattern, where a
 * connection's next request comes once its answer went out. */
static struct {
	sem_t slots;   /* appends that may still start */
	double *start; /* [n] when each was queued */
	double *lat;   /* [n] seconds until its callback */
	_Atomic long failed;
} async_run;

static void
async_done(void *arg, enum vaern_err err, int64_t seq,
           const struct vaern_msg *msg)
{
	long i = (long)(intptr_t)arg;

	(void)seq;
	(void)msg;
	async_run.lat[i] = now_s() - async_run.start[i];
	if (err != VAERN_OK)
		async_run.failed++;
	sem_post(&async_run.slots);
}

/* n appends, at most inflight of them queued at a time. */
static long
append_async_n(struct audit_writer *w, long n, int inflight)
{
	struct audit_entry e = {
	        .controller = "benchshop",
	        .actor = "staff-0",
	        .role = "support",
	        .purpose = "customer_service",
	        .action = "read",
	        .categories = "name,email,phone,address,orders",
	        .allowed = 1,
	        .rule = "GDPR-6",
	        .reason = "purpose customer_service allows role support to "
	                  "read name, email, phone, address, orders",
	};
	long failed = 0;
	uint64_t rng = 0x2545f4914f6cdd1dull;

	sem_init(&async_run.slots, 0, (unsigned)inflight);
	for (long i = 0; i < n; i++) {
		struct vaern_msg msg = {{0}};

		while (sem_wait(&async_run.slots) != 0)
			;
		e.subject = random_subject(&rng);
		async_run.start[i] = now_s();
		if (audit_append_async(w, &e, 1, async_done,
		                       (void *)(intptr_t)i, &msg) != VAERN_OK) {
			if (failed++ == 0)
				fprintf(stderr, "append: %s\n", msg.text);
			async_run.lat[i] = 0;
			sem_post(&async_run.slots);
		}
	}
	for (int i = 0; i < inflight; i++)
		while (sem_wait(&async_run.slots) != 0)
			;
	sem_destroy(&async_run.slots);
	return failed + async_run.failed;
}

/*
 * One run: total entries, batches of at most max_batch; from threads
 * threads appending and waiting, or (threads 0) with inflight
 * asynchronous appends in flight.
 */
static int
run(const char *path, int threads, int inflight, long total, size_t max_batch,
    struct figures *out)
{
	struct worker k[THREADS_MAX];
	pthread_t th[THREADS_MAX];
	struct vaern_msg msg = {{0}};
	struct audit_writer *w = NULL;
	double *lat, t0, t1, c0;
	long per = threads > 0 ? total / threads : total;
	long n = threads > 0 ? per * threads : total, failed = 0;
	uint64_t entries = 0, batches = 0;
	struct audit_verify_result res;

	struct audit_trail t;

	memset(&t, 0, sizeof(t));
	t.path = path; /* no data store beside it; a key of zeros */
	if (!fresh_db(path) ||
	    audit_writer_start(&t, max_batch, &w, &msg) != VAERN_OK) {
		fprintf(stderr, "start: %s\n", msg.text);
		return 0;
	}
	if ((lat = calloc((size_t)n, sizeof(*lat))) == NULL)
		return 0;
	t0 = now_s();
	c0 = cpu_s();
	if (threads == 0) {
		async_run.lat = lat;
		async_run.failed = 0;
		if ((async_run.start = calloc((size_t)n, sizeof(double))) ==
		    NULL)
			return 0;
		failed = append_async_n(w, n, inflight);
		free(async_run.start);
	}
	for (int i = 0; i < threads; i++) {
		k[i] = (struct worker){w, i, per, lat + i * per, 0};
		pthread_create(&th[i], NULL, worker_main, &k[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		failed += k[i].failed;
	}
	t1 = now_s();
	out->cpu_us = (cpu_s() - c0) / (double)n * 1e6;
	audit_writer_stats(w, &entries, &batches);
	audit_writer_stop(w);
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	out->rate = (double)n / (t1 - t0);
	out->p50_us = lat[n / 2] * 1e6;
	out->p99_us = lat[(size_t)((double)n * 0.99)] * 1e6;
	out->per_tx = batches ? (double)entries / (double)batches : 0;
	free(lat);
	/* The figure counts only if the chain it wrote holds. */
	if (failed != 0 || audit_verify(&t, NULL, 0, &res, &msg) != VAERN_OK ||
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
measure(const char *path, int threads, int inflight, long total,
        size_t max_batch, int runs, struct figures *median)
{
	struct figures f[RUNS_MAX];

	for (int i = 0; i < runs; i++) {
		if (!run(path, threads, inflight, total, max_batch, &f[i]))
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
	int threads = 8, inflight = 64, runs = 3;
	long entries = 40000, base_entries = 4000;
	const char *dir = NULL;
	char tmpl[] = "./vaern-bench-audit.XXXXXX", path[4096];
	struct figures group, base, async;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];

		if (i + 1 >= argc)
			goto usage;
		if (strcmp(opt, "--threads") == 0)
			threads = (int)arg_long(opt, argv[++i], 1, THREADS_MAX);
		else if (strcmp(opt, "--inflight") == 0)
			inflight = (int)arg_long(opt, argv[++i], 1, 100000);
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
	randombytes_buf(subjects, sizeof(subjects));
	if (dir == NULL && (dir = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/audit-bench.db", dir);
	printf("audit trail, %d threads appending, each append durable "
	       "(synchronous=FULL); %d asynchronous appends in flight\n"
	       "median of %d runs; database %s\n\n",
	       threads, inflight, runs, path);
	if (!measure(path, threads, 0, base_entries, 1, runs, &base) ||
	    !measure(path, threads, 0, entries, 0, runs, &group) ||
	    !measure(path, 0, inflight, entries, 0, runs, &async))
		return 1;
	printf("%-34s %12s %10s %10s %8s %8s\n", "", "entries/s", "p50 us",
	       "p99 us", "per tx", "cpu us");
	printf("%-34s %12.0f %10.0f %10.0f %8.1f %8.1f\n",
	       "baseline: one transaction/entry", base.rate, base.p50_us,
	       base.p99_us, base.per_tx, base.cpu_us);
	printf("%-34s %12.0f %10.0f %10.0f %8.1f %8.1f\n",
	       "group commit (one writer)", group.rate, group.p50_us,
	       group.p99_us, group.per_tx, group.cpu_us);
	printf("%-34s %12.0f %10.0f %10.0f %8.1f %8.1f\n",
	       "group commit, asynchronous", async.rate, async.p50_us,
	       async.p99_us, async.per_tx, async.cpu_us);
	printf("\nratio group / baseline: %.1fx entries/s; asynchronous / "
	       "baseline: %.1fx\n",
	       group.rate / base.rate, async.rate / base.rate);
	remove_db(path);
	if (dir == tmpl && rmdir(tmpl) != 0)
		perror(tmpl);
	return 0;
usage:
	fputs("usage: vaern-bench-audit [--threads T] [--inflight C] "
	      "[--entries N]\n"
	      "       [--baseline-entries M] [--runs R] [--dir DIR]\n",
	      stderr);
	return 2;
}
