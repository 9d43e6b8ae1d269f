/*
 * store_copy.c -- a store copied between the engines, table by table
 * (issue 14). See store_copy.h.
 */
#include "store_copy.h"

#include "db.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_audit.h"
#include "store_sqlite_engine_internal.h"

#define COPY_PAGE   5000 /* rows of a PostgreSQL table read at once */
#define TABLES_MAX  128  /* tables in one schema */
#define COLUMNS_MAX 64   /* columns of one table */
#define NAME_MAX_   64   /* bytes of a table or column name */
#define SQL_MAX     4096 /* bytes of one generated statement */

/* A list of names read from a catalogue. */
struct names {
	char name[TABLES_MAX][NAME_MAX_];
	size_t n;
};

static enum vaern_err
fail(struct db *db, struct vaern_msg *msg, const char *what)
{
	return vaern_fail(msg, VAERN_E_STORE, "copy of the store: %s: %s", what,
	                  db_errmsg(db));
}

const char *
store_copy_pg_schema(enum store_copy_part part)
{
	switch (part) {
	case STORE_COPY_KEYSTORE: return "ks";
	case STORE_COPY_AUDIT: return DB_SCHEMA_AUDIT;
	default: return "public";
	}
}

/* ---- making the SQLite files ------------------------------------------ */

enum vaern_err
store_copy_make_sqlite(const char *path, enum store_copy_part part,
                       struct db **out, struct vaern_msg *msg)
{
	struct audit_store *as = NULL;
	struct db *db = NULL;
	char *errmsg = NULL, sql[64];
	enum vaern_err err = VAERN_OK;
	struct db_stmt *s = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int rc = DB_OK;

	*out = NULL;
	if (access(path, F_OK) == 0)
		return vaern_fail(msg, VAERN_E_EXISTS, "%s exists", path);
	/* The keystore's tables are made in an attached file (as the
	 * engine makes them), the data store's with the keystore in memory:
	 * one schema set-up makes both. */
	if (db_open_sqlite(part == STORE_COPY_KEYSTORE ? ":memory:" : path,
	                   flags, 5000, &db) != DB_OK) {
		err = vaern_fail(msg, VAERN_E_IO, "%s: cannot create", path);
		goto done;
	}
	if (part != STORE_COPY_AUDIT) {
		(void)snprintf(sql, sizeof(sql), "ATTACH ?1 AS ks");
		if ((rc = db_prepare(db, sql, 0, &s)) == DB_OK) {
			db_bind_text(s, 1,
			             part == STORE_COPY_KEYSTORE ? path
			                                         : ":memory:",
			             -1);
			rc = db_step(s) == DB_DONE ? DB_OK : DB_ERROR;
		}
		db_finalize(s);
		if (rc != DB_OK ||
		    store_sqlite_schema_setup(db, 1, &errmsg) != DB_OK) {
			err = vaern_fail(msg, VAERN_E_STORE, "%s: %s", path,
			                 errmsg ? errmsg : db_errmsg(db));
			goto done;
		}
	}
	db_close(db);
	db = NULL;
	if (part == STORE_COPY_AUDIT &&
	    (err = audit_store_open(path, 1, &as, msg)) != VAERN_OK)
		goto done;
	audit_store_close(as);
	/* The file alone, as the engine opens it; one self-contained file,
	 * no log beside it. */
	if (db_open_sqlite(path, SQLITE_OPEN_READWRITE, 5000, &db) != DB_OK ||
	    db_exec(db, "PRAGMA journal_mode=DELETE", NULL) != DB_OK) {
		err = vaern_fail(msg, VAERN_E_STORE, "%s: %s", path,
		                 db != NULL ? db_errmsg(db) : "cannot open");
		goto done;
	}
done:
	db_free(errmsg);
	*out = db;
	return err;
}

/* ---- the catalogues ---------------------------------------------------- */

/* A name from a catalogue that can go into SQL as it is. */
static int
plain_name(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || s[n] == '_' ||
		      (s[n] >= '0' && s[n] <= '9')))
			return 0;
	return n > 0 && n < NAME_MAX_;
}

/* The rows of a query on db (parameters ?1 and ?2: a and b, if not
 * NULL), one name each, into out. */
