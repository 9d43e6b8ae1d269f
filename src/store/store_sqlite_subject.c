/*
 * store_sqlite_subject.c -- the SQL of subjects, their identifiers and card
 * warnings, facts, events and the facts' retention (moved from store_sqlite.c).
 */
#include "store.h"
#include "store_portal.h"

#include "sqlite_util.h"
#include "store_sqlite_engine_internal.h"

#include "db.h"
#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum vaern_err
store_subject_insert(struct store *st, struct store_subject *subj,
                     struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_SUBJ_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subj->controller);
	db_bind_blob(s, 2, subj->uid, STORE_UID_BYTES);
	db_bind_blob(s, 3, subj->blinds, (int)subj->blinds_len);
	db_bind_int(s, 4, subj->state);
	db_bind_int64(s, 5, subj->created_at);
	if ((err = sqlu_step_int64(&st->conn, s, &subj->rowid, "subject",
	                           msg)) != VAERN_OK)
		return err;
	/* The wrapped key goes to the keystore, in the same transaction. */
	if ((s = sqlu_stmt(&st->conn, S_SKEY_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_blob(s, 1, subj->uid, STORE_UID_BYTES);
	db_bind_int64(s, 2, subj->controller);
	db_bind_int64(s, 3, subj->kek);
	db_bind_blob(s, 4, subj->wrapped_key, (int)subj->wrapped_len);
	return sqlu_step_done(&st->conn, s, "subject key", msg);
}

/* Steps s (bound) and copies the subject row into *subj. */
static enum vaern_err
subject_lookup(struct store *st, struct db_stmt *s, struct store_subject *subj,
               struct vaern_msg *msg)
{
	enum vaern_err err;
	size_t uidlen;

	err = sqlu_step_row(&st->conn, s, "subject", "no such subject", msg);
	if (err == VAERN_OK) {
		subj->rowid = db_column_int64(s, 0);
		subj->controller = db_column_int64(s, 1);
		subj->state = db_column_int(s, 5);
		subj->created_at = db_column_int64(s, 6);
		subj->kek = db_column_int64(s, 7);
		if (!column_copy(s, 2, subj->uid, STORE_UID_BYTES, &uidlen) ||
		    uidlen != STORE_UID_BYTES ||
		    !column_copy(s, 3, subj->wrapped_key, STORE_WRAPPED_MAX,
		                 &subj->wrapped_len) ||
		    !column_copy(s, 4, subj->blinds, STORE_BLINDS_MAX,
		                 &subj->blinds_len))
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "subject %lld: malformed row",
			                 (long long)subj->rowid);
	}
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_subject_by_uid(struct store *st, int64_t controller,
                     const unsigned char *uid, struct store_subject *subj,
                     struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_SUBJ_BY_UID, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_blob(s, 1, uid, STORE_UID_BYTES);
	err = subject_lookup(st, s, subj, msg);
	/* One controller's subject is invisible to another controller. */
	if (err == VAERN_OK && subj->controller != controller)
		err = vaern_fail(msg, VAERN_E_NOTFOUND, "no such subject");
	return err;
}

enum vaern_err
store_subject_by_rowid(struct store *st, int64_t rowid,
                       struct store_subject *subj, struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_SUBJ_BY_ROWID, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, rowid);
	return subject_lookup(st, s, subj, msg);
}

enum vaern_err
store_subject_set_blinds(struct store *st, int64_t rowid,
                         const unsigned char *blinds, size_t len,
                         struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_SUBJ_SET_BLINDS, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, rowid);
	db_bind_blob(s, 2, blinds, (int)len);
	return sqlu_step_done(&st->conn, s, "subject", msg);
}

static enum vaern_err
delete_by_subject(struct store *st, enum stmt_id id, int64_t rowid,
                  struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, id, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, rowid);
	return sqlu_step_done(&st->conn, s, "erase", msg);
}

enum vaern_err
store_subject_delete(struct store *st, int64_t rowid, struct vaern_msg *msg)
{
	enum vaern_err err;

	if ((err = delete_by_subject(st, S_SUBJ_DELETE_FACTS, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE_EVENTS, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE_CONSENTS, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE_AGREEMENTS, rowid,
	                             msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE_HOLDS, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE_CSTATE, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE_UNSUB, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE_CARD_WARNINGS, rowid,
	                             msg)) ||
	    (err = store_portal_forget(st, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SKEY_DELETE, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE, rowid, msg)))
		return err;
	if (db_changes(st->conn.db) != 1)
		return vaern_fail(msg, VAERN_E_NOTFOUND, "no such subject");
	return VAERN_OK;
}

