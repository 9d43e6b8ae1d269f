/*
 * audit_internal.h -- what the files of src/audit share. Not an API.
 */
#ifndef VAERN_AUDIT_INTERNAL_H
#define VAERN_AUDIT_INTERNAL_H

#include "../store/store_audit.h"
#include "audit.h"

/*
 * The chain MAC of row r (its prev_hash and hash members unused) under
 * key (encoding version 2), or with key NULL the unkeyed hash of a
 * version 1 trail.
 */
void audit_hash_row(const unsigned char *key,
                    const unsigned char prev[AUDIT_HASH_BYTES],
                    const struct audit_row *r,
                    unsigned char out[AUDIT_HASH_BYTES])
        __attribute__((nonnull(2, 3, 4)));

/* The MAC under key of h's seq, mac and keyed_from (its tag). */
void audit_head_tag(const unsigned char key[AUDIT_KEY_BYTES],
                    const struct audit_head_row *h,
                    unsigned char tag[AUDIT_HASH_BYTES])
        __attribute__((nonnull));

/*
 * A writable trail with its data store: what the writer thread, a direct
 * append and a flush of the outbox share (audit_chain.c). In a
 * transaction: begin, add entries, commit (or rollback); then settle
 * tells the data store the new head and deletes the outbox rows moved.
 */
struct audit_chain {
	struct audit_store *st;              /* the trail */
	struct audit_vault *av;              /* the data store, or NULL */
	unsigned char key[AUDIT_KEY_BYTES];  /* the MAC key */
	int64_t keyed_from;                  /* the first keyed entry */
	int64_t seq;                         /* the head, in a transaction */
	unsigned char mac[AUDIT_HASH_BYTES]; /* its MAC */
	int64_t settled;                     /* the head the data store has */
	int64_t *moved;                      /* outbox rows moved and not
	                                        yet deleted */
	size_t nmoved, capmoved;
	size_t nmoved_begin; /* nmoved when the transaction began */
	int settle_nowait;   /* 1: settle only if the data store's write
	                        lock is free now (the writer thread) */
	int settle_deferred; /* the last settle found it taken */
};

/* Opens t's trail (writable) and data store, and records the head there
 * if it has none (from where the keyed chain starts). On failure c needs
 * no close. */
enum vaern_err audit_chain_open(struct audit_chain *c,
                                const struct audit_trail *t,
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
/* Closes c (rolls back an open transaction) and wipes its key. Accepts a
 * zeroed c. */
void audit_chain_close(struct audit_chain *c) __attribute__((nonnull));
/* Begins a transaction on the trail: takes its write lock, reads the
 * head. */
enum vaern_err audit_chain_begin(struct audit_chain *c, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));
/*
 * Appends entry r (its at and entry fields, and outbox_id) after the head;
 * *seq (may be NULL) gets its number. An entry of an outbox row the trail
 * has already is not written again: *seq is the one it has.
 */
enum vaern_err audit_chain_add(struct audit_chain *c, const struct audit_row *r,
                               int64_t *seq, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
enum vaern_err audit_chain_commit(struct audit_chain *c, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));
void audit_chain_rollback(struct audit_chain *c) __attribute__((nonnull));
/* After a commit: the data store gets the head and loses the outbox rows
 * moved. A failure keeps them for the next settle (or the next flush);
 * so does a lock found taken with settle_nowait (settle_deferred). */
enum vaern_err audit_chain_settle(struct audit_chain *c, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/* Remembers outbox row id as moved, to delete at the next settle. msg
 * may be NULL. */
enum vaern_err audit_chain_moved_add(struct audit_chain *c, int64_t id,
                                     struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/*
 * The settler (audit_settle.c): the thread that settles for the writer,
 * so the writer never waits for the data store's write lock.
 * audit_settler_start takes c's data store connection (c->av becomes
 * NULL) and settles what c has moved; *out stays NULL when c has no data
 * store (the hand-overs then only forget the moved rows).
 */
struct audit_settler;
enum vaern_err audit_settler_start(struct audit_chain *c,
                                   struct audit_settler **out,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
/* After each commit on c (the writer's thread, its callers answered):
 * hands over the rows c moved and its head, to settle at most every
 * 100 ms. s may be NULL (no data store). */
void audit_settler_committed(struct audit_settler *s, struct audit_chain *c)
        __attribute__((nonnull(2)));
/* The writer is idle (its thread): settle what was handed over now. */
void audit_settler_idle(struct audit_settler *s, struct audit_chain *c)
        __attribute__((nonnull(2)));
/* A last settle (waiting for the lock), then the thread ends and the
 * connection closes. Accepts NULL. */
void audit_settler_stop(struct audit_settler *s);

/* Moves every row of the data store's outbox into the trail (each once)
 * and settles; *moved (may be NULL) gets the entries written. */
enum vaern_err audit_chain_flush(struct audit_chain *c, int64_t *moved,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

#endif
