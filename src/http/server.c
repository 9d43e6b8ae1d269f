/*
 * server.c -- the server's life: the listening socket, TLS, the
 * libmicrohttpd daemon, dispatch of each request to its route, the
 * draining stop and the signal wait.
 *
 * The daemon calls on_request() for one request several times: once when
 * the headers are in (begin: limits, routing, parameters), once per piece
 * of body (take_body: counted against body_max as it streams), and once
 * when the body is complete (finish: the handler). on_completed() runs
 * when the response has gone out or the connection died; it records the
 * metrics and frees the request state.
 *
 * A deferred response (http_respond_later): the handler takes holds on
 * its response and returns; finish() then suspends the connection (the
 * daemon drops it from its poll set, the worker serves others) and the
 * thread that releases the last hold resumes it, upon which the daemon
 * calls on_request() again and the response goes out. holds_left counts
 * the holds plus one for the running handler, so whichever of the
 * handler and the last releaser comes second sees 1 -> 0 and goes on:
 * the connection is resumed only once it is suspended, and only once.
 *
 * What libmicrohttpd 0.9.75 does that shapes this file:
 *   - Headers that overflow the connection's memory pool get the daemon's
 *     own 431 (414 for a long request line), an HTML page without our
 *     security headers. The pool is therefore header_max plus POOL_SLACK,
 *     and begin() answers 431 itself, as JSON, for anything between.
 *   - A response cannot be queued while body data is being delivered,
 *     not even with the connection suspended (both tried). A Content-Length
 *     over body_max is refused in begin(), before any body is read; a
 *     chunked body that passes body_max is no longer stored, the rest is
 *     read and dropped, and 413 goes out when it ends. A client that goes
 *     on sending past discard_max() has its connection closed instead.
 *   - The default unescaper decodes %2F and %00 in the path before
 *     routing; it is replaced with one that does nothing, and route.c
 *     decodes each parameter after the path has been split.
 *   - A response queued before the request has ended closes the
 *     connection. A refusal (404, 405, 400) of a request without a body
 *     is therefore queued at its end, and the connection stays open.
 *   - A listening socket handed to the daemon is closed by
 *     MHD_start_daemon on most of its failure paths, not on all.
 */
#include "http_impl.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Requests begun in this process: the next request id less one. */
static _Atomic uint64_t request_ids;

/* The daemon's per-connection memory beyond header_max: header records,
 * the body read buffer and the response headers live there too. */
#define POOL_SLACK ((size_t)8 * 1024)

/* Smallest body a chunked upload may drop after passing body_max before
 * its connection is closed; see discard_max(). */
#define DISCARD_MIN ((size_t)64 * 1024)

/* First allocation of a chunked body. */
#define BODY_MIN ((size_t)4096)

/* Largest body_max accepted. */
#define BODY_MAX_LIMIT ((size_t)1024 * 1024 * 1024)

/* Smallest header_max: a request line and a few headers. */
#define HEADER_MAX_MIN ((size_t)1024)

/* How often a drain looks at the in-flight count, in nanoseconds. */
#define DRAIN_POLL_NS 10000000L

/* How long a stop past its deadline lets the answers whose holds were
 * released late go out, once no hold is left. */
#define HELD_GRACE_MS 1000u

#define LISTEN_BACKLOG 511

/* X-Forwarded-For headers looked at in one request. */
#define HTTP_FORWARDED_MAX 8

/* A hold on a deferred response; the handle http_respond_later returns. */
struct http_pending {
	struct exchange *x;    /* the request held */
	http_finish_fn finish; /* called before the response goes out, or
	                          NULL */
	void *arg;             /* finish's argument */
};

/* Room for the error code of a failed hold. */
#define FAIL_CODE_MAX 64

/* The state of one request, kept by the daemon in *con_cls. */
struct exchange {
	struct http_request req;  /* what the handler reads */
	struct http_response res; /* what the handler writes */
	struct timespec start;    /* when the headers were in */
	size_t route;             /* stats index: the route, or nroutes */
	const char *method_label; /* static: a known method or "OTHER" */
	uint64_t id;              /* the request id (X-Request-Id, the
	                             log's "id"): this process's count */
	int status;               /* the status queued; 0 until then */
	int begun;                /* 1 once begin() ran: counted in
	                             in_flight */
	const char *target;       /* the request target as on_uri saw it,
	                             in the daemon's buffer */
	size_t target_len;        /* its strlen then: the daemon has split
	                             it since */
	int cut;                  /* 1: its query was cut (on_uri) */
	int bodiless;             /* 1: no Content-Length nor
	                             Transfer-Encoding, the request is
	                             complete with its headers */
	int pending;              /* 1: res holds a refusal to queue at the
	                             end of the request */
	int overflow;             /* 1 once the body passed body_max */
	size_t discarded;         /* body bytes dropped after that */
	int in_handler;           /* 1 while the handler runs: holds may
	                             be taken */
	int handler_failed;       /* 1: the handler returned non-zero */
	int parked;               /* 1: suspended until the last hold is
	                             released */
	int finished;             /* 1: the holds' finish callbacks ran */
	size_t nholds;            /* holds taken: hold[0..nholds) */
	struct http_pending hold[HTTP_PENDING_MAX];
	atomic_uint holds_left; /* holds not yet released, plus 1 until
	                           the handler has returned and parked */
	atomic_int failed;      /* 1 once a hold failed; the first
	                           failure owns the fail_* members */
	int fail_status;        /* the failed hold's answer */
	char fail_code[FAIL_CODE_MAX];
	char fail_message[VAERN_MSG_MAX];
};

#define exchange_of(res)                                                       \
	((struct exchange *)(void *)((char *)(res)-offsetof(struct exchange,   \
	                                                    res)))