static enum vaern_err
names_of(struct db *db, const char *sql, const char *a, const char *b,
         struct names *out, struct vaern_msg *msg)
{
	struct db_stmt *s = NULL;
	enum vaern_err err = VAERN_OK;
	int rc;

	out->n = 0;
	if (db_prepare(db, sql, 0, &s) != DB_OK)
		return fail(db, msg, "catalogue");
	if (a != NULL)
		db_bind_text(s, 1, a, -1);
	if (b != NULL)
		db_bind_text(s, 2, b, -1);
	while ((rc = db_step(s)) == DB_ROW) {
		const char *name = (const char *)db_column_text(s, 0);

		if (name == NULL || !plain_name(name) || out->n == TABLES_MAX) {
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "copy of the store: an unexpected "
			                 "table or column ('%.64s')",
			                 name ? name : "");
			break;
		}
		(void)snprintf(out->name[out->n++], NAME_MAX_, "%s", name);
	}
	if (err == VAERN_OK && rc != DB_DONE)
		err = fail(db, msg, "catalogue");
	db_finalize(s);
	return err;
}

static enum vaern_err
tables_of(struct db *db, const char *schema, struct names *out,
          struct vaern_msg *msg)
{
	if (db_engine(db) == DB_SQLITE)
		return names_of(db,
		                "SELECT name FROM main.sqlite_master"
		                " WHERE type = 'table'"
		                " AND name NOT LIKE 'sqlite%' ORDER BY name",
		                NULL, NULL, out, msg);
	return names_of(db,
	                "SELECT tablename FROM pg_tables"
	                " WHERE schemaname = ?1 ORDER BY tablename",
	                schema, NULL, out, msg);
}

static enum vaern_err
columns_of(struct db *db, const char *schema, const char *table,
           struct names *out, struct vaern_msg *msg)
{
	enum vaern_err err;

	if (db_engine(db) == DB_SQLITE)
		err = names_of(db, "SELECT name FROM pragma_table_info(?1)",
		               table, NULL, out, msg);
	else
		err = names_of(db,
		               "SELECT column_name FROM"
		               " information_schema.columns"
		               " WHERE table_schema = ?1 AND table_name = ?2"
		               " ORDER BY ordinal_position",
		               schema, table, out, msg);
	if (err == VAERN_OK && (out->n == 0 || out->n > COLUMNS_MAX))
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "copy of the store: table %s has %zu columns",
		                 table, out->n);
	return err;
}

static int
has_name(const struct names *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->name[i], name) == 0)
			return 1;
	return 0;
}

/* Appends text to sql (SQL_MAX bytes); -1 if it does not fit. */
static int
sql_add(char *sql, size_t *len, const char *text)
{
	size_t n = strlen(text);

	if (*len + n + 1 > SQL_MAX)
		return -1;
	memcpy(sql + *len, text, n + 1);
	*len += n;
	return 0;
}

/* "schema"."table" as one engine names it: SQLite's "main." is one
 * file; PostgreSQL's schema is its name. */
static void
qualified(char out[2 * NAME_MAX_ + 8], const char *schema, const char *t)
{
	(void)snprintf(out, 2 * NAME_MAX_ + 8, "%s.\"%s\"", schema, t);
}

/* ---- the copy ---------------------------------------------------------- */

/* Binds column c of the source row to parameter p of the insert. */
static void
bind_column(struct db_stmt *src, int c, struct db_stmt *dst, int p,
            char num[32])
{
	switch (db_column_type(src, c)) {
	case DB_INTEGER: db_bind_int64(dst, p, db_column_int64(src, c)); break;
	case DB_FLOAT:
		(void)snprintf(num, 32, "%.17g", db_column_double(src, c));
		db_bind_text(dst, p, num, -1);
		break;
	case DB_TEXT:
		db_bind_text(dst, p, (const char *)db_column_text(src, c),
		             db_column_bytes(src, c));
		break;
	case DB_BLOB:
		db_bind_blob(dst, p, db_column_blob(src, c),
		             db_column_bytes(src, c));
		break;
	default: db_bind_null(dst, p);
	}
}

/*
 * PostgreSQL: sets the identity of table (if it has one) past its
 * highest id, so the store's next insert does not meet a copied row.
 */
