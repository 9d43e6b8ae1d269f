/*
 * api.c -- the core of the /v1 API (api.h): the server's state and each
 * worker thread's vault, the create writer, authentication (begin), the
 * answers and refusals every handler gives, the audit of each request,
 * body parsing, /metrics, and the route table. The handlers live in the
 * files api_internal.h lists.
 *
 * No handler waits for an audit commit. An audit entry is queued to the
 * audit writer with a hold on the request's response (http_respond_later):
 * the handler builds its answer and returns, and the answer goes out when
 * the writer has committed the entry (GDPR-32: no answer, and so no
 * release, before the entry is durable; if the commit fails, the answer
 * becomes an error and the body is wiped). A create is sealed on the
 * handler's thread and handed with a hold to the create writer, which
 * writes the subjects of many creates in one transaction and audits them
 * in one group commit. The other changes to a subject (rectify, consent,
 * events, restriction, objection, agreements) still commit their vault
 * write on the handler's thread, then audit as above.
 */
#include "api.h"

#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../audit/audit.h"
#include "../calendar/calendar.h"
#include "../common/ckpt.h"
#include "../common/crash.h"
#include "../console/console.h"
#include "../portal/portal.h"
#include "../vault/vault.h"
#include "api_internal.h"
#include "api_report.h"

#define CREATE_BATCH_MAX 1024
/* Tries of a create that lost a deadlock to another node (issue 14). */
#define CREATE_TRIES_MAX 3

/* ---- worker threads and the audit of their requests --------------------- */

static void
worker_free(void *arg)
{
	struct worker *w = arg;

	if (w == NULL)
		return;
	vault_close(w->v);
	if (w->body.data != NULL) {
		sodium_memzero(w->body.data, w->body.cap);
		free(w->body.data);
	}
	free(w);
}

/* Maps a vault error to a status and an error code. */
static int
status_of(enum vaern_err err, const char **code)
{
	switch (err) {
	case VAERN_E_INVALID: *code = "invalid"; return 400;
	case VAERN_E_LIMIT: *code = "too_large"; return 413;
	case VAERN_E_NOTFOUND: *code = "not_found"; return 404;
	case VAERN_E_EXISTS: *code = "conflict"; return 409;
	case VAERN_E_DENIED: *code = "forbidden"; return 403;
	case VAERN_E_NOMEM: *code = "unavailable"; return 503;
	case VAERN_E_UPSTREAM: *code = "bad_gateway"; return 502;
	default: *code = "internal"; return 500;
	}
}

/* The audit writer's word on an entry a response was held for. */
static void
audit_done(void *arg, enum vaern_err err, int64_t seq,
           const struct vaern_msg *msg)
{
	struct http_pending *hold = arg;
	const char *code;
	int status;

	(void)seq;
	if (err == VAERN_OK) {
		http_pending_complete(hold);
		return;
	}
	/* GDPR-32: not audited, not released; the held body is wiped. */
	status = status_of(err, &code);
	http_pending_fail(hold, status, code,
	                  msg != NULL && msg->text[0] ? msg->text
	                                              : vaern_strerror(err));
}

/*
 * Audits e for the request of c: queues it and holds the response until
 * it is durable. VAERN_OK once queued; an error (nothing queued, nothing
 * held) refuses whatever e was auditing. When no hold can be had (the
 * server is past its drain deadline) it waits for the commit in place.
 */
enum vaern_err
audit_submit(struct ctx *c, const struct audit_entry *e, struct vaern_msg *msg)
{
	struct http_pending *hold;
	struct audit_entry ae = *e;
	enum vaern_err err;

	/* Issue 12: the entry names the policy version it was decided
	 * under, the one this request's vault holds. */
	if (ae.policy == NULL && ae.controller != NULL && c->v != NULL)
		ae.policy = vault_policy_version(c->v, ae.controller);
	e = &ae;
	/* A failed commit is counted by the writer; a refusal here. */
	if ((err = audit_entry_check(e, msg)) != VAERN_OK) {
		atomic_fetch_add(&c->api->audit_failures, 1);
		return err;
	}
	if ((hold = http_respond_later(c->res, NULL, NULL)) == NULL)
		return audit_append(c->api->audit, e, NULL, msg);
	err = audit_append_async(c->api->audit, e, 1, audit_done, hold, msg);
	if (err != VAERN_OK) {
		atomic_fetch_add(&c->api->audit_failures, 1);
		http_pending_complete(hold);
	}
	return err;
}

/* The audit entry of a vault's gate decision or change, field by
 * field. */
void
audit_entry_of(struct audit_entry *ae, const struct vault_audit_event *e)
{
	ae->controller = e->controller;
	ae->actor = e->actor;
	ae->role = e->role;
	ae->purpose = e->purpose;
	ae->action = e->action;
	ae->subject = e->subject;
	ae->categories = e->categories;
	ae->allowed = e->allowed;
	ae->rule = e->rule;
	ae->reason = e->reason;
	ae->policy = e->policy; /* NULL: audit_submit names it */
	ae->outbox_id = e->outbox_id;
	ae->at = e->at;
}

/* The audit hook of the request's vault: one entry per gate decision.
 * arg is the request's struct ctx (begin() sets it). */
static enum vaern_err
audit_hook(void *arg, const struct vault_audit_event *e, struct vaern_msg *msg)
{
	struct ctx *c = arg;
	struct api *a = c->api;
	struct audit_entry ae;

	audit_entry_of(&ae, e);
	if (e->allowed)
		atomic_fetch_add(&a->allowed, 1);
	else
		atomic_fetch_add(&a->denied, 1);
	return audit_submit(c, &ae, msg);
}

