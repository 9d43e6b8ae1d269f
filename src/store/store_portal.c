/*
 * store_portal.c -- the SQL of the portal's rows (store_portal.h). Each
 * statement is prepared for its call: a page makes one or two of them.
 */
#include "store_portal.h"

#include <stdio.h>
#include <string.h>

#include "sqlite_util.h"
#include "store_sqlite_engine_internal.h"
#include "store_sqlite_internal.h"

static const char schema_sql[] =
        /* A login under way (issue 16): the code's hash, the identifiers'
         * throttle key, how often it was tried. */
        "CREATE TABLE IF NOT EXISTS portal_login("
        " id INTEGER PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE,"
        " controller INTEGER NOT NULL, subject BLOB,"
        " code_hash BLOB NOT NULL, throttle BLOB NOT NULL,"
        " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
        " attempts INTEGER NOT NULL DEFAULT 0, used_at INTEGER);"
        /* AURA-PORTAL-1: a session holds the person's id, nothing else;
         * only its token's hash. */
        "CREATE TABLE IF NOT EXISTS portal_session("
        " id INTEGER PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE,"
        " controller INTEGER NOT NULL, subject BLOB NOT NULL,"
        " proof TEXT NOT NULL, created_at INTEGER NOT NULL,"
        " seen_at INTEGER NOT NULL, ended_at INTEGER);"
        "CREATE INDEX IF NOT EXISTS portal_session_subject"
        " ON portal_session(controller, subject);"
        "CREATE TABLE IF NOT EXISTS portal_throttle("
        " key BLOB PRIMARY KEY, failures INTEGER NOT NULL,"
        " last_at INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS portal_password("
        " controller INTEGER NOT NULL, subject BLOB NOT NULL,"
        " hash TEXT NOT NULL, set_at INTEGER NOT NULL,"
        " PRIMARY KEY(controller, subject));"
        /* AURA-LOGIN-1: a code waiting for the delivery thread; only its
         * salt (the code derives from it under the controller's key). */
        "CREATE TABLE IF NOT EXISTS portal_code_out("
        " id INTEGER PRIMARY KEY, login INTEGER NOT NULL,"
        " controller TEXT NOT NULL, subject BLOB, salt BLOB NOT NULL,"
        " lang TEXT NOT NULL, due_at INTEGER NOT NULL,"
        " expires_at INTEGER NOT NULL, tries INTEGER NOT NULL DEFAULT 0);"
        "CREATE INDEX IF NOT EXISTS portal_code_out_due"
        " ON portal_code_out(due_at);";

int
store_portal_schema(struct db *db, char **errmsg)
{
	return db_exec(db, schema_sql, errmsg);
}

static struct db_stmt *
prep(struct sqlu_conn *c, const char *sql, struct vaern_msg *msg)
{
	return sqlu_once(c, sql, "portal", msg);
}

/* Copies blob column col of exactly n bytes into out; 0 if it is not. */
static int
col_fixed(struct db_stmt *s, int col, unsigned char *out, size_t n)
{
	const void *b = db_column_blob(s, col);

	memset(out, 0, n);
	if (b == NULL || (size_t)db_column_bytes(s, col) != n)
		return 0;
	memcpy(out, b, n);
	return 1;
}

enum vaern_err
store_portal_login_insert(struct store *st, struct store_portal_login *l,
                          struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "INSERT INTO portal_login(token_hash, "
	                         "controller, subject, code_hash, throttle,"
	                         " created_at, expires_at) VALUES"
	                         " (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
	                         msg);
	enum vaern_err err = VAERN_OK;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_blob(s, 1, l->token_hash, STORE_PORTAL_HASH);
	db_bind_int64(s, 2, l->controller);
	if (l->has_subject)
		db_bind_blob(s, 3, l->subject, STORE_UID_BYTES);
	else
		db_bind_null(s, 3);
	db_bind_blob(s, 4, l->code_hash, STORE_PORTAL_HASH);
	db_bind_blob(s, 5, l->throttle, STORE_PORTAL_HASH);
	db_bind_int64(s, 6, l->created_at);
	db_bind_int64(s, 7, l->expires_at);
	if (db_step(s) == DB_ROW)
		l->id = db_column_int64(s, 0);
	else
		err = sqlu_fail(c, msg, "portal_login");
	db_finalize(s);
	return err;
}

