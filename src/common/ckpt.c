/*
 * ckpt.c -- the log-copy helper (ckpt.h): one thread, a state shared
 * with the writer under a mutex.
 */
#include "ckpt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Where the copy is. */
enum ckpt_state {
	CKPT_NONE,    /* the log is short */
	CKPT_ASKED,   /* the writer asks the helper for the bulk */
	CKPT_RUNNING, /* the helper is copying it */
	CKPT_FINISH   /* copied: the writer finishes */
};

struct ckpt {
	pthread_mutex_t lock;  /* guards everything below but thread */
	pthread_cond_t work;   /* the thread waits: asked, or stop */
	pthread_cond_t done;   /* a writer far behind waits: a copy ended,
	                          or stop */
	pthread_t thread;      /* the helper */
	enum ckpt_state state; /* where the copy is */
	int last;              /* the log's pages at the writer's last
	                          commit (0: started over since) */
	int asked_at;          /* the log's pages when the helper was last
	                          asked (0: not since it started over) */
	int tried_at;          /* the log's pages at the first finish that
	                          did not start it over (gap > 0) */
	int gap;               /* commits between tries of a finish that
	                          did not start the log over (0: none
	                          failed), doubling to CKPT_RETRY_MAX */
	int skip;              /* commits still to let pass before the next
	                          try */
	int stopping;          /* exit at the next look */
	ckpt_copy_fn copy_fn;  /* the copy, on the helper's connection */
	void *arg;             /* copy_fn's */
};

static void *
ckpt_main(void *arg)
{
	struct ckpt *k = arg;

	pthread_mutex_lock(&k->lock);
	while (!k->stopping) {
		enum vaern_err err;

		if (k->state != CKPT_ASKED) {
			pthread_cond_wait(&k->work, &k->lock);
			continue;
		}
		k->state = CKPT_RUNNING;
		pthread_mutex_unlock(&k->lock);
		err = k->copy_fn(k->arg);
		pthread_mutex_lock(&k->lock);
		/* Failed: asked again at the next commit past CKPT_PAGES. */
		k->state = err == VAERN_OK ? CKPT_FINISH : CKPT_NONE;
		pthread_cond_broadcast(&k->done);
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

enum vaern_err
ckpt_start(ckpt_copy_fn copy_fn, void *arg, const char *name, struct ckpt **out,
           struct vaern_msg *msg)
{
	struct ckpt *k;
	int rc;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	k->copy_fn = copy_fn;
	k->arg = arg;
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->work, NULL);
	pthread_cond_init(&k->done, NULL);
	if ((rc = pthread_create(&k->thread, NULL, ckpt_main, k)) != 0) {
		pthread_cond_destroy(&k->done);
		pthread_cond_destroy(&k->work);
		pthread_mutex_destroy(&k->lock);
		free(k);
		return vaern_fail(msg, VAERN_E_IO,
		                  "cannot start the checkpoint thread: %s",
		                  strerror(rc));
	}
	(void)pthread_setname_np(k->thread, name);
	*out = k;
	return VAERN_OK;
}

/* Asks the helper for the bulk (lock held). */
static void
ask(struct ckpt *k, int pages)
{
	k->state = CKPT_ASKED;
	k->asked_at = pages;
	k->gap = k->skip = 0;
	pthread_cond_signal(&k->work);
}

/* Whether a finish is tried at this commit (lock held): after a failed
 * one, only every gap commits. */
static int
try_due(struct ckpt *k)
{
	if (k->skip > 0) {
		k->skip--;
		return 0;
	}
	return 1;
}

int
ckpt_committed(struct ckpt *k, int pages)
{
	int finish = 0;

	if (k == NULL)
		return 0;
	pthread_mutex_lock(&k->lock);
	if (pages < k->last) {
		/* Started over by another connection's write. */
		k->asked_at = 0;
		k->gap = k->skip = 0;
		if (k->state == CKPT_FINISH)
			k->state = CKPT_NONE;
	}
	k->last = pages;
	switch (k->state) {
	case CKPT_NONE:
		if (pages >= CKPT_PAGES)
			ask(k, pages);
		break;
	case CKPT_ASKED:
	case CKPT_RUNNING:
		/*
		 * Far behind (a slow disk): the writer waits for the copy to
		 * end and then finishes, as SQLite would have copied it all
		 * in this commit, so the log stays near CKPT_PAGES. A copy
		 * that failed leaves it to ask again at the next commit.
		 */
		if (pages < k->asked_at + CKPT_PAGES_BEHIND)
			break;
		while ((k->state == CKPT_ASKED || k->state == CKPT_RUNNING) &&
		       !k->stopping)
			pthread_cond_wait(&k->done, &k->lock);
		finish = k->state == CKPT_FINISH;
		break;
	case CKPT_FINISH:
		/*
		 * Finishes that did not start the log over (a reader stayed)
		 * while it grew by CKPT_PAGES more: the helper copies that
		 * bulk first, not the writer's next finish.
		 */
		if (k->gap > 0 && pages >= k->tried_at + CKPT_PAGES)
			ask(k, pages);
		else
			finish = try_due(k);
		break;
	}
	pthread_mutex_unlock(&k->lock);
	return finish;
}

void
ckpt_finished(struct ckpt *k, int restarted)
{
	if (k == NULL)
		return;
	pthread_mutex_lock(&k->lock);
	if (restarted) {
		k->last = 0;
		k->asked_at = 0;
		k->gap = k->skip = 0;
		if (k->state == CKPT_FINISH)
			k->state = CKPT_NONE;
	} else {
		if (k->gap == 0)
			k->tried_at = k->last;
		k->gap = k->gap == 0                   ? 1
		         : 2 * k->gap > CKPT_RETRY_MAX ? CKPT_RETRY_MAX
		                                       : 2 * k->gap;
		k->skip = k->gap - 1;
	}
	pthread_mutex_unlock(&k->lock);
}

void
ckpt_stop(struct ckpt *k)
{
	if (k == NULL)
		return;
	pthread_mutex_lock(&k->lock);
	k->stopping = 1;
	pthread_cond_signal(&k->work);
	pthread_cond_broadcast(&k->done);
	pthread_mutex_unlock(&k->lock);
	pthread_join(k->thread, NULL);
	pthread_cond_destroy(&k->done);
	pthread_cond_destroy(&k->work);
	pthread_mutex_destroy(&k->lock);
	free(k);
}
