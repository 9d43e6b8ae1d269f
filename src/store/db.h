/*
 * db.h -- one statement interface over the two storage engines: SQLite
 * (embedded, a file in the data directory) and PostgreSQL (libpq, shared
 * by several nodes).
 *
 * The stores (store_sqlite*.c, store_audit*.c, store_incident.c), the
 * keystore (src/keys) and the incident search run their SQL through this
 * interface, so every feature lands on both engines from its first day
 * (issue 14). The calls mirror SQLite's C interface, which the code was
 * first written against: a statement is prepared, bound, stepped row by
 * row and reset.
 *
 * SQL is written once, in the dialect both engines accept: numbered
 * parameters ?1, ?2 ... (the PostgreSQL engine turns them into $1, $2 ...),
 * `INSERT ... ON CONFLICT ... DO NOTHING/UPDATE`, `RETURNING`, BLOB
 * columns only for bytes, no SQLite-only function. Where the engines
 * differ (set-up pragmas, schema creation, the write lock, the keystore
 * file, checkpoints, backups) the caller asks db_engine().
 *
 * The PostgreSQL engine translates at prepare, and nothing else: ?N to
 * $N and a bare ? to the next number (not inside literals, quoted
 * identifiers, comments); "BEGIN IMMEDIATE/DEFERRED/EXCLUSIVE" to "BEGIN"
 * (PostgreSQL's BEGIN takes no lock: a writer that needs SQLite's write
 * lock takes its own, e.g. an advisory lock); a number the SQL skips
 * (?1, ?3 without ?2) is typed text and sent as NULL; so is a parameter
 * whose type the server cannot infer ("?6 IS NULL OR controller = ?6");
 * if text does not fit either, the prepare fails: write CAST(?6 AS
 * BIGINT). SQLite's schema name "main." before a table is dropped (the
 * data store's tables are in the connection's search_path, schema
 * public; the keystore's in ks, as its SQLite file is attached; the
 * trail's in audit). A prepare that fails inside a transaction fails
 * alone, as on SQLite (a savepoint guards it); a db_exec begun outside
 * a transaction that fails leaves none open.
 *
 * Bindings are by reference: a text or blob bound to a statement must
 * stay valid until the statement's first db_step() (SQLite's
 * SQLITE_STATIC; the PostgreSQL engine sends the values at that step).
 *
 * A column's value is valid until the next db_step(), db_reset() or
 * db_finalize() of its statement.
 */
#ifndef VAERN_DB_H
#define VAERN_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

enum db_engine { DB_SQLITE = 1, DB_POSTGRESQL = 2 };

/* db_step results (SQLite's values, so a SQLite step passes through). */
enum {
	DB_OK = SQLITE_OK,
	DB_ERROR = SQLITE_ERROR,
	DB_BUSY = SQLITE_BUSY,
	DB_ROW = SQLITE_ROW,
	DB_DONE = SQLITE_DONE,
};

/* Column types (db_column_type). */
enum {
	DB_INTEGER = SQLITE_INTEGER,
	DB_FLOAT = SQLITE_FLOAT,
	DB_TEXT = SQLITE_TEXT,
	DB_BLOB = SQLITE_BLOB,
	DB_NULL = SQLITE_NULL,
};

/* What a failure was, engine-neutral (db_errkind). */
enum db_errkind {
	DB_EK_OTHER = 0,
	DB_EK_UNIQUE,     /* a primary key or unique constraint */
	DB_EK_CONSTRAINT, /* another constraint (not null, check ...) */
	DB_EK_FULL,       /* the disk is full */
	DB_EK_BUSY,       /* locked by another writer, or a serialisation
	                     failure: the transaction may be retried */
	DB_EK_GONE,       /* the connection to the server is lost */
};

struct pg_conn;
struct pg_stmt;

