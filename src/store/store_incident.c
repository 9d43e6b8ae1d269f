/*
 * store_incident.c -- the SQL of security reports and the breach register
 * (issue 17) on the SQLite engine. The texts arrive sealed; the clear
 * columns are ids, times, deadlines and the classification, which the
 * deadline list, /metrics and the register's order need.
 */
#include "store_incident.h"

#include "db.h"
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_internal.h"

static const char schema_sql[] =
        /* One row per case (SHOP-BREACH-1..3, GDPR-33). */
        "CREATE TABLE IF NOT EXISTS incident("
        " id INTEGER PRIMARY KEY, controller INTEGER NOT NULL,"
        " case_id TEXT NOT NULL UNIQUE, secret_hash BLOB NOT NULL,"
        " addr_hash BLOB NOT NULL, received_at INTEGER NOT NULL,"
        " wrapped_key BLOB NOT NULL, report BLOB NOT NULL,"
        " has_contact INTEGER NOT NULL, receipt_due INTEGER NOT NULL,"
        " feedback_due INTEGER NOT NULL, receipt_at INTEGER,"
        " feedback_at INTEGER, feedback BLOB,"
        " closed INTEGER NOT NULL DEFAULT 0, classification TEXT NOT NULL,"
        " aware_at INTEGER, register BLOB, nfiles INTEGER NOT NULL,"
        " updated_at INTEGER NOT NULL);"
        "CREATE INDEX IF NOT EXISTS incident_addr"
        " ON incident(addr_hash, received_at);"
        "CREATE INDEX IF NOT EXISTS incident_ctrl"
        " ON incident(controller, received_at);"
        /* The screenshots, sealed, each at most 5 MiB. */
        "CREATE TABLE IF NOT EXISTS incident_file("
        " incident INTEGER NOT NULL, seq INTEGER NOT NULL,"
        " type TEXT NOT NULL, sealed BLOB NOT NULL,"
        " PRIMARY KEY(incident, seq)) WITHOUT ROWID;"
        /* The Art. 34 messages sent, one per case and person. */
        "CREATE TABLE IF NOT EXISTS incident_notice("
        " incident INTEGER NOT NULL, subject BLOB NOT NULL,"
        " sent_at INTEGER NOT NULL,"
        " PRIMARY KEY(incident, subject)) WITHOUT ROWID;";

#define COLUMNS                                                                \
	"id, controller, case_id, secret_hash, addr_hash, received_at,"        \
	" wrapped_key, report, has_contact, receipt_due, feedback_due,"        \
	" receipt_at, feedback_at, feedback, closed, classification,"          \
	" aware_at, register, nfiles, updated_at"

int
store_incident_schema(struct db *db, char **errmsg)
{
	return db_exec(db, schema_sql, errmsg);
}

void
store_incident_clear(struct store_incident *r)
{
	free(r->wrapped_key);
	free(r->report);
	free(r->feedback);
	free(r->reg);
	r->wrapped_key = r->report = r->feedback = r->reg = NULL;
}

/* A statement of this file, prepared for one call (cases are few: no
 * statement cache). */
static struct db_stmt *
prep(struct sqlu_conn *c, const char *sql, struct vaern_msg *msg)
{
	return sqlu_once(c, sql, "incident", msg);
}

static void
bind_time(struct db_stmt *s, int col, int64_t t)
{
	if (t == STORE_NO_TIME)
		db_bind_null(s, col);
	else
		db_bind_int64(s, col, t);
}

static int64_t
col_time(struct db_stmt *s, int col)
{
	return db_column_type(s, col) == DB_NULL ? STORE_NO_TIME
	                                         : db_column_int64(s, col);
}

static void
bind_blob(struct db_stmt *s, int col, const unsigned char *b, size_t len)
{
	if (b == NULL)
		db_bind_null(s, col);
	else
		db_bind_blob(s, col, b, (int)len);
}

/* A copy of blob column col into *out (NULL for NULL). */
static int
col_blob(struct db_stmt *s, int col, unsigned char **out, size_t *len)
{
	const void *b = db_column_blob(s, col);
	size_t n = (size_t)db_column_bytes(s, col);

	*out = NULL;
	*len = 0;
	if (b == NULL)
		return 0;
	if ((*out = malloc(n ? n : 1)) == NULL)
		return -1;
	memcpy(*out, b, n);
	*len = n;
	return 0;
}