/* This thread's state, its vault opened on first use. The vault's audit
 * hook is set per request, by begin(). */
static struct worker *
thread_worker(struct api *a, struct vaern_msg *msg)
{
	struct worker *w = pthread_getspecific(a->worker_key);

	if (w != NULL)
		return w;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		(void)vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		return NULL;
	}
	if (vault_open(a->dir, &w->v, msg) != VAERN_OK) {
		free(w);
		return NULL;
	}
	vault_set_shared_reads(w->v);
	if (a->outbox_fn != NULL)
		vault_set_outbox(w->v, a->outbox_fn, a->outbox_arg);
	/* SHOP-MKT-1: a subscriber created here gets its link at once. */
	vault_set_unsubscribe_tokens(w->v, 1);
	if (pthread_setspecific(a->worker_key, w) != 0) {
		worker_free(w);
		(void)vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		return NULL;
	}
	return w;
}

struct vault *
api_thread_vault(struct api *a, struct vaern_msg *msg)
{
	struct worker *w = thread_worker(a, msg);

	return w != NULL ? w->v : NULL;
}

/* ---- the create writer (group commit) ----------------------------------- */

/* Releases the holds of the creates linked from job: each answers from
 * its job (create_answer), which may be freed at once. */
static void
creates_release(struct create_job *job)
{
	while (job != NULL) {
		struct create_job *next = job->next;

		http_pending_complete(job->hold);
		job = next;
	}
}

/* The audit writer's word on a batch of written creates (linked by
 * next). */
static void
creates_audited(void *arg, enum vaern_err err, int64_t seq,
                const struct vaern_msg *msg)
{
	(void)seq;
	if (err != VAERN_OK) {
		/* Written but not audited: say so, as a failure. */
		for (struct create_job *j = arg; j != NULL; j = j->next) {
			j->err = err;
			if (msg != NULL)
				j->msg = *msg;
		}
	}
	creates_release(arg);
}

/* The audit event of a written create (GDPR-32: the entry that names
 * the new subject). */
static void
create_event(const struct create_job *j, struct vault_audit_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->controller = j->actor.controller;
	ev->actor = j->actor.name;
	ev->role = j->actor.role;
	ev->purpose = j->purpose;
	ev->action = "create";
	ev->subject = j->uid;
	ev->categories = j->categories;
	ev->allowed = 1;
	ev->rule = "GDPR-32";
	ev->reason = "subject created";
	ev->policy = j->policy;
	ev->outbox_id = j->outbox_id;
	ev->at = j->audit_at;
}

/*
 * Writes the n creates of batch in one transaction (each under its own
 * savepoint, so one taken identifier fails one create), each with its
 * audit entry in the outbox (the change and its entry commit as one,
 * issue 12). Returns the transaction's result; each job's own in its err.
 */
static enum vaern_err
creates_write(struct api *a, struct create_job **batch, size_t n,
              struct vaern_msg *msg)
{
	enum vaern_err err;

	/* Issue 14: beside other nodes' create writers (vault.c). */
	if ((err = vault_begin_creates(a->writer_vault, msg)) != VAERN_OK)
		return err;
	for (size_t i = 0; i < n && err == VAERN_OK; i++) {
		struct create_job *j = batch[i];
		struct vault_audit_event ev;

		/* Issue 12: the version the create was checked under. */
		(void)snprintf(j->policy, sizeof(j->policy), "%s",
		               vault_prepared_policy_version(j->prepared));
		j->err = vault_subject_write(a->writer_vault, j->prepared,
		                             j->uid, &j->msg);
		j->tries++;
		/* Issue 14: two nodes' batches taking the same two new
		 * identifiers in opposite orders deadlock and PostgreSQL
		 * fails one create; written again in a later batch, after
		 * the other node's commit, it is answered as any create
		 * (201, or 409 for an identifier taken). */
		j->retry = j->err != VAERN_OK && j->tries < CREATE_TRIES_MAX &&
		           vault_subject_write_busy(a->writer_vault);
		if (j->err != VAERN_OK)
			continue;
		create_event(j, &ev);
		err = vault_audit_outbox(a->writer_vault, &ev, msg);
		j->outbox_id = ev.outbox_id;
		j->audit_at = ev.at;
	}
	crash_point("create_written");
	if (err == VAERN_OK)
		err = vault_commit(a->writer_vault, msg);
	if (err != VAERN_OK)
		vault_rollback(a->writer_vault);
	else
		crash_point("create_committed");
	return err;
}

/*
 * The create writer: takes every create queued, writes them with their
 * outbox entries in one transaction, commits once, queues the batch's
 * audit entries as one group (which moves them from the outbox into the
 * trail) and goes on to the next batch while the audit writer commits
 * them; each create is answered once its entry is in the trail. Creates
 * share fsyncs instead of queueing for SQLite's write lock one by one.
 */
