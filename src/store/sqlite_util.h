/*
 * sqlite_util.h -- what the vault's store (store_sqlite.c) and the audit
 * store (store_audit.c) do alike with a connection (db.h: SQLite or
 * PostgreSQL): open it, keep
 * a fixed set of statements prepared on first use, run them, and turn a
 * failure into an enum vaern_err with a message.
 *
 * A message names the operation ("what") and SQLite's own text, which
 * names tables and constraints, never values (CONVENTIONS.md habit 4).
 * The step helpers are inline, as the static functions they replace in
 * each store were: the read path (find by identifier, fact reads) and the
 * sweep run them once per statement, which vaern-bench measures.
 */
#ifndef VAERN_SQLITE_UTIL_H
#define VAERN_SQLITE_UTIL_H

#include "db.h"
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/err.h"

/*
 * A connection and its statements. The owner sets every member but db
 * before sqlu_open, and keeps the nstmt slots of stmt (NULL at first)
 * as long as the connection.
 */
struct sqlu_conn {
	struct db *db;          /* the connection; NULL before sqlu_open */
	const char *const *sql; /* the text of statement i, static */
	struct db_stmt **stmt;  /* statement i once prepared, else NULL;
	                         sqlu_close finalises them */
	size_t nstmt;           /* entries in sql and stmt */
	const char *prefix;     /* starts every message: "" or "audit " */
	int any_constraint;     /* 1: every constraint failure is
	                           VAERN_E_EXISTS; 0: only a primary key
	                           or unique one, the rest VAERN_E_STORE */
};

/*
 * Opens the database at path with the sqlite3_open_v2 flags, extended
 * result codes on and a busy timeout of busy_ms. On failure returns
 * VAERN_E_STORE with msg set; c->db may then be set all the same, and
 * sqlu_close releases it.
 */
enum vaern_err sqlu_open(struct sqlu_conn *c, const char *path, int flags,
                         int busy_ms, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Connects to PostgreSQL (conninfo, never echoed) with search_path set to
 * schema (NULL: the default); as sqlu_open otherwise. */
enum vaern_err sqlu_open_pg(struct sqlu_conn *c, const char *conninfo,
                            const char *schema, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * Opens the database of a data directory's file at path (db_open_file):
 * SQLite as sqlu_open, or PostgreSQL when the directory holds
 * DB_STORE_CONF, with search_path set to schema. *on_pg says which.
 */
enum vaern_err sqlu_open_file(struct sqlu_conn *c, const char *path, int flags,
                              int busy_ms, const char *schema, int *on_pg,
                              struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 6)));

/* Finalises the prepared statements and closes c->db. Accepts a c that
 * sqlu_open failed on, or was never called on. */
void sqlu_close(struct sqlu_conn *c) __attribute__((nonnull));

/*
 * Returns the error for the last failure on c->db, with msg set to
 * "<prefix><what>: ...": VAERN_E_EXISTS for a constraint (as
 * c->any_constraint says), VAERN_E_IO for a full disk, else VAERN_E_STORE
 * with the engine's message. Never VAERN_E_NOTFOUND.
 */
enum vaern_err sqlu_fail(const struct sqlu_conn *c, struct vaern_msg *msg,
                         const char *what) __attribute__((nonnull(1, 3)));

/* Prepares statement id into its slot (persistent): it, or NULL with msg
 * set by sqlu_fail("prepare"). sqlu_stmt calls it the first time only. */
struct db_stmt *sqlu_prepare(struct sqlu_conn *c, size_t id,
                             struct vaern_msg *msg) __attribute__((nonnull(1)));

/* Prepares sql as a statement of its own, which the caller finalises:
 * it, or NULL with msg set by sqlu_fail("<what>: prepare"). */
static inline struct db_stmt *
sqlu_once(struct sqlu_conn *c, const char *sql, const char *what,
          struct vaern_msg *msg)
{
	struct db_stmt *s = NULL;
	char w[64];

	if (db_prepare(c->db, sql, 0, &s) == DB_OK)
		return s;
	(void)snprintf(w, sizeof(w), "%s: prepare", what);
	(void)sqlu_fail(c, msg, w);
	db_finalize(s);
	return NULL;
}

/* Runs s of sqlu_once (bound already), a statement that returns no row,
 * and finalises it: VAERN_OK, or sqlu_fail(what). */
static inline enum vaern_err
sqlu_once_done(const struct sqlu_conn *c, struct db_stmt *s, const char *what,
               struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;

	if (db_step(s) != DB_DONE)
		err = sqlu_fail(c, msg, what);
	db_finalize(s);
	return err;
}

