/*
 * store_console.h -- the rows of the staff console (issue 20): an actor's
 * console credential (the argon2id hash, the TOTP secret sealed under the
 * keystore's "console" root key, the last code's time step, the throttle)
 * and the counts the retention view adds to the plan (facts under a legal
 * hold). Like store.h: rows only; writes run inside the caller's
 * store_begin/store_commit.
 */
#ifndef VAERN_STORE_CONSOLE_H
#define VAERN_STORE_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "store.h"

#define STORE_PWHASH_MAX 128 /* an argon2id string, NUL included */
#define STORE_SEALED_MAX 128 /* a sealed TOTP secret */

struct db;

/* Creates the console's table (schema setup, like the incident tables). */
int store_console_schema(struct db *db, char **errmsg);

/* An actor's console credential, held by value. */
struct store_console {
	int64_t actor;                               /* actor.id */
	char password_hash[STORE_PWHASH_MAX];        /* argon2id, encoded */
	unsigned char totp_sealed[STORE_SEALED_MAX]; /* nonce|ct|tag */
	size_t totp_len;
	int64_t enrolled_at;
	int64_t last_step;       /* the time step of the last code accepted,
	                            -1 before the first (replay, RFC 6238 5.2) */
	int64_t failures;        /* wrong tries since the last good one */
	int64_t last_failure_at; /* STORE_NO_TIME if none */
	int64_t locked_until;    /* STORE_NO_TIME if not locked */
};

/* Inserts or replaces (a new enrolment) the credential of c->actor, its
 * throttle reset. */
enum vaern_err store_console_put(struct store *st,
                                 const struct store_console *c,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* The credential of actor into c; VAERN_E_NOTFOUND if it has none. */
enum vaern_err store_console_get(struct store *st, int64_t actor,
                                 struct store_console *c, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/*
 * A good login of actor with a code of time step step: the step kept,
 * the wrong tries forgotten, in one statement that changes nothing unless
 * step is newer than the last one kept, so two logins racing with one
 * code cannot both pass: VAERN_E_EXISTS then (a replay).
 */
enum vaern_err store_console_good(struct store *st, int64_t actor, int64_t step,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/*
 * A wrong try of actor at time at, counted in the store (failures + 1:
 * tries racing are all counted); with lock_after or more, locked until
 * lock_until. *failures and *locked_until (STORE_NO_TIME: not locked)
 * get the row as it is now.
 */
enum vaern_err store_console_wrong(struct store *st, int64_t actor, int64_t at,
                                   int64_t lock_after, int64_t lock_until,
                                   int64_t *failures, int64_t *locked_until,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 6, 7)));

/* Forgets actor's wrong tries and lifts its lockout. */
enum vaern_err store_console_unlock(struct store *st, int64_t actor,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/* Deletes actor's credential (its revocation); none is no error. */
enum vaern_err store_console_forget(struct store *st, int64_t actor,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/* The valid (not revoked) actor named name of controller into a;
 * VAERN_E_NOTFOUND if there is none. */
enum vaern_err store_console_actor(struct store *st, int64_t controller,
                                   const char *name, struct store_actor *a,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));

/* Calls fn with the number of facts of controller's subjects that a legal
 * hold in force covers (CEK-HOLD-1), per retention rule (a label id, 0:
 * none). */
enum vaern_err store_console_held(struct store *st, int64_t controller,
                                  enum vaern_err (*fn)(void *arg, int64_t rule,
                                                       int64_t facts),
                                  void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/* ---- staff sessions (issue 20, point 2) ---- */

#define STORE_CONSOLE_HASH 32 /* bytes of a session token's hash */

/* A staff session with its actor as it is now. */
struct store_console_session {
	int64_t id;
	struct store_actor actor; /* revoked_at set if revoked since */
	int enrolled;             /* 1 while the actor has console access */
	int64_t created_at, seen_at;
	int64_t ended_at; /* STORE_NO_TIME while open */
};

/* A new session of actor at at, its token's hash hash; *id its row. */
enum vaern_err store_console_session_insert(
        struct store *st, const unsigned char hash[STORE_CONSOLE_HASH],
        int64_t actor, int64_t at, int64_t *id, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 5)));

/* The session whose token hashes to hash; VAERN_E_NOTFOUND (msg
 * untouched) if none. */
enum vaern_err store_console_session_get(
        struct store *st, const unsigned char hash[STORE_CONSOLE_HASH],
        struct store_console_session *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Of open session id: its last use (end 0) or its end (end 1) at at. */
enum vaern_err store_console_session_set(struct store *st, int64_t id, int end,
                                         int64_t at, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

#endif
