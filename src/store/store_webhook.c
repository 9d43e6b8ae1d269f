/*
 * store_webhook.c -- the SQL of the webhook queue (issue 19, point 6)
 * through db.h, in SQL both engines run as it is: declared integer keys,
 * ON CONFLICT, RETURNING, no rowid, no SQLite-only function.
 */
#include "store_webhook.h"

#include "db.h"
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_internal.h"

static const char schema_sql[] =
        "CREATE TABLE IF NOT EXISTS webhook_event("
        " id INTEGER PRIMARY KEY, eid TEXT NOT NULL UNIQUE,"
        " type TEXT NOT NULL, body TEXT NOT NULL,"
        " created_at INTEGER NOT NULL, once TEXT UNIQUE);"
        "CREATE TABLE IF NOT EXISTS webhook_endpoint("
        " endpoint TEXT PRIMARY KEY, delivered INTEGER NOT NULL);";

int
store_webhook_schema(struct db *db, char **errmsg)
{
	return db_exec(db, schema_sql, errmsg);
}

/* A statement of this file, prepared for one call (a few a minute: no
 * statement cache). */
static struct db_stmt *
prep(struct sqlu_conn *c, const char *sql, struct vaern_msg *msg)
{
	return sqlu_once(c, sql, "webhook", msg);
}

static void
col_text(struct db_stmt *s, int col, char *out, size_t n)
{
	const char *t = (const char *)db_column_text(s, col);
	size_t len = t != NULL ? strlen(t) : 0;

	if (len >= n)
		len = n - 1;
	if (len)
		memcpy(out, t, len);
	out[len] = '\0';
}

/* The number of registered endpoints into *n. */
static enum vaern_err
endpoint_count(struct sqlu_conn *c, int64_t *n, struct vaern_msg *msg)
{
	struct db_stmt *s =
	        prep(c, "SELECT count(*) FROM webhook_endpoint", msg);
	enum vaern_err err;

	if (s == NULL)
		return VAERN_E_STORE;
	err = sqlu_step_int64(c, s, n, "webhook: endpoints", msg);
	db_finalize(s);
	return err;
}

enum vaern_err
store_webhook_add(struct store *st, struct store_webhook_event *e,
                  const char *once, int *queued, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = NULL;
	enum vaern_err err;
	int64_t n = 0;
	int rc;

	if (queued != NULL)
		*queued = 0;
	if ((err = endpoint_count(c, &n, msg)) != VAERN_OK || n == 0)
		return err;
	s = prep(c,
	         "INSERT INTO webhook_event(eid, type, body, created_at, once)"
	         " VALUES(?1, ?2, ?3, ?4, ?5)"
	         " ON CONFLICT(once) DO NOTHING RETURNING id",
	         msg);
	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, e->eid, -1);
	db_bind_text(s, 2, e->type, -1);
	db_bind_text(s, 3, e->body, -1);
	db_bind_int64(s, 4, e->created_at);
	if (once != NULL)
		db_bind_text(s, 5, once, -1);
	else
		db_bind_null(s, 5);
	rc = db_step(s);
	if (rc == DB_ROW) {
		e->id = db_column_int64(s, 0);
		if (queued != NULL)
			*queued = 1;
		rc = db_step(s);
	}
	err = rc == DB_DONE ? VAERN_OK : sqlu_fail(c, msg, "webhook: add");
	db_finalize(s);
	return err;
}

/* 1 if key is one of keys[0..n). */
static int
named(const char *key, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, keys[i]) == 0)
			return 1;
	return 0;
}

