/*
 * vault.h -- the encrypted subject vault.
 *
 * A vault is a data directory: the database (vaern.db) and the master key
 * (master.key, mode 0600, or the environment variable VAERN_MASTER_KEY).
 * It hosts several controllers, one per loaded policy.
 *
 * Cryptography (libsodium; GDPR-32):
 * - each subject has a 128-bit id (96 random bits after a coarse,
 *   keyed-offset clock: VAULT_UID_CLOCK_BYTES) and a random 256-bit data key,
 *   stored only wrapped (XChaCha20-Poly1305) under a key derived from the
 *   master key, with the subject id and controller as associated data;
 * - each fact is encrypted (XChaCha20-Poly1305, random nonce) under the
 *   subject's data key with the subject id, fact id and category as
 *   associated data, so a ciphertext moved to another row fails to open;
 * - identifiers are stored only as blind indexes: a keyed BLAKE2b of the
 *   normalised value under a key derived per controller (crypto_kdf), so
 *   one CPR number in two controllers does not link.
 * Erasing a subject deletes its wrapped key with its rows: what is left of
 * its facts anywhere (a WAL frame, a free page) is noise.
 *
 * Every writing call is one transaction: on failure nothing was written.
 * Between vault_begin() and vault_commit() calls join the caller's
 * transaction instead; a failure then leaves the batch to be rolled back
 * with vault_rollback().
 *
 * Messages name categories, purposes and positions, never a value.
 */
#ifndef VAERN_VAULT_H
#define VAERN_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../gate/gate.h"
#include "../ids/ids.h"
#include "../policy/policy.h"
#include "../rights/rights.h"

#define VAULT_DB_FILE              "vaern.db"
#define VAULT_KEY_FILE             "master.key"
#define VAULT_KEY_ENV              "VAERN_MASTER_KEY" /* 64 hex digits */
#define VAULT_UID_BYTES            16
#define VAULT_UID_CLOCK_BYTES      4 /* a coarse clock first (issue 12) */
#define VAULT_UID_RANDOM_BYTES     (VAULT_UID_BYTES - VAULT_UID_CLOCK_BYTES)
#define VAULT_UID_HEX              (2 * VAULT_UID_BYTES + 1)
#define VAULT_VALUE_MAX            65536 /* bytes in one fact value */
#define VAULT_FACTS_PER_ADD        16384 /* facts in one vault_subject_add */
#define VAULT_FACTS_PER_DOC        1024  /* facts in one API or CLI document */
#define VAULT_CONTROLLERS_MAX      64    /* controllers in one vault */
#define VAULT_POLICY_VERSION_BYTES 16    /* digest of a policy's text */
#define VAULT_POLICY_VERSION_LEN   (2 * VAULT_POLICY_VERSION_BYTES)
#define VAULT_SOURCE_MAX           128 /* bytes in a fact's source */

struct vault;
struct vault_actor;

/* A fact to store. The vault copies what it keeps. */
struct vault_fact_in {
	const char *category; /* a category of the controller's policy */
	const char *value;    /* the personal data, NUL-terminated */
	const char *purpose;  /* the purpose it is collected for; the
	                         purpose must use the category */
	const char *source;   /* NULL: the category's declared source */
	int64_t collected_at; /* INT64_MIN: now (the vaern clock) */
	const char *visitor;  /* the visitor id (as for cookie choices) whose
	                         latest choice allows a purpose with `cookie:
	                         statistics|marketing` (AURA-COOKIE-1); NULL:
	                         none, and such a fact is refused */
};

/* A consent given with the data (GDPR-7), e.g. a newsletter sign-up. */
struct vault_consent_in {
	const char *purpose; /* a purpose with basis (a) or art9 (a) */
	const char *source;  /* one of the purpose's consent.sources */
	int64_t given_at;    /* INT64_MIN: now */
};

/* A fact as read back; valid during the callback only. */
struct vault_fact_out {
	int64_t id;
	const char *category;
	const char *purpose;
	const char *source;
	int64_t collected_at;
	int provided_by_subject;
	int64_t expires_at; /* INT64_MIN if not computed yet */
	const char *value;  /* decrypted, NUL-terminated; wiped after the
	                       callback returns */
	size_t len;
};

/*
 * Creates the data directory dir (mode 0700; it may exist if empty), its
 * database and a new random master key file (mode 0600). Refuses an
 * initialised directory (VAERN_E_EXISTS): it never replaces a key.
 */
enum vaern_err vault_init(const char *dir, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/*
 * Opens the vault in dir. Refuses a key file readable or writable by group
 * or others, or not owned by the user (VAERN_E_DENIED). The caller closes
 * the vault with vault_close().
 */
enum vaern_err vault_open(const char *dir, struct vault **out,
                          struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Closes v and wipes its keys. Accepts NULL. */
void vault_close(struct vault *v);

#define VAULT_TRAFFIC_KEY_BYTES 32

/*
 * The base of the telecom retained-data store's delivery-signing keys
 * (src/traffic, issue 18; TEL-LOG-3), derived from the key hierarchy's
 * index root (src/keys, issue 13; it survives master-key rotations) with
 * crypto_kdf under the context "vaerntrf", subkey 2. WARNING: out is key
 * material; the caller wipes it (sodium_memzero).
 */
void vault_traffic_signing_base(const struct vault *v,
                                unsigned char out[VAULT_TRAFFIC_KEY_BYTES])
        __attribute__((nonnull(1, 2)));

/*
 * The data key of one day (days since the epoch) of controller's traffic
 * store (issue 18), kept wrapped in the keystore (ks.traffic_key) so that
 * a master-key rotation re-wraps it and a keystore backup holds it. If the
 * day has none: with create, a new random key is made and kept (its own
 * transaction, committed before this returns), else VAERN_E_NOTFOUND.
 * WARNING: key is key material; the caller wipes it.
 */
enum vaern_err vault_traffic_day_key(struct vault *v, const char *controller,
                                     long day, int create,
                                     unsigned char key[VAULT_TRAFFIC_KEY_BYTES],
                                     struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 5)));

