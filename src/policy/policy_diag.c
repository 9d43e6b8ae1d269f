/*
 * policy_diag.c -- the loader's diagnostics: names shown in messages, "did
 * you mean" suggestions, the collected problems sorted into file order,
 * and the allocations that count a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <libfyaml.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "policy_internal.h"

#include "../common/utf8.h"

/* ---------------------------------------------------------------------
 * Small helpers.
 */

/*
 * Writes into buf (SHOW_BUF bytes) a copy of s fit for a message: control
 * characters replaced by '?', cut at SHOW_MAX bytes on a character
 * boundary with "..." added. Returns buf.
 */
const char *
policy_show(char *buf, const char *s)
{
	size_t len, n, i;

	if (s == NULL)
		s = "";
	len = strlen(s);
	n = len > SHOW_MAX ? SHOW_MAX : len;
	if (n < len)
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (n < len) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* Cuts an incomplete UTF-8 sequence off the end of a truncated message. */
static void
trim_utf8(char *s)
{
	size_t len = strlen(s);

	len = utf8_valid_prefix((const unsigned char *)s, len);
	s[len] = '\0';
}

/* Levenshtein distance of two short strings (both < 64 bytes). */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[POLICY_NAME_MAX + 1];

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j], best;

			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

void
policy_closest_init(struct closest *c, const char *word)
{
	c->word = word;
	c->len = strlen(word);
	c->best = (size_t)-1;
	c->found = NULL;
}

/* Weighs one candidate, within the loader's budget. */
void
policy_closest_try(struct loader *ld, struct closest *c, const char *cand)
{
	size_t cl = strlen(cand), d;

	if (c->len == 0 || c->len >= POLICY_NAME_MAX || cl >= POLICY_NAME_MAX ||
	    cl + 2 < c->len || c->len + 2 < cl || ld->suggest_budget <= 0)
		return;
	ld->suggest_budget--;
	d = edit_distance(c->word, cand);
	if (d < c->best) {
		c->best = d;
		c->found = cand;
	}
}

/* The closest candidate if it is a likely typo (distance 1, or 2 for
 * words of 5 bytes or more), else NULL. */
const char *
policy_closest_result(const struct closest *c)
{
	if (c->found == NULL || c->best == 0 ||
	    c->best > (c->len >= 5 ? 2u : 1u))
		return NULL;
	return c->found;
}

const char *
policy_suggest(struct loader *ld, const char *word, const char *const *cands,
               size_t ncands)
{
	struct closest c;
	size_t i;

	policy_closest_init(&c, word);
	for (i = 0; i < ncands; i++)
		policy_closest_try(ld, &c, cands[i]);
	return policy_closest_result(&c);
}

/* ---------------------------------------------------------------------
 * Diagnostics.
 */

static void vdiag_at(struct loader *ld, unsigned line, unsigned column,
                     const char *fmt, va_list ap)
        __attribute__((format(printf, 4, 0), nonnull(1, 4)));

static void
vdiag_at(struct loader *ld, unsigned line, unsigned column, const char *fmt,
         va_list ap)
{
	struct diag_entry *e;

	if (ld->ndiags >= LOADER_DIAG_MAX) {
		ld->dropped++;
		return;
	}
	if (ld->diags == NULL) {
		ld->diags = calloc(LOADER_DIAG_MAX, sizeof(*ld->diags));
		if (ld->diags == NULL) {
			ld->nomem = 1;
			ld->dropped++;
			return;
		}
	}
	e = &ld->diags[ld->ndiags];
	e->seq = ld->ndiags++;
	e->d.line = line;
	e->d.column = line == 0 ? 0 : column;
	vsnprintf(e->d.message, sizeof(e->d.message), fmt, ap);
	trim_utf8(e->d.message);
}

void
policy_diag_at(struct loader *ld, unsigned line, unsigned column,
               const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag_at(ld, line, column, fmt, ap);
	va_end(ap);
}

/* Reports a problem at node at (NULL: no position). */
void
policy_diag(struct loader *ld, const struct ynode *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (at != NULL)
		vdiag_at(ld, at->line, at->column, fmt, ap);
	else
		vdiag_at(ld, 0, 0, fmt, ap);
	va_end(ap);
}

static int
diag_cmp(const void *a, const void *b)
{
	const struct diag_entry *x = a, *y = b;

	if (x->d.line != y->d.line)
		return x->d.line < y->d.line ? -1 : 1;
	if (x->d.column != y->d.column)
		return x->d.column < y->d.column ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

/* Sorts the diagnostics into file order and keeps the first in out. */
void
policy_diags_export(struct loader *ld, struct policy_diags *out)
{
	size_t i, keep;

	memset(out, 0, sizeof(*out));
	if (ld->ndiags > 1)
		qsort(ld->diags, ld->ndiags, sizeof(*ld->diags), diag_cmp);
	keep = ld->ndiags < POLICY_DIAG_MAX ? ld->ndiags : POLICY_DIAG_MAX;
	for (i = 0; i < keep; i++)
		out->items[i] = ld->diags[i].d;
	out->count = keep;
	out->dropped = ld->ndiags - keep + ld->dropped;
}

/* ---------------------------------------------------------------------
 * Strings and arrays owned by the policy.
 */

/* Returns a NUL-terminated copy of s[0..len) owned by the policy. */
char *
policy_pstrndup(struct loader *ld, const char *s, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL) {
		ld->nomem = 1;
		return NULL;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

char *
policy_pstrdup(struct loader *ld, const char *s)
{
	return policy_pstrndup(ld, s, strlen(s));
}

/* Returns a zeroed array of n elements (NULL for n == 0, or no memory). */
void *
policy_pcalloc(struct loader *ld, size_t n, size_t size)
{
	void *a;

	if (n == 0)
		return NULL;
	a = calloc(n, size);
	if (a == NULL)
		ld->nomem = 1;
	return a;
}
