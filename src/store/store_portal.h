/*
 * store_portal.h -- the rows of the self-service portal (issue 16): logins
 * under way (one code each), sessions, throttles and passwords. No
 * personal value is stored: a session or login token, a code and a
 * throttle key are kept only as hashes; a subject is its public id; a
 * password as its argon2id string.
 *
 * Tables (created on open, no schema version step: an older directory
 * just has none): portal_login, portal_session, portal_throttle,
 * portal_password, portal_code_out (the codes waiting for delivery). Portable
 * SQL: INTEGER PRIMARY KEY ids, ON CONFLICT upserts, BLOB columns for bytes
 * only.
 */
#ifndef VAERN_STORE_PORTAL_H
#define VAERN_STORE_PORTAL_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define STORE_PORTAL_HASH       32  /* bytes of a token, code or key hash */
#define STORE_PORTAL_PROOF      16  /* "code", "password", NUL included */
#define STORE_PORTAL_PWHASH     128 /* an argon2id string, NUL included */
#define STORE_PORTAL_CONTROLLER 65  /* a controller's id, NUL included */
#define STORE_PORTAL_LANG       8   /* a language code, NUL included */

struct db;

/* Creates the tables (inside the schema transaction): DB_OK or the
 * engine's error code, *errmsg as db_exec's. */
int store_portal_schema(struct db *db, char **errmsg);

/* A login under way: the code sent for it. */
struct store_portal_login {
	int64_t id;
	unsigned char token_hash[STORE_PORTAL_HASH]; /* the browser's login
	                                                 token, hashed */
	int64_t controller;
	int has_subject; /* 0: nobody holds the identifiers (a code that
	                    can never be right: no enumeration) */
	unsigned char subject[STORE_UID_BYTES];
	unsigned char code_hash[STORE_PORTAL_HASH]; /* keyed hash of the
	                                               code */
	unsigned char throttle[STORE_PORTAL_HASH];  /* the identifiers'
	                                               throttle key */
	int64_t created_at, expires_at;
	int attempts;    /* wrong codes so far */
	int64_t used_at; /* STORE_NO_TIME until used */
};

enum vaern_err store_portal_login_insert(struct store *st,
                                         struct store_portal_login *l,
                                         struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
/* VAERN_E_NOTFOUND (msg untouched) for an unknown token hash. */
enum vaern_err
store_portal_login_get(struct store *st,
                       const unsigned char token_hash[STORE_PORTAL_HASH],
                       struct store_portal_login *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));
/* Sets attempts and used_at of login id. */
enum vaern_err store_portal_login_update(struct store *st,
                                         const struct store_portal_login *l,
                                         struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* A session: only the hash of its token. */
struct store_portal_session {
	int64_t id;
	unsigned char token_hash[STORE_PORTAL_HASH];
	int64_t controller;
	unsigned char subject[STORE_UID_BYTES];
	char proof[STORE_PORTAL_PROOF]; /* how the person logged in */
	int64_t created_at, seen_at;
	int64_t ended_at; /* STORE_NO_TIME while open */
};

enum vaern_err store_portal_session_insert(struct store *st,
                                           struct store_portal_session *s,
                                           struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
enum vaern_err store_portal_session_get(
        struct store *st, const unsigned char token_hash[STORE_PORTAL_HASH],
        struct store_portal_session *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));
enum vaern_err store_portal_session_touch(struct store *st, int64_t id,
                                          int64_t seen_at,
                                          struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));
/* Ends session id at at (a no-op for one ended already). */
enum vaern_err store_portal_session_end(struct store *st, int64_t id,
                                        int64_t at, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));
/* Ends every open session of the subject; *n gets how many. */
enum vaern_err
store_portal_session_end_all(struct store *st, int64_t controller,
                             const unsigned char subject[STORE_UID_BYTES],
                             int64_t at, int64_t *n, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/* Throttles: failures counted per key (an identifier set or an
 * address, hashed), the time of the latest. */
enum vaern_err store_portal_throttle_get(
        struct store *st, const unsigned char key[STORE_PORTAL_HASH],
        int64_t *failures, int64_t *last_at, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));
/* One more failure at at. */
enum vaern_err
store_portal_throttle_hit(struct store *st,
                          const unsigned char key[STORE_PORTAL_HASH],
                          int64_t at, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
enum vaern_err
store_portal_throttle_clear(struct store *st,
                            const unsigned char key[STORE_PORTAL_HASH],
                            struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * A one-time code waiting for delivery (AURA-LOGIN-1, no enumeration):
 * queued in the login's own transaction, for nobody as for a person, and
 * sent by the server's delivery thread, so a login answers without
 * waiting for a mail server. The code itself is not stored: the vault
 * derives it from salt under the controller's key, and the row (with its
 * salt) is deleted once the code went out, so it cannot be derived again.
 */
struct store_portal_code_out {
	int64_t id;
	int64_t login;                            /* its portal_login row */
	char controller[STORE_PORTAL_CONTROLLER]; /* the controller's id */
	int has_subject; /* 0: nobody holds the identifiers: nothing to send,
	                    the row is only deleted */
	unsigned char subject[STORE_UID_BYTES];
	unsigned char salt[STORE_PORTAL_HASH]; /* random: the code's seed */
	char lang[STORE_PORTAL_LANG];          /* the message's (da|sv|en) */
	int64_t due_at;     /* the next try of delivery no sooner */
	int64_t expires_at; /* the code's expiry: not sent after it */
	int tries;          /* deliveries tried */
};

enum vaern_err store_portal_code_out_insert(struct store *st,
                                            struct store_portal_code_out *o,
                                            struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
/* The oldest row due at now (due_at <= now), or VAERN_E_NOTFOUND (msg
 * untouched). */
enum vaern_err store_portal_code_out_next(struct store *st, int64_t now,
                                          struct store_portal_code_out *out,
                                          struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));
/* Takes row id for one delivery: moves due_at from its old value to
 * due_at and counts a try, only if no one (another node) took it since
 * it was read; *taken 1 if this call did. */
enum vaern_err store_portal_code_out_take(struct store *st, int64_t id,
                                          int64_t old_due, int64_t due_at,
                                          int *taken, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 5)));
enum vaern_err store_portal_code_out_delete(struct store *st, int64_t id,
                                            struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/* The person's password (argon2id string), or VAERN_E_NOTFOUND. */
enum vaern_err
store_portal_password_get(struct store *st, int64_t controller,
                          const unsigned char subject[STORE_UID_BYTES],
                          char out[STORE_PORTAL_PWHASH], struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));
enum vaern_err
store_portal_password_set(struct store *st, int64_t controller,
                          const unsigned char subject[STORE_UID_BYTES],
                          const char *hash, int64_t at, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));

/* Removes the portal's rows of subject (the store's row id): its
 * password, sessions, logins under way and codes not yet sent; inside the
 * subject's deletion (store_subject_delete), before the subject row goes. */
enum vaern_err store_portal_forget(struct store *st, int64_t subject,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

#endif
