/*
 * store_console_views.c -- the SQL of the staff console's views (issue
 * 20): the legal holds in force of one controller (CEK-HOLD-1), for the
 * retention view. Portable SQL, prepared per call (a page view).
 */
#include "store_console_views.h"

#include <string.h>

#include "db.h"
#include "store_sqlite_engine_internal.h"
#include "store_sqlite_internal.h"

enum vaern_err
store_holds_in_force(struct store *st, int64_t controller,
                     enum vaern_err (*fn)(void *arg,
                                          const struct store_hold_row *h),
                     void *arg, struct vaern_msg *msg)
{
	struct sqlu_conn *c = store_sqlite_conn(st);
	struct db_stmt *s = NULL;
	enum vaern_err err = VAERN_OK;
	int rc;

	if (db_prepare(c->db,
	               "SELECT h.id, sj.uid, l.text, h.review_at, h.placed_at,"
	               " h.placed_by FROM hold h"
	               " JOIN subject sj ON sj.id = h.subject"
	               " LEFT JOIN label l ON l.id = h.category"
	               " WHERE sj.controller = ?1 AND h.lifted_at IS NULL"
	               " ORDER BY h.id",
	               0, &s) != DB_OK) {
		db_finalize(s);
		return sqlu_fail(c, msg, "console: holds");
	}
	db_bind_int64(s, 1, controller);
	while ((rc = db_step(s)) == DB_ROW) {
		struct store_hold_row h;
		const void *uid = db_column_blob(s, 1);

		memset(&h, 0, sizeof(h));
		h.id = db_column_int64(s, 0);
		if (uid == NULL || db_column_bytes(s, 1) != STORE_UID_BYTES) {
			err = vaern_fail(
			        msg, VAERN_E_STORE,
			        "console: a hold's subject is malformed");
			break;
		}
		memcpy(h.uid, uid, STORE_UID_BYTES);
		h.category = (const char *)db_column_text(s, 2);
		h.review_at = column_time(s, 3);
		h.placed_at = db_column_int64(s, 4);
		h.placed_by = (const char *)db_column_text(s, 5);
		if (h.placed_by == NULL)
			h.placed_by = "";
		if ((err = fn(arg, &h)) != VAERN_OK)
			break;
	}
	if (err == VAERN_OK && rc != DB_DONE)
		err = sqlu_fail(c, msg, "console: holds");
	db_finalize(s);
	return err;
}