static void
col_fixed(struct db_stmt *s, int col, unsigned char *out, size_t n)
{
	const void *b = db_column_blob(s, col);

	memset(out, 0, n);
	if (b != NULL && (size_t)db_column_bytes(s, col) == n)
		memcpy(out, b, n);
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

/* The row at s into r (blobs owned by r). */
static int
row_read(struct db_stmt *s, struct store_incident *r)
{
	memset(r, 0, sizeof(*r));
	r->rowid = db_column_int64(s, 0);
	r->controller = db_column_int64(s, 1);
	col_text(s, 2, r->case_id, sizeof(r->case_id));
	col_fixed(s, 3, r->secret_hash, sizeof(r->secret_hash));
	col_fixed(s, 4, r->addr_hash, sizeof(r->addr_hash));
	r->received_at = db_column_int64(s, 5);
	r->has_contact = db_column_int(s, 8);
	r->receipt_due = (long)db_column_int64(s, 9);
	r->feedback_due = (long)db_column_int64(s, 10);
	r->receipt_at = col_time(s, 11);
	r->feedback_at = col_time(s, 12);
	r->closed = db_column_int(s, 14);
	col_text(s, 15, r->classification, sizeof(r->classification));
	r->aware_at = col_time(s, 16);
	r->nfiles = db_column_int(s, 18);
	r->updated_at = db_column_int64(s, 19);
	if (col_blob(s, 6, &r->wrapped_key, &r->wrapped_len) != 0 ||
	    col_blob(s, 7, &r->report, &r->report_len) != 0 ||
	    col_blob(s, 13, &r->feedback, &r->feedback_len) != 0 ||
	    col_blob(s, 17, &r->reg, &r->reg_len) != 0) {
		store_incident_clear(r);
		return -1;
	}
	return 0;
}

enum vaern_err
store_incident_insert(struct store *st, struct store_incident *r,
                      struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(
	        c,
	        "INSERT INTO incident(controller, case_id, secret_hash,"
	        " addr_hash, received_at, wrapped_key, report, has_contact,"
	        " receipt_due, feedback_due, classification, nfiles,"
	        " updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
	        msg);
	enum vaern_err err = VAERN_OK;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, r->controller);
	db_bind_text(s, 2, r->case_id, -1);
	db_bind_blob(s, 3, r->secret_hash, sizeof(r->secret_hash));
	db_bind_blob(s, 4, r->addr_hash, sizeof(r->addr_hash));
	db_bind_int64(s, 5, r->received_at);
	bind_blob(s, 6, r->wrapped_key, r->wrapped_len);
	bind_blob(s, 7, r->report, r->report_len);
	db_bind_int(s, 8, r->has_contact);
	db_bind_int64(s, 9, r->receipt_due);
	db_bind_int64(s, 10, r->feedback_due);
	db_bind_text(s, 11, r->classification, -1);
	db_bind_int(s, 12, r->nfiles);
	db_bind_int64(s, 13, r->updated_at);
	if (db_step(s) != DB_ROW)
		err = sqlu_fail(c, msg, "incident: insert");
	else
		r->rowid = db_column_int64(s, 0);
	db_finalize(s);
	return err;
}

enum vaern_err
store_incident_get(struct store *st, int64_t controller, const char *case_id,
                   struct store_incident *r, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "SELECT " COLUMNS " FROM incident"
	                         " WHERE case_id = ?1"
	                         " AND (?2 = 0 OR controller = ?2)",
	                         msg);
	enum vaern_err err = VAERN_OK;
	int rc;

	memset(r, 0, sizeof(*r));
	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, case_id, -1);
	db_bind_int64(s, 2, controller);
	rc = db_step(s);
	if (rc == DB_ROW) {
		if (row_read(s, r) != 0)
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	} else if (rc == DB_DONE)
		err = vaern_fail(msg, VAERN_E_NOTFOUND, "no such case");
	else
		err = sqlu_fail(c, msg, "incident: get");
	db_finalize(s);
	return err;
}

enum vaern_err
store_incident_update(struct store *st, const struct store_incident *r,
                      struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c,
	             "UPDATE incident SET receipt_at = ?2,"
	             " feedback_at = ?3, feedback = ?4, closed = ?5,"
	             " classification = ?6, aware_at = ?7,"
	             " register = ?8, updated_at = ?9 WHERE id = ?1",
	             msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, r->rowid);
	bind_time(s, 2, r->receipt_at);
	bind_time(s, 3, r->feedback_at);
	bind_blob(s, 4, r->feedback, r->feedback_len);
	db_bind_int(s, 5, r->closed);
	db_bind_text(s, 6, r->classification, -1);
	bind_time(s, 7, r->aware_at);
	bind_blob(s, 8, r->reg, r->reg_len);
	db_bind_int64(s, 9, r->updated_at);
	return sqlu_once_done(c, s, "incident: update", msg);
}

