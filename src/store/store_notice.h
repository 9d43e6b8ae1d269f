/*
 * store_notice.h -- the rows of CEK-PURP-5 (issue 15 point 4): which
 * purposes a loaded policy version made new or widened, from when, and
 * which person was told of that version when. Ids, purpose names and
 * times only: no personal data, no address. Writes run inside the
 * caller's store_begin/store_commit.
 */
#ifndef VAERN_STORE_NOTICE_H
#define VAERN_STORE_NOTICE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "store.h"

#define STORE_CHANGE_WHAT_MAX 160 /* bytes of a change's description */

/* One purpose a version made new or widened. */
struct store_purpose_change {
	int64_t id;          /* the row */
	const char *version; /* the version's digest (hex) */
	const char *purpose; /* the purpose id */
	const char *what;    /* "new purpose", "new categories: a, b" */
	int64_t since;       /* when the version was loaded */
};

/*
 * Records that version of controller (loaded at since) made purpose new
 * or widened, as what says.
 */
enum vaern_err
store_purpose_change_add(struct store *st, const char *controller,
                         const char *version, const char *purpose,
                         const char *what, int64_t since, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5)));

/* Calls fn for each change of controller, oldest first; stops at the
 * first non-OK. The strings live for the call only. */
enum vaern_err store_purpose_change_foreach(
        struct store *st, const char *controller,
        enum vaern_err (*fn)(void *arg, const struct store_purpose_change *c),
        void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/*
 * When subject (a rowid) was told of version of controller: *sent_at, or
 * 0 if not yet.
 */
enum vaern_err store_change_notice_get(struct store *st, const char *controller,
                                       const char *version, int64_t subject,
                                       int64_t *sent_at, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5)));

/* Records that subject was told of version at sent_at; a second record
 * of the same person and version changes nothing (the first stands). */
enum vaern_err store_change_notice_put(struct store *st, const char *controller,
                                       const char *version, int64_t subject,
                                       int64_t sent_at, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* The tables, run by the schema set-up (store_sqlite_schema.c) inside its
 * transaction; a DB_* result code. The PostgreSQL schema
 * (schema_pg_sql.h) needs the same two tables. */
struct db;
int store_notice_schema(struct db *db, char **errmsg);

#endif
