/*
 * test_http.c -- the HTTP server core driven over real sockets: a server
 * on 127.0.0.1:0 with a few test routes, raw HTTP/1.1 requests written by
 * hand, responses read until the server closes.
 *
 * Covers routing (404, 405 + Allow), the body and header limits (413 by
 * Content-Length and by chunked stream, 431), the JSON body helper (400
 * that never quotes the body, 415, duplicate keys), path and query
 * decoding, security headers, /healthz, /metrics, the listen rules and
 * TLS (AURA-SEC-1), connection limits, the draining stop and the signal
 * wait, and deferred responses (holds released from another thread, a
 * client gone meanwhile, a stop with responses held).
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http/http.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Limits of the shared test server: small, so tests stay small. */
#define TEST_BODY_MAX   1024
#define TEST_HEADER_MAX 4096

/* Longest response a test reads. */
#define REPLY_MAX (256 * 1024)

/* ---- a small HTTP/1.1 client ---- */

/* A response read until the server closed the connection. */
struct reply {
	int status;       /* status code, 0 if no status line arrived */
	char *raw;        /* everything received, NUL-terminated; owned */
	size_t len;       /* bytes in raw */
	const char *body; /* into raw, after the blank line; "" if none */
};

static void
reply_free(struct reply *r)
{
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

/* Connects to 127.0.0.1:port with a 5 s receive timeout; -1 with errno. */
static int
connect_to(uint16_t port)
{
	struct sockaddr_in a = {0};
	struct timeval tv = {5, 0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Sends all of p; stops quietly if the server closed. */
static void
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

/* Reads until EOF, error or timeout, and parses the status line. */
static void
read_reply(int fd, struct reply *r)
{
	memset(r, 0, sizeof(*r));
	r->raw = calloc(1, REPLY_MAX + 1);
	assert_non_null(r->raw);
	for (;;) {
		ssize_t k = recv(fd, r->raw + r->len, REPLY_MAX - r->len, 0);

		if (k <= 0 || (r->len += (size_t)k) == REPLY_MAX)
			break;
	}
	r->raw[r->len] = '\0';
	if (strncmp(r->raw, "HTTP/1.1 ", 9) == 0)
		r->status = (int)strtol(r->raw + 9, NULL, 10);
	r->body = strstr(r->raw, "\r\n\r\n");
	r->body = r->body != NULL ? r->body + 4 : "";
}

/* Sends raw[0..len) as one request and reads the reply. */
static void
exchange_raw(uint16_t port, const char *raw, size_t len, struct reply *r)
{
	int fd = connect_to(port);

	assert_true(fd >= 0);
	send_all(fd, raw, len);
	read_reply(fd, r);
	close(fd);
}

/* Sends method path with extra header lines (each ending in \r\n, or
 * NULL) and a body with its Content-Length (body NULL: no body). */
static void
request(uint16_t port, const char *method, const char *path,
        const char *headers, const char *body, struct reply *r)
{
	size_t blen = body != NULL ? strlen(body) : 0;
	size_t cap =
	        strlen(path) + (headers ? strlen(headers) : 0) + blen + 256;
	char *raw = malloc(cap);
	int n;

	assert_non_null(raw);
	if (body != NULL)
		n = snprintf(
		        raw, cap,
		        "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
		        "%sContent-Length: %zu\r\n\r\n%s",
		        method, path, headers ? headers : "", blen, body);
	else
		n = snprintf(
		        raw, cap,
		        "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
		        "%s\r\n",
		        method, path, headers ? headers : "");
	assert_true(n > 0 && (size_t)n < cap);
	exchange_raw(port, raw, (size_t)n, r);
	free(raw);
}

/* Copies the value of header name (case-insensitive) into out; NULL if
 * the response has no such header. */
static const char *
reply_header(const struct reply *r, const char *name, char *out, size_t max)
{
	size_t nlen = strlen(name);
	const char *p = strstr(r->raw, "\r\n");

	while (p != NULL && strncmp(p, "\r\n\r\n", 4) != 0) {
		const char *line = p + 2, *end = strstr(line, "\r\n");

		if (end == NULL)
			break;
		if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			const char *v = line + nlen + 1;
			size_t len;

			while (*v == ' ')
				v++;
			len = (size_t)(end - v) < max - 1 ? (size_t)(end - v)
			                                  : max - 1;
			memcpy(out, v, len);
			out[len] = '\0';
			return out;
		}
		p = end;
	}
	return NULL;
}

/* The body as JSON; fails the test if it is not. */
static json_t *
reply_json(const struct reply *r)
{
	json_error_t err;
	json_t *doc = json_loads(r->body, 0, &err);

	if (doc == NULL)
		fail_msg("response body is not JSON: %s", r->body);
	return doc;
}

/* The error code and message of an {"error":{...}} body. */
static void
assert_error(const struct reply *r, int status, const char *code)
{
	json_t *doc;

	assert_int_equal(r->status, status);
	doc = reply_json(r);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(doc, "error"), "code")),
	                    code);
	assert_non_null(json_string_value(
	        json_object_get(json_object_get(doc, "error"), "message")));
	json_decref(doc);
}

static const char *
error_message(const struct reply *r, char *out, size_t max)
{
	json_t *doc = reply_json(r);
	const char *m = json_string_value(
	        json_object_get(json_object_get(doc, "error"), "message"));

	assert_non_null(m);
	(void)snprintf(out, max, "%s", m);
	json_decref(doc);
	return out;
}

/* ---- test routes ---- */

/* Released by the drain test to let the slow handler finish. */
static atomic_int slow_started, slow_release;

static int
facts_post(struct http_request *req, struct http_response *res, void *app)
{
	struct vaern_msg msg = {{0}};
	const char *purpose = http_request_query(req, "purpose");
	json_t *doc;
	int st;

	(void)app;
	st = http_request_json(req, &doc, &msg);
	if (st != 0)
		return http_respond_error(res, st, http_error_code(st), "%s",
		                          msg.text);
	return http_respond_json(res, 201,
	                         json_pack("{s:s,s:o,s:s*}", "id",
	                                   http_request_param(req, "id"),
	                                   "body", doc, "purpose", purpose));
}

static int
facts_get(struct http_request *req, struct http_response *res, void *app)
{
	const char *purpose = http_request_query(req, "purpose");

	(void)app;
	return http_respond_json(res, 200,
	                         json_pack("{s:s,s:s*,s:s,s:s,s:s*,s:s,s:s}",
	                                   "id", http_request_param(req, "id"),
	                                   "purpose", purpose, "route",
	                                   http_request_route(req), "client",
	                                   http_request_client(req), "gpc",
	                                   http_request_header(req, "sec-gpc"),
	                                   "method", http_request_method(req),
	                                   "path", http_request_path(req)));
}

static int
slow(struct http_request *req, struct http_response *res, void *app)
{
	(void)req;
	(void)app;
	atomic_store(&slow_started, 1);
	for (int i = 0; i < 5000 && !atomic_load(&slow_release); i++)
		usleep(1000);
	return http_respond_text(res, 200, "text/plain", "done");
}

static int
broken(struct http_request *req, struct http_response *res, void *app)
{
	(void)req;
	(void)app;
	/* A response set before failing must not leak out. */
	(void)http_respond_text(res, 200, "text/plain", "half-done");
	return -1;
}

static int
page(struct http_request *req, struct http_response *res, void *app)
{
	(void)app;
	if (http_respond_header(res, "Content-Security-Policy",
	                        "default-src 'self'") != 0 ||
	    http_respond_header(res, "X-Bad", "a\r\nInjected: 1") != -1 ||
	    http_respond_header(res, "Content-Length", "1") != -1)
		return -1;
	return http_respond_text(res, 200, "text/html; charset=utf-8",
	                         http_request_tls(req) ? "<p>tls</p>"
	                                               : "<p>plain</p>");
}

/* ---- deferred responses: the holds the handlers took ---- */

#define LATER_MAX 16

static struct {
	pthread_mutex_t lock;
	struct http_pending *hold[LATER_MAX]; /* taken, not yet released */
	int n;                                /* entries in hold */
	atomic_int finished;                  /* finish callbacks run */
	atomic_int refused;                   /* http_respond_later: NULL */
} later = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void
later_finish(void *arg, struct http_response *res)
{
	atomic_fetch_add(&later.finished, 1);
	if (arg != NULL)
		(void)http_respond_text(res, 201, "text/plain", arg);
}

