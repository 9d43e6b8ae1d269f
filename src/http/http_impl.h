/*
 * http_impl.h -- shared internals of the http module. Not an API: only the
 * module's own .c files (and a fuzz harness of its decoder) include it;
 * everything a caller may use is in http.h.
 *
 *   server.c   listening, TLS, the daemon, dispatch, drain, signals
 *   route.c    route patterns, matching, percent-decoding of the path
 *              and the query
 *   message.c  request getters, JSON body, responses, security headers,
 *              text buffers
 *   metrics.c  request counters and latency histogram, /healthz, /metrics
 */
#ifndef VAERN_HTTP_IMPL_H
#define VAERN_HTTP_IMPL_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <microhttpd.h>

#include "http.h"

/* Statuses a response may carry; counters are kept per status in
 * 200..599, so an index is status - HTTP_STATUS_MIN. */
#define HTTP_STATUS_MIN   200
#define HTTP_STATUS_MAX   599
#define HTTP_STATUS_SLOTS (HTTP_STATUS_MAX - HTTP_STATUS_MIN + 1)

/* Latency histogram bucket bounds in seconds, 0.0005 .. 5. */
#define HTTP_BUCKETS 13
extern const double http_bucket_bounds[HTTP_BUCKETS];

/* The label of requests that matched no route. */
#define HTTP_UNMATCHED "unmatched"

/* Room for a Content-Type a handler sets. */
#define HTTP_CONTENT_TYPE_MAX 128

/* Room for an Allow header listing every method. */
#define HTTP_ALLOW_MAX 128

/* A bounded, growable text buffer (curl habit: a maximum set at init). */
struct http_buf {
	char *data; /* NUL-terminated when len > 0; owned */
	size_t len; /* bytes used, NUL excluded */
	size_t cap; /* bytes allocated */
	size_t max; /* len never exceeds this */
	int failed; /* 1 after an append failed; sticky */
};

/* One '/'-separated segment of a compiled pattern. */
struct route_segment {
	const char *text; /* into the pattern: the literal, or the name
	                     inside {} for a parameter; not NUL-terminated */
	size_t len;       /* bytes of text */
	int param;        /* 1 for {name} */
};

/* A compiled route: the caller's route split into segments. */
struct route_entry {
	const char *method;      /* the route's method; caller's string */
	const char *name;        /* metrics label; caller's string */
	http_handler_fn handler; /* the handler */
	int builtin;             /* 1: a module route, app is the server */
	size_t nsegments;        /* segments in seg */
	struct route_segment seg[HTTP_SEGMENTS_MAX]; /* the pattern */
};

/* Outcome of matching a request against the table. */
enum route_match {
	ROUTE_FOUND,    /* a route matches path and method */
	ROUTE_NO_PATH,  /* no pattern matches the path: 404 */
	ROUTE_NO_METHOD /* a pattern matches, no method does: 405 */
};

/* Counters of one route; updated with relaxed atomics, no lock. */
struct route_stats {
	_Atomic uint64_t status[HTTP_STATUS_SLOTS]; /* requests by status */
	_Atomic uint64_t bucket[HTTP_BUCKETS + 1];  /* by latency bucket,
	                                                not cumulative; the
	                                                last is +Inf */
	_Atomic uint64_t sum_ns;                    /* total latency, ns */
};

/* A decoded path parameter. */
struct http_param {
	const char *name;               /* into the route pattern */
	size_t name_len;                /* bytes of name */
	char value[HTTP_PARAM_MAX + 1]; /* decoded, NUL-terminated */
};

/* A decoded query parameter. */
struct http_query {
	char *key;   /* decoded, NUL-terminated; owned, wiped when freed */
	char *value; /* decoded, "" for a key without '='; owned, wiped */
};

struct http_request {
	struct http_server *srv;         /* the server */
	struct MHD_Connection *conn;     /* the daemon's connection */
	const char *method;              /* as received; daemon's memory */
	const char *path;                /* raw path; daemon's memory */
	const struct route_entry *route; /* the matched route, or NULL */
	size_t nparams;                  /* entries in params */
	struct http_param params[HTTP_PARAMS_MAX]; /* path parameters */
	size_t nquery;                             /* entries in query */
	struct http_query query[HTTP_QUERY_MAX];   /* query parameters */
	char *body;                                /* body + NUL; owned, wiped;
	                                              NULL when there is none */
	size_t body_len;               /* bytes of body, NUL excluded */
	size_t body_cap;               /* bytes allocated for body */
	char client[INET6_ADDRSTRLEN]; /* client address as text */
	int tls;                       /* 1 over TLS */
};

/* A response body allocation: the length travels with the bytes, so the
 * daemon's free callback can wipe them. */
struct http_body {
	size_t len;           /* bytes of data */
	unsigned char data[]; /* the body */
};

/* A header a handler added. */
struct http_res_header {
	char *name;  /* owned */
	char *value; /* owned */
};

