/*
 * test_sqlite_util.c -- table-driven tests of the SQLite helpers both
 * stores use (src/store/sqlite_util.h): the error each failure maps to,
 * with its message, for the vault's mapping and the audit's; one row, no
 * row, a count, a one-row change and a walk of rows.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <string.h>

#include "store/sqlite_util.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

enum test_stmt {
	T_DUP_KEY,
	T_DUP_UNIQUE,
	T_NULL,
	T_GET,
	T_COUNT,
	T_NONE,
	T_RENAME,
	T_ALL,
	T_BROKEN,
	T_COUNT_
};

static const char *const test_sql[T_COUNT_] = {
        [T_DUP_KEY] = "INSERT INTO t(k, v) VALUES (1, 'b')",
        [T_DUP_UNIQUE] = "INSERT INTO t(k, v, u) VALUES (2, 'b', 'x')",
        [T_NULL] = "INSERT INTO t(k, v) VALUES (3, NULL)",
        [T_GET] = "SELECT v FROM t WHERE k = ?1",
        [T_COUNT] = "SELECT count(*) FROM t",
        [T_NONE] = "SELECT k FROM t WHERE k < 0",
        [T_RENAME] = "UPDATE t SET v = 'c' WHERE k = ?1",
        [T_ALL] = "SELECT k FROM t ORDER BY k",
        [T_BROKEN] = "SELECT v FROM nowhere",
};

/* A connection to a fresh in-memory database with one row in t. */
struct fixture {
	struct sqlu_conn conn;
	struct db_stmt *stmt[T_COUNT_];
};

static void
open_fixture(struct fixture *f, int any_constraint, const char *prefix)
{
	struct vaern_msg msg = {{0}};

	memset(f, 0, sizeof(*f));
	f->conn.sql = test_sql;
	f->conn.stmt = f->stmt;
	f->conn.nstmt = T_COUNT_;
	f->conn.prefix = prefix;
	f->conn.any_constraint = any_constraint;
	assert_int_equal(sqlu_open(&f->conn, ":memory:",
	                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                           1000, &msg),
	                 VAERN_OK);
	assert_int_equal(db_exec(f->conn.db,
	                         "CREATE TABLE t(k INTEGER PRIMARY KEY,"
	                         " v TEXT NOT NULL, u TEXT UNIQUE);"
	                         "INSERT INTO t VALUES (1, 'a', 'x');",
	                         NULL),
	                 DB_OK);
}

static void
test_fail_mapping(void **state)
{
	static const struct {
		int any_constraint;
		const char *prefix;
		enum test_stmt id;
		enum vaern_err err;
		const char *text;
	} cases[] = {
	        /* The vault's store: every constraint is "already exists". */
	        {1, "", T_DUP_KEY, VAERN_E_EXISTS, "row: already exists"},
	        {1, "", T_DUP_UNIQUE, VAERN_E_EXISTS, "row: already exists"},
	        {1, "", T_NULL, VAERN_E_EXISTS, "row: already exists"},
	        /* The audit store: only a duplicate key. */
	        {0, "audit ", T_DUP_KEY, VAERN_E_EXISTS,
	         "audit row: already exists"},
	        {0, "audit ", T_DUP_UNIQUE, VAERN_E_EXISTS,
	         "audit row: already exists"},
	        {0, "audit ", T_NULL, VAERN_E_STORE,
	         "audit row: sqlite: NOT NULL constraint failed: t.v"},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct fixture f;
		struct vaern_msg msg = {{0}};
		struct db_stmt *s;

		open_fixture(&f, cases[i].any_constraint, cases[i].prefix);
		s = sqlu_stmt(&f.conn, cases[i].id, &msg);
		assert_non_null(s);
		assert_int_equal(sqlu_step_done(&f.conn, s, "row", &msg),
		                 cases[i].err);
		assert_string_equal(msg.text, cases[i].text);
		/* The statement stays prepared, and comes back reset. */
		assert_ptr_equal(sqlu_stmt(&f.conn, cases[i].id, NULL), s);
		sqlu_close(&f.conn);
		assert_null(f.conn.db);
	}
}

static void
test_prepare_fails(void **state)
{
	struct fixture f;
	struct vaern_msg msg = {{0}};
	const char *want = "audit prepare: sqlite: no such table: nowhere";

	(void)state;
	open_fixture(&f, 0, "audit ");
	assert_null(sqlu_stmt(&f.conn, T_BROKEN, &msg));
	assert_string_equal(msg.text, want);
	assert_int_equal(sqlu_exec(&f.conn, T_BROKEN, "run", NULL),
	                 VAERN_E_STORE);
	sqlu_close(&f.conn);
}

