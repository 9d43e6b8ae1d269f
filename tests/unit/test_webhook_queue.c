/*
 * test_webhook_queue.c -- the store's webhook queue (issue 19, point 6;
 * src/store/store_webhook.c), table-driven where it can be: nothing is
 * queued without an endpoint; an endpoint starts after the newest event;
 * each endpoint reads in order and acknowledges; a one-of-a-kind key is
 * queued once; pruning keeps what an endpoint lacks, the newest event and
 * young one-of-a-kind events, so ids keep growing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/store_webhook.h"

struct fixture {
	char dir[64];
	char db[96];
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vaern_msg msg = {{0}};

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vaern-hookq-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/vaern.db", f->dir);
	assert_int_equal(store_open_sqlite(f->db, 1, &f->st, &msg), VAERN_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Queues one event of type at t; returns 1 if it was queued. */
static int
add(struct store *st, const char *type, int64_t t, const char *once)
{
	static int n;
	struct store_webhook_event e;
	struct vaern_msg msg = {{0}};
	int queued = -1;

	memset(&e, 0, sizeof(e));
	snprintf(e.eid, sizeof(e.eid), "%032d", ++n);
	snprintf(e.type, sizeof(e.type), "%s", type);
	snprintf(e.body, sizeof(e.body), "{\"type\":\"%s\"}", type);
	e.created_at = t;
	assert_int_equal(store_begin(st, &msg), VAERN_OK);
	assert_int_equal(store_webhook_add(st, &e, once, &queued, &msg),
	                 VAERN_OK);
	assert_int_equal(store_commit(st, &msg), VAERN_OK);
	return queued;
}

static void
endpoints(struct store *st, const char *const *keys, size_t n)
{
	struct vaern_msg msg = {{0}};

	assert_int_equal(store_begin(st, &msg), VAERN_OK);
	assert_int_equal(store_webhook_endpoints(st, keys, n, &msg), VAERN_OK);
	assert_int_equal(store_commit(st, &msg), VAERN_OK);
}

/* The type of key's next event, or "" if none; pending into *n. */
static const char *
next(struct store *st, const char *key, int64_t *id, int64_t *n)
{
	static struct store_webhook_event e;
	struct vaern_msg msg = {{0}};
	enum vaern_err err = store_webhook_next(st, key, &e, n, &msg);

	if (err == VAERN_E_NOTFOUND)
		return "";
	assert_int_equal(err, VAERN_OK);
	*id = e.id;
	return e.type;
}

static void
ack(struct store *st, const char *key, int64_t id, int64_t once_since)
{
	struct vaern_msg msg = {{0}};

	assert_int_equal(store_begin(st, &msg), VAERN_OK);
	assert_int_equal(store_webhook_ack(st, key, id, &msg), VAERN_OK);
	assert_int_equal(store_webhook_prune(st, once_since, &msg), VAERN_OK);
	assert_int_equal(store_commit(st, &msg), VAERN_OK);
}

static void
test_nothing_queued_without_an_endpoint(void **state)
{
	struct fixture *f = *state;
	static const char *const a[] = {"a"};
	int64_t id = 0, n = 0;

	assert_int_equal(add(f->st, "request.created", 1, NULL), 0);
	endpoints(f->st, a, 1);
	/* Registered after it: the earlier event is not its. */
	assert_string_equal(next(f->st, "a", &id, &n), "");
	assert_int_equal(add(f->st, "request.created", 2, NULL), 1);
	assert_string_equal(next(f->st, "a", &id, &n), "request.created");
	assert_int_equal(n, 1);
	/* Dropped from the configuration: nothing is queued any more. */
	endpoints(f->st, NULL, 0);
	assert_int_equal(add(f->st, "request.verified", 3, NULL), 0);
}

static void
test_in_order_per_endpoint_and_acknowledged(void **state)
{
	struct fixture *f = *state;
	static const char *const ab[] = {"a", "b"};
	static const char *const types[] = {
	        "request.created", "request.verified", "request.completed"};
	int64_t id = 0, n = 0;

	endpoints(f->st, ab, 2);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(add(f->st, types[i], (int64_t)i, NULL), 1);
	/* a reads all three in order; b, not acknowledging, stays. */
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(next(f->st, "a", &id, &n), types[i]);
		assert_int_equal(n, 3 - (int64_t)i);
		/* Not acknowledged: the same again. */
		assert_string_equal(next(f->st, "a", &id, &n), types[i]);
		ack(f->st, "a", id, 0);
	}
	assert_string_equal(next(f->st, "a", &id, &n), "");
	assert_string_equal(next(f->st, "b", &id, &n), types[0]);
	assert_int_equal(n, 3);
	/* b catches up; everything but the newest is pruned, and the next
	 * event still comes after it for both. */
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(next(f->st, "b", &id, &n), types[i]);
		ack(f->st, "b", id, 0);
	}
	assert_int_equal(add(f->st, "policy.loaded", 9, NULL), 1);
	assert_string_equal(next(f->st, "a", &id, &n), "policy.loaded");
	assert_int_equal(n, 1);
	assert_string_equal(next(f->st, "b", &id, &n), "policy.loaded");
}

static void
test_one_of_a_kind_queued_once(void **state)
{
	struct fixture *f = *state;
	static const char *const a[] = {"a"};
	static const struct {
		const char *once;
		int queued;
	} cases[] = {
	        {"request.due_soon:r1:2026-02-01", 1},
	        {"request.due_soon:r1:2026-02-01", 0}, /* again: dropped */
	        {"request.due_soon:r1:2026-03-01", 1}, /* a new deadline */
	        {NULL, 1},
	        {NULL, 1}, /* no key: every one */
	};
	int64_t id = 0, n = 0;

	endpoints(f->st, a, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(
		        add(f->st, "request.due_soon", 100, cases[i].once),
		        cases[i].queued);
	/* Delivered and pruned with once_since before their time: the keys
	 * stay, so the scan cannot queue them again. */
	while (next(f->st, "a", &id, &n)[0] != '\0')
		ack(f->st, "a", id, 50);
	assert_int_equal(add(f->st, "request.due_soon", 200,
	                     "request.due_soon:r1:2026-02-01"),
	                 0);
	/* Past their keeping time they go, and the key with them. */
	ack(f->st, "a", id, 150);
	assert_int_equal(add(f->st, "request.due_soon", 300,
	                     "request.due_soon:r1:2026-02-01"),
	                 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(
	                test_nothing_queued_without_an_endpoint, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_in_order_per_endpoint_and_acknowledged, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_one_of_a_kind_queued_once,
	                                        setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
