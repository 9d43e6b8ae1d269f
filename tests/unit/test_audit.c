/*
 * test_audit.c -- the tamper-evident audit trail (GDPR-32: logging of
 * access; issue 3 section 5).
 *
 * Each test makes a fresh database file under /tmp (an empty SQLite file
 * in WAL mode, as vaern init leaves it; the audit store creates its own
 * table), appends through the writer, and tampers behind its back with a
 * plain sqlite3 connection to prove verify names the first bad entry.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "store/db.h"
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "calendar/calendar.h"
#include "store/store_audit.h"
#include "store/store_audit_release.h"

#define T0 1767225600 /* 2026-01-01T00:00:00Z */

/* The MAC key of every trail here (no data store beside it: every entry
 * keyed, issue 12). */
static const unsigned char test_key[AUDIT_KEY_BYTES] = {
        0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
        0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
        0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42};

/* The trail at db under test_key; valid until the next call. */
static const struct audit_trail *
trail_of(const char *db)
{
	static struct audit_trail t;

	memset(&t, 0, sizeof(t));
	t.path = db;
	memcpy(t.key, test_key, AUDIT_KEY_BYTES);
	return &t;
}

struct fixture {
	char dir[64];
	char db[96];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct db *db = NULL;

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vaern-audit-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/vaern.db", f->dir);
	if (db_open_sqlite(f->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                   5000, &db) != DB_OK ||
	    db_exec(db, "PRAGMA journal_mode=WAL", NULL) != DB_OK)
		return -1;
	db_close(db);
	clock_set(T0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	clock_unset();
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static const unsigned char subject_a[AUDIT_SUBJECT_BYTES] = {
        0x5a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
        0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
static const unsigned char subject_b[AUDIT_SUBJECT_BYTES] = {
        0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
        0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf};

/* A typical gate decision: ids and policy words only. */
static struct audit_entry
entry(const char *actor, const unsigned char *subject, int allowed)
{
	struct audit_entry e = {
	        .controller = "testshop",
	        .actor = actor,
	        .role = "support",
	        .purpose = "customer_service",
	        .action = "read",
	        .subject = subject,
	        .categories = "name,email,orders",
	        .allowed = allowed,
	        .rule = allowed ? "GDPR-6" : "GDPR-18",
	        .reason = allowed ? "purpose customer_service allows role "
	                            "support to read"
	                          : "processing is restricted (GDPR-18)",
	        .policy = "496c1d4e98aefac3ce2e154f7e1c1d8a",
	};
	return e;
}

static void
exec_sql(const char *path, const char *sql)
{
	struct db *db = NULL;
	char *err = NULL;

	assert_int_equal(
	        db_open_sqlite(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                       5000, &db),
	        DB_OK);
	db_busy_timeout(db, 5000);
	if (db_exec(db, sql, &err) != DB_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
	db_close(db);
}

static int64_t
count_rows(const char *path)
{
	struct db *db = NULL;
	struct db_stmt *s = NULL;
	int64_t n = -1;

	assert_int_equal(
	        db_open_sqlite(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                       5000, &db),
	        DB_OK);
	if (db_prepare(db, "SELECT count(*) FROM audit", 0, &s) == DB_OK &&
	    db_step(s) == DB_ROW)
		n = db_column_int64(s, 0);
	else
		n = 0; /* no table yet */
	db_finalize(s);
	db_close(db);
	return n;
}

static void
append_n(const char *path, int n)
{
	struct vaern_msg msg = {{0}};
	struct audit_writer *w = NULL;

	assert_int_equal(audit_writer_start(trail_of(path), 0, &w, &msg),
	                 VAERN_OK);
	for (int i = 0; i < n; i++) {
		struct audit_entry e = entry(
		        "alice", i % 2 ? subject_a : subject_b, i % 3 != 0);
		int64_t seq = 0;

		if (audit_append(w, &e, &seq, &msg) != VAERN_OK)
			fail_msg("append: %s", msg.text);
	}
	audit_writer_stop(w);
}

static struct audit_verify_result
verify(const char *path, const struct audit_anchor *anchor)
{
	struct audit_verify_result res;
	struct vaern_msg msg = {{0}};

	if (audit_verify(trail_of(path), anchor, anchor != NULL, &res, &msg) !=
	    VAERN_OK)
		fail_msg("verify: %s", msg.text);
	return res;
}

static void
expect_bad(const char *path, int64_t seq, enum audit_problem problem,
           const char *message)
{
	struct audit_verify_result res = verify(path, NULL);

	assert_false(res.ok);
	assert_int_equal(res.first_bad, seq);
	assert_int_equal(res.problem, problem);
	assert_string_equal(res.message, message);
	assert_int_equal(res.entries, seq - 1);
}

/* ---- the chain ----------------------------------------------------------- */

/* GDPR-32: an empty trail verifies, and verify creates nothing. */
static void
test_gdpr32_empty_trail_verifies(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res = verify(f->db, NULL);
	unsigned char zero[AUDIT_HASH_BYTES] = {0};

	assert_true(res.ok);
	assert_int_equal(res.entries, 0);
	assert_int_equal(res.head_seq, 0);
	assert_memory_equal(res.head, zero, AUDIT_HASH_BYTES);
	exec_sql(f->db, "SELECT 1 FROM sqlite_master"); /* still readable */
	{
		struct db *db = NULL;
		struct db_stmt *s = NULL;

		assert_int_equal(db_open_sqlite(f->db,
		                                SQLITE_OPEN_READWRITE |
		                                        SQLITE_OPEN_CREATE,
		                                5000, &db),
		                 DB_OK);
		assert_int_equal(db_prepare(db,
		                            "SELECT count(*) FROM sqlite_master"
		                            " WHERE name = 'audit'",
		                            0, &s),
		                 DB_OK);
		assert_int_equal(db_step(s), DB_ROW);
		assert_int_equal(db_column_int(s, 0), 0);
		db_finalize(s);
		db_close(db);
	}
}

/* GDPR-32: no database file is an error, not an empty trail. */
static void
test_gdpr32_verify_without_database_fails(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res;
	struct vaern_msg msg = {{0}};
	char path[128];

	snprintf(path, sizeof(path), "%s/none.db", f->dir);
	assert_int_equal(audit_verify(trail_of(path), NULL, 0, &res, &msg),
	                 VAERN_E_NOTFOUND);
	assert_false(res.ok);
	assert_int_equal(access(path, F_OK), -1); /* not created */
}

/*
 * The encoding is the format of the trail: it must never change by
 * accident, or every existing trail stops verifying. The expected MACs
 * were computed from audit.h's description alone, in Python:
 *   blake2b(bytes(32) + bytes([version]) + pack("<qq", 1, T0) + <texts
 *           as pack("<I", len) + bytes> ..., digest_size=32,
 *           key=bytes([0x42]) * 32 for version 2, none for version 1)
 * Version 1 is the unkeyed hash of trails made before the key (issue 12),
 * which must keep verifying.
 */
static void
test_gdpr32_hash_known_answer(void **state)
{
	static const struct {
		int keyed;
		int with_policy;
		const char *expect;
	} cases[] = {
	        /* version 2: keyed, the policy version always encoded */
	        {1, 1,
	         "142a5ffc09a02446bcf5ce1eb92abe035dcd0708a46c0c27d40151eb66423"
	         "3fa"},
	        {1, 0,
	         "ab5c9815c4b6b206f132f722c4dbee7a4554b6a6e15119a17068caae7774d"
	         "672"},
	        /* version 1: unkeyed, the policy version only if present,
	         * so an entry from before issue 12 hashes as it always did */
	        {0, 1,
	         "44b9d93fb3cde29bb7540909ad2324d7fc4958dccc2d8c26d094dec94b41d"
	         "ff8"},
	        {0, 0,
	         "19eac7df1b95eb6eeddef92a26d4139f18e1c21c35959f34cc8fdf9796259"
	         "56c"},
	};
	unsigned char zero[AUDIT_HASH_BYTES] = {0}, h[AUDIT_HASH_BYTES];
	char hex[AUDIT_HASH_HEX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct audit_entry e = entry("alice", subject_a, 1);

		if (!cases[i].with_policy)
			e.policy = NULL;
		audit_hash(cases[i].keyed ? test_key : NULL, zero, 1, T0, &e,
		           h);
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		assert_string_equal(hex, cases[i].expect);
	}
}

/* Every field is covered by the hash, and an absent field differs from
 * an empty one (no two entries share an encoding). */
static void
test_gdpr32_hash_covers_every_field(void **state)
{
	unsigned char zero[AUDIT_HASH_BYTES] = {0}, base[AUDIT_HASH_BYTES];
	unsigned char prev[AUDIT_HASH_BYTES], h[AUDIT_HASH_BYTES];
	struct audit_entry e0 = entry("alice", subject_a, 1);
	const char **texts[] = {&e0.controller, &e0.actor,  &e0.role,
	                        &e0.purpose,    &e0.action, &e0.categories,
	                        &e0.rule,       &e0.reason};

	(void)state;
	audit_hash(test_key, zero, 1, T0, &e0, base);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct audit_entry e = e0;
		const char **field =
		        (const char **)((char *)&e +
		                        ((char *)texts[i] - (char *)&e0));

		*field = NULL;
		audit_hash(test_key, zero, 1, T0, &e, h);
		assert_memory_not_equal(h, base, AUDIT_HASH_BYTES);
		*field = "";
		audit_hash(test_key, zero, 1, T0, &e, prev);
		assert_memory_not_equal(prev, h, AUDIT_HASH_BYTES);
		assert_memory_not_equal(prev, base, AUDIT_HASH_BYTES);
	}
	{
		struct audit_entry e = e0;

		e.subject = subject_b;
		audit_hash(test_key, zero, 1, T0, &e, h);
		assert_memory_not_equal(h, base, AUDIT_HASH_BYTES);
		e.subject = NULL;
		audit_hash(test_key, zero, 1, T0, &e, h);
		assert_memory_not_equal(h, base, AUDIT_HASH_BYTES);
		e = e0;
		e.allowed = 0;
		audit_hash(test_key, zero, 1, T0, &e, h);
		assert_memory_not_equal(h, base, AUDIT_HASH_BYTES);
	}
	audit_hash(test_key, zero, 2, T0, &e0, h);
	assert_memory_not_equal(h, base, AUDIT_HASH_BYTES);
	audit_hash(test_key, zero, 1, T0 + 1, &e0, h);
	assert_memory_not_equal(h, base, AUDIT_HASH_BYTES);
	memset(prev, 0, sizeof(prev));
	prev[31] = 1;
	audit_hash(test_key, prev, 1, T0, &e0, h);
	assert_memory_not_equal(h, base, AUDIT_HASH_BYTES);
	/* Field boundaries are encoded: the same bytes split differently
	 * between two adjacent fields hash differently. */
	{
		struct audit_entry a = e0, b = e0;

		a.role = "support";
		a.purpose = "customer_service";
		b.role = "supportcustomer";
		b.purpose = "_service";
		audit_hash(test_key, zero, 1, T0, &a, prev);
		audit_hash(test_key, zero, 1, T0, &b, h);
		assert_memory_not_equal(h, prev, AUDIT_HASH_BYTES);
	}
}

/* ---- the writer ---------------------------------------------------------- */

#define THREADS    4
#define PER_THREAD 500

struct appender {
	const char *db;                  /* the database */
	struct audit_writer *w;          /* the shared writer */
	int id;                          /* 0..THREADS-1 */
	int64_t seqs[PER_THREAD];        /* what each append returned */
	int failures;                    /* appends that failed */
	int unseen;                      /* appends whose row another
	                                    connection could not read at once */
	char first_error[VAERN_MSG_MAX]; /* for the report */
};

/*
 * Appends PER_THREAD entries; after each, reads the row back on a
 * connection of its own: an append that returned is committed.
 */
static void *
appender_main(void *arg)
{
	struct appender *a = arg;
	struct db *db = NULL;
	struct db_stmt *s = NULL;
	char actor[32];

	snprintf(actor, sizeof(actor), "staff-%d", a->id);
	if (db_open_sqlite(a->db, SQLITE_OPEN_READONLY, 5000, &db) != DB_OK ||
	    db_prepare(db, "SELECT actor FROM audit WHERE seq = ?1", 0, &s) !=
	            DB_OK) {
		a->failures = PER_THREAD;
		goto done;
	}
	for (int i = 0; i < PER_THREAD; i++) {
		struct audit_entry e =
		        entry(actor, i % 2 ? subject_a : NULL, i % 5 != 0);
		struct vaern_msg msg = {{0}};

		if (audit_append(a->w, &e, &a->seqs[i], &msg) != VAERN_OK) {
			if (a->failures++ == 0)
				memcpy(a->first_error, msg.text,
				       sizeof(a->first_error));
			continue;
		}
		db_bind_int64(s, 1, a->seqs[i]);
		if (db_step(s) != DB_ROW ||
		    strcmp((const char *)db_column_text(s, 0), actor) != 0)
			a->unseen++;
		db_reset(s);
	}
done:
	db_finalize(s);
	db_close(db);
	return NULL;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * GDPR-32: concurrent appends from several threads get unique,
 * contiguous sequence numbers; each returns only once its entry is
 * committed (another connection reads it at once); the chain verifies.
 */
static void
test_gdpr32_concurrent_appends_contiguous_and_committed(void **state)
{
	struct fixture *f = *state;
	struct appender *a = calloc(THREADS, sizeof(*a));
	int64_t *all = calloc(THREADS * PER_THREAD, sizeof(*all));
	pthread_t th[THREADS];
	struct vaern_msg msg = {{0}};
	struct audit_writer *w = NULL;
	struct audit_verify_result res;
	uint64_t entries = 0, batches = 0;

	assert_non_null(a);
	assert_non_null(all);
	assert_int_equal(audit_writer_start(trail_of(f->db), 0, &w, &msg),
	                 VAERN_OK);
	for (int t = 0; t < THREADS; t++) {
		a[t].db = f->db;
		a[t].w = w;
		a[t].id = t;
		assert_int_equal(
		        pthread_create(&th[t], NULL, appender_main, &a[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	audit_writer_stats(w, &entries, &batches);
	audit_writer_stop(w);
	for (int t = 0; t < THREADS; t++) {
		if (a[t].failures)
			fail_msg("thread %d: %d failures: %s", t, a[t].failures,
			         a[t].first_error);
		assert_int_equal(a[t].unseen, 0);
		/* One caller's entries keep its order. */
		for (int i = 1; i < PER_THREAD; i++)
			assert_true(a[t].seqs[i] > a[t].seqs[i - 1]);
		memcpy(all + t * PER_THREAD, a[t].seqs, sizeof(a[t].seqs));
	}
	qsort(all, THREADS * PER_THREAD, sizeof(*all), cmp_i64);
	for (int i = 0; i < THREADS * PER_THREAD; i++)
		assert_int_equal(all[i], i + 1);
	assert_int_equal(entries, THREADS * PER_THREAD);
	assert_true(batches >= 1 && batches <= entries);
	assert_int_equal(count_rows(f->db), THREADS * PER_THREAD);
	res = verify(f->db, NULL);
	assert_true(res.ok);
	assert_int_equal(res.entries, THREADS * PER_THREAD);
	assert_int_equal(res.head_seq, THREADS * PER_THREAD);
	free(all);
	free(a);
}

/* GDPR-32: a restarted writer, a one-shot append and a second writer on
 * the same file all continue the one chain. */
static void
test_gdpr32_writers_continue_one_chain(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct audit_writer *w1 = NULL, *w2 = NULL;
	struct audit_entry e = entry("bob", subject_a, 1);
	struct audit_entry many[3] = {entry("carl", subject_a, 1),
	                              entry("carl", NULL, 0),
	                              entry("carl", subject_b, 1)};
	struct audit_verify_result res;
	int64_t seq = 0;

	append_n(f->db, 10);
	assert_int_equal(audit_writer_start(trail_of(f->db), 0, &w1, &msg),
	                 VAERN_OK);
	assert_int_equal(audit_append(w1, &e, &seq, &msg), VAERN_OK);
	assert_int_equal(seq, 11);
	/* A CLI process appends while the server's writer runs. */
	assert_int_equal(
	        audit_append_direct(trail_of(f->db), &e, 1, &seq, &msg),
	        VAERN_OK);
	assert_int_equal(seq, 12);
	assert_int_equal(audit_append(w1, &e, &seq, &msg), VAERN_OK);
	assert_int_equal(seq, 13);
	/* Two writers at once, interleaved. */
	assert_int_equal(audit_writer_start(trail_of(f->db), 0, &w2, &msg),
	                 VAERN_OK);
	assert_int_equal(audit_append(w2, &e, &seq, &msg), VAERN_OK);
	assert_int_equal(seq, 14);
	assert_int_equal(audit_append_many(w1, many, 3, &seq, &msg), VAERN_OK);
	assert_int_equal(seq, 15);
	assert_int_equal(audit_append(w2, &e, &seq, &msg), VAERN_OK);
	assert_int_equal(seq, 18);
	audit_writer_stop(w1);
	audit_writer_stop(w2);
	res = verify(f->db, NULL);
	assert_true(res.ok);
	assert_int_equal(res.entries, 18);
	assert_int_equal(res.head_seq, 18);
}

/* Counts the releases a scan of the release index finds. */
static enum vaern_err
count_hit(void *arg, const struct audit_release_hit *h)
{
	(void)h;
	(*(int64_t *)arg)++;
	return VAERN_OK;
}

/* The releases of controller the release index holds. */
static int64_t
indexed(const char *path, const char *controller)
{
	struct vaern_msg msg = {{0}};
	struct audit_release_reader *rd = NULL;
	int64_t id = 0, n = 0;
	enum vaern_err err;

	assert_int_equal(audit_release_reader_open(path, &rd, &msg), VAERN_OK);
	err = audit_release_name_id(rd, controller, &id, &msg);
	if (err == VAERN_OK)
		assert_int_equal(audit_release_scan(rd, id, INT64_MIN,
		                                    INT64_MAX, count_hit, &n,
		                                    &msg),
		                 VAERN_OK);
	else
		assert_int_equal(err, VAERN_E_NOTFOUND);
	audit_release_reader_close(rd);
	return n;
}

/* GDPR-33 (issue 17): the release index holds every allowed release of
 * every controller and nothing else -- more controllers than the writer
 * keeps blocks for, blocks filled and begun anew, two writers and a
 * direct append interleaved -- and nothing of a batch that failed. */
static void
test_gdpr33_release_index_holds_every_release(void **state)
{
	static const char *const ctl[12] = {"c0", "c1", "c2",  "c3",
	                                    "c4", "c5", "c6",  "c7",
	                                    "c8", "c9", "c10", "c11"};
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct audit_writer *w1 = NULL, *w2 = NULL;
	int64_t want[12] = {0}, seq = 0;

	assert_int_equal(audit_writer_start(trail_of(f->db), 0, &w1, &msg),
	                 VAERN_OK);
	assert_int_equal(audit_writer_start(trail_of(f->db), 0, &w2, &msg),
	                 VAERN_OK);
	for (int i = 0; i < 3000; i++) {
		struct audit_entry e = entry(
		        "alice", i % 2 ? subject_a : subject_b, i % 3 != 0);
		enum vaern_err err;

		e.controller = ctl[i % 12];
		if (i % 7 == 0)
			e.action = "create"; /* no release */
		if (i % 11 == 0)
			e.subject = NULL; /* no release */
		if (i % 5 == 0)
			err = audit_append_direct(trail_of(f->db), &e, 1, &seq,
			                          &msg);
		else
			err = audit_append(i % 2 ? w1 : w2, &e, &seq, &msg);
		if (err != VAERN_OK)
			fail_msg("append: %s", msg.text);
		want[i % 12] += e.allowed && i % 7 != 0 && i % 11 != 0;
	}
	/* One transaction of 1,500 entries of the 12 controllers: more
	 * controllers than block slots, blocks filled within it. */
	{
		struct audit_entry *many = calloc(1500, sizeof(*many));

		assert_non_null(many);
		for (int i = 0; i < 1500; i++) {
			many[i] =
			        entry("carl", i % 2 ? subject_a : subject_b, 1);
			many[i].controller = ctl[i % 12];
			want[i % 12]++;
		}
		assert_int_equal(audit_append_many(w1, many, 1500, &seq, &msg),
		                 VAERN_OK);
		free(many);
	}
	/* A failed commit: its release is not indexed. */
	exec_sql(f->db, "CREATE TRIGGER no_audit BEFORE INSERT ON audit"
	                " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END;");
	{
		struct audit_entry e = entry("bob", subject_a, 1);

		e.controller = "c0";
		assert_int_equal(audit_append(w1, &e, &seq, &msg),
		                 VAERN_E_STORE);
		exec_sql(f->db, "DROP TRIGGER no_audit");
		assert_int_equal(audit_append(w1, &e, &seq, &msg), VAERN_OK);
		want[0]++;
	}
	audit_writer_stop(w1);
	audit_writer_stop(w2);
	for (int c = 0; c < 12; c++)
		assert_int_equal(indexed(f->db, ctl[c]), want[c]);
	assert_int_equal(indexed(f->db, "testshop"), 0);
	assert_true(verify(f->db, NULL).ok);
}

/* GDPR-32: a failed commit fails the append (so the caller refuses the
 * access), writes nothing, and the writer goes on afterwards. */
static void
test_gdpr32_failed_commit_fails_append_and_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct audit_writer *w = NULL;
	struct audit_entry e = entry("dora", subject_b, 0);
	int64_t seq = 0;

	append_n(f->db, 3);
	assert_int_equal(audit_writer_start(trail_of(f->db), 0, &w, &msg),
	                 VAERN_OK);
	exec_sql(f->db, "CREATE TRIGGER no_audit BEFORE INSERT ON audit"
	                " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END;");
	assert_int_equal(audit_append(w, &e, &seq, &msg), VAERN_E_STORE);
	assert_non_null(strstr(msg.text, "disk trouble"));
	assert_int_equal(count_rows(f->db), 3);
	exec_sql(f->db, "DROP TRIGGER no_audit");
	assert_int_equal(audit_append(w, &e, &seq, &msg), VAERN_OK);
	assert_int_equal(seq, 4);
	audit_writer_stop(w);
	assert_true(verify(f->db, NULL).ok);
}

/* Counts the asynchronous appends that committed. */
static void
count_done(void *arg, enum vaern_err err, int64_t first_seq,
           const struct vaern_msg *msg)
{
	(void)first_seq;
	(void)msg;
	if (err == VAERN_OK)
		atomic_fetch_add((atomic_int *)arg, 1);
}

/*
 * GDPR-32, issue 14: entries queued while another writer holds the
 * trail's lock (another node's writer on PostgreSQL, here a connection
 * holding SQLite's) go into the batch that waited for the lock, not into
 * one after it: ten appends, the first of them already waiting for the
 * lock when the other nine come, commit in one transaction. (Taking the
 * batch before the lock made two: the first alone, then the nine.)
 */
static void
test_gdpr32_appends_queued_behind_the_lock_join_its_batch(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct audit_writer *w = NULL;
	struct audit_entry e = entry("erin", subject_a, 1);
	struct db *blocker = NULL;
	uint64_t entries = 0, batches0 = 0, batches = 0;
	atomic_int done = 0;
	char *err = NULL;

	append_n(f->db, 2);
	assert_int_equal(audit_writer_start(trail_of(f->db), 0, &w, &msg),
	                 VAERN_OK);
	audit_writer_stats(w, &entries, &batches0);
	assert_int_equal(
	        db_open_sqlite(f->db, SQLITE_OPEN_READWRITE, 5000, &blocker),
	        DB_OK);
	if (db_exec(blocker, "BEGIN IMMEDIATE", &err) != DB_OK)
		fail_msg("BEGIN IMMEDIATE: %s", err ? err : "?");
	assert_int_equal(audit_append_async(w, &e, 1, count_done, &done, &msg),
	                 VAERN_OK);
	usleep(200000); /* the writer waits for the lock by now */
	for (int i = 0; i < 9; i++)
		assert_int_equal(
		        audit_append_async(w, &e, 1, count_done, &done, &msg),
		        VAERN_OK);
	usleep(50000);
	assert_int_equal(atomic_load(&done), 0);
	if (db_exec(blocker, "COMMIT", &err) != DB_OK)
		fail_msg("COMMIT: %s", err ? err : "?");
	db_close(blocker);
	for (int i = 0; i < 500 && atomic_load(&done) < 10; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&done), 10);
	audit_writer_stats(w, &entries, &batches);
	audit_writer_stop(w);
	assert_int_equal(entries, 10);
	assert_int_equal(batches - batches0, 1);
	assert_int_equal(count_rows(f->db), 12);
	assert_true(verify(f->db, NULL).ok);
}

/* ---- tampering ----------------------------------------------------------- */

/* GDPR-32: a changed reason is named by its entry. */
static void
test_gdpr32_verify_names_changed_entry(void **state)
{
	struct fixture *f = *state;

	append_n(f->db, 50);
	assert_true(verify(f->db, NULL).ok);
	exec_sql(f->db, "UPDATE audit SET reason = 'nothing to see'"
	                " WHERE seq = 42");
	expect_bad(f->db, 42, AUDIT_CHANGED,
	           "entry 42: content changed (MAC does not match)");
}

/* GDPR-32: a flipped decision, a moved time, a subject wiped: each is a
 * change of the entry's content. */
static void
test_gdpr32_verify_names_changed_fields(void **state)
{
	struct fixture *f = *state;
	static const char *const changes[] = {
	        "UPDATE audit SET decision = 1 - decision WHERE seq = 7",
	        "UPDATE audit SET at = at + 1 WHERE seq = 7",
	        "UPDATE audit SET subject = NULL WHERE seq = 7",
	        "UPDATE audit SET actor = 'mallory' WHERE seq = 7",
	        "UPDATE audit SET categories = 'name' WHERE seq = 7",
	        /* issue 12: the policy version decided under is chained */
	        ("UPDATE audit SET policy = '00000000000000000000000000000000'"
	         " WHERE seq = 7"),
	        "UPDATE audit SET policy = NULL WHERE seq = 7",
	};

	append_n(f->db, 12);
	exec_sql(f->db, "CREATE TABLE keep AS SELECT * FROM audit");
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		exec_sql(f->db, changes[i]);
		expect_bad(f->db, 7, AUDIT_CHANGED,
		           "entry 7: content changed (MAC does not match)");
		exec_sql(f->db, "DELETE FROM audit;"
		                "INSERT INTO audit SELECT * FROM keep");
		assert_true(verify(f->db, NULL).ok);
	}
}

/* GDPR-32: a column of the wrong type is a change, not a crash. */
static void
test_gdpr32_verify_names_malformed_entry(void **state)
{
	struct fixture *f = *state;

	append_n(f->db, 9);
	exec_sql(f->db, "UPDATE audit SET hash = 'x' WHERE seq = 5");
	expect_bad(f->db, 5, AUDIT_CHANGED,
	           "entry 5: content changed (a column has the wrong type "
	           "or size)");
}

/* GDPR-32: a removed entry is named. */
static void
test_gdpr32_verify_names_removed_entry(void **state)
{
	struct fixture *f = *state;

	append_n(f->db, 30);
	exec_sql(f->db, "DELETE FROM audit WHERE seq = 17");
	expect_bad(f->db, 17, AUDIT_MISSING, "entry 17 is missing (removed)");
}

/* GDPR-32: removing the first entries is caught too. */
static void
test_gdpr32_verify_names_removed_first_entries(void **state)
{
	struct fixture *f = *state;

	append_n(f->db, 10);
	exec_sql(f->db, "DELETE FROM audit WHERE seq <= 3");
	expect_bad(f->db, 1, AUDIT_MISSING,
	           "entry 1 is missing (removed, with the ones up to 3)");
}

/* GDPR-32: a removal hidden by renumbering breaks the link. */
static void
test_gdpr32_verify_names_renumbered_removal(void **state)
{
	struct fixture *f = *state;

	append_n(f->db, 30);
	exec_sql(f->db, "DELETE FROM audit WHERE seq = 17;"
	                "UPDATE audit SET seq = seq - 1 WHERE seq > 17");
	expect_bad(f->db, 17, AUDIT_LINK,
	           "entry 17: previous hash does not match entry 16 "
	           "(reordered or removed)");
}

/* GDPR-32: two entries swapped (whole rows, hashes included) are named
 * at the first of them. */
static void
test_gdpr32_verify_names_reordered_entries(void **state)
{
	struct fixture *f = *state;

	append_n(f->db, 30);
	exec_sql(f->db,
	         "CREATE TEMP TABLE a9 AS SELECT * FROM audit WHERE seq = 9;"
	         "CREATE TEMP TABLE a20 AS SELECT * FROM audit WHERE seq = 20;"
	         "DELETE FROM audit WHERE seq IN (9, 20);"
	         "INSERT INTO audit SELECT 9, at, controller, actor, role,"
	         " purpose, action, subject, categories, decision, rule,"
	         " reason, prev_hash, hash, policy, outbox, version FROM a20;"
	         "INSERT INTO audit SELECT 20, at, controller, actor, role,"
	         " purpose, action, subject, categories, decision, rule,"
	         " reason, prev_hash, hash, policy, outbox, version FROM a9;");
	expect_bad(f->db, 9, AUDIT_LINK,
	           "entry 9: previous hash does not match entry 8 "
	           "(reordered or removed)");
}

/*
 * GDPR-32: an entry changed and re-hashed (the hash is unkeyed) breaks
 * the next entry's link; if it is the last entry, only an anchor
 * exported earlier shows it. Cutting entries off the end likewise.
 */
static void
test_gdpr32_anchor_catches_rewritten_and_cut_tail(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res;
	struct audit_anchor anchor;
	char sql[512], hex[AUDIT_HASH_HEX];
	unsigned char prev[AUDIT_HASH_BYTES], h[AUDIT_HASH_BYTES];
	struct vaern_msg msg = {{0}};
	struct audit_entry e = entry("mallory", NULL, 1);

	memset(&anchor, 0, sizeof(anchor));
	append_n(f->db, 20);
	res = verify(f->db, NULL);
	assert_true(res.ok);
	anchor.seq = res.head_seq;
	memcpy(anchor.hash, res.head, AUDIT_HASH_BYTES);
	assert_true(verify(f->db, &anchor).ok);

	/* Rewrite entry 19 as someone who knows the format. */
	exec_sql(f->db, "CREATE TABLE keep AS SELECT * FROM audit");
	{
		struct db *db = NULL;
		struct db_stmt *s = NULL;

		assert_int_equal(db_open_sqlite(f->db,
		                                SQLITE_OPEN_READWRITE |
		                                        SQLITE_OPEN_CREATE,
		                                5000, &db),
		                 DB_OK);
		assert_int_equal(db_prepare(db,
		                            "SELECT prev_hash FROM audit"
		                            " WHERE seq = 19",
		                            0, &s),
		                 DB_OK);
		assert_int_equal(db_step(s), DB_ROW);
		memcpy(prev, db_column_blob(s, 0), AUDIT_HASH_BYTES);
		db_finalize(s);
		db_close(db);
	}
	audit_hash(test_key, prev, 19, T0, &e, h);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(sql, sizeof(sql),
	         "UPDATE audit SET actor = 'mallory', subject = NULL,"
	         " decision = 1, rule = 'GDPR-6', reason = '%s',"
	         " hash = x'%s' WHERE seq = 19",
	         e.reason, hex);
	exec_sql(f->db, sql);
	expect_bad(f->db, 20, AUDIT_LINK,
	           "entry 20: previous hash does not match entry 19 "
	           "(reordered or removed)");

	/* Cut the tail instead: the chain alone cannot tell... */
	exec_sql(f->db, "DELETE FROM audit; INSERT INTO audit SELECT * FROM"
	                " keep; DELETE FROM audit WHERE seq > 17");
	res = verify(f->db, NULL);
	assert_true(res.ok);
	assert_int_equal(res.head_seq, 17);
	/* ...the anchor can. */
	res = verify(f->db, &anchor);
	assert_false(res.ok);
	assert_int_equal(res.problem, AUDIT_ANCHOR);
	assert_int_equal(res.first_bad, 20);
	assert_string_equal(res.message,
	                    "entry 20 is missing (the trail ends at 17: "
	                    "entries were cut off the end, or the trail "
	                    "emptied; the anchor has it)");

	/* And a rewritten last entry. */
	exec_sql(f->db, "DELETE FROM audit; INSERT INTO audit SELECT * FROM"
	                " keep");
	assert_int_equal(
	        audit_append_direct(trail_of(f->db), &e, 1, NULL, &msg),
	        VAERN_OK);
	anchor.seq = 21;
	memset(anchor.hash, 0xab, AUDIT_HASH_BYTES);
	res = verify(f->db, &anchor);
	assert_false(res.ok);
	assert_int_equal(res.problem, AUDIT_ANCHOR);
	assert_int_equal(res.first_bad, 21);
}

/* ---- what may be written ------------------------------------------------- */

struct bad_case {
	const char *name; /* the field in the message */
	void (*spoil)(struct audit_entry *e);
	enum vaern_err err;
};

static char long_id[AUDIT_ID_MAX + 2];
static char long_cats[AUDIT_CATEGORIES_MAX + 2];
static char long_text[AUDIT_TEXT_MAX + 2];

static void
no_action(struct audit_entry *e)
{
	e->action = NULL;
}
static void
empty_role(struct audit_entry *e)
{
	e->role = "";
}
static void
spaced_actor(struct audit_entry *e)
{
	e->actor = "Jens Hansen";
}
static void
newline_purpose(struct audit_entry *e)
{
	e->purpose = "a\nb";
}
static void
long_controller(struct audit_entry *e)
{
	e->controller = long_id;
}
static void
long_categories(struct audit_entry *e)
{
	e->categories = long_cats;
}
static void
long_reason(struct audit_entry *e)
{
	e->reason = long_text;
}
static void
ctrl_reason(struct audit_entry *e)
{
	e->reason = "ok\x1b[2J";
}
static void
c1_rule(struct audit_entry *e)
{
	e->rule = "GDPR\xc2\x85"
	          "18";
}
static void
bad_utf8(struct audit_entry *e)
{
	e->reason = "caf\xe9";
}
static void
utf8_action(struct audit_entry *e)
{
	e->action = "l\xc3\xa6s";
}
static void
two_decision(struct audit_entry *e)
{
	e->allowed = 2;
}

static const struct bad_case bad_cases[] = {
        {"action is required", no_action, VAERN_E_INVALID},
        {"role is empty", empty_role, VAERN_E_INVALID},
        {"actor has a character", spaced_actor, VAERN_E_INVALID},
        {"purpose has a character", newline_purpose, VAERN_E_INVALID},
        {"controller is longer", long_controller, VAERN_E_LIMIT},
        {"categories is longer", long_categories, VAERN_E_LIMIT},
        {"reason is longer", long_reason, VAERN_E_LIMIT},
        {"reason has a control character", ctrl_reason, VAERN_E_INVALID},
        {"rule has a control character", c1_rule, VAERN_E_INVALID},
        {"reason is not UTF-8", bad_utf8, VAERN_E_INVALID},
        {"action has a character", utf8_action, VAERN_E_INVALID},
        {"decision must be", two_decision, VAERN_E_INVALID},
};

/*
 * GDPR-32, CONVENTIONS habit 5: oversized fields, control characters,
 * bad UTF-8 and free text in an id field are refused with a message that
 * names the field and not its content; nothing is written, alone or in
 * a batch with good entries.
 */
static void
test_gdpr32_bad_entries_refused_nothing_written(void **state)
{
	struct fixture *f = *state;
	struct audit_writer *w = NULL;
	struct vaern_msg msg = {{0}};

	memset(long_id, 'x', AUDIT_ID_MAX + 1);
	memset(long_cats, 'c', AUDIT_CATEGORIES_MAX + 1);
	memset(long_text, 't', AUDIT_TEXT_MAX + 1);
	append_n(f->db, 2);
	assert_int_equal(audit_writer_start(trail_of(f->db), 0, &w, &msg),
	                 VAERN_OK);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct audit_entry batch[3] = {entry("eve", NULL, 1),
		                               entry("eve", subject_a, 1),
		                               entry("eve", NULL, 0)};
		int64_t seq = -1;

		c->spoil(&batch[1]);
		memset(&msg, 0, sizeof(msg));
		assert_int_equal(audit_append(w, &batch[1], &seq, &msg),
		                 c->err);
		if (strstr(msg.text, c->name) == NULL)
			fail_msg("case %zu: '%s' not in '%s'", i, c->name,
			         msg.text);
		assert_null(strstr(msg.text, "Jens"));
		assert_int_equal(seq, -1);
		assert_int_equal(audit_append_many(w, batch, 3, &seq, &msg),
		                 c->err);
		assert_int_equal(audit_append_direct(trail_of(f->db), batch, 3,
		                                     &seq, &msg),
		                 c->err);
		assert_int_equal(audit_entry_check(&batch[1], &msg), c->err);
		assert_int_equal(count_rows(f->db), 2);
	}
	/* At the limits exactly: accepted. */
	{
		struct audit_entry e = entry("eve", NULL, 1);

		long_id[AUDIT_ID_MAX] = '\0';
		long_cats[AUDIT_CATEGORIES_MAX] = '\0';
		long_text[AUDIT_TEXT_MAX] = '\0';
		e.controller = long_id;
		e.categories = long_cats;
		e.reason = long_text;
		e.rule = "Art. 6(1)(f) \xe2\x80\x94 legitimate interest";
		assert_int_equal(audit_append(w, &e, NULL, &msg), VAERN_OK);
		e = entry("eve", NULL, 1);
		e.controller = e.actor = e.role = e.purpose = NULL;
		e.categories = e.rule = e.reason = NULL;
		assert_int_equal(audit_append(w, &e, NULL, &msg), VAERN_OK);
		/* An empty list (nothing released) and an empty rule, as the
		 * vault's gated read writes them. */
		e = entry("eve", NULL, 0);
		e.categories = "";
		e.rule = "";
		assert_int_equal(audit_append(w, &e, NULL, &msg), VAERN_OK);
	}
	{
		struct audit_entry e = entry("eve", NULL, 1);

		assert_int_equal(audit_append_many(w, &e, 0, NULL, &msg),
		                 VAERN_E_LIMIT);
		assert_int_equal(audit_append_many(w, &e, AUDIT_MANY_MAX + 1,
		                                   NULL, &msg),
		                 VAERN_E_LIMIT);
	}
	audit_writer_stop(w);
	assert_int_equal(count_rows(f->db), 5);
	assert_true(verify(f->db, NULL).ok);
}

/* ---- reading (the DPO's view) -------------------------------------------- */

struct collected {
	int64_t seqs[64];
	size_t n;
	int subject_a; /* entries about subject_a seen */
};

/* Sequence numbers read, into the caller's array. */
struct seq_list {
	int64_t *seqs; /* [max] */
	size_t n;      /* filled */
	size_t max;
};

static enum vaern_err
collect_seq(void *arg, const struct audit_record *r)
{
	struct seq_list *list = arg;

	if (list->n < list->max)
		list->seqs[list->n++] = r->seq;
	return VAERN_OK;
}

static enum vaern_err
collect(void *arg, const struct audit_record *r)
{
	struct collected *c = arg;

	if (c->n < 64)
		c->seqs[c->n++] = r->seq;
	if (r->entry.subject != NULL &&
	    memcmp(r->entry.subject, subject_a, AUDIT_SUBJECT_BYTES) == 0)
		c->subject_a++;
	return VAERN_OK;
}

/* GDPR-32: a data-protection officer reads one subject's entries or a
 * time range, in sequence order, page by page. */
static void
test_gdpr32_read_by_subject_and_time_range(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct audit_writer *w = NULL;
	struct audit_filter all = {NULL, INT64_MIN, INT64_MAX, 0, 0, NULL};
	struct audit_filter flt;
	struct collected c;

	/* Entry i (1..20) at T0 + 3600 * i; odd ones about subject_a. */
	assert_int_equal(audit_writer_start(trail_of(f->db), 0, &w, &msg),
	                 VAERN_OK);
	for (int i = 1; i <= 20; i++) {
		struct audit_entry e =
		        entry("frank", i % 2 ? subject_a : subject_b, 1);

		clock_set(T0 + 3600 * i);
		assert_int_equal(audit_append(w, &e, NULL, &msg), VAERN_OK);
	}
	audit_writer_stop(w);

	memset(&c, 0, sizeof(c));
	assert_int_equal(audit_read(f->db, &all, collect, &c, &msg), VAERN_OK);
	assert_int_equal(c.n, 20);
	assert_int_equal(c.seqs[19], 20);

	flt = all;
	flt.subject = subject_a;
	memset(&c, 0, sizeof(c));
	assert_int_equal(audit_read(f->db, &flt, collect, &c, &msg), VAERN_OK);
	assert_int_equal(c.n, 10);
	assert_int_equal(c.subject_a, 10);
	for (size_t i = 0; i < c.n; i++)
		assert_int_equal(c.seqs[i], 2 * (int64_t)i + 1);

	flt = all;
	flt.from_at = T0 + 3600 * 5; /* entry 5 included */
	flt.to_at = T0 + 3600 * 9;   /* entry 9 excluded */
	memset(&c, 0, sizeof(c));
	assert_int_equal(audit_read(f->db, &flt, collect, &c, &msg), VAERN_OK);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.seqs[0], 5);
	assert_int_equal(c.seqs[3], 8);

	/* Subject and time range, paged two at a time. */
	flt.subject = subject_a;
	flt.to_at = INT64_MAX;
	flt.limit = 2;
	memset(&c, 0, sizeof(c));
	assert_int_equal(audit_read(f->db, &flt, collect, &c, &msg), VAERN_OK);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.seqs[0], 5);
	assert_int_equal(c.seqs[1], 7);
	flt.after_seq = c.seqs[1];
	assert_int_equal(audit_read(f->db, &flt, collect, &c, &msg), VAERN_OK);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.seqs[2], 9);
	assert_int_equal(c.seqs[3], 11);

	/* One controller's entries only, the limit counting only those
	 * (a DPO pages through their own controller's trail). */
	{
		struct audit_entry other = entry("frank", subject_a, 1);

		other.controller = "othershop";
		assert_int_equal(audit_append_direct(trail_of(f->db), &other, 1,
		                                     NULL, &msg),
		                 VAERN_OK);
	}
	flt = all;
	flt.controller = "othershop";
	flt.limit = 1;
	memset(&c, 0, sizeof(c));
	assert_int_equal(audit_read(f->db, &flt, collect, &c, &msg), VAERN_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.seqs[0], 21);
	flt.controller = "testshop";
	flt.subject = subject_a;
	flt.limit = 0;
	memset(&c, 0, sizeof(c));
	assert_int_equal(audit_read(f->db, &flt, collect, &c, &msg), VAERN_OK);
	assert_int_equal(c.n, 10);
	flt.subject = NULL;
	flt.from_at = T0;
	memset(&c, 0, sizeof(c));
	assert_int_equal(audit_read(f->db, &flt, collect, &c, &msg), VAERN_OK);
	assert_int_equal(c.n, 20);

	flt = all;
	flt.from_at = T0 + 10;
	flt.to_at = T0;
	assert_int_equal(audit_read(f->db, &flt, collect, &c, &msg),
	                 VAERN_E_INVALID);
}

/* 1 if the database at path has an index called name. */
static int
has_index(const char *path, const char *name)
{
	struct db *db = NULL;
	struct db_stmt *s = NULL;
	int found;

	assert_int_equal(
	        db_open_sqlite(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                       5000, &db),
	        DB_OK);
	assert_int_equal(db_prepare(db,
	                            "SELECT 1 FROM sqlite_master WHERE"
	                            " type = 'index' AND name = ?1",
	                            0, &s),
	                 DB_OK);
	db_bind_text(s, 1, name, -1);
	found = db_step(s) == DB_ROW;
	db_finalize(s);
	db_close(db);
	return found;
}

/* The seqs of the entries about subject, after after_seq, at most limit
 * (0: all), by audit_read. */
static size_t
subject_seqs(const char *db, const unsigned char *subject, int64_t after_seq,
             int64_t limit, int64_t *out, size_t max)
{
	struct vaern_msg msg = {{0}};
	struct audit_filter flt = {subject,   INT64_MIN, INT64_MAX,
	                           after_seq, limit,     NULL};
	struct seq_list list = {out, 0, max};

	assert_int_equal(audit_read(db, &flt, collect_seq, &list, &msg),
	                 VAERN_OK);
	return list.n;
}

/*
 * GDPR-32: one subject's entries are found across the runs the subject
 * index is kept in (512 entries each), in order, paged over run
 * boundaries; also on a trail made before the index by runs, which a
 * read-only open reads by the old index and the writer's open converts.
 */
static void
test_gdpr32_read_subject_across_index_runs(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct audit_writer *w = NULL;
	int64_t *got = calloc(2000, sizeof(*got));
	size_t n;

	assert_non_null(got);
	/* 1400 entries; every seventh about subject_a: seq 7, 14, ... */
	assert_int_equal(audit_writer_start(trail_of(f->db), 0, &w, &msg),
	                 VAERN_OK);
	for (int i = 1; i <= 1400; i++) {
		struct audit_entry e =
		        entry("lars", i % 7 == 0 ? subject_a : subject_b, 1);
		assert_int_equal(audit_append(w, &e, NULL, &msg), VAERN_OK);
	}
	audit_writer_stop(w);
	n = subject_seqs(f->db, subject_a, 0, 0, got, 2000);
	assert_int_equal(n, 200);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], 7 * (int64_t)(i + 1));
	/* A page that crosses from run 0 (seq < 512) into run 1. */
	n = subject_seqs(f->db, subject_a, 500, 3, got, 2000);
	assert_int_equal(n, 3);
	assert_int_equal(got[0], 504);
	assert_int_equal(got[1], 511);
	assert_int_equal(got[2], 518);
	/* Past the end, and after the last. */
	assert_int_equal(subject_seqs(f->db, subject_a, 1400, 0, got, 2000), 0);
	assert_int_equal(subject_seqs(f->db, subject_a, 1393, 0, got, 2000), 1);
	assert_int_equal(subject_seqs(f->db, subject_b, 1398, 0, got, 2000), 1);

	/* The trail as an older vaern made it: index by subject alone. */
	exec_sql(f->db, "DROP INDEX audit_subject_run;"
	                "CREATE INDEX audit_subject ON audit(subject, seq)"
	                " WHERE subject IS NOT NULL;");
	n = subject_seqs(f->db, subject_a, 690, 2, got, 2000);
	assert_int_equal(n, 2);
	assert_int_equal(got[0], 693);
	assert_int_equal(got[1], 700);
	/* The writer's open converts it. */
	assert_int_equal(audit_writer_start(trail_of(f->db), 0, &w, &msg),
	                 VAERN_OK);
	audit_writer_stop(w);
	assert_true(has_index(f->db, "audit_subject_run"));
	assert_false(has_index(f->db, "audit_subject"));
	assert_int_equal(subject_seqs(f->db, subject_a, 0, 0, got, 2000), 200);
	assert_true(verify(f->db, NULL).ok);
	free(got);
}