/*
 * WARNING: crypto-erases. Deletes the keys of controller's traffic days
 * before day (TEL-LOG-1), committed and checkpointed out of the keystore's
 * log before it returns: those days' files are noise from then on.
 * *dropped gets how many keys went.
 */
enum vaern_err
vault_traffic_day_keys_drop(struct vault *v, const char *controller, long day,
                            int64_t *dropped, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 4)));

/*
 * Checks the policy file at path and loads it as its controller (replacing
 * an earlier version of that controller's policy). On VAERN_E_INVALID the
 * problems are in diags. *controller, if not NULL, points to the
 * controller id, valid while v is open.
 */
enum vaern_err vault_policy_load(struct vault *v, const char *path,
                                 struct policy_diags *diags,
                                 const char **controller, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/*
 * The compiled policy of controller, valid while v is open and until the
 * next vault_policy_sync that drops it.
 */
enum vaern_err vault_policy(struct vault *v, const char *controller,
                            const struct policy **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/*
 * The version of controller's policy: VAULT_POLICY_VERSION_LEN lowercase
 * hex digits of the BLAKE2b digest of the policy text as loaded, so it
 * names the very text a decision was made under (issue 12; `vaern policy
 * list` shows it). NULL if the controller cannot be loaded. Valid as
 * vault_policy's answer.
 */
const char *vault_policy_version(struct vault *v, const char *controller)
        __attribute__((nonnull(1, 2)));

/*
 * The versions of controller's policy (issue 15 point 3), oldest first:
 * fn gets each one's version (as vault_policy_version), when it was
 * loaded (seconds since the epoch) and its compiled policy (NULL if the
 * stored text no longer passes the checks; valid during the call). A
 * data directory from before versions were kept lists the one in force.
 * VAERN_E_NOTFOUND for an unknown controller.
 */
typedef enum vaern_err (*vault_version_fn)(void *arg, const char *version,
                                           int64_t loaded_at,
                                           const struct policy *p);
enum vaern_err vault_policy_history(struct vault *v, const char *controller,
                                    vault_version_fn fn, void *arg,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/*
 * A stored version of controller's policy, compiled into *out (the
 * caller frees it with policy_free): the newest whose version starts with
 * version (4 or more hex digits) or, with version NULL, the newest loaded
 * at or before at (what was in force then). found gets its full version.
 * VAERN_E_NOTFOUND if there is none, VAERN_E_INVALID for a malformed or
 * ambiguous version.
 */
enum vaern_err vault_policy_stored(struct vault *v, const char *controller,
                                   const char *version, int64_t at,
                                   struct policy **out,
                                   char found[VAULT_POLICY_VERSION_LEN + 1],
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 5, 6)));

/*
 * A running server's policy reload (issue 12, point 1). The store counts
 * policy loads (store_policy_generation); a watcher turns a change of the
 * count into a new epoch, and each thread's vault calls vault_policy_sync
 * with the newest epoch before a request's first read: if it differs
 * from the epoch its compiled policies were loaded in, they are dropped
 * and reloaded from the store on next use, in the request's snapshot. A
 * request therefore decides under one whole policy, old or new, never a
 * mix; a policy a create still points into lives on by reference until
 * the create is written.
 */
enum vaern_err vault_policy_generation(struct vault *v, int64_t *out,
                                       struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));
void vault_policy_sync(struct vault *v, int64_t epoch)
        __attribute__((nonnull(1)));

/* Calls fn for every loaded controller id in name order. */
enum vaern_err
vault_controller_foreach(struct vault *v,
                         enum vaern_err (*fn)(void *arg, const char *controller,
                                              int64_t loaded_at),
                         void *arg, struct vaern_msg *msg);

/* Batches: see the top of this file. */
enum vaern_err vault_begin(struct vault *v, struct vaern_msg *msg);
/* vault_begin for a batch of vault_subject_write and vault_audit_outbox
 * only, which may run beside another node's (store_begin_shared; issue
 * 14: the HTTP create writer). */
enum vaern_err vault_begin_creates(struct vault *v, struct vaern_msg *msg);
enum vaern_err vault_commit(struct vault *v, struct vaern_msg *msg);
void vault_rollback(struct vault *v);

/*
 * Adds a subject with its facts and the consents given with them.
 * Every fact is checked before anything is written: the category and the
 * purpose exist and the purpose uses the category; identifier categories
 * validate and normalise (and are blind-indexed: unique per controller and
 * identifier type, VAERN_E_EXISTS otherwise); dates are dates; no value
 * holds a full card number (SHOP-PAY-1); a purpose's mandatory categories
 * are all given (CEK-MAND-1); a fact for a consent-only purpose, and a
 * special category under an Art. 9(2)(a) purpose, needs its consent given
 * here (GDPR-7, CEK-SPECIAL-1, SHOP-SPECIAL-1), and such special data must
 * come from the person. A fact of a purpose with `cookie: statistics` or
 * `cookie: marketing` is taken only when its visitor's latest cookie choice
 * (read in the writing transaction) has that category on (AURA-COOKIE-1,
 * AOPT-COOKIE-1, SHOP-MKT-2): VAERN_E_DENIED otherwise, nothing written.
 * Writes the subject's id to uid.
 */
enum vaern_err
vault_subject_add(struct vault *v, const char *controller,
                  const struct vault_fact_in *facts, size_t nfacts,
                  const struct vault_consent_in *consents, size_t nconsents,
                  unsigned char uid[VAULT_UID_BYTES], struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 7)));

/* One subject of a bulk ingest. */
struct vault_subject_in {
	const struct vault_fact_in *facts;
	size_t nfacts;
	const struct vault_consent_in *consents;
	size_t nconsents;
};

/*
 * Adds n subjects, all or nothing, checked exactly as vault_subject_add
 * does. Checking and encryption run on a second thread ahead of the
 * writer. uids (NULL, or n entries) gets the new ids. On failure
 * *failed_at (if not NULL) is the 0-based index of the subject at fault,
 * msg names it, and nothing was written (inside a vault_begin batch: roll
 * the batch back).
 */
