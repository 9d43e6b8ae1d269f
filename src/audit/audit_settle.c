/*
 * audit_settle.c -- the settler: a thread of the audit writer's that
 * tells the data store the trail's head and deletes the outbox rows the
 * writer moved (audit.h, "Locking"; issue 12 points 4 and 6).
 *
 * A settle is a write transaction on the data store, so it waits for the
 * data store's write lock, which the create writer holds through its
 * commit's fsyncs (two files: the data and the keystore). Done on the
 * audit writer's thread, that wait held up every commit of the trail
 * behind it, and so every read's answer: with creates beside reads the
 * writer spent a quarter of its time in settles (up to 100 ms each), and
 * the reads' p99 with it. Here the writer only hands over what its
 * commit moved and the new head (a copy under a mutex) and goes on; this
 * thread waits for the lock instead, at most every SETTLE_NS while
 * entries keep coming, at once when the writer is idle, and a last time
 * when it stops. Nothing waits for a settle: a change's entry is durable
 * in the outbox, the trail or both at every instant (audit_chain.c), and
 * a head that lags is a head the trail has.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_internal.h"

/*
 * How often, at most, the data store learns the head while entries keep
 * coming. Each settle is a write transaction on the data store: once per
 * commit it took the write lock from the create writer and reset every
 * reader's page cache, and cost creates and reads a third of their rate
 * (scripts/bench-api-compare). The head lags the trail by at most this
 * long (plus the wait for the lock) while the writer is busy.
 */
#define SETTLE_NS 100000000LL

struct audit_settler {
	pthread_mutex_t lock; /* guards everything below but chain */
	pthread_cond_t work;  /* the thread waits: work, urgency, stop */
	pthread_t thread;     /* the settler */
	int64_t *ids;         /* outbox rows handed over, not yet taken */
	size_t nids, capids;  /* of ids */
	int64_t seq;          /* the newest head handed over */
	unsigned char mac[AUDIT_HASH_BYTES]; /* its MAC */
	int64_t settled;          /* the head the data store has (the chain's,
	                             copied under the lock) */
	int unsettled;            /* the chain holds what a settle failed on
	                             (or took and has not settled yet) */
	int urgent;               /* settle now: the writer is idle */
	int sleeping;             /* the thread waits with nothing to do: a
	                             hand-over wakes it */
	int stopping;             /* a last settle, then exit */
	struct audit_chain chain; /* the thread's: its data store
	                             connection, key, head and moved rows */
};

static void hand(struct audit_settler *s, struct audit_chain *c, int idle);

/* Monotonic nanoseconds. */
static long long
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Whether there is anything to settle (lock held). */
static int
has_work(const struct audit_settler *s)
{
	return s->nids > 0 || s->seq > s->settled || s->unsettled;
}

/* Moves what was handed over into the thread's chain (lock held). An id
 * that finds no memory stays in the outbox: moved again later, and
 * skipped (the trail's unique outbox index). */
static void
take(struct audit_settler *s)
{
	for (size_t i = 0; i < s->nids; i++) {
		if (audit_chain_moved_add(&s->chain, s->ids[i], NULL) !=
		    VAERN_OK)
			break;
	}
	s->nids = 0;
	if (s->seq > s->chain.seq) {
		s->chain.seq = s->seq;
		memcpy(s->chain.mac, s->mac, AUDIT_HASH_BYTES);
	}
	s->urgent = 0;
}

