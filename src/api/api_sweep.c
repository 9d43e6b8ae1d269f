/*
 * api_sweep.c -- the scheduled retention sweep (issue 4; api.h): a thread
 * of its own with its own vault, auditing through the server's audit
 * writer, and its figures for /metrics.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../audit/audit.h"
#include "../calendar/calendar.h"
#include "../traffic/traffic_access.h"
#include "../vault/vault.h"
#include "../vault/vault_notice.h"
#include "api.h"
#include "api_internal.h"

/* The first sweep comes this soon after start at most, so a server
 * restarted more often than its interval still sweeps. */
#define SWEEP_FIRST_MAX 300

/* The sweeper's audit hook: each batch's entry, durable before the next
 * batch starts (GDPR-5(1)(e), GDPR-32). */
static enum vaern_err
sweep_audit(void *arg, const struct vault_audit_event *e, struct vaern_msg *msg)
{
	struct api *a = arg;
	struct audit_entry ae = {0};
	enum vaern_err err;

	audit_entry_of(&ae, e);
	if (ae.controller != NULL)
		ae.policy = vault_policy_version(a->sweep_vault, ae.controller);
	if ((err = audit_append(a->audit, &ae, NULL, msg)) != VAERN_OK)
		atomic_fetch_add(&a->audit_failures, 1);
	return err;
}

/* The retained-data store's sweep audits through the same writer. */
static enum vaern_err
sweep_traffic_audit(void *arg, const struct audit_entry *e,
                    struct vaern_msg *msg)
{
	struct api *a = arg;
	enum vaern_err err = audit_append(a->audit, e, NULL, msg);

	if (err != VAERN_OK)
		atomic_fetch_add(&a->audit_failures, 1);
	return err;
}

/* Between batches: stop when the server is stopping. */
static int
sweep_progress(void *arg, int64_t done, int64_t total)
{
	struct api *a = arg;

	(void)done;
	(void)total;
	return atomic_load(&a->sweep_stopping);
}

static double
unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One sweep as of the vaern clock; the vault is opened on first use and
 * again after a failure. */
