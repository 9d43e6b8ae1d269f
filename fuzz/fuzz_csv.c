/*
 * fuzz_csv.c -- libFuzzer harness for the CSV reader of `vaern import`.
 *
 * The first byte picks the delimiter and how many bytes the source hands
 * out per call; the rest is the file. The input is read twice, from one
 * buffer and through the small-step source, and both reads must agree
 * record by record and on the error and its position. Besides the
 * sanitizers it checks the contract of csv.h: every field is valid UTF-8
 * without NUL and as long as its length says; records start on
 * non-decreasing lines within the input; an error has a position inside
 * the input and a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/csv.h"
#include "common/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct drip {
	const uint8_t *data;
	size_t len, off, step;
};

static long
drip_read(void *arg, char *buf, size_t n)
{
	struct drip *d = arg;
	size_t left = d->len - d->off;

	if (n > d->step)
		n = d->step;
	if (n > left)
		n = left;
	memcpy(buf, d->data + d->off, n);
	d->off += n;
	return (long)n;
}

static void
check_record(const struct csv_record *rec, unsigned long lines,
             unsigned long *last_line)
{
	if (rec->nfields == 0 || rec->nfields > CSV_FIELDS_MAX)
		abort();
	if (rec->line < *last_line || rec->line > lines)
		abort();
	*last_line = rec->line;
	for (size_t i = 0; i < rec->nfields; i++) {
		size_t len = rec->lens[i];

		if (len > CSV_FIELD_MAX || strlen(rec->fields[i]) != len ||
		    utf8_valid_prefix((const unsigned char *)rec->fields[i],
		                      len) != len)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[] = {',', ';', '\t', '|'};
	struct csv_reader *a = NULL, *b = NULL;
	struct csv_record ra, rb;
	struct csv_pos pa = {0, 0}, pb = {0, 0};
	struct vaern_msg ma = {{0}}, mb = {{0}};
	struct drip d;
	enum vaern_err ea, eb;
	unsigned long lines = 1, last_a = 1, last_b = 1;

	if (size == 0)
		return 0;
	d.data = data + 1;
	d.len = size - 1;
	d.off = 0;
	d.step = 1 + (data[0] >> 2);
	for (size_t i = 1; i < size; i++)
		lines += data[i] == '\n';
	if (csv_new_buffer((const char *)data + 1, size - 1,
	                   delims[data[0] & 3], &a) != VAERN_OK ||
	    csv_new(drip_read, &d, delims[data[0] & 3], &b) != VAERN_OK)
		abort();
	for (;;) {
		/* Two readers, two buffers: a's record stays valid while
		 * b reads. */
		ea = csv_read(a, &ra, &pa, &ma);
		if (ea == VAERN_OK)
			check_record(&ra, lines, &last_a);
		eb = csv_read(b, &rb, &pb, &mb);
		if (ea != eb)
			abort();
		if (ea != VAERN_OK)
			break;
		check_record(&rb, lines, &last_b);
		if (ra.nfields != rb.nfields || ra.line != rb.line)
			abort();
		for (size_t i = 0; i < ra.nfields; i++) {
			if (ra.lens[i] != rb.lens[i] ||
			    memcmp(ra.fields[i], rb.fields[i], ra.lens[i]) != 0)
				abort();
		}
	}
	if (ea != VAERN_E_NOTFOUND) {
		if (ea != VAERN_E_INVALID && ea != VAERN_E_LIMIT)
			abort();
		if (pa.line != pb.line || pa.column != pb.column ||
		    strcmp(ma.text, mb.text) != 0)
			abort();
		if (pa.line < 1 || pa.line > lines || pa.column < 1 ||
		    ma.text[0] == '\0')
			abort();
	} else if (csv_offset(a) != size - 1 || csv_offset(b) != size - 1) {
		abort();
	}
	csv_free(a);
	csv_free(b);
	return 0;
}
