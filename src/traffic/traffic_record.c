/*
 * traffic_record.c -- the record and its reference data: parsing and
 * validating CSV and NDJSON records (E.164 numbers, IMSI, IMEI, ordered
 * times, known cells) and the cells-and-masts table (issue 18; TEL-LOG-1,
 * TEL-CAT-2). No message here carries a value: a field name and a rule.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "traffic_internal.h"

static const char *const kind_names[TRAFFIC_KINDS] = {
        "call", "sms", "mms", "sms_receipt", "mms_receipt"};

const char *
traffic_kind_name(enum traffic_kind k)
{
	return (unsigned)k < TRAFFIC_KINDS ? kind_names[k] : "?";
}

/* Digits only, 1..maxd of them: their value and count, or -1. */
static int
digits(const char *s, size_t maxd, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= maxd)
			return -1;
		v = v * 10 + (uint64_t)(s[n] - '0');
	}
	if (n == 0)
		return -1;
	*out = v;
	return (int)n;
}

/* E.164 (ITU-T): '+', a country code not starting with 0, at most 15
 * digits in all; 6 is the shortest national plan in use. */
enum vaern_err
traffic_parse_msisdn(const char *s, uint64_t *out)
{
	int n;

	if (s[0] != '+' || s[1] < '1' || s[1] > '9')
		return VAERN_E_INVALID;
	n = digits(s + 1, 15, out);
	return n >= 6 ? VAERN_OK : VAERN_E_INVALID;
}

/* IMSI (3GPP TS 23.003): MCC (3 digits, 2xx..7xx), MNC and MSIN, 14 or
 * 15 digits in all. */
enum vaern_err
traffic_parse_imsi(const char *s, uint64_t *out, uint8_t *ndigits)
{
	int n = digits(s, 15, out);

	if (n < 14 || s[0] < '2' || s[0] > '7')
		return VAERN_E_INVALID;
	*ndigits = (uint8_t)n;
	return VAERN_OK;
}

/* 1 if the 15 digits of v (leading zeros included) end in their Luhn
 * check digit. */
static int
luhn_ok(uint64_t v)
{
	unsigned sum = 0;

	for (int i = 0; i < 15; i++, v /= 10) {
		unsigned d = (unsigned)(v % 10);

		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

/* IMEI (3GPP TS 23.003): 14 digits and a Luhn check digit. */
enum vaern_err
traffic_parse_imei(const char *s, uint64_t *out)
{
	if (digits(s, 15, out) != 15)
		return VAERN_E_INVALID;
	return luhn_ok(*out) ? VAERN_OK : VAERN_E_INVALID;
}

/* ---- cells ----------------------------------------------------------------
 */

/* The hash table's key of a cell: its global id packed into 64 bits with
 * the MNC's width (a 2-digit and a 3-digit MNC are different networks). */
static uint64_t
cell_key(const struct traffic_cell *c)
{
	return ((uint64_t)c->mcc << 54) ^ ((uint64_t)c->mnc << 44) ^
	       ((uint64_t)c->mnc_digits << 42) ^ ((uint64_t)c->lac << 28) ^
	       (uint64_t)c->ci ^ ((uint64_t)c->lac >> 36);
}

static int
cell_same(const struct traffic_cell *x, const struct traffic_cell *y)
{
	return x->mcc == y->mcc && x->mnc == y->mnc &&
	       x->mnc_digits == y->mnc_digits && x->lac == y->lac &&
	       x->ci == y->ci;
}

static size_t
cell_slot(const struct traffic_cells *t, uint64_t key)
{
	key ^= key >> 31;
	key *= 0x7fb5d329728ea185ULL;
	key ^= key >> 27;
	return (size_t)key & (t->slots_cap - 1);
}

/* Index of c in t, or -1. */
static long
cells_lookup(const struct traffic_cells *t, const struct traffic_cell *c)
{
	if (t->slots_cap == 0)
		return -1;
	for (size_t s = cell_slot(t, cell_key(c));;
	     s = (s + 1) & (t->slots_cap - 1)) {
		uint32_t ix = t->slots[s];

		if (ix == 0)
			return -1;
		if (cell_same(&t->cells[ix - 1], c))
			return (long)ix - 1;
	}
}

static enum vaern_err
cells_rehash(struct traffic_cells *t)
{
	size_t cap = 64;
	uint32_t *slots;

	while (cap < t->n * 2 + 2)
		cap *= 2;
	slots = calloc(cap, sizeof(*slots));
	if (slots == NULL)
		return VAERN_E_NOMEM;
	free(t->slots);
	t->slots = slots;
	t->slots_cap = cap;
	for (size_t i = 0; i < t->n; i++) {
		size_t s = cell_slot(t, cell_key(&t->cells[i]));

		while (t->slots[s] != 0)
			s = (s + 1) & (cap - 1);
		t->slots[s] = (uint32_t)i + 1;
	}
	return VAERN_OK;
}

/* Adds c (not yet in t) at the end. */
static enum vaern_err
cells_push(struct traffic_cells *t, const struct traffic_cell *c)
{
	if (t->n >= TRAFFIC_CELLS_MAX)
		return VAERN_E_LIMIT;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct traffic_cell *a = realloc(t->cells, cap * sizeof(*a));

		if (a == NULL)
			return VAERN_E_NOMEM;
		t->cells = a;
		t->cap = cap;
	}
	t->cells[t->n++] = *c;
	if (t->n * 2 + 2 > t->slots_cap)
		return cells_rehash(t);
	{
		size_t s = cell_slot(t, cell_key(c));

		while (t->slots[s] != 0)
			s = (s + 1) & (t->slots_cap - 1);
		t->slots[s] = (uint32_t)t->n;
	}
	return VAERN_OK;
}

void
traffic_cells_free(struct traffic_cells *t)
{
	free(t->cells);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* An unsigned decimal of 1..maxd digits no larger than max. */
static int
uint_field(const char *s, size_t len, size_t maxd, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (len == 0 || len > maxd)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x > max)
		return -1;
	*v = x;
	return 0;
}

/* A signed decimal degree with up to 6 decimals, |v| <= max: millionths. */
static int
degree_field(const char *s, size_t len, int32_t max, int32_t *out)
{
	int neg = 0;
	int64_t whole = 0, frac = 0;
	size_t i = 0, nfrac = 0;

	if (len > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i >= len || s[i] < '0' || s[i] > '9')
		return -1;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		if ((whole = whole * 10 + (s[i] - '0')) > max)
			return -1;
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			if (++nfrac > 6)
				return -1;
			frac = frac * 10 + (s[i] - '0');
		}
		if (nfrac == 0)
			return -1;
	}
	if (i != len)
		return -1;
	for (; nfrac < 6; nfrac++)
		frac *= 10;
	whole = whole * 1000000 + frac;
	if (whole > (int64_t)max * 1000000)
		return -1;
	*out = (int32_t)(neg ? -whole : whole);
	return 0;
}

