/*
 * vault_rights.h -- the rights requests of the vault's interface: their
 * register, deadlines and codes (issue 5) and their execution (GDPR-16,
 * 17, 18, 21, 7). Split out of vault.h by role; vault.h includes it where
 * this part stood, and it relies on the declarations before it there.
 * Include vault.h, not this file.
 */
#ifndef VAERN_VAULT_RIGHTS_H
#define VAERN_VAULT_RIGHTS_H

#ifndef VAERN_VAULT_H
#error "include vault.h, not vault_rights.h"
#endif

/* ---- rights requests (issue 5) ---------------------------------------- */

#define VAULT_REQUEST_ID_LEN    37  /* a UUID and its NUL */
#define VAULT_WORD_MAX          32  /* a channel or method, NUL excluded */
#define VAULT_REQUEST_TEXT_MAX  512 /* a reason or an attestation */
#define VAULT_CODE_DIGITS       8   /* a one-time code: 8 decimal digits */
#define VAULT_CODE_TTL          (30 * 60) /* seconds a code stays valid */
#define VAULT_CODE_ATTEMPTS     5         /* wrong entries that kill a code */
#define VAULT_CODES_PER_REQUEST 5         /* codes one request may be sent */
#define VAULT_OUTBOX_DIR        "outbox"  /* the default spool, in DIR */

/* A rights request as read back, held by value. */
struct vault_request {
	char id[VAULT_REQUEST_ID_LEN]; /* public id (UUID v4) */
	enum rights_type type;
	unsigned char subject[VAULT_UID_BYTES];
	char channel[VAULT_WORD_MAX + 1]; /* how it arrived */
	int64_t received_at;
	long due_original;   /* day: one month after receipt (GDPR-12) */
	long due;            /* day: the deadline in force */
	int extended_months; /* 0 if not extended */
	char extension_reason[VAULT_REQUEST_TEXT_MAX + 1]; /* told to the
	                                                      person */
	int64_t extended_at; /* INT64_MIN if not extended */
	enum rights_status status;
	char status_reason[VAULT_REQUEST_TEXT_MAX + 1]; /* why refused */
	int64_t verified_at; /* INT64_MIN until verified (AOPT-ACCESS-1) */
	char verified_by[POLICY_NAME_MAX + 1];
	char verify_method[VAULT_WORD_MAX + 1]; /* "code", "attestation" */
	char attestation[VAULT_REQUEST_TEXT_MAX + 1];
	char created_by[POLICY_NAME_MAX + 1];
	int64_t updated_at;
};

/* Who acts on a request: recorded with each transition and audited. */
struct vault_request_actor {
	const char *name; /* an actor name, or "operator" for the CLI */
	const char *role; /* its role, or "operator" */
};

/* A new request. */
struct vault_request_in {
	const char *type;              /* a rights_type name */
	const unsigned char *subject;  /* VAULT_UID_BYTES, of controller */
	const char *channel;           /* email, letter, phone, web,
	                                  portal, in_person, api, opendsr */
	int64_t received_at;           /* INT64_MIN: now; not later */
	const char *id;                /* NULL: a new UUID; else a UUID
	                                  the caller chose (OpenDSR) */
	const char *const *categories; /* AURA-RIGHTS-1: the data the
	                                  request concerns (category ids of
	                                  the policy), or NULL: all of it */
	size_t ncategories;
};

/*
 * Registers a request to controller about one of its subjects
 * (AURA-RIGHTS-1): status received, due one calendar month after the day
 * of receipt (GDPR-12). out gets the request. Audited; needs the audit
 * trail attached (vault_set_audit), like every call below that writes.
 */
enum vaern_err vault_request_add(struct vault *v, const char *controller,
                                 const struct vault_request_in *in,
                                 const struct vault_request_actor *who,
                                 struct vault_request *out,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5)));

/*
 * The data request id of controller concerns (AURA-RIGHTS-1): its
 * category ids, comma-separated, into out (VAULT_SCOPE_MAX + 1 bytes);
 * "" when it concerns all of it. Its report and rectification are
 * limited to them.
 */