static void
sweep_once(struct api *a, struct vault **v)
{
	struct vault_sweep_report rep;
	struct vault_card_report cards;
	struct vaern_msg msg = {{0}};
	uint64_t tdays = 0, trecs = 0;
	enum vaern_err err;
	double t0 = unix_now(), t1;

	memset(&rep, 0, sizeof(rep));
	err = *v == NULL ? vault_open(a->dir, v, &msg) : VAERN_OK;
	if (err == VAERN_OK) {
		vault_policy_sync(*v, api_policy_epoch(a));
		a->sweep_vault = *v;
		vault_set_audit(*v, sweep_audit, a);
		err = vault_retention_sweep(*v, clock_now(), 0, sweep_progress,
		                            a, &rep, &msg);
	}
	if (err == VAERN_OK) {
		/* SHOP-PAY-1: the card-expiry warnings due, through the
		 * server's outbox (SMTP when configured, else the spool). */
		if (a->outbox_fn != NULL)
			vault_set_outbox(*v, a->outbox_fn, a->outbox_arg);
		err = vault_card_warnings(*v, NULL, clock_now(), 0, "scheduler",
		                          &cards, &msg);
		if (a->sweep_log && err == VAERN_OK && cards.due > 0)
			fprintf(stderr,
			        "{\"event\":\"card_warnings\",\"card_"
			        "warnings\":\"ok\",\"sent\":%lld,"
			        "\"no_address\":%lld}\n",
			        (long long)cards.sent,
			        (long long)cards.no_address);
	}
	/* CEK-PURP-5: the notices of a loaded version's new or widened
	 * purposes, each person once, through the same outbox. */
	if (err == VAERN_OK) {
		struct vault_request_actor who = {"scheduler", "scheduler"};
		int64_t told = 0;

		err = vault_policy_notices_send(*v, NULL, &who, &told, &msg);
		if (a->sweep_log && err == VAERN_OK && told > 0)
			fprintf(stderr,
			        "{\"policy_change_notices\":\"ok\","
			        "\"sent\":%lld}\n",
			        (long long)told);
	}
	/* TEL-LOG-1: the retained-data store's days a year old. */
	if (err == VAERN_OK)
		err = traffic_sweep_all(*v, a->dir, NULL, clock_now(),
		                        sweep_traffic_audit, a, &tdays, &trecs,
		                        &msg);
	/* Issue 19: the webhook event of a sweep done. */
	if (err == VAERN_OK)
		err = vault_webhook_sweep(*v, &rep, tdays, &msg);
	t1 = unix_now();
	pthread_mutex_lock(&a->slock);
	if (err == VAERN_OK) {
		a->stats.ok++;
		a->stats.last_success = t1;
		a->stats.facts_deleted_total += rep.facts_deleted;
		a->stats.visits_deleted_total += rep.visits_deleted;
	} else {
		a->stats.failed++;
	}
	a->stats.last_seconds = t1 - t0;
	a->stats.last = rep;
	pthread_mutex_unlock(&a->slock);
	/* Counts and the store's words only: no personal data. */
	if (a->sweep_log && err == VAERN_OK)
		fprintf(stderr,
		        "{\"event\":\"retention_sweep\",\"retention_sweep\":\"%"
		        "s\",\"facts_deleted\":%lld,"
		        "\"facts_anonymised\":%lld,\"subjects_shredded\":%lld,"
		        "\"facts_held\":%lld,\"consents_expired\":%lld,"
		        "\"visits_deleted\":%lld,\"traffic_days_deleted\":%llu,"
		        "\"seconds\":%.3f}\n",
		        rep.stopped ? "stopped" : "ok",
		        (long long)rep.facts_deleted,
		        (long long)rep.facts_anonymised,
		        (long long)rep.subjects_shredded,
		        (long long)rep.facts_held,
		        (long long)rep.consents_expired,
		        (long long)rep.visits_deleted,
		        (unsigned long long)tdays, t1 - t0);
	else if (a->sweep_log)
		fprintf(stderr,
		        "{\"event\":\"retention_sweep\",\"retention_sweep\":"
		        "\"failed\",\"error\":\"%s\"}\n",
		        vaern_strerror(err));
	if (err != VAERN_OK) {
		vault_close(*v);
		*v = NULL;
	}
}

static void *
sweeper_main(void *arg)
{
	struct api *a = arg;
	struct vault *v = NULL;
	unsigned long wait = a->sweep_every < SWEEP_FIRST_MAX ? a->sweep_every
	                                                      : SWEEP_FIRST_MAX;

	pthread_mutex_lock(&a->slock);
	for (;;) {
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)wait;
		while (!a->sweep_stop &&
		       pthread_cond_timedwait(&a->scond, &a->slock, &until) !=
		               ETIMEDOUT)
			;
		if (a->sweep_stop)
			break;
		pthread_mutex_unlock(&a->slock);
		sweep_once(a, &v);
		pthread_mutex_lock(&a->slock);
		wait = a->sweep_every;
	}
	pthread_mutex_unlock(&a->slock);
	vault_close(v);
	return NULL;
}

enum vaern_err
api_sweep_start(struct api *a, unsigned long every, int log,
                struct vaern_msg *msg)
{
	if (a->sweeper_started)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the sweep is scheduled already");
	if (every == 0)
		return VAERN_OK;
	a->sweep_every = every;
	a->sweep_log = log;
	if (pthread_create(&a->sweeper, NULL, sweeper_main, a) != 0)
		return vaern_fail(msg, VAERN_E_INTERNAL,
		                  "cannot start the sweep thread");
	a->sweeper_started = 1;
	return VAERN_OK;
}

void
api_sweep_stop(struct api *a)
{
	if (a == NULL || !a->sweeper_started)
		return;
	atomic_store(&a->sweep_stopping, 1);
	pthread_mutex_lock(&a->slock);
	a->sweep_stop = 1;
	pthread_cond_signal(&a->scond);
	pthread_mutex_unlock(&a->slock);
	pthread_join(a->sweeper, NULL);
	a->sweeper_started = 0;
}