enum vaern_err vault_subject_add_many(struct vault *v, const char *controller,
                                      const struct vault_subject_in *subjects,
                                      size_t n,
                                      unsigned char (*uids)[VAULT_UID_BYTES],
                                      size_t *failed_at, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * A subject checked and sealed, ready to write: prepare on any thread with
 * its own vault (the CPU part: validation, blind indexes, encryption),
 * write on the one writer thread inside a batch (vault_begin/commit), so
 * many creates share one commit. The prepared record points into the
 * preparing vault's policy and into the caller's strings (sources): keep
 * both until it is written or freed.
 */
struct vault_prepared;

enum vaern_err
vault_subject_prepare(struct vault *v, const char *controller,
                      const struct vault_fact_in *facts, size_t nfacts,
                      const struct vault_consent_in *consents, size_t nconsents,
                      struct vault_prepared **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 7)));

/* Writes p inside the open batch, under a savepoint: a failure (an
 * identifier taken) undoes this subject only. uid gets its id. */
enum vaern_err vault_subject_write(struct vault *v, struct vault_prepared *p,
                                   unsigned char uid[VAULT_UID_BYTES],
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* 1 if the last vault_subject_write of v failed on a conflict with
 * another node's transaction that a later try may not meet (a deadlock
 * between two batches taking the same identifiers in opposite orders,
 * issue 14): p is intact and may be written again in a later batch. */
int vault_subject_write_busy(const struct vault *v) __attribute__((nonnull));

/* Frees p (its tokens wiped). Accepts NULL. */
void vault_prepared_free(struct vault_prepared *p);

/* The version of the policy p was checked under (vault_policy_version),
 * valid while p is. */
const char *vault_prepared_policy_version(const struct vault_prepared *p)
        __attribute__((nonnull(1)));

/* With on, vault_subject_prepare makes an unsubscribe token for each
 * consent to a direct-marketing purpose on consent (SHOP-MKT-1), for a
 * caller that hands it out (the API's create answer). Off by default. */
void vault_set_unsubscribe_tokens(struct vault *v, int on);

/* The unsubscribe token made for consent i of p, or NULL; *purpose gets the
 * purpose. Valid while p is; only its hash is written. */
const char *vault_prepared_unsubscribe(const struct vault_prepared *p, size_t i,
                                       const char **purpose)
        __attribute__((nonnull(1, 3)));

/* One identifier of a subject named by its category (AURA-LOGIN-1). */
struct vault_identity {
	const char *category; /* an identifier category of the policy */
	const char *value;    /* the identifier as given */
};

#define VAULT_IDENTITIES_MAX 4 /* identifiers of one lookup */

/*
 * The one subject holding every identifier of ids (each in its own
 * category's index): a login pair such as AURA's installation number and
 * contract number (AURA-LOGIN-1). VAERN_E_NOTFOUND when no subject holds
 * them all (the message does not say which one failed); VAERN_E_INVALID
 * for a category that is unknown, not an identifier, or named twice, or a
 * value not valid for its type (the message names the category, never the
 * value).
 */
enum vaern_err
vault_subject_find_identities(struct vault *v, const char *controller,
                              const struct vault_identity *ids, size_t n,
                              unsigned char uid[VAULT_UID_BYTES],
                              struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5)));

/*
 * Finds the subject by one identifier of type (normalised before lookup),
 * in the index of every category of that type: VAERN_E_INVALID, naming
 * the categories, when the value is held in two of them by different
 * subjects (name the category: vault_subject_find_identities).
 */
enum vaern_err vault_subject_find(struct vault *v, const char *controller,
                                  enum id_type type, const char *value,
                                  unsigned char uid[VAULT_UID_BYTES],
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 4, 5)));

/*
 * Adds facts to subject uid of actor's controller (AURA-PORTAL-2,
 * TEL-LOG-1, CEK-RET-4), all or nothing, with every check
 * vault_subject_add makes (a mandatory category already on record need
 * not come again; a consent-only purpose needs its consent in force in
 * the ledger). The gate decides per purpose whether actor's role may
 * collect for it (GATE_COLLECT: AURA-SHARE-1, TEL-LOG-2, GDPR-18,
 * GDPR-21, GDPR-7, CEK-SPECIAL-1): a refusal is audited and is
 * VAERN_E_DENIED; an allow is audited (action "collect") in the write's
 * transaction. *first_id gets the id of the first new fact (the others
 * follow in order). VAERN_E_INVALID names the fact (1-based) and rule.
 */
enum vaern_err vault_facts_add(struct vault *v, const struct vault_actor *actor,
                               const unsigned char uid[VAULT_UID_BYTES],
                               const struct vault_fact_in *facts, size_t nfacts,
                               int64_t *first_id, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 6)));

/* Calls fn for each event of the subject, in time order. */
enum vaern_err vault_subject_events(struct vault *v, const char *controller,
                                    const unsigned char uid[VAULT_UID_BYTES],
                                    enum vaern_err (*fn)(void *arg,
                                                         const char *kind,
                                                         int64_t at),
                                    void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/*
 * Rectifies fact fact_id (GDPR-16): the new value is validated as its
 * category demands and replaces the old one; an identifier's blind index
 * moves with it.
 */
enum vaern_err vault_fact_rectify(struct vault *v, const char *controller,
                                  const unsigned char uid[VAULT_UID_BYTES],
                                  int64_t fact_id, const char *value,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5)));

/* VAERN_OK if the subject exists in controller, VAERN_E_NOTFOUND if not. */
enum vaern_err vault_subject_exists(struct vault *v, const char *controller,
                                    const unsigned char uid[VAULT_UID_BYTES],
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* The category of fact fact_id (no decryption); category gets its id. */
enum vaern_err
vault_fact_category(struct vault *v, const char *controller,
                    const unsigned char uid[VAULT_UID_BYTES], int64_t fact_id,
                    char category[POLICY_NAME_MAX + 1], struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5)));

/*
 * Records an event of a kind the policy declares (retention anchors) at at
 * (INT64_MIN: now) and recomputes the subject's expiries. A future at is
 * refused (VAERN_E_INVALID, naming the event) unless the policy marks the
 * event known_in_advance (AOPT-CUST-1, CEK-RET-5).
 */