/* Splits line (len bytes) at commas into at most max fields. Returns the
 * number of fields. */
static size_t
split(const char *line, size_t len, const char **f, size_t *fl, size_t max)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i == len || line[i] == ',') {
			if (n == max)
				return max + 1;
			f[n] = line + start;
			fl[n++] = i - start;
			start = i + 1;
		}
	}
	return n;
}

/* "MCC-MNC-LAC-CI" into c (the mast fields untouched). */
static int
cell_id_parse(const char *s, size_t len, struct traffic_cell *c)
{
	const char *p[4];
	size_t pl[4], n = 0, start = 0;
	uint64_t v[4];

	for (size_t i = 0; i <= len; i++)
		if (i == len || s[i] == '-') {
			if (n == 4)
				return -1;
			p[n] = s + start;
			pl[n++] = i - start;
			start = i + 1;
		}
	if (n != 4 || pl[0] != 3 || pl[1] < 2 || pl[1] > 3 ||
	    uint_field(p[0], pl[0], 3, 999, &v[0]) != 0 || v[0] < 200 ||
	    uint_field(p[1], pl[1], 3, 999, &v[1]) != 0 ||
	    uint_field(p[2], pl[2], 8, 0xffffff, &v[2]) != 0 ||
	    uint_field(p[3], pl[3], 10, 0xfffffff, &v[3]) != 0)
		return -1;
	c->mcc = (uint16_t)v[0];
	c->mnc = (uint16_t)v[1];
	c->mnc_digits = (uint8_t)pl[1];
	c->lac = (uint32_t)v[2];
	c->ci = (uint32_t)v[3];
	return 0;
}

enum vaern_err
traffic_cell_find(const struct traffic_store *st, const char *text,
                  uint32_t *index)
{
	struct traffic_cell c = {0};
	long i;

	if (cell_id_parse(text, strlen(text), &c) != 0)
		return VAERN_E_INVALID;
	i = cells_lookup(&st->cells, &c);
	if (i < 0)
		return VAERN_E_NOTFOUND;
	*index = (uint32_t)i;
	return VAERN_OK;
}

const struct traffic_cell *
traffic_cell_at(const struct traffic_store *st, uint32_t i)
{
	return i < st->cells.n ? &st->cells.cells[i] : NULL;
}

