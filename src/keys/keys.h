/*
 * keys.h -- the key hierarchy, the keystore, master-key rotation, and
 * backups (issue 13; GDPR-32, GDPR-17).
 *
 * The hierarchy:
 *
 *   master key (generation g; from a file, the environment or a command)
 *     -> wrap key = crypto_kdf(master, "vaernwrp")        (never stored)
 *          wraps, in the keystore (keystore.db, attached as "ks"):
 *            subject_key  one random data key per subject
 *            day_key      one random key per controller and visit day
 *            traffic_key  one random key per controller and day of the
 *                         traffic store (issue 18)
 *            root_key     "index": the root of the blind-index keys and
 *                         the one-time-code key (crypto_kdf per use)
 *   Every wrapped key records the generation g it is wrapped under. A
 *   rotation re-wraps them under g+1 and never touches what they protect:
 *   no fact is re-encrypted, no identifier re-indexed.
 *
 * Every kind of wrapped key is listed in one table, keys_kinds[] in
 * keys_rotate.c: a new kind (the audit MAC key) is one more line there.
 *
 * The master key's sources, the first that is set:
 *   VAERN_MASTER_KEY_COMMAND  a command (run by /bin/sh -c) that prints
 *                             the key (KMS, HSM, systemd-creds);
 *                             --master-key-command sets it
 *   VAERN_MASTER_KEY          the key itself (64 hex digits)
 *   VAERN_MASTER_KEY_FILE     a file (mode 0600, the user's) holding it;
 *                             --master-key-file sets it
 *   DIR/master.key            the default
 * A key is 64 hexadecimal digits and an optional newline.
 *
 * WARNING: key material lives only in sodium_malloc'ed memory (guard
 * pages, mlock'ed, excluded from core dumps where the kernel allows) and
 * is wiped when freed. Never copy a key to the stack without wiping it.
 */
#ifndef VAERN_KEYS_H
#define VAERN_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define KEYS_BYTES       32 /* every key */
#define KEYS_HEX         (2 * KEYS_BYTES)
#define KEYS_NONCE_BYTES 24 /* XChaCha20-Poly1305 */
#define KEYS_TAG_BYTES   16
#define KEYS_WRAPPED     (KEYS_NONCE_BYTES + KEYS_BYTES + KEYS_TAG_BYTES)
#define KEYS_GEN_MAX     4 /* generations one ring holds at once */
#define KEYS_AD_MAX      48
#define KEYS_FILE        "master.key"
#define KEYS_NEXT_FILE   "master.key.next" /* during a rotation */
#define KEYS_ENV_HEX     "VAERN_MASTER_KEY"
#define KEYS_ENV_FILE    "VAERN_MASTER_KEY_FILE"
#define KEYS_ENV_COMMAND "VAERN_MASTER_KEY_COMMAND"
#define KEYS_COMMAND_MAX 4096 /* bytes a key command may print */
#define KEYS_ROOT_INDEX  "index"
#define KEYS_SOURCE_MAX  64 /* bytes of a source's description */

struct store;
struct keys_ring;

/* ---- sources (keys_source.c) ---------------------------------------- */

/*
 * Reads the master key of data directory dir from its source (above)
 * into key (KEYS_BYTES; the caller's sodium_malloc'ed memory). *source
 * (if not NULL, KEYS_SOURCE_MAX bytes) describes the source for
 * messages ("master.key", "VAERN_MASTER_KEY", "the key command").
 * Refuses a key file others can read or that is not the user's
 * (VAERN_E_DENIED), a malformed key (VAERN_E_INVALID; never echoed), a
 * missing file (VAERN_E_NOTFOUND), a command that fails (VAERN_E_INVALID).
 */
