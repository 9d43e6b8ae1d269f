/*
 * db_pg.c -- the PostgreSQL engine behind db.h (libpq; issue 14).
 *
 * A connection keeps one server-side prepared statement per SQL text
 * (PQprepare once per connection, under a name of its own), so a
 * db_prepare of a text seen before costs no round trip; db_step executes
 * it with PQexecPrepared, integers and text as text parameters, blobs as
 * binary parameters (ciphertexts travel as their bytes, not as hex), the
 * types left to the server to infer. Results come in text format; a bytea
 * is decoded from hex into a buffer of its statement and column, valid
 * until the next step or reset (as SQLite's).
 *
 * SQL is translated once, at prepare: ?N becomes $N, a bare ? the next
 * number (as SQLite numbers it), outside string literals, quoted
 * identifiers, comments and dollar quotes; "BEGIN IMMEDIATE / DEFERRED /
 * EXCLUSIVE" becomes "BEGIN"; "main." before a name goes (db.h); a
 * number the SQL skips is declared text and sent as NULL (the server
 * could not infer its type). Nothing else is rewritten. A first prepare
 * inside a transaction runs under a savepoint, so a statement the server
 * rejects fails alone, as on SQLite.
 *
 * A lost connection: outside a transaction, the next call resets it once
 * (PQreset) and the statements are prepared again as they are next run
 * (an epoch per connection says which are stale). Inside a transaction,
 * every call fails with DB_EK_GONE until the caller's ROLLBACK, which
 * then succeeds without the server (the server has rolled it back), or
 * its COMMIT, which fails and ends the transaction too. With several
 * hosts in the connection string (target_session_attrs=read-write), a
 * reset tries them all again in order: a node follows a promoted standby
 * by itself (docs/operations.md).
 *
 * Errors: the server's primary message only (never DETAIL, which can
 * carry a row's values; a data exception's message is cut before the
 * value it quotes), the kind from its SQLSTATE. A connection failure's
 * message never carries the password; libpq's notices are dropped, never
 * printed.
 */
#include "db_pg.h"
#include "db_pg_internal.h"

#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
quiet_notices(void *arg, const char *message)
{
	/* A notice may carry a DETAIL with values: never printed. */
	(void)arg;
	(void)message;
}

static void set_err(struct pg_conn *c, enum db_errkind kind, const char *fmt,
                    ...) __attribute__((format(printf, 3, 4)));

static void
set_err(struct pg_conn *c, enum db_errkind kind, const char *fmt, ...)
{
	va_list ap;

	c->kind = kind;
	va_start(ap, fmt);
	(void)vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
}

/* The first line of a libpq message, without its trailing newline. */
static void
first_line(char *m)
{
	m[strcspn(m, "\n")] = '\0';
}

/* Replaces every occurrence of secret in m (NUL-terminated, of capacity
 * cap) with "***"; what does not fit is cut. */
static void
scrub(char *m, size_t cap, const char *secret)
{
	size_t sl, ml;
	char *at, *from = m;

	if (secret == NULL || (sl = strlen(secret)) == 0)
		return;
	while ((at = strstr(from, secret)) != NULL) {
		ml = strlen(m);
		if (ml - sl + 3 >= cap) {
			*at = '\0';
			return;
		}
		memmove(at + 3, at + sl, ml - (size_t)(at - m) - sl + 1);
		memcpy(at, "***", 3);
		from = at + 3; /* never into what was put in */
	}
}

/* Empties every double-quoted segment of m ("..." becomes ""). */
static void
drop_quoted(char *m)
{
	char *open = m, *close;

	while ((open = strchr(open, '"')) != NULL &&
	       (close = strchr(open + 1, '"')) != NULL) {
		memmove(open + 1, close, strlen(close) + 1);
		open += 2;
	}
}

/* 1 if word is a libpq connection keyword (a quoted keyword in a parse
 * error is kept; any other quoted text may be a password). */
static int
is_keyword(const char *word, size_t n)
{
	PQconninfoOption *o, *all = PQconndefaults();
	int found = 0;

	for (o = all; o != NULL && o->keyword != NULL; o++)
		if (strlen(o->keyword) == n && memcmp(o->keyword, word, n) == 0)
			found = 1;
	PQconninfoFree(all);
	return found;
}

/* A connection string libpq cannot parse: its message quotes parts of the
 * string, which may hold the password; only quoted keywords stay. */
static void
redact_quoted(char *m)
{
	char *open = m, *close;

	while ((open = strchr(open, '"')) != NULL &&
	       (close = strchr(open + 1, '"')) != NULL) {
		size_t n = (size_t)(close - open - 1);

		if (is_keyword(open + 1, n)) {
			open = close + 1;
			continue;
		}
		memmove(open + 1, close, strlen(close) + 1);
		open += 2;
	}
}

static enum db_errkind
kind_of(const char *state)
{
	if (state == NULL || strlen(state) != 5)
		return DB_EK_OTHER;
	if (strcmp(state, "23505") == 0)
		return DB_EK_UNIQUE;
	if (strncmp(state, "23", 2) == 0)
		return DB_EK_CONSTRAINT;
	if (strcmp(state, "53100") == 0)
		return DB_EK_FULL;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0)
		return DB_EK_BUSY;
	if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
	    strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)
		return DB_EK_GONE;
	return DB_EK_OTHER;
}

/* The connection's failure, its message scrubbed of the password. */
static void
set_conn_err(struct pg_conn *c, const char *prefix, const char *password)
{
	char m[PG_ERRMSG_MAX];

	(void)snprintf(m, sizeof(m), "%s",
	               c->conn != NULL ? PQerrorMessage(c->conn)
	                               : "out of memory");
	first_line(m);
	scrub(m, sizeof(m), password);
	if (c->conn != NULL)
		scrub(m, sizeof(m), PQpass(c->conn));
	set_err(c, DB_EK_GONE, "%s%s", prefix, m[0] ? m : "connection failed");
}

