/*
 * cmd_import.c -- vaern import: an existing customer base from a CSV file
 * into the vault (issue 4). docs/import.md is the user's side of this.
 *
 * The file is read once (csv.h). Its header and the mapping (--map FILE,
 * --column HEADER=SPEC, and by default a column named like a category)
 * say which column is which category, consent, event or collection time.
 * Every row then goes through the vault exactly as `subject add` would:
 * vault_subject_prepare checks it against the policy and seals it (on
 * worker threads, each with its own vault), vault_subject_write writes it
 * on this thread inside one transaction, under a savepoint, so a row that
 * fails only when written (an identifier another subject has) is undone
 * alone and the rest goes on. The whole import is that one transaction:
 * by default it is committed only if no row was bad (all or nothing);
 * with --skip-bad the good rows are committed and the bad ones reported.
 *
 * Messages name the file, the line and the column's header, never a
 * value (GDPR-32, CONVENTIONS.md habit 4): the vault's messages say what
 * is wrong with a fact by its position, which is mapped back to the
 * column here.
 *
 * Why not vault_subject_add_many: it is all or nothing per call, and a
 * failure when writing (an identifier already taken) leaves the caller's
 * transaction to be rolled back, so it could neither report every bad row
 * of a file nor load the good ones. prepare + write is the same work (the
 * same checks, the sealing on other threads) with a savepoint per row.
 */
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../audit/audit.h"
#include "../calendar/calendar.h"
#include "../common/crash.h"
#include "../ids/ids.h"
#include "../vault/vault.h"
#include "cli.h"
#include "csv.h"
#include "import_internal.h"

/* Not in cli.h (not this file's to edit): main.c declares it too. */
int cmd_import(int argc, char **argv);

#define IMPORT_BATCH_DEFAULT  2048   /* rows prepared and written together */
#define IMPORT_BATCH_MAX      100000 /* --batch at most */
#define IMPORT_ERRORS_DEFAULT 100    /* bad rows listed (--max-errors) */
#define IMPORT_WORKERS_MAX    4      /* threads that prepare rows */
#define IMPORT_CACHE_KIB      (256 * 1024)  /* SQLite page cache */
#define IMPORT_ARENA_BLOCK    (1024 * 1024) /* >= CSV_FIELD_MAX + 1 */

/* Exit code of --skip-bad when rows were skipped: the good rows are in. */
#define IMPORT_EXIT_PARTIAL 4

const char cli_import_usage[] =
        "usage: vaern import [--controller ID] [--map FILE]\n"
        "        [--column HEADER=SPEC]... [--purpose P]... [--source S]\n"
        "        [--collected-at COLUMN|DATE] [--skip-bad] [--batch N]\n"
        "        [--max-errors N] [--delimiter C] FILE.csv|-\n"
        "SPEC: CATEGORY[@PURPOSE], event:KIND, consent:PURPOSE:SOURCE,\n"
        "collected_at, or - (leave the column out). See docs/import.md.\n";

/* ---- the command line ---------------------------------------------------
 */

