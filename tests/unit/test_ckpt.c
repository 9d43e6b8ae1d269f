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

/* One commit: the log's pages after it, whether the writer must copy
 * itself (ckpt_committed), whether the helper is asked to copy. */
struct step {
	int pages;
	int finish;
	int asks;
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
	        {10, 0, 0},
	        {999, 0, 0},  /* below CKPT_PAGES: SQLite's threshold */
	        {1000, 0, 1}, /* the helper copies the bulk */
	        {1010, 1, 0}, /* the writer the rest */
	        {5, 0, 0},    /* started over */
	        {999, 0, 0},
	        {1003, 0, 1}, /* the next copy */
	        {1020, 1, 0},
	        {30, 0, 0},
	};

	(void)state;
	run(steps, sizeof(steps) / sizeof(steps[0]), VAERN_OK);
}

static void
test_not_started_over_waits_for_more(void **state)
{
	/* A reader kept the log from starting over: no copy per commit,
	 * the next once CKPT_PAGES more pages are in. */
	static const struct step steps[] = {
	        {1000, 0, 1}, {1100, 1, 0}, /* finished at 1,100 */
	        {1150, 0, 0},               /* not started over */
	        {2099, 0, 0}, {2100, 0, 1}, /* 1,000 more */
	        {2110, 1, 0}, {40, 0, 0},   /* started over */
	        {1040, 0, 1},
	};

	(void)state;
	run(steps, sizeof(steps) / sizeof(steps[0]), VAERN_OK);
}

static void
test_failed_copy_asked_again_writer_at_inline(void **state)
{
	/* A failing copy is asked for again; the writer never finishes a
	 * copy that did not happen, until CKPT_PAGES_INLINE. */
	static const struct step steps[] = {
	        {1000, 0, 1},
	        {1001, 0, 1}, /* failed: asked again */
	        {1002, 0, 1},
	};

	(void)state;
	run(steps, sizeof(steps) / sizeof(steps[0]), VAERN_E_IO);
}

static void
test_no_helper(void **state)
{
	/* Without a helper SQLite copies in the commits: never asked. */
	(void)state;
	assert_int_equal(ckpt_committed(NULL, CKPT_PAGES_INLINE * 2), 0);
	ckpt_stop(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_copy_then_finish),
	        cmocka_unit_test(test_not_started_over_waits_for_more),
	        cmocka_unit_test(test_failed_copy_asked_again_writer_at_inline),
	        cmocka_unit_test(test_no_helper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
