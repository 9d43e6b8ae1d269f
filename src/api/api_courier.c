/*
 * api_courier.c -- the delivery of the portal's one-time codes (issue 16,
 * AURA-LOGIN-1): a thread of its own with its own vault, sending what
 * vault_portal_login_start queued in the store through the server's
 * outbox (SMTP when configured, else the spool), auditing through the
 * server's audit writer.
 *
 * Why a thread: a login answers the same, in content and in time, whether
 * or not the identifiers name a person (no enumeration). Had the request
 * sent the code itself, a slow mail server would have delayed only the
 * answers for real people. The request queues the code in its own
 * transaction (nobody's too) and wakes this thread; the thread also looks
 * every COURIER_POLL seconds, for what another node queued and did not
 * send, and for a retry after an outbox failure.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../audit/audit.h"
#include "../vault/vault.h"
#include "../vault/vault_portal.h"
#include "api.h"
#include "api_internal.h"

#define COURIER_POLL  5    /* seconds between looks without a wake-up */
#define COURIER_BATCH 1000 /* codes one round sends at most */

/* The courier's audit hook: each entry durable before the next send. */
static enum vaern_err
courier_audit(void *arg, const struct vault_audit_event *e,
              struct vaern_msg *msg)
{
	struct api *a = arg;
	struct audit_entry ae = {0};
	enum vaern_err err;

	audit_entry_of(&ae, e);
	if (ae.controller != NULL)
		ae.policy =
		        vault_policy_version(a->courier_vault, ae.controller);
	if ((err = audit_append(a->audit, &ae, NULL, msg)) != VAERN_OK)
		atomic_fetch_add(&a->audit_failures, 1);
	return err;
}

/* Sends every code due; the vault is opened on first use and again after
 * a failure. */
static void
courier_round(struct api *a, struct vault **v)
{
	struct vaern_msg msg = {{0}};
	enum vaern_err err = VAERN_OK;
	int more = 1;

	if (*v == NULL) {
		if ((err = vault_open(a->dir, v, &msg)) != VAERN_OK)
			return;
		a->courier_vault = *v;
		vault_set_audit(*v, courier_audit, a);
		if (a->outbox_fn != NULL)
			vault_set_outbox(*v, a->outbox_fn, a->outbox_arg);
	}
	vault_policy_sync(*v, api_policy_epoch(a));
	for (int i = 0; more && i < COURIER_BATCH && err == VAERN_OK; i++) {
		if (atomic_load(&a->courier_stopping))
			break;
		err = vault_portal_code_deliver(*v, &more, &msg);
	}
	if (err != VAERN_OK) {
		/* The store's words only: no personal data. */
		fprintf(stderr,
		        "{\"event\":\"portal_code_delivery\",\"error\":\"%s\"}"
		        "\n",
		        vaern_strerror(err));
		vault_close(*v);
		*v = NULL;
		a->courier_vault = NULL;
	}
}

static void *
courier_main(void *arg)
{
	struct api *a = arg;
	struct vault *v = NULL;

	pthread_mutex_lock(&a->olock);
	for (;;) {
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += COURIER_POLL;
		while (!a->ostop && !a->owake &&
		       pthread_cond_timedwait(&a->ocond, &a->olock, &until) !=
		               ETIMEDOUT)
			;
		if (a->ostop)
			break;
		a->owake = 0;
		pthread_mutex_unlock(&a->olock);
		courier_round(a, &v);
		pthread_mutex_lock(&a->olock);
	}
	pthread_mutex_unlock(&a->olock);
	vault_close(v);
	return NULL;
}

enum vaern_err
api_courier_start(struct api *a, struct vaern_msg *msg)
{
	if (a->courier_started)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the code delivery runs already");
	if (pthread_create(&a->courier, NULL, courier_main, a) != 0)
		return vaern_fail(msg, VAERN_E_INTERNAL,
		                  "cannot start the code delivery thread");
	a->courier_started = 1;
	return VAERN_OK;
}

void
api_courier_wake(struct api *a)
{
	pthread_mutex_lock(&a->olock);
	a->owake = 1;
	pthread_cond_signal(&a->ocond);
	pthread_mutex_unlock(&a->olock);
}

void
api_courier_stop(struct api *a)
{
	if (a == NULL || !a->courier_started)
		return;
	atomic_store(&a->courier_stopping, 1);
	pthread_mutex_lock(&a->olock);
	a->ostop = 1;
	pthread_cond_signal(&a->ocond);
	pthread_mutex_unlock(&a->olock);
	pthread_join(a->courier, NULL);
	a->courier_started = 0;
}
