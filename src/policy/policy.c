/*
 * policy.c -- load a policy from YAML, check every rule, compile it.
 *
 * Three stages:
 *  1. libfyaml's event parser feeds a small tree of our own (struct ynode)
 *     that keeps the line and column of every node. While the tree is
 *     built the limits are enforced (depth, entries, text, node count) and
 *     anchors, aliases, tags and duplicate keys are refused, so nothing
 *     later walks unbounded input and nothing is ever expanded (no
 *     "billion laughs").
 *  2. Each section is compiled into struct policy and its references are
 *     resolved to indexes. A problem is reported and compilation goes on,
 *     so one run lists every problem (docs/policy.md).
 *  3. The diagnostics are sorted into file order.
 *
 * Every string and array of the compiled policy is allocated here and
 * freed by policy_free(); the tree is freed before returning.
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

#include "../common/utf8.h"

/* The language version this loader reads (`vaern: 1`). */
#define POLICY_LANGUAGE_VERSION "1"

/* The schema nests 6 deep (root, purposes, purpose, consent, sources,
 * source); anything deeper is refused without being built. */
#define YAML_DEPTH_MAX 16

/* Nodes in one tree. A 1 MiB file could hold about 500,000 ("[a,a,a...");
 * a real policy holds a few thousand. */
#define YAML_NODES_MAX (1u << 18)

/* Diagnostics collected before sorting; more are only counted. */
#define LOADER_DIAG_MAX (4 * POLICY_DIAG_MAX)

/* Edit-distance computations spent on "did you mean" suggestions. */
#define SUGGEST_BUDGET 20000

/* A name shown in a message: at most this many bytes, then "...". */
#define SHOW_MAX 48
#define SHOW_BUF (SHOW_MAX + 4)

/* "retention rule '<name>'" and the like. */
#define CTX_MAX 96

/* ---------------------------------------------------------------------
 * The tree.
 */

enum ykind { Y_SCALAR, Y_MAP, Y_SEQ };

struct ynode {
	enum ykind kind;
	unsigned line, column; /* 1-based; 0 when libfyaml gave no mark */
	int plain;             /* scalar written plain (not quoted/block) */
	int bad;               /* refused while building (alias, too long...):
	                          already reported, checks skip it quietly */
	char *text;            /* scalar: NUL-terminated copy, never NULL */
	size_t len;            /* scalar: bytes in text */
	struct ynode **items;  /* seq: items; map: key, value, key, value... */
	size_t n, cap;         /* items used and allocated */
	size_t seen;           /* map: children seen, dropped ones included,
	                          so the parity says key or value */
	int drop_value;        /* map: the key just seen was refused, so its
	                          value is dropped too */
	int overflow_reported; /* POLICY_ITEMS_MAX reported once */
};

struct diag_entry {
	struct policy_diag d;
	size_t seq; /* order of discovery: ties in position keep it */
};

/* A name and its index in a section, for resolving references. */
struct name_ref {
	const char *name;
	size_t idx;
};

struct name_index {
	struct name_ref *refs; /* sorted by name */
	size_t n;
};

struct loader {
	struct policy *p;         /* being compiled */
	struct diag_entry *diags; /* LOADER_DIAG_MAX entries, lazily */
	size_t ndiags;
	size_t dropped;      /* diagnostics beyond LOADER_DIAG_MAX */
	int nomem;           /* an allocation failed */
	long suggest_budget; /* SUGGEST_BUDGET, counting down */
	struct name_index categories, purposes, events;
	const char *traffic_purpose; /* the purpose `traffic:` names: its
	                                records are in the traffic store, so
	                                its category list may be empty */
};

/* A resolved reference and the node that named it. */
struct ref {
	size_t idx;
	const struct ynode *at;
};

/* ---------------------------------------------------------------------
 * Small helpers.
 */

/*
 * Writes into buf (SHOW_BUF bytes) a copy of s fit for a message: control
 * characters replaced by '?', cut at SHOW_MAX bytes on a character
 * boundary with "..." added. Returns buf.
 */
static const char *
show(char *buf, const char *s)
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

/* A "did you mean" search: the closest candidate seen so far. */
struct closest {
	const char *word; /* the unknown word */
	size_t len;       /* its length */
	size_t best;      /* distance of found */
	const char *found;
};

static void
closest_init(struct closest *c, const char *word)
{
	c->word = word;
	c->len = strlen(word);
	c->best = (size_t)-1;
	c->found = NULL;
}

/* Weighs one candidate, within the loader's budget. */
static void
closest_try(struct loader *ld, struct closest *c, const char *cand)
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
static const char *
closest_result(const struct closest *c)
{
	if (c->found == NULL || c->best == 0 ||
	    c->best > (c->len >= 5 ? 2u : 1u))
		return NULL;
	return c->found;
}

static const char *
suggest(struct loader *ld, const char *word, const char *const *cands,
        size_t ncands)
{
	struct closest c;
	size_t i;

	closest_init(&c, word);
	for (i = 0; i < ncands; i++)
		closest_try(ld, &c, cands[i]);
	return closest_result(&c);
}

/* ---------------------------------------------------------------------
 * Diagnostics.
 */

static void vdiag_at(struct loader *ld, unsigned line, unsigned column,
                     const char *fmt, va_list ap)
        __attribute__((format(printf, 4, 0)));

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

static void diag_at(struct loader *ld, unsigned line, unsigned column,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
diag_at(struct loader *ld, unsigned line, unsigned column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag_at(ld, line, column, fmt, ap);
	va_end(ap);
}

static void diag(struct loader *ld, const struct ynode *at, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));

/* Reports a problem at node at (NULL: no position). */
static void
diag(struct loader *ld, const struct ynode *at, const char *fmt, ...)
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
static void
diags_export(struct loader *ld, struct policy_diags *out)
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
static char *
pstrndup(struct loader *ld, const char *s, size_t len)
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

static char *
pstrdup(struct loader *ld, const char *s)
{
	return pstrndup(ld, s, strlen(s));
}

/* Returns a zeroed array of n elements (NULL for n == 0, or no memory). */
static void *
pcalloc(struct loader *ld, size_t n, size_t size)
{
	void *a;

	if (n == 0)
		return NULL;
	a = calloc(n, size);
	if (a == NULL)
		ld->nomem = 1;
	return a;
}

/* ---------------------------------------------------------------------
 * Stage 1: YAML events to a tree.
 */

static void
ynode_free(struct ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	/* Depth is bounded by YAML_DEPTH_MAX, so recursion is too. */
	for (i = 0; i < n->n; i++)
		ynode_free(n->items[i]);
	free(n->items);
	free(n->text);
	free(n);
}

struct builder {
	struct loader *ld;
	const char *buf; /* the input, for single-quoted scalars */
	size_t len;
	struct ynode *root;
	struct ynode *stack[YAML_DEPTH_MAX]; /* open containers */
	size_t depth;
	size_t skip;       /* open containers being skipped (not built) */
	int deep_reported; /* YAML_DEPTH_MAX reported once */
	int fatal;         /* stop parsing: out of memory */
};

static void
mark_pos(const struct fy_mark *m, unsigned *line, unsigned *column)
{
	*line = 0;
	*column = 0;
	if (m != NULL && m->line >= 0 && m->column >= 0 &&
	    m->line < 0x7fffffff) {
		*line = (unsigned)m->line + 1;
		*column = (unsigned)m->column + 1;
	}
}

static struct ynode *
ynode_new(struct builder *b, enum ykind kind, const struct fy_mark *m)
{
	struct ynode *n;

	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		b->ld->nomem = 1;
		b->fatal = 1;
		return NULL;
	}
	n->kind = kind;
	mark_pos(m, &n->line, &n->column);
	if (kind == Y_SCALAR) {
		n->text = calloc(1, 1);
		if (n->text == NULL) {
			free(n);
			b->ld->nomem = 1;
			b->fatal = 1;
			return NULL;
		}
	}
	return n;
}

static int
push_item(struct builder *b, struct ynode *parent, struct ynode *child)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap == 0 ? 8 : parent->cap * 2;
		struct ynode **items;

		items = reallocarray(parent->items, cap, sizeof(*items));
		if (items == NULL) {
			b->ld->nomem = 1;
			b->fatal = 1;
			return 0;
		}
		parent->items = items;
		parent->cap = cap;
	}
	parent->items[parent->n++] = child;
	return 1;
}

/* Reports a list or mapping over POLICY_ITEMS_MAX, once per container. */
static void
report_overflow(struct builder *b, struct ynode *parent)
{
	if (parent->overflow_reported)
		return;
	parent->overflow_reported = 1;
	diag(b->ld, parent, "more than %d entries in one list or mapping",
	     POLICY_ITEMS_MAX);
}

/*
 * Attaches node to the open container (or makes it the root). Returns 1
 * if the tree took it, 0 if it was refused (reported where needed); the
 * caller then frees it.
 */
static int
attach(struct builder *b, struct ynode *node)
{
	struct ynode *parent;
	size_t i;

	if (b->depth == 0) {
		if (b->root != NULL)
			return 0;
		b->root = node;
		return 1;
	}
	parent = b->stack[b->depth - 1];
	if (parent->kind == Y_SEQ) {
		if (parent->n >= POLICY_ITEMS_MAX) {
			report_overflow(b, parent);
			return 0;
		}
		return push_item(b, parent, node);
	}
	if (parent->seen++ % 2 == 1) {
		/* A value: it takes the place of its key when it has none
		 * of its own (an empty value). */
		if (parent->drop_value)
			return 0;
		if (node->line == 0 && parent->n > 0) {
			node->line = parent->items[parent->n - 1]->line;
			node->column = parent->items[parent->n - 1]->column;
		}
		return push_item(b, parent, node);
	}
	parent->drop_value = 1;
	if (node->bad)
		return 0;
	if (node->kind != Y_SCALAR) {
		diag(b->ld, node, "a mapping key must be a plain string");
		return 0;
	}
	for (i = 0; i < parent->n; i += 2) {
		const struct ynode *k = parent->items[i];
		char nb[SHOW_BUF];

		if (k->len == node->len &&
		    memcmp(k->text, node->text, k->len) == 0) {
			diag(b->ld, node,
			     "duplicate key '%s' (first at line %u)",
			     show(nb, node->text), k->line);
			return 0;
		}
	}
	if (parent->n / 2 >= POLICY_ITEMS_MAX) {
		report_overflow(b, parent);
		return 0;
	}
	if (!push_item(b, parent, node))
		return 0;
	parent->drop_value = 0;
	return 1;
}

/* Copies at most SHOW_MAX bytes of a token's text into buf (SHOW_MAX + 1
 * bytes); for a tag, its handle and suffix as written ("!!str"). */
static void
token_copy(struct fy_token *tok, int is_tag, char *buf)
{
	const char *t = NULL, *suffix = NULL;
	size_t len = 0, slen = 0;

	if (is_tag) {
		t = fy_tag_token_handle(tok, &len);
		suffix = fy_tag_token_suffix(tok, &slen);
	} else {
		t = fy_token_get_text(tok, &len);
	}
	if (t == NULL)
		len = 0;
	if (suffix == NULL)
		slen = 0;
	if (len > SHOW_MAX)
		len = SHOW_MAX;
	if (slen > SHOW_MAX - len)
		slen = SHOW_MAX - len;
	if (len > 0)
		memcpy(buf, t, len);
	if (slen > 0)
		memcpy(buf + len, suffix, slen);
	buf[len + slen] = '\0';
}

/* Refuses anchors and tags: plain YAML only (no aliasing, no typing). */
static void
check_props(struct builder *b, struct fy_token *anchor, struct fy_token *tag,
            const struct ynode *node)
{
	char nb[SHOW_BUF], tb[SHOW_MAX + 1];
	unsigned line, column;

	if (anchor != NULL) {
		token_copy(anchor, 0, tb);
		mark_pos(fy_token_start_mark(anchor), &line, &column);
		if (line == 0) {
			line = node->line;
			column = node->column;
		}
		diag_at(b->ld, line, column,
		        "anchors (&%s) are not allowed: write the value out",
		        show(nb, tb));
	}
	if (tag != NULL) {
		token_copy(tag, 1, tb);
		mark_pos(fy_token_start_mark(tag), &line, &column);
		if (line == 0) {
			line = node->line;
			column = node->column;
		}
		diag_at(b->ld, line, column, "tags (%s) are not allowed",
		        show(nb, tb));
	}
}

static int
is_break(char c)
{
	return c == '\n' || c == '\r';
}

/*
 * Writes the value of a single-quoted scalar whose source (between the
 * quotes) is src[0..len) into out (len + 1 bytes) and returns its length:
 * '' is a quote; a line break with the blanks around it folds to a space,
 * or to one newline per empty line that follows (YAML 1.2, 7.3.2).
 *
 * libfyaml 0.7.12 gets these wrong: fy_token_get_text leaks its buffer on
 * runs of '' and the token iterator mangles them.
 */
static size_t
single_quoted(const char *src, size_t len, char *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		size_t j = i, empty = 0;

		if (src[i] == '\'' && i + 1 < len && src[i + 1] == '\'') {
			out[o++] = '\'';
			i += 2;
			continue;
		}
		while (j < len && (src[j] == ' ' || src[j] == '\t'))
			j++;
		if (j == len || !is_break(src[j])) {
			/* Not blanks before a break: copy one byte. */
			out[o++] = src[i++];
			continue;
		}
		for (;;) {
			if (src[j] == '\r' && j + 1 < len && src[j + 1] == '\n')
				j++;
			j++;
			while (j < len && (src[j] == ' ' || src[j] == '\t'))
				j++;
			if (j == len || !is_break(src[j]))
				break;
			empty++;
		}
		if (empty == 0)
			out[o++] = ' ';
		while (empty-- > 0)
			out[o++] = '\n';
		i = j;
	}
	out[o] = '\0';
	return o;
}

/* Fills a scalar node from its token, refusing what no field accepts. */
static void
scalar_fill(struct builder *b, struct ynode *n, struct fy_token *value)
{
	const struct fy_mark *sm, *em;
	enum fy_scalar_style style;
	char *copy = NULL;
	const char *t;
	size_t len;

	n->plain = 1; /* no token: an empty, null value */
	if (value == NULL)
		return;
	style = fy_token_scalar_style(value);
	n->plain = style == FYSS_PLAIN;
	sm = fy_token_start_mark(value);
	em = fy_token_end_mark(value);
	if (style == FYSS_SINGLE_QUOTED && sm != NULL && em != NULL &&
	    sm->input_pos <= em->input_pos && em->input_pos <= b->len) {
		len = em->input_pos - sm->input_pos;
		copy = malloc(len + 1);
		if (copy == NULL) {
			b->ld->nomem = 1;
			b->fatal = 1;
			return;
		}
		len = single_quoted(b->buf + sm->input_pos, len, copy);
		t = copy;
	} else {
		t = fy_token_get_text(value, &len);
		if (t == NULL)
			return;
	}
	if (len > POLICY_TEXT_MAX) {
		diag(b->ld, n, "text longer than %d bytes", POLICY_TEXT_MAX);
		n->bad = 1;
		goto done;
	}
	if (memchr(t, '\0', len) != NULL) {
		diag(b->ld, n, "a value contains a NUL character");
		n->bad = 1;
		goto done;
	}
	/* An escape ("\ud800") can produce what the file's bytes do not. */
	if (utf8_valid_prefix((const unsigned char *)t, len) != len) {
		diag(b->ld, n, "a value is not valid UTF-8");
		n->bad = 1;
		goto done;
	}
	if (copy == NULL) {
		copy = malloc(len + 1);
		if (copy == NULL) {
			b->ld->nomem = 1;
			b->fatal = 1;
			return;
		}
		memcpy(copy, t, len);
		copy[len] = '\0';
	}
	free(n->text);
	n->text = copy;
	n->len = len;
	copy = NULL;
done:
	free(copy);
}

/* A scalar, an alias or a too-deep container's stand-in. */
static void
take_leaf(struct builder *b, struct ynode *n)
{
	if (n != NULL && !attach(b, n))
		ynode_free(n);
}

