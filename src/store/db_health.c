/*
 * db_health.c -- the store's readiness check for GET /healthz (issue 14;
 * db_health.h). One connection, one mutex, one `SELECT 1` a second at
 * most; a thread that finds a check under way answers with the last
 * result instead of waiting for it (a reset can take connect_timeout).
 */
#include "db_health.h"

#include "db.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct db_health {
	char path[PATH_MAX];  /* DIR/vaern.db: what db_open_file takes */
	pthread_mutex_t lock; /* held by the thread running a check */
	struct db *db;        /* the check's connection; NULL until the first
	                         open succeeds (lock held to touch it) */
	long long checked_ms; /* monotonic time of the last check; 0 none */
	atomic_int ready;     /* the last check's answer */
	char reason[DB_HEALTH_REASON_MAX]; /* why not; under lock */
};

static long long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

enum vaern_err
db_health_open(const char *data_dir, struct db_health **out,
               struct vaern_msg *msg)
{
	char conninfo[1024];
	struct db_health *h;
	int on_pg = db_store_conf(data_dir, 1, conninfo, sizeof(conninfo));

	explicit_bzero(conninfo, sizeof(conninfo));
	*out = NULL;
	if (on_pg == 0)
		return VAERN_OK;
	if (on_pg < 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "%s is unreadable or open to others",
		                  DB_STORE_CONF);
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	if ((size_t)snprintf(h->path, sizeof(h->path), "%s/vaern.db",
	                     data_dir) >= sizeof(h->path)) {
		free(h);
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the data directory path is too long");
	}
	(void)pthread_mutex_init(&h->lock, NULL);
	atomic_init(&h->ready, 1); /* serve checked the store at its start */
	*out = h;
	return VAERN_OK;
}

static const char *
reason_of(enum db_errkind kind)
{
	switch (kind) {
	case DB_EK_GONE: return "the database is unreachable";
	case DB_EK_BUSY: return "the database is busy";
	case DB_EK_FULL: return "the database is full";
	default: return "the database does not answer";
	}
}

/* One check (lock held): 1 if SELECT 1 answered on h->db. */
static int
check(struct db_health *h)
{
	struct db_stmt *s = NULL;
	enum db_errkind kind = DB_EK_GONE;
	int ok = 0;

	if (h->db == NULL) {
		struct db *db = NULL;

		if (db_open_file(h->path, 0, 1000, &db) == DB_OK)
			h->db = db;
		else
			db_close(db);
	}
	if (h->db != NULL) {
		ok = db_prepare(h->db, "SELECT 1", 1, &s) == DB_OK &&
		     db_step(s) == DB_ROW && db_column_int64(s, 0) == 1;
		if (!ok)
			kind = db_errkind(h->db);
		db_finalize(s);
	}
	if (!ok)
		(void)snprintf(h->reason, sizeof(h->reason), "%s",
		               reason_of(kind));
	return ok;
}

int
db_health_ready(struct db_health *h, char reason[DB_HEALTH_REASON_MAX])
{
	long long now;
	int ready;

	if (h == NULL)
		return 1;
	if (pthread_mutex_trylock(&h->lock) != 0) {
		/* A check is under way: the last answer. */
		if (atomic_load(&h->ready))
			return 1;
		(void)snprintf(reason, DB_HEALTH_REASON_MAX, "%s",
		               "the database is unreachable");
		return 0;
	}
	now = now_ms();
	if (h->checked_ms == 0 || now - h->checked_ms >= DB_HEALTH_EVERY_MS) {
		atomic_store(&h->ready, check(h));
		h->checked_ms = now_ms();
	}
	ready = atomic_load(&h->ready);
	if (!ready)
		(void)snprintf(reason, DB_HEALTH_REASON_MAX, "%s", h->reason);
	pthread_mutex_unlock(&h->lock);
	return ready;
}

void
db_health_close(struct db_health *h)
{
	if (h == NULL)
		return;
	db_close(h->db);
	(void)pthread_mutex_destroy(&h->lock);
	free(h);
}