#define VAULT_SCOPE_MAX 4096
#define VAULT_SCOPE_IDS 64 /* categories one request names */
enum vaern_err
vault_request_scope(struct vault *v, const char *controller, const char *id,
                    char out[VAULT_SCOPE_MAX + 1], struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/* A scope as vault_request_scope writes it, as JSON: a list of category
 * ids, or null for all the data (new reference; NULL when out of memory). */
struct json_t *vault_scope_json(const char *scope);

/* The request id of controller (another controller's: VAERN_E_NOTFOUND). */
enum vaern_err vault_request_get(struct vault *v, const char *controller,
                                 const char *id, struct vault_request *out,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/* Calls fn for each request of controller due on or before day due_by
 * (LONG_MAX: all), only the open ones if open_only, by due day. */
enum vaern_err vault_request_foreach(
        struct vault *v, const char *controller, long due_by, int open_only,
        enum vaern_err (*fn)(void *arg, const struct vault_request *r),
        void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 5)));

/* Which requests a list shows (issue 20, point 3: the console's queue;
 * GET /v1/requests and `vaern requests list` take the same filter). */
struct vault_request_filter {
	long due_by;   /* the last due day listed (LONG_MAX: any) */
	int open_only; /* 1: only requests not completed, refused or
	                  cancelled */
	int overdue;   /* 1: only open ones due before today */
	int type;      /* an enum rights_type, or -1: any */
	int status;    /* an enum rights_status, or -1: any */
	int texts;     /* 1: open the sealed texts (reasons, attestation);
	                  0: leave them "" (the queue shows none) */
};

/*
 * The filter as the CLI and the API spell it, each word NULL when not
 * given: type and status (names; a final status lists closed requests
 * too), due_within ("7", "7d", "2w": due up to that many days after
 * today, overdue ones included), overdue and all ("1", "true", "0",
 * "false"). today is clock_today(). VAERN_E_INVALID with a message
 * naming the parameter (by its API name; the CLI says the option).
 */
enum vaern_err vault_request_filter_parse(const char *type, const char *status,
                                          const char *due_within,
                                          const char *overdue, const char *all,
                                          long today,
                                          struct vault_request_filter *out,
                                          struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(7)));

/*
 * Calls fn for each request of controller that f lets through, by due
 * day (then receipt): the request queue (GDPR-12). The days left are
 * r->due - today. The one walk behind GET /v1/requests, `requests list`
 * and the console's queue page.
 */
enum vaern_err vault_request_queue(
        struct vault *v, const char *controller,
        const struct vault_request_filter *f,
        enum vaern_err (*fn)(void *arg, const struct vault_request *r),
        void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/* One status change, as read back; valid during the callback. */
struct vault_transition {
	int64_t at;
	const char *from; /* NULL for the first */
	const char *to;
	const char *actor;
	const char *reason; /* NULL if none */
};
enum vaern_err vault_request_transitions(
        struct vault *v, const char *controller, const char *id,
        enum vaern_err (*fn)(void *arg, const struct vault_transition *t),
        void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/*
 * Moves the request to status to: in_progress, completed, refused (reason
 * required: it is told to the person) or cancelled (rights.h says which
 * follows which; verification and extension have their own calls). An
 * illegal transition is VAERN_E_INVALID and changes nothing.
 */
enum vaern_err vault_request_set_status(struct vault *v, const char *controller,
                                        const char *id, enum rights_status to,
                                        const char *reason,
                                        const struct vault_request_actor *who,
                                        struct vault_request *out,
                                        struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 6, 7)));

/* Extends the deadline once, by months (1..2) from receipt, with a reason
 * told to the person, before the first month has run out (GDPR-12). */
enum vaern_err
vault_request_extend(struct vault *v, const char *controller, const char *id,
                     int months, const char *reason,
                     const struct vault_request_actor *who,
                     struct vault_request *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5, 6, 7)));

/* Verifies the requester's identity by a staff attestation: how it was
 * done (method, 1..512 bytes), recorded with the actor (AOPT-ACCESS-1). */
enum vaern_err
vault_request_attest(struct vault *v, const char *controller, const char *id,
                     const char *method, const struct vault_request_actor *who,
                     struct vault_request *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5, 6)));

/* A message for the person, handed to the outbox. */
struct vault_message {
	const char *controller;   /* the sender's controller id */
	const char *request;      /* the request id */
	const char *contact_type; /* "email" or "phone" */
	const char *to;           /* personal data: the address on record */
	const char *title;        /* e-mail subject line */
	const char *body;         /* holds the code: a secret */
};

typedef enum vaern_err (*vault_outbox_fn)(void *arg,
                                          const struct vault_message *m,
                                          struct vaern_msg *msg);

/* Sets where messages to people go. vault_open sets the spool directory
 * DIR/outbox (vault_outbox_spool); an SMTP sender plugs in here. */
