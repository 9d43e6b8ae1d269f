/*
 * store_sqlite_request.c -- the SQL of rights requests: requests, their
 * transitions, scopes and verification codes (moved from store_sqlite.c).
 */
#include "store.h"

#include "sqlite_util.h"
#include "store_sqlite_engine_internal.h"

#include "db.h"
#include <stdlib.h>
#include <string.h>

/* ---- rights requests (issue 5) ---------------------------------------- */

/* Copies text column col (NULL: "") into buf of max bytes + 1. */
static int
column_word(struct db_stmt *s, int col, char *buf, size_t max)
{
	if (db_column_type(s, col) == DB_NULL) {
		buf[0] = '\0';
		return 1;
	}
	return column_text_copy(s, col, buf, max);
}

static void
bind_text_or_null(struct db_stmt *s, int col, const char *t)
{
	if (t == NULL || t[0] == '\0')
		db_bind_null(s, col);
	else
		db_bind_text(s, col, t, -1);
}

static int
request_from_row(struct db_stmt *s, struct store_request *r)
{
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	r->rowid = db_column_int64(s, 0);
	r->controller = db_column_int64(s, 1);
	r->received_at = db_column_int64(s, 6);
	r->due = (long)db_column_int64(s, 7);
	r->extended_months = db_column_int(s, 8);
	r->extended_at = column_time(s, 10);
	r->verified_at = column_time(s, 13);
	r->updated_at = db_column_int64(s, 18);
	return column_word(s, 2, r->id, STORE_REQUEST_ID_LEN) &&
	       column_word(s, 3, r->type, STORE_WORD_MAX) &&
	       column_copy(s, 4, r->subject, STORE_UID_BYTES, &n) &&
	       n == STORE_UID_BYTES &&
	       column_word(s, 5, r->channel, STORE_WORD_MAX) &&
	       column_word(s, 9, r->extension_reason, STORE_TEXT_MAX) &&
	       column_word(s, 11, r->status, STORE_WORD_MAX) &&
	       column_word(s, 12, r->status_reason, STORE_TEXT_MAX) &&
	       column_word(s, 14, r->verified_by, STORE_NAME_MAX) &&
	       column_word(s, 15, r->verify_method, STORE_WORD_MAX) &&
	       column_word(s, 16, r->attestation, STORE_TEXT_MAX) &&
	       column_word(s, 17, r->created_by, STORE_NAME_MAX);
}

enum vaern_err
store_request_insert(struct store *st, struct store_request *r,
                     struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_REQ_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, r->controller);
	db_bind_text(s, 2, r->id, -1);
	db_bind_text(s, 3, r->type, -1);
	db_bind_blob(s, 4, r->subject, STORE_UID_BYTES);
	db_bind_text(s, 5, r->channel, -1);
	db_bind_int64(s, 6, r->received_at);
	db_bind_int64(s, 7, r->due);
	db_bind_text(s, 8, r->status, -1);
	db_bind_text(s, 9, r->created_by, -1);
	db_bind_int64(s, 10, r->updated_at);
	err = sqlu_step_int64(&st->conn, s, &r->rowid, "request", msg);
	return err;
}

enum vaern_err
store_request_get(struct store *st, int64_t controller, const char *id,
                  struct store_request *r, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_REQ_GET, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_text(s, 2, id, -1);
	err = sqlu_step_row(&st->conn, s, "request", "no such request", msg);
	if (err == VAERN_OK && !request_from_row(s, r))
		err = vaern_fail(msg, VAERN_E_STORE, "request: malformed row");
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_request_scope_put(struct store *st, int64_t request,
                        const char *categories, struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_REQ_SCOPE_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, request);
	db_bind_text(s, 2, categories, -1);
	return sqlu_step_done(&st->conn, s, "request scope", msg);
}

