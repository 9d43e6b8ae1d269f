/*
 * http.h -- the HTTP server core: one libmicrohttpd daemon, a route table,
 * bounded request reading, JSON helpers, security headers, /healthz,
 * /metrics and a draining stop. This header is the module's whole API.
 *
 * A caller writes a table of routes and starts a server:
 *
 *   static int get_facts(struct http_request *req,
 *                        struct http_response *res, void *app);
 *   static const struct http_route routes[] = {
 *       {"GET", "/v1/subjects/{id}/facts", get_facts, "facts.list"},
 *   };
 *   struct http_config cfg = {.listen = "127.0.0.1:8080"};
 *   struct http_server *srv;
 *   if (http_server_start(&cfg, routes, 1, app, &srv, &msg) != VAERN_OK)
 *       ...;
 *   (void)http_server_run_until_signal(srv);    (waits, drains, stops)
 *   http_server_stop(srv);                      (frees)
 *
 * Threads: handlers run on the daemon's worker threads, up to
 * http_config.threads at once, so the app pointer must be safe to use
 * concurrently. A handler blocks its worker while it runs, and with it
 * every connection the worker serves; so a handler that waits (for a
 * disk, another thread) defers its response instead (http_respond_later)
 * and returns.
 *
 * Limits are checked while reading (CONVENTIONS.md, OpenBSD httpd):
 * headers over header_max get 431 before the body is read; a
 * Content-Length over body_max gets 413 before the body is read; a chunked
 * body is counted as it streams and never stored past body_max: it gets
 * 413 when it ends (libmicrohttpd 0.9.75 cannot answer in mid-upload),
 * or, if it runs on for another max(body_max, 64 KiB), its connection is
 * closed unanswered.
 *
 * Personal data: the module never logs or echoes a path, query string,
 * header or body. Error messages it writes are fixed phrases. Request
 * bodies, decoded parameters and response bodies are wiped when freed
 * (CONVENTIONS.md habit 4).
 */
#ifndef VAERN_HTTP_H
#define VAERN_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../common/err.h"

/* Defaults of struct http_config, used where a field is 0. */
#define HTTP_LISTEN_DEFAULT           "127.0.0.1:8080"
#define HTTP_BODY_MAX_DEFAULT         ((size_t)1024 * 1024)
#define HTTP_HEADER_MAX_DEFAULT       ((size_t)16 * 1024)
#define HTTP_TIMEOUT_DEFAULT_S        30u
#define HTTP_PER_IP_MAX_DEFAULT       64u
#define HTTP_CONNECTIONS_MAX_DEFAULT  1024u
#define HTTP_DRAIN_DEFAULT_MS         10000u
#define HTTP_HEADER_TIMEOUT_DEFAULT_S 10u

/* Hard limits. */
#define HTTP_THREADS_MAX           256 /* worker threads */
#define HTTP_ROUTES_MAX            256 /* routes in a table */
#define HTTP_SEGMENTS_MAX          16  /* '/'-separated segments in a pattern */
#define HTTP_PATTERN_MAX           256 /* bytes in a route pattern */
#define HTTP_ROUTE_NAME_MAX        64  /* bytes in a route name */
#define HTTP_PARAMS_MAX            8   /* {name} segments in one pattern */
#define HTTP_PARAM_MAX             256 /* bytes of a decoded path parameter */
#define HTTP_QUERY_MAX             32  /* query parameters in one request */
#define HTTP_QUERY_KEY_MAX         64  /* bytes of a decoded query key */
#define HTTP_QUERY_VALUE_MAX       2048 /* bytes of a decoded query value */
#define HTTP_RES_HEADERS_MAX       16   /* headers a handler may add */
#define HTTP_PENDING_MAX           8    /* http_respond_later per request */
#define HTTP_TLS_FILE_MAX          ((size_t)1024 * 1024)     /* PEM file size */
#define HTTP_METRICS_MAX           ((size_t)4 * 1024 * 1024) /* /metrics body */
#define HTTP_HEADER_MAX_LIMIT      ((size_t)1024 * 1024) /* header_max ceiling */
#define HTTP_PROXIES_MAX           32     /* entries in trusted_proxies */
#define HTTP_CONNECTIONS_MAX_LIMIT 65536u /* connections_max ceiling */
#define HTTP_TIMEOUT_MAX_S         3600u  /* timeout_s, header_timeout_s */