enum vaern_err
store_incident_foreach(struct store *st, int64_t controller,
                       enum vaern_err (*fn)(void *arg,
                                            const struct store_incident *r),
                       void *arg, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "SELECT " COLUMNS " FROM incident"
	                         " WHERE ?1 = 0 OR controller = ?1"
	                         " ORDER BY received_at, id",
	                         msg);
	enum vaern_err err = VAERN_OK;
	struct store_incident r;
	int rc;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	while ((rc = db_step(s)) == DB_ROW) {
		if (row_read(s, &r) != 0) {
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
			break;
		}
		err = fn(arg, &r);
		store_incident_clear(&r);
		if (err != VAERN_OK)
			break;
	}
	if (err == VAERN_OK && rc != DB_DONE)
		err = sqlu_fail(c, msg, "incident: list");
	db_finalize(s);
	return err;
}

enum vaern_err
store_incident_count_addr(struct store *st, const unsigned char addr[16],
                          int64_t since, int64_t *n, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "SELECT count(*) FROM incident"
	                         " WHERE addr_hash = ?1 AND received_at >= ?2",
	                         msg);
	enum vaern_err err = VAERN_OK;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_blob(s, 1, addr, 16);
	db_bind_int64(s, 2, since);
	if (db_step(s) == DB_ROW)
		*n = db_column_int64(s, 0);
	else
		err = sqlu_fail(c, msg, "incident: count");
	db_finalize(s);
	return err;
}

enum vaern_err
store_incident_file_insert(struct store *st, int64_t incident, int seq,
                           const char *type, const unsigned char *sealed,
                           size_t len, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c,
	             "INSERT INTO incident_file(incident, seq, type,"
	             " sealed) VALUES(?,?,?,?)",
	             msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, incident);
	db_bind_int(s, 2, seq);
	db_bind_text(s, 3, type, -1);
	db_bind_blob(s, 4, sealed, (int)len);
	return sqlu_once_done(c, s, "incident: file", msg);
}

enum vaern_err
store_incident_file_get(struct store *st, int64_t incident, int seq,
                        char type[16], unsigned char **out, size_t *len,
                        struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "SELECT type, sealed FROM incident_file"
	                         " WHERE incident = ?1 AND seq = ?2",
	                         msg);
	enum vaern_err err = VAERN_OK;
	int rc;

	*out = NULL;
	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, incident);
	db_bind_int(s, 2, seq);
	rc = db_step(s);
	if (rc == DB_ROW) {
		col_text(s, 0, type, 16);
		if (col_blob(s, 1, out, len) != 0)
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	} else if (rc == DB_DONE)
		err = vaern_fail(msg, VAERN_E_NOTFOUND, "no such screenshot");
	else
		err = sqlu_fail(c, msg, "incident: file");
	db_finalize(s);
	return err;
}

enum vaern_err
store_incident_notice_has(struct store *st, int64_t incident,
                          const unsigned char subject[STORE_UID_BYTES],
                          int *has, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "SELECT 1 FROM incident_notice"
	                         " WHERE incident = ?1 AND subject = ?2",
	                         msg);
	int rc;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, incident);
	db_bind_blob(s, 2, subject, STORE_UID_BYTES);
	rc = db_step(s);
	*has = rc == DB_ROW;
	db_finalize(s);
	return rc == DB_ROW || rc == DB_DONE
	               ? VAERN_OK
	               : sqlu_fail(c, msg, "incident: notice");
}

enum vaern_err
store_incident_notice_insert(struct store *st, int64_t incident,
                             const unsigned char subject[STORE_UID_BYTES],
                             int64_t at, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c,
	             "INSERT INTO incident_notice(incident, subject,"
	             " sent_at) VALUES(?,?,?)",
	             msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, incident);
	db_bind_blob(s, 2, subject, STORE_UID_BYTES);
	db_bind_int64(s, 3, at);
	return sqlu_once_done(c, s, "incident: notice", msg);
}

enum vaern_err
store_incident_notice_count(struct store *st, int64_t incident, int64_t *n,
                            struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "SELECT count(*) FROM incident_notice"
	                         " WHERE incident = ?1",
	                         msg);
	enum vaern_err err = VAERN_OK;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, incident);
	if (db_step(s) == DB_ROW)
		*n = db_column_int64(s, 0);
	else
		err = sqlu_fail(c, msg, "incident: notice");
	db_finalize(s);
	return err;
}
