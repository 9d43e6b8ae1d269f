/*
 * bench_pgbase.c -- the baseline of scripts/bench-api-pg (issue 14): what
 * a DBA would build instead of vaern, driven over libpq.
 *
 * The schema and the load are bench/pgbase.sql: plain PostgreSQL with
 * pgcrypto, an HMAC-SHA256 blind index per identifier
 * (hmac(value, key, 'sha256'), unique per kind), every fact sealed with
 * pgp_sym_encrypt (AES-256, pgcrypto's default string-to-key), and an
 * audit row per read and per create in the same transaction.
 *
 * This program runs the same requests as bench/api_read.lua and
 * bench/api_create.lua (the 90/10 mix as bench/api_mix.lua), each as ONE
 * statement in its own transaction (autocommit; one round trip, the
 * cheapest the server can be asked to do it): a read finds the person by
 * the e-mail's HMAC, decrypts their six facts and inserts the audit row;
 * a create inserts the person, two identifier HMACs, four encrypted facts
 * and the audit row. The key travels as a parameter (the application
 * holds it, as vaern holds its own). Prepared statements, text
 * parameters, synchronous_commit on (the server's setting).
 *
 * C threads each hold one connection and send one request at a time (a
 * pool of C connections in an application server), for S seconds. It
 * prints "RESULT <kind>/s R p50_ms P p99_ms Q errors E" as the wrk
 * scripts do.
 *
 *   vaern-bench-pgbase --conninfo S --mode read|create|mix
 *                      [--subjects N] [--seconds S] [--connections C]
 *                      [--run R] [--key K]
 */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAMPLES_MAX (1 << 20) /* latencies kept per thread */
#define THREADS_MAX 256

static const char read_sql[] =
        "WITH p AS (SELECT person_id FROM person_identifier"
        "  WHERE kind = 'email' AND digest = hmac($1::text, $2::text,"
        "  'sha256')),"
        " a AS (INSERT INTO audit_log(actor, action, purpose, person_id)"
        "  SELECT 'bench', 'read', 'customer_admin', person_id FROM p)"
        " SELECT f.category, pgp_sym_decrypt(f.value, $2::text)"
        " FROM person_fact f JOIN p USING (person_id)";

static const char create_sql[] =
        "WITH p AS (INSERT INTO person DEFAULT VALUES RETURNING person_id),"
        " i AS (INSERT INTO person_identifier(kind, digest, person_id)"
        "  SELECT v.kind, hmac(v.val, $5::text, 'sha256'), p.person_id"
        "  FROM p, (VALUES ('email', $2::text), ('phone', $3::text))"
        "  AS v(kind, val)),"
        " f AS (INSERT INTO person_fact(person_id, category, value)"
        "  SELECT p.person_id, v.cat, pgp_sym_encrypt(v.val, $5::text,"
        "  'cipher-algo=aes256') FROM p,"
        "  (VALUES ('name', $1::text), ('email', $2::text),"
        "  ('phone', $3::text), ('address', $4::text)) AS v(cat, val)),"
        " a AS (INSERT INTO audit_log(actor, action, purpose, person_id)"
        "  SELECT 'bench', 'create', 'customer_admin', person_id FROM p)"
        " SELECT person_id FROM p";

enum mode { M_READ, M_CREATE, M_MIX };

struct options {
	const char *conninfo;
	const char *key;
	enum mode mode;
	long subjects;
	int seconds;
	int connections;
	int run;
};

struct worker {
	pthread_t thread;
	const struct options *o;
	int tid;
	unsigned seed;
	long reads, creates, errors;
	double *lat; /* seconds, up to SAMPLES_MAX */
	long nlat;
	char fail[256]; /* the first connection failure */
};

static atomic_int stop;

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
run_read(PGconn *c, struct worker *w)
{
	char email[64];
	const char *v[2];
	PGresult *r;
	int ok;

	(void)snprintf(email, sizeof(email), "person%ld@example.dk",
	               (long)(rand_r(&w->seed) % w->o->subjects));
	v[0] = email;
	v[1] = w->o->key;
	r = PQexecPrepared(c, "rd", 2, v, NULL, NULL, 0);
	ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 6;
	PQclear(r);
	return ok;
}

