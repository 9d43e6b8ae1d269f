/*
 * api.h -- the HTTP/JSON API under /v1 (docs/api.md; the OpenAPI document
 * is served at /v1/openapi.json).
 *
 * Every request carries a bearer token (vaern actor add); the actor's
 * controller and role follow from it. Every read of personal data declares
 * a purpose and goes through the gate (vault_subject_access); every
 * decision and every change to a subject is audited before the response
 * is sent (GDPR-32). Identifiers travel in request bodies, never in URLs,
 * so they reach no access log.
 *
 * Each worker thread opens its own vault (its own SQLite connection) on
 * first use; the audit trail has one writer thread for the whole server
 * (group commit).
 */
#ifndef VAERN_API_H
#define VAERN_API_H

#include <stddef.h>

#include "../common/err.h"
#include "../http/http.h"
#include "../vault/vault.h"

struct api;

/*
 * Prepares the API over the data directory dir: starts the audit writer.
 * The caller frees it with api_free() after the server has stopped.
 */
enum vaern_err api_new(const char *dir, struct api **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull));

/*
 * Sends the messages to people (one-time codes, AOPT-ACCESS-1) through fn
 * (a vault_outbox_fn, e.g. smtp_outbox_send) instead of the spool: set
 * before the server starts; arg must outlive the server and be safe to
 * use from every worker thread at once.
 */
void api_set_outbox(struct api *a, vault_outbox_fn fn, void *arg)
        __attribute__((nonnull(1, 2)));

/* The directory of the audit trail's signed checkpoints (`vaern audit
 * checkpoint --dir`; dir must outlive a): the console's audit view checks
 * the trail against them and shows the newest (issue 20, point 4). */
void api_set_checkpoints(struct api *a, const char *dir)
        __attribute__((nonnull(1)));
/*
 * Starts the delivery of the portal's one-time codes (issue 16,
 * AURA-LOGIN-1): a thread with its own vault that sends the codes logins
 * queued in the store, through the outbox set by api_set_outbox (call
 * that first), auditing through the server's audit writer. A login never
 * waits for it. Without it, codes stay queued (and expire).
 */
enum vaern_err api_courier_start(struct api *a, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/* Stops the audit writer (draining it) and frees a. Accepts NULL. */
void api_free(struct api *a);

/*
 * Sweeps retention on a schedule (issue 4): every `every` seconds (0: not
 * at all), the first sweep after at most 5 minutes, on a thread of its
 * own with its own vault, as of the vaern clock. Each batch commits on
 * its own and is audited through the server's audit writer like every
 * other change, so a request waits for one batch at most. log: one line
 * of counts per sweep on stderr. Its figures are in /metrics.
 */
enum vaern_err api_sweep_start(struct api *a, unsigned long every, int log,
                               struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/* Stops the schedule: a sweep under way ends after the batch it is in
 * (committed and audited: never half a batch). Waits for it. api_free
 * calls it. Accepts NULL. */
void api_sweep_stop(struct api *a);

/*
 * Has every thread recompile its controllers' policies from the store
 * before its next request, as when a policy was loaded (issue 12: what
 * SIGHUP does when `vaern serve` was given no --policy file). Safe from
 * any thread.
 */
void api_policy_reload(struct api *a) __attribute__((nonnull(1)));

/* The route table, for http_server_start(..., app = the struct api). */
const struct http_route *api_routes(size_t *n) __attribute__((nonnull));

/*
 * The largest body of POST /v1/traffic, a mediation system's NDJSON batch
 * (issue 18; docs/traffic.md): about 250,000 records. Read only from a
 * caller whose bearer token is valid (api_body_rules), so no one else can
 * make the server hold such a body.
 */
#define API_TRAFFIC_BODY_MAX ((size_t)64 * 1024 * 1024)

/* The media type of a binary traffic batch (TRAFFIC_BINARY). */
#define API_TRAFFIC_BINARY_TYPE "application/vnd.vaern.traffic-batch"

/*
 * The routes with a body limit of their own, for http_config.body_rules:
 * the traffic ingest, at API_TRAFFIC_BODY_MAX or server_max if larger,
 * and the portal's weakness report (five 5 MiB screenshots; from this
 * site's pages only: portal_report_admit). Needs cap >= 2.
 * Writes at most cap rules to out; returns how many.
 */
size_t api_body_rules(size_t server_max, struct http_body_rule *out, size_t cap)
        __attribute__((nonnull(2)));

/* Appends the API's own metrics (gate decisions by outcome, audit
 * entries) to /metrics: the http_config.metrics_extra hook. */
void api_metrics(void *app, struct http_buf *out);

/* Ends the request's read snapshot on this thread: the
 * http_config.after_handler hook. */
void api_after_handler(void *app);

#endif
