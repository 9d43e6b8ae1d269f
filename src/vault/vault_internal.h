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
#include "../keys/keys.h"
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
	char *name;                  /* the controller id (owned) */
	int64_t rowid;               /* the store's controller id */
	struct policy *policy;       /* ref->policy */
	struct vlt_policy *ref;      /* one reference, owned */
	struct vlt_changes *changes; /* the purposes new or widened since
	                                people were added (CEK-PURP-5;
	                                vault_notice.c), owned; NULL until
	                                read */
};

/* The controllers' names, copied (a list read before any write); the
 * caller frees name. */
struct vlt_names {
	char (*name)[POLICY_NAME_MAX + 1];
	size_t n, cap;
};
/* A store_controller_foreach callback appending name to arg (a struct
 * vlt_names *); VAERN_E_NOMEM if it cannot grow. */
enum vaern_err vlt_name_add(void *arg, const char *name, int64_t loaded_at);

/* ---- CEK-PURP-5 (vault_notice.c) ---------------------------------------- */

struct vlt_changes;
void vlt_changes_free(struct vlt_changes *ch);
/* Reads what the versions loaded made new or widened, for the policy in
 * force, into c->changes. */
enum vaern_err vlt_changes_read(struct vault *v, struct controller *c,
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* Records, in the caller's transaction, what b (version, loaded at since)
 * makes new or widened over the text in force until now (old_text). */
enum vaern_err vlt_changes_record(struct vault *v, const char *controller,
                                  const char *old_text, size_t old_len,
                                  const struct policy *b, const char *version,
                                  int64_t since, struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* Sets untold[pi] (indexed like c's purposes) for each purpose the
 * person s may not yet have used for their data (gate_state.untold).
 * consent ([npurposes], or NULL): the consents in force; one to a purpose
 * that is new since the person was added counts as told. */
enum vaern_err vlt_untold(struct vault *v, const struct controller *c,
                          const struct store_subject *s,
                          const unsigned char *consent, unsigned char *untold,
                          struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* The version of a policy text: the hex BLAKE2b digest vault_policy_version
 * gives (vault_policy.c). */
void vlt_policy_digest(const char *text, size_t len,
                       char out[VAULT_POLICY_VERSION_LEN + 1]);

/* Takes one more reference to r; vlt_policy_release drops one (and
 * frees r with the last). Both may run on any thread. */
struct vlt_policy *vlt_policy_hold(struct vlt_policy *r);
void vlt_policy_release(struct vlt_policy *r);

/* Forgets the controllers loaded (and drops their references). */
void vlt_controllers_clear(struct vault *v);

/* The derived keys, in one sodium_malloc'ed block (guard pages, mlock);
 * the master keys and the index root are in the ring (src/keys). */
struct keys {
	unsigned char blind[VAULT_CONTROLLERS_MAX]
	                   [KEY_BYTES]; /* derived per
	             controller slot, see vlt_blind_key */
};

struct vault {
	struct store *store;    /* owned */
	struct keys *keys;      /* sodium_malloc'ed, owned */
	struct keys_ring *ring; /* the master keys and the index root,
	                           sodium_malloc'ed, owned (src/keys) */
	struct controller ctrl[VAULT_CONTROLLERS_MAX]; /* loaded lazily */
	size_t nctrl;
	int64_t policy_epoch;    /* the epoch ctrl was loaded in
	                            (vault_policy_sync) */
	int batch;               /* 1 inside vault_begin/commit */
	int write_busy;          /* vault_subject_write_busy's answer */
	unsigned char *scratch;  /* ciphertext / plaintext buffer */
	size_t scratch_len;      /* VAULT_VALUE_MAX + overhead */
	unsigned char *pool;     /* random bytes from the kernel,
	                            RANDOM_POOL of them */
	size_t pool_used;        /* bytes of pool handed out */
	int unsub_tokens;        /* prepare makes unsubscribe tokens */
	vault_audit_fn audit_fn; /* where gate decisions go */
	struct vault_audit_event *next_change; /* committed with the next
	                                          commit (vault_audit_next_
	                                          change), or NULL */
	vault_audit_prepare_fn next_prepare;   /* completes it just before,
	                                          or NULL */
	void *next_prepare_arg;
	void *audit_arg;
	int64_t audited;           /* gate decisions audited through this vault:
	                              the sequence a release is bound to */
	vault_outbox_fn outbox_fn; /* where messages to people go */
	void *outbox_arg;          /* its argument: by default */
	char outbox_dir[PATH_MAX]; /* DIR/outbox, the spool */
};

/* State of a fact-reading walk. */
struct fact_walk {
	struct vault *v;
	const struct store_subject *s;
	const unsigned char *key;       /* the subject's data key */
	const struct gate_release *rel; /* vlt_fact_open: what the gate
	                                   released; required */
	size_t *withheld; /* [ncategories] facts the release withheld, by
	                     category, or NULL */
	enum vaern_err (*fn)(void *arg, const struct vault_fact_out *f);
	void *arg;
	struct vaern_msg *msg;
	size_t count;
};

/* A fact checked against the policy (vlt_facts_check), ready to seal. */
struct fact_plan {
	const struct policy_category *category;
	const struct policy_purpose *purpose;
	const char *value; /* what to encrypt (a normal form, maybe) */
	const char *source;
	int provided;
	int64_t collected_at;
	char norm[ID_NORM_MAX];
};

/* Bytes of a fact's associated data: subject id, fact id, category. */
#define VLT_AD_MAX (VAULT_UID_BYTES + 8 + POLICY_NAME_MAX + 1)

/* Writes a fact's associated data (subject, fact id, category) to ad;
 * its length. A ciphertext moved to another row fails to open. */
size_t vlt_fact_ad(unsigned char ad[VLT_AD_MAX],
                   const unsigned char uid[VAULT_UID_BYTES], int64_t fact_id,
                   const char *category);

/*
 * Checks facts against policy p as vault_subject_add documents (category,
 * purpose using it, value and identifier format, no card number, source,
 * time, GDPR-7 consent among consents, special categories, CEK-MAND-1)
 * into plan ([nfacts]). have (nhave pairs of purpose, category indexes)
 * is what the subject has on record already: a mandatory category there
 * need not come again. msg names the fact by its 1-based position.
 */
enum vaern_err
vlt_facts_check(const struct policy *p, const struct vault_fact_in *facts,
                size_t nfacts, const struct vault_consent_in *consents,
                size_t nconsents, const size_t *have, size_t nhave, int64_t now,
                struct fact_plan *plan, struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* Checks the consents given with a new subject against policy p (each
 * purpose known and resting on consent, the source one the policy records
 * for it, the time not in the future); msg names the consent by its
 * 1-based position. */
enum vaern_err vlt_consents_check(const struct policy *p,
                                  const struct vault_consent_in *cs, size_t n,
                                  int64_t now, struct vaern_msg *msg)
        __attribute__((warn_unused_result));

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

/*
 * Ends the transaction of a change with its audit entry e in the outbox
 * (issue 12: the two commit as one; e->outbox_id set), then hands e to
 * the audit hook, which moves it into the trail. Returns the commit's or
 * the hook's error.
 */
enum vaern_err vlt_change_end(struct vault *v, enum vaern_err err,
                              struct vault_audit_event *e,
                              struct vaern_msg *msg);

/* Inserts an actor of c inside the caller's transaction (vault_access.c):
 * its bearer token into token, its row id into *id. */
enum vaern_err vlt_actor_insert(struct vault *v, struct controller *c,
                                const char *name, const char *role,
                                char token[VAULT_TOKEN_MAX], int64_t *id,
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result));

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

/* AURA-COOKIE-1: VAERN_OK if every fact of a purpose with `cookie:
 * statistics|marketing` names a visitor whose latest choice has it on
 * (the facts added to a known person, vault_facts.c); VAERN_E_DENIED
 * otherwise. */
enum vaern_err vlt_cookie_allowed(struct vault *v, const struct controller *c,
                                  const struct vault_fact_in *facts,
                                  const struct fact_plan *plan, size_t n,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* Rebuilds the identifier indexes per category when the store's schema-5
 * migration asked for it (vault_index.c); VAERN_OK if nothing to do. */
enum vaern_err vlt_identifier_reindex(struct vault *v, struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* Unwraps the subject's data key into key (the caller wipes it). */
enum vaern_err vlt_unwrap_key(struct vault *v, const struct store_subject *s,
                              unsigned char key[KEY_BYTES],
                              struct vaern_msg *msg);
/* Wraps key for the subject s under the newest generation (nonce from the
 * vault's pool) into s->wrapped_key, s->kek and s->wrapped_len. */
void vlt_subject_key_wrap(struct vault *v, struct store_subject *s,
                          const unsigned char key[KEY_BYTES]);

/* The expiry of a new fact (no events yet) and its rule label. */
enum vaern_err vlt_fact_expiry(const struct controller *c, const char *category,
                               int64_t collected_at, int64_t *expires_at,
                               char rule[VAULT_RULE_MAX + 1],
                               struct vaern_msg *msg);
/* The person's address for a message (vault_notify.c). Personal data:
 * wipe with vlt_contact_wipe. */
struct vlt_contact {
	char to[ID_NORM_MAX]; /* the address */
	const char *type;     /* "email" or "phone" (static) */
	int found;            /* 0: none on record */
};
/* The person's address for a message about request rid: the first
 * e-mail address on record, else phone (found 0 if none), read through
 * the gate and audited like a code's address (vault_requests.c). */
enum vaern_err vlt_request_contact(struct vault *v, const struct controller *c,
                                   const char *rid, const unsigned char *uid,
                                   const struct vault_request_actor *who,
                                   struct vlt_contact *out,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5, 6)));
void vlt_contact_wipe(struct vlt_contact *ct);
/*
 * GDPR-12, issue 10: after a request's change is committed, tells the
 * person through the outbox when s is received, extended, completed or
 * refused (else does nothing): in the controller's language, with the
 * deadline and the reason. known: the address read before the change (an
 * erasure removes it), or NULL to read it now. Audited as
 * request_message_sent (or _not_sent: no address, outbox failure), never
 * with the address. Fails only if the audit does.
 */
enum vaern_err
vlt_request_notify(struct vault *v, const char *controller,
                   const struct controller *c, const struct store_request *s,
                   const struct vault_request_actor *who,
                   struct vlt_contact *known, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5)));
/* SHOP-MKT-1, TEL-MKT-2: records the events the policy has a consent to
 * purpose pi (withdraw 0) or its withdrawal (1) record, at at, and
 * recomputes the subject's expiries. Inside the caller's transaction. */
enum vaern_err vlt_consent_events(struct vault *v, const struct controller *c,
                                  int64_t subject, size_t pi, int withdraw,
                                  int64_t at, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 7)));