/* A connection. */
struct db {
	enum db_engine engine;
	int busy_ms;        /* db_busy_timeout's */
	sqlite3 *lite;      /* DB_SQLITE */
	struct pg_conn *pg; /* DB_POSTGRESQL (db_pg.c) */
};

/* A prepared statement. */
struct db_stmt {
	struct db *db;
	sqlite3_stmt *lite;
	struct pg_stmt *pg;
};

/* Opens a SQLite database (flags: SQLITE_OPEN_*), extended result codes
 * on, with a busy timeout of busy_ms. On failure *out may be set all the
 * same; db_close releases it. Returns DB_OK or an SQLite code. */
int db_open_sqlite(const char *path, int flags, int busy_ms, struct db **out)
        __attribute__((nonnull));

/*
 * Connects to PostgreSQL with the libpq connection string conninfo, with
 * search_path set to schema (NULL: the server's default). Returns DB_OK,
 * or DB_ERROR with *out set (db_errmsg says why, never the password) or
 * NULL when out of memory.
 */
int db_open_pg(const char *conninfo, const char *schema, struct db **out)
        __attribute__((nonnull(1, 3)));

/*
 * Opens the database a data directory keeps in the file at path
 * ("DIR/vaern.db", "DIR/audit.db"): SQLite in that file, unless DIR holds
 * DB_STORE_CONF, a PostgreSQL connection string, in which case the
 * connection goes there, with search_path set to the schema named after
 * the file (DB_SCHEMA_AUDIT for audit.db, the default for the rest).
 * flags and busy_ms as db_open_sqlite. On failure *out may be set;
 * db_close releases it, db_errmsg says why.
 */
#define DB_STORE_CONF   "store.conf"
#define DB_SCHEMA_AUDIT "audit"
int db_open_file(const char *path, int flags, int busy_ms, struct db **out)
        __attribute__((nonnull));

/*
 * Reads DIR/DB_STORE_CONF (the directory of path, or path itself if
 * is_dir) into conninfo (size bytes). Returns 1 if the data directory is
 * on PostgreSQL, 0 if it is on SQLite (no such file), -1 if the file is
 * unreadable, too long, or open to others than its owner (a password may
 * be in it: mode 0600).
 */
int db_store_conf(const char *path, int is_dir, char *conninfo, size_t size)
        __attribute__((nonnull));

/* Closes db (finalise its statements first). Accepts NULL. */
void db_close(struct db *db);

static inline enum db_engine
db_engine(const struct db *db)
{
	return db->engine;
}

/* The last failure's message (engine text: names tables and constraints,
 * never values) and its kind. */
const char *db_errmsg(struct db *db) __attribute__((nonnull));
enum db_errkind db_errkind(struct db *db) __attribute__((nonnull));

/*
 * Runs sql, one or more statements without parameters or rows (schema,
 * set-up, BEGIN/COMMIT). Returns DB_OK, or an error code with *errmsg (if
 * errmsg is not NULL) set to a copy of the message the caller frees with
 * db_free().
 */
int db_exec(struct db *db, const char *sql, char **errmsg)
        __attribute__((nonnull(1, 2)));
void db_free(void *p);