/* A failed command's error: its primary message and kind. */
static void
set_result_err(struct pg_conn *c, const PGresult *res)
{
	const char *primary = NULL, *state = NULL;
	char *colon;

	if (res != NULL) {
		primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	}
	if (primary == NULL) {
		set_conn_err(c, "", NULL);
		if (PQstatus(c->conn) != CONNECTION_BAD)
			c->kind = kind_of(state);
		return;
	}
	set_err(c, kind_of(state), "%s", primary);
	/* A data exception quotes the value it could not take ('invalid
	 * input syntax for type bigint: "..."', 'value "..." is out of
	 * range'): the value goes. */
	if (state != NULL && strncmp(state, "22", 2) == 0) {
		if ((colon = strchr(c->errmsg, ':')) != NULL)
			*colon = '\0';
		drop_quoted(c->errmsg);
	}
	if (PQstatus(c->conn) == CONNECTION_BAD)
		c->kind = DB_EK_GONE;
}

/* Runs one set-up command (no parameters); 0 or -1 with the error set. */
static int
run_simple(struct pg_conn *c, const char *sql)
{
	PGresult *res = PQexec(c->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		set_result_err(c, res);
	PQclear(res);
	return ok ? 0 : -1;
}

static int
apply_lock_timeout(struct pg_conn *c)
{
	char sql[64];
	int ms = c->lock_ms;

	if (ms < 0 || ms == c->lock_applied)
		return 0;
	/* 0 is "fail at once" (SQLite's 0); PostgreSQL's 0 waits forever. */
	(void)snprintf(sql, sizeof(sql), "SET lock_timeout = %d",
	               ms > 0 ? ms : 1);
	if (run_simple(c, sql) != 0)
		return -1;
	c->lock_applied = ms;
	if (PQtransactionStatus(c->conn) != PQTRANS_IDLE)
		c->lock_set_in_txn = 1;
	return 0;
}

/* The session as every connection of vaern has it (again after a
 * reset). */
static int
session_setup(struct pg_conn *c)
{
	char sql[512];

	PQsetNoticeProcessor(c->conn, quiet_notices, NULL);
	(void)PQsetErrorVerbosity(c->conn, PQERRORS_TERSE);
	if (PQsetClientEncoding(c->conn, "UTF8") != 0) {
		set_err(c, DB_EK_OTHER, "cannot set the client encoding");
		return -1;
	}
	(void)snprintf(sql, sizeof(sql),
	               "SET TimeZone = 'UTC'; SET synchronous_commit = on;"
	               " SET bytea_output = 'hex';"
	               " SET standard_conforming_strings = on;"
	               "%s%s%s",
	               c->search_path ? " SET search_path = " : "",
	               c->search_path ? c->search_path : "",
	               c->search_path ? ";" : "");
	if (run_simple(c, sql) != 0)
		return -1;
	c->lock_applied = INT_MIN;
	c->lock_set_in_txn = 0;
	c->last_txn = PQTRANS_IDLE;
	return apply_lock_timeout(c);
}

/* Connects with conninfo, over defaults it may override: a connection
 * attempt gives up after 10 s (libpq's default waits as long as the
 * network does, and a reset after a lost connection would hang with
 * it), and the sessions are named "vaern" (pg_stat_activity). */
static PGconn *
connect_with_defaults(const char *conninfo)
{
	static const char *const keys[] = {"connect_timeout",
	                                   "application_name", "dbname", NULL};
	const char *vals[] = {"10", "vaern", conninfo, NULL};

	/* expand_dbname: conninfo is read as a whole connection string, and
	 * what it says replaces the defaults before it. */
	return PQconnectdbParams(keys, vals, 1);
}

int
dbpg_open(const char *conninfo, const char *schema, struct pg_conn **out)
{
	struct pg_conn *c = calloc(1, sizeof(*c));
	PQconninfoOption *opts = NULL, *o;
	char *perr = NULL, *password = NULL;
	int rc = DB_ERROR;

	*out = c;
	if (c == NULL)
		return DB_ERROR;
	c->lock_ms = -1;
	c->lock_applied = INT_MIN;
	c->last_txn = PQTRANS_IDLE;
	if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
		char m[PG_ERRMSG_MAX];

		(void)snprintf(m, sizeof(m), "%s",
		               perr != NULL ? perr : "out of memory");
		first_line(m);
		redact_quoted(m);
		set_err(c, DB_EK_OTHER, "invalid connection string: %s", m);
		goto done;
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    (password = strdup(o->val)) == NULL)
			goto done;
	c->conn = connect_with_defaults(conninfo);
	if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK) {
		set_conn_err(c, "cannot connect to PostgreSQL: ", password);
		goto done;
	}
	if (schema != NULL &&
	    (c->search_path = PQescapeIdentifier(c->conn, schema,
	                                         strlen(schema))) == NULL) {
		set_err(c, DB_EK_OTHER, "invalid schema name");
		goto done;
	}
	if (session_setup(c) != 0)
		goto done;
	c->epoch = 1;
	rc = DB_OK;
done:
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	if (opts != NULL) {
		for (o = opts; o->keyword != NULL; o++)
			if (o->val != NULL &&
			    strcmp(o->keyword, "password") == 0)
				explicit_bzero(o->val, strlen(o->val));
		PQconninfoFree(opts);
	}
	PQfreemem(perr);
	return rc;
}

static void
prep_free(struct pg_prep *p)
{
	if (p == NULL)
		return;
	free(p->sql);
	free(p->pgsql);
	free(p->types);
	free(p->unused);
	free(p);
}

