/*
 * store_sqlite_actor.c -- the SQL of actors: the API tokens and who holds
 * them (moved from store_sqlite.c).
 */
#include "store.h"

#include "sqlite_util.h"
#include "store_sqlite_engine_internal.h"

#include "db.h"
#include <stdlib.h>
#include <string.h>

static int
actor_from_row(struct db_stmt *s, struct store_actor *a)
{
	size_t hlen = 0;

	a->id = db_column_int64(s, 0);
	a->controller = db_column_int64(s, 1);
	a->created_at = db_column_int64(s, 6);
	a->revoked_at = column_time(s, 7);
	return column_text_copy(s, 2, a->name, STORE_NAME_MAX) &&
	       column_text_copy(s, 3, a->role, STORE_NAME_MAX) &&
	       column_text_copy(s, 4, a->token_id, STORE_TOKEN_ID_HEX) &&
	       column_copy(s, 5, a->token_hash, sizeof(a->token_hash), &hlen) &&
	       hlen == sizeof(a->token_hash);
}

enum vaern_err
store_actor_insert(struct store *st, struct store_actor *a,
                   struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_ACTOR_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, a->controller);
	db_bind_text(s, 2, a->name, -1);
	db_bind_text(s, 3, a->role, -1);
	db_bind_text(s, 4, a->token_id, -1);
	db_bind_blob(s, 5, a->token_hash, sizeof(a->token_hash));
	db_bind_int64(s, 6, a->created_at);
	err = sqlu_step_int64(&st->conn, s, &a->id, "actor", msg);
	if (err == VAERN_E_EXISTS)
		return vaern_fail(msg, VAERN_E_EXISTS,
		                  "an actor named '%s' already exists",
		                  a->name);
	return err;
}

enum vaern_err
store_actor_by_token_id(struct store *st, const char *token_id,
                        struct store_actor *a, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_ACTOR_BY_TOKEN, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, token_id, -1);
	err = sqlu_step_row(&st->conn, s, "actor", "no such token", msg);
	if (err == VAERN_OK && !actor_from_row(s, a))
		err = vaern_fail(msg, VAERN_E_STORE, "actor: malformed row");
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_actor_revoke(struct store *st, int64_t controller, const char *name,
                   int64_t at, struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_ACTOR_REVOKE, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_text(s, 2, name, -1);
	db_bind_int64(s, 3, at);
	return sqlu_step_changed(&st->conn, s, "actor", msg,
	                         "no valid actor named '%.64s'", name);
}

enum vaern_err
store_actor_foreach(struct store *st, int64_t controller,
                    enum vaern_err (*fn)(void *arg,
                                         const struct store_actor *a),
                    void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_ACTOR_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	while ((rc = db_step(s)) == DB_ROW) {
		struct store_actor a;

		if (!actor_from_row(s, &a)) {
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "actor: malformed row");
			break;
		}
		if ((err = fn(arg, &a)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "actor", msg);
}