enum vaern_err
store_portal_login_get(struct store *st,
                       const unsigned char token_hash[STORE_PORTAL_HASH],
                       struct store_portal_login *out, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c,
	             "SELECT id, controller, subject, code_hash,"
	             " throttle, created_at, expires_at, attempts,"
	             " used_at FROM portal_login WHERE token_hash = "
	             "?1",
	             msg);
	enum vaern_err err = VAERN_OK;
	int rc;

	if (s == NULL)
		return VAERN_E_STORE;
	memset(out, 0, sizeof(*out));
	db_bind_blob(s, 1, token_hash, STORE_PORTAL_HASH);
	if ((rc = db_step(s)) == DB_ROW) {
		out->id = db_column_int64(s, 0);
		out->controller = db_column_int64(s, 1);
		out->has_subject =
		        col_fixed(s, 2, out->subject, STORE_UID_BYTES);
		(void)col_fixed(s, 3, out->code_hash, STORE_PORTAL_HASH);
		(void)col_fixed(s, 4, out->throttle, STORE_PORTAL_HASH);
		out->created_at = db_column_int64(s, 5);
		out->expires_at = db_column_int64(s, 6);
		out->attempts = db_column_int(s, 7);
		out->used_at = column_time(s, 8);
		memcpy(out->token_hash, token_hash, STORE_PORTAL_HASH);
	} else if (rc == DB_DONE) {
		err = VAERN_E_NOTFOUND;
	} else {
		err = sqlu_fail(c, msg, "portal_login");
	}
	db_finalize(s);
	return err;
}

enum vaern_err
store_portal_login_update(struct store *st, const struct store_portal_login *l,
                          struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "UPDATE portal_login SET attempts = ?2,"
	                         " used_at = ?3 WHERE id = ?1",
	                         msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, l->id);
	db_bind_int(s, 2, l->attempts);
	bind_time(s, 3, l->used_at);
	return sqlu_once_done(c, s, "portal_login", msg);
}

enum vaern_err
store_portal_session_insert(struct store *st, struct store_portal_session *p,
                            struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "INSERT INTO portal_session(token_hash, "
	                         "controller, subject, proof, created_at, "
	                         "seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
	                         " RETURNING id",
	                         msg);
	enum vaern_err err = VAERN_OK;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_blob(s, 1, p->token_hash, STORE_PORTAL_HASH);
	db_bind_int64(s, 2, p->controller);
	db_bind_blob(s, 3, p->subject, STORE_UID_BYTES);
	db_bind_text(s, 4, p->proof, -1);
	db_bind_int64(s, 5, p->created_at);
	if (db_step(s) == DB_ROW)
		p->id = db_column_int64(s, 0);
	else
		err = sqlu_fail(c, msg, "portal_session");
	db_finalize(s);
	return err;
}

enum vaern_err
store_portal_session_get(struct store *st,
                         const unsigned char token_hash[STORE_PORTAL_HASH],
                         struct store_portal_session *out,
                         struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	/* A prepared statement of the store's table: every page asks. */
	struct db_stmt *s = sqlu_stmt(c, S_PORTAL_SESSION_GET, msg);
	enum vaern_err err = VAERN_OK;
	int rc;

	if (s == NULL)
		return VAERN_E_STORE;
	memset(out, 0, sizeof(*out));
	db_bind_blob(s, 1, token_hash, STORE_PORTAL_HASH);
	if ((rc = db_step(s)) == DB_ROW) {
		const char *proof = (const char *)db_column_text(s, 3);

		out->id = db_column_int64(s, 0);
		out->controller = db_column_int64(s, 1);
		(void)col_fixed(s, 2, out->subject, STORE_UID_BYTES);
		(void)snprintf(out->proof, sizeof(out->proof), "%s",
		               proof != NULL ? proof : "");
		out->created_at = db_column_int64(s, 4);
		out->seen_at = db_column_int64(s, 5);
		out->ended_at = column_time(s, 6);
		memcpy(out->token_hash, token_hash, STORE_PORTAL_HASH);
	} else if (rc == DB_DONE) {
		err = VAERN_E_NOTFOUND;
	} else {
		err = sqlu_fail(c, msg, "portal_session");
	}
	sqlu_reset(s);
	return err;
}

/* Sets one time of open session id (sql: ?1 the id, ?2 the time). */
static enum vaern_err
session_set(struct store *st, const char *sql, int64_t id, int64_t at,
            struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c, sql, msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, id);
	db_bind_int64(s, 2, at);
	return sqlu_once_done(c, s, "portal_session", msg);
}

enum vaern_err
store_portal_session_touch(struct store *st, int64_t id, int64_t seen_at,
                           struct vaern_msg *msg)
{
	return session_set(st,
	                   "UPDATE portal_session SET seen_at = ?2"
	                   " WHERE id = ?1 AND ended_at IS NULL",
	                   id, seen_at, msg);
}

