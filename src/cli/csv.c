/*
 * csv.c -- the strict RFC 4180 reader of csv.h.
 *
 * One pass over the bytes, one state per byte: at the start of a field,
 * in an unquoted field, in a quoted field, or just after a quote inside a
 * quoted field (either a doubled quote or the closing one). Fields are
 * copied into one record buffer, each NUL-terminated; limits are checked
 * as bytes arrive, before the buffer grows. UTF-8 is checked per field
 * when the field holds a byte above 0x7f.
 */
#include "csv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/utf8.h"

#define CSV_END (-1) /* next_byte: the end of the input */
#define CSV_ERR (-2) /* next_byte: the source failed */

/* The record buffer starts small and doubles up to its limit: every byte
 * of the record plus a NUL per field. */
#define CSV_BUF_START 4096
#define CSV_BUF_LIMIT (CSV_RECORD_MAX + CSV_FIELDS_MAX + 1)

/* skip_bom may put back up to 3 bytes in front of a full chunk. */
#define CSV_IN_SIZE (CSV_READ_CHUNK + 4)

struct csv_reader {
	csv_read_fn read; /* the source */
	void *arg;        /* its argument */
	char delim;       /* the field separator */

	unsigned char *in; /* CSV_READ_CHUNK bytes read from the source */
	size_t in_len;     /* bytes in in */
	size_t in_pos;     /* the next byte to parse */
	int at_end;        /* the source said: no more bytes */
	int started;       /* the byte-order mark has been looked for */
	unsigned long long consumed; /* bytes parsed, for csv_offset */

	unsigned long line;   /* position of the last byte parsed */
	unsigned long column; /* in characters; 0 before the first */
	int newline;          /* the last byte parsed was a line feed */
	int pending;          /* UTF-8 continuation bytes still expected */

	char *buf;      /* the current record's fields, NUL-terminated */
	size_t buf_len; /* bytes used in buf */
	size_t buf_cap; /* bytes allocated (<= CSV_BUF_LIMIT) */

	size_t starts[CSV_FIELDS_MAX]; /* offset of each field in buf */
	size_t lens[CSV_FIELDS_MAX];   /* length of each field */
	char *fields[CSV_FIELDS_MAX];  /* pointers handed out in a record */
	size_t nfields;                /* fields of the current record */

	enum vaern_err stuck;       /* the error that stopped the reader */
	struct vaern_msg stuck_msg; /* its message */
	struct csv_pos stuck_pos;   /* its position */
	const unsigned char *mem;   /* csv_new_buffer: the bytes */
	size_t mem_len, mem_off;    /* their length, how many were read */
	FILE *file;                 /* csv_new_file: the stream */
};

static long
read_file(void *arg, char *buf, size_t n)
{
	struct csv_reader *r = arg;
	size_t got = fread(buf, 1, n, r->file);

	if (got == 0 && ferror(r->file))
		return -1;
	return (long)got;
}

static long
read_mem(void *arg, char *buf, size_t n)
{
	struct csv_reader *r = arg;
	size_t left = r->mem_len - r->mem_off;

	if (n > left)
		n = left;
	if (n > 0)
		memcpy(buf, r->mem + r->mem_off, n);
	r->mem_off += n;
	return (long)n;
}

enum vaern_err
csv_new(csv_read_fn fn, void *arg, char delimiter, struct csv_reader **out)
{
	struct csv_reader *r;
	unsigned char d = (unsigned char)delimiter;

	*out = NULL;
	if (d == 0 || d >= 0x80 || d == '"' || d == '\r' || d == '\n')
		return VAERN_E_INVALID;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return VAERN_E_NOMEM;
	r->in = malloc(CSV_IN_SIZE);
	r->buf = malloc(CSV_BUF_START);
	if (r->in == NULL || r->buf == NULL) {
		free(r->in);
		free(r->buf);
		free(r);
		return VAERN_E_NOMEM;
	}
	r->buf_cap = CSV_BUF_START;
	r->read = fn;
	r->arg = arg;
	r->delim = delimiter;
	r->line = 1;
	*out = r;
	return VAERN_OK;
}