enum vaern_err vault_event_record(struct vault *v, const char *controller,
                                  const unsigned char uid[VAULT_UID_BYTES],
                                  const char *kind, int64_t at,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/*
 * Removes the subject whole: its identifiers, facts, events, consents and
 * wrapped key (crypto-shredding). *nfacts, if not NULL, gets the facts
 * erased. Refused under a legal hold.
 *
 * WARNING: this keeps nothing a legal obligation keeps: it is the undo of
 * an import row and the core of the operator's audited override; the
 * Art. 17 erasure is vault_operator_erase / vault_request_erase.
 */
enum vaern_err vault_subject_erase(struct vault *v, const char *controller,
                                   const unsigned char uid[VAULT_UID_BYTES],
                                   size_t *nfacts, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Subject ids as 32 lower-case hex digits. parse: VAERN_E_INVALID if bad. */
void vault_uid_format(const unsigned char uid[VAULT_UID_BYTES],
                      char out[VAULT_UID_HEX]);
enum vaern_err vault_uid_parse(const char *hex,
                               unsigned char uid[VAULT_UID_BYTES],
                               struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* ---- access: actors, subject state, the gated read (issue 3) ---------- */

#define VAULT_TOKEN_MAX 96 /* bytes of a bearer token, NUL included */

/* An authenticated caller. */
struct vault_actor {
	int64_t id;
	char controller[POLICY_NAME_MAX + 1];
	char name[POLICY_NAME_MAX + 1];
	char role[POLICY_NAME_MAX + 1];
	int self; /* 1: the data subject themself, logged in to the portal
	             (issue 16): the gate's GATE_ROLE_SUBJECT, whatever
	             role says; only about subject (vault_actor_subject) */
	unsigned char subject[VAULT_UID_BYTES]; /* self: whose session */
};

/* The actor of a person logged in to the portal (issue 16): name and
 * role "data_subject", bound to uid; audited as the data subject. */
void vault_actor_subject(struct vault_actor *out, const char *controller,
                         const unsigned char uid[VAULT_UID_BYTES])
        __attribute__((nonnull));

/*
 * Adds an actor of controller in role (a role of its policy) and writes
 * its bearer token to token, once: only a hash of the token's secret is
 * stored. Names are [A-Za-z0-9._@-], 1..64 bytes.
 */
enum vaern_err vault_actor_add(struct vault *v, const char *controller,
                               const char *name, const char *role,
                               char token[VAULT_TOKEN_MAX],
                               struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5)));

/* Revokes the named actor's token. */
enum vaern_err vault_actor_revoke(struct vault *v, const char *controller,
                                  const char *name, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Calls fn for each actor of controller (revoked ones included). */
enum vaern_err
vault_actor_foreach(struct vault *v, const char *controller,
                    enum vaern_err (*fn)(void *arg, const char *name,
                                         const char *role, int64_t created_at,
                                         int64_t revoked_at),
                    void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/*
 * Authenticates a bearer token: VAERN_OK and *out, or VAERN_E_DENIED for
 * an unknown, malformed or revoked token (one message for all, so a
 * caller learns nothing about which); VAERN_E_STORE (its message says
 * why) when the store could not be read, which says nothing about the
 * token. The secret is compared in constant time.
 */
enum vaern_err vault_actor_auth(struct vault *v, const char *token,
                                struct vault_actor *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Restriction of processing on or off (GDPR-18). */
enum vaern_err vault_subject_restrict(struct vault *v, const char *controller,
                                      const unsigned char uid[VAULT_UID_BYTES],
                                      int on, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Objection to direct marketing recorded or lifted (GDPR-21). */
enum vaern_err vault_subject_object(struct vault *v, const char *controller,
                                    const unsigned char uid[VAULT_UID_BYTES],
                                    int on, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/*
 * Records consent to purpose given (withdraw = 0) or withdrawn (1), from
 * source, at time at (INT64_MIN: now). Appended: earlier records stay
 * (GDPR-7: withdrawal is not retroactive). Giving needs a source the
 * policy lists for the purpose.
 */
enum vaern_err vault_consent_record(struct vault *v, const char *controller,
                                    const unsigned char uid[VAULT_UID_BYTES],
                                    const char *purpose, const char *source,
                                    int withdraw, int64_t at,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5)));

/* Records a prior agreement with the person to disclose to recipient, or
 * its withdrawal (CEK-SHARE-1). */
enum vaern_err vault_agreement_record(struct vault *v, const char *controller,
                                      const unsigned char uid[VAULT_UID_BYTES],
                                      const char *recipient, int withdraw,
                                      int64_t at, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/* What a caller asks for. */
struct vault_access {
	const struct vault_actor *actor;
	const char *purpose;
	enum gate_action action;
	const char *const *categories; /* NULL: all the purpose uses */
	size_t ncategories;
	const char *recipient;  /* GATE_DISCLOSE only */
	const char *demand;     /* e.g. "court_order" */
	const char *demand_ref; /* its reference */
};

/* One gate decision, as the audit trail records it: ids only. */
struct vault_audit_event {
	const char *controller;
	const char *actor;
	const char *role;
	const char *purpose;
	const char *action;           /* "read", "export", "disclose:<id>" */
	const unsigned char *subject; /* VAULT_UID_BYTES, or NULL */
	const char *categories;       /* released (allow) or asked (deny),
	                                 comma-separated */
	int allowed;
	const char *rule;
	const char *reason;
	const char *policy; /* the policy version decided under, or NULL:
	                       named by the audit hook (and by
	                       vault_audit_outbox) */
	int64_t outbox_id;  /* 0; or its row in the audit outbox, written
	                       with the change it records (the hook moves
	                       it into the trail: audit.h) */
	int64_t at;         /* 0: now; else when the change was made */
};

typedef enum vaern_err (*vault_audit_fn)(void *arg,
                                         const struct vault_audit_event *e,
                                         struct vaern_msg *msg);

/* Sets where gate decisions are audited. Without one, the gated read
 * refuses everything: no release without an audit entry (GDPR-32). */
void vault_set_audit(struct vault *v, vault_audit_fn fn, void *arg);

#define VAULT_AUDIT_KEY_BYTES 32

/*
 * The audit trail's MAC key (audit.h) into key: 32 random bytes kept in
 * the keystore wrapped under the master key, as the root key "audit_mac"
 * (keys_root_get, src/keys: re-wrapped by every master-key rotation).
 * create: make and keep one if there is none, with the trail's pending
 * head, in a transaction of its own (not inside vault_begin); else
 * VAERN_E_NOTFOUND when there is none. The caller wipes key.
 */
enum vaern_err vault_audit_key(struct vault *v, int create,
                               unsigned char key[VAULT_AUDIT_KEY_BYTES],
                               struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/*
 * Inside the transaction of the change e records (vault_begin, or a
 * vault function's own): keeps e in the data store's audit outbox, so
 * the change and its entry commit as one (DESIGN.md "Storage"; issue
 * 12). Sets e->outbox_id (and e->at to now if 0). After the commit the
 * caller hands e to the audit hook, which moves it into the trail; a
 * crash before that leaves it for the next start-up to move.
 */
enum vaern_err vault_audit_outbox(struct vault *v, struct vault_audit_event *e,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * Commits e with the next change v makes in a transaction of its own:
 * the next successful commit of a vault call (outside vault_begin) first
 * keeps e in the audit outbox (vault_audit_outbox sets e->outbox_id),
 * then forgets e. For a change a single call makes in one transaction
 * (rectify, an event, restriction, objection, an agreement). The caller
 * forgets it after the call either way (e NULL), then audits e if the
 * call succeeded: the hook moves it, or (outbox_id 0: nothing was
 * committed with it) appends it.
 */
void vault_audit_next_change(struct vault *v, struct vault_audit_event *e)
        __attribute__((nonnull(1)));

/* Completes the event of vault_audit_next_change inside the change's
 * transaction, just before it is written (a reason known only then). */
typedef void (*vault_audit_prepare_fn)(void *arg, struct vault_audit_event *e);

/* Sets fn(arg, e) to run on the event given to vault_audit_next_change
 * (call it after that one, which forgets any earlier fn). */
void vault_audit_prepare(struct vault *v, vault_audit_prepare_fn fn, void *arg)
        __attribute__((nonnull(1)));

/*
 * The gated read (DESIGN.md "One gate"): reads the subject's state, asks
 * the gate, audits the decision (allowed or denied) and, only if allowed
 * and audited, decrypts and passes to fn the facts of the released
 * categories. *d gets the decision. Returns VAERN_E_DENIED on a deny
 * (msg = the reason), VAERN_OK when released.
 */
enum vaern_err vault_subject_access(
        struct vault *v, const unsigned char uid[VAULT_UID_BYTES],
        const struct vault_access *a,
        enum vaern_err (*fn)(void *arg, const struct vault_fact_out *f),
        void *arg, struct gate_decision *d, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 6)));

enum vault_export {
	VAULT_EXPORT_ACCESS,     /* the access report (GDPR-15) */
	VAULT_EXPORT_PORTABILITY /* the portable copy (GDPR-20) */
};

/* A category the answer holds back from the asking role, and why. */
struct vault_withheld {
	size_t category;  /* index into the policy's categories */
	size_t facts;     /* the subject's facts of it (not decrypted) */
	const char *rule; /* the rule that withholds it (static) */
	char reason[GATE_REASON_MAX]; /* ids only */
};

/*
 * The read behind a person's access report or portable copy: asks the
 * gate (GATE_ANSWER) who may answer and which categories it may show,
 * audits the decision (allowed or denied, rule GDPR-15 or GDPR-20, the
 * categories released), and only then passes the released facts to fn
 * (the caller shapes the answer, src/report/). A category the role may
 * not see (TEL-LOG-2: logging data to an uncleared role) is not
 * decrypted: it goes to withheld (NULL, or room for the policy's
 * categories; *nwithheld its count) with the rule, so the report can
 * still tell the person it exists (GDPR-15(1)).
 *
 * Without a request (request NULL) only a role with `audit: true` (the
 * data-protection officer), or the local operator, answers:
 * VAERN_E_DENIED for another role.
 *
 * With request, the id of a rights request of the actor's controller, the
 * request authorises the answer to any actor who handles the controller's
 * requests: it must be about this subject, of this kind (access or
 * portability), open and verified (AOPT-ACCESS-1); otherwise
 * VAERN_E_INVALID saying why (audited as refused), or VAERN_E_NOTFOUND
 * for no such request (nothing audited). The entry (action
 * "request_report") names the request.
 */
enum vaern_err vault_subject_export(
        struct vault *v, const struct vault_actor *actor,
        const unsigned char uid[VAULT_UID_BYTES], enum vault_export kind,
        const char *request,
        enum vaern_err (*fn)(void *arg, const struct vault_fact_out *f),
        void *arg, struct vault_withheld *withheld, size_t *nwithheld,
        struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 6)));

#define VAULT_RULE_MAX (2 * POLICY_NAME_MAX + 1) /* "controller/rule" */

/* ---- retention (issue 4) ---------------------------------------------- */

#define VAULT_SWEEP_RULES_MAX 64 /* rules counted by name in a report */

/* What a sweep did (or, dry, would do). */
struct vault_sweep_report {
	int64_t facts_deleted;
	int64_t facts_anonymised; /* facts that became anonymised records */
	int64_t anon_records;     /* anonymised records kept */
	int64_t subjects_shredded;
	int64_t facts_held;       /* due, kept by a legal hold (CEK-HOLD-1) */
	int64_t consents_expired; /* consent ledgers past their retention */
	int64_t visits_deleted;   /* visits and pixels (AURA-RET-1) */
	size_t nrules;
	struct {
		char rule[VAULT_RULE_MAX + 1]; /* "controller/rule" */
		int64_t facts;
		int64_t visits; /* visits and pixels */
	} rules[VAULT_SWEEP_RULES_MAX];
	int64_t other_rules; /* facts and visits of rules past the table */
	int stopped;         /* 1 if the progress callback stopped it: what
	                        was done is whole, the rest waits for the
	                        next sweep */
};

/*
 * Progress of a sweep, called after each committed (and audited) batch:
 * done due facts examined so far, of total (counted when the sweep
 * started; held facts included). Returns 0 to go on, non-zero to stop
 * there (a server shutting down).
 */
typedef int (*vault_progress_fn)(void *arg, int64_t done, int64_t total);

/*
 * Removes everything due at as_of (seconds): each due fact is deleted or,
 * when its rule anonymises, its kept categories become an anonymised
 * record (TEL-STAT-1); a subject with nothing left is crypto-shredded
 * (its wrapped key deleted): no fact, no consent in force, no consent
 * ledger kept past its withdrawal. Held facts (legal hold) stay. Consent
 * ledgers past their retention (TEL-MKT-2) go, and visitors' visits and
 * pixels past theirs (AURA-RET-1; no subject, so no hold applies), then
 * the data keys of the days they emptied. Works in transactions of
 * up to 16,384 due facts (the first ones smaller), each subject whole in
 * one (all its due facts, not only those of the page): killed half-way,
 * it leaves nothing half-deleted and the next sweep completes it. Holds
 * are read again in each transaction. Each committed batch that changed
 * something is audited with its counts by rule. progress (may be NULL)
 * may stop it between batches (rep->stopped). dry_run: counts only,
 * changes nothing.
 */
enum vaern_err vault_retention_sweep(struct vault *v, int64_t as_of,
                                     int dry_run, vault_progress_fn progress,
                                     void *parg, struct vault_sweep_report *rep,
                                     struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 6)));

/* One line of a retention plan. */
struct vault_plan_row {
	const char *controller;
	const char *rule;   /* the rule id, or "(none)" */
	const char *action; /* "delete", "anonymise" */
	const char *clause; /* the clause it implements, or NULL */
	int legal;          /* 1 if a legal obligation (bookkeeping) */
	int64_t due;        /* the day it goes; INT64_MIN: waiting for an
	                       event (open relationship) */
	int64_t facts;
	int64_t visits; /* visits and pixels of visitors (no subject) */
	int restricted; /* 1: a line of its own after the others, the facts
	                   of the rule a restriction holds (GDPR-18; a sweep
	                   keeps them, whatever their date) */
};

/*
 * Calls fn with the number of facts, or of visits, per rule and due day,
 * in due order (waiting facts first: undated, issue 10), for controller
 * (NULL: all). A row counts facts or visits, never both. The caller
 * groups days into months. Then one row per rule with restricted set:
 * the facts a restriction holds (also counted in their due rows).
 */
enum vaern_err vault_retention_plan(
        struct vault *v, const char *controller,
        enum vaern_err (*fn)(void *arg, const struct vault_plan_row *r),
        void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/*
 * Calls fn with the number of facts of controller that a legal hold in
 * force covers (CEK-HOLD-1), per retention rule id ("(none)" for facts
 * without one): the retention view calls them out (issue 20). They are
 * counted in their due rows of the plan too; the sweep keeps them.
 */
enum vaern_err vault_retention_held(struct vault *v, const char *controller,
                                    enum vaern_err (*fn)(void *arg,
                                                         const char *rule,
                                                         int64_t facts),
                                    void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Recomputes the expiry of every fact of the subject (after its events
 * changed). vault_event_record calls it itself. */
enum vaern_err
vault_retention_recompute(struct vault *v, const char *controller,
                          const unsigned char uid[VAULT_UID_BYTES],
                          struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* A legal hold as read back. */
struct vault_hold {
	int64_t id;
	const char *category; /* NULL: the whole subject */
	const char *reason;
	int64_t review_at; /* INT64_MIN if none */
	int64_t placed_at;
	const char *placed_by;
	int64_t lifted_at; /* INT64_MIN while in force */
};

#define VAULT_HOLD_REASON_MAX 512

/*
 * Places a legal hold (CEK-HOLD-1) on the subject, or on one category of
 * it (category NULL: all): held data is never swept and never erased.
 * reason (1..VAULT_HOLD_REASON_MAX bytes of text) says why; review_at
 * (INT64_MIN: none) when to look again. *id gets the hold's number. The
 * audit entry names placed_by in role (NULL: "retention", the local
 * operator); the reason is the operator's words and stays out of it.
 */
enum vaern_err
vault_hold_place(struct vault *v, const char *controller,
                 const unsigned char uid[VAULT_UID_BYTES], const char *category,
                 const char *reason, int64_t review_at, const char *placed_by,
                 const char *role, int64_t *id, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5, 7, 9)));
/* Lifts hold id (VAERN_E_NOTFOUND if none of the subject is in force),
 * audited as lifted_by in role (NULL: "retention"). */
enum vaern_err vault_hold_lift(struct vault *v, const char *controller,
                               const unsigned char uid[VAULT_UID_BYTES],
                               int64_t id, const char *lifted_by,
                               const char *role, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5)));
