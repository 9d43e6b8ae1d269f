/*
 * csv.h -- a strict RFC 4180 reader, for `vaern import`.
 *
 * Fields are separated by a delimiter (a comma unless told otherwise);
 * records end with LF or CRLF, the last one may end at the end of input.
 * A field that holds the delimiter, a quote or a line break is quoted as a
 * whole ("a ""b"" c"); a quoted field may span lines, and line numbers
 * count the lines inside it. A UTF-8 byte-order mark at the very start is
 * skipped. Every field must be valid UTF-8 (RFC 3629, src/common/utf8.h)
 * without NUL bytes.
 *
 * Anything else is an error that stops the reader: a quote inside an
 * unquoted field, text after a closing quote, a quoted field never closed,
 * a carriage return without a line feed, invalid UTF-8, a NUL byte, or a
 * limit exceeded. The error gives the line and column (in characters,
 * both 1-based) and says what is wrong; it never quotes the input, which
 * is personal data (CONVENTIONS.md habit 4).
 *
 * Records are returned as they are: the reader does not compare field
 * counts (the caller knows what a row should hold) and returns a blank
 * line as a record of one empty field.
 *
 * The reader keeps one record at a time in its own buffer and wipes its
 * buffers when freed.
 */
#ifndef VAERN_CSV_H
#define VAERN_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "../common/err.h"

#define CSV_FIELD_MAX  65536 /* bytes in one field (VAULT_VALUE_MAX) */
#define CSV_FIELDS_MAX 1024  /* fields in one record */
#define CSV_RECORD_MAX (4 * 1024 * 1024) /* bytes in one record */
#define CSV_READ_CHUNK 65536 /* bytes asked of the source at a time */

struct csv_reader;

/*
 * Where the bytes come from: reads up to n bytes into buf and returns how
 * many (0 at the end of the input, -1 on a read error).
 */
typedef long (*csv_read_fn)(void *arg, char *buf, size_t n);

/* One record; everything in it belongs to the reader and is valid until
 * the next csv_read() or csv_free(). */
struct csv_record {
	char **fields;      /* nfields NUL-terminated fields */
	const size_t *lens; /* their lengths in bytes */
	size_t nfields;     /* 1 to CSV_FIELDS_MAX */
	unsigned long line; /* the line the record starts on, 1-based */
};

/* A position in the input, both 1-based; column counts characters. */
struct csv_pos {
	unsigned long line;
	unsigned long column;
};

/*
 * Makes a reader of the bytes fn returns. delimiter is an ASCII character
 * other than a quote, CR, LF or NUL (VAERN_E_INVALID otherwise). The
 * caller frees the reader with csv_free().
 */
enum vaern_err csv_new(csv_read_fn fn, void *arg, char delimiter,
                       struct csv_reader **out)
        __attribute__((warn_unused_result, nonnull(1, 4)));

/* As csv_new, reading f (which the caller keeps and closes). */
enum vaern_err csv_new_file(FILE *f, char delimiter, struct csv_reader **out)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/* As csv_new, reading len bytes at buf (kept by the caller until freed). */
enum vaern_err csv_new_buffer(const char *buf, size_t len, char delimiter,
                              struct csv_reader **out)
        __attribute__((warn_unused_result, nonnull(4)));

/*
 * Reads the next record into *rec. Returns VAERN_OK, VAERN_E_NOTFOUND at
 * the end of the input (no record), VAERN_E_INVALID if the input is not
 * valid CSV or not UTF-8, VAERN_E_LIMIT if a field or record is too long
 * or has too many fields, VAERN_E_IO if the source failed, VAERN_E_NOMEM.
 * On an error *where (if not NULL) is the position of the fault and msg
 * says what it is; the reader stays at the error: every later call
 * returns it again.
 */
enum vaern_err csv_read(struct csv_reader *r, struct csv_record *rec,
                        struct csv_pos *where, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Bytes of input parsed so far (for a progress display). */
unsigned long long csv_offset(const struct csv_reader *r)
        __attribute__((nonnull));

/* Wipes and frees r. Accepts NULL. */
void csv_free(struct csv_reader *r);

#endif
