/*
 * store_audit.h -- the rows of the audit trail in SQLite: no hashing, no
 * validation (src/audit does both).
 *
 * The audit table lives in a database file of its own (audit.db), reached
 * through a connection of its own (struct audit_store). The table
 * is append-only by contract: this interface has no update and no delete.
 *
 *   audit(seq INTEGER PRIMARY KEY, at, controller, actor, role, purpose,
 *         action NOT NULL, subject BLOB(16) or NULL, categories,
 *         decision NOT NULL, rule, reason, prev_hash BLOB(32),
 *         hash BLOB(32), policy TEXT or NULL, outbox INTEGER or NULL,
 *         version INTEGER)
 *
 * with a unique index on outbox: an entry moved from the data store's
 * outbox is moved once, however often the move is retried.
 *
 * with an index on (seq >> 9, subject) for the subjects' entries (by runs
 * of 512, so that a commit writes few index pages; store_audit.c) and
 * one on (at) for time ranges (DPO reads, GDPR-32 logging of access).
 */
#ifndef VAERN_STORE_AUDIT_H
#define VAERN_STORE_AUDIT_H

#include "db.h"
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define AUDIT_HASH_BYTES    32 /* BLAKE2b-256 */
#define AUDIT_SUBJECT_BYTES 16 /* a subject's public random id */

struct audit_store;

/*
 * One audit row, by column. Text columns are NUL-terminated, NULL for
 * SQL NULL. Pointers are the caller's on insert; on read they point into
 * the statement and are valid during the callback only.
 */
struct audit_row {
	int64_t seq;                    /* 1, 2, 3, ... in commit order */
	int64_t at;                     /* seconds since the epoch */
	const char *controller;         /* policy id, or NULL */
	const char *actor;              /* actor name, or NULL */
	const char *role;               /* policy role id, or NULL */
	const char *purpose;            /* policy purpose id, or NULL */
	const char *action;             /* never NULL */
	const unsigned char *subject;   /* AUDIT_SUBJECT_BYTES, or NULL */
	const char *categories;         /* comma-separated ids, or NULL */
	int64_t decision;               /* 1 allow, 0 deny */
	const char *rule;               /* the clause that decided, or NULL */
	const char *reason;             /* why, in words, or NULL */
	const unsigned char *prev_hash; /* AUDIT_HASH_BYTES */
	const unsigned char *hash;      /* AUDIT_HASH_BYTES: the entry's MAC
	                                   (its hash in a legacy trail) */
	const char *policy;             /* the policy version, or NULL */
	int64_t version;                /* the encoding its MAC covers
	                                   (AUDIT_ENCODING_*; a row of a
	                                   trail made before the column
	                                   reads 1) */
	int64_t outbox_id;              /* 0: written to the trail directly;
	                                   else the id of the data store's
	                                   outbox row it was moved from (not
	                                   part of the chain) */
	int malformed;                  /* read only: 1 if a column has the
	                                   wrong type or size (tampering);
	                                   the other members are then
	                                   best-effort and must not be
	                                   trusted */
};

/* Binds text t to parameter col of s; NULL as SQL NULL. */
static inline void
audit_bind_text(struct db_stmt *s, int col, const char *t)
{
	if (t == NULL)
		db_bind_null(s, col);
	else
		db_bind_text(s, col, t, -1);
}

/*
 * Binds r's time and entry fields (at, controller, actor, role, purpose,
 * action, subject, categories, decision, rule, reason: 11 values) to s
 * from parameter first on: the trail's insert and the outbox's, which
 * hold the same entry.
 */
static inline void
audit_row_bind_entry(struct db_stmt *s, int first, const struct audit_row *r)
{
	db_bind_int64(s, first, r->at);
	audit_bind_text(s, first + 1, r->controller);
	audit_bind_text(s, first + 2, r->actor);
	audit_bind_text(s, first + 3, r->role);
	audit_bind_text(s, first + 4, r->purpose);
	audit_bind_text(s, first + 5, r->action);
	if (r->subject != NULL)
		db_bind_blob(s, first + 6, r->subject, AUDIT_SUBJECT_BYTES);
	audit_bind_text(s, first + 7, r->categories);
	db_bind_int64(s, first + 8, r->decision);
	audit_bind_text(s, first + 9, r->rule);
	audit_bind_text(s, first + 10, r->reason);
}

/* Which rows a read returns; all bounds at once (AND). */
struct audit_store_filter {
	const unsigned char *subject; /* AUDIT_SUBJECT_BYTES, or NULL: any */
	int64_t from_at;              /* at >= from_at (INT64_MIN: no bound) */
	int64_t to_at;                /* at < to_at (INT64_MAX: no bound) */
	int64_t after_seq;            /* seq > after_seq (0: from the start) */
	int64_t limit;                /* at most this many rows; 0: all */
	const char *controller;       /* only this controller's, or NULL */
};