enum vaern_err
csv_new_file(FILE *f, char delimiter, struct csv_reader **out)
{
	enum vaern_err err = csv_new(read_file, NULL, delimiter, out);

	if (err == VAERN_OK) {
		(*out)->arg = *out;
		(*out)->file = f;
	}
	return err;
}

enum vaern_err
csv_new_buffer(const char *buf, size_t len, char delimiter,
               struct csv_reader **out)
{
	enum vaern_err err = csv_new(read_mem, NULL, delimiter, out);

	if (err == VAERN_OK) {
		(*out)->arg = *out;
		(*out)->mem = (const unsigned char *)buf;
		(*out)->mem_len = buf == NULL ? 0 : len;
	}
	return err;
}

void
csv_free(struct csv_reader *r)
{
	if (r == NULL)
		return;
	explicit_bzero(r->in, CSV_IN_SIZE);
	explicit_bzero(r->buf, r->buf_cap);
	free(r->in);
	free(r->buf);
	explicit_bzero(r, sizeof(*r));
	free(r);
}

unsigned long long
csv_offset(const struct csv_reader *r)
{
	return r->consumed;
}

/* Asks the source for more bytes; 1 if some came, 0 at the end, -1 on a
 * read error. */
static int
fill(struct csv_reader *r)
{
	long n;

	if (r->at_end)
		return 0;
	n = r->read(r->arg, (char *)r->in, CSV_READ_CHUNK);
	if (n < 0)
		return -1;
	if (n == 0) {
		r->at_end = 1;
		return 0;
	}
	r->in_len = (size_t)n;
	r->in_pos = 0;
	return 1;
}

/*
 * Returns 1 if byte b starts a character (a column), 0 if it continues a
 * UTF-8 sequence; *pending counts the continuation bytes expected.
 */
static inline int
starts_char(unsigned char b, int *pending)
{
	if (b >= 0x80 && b < 0xc0 && *pending > 0) {
		(*pending)--;
		return 0;
	}
	*pending = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : b >= 0xc0 ? 1 : 0;
	return 1;
}

/*
 * The next byte (and its position in r->line, r->column), CSV_END or
 * CSV_ERR.
 */
static inline int
next_byte(struct csv_reader *r)
{
	int c, got;

	if (r->in_pos == r->in_len && (got = fill(r)) <= 0)
		return got < 0 ? CSV_ERR : CSV_END;
	c = r->in[r->in_pos++];
	r->consumed++;
	if (r->newline) {
		r->line++;
		r->column = 0;
		r->newline = 0;
	}
	r->column += (unsigned long)starts_char((unsigned char)c, &r->pending);
	r->newline = c == '\n';
	return c;
}

/* Skips a UTF-8 byte-order mark at the start of the input. */
static int
skip_bom(struct csv_reader *r)
{
	static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};
	unsigned char head[3];
	size_t have = 0;
	int got;

	r->started = 1;
	/* The source may hand out fewer than 3 bytes at a time. */
	while (have < 3) {
		if (r->in_pos == r->in_len) {
			if ((got = fill(r)) < 0)
				return -1;
			if (got == 0)
				break;
		}
		head[have++] = r->in[r->in_pos++];
	}
	if (have == 3 && memcmp(head, bom, 3) == 0) {
		r->consumed = 3;
		return 0;
	}
	/* Not a BOM: put the bytes back in front of what is left. */
	if (have > 0) {
		size_t left = r->in_len - r->in_pos;

		memmove(r->in + have, r->in + r->in_pos, left);
		memcpy(r->in, head, have);
		r->in_len = have + left;
		r->in_pos = 0;
	}
	return 0;
}

/*
 * Records the error that stops the reader and returns it. text may hold
 * one %d, given limit.
 */