void
traffic_cell_format(const struct traffic_cell *c, char out[32])
{
	snprintf(out, 32,
	         c->mnc_digits == 3 ? "%03u-%03u-%u-%u" : "%03u-%02u-%u-%u",
	         (unsigned)c->mcc % 1000, (unsigned)c->mnc % 1000,
	         (unsigned)c->lac & 0xffffff, (unsigned)c->ci & 0xfffffff);
}

/* One row "mcc,mnc,lac,ci,lat,lon,azimuth" into c; -1 if malformed. */
static int
cell_row(const char *line, size_t len, struct traffic_cell *c)
{
	const char *f[8];
	size_t fl[8];
	uint64_t v;
	char id[64];
	int32_t az;

	if (split(line, len, f, fl, 7) != 7 ||
	    fl[0] + fl[1] + fl[2] + fl[3] + 4 > sizeof(id))
		return -1;
	snprintf(id, sizeof(id), "%.*s-%.*s-%.*s-%.*s", (int)fl[0], f[0],
	         (int)fl[1], f[1], (int)fl[2], f[2], (int)fl[3], f[3]);
	if (cell_id_parse(id, strlen(id), c) != 0 ||
	    degree_field(f[4], fl[4], 90, &c->lat_e6) != 0 ||
	    degree_field(f[5], fl[5], 180, &c->lon_e6) != 0)
		return -1;
	if (fl[6] == 0)
		az = -1;
	else if (uint_field(f[6], fl[6], 3, 359, &v) == 0)
		az = (int32_t)v;
	else
		return -1;
	c->azimuth = (int16_t)az;
	return 0;
}

/* Calls fn(arg, line, len, lineno) for each line of text (CR stripped). */
static enum vaern_err
each_line(const char *text, size_t len,
          enum vaern_err (*fn)(void *arg, const char *line, size_t l,
                               size_t lineno),
          void *arg)
{
	size_t lineno = 0, i = 0;
	enum vaern_err err = VAERN_OK;

	while (i < len && err == VAERN_OK) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t l = nl != NULL ? (size_t)(nl - (text + i)) : len - i;
		size_t next = i + l + (nl != NULL);

		lineno++;
		if (l > 0 && text[i + l - 1] == '\r')
			l--;
		err = fn(arg, text + i, l, lineno);
		i = next;
	}
	return err;
}