static void *
writer_main(void *arg)
{
	struct api *a = arg;
	struct audit_entry entries[CREATE_BATCH_MAX];
	struct create_job *batch[CREATE_BATCH_MAX];

	for (;;) {
		struct vaern_msg msg = {{0}};
		struct create_job *written = NULL, *failed = NULL;
		struct create_job *again = NULL, *again_tail = NULL;
		enum vaern_err err;
		size_t n = 0, ne = 0;

		pthread_mutex_lock(&a->wlock);
		while (a->head == NULL && !a->stop)
			pthread_cond_wait(&a->wcond, &a->wlock);
		while (a->head != NULL && n < CREATE_BATCH_MAX) {
			batch[n++] = a->head;
			a->head = a->head->next;
		}
		if (a->head == NULL)
			a->tail = NULL;
		pthread_mutex_unlock(&a->wlock);
		if (n == 0)
			break; /* stopping, queue empty */
		vault_policy_sync(a->writer_vault, api_policy_epoch(a));
		err = creates_write(a, batch, n, &msg);
		/* Built back to front, so both lists keep the queue order. */
		for (size_t i = n; i-- > 0;) {
			struct create_job *j = batch[i];

			if (err == VAERN_OK && j->retry) {
				/* Kept, hold and sealed facts, for the next
				 * batch. */
				j->err = VAERN_OK;
				memset(&j->msg, 0, sizeof(j->msg));
				j->retry = 0;
				j->next = again;
				if (again == NULL)
					again_tail = j;
				again = j;
				continue;
			}
			vault_prepared_free(j->prepared);
			j->prepared = NULL;
			if (err != VAERN_OK) {
				j->err = err;
				j->msg = msg;
			}
			if (j->err != VAERN_OK) {
				j->next = failed;
				failed = j;
				continue;
			}
			j->next = written;
			written = j;
		}
		for (struct create_job *j = written; j != NULL; j = j->next) {
			struct vault_audit_event ev;

			create_event(j, &ev);
			audit_entry_of(&entries[ne++], &ev);
		}
		creates_release(failed); /* not written: nothing to audit */
		if (again != NULL) {
			/* First in the queue: the next batch, which starts
			 * once this one has committed (the other node's has
			 * by then, or holds what it took). */
			pthread_mutex_lock(&a->wlock);
			again_tail->next = a->head;
			a->head = again;
			if (a->tail == NULL)
				a->tail = again_tail;
			pthread_mutex_unlock(&a->wlock);
		}
		if (ne > 0 && (err = audit_append_async(
		                       a->audit, entries, ne, creates_audited,
		                       written, &msg)) != VAERN_OK) {
			/* Committed with their entries in the outbox: the next
			 * start-up moves them. The callers hear of the failure.
			 */
			atomic_fetch_add(&a->audit_failures, 1);
			creates_audited(written, err, 0, &msg);
		}
		/* The few pages ckpt's copy of the log left, and the log
		 * started over, while the audit writer commits the batch's
		 * entries. */
		if (ckpt_committed(a->ckpt, vault_log_frames(a->writer_vault)))
			ckpt_finished(a->ckpt,
			              vault_log_restart(a->writer_vault,
			                                CKPT_WAIT_MS));
	}
	return NULL;
}

/* The copy of the create writer's log into the database, on ckpt's
 * thread. */
static enum vaern_err
vault_copy(void *arg)
{
	return vault_checkpoint_passive(arg, NULL);
}

/* Queues job for the writer: its hold is released once it is written
 * and audited (or failed). */
void
create_submit(struct api *a, struct create_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&a->wlock);
	if (a->tail != NULL)
		a->tail->next = job;
	else
		a->head = job;
	a->tail = job;
	pthread_cond_signal(&a->wcond);
	pthread_mutex_unlock(&a->wlock);
}

/* ---- the API's life, metrics -------------------------------------------- */

void
api_cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(c, &ca);
	pthread_condattr_destroy(&ca);
}

enum vaern_err
api_new(const char *dir, struct api **out, struct vaern_msg *msg)
{
	enum vaern_err err;
	struct api *a;
	struct vault *probe = NULL;
	struct audit_trail trail;
	char vault_path[PATH_MAX];
	int n;

	*out = NULL;
	memset(&trail, 0, sizeof(trail));
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	if ((a->dir = strdup(dir)) == NULL) {
		free(a);
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	}
	/* The sweeper waits on the monotonic clock: setting the system
	 * time neither hurries nor delays a sweep. */
	api_cond_init_monotonic(&a->scond);
	pthread_mutex_init(&a->slock, NULL);
	api_cond_init_monotonic(&a->ocond);
	pthread_mutex_init(&a->olock, NULL);
	n = snprintf(a->db_path, sizeof(a->db_path), "%s/%s", dir,
	             AUDIT_DB_FILE);
	if (n < 0 || (size_t)n >= sizeof(a->db_path)) {
		err = vaern_fail(msg, VAERN_E_INVALID, "path too long");
		goto fail;
	}
	n = snprintf(vault_path, sizeof(vault_path), "%s/%s", dir,
	             VAULT_DB_FILE);
	if (n < 0 || (size_t)n >= sizeof(vault_path)) {
		err = vaern_fail(msg, VAERN_E_INVALID, "path too long");
		goto fail;
	}
	trail.path = a->db_path;
	trail.outbox_path = vault_path;
	/* Opening once checks the key and the database before serving; the
	 * audit MAC key is made on the first start. */
	if ((err = vault_open(dir, &probe, msg)) != VAERN_OK)
		goto fail;
	err = vault_audit_key(probe, 1, trail.key, msg);
	vault_close(probe);
	if (err != VAERN_OK)
		goto fail;
	if (pthread_key_create(&a->worker_key, worker_free) != 0) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto fail;
	}
	/* The writer moves what a crash left in the outbox first. */
	if ((err = audit_create(a->db_path, msg)) != VAERN_OK ||
	    (err = audit_writer_start(&trail, 0, &a->audit, msg))) {
		pthread_key_delete(a->worker_key);
		goto fail;
	}
	sodium_memzero(&trail, sizeof(trail));
	pthread_mutex_init(&a->wlock, NULL);
	pthread_cond_init(&a->wcond, NULL);
	if ((err = vault_open(dir, &a->writer_vault, msg)) != VAERN_OK) {
		api_free(a);
		return err;
	}
	/* Issue 12 point 6: the create writer's commits leave the copy of
	 * its log to a thread of its own, on SQLite only (PostgreSQL
	 * checkpoints on its own: no thread, no connection); without one,
	 * SQLite copies it in the commits, as before. Set before the writer
	 * starts, which reads a->ckpt. */
	if (vault_checkpoint_apart(a->writer_vault, 1) &&
	    (vault_open(dir, &a->copier_vault, NULL) != VAERN_OK ||
	     ckpt_start(vault_copy, a->copier_vault, "vaern-ckpt", &a->ckpt,
	                NULL) != VAERN_OK)) {
		vault_close(a->copier_vault);
		a->copier_vault = NULL;
		(void)vault_checkpoint_apart(a->writer_vault, 0);
	}
	if (pthread_create(&a->writer, NULL, writer_main, a) != 0) {
		api_free(a);
		return vaern_fail(msg, VAERN_E_INTERNAL,
		                  "cannot start the writer thread");
	}
	a->writer_started = 1;
	(void)pthread_setname_np(a->writer, "vaern-create");
	if ((err = api_policy_watch_start(a, msg)) != VAERN_OK) {
		api_free(a);
		return err;
	}
	*out = a;
	return VAERN_OK;
