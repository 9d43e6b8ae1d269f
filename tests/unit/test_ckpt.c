/*
 * test_ckpt.c -- the log-copy helper of the writers (src/common/ckpt.h;
 * issue 12 point 6): when the writer's commits ask the helper's thread
 * for a copy of the log, and when the writer copies the rest itself.
 * copy_fn here counts its calls and posts a semaphore, so each step waits
 * for the copy it asked for.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include "common/ckpt.h"

struct copier {
	sem_t copied;       /* posted after each copy */
	int copies;         /* copy_fn's calls */
	enum vaern_err ret; /* what copy_fn returns */
};

static enum vaern_err
copy(void *arg)
{
	struct copier *c = arg;

	c->copies++;
	sem_post(&c->copied);
	return c->ret;
}

/* Waits up to ms for a copy; 1 if one came. */
static int
wait_copy(struct copier *c, long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_nsec += (ms % 1000) * 1000000L;
	t.tv_sec += ms / 1000 + t.tv_nsec / 1000000000L;
	t.tv_nsec %= 1000000000L;
	while (sem_timedwait(&c->copied, &t) != 0) {
		if (errno != EINTR)
			return 0;
	}
	return 1;
}

/* One commit: the log's pages after it, whether the writer must finish
 * (ckpt_committed), whether the helper is asked to copy, and for a
 * finish whether it started the log over (ckpt_finished). */
struct step {
	int pages;
	int finish;
	int asks;
	int restarted;
};

static void
run(const struct step *steps, size_t n, enum vaern_err ret)
{
	struct copier c = {.ret = ret};
	struct vaern_msg msg = {{0}};
	struct ckpt *k = NULL;

	sem_init(&c.copied, 0, 0);
	assert_int_equal(ckpt_start(copy, &c, "test-ckpt", &k, &msg), VAERN_OK);
	for (size_t i = 0; i < n; i++) {
		int copies = c.copies, got = 0;

		/*
		 * The helper's thread ends a copy just after copy_fn returns:
		 * until then a commit neither asks nor finishes (a copy is
		 * running), so a step that expects either is repeated, for
		 * up to 5 s.
		 */
		for (int tries = 0; tries < 500 && !got; tries++) {
			int finish = ckpt_committed(k, steps[i].pages);

			if (steps[i].finish) {
				struct timespec ms10 = {0, 10000000L};

				if (!(got = finish))
					(void)nanosleep(&ms10, NULL);
			} else if (steps[i].asks)
				got = wait_copy(&c, 10);
			else
				got = 1;
			if (!steps[i].finish)
				assert_int_equal(finish, 0);
		}
		assert_true(got);
		if (steps[i].finish)
			ckpt_finished(k, steps[i].restarted);
		if (!steps[i].asks)
			assert_int_equal(c.copies, copies);
	}
	ckpt_stop(k);
	sem_destroy(&c.copied);
}

static void
test_copy_then_finish(void **state)
{
	static const struct step steps[] = {
	        {10, 0, 0, 0},
	        {999, 0, 0, 0},  /* below CKPT_PAGES: SQLite's threshold */
	        {1000, 0, 1, 0}, /* the helper copies the bulk */
	        {1010, 1, 0, 1}, /* the writer the rest, and starts over */
	        {5, 0, 0, 0},
	        {999, 0, 0, 0},
	        {1003, 0, 1, 0}, /* the next copy */
	        {1020, 1, 0, 1},
	        {30, 0, 0, 0},
	};

	(void)state;
	run(steps, sizeof(steps) / sizeof(steps[0]), VAERN_OK);
}

static void
test_not_started_over_tried_again_backing_off(void **state)
{
	/*
	 * A reader kept the finish from starting the log over: tried again
	 * at the next commit, then after 2, 4, ... commits, not after
	 * CKPT_PAGES more (the log had doubled: the flake of
	 * test_data_log_started_over_beside_steady_creates).
	 */
	static const struct step steps[] = {
	        {1000, 0, 1, 0}, {1100, 1, 0, 0}, /* not started over */
	        {1104, 1, 0, 0},                  /* the next commit */
	        {1108, 0, 0, 0}, {1112, 1, 0, 0}, /* every 2nd */
	        {1116, 0, 0, 0}, {1120, 0, 0, 0}, {1124, 0, 0, 0},
	        {1128, 1, 0, 1}, /* every 4th: done */
	        {6, 0, 0, 0},    {999, 0, 0, 0},  {1000, 0, 1, 0},
	};

	(void)state;
	run(steps, sizeof(steps) / sizeof(steps[0]), VAERN_OK);
}

