/*
 * keys_internal.h -- what the files of the keys module share. Not an
 * API: only the .c files of src/keys include it.
 */
#ifndef VAERN_KEYS_INTERNAL_H
#define VAERN_KEYS_INTERNAL_H

#include "../store/db.h"
#include <limits.h>

#include "keys.h"

/* One master key generation held: the key and its wrap key. */
struct keys_gen {
	int64_t gen; /* 0: an empty slot */
	unsigned char master[KEYS_BYTES];
	unsigned char wrap[KEYS_BYTES]; /* crypto_kdf(master, "vaernwrp") */
};

/* The ring, in one sodium_malloc'ed block (guard pages, mlock). */
struct keys_ring {
	struct keys_gen g[KEYS_GEN_MAX];
	int64_t newest;                    /* the generation new keys get */
	int64_t seen_max;                  /* the kek table as last read: */
	int64_t seen_retired;              /* max(gen), retired rows */
	unsigned char root[KEYS_BYTES];    /* the index root */
	unsigned char scratch[KEYS_BYTES]; /* a key on its way in */
	char source[KEYS_SOURCE_MAX];      /* where the master key came from */
	char dir[PATH_MAX];                /* the data directory */
	struct db_stmt *probe;             /* keys_ring_refresh's first
	                                    query, prepared on probe_db */
	struct db *probe_db;
};

/* An empty ring for dir. */
enum vaern_err keys_ring_new(const char *dir, struct keys_ring **out,
                             struct vaern_msg *msg)
        __attribute__((warn_unused_result));
struct keys_gen *keys_ring_find(struct keys_ring *r, int64_t gen);
struct keys_gen *keys_ring_add(struct keys_ring *r, int64_t gen,
                               const unsigned char *master);
/* Loads the master key from its source again, if it is a live one. */
enum vaern_err keys_ring_reload(struct keys_ring *r, struct store *st,
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* Seals key (KEYS_BYTES) under wrapkey: nonce || ciphertext || tag. */
void keys_seal(const unsigned char *wrapkey, const unsigned char *key,
               const unsigned char *ad, size_t adlen,
               const unsigned char *nonce, unsigned char *out);
/* Opens a wrapped key; 0 on success, -1 if it does not authenticate. */
int keys_open(const unsigned char *wrapkey, const unsigned char *wrapped,
              size_t len, const unsigned char *ad, size_t adlen,
              unsigned char *key) __attribute__((warn_unused_result));
/* The AD of a cross-wrapping during a rotation (up: new under old). */
size_t keys_ad_kek(unsigned char ad[KEYS_AD_MAX], int up, int64_t gen);
/* Keeps a wrapped root key (inside the caller's transaction). */
enum vaern_err keys_root_put(struct db *db, const char *name, int64_t gen,
                             const unsigned char *wrapped,
                             struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* ---- backups (keys_backup.c), for keys_backup_traffic.c ------------- */

#define KEYS_HASH_HEX 65 /* BLAKE2b-256 in hex, NUL included */

/* dir "/" file into out (PATH_MAX); VAERN_E_INVALID if too long. */
enum vaern_err keys_path_join(char *out, const char *dir, const char *file,
                              struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* BLAKE2b-256 of the file at path, in hex, and its size. */
enum vaern_err keys_hash_file(const char *path, char hex[KEYS_HASH_HEX],
                              int64_t *bytes, struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* Copies src to the new file dst (0600, never replacing one), synced. */
enum vaern_err keys_file_copy(const char *src, const char *dst,
                              struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* keys_file_copy, then the copy's hash and size. */
enum vaern_err keys_backup_file(const char *src, const char *dst,
                                char hex[KEYS_HASH_HEX], int64_t *bytes,
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* One text of a one-row query on db into out (outsz bytes): 1, or 0 with
 * out "" if there is no row or a NULL. */
int keys_query_text(struct db *db, const char *sql, char *out, size_t outsz);
/* Syncs the directory dir (its entries). */
void keys_sync_tree(const char *dir);

/* ---- the traffic store in backups (keys_backup_traffic.c) ------------ */

struct json_t;

/* Copies dir's traffic store into out/traffic, listing each file in files
 * ("controller/file": {bytes, blake2b}). No store: nothing. */
enum vaern_err keys_backup_traffic(const char *dir, const char *out,
                                   struct json_t *files, struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* Checks the backup's traffic files against files (NULL: a backup without
 * any); VAERN_E_INVALID naming the one that does not match. */
enum vaern_err keys_traffic_check(const char *backup, struct json_t *files,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* Copies the checked files into target/traffic. */
enum vaern_err keys_restore_traffic(const char *backup, const char *target,
                                    struct json_t *files, struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* Removes the restored day files whose key st's keystore does not hold
 * (swept after the data backup); *removed gets how many. */
enum vaern_err keys_traffic_purge(struct store *st, const char *target,
                                  struct json_t *files, int64_t *removed,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* Removes what keys_restore_traffic copied (a failed restore). */
void keys_remove_traffic(const char *target, struct json_t *files);

/* ---- a store in PostgreSQL (keys_backup_pg.c) ------------------------ */

/* Writes out/vaern.db and out/audit.db from one snapshot of dir's
 * PostgreSQL store, with what its manifest says of it. */
enum vaern_err keys_pg_backup_data(const char *dir, const char *out,
                                   char vault_id[64], char schema[16],
                                   char seq[32], char head[65],
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* Writes out/keystore.db from one snapshot of dir's PostgreSQL keystore
 * (live: without the keys whose subject the store no longer holds). */
enum vaern_err keys_pg_backup_keystore(const char *dir, const char *out,
                                       int live, char vault_id[64],
                                       struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* Loads the checked files of from (vaern.db, keystore.db, audit.db) into
 * the empty PostgreSQL database of the data directory target, in one
 * transaction: on failure the database stays empty. */
enum vaern_err keys_pg_load(const char *target, const char *from,
                            struct vaern_msg *msg)
        __attribute__((warn_unused_result));

#endif