/* The sweep's figures for /metrics. */
void
sweep_metrics(struct api *a, struct http_buf *out)
{
	struct sweep_stats st;

	pthread_mutex_lock(&a->slock);
	st = a->stats;
	pthread_mutex_unlock(&a->slock);
	(void)http_buf_printf(
	        out,
	        "# HELP vaern_retention_sweep_interval_seconds Seconds between "
	        "scheduled retention sweeps (0: not scheduled).\n"
	        "# TYPE vaern_retention_sweep_interval_seconds gauge\n"
	        "vaern_retention_sweep_interval_seconds %lu\n"
	        "# HELP vaern_retention_sweeps_total Scheduled retention "
	        "sweeps "
	        "by result.\n"
	        "# TYPE vaern_retention_sweeps_total counter\n"
	        "vaern_retention_sweeps_total{result=\"ok\"} %lu\n"
	        "vaern_retention_sweeps_total{result=\"failed\"} %lu\n"
	        "# HELP vaern_retention_sweep_last_success_timestamp_seconds "
	        "When the last sweep that succeeded ended (0: none yet).\n"
	        "# TYPE vaern_retention_sweep_last_success_timestamp_seconds "
	        "gauge\n"
	        "vaern_retention_sweep_last_success_timestamp_seconds %.3f\n"
	        "# HELP vaern_retention_sweep_last_duration_seconds How long "
	        "the last sweep took.\n"
	        "# TYPE vaern_retention_sweep_last_duration_seconds gauge\n"
	        "vaern_retention_sweep_last_duration_seconds %.3f\n"
	        "# HELP vaern_retention_sweep_last_facts Facts the last sweep "
	        "deleted, anonymised or found held.\n"
	        "# TYPE vaern_retention_sweep_last_facts gauge\n"
	        "vaern_retention_sweep_last_facts{outcome=\"deleted\"} %lld\n"
	        "vaern_retention_sweep_last_facts{outcome=\"anonymised\"} "
	        "%lld\n"
	        "vaern_retention_sweep_last_facts{outcome=\"held\"} %lld\n"
	        "# HELP vaern_retention_sweep_last_subjects_shredded Subjects "
	        "the last sweep crypto-shredded.\n"
	        "# TYPE vaern_retention_sweep_last_subjects_shredded gauge\n"
	        "vaern_retention_sweep_last_subjects_shredded %lld\n"
	        "# HELP vaern_retention_sweep_last_consents_expired Consent "
	        "ledgers the last sweep removed.\n"
	        "# TYPE vaern_retention_sweep_last_consents_expired gauge\n"
	        "vaern_retention_sweep_last_consents_expired %lld\n"
	        "# HELP vaern_retention_sweep_last_visits_deleted Visits and "
	        "pixels the last sweep deleted (AURA-RET-1).\n"
	        "# TYPE vaern_retention_sweep_last_visits_deleted gauge\n"
	        "vaern_retention_sweep_last_visits_deleted %lld\n"
	        "# HELP vaern_retention_facts_deleted_total Facts deleted by "
	        "scheduled sweeps since start.\n"
	        "# TYPE vaern_retention_facts_deleted_total counter\n"
	        "vaern_retention_facts_deleted_total %lld\n"
	        "# HELP vaern_retention_visits_deleted_total Visits and pixels "
	        "deleted by scheduled sweeps since start.\n"
	        "# TYPE vaern_retention_visits_deleted_total counter\n"
	        "vaern_retention_visits_deleted_total %lld\n",
	        a->sweeper_started ? a->sweep_every : 0ul, st.ok, st.failed,
	        st.last_success, st.last_seconds,
	        (long long)st.last.facts_deleted,
	        (long long)st.last.facts_anonymised,
	        (long long)st.last.facts_held,
	        (long long)st.last.subjects_shredded,
	        (long long)st.last.consents_expired,
	        (long long)st.last.visits_deleted,
	        (long long)st.facts_deleted_total,
	        (long long)st.visits_deleted_total);
}
