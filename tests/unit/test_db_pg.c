/*
 * test_db_pg.c -- the PostgreSQL engine behind db.h (src/store/db_pg.c,
 * issue 14), against a real throwaway cluster: meson runs this program
 * under scripts/pg-cluster run, which sets VAERN_PG_CONNINFO (and
 * VAERN_PG_DIR, the folder of its socket).
 *
 * Parameters translated (?N, bare ?, literals left alone); every column
 * type bound, stepped and read, NULLs, a bytea with zero bytes and a
 * 1 MiB one; a unique violation, another constraint, a data exception
 * (none names the value); a lock wait that times out; a transaction
 * rolled back; a connection whose backend is terminated, outside a
 * transaction (reset by itself) and inside one (fails until rolled
 * back); a server that goes down and comes back; a password that never
 * reaches an error; the embedded schema; shared writers of one lock and
 * the pipeline of their statements (issue 14).
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_pg_sql.h"
#include "store/db.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A password no error may show. */
#define SECRET "Wr0ng-s3cret-pw"

static const char *
conninfo(void)
{
	const char *ci = getenv("VAERN_PG_CONNINFO");

	if (ci == NULL || ci[0] == '\0')
		fail_msg("VAERN_PG_CONNINFO is not set: run under "
		         "scripts/pg-cluster run (meson test does)");
	return ci;
}

static struct db *
open_db(const char *schema)
{
	struct db *db = NULL;
	int rc = db_open_pg(conninfo(), schema, &db);

	if (rc != DB_OK)
		fail_msg("db_open_pg: %s", db != NULL ? db_errmsg(db) : "oom");
	assert_int_equal(db_engine(db), DB_POSTGRESQL);
	return db;
}

static void
exec_ok(struct db *db, const char *sql)
{
	char *e = NULL;

	if (db_exec(db, sql, &e) != DB_OK)
		fail_msg("%s: %s", sql, e != NULL ? e : "?");
	db_free(e);
}

static struct db_stmt *
prep(struct db *db, const char *sql)
{
	struct db_stmt *s = NULL;

	if (db_prepare(db, sql, 1, &s) != DB_OK)
		fail_msg("prepare %s: %s", sql, db_errmsg(db));
	return s;
}

/* One integer from a one-row query without parameters. */
static int64_t
scalar(struct db *db, const char *sql)
{
	struct db_stmt *s = prep(db, sql);
	int64_t v;

	assert_int_equal(db_step(s), DB_ROW);
	v = db_column_int64(s, 0);
	assert_int_equal(db_step(s), DB_DONE);
	db_finalize(s);
	return v;
}

/* ---- parameters: SQLite's numbering, translated at prepare ---- */

struct translate_case {
	const char *sql;
	int nbind;           /* text parameters bound: "a", "b", "c" */
	const char *expect;  /* the text of column 0 */
	int bind_out_of_set; /* this index must be out of range */
};

static void
test_translate(void **state)
{
	static const struct translate_case cases[] = {
	        {"SELECT CAST(?1 AS TEXT) || CAST(?2 AS TEXT)", 2, "ab", 3},
	        /* A bare ? is one more than the highest so far. */
	        {"SELECT CAST(? AS TEXT) || CAST(? AS TEXT)", 2, "ab", 3},
	        {"SELECT CAST(?2 AS TEXT) || CAST(? AS TEXT) || CAST(?1 AS "
	         "TEXT)",
	         3, "bca", 4},
	        /* ? inside a literal, a quoted identifier, comments and a
	         * dollar quote is not a parameter. */
	        {"SELECT '?' || CAST(?1 AS TEXT) || 'it''s ?'", 1, "?ait's ?",
	         2},
	        {"SELECT \"?x\" || CAST(? AS TEXT) FROM (SELECT 'q' AS \"?x\")"
	         " AS t",
	         1, "qa", 2},
	        {"SELECT /* ? /* ?? */ */ CAST(?1 AS TEXT) -- ?\n", 1, "a", 2},
	        {"SELECT $$?$$ || $t$?1$t$ || CAST(?1 AS TEXT)", 1, "??1a", 2},
	        {"SELECT E'\\'?' || CAST(? AS TEXT)", 1, "'?a", 2},
	        /* A number the SQL skips (SQLite allows it): bound, and
	         * neither sent nor a type the server must guess. */
	        {"SELECT CAST(?1 AS TEXT) || CAST(?3 AS TEXT)", 3, "ac", 4},
	        /* SQLite's "main." goes; not in a literal, nor a quoted
	         * "main", nor after a dot. */
	        {"SELECT 'main.' || CAST(?1 AS TEXT) || \"main\".x ||"
	         " main.typname FROM (SELECT 'q' AS x) AS \"main\","
	         " main.pg_type WHERE main.pg_type.typname = 'int8'",
	         1, "main.aqint8", 2},
	        /* PostgreSQL's own $N is counted too. */
	        {"SELECT CAST($1 AS TEXT) || CAST(?2 AS TEXT)", 2, "ab", 3},
	};
	static const char *const vals[] = {"a", "b", "c"};
	struct db *db = open_db(NULL);
	size_t i;
	int k;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		struct db_stmt *s = prep(db, cases[i].sql);

		for (k = 1; k <= cases[i].nbind; k++)
			assert_int_equal(db_bind_text(s, k, vals[k - 1], -1),
			                 DB_OK);
		assert_int_not_equal(
		        db_bind_text(s, cases[i].bind_out_of_set, "x", -1),
		        DB_OK);
		assert_int_not_equal(db_bind_int64(s, 0, 1), DB_OK);
		if (db_step(s) != DB_ROW)
			fail_msg("case %zu: %s", i, db_errmsg(db));
		assert_string_equal((const char *)db_column_text(s, 0),
		                    cases[i].expect);
		assert_int_equal(db_column_type(s, 0), DB_TEXT);
		assert_int_equal(db_step(s), DB_DONE);
		db_finalize(s);
	}
	db_close(db);
}

