/*
 * store_sqlite_traffic.c -- the SQL of the traffic store's day keys (issue
 * 18; TEL-LOG-1): one wrapped key per controller and day in the keystore,
 * so that deleting the row crypto-erases the day, a master-key rotation
 * re-wraps it and a keystore backup holds it. The records themselves are
 * files (src/traffic).
 */
#include "store.h"

#include "sqlite_util.h"
#include "store_sqlite_engine_internal.h"

enum vaern_err
store_traffic_key_get(struct store *st, int64_t controller, int64_t day,
                      unsigned char wrapped[STORE_WRAPPED_MAX], size_t *len,
                      int64_t *kek, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	*len = 0;
	if ((s = sqlu_stmt(&st->conn, S_TKEY_GET, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_int64(s, 2, day);
	err = sqlu_step_row(&st->conn, s, "traffic day key",
	                    "no traffic day key", msg);
	if (err == VAERN_OK &&
	    !column_copy(s, 0, wrapped, STORE_WRAPPED_MAX, len))
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "a traffic day key is malformed");
	if (err == VAERN_OK)
		*kek = db_column_int64(s, 1);
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_traffic_key_put(struct store *st, int64_t controller, int64_t day,
                      const unsigned char *wrapped, size_t len, int64_t kek,
                      struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_TKEY_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_int64(s, 2, day);
	db_bind_int64(s, 3, kek);
	db_bind_blob(s, 4, wrapped, (int)len);
	return sqlu_step_done(&st->conn, s, "traffic day key", msg);
}

enum vaern_err
store_traffic_key_drop_before(struct store *st, int64_t controller, int64_t day,
                              int64_t *dropped, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	*dropped = 0;
	if ((s = sqlu_stmt(&st->conn, S_TKEY_DROP_BEFORE, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_int64(s, 2, day);
	if ((err = sqlu_step_done(&st->conn, s, "traffic day key", msg)) ==
	    VAERN_OK)
		*dropped = db_changes(st->conn.db);
	return err;
}
