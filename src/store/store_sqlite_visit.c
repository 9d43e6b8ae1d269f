/*
 * store_sqlite_visit.c -- the SQL of visit data and the day keys that seal it
 * (moved from store_sqlite.c).
 */
#include "store.h"

#include "sqlite_util.h"
#include "store_sqlite_engine_internal.h"

#include "db.h"
#include <stdlib.h>
#include <string.h>

/* ---- visit data (AURA-RET-1, AURA-COOKIE-1, SHOP-MKT-2) ---------------- */

enum vaern_err
store_visit_insert(struct store *st, const struct store_visit *v,
                   struct vaern_msg *msg)
{
	struct db_stmt *s;
	int64_t rule;
	enum vaern_err err;

	if ((err = store_sqlite_label_id(st, v->rule, &rule, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_VISIT_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, v->controller);
	db_bind_blob(s, 2, v->visitor, STORE_BLIND_BYTES);
	db_bind_int(s, 3, v->kind);
	db_bind_int64(s, 4, v->at);
	db_bind_int64(s, 5, v->expires_at);
	db_bind_int64(s, 6, rule);
	db_bind_blob(s, 7, v->ct, (int)v->ctlen);
	return sqlu_step_done(&st->conn, s, "visit", msg);
}

enum vaern_err
store_visit_foreach(struct store *st, int64_t controller,
                    const unsigned char *visitor,
                    enum vaern_err (*fn)(void *arg,
                                         const struct store_visit *v),
                    void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	char rule[STORE_LABEL_MAX + 1];
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_VISIT_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_blob(s, 2, visitor, STORE_BLIND_BYTES);
	while ((rc = db_step(s)) == DB_ROW) {
		struct store_visit v;

		v.id = db_column_int64(s, 0);
		v.controller = controller;
		v.visitor = visitor;
		v.kind = db_column_int(s, 1);
		v.at = db_column_int64(s, 2);
		v.expires_at = db_column_int64(s, 3);
		if ((err = label_copy(st, db_column_int64(s, 4), rule, msg)) !=
		    VAERN_OK)
			break;
		v.rule = rule;
		v.ct = db_column_blob(s, 5);
		v.ctlen = (size_t)db_column_bytes(s, 5);
		if ((err = fn(arg, &v)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "visit", msg);
}

enum vaern_err
store_visit_delete(struct store *st, int64_t controller,
                   const unsigned char *visitor, int kind, int64_t *deleted,
                   struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	*deleted = 0;
	if ((s = sqlu_stmt(&st->conn, S_VISIT_DELETE_KIND, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_blob(s, 2, visitor, STORE_BLIND_BYTES);
	db_bind_int(s, 3, kind);
	if ((err = sqlu_step_done(&st->conn, s, "visit", msg)) == VAERN_OK)
		*deleted = db_changes(st->conn.db);
	return err;
}

enum vaern_err
store_visit_take_due(struct store *st, int64_t now, size_t max,
                     void (*fn)(void *arg, int64_t rule), void *arg, size_t *n,
                     struct vaern_msg *msg)
{
	struct db_stmt *s;
	int rc;

	*n = 0;
	if ((s = sqlu_stmt(&st->conn, S_VISIT_TAKE_DUE, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, now);
	db_bind_int64(s, 2, (sqlite3_int64)max);
	while ((rc = db_step(s)) == DB_ROW) {
		fn(arg, db_column_int64(s, 0));
		(*n)++;
	}
	return sqlu_rows_end(&st->conn, s, rc, VAERN_OK, "visit retention",
	                     msg);
}

/* Calls fn(arg, rule, expires_at, count) for each row of s. */
static enum vaern_err
rule_counts(struct store *st, struct db_stmt *s, int with_time,
            enum vaern_err (*fn)(void *arg, int64_t rule, int64_t expires_at,
                                 int64_t count),
            void *arg, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	int rc;

	while ((rc = db_step(s)) == DB_ROW) {
		if ((err = fn(arg, db_column_int64(s, 0),
		              with_time ? db_column_int64(s, 1) : STORE_NO_TIME,
		              db_column_int64(s, with_time ? 2 : 1))) !=
		    VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "visit retention", msg);
}

enum vaern_err
store_visit_due_count(struct store *st, int64_t now,
                      enum vaern_err (*fn)(void *arg, int64_t rule,
                                           int64_t expires_at, int64_t count),
                      void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_VISIT_DUE_COUNT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, now);
	return rule_counts(st, s, 0, fn, arg, msg);
}

enum vaern_err
store_visit_plan(struct store *st,
                 enum vaern_err (*fn)(void *arg, int64_t rule,
                                      int64_t expires_at, int64_t count),
                 void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_VISIT_PLAN, msg)) == NULL)
		return VAERN_E_STORE;
	return rule_counts(st, s, 1, fn, arg, msg);
}

enum vaern_err
store_visit_key_get(struct store *st, int64_t controller, int64_t expires_at,
                    unsigned char wrapped[STORE_WRAPPED_MAX], size_t *len,
                    int64_t *kek, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	*len = 0;
	if ((s = sqlu_stmt(&st->conn, S_VKEY_GET, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_int64(s, 2, expires_at);
	err = sqlu_step_row(&st->conn, s, "visit key", "no visit key", msg);
	if (err == VAERN_OK &&
	    !column_copy(s, 0, wrapped, STORE_WRAPPED_MAX, len))
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "a visit key is malformed");
	if (err == VAERN_OK)
		*kek = db_column_int64(s, 1);
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_visit_key_put(struct store *st, int64_t controller, int64_t expires_at,
                    const unsigned char *wrapped, size_t len, int64_t kek,
                    struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_VKEY_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_int64(s, 2, expires_at);
	db_bind_blob(s, 3, wrapped, (int)len);
	db_bind_int64(s, 4, kek);
	return sqlu_step_done(&st->conn, s, "visit key", msg);
}

enum vaern_err
store_visit_key_drop_due(struct store *st, int64_t now, int64_t *dropped,
                         struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	*dropped = 0;
	if ((s = sqlu_stmt(&st->conn, S_VKEY_DROP_DUE, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, now);
	if ((err = sqlu_step_done(&st->conn, s, "visit key", msg)) == VAERN_OK)
		*dropped = db_changes(st->conn.db);
	return err;
}
