/*
 * store.h -- the storage interface: rows in, rows out, no cryptography.
 *
 * The vault (src/vault) encrypts and decrypts; the store only keeps the
 * resulting rows and never sees a personal-data value in clear. This is the
 * seam where a second engine (PostgreSQL, libpq) plugs in beside the
 * embedded SQLite one: every function below is engine-neutral in its
 * contract.
 *
 * Every write happens inside a transaction the caller opens with
 * store_begin() and ends with store_commit() or store_rollback(); a failed
 * call leaves the transaction open for the caller to roll back.
 */
#ifndef VAERN_STORE_H
#define VAERN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define STORE_UID_BYTES       16 /* a subject's public random id */
#define STORE_BLIND_BYTES     16 /* a blind index (keyed BLAKE2b, truncated) */
#define STORE_NO_TIME         INT64_MIN
#define STORE_WRAPPED_MAX     128           /* bytes of a wrapped data key */
#define STORE_KEYSTORE_FILE   "keystore.db" /* beside the database */
#define STORE_IDS_PER_SUBJECT 32 /* identifiers one subject may have */
#define STORE_BLINDS_MAX      (STORE_IDS_PER_SUBJECT * (1 + STORE_BLIND_BYTES))

struct store;

/* A subject row, held by value. */
struct store_subject {
	int64_t rowid;      /* the store's own key */
	int64_t controller; /* controller rowid */
	unsigned char uid[STORE_UID_BYTES];
	unsigned char wrapped_key[STORE_WRAPPED_MAX]; /* the data key, wrapped;
	                                                 kept in the keystore */
	size_t wrapped_len;
	int64_t kek; /* the master key generation it is wrapped under */
	unsigned char blinds[STORE_BLINDS_MAX]; /* the subject's identifier
	                                      index entries: (1 type byte,
	                                      blind) repeated; so erasure finds
	                                      them */
	size_t blinds_len;
	int state;          /* reserved: restriction etc. */
	int64_t created_at; /* seconds since the epoch */
};

/* A fact row. */
struct store_fact {
	int64_t subject;      /* subject rowid */
	int64_t id;           /* 1.. within the subject */
	const char *category; /* policy category id */
	const char *purpose;  /* the purpose it was collected for */
	const char *source;   /* where it came from */
	int64_t collected_at;
	int provided_by_subject; /* 1 if the person gave it (GDPR-20) */
	int64_t expires_at;      /* when retention removes it; STORE_NO_TIME
	                            while no rule's clock runs (an open
	                            relationship, an event not yet
	                            recorded) */
	const char *rule;        /* the deciding retention rule, as
	                            "controller/rule", or NULL */
	const unsigned char *ct; /* nonce || ciphertext || tag */
	size_t ctlen;
};

/* An event row: an anchor of retention (relationship_end, ...). */
struct store_event {
	int64_t subject;
	const char *kind;
	int64_t at;
};

/*
 * Opens (create=1: creates if missing) the SQLite database at path, in WAL
 * mode with secure_delete on. Returns VAERN_OK and a store the caller
 * closes with store_close(), or an error with msg.
 */
enum vaern_err store_open_sqlite(const char *path, int create,
                                 struct store **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/*
 * The keystore (STORE_KEYSTORE_FILE beside the database) is attached to
 * the same connection as "ks": a subject and its wrapped key are written
 * in one transaction. In WAL mode SQLite commits the two files one after
 * the other (the database first): a crash between the two can leave a
 * subject row without a key (not found, as if erased; its rows stay
 * until a restore removes them) or a key without a subject row (dead:
 * dropped before every keystore backup and by a restore, so an erasure
 * cut by a crash does not live on in a backup). A subject whose key is
 * missing is never found.
 */
struct db;
/* The connection, for the keys module's keystore statements (src/keys). */
struct db *store_sqlite_db(struct store *st);

/*
 * A lock across every node on the same database (issue 14: the retention
 * sweep runs on one node at a time). On PostgreSQL a session advisory
 * lock, taken if free (*got 1) or not (*got 0, at once); on SQLite, where
 * one machine holds the data and the sweep's own write transactions
 * serialise it, always *got 1. Released by store_lock_release or when
 * the connection closes.
 */
#define STORE_LOCK_SWEEP 0x7661657210
enum vaern_err store_lock_try(struct store *st, int64_t key, int *got,
                              struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));
void store_lock_release(struct store *st, int64_t key) __attribute__((nonnull));

/* Closes st (rolls back an open transaction). Accepts NULL. */
void store_close(struct store *st);

enum vaern_err store_begin(struct store *st, struct vaern_msg *msg);
/*
 * store_begin for writers that may run beside each other on several
 * nodes (issue 14: the HTTP creates): on SQLite the same write lock; on
 * PostgreSQL the store's lock in shared mode, which every store_begin
 * still excludes. WARNING: only for writes that are safe against another
 * node's at the same time (db.h, DB_WRITE_SHARED): new rows of their
 * own, INSERT ... ON CONFLICT, a unique constraint that decides.
 */
