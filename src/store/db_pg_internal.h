/*
 * db_pg_internal.h -- the PostgreSQL engine's SQL translation
 * (db_pg_sql.c), for db_pg.c only.
 */
#ifndef VAERN_DB_PG_INTERNAL_H
#define VAERN_DB_PG_INTERNAL_H

#include <stddef.h>

/* The highest parameter number (SQLite's default limit). */
#define DBPG_PARAMS_MAX 32766

/* SQLite's "BEGIN IMMEDIATE|DEFERRED|EXCLUSIVE": where the rest of sql
 * starts after the mode word, or NULL if sql is no such BEGIN. */
const char *dbpg_sql_begin_mode(const char *sql) __attribute__((nonnull));

/* 1 if sql ends the whole transaction by rolling back (not ROLLBACK TO). */
int dbpg_sql_is_rollback(const char *sql) __attribute__((nonnull));

/* 1 if sql is a COMMIT (or END) of the whole transaction. */
int dbpg_sql_is_commit(const char *sql) __attribute__((nonnull));

/* ?N as $N, a bare ? as the next number (db_pg_sql.c): the new text
 * (malloc; the caller frees it) with *nparams the highest number and
 * used[n] set for each number used (used: DBPG_PARAMS_MAX + 1 bytes,
 * zeroed by the caller), or NULL with err set (errlen bytes). */
char *dbpg_sql_translate(const char *sql, int *nparams, unsigned char *used,
                         char *err, size_t errlen)
        __attribute__((nonnull, warn_unused_result));

#endif