enum vaern_err
vault_hold_foreach(struct vault *v, const char *controller,
                   const unsigned char uid[VAULT_UID_BYTES],
                   enum vaern_err (*fn)(void *arg, const struct vault_hold *h),
                   void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));
/* Sets *held if a hold in force covers category (NULL: any) of the
 * subject. */
enum vaern_err vault_subject_held(struct vault *v, const char *controller,
                                  const unsigned char uid[VAULT_UID_BYTES],
                                  const char *category, int *held,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5)));

/* The rights requests and their execution (issue 5). */
#include "vault_rights.h"

/* ---- the consent ledger (issue 4: GDPR-7, TEL-MKT-2, SHOP-MKT-1) ------- */

#define VAULT_CONSENT_TEXT_MAX 16384 /* bytes of a consent text shown */
#define VAULT_TEXT_HASH_BYTES  32    /* SHA-256 of a consent text */
#define VAULT_UNSUB_TOKEN_MAX  48    /* an unsubscribe token + NUL */
#define VAULT_VISITOR_MIN      8     /* bytes of a visitor id */
#define VAULT_VISITOR_MAX      64

/* A consent given or withdrawn. */
struct vault_consent_act {
	const char *purpose; /* a purpose with basis (a) or art9 (a) */
	const char *source;  /* give: one of the purpose's consent.sources;
	                        withdraw: any channel (a-z 0-9 _ -) */
	int withdraw;        /* 0 give, 1 withdraw */
	int64_t at;          /* INT64_MIN: now; never in the future, never
	                        before the purpose's latest record */
	const char *text;    /* give: the text shown (kept once, by its
	                        SHA-256), or NULL */
	const unsigned char *text_hash; /* give: the SHA-256 of a text on
	                                   record, or NULL; with neither,
	                                   the policy's consent.text */
};

