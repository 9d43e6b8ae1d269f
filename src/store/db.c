/*
 * db.c -- the engine-neutral statement interface (db.h): the SQLite
 * engine's connection calls, and the dispatch to the PostgreSQL engine
 * (db_pg.c).
 */
#include "db.h"

#include "db_pg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	db->busy_ms = busy_ms;
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

int
db_store_conf(const char *path, int is_dir, char *conninfo, size_t size)
{
	char conf[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int dirlen = is_dir          ? (int)strlen(path)
	             : slash != NULL ? (int)(slash - path)
	                             : 1;
	struct stat sb;
	ssize_t n;
	int fd, ok;

	n = snprintf(conf, sizeof(conf), "%.*s/%s", dirlen,
	             is_dir || slash != NULL ? path : ".", DB_STORE_CONF);
	if (n < 0 || (size_t)n >= sizeof(conf))
		return -1;
	if ((fd = open(conf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? 0 : -1;
	ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	     (sb.st_mode & 077) == 0;
	n = ok ? read(fd, conninfo, size - 1) : -1;
	(void)close(fd);
	if (n <= 0 || (size_t)n >= size - 1)
		return -1;
	conninfo[n] = '\0';
	while (n > 0 && (conninfo[n - 1] == '\n' || conninfo[n - 1] == ' '))
		conninfo[--n] = '\0';
	return n > 0 ? 1 : -1;
}

int
db_open_file(const char *path, int flags, int busy_ms, struct db **out)
{
	char conninfo[1024];
	const char *base = strrchr(path, '/');
	int on_pg;

	*out = NULL;
	base = base != NULL ? base + 1 : path;
	on_pg = db_store_conf(path, 0, conninfo, sizeof(conninfo));
	if (on_pg == 0)
		return db_open_sqlite(path, flags, busy_ms, out);
	if (on_pg < 0) {
		explicit_bzero(conninfo, sizeof(conninfo));
		if ((*out = calloc(1, sizeof(**out))) != NULL)
			(*out)->engine = DB_POSTGRESQL; /* pg NULL: the conf */
		return DB_ERROR;
	}
	on_pg = db_open_pg(
	        conninfo,
	        strcmp(base, "audit.db") == 0 ? DB_SCHEMA_AUDIT : NULL, out);
	explicit_bzero(conninfo, sizeof(conninfo));
	if (on_pg == DB_OK)
		db_busy_timeout(*out, busy_ms);
	return on_pg;
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
	return db->pg != NULL ? dbpg_errmsg(db->pg)
	                      : DB_STORE_CONF " is unreadable, empty, too long"
	                                      " or open to others (it must be"
	                                      " a file of mode 0600 holding a"
	                                      " PostgreSQL connection string)";
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
	case SQLITE_CONSTRAINT: return DB_EK_CONSTRAINT;
	case SQLITE_FULL: return DB_EK_FULL;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return DB_EK_BUSY;
	default: return DB_EK_OTHER;
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
db_prepare(struct db *db, const char *sql, int persistent, struct db_stmt **out)
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

int
db_begin(struct db *db, enum db_begin how, int64_t lock)
{
	char sql[96];
	int rc, wait = how == DB_WRITE || how == DB_WRITE_SHARED ||
	               how == DB_WRITE_QUEUED;

	if (db->engine == DB_SQLITE) {
		if (how == DB_READ)
			return db_exec(db, "BEGIN DEFERRED", NULL);
		if (wait)
			return db_exec(db, "BEGIN IMMEDIATE", NULL);
		(void)sqlite3_busy_timeout(db->lite, 0);
		rc = db_exec(db, "BEGIN IMMEDIATE", NULL);
		(void)sqlite3_busy_timeout(db->lite, db->busy_ms);
		return (rc & 0xff) == SQLITE_BUSY ? DB_BUSY : rc;
	}
	if (how == DB_READ)
		return db_exec(
		        db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
		        NULL);
	(void)snprintf(
	        sql, sizeof(sql), "BEGIN; SELECT %s%s(%lld)",
	        wait ? "pg_advisory_xact_lock" : "pg_try_advisory_xact_lock",
	        how == DB_WRITE_SHARED || how == DB_TRY_WRITE_SHARED ? "_shared"
	                                                             : "",
	        (long long)lock);
	if (wait)
		rc = db_exec(db, sql, NULL);
	else
		rc = dbpg_try_lock(db, sql);
	/* Issue 14: the statements that return no row of a shared (or
	 * DB_WRITE_QUEUED) writer are queued (db_pg.c). */
	if (rc == DB_OK && how != DB_WRITE && how != DB_TRY_WRITE)
		dbpg_pipeline_allow(db->pg);
	return rc;
}

void
db_stmt_sync(struct db_stmt *s)
{
	if (s->pg != NULL)
		dbpg_stmt_sync(s);
}

int
db_log_restart(struct db *db, int wait_ms)
{
	int rc;

	if (db->engine != DB_SQLITE)
		return 1;
	(void)sqlite3_busy_timeout(db->lite, wait_ms);
	rc = sqlite3_wal_checkpoint_v2(db->lite, NULL,
	                               SQLITE_CHECKPOINT_RESTART, NULL, NULL);
	(void)sqlite3_busy_timeout(db->lite, db->busy_ms);
	return rc == SQLITE_OK;
}

void
db_busy_timeout(struct db *db, int ms)
{
	db->busy_ms = ms;
	if (db->engine == DB_SQLITE)
		(void)sqlite3_busy_timeout(db->lite, ms);
	else
		dbpg_busy_timeout(db->pg, ms);
}