/* The module's own routes, after the app's. */
static const struct http_route builtin_routes[] = {
        {"GET", "/healthz", metrics_healthz, "healthz"},
        {"GET", "/metrics", metrics_render, "metrics"},
};

#define N_BUILTIN_ROUTES (sizeof(builtin_routes) / sizeof(builtin_routes[0]))

/* ---- configuration ---- */

/* Parses a decimal port, strtonum-style: digits only, 0..65535. */
static int
parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

/*
 * Parses "a.b.c.d:port" or "[v6]:port" into ss. *loopback is 1 for
 * 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
 */
static enum vaern_err
parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *sslen,
             int *loopback, struct vaern_msg *msg)
{
	char host[INET6_ADDRSTRLEN];
	const char *hstart, *hend, *port_text;
	uint16_t port;
	int v6 = text[0] == '[';

	if (v6) {
		hstart = text + 1;
		hend = strchr(hstart, ']');
		if (hend == NULL || hend[1] != ':')
			goto bad;
		port_text = hend + 2;
	} else {
		hstart = text;
		hend = strrchr(text, ':');
		if (hend == NULL || memchr(text, ':', (size_t)(hend - text)))
			goto bad; /* no port, or IPv6 without brackets */
		port_text = hend + 1;
	}
	if (hend == hstart || (size_t)(hend - hstart) >= sizeof(host) ||
	    parse_port(port_text, &port) != 0)
		goto bad;
	memcpy(host, hstart, (size_t)(hend - hstart));
	host[hend - hstart] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)(void *)ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			goto bad;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		*sslen = sizeof(*a);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) ||
		            (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) &&
		             a->sin6_addr.s6_addr[12] == 127);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)(void *)ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			goto bad;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		*sslen = sizeof(*a);
		*loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	return VAERN_OK;
bad:
	return vaern_fail(msg, VAERN_E_INVALID,
	                  "listen address \"%.64s\": want a numeric address "
	                  "and a port, as 127.0.0.1:8080 or [::1]:8080",
	                  text);
}

/*
 * Reads a PEM file of at most HTTP_TLS_FILE_MAX bytes into a new
 * NUL-terminated buffer. A partial read is wiped (it may be the key).
 */
static enum vaern_err
read_pem(const char *path, const char *what, char **out, size_t *outlen,
         struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vaern_fail(msg, VAERN_E_IO, "%s %s: %s", what, path,
		                  strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err = vaern_fail(msg, VAERN_E_IO, "%s %s: not a regular file",
		                 what, path);
		goto done;
	}
	if ((uintmax_t)st.st_size > HTTP_TLS_FILE_MAX) {
		err = vaern_fail(msg, VAERN_E_LIMIT,
		                 "%s %s: larger than %zu bytes", what, path,
		                 HTTP_TLS_FILE_MAX);
		goto done;
	}
	buf = malloc(HTTP_TLS_FILE_MAX + 1);
	if (buf == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, HTTP_TLS_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = vaern_fail(msg, VAERN_E_IO, "%s %s: %s", what,
			                 path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > HTTP_TLS_FILE_MAX) {
			err = vaern_fail(msg, VAERN_E_LIMIT,
			                 "%s %s: larger than %zu bytes", what,
			                 path, HTTP_TLS_FILE_MAX);
			goto done;
		}
	}
	if (len == 0 || memchr(buf, '\0', len) != NULL) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "%s %s: empty, or not a PEM file", what, path);
		goto done;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
done:
	if (buf != NULL) {
		explicit_bzero(buf, HTTP_TLS_FILE_MAX + 1);
		free(buf);
	}
	(void)close(fd);
	return err;
}

static void
wipe_free(char *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

/* Opens, binds and listens; the daemon gets the socket, so bind errors
 * come back with their errno. */
static enum vaern_err
open_listener(struct http_server *srv, const char *text,
              const struct sockaddr_storage *ss, socklen_t sslen,
              struct vaern_msg *msg)
{
	struct sockaddr_storage bound;
	socklen_t boundlen = sizeof(bound);
	struct stat st;
	int one = 1, fd;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	            0);
	if (fd < 0)
		return vaern_fail(msg, VAERN_E_IO, "listen %s: socket: %s",
		                  text, strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (ss->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) !=
	             0) ||
	    bind(fd, (const struct sockaddr *)ss, sslen) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &boundlen) != 0 ||
	    fstat(fd, &st) != 0) {
		int e = errno;

		(void)close(fd);
		return vaern_fail(msg, VAERN_E_IO, "listen %s: %s", text,
		                  strerror(e));
	}
	srv->listen_fd = fd;
	srv->listen_dev = st.st_dev;
	srv->listen_ino = st.st_ino;
	srv->port = ntohs(
	        bound.ss_family == AF_INET6
	                ? ((struct sockaddr_in6 *)(void *)&bound)->sin6_port
	                : ((struct sockaddr_in *)(void *)&bound)->sin_port);
	return VAERN_OK;
}