/* Returns statement id, prepared and reset, or NULL with msg set. */
static inline struct db_stmt *
sqlu_stmt(struct sqlu_conn *c, size_t id, struct vaern_msg *msg)
{
	assert(id < c->nstmt);
	return c->stmt[id] != NULL ? c->stmt[id] : sqlu_prepare(c, id, msg);
}

/* Resets s and clears its bindings, so no pointer bound to it outlives
 * the call that bound it. */
static inline void
sqlu_reset(struct db_stmt *s)
{
	db_reset(s);
	db_clear_bindings(s);
}

/* Runs s (bound already), a statement that returns no row, and resets
 * it: VAERN_OK, or sqlu_fail(what). */
static inline enum vaern_err
sqlu_step_done(const struct sqlu_conn *c, struct db_stmt *s, const char *what,
               struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;

	if (db_step(s) != DB_DONE)
		err = sqlu_fail(c, msg, what);
	sqlu_reset(s);
	return err;
}

/* Runs statement id, which takes no parameter and returns no row. */
static inline enum vaern_err
sqlu_exec(struct sqlu_conn *c, size_t id, const char *what,
          struct vaern_msg *msg)
{
	struct db_stmt *s = sqlu_stmt(c, id, msg);

	if (s == NULL)
		return VAERN_E_STORE;
	return sqlu_step_done(c, s, what, msg);
}

/*
 * Begins a transaction (db_begin's how and lock): on SQLite by statement
 * id, kept prepared ("BEGIN IMMEDIATE" or "BEGIN DEFERRED"), on
 * PostgreSQL by db_begin. VAERN_OK, or sqlu_fail("begin").
 */
static inline enum vaern_err
sqlu_begin(struct sqlu_conn *c, size_t id, enum db_begin how, int64_t lock,
           struct vaern_msg *msg)
{
	if (db_engine(c->db) == DB_SQLITE)
		return sqlu_exec(c, id, "begin", msg);
	if (db_begin(c->db, how, lock) != DB_OK)
		return sqlu_fail(c, msg, "begin");
	return VAERN_OK;
}

/*
 * sqlu_step_done for an UPDATE or DELETE of one row by its key. If it
 * changed no row (or several) returns VAERN_E_NOTFOUND with msg set from
 * the printf-style notfound and what follows it.
 */
enum vaern_err sqlu_step_changed(const struct sqlu_conn *c, struct db_stmt *s,
                                 const char *what, struct vaern_msg *msg,
                                 const char *notfound, ...)
        __attribute__((format(printf, 5, 6), nonnull(1, 2, 3, 5)));

/*
 * Steps s (bound already) to its first row and leaves s to the caller,
 * who reads the row and resets s. Returns VAERN_OK at a row;
 * VAERN_E_NOTFOUND if there is none, with msg set to notfound (msg
 * untouched if notfound is NULL); else sqlu_fail(what).
 */
static inline enum vaern_err
sqlu_step_row(const struct sqlu_conn *c, struct db_stmt *s, const char *what,
              const char *notfound, struct vaern_msg *msg)
{
	int rc = db_step(s);

	if (rc == DB_ROW)
		return VAERN_OK;
	if (rc != DB_DONE)
		return sqlu_fail(c, msg, what);
	if (notfound != NULL)
		return vaern_fail(msg, VAERN_E_NOTFOUND, "%s", notfound);
	return VAERN_E_NOTFOUND;
}

/*
 * Runs s (bound already), a statement of one row (a count, a max, an
 * INSERT ... RETURNING), puts its column 0 in *out and resets s. No row
 * is a failure: sqlu_fail(what).
 */
static inline enum vaern_err
sqlu_step_int64(const struct sqlu_conn *c, struct db_stmt *s, int64_t *out,
                const char *what, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;

	if (db_step(s) == DB_ROW)
		*out = db_column_int64(s, 0);
	else
		err = sqlu_fail(c, msg, what);
	sqlu_reset(s);
	return err;
}

/*
 * Ends a walk of the rows of s: rc is the walk's last sqlite3_step result
 * and err its own error (a callback's, say). A step that failed while err
 * is VAERN_OK becomes sqlu_fail(what). Resets s; returns the error.
 */
static inline enum vaern_err
sqlu_rows_end(const struct sqlu_conn *c, struct db_stmt *s, int rc,
              enum vaern_err err, const char *what, struct vaern_msg *msg)
{
	if (err == VAERN_OK && rc != DB_DONE)
		err = sqlu_fail(c, msg, what);
	sqlu_reset(s);
	return err;
}

#endif
