/*
 * bench_traffic.c -- the retained-data store's figures (issue 18), beside
 * their baselines from the same run:
 *
 *   ingest     records/s through traffic_append (packing, the keyed-hash
 *              index, sealing, fsync per day), beside writing the same
 *              bytes to a plain file (the disk's limit) and beside plain
 *              SQLite with the same columns and one index per identifier
 *              and cell (its figure on --sqlite-records of them);
 *   bytes      per record on disk, index included, beside SQLite's;
 *   queries    one subscriber over all days, one cell over one hour,
 *              beside the same records in the layout from before (V2:
 *              48-byte records, one filter word per key, segments of 128
 *              blocks), stored in the same run;
 *   expiry     dropping the oldest day (its key, its file).
 *
 *   vaern-bench-traffic --dir DIR [--days D] [--per-day N]
 *                       [--subscribers S] [--cells C] [--sqlite-records M]
 *                       [--keep] [--query-only]
 *
 * --keep leaves both stores (and the day keys' secret) in DIR, without the
 * expiry; --query-only then times only the queries on them (pass the same
 * --days and --subscribers): a store built once, measured many times.
 *
 * Never part of the test suite (bench/README.md).
 */
#include "store/db.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../src/traffic/traffic.h"

#define DAY0 20454L /* 2026-01-01 */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
arg_long(const char *v, long lo, long hi)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || x < lo || x > hi) {
		fprintf(stderr, "bench-traffic: bad number '%s'\n", v);
		exit(2);
	}
	return x;
}

static uint64_t
du(const char *dir)
{
	char cmd[4200];
	FILE *p;
	unsigned long long kb = 0;

	snprintf(cmd, sizeof(cmd), "du -sk '%s'", dir);
	p = popen(cmd, "r");
	if (p == NULL)
		return 0;
	if (fscanf(p, "%llu", &kb) != 1)
		kb = 0;
	pclose(p);
	return (uint64_t)kb * 1024;
}

/* The day keys, in memory (the keystore's part is not in the figures:
 * one read per day and batch): a keyed hash of the day, none before the
 * days erased. */
static unsigned char day_secret[TRAFFIC_KEY_BYTES];
static long erased_before = LONG_MIN;

static enum vaern_err
bench_key_get(void *arg, const char *controller, long day, int create,
              unsigned char *key, struct vaern_msg *msg)
{
	unsigned char in[8];

	(void)arg;
	(void)controller; /* both stores of the run share their days' keys */
	(void)create;
	if (day < erased_before)
		return vaern_fail(msg, VAERN_E_NOTFOUND, "no day key");
	memcpy(in, &day, sizeof(in));
	crypto_generichash(key, TRAFFIC_KEY_BYTES, in, sizeof(in), day_secret,
	                   sizeof(day_secret));
	return VAERN_OK;
}

static enum vaern_err
bench_key_drop(void *arg, const char *controller, long day,
               struct vaern_msg *msg)
{
	(void)arg;
	(void)controller;
	(void)msg;
	erased_before = day > erased_before ? day : erased_before;
	return VAERN_OK;
}

/* A deterministic record stream: subscriber s has the number 4520000000+s,
 * an IMSI and an IMEI of its own; cells uniform. */
static void
make_record(struct traffic_record *r, long day, uint64_t i, uint32_t subs,
            uint32_t cells, uint64_t *seed)
{
	uint64_t x = *seed =
	        *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	uint32_t s = (uint32_t)(x >> 33) % subs;
	uint32_t t = (uint32_t)(x >> 13) % subs;

	memset(r, 0, sizeof(*r));
	r->kind = (uint8_t)((x >> 7) % 3);
	r->imsi_digits = 15;
	r->start = (int64_t)day * 86400 + (int64_t)(i % 86400);
	r->end = r->start +
	         (r->kind == TRAFFIC_CALL ? (int64_t)(x >> 50) % 600 : 0);
	r->a = 4520000000ULL + s;
	r->b = 4520000000ULL + t;
	r->imsi = 238010000000000ULL + s;
	r->imei = 350000000000000ULL + s * 10ULL;
	r->cell_start = (uint32_t)(x >> 20) % cells;
	r->cell_end = r->kind == TRAFFIC_CALL ? (uint32_t)(x >> 40) % cells
	                                      : r->cell_start;
}

