/*
 * audit.h -- the tamper-evident audit trail (GDPR-32: logging of access;
 * DESIGN.md "One gate": every decision, allowed or denied, is audited).
 *
 * The trail is append-only. Each entry has a sequence number (1, 2, 3,
 * ... in commit order), a time, the ids of who asked what for which
 * purpose about which subject, the decision and its rule and reason, and
 *
 *     mac = BLAKE2b-256 keyed with the audit MAC key
 *           (prev_mac || encoding(entry))
 *
 * where prev_mac is the previous entry's (32 zero bytes for entry 1) and
 * the encoding is canonical: a version byte, then seq, at, controller,
 * actor, role, purpose, action, subject, categories, decision, rule,
 * reason, policy in that order; integers as 8-byte little-endian, texts
 * and the subject as a 4-byte little-endian length and the bytes, an
 * absent (NULL) field as the length 0xFFFFFFFF alone. Each row keeps the
 * version its MAC covers (column version). Version 2 (keyed) always
 * encodes the policy version; version 1 (unkeyed) encodes it only when
 * present, so entries written before the field existed keep their hash.
 * A field added later goes after policy under version 3 (audit_hash_row
 * hashes it for rows of version 3 on); verify reads each row by its own
 * version, which never goes back along the chain, and names the first
 * entry that was changed, removed or reordered.
 *
 * The key: 32 random bytes, kept in the keystore wrapped under the master
 * key as the root key "audit_mac" (vault_audit_key(), src/vault; every
 * master-key rotation re-wraps it, src/keys), so only a holder of the
 * master key can append an entry that verifies: one appended with a
 * recomputed hash is caught. Trails made before the key (version 1:
 * BLAKE2b-256 unkeyed, same encoding) keep verifying: the data store
 * records from which entry on the chain is keyed (keyed_from), and the
 * unkeyed entries before it are checked as they always were; from there
 * on an entry claiming version 1 (to be forged without the key) fails.
 *
 * The head: after commits the data store's audit_head row gets the last
 * seq and its MAC (store_audit.h), so a trail cut below that head, or
 * emptied, is caught by audit_verify without an anchor. Signed
 * checkpoints (audit_checkpoint_sign) keep the head somewhere the server
 * cannot write; audit_verify checks each as an anchor.
 *
 * Changes: a change to personal data and its entry commit as one unit.
 * The vault writes the entry into the data store's outbox inside the
 * change's transaction (entry.outbox_id then names that row); the writer
 * moves it into the trail after the commit, and audit_outbox_flush moves
 * whatever a crash left there (the server at start, `vaern audit verify`).
 * The trail remembers the outbox id of every entry it moved, so an entry
 * moved twice is written once.
 *
 * NO PERSONAL DATA. An entry holds ids and policy words only: the
 * controller, actor name, role, purpose and action ids, the subject's
 * random id, category ids, the gate's rule and reason. Callers must never
 * put a value (a name, an e-mail address, a CPR number, a fact) into any
 * field: the trail cannot be erased, so a value written here outlives
 * the subject's erasure (GDPR-17). The id fields accept printable ASCII
 * without spaces only, which keeps most values out but cannot prove the
 * rule; it is the caller's duty.
 *
 * Durability: an append returns only after the transaction holding its
 * entry is committed with synchronous=FULL (on disk, power loss
 * included); an asynchronous append says so through its callback. One
 * writer thread commits whatever is queued in one transaction (group
 * commit), so concurrent callers share an fsync.
 *
 * Locking: the trail is a database file of its own (AUDIT_DB_FILE). The
 * writer's second thread, the settler (audit_settle.c), takes the data
 * store's write lock, briefly, to record the head and delete moved outbox
 * rows (settle: when the writer is idle, and at most every 100 ms while it
 * is busy, so the head may lag the trail by that much plus a wait for the
 * lock); the writer itself never waits for that lock, so no answer waits
 * behind a data store commit (issue 12 point 6). A third thread copies
 * the trail's log into its database (the checkpoint, src/common/ckpt.h),
 * off the writer's commits. Do not append while holding an open write
 * transaction on the vault's store from the same thread: a direct append (no
 * writer) settles without waiting and leaves the head to the next one. Commit,
 * then audit.
 */
#ifndef VAERN_AUDIT_H
#define VAERN_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

/*
 * The audit trail's own database in the data directory. Apart from the
 * vault's: its constant commits would otherwise reset every vault reader's
 * page cache and compete for the vault's single write lock, and it can be
 * copied off (anchored) on its own.
 */
#define AUDIT_DB_FILE "audit.db"

