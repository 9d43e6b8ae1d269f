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
	CKPT_FINISH   /* copied: the writer copies the rest */
};

struct ckpt {
	pthread_mutex_t lock;  /* guards state and stopping */
	pthread_cond_t work;   /* the thread waits: asked, or stop */
	pthread_t thread;      /* the helper */
	enum ckpt_state state; /* where the copy is */
	int base;              /* the log's length when the writer last
	                          finished a copy (0: started over since) */
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
		/* Failed: asked again at the next commit past CKPT_PAGES,
		 * and the writer copies it all at CKPT_PAGES_INLINE. */
		k->state = err == VAERN_OK ? CKPT_FINISH : CKPT_NONE;
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
	if ((rc = pthread_create(&k->thread, NULL, ckpt_main, k)) != 0) {
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

int
ckpt_committed(struct ckpt *k, int pages)
{
	int finish = 0;

	if (k == NULL)
		return 0;
	pthread_mutex_lock(&k->lock);
	/*
	 * A log not started over after a copy (a reader's snapshot still
	 * used it when the writer began) is copied again only once it has
	 * grown by CKPT_PAGES more: asking at every commit, as SQLite does,
	 * made a copy and a finish, four fsyncs, per commit while readers
	 * kept it from starting over.
	 */
	if (pages < k->base)
		k->base = 0; /* started over */
	switch (k->state) {
	case CKPT_NONE:
		if (pages >= k->base + CKPT_PAGES) {
			k->state = CKPT_ASKED;
			pthread_cond_signal(&k->work);
		}
		break;
	case CKPT_ASKED:
	case CKPT_RUNNING:
		/* Far behind: the writer copies it all itself. */
		if (pages >= k->base + CKPT_PAGES_INLINE) {
			finish = 1;
			k->base = pages;
		}
		break;
	case CKPT_FINISH:
		finish = 1;
		k->base = pages;
		k->state = CKPT_NONE;
		break;
	}
	pthread_mutex_unlock(&k->lock);
	return finish;
}

void
ckpt_stop(struct ckpt *k)
{
	if (k == NULL)
		return;
	pthread_mutex_lock(&k->lock);
	k->stopping = 1;
	pthread_cond_signal(&k->work);
	pthread_mutex_unlock(&k->lock);
	pthread_join(k->thread, NULL);
	pthread_cond_destroy(&k->work);
	pthread_mutex_destroy(&k->lock);
	free(k);
}