/* Compiles the app's routes and the built-ins into srv->routes. */
static enum vaern_err
compile_routes(struct http_server *srv, const struct http_route *routes,
               size_t nroutes, struct vaern_msg *msg)
{
	size_t n = nroutes + N_BUILTIN_ROUTES;
	enum vaern_err err;

	srv->routes = calloc(n, sizeof(*srv->routes));
	srv->stats = calloc(n + 1, sizeof(*srv->stats));
	if (srv->routes == NULL || srv->stats == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int builtin = i >= nroutes;
		const struct http_route *r =
		        builtin ? &builtin_routes[i - nroutes] : &routes[i];

		err = route_compile(r, i, builtin, &srv->routes[i], msg);
		if (err != VAERN_OK)
			return err;
		for (size_t k = 0; k < i; k++) {
			if (strcmp(srv->routes[k].name, r->name) == 0)
				return vaern_fail(
				        msg, VAERN_E_INVALID,
				        "route %zu: the name \"%s\" is "
				        "already used (\"healthz\" and "
				        "\"metrics\" are the module's)",
				        i, r->name);
			/* An app route may shadow a built-in one. */
			if (!builtin &&
			    route_same(&srv->routes[k], &srv->routes[i]))
				return vaern_fail(msg, VAERN_E_INVALID,
				                  "route %zu (%s): same method "
				                  "and pattern as route %zu",
				                  i, r->name, k);
		}
	}
	srv->nroutes = n;
	for (size_t i = 0; i < n; i++)
		srv->routes[i].body_max = srv->body_max;
	return VAERN_OK;
}

/* Gives the routes that cfg's body rules name their own limit. */
static enum vaern_err
apply_body_rules(struct http_server *srv, const struct http_config *c,
                 struct vaern_msg *msg)
{
	for (size_t k = 0; k < c->nbody_rules; k++) {
		const struct http_body_rule *b = &c->body_rules[k];
		size_t i = 0;

		while (i < srv->nroutes &&
		       strcmp(srv->routes[i].name, b->route) != 0)
			i++;
		if (i == srv->nroutes)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "body rule %zu: no route named "
			                  "\"%.64s\"",
			                  k, b->route);
		if (b->body_max == 0 || b->body_max > BODY_MAX_LIMIT)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "body rule %zu: body_max 1 to %zu "
			                  "bytes",
			                  k, BODY_MAX_LIMIT);
		srv->routes[i].body_max = b->body_max;
		srv->routes[i].admit = b->admit;
	}
	return VAERN_OK;
}

/* ---- requests ---- */

static uint64_t
elapsed_ns(const struct timespec *start)
{
	struct timespec now;
	int64_t ns;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (int64_t)(now.tv_sec - start->tv_sec) * 1000000000 +
	     (now.tv_nsec - start->tv_nsec);
	return ns > 0 ? (uint64_t)ns : 0;
}

static const char *
method_label(const char *method)
{
	static const char *const known[] = {
	        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(method, known[i]) == 0)
			return known[i];
	return "OTHER";
}

/* Queues x->res. MHD_NO (the daemon closes the connection) if it cannot
 * be built. */
static enum MHD_Result
answer(struct http_server *srv, struct exchange *x)
{
	struct MHD_Response *r;
	enum MHD_Result ok;

	if (!x->res.set) {
		response_clear(&x->res);
		return MHD_NO;
	}
	{
		char id[24];

		(void)snprintf(id, sizeof(id), "%llu",
		               (unsigned long long)x->id);
		(void)http_respond_header(&x->res, "X-Request-Id", id);
	}
	r = response_build(&x->res, srv->tls, atomic_load(&srv->draining));
	if (r == NULL) {
		response_clear(&x->res);
		return MHD_NO;
	}
	x->status = x->res.status;
	ok = MHD_queue_response(x->req.conn, (unsigned)x->res.status, r);
	MHD_destroy_response(r);
	response_clear(&x->res);
	return ok;
}

/* Answers status with a module error; message is a fixed phrase. */
static enum MHD_Result
answer_error(struct http_server *srv, struct exchange *x, int status,
             const char *message)
{
	response_clear(&x->res);
	(void)http_respond_error(&x->res, status, http_error_code(status), "%s",
	                         message);
	return answer(srv, x);
}

/*
 * Refuses the request with a module error. A request without a body is
 * answered at its end, which keeps the connection open; the daemon closes
 * a connection answered before its request ended. allow, if not NULL, is
 * the Allow header of a 405.
 */
static enum MHD_Result
refuse(struct http_server *srv, struct exchange *x, int status,
       const char *message, const char *allow)
{
	response_clear(&x->res);
	if (http_respond_error(&x->res, status, http_error_code(status), "%s",
	                       message) != 0 ||
	    (allow != NULL &&
	     http_respond_header(&x->res, MHD_HTTP_HEADER_ALLOW, allow) != 0))
		response_clear(&x->res);
	if (x->bodiless) {
		x->pending = 1;
		return MHD_YES;
	}
	return answer(srv, x);
}

/* Parses a Content-Length value: digits only. Returns 0 or -1. */
static int
parse_length(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static void
client_text(struct MHD_Connection *conn, char out[INET6_ADDRSTRLEN])
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
	        conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	out[0] = '\0';
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		(void)inet_ntop(AF_INET,
		                &((const struct sockaddr_in *)(const void *)sa)
		                         ->sin_addr,
		                out, INET6_ADDRSTRLEN);
	else if (sa->sa_family == AF_INET6)
		(void)inet_ntop(AF_INET6,
		                &((const struct sockaddr_in6 *)(const void *)sa)
		                         ->sin6_addr,
		                out, INET6_ADDRSTRLEN);
}

/* X-Forwarded-For values, for resolve_client. */
struct forwarded_walk {
	size_t n;                               /* entries in values */
	const char *values[HTTP_FORWARDED_MAX]; /* daemon's memory */
	int overflow;                           /* 1: more headers */
};

static enum MHD_Result
forwarded_one(void *cls, enum MHD_ValueKind kind, const char *key,
              const char *value)
{
	struct forwarded_walk *w = cls;

	(void)kind;
	if (strcasecmp(key, "X-Forwarded-For") != 0 || value == NULL)
		return MHD_YES;
	if (w->n == HTTP_FORWARDED_MAX) {
		w->overflow = 1;
		return MHD_NO;
	}
	w->values[w->n++] = value;
	return MHD_YES;
}