/* Parses a decimal count in [min, max] (no atoi: CONVENTIONS.md). */
static int
parse_count(const char *s, unsigned long min, unsigned long max,
            unsigned long *out)
{
	char *end = NULL;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v < min || v > max)
		return -1;
	*out = (unsigned long)v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct import_args *a)
{
	memset(a, 0, sizeof(*a));
	a->batch = IMPORT_BATCH_DEFAULT;
	a->max_errors = IMPORT_ERRORS_DEFAULT;
	a->delimiter = ',';
	a->columns = calloc((size_t)argc, sizeof(*a->columns));
	a->purposes = calloc((size_t)argc, sizeof(*a->purposes));
	if (a->columns == NULL || a->purposes == NULL)
		return cli_report("import", VAERN_E_NOMEM, NULL);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : 0;
		int takes = 1;

		if (strcmp(o, "--skip-bad") == 0) {
			a->skip_bad = 1;
			continue;
		}
		if (o[0] != '-' || strcmp(o, "-") == 0) {
			if (a->file != NULL)
				return cli_usage("import", "one FILE.csv only");
			a->file = o;
			continue;
		}
		if (val == NULL)
			return cli_usage("import", "an option needs a value");
		if (strcmp(o, "--controller") == 0)
			a->controller = val;
		else if (strcmp(o, "--map") == 0)
			a->map = val;
		else if (strcmp(o, "--column") == 0)
			a->columns[a->ncolumns++] = argv[i + 1];
		else if (strcmp(o, "--purpose") == 0)
			a->purposes[a->npurposes++] = val;
		else if (strcmp(o, "--source") == 0)
			a->source = val;
		else if (strcmp(o, "--collected-at") == 0)
			a->collected_at = val;
		else if (strcmp(o, "--batch") == 0) {
			if (parse_count(val, 1, IMPORT_BATCH_MAX, &a->batch))
				return cli_usage("import",
				                 "--batch wants 1 to 100000");
		} else if (strcmp(o, "--max-errors") == 0) {
			if (parse_count(val, 0, ULONG_MAX, &a->max_errors))
				return cli_usage("import",
				                 "--max-errors wants a number "
				                 "(0: all)");
		} else if (strcmp(o, "--delimiter") == 0) {
			if (strcmp(val, "tab") == 0)
				a->delimiter = '\t';
			else if (strlen(val) == 1)
				a->delimiter = val[0];
			else
				return cli_usage("import",
				                 "--delimiter wants one "
				                 "character (or 'tab')");
		} else {
			takes = 0;
		}
		if (!takes) {
			fputs(cli_import_usage, stderr);
			return EXIT_USAGE;
		}
		i++;
	}
	if (a->file == NULL) {
		fputs(cli_import_usage, stderr);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static void
args_free(struct import_args *a)
{
	free(a->columns);
	free(a->purposes);
}

/* ---- rows and batches --------------------------------------------------- */

/* A block of copied cell values; wiped before reuse and when freed. */
struct arena_block {
	struct arena_block *next;
	size_t used;
	char bytes[IMPORT_ARENA_BLOCK];
};

struct arena {
	struct arena_block *head; /* the blocks, kept for the next batch */
	struct arena_block *cur;  /* the one being filled */
};

static char *
arena_copy(struct arena *ar, const char *s, size_t len)
{
	char *out;

	if (ar->cur == NULL)
		ar->cur = ar->head;
	while (ar->cur != NULL && IMPORT_ARENA_BLOCK - ar->cur->used < len + 1)
		ar->cur = ar->cur->next;
	if (ar->cur == NULL) {
		struct arena_block *b = malloc(sizeof(*b));

		if (b == NULL)
			return NULL;
		b->used = 0;
		b->next = ar->head;
		ar->head = ar->cur = b;
	}
	out = ar->cur->bytes + ar->cur->used;
	memcpy(out, s, len);
	out[len] = '\0';
	ar->cur->used += len + 1;
	return out;
}

static void
arena_reset(struct arena *ar)
{
	for (struct arena_block *b = ar->head; b != NULL; b = b->next) {
		explicit_bzero(b->bytes, b->used);
		b->used = 0;
	}
	ar->cur = ar->head;
}

static void
arena_free(struct arena *ar)
{
	arena_reset(ar);
	while (ar->head != NULL) {
		struct arena_block *next = ar->head->next;

		free(ar->head);
		ar->head = next;
	}
	ar->cur = NULL;
}

struct row_event {
	const char *kind; /* policy-owned */
	int64_t at;
	size_t entry; /* its mapping entry */
};

/* One data row of the file on its way into the vault. */
struct row {
	unsigned long line;          /* where it starts in the file */
	struct vault_fact_in *facts; /* into the batch's arrays */
	size_t *fact_entry;          /* the mapping entry of each */
	size_t nfacts;
	struct vault_consent_in *consents;
	size_t *consent_entry;
	size_t nconsents;
	struct row_event *events;
	size_t nevents;
	struct vault_prepared *prepared; /* sealed, waiting to be written */
	enum vaern_err err;              /* VAERN_OK while the row is good */
	long err_entry;                  /* the entry at fault, or -1 */
	struct vaern_msg msg;            /* what is wrong: no value */
};

struct batch {
	struct row *rows;
	size_t n;                          /* rows in use */
	struct vault_fact_in *facts;       /* rows x mapping.nfacts */
	size_t *fact_entry;                /* the same */
	struct vault_consent_in *consents; /* rows x mapping.nconsents */
	size_t *consent_entry;
	struct row_event *events; /* rows x mapping.nevents */
	struct arena arena;       /* the cells' copies */
};

static int
batch_init(struct batch *b, size_t cap, const struct mapping *m)
{
	size_t nf = m->nfacts ? m->nfacts : 1, nc = m->nconsents + 1,
	       ne = m->nevents + 1;

	memset(b, 0, sizeof(*b));
	b->rows = calloc(cap, sizeof(*b->rows));
	b->facts = calloc(cap * nf, sizeof(*b->facts));
	b->fact_entry = calloc(cap * nf, sizeof(*b->fact_entry));
	b->consents = calloc(cap * nc, sizeof(*b->consents));
	b->consent_entry = calloc(cap * nc, sizeof(*b->consent_entry));
	b->events = calloc(cap * ne, sizeof(*b->events));
	if (b->rows == NULL || b->facts == NULL || b->fact_entry == NULL ||
	    b->consents == NULL || b->consent_entry == NULL ||
	    b->events == NULL)
		return -1;
	for (size_t i = 0; i < cap; i++) {
		b->rows[i].facts = b->facts + i * nf;
		b->rows[i].fact_entry = b->fact_entry + i * nf;
		b->rows[i].consents = b->consents + i * nc;
		b->rows[i].consent_entry = b->consent_entry + i * nc;
		b->rows[i].events = b->events + i * ne;
	}
	return 0;
}

/* Frees what the rows still hold and wipes the cells' copies. */
static void
batch_reset(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		vault_prepared_free(b->rows[i].prepared);
		b->rows[i].prepared = NULL;
	}
	b->n = 0;
	arena_reset(&b->arena);
}

