/*
 * store_audit_vault.c -- the audit trail's two tables in the data store:
 * the outbox (entries of changes, written in the change's transaction,
 * moved into the trail after it) and the head (the trail's last entry as
 * the data store saw it). store_audit.h says what each holds.
 *
 * A connection of its own to vaern.db, used by the audit writer thread
 * or a CLI process: never the vault's connection. Its commits need not
 * reach the disk before they return (synchronous=NORMAL): a delete of a
 * moved row that a power loss undoes is moved again and skipped (the
 * trail's unique outbox index), and a head that a power loss sets back is
 * still a head the trail has.
 */
#include "store_audit.h"

#include "sqlite_util.h"

#include "db.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A sweep's batch or an import holds the data store's write lock for
 * about a second; wait a little longer. */
#define VAULT_BUSY_MS 10000

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_HEAD_GET,
	S_HEAD_INIT,
	S_HEAD_PUT,
	S_OUTBOX_EACH,
	S_OUTBOX_DELETE,
	S_OUTBOX_FLOOR,
	S_OUTBOX_FLOOR_NEW,
	S_COUNT_
};

static const char *const stmt_sql[S_COUNT_] = {
        [S_BEGIN] = "BEGIN IMMEDIATE",
        [S_COMMIT] = "COMMIT",
        [S_ROLLBACK] = "ROLLBACK",
        [S_HEAD_GET] = "SELECT seq, mac, keyed_from, tag FROM audit_head"
                       " WHERE id = 1",
        [S_HEAD_INIT] = "UPDATE audit_head SET seq = ?1, mac = ?2,"
                        " keyed_from = ?3, tag = ?4 WHERE id = 1 AND seq = -1",
        [S_HEAD_PUT] = "UPDATE audit_head SET seq = ?1, mac = ?2, tag = ?4"
                       " WHERE id = 1 AND seq < ?1 AND keyed_from = ?3",
        [S_OUTBOX_EACH] = "SELECT id, at, controller, actor, role, purpose,"
                          " action, subject, categories, decision, rule,"
                          " reason, policy FROM audit_outbox ORDER BY id"
                          " LIMIT ?1",
        [S_OUTBOX_DELETE] = "DELETE FROM audit_outbox WHERE id = ?1",
        /* AUTOINCREMENT keeps its high-water mark here, in a row made
         * by the first insert. */
        [S_OUTBOX_FLOOR] = "UPDATE sqlite_sequence SET seq = ?1"
                           " WHERE name = 'audit_outbox' AND seq < ?1",
        [S_OUTBOX_FLOOR_NEW] = "INSERT INTO sqlite_sequence(name, seq)"
                               " SELECT 'audit_outbox', ?1 WHERE NOT EXISTS"
                               " (SELECT 1 FROM sqlite_sequence"
                               " WHERE name = 'audit_outbox')",
};

struct audit_vault {
	struct sqlu_conn conn;          /* this connection */
	struct db_stmt *stmt[S_COUNT_]; /* its statements, prepared lazily */
};

enum vaern_err
audit_vault_open(const char *path, struct audit_vault **out,
                 struct vaern_msg *msg)
{
	struct audit_vault *av;
	enum vaern_err err = VAERN_OK;
	char *errmsg = NULL, probe[8];
	struct stat sb;
	int on_pg = db_store_conf(path, 0, probe, sizeof(probe)) != 0;

