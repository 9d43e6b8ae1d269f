/*
 * webhook.c -- the delivery thread of signed webhooks (issue 19, point 6):
 * see webhook.h. One thread for every endpoint: it scans the deadlines
 * once a minute (vault_webhook_scan), then POSTs each endpoint's next
 * event, acknowledges it on 2xx, and backs off on anything else.
 */
#include "webhook.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../http/http.h"
#include "../store/store_webhook.h"
#include "../vault/vault.h"
#include "smtp.h"

/* The delivery loop's longest sleep: events queued by another process
 * (a `vaern requests add`) are seen within it. */
#define WEBHOOK_POLL_MS 250

/* One endpoint: its URL, its key in the store and its counters. */
struct endpoint {
	char url[WEBHOOK_URL_MAX];
	char key[STORE_WEBHOOK_ENDPOINT_MAX]; /* hex SHA-256 of the URL */
	char label[13];                       /* its first 12 digits */
	unsigned attempts;     /* failed attempts at the event in hand */
	struct timespec retry; /* monotonic: no attempt before */
	/* Under the lock (read by /metrics): */
	uint64_t delivered, failures;
	int64_t pending, last_success; /* unix seconds, 0: never */
};

struct webhook {
	char *data_dir;
	struct endpoint ep[WEBHOOK_ENDPOINTS_MAX];
	size_t nep;
	unsigned char secret[WEBHOOK_SECRET_MAX];
	size_t secret_len;
	long due_within, timeout;
	int log;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop; /* under lock */
};

enum vaern_err
webhook_url_check(const char *url, struct vaern_msg *msg)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL, *user = NULL;
	enum vaern_err err = VAERN_OK;

	if (strlen(url) >= WEBHOOK_URL_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a webhook URL is at most %d bytes",
		                  WEBHOOK_URL_MAX - 1);
	if ((u = curl_url()) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "not a URL (https://HOST[:PORT]/PATH)");
		goto done;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "a webhook URL carries no user or password "
		                 "(the signature authenticates vaern)");
		goto done;
	}
	if (strcmp(scheme, "https") == 0)
		goto done;
	if (strcmp(scheme, "http") != 0 || !smtp_host_loopback(host))
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "a webhook URL must be https:// (http:// only "
		                 "to a loopback address: 127.0.0.0/8, [::1])");
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return err;
}

/* The first line of path into out (at most WEBHOOK_SECRET_MAX bytes). */
static enum vaern_err
secret_read(const char *path, unsigned char *out, size_t *len,
            struct vaern_msg *msg)
{
	char buf[WEBHOOK_SECRET_MAX + 2];
	struct stat sb;
	ssize_t n;
	size_t l = 0;
	int fd;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the webhook secret file cannot be opened");
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & 077) != 0) {
		close(fd);
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the webhook secret file must be a regular "
		                  "file only its owner may read (chmod 600)");
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n > 0) {
		while (l < (size_t)n && buf[l] != '\n' && buf[l] != '\r')
			l++;
	}
	if (l < WEBHOOK_SECRET_MIN || l > WEBHOOK_SECRET_MAX) {
		sodium_memzero(buf, sizeof(buf));
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the webhook secret is the file's first "
		                  "line, %d to %d bytes",
		                  WEBHOOK_SECRET_MIN, WEBHOOK_SECRET_MAX);
	}
	memcpy(out, buf, l);
	*len = l;
	sodium_memzero(buf, sizeof(buf));
	return VAERN_OK;
}

enum vaern_err
webhook_secret_check(const char *path, struct vaern_msg *msg)
{
	unsigned char s[WEBHOOK_SECRET_MAX];
	size_t len;
	enum vaern_err err = secret_read(path, s, &len, msg);

	sodium_memzero(s, sizeof(s));
	return err;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/*
 * POSTs e to ep, signed. Returns the HTTP status (0: no answer) and sets
 * *curl_code.
 */
static long
post(struct webhook *w, const struct endpoint *ep,
     const struct store_webhook_event *e, CURLcode *curl_code)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[2 * sizeof(mac) + 1], t[24], h[4][160];
	struct curl_slist *headers = NULL, *l;
	long status = 0;
	CURL *c;

	(void)snprintf(t, sizeof(t), "%lld", (long long)time(NULL));
	crypto_auth_hmacsha256_init(&st, w->secret, w->secret_len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)t, strlen(t));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)e->body,
	                              strlen(e->body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	(void)snprintf(h[0], sizeof(h[0]), "Vaern-Event-Id: %s", e->eid);
	(void)snprintf(h[1], sizeof(h[1]), "Idempotency-Key: %s", e->eid);
	(void)snprintf(h[2], sizeof(h[2]), "Vaern-Event-Type: %s", e->type);
	(void)snprintf(h[3], sizeof(h[3]), "Vaern-Signature: t=%s,v1=%s", t,
	               hex);
	*curl_code = CURLE_OUT_OF_MEMORY;
	if ((c = curl_easy_init()) == NULL)
		return 0;
	if ((l = curl_slist_append(NULL, "Content-Type: application/json")) ==
	    NULL)
		goto done;
	headers = l;
	for (size_t i = 0; i < 4; i++) {
		if ((l = curl_slist_append(headers, h[i])) == NULL)
			goto done;
		headers = l;
	}
	/* No "Expect: 100-continue" wait. */
	if ((l = curl_slist_append(headers, "Expect:")) == NULL)
		goto done;
	headers = l;
	(void)curl_easy_setopt(c, CURLOPT_URL, ep->url);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT, w->timeout);
	(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, w->timeout);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	(void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, e->body);
	(void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(e->body));
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	(void)curl_easy_setopt(c, CURLOPT_USERAGENT, "vaern-webhook/1");
	*curl_code = curl_easy_perform(c);
	if (*curl_code == CURLE_OK)
		(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
done:
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	sodium_memzero(&st, sizeof(st));
	return status;
}