struct http_response {
	int set;                                  /* 1 once a respond
	                                             helper succeeded */
	int status;                               /* 200..599 */
	char content_type[HTTP_CONTENT_TYPE_MAX]; /* "" for none */
	struct http_body *body;                   /* owned; NULL: empty */
	size_t nheaders;                          /* entries in headers */
	struct http_res_header headers[HTTP_RES_HEADERS_MAX];
};

struct http_server {
	struct MHD_Daemon *daemon;  /* the running daemon */
	struct route_entry *routes; /* app routes, then built-ins */
	size_t nroutes;             /* entries in routes */
	struct route_stats *stats;  /* [nroutes + 1]; the last counts
	                               requests that matched no route */
	void *app;                  /* handed to app handlers and hooks */
	size_t body_max;            /* from the config */
	size_t header_max;          /* from the config */
	unsigned drain_ms;          /* from the config */
	int tls;                    /* 1: serving TLS */
	void (*log)(void *, const struct http_log_record *); /* or NULL */
	void (*metrics_extra)(void *, struct http_buf *);    /* or NULL */
	void (*after_handler)(void *);                       /* or NULL */
	uint16_t port;            /* the bound port */
	int listen_fd;            /* ours until the daemon starts, and
	                             again after quiesce; else -1 */
	dev_t listen_dev;         /* the listening socket's identity, */
	ino_t listen_ino;         /* to tell it from a reused number */
	atomic_uint in_flight;    /* requests between headers and
	                             completion */
	atomic_int draining;      /* 1 once a stop began */
	atomic_uint holding;      /* requests with holds taken
	                             (http_respond_later) and not all
	                             released: a stop waits for them */
	atomic_int past_deadline; /* 1 once a stop is past its drain
	                             deadline: no new holds */
};

/* ---- route.c ---- */

/* Compiles r into e. Returns VAERN_OK or VAERN_E_INVALID with msg naming
 * route index i. */
enum vaern_err route_compile(const struct http_route *r, size_t i, int builtin,
                             struct route_entry *e, struct vaern_msg *msg);

/* 1 if a and b have the same method and the same pattern shape. */
int route_same(const struct route_entry *a, const struct route_entry *b);

/*
 * Matches method and raw path against routes[0..n). On ROUTE_FOUND sets
 * *index; on ROUTE_NO_METHOD writes the Allow header value into allow.
 * HEAD matches GET routes.
 */
enum route_match route_find(const struct route_entry *routes, size_t n,
                            const char *method, const char *path, size_t *index,
                            char allow[HTTP_ALLOW_MAX]);

/* Decodes the parameters of req->route from req->path into req->params.
 * Returns VAERN_OK or VAERN_E_INVALID with a fixed-phrase msg. */
enum vaern_err route_params(struct http_request *req, struct vaern_msg *msg);

/* Decodes the query parameters into req->query. Returns VAERN_OK,
 * VAERN_E_INVALID or VAERN_E_NOMEM with a fixed-phrase msg. */
enum vaern_err route_query(struct http_request *req, struct vaern_msg *msg);

/* Outcome of http_pct_decode. */
enum pct_result {
	PCT_OK,
	PCT_BAD_ESCAPE, /* '%' not followed by two hex digits */
	PCT_CONTROL,    /* decodes to NUL or another control character */
	PCT_BAD_UTF8,   /* decodes to invalid UTF-8 */
	PCT_TOO_LONG    /* decodes to more than dstmax bytes */
};

/*
 * Percent-decodes src[0..len) into dst (NUL-terminated, at most dstmax
 * bytes before the NUL; dst has dstmax + 1 bytes), '+' to space if plus.
 * The result must be valid UTF-8 without control characters. *outlen
 * gets the decoded length on PCT_OK. The fuzz harness's entry point.
 */
enum pct_result http_pct_decode(const char *src, size_t len, int plus,
                                char *dst, size_t dstmax, size_t *outlen);

/* ---- message.c ---- */

/* Initialises b with a maximum; no allocation yet. */
void http_buf_init(struct http_buf *b, size_t max);

/* Frees b's memory; b may be reused after http_buf_init. */
void http_buf_free(struct http_buf *b);

/* Builds the daemon response for res, security headers included, with
 * Connection: close when closing. NULL when out of memory. The body
 * moves into the daemon response. */
struct MHD_Response *response_build(struct http_response *res, int tls,
                                    int closing);

/* Frees what res holds (the body wiped) and zeroes it. */
void response_clear(struct http_response *res);

/* Frees what req holds (body and decoded values wiped). */
void request_clear(struct http_request *req);

/* ---- metrics.c ---- */

/* Counts a finished request on route index route (nroutes: unmatched). */
void metrics_record(struct http_server *srv, size_t route, int status,
                    uint64_t ns);

/* The built-in GET /healthz and GET /metrics; app is the server. */
int metrics_healthz(struct http_request *req, struct http_response *res,
                    void *app);
int metrics_render(struct http_request *req, struct http_response *res,
                   void *app);

#endif
