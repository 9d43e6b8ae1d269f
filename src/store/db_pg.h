/*
 * db_pg.h -- the PostgreSQL engine's connection half of db.h, for db.c
 * only (the statement half is declared in db.h, for its inline calls).
 */
#ifndef VAERN_DB_PG_H
#define VAERN_DB_PG_H

#include "db.h"

/* db_open_pg: connects; on failure returns DB_ERROR with *out set to a
 * pg_conn whose dbpg_errmsg says why (never the password), or NULL when
 * out of memory. */
int dbpg_open(const char *conninfo, const char *schema, struct pg_conn **out);
void dbpg_close(struct pg_conn *c);
const char *dbpg_errmsg(struct pg_conn *c);
enum db_errkind dbpg_errkind(struct pg_conn *c);
int dbpg_exec(struct db *db, const char *sql, char **errmsg);
int dbpg_prepare(struct db *db, const char *sql, struct db_stmt *s);
void dbpg_finalize(struct db_stmt *s);
int64_t dbpg_changes(struct pg_conn *c);
int dbpg_autocommit(struct pg_conn *c);
void dbpg_busy_timeout(struct pg_conn *c, int ms);
/* Runs sql, "BEGIN; SELECT pg_try_advisory_xact_lock(k)": DB_OK if the
 * lock was taken (the transaction stays open), DB_BUSY if not (the
 * transaction is rolled back), or an error. */
int dbpg_try_lock(struct db *db, const char *sql);
/* The transaction just begun is a shared writer's: its statements of no
 * rows may be queued (db.h, DB_WRITE_SHARED). */
void dbpg_pipeline_allow(struct pg_conn *c);
void dbpg_stmt_sync(struct db_stmt *s);

#endif