/* Splits a rule label "controller/rule" and finds both (a loaded
 * controller, an index into its policy.retention); 0 on success, -1 if
 * either is gone (the policy changed). */
int vlt_rule_find(struct vault *v, const char *label, struct controller **c,
                  long *rule);
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

/* ---- what a request concerns (vault_scope.c; AURA-RIGHTS-1) ---------- */

/* The categories cats[0..n) (ids of p; NULL: none named) as stored:
 * each once, comma-separated, into out; "" for none. VAERN_E_INVALID
 * names the item at fault. */
enum vaern_err vlt_scope_build(const struct policy *p, const char *const *cats,
                               size_t n, char *out, size_t size,
                               struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* The stored scope of request row rowid into out ("" for all). */
enum vaern_err vlt_scope_read(struct vault *v, int64_t rowid, char *out,
                              size_t size, struct vaern_msg *msg)
        __attribute__((warn_unused_result));
/* 1 if category is in scope ("" holds every category). */
int vlt_scope_has(const char *scope, const char *category);

/* What the vault found of a rights request, for the gate (GATE_ANSWER). */
struct vlt_request_evidence {
	struct gate_rights_request q; /* points into the strings below */
	char id[VAULT_REQUEST_ID_LEN];
	char kind[VAULT_WORD_MAX + 1];
	char status[VAULT_WORD_MAX + 1];
	char method[VAULT_WORD_MAX + 1];
	size_t categories[POLICY_ITEMS_MAX]; /* the data it concerns
	                                        (AURA-RIGHTS-1) */
	size_t ncategories;                  /* 0: all of it */
};

/*
 * Reads request id of controller c as evidence for an answer about
 * subject uid: its kind, subject, status and verification. Decides nothing: the
 * gate does. VAERN_E_NOTFOUND for no such request.
 */
enum vaern_err vlt_request_evidence(struct vault *v, struct controller *c,
                                    const char *id, const unsigned char *uid,
                                    struct vlt_request_evidence *ev,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* Finds the first e-mail and phone fact of the subject. */
struct vlt_contact_find {
	const struct policy *p;
	char email[ID_NORM_MAX], phone[ID_NORM_MAX];
	enum id_type want; /* the answer: ID_EMAIL or ID_PHONE */
	const char *value; /* the answer: email or phone */
};

/* The person's e-mail address or phone number (want ID_EMAIL, ID_PHONE,
 * or ID_NONE: e-mail first) into cf, read through the gate for a message
 * to them (vault_requests.c). The caller wipes cf. VAERN_E_INVALID if
 * there is none, VAERN_E_NOTFOUND if the subject is gone. */
enum vaern_err
vlt_contact_of(struct vault *v, const struct controller *c, const char *purpose,
               const char *why, const unsigned char *uid, enum id_type want,
               const struct vault_request_actor *who,
               struct vlt_contact_find *cf, struct vaern_msg *msg)
        __attribute__((warn_unused_result));

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

/*
 * store_fact_foreach callback, the fact reader of every release: decrypts
 * a fact of a category the walk's release (rel, minted by the gate after
 * the decision's audit entry) releases and calls the walk's fn; a fact of
 * another category is counted in withheld and never decrypted. A walk
 * without a minted release is a bug (asserted; VAERN_E_INTERNAL).
 */
enum vaern_err vlt_fact_open(void *arg, const struct store_fact *f)
        __attribute__((warn_unused_result));

/*
 * The one reader that needs no release, for the vault's own upkeep:
 * the old identifier a rectification replaces (its blind index) and the
 * value an anonymisation generalises. WARNING: what fn gets must never
 * leave the vault (no caller's callback, no answer): a release to anyone
 * goes through vlt_gate and vlt_fact_open.
 */
enum vaern_err vlt_fact_open_upkeep(void *arg, const struct store_fact *f)
        __attribute__((warn_unused_result));

/*
 * The gated access path: asks the gate r for actor about subject uid
 * (audited; NULL for a visitor) whose release is bound to bind (the
 * subject's id, or a visitor's blind index), the state in gs, audits the
 * decision (allow or deny; action, purpose, categories and reason as given,
 * reason_extra appended to the gate's reason), and only then, on allow, mints
 * rel. released has room for the policy's categories. VAERN_E_DENIED (msg: the
 * reason and rule) on a deny; no audit entry, no release.
 */
enum vaern_err
vlt_gate(struct vault *v, const struct controller *c, const unsigned char *uid,
         const unsigned char bind[GATE_SUBJECT_BYTES], const char *actor,
         const char *role, const struct gate_request *r,
         const struct gate_state *gs, const char *purpose, const char *action,
         const char *reason_extra, struct gate_decision *d, size_t *released,
         struct gate_release *rel, struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* The state of subject s as the gate needs it (gs): restriction,
 * objection, consents in force into consent ([npurposes]), the agreement
 * with recipient ri (-1: none) into agreed ([nrecipients]). */
enum vaern_err vlt_subject_state(struct vault *v, const struct policy *p,
                                 const struct store_subject *s, long ri,
                                 unsigned char *consent, unsigned char *agreed,
                                 struct gate_state *gs, struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* The role of actor in policy p for the gate into *role: its index, or
 * GATE_ROLE_OPERATOR for the local operator (role "operator", no actor
 * row, not a role of the policy). 0, or -1 for a role the policy lacks. */
int vlt_gate_role(const struct policy *p, const struct vault_actor *actor,
                  size_t *role);

/* 1 if actor is the data subject uid on the portal (gate_request.self). */
int vlt_actor_is(const struct vault_actor *actor, const unsigned char *uid);

/*
 * Walks the facts of subject s with release rel (minted for s): fn gets
 * the released ones, decrypted; withheld (NULL, or [ncategories]) counts
 * the rest by category.
 */
enum vaern_err vlt_release_walk(
        struct vault *v, const struct store_subject *s,
        const struct gate_release *rel,
        enum vaern_err (*fn)(void *arg, const struct vault_fact_out *f),
        void *arg, size_t *withheld, struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* ---- webhook events (issue 19; vault_webhook.c) ---- */

/* Queues event type of controller (may be NULL) with data (an object,
 * stolen; NULL: {}) in the open transaction; once: NULL, or a key that
 * keeps a second event of it from being queued (store_webhook_add). */
enum vaern_err vlt_webhook_add(struct vault *v, const char *type,
                               const char *controller, struct json_t *data,
                               const char *once, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Queues the event of request s's step from -> s->status ("request.
 * created" when from is NULL) in the open transaction. */
enum vaern_err vlt_webhook_request(struct vault *v,
                                   const struct store_request *s,
                                   const char *from, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Queues event type of case case_id in the open transaction;
 * classification and once may be NULL (once: see store_webhook_add). */
enum vaern_err vlt_webhook_case(struct vault *v, const char *type,
                                const char *controller, const char *case_id,
                                const char *classification, const char *once,
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 4)));

/* The deadline events of open cases, each once (vault_incident.c). */
enum vaern_err vlt_incident_webhook_scan(struct vault *v, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

#endif