enum vaern_err store_begin_shared(struct store *st, struct vaern_msg *msg);
enum vaern_err store_commit(struct store *st, struct vaern_msg *msg);
/* Rolls back the open transaction, if any. Never fails visibly. */
void store_rollback(struct store *st);

/*
 * A read transaction: the statements up to store_read_end() read one
 * snapshot and share its locks, instead of taking them each. It is ended
 * by store_read_end(), store_begin() (a write sees the latest data),
 * store_checkpoint() and store_close(). A no-op inside a transaction.
 * Never hold one across a wait: it keeps the log from being checkpointed.
 */
enum vaern_err store_read_begin(struct store *st, struct vaern_msg *msg);
void store_read_end(struct store *st);

/*
 * Copies every committed page from the write-ahead log into the database
 * and truncates the log, so a page that held erased data survives in
 * neither file (GDPR-17). Outside a transaction only.
 */
enum vaern_err store_checkpoint(struct store *st, struct vaern_msg *msg);

/*
 * Savepoints inside the open transaction: a failure after store_savepoint
 * is undone by store_savepoint_rollback without losing the rest of the
 * transaction (one subject of a batch). Each savepoint ends with
 * store_savepoint_release or store_savepoint_rollback.
 */
enum vaern_err store_savepoint(struct store *st, struct vaern_msg *msg);
enum vaern_err store_savepoint_release(struct store *st, struct vaern_msg *msg);
void store_savepoint_rollback(struct store *st);

/* 1 if st's last failed statement lost to another transaction in a way
 * that trying again may mend: a deadlock, a serialisation failure, a lock
 * wait that timed out (DB_EK_BUSY). Read it right after the failure,
 * before another statement (a rollback) runs. */
int store_busy(struct store *st) __attribute__((nonnull));

/* Reads through a shared mmap of up to bytes of the file (0: off), for
 * many connections reading one database (the server's workers). */
void store_set_mmap(struct store *st, long long bytes);

/*
 * Sets after how many pages of write-ahead log a commit of this
 * connection copies the log into the database (0: never; SQLite's
 * default is 1000). Bulk work that ends with store_checkpoint() turns it
 * off meanwhile, so each page is copied once, not once per transaction.
 */
#define STORE_AUTOCHECKPOINT_DEFAULT 1000
void store_set_autocheckpoint(struct store *st, int pages);

/*
 * Checkpoints leave st's commits (issue 12 point 6): SQLite copied the
 * log into the database (data and keystore) in the commit that made it
 * longer than 1,000 pages, on the committing thread, 10 to 380 ms in which
 * the create writer stood still. The caller copies with
 * store_checkpoint_passive instead, on this connection or another;
 * store_log_frames says how long st's last commit left the longer of the
 * two logs (0 before it). store_set_autocheckpoint undoes it.
 */
/* Returns 1, or 0 on an engine that checkpoints on its own (PostgreSQL:
 * nothing done). apart 0 undoes it (SQLite copies in the commits). */
int store_checkpoint_apart(struct store *st, int apart)
        __attribute__((nonnull));
int store_log_frames(const struct store *st) __attribute__((nonnull));
/* A passive checkpoint of the data and the keystore: copies what it can
 * without waiting for a writer or a reader. Ends a read snapshot; not in
 * a transaction. VAERN_OK also when another checkpoint ran. */
enum vaern_err store_checkpoint_passive(struct store *st, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));
/* A restart checkpoint of the data and the keystore (db_log_restart):
 * 1 if both logs were started over, 0 if not (try again later). Ends a
 * read snapshot; not in a transaction. */
int store_log_restart(struct store *st, int wait_ms)
        __attribute__((warn_unused_result, nonnull));

/* Sets the page cache size in KiB (performance knob for bulk work). */
void store_set_cache_kib(struct store *st, long kib);

/*
 * Controllers. store_controller_put inserts or replaces the policy of
 * controller name and sets *rowid (stable across updates).
 * store_controller_get copies the policy text into a malloc'ed,
 * NUL-terminated buffer *policy_text the caller frees; VAERN_E_NOTFOUND if
 * the controller is unknown.
 */
enum vaern_err store_controller_put(struct store *st, const char *name,
                                    const char *policy_text, size_t len,
                                    int64_t loaded_at, int64_t *rowid,
                                    struct vaern_msg *msg);
enum vaern_err store_controller_get(struct store *st, const char *name,
                                    int64_t *rowid, char **policy_text,
                                    size_t *len, struct vaern_msg *msg);
/*
 * The policy generation: a counter store_controller_put raises in its
 * own transaction, so a change of it says some controller's policy was
 * (re)loaded. 0 before the first load that counted.
 */