	*out = NULL;
	explicit_bzero(probe, sizeof(probe));
	if (!on_pg && stat(path, &sb) != 0)
		return errno == ENOENT ? vaern_fail(msg, VAERN_E_NOTFOUND,
		                                    "no database at %s", path)
		                       : vaern_fail(msg, VAERN_E_IO, "%s: %s",
		                                    path, strerror(errno));
	if ((av = calloc(1, sizeof(*av))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	av->conn.sql = stmt_sql;
	av->conn.stmt = av->stmt;
	av->conn.nstmt = S_COUNT_;
	av->conn.prefix = "audit outbox ";
	if ((err = sqlu_open_file(&av->conn, path,
	                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	                          VAULT_BUSY_MS, NULL, &on_pg, msg)) !=
	    VAERN_OK)
		goto done;
	/* On PostgreSQL the outbox is part of the store's schema. */
	if (!on_pg && db_exec(av->conn.db,
	                      "PRAGMA synchronous=NORMAL;"
	                      "PRAGMA secure_delete=ON;" AUDIT_VAULT_SCHEMA_SQL,
	                      &errmsg) != DB_OK)
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "cannot set up the audit outbox in %s: %s",
		                 path, errmsg ? errmsg : "unknown error");
done:
	db_free(errmsg);
	if (err != VAERN_OK) {
		audit_vault_close(av);
		return err;
	}
	*out = av;
	return VAERN_OK;
}

void
audit_vault_close(struct audit_vault *av)
{
	if (av == NULL)
		return;
	audit_vault_rollback(av);
	sqlu_close(&av->conn);
	free(av);
}

enum vaern_err
audit_vault_begin(struct audit_vault *av, struct vaern_msg *msg)
{
	return sqlu_begin(&av->conn, S_BEGIN, DB_WRITE, DB_LOCK_STORE, msg);
}

enum vaern_err
audit_vault_begin_settle(struct audit_vault *av, struct vaern_msg *msg)
{
	return sqlu_begin(&av->conn, S_BEGIN, DB_WRITE_SHARED, DB_LOCK_STORE,
	                  msg);
}

enum vaern_err
audit_vault_try_begin(struct audit_vault *av, int *locked,
                      struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	struct db_stmt *s;
	int rc;

	*locked = 0;
	if (db_engine(av->conn.db) != DB_SQLITE) {
		rc = db_begin(av->conn.db, DB_TRY_WRITE_SHARED, DB_LOCK_STORE);
		*locked = rc == DB_OK;
		return rc == DB_OK || rc == DB_BUSY
		               ? VAERN_OK
		               : sqlu_fail(&av->conn, msg, "begin");
	}
	if ((s = sqlu_stmt(&av->conn, S_BEGIN, msg)) == NULL)
		return VAERN_E_STORE;
	db_busy_timeout(av->conn.db, 0);
	rc = db_step(s);
	db_busy_timeout(av->conn.db, VAULT_BUSY_MS);
	if (rc == DB_DONE)
		*locked = 1;
	else if ((rc & 0xff) != SQLITE_BUSY)
		err = sqlu_fail(&av->conn, msg, "begin");
	sqlu_reset(s);
	return err;
}

enum vaern_err
audit_vault_commit(struct audit_vault *av, struct vaern_msg *msg)
{
	enum vaern_err err = sqlu_exec(&av->conn, S_COMMIT, "commit", msg);

	if (err != VAERN_OK)
		audit_vault_rollback(av);
	return err;
}

void
audit_vault_rollback(struct audit_vault *av)
{
	if (av->conn.db != NULL && !db_autocommit(av->conn.db))
		(void)sqlu_exec(&av->conn, S_ROLLBACK, "rollback", NULL);
}

/* Copies blob column col of exactly AUDIT_HASH_BYTES into out; 0 if it
 * is of another type or size. */
static int
hash_column(struct db_stmt *s, int col, unsigned char out[AUDIT_HASH_BYTES])
{
	const void *b = db_column_blob(s, col);

	if (db_column_type(s, col) != DB_BLOB || b == NULL ||
	    db_column_bytes(s, col) != AUDIT_HASH_BYTES)
		return 0;
	memcpy(out, b, AUDIT_HASH_BYTES);
	return 1;
}

enum vaern_err
audit_vault_head_get(struct audit_vault *av, struct audit_head_row *h,
                     struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	memset(h, 0, sizeof(*h));
	if ((s = sqlu_stmt(&av->conn, S_HEAD_GET, msg)) == NULL)
		return VAERN_E_STORE;
	if ((err = sqlu_step_row(&av->conn, s, "head", NULL, msg)) ==
	    VAERN_OK) {
		h->seq = db_column_int64(s, 0);
		h->keyed_from = db_column_int64(s, 2);
		if (db_column_type(s, 0) != DB_INTEGER ||
		    db_column_type(s, 2) != DB_INTEGER ||
		    !hash_column(s, 1, h->mac) || !hash_column(s, 3, h->tag))
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "the data store's audit head is "
			                 "malformed (changed)");
	}
	sqlu_reset(s);
	return err;
}

