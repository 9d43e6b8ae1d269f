/*
 * api_reload.c -- a loaded policy reaches the running server (issue 12,
 * point 1).
 *
 * `vaern policy load` (or the server's own SIGHUP) writes a controller's
 * policy and raises the store's policy generation in one transaction. A
 * watcher thread reads the generation every POLICY_POLL_MS and, when it
 * changed, raises the API's policy epoch (an atomic counter). Each thread
 * that decides (HTTP workers, the create writer, the sweeper) compares
 * the epoch with the one its vault's compiled policies were loaded in
 * before its next request's first read (vault_policy_sync): if they
 * differ it drops them and compiles the new ones from the store, in that
 * request's snapshot. So within POLICY_POLL_MS plus one request every
 * worker decides under the new policy; no request decides under half of
 * one; no request waits or is dropped, and the cost per request is one
 * atomic load. A compiled policy a create in flight points into lives on
 * by reference until the create is written (vault_policy.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "api_internal.h"

/* How often the watcher reads the generation: a loaded policy is in
 * force on every worker well within a second. */
#define POLICY_POLL_MS 100

static void *
watcher_main(void *arg)
{
	struct api *a = arg;

	pthread_mutex_lock(&a->plock);
	while (!a->pstop) {
		struct timespec until;
		struct vaern_msg msg = {{0}};
		int64_t gen;
		enum vaern_err err;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += POLICY_POLL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec += until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
		}
		while (!a->pstop && pthread_cond_timedwait(&a->pcond, &a->plock,
		                                           &until) != ETIMEDOUT)
			;
		if (a->pstop)
			break;
		pthread_mutex_unlock(&a->plock);
		/* A busy or failed read is tried again at the next tick. */
		err = vault_policy_generation(a->watch_vault, &gen, &msg);
		if (err == VAERN_OK && gen != a->policy_gen) {
			a->policy_gen = gen;
			api_policy_reload(a);
		}
		pthread_mutex_lock(&a->plock);
	}
	pthread_mutex_unlock(&a->plock);
	return NULL;
}

enum vaern_err
api_policy_watch_start(struct api *a, struct vaern_msg *msg)
{
	enum vaern_err err;

	atomic_init(&a->policy_epoch, 1);
	if ((err = vault_open(a->dir, &a->watch_vault, msg)) != VAERN_OK)
		return err;
	if ((err = vault_policy_generation(a->watch_vault, &a->policy_gen,
	                                   msg)) != VAERN_OK)
		goto fail;
	/* The monotonic clock: setting the system time changes nothing. */
	api_cond_init_monotonic(&a->pcond);
	pthread_mutex_init(&a->plock, NULL);
	if (pthread_create(&a->watcher, NULL, watcher_main, a) != 0) {
		pthread_cond_destroy(&a->pcond);
		pthread_mutex_destroy(&a->plock);
		err = vaern_fail(msg, VAERN_E_INTERNAL,
		                 "cannot start the policy watcher");
		goto fail;
	}
	a->watcher_started = 1;
	return VAERN_OK;
fail:
	vault_close(a->watch_vault);
	a->watch_vault = NULL;
	return err;
}

void
api_policy_watch_stop(struct api *a)
{
	if (a == NULL || !a->watcher_started)
		return;
	pthread_mutex_lock(&a->plock);
	a->pstop = 1;
	pthread_cond_signal(&a->pcond);
	pthread_mutex_unlock(&a->plock);
	pthread_join(a->watcher, NULL);
	a->watcher_started = 0;
	pthread_cond_destroy(&a->pcond);
	pthread_mutex_destroy(&a->plock);
	vault_close(a->watch_vault);
	a->watch_vault = NULL;
}

void
api_policy_reload(struct api *a)
{
	atomic_fetch_add_explicit(&a->policy_epoch, 1, memory_order_release);
}

int64_t
api_policy_epoch(struct api *a)
{
	return atomic_load_explicit(&a->policy_epoch, memory_order_acquire);
}
