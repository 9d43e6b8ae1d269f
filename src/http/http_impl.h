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
 *   strict.c   strict framing: Content-Length, Transfer-Encoding, Host,
 *              line ends, NULs, the query parameter count
 *   guard.c    connection limits: the header deadline, eviction under
 *              pressure, per-address limits, trusted proxies
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
	size_t body_max;         /* largest body (the server's unless a
	                            body rule names the route) */
	http_admit_fn admit;     /* the rule's admission, or NULL */
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

struct http_guard; /* guard.c's state */

struct http_server {
	struct MHD_Daemon *daemon;  /* the running daemon */
	struct http_guard *guard;   /* the connection guard; owned */
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
	int (*ready)(void *, char *, size_t);                /* or NULL */
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

/* ---- strict.c ---- */

/* Outcome of the strict framing checks. */
enum strict_result {
	STRICT_OK,
	STRICT_BAD_LINE,            /* bare LF, NUL, obs-fold: the layout */
	STRICT_BAD_NAME,            /* a header name not a token */
	STRICT_BAD_VALUE,           /* a control character in a value */
	STRICT_BAD_ENCODING,        /* Transfer-Encoding not one chunked */
	STRICT_TWO_LENGTHS,         /* Content-Length values differ */
	STRICT_LENGTH_AND_ENCODING, /* both framings */
	STRICT_BAD_HOST,            /* no Host in 1.1, or two */
	STRICT_BAD_REQUEST_LINE,    /* a NUL or extra spaces in it
	                               (server.c checks) */
	STRICT_TOO_MANY             /* more header lines than looked at:
	                               431 */
};

/* One header record as the daemon parsed it. */
struct strict_header {
	const char *key;   /* the name; not NUL-terminated here */
	size_t key_len;    /* bytes of key */
	const char *value; /* the value */
	size_t value_len;  /* bytes of value */
};

/*
 * The layout check (see strict.c): block[0..len) is the header block as
 * the daemon left it, line_end the offset where its request line's
 * version ends, h[0..n) its header records in arrival order.
 * Never reads outside block, whatever the records point to (a record
 * outside it fails). The fuzz harness's entry point.
 */
enum strict_result strict_layout(const char *block, size_t len, size_t line_end,
                                 const struct strict_header *h, size_t n);

/* The framing rules over the records (http11: the request is HTTP/1.1). */
enum strict_result strict_framing(const struct strict_header *h, size_t n,
                                  int http11);

/* A fixed phrase for r, naming the rule; static. */
const char *strict_phrase(enum strict_result r);

/* Both checks on the request of conn; method and version as the daemon
 * passed them to the handler. */
enum strict_result strict_check(struct MHD_Connection *conn, const char *method,
                                const char *version);

/* Called with the raw request target before the daemon splits its query:
 * with more than HTTP_QUERY_MAX parameters, cuts the query off in place
 * (the daemon's buffer) and returns 1; else 0. */
int strict_query_cut(char *uri);

/* ---- guard.c ---- */

/* Bytes of an address in the guard: IPv6, IPv4 mapped into it. */
#define GUARD_IP_LEN 16

/* An address prefix: a trusted proxy. */
struct guard_cidr {
	uint8_t ip[GUARD_IP_LEN]; /* the address */
	unsigned bits;            /* prefix length, 0..128 (IPv4: 96 + n) */
};

/*
 * Parses a comma-separated list of numeric addresses and address/prefix
 * ("127.0.0.1, 10.0.0.0/8, ::1") into out[0..max). VAERN_E_INVALID or
 * VAERN_E_LIMIT with msg naming the item; never echoes the text.
 */
enum vaern_err guard_parse_proxies(const char *text, struct guard_cidr *out,
                                   size_t max, size_t *n, struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/*
 * The client named by X-Forwarded-For values[0..nvalues) (each a
 * comma-separated list, in arrival order) for a request that came from a
 * trusted proxy: the rightmost address that is not a trusted proxy, or
 * the leftmost if all are. Writes it to ip and returns 0; -1 if an entry
 * is not a numeric address (ip then unspecified); 1, ip untouched, if the
 * values hold no entry (empty headers).
 */
int guard_forwarded_client(const struct guard_cidr *proxies, size_t nproxies,
                           const char *const *values, size_t nvalues,
                           uint8_t ip[GUARD_IP_LEN]);

/* Starts the guard (and its watchdog thread) for the limits of c, which
 * carries the defaults already. */
enum vaern_err guard_start(struct http_server *srv, const struct http_config *c,
                           struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* Stops and frees the guard; only after the daemon has stopped. NULL
 * guard: nothing. */
void guard_stop(struct http_server *srv);

/* The daemon's MHD_OPTION_NOTIFY_CONNECTION callback; cls is the server. */
void guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode toe);

/* The headers of a request on conn are in: it stops waiting. -1 if the
 * guard has shut the connection down meanwhile. */
int guard_headers_in(struct http_server *srv, struct MHD_Connection *conn);

/* The request on conn is complete (its body in): it is being served,
 * and no longer a candidate to close for a newcomer. */
void guard_body_done(struct http_server *srv, struct MHD_Connection *conn);

/* The request on conn has ended: the connection waits for the next. */
void guard_request_done(struct http_server *srv, struct MHD_Connection *conn);

/* 1 if conn comes from a trusted proxy. */
int guard_is_proxy(struct http_server *srv, struct MHD_Connection *conn);

/* The trusted proxies, *n of them. */
const struct guard_cidr *guard_proxies(const struct http_server *srv,
                                       size_t *n);

/* The daemon's own connection limit for connections_max: higher, so
 * the guard sees the connection that makes it evict. */
unsigned guard_daemon_limit(unsigned connections_max, unsigned threads);

/* connections_max, lowered as far as needed (not below 16) for the
 * daemon's limit to fit within descriptors less a reserve. */
unsigned guard_fit_descriptors(unsigned connections_max, unsigned threads,
                               uint64_t descriptors);

/* The guard's counters, for /metrics. */
void guard_metrics(const struct http_server *srv, struct http_buf *out);

#endif