void
dbpg_close(struct pg_conn *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < PG_BUCKETS; i++) {
		struct pg_prep *p = c->bucket[i], *next;

		for (; p != NULL; p = next) {
			next = p->next;
			prep_free(p);
		}
	}
	if (c->conn != NULL)
		PQfinish(c->conn);
	PQfreemem(c->search_path);
	free(c);
}

const char *
dbpg_errmsg(struct pg_conn *c)
{
	return c->errmsg[0] ? c->errmsg : "not an error";
}

enum db_errkind
dbpg_errkind(struct pg_conn *c)
{
	return c->kind;
}

static void pipe_end_quiet(struct pg_conn *c);

int64_t
dbpg_changes(struct pg_conn *c)
{
	pipe_end_quiet(c); /* the queued statements' changes */
	return c->changes;
}

int
dbpg_autocommit(struct pg_conn *c)
{
	if (c->lost_txn || c->in_pipe)
		return 0;
	if (c->conn == NULL || PQstatus(c->conn) == CONNECTION_BAD)
		return c->last_txn == PQTRANS_IDLE;
	return PQtransactionStatus(c->conn) == PQTRANS_IDLE;
}

void
dbpg_busy_timeout(struct pg_conn *c, int ms)
{
	/* Applied before the next command (one round trip, only when the
	 * value changes). */
	c->lock_ms = ms < 0 ? 0 : ms;
}

/* Reads what an idle connection's server sent meanwhile (a notice, the
 * FATAL of a terminated session, then its end of file), so a closed
 * connection is known for one before a command is sent on it. A healthy
 * idle connection costs one poll. */
static void
drain(struct pg_conn *c)
{
	struct pollfd pfd = {.fd = PQsocket(c->conn), .events = POLLIN};
	int i;

	for (i = 0; i < 8 && pfd.fd >= 0; i++) {
		if (poll(&pfd, 1, 0) <= 0)
			return;
		if (!PQconsumeInput(c->conn) ||
		    PQstatus(c->conn) == CONNECTION_BAD)
			return;
	}
}

/*
 * Before a command: a connection lost inside a transaction fails until
 * the caller rolls back; one lost outside is reset once. An idle
 * connection first reads what the server sent meanwhile, so a server
 * that closed it (a restart, pg_terminate_backend) is noticed before a
 * command is lost to it. Returns 0, or -1 with the error set.
 */
static int
conn_ready(struct pg_conn *c)
{
	if (c->lost_txn) {
		set_err(c, DB_EK_GONE, "%s",
		        "the connection to PostgreSQL was lost in a"
		        " transaction; roll it back");
		return -1;
	}
	if (PQstatus(c->conn) == CONNECTION_OK &&
	    PQtransactionStatus(c->conn) == PQTRANS_IDLE)
		drain(c);
	if (PQstatus(c->conn) != CONNECTION_BAD)
		return 0;
	if (c->last_txn != PQTRANS_IDLE) {
		c->lost_txn = 1;
		set_err(c, DB_EK_GONE, "%s",
		        "the connection to PostgreSQL was lost in a"
		        " transaction");
		return -1;
	}
	PQreset(c->conn);
	if (PQpipelineStatus(c->conn) != PQ_PIPELINE_OFF)
		(void)PQexitPipelineMode(c->conn);
	if (PQstatus(c->conn) != CONNECTION_OK) {
		set_conn_err(c, "cannot reconnect to PostgreSQL: ", NULL);
		return -1;
	}
	c->epoch++;
	if (session_setup(c) != 0) {
		c->kind = DB_EK_GONE;
		return -1;
	}
	return 0;
}

/* After a command: what the transaction status is now; a connection that
 * died inside a transaction marks it lost. */
static void
note_result(struct pg_conn *c, const PGresult *res, int was_in_txn)
{
	if (PQstatus(c->conn) == CONNECTION_BAD) {
		if (was_in_txn)
			c->lost_txn = 1;
		return;
	}
	c->last_txn = PQtransactionStatus(c->conn);
	if (c->last_txn == PQTRANS_IDLE) {
		c->pipe_allowed = 0; /* the shared writer's transaction ended */
		c->pend_failed = 0;
	}
	if (c->lock_set_in_txn && c->last_txn == PQTRANS_IDLE) {
		/* A rolled-back transaction takes its SET with it. */
		if (res == NULL ||
		    strcmp(PQcmdStatus((PGresult *)res), "ROLLBACK") == 0)
			c->lock_applied = INT_MIN;
		c->lock_set_in_txn = 0;
	}
}

static void
note_changes(struct pg_conn *c, PGresult *res)
{
	const char *cmd = PQcmdStatus(res), *n = PQcmdTuples(res);

	if ((strncmp(cmd, "INSERT", 6) == 0 || strncmp(cmd, "UPDATE", 6) == 0 ||
	     strncmp(cmd, "DELETE", 6) == 0 || strncmp(cmd, "MERGE", 5) == 0) &&
	    n[0] != '\0')
		c->changes = strtoll(n, NULL, 10);
}

/* SQLite's code for a failure of kind k (so a caller's "(rc & 0xff) ==
 * SQLITE_BUSY" reads the same on both engines). */
static int
code_of(enum db_errkind k)
{
	switch (k) {
	case DB_EK_UNIQUE: return SQLITE_CONSTRAINT_UNIQUE;
	case DB_EK_CONSTRAINT: return SQLITE_CONSTRAINT;
	case DB_EK_FULL: return SQLITE_FULL;
	case DB_EK_BUSY: return SQLITE_BUSY;
	default: return SQLITE_ERROR;
	}
}