static int
run_create(PGconn *c, struct worker *w, long n)
{
	char email[64], phone[32];
	const char *v[5];
	PGresult *r;
	int ok;

	(void)snprintf(email, sizeof(email), "new%ld@bench.dk", n);
	(void)snprintf(phone, sizeof(phone), "+45%08ld", 30000000 + n);
	v[0] = "Bench Person";
	v[1] = email;
	v[2] = phone;
	v[3] = "Benchvej 1, 8000 Aarhus C";
	v[4] = w->o->key;
	r = PQexecPrepared(c, "cr", 5, v, NULL, NULL, 0);
	ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	PQclear(r);
	return ok;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	PGconn *c = PQconnectdb(w->o->conninfo);
	PGresult *r1 = NULL, *r2 = NULL;
	long counter = 0;

	if (PQstatus(c) != CONNECTION_OK) {
		(void)snprintf(w->fail, sizeof(w->fail), "%s",
		               PQerrorMessage(c));
		goto done;
	}
	r1 = PQprepare(c, "rd", read_sql, 0, NULL);
	r2 = PQprepare(c, "cr", create_sql, 0, NULL);
	if (PQresultStatus(r1) != PGRES_COMMAND_OK ||
	    PQresultStatus(r2) != PGRES_COMMAND_OK) {
		(void)snprintf(w->fail, sizeof(w->fail), "%s",
		               PQerrorMessage(c));
		goto done;
	}
	while (!atomic_load(&stop)) {
		double t0 = now_s();
		int is_read =
		        w->o->mode == M_READ ||
		        (w->o->mode == M_MIX && rand_r(&w->seed) % 10 != 0);
		int ok;

		if (is_read) {
			ok = run_read(c, w);
		} else {
			counter++;
			ok = run_create(c, w,
			                ((long)w->o->run * THREADS_MAX +
			                 w->tid) * 500000 +
			                        counter);
		}
		if (!ok) {
			w->errors++;
			continue;
		}
		if (is_read)
			w->reads++;
		else
			w->creates++;
		if (w->nlat < SAMPLES_MAX)
			w->lat[w->nlat++] = now_s() - t0;
	}
done:
	PQclear(r1);
	PQclear(r2);
	PQfinish(c);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
number(const char *s, long lo, long hi, long *out)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o = {
	        NULL, "bench-key-0123456789abcdef", M_READ, 20000, 10, 8, 0};
	struct worker *w;
	double *all, p50 = 0, p99 = 0;
	long reads = 0, creates = 0, errors = 0, n = 0, v;
	const char *kind;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i],
		           *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (val == NULL)
			goto usage;
		i++;
		if (strcmp(a, "--conninfo") == 0)
			o.conninfo = val;
		else if (strcmp(a, "--key") == 0)
			o.key = val;
		else if (strcmp(a, "--mode") == 0 && strcmp(val, "read") == 0)
			o.mode = M_READ;
		else if (strcmp(a, "--mode") == 0 && strcmp(val, "create") == 0)
			o.mode = M_CREATE;
		else if (strcmp(a, "--mode") == 0 && strcmp(val, "mix") == 0)
			o.mode = M_MIX;
		else if (strcmp(a, "--subjects") == 0 &&
		         number(val, 1, 100000000, &v) == 0)
			o.subjects = v;
		else if (strcmp(a, "--seconds") == 0 &&
		         number(val, 1, 3600, &v) == 0)
			o.seconds = (int)v;
		else if (strcmp(a, "--connections") == 0 &&
		         number(val, 1, THREADS_MAX, &v) == 0)
			o.connections = (int)v;
		else if (strcmp(a, "--run") == 0 && number(val, 0, 99, &v) == 0)
			o.run = (int)v;
		else
			goto usage;
	}
	if (o.conninfo == NULL)
		goto usage;
	if ((w = calloc((size_t)o.connections, sizeof(*w))) == NULL)
		return 1;
	for (int i = 0; i < o.connections; i++) {
		w[i].o = &o;
		w[i].tid = i;
		w[i].seed = (unsigned)(time(NULL) ^ (i * 2654435761u));
		if ((w[i].lat = malloc(SAMPLES_MAX * sizeof(double))) == NULL)
			return 1;
	}
	for (int i = 0; i < o.connections; i++)
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
			return 1;
	struct timespec d = {o.seconds, 0};
	while (nanosleep(&d, &d) != 0)
		;
	atomic_store(&stop, 1);
	for (int i = 0; i < o.connections; i++)
		pthread_join(w[i].thread, NULL);
	for (int i = 0; i < o.connections; i++) {
		if (w[i].fail[0] != '\0') {
			fprintf(stderr, "vaern-bench-pgbase: %s", w[i].fail);
			return 1;
		}
		reads += w[i].reads;
		creates += w[i].creates;
		errors += w[i].errors;
		n += w[i].nlat;
	}
	if ((all = malloc((size_t)(n > 0 ? n : 1) * sizeof(double))) == NULL)
		return 1;
	n = 0;
	for (int i = 0; i < o.connections; i++) {
		memcpy(all + n, w[i].lat, (size_t)w[i].nlat * sizeof(double));
		n += w[i].nlat;
		free(w[i].lat);
	}
	qsort(all, (size_t)n, sizeof(double), cmp_double);
	if (n > 0) {
		p50 = all[(n - 1) / 2];
		p99 = all[(long)((double)(n - 1) * 0.99)];
	}
	kind = o.mode == M_READ     ? "reads"
	       : o.mode == M_CREATE ? "creates"
	                            : "mix";
	/* The rate is over the seconds asked, as wrk's is. */
	printf("RESULT %s/s %.0f p50_ms %.2f p99_ms %.2f errors %ld"
	       " reads/s %.0f creates/s %.0f\n",
	       kind, (double)(reads + creates) / o.seconds, p50 * 1e3,
	       p99 * 1e3, errors, (double)reads / o.seconds,
	       (double)creates / o.seconds);
	free(all);
	free(w);
	return 0;
usage:
	fprintf(stderr, "usage: vaern-bench-pgbase --conninfo S --mode "
	                "read|create|mix [--subjects N] [--seconds S] "
	                "[--connections C] [--run R] [--key K]\n");
	return 2;
}