/* What recording it did. */
struct vault_consent_done {
	int64_t at;        /* the record's time */
	int has_text_hash; /* give: 1 */
	unsigned char text_hash[VAULT_TEXT_HASH_BYTES];
	char unsubscribe_token[VAULT_UNSUB_TOKEN_MAX]; /* give to a direct-
	                        marketing purpose: a new token, shown only
	                        here (only its hash is kept); "" otherwise.
	                        The caller wipes it. */
	int64_t expires_at; /* withdraw: when the ledger of the purpose
	                       goes (TEL-MKT-2). When no rule holds it, it
	                       goes with the subject: the withdrawal's time
	                       if nothing else keeps the subject (the next
	                       sweep takes both), else INT64_MIN */
};

/*
 * Records consent given or withdrawn (GDPR-7), appended as a new row of
 * the ledger: nothing is overwritten, so processing before a withdrawal
 * stays documented. Giving keeps the text shown once under its SHA-256
 * and, for a direct-marketing purpose, makes an unsubscribe token
 * (SHOP-MKT-1, AOPT-MKT-1). Withdrawing computes when the purpose's
 * ledger goes (retention_consent_expiry). Either records the events the
 * policy ties to it (on_consent, on_withdrawal; SHOP-MKT-1) and
 * recomputes the subject's expiries. A record dated before the purpose's
 * latest one, or a withdrawal dated before the consent's last use, is
 * refused (GDPR-7: never retroactive). One transaction; on failure
 * nothing is written. VAERN_E_INVALID names the field at fault;
 * VAERN_E_EXISTS: a withdrawal with no consent in force. Not audited
 * here: the caller audits (vault_audit_record).
 */