/* The client of a request from a trusted proxy: the one its
 * X-Forwarded-For names. -1 for a malformed X-Forwarded-For. */
static int
resolve_client(struct http_server *srv, struct exchange *x)
{
	struct forwarded_walk w = {0, {NULL}, 0};
	const struct guard_cidr *proxies;
	uint8_t ip[GUARD_IP_LEN];
	size_t n;
	int rc;

	if (!guard_is_proxy(srv, x->req.conn))
		return 0; /* X-Forwarded-For from anyone else is ignored */
	(void)MHD_get_connection_values(x->req.conn, MHD_HEADER_KIND,
	                                forwarded_one, &w);
	if (w.n == 0)
		return 0;
	proxies = guard_proxies(srv, &n);
	rc = w.overflow ? -1
	                : guard_forwarded_client(proxies, n, w.values, w.n, ip);
	if (rc != 0)
		return rc < 0 ? -1 : 0; /* malformed, or no entry: the peer */
	if (memcmp(ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		(void)inet_ntop(AF_INET, ip + 12, x->req.client,
		                sizeof(x->req.client));
	else
		(void)inet_ntop(AF_INET6, ip, x->req.client,
		                sizeof(x->req.client));
	return 0;
}

/*
 * The headers are in: the guard, strict framing, limits, routing,
 * parameters, Content-Length. cut: the query had more than HTTP_QUERY_MAX
 * parameters (on_uri).
 */
static enum MHD_Result
begin(struct http_server *srv, struct exchange *x, struct MHD_Connection *conn,
      const char *url, const char *method, const char *version)
{
	enum strict_result strict;
	const union MHD_ConnectionInfo *ci;
	struct vaern_msg msg = {{0}};
	char allow[HTTP_ALLOW_MAX];
	const char *cl;
	uint64_t len = 0;
	enum vaern_err err;
	size_t index;

	(void)clock_gettime(CLOCK_MONOTONIC, &x->start);
	x->begun = 1;
	/* Issue 19: one id ties the answer to its log line. */
	x->id = atomic_fetch_add(&request_ids, 1) + 1;
	atomic_fetch_add(&srv->in_flight, 1);
	x->route = srv->nroutes;
	x->method_label = method_label(method);
	x->req.srv = srv;
	x->req.conn = conn;
	x->req.method = method;
	x->req.path = url;
	x->req.tls = srv->tls;
	client_text(conn, x->req.client);

	/* Shut down by the guard (its header deadline passed) while the
	 * last bytes came in: nothing to answer on. */
	if (guard_headers_in(srv, conn) != 0)
		return MHD_NO;

	/* 431 before anything else is looked at; and the connection goes. */
	ci = MHD_get_connection_info(conn,
	                             MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (ci == NULL || ci->header_size > srv->header_max)
		return answer_error(srv, x,
		                    MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
		                    "the request headers are too large");
	/*
	 * Issue 12, request smuggling: a framing a proxy may read otherwise
	 * gets 400, answered at once, which closes the connection: whatever
	 * follows on it (a hidden second request) is never read.
	 */
	strict = strict_check(conn, method, version);
	/* The request line: method SP target SP version, each whole. A
	 * NUL in the target ended it early for the daemon, which would
	 * route what came before; more than one space is tolerated by the
	 * daemon and by no rule. */
	if (strict == STRICT_OK &&
	    ((uintptr_t)url != (uintptr_t)method + strlen(method) + 1 ||
	     (uintptr_t)url != (uintptr_t)x->target ||
	     (uintptr_t)version != (uintptr_t)url + x->target_len + 1))
		strict = STRICT_BAD_REQUEST_LINE;
	if (strict != STRICT_OK)
		return answer_error(
		        srv, x,
		        strict == STRICT_TOO_MANY
		                ? MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE
		                : MHD_HTTP_BAD_REQUEST,
		        strict_phrase(strict));
	if (x->cut)
		return answer_error(srv, x, MHD_HTTP_URI_TOO_LONG,
		                    "too many query parameters");
	if (resolve_client(srv, x) != 0)
		return answer_error(
		        srv, x, MHD_HTTP_BAD_REQUEST,
		        "X-Forwarded-For from a trusted proxy holds "
		        "an entry that is not a numeric address");

	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && parse_length(cl, &len) != 0)
		return answer_error(srv, x, MHD_HTTP_BAD_REQUEST,
		                    "malformed Content-Length");
	x->bodiless =
	        len == 0 && MHD_lookup_connection_value(
	                            conn, MHD_HEADER_KIND,
	                            MHD_HTTP_HEADER_TRANSFER_ENCODING) == NULL;

	switch (route_find(srv->routes, srv->nroutes, method, url, &index,
	                   allow)) {
	case ROUTE_NO_PATH:
		return refuse(srv, x, MHD_HTTP_NOT_FOUND,
		              "no resource at this path", NULL);
	case ROUTE_NO_METHOD:
		return refuse(srv, x, MHD_HTTP_METHOD_NOT_ALLOWED,
		              "method not allowed here", allow);
	case ROUTE_FOUND: break;
	}
	x->route = index;
	x->req.route = &srv->routes[index];

	err = route_params(&x->req, &msg);
	if (err == VAERN_OK)
		err = route_query(&x->req, &msg);
	if (err != VAERN_OK)
		return refuse(srv, x,
		              err == VAERN_E_INVALID
		                      ? MHD_HTTP_BAD_REQUEST
		                      : MHD_HTTP_INTERNAL_SERVER_ERROR,
		              msg.text, NULL);

	/* 413 before reading the body. */
	if (len > x->req.route->body_max)
		return answer_error(srv, x, MHD_HTTP_CONTENT_TOO_LARGE,
		                    "the request body is too large");
	/* A route that takes large bodies takes them from whom it admits,
	 * decided before a byte of the body is read. */
	if (x->req.route->admit != NULL && !x->bodiless) {
		int status = x->req.route->admit(&x->req, srv->app);

		if (status != 0)
			return answer_error(
			        srv, x, status,
			        "refused before its body is read (who "
			        "sent it, from where, or how often)");
	}
	if (len > 0) {
		x->req.body = malloc((size_t)len + 1);
		if (x->req.body == NULL)
			return answer_error(srv, x,
			                    MHD_HTTP_INTERNAL_SERVER_ERROR,
			                    "out of memory");
		x->req.body_cap = (size_t)len + 1;
	}
	return MHD_YES;
}

/* How much of a chunked body may be dropped after body_max before the
 * connection is closed instead of answered. */
static size_t
discard_max(size_t body_max)
{
	return body_max > DISCARD_MIN ? body_max : DISCARD_MIN;
}

/* The body limit of req: its route's (a body rule's, or the server's). */
static size_t
body_limit(const struct http_server *srv, const struct http_request *req)
{
	return req->route != NULL ? req->route->body_max : srv->body_max;
}

/* Grows the body buffer to hold need bytes: a fresh allocation, so the
 * old one can be wiped (realloc would leave a copy behind). */
static int
body_grow(struct http_request *req, size_t need, size_t max)
{
	size_t cap = req->body_cap < BODY_MIN ? BODY_MIN : req->body_cap;
	char *p;

	while (cap < need)
		cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
	p = malloc(cap);
	if (p == NULL)
		return -1;
	if (req->body != NULL) {
		memcpy(p, req->body, req->body_len);
		explicit_bzero(req->body, req->body_cap);
		free(req->body);
	}
	req->body = p;
	req->body_cap = cap;
	return 0;
}

/* A piece of body: stored while within body_max, dropped after. */
static enum MHD_Result
take_body(struct http_server *srv, struct exchange *x, const char *data,
          size_t *size)
{
	struct http_request *req = &x->req;
	size_t n = *size, max = body_limit(srv, req);

	*size = 0;
	if (x->pending)
		return MHD_YES; /* refused already: nothing to keep */
	if (!x->overflow && n > max - req->body_len) {
		/* Past body_max: keep nothing more, and drop what we had. */
		x->overflow = 1;
		if (req->body != NULL)
			explicit_bzero(req->body, req->body_cap);
		free(req->body);
		req->body = NULL;
		req->body_len = req->body_cap = 0;
	}
	if (x->overflow) {
		x->discarded += n;
		return x->discarded > discard_max(max) ? MHD_NO : MHD_YES;
	}
	if (req->body_len + n + 1 > req->body_cap &&
	    body_grow(req, req->body_len + n + 1, max) != 0)
		return MHD_NO;
	memcpy(req->body + req->body_len, data, n);
	req->body_len += n;
	return MHD_YES;
}

/* Calls the finish callbacks of the holds, once. */
static void
run_finishers(struct exchange *x)
{
	if (x->finished)
		return;
	x->finished = 1;
	for (size_t i = 0; i < x->nholds; i++) {
		if (x->hold[i].finish != NULL)
			x->hold[i].finish(x->hold[i].arg, &x->res);
	}
}

/* Every hold is released: the response as the holds left it. */
static enum MHD_Result
answer_held(struct http_server *srv, struct exchange *x)
{
	x->parked = 0;
	run_finishers(x);
	if (atomic_load(&x->failed)) {
		/* What was set is wiped: the body may hold what the failed
		 * hold was to make safe to release. */
		response_clear(&x->res);
		(void)http_respond_error(&x->res, x->fail_status, x->fail_code,
		                         "%s", x->fail_message);
		return answer(srv, x);
	}
	if (x->handler_failed || !x->res.set)
		return answer_error(srv, x, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                    "internal error");
	return answer(srv, x);
}

/*
 * The handler returned with holds taken: answers now if they are all
 * released, else parks the connection for the last releaser to resume.
 */
static enum MHD_Result
park(struct http_server *srv, struct exchange *x)
{
	if (atomic_load(&x->holds_left) == 1) {
		/* Released while the handler ran: no need to park. */
		atomic_fetch_sub(&srv->holding, 1);
		return answer_held(srv, x);
	}
	MHD_suspend_connection(x->req.conn);
	x->parked = 1;
	if (atomic_fetch_sub(&x->holds_left, 1) == 1) {
		/* The last hold went between the look and the suspend. */
		MHD_resume_connection(x->req.conn);
		atomic_fetch_sub(&srv->holding, 1);
	}
	return MHD_YES;
}

/* The request is complete: run the handler. */
static enum MHD_Result
finish(struct http_server *srv, struct exchange *x)
{
	const struct route_entry *e = x->req.route;
	int rc;

	guard_body_done(srv, x->req.conn);
	if (x->parked)
		return answer_held(srv, x); /* resumed: the holds are gone */
	if (x->pending)
		return answer(srv, x);
	if (x->overflow)
		return answer_error(srv, x, MHD_HTTP_CONTENT_TOO_LARGE,
		                    "the request body is too large");
	assert(x->req.route != NULL && !x->res.set);
	if (x->req.body != NULL) {
		assert(x->req.body_len < x->req.body_cap);
		x->req.body[x->req.body_len] = '\0';
	}
	atomic_store(&x->holds_left, 1);
	x->in_handler = 1;
	rc = e->handler(&x->req, &x->res, e->builtin ? (void *)srv : srv->app);
	x->in_handler = 0;
	if (!e->builtin && srv->after_handler != NULL)
		srv->after_handler(srv->app);
	if (x->nholds > 0) {
		x->handler_failed = rc != 0;
		return park(srv, x);
	}
	if (rc != 0 || !x->res.set)
		return answer_error(srv, x, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                    "internal error");
	return answer(srv, x);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct exchange *x = *con_cls;

	if (x == NULL)
		return MHD_NO; /* on_uri ran out of memory */
	if (!x->begun)
		return begin(srv, x, conn, url, method, version);
	if (x->status != 0)
		return MHD_YES; /* answered: the daemon drops the rest */
	if (*upload_data_size != 0)
		return take_body(srv, x, upload_data, upload_data_size);
	return finish(srv, x);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct exchange *x = *con_cls;
	uint64_t ns;

	(void)toe;
	guard_request_done(srv, conn);
	if (x == NULL)
		return;
	if (!x->begun) {
		/* The daemon refused the request itself (its own 400, 414,
		 * 431) or the client went before its headers were in. */
		free(x);
		*con_cls = NULL;
		return;
	}
	/* Parked only if the stop closes it after its last hold went: a
	 * stop waits for every hold first. */
	assert(!x->parked || atomic_load(&x->holds_left) == 0);
	run_finishers(x); /* the client went away before the answer */
	ns = elapsed_ns(&x->start);
	metrics_record(srv, x->route, x->status, ns);
	if (srv->log != NULL) {
		struct http_log_record rec = {
		        x->method_label,
		        x->route < srv->nroutes ? srv->routes[x->route].name
		                                : HTTP_UNMATCHED,
		        x->status, (double)ns / 1e9, x->id};

		srv->log(srv->app, &rec);
	}
	request_clear(&x->req);
	response_clear(&x->res);
	free(x);
	*con_cls = NULL;
	assert(atomic_load(&srv->in_flight) > 0);
	atomic_fetch_sub(&srv->in_flight, 1);
}

/* ---- deferred responses ---- */

struct http_pending *
http_respond_later(struct http_response *res, http_finish_fn fn, void *arg)
{
	struct exchange *x = exchange_of(res);
	struct http_server *srv = x->req.srv;
	struct http_pending *p;

	if (!x->in_handler || x->nholds == HTTP_PENDING_MAX)
		return NULL;
	if (x->nholds == 0) {
		/* Counted before the flag is read, and a stop sets the flag
		 * before it reads the count: one of the two sees the other. */
		atomic_fetch_add(&srv->holding, 1);
		if (atomic_load(&srv->past_deadline)) {
			atomic_fetch_sub(&srv->holding, 1);
			return NULL;
		}
	}
	p = &x->hold[x->nholds++];
	p->x = x;
	p->finish = fn;
	p->arg = arg;
	atomic_fetch_add(&x->holds_left, 1);
	return p;
}

void
http_pending_complete(struct http_pending *p)
{
	struct exchange *x = p->x;
	struct http_server *srv = x->req.srv;
	struct MHD_Connection *conn = x->req.conn;

	/* x may be freed by its worker as soon as the connection resumes:
	 * nothing of it is touched after. */
	if (atomic_fetch_sub(&x->holds_left, 1) != 1)
		return;
	MHD_resume_connection(conn);
	atomic_fetch_sub(&srv->holding, 1);
}

void
http_pending_fail(struct http_pending *p, int status, const char *code,
                  const char *message)
{
	struct exchange *x = p->x;
	int expected = 0;

	if (atomic_compare_exchange_strong(&x->failed, &expected, 1)) {
		x->fail_status = status >= 400 && status <= HTTP_STATUS_MAX
		                         ? status
		                         : MHD_HTTP_INTERNAL_SERVER_ERROR;
		(void)snprintf(x->fail_code, sizeof(x->fail_code), "%s", code);
		(void)snprintf(x->fail_message, sizeof(x->fail_message), "%s",
		               message);
	}
	http_pending_complete(p);
}

/*
 * The daemon's MHD_OPTION_URI_LOG_CALLBACK, once per request with its
 * raw target, before the daemon splits the query: the request's state
 * starts here and becomes its *con_cls. Notes the target's length for
 * the request-line check and cuts a query of too many parameters
 * (strict_query_cut), which begin() answers 414. NULL when out of
 * memory: on_request then closes the connection.
 */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct exchange *x = calloc(1, sizeof(*x));

	(void)cls;
	(void)conn;
	if (x == NULL || uri == NULL)
		return x;
	x->target = uri;
	x->target_len = strlen(uri);
	/* uri points into the daemon's writable read buffer (strict.c). */
	x->cut = strict_query_cut((char *)(uintptr_t)uri);
	return x;
}

/* The path and query reach route.c still percent-encoded (see the top of
 * this file); the daemon has only turned '+' into ' ' in the query. */
static size_t
unescape_none(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

/* ---- start and stop ---- */

static void
server_free(struct http_server *srv)
{
	if (srv->daemon != NULL)
		MHD_stop_daemon(srv->daemon);
	guard_stop(srv); /* every connection has reported its close */
	if (srv->listen_fd >= 0)
		(void)close(srv->listen_fd);
	free(srv->routes);
	free(srv->stats);
	free(srv);
}

/* Fills in the defaults and checks the limits of cfg. */
static enum vaern_err
check_limits(const struct http_config *cfg, struct http_config *c,
             struct vaern_msg *msg)
{
	struct rlimit rl;
	long cpus;

	*c = *cfg;
	if (c->listen == NULL)
		c->listen = HTTP_LISTEN_DEFAULT;
	if (c->body_max == 0)
		c->body_max = HTTP_BODY_MAX_DEFAULT;
	if (c->header_max == 0)
		c->header_max = HTTP_HEADER_MAX_DEFAULT;
	if (c->timeout_s == 0)
		c->timeout_s = HTTP_TIMEOUT_DEFAULT_S;
	if (c->per_ip_max == 0)
		c->per_ip_max = HTTP_PER_IP_MAX_DEFAULT;
	if (c->connections_max == 0)
		c->connections_max = HTTP_CONNECTIONS_MAX_DEFAULT;
	if (c->drain_ms == 0)
		c->drain_ms = HTTP_DRAIN_DEFAULT_MS;
	if (c->header_timeout_s == 0)
		c->header_timeout_s = HTTP_HEADER_TIMEOUT_DEFAULT_S;
	if (c->connections_max > HTTP_CONNECTIONS_MAX_LIMIT ||
	    c->per_ip_max > HTTP_CONNECTIONS_MAX_LIMIT)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "connections_max, per_ip_max: at most %u",
		                  HTTP_CONNECTIONS_MAX_LIMIT);
	if (c->timeout_s > HTTP_TIMEOUT_MAX_S ||
	    c->header_timeout_s > HTTP_TIMEOUT_MAX_S)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "timeout_s, header_timeout_s: at most %u "
		                  "seconds",
		                  HTTP_TIMEOUT_MAX_S);
	if (c->threads == 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		c->threads = cpus < 1                  ? 1
		             : cpus > HTTP_THREADS_MAX ? HTTP_THREADS_MAX
		                                       : (unsigned)cpus;
	}
	if (c->threads > HTTP_THREADS_MAX)
		return vaern_fail(msg, VAERN_E_INVALID, "threads: at most %d",
		                  HTTP_THREADS_MAX);
	if (c->body_max > BODY_MAX_LIMIT)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "body_max: at most %zu bytes",
		                  BODY_MAX_LIMIT);
	if (c->header_max < HEADER_MAX_MIN ||
	    c->header_max > HTTP_HEADER_MAX_LIMIT)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "header_max: %zu to %zu bytes",
		                  HEADER_MAX_MIN, HTTP_HEADER_MAX_LIMIT);
	if ((c->tls_cert == NULL) != (c->tls_key == NULL))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "tls_cert and tls_key go together");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		c->connections_max = guard_fit_descriptors(
		        c->connections_max, c->threads, (uint64_t)rl.rlim_cur);
	return VAERN_OK;
}