static void
on_start(struct builder *b, struct fy_event *ev, enum ykind kind)
{
	struct fy_token *anchor, *tag;
	struct ynode *n;

	if (kind == Y_MAP) {
		anchor = ev->mapping_start.anchor;
		tag = ev->mapping_start.tag;
	} else {
		anchor = ev->sequence_start.anchor;
		tag = ev->sequence_start.tag;
	}
	if (b->skip > 0) {
		b->skip++;
		return;
	}
	if (b->depth == YAML_DEPTH_MAX) {
		/* A stand-in keeps the parent's key/value pairing. */
		n = ynode_new(b, Y_SCALAR, fy_event_start_mark(ev));
		if (n == NULL)
			return;
		n->bad = 1;
		if (!b->deep_reported) {
			b->deep_reported = 1;
			diag(b->ld, n, "nested more than %d levels deep",
			     YAML_DEPTH_MAX);
		}
		take_leaf(b, n);
		b->skip = 1;
		return;
	}
	n = ynode_new(b, kind, fy_event_start_mark(ev));
	if (n == NULL)
		return;
	check_props(b, anchor, tag, n);
	if (!attach(b, n)) {
		ynode_free(n);
		b->skip = 1;
		return;
	}
	b->stack[b->depth++] = n;
}

static void
on_end(struct builder *b)
{
	if (b->skip > 0)
		b->skip--;
	else if (b->depth > 0)
		b->depth--;
}

static void
on_scalar(struct builder *b, struct fy_event *ev)
{
	struct ynode *n;

	if (b->skip > 0)
		return;
	n = ynode_new(b, Y_SCALAR, fy_event_start_mark(ev));
	if (n == NULL)
		return;
	check_props(b, ev->scalar.anchor, ev->scalar.tag, n);
	scalar_fill(b, n, ev->scalar.value);
	take_leaf(b, n);
}

static void
on_alias(struct builder *b, struct fy_event *ev)
{
	char nb[SHOW_BUF], tb[SHOW_MAX + 1];
	struct ynode *n;

	if (b->skip > 0)
		return;
	n = ynode_new(b, Y_SCALAR, fy_event_start_mark(ev));
	if (n == NULL)
		return;
	n->bad = 1;
	tb[0] = '\0';
	if (ev->alias.anchor != NULL)
		token_copy(ev->alias.anchor, 0, tb);
	diag(b->ld, n, "aliases (*%s) are not allowed: write the value out",
	     show(nb, tb));
	take_leaf(b, n);
}

static void
diag_output_none(struct fy_diag *d, void *user, const char *buf, size_t len)
{
	(void)d;
	(void)user;
	(void)buf;
	(void)len;
}

/* A libfyaml event parser whose messages are collected, not printed. */
struct yaml_parser {
	struct fy_diag *fyd;
	struct fy_parser *fyp;
};

static void
parser_close(struct yaml_parser *yp)
{
	if (yp->fyp != NULL)
		fy_parser_destroy(yp->fyp);
	if (yp->fyd != NULL)
		fy_diag_destroy(yp->fyd);
	yp->fyp = NULL;
	yp->fyd = NULL;
}

/* Returns 1, or 0 when out of memory (ld->nomem set). */
static int
parser_open(struct loader *ld, struct yaml_parser *yp, const char *buf,
            size_t len)
{
	struct fy_diag_cfg dcfg;
	struct fy_parse_cfg pcfg;

	memset(yp, 0, sizeof(*yp));
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = diag_output_none;
	dcfg.colorize = false;
	yp->fyd = fy_diag_create(&dcfg);
	if (yp->fyd == NULL)
		goto fail;
	fy_diag_set_collect_errors(yp->fyd, true);
	memset(&pcfg, 0, sizeof(pcfg));
	pcfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG;
	pcfg.diag = yp->fyd;
	yp->fyp = fy_parser_create(&pcfg);
	if (yp->fyp == NULL || fy_parser_set_string(yp->fyp, buf, len) != 0)
		goto fail;
	return 1;
fail:
	parser_close(yp);
	ld->nomem = 1;
	return 0;
}

/* Reports the errors libfyaml collected; at line:column if it has none. */
static void
report_syntax(struct loader *ld, struct yaml_parser *yp, unsigned line,
              unsigned column)
{
	struct fy_diag_error *err;
	void *iter = NULL;
	int any = 0;

	while ((err = fy_diag_errors_iterate(yp->fyd, &iter)) != NULL) {
		unsigned el = 0, ec = 0;

		if (err->line > 0 && err->column > 0) {
			el = (unsigned)err->line;
			ec = (unsigned)err->column;
		}
		diag_at(ld, el, ec, "YAML: %s",
		        err->msg != NULL ? err->msg : "syntax error");
		any = 1;
	}
	if (!any)
		diag_at(ld, line, column, "YAML syntax error");
}

/*
 * The first pass: returns 1 if buf is one YAML document of at most
 * YAML_NODES_MAX nodes; reports why not otherwise.
 *
 * It reads no scalar's text on purpose. libfyaml 0.7.12 leaks a token's
 * unescaped text (fy_token_get_text) when a syntax error follows it, so
 * the pass that reads text, build_tree(), runs only on input known to
 * parse to the end. (Its token iterator avoids the leak but mangles runs
 * of '' escapes, so it is no way out.)
 */
static int
yaml_parses(struct loader *ld, const char *buf, size_t len)
{
	struct yaml_parser yp;
	struct fy_event *ev;
	unsigned line = 0, column = 0, docs = 0;
	size_t nodes = 0;
	int ok = 0;

	if (!parser_open(ld, &yp, buf, len))
		return 0;
	while ((ev = fy_parser_parse(yp.fyp)) != NULL) {
		enum fy_event_type type = ev->type;

		mark_pos(fy_event_start_mark(ev), &line, &column);
		fy_parser_event_free(yp.fyp, ev);
		if (type == FYET_DOCUMENT_START && ++docs > 1) {
			diag_at(ld, line, column,
			        "a policy file holds one YAML document");
			goto done;
		}
		if ((type == FYET_SCALAR || type == FYET_ALIAS ||
		     type == FYET_MAPPING_START ||
		     type == FYET_SEQUENCE_START) &&
		    ++nodes > YAML_NODES_MAX) {
			diag_at(ld, 0, 0,
			        "the policy has more than %u YAML nodes",
			        YAML_NODES_MAX);
			goto done;
		}
	}
	if (fy_parser_get_stream_error(yp.fyp)) {
		report_syntax(ld, &yp, line, column);
		goto done;
	}
	if (docs == 0) {
		diag_at(ld, 0, 0, "the policy file is empty");
		goto done;
	}
	ok = 1;
done:
	parser_close(&yp);
	return ok;
}

/*
 * Parses buf into a tree. Returns the root, or NULL if the YAML is broken
 * or empty (reported) or memory ran out (ld->nomem).
 */
static struct ynode *
build_tree(struct loader *ld, const char *buf, size_t len)
{
	struct yaml_parser yp;
	struct builder b;
	struct fy_event *ev;
	struct ynode *root = NULL;
	unsigned line = 0, column = 0;

	memset(&b, 0, sizeof(b));
	b.ld = ld;
	b.buf = buf;
	b.len = len;
	if (!yaml_parses(ld, buf, len) || !parser_open(ld, &yp, buf, len))
		return NULL;
	while (!b.fatal && (ev = fy_parser_parse(yp.fyp)) != NULL) {
		mark_pos(fy_event_start_mark(ev), &line, &column);
		switch (ev->type) {
		case FYET_MAPPING_START: on_start(&b, ev, Y_MAP); break;
		case FYET_SEQUENCE_START: on_start(&b, ev, Y_SEQ); break;
		case FYET_MAPPING_END:
		case FYET_SEQUENCE_END: on_end(&b); break;
		case FYET_SCALAR: on_scalar(&b, ev); break;
		case FYET_ALIAS: on_alias(&b, ev); break;
		default: break;
		}
		fy_parser_event_free(yp.fyp, ev);
	}
	if (b.fatal || ld->nomem)
		goto done;
	/* Only memory running out can fail a parse the first pass passed. */
	if (fy_parser_get_stream_error(yp.fyp)) {
		report_syntax(ld, &yp, line, column);
		goto done;
	}
	if (b.root == NULL) {
		diag_at(ld, 0, 0, "the policy file is empty");
		goto done;
	}
	root = b.root;
	b.root = NULL;
done:
	ynode_free(b.root);
	parser_close(&yp);
	return root;
}

/* ---------------------------------------------------------------------
 * Reading the tree.
 */

/* YAML's null: an empty plain value, "~" or "null". */
static int
is_null(const struct ynode *n)
{
	return n->kind == Y_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(n->text, "~") == 0 ||
	        strcmp(n->text, "null") == 0 || strcmp(n->text, "Null") == 0 ||
	        strcmp(n->text, "NULL") == 0);
}

/* Returns the value of key in map and its key node in *keyp, or NULL. */
static const struct ynode *
map_get(const struct ynode *map, const char *key, const struct ynode **keyp)
{
	size_t i, len = strlen(key);

	if (keyp != NULL)
		*keyp = NULL;
	if (map == NULL || map->kind != Y_MAP)
		return NULL;
	for (i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i];

		if (k->len == len && memcmp(k->text, key, len) == 0) {
			if (keyp != NULL)
				*keyp = k;
			return map->items[i + 1];
		}
	}
	return NULL;
}

/* Reports every key of map not in allowed (NULL-terminated). */
static void
check_keys(struct loader *ld, const struct ynode *map,
           const char *const *allowed, const char *ctx)
{
	size_t i, j, nallowed = 0;

	while (allowed[nallowed] != NULL)
		nallowed++;
	for (i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i];
		char nb[SHOW_BUF];
		const char *hint;

		for (j = 0; j < nallowed; j++)
			if (strcmp(k->text, allowed[j]) == 0)
				break;
		if (j < nallowed)
			continue;
		hint = suggest(ld, k->text, allowed, nallowed);
		if (hint != NULL)
			diag(ld, k,
			     "unknown key '%s' in %s (did you mean '%s'?)",
			     show(nb, k->text), ctx, hint);
		else
			diag(ld, k, "unknown key '%s' in %s", show(nb, k->text),
			     ctx);
	}
}

/*
 * Returns the scalar value of key in map, or NULL when it is absent or
 * null (reported as missing at `at` if required), not a scalar (reported)
 * or already refused.
 */
static const struct ynode *
get_scalar(struct loader *ld, const struct ynode *map, const char *key,
           const struct ynode *at, const char *ctx, int required)
{
	const struct ynode *v = map_get(map, key, NULL);

	if (v == NULL || is_null(v)) {
		if (required)
			diag(ld, v != NULL ? v : at, "%s has no %s", ctx, key);
		return NULL;
	}
	if (v->bad)
		return NULL;
	if (v->kind != Y_SCALAR) {
		diag(ld, v, "%s: %s must be a single value, not a %s", ctx, key,
		     v->kind == Y_MAP ? "mapping" : "list");
		return NULL;
	}
	return v;
}

/* As get_scalar, for free text: returns a copy owned by the policy. */
static char *
get_text(struct loader *ld, const struct ynode *map, const char *key,
         const struct ynode *at, const char *ctx, int required)
{
	const struct ynode *v = get_scalar(ld, map, key, at, ctx, required);

	return v != NULL ? pstrndup(ld, v->text, v->len) : NULL;
}

/* Booleans are `true` or `false`, unquoted; absent is false. */
static int
get_bool(struct loader *ld, const struct ynode *map, const char *key,
         const char *ctx)
{
	const struct ynode *v = get_scalar(ld, map, key, NULL, ctx, 0);

	if (v == NULL)
		return 0;
	if (v->plain && strcmp(v->text, "true") == 0)
		return 1;
	if (!v->plain || strcmp(v->text, "false") != 0)
		diag(ld, v, "%s: %s must be true or false", ctx, key);
	return 0;
}

/* Returns the index of word in words (NULL-terminated), or -1. */
static int
word_index(const char *const *words, const char *word)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(words[i], word) == 0)
			return i;
	return -1;
}

/*
 * A value that is one of words: returns its index, dflt when absent, -1
 * when invalid (reported, listing the choices).
 */
static int
get_choice(struct loader *ld, const struct ynode *map, const char *key,
           const char *ctx, const char *const *words, int dflt)
{
	const struct ynode *raw = map_get(map, key, NULL);
	const struct ynode *v = get_scalar(ld, map, key, NULL, ctx, 0);
	char nb[SHOW_BUF], list[256];
	size_t used = 0;
	int i;

	if (v == NULL)
		return raw == NULL || is_null(raw) ? dflt : -1;
	i = word_index(words, v->text);
	if (i >= 0)
		return i;
	list[0] = '\0';
	for (i = 0; words[i] != NULL; i++) {
		int w = snprintf(list + used, sizeof(list) - used, "%s%s",
		                 i > 0 ? ", " : "", words[i]);

		if (w < 0 || (size_t)w >= sizeof(list) - used)
			break;
		used += (size_t)w;
	}
	diag(ld, v, "%s: unknown %s '%s' (one of: %s)", ctx, key,
	     show(nb, v->text), list);
	return -1;
}