/* ---- the pipeline (issue 14) ----
 *
 * A create on PostgreSQL is a dozen statements (a savepoint, the subject,
 * its key, identifiers, facts, consents, the release, the outbox entry),
 * and each synchronous step is one round trip and one wake-up of the
 * server and of the writer thread. In a transaction begun with
 * DB_WRITE_SHARED (db.h), a statement that returns no row (an INSERT,
 * UPDATE or DELETE without RETURNING, a SAVEPOINT: dbpg_sql_no_rows) and
 * whose caller did not ask for its own answer (db_stmt_sync: an
 * identifier, whose "already exists" the caller words) is sent in
 * libpq's pipeline mode and not waited for: its step says DB_DONE. The
 * next statement that must answer (one with rows, the savepoint's
 * RELEASE, a COMMIT, a prepare, db_changes) goes out behind the queue
 * with one Sync, and the answers are read in order: the first failure of
 * the queue is that statement's answer (its kind: unique, constraint,
 * gone), and the server's transaction is then in its failed state, as
 * after a failed synchronous step, so the caller's ROLLBACK TO savepoint
 * or ROLLBACK works as before (a ROLLBACK is never sent behind a failed
 * queue: the pipeline would skip it). Since a RELEASE answers for its
 * savepoint's queue, a create that fails is known, and rolled back alone,
 * before the next create of the batch begins. A create thus costs about
 * six round trips instead of thirteen (docs/scaling.md). A connection
 * lost with a queue out fails the transaction as any lost connection does
 * (pipe_lost: DB_EK_GONE until the caller's ROLLBACK).
 */

/* Queued statements at most before a Sync (bounds libpq's buffer). */
#define PIPE_MAX 512

static void
pipe_forget(struct pg_conn *c)
{
	if (c->in_pipe && PQpipelineStatus(c->conn) != PQ_PIPELINE_OFF)
		(void)PQexitPipelineMode(c->conn);
	c->in_pipe = 0;
	c->npending = 0;
}

/* The connection went while a queue was out (or answered out of order):
 * the transaction is lost. */
static int
pipe_lost(struct pg_conn *c)
{
	set_conn_err(c, "", NULL);
	c->kind = DB_EK_GONE;
	c->lost_txn = 1;
	pipe_forget(c);
	if (PQstatus(c->conn) == CONNECTION_OK) {
		/* A live session whose answers did not match the queue is
		 * not trusted: a new one (the server rolls the old one's
		 * transaction back as it closes). */
		PQreset(c->conn);
		if (PQstatus(c->conn) == CONNECTION_OK) {
			c->epoch++;
			(void)session_setup(c);
		}
		set_err(c, DB_EK_GONE, "%s",
		        "the connection to PostgreSQL answered out of order"
		        " in a transaction: it was rolled back");
	}
	return -1;
}

/*
 * Ends the pipeline: a Sync, then the queued statements' answers in order
 * and, if own is not NULL, the answer of the statement sent last (the one
 * that must answer), into *own (the caller clears it). Returns 0, or -1
 * with the first failure's error set (*own then NULL). Not in pipeline
 * mode: 0, nothing done.
 */
static int
pipe_end(struct pg_conn *c, PGresult **own)
{
	int n = c->npending + (own != NULL), failed = 0;
	PGresult *r;

	if (own != NULL)
		*own = NULL;
	if (!c->in_pipe)
		return 0;
	if (PQpipelineSync(c->conn) != 1)
		return pipe_lost(c);
	for (int i = 0; i < n; i++) {
		ExecStatusType st;

		if ((r = PQgetResult(c->conn)) == NULL)
			return pipe_lost(c);
		st = PQresultStatus(r);
		if (PQstatus(c->conn) == CONNECTION_BAD) {
			PQclear(r);
			return pipe_lost(c);
		}
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
			note_changes(c, r);
		else if (!failed && st != PGRES_PIPELINE_ABORTED) {
			set_result_err(c, r);
			failed = 1;
		}
		if (own != NULL && i == n - 1 && !failed)
			*own = r;
		else
			PQclear(r);
		/* Each statement's answers end with a NULL. */
		if ((r = PQgetResult(c->conn)) != NULL) {
			PQclear(r);
			if (own != NULL) {
				PQclear(*own);
				*own = NULL;
			}
			return pipe_lost(c);
		}
	}
	r = PQgetResult(c->conn);
	if (r == NULL || PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
		PQclear(r);
		if (own != NULL) {
			PQclear(*own);
			*own = NULL;
		}
		return pipe_lost(c);
	}
	PQclear(r);
	pipe_forget(c);
	c->last_txn = PQtransactionStatus(c->conn);
	return failed ? -1 : 0;
}

/* pipe_end where no caller can be told (db_changes, a finalize): a
 * failure is kept for the next statement (dbpg_pending_failure). */
static void
pipe_end_quiet(struct pg_conn *c)
{
	if (c->in_pipe && pipe_end(c, NULL) != 0 && !c->pend_failed) {
		c->pend_failed = 1;
		c->pend_kind = c->kind;
		(void)snprintf(c->pend_msg, sizeof(c->pend_msg), "%s",
		               c->errmsg);
	}
}

/* A failure kept by pipe_end_quiet: set as the error of the statement
 * about to run (-1), unless it ends the transaction or the savepoint
 * (a rollback), which clears it. 0 if none. */
static int
pipe_pending_failure(struct pg_conn *c, int is_rollback)
{
	if (!c->pend_failed)
		return 0;
	if (is_rollback) {
		c->pend_failed = 0;
		return 0;
	}
	set_err(c, c->pend_kind, "%s", c->pend_msg);
	return -1;
}

void
dbpg_pipeline_allow(struct pg_conn *c)
{
	c->pipe_allowed = 1;
}

void
dbpg_stmt_sync(struct db_stmt *s)
{
	s->pg->sync = 1;
}

/* 1 if the statement s (its prep ready on the server) may be queued. */
static int
pipe_may_defer(const struct pg_conn *c, const struct pg_stmt *st)
{
	return c->pipe_allowed && st->prep->no_rows && !st->sync &&
	       !c->lost_txn && !c->pend_failed && c->npending < PIPE_MAX &&
	       (c->in_pipe || c->last_txn == PQTRANS_INTRANS);
}

