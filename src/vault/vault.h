/*
 * vault.h -- the encrypted subject vault.
 *
 * A vault is a data directory: the database (vaern.db) and the master key
 * (master.key, mode 0600, or the environment variable VAERN_MASTER_KEY).
 * It hosts several controllers, one per loaded policy.
 *
 * Cryptography (libsodium; GDPR-32):
 * - each subject has a random 128-bit id and a random 256-bit data key,
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

#define VAULT_DB_FILE         "vaern.db"
#define VAULT_KEY_FILE        "master.key"
#define VAULT_KEY_ENV         "VAERN_MASTER_KEY" /* 64 hex digits */
#define VAULT_UID_BYTES       16
#define VAULT_UID_HEX         (2 * VAULT_UID_BYTES + 1)
#define VAULT_VALUE_MAX       65536 /* bytes in one fact value */
#define VAULT_FACTS_PER_ADD   1024  /* facts in one vault_subject_add */
#define VAULT_CONTROLLERS_MAX 64    /* controllers in one vault */
#define VAULT_SOURCE_MAX      128   /* bytes in a fact's source */

struct vault;

/* A fact to store. The vault copies what it keeps. */
struct vault_fact_in {
	const char *category; /* a category of the controller's policy */
	const char *value;    /* the personal data, NUL-terminated */
	const char *purpose;  /* the purpose it is collected for; the
	                         purpose must use the category */
	const char *source;   /* NULL: the category's declared source */
	int64_t collected_at; /* INT64_MIN: now (the vaern clock) */
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

/* The compiled policy of controller, valid while v is open. */
enum vaern_err vault_policy(struct vault *v, const char *controller,
                            const struct policy **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Calls fn for every loaded controller id in name order. */
enum vaern_err
vault_controller_foreach(struct vault *v,
                         enum vaern_err (*fn)(void *arg, const char *controller,
                                              int64_t loaded_at),
                         void *arg, struct vaern_msg *msg);

/* Batches: see the top of this file. */
enum vaern_err vault_begin(struct vault *v, struct vaern_msg *msg);
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
 * come from the person. Writes the subject's id to uid.
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

/* Frees p. Accepts NULL. */
void vault_prepared_free(struct vault_prepared *p);

/* Finds the subject by one identifier (normalised before lookup). */
enum vaern_err vault_subject_find(struct vault *v, const char *controller,
                                  enum id_type type, const char *value,
                                  unsigned char uid[VAULT_UID_BYTES],
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 4, 5)));

/* Calls fn for each fact of the subject, decrypted, in id order. */
enum vaern_err vault_subject_facts(
        struct vault *v, const char *controller,
        const unsigned char uid[VAULT_UID_BYTES],
        enum vaern_err (*fn)(void *arg, const struct vault_fact_out *f),
        void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

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

/* Records an event of a kind the policy declares (retention anchors). */
enum vaern_err vault_event_record(struct vault *v, const char *controller,
                                  const unsigned char uid[VAULT_UID_BYTES],
                                  const char *kind, int64_t at,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/*
 * Erases the subject: its identifiers, facts, events, consents and wrapped
 * key (crypto-shredding). *nfacts, if not NULL, gets the facts erased.
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
};

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
 * caller learns nothing about which). The secret is compared in constant
 * time.
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
};

typedef enum vaern_err (*vault_audit_fn)(void *arg,
                                         const struct vault_audit_event *e,
                                         struct vaern_msg *msg);

/* Sets where gate decisions are audited. Without one, the gated read
 * refuses everything: no release without an audit entry (GDPR-32). */
void vault_set_audit(struct vault *v, vault_audit_fn fn, void *arg);

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
	size_t nrules;
	struct {
		char rule[VAULT_RULE_MAX + 1]; /* "controller/rule" */
		int64_t facts;
	} rules[VAULT_SWEEP_RULES_MAX];
	int64_t other_rules; /* facts of rules past the table */
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
 * (its wrapped key deleted). Held facts (legal hold) stay. Consent
 * ledgers past their retention (TEL-MKT-2) go. Works in transactions of
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
};

/*
 * Calls fn with the number of facts per rule and due day, in due order
 * (waiting facts first), for controller (NULL: all). The caller groups
 * days into months.
 */
enum vaern_err vault_retention_plan(
        struct vault *v, const char *controller,
        enum vaern_err (*fn)(void *arg, const struct vault_plan_row *r),
        void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

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

/* Tuning for bulk work (benchmarks, import): the page cache in KiB. */
void vault_set_cache_kib(struct vault *v, long kib);

/* Tuning for a server with one vault per worker thread: reads share one
 * mmap of the database instead of a private page cache each. */
void vault_set_shared_reads(struct vault *v);

#endif
