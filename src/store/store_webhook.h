/*
 * store_webhook.h -- the durable queue of webhook events (issue 19,
 * point 6). Rows only: an event is its type and a JSON body of ids, types
 * and times, never personal data (src/vault/vault_webhook.c builds it).
 *
 * Two tables, in portable SQL:
 *   webhook_event:    the queue, by a growing id (the order of delivery);
 *                     eid is the event's public id (the receivers'
 *                     idempotency key); once, if set, makes the event
 *                     one of a kind (a request's "due soon" for one due
 *                     date);
 *   webhook_endpoint: each configured endpoint (a digest of its URL, no
 *                     URL) and the id of the last event it acknowledged.
 * An event is queued only while some endpoint is registered; an endpoint
 * registered anew starts after the newest event. Writes run inside the
 * caller's store_begin/store_commit.
 */
#ifndef VAERN_STORE_WEBHOOK_H
#define VAERN_STORE_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "store.h"

#define STORE_WEBHOOK_EID_MAX      33   /* 32 hex digits and the NUL */
#define STORE_WEBHOOK_TYPE_MAX     40   /* "request.in_progress", ... */
#define STORE_WEBHOOK_BODY_MAX     2048 /* the JSON body, NUL included */
#define STORE_WEBHOOK_ENDPOINT_MAX 65   /* hex digest of the URL */
#define STORE_WEBHOOK_ONCE_MAX     96   /* a one-of-a-kind key */

/* One queued event. */
struct store_webhook_event {
	int64_t id;                        /* the queue's order */
	char eid[STORE_WEBHOOK_EID_MAX];   /* public id */
	char type[STORE_WEBHOOK_TYPE_MAX]; /* "request.created", ... */
	char body[STORE_WEBHOOK_BODY_MAX]; /* JSON: ids, types, times */
	int64_t created_at;                /* unix seconds */
};

/* The tables (created on open, like the incident tables). */
struct db;
int store_webhook_schema(struct db *db, char **errmsg);

/*
 * Queues e (id set on success) if any endpoint is registered; else
 * nothing. once: NULL, or a key no other event may have had: an event
 * whose key was queued before is dropped (*queued 0). queued may be NULL.
 */
enum vaern_err
store_webhook_add(struct store *st, struct store_webhook_event *e,
                  const char *once, int *queued, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * Registers exactly the endpoints keys[0..n): one new starts after the
 * newest event (it receives what is queued from now on), one no longer
 * named is dropped with its place in the queue.
 */
enum vaern_err store_webhook_endpoints(struct store *st,
                                       const char *const *keys, size_t n,
                                       struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/* The first event endpoint key has not acknowledged into *e, and how
 * many are waiting (*pending, may be NULL); VAERN_E_NOTFOUND if none. */
enum vaern_err store_webhook_next(struct store *st, const char *key,
                                  struct store_webhook_event *e,
                                  int64_t *pending, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Endpoint key has acknowledged every event up to id. */
enum vaern_err store_webhook_ack(struct store *st, const char *key, int64_t id,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/*
 * Deletes the events every endpoint has acknowledged, but the newest
 * event (ids keep growing after it) and one-of-a-kind events created at
 * or after once_since (their key keeps them from being queued again).
 */
enum vaern_err store_webhook_prune(struct store *st, int64_t once_since,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

#endif
