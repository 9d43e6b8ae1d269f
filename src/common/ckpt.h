/*
 * ckpt.h -- a thread that copies a writer's write-ahead log into its
 * database (a checkpoint) while the writer goes on (issue 12 point 6).
 *
 * SQLite copies the log in the commit that makes it longer than 1,000
 * pages, on the committing thread, and syncs the database: 10 to 30 ms
 * (up to 380 ms on a loaded disk) in which a writer that others wait for
 * stands still (the audit writer: every read's answer; the create
 * writer: every create). With a ckpt helper the writer's commits only
 * report the log's length (ckpt_committed); at CKPT_PAGES the helper's
 * thread copies the bulk on a connection of its own (copy_fn), and then
 * the writer finishes: it copies the few pages it committed meanwhile
 * and starts the log over (a restart checkpoint), and tells the helper
 * whether it did (ckpt_finished).
 *
 * Why the writer finishes with a restart, not a passive copy: a log is
 * started over only when all of it is in the database and no reader's
 * snapshot still uses it. A passive copy stops at the oldest reader's
 * snapshot, and a log fully copied is started over by the next write
 * transaction only if no reader that began before the copy is still
 * reading at that instant. Beside steady creates some worker is nearly
 * always in the short read of its request, so a passive finish left the
 * log un-restarted about as often as not; the log then grew by another
 * CKPT_PAGES before the next copy (8.4 MB instead of 4: the flake of
 * test_data_log_started_over_beside_steady_creates). The restart waits,
 * briefly, for those readers (each a few ms) and starts the log over
 * itself. A finish that could not (a reader that stays, a checkpoint
 * running elsewhere) is tried again at the next commit, then after 2,
 * 4, ... up to CKPT_RETRY_MAX commits, so a long reader costs the writer
 * one short wait now and then, not one per commit; and if the log grows
 * by CKPT_PAGES more meanwhile, the helper copies the bulk again first.
 * If the helper's copy is slow (a loaded disk) and the log grows past
 * CKPT_PAGES_BEHIND meanwhile, the writer waits for the copy to end, as
 * it would have waited for SQLite's own copy in its commit.
 *
 * Engine-neutral: copy_fn does the copy and the writer the finish; on an
 * engine without such a log the caller starts no helper.
 */
#ifndef VAERN_CKPT_H
#define VAERN_CKPT_H

#include "err.h"

/* The log's length that starts a copy: SQLite's own default. */
#define CKPT_PAGES 1000
/* How far the log may grow past the length the helper was asked to copy
 * before the writer waits for that copy to end (a slow disk: at load 21
 * a copy took 5-50 ms and the log grew by 10-200 pages meanwhile, once
 * 311 pages in 121 ms). */
#define CKPT_PAGES_BEHIND 250
/* The most commits between two tries of a finish that did not start the
 * log over. */
#define CKPT_RETRY_MAX 64
/* How long a finish waits, at most, for the readers that still use the
 * log (and for another writer's transaction) before it gives up until
 * its next try: a worker's read lasts a few ms. */
#define CKPT_WAIT_MS 20

/* Copies what it can of the log into the database without waiting for
 * the writer (the helper's thread, its own connection). */
typedef enum vaern_err (*ckpt_copy_fn)(void *arg);

struct ckpt;

/* Starts the helper's thread; copy_fn(arg) runs on it. */
enum vaern_err ckpt_start(ckpt_copy_fn copy_fn, void *arg, const char *name,
                          struct ckpt **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));

/*
 * After each commit of the writer's (its thread), with the pages its log
 * holds: asks the helper for a copy when the log is long. Returns 1 when
 * the writer should now finish (copy the rest and start the log over,
 * then call ckpt_finished): after the helper's copy, on a retry, or if
 * the helper is far behind CKPT_PAGES_BEHIND (then the writer first
 * waits for the copy to end). 0 otherwise.
 * k may be NULL: 0 (the writer's own engine checkpoints).
 */
int ckpt_committed(struct ckpt *k, int pages);

/* The writer's finish that ckpt_committed asked for: restarted is 1 if
 * the log was started over, 0 if not (tried again later). Accepts NULL. */
void ckpt_finished(struct ckpt *k, int restarted);

/* Ends the thread (after the copy under way, if any). Accepts NULL. */
void ckpt_stop(struct ckpt *k);

#endif
