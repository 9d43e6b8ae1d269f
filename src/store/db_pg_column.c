/*
 * db_pg_column.c -- the PostgreSQL engine's column readers (db.h's
 * db_column_*): a row's values as SQLite's calls give them (moved from
 * db_pg.c). Results come in text format; a bytea is decoded from hex
 * into a buffer of its statement and column, valid until the next step
 * or reset (as SQLite's).
 */
#include "db_pg_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The value of col in the current row, or NULL (no row, no such column,
 * or SQL NULL). */
static const char *
value_at(struct pg_stmt *st, int col)
{
	if (st->res == NULL || st->row < 0 || st->row >= st->nrows || col < 0 ||
	    col >= PQnfields(st->res) || PQgetisnull(st->res, st->row, col))
		return NULL;
	return PQgetvalue(st->res, st->row, col);
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* A bytea column of the current row, decoded (bytea_output 'hex'); NULL
 * if it is NULL or out of memory. */
static struct pg_cell *
bytea_at(struct pg_stmt *st, int col)
{
	const char *v = value_at(st, col);
	struct pg_cell *cl;
	size_t len, n, i;

	if (v == NULL)
		return NULL;
	if (st->cell == NULL) {
		int k, nf = PQnfields(st->res);

		if ((st->cell = calloc((size_t)nf, sizeof(*st->cell))) == NULL)
			return NULL;
		st->ncells = nf;
		for (k = 0; k < nf; k++)
			st->cell[k].row = -1;
	}
	if (col >= st->ncells)
		return NULL;
	cl = &st->cell[col];
	if (cl->row == st->row)
		return cl;
	len = (size_t)PQgetlength(st->res, st->row, col);
	if (len < 2 || v[0] != '\\' || v[1] != 'x' || (len - 2) % 2 != 0)
		return NULL;
	n = (len - 2) / 2;
	if (cl->cap < n + 1) {
		unsigned char *q = malloc(n + 1);

		if (q == NULL)
			return NULL;
		if (cl->p != NULL) {
			explicit_bzero(cl->p, cl->cap);
			free(cl->p);
		}
		cl->p = q;
		cl->cap = n + 1;
	}
	for (i = 0; i < n; i++) {
		int hi = hexval(v[2 + 2 * i]), lo = hexval(v[3 + 2 * i]);

		if (hi < 0 || lo < 0)
			return NULL;
		cl->p[i] = (unsigned char)(hi << 4 | lo);
	}
	cl->p[n] = '\0';
	cl->n = n;
	cl->row = st->row;
	return cl;
}

static int
has_fraction(const char *v)
{
	return strpbrk(v, ".eEnN") != NULL; /* 1.5, 1e9, NaN, Infinity */
}

int
dbpg_column_type(struct db_stmt *s, int col)
{
	struct pg_stmt *st = s->pg;
	const char *v = value_at(st, col);

	if (v == NULL)
		return DB_NULL;
	switch (PQftype(st->res, col)) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID:
	case OID_BOOL: return DB_INTEGER;
	case OID_FLOAT4:
	case OID_FLOAT8: return DB_FLOAT;
	case OID_NUMERIC: return has_fraction(v) ? DB_FLOAT : DB_INTEGER;
	case OID_BYTEA: return DB_BLOB;
	default: return DB_TEXT;
	}
}

int64_t
dbpg_column_int64(struct db_stmt *s, int col)
{
	struct pg_stmt *st = s->pg;
	const char *v = value_at(st, col);
	Oid t;
	double d;

	if (v == NULL)
		return 0;
	t = PQftype(st->res, col);
	if (t == OID_BOOL)
		return v[0] == 't';
	if (t == OID_BYTEA)
		return 0;
	if (t == OID_FLOAT4 || t == OID_FLOAT8 ||
	    (t == OID_NUMERIC && has_fraction(v))) {
		d = strtod(v, NULL);
		if (d != d)
			return 0;
		if (d >= 9223372036854775807.0)
			return INT64_MAX;
		if (d <= -9223372036854775808.0)
			return INT64_MIN;
		return (int64_t)d;
	}
	/* Text reads as SQLite reads it: its leading integer, else 0. */
	errno = 0;
	return (int64_t)strtoll(v, NULL, 10);
}

double
dbpg_column_double(struct db_stmt *s, int col)
{
	struct pg_stmt *st = s->pg;
	const char *v = value_at(st, col);
	Oid t;

	if (v == NULL)
		return 0;
	t = PQftype(st->res, col);
	if (t == OID_BOOL)
		return v[0] == 't';
	if (t == OID_BYTEA)
		return 0;
	return strtod(v, NULL);
}

const unsigned char *
dbpg_column_text(struct db_stmt *s, int col)
{
	struct pg_stmt *st = s->pg;
	const char *v = value_at(st, col);
	struct pg_cell *cl;

	if (v == NULL)
		return NULL;
	if (PQftype(st->res, col) == OID_BYTEA)
		return (cl = bytea_at(st, col)) != NULL ? cl->p : NULL;
	if (PQftype(st->res, col) == OID_BOOL)
		return (const unsigned char *)(v[0] == 't' ? "1" : "0");
	return (const unsigned char *)v;
}

const void *
dbpg_column_blob(struct db_stmt *s, int col)
{
	struct pg_stmt *st = s->pg;
	const char *v = value_at(st, col);
	struct pg_cell *cl;

	if (v == NULL)
		return NULL;
	if (PQftype(st->res, col) != OID_BYTEA)
		return PQgetlength(st->res, st->row, col) > 0 ? v : NULL;
	/* A zero-length blob reads as NULL, as SQLite's. */
	if ((cl = bytea_at(st, col)) == NULL || cl->n == 0)
		return NULL;
	return cl->p;
}

int
dbpg_column_bytes(struct db_stmt *s, int col)
{
	struct pg_stmt *st = s->pg;
	const char *v = value_at(st, col);
	struct pg_cell *cl;

	if (v == NULL)
		return 0;
	if (PQftype(st->res, col) == OID_BYTEA)
		return (cl = bytea_at(st, col)) != NULL ? (int)cl->n : 0;
	if (PQftype(st->res, col) == OID_BOOL)
		return 1;
	return PQgetlength(st->res, st->row, col);
}