struct http_server;   /* a running server; opaque */
struct http_request;  /* one request, valid during its handler call */
struct http_response; /* the response a handler builds */
struct http_buf;      /* a bounded text buffer (metrics) */
struct http_pending;  /* a hold on a deferred response */

/*
 * A route handler. It reads the request through the http_request_*
 * getters and sets the response with one of the http_respond_* helpers.
 * Returns 0 when it has set a response. Any other return, or 0 without a
 * response, answers 500 {"error":{"code":"internal_error",...}} and
 * discards whatever response was set. The helpers return 0 or -1, so a
 * handler may end with  return http_respond_json(res, 200, doc);
 * Everything the request getters return is valid until the handler
 * returns.
 */
typedef int (*http_handler_fn)(struct http_request *req,
                               struct http_response *res, void *app);

/*
 * One route. The table and the strings it points to must outlive the
 * server (a static const table is the usual case).
 */
struct http_route {
	const char *method;      /* "GET", "POST", "PUT", "PATCH", "DELETE";
	                            a GET route also answers HEAD */
	const char *pattern;     /* "/v1/subjects/{id}/facts": literal
	                            segments of [A-Za-z0-9._~-], parameter
	                            segments {name} with name [a-z_][a-z0-9_]*;
	                            matched exactly, segment by segment, still
	                            percent-encoded; the first route in table
	                            order that matches wins */
	http_handler_fn handler; /* called for a matching request */
	const char *name;        /* the route="" label in /metrics and the
	                            log: 1..HTTP_ROUTE_NAME_MAX bytes of
	                            [A-Za-z0-9_.-], unique in the table;
	                            "healthz", "metrics" and "unmatched" are
	                            the module's */
};

/*
 * Decides, once a request's headers are in and before any byte of its
 * body is read, whether the body may be read: 0 to go on, or the status
 * (401, 403) to refuse with at once. For a route whose body_max is
 * larger than the server's, so that only an authenticated caller can
 * make the server hold such a body.
 */
typedef int (*http_admit_fn)(struct http_request *req, void *app);

/*
 * A route's own body limit, named by the route's name: a bulk route
 * (issue 18's traffic ingest) reads bodies larger than the server's
 * body_max. admit, if not NULL, runs before the body is read.
 */
struct http_body_rule {
	const char *route;   /* a route name of the table */
	size_t body_max;     /* this route's largest body: 413 past it */
	http_admit_fn admit; /* or NULL */
};

/* What the module logs about one finished request: nothing else. */
struct http_log_record {
	const char *method; /* a known method name, or "OTHER" */
	const char *route;  /* the route name, "unmatched" for 404/405 and
	                       requests refused before routing */
	int status;         /* the response's status; 0 if there was none
	                       (the client went away, or a body past the
	                       limits got its connection closed) */
	double seconds;     /* end of request headers to end of response */
	uint64_t id;        /* the request id, sent as X-Request-Id: this
	                       process's count of requests, from 1 */
};

/*
 * Server configuration. Zero fields take the defaults above; a zeroed
 * struct serves plain HTTP on HTTP_LISTEN_DEFAULT.
 */
