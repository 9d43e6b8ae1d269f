/*
 * store_audit.h -- the rows of the audit trail in SQLite: no hashing, no
 * validation (src/audit does both).
 *
 * The audit table lives in the same database file as the vault but is
 * reached through a connection of its own (struct audit_store), so the
 * audit writer thread never shares a connection with the vault. The table
 * is append-only by contract: this interface has no update and no delete.
 *
 *   audit(seq INTEGER PRIMARY KEY, at, controller, actor, role, purpose,
 *         action NOT NULL, subject BLOB(16) or NULL, categories,
 *         decision NOT NULL, rule, reason, prev_hash BLOB(32),
 *         hash BLOB(32), policy)
 *
 * with an index on (seq >> 9, subject) for the subjects' entries (by runs
 * of 512, so that a commit writes few index pages; store_audit.c) and
 * one on (at) for time ranges (DPO reads, GDPR-32 logging of access).
 */
#ifndef VAERN_STORE_AUDIT_H
#define VAERN_STORE_AUDIT_H

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
	const unsigned char *hash;      /* AUDIT_HASH_BYTES */
	const char *policy;             /* the policy version, or NULL */
	int malformed;                  /* read only: 1 if a column has the
	                                   wrong type or size (tampering);
	                                   the other members are then
	                                   best-effort and must not be
	                                   trusted */
};

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
 * The chain head: the highest seq and its hash; seq 0 and 32 zero bytes
 * for an empty trail. VAERN_E_STORE if the last row's hash is not 32
 * bytes (the trail was tampered with: `vaern audit verify` says where).
 */
enum vaern_err audit_store_head(struct audit_store *st, int64_t *seq,
                                unsigned char hash[AUDIT_HASH_BYTES],
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

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

#endif
