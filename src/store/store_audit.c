/*
 * store_audit.c -- the audit table on a SQLite connection of its own.
 *
 * The vault's connection (store_sqlite.c) and this one share the file and
 * its write lock: SQLite admits one writer at a time, so an audit commit
 * waits (busy timeout) while the vault writes, and the other way round.
 * Nothing here rewrites or deletes a row (GDPR-32: the log of access is
 * append-only); src/audit hashes the rows into a chain so that a change
 * made behind this interface's back is found.
 */
#include "store_audit.h"

#include "sqlite_util.h"
#include "store_audit_release.h"

#include "db.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* How long a commit waits for the vault (or another process) to release
 * the write lock; a bulk import holds it for about a second. */
#define AUDIT_BUSY_MS 10000

/*
 * The subject index is keyed by (seq >> RUN_SHIFT, subject): runs of
 * 512 entries, by subject within each run. Entries name random subjects;
 * an index by subject alone put nearly every entry of a commit on a page
 * of its own, and each such page is a WAL frame written, synced and
 * checkpointed. By run, a commit's entries share the few pages of the
 * newest run (vaern-bench-audit, 64 appends in flight: 31,000 entries/s
 * at 18 us of CPU each before, 54,000 at 10 us after). A subject's
 * entries are then read one run at a time: an index search each, about
 * 20,000 for ten million entries. The first writable open of a trail
 * made before builds the index, once.
 */
#define RUN_SHIFT     9
#define RUN_SHIFT_SQL "9" /* the same, in the SQL below */

/* The page cache of a writer's connection, 16 MiB: the newest pages of
 * the table and its indexes, which every commit writes, stay in memory. */
#define CACHE_PRAGMA "PRAGMA cache_size=-16384;"
/* SQLite's own checkpoint threshold (pages), which apart 0 restores. */
#define AUDIT_AUTOCHECKPOINT 1000

/* One transaction, so a reader sees the table with its indexes or none.
 * A trail made before the run-keyed index gets it, and loses the index by
 * subject alone (audit_subject), on its first writable open; one made
 * before the outbox gets its outbox and version columns (schema_setup). */
static const char schema_sql[] =
        "CREATE TABLE IF NOT EXISTS audit("
        " seq INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
        " controller TEXT, actor TEXT, role TEXT, purpose TEXT,"
        " action TEXT NOT NULL, subject BLOB, categories TEXT,"
        " decision INTEGER NOT NULL, rule TEXT, reason TEXT,"
        " prev_hash BLOB NOT NULL, hash BLOB NOT NULL, policy TEXT,"
        " outbox INTEGER, version INTEGER);"
        /* A subject's entries (DPO reads, access reports). */
        "CREATE INDEX IF NOT EXISTS audit_subject_run"
        " ON audit(seq >> " RUN_SHIFT_SQL ", subject)"
        " WHERE subject IS NOT NULL;"
        "DROP INDEX IF EXISTS audit_subject;"
        "CREATE INDEX IF NOT EXISTS audit_at ON audit(at);";

/* After schema_sql: the entries moved from the data store's outbox, each
 * once (the ids only grow, so the index grows at its end). */
static const char schema_moved_sql[] =
        "CREATE UNIQUE INDEX IF NOT EXISTS audit_moved ON audit(outbox)"
        " WHERE outbox IS NOT NULL;";

#define COLUMNS                                                                \
	"seq, at, controller, actor, role, purpose, action, subject,"          \
	" categories, decision, rule, reason, prev_hash, hash, policy,"        \
	" outbox, version"

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_HEAD,
	S_INSERT,
	S_ALL,         /* every row after a seq */
	S_RANGE,       /* rows in a time range */
	S_SUBJECT,     /* one subject's rows in one run of the index */
	S_SUBJECT_OLD, /* one subject's rows, by the index of a trail not
	                  yet opened writable since audit_subject_run */
	S_LAST,        /* the highest seq */
	S_READ,        /* BEGIN: one snapshot for a read by runs */
	S_MOVED,       /* the entry moved from an outbox row */
	S_MOVED_MAX,   /* the highest outbox id moved */
	S_COUNT_
};

