/*
 * policy_yaml.c -- the YAML walking: libfyaml's events built into a tree
 * of struct ynode with every limit enforced, the accessors the sections
 * read it with, and the name indexes references resolve through.
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
 * Stage 1: YAML events to a tree.
 */

void
policy_ynode_free(struct ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	/* Depth is bounded by YAML_DEPTH_MAX, so recursion is too. */
	for (i = 0; i < n->n; i++)
		policy_ynode_free(n->items[i]);
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
	policy_diag(b->ld, parent,
	            "more than %d entries in one list or mapping",
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
		policy_diag(b->ld, node,
		            "a mapping key must be a plain string");
		return 0;
	}
	for (i = 0; i < parent->n; i += 2) {
		const struct ynode *k = parent->items[i];
		char nb[SHOW_BUF];

		if (k->len == node->len &&
		    memcmp(k->text, node->text, k->len) == 0) {
			policy_diag(b->ld, node,
			            "duplicate key '%s' (first at line %u)",
			            policy_show(nb, node->text), k->line);
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
		policy_diag_at(
		        b->ld, line, column,
		        "anchors (&%s) are not allowed: write the value out",
		        policy_show(nb, tb));
	}
	if (tag != NULL) {
		token_copy(tag, 1, tb);
		mark_pos(fy_token_start_mark(tag), &line, &column);
		if (line == 0) {
			line = node->line;
			column = node->column;
		}
		policy_diag_at(b->ld, line, column, "tags (%s) are not allowed",
		               policy_show(nb, tb));
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
		policy_diag(b->ld, n, "text longer than %d bytes",
		            POLICY_TEXT_MAX);
		n->bad = 1;
		goto done;
	}
	if (memchr(t, '\0', len) != NULL) {
		policy_diag(b->ld, n, "a value contains a NUL character");
		n->bad = 1;
		goto done;
	}
	/* An escape ("\ud800") can produce what the file's bytes do not. */
	if (utf8_valid_prefix((const unsigned char *)t, len) != len) {
		policy_diag(b->ld, n, "a value is not valid UTF-8");
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
		policy_ynode_free(n);
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
			policy_diag(b->ld, n, "nested more than %d levels deep",
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
		policy_ynode_free(n);
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
	policy_diag(b->ld, n,
	            "aliases (*%s) are not allowed: write the value out",
	            policy_show(nb, tb));
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
		policy_diag_at(ld, el, ec, "YAML: %s",
		               err->msg != NULL ? err->msg : "syntax error");
		any = 1;
	}
	if (!any)
		policy_diag_at(ld, line, column, "YAML syntax error");
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
			policy_diag_at(ld, line, column,
			               "a policy file holds one YAML document");
			goto done;
		}
		if ((type == FYET_SCALAR || type == FYET_ALIAS ||
		     type == FYET_MAPPING_START ||
		     type == FYET_SEQUENCE_START) &&
		    ++nodes > YAML_NODES_MAX) {
			policy_diag_at(ld, 0, 0,
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
		policy_diag_at(ld, 0, 0, "the policy file is empty");
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
struct ynode *
policy_build_tree(struct loader *ld, const char *buf, size_t len)
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
		policy_diag_at(ld, 0, 0, "the policy file is empty");
		goto done;
	}
	root = b.root;
	b.root = NULL;
done:
	policy_ynode_free(b.root);
	parser_close(&yp);
	return root;
}

/* ---------------------------------------------------------------------
 * Reading the tree.
 */

/* YAML's null: an empty plain value, "~" or "null". */
int
policy_is_null(const struct ynode *n)
{
	return n->kind == Y_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(n->text, "~") == 0 ||
	        strcmp(n->text, "null") == 0 || strcmp(n->text, "Null") == 0 ||
	        strcmp(n->text, "NULL") == 0);
}

/* Returns the value of key in map and its key node in *keyp, or NULL. */
const struct ynode *
policy_map_get(const struct ynode *map, const char *key,
               const struct ynode **keyp)
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
void
policy_check_keys(struct loader *ld, const struct ynode *map,
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
		hint = policy_suggest(ld, k->text, allowed, nallowed);
		if (hint != NULL)
			policy_diag(
			        ld, k,
			        "unknown key '%s' in %s (did you mean '%s'?)",
			        policy_show(nb, k->text), ctx, hint);
		else
			policy_diag(ld, k, "unknown key '%s' in %s",
			            policy_show(nb, k->text), ctx);
	}
}

/*
 * Returns the scalar value of key in map, or NULL when it is absent or
 * null (reported as missing at `at` if required), not a scalar (reported)
 * or already refused.
 */
