/*
 * sqlite_util.c -- the SQLite connection and statement cache both stores
 * use (sqlite_util.h).
 */
#include "sqlite_util.h"

#include <stdarg.h>
#include <stdio.h>

enum vaern_err
sqlu_open(struct sqlu_conn *c, const char *path, int flags, int busy_ms,
          struct vaern_msg *msg)
{
	if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK)
		return vaern_fail(
		        msg, VAERN_E_STORE, "cannot open the database %s: %s",
		        path, c->db ? sqlite3_errmsg(c->db) : "out of memory");
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, busy_ms);
	return VAERN_OK;
}

void
sqlu_close(struct sqlu_conn *c)
{
	for (size_t i = 0; i < c->nstmt; i++) {
		sqlite3_finalize(c->stmt[i]);
		c->stmt[i] = NULL;
	}
	sqlite3_close(c->db);
	c->db = NULL;
}

enum vaern_err
sqlu_fail(const struct sqlu_conn *c, struct vaern_msg *msg, const char *what)
{
	int code = sqlite3_extended_errcode(c->db);
	int exists = c->any_constraint
	                     ? (code & 0xff) == SQLITE_CONSTRAINT
	                     : code == SQLITE_CONSTRAINT_PRIMARYKEY ||
	                               code == SQLITE_CONSTRAINT_UNIQUE;

	if (exists)
		return vaern_fail(msg, VAERN_E_EXISTS, "%s%s: already exists",
		                  c->prefix, what);
	if ((code & 0xff) == SQLITE_FULL)
		return vaern_fail(msg, VAERN_E_IO, "%s%s: the disk is full",
		                  c->prefix, what);
	/* SQLite's messages name tables and constraints, never values. */
	return vaern_fail(msg, VAERN_E_STORE, "%s%s: sqlite: %s", c->prefix,
	                  what, sqlite3_errmsg(c->db));
}

sqlite3_stmt *
sqlu_prepare(struct sqlu_conn *c, size_t id, struct vaern_msg *msg)
{
	sqlite3_stmt *s = NULL;

	assert(id < c->nstmt && c->stmt[id] == NULL);
	if (sqlite3_prepare_v3(c->db, c->sql[id], -1, SQLITE_PREPARE_PERSISTENT,
	                       &s, NULL) != SQLITE_OK) {
		(void)sqlu_fail(c, msg, "prepare");
		return NULL;
	}
	c->stmt[id] = s;
	return s;
}

enum vaern_err
sqlu_step_changed(const struct sqlu_conn *c, sqlite3_stmt *s, const char *what,
                  struct vaern_msg *msg, const char *notfound, ...)
{
	char text[VAERN_MSG_MAX];
	enum vaern_err err;
	va_list ap;

	if ((err = sqlu_step_done(c, s, what, msg)) != VAERN_OK ||
	    sqlite3_changes(c->db) == 1)
		return err;
	va_start(ap, notfound);
	(void)vsnprintf(text, sizeof(text), notfound, ap);
	va_end(ap);
	return vaern_fail(msg, VAERN_E_NOTFOUND, "%s", text);
}