/* Binds h to s as ?1..?4 (seq, mac, keyed_from, tag). */
static void
bind_head(struct db_stmt *s, const struct audit_head_row *h)
{
	db_bind_int64(s, 1, h->seq);
	db_bind_blob(s, 2, h->mac, AUDIT_HASH_BYTES);
	db_bind_int64(s, 3, h->keyed_from);
	db_bind_blob(s, 4, h->tag, AUDIT_HASH_BYTES);
}

enum vaern_err
audit_vault_head_init(struct audit_vault *av, const struct audit_head_row *h,
                      struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&av->conn, S_HEAD_INIT, msg)) == NULL)
		return VAERN_E_STORE;
	bind_head(s, h);
	return sqlu_step_done(&av->conn, s, "head", msg);
}

enum vaern_err
audit_vault_head_put(struct audit_vault *av, const struct audit_head_row *h,
                     struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&av->conn, S_HEAD_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	bind_head(s, h);
	return sqlu_step_done(&av->conn, s, "head", msg);
}

/* Text column col, or NULL (SQL NULL, or of another type). */
static const char *
text_or_null(struct db_stmt *s, int col)
{
	if (db_column_type(s, col) != DB_TEXT)
		return NULL;
	return (const char *)db_column_text(s, col);
}

enum vaern_err
audit_vault_outbox_each(struct audit_vault *av, int64_t limit,
                        enum vaern_err (*fn)(void *arg,
                                             const struct audit_row *r),
                        void *arg, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	struct db_stmt *s;
	int rc = DB_DONE;

	if ((s = sqlu_stmt(&av->conn, S_OUTBOX_EACH, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, limit);
	while (err == VAERN_OK && (rc = db_step(s)) == DB_ROW) {
		struct audit_row r;

		memset(&r, 0, sizeof(r));
		r.outbox_id = db_column_int64(s, 0);
		r.at = db_column_int64(s, 1);
		r.controller = text_or_null(s, 2);
		r.actor = text_or_null(s, 3);
		r.role = text_or_null(s, 4);
		r.purpose = text_or_null(s, 5);
		r.action = text_or_null(s, 6);
		if (db_column_type(s, 7) == DB_BLOB &&
		    db_column_bytes(s, 7) == AUDIT_SUBJECT_BYTES)
			r.subject = db_column_blob(s, 7);
		r.categories = text_or_null(s, 8);
		r.decision = db_column_int64(s, 9);
		r.rule = text_or_null(s, 10);
		r.reason = text_or_null(s, 11);
		r.policy = text_or_null(s, 12);
		err = fn(arg, &r);
	}
	return sqlu_rows_end(&av->conn, s, err == VAERN_OK ? rc : DB_DONE, err,
	                     "read", msg);
}

enum vaern_err
audit_vault_outbox_delete(struct audit_vault *av, int64_t id,
                          struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&av->conn, S_OUTBOX_DELETE, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, id);
	return sqlu_step_done(&av->conn, s, "delete", msg);
}

enum vaern_err
audit_vault_outbox_floor(struct audit_vault *av, int64_t min,
                         struct vaern_msg *msg)
{
	static const enum stmt_id ids[] = {S_OUTBOX_FLOOR, S_OUTBOX_FLOOR_NEW};
	enum vaern_err err = VAERN_OK;

	if (db_engine(av->conn.db) != DB_SQLITE) {
		/* PostgreSQL: the identity's sequence keeps the mark. */
		struct db_stmt *s = NULL;

		if (db_prepare(av->conn.db,
		               "SELECT setval(pg_get_serial_sequence("
		               "'public.audit_outbox', 'id'), GREATEST("
		               "CAST(?1 AS BIGINT), "
		               "COALESCE(pg_sequence_last_value("
		               "pg_get_serial_sequence('public.audit_outbox', "
		               "'id')),"
		               " 0), 1))",
		               0, &s) != DB_OK)
			return sqlu_fail(&av->conn, msg, "floor");
		db_bind_int64(s, 1, min);
		if (db_step(s) != DB_ROW)
			err = sqlu_fail(&av->conn, msg, "floor");
		db_finalize(s);
		return err;
	}
	for (size_t i = 0; i < 2 && err == VAERN_OK; i++) {
		struct db_stmt *s = sqlu_stmt(&av->conn, ids[i], msg);

		if (s == NULL)
			return VAERN_E_STORE;
		db_bind_int64(s, 1, min);
		err = sqlu_step_done(&av->conn, s, "floor", msg);
	}
	return err;
}
