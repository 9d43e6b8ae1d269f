/*
 * db.c -- the engine-neutral statement interface (db.h): the SQLite
 * engine's connection calls, and the dispatch to the PostgreSQL engine
 * (db_pg.c).
 */
#include "db.h"

#include "db_pg.h"

#include <stdlib.h>
#include <string.h>

int
db_open_sqlite(const char *path, int flags, int busy_ms, struct db **out)
{
	struct db *db = calloc(1, sizeof(*db));
	int rc;

	*out = db;
	if (db == NULL)
		return SQLITE_NOMEM;
	db->engine = DB_SQLITE;
	if ((rc = sqlite3_open_v2(path, &db->lite, flags, NULL)) != SQLITE_OK)
		return rc;
	(void)sqlite3_extended_result_codes(db->lite, 1);
	(void)sqlite3_busy_timeout(db->lite, busy_ms);
	return DB_OK;
}

int
db_open_pg(const char *conninfo, const char *schema, struct db **out)
{
	struct db *db = calloc(1, sizeof(*db));

	*out = db;
	if (db == NULL)
		return DB_ERROR;
	db->engine = DB_POSTGRESQL;
	return dbpg_open(conninfo, schema, &db->pg);
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (db->engine == DB_SQLITE)
		(void)sqlite3_close(db->lite);
	else
		dbpg_close(db->pg);
	free(db);
}

const char *
db_errmsg(struct db *db)
{
	if (db->engine == DB_SQLITE)
		return db->lite != NULL ? sqlite3_errmsg(db->lite)
		                        : "out of memory";
	return db->pg != NULL ? dbpg_errmsg(db->pg) : "out of memory";
}

enum db_errkind
db_errkind(struct db *db)
{
	int code;

	if (db->engine != DB_SQLITE)
		return db->pg != NULL ? dbpg_errkind(db->pg) : DB_EK_OTHER;
	code = sqlite3_extended_errcode(db->lite);
	if (code == SQLITE_CONSTRAINT_PRIMARYKEY ||
	    code == SQLITE_CONSTRAINT_UNIQUE)
		return DB_EK_UNIQUE;
	switch (code & 0xff) {
	case SQLITE_CONSTRAINT:
		return DB_EK_CONSTRAINT;
	case SQLITE_FULL:
		return DB_EK_FULL;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return DB_EK_BUSY;
	default:
		return DB_EK_OTHER;
	}
}

int
db_exec(struct db *db, const char *sql, char **errmsg)
{
	char *e = NULL;
	int rc;

	if (errmsg != NULL)
		*errmsg = NULL;
	if (db->engine != DB_SQLITE)
		return dbpg_exec(db, sql, errmsg);
	rc = sqlite3_exec(db->lite, sql, NULL, NULL, errmsg ? &e : NULL);
	if (e != NULL) {
		*errmsg = strdup(e);
		sqlite3_free(e);
	}
	return rc;
}

void
db_free(void *p)
{
	free(p);
}

int
db_prepare(struct db *db, const char *sql, int persistent,
           struct db_stmt **out)
{
	struct db_stmt *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (s == NULL)
		return SQLITE_NOMEM;
	s->db = db;
	if (db->engine == DB_SQLITE)
		rc = sqlite3_prepare_v3(db->lite, sql, -1,
		                        persistent ? SQLITE_PREPARE_PERSISTENT
		                                   : 0,
		                        &s->lite, NULL);
	else
		rc = dbpg_prepare(db, sql, s);
	if (rc != DB_OK || (s->lite == NULL && s->pg == NULL)) {
		db_finalize(s);
		return rc != DB_OK ? rc : DB_ERROR;
	}
	*out = s;
	return DB_OK;
}

void
db_finalize(struct db_stmt *s)
{
	if (s == NULL)
		return;
	if (s->lite != NULL)
		(void)sqlite3_finalize(s->lite);
	else if (s->pg != NULL)
		dbpg_finalize(s);
	free(s);
}

int64_t
db_changes(struct db *db)
{
	return db->engine == DB_SQLITE ? sqlite3_changes64(db->lite)
	                               : dbpg_changes(db->pg);
}

int
db_autocommit(struct db *db)
{
	return db->engine == DB_SQLITE ? sqlite3_get_autocommit(db->lite)
	                               : dbpg_autocommit(db->pg);
}

void
db_busy_timeout(struct db *db, int ms)
{
	if (db->engine == DB_SQLITE)
		(void)sqlite3_busy_timeout(db->lite, ms);
	else
		dbpg_busy_timeout(db->pg, ms);
}