enum vaern_err vault_consent_apply(struct vault *v, const char *controller,
                                   const unsigned char uid[VAULT_UID_BYTES],
                                   const struct vault_consent_act *act,
                                   struct vault_consent_done *done,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5)));

/* One record of the ledger as read back; valid during the callback. */
struct vault_consent_rec {
	const char *purpose;
	int64_t seq; /* 1.. per purpose, in the order recorded */
	int64_t at;
	int withdrawn; /* 1: a withdrawal */
	const char *source;
	const unsigned char *text_hash; /* VAULT_TEXT_HASH_BYTES, or NULL */
};

/* Calls fn for each record of the subject's ledger, in time order. */
enum vaern_err vault_consent_history(
        struct vault *v, const char *controller,
        const unsigned char uid[VAULT_UID_BYTES],
        enum vaern_err (*fn)(void *arg, const struct vault_consent_rec *r),
        void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/* A purpose's consent now: in force, last use, when its ledger goes
 * (INT64_MIN for none). */
struct vault_consent_state {
	int in_force;
	int64_t last_used;
	int64_t expires_at;
};
enum vaern_err vault_consent_state(struct vault *v, const char *controller,
                                   const unsigned char uid[VAULT_UID_BYTES],
                                   const char *purpose,
                                   struct vault_consent_state *st,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5)));

/* The consent text kept under hash, into a malloc'ed *text the caller
 * frees; VAERN_E_NOTFOUND if none. */
enum vaern_err
vault_consent_text(struct vault *v,
                   const unsigned char hash[VAULT_TEXT_HASH_BYTES], char **text,
                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Parses 64 hex digits into hash; VAERN_E_INVALID otherwise. */
enum vaern_err vault_text_hash_parse(const char *hex,
                                     unsigned char hash[VAULT_TEXT_HASH_BYTES],
                                     struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* What an unsubscribe token stands for. */
struct vault_unsubscribe {
	char controller[POLICY_NAME_MAX + 1];
	unsigned char uid[VAULT_UID_BYTES];
	char purpose[POLICY_NAME_MAX + 1];
	int in_force; /* 1 while the consent is not withdrawn */
};

/*
 * Finds what token stands for (SHOP-MKT-1); changes nothing.
 * VAERN_E_NOTFOUND for a malformed, unknown or expired token, with one
 * message for all.
 */
enum vaern_err vault_unsubscribe_find(struct vault *v, const char *token,
                                      struct vault_unsubscribe *out,
                                      struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Cookie choices of a visitor (AURA-COOKIE-1, AOPT-COOKIE-1, SHOP-MKT-2);
 * necessary cookies are always on. */
struct vault_choice {
	int statistics;
	int marketing;
	const char *source; /* "banner", "gpc", ...: a-z 0-9 _ - */
	int64_t at;         /* INT64_MIN: now (put); the time (get) */
};

/* What recording a choice deleted: the visitor's stored data of each
 * category the choice has off. */
struct vault_choice_done {
	int64_t visits_deleted; /* statistics off */
	int64_t pixels_deleted; /* marketing off */
};

/*
 * Appends a visitor's choice, stored against a blind index of the
 * visitor id (keyed per controller: the id itself is not kept). A
 * visitor id is VAULT_VISITOR_MIN..MAX characters of A-Z a-z 0-9 _ -.
 * In the same transaction, the visitor's stored visits go when the choice
 * has statistics off, its pixels when it has marketing off: a withdrawn
 * cookie consent ends the processing at once (GDPR-7, GDPR-21,
 * GDPR-17(1)(b)-(c)). done (may be NULL) gets the counts.
 */
enum vaern_err
vault_choice_put(struct vault *v, const char *controller, const char *visitor,
                 const struct vault_choice *ch, struct vault_choice_done *done,
                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));
/* The latest choice (source copied into source); VAERN_E_NOTFOUND if the
 * visitor never chose. */
enum vaern_err vault_choice_get(struct vault *v, const char *controller,
                                const char *visitor, struct vault_choice *ch,
                                char source[VAULT_SOURCE_MAX + 1],
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5)));

