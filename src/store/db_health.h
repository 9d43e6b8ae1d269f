/*
 * db_health.h -- whether a node's store answers, for GET /healthz (issue
 * 14, "bad input": a database that is down says not ready meanwhile).
 *
 * A data directory on PostgreSQL gets a connection of its own for the
 * check: at most one `SELECT 1` a second, however often /healthz is
 * asked; the answer in between is the last one. A lost connection is
 * reset by the check itself (libpq tries every host of the connection
 * string again), so the probe follows the database back up, as the
 * workers' own connections do at their next statement. A data directory
 * on SQLite has nothing to check: db_health_open gives NULL and
 * /healthz stays as it was.
 */
#ifndef VAERN_DB_HEALTH_H
#define VAERN_DB_HEALTH_H

#include <stddef.h>

#include "../common/err.h"

/* The longest reason db_health_ready writes, with its NUL. */
#define DB_HEALTH_REASON_MAX 96
/* A check runs at most this often. */
#define DB_HEALTH_EVERY_MS 1000

struct db_health;

/*
 * For the data directory data_dir: *out a checker on PostgreSQL, NULL on
 * SQLite (VAERN_OK both). The first check is at the first
 * db_health_ready. Fails with VAERN_E_INVALID (store.conf unreadable or
 * open to others) or VAERN_E_NOMEM; a database that is down is not a
 * failure here (the check says so later).
 */
enum vaern_err db_health_open(const char *data_dir, struct db_health **out,
                              struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * 1 if the store answered its last check (one is run if the last is
 * DB_HEALTH_EVERY_MS old and no other thread is running one), else 0
 * with reason (DB_HEALTH_REASON_MAX bytes) saying why in words of the
 * engine's error kind: never a server message, which may name a host.
 * Thread-safe; h NULL is always ready.
 */
int db_health_ready(struct db_health *h, char reason[DB_HEALTH_REASON_MAX]);

/* Accepts NULL. */
void db_health_close(struct db_health *h);

#endif