static enum vaern_err
identity_reset(struct db *db, const char *schema, const char *table,
               struct vaern_msg *msg)
{
	struct names col;
	char sql[SQL_MAX], name[2 * NAME_MAX_ + 8];
	struct db_stmt *s = NULL;
	enum vaern_err err;

	if ((err = names_of(db,
	                    "SELECT column_name FROM"
	                    " information_schema.columns"
	                    " WHERE table_schema = ?1 AND table_name = ?2"
	                    " AND is_identity = 'YES'",
	                    schema, table, &col, msg)) != VAERN_OK ||
	    col.n == 0)
		return err;
	qualified(name, schema, table);
	(void)snprintf(sql, sizeof(sql),
	               "SELECT setval(pg_get_serial_sequence('%s', '%s'),"
	               " GREATEST((SELECT max(\"%s\") FROM %s), 1))",
	               name, col.name[0], col.name[0], name);
	if (db_prepare(db, sql, 0, &s) != DB_OK || db_step(s) != DB_ROW)
		err = fail(db, msg, table);
	db_finalize(s);
	return err;
}

/* The statements that copy one table: the read (paged on PostgreSQL:
 * by ctid, stable inside the snapshot) and the insert. */
static enum vaern_err
copy_statements(struct db *from, const char *fq_from, struct db *to,
                const char *fq_to, const struct names *cols, int live_keys,
                struct db_stmt **rd, struct db_stmt **wr, struct vaern_msg *msg)
{
	char sel[SQL_MAX], ins[SQL_MAX], q[NAME_MAX_ + 8];
	size_t ls = 0, li = 0;
	int bad = 0;

	*rd = *wr = NULL;
	bad |= sql_add(sel, &ls,
	               db_engine(from) == DB_SQLITE ? "SELECT "
	                                            : "SELECT t.ctid");
	bad |= sql_add(ins, &li, "INSERT INTO ") | sql_add(ins, &li, fq_to) |
	       sql_add(ins, &li, "(");
	for (size_t i = 0; i < cols->n; i++) {
		(void)snprintf(q, sizeof(q), "%st.\"%s\"",
		               i == 0 && db_engine(from) == DB_SQLITE ? ""
		                                                      : ", ",
		               cols->name[i]);
		bad |= sql_add(sel, &ls, q);
		(void)snprintf(q, sizeof(q), "%s\"%s\"", i == 0 ? "" : ", ",
		               cols->name[i]);
		bad |= sql_add(ins, &li, q);
	}
	bad |= sql_add(sel, &ls, " FROM ") | sql_add(sel, &ls, fq_from) |
	       sql_add(sel, &ls, " AS t");
	if (db_engine(from) != DB_SQLITE) {
		bad |= sql_add(sel, &ls, " WHERE t.ctid > CAST(?1 AS TID)");
		/* GDPR-17: a key whose subject is gone stays behind. */
		if (live_keys)
			bad |= sql_add(sel, &ls,
			               " AND EXISTS (SELECT 1 FROM"
			               " public.subject AS s"
			               " WHERE s.uid = t.uid)");
		bad |= sql_add(sel, &ls, " ORDER BY t.ctid LIMIT ?2");
	}
	bad |= sql_add(ins, &li, ") VALUES (");
	for (size_t i = 0; i < cols->n; i++) {
		(void)snprintf(q, sizeof(q), "%s?%zu", i == 0 ? "" : ", ",
		               i + 1);
		bad |= sql_add(ins, &li, q);
	}
	bad |= sql_add(ins, &li, ")");
	if (bad)
		return vaern_fail(msg, VAERN_E_STORE,
		                  "copy of the store: %s: too many columns",
		                  fq_from);
	if (db_prepare(from, sel, 0, rd) != DB_OK)
		return fail(from, msg, fq_from);
	if (db_prepare(to, ins, 0, wr) != DB_OK)
		return fail(to, msg, fq_to);
	return VAERN_OK;
}

