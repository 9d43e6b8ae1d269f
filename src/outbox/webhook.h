/*
 * webhook.h -- signed webhooks (issue 19, point 6): the events the vault
 * queues in the store (vault_webhook_*) POSTed to each configured URL by
 * one delivery thread of `vaern serve`, at least once and in queue order
 * per endpoint.
 *
 * Each POST carries the event's JSON body and the headers
 *   Content-Type: application/json
 *   Vaern-Event-Id: <32 hex>       (also Idempotency-Key: the same id
 *                                   on every attempt; a receiver drops a
 *                                   second delivery of an id it has)
 *   Vaern-Event-Type: request.created
 *   Vaern-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
 * where v1 is HMAC-SHA256 under the secret of "<t>.<body>". A receiver
 * recomputes it and refuses a t more than WEBHOOK_REPLAY_WINDOW seconds
 * from its clock (a replayed request).
 *
 * An endpoint that answers 2xx has the event; anything else (another
 * status, no connection, a timeout) is tried again after 1, 2, 4, ...
 * seconds, at most WEBHOOK_BACKOFF_MAX, and the events behind it wait
 * (the order holds). The queue is in the store: a restart, even after
 * kill -9, goes on from the last acknowledged event (an event sent but
 * not acknowledged is sent again, with the same id).
 *
 * Every URL is https://, or http:// to a loopback address. No URL, no
 * secret and no body reaches a log line or a metric: an endpoint is
 * named by the first 12 hex digits of the SHA-256 of its URL.
 */
#ifndef VAERN_WEBHOOK_H
#define VAERN_WEBHOOK_H

#include <stddef.h>

#include "../common/err.h"

#define WEBHOOK_ENDPOINTS_MAX   8
#define WEBHOOK_URL_MAX         1024
#define WEBHOOK_SECRET_MIN      16 /* bytes of the secret's line */
#define WEBHOOK_SECRET_MAX      256
#define WEBHOOK_TIMEOUT_DEFAULT 10 /* seconds one POST may take */
#define WEBHOOK_TIMEOUT_MAX     300
#define WEBHOOK_BACKOFF_MAX     600 /* seconds between two attempts */
#define WEBHOOK_DUE_DEFAULT     7   /* days: request.due_soon */
#define WEBHOOK_SCAN_EVERY      60  /* seconds between deadline scans */
#define WEBHOOK_REPLAY_WINDOW   300 /* seconds (documented for receivers) */

/* What `vaern serve` was told; the strings are copied by webhook_start. */
struct webhook_config {
	const char *urls[WEBHOOK_ENDPOINTS_MAX];
	size_t nurls;
	const char *secret_file;  /* first line: the HMAC key (mode 0600) */
	unsigned long due_within; /* days; request.due_soon */
	unsigned long timeout;    /* seconds a POST may take; 0: default */
	int log;                  /* 1: a JSON line per failed attempt */
};

struct webhook;
struct http_buf;

/* VAERN_OK if url may be a webhook: https://, or http:// to a loopback
 * address, with a host and no user or password; else why not in msg
 * (never the URL). */
enum vaern_err webhook_url_check(const char *url, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/* VAERN_OK if path is a secret file for webhooks: a regular file others
 * cannot read whose first line is WEBHOOK_SECRET_MIN to _MAX bytes. */
enum vaern_err webhook_secret_check(const char *path, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/*
 * Registers the endpoints of cfg in the store of data_dir and starts the
 * delivery thread (and the deadline scan). With no URL: *out is NULL,
 * and the store's endpoints are dropped (nothing more is queued).
 */
enum vaern_err webhook_start(const char *data_dir,
                             const struct webhook_config *cfg,
                             struct webhook **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Stops the thread (an attempt under way ends first) and frees w.
 * Accepts NULL. */
void webhook_stop(struct webhook *w);

/* The delivery metrics, per endpoint, for /metrics. w may be NULL. */
void webhook_metrics(struct webhook *w, struct http_buf *out);

#endif