/* Ids match [a-z][a-z0-9_-]{0,63} (docs/policy.md). */
static int
is_id(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > POLICY_NAME_MAX || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 1; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static void
check_id(struct loader *ld, const struct ynode *n, const char *what)
{
	char nb[SHOW_BUF];

	if (!n->bad && !is_id(n->text, n->len))
		diag(ld, n,
		     "%s id '%s' is not valid: use a-z, 0-9, '_' and '-', "
		     "starting with a letter, at most %d bytes",
		     what, show(nb, n->text), POLICY_NAME_MAX);
}

/*
 * The items of a list value: a sequence, or (when one is not NULL) a
 * single scalar standing for a list of one, kept in *one. Returns the count and
 * sets *items, or returns 0 with *items NULL after reporting a wrong type.
 */
static size_t
list_items(struct loader *ld, const struct ynode *v, const char *ctx,
           const char *key, const struct ynode **one,
           const struct ynode *const **items)
{
	*items = NULL;
	if (v->kind == Y_SEQ) {
		*items = (const struct ynode *const *)v->items;
		return v->n;
	}
	if (v->kind == Y_SCALAR && one != NULL) {
		*one = v;
		*items = one;
		return 1;
	}
	if (!v->bad)
		diag(ld, v, "%s: %s must be a list", ctx, key);
	return 0;
}

/*
 * A list of free texts (a purpose's categories of data subjects, the
 * security measures; GDPR Art. 30(1)(c), (g)) into *out, copies owned by
 * the policy; *n is the count. A single text stands for a list of one.
 */
static void
take_texts(struct loader *ld, const struct ynode *v, const char *ctx,
           const char *key, char ***out, size_t *n)
{
	const struct ynode *one = NULL;
	const struct ynode *const *items;
	size_t count, i;

	*out = NULL;
	*n = 0;
	if (v == NULL || is_null(v))
		return;
	count = list_items(ld, v, ctx, key, &one, &items);
	if (v->kind == Y_SEQ && count == 0)
		diag(ld, v, "%s: %s must not be empty", ctx, key);
	if (count == 0 || (*out = pcalloc(ld, count, sizeof(char *))) == NULL)
		return;
	for (i = 0; i < count; i++) {
		const struct ynode *it = items[i];

		if (it->bad)
			continue;
		if (it->kind != Y_SCALAR || it->len == 0) {
			diag(ld, it, "%s: each of %s is a text", ctx, key);
			continue;
		}
		if (((*out)[*n] = pstrndup(ld, it->text, it->len)) != NULL)
			(*n)++;
	}
}

/* ---------------------------------------------------------------------
 * Names and references.
 */

static int
name_ref_cmp(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Builds a sorted index of n names (got through name_at). */
static void
index_build(struct loader *ld, struct name_index *ix, size_t n,
            const char *(*name_at)(const struct policy *, size_t))
{
	size_t i, k = 0;

	free(ix->refs);
	ix->refs = pcalloc(ld, n, sizeof(*ix->refs));
	ix->n = 0;
	if (ix->refs == NULL)
		return;
	for (i = 0; i < n; i++) {
		const char *name = name_at(ld->p, i);

		if (name == NULL)
			continue;
		ix->refs[k].name = name;
		ix->refs[k].idx = i;
		k++;
	}
	ix->n = k;
	qsort(ix->refs, k, sizeof(*ix->refs), name_ref_cmp);
}

static long
index_find(const struct name_index *ix, const char *name)
{
	struct name_ref key = {name, 0}, *hit;

	if (ix->n == 0)
		return -1;
	hit = bsearch(&key, ix->refs, ix->n, sizeof(*ix->refs), name_ref_cmp);
	return hit != NULL ? (long)hit->idx : -1;
}

/* Suggests the closest name of the index, for an undefined reference. */
static const char *
index_suggest(struct loader *ld, const struct name_index *ix, const char *w)
{
	struct closest c;
	size_t i;

	closest_init(&c, w);
	for (i = 0; i < ix->n; i++)
		closest_try(ld, &c, ix->refs[i].name);
	return closest_result(&c);
}

static const char *
category_name(const struct policy *p, size_t i)
{
	return p->categories[i].id;
}

static const char *
purpose_name(const struct policy *p, size_t i)
{
	return p->purposes[i].id;
}

static const char *
event_name(const struct policy *p, size_t i)
{
	return p->events[i].id;
}

/*
 * Resolves the list value v (names of noun, in index ix) of key in ctx.
 * Returns the count resolved and a new array in *refs (caller frees);
 * reports undefined names and names listed twice.
 */
static size_t
resolve_list(struct loader *ld, const struct ynode *v, const char *key,
             const char *ctx, const char *noun, const struct name_index *ix,
             struct ref **refs)
{
	const struct ynode *const *items;
	size_t n, i, j, k = 0;

	*refs = NULL;
	n = list_items(ld, v, ctx, key, NULL, &items);
	if (n == 0)
		return 0;
	*refs = pcalloc(ld, n, sizeof(**refs));
	if (*refs == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		const struct ynode *it = items[i];
		char nb[SHOW_BUF];
		const char *hint;
		long idx;

		if (it->bad)
			continue;
		if (it->kind != Y_SCALAR || is_null(it)) {
			diag(ld, it, "%s: %s must list %s ids", ctx, key, noun);
			continue;
		}
		idx = index_find(ix, it->text);
		if (idx < 0) {
			hint = index_suggest(ld, ix, it->text);
			if (hint != NULL)
				diag(ld, it,
				     "undefined %s '%s' in %s (did you mean "
				     "'%s'?)",
				     noun, show(nb, it->text), ctx, hint);
			else
				diag(ld, it, "undefined %s '%s' in %s", noun,
				     show(nb, it->text), ctx);
			continue;
		}
		for (j = 0; j < k; j++)
			if ((*refs)[j].idx == (size_t)idx)
				break;
		if (j < k) {
			diag(ld, it, "%s: %s '%s' is listed twice in %s", ctx,
			     noun, show(nb, it->text), key);
			continue;
		}
		(*refs)[k].idx = (size_t)idx;
		(*refs)[k].at = it;
		k++;
	}
	return k;
}

/* Copies the indexes of refs into a new array owned by the policy. */
static size_t *
ref_indexes(struct loader *ld, const struct ref *refs, size_t n)
{
	size_t *out = pcalloc(ld, n, sizeof(*out)), i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		out[i] = refs[i].idx;
	return out;
}

/*
 * Resolves the list of key in map into a new index array (*out, *nout).
 * A required list must be present and not empty. Returns the refs (the
 * caller frees them) for checks that need the position of each name.
 */
static struct ref *
take_refs(struct loader *ld, const struct ynode *map, const char *key,
          const struct ynode *at, const char *ctx, const char *noun,
          const struct name_index *ix, int required, size_t **out, size_t *nout,
          size_t *nrefs)
{
	const struct ynode *v = map_get(map, key, NULL);
	struct ref *refs = NULL;
	size_t n;

	*out = NULL;
	*nout = 0;
	*nrefs = 0;
	if (v == NULL || is_null(v)) {
		if (required)
			diag(ld, v != NULL ? v : at, "%s has no %s", ctx, key);
		return NULL;
	}
	if (v->kind == Y_SEQ && v->n == 0 && required)
		diag(ld, v, "%s: %s must not be empty", ctx, key);
	n = resolve_list(ld, v, key, ctx, noun, ix, &refs);
	if (n > 0) {
		*out = ref_indexes(ld, refs, n);
		if (*out != NULL)
			*nout = n;
	}
	*nrefs = n;
	return refs;
}

/* ---------------------------------------------------------------------
 * Countries (ISO 3166-1 alpha-2, all 249 assigned codes).
 */

static const char iso_countries[] =
        "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
        "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
        "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
        "DE DJ DK DM DO DZ "
        "EC EE EG EH ER ES ET "
        "FI FJ FK FM FO FR "
        "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
        "HK HM HN HR HT HU "
        "ID IE IL IM IN IO IQ IR IS IT "
        "JE JM JO JP "
        "KE KG KH KI KM KN KP KR KW KY KZ "
        "LA LB LC LI LK LR LS LT LU LV LY "
        "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY "
        "MZ "
        "NA NC NE NF NG NI NL NO NP NR NU NZ "
        "OM "
        "PA PE PF PG PH PK PL PM PN PR PS PT PW PY "
        "QA "
        "RE RO RS RU RW "
        "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
        "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ "
        "UA UG UM US UY UZ "
        "VA VC VE VG VI VN VU "
        "WF WS "
        "YE YT "
        "ZA ZM ZW ";

/* The 27 EU member states and the EEA's Iceland, Liechtenstein, Norway. */
#define EU_COUNTRIES                                                           \
	"AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL "   \
	"PT RO SE SI SK "
static const char eu_countries[] = EU_COUNTRIES;
static const char eea_countries[] = EU_COUNTRIES "IS LI NO ";

/* Returns 1 if code is two uppercase letters listed in list. */
static int
country_listed(const char *list, const char *code)
{
	const char *p;

	if (code == NULL || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' ||
	    code[1] > 'Z' || code[2] != '\0')
		return 0;
	for (p = list; p[0] != '\0'; p += 3)
		if (p[0] == code[0] && p[1] == code[1])
			return 1;
	return 0;
}

int
policy_country_in_eea(const char *country)
{
	return country_listed(eea_countries, country);
}

int
policy_country_in_eu(const char *country)
{
	return country_listed(eu_countries, country);
}

/*
 * Reads a country code into out (3 bytes). Returns 1 if valid; reports
 * and returns 0 otherwise.
 */
static int
take_country(struct loader *ld, const struct ynode *v, const char *ctx,
             const char *key, char out[3])
{
	char nb[SHOW_BUF];

	out[0] = '\0';
	if (country_listed(iso_countries, v->text)) {
		memcpy(out, v->text, 3);
		return 1;
	}
	/* The two codes people write that ISO 3166 does not have. */
	if (strcmp(v->text, "UK") == 0)
		diag(ld, v, "%s: %s 'UK' is not an ISO 3166 code: use GB", ctx,
		     key);
	else if (strcmp(v->text, "EL") == 0)
		diag(ld, v, "%s: %s 'EL' is not an ISO 3166 code: use GR", ctx,
		     key);
	else
		diag(ld, v,
		     "%s: %s '%s' is not an ISO 3166 alpha-2 country code "
		     "(two capital letters, e.g. DK)",
		     ctx, key, show(nb, v->text));
	return 0;
}

/* ---------------------------------------------------------------------
 * Stage 2: the sections.
 */

static const char *const top_keys[] = {
        "vaern",     "controller", "events",           "categories",
        "purposes",  "retention",  "recipients",       "transfers",
        "roles",     "rights",     "request_channels", "security",
        "incidents", "sources",    "traffic",          NULL};

static const char *const controller_keys[] = {"id",
                                              "name",
                                              "country",
                                              "registration",
                                              "address",
                                              "email",
                                              "phone",
                                              "complaints",
                                              "authority",
                                              "policy_version",
                                              "financial_year_end",
                                              "language",
                                              "dpo",
                                              "representative",
                                              NULL};

static const char *const authority_keys[] = {"name", "url", NULL};

static const char *const dpo_keys[] = {"name", "email", "phone", "address",
                                       NULL};

static const char *const category_keys[] = {
        "description", "special",      "identifier", "format", "source",
        "from",        "about_others", "store",      NULL};

static const char *const purpose_keys[] = {"description",
                                           "basis",
                                           "legitimate_interests",
                                           "art9",
                                           "categories",
                                           "mandatory",
                                           "consent",
                                           "direct_marketing",
                                           "service_message",
                                           "requires_clearance",
                                           "while_restricted",
                                           "cookie",
                                           "card_expiry_warning",
                                           "subjects",
                                           NULL};

static const char *const consent_keys[] = {"sources", "text", NULL};

static const char *const event_keys[] = {"description",      "ends",
                                         "known_in_advance", "on_consent",
                                         "on_withdrawal",    NULL};

static const char *const retention_keys[] = {
        "clause", "categories", "consents",         "anchor",    "period",
        "action", "keep",       "legal_obligation", "waits_for", NULL};

/* In the order of enum generalise. */
static const char *const generalise_names[] = {"as_is", "year", "age_band",
                                               "area",  "drop", NULL};

static const char *const recipient_keys[] = {
        "name",    "type",      "agreement", "needs",      "demand",
        "country", "safeguard", "purposes",  "categories", NULL};

static const char *const transfer_keys[] = {"country", "safeguard", NULL};

static const char *const traffic_keys[] = {"purpose", "recipient", "period",
                                           "ingest", NULL};

static const char *const role_keys[] = {"description", "purposes",  "cleared",
                                        "audit",       "incidents", NULL};

/* Art. 9 kinds; the last two are Danish-law sensitive data. */
static const char *const special_kinds[] = {"health",
                                            "genetic",
                                            "biometric",
                                            "racial_or_ethnic_origin",
                                            "political_opinions",
                                            "religious_beliefs",
                                            "trade_union",
                                            "sex_life",
                                            "family_relations",
                                            "social_problems",
                                            NULL};

/* In the order of enum value_format, identifier left out: it is implied
 * by `identifier`. */
static const char *const format_names[] = {"text", "date", "",
                                           "card_last4_expiry", NULL};

/* In the order of enum data_source. */
static const char *const source_names[] = {"subject", "automatic",
                                           "third_party", "controller", NULL};

/* In the order of enum retention_action. */
static const char *const action_names[] = {"delete", "anonymise", NULL};

/* In the order of enum recipient_type. */
static const char *const recipient_types[] = {"processor", "third_party",
                                              "authority", NULL};

/* In the order of enum recipient_condition, the processor's left out. */
static const char *const needs_names[] = {"",
                                          "consent",
                                          "prior_agreement",
                                          "consent_or_prior_agreement",
                                          "legal_demand",
                                          NULL};

/* In the order of enum rights_bit. */
static const char *const right_names[] = {
        "access",      "rectification", "erasure", "restriction",
        "portability", "objection",     NULL};

static const char *const language_names[] = {"da", "sv", "en", NULL};

/* In the order of policy.request_channels (rights_type of src/rights). */
const char *const policy_request_type_names[POLICY_REQUEST_TYPES + 1] = {
        "access",      "portability", "rectification",      "erasure",
        "restriction", "objection",   "consent_withdrawal", NULL};

/* The bits of policy.request_channels, in POLICY_CHANNELS_TEXT order. */
static const char *const channel_names[] = {"email", "letter",  "phone",
                                            "web",   "portal",  "in_person",
                                            "api",   "opendsr", NULL};

/* The section of the root named key: a mapping, or NULL (reported when
 * required, or when it is not a mapping). */
static const struct ynode *
get_section(struct loader *ld, const struct ynode *root, const char *key,
            int required)
{
	const struct ynode *v = map_get(root, key, NULL);

	if (v == NULL || is_null(v)) {
		if (required)
			diag(ld, v != NULL ? v : root, "the policy has no %s",
			     key);
		return NULL;
	}
	if (v->kind != Y_MAP) {
		if (!v->bad)
			diag(ld, v, "%s must be a mapping of ids", key);
		return NULL;
	}
	return v;
}

/* "MM-DD", a real day in a year that is not a leap year. */
static int
parse_month_day(const char *s, int *month, int *day)
{
	int m, d;

	if (strlen(s) != 5 || s[2] != '-' || s[0] < '0' || s[0] > '9' ||
	    s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '9' ||
	    s[4] < '0' || s[4] > '9')
		return 0;
	m = (s[0] - '0') * 10 + (s[1] - '0');
	d = (s[3] - '0') * 10 + (s[4] - '0');
	if (m < 1 || m > 12 || d < 1)
		return 0;
	/* Feb 29 is not the end of a financial year every year. */
	if (d > cal_days_in_month(2023, m))
		return 0;
	*month = m;
	*day = d;
	return 1;
}

static void
compile_controller(struct loader *ld, const struct ynode *root)
{
	struct policy_controller *c = &ld->p->controller;
	const struct ynode *at, *map, *v, *auth, *raw;
	const char *ctx = "controller";
	struct vaern_msg msg;
	char norm[ID_NORM_MAX];
	int country_ok = 0, i;

	map = map_get(root, "controller", &at);
	if (map == NULL || is_null(map)) {
		diag(ld, map != NULL ? map : root,
		     "the policy has no controller");
		return;
	}
	if (map->kind != Y_MAP) {
		if (!map->bad)
			diag(ld, map, "controller must be a mapping");
		return;
	}
	check_keys(ld, map, controller_keys, ctx);

	v = get_scalar(ld, map, "id", at, ctx, 1);
	if (v != NULL) {
		check_id(ld, v, "controller");
		c->id = pstrndup(ld, v->text, v->len);
	}
	c->name = get_text(ld, map, "name", at, ctx, 1);

	v = get_scalar(ld, map, "country", at, ctx, 1);
	if (v != NULL)
		country_ok = take_country(ld, v, ctx, "country", c->country);

	/* Registration: CVR for DK, organisationsnummer for SE. */
	raw = map_get(map, "registration", NULL);
	v = get_scalar(ld, map, "registration", NULL, ctx, 0);
	if (country_ok &&
	    (strcmp(c->country, "DK") == 0 || strcmp(c->country, "SE") == 0)) {
		enum id_type type = c->country[0] == 'D' ? ID_CVR : ID_ORGNR;

		c->registration_type = type;
		if (raw == NULL || is_null(raw))
			diag(ld, raw != NULL ? raw : at,
			     "controller has no registration (the %s number "
			     "is required for %s)",
			     type == ID_CVR ? "CVR" : "organisationsnummer",
			     c->country);
		if (v != NULL) {
			memset(&msg, 0, sizeof(msg));
			if (id_normalise(type, v->text, c->country, 0, norm,
			                 sizeof(norm), &msg) != VAERN_OK)
				diag(ld, v, "registration: %s",
				     msg.text[0] != '\0'
				             ? msg.text
				             : (type == ID_CVR ? "not a valid "
				                                 "CVR number"
				                               : "not a valid "
				                                 "organisations"
				                                 "nummer"));
			else
				c->registration = pstrdup(ld, norm);
		}
	} else if (v != NULL) {
		c->registration_type = ID_OTHER;
		c->registration = pstrndup(ld, v->text, v->len);
	}

	c->address = get_text(ld, map, "address", at, ctx, 0);
	c->phone = get_text(ld, map, "phone", at, ctx, 0);
	c->complaints = get_text(ld, map, "complaints", at, ctx, 0);

	v = get_scalar(ld, map, "email", at, ctx, 0);
	if (v != NULL) {
		memset(&msg, 0, sizeof(msg));
		if (id_normalise(ID_EMAIL, v->text, NULL, 0, norm, sizeof(norm),
		                 &msg) != VAERN_OK)
			diag(ld, v, "controller: email: %s",
			     msg.text[0] != '\0'
			             ? msg.text
			             : "not a valid e-mail address");
		else
			c->email = pstrdup(ld, norm);
	}

	/* GDPR Art. 13(1)(d): the supervisory authority is named. */
	auth = map_get(map, "authority", NULL);
	if (auth == NULL || is_null(auth)) {
		diag(ld, auth != NULL ? auth : at,
		     "controller has no authority");
	} else if (auth->kind != Y_MAP) {
		if (!auth->bad)
			diag(ld, auth,
			     "controller: authority must be a "
			     "mapping (name, url)");
	} else {
		check_keys(ld, auth, authority_keys, "controller.authority");
		c->authority_name = get_text(ld, auth, "name", auth,
		                             "controller.authority", 1);
		c->authority_url = get_text(ld, auth, "url", auth,
		                            "controller.authority", 0);
	}

	/* GDPR Art. 13(1)(b), 30(1)(a): the DPO's contact, where one is
	 * designated; the representative (Art. 27). */
	v = map_get(map, "dpo", NULL);
	if (v != NULL && !is_null(v) && !v->bad) {
		if (v->kind != Y_MAP) {
			diag(ld, v,
			     "controller: dpo must be a mapping (name, email, "
			     "phone, address)");
		} else {
			check_keys(ld, v, dpo_keys, "controller.dpo");
			c->dpo_name =
			        get_text(ld, v, "name", v, "controller.dpo", 0);
			c->dpo_email = get_text(ld, v, "email", v,
			                        "controller.dpo", 0);
			c->dpo_phone = get_text(ld, v, "phone", v,
			                        "controller.dpo", 0);
			c->dpo_address = get_text(ld, v, "address", v,
			                          "controller.dpo", 0);
			if (c->dpo_email == NULL && c->dpo_phone == NULL &&
			    c->dpo_address == NULL)
				diag(ld, v,
				     "controller.dpo needs a contact (email, "
				     "phone or address)");
		}
	}
	c->representative = get_text(ld, map, "representative", at, ctx, 0);

	/* AURA-VER-1: the policy carries its version date. */
	v = get_scalar(ld, map, "policy_version", at, ctx, 1);
	if (v != NULL) {
		memset(&msg, 0, sizeof(msg));
		if (cal_parse_date(v->text, &c->policy_version, &msg) !=
		    VAERN_OK)
			diag(ld, v, "controller: policy_version: %s",
			     msg.text[0] != '\0' ? msg.text
			                         : "not a date (YYYY-MM-DD)");
	}

	c->fy_end_month = 12;
	c->fy_end_day = 31;
	v = get_scalar(ld, map, "financial_year_end", at, ctx, 0);
	if (v != NULL &&
	    !parse_month_day(v->text, &c->fy_end_month, &c->fy_end_day))
		diag(ld, v,
		     "controller: financial_year_end must be a day MM-DD "
		     "of every year (e.g. 12-31; not 02-29)");

	i = get_choice(ld, map, "language", ctx, language_names, -1);
	if (i >= 0)
		memcpy(c->language, language_names[i], 3);
	else if (strcmp(c->country, "DK") == 0)
		memcpy(c->language, "da", 3);
	else if (strcmp(c->country, "SE") == 0)
		memcpy(c->language, "sv", 3);
	else
		memcpy(c->language, "en", 3);
}

/*
 * The common start of a section of named entries (categories, purposes,
 * retention, recipients, roles, events): allocates one struct of size
 * elem per key into *array, and names each from its key: the char *id at
 * offset id_off and, when line_off is not NO_POS, the unsigned line and
 * column at line_off and col_off. *count is the number named. Returns the
 * section, or NULL if it is absent or the allocation failed (nothing
 * named then).
 */
#define NO_POS ((size_t)-1)

static const struct ynode *
name_entries(struct loader *ld, const struct ynode *root, const char *section,
             int required, const char *kind, size_t elem, size_t id_off,
             size_t line_off, size_t col_off, void **array, size_t *count)
{
	const struct ynode *sec = get_section(ld, root, section, required);
	char *base;

	*array = NULL;
	*count = 0;
	if (sec == NULL)
		return NULL;
	if ((base = pcalloc(ld, sec->n / 2, elem)) == NULL)
		return NULL;
	*array = base;
	for (size_t i = 0; i + 1 < sec->n; i += 2) {
		const struct ynode *k = sec->items[i];
		char *e = base + (*count)++ * elem;
		char *id = pstrndup(ld, k->text, k->len);

		memcpy(e + id_off, &id, sizeof(id));
		if (line_off != NO_POS) {
			memcpy(e + line_off, &k->line, sizeof(unsigned));
			memcpy(e + col_off, &k->column, sizeof(unsigned));
		}
		check_id(ld, k, kind);
	}
	return sec;
}

#define NAME_ENTRIES(ld, root, section, required, kind, type, arr, n)          \
	name_entries((ld), (root), (section), (required), (kind),              \
	             sizeof(type), offsetof(type, id), offsetof(type, line),   \
	             offsetof(type, column), (void **)&(arr), &(n))

/*
 * `ends: S` of event k (value v): S is the event that starts the state k
 * ends. Resolved once every event is named, so S may come later in the
 * file. A start is not itself an end, so states do not chain.
 */
static void
resolve_ends(struct loader *ld, const struct ynode *k, const struct ynode *v,
             struct policy_event *e)
{
	const struct ynode *sv;
	char ctx[CTX_MAX], nb[SHOW_BUF];
	const char *hint;
	long s;

	snprintf(ctx, sizeof(ctx), "event '%s'", show(nb, k->text));
	sv = get_scalar(ld, v, "ends", k, ctx, 0);
	if (sv == NULL)
		return;
	s = index_find(&ld->events, sv->text);
	if (s < 0) {
		hint = index_suggest(ld, &ld->events, sv->text);
		if (hint != NULL)
			diag(ld, sv,
			     "%s: ends undefined event '%s' (did you mean "
			     "'%s'?)",
			     ctx, show(nb, sv->text), hint);
		else
			diag(ld, sv,
			     "%s: ends undefined event '%s' (ends names the "
			     "event that starts the state, e.g. "
			     "relationship_start)",
			     ctx, show(nb, sv->text));
		return;
	}
	if (&ld->p->events[s] == e) {
		diag(ld, sv, "%s cannot end itself", ctx);
		return;
	}
	e->ends = s;
}

static const char *const source_keys[] = {"name", "kind", NULL};

/*
 * `sources:` (TEL-CAT-3, GDPR-20): the named places facts come from, each
 * {name, kind}; a fact's source is one of them (or its category's kind),
 * so no caller's free text is stored as a source.
 */
static void
compile_sources(struct loader *ld, const struct ynode *root)
{
	struct policy *p = ld->p;
	const struct ynode *sec =
	        NAME_ENTRIES(ld, root, "sources", 0, "source",
	                     struct policy_source, p->sources, p->nsources);

	if (sec == NULL)
		return;
	for (size_t i = 0; i + 1 < sec->n; i += 2) {
		const struct ynode *k = sec->items[i], *v = sec->items[i + 1];
		struct policy_source *s = &p->sources[i / 2];
		char ctx[CTX_MAX], nb[SHOW_BUF];
		int kind;

		snprintf(ctx, sizeof(ctx), "source '%s'", show(nb, k->text));
		if (v->bad || v->kind != Y_MAP) {
			if (!v->bad)
				diag(ld, v, "%s is a mapping {name, kind}",
				     ctx);
			continue;
		}
		check_keys(ld, v, source_keys, ctx);
		s->name = get_text(ld, v, "name", k, ctx, 1);
		kind = get_choice(ld, v, "kind", ctx, source_names, -1);
		if (kind < 0 && map_get(v, "kind", NULL) == NULL)
			diag(ld, k,
			     "%s has no kind (subject, automatic, "
			     "third_party or controller)",
			     ctx);
		s->kind = kind >= 0 ? (enum data_source)kind : SOURCE_SUBJECT;
	}
}

const struct policy_source *
policy_source_find(const struct policy *p, const char *id)
{
	for (size_t i = 0; i < p->nsources; i++)
		if (strcmp(p->sources[i].id, id) == 0)
			return &p->sources[i];
	/* By its name too ("Krak (118.dk)"), as the policy spells it. */
	for (size_t i = 0; i < p->nsources; i++)
		if (p->sources[i].name != NULL &&
		    strcmp(p->sources[i].name, id) == 0)
			return &p->sources[i];
	return NULL;
}

const char *
policy_source_kind_name(enum data_source kind)
{
	if ((unsigned)kind < sizeof(source_names) / sizeof(source_names[0]) - 1)
		return source_names[kind];
	return "subject";
}

int
policy_source_kind(const struct policy *p, const struct policy_category *c,
                   const char *source, const struct policy_source **out)
{
	const struct policy_source *s = policy_source_find(p, source);
	int k;

	*out = s;
	if (s != NULL)
		return (int)s->kind;
	if ((k = word_index(source_names, source)) >= 0)
		return k;
	if (c->source_party != NULL && strcmp(source, c->source_party) == 0)
		return SOURCE_THIRD_PARTY;
	return -1;
}

static void
compile_events(struct loader *ld, const struct ynode *root)
{
	struct policy *p = ld->p;
	const struct ynode *sec =
	        NAME_ENTRIES(ld, root, "events", 0, "event",
	                     struct policy_event, p->events, p->nevents);
	size_t i;

	if (sec == NULL)
		return;
	for (i = 0; i < p->nevents; i++) {
		p->events[i].ends = -1;
		p->events[i].on_consent = -1;
		p->events[i].on_withdrawal = -1;
	}
	for (i = 0; i + 1 < sec->n; i += 2) {
		const struct ynode *k = sec->items[i], *v = sec->items[i + 1];
		struct policy_event *e = &p->events[i / 2];
		char ctx[CTX_MAX], nb[SHOW_BUF];

		if (strcmp(k->text, ANCHOR_COLLECTED) == 0 ||
		    strcmp(k->text, ANCHOR_FINANCIAL_YEAR_END) == 0)
			diag(ld, k,
			     "event '%s' is a built-in anchor: choose "
			     "another id",
			     show(nb, k->text));
		if (v->bad || is_null(v))
			continue;
		if (v->kind == Y_SCALAR) {
			e->description = pstrndup(ld, v->text, v->len);
			continue;
		}
		if (v->kind != Y_MAP) {
			diag(ld, v,
			     "event '%s' must have a description (text) or be "
			     "a mapping (description, ends)",
			     show(nb, k->text));
			continue;
		}
		snprintf(ctx, sizeof(ctx), "event '%s'", show(nb, k->text));
		check_keys(ld, v, event_keys, ctx);
		e->description = get_text(ld, v, "description", k, ctx, 0);
		/* AOPT-CUST-1, CEK-RET-5: dated ahead only when declared. */
		e->known_in_advance = get_bool(ld, v, "known_in_advance", ctx);
	}
	index_build(ld, &ld->events, p->nevents, event_name);

	/* CEK-RET-1, AOPT-CUST-1: an end event names the start it ends. */
	for (i = 0; i + 1 < sec->n; i += 2)
		if (sec->items[i + 1]->kind == Y_MAP && !sec->items[i + 1]->bad)
			resolve_ends(ld, sec->items[i], sec->items[i + 1],
			             &p->events[i / 2]);
	for (i = 0; i + 1 < sec->n; i += 2) {
		const struct policy_event *e = &p->events[i / 2];
		char nb[SHOW_BUF], sb[SHOW_BUF];

		if (e->ends >= 0 && p->events[e->ends].ends >= 0)
			diag(ld, map_get(sec->items[i + 1], "ends", NULL),
			     "event '%s' ends '%s', which itself ends a state: "
			     "ends must name the event that starts one",
			     show(nb, sec->items[i]->text),
			     show(sb, p->events[e->ends].id));
	}
}

/*
 * `on_consent: P` / `on_withdrawal: P` of one event: P is a purpose that
 * records consent. Returns its index, or -1 (absent or reported).
 */
static long
event_purpose(struct loader *ld, const struct ynode *k, const struct ynode *v,
              const char *key)
{
	const struct ynode *sv;
	char ctx[CTX_MAX], nb[SHOW_BUF];
	long pi;

	snprintf(ctx, sizeof(ctx), "event '%s'", show(nb, k->text));
	sv = get_scalar(ld, v, key, k, ctx, 0);
	if (sv == NULL)
		return -1;
	pi = index_find(&ld->purposes, sv->text);
	if (pi < 0) {
		diag(ld, sv, "%s: %s names undefined purpose '%s'", ctx, key,
		     show(nb, sv->text));
		return -1;
	}
	if (ld->p->purposes[pi].consent_sources == NULL) {
		diag(ld, sv,
		     "%s: %s: purpose '%s' records no consent (it needs "
		     "consent.sources)",
		     ctx, key, show(nb, sv->text));
		return -1;
	}
	return pi;
}

/* SHOP-MKT-1: the events a consent or its withdrawal records. */
static void
compile_event_links(struct loader *ld, const struct ynode *root)
{
	const struct ynode *sec = map_get(root, "events", NULL);
	struct policy *p = ld->p;
	size_t i;

	if (sec == NULL || sec->kind != Y_MAP || p->events == NULL)
		return;
	for (i = 0; i + 1 < sec->n && i / 2 < p->nevents; i += 2) {
		const struct ynode *k = sec->items[i], *v = sec->items[i + 1];

		if (v->bad || v->kind != Y_MAP)
			continue;
		p->events[i / 2].on_consent =
		        event_purpose(ld, k, v, "on_consent");
		p->events[i / 2].on_withdrawal =
		        event_purpose(ld, k, v, "on_withdrawal");
	}
}

static void
compile_category(struct loader *ld, const struct ynode *k,
                 const struct ynode *v, struct policy_category *c)
{
	const struct ynode *sv;
	char ctx[CTX_MAX], nb[SHOW_BUF];
	int i;

	snprintf(ctx, sizeof(ctx), "category '%s'", show(nb, k->text));
	/* An empty category (`address:`) has no attributes to give. */
	if (v->bad || is_null(v))
		return;
	if (v->kind != Y_MAP) {
		diag(ld, v, "%s must be a mapping ({} for none)", ctx);
		return;
	}
	check_keys(ld, v, category_keys, ctx);
	c->description = get_text(ld, v, "description", k, ctx, 0);

	sv = get_scalar(ld, v, "special", k, ctx, 0);
	if (sv != NULL) {
		i = word_index(special_kinds, sv->text);
		if (i < 0)
			diag(ld, sv,
			     "%s: special '%s' is not an Art. 9 kind (health, "
			     "genetic, biometric, racial_or_ethnic_origin, "
			     "political_opinions, religious_beliefs, "
			     "trade_union, sex_life, family_relations, "
			     "social_problems)",
			     ctx, show(nb, sv->text));
		else {
			c->special = 1;
			c->special_kind = pstrdup(ld, special_kinds[i]);
		}
	}

	c->identifier = ID_NONE;
	sv = get_scalar(ld, v, "identifier", k, ctx, 0);
	if (sv != NULL) {
		enum id_type t = id_type_from_name(sv->text);

		if (t == ID_CARD)
			diag(ld, sv,
			     "identifier: card is refused: vaern never stores "
			     "a full card number (SHOP-PAY-1)");
		else if (t == ID_NONE)
			diag(ld, sv,
			     "%s: unknown identifier '%s' (one of: cpr, "
			     "personnummer, cvr, orgnr, email, phone, "
			     "username, other)",
			     ctx, show(nb, sv->text));
		else
			c->identifier = t;
	}

	c->format = FORMAT_TEXT;
	sv = get_scalar(ld, v, "format", k, ctx, 0);
	if (sv != NULL) {
		i = sv->len > 0 ? word_index(format_names, sv->text) : -1;
		if (i < 0)
			diag(ld, sv,
			     "%s: unknown format '%s' (one of: text, date, "
			     "card_last4_expiry)",
			     ctx, show(nb, sv->text));
		else if (map_get(v, "identifier", NULL) != NULL)
			diag(ld, sv,
			     "%s has an identifier, which sets its format: "
			     "remove format",
			     ctx);
		else
			c->format = (enum value_format)i;
	}
	if (c->identifier != ID_NONE)
		c->format = FORMAT_IDENTIFIER;

	i = get_choice(ld, v, "source", ctx, source_names, SOURCE_SUBJECT);
	c->source = i >= 0 ? (enum data_source)i : SOURCE_SUBJECT;
	/* TEL-CAT-3: the third party a category comes from is named. */
	c->source_party = get_text(ld, v, "from", k, ctx,
	                           c->source == SOURCE_THIRD_PARTY);
	c->about_others = get_bool(ld, v, "about_others", ctx);
	/* Issue 18: records kept in the retained-data store, not as facts. */
	{
		const struct ynode *st = get_scalar(ld, v, "store", k, ctx, 0);

		if (st != NULL && strcmp(st->text, "traffic") == 0)
			c->traffic = 1;
		else if (st != NULL)
			diag(ld, st, "%s: store must be traffic", ctx);
	}
}

static void
compile_categories(struct loader *ld, const struct ynode *root)
{
	struct policy *p = ld->p;
	const struct ynode *sec = NAME_ENTRIES(
	        ld, root, "categories", 1, "category", struct policy_category,
	        p->categories, p->ncategories);

	if (sec == NULL)
		return;
	for (size_t i = 0; i + 1 < sec->n; i += 2)
		compile_category(ld, sec->items[i], sec->items[i + 1],
		                 &p->categories[i / 2]);
	index_build(ld, &ld->categories, p->ncategories, category_name);
}

/* Basis: one letter of Art. 6(1), or a list of them. */
static unsigned
take_basis(struct loader *ld, const struct ynode *map, const struct ynode *k,
           const char *ctx, const struct ynode **basis_node)
{
	const struct ynode *v = map_get(map, "basis", NULL), *one;
	const struct ynode *const *items;
	unsigned basis = 0;
	size_t n, i;

	*basis_node = v;
	if (v == NULL || is_null(v)) {
		diag(ld, v != NULL ? v : k, "%s has no basis", ctx);
		return 0;
	}
	n = list_items(ld, v, ctx, "basis", &one, &items);
	if (v->kind == Y_SEQ && n == 0)
		diag(ld, v, "%s has no basis", ctx);
	for (i = 0; i < n; i++) {
		const struct ynode *it = items[i];
		char nb[SHOW_BUF];

		if (it->bad)
			continue;
		if (it->kind == Y_SCALAR && it->len == 1 &&
		    it->text[0] >= 'a' && it->text[0] <= 'f') {
			basis |= 1u << (it->text[0] - 'a');
			continue;
		}
		diag(ld, it,
		     "%s: basis '%s' is not a letter a-f of GDPR Art. 6(1)",
		     ctx, it->kind == Y_SCALAR ? show(nb, it->text) : "...");
	}
	return basis;
}

static void
compile_consent(struct loader *ld, const struct ynode *v,
                struct policy_purpose *pp, const char *ctx)
{
	const struct ynode *src;
	const struct ynode *const *items;
	char cctx[CTX_MAX + 10];
	size_t n, i;

	if (v->bad || is_null(v))
		return;
	snprintf(cctx, sizeof(cctx), "%s consent", ctx);
	if (v->kind != Y_MAP) {
		diag(ld, v, "%s: consent must be a mapping (sources, text)",
		     ctx);
		return;
	}
	check_keys(ld, v, consent_keys, cctx);
	pp->consent_text = get_text(ld, v, "text", v, cctx, 0);
	src = map_get(v, "sources", NULL);
	if (src == NULL || is_null(src))
		return; /* reported by the caller if consent is needed */
	n = list_items(ld, src, cctx, "sources", NULL, &items);
	if (n == 0)
		return;
	pp->consent_sources = pcalloc(ld, n, sizeof(char *));
	if (pp->consent_sources == NULL)
		return;
	for (i = 0; i < n; i++) {
		const struct ynode *it = items[i];

		if (it->bad)
			continue;
		if (it->kind != Y_SCALAR || !is_id(it->text, it->len)) {
			diag(ld, it,
			     "%s: a consent source is an id such as "
			     "web_form or cookie_banner",
			     ctx);
			continue;
		}
		pp->consent_sources[pp->nconsent_sources] =
		        pstrndup(ld, it->text, it->len);
		if (pp->consent_sources[pp->nconsent_sources] != NULL)
			pp->nconsent_sources++;
	}
}

/*
 * The purpose's cookie category (AURA-COOKIE-1, AOPT-COOKIE-1, SHOP-MKT-2):
 * one of necessary, statistics, marketing; each named by one purpose at
 * most, so a visit or a pixel has one purpose; a marketing cookie purpose
 * is direct marketing (GDPR-21 and Sec-GPC apply to it).
 */
static void
take_cookie(struct loader *ld, const struct ynode *v, struct policy_purpose *pp,
            const char *ctx)
{
	static const char *const kinds[] = {"necessary", "statistics",
	                                    "marketing", NULL};
	const struct ynode *sv = get_scalar(ld, v, "cookie", NULL, ctx, 0);
	char nb[SHOW_BUF];
	int k;

	pp->cookie = COOKIE_NONE;
	if (sv == NULL)
		return;
	if ((k = word_index(kinds, sv->text)) < 0) {
		diag(ld, sv,
		     "%s: cookie '%s' is not a cookie category (necessary, "
		     "statistics or marketing)",
		     ctx, show(nb, sv->text));
		return;
	}
	for (const struct policy_purpose *o = ld->p->purposes; o < pp; o++) {
		if (o->cookie == (enum policy_cookie)(k + 1)) {
			diag(ld, sv,
			     "%s: cookie category '%s' is already that of "
			     "purpose '%s'",
			     ctx, kinds[k], show(nb, o->id));
			return;
		}
	}
	if (k + 1 == COOKIE_MARKETING && !pp->direct_marketing) {
		diag(ld, sv,
		     "%s: cookie 'marketing' needs direct_marketing: true "
		     "(SHOP-MKT-2)",
		     ctx);
		return;
	}
	pp->cookie = (enum policy_cookie)(k + 1);
}

static const char *const warning_keys[] = {"card", "next_payment", "to", NULL};

/*
 * One category of `card_expiry_warning:` (key), used by the purpose and of
 * the format the warning needs; its index, or -1 (reported).
 */
static long
warning_category(struct loader *ld, const struct ynode *w,
                 const struct policy_purpose *pp, const char *key, int format,
                 enum id_type identifier, const char *want, const char *ctx)
{
	const struct ynode *sv = get_scalar(ld, w, key, NULL, ctx, 1);
	char nb[SHOW_BUF];
	long ci;
	int used = 0;

	if (sv == NULL)
		return -1;
	if ((ci = policy_category_index(ld->p, sv->text)) < 0) {
		diag(ld, sv, "%s: %s is undefined category '%s'", ctx, key,
		     show(nb, sv->text));
		return -1;
	}
	for (size_t i = 0; i < pp->ncategories; i++)
		used |= pp->categories[i] == (size_t)ci;
	if (!used || (int)ld->p->categories[ci].format != format ||
	    (identifier != ID_NONE &&
	     ld->p->categories[ci].identifier != identifier)) {
		diag(ld, sv,
		     "%s: %s must be a category of the purpose with %s "
		     "(SHOP-PAY-1)",
		     ctx, key, want);
		return -1;
	}
	return ci;
}

/*
 * SHOP-PAY-1: `card_expiry_warning: {card, next_payment, to}` on the
 * purpose that warns the customer when the card (last 4 digits and
 * expiry) runs out before the next recurring payment.
 */
static void
take_card_warning(struct loader *ld, const struct ynode *v,
                  struct policy_purpose *pp, const char *ctx)
{
	const struct ynode *w = map_get(v, "card_expiry_warning", NULL);
	char wctx[CTX_MAX + 32];

	pp->warn_card = pp->warn_payment = pp->warn_to = -1;
	if (w == NULL || w->bad)
		return;
	snprintf(wctx, sizeof(wctx), "%s: card_expiry_warning", ctx);
	if (w->kind != Y_MAP) {
		diag(ld, w, "%s is a mapping {card, next_payment, to}", wctx);
		return;
	}
	check_keys(ld, w, warning_keys, wctx);
	pp->warn_card =
	        warning_category(ld, w, pp, "card", FORMAT_CARD_LAST4_EXP,
	                         ID_NONE, "format card_last4_expiry", wctx);
	pp->warn_payment =
	        warning_category(ld, w, pp, "next_payment", FORMAT_DATE,
	                         ID_NONE, "format date", wctx);
	pp->warn_to = warning_category(ld, w, pp, "to", FORMAT_IDENTIFIER,
	                               ID_EMAIL, "identifier email", wctx);
	if (pp->warn_card < 0 || pp->warn_payment < 0 || pp->warn_to < 0)
		pp->warn_card = pp->warn_payment = pp->warn_to = -1;
}

static void
compile_purpose(struct loader *ld, const struct ynode *k, const struct ynode *v,
                struct policy_purpose *pp)
{
	const struct ynode *basis_node, *sv, *consent, *art9_node;
	struct ref *refs = NULL, *mrefs = NULL;
	char ctx[CTX_MAX], nb[SHOW_BUF], cb[SHOW_BUF];
	size_t nrefs = 0, nmrefs = 0, i, j;

	snprintf(ctx, sizeof(ctx), "purpose '%s'", show(nb, k->text));
	if (v->bad)
		return;
	if (v->kind != Y_MAP) {
		diag(ld, v, "%s must be a mapping", ctx);
		return;
	}
	check_keys(ld, v, purpose_keys, ctx);
	pp->description = get_text(ld, v, "description", k, ctx, 0);
	pp->basis = take_basis(ld, v, k, ctx, &basis_node);

	art9_node = map_get(v, "art9", NULL);
	sv = get_scalar(ld, v, "art9", k, ctx, 0);
	if (sv != NULL) {
		if (sv->len == 1 && sv->text[0] >= 'a' && sv->text[0] <= 'j')
			pp->art9 = sv->text[0];
		else
			diag(ld, sv,
			     "%s: art9 '%s' is not a letter a-j of GDPR "
			     "Art. 9(2)",
			     ctx, show(nb, sv->text));
	}

	/* Basis (f) names the interests balanced (Art. 13(1)(d)). */
	pp->legitimate_interests =
	        get_text(ld, v, "legitimate_interests", k, ctx, 0);
	if ((pp->basis & BASIS_F) && pp->legitimate_interests == NULL &&
	    !ld->nomem)
		diag(ld, basis_node,
		     "%s uses basis (f) but states no legitimate_interests",
		     ctx);

	/* GDPR Art. 30(1)(c): whose data the purpose processes. */
	take_texts(ld, map_get(v, "subjects", NULL), ctx, "subjects",
	           &pp->subjects, &pp->nsubjects);

	/* GDPR-7: consent is recorded, so the purpose says how. */
	consent = map_get(v, "consent", NULL);
	if (consent != NULL)
		compile_consent(ld, consent, pp, ctx);
	if (pp->nconsent_sources == 0 && (consent == NULL || !consent->bad)) {
		if (pp->basis & BASIS_A)
			diag(ld, basis_node,
			     "%s uses basis (a) but has no consent.sources "
			     "(GDPR-7)",
			     ctx);
		else if (pp->art9 == 'a')
			diag(ld, art9_node,
			     "%s uses art9 (a), explicit consent, but has no "
			     "consent.sources (GDPR-7)",
			     ctx);
	}

	refs = take_refs(ld, v, "categories", k, ctx, "category",
	                 &ld->categories,
	                 ld->traffic_purpose == NULL ||
	                         strcmp(ld->traffic_purpose, k->text) != 0,
	                 &pp->categories, &pp->ncategories, &nrefs);
	/* CEK-SPECIAL-1, SHOP-SPECIAL-1: Art. 9 data needs an Art. 9(2)
	 * condition besides the Art. 6 basis. */
	for (i = 0; i < nrefs && art9_node == NULL; i++) {
		const struct policy_category *c =
		        &ld->p->categories[refs[i].idx];

		if (c->special)
			diag(ld, refs[i].at,
			     "category '%s' is special (Art. 9) but %s has no "
			     "art9 condition (CEK-SPECIAL-1)",
			     show(cb, c->id), ctx);
	}

	/* CEK-MAND-1: the mandatory categories are among the purpose's. */
	mrefs = take_refs(ld, v, "mandatory", k, ctx, "category",
	                  &ld->categories, 0, &pp->mandatory, &pp->nmandatory,
	                  &nmrefs);
	for (i = 0; i < nmrefs; i++) {
		for (j = 0; j < pp->ncategories; j++)
			if (pp->categories[j] == mrefs[i].idx)
				break;
		if (j == pp->ncategories && pp->categories != NULL)
			diag(ld, mrefs[i].at,
			     "mandatory category '%s' is not in the categories "
			     "of %s (CEK-MAND-1)",
			     show(cb, ld->p->categories[mrefs[i].idx].id), ctx);
	}

	pp->direct_marketing = get_bool(ld, v, "direct_marketing", ctx);
	pp->service_message = get_bool(ld, v, "service_message", ctx);
	/* TEL-MKT-1: opting out stops marketing, not service messages, so
	 * one purpose cannot be both. */
	if (pp->direct_marketing && pp->service_message)
		diag(ld, map_get(v, "service_message", NULL),
		     "%s cannot be both direct_marketing and service_message "
		     "(TEL-MKT-1)",
		     ctx);
	pp->requires_clearance = get_bool(ld, v, "requires_clearance", ctx);
	pp->while_restricted = get_bool(ld, v, "while_restricted", ctx);
	take_cookie(ld, v, pp, ctx);
	take_card_warning(ld, v, pp, ctx);
	free(refs);
	free(mrefs);
}

static void
compile_purposes(struct loader *ld, const struct ynode *root)
{
	struct policy *p = ld->p;
	/* Names first: nothing here refers to a purpose, but the index is
	 * complete before any purpose can fail half-way. */
	const struct ynode *sec =
	        NAME_ENTRIES(ld, root, "purposes", 1, "purpose",
	                     struct policy_purpose, p->purposes, p->npurposes);
	size_t i;

	if (sec == NULL)
		return;
	index_build(ld, &ld->purposes, p->npurposes, purpose_name);
	for (i = 0; i + 1 < sec->n; i += 2)
		compile_purpose(ld, sec->items[i], sec->items[i + 1],
		                &p->purposes[i / 2]);
}

/* Anchors: built-ins or events; the period runs from the latest. */
static void
take_anchors(struct loader *ld, const struct ynode *map, const struct ynode *k,
             const char *ctx, struct policy_retention *r)
{
	const struct ynode *v = map_get(map, "anchor", NULL), *one;
	const struct ynode *const *items;
	size_t n, i, j;

	if (v == NULL || is_null(v)) {
		diag(ld, v != NULL ? v : k, "%s has no anchor", ctx);
		return;
	}
	n = list_items(ld, v, ctx, "anchor", &one, &items);
	if (v->kind == Y_SEQ && n == 0)
		diag(ld, v, "%s has no anchor", ctx);
	if (n == 0)
		return;
	r->anchors = pcalloc(ld, n, sizeof(char *));
	r->anchor_event = pcalloc(ld, n, sizeof(long));
	if (r->anchors == NULL || r->anchor_event == NULL)
		return;
	for (i = 0; i < n; i++) {
		const struct ynode *it = items[i];
		char nb[SHOW_BUF];
		const char *hint;

		if (it->bad)
			continue;
		if (it->kind != Y_SCALAR || is_null(it)) {
			diag(ld, it, "%s: anchor must name events", ctx);
			continue;
		}
		if (strcmp(it->text, ANCHOR_COLLECTED) != 0 &&
		    strcmp(it->text, ANCHOR_FINANCIAL_YEAR_END) != 0 &&
		    index_find(&ld->events, it->text) < 0) {
			static const char *const builtins[] = {
			        ANCHOR_COLLECTED, ANCHOR_FINANCIAL_YEAR_END};

			hint = index_suggest(ld, &ld->events, it->text);
			if (hint == NULL)
				hint = suggest(ld, it->text, builtins, 2);
			if (hint != NULL)
				diag(ld, it,
				     "undefined event '%s' in %s (did you mean "
				     "'%s'?)",
				     show(nb, it->text), ctx, hint);
			else
				diag(ld, it,
				     "undefined event '%s' in %s (an anchor is "
				     "collected, financial_year_end or an id "
				     "of events)",
				     show(nb, it->text), ctx);
			continue;
		}
		for (j = 0; j < r->nanchors; j++)
			if (strcmp(r->anchors[j], it->text) == 0)
				break;
		if (j < r->nanchors) {
			diag(ld, it, "%s: anchor '%s' is listed twice", ctx,
			     show(nb, it->text));
			continue;
		}
		if (strcmp(it->text, ANCHOR_COLLECTED) == 0)
			r->anchor_event[r->nanchors] = ANCHOR_EVENT_COLLECTED;
		else if (strcmp(it->text, ANCHOR_FINANCIAL_YEAR_END) == 0)
			r->anchor_event[r->nanchors] = ANCHOR_EVENT_FY_END;
		else
			r->anchor_event[r->nanchors] =
			        index_find(&ld->events, it->text);
		r->anchors[r->nanchors] = pstrndup(ld, it->text, it->len);
		if (r->anchors[r->nanchors] != NULL)
			r->nanchors++;
	}
}

/*
 * `waits_for: E` (issue 10): the rule says a fact it holds stays undated
 * until E, one of its anchors that ends a running state.
 */
static void
take_waits_for(struct loader *ld, const struct ynode *map,
               const struct ynode *k, const char *ctx,
               struct policy_retention *r)
{
	const struct ynode *sv = get_scalar(ld, map, "waits_for", k, ctx, 0);
	char nb[SHOW_BUF];
	size_t j;

	if (sv == NULL)
		return;
	for (j = 0; j < r->nanchors; j++)
		if (strcmp(r->anchors[j], sv->text) == 0)
			break;
	if (j == r->nanchors || r->anchor_event[j] < 0) {
		diag(ld, sv, "%s: waits_for '%s' is not an event of its anchor",
		     ctx, show(nb, sv->text));
		return;
	}
	if (ld->p->events[r->anchor_event[j]].ends < 0) {
		diag(ld, sv,
		     "%s: waits_for '%s' ends no running state (it needs "
		     "ends: in events)",
		     ctx, show(nb, sv->text));
		return;
	}
	r->waits_for = r->anchor_event[j];
}

/*
 * Why category c cannot survive anonymisation generalised by how, or NULL
 * if it can (TEL-STAT-1; docs/policy.md "retention").
 */
static const char *
keep_misfit(const struct policy_category *c, enum generalise how)
{
	if (how == GENERALISE_DROP)
		return NULL;
	if (c->special)
		return "special (Art. 9) data does not survive anonymisation";
	switch (how) {
	case GENERALISE_AS_IS:
		if (c->format == FORMAT_IDENTIFIER)
			return "an identifier kept as is still identifies";
		if (c->format == FORMAT_DATE)
			return "a date kept as is can single a person out "
			       "(use year or age_band)";
		if (c->format == FORMAT_CARD_LAST4_EXP)
			return "card digits do not survive anonymisation";
		return NULL;
	case GENERALISE_YEAR:
	case GENERALISE_AGE_BAND:
		return c->format == FORMAT_DATE ? NULL
		                                : "it needs a category of "
		                                  "format date";
	case GENERALISE_AREA:
		return c->format == FORMAT_TEXT ? NULL
		                                : "it needs a postcode "
		                                  "category of format text";
	case GENERALISE_DROP: break;
	}
	return NULL;
}

/* One kept category: checks it against the rule, then records it. */
static void
keep_one(struct loader *ld, struct policy_retention *r, const char *ctx,
         size_t cat, enum generalise how, const struct ynode *at,
         const struct ynode *how_at, int listed)
{
	const struct policy_category *c = &ld->p->categories[cat];
	const char *why;
	char nb[SHOW_BUF];
	size_t j;

	for (j = 0; j < r->ncategories; j++)
		if (r->categories[j] == cat)
			break;
	if (j == r->ncategories && r->categories != NULL) {
		diag(ld, at,
		     "%s keeps category '%s', which is not one of its "
		     "categories",
		     ctx, show(nb, c->id));
		return;
	}
	why = keep_misfit(c, how);
	if (why != NULL && listed)
		diag(ld, at,
		     "%s: keep lists category '%s', which would survive as "
		     "is, but %s: name a generalisation that fits it "
		     "(keep: {category: year}) or leave it out (TEL-STAT-1)",
		     ctx, show(nb, c->id), why);
	else if (why != NULL)
		diag(ld, how_at, "%s: category '%s' cannot be kept as %s: %s",
		     ctx, show(nb, c->id), generalise_names[how], why);
	/* Dropped is not kept: keep lists only what survives. */
	if (why != NULL || how == GENERALISE_DROP)
		return;
	r->keep[r->nkeep] = cat;
	r->keep_as[r->nkeep] = how;
	r->nkeep++;
}

/*
 * `keep`: a mapping of category id -> generalisation, or (kept as is) a
 * list of category ids. Duplicate keys are refused while building.
 */
static void
take_keep(struct loader *ld, const struct ynode *v, const char *ctx,
          struct policy_retention *r)
{
	struct ref *refs = NULL;
	size_t n, i;

	if (v->kind == Y_SCALAR && !is_null(v)) {
		diag(ld, v,
		     "%s: keep must be a mapping (category: generalisation) "
		     "or a list",
		     ctx);
		return;
	}
	n = v->kind == Y_MAP ? v->n / 2 : v->n;
	if (n == 0)
		return;
	r->keep = pcalloc(ld, n, sizeof(*r->keep));
	r->keep_as = pcalloc(ld, n, sizeof(*r->keep_as));
	if (r->keep == NULL || r->keep_as == NULL)
		return;
	if (v->kind == Y_SEQ) {
		n = resolve_list(ld, v, "keep", ctx, "category",
		                 &ld->categories, &refs);
		for (i = 0; i < n; i++)
			keep_one(ld, r, ctx, refs[i].idx, GENERALISE_AS_IS,
			         refs[i].at, refs[i].at, 1);
		free(refs);
		return;
	}
	for (i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *key = v->items[i], *how = v->items[i + 1];
		char nb[SHOW_BUF], hb[SHOW_BUF];
		const char *hint;
		long cat;
		int g;

		cat = index_find(&ld->categories, key->text);
		if (cat < 0) {
			hint = index_suggest(ld, &ld->categories, key->text);
			if (hint != NULL)
				diag(ld, key,
				     "undefined category '%s' in %s keep (did "
				     "you mean '%s'?)",
				     show(nb, key->text), ctx, hint);
			else
				diag(ld, key,
				     "undefined category '%s' in %s keep",
				     show(nb, key->text), ctx);
			continue;
		}
		if (how->bad)
			continue;
		g = how->kind == Y_SCALAR
		            ? word_index(generalise_names, how->text)
		            : -1;
		if (g < 0) {
			diag(ld, how,
			     "%s: keep '%s': unknown generalisation '%s' (one "
			     "of: as_is, year, age_band, area, drop)",
			     ctx, show(nb, key->text),
			     how->kind == Y_SCALAR ? show(hb, how->text)
			                           : "...");
			continue;
		}
		keep_one(ld, r, ctx, (size_t)cat, (enum generalise)g, key, how,
		         0);
	}
}

/*
 * `consents`: purposes whose consent records the rule holds (TEL-MKT-2).
 * Only a purpose that records consent has such records.
 */
static void
take_consents(struct loader *ld, const struct ynode *v, const struct ynode *k,
              const char *ctx, struct policy_retention *r)
{
	struct ref *refs;
	size_t n, i;

	refs = take_refs(ld, v, "consents", k, ctx, "purpose", &ld->purposes, 0,
	                 &r->consents, &r->nconsents, &n);
	for (i = 0; i < n; i++) {
		const struct policy_purpose *pp = &ld->p->purposes[refs[i].idx];
		char nb[SHOW_BUF];

		if (pp->nconsent_sources == 0 && !(pp->basis & BASIS_A) &&
		    pp->art9 != 'a')
			diag(ld, refs[i].at,
			     "%s: purpose '%s' records no consent (basis a, "
			     "art9 a or consent.sources), so it has no "
			     "consent records to keep",
			     ctx, show(nb, pp->id));
	}
	free(refs);
}

static void
compile_rule(struct loader *ld, const struct ynode *k, const struct ynode *v,
             struct policy_retention *r)
{
	const struct ynode *sv, *kv, *cv, *av;
	struct ref *refs;
	struct vaern_msg msg;
	char ctx[CTX_MAX], nb[SHOW_BUF];
	size_t nrefs;
	int a, consents_only;

	snprintf(ctx, sizeof(ctx), "retention rule '%s'", show(nb, k->text));
	if (v->bad)
		return;
	if (v->kind != Y_MAP) {
		diag(ld, v, "%s must be a mapping", ctx);
		return;
	}
	check_keys(ld, v, retention_keys, ctx);
	r->clause = get_text(ld, v, "clause", k, ctx, 0);

	/* A rule holds facts of categories, consent records, or both. */
	cv = map_get(v, "consents", NULL);
	av = map_get(v, "categories", NULL);
	consents_only =
	        cv != NULL && !is_null(cv) && (av == NULL || is_null(av));
	if (cv != NULL && !is_null(cv))
		take_consents(ld, v, k, ctx, r);
	refs = take_refs(ld, v, "categories", k, ctx, "category",
	                 &ld->categories, !consents_only, &r->categories,
	                 &r->ncategories, &nrefs);
	free(refs);

	/* TEL-MKT-2: a consent record's clock is fixed (the later of the
	 * consent's end and its last use); anchors are for facts. */
	av = map_get(v, "anchor", NULL);
	if (!consents_only)
		take_anchors(ld, v, k, ctx, r);
	else if (av != NULL)
		diag(ld, av,
		     "%s: anchor applies to categories; a consent record is "
		     "kept from the later of the consent's end and its last "
		     "use (TEL-MKT-2)",
		     ctx);

	sv = get_scalar(ld, v, "period", k, ctx, 1);
	if (sv != NULL) {
		memset(&msg, 0, sizeof(msg));
		if (cal_parse_period(sv->text, &r->period, &msg) != VAERN_OK)
			diag(ld, sv, "%s: period: %s", ctx,
			     msg.text[0] != '\0'
			             ? msg.text
			             : "not a period (N days, weeks, months "
			               "or years)");
	}

	a = get_choice(ld, v, "action", ctx, action_names, RETENTION_DELETE);
	r->action = a >= 0 ? (enum retention_action)a : RETENTION_DELETE;
	if (consents_only && a == RETENTION_ANONYMISE)
		diag(ld, map_get(v, "action", NULL),
		     "%s: consent records are documentation: they are "
		     "deleted, not anonymised (GDPR-7)",
		     ctx);
	kv = map_get(v, "keep", NULL);
	if (kv != NULL && a != RETENTION_ANONYMISE && a >= 0)
		diag(ld, kv, "%s: keep needs action: anonymise", ctx);
	else if (kv != NULL && !kv->bad && a >= 0)
		take_keep(ld, kv, ctx, r); /* TEL-STAT-1 */
	/* GDPR-17: erasure waits for the law that requires keeping. */
	r->legal_obligation = get_text(ld, v, "legal_obligation", k, ctx, 0);
	take_waits_for(ld, v, k, ctx, r);
}

static void
compile_retention(struct loader *ld, const struct ynode *root)
{
	struct policy *p = ld->p;
	const struct ynode *sec = NAME_ENTRIES(
	        ld, root, "retention", 1, "retention rule",
	        struct policy_retention, p->retention, p->nretention);
	size_t i, j, k;
	unsigned char *covered;

	if (sec != NULL && p->retention == NULL)
		return;
	for (i = 0; i < p->nretention; i++)
		p->retention[i].waits_for = -1;
	for (i = 0; sec != NULL && i + 1 < sec->n; i += 2)
		compile_rule(ld, sec->items[i], sec->items[i + 1],
		             &p->retention[i / 2]);

	/* TEL-RET-1: data is kept only as long as needed, so every category
	 * has a rule that ends it. */
	if (sec == NULL || p->ncategories == 0)
		return;
	covered = pcalloc(ld, p->ncategories, 1);
	if (covered == NULL)
		return;
	for (j = 0; j < p->nretention; j++)
		for (k = 0; k < p->retention[j].ncategories; k++)
			covered[p->retention[j].categories[k]] = 1;
	for (i = 0; i < p->ncategories; i++) {
		char nb[SHOW_BUF];

		if (!covered[i])
			diag_at(ld, p->categories[i].line,
			        p->categories[i].column,
			        "category '%s' has no retention rule: it would "
			        "be kept for ever (TEL-RET-1)",
			        show(nb, p->categories[i].id));
	}
	free(covered);
}

static void
compile_transfers(struct loader *ld, const struct ynode *root)
{
	const struct ynode *at, *v = map_get(root, "transfers", &at);
	struct policy *p = ld->p;
	size_t i;

	if (v == NULL || is_null(v)) {
		diag(ld, v != NULL ? v : root,
		     "the policy has no transfers (none, or a list of "
		     "{country, safeguard})");
		return;
	}
	if (v->bad)
		return;
	if (v->kind == Y_SCALAR && v->plain &&
	    (strcmp(v->text, "none") == 0 ||
	     strcmp(v->text, "eea_only") == 0)) {
		/* No transfer outside the EU/EEA at all. */
		p->transfers_none = 1;
		return;
	}
	if (v->kind == Y_SCALAR && v->plain &&
	    strcmp(v->text, "eu_only") == 0) {
		/* CEK-XFER-1: "never outside the EU": Norway, Iceland and
		 * Liechtenstein are outside too. */
		p->transfers_none = 1;
		p->transfers_eu_only = 1;
		return;
	}
	if (v->kind != Y_SEQ) {
		diag(ld, v,
		     "transfers must be eu_only, eea_only (or none), or a "
		     "list of {country, safeguard}");
		return;
	}
	p->transfers = pcalloc(ld, v->n, sizeof(*p->transfers));
	if (p->transfers == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		const struct ynode *it = v->items[i], *cv;
		struct policy_transfer *t = &p->transfers[p->ntransfers];

		if (it->bad)
			continue;
		if (it->kind != Y_MAP) {
			diag(ld, it,
			     "transfers: each entry is a mapping {country, "
			     "safeguard}");
			continue;
		}
		p->ntransfers++;
		t->line = it->line;
		t->column = it->column;
		check_keys(ld, it, transfer_keys, "transfers");
		cv = get_scalar(ld, it, "country", it, "transfer", 1);
		if (cv != NULL)
			take_country(ld, cv, "transfers", "country",
			             t->country);
		/* AURA-XFER-1: a transfer has a recorded safeguard. */
		t->safeguard = get_text(ld, it, "safeguard", it, "transfer", 1);
	}
}

/* The default of recipient.categories: those of its purposes. */
static void
recipient_default_categories(struct loader *ld, struct policy_recipient *r)
{
	struct policy *p = ld->p;
	unsigned char *use;
	size_t i, j, n = 0;

	if (p->ncategories == 0)
		return;
	use = pcalloc(ld, p->ncategories, 1);
	if (use == NULL)
		return;
	for (i = 0; i < r->npurposes; i++) {
		const struct policy_purpose *pp = &p->purposes[r->purposes[i]];

		for (j = 0; j < pp->ncategories; j++)
			use[pp->categories[j]] = 1;
	}
	for (i = 0; i < p->ncategories; i++)
		n += use[i];
	r->categories = pcalloc(ld, n, sizeof(size_t));
	if (r->categories != NULL)
		for (i = 0; i < p->ncategories; i++)
			if (use[i])
				r->categories[r->ncategories++] = i;
	free(use);
}

/* AURA-XFER-1, CEK-XFER-1: transfers outside the EU/EEA. */
static void
check_recipient_transfer(struct loader *ld, const struct ynode *map,
                         const struct ynode *k, const char *ctx,
                         struct policy_recipient *r)
{
	const struct ynode *cv = map_get(map, "country", NULL);
	const struct ynode *at = cv != NULL ? cv : k;
	struct policy *p = ld->p;
	size_t i;
	int country_seen = 0;

	if (p->transfers_none) {
		diag(ld, at,
		     "transfers: %s, but %s is in %s (outside the EU/EEA) "
		     "(CEK-XFER-1)",
		     p->transfers_eu_only ? "eu_only" : "none", ctx,
		     r->country);
		return;
	}
	if (r->safeguard == NULL) {
		diag(ld, at, "%s in %s has no safeguard (AURA-XFER-1)", ctx,
		     r->country);
		return;
	}
	for (i = 0; i < p->ntransfers; i++) {
		const struct policy_transfer *t = &p->transfers[i];

		if (strcmp(t->country, r->country) != 0)
			continue;
		country_seen = 1;
		if (t->safeguard != NULL &&
		    strcmp(t->safeguard, r->safeguard) == 0)
			return;
	}
	diag(ld, map_get(map, "safeguard", NULL),
	     country_seen
	             ? "%s in %s: its safeguard matches no transfers entry "
	               "for %s (AURA-XFER-1)"
	             : "%s in %s: transfers has no entry for %s "
	               "(AURA-XFER-1)",
	     ctx, r->country, r->country);
}

static void
compile_recipient(struct loader *ld, const struct ynode *k,
                  const struct ynode *v, struct policy_recipient *r)
{
	const struct policy *p = ld->p;
	const struct ynode *type_node, *needs_node, *sv;
	struct ref *refs, *crefs;
	char ctx[CTX_MAX], nb[SHOW_BUF];
	size_t nrefs, ncrefs, i, j, m;
	int t, needs;

	snprintf(ctx, sizeof(ctx), "recipient '%s'", show(nb, k->text));
	if (v->bad)
		return;
	if (v->kind != Y_MAP) {
		diag(ld, v, "%s must be a mapping", ctx);
		return;
	}
	check_keys(ld, v, recipient_keys, ctx);
	r->name = get_text(ld, v, "name", k, ctx, 1);

	type_node = get_scalar(ld, v, "type", k, ctx, 1);
	t = type_node != NULL
	            ? get_choice(ld, v, "type", ctx, recipient_types, -1)
	            : -1;
	if (t >= 0)
		r->type = (enum recipient_type)t;
	r->agreement = get_text(ld, v, "agreement", k, ctx, 0);
	r->demand = get_text(ld, v, "demand", k, ctx, 0);
	needs_node = get_scalar(ld, v, "needs", k, ctx, 0);
	needs = needs_node != NULL && needs_node->len > 0
	                ? word_index(needs_names, needs_node->text)
	                : -1;
	if (needs_node != NULL && needs < 0)
		diag(ld, needs_node,
		     "%s: unknown needs '%s' (one of: consent, "
		     "prior_agreement, consent_or_prior_agreement, "
		     "legal_demand)",
		     ctx, show(nb, needs_node->text));

	switch (t) {
	case RECIPIENT_PROCESSOR:
		/* AURA-SHARE-1, AOPT-SHARE-1: processors act under a data
		 * processing agreement; that agreement is the condition. */
		r->needs = NEEDS_AGREEMENT_ON_RECORD;
		if (r->agreement == NULL && !ld->nomem)
			diag(ld, type_node,
			     "%s is a processor but has no agreement "
			     "(AURA-SHARE-1)",
			     ctx);
		if (needs_node != NULL)
			diag(ld, needs_node,
			     "%s is a processor: its agreement is its "
			     "condition, remove needs",
			     ctx);
		break;
	case RECIPIENT_THIRD_PARTY:
		/* AURA-SHARE-1, CEK-SHARE-1: consent or prior agreement. */
		if (needs_node == NULL)
			diag(ld, type_node,
			     "%s is a third party but has no needs (consent, "
			     "prior_agreement or consent_or_prior_agreement)",
			     ctx);
		else if (needs == NEEDS_LEGAL_DEMAND)
			diag(ld, needs_node,
			     "%s: needs legal_demand is for an authority", ctx);
		else if (needs > 0)
			r->needs = (enum recipient_condition)needs;
		break;
	case RECIPIENT_AUTHORITY:
		/* TEL-LOG-3: an authority gets data on a legal demand. */
		if (needs != NEEDS_LEGAL_DEMAND &&
		    (needs_node == NULL || needs > 0))
			diag(ld, needs_node != NULL ? needs_node : type_node,
			     "%s is an authority but needs no legal_demand "
			     "(TEL-LOG-3)",
			     ctx);
		r->needs = NEEDS_LEGAL_DEMAND;
		break;
	default: break;
	}
	if (needs == NEEDS_LEGAL_DEMAND && t == RECIPIENT_AUTHORITY &&
	    r->demand == NULL && !ld->nomem)
		diag(ld, needs_node,
		     "%s needs legal_demand but names no demand (e.g. "
		     "court_order) (TEL-LOG-3)",
		     ctx);

	sv = get_scalar(ld, v, "country", k, ctx, 0);
	if (sv != NULL)
		take_country(ld, sv, ctx, "country", r->country);
	else if (map_get(v, "country", NULL) == NULL ||
	         is_null(map_get(v, "country", NULL)))
		memcpy(r->country, p->controller.country, 3);
	r->safeguard = get_text(ld, v, "safeguard", k, ctx, 0);
	if (r->country[0] != '\0' && !policy_country_in_eu(r->country))
		r->outside_eu = 1;
	if (r->country[0] != '\0' && !policy_country_in_eea(r->country)) {
		r->outside_eea = 1;
		check_recipient_transfer(ld, v, k, ctx, r);
	} else if (r->outside_eu && p->transfers_eu_only) {
		const struct ynode *cv = map_get(v, "country", NULL);

		diag(ld, cv != NULL ? cv : k,
		     "transfers: eu_only, but %s is in %s (outside the EU) "
		     "(CEK-XFER-1)",
		     ctx, r->country);
	}

	refs = take_refs(ld, v, "purposes", k, ctx, "purpose", &ld->purposes, 1,
	                 &r->purposes, &r->npurposes, &nrefs);
	free(refs);
	crefs = take_refs(ld, v, "categories", k, ctx, "category",
	                  &ld->categories, 0, &r->categories, &r->ncategories,
	                  &ncrefs);
	if (map_get(v, "categories", NULL) == NULL) {
		recipient_default_categories(ld, r);
	} else {
		/* A recipient gets no category none of its purposes uses. */
		for (i = 0; i < ncrefs; i++) {
			for (j = 0; j < r->npurposes; j++) {
				const struct policy_purpose *pp =
				        &p->purposes[r->purposes[j]];

				for (m = 0; m < pp->ncategories; m++)
					if (pp->categories[m] == crefs[i].idx)
						break;
				if (m < pp->ncategories)
					break;
			}
			if (j == r->npurposes && r->npurposes > 0)
				diag(ld, crefs[i].at,
				     "%s receives category '%s', which none of "
				     "its purposes uses",
				     ctx,
				     show(nb, p->categories[crefs[i].idx].id));
		}
	}
	free(crefs);
}

static void
compile_recipients(struct loader *ld, const struct ynode *root)
{
	struct policy *p = ld->p;
	const struct ynode *sec = NAME_ENTRIES(
	        ld, root, "recipients", 0, "recipient", struct policy_recipient,
	        p->recipients, p->nrecipients);

	if (sec == NULL)
		return;
	for (size_t i = 0; i + 1 < sec->n; i += 2)
		compile_recipient(ld, sec->items[i], sec->items[i + 1],
		                  &p->recipients[i / 2]);
}

static void
compile_role(struct loader *ld, const struct ynode *k, const struct ynode *v,
             struct policy_role *role)
{
	const struct ynode *pv;
	struct ref *refs;
	char ctx[CTX_MAX], nb[SHOW_BUF], pb[SHOW_BUF];
	size_t nrefs, i;

	snprintf(ctx, sizeof(ctx), "role '%s'", show(nb, k->text));
	if (v->bad)
		return;
	if (v->kind != Y_MAP) {
		diag(ld, v, "%s must be a mapping", ctx);
		return;
	}
	check_keys(ld, v, role_keys, ctx);
	role->description = get_text(ld, v, "description", k, ctx, 0);
	role->cleared = get_bool(ld, v, "cleared", ctx);
	role->audit = get_bool(ld, v, "audit", ctx);
	role->incidents = get_bool(ld, v, "incidents", ctx);
	/* An empty list is a role that may use nothing, but the key is
	 * required so that no role is left open by omission. */
	pv = map_get(v, "purposes", NULL);
	if (pv == NULL || is_null(pv))
		diag(ld, pv != NULL ? pv : k, "%s has no purposes", ctx);
	refs = take_refs(ld, v, "purposes", k, ctx, "purpose", &ld->purposes, 0,
	                 &role->purposes, &role->npurposes, &nrefs);
	/* TEL-LOG-2: only security-cleared staff read logging data. */
	for (i = 0; i < nrefs && !role->cleared; i++) {
		const struct policy_purpose *pp = &ld->p->purposes[refs[i].idx];

		if (pp->requires_clearance)
			diag(ld, refs[i].at,
			     "role '%s' lists purpose '%s' which requires "
			     "clearance, but the role is not cleared "
			     "(TEL-LOG-2)",
			     show(nb, k->text), show(pb, pp->id));
	}
	free(refs);
}

static void
compile_roles(struct loader *ld, const struct ynode *root)
{
	struct policy *p = ld->p;
	const struct ynode *sec =
	        NAME_ENTRIES(ld, root, "roles", 1, "role", struct policy_role,
	                     p->roles, p->nroles);

	if (sec == NULL)
		return;
	for (size_t i = 0; i + 1 < sec->n; i += 2)
		compile_role(ld, sec->items[i], sec->items[i + 1],
		             &p->roles[i / 2]);
}

/* Returns the index of the entry of a named section whose id is name, or
 * -1 (a small linear search: roles and recipients are few). */
static long
find_named(const char *name, size_t n, size_t size, const void *base)
{
	for (size_t i = 0; i < n; i++) {
		const char *const *id =
		        (const char *const *)((const char *)base + i * size);

		if (*id != NULL && strcmp(*id, name) == 0)
			return (long)i;
	}
	return -1;
}

/*
 * `traffic:` -- the telecom retained-data store (issue 18): the purpose
 * it serves (one that requires clearance, TEL-LOG-2), the recipient a
 * delivery goes to (an authority on a court order, TEL-LOG-3), how long a
 * day is kept (TEL-LOG-1) and the cleared roles that ingest.
 */
static void
compile_traffic(struct loader *ld, const struct ynode *root)
{
	const struct ynode *at, *v = map_get(root, "traffic", &at);
	const struct ynode *pv, *rv, *sv, *iv;
	struct policy_traffic *t = &ld->p->traffic;
	struct vaern_msg msg;
	char nb[SHOW_BUF];
	const char *ctx = "traffic";
	long i;

	if (v == NULL || is_null(v) || v->bad) {
		for (size_t c = 0; c < ld->p->ncategories; c++)
			if (ld->p->categories[c].traffic)
				diag_at(ld, ld->p->categories[c].line,
				        ld->p->categories[c].column,
				        "category '%s' is kept in the traffic "
				        "store, but the policy declares no "
				        "traffic:",
				        ld->p->categories[c].id);
		return;
	}
	if (v->kind != Y_MAP) {
		diag(ld, v, "traffic must be a mapping");
		return;
	}
	t->declared = 1;
	t->line = v->line;
	t->column = v->column;
	check_keys(ld, v, traffic_keys, ctx);
	pv = get_scalar(ld, v, "purpose", v, ctx, 1);
	if (pv != NULL) {
		i = find_named(pv->text, ld->p->npurposes,
		               sizeof(*ld->p->purposes), ld->p->purposes);
		if (i < 0)
			diag(ld, pv, "traffic: unknown purpose '%s'",
			     show(nb, pv->text));
		else if (!ld->p->purposes[i].requires_clearance)
			diag(ld, pv,
			     "traffic: purpose '%s' must require clearance "
			     "(TEL-LOG-2)",
			     show(nb, pv->text));
		else
			t->purpose = (size_t)i;
	}
	rv = get_scalar(ld, v, "recipient", v, ctx, 1);
	if (rv != NULL) {
		i = find_named(rv->text, ld->p->nrecipients,
		               sizeof(*ld->p->recipients), ld->p->recipients);
		if (i < 0)
			diag(ld, rv, "traffic: unknown recipient '%s'",
			     show(nb, rv->text));
		else if (ld->p->recipients[i].demand == NULL ||
		         strcmp(ld->p->recipients[i].demand, "court_order") !=
		                 0)
			diag(ld, rv,
			     "traffic: recipient '%s' must need a court_order "
			     "(TEL-LOG-3)",
			     show(nb, rv->text));
		else
			t->recipient = (size_t)i;
	}
	sv = get_scalar(ld, v, "period", v, ctx, 1);
	if (sv != NULL) {
		memset(&msg, 0, sizeof(msg));
		if (cal_parse_period(sv->text, &t->period, &msg) != VAERN_OK)
			diag(ld, sv, "traffic: period: %s", msg.text);
	}
	iv = map_get(v, "ingest", NULL);
	if (iv == NULL || is_null(iv) || iv->bad)
		return;
	if (iv->kind != Y_SEQ) {
		diag(ld, iv, "traffic: ingest must be a list of roles");
		return;
	}
	t->ingest = pcalloc(ld, iv->n, sizeof(*t->ingest));
	for (size_t k = 0; t->ingest != NULL && k < iv->n; k++) {
		const struct ynode *it = iv->items[k];

		if (it->bad || it->kind != Y_SCALAR) {
			diag(ld, it, "traffic: ingest: each entry is a role");
			continue;
		}
		i = find_named(it->text, ld->p->nroles, sizeof(*ld->p->roles),
		               ld->p->roles);
		if (i < 0)
			diag(ld, it, "traffic: ingest: unknown role '%s'",
			     show(nb, it->text));
		else if (!ld->p->roles[i].cleared)
			diag(ld, it,
			     "traffic: ingest: role '%s' is not cleared "
			     "(TEL-LOG-2)",
			     show(nb, it->text));
		else
			t->ingest[t->ningest++] = (size_t)i;
	}
}

static void
compile_rights(struct loader *ld, const struct ynode *root)
{
	const struct ynode *v = map_get(root, "rights", NULL);
	const struct ynode *const *items;
	size_t n, i;

	/* AURA-RIGHTS-1, SHOP-RIGHTS-1: all six unless the policy says. */
	ld->p->rights = RIGHT_ACCESS | RIGHT_RECTIFICATION | RIGHT_ERASURE |
	                RIGHT_RESTRICTION | RIGHT_PORTABILITY | RIGHT_OBJECTION;
	if (v == NULL || is_null(v))
		return;
	ld->p->rights = 0;
	n = list_items(ld, v, "the policy", "rights", NULL, &items);
	if (v->kind == Y_SEQ && n == 0)
		diag(ld, v, "rights must not be empty");
	for (i = 0; i < n; i++) {
		const struct ynode *it = items[i];
		char nb[SHOW_BUF];
		int r;

		if (it->bad)
			continue;
		r = it->kind == Y_SCALAR ? word_index(right_names, it->text)
		                         : -1;
		if (r < 0)
			diag(ld, it,
			     "unknown right '%s' (one of: access, "
			     "rectification, erasure, restriction, "
			     "portability, objection)",
			     it->kind == Y_SCALAR ? show(nb, it->text) : "...");
		else
			ld->p->rights |= 1u << r;
	}
}

/*
 * incidents: {receipt: "N working days", feedback: PERIOD} (issue 17,
 * SHOP-BREACH-2). The receipt counts working days of the controller's
 * country; the feedback is a calendar period.
 */
static void
compile_incidents(struct loader *ld, const struct ynode *root)
{
	static const char *const keys[] = {"receipt", "feedback", NULL};
	struct policy_incidents *in = &ld->p->incidents;
	const struct ynode *v = map_get(root, "incidents", NULL), *r, *f;
	struct vaern_msg msg;
	char *end = NULL;
	long n;

	in->receipt_working_days = 2;
	in->feedback.count = 2;
	in->feedback.unit = PERIOD_WEEKS;
	if (v == NULL || is_null(v) || v->bad)
		return;
	in->line = v->line;
	in->column = v->column;
	if (v->kind != Y_MAP) {
		diag(ld, v, "incidents must be a mapping (receipt, feedback)");
		return;
	}
	check_keys(ld, v, keys, "incidents");
	r = get_scalar(ld, v, "receipt", NULL, "incidents", 0);
	if (r != NULL) {
		n = strtol(r->text, &end, 10);
		if (end == r->text || n < 1 || n > 30 ||
		    (strcmp(end, " working days") != 0 &&
		     strcmp(end, " working day") != 0))
			diag(ld, r,
			     "incidents: receipt is 1..30 working days, as "
			     "\"2 working days\"");
		else
			in->receipt_working_days = (int)n;
	}
	f = get_scalar(ld, v, "feedback", NULL, "incidents", 0);
	if (f != NULL &&
	    (cal_parse_period(f->text, &in->feedback, &msg) != VAERN_OK ||
	     in->feedback.count < 1))
		diag(ld, f,
		     "incidents: feedback is a period of at least one day, as "
		     "\"2 weeks\"");
}

/*
 * request_channels: {access: [email, letter, web, portal], ...}: the
 * channels a request of each type may arrive by (AOPT-ACCESS-1: an access
 * request must be written). A type left out accepts any channel.
 */
static void
compile_request_channels(struct loader *ld, const struct ynode *root)
{
	const struct ynode *sec = get_section(ld, root, "request_channels", 0);
	char nb[SHOW_BUF];

	memset(ld->p->request_channels, 0, sizeof(ld->p->request_channels));
	if (sec == NULL)
		return;
	for (size_t i = 0; i + 1 < sec->n; i += 2) {
		const struct ynode *k = sec->items[i], *v = sec->items[i + 1];
		const struct ynode *one = NULL;
		const struct ynode *const *items;
		int t = k->bad ? -1
		               : word_index(policy_request_type_names, k->text);
		size_t n;

		if (k->bad)
			continue;
		if (t < 0) {
			diag(ld, k,
			     "request_channels: unknown request type '%s' (one "
			     "of: access, portability, rectification, erasure, "
			     "restriction, objection, consent_withdrawal)",
			     show(nb, k->text));
			continue;
		}
		n = list_items(ld, v, "request_channels", k->text, &one,
		               &items);
		if (v->kind == Y_SEQ && n == 0)
			diag(ld, v,
			     "request_channels: %s accepts no channel at all; "
			     "leave it out to accept any",
			     k->text);
		for (size_t j = 0; j < n; j++) {
			const struct ynode *it = items[j];
			int c = it->kind == Y_SCALAR && !it->bad
			                ? word_index(channel_names, it->text)
			                : -1;

			if (it->bad)
				continue;
			if (c < 0)
				diag(ld, it,
				     "request_channels: %s: unknown channel "
				     "'%s' (one of: " POLICY_CHANNELS_TEXT ")",
				     k->text,
				     it->kind == Y_SCALAR ? show(nb, it->text)
				                          : "...");
			else
				ld->p->request_channels[t] |= 1u << c;
		}
	}
}

/* The channels of set, comma-separated, into out (cut where full). */
static void
channel_list(unsigned set, char *out, size_t size)
{
	size_t off = 0;

	if (size > 0)
		out[0] = '\0';
	for (int i = 0; channel_names[i] != NULL; i++) {
		int w;

		if (!(set & (1u << i)))
			continue;
		w = snprintf(out + off, size - off, "%s%s", off ? ", " : "",
		             channel_names[i]);
		if (w < 0 || (size_t)w >= size - off)
			break;
		off += (size_t)w;
	}
}

int
policy_request_channel_ok(const struct policy *p, const char *type,
                          const char *channel, char *accepted,
                          size_t accepted_size)
{
	int t = word_index(policy_request_type_names, type);
	int c = word_index(channel_names, channel);
	unsigned set;

	if (accepted != NULL && accepted_size > 0)
		accepted[0] = '\0';
	if (t < 0 || c < 0)
		return 0;
	set = p->request_channels[t];
	if (set == 0 || (set & (1u << c)))
		return 1;
	if (accepted != NULL)
		channel_list(set, accepted, accepted_size);
	return 0;
}

int
policy_request_channels(const struct policy *p, const char *type, char *out,
                        size_t size)
{
	int t = word_index(policy_request_type_names, type);

	if (size > 0)
		out[0] = '\0';
	if (t < 0 || p->request_channels[t] == 0)
		return 0;
	channel_list(p->request_channels[t], out, size);
	return 1;
}

static void
compile(struct loader *ld, const struct ynode *root)
{
	const struct ynode *v;

	if (root->bad)
		return;
	if (root->kind != Y_MAP) {
		diag(ld, root,
		     "a policy is a YAML mapping (vaern, controller, "
		     "categories, ...)");
		return;
	}
	check_keys(ld, root, top_keys, "the policy");

	v = map_get(root, "vaern", NULL);
	if (v == NULL)
		diag(ld, root,
		     "the policy has no vaern (the language "
		     "version: " POLICY_LANGUAGE_VERSION ")");
	else if (!v->bad && (v->kind != Y_SCALAR ||
	                     strcmp(v->text, POLICY_LANGUAGE_VERSION) != 0))
		diag(ld, v,
		     "vaern: this is language "
		     "version " POLICY_LANGUAGE_VERSION);

	/* The order matters: each section refers only to earlier ones. */
	{
		const struct ynode *tv = map_get(root, "traffic", NULL), *tp;

		tp = tv != NULL && tv->kind == Y_MAP && !tv->bad
		             ? map_get(tv, "purpose", NULL)
		             : NULL;
		if (tp != NULL && tp->kind == Y_SCALAR && !tp->bad)
			ld->traffic_purpose = tp->text;
	}
	compile_controller(ld, root);
	compile_sources(ld, root);
	compile_events(ld, root);
	compile_categories(ld, root);
	compile_purposes(ld, root);
	compile_event_links(ld, root);
	compile_retention(ld, root);
	compile_transfers(ld, root);
	compile_recipients(ld, root);
	compile_roles(ld, root);
	compile_rights(ld, root);
	compile_incidents(ld, root);
	compile_request_channels(ld, root);
	/* GDPR Art. 30(1)(g), 32: the measures, as the policy states them. */
	take_texts(ld, map_get(root, "security", NULL), "the policy",
	           "security", &ld->p->security, &ld->p->nsecurity);
	compile_traffic(ld, root);
}

/* ---------------------------------------------------------------------
 * The API.
 */

static void
free_strings(char **a, size_t n)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < n; i++)
		free(a[i]);
	free(a);
}