static const char *const stmt_sql[S_COUNT_] = {
        [S_BEGIN] = "BEGIN IMMEDIATE",
        [S_COMMIT] = "COMMIT",
        [S_ROLLBACK] = "ROLLBACK",
        [S_HEAD] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
        [S_INSERT] = "INSERT INTO audit(" COLUMNS ") VALUES"
                     " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
                     " ?13, ?14, ?15, ?16, ?17)",
        /* The controller is a filter in SQL, so LIMIT counts only the
         * rows one controller's officer may see. */
        [S_ALL] = "SELECT " COLUMNS " FROM audit WHERE seq > ?1"
                  " AND (CAST(?6 AS TEXT) IS NULL OR controller = ?6)"
                  " ORDER BY seq LIMIT ?4",
        [S_RANGE] = "SELECT " COLUMNS " FROM audit INDEXED BY audit_at"
                    " WHERE at >= ?2 AND at < ?3 AND seq > ?1"
                    " AND (CAST(?6 AS TEXT) IS NULL OR controller = ?6)"
                    " ORDER BY seq LIMIT ?4",
        [S_SUBJECT] = "SELECT " COLUMNS " FROM audit"
                      " INDEXED BY audit_subject_run"
                      " WHERE seq >> " RUN_SHIFT_SQL " = ?7 AND subject = ?5"
                      " AND seq > ?1 AND at >= ?2 AND at < ?3"
                      " AND (CAST(?6 AS TEXT) IS NULL OR controller = ?6)"
                      " ORDER BY seq LIMIT ?4",
        [S_SUBJECT_OLD] = "SELECT " COLUMNS " FROM audit WHERE subject = ?5"
                          " AND seq > ?1 AND at >= ?2 AND at < ?3"
                          " AND (CAST(?6 AS TEXT) IS NULL OR controller = ?6)"
                          " ORDER BY seq LIMIT ?4",
        [S_LAST] = "SELECT max(seq) FROM audit",
        [S_READ] = "BEGIN",
        [S_MOVED] = "SELECT seq FROM audit INDEXED BY audit_moved"
                    " WHERE outbox = ?1 AND outbox IS NOT NULL",
        [S_MOVED_MAX] = "SELECT coalesce(max(outbox), 0) FROM audit"
                        " WHERE outbox IS NOT NULL",
};

struct audit_store {
	struct sqlu_conn conn;          /* this store's own connection */
	struct db_stmt *stmt[S_COUNT_]; /* conn's statements, prepared lazily,
	                                 finalised on close */
	int in_tx;                      /* 1 between begin and commit */
	int has_table;                  /* 0: a read-only open found no trail */
	int by_run;                     /* 1: the subject index is by run */
	struct audit_release_writer *release; /* writable: the release index,
	                                         written with each entry
	                                         (issue 17) */
	int log_frames; /* pages in the log after the last commit
	                   (checkpoint_apart only) */
};

/* Sets *exists to 1 if the schema has an object of type and name. */
static enum vaern_err
schema_has(struct audit_store *st, const char *type, const char *name,
           int *exists, struct vaern_msg *msg)
{
	struct db_stmt *s = NULL;
	enum vaern_err err;

	/* "column": a column of the audit table, by name. */
	if (db_prepare(st->conn.db,
	               strcmp(type, "column") == 0
	                       ? "SELECT 1 FROM pragma_table_info("
	                         "'audit') WHERE ?1 = 'column'"
	                         " AND name = ?2"
	                       : "SELECT 1 FROM sqlite_master WHERE"
	                         " type = ?1 AND name = ?2",
	               0, &s) != DB_OK)
		return sqlu_fail(&st->conn, msg, "schema");
	db_bind_text(s, 1, type, -1);
	db_bind_text(s, 2, name, -1);
	err = sqlu_step_row(&st->conn, s, "schema", NULL, msg);
	if (err == VAERN_OK || err == VAERN_E_NOTFOUND) {
		*exists = err == VAERN_OK;
		err = VAERN_OK;
	}
	db_finalize(s);
	return err;
}

