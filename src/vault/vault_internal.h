/*
 * vault_internal.h -- what the files of the vault module share. Not an
 * API: only the .c files of src/vault include it.
 */
#ifndef VAERN_VAULT_INTERNAL_H
#define VAERN_VAULT_INTERNAL_H

#include <limits.h>
#include <sodium.h>
#include <stdatomic.h>

#include "../ids/ids.h"
#include "../store/store.h"
#include "vault.h"

#define KEY_BYTES 32

/* The crypto_kdf context of the blind-index keys, one per controller. */
#define KDF_CTX_BLIND "vaernbix"

/*
 * A compiled policy shared by reference (issue 12): the controller that
 * loaded it holds one reference and every vault_prepared made under it
 * another, so a reload (vault_policy_sync) never frees a policy a create
 * still in flight points into. The last release frees it.
 */
struct vlt_policy {
	atomic_int refs;       /* holders; the last one frees */
	struct policy *policy; /* compiled, owned */
	char version[VAULT_POLICY_VERSION_LEN + 1]; /* of the text */
};

/* A loaded controller: its compiled policy and its blind-index key. */
struct controller {
	char *name;             /* the controller id (owned) */
	int64_t rowid;          /* the store's controller id */
	struct policy *policy;  /* ref->policy */
	struct vlt_policy *ref; /* one reference, owned */
};

/* Takes one more reference to r; vlt_policy_release drops one (and
 * frees r with the last). Both may run on any thread. */
struct vlt_policy *vlt_policy_hold(struct vlt_policy *r);
void vlt_policy_release(struct vlt_policy *r);

/* Forgets the controllers loaded (and drops their references). */
void vlt_controllers_clear(struct vault *v);

/* The keys, in one sodium_malloc'ed block (guard pages, mlock). */
struct keys {
	unsigned char master[KEY_BYTES]; /* from the key file or env */
	unsigned char wrap[KEY_BYTES];   /* derived: wraps data keys */
	unsigned char blind[VAULT_CONTROLLERS_MAX]
	                   [KEY_BYTES]; /* derived per
	             controller slot, see vlt_blind_key */
};

struct vault {
	struct store *store; /* owned */
	struct keys *keys;   /* sodium_malloc'ed, owned */
	struct controller ctrl[VAULT_CONTROLLERS_MAX]; /* loaded lazily */
	size_t nctrl;
	int64_t policy_epoch;    /* the epoch ctrl was loaded in
	                            (vault_policy_sync) */
	int batch;               /* 1 inside vault_begin/commit */
	unsigned char *scratch;  /* ciphertext / plaintext buffer */
	size_t scratch_len;      /* VAULT_VALUE_MAX + overhead */
	unsigned char *pool;     /* random bytes from the kernel,
	                            RANDOM_POOL of them */
	size_t pool_used;        /* bytes of pool handed out */
	int unsub_tokens;        /* prepare makes unsubscribe tokens */
	vault_audit_fn audit_fn; /* where gate decisions go */
	void *audit_arg;
	vault_outbox_fn outbox_fn; /* where messages to people go */
	void *outbox_arg;          /* its argument: by default */
	char outbox_dir[PATH_MAX]; /* DIR/outbox, the spool */
};

/* State of a fact-reading walk. */
struct fact_walk {
	struct vault *v;
	const struct store_subject *s;
	const unsigned char *key; /* the subject's data key */
	enum vaern_err (*fn)(void *arg, const struct vault_fact_out *f);
	void *arg;
	struct vaern_msg *msg;
	size_t count;
};

/* The loaded controller named controller (loads and compiles it). */
enum vaern_err vlt_controller(struct vault *v, const char *name,
                              struct controller **out, struct vaern_msg *msg);

/* The blind-index key of controller c. */
const unsigned char *vlt_blind_key(struct vault *v, const struct controller *c);

/* An operation's own transaction, unless a batch is open; vlt_end commits
 * on success and rolls back on failure, and returns the final result. */
enum vaern_err vlt_begin(struct vault *v, struct vaern_msg *msg);
enum vaern_err vlt_end(struct vault *v, enum vaern_err err,
                       struct vaern_msg *msg);

/* Loads controller and subject row for an operation on a subject. */
enum vaern_err vlt_subject(struct vault *v, const char *controller,
                           const unsigned char uid[VAULT_UID_BYTES],
                           struct controller **c, struct store_subject *s,
                           struct vaern_msg *msg);

/* Computes the blind index of an identifier's normal form in its category:
 * one index per category, so two categories of one identifier type (AURA's
 * installation and contract numbers, both `other`) never collide
 * (AURA-LOGIN-1). */
void vlt_blind_index(const unsigned char *key, enum id_type type,
                     const char *category, const char *norm,
                     unsigned char out[STORE_BLIND_BYTES]);