static void
batch_free(struct batch *b)
{
	if (b->rows != NULL)
		batch_reset(b);
	arena_free(&b->arena);
	free(b->rows);
	free(b->facts);
	free(b->fact_entry);
	free(b->consents);
	free(b->consent_entry);
	free(b->events);
}

/* Marks row bad (entry: the column at fault, or -1). */
static void
row_fail(struct row *row, long entry, enum vaern_err err, const char *text)
{
	row->err = err;
	row->err_entry = entry;
	(void)vaern_fail(&row->msg, err, "%s", text);
}

/* Parses a date or instant cell; the message quotes nothing of it. */
static int
cell_time(const char *cell, int64_t *t)
{
	struct vaern_msg why = {{0}};

	return cal_parse_instant(cell, t, &why) == VAERN_OK ? 0 : -1;
}

static const char bad_time[] =
        "not a date (YYYY-MM-DD) or an instant (YYYY-MM-DDTHH:MM:SSZ)";

/*
 * Turns record rec into row: the facts, consents and events the mapping
 * says, copies of the values. A row the mapping cannot read (ragged, a
 * bad date in a consent, event or collected_at column) is marked bad.
 * Returns -1 only when out of memory.
 */
static int
build_row(const struct mapping *m, const struct import_args *a, struct batch *b,
          struct row *row, const struct csv_record *rec, int *given)
{
	int64_t collected = m->collected_default;

	row->line = rec->line;
	row->nfacts = row->nconsents = row->nevents = 0;
	row->prepared = NULL;
	row->err = VAERN_OK;
	row->err_entry = -1;
	row->msg.text[0] = '\0';
	if (rec->nfields != m->ncolumns) {
		char text[96];

		(void)snprintf(text, sizeof(text),
		               "the row has %zu field%s, the header %zu",
		               rec->nfields, rec->nfields == 1 ? "" : "s",
		               m->ncolumns);
		row_fail(row, -1, VAERN_E_INVALID, text);
		return 0;
	}
	/* SHOP-PAY-1: no cell of the file may hold a full card number,
	 * mapped or not (the one scanner of every text that enters). */
	for (size_t j = 0; j < rec->nfields; j++) {
		char text[128];
		long at = -1;

		if (!id_contains_card_number(rec->fields[j]))
			continue;
		for (size_t i = 0; i < m->nentries && at < 0; i++)
			if (m->entries[i].column == j)
				at = (long)i;
		if (at >= 0) /* the message is prefixed with the column */
			(void)snprintf(text, sizeof(text),
			               "the value holds a full payment card "
			               "number, which vaern never stores "
			               "(SHOP-PAY-1)");
		else
			(void)snprintf(text, sizeof(text),
			               "column %zu holds a full payment card "
			               "number, which vaern never stores "
			               "(SHOP-PAY-1)",
			               j + 1);
		row_fail(row, at, VAERN_E_DENIED, text);
		return 0;
	}
	if (m->collected >= 0) {
		const char *cell = rec->fields[m->entries[m->collected].column];

		if (cell[0] != '\0' && cell_time(cell, &collected) != 0) {
			row_fail(row, m->collected, VAERN_E_INVALID, bad_time);
			return 0;
		}
	}
	for (size_t i = 0; i < m->nentries; i++) {
		const struct entry *e = &m->entries[i];
		const char *cell = rec->fields[e->column];
		int64_t t = INT64_MIN;

		given[i] = 0;
		if (cell[0] == '\0' ||
		    (e->kind != COL_CONSENT && e->kind != COL_EVENT))
			continue;
		if (cell_time(cell, &t) != 0) {
			row_fail(row, (long)i, VAERN_E_INVALID, bad_time);
			return 0;
		}
		if (e->kind == COL_CONSENT) {
			struct vault_consent_in *c =
			        &row->consents[row->nconsents];

			c->purpose = e->purpose;
			c->source = e->source;
			c->given_at = t;
			row->consent_entry[row->nconsents++] = i;
			given[i] = 1;
		} else {
			struct row_event *ev = &row->events[row->nevents++];

			ev->kind = e->event;
			ev->at = t;
			ev->entry = i;
		}
	}
	for (size_t i = 0; i < m->nentries; i++) {
		const struct entry *e = &m->entries[i];
		struct vault_fact_in *f;
		const char *cell = rec->fields[e->column];

		/* An empty cell is a value not known: no fact. */
		if (e->kind != COL_FACT || cell[0] == '\0' ||
		    (e->consent >= 0 && !given[e->consent]))
			continue;
		f = &row->facts[row->nfacts];
		f->category = e->category;
		f->purpose = e->purpose;
		f->source = a->source;
		f->collected_at = collected;
		f->value = arena_copy(&b->arena, cell, rec->lens[e->column]);
		if (f->value == NULL)
			return -1;
		row->fact_entry[row->nfacts++] = i;
	}
	return 0;
}