enum vaern_err
store_portal_session_end(struct store *st, int64_t id, int64_t at,
                         struct vaern_msg *msg)
{
	return session_set(st,
	                   "UPDATE portal_session SET ended_at = ?2"
	                   " WHERE id = ?1 AND ended_at IS NULL",
	                   id, at, msg);
}

enum vaern_err
store_portal_session_end_all(struct store *st, int64_t controller,
                             const unsigned char subject[STORE_UID_BYTES],
                             int64_t at, int64_t *n, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "UPDATE portal_session SET ended_at = ?3"
	                         " WHERE controller = ?1 AND subject = ?2"
	                         " AND ended_at IS NULL",
	                         msg);
	enum vaern_err err;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_blob(s, 2, subject, STORE_UID_BYTES);
	db_bind_int64(s, 3, at);
	err = sqlu_once_done(c, s, "portal_session", msg);
	if (err == VAERN_OK && n != NULL)
		*n = db_changes(c->db);
	return err;
}

enum vaern_err
store_portal_throttle_get(struct store *st,
                          const unsigned char key[STORE_PORTAL_HASH],
                          int64_t *failures, int64_t *last_at,
                          struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "SELECT failures, last_at FROM portal_throttle"
	                         " WHERE key = ?1",
	                         msg);
	enum vaern_err err = VAERN_OK;
	int rc;

	if (s == NULL)
		return VAERN_E_STORE;
	*failures = 0;
	*last_at = STORE_NO_TIME;
	db_bind_blob(s, 1, key, STORE_PORTAL_HASH);
	if ((rc = db_step(s)) == DB_ROW) {
		*failures = db_column_int64(s, 0);
		*last_at = db_column_int64(s, 1);
	} else if (rc != DB_DONE) {
		err = sqlu_fail(c, msg, "portal_throttle");
	}
	db_finalize(s);
	return err;
}

enum vaern_err
store_portal_throttle_hit(struct store *st,
                          const unsigned char key[STORE_PORTAL_HASH],
                          int64_t at, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "INSERT INTO portal_throttle(key, failures, "
	                         "last_at) VALUES (?1, 1, ?2)"
	                         " ON CONFLICT(key) DO UPDATE SET"
	                         " failures = portal_throttle.failures + 1,"
	                         " last_at = ?2",
	                         msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_blob(s, 1, key, STORE_PORTAL_HASH);
	db_bind_int64(s, 2, at);
	return sqlu_once_done(c, s, "portal_throttle", msg);
}

enum vaern_err
store_portal_throttle_clear(struct store *st,
                            const unsigned char key[STORE_PORTAL_HASH],
                            struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c, "DELETE FROM portal_throttle WHERE key = ?1", msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_blob(s, 1, key, STORE_PORTAL_HASH);
	return sqlu_once_done(c, s, "portal_throttle", msg);
}

enum vaern_err
store_portal_code_out_insert(struct store *st, struct store_portal_code_out *o,
                             struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c,
	             "INSERT INTO portal_code_out(login, controller, subject,"
	             " salt, lang, due_at, expires_at) VALUES"
	             " (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
	             msg);
	enum vaern_err err = VAERN_OK;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, o->login);
	db_bind_text(s, 2, o->controller, -1);
	if (o->has_subject)
		db_bind_blob(s, 3, o->subject, STORE_UID_BYTES);
	else
		db_bind_null(s, 3);
	db_bind_blob(s, 4, o->salt, STORE_PORTAL_HASH);
	db_bind_text(s, 5, o->lang, -1);
	db_bind_int64(s, 6, o->due_at);
	db_bind_int64(s, 7, o->expires_at);
	if (db_step(s) == DB_ROW)
		o->id = db_column_int64(s, 0);
	else
		err = sqlu_fail(c, msg, "portal_code_out");
	db_finalize(s);
	return err;
}

/* Copies text column col into out (size n): "" if NULL or too long. */
static void
col_text(struct db_stmt *s, int col, char *out, size_t n)
{
	const char *t = (const char *)db_column_text(s, col);

	out[0] = '\0';
	if (t != NULL && strlen(t) < n)
		memcpy(out, t, strlen(t) + 1);
}