void vault_set_outbox(struct vault *v, vault_outbox_fn fn, void *arg);

/* The spool outbox: writes m as one JSON file (mode 0600) into the
 * directory arg (a path, created 0700 if missing), atomically (a mailer
 * never sees half a file). The file holds the address and the code. */
enum vaern_err vault_outbox_spool(void *arg, const struct vault_message *m,
                                  struct vaern_msg *msg);

/* What vault_card_warnings did (SHOP-PAY-1). */
struct vault_card_report {
	int64_t subjects;     /* with a card warning purpose and a payment */
	int64_t due;          /* cards expiring before the next payment,
	                         not yet warned */
	int64_t sent;         /* warnings sent (0 on a dry run) */
	int64_t already_sent; /* this card and payment were warned before */
	int64_t no_address;   /* due, but no e-mail address on record */
};

/*
 * SHOP-PAY-1: for every subject of controller (NULL: all) under a purpose
 * with `card_expiry_warning`, sends the customer a warning through the
 * outbox when a card ("NNNN MM/YY") expires before the next recurring
 * payment (the earliest payment date not before as_of): once per card and
 * payment, in the controller's language, each audited (action
 * card_expiry_warning, rule SHOP-PAY-1, actor; never the address or the
 * card). Restricted subjects are left out (GDPR-18). dry_run counts only.
 * Needs the outbox and the audit trail unless dry.
 */
enum vaern_err
vault_card_warnings(struct vault *v, const char *controller, int64_t as_of,
                    int dry_run, const char *actor,
                    struct vault_card_report *rep, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 5, 6)));

/* What vault_request_send_code did. */
struct vault_code_sent {
	const char *contact_type; /* "email" or "phone" (static) */
	int64_t expires_at;
	int attempts; /* wrong entries the code allows */
};

/*
 * Sends a one-time code (AOPT-ACCESS-1) to a contact identifier already
 * on record for the subject: its e-mail address (contact ID_EMAIL, or
 * ID_NONE: e-mail if there is one, else phone) or phone (ID_PHONE),
 * through the outbox. Only a keyed hash of the code is stored; the code
 * expires after VAULT_CODE_TTL and dies after VAULT_CODE_ATTEMPTS wrong
 * entries; at most VAULT_CODES_PER_REQUEST are sent per request. A new
 * code replaces the earlier ones.
 */
enum vaern_err vault_request_send_code(struct vault *v, const char *controller,
                                       const char *id, enum id_type contact,
                                       const struct vault_request_actor *who,
                                       struct vault_code_sent *sent,
                                       struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5, 6)));

/*
 * Checks a code against the latest one sent, in constant time. Right: the
 * code is used up and the request verified. Wrong, expired, used or out
 * of attempts: VAERN_E_DENIED (a wrong entry is counted and audited, the
 * request does not change). Not VAULT_CODE_DIGITS digits:
 * VAERN_E_INVALID, nothing counted.
 */
enum vaern_err vault_request_check_code(struct vault *v, const char *controller,
                                        const char *id, const char *code,
                                        const struct vault_request_actor *who,
                                        struct vault_request *out,
                                        struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5, 6)));

/* ---- executing an erasure request (GDPR-17, AOPT-ERASE-1) ---- */

#define VAULT_ERASE_KEPT_MAX 64 /* categories kept, listed in a report */

/* What an erasure did: what went, and what a legal obligation keeps. */
struct vault_erasure {
	size_t erased;        /* facts erased */
	int shredded;         /* 1 if the subject and its key are gone */
	size_t not_concerned; /* facts outside the data the request
	                         concerns, left as they are (AURA-RIGHTS-1) */
	size_t nkept;         /* entries of kept */
	struct {
		char category[POLICY_NAME_MAX + 1];
		size_t facts;
		const char *law; /* the rule's legal_obligation: valid while
		                    the vault is open */
		char rule[POLICY_NAME_MAX + 1];
		int64_t until; /* when it goes; INT64_MIN: when the rule's
		                  clock starts (an event not yet recorded) */
	} kept[VAULT_ERASE_KEPT_MAX];
};