enum vaern_err
traffic_read_file(const char *path, size_t max, char **out, size_t *len,
                  struct vaern_msg *msg)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	enum vaern_err err = VAERN_OK;

	*out = NULL;
	*len = 0;
	if (f == NULL)
		return vaern_fail(msg, VAERN_E_IO, "cannot open the file: %s",
		                  strerror(errno));
	for (;;) {
		size_t got;

		if (n == cap) {
			char *b;

			if (cap >= max) {
				err = vaern_fail(msg, VAERN_E_LIMIT,
				                 "the file is larger than %zu "
				                 "bytes",
				                 max);
				goto done;
			}
			cap = cap ? cap * 2 : 65536;
			if (cap > max)
				cap = max;
			b = realloc(buf, cap + 1);
			if (b == NULL) {
				err = VAERN_E_NOMEM;
				goto done;
			}
			buf = b;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		err = vaern_fail(msg, VAERN_E_IO, "cannot read the file");
done:
	if (f != stdin)
		fclose(f);
	if (err != VAERN_OK) {
		free(buf);
		return err;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		return VAERN_E_NOMEM;
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return VAERN_OK;
}

struct cells_load {
	struct traffic_cells *t;
	size_t added;
	size_t bad_line;
};

static enum vaern_err
cells_line(void *arg, const char *line, size_t l, size_t lineno)
{
	struct cells_load *cl = arg;
	struct traffic_cell c = {0};
	long i;

	if (lineno == 1 && l >= 3 && memcmp(line, "mcc", 3) == 0)
		return VAERN_OK; /* the header */
	if (l == 0)
		return VAERN_OK;
	if (cell_row(line, l, &c) != 0) {
		cl->bad_line = lineno;
		return VAERN_E_INVALID;
	}
	i = cells_lookup(cl->t, &c);
	if (i >= 0) {
		cl->t->cells[i] = c;
		return VAERN_OK;
	}
	cl->added++;
	return cells_push(cl->t, &c);
}

/* Writes t to DIR/cells.csv (a new file renamed over the old). */
static enum vaern_err
cells_save(const struct traffic_store *st, const struct traffic_cells *t,
           struct vaern_msg *msg)
{
	char path[TRAFFIC_PATH_MAX], tmp[TRAFFIC_PATH_MAX];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", st->dir, TRAFFIC_CELLS_FILE);
	snprintf(tmp, sizeof(tmp), "%s/%s.new", st->dir, TRAFFIC_CELLS_FILE);
	f = fopen(tmp, "w");
	if (f == NULL)
		return vaern_fail(msg, VAERN_E_IO, "cannot write the cells");
	ok = fputs("mcc,mnc,lac,ci,lat,lon,azimuth\n", f) >= 0;
	for (size_t i = 0; ok && i < t->n; i++) {
		const struct traffic_cell *c = &t->cells[i];
		int32_t la = c->lat_e6, lo = c->lon_e6;
		char az[8] = "";

		if (c->azimuth >= 0)
			snprintf(az, sizeof(az), "%d", c->azimuth);
		ok = fprintf(f, "%03u,%0*u,%u,%u,%s%d.%06d,%s%d.%06d,%s\n",
		             (unsigned)c->mcc, c->mnc_digits == 3 ? 3 : 2,
		             (unsigned)c->mnc, (unsigned)c->lac,
		             (unsigned)c->ci, la < 0 ? "-" : "",
		             abs(la) / 1000000, abs(la) % 1000000,
		             lo < 0 ? "-" : "", abs(lo) / 1000000,
		             abs(lo) % 1000000, az) > 0;
	}
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return vaern_fail(msg, VAERN_E_IO, "cannot write the cells");
	}
	return VAERN_OK;
}

enum vaern_err
traffic_cells_read(struct traffic_store *st, struct vaern_msg *msg)
{
	char path[TRAFFIC_PATH_MAX], *text = NULL;
	size_t len;
	struct cells_load cl = {&st->cells, 0, 0};
	enum vaern_err err;

	snprintf(path, sizeof(path), "%s/%s", st->dir, TRAFFIC_CELLS_FILE);
	if (access(path, F_OK) != 0)
		return VAERN_OK;
	err = traffic_read_file(path, (size_t)1 << 30, &text, &len, msg);
	if (err == VAERN_OK)
		err = each_line(text, len, cells_line, &cl);
	if (err == VAERN_E_INVALID)
		err = vaern_fail(msg, err, "%s: line %zu is not a cell",
		                 TRAFFIC_CELLS_FILE, cl.bad_line);
	free(text);
	return err;
}

enum vaern_err
traffic_cells_load(struct traffic_store *st, const char *path, size_t *added,
                   struct vaern_msg *msg)
{
	struct traffic_cells t = {0};
	struct cells_load cl = {&t, 0, 0};
	char *text = NULL;
	size_t len;
	enum vaern_err err;

	*added = 0;
	/* Work on a copy: all or nothing. */
	if (st->cells.n > 0) {
		t.cells = malloc(st->cells.n * sizeof(*t.cells));
		if (t.cells == NULL)
			return VAERN_E_NOMEM;
		memcpy(t.cells, st->cells.cells,
		       st->cells.n * sizeof(*t.cells));
		t.n = t.cap = st->cells.n;
		if ((err = cells_rehash(&t)) != VAERN_OK)
			goto done;
	}
	if ((err = traffic_read_file(path, (size_t)1 << 30, &text, &len,
	                             msg)) != VAERN_OK)
		goto done;
	err = each_line(text, len, cells_line, &cl);
	if (err == VAERN_E_INVALID) {
		err = vaern_fail(msg, err,
		                 "line %zu: not a cell "
		                 "(mcc,mnc,lac,ci,lat,lon,azimuth)",
		                 cl.bad_line);
		goto done;
	}
	if (err != VAERN_OK)
		goto done;
	if ((err = cells_save(st, &t, msg)) != VAERN_OK)
		goto done;
	traffic_cells_free(&st->cells);
	st->cells = t;
	memset(&t, 0, sizeof(t));
	*added = cl.added;
done:
	free(text);
	traffic_cells_free(&t);
	return err;
}

enum vaern_err
traffic_cells_in_area(const struct traffic_store *st, int32_t lat_min,
                      int32_t lon_min, int32_t lat_max, int32_t lon_max,
                      uint32_t *out, size_t max, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < st->cells.n; i++) {
		const struct traffic_cell *c = &st->cells.cells[i];

		if (c->lat_e6 < lat_min || c->lat_e6 > lat_max ||
		    c->lon_e6 < lon_min || c->lon_e6 > lon_max)
			continue;
		if (*n < max)
			out[*n] = (uint32_t)i;
		(*n)++;
	}
	return *n > max ? VAERN_E_LIMIT : VAERN_OK;
}

/* ---- records --------------------------------------------------------------
 */

static const char *const field_names[] = {
        "kind", "start", "end",  "a",          "b",
        "c",    "imsi",  "imei", "start_cell", "end_cell"};
#define NFIELDS    10
#define CSV_HEADER "kind,start,end,a,b,c,imsi,imei,start_cell,end_cell"