static int
write_cells(const char *path, uint32_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs("mcc,mnc,lac,ci,lat,lon,azimuth\n", f);
	for (uint32_t i = 0; i < n; i++)
		fprintf(f, "238,01,%u,%u,55.%06u,12.%06u,%u\n", 100 + i / 1000,
		        i, i % 1000000, (i * 7) % 1000000, i % 360);
	return fclose(f);
}

static enum vaern_err
count_rec(void *arg, const struct traffic_record *r)
{
	(void)r;
	(*(uint64_t *)arg)++;
	return VAERN_OK;
}

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs q three times on st; the best time (*cpu: the CPU time of that
 * run), *got what it found. */
static double
best_query(struct traffic_store *st, const struct traffic_query *q,
           uint64_t *got, double *cpu)
{
	struct vaern_msg msg = {{0}};
	double best = 1e9, t0, c0;

	for (int run = 0; run < 3; run++) {
		*got = 0;
		t0 = now_s();
		c0 = cpu_s();
		if (traffic_query(st, q, count_rec, got, &msg) != VAERN_OK) {
			fprintf(stderr, "query: %s\n", msg.text);
			return -1;
		}
		t0 = now_s() - t0;
		if (t0 < best) {
			best = t0;
			*cpu = cpu_s() - c0;
		}
	}
	return best;
}

/* Prints q's best time on st beside the old layout's (old), which must
 * find the same records, and the CPU time of each (the steadier figure
 * on a loaded machine). */
static int
time_query(struct traffic_store *st, struct traffic_store *old,
           const struct traffic_query *q, const char *what)
{
	uint64_t got = 0, got_old = 0;
	double cpu = 0, cpu_old = 0;
	double t = best_query(st, q, &got, &cpu);
	double t_old = best_query(old, q, &got_old, &cpu_old);

	if (t < 0 || t_old < 0)
		return -1;
	if (got != got_old) {
		fprintf(stderr, "%s: %llu records, the old layout %llu\n", what,
		        (unsigned long long)got, (unsigned long long)got_old);
		return -1;
	}
	printf("%-28s %11.1f ms %11.1f ms  (old layout; %llu records, best "
	       "of 3)\n",
	       what, t * 1e3, t_old * 1e3, (unsigned long long)got);
	printf("%-28s %11.1f ms %11.1f ms  (CPU time of those runs)\n", "",
	       cpu * 1e3, cpu_old * 1e3);
	return 0;
}

/* The plain-SQLite floor: the same columns, one index per identifier and
 * cell, prepared statement, one transaction per day. */