#define AUDIT_HASH_BYTES           32   /* BLAKE2b-256 */
#define AUDIT_SUBJECT_BYTES        16   /* a subject's public random id */
#define AUDIT_HASH_HEX             65   /* hex digits of a hash, NUL included */
#define AUDIT_ID_MAX               128  /* bytes of an id field */
#define AUDIT_CATEGORIES_MAX       4096 /* bytes of the category list */
#define AUDIT_TEXT_MAX             512  /* bytes of the rule or the reason */
#define AUDIT_MANY_MAX             100000 /* entries in one audit_append_many */
#define AUDIT_BATCH_DEFAULT        4096   /* entries one group commit takes */
#define AUDIT_KEY_BYTES            32     /* the audit MAC key */
#define AUDIT_ENCODING_V1          1  /* unkeyed: trails made before the key */
#define AUDIT_ENCODING_VERSION     2  /* first byte of the MACed encoding */
#define AUDIT_CHECKPOINT_SIG_BYTES 64 /* Ed25519 */
#define AUDIT_CHECKPOINT_PK_BYTES  32
#define AUDIT_CHECKPOINT_SK_BYTES  64

/*
 * Where a trail lives and its key; the caller's, read during each call.
 * outbox_path NULL: no data store beside the trail (unit tests, tools):
 * no outbox, no head, every entry keyed.
 */
struct audit_trail {
	const char *path;                   /* the trail: DIR/audit.db */
	const char *outbox_path;            /* the data store: DIR/vaern.db */
	unsigned char key[AUDIT_KEY_BYTES]; /* the MAC key */
	int unkeyed;                        /* verify only: 1 when the data
	                                       store has no audit key (a
	                                       trail never written since the
	                                       key came): key unused, every
	                                       entry read as version 1 */
};

struct audit_writer;

/*
 * One audit entry as a caller gives it. Pointers are the caller's; an
 * append copies nothing it needs after returning. Absent fields are NULL.
 *
 * Id fields (controller, actor, role, purpose, action): 1..AUDIT_ID_MAX
 * bytes of printable ASCII without spaces (0x21..0x7e).
 * categories: 0..AUDIT_CATEGORIES_MAX bytes of the same, comma-separated
 * ("" for none released, "*" for all asked).
 * rule, reason: 0..AUDIT_TEXT_MAX bytes of UTF-8 without control
 * characters.
 */
struct audit_entry {
	const char *controller;       /* the controller's policy id */
	const char *actor;            /* who asked: an actor name, or a
	                                 system task ("retention") */
	const char *role;             /* the actor's role id */
	const char *purpose;          /* the purpose declared */
	const char *action;           /* required: "read", "export",
	                                 "disclose:<recipient>", "erase" ... */
	const unsigned char *subject; /* AUDIT_SUBJECT_BYTES, or NULL */
	const char *categories;       /* released (allow) or asked (deny) */
	int allowed;                  /* the decision: 1 allow, 0 deny */
	const char *rule;             /* the clause that decided ("GDPR-18") */
	const char *reason;           /* why, in words; no values */
	const char *policy;           /* the version of the controller's
	                                 policy the decision was made under
	                                 (issue 12), or NULL */
	int64_t outbox_id;            /* 0; or the data store's outbox row
	                                 holding this entry since its change
	                                 committed: the append moves it (once,
	                                 however often it is retried) */
	int64_t at;                   /* 0: the time of the append; else when
	                                 the change was made (seconds) */
};

/* One entry as read back. Pointers are valid during the callback only. */
struct audit_record {
	int64_t seq;                               /* 1, 2, 3, ... */
	int64_t at;                                /* seconds since epoch */
	struct audit_entry entry;                  /* what was recorded */
	unsigned char prev_hash[AUDIT_HASH_BYTES]; /* the chain link */
	unsigned char hash[AUDIT_HASH_BYTES];      /* this entry's hash */
	int malformed;                             /* 1: a column has the
	                                              wrong type (the row was
	                                              tampered with); fields
	                                              may be NULL or zero */
};

/*
 * Returns VAERN_OK if e may be appended, or VAERN_E_INVALID /
 * VAERN_E_LIMIT with msg naming the field (never its content).
 */