/*
 * Opens a connection of its own to the SQLite database at path, which
 * must exist (WAL, busy timeout, synchronous=FULL: a commit that returned
 * is on disk). writable=1 creates the audit table and its indexes if they
 * are missing; writable=0 creates nothing, and a database without an
 * audit table reads as an empty trail. Returns VAERN_OK and a store the
 * caller closes with audit_store_close(); VAERN_E_NOTFOUND if there is no
 * file at path; VAERN_E_STORE with msg otherwise.
 */
enum vaern_err audit_store_open(const char *path, int writable,
                                struct audit_store **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/* Closes st (rolls back an open transaction). Accepts NULL. */
void audit_store_close(struct audit_store *st);

/* BEGIN IMMEDIATE: takes the database's write lock (waits up to the busy
 * timeout for the vault or another process to release it). */
enum vaern_err audit_store_begin(struct audit_store *st, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));
enum vaern_err audit_store_commit(struct audit_store *st, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));
/* Rolls back the open transaction, if any. Never fails visibly. */
void audit_store_rollback(struct audit_store *st);

/*
 * Checkpoints leave st's commits (SQLite copies its log into the database
 * in the commit that makes the log longer than 1,000 pages, on the
 * committing thread: 10 to 30 ms the audit writer, and every read waiting
 * for it, stood still). The caller checkpoints with audit_store_checkpoint
 * instead, on this connection or another; audit_store_log_frames says how
 * long st's last commit left the log. Issue 12 point 6.
 */
/* Returns 1, or 0 on an engine that checkpoints on its own (PostgreSQL:
 * nothing to take out, nothing for the caller to copy). apart 0 undoes
 * it (SQLite copies in the commits again). */
int audit_store_checkpoint_apart(struct audit_store *st, int apart)
        __attribute__((nonnull));
/* Pages in the log after st's last commit (0 before the first, or
 * without audit_store_checkpoint_apart). */
int audit_store_log_frames(const struct audit_store *st)
        __attribute__((nonnull));

/*
 * A passive checkpoint: copies what it can of the log into the database
 * (and syncs both) without waiting for any writer or reader. *log and
 * *copied (either may be NULL) get the pages in the log and those copied
 * so far; when they are equal, the next write transaction starts the log
 * over. VAERN_OK also when another checkpoint was running (nothing done:
 * *copied < *log).
 */
enum vaern_err audit_store_checkpoint(struct audit_store *st, int *log,
                                      int *copied, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));
/* A restart checkpoint (db_log_restart): copies the rest of the log and
 * starts it over, waiting at most wait_ms for readers; 1 if it did, 0 if
 * not (try again later). Not in a transaction. */
int audit_store_log_restart(struct audit_store *st, int wait_ms)
        __attribute__((warn_unused_result, nonnull));

/*
 * The chain head: the highest seq and its hash; seq 0 and 32 zero bytes
 * for an empty trail. VAERN_E_STORE if the last row's hash is not 32
 * bytes (the trail was tampered with: `vaern audit verify` says where).
 */