static double
sqlite_floor(const char *path, long days, long per_day, uint32_t subs,
             uint32_t cells, long nrec, uint64_t *bytes)
{
	struct db *db;
	struct db_stmt *st;
	uint64_t seed = 42;
	long per = nrec / days > 0 ? nrec / days : 1;
	double t0;
	struct stat sb;

	(void)per_day;
	if (db_open_sqlite(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                   5000, &db) != DB_OK)
		return 0;
	db_exec(db,
	        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	        "CREATE TABLE r(kind INT, start INT, end INT, a INT, b INT,"
	        " c INT, imsi INT, imei INT, cell_start INT, cell_end INT);"
	        "CREATE INDEX ra ON r(a); CREATE INDEX rb ON r(b);"
	        "CREATE INDEX rc ON r(c); CREATE INDEX ri ON r(imsi);"
	        "CREATE INDEX re ON r(imei);"
	        "CREATE INDEX rcs ON r(cell_start, start);"
	        "CREATE INDEX rce ON r(cell_end, start);",
	        NULL);
	db_prepare(db, "INSERT INTO r VALUES(?,?,?,?,?,?,?,?,?,?)", 0, &st);
	t0 = now_s();
	for (long d = 0; d < days; d++) {
		db_exec(db, "BEGIN", NULL);
		for (long i = 0; i < per; i++) {
			struct traffic_record r;

			make_record(&r, DAY0 + d, (uint64_t)i, subs, cells,
			            &seed);
			db_bind_int(st, 1, r.kind);
			db_bind_int64(st, 2, r.start);
			db_bind_int64(st, 3, r.end);
			db_bind_int64(st, 4, (sqlite3_int64)r.a);
			db_bind_int64(st, 5, (sqlite3_int64)r.b);
			db_bind_int64(st, 6, (sqlite3_int64)r.c);
			db_bind_int64(st, 7, (sqlite3_int64)r.imsi);
			db_bind_int64(st, 8, (sqlite3_int64)r.imei);
			db_bind_int(st, 9, (int)r.cell_start);
			db_bind_int(st, 10, (int)r.cell_end);
			db_step(st);
			db_reset(st);
		}
		db_exec(db, "COMMIT", NULL);
	}
	db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL);
	t0 = now_s() - t0;
	db_finalize(st);
	db_close(db);
	*bytes = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	return (double)(per * days) / t0;
}

/* The day keys' secret: a fresh one, kept in path with --keep (for a
 * later --query-only run); or the one a --keep run left there. */