/* ---- the subjects of this import: id -> line, for duplicates ------------ */

/* Open addressing on the first 8 bytes of the random subject id. */
struct uid_lines {
	uint64_t *keys; /* 0: empty */
	unsigned long *lines;
	size_t cap; /* a power of two */
	size_t n;
};

static uint64_t
uid_key(const unsigned char uid[VAULT_UID_BYTES])
{
	uint64_t k;

	memcpy(&k, uid, sizeof(k));
	return k == 0 ? 1 : k;
}

static int
uid_put(struct uid_lines *t, const unsigned char uid[VAULT_UID_BYTES],
        unsigned long line)
{
	uint64_t k = uid_key(uid);
	size_t i;

	if ((t->n + 1) * 2 > t->cap) {
		struct uid_lines g = {NULL, NULL, t->cap ? t->cap * 2 : 4096,
		                      0};

		g.keys = calloc(g.cap, sizeof(*g.keys));
		g.lines = calloc(g.cap, sizeof(*g.lines));
		if (g.keys == NULL || g.lines == NULL) {
			free(g.keys);
			free(g.lines);
			return -1;
		}
		for (size_t j = 0; j < t->cap; j++) {
			if (t->keys[j] == 0)
				continue;
			for (i = t->keys[j] & (g.cap - 1); g.keys[i] != 0;
			     i = (i + 1) & (g.cap - 1))
				;
			g.keys[i] = t->keys[j];
			g.lines[i] = t->lines[j];
		}
		g.n = t->n;
		free(t->keys);
		free(t->lines);
		*t = g;
	}
	for (i = k & (t->cap - 1); t->keys[i] != 0; i = (i + 1) & (t->cap - 1))
		;
	t->keys[i] = k;
	t->lines[i] = line;
	t->n++;
	return 0;
}

/* The line of a subject of this import, or 0. */
static unsigned long
uid_line(const struct uid_lines *t, const unsigned char uid[VAULT_UID_BYTES])
{
	uint64_t k = uid_key(uid);

	if (t->cap == 0)
		return 0;
	for (size_t i = k & (t->cap - 1); t->keys[i] != 0;
	     i = (i + 1) & (t->cap - 1)) {
		if (t->keys[i] == k)
			return t->lines[i];
	}
	return 0;
}

/* ---- the import --------------------------------------------------------- */

struct worker {
	struct vault *v;        /* its own vault: prepare is per thread */
	const char *controller; /* the controller's id */
	struct batch *batch;    /* the rows to prepare */
	size_t first, step;     /* rows first, first + step, ... */
	pthread_t thread;
	int running;
};