/* ---- statements ---- */

static size_t
hash_sql(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)(h % PG_BUCKETS);
}

/* The number N of "... parameter $N" in a message; 0 if none. */
static int
param_named(const char *m)
{
	const char *d = m != NULL ? strrchr(m, '$') : NULL;
	long v = 0;

	if (d == NULL)
		return 0;
	for (d++; *d >= '0' && *d <= '9' && v <= DBPG_PARAMS_MAX; d++)
		v = v * 10 + (*d - '0');
	return v <= DBPG_PARAMS_MAX ? (int)v : 0;
}

/* 1 if res failed on a parameter whose type the server could not
 * determine (42P08 ambiguous_parameter: "$1 IS NULL OR name = $1";
 * 42P18 indeterminate_datatype). */
static int
untyped_param(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return state != NULL &&
	       (strcmp(state, "42P08") == 0 || strcmp(state, "42P18") == 0);
}

/* Declares parameter n (from 1) text for the server; 0 or -1 (out of
 * memory, or already declared). */
static int
declare_text(struct pg_prep *p, int n)
{
	if (n < 1 || n > p->nparams)
		return -1;
	if (p->types == NULL &&
	    (p->types = calloc((size_t)p->nparams, sizeof(Oid))) == NULL)
		return -1;
	if (p->types[n - 1] != 0)
		return -1;
	p->types[n - 1] = OID_TEXT;
	return 0;
}

/*
 * Prepares p on the server if its epoch is stale; 0 or -1 with the error
 * set. Inside a transaction, under a savepoint: a statement the server
 * rejects fails alone, as on SQLite, and leaves the transaction usable.
 * A parameter whose type the server cannot infer ("?6 IS NULL OR
 * controller = ?6": the first use decides, and IS NULL says nothing) is
 * declared text and tried again; if that fails too, the first error is
 * the answer (write CAST(?6 AS ...)).
 */
static int
prep_ensure(struct pg_conn *c, struct pg_prep *p)
{
	PGresult *res = NULL;
	int in_txn, guarded = 0, was_in_txn, ok, tries;
	char first[PG_ERRMSG_MAX] = "";
	enum db_errkind first_kind = DB_EK_OTHER;

	if (p->epoch == c->epoch)
		return 0;
	was_in_txn = PQtransactionStatus(c->conn) != PQTRANS_IDLE;
	in_txn = PQtransactionStatus(c->conn) == PQTRANS_INTRANS;
	for (tries = 0;; tries++) {
		if (in_txn && !guarded)
			guarded = run_simple(c, "SAVEPOINT vaern_prepare") == 0;
		res = PQprepare(c->conn, p->name, p->pgsql,
		                p->types != NULL ? p->nparams : 0, p->types);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (ok)
			break;
		set_result_err(c, res);
		if (tries == 0) {
			(void)snprintf(first, sizeof(first), "%s", c->errmsg);
			first_kind = c->kind;
		}
		/* 42P08, 42P18: a parameter of no type. */
		if (tries >= p->nparams || !untyped_param(res) ||
		    declare_text(p, param_named(PQresultErrorField(
		                            res, PG_DIAG_MESSAGE_PRIMARY))) !=
		            0)
			break;
		PQclear(res);
		res = NULL;
		if (guarded) {
			guarded = 0;
			if (run_simple(c,
			               "ROLLBACK TO SAVEPOINT vaern_prepare;"
			               " RELEASE SAVEPOINT vaern_prepare") != 0)
				break;
		}
	}
	if (!ok && tries > 0 && c->kind != DB_EK_GONE) {
		(void)snprintf(c->errmsg, sizeof(c->errmsg), "%s", first);
		c->kind = first_kind;
	}
	if (guarded) {
		char keep[PG_ERRMSG_MAX];
		enum db_errkind kind = c->kind;

		(void)snprintf(keep, sizeof(keep), "%s", c->errmsg);
		(void)run_simple(c, ok ? "RELEASE SAVEPOINT vaern_prepare"
		                       : "ROLLBACK TO SAVEPOINT vaern_prepare;"
		                         " RELEASE SAVEPOINT vaern_prepare");
		(void)snprintf(c->errmsg, sizeof(c->errmsg), "%s", keep);
		c->kind = kind;
	}
	note_result(c, res, was_in_txn);
	PQclear(res);
	if (!ok)
		return -1;
	p->epoch = c->epoch;
	return 0;
}

static struct pg_prep *
prep_new(struct pg_conn *c, const char *sql)
{
	struct pg_prep *p = calloc(1, sizeof(*p));
	unsigned char *used = calloc(DBPG_PARAMS_MAX + 1, 1);
	char err[128];
	int i;

	if (p == NULL || used == NULL || (p->sql = strdup(sql)) == NULL)
		goto oom;
	if ((p->pgsql = dbpg_sql_translate(sql, &p->nparams, used, err,
	                                   sizeof(err))) == NULL) {
		set_err(c, DB_EK_OTHER, "%s", err);
		goto fail;
	}
	for (i = 1; i <= p->nparams; i++) {
		if (used[i])
			continue;
		if ((p->unused == NULL &&
		     (p->unused = calloc((size_t)p->nparams, 1)) == NULL) ||
		    declare_text(p, i) != 0)
			goto oom;
		p->unused[i - 1] = 1;
	}
	free(used);
	p->is_rollback = dbpg_sql_is_rollback(sql);
	p->is_commit = dbpg_sql_is_commit(sql);
	p->no_rows = dbpg_sql_no_rows(sql);
	(void)snprintf(p->name, sizeof(p->name), "vaern_%llu",
	               (unsigned long long)++c->next_name);
	return p;
oom:
	set_err(c, DB_EK_OTHER, "out of memory");
fail:
	free(used);
	prep_free(p);
	return NULL;
}

