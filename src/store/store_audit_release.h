/*
 * store_audit_release.h -- the release index of the audit trail (issue 17
 * point 4; GDPR-33): which subject's data of which categories was released
 * to whom (actor, role, route) and when, written by the audit store in the
 * transaction of the entry it indexes, so that "who was affected by a
 * release of category C / by actor A / in the window [t0, t1]" reads the
 * window's part of a compact index and never the trail.
 *
 * The tables, in audit.db beside the trail (portable SQL: declared
 * integer ids, ON CONFLICT, no engine-only function):
 *
 *   audit_meta(id INTEGER PRIMARY KEY, name TEXT UNIQUE, value INTEGER)
 *       'schema_version' = AUDIT_SCHEMA_VERSION: the trail has the release
 *       index, backfilled from every entry before it
 *   audit_name(id INTEGER PRIMARY KEY, name TEXT UNIQUE)
 *       the controllers, actors, roles, actions and category sets the
 *       index names, as small integers (0: none)
 *   audit_release(id INTEGER PRIMARY KEY, controller, at_min, at_max,
 *                 entries, records BLOB)
 *       a block of up to AUDIT_RELEASE_BLOCK releases of one controller,
 *       in the order they were written, each a fixed record of
 *       AUDIT_RELEASE_RECORD bytes (below); indexed by (controller,
 *       at_min) and (controller, id), so a window's blocks are one index
 *       range and the newest block of a controller one probe
 *
 * A record is, little-endian: at (8 bytes, seconds), actor, role, action,
 * category set (4 bytes each, audit_name ids), the subject's id (16).
 * Stepping ten million index rows costs SQLite seconds; a block is one
 * row for a hundred releases, read as bytes. Nothing personal is in it:
 * the subject is its random public id (as in the trail), the rest are
 * policy and actor names.
 *
 * WARNING: the index is derived from the trail and is not chained; a
 * writer of audit.db could change it unseen. `vaern audit verify` checks
 * the trail, not this index.
 */
#ifndef VAERN_STORE_AUDIT_RELEASE_H
#define VAERN_STORE_AUDIT_RELEASE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "db.h"
#include "store_audit.h"

/* The trail's schema: 1 before the release index, 2 with it. */
#define AUDIT_SCHEMA_VERSION 2

#define AUDIT_RELEASE_RECORD 40  /* bytes of one release in a block */
#define AUDIT_RELEASE_BLOCK  100 /* releases in a full block */

/* Whether an entry releases personal data: an allowed read, export (a
 * person's report, a portable copy), report for a request or disclosure
 * ("disclose:<recipient>") naming its subject, controller and categories.
 * A create or a change released nothing. */
int audit_row_is_release(const struct audit_row *r) __attribute__((nonnull));

/* ---- the writer's side (store_audit.c) --------------------------------- */

struct audit_release_writer;

/*
 * Creates the release tables on db if missing and, when the trail is
 * older than AUDIT_SCHEMA_VERSION, indexes every entry it holds
 * (backfill), then records the version; inside the caller's write
 * transaction, so a crash half-way leaves the trail as it was.
 * A db result code; *errmsg as db_exec sets it (freed with db_free).
 */
int audit_release_schema(struct db *db, char **errmsg) __attribute__((nonnull));

/* A writer on db (the audit store's connection, which it does not own).
 * NULL when out of memory. */
struct audit_release_writer *audit_release_writer_new(struct db *db)
        __attribute__((nonnull));
/* Frees w and its statements. Accepts NULL. */
void audit_release_writer_free(struct audit_release_writer *w);

/*
 * Indexes entry r (already inserted, seq set) if it is a release; inside
 * the transaction of its insert. Nothing for any other entry. The block
 * is written by audit_release_flush, before the commit.
 */
enum vaern_err audit_release_add(struct audit_release_writer *w,
                                 const struct audit_row *r,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Writes the blocks the open transaction changed. The audit store calls
 * it before every COMMIT: a commit without it loses those releases. */
enum vaern_err audit_release_flush(struct audit_release_writer *w,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/* At a transaction's end (commit or rollback): forgets the blocks read in
 * it (another process may write the next), and after a rollback the
 * names it learnt (their rows are gone). Accepts NULL. */
void audit_release_writer_end(struct audit_release_writer *w, int rolled_back);

/* ---- the search's side (src/incident/affected.c) ----------------------- */

struct audit_release_reader;

/*
 * Opens the trail at path read-only for searches. A trail without the
 * release index (made before it) gets it first, from a writable open of
 * the audit store (the backfill). VAERN_E_NOTFOUND if there is no file.
 */
enum vaern_err audit_release_reader_open(const char *path,
                                         struct audit_release_reader **out,
                                         struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
/* Closes rd (ends its read snapshot). Accepts NULL. */
void audit_release_reader_close(struct audit_release_reader *rd);

/* The id of name into *id: VAERN_OK, or VAERN_E_NOTFOUND when the index
 * never named it (then no release matches it). */
enum vaern_err audit_release_name_id(struct audit_release_reader *rd,
                                     const char *name, int64_t *id,
                                     struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* The text of name id into *out, malloc'ed (the caller frees it). */
enum vaern_err audit_release_name_text(struct audit_release_reader *rd,
                                       int64_t id, char **out,
                                       struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/* One release a scan finds. The subject points into the block and is
 * valid during the callback only. */
struct audit_release_hit {
	int64_t at;                   /* seconds since the epoch */
	int64_t actor, role, action;  /* name ids; 0: none */
	int64_t categories;           /* the id of the released set's text */
	const unsigned char *subject; /* AUDIT_SUBJECT_BYTES */
};

/*
 * Calls fn for each release of controller whose at is in [from, to] (both
 * included), in the order written: the blocks of the window (one range of
 * the (controller, at_min) index), their records compared here. Stops at
 * the first non-OK from fn and returns it. Every scan of one reader
 * reads the same snapshot. VAERN_E_STORE for a block of the wrong shape.
 */
enum vaern_err audit_release_scan(
        struct audit_release_reader *rd, int64_t controller, int64_t from,
        int64_t to,
        enum vaern_err (*fn)(void *arg, const struct audit_release_hit *h),
        void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 5)));

#endif