static int
due(const struct timespec *at)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > at->tv_sec ||
	       (now.tv_sec == at->tv_sec && now.tv_nsec >= at->tv_nsec);
}

/* One attempt at ep's next event: 1 if one was delivered, else 0. */
static int
deliver_one(struct webhook *w, struct vault *v, struct endpoint *ep)
{
	struct store_webhook_event e;
	struct vaern_msg msg = {{0}};
	enum vaern_err err;
	CURLcode cc = CURLE_OK;
	int64_t pending = 0;
	long status;

	if (!due(&ep->retry))
		return 0;
	err = vault_webhook_next(v, ep->key, &e, &pending, &msg);
	pthread_mutex_lock(&w->lock);
	ep->pending = err == VAERN_OK ? pending : 0;
	pthread_mutex_unlock(&w->lock);
	if (err != VAERN_OK)
		return 0;
	status = post(w, ep, &e, &cc);
	if (status >= 200 && status <= 299) {
		if (vault_webhook_ack(v, ep->key, e.id, &msg) != VAERN_OK)
			return 0; /* sent again: the same id */
		ep->attempts = 0;
		pthread_mutex_lock(&w->lock);
		ep->delivered++;
		ep->pending = pending - 1;
		ep->last_success = (int64_t)time(NULL);
		pthread_mutex_unlock(&w->lock);
		return 1;
	}
	{
		unsigned long wait = 1;

		if (ep->attempts < 31)
			ep->attempts++;
		for (unsigned i = 1;
		     i < ep->attempts && wait < WEBHOOK_BACKOFF_MAX; i++)
			wait *= 2;
		if (wait > WEBHOOK_BACKOFF_MAX)
			wait = WEBHOOK_BACKOFF_MAX;
		clock_gettime(CLOCK_MONOTONIC, &ep->retry);
		ep->retry.tv_sec += (time_t)wait;
		pthread_mutex_lock(&w->lock);
		ep->failures++;
		pthread_mutex_unlock(&w->lock);
		/* Ids, numbers and libcurl's fixed error name: no URL. */
		if (w->log)
			fprintf(stderr,
			        "{\"event\":\"webhook_failed\",\"endpoint\":"
			        "\"%s\",\"event_id\":\"%s\",\"status\":%ld,"
			        "\"error\":\"%s\",\"attempt\":%u,"
			        "\"retry_in_s\":%lu}\n",
			        ep->label, e.eid, status,
			        cc == CURLE_OK ? "status"
			                       : curl_easy_strerror(cc),
			        ep->attempts, wait);
	}
	return 0;
}

static void *
webhook_main(void *arg)
{
	struct webhook *w = arg;
	struct vaern_msg msg = {{0}};
	struct vault *v = NULL;
	struct timespec scan = {0, 0};

	for (;;) {
		int sent = 0;
		struct timespec until;

		pthread_mutex_lock(&w->lock);
		if (w->stop) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		pthread_mutex_unlock(&w->lock);
		if (v == NULL && vault_open(w->data_dir, &v, &msg) != VAERN_OK)
			v = NULL;
		if (v != NULL && due(&scan)) {
			if (vault_webhook_scan(v, w->due_within, &msg) !=
			            VAERN_OK &&
			    w->log)
				fprintf(stderr,
				        "{\"event\":\"webhook_scan_failed\","
				        "\"error\":\"%s\"}\n",
				        msg.text);
			clock_gettime(CLOCK_MONOTONIC, &scan);
			scan.tv_sec += WEBHOOK_SCAN_EVERY;
		}
		for (size_t i = 0; v != NULL && i < w->nep; i++)
			sent += deliver_one(w, v, &w->ep[i]);
		if (sent > 0)
			continue;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WEBHOOK_POLL_MS * 1000000l;
		if (until.tv_nsec >= 1000000000l) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000l;
		}
		pthread_mutex_lock(&w->lock);
		if (!w->stop)
			(void)pthread_cond_timedwait(&w->wake, &w->lock,
			                             &until);
		pthread_mutex_unlock(&w->lock);
	}
	vault_close(v);
	return NULL;
}

static void
webhook_free(struct webhook *w)
{
	if (w == NULL)
		return;
	free(w->data_dir);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	sodium_memzero(w, sizeof(*w));
	free(w);
}