/* Sets *has to 1 if the audit table has column name. */
static int
has_column(struct db *db, const char *name, int *has)
{
	struct db_stmt *s = NULL;
	int rc;

	*has = 0;
	if (db_prepare(db,
	               "SELECT 1 FROM pragma_table_info('audit')"
	               " WHERE name = ?1",
	               0, &s) != DB_OK)
		return SQLITE_ERROR;
	db_bind_text(s, 1, name, -1);
	rc = db_step(s);
	*has = rc == DB_ROW;
	db_finalize(s);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc;
}

/* The columns a trail made before them gets on its first writable open:
 * the policy version (issue 12 point 1), then the outbox id and the
 * encoding version (points 4 and 5). */
static const struct {
	const char *name;
	const char *sql;
} columns_added[] = {
        {"policy", "ALTER TABLE audit ADD COLUMN policy TEXT"},
        {"outbox", "ALTER TABLE audit ADD COLUMN outbox INTEGER"},
        {"version", "ALTER TABLE audit ADD COLUMN version INTEGER"},
};
#define NCOLUMNS_ADDED (sizeof(columns_added) / sizeof(columns_added[0]))

/* The audit table and its indexes, in one write transaction, so two
 * processes opening an old trail at once add its new columns once. */
static int
schema_setup(struct db *db, char **errmsg)
{
	int rc, has = 0;

	if ((rc = db_exec(db, "BEGIN IMMEDIATE", errmsg)) != DB_OK)
		return rc;
	rc = db_exec(db, schema_sql, errmsg);
	for (size_t i = 0; rc == DB_OK && i < NCOLUMNS_ADDED; i++) {
		if ((rc = has_column(db, columns_added[i].name, &has)) ==
		            DB_OK &&
		    !has)
			rc = db_exec(db, columns_added[i].sql, errmsg);
	}
	if (rc == DB_OK)
		rc = db_exec(db, schema_moved_sql, errmsg);
	/* The release index (issue 17), backfilled for an older trail. */
	if (rc == DB_OK)
		rc = audit_release_schema(db, errmsg);
	if (rc == DB_OK)
		rc = db_exec(db, "COMMIT", errmsg);
	if (rc != DB_OK)
		(void)db_exec(db, "ROLLBACK", NULL);
	return rc;
}