/* Free text kept with a person (a hold's reason), sealed under the
 * subject's data key (vault_text.c): VLT_TEXT_MAX bytes in, at most
 * VLT_TEXT_SEALED_MAX bytes stored (NUL included). */
#define VLT_TEXT_MAX        512
#define VLT_TEXT_SEALED_MAX 800
enum vaern_err vlt_text_seal(struct vault *v, const struct store_subject *s,
                             const unsigned char key[KEY_BYTES],
                             const char *field, const char *text, char *out,
                             size_t outsz, struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* Opens what vlt_text_seal stored (a value written before sealing began is
 * copied as is) into out (outsz bytes, NUL-terminated; the caller wipes). */
enum vaern_err vlt_text_open(const struct store_subject *s,
                             const unsigned char key[KEY_BYTES],
                             const char *field, const char *stored, char *out,
                             size_t outsz, struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* Rebuilds the identifier indexes per category when the store's schema-5
 * migration asked for it (vault_index.c); VAERN_OK if nothing to do. */
enum vaern_err vlt_identifier_reindex(struct vault *v, struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* Unwraps the subject's data key into key (the caller wipes it). */
enum vaern_err vlt_unwrap_key(struct vault *v, const struct store_subject *s,
                              unsigned char key[KEY_BYTES],
                              struct vaern_msg *msg);

/* The expiry of a new fact (no events yet) and its rule label. */
enum vaern_err vlt_fact_expiry(const struct controller *c, const char *category,
                               int64_t collected_at, int64_t *expires_at,
                               char rule[VAULT_RULE_MAX + 1],
                               struct vaern_msg *msg);
/* Recomputes the expiry of the subject's facts, inside a transaction. */
enum vaern_err vlt_retention_recompute(struct vault *v,
                                       const struct controller *c,
                                       int64_t subject, struct vaern_msg *msg);
/* Sets *held if a hold in force covers category (NULL: any). */
enum vaern_err vlt_subject_held(struct vault *v, int64_t subject,
                                const char *category, int *held,
                                struct vaern_msg *msg);

/* A new unsubscribe token (base64url of 32 random bytes) and the BLAKE2b
 * hash that is kept of it (SHOP-MKT-1). */
void vlt_unsub_token_new(char token[VAULT_UNSUB_TOKEN_MAX],
                         unsigned char hash[32]);

/* Records a use of the consent to purpose pi (in force) by a release
 * (TEL-MKT-2): written at most once per day per subject and purpose. */
enum vaern_err vlt_consent_touch(struct vault *v, const struct controller *c,
                                 int64_t subject, size_t pi,
                                 struct vaern_msg *msg);

/*
 * Whether request id of controller c authorises the release of subject
 * uid's access report (portability 0) or portable copy (1): a request of
 * that type about that subject, open and verified (AOPT-ACCESS-1).
 * VAERN_OK with why naming the request; VAERN_E_NOTFOUND for no such
 * request; VAERN_E_INVALID with msg saying why not.
 */
enum vaern_err vlt_request_authorises(struct vault *v, struct controller *c,
                                      const char *id, const unsigned char *uid,
                                      int portability, char *why, size_t whysz,
                                      struct vaern_msg *msg);

/* Bytes a sealed value adds: the nonce and the tag. */
#define VLT_SEAL_OVERHEAD                                                      \
	(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +                        \
	 crypto_aead_xchacha20poly1305_ietf_ABYTES)

/* n random bytes from the vault's pool. */
void vlt_random(struct vault *v, unsigned char *out, size_t n);
/* Seals len bytes of value under key into out (len + VLT_SEAL_OVERHEAD
 * bytes: a fresh nonce, the ciphertext and its tag), bound to ad. */
void vlt_seal(struct vault *v, unsigned char *out, const unsigned char *value,
              size_t len, const unsigned char *ad, size_t adlen,
              const unsigned char *key);
/* Opens a sealed value into out (ctlen - VLT_SEAL_OVERHEAD bytes and a
 * NUL); VAERN_E_CRYPTO if it does not authenticate. */
enum vaern_err vlt_unseal(unsigned char *out, const unsigned char *ct,
                          size_t ctlen, const unsigned char *ad, size_t adlen,
                          const unsigned char *key, size_t *len,
                          struct vaern_msg *msg);

/* The blind index of a visitor id under controller c's key;
 * VAERN_E_INVALID if visitor is not an id (VAULT_VISITOR_MIN..MAX
 * characters of A-Z a-z 0-9 _ -). */
enum vaern_err vlt_visitor_blind(struct vault *v, const struct controller *c,
                                 const char *visitor,
                                 unsigned char out[STORE_BLIND_BYTES],
                                 struct vaern_msg *msg);

/* store_fact_foreach callback: decrypts a fact and calls the walk's fn. */
enum vaern_err vlt_fact_open(void *arg, const struct store_fact *f);

#endif
