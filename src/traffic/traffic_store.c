/*
 * traffic_store.c -- the day partitions: packing records into sealed
 * blocks with their keyed-hash Bloom index, appending a batch all or
 * nothing, the plan, the sweep that drops a day whole, and the scan a
 * court-order query runs (issue 18; TEL-LOG-1, TEL-LOG-3).
 *
 * A day file:  header    "VTRDAY02", day (i64 LE); its key is in the
 *                        keystore (struct traffic_keys), not here
 *              segments  each of up to seg_blocks blocks of up to
 *                        TRAFFIC_BLOCK_RECS records, appended whole:
 *   segment header (SEG_HDR_BYTES: magic -- "TSEG" the layout V2, "TSG3"
 *                   V3 --, blocks m, filter words W, tmin, tmax, records,
 *                   body bytes)
 *   directory      m entries (DIR_BYTES: records, tmin, tmax, sealed bytes)
 *   index          one blocked Bloom filter of W 64-bit words per block,
 *                  laid out by word: word w of every block of the
 *                  segment contiguous ((w * m + j) * 8), so a query for
 *                  one key reads m words in a row per segment (V3: two
 *                  such rows) instead of one page per block
 *   blocks         m times: nonce, then the packed records sealed
 *                  (XChaCha20-Poly1305; the segment header, the block's
 *                  directory entry and its number as associated data).
 *
 * Why V3 (issue 18, the subscriber query at 10 million records a day):
 * V2's filter, one word of 9.1 bits a key, let about 0.8% of the blocks
 * through for a key they do not hold -- 160 blocks of 512 records opened
 * and decrypted for nothing per day, 90% of such a query's time. V3
 * packs a record in 43 bytes instead of 48 and spends what that saves
 * and 3 bytes more on a filter twice the size whose keys set 5 bits in
 * each of two words: about 0.01%. The query reads the file with pread,
 * not a mapping: mapping and unmapping a day file of 500 MB for a few
 * hundred pages cost as much as the decryption.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "traffic_internal.h"

#define DAY_MAGIC     "VTRDAY02"
#define DAY_HDR_BYTES (8 + 8)
#define SEG_HDR_BYTES (8 * 4)
#define DIR_BYTES     (4 * 4)
#define BLOOM_WORDS   1024 /* at most, per block, in any layout */
#define KEYS_PER_REC  7    /* a, b, c, imsi, imei, two cells */
#define PLAIN_SLACK   8    /* bytes after a block's records: V3's loads */
#define SEAL_ABYTES   crypto_aead_xchacha20poly1305_ietf_ABYTES
#define NONCE_BYTES   crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define DAY_SUFFIX    ".day"

/* Tags of the keyed hashes: a number (A, B or C), an IMSI, an IMEI, a
 * cell. */