static enum vaern_err
stop(struct csv_reader *r, enum vaern_err err, unsigned long line,
     unsigned long column, struct csv_pos *where, struct vaern_msg *msg,
     const char *text, int limit)
{
	char line_text[VAERN_MSG_MAX];
	const char *p = strstr(text, "%d");

	/* No format string from a variable: splice the number in. */
	if (p != NULL)
		(void)snprintf(line_text, sizeof(line_text), "%.*s%d%s",
		               (int)(p - text), text, limit, p + 2);
	else
		(void)snprintf(line_text, sizeof(line_text), "%s", text);
	r->stuck = err;
	r->stuck_pos.line = line;
	r->stuck_pos.column = column;
	(void)vaern_fail(&r->stuck_msg, err, "%s", line_text);
	if (where != NULL)
		*where = r->stuck_pos;
	if (msg != NULL)
		*msg = r->stuck_msg;
	r->nfields = 0;
	return err;
}

/* Doubles the record buffer (a fresh allocation: the old one is wiped,
 * never left to realloc). */
static int
grow(struct csv_reader *r)
{
	size_t cap = r->buf_cap * 2;
	char *nb;

	if (cap > CSV_BUF_LIMIT)
		cap = CSV_BUF_LIMIT;
	if (cap <= r->buf_cap || (nb = malloc(cap)) == NULL)
		return -1;
	memcpy(nb, r->buf, r->buf_len);
	explicit_bzero(r->buf, r->buf_cap);
	free(r->buf);
	r->buf = nb;
	r->buf_cap = cap;
	return 0;
}

/*
 * The position of byte bad of a field's content, from the position of the
 * field's first character (its opening quote, if quoted): a doubled quote
 * in a quoted field took two columns of the input.
 */
static struct csv_pos
content_pos(const char *text, size_t bad, struct csv_pos start, int quoted)
{
	struct csv_pos p = {start.line, start.column - 1 + (quoted ? 1 : 0)};
	int pending = 0;

	for (size_t i = 0; i < bad; i++) {
		unsigned char b = (unsigned char)text[i];

		if (b == '\n') {
			p.line++;
			p.column = 0;
			pending = 0;
		} else if (starts_char(b, &pending)) {
			p.column += quoted && b == '"' ? 2 : 1;
		}
	}
	p.column++;
	return p;
}

/* Ends the current field at r->buf_len: checks it and counts it. */
static enum vaern_err
end_field(struct csv_reader *r, size_t field_start, struct csv_pos field,
          int quoted, int high, struct csv_pos *where, struct vaern_msg *msg)
{
	size_t len = r->buf_len - field_start, ok;

	if (r->nfields == CSV_FIELDS_MAX)
		return stop(r, VAERN_E_LIMIT, r->line, r->column, where, msg,
		            "a record of more than %d fields", CSV_FIELDS_MAX);
	if (high &&
	    (ok = utf8_valid_prefix((const unsigned char *)r->buf + field_start,
	                            len)) != len) {
		struct csv_pos p =
		        content_pos(r->buf + field_start, ok, field, quoted);

		return stop(r, VAERN_E_INVALID, p.line, p.column, where, msg,
		            "not valid UTF-8 (convert the file to UTF-8)", 0);
	}
	if (r->buf_len + 1 > r->buf_cap && grow(r) != 0)
		return stop(r, VAERN_E_NOMEM, r->line, r->column, where, msg,
		            "out of memory", 0);
	r->buf[r->buf_len++] = '\0';
	r->starts[r->nfields] = field_start;
	r->lens[r->nfields] = len;
	r->nfields++;
	return VAERN_OK;
}

enum vaern_err
csv_read(struct csv_reader *r, struct csv_record *rec, struct csv_pos *where,
         struct vaern_msg *msg)
{
	enum { START, UNQUOTED, QUOTED, QUOTE } st = START;
	struct csv_pos field = {0, 0}; /* the field's first character */
	size_t field_start = 0;
	int quoted = 0, high = 0, c;
	enum vaern_err err;