void
policy_free(struct policy *p)
{
	struct policy_controller *c;
	size_t i;

	if (p == NULL)
		return;
	c = &p->controller;
	free(c->id);
	free(c->name);
	free(c->registration);
	free(c->address);
	free(c->email);
	free(c->phone);
	free(c->complaints);
	free(c->authority_name);
	free(c->authority_url);
	free(c->dpo_name);
	free(c->dpo_email);
	free(c->dpo_phone);
	free(c->dpo_address);
	free(c->representative);
	for (i = 0; i < p->ncategories; i++) {
		free(p->categories[i].id);
		free(p->categories[i].description);
		free(p->categories[i].special_kind);
		free(p->categories[i].source_party);
	}
	free(p->categories);
	for (i = 0; i < p->nsources; i++) {
		free(p->sources[i].id);
		free(p->sources[i].name);
	}
	free(p->sources);
	for (i = 0; i < p->npurposes; i++) {
		struct policy_purpose *pp = &p->purposes[i];

		free(pp->id);
		free(pp->description);
		free(pp->legitimate_interests);
		free(pp->categories);
		free(pp->mandatory);
		free_strings(pp->consent_sources, pp->nconsent_sources);
		free(pp->consent_text);
		free_strings(pp->subjects, pp->nsubjects);
	}
	free(p->purposes);
	free_strings(p->security, p->nsecurity);
	for (i = 0; i < p->nretention; i++) {
		struct policy_retention *r = &p->retention[i];

		free(r->id);
		free(r->clause);
		free(r->categories);
		free_strings(r->anchors, r->nanchors);
		free(r->anchor_event);
		free(r->keep);
		free(r->keep_as);
		free(r->consents);
		free(r->legal_obligation);
	}
	free(p->retention);
	for (i = 0; i < p->nrecipients; i++) {
		struct policy_recipient *r = &p->recipients[i];

		free(r->id);
		free(r->name);
		free(r->agreement);
		free(r->demand);
		free(r->safeguard);
		free(r->purposes);
		free(r->categories);
	}
	free(p->recipients);
	for (i = 0; i < p->ntransfers; i++)
		free(p->transfers[i].safeguard);
	free(p->transfers);
	for (i = 0; i < p->nroles; i++) {
		free(p->roles[i].id);
		free(p->roles[i].description);
		free(p->roles[i].purposes);
	}
	free(p->roles);
	free(p->traffic.ingest);
	for (i = 0; i < p->nevents; i++) {
		free(p->events[i].id);
		free(p->events[i].description);
	}
	free(p->events);
	free(p);
}