enum vaern_err
store_portal_code_out_next(struct store *st, int64_t now,
                           struct store_portal_code_out *out,
                           struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c,
	             "SELECT id, login, controller, subject, salt, lang,"
	             " due_at, expires_at, tries FROM portal_code_out"
	             " WHERE due_at <= ?1 ORDER BY due_at, id LIMIT 1",
	             msg);
	enum vaern_err err = VAERN_OK;
	int rc;

	if (s == NULL)
		return VAERN_E_STORE;
	memset(out, 0, sizeof(*out));
	db_bind_int64(s, 1, now);
	if ((rc = db_step(s)) == DB_ROW) {
		out->id = db_column_int64(s, 0);
		out->login = db_column_int64(s, 1);
		col_text(s, 2, out->controller, sizeof(out->controller));
		out->has_subject =
		        col_fixed(s, 3, out->subject, STORE_UID_BYTES);
		(void)col_fixed(s, 4, out->salt, STORE_PORTAL_HASH);
		col_text(s, 5, out->lang, sizeof(out->lang));
		out->due_at = db_column_int64(s, 6);
		out->expires_at = db_column_int64(s, 7);
		out->tries = db_column_int(s, 8);
	} else if (rc == DB_DONE) {
		err = VAERN_E_NOTFOUND;
	} else {
		err = sqlu_fail(c, msg, "portal_code_out");
	}
	db_finalize(s);
	return err;
}

enum vaern_err
store_portal_code_out_take(struct store *st, int64_t id, int64_t old_due,
                           int64_t due_at, int *taken, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "UPDATE portal_code_out SET due_at = ?3,"
	                         " tries = tries + 1"
	                         " WHERE id = ?1 AND due_at = ?2",
	                         msg);
	enum vaern_err err;

	*taken = 0;
	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, id);
	db_bind_int64(s, 2, old_due);
	db_bind_int64(s, 3, due_at);
	err = sqlu_once_done(c, s, "portal_code_out", msg);
	if (err == VAERN_OK)
		*taken = db_changes(c->db) == 1;
	return err;
}

enum vaern_err
store_portal_code_out_delete(struct store *st, int64_t id,
                             struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c, "DELETE FROM portal_code_out WHERE id = ?1", msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, id);
	return sqlu_once_done(c, s, "portal_code_out", msg);
}

enum vaern_err
store_portal_password_get(struct store *st, int64_t controller,
                          const unsigned char subject[STORE_UID_BYTES],
                          char out[STORE_PORTAL_PWHASH], struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "SELECT hash FROM portal_password"
	                         " WHERE controller = ?1 AND subject = ?2",
	                         msg);
	enum vaern_err err = VAERN_OK;
	int rc;

	if (s == NULL)
		return VAERN_E_STORE;
	out[0] = '\0';
	db_bind_int64(s, 1, controller);
	db_bind_blob(s, 2, subject, STORE_UID_BYTES);
	if ((rc = db_step(s)) == DB_ROW) {
		const char *h = (const char *)db_column_text(s, 0);

		if (h == NULL || strlen(h) >= STORE_PORTAL_PWHASH)
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "portal_password: malformed row");
		else
			memcpy(out, h, strlen(h) + 1);
	} else if (rc == DB_DONE) {
		err = VAERN_E_NOTFOUND;
	} else {
		err = sqlu_fail(c, msg, "portal_password");
	}
	db_finalize(s);
	return err;
}

enum vaern_err
store_portal_password_set(struct store *st, int64_t controller,
                          const unsigned char subject[STORE_UID_BYTES],
                          const char *hash, int64_t at, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c,
	             "INSERT INTO portal_password(controller, "
	             "subject, hash, set_at) VALUES (?1, ?2, ?3, ?4)"
	             " ON CONFLICT(controller, subject) DO UPDATE"
	             " SET hash = ?3, set_at = ?4",
	             msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_blob(s, 2, subject, STORE_UID_BYTES);
	db_bind_text(s, 3, hash, -1);
	db_bind_int64(s, 4, at);
	return sqlu_once_done(c, s, "portal_password", msg);
}

enum vaern_err
store_portal_forget(struct store *st, int64_t subject, struct vaern_msg *msg)
{
	static const char *const sql[] = {
	        "DELETE FROM portal_password WHERE subject ="
	        " (SELECT uid FROM subject WHERE id = ?1)",
	        "DELETE FROM portal_session WHERE subject ="
	        " (SELECT uid FROM subject WHERE id = ?1)",
	        "DELETE FROM portal_login WHERE subject ="
	        " (SELECT uid FROM subject WHERE id = ?1)"};
	struct sqlu_conn *c = store_sqlite_conn(st);
	enum vaern_err err = VAERN_OK;

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]) && !err; i++) {
		struct db_stmt *s = prep(c, sql[i], msg);

		if (s == NULL)
			return VAERN_E_STORE;
		db_bind_int64(s, 1, subject);
		err = sqlu_once_done(c, s, "portal", msg);
	}
	return err;
}