fail:
	sodium_memzero(&trail, sizeof(trail));
	free(a->dir);
	free(a);
	return err;
}

void
api_set_outbox(struct api *a, vault_outbox_fn fn, void *arg)
{
	a->outbox_fn = fn;
	a->outbox_arg = arg;
}

void
api_set_checkpoints(struct api *a, const char *dir)
{
	a->checkpoints = dir;
}

void
api_free(struct api *a)
{
	struct worker *w;

	if (a == NULL)
		return;
	/* Before the audit writer stops: the sweeper and the courier audit
	 * through it. */
	api_sweep_stop(a);
	api_courier_stop(a);
	api_policy_watch_stop(a);
	if (a->writer_started) {
		pthread_mutex_lock(&a->wlock);
		a->stop = 1;
		pthread_cond_signal(&a->wcond);
		pthread_mutex_unlock(&a->wlock);
		pthread_join(a->writer, NULL);
	}
	ckpt_stop(a->ckpt);
	vault_close(a->copier_vault);
	vault_close(a->writer_vault);
	pthread_cond_destroy(&a->wcond);
	pthread_mutex_destroy(&a->wlock);
	audit_writer_stop(a->audit);
	/* The calling thread's own state, if it served requests. */
	if ((w = pthread_getspecific(a->worker_key)) != NULL) {
		worker_free(w);
		pthread_setspecific(a->worker_key, NULL);
	}
	pthread_key_delete(a->worker_key);
	pthread_cond_destroy(&a->scond);
	pthread_mutex_destroy(&a->slock);
	pthread_cond_destroy(&a->ocond);
	pthread_mutex_destroy(&a->olock);
	free(a->dir);
	free(a);
}

void
api_after_handler(void *app)
{
	struct api *a = app;
	struct worker *w = pthread_getspecific(a->worker_key);

	if (w != NULL)
		vault_read_end(w->v);
}

void
api_metrics(void *app, struct http_buf *out)
{
	struct api *a = app;
	uint64_t entries = 0, batches = 0, failed;

	audit_writer_stats(a->audit, &entries, &batches);
	failed = audit_writer_failures(a->audit);
	(void)http_buf_printf(
	        out,
	        "# HELP vaern_gate_decisions_total Gate decisions by outcome.\n"
	        "# TYPE vaern_gate_decisions_total counter\n"
	        "vaern_gate_decisions_total{decision=\"allow\"} %lu\n"
	        "vaern_gate_decisions_total{decision=\"deny\"} %lu\n"
	        "# HELP vaern_audit_entries_total Audit entries written.\n"
	        "# TYPE vaern_audit_entries_total counter\n"
	        "vaern_audit_entries_total %llu\n"
	        "# HELP vaern_audit_batches_total Audit group commits.\n"
	        "# TYPE vaern_audit_batches_total counter\n"
	        "vaern_audit_batches_total %llu\n"
	        "# HELP vaern_audit_failures_total Audit appends that failed "
	        "(nothing was released).\n"
	        "# TYPE vaern_audit_failures_total counter\n"
	        "vaern_audit_failures_total %lu\n",
	        atomic_load(&a->allowed), atomic_load(&a->denied),
	        (unsigned long long)entries, (unsigned long long)batches,
	        atomic_load(&a->audit_failures) + (unsigned long)failed);
	sweep_metrics(a, out);
	incident_metrics(a, out);
}

/* ---- a request's context, answers and refusals -------------------------- */

/* Maps a vault error to an HTTP answer. */
int
fail(struct http_response *res, enum vaern_err err, const struct vaern_msg *msg)
{
	const char *code;
	int status = status_of(err, &code);

	/* Issue 14: a lost PostgreSQL connection is the server's outage,
	 * said as such (503, try again), never libpq's text, which names the
	 * database's host or socket; the operator sees it in /healthz and
	 * the CLI. */
	if (err == VAERN_E_STORE && msg != NULL &&
	    strstr(msg->text, "PostgreSQL") != NULL &&
	    (strstr(msg->text, "connect") != NULL ||
	     strstr(msg->text, "connection") != NULL)) {
		http_respond_header(res, "Retry-After", "1");
		return http_respond_error(res, 503, "unavailable", "%s",
		                          "the database is unreachable: try "
		                          "again");
	}
	return http_respond_error(
	        res, status, code, "%s",
	        msg != NULL && msg->text[0] ? msg->text : vaern_strerror(err));
}

