/*
 * store_copy.h -- a store copied between the two engines, table by table
 * (issue 14): `vaern backup` of a PostgreSQL store into the SQLite files
 * of the backup format both engines share, and `vaern restore` of those
 * files into an empty PostgreSQL database.
 *
 * Tables and columns are matched by name: the two schemas hold the same
 * tables with the same columns (schema_pg.sql; the pg_schema test). A
 * table on one side without its twin on the other is an error naming it,
 * never a table left behind.
 */
#ifndef VAERN_STORE_COPY_H
#define VAERN_STORE_COPY_H

#include <stdint.h>

#include "../common/err.h"

struct db;

/* The parts of a store, each a SQLite file of its own. */
enum store_copy_part {
	STORE_COPY_DATA,     /* vaern.db: PostgreSQL's schema public */
	STORE_COPY_KEYSTORE, /* keystore.db: schema ks */
	STORE_COPY_AUDIT,    /* audit.db: schema audit */
};

/* The PostgreSQL schema that holds part. */
const char *store_copy_pg_schema(enum store_copy_part part);

/*
 * Makes the new SQLite file path (refused if it exists) holding part's
 * tables at this binary's schema, and opens it into *out, its tables in
 * "main". The caller closes *out with db_close, also on failure.
 */
enum vaern_err store_copy_make_sqlite(const char *path,
                                      enum store_copy_part part,
                                      struct db **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/*
 * Copies every row of every table of from's schema from_schema into the
 * same table of to's schema to_schema, emptied first ("main" on SQLite;
 * "public", "ks" or "audit" on PostgreSQL), inside the callers'
 * transactions: from's, one snapshot; to's, all or nothing. A PostgreSQL
 * source is read in pages (bounded memory); into PostgreSQL, every
 * identity's sequence is set past the highest id copied. live_keys: of
 * a PostgreSQL keystore, only the subject keys whose subject the same
 * database holds (a live keystore, where an erasure cut by a crash may
 * have left a key behind; GDPR-17). *rows (if not NULL) gets how many.
 */
enum vaern_err store_copy_tables(struct db *from, const char *from_schema,
                                 struct db *to, const char *to_schema,
                                 int live_keys, int64_t *rows,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/* 1 if the PostgreSQL database of db holds no vaern store (none of its
 * tables), 0 if it does, -1 if it cannot tell (db_errmsg). */
int store_copy_pg_empty(struct db *db) __attribute__((nonnull));

/* Makes the PostgreSQL store's tables (schema_pg.sql) inside the caller's
 * transaction: DB_OK or an error with *errmsg (db_free). */
int store_copy_pg_create(struct db *db, char **errmsg)
        __attribute__((nonnull(1)));

#endif
