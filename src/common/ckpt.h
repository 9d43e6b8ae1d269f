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
 * the writer copies the few pages it committed meanwhile itself (a
 * passive checkpoint of a few pages), so that its next transaction
 * starts the log over. The log is started over only once all of it is
 * in the database, which a copy beside a writer that never stops does
 * not reach: hence the writer's part. (Nor while a reader's snapshot
 * uses the log when the writer begins: then the next copy waits until
 * the log has grown by CKPT_PAGES more.)
 *
 * Engine-neutral: copy_fn does the copy; on an engine without such a log
 * the caller starts no helper.
 */
#ifndef VAERN_CKPT_H
#define VAERN_CKPT_H

#include "err.h"

/* The log's length that starts a copy: SQLite's own default. */
#define CKPT_PAGES 1000
/* The length at which the writer copies the log itself, as SQLite would,
 * if the helper has not (far behind, or failing). */
#define CKPT_PAGES_INLINE 16000

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
 * the writer should now copy the log itself (the few pages the helper's
 * copy left, or all of them if the helper is far behind); 0 otherwise.
 * k may be NULL: 0 (the writer's own engine checkpoints).
 */
int ckpt_committed(struct ckpt *k, int pages);

/* Ends the thread (after the copy under way, if any). Accepts NULL. */
void ckpt_stop(struct ckpt *k);

#endif