enum vaern_err
store_subject_count(struct store *st, int64_t controller, int64_t *count,
                    struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_SUBJ_COUNT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	return sqlu_step_int64(&st->conn, s, count, "subject count", msg);
}

static void
bind_identifier(struct db_stmt *s, int64_t controller, int type,
                const unsigned char *blind)
{
	db_bind_int64(s, 1, controller);
	db_bind_int(s, 2, type);
	db_bind_blob(s, 3, blind, STORE_BLIND_BYTES);
}

enum vaern_err
store_identifier_insert(struct store *st, int64_t controller, int type,
                        const unsigned char *blind, int64_t subject,
                        struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_ID_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	/* Its "already exists" is worded by the caller: never queued. */
	db_stmt_sync(s);
	bind_identifier(s, controller, type, blind);
	db_bind_int64(s, 4, subject);
	return sqlu_step_done(&st->conn, s, "identifier", msg);
}

enum vaern_err
store_identifier_find(struct store *st, int64_t controller, int type,
                      const unsigned char *blind, int64_t *subject,
                      struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_ID_FIND, msg)) == NULL)
		return VAERN_E_STORE;
	bind_identifier(s, controller, type, blind);
	if ((err = sqlu_step_row(&st->conn, s, "identifier",
	                         "no subject has that identifier", msg)) ==
	    VAERN_OK)
		*subject = db_column_int64(s, 0);
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_identifier_find_uid(struct store *st, int64_t controller, int type,
                          const unsigned char *blind, unsigned char *uid,
                          struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;
	size_t len = 0;

	if ((s = sqlu_stmt(&st->conn, S_ID_FIND_UID, msg)) == NULL)
		return VAERN_E_STORE;
	bind_identifier(s, controller, type, blind);
	err = sqlu_step_row(&st->conn, s, "identifier",
	                    "no subject has that identifier", msg);
	if (err == VAERN_OK &&
	    (!column_copy(s, 0, uid, STORE_UID_BYTES, &len) ||
	     len != STORE_UID_BYTES))
		err = vaern_fail(msg, VAERN_E_STORE, "subject: malformed row");
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_identifier_delete(struct store *st, int64_t controller, int type,
                        const unsigned char *blind, struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_ID_DELETE, msg)) == NULL)
		return VAERN_E_STORE;
	bind_identifier(s, controller, type, blind);
	return sqlu_step_done(&st->conn, s, "identifier", msg);
}