struct http_config {
	const char *listen;          /* "127.0.0.1:8080", "[::1]:0",
	                                "0.0.0.0:443": a numeric IPv4 or
	                                bracketed IPv6 address and a port; port
	                                0 picks a free one (http_server_port) */
	unsigned threads;            /* worker threads; 0: the number of CPUs */
	const char *tls_cert;        /* PEM certificate (chain) file, or NULL */
	const char *tls_key;         /* PEM private key file (unencrypted), or
	                                NULL; both or neither */
	int insecure;                /* 1 allows plain HTTP on a non-loopback
	                                address (AURA-SEC-1 otherwise refuses) */
	size_t body_max;             /* largest request body: 413 past it */
	size_t header_max;           /* largest request line + headers: 431
	                                past it */
	unsigned timeout_s;          /* idle connection timeout, seconds: no
	                                byte for this long closes it */
	unsigned header_timeout_s;   /* a request's headers must all be in
	                                within this many seconds of the
	                                connection's start or of the previous
	                                answer, however many bytes trickle in
	                                meanwhile; else the connection is
	                                closed unanswered */
	unsigned per_ip_max;         /* concurrent connections per client
	                                address; past it the address's
	                                oldest waiting or slow connection is
	                                closed, or if it has none the new one
	                                (trusted proxies exempt) */
	unsigned connections_max;    /* concurrent connections in all; a
	                                connection past it closes the one that
	                                has waited longest for its request's
	                                headers (idle kept-alive ones included),
	                                else the one longest reading a request
	                                body, and is itself refused only if
	                                there is neither */
	const char *trusted_proxies; /* comma-separated addresses or
	                                address/prefix ("10.0.0.0/8, ::1"):
	                                a request from one of them names its
	                                client in X-Forwarded-For (the
	                                rightmost entry that is not a
	                                trusted proxy); NULL: none, the
	                                header is ignored */
	unsigned drain_ms;           /* how long a stop waits for in-flight
	                                requests */
	int signals;                 /* 1: block SIGINT and SIGTERM in the
	                                calling thread (so in every thread it
	                                starts afterwards) for
	                                http_server_run_until_signal */
	void (*log)(void *app, const struct http_log_record *rec);
	/* called once per finished request, on a
	   worker thread; NULL: no logging */
	void (*after_handler)(void *app);
	/* called on the worker thread each time an
	   app handler returns (e.g. to end the
	   thread's read transaction); NULL: none */
	int (*ready)(void *app, char *reason, size_t size);
	/* 1 if the app can serve (GET /healthz
	   200), else 0 with reason (size bytes, no
	   personal value) and /healthz answers 503
	   {"status": "unavailable", "reason": ...};
	   NULL: always ready */
	void (*metrics_extra)(void *app, struct http_buf *out);
	/* appends the app's own metrics to
	   /metrics (Prometheus text format);
	   NULL: none */
	const struct http_body_rule *body_rules; /* routes with a body
	                                            limit of their own */
	size_t nbody_rules;                      /* entries in body_rules */
};

/*
 * Starts a server on cfg->listen serving routes[0..nroutes) plus the
 * built-in GET /healthz and GET /metrics (an app route with the same
 * method and pattern takes precedence). app is passed to every handler
 * and hook. On VAERN_OK *out is a running server the caller stops with
 * http_server_stop or http_server_run_until_signal.
 *
 * Fails, with *out NULL and nothing left running, with
 *   VAERN_E_INVALID  a malformed listen address, route or limit, or only
 *                    one of tls_cert and tls_key;
 *   VAERN_E_DENIED   plain HTTP on a non-loopback address without
 *                    insecure (AURA-SEC-1);
 *   VAERN_E_IO       a TLS file unreadable, the address unusable (in use,
 *                    no permission), the daemon failed to start (for
 *                    example a certificate and key that do not parse or
 *                    match);
 *   VAERN_E_LIMIT    a TLS file over HTTP_TLS_FILE_MAX;
 *   VAERN_E_NOMEM.
 * The key file's contents are wiped from this module's memory once the
 * daemon holds the key.
 */
enum vaern_err
http_server_start(const struct http_config *cfg,
                  const struct http_route *routes, size_t nroutes, void *app,
                  struct http_server **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 5)));

/*
 * Stops and frees srv (NULL is a no-op; a server stopped by
 * http_server_run_until_signal is only freed). Drains: stops accepting (new
 * connections are refused at once), answers requests that arrive on open
 * connections with "Connection: close", waits up to cfg->drain_ms for the
 * requests whose headers have arrived to finish, then closes every
 * connection. A handler still running at the deadline is waited for: a
 * handler cannot be cancelled; so is a response still held
 * (http_respond_later), which then has up to a second to go out.
 */
void http_server_stop(struct http_server *srv);

/* The port srv listens on: the one picked by the system for port 0. */
uint16_t http_server_port(const struct http_server *srv)
        __attribute__((nonnull));