enum vaern_err
policy_load_buffer(const char *buf, size_t len, struct policy **out,
                   struct policy_diags *diags)
{
	struct loader ld;
	struct ynode *root = NULL;
	enum vaern_err err = VAERN_E_INVALID;
	size_t valid;

	*out = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.suggest_budget = SUGGEST_BUDGET;

	if (len > POLICY_FILE_MAX) {
		diag_at(&ld, 0, 0, "the policy file is larger than %d bytes",
		        POLICY_FILE_MAX);
		goto done;
	}
	/* libfyaml passes some invalid bytes through; refuse them here. */
	valid = utf8_valid_prefix((const unsigned char *)buf, len);
	if (valid == len && memchr(buf, '\0', len) != NULL)
		valid = (size_t)((const char *)memchr(buf, '\0', len) - buf);
	if (valid < len) {
		unsigned line = 1, column = 1;
		size_t i;

		for (i = 0; i < valid; i++) {
			if (buf[i] == '\n') {
				line++;
				column = 1;
			} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
				column++;
			}
		}
		diag_at(&ld, line, column,
		        "the policy file is not UTF-8 text (byte 0x%02x)",
		        (unsigned char)buf[valid]);
		goto done;
	}
	ld.p = calloc(1, sizeof(*ld.p));
	if (ld.p == NULL) {
		ld.nomem = 1;
		goto done;
	}
	root = build_tree(&ld, buf, len);
	if (root == NULL)
		goto done;
	compile(&ld, root);
	if (ld.nomem || ld.ndiags > 0 || ld.dropped > 0)
		goto done;
	if (sodium_init() < 0) {
		err = VAERN_E_INTERNAL;
		goto done;
	}
	crypto_hash_sha256(ld.p->sha256, (const unsigned char *)buf, len);
	*out = ld.p;
	ld.p = NULL;
	err = VAERN_OK;