enum vaern_err keys_master_load(const char *dir, unsigned char *key,
                                char *source, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Reads a key file at path (mode 0600, the user's) into key. */
enum vaern_err keys_file_read(const char *path, unsigned char *key,
                              struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Runs command (sh -c) and reads the key it prints into key. */
enum vaern_err keys_command_read(const char *command, unsigned char *key,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Writes key (or, if NULL, a new random one) to path, mode 0600, never
 * replacing a file (VAERN_E_EXISTS); fsynced. */
enum vaern_err keys_file_create(const char *path, const unsigned char *key,
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/* 1 if the master key comes from dir/master.key (no other source set). */
int keys_source_is_default(void);

/* The check value of a master key: a keyed hash of a constant, kept in
 * the keystore, so a wrong key is refused before it writes anything. */
void keys_check_value(const unsigned char *master, char hex[KEYS_HEX + 1]);

/* ---- the ring: the keys one process holds (keys.c) ------------------- */

/*
 * Makes the key hierarchy of a new vault in st's keystore: generation 1
 * for master, and a new random index root. Inside the caller's
 * transaction.
 */
enum vaern_err keys_init(struct store *st, const unsigned char *master,
                         struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * Loads the master key of dir from its source, finds its generation in
 * st's keystore (VAERN_E_CRYPTO "does not belong" if none; "retired" if
 * a rotation retired it), takes the other generation of a rotation under
 * way from the keystore, and unwraps the index root (made from the master
 * key of generation 1 for a vault from before issue 13, whose blind
 * indexes derive from it). The caller frees *out with keys_ring_free.
 */
enum vaern_err keys_ring_open(struct store *st, const char *dir,
                              struct keys_ring **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Wipes and frees r. Accepts NULL. Call it before closing the store r
 * was used with: it finalises a statement prepared on its connection. */
void keys_ring_free(struct keys_ring *r);

/*
 * Brings r up to date with the keystore: a rotation begun (takes the new
 * generation from its wrapping under one r holds), finished (drops the
 * retired one), or finished while r held only the retired one (reloads
 * the master key from its source). Cheap when nothing changed: one read
 * of the small kek table. Call it inside a transaction.
 */
enum vaern_err keys_ring_refresh(struct keys_ring *r, struct store *st,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* The newest generation r holds: new keys are wrapped under it. */
int64_t keys_ring_newest(const struct keys_ring *r);

/* The index root (KEYS_BYTES): derive blind-index keys from it. */
const unsigned char *keys_ring_root(const struct keys_ring *r);

/*
 * A named root key (KEYS_BYTES) into key: unwrapped from the keystore's
 * root_key row name; if there is none and create is 1, a new random key
 * is made and kept wrapped under r's newest generation (inside the
 * caller's write transaction), else VAERN_E_NOTFOUND. A root key is
 * re-wrapped by every rotation and never changes: the audit MAC key
 * belongs here ("audit_mac").
 */
enum vaern_err keys_root_get(struct keys_ring *r, struct store *st,
                             const char *name, int create, unsigned char *key,
                             struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5)));

/* Wraps key under r's newest generation into out (KEYS_WRAPPED bytes),
 * nonce from the caller (KEYS_NONCE_BYTES random bytes); *gen gets the
 * generation. */
void keys_wrap(const struct keys_ring *r, const unsigned char *key,
               const unsigned char *ad, size_t adlen,
               const unsigned char *nonce, unsigned char *out, int64_t *gen);

/*
 * Unwraps wrapped (len bytes, under generation gen) into key. A
 * generation r does not hold makes it refresh first (st may be NULL:
 * then no refresh). VAERN_E_CRYPTO if it does not authenticate.
 */
enum vaern_err keys_unwrap(struct keys_ring *r, struct store *st, int64_t gen,
                           const unsigned char *wrapped, size_t len,
                           const unsigned char *ad, size_t adlen,
                           unsigned char *key, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 4, 8)));

/* The associated data of each kind of wrapped key: a wrapped key moved
 * to another row does not open. */
size_t keys_ad_subject(unsigned char ad[KEYS_AD_MAX], const unsigned char *uid,
                       int64_t controller);
size_t keys_ad_day(unsigned char ad[KEYS_AD_MAX], int64_t controller,
                   int64_t expires_at);
size_t keys_ad_root(unsigned char ad[KEYS_AD_MAX], const char *name);
size_t keys_ad_traffic(unsigned char ad[KEYS_AD_MAX], int64_t controller,
                       int64_t day);

/* ---- rotation (keys_rotate.c) ---------------------------------------- */

/* Where the new master key comes from. */
struct keys_rotate_opts {
	const char *new_key_file;    /* --new-key-file, or NULL */
	const char *new_key_command; /* --new-key-command, or NULL */
	size_t batch;                /* keys per transaction (0: default) */
	void (*progress)(void *arg, int64_t done, int64_t total);
	void *progress_arg;
};

/* What a rotation did. */
struct keys_rotate_report {
	int64_t from_gen, to_gen; /* generations */
	int64_t rewrapped;        /* keys re-wrapped by this run */
	int resumed;              /* 1: it finished an interrupted one */
	int key_file_renamed;     /* 1: master.key now holds the new key */
	double seconds;           /* the re-wrapping, finish included */
};

/*
 * Rotates the master key of data directory dir while other processes
 * (vaern serve) go on reading and writing: records the new generation,
 * re-wraps every wrapped key in batches (each one transaction), then in
 * one transaction re-wraps what is left and retires the old generation.
 * Resumable after a kill at any point: every key is wrapped under the old
 * or the new generation at every moment, and both are recoverable until
 * the retirement commits. With the default key source and no new key
 * given, the new key is made in dir/master.key.next and renamed onto
 * dir/master.key at the end.
 */
enum vaern_err keys_rotate(const char *dir, const struct keys_rotate_opts *o,
                           struct keys_rotate_report *rep,
                           struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Re-wraps every key of st not under r's newest generation, batch keys
 * per transaction; *n gets how many. Used by keys_rotate and the
 * benchmark. */
enum vaern_err
keys_rewrap_all(struct keys_ring *r, struct store *st, size_t batch, int64_t *n,
                const struct keys_rotate_opts *o, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 4)));

/* ---- backup and restore (keys_backup.c) ----------------------------- */

#define KEYS_MANIFEST        "manifest.json"
#define KEYS_KEEP_DAYS       30 /* keystore backups kept by default */
#define KEYS_BACKUP_FORMAT   "vaern-backup 1"
#define KEYS_KEYSTORE_PREFIX "keystore-"

/*
 * Copies the data store, the audit trail and the traffic store's files
 * (DATA/traffic, each day under a shared lock: no batch half-appended;
 * issue 18) of dir into the new or empty directory out, consistently while
 * other processes write (one read snapshot, SQLite's backup API; the audit
 * trail's snapshot taken after the data's, so it holds the entry of every
 * acknowledged write the data holds), with out/manifest.json: time, vault id,
 * schema, audit head, and the size and BLAKE2b of each file. No key is in it.
 * A data directory on PostgreSQL (issue 14) gets the same files, written from
 * one snapshot of its database (keys_backup_pg.c; manifest "engine").
 */
enum vaern_err keys_backup_data(const char *dir, const char *out,
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * Drops the keys whose subject is gone (an erasure cut by a crash), copies
 * the keystore of dir into out/keystore-<UTC time>/ with its manifest,
 * and deletes the keystore backups in out older than keep_days
 * (the erased stay erased in every copy after that many days). *path
 * (PATH_MAX bytes, if not NULL) gets the new backup's directory.
 */
enum vaern_err keys_backup_keystore(const char *dir, const char *out,
                                    int keep_days, char *path, int *expired,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* What a restore did. */
struct keys_restore_report {
	char keystore[4096];  /* the keystore backup used */
	int64_t purged;       /* subjects without a key, removed */
	int64_t dead_keys;    /* keys without a subject, removed */
	int64_t traffic_days; /* traffic day files whose key is gone (swept
	                         after the data backup), removed */
	int64_t audit_seq;    /* the restored trail's head */
};

/*
 * Restores the data backup in backup and the newest keystore in keystore
 * (a directory of keystore backups, one of them, or a data directory whose
 * live keystore is taken; NULL: the data directory the backup was taken
 * from, named in its manifest) into the data directory target,
 * which must be missing or empty (a master.key alone is allowed). Checks
 * first, writes nothing on failure: both manifests, every checksum, the
 * same vault, the master key (its source as for target) one of the
 * keystore's current generation. Then subjects whose key is not in the
 * keystore (erased after the data backup) are removed with their rows,
 * and keys without a subject dropped. A target holding store.conf is
 * restored into the empty PostgreSQL database it names (issue 14), in one
 * transaction; a backup of either engine restores into either.
 */
enum vaern_err keys_restore(const char *backup, const char *keystore,
                            const char *target, struct keys_restore_report *rep,
                            struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));

#endif