enum { TAG_MSISDN = 'n', TAG_IMSI = 'i', TAG_IMEI = 'e', TAG_CELL = 'c' };

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void
putn(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* ---- packing ---------------------------------------------------------- */

/* V2, 48 bytes: kind and flags (1), start in the day (3), duration (3),
 * A, B, C, IMSI, IMEI (7 each: at most 15 digits < 2^56), the two cells
 * (3 each). */
static void
pack_v2(unsigned char *p, const struct traffic_record *r, int64_t day_start)
{
	p[0] = (unsigned char)(r->kind | (r->imsi_digits == 15 ? 0x10 : 0));
	putn(p + 1, (uint64_t)(r->start - day_start), 3);
	putn(p + 4, (uint64_t)(r->end - r->start), 3);
	putn(p + 7, r->a, 7);
	putn(p + 14, r->b, 7);
	putn(p + 21, r->c, 7);
	putn(p + 28, r->imsi, 7);
	putn(p + 35, r->imei, 7);
	putn(p + 42, r->cell_start, 3);
	putn(p + 45, r->cell_end, 3);
}

static void
unpack_v2(struct traffic_record *r, const unsigned char *p, int64_t day_start)
{
	r->kind = p[0] & 0x0f;
	r->imsi_digits = (p[0] & 0x10) ? 15 : 14;
	r->start = day_start + (int64_t)traffic_le(p + 1, 3);
	r->end = r->start + (int64_t)traffic_le(p + 4, 3);
	r->a = traffic_le(p + 7, 7);
	r->b = traffic_le(p + 14, 7);
	r->c = traffic_le(p + 21, 7);
	r->imsi = traffic_le(p + 28, 7);
	r->imei = traffic_le(p + 35, 7);
	r->cell_start = (uint32_t)traffic_le(p + 42, 3);
	r->cell_end = (uint32_t)traffic_le(p + 45, 3);
}

/*
 * V3, 43 bytes, a little-endian bit string of the fields at the bit
 * offsets below: kind (3 bits) and a 15-digit IMSI (1), start in the day
 * (17: < 86,400), duration (24), A, B, C, IMSI, IMEI (50 each: 15 digits
 * < 2^50), the two cells (24 each: TRAFFIC_CELLS_MAX) -- 343 bits.
 */
enum {
	V3_START = 4,
	V3_DUR = 21,
	V3_A = 45,
	V3_B = 95,
	V3_C = 145,
	V3_IMSI = 195,
	V3_IMEI = 245,
	V3_CS = 295,
	V3_CE = 319,
	V3_BITS = 343,
	V3_BYTES = (V3_BITS + 7) / 8
};

/* Appends bits to a bit string, low bits first. */
struct bitw {
	unsigned char *p; /* the next whole byte */
	uint64_t acc;     /* bits not yet written, fewer than 8 */
	unsigned n;       /* how many */
};

static void
bitw_put(struct bitw *w, uint64_t v, unsigned bits)
{
	assert(bits <= 56 && v >> bits == 0);
	w->acc |= (v & (((uint64_t)1 << bits) - 1)) << w->n;
	w->n += bits;
	while (w->n >= 8) {
		*w->p++ = (unsigned char)w->acc;
		w->acc >>= 8;
		w->n -= 8;
	}
}

static void
pack_v3(unsigned char *p, const struct traffic_record *r, int64_t day_start)
{
	struct bitw w = {p, 0, 0};

	bitw_put(&w, (uint64_t)r->kind | (r->imsi_digits == 15 ? 8 : 0), 4);
	bitw_put(&w, (uint64_t)(r->start - day_start), 17);
	bitw_put(&w, (uint64_t)(r->end - r->start), 24);
	bitw_put(&w, r->a, 50);
	bitw_put(&w, r->b, 50);
	bitw_put(&w, r->c, 50);
	bitw_put(&w, r->imsi, 50);
	bitw_put(&w, r->imei, 50);
	bitw_put(&w, r->cell_start, 24);
	bitw_put(&w, r->cell_end, 24);
	if (w.n > 0)
		*w.p++ = (unsigned char)w.acc;
	assert(w.p == p + V3_BYTES);
}

/* The field of `bits` bits at bit offset `at` of a V3 record; reads 8
 * bytes from the field's first (PLAIN_SLACK after the last record). */
static uint64_t
v3_get(const unsigned char *p, unsigned at, unsigned bits)
{
	uint64_t v;

	memcpy(&v, p + at / 8, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return (v >> (at % 8)) & (((uint64_t)1 << bits) - 1);
}

static void
unpack_v3(struct traffic_record *r, const unsigned char *p, int64_t day_start)
{
	r->kind = p[0] & 7;
	r->imsi_digits = (p[0] & 8) ? 15 : 14;
	r->start = day_start + (int64_t)v3_get(p, V3_START, 17);
	r->end = r->start + (int64_t)v3_get(p, V3_DUR, 24);
	r->a = v3_get(p, V3_A, 50);
	r->b = v3_get(p, V3_B, 50);
	r->c = v3_get(p, V3_C, 50);
	r->imsi = v3_get(p, V3_IMSI, 50);
	r->imei = v3_get(p, V3_IMEI, 50);
	r->cell_start = (uint32_t)v3_get(p, V3_CS, 24);
	r->cell_end = (uint32_t)v3_get(p, V3_CE, 24);
}

/* What a segment's layout fixes. */
struct seg_format {
	uint32_t magic;     /* its header's first word */
	unsigned rec_bytes; /* a packed record */
	unsigned words_max; /* filter words of a full block */
	unsigned bits;      /* filter bits per key wanted, before rounding */
	unsigned probes;    /* filter words a key sets: 1 (V2) or 2 (V3) */
	void (*pack)(unsigned char *p, const struct traffic_record *r,
	             int64_t day_start);
	void (*unpack)(struct traffic_record *r, const unsigned char *p,
	               int64_t day_start);
};

static const struct seg_format fmt_v2 = {
        0x47455354u /* "TSEG" */, 48, 512, 10, 1, pack_v2, unpack_v2};
static const struct seg_format fmt_v3 = {
        0x33475354u /* "TSG3" */, V3_BYTES, 1024, 18, 2, pack_v3, unpack_v3};

/* The layout of a segment by its magic, or NULL. */
static const struct seg_format *
seg_format_of(uint32_t magic)
{
	return magic == fmt_v3.magic   ? &fmt_v3
	       : magic == fmt_v2.magic ? &fmt_v2
	                               : NULL;
}

/* ---- the keyed-hash index --------------------------------------------- */

/* The keyed hash (SipHash-2-4 under the day's index key) of one value. */
static uint64_t
ix_hash(const unsigned char *ixkey, int tag, uint64_t value)
{
	unsigned char in[9], out[crypto_shorthash_BYTES];

	in[0] = (unsigned char)tag;
	putn(in + 1, value, 8);
	crypto_shorthash(out, in, sizeof(in), ixkey);
	return traffic_le(out, 8);
}

/*
 * The filter words of a block of nrec records: a power of two near the
 * layout's bits per key, at most its words_max (a full block: V2 9.1
 * bits per key, 8 bytes a record; V3 18.3 bits, 16 bytes).
 */
static uint32_t
bloom_words(const struct seg_format *f, uint32_t nrec)
{
	uint32_t want =
	        (uint32_t)(((uint64_t)nrec * KEYS_PER_REC * f->bits + 63) / 64);
	uint32_t w = 1;

	while (w < want && w < f->words_max)
		w <<= 1;
	return w;
}

/* k bits of a 64-bit word, chosen by the top bits of x. */
static uint64_t
bloom_bits(uint64_t x, int k)
{
	uint64_t m = 0;

	for (int i = 0; i < k; i++)
		m |= (uint64_t)1 << ((x >> (64 - 6 * (i + 1))) & 63);
	return m;
}

/*
 * Where a key's bits are in a filter of W words a block: a blocked Bloom
 * filter, each probe a set of bits in one 64-bit word (one cache access,
 * no division). V2: 6 bits in the word chosen by the hash's low half.
 * V3: 5 bits in that word and 5 in the one its high half chooses, the
 * bits by two remixes of the hash -- at 18 bits a key, two words let
 * through about a tenth of what one word of 8 bits would.
 */
struct probe {
	uint32_t word[2]; /* the filter word of each probe */
	uint64_t mask[2]; /* the bits it sets there */
};

static void
bloom_probe(const struct seg_format *f, uint64_t h, uint32_t W, struct probe *p)
{
	p->word[0] = (uint32_t)(((h & 0xffffffffu) * (uint64_t)W) >> 32);
	if (f->probes == 1) {
		p->mask[0] = bloom_bits(h * 0x9e3779b97f4a7c15ULL, 6);
		return;
	}
	p->word[1] = (uint32_t)(((h >> 32) * (uint64_t)W) >> 32);
	p->mask[0] = bloom_bits(h * 0x9e3779b97f4a7c15ULL, 5);
	p->mask[1] = bloom_bits(h * 0xc2b2ae3d27d4eb4fULL, 5);
}

/* Adds h to the filter of block j of a segment of m blocks and W words
 * a block, laid out by word. */
static void
bloom_add(const struct seg_format *f, unsigned char *ix, uint32_t W, uint32_t m,
          uint32_t j, uint64_t h)
{
	struct probe p;

	bloom_probe(f, h, W, &p);
	for (unsigned i = 0; i < f->probes; i++) {
		unsigned char *w = ix + 8 * ((size_t)p.word[i] * m + j);

		putn(w, traffic_le(w, 8) | p.mask[i], 8);
	}
}

/* ---- opening and closing ---------------------------------------------- */

static int
mkdir_p(const char *path)
{
	char tmp[TRAFFIC_PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p != '\0'; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(tmp, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

enum vaern_err
traffic_open(const char *data_dir, const char *controller,
             const struct traffic_keys *keys, struct period keep,
             struct traffic_store **out, struct vaern_msg *msg)
{
	struct traffic_store *st;
	enum vaern_err err;
	int n;

	*out = NULL;
	if (sodium_init() < 0)
		return VAERN_E_CRYPTO;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return VAERN_E_NOMEM;
	st->keys = *keys;
	st->keep = keep;
	st->seg_blocks = TRAFFIC_SEG_BLOCKS_MAX;
	st->layout = TRAFFIC_LAYOUT_V3;
	snprintf(st->controller, sizeof(st->controller), "%s", controller);
	n = snprintf(st->dir, sizeof(st->dir), "%s/%s/%s", data_dir,
	             TRAFFIC_DIR, controller);
	if (n < 0 || (size_t)n >= sizeof(st->dir)) {
		err = vaern_fail(msg, VAERN_E_LIMIT,
		                 "the data directory's path is too long");
		goto fail;
	}
	if (mkdir_p(st->dir) != 0) {
		err = vaern_fail(msg, VAERN_E_IO,
		                 "cannot create the traffic directory: %s",
		                 strerror(errno));
		goto fail;
	}
	if ((err = traffic_cells_read(st, msg)) != VAERN_OK)
		goto fail;
	*out = st;
	return VAERN_OK;
fail:
	traffic_close(st);
	return err;
}

void
traffic_set_segment_blocks(struct traffic_store *st, unsigned blocks)
{
	st->seg_blocks = blocks < 1 ? 1
	                 : blocks > TRAFFIC_SEG_BLOCKS_MAX
	                         ? TRAFFIC_SEG_BLOCKS_MAX
	                         : blocks;
}

void
traffic_set_layout(struct traffic_store *st, enum traffic_layout layout)
{
	st->layout = layout == TRAFFIC_LAYOUT_V2 ? TRAFFIC_LAYOUT_V2
	                                         : TRAFFIC_LAYOUT_V3;
}

static const struct seg_format *
store_format(const struct traffic_store *st)
{
	return st->layout == TRAFFIC_LAYOUT_V2 ? &fmt_v2 : &fmt_v3;
}

void
traffic_close(struct traffic_store *st)
{
	if (st == NULL)
		return;
	traffic_cells_free(&st->cells);
	free(st);
}

static void
day_path(const struct traffic_store *st, long day, char *out, size_t cap)
{
	char date[11];

	cal_format_date(day, date);
	snprintf(out, cap, "%s/%s%s", st->dir, date, DAY_SUFFIX);
}

static long
day_of(int64_t t)
{
	return (long)(t >= 0 ? t / 86400 : (t - 86399) / 86400);
}

/* Checks the header of the open day file fd and gets the day's key. */
static enum vaern_err
day_key_read(const struct traffic_store *st, int fd, long day,
             unsigned char *key, struct vaern_msg *msg)
{
	unsigned char hdr[DAY_HDR_BYTES];
	enum vaern_err err;

	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, DAY_MAGIC, 8) != 0 ||
	    (long)traffic_le(hdr + 8, 8) != day)
		return vaern_fail(msg, VAERN_E_STORE,
		                  "a traffic day file is damaged");
	err = st->keys.get(st->keys.arg, st->controller, day, 0, key, msg);
	if (err == VAERN_E_NOTFOUND)
		return vaern_fail(msg, VAERN_E_CRYPTO,
		                  "a traffic day does not open: its key is not "
		                  "in this keystore (erased, or another "
		                  "installation's day)");
	return err;
}

/* ---- appending -------------------------------------------------------- */

struct day_undo {
	char path[TRAFFIC_PATH_MAX];
	int fd;      /* open and locked (flock) until the batch ends */
	off_t size;  /* before this batch */
	int created; /* 1 if this batch created the file */
};

#define BATCH_DAYS_MAX 400 /* days one batch may touch */

/* The distinct days of a batch in order, with their record counts. */
struct batch_days {
	long day[BATCH_DAYS_MAX];
	size_t count[BATCH_DAYS_MAX];
	size_t n;
};

static int
long_cmp(const void *x, const void *y)
{
	long a = *(const long *)x, b = *(const long *)y;

	return a < b ? -1 : a > b;
}

/* Index of day in bd (sorted), found by binary search. */
static size_t
day_slot(const struct batch_days *bd, long day)
{
	size_t lo = 0, hi = bd->n;

	while (lo + 1 < hi) {
		size_t mid = (lo + hi) / 2;

		if (bd->day[mid] <= day)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Groups the records by day, each day's in input order, without a
 * comparison sort (a counting sort over the batch's few days): run gets
 * the records day after day. -1 if the batch spans too many days.
 */
static int
group_by_day(const struct traffic_record *recs, size_t n,
             const struct traffic_record **run, struct batch_days *bd)
{
	size_t next[BATCH_DAYS_MAX], at = 0;
	long last = LONG_MIN;

	bd->n = 0;
	for (size_t i = 0; i < n; i++) {
		long d = day_of(recs[i].start);
		size_t k;

		if (d == last)
			continue;
		last = d;
		for (k = 0; k < bd->n && bd->day[k] != d; k++)
			;
		if (k == bd->n) {
			if (bd->n == BATCH_DAYS_MAX)
				return -1;
			bd->day[bd->n++] = d;
		}
	}
	qsort(bd->day, bd->n, sizeof(bd->day[0]), long_cmp);
	memset(bd->count, 0, sizeof(bd->count));
	for (size_t i = 0; i < n; i++)
		bd->count[day_slot(bd, day_of(recs[i].start))]++;
	for (size_t k = 0; k < bd->n; k++) {
		next[k] = at;
		at += bd->count[k];
	}
	for (size_t i = 0; i < n; i++)
		run[next[day_slot(bd, day_of(recs[i].start))]++] = &recs[i];
	return 0;
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The associated data of block j of a segment: the segment's header, the
 * block's directory entry and its number, so that no block opens in
 * another place of the day. */
#define BLK_AD_BYTES (SEG_HDR_BYTES + DIR_BYTES + 4)

static void
block_ad(unsigned char ad[BLK_AD_BYTES], const unsigned char *seg,
         const unsigned char *dir_entry, uint32_t j)
{
	memcpy(ad, seg, SEG_HDR_BYTES);
	memcpy(ad + SEG_HDR_BYTES, dir_entry, DIR_BYTES);
	put32(ad + SEG_HDR_BYTES + DIR_BYTES, j);
}

/* Bytes of a segment of at most m blocks, at most, in any layout. */
static size_t
segment_bytes_max(size_t m)
{
	return SEG_HDR_BYTES +
	       m * (DIR_BYTES + (size_t)BLOOM_WORDS * 8 + NONCE_BYTES +
	            (size_t)TRAFFIC_BLOCK_RECS * TRAFFIC_RECORD_BYTES +
	            SEAL_ABYTES);
}

/* Adds the keys of r to block j's filter. */
static void
index_record(const struct seg_format *f, unsigned char *ix, uint32_t W,
             uint32_t m, uint32_t j, const unsigned char *ixkey,
             const struct traffic_record *r)
{
	bloom_add(f, ix, W, m, j, ix_hash(ixkey, TAG_MSISDN, r->a));
	bloom_add(f, ix, W, m, j, ix_hash(ixkey, TAG_MSISDN, r->b));
	if (r->c != 0)
		bloom_add(f, ix, W, m, j, ix_hash(ixkey, TAG_MSISDN, r->c));
	bloom_add(f, ix, W, m, j, ix_hash(ixkey, TAG_IMSI, r->imsi));
	bloom_add(f, ix, W, m, j, ix_hash(ixkey, TAG_IMEI, r->imei));
	bloom_add(f, ix, W, m, j, ix_hash(ixkey, TAG_CELL, r->cell_start));
	if (r->cell_end != r->cell_start)
		bloom_add(f, ix, W, m, j,
		          ix_hash(ixkey, TAG_CELL, r->cell_end));
}

/*
 * Seals the n records of one day (recs, at most seg_blocks full blocks) as
 * one segment of layout f into buf (segment_bytes_max of its blocks):
 * returns its size. plain is room for one block's packed records, wiped
 * after.
 */
static size_t
segment_seal(const struct seg_format *f, const unsigned char *key,
             const unsigned char *ixkey, long day,
             const struct traffic_record *const *recs, size_t n,
             unsigned char *buf, unsigned char *plain)
{
	int64_t day_start = (int64_t)day * 86400;
	uint32_t m =
	        (uint32_t)((n + TRAFFIC_BLOCK_RECS - 1) / TRAFFIC_BLOCK_RECS);
	uint32_t W = bloom_words(
	        f, (uint32_t)(n < TRAFFIC_BLOCK_RECS ? n : TRAFFIC_BLOCK_RECS));
	unsigned char *dir = buf + SEG_HDR_BYTES;
	unsigned char *ix = dir + (size_t)m * DIR_BYTES;
	size_t ixbytes = (size_t)W * m * 8;
	unsigned char *blk = ix + ixbytes, ad[BLK_AD_BYTES];
	uint32_t smin = UINT32_MAX, smax = 0;
	size_t body;

	assert(m >= 1);
	memset(ix, 0, ixbytes);
	for (uint32_t j = 0; j < m; j++) {
		size_t first = (size_t)j * TRAFFIC_BLOCK_RECS;
		uint32_t nrec = (uint32_t)(n - first < TRAFFIC_BLOCK_RECS
		                                   ? n - first
		                                   : TRAFFIC_BLOCK_RECS);
		uint32_t tmin = UINT32_MAX, tmax = 0;

		for (uint32_t i = 0; i < nrec; i++) {
			const struct traffic_record *r = recs[first + i];
			uint32_t off = (uint32_t)(r->start - day_start);

			tmin = off < tmin ? off : tmin;
			tmax = off > tmax ? off : tmax;
			index_record(f, ix, W, m, j, ixkey, r);
		}
		put32(dir + (size_t)j * DIR_BYTES, nrec);
		put32(dir + (size_t)j * DIR_BYTES + 4, tmin);
		put32(dir + (size_t)j * DIR_BYTES + 8, tmax);
		put32(dir + (size_t)j * DIR_BYTES + 12,
		      nrec * f->rec_bytes + SEAL_ABYTES);
		smin = tmin < smin ? tmin : smin;
		smax = tmax > smax ? tmax : smax;
	}
	body = (size_t)m * (DIR_BYTES + NONCE_BYTES + SEAL_ABYTES) + ixbytes +
	       n * f->rec_bytes;
	put32(buf, f->magic);
	put32(buf + 4, m);
	put32(buf + 8, W);
	put32(buf + 12, smin);
	put32(buf + 16, smax);
	put32(buf + 20, (uint32_t)n);
	put32(buf + 24, (uint32_t)body);
	put32(buf + 28, 0);
	for (uint32_t j = 0; j < m; j++) {
		size_t first = (size_t)j * TRAFFIC_BLOCK_RECS;
		uint32_t nrec = get32(dir + (size_t)j * DIR_BYTES);
		size_t plen = (size_t)nrec * f->rec_bytes;

		for (uint32_t i = 0; i < nrec; i++)
			f->pack(plain + (size_t)i * f->rec_bytes,
			        recs[first + i], day_start);
		block_ad(ad, buf, dir + (size_t)j * DIR_BYTES, j);
		randombytes_buf(blk, NONCE_BYTES);
		crypto_aead_xchacha20poly1305_ietf_encrypt(
		        blk + NONCE_BYTES, NULL, plain, plen, ad, sizeof(ad),
		        NULL, blk, key);
		sodium_memzero(plain, plen);
		blk += NONCE_BYTES + plen + SEAL_ABYTES;
	}
	assert((size_t)(blk - buf) == SEG_HDR_BYTES + body);
	return SEG_HDR_BYTES + body;
}

/* Appends the records of one day (recs, n) to its file. */
static enum vaern_err
day_append(struct traffic_store *st, long day,
           const struct traffic_record *const *recs, size_t n,
           struct day_undo *u, unsigned char *wbuf, unsigned char *plain,
           struct vaern_msg *msg)
{
	unsigned char *key = NULL, ixkey[crypto_shorthash_KEYBYTES];
	enum vaern_err err = VAERN_OK;
	struct stat sb;
	size_t per_seg = st->seg_blocks * (size_t)TRAFFIC_BLOCK_RECS;
	int fd = -1;

	u->fd = -1;
	day_path(st, day, u->path, sizeof(u->path));
	/* One writer per day at a time (the CLI beside the server), and
	 * never into a file the sweep has just unlinked. */
	for (;;) {
		struct stat now;

		fd = open(u->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || flock(fd, LOCK_EX) != 0 || fstat(fd, &sb) != 0) {
			err = vaern_fail(msg, VAERN_E_IO,
			                 "cannot open a traffic day file: %s",
			                 strerror(errno));
			goto done;
		}
		if (stat(u->path, &now) == 0 && now.st_ino == sb.st_ino)
			break;
		close(fd);
	}
	u->fd = fd;
	u->size = sb.st_size;
	u->created = sb.st_size == 0;
	key = sodium_malloc(TRAFFIC_KEY_BYTES);
	if (key == NULL) {
		err = VAERN_E_NOMEM;
		goto done;
	}
	if (u->created) {
		/* A new day: its own random data key (issue 18 point 2). */
		unsigned char hdr[DAY_HDR_BYTES];

		/* The key is kept (durably) before the day's first byte. */
		if ((err = st->keys.get(st->keys.arg, st->controller, day, 1,
		                        key, msg)) != VAERN_OK)
			goto done;
		memcpy(hdr, DAY_MAGIC, 8);
		putn(hdr + 8, (uint64_t)day, 8);
		if (write_all(fd, hdr, sizeof(hdr)) != 0) {
			err = vaern_fail(msg, VAERN_E_IO,
			                 "cannot write a traffic day file");
			goto done;
		}
	} else if ((err = day_key_read(st, fd, day, key, msg)) != VAERN_OK) {
		goto done;
	} else if (lseek(fd, 0, SEEK_END) < 0) {
		err = vaern_fail(msg, VAERN_E_IO, "cannot seek a day file");
		goto done;
	}
	crypto_kdf_derive_from_key(ixkey, sizeof(ixkey), 1, "vaerntix", key);
	for (size_t i = 0; i < n; i += per_seg) {
		size_t len = segment_seal(
		        store_format(st), key, ixkey, day, recs + i,
		        n - i < per_seg ? n - i : per_seg, wbuf, plain);

		if (write_all(fd, wbuf, len) != 0) {
			err = vaern_fail(msg, VAERN_E_IO,
			                 "cannot write a traffic day file: %s",
			                 strerror(errno));
			goto done;
		}
	}
	if (fsync(fd) != 0)
		err = vaern_fail(msg, VAERN_E_IO,
		                 "cannot write a traffic day file: %s",
		                 strerror(errno));
done:
	sodium_memzero(ixkey, sizeof(ixkey));
	sodium_free(key);
	if (fd >= 0 && u->fd != fd)
		close(fd);
	return err;
}

static void
dir_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

enum vaern_err
traffic_append(struct traffic_store *st, const struct traffic_record *recs,
               size_t n, struct vaern_msg *msg)
{
	struct batch_days *bd = NULL;
	const struct traffic_record **run = NULL;
	struct day_undo *undo = NULL;
	unsigned char *wbuf = NULL, *plain = NULL;
	size_t nundo = 0;
	enum vaern_err err = VAERN_OK;

	if (n == 0)
		return VAERN_OK;
	bd = malloc(sizeof(*bd));
	run = malloc(n * sizeof(*run));
	undo = calloc(n < BATCH_DAYS_MAX ? n : BATCH_DAYS_MAX, sizeof(*undo));
	/* Room for one segment: as many blocks as the batch fills, at most
	 * a full segment. */
	wbuf = malloc(
	        segment_bytes_max(n / TRAFFIC_BLOCK_RECS + 1 < st->seg_blocks
	                                  ? n / TRAFFIC_BLOCK_RECS + 1
	                                  : st->seg_blocks));
	plain = sodium_malloc(TRAFFIC_BLOCK_RECS * TRAFFIC_RECORD_BYTES);
	if (bd == NULL || run == NULL || undo == NULL || wbuf == NULL ||
	    plain == NULL) {
		err = VAERN_E_NOMEM;
		goto done;
	}
	if (group_by_day(recs, n, run, bd) != 0) {
		err = vaern_fail(msg, VAERN_E_LIMIT,
		                 "a batch spans more than %d days",
		                 BATCH_DAYS_MAX);
		goto done;
	}
	for (size_t k = 0, i = 0; k < bd->n; i += bd->count[k], k++) {
		err = day_append(st, bd->day[k], run + i, bd->count[k],
		                 &undo[nundo], wbuf, plain, msg);
		nundo++;
		if (err != VAERN_OK)
			goto done;
	}
	dir_sync(st->dir);
done:
	/* All or nothing: on failure every day back to what it held, under
	 * its lock; then the locks go. */
	for (size_t i = 0; undo != NULL && i < nundo; i++) {
		if (err != VAERN_OK && undo[i].fd >= 0) {
			if (undo[i].created)
				unlink(undo[i].path);
			else if (ftruncate(undo[i].fd, undo[i].size) != 0 ||
			         fsync(undo[i].fd) != 0)
				err = vaern_fail(msg, VAERN_E_IO,
				                 "a failed batch could not be "
				                 "undone");
		}
		if (undo[i].fd >= 0)
			close(undo[i].fd);
	}
	free(bd);
	free(run);
	free(undo);
	free(wbuf);
	sodium_free(plain);
	return err;
}

/* ---- the plan and the sweep ------------------------------------------- */

/* The first day at which day d may be swept: when its last second is a
 * full `keep` old (TEL-LOG-1: never a record earlier). */
static long
day_expires(const struct traffic_store *st, long d)
{
	return cal_add_period(d + 1, st->keep);
}

static int
day_name(const char *name, long *day)
{
	size_t l = strlen(name);
	char date[11];
	struct vaern_msg m;

	if (l != 10 + strlen(DAY_SUFFIX) || strcmp(name + 10, DAY_SUFFIX) != 0)
		return -1;
	memcpy(date, name, 10);
	date[10] = '\0';
	return cal_parse_date(date, day, &m) == VAERN_OK ? 0 : -1;
}

/* The days present, sorted; the caller frees *days. */
static enum vaern_err
list_days(const struct traffic_store *st, long **days, size_t *n,
          struct vaern_msg *msg)
{
	DIR *d = opendir(st->dir);
	struct dirent *e;
	long *a = NULL;
	size_t cap = 0;

	*days = NULL;
	*n = 0;
	if (d == NULL)
		return vaern_fail(msg, VAERN_E_IO,
		                  "cannot read the traffic directory");
	while ((e = readdir(d)) != NULL) {
		long day;

		if (day_name(e->d_name, &day) != 0)
			continue;
		if (*n == cap) {
			long *b;

			cap = cap ? cap * 2 : 64;
			b = realloc(a, cap * sizeof(*a));
			if (b == NULL) {
				free(a);
				closedir(d);
				return VAERN_E_NOMEM;
			}
			a = b;
		}
		a[(*n)++] = day;
	}
	closedir(d);
	qsort(a, *n, sizeof(*a), long_cmp);
	*days = a;
	return VAERN_OK;
}

/* Counts the records of a day by its segment headers. */
static uint64_t
day_records(int fd, off_t size)
{
	unsigned char h[SEG_HDR_BYTES];
	uint64_t recs = 0;

	for (off_t off = DAY_HDR_BYTES; off + SEG_HDR_BYTES <= size;) {
		off_t next;

		if (pread(fd, h, sizeof(h), off) != (ssize_t)sizeof(h) ||
		    seg_format_of(get32(h)) == NULL)
			break;
		next = off + SEG_HDR_BYTES + (off_t)get32(h + 24);
		if (next > size)
			break; /* being appended */
		recs += get32(h + 20);
		off = next;
	}
	return recs;
}

enum vaern_err
traffic_plan(struct traffic_store *st, int64_t now,
             enum vaern_err (*fn)(void *arg, const struct traffic_day *d),
             void *arg, struct vaern_msg *msg)
{
	long *days;
	size_t n;
	enum vaern_err err = list_days(st, &days, &n, msg);

	for (size_t i = 0; err == VAERN_OK && i < n; i++) {
		struct traffic_day d = {0};
		char path[TRAFFIC_PATH_MAX];
		struct stat sb;
		int fd;

		day_path(st, days[i], path, sizeof(path));
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &sb) != 0) {
			if (fd >= 0)
				close(fd);
			continue; /* swept meanwhile */
		}
		d.day = days[i];
		d.bytes = (uint64_t)sb.st_size;
		d.records = day_records(fd, sb.st_size);
		close(fd);
		d.expires = day_expires(st, d.day);
		d.due = now >= (int64_t)d.expires * 86400;
		err = fn(arg, &d);
	}
	free(days);
	return err;
}

/* The first day not due at now: every day before it is (day_expires
 * grows with the day), so its keys can go in one statement, those of a
 * day whose file is gone already included. */
static long
first_kept_day(const struct traffic_store *st, int64_t now)
{
	long d = day_of(now) + 1; /* ends after now: never due */

	/* A period is at most a few decades (the policy's check); stop
	 * there whatever it says. */
	for (long i = 0;
	     i < 40000 && now < (int64_t)day_expires(st, d - 1) * 86400; i++)
		d--;
	return d;
}

enum vaern_err
traffic_sweep(struct traffic_store *st, int64_t now, uint64_t *ndays,
              uint64_t *records, struct vaern_msg *msg)
{
	long *days, kept = first_kept_day(st, now);
	size_t n, due = 0;
	enum vaern_err err = list_days(st, &days, &n, msg);

	*ndays = 0;
	*records = 0;
	if (err != VAERN_OK)
		return err;
	/* TEL-LOG-1: whole days only, a full year after their end. */
	while (due < n && days[due] < kept)
		due++;
	for (size_t i = 0; i < due; i++) {
		char path[TRAFFIC_PATH_MAX];
		struct stat sb;
		int fd;

		day_path(st, days[i], path, sizeof(path));
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		(void)flock(fd, LOCK_EX); /* after any append under way */
		if (fstat(fd, &sb) == 0)
			*records += day_records(fd, sb.st_size);
		close(fd);
	}
	/* The keys first, durably: once they are gone the days' blocks are
	 * noise, whatever the file system keeps of them. */
	err = st->keys.drop_before(st->keys.arg, st->controller, kept, msg);
	for (size_t i = 0; err == VAERN_OK && i < due; i++) {
		char path[TRAFFIC_PATH_MAX];

		day_path(st, days[i], path, sizeof(path));
		if (unlink(path) != 0 && errno != ENOENT) {
			err = vaern_fail(msg, VAERN_E_IO,
			                 "cannot remove a day file: %s",
			                 strerror(errno));
			break;
		}
		(*ndays)++;
	}
	if (*ndays > 0)
		dir_sync(st->dir);
	if (err != VAERN_OK && *ndays == 0)
		*records = 0;
	free(days);
	return err;
}

/* ---- the query scan --------------------------------------------------- */

static int
matches(const struct traffic_query *q, const struct traffic_record *r)
{
	if (r->start < q->from || r->start >= q->to)
		return 0;
	switch (q->target) {
	case TRAFFIC_BY_MSISDN:
		return r->a == q->value || r->b == q->value ||
		       (r->c != 0 && r->c == q->value);
	case TRAFFIC_BY_IMSI: return r->imsi == q->value;
	case TRAFFIC_BY_IMEI: return r->imei == q->value;
	case TRAFFIC_BY_CELLS:
		for (size_t i = 0; i < q->ncells; i++)
			if (r->cell_start == q->cells[i] ||
			    r->cell_end == q->cells[i])
				return 1;
		return 0;
	}
	return 0;
}

/* Keys up to which a segment's filter rows are read one by one; past it
 * (an area of many cells) its whole index in one read. */
#define ROWS_ONE_BY_ONE 8

/* What one day's scan works with: the query, the day's key, the file
 * (read with pread, never mapped) and the buffers, each sized for the
 * largest segment any layout writes. */
struct scan {
	const struct traffic_query *q;
	enum vaern_err (*fn)(void *arg, const struct traffic_record *r);
	void *arg;
	const unsigned char *key; /* the day key */
	int64_t day_start;
	int fd;                 /* the day file */
	off_t size;             /* its size when the scan began */
	const uint64_t *hashes; /* the query's keys, hashed for the day */
	size_t nh;
	unsigned char *head;   /* a segment's header and directory */
	unsigned char *rows;   /* filter words: rows, or the whole index */
	unsigned char *sealed; /* one block as on disk */
	unsigned char *plain;  /* its records (PLAIN_SLACK more), wiped */
};

#define HEAD_BYTES (SEG_HDR_BYTES + TRAFFIC_SEG_BLOCKS_MAX * DIR_BYTES)
#define ROWS_BYTES ((size_t)BLOOM_WORDS * TRAFFIC_SEG_BLOCKS_MAX * 8)
#define SEALED_BYTES                                                           \
	(NONCE_BYTES + TRAFFIC_BLOCK_RECS * TRAFFIC_RECORD_BYTES + SEAL_ABYTES)
#define PLAIN_BYTES (TRAFFIC_BLOCK_RECS * TRAFFIC_RECORD_BYTES + PLAIN_SLACK)

/* Reads n bytes at off: 1, or 0 if the file ends before them (a failed
 * append being undone under its writer's lock), -1 on an error. */
static int
read_at(int fd, unsigned char *p, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t r = pread(fd, p, n, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		p += r;
		n -= (size_t)r;
		off += r;
	}
	return 1;
}

/*
 * The blocks of the segment at off (m blocks, W words a block, layout
 * f) whose filter may hold one of the query's keys: bits of hit. -1 on a
 * read error, 0 if the file ends first, 1 done.
 */
static int
segment_hits(const struct scan *sc, const struct seg_format *f, off_t off,
             uint32_t m, uint32_t W, uint64_t hit[TRAFFIC_SEG_BLOCKS_MAX / 64])
{
	off_t ix = off + SEG_HDR_BYTES + (off_t)m * DIR_BYTES;
	size_t row = (size_t)m * 8;
	int whole = sc->nh * f->probes > ROWS_ONE_BY_ONE, rc;

	memset(hit, 0, TRAFFIC_SEG_BLOCKS_MAX / 8);
	if (whole && (rc = read_at(sc->fd, sc->rows, row * W, ix)) != 1)
		return rc;
	for (size_t i = 0; i < sc->nh; i++) {
		const unsigned char *w[2];
		struct probe p;

		bloom_probe(f, sc->hashes[i], W, &p);
		for (unsigned k = 0; k < f->probes; k++) {
			/* Word w of the m blocks, in a row: one read per
			 * probe of a key. */
			unsigned char *dst = sc->rows + k * row;

			if (whole) {
				w[k] = sc->rows + p.word[k] * row;
				continue;
			}
			if ((rc = read_at(sc->fd, dst, row,
			                  ix + (off_t)(p.word[k] * row))) != 1)
				return rc;
			w[k] = dst;
		}
		for (uint32_t j = 0; j < m; j++) {
			int in = 1;

			for (unsigned k = 0; k < f->probes && in; k++)
				in = (traffic_le(w[k] + 8 * (size_t)j, 8) &
				      p.mask[k]) == p.mask[k];
			if (in)
				hit[j / 64] |= (uint64_t)1 << (j % 64);
		}
	}
	return 1;
}

/* Opens the blocks of the segment at off (its header and directory read
 * into sc->head) that may match and hands each matching record to the
 * caller. *end is set when the file ends before the segment does. */
static enum vaern_err
segment_scan(const struct scan *sc, const struct seg_format *f, off_t off,
             uint32_t m, uint32_t W, size_t body, int *end,
             struct vaern_msg *msg)
{
	uint64_t hit[TRAFFIC_SEG_BLOCKS_MAX / 64];
	const unsigned char *seg = sc->head, *dir = seg + SEG_HDR_BYTES;
	off_t blk =
	        off + SEG_HDR_BYTES + (off_t)m * DIR_BYTES + (off_t)W * m * 8;
	off_t stop = off + SEG_HDR_BYTES + (off_t)body;
	unsigned char ad[BLK_AD_BYTES];
	enum vaern_err err = VAERN_OK;
	int rc = segment_hits(sc, f, off, m, W, hit);

	if (rc <= 0)
		goto read_failed;
	for (uint32_t j = 0; j < m && err == VAERN_OK; j++) {
		const unsigned char *d = dir + (size_t)j * DIR_BYTES;
		uint32_t nrec = get32(d), ctl = get32(d + 12);
		int64_t tmin = sc->day_start + get32(d + 4);
		int64_t tmax = sc->day_start + get32(d + 8);

		if (nrec == 0 || nrec > TRAFFIC_BLOCK_RECS ||
		    ctl != nrec * f->rec_bytes + SEAL_ABYTES ||
		    stop - blk < (off_t)(NONCE_BYTES + ctl))
			return vaern_fail(msg, VAERN_E_STORE,
			                  "a traffic day file is damaged");
		if (!(hit[j / 64] >> (j % 64) & 1) || tmax < sc->q->from ||
		    tmin >= sc->q->to) {
			blk += NONCE_BYTES + ctl;
			continue;
		}
		if ((rc = read_at(sc->fd, sc->sealed, NONCE_BYTES + ctl,
		                  blk)) != 1)
			goto read_failed;
		block_ad(ad, seg, d, j);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		            sc->plain, NULL, NULL, sc->sealed + NONCE_BYTES,
		            ctl, ad, sizeof(ad), sc->sealed, sc->key) != 0)
			return vaern_fail(msg, VAERN_E_CRYPTO,
			                  "a traffic block was altered");
		for (uint32_t i = 0; i < nrec && err == VAERN_OK; i++) {
			struct traffic_record r;

			f->unpack(&r, sc->plain + (size_t)i * f->rec_bytes,
			          sc->day_start);
			if (matches(sc->q, &r))
				err = sc->fn(sc->arg, &r);
			sodium_memzero(&r, sizeof(r));
		}
		sodium_memzero(sc->plain, (size_t)nrec * f->rec_bytes);
		blk += NONCE_BYTES + ctl;
	}
	return err;
read_failed:
	if (rc == 0) {
		*end = 1;
		return VAERN_OK;
	}
	return vaern_fail(msg, VAERN_E_IO, "cannot read a day file: %s",
	                  strerror(errno));
}

/* Walks the segments of the day file sc->fd for sc->q. */
static enum vaern_err
day_segments(struct scan *sc, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	int end = 0;

	for (off_t off = DAY_HDR_BYTES;
	     err == VAERN_OK && !end && off + SEG_HDR_BYTES <= sc->size;) {
		size_t want = (size_t)(sc->size - off) < HEAD_BYTES
		                      ? (size_t)(sc->size - off)
		                      : HEAD_BYTES;
		const unsigned char *h = sc->head;
		const struct seg_format *f;
		uint32_t m, W;
		size_t body;
		int64_t tmin, tmax;
		int rc = read_at(sc->fd, sc->head, want, off);

		if (rc <= 0)
			return rc == 0 ? VAERN_OK
			               : vaern_fail(msg, VAERN_E_IO,
			                            "cannot read a day file");
		f = seg_format_of(get32(h));
		m = get32(h + 4);
		W = get32(h + 8);
		body = get32(h + 24);
		tmin = sc->day_start + get32(h + 12);
		tmax = sc->day_start + get32(h + 16);
		if (f == NULL || m == 0 || m > TRAFFIC_SEG_BLOCKS_MAX ||
		    W == 0 || W > f->words_max || (W & (W - 1)) != 0 ||
		    body < (size_t)m * (DIR_BYTES + (size_t)W * 8 +
		                        NONCE_BYTES + SEAL_ABYTES))
			return vaern_fail(msg, VAERN_E_STORE,
			                  "a traffic day file is damaged");
		/* A segment still being appended (the writer holds the
		 * lock; this reader does not wait) ends what there is to
		 * read. */
		if (body > (size_t)(sc->size - off) - SEG_HDR_BYTES)
			break;
		if (tmax >= sc->q->from && tmin < sc->q->to)
			err = segment_scan(sc, f, off, m, W, body, &end, msg);
		off += SEG_HDR_BYTES + (off_t)body;
	}
	return err;
}

/* Scans one day file for q; bufs as struct scan's. */
static enum vaern_err
day_scan(struct traffic_store *st, long day, struct scan *sc,
         struct vaern_msg *msg)
{
	const struct traffic_query *q = sc->q;
	char path[TRAFFIC_PATH_MAX];
	unsigned char *key = NULL, ixkey[crypto_shorthash_KEYBYTES];
	uint64_t *hashes = NULL;
	size_t nh = q->target == TRAFFIC_BY_CELLS ? q->ncells : 1;
	enum vaern_err err = VAERN_OK;
	struct stat sb;
	int fd;

	day_path(st, day, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return VAERN_OK; /* no records that day */
	key = sodium_malloc(TRAFFIC_KEY_BYTES);
	hashes = malloc(nh * sizeof(*hashes));
	if (key == NULL || hashes == NULL) {
		err = VAERN_E_NOMEM;
		goto done;
	}
	if (fstat(fd, &sb) != 0) {
		err = vaern_fail(msg, VAERN_E_IO, "cannot read a day file");
		goto done;
	}
	/* Empty: a day's first append under way, or one killed before its
	 * first byte. Nothing to read. */
	if (sb.st_size == 0)
		goto done;
	if (sb.st_size < DAY_HDR_BYTES) {
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "a traffic day file is damaged");
		goto done;
	}
	if ((err = day_key_read(st, fd, day, key, msg)) != VAERN_OK)
		goto done;
	crypto_kdf_derive_from_key(ixkey, sizeof(ixkey), 1, "vaerntix", key);
	for (size_t i = 0; i < nh; i++) {
		int tag = q->target == TRAFFIC_BY_MSISDN ? TAG_MSISDN
		          : q->target == TRAFFIC_BY_IMSI ? TAG_IMSI
		          : q->target == TRAFFIC_BY_IMEI ? TAG_IMEI
		                                         : TAG_CELL;

		hashes[i] = ix_hash(ixkey, tag,
		                    q->target == TRAFFIC_BY_CELLS ? q->cells[i]
		                                                  : q->value);
	}
	sc->key = key;
	sc->day_start = (int64_t)day * 86400;
	sc->fd = fd;
	sc->size = sb.st_size;
	sc->hashes = hashes;
	sc->nh = nh;
	err = day_segments(sc, msg);
done:
	sodium_memzero(ixkey, sizeof(ixkey));
	sodium_free(key);
	free(hashes);
	close(fd);
	return err;
}

enum vaern_err
traffic_query(struct traffic_store *st, const struct traffic_query *q,
              enum vaern_err (*fn)(void *arg, const struct traffic_record *r),
              void *arg, struct vaern_msg *msg)
{
	struct scan sc = {0};
	enum vaern_err err = VAERN_OK;
	/* The filter rows of a few keys, or a whole segment's index. */
	size_t rows =
	        q->target == TRAFFIC_BY_CELLS && q->ncells * 2 > ROWS_ONE_BY_ONE
	                ? ROWS_BYTES
	                : (size_t)2 * TRAFFIC_SEG_BLOCKS_MAX * 8;

	if (q->to <= q->from)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "to: must be after from");
	if (q->to - q->from > TRAFFIC_RANGE_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the range is longer than a year");
	if (q->target == TRAFFIC_BY_CELLS &&
	    (q->ncells == 0 || q->ncells > TRAFFIC_AREA_CELLS))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "area: must hold 1 to %d known cells",
		                  TRAFFIC_AREA_CELLS);
	sc.q = q;
	sc.fn = fn;
	sc.arg = arg;
	sc.head = malloc(HEAD_BYTES);
	sc.rows = malloc(rows);
	sc.sealed = malloc(SEALED_BYTES);
	sc.plain = sodium_malloc(PLAIN_BYTES);
	if (sc.head == NULL || sc.rows == NULL || sc.sealed == NULL ||
	    sc.plain == NULL) {
		err = VAERN_E_NOMEM;
		goto done;
	}
	memset(sc.plain, 0, PLAIN_BYTES);
	for (long d = day_of(q->from);
	     err == VAERN_OK && d <= day_of(q->to - 1); d++)
		err = day_scan(st, d, &sc, msg);
done:
	free(sc.head);
	free(sc.rows);
	free(sc.sealed);
	sodium_free(sc.plain);
	return err;
}