struct readback {
	struct audit_entry want; /* what was written */
	int64_t at;              /* when */
	int seen;                /* records read */
	int same;                /* records equal to want */
};

static int
same_text(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static enum vaern_err
compare(void *arg, const struct audit_record *r)
{
	struct readback *rb = arg;
	const struct audit_entry *w = &rb->want, *g = &r->entry;
	unsigned char zero[AUDIT_HASH_BYTES] = {0};

	rb->seen++;
	if (r->seq == 1 && r->at == rb->at && !r->malformed &&
	    same_text(w->controller, g->controller) &&
	    same_text(w->actor, g->actor) && same_text(w->role, g->role) &&
	    same_text(w->purpose, g->purpose) &&
	    same_text(w->action, g->action) &&
	    same_text(w->categories, g->categories) &&
	    same_text(w->rule, g->rule) && same_text(w->reason, g->reason) &&
	    w->allowed == g->allowed && g->subject != NULL &&
	    memcmp(w->subject, g->subject, AUDIT_SUBJECT_BYTES) == 0 &&
	    memcmp(r->prev_hash, zero, AUDIT_HASH_BYTES) == 0)
		rb->same++;
	return VAERN_OK;
}

/* GDPR-32: what is read back is what was written, and the head hash is
 * the documented hash of entry 1. */
static void
test_gdpr32_read_returns_what_was_written(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct audit_filter all = {NULL, INT64_MIN, INT64_MAX, 0, 0, NULL};
	struct readback rb = {entry("gina", subject_b, 0), T0, 0, 0};
	unsigned char zero[AUDIT_HASH_BYTES] = {0}, h[AUDIT_HASH_BYTES];
	struct audit_verify_result res;
	int64_t seq = 0;

	assert_int_equal(
	        audit_append_direct(trail_of(f->db), &rb.want, 1, &seq, &msg),
	        VAERN_OK);
	assert_int_equal(seq, 1);
	assert_int_equal(audit_read(f->db, &all, compare, &rb, &msg), VAERN_OK);
	assert_int_equal(rb.seen, 1);
	assert_int_equal(rb.same, 1);
	audit_hash(test_key, zero, 1, T0, &rb.want, h);
	res = verify(f->db, NULL);
	assert_true(res.ok);
	assert_int_equal(res.head_seq, 1);
	assert_memory_equal(res.head, h, AUDIT_HASH_BYTES);
}

/* ---- asynchronous appends ----------------------------------------------- */

#define ASYNC_N 300

/* What the writer's callbacks reported, by append. */
struct async_log {
	pthread_mutex_t lock;
	pthread_cond_t all_done;
	int called[ASYNC_N];         /* callbacks per append: must be 1 */
	enum vaern_err err[ASYNC_N]; /* their results */
	int64_t seq[ASYNC_N];        /* first_seq */
	int64_t rows_seen[ASYNC_N];  /* rows committed when called */
	char message[VAERN_MSG_MAX]; /* the last failure's message */
	int done;                    /* callbacks so far */
	const char *db;              /* to count committed rows */
};

struct async_ticket {
	struct async_log *log;
	int i;
};

static void
async_done(void *arg, enum vaern_err err, int64_t first_seq,
           const struct vaern_msg *msg)
{
	struct async_ticket *t = arg;
	struct async_log *l = t->log;

	pthread_mutex_lock(&l->lock);
	l->called[t->i]++;
	l->err[t->i] = err;
	l->seq[t->i] = first_seq;
	if (err != VAERN_OK && msg != NULL)
		memcpy(l->message, msg->text, sizeof(l->message));
	if (l->db != NULL)
		l->rows_seen[t->i] = count_rows(l->db);
	l->done++;
	pthread_cond_broadcast(&l->all_done);
	pthread_mutex_unlock(&l->lock);
}

static void
async_wait(struct async_log *l, int n)
{
	pthread_mutex_lock(&l->lock);
	while (l->done < n)
		pthread_cond_wait(&l->all_done, &l->lock);
	pthread_mutex_unlock(&l->lock);
}

static struct async_log *
async_log_new(const char *db)
{
	struct async_log *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->all_done, NULL);
	l->db = db;
	return l;
}

