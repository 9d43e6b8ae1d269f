/*
 * metrics.c -- request counters and the latency histogram, and the two
 * built-in routes: GET /healthz and GET /metrics (Prometheus text format,
 * DESIGN.md "Surfaces").
 *
 * Counters are relaxed atomics in a table fixed at start: recording a
 * request takes no lock. A scrape reads each counter once, so it may see
 * a request in one series and not yet in another; Prometheus tolerates
 * that. Labels are route names checked at start and status numbers:
 * nothing from a request reaches this output.
 */
#include "http_impl.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

const double http_bucket_bounds[HTTP_BUCKETS] = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
        0.1,    0.25,  0.5,    1,     2.5,  5,
};

/* The same bounds in nanoseconds, for the hot path. */
static const uint64_t bucket_ns[HTTP_BUCKETS] = {
        500000,     1000000,    2500000,    5000000,   10000000,
        25000000,   50000000,   100000000,  250000000, 500000000,
        1000000000, 2500000000, 5000000000,
};

void
metrics_record(struct http_server *srv, size_t route, int status, uint64_t ns)
{
	struct route_stats *st;
	size_t b = 0;

	assert(route <= srv->nroutes); /* nroutes: the unmatched slot */
	st = &srv->stats[route];

	if (status < HTTP_STATUS_MIN || status > HTTP_STATUS_MAX)
		return; /* no response was sent */
	atomic_fetch_add_explicit(&st->status[status - HTTP_STATUS_MIN], 1,
	                          memory_order_relaxed);
	while (b < HTTP_BUCKETS && ns > bucket_ns[b])
		b++;
	atomic_fetch_add_explicit(&st->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->sum_ns, ns, memory_order_relaxed);
}

int
metrics_healthz(struct http_request *req, struct http_response *res, void *app)
{
	struct http_server *srv = app;
	char reason[128] = "";

	(void)req;
	/* A draining server says so, so a load balancer stops sending. */
	if (atomic_load(&srv->draining))
		return http_respond_json(
		        res, MHD_HTTP_SERVICE_UNAVAILABLE,
		        json_pack("{s:s}", "status", "draining"));
	/* So does one whose store is down (issue 14): not ready until it
	 * answers again. */
	if (srv->ready != NULL && !srv->ready(srv->app, reason, sizeof(reason)))
		return http_respond_json(res, MHD_HTTP_SERVICE_UNAVAILABLE,
		                         json_pack("{s:s, s:s}", "status",
		                                   "unavailable", "reason",
		                                   reason));
	return http_respond_json(res, MHD_HTTP_OK,
	                         json_pack("{s:s}", "status", "ok"));
}

static const char *
route_label(const struct http_server *srv, size_t r)
{
	return r < srv->nroutes ? srv->routes[r].name : HTTP_UNMATCHED;
}

static void
render_counters(const struct http_server *srv, struct http_buf *b)
{
	(void)http_buf_printf(b, "# HELP vaern_http_requests_total HTTP "
	                         "requests answered, by route and status.\n"
	                         "# TYPE vaern_http_requests_total counter\n");
	for (size_t r = 0; r <= srv->nroutes; r++) {
		const struct route_stats *st = &srv->stats[r];

		for (int s = 0; s < HTTP_STATUS_SLOTS; s++) {
			uint64_t v = atomic_load_explicit(&st->status[s],
			                                  memory_order_relaxed);

			if (v == 0)
				continue;
			(void)http_buf_printf(
			        b,
			        "vaern_http_requests_total{route=\"%s\","
			        "status=\"%d\"} %" PRIu64 "\n",
			        route_label(srv, r), s + HTTP_STATUS_MIN, v);
		}
	}
}

static void
render_histogram(const struct http_server *srv, struct http_buf *b)
{
	(void)http_buf_printf(b, "# HELP vaern_http_request_duration_seconds "
	                         "Time from the end of the request headers "
	                         "to the end of the response.\n"
	                         "# TYPE vaern_http_request_duration_seconds "
	                         "histogram\n");
	for (size_t r = 0; r <= srv->nroutes; r++) {
		const struct route_stats *st = &srv->stats[r];
		const char *label = route_label(srv, r);
		uint64_t cumulative = 0;

		for (size_t k = 0; k <= HTTP_BUCKETS; k++) {
			cumulative += atomic_load_explicit(
			        &st->bucket[k], memory_order_relaxed);
			if (k < HTTP_BUCKETS)
				(void)http_buf_printf(
				        b,
				        "vaern_http_request_duration_seconds_"
				        "bucket{route=\"%s\",le=\"%g\"} "
				        "%" PRIu64 "\n",
				        label, http_bucket_bounds[k],
				        cumulative);
			else
				(void)http_buf_printf(
				        b,
				        "vaern_http_request_duration_seconds_"
				        "bucket{route=\"%s\",le=\"+Inf\"} "
				        "%" PRIu64 "\n",
				        label, cumulative);
		}
		(void)http_buf_printf(
		        b,
		        "vaern_http_request_duration_seconds_sum{route=\"%s\"} "
		        "%.9f\n"
		        "vaern_http_request_duration_seconds_count{route=\"%"
		        "s\"}"
		        " %" PRIu64 "\n",
		        label,
		        (double)atomic_load_explicit(&st->sum_ns,
		                                     memory_order_relaxed) /
		                1e9,
		        label, cumulative);
	}
}

int
metrics_render(struct http_request *req, struct http_response *res, void *app)
{
	struct http_server *srv = app;
	struct http_buf b;
	int rc;

	(void)req;
	http_buf_init(&b, HTTP_METRICS_MAX);
	render_counters(srv, &b);
	render_histogram(srv, &b);
	guard_metrics(srv, &b);
	(void)http_buf_printf(&b,
	                      "# HELP vaern_http_requests_in_flight Requests "
	                      "received and not yet answered.\n"
	                      "# TYPE vaern_http_requests_in_flight gauge\n"
	                      "vaern_http_requests_in_flight %u\n",
	                      atomic_load(&srv->in_flight));
	if (srv->metrics_extra != NULL)
		srv->metrics_extra(srv->app, &b);
	if (b.failed)
		rc = http_respond_error(res, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                        "internal_error",
		                        "the metrics did not fit");
	else
		rc = http_respond_body(res, MHD_HTTP_OK,
		                       "text/plain; version=0.0.4; "
		                       "charset=utf-8",
		                       b.data, b.len);
	http_buf_free(&b);
	return rc;
}