enum vaern_err
audit_store_open(const char *path, int writable, struct audit_store **out,
                 struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	struct audit_store *st;
	struct stat sb;
	char *errmsg = NULL, probe[8];
	int on_pg = 0;

	*out = NULL;
	if (db_store_conf(path, 0, probe, sizeof(probe)) != 0) {
		/* PostgreSQL: the trail is the schema "audit", made with the
		 * rest of the store's schema (store_pg_schema.c). */
		explicit_bzero(probe, sizeof(probe));
		if ((st = calloc(1, sizeof(*st))) == NULL)
			return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		st->conn.sql = stmt_sql;
		st->conn.stmt = st->stmt;
		st->conn.nstmt = S_COUNT_;
		st->conn.prefix = "audit ";
		if ((err = sqlu_open_file(&st->conn, path, 0, AUDIT_BUSY_MS,
		                          DB_SCHEMA_AUDIT, &on_pg, msg)) ==
		    VAERN_OK) {
			st->has_table = 1;
			st->by_run = 1;
			if ((st->release = audit_release_writer_new(
			             st->conn.db)) == NULL)
				err = vaern_fail(msg, VAERN_E_NOMEM,
				                 "out of memory");
		}
		goto done;
	}
	if (stat(path, &sb) != 0)
		return errno == ENOENT ? vaern_fail(msg, VAERN_E_NOTFOUND,
		                                    "no database at %s", path)
		                       : vaern_fail(msg, VAERN_E_IO, "%s: %s",
		                                    path, strerror(errno));
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	st->conn.sql = stmt_sql;
	st->conn.stmt = st->stmt;
	st->conn.nstmt = S_COUNT_;
	st->conn.prefix = "audit ";
	/* A duplicate seq is "already exists"; any other constraint failure
	 * keeps SQLite's message, which names the column. */
	st->conn.any_constraint = 0;
	/* No SQLITE_OPEN_CREATE: the vault (vaern init) makes the file. */
	if ((err = sqlu_open(&st->conn, path,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	                     AUDIT_BUSY_MS, msg)) != VAERN_OK)
		goto done;
	/*
	 * synchronous=FULL: a commit that returned is on disk, power loss
	 * included, so "the call returns only after its audit entry is
	 * durable" holds. journal_mode is persistent in the file; setting
	 * it again is a no-op when the vault already did.
	 */
	if (db_exec(st->conn.db,
	            writable ? "PRAGMA journal_mode=WAL;"
	                       "PRAGMA synchronous=FULL;"
	                       "PRAGMA foreign_keys=OFF;" CACHE_PRAGMA
	                     : "PRAGMA synchronous=FULL;",
	            &errmsg) != DB_OK ||
	    (writable && schema_setup(st->conn.db, &errmsg) != DB_OK)) {
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "cannot set up the audit trail in %s: %s",
		                 path, errmsg ? errmsg : "unknown error");
		goto done;
	}
	if (writable) {
		st->has_table = 1;
		st->by_run = 1;
		if ((st->release = audit_release_writer_new(st->conn.db)) ==
		    NULL) {
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
			goto done;
		}
	} else if ((err = schema_has(st, "table", "audit", &st->has_table,
	                             msg)) == VAERN_OK &&
	           (err = schema_has(st, "index", "audit_subject_run",
	                             &st->by_run, msg)) == VAERN_OK &&
	           st->has_table) {
		int has;

		/* A trail made before the columns added since (the last:
		 * version) gets them from a writable open, once, so that
		 * reads name them. */
		if ((err = schema_has(st, "column", "version", &has, msg)) ==
		            VAERN_OK &&
		    !has) {
			struct audit_store *w = NULL;

			if ((err = audit_store_open(path, 1, &w, msg)) ==
			    VAERN_OK)
				audit_store_close(w);
		}
	}
done:
	db_free(errmsg);
	if (err != VAERN_OK) {
		audit_store_close(st);
		return err;
	}
	*out = st;
	return VAERN_OK;
}

void
audit_store_close(struct audit_store *st)
{
	if (st == NULL)
		return;
	if (st->in_tx)
		audit_store_rollback(st);
	audit_release_writer_free(st->release);
	sqlu_close(&st->conn);
	free(st);
}

enum vaern_err
audit_store_begin(struct audit_store *st, struct vaern_msg *msg)
{
	enum vaern_err err;

	if (!st->has_table)
		return vaern_fail(msg, VAERN_E_INTERNAL,
		                  "the audit store was opened read-only");
	/* One chain: one writer (the lock exclusive); each failure fails
	 * the whole transaction, so its inserts may be queued (db.h). */
	if ((err = sqlu_begin(&st->conn, S_BEGIN, DB_WRITE_QUEUED,
	                      DB_LOCK_AUDIT, msg)) == VAERN_OK)
		st->in_tx = 1;
	return err;
}

enum vaern_err
audit_store_commit(struct audit_store *st, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;

	/* The release index's blocks, in the entries' transaction. */
	if (st->release != NULL)
		err = audit_release_flush(st->release, msg);
	if (err == VAERN_OK)
		err = sqlu_exec(&st->conn, S_COMMIT, "commit", msg);
	/* A failed COMMIT may leave the transaction open: roll it back so
	 * the next batch starts clean. */
	if (err != VAERN_OK)
		audit_store_rollback(st);
	else
		audit_release_writer_end(st->release, 0);
	st->in_tx = 0;
	return err;
}