const struct ynode *
policy_get_scalar(struct loader *ld, const struct ynode *map, const char *key,
                  const struct ynode *at, const char *ctx, int required)
{
	const struct ynode *v = policy_map_get(map, key, NULL);

	if (v == NULL || policy_is_null(v)) {
		if (required)
			policy_diag(ld, v != NULL ? v : at, "%s has no %s", ctx,
			            key);
		return NULL;
	}
	if (v->bad)
		return NULL;
	if (v->kind != Y_SCALAR) {
		policy_diag(ld, v, "%s: %s must be a single value, not a %s",
		            ctx, key, v->kind == Y_MAP ? "mapping" : "list");
		return NULL;
	}
	return v;
}

/* As get_scalar, for free text: returns a copy owned by the policy. */
char *
policy_get_text(struct loader *ld, const struct ynode *map, const char *key,
                const struct ynode *at, const char *ctx, int required)
{
	const struct ynode *v =
	        policy_get_scalar(ld, map, key, at, ctx, required);

	return v != NULL ? policy_pstrndup(ld, v->text, v->len) : NULL;
}

/* Booleans are `true` or `false`, unquoted; absent is false. */
int
policy_get_bool(struct loader *ld, const struct ynode *map, const char *key,
                const char *ctx)
{
	const struct ynode *v = policy_get_scalar(ld, map, key, NULL, ctx, 0);

	if (v == NULL)
		return 0;
	if (v->plain && strcmp(v->text, "true") == 0)
		return 1;
	if (!v->plain || strcmp(v->text, "false") != 0)
		policy_diag(ld, v, "%s: %s must be true or false", ctx, key);
	return 0;
}

/* Returns the index of word in words (NULL-terminated), or -1. */
int
policy_word_index(const char *const *words, const char *word)
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
int
policy_get_choice(struct loader *ld, const struct ynode *map, const char *key,
                  const char *ctx, const char *const *words, int dflt)
{
	const struct ynode *raw = policy_map_get(map, key, NULL);
	const struct ynode *v = policy_get_scalar(ld, map, key, NULL, ctx, 0);
	char nb[SHOW_BUF], list[256];
	size_t used = 0;
	int i;

	if (v == NULL)
		return raw == NULL || policy_is_null(raw) ? dflt : -1;
	i = policy_word_index(words, v->text);
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
	policy_diag(ld, v, "%s: unknown %s '%s' (one of: %s)", ctx, key,
	            policy_show(nb, v->text), list);
	return -1;
}

/* Ids match [a-z][a-z0-9_-]{0,63} (docs/policy.md). */
int
policy_is_id(const char *s, size_t len)
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

void
policy_check_id(struct loader *ld, const struct ynode *n, const char *what)
{
	char nb[SHOW_BUF];

	if (!n->bad && !policy_is_id(n->text, n->len))
		policy_diag(
		        ld, n,
		        "%s id '%s' is not valid: use a-z, 0-9, '_' and '-', "
		        "starting with a letter, at most %d bytes",
		        what, policy_show(nb, n->text), POLICY_NAME_MAX);
}

/*
 * The items of a list value: a sequence, or (when one is not NULL) a
 * single scalar standing for a list of one, kept in *one. Returns the count and
 * sets *items, or returns 0 with *items NULL after reporting a wrong type.
 */
size_t
policy_list_items(struct loader *ld, const struct ynode *v, const char *ctx,
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
		policy_diag(ld, v, "%s: %s must be a list", ctx, key);
	return 0;
}

/*
 * A list of free texts (a purpose's categories of data subjects, the
 * security measures; GDPR Art. 30(1)(c), (g)) into *out, copies owned by
 * the policy; *n is the count. A single text stands for a list of one.
 */