enum vaern_err audit_store_head(struct audit_store *st, int64_t *seq,
                                unsigned char hash[AUDIT_HASH_BYTES],
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/*
 * The seq of the entry moved from outbox row outbox_id into *seq:
 * VAERN_OK, or VAERN_E_NOTFOUND if no entry was (inside the transaction
 * that would move it, so two movers never both move it).
 */
enum vaern_err audit_store_moved(struct audit_store *st, int64_t outbox_id,
                                 int64_t *seq, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/* The highest outbox id ever moved into the trail (0: none). */
enum vaern_err audit_store_moved_max(struct audit_store *st, int64_t *max,
                                     struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Inserts r (inside a transaction). VAERN_E_EXISTS if r->seq is taken. */
enum vaern_err audit_store_insert(struct audit_store *st,
                                  const struct audit_row *r,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * Calls fn for each row that f selects, in seq order, from one read
 * snapshot (rows committed meanwhile are not seen). Stops at the first
 * non-OK from fn and returns it. Rows with the wrong column types are
 * passed with r->malformed set, not skipped.
 */
enum vaern_err
audit_store_foreach(struct audit_store *st, const struct audit_store_filter *f,
                    enum vaern_err (*fn)(void *arg, const struct audit_row *r),
                    void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* ---- the data store's side: the outbox and the head ----------------------
 *
 * DESIGN.md "Storage": a change and its audit entry commit as one unit.
 * The vault writes the entry into audit_outbox inside the change's own
 * transaction (store_audit_outbox_add, store.h); the audit writer moves
 * it into the trail after the commit, and at start-up whatever a crash
 * left there, then deletes it from the outbox. audit_head is the trail's
 * head as last seen (seq, its MAC, where keyed entries start, and a MAC
 * of those three): a trail cut below it, or emptied, is caught by
 * `vaern audit verify` without an anchor. Both tables live in the data
 * store's file (vaern.db); AUDIT_VAULT_SCHEMA_SQL is their one
 * definition, run by the vault's schema and by audit_vault_open.
 */
#define AUDIT_VAULT_SCHEMA_SQL                                                 \
	"CREATE TABLE IF NOT EXISTS audit_outbox("                             \
	" id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"          \
	" controller TEXT, actor TEXT, role TEXT, purpose TEXT,"               \
	" action TEXT NOT NULL, subject BLOB, categories TEXT,"                \
	" decision INTEGER NOT NULL, rule TEXT, reason TEXT, policy TEXT);"    \
	"CREATE TABLE IF NOT EXISTS audit_head("                               \
	" id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL,"        \
	" mac BLOB NOT NULL, keyed_from INTEGER NOT NULL,"                     \
	" tag BLOB NOT NULL);"

/* The seq of the head the data store keeps from the moment its audit key
 * is made until the first keyed writer records the real one (so a head
 * removed later is told from one never made). */
#define AUDIT_HEAD_PENDING (-1)
#define AUDIT_HEAD_PENDING_SQL                                                 \
	"INSERT INTO audit_head(id, seq, mac, keyed_from, tag)"                \
	" VALUES (1, -1, ?1, 0, ?1) ON CONFLICT DO NOTHING" /* ?1: zeros */

/* The head the data store keeps. */
struct audit_head_row {
	int64_t seq;                         /* the last entry seen, 0: none */
	unsigned char mac[AUDIT_HASH_BYTES]; /* its MAC (zeros for none) */
	int64_t keyed_from;                  /* the first keyed entry: those
	                                        below are of a legacy,
	                                        unkeyed trail */
	unsigned char tag[AUDIT_HASH_BYTES]; /* MAC of the three above */
};

struct audit_vault;

/* Opens a connection of its own to the data store at path (which must
 * exist), creating the two tables if missing. */
enum vaern_err audit_vault_open(const char *path, struct audit_vault **out,
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
/* Closes av (rolls back an open transaction). Accepts NULL. */
void audit_vault_close(struct audit_vault *av);
enum vaern_err audit_vault_begin(struct audit_vault *av, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));
/* audit_vault_begin for the settle (outbox rows deleted by id, the head
 * raised only forward), which is safe beside another node's settle and
 * creates: on PostgreSQL the store's lock in shared mode (issue 14). */
enum vaern_err audit_vault_begin_settle(struct audit_vault *av,
                                        struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));
/* BEGIN IMMEDIATE without waiting: *locked 0 (and VAERN_OK) when another
 * connection holds the write lock. For the settle: on PostgreSQL the
 * lock in shared mode, as audit_vault_begin_settle. */
enum vaern_err audit_vault_try_begin(struct audit_vault *av, int *locked,
                                     struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
enum vaern_err audit_vault_commit(struct audit_vault *av, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));
void audit_vault_rollback(struct audit_vault *av) __attribute__((nonnull));

/* The head into *h: VAERN_OK, or VAERN_E_NOTFOUND if none was kept. A
 * stored head of the wrong shape is VAERN_E_STORE (tampering). */
enum vaern_err audit_vault_head_get(struct audit_vault *av,
                                    struct audit_head_row *h,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
/* Keeps h as the first head in place of the pending one; VAERN_OK and
 * nothing done if a real one exists. */
enum vaern_err audit_vault_head_init(struct audit_vault *av,
                                     const struct audit_head_row *h,
                                     struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
/* Moves the head to h->seq (with h->mac and h->tag) if that is further
 * than the head kept: a head never goes back. */
enum vaern_err audit_vault_head_put(struct audit_vault *av,
                                    const struct audit_head_row *h,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Calls fn for the first (at most) limit outbox rows by id, each with
 * r->outbox_id set and no seq, hashes or malformed flag of use. */
enum vaern_err audit_vault_outbox_each(
        struct audit_vault *av, int64_t limit,
        enum vaern_err (*fn)(void *arg, const struct audit_row *r), void *arg,
        struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));
/* Deletes outbox row id (moved); no row is no error. */
enum vaern_err audit_vault_outbox_delete(struct audit_vault *av, int64_t id,
                                         struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));
/* Makes sure the outbox never hands out an id at or below min again (a
 * data store restored from a backup older than the trail). */
enum vaern_err audit_vault_outbox_floor(struct audit_vault *av, int64_t min,
                                        struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

#endif