/* SQLite's word after each commit: the log's length, kept; setting the
 * hook also ends the automatic checkpoints. */
static int
log_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct audit_store *st = arg;

	(void)db;
	(void)name;
	st->log_frames = frames;
	return SQLITE_OK;
}

int
audit_store_checkpoint_apart(struct audit_store *st, int apart)
{
	if (db_engine(st->conn.db) != DB_SQLITE)
		return 0; /* PostgreSQL checkpoints on its own */
	if (!apart) {
		/* Replaces the hook: SQLite's own checkpoints again. */
		(void)sqlite3_wal_autocheckpoint(st->conn.db->lite,
		                                 AUDIT_AUTOCHECKPOINT);
		st->log_frames = 0;
		return 1;
	}
	(void)sqlite3_wal_hook(st->conn.db->lite, log_hook, st);
	return 1;
}

int
audit_store_log_frames(const struct audit_store *st)
{
	return st->log_frames;
}

enum vaern_err
audit_store_checkpoint(struct audit_store *st, int *log, int *copied,
                       struct vaern_msg *msg)
{
	int nlog = 0, ncopied = 0, rc = SQLITE_OK;

	if (db_engine(st->conn.db) == DB_SQLITE)
		rc = sqlite3_wal_checkpoint_v2(st->conn.db->lite, NULL,
		                               SQLITE_CHECKPOINT_PASSIVE, &nlog,
		                               &ncopied);
	if (log != NULL)
		*log = nlog;
	if (copied != NULL)
		*copied = ncopied;
	if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
		return sqlu_fail(&st->conn, msg, "checkpoint");
	return VAERN_OK;
}

int
audit_store_log_restart(struct audit_store *st, int wait_ms)
{
	return db_log_restart(st->conn.db, wait_ms);
}

void
audit_store_rollback(struct audit_store *st)
{
	if (!db_autocommit(st->conn.db))
		(void)sqlu_exec(&st->conn, S_ROLLBACK, "rollback", NULL);
	audit_release_writer_end(st->release, 1);
	st->in_tx = 0;
}

enum vaern_err
audit_store_head(struct audit_store *st, int64_t *seq,
                 unsigned char hash[AUDIT_HASH_BYTES], struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	*seq = 0;
	memset(hash, 0, AUDIT_HASH_BYTES);
	if (!st->has_table)
		return VAERN_OK;
	if ((s = sqlu_stmt(&st->conn, S_HEAD, msg)) == NULL)
		return VAERN_E_STORE;
	if ((err = sqlu_step_row(&st->conn, s, "head", NULL, msg)) ==
	    VAERN_E_NOTFOUND) {
		err = VAERN_OK; /* an empty trail */
	} else if (err == VAERN_OK) {
		const void *h = db_column_blob(s, 1);

		*seq = db_column_int64(s, 0);
		if (db_column_type(s, 1) != DB_BLOB || h == NULL ||
		    db_column_bytes(s, 1) != AUDIT_HASH_BYTES)
			err = vaern_fail(
			        msg, VAERN_E_STORE,
			        "audit entry %lld: malformed hash; run "
			        "'vaern audit verify'",
			        (long long)*seq);
		else
			memcpy(hash, h, AUDIT_HASH_BYTES);
	}
	sqlu_reset(s);
	return err;
}

enum vaern_err
audit_store_insert(struct audit_store *st, const struct audit_row *r,
                   struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, r->seq);
	audit_row_bind_entry(s, 2, r);
	db_bind_blob(s, 13, r->prev_hash, AUDIT_HASH_BYTES);
	db_bind_blob(s, 14, r->hash, AUDIT_HASH_BYTES);
	audit_bind_text(s, 15, r->policy);
	if (r->outbox_id != 0)
		db_bind_int64(s, 16, r->outbox_id);
	db_bind_int64(s, 17, r->version);
	if ((err = sqlu_step_done(&st->conn, s, "entry", msg)) != VAERN_OK)
		return err;
	/* The release index, in the entry's own transaction (issue 17). */
	if (st->release == NULL)
		return vaern_fail(msg, VAERN_E_INTERNAL,
		                  "the audit store was opened read-only");
	return audit_release_add(st->release, r, msg);
}