enum vaern_err
http_server_start(const struct http_config *cfg,
                  const struct http_route *routes, size_t nroutes, void *app,
                  struct http_server **out, struct vaern_msg *msg)
{
	struct http_server *srv = NULL;
	struct http_config c;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	char *cert = NULL, *key = NULL;
	size_t certlen = 0, keylen = 0;
	sigset_t shutdown_signals, old_mask;
	struct MHD_OptionItem extra[5];
	size_t nextra = 0;
	unsigned flags;
	int loopback = 0;
	enum vaern_err err;

	*out = NULL;
	err = check_limits(cfg, &c, msg);
	if (err != VAERN_OK)
		return err;
	if (nroutes > HTTP_ROUTES_MAX || (nroutes > 0 && routes == NULL))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "at most %d routes, in an array",
		                  HTTP_ROUTES_MAX);
	err = parse_listen(c.listen, &ss, &sslen, &loopback, msg);
	if (err != VAERN_OK)
		return err;
	/* AURA-SEC-1: the portal is served over TLS. Plain HTTP only on
	 * loopback (behind a TLS-terminating proxy) or when asked for. */
	if (c.tls_cert == NULL && !loopback && !c.insecure)
		return vaern_fail(
		        msg, VAERN_E_DENIED,
		        "AURA-SEC-1: refusing plain HTTP on the "
		        "non-loopback address %.64s: set tls_cert and "
		        "tls_key, or insecure to serve without TLS",
		        c.listen);

	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	srv->listen_fd = -1;
	srv->app = app;
	srv->body_max = c.body_max;
	srv->header_max = c.header_max;
	srv->drain_ms = c.drain_ms;
	srv->tls = c.tls_cert != NULL;
	srv->log = c.log;
	srv->metrics_extra = c.metrics_extra;
	srv->after_handler = c.after_handler;
	srv->ready = c.ready;
	atomic_init(&srv->in_flight, 0);
	atomic_init(&srv->draining, 0);
	atomic_init(&srv->holding, 0);
	atomic_init(&srv->past_deadline, 0);
	err = compile_routes(srv, routes, nroutes, msg);
	if (err == VAERN_OK)
		err = apply_body_rules(srv, &c, msg);
	if (err == VAERN_OK)
		err = guard_start(srv, &c, msg);
	if (err != VAERN_OK)
		goto fail;

	if (srv->tls) {
		err = read_pem(c.tls_cert, "tls_cert", &cert, &certlen, msg);
		if (err == VAERN_OK)
			err = read_pem(c.tls_key, "tls_key", &key, &keylen,
			               msg);
		if (err != VAERN_OK)
			goto fail;
		extra[nextra++] = (struct MHD_OptionItem){
		        MHD_OPTION_HTTPS_MEM_CERT, 0, cert};
		extra[nextra++] = (struct MHD_OptionItem){
		        MHD_OPTION_HTTPS_MEM_KEY, 0, key};
		extra[nextra++] = (struct MHD_OptionItem){
		        MHD_OPTION_HTTPS_PRIORITIES, 0,
		        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"};
	}
	/* The daemon refuses a pool of one thread. */
	if (c.threads > 1)
		extra[nextra++] = (struct MHD_OptionItem){
		        MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)c.threads, NULL};
	extra[nextra] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

	err = open_listener(srv, c.listen, &ss, sslen, msg);
	if (err != VAERN_OK)
		goto fail;

	/* The daemon's threads inherit the mask: no shutdown signal ever
	 * lands on a worker. The caller keeps it with cfg.signals. */
	sigemptyset(&shutdown_signals);
	sigaddset(&shutdown_signals, SIGINT);
	sigaddset(&shutdown_signals, SIGTERM);
	(void)pthread_sigmask(SIG_BLOCK, &shutdown_signals, &old_mask);
	/*
	 * poll(), not epoll: libmicrohttpd 0.9.75 races with itself when an
	 * epoll daemon with worker threads is quiesced (a worker and
	 * MHD_quiesce_daemon both remove the listening socket from the epoll
	 * set, and the loser aborts the process with "Failed to remove listen
	 * FD from epoll set"). With poll() the quiesce is a message to each
	 * worker. Measured on scripts/bench-api: no slower at 64 connections.
	 */
	flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC |
	        MHD_ALLOW_SUSPEND_RESUME | (srv->tls ? MHD_USE_TLS : 0);
	srv->daemon = MHD_start_daemon(
	        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET,
	        (MHD_socket)srv->listen_fd, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	        (size_t)(c.header_max + POOL_SLACK),
	        MHD_OPTION_CONNECTION_LIMIT,
	        guard_daemon_limit(c.connections_max, c.threads),
	        MHD_OPTION_CONNECTION_TIMEOUT, c.timeout_s,
	        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	        MHD_OPTION_NOTIFY_CONNECTION, guard_notify, srv,
	        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
	        MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, NULL,
	        MHD_OPTION_ARRAY, extra, MHD_OPTION_END);
	if (!c.signals || srv->daemon == NULL)
		(void)pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (srv->daemon == NULL) {
		/* The daemon closes a socket it was given on most of its
		 * failure paths, not on all: close it only if the descriptor
		 * still is our socket, never a number reused since. */
		struct stat st;

		if (fstat(srv->listen_fd, &st) != 0 ||
		    st.st_dev != srv->listen_dev ||
		    st.st_ino != srv->listen_ino)
			srv->listen_fd = -1;
		err = vaern_fail(msg, VAERN_E_IO,
		                 "the HTTP daemon did not start%s",
		                 srv->tls ? ": check that tls_cert holds a PEM "
		                            "certificate and tls_key its "
		                            "unencrypted private key"
		                          : "");
		goto fail;
	}
	/* The daemon holds the listening socket now. */
	srv->listen_fd = -1;
	wipe_free(key, keylen);
	wipe_free(cert, certlen);
	*out = srv;
	return VAERN_OK;