static void
test_reader_that_stays_bulk_copied_again(void **state)
{
	/* Finishes that fail while the log grows by CKPT_PAGES more since
	 * the first: the helper copies that bulk, then the writer
	 * finishes. */
	static const struct step steps[] = {
	        {1000, 0, 1, 0}, {1100, 1, 0, 0}, {1200, 1, 0, 0},
	        {1300, 0, 0, 0}, {2099, 1, 0, 0}, /* gap 4 now */
	        {2100, 0, 1, 0},                  /* 1,000 past 1,100 */
	        {2110, 1, 0, 1}, {40, 0, 0, 0},
	};

	(void)state;
	run(steps, sizeof(steps) / sizeof(steps[0]), VAERN_OK);
}

static void
test_started_over_elsewhere(void **state)
{
	/* Another connection's write started the log over (the finish had
	 * copied it all): no finish is tried again. */
	static const struct step steps[] = {
	        {1000, 0, 1, 0}, {1100, 1, 0, 0}, {50, 0, 0, 0},
	        {999, 0, 0, 0},  {1000, 0, 1, 0}, {1001, 1, 0, 1},
	};

	(void)state;
	run(steps, sizeof(steps) / sizeof(steps[0]), VAERN_OK);
}

static void
test_failed_copy_asked_again(void **state)
{
	/* A failing copy is asked for again; the writer never finishes a
	 * copy that did not happen. */
	static const struct step steps[] = {
	        {1000, 0, 1, 0},
	        {1001, 0, 1, 0}, /* failed: asked again */
	        {1002, 0, 1, 0},
	};

	(void)state;
	run(steps, sizeof(steps) / sizeof(steps[0]), VAERN_E_IO);
}

/* A copy that waits until released: a slow disk. */
struct slow {
	sem_t started; /* posted when the copy begins */
	sem_t go;      /* the copy ends once posted */
	int released;  /* set just before go is posted */
};

static enum vaern_err
slow_copy(void *arg)
{
	struct slow *s = arg;

	sem_post(&s->started);
	while (sem_wait(&s->go) != 0 && errno == EINTR)
		;
	return VAERN_OK;
}

static void *
release_later(void *arg)
{
	struct slow *s = arg;
	struct timespec ms50 = {0, 50000000L};

	(void)nanosleep(&ms50, NULL);
	__atomic_store_n(&s->released, 1, __ATOMIC_SEQ_CST);
	sem_post(&s->go);
	return NULL;
}

static void
test_far_behind_writer_waits_for_the_copy(void **state)
{
	/* The log grows CKPT_PAGES_BEHIND past the copy asked for while the
	 * copy runs: that commit waits for the copy to end, then finishes,
	 * instead of letting the log grow on. */
	struct slow s = {.released = 0};
	struct vaern_msg msg = {{0}};
	struct ckpt *k = NULL;
	pthread_t t;

	(void)state;
	sem_init(&s.started, 0, 0);
	sem_init(&s.go, 0, 0);
	assert_int_equal(ckpt_start(slow_copy, &s, "test-ckpt", &k, &msg),
	                 VAERN_OK);
	assert_int_equal(ckpt_committed(k, 1000), 0); /* asked */
	while (sem_wait(&s.started) != 0 && errno == EINTR)
		;
	assert_int_equal(ckpt_committed(k, 1000 + CKPT_PAGES_BEHIND - 1), 0);
	assert_int_equal(pthread_create(&t, NULL, release_later, &s), 0);
	assert_int_equal(ckpt_committed(k, 1000 + CKPT_PAGES_BEHIND), 1);
	assert_int_equal(__atomic_load_n(&s.released, __ATOMIC_SEQ_CST), 1);
	ckpt_finished(k, 1);
	assert_int_equal(ckpt_committed(k, 20), 0);
	pthread_join(t, NULL);
	ckpt_stop(k);
	sem_destroy(&s.go);
	sem_destroy(&s.started);
}

static void
test_no_helper(void **state)
{
	/* Without a helper SQLite copies in the commits: never asked. */
	(void)state;
	assert_int_equal(ckpt_committed(NULL, CKPT_PAGES * 20), 0);
	ckpt_finished(NULL, 0);
	ckpt_stop(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_copy_then_finish),
	        cmocka_unit_test(test_not_started_over_tried_again_backing_off),
	        cmocka_unit_test(test_reader_that_stays_bulk_copied_again),
	        cmocka_unit_test(test_started_over_elsewhere),
	        cmocka_unit_test(test_failed_copy_asked_again),
	        cmocka_unit_test(test_far_behind_writer_waits_for_the_copy),
	        cmocka_unit_test(test_no_helper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