enum vaern_err
webhook_start(const char *data_dir, const struct webhook_config *cfg,
              struct webhook **out, struct vaern_msg *msg)
{
	const char *keys[WEBHOOK_ENDPOINTS_MAX];
	struct webhook *w = NULL;
	struct vault *v = NULL;
	enum vaern_err err;

	*out = NULL;
	if (cfg->nurls > WEBHOOK_ENDPOINTS_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "at most %d webhook URLs",
		                  WEBHOOK_ENDPOINTS_MAX);
	if (cfg->nurls > 0 && cfg->secret_file == NULL)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "webhooks need --webhook-secret-file (the "
		                  "HMAC key, mode 0600)");
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if ((w->data_dir = strdup(data_dir)) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < cfg->nurls; i++) {
		struct endpoint *ep = &w->ep[i];
		unsigned char d[crypto_hash_sha256_BYTES];

		if ((err = webhook_url_check(cfg->urls[i], msg)) != VAERN_OK)
			goto fail;
		(void)snprintf(ep->url, sizeof(ep->url), "%s", cfg->urls[i]);
		crypto_hash_sha256(d, (const unsigned char *)ep->url,
		                   strlen(ep->url));
		sodium_bin2hex(ep->key, sizeof(ep->key), d, sizeof(d));
		memcpy(ep->label, ep->key, 12);
		keys[i] = ep->key;
	}
	w->nep = cfg->nurls;
	if (cfg->nurls > 0 &&
	    (err = secret_read(cfg->secret_file, w->secret, &w->secret_len,
	                       msg)) != VAERN_OK)
		goto fail;
	w->due_within = cfg->due_within > 0 ? (long)cfg->due_within
	                                    : WEBHOOK_DUE_DEFAULT;
	w->timeout =
	        cfg->timeout > 0 ? (long)cfg->timeout : WEBHOOK_TIMEOUT_DEFAULT;
	w->log = cfg->log;
	/* The endpoints in the store: from now on events are queued. */
	if ((err = vault_open(data_dir, &v, msg)) != VAERN_OK ||
	    (err = vault_webhook_endpoints(v, keys, w->nep, msg)) != VAERN_OK)
		goto fail;
	vault_close(v);
	v = NULL;
	if (w->nep == 0) {
		webhook_free(w);
		return VAERN_OK;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		err = vaern_fail(msg, VAERN_E_INTERNAL,
		                 "cannot initialise libcurl");
		goto fail;
	}
	if (pthread_create(&w->thread, NULL, webhook_main, w) != 0) {
		curl_global_cleanup();
		err = vaern_fail(msg, VAERN_E_INTERNAL,
		                 "cannot start the webhook thread");
		goto fail;
	}
	*out = w;
	return VAERN_OK;
fail:
	vault_close(v);
	webhook_free(w);
	return err;
}

void
webhook_stop(struct webhook *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	curl_global_cleanup();
	webhook_free(w);
}

void
webhook_metrics(struct webhook *w, struct http_buf *out)
{
	if (w == NULL)
		return;
	(void)http_buf_printf(
	        out, "# HELP vaern_webhook_delivered_total Events an "
	             "endpoint acknowledged (2xx), by endpoint (the first 12 "
	             "hex digits of the SHA-256 of its URL).\n"
	             "# TYPE vaern_webhook_delivered_total counter\n");
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->nep; i++)
		(void)http_buf_printf(
		        out,
		        "vaern_webhook_delivered_total{endpoint=\"%s\"} %llu\n",
		        w->ep[i].label, (unsigned long long)w->ep[i].delivered);
	(void)http_buf_printf(out,
	                      "# HELP vaern_webhook_failures_total Failed "
	                      "delivery attempts, by endpoint.\n"
	                      "# TYPE vaern_webhook_failures_total counter\n");
	for (size_t i = 0; i < w->nep; i++)
		(void)http_buf_printf(
		        out,
		        "vaern_webhook_failures_total{endpoint=\"%s\"} %llu\n",
		        w->ep[i].label, (unsigned long long)w->ep[i].failures);
	(void)http_buf_printf(out,
	                      "# HELP vaern_webhook_pending Events queued for "
	                      "an endpoint, not yet acknowledged.\n"
	                      "# TYPE vaern_webhook_pending gauge\n");
	for (size_t i = 0; i < w->nep; i++)
		(void)http_buf_printf(
		        out, "vaern_webhook_pending{endpoint=\"%s\"} %lld\n",
		        w->ep[i].label, (long long)w->ep[i].pending);
	(void)http_buf_printf(
	        out, "# HELP vaern_webhook_last_success_timestamp_seconds "
	             "When an endpoint last acknowledged an event (0: never "
	             "since start).\n"
	             "# TYPE vaern_webhook_last_success_timestamp_seconds "
	             "gauge\n");
	for (size_t i = 0; i < w->nep; i++)
		(void)http_buf_printf(out,
		                      "vaern_webhook_last_success_timestamp_"
		                      "seconds{endpoint=\"%"
		                      "s\"} %lld\n",
		                      w->ep[i].label,
		                      (long long)w->ep[i].last_success);
	pthread_mutex_unlock(&w->lock);
}