int
dbpg_prepare(struct db *db, const char *sql, struct db_stmt *s)
{
	struct pg_conn *c = db->pg;
	struct pg_stmt *st = NULL;
	struct pg_prep *p;
	size_t h = hash_sql(sql);
	int n;

	for (p = c->bucket[h]; p != NULL; p = p->next)
		if (strcmp(p->sql, sql) == 0)
			break;
	if (p == NULL) {
		if ((p = prep_new(c, sql)) == NULL)
			return DB_ERROR;
		if (c->ncached < PG_CACHE_MAX) {
			p->cached = 1;
			p->next = c->bucket[h];
			c->bucket[h] = p;
			c->ncached++;
		}
	}
	/* A ROLLBACK is prepared on the server at its first step: it must
	 * work on a connection whose transaction was lost. A prepare is
	 * synchronous: a queue goes out before it. */
	if (!p->is_rollback && p->epoch != c->epoch && c->in_pipe &&
	    pipe_end(c, NULL) != 0)
		goto fail;
	if (!p->is_rollback && !c->in_pipe &&
	    (conn_ready(c) != 0 || prep_ensure(c, p) != 0))
		goto fail;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		goto oom;
	st->prep = p;
	st->row = -1;
	n = p->nparams > 0 ? p->nparams : 1;
	st->param = calloc((size_t)n, sizeof(*st->param));
	st->values = calloc((size_t)n, sizeof(*st->values));
	st->lengths = calloc((size_t)n, sizeof(*st->lengths));
	st->formats = calloc((size_t)n, sizeof(*st->formats));
	if (st->param == NULL || st->values == NULL || st->lengths == NULL ||
	    st->formats == NULL)
		goto oom;
	s->pg = st;
	return DB_OK;
oom:
	set_err(c, DB_EK_OTHER, "out of memory");
fail:
	if (st != NULL) {
		free(st->param);
		free(st->values);
		free(st->lengths);
		free(st->formats);
		free(st);
	}
	if (!p->cached)
		prep_free(p);
	return code_of(c->kind);
}

static void
cells_forget(struct pg_stmt *st)
{
	int i;

	for (i = 0; i < st->ncells; i++)
		st->cell[i].row = -1;
}

void
dbpg_reset(struct db_stmt *s)
{
	struct pg_stmt *st = s->pg;

	PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	st->nrows = 0;
	st->done = 0;
	cells_forget(st);
}

static void
param_release(struct pg_param *pp)
{
	if (pp->own != NULL) {
		explicit_bzero(pp->own, pp->owncap);
		free(pp->own);
	}
	memset(pp, 0, sizeof(*pp));
}

void
dbpg_clear_bindings(struct db_stmt *s)
{
	struct pg_stmt *st = s->pg;
	int i;

	for (i = 0; i < st->prep->nparams; i++) {
		st->param[i].kind = P_NULL;
		st->param[i].p = NULL;
	}
}

void
dbpg_finalize(struct db_stmt *s)
{
	struct pg_stmt *st = s->pg;
	struct pg_conn *c = s->db->pg;
	int i;

	if (st == NULL)
		return;
	dbpg_reset(s);
	for (i = 0; i < st->prep->nparams; i++)
		param_release(&st->param[i]);
	for (i = 0; i < st->ncells; i++) {
		if (st->cell[i].p != NULL)
			explicit_bzero(st->cell[i].p, st->cell[i].cap);
		free(st->cell[i].p);
	}
	if (!st->prep->cached) {
		/* Not in the cache: its server-side statement goes with it
		 * (a connection in a failed transaction keeps it until it
		 * closes). */
		pipe_end_quiet(c);
		if (st->prep->epoch == c->epoch &&
		    PQstatus(c->conn) == CONNECTION_OK &&
		    PQtransactionStatus(c->conn) != PQTRANS_INERROR) {
			char sql[48];

			(void)snprintf(sql, sizeof(sql), "DEALLOCATE %s",
			               st->prep->name);
			PQclear(PQexec(c->conn, sql));
		}
		prep_free(st->prep);
	}
	free(st->cell);
	free(st->param);
	free(st->values);
	free(st->lengths);
	free(st->formats);
	free(st);
	s->pg = NULL;
}

static struct pg_param *
param_at(struct db_stmt *s, int i)
{
	struct pg_stmt *st = s->pg;

	if (i < 1 || i > st->prep->nparams) {
		set_err(s->db->pg, DB_EK_OTHER,
		        "parameter %d out of range (the statement has %d)", i,
		        st->prep->nparams);
		return NULL;
	}
	return &st->param[i - 1];
}

int
dbpg_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	struct pg_param *pp = param_at(s, i);

	if (pp == NULL)
		return SQLITE_RANGE;
	pp->kind = P_INT;
	(void)snprintf(pp->num, sizeof(pp->num), "%lld", (long long)v);
	return DB_OK;
}

int
dbpg_bind_text(struct db_stmt *s, int i, const char *p, int n)
{
	struct pg_param *pp = param_at(s, i);

	if (pp == NULL)
		return SQLITE_RANGE;
	pp->kind = p != NULL ? P_TEXT : P_NULL;
	pp->p = p;
	pp->n = n;
	return DB_OK;
}

int
dbpg_bind_blob(struct db_stmt *s, int i, const void *p, int n)
{
	struct pg_param *pp = param_at(s, i);

	if (pp == NULL)
		return SQLITE_RANGE;
	pp->kind = p != NULL && n >= 0 ? P_BLOB : P_NULL;
	pp->p = p;
	pp->n = n;
	return DB_OK;
}

int
dbpg_bind_null(struct db_stmt *s, int i)
{
	struct pg_param *pp = param_at(s, i);

	if (pp == NULL)
		return SQLITE_RANGE;
	pp->kind = P_NULL;
	pp->p = NULL;
	return DB_OK;
}