void
policy_take_texts(struct loader *ld, const struct ynode *v, const char *ctx,
                  const char *key, char ***out, size_t *n)
{
	const struct ynode *one = NULL;
	const struct ynode *const *items;
	size_t count, i;

	*out = NULL;
	*n = 0;
	if (v == NULL || policy_is_null(v))
		return;
	count = policy_list_items(ld, v, ctx, key, &one, &items);
	if (v->kind == Y_SEQ && count == 0)
		policy_diag(ld, v, "%s: %s must not be empty", ctx, key);
	if (count == 0 ||
	    (*out = policy_pcalloc(ld, count, sizeof(char *))) == NULL)
		return;
	for (i = 0; i < count; i++) {
		const struct ynode *it = items[i];

		if (it->bad)
			continue;
		if (it->kind != Y_SCALAR || it->len == 0) {
			policy_diag(ld, it, "%s: each of %s is a text", ctx,
			            key);
			continue;
		}
		if (((*out)[*n] = policy_pstrndup(ld, it->text, it->len)) !=
		    NULL)
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
void
policy_index_build(struct loader *ld, struct name_index *ix, size_t n,
                   const char *(*name_at)(const struct policy *, size_t))
{
	size_t i, k = 0;

	free(ix->refs);
	ix->refs = policy_pcalloc(ld, n, sizeof(*ix->refs));
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

long
policy_index_find(const struct name_index *ix, const char *name)
{
	struct name_ref key = {name, 0}, *hit;

	if (ix->n == 0)
		return -1;
	hit = bsearch(&key, ix->refs, ix->n, sizeof(*ix->refs), name_ref_cmp);
	return hit != NULL ? (long)hit->idx : -1;
}

/* Suggests the closest name of the index, for an undefined reference. */
const char *
policy_index_suggest(struct loader *ld, const struct name_index *ix,
                     const char *w)
{
	struct closest c;
	size_t i;

	policy_closest_init(&c, w);
	for (i = 0; i < ix->n; i++)
		policy_closest_try(ld, &c, ix->refs[i].name);
	return policy_closest_result(&c);
}

const char *
policy_category_name(const struct policy *p, size_t i)
{
	return p->categories[i].id;
}

const char *
policy_purpose_name(const struct policy *p, size_t i)
{
	return p->purposes[i].id;
}

const char *
policy_event_name(const struct policy *p, size_t i)
{
	return p->events[i].id;
}

/*
 * Resolves the list value v (names of noun, in index ix) of key in ctx.
 * Returns the count resolved and a new array in *refs (caller frees);
 * reports undefined names and names listed twice.
 */
size_t
policy_resolve_list(struct loader *ld, const struct ynode *v, const char *key,
                    const char *ctx, const char *noun,
                    const struct name_index *ix, struct ref **refs)
{
	const struct ynode *const *items;
	size_t n, i, j, k = 0;

	*refs = NULL;
	n = policy_list_items(ld, v, ctx, key, NULL, &items);
	if (n == 0)
		return 0;
	*refs = policy_pcalloc(ld, n, sizeof(**refs));
	if (*refs == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		const struct ynode *it = items[i];
		char nb[SHOW_BUF];
		const char *hint;
		long idx;

		if (it->bad)
			continue;
		if (it->kind != Y_SCALAR || policy_is_null(it)) {
			policy_diag(ld, it, "%s: %s must list %s ids", ctx, key,
			            noun);
			continue;
		}
		idx = policy_index_find(ix, it->text);
		if (idx < 0) {
			hint = policy_index_suggest(ld, ix, it->text);
			if (hint != NULL)
				policy_diag(
				        ld, it,
				        "undefined %s '%s' in %s (did you mean "
				        "'%s'?)",
				        noun, policy_show(nb, it->text), ctx,
				        hint);
			else
				policy_diag(ld, it, "undefined %s '%s' in %s",
				            noun, policy_show(nb, it->text),
				            ctx);
			continue;
		}
		for (j = 0; j < k; j++)
			if ((*refs)[j].idx == (size_t)idx)
				break;
		if (j < k) {
			policy_diag(ld, it, "%s: %s '%s' is listed twice in %s",
			            ctx, noun, policy_show(nb, it->text), key);
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
	size_t *out = policy_pcalloc(ld, n, sizeof(*out)), i;

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
struct ref *
policy_take_refs(struct loader *ld, const struct ynode *map, const char *key,
                 const struct ynode *at, const char *ctx, const char *noun,
                 const struct name_index *ix, int required, size_t **out,
                 size_t *nout, size_t *nrefs)
{
	const struct ynode *v = policy_map_get(map, key, NULL);
	struct ref *refs = NULL;
	size_t n;

	*out = NULL;
	*nout = 0;
	*nrefs = 0;
	if (v == NULL || policy_is_null(v)) {
		if (required)
			policy_diag(ld, v != NULL ? v : at, "%s has no %s", ctx,
			            key);
		return NULL;
	}
	if (v->kind == Y_SEQ && v->n == 0 && required)
		policy_diag(ld, v, "%s: %s must not be empty", ctx, key);
	n = policy_resolve_list(ld, v, key, ctx, noun, ix, &refs);
	if (n > 0) {
		*out = ref_indexes(ld, refs, n);
		if (*out != NULL)
			*nout = n;
	}
	*nrefs = n;
	return refs;
}