struct parse {
	const struct traffic_store *st;
	enum traffic_format fmt;
	int64_t now;
	struct traffic_batch *out;
	struct traffic_errors *errs;
};

static void
bad(struct parse *p, size_t line, const char *what)
{
	struct traffic_errors *e = p->errs;

	if (e->count < TRAFFIC_ERRORS_MAX) {
		e->items[e->count].line = line;
		snprintf(e->items[e->count].what,
		         sizeof(e->items[e->count].what), "%s", what);
	}
	e->count++;
}

/* The checks of a record's times (both instants of the years 1 to 9999).
 * NULL if good, else what is wrong. */
static const char *
times_check(const struct parse *p, const struct traffic_record *r)
{
	if (r->end < r->start)
		return "end: before start";
	if (r->end - r->start > TRAFFIC_DURATION_MAX)
		return "end: more than 194 days after start";
	if (r->end > p->now)
		return "end: in the future";
	if (r->start < 0)
		return "start: before 1970";
	/* TEL-LOG-1: a day already a full period old is not kept. */
	if (p->now >=
	    (int64_t)cal_add_period(r->start / 86400 + 1, p->st->keep) * 86400)
		return "start: older than the retention period (TEL-LOG-1)";
	return NULL;
}

/* Validates the ten fields (NUL-terminated copies) into r. NULL if good,
 * else what is wrong (a field and a rule). */
static const char *
record_fields(struct parse *p, char *const *f, struct traffic_record *r)
{
	struct vaern_msg m;
	const char *why;
	long i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < TRAFFIC_KINDS; i++)
		if (strcmp(f[0], kind_names[i]) == 0)
			break;
	if (i == TRAFFIC_KINDS)
		return "kind: not one of call, sms, mms, sms_receipt, "
		       "mms_receipt";
	r->kind = (uint8_t)i;
	if (cal_parse_instant(f[1], &r->start, &m) != VAERN_OK)
		return "start: not an instant (2026-01-31T12:00:00Z)";
	if (f[2][0] == '\0')
		r->end = r->start;
	else if (cal_parse_instant(f[2], &r->end, &m) != VAERN_OK)
		return "end: not an instant (2026-01-31T12:00:00Z)";
	if ((why = times_check(p, r)) != NULL)
		return why;
	if (traffic_parse_msisdn(f[3], &r->a) != VAERN_OK)
		return "a: not an E.164 number (+ and 6 to 15 digits)";
	if (traffic_parse_msisdn(f[4], &r->b) != VAERN_OK)
		return "b: not an E.164 number (+ and 6 to 15 digits)";
	if (f[5][0] != '\0' && traffic_parse_msisdn(f[5], &r->c) != VAERN_OK)
		return "c: not an E.164 number (+ and 6 to 15 digits)";
	if (traffic_parse_imsi(f[6], &r->imsi, &r->imsi_digits) != VAERN_OK)
		return "imsi: not an IMSI (14 or 15 digits, MCC 2xx-7xx)";
	if (traffic_parse_imei(f[7], &r->imei) != VAERN_OK)
		return "imei: not an IMEI (15 digits, Luhn check digit)";
	switch (traffic_cell_find(p->st, f[8], &r->cell_start)) {
	case VAERN_OK: break;
	case VAERN_E_NOTFOUND: return "start_cell: not a known cell";
	default: return "start_cell: not a cell id (MCC-MNC-LAC-CI)";
	}
	if (f[9][0] == '\0') {
		r->cell_end = r->cell_start;
		return NULL;
	}
	switch (traffic_cell_find(p->st, f[9], &r->cell_end)) {
	case VAERN_OK: return NULL;
	case VAERN_E_NOTFOUND: return "end_cell: not a known cell";
	default: return "end_cell: not a cell id (MCC-MNC-LAC-CI)";
	}
}

enum vaern_err
traffic_batch_push(struct traffic_batch *b, const struct traffic_record *r)
{
	if (b->n >= TRAFFIC_BATCH_MAX)
		return VAERN_E_LIMIT;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		struct traffic_record *a;

		if (cap > TRAFFIC_BATCH_MAX)
			cap = TRAFFIC_BATCH_MAX;
		a = sodium_allocarray(cap, sizeof(*a));
		if (a == NULL)
			return VAERN_E_NOMEM;
		if (b->n > 0)
			memcpy(a, b->recs, b->n * sizeof(*a));
		sodium_free(b->recs);
		b->recs = a;
		b->cap = cap;
	}
	b->recs[b->n++] = *r;
	return VAERN_OK;
}

void
traffic_batch_free(struct traffic_batch *b)
{
	sodium_free(b->recs); /* wipes */
	memset(b, 0, sizeof(*b));
}