static void
async_log_free(struct async_log *l)
{
	pthread_cond_destroy(&l->all_done);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/*
 * GDPR-32: an asynchronous append returns at once and reports each
 * append exactly once, after the transaction holding it committed (its
 * row is there when told); sequence numbers follow the order of the
 * calls; the entries are copied, so the caller's strings may change at
 * once; the chain verifies.
 */
static void
test_gdpr32_async_appends_reported_once_committed(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct audit_writer *w = NULL;
	struct async_log *l = async_log_new(f->db);
	struct async_ticket t[ASYNC_N];
	struct audit_filter all = {NULL, INT64_MIN, INT64_MAX, 0, 0, NULL};
	struct readback rb;
	char actor[16];

	assert_int_equal(audit_writer_start(trail_of(f->db), 0, &w, &msg),
	                 VAERN_OK);
	for (int i = 0; i < ASYNC_N; i++) {
		struct audit_entry e = entry(actor, subject_a, 1);

		/* The first entry's actor is "hugo"; the buffer is reused. */
		snprintf(actor, sizeof(actor), "%s", i == 0 ? "hugo" : "ida");
		t[i] = (struct async_ticket){l, i};
		assert_int_equal(
		        audit_append_async(w, &e, 1, async_done, &t[i], &msg),
		        VAERN_OK);
		memset(actor, 'X', sizeof(actor) - 1);
	}
	async_wait(l, ASYNC_N);
	audit_writer_stop(w);
	for (int i = 0; i < ASYNC_N; i++) {
		assert_int_equal(l->called[i], 1);
		assert_int_equal(l->err[i], VAERN_OK);
		assert_int_equal(l->seq[i], i + 1);
		assert_true(l->rows_seen[i] >= i + 1);
	}
	assert_int_equal(count_rows(f->db), ASYNC_N);
	assert_true(verify(f->db, NULL).ok);
	/* Entry 1 is what was given, not what the buffer held later. */
	memset(&rb, 0, sizeof(rb));
	rb.want = entry("hugo", subject_a, 1);
	rb.at = T0;
	all.limit = 1;
	assert_int_equal(audit_read(f->db, &all, compare, &rb, &msg), VAERN_OK);
	assert_int_equal(rb.same, 1);
	async_log_free(l);
}

/* GDPR-32: a failed commit is reported to every asynchronous append of
 * its transaction, which then wrote nothing; a bad entry is refused at
 * the call, with no callback. */
static void
test_gdpr32_async_failure_reported_nothing_written(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct audit_writer *w = NULL;
	struct async_log *l = async_log_new(NULL);
	struct async_ticket t[3];
	struct audit_entry e = entry("jens", subject_b, 0);
	struct audit_entry bad = entry("has space", subject_b, 0);

	append_n(f->db, 2);
	assert_int_equal(audit_writer_start(trail_of(f->db), 0, &w, &msg),
	                 VAERN_OK);
	assert_int_equal(
	        audit_append_async(w, &bad, 1, async_done, &t[0], &msg),
	        VAERN_E_INVALID);
	exec_sql(f->db, "CREATE TRIGGER no_audit BEFORE INSERT ON audit"
	                " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END;");
	for (int i = 0; i < 2; i++) {
		t[i] = (struct async_ticket){l, i};
		assert_int_equal(
		        audit_append_async(w, &e, 1, async_done, &t[i], &msg),
		        VAERN_OK);
	}
	async_wait(l, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(l->called[i], 1);
		assert_int_equal(l->err[i], VAERN_E_STORE);
	}
	assert_non_null(strstr(l->message, "disk trouble"));
	assert_int_equal(count_rows(f->db), 2);
	assert_int_equal(audit_writer_failures(w), 2);
	exec_sql(f->db, "DROP TRIGGER no_audit");
	t[2] = (struct async_ticket){l, 2};
	assert_int_equal(audit_append_async(w, &e, 1, async_done, &t[2], &msg),
	                 VAERN_OK);
	async_wait(l, 3);
	assert_int_equal(l->err[2], VAERN_OK);
	assert_int_equal(l->seq[2], 3);
	audit_writer_stop(w);
	assert_int_equal(l->called[0] + l->called[1] + l->called[2], 3);
	assert_true(verify(f->db, NULL).ok);
	async_log_free(l);
}

/* GDPR-32: stopping the writer commits the asynchronous appends queued
 * and reports each before the stop returns. */
static void
test_gdpr32_stop_commits_queued_async_appends(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct audit_writer *w = NULL;
	struct async_log *l = async_log_new(NULL);
	struct async_ticket t[ASYNC_N];
	struct audit_entry e = entry("karl", NULL, 1);

	assert_int_equal(audit_writer_start(trail_of(f->db), 0, &w, &msg),
	                 VAERN_OK);
	for (int i = 0; i < ASYNC_N; i++) {
		t[i] = (struct async_ticket){l, i};
		assert_int_equal(
		        audit_append_async(w, &e, 1, async_done, &t[i], &msg),
		        VAERN_OK);
	}
	audit_writer_stop(w);
	assert_int_equal(l->done, ASYNC_N);
	for (int i = 0; i < ASYNC_N; i++)
		assert_int_equal(l->err[i], VAERN_OK);
	assert_int_equal(count_rows(f->db), ASYNC_N);
	async_log_free(l);
}

/* ---- the outbox and the head (issue 12) --------------------------------- */

/* The one int64 that sql selects from the database at path. */
static int64_t
one_int(const char *path, const char *sql)
{
	struct db *db = NULL;
	struct db_stmt *s = NULL;
	int64_t n = INT64_MIN;

	assert_int_equal(
	        db_open_sqlite(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                       5000, &db),
	        DB_OK);
	if (db_prepare(db, sql, 0, &s) == DB_OK && db_step(s) == DB_ROW)
		n = db_column_int64(s, 0);
	db_finalize(s);
	db_close(db);
	if (n == INT64_MIN)
		fail_msg("%s: no row", sql);
	return n;
}

#define OUTBOX_ROW(id)                                                         \
	"INSERT INTO audit_outbox(id, at, controller, actor, action,"          \
	" decision, rule, reason) VALUES (" id ", 1767225600, 'testshop',"     \
	" 'retention', 'retention_sweep', 1, 'GDPR-5(1)(e)', 'deleted 4');"

/*
 * GDPR-32: an entry committed with its change in the data store's outbox
 * is moved into the trail once, however often the move is retried (a
 * crash between the trail's commit and the outbox's delete); the data
 * store then keeps the trail's head; a data store restored with a lower
 * outbox counter never hands out an id already moved.
 */
static void
test_gdpr32_outbox_moved_once_head_kept(void **state)
{
	struct fixture *f = *state;
	struct audit_verify_result res;
	struct vaern_msg msg = {{0}};
	struct audit_trail t;
	char store[128];
	int64_t moved = -1;

	snprintf(store, sizeof(store), "%s/store.db", f->dir);
	exec_sql(store, AUDIT_VAULT_SCHEMA_SQL
	         "INSERT INTO audit_head(id, seq, mac, keyed_from, tag) VALUES "
	         "(1, -1, zeroblob(32), 0, zeroblob(32))"
	         ";" OUTBOX_ROW("1") OUTBOX_ROW("2") OUTBOX_ROW("3"));
	memcpy(&t, trail_of(f->db), sizeof(t));
	t.outbox_path = store;
	assert_int_equal(audit_outbox_flush(&t, &moved, &msg), VAERN_OK);
	assert_int_equal(moved, 3);
	assert_int_equal(count_rows(f->db), 3);
	assert_int_equal(one_int(store, "SELECT count(*) FROM audit_outbox"),
	                 0);
	assert_int_equal(one_int(store, "SELECT seq FROM audit_head"), 3);
	assert_int_equal(one_int(store, "SELECT keyed_from FROM audit_head"),
	                 1);
	/* Row 2 again (its delete lost), and a new one: only the new moves. */
	exec_sql(store, OUTBOX_ROW("2") OUTBOX_ROW("10"));
	assert_int_equal(audit_outbox_flush(&t, &moved, &msg), VAERN_OK);
	assert_int_equal(moved, 1);
	assert_int_equal(count_rows(f->db), 4);
	assert_int_equal(one_int(store, "SELECT count(*) FROM audit_outbox"),
	                 0);
	assert_int_equal(
	        one_int(f->db, "SELECT outbox FROM audit WHERE seq = 4"), 10);
	/* Nothing to move: no transaction, nothing written. */
	assert_int_equal(audit_outbox_flush(&t, &moved, &msg), VAERN_OK);
	assert_int_equal(moved, 0);
	assert_int_equal(audit_verify(&t, NULL, 0, &res, &msg), VAERN_OK);
	assert_true(res.ok);
	assert_int_equal(res.entries, 4);
	/* A data store restored from before id 10: its counter is raised. */
	exec_sql(store, "DELETE FROM sqlite_sequence");
	assert_int_equal(audit_outbox_flush(&t, &moved, &msg), VAERN_OK);
	assert_int_equal(one_int(store, "SELECT seq FROM sqlite_sequence"
	                                " WHERE name = 'audit_outbox'"),
	                 10);
	/* The head lags by design only: cut below it, the trail fails. */
	exec_sql(f->db, "DELETE FROM audit WHERE seq = 4");
	assert_int_equal(audit_verify(&t, NULL, 0, &res, &msg), VAERN_OK);
	assert_false(res.ok);
	assert_int_equal(res.problem, AUDIT_HEAD);
	assert_int_equal(res.first_bad, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	        T(test_gdpr32_empty_trail_verifies),
	        T(test_gdpr32_verify_without_database_fails),
	        T(test_gdpr32_hash_known_answer),
	        T(test_gdpr32_hash_covers_every_field),
	        T(test_gdpr32_concurrent_appends_contiguous_and_committed),
	        T(test_gdpr32_writers_continue_one_chain),
	        T(test_gdpr32_failed_commit_fails_append_and_writes_nothing),
	        T(test_gdpr32_appends_queued_behind_the_lock_join_its_batch),
	        T(test_gdpr33_release_index_holds_every_release),
	        T(test_gdpr32_async_appends_reported_once_committed),
	        T(test_gdpr32_async_failure_reported_nothing_written),
	        T(test_gdpr32_stop_commits_queued_async_appends),
	        T(test_gdpr32_verify_names_changed_entry),
	        T(test_gdpr32_verify_names_changed_fields),
	        T(test_gdpr32_verify_names_malformed_entry),
	        T(test_gdpr32_verify_names_removed_entry),
	        T(test_gdpr32_verify_names_removed_first_entries),
	        T(test_gdpr32_verify_names_renumbered_removal),
	        T(test_gdpr32_verify_names_reordered_entries),
	        T(test_gdpr32_anchor_catches_rewritten_and_cut_tail),
	        T(test_gdpr32_bad_entries_refused_nothing_written),
	        T(test_gdpr32_read_by_subject_and_time_range),
	        T(test_gdpr32_read_returns_what_was_written),
	        T(test_gdpr32_read_subject_across_index_runs),
	        T(test_gdpr32_outbox_moved_once_head_kept),
#undef T
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
