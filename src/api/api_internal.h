/*
 * api_internal.h -- what the files of the HTTP API share, and nothing
 * else reads: the server's state (struct api), a request's context
 * (struct ctx), the helpers every handler uses, and the handlers the
 * route table names (api.c). Not an API: api.h is.
 *
 *   api.c           the core: struct api, each worker's vault, the create
 *                   writer, begin/fail/refuse, the audit helpers, body
 *                   parsing, metrics, the route table, api_new/api_free
 *   api_sweep.c     the scheduled retention sweep (issue 4)
 *   api_courier.c   the portal's one-time codes delivered (issue 16)
 *   api_policy.c    the OpenAPI document and the controller's policy
 *   api_subjects.c  subjects: create, gated reads and disclosures,
 *                   rectification, events, restriction, objection,
 *                   agreements, legal holds
 *   api_consent.c   consents, unsubscribe links, visitors' cookie choices,
 *                   visits and pixels
 *   api_audit.c     the audit trail read by the data-protection officer
 *   api_notice.c    the public privacy notice and the records of
 *                   processing (issue 15)
 *   api_report.c    the person's reports: the builder and their handlers
 *   api_requests.c  rights requests (issue 5) and OpenDSR v2
 *   api_incidents.c security reports and the breach register (issue 17)
 *
 * A helper that answers the request itself returns 1 once it has (the
 * handler then returns 0), and 0 to go on.
 */
#ifndef VAERN_API_INTERNAL_H
#define VAERN_API_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../audit/audit.h"
#include "../http/http.h"
#include "../vault/vault.h"
#include "api.h"

/*
 * JSON text written straight into a buffer (no jansson tree, no second
 * copy for sizing): the answer of a gated read, which holds decrypted
 * values. Grown by fresh allocation, so no copy is left behind in freed
 * memory; wiped after every answer (CONVENTIONS.md habit 4).
 */
struct text {
	char *data; /* owned */
	size_t len; /* bytes written */
	size_t cap; /* bytes allocated */
	int failed; /* 1 after a write failed; sticky until reset */
};

#define CATEGORIES_MAX                                                         \
	64 /* categories named in one request body or                          \
	      query (a read, a rights request) */

/* What each worker thread keeps between requests. */
struct worker {
	struct vault *v;  /* its own vault (its own SQLite connection) */
	struct text body; /* the answer being written */
};

/*
 * A subject create handed to the writer (group commit), with a hold on
 * its response; the hold's finish callback (create_answer) answers from
 * it and frees it.
 */
struct create_job {
	struct vault_prepared *prepared;   /* sealed by the handler's thread;
	                                      the writer frees it */
	json_t *doc;                       /* the request body, and */
	struct vault_fact_in *facts;       /* what prepared points into: */
	struct vault_consent_in *consents; /* kept until it is written */
	struct vault_actor actor; /* who asked: the audit entry's ids */
	char purpose[POLICY_NAME_MAX + 1];
	char categories[AUDIT_CATEGORIES_MAX];     /* ids of the facts */
	char policy[VAULT_POLICY_VERSION_LEN + 1]; /* the version checked
	                                              under (the writer's) */
	size_t nfacts, nconsents;                  /* for the answer */
	json_t *unsubscribe;                       /* purpose -> token, made
	                                              with the subject
	                                              (SHOP-MKT-1), or NULL */
	unsigned char uid[VAULT_UID_BYTES];        /* the writer's: the id */
	int64_t outbox_id;                         /* the writer's: its audit
	                                              entry's outbox row */
	int64_t audit_at;                          /* and that entry's time */
	enum vaern_err err;                        /* the writer's result */
	int tries;                                 /* the writer's tries of
	                                              it (a retry: issue 14) */
	int retry;                                 /* 1: lost a deadlock, to be
	                                              written again */
	struct vaern_msg msg;                      /* its detail */
	struct http_pending *hold;                 /* on the response */
	struct create_job *next;                   /* queue link */
};