/*
 * Blocks until SIGINT or SIGTERM, then drains and stops srv as
 * http_server_stop does, except that a second signal during the drain
 * cuts it short, and that srv stays allocated: the caller still calls
 * http_server_stop(srv), which then only frees it. Returns the signal
 * that started the stop. The signals must be blocked in every thread of
 * the process, or one may kill it instead: start with cfg.signals = 1
 * before creating other threads.
 */
int http_server_run_until_signal(struct http_server *srv)
        __attribute__((nonnull));

/* ---- the request ---- */

/* The method as received ("GET"). */
const char *http_request_method(const struct http_request *req)
        __attribute__((nonnull));

/* The path as received: still percent-encoded, without the query. */
const char *http_request_path(const struct http_request *req)
        __attribute__((nonnull));

/* The name of the route that matched. */
const char *http_request_route(const struct http_request *req)
        __attribute__((nonnull));

/*
 * The value of path parameter {name}, percent-decoded and checked: at
 * most HTTP_PARAM_MAX bytes of valid UTF-8 without control characters
 * (the request got 400 otherwise). NULL if the pattern has no {name}.
 */
const char *http_request_param(const struct http_request *req, const char *name)
        __attribute__((nonnull));

/*
 * The value of query parameter key (the first if repeated),
 * percent-decoded with '+' as space and checked like a path parameter
 * (keys up to HTTP_QUERY_KEY_MAX, values up to HTTP_QUERY_VALUE_MAX bytes,
 * at most HTTP_QUERY_MAX parameters); "" for "?key" without '='. NULL if
 * absent.
 */
const char *http_request_query(const struct http_request *req, const char *key)
        __attribute__((nonnull));

/* A request header by name, case-insensitive, as received; NULL if absent.
 * With repeated headers, one of them. */
const char *http_request_header(const struct http_request *req,
                                const char *name) __attribute__((nonnull));

/* The client's IP address as text ("127.0.0.1", "::1"): the peer, or
 * for a request from a trusted proxy the client its X-Forwarded-For
 * names. Personal data under the GDPR: do not log it. */
const char *http_request_client(const struct http_request *req)
        __attribute__((nonnull));

/* 1 if the request came over TLS. */
int http_request_tls(const struct http_request *req) __attribute__((nonnull));

/*
 * The request body, read in full and at most body_max bytes, followed by
 * a NUL that *len does not count (the body itself may contain NULs).
 * "" with *len 0 when there is none. len may be NULL.
 */
const char *http_request_body(const struct http_request *req, size_t *len)
        __attribute__((nonnull(1)));

/*
 * Parses the body as JSON into *out (a new reference the caller
 * decrefs). Requires Content-Type application/json (parameters such as
 * charset allowed); rejects duplicate object keys, invalid UTF-8, \u0000,
 * an empty body and a top level other than an object or array.
 * Returns 0 on success; else the status to answer, *out NULL and msg set
 * to a fixed phrase with at most a line and column, never a part of the
 * body:
 *   415  wrong or missing Content-Type
 *   400  anything else
 * so a handler writes
 *   if ((st = http_request_json(req, &doc, &msg)) != 0)
 *           return http_respond_error(res, st, http_error_code(st),
 *                                     "%s", msg.text);
 */