/* Takes a hold on res and keeps it for the test; 0, or -1 if refused. */
static int
later_take(struct http_response *res, void *finish_arg)
{
	struct http_pending *p =
	        http_respond_later(res, later_finish, finish_arg);

	if (p == NULL) {
		atomic_fetch_add(&later.refused, 1);
		return -1;
	}
	pthread_mutex_lock(&later.lock);
	later.hold[later.n++] = p;
	pthread_mutex_unlock(&later.lock);
	return 0;
}

/*
 * GET /later?holds=N&finish=1: answers "held answer" once its N holds
 * (default 1) are released; with finish=1 the finish callback answers
 * 201 "from finish" instead; "not held" if no hold could be had.
 */
static int
later_get(struct http_request *req, struct http_response *res, void *app)
{
	const char *q = http_request_query(req, "holds");
	int fin = http_request_query(req, "finish") != NULL;
	long n = q != NULL ? strtol(q, NULL, 10) : 1;

	(void)app;
	if (http_respond_text(res, 200, "text/plain", "held answer") != 0)
		return -1;
	for (long i = 0; i < n && i < LATER_MAX; i++) {
		if (later_take(res, fin ? "from finish" : NULL) != 0)
			return http_respond_text(res, 200, "text/plain",
			                         "not held");
	}
	return 0;
}

/* GET /later-now: a hold released before the handler returns. */
static int
later_now(struct http_request *req, struct http_response *res, void *app)
{
	struct http_pending *p = http_respond_later(res, later_finish, NULL);

	(void)req;
	(void)app;
	if (p == NULL)
		return -1;
	http_pending_complete(p);
	return http_respond_text(res, 200, "text/plain", "released at once");
}

/* GET /later-broken: holds, then fails; what it set must not go out. */
static int
later_broken(struct http_request *req, struct http_response *res, void *app)
{
	(void)req;
	(void)app;
	(void)http_respond_text(res, 200, "text/plain", "half-done");
	(void)later_take(res, NULL);
	return -1;
}

static int
later_waiting(void)
{
	int n;

	pthread_mutex_lock(&later.lock);
	n = later.n;
	pthread_mutex_unlock(&later.lock);
	return n;
}

/* Waits (5 s at most) until n holds are waiting. */
static void
later_wait(int n)
{
	for (int i = 0; i < 5000 && later_waiting() < n; i++)
		usleep(1000);
	assert_int_equal(later_waiting(), n);
}

/* Releases the oldest waiting hold: completed, or failed with 503. */
static void
later_release_one(int fail)
{
	struct http_pending *p;

	pthread_mutex_lock(&later.lock);
	assert_true(later.n > 0);
	p = later.hold[0];
	memmove(later.hold, later.hold + 1,
	        (size_t)(later.n - 1) * sizeof(later.hold[0]));
	later.n--;
	pthread_mutex_unlock(&later.lock);
	if (fail)
		http_pending_fail(p, 503, "unavailable", "the log is down");
	else
		http_pending_complete(p);
}

static void
later_reset(void)
{
	pthread_mutex_lock(&later.lock);
	later.n = 0;
	pthread_mutex_unlock(&later.lock);
	atomic_store(&later.finished, 0);
	atomic_store(&later.refused, 0);
}

static const struct http_route test_routes[] = {
        {"POST", "/v1/subjects/{id}/facts", facts_post, "facts.post"},
        {"GET", "/v1/subjects/{id}/facts", facts_get, "facts.get"},
        {"GET", "/slow", slow, "slow"},
        {"GET", "/fail", broken, "fail"},
        {"GET", "/page", page, "page"},
        {"GET", "/later", later_get, "later"},
        {"GET", "/later-now", later_now, "later_now"},
        {"GET", "/later-broken", later_broken, "later_broken"},
};

/* The app's extra metrics. */
static void
metrics_extra(void *app, struct http_buf *out)
{
	(void)app;
	(void)http_buf_printf(out,
	                      "# TYPE vaern_gate_decisions_total counter\n"
	                      "vaern_gate_decisions_total{outcome=\"%s\"} %d\n",
	                      "allow", 7);
}

/* What the log callback saw: route names and statuses only. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[8192];
static size_t log_len;

static void
log_record(void *app, const struct http_log_record *rec)
{
	int n;

	(void)app;
	pthread_mutex_lock(&log_lock);
	n = snprintf(log_text + log_len, sizeof(log_text) - log_len,
	             "%s %s %d\n", rec->method, rec->route, rec->status);
	if (n > 0 && (size_t)n < sizeof(log_text) - log_len)
		log_len += (size_t)n;
	pthread_mutex_unlock(&log_lock);
}

static struct http_config
test_config(void)
{
	struct http_config cfg = {0};

	cfg.listen = "127.0.0.1:0";
	cfg.threads = 2;
	cfg.body_max = TEST_BODY_MAX;
	cfg.header_max = TEST_HEADER_MAX;
	cfg.drain_ms = 5000;
	cfg.log = log_record;
	cfg.metrics_extra = metrics_extra;
	return cfg;
}

static struct http_server *
start(const struct http_config *cfg)
{
	struct vaern_msg msg = {{0}};
	struct http_server *srv = NULL;

	if (http_server_start(cfg, test_routes, N_ELEMS(test_routes), NULL,
	                      &srv, &msg) != VAERN_OK)
		fail_msg("server did not start: %s", msg.text);
	return srv;
}

/* The shared server of the group. */
static struct http_server *server;
static uint16_t port;

static int
group_setup(void **state)
{
	struct http_config cfg = test_config();

	(void)state;
	server = start(&cfg);
	port = http_server_port(server);
	return port == 0 ? -1 : 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	http_server_stop(server);
	server = NULL;
	return 0;
}

/* ---- routing and responses ---- */

static void
test_json_round_trip(void **state)
{
	struct reply r;
	char v[256];
	json_t *doc;

	(void)state;
	request(port, "POST", "/v1/subjects/s1/facts?purpose=billing",
	        "Content-Type: application/json\r\n",
	        "{\"category\":\"email\",\"n\":[1,2]}", &r);
	assert_int_equal(r.status, 201);
	assert_string_equal(reply_header(&r, "Content-Type", v, sizeof(v)),
	                    "application/json");
	doc = reply_json(&r);
	assert_string_equal(json_string_value(json_object_get(doc, "id")),
	                    "s1");
	assert_string_equal(json_string_value(json_object_get(doc, "purpose")),
	                    "billing");
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(doc, "body"), "category")),
	                    "email");
	json_decref(doc);
	/* Security headers on every response; no HSTS without TLS. */
	assert_string_equal(reply_header(&r, "Cache-Control", v, sizeof(v)),
	                    "no-store");
	assert_string_equal(
	        reply_header(&r, "X-Content-Type-Options", v, sizeof(v)),
	        "nosniff");
	assert_string_equal(
	        reply_header(&r, "Content-Security-Policy", v, sizeof(v)),
	        "default-src 'none'; frame-ancestors 'none'");
	assert_string_equal(reply_header(&r, "Referrer-Policy", v, sizeof(v)),
	                    "no-referrer");
	assert_null(
	        reply_header(&r, "Strict-Transport-Security", v, sizeof(v)));
	reply_free(&r);

	request(port, "GET", "/v1/subjects/s%32/facts", "Sec-GPC: 1\r\n", NULL,
	        &r);
	assert_int_equal(r.status, 200);
	doc = reply_json(&r);
	assert_string_equal(json_string_value(json_object_get(doc, "id")),
	                    "s2");
	assert_string_equal(json_string_value(json_object_get(doc, "route")),
	                    "facts.get");
	assert_string_equal(json_string_value(json_object_get(doc, "client")),
	                    "127.0.0.1");
	assert_string_equal(json_string_value(json_object_get(doc, "gpc")),
	                    "1");
	assert_string_equal(json_string_value(json_object_get(doc, "method")),
	                    "GET");
	assert_string_equal(json_string_value(json_object_get(doc, "path")),
	                    "/v1/subjects/s%32/facts");
	assert_null(json_object_get(doc, "purpose"));
	json_decref(doc);
	reply_free(&r);
}