/* PQexecPrepared's arrays from the bindings: 0 or -1 (out of memory). */
static int
params_build(struct pg_stmt *st)
{
	int i;

	for (i = 0; i < st->prep->nparams; i++) {
		struct pg_param *pp = &st->param[i];

		st->lengths[i] = 0;
		st->formats[i] = 0;
		if (st->prep->unused != NULL && st->prep->unused[i]) {
			st->values[i] = NULL; /* unused by the SQL */
			continue;
		}
		switch (pp->kind) {
		case P_INT: st->values[i] = pp->num; break;
		case P_TEXT:
			if (pp->n < 0) {
				st->values[i] = pp->p;
				break;
			}
			/* Text parameters are NUL-terminated: a copy. */
			if (pp->owncap < (size_t)pp->n + 1) {
				char *q = malloc((size_t)pp->n + 1);

				if (q == NULL)
					return -1;
				if (pp->own != NULL) {
					explicit_bzero(pp->own, pp->owncap);
					free(pp->own);
				}
				pp->own = q;
				pp->owncap = (size_t)pp->n + 1;
			}
			memcpy(pp->own, pp->p, (size_t)pp->n);
			pp->own[pp->n] = '\0';
			st->values[i] = pp->own;
			break;
		case P_BLOB:
			/* Binary: the bytes as they are (a zero-length blob
			 * is an empty value, not NULL). */
			st->values[i] = pp->n > 0 ? pp->p : "";
			st->lengths[i] = pp->n;
			st->formats[i] = 1;
			break;
		default: st->values[i] = NULL;
		}
	}
	return 0;
}

/* A ROLLBACK on a connection whose transaction was lost: the server has
 * rolled it back already. */
static int
rollback_lost(struct pg_conn *c)
{
	pipe_forget(c);
	c->lost_txn = 0;
	c->last_txn = PQTRANS_IDLE;
	c->pipe_allowed = 0;
	c->pend_failed = 0;
	return DB_DONE;
}

/* A COMMIT on a connection whose transaction was lost: it fails (nothing
 * of the transaction was committed: the server rolled it back when the
 * connection went), and ends the transaction all the same, so a caller
 * that does not roll back after a failed commit does not leave the
 * connection refusing every statement; the next one reconnects. */
static int
commit_lost(struct pg_conn *c)
{
	(void)rollback_lost(c);
	set_err(c, DB_EK_GONE, "%s",
	        "the connection to PostgreSQL was lost in a transaction:"
	        " it was rolled back");
	return code_of(DB_EK_GONE);
}

/* 1 if p can run on the session as it is: prepared in this epoch, the
 * lock timeout applied (else a synchronous command must go first). */
static int
prep_ready(const struct pg_conn *c, const struct pg_prep *p)
{
	return p->epoch == c->epoch &&
	       (c->lock_ms < 0 || c->lock_ms == c->lock_applied);
}

static int
execute(struct db_stmt *s)
{
	struct pg_stmt *st = s->pg;
	struct pg_conn *c = s->db->pg;
	PGresult *res;
	ExecStatusType status;
	int was_in_txn;

	/* A ROLLBACK must run even after a queued statement failed (a
	 * statement behind a failure in the pipeline is skipped); a
	 * statement to prepare first, or a lock timeout to set, needs
	 * synchronous commands: the queue goes out before. */
	if (c->in_pipe && (st->prep->is_rollback || !prep_ready(c, st->prep)) &&
	    pipe_end(c, NULL) != 0 && !st->prep->is_rollback)
		return code_of(c->kind);
	if (st->prep->is_rollback && c->lost_txn)
		return rollback_lost(c);
	if (st->prep->is_commit && c->lost_txn)
		return commit_lost(c);
	if (pipe_pending_failure(c, st->prep->is_rollback) != 0)
		return code_of(c->kind);
	if (!c->in_pipe && (conn_ready(c) != 0 || apply_lock_timeout(c) != 0 ||
	                    prep_ensure(c, st->prep) != 0))
		return code_of(c->kind);
	if (params_build(st) != 0) {
		set_err(c, DB_EK_OTHER, "out of memory");
		return DB_ERROR;
	}
	was_in_txn = c->in_pipe || PQtransactionStatus(c->conn) != PQTRANS_IDLE;
	st->done = 1;
	if (pipe_may_defer(c, st)) {
		/* Queued: its answer is read with the next one's. */
		if (!c->in_pipe && PQenterPipelineMode(c->conn) == 1)
			c->in_pipe = 1;
		if (c->in_pipe) {
			if (PQsendQueryPrepared(c->conn, st->prep->name,
			                        st->prep->nparams, st->values,
			                        st->lengths, st->formats,
			                        0) != 1) {
				(void)pipe_lost(c);
				return code_of(c->kind);
			}
			c->npending++;
			return DB_DONE;
		}
	}
	if (c->in_pipe) {
		/* Behind the queue, with one Sync for all. */
		if (PQsendQueryPrepared(c->conn, st->prep->name,
		                        st->prep->nparams, st->values,
		                        st->lengths, st->formats, 0) != 1) {
			(void)pipe_lost(c);
			if (st->prep->is_commit)
				return commit_lost(c);
			return code_of(c->kind);
		}
		if (pipe_end(c, &res) != 0) {
			if (st->prep->is_commit && c->lost_txn)
				(void)rollback_lost(c); /* over, failed */
			return code_of(c->kind);
		}
	} else {
		res = PQexecPrepared(c->conn, st->prep->name, st->prep->nparams,
		                     st->values, st->lengths, st->formats, 0);
	}
	status = PQresultStatus(res);
	note_result(c, res, was_in_txn);
	if (st->prep->is_commit && c->lost_txn)
		(void)rollback_lost(c); /* the COMMIT failed: it is over */
	if (status == PGRES_TUPLES_OK) {
		note_changes(c, res);
		st->res = res;
		st->nrows = PQntuples(res);
		st->row = 0;
		return st->nrows > 0 ? DB_ROW : DB_DONE;
	}
	if (status == PGRES_COMMAND_OK) {
		note_changes(c, res);
		/* A COMMIT of a failed transaction is the server's ROLLBACK:
		 * the caller must hear that nothing was committed. */
		if (st->prep->is_commit &&
		    strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
			PQclear(res);
			set_err(c, DB_EK_OTHER, "%s",
			        "the transaction had failed: it was rolled"
			        " back");
			return DB_ERROR;
		}
		PQclear(res);
		return DB_DONE;
	}
	set_result_err(c, res);
	PQclear(res);
	return code_of(c->kind);
}