/* The server's state, shared by every worker thread (api_new). */
struct api {
	char *dir;                  /* the data directory */
	struct vault *writer_vault; /* the create writer's own vault */
	struct ckpt *ckpt;          /* copies the create writer's log into
	                               the database (src/common/ckpt.h), or
	                               NULL: SQLite does, in its commits */
	struct vault *copier_vault; /* ckpt's connection */
	pthread_t writer;           /* writes creates in batches */
	int writer_started;
	pthread_mutex_t wlock; /* guards the queue and stop */
	pthread_cond_t wcond;
	struct create_job *head, *tail; /* the queue */
	int stop;
	char db_path[PATH_MAX];     /* dir/audit.db */
	struct audit_writer *audit; /* the one audit writer */
	pthread_key_t worker_key;   /* each worker thread's struct worker */
	vault_outbox_fn outbox_fn;  /* where codes go; NULL: the spool */
	void *outbox_arg;           /* its argument */
	const char *checkpoints;    /* the signed checkpoints' directory
	                               (serve --checkpoints), or NULL: the
	                               console's audit view checks them */
	atomic_ulong allowed;       /* gate decisions, for /metrics */
	atomic_ulong denied;
	atomic_ulong audit_failures; /* appends refused before queueing;
	                                the writer counts failed commits */
	/* The scheduled retention sweep (api_sweep_start). */
	pthread_t sweeper; /* its thread, with its own vault */
	int sweeper_started;
	unsigned long sweep_every; /* seconds between sweeps */
	int sweep_log;             /* one line per sweep on stderr */
	pthread_mutex_t slock;     /* guards sweep_stop and stats */
	pthread_cond_t scond;      /* wakes the sweeper to stop */
	int sweep_stop;            /* 1: the sweeper ends */
	atomic_int sweep_stopping; /* read between batches */
	/* The policy watcher (api_reload.c, issue 12). */
	atomic_llong policy_epoch; /* raised on every policy change */
	int64_t policy_gen;        /* the store's, as the watcher saw it */
	struct vault *watch_vault; /* the watcher's */
	pthread_t watcher;
	int watcher_started;
	pthread_mutex_t plock; /* guards pstop */
	pthread_cond_t pcond;  /* wakes the watcher to stop */
	int pstop;
	struct vault *sweep_vault; /* the sweeper's, while it sweeps */
	/* The portal's code delivery (api_courier.c, issue 16). */
	pthread_t courier; /* its thread, with its own vault */
	int courier_started;
	struct vault *courier_vault; /* its vault, for its audit hook */
	pthread_mutex_t olock;       /* guards owake and ostop */
	pthread_cond_t ocond;        /* wakes the courier */
	int owake;                   /* 1: a code was queued */
	int ostop;                   /* 1: the courier ends */
	atomic_int courier_stopping; /* read between sends */
	struct sweep_stats {
		unsigned long ok, failed; /* sweeps by result */
		double last_success;      /* Unix time it ended; 0: none */
		double last_seconds;      /* how long the last one took */
		int64_t facts_deleted_total;
		int64_t visits_deleted_total;
		struct vault_sweep_report last; /* the last one's report */
	} stats;
};

/*
 * The request's actor, thread vault and response. Like subject_param and
 * body, begin() returns 0 to go on, or 1 once it has answered the request
 * itself (401, 404, 400, 500): the handler then returns 0.
 */
struct ctx {
	struct api *api;
	struct worker *w; /* the thread's state */
	struct vault *v;  /* w->v */
	struct vault_actor actor;
	const struct policy *policy;
	struct http_response *res; /* held until the request's audit
	                              entries are durable */
	struct vaern_msg msg;
};

/* ---- api_reload.c: a loaded policy reaches every worker ---------------- */

/* Starts (api_new) and stops (api_free) the policy watcher. */
enum vaern_err api_policy_watch_start(struct api *a, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));
void api_policy_watch_stop(struct api *a);

/* Initialises c to wait on CLOCK_MONOTONIC (api.c). */
void api_cond_init_monotonic(pthread_cond_t *c) __attribute__((nonnull));

/* The newest policy epoch, for vault_policy_sync. */
int64_t api_policy_epoch(struct api *a) __attribute__((nonnull(1)));

/* ---- api.c: the request's context and answers ------------------------- */

/*
 * Starts an authenticated request: the bearer token's actor, the thread's
 * vault (audit hook set to c, one read snapshot for the request) and the
 * actor's policy into c. 1 once it has answered (401, 500).
 */