/* ---- every column type ---- */

static void
test_types(void **state)
{
	static const unsigned char zeros[] = {'a', 0, 'b', 0, 0, 0xff};
	static const char utf8[] = "Ærø \xe2\x82\xac";
	struct db *db = open_db(NULL);
	struct db_stmt *ins, *sel;
	const unsigned char *b;

	(void)state;
	exec_ok(db, "DROP TABLE IF EXISTS ty;"
	            "CREATE TABLE ty(k BIGINT PRIMARY KEY, i BIGINT, t TEXT,"
	            " b BYTEA, f DOUBLE PRECISION, ok BOOLEAN, n NUMERIC,"
	            " s SMALLINT)");
	ins = prep(db, "INSERT INTO ty(k, i, t, b, f, ok, n, s)"
	               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	/* Row 1: every value; the text bound with a length, not its NUL. */
	assert_int_equal(db_bind_int64(ins, 1, 1), DB_OK);
	assert_int_equal(db_bind_int64(ins, 2, INT64_MIN), DB_OK);
	assert_int_equal(db_bind_text(ins, 3, "hello, world", 5), DB_OK);
	assert_int_equal(db_bind_blob(ins, 4, zeros, sizeof(zeros)), DB_OK);
	assert_int_equal(db_bind_text(ins, 5, "2.5", -1), DB_OK);
	assert_int_equal(db_bind_int(ins, 6, 1), DB_OK);
	assert_int_equal(db_bind_text(ins, 7, "12.75", -1), DB_OK);
	assert_int_equal(db_bind_int(ins, 8, -7), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	assert_int_equal(db_changes(db), 1);
	/* Row 2: NULLs, bound and unbound; an empty blob is not NULL. */
	db_reset(ins);
	db_clear_bindings(ins);
	assert_int_equal(db_bind_int64(ins, 1, 2), DB_OK);
	assert_int_equal(db_bind_int64(ins, 2, INT64_MAX), DB_OK);
	assert_int_equal(db_bind_null(ins, 3), DB_OK);
	assert_int_equal(db_bind_blob(ins, 4, "", 0), DB_OK);
	assert_int_equal(db_bind_int(ins, 6, 0), DB_OK);
	assert_int_equal(db_bind_text(ins, 7, "40", -1), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	/* Row 3: UTF-8 text; a NULL blob pointer binds NULL. */
	db_reset(ins);
	db_clear_bindings(ins);
	assert_int_equal(db_bind_int64(ins, 1, 3), DB_OK);
	assert_int_equal(db_bind_text(ins, 3, utf8, -1), DB_OK);
	assert_int_equal(db_bind_blob(ins, 4, NULL, 0), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	db_finalize(ins);

	sel = prep(db, "SELECT k, i, t, b, f, ok, n, s, k > ?1 FROM ty"
	               " ORDER BY k");
	assert_int_equal(db_bind_int64(sel, 1, 1), DB_OK);
	assert_int_equal(db_step(sel), DB_ROW);
	assert_int_equal(db_column_type(sel, 0), DB_INTEGER);
	assert_int_equal(db_column_int64(sel, 0), 1);
	assert_int_equal(db_column_type(sel, 1), DB_INTEGER);
	assert_true(db_column_int64(sel, 1) == INT64_MIN);
	assert_int_equal(db_column_type(sel, 2), DB_TEXT);
	assert_string_equal((const char *)db_column_text(sel, 2), "hello");
	assert_int_equal(db_column_bytes(sel, 2), 5);
	assert_int_equal(db_column_type(sel, 3), DB_BLOB);
	b = db_column_blob(sel, 3);
	assert_non_null(b);
	assert_int_equal(db_column_bytes(sel, 3), sizeof(zeros));
	assert_memory_equal(b, zeros, sizeof(zeros));
	assert_int_equal(db_column_type(sel, 4), DB_FLOAT);
	assert_true(db_column_double(sel, 4) == 2.5);
	assert_int_equal(db_column_int64(sel, 4), 2);
	/* A boolean reads as 1/0. */
	assert_int_equal(db_column_type(sel, 5), DB_INTEGER);
	assert_int_equal(db_column_int64(sel, 5), 1);
	assert_int_equal(db_column_type(sel, 6), DB_FLOAT);
	assert_true(db_column_double(sel, 6) == 12.75);
	assert_int_equal(db_column_type(sel, 7), DB_INTEGER);
	assert_int_equal(db_column_int64(sel, 7), -7);
	assert_int_equal(db_column_int64(sel, 8), 0);
	/* The blob read again is the same bytes (its buffer stays). */
	assert_ptr_equal(db_column_blob(sel, 3), b);

	assert_int_equal(db_step(sel), DB_ROW);
	assert_true(db_column_int64(sel, 1) == INT64_MAX);
	assert_int_equal(db_column_type(sel, 2), DB_NULL);
	assert_null(db_column_text(sel, 2));
	assert_int_equal(db_column_bytes(sel, 2), 0);
	assert_int_equal(db_column_type(sel, 3), DB_BLOB);
	assert_null(db_column_blob(sel, 3)); /* zero-length: as SQLite */
	assert_int_equal(db_column_bytes(sel, 3), 0);
	assert_int_equal(db_column_type(sel, 4), DB_NULL);
	assert_int_equal(db_column_int64(sel, 4), 0);
	assert_int_equal(db_column_int64(sel, 5), 0);
	/* A numeric without a fraction is an integer. */
	assert_int_equal(db_column_type(sel, 6), DB_INTEGER);
	assert_int_equal(db_column_int64(sel, 6), 40);
	assert_int_equal(db_column_type(sel, 7), DB_NULL);
	assert_int_equal(db_column_int64(sel, 8), 1);

	assert_int_equal(db_step(sel), DB_ROW);
	assert_string_equal((const char *)db_column_text(sel, 2), utf8);
	assert_int_equal(db_column_bytes(sel, 2), (int)strlen(utf8));
	assert_int_equal(db_column_type(sel, 3), DB_NULL);
	assert_null(db_column_blob(sel, 3));
	assert_int_equal(db_column_type(sel, 5), DB_NULL);
	assert_int_equal(db_step(sel), DB_DONE);
	/* Past the last row: no row to read. */
	assert_int_equal(db_column_type(sel, 0), DB_NULL);
	assert_null(db_column_text(sel, 0));
	/* A step after DB_DONE runs the statement again. */
	assert_int_equal(db_step(sel), DB_ROW);
	assert_int_equal(db_column_int64(sel, 0), 1);
	db_reset(sel);
	assert_int_equal(db_step(sel), DB_ROW);
	assert_int_equal(db_column_int64(sel, 0), 1);
	db_finalize(sel);
	db_close(db);
}

/* A 1 MiB blob, as a sealed file would be, through and back. */
static void
test_big_blob(void **state)
{
	enum { BIG = 1 << 20 };
	unsigned char *big = malloc(BIG);
	struct db *db = open_db(NULL);
	struct db_stmt *s;
	size_t i;

	(void)state;
	assert_non_null(big);
	for (i = 0; i < BIG; i++)
		big[i] = (unsigned char)(i * 131 + (i >> 8));
	exec_ok(db, "DROP TABLE IF EXISTS big;"
	            "CREATE TABLE big(k BIGINT PRIMARY KEY, b BYTEA NOT NULL)");
	s = prep(db, "INSERT INTO big(k, b) VALUES (1, ?1)");
	assert_int_equal(db_bind_blob(s, 1, big, BIG), DB_OK);
	assert_int_equal(db_step(s), DB_DONE);
	db_finalize(s);
	s = prep(db, "SELECT b, length(b) FROM big WHERE k = 1");
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_column_bytes(s, 0), BIG);
	assert_int_equal(db_column_int64(s, 1), BIG);
	assert_memory_equal(db_column_blob(s, 0), big, BIG);
	assert_int_equal(db_step(s), DB_DONE);
	db_finalize(s);
	free(big);
	db_close(db);
}

/* ---- failures: kind and message, never the value ---- */

static void
test_constraints(void **state)
{
	struct db *db = open_db(NULL);
	struct db_stmt *s;
	int rc;

	(void)state;
	exec_ok(db, "DROP TABLE IF EXISTS person;"
	            "CREATE TABLE person(k BIGINT PRIMARY KEY,"
	            " email TEXT NOT NULL CONSTRAINT person_email UNIQUE,"
	            " age BIGINT CHECK (age >= 0))");
	s = prep(db, "INSERT INTO person(k, email, age) VALUES (?1, ?2, ?3)");
	assert_int_equal(db_bind_int64(s, 1, 1), DB_OK);
	assert_int_equal(db_bind_text(s, 2, "anna@example.org", -1), DB_OK);
	assert_int_equal(db_bind_int64(s, 3, 30), DB_OK);
	assert_int_equal(db_step(s), DB_DONE);
	/* The same e-mail again: unique; DETAIL (the value) never shown. */
	db_reset(s);
	assert_int_equal(db_bind_int64(s, 1, 2), DB_OK);
	rc = db_step(s);
	assert_int_not_equal(rc, DB_DONE);
	assert_int_equal(rc & 0xff, SQLITE_CONSTRAINT);
	assert_int_equal(db_errkind(db), DB_EK_UNIQUE);
	assert_non_null(strstr(db_errmsg(db), "person_email"));
	assert_null(strstr(db_errmsg(db), "anna"));
	/* The same key: the primary key is unique too. */
	db_reset(s);
	assert_int_equal(db_bind_int64(s, 1, 1), DB_OK);
	assert_int_equal(db_bind_text(s, 2, "bo@example.org", -1), DB_OK);
	assert_int_not_equal(db_step(s), DB_DONE);
	assert_int_equal(db_errkind(db), DB_EK_UNIQUE);
	/* A check and a NOT NULL: another constraint. */
	db_reset(s);
	assert_int_equal(db_bind_int64(s, 1, 3), DB_OK);
	assert_int_equal(db_bind_int64(s, 3, -1), DB_OK);
	assert_int_not_equal(db_step(s), DB_DONE);
	assert_int_equal(db_errkind(db), DB_EK_CONSTRAINT);
	assert_null(strstr(db_errmsg(db), "bo@"));
	db_reset(s);
	assert_int_equal(db_bind_null(s, 2), DB_OK);
	assert_int_equal(db_bind_int64(s, 3, 5), DB_OK);
	assert_int_not_equal(db_step(s), DB_DONE);
	assert_int_equal(db_errkind(db), DB_EK_CONSTRAINT);
	/* A value of the wrong type: its message stops before the value. */
	db_reset(s);
	assert_int_equal(db_bind_text(s, 1, "anna-personal", -1), DB_OK);
	assert_int_not_equal(db_step(s), DB_DONE);
	assert_int_equal(db_errkind(db), DB_EK_OTHER);
	assert_non_null(strstr(db_errmsg(db), "invalid input syntax"));
	assert_null(strstr(db_errmsg(db), "anna"));
	/* Out of range: the value is quoted before any colon. */
	db_reset(s);
	assert_int_equal(db_bind_text(s, 1, "98765432109876543210", -1), DB_OK);
	assert_int_not_equal(db_step(s), DB_DONE);
	assert_non_null(strstr(db_errmsg(db), "out of range"));
	assert_null(strstr(db_errmsg(db), "98765"));
	db_finalize(s);
	/* Nothing but the first row was written. */
	assert_int_equal(scalar(db, "SELECT count(*) FROM person"), 1);
	/* A statement the server rejects fails at prepare. */
	s = (struct db_stmt *)1;
	assert_int_not_equal(db_prepare(db, "SELECT nope FROM nowhere", 0, &s),
	                     DB_OK);
	assert_null(s);
	assert_non_null(strstr(db_errmsg(db), "nowhere"));
	db_close(db);
}

/* A lock held by another connection past lock_timeout: busy. */
static void
test_busy(void **state)
{
	struct db *a = open_db(NULL), *b = open_db(NULL);
	char *e = NULL;
	int rc;

	(void)state;
	exec_ok(a, "DROP TABLE IF EXISTS lk; CREATE TABLE lk(k BIGINT);"
	           "INSERT INTO lk VALUES (1)");
	exec_ok(a, "BEGIN IMMEDIATE; UPDATE lk SET k = 2");
	assert_int_equal(db_autocommit(a), 0);
	db_busy_timeout(b, 50);
	rc = db_exec(b, "UPDATE lk SET k = 3", &e);
	assert_int_equal(rc, DB_BUSY);
	assert_int_equal(db_errkind(b), DB_EK_BUSY);
	assert_non_null(e);
	db_free(e);
	exec_ok(a, "ROLLBACK");
	/* Once free, the same update goes through; 0 fails at once. */
	db_busy_timeout(b, 0);
	exec_ok(b, "UPDATE lk SET k = 3");
	assert_int_equal(db_changes(b), 1);
	assert_int_equal(scalar(a, "SELECT k FROM lk"), 3);
	db_close(a);
	db_close(b);
}

/* A statement the server rejects fails alone, inside a transaction too
 * (as on SQLite); "?1 IS NULL OR name = ?1" prepares (the parameter
 * declared text), "?1 IS NULL OR k = ?1" on a number asks for a CAST. */
static void
test_prepare_in_txn(void **state)
{
	struct db *db = open_db(NULL);
	struct db_stmt *s = NULL, *ins;

	(void)state;
	exec_ok(db, "DROP TABLE IF EXISTS pt;"
	            "CREATE TABLE pt(k BIGINT PRIMARY KEY, name TEXT)");
	ins = prep(db, "INSERT INTO pt(k, name) VALUES (?1, ?2)");
	exec_ok(db, "BEGIN");
	assert_int_equal(db_bind_int64(ins, 1, 1), DB_OK);
	assert_int_equal(db_bind_text(ins, 2, "x", -1), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	assert_int_not_equal(db_prepare(db, "SELECT nope FROM nowhere", 0, &s),
	                     DB_OK);
	assert_non_null(strstr(db_errmsg(db), "nowhere"));
	/* The optional filter: NULL matches all, a name its rows. */
	s = prep(db, "SELECT count(*) FROM pt WHERE (?1 IS NULL OR name = ?1)");
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_column_int64(s, 0), 1);
	db_reset(s);
	assert_int_equal(db_bind_text(s, 1, "y", -1), DB_OK);
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_column_int64(s, 0), 0);
	db_finalize(s);
	s = (struct db_stmt *)1;
	assert_int_not_equal(db_prepare(db,
	                                "SELECT count(*) FROM pt"
	                                " WHERE (?1 IS NULL OR k = ?1)",
	                                0, &s),
	                     DB_OK);
	assert_null(s);
	assert_non_null(strstr(db_errmsg(db), "could not determine"));
	/* The transaction went on: a second row, committed with the first. */
	db_reset(ins);
	assert_int_equal(db_bind_int64(ins, 1, 2), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	exec_ok(db, "COMMIT");
	assert_int_equal(scalar(db, "SELECT count(*) FROM pt"), 2);
	db_finalize(ins);
	db_close(db);
}

/* db_begin on PostgreSQL: the write lock is an advisory lock every
 * connection shares; a try that finds it taken is busy and leaves no
 * transaction; a wait past lock_timeout is busy too, and leaves none. */
static void
test_write_lock(void **state)
{
	struct db *a = open_db(NULL), *b = open_db(NULL);
	char *e = NULL;

	(void)state;
	assert_int_equal(db_begin(a, DB_TRY_WRITE, DB_LOCK_STORE), DB_OK);
	assert_int_equal(db_autocommit(a), 0);
	assert_int_equal(db_begin(b, DB_TRY_WRITE, DB_LOCK_STORE), DB_BUSY);
	assert_int_equal(db_errkind(b), DB_EK_BUSY);
	assert_int_equal(db_autocommit(b), 1);
	/* Another lock is free. */
	assert_int_equal(db_begin(b, DB_TRY_WRITE, DB_LOCK_AUDIT), DB_OK);
	exec_ok(b, "ROLLBACK");
	db_busy_timeout(b, 100);
	assert_int_equal(db_begin(b, DB_WRITE, DB_LOCK_STORE), DB_BUSY);
	assert_int_equal(db_errkind(b), DB_EK_BUSY);
	assert_int_equal(db_autocommit(b), 1);
	assert_int_equal(scalar(b, "SELECT 7"), 7);
	exec_ok(a, "COMMIT");
	assert_int_equal(db_begin(b, DB_WRITE, DB_LOCK_STORE), DB_OK);
	assert_int_equal(db_begin(a, DB_TRY_WRITE, DB_LOCK_STORE), DB_BUSY);
	exec_ok(b, "COMMIT");
	/* A read: one snapshot, no writes. */
	assert_int_equal(db_begin(a, DB_READ, 0), DB_OK);
	assert_int_not_equal(db_exec(a, "CREATE TABLE nope(x BIGINT)", &e),
	                     DB_OK);
	db_free(e);
	exec_ok(a, "ROLLBACK");
	db_close(a);
	db_close(b);
}

/* BEGIN (SQLite's IMMEDIATE too), a change, ROLLBACK: nothing stays. */
static void
test_rollback(void **state)
{
	struct db *db = open_db(NULL);
	struct db_stmt *begin, *ins, *rollback, *commit, *upd;

	(void)state;
	exec_ok(db, "DROP TABLE IF EXISTS tx;"
	            "CREATE TABLE tx(k BIGINT PRIMARY KEY)");
	begin = prep(db, "BEGIN IMMEDIATE");
	ins = prep(db, "INSERT INTO tx(k) VALUES (?1)");
	rollback = prep(db, "ROLLBACK");
	commit = prep(db, "COMMIT");
	assert_int_equal(db_autocommit(db), 1);
	assert_int_equal(db_step(begin), DB_DONE);
	assert_int_equal(db_autocommit(db), 0);
	assert_int_equal(db_bind_int64(ins, 1, 1), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	assert_int_equal(db_step(rollback), DB_DONE);
	assert_int_equal(db_autocommit(db), 1);
	assert_int_equal(scalar(db, "SELECT count(*) FROM tx"), 0);
	/* A failed statement aborts the transaction; ROLLBACK ends it. */
	db_reset(begin);
	db_reset(ins);
	db_reset(rollback);
	assert_int_equal(db_step(begin), DB_DONE);
	assert_int_equal(db_step(ins), DB_DONE);
	db_reset(ins);
	assert_int_not_equal(db_step(ins), DB_DONE); /* the same key */
	assert_int_equal(db_errkind(db), DB_EK_UNIQUE);
	assert_int_equal(db_autocommit(db), 0);
	assert_int_equal(db_step(rollback), DB_DONE);
	assert_int_equal(scalar(db, "SELECT count(*) FROM tx"), 0);
	/* And a committed one stays, with its changes counted. */
	db_reset(begin);
	db_reset(ins);
	assert_int_equal(db_step(begin), DB_DONE);
	assert_int_equal(db_step(ins), DB_DONE);
	assert_int_equal(db_step(commit), DB_DONE);
	upd = prep(db, "UPDATE tx SET k = k + 10 RETURNING k");
	assert_int_equal(db_step(upd), DB_ROW);
	assert_int_equal(db_column_int64(upd, 0), 11);
	assert_int_equal(db_step(upd), DB_DONE);
	assert_int_equal(db_changes(db), 1);
	db_finalize(upd);
	db_finalize(begin);
	db_finalize(ins);
	db_finalize(rollback);
	db_finalize(commit);
	db_close(db);
}

/* Ends the session of backend pid from another connection, and waits
 * until it is. */
static void
terminate_pid(int64_t pid)
{
	struct db *killer = open_db(NULL);
	struct db_stmt *s =
	        prep(killer, "SELECT pg_terminate_backend(CAST(?1 AS INT),"
	                     " 10000)");

	assert_int_equal(db_bind_int64(s, 1, pid), DB_OK);
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_column_int64(s, 0), 1);
	db_finalize(s);
	db_close(killer);
}

/* Ends db's session from another connection, and waits until it is. */
static void
terminate(struct db *db)
{
	terminate_pid(scalar(db, "SELECT pg_backend_pid()"));
}

static void
test_reconnect(void **state)
{
	struct db *db = open_db(NULL);
	struct db_stmt *ins, *count;
	int64_t pid;
	char *e = NULL;

	(void)state;
	exec_ok(db, "DROP TABLE IF EXISTS rc;"
	            "CREATE TABLE rc(k BIGINT PRIMARY KEY)");
	db_busy_timeout(db, 2000);
	ins = prep(db, "INSERT INTO rc(k) VALUES (?1)");
	count = prep(db, "SELECT count(*), pg_backend_pid(),"
	                 " current_setting('lock_timeout') FROM rc");
	assert_int_equal(db_step(count), DB_ROW);
	pid = db_column_int64(count, 1);
	db_reset(count);

	/* Outside a transaction: the next call reconnects, and the
	 * statements prepared before are prepared again. */
	terminate(db);
	assert_int_equal(db_bind_int64(ins, 1, 1), DB_OK);
	if (db_step(ins) != DB_DONE)
		fail_msg("after terminate: %s", db_errmsg(db));
	assert_int_equal(db_step(count), DB_ROW);
	assert_int_equal(db_column_int64(count, 0), 1);
	assert_true(db_column_int64(count, 1) != pid);
	/* The session's settings came back with it. */
	assert_string_equal((const char *)db_column_text(count, 2), "2s");
	assert_int_equal(scalar(db, "SELECT count(*) FROM pg_stat_activity"
	                            " WHERE pid = pg_backend_pid() AND"
	                            " application_name = 'vaern'"),
	                 1);
	db_reset(count);

	/* Inside one: fails, and keeps failing until ROLLBACK; the
	 * change is not half-written. */
	exec_ok(db, "BEGIN");
	db_reset(ins);
	assert_int_equal(db_bind_int64(ins, 1, 2), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	terminate(db);
	db_reset(ins);
	assert_int_equal(db_bind_int64(ins, 1, 3), DB_OK);
	assert_int_not_equal(db_step(ins), DB_DONE);
	assert_int_equal(db_errkind(db), DB_EK_GONE);
	assert_int_equal(db_autocommit(db), 0);
	db_reset(ins);
	assert_int_not_equal(db_step(ins), DB_DONE);
	assert_int_equal(db_errkind(db), DB_EK_GONE);
	assert_int_not_equal(db_exec(db, "COMMIT", &e), DB_OK);
	assert_int_equal(db_errkind(db), DB_EK_GONE);
	db_free(e);
	exec_ok(db, "ROLLBACK");
	assert_int_equal(db_autocommit(db), 1);
	assert_int_equal(db_step(count), DB_ROW);
	assert_int_equal(db_column_int64(count, 0), 1);
	db_reset(count);

	/* A caller that ends with COMMIT and never rolls back: the failed
	 * COMMIT ends the lost transaction, and the next statement
	 * reconnects (a node follows its database back by itself). */
	exec_ok(db, "BEGIN");
	db_reset(ins);
	assert_int_equal(db_bind_int64(ins, 1, 4), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	terminate(db);
	assert_int_not_equal(db_exec(db, "COMMIT", &e), DB_OK);
	assert_int_equal(db_errkind(db), DB_EK_GONE);
	db_free(e);
	assert_int_equal(db_autocommit(db), 1);
	assert_int_equal(db_step(count), DB_ROW);
	assert_int_equal(db_column_int64(count, 0), 1);
	db_finalize(ins);
	db_finalize(count);
	db_close(db);
}

/* Issue 14: DB_WRITE_SHARED writers of one lock run at once; a DB_WRITE
 * of it excludes them and they it. */
static void
test_shared_lock(void **state)
{
	struct db *a = open_db(NULL), *b = open_db(NULL), *c = open_db(NULL);

	(void)state;
	assert_int_equal(db_begin(a, DB_TRY_WRITE_SHARED, DB_LOCK_STORE),
	                 DB_OK);
	assert_int_equal(db_begin(b, DB_TRY_WRITE_SHARED, DB_LOCK_STORE),
	                 DB_OK);
	assert_int_equal(db_begin(c, DB_TRY_WRITE, DB_LOCK_STORE), DB_BUSY);
	db_busy_timeout(c, 100);
	assert_int_equal(db_begin(c, DB_WRITE, DB_LOCK_STORE), DB_BUSY);
	assert_int_equal(db_errkind(c), DB_EK_BUSY);
	exec_ok(a, "COMMIT");
	assert_int_equal(db_begin(c, DB_TRY_WRITE, DB_LOCK_STORE), DB_BUSY);
	exec_ok(b, "COMMIT");
	assert_int_equal(db_begin(c, DB_WRITE, DB_LOCK_STORE), DB_OK);
	assert_int_equal(db_begin(a, DB_TRY_WRITE_SHARED, DB_LOCK_STORE),
	                 DB_BUSY);
	db_busy_timeout(a, 100);
	assert_int_equal(db_begin(a, DB_WRITE_SHARED, DB_LOCK_STORE), DB_BUSY);
	assert_int_equal(db_autocommit(a), 1);
	exec_ok(c, "COMMIT");
	assert_int_equal(db_begin(a, DB_WRITE_SHARED, DB_LOCK_STORE), DB_OK);
	exec_ok(a, "ROLLBACK");
	db_close(a);
	db_close(b);
	db_close(c);
}

/* Issue 14: in a shared writer's transaction the statements of no rows
 * are queued (db_pg.c's pipeline); each failure is still reported, with
 * its kind, at the next statement that answers, and a savepoint rolls it
 * back alone. */
static void
test_pipeline(void **state)
{
	struct db *db = open_db(NULL);
	struct db_stmt *sp, *ins, *ins_sync, *rel, *count, *commit, *upd;
	char *e = NULL;
	int64_t pid;

	(void)state;
	exec_ok(db, "DROP TABLE IF EXISTS pq;"
	            "CREATE TABLE pq(k BIGINT PRIMARY KEY)");
	sp = prep(db, "SAVEPOINT one");
	ins = prep(db, "INSERT INTO pq(k) VALUES (?1)");
	ins_sync = prep(db, "INSERT INTO pq(k) VALUES (?1) ");
	db_stmt_sync(ins_sync);
	rel = prep(db, "RELEASE one");
	count = prep(db, "SELECT count(*) FROM pq");
	commit = prep(db, "COMMIT");
	upd = prep(db, "UPDATE pq SET k = k * 1");

	assert_int_equal(db_begin(db, DB_WRITE_SHARED, DB_LOCK_STORE), DB_OK);
	assert_int_equal(db_bind_int64(ins, 1, 1), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	db_reset(ins);
	assert_int_equal(db_bind_int64(ins, 1, 2), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	db_reset(ins);
	assert_int_equal(db_changes(db), 1);
	/* An UPDATE queued: db_changes waits for it and counts it. */
	assert_int_equal(db_step(upd), DB_DONE);
	db_reset(upd);
	assert_int_equal(db_changes(db), 2);
	assert_int_equal(db_step(count), DB_ROW);
	assert_int_equal(db_column_int64(count, 0), 2);
	db_reset(count);
	/* A taken key, queued: the savepoint's release answers for it. */
	assert_int_equal(db_step(sp), DB_DONE);
	db_reset(sp);
	assert_int_equal(db_bind_int64(ins, 1, 1), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	db_reset(ins);
	assert_int_not_equal(db_step(rel), DB_DONE);
	db_reset(rel);
	assert_int_equal(db_errkind(db), DB_EK_UNIQUE);
	assert_int_equal(db_autocommit(db), 0);
	exec_ok(db, "ROLLBACK TO one; RELEASE one");
	/* A statement marked sync hears its own failure. */
	assert_int_equal(db_step(sp), DB_DONE);
	db_reset(sp);
	assert_int_equal(db_bind_int64(ins_sync, 1, 2), DB_OK);
	assert_int_not_equal(db_step(ins_sync), DB_DONE);
	db_reset(ins_sync);
	assert_int_equal(db_errkind(db), DB_EK_UNIQUE);
	exec_ok(db, "ROLLBACK TO one; RELEASE one");
	assert_int_equal(db_bind_int64(ins, 1, 3), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	db_reset(ins);
	assert_int_equal(db_step(commit), DB_DONE);
	db_reset(commit);
	assert_int_equal(db_autocommit(db), 1);
	assert_int_equal(scalar(db, "SELECT count(*) FROM pq"), 3);

	/* A failure queued before COMMIT: the commit fails, nothing of the
	 * transaction stays, the caller's ROLLBACK ends it. */
	assert_int_equal(db_begin(db, DB_WRITE_SHARED, DB_LOCK_STORE), DB_OK);
	assert_int_equal(db_bind_int64(ins, 1, 4), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	db_reset(ins);
	assert_int_equal(db_bind_int64(ins, 1, 3), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	db_reset(ins);
	assert_int_not_equal(db_step(commit), DB_DONE);
	db_reset(commit);
	assert_int_equal(db_errkind(db), DB_EK_UNIQUE);
	exec_ok(db, "ROLLBACK");
	assert_int_equal(db_autocommit(db), 1);
	assert_int_equal(scalar(db, "SELECT count(*) FROM pq"), 3);
	/* The same after a failed savepoint nobody rolled back: the COMMIT
	 * of a failed transaction is never a success. */
	assert_int_equal(db_begin(db, DB_WRITE_SHARED, DB_LOCK_STORE), DB_OK);
	assert_int_equal(db_bind_int64(ins_sync, 1, 3), DB_OK);
	assert_int_not_equal(db_step(ins_sync), DB_DONE);
	db_reset(ins_sync);
	assert_int_not_equal(db_exec(db, "COMMIT", &e), DB_OK);
	db_free(e);
	e = NULL;
	exec_ok(db, "ROLLBACK");

	/* A DB_WRITE transaction queues nothing: a failure is its own. */
	assert_int_equal(db_begin(db, DB_WRITE, DB_LOCK_STORE), DB_OK);
	assert_int_equal(db_bind_int64(ins, 1, 3), DB_OK);
	assert_int_not_equal(db_step(ins), DB_DONE);
	db_reset(ins);
	assert_int_equal(db_errkind(db), DB_EK_UNIQUE);
	exec_ok(db, "ROLLBACK");

	/* The connection lost with a queue out: the transaction fails
	 * cleanly (nothing half-written), the next one reconnects. */
	pid = scalar(db, "SELECT pg_backend_pid()");
	assert_int_equal(db_begin(db, DB_WRITE_SHARED, DB_LOCK_STORE), DB_OK);
	assert_int_equal(db_bind_int64(ins, 1, 5), DB_OK);
	assert_int_equal(db_step(ins), DB_DONE);
	db_reset(ins);
	terminate_pid(pid);
	assert_int_equal(db_bind_int64(ins, 1, 6), DB_OK);
	(void)db_step(ins); /* queued, or already known lost */
	db_reset(ins);
	assert_int_not_equal(db_step(commit), DB_DONE);
	db_reset(commit);
	assert_int_equal(db_errkind(db), DB_EK_GONE);
	exec_ok(db, "ROLLBACK");
	assert_int_equal(db_autocommit(db), 1);
	assert_int_equal(scalar(db, "SELECT count(*) FROM pq"), 3);
	assert_true(scalar(db, "SELECT pg_backend_pid()") != pid);
	db_finalize(sp);
	db_finalize(ins);
	db_finalize(ins_sync);
	db_finalize(rel);
	db_finalize(count);
	db_finalize(commit);
	db_finalize(upd);
	db_close(db);
}

/* Runs scripts/pg-cluster CMD on the test's cluster. */
static void
cluster(const char *cmd)
{
	const char *dir = getenv("VAERN_PG_DIR");
	char line[1024];

	if (dir == NULL)
		fail_msg("VAERN_PG_DIR is not set");
	(void)snprintf(line, sizeof(line), "sh scripts/pg-cluster %s '%s'", cmd,
	               dir);
	if (system(line) != 0)
		fail_msg("%s failed", line);
}

/* The server goes down and comes back: a clear failure meanwhile, then
 * the same connection works again by itself. */
static void
test_server_restart(void **state)
{
	struct db *db = open_db(NULL);
	struct db_stmt *s = prep(db, "SELECT CAST(?1 AS BIGINT) + 1");
	char *e = NULL;

	(void)state;
	assert_int_equal(db_bind_int64(s, 1, 41), DB_OK);
	assert_int_equal(db_step(s), DB_ROW);
	db_reset(s);
	cluster("down");
	assert_int_not_equal(db_step(s), DB_ROW);
	assert_int_equal(db_errkind(db), DB_EK_GONE);
	assert_non_null(strstr(db_errmsg(db), "PostgreSQL"));
	db_reset(s);
	assert_int_not_equal(db_exec(db, "SELECT 1", &e), DB_OK);
	assert_int_equal(db_errkind(db), DB_EK_GONE);
	db_free(e);
	assert_int_equal(db_autocommit(db), 1);
	cluster("up");
	if (db_step(s) != DB_ROW)
		fail_msg("after the server came back: %s", db_errmsg(db));
	assert_int_equal(db_column_int64(s, 0), 42);
	db_finalize(s);
	db_close(db);
}

/* ---- connecting: the cause named, the password never ---- */

static void
expect_open_fails(const char *ci, const char *cause)
{
	struct db *db = NULL;

	assert_int_equal(db_open_pg(ci, NULL, &db), DB_ERROR);
	assert_non_null(db);
	if (strstr(db_errmsg(db), cause) == NULL)
		fail_msg("%s: want \"%s\" in \"%s\"", ci, cause, db_errmsg(db));
	if (strstr(db_errmsg(db), SECRET) != NULL ||
	    strstr(db_errmsg(db), "s3cret") != NULL)
		fail_msg("the password is in \"%s\"", db_errmsg(db));
	db_close(db);
}

static void
test_password(void **state)
{
	struct db *db = open_db(NULL), *ok = NULL;
	PQconninfoOption *opts, *o;
	const char *host = NULL;
	char ci[1024];

	(void)state;
	opts = PQconninfoParse(conninfo(), NULL);
	assert_non_null(opts);
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
	assert_non_null(host);
	exec_ok(db, "DROP ROLE IF EXISTS pwuser;"
	            "CREATE ROLE pwuser LOGIN PASSWORD 'right-pass-1'");

	(void)snprintf(ci, sizeof(ci),
	               "host=%s dbname=vaern user=pwuser password=" SECRET,
	               host);
	expect_open_fails(ci, "password authentication failed");
	(void)snprintf(ci, sizeof(ci),
	               "postgresql://pwuser:" SECRET "@/vaern?host=%s", host);
	expect_open_fails(ci, "password authentication failed");
	/* Strings libpq cannot parse: it would quote them. */
	(void)snprintf(ci, sizeof(ci),
	               "postgresql://pwuser:" SECRET "@/vaern?host=%s&x%%zz",
	               host);
	expect_open_fails(ci, "invalid connection string");
	expect_open_fails("host=/tmp password=" SECRET " bogus=1",
	                  "invalid connection option");
	expect_open_fails("host=/tmp password='" SECRET, "unterminated");
	/* A password the message would show (here: the user's name) is
	 * cut out of it. */
	(void)snprintf(ci, sizeof(ci),
	               "host=%s dbname=vaern user=pwuser password=pwuser",
	               host);
	assert_int_equal(db_open_pg(ci, NULL, &ok), DB_ERROR);
	assert_non_null(strstr(db_errmsg(ok), "password authentication"));
	assert_null(strstr(db_errmsg(ok), "pwuser"));
	assert_non_null(strstr(db_errmsg(ok), "***"));
	db_close(ok);
	ok = NULL;
	/* A server that is not there. */
	expect_open_fails("host=/nonexistent-vaern dbname=x password=" SECRET,
	                  "cannot connect to PostgreSQL");
	/* What the string says overrides the engine's defaults. */
	(void)snprintf(ci, sizeof(ci),
	               "host=%s dbname=vaern user=vaern application_name=mine",
	               host);
	assert_int_equal(db_open_pg(ci, NULL, &ok), DB_OK);
	assert_int_equal(scalar(ok, "SELECT count(*) FROM pg_stat_activity"
	                            " WHERE pid = pg_backend_pid() AND"
	                            " application_name = 'mine'"),
	                 1);
	db_close(ok);
	ok = NULL;
	/* And the right password connects. */
	(void)snprintf(ci, sizeof(ci),
	               "host=%s dbname=vaern user=pwuser password=right-pass-1",
	               host);
	assert_int_equal(db_open_pg(ci, NULL, &ok), DB_OK);
	db_close(ok);
	PQconninfoFree(opts);
	db_close(db);
}

/* ---- the schema ---- */

static void
test_schema(void **state)
{
	struct db *db = open_db(NULL), *ad;
	struct db_stmt *s;
	static const unsigned char uid[16] = {1, 2, 3};

	(void)state;
	/* Twice: the second run changes nothing. */
	exec_ok(db, schema_pg_sql);
	exec_ok(db, schema_pg_sql);
	/* SQLite's "main.meta" reads the data store's meta. */
	s = prep(db, "SELECT value FROM main.meta"
	             " WHERE key = 'schema_version'");
	assert_int_equal(db_step(s), DB_ROW);
	assert_int_equal(db_column_int64(s, 0), 7); /* STORE_SCHEMA_VERSION */
	db_finalize(s);
	assert_int_equal(scalar(db, "SELECT count(*) FROM ks.meta m JOIN meta"
	                            " v ON v.key = m.key AND v.value = m.value"
	                            " WHERE m.key = 'vault_id'"),
	                 1);
	/* Ids come back with RETURNING; ks.subject_key as on SQLite. */
	s = prep(db, "INSERT INTO subject(controller, uid, blinds, created_at)"
	             " VALUES (1, ?1, ?2, 0) RETURNING id");
	assert_int_equal(db_bind_blob(s, 1, uid, sizeof(uid)), DB_OK);
	assert_int_equal(db_bind_blob(s, 2, "", 0), DB_OK);
	assert_int_equal(db_step(s), DB_ROW);
	assert_true(db_column_int64(s, 0) >= 1);
	assert_int_equal(db_step(s), DB_DONE);
	assert_int_equal(db_changes(db), 1);
	db_finalize(s);
	s = prep(db, "INSERT INTO ks.subject_key(uid, controller, kek,"
	             " wrapped) VALUES (?1, 1, 1, ?1)"
	             " ON CONFLICT (uid) DO NOTHING");
	assert_int_equal(db_bind_blob(s, 1, uid, sizeof(uid)), DB_OK);
	assert_int_equal(db_step(s), DB_DONE);
	db_reset(s);
	assert_int_equal(db_step(s), DB_DONE);
	assert_int_equal(db_changes(db), 0);
	db_finalize(s);
	/* The audit connection's search_path is the audit schema. */
	ad = open_db("audit");
	assert_int_equal(scalar(ad, "SELECT count(*) FROM audit"), 0);
	assert_int_equal(scalar(ad, "SELECT count(*) FROM public.meta"
	                            " WHERE key = 'schema_version'"),
	                 1);
	db_close(ad);
	db_close(db);
}

/* The same text prepared twice shares one server-side statement; both
 * walk their rows at once. */
static void
test_same_text(void **state)
{
	struct db *db = open_db(NULL);
	const char *sql = "SELECT g FROM generate_series(1, CAST(?1 AS INT))"
	                  " AS g";
	struct db_stmt *a = prep(db, sql), *b = prep(db, sql);
	int64_t sum = 0;

	(void)state;
	assert_int_equal(db_bind_int64(a, 1, 3), DB_OK);
	assert_int_equal(db_bind_int64(b, 1, 2), DB_OK);
	while (db_step(a) == DB_ROW) {
		db_reset(b);
		while (db_step(b) == DB_ROW)
			sum += db_column_int64(a, 0) * db_column_int64(b, 0);
	}
	assert_int_equal(sum, (1 + 2 + 3) * (1 + 2));
	db_finalize(a);
	db_finalize(b);
	db_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_translate),
	        cmocka_unit_test(test_types),
	        cmocka_unit_test(test_big_blob),
	        cmocka_unit_test(test_constraints),
	        cmocka_unit_test(test_busy),
	        cmocka_unit_test(test_rollback),
	        cmocka_unit_test(test_write_lock),
	        cmocka_unit_test(test_shared_lock),
	        cmocka_unit_test(test_pipeline),
	        cmocka_unit_test(test_prepare_in_txn),
	        cmocka_unit_test(test_reconnect),
	        cmocka_unit_test(test_server_restart),
	        cmocka_unit_test(test_password),
	        cmocka_unit_test(test_schema),
	        cmocka_unit_test(test_same_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
