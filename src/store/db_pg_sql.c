/*
 * db_pg_sql.c -- the PostgreSQL engine's SQL translation (db.h): SQLite's
 * parameters to PostgreSQL's, SQLite's BEGIN modes to a plain BEGIN, and
 * SQLite's schema name "main." dropped (the connection's search_path
 * names its schema), outside literals, quoted identifiers, comments and
 * dollar quotes.
 */
#include "db_pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
is_ident_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '$' ||
	       (unsigned char)ch >= 0x80;
}

static int
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	       ch == '\f' || ch == '\v';
}

static const char *
skip_space(const char *p)
{
	while (is_space(*p))
		p++;
	return p;
}

/* The word at p (case-insensitive) followed by a non-identifier
 * character: the position after it, or NULL. */
static const char *
word_at(const char *p, const char *word)
{
	size_t n = strlen(word);

	if (strncasecmp(p, word, n) != 0 || is_ident_char(p[n]))
		return NULL;
	return p + n;
}

/* SQLite's "BEGIN IMMEDIATE|DEFERRED|EXCLUSIVE": where the rest of the
 * statement starts after the mode word, or NULL if sql is no such BEGIN.
 * PostgreSQL's BEGIN takes no lock; the caller takes the write lock it
 * needs (db.h). */
const char *
dbpg_sql_begin_mode(const char *sql)
{
	const char *p = word_at(skip_space(sql), "BEGIN"), *q;

	if (p == NULL)
		return NULL;
	p = skip_space(p);
	if ((q = word_at(p, "IMMEDIATE")) == NULL &&
	    (q = word_at(p, "DEFERRED")) == NULL &&
	    (q = word_at(p, "EXCLUSIVE")) == NULL)
		return NULL;
	return q;
}

/* 1 if sql ends the whole transaction by rolling back (not ROLLBACK TO). */
int
dbpg_sql_is_rollback(const char *sql)
{
	const char *p = word_at(skip_space(sql), "ROLLBACK"), *q;

	if (p == NULL)
		return 0;
	p = skip_space(p);
	if ((q = word_at(p, "TRANSACTION")) != NULL ||
	    (q = word_at(p, "WORK")) != NULL)
		p = skip_space(q);
	if (*p == ';')
		p = skip_space(p + 1);
	return *p == '\0';
}

int
dbpg_sql_rolls_back(const char *sql)
{
	return word_at(skip_space(sql), "ROLLBACK") != NULL;
}

int
dbpg_sql_is_commit(const char *sql)
{
	const char *p = skip_space(sql), *q;

	if ((q = word_at(p, "COMMIT")) == NULL &&
	    (q = word_at(p, "END")) == NULL)
		return 0;
	p = skip_space(q);
	if ((q = word_at(p, "TRANSACTION")) != NULL ||
	    (q = word_at(p, "WORK")) != NULL)
		p = skip_space(q);
	if (*p == ';')
		p = skip_space(p + 1);
	return *p == '\0';
}

/* 1 if sql holds the word w anywhere (case-insensitive; a literal that
 * holds it counts too: the answer errs towards "yes"). */
static int
has_word(const char *sql, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = sql; *p != '\0'; p++)
		if ((p == sql || !is_ident_char(p[-1])) &&
		    strncasecmp(p, w, n) == 0 && !is_ident_char(p[n]))
			return 1;
	return 0;
}

int
dbpg_sql_no_rows(const char *sql)
{
	const char *p = skip_space(sql);

	if (word_at(p, "SAVEPOINT") != NULL)
		return strchr(p, ';') == NULL;
	/* One INSERT, UPDATE or DELETE that returns nothing (no RETURNING,
	 * no second statement, no WITH before it). */
	return (word_at(p, "INSERT") != NULL || word_at(p, "UPDATE") != NULL ||
	        word_at(p, "DELETE") != NULL) &&
	       strchr(p, ';') == NULL && !has_word(p, "RETURNING");
}

/* The end of the dollar-quote tag at p ("$tag$" or "$$"), or NULL. */
static const char *
dollar_tag(const char *p)
{
	const char *q = p + 1;

	if (*q >= '0' && *q <= '9')
		return NULL;
	while (*q != '\0' && *q != '$' && is_ident_char(*q))
		q++;
	return *q == '$' ? q + 1 : NULL;
}

/*
 * Translates SQLite-style parameters into PostgreSQL's: ?N as $N, a bare
 * ? as one more than the highest number so far (SQLite's rule); SQLite's
 * index hint "INDEXED BY name" is dropped; "main."
 * before a name is dropped. Literals, quoted identifiers, comments and
 * dollar quotes are copied as they are.
 * Returns the new text (malloc) with *nparams the highest number and
 * used[n] set for each number used (used: DBPG_PARAMS_MAX + 1 bytes, zero),
 * or NULL with err set.
 */