int begin(struct http_request *req, struct http_response *res, void *app,
          struct ctx *c);

/*
 * begin() for the public routes, without a bearer token (an unsubscribe
 * token in the path is the only credential): c has no actor and no
 * policy. 1 once it has answered (500).
 */
int begin_public(struct http_request *req, struct http_response *res, void *app,
                 struct ctx *c);

/* The subject id of the path ({id}) into uid; 1 once it has answered
 * 404. */
int subject_param(struct http_request *req, struct http_response *res,
                  unsigned char uid[VAULT_UID_BYTES]);

/* begin(), subject_param(), and the subject must be one of the actor's
 * controller's (404 otherwise). 1 once it has answered. */
int begin_subject(struct http_request *req, struct http_response *res,
                  void *app, struct ctx *c, unsigned char uid[VAULT_UID_BYTES]);

/* Answers a vault error: its status and code, msg's text (or the
 * error's) as the message. Returns what http_respond_error returns. */
int fail(struct http_response *res, enum vaern_err err,
         const struct vaern_msg *msg);

/*
 * Refuses with 403 and audits the refusal (GDPR-32) under action; the
 * reason (fmt) names ids and rules, never a value. If the refusal cannot
 * be audited, answers that failure instead.
 */
int refuse(struct ctx *c, struct http_response *res, const char *action,
           const char *purpose, const unsigned char *uid, const char *rule,
           const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* ---- api.c: the audit trail --------------------------------------------- */

/*
 * Audits e for the request of c: queues it and holds c->res until it is
 * durable (GDPR-32). VAERN_OK once queued; an error (nothing queued,
 * nothing held) refuses whatever e was auditing.
 */
enum vaern_err audit_submit(struct ctx *c, const struct audit_entry *e,
                            struct vaern_msg *msg);

/* Copies a vault's audit event (a gate decision, a sweep's batch) into
 * the audit entry ae: the same fields, pointing at the same strings. */
void audit_entry_of(struct audit_entry *ae, const struct vault_audit_event *e);

/* Audits a change to a subject (create, rectify, consent ...) by c's
 * actor, through audit_submit; the detail in c->msg. */
/*
 * The audit event of a change by c into ev (the fields of audit_change).
 * Handed to vault_audit_next_change before the change, it commits with
 * it; audit_change_event then audits it (moved from the outbox, issue 12).
 */
void change_event(struct ctx *c, struct vault_audit_event *ev,
                  const char *action, const char *purpose,
                  const unsigned char *uid, const char *categories, int allowed,
                  const char *rule, const char *reason);
enum vaern_err audit_change_event(struct ctx *c,
                                  const struct vault_audit_event *ev)
        __attribute__((warn_unused_result));
enum vaern_err audit_change(struct ctx *c, const char *action,
                            const char *purpose, const unsigned char *uid,
                            const char *categories, int allowed,
                            const char *rule, const char *reason);

/* ---- api.c: what the actor's role may do (AURA-SHARE-1) ----------------- */

/* Whether the role may use purpose (0 for a purpose the policy lacks). */
int role_has_purpose(const struct ctx *c, const char *purpose);

/* Whether the role may use some purpose that uses category. */
int role_has_category(const struct ctx *c, const char *category);

/*
 * Whether the role has at least one purpose: changes to a subject's state
 * (restriction, objection, events, agreements, executing a request) are
 * for roles that process the subject's data. An audit-only role (the DPO)
 * reads, never writes.
 */
int role_operational(const struct ctx *c);

/* Whether the role reads the audit trail (audit: true): the
 * data-protection officer's, who alone reads a visitor's stored data and
 * places legal holds. */
int role_audits(const struct ctx *c);

/* ---- api.c: request bodies and JSON ------------------------------------- */

/* The keys of a consent: in a create's "consents" and in POST
 * /v1/subjects/{id}/consents. NULL-terminated. */
extern const char *const consent_keys[];

/*
 * Reads a JSON body: an object whose keys are all in keys (NULL-
 * terminated) and whose values are strings, lists or null. *doc is the
 * caller's to json_decref. 1 once it has answered (400, 415; *doc
 * NULL).
 */
int body(struct http_request *req, struct http_response *res,
         const char *const *keys, json_t **doc);

/* body() with values of any type: the handler checks them. */
int body_any(struct http_request *req, struct http_response *res,
             const char *const *keys, json_t **doc);

/* Checks that o's keys are all in allowed and its values strings, lists
 * or null. 0, or -1 with the reason in msg. */
int check_keys(json_t *o, const char *const *allowed, struct vaern_msg *msg);

/* check_keys() of the keys only, values of any type. */
int check_key_names(json_t *o, const char *const *allowed,
                    struct vaern_msg *msg);

/* The string member key of o, or NULL when absent or not a string. */
const char *str_member(json_t *o, const char *key);

/*
 * A time of a request body (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ) into *t;
 * INT64_MIN for text NULL. 0, or -1 with a message that never repeats
 * the time (it may be personal data; GDPR-32).
 */
int parse_time(const char *text, int64_t *t, struct vaern_msg *msg);

/* An instant as JSON: "2026-01-01T00:00:00Z", or null for INT64_MIN. */
json_t *time_json(int64_t t);

/* ---- api.c: the create writer ------------------------------------------- */

/* Queues job for the create writer: its hold is released once it is
 * written and audited (or has failed), and answers from job. */
void create_submit(struct api *a, struct create_job *job);

/* ---- api_courier.c: the portal's one-time codes go out ---------------- */

/* Wakes the code delivery: a login queued a code (a no-op cost for the
 * request: no wait). Safe from any thread. */
void api_courier_wake(struct api *a) __attribute__((nonnull));

/* Stops the delivery (a send under way ends first; what is left stays
 * queued in the store). api_free calls it. Accepts NULL. */
void api_courier_stop(struct api *a);

/* ---- api_sweep.c --------------------------------------------------------- */

/* Appends the scheduled sweep's figures to /metrics (for api_metrics). */
void sweep_metrics(struct api *a, struct http_buf *out);

/* ---- api_report.c ------------------------------------------------------- */

/*
 * Answers the access report (GDPR-15) or portable copy (GDPR-20) of the
 * subject uid, as the query asks: format=json|html[&lang=da|sv|en] for
 * access, format=json|csv for portability. request: the rights request
 * it answers, or NULL for the bare report (api_report_build says who may
 * have which).
 */
int report_send(struct ctx *c, struct http_request *req,
                struct http_response *res,
                const unsigned char uid[VAULT_UID_BYTES],
                enum vault_export kind, const char *request);

/* ---- the handlers of the route table (api.c) ---------------------------- */

/* api_policy.c */
int h_openapi(struct http_request *req, struct http_response *res, void *app);
int h_policy(struct http_request *req, struct http_response *res, void *app);

/* api_subjects.c */
int h_subject_create(struct http_request *req, struct http_response *res,
                     void *app);
int h_lookup(struct http_request *req, struct http_response *res, void *app);
int h_facts_add(struct http_request *req, struct http_response *res, void *app);
int h_facts(struct http_request *req, struct http_response *res, void *app);
int h_disclose(struct http_request *req, struct http_response *res, void *app);
int h_rectify(struct http_request *req, struct http_response *res, void *app);
int h_event(struct http_request *req, struct http_response *res, void *app);
int h_restrict(struct http_request *req, struct http_response *res, void *app);
int h_unrestrict(struct http_request *req, struct http_response *res,
                 void *app);
int h_object(struct http_request *req, struct http_response *res, void *app);
int h_unobject(struct http_request *req, struct http_response *res, void *app);
int h_agree(struct http_request *req, struct http_response *res, void *app);
int h_disagree(struct http_request *req, struct http_response *res, void *app);
int h_hold_place(struct http_request *req, struct http_response *res,
                 void *app);
int h_hold_lift(struct http_request *req, struct http_response *res, void *app);
int h_holds(struct http_request *req, struct http_response *res, void *app);

/* api_consent.c */
int h_consent_give(struct http_request *req, struct http_response *res,
                   void *app);
int h_consent_withdraw(struct http_request *req, struct http_response *res,
                       void *app);
int h_consent_history(struct http_request *req, struct http_response *res,
                      void *app);
int h_consent_text(struct http_request *req, struct http_response *res,
                   void *app);
int h_unsubscribe_show(struct http_request *req, struct http_response *res,
                       void *app);
int h_unsubscribe(struct http_request *req, struct http_response *res,
                  void *app);
int h_choice_get(struct http_request *req, struct http_response *res,
                 void *app);
int h_choice_put(struct http_request *req, struct http_response *res,
                 void *app);
int h_visit(struct http_request *req, struct http_response *res, void *app);
int h_visits_get(struct http_request *req, struct http_response *res,
                 void *app);
int h_pixel(struct http_request *req, struct http_response *res, void *app);

/* api_audit.c */
int h_audit(struct http_request *req, struct http_response *res, void *app);

/* api_traffic.c (issue 18) */
int h_traffic_ingest(struct http_request *req, struct http_response *res,
                     void *app);
int h_traffic_query(struct http_request *req, struct http_response *res,
                    void *app);

/* ---- api_notice.c: the notice and the records of processing ------------ */
int h_privacy(struct http_request *req, struct http_response *res, void *app);
int h_ropa(struct http_request *req, struct http_response *res, void *app);

/* api_report.c */
int h_report(struct http_request *req, struct http_response *res, void *app);
int h_export(struct http_request *req, struct http_response *res, void *app);

/* api_requests.c */
int h_request_add(struct http_request *req, struct http_response *res,
                  void *app);
int h_request_list(struct http_request *req, struct http_response *res,
                   void *app);
int h_request_get(struct http_request *req, struct http_response *res,
                  void *app);
int h_request_status(struct http_request *req, struct http_response *res,
                     void *app);
int h_request_extend(struct http_request *req, struct http_response *res,
                     void *app);
int h_request_code(struct http_request *req, struct http_response *res,
                   void *app);
int h_request_verify(struct http_request *req, struct http_response *res,
                     void *app);
int h_request_erase(struct http_request *req, struct http_response *res,
                    void *app);
int h_request_report(struct http_request *req, struct http_response *res,
                     void *app);
int h_request_rectify(struct http_request *req, struct http_response *res,
                      void *app);
int h_request_restrict(struct http_request *req, struct http_response *res,
                       void *app);
int h_request_object(struct http_request *req, struct http_response *res,
                     void *app);
int h_request_withdraw(struct http_request *req, struct http_response *res,
                       void *app);
int h_opendsr_discovery(struct http_request *req, struct http_response *res,
                        void *app);
int h_opendsr_create(struct http_request *req, struct http_response *res,
                     void *app);
int h_opendsr_get(struct http_request *req, struct http_response *res,
                  void *app);
int h_opendsr_cancel(struct http_request *req, struct http_response *res,
                     void *app);

/* api_incidents.c */
int h_report_submit(struct http_request *req, struct http_response *res,
                    void *app);
int h_report_page(struct http_request *req, struct http_response *res,
                  void *app);
int h_report_page_post(struct http_request *req, struct http_response *res,
                       void *app);
int h_report_status(struct http_request *req, struct http_response *res,
                    void *app);
int h_incident_list(struct http_request *req, struct http_response *res,
                    void *app);
int h_incident_get(struct http_request *req, struct http_response *res,
                   void *app);
int h_incident_triage(struct http_request *req, struct http_response *res,
                      void *app);
int h_incident_screenshot(struct http_request *req, struct http_response *res,
                          void *app);
int h_incident_receipt(struct http_request *req, struct http_response *res,
                       void *app);
int h_incident_feedback(struct http_request *req, struct http_response *res,
                        void *app);
int h_incident_register(struct http_request *req, struct http_response *res,
                        void *app);
int h_incident_affected(struct http_request *req, struct http_response *res,
                        void *app);
int h_incident_notices(struct http_request *req, struct http_response *res,
                       void *app);
int h_incident_notification(struct http_request *req, struct http_response *res,
                            void *app);
/* This thread's vault (opened on first use), for work outside a request
 * such as /metrics; NULL with msg if it cannot be opened. */
struct vault *api_thread_vault(struct api *a, struct vaern_msg *msg);

/* Appends the security reports' figures to /metrics (SHOP-BREACH-2,
 * GDPR-33). */
void incident_metrics(struct api *a, struct http_buf *out);

#endif