fail:
	wipe_free(key, keylen);
	wipe_free(cert, certlen);
	server_free(srv);
	return err;
}

uint16_t
http_server_port(const struct http_server *srv)
{
	return srv->port;
}

/* CLOCK_MONOTONIC now plus ms. */
static struct timespec
deadline_after_ms(unsigned ms)
{
	struct timespec t;

	(void)clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* 1 once CLOCK_MONOTONIC has reached t. */
static int
passed(const struct timespec *t)
{
	struct timespec now;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec ||
	       (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/*
 * Stops srv's daemon: no new connections, in-flight requests finish until
 * the drain deadline (or a signal in interrupt arrives); then the held
 * responses are waited for, with HELD_GRACE_MS to go out once released,
 * and every connection closes. srv stays allocated, stopped.
 */
static void
server_drain(struct http_server *srv, const sigset_t *interrupt)
{
	struct timespec deadline;
	MHD_socket fd;

	if (srv->daemon == NULL)
		return; /* stopped already */
	atomic_store(&srv->draining, 1);
	fd = MHD_quiesce_daemon(srv->daemon);
	if (fd != MHD_INVALID_SOCKET) {
		/* The daemon no longer accepts, but the kernel still would
		 * into the backlog: refuse at once instead, so a client or
		 * a load balancer tries elsewhere. The socket is closed after
		 * the daemon stops, as MHD_quiesce_daemon asks. */
		srv->listen_fd = fd;
		(void)shutdown(fd, SHUT_RDWR);
	}
	deadline = deadline_after_ms(srv->drain_ms);
	while (atomic_load(&srv->in_flight) > 0 && !passed(&deadline)) {
		struct timespec pause = {0, DRAIN_POLL_NS};

		if (interrupt != NULL) {
			if (sigtimedwait(interrupt, NULL, &pause) > 0)
				break; /* a second signal: stop now */
		} else {
			(void)nanosleep(&pause, NULL);
		}
	}
	/*
	 * Past the deadline no hold is taken any more, and the ones taken
	 * are waited for: the daemon cannot stop with a parked connection,
	 * and a releaser would resume one that is gone.
	 */
	atomic_store(&srv->past_deadline, 1);
	while (atomic_load(&srv->holding) > 0) {
		struct timespec pause = {0, DRAIN_POLL_NS / 10};

		(void)nanosleep(&pause, NULL);
	}
	/* The answers released late are ready: a moment to send them. */
	deadline = deadline_after_ms(HELD_GRACE_MS);
	while (atomic_load(&srv->in_flight) > 0 && !passed(&deadline)) {
		struct timespec pause = {0, DRAIN_POLL_NS / 10};

		(void)nanosleep(&pause, NULL);
	}
	/* Waits for handlers still running: they cannot be cancelled. */
	MHD_stop_daemon(srv->daemon);
	srv->daemon = NULL;
	if (srv->listen_fd >= 0)
		(void)close(srv->listen_fd);
	srv->listen_fd = -1;
}

void
http_server_stop(struct http_server *srv)
{
	if (srv == NULL)
		return;
	server_drain(srv, NULL);
	server_free(srv);
}

int
http_server_run_until_signal(struct http_server *srv)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	(void)pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (sigwait(&set, &sig) != 0)
		;
	server_drain(srv, &set);
	return sig;
}