enum vaern_err store_policy_generation(struct store *st, int64_t *out,
                                       struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
/*
 * Policy versions (issue 15 point 3): every policy text loaded, per
 * controller, named by its digest (hex, as vault_policy_version).
 * store_policy_version_put records text as name's newest version unless
 * the newest already has that digest; old_digest, when not NULL, is the
 * digest of the text in force now, recorded first if name has no
 * versions yet (a data directory from before versions were kept). Call it
 * in the transaction of store_controller_put.
 * store_policy_version_foreach calls fn for each, oldest first.
 * store_policy_version_get copies into *policy_text (malloc'ed, the
 * caller's) the newest version whose digest starts with prefix or, with
 * prefix NULL, the newest loaded at or before at; digest gets its digest.
 * VAERN_E_NOTFOUND if there is none, VAERN_E_INVALID if prefix names two.
 */
#define STORE_DIGEST_HEX 65 /* hex digits of a digest and the NUL */
enum vaern_err
store_policy_version_put(struct store *st, const char *name,
                         const char *old_digest, const char *digest,
                         const char *policy_text, size_t len, int64_t loaded_at,
                         struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 4, 5)));
enum vaern_err store_policy_version_foreach(
        struct store *st, const char *name,
        enum vaern_err (*fn)(void *arg, const char *digest, int64_t loaded_at,
                             const char *policy_text, size_t len),
        void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));
enum vaern_err
store_policy_version_get(struct store *st, const char *name, const char *prefix,
                         int64_t at, char digest[STORE_DIGEST_HEX],
                         char **policy_text, size_t *len, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 5, 6, 7)));

/* Calls fn for each controller, by name; stops at the first non-OK. */
enum vaern_err store_controller_foreach(struct store *st,
                                        enum vaern_err (*fn)(void *arg,
                                                             const char *name,
                                                             int64_t loaded_at),
                                        void *arg, struct vaern_msg *msg);

/* Inserts s (s->rowid is set). VAERN_E_EXISTS if the uid is taken. */
enum vaern_err store_subject_insert(struct store *st, struct store_subject *s,
                                    struct vaern_msg *msg);
/* Finds the subject with uid in controller (another controller's subject
 * is VAERN_E_NOTFOUND). */
enum vaern_err store_subject_by_uid(struct store *st, int64_t controller,
                                    const unsigned char *uid,
                                    struct store_subject *s,
                                    struct vaern_msg *msg);
enum vaern_err store_subject_by_rowid(struct store *st, int64_t rowid,
                                      struct store_subject *s,
                                      struct vaern_msg *msg);
enum vaern_err store_subject_set_blinds(struct store *st, int64_t rowid,
                                        const unsigned char *blinds, size_t len,
                                        struct vaern_msg *msg);
/* Deletes the subject row, its facts and its events. */
enum vaern_err store_subject_delete(struct store *st, int64_t rowid,
                                    struct vaern_msg *msg);

/* Identifiers: unique per (controller, type, blind). */
enum vaern_err store_identifier_insert(struct store *st, int64_t controller,
                                       int type, const unsigned char *blind,
                                       int64_t subject, struct vaern_msg *msg);
enum vaern_err store_identifier_find(struct store *st, int64_t controller,
                                     int type, const unsigned char *blind,
                                     int64_t *subject, struct vaern_msg *msg);
/* The subject's uid in one lookup (the hot path of "find by identifier"). */
enum vaern_err store_identifier_find_uid(struct store *st, int64_t controller,
                                         int type, const unsigned char *blind,
                                         unsigned char *uid,
                                         struct vaern_msg *msg);
/* SHOP-PAY-1: whether the card-expiry warning marked mark (a keyed hash
 * of the card and the payment, STORE_BLIND_BYTES) was sent to subject
 * (*sent 1), and recording that it was. Rows go with the subject. */
enum vaern_err store_card_warning_sent(struct store *st, int64_t subject,
                                       const unsigned char *mark, int *sent,
                                       struct vaern_msg *msg)
        __attribute__((warn_unused_result));
