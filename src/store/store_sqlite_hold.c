/*
 * store_sqlite_hold.c -- the SQL of legal holds and the count of anonymised
 * records (moved from store_sqlite.c).
 */
#include "store.h"

#include "sqlite_util.h"
#include "store_sqlite_engine_internal.h"

#include "db.h"
#include <stdlib.h>
#include <string.h>

enum vaern_err
store_hold_insert(struct store *st, struct store_hold *h, struct vaern_msg *msg)
{
	struct db_stmt *s;
	int64_t cat = 0;
	enum vaern_err err;

	if (h->category != NULL &&
	    (err = store_sqlite_label_id(st, h->category, &cat, msg)) !=
	            VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_HOLD_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, h->subject);
	if (h->category != NULL)
		db_bind_int64(s, 2, cat);
	db_bind_text(s, 3, h->reason, -1);
	bind_time(s, 4, h->review_at);
	db_bind_int64(s, 5, h->placed_at);
	db_bind_text(s, 6, h->placed_by, -1);
	err = sqlu_step_int64(&st->conn, s, &h->id, "hold", msg);
	return err;
}

enum vaern_err
store_hold_lift(struct store *st, int64_t subject, int64_t id, int64_t at,
                struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_HOLD_LIFT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_int64(s, 2, id);
	db_bind_int64(s, 3, at);
	return sqlu_step_changed(&st->conn, s, "hold", msg,
	                         "no hold %lld in force on this subject",
	                         (long long)id);
}

enum vaern_err
store_hold_foreach(struct store *st, int64_t subject,
                   enum vaern_err (*fn)(void *arg, const struct store_hold *h),
                   void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	char cat[LABEL_MAX + 1];
	int rc;

	if ((s = sqlu_stmt(&st->conn, subject ? S_HOLD_LIST : S_HOLD_ACTIVE,
	                   msg)) == NULL)
		return VAERN_E_STORE;
	if (subject)
		db_bind_int64(s, 1, subject);
	while ((rc = db_step(s)) == DB_ROW) {
		struct store_hold h;

		h.category = NULL;
		if (db_column_type(s, 2) != DB_NULL) {
			if ((err = label_copy(st, db_column_int64(s, 2), cat,
			                      msg)) != VAERN_OK)
				break;
			h.category = cat;
		}
		h.id = db_column_int64(s, 0);
		h.subject = db_column_int64(s, 1);
		h.reason = (const char *)db_column_text(s, 3);
		h.review_at = column_time(s, 4);
		h.placed_at = db_column_int64(s, 5);
		h.placed_by = (const char *)db_column_text(s, 6);
		h.lifted_at = column_time(s, 7);
		if (h.reason == NULL || h.placed_by == NULL) {
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
			break;
		}
		if ((err = fn(arg, &h)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "hold", msg);
}

enum vaern_err
store_anon_insert(struct store *st, int64_t controller, const char *rule,
                  int64_t at, const char *data, struct vaern_msg *msg)
{
	struct db_stmt *s;
	int64_t r;
	enum vaern_err err;

	if ((err = store_sqlite_label_id(st, rule, &r, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_ANON_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_int64(s, 2, r);
	db_bind_int64(s, 3, at);
	db_bind_text(s, 4, data, -1);
	return sqlu_step_done(&st->conn, s, "anonymised record", msg);
}

enum vaern_err
store_anon_count(struct store *st, int64_t controller, int64_t *count,
                 struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_ANON_COUNT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	return sqlu_step_int64(&st->conn, s, count, "anonymised records", msg);
}
