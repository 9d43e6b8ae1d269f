/*
 * store_console.c -- the SQL of the staff console (issue 20) on the SQLite
 * engine: console credentials, and the legal holds' counts for the
 * retention view. Portable SQL (ON CONFLICT, no rowid, no SQLite-only
 * function), each statement prepared for its call: logins are few.
 */
#include "store_console.h"

#include <string.h>

#include "db.h"
#include "store_sqlite_engine_internal.h"
#include "store_sqlite_internal.h"

static const char schema_sql[] =
        /* One row per actor with console access (issue 20, point 1). */
        "CREATE TABLE IF NOT EXISTS console_credential("
        " actor INTEGER PRIMARY KEY, password_hash TEXT NOT NULL,"
        " totp_sealed BLOB NOT NULL, enrolled_at INTEGER NOT NULL,"
        " last_step INTEGER NOT NULL, failures INTEGER NOT NULL,"
        " last_failure_at INTEGER, locked_until INTEGER);"
        /* A staff session (issue 20, point 2): only its token's hash,
         * bound to the actor, not to a data subject as the portal's. */
        "CREATE TABLE IF NOT EXISTS console_session("
        " id INTEGER PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE,"
        " actor INTEGER NOT NULL, created_at INTEGER NOT NULL,"
        " seen_at INTEGER NOT NULL, ended_at INTEGER);"
        "CREATE INDEX IF NOT EXISTS console_session_actor"
        " ON console_session(actor);";

#define COLUMNS                                                                \
	"actor, password_hash, totp_sealed, enrolled_at, last_step,"           \
	" failures, last_failure_at, locked_until"

int
store_console_schema(struct db *db, char **errmsg)
{
	return db_exec(db, schema_sql, errmsg);
}

static struct db_stmt *
prep(struct sqlu_conn *c, const char *sql, struct vaern_msg *msg)
{
	return sqlu_once(c, sql, "console", msg);
}

enum vaern_err
store_console_put(struct store *st, const struct store_console *r,
                  struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(
	        c,
	        "INSERT INTO console_credential(" COLUMNS ")"
	        " VALUES(?1, ?2, ?3, ?4, -1, 0, NULL, NULL)"
	        " ON CONFLICT(actor) DO UPDATE SET"
	        " password_hash = excluded.password_hash,"
	        " totp_sealed = excluded.totp_sealed,"
	        " enrolled_at = excluded.enrolled_at, last_step = -1,"
	        " failures = 0, last_failure_at = NULL, locked_until = NULL",
	        msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, r->actor);
	db_bind_text(s, 2, r->password_hash, -1);
	db_bind_blob(s, 3, r->totp_sealed, (int)r->totp_len);
	db_bind_int64(s, 4, r->enrolled_at);
	return sqlu_once_done(c, s, "console: enrol", msg);
}

enum vaern_err
store_console_get(struct store *st, int64_t actor, struct store_console *r,
                  struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "SELECT " COLUMNS " FROM console_credential"
	                         " WHERE actor = ?1",
	                         msg);
	enum vaern_err err = VAERN_OK;
	int rc;

	if (s == NULL)
		return VAERN_E_STORE;
	memset(r, 0, sizeof(*r));
	db_bind_int64(s, 1, actor);
	rc = db_step(s);
	if (rc == DB_DONE) {
		err = VAERN_E_NOTFOUND;
	} else if (rc != DB_ROW) {
		err = sqlu_fail(c, msg, "console: read");
	} else {
		r->actor = db_column_int64(s, 0);
		r->enrolled_at = db_column_int64(s, 3);
		r->last_step = db_column_int64(s, 4);
		r->failures = db_column_int64(s, 5);
		r->last_failure_at = column_time(s, 6);
		r->locked_until = column_time(s, 7);
		if (!column_text_copy(s, 1, r->password_hash,
		                      sizeof(r->password_hash) - 1) ||
		    !column_copy(s, 2, r->totp_sealed, sizeof(r->totp_sealed),
		                 &r->totp_len))
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "console: malformed row");
	}
	db_finalize(s);
	return err;
}

/* Runs s (bound), an UPDATE of one credential; VAERN_E_NOTFOUND (msg
 * untouched) if it changed no row. */