enum vaern_err store_card_warning_put(struct store *st, int64_t subject,
                                      const unsigned char *mark, int64_t at,
                                      struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* Undoes store_card_warning_put (the message could not be sent). */
enum vaern_err store_card_warning_delete(struct store *st, int64_t subject,
                                         const unsigned char *mark,
                                         struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* Deletes every identifier row of controller (the index rebuild of
 * schema 5, inside its transaction). */
enum vaern_err store_identifier_clear(struct store *st, int64_t controller,
                                      struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* The rowids of controller's subjects, in a malloc'ed *ids (the caller
 * frees it), *n of them. */
enum vaern_err store_subject_rowids(struct store *st, int64_t controller,
                                    int64_t **ids, size_t *n,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result));
enum vaern_err store_identifier_delete(struct store *st, int64_t controller,
                                       int type, const unsigned char *blind,
                                       struct vaern_msg *msg);

/* Facts. */
enum vaern_err store_fact_insert(struct store *st, const struct store_fact *f,
                                 struct vaern_msg *msg);
/* The most facts store_facts_insert writes in one statement. */
#define STORE_FACT_ROWS_MAX 8
/* Inserts the n facts of f in one statement (1 <= n <=
 * STORE_FACT_ROWS_MAX; issue 14: a create's statements are most of
 * PostgreSQL's CPU per create). All or none. */
enum vaern_err store_facts_insert(struct store *st, const struct store_fact *f,
                                  size_t n, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
/* The highest fact id of subject, 0 if it has none. */
enum vaern_err store_fact_max_id(struct store *st, int64_t subject,
                                 int64_t *max, struct vaern_msg *msg);
enum vaern_err store_fact_update(struct store *st, int64_t subject, int64_t id,
                                 const unsigned char *ct, size_t ctlen,
                                 int64_t collected_at, const char *source,
                                 struct vaern_msg *msg);
/*
 * Calls fn for each fact of subject in id order; the fact's pointers are
 * valid during the call only. Stops at the first non-OK from fn and
 * returns it. VAERN_OK if the subject has no facts.
 */
enum vaern_err
store_fact_foreach(struct store *st, int64_t subject,
                   enum vaern_err (*fn)(void *arg, const struct store_fact *f),
                   void *arg, struct vaern_msg *msg);
/* Reads one fact; VAERN_E_NOTFOUND if absent. Pointers as in foreach. */
enum vaern_err store_fact_get(struct store *st, int64_t subject, int64_t id,
                              enum vaern_err (*fn)(void *arg,
                                                   const struct store_fact *f),
                              void *arg, struct vaern_msg *msg);

/* Events. */
enum vaern_err store_event_insert(struct store *st, const struct store_event *e,
                                  struct vaern_msg *msg);
enum vaern_err store_event_foreach(
        struct store *st, int64_t subject,
        enum vaern_err (*fn)(void *arg, const struct store_event *e), void *arg,
        struct vaern_msg *msg);

/* A consent row (GDPR-7): the full ledger arrives with the consent issue. */
struct store_consent {
	int64_t subject;
	const char *purpose;
	int64_t given_at;
	int64_t withdrawn_at;           /* STORE_NO_TIME while valid */
	const char *source;             /* web_form, cookie_banner, ... */
	const unsigned char *text_hash; /* SHA-256 of the text shown, or NULL */
};

/* Appends a consent record (a new sequence number for subject+purpose). */
enum vaern_err store_consent_insert(struct store *st,
                                    const struct store_consent *c,
                                    struct vaern_msg *msg);
/* Sets *valid to 1 if subject's latest consent to purpose is not withdrawn. */
enum vaern_err store_consent_valid(struct store *st, int64_t subject,
                                   const char *purpose, int *valid,
                                   struct vaern_msg *msg);

/*
 * The meta table: small named values (schema version, key check).
 * store_meta_get copies the value into buf (size bufsz, NUL-terminated);
 * VAERN_E_NOTFOUND if unset.
 */
enum vaern_err store_meta_get(struct store *st, const char *key, char *buf,
                              size_t bufsz, struct vaern_msg *msg);
enum vaern_err store_meta_put(struct store *st, const char *key,
                              const char *value, struct vaern_msg *msg);

/*
 * Keeps audit entry r (its at and entry fields; no seq, no hashes) in the
 * audit outbox, inside the caller's transaction, so the change and its
 * entry commit together (DESIGN.md "Storage"); *id gets the row's id, which
 * only grows. The audit writer moves it into the trail (store_audit.h).
 */
struct audit_row;
enum vaern_err store_audit_outbox_add(struct store *st,
                                      const struct audit_row *r, int64_t *id,
                                      struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Records that the trail's head is to come (AUDIT_HEAD_PENDING,
 * store_audit.h), in the transaction that makes the audit key. */
enum vaern_err store_audit_head_pending(struct store *st, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/* Subject state bits (struct store_subject.state). */
#define STORE_STATE_RESTRICTED         0x1 /* GDPR-18 */
#define STORE_STATE_OBJECTED_MARKETING 0x2 /* GDPR-21 */
#define STORE_STATE_ERASED                                                     \
	0x4 /* GDPR-17: erased; what is left                                   \
	       is kept by a legal obligation                                   \
	       only, until its date */

/* Sets the subject's state bits. */
enum vaern_err store_subject_set_state(struct store *st, int64_t rowid,
                                       int state, struct vaern_msg *msg);

/* A prior agreement with the person to disclose to a recipient
 * (CEK-SHARE-1), appended; the latest record of a recipient decides. */
enum vaern_err store_agreement_insert(struct store *st, int64_t subject,
                                      const char *recipient, int64_t at,
                                      int withdrawn, struct vaern_msg *msg);
enum vaern_err store_agreement_valid(struct store *st, int64_t subject,
                                     const char *recipient, int *valid,
                                     struct vaern_msg *msg);

/* ---- retention (issue 4) ------------------------------------------ */

/* Sets a fact's expiry and deciding rule ("controller/rule" or NULL). */
enum vaern_err store_fact_set_expiry(struct store *st, int64_t subject,
                                     int64_t id, int64_t expires_at,
                                     const char *rule, struct vaern_msg *msg);
/* Deletes one fact; VAERN_E_NOTFOUND if absent. */
enum vaern_err store_fact_delete(struct store *st, int64_t subject, int64_t id,
                                 struct vaern_msg *msg);

/* A fact that is due, by position in the due order. */
struct store_due {
	int64_t expires_at;
	int64_t subject;
	int64_t id;
	int64_t rule; /* label id (store_label_text), 0 if none */
};

/*
 * Fills out (up to max) with facts due at now (expires_at <= now), in
 * (expires_at, rule, subject, id) order -- the order of the due index, a
 * rule of 0 (none) first within its day -- starting after *after (NULL:
 * from the start; else the last row of the previous page); *n gets the
 * count. Each page costs its own rows only, so paging over facts that
 * stay due (held) is linear.
 */
enum vaern_err store_fact_due(struct store *st, int64_t now,
                              const struct store_due *after,
                              struct store_due *out, size_t max, size_t *n,
                              struct vaern_msg *msg);
/* A fact's key and retention columns, without its value. */
struct store_fact_key {
	int64_t id;
	int64_t category;   /* label id */
	int64_t rule;       /* label id, 0 if none */
	int64_t expires_at; /* STORE_NO_TIME while no clock runs */
};
/* Calls fn for each fact of subject in id order (no ciphertext read);
 * stops at the first non-OK from fn and returns it. */
enum vaern_err store_fact_key_foreach(
        struct store *st, int64_t subject,
        enum vaern_err (*fn)(void *arg, const struct store_fact_key *k),
        void *arg, struct vaern_msg *msg);
/* Deletes every fact of subject due at now; *deleted gets how many. */
enum vaern_err store_fact_delete_due(struct store *st, int64_t subject,
                                     int64_t now, int64_t *deleted,
                                     struct vaern_msg *msg);
/* The number of facts due at now, from the due index alone. */
enum vaern_err store_fact_due_count(struct store *st, int64_t now,
                                    int64_t *count, struct vaern_msg *msg);

/* Calls fn once per (rule, expires_at) with the number of facts, in
 * expires_at order; expires_at STORE_NO_TIME first (waiting). */
enum vaern_err store_fact_plan(struct store *st,
                               enum vaern_err (*fn)(void *arg, int64_t rule,
                                                    int64_t expires_at,
                                                    int64_t count),
                               void *arg, struct vaern_msg *msg);

/* Calls fn for each subject whose processing is restricted (GDPR-18; not
 * erased), in id order, through a partial index: few rows. */
enum vaern_err store_subject_restricted_foreach(
        struct store *st, enum vaern_err (*fn)(void *arg, int64_t subject),
        void *arg, struct vaern_msg *msg);

/* Calls fn once per rule with the number of facts of subjects whose
 * processing is restricted (GDPR-18; not erased), which a sweep keeps. */
enum vaern_err store_fact_plan_restricted(struct store *st,
                                          enum vaern_err (*fn)(void *arg,
                                                               int64_t rule,
                                                               int64_t count),
                                          void *arg, struct vaern_msg *msg);

/* The text of a label id into buf (size LABEL bytes + 1). */
#define STORE_LABEL_MAX 128
enum vaern_err store_label_text(struct store *st, int64_t id,
                                char buf[STORE_LABEL_MAX + 1],
                                struct vaern_msg *msg);
/* The id of label text, made if missing. */
enum vaern_err store_label_id(struct store *st, const char *text, int64_t *id,
                              struct vaern_msg *msg);

/*
 * Sets *remains to 1 if subject still has a fact, a consent in force (the
 * latest record of a purpose is a give: its ledger is kept while valid,
 * TEL-MKT-2), or consent records kept on their own after a withdrawal
 * (consent_state.expires_at after now); 0 if nothing of it is left and
 * it may be crypto-shredded.
 */
enum vaern_err store_subject_remains(struct store *st, int64_t subject,
                                     int64_t now, int *remains,
                                     struct vaern_msg *msg);

/* A legal hold (CEK-HOLD-1). */
struct store_hold {
	int64_t id;
	int64_t subject;
	const char *category; /* NULL: the whole subject */
	const char *reason;
	int64_t review_at; /* STORE_NO_TIME if none */
	int64_t placed_at;
	const char *placed_by;
	int64_t lifted_at; /* STORE_NO_TIME while in force */
};
enum vaern_err store_hold_insert(struct store *st, struct store_hold *h,
                                 struct vaern_msg *msg);
/* Lifts hold id of subject; VAERN_E_NOTFOUND if none is in force. */
enum vaern_err store_hold_lift(struct store *st, int64_t subject, int64_t id,
                               int64_t at, struct vaern_msg *msg);
/* Calls fn for each hold of subject (subject 0: every hold in force). */
enum vaern_err
store_hold_foreach(struct store *st, int64_t subject,
                   enum vaern_err (*fn)(void *arg, const struct store_hold *h),
                   void *arg, struct vaern_msg *msg);

/* Keeps an anonymised record (JSON text of generalised values). */
enum vaern_err store_anon_insert(struct store *st, int64_t controller,
                                 const char *rule, int64_t at, const char *data,
                                 struct vaern_msg *msg);
enum vaern_err store_anon_count(struct store *st, int64_t controller,
                                int64_t *count, struct vaern_msg *msg);

/* ---- the consent ledger (GDPR-7, TEL-MKT-2) -------------------------- */

/* Keeps a consent text once, under its SHA-256. */
enum vaern_err store_consent_text_put(struct store *st,
                                      const unsigned char hash[32],
                                      const char *text, struct vaern_msg *msg);
/* Copies the text of hash into a malloc'ed string *text. */
enum vaern_err store_consent_text_get(struct store *st,
                                      const unsigned char hash[32], char **text,
                                      struct vaern_msg *msg);

/* One record of the ledger, as read back. */
struct store_consent_rec {
	const char *purpose;
	int64_t seq;
	int64_t at;
	int withdrawn;
	const char *source;
	const unsigned char *text_hash; /* 32 bytes, or NULL */
};
enum vaern_err store_consent_foreach(
        struct store *st, int64_t subject,
        enum vaern_err (*fn)(void *arg, const struct store_consent_rec *r),
        void *arg, struct vaern_msg *msg);

/* The consent's state: last use and when its records go. */
struct store_consent_state {
	int64_t last_used;  /* STORE_NO_TIME if never used */
	int64_t expires_at; /* STORE_NO_TIME: with the subject */
};
enum vaern_err store_consent_state_get(struct store *st, int64_t subject,
                                       const char *purpose,
                                       struct store_consent_state *cs,
                                       struct vaern_msg *msg);
enum vaern_err store_consent_state_put(struct store *st, int64_t subject,
                                       const char *purpose,
                                       const struct store_consent_state *cs,
                                       struct vaern_msg *msg);
/* Up to max (subject, purpose label) pairs whose records are due. */
enum vaern_err store_consent_due(struct store *st, int64_t now,
                                 int64_t *subjects, int64_t *purposes,
                                 size_t max, size_t *n, struct vaern_msg *msg);
/* Deletes subject's ledger for purpose (label id), its state and its
 * unsubscribe tokens. */
enum vaern_err store_consent_delete(struct store *st, int64_t subject,
                                    int64_t purpose, struct vaern_msg *msg);

/* Unsubscribe tokens (SHOP-MKT-1, AOPT-MKT-1): only their hash. */
enum vaern_err store_unsubscribe_put(struct store *st,
                                     const unsigned char hash[32],
                                     int64_t subject, const char *purpose,
                                     struct vaern_msg *msg);
/* Finds a token's subject and purpose (copied into purpose, size
 * STORE_LABEL_MAX + 1); VAERN_E_NOTFOUND if unknown. */
enum vaern_err store_unsubscribe_find(struct store *st,
                                      const unsigned char hash[32],
                                      int64_t *subject,
                                      char purpose[STORE_LABEL_MAX + 1],
                                      struct vaern_msg *msg);

/* Cookie choices of a visitor (AURA-COOKIE-1, SHOP-MKT-2), appended. */
struct store_choice {
	int64_t at;
	int statistics;
	int marketing;
	const char *source; /* "banner", "gpc", ... */
};
enum vaern_err store_choice_insert(struct store *st, int64_t controller,
                                   const unsigned char *visitor,
                                   const struct store_choice *c,
                                   struct vaern_msg *msg);
/* The latest choice; VAERN_E_NOTFOUND if the visitor never chose. The
 * source is copied into source (STORE_LABEL_MAX + 1). */
enum vaern_err store_choice_latest(struct store *st, int64_t controller,
                                   const unsigned char *visitor,
                                   struct store_choice *c,
                                   char source[STORE_LABEL_MAX + 1],
                                   struct vaern_msg *msg);

/*
 * Data collected automatically about a visitor (AURA-COOKIE-1,
 * SHOP-MKT-2): no subject, found by the visitor's blind index. The
 * payload is sealed by the vault under the data key of the visit's expiry
 * day (store_visit_key_*); the store sees ciphertext only.
 */
#define STORE_VISIT_STATISTICS 1 /* a visit: statistics cookies */
#define STORE_VISIT_MARKETING  2 /* a pixel: marketing cookies */

struct store_visit {
	int64_t id;                   /* the store's key (read back only) */
	int64_t controller;           /* controller rowid */
	const unsigned char *visitor; /* blind index, STORE_BLIND_BYTES */
	int kind;                     /* STORE_VISIT_* */
	int64_t at;                   /* when it was collected */
	int64_t expires_at;      /* midnight UTC of its due day (AURA-RET-1) */
	const char *rule;        /* the deciding rule, "controller/rule" */
	const unsigned char *ct; /* nonce || ciphertext || tag */
	size_t ctlen;
};

enum vaern_err store_visit_insert(struct store *st, const struct store_visit *v,
                                  struct vaern_msg *msg);
/* Calls fn for each visit of visitor in controller, by time; the
 * pointers are valid during the call only. Stops at the first non-OK. */
enum vaern_err store_visit_foreach(
        struct store *st, int64_t controller, const unsigned char *visitor,
        enum vaern_err (*fn)(void *arg, const struct store_visit *v), void *arg,
        struct vaern_msg *msg);
/* Deletes the visitor's visits of kind; *deleted gets how many. */
enum vaern_err store_visit_delete(struct store *st, int64_t controller,
                                  const unsigned char *visitor, int kind,
                                  int64_t *deleted, struct vaern_msg *msg);
/* Deletes up to max visits due at now (expires_at <= now), in due order,
 * calling fn(arg, rule label id) for each; *n gets how many. */
enum vaern_err store_visit_take_due(struct store *st, int64_t now, size_t max,
                                    void (*fn)(void *arg, int64_t rule),
                                    void *arg, size_t *n,
                                    struct vaern_msg *msg);
/* Calls fn once per rule with the number of visits due at now
 * (expires_at is STORE_NO_TIME). */
enum vaern_err
store_visit_due_count(struct store *st, int64_t now,
                      enum vaern_err (*fn)(void *arg, int64_t rule,
                                           int64_t expires_at, int64_t count),
                      void *arg, struct vaern_msg *msg);
/* Calls fn once per (rule, expires_at) with the number of visits, in
 * expires_at order. */
enum vaern_err store_visit_plan(struct store *st,
                                enum vaern_err (*fn)(void *arg, int64_t rule,
                                                     int64_t expires_at,
                                                     int64_t count),
                                void *arg, struct vaern_msg *msg);
/* The wrapped data key of controller's visits due at expires_at, copied
 * into wrapped (*len bytes), and the master key generation it is wrapped
 * under (*kek); VAERN_E_NOTFOUND if none was made. In the keystore. */
enum vaern_err store_visit_key_get(struct store *st, int64_t controller,
                                   int64_t expires_at,
                                   unsigned char wrapped[STORE_WRAPPED_MAX],
                                   size_t *len, int64_t *kek,
                                   struct vaern_msg *msg);
/* Keeps a new wrapped day key (VAERN_E_EXISTS if the day has one). */
enum vaern_err store_visit_key_put(struct store *st, int64_t controller,
                                   int64_t expires_at,
                                   const unsigned char *wrapped, size_t len,
                                   int64_t kek, struct vaern_msg *msg);
/* Deletes the day keys due at now whose visits are all gone (the
 * crypto-shredding of swept visit data); *dropped gets how many. */
enum vaern_err store_visit_key_drop_due(struct store *st, int64_t now,
                                        int64_t *dropped,
                                        struct vaern_msg *msg);

/*
 * The wrapped data key of one day of controller's traffic store (issue
 * 18; day: days since the epoch), and the master key generation it is
 * wrapped under (*kek); VAERN_E_NOTFOUND if the day has none. In the
 * keystore.
 */
enum vaern_err
store_traffic_key_get(struct store *st, int64_t controller, int64_t day,
                      unsigned char wrapped[STORE_WRAPPED_MAX], size_t *len,
                      int64_t *kek, struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* Keeps a new wrapped day key (VAERN_E_EXISTS if the day has one). */
enum vaern_err store_traffic_key_put(struct store *st, int64_t controller,
                                     int64_t day, const unsigned char *wrapped,
                                     size_t len, int64_t kek,
                                     struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* WARNING: crypto-erases. Deletes the keys of controller's days before
 * day (TEL-LOG-1); *dropped gets how many. */
enum vaern_err
store_traffic_key_drop_before(struct store *st, int64_t controller, int64_t day,
                              int64_t *dropped, struct vaern_msg *msg)
        __attribute__((warn_unused_result));

#define STORE_NAME_MAX     64 /* bytes of an actor name or role */
#define STORE_TOKEN_ID_HEX 16 /* hex digits of a token's public id */

/* An actor: who calls the API, in which role, with which token. */
struct store_actor {
	int64_t id;
	int64_t controller;
	char name[STORE_NAME_MAX + 1];
	char role[STORE_NAME_MAX + 1];
	char token_id[STORE_TOKEN_ID_HEX + 1]; /* public part of the token */
	unsigned char token_hash[32]; /* BLAKE2b of the token's secret part;
	                                 the secret itself is never stored */
	int64_t created_at;
	int64_t revoked_at; /* STORE_NO_TIME while valid */
};

/* Inserts a (VAERN_E_EXISTS if the name is taken in the controller). */
enum vaern_err store_actor_insert(struct store *st, struct store_actor *a,
                                  struct vaern_msg *msg);
enum vaern_err store_actor_by_token_id(struct store *st, const char *token_id,
                                       struct store_actor *a,
                                       struct vaern_msg *msg);
/* Sets revoked_at of the named actor; VAERN_E_NOTFOUND if none is valid. */
enum vaern_err store_actor_revoke(struct store *st, int64_t controller,
                                  const char *name, int64_t at,
                                  struct vaern_msg *msg);
enum vaern_err store_actor_foreach(
        struct store *st, int64_t controller,
        enum vaern_err (*fn)(void *arg, const struct store_actor *a), void *arg,
        struct vaern_msg *msg);

/* ---- rights requests (issue 5) -------------------------------------- */

#define STORE_REQUEST_ID_LEN 36 /* a UUID in text, NUL excluded */
#define STORE_WORD_MAX       32 /* a type, status, channel or method */
#define STORE_TEXT_MAX                                                         \
	1024 /* a reason or an attestation as stored:                          \
	       sealed under the person's key (the                              \
	       vault's VLT_TEXT_SEALED_MAX) */

/* A rights request, held by value. Texts are "" when unset. */
struct store_request {
	int64_t rowid;      /* the store's own key */
	int64_t controller; /* controller rowid (AURA-RIGHTS-1) */
	char id[STORE_REQUEST_ID_LEN + 1]; /* its public id */
	char type[STORE_WORD_MAX + 1];     /* "access", ... */
	unsigned char subject[STORE_UID_BYTES];
	char channel[STORE_WORD_MAX + 1]; /* how it arrived */
	int64_t received_at;
	long due;            /* days since the epoch: the deadline in force */
	int extended_months; /* 0 if not extended */
	char extension_reason[STORE_TEXT_MAX + 1];
	int64_t extended_at;             /* STORE_NO_TIME if not extended */
	char status[STORE_WORD_MAX + 1]; /* "received", ... */
	char status_reason[STORE_TEXT_MAX + 1]; /* why refused, ... */
	int64_t verified_at;                    /* STORE_NO_TIME until then */
	char verified_by[STORE_NAME_MAX + 1];   /* the actor */
	char verify_method[STORE_WORD_MAX + 1]; /* "code", "attestation" */
	char attestation[STORE_TEXT_MAX + 1];   /* how staff verified */
	char created_by[STORE_NAME_MAX + 1];
	int64_t updated_at;
};

/* The categories a request concerns (AURA-RIGHTS-1): category ids,
 * comma-separated, at most STORE_SCOPE_MAX bytes. put: once, at its
 * insert. get: VAERN_E_NOTFOUND when the request names none (all). */
#define STORE_SCOPE_MAX 4096
enum vaern_err store_request_scope_put(struct store *st, int64_t request,
                                       const char *categories,
                                       struct vaern_msg *msg)
        __attribute__((warn_unused_result));
enum vaern_err store_request_scope_get(struct store *st, int64_t request,
                                       char *categories, size_t size,
                                       struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* Inserts r (its id, type, subject, channel, received_at, due, status,
 * created_by, updated_at); sets r->rowid. VAERN_E_EXISTS if the id is
 * taken. */
enum vaern_err store_request_insert(struct store *st, struct store_request *r,
                                    struct vaern_msg *msg);
/* The request id of controller; another controller's is
 * VAERN_E_NOTFOUND. */
enum vaern_err store_request_get(struct store *st, int64_t controller,
                                 const char *id, struct store_request *r,
                                 struct vaern_msg *msg);
/* Writes r's changeable fields (due, extension, status, verification,
 * updated_at) to row r->rowid. */
enum vaern_err store_request_update(struct store *st,
                                    const struct store_request *r,
                                    struct vaern_msg *msg);
/* Calls fn for each request of controller due on or before due_by (days),
 * open ones only if open_only, by due day. */
enum vaern_err store_request_foreach(
        struct store *st, int64_t controller, long due_by, int open_only,
        enum vaern_err (*fn)(void *arg, const struct store_request *r),
        void *arg, struct vaern_msg *msg);

/* A status change of a request. */
struct store_transition {
	int64_t seq;
	int64_t at;
	const char *from; /* NULL for the first */
	const char *to;
	const char *actor;
	const char *reason; /* NULL if none */
};
enum vaern_err store_transition_insert(struct store *st, int64_t request,
                                       const struct store_transition *t,
                                       struct vaern_msg *msg);
enum vaern_err store_transition_foreach(
        struct store *st, int64_t request,
        enum vaern_err (*fn)(void *arg, const struct store_transition *t),
        void *arg, struct vaern_msg *msg);

/* A one-time verification code: only its keyed hash. */
struct store_code {
	int64_t seq;
	unsigned char hash[32];
	char contact[STORE_WORD_MAX + 1]; /* "email", "phone" */
	int64_t created_at;
	int64_t expires_at;
	int attempts;
	int64_t used_at; /* STORE_NO_TIME while unused */
};
/* Appends c (c->seq is set). */
enum vaern_err store_code_insert(struct store *st, int64_t request,
                                 struct store_code *c, struct vaern_msg *msg);
/* The request's latest code; VAERN_E_NOTFOUND if none was sent. */
enum vaern_err store_code_latest(struct store *st, int64_t request,
                                 struct store_code *c, struct vaern_msg *msg);
enum vaern_err store_code_count(struct store *st, int64_t request, int64_t *n,
                                struct vaern_msg *msg);
enum vaern_err store_code_update(struct store *st, int64_t request,
                                 const struct store_code *c,
                                 struct vaern_msg *msg);

/* Counts subjects of a controller (for summaries and tests). */
enum vaern_err store_subject_count(struct store *st, int64_t controller,
                                   int64_t *count, struct vaern_msg *msg);

#endif
