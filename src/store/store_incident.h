/*
 * store_incident.h -- the rows of security reports and the breach
 * register (issue 17). Like store.h: rows only, never a value in clear
 * (every text of a case is sealed by src/vault/vault_incident.c before it
 * gets here); writes run inside the caller's store_begin/store_commit.
 */
#ifndef VAERN_STORE_INCIDENT_H
#define VAERN_STORE_INCIDENT_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "store.h"

#define STORE_CASE_MAX  24 /* bytes of a case number, NUL included */
#define STORE_HASH32    32 /* a BLAKE2b digest */
#define STORE_CLASS_MAX 24 /* bytes of a classification, NUL included */

/* A case row. The blobs are sealed (nonce || ciphertext || tag); a row
 * read back owns them (malloc) until store_incident_clear. */
struct store_incident {
	int64_t rowid;                 /* the store's key */
	int64_t controller;            /* controller rowid */
	char case_id[STORE_CASE_MAX];  /* public case number */
	unsigned char secret_hash[32]; /* BLAKE2b of the follow-up secret */
	unsigned char addr_hash[16];   /* keyed hash of the sender's
	                                  address: the rate limit only */
	int64_t received_at;
	unsigned char *wrapped_key; /* the case key, wrapped */
	size_t wrapped_len;
	unsigned char *report; /* sealed JSON of the texts */
	size_t report_len;
	int has_contact;                 /* 1: the reporter gave one */
	long receipt_due, feedback_due;  /* days (SHOP-BREACH-2) */
	int64_t receipt_at, feedback_at; /* STORE_NO_TIME: not yet */
	unsigned char *feedback;         /* sealed feedback text, or NULL */
	size_t feedback_len;
	int closed;                           /* 1: the case is closed */
	char classification[STORE_CLASS_MAX]; /* incident_class_name */
	int64_t aware_at;                     /* STORE_NO_TIME: unknown */
	unsigned char *reg;                   /* sealed JSON of the register
	                                         fields, or NULL */
	size_t reg_len;
	int nfiles; /* screenshots */
	int64_t updated_at;
};

/* Frees the blobs of r (accepts a zeroed row). */
void store_incident_clear(struct store_incident *r);

/* Inserts r (rowid set on success); VAERN_E_EXISTS for a taken case id. */
enum vaern_err store_incident_insert(struct store *st, struct store_incident *r,
                                     struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Case case_id of controller (0: any controller) into r;
 * VAERN_E_NOTFOUND if none. */
enum vaern_err store_incident_get(struct store *st, int64_t controller,
                                  const char *case_id, struct store_incident *r,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));

/* Writes back the mutable columns of r (receipt, feedback, closed,
 * classification, awareness, register, updated_at). */
enum vaern_err store_incident_update(struct store *st,
                                     const struct store_incident *r,
                                     struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Calls fn for each case of controller (0: every controller), by receipt
 * time; r is valid during the call. */
enum vaern_err store_incident_foreach(
        struct store *st, int64_t controller,
        enum vaern_err (*fn)(void *arg, const struct store_incident *r),
        void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/* The number of cases from address hash addr received at or after
 * since (the per-address rate limit). */
enum vaern_err
store_incident_count_addr(struct store *st, const unsigned char addr[16],
                          int64_t since, int64_t *n, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 4)));

/* Adds screenshot seq (1..) of case rowid: its type and sealed bytes. */
enum vaern_err store_incident_file_insert(struct store *st, int64_t incident,
                                          int seq, const char *type,
                                          const unsigned char *sealed,
                                          size_t len, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 4, 5)));

/* The sealed bytes of screenshot seq of case rowid (malloc'ed into
 * *out, the caller frees) and its type; VAERN_E_NOTFOUND if none. */
enum vaern_err store_incident_file_get(struct store *st, int64_t incident,
                                       int seq, char type[16],
                                       unsigned char **out, size_t *len,
                                       struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 4, 5, 6)));

/* The Art. 34 messages of a case (GDPR-33, issue 17 point 5): whether
 * subject has had one, recording one (VAERN_E_EXISTS the second time),
 * and how many were sent. */
enum vaern_err
store_incident_notice_has(struct store *st, int64_t incident,
                          const unsigned char subject[STORE_UID_BYTES],
                          int *has, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));
enum vaern_err
store_incident_notice_insert(struct store *st, int64_t incident,
                             const unsigned char subject[STORE_UID_BYTES],
                             int64_t at, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));
enum vaern_err store_incident_notice_count(struct store *st, int64_t incident,
                                           int64_t *n, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/* The tables, run by the schema set-up (store_sqlite.c) inside its
 * transaction; an SQLite result code. */
struct db;
int store_incident_schema(struct db *db, char **errmsg);

#endif