static void
test_open_fails(void **state)
{
	struct fixture f;
	struct vaern_msg msg = {{0}};
	const char *want = "cannot open the database /nonexistent/vault.db: ";

	(void)state;
	memset(&f, 0, sizeof(f));
	f.conn.sql = test_sql;
	f.conn.stmt = f.stmt;
	f.conn.nstmt = T_COUNT_;
	f.conn.prefix = "";
	assert_int_equal(sqlu_open(&f.conn, "/nonexistent/vault.db",
	                           SQLITE_OPEN_READWRITE, 1000, &msg),
	                 VAERN_E_STORE);
	assert_memory_equal(msg.text, want, strlen(want));
	sqlu_close(&f.conn); /* releases the handle a failed open leaves */
}

static void
test_step_row(void **state)
{
	static const struct {
		int64_t key;
		const char *notfound;
		enum vaern_err err;
		const char *text; /* msg after the call, set to "-" before */
	} cases[] = {
	        {1, "no such row", VAERN_OK, "-"},
	        {9, "no such row", VAERN_E_NOTFOUND, "no such row"},
	        {9, "100% gone", VAERN_E_NOTFOUND, "100% gone"},
	        {9, NULL, VAERN_E_NOTFOUND, "-"},
	};
	struct fixture f;

	(void)state;
	open_fixture(&f, 1, "");
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {"-"};
		struct db_stmt *s = sqlu_stmt(&f.conn, T_GET, &msg);

		assert_non_null(s);
		db_bind_int64(s, 1, cases[i].key);
		assert_int_equal(sqlu_step_row(&f.conn, s, "row",
		                               cases[i].notfound, &msg),
		                 cases[i].err);
		if (cases[i].err == VAERN_OK)
			assert_string_equal((const char *)db_column_text(s, 0),
			                    "a");
		assert_string_equal(msg.text, cases[i].text);
		sqlu_reset(s);
	}
	sqlu_close(&f.conn);
}

static void
test_step_int64(void **state)
{
	struct fixture f;
	struct vaern_msg msg = {{0}};
	int64_t n = -1;

	(void)state;
	open_fixture(&f, 1, "");
	assert_int_equal(sqlu_step_int64(&f.conn,
	                                 sqlu_stmt(&f.conn, T_COUNT, NULL), &n,
	                                 "count", &msg),
	                 VAERN_OK);
	assert_int_equal(n, 1);
	/* No row is a failure, and leaves *out alone. */
	assert_int_equal(sqlu_step_int64(&f.conn,
	                                 sqlu_stmt(&f.conn, T_NONE, NULL), &n,
	                                 "count", &msg),
	                 VAERN_E_STORE);
	assert_int_equal(n, 1);
	assert_memory_equal(msg.text, "count: sqlite: ", 15);
	sqlu_close(&f.conn);
}

static void
test_step_changed(void **state)
{
	static const struct {
		int64_t key;
		enum vaern_err err;
		const char *text;
	} cases[] = {
	        {1, VAERN_OK, ""},
	        {9, VAERN_E_NOTFOUND, "no row 9 in t"},
	};
	struct fixture f;

	(void)state;
	open_fixture(&f, 1, "");
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};
		struct db_stmt *s = sqlu_stmt(&f.conn, T_RENAME, NULL);

		assert_non_null(s);
		db_bind_int64(s, 1, cases[i].key);
		assert_int_equal(sqlu_step_changed(&f.conn, s, "row", &msg,
		                                   "no row %lld in %s",
		                                   (long long)cases[i].key,
		                                   "t"),
		                 cases[i].err);
		assert_string_equal(msg.text, cases[i].text);
	}
	sqlu_close(&f.conn);
}

static void
test_rows_end(void **state)
{
	struct fixture f;
	struct vaern_msg msg = {{0}};
	struct db_stmt *s;
	int rc, rows = 0;

	(void)state;
	open_fixture(&f, 1, "");
	assert_int_equal(db_exec(f.conn.db,
	                         "INSERT INTO t(k, v) VALUES (2, 'b'),"
	                         " (3, 'c')",
	                         NULL),
	                 DB_OK);
	s = sqlu_stmt(&f.conn, T_ALL, NULL);
	while ((rc = db_step(s)) == DB_ROW)
		rows++;
	assert_int_equal(sqlu_rows_end(&f.conn, s, rc, VAERN_OK, "walk", &msg),
	                 VAERN_OK);
	assert_int_equal(rows, 3);
	/* A walk its callback stopped keeps the callback's error. */
	rc = db_step(s);
	assert_int_equal(rc, DB_ROW);
	assert_int_equal(
	        sqlu_rows_end(&f.conn, s, rc, VAERN_E_DENIED, "walk", &msg),
	        VAERN_E_DENIED);
	assert_string_equal(msg.text, "");
	/* Reset: the walk starts again from the first row. */
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_column_int64(s, 0), 1);
	sqlu_reset(s);
	sqlu_close(&f.conn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fail_mapping),
	        cmocka_unit_test(test_prepare_fails),
	        cmocka_unit_test(test_open_fails),
	        cmocka_unit_test(test_step_row),
	        cmocka_unit_test(test_step_int64),
	        cmocka_unit_test(test_step_changed),
	        cmocka_unit_test(test_rows_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
