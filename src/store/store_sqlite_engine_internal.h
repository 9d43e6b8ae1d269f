/*
 * store_sqlite_engine_internal.h -- what the files of the SQLite engine
 * (store_sqlite.c and store_sqlite_*.c) share: the prepared statements,
 * the store itself, its label table and the row helpers. Not an API: only
 * those files read it.
 */
#ifndef VAERN_STORE_SQLITE_ENGINE_INTERNAL_H
#define VAERN_STORE_SQLITE_ENGINE_INTERNAL_H

#include "store_sqlite_internal.h"

#include "db.h"
#include <stdint.h>
#include <string.h>

#define LABEL_MAX   128 /* bytes in one interned label */
#define LABEL_CACHE 256 /* labels kept in memory (open addressing) */

/* The prepared statements, one per operation, kept for the store's life. */
enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_READ_BEGIN,
	S_LABEL_GET,
	S_LABEL_PUT,
	S_LABEL_TEXT,
	S_CTRL_PUT,
	S_CTRL_GET,
	S_CTRL_LIST,
	S_POLICY_GEN_BUMP,
	S_PVER_BACKFILL,
	S_PVER_PUT,
	S_PVER_LIST,
	S_PVER_GET,
	S_PVER_AT,
	S_POLICY_GEN,
	S_SUBJ_INSERT,
	S_SKEY_INSERT,
	S_SKEY_DELETE,
	S_SUBJ_BY_UID,
	S_SUBJ_BY_ROWID,
	S_SUBJ_SET_BLINDS,
	S_SUBJ_DELETE,
	S_SUBJ_DELETE_FACTS,
	S_SUBJ_DELETE_EVENTS,
	S_SUBJ_DELETE_CONSENTS,
	S_SUBJ_DELETE_CARD_WARNINGS,
	S_CARD_WARNING_GET,
	S_CARD_WARNING_PUT,
	S_CARD_WARNING_DELETE,
	S_SUBJ_COUNT,
	S_SUBJ_OF_CONTROLLER,
	S_ID_CLEAR,
	S_ID_INSERT,
	S_ID_FIND,
	S_ID_DELETE,
	S_ID_FIND_UID,
	S_FACT_INSERT, /* then the same of 2..STORE_FACT_ROWS_MAX rows: */
	S_FACT_INSERT2,
	S_FACT_INSERT3,
	S_FACT_INSERT4,
	S_FACT_INSERT5,
	S_FACT_INSERT6,
	S_FACT_INSERT7,
	S_FACT_INSERT8,
	S_FACT_MAX,
	S_FACT_UPDATE,
	S_FACT_LIST,
	S_FACT_GET,
	S_EVENT_INSERT,
	S_EVENT_LIST,
	S_CONSENT_INSERT,
	S_CONSENT_LATEST,
	S_META_GET,
	S_META_PUT,
	S_SAVEPOINT,
	S_RELEASE,
	S_SUBJ_SET_STATE,
	S_SUBJ_DELETE_AGREEMENTS,
	S_AGREEMENT_INSERT,
	S_AGREEMENT_LATEST,
	S_ACTOR_INSERT,
	S_ACTOR_BY_TOKEN,
	S_ACTOR_REVOKE,
	S_ACTOR_LIST,
	S_FACT_SET_EXPIRY,
	S_FACT_DELETE,
	S_FACT_DUE_FIRST,
	S_FACT_DUE_NEXT,
	S_FACT_DUE_NEXT_NULL,
	S_FACT_DUE_COUNT,
	S_FACT_KEYS,
	S_FACT_DELETE_DUE,
	S_FACT_PLAN,
	S_FACT_PLAN_RESTRICTED,
	S_SUBJECT_RESTRICTED,
	S_FACT_ANY,
	S_CONSENT_KEPT,
	S_CONSENT_IN_FORCE,
	S_HOLD_INSERT,
	S_HOLD_LIFT,
	S_HOLD_LIST,
	S_HOLD_ACTIVE,
	S_ANON_INSERT,
	S_ANON_COUNT,
	S_CTEXT_PUT,
	S_CTEXT_GET,
	S_CONSENT_LIST,
	S_CSTATE_GET,
	S_CSTATE_PUT,
	S_CONSENT_DUE,
	S_CONSENT_DELETE,
	S_CSTATE_DELETE,
	S_UNSUB_DELETE,
	S_UNSUB_PUT,
	S_UNSUB_FIND,
	S_CHOICE_INSERT,
	S_CHOICE_LATEST,
	S_VISIT_INSERT,
	S_VISIT_LIST,
	S_VISIT_DELETE_KIND,
	S_VISIT_TAKE_DUE,
	S_VISIT_DUE_COUNT,
	S_VISIT_PLAN,
	S_VKEY_GET,
	S_VKEY_PUT,
	S_VKEY_DROP_DUE,
	S_TKEY_GET,
	S_TKEY_PUT,
	S_TKEY_DROP_BEFORE,
	S_SUBJ_DELETE_HOLDS,
	S_SUBJ_DELETE_CSTATE,
	S_SUBJ_DELETE_UNSUB,
	S_REQ_INSERT,
	S_REQ_GET,
	S_REQ_UPDATE,
	S_REQ_LIST,
	S_TRANS_INSERT,
	S_TRANS_LIST,
	S_CODE_INSERT,
	S_CODE_LATEST,
	S_CODE_COUNT,
	S_CODE_UPDATE,
	S_REQ_SCOPE_PUT,
	S_REQ_SCOPE_GET,
	S_AUDIT_OUTBOX,
	S_AUDIT_HEAD_PENDING,
	S_PORTAL_SESSION_GET, /* store_portal.c: on every portal page */
	S_COUNT_
};