int
begin(struct http_request *req, struct http_response *res, void *app,
      struct ctx *c)
{
	const char *auth = http_request_header(req, "Authorization");
	enum vaern_err err;

	memset(c, 0, sizeof(*c));
	c->api = app;
	/* RFC 7235: the scheme name is case-insensitive. */
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0) {
		http_respond_header(res, "WWW-Authenticate", "Bearer");
		(void)http_respond_error(res, 401, "unauthorized",
		                         "a bearer token is required");
		return 1;
	}
	if ((c->w = thread_worker(c->api, &c->msg)) == NULL) {
		(void)fail(res, VAERN_E_STORE, &c->msg);
		return 1;
	}
	c->v = c->w->v;
	/* Before the snapshot is taken: a policy loaded before the epoch
	 * was raised is in it (issue 12). */
	vault_policy_sync(c->v, api_policy_epoch(c->api));
	/* The request's reads share one snapshot (api_after_handler ends
	 * it); without one they still work, each in its own. */
	(void)vault_read_begin(c->v, NULL);
	/* Gate decisions of this request are audited for this response. */
	c->res = res;
	vault_set_audit(c->v, audit_hook, c);
	if ((err = vault_actor_auth(c->v, auth + 7, &c->actor, &c->msg)) !=
	    VAERN_OK) {
		if (err != VAERN_E_DENIED) { /* the store, not the token */
			(void)fail(res, err, &c->msg);
			return 1;
		}
		http_respond_header(res, "WWW-Authenticate",
		                    "Bearer error=\"invalid_token\"");
		(void)http_respond_error(res, 401, "unauthorized", "%s",
		                         c->msg.text);
		return 1;
	}
	if (vault_policy(c->v, c->actor.controller, &c->policy, &c->msg) !=
	    VAERN_OK) {
		(void)fail(res, VAERN_E_STORE, &c->msg);
		return 1;
	}
	return 0;
}

/* The request's vault and response, without a bearer token: the token in
 * the path is the only credential. 1 if answered. */
int
begin_public(struct http_request *req, struct http_response *res, void *app,
             struct ctx *c)
{
	(void)req;
	memset(c, 0, sizeof(*c));
	c->api = app;
	if ((c->w = thread_worker(c->api, &c->msg)) == NULL) {
		(void)fail(res, VAERN_E_STORE, &c->msg);
		return 1;
	}
	c->v = c->w->v;
	vault_policy_sync(c->v, api_policy_epoch(c->api));
	c->res = res;
	vault_set_audit(c->v, audit_hook, c);
	return 0;
}

int
subject_param(struct http_request *req, struct http_response *res,
              unsigned char uid[VAULT_UID_BYTES])
{
	const char *id = http_request_param(req, "id");
	struct vaern_msg msg = {{0}};

	if (id == NULL || vault_uid_parse(id, uid, &msg) != VAERN_OK) {
		(void)http_respond_error(res, 404, "not_found",
		                         "no such subject");
		return 1;
	}
	return 0;
}

/*
 * begin(), then the subject of the path ({id}) into uid, which must be a
 * subject of the actor's controller. 1 once it has answered (401, 404
 * ...).
 */
int
begin_subject(struct http_request *req, struct http_response *res, void *app,
              struct ctx *c, unsigned char uid[VAULT_UID_BYTES])
{
	enum vaern_err err;

	if (begin(req, res, app, c) || subject_param(req, res, uid))
		return 1;
	if ((err = vault_subject_exists(c->v, c->actor.controller, uid,
	                                &c->msg)) != VAERN_OK) {
		(void)fail(res, err, &c->msg);
		return 1;
	}
	return 0;
}

void
change_event(struct ctx *c, struct vault_audit_event *ev, const char *action,
             const char *purpose, const unsigned char *uid,
             const char *categories, int allowed, const char *rule,
             const char *reason)
{
	memset(ev, 0, sizeof(*ev));
	ev->controller = c->actor.controller;
	ev->actor = c->actor.name;
	ev->role = c->actor.role;
	ev->purpose = purpose;
	ev->action = action;
	ev->subject = uid;
	ev->categories = categories;
	ev->allowed = allowed;
	ev->rule = rule;
	ev->reason = reason;
}

enum vaern_err
audit_change_event(struct ctx *c, const struct vault_audit_event *ev)
{
	struct audit_entry e;

	audit_entry_of(&e, ev);
	return audit_submit(c, &e, &c->msg);
}

/* Audits a change to a subject (create, rectify, consent ...). */
enum vaern_err
audit_change(struct ctx *c, const char *action, const char *purpose,
             const unsigned char *uid, const char *categories, int allowed,
             const char *rule, const char *reason)
{
	struct vault_audit_event ev;

	change_event(c, &ev, action, purpose, uid, categories, allowed, rule,
	             reason);
	return audit_change_event(c, &ev);
}

/* What the actor's role may do: the rules live in src/gate; these only
 * look the ids up. */
int
role_has_purpose(const struct ctx *c, const char *purpose)
{
	long ri = policy_role_index(c->policy, c->actor.role);
	long pi = policy_purpose_index(c->policy, purpose);

	return ri >= 0 && pi >= 0 &&
	       gate_role_has_purpose(c->policy, (size_t)ri, (size_t)pi);
}

int
role_has_category(const struct ctx *c, const char *category)
{
	long ri = policy_role_index(c->policy, c->actor.role);
	long ci = policy_category_index(c->policy, category);

	return ri >= 0 && ci >= 0 &&
	       gate_role_has_category(c->policy, (size_t)ri, (size_t)ci);
}