static void *
settler_main(void *arg)
{
	struct audit_settler *s = arg;
	long long last = 0; /* when the last settle ended */

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct vaern_msg msg = {{0}};
		enum vaern_err err;
		int last_try;

		if (!has_work(s)) {
			if (s->stopping)
				break;
			s->sleeping = 1;
			pthread_cond_wait(&s->work, &s->lock);
			s->sleeping = 0;
			continue;
		}
		if (!s->urgent && !s->stopping && now_ns() - last < SETTLE_NS) {
			long long at = last + SETTLE_NS;
			struct timespec until = {(time_t)(at / 1000000000LL),
			                         (long)(at % 1000000000LL)};

			(void)pthread_cond_timedwait(&s->work, &s->lock,
			                             &until);
			continue;
		}
		last_try = s->stopping;
		take(s);
		pthread_mutex_unlock(&s->lock);
		/* This thread may wait for the data store's lock: nobody
		 * waits for it. */
		err = audit_chain_settle(&s->chain, &msg);
		last = now_ns();
		pthread_mutex_lock(&s->lock);
		s->settled = s->chain.settled;
		s->unsettled =
		        s->chain.nmoved > 0 || s->chain.seq > s->chain.settled;
		if (err != VAERN_OK && last_try)
			break; /* stopping: the next start flushes */
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

enum vaern_err
audit_settler_start(struct audit_chain *c, struct audit_settler **out,
                    struct vaern_msg *msg)
{
	struct audit_settler *s;
	pthread_condattr_t attr;
	int rc;

	*out = NULL;
	if (c->av == NULL)
		return VAERN_OK; /* no data store: nothing to settle */
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	/* The data store's connection becomes this thread's. */
	s->chain.av = c->av;
	memcpy(s->chain.key, c->key, AUDIT_KEY_BYTES);
	s->chain.keyed_from = c->keyed_from;
	s->chain.settled = c->settled;
	s->settled = c->settled;
	s->chain.seq = c->settled;
	s->seq = c->settled;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->work, &attr);
	pthread_condattr_destroy(&attr);
	if ((rc = pthread_create(&s->thread, NULL, settler_main, s)) != 0) {
		s->chain.av = NULL; /* still the caller's */
		audit_chain_close(&s->chain);
		pthread_cond_destroy(&s->work);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return vaern_fail(msg, VAERN_E_IO,
		                  "cannot start the audit settler: %s",
		                  strerror(rc));
	}
	(void)pthread_setname_np(s->thread, "vaern-settle");
	c->av = NULL;
	*out = s;
	hand(s, c, 0); /* what the start-up flush left */
	return VAERN_OK;
}

/* Hands over the rows c moved and its head; idle: settle now. */
static void
hand(struct audit_settler *s, struct audit_chain *c, int idle)
{
	pthread_mutex_lock(&s->lock);
	if (c->nmoved > 0 && s->nids + c->nmoved > s->capids) {
		size_t cap = s->capids ? s->capids : 256;
		int64_t *ids;

		while (cap < s->nids + c->nmoved)
			cap *= 2;
		if ((ids = realloc(s->ids, cap * sizeof(*ids))) != NULL) {
			s->ids = ids;
			s->capids = cap;
		}
	}
	/* Out of memory: the ids stay with the writer's chain, handed over
	 * next time. */
	if (s->nids + c->nmoved <= s->capids) {
		if (c->nmoved > 0)
			memcpy(s->ids + s->nids, c->moved,
			       c->nmoved * sizeof(*c->moved));
		s->nids += c->nmoved;
		c->nmoved = 0;
	}
	if (c->seq > s->seq) {
		s->seq = c->seq;
		memcpy(s->mac, c->mac, AUDIT_HASH_BYTES);
	}
	if (idle)
		s->urgent = 1;
	/* Busy, it wakes by itself when SETTLE_NS have passed. */
	if ((idle || s->sleeping) && has_work(s))
		pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
}

void
audit_settler_stop(struct audit_settler *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	audit_chain_close(&s->chain);
	pthread_cond_destroy(&s->work);
	pthread_mutex_destroy(&s->lock);
	free(s->ids);
	free(s);
}

void
audit_settler_committed(struct audit_settler *s, struct audit_chain *c)
{
	if (s == NULL) {
		c->nmoved = 0; /* no data store */
		return;
	}
	hand(s, c, 0);
}

void
audit_settler_idle(struct audit_settler *s, struct audit_chain *c)
{
	if (s == NULL) {
		c->nmoved = 0;
		return;
	}
	hand(s, c, 1);
}