enum vaern_err
store_card_warning_sent(struct store *st, int64_t subject,
                        const unsigned char *mark, int *sent,
                        struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	*sent = 0;
	if ((s = sqlu_stmt(&st->conn, S_CARD_WARNING_GET, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_blob(s, 2, mark, STORE_BLIND_BYTES);
	err = sqlu_step_row(&st->conn, s, "card warning", NULL, msg);
	sqlu_reset(s);
	if (err == VAERN_E_NOTFOUND)
		return VAERN_OK;
	if (err == VAERN_OK)
		*sent = 1;
	return err;
}

enum vaern_err
store_card_warning_put(struct store *st, int64_t subject,
                       const unsigned char *mark, int64_t at,
                       struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_CARD_WARNING_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_blob(s, 2, mark, STORE_BLIND_BYTES);
	db_bind_int64(s, 3, at);
	return sqlu_step_done(&st->conn, s, "card warning", msg);
}

enum vaern_err
store_card_warning_delete(struct store *st, int64_t subject,
                          const unsigned char *mark, struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_CARD_WARNING_DELETE, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_blob(s, 2, mark, STORE_BLIND_BYTES);
	return sqlu_step_done(&st->conn, s, "card warning", msg);
}

enum vaern_err
store_identifier_clear(struct store *st, int64_t controller,
                       struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_ID_CLEAR, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	return sqlu_step_done(&st->conn, s, "identifier", msg);
}

enum vaern_err
store_subject_rowids(struct store *st, int64_t controller, int64_t **ids,
                     size_t *n, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if ((s = sqlu_stmt(&st->conn, S_SUBJ_OF_CONTROLLER, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	while ((rc = db_step(s)) == DB_ROW) {
		if (*n == cap) {
			size_t ncap = cap ? 2 * cap : 256;
			int64_t *more = realloc(*ids, ncap * sizeof(**ids));

			if (more == NULL) {
				err = vaern_fail(msg, VAERN_E_NOMEM,
				                 "out of memory");
				break;
			}
			*ids = more;
			cap = ncap;
		}
		(*ids)[(*n)++] = db_column_int64(s, 0);
	}
	err = sqlu_rows_end(&st->conn, s, rc, err, "subject list", msg);
	if (err != VAERN_OK) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return err;
}

/* The label ids of fact f: category, purpose, source, rule (0: none). */
static enum vaern_err
fact_labels(struct store *st, const struct store_fact *f, int64_t id[4],
            struct vaern_msg *msg)
{
	enum vaern_err err;

	id[3] = 0;
	if ((err = store_sqlite_label_id(st, f->category, &id[0], msg)) !=
	            VAERN_OK ||
	    (err = store_sqlite_label_id(st, f->purpose, &id[1], msg)) !=
	            VAERN_OK ||
	    (err = store_sqlite_label_id(st, f->source, &id[2], msg)) !=
	            VAERN_OK ||
	    (f->rule != NULL &&
	     (err = store_sqlite_label_id(st, f->rule, &id[3], msg)) !=
	             VAERN_OK))
		return err;
	return VAERN_OK;
}

_Static_assert(S_FACT_INSERT8 - S_FACT_INSERT + 1 == STORE_FACT_ROWS_MAX,
               "a fact insert of each row count");

enum vaern_err
store_facts_insert(struct store *st, const struct store_fact *f, size_t n,
                   struct vaern_msg *msg)
{
	int64_t label[STORE_FACT_ROWS_MAX][4];
	struct db_stmt *s;
	enum vaern_err err;

	assert(n >= 1 && n <= STORE_FACT_ROWS_MAX);
	/* The labels first: a label new to the store is a statement of its
	 * own, which must not run while s is bound. */
	for (size_t k = 0; k < n; k++)
		if ((err = fact_labels(st, &f[k], label[k], msg)) != VAERN_OK)
			return err;
	if ((s = sqlu_stmt(&st->conn, S_FACT_INSERT + n - 1, msg)) == NULL)
		return VAERN_E_STORE;
	for (size_t k = 0; k < n; k++) {
		int b = 10 * (int)k;

		db_bind_int64(s, b + 1, f[k].subject);
		db_bind_int64(s, b + 2, f[k].id);
		db_bind_int64(s, b + 3, label[k][0]);
		db_bind_int64(s, b + 4, label[k][1]);
		db_bind_int64(s, b + 5, label[k][2]);
		db_bind_int64(s, b + 6, f[k].collected_at);
		db_bind_int(s, b + 7, f[k].provided_by_subject);
		bind_time(s, b + 8, f[k].expires_at);
		db_bind_blob(s, b + 9, f[k].ct, (int)f[k].ctlen);
		if (label[k][3] != 0)
			db_bind_int64(s, b + 10, label[k][3]);
		else
			db_bind_null(s, b + 10);
	}
	return sqlu_step_done(&st->conn, s, "fact", msg);
}

enum vaern_err
store_fact_insert(struct store *st, const struct store_fact *f,
                  struct vaern_msg *msg)
{
	return store_facts_insert(st, f, 1, msg);
}

enum vaern_err
store_fact_max_id(struct store *st, int64_t subject, int64_t *max,
                  struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_FACT_MAX, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	/* max(id) of no fact is NULL, which reads as 0 */
	return sqlu_step_int64(&st->conn, s, max, "fact", msg);
}

enum vaern_err
store_fact_update(struct store *st, int64_t subject, int64_t id,
                  const unsigned char *ct, size_t ctlen, int64_t collected_at,
                  const char *source, struct vaern_msg *msg)
{
	struct db_stmt *s;
	int64_t src;
	enum vaern_err err;

	if ((err = store_sqlite_label_id(st, source, &src, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_FACT_UPDATE, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_int64(s, 2, id);
	db_bind_blob(s, 3, ct, (int)ctlen);
	db_bind_int64(s, 4, collected_at);
	db_bind_int64(s, 5, src);
	return sqlu_step_changed(&st->conn, s, "fact", msg, "no fact %lld",
	                         (long long)id);
}

/* Steps s and calls fn for each fact row. */
static enum vaern_err
facts_each(struct store *st, struct db_stmt *s,
           enum vaern_err (*fn)(void *arg, const struct store_fact *f),
           void *arg, int *seen, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	char cat[LABEL_MAX + 1], purpose[LABEL_MAX + 1], source[LABEL_MAX + 1];
	int rc;

	*seen = 0;
	while ((rc = db_step(s)) == DB_ROW) {
		struct store_fact f;

		if ((err = label_copy(st, db_column_int64(s, 2), cat, msg)) !=
		            VAERN_OK ||
		    (err = label_copy(st, db_column_int64(s, 3), purpose,
		                      msg)) != VAERN_OK ||
		    (err = label_copy(st, db_column_int64(s, 4), source,
		                      msg)) != VAERN_OK)
			break;
		f.subject = db_column_int64(s, 0);
		f.id = db_column_int64(s, 1);
		f.category = cat;
		f.purpose = purpose;
		f.source = source;
		f.collected_at = db_column_int64(s, 5);
		f.provided_by_subject = db_column_int(s, 6);
		f.expires_at = column_time(s, 7);
		f.rule = NULL;
		f.ct = db_column_blob(s, 8);
		f.ctlen = (size_t)db_column_bytes(s, 8);
		*seen = 1;
		if ((err = fn(arg, &f)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "fact", msg);
}

enum vaern_err
store_fact_foreach(struct store *st, int64_t subject,
                   enum vaern_err (*fn)(void *arg, const struct store_fact *f),
                   void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;
	int seen;

	if ((s = sqlu_stmt(&st->conn, S_FACT_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	return facts_each(st, s, fn, arg, &seen, msg);
}

enum vaern_err
store_fact_get(struct store *st, int64_t subject, int64_t id,
               enum vaern_err (*fn)(void *arg, const struct store_fact *f),
               void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;
	int seen;

	if ((s = sqlu_stmt(&st->conn, S_FACT_GET, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_int64(s, 2, id);
	err = facts_each(st, s, fn, arg, &seen, msg);
	if (err == VAERN_OK && !seen)
		err = vaern_fail(msg, VAERN_E_NOTFOUND, "no fact %lld",
		                 (long long)id);
	return err;
}

enum vaern_err
store_event_insert(struct store *st, const struct store_event *e,
                   struct vaern_msg *msg)
{
	struct db_stmt *s;
	int64_t kind;
	enum vaern_err err;

	if ((err = store_sqlite_label_id(st, e->kind, &kind, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_EVENT_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, e->subject);
	db_bind_int64(s, 2, kind);
	db_bind_int64(s, 3, e->at);
	return sqlu_step_done(&st->conn, s, "event", msg);
}

enum vaern_err
store_event_foreach(struct store *st, int64_t subject,
                    enum vaern_err (*fn)(void *arg,
                                         const struct store_event *e),
                    void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	char kind[LABEL_MAX + 1];
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_EVENT_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	while ((rc = db_step(s)) == DB_ROW) {
		struct store_event e;

		if ((err = label_copy(st, db_column_int64(s, 1), kind, msg)) !=
		    VAERN_OK)
			break;
		e.subject = db_column_int64(s, 0);
		e.kind = kind;
		e.at = db_column_int64(s, 2);
		if ((err = fn(arg, &e)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "event", msg);
}

enum vaern_err
store_subject_set_state(struct store *st, int64_t rowid, int state,
                        struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_SUBJ_SET_STATE, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, rowid);
	db_bind_int(s, 2, state);
	return sqlu_step_changed(&st->conn, s, "subject", msg,
	                         "no such subject");
}

/* ---- retention -------------------------------------------------------- */

enum vaern_err
store_fact_set_expiry(struct store *st, int64_t subject, int64_t id,
                      int64_t expires_at, const char *rule,
                      struct vaern_msg *msg)
{
	struct db_stmt *s;
	int64_t r = 0;
	enum vaern_err err;

	if (rule != NULL &&
	    (err = store_sqlite_label_id(st, rule, &r, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_FACT_SET_EXPIRY, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_int64(s, 2, id);
	bind_time(s, 3, expires_at);
	if (r != 0)
		db_bind_int64(s, 4, r);
	return sqlu_step_done(&st->conn, s, "fact", msg);
}

enum vaern_err
store_fact_delete(struct store *st, int64_t subject, int64_t id,
                  struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_FACT_DELETE, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_int64(s, 2, id);
	return sqlu_step_changed(&st->conn, s, "fact", msg, "no fact %lld",
	                         (long long)id);
}

enum vaern_err
store_fact_due(struct store *st, int64_t now, const struct store_due *after,
               struct store_due *out, size_t max, size_t *n,
               struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	*n = 0;
	s = sqlu_stmt(&st->conn,
	              after == NULL      ? S_FACT_DUE_FIRST
	              : after->rule != 0 ? S_FACT_DUE_NEXT
	                                 : S_FACT_DUE_NEXT_NULL,
	              msg);
	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, now);
	db_bind_int64(s, 2, (sqlite3_int64)max);
	if (after != NULL) {
		db_bind_int64(s, 3, after->expires_at);
		db_bind_int64(s, 4, after->subject);
		db_bind_int64(s, 5, after->id);
		if (after->rule != 0)
			db_bind_int64(s, 6, after->rule);
	}
	while (*n < max && (rc = db_step(s)) == DB_ROW) {
		struct store_due *d = &out[(*n)++];

		d->expires_at = db_column_int64(s, 0);
		d->subject = db_column_int64(s, 1);
		d->id = db_column_int64(s, 2);
		d->rule = db_column_int64(s, 3);
	}
	if (*n < max && rc != DB_DONE)
		err = sqlu_fail(&st->conn, msg, "retention");
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_fact_key_foreach(struct store *st, int64_t subject,
                       enum vaern_err (*fn)(void *arg,
                                            const struct store_fact_key *k),
                       void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_FACT_KEYS, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	while ((rc = db_step(s)) == DB_ROW) {
		struct store_fact_key k;

		k.id = db_column_int64(s, 0);
		k.category = db_column_int64(s, 1);
		k.rule = db_column_int64(s, 2);
		k.expires_at = column_time(s, 3);
		if ((err = fn(arg, &k)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "fact", msg);
}

enum vaern_err
store_fact_delete_due(struct store *st, int64_t subject, int64_t now,
                      int64_t *deleted, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	*deleted = 0;
	if ((s = sqlu_stmt(&st->conn, S_FACT_DELETE_DUE, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_int64(s, 2, now);
	if ((err = sqlu_step_done(&st->conn, s, "fact", msg)) == VAERN_OK)
		*deleted = db_changes(st->conn.db);
	return err;
}

enum vaern_err
store_fact_due_count(struct store *st, int64_t now, int64_t *count,
                     struct vaern_msg *msg)
{
	struct db_stmt *s;

	*count = 0;
	if ((s = sqlu_stmt(&st->conn, S_FACT_DUE_COUNT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, now);
	return sqlu_step_int64(&st->conn, s, count, "retention", msg);
}

enum vaern_err
store_fact_plan(struct store *st,
                enum vaern_err (*fn)(void *arg, int64_t rule,
                                     int64_t expires_at, int64_t count),
                void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_FACT_PLAN, msg)) == NULL)
		return VAERN_E_STORE;
	while ((rc = db_step(s)) == DB_ROW) {
		if ((err = fn(arg, db_column_int64(s, 0), column_time(s, 1),
		              db_column_int64(s, 2))) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "retention plan", msg);
}

enum vaern_err
store_fact_plan_restricted(struct store *st,
                           enum vaern_err (*fn)(void *arg, int64_t rule,
                                                int64_t count),
                           void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_FACT_PLAN_RESTRICTED, msg)) == NULL)
		return VAERN_E_STORE;
	while ((rc = db_step(s)) == DB_ROW) {
		if ((err = fn(arg, db_column_int64(s, 0),
		              db_column_int64(s, 1))) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "retention plan", msg);
}

enum vaern_err
store_subject_restricted_foreach(struct store *st,
                                 enum vaern_err (*fn)(void *arg,
                                                      int64_t subject),
                                 void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_SUBJECT_RESTRICTED, msg)) == NULL)
		return VAERN_E_STORE;
	while ((rc = db_step(s)) == DB_ROW) {
		if ((err = fn(arg, db_column_int64(s, 0))) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "restricted subjects", msg);
}

/* Runs s (bound already) and sets *found to whether it returned a row. */
static enum vaern_err
step_exists(struct store *st, struct db_stmt *s, int *found,
            struct vaern_msg *msg)
{
	enum vaern_err err = sqlu_step_row(&st->conn, s, "lookup", NULL, msg);

	*found = err == VAERN_OK;
	sqlu_reset(s);
	return err == VAERN_E_NOTFOUND ? VAERN_OK : err;
}

enum vaern_err
store_subject_remains(struct store *st, int64_t subject, int64_t now,
                      int *remains, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_FACT_ANY, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	if ((err = step_exists(st, s, remains, msg)) != VAERN_OK || *remains)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_CONSENT_KEPT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	db_bind_int64(s, 2, now);
	if ((err = step_exists(st, s, remains, msg)) != VAERN_OK || *remains)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_CONSENT_IN_FORCE, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, subject);
	return step_exists(st, s, remains, msg);
}
