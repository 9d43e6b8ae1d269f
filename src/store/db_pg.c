/*
 * db_pg.c -- the PostgreSQL engine (libpq). Work in progress (issue 14):
 * this step only gives db.h its symbols; every call fails.
 */
#include "db_pg.h"

#include <stddef.h>

int
dbpg_open(const char *conninfo, const char *schema, struct pg_conn **out)
{
	(void)conninfo;
	(void)schema;
	*out = NULL;
	return DB_ERROR;
}
void
dbpg_close(struct pg_conn *c)
{
	(void)c;
}
const char *
dbpg_errmsg(struct pg_conn *c)
{
	(void)c;
	return "the PostgreSQL engine is not built yet";
}
enum db_errkind
dbpg_errkind(struct pg_conn *c)
{
	(void)c;
	return DB_EK_OTHER;
}
int
dbpg_exec(struct db *db, const char *sql, char **errmsg)
{
	(void)db;
	(void)sql;
	(void)errmsg;
	return DB_ERROR;
}
int
dbpg_prepare(struct db *db, const char *sql, struct db_stmt *s)
{
	(void)db;
	(void)sql;
	(void)s;
	return DB_ERROR;
}
void
dbpg_finalize(struct db_stmt *s)
{
	(void)s;
}
int64_t
dbpg_changes(struct pg_conn *c)
{
	(void)c;
	return 0;
}
int
dbpg_autocommit(struct pg_conn *c)
{
	(void)c;
	return 1;
}
void
dbpg_busy_timeout(struct pg_conn *c, int ms)
{
	(void)c;
	(void)ms;
}
int
dbpg_step(struct db_stmt *s)
{
	(void)s;
	return DB_ERROR;
}
void
dbpg_reset(struct db_stmt *s)
{
	(void)s;
}
void
dbpg_clear_bindings(struct db_stmt *s)
{
	(void)s;
}
int
dbpg_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	(void)s;
	(void)i;
	(void)v;
	return DB_ERROR;
}
int
dbpg_bind_text(struct db_stmt *s, int i, const char *p, int n)
{
	(void)s;
	(void)i;
	(void)p;
	(void)n;
	return DB_ERROR;
}
int
dbpg_bind_blob(struct db_stmt *s, int i, const void *p, int n)
{
	(void)s;
	(void)i;
	(void)p;
	(void)n;
	return DB_ERROR;
}
int
dbpg_bind_null(struct db_stmt *s, int i)
{
	(void)s;
	(void)i;
	return DB_ERROR;
}
int
dbpg_column_type(struct db_stmt *s, int col)
{
	(void)s;
	(void)col;
	return DB_NULL;
}
int64_t
dbpg_column_int64(struct db_stmt *s, int col)
{
	(void)s;
	(void)col;
	return 0;
}
double
dbpg_column_double(struct db_stmt *s, int col)
{
	(void)s;
	(void)col;
	return 0;
}
const unsigned char *
dbpg_column_text(struct db_stmt *s, int col)
{
	(void)s;
	(void)col;
	return NULL;
}
const void *
dbpg_column_blob(struct db_stmt *s, int col)
{
	(void)s;
	(void)col;
	return NULL;
}
int
dbpg_column_bytes(struct db_stmt *s, int col)
{
	(void)s;
	(void)col;
	return 0;
}
int
dbpg_try_lock(struct db *db, const char *sql)
{
	(void)db;
	(void)sql;
	return DB_ERROR;
}
