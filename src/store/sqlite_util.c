/*
 * sqlite_util.c -- the SQLite connection and statement cache both stores
 * use (sqlite_util.h).
 */
#include "sqlite_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum vaern_err
sqlu_open(struct sqlu_conn *c, const char *path, int flags, int busy_ms,
          struct vaern_msg *msg)
{
	if (db_open_sqlite(path, flags, busy_ms, &c->db) != DB_OK)
		return vaern_fail(msg, VAERN_E_STORE,
		                  "cannot open the database %s: %s", path,
		                  c->db ? db_errmsg(c->db) : "out of memory");
	return VAERN_OK;
}

enum vaern_err
sqlu_open_pg(struct sqlu_conn *c, const char *conninfo, const char *schema,
             struct vaern_msg *msg)
{
	if (db_open_pg(conninfo, schema, &c->db) != DB_OK)
		return vaern_fail(msg, VAERN_E_STORE,
		                  "cannot connect to PostgreSQL: %s",
		                  c->db ? db_errmsg(c->db) : "out of memory");
	return VAERN_OK;
}

enum vaern_err
sqlu_open_file(struct sqlu_conn *c, const char *path, int flags, int busy_ms,
               const char *schema, int *on_pg, struct vaern_msg *msg)
{
	char conninfo[1024];
	enum vaern_err err;
	int on = db_store_conf(path, 0, conninfo, sizeof(conninfo));

	*on_pg = on != 0;
	if (on == 0)
		return sqlu_open(c, path, flags, busy_ms, msg);
	if (on < 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "%s is unreadable or open to others: it must "
		                  "be a file of mode 0600 holding a PostgreSQL "
		                  "connection string",
		                  DB_STORE_CONF);
	err = sqlu_open_pg(c, conninfo, schema, msg);
	explicit_bzero(conninfo, sizeof(conninfo));
	if (err == VAERN_OK)
		db_busy_timeout(c->db, busy_ms);
	return err;
}

void
sqlu_close(struct sqlu_conn *c)
{
	for (size_t i = 0; i < c->nstmt; i++) {
		db_finalize(c->stmt[i]);
		c->stmt[i] = NULL;
	}
	db_close(c->db);
	c->db = NULL;
}

enum vaern_err
sqlu_fail(const struct sqlu_conn *c, struct vaern_msg *msg, const char *what)
{
	enum db_errkind kind = db_errkind(c->db);
	int exists = kind == DB_EK_UNIQUE ||
	             (c->any_constraint && kind == DB_EK_CONSTRAINT);

	if (exists)
		return vaern_fail(msg, VAERN_E_EXISTS, "%s%s: already exists",
		                  c->prefix, what);
	if (kind == DB_EK_FULL)
		return vaern_fail(msg, VAERN_E_IO, "%s%s: the disk is full",
		                  c->prefix, what);
	/* The engines' messages name tables and constraints, never values. */
	return vaern_fail(msg, VAERN_E_STORE, "%s%s: %s: %s", c->prefix, what,
	                  db_engine(c->db) == DB_SQLITE ? "sqlite"
	                                                : "postgresql",
	                  db_errmsg(c->db));
}

struct db_stmt *
sqlu_prepare(struct sqlu_conn *c, size_t id, struct vaern_msg *msg)
{
	struct db_stmt *s = NULL;

	assert(id < c->nstmt && c->stmt[id] == NULL);
	if (db_prepare(c->db, c->sql[id], 1, &s) != DB_OK) {
		(void)sqlu_fail(c, msg, "prepare");
		return NULL;
	}
	c->stmt[id] = s;
	return s;
}

enum vaern_err
sqlu_step_changed(const struct sqlu_conn *c, struct db_stmt *s,
                  const char *what, struct vaern_msg *msg, const char *notfound,
                  ...)
{
	char text[VAERN_MSG_MAX];
	enum vaern_err err;
	va_list ap;

	if ((err = sqlu_step_done(c, s, what, msg)) != VAERN_OK ||
	    db_changes(c->db) == 1)
		return err;
	va_start(ap, notfound);
	(void)vsnprintf(text, sizeof(text), notfound, ap);
	va_end(ap);
	return vaern_fail(msg, VAERN_E_NOTFOUND, "%s", text);
}