int
dbpg_step(struct db_stmt *s)
{
	struct pg_stmt *st = s->pg;

	if (st->res != NULL) {
		cells_forget(st);
		if (++st->row < st->nrows)
			return DB_ROW;
		st->row = st->nrows;
		PQclear(st->res);
		st->res = NULL;
		return DB_DONE;
	}
	/* A step after the last row (or a failure) runs it again, as
	 * SQLite's automatic reset. */
	if (st->done)
		dbpg_reset(s);
	return execute(s);
}

/* Ends the transaction a failed db_exec or begin opened (its error
 * kept). */
static void
rollback_quietly(struct pg_conn *c)
{
	if (PQstatus(c->conn) != CONNECTION_OK ||
	    PQtransactionStatus(c->conn) == PQTRANS_IDLE)
		return;
	PQclear(PQexec(c->conn, "ROLLBACK"));
	if (PQstatus(c->conn) == CONNECTION_OK)
		c->last_txn = PQtransactionStatus(c->conn);
	c->pipe_allowed = 0;
	c->pend_failed = 0;
}

int
dbpg_exec(struct db *db, const char *sql, char **errmsg)
{
	struct pg_conn *c = db->pg;
	const char *rest = dbpg_sql_begin_mode(sql);
	PGresult *res;
	ExecStatusType status;
	int was_in_txn, rc = DB_OK, rolls_back = dbpg_sql_rolls_back(sql);

	/* A queue goes out first; its failure is this call's, unless this
	 * rolls it back ("ROLLBACK TO one; RELEASE one" after a failed
	 * create, db_pg.c's pipeline). */
	if (c->in_pipe && pipe_end(c, NULL) != 0 && !rolls_back) {
		rc = code_of(c->kind);
		goto done;
	}
	if (pipe_pending_failure(c, rolls_back) != 0) {
		rc = code_of(c->kind);
		goto done;
	}
	if (c->lost_txn && dbpg_sql_is_rollback(sql)) {
		(void)rollback_lost(c);
		return DB_OK;
	}
	if (c->lost_txn && dbpg_sql_is_commit(sql)) {
		rc = commit_lost(c);
		goto done;
	}
	if (conn_ready(c) != 0 || apply_lock_timeout(c) != 0) {
		rc = code_of(c->kind);
		goto done;
	}
	was_in_txn = PQtransactionStatus(c->conn) != PQTRANS_IDLE;
	if (rest != NULL) {
		/* "BEGIN IMMEDIATE; ...": "BEGIN; ..." */
		size_t n = strlen(rest) + 6;
		char *t = malloc(n);

		if (t == NULL) {
			set_err(c, DB_EK_OTHER, "out of memory");
			rc = DB_ERROR;
			goto done;
		}
		(void)snprintf(t, n, "BEGIN%s", rest);
		res = PQexec(c->conn, t);
		free(t);
	} else {
		res = PQexec(c->conn, sql);
	}
	status = PQresultStatus(res);
	note_result(c, res, was_in_txn);
	if ((status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) &&
	    dbpg_sql_is_commit(sql) &&
	    strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
		/* The COMMIT of a failed transaction: nothing committed. */
		set_err(c, DB_EK_OTHER, "%s",
		        "the transaction had failed: it was rolled back");
		rc = DB_ERROR;
	} else if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
		note_changes(c, res);
	} else {
		set_result_err(c, res);
		rc = code_of(c->kind);
	}
	/* A COMMIT that lost its connection failed: the transaction is
	 * over all the same (commit_lost). */
	if (c->lost_txn && dbpg_sql_is_commit(sql))
		(void)rollback_lost(c);
	PQclear(res);
	/* Begun outside a transaction, a failed script leaves none open
	 * ("BEGIN; SELECT pg_advisory_xact_lock(k)" timing out is a begin
	 * that failed, as SQLite's BEGIN IMMEDIATE). */
	if (rc != DB_OK && !was_in_txn)
		rollback_quietly(c);
done:
	if (rc != DB_OK && errmsg != NULL)
		*errmsg = strdup(c->errmsg);
	return rc;
}

int
dbpg_try_lock(struct db *db, const char *sql)
{
	struct pg_conn *c = db->pg;
	PGresult *res;
	int was_in_txn, took;

	pipe_end_quiet(c);
	if (pipe_pending_failure(c, 0) != 0 || conn_ready(c) != 0 ||
	    apply_lock_timeout(c) != 0)
		return code_of(c->kind);
	was_in_txn = PQtransactionStatus(c->conn) != PQTRANS_IDLE;
	/* One round trip: BEGIN, then the lock query, whose answer is the
	 * last result. */
	res = PQexec(c->conn, sql);
	note_result(c, res, was_in_txn);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_result_err(c, res);
		PQclear(res);
		rollback_quietly(c);
		return code_of(c->kind);
	}
	took = PQntuples(res) == 1 && PQnfields(res) == 1 &&
	       PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (took)
		return DB_OK;
	/* Another writer holds it: the transaction ends here. */
	set_err(c, DB_EK_BUSY, "another writer holds the lock");
	rollback_quietly(c);
	return DB_BUSY;
}