/*
 * Begins a transaction. DB_READ: one snapshot for the reads up to the
 * commit. DB_WRITE: a write transaction that excludes every other writer
 * of the same lock: on SQLite the database's write lock (BEGIN
 * IMMEDIATE; lock is ignored), on PostgreSQL the transaction-scoped
 * advisory lock `lock`, shared by every node on the database. DB_TRY_WRITE
 * as DB_WRITE, but returns DB_BUSY at once when another writer holds it.
 *
 * DB_WRITE_SHARED (DB_TRY_WRITE_SHARED): on SQLite the same as DB_WRITE
 * (DB_TRY_WRITE); on PostgreSQL the advisory lock in shared mode, so
 * such writers of several nodes run at once while every DB_WRITE of the
 * lock excludes them all (and waits for them). Issue 14: the HTTP
 * creates and the audit outbox's settle. WARNING: a shared writer
 * must be safe against another shared writer of the same lock on
 * another node: every row it writes is its own (a new subject, an
 * outbox row) or written by INSERT ... ON CONFLICT, or a unique
 * constraint decides between two of them (an identifier), and no
 * check-then-write relies on the lock.
 *
 * In a DB_WRITE_SHARED transaction the PostgreSQL engine queues the
 * statements that return no row (INSERT, UPDATE, DELETE without
 * RETURNING; SAVEPOINT; db_pg.c: pipeline mode): such a db_step returns
 * DB_DONE at once, and a failure of a queued statement is the answer of
 * the next statement run for its result (one that returns rows, a
 * RELEASE, db_changes(), a prepare, a COMMIT) -- unless the statement
 * is marked db_stmt_sync(): then its step waits for its own answer.
 * db_changes() waits for the queue, so it counts as ever.
 *
 * DB_WRITE_QUEUED: DB_WRITE (the lock exclusive), with the statements of
 * no rows queued as in DB_WRITE_SHARED: for a writer any of whose
 * failures fails its whole transaction (the audit trail's).
 */
enum db_begin {
	DB_READ,
	DB_WRITE,
	DB_TRY_WRITE,
	DB_WRITE_SHARED,
	DB_TRY_WRITE_SHARED,
	DB_WRITE_QUEUED,
};
#define DB_LOCK_STORE  0x7661657201 /* the vault's data ("vaer" 1) */
#define DB_LOCK_AUDIT  0x7661657202 /* the audit trail's chain */
#define DB_LOCK_SCHEMA 0x7661657203 /* schema set-up and migrations */
int db_begin(struct db *db, enum db_begin how, int64_t lock)
        __attribute__((nonnull));

/* Prepares one statement; persistent=1 for one kept for the connection's
 * life. Returns DB_OK with *out, or an error code with *out NULL. */
int db_prepare(struct db *db, const char *sql, int persistent,
               struct db_stmt **out) __attribute__((nonnull));
/* Accepts NULL. */
void db_finalize(struct db_stmt *s);

/* Marks s a statement whose caller reads its own failure (a unique
 * identifier: "already exists"): its db_step is never queued (db_begin's
 * DB_WRITE_SHARED). Nothing on SQLite. */
void db_stmt_sync(struct db_stmt *s) __attribute__((nonnull));

/* Rows changed by the last INSERT, UPDATE or DELETE on db. */
int64_t db_changes(struct db *db) __attribute__((nonnull));
/* 1 if db is outside any transaction. */
int db_autocommit(struct db *db) __attribute__((nonnull));
/* SQLite: the busy timeout; PostgreSQL: lock_timeout (0: wait forever
 * on SQLite is "fail at once" -- as SQLite's own 0). */
void db_busy_timeout(struct db *db, int ms) __attribute__((nonnull));

/*
 * SQLite: copies the rest of every attached database's write-ahead log
 * into its database and starts the log over (a restart checkpoint),
 * waiting at most wait_ms for another writer's transaction and for the
 * readers that still use the log. Returns 1 if every log was started
 * over, 0 if not (busy, or failed: the log is as a passive checkpoint
 * leaves it; try again later). Not in a transaction. PostgreSQL has no
 * such log of ours: 1, nothing done. Issue 12 point 6 (src/common/ckpt.h
 * says why a passive copy was not enough).
 */
int db_log_restart(struct db *db, int wait_ms)
        __attribute__((warn_unused_result, nonnull));