static int
secret_make(const char *path, int keep_it)
{
	FILE *f;

	randombytes_buf(day_secret, sizeof(day_secret));
	if (!keep_it)
		return 0;
	f = fopen(path, "wb");
	if (f == NULL || fwrite(day_secret, sizeof(day_secret), 1, f) != 1) {
		fprintf(stderr, "bench-traffic: cannot write %s\n", path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

static int
secret_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	int ok = f != NULL && fread(day_secret, sizeof(day_secret), 1, f) == 1;

	if (f != NULL)
		fclose(f);
	if (!ok)
		fprintf(stderr,
		        "bench-traffic: no store to query in the directory "
		        "(run with --keep first)\n");
	return ok ? 0 : -1;
}

/* What the run measures on. */
struct bench {
	const char *dir;
	long days, per_day, nsql;
	uint32_t subs, cells;
	struct traffic_store *st, *old;
};

/* Ingest, bytes per record, the plain-file and SQLite baselines. */
static int
ingest_phase(const struct bench *b)
{
	struct traffic_record *recs;
	struct vaern_msg msg = {{0}};
	char path[4096];
	uint64_t seed = 42, total = 0, bytes, bytes_old, sbytes = 0;
	double t_ingest = 0, t_old = 0, t_plain, t0, sql_rate;
	long nsql = b->nsql;
	int fd;

	recs = malloc((size_t)b->per_day * sizeof(*recs));
	if (recs == NULL)
		return -1;
	/* Ingest: a day's batch at a time, generated outside the clock. */
	for (long d = 0; d < b->days; d++) {
		for (long i = 0; i < b->per_day; i++)
			make_record(&recs[i], DAY0 + d, (uint64_t)i, b->subs,
			            b->cells, &seed);
		t0 = now_s();
		if (traffic_append(b->st, recs, (size_t)b->per_day, &msg) !=
		    VAERN_OK) {
			fprintf(stderr, "append: %s\n", msg.text);
			free(recs);
			return -1;
		}
		t_ingest += now_s() - t0;
		t0 = now_s();
		if (traffic_append(b->old, recs, (size_t)b->per_day, &msg) !=
		    VAERN_OK) {
			fprintf(stderr, "append: %s\n", msg.text);
			free(recs);
			return -1;
		}
		t_old += now_s() - t0;
		total += (uint64_t)b->per_day;
	}
	free(recs);
	snprintf(path, sizeof(path), "%s/%s/bench", b->dir, TRAFFIC_DIR);
	bytes = du(path);
	snprintf(path, sizeof(path), "%s/%s/bench-old", b->dir, TRAFFIC_DIR);
	bytes_old = du(path);

	/* The disk's limit: the same bytes into a plain file, fsync'ed. */
	snprintf(path, sizeof(path), "%s/plain.bin", b->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	{
		size_t chunk = (size_t)1 << 22;
		unsigned char *buf = calloc(1, chunk);
		uint64_t left = bytes;

		t0 = now_s();
		while (buf != NULL && fd >= 0 && left > 0) {
			size_t n = left < chunk ? (size_t)left : chunk;

			if (write(fd, buf, n) != (ssize_t)n)
				break;
			left -= n;
		}
		if (fd >= 0)
			fsync(fd);
		t_plain = now_s() - t0;
		free(buf);
		if (fd >= 0)
			close(fd);
		unlink(path);
	}

	/* Plain SQLite with the same columns and indexes. */
	snprintf(path, sizeof(path), "%s/floor.db", b->dir);
	if (nsql > (long)total)
		nsql = (long)total;
	sql_rate = sqlite_floor(path, b->days, b->per_day, b->subs, b->cells,
	                        nsql, &sbytes);

	printf("records          %llu (%ld days x %ld), %u subscribers, %u "
	       "cells\n",
	       (unsigned long long)total, b->days, b->per_day, b->subs,
	       b->cells);
	printf("%-28s %14s %14s\n", "", "vaern", "baseline");
	printf("%-28s %14.0f %14.0f  (plain file, same bytes)\n",
	       "ingest records/s", (double)total / t_ingest,
	       (double)total / t_plain);
	printf("%-28s %14s %14.0f  (plain SQLite, same columns and "
	       "indexes, %ld records)\n",
	       "", "", sql_rate, nsql);
	printf("%-28s %14s %14.0f  (old layout, same records)\n", "", "",
	       (double)total / t_old);
	printf("%-28s %14.1f %14.1f  (plain SQLite)\n", "bytes/record on disk",
	       (double)bytes / (double)total,
	       nsql > 0 ? (double)sbytes / (double)nsql : 0.0);
	printf("%-28s %14s %14.1f  (old layout)\n", "", "",
	       (double)bytes_old / (double)total);
	unlink(path);
	return 0;
}

/* One subscriber over all the days; one cell over one hour. */
static int
query_phase(const struct bench *b)
{
	struct traffic_query q = {0};
	uint32_t cell = 77 % b->cells;

	q.target = TRAFFIC_BY_MSISDN;
	q.value = 4520000000ULL + 12345 % b->subs;
	q.from = (int64_t)DAY0 * 86400;
	q.to = (int64_t)(DAY0 + b->days) * 86400;
	if (time_query(b->st, b->old, &q, "one subscriber, all days") != 0)
		return -1;
	memset(&q, 0, sizeof(q));
	q.target = TRAFFIC_BY_CELLS;
	q.cells = &cell;
	q.ncells = 1;
	q.from = (int64_t)(DAY0 + b->days / 2) * 86400 + 3600 * 10;
	q.to = q.from + 3600;
	return time_query(b->st, b->old, &q, "one cell, one hour");
}

int
main(int argc, char **argv)
{
	struct bench b = {NULL,    30,    10000000, 1000000,
	                  1000000, 20000, NULL,     NULL};
	int keep_store = 0, query_only = 0, rc = 1;
	struct traffic_keys keys = {bench_key_get, bench_key_drop, NULL};
	struct vaern_msg msg = {{0}};
	struct period keep = {1, PERIOD_YEARS};
	char path[4096], cmd[4200];
	uint64_t nd, nr;
	double t0, t_sweep[2];
	size_t added;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--keep") == 0) {
			keep_store = 1;
			continue;
		}
		if (strcmp(argv[i], "--query-only") == 0) {
			query_only = 1;
			continue;
		}
		if (i + 1 >= argc)
			break;
		if (strcmp(argv[i], "--dir") == 0)
			b.dir = argv[++i];
		else if (strcmp(argv[i], "--days") == 0)
			b.days = arg_long(argv[++i], 2, 400);
		else if (strcmp(argv[i], "--per-day") == 0)
			b.per_day = arg_long(argv[++i], 1, 100000000);
		else if (strcmp(argv[i], "--subscribers") == 0)
			b.subs = (uint32_t)arg_long(argv[++i], 1, 100000000);
		else if (strcmp(argv[i], "--cells") == 0)
			b.cells = (uint32_t)arg_long(argv[++i], 1, 1 << 24);
		else if (strcmp(argv[i], "--sqlite-records") == 0)
			b.nsql = arg_long(argv[++i], 1000, 1000000000);
	}
	if (b.dir == NULL || sodium_init() < 0) {
		fputs("usage: vaern-bench-traffic --dir DIR [--days D] "
		      "[--per-day N] [--subscribers S] [--cells C] "
		      "[--sqlite-records M] [--keep] [--query-only]\n",
		      stderr);
		return 2;
	}
	mkdir(b.dir, 0700);
	snprintf(path, sizeof(path), "%s/bench.secret", b.dir);
	if (query_only ? secret_load(path) : secret_make(path, keep_store))
		return 1;
	if (traffic_open(b.dir, "bench", &keys, keep, &b.st, &msg) !=
	            VAERN_OK ||
	    traffic_open(b.dir, "bench-old", &keys, keep, &b.old, &msg) !=
	            VAERN_OK) {
		fprintf(stderr, "open: %s\n", msg.text);
		goto done;
	}
	/* The baseline: the layout before this one (V2, segments of 128
	 * blocks), what the store wrote until issue 18's second round. */
	traffic_set_layout(b.old, TRAFFIC_LAYOUT_V2);
	traffic_set_segment_blocks(b.old, 128);
	if (!query_only) {
		snprintf(path, sizeof(path), "%s/cells-in.csv", b.dir);
		if (write_cells(path, b.cells) != 0 ||
		    traffic_cells_load(b.st, path, &added, &msg) != VAERN_OK ||
		    traffic_cells_load(b.old, path, &added, &msg) != VAERN_OK) {
			fprintf(stderr, "cells: %s\n", msg.text);
			goto done;
		}
		if (ingest_phase(&b) != 0)
			goto done;
	}
	if (query_phase(&b) != 0)
		goto done;
	rc = 0;
	if (query_only || keep_store)
		goto done; /* the store stays for the next --query-only */
	/* Expiring the oldest day: due one year after it ends; the same day
	 * of the baseline store after it. */
	for (int i = 0; i < 2; i++) {
		t0 = now_s();
		if (traffic_sweep(i == 0 ? b.st : b.old,
		                  (int64_t)cal_add_period(DAY0 + 1, keep) *
		                          86400,
		                  &nd, &nr, &msg) != VAERN_OK) {
			fprintf(stderr, "sweep: %s\n", msg.text);
			rc = 1;
			goto done;
		}
		t_sweep[i] = now_s() - t0;
	}
	printf("%-28s %11.1f ms %11.1f ms  (old layout; %llu day, %llu "
	       "records)\n",
	       "expiring a day", t_sweep[0] * 1e3, t_sweep[1] * 1e3,
	       (unsigned long long)nd, (unsigned long long)nr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/%s'", b.dir, TRAFFIC_DIR);
	if (system(cmd) != 0)
		rc = 1;
done:
	traffic_close(b.st);
	traffic_close(b.old);
	return rc;
}