done:
	if (ld.nomem)
		err = VAERN_E_NOMEM;
	if (err != VAERN_OK && err != VAERN_E_INVALID && ld.ndiags == 0)
		diag_at(&ld, 0, 0, "%s", vaern_strerror(err));
	diags_export(&ld, diags);
	ynode_free(root);
	policy_free(ld.p);
	free(ld.categories.refs);
	free(ld.purposes.refs);
	free(ld.events.refs);
	free(ld.diags);
	return err;
}

/* Reads at most POLICY_FILE_MAX + 1 bytes of fd into a new buffer. */
static enum vaern_err
read_limited(int fd, char **bufp, size_t *lenp, int *errnop)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap), *grown;
	ssize_t got;

	*bufp = NULL;
	*lenp = 0;
	*errnop = 0;
	if (buf == NULL)
		return VAERN_E_NOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > POLICY_FILE_MAX)
				break;
			cap = cap * 2 > POLICY_FILE_MAX + 1
			              ? POLICY_FILE_MAX + 1
			              : cap * 2;
			grown = realloc(buf, cap);
			if (grown == NULL) {
				free(buf);
				return VAERN_E_NOMEM;
			}
			buf = grown;
		}
		got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			*errnop = errno;
			free(buf);
			return VAERN_E_IO;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	*bufp = buf;
	*lenp = len;
	return VAERN_OK;
}