/* The PostgreSQL engine's half of the statement interface (db_pg.c). */
int dbpg_step(struct db_stmt *s);
void dbpg_reset(struct db_stmt *s);
void dbpg_clear_bindings(struct db_stmt *s);
int dbpg_bind_int64(struct db_stmt *s, int i, int64_t v);
int dbpg_bind_text(struct db_stmt *s, int i, const char *p, int n);
int dbpg_bind_blob(struct db_stmt *s, int i, const void *p, int n);
int dbpg_bind_null(struct db_stmt *s, int i);
int dbpg_column_type(struct db_stmt *s, int col);
int64_t dbpg_column_int64(struct db_stmt *s, int col);
double dbpg_column_double(struct db_stmt *s, int col);
const unsigned char *dbpg_column_text(struct db_stmt *s, int col);
const void *dbpg_column_blob(struct db_stmt *s, int col);
int dbpg_column_bytes(struct db_stmt *s, int col);

/*
 * The statement interface. Inline: the read path and the sweep run them
 * once per row, which vaern-bench measures; the SQLite branch is the
 * SQLite call itself.
 */
static inline int
db_step(struct db_stmt *s)
{
	return s->lite != NULL ? sqlite3_step(s->lite) : dbpg_step(s);
}

/* Resets s so it can run again (bindings stay). */
static inline void
db_reset(struct db_stmt *s)
{
	if (s->lite != NULL)
		(void)sqlite3_reset(s->lite);
	else
		dbpg_reset(s);
}

static inline void
db_clear_bindings(struct db_stmt *s)
{
	if (s->lite != NULL)
		(void)sqlite3_clear_bindings(s->lite);
	else
		dbpg_clear_bindings(s);
}

/* Parameters count from 1 (?1 is 1). */
static inline int
db_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	return s->lite != NULL ? sqlite3_bind_int64(s->lite, i, v)
	                       : dbpg_bind_int64(s, i, v);
}

static inline int
db_bind_int(struct db_stmt *s, int i, int v)
{
	return db_bind_int64(s, i, v);
}

/* n < 0: up to the NUL. */
static inline int
db_bind_text(struct db_stmt *s, int i, const char *p, int n)
{
	return s->lite != NULL
	               ? sqlite3_bind_text(s->lite, i, p, n, SQLITE_STATIC)
	               : dbpg_bind_text(s, i, p, n);
}

static inline int
db_bind_blob(struct db_stmt *s, int i, const void *p, int n)
{
	return s->lite != NULL
	               ? sqlite3_bind_blob(s->lite, i, p, n, SQLITE_STATIC)
	               : dbpg_bind_blob(s, i, p, n);
}

static inline int
db_bind_null(struct db_stmt *s, int i)
{
	return s->lite != NULL ? sqlite3_bind_null(s->lite, i)
	                       : dbpg_bind_null(s, i);
}

/* Columns count from 0. */
static inline int
db_column_type(struct db_stmt *s, int col)
{
	return s->lite != NULL ? sqlite3_column_type(s->lite, col)
	                       : dbpg_column_type(s, col);
}

static inline int64_t
db_column_int64(struct db_stmt *s, int col)
{
	return s->lite != NULL ? sqlite3_column_int64(s->lite, col)
	                       : dbpg_column_int64(s, col);
}

static inline int
db_column_int(struct db_stmt *s, int col)
{
	return (int)db_column_int64(s, col);
}

static inline double
db_column_double(struct db_stmt *s, int col)
{
	return s->lite != NULL ? sqlite3_column_double(s->lite, col)
	                       : dbpg_column_double(s, col);
}

/* NUL-terminated; NULL for a NULL. */
static inline const unsigned char *
db_column_text(struct db_stmt *s, int col)
{
	return s->lite != NULL ? sqlite3_column_text(s->lite, col)
	                       : dbpg_column_text(s, col);
}

static inline const void *
db_column_blob(struct db_stmt *s, int col)
{
	return s->lite != NULL ? sqlite3_column_blob(s->lite, col)
	                       : dbpg_column_blob(s, col);
}

/* Bytes of the text or blob just read by db_column_text/_blob. */
static inline int
db_column_bytes(struct db_stmt *s, int col)
{
	return s->lite != NULL ? sqlite3_column_bytes(s->lite, col)
	                       : dbpg_column_bytes(s, col);
}

#endif
