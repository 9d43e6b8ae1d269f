/*
 * db_pg_internal.h -- the PostgreSQL engine's own structures (a
 * connection, a statement: db_pg.c, db_pg_column.c) and its SQL
 * translation (db_pg_sql.c), for the engine's files only.
 */
#ifndef VAERN_DB_PG_INTERNAL_H
#define VAERN_DB_PG_INTERNAL_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* A failure's message, as kept for db_errmsg. */
#define PG_ERRMSG_MAX 512
/* Server-side statements a connection keeps (distinct SQL texts); a text
 * past these is prepared per db_prepare and deallocated at finalize. */
#define PG_CACHE_MAX 1024
#define PG_BUCKETS   256

/* Type OIDs (PostgreSQL's catalog/pg_type.h, stable across versions). */
enum {
	OID_BOOL = 16,
	OID_BYTEA = 17,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_TEXT = 25,
	OID_OID = 26,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_NUMERIC = 1700,
};

/* One server-side prepared statement: one SQL text on one connection. */
struct pg_prep {
	char *sql;     /* the caller's text (the cache's key) */
	char *pgsql;   /* translated ($N) */
	char name[24]; /* the server-side name, unique per connection */
	int nparams;   /* the highest parameter number */
	/* NULL, or per parameter the type the server is told: 0 (it
	 * infers) or text, for a number the SQL skips (SQLite allows it)
	 * or one whose type the server could not infer (prep_ensure). */
	Oid *types;
	/* NULL, or per parameter 1 if the SQL skips it: sent as NULL. */
	unsigned char *unused;
	int is_rollback; /* a whole-transaction ROLLBACK */
	int is_commit;   /* a COMMIT (or END) */
	/* An INSERT, UPDATE, DELETE without RETURNING or a SAVEPOINT:
	 * returns no row, so a shared writer may queue it (pipe_may_defer). */
	int no_rows;
	uint64_t epoch;       /* connection epoch it was prepared in; 0 none */
	int cached;           /* kept in the connection's cache */
	struct pg_prep *next; /* the cache's hash chain */
};

struct pg_conn {
	PGconn *conn;       /* never NULL after dbpg_open returned a conn */
	char *search_path;  /* quoted identifier, or NULL */
	uint64_t epoch;     /* +1 at each successful (re)connection */
	uint64_t next_name; /* names the next server-side statement */
	/* The transaction status last seen on a live connection. */
	PGTransactionStatusType last_txn;
	/* The connection died inside a transaction the caller has not yet
	 * rolled back: every call but ROLLBACK fails with DB_EK_GONE. */
	int lost_txn;
	int lock_ms;         /* lock_timeout wanted; -1 the server's */
	int lock_applied;    /* lock_timeout the session has; INT_MIN unknown */
	int lock_set_in_txn; /* applied in a transaction not yet ended */
	int64_t changes;     /* rows of the last INSERT/UPDATE/DELETE */
	/* Issue 14: the open transaction is a shared writer's (db_begin's
	 * DB_WRITE_SHARED): statements of no rows may be queued. */
	int pipe_allowed;
	int in_pipe;  /* libpq's pipeline mode is on */
	int npending; /* statements queued whose results are unread */
	/* A queued statement failed where no caller could be told (a
	 * db_changes, a finalize): its error (kind, errmsg) is the answer
	 * of the next statement, until a rollback. */
	int pend_failed;
	enum db_errkind pend_kind;
	char pend_msg[PG_ERRMSG_MAX];
	enum db_errkind kind;
	char errmsg[PG_ERRMSG_MAX];
	struct pg_prep *bucket[PG_BUCKETS];
	size_t ncached;
};

enum { P_NULL = 0, P_INT, P_TEXT, P_BLOB };

/* One bound parameter (by reference, db.h). */
struct pg_param {
	int kind;
	const void *p; /* P_TEXT, P_BLOB: the caller's bytes */
	int n;         /* their length; P_TEXT: -1 up to the NUL */
	char num[24];  /* P_INT, as text */
	char *own;     /* P_TEXT with a length: a NUL-terminated copy */
	size_t owncap;
};

/* A bytea decoded for one column of the current row. */
struct pg_cell {
	unsigned char *p; /* NUL-terminated past n */
	size_t n;
	size_t cap;
	int row; /* the row it holds; -1 none */
};

struct pg_stmt {
	struct pg_prep *prep; /* shared when cached, else owned */
	struct pg_param *param;
	const char **values; /* PQexecPrepared's arrays, nparams each */
	int *lengths;
	int *formats;
	PGresult *res; /* the rows of the execution, until reset */
	int row;       /* the current row; -1 before the first step */
	int nrows;
	int done; /* executed: the next step starts again */
	int sync; /* db_stmt_sync: never queued */
	struct pg_cell *cell;
	int ncells;
};

/* The highest parameter number (SQLite's default limit). */
#define DBPG_PARAMS_MAX 32766

/* SQLite's "BEGIN IMMEDIATE|DEFERRED|EXCLUSIVE": where the rest of sql
 * starts after the mode word, or NULL if sql is no such BEGIN. */
const char *dbpg_sql_begin_mode(const char *sql) __attribute__((nonnull));

/* 1 if sql ends the whole transaction by rolling back (not ROLLBACK TO). */
int dbpg_sql_is_rollback(const char *sql) __attribute__((nonnull));

/* 1 if sql begins with ROLLBACK (of the transaction or to a savepoint). */
int dbpg_sql_rolls_back(const char *sql) __attribute__((nonnull));

/* 1 if sql is a COMMIT (or END) of the whole transaction. */
int dbpg_sql_is_commit(const char *sql) __attribute__((nonnull));

/* 1 if sql is one statement that returns no row and whose effect no
 * caller reads but through db_changes() (which waits for it): an INSERT,
 * UPDATE or DELETE without RETURNING, or a SAVEPOINT (issue 14: a shared
 * writer may queue it). Not a RELEASE:
 * a savepoint's release answers for what was queued under it, so a
 * failed create is known, and rolled back alone, before the next. */
int dbpg_sql_no_rows(const char *sql) __attribute__((nonnull));

/* ?N as $N, a bare ? as the next number (db_pg_sql.c): the new text
 * (malloc; the caller frees it) with *nparams the highest number and
 * used[n] set for each number used (used: DBPG_PARAMS_MAX + 1 bytes,
 * zeroed by the caller), or NULL with err set (errlen bytes). */
char *dbpg_sql_translate(const char *sql, int *nparams, unsigned char *used,
                         char *err, size_t errlen)
        __attribute__((nonnull, warn_unused_result));

#endif