enum vaern_err
audit_store_moved(struct audit_store *st, int64_t outbox_id, int64_t *seq,
                  struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_MOVED, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, outbox_id);
	if ((err = sqlu_step_row(&st->conn, s, "moved", NULL, msg)) == VAERN_OK)
		*seq = db_column_int64(s, 0);
	sqlu_reset(s);
	return err;
}

enum vaern_err
audit_store_moved_max(struct audit_store *st, int64_t *max,
                      struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_MOVED_MAX, msg)) == NULL)
		return VAERN_E_STORE;
	return sqlu_step_int64(&st->conn, s, max, "moved", msg);
}

/*
 * Reads text column col into *out: NULL for SQL NULL (if nullable), else
 * the text. Returns 0 if the column is of another type or holds a NUL.
 */
static int
column_text(struct db_stmt *s, int col, int nullable, const char **out)
{
	int type = db_column_type(s, col);
	const char *t;

	*out = NULL;
	if (type == DB_NULL)
		return nullable;
	if (type != DB_TEXT)
		return 0;
	t = (const char *)db_column_text(s, col);
	if (t == NULL || strlen(t) != (size_t)db_column_bytes(s, col))
		return 0;
	*out = t;
	return 1;
}

/* Reads blob column col of exactly len bytes (or NULL if nullable). */
static int
column_blob(struct db_stmt *s, int col, int nullable, size_t len,
            const unsigned char **out)
{
	int type = db_column_type(s, col);
	const unsigned char *b;

	*out = NULL;
	if (type == DB_NULL)
		return nullable;
	if (type != DB_BLOB)
		return 0;
	b = db_column_blob(s, col);
	if (b == NULL || (size_t)db_column_bytes(s, col) != len)
		return 0;
	*out = b;
	return 1;
}

static void
read_row(struct db_stmt *s, struct audit_row *r)
{
	int ok = 1;

	memset(r, 0, sizeof(*r));
	r->seq = db_column_int64(s, 0);
	ok &= db_column_type(s, 1) == DB_INTEGER;
	r->at = db_column_int64(s, 1);
	ok &= column_text(s, 2, 1, &r->controller);
	ok &= column_text(s, 3, 1, &r->actor);
	ok &= column_text(s, 4, 1, &r->role);
	ok &= column_text(s, 5, 1, &r->purpose);
	ok &= column_text(s, 6, 0, &r->action);
	ok &= column_blob(s, 7, 1, AUDIT_SUBJECT_BYTES, &r->subject);
	ok &= column_text(s, 8, 1, &r->categories);
	ok &= db_column_type(s, 9) == DB_INTEGER;
	r->decision = db_column_int64(s, 9);
	ok &= column_text(s, 10, 1, &r->rule);
	ok &= column_text(s, 11, 1, &r->reason);
	ok &= column_blob(s, 12, 0, AUDIT_HASH_BYTES, &r->prev_hash);
	ok &= column_blob(s, 13, 0, AUDIT_HASH_BYTES, &r->hash);
	ok &= column_text(s, 14, 1, &r->policy);
	/* The outbox id is bookkeeping, outside the chain. The version:
	 * NULL (a row of a trail made before the column) is 1. */
	r->outbox_id = db_column_int64(s, 15);
	r->version = 1;
	if (db_column_type(s, 16) != DB_NULL) {
		ok &= db_column_type(s, 16) == DB_INTEGER;
		r->version = db_column_int64(s, 16);
	}
	r->malformed = !ok;
}

/* Binds f to s (the parameters every read statement numbers alike) with
 * at most limit rows (-1: all). */
