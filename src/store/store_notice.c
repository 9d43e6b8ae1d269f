/*
 * store_notice.c -- the SQL of CEK-PURP-5 (issue 15 point 4) through db.h,
 * in the SQL both engines take: declared ids, a conflict on the one key
 * ignored with ON CONFLICT ... DO NOTHING. Rows are few (a change per
 * purpose and version, a notice per person and version): each statement
 * is prepared for its call.
 */
#include "store_notice.h"

#include "db.h"
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_internal.h"

static const char schema_sql[] =
        /* The purposes a loaded version made new or widened, and from
         * when (the version's load). */
        "CREATE TABLE IF NOT EXISTS purpose_change("
        " id INTEGER PRIMARY KEY, controller TEXT NOT NULL,"
        " version TEXT NOT NULL, purpose TEXT NOT NULL,"
        " what TEXT NOT NULL, since INTEGER NOT NULL);"
        "CREATE INDEX IF NOT EXISTS purpose_change_controller"
        " ON purpose_change(controller, id);"
        /* Who was told of which version, when: one row per person and
         * version (nothing is sent twice). */
        "CREATE TABLE IF NOT EXISTS change_notice("
        " id INTEGER PRIMARY KEY, controller TEXT NOT NULL,"
        " version TEXT NOT NULL, subject INTEGER NOT NULL,"
        " sent_at INTEGER NOT NULL,"
        " UNIQUE(controller, version, subject));";

int
store_notice_schema(struct db *db, char **errmsg)
{
	return db_exec(db, schema_sql, errmsg);
}

static struct db_stmt *
prep(struct sqlu_conn *c, const char *sql, struct vaern_msg *msg)
{
	return sqlu_once(c, sql, "policy change", msg);
}

enum vaern_err
store_purpose_change_add(struct store *st, const char *controller,
                         const char *version, const char *purpose,
                         const char *what, int64_t since, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c,
	             "INSERT INTO purpose_change(controller, version,"
	             " purpose, what, since) VALUES(?1, ?2, ?3, ?4, ?5)",
	             msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, controller, -1);
	db_bind_text(s, 2, version, -1);
	db_bind_text(s, 3, purpose, -1);
	db_bind_text(s, 4, what, -1);
	db_bind_int64(s, 5, since);
	return sqlu_once_done(c, s, "policy change", msg);
}

enum vaern_err
store_purpose_change_foreach(
        struct store *st, const char *controller,
        enum vaern_err (*fn)(void *arg, const struct store_purpose_change *c),
        void *arg, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "SELECT id, version, purpose, what, since"
	                         " FROM purpose_change WHERE controller = ?1"
	                         " ORDER BY id",
	                         msg);
	enum vaern_err err = VAERN_OK;
	int rc;

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, controller, -1);
	while ((rc = db_step(s)) == DB_ROW) {
		struct store_purpose_change pc;

		pc.id = db_column_int64(s, 0);
		pc.version = (const char *)db_column_text(s, 1);
		pc.purpose = (const char *)db_column_text(s, 2);
		pc.what = (const char *)db_column_text(s, 3);
		pc.since = db_column_int64(s, 4);
		if (pc.version == NULL || pc.purpose == NULL || pc.what == NULL)
			continue;
		if ((err = fn(arg, &pc)) != VAERN_OK)
			break;
	}
	if (err == VAERN_OK && rc != DB_ROW && rc != DB_DONE)
		err = sqlu_fail(c, msg, "policy changes");
	db_finalize(s);
	return err;
}

enum vaern_err
store_change_notice_get(struct store *st, const char *controller,
                        const char *version, int64_t subject, int64_t *sent_at,
                        struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = prep(c,
	                         "SELECT sent_at FROM change_notice"
	                         " WHERE controller = ?1 AND version = ?2"
	                         " AND subject = ?3",
	                         msg);
	int rc;

	*sent_at = 0;
	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, controller, -1);
	db_bind_text(s, 2, version, -1);
	db_bind_int64(s, 3, subject);
	rc = db_step(s);
	if (rc == DB_ROW)
		*sent_at = db_column_int64(s, 0);
	db_finalize(s);
	return rc == DB_ROW || rc == DB_DONE
	               ? VAERN_OK
	               : sqlu_fail(c, msg, "change notice");
}

enum vaern_err
store_change_notice_put(struct store *st, const char *controller,
                        const char *version, int64_t subject, int64_t sent_at,
                        struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s =
	        prep(c,
	             "INSERT INTO change_notice(controller, version,"
	             " subject, sent_at) VALUES(?1, ?2, ?3, ?4)"
	             " ON CONFLICT(controller, version, subject)"
	             " DO NOTHING",
	             msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, controller, -1);
	db_bind_text(s, 2, version, -1);
	db_bind_int64(s, 3, subject);
	db_bind_int64(s, 4, sent_at);
	return sqlu_once_done(c, s, "change notice", msg);
}