static enum vaern_err
csv_line(struct parse *p, const char *line, size_t l, size_t lineno)
{
	const char *f[NFIELDS];
	size_t fl[NFIELDS];
	char buf[TRAFFIC_LINE_MAX + 1], *fv[NFIELDS];
	struct traffic_record r;
	const char *why;
	size_t n;

	if (lineno == 1) {
		if (l == sizeof(CSV_HEADER) - 1 &&
		    memcmp(line, CSV_HEADER, l) == 0)
			return VAERN_OK;
		bad(p, lineno,
		    "header: must be kind,start,end,a,b,c,imsi,imei,"
		    "start_cell,end_cell");
		return VAERN_OK;
	}
	if (l == 0)
		return VAERN_OK;
	if (l > TRAFFIC_LINE_MAX) {
		bad(p, lineno, "line: longer than 1024 bytes");
		return VAERN_OK;
	}
	n = split(line, l, f, fl, NFIELDS);
	if (n != NFIELDS) {
		bad(p, lineno, "line: must have 10 fields");
		return VAERN_OK;
	}
	memcpy(buf, line, l);
	for (size_t i = 0; i < NFIELDS; i++) {
		fv[i] = buf + (f[i] - line);
		fv[i][fl[i]] = '\0';
	}
	why = record_fields(p, fv, &r);
	sodium_memzero(buf, sizeof(buf));
	if (why != NULL) {
		bad(p, lineno, why);
		return VAERN_OK;
	}
	return traffic_batch_push(p->out, &r);
}

static int
json_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The first position at or after i in buf[0..l) that is not JSON
 * whitespace. */
static size_t
json_skip(const char *buf, size_t i, size_t l)
{
	while (i < l && json_ws(buf[i]))
		i++;
	return i;
}

/*
 * The common shape of an NDJSON record, read without a JSON library: one
 * flat object whose keys are the record's fields, each once, and whose
 * values are null or strings of printable ASCII without escapes. Copies
 * line into buf with each value NUL-terminated in place and points fv at
 * them (fields missing or null: at ""). -1 for anything else -- an
 * escape, another type, an unknown or repeated key, not JSON -- which the
 * caller hands to jansson, whose answer (and error) then stands.
 */
static int
json_flat(const char *line, size_t l, char *buf, char **fv, char *empty)
{
	unsigned seen = 0;
	size_t i = 0;

	memcpy(buf, line, l);
	buf[l] = '\0';
	for (size_t k = 0; k < NFIELDS; k++)
		fv[k] = empty;
	i = json_skip(buf, i, l);
	if (i == l || buf[i++] != '{')
		return -1;
	i = json_skip(buf, i, l);
	if (i < l && buf[i] == '}')
		goto end;
	for (;;) {
		size_t key, klen, k;

		if (i == l || buf[i++] != '"')
			return -1;
		key = i;
		while (i < l && buf[i] != '"' && buf[i] != '\\')
			i++;
		if (i == l || buf[i] != '"')
			return -1;
		klen = i++ - key;
		for (k = 0; k < NFIELDS; k++)
			if (strlen(field_names[k]) == klen &&
			    memcmp(buf + key, field_names[k], klen) == 0)
				break;
		if (k == NFIELDS || (seen & (1u << k)))
			return -1;
		seen |= 1u << k;
		i = json_skip(buf, i, l);
		if (i == l || buf[i++] != ':')
			return -1;
		i = json_skip(buf, i, l);
		if (l - i >= 4 && memcmp(buf + i, "null", 4) == 0) {
			i += 4;
		} else if (i < l && buf[i] == '"') {
			size_t v = ++i;

			while (i < l && buf[i] != '"') {
				unsigned char c = (unsigned char)buf[i];

				if (c < 0x20 || c >= 0x7f || c == '\\')
					return -1;
				i++;
			}
			if (i == l)
				return -1;
			buf[i++] = '\0';
			fv[k] = buf + v;
		} else {
			return -1;
		}
		i = json_skip(buf, i, l);
		if (i < l && buf[i] == ',') {
			i++;
			i = json_skip(buf, i, l);
			continue;
		}
		if (i < l && buf[i] == '}')
			break;
		return -1;
	}
end:
	for (i++; i < l; i++)
		if (!json_ws(buf[i]))
			return -1;
	return 0;
}

/* What is missing of the fields (fv[i] empty where missing or null). */
static const char *
json_missing(char *const *fv, const char *empty, char *what, size_t cap)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (fv[i] == empty && i != 2 && i != 5 && i != 9) {
			snprintf(what, cap, "%s: missing", field_names[i]);
			return what;
		}
	return NULL;
}