static void
test_not_found(void **state)
{
	static const char *const paths[] = {
	        "/nope",
	        "/v1/subjects/s1",
	        "/v1/subjects/s1/facts/",
	        "/v1/subjects//facts",
	        "/",
	        "/v1/subjects/s1/facts/x/y",
	        "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r",
	};
	char v[256];

	(void)state;
	for (size_t i = 0; i < N_ELEMS(paths); i++) {
		struct reply r;

		request(port, "GET", paths[i], NULL, NULL, &r);
		assert_error(&r, 404, "not_found");
		/* The message never echoes the path. */
		assert_null(strstr(error_message(&r, v, sizeof(v)), "/"));
		assert_non_null(
		        reply_header(&r, "Cache-Control", v, sizeof(v)));
		reply_free(&r);
	}
}

static void
test_method_not_allowed(void **state)
{
	struct reply r;
	char v[256];

	(void)state;
	request(port, "DELETE", "/v1/subjects/s1/facts", NULL, NULL, &r);
	assert_error(&r, 405, "method_not_allowed");
	assert_string_equal(reply_header(&r, "Allow", v, sizeof(v)),
	                    "POST, GET, HEAD");
	reply_free(&r);

	request(port, "POST", "/healthz", NULL, "{}", &r);
	assert_error(&r, 405, "method_not_allowed");
	assert_string_equal(reply_header(&r, "Allow", v, sizeof(v)),
	                    "GET, HEAD");
	reply_free(&r);
}

/* A request without a body refused early keeps its connection open. */
static void
test_refusal_keeps_connection(void **state)
{
	static const char two[] = "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
	                          "GET /healthz HTTP/1.1\r\nHost: t\r\n"
	                          "Connection: close\r\n\r\n";
	struct reply r;

	(void)state;
	exchange_raw(port, two, sizeof(two) - 1, &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body, "HTTP/1.1 200 OK"));
	assert_non_null(strstr(r.body, "{\"status\":\"ok\"}"));
	reply_free(&r);
}

static void
test_handler_failure_is_500(void **state)
{
	struct reply r;

	(void)state;
	request(port, "GET", "/fail", NULL, NULL, &r);
	assert_error(&r, 500, "internal_error");
	assert_null(strstr(r.body, "half-done"));
	reply_free(&r);
}

static void
test_handler_headers(void **state)
{
	struct reply r;
	char v[256];

	(void)state;
	request(port, "GET", "/page", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "<p>plain</p>");
	assert_string_equal(reply_header(&r, "Content-Type", v, sizeof(v)),
	                    "text/html; charset=utf-8");
	/* The handler's CSP replaces the default; the others stay. */
	assert_string_equal(
	        reply_header(&r, "Content-Security-Policy", v, sizeof(v)),
	        "default-src 'self'");
	assert_string_equal(reply_header(&r, "Cache-Control", v, sizeof(v)),
	                    "no-store");
	assert_null(reply_header(&r, "Injected", v, sizeof(v)));
	reply_free(&r);
}

/* ---- limits ---- */

/* A body of exactly n bytes of JSON: {"pad":"xxx..."}. */
static char *
json_of_size(size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	assert_true(n >= 10);
	memcpy(s, "{\"pad\":\"", 8);
	memset(s + 8, 'x', n - 10);
	memcpy(s + n - 2, "\"}", 3);
	return s;
}

static void
test_body_limit_content_length(void **state)
{
	static const char hdr[] =
	        "POST /v1/subjects/s1/facts HTTP/1.1\r\nHost: t\r\n"
	        "Content-Type: application/json\r\n"
	        "Content-Length: 1025\r\n\r\n";
	char *body = json_of_size(TEST_BODY_MAX);
	struct reply r;

	(void)state;
	/* At the limit: accepted. */
	request(port, "POST", "/v1/subjects/s1/facts",
	        "Content-Type: application/json\r\n", body, &r);
	assert_int_equal(r.status, 201);
	reply_free(&r);
	free(body);

	/* One byte over: 413 on the headers alone; the body is never sent,
	 * so the answer cannot have waited for it. */
	exchange_raw(port, hdr, sizeof(hdr) - 1, &r);
	assert_error(&r, 413, "payload_too_large");
	reply_free(&r);

	/* And with Expect: 100-continue, no 100 before the 413. */
	{
		static const char expect[] =
		        "POST /v1/subjects/s1/facts HTTP/1.1\r\nHost: t\r\n"
		        "Content-Type: application/json\r\n"
		        "Expect: 100-continue\r\n"
		        "Content-Length: 99999999999\r\n\r\n";

		exchange_raw(port, expect, sizeof(expect) - 1, &r);
		assert_int_equal(r.status, 413);
		reply_free(&r);
	}
}

/* A body rule's admission: "X-Admit: yes" (an app checks a token). */
static int
admit_header(struct http_request *req, void *app)
{
	const char *v = http_request_header(req, "X-Admit");

	(void)app;
	return v != NULL && strcmp(v, "yes") == 0 ? 0 : 401;
}

/* A route with a body limit of its own (issue 18's bulk ingest): larger
 * bodies from whom it admits, decided before the body is read; other
 * routes keep the server's limit; a rule naming no route is refused. */
static void
test_body_rule(void **state)
{
	static const char unadmitted[] =
	        "POST /v1/subjects/s1/facts HTTP/1.1\r\nHost: t\r\n"
	        "Content-Type: application/json\r\n"
	        "Content-Length: 2048\r\n\r\n";
	static const char over[] =
	        "POST /v1/subjects/s1/facts HTTP/1.1\r\nHost: t\r\n"
	        "X-Admit: yes\r\nContent-Type: application/json\r\n"
	        "Content-Length: 4097\r\n\r\n";
	struct http_body_rule rule = {"facts.post", 4 * TEST_BODY_MAX,
	                              admit_header};
	struct http_config cfg = test_config();
	struct vaern_msg msg = {{0}};
	struct http_server *srv = NULL;
	char *body = json_of_size(2 * TEST_BODY_MAX);
	struct reply r;
	uint16_t p;

	(void)state;
	cfg.body_rules = &rule;
	cfg.nbody_rules = 1;
	srv = start(&cfg);
	p = http_server_port(srv);
	/* Twice the server's limit, admitted: read and handled. */
	request(p, "POST", "/v1/subjects/s1/facts",
	        "X-Admit: yes\r\nContent-Type: application/json\r\n", body, &r);
	assert_int_equal(r.status, 201);
	reply_free(&r);
	/* Not admitted: 401 on the headers alone, the body never sent. */
	exchange_raw(p, unadmitted, sizeof(unadmitted) - 1, &r);
	assert_int_equal(r.status, 401);
	reply_free(&r);
	/* Past the route's own limit: 413 before the body. */
	exchange_raw(p, over, sizeof(over) - 1, &r);
	assert_error(&r, 413, "payload_too_large");
	reply_free(&r);
	http_server_stop(srv);
	free(body);

	rule.route = "no.such.route";
	assert_int_equal(http_server_start(&cfg, test_routes,
	                                   N_ELEMS(test_routes), NULL, &srv,
	                                   &msg),
	                 VAERN_E_INVALID);
	assert_null(srv);
	assert_non_null(strstr(msg.text, "no route named"));
}

/* Sends body in chunks of chunk bytes with Transfer-Encoding: chunked. */
static void
chunked(const char *body, size_t chunk, struct reply *r)
{
	static const char hdr[] =
	        "POST /v1/subjects/s1/facts HTTP/1.1\r\nHost: t\r\n"
	        "Connection: close\r\nContent-Type: application/json\r\n"
	        "Transfer-Encoding: chunked\r\n\r\n";
	size_t len = strlen(body);
	int fd = connect_to(port);

	assert_true(fd >= 0);
	send_all(fd, hdr, sizeof(hdr) - 1);
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		char size[32];
		int k = snprintf(size, sizeof(size), "%zx\r\n", n);

		send_all(fd, size, (size_t)k);
		send_all(fd, body + off, n);
		send_all(fd, "\r\n", 2);
	}
	send_all(fd, "0\r\n\r\n", 5);
	read_reply(fd, r);
	close(fd);
}