/* One interned label, cached. */
struct label {
	char *text; /* owned; NULL for an empty slot */
	int64_t id; /* label.id */
};

struct store {
	struct sqlu_conn conn;            /* the connection */
	struct db_stmt *stmt[S_COUNT_];   /* conn's statements, prepared
	                                   lazily, finalised on close */
	int in_tx;                        /* 1 between begin and commit */
	int in_read;                      /* 1 in a read transaction */
	struct label labels[LABEL_CACHE]; /* open-addressed by text hash */
	size_t nlabels;                   /* slots in use */
	const char *by_id[LABEL_CACHE];   /* text of cached label id i, for
	                                     ids below LABEL_CACHE: reading a
	                                     fact names 3 labels */
	char label_text[LABEL_MAX + 1];   /* store_fact text of a label id */
	int log_frames[2];                /* pages in the log of the data
	                                     (0) and the keystore (1) after
	                                     the last commit, with
	                                     store_checkpoint_apart */
};

/* Creates the schema, or brings an older one up to date
 * (store_sqlite_schema.c). */
int store_sqlite_schema_setup(struct db *db, int ks_new, char **errmsg);
/* The schema version of the open main database; 0 if it has none. */
int store_sqlite_schema_version(struct db *db);
/* The schema version this binary writes; a newer store is refused. */
#define STORE_SCHEMA_VERSION 7
/* A store at schema version (> STORE_SCHEMA_VERSION) is refused: DB_ERROR
 * with *errmsg (db_free; errmsg may be NULL) saying so, on both engines
 * (issue 14: migrations refused when the store is newer than the
 * binary). */
int store_schema_newer(int version, char **errmsg);
/* The PostgreSQL engine's schema set-up (store_pg_schema.c): DB_OK, or
 * an error with *errmsg (db_free) saying why. */
int store_pg_schema_setup(struct db *db, char **errmsg);

/* The label table (store_sqlite.c): policy words interned as small integers. */
enum vaern_err store_sqlite_label_find(struct store *st, const char *text,
                                       int create, int64_t *id,
                                       struct vaern_msg *msg);
enum vaern_err store_sqlite_label_id(struct store *st, const char *text,
                                     int64_t *id, struct vaern_msg *msg);
const char *store_sqlite_label_text(struct store *st, int64_t id,
                                    struct vaern_msg *msg);

static inline void
bind_time(struct db_stmt *s, int col, int64_t t)
{
	if (t == STORE_NO_TIME)
		db_bind_null(s, col);
	else
		db_bind_int64(s, col, t);
}

static inline int64_t
column_time(struct db_stmt *s, int col)
{
	if (db_column_type(s, col) == DB_NULL)
		return STORE_NO_TIME;
	return db_column_int64(s, col);
}

/* Copies the text of label id into buf: label_text's own buffer is shared,
 * and a row often names several labels. */
static inline enum vaern_err
label_copy(struct store *st, int64_t id, char buf[LABEL_MAX + 1],
           struct vaern_msg *msg)
{
	const char *t = store_sqlite_label_text(st, id, msg);

	if (t == NULL)
		return VAERN_E_STORE;
	memcpy(buf, t, strlen(t) + 1);
	return VAERN_OK;
}

/* Copies a blob column into buf (size max); returns 0 if it does not fit. */
static inline int
column_copy(struct db_stmt *s, int col, unsigned char *buf, size_t max,
            size_t *len)
{
	const void *p = db_column_blob(s, col);
	size_t n = (size_t)db_column_bytes(s, col);

	*len = 0;
	if (n > max)
		return 0;
	if (n > 0)
		memcpy(buf, p, n);
	*len = n;
	return 1;
}

/* Copies text column col into buf (max + 1 bytes); 0 if it does not fit. */
static inline int
column_text_copy(struct db_stmt *s, int col, char *buf, size_t max)
{
	const char *t = (const char *)db_column_text(s, col);
	size_t n = (size_t)db_column_bytes(s, col);

	if (t == NULL || n > max)
		return 0;
	memcpy(buf, t, n);
	buf[n] = '\0';
	return 1;
}

#endif