static enum vaern_err
update_one(struct sqlu_conn *c, struct db_stmt *s, const char *what,
           struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;

	if (db_step(s) != DB_DONE)
		err = sqlu_fail(c, msg, what);
	else if (db_changes(c->db) != 1)
		err = VAERN_E_NOTFOUND;
	db_finalize(s);
	return err;
}

enum vaern_err
store_console_good(struct store *st, int64_t actor, int64_t step,
                   struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "UPDATE console_credential SET last_step = ?2,"
	                         " failures = 0, last_failure_at = NULL,"
	                         " locked_until = NULL"
	                         " WHERE actor = ?1 AND last_step < ?2",
	                         msg);
	enum vaern_err err;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, actor);
	db_bind_int64(s, 2, step);
	err = update_one(c, s, "console: login", msg);
	return err == VAERN_E_NOTFOUND ? VAERN_E_EXISTS : err;
}

enum vaern_err
store_console_wrong(struct store *st, int64_t actor, int64_t at,
                    int64_t lock_after, int64_t lock_until, int64_t *failures,
                    int64_t *locked_until, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c,
	             "UPDATE console_credential SET failures = failures + 1,"
	             " last_failure_at = ?2, locked_until = CASE"
	             " WHEN failures + 1 >= ?3 THEN ?4 ELSE locked_until END"
	             " WHERE actor = ?1 RETURNING failures, locked_until",
	             msg);
	enum vaern_err err = VAERN_OK;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, actor);
	db_bind_int64(s, 2, at);
	db_bind_int64(s, 3, lock_after);
	db_bind_int64(s, 4, lock_until);
	if (db_step(s) == DB_ROW) {
		*failures = db_column_int64(s, 0);
		*locked_until = column_time(s, 1);
		if (db_step(s) != DB_DONE)
			err = sqlu_fail(c, msg, "console: wrong try");
	} else {
		err = sqlu_fail(c, msg, "console: wrong try");
	}
	db_finalize(s);
	return err;
}

enum vaern_err
store_console_unlock(struct store *st, int64_t actor, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "UPDATE console_credential SET failures = 0,"
	                         " last_failure_at = NULL, locked_until = NULL"
	                         " WHERE actor = ?1",
	                         msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, actor);
	return update_one(c, s, "console: unlock", msg);
}

enum vaern_err
store_console_forget(struct store *st, int64_t actor, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c, "DELETE FROM console_credential WHERE actor = ?1", msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, actor);
	return sqlu_once_done(c, s, "console: forget", msg);
}

enum vaern_err
store_console_actor(struct store *st, int64_t controller, const char *name,
                    struct store_actor *a, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "SELECT id, role, created_at FROM actor"
	                         " WHERE controller = ?1 AND name = ?2"
	                         " AND revoked_at IS NULL",
	                         msg);
	enum vaern_err err = VAERN_OK;
	int rc;

	if (s == NULL)
		return VAERN_E_STORE;
	memset(a, 0, sizeof(*a));
	db_bind_int64(s, 1, controller);
	db_bind_text(s, 2, name, -1);
	rc = db_step(s);
	if (rc == DB_DONE) {
		err = VAERN_E_NOTFOUND;
	} else if (rc != DB_ROW) {
		err = sqlu_fail(c, msg, "console: actor");
	} else {
		a->id = db_column_int64(s, 0);
		a->controller = controller;
		a->created_at = db_column_int64(s, 2);
		a->revoked_at = STORE_NO_TIME;
		if (strlen(name) > STORE_NAME_MAX ||
		    !column_text_copy(s, 1, a->role, STORE_NAME_MAX))
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "console: malformed actor");
		else
			memcpy(a->name, name, strlen(name) + 1);
	}
	db_finalize(s);
	return err;
}