enum vaern_err
store_request_scope_get(struct store *st, int64_t request, char *categories,
                        size_t size, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;
	const char *t;

	if ((s = sqlu_stmt(&st->conn, S_REQ_SCOPE_GET, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, request);
	err = sqlu_step_row(&st->conn, s, "request scope", "no scope", msg);
	if (err == VAERN_OK) {
		t = (const char *)db_column_text(s, 0);
		if (t == NULL || strlen(t) >= size)
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "request scope: malformed row");
		else
			memcpy(categories, t, strlen(t) + 1);
	}
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_request_update(struct store *st, const struct store_request *r,
                     struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_REQ_UPDATE, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, r->rowid);
	db_bind_int64(s, 2, r->due);
	db_bind_int(s, 3, r->extended_months);
	bind_text_or_null(s, 4, r->extension_reason);
	bind_time(s, 5, r->extended_at);
	db_bind_text(s, 6, r->status, -1);
	bind_text_or_null(s, 7, r->status_reason);
	bind_time(s, 8, r->verified_at);
	bind_text_or_null(s, 9, r->verified_by);
	bind_text_or_null(s, 10, r->verify_method);
	bind_text_or_null(s, 11, r->attestation);
	db_bind_int64(s, 12, r->updated_at);
	return sqlu_step_changed(&st->conn, s, "request", msg,
	                         "no such request");
}

enum vaern_err
store_request_foreach(struct store *st, int64_t controller, long due_by,
                      int open_only,
                      enum vaern_err (*fn)(void *arg,
                                           const struct store_request *r),
                      void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_REQ_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_int64(s, 2, due_by);
	db_bind_int(s, 3, open_only);
	while ((rc = db_step(s)) == DB_ROW) {
		struct store_request r;

		if (!request_from_row(s, &r)) {
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "request: malformed row");
			break;
		}
		if ((err = fn(arg, &r)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "request", msg);
}

enum vaern_err
store_transition_insert(struct store *st, int64_t request,
                        const struct store_transition *t, struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_TRANS_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, request);
	db_bind_int64(s, 2, t->at);
	bind_text_or_null(s, 3, t->from);
	db_bind_text(s, 4, t->to, -1);
	db_bind_text(s, 5, t->actor, -1);
	bind_text_or_null(s, 6, t->reason);
	return sqlu_step_done(&st->conn, s, "request transition", msg);
}

enum vaern_err
store_transition_foreach(struct store *st, int64_t request,
                         enum vaern_err (*fn)(void *arg,
                                              const struct store_transition *t),
                         void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_TRANS_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, request);
	while ((rc = db_step(s)) == DB_ROW) {
		struct store_transition t;

		t.seq = db_column_int64(s, 0);
		t.at = db_column_int64(s, 1);
		t.from = (const char *)db_column_text(s, 2);
		t.to = (const char *)db_column_text(s, 3);
		t.actor = (const char *)db_column_text(s, 4);
		t.reason = (const char *)db_column_text(s, 5);
		if (t.to == NULL || t.actor == NULL) {
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "request transition: malformed row");
			break;
		}
		if ((err = fn(arg, &t)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "request transition", msg);
}

enum vaern_err
store_code_insert(struct store *st, int64_t request, struct store_code *c,
                  struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_CODE_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, request);
	db_bind_blob(s, 2, c->hash, sizeof(c->hash));
	db_bind_text(s, 3, c->contact, -1);
	db_bind_int64(s, 4, c->created_at);
	db_bind_int64(s, 5, c->expires_at);
	/* RETURNING seq: the insert is done by the first step */
	return sqlu_step_int64(&st->conn, s, &c->seq, "verification code", msg);
}

enum vaern_err
store_code_latest(struct store *st, int64_t request, struct store_code *c,
                  struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;
	size_t n = 0;

	if ((s = sqlu_stmt(&st->conn, S_CODE_LATEST, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, request);
	err = sqlu_step_row(&st->conn, s, "verification code",
	                    "no verification code was sent for this request",
	                    msg);
	if (err == VAERN_OK) {
		c->seq = db_column_int64(s, 0);
		c->created_at = db_column_int64(s, 3);
		c->expires_at = db_column_int64(s, 4);
		c->attempts = db_column_int(s, 5);
		c->used_at = column_time(s, 6);
		if (!column_copy(s, 1, c->hash, sizeof(c->hash), &n) ||
		    n != sizeof(c->hash) ||
		    !column_word(s, 2, c->contact, STORE_WORD_MAX))
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "verification code: malformed row");
	}
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_code_count(struct store *st, int64_t request, int64_t *n,
                 struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_CODE_COUNT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, request);
	return sqlu_step_int64(&st->conn, s, n, "verification code", msg);
}

enum vaern_err
store_code_update(struct store *st, int64_t request, const struct store_code *c,
                  struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_CODE_UPDATE, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, request);
	db_bind_int64(s, 2, c->seq);
	db_bind_int(s, 3, c->attempts);
	bind_time(s, 4, c->used_at);
	return sqlu_step_done(&st->conn, s, "verification code", msg);
}