static void
test_body_limit_chunked(void **state)
{
	char *body;
	struct reply r;

	(void)state;
	body = json_of_size(TEST_BODY_MAX);
	chunked(body, 100, &r);
	assert_int_equal(r.status, 201);
	reply_free(&r);
	free(body);

	/* Past body_max in a stream: 413 once it ends. */
	body = json_of_size(TEST_BODY_MAX + 1);
	chunked(body, 100, &r);
	assert_error(&r, 413, "payload_too_large");
	reply_free(&r);
	free(body);

	body = json_of_size(8 * TEST_BODY_MAX);
	chunked(body, 1000, &r);
	assert_error(&r, 413, "payload_too_large");
	reply_free(&r);
	free(body);

	/* A stream far past the limit is cut off, not answered. */
	body = json_of_size(512 * 1024);
	chunked(body, 16 * 1024, &r);
	assert_int_equal(r.status, 0);
	reply_free(&r);
	free(body);
}

/* A GET whose header section (request line to blank line) is n bytes. */
static char *
get_with_header_size(size_t n)
{
	static const char head[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n"
	                           "Connection: close\r\nX-Pad: ";
	size_t fixed = sizeof(head) - 1 + 4; /* "\r\n\r\n" */
	char *s = malloc(n + 1);

	assert_non_null(s);
	assert_true(n > fixed);
	memcpy(s, head, sizeof(head) - 1);
	memset(s + sizeof(head) - 1, 'h', n - fixed);
	memcpy(s + n - 4, "\r\n\r\n", 5);
	return s;
}

static void
test_header_limit(void **state)
{
	struct reply r;
	char *raw;
	char v[256];

	(void)state;
	raw = get_with_header_size(TEST_HEADER_MAX);
	exchange_raw(port, raw, TEST_HEADER_MAX, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	free(raw);

	/* One byte over header_max: the module's 431, JSON with the
	 * security headers. */
	raw = get_with_header_size(TEST_HEADER_MAX + 1);
	exchange_raw(port, raw, TEST_HEADER_MAX + 1, &r);
	assert_error(&r, 431, "headers_too_large");
	assert_non_null(reply_header(&r, "Cache-Control", v, sizeof(v)));
	reply_free(&r);
	free(raw);

	/* Far over: the daemon's memory pool overflows and it answers 431
	 * itself (an HTML page); still 431, still nothing more read. */
	raw = get_with_header_size(64 * 1024);
	exchange_raw(port, raw, 64 * 1024, &r);
	assert_int_equal(r.status, 431);
	reply_free(&r);
	free(raw);
}

/* ---- JSON bodies ---- */

static void
test_malformed_json_never_quoted(void **state)
{
	static const char *const bodies[] = {
	        "{\"card\":\"4111111111111111\"", /* truncated */
	        "{\"card\":4111111111111111x}",   /* bad token */
	        ("{\"card\":\"4111\xff\xfe"
	         "111111111111\"}"),                      /* bad UTF-8 */
	        "{\"card\":\"4111\\u0000111111111111\"}", /* \u0000 */
	        "\"4111111111111111\"",                   /* not an object */
	        "{\"a\":1} 4111111111111111",             /* trailing data */
	        "",                                       /* empty */
	};
	char m[VAERN_MSG_MAX];

	(void)state;
	for (size_t i = 0; i < N_ELEMS(bodies); i++) {
		struct reply r;

		request(port, "POST", "/v1/subjects/s1/facts",
		        "Content-Type: application/json\r\n", bodies[i], &r);
		assert_error(&r, 400, "bad_request");
		error_message(&r, m, sizeof(m));
		assert_null(strstr(m, "4111"));
		assert_null(strstr(r.raw, "4111"));
		assert_true(strstr(m, "JSON") != NULL ||
		            strstr(m, "empty") != NULL);
		reply_free(&r);
	}
}

static void
test_duplicate_keys(void **state)
{
	struct reply r;
	char m[VAERN_MSG_MAX];

	(void)state;
	request(port, "POST", "/v1/subjects/s1/facts",
	        "Content-Type: application/json\r\n",
	        "{\"role\":\"clerk\",\"role\":\"admin\"}", &r);
	assert_error(&r, 400, "bad_request");
	assert_non_null(strstr(error_message(&r, m, sizeof(m)),
	                       "duplicate object key"));
	assert_null(strstr(m, "role"));
	reply_free(&r);
}

static void
test_content_type(void **state)
{
	static const struct {
		const char *headers; /* extra header lines */
		int status;          /* expected */
	} cases[] = {
	        {"Content-Type: application/json\r\n", 201},
	        {"Content-Type: application/json; charset=utf-8\r\n", 201},
	        {"Content-Type: Application/JSON\r\n", 201},
	        {"Content-Type: text/plain\r\n", 415},
	        {"Content-Type: application/jsonx\r\n", 415},
	        {"Content-Type: application/x-www-form-urlencoded\r\n", 415},
	        {NULL, 415},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct reply r;

		request(port, "POST", "/v1/subjects/s1/facts", cases[i].headers,
		        "{\"a\":1}", &r);
		if (cases[i].status == 415)
			assert_error(&r, 415, "unsupported_media_type");
		else
			assert_int_equal(r.status, cases[i].status);
		reply_free(&r);
	}
}

/* ---- path and query decoding ---- */

static void
test_path_params(void **state)
{
	char long_ok[300], long_bad[300];
	const struct {
		const char *segment; /* the raw {id} segment */
		const char *decoded; /* expected value, NULL: 400 */
	} cases[] = {
	        {"s1", "s1"},
	        {"ab%20c", "ab c"},
	        {"a+b", "a+b"}, /* '+' is literal in a path */
	        {"%C3%A6%C3%B8%C3%A5", "\xc3\xa6\xc3\xb8\xc3\xa5"},
	        {"a%2Fb", "a/b"}, /* decoded after routing */
	        {"%f0%9f%94%92", "\xf0\x9f\x94\x92"},
	        {long_ok, NULL},     /* set below */
	        {"%00", NULL},       /* NUL */
	        {"a%0Ab", NULL},     /* control character */
	        {"%FF", NULL},       /* not UTF-8 */
	        {"%C0%AF", NULL},    /* overlong '/' */
	        {"%ED%A0%80", NULL}, /* surrogate */
	        {"%zz", NULL},       /* bad escape */
	        {"abc%", NULL},      /* truncated escape */
	        {"abc%4", NULL},
	        {long_bad, NULL}, /* 257 bytes decoded */
	};

	(void)state;
	memset(long_ok, 'k', HTTP_PARAM_MAX);
	long_ok[HTTP_PARAM_MAX] = '\0';
	memset(long_bad, 'k', HTTP_PARAM_MAX + 1);
	long_bad[HTTP_PARAM_MAX + 1] = '\0';
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		char path[512];
		const char *want = cases[i].segment == long_ok
		                           ? long_ok
		                           : cases[i].decoded;
		struct reply r;

		(void)snprintf(path, sizeof(path), "/v1/subjects/%s/facts",
		               cases[i].segment);
		request(port, "GET", path, NULL, NULL, &r);
		if (want != NULL) {
			json_t *doc;

			assert_int_equal(r.status, 200);
			doc = reply_json(&r);
			assert_string_equal(
			        json_string_value(json_object_get(doc, "id")),
			        want);
			json_decref(doc);
		} else {
			char m[VAERN_MSG_MAX];

			assert_error(&r, 400, "bad_request");
			error_message(&r, m, sizeof(m));
			assert_non_null(strstr(m, "{id}"));
			assert_null(strstr(m, "%"));
		}
		reply_free(&r);
	}
}

static void
test_query_params(void **state)
{
	static const struct {
		const char *query;   /* after '?' */
		const char *purpose; /* expected, NULL: absent; "400": 400 */
	} cases[] = {
	        {"purpose=billing", "billing"},
	        {"purpose=a+b%2Bc", "a b+c"},
	        {"x=1&purpose=%C3%A6&purpose=second", "\xc3\xa6"},
	        {"purpose", ""},
	        {"purpose=", ""},
	        {"other=1", NULL},
	        {"&&=v&purpose=ok", "ok"},
	        {"purpose=%FF", "400"},
	        {"purpose=%00", "400"},
	        {"purpose=%G1", "400"},
	        {"%FF=1", "400"},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		char path[256];
		struct reply r;

		(void)snprintf(path, sizeof(path), "/v1/subjects/s1/facts?%s",
		               cases[i].query);
		request(port, "GET", path, NULL, NULL, &r);
		if (cases[i].purpose != NULL &&
		    strcmp(cases[i].purpose, "400") == 0) {
			assert_error(&r, 400, "bad_request");
		} else {
			json_t *doc;
			const char *got;

			assert_int_equal(r.status, 200);
			doc = reply_json(&r);
			got = json_string_value(
			        json_object_get(doc, "purpose"));
			if (cases[i].purpose == NULL)
				assert_null(got);
			else
				assert_string_equal(got, cases[i].purpose);
			json_decref(doc);
		}
		reply_free(&r);
	}
}

static void
test_query_count_limit(void **state)
{
	char path[1024];
	size_t n;
	struct reply r;

	(void)state;
	n = (size_t)snprintf(path, sizeof(path), "/v1/subjects/s1/facts?");
	for (int i = 0; i <= HTTP_QUERY_MAX; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "k%d=v&", i);
	/* Issue 12: refused as too long a URI before the daemon records
	 * the parameters (1,000 of them went unanswered). */
	request(port, "GET", path, NULL, NULL, &r);
	assert_error(&r, 414, "uri_too_long");
	reply_free(&r);
}

/* ---- built-in routes ---- */

static void
test_healthz(void **state)
{
	struct reply r;
	char v[64];

	(void)state;
	request(port, "GET", "/healthz", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"status\":\"ok\"}");
	reply_free(&r);

	request(port, "HEAD", "/healthz", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "");
	assert_string_equal(reply_header(&r, "Content-Length", v, sizeof(v)),
	                    "15");
	reply_free(&r);
}

static void
test_metrics(void **state)
{
	static const char *const want[] = {
	        "# TYPE vaern_http_requests_total counter\n",
	        "vaern_http_requests_total{route=\"facts.get\",status=\"200\"}"
	        " ",
	        "vaern_http_requests_total{route=\"facts.post\",status=\"415\"}"
	        " ",
	        "vaern_http_requests_total{route=\"unmatched\",status=\"404\"}"
	        " ",
	        "vaern_http_requests_total{route=\"unmatched\",status=\"405\"}"
	        " ",
	        "vaern_http_requests_total{route=\"healthz\",status=\"200\"} ",
	        "# TYPE vaern_http_request_duration_seconds histogram\n",
	        "vaern_http_request_duration_seconds_bucket{route=\"facts."
	        "get\","
	        "le=\"0.0005\"} ",
	        "vaern_http_request_duration_seconds_bucket{route=\"facts."
	        "get\","
	        "le=\"5\"} ",
	        "vaern_http_request_duration_seconds_bucket{route=\"facts."
	        "get\","
	        "le=\"+Inf\"} 3\n",
	        "vaern_http_request_duration_seconds_count{route=\"facts.get\"}"
	        " 3\n",
	        "vaern_http_request_duration_seconds_sum{route=\"facts.get\"} ",
	        "vaern_http_requests_in_flight 1\n",
	        "vaern_gate_decisions_total{outcome=\"allow\"} 7\n",
	};
	struct http_config cfg = test_config();
	struct http_server *srv = start(&cfg);
	uint16_t p = http_server_port(srv);
	struct reply r;
	char v[128];

	(void)state;
	/* A fresh server, so the counts are exact. */
	for (int i = 0; i < 3; i++) {
		request(p, "GET", "/v1/subjects/s1/facts", NULL, NULL, &r);
		reply_free(&r);
	}
	request(p, "POST", "/v1/subjects/s1/facts", NULL, "{}", &r);
	reply_free(&r);
	request(p, "GET", "/nope", NULL, NULL, &r);
	reply_free(&r);
	request(p, "PUT", "/healthz", NULL, NULL, &r);
	reply_free(&r);
	request(p, "GET", "/healthz", NULL, NULL, &r);
	reply_free(&r);

	request(p, "GET", "/metrics", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(reply_header(&r, "Content-Type", v, sizeof(v)),
	                    "text/plain; version=0.0.4; charset=utf-8");
	for (size_t i = 0; i < N_ELEMS(want); i++)
		if (strstr(r.body, want[i]) == NULL)
			fail_msg("/metrics lacks: %s\n---\n%s", want[i],
			         r.body);
	assert_non_null(strstr(r.body, "vaern_http_requests_total{route="
	                               "\"facts.get\",status=\"200\"} 3\n"));
	/* Nothing from a request in the output: no paths, no queries. */
	assert_null(strstr(r.body, "/v1/"));
	assert_null(strstr(r.body, "s1"));
	reply_free(&r);
	http_server_stop(srv);
}

static void
test_log_has_no_request_data(void **state)
{
	struct reply r;

	(void)state;
	pthread_mutex_lock(&log_lock);
	log_len = 0;
	log_text[0] = '\0';
	pthread_mutex_unlock(&log_lock);
	request(port, "GET", "/v1/subjects/subject-secret/facts?email=a@b.dk",
	        "Authorization: Bearer tok-secret\r\n", NULL, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	request(port, "BREW", "/coffee-secret", NULL, NULL, &r);
	reply_free(&r);
	pthread_mutex_lock(&log_lock);
	assert_non_null(strstr(log_text, "GET facts.get 200\n"));
	assert_non_null(strstr(log_text, "OTHER unmatched 404\n"));
	assert_null(strstr(log_text, "secret"));
	assert_null(strstr(log_text, "a@b.dk"));
	pthread_mutex_unlock(&log_lock);
}

/* ---- configuration ---- */

/* AURA-SEC-1: plain HTTP only on loopback, unless insecure. */
static void
test_aura_sec_1_listen_rules(void **state)
{
	static const struct {
		const char *listen;  /* the address */
		int insecure;        /* the flag */
		enum vaern_err want; /* the outcome */
	} cases[] = {
	        /* AURA-SEC-1: plain HTTP only on loopback, or insecure. */
	        {"0.0.0.0:0", 0, VAERN_E_DENIED},
	        {"[::]:0", 0, VAERN_E_DENIED},
	        {"192.0.2.1:8080", 0, VAERN_E_DENIED},
	        {"0.0.0.0:0", 1, VAERN_OK},
	        {"127.0.0.1:0", 0, VAERN_OK},
	        {"127.1.2.3:0", 0, VAERN_OK},
	        /* malformed */
	        {"localhost:8080", 0, VAERN_E_INVALID},
	        {"127.0.0.1", 0, VAERN_E_INVALID},
	        {"127.0.0.1:", 0, VAERN_E_INVALID},
	        {"127.0.0.1:65536", 0, VAERN_E_INVALID},
	        {"127.0.0.1:-1", 0, VAERN_E_INVALID},
	        {"127.0.0.1:80x", 0, VAERN_E_INVALID},
	        {"::1:8080", 0, VAERN_E_INVALID},
	        {"[::1]8080", 0, VAERN_E_INVALID},
	        {"[::1:8080", 0, VAERN_E_INVALID},
	        {":8080", 0, VAERN_E_INVALID},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct http_config cfg = test_config();
		struct vaern_msg msg = {{0}};
		struct http_server *srv = (struct http_server *)&msg;
		enum vaern_err err;

		cfg.listen = cases[i].listen;
		cfg.insecure = cases[i].insecure;
		err = http_server_start(&cfg, test_routes, N_ELEMS(test_routes),
		                        NULL, &srv, &msg);
		if (err != cases[i].want)
			fail_msg("%s: got %s (%s)", cases[i].listen,
			         vaern_strerror(err), msg.text);
		if (err == VAERN_OK) {
			assert_true(http_server_port(srv) != 0);
			http_server_stop(srv);
			continue;
		}
		assert_null(srv);
		if (err == VAERN_E_DENIED) {
			assert_non_null(strstr(msg.text, "AURA-SEC-1"));
			assert_non_null(strstr(msg.text, "tls_cert"));
		}
	}
}

static void
test_ipv6_loopback(void **state)
{
	struct http_config cfg = test_config();
	struct vaern_msg msg = {{0}};
	struct http_server *srv = NULL;
	enum vaern_err err;

	(void)state;
	cfg.listen = "[::1]:0";
	err = http_server_start(&cfg, test_routes, N_ELEMS(test_routes), NULL,
	                        &srv, &msg);
	if (err == VAERN_E_IO && strstr(msg.text, "address") != NULL)
		skip(); /* no IPv6 on this host */
	assert_int_equal(err, VAERN_OK);
	assert_true(http_server_port(srv) != 0);
	http_server_stop(srv);
}

static void
test_config_errors(void **state)
{
	static const struct http_route dup[] = {
	        {"GET", "/a/{id}", facts_get, "a1"},
	        {"GET", "/a/{other}", facts_get, "a2"},
	};
	static const struct http_route bad[][1] = {
	        {{"GET", "a", facts_get, "x"}},
	        {{"GET", "/a/{ID}", facts_get, "x"}},
	        {{"GET", "/a/{id}/{id}", facts_get, "x"}},
	        {{"GET", "/a//b", facts_get, "x"}},
	        {{"GET", "/a/b c", facts_get, "x"}},
	        {{"GET", "/a/{p1}/{p2}/{p3}/{p4}/{p5}/{p6}/{p7}/{p8}/{p9}",
	          facts_get, "x"}},
	        {{"get", "/a", facts_get, "x"}},
	        {{"HEAD", "/a", facts_get, "x"}},
	        {{"GET", "/a", NULL, "x"}},
	        {{"GET", "/a", facts_get, "has space"}},
	        {{"GET", "/a", facts_get, "a\"b"}},
	        {{"GET", "/a", facts_get, "metrics"}},
	        {{"GET", "/a", facts_get, "unmatched"}},
	        {{"GET", "/a", facts_get, ""}},
	};
	struct http_config cfg = test_config();
	struct vaern_msg msg = {{0}};
	struct http_server *srv = NULL;

	(void)state;
	assert_int_equal(http_server_start(&cfg, dup, 2, NULL, &srv, &msg),
	                 VAERN_E_INVALID);
	assert_null(srv);
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		enum vaern_err err =
		        http_server_start(&cfg, bad[i], 1, NULL, &srv, &msg);

		if (err != VAERN_E_INVALID)
			fail_msg("route %zu (%s) accepted", i,
			         bad[i][0].pattern);
		assert_null(srv);
	}
	cfg.tls_cert = "/nonexistent/cert.pem";
	assert_int_equal(
	        http_server_start(&cfg, test_routes, 1, NULL, &srv, &msg),
	        VAERN_E_INVALID);
	cfg.tls_key = "/nonexistent/key.pem";
	assert_int_equal(
	        http_server_start(&cfg, test_routes, 1, NULL, &srv, &msg),
	        VAERN_E_IO);
	cfg = test_config();
	cfg.header_max = 100;
	assert_int_equal(
	        http_server_start(&cfg, test_routes, 1, NULL, &srv, &msg),
	        VAERN_E_INVALID);
	/* The port in use. */
	cfg = test_config();
	{
		char listen[32];

		(void)snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
		cfg.listen = listen;
		assert_int_equal(http_server_start(&cfg, test_routes, 1, NULL,
		                                   &srv, &msg),
		                 VAERN_E_IO);
		assert_non_null(strstr(msg.text, "in use"));
	}
	assert_null(srv);
}

/* ---- TLS ---- */

/* A scratch directory with a self-signed certificate for 127.0.0.1. */
static char tls_dir[64];

static int
have_openssl(void)
{
	return system("command -v openssl >/dev/null 2>&1") == 0;
}

static void
tls_path(char *out, size_t max, const char *file)
{
	(void)snprintf(out, max, "%s/%s", tls_dir, file);
}

static int
make_certificate(void)
{
	char cmd[1024];

	memcpy(tls_dir, "/tmp/vaern-http-XXXXXX", 23);
	if (mkdtemp(tls_dir) == NULL)
		return -1;
	(void)snprintf(cmd, sizeof(cmd),
	               "cd %s && openssl req -x509 -newkey ec -pkeyopt "
	               "ec_paramgen_curve:prime256v1 -nodes -keyout key.pem "
	               "-out cert.pem -days 1 -subj /CN=localhost -addext "
	               "subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 && "
	               "openssl genpkey -algorithm EC -pkeyopt "
	               "ec_paramgen_curve:prime256v1 -out other.pem "
	               ">/dev/null 2>&1",
	               tls_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
remove_certificate(void)
{
	static const char *const files[] = {"key.pem", "cert.pem", "other.pem"};
	char path[128];

	for (size_t i = 0; i < N_ELEMS(files); i++) {
		tls_path(path, sizeof(path), files[i]);
		(void)unlink(path);
	}
	(void)rmdir(tls_dir);
}

/* GET path over TLS with openssl s_client, verifying the certificate;
 * the response goes into r. */
static void
tls_get(uint16_t p, const char *path, struct reply *r)
{
	char cmd[1024], cert[128];
	FILE *f;

	tls_path(cert, sizeof(cert), "cert.pem");
	(void)snprintf(cmd, sizeof(cmd),
	               "printf 'GET %s HTTP/1.1\\r\\nHost: t\\r\\n"
	               "Connection: close\\r\\n\\r\\n' | "
	               "openssl s_client -quiet -verify_return_error "
	               "-CAfile %s -verify_ip 127.0.0.1 "
	               "-connect 127.0.0.1:%u 2>/dev/null",
	               path, cert, p);
	f = popen(cmd, "r");
	assert_non_null(f);
	memset(r, 0, sizeof(*r));
	r->raw = calloc(1, REPLY_MAX + 1);
	assert_non_null(r->raw);
	r->len = fread(r->raw, 1, REPLY_MAX, f);
	(void)pclose(f);
	if (strncmp(r->raw, "HTTP/1.1 ", 9) == 0)
		r->status = (int)strtol(r->raw + 9, NULL, 10);
	r->body = strstr(r->raw, "\r\n\r\n");
	r->body = r->body != NULL ? r->body + 4 : "";
}

/* The number of open file descriptors of this process. */
static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* AURA-SEC-1: the portal is served over TLS. */
static void
test_aura_sec_1_tls(void **state)
{
	struct http_config cfg = test_config();
	struct vaern_msg msg = {{0}};
	struct http_server *srv = NULL;
	char cert[128], key[128], other[128], v[128];
	struct reply r;
	uint16_t p;
	int fds;

	(void)state;
	if (!have_openssl() || make_certificate() != 0)
		skip();
	tls_path(cert, sizeof(cert), "cert.pem");
	tls_path(key, sizeof(key), "key.pem");
	tls_path(other, sizeof(other), "other.pem");

	/* A key that does not match the certificate: refused, and nothing
	 * left open (the listening socket is not leaked). */
	cfg.tls_cert = cert;
	cfg.tls_key = other;
	fds = open_fds();
	assert_int_equal(http_server_start(&cfg, test_routes,
	                                   N_ELEMS(test_routes), NULL, &srv,
	                                   &msg),
	                 VAERN_E_IO);
	assert_null(srv);
	assert_int_equal(open_fds(), fds);

	/* TLS on a non-loopback address needs no insecure flag. */
	cfg.listen = "0.0.0.0:0";
	cfg.tls_key = key;
	assert_int_equal(http_server_start(&cfg, test_routes,
	                                   N_ELEMS(test_routes), NULL, &srv,
	                                   &msg),
	                 VAERN_OK);
	http_server_stop(srv);

	cfg.listen = "127.0.0.1:0";
	srv = start(&cfg);
	p = http_server_port(srv);
	/* Several handshakes: the key stays with the daemon after the
	 * module wiped its copy. */
	for (int i = 0; i < 3; i++) {
		tls_get(p, "/healthz", &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, "{\"status\":\"ok\"}");
		assert_string_equal(reply_header(&r,
		                                 "Strict-Transport-Security", v,
		                                 sizeof(v)),
		                    "max-age=31536000");
		reply_free(&r);
	}
	tls_get(p, "/page", &r);
	assert_string_equal(r.body, "<p>tls</p>");
	reply_free(&r);
	/* Plain HTTP to the TLS port gets no HTTP answer. */
	request(p, "GET", "/healthz", NULL, NULL, &r);
	assert_int_equal(r.status, 0);
	reply_free(&r);
	http_server_stop(srv);
	remove_certificate();
}

/* ---- connections ---- */

/* Sends a GET on fd and expects the connection closed unanswered. */
static void
assert_unanswered(int fd)
{
	static const char get[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n"
	                          "Connection: close\r\n\r\n";
	struct reply r;

	send_all(fd, get, sizeof(get) - 1);
	read_reply(fd, &r);
	assert_int_equal(r.status, 0);
	reply_free(&r);
}

static void
test_connection_limits(void **state)
{
	struct http_config cfg = test_config();
	struct http_server *srv;
	struct reply r;
	int a, b, c;

	(void)state;
	cfg.per_ip_max = 2;
	srv = start(&cfg);
	a = connect_to(http_server_port(srv));
	b = connect_to(http_server_port(srv));
	assert_true(a >= 0 && b >= 0);
	usleep(100000); /* let the daemon accept both */
	/* Issue 12: the third from the same address closes that address's
	 * connection that has waited longest (a), and is served. */
	request(http_server_port(srv), "GET", "/healthz", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_unanswered(a);
	c = b;
	close(a);
	close(c);
	usleep(100000);
	request(http_server_port(srv), "GET", "/healthz", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	http_server_stop(srv);

	/* Issue 12: past the global limit the connection that has waited
	 * longest for its request's headers (here the idle a) is closed, and
	 * the newcomer is served. */
	cfg = test_config();
	cfg.threads = 1;
	cfg.connections_max = 1;
	srv = start(&cfg);
	a = connect_to(http_server_port(srv));
	assert_true(a >= 0);
	usleep(100000);
	request(http_server_port(srv), "GET", "/healthz", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_unanswered(a);
	close(a);
	http_server_stop(srv);
}

static void
test_idle_timeout(void **state)
{
	struct http_config cfg = test_config();
	struct http_server *srv;
	struct timespec t0, t1;
	char buf[16];
	int fd;

	(void)state;
	cfg.timeout_s = 1;
	srv = start(&cfg);
	fd = connect_to(http_server_port(srv));
	assert_true(fd >= 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_true(recv(fd, buf, sizeof(buf), 0) <= 0); /* closed by server */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 4);
	close(fd);
	http_server_stop(srv);
}

/* ---- stopping ---- */

struct client_job {
	uint16_t port;    /* where to send */
	const char *path; /* what to GET */
	struct reply r;   /* the reply */
};

static void *
client_thread(void *arg)
{
	struct client_job *job = arg;

	request(job->port, "GET", job->path, NULL, NULL, &job->r);
	return NULL;
}

static void *
stop_thread(void *arg)
{
	http_server_stop(arg);
	return NULL;
}

static void
test_stop_drains(void **state)
{
	struct http_config cfg = test_config();
	struct http_server *srv;
	struct client_job job = {0};
	pthread_t client, stopper;
	char v[64];
	uint16_t p;
	int refused = 0;

	(void)state;
	srv = start(&cfg);
	p = http_server_port(srv);
	atomic_store(&slow_started, 0);
	atomic_store(&slow_release, 0);
	job.port = p;
	job.path = "/slow";
	assert_int_equal(pthread_create(&client, NULL, client_thread, &job), 0);
	for (int i = 0; i < 2000 && !atomic_load(&slow_started); i++)
		usleep(1000);
	assert_true(atomic_load(&slow_started));

	assert_int_equal(pthread_create(&stopper, NULL, stop_thread, srv), 0);
	/* While draining, new connections are refused at once. */
	for (int i = 0; i < 2000 && !refused; i++) {
		int fd = connect_to(p);

		if (fd < 0 && errno == ECONNREFUSED)
			refused = 1;
		else if (fd >= 0)
			close(fd);
		usleep(1000);
	}
	assert_true(refused);

	/* The request in flight still gets its answer, then the stop ends. */
	atomic_store(&slow_release, 1);
	pthread_join(client, NULL);
	assert_int_equal(job.r.status, 200);
	assert_string_equal(job.r.body, "done");
	assert_string_equal(reply_header(&job.r, "Connection", v, sizeof(v)),
	                    "close");
	reply_free(&job.r);
	pthread_join(stopper, NULL);
}

static void *
signal_thread(void *arg)
{
	(void)arg;
	usleep(100000);
	kill(getpid(), SIGTERM);
	return NULL;
}

static void
test_run_until_signal(void **state)
{
	struct http_config cfg = test_config();
	struct http_server *srv;
	sigset_t set;
	pthread_t t;
	uint16_t p;
	struct reply r;

	(void)state;
	cfg.signals = 1;
	srv = start(&cfg);
	p = http_server_port(srv);
	request(p, "GET", "/healthz", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	/* Started after the server, so it inherits the blocked mask. */
	assert_int_equal(pthread_create(&t, NULL, signal_thread, NULL), 0);
	assert_int_equal(http_server_run_until_signal(srv), SIGTERM);
	pthread_join(t, NULL);
	/* Stopped already: nothing listens; stop now only frees. */
	assert_true(connect_to(p) < 0);
	assert_int_equal(http_server_port(srv), p);
	http_server_stop(srv);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static void
test_stop_null(void **state)
{
	(void)state;
	http_server_stop(NULL);
}

/* ---- deferred responses ---- */

/* A GET in a thread of its own, with a flag set once answered. */
struct held_job {
	struct client_job job; /* the request and its reply */
	pthread_t thread;
	atomic_int answered; /* 1 once the reply is in */
};

static void *
held_thread(void *arg)
{
	struct held_job *h = arg;

	request(h->job.port, "GET", h->job.path, NULL, NULL, &h->job.r);
	atomic_store(&h->answered, 1);
	return NULL;
}

static void
held_start(struct held_job *h, uint16_t p, const char *path)
{
	memset(h, 0, sizeof(*h));
	h->job.port = p;
	h->job.path = path;
	assert_int_equal(pthread_create(&h->thread, NULL, held_thread, h), 0);
}

/*
 * A held response goes out when its hold is released from another
 * thread, and meanwhile the only worker serves other requests: the
 * handler returned, nothing waits on a thread.
 */
static void
test_deferred_worker_stays_free(void **state)
{
	struct http_config cfg = test_config();
	struct http_server *srv;
	struct held_job h;
	struct reply r;
	char v[64];

	(void)state;
	cfg.threads = 1;
	srv = start(&cfg);
	later_reset();
	held_start(&h, http_server_port(srv), "/later");
	later_wait(1);
	for (int i = 0; i < 3; i++) {
		request(http_server_port(srv), "GET", "/healthz", NULL, NULL,
		        &r);
		assert_int_equal(r.status, 200);
		reply_free(&r);
	}
	assert_false(atomic_load(&h.answered));
	later_release_one(0);
	pthread_join(h.thread, NULL);
	assert_int_equal(h.job.r.status, 200);
	assert_string_equal(h.job.r.body, "held answer");
	/* The security headers of any response. */
	assert_string_equal(
	        reply_header(&h.job.r, "Cache-Control", v, sizeof(v)),
	        "no-store");
	reply_free(&h.job.r);
	assert_int_equal(atomic_load(&later.finished), 1);
	http_server_stop(srv);
}

/* Issue 12: a connection whose request is being answered is never closed
 * to make room; a newcomer with nothing to take the place of is refused,
 * past per_ip_max and past connections_max alike. */
static void
test_limits_spare_served(void **state)
{
	struct http_config cfg = test_config();
	struct http_server *srv;
	struct held_job h;
	struct reply r;
	int c;

	(void)state;
	for (int global = 0; global < 2; global++) {
		cfg = test_config();
		if (global)
			cfg.connections_max = 1;
		else
			cfg.per_ip_max = 1;
		srv = start(&cfg);
		later_reset();
		held_start(&h, http_server_port(srv), "/later");
		later_wait(1);
		c = connect_to(http_server_port(srv));
		if (c >= 0) {
			assert_unanswered(c);
			close(c);
		}
		later_release_one(0);
		pthread_join(h.thread, NULL);
		assert_int_equal(h.job.r.status, 200);
		reply_free(&h.job.r);
		usleep(100000);
		request(http_server_port(srv), "GET", "/healthz", NULL, NULL,
		        &r);
		assert_int_equal(r.status, 200);
		reply_free(&r);
		http_server_stop(srv);
	}
}

/* Several holds: the answer waits for the last; the finish callbacks
 * may set it; a hold released inside the handler costs nothing. */
static void
test_deferred_several_holds_and_finish(void **state)
{
	struct held_job h;
	struct reply r;

	(void)state;
	later_reset();
	held_start(&h, port, "/later?holds=3&finish=1");
	later_wait(3);
	later_release_one(0);
	later_release_one(0);
	usleep(50000);
	assert_false(atomic_load(&h.answered));
	later_release_one(0);
	pthread_join(h.thread, NULL);
	assert_int_equal(h.job.r.status, 201);
	assert_string_equal(h.job.r.body, "from finish");
	reply_free(&h.job.r);
	assert_int_equal(atomic_load(&later.finished), 3);

	request(port, "GET", "/later-now", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "released at once");
	reply_free(&r);
}

/* A failed hold replaces the response (its body never goes out) with
 * the error it names; a handler that fails with a hold answers 500. */
static void
test_deferred_failure_replaces_body(void **state)
{
	struct held_job h;
	char m[128];

	(void)state;
	later_reset();
	held_start(&h, port, "/later?holds=2");
	later_wait(2);
	later_release_one(1);
	later_release_one(0);
	pthread_join(h.thread, NULL);
	assert_error(&h.job.r, 503, "unavailable");
	assert_string_equal(error_message(&h.job.r, m, sizeof(m)),
	                    "the log is down");
	assert_null(strstr(h.job.r.raw, "held answer"));
	reply_free(&h.job.r);

	held_start(&h, port, "/later-broken");
	later_wait(1);
	later_release_one(0);
	pthread_join(h.thread, NULL);
	assert_error(&h.job.r, 500, "internal_error");
	assert_null(strstr(h.job.r.raw, "half-done"));
	reply_free(&h.job.r);
}

/*
 * A client that goes away while its response is held: the daemon
 * notices once the hold is released; the finish callback still runs (its
 * argument would leak otherwise) and the server goes on (ASan: nothing
 * used after free).
 */
static void
test_deferred_client_gone(void **state)
{
	static const char raw[] =
	        "GET /later?finish=1 HTTP/1.1\r\nHost: t\r\n\r\n";
	struct reply r;
	int fd;

	(void)state;
	later_reset();
	fd = connect_to(port);
	assert_true(fd >= 0);
	send_all(fd, raw, sizeof(raw) - 1);
	later_wait(1);
	close(fd);
	usleep(20000);
	later_release_one(0);
	for (int i = 0; i < 5000 && atomic_load(&later.finished) < 1; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&later.finished), 1);
	request(port, "GET", "/healthz", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

/* http_server_stop waits for a held response (it cannot drop a parked
 * connection), which still goes out, with Connection: close. */
static void
test_deferred_stop_waits_for_holds(void **state)
{
	struct http_config cfg = test_config();
	struct http_server *srv;
	struct held_job h;
	pthread_t stopper;
	char v[64];

	(void)state;
	srv = start(&cfg);
	later_reset();
	held_start(&h, http_server_port(srv), "/later");
	later_wait(1);
	assert_int_equal(pthread_create(&stopper, NULL, stop_thread, srv), 0);
	usleep(100000);
	assert_false(atomic_load(&h.answered));
	later_release_one(0);
	pthread_join(h.thread, NULL);
	assert_int_equal(h.job.r.status, 200);
	assert_string_equal(h.job.r.body, "held answer");
	assert_string_equal(reply_header(&h.job.r, "Connection", v, sizeof(v)),
	                    "close");
	reply_free(&h.job.r);
	pthread_join(stopper, NULL);
}

/* What the helper thread of the SIGTERM test saw. */
struct drain_probe {
	int keep;       /* a connection opened before the signal */
	struct reply r; /* the reply to a request on it past the deadline */
};

static void *
drain_probe_thread(void *arg)
{
	static const char raw[] = "GET /later HTTP/1.1\r\nHost: t\r\n\r\n";
	struct drain_probe *d = arg;

	usleep(50000);
	kill(getpid(), SIGTERM);
	/* Past the drain deadline (100 ms) with the first response still
	 * held: a new request gets no hold and is answered in place. */
	usleep(300000);
	send_all(d->keep, raw, sizeof(raw) - 1);
	read_reply(d->keep, &d->r);
	later_release_one(0);
	return NULL;
}

/*
 * SIGTERM with a response held past the drain deadline: the drain waits
 * for the hold (the held request is answered, with Connection: close),
 * a request that arrives meanwhile on an open connection gets no hold
 * (its handler waits in place instead), and then the server stops.
 */
static void
test_deferred_sigterm_drain(void **state)
{
	struct http_config cfg = test_config();
	struct http_server *srv;
	struct drain_probe d;
	struct held_job h;
	sigset_t set;
	pthread_t t;
	uint16_t p;

	(void)state;
	cfg.signals = 1;
	cfg.drain_ms = 100;
	srv = start(&cfg);
	p = http_server_port(srv);
	later_reset();
	memset(&d, 0, sizeof(d));
	d.keep = connect_to(p);
	assert_true(d.keep >= 0);
	usleep(100000); /* accepted before the stop */
	held_start(&h, p, "/later");
	later_wait(1);
	assert_int_equal(pthread_create(&t, NULL, drain_probe_thread, &d), 0);
	assert_int_equal(http_server_run_until_signal(srv), SIGTERM);
	pthread_join(t, NULL);
	pthread_join(h.thread, NULL);
	assert_int_equal(h.job.r.status, 200);
	assert_string_equal(h.job.r.body, "held answer");
	assert_int_equal(d.r.status, 200);
	assert_string_equal(d.r.body, "not held");
	assert_int_equal(atomic_load(&later.refused), 1);
	reply_free(&h.job.r);
	reply_free(&d.r);
	close(d.keep);
	assert_true(connect_to(p) < 0);
	http_server_stop(srv);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* At most HTTP_PENDING_MAX holds per response: one more is refused
 * (NULL), and the handler answers without it. */
static void
test_deferred_hold_limit(void **state)
{
	struct held_job h;

	(void)state;
	later_reset();
	held_start(&h, port, "/later?holds=9");
	later_wait(HTTP_PENDING_MAX);
	assert_int_equal(atomic_load(&later.refused), 1);
	for (int i = 0; i < HTTP_PENDING_MAX; i++)
		later_release_one(0);
	pthread_join(h.thread, NULL);
	assert_int_equal(h.job.r.status, 200);
	assert_string_equal(h.job.r.body, "not held");
	reply_free(&h.job.r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_json_round_trip),
	        cmocka_unit_test(test_not_found),
	        cmocka_unit_test(test_method_not_allowed),
	        cmocka_unit_test(test_refusal_keeps_connection),
	        cmocka_unit_test(test_handler_failure_is_500),
	        cmocka_unit_test(test_handler_headers),
	        cmocka_unit_test(test_body_limit_content_length),
	        cmocka_unit_test(test_body_rule),
	        cmocka_unit_test(test_body_limit_chunked),
	        cmocka_unit_test(test_header_limit),
	        cmocka_unit_test(test_malformed_json_never_quoted),
	        cmocka_unit_test(test_duplicate_keys),
	        cmocka_unit_test(test_content_type),
	        cmocka_unit_test(test_path_params),
	        cmocka_unit_test(test_query_params),
	        cmocka_unit_test(test_query_count_limit),
	        cmocka_unit_test(test_healthz),
	        cmocka_unit_test(test_metrics),
	        cmocka_unit_test(test_log_has_no_request_data),
	        cmocka_unit_test(test_aura_sec_1_listen_rules),
	        cmocka_unit_test(test_ipv6_loopback),
	        cmocka_unit_test(test_config_errors),
	        cmocka_unit_test(test_aura_sec_1_tls),
	        cmocka_unit_test(test_connection_limits),
	        cmocka_unit_test(test_idle_timeout),
	        cmocka_unit_test(test_stop_drains),
	        cmocka_unit_test(test_run_until_signal),
	        cmocka_unit_test(test_stop_null),
	        cmocka_unit_test(test_deferred_worker_stays_free),
	        cmocka_unit_test(test_limits_spare_served),
	        cmocka_unit_test(test_deferred_several_holds_and_finish),
	        cmocka_unit_test(test_deferred_failure_replaces_body),
	        cmocka_unit_test(test_deferred_client_gone),
	        cmocka_unit_test(test_deferred_stop_waits_for_holds),
	        cmocka_unit_test(test_deferred_sigterm_drain),
	        cmocka_unit_test(test_deferred_hold_limit),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