/* ---- visit data (AURA-COOKIE-1, SHOP-MKT-2, AURA-RET-1) ---------------- */

#define VAULT_PAGE_MAX 2048 /* bytes of a page address */
#define VAULT_IP_MAX   45   /* bytes of an IP address in text (IPv6) */

/* What was collected automatically: a visit (statistics cookies) or a
 * marketing pixel (marketing cookies). */
enum vault_visit_kind {
	VAULT_VISIT = 1, /* AURA-COOKIE-1: needs the statistics choice */
	VAULT_PIXEL = 2  /* SHOP-MKT-2: needs the marketing choice */
};

struct vault_visit_in {
	enum vault_visit_kind kind;
	const char *ip;        /* IPv4 or IPv6 text; required for a visit,
	                          NULL for none on a pixel */
	const char *page;      /* 1..VAULT_PAGE_MAX bytes of text, or NULL */
	const char *recipient; /* a pixel's recipient: a policy recipient of
	                          the pixel purpose, or NULL */
};

struct vault_visit_done {
	int64_t at;         /* when it was collected (now) */
	int64_t expires_at; /* when the sweep deletes it (AURA-RET-1) */
	char rule[VAULT_RULE_MAX + 1]; /* the deciding rule's id */
	char purpose[POLICY_NAME_MAX + 1];
};

/*
 * Stores data collected automatically about visitor, sealed under the
 * controller's data key of its expiry day (see vault_visit.c), with its
 * expiry from the policy's retention rules of the categories of the
 * purpose that names the cookie category (cookie: statistics for a
 * visit, marketing for a pixel): the latest rule wins, counted from the
 * collection (anchor `collected` or `financial_year_end`; a visitor has
 * no events). The IP address is kept in its normal text form.
 *
 * In one transaction that first reads the visitor's latest choice:
 * VAERN_E_DENIED (nothing stored) when that choice has the category off
 * or the visitor never chose, when the policy has no purpose with the
 * cookie category, or when a rule of one of its categories counts only
 * from an event (no date: nothing is kept without one). VAERN_E_INVALID
 * names the field at fault, never its value. Not audited here.
 */
enum vaern_err
vault_visit_add(struct vault *v, const char *controller, const char *visitor,
                const struct vault_visit_in *in, struct vault_visit_done *done,
                struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5)));

/* One stored visit as read back; valid during the callback only. */
struct vault_visit_out {
	enum vault_visit_kind kind;
	int64_t at;
	int64_t expires_at;
	const char *rule;      /* the deciding rule's id */
	const char *ip;        /* NULL if none */
	const char *page;      /* NULL if none */
	const char *recipient; /* NULL if none */
};

/*
 * Calls fn for each stored visit and pixel of visitor, by time (the
 * controller's answer to a visitor's access request, GDPR-15), for actor
 * of its controller: the gate decides (GATE_ANSWER: the data-protection
 * officer or the local operator; VAERN_E_DENIED for another role) and the
 * decision is audited (action "visitor_visits", the categories of the
 * cookie purposes, no visitor id) before anything is decrypted.
 */
enum vaern_err vault_visit_foreach(
        struct vault *v, const struct vault_actor *actor, const char *visitor,
        enum vaern_err (*fn)(void *arg, const struct vault_visit_out *o),
        void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/* Writes e to the attached audit trail (VAERN_OK without one). */
enum vaern_err vault_audit_record(struct vault *v,
                                  const struct vault_audit_event *e,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* ---- webhook events (issue 19, point 6; vault_webhook.c) ----
 *
 * Events are queued in the store with the change they tell of, while
 * some endpoint is registered (vault_webhook_endpoints); the server's
 * delivery thread (src/outbox/webhook.c) reads each endpoint's next one
 * and acknowledges it once the endpoint answered 2xx. Bodies carry ids,
 * types, statuses and dates, never personal data. */

/* The longest "due within" of the deadline scan, in days. */
#define VAULT_WEBHOOK_DUE_MAX 90

struct store_webhook_event;
struct json_t;

/* Queues event type of controller (may be NULL) with data (an object,
 * stolen; NULL: {}) in a transaction of its own: a sweep done, a policy
 * loaded. */
enum vaern_err vault_webhook_event(struct vault *v, const char *type,
                                   const char *controller, struct json_t *data,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Queues "retention.sweep_done" with the counts of rep (and the
 * retained-data days deleted), in a transaction of its own. */
struct vault_sweep_report;
enum vaern_err vault_webhook_sweep(struct vault *v,
                                   const struct vault_sweep_report *rep,
                                   uint64_t traffic_days, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Queues the deadline events not queued before: each open request due
 * within within_days days (request.due_soon) or past due
 * (request.overdue), once per deadline; breach clocks and case
 * deadlines (breach.clock_started, breach.deadline_near,
 * breach.deadline_passed, incident.receipt_overdue,
 * incident.feedback_overdue), once per case. */
enum vaern_err vault_webhook_scan(struct vault *v, long within_days,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/* Open rights requests of every controller due within 7 days (today
 * included) and past due (GDPR-12), for /metrics. */
enum vaern_err vault_request_counts(struct vault *v, long *due_soon,
                                    long *overdue, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Registers exactly the endpoints keys[0..n) (digests of their URLs):
 * see store_webhook_endpoints. */
enum vaern_err vault_webhook_endpoints(struct vault *v, const char *const *keys,
                                       size_t n, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/* Endpoint key's next event and the number waiting (pending may be
 * NULL); VAERN_E_NOTFOUND if none. */
enum vaern_err vault_webhook_next(struct vault *v, const char *key,
                                  struct store_webhook_event *e,
                                  int64_t *pending, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Endpoint key acknowledged every event up to id; events every endpoint
 * has are deleted. */
enum vaern_err vault_webhook_ack(struct vault *v, const char *key, int64_t id,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

#endif