	memset(rec, 0, sizeof(*rec));
	if (r->stuck != VAERN_OK) {
		if (where != NULL)
			*where = r->stuck_pos;
		if (msg != NULL)
			*msg = r->stuck_msg;
		return r->stuck;
	}
	if (!r->started && skip_bom(r) < 0)
		return stop(r, VAERN_E_IO, r->line, 1, where, msg,
		            "the input cannot be read", 0);
	r->buf_len = 0;
	r->nfields = 0;
	for (;;) {
		if ((c = next_byte(r)) == CSV_ERR)
			return stop(r, VAERN_E_IO, r->line, r->column, where,
			            msg, "the input cannot be read", 0);
		switch (st) {
		case START:
			if (c == CSV_END && r->nfields == 0)
				return VAERN_E_NOTFOUND;
			if (r->nfields == 0)
				rec->line = r->line;
			field.line = r->line;
			field.column = r->column;
			field_start = r->buf_len;
			high = 0;
			if ((quoted = c == '"') != 0) {
				st = QUOTED;
				continue;
			}
			st = UNQUOTED;
			__attribute__((fallthrough));
		case UNQUOTED:
		case QUOTE:
			if (st == QUOTE && c == '"') {
				st = QUOTED; /* a doubled quote: one quote */
				break;
			}
			if (c == '\r') {
				struct csv_pos cr = {r->line, r->column};

				if ((c = next_byte(r)) == CSV_ERR)
					return stop(r, VAERN_E_IO, r->line,
					            r->column, where, msg,
					            "the input cannot be read",
					            0);
				if (c != '\n')
					return stop(
					        r, VAERN_E_INVALID, cr.line,
					        cr.column, where, msg,
					        "a carriage return without a "
					        "line feed (lines end with LF "
					        "or CRLF)",
					        0);
			}
			if (c == r->delim || c == '\n' || c == CSV_END) {
				err = end_field(r, field_start, field, quoted,
				                high, where, msg);
				if (err != VAERN_OK)
					return err;
				if (c == r->delim) {
					st = START;
					continue;
				}
				for (size_t i = 0; i < r->nfields; i++)
					r->fields[i] = r->buf + r->starts[i];
				rec->fields = r->fields;
				rec->lens = r->lens;
				rec->nfields = r->nfields;
				return VAERN_OK;
			}
			if (st == QUOTE)
				return stop(r, VAERN_E_INVALID, r->line,
				            r->column, where, msg,
				            "text after the closing quote of a "
				            "field (a quote inside a quoted "
				            "field is written twice)",
				            0);
			if (c == '"')
				return stop(r, VAERN_E_INVALID, r->line,
				            r->column, where, msg,
				            "a quote inside an unquoted field "
				            "(quote the whole field and write "
				            "the quote twice)",
				            0);
			break;
		case QUOTED:
			if (c == CSV_END)
				return stop(
				        r, VAERN_E_INVALID, field.line,
				        field.column, where, msg,
				        "a quoted field that is never closed",
				        0);
			if (c == '"') {
				st = QUOTE;
				continue;
			}
			break;
		}
		/* c is a byte of the field's content. */
		if (c == 0)
			return stop(r, VAERN_E_INVALID, r->line, r->column,
			            where, msg, "a NUL byte", 0);
		if (r->buf_len - field_start >= CSV_FIELD_MAX)
			return stop(r, VAERN_E_LIMIT, r->line, r->column, where,
			            msg, "a field of more than %d bytes",
			            CSV_FIELD_MAX);
		if (r->buf_len - r->nfields >= CSV_RECORD_MAX)
			return stop(r, VAERN_E_LIMIT, r->line, r->column, where,
			            msg, "a record of more than %d bytes",
			            CSV_RECORD_MAX);
		if (r->buf_len + 1 > r->buf_cap && grow(r) != 0)
			return stop(r, VAERN_E_NOMEM, r->line, r->column, where,
			            msg, "out of memory", 0);
		high |= c & 0x80;
		r->buf[r->buf_len++] = (char)c;
	}
}
