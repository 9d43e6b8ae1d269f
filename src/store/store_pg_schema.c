/*
 * store_pg_schema.c -- the PostgreSQL engine's schema (issue 14): made at
 * the first open of an empty database, checked at every open, refused
 * when newer than this binary. One transaction under the schema lock, so
 * two nodes starting at once do not both make it.
 */
#include "store_sqlite_engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_pg_sql.h"
#include "store_copy.h"

int
store_pg_schema_setup(struct db *db, char **errmsg)
{
	struct db_stmt *s = NULL;
	int rc, have = 0, version = 0;

	if ((rc = db_begin(db, DB_WRITE, DB_LOCK_SCHEMA)) != DB_OK)
		return rc;
	if ((rc = db_prepare(db,
	                     "SELECT to_regclass('public.meta') IS NOT NULL", 0,
	                     &s)) == DB_OK &&
	    db_step(s) == DB_ROW)
		have = (int)db_column_int64(s, 0);
	db_finalize(s);
	s = NULL;
	if (rc == DB_OK && have &&
	    (rc = db_prepare(db,
	                     "SELECT value FROM main.meta"
	                     " WHERE key = 'schema_version'",
	                     0, &s)) == DB_OK &&
	    db_step(s) == DB_ROW) {
		const char *v = (const char *)db_column_text(s, 0);

		version = v != NULL ? (int)strtol(v, NULL, 10) : 0;
	}
	db_finalize(s);
	if (rc == DB_OK && !have)
		rc = db_exec(db, schema_pg_sql, errmsg);
	else if (rc == DB_OK && version > STORE_SCHEMA_VERSION)
		rc = store_schema_newer(version, errmsg);
	if (rc == DB_OK)
		rc = db_exec(db, "COMMIT", errmsg);
	if (rc != DB_OK)
		(void)db_exec(db, "ROLLBACK", NULL);
	return rc;
}

/* The tables alone, for a restore into an empty database (store_copy.h):
 * inside the caller's transaction. */
int
store_copy_pg_create(struct db *db, char **errmsg)
{
	return db_exec(db, schema_pg_sql, errmsg);
}