int
role_operational(const struct ctx *c)
{
	long ri = policy_role_index(c->policy, c->actor.role);

	return ri >= 0 && gate_role_operational(c->policy, (size_t)ri);
}

int
role_audits(const struct ctx *c)
{
	long ri = policy_role_index(c->policy, c->actor.role);

	return ri >= 0 && gate_role_audits(c->policy, (size_t)ri);
}

int
refuse(struct ctx *c, struct http_response *res, const char *action,
       const char *purpose, const unsigned char *uid, const char *rule,
       const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (audit_change(c, action, purpose, uid, NULL, 0, rule, reason) !=
	    VAERN_OK)
		return fail(res, VAERN_E_IO, &c->msg);
	return http_respond_error(res, 403, "forbidden", "%s (%s)", reason,
	                          rule);
}

/* ---- request bodies and JSON -------------------------------------------- */

json_t *
time_json(int64_t t)
{
	char buf[21];

	if (t == INT64_MIN)
		return json_null();
	cal_format_instant(t, buf);
	return json_string(buf);
}

/* The string member key of o, or NULL (absent, or not a string). */
const char *
str_member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Checks that o's keys are all in allowed and, if typed, that each value
 * is a string, a list or null. 0, or -1 with the reason in msg. */
static int
keys_check(json_t *o, const char *const *allowed, int typed,
           struct vaern_msg *msg)
{
	const char *key;
	json_t *val;

	json_object_foreach(o, key, val)
	{
		int ok = 0;

		(void)val;
		for (size_t i = 0; allowed[i] != NULL; i++)
			ok |= strcmp(allowed[i], key) == 0;
		if (!ok) {
			(void)vaern_fail(msg, VAERN_E_INVALID,
			                 "unknown key '%.64s'", key);
			return -1;
		}
		if (typed && !json_is_string(val) && !json_is_array(val) &&
		    !json_is_null(val)) {
			(void)vaern_fail(msg, VAERN_E_INVALID,
			                 "'%.64s' must be a string or a list",
			                 key);
			return -1;
		}
	}
	return 0;
}

int
check_keys(json_t *o, const char *const *allowed, struct vaern_msg *msg)
{
	return keys_check(o, allowed, 1, msg);
}

int
check_key_names(json_t *o, const char *const *allowed, struct vaern_msg *msg)
{
	return keys_check(o, allowed, 0, msg);
}

/*
 * A time of a request body: when a person's relationship ended, when a
 * fact was collected. Personal data, so the message says what a time
 * looks like, never which day or month of it was wrong (GDPR-32).
 */