int http_request_json(const struct http_request *req, json_t **out,
                      struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* ---- the response ---- */

/*
 * Every response gets Cache-Control: no-store, X-Content-Type-Options:
 * nosniff, Content-Security-Policy: default-src 'none'; frame-ancestors
 * 'none', Referrer-Policy: no-referrer, and over TLS
 * Strict-Transport-Security. A handler overrides one of them (the portal
 * its CSP) by adding a header of the same name with http_respond_header.
 * Setting a response again replaces the previous status and body; added
 * headers stay. status must be 200..599.
 */

/* Answers status with the JSON document take, which is consumed (decref'd)
 * whatever the outcome; take NULL (a json_pack that failed) returns -1.
 * Content-Type: application/json. */
int http_respond_json(struct http_response *res, int status, json_t *take)
        __attribute__((nonnull(1)));

/*
 * Answers status with {"error":{"code":code,"message":...}}. code is a
 * stable machine-readable word ("not_found", "no_consent"); the message is
 * formatted from fmt and truncated to VAERN_MSG_MAX. Never pass personal
 * data or request input as an argument.
 */
int http_respond_error(struct http_response *res, int status, const char *code,
                       const char *fmt, ...)
        __attribute__((nonnull(1, 3, 4), format(printf, 4, 5)));

/* Answers status with a copy of the NUL-terminated text. */
int http_respond_text(struct http_response *res, int status,
                      const char *content_type, const char *text)
        __attribute__((nonnull));

/* Answers status with a copy of body[0..len). */
int http_respond_body(struct http_response *res, int status,
                      const char *content_type, const void *body, size_t len)
        __attribute__((nonnull(1, 3)));

/*
 * Adds a header (copied), or replaces a security header of the same name.
 * Refuses (-1) a name that is not an HTTP token, a value with control
 * characters, more than HTTP_RES_HEADERS_MAX headers, the headers the
 * daemon owns (Content-Length, Transfer-Encoding, Connection, Date) and
 * Content-Type, which the respond helpers set.
 */
int http_respond_header(struct http_response *res, const char *name,
                        const char *value) __attribute__((nonnull));

/* The default error code word for a status: 400 "bad_request", 404
 * "not_found", 415 "unsupported_media_type", ...; static. */
const char *http_error_code(int status);

/* ---- deferred responses ---- */

/*
 * Called when a deferred response is about to go out, on a worker
 * thread: may set or change res (with the http_respond_* helpers) from
 * what only the completer knew, and frees arg. Called exactly once for
 * each hold that has one, in the order the holds were taken, after
 * every hold was completed; also when the client went away meanwhile
 * (the response is then dropped), so arg is never leaked.
 */
typedef void (*http_finish_fn)(void *arg, struct http_response *res);

/*
 * Takes a hold on res, the response of the running handler: once the
 * handler has returned, its worker goes on serving other connections,
 * and res goes out only after every hold taken on it has been released
 * with http_pending_complete or http_pending_fail, from any thread (a
 * hold released before the handler returns costs nothing). The handler
 * keeps setting res as usual until it returns; after that, only finish
 * touches it. finish may be NULL.
 *
 * Typical use: an append to a log that must be durable before the
 * answer goes out; the handler queues it, takes a hold, returns, and the
 * log's writer releases the hold after its commit. A handler that
 * returns non-zero still gets 500 (after its holds are released).
 *
 * Returns NULL, taking no hold, when called outside a handler, after
 * HTTP_PENDING_MAX holds on one response, or once a stop is past its
 * drain deadline: the handler must then wait in place instead.
 *
 * Every hold must be released: a stop waits for them, past the drain
 * deadline (as it waits for a running handler), since the daemon cannot
 * drop a parked connection. A client that disconnects while its
 * response is held is noticed only when the hold is released.
 */
struct http_pending *http_respond_later(struct http_response *res,
                                        http_finish_fn finish, void *arg)
        __attribute__((warn_unused_result, nonnull(1)));

/* Releases hold p, from any thread; p is gone afterwards. */
void http_pending_complete(struct http_pending *p) __attribute__((nonnull));

/*
 * Releases hold p as failed: the response becomes status with
 * {"error":{"code":code,"message":message}} whatever else was set (the
 * body set before is wiped; the first failure of a response wins), e.g.
 * because the log entry it waited for could not be written. code and
 * message are copied (truncated to 63 and VAERN_MSG_MAX - 1 bytes); never
 * pass personal data. status must be 400..599 (else 500).
 */
void http_pending_fail(struct http_pending *p, int status, const char *code,
                       const char *message) __attribute__((nonnull));

/* ---- text buffers for metrics_extra ---- */

/*
 * Append to a bounded buffer. A failure (no memory, or past
 * HTTP_METRICS_MAX) makes the buffer fail for good, returns -1, and the
 * /metrics request answers 500; so a hook may ignore the return value.
 */
int http_buf_append(struct http_buf *b, const char *s, size_t len)
        __attribute__((nonnull));
int http_buf_printf(struct http_buf *b, const char *fmt, ...)
        __attribute__((nonnull, format(printf, 2, 3)));

#endif