enum vaern_err
policy_load_file(const char *path, struct policy **out,
                 struct policy_diags *diags)
{
	enum vaern_err err;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, errnum = 0;

	*out = NULL;
	memset(diags, 0, sizeof(*diags));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		errnum = errno;
		err = VAERN_E_IO;
		goto done;
	}
	if (fstat(fd, &st) == -1) {
		errnum = errno;
		err = VAERN_E_IO;
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		errnum = EISDIR;
		err = VAERN_E_IO;
		goto done;
	}
	/* Refused before reading (a limit checked while parsing). */
	if (S_ISREG(st.st_mode) && st.st_size > POLICY_FILE_MAX) {
		len = POLICY_FILE_MAX + 1;
		err = VAERN_E_INVALID;
		goto done;
	}
	err = read_limited(fd, &buf, &len, &errnum);
	if (err != VAERN_OK)
		goto done;
	if (len > POLICY_FILE_MAX) {
		err = VAERN_E_INVALID;
		goto done;
	}
	err = policy_load_buffer(buf, len, out, diags);
done:
	if (err == VAERN_E_IO) {
		snprintf(diags->items[0].message,
		         sizeof(diags->items[0].message), "cannot read: %s",
		         strerror(errnum));
		diags->count = 1;
	} else if (err == VAERN_E_INVALID && len > POLICY_FILE_MAX) {
		snprintf(diags->items[0].message,
		         sizeof(diags->items[0].message),
		         "the policy file is larger than %d bytes",
		         POLICY_FILE_MAX);
		diags->count = 1;
	} else if (err == VAERN_E_NOMEM && diags->count == 0) {
		snprintf(diags->items[0].message,
		         sizeof(diags->items[0].message), "%s",
		         vaern_strerror(err));
		diags->count = 1;
	}
	free(buf);
	if (fd != -1)
		close(fd);
	return err;
}