enum vaern_err
store_webhook_endpoints(struct store *st, const char *const *keys, size_t n,
                        struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = NULL, *del = NULL;
	enum vaern_err err = VAERN_OK;
	int rc;

	/* The ones no longer configured go first. */
	if ((s = prep(c, "SELECT endpoint FROM webhook_endpoint", msg)) ==
	            NULL ||
	    (del = prep(c, "DELETE FROM webhook_endpoint WHERE endpoint = ?1",
	                msg)) == NULL) {
		err = VAERN_E_STORE;
		goto done;
	}
	while ((rc = db_step(s)) == DB_ROW) {
		char key[STORE_WEBHOOK_ENDPOINT_MAX];

		col_text(s, 0, key, sizeof(key));
		if (named(key, keys, n))
			continue;
		db_bind_text(del, 1, key, -1);
		if ((err = sqlu_step_done(c, del, "webhook: drop endpoint",
		                          msg)) != VAERN_OK)
			goto done;
	}
	if (rc != DB_DONE) {
		err = sqlu_fail(c, msg, "webhook: endpoints");
		goto done;
	}
	db_finalize(s);
	s = prep(c,
	         "INSERT INTO webhook_endpoint(endpoint, delivered)"
	         " VALUES(?1, (SELECT coalesce(max(id), 0)"
	         " FROM webhook_event))"
	         " ON CONFLICT(endpoint) DO NOTHING",
	         msg);
	if (s == NULL) {
		err = VAERN_E_STORE;
		goto done;
	}
	for (size_t i = 0; i < n && err == VAERN_OK; i++) {
		db_bind_text(s, 1, keys[i], -1);
		err = sqlu_step_done(c, s, "webhook: add endpoint", msg);
	}
done:
	db_finalize(s);
	db_finalize(del);
	return err;
}

enum vaern_err
store_webhook_next(struct store *st, const char *key,
                   struct store_webhook_event *e, int64_t *pending,
                   struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c,
	             "SELECT e.id, e.eid, e.type, e.body,"
	             " e.created_at FROM webhook_event e"
	             " JOIN webhook_endpoint p ON e.id > p.delivered"
	             " WHERE p.endpoint = ?1 ORDER BY e.id LIMIT 1",
	             msg);
	enum vaern_err err = VAERN_OK;
	int rc;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, key, -1);
	rc = db_step(s);
	if (rc == DB_ROW) {
		e->id = db_column_int64(s, 0);
		col_text(s, 1, e->eid, sizeof(e->eid));
		col_text(s, 2, e->type, sizeof(e->type));
		col_text(s, 3, e->body, sizeof(e->body));
		e->created_at = db_column_int64(s, 4);
	} else if (rc == DB_DONE) {
		err = VAERN_E_NOTFOUND;
	} else {
		err = sqlu_fail(c, msg, "webhook: next");
	}
	db_finalize(s);
	if (err != VAERN_OK || pending == NULL)
		return err;
	s = prep(c,
	         "SELECT count(*) FROM webhook_event e"
	         " JOIN webhook_endpoint p ON e.id > p.delivered"
	         " WHERE p.endpoint = ?1",
	         msg);
	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, key, -1);
	err = sqlu_step_int64(c, s, pending, "webhook: pending", msg);
	db_finalize(s);
	return err;
}

enum vaern_err
store_webhook_ack(struct store *st, const char *key, int64_t id,
                  struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "UPDATE webhook_endpoint SET delivered = ?2"
	                         " WHERE endpoint = ?1 AND delivered < ?2",
	                         msg);
	enum vaern_err err;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, key, -1);
	db_bind_int64(s, 2, id);
	err = sqlu_step_done(c, s, "webhook: ack", msg);
	db_finalize(s);
	return err;
}

enum vaern_err
store_webhook_prune(struct store *st, int64_t once_since, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c,
	             "DELETE FROM webhook_event"
	             " WHERE id < (SELECT max(id) FROM webhook_event)"
	             " AND id <= coalesce((SELECT min(delivered)"
	             " FROM webhook_endpoint),"
	             " (SELECT max(id) FROM webhook_event))"
	             " AND (once IS NULL OR created_at < ?1)",
	             msg);
	enum vaern_err err;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, once_since);
	err = sqlu_step_done(c, s, "webhook: prune", msg);
	db_finalize(s);
	return err;
}