static void
bind_filter(struct db_stmt *s, const struct audit_store_filter *f,
            int64_t limit)
{
	db_bind_int64(s, 1, f->after_seq);
	db_bind_int64(s, 2, f->from_at);
	db_bind_int64(s, 3, f->to_at);
	db_bind_int64(s, 4,
	              limit < 0 ? INT64_MAX
	                        : limit); /* PostgreSQL: no LIMIT -1 */
	if (f->subject != NULL)
		db_bind_blob(s, 5, f->subject, AUDIT_SUBJECT_BYTES);
	audit_bind_text(s, 6, f->controller);
}

/* Passes the rows of the bound statement s to fn, counting them in
 * *rows; stops at the first non-OK from fn. */
static enum vaern_err
rows_each(struct audit_store *st, struct db_stmt *s,
          enum vaern_err (*fn)(void *arg, const struct audit_row *r), void *arg,
          int64_t *rows, struct vaern_msg *msg)
{
	enum vaern_err err;
	int rc;

	while ((rc = db_step(s)) == DB_ROW) {
		struct audit_row r;

		read_row(s, &r);
		(*rows)++;
		if ((err = fn(arg, &r)) != VAERN_OK)
			return err;
	}
	return rc == DB_DONE ? VAERN_OK : sqlu_fail(&st->conn, msg, "read");
}

/* One subject's rows, run by run of the index, in one snapshot. */
static enum vaern_err
subject_each(struct audit_store *st, const struct audit_store_filter *f,
             enum vaern_err (*fn)(void *arg, const struct audit_row *r),
             void *arg, struct vaern_msg *msg)
{
	int own = db_autocommit(st->conn.db); /* not in a transaction */
	int64_t last = 0, rows = 0, want = f->limit > 0 ? f->limit : INT64_MAX;
	enum vaern_err err;
	struct db_stmt *s;

	if (own &&
	    (err = sqlu_begin(&st->conn, S_READ, DB_READ, 0, msg)) != VAERN_OK)
		return err;
	/* The first read takes the snapshot the runs are read from. */
	/* A failure here is an error, not an empty trail (max() of no rows
	 * is one NULL row: 0). */
	if ((s = sqlu_stmt(&st->conn, S_LAST, msg)) == NULL) {
		err = VAERN_E_STORE;
		goto done;
	}
	if ((err = sqlu_step_int64(&st->conn, s, &last, "read", msg)) !=
	    VAERN_OK)
		goto done;
	if ((s = sqlu_stmt(&st->conn, S_SUBJECT, msg)) == NULL) {
		err = VAERN_E_STORE;
		goto done;
	}
	err = VAERN_OK;
	for (int64_t run = f->after_seq < last ? (f->after_seq + 1) >> RUN_SHIFT
	                                       : (last >> RUN_SHIFT) + 1;
	     run <= last >> RUN_SHIFT && rows < want && err == VAERN_OK;
	     run++) {
		bind_filter(s, f, want == INT64_MAX ? -1 : want - rows);
		db_bind_int64(s, 7, run);
		err = rows_each(st, s, fn, arg, &rows, msg);
		sqlu_reset(s);
	}
done:
	if (own)
		audit_store_rollback(st); /* ends the read; wrote nothing */
	return err;
}

enum vaern_err
audit_store_foreach(struct audit_store *st, const struct audit_store_filter *f,
                    enum vaern_err (*fn)(void *arg, const struct audit_row *r),
                    void *arg, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	enum stmt_id id;
	int64_t rows = 0;

	if (!st->has_table)
		return VAERN_OK;
	if (f->subject != NULL && st->by_run)
		return subject_each(st, f, fn, arg, msg);
	if (f->subject != NULL)
		id = S_SUBJECT_OLD;
	else if (f->from_at != INT64_MIN || f->to_at != INT64_MAX)
		id = S_RANGE;
	else
		id = S_ALL;
	if ((s = sqlu_stmt(&st->conn, id, msg)) == NULL)
		return VAERN_E_STORE;
	bind_filter(s, f, f->limit > 0 ? f->limit : -1);
	err = rows_each(st, s, fn, arg, &rows, msg);
	sqlu_reset(s);
	return err;
}