/* ---------------------------------------------------------------------
 * Lookups.
 */

/*
 * The index of the entry whose id is id in an array of n structs of size
 * stride, each with its char *id at offset off; -1 if none.
 */
static long
index_by_id(const void *base, size_t n, size_t stride, size_t off,
            const char *id)
{
	const char *p = base;

	if (id == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *const *entry_id =
		        (const char *const *)(const void *)(p + i * stride +
		                                            off);

		if (strcmp(*entry_id, id) == 0)
			return (long)i;
	}
	return -1;
}

#define INDEX_BY_ID(arr, n, type, want)                                        \
	index_by_id((arr), (n), sizeof(type), offsetof(type, id), (want))

long
policy_category_index(const struct policy *p, const char *id)
{
	return p == NULL ? -1
	                 : INDEX_BY_ID(p->categories, p->ncategories,
	                               struct policy_category, id);
}

long
policy_purpose_index(const struct policy *p, const char *id)
{
	return p == NULL ? -1
	                 : INDEX_BY_ID(p->purposes, p->npurposes,
	                               struct policy_purpose, id);
}

long
policy_cookie_purpose(const struct policy *p, enum policy_cookie kind)
{
	for (size_t i = 0; p != NULL && kind != COOKIE_NONE && i < p->npurposes;
	     i++) {
		if (p->purposes[i].cookie == kind)
			return (long)i;
	}
	return -1;
}

long
policy_role_index(const struct policy *p, const char *id)
{
	return p == NULL ? -1
	                 : INDEX_BY_ID(p->roles, p->nroles, struct policy_role,
	                               id);
}

long
policy_recipient_index(const struct policy *p, const char *id)
{
	return p == NULL ? -1
	                 : INDEX_BY_ID(p->recipients, p->nrecipients,
	                               struct policy_recipient, id);
}

long
policy_event_index(const struct policy *p, const char *id)
{
	return p == NULL ? -1
	                 : INDEX_BY_ID(p->events, p->nevents,
	                               struct policy_event, id);
}

int
policy_purpose_uses(const struct policy *p, size_t purpose, size_t category)
{
	const struct policy_purpose *pp;
	size_t i;

	if (p == NULL || purpose >= p->npurposes)
		return 0;
	pp = &p->purposes[purpose];
	for (i = 0; i < pp->ncategories; i++)
		if (pp->categories[i] == category)
			return 1;
	return 0;
}

int
policy_rule_may_stay_undated(const struct policy *p, size_t r)
{
	const struct policy_retention *rule;

	if (r >= p->nretention)
		return 0;
	rule = &p->retention[r];
	if (rule->ncategories == 0 || rule->waits_for >= 0)
		return 0;
	for (size_t i = 0; i < rule->nanchors; i++)
		if (rule->anchor_event[i] == ANCHOR_EVENT_COLLECTED ||
		    rule->anchor_event[i] == ANCHOR_EVENT_FY_END)
			return 0;
	return 1;
}