/*
 * The local operator's erasure (`vaern subject erase`): as a verified
 * erasure request does (GDPR-17(3), CEK-RET-2, AOPT-ERASE-1), every fact
 * goes except those a retention rule with a legal_obligation still holds;
 * those are restricted and get the legal rule's date (the date the sweep
 * removes them, given in rep). Refused under a legal hold (CEK-HOLD-1).
 *
 * Audited under who (purpose vault_operation, action erase).
 *
 * WARNING: override non-NULL destroys what the law keeps too: one of the
 * words court_order, authority_order, wrong_subject, unlawfully_collected
 * (VAERN_E_INVALID otherwise), audited as erase_override with the reason
 * and the kept categories before anything goes. Needs the audit trail
 * attached. One transaction.
 */
enum vaern_err vault_operator_erase(struct vault *v, const char *controller,
                                    const unsigned char uid[VAULT_UID_BYTES],
                                    const struct vault_request_actor *who,
                                    const char *override,
                                    struct vault_erasure *rep,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 6)));

/*
 * Executes a verified erasure request: every fact of the subject goes
 * except those a retention rule with a legal_obligation still holds
 * (GDPR-17, AOPT-ERASE-1); identifiers no kept fact needs go too, and
 * what is kept is restricted (GDPR-18: only stored). With nothing kept the
 * subject is crypto-shredded. The request is completed with a reason that
 * says what was kept, under which law, until when; rep gets the same.
 * Refused (nothing changed): not an erasure request, not verified
 * (AOPT-ACCESS-1), final, or a legal hold on the subject (CEK-HOLD-1).
 * One transaction; audited.
 */
enum vaern_err
vault_request_erase(struct vault *v, const char *controller, const char *id,
                    const struct vault_request_actor *who,
                    struct vault_erasure *rep, struct vault_request *out,
                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 5, 6)));

/* ---- executing the other rights (GDPR-16, GDPR-18, GDPR-21, GDPR-7) ----
 *
 * Each call below acts on the request's subject through the same vault
 * call as the direct API (vault_fact_rectify, vault_subject_restrict,
 * vault_subject_object, vault_consent_apply), so what the gate then allows
 * is decided in one place. Each is refused (VAERN_E_INVALID, nothing
 * changed) unless the request is of that type, verified (AOPT-ACCESS-1)
 * and open; VAERN_E_NOTFOUND if the request or its subject is gone. The
 * change and the request's transition are one transaction (inside an open
 * vault_begin batch they join it); then one audit entry names the request
 * in its reason and the clause as its rule, never a value. out gets the
 * request after the change.
 */

#define VAULT_RECTIFY_MAX 64 /* facts one rectification call changes */
#define VAULT_PURPOSES_MAX                                                     \
	64 /* purposes one objection or withdrawal                             \
	      names */

/* One fact to rectify. */
struct vault_rectification {
	int64_t fact;      /* the fact's id */
	const char *value; /* the new value: personal data, never logged */
	char category[POLICY_NAME_MAX + 1]; /* out: the fact's category */
};

/*
 * Rectifies facts of the request's subject (GDPR-16): each new value is
 * validated as its category demands and replaces the old one; all or
 * none. With complete the request is completed, else it moves to (or
 * stays) in_progress for a further call. VAERN_E_NOTFOUND names an
 * unknown fact by its id; a value the category refuses is
 * VAERN_E_INVALID naming the fact and category.
 */
enum vaern_err
vault_request_rectify(struct vault *v, const char *controller, const char *id,
                      struct vault_rectification *changes, size_t n,
                      int complete, const struct vault_request_actor *who,
                      struct vault_request *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 7, 8)));

/*
 * Restricts the subject's processing (GDPR-18: only stored, and used for
 * the purposes marked while_restricted). The restriction usually lasts
 * while a contested point is examined (Art. 18(1)(a), (d)), so the request
 * moves to in_progress; with complete it is completed with the
 * restriction in force (Art. 18(1)(b), (c)). With lift the restriction is
 * lifted instead and the request completed; reason (1..512 bytes of text)
 * is required, as the person is told before it is lifted (Art. 18(3)).
 * Lifting a subject not restricted is VAERN_E_INVALID.
 */
enum vaern_err
vault_request_restrict(struct vault *v, const char *controller, const char *id,
                       int lift, int complete, const char *reason,
                       const struct vault_request_actor *who,
                       struct vault_request *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 7, 8)));

/*
 * Records the person's objection to direct marketing (GDPR-21(2), (3);
 * CEK-RIGHTS-1: absolute): from then on the gate refuses every purpose
 * marked direct_marketing. purposes (n may be 0: all of them) names
 * the direct-marketing purposes objected to; another purpose is
 * VAERN_E_INVALID, as an objection under Art. 21(1) is weighed by the
 * controller, not executed (answer it by status with the reason). The
 * vault keeps one objection for all direct-marketing purposes (the
 * subject's state), so it covers every one of them. Completes the
 * request.
 */