static enum vaern_err
json_line(struct parse *p, const char *line, size_t l, size_t lineno)
{
	json_t *o;
	json_error_t je;
	char *fv[NFIELDS];
	char empty[1] = "";
	char buf[TRAFFIC_LINE_MAX + 1];
	struct traffic_record r;
	const char *why = NULL;
	enum vaern_err err = VAERN_OK;
	size_t known = 0;
	char what[160];

	if (l == 0)
		return VAERN_OK;
	if (l > TRAFFIC_LINE_MAX) {
		bad(p, lineno, "line: longer than 1024 bytes");
		return VAERN_OK;
	}
	/* The usual record without jansson: 3x the rate (issue 18, HTTP
	 * bulk ingest). */
	if (json_flat(line, l, buf, fv, empty) == 0) {
		why = json_missing(fv, empty, what, sizeof(what));
		if (why == NULL)
			why = record_fields(p, fv, &r);
		sodium_memzero(buf, sizeof(buf));
		if (why != NULL)
			bad(p, lineno, why);
		else
			err = traffic_batch_push(p->out, &r);
		sodium_memzero(&r, sizeof(r));
		return err;
	}
	sodium_memzero(buf, sizeof(buf));
	o = json_loadb(line, l, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL || !json_is_object(o)) {
		bad(p, lineno, "line: not a JSON object");
		json_decref(o);
		return VAERN_OK;
	}
	for (size_t i = 0; i < NFIELDS && why == NULL; i++) {
		json_t *v = json_object_get(o, field_names[i]);

		known += v != NULL;
		fv[i] = empty;
		if (v == NULL || json_is_null(v)) {
			if (i != 2 && i != 5 && i != 9) {
				snprintf(what, sizeof(what), "%s: missing",
				         field_names[i]);
				why = what;
			}
		} else if (!json_is_string(v)) {
			snprintf(what, sizeof(what), "%s: must be a string",
			         field_names[i]);
			why = what;
		} else {
			fv[i] = (char *)json_string_value(v);
		}
	}
	if (why == NULL && json_object_size(o) > known)
		why = "line: unknown key (the keys are kind, start, end, a, "
		      "b, c, imsi, imei, start_cell, end_cell)";
	if (why == NULL)
		why = record_fields(p, fv, &r);
	if (why != NULL)
		bad(p, lineno, why);
	else
		err = traffic_batch_push(p->out, &r);
	json_decref(o);
	return err;
}

static enum vaern_err
parse_line(void *arg, const char *line, size_t l, size_t lineno)
{
	struct parse *p = arg;

	return p->fmt == TRAFFIC_CSV ? csv_line(p, line, l, lineno)
	                             : json_line(p, line, l, lineno);
}

/* ---- the binary batch ---------------------------------------------------
 */

#define BIN_FLAGS       0x1f
#define BIN_C           0x01
#define BIN_END_CELL    0x02
#define BIN_IMSI15      0x04
#define BIN_START_MNC3  0x08
#define BIN_END_MNC3    0x10
#define BIN_INSTANT_MAX 253402300799LL /* 9999-12-31T23:59:59Z */

/* 10^k for k = 0..15. */
static uint64_t
pow10u(int k)
{
	uint64_t v = 1;

	while (k-- > 0)
		v *= 10;
	return v;
}

/* An E.164 number as its digits: 6 to 15 of them, the first not 0. */
static int
msisdn_ok(uint64_t v)
{
	return v >= pow10u(5) && v < pow10u(15);
}

/* The cell at p (u16 MCC, u16 MNC, u32 LAC, u32 CI) in the reference. */
static int
bin_cell(const struct traffic_store *st, const unsigned char *p, int mnc3,
         uint32_t *index)
{
	struct traffic_cell c = {0};
	long i;

	c.mcc = (uint16_t)traffic_le(p, 2);
	c.mnc = (uint16_t)traffic_le(p + 2, 2);
	c.mnc_digits = mnc3 ? 3 : 2;
	c.lac = (uint32_t)traffic_le(p + 4, 4);
	c.ci = (uint32_t)traffic_le(p + 8, 4);
	if ((i = cells_lookup(&st->cells, &c)) < 0)
		return -1;
	*index = (uint32_t)i;
	return 0;
}

/* Validates one binary record b into r, as record_fields does a text
 * one. NULL if good, else what is wrong. */
static const char *
bin_record(const struct parse *p, const unsigned char *b,
           struct traffic_record *r)
{
	unsigned flags = b[1];
	int nd = flags & BIN_IMSI15 ? 15 : 14;
	const char *why;

