/*
 * store_sqlite_consent.c -- the SQL of the consent ledger: consents,
 * agreements, consent texts and states, unsubscribes and choices (moved from
 * store_sqlite.c).
 */
#include "store.h"

#include "sqlite_util.h"
#include "store_sqlite_engine_internal.h"

#include "db.h"
#include <stdlib.h>
#include <string.h>

enum vaern_err
store_consent_insert(struct store *st, const struct store_consent *c,
                     struct vaern_msg *msg)
{
	struct db_stmt *s;
	int64_t purpose, source;
	enum vaern_err err;

	if ((err = store_sqlite_label_id(st, c->purpose, &purpose, msg)) !=
	            VAERN_OK ||
	    (err = store_sqlite_label_id(st, c->source, &source, msg)) !=
	            VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_CONSENT_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, c->subject);
	db_bind_int64(s, 2, purpose);
	db_bind_int64(s, 3, c->given_at);
	bind_time(s, 4, c->withdrawn_at);
	db_bind_int64(s, 5, source);
	if (c->text_hash != NULL)
		db_bind_blob(s, 6, c->text_hash, 32);
	return sqlu_step_done(&st->conn, s, "consent", msg);
}

enum vaern_err
store_consent_valid(struct store *st, int64_t subject, const char *purpose,
                    int *valid, struct vaern_msg *msg)
{
	struct db_stmt *s;
	int64_t pid;
	enum vaern_err err;

	*valid = 0;
	if ((err = store_sqlite_label_find(st, purpose, 0, &pid, NULL)) ==
	    VAERN_E_NOTFOUND)
		return VAERN_OK; /* no consent to it was ever recorded */
	if (err != VAERN_OK)
		return vaern_fail(msg, err, "consent: label lookup failed");
	if ((s = sqlu_stmt(&st->conn, S_CONSENT_LATEST, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_int64(s, 2, pid);
	if ((err = sqlu_step_row(&st->conn, s, "consent", NULL, msg)) ==
	    VAERN_OK)
		*valid = db_column_type(s, 0) == DB_NULL;
	sqlu_reset(s);
	return err == VAERN_E_NOTFOUND ? VAERN_OK : err;
}

enum vaern_err
store_agreement_insert(struct store *st, int64_t subject, const char *recipient,
                       int64_t at, int withdrawn, struct vaern_msg *msg)
{
	struct db_stmt *s;
	int64_t rid;
	enum vaern_err err;

	if ((err = store_sqlite_label_id(st, recipient, &rid, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_AGREEMENT_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_int64(s, 2, rid);
	db_bind_int64(s, 3, at);
	db_bind_int(s, 4, withdrawn != 0);
	return sqlu_step_done(&st->conn, s, "agreement", msg);
}

enum vaern_err
store_agreement_valid(struct store *st, int64_t subject, const char *recipient,
                      int *valid, struct vaern_msg *msg)
{
	struct db_stmt *s;
	int64_t rid;
	enum vaern_err err;

	*valid = 0;
	if ((err = store_sqlite_label_find(st, recipient, 0, &rid, NULL)) ==
	    VAERN_E_NOTFOUND)
		return VAERN_OK; /* no agreement was ever recorded */
	if (err != VAERN_OK)
		return vaern_fail(msg, err, "agreement: label lookup failed");
	if ((s = sqlu_stmt(&st->conn, S_AGREEMENT_LATEST, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_int64(s, 2, rid);
	if ((err = sqlu_step_row(&st->conn, s, "agreement", NULL, msg)) ==
	    VAERN_OK)
		*valid = db_column_int(s, 0) == 0;
	sqlu_reset(s);
	return err == VAERN_E_NOTFOUND ? VAERN_OK : err;
}

/* ---- the consent ledger ------------------------------------------------ */

enum vaern_err
store_consent_text_put(struct store *st, const unsigned char hash[32],
                       const char *text, struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_CTEXT_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_blob(s, 1, hash, 32);
	db_bind_text(s, 2, text, -1);
	return sqlu_step_done(&st->conn, s, "consent text", msg);
}

enum vaern_err
store_consent_text_get(struct store *st, const unsigned char hash[32],
                       char **text, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	*text = NULL;
	if ((s = sqlu_stmt(&st->conn, S_CTEXT_GET, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_blob(s, 1, hash, 32);
	if ((err = sqlu_step_row(&st->conn, s, "consent text",
	                         "no such consent text", msg)) == VAERN_OK) {
		const char *t = (const char *)db_column_text(s, 0);

		if (t == NULL || (*text = strdup(t)) == NULL)
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	}
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_consent_foreach(struct store *st, int64_t subject,
                      enum vaern_err (*fn)(void *arg,
                                           const struct store_consent_rec *r),
                      void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	char purpose[LABEL_MAX + 1], source[LABEL_MAX + 1];
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_CONSENT_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	while ((rc = db_step(s)) == DB_ROW) {
		struct store_consent_rec r;

		if ((err = label_copy(st, db_column_int64(s, 0), purpose,
		                      msg)) != VAERN_OK ||
		    (err = label_copy(st, db_column_int64(s, 4), source,
		                      msg)) != VAERN_OK)
			break;
		r.purpose = purpose;
		r.seq = db_column_int64(s, 1);
		r.at = db_column_int64(s, 2);
		r.withdrawn = db_column_type(s, 3) != DB_NULL;
		r.source = source;
		r.text_hash = db_column_bytes(s, 5) == 32 ? db_column_blob(s, 5)
		                                          : NULL;
		if ((err = fn(arg, &r)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "consent", msg);
}

enum vaern_err
store_consent_state_get(struct store *st, int64_t subject, const char *purpose,
                        struct store_consent_state *cs, struct vaern_msg *msg)
{
	struct db_stmt *s;
	int64_t pid;
	enum vaern_err err;

	cs->last_used = STORE_NO_TIME;
	cs->expires_at = STORE_NO_TIME;
	if ((err = store_sqlite_label_find(st, purpose, 0, &pid, NULL)) ==
	    VAERN_E_NOTFOUND)
		return VAERN_OK;
	if (err != VAERN_OK)
		return vaern_fail(msg, err, "consent: label lookup failed");
	if ((s = sqlu_stmt(&st->conn, S_CSTATE_GET, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_int64(s, 2, pid);
	if ((err = sqlu_step_row(&st->conn, s, "consent state", NULL, msg)) ==
	    VAERN_OK) {
		cs->last_used = column_time(s, 0);
		cs->expires_at = column_time(s, 1);
	}
	sqlu_reset(s);
	return err == VAERN_E_NOTFOUND ? VAERN_OK : err;
}

enum vaern_err
store_consent_state_put(struct store *st, int64_t subject, const char *purpose,
                        const struct store_consent_state *cs,
                        struct vaern_msg *msg)
{
	struct db_stmt *s;
	int64_t pid;
	enum vaern_err err;

	if ((err = store_sqlite_label_id(st, purpose, &pid, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_CSTATE_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_int64(s, 2, pid);
	bind_time(s, 3, cs->last_used);
	bind_time(s, 4, cs->expires_at);
	return sqlu_step_done(&st->conn, s, "consent state", msg);
}

enum vaern_err
store_consent_due(struct store *st, int64_t now, int64_t *subjects,
                  int64_t *purposes, size_t max, size_t *n,
                  struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc = DB_DONE;

	*n = 0;
	if ((s = sqlu_stmt(&st->conn, S_CONSENT_DUE, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, now);
	db_bind_int64(s, 2, (sqlite3_int64)max);
	while (*n < max && (rc = db_step(s)) == DB_ROW) {
		subjects[*n] = db_column_int64(s, 0);
		purposes[*n] = db_column_int64(s, 1);
		(*n)++;
	}
	if (*n < max && rc != DB_DONE)
		err = sqlu_fail(&st->conn, msg, "consent retention");
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_consent_delete(struct store *st, int64_t subject, int64_t purpose,
                     struct vaern_msg *msg)
{
	static const enum stmt_id ids[] = {S_CONSENT_DELETE, S_CSTATE_DELETE,
	                                   S_UNSUB_DELETE};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct db_stmt *s = sqlu_stmt(&st->conn, ids[i], msg);
		enum vaern_err err;

		if (s == NULL)
			return VAERN_E_STORE;
		db_bind_int64(s, 1, subject);
		db_bind_int64(s, 2, purpose);
		if ((err = sqlu_step_done(&st->conn, s, "consent", msg)) !=
		    VAERN_OK)
			return err;
	}
	return VAERN_OK;
}

enum vaern_err
store_unsubscribe_put(struct store *st, const unsigned char hash[32],
                      int64_t subject, const char *purpose,
                      struct vaern_msg *msg)
{
	struct db_stmt *s;
	int64_t pid;
	enum vaern_err err;

	if ((err = store_sqlite_label_id(st, purpose, &pid, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_UNSUB_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_blob(s, 1, hash, 32);
	db_bind_int64(s, 2, subject);
	db_bind_int64(s, 3, pid);
	return sqlu_step_done(&st->conn, s, "unsubscribe token", msg);
}

enum vaern_err
store_unsubscribe_find(struct store *st, const unsigned char hash[32],
                       int64_t *subject, char purpose[STORE_LABEL_MAX + 1],
                       struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;
	int64_t pid = 0;

	if ((s = sqlu_stmt(&st->conn, S_UNSUB_FIND, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_blob(s, 1, hash, 32);
	if ((err = sqlu_step_row(&st->conn, s, "unsubscribe token",
	                         "no such unsubscribe token", msg)) ==
	    VAERN_OK) {
		*subject = db_column_int64(s, 0);
		pid = db_column_int64(s, 1);
	}
	sqlu_reset(s);
	if (err == VAERN_OK)
		err = store_label_text(st, pid, purpose, msg);
	return err;
}

enum vaern_err
store_choice_insert(struct store *st, int64_t controller,
                    const unsigned char *visitor, const struct store_choice *c,
                    struct vaern_msg *msg)
{
	struct db_stmt *s;
	int64_t src;
	enum vaern_err err;

	if ((err = store_sqlite_label_id(st, c->source, &src, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_CHOICE_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_blob(s, 2, visitor, STORE_BLIND_BYTES);
	db_bind_int64(s, 3, c->at);
	db_bind_int(s, 4, c->statistics);
	db_bind_int(s, 5, c->marketing);
	db_bind_int64(s, 6, src);
	return sqlu_step_done(&st->conn, s, "cookie choice", msg);
}

enum vaern_err
store_choice_latest(struct store *st, int64_t controller,
                    const unsigned char *visitor, struct store_choice *c,
                    char source[STORE_LABEL_MAX + 1], struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;
	int64_t src = 0;

	if ((s = sqlu_stmt(&st->conn, S_CHOICE_LATEST, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_blob(s, 2, visitor, STORE_BLIND_BYTES);
	if ((err = sqlu_step_row(&st->conn, s, "cookie choice",
	                         "the visitor has made no choice", msg)) ==
	    VAERN_OK) {
		c->at = db_column_int64(s, 0);
		c->statistics = db_column_int(s, 1);
		c->marketing = db_column_int(s, 2);
		src = db_column_int64(s, 3);
	}
	sqlu_reset(s);
	if (err == VAERN_OK &&
	    (err = store_label_text(st, src, source, msg)) == VAERN_OK)
		c->source = source;
	return err;
}