enum vaern_err audit_entry_check(const struct audit_entry *e,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/*
 * The MAC of entry e with sequence number seq and time at, chained to
 * prev (the encoding above), under key; key NULL: the unkeyed hash of a
 * version 1 trail. e is not checked. For tests and for tools that check
 * an exported trail.
 */
void audit_hash(const unsigned char *key,
                const unsigned char prev[AUDIT_HASH_BYTES], int64_t seq,
                int64_t at, const struct audit_entry *e,
                unsigned char out[AUDIT_HASH_BYTES])
        __attribute__((nonnull(2, 5, 6)));

/* ---- the writer: one thread, group commit -------------------------------- */

/*
 * Creates the audit database at db_path (mode 0600, WAL, the audit table)
 * if it does not exist; VAERN_OK if it already does. vaern init calls it.
 */
enum vaern_err audit_create(const char *db_path, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/*
 * Opens the trail t->path (which must exist) on a connection of its own,
 * creates the audit table if missing, records the head in the data store
 * if it has none yet (from where the keyed chain starts), and starts the
 * writer thread. max_batch caps the entries one transaction takes (0:
 * AUDIT_BATCH_DEFAULT; 1: one transaction per entry). Returns VAERN_OK
 * and *out, which the caller stops with audit_writer_stop(); on failure
 * *out is NULL and nothing was started. The writer keeps a copy of *t
 * (the key wiped at stop).
 */
enum vaern_err audit_writer_start(const struct audit_trail *t, size_t max_batch,
                                  struct audit_writer **out,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/*
 * Moves every entry waiting in t's outbox into the trail (those a crash
 * left between a change's commit and its move), skipping those moved
 * before, then deletes them from the outbox and records the head. Safe
 * beside a running writer in another process. *moved (may be NULL) gets
 * the entries written. VAERN_OK with nothing to do if t has no
 * outbox_path.
 */
enum vaern_err audit_outbox_flush(const struct audit_trail *t, int64_t *moved,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/*
 * Appends e and blocks until the transaction holding it is committed
 * and on disk; then *seq (if not NULL) is its sequence number. Safe to
 * call from any number of threads at once. Returns VAERN_OK; or
 * VAERN_E_INVALID / VAERN_E_LIMIT if e breaks a rule (nothing queued);
 * or the store's error if the commit failed, in which case the entry
 * (and the others in its transaction) was not written: the caller must
 * then refuse the access it was auditing.
 * The time recorded is clock_now() at the call.
 */
enum vaern_err audit_append(struct audit_writer *w, const struct audit_entry *e,
                            int64_t *seq, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * Appends n entries (1..AUDIT_MANY_MAX) with consecutive sequence
 * numbers from *first_seq, all or none: every entry is checked first,
 * and they commit in one transaction.
 */
enum vaern_err audit_append_many(struct audit_writer *w,
                                 const struct audit_entry *entries, size_t n,
                                 int64_t *first_seq, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * Called once for each audit_append_async, on the writer thread, after
 * the transaction holding the entries committed (err VAERN_OK, first_seq
 * the sequence number of the first entry) or failed (err and msg say
 * why; none of the entries was written). It must be quick, and must not
 * append synchronously (the writer would wait for itself).
 */
typedef void (*audit_done_fn)(void *arg, enum vaern_err err, int64_t first_seq,
                              const struct vaern_msg *msg);

/*
 * Queues n entries (1..AUDIT_MANY_MAX) as audit_append_many does, but
 * returns at once: the entries are checked and copied, so the caller's
 * strings may go; done(arg, ...) says when they are durable. Returns
 * VAERN_OK once queued (done will be called exactly once); or, with
 * nothing queued and done never called, VAERN_E_INVALID / VAERN_E_LIMIT
 * for an entry that breaks a rule, VAERN_E_NOMEM, or VAERN_E_INTERNAL
 * when the writer is stopping. The caller that audits an access must
 * hold back what it releases until done reports VAERN_OK.
 */
enum vaern_err audit_append_async(struct audit_writer *w,
                                  const struct audit_entry *entries, size_t n,
                                  audit_done_fn done, void *arg,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 4)));

/* Entries committed and transactions used since start (for metrics). */
void audit_writer_stats(struct audit_writer *w, uint64_t *entries,
                        uint64_t *batches) __attribute__((nonnull(1)));

/* Appends whose transaction failed since start (for metrics). */
uint64_t audit_writer_failures(struct audit_writer *w) __attribute__((nonnull));

/*
 * Commits what is queued, stops the thread, closes the connection and
 * frees w. Appends must not be started once stop is called (they are
 * refused with VAERN_E_INTERNAL if they get in). Accepts NULL.
 */
void audit_writer_stop(struct audit_writer *w);

/*
 * One-shot append for a short-lived process (the CLI): opens db_path,
 * appends entries as audit_append_many does, commits, closes. Safe beside
 * a running writer in another process: every transaction reads the chain
 * head under the write lock.
 */
enum vaern_err audit_append_direct(const struct audit_trail *t,
                                   const struct audit_entry *entries, size_t n,
                                   int64_t *first_seq, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* ---- verify -------------------------------------------------------------- */

enum audit_problem {
	AUDIT_INTACT = 0, /* the chain holds */
	AUDIT_CHANGED,    /* an entry's content does not match its hash */
	AUDIT_MISSING,    /* a sequence number is absent: removed */
	AUDIT_LINK,       /* prev_hash is not the previous entry's hash:
	                     reordered, or removed and renumbered */
	AUDIT_ANCHOR,     /* the trail disagrees with the anchor given:
	                     cut off or rewritten */
	AUDIT_HEAD,       /* the trail disagrees with the head the data
	                     store kept, or that head was changed: cut off,
	                     emptied or rewritten */
	AUDIT_CHECKPOINT  /* the trail disagrees with a signed checkpoint */
};

/* A head seen earlier: the entry seq had hash. */
struct audit_anchor {
	int64_t seq;                          /* >= 1 (0: an empty trail) */
	unsigned char hash[AUDIT_HASH_BYTES]; /* its hash then */
	enum audit_problem problem;           /* what a mismatch is:
	                                         AUDIT_ANCHOR or
	                                         AUDIT_CHECKPOINT (0 is
	                                         AUDIT_ANCHOR) */
	const char *source;                   /* names it in a message
	                                         ("checkpoint FILE"), or
	                                         NULL: "the anchor" */
};

struct audit_verify_result {
	int ok;                               /* 1 if the chain holds */
	int64_t entries;                      /* entries found intact (all
	                                         of them when ok) */
	int64_t head_seq;                     /* ok: the last seq (0 if none) */
	unsigned char head[AUDIT_HASH_BYTES]; /* ok: its hash (zeros if none) */
	int64_t first_bad;                    /* !ok: the entry named */
	enum audit_problem problem;           /* !ok: what is wrong with it */
	char message[VAERN_MSG_MAX];          /* !ok: e.g. "entry 42: content
	                                         changed (hash does not
	                                         match)" */
};

/*
 * Walks the whole trail t->path by seq, from one read snapshot, and
 * recomputes every MAC (see t->unkeyed). With t->outbox_path, the data store's
 * head must be intact (its own MAC) and in the trail with that MAC: a
 * trail cut below it or emptied fails (AUDIT_HEAD). Each of the n
 * anchors (exported heads, checkpoints whose signature the caller
 * checked) must be in the trail with its hash. Returns VAERN_OK with
 * *res filled (res->ok = 0 names the first bad entry), or an error with
 * msg if the trail could not be read at all.
 */
enum vaern_err
audit_verify(const struct audit_trail *t, const struct audit_anchor *anchors,
             size_t n, struct audit_verify_result *res, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 4)));

/* ---- signed checkpoints -------------------------------------------------- */

/*
 * A checkpoint says "the trail's entry seq had MAC head at time at",
 * signed with Ed25519 over "vaern-audit-checkpoint-v1" || seq || head ||
 * at (integers 8-byte little-endian). `vaern audit checkpoint` writes one
 * to a directory the server need not be able to write; audit_verify
 * checks it as an anchor once audit_checkpoint_check accepted it.
 */
void
audit_checkpoint_sign(const unsigned char sk[AUDIT_CHECKPOINT_SK_BYTES],
                      int64_t seq, const unsigned char head[AUDIT_HASH_BYTES],
                      int64_t at, unsigned char sig[AUDIT_CHECKPOINT_SIG_BYTES])
        __attribute__((nonnull));
/* 1 if sig is pk's signature of (seq, head, at), else 0. */
int audit_checkpoint_check(const unsigned char pk[AUDIT_CHECKPOINT_PK_BYTES],
                           int64_t seq,
                           const unsigned char head[AUDIT_HASH_BYTES],
                           int64_t at,
                           const unsigned char sig[AUDIT_CHECKPOINT_SIG_BYTES])
        __attribute__((warn_unused_result, nonnull));

/* ---- read (the DPO's view) ----------------------------------------------- */

/* Which entries audit_read returns; the bounds combine (AND). */
struct audit_filter {
	const unsigned char *subject; /* AUDIT_SUBJECT_BYTES, or NULL: all */
	int64_t from_at;              /* at >= from_at; INT64_MIN: no bound */
	int64_t to_at;                /* at < to_at; INT64_MAX: no bound */
	int64_t after_seq;            /* seq > after_seq (paging); 0 */
	int64_t limit;                /* at most this many; 0: no limit */
	const char *controller;       /* only this controller's (a DPO sees
	                                 their own), or NULL: all */
};

/*
 * Calls fn for each entry of db_path that f selects, in seq order; stops
 * at the first non-OK from fn and returns it. Who may read is the
 * caller's decision (the data-protection officer's role, GDPR-32).
 */
enum vaern_err audit_read(const char *db_path, const struct audit_filter *f,
                          enum vaern_err (*fn)(void *arg,
                                               const struct audit_record *r),
                          void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

#endif