/* Copies the rows of one table; *rows counts them. */
static enum vaern_err
copy_table(struct db *from, const char *from_schema, struct db *to,
           const char *to_schema, const char *table, int live_keys,
           int64_t *rows, struct vaern_msg *msg)
{
	struct names cols, tcols;
	char fq_from[2 * NAME_MAX_ + 8], fq_to[2 * NAME_MAX_ + 8];
	char del[3 * NAME_MAX_], after[40] = "(0,0)", num[32];
	struct db_stmt *rd = NULL, *wr = NULL;
	enum vaern_err err;
	int off = db_engine(from) == DB_SQLITE ? 0 : 1, rc;
	int64_t page;

	qualified(fq_from, from_schema, table);
	qualified(fq_to, to_schema, table);
	if ((err = columns_of(from, from_schema, table, &cols, msg)) ||
	    (err = columns_of(to, to_schema, table, &tcols, msg)))
		return err;
	for (size_t i = 0; i < cols.n; i++)
		if (cols.n != tcols.n || !has_name(&tcols, cols.name[i]))
			return vaern_fail(msg, VAERN_E_STORE,
			                  "copy of the store: table %s differs "
			                  "between the engines (column %s)",
			                  table, cols.name[i]);
	(void)snprintf(del, sizeof(del), "DELETE FROM %s", fq_to);
	if (db_exec(to, del, NULL) != DB_OK)
		return fail(to, msg, table);
	if ((err = copy_statements(from, fq_from, to, fq_to, &cols,
	                           live_keys &&
	                                   strcmp(table, "subject_key") == 0,
	                           &rd, &wr, msg)) != VAERN_OK)
		goto done;
	do {
		page = 0;
		if (off) {
			db_reset(rd);
			db_bind_text(rd, 1, after, -1);
			db_bind_int64(rd, 2, COPY_PAGE);
		}
		while ((rc = db_step(rd)) == DB_ROW) {
			for (size_t i = 0; i < cols.n; i++)
				bind_column(rd, (int)i + off, wr, (int)i + 1,
				            num);
			if (db_step(wr) != DB_DONE) {
				err = fail(to, msg, table);
				goto done;
			}
			db_reset(wr);
			if (off)
				(void)snprintf(
				        after, sizeof(after), "%s",
				        (const char *)db_column_text(rd, 0));
			page++;
			*rows += 1;
		}
		if (rc != DB_DONE) {
			err = fail(from, msg, table);
			goto done;
		}
	} while (off && page == COPY_PAGE);
	if (db_engine(to) != DB_SQLITE)
		err = identity_reset(to, to_schema, table, msg);
done:
	db_finalize(rd);
	db_finalize(wr);
	return err;
}

enum vaern_err
store_copy_tables(struct db *from, const char *from_schema, struct db *to,
                  const char *to_schema, int live_keys, int64_t *rows,
                  struct vaern_msg *msg)
{
	struct names *ft = NULL, *tt = NULL;
	enum vaern_err err;
	int64_t n = 0;

	if ((ft = calloc(1, sizeof(*ft))) == NULL ||
	    (tt = calloc(1, sizeof(*tt))) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	if ((err = tables_of(from, from_schema, ft, msg)) ||
	    (err = tables_of(to, to_schema, tt, msg)))
		goto done;
	/* Every table has its twin: nothing is left behind. */
	for (size_t i = 0; i < ft->n + tt->n && err == VAERN_OK; i++) {
		const char *t = i < ft->n ? ft->name[i] : tt->name[i - ft->n];

		if (!has_name(ft, t) || !has_name(tt, t))
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "copy of the store: table %s.%s has "
			                 "no twin on the other engine",
			                 i < ft->n ? from_schema : to_schema,
			                 t);
	}
	for (size_t i = 0; i < ft->n && err == VAERN_OK; i++)
		err = copy_table(from, from_schema, to, to_schema, ft->name[i],
		                 live_keys, &n, msg);
done:
	free(ft);
	free(tt);
	if (rows != NULL)
		*rows = n;
	return err;
}

/* ---- an empty PostgreSQL database -------------------------------------- */

int
store_copy_pg_empty(struct db *db)
{
	struct db_stmt *s = NULL;
	int empty = -1;

	if (db_prepare(db,
	               "SELECT to_regclass('public.meta') IS NULL"
	               " AND to_regclass('ks.kek') IS NULL"
	               " AND to_regclass('audit.audit') IS NULL",
	               0, &s) == DB_OK &&
	    db_step(s) == DB_ROW)
		empty = db_column_int(s, 0) != 0;
	db_finalize(s);
	return empty;
}
