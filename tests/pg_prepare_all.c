/*
 * pg_prepare_all.c -- the PostgreSQL dialect check behind
 * scripts/pg-dialect (issue 14): reads statements from standard input and
 * prepares each on PostgreSQL through db.h (so through the engine's own
 * translation), on a database that has the store's schema (schema_pg.sql,
 * loaded first). Prints one line per statement: "ok LABEL" or
 * "FAIL LABEL: the server's message". Never executes a prepared
 * statement; an "exec" record (several statements for db_exec) runs in
 * a transaction that is rolled back.
 *
 * Input: records of three NUL-terminated fields: label, kind ("prepare",
 * "audit" -- prepared on the audit trail's connection, search_path audit
 * -- or "exec"), SQL. Connection: VAERN_PG_CONNINFO; the data store's
 * connection keeps the server's search_path, as the vault's does.
 * Exit: 0 if every statement prepared, 1 if one did not, 2 on a failure
 * of the tool itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_pg_sql.h"
#include "store/db.h"

/* One field from stdin into buf; 0 at the end of input. */
static int
read_field(char **buf, size_t *cap)
{
	size_t n = 0;
	int ch;

	while ((ch = getchar()) != EOF && ch != '\0') {
		if (n + 1 >= *cap) {
			size_t nc = *cap ? *cap * 2 : 4096;
			char *b = realloc(*buf, nc);

			if (b == NULL)
				return -1;
			*buf = b;
			*cap = nc;
		}
		(*buf)[n++] = (char)ch;
	}
	if (ch == EOF && n == 0)
		return 0;
	if (*buf == NULL && (*buf = malloc(*cap = 16)) == NULL)
		return -1;
	(*buf)[n] = '\0';
	return 1;
}

int
main(void)
{
	const char *ci = getenv("VAERN_PG_CONNINFO");
	char *label = NULL, *kind = NULL, *sql = NULL, *e = NULL;
	size_t lc = 0, kc = 0, sc = 0;
	struct db *db = NULL, *audit = NULL;
	int status = 0, r;

	if (ci == NULL) {
		fputs("pg_prepare_all: VAERN_PG_CONNINFO is not set\n", stderr);
		return 2;
	}
	if (db_open_pg(ci, NULL, &db) != DB_OK ||
	    db_open_pg(ci, "audit", &audit) != DB_OK) {
		fprintf(stderr, "pg_prepare_all: %s\n",
		        db == NULL || audit == NULL ? "out of memory"
		        : db_errmsg(db)[0] != 'n'   ? db_errmsg(db)
		                                    : db_errmsg(audit));
		db_close(db);
		db_close(audit);
		return 2;
	}
	if (db_exec(db, schema_pg_sql, &e) != DB_OK) {
		fprintf(stderr, "pg_prepare_all: schema_pg.sql: %s\n", e);
		db_free(e);
		db_close(db);
		db_close(audit);
		return 2;
	}
	while ((r = read_field(&label, &lc)) > 0 &&
	       (r = read_field(&kind, &kc)) > 0 &&
	       (r = read_field(&sql, &sc)) > 0) {
		struct db_stmt *s = NULL;
		const char *why = NULL;

		if (strcmp(kind, "exec") == 0) {
			/* A savepoint for "ROLLBACK TO one" to find. */
			(void)db_exec(db, "BEGIN; SAVEPOINT one", NULL);
			if (db_exec(db, sql, &e) != DB_OK)
				why = e;
			(void)db_exec(db, "ROLLBACK", NULL);
		} else if (strcmp(kind, "audit") == 0) {
			if (db_prepare(audit, sql, 0, &s) != DB_OK)
				why = db_errmsg(audit);
		} else if (db_prepare(db, sql, 0, &s) != DB_OK) {
			why = db_errmsg(db);
		}
		if (why != NULL) {
			printf("FAIL %s: %s\n", label, why);
			status = 1;
		} else {
			printf("ok %s\n", label);
		}
		db_finalize(s);
		db_free(e);
		e = NULL;
	}
	free(label);
	free(kind);
	free(sql);
	db_close(db);
	db_close(audit);
	if (r < 0) {
		fputs("pg_prepare_all: out of memory\n", stderr);
		return 2;
	}
	return status;
}