	memset(r, 0, sizeof(*r));
	if (b[0] >= TRAFFIC_KINDS)
		return "kind: not 0 to 4 (call, sms, mms, sms_receipt, "
		       "mms_receipt)";
	if ((flags & ~BIN_FLAGS) != 0 || traffic_le(b + 2, 6) != 0)
		return "flags: unknown flags, or the reserved bytes not zero";
	r->kind = b[0];
	r->start = (int64_t)traffic_le(b + 8, 8);
	r->end = (int64_t)traffic_le(b + 16, 8);
	if (r->start < 0)
		return "start: before 1970";
	if (r->start > BIN_INSTANT_MAX || r->end < 0 ||
	    r->end > BIN_INSTANT_MAX)
		return "end: not an instant of the years 1970 to 9999";
	if ((why = times_check(p, r)) != NULL)
		return why;
	r->a = traffic_le(b + 24, 8);
	r->b = traffic_le(b + 32, 8);
	r->c = traffic_le(b + 40, 8);
	r->imsi = traffic_le(b + 48, 8);
	r->imei = traffic_le(b + 56, 8);
	r->imsi_digits = (uint8_t)nd;
	if (!msisdn_ok(r->a))
		return "a: not an E.164 number (6 to 15 digits)";
	if (!msisdn_ok(r->b))
		return "b: not an E.164 number (6 to 15 digits)";
	if (flags & BIN_C ? !msisdn_ok(r->c) : r->c != 0)
		return "c: not an E.164 number (6 to 15 digits), or set "
		       "without its flag";
	/* MCC 2xx..7xx: the first of its nd digits is 2 to 7. */
	if (r->imsi < 2 * pow10u(nd - 1) || r->imsi >= 8 * pow10u(nd - 1))
		return "imsi: not an IMSI (14 or 15 digits, MCC 2xx-7xx)";
	if (r->imei >= pow10u(15) || !luhn_ok(r->imei))
		return "imei: not an IMEI (15 digits, Luhn check digit)";
	if (bin_cell(p->st, b + 64, flags & BIN_START_MNC3, &r->cell_start))
		return "start_cell: not a known cell";
	if (!(flags & BIN_END_CELL))
		r->cell_end = r->cell_start;
	else if (bin_cell(p->st, b + 76, flags & BIN_END_MNC3, &r->cell_end))
		return "end_cell: not a known cell";
	return NULL;
}

/* A binary batch: the header, then whole records; a record cut short
 * refuses the batch (nothing parsed), naming it. */
static enum vaern_err
parse_binary(struct parse *p, const unsigned char *t, size_t len,
             struct vaern_msg *msg)
{
	size_t n;

	if (len < TRAFFIC_BIN_HEADER ||
	    memcmp(t, TRAFFIC_BIN_MAGIC, TRAFFIC_BIN_HEADER) != 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "header: not a binary traffic batch (it "
		                  "begins with %s)",
		                  TRAFFIC_BIN_MAGIC);
	t += TRAFFIC_BIN_HEADER;
	len -= TRAFFIC_BIN_HEADER;
	n = len / TRAFFIC_BIN_RECORD;
	if (len % TRAFFIC_BIN_RECORD != 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "record %zu: cut short (%zu of %d bytes): "
		                  "a truncated batch, nothing stored",
		                  n + 1, len % TRAFFIC_BIN_RECORD,
		                  TRAFFIC_BIN_RECORD);
	if (n > TRAFFIC_BATCH_MAX)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "more than %d records in a batch",
		                  TRAFFIC_BATCH_MAX);
	for (size_t i = 0; i < n; i++) {
		struct traffic_record r;
		const char *why = bin_record(p, t + i * TRAFFIC_BIN_RECORD, &r);
		enum vaern_err err = VAERN_OK;

		if (why != NULL)
			bad(p, i + 1, why);
		else
			err = traffic_batch_push(p->out, &r);
		sodium_memzero(&r, sizeof(r));
		if (err != VAERN_OK)
			return err;
	}
	return VAERN_OK;
}

enum vaern_err
traffic_parse(const struct traffic_store *st, enum traffic_format fmt,
              const char *text, size_t len, int64_t now,
              struct traffic_batch *out, struct traffic_errors *errs,
              struct vaern_msg *msg)
{
	struct parse p = {st, fmt, now, out, errs};
	enum vaern_err err;

	if (fmt == TRAFFIC_BINARY)
		return parse_binary(&p, (const unsigned char *)text, len, msg);

	if (fmt == TRAFFIC_CSV && len == 0)
		bad(&p, 1,
		    "header: must be kind,start,end,a,b,c,imsi,imei,"
		    "start_cell,end_cell");
	err = each_line(text, len, parse_line, &p);
	if (err == VAERN_E_LIMIT)
		return vaern_fail(msg, err, "more than %d records in a batch",
		                  TRAFFIC_BATCH_MAX);
	return err;
}