int
parse_time(const char *text, int64_t *t, struct vaern_msg *msg)
{
	*t = INT64_MIN;
	if (text == NULL)
		return 0;
	if (cal_parse_instant(text, t, NULL) != VAERN_OK) {
		(void)vaern_fail(msg, VAERN_E_INVALID,
		                 "a time: not a real date or instant "
		                 "(YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
		return -1;
	}
	return 0;
}

/* Reads a JSON body (object), checking its keys and, if typed, the types
 * of its values; answers errors itself. */
static int
body_read(struct http_request *req, struct http_response *res,
          const char *const *keys, int typed, json_t **doc)
{
	struct vaern_msg msg = {{0}};
	int st;

	*doc = NULL;
	if ((st = http_request_json(req, doc, &msg)) != 0) {
		(void)http_respond_error(res, st, http_error_code(st), "%s",
		                         msg.text);
		return 1;
	}
	if (!json_is_object(*doc) || keys_check(*doc, keys, typed, &msg) != 0) {
		json_decref(*doc);
		*doc = NULL;
		(void)http_respond_error(res, 400, "invalid", "%s",
		                         msg.text[0] ? msg.text
		                                     : "expected an object");
		return 1;
	}
	return 0;
}

int
body(struct http_request *req, struct http_response *res,
     const char *const *keys, json_t **doc)
{
	return body_read(req, res, keys, 1, doc);
}

int
body_any(struct http_request *req, struct http_response *res,
         const char *const *keys, json_t **doc)
{
	return body_read(req, res, keys, 0, doc);
}

/* The keys of a consent: in a create's "consents" and in POST
 * /v1/subjects/{id}/consents. */
const char *const consent_keys[] = {"purpose", "source",    "given_at",
                                    "text",    "text_hash", NULL};

/* ---- the route table ---------------------------------------------------- */

static const struct http_route routes[] = {
        {"GET", "/v1/openapi.json", h_openapi, "openapi"},
        {"GET", "/v1/policy", h_policy, "policy"},
        {"POST", "/v1/subjects", h_subject_create, "subject_create"},
        {"POST", "/v1/subjects/lookup", h_lookup, "subject_lookup"},
        {"GET", "/v1/subjects/{id}/facts", h_facts, "subject_facts"},
        {"POST", "/v1/subjects/{id}/facts", h_facts_add, "subject_facts_add"},
        {"PATCH", "/v1/subjects/{id}/facts/{fact}", h_rectify,
         "subject_rectify"},
        {"POST", "/v1/subjects/{id}/events", h_event, "subject_event"},
        {"POST", "/v1/subjects/{id}/consents", h_consent_give, "consent_give"},
        {"DELETE", "/v1/subjects/{id}/consents/{purpose}", h_consent_withdraw,
         "consent_withdraw"},
        {"GET", "/v1/subjects/{id}/consents", h_consent_history,
         "consent_history"},
        {"GET", "/v1/consent-texts/{hash}", h_consent_text, "consent_text"},
        {"GET", "/v1/unsubscribe/{token}", h_unsubscribe_show,
         "unsubscribe_show"},
        {"POST", "/v1/unsubscribe/{token}", h_unsubscribe, "unsubscribe"},
        {"GET", "/v1/visitors/{visitor_id}/choices", h_choice_get,
         "visitor_choice"},
        {"PUT", "/v1/visitors/{visitor_id}/choices", h_choice_put,
         "visitor_choose"},
        {"POST", "/v1/visitors/{visitor_id}/visits", h_visit, "visit"},
        {"GET", "/v1/visitors/{visitor_id}/visits", h_visits_get,
         "visitor_visits"},
        {"POST", "/v1/visitors/{visitor_id}/pixels", h_pixel, "pixel"},
        {"PUT", "/v1/subjects/{id}/restriction", h_restrict, "restrict"},
        {"DELETE", "/v1/subjects/{id}/restriction", h_unrestrict,
         "restrict_lift"},
        {"PUT", "/v1/subjects/{id}/objection", h_object, "object"},
        {"DELETE", "/v1/subjects/{id}/objection", h_unobject, "object_lift"},
        {"PUT", "/v1/subjects/{id}/agreements/{recipient}", h_agree,
         "agreement"},
        {"DELETE", "/v1/subjects/{id}/agreements/{recipient}", h_disagree,
         "agreement_withdraw"},
        {"POST", "/v1/subjects/{id}/disclosures", h_disclose, "disclose"},
        {"PUT", "/v1/subjects/{id}/holds", h_hold_place, "hold_place"},
        {"GET", "/v1/subjects/{id}/holds", h_holds, "holds"},
        {"DELETE", "/v1/subjects/{id}/holds/{hold}", h_hold_lift, "hold_lift"},
        {"GET", "/v1/audit", h_audit, "audit"},
        {"GET", "/v1/ropa", h_ropa, "ropa"},
        {"GET", "/privacy/{controller}", h_privacy, "privacy_notice"},
        {"GET", "/v1/subjects/{id}/report", h_report, "subject_report"},
        {"GET", "/v1/subjects/{id}/export", h_export, "subject_export"},
        {"POST", "/v1/requests", h_request_add, "request_add"},
        {"GET", "/v1/requests", h_request_list, "request_list"},
        {"GET", "/v1/requests/{request}", h_request_get, "request_get"},
        {"PATCH", "/v1/requests/{request}", h_request_status, "request_status"},
        {"POST", "/v1/requests/{request}/extension", h_request_extend,
         "request_extend"},
        {"POST", "/v1/requests/{request}/code", h_request_code, "request_code"},
        {"POST", "/v1/requests/{request}/verification", h_request_verify,
         "request_verify"},
        {"POST", "/v1/requests/{request}/erasure", h_request_erase,
         "request_erase"},
        {"GET", "/v1/requests/{request}/report", h_request_report,
         "request_report"},
        {"POST", "/v1/requests/{request}/rectification", h_request_rectify,
         "request_rectify"},
        {"POST", "/v1/requests/{request}/restriction", h_request_restrict,
         "request_restrict"},
        {"POST", "/v1/requests/{request}/objection", h_request_object,
         "request_object"},
        {"POST", "/v1/requests/{request}/consent-withdrawal",
         h_request_withdraw, "request_withdraw_consent"},
        {"POST", "/v1/reports", h_report_submit, "report_submit"},
        {"GET", "/report/{controller}", h_report_page, "report_page"},
        {"POST", "/report/{controller}", h_report_page_post,
         "report_page_post"},
        {"POST", "/v1/reports/{case}/status", h_report_status, "report_status"},
        {"GET", "/v1/incidents", h_incident_list, "incident_list"},
        {"GET", "/v1/incidents/register", h_incident_register,
         "incident_register"},
        {"GET", "/v1/incidents/affected", h_incident_affected,
         "incident_affected"},
        {"GET", "/v1/incidents/{case}", h_incident_get, "incident_get"},
        {"PATCH", "/v1/incidents/{case}", h_incident_triage, "incident_triage"},
        {"GET", "/v1/incidents/{case}/screenshots/{n}", h_incident_screenshot,
         "incident_screenshot"},
        {"POST", "/v1/incidents/{case}/receipt", h_incident_receipt,
         "incident_receipt"},
        {"POST", "/v1/incidents/{case}/feedback", h_incident_feedback,
         "incident_feedback"},
        {"GET", "/v1/incidents/{case}/notification", h_incident_notification,
         "incident_notification"},
        {"POST", "/v1/incidents/{case}/notices", h_incident_notices,
         "incident_notices"},
        {"GET", "/v1/opendsr/discovery", h_opendsr_discovery,
         "opendsr_discovery"},
        {"POST", "/v1/opendsr/requests", h_opendsr_create, "opendsr_create"},
        {"GET", "/v1/opendsr/requests/{request}", h_opendsr_get, "opendsr_get"},
        {"DELETE", "/v1/opendsr/requests/{request}", h_opendsr_cancel,
         "opendsr_cancel"},
        {"POST", "/v1/traffic", h_traffic_ingest, "traffic_ingest"},
        {"POST", "/v1/traffic/query", h_traffic_query, "traffic_query"},
        /* The person's self-service portal (issue 16, src/portal). */
        {"GET", "/portal-assets/portal.css", portal_css, "portal_css"},
        {"GET", "/.well-known/gpc.json", portal_gpc, "gpc"},
        {"GET", "/portal/{controller}", portal_home, "portal_home"},
        {"GET", "/portal/{controller}/login", portal_login_page,
         "portal_login_page"},
        {"POST", "/portal/{controller}/login", portal_login_post,
         "portal_login"},
        {"GET", "/portal/{controller}/code", portal_code_page,
         "portal_code_page"},
        {"POST", "/portal/{controller}/code", portal_code_post, "portal_code"},
        {"POST", "/portal/{controller}/logout", portal_logout, "portal_logout"},
        {"GET", "/portal/{controller}/overview", portal_overview,
         "portal_overview"},
        {"POST", "/portal/{controller}/change", portal_change, "portal_change"},
        {"GET", "/portal/{controller}/data", portal_data, "portal_data"},
        {"POST", "/portal/{controller}/data/{kind}", portal_download,
         "portal_download"},
        {"GET", "/portal/{controller}/consents", portal_consents,
         "portal_consents"},
        {"POST", "/portal/{controller}/consents", portal_consent_post,
         "portal_consent"},
        {"POST", "/portal/{controller}/objection", portal_objection,
         "portal_objection"},
        {"GET", "/portal/{controller}/requests", portal_requests,
         "portal_requests"},
        {"POST", "/portal/{controller}/requests", portal_request_post,
         "portal_request"},
        {"POST", "/portal/{controller}/password", portal_password,
         "portal_password"},
        {"POST", "/portal/{controller}/cookies", portal_cookies,
         "portal_cookies"},
        /* The weakness report on the portal (issue 17, SHOP-BREACH-1). */
        {"GET", "/portal/{controller}/report", portal_report_page,
         "portal_report_page"},
        {"POST", "/portal/{controller}/report", portal_report_post,
         "portal_report_post"},
        {"GET", "/portal/{controller}/report/status", portal_report_status_page,
         "portal_report_status_page"},
        {"POST", "/portal/{controller}/report/status",
         portal_report_status_post, "portal_report_status"},
        /* The staff console (issue 20, src/console). */
        {"GET", "/console-assets/console.css", console_css, "console_css"},
        {"GET", "/console/{controller}", console_home, "console_home"},
        {"GET", "/console/{controller}/login", console_login_page,
         "console_login_page"},
        {"POST", "/console/{controller}/login", console_login_post,
         "console_login"},
        {"POST", "/console/{controller}/logout", console_logout,
         "console_logout"},
        {"GET", "/console/{controller}/requests", console_queue,
         "console_queue"},
        {"POST", "/console/{controller}/search", console_search,
         "console_search"},
        {"GET", "/console/{controller}/requests/{request}",
         console_request_page, "console_request"},
        {"GET", "/console/{controller}/requests/{request}/report",
         console_request_report, "console_request_report"},
        {"POST", "/console/{controller}/requests/{request}/{action}",
         console_request_action, "console_request_action"},
        /* The console's views (issue 20, points 3 to 6). */
        {"GET", "/console-assets/views.css", console_views_css,
         "console_views_css"},
        {"GET", "/console/{controller}/retention", console_retention,
         "console_retention"},
        {"POST", "/console/{controller}/retention/hold", console_hold_place,
         "console_hold_place"},
        {"POST", "/console/{controller}/retention/lift", console_hold_lift,
         "console_hold_lift"},
        {"GET", "/console/{controller}/audit", console_audit, "console_audit"},
        {"POST", "/console/{controller}/audit", console_audit,
         "console_audit_subject"},
        {"GET", "/console/{controller}/audit/export", console_audit_export,
         "console_audit_export"},
        {"POST", "/console/{controller}/audit/export", console_audit_export,
         "console_audit_export_subject"},
        {"GET", "/console/{controller}/incidents", console_incidents,
         "console_incidents"},
        {"GET", "/console/{controller}/incidents/{case}", console_incident,
         "console_incident"},
        {"POST", "/console/{controller}/incidents/{case}/{action}",
         console_incident_post, "console_incident_post"},
        {"GET", "/console/{controller}/policies", console_policies,
         "console_policies"},
        {"GET", "/console/{controller}/policies/notice", console_policy_notice,
         "console_policy_notice"},
        {"GET", "/console/{controller}/staff", console_staff, "console_staff"},
        {"POST", "/console/{controller}/staff", console_staff,
         "console_staff_unlock"},
};

const struct http_route *
api_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

/* Before a large body is read: a bearer token this vault knows (401
 * otherwise). What the actor may do is the handler's to decide, and
 * audit. */
static int
admit_bearer(struct http_request *req, void *app)
{
	const char *auth = http_request_header(req, "Authorization");
	struct vault_actor actor;
	struct vaern_msg msg;
	struct worker *w;
	enum vaern_err err;
	int status;

	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return 401;
	if ((w = thread_worker(app, &msg)) == NULL)
		return 500;
	err = vault_actor_auth(w->v, auth + 7, &actor, &msg);
	/* A store that failed says nothing about the token (500). */
	status = err == VAERN_OK ? 0 : err == VAERN_E_DENIED ? 401 : 500;
	sodium_memzero(&actor, sizeof(actor));
	return status;
}

size_t
api_body_rules(size_t server_max, struct http_body_rule *out, size_t cap)
{
	size_t report_max = portal_report_body_max();

	if (cap < 2)
		return 0;
	out[0].route = "traffic_ingest";
	out[0].body_max = server_max > API_TRAFFIC_BODY_MAX
	                          ? server_max
	                          : API_TRAFFIC_BODY_MAX;
	out[0].admit = admit_bearer;
	/* The portal's weakness report: five screenshots of 5 MiB, from a
	 * page of this site (issue 17). */
	out[1].route = "portal_report_post";
	out[1].body_max = server_max > report_max ? server_max : report_max;
	out[1].admit = portal_report_admit;
	return 2;
}