struct import {
	const struct import_args *a;
	struct mapping m;
	struct vault *v;        /* the writer's vault */
	const char *controller; /* its id */
	struct worker workers[IMPORT_WORKERS_MAX];
	size_t nworkers;
	struct csv_reader *csv;
	int *given;            /* scratch: per entry, consent given */
	struct uid_lines uids; /* subjects written by this import */
	unsigned char (*written)[VAULT_UID_BYTES]; /* their ids, in order,
	                                              for the audit trail */
	size_t nwritten, capwritten;
	unsigned long rows;     /* data rows read (blank lines not) */
	unsigned long imported; /* subjects written */
	unsigned long bad;      /* rows refused */
	unsigned long facts, consents, events;
	int fatal; /* an error that ends the import (exit code) */
	/* the progress line (stderr is a terminal) */
	int progress;
	unsigned long long file_size; /* 0: not known */
	double started, drawn;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
progress_clear(struct import *im)
{
	if (im->progress)
		fputs("\r\033[K", stderr);
}

static void
progress_draw(struct import *im, int force)
{
	double t = now_s(), secs = t - im->started;
	unsigned long long off = csv_offset(im->csv);
	char bar[31];

	if (!im->progress || (!force && t - im->drawn < 0.2))
		return;
	im->drawn = t;
	fputs("\r\033[K", stderr);
	if (im->file_size > 0) {
		size_t full = (size_t)(off * 30 / im->file_size);

		if (full > 30)
			full = 30;
		memset(bar, '#', full);
		memset(bar + full, '.', 30 - full);
		bar[30] = '\0';
		fprintf(stderr, "[%s] %3d%% ", bar,
		        (int)(off * 100 / im->file_size));
	}
	fprintf(stderr, "%lu rows, %lu bad, %.0f rows/s", im->rows, im->bad,
	        secs > 0 ? (double)im->rows / secs : 0.0);
	fflush(stderr);
}

/*
 * Maps the vault's "fact N ..." or "consent N ..." to the row's column and
 * drops that prefix: the message then says what is wrong with the cell.
 */
static const char *
attribute(struct row *row)
{
	const char *t = row->msg.text, *rest;
	size_t *entries = NULL, count = 0, skip;
	unsigned long n;
	char *end;

	if (row->err_entry >= 0)
		return t;
	if (strncmp(t, "fact ", 5) == 0) {
		entries = row->fact_entry;
		count = row->nfacts;
		skip = 5;
	} else if (strncmp(t, "consent ", 8) == 0) {
		entries = row->consent_entry;
		count = row->nconsents;
		skip = 8;
	} else {
		return t;
	}
	if (t[skip] < '1' || t[skip] > '9')
		return t;
	n = strtoul(t + skip, &end, 10);
	if (n == 0 || n > count)
		return t;
	rest = end;
	if (strncmp(rest, " (category '", 12) == 0 &&
	    (rest = strstr(rest, "')")) != NULL)
		rest += 2;
	if (rest == NULL || strncmp(rest, ": ", 2) != 0)
		return t;
	row->err_entry = (long)entries[n - 1];
	return rest + 2;
}

/* Reports one bad row: FILE:LINE: column "HEADER": what is wrong. */
static void
report_row(struct import *im, struct row *row)
{
	/* The vault's messages never hold the value: a date that is not
	 * one is "not a real calendar date" without its parts (GDPR-32). */
	const char *text = attribute(row);

	im->bad++;
	if (im->a->max_errors != 0 && im->bad > im->a->max_errors)
		return;
	progress_clear(im);
	fprintf(stderr, "%s:%lu: ", im->m.file, row->line);
	if (row->err_entry >= 0) {
		fputs("column ", stderr);
		import_put_header(
		        im->m.headers[im->m.entries[row->err_entry].column]);
		fputs(": ", stderr);
	}
	fprintf(stderr, "%s\n", text);
}

/* A refusal is about the row; anything else ends the import. */
static int
is_refusal(enum vaern_err err)
{
	return err == VAERN_E_INVALID || err == VAERN_E_DENIED ||
	       err == VAERN_E_EXISTS || err == VAERN_E_NOTFOUND ||
	       err == VAERN_E_LIMIT;
}

/*
 * The row could not be written because one of its identifiers is taken:
 * find which, and whether by a row of this file (which line) or by a
 * subject already in the vault.
 */
static void
explain_duplicate(struct import *im, struct row *row)
{
	for (size_t k = 0; k < row->nfacts; k++) {
		const struct entry *e = &im->m.entries[row->fact_entry[k]];
		unsigned char uid[VAULT_UID_BYTES];
		struct vaern_msg msg = {{0}};
		unsigned long line;

		struct vault_identity id = {e->category, row->facts[k].value};

		/* AURA-LOGIN-1: in the category's own index. */
		if (e->identifier == ID_NONE ||
		    vault_subject_find_identities(im->v, im->controller, &id, 1,
		                                  uid, &msg) != VAERN_OK)
			continue;
		row->err_entry = (long)row->fact_entry[k];
		if ((line = uid_line(&im->uids, uid)) != 0)
			(void)vaern_fail(&row->msg, VAERN_E_EXISTS,
			                 "the same %s as line %lu",
			                 id_type_name(e->identifier), line);
		else
			(void)vaern_fail(&row->msg, VAERN_E_EXISTS,
			                 "a subject of '%s' already in the "
			                 "vault has this %s",
			                 im->controller,
			                 id_type_name(e->identifier));
		return;
	}
}

/* Remembers a written subject's id for the audit trail; 0, or -1. */
static int
written_put(struct import *im, const unsigned char uid[VAULT_UID_BYTES])
{
	if (im->nwritten == im->capwritten) {
		size_t cap = im->capwritten ? 2 * im->capwritten : 1024;
		void *p = realloc(im->written, cap * sizeof(*im->written));

		if (p == NULL)
			return -1;
		im->written = p;
		im->capwritten = cap;
	}
	memcpy(im->written[im->nwritten++], uid, VAULT_UID_BYTES);
	return 0;
}

/*
 * GDPR-32: the operator's import is audited like a create through the
 * API, one entry per subject (actor operator:<OS user>), written into the
 * audit outbox inside the import's own transaction (issue 12: the
 * subjects and their entries commit as one, or neither does); moved into
 * the trail after the commit (import_audit_move).
 */
static enum vaern_err
import_audit(struct import *im, struct vaern_msg *msg)
{
	char actor[CLI_OPERATOR_MAX + 1];
	const char *purpose = im->a->npurposes > 0 ? im->a->purposes[0] : NULL;
	enum vaern_err err = VAERN_OK;

	cli_operator_name(actor);
	for (size_t i = 0; err == VAERN_OK && i < im->nwritten; i++) {
		struct vault_audit_event e;

		memset(&e, 0, sizeof(e));
		e.controller = im->controller;
		e.actor = actor;
		e.role = "operator";
		e.purpose = purpose;
		e.action = "create";
		e.subject = im->written[i];
		e.allowed = 1;
		e.rule = "GDPR-32";
		e.reason = "imported by the local operator";
		err = vault_audit_outbox(im->v, &e, msg);
	}
	return err;
}

/* Writes the prepared rows of b in order and reports the bad ones. */
static void
write_batch(struct import *im, struct batch *b)
{
	for (size_t i = 0; i < b->n && !im->fatal; i++) {
		struct row *row = &b->rows[i];
		unsigned char uid[VAULT_UID_BYTES];
		enum vaern_err err;

		if (row->err == VAERN_OK) {
			err = vault_subject_write(im->v, row->prepared, uid,
			                          &row->msg);
			row->err = err;
			if (err == VAERN_E_EXISTS)
				explain_duplicate(im, row);
		}
		for (size_t k = 0; k < row->nevents && row->err == VAERN_OK;
		     k++) {
			err = vault_event_record(im->v, im->controller, uid,
			                         row->events[k].kind,
			                         row->events[k].at, &row->msg);
			if (err != VAERN_OK) {
				struct vaern_msg m2 = {{0}};

				row->err = err;
				row->err_entry = (long)row->events[k].entry;
				/* The subject was written: take it out. */
				if (is_refusal(err) &&
				    vault_subject_erase(im->v, im->controller,
				                        uid, NULL,
				                        &m2) != VAERN_OK)
					row->err = VAERN_E_STORE;
			}
		}
		vault_prepared_free(row->prepared);
		row->prepared = NULL;
		if (row->err != VAERN_OK && !is_refusal(row->err)) {
			progress_clear(im);
			fprintf(stderr, "%s:%lu: ", im->m.file, row->line);
			im->fatal = cli_report("import", row->err, &row->msg);
			return;
		}
		if (row->err != VAERN_OK) {
			report_row(im, row);
			continue;
		}
		if (uid_put(&im->uids, uid, row->line) != 0 ||
		    written_put(im, uid) != 0) {
			im->fatal = cli_report("import", VAERN_E_NOMEM, NULL);
			return;
		}
		im->imported++;
		im->facts += row->nfacts;
		im->consents += row->nconsents;
		im->events += row->nevents;
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct batch *b = w->batch;

	for (size_t i = w->first; i < b->n; i += w->step) {
		struct row *row = &b->rows[i];

		if (row->err != VAERN_OK)
			continue;
		row->err = vault_subject_prepare(w->v, w->controller,
		                                 row->facts, row->nfacts,
		                                 row->consents, row->nconsents,
		                                 &row->prepared, &row->msg);
	}
	return NULL;
}

/* Starts the workers on b; with none running, prepares here. */
static void
prepare_start(struct import *im, struct batch *b)
{
	for (size_t k = 0; k < im->nworkers; k++) {
		struct worker *w = &im->workers[k];

		w->batch = b;
		w->first = k;
		w->step = im->nworkers;
		w->running =
		        pthread_create(&w->thread, NULL, worker_main, w) == 0;
		if (!w->running) /* no thread: do its share here */
			(void)worker_main(w);
	}
}

static void
prepare_wait(struct import *im)
{
	for (size_t k = 0; k < im->nworkers; k++) {
		if (im->workers[k].running)
			pthread_join(im->workers[k].thread, NULL);
		im->workers[k].running = 0;
	}
}

/*
 * Reads up to the batch's size of rows into b. *more is 0 at the end of
 * the file or after a CSV error (then im->fatal is set).
 */
static void
fill_batch(struct import *im, struct batch *b, int *more)
{
	struct csv_record rec;
	struct vaern_msg msg = {{0}};
	struct csv_pos pos = {0, 0};
	enum vaern_err err;

	while (b->n < im->a->batch) {
		err = csv_read(im->csv, &rec, &pos, &msg);
		if (err == VAERN_E_NOTFOUND) {
			*more = 0;
			return;
		}
		if (err != VAERN_OK) {
			progress_clear(im);
			fprintf(stderr, "%s:%lu:%lu: %s\n", im->m.file,
			        pos.line, pos.column, msg.text);
			fprintf(stderr,
			        "vaern import: %s is not valid CSV; nothing "
			        "was imported\n",
			        im->m.file);
			im->fatal = err == VAERN_E_IO      ? EXIT_FAILURE_
			            : err == VAERN_E_NOMEM ? EXIT_FAILURE_
			                                   : EXIT_REFUSED;
			*more = 0;
			return;
		}
		/* A blank line holds no row. */
		if (rec.nfields == 1 && rec.lens[0] == 0)
			continue;
		im->rows++;
		if (build_row(&im->m, im->a, b, &b->rows[b->n], &rec,
		              im->given) != 0) {
			im->fatal = cli_report("import", VAERN_E_NOMEM, NULL);
			*more = 0;
			return;
		}
		b->n++;
	}
}

/*
 * The pipeline: this thread reads batch k+1 while the workers prepare
 * batch k, then writes batch k while they prepare batch k+1.
 */
static void
run_batches(struct import *im, struct batch *cur, struct batch *next)
{
	int more = 1;

	fill_batch(im, cur, &more);
	if (im->fatal || cur->n == 0)
		return; /* no worker was started */
	prepare_start(im, cur);
	while (cur->n > 0) {
		struct batch *t;

		if (more && !im->fatal)
			fill_batch(im, next, &more);
		prepare_wait(im);
		if (im->fatal)
			break;
		if (next->n > 0)
			prepare_start(im, next);
		write_batch(im, cur);
		batch_reset(cur);
		progress_draw(im, 0);
		t = cur;
		cur = next;
		next = t;
		if (im->fatal) {
			prepare_wait(im);
			break;
		}
	}
	/* No thread outlives the batches it reads. */
	prepare_wait(im);
	batch_reset(cur);
	batch_reset(next);
}

/* Opens the workers' vaults and loads the controller in each. */
static enum vaern_err
workers_open(struct import *im, struct vaern_msg *msg)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus > 1 ? (size_t)cpus - 1 : 1;
	enum vaern_err err;

	if (n > IMPORT_WORKERS_MAX)
		n = IMPORT_WORKERS_MAX;
	for (size_t k = 0; k < n; k++) {
		const struct policy *p = NULL;
		struct worker *w = &im->workers[k];

		if ((err = vault_open(cli_globals.data_dir, &w->v, msg)) ||
		    (err = vault_policy(w->v, im->controller, &p, msg)))
			return err;
		w->controller = im->controller;
		im->nworkers++;
	}
	return VAERN_OK;
}

static int
print_summary(struct import *im, int committed)
{
	double secs = now_s() - im->started;
	double rate = secs > 0 ? (double)im->rows / secs : 0.0;

	return cli_print_json(json_pack(
	        "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:f, s:I}",
	        "controller", im->controller, "file", im->m.file, "rows",
	        (json_int_t)im->rows, "imported", (json_int_t)im->imported,
	        "bad", (json_int_t)im->bad, "facts", (json_int_t)im->facts,
	        "consents", (json_int_t)im->consents, "events",
	        (json_int_t)im->events, "committed", committed, "seconds",
	        (double)(int64_t)(secs * 1000) / 1000, "rows_per_second",
	        (json_int_t)rate));
}

static int
run_import(struct import *im, FILE *in)
{
	const struct import_args *a = im->a;
	struct vaern_msg msg = {{0}};
	struct csv_record header;
	struct csv_pos pos = {0, 0};
	struct batch b1, b2;
	struct cli_trail trail;
	enum vaern_err err;
	int rc, began = 0;

	memset(&trail, 0, sizeof(trail));
	memset(&b1, 0, sizeof(b1));
	memset(&b2, 0, sizeof(b2));
	if ((err = vault_policy(im->v, im->controller, &im->m.policy, &msg)))
		return cli_report("import", err, &msg);
	if ((err = csv_new_file(in, a->delimiter, &im->csv)) != VAERN_OK)
		return err == VAERN_E_INVALID
		               ? cli_usage("import", "--delimiter cannot be a "
		                                     "quote or a line end")
		               : cli_report("import", err, NULL);
	err = csv_read(im->csv, &header, &pos, &msg);
	if (err == VAERN_E_NOTFOUND) {
		fprintf(stderr, "vaern import: %s is empty: no header line\n",
		        im->m.file);
		return EXIT_REFUSED;
	}
	if (err != VAERN_OK) {
		fprintf(stderr, "%s:%lu:%lu: %s\n", im->m.file, pos.line,
		        pos.column, msg.text);
		fprintf(stderr, "vaern import: nothing was imported\n");
		return err == VAERN_E_IO ? EXIT_FAILURE_ : EXIT_REFUSED;
	}
	if ((rc = import_build_mapping(&im->m, a, &header)) != EXIT_OK)
		return rc;
	if ((im->given = calloc(im->m.nentries, sizeof(*im->given))) == NULL ||
	    batch_init(&b1, a->batch, &im->m) != 0 ||
	    batch_init(&b2, a->batch, &im->m) != 0) {
		rc = cli_report("import", VAERN_E_NOMEM, NULL);
		goto done;
	}
	if ((err = workers_open(im, &msg)) != VAERN_OK) {
		rc = cli_report("import", err, &msg);
		goto done;
	}
	vault_set_cache_kib(im->v, IMPORT_CACHE_KIB);
	/* The trail and its key, before the import's transaction. */
	if ((err = cli_trail_of(im->v, &trail, &msg)) != VAERN_OK) {
		rc = cli_report("import", err, &msg);
		goto done;
	}
	/* One transaction: all or nothing, and a crash or Ctrl-C leaves
	 * nothing behind. */
	if ((err = vault_begin(im->v, &msg)) != VAERN_OK) {
		rc = cli_report("import", err, &msg);
		goto done;
	}
	began = 1;
	im->started = now_s();
	im->drawn = 0; /* the first batch draws the line */
	run_batches(im, &b1, &b2);
	progress_clear(im);
	if (a->max_errors != 0 && im->bad > a->max_errors)
		fprintf(stderr, "vaern import: %lu more bad rows not listed\n",
		        im->bad - a->max_errors);
	if (im->fatal) {
		rc = im->fatal;
		fprintf(stderr, "vaern import: nothing was imported\n");
		goto done;
	}
	if (im->bad > 0 && !a->skip_bad) {
		fprintf(stderr,
		        "vaern import: %lu of %lu rows are bad; nothing was "
		        "imported (fix them, or load the good rows with "
		        "--skip-bad)\n",
		        im->bad, im->rows);
		rc = EXIT_REFUSED;
		goto done;
	}
	if ((err = import_audit(im, &msg)) != VAERN_OK ||
	    (err = vault_commit(im->v, &msg)) != VAERN_OK) {
		rc = cli_report("import", err, &msg);
		goto done;
	}
	began = 0;
	crash_point("change_committed");
	/* Committed with their entries: now into the trail. A failure here
	 * leaves them in the outbox for the next start or verify. */
	if ((err = audit_outbox_flush(&trail.t, NULL, &msg)) != VAERN_OK) {
		rc = cli_report("import", err, &msg);
		goto done;
	}
	if (im->bad > 0)
		fprintf(stderr,
		        "vaern import: %lu bad rows skipped; %lu subjects "
		        "imported\n",
		        im->bad, im->imported);
	rc = print_summary(im, 1);
	if (rc == EXIT_OK && im->bad > 0)
		rc = IMPORT_EXIT_PARTIAL;
done:
	if (began)
		vault_rollback(im->v);
	sodium_memzero(&trail.t, sizeof(trail.t));
	batch_free(&b1);
	batch_free(&b2);
	return rc;
}

int
cmd_import(int argc, char **argv)
{
	struct import_args a;
	struct import im;
	struct vaern_msg msg = {{0}};
	struct stat sb;
	char *owned = NULL;
	enum vaern_err err;
	FILE *in = NULL;
	int rc;

	memset(&im, 0, sizeof(im));
	if (argc >= 2 &&
	    (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(cli_import_usage, stdout);
		return EXIT_OK;
	}
	if ((rc = parse_args(argc, argv, &a)) != EXIT_OK)
		goto done;
	im.a = &a;
	im.m.file = strcmp(a.file, "-") == 0 ? "<stdin>" : a.file;
	in = strcmp(a.file, "-") == 0 ? stdin : fopen(a.file, "rb");
	if (in == NULL) {
		fprintf(stderr, "vaern import: %s: cannot open\n", a.file);
		rc = EXIT_FAILURE_;
		goto done;
	}
	if (fstat(fileno(in), &sb) == 0 && S_ISREG(sb.st_mode))
		im.file_size = (unsigned long long)sb.st_size;
	im.progress = isatty(STDERR_FILENO);
	if ((err = vault_open(cli_globals.data_dir, &im.v, &msg))) {
		rc = cli_report("import", err, &msg);
		goto done;
	}
	im.controller = a.controller;
	if ((rc = cli_controller(im.v, "import", &im.controller, &owned)) !=
	    EXIT_OK)
		goto done;
	rc = run_import(&im, in);
done:
	for (size_t k = 0; k < im.nworkers || k < IMPORT_WORKERS_MAX; k++)
		vault_close(im.workers[k].v);
	vault_close(im.v);
	csv_free(im.csv);
	import_mapping_free(&im.m);
	free(im.given);
	free(im.uids.keys);
	free(im.uids.lines);
	free(im.written);
	free(owned);
	if (in != NULL && in != stdin)
		fclose(in);
	args_free(&a);
	return rc;
}