enum vaern_err
vault_request_object(struct vault *v, const char *controller, const char *id,
                     const char *const *purposes, size_t n,
                     const struct vault_request_actor *who,
                     struct vault_request *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 6, 7)));

/* What a withdrawal did, purpose by purpose. */
struct vault_withdrawal {
	size_t n;
	struct {
		char purpose[POLICY_NAME_MAX + 1];
		int64_t kept_until; /* when the ledger of the purpose goes
		                       (TEL-MKT-2); INT64_MIN: with the
		                       subject */
	} purposes[VAULT_PURPOSES_MAX];
};

/*
 * Withdraws the person's consent (GDPR-7, CEK-RIGHTS-1) to each purpose
 * of purposes, or with n = 0 to every purpose whose consent is in force:
 * a withdrawal record is appended to the ledger with the request's
 * channel as its source (earlier processing stays documented: withdrawal
 * is not retroactive). VAERN_E_EXISTS if a named purpose (or, with n = 0,
 * any) has no consent in force; VAERN_E_INVALID for a purpose that does
 * not rest on consent. Completes the request.
 */
enum vaern_err
vault_request_withdraw(struct vault *v, const char *controller, const char *id,
                       const char *const *purposes, size_t n,
                       const struct vault_request_actor *who,
                       struct vault_withdrawal *rep, struct vault_request *out,
                       struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 6, 7, 8)));

/* rep as JSON (new reference): {"erased", "shredded", "kept": [...]}. */
struct json_t *vault_erasure_json(const struct vault_erasure *rep);

/* What an execution did, as JSON (new references; NULL when out of
 * memory; no value): {"facts": [{"fact", "category"}]};
 * {"direct_marketing": true, "purposes_refused": [the policy's
 * direct-marketing purposes]}; {"purposes": [{"purpose", "kept_until"}]}. */
struct json_t *vault_rectification_json(const struct vault_rectification *ch,
                                        size_t n);
struct json_t *vault_objection_json(const struct policy *p);
struct json_t *vault_withdrawal_json(const struct vault_withdrawal *rep);

struct json_t;
/* The request as JSON (new reference; NULL when out of memory), with
 * "overdue" and "days_left" as of day today. No personal data but the
 * subject's id and the staff's reasons. */
struct json_t *vault_request_json(const char *controller,
                                  const struct vault_request *r, long today);

/* Tuning for bulk work (benchmarks, import): the page cache in KiB. */
void vault_set_cache_kib(struct vault *v, long kib);

/* Tuning for a server with one vault per worker thread: a small private
 * page cache each, no mmap (a commit elsewhere unmaps it; vault.c). */
void vault_set_shared_reads(struct vault *v);

/*
 * For a writer others wait for (the server's create writer; issue 12
 * point 6): its commits no longer copy the log into the database; the
 * caller copies it with vault_checkpoint_passive, the bulk on another
 * vault's connection (src/common/ckpt.h) and the rest on this one.
 * vault_log_frames: the pages the last commit left in the longer log
 * (data or keystore). store.h, store_checkpoint_apart, says why.
 */
/* Returns 1, or 0 on an engine that checkpoints on its own (nothing
 * done). apart 0 undoes it. */
int vault_checkpoint_apart(struct vault *v, int apart) __attribute__((nonnull));
int vault_log_frames(const struct vault *v) __attribute__((nonnull));
/* A passive checkpoint (never waits); not inside a transaction. */
enum vaern_err vault_checkpoint_passive(struct vault *v, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));
/* The writer's finish (src/common/ckpt.h): copies the rest of the logs
 * and starts them over, waiting at most wait_ms for readers; 1 if it
 * did, 0 if not (try again later). Not inside a transaction. */
int vault_log_restart(struct vault *v, int wait_ms)
        __attribute__((warn_unused_result, nonnull));

/*
 * One read snapshot for the calls up to vault_read_end(): a request that
 * reads several times takes the database's locks once. A write in
 * between ends it (the write sees the latest data). End it before any
 * wait: an open snapshot keeps the log from being checkpointed.
 */
enum vaern_err vault_read_begin(struct vault *v, struct vaern_msg *msg);
void vault_read_end(struct vault *v);

#endif