char *
dbpg_sql_translate(const char *sql, int *nparams, unsigned char *used,
                   char *err, size_t errlen)
{
	const char *p = sql, *rest, *end;
	size_t len = strlen(sql), nq = 0, cap;
	char *out, *o;
	int max = 0;

	for (end = sql; *end != '\0'; end++)
		nq += *end == '?';
	cap = len + nq * 6 + 8;
	if ((out = malloc(cap)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o = out;
	if ((rest = dbpg_sql_begin_mode(sql)) != NULL) {
		memcpy(o, "BEGIN", 5);
		o += 5;
		p = rest;
	}
	while (*p != '\0') {
		char ch = *p;

		if (ch == '\'' || ch == '"') {
			/* A literal (E'...' with backslash escapes) or a quoted
			 * identifier; a doubled quote stays inside. */
			int esc = ch == '\'' && p > sql &&
			          (p[-1] == 'E' || p[-1] == 'e') &&
			          (p - 1 == sql || !is_ident_char(p[-2]));

			*o++ = *p++;
			while (*p != '\0') {
				if (esc && *p == '\\' && p[1] != '\0') {
					*o++ = *p++;
					*o++ = *p++;
					continue;
				}
				if (*p == ch && p[1] == ch) {
					*o++ = *p++;
					*o++ = *p++;
					continue;
				}
				if (*p == ch)
					break;
				*o++ = *p++;
			}
			if (*p == ch)
				*o++ = *p++;
		} else if (ch == '-' && p[1] == '-') {
			while (*p != '\0' && *p != '\n')
				*o++ = *p++;
		} else if (ch == '/' && p[1] == '*') {
			int depth = 0;

			do {
				if (p[0] == '/' && p[1] == '*') {
					depth++;
					*o++ = *p++;
				} else if (p[0] == '*' && p[1] == '/') {
					depth--;
					*o++ = *p++;
				}
				*o++ = *p++;
			} while (*p != '\0' && depth > 0);
		} else if (ch == '$' && (p == sql || !is_ident_char(p[-1])) &&
		           (end = dollar_tag(p)) != NULL) {
			size_t tl = (size_t)(end - p);
			const char *close = end;

			while ((close = strchr(close, '$')) != NULL &&
			       strncmp(close, p, tl) != 0)
				close++;
			if (close == NULL)
				close = p + strlen(p);
			else
				close += tl;
			memcpy(o, p, (size_t)(close - p));
			o += close - p;
			p = close;
		} else if (ch == '$' && p[1] >= '0' && p[1] <= '9' &&
		           (p == sql || !is_ident_char(p[-1]))) {
			/* Already PostgreSQL's: counted, kept. */
			long v = 0;

			*o++ = *p++;
			while (*p >= '0' && *p <= '9') {
				if (v <= DBPG_PARAMS_MAX)
					v = v * 10 + (*p - '0');
				*o++ = *p++;
			}
			if (v < 1 || v > DBPG_PARAMS_MAX)
				goto bad_number;
			used[v] = 1;
			if (v > max)
				max = (int)v;
		} else if (ch == '?') {
			long v = 0;
			int digits = 0;

			p++;
			while (*p >= '0' && *p <= '9') {
				if (v <= DBPG_PARAMS_MAX)
					v = v * 10 + (*p - '0');
				p++;
				digits++;
			}
			if (!digits)
				v = max + 1;
			if (v < 1 || v > DBPG_PARAMS_MAX)
				goto bad_number;
			used[v] = 1;
			if (v > max)
				max = (int)v;
			o += snprintf(o, cap - (size_t)(o - out), "$%ld", v);
		} else if (is_ident_char(ch) && !(ch >= '0' && ch <= '9') &&
		           ch != '$' &&
		           (p == sql ||
		            (!is_ident_char(p[-1]) && p[-1] != '.'))) {
			/* A word: SQLite's schema "main." (the connection's own
			 * database) names the connection's schema here, its
			 * search_path: dropped. */
			const char *w = p;

			while (is_ident_char(*p))
				p++;
			if (p - w == 4 && strncasecmp(w, "main", 4) == 0 &&
			    *p == '.')
				p++;
			else if (p - w == 7 &&
			         strncasecmp(w, "INDEXED", 7) == 0 &&
			         (rest = word_at(skip_space(p), "BY")) !=
			                 NULL) {
				/* SQLite's index hint "INDEXED BY name":
				 * PostgreSQL's planner chooses. */
				p = skip_space(rest);
				while (is_ident_char(*p))
					p++;
			} else {
				memcpy(o, w, (size_t)(p - w));
				o += p - w;
			}
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	*nparams = max;
	return out;
bad_number:
	(void)snprintf(err, errlen,
	               "parameter number out of range (1 to %d) at offset %ld",
	               DBPG_PARAMS_MAX, (long)(p - sql));
	free(out);
	return NULL;
}