enum vaern_err
store_console_held(struct store *st, int64_t controller,
                   enum vaern_err (*fn)(void *arg, int64_t rule, int64_t facts),
                   void *arg, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	/* CEK-HOLD-1: a hold in force on the whole subject (category NULL)
	 * or on the fact's category. */
	struct db_stmt *s = prep(
	        c,
	        "SELECT COALESCE(f.rule, 0), COUNT(*) FROM fact f"
	        " JOIN subject sj ON sj.id = f.subject"
	        " WHERE sj.controller = ?1 AND EXISTS (SELECT 1 FROM hold h"
	        " WHERE h.subject = f.subject AND h.lifted_at IS NULL"
	        " AND (h.category IS NULL OR h.category = f.category))"
	        " GROUP BY COALESCE(f.rule, 0) ORDER BY 1",
	        msg);
	enum vaern_err err = VAERN_OK;
	int rc;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	while ((rc = db_step(s)) == DB_ROW) {
		err = fn(arg, db_column_int64(s, 0), db_column_int64(s, 1));
		if (err != VAERN_OK)
			break;
	}
	if (err == VAERN_OK && rc != DB_DONE)
		err = sqlu_fail(c, msg, "console: holds");
	db_finalize(s);
	return err;
}

enum vaern_err
store_console_session_insert(struct store *st,
                             const unsigned char hash[STORE_CONSOLE_HASH],
                             int64_t actor, int64_t at, int64_t *id,
                             struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c,
	             "INSERT INTO console_session(token_hash, actor,"
	             " created_at, seen_at) VALUES (?1, ?2, ?3, ?3)"
	             " RETURNING id",
	             msg);
	enum vaern_err err = VAERN_OK;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_blob(s, 1, hash, STORE_CONSOLE_HASH);
	db_bind_int64(s, 2, actor);
	db_bind_int64(s, 3, at);
	if (db_step(s) == DB_ROW) {
		*id = db_column_int64(s, 0);
		if (db_step(s) != DB_DONE)
			err = sqlu_fail(c, msg, "console: session");
	} else {
		err = sqlu_fail(c, msg, "console: session");
	}
	db_finalize(s);
	return err;
}

enum vaern_err
store_console_session_get(struct store *st,
                          const unsigned char hash[STORE_CONSOLE_HASH],
                          struct store_console_session *out,
                          struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	/* The actor as it is now: a revoked actor or one whose console
	 * access was taken away has no session left. */
	struct db_stmt *s = prep(
	        c,
	        "SELECT s.id, s.actor, s.created_at, s.seen_at, s.ended_at,"
	        " a.controller, a.name, a.role, a.revoked_at,"
	        " (SELECT COUNT(*) FROM console_credential cc"
	        " WHERE cc.actor = s.actor)"
	        " FROM console_session s JOIN actor a ON a.id = s.actor"
	        " WHERE s.token_hash = ?1",
	        msg);
	enum vaern_err err = VAERN_OK;
	int rc;

	if (s == NULL)
		return VAERN_E_STORE;
	memset(out, 0, sizeof(*out));
	db_bind_blob(s, 1, hash, STORE_CONSOLE_HASH);
	rc = db_step(s);
	if (rc == DB_DONE) {
		err = VAERN_E_NOTFOUND;
	} else if (rc != DB_ROW) {
		err = sqlu_fail(c, msg, "console: session");
	} else {
		out->id = db_column_int64(s, 0);
		out->actor.id = db_column_int64(s, 1);
		out->created_at = db_column_int64(s, 2);
		out->seen_at = db_column_int64(s, 3);
		out->ended_at = column_time(s, 4);
		out->actor.controller = db_column_int64(s, 5);
		out->actor.revoked_at = column_time(s, 8);
		out->enrolled = db_column_int64(s, 9) > 0;
		if (!column_text_copy(s, 6, out->actor.name, STORE_NAME_MAX) ||
		    !column_text_copy(s, 7, out->actor.role, STORE_NAME_MAX))
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "console: malformed session");
	}
	db_finalize(s);
	return err;
}

enum vaern_err
store_console_session_set(struct store *st, int64_t id, int end, int64_t at,
                          struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c,
	             end ? "UPDATE console_session SET ended_at = ?2"
	                   " WHERE id = ?1 AND ended_at IS NULL"
	                 : "UPDATE console_session SET seen_at = ?2"
	                   " WHERE id = ?1 AND ended_at IS NULL",
	             msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, id);
	db_bind_int64(s, 2, at);
	return sqlu_once_done(c, s, "console: session", msg);
}
