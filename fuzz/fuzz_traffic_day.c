/*
 * fuzz_traffic_day.c -- libFuzzer harness for the reader of the
 * retained-data store's day files (src/traffic/traffic_store.c, issue
 * 18): the segment headers, block directories and filter rows a query
 * and the retention plan walk before and after a block is opened.
 *
 * A day file is the 16-byte day header and segments. The input is what
 * follows the header: the harness writes the header (so the fuzzer need
 * not find the magic) and the input as day D's file of a store whose
 * day keys are one fixed key, then asks D's records by each target (an
 * A-number, an IMSI, an IMEI, an area of two cells), by a window of an
 * hour, and the retention plan. Besides the sanitizers it checks the
 * contract of traffic.h: every record a query hands over matches it
 * (kind known, starting inside the window, the identifier or a cell
 * asked for), and the plan's day is D.
 *
 * The seed corpus (fuzz/corpus/fuzz_traffic_day) holds real day files,
 * one per layout, without their header: with FUZZ_TRAFFIC_DAY_SEEDS=DIR
 * set, the first call writes them to DIR (records appended through
 * traffic_append, sealed under the fixed key) and exits.
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_traffic_store.h"
#include "traffic/traffic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DAY      20179 /* 2025-04-01 */
#define DAY_PATH "2025-04-01.day"
#define HDR      16
#define MSISDN   4512345678ULL
#define IMSI     238011234567890ULL
#define IMEI     35209900176148ULL

static struct traffic_store *store;
static char dir[] = "/tmp/vaern-fuzz-traffic-day-XXXXXX";

/* Every day's key: one fixed key, so a seed's blocks open. */
static enum vaern_err
fixed_key(void *arg, const char *controller, long day, int create,
          unsigned char *key, struct vaern_msg *msg)
{
	(void)arg;
	(void)controller;
	(void)day;
	(void)create;
	(void)msg;
	memset(key, 0x5a, TRAFFIC_KEY_BYTES);
	return VAERN_OK;
}

/* ---- the seeds ---------------------------------------------------------- */

/* Appends n records of day DAY in layout, and copies the day file
 * without its header to seeds/name. */
static void
seed_write(const char *seeds, const char *name, enum traffic_layout layout,
           size_t n)
{
	struct traffic_record *r = calloc(n, sizeof(*r));
	struct vaern_msg msg;
	char src[160], dst[512];
	unsigned char buf[4096];
	FILE *in, *out;
	size_t got;

	if (r == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		r[i].kind = (uint8_t)(i % 3);
		r[i].imsi_digits = 15;
		r[i].start = (int64_t)DAY * 86400 + (int64_t)(i * 37 % 86000);
		r[i].end = r[i].start + (int64_t)(i % 300);
		r[i].a = i % 5 == 0 ? MSISDN : 4520000000ULL + i;
		r[i].b = 4530000000ULL + i % 97;
		r[i].imsi = i % 7 == 0 ? IMSI : 238010000000000ULL + i;
		r[i].imei = i % 11 == 0 ? IMEI : 35000000000000ULL + i;
		r[i].cell_start = (uint32_t)(i % 3);
		r[i].cell_end = (uint32_t)((i + 1) % 3);
	}
	snprintf(src, sizeof(src), "%s/%s/fuzz/%s", dir, TRAFFIC_DIR, DAY_PATH);
	(void)unlink(src);
	traffic_set_layout(store, layout);
	traffic_set_segment_blocks(store, 4);
	if (traffic_append(store, r, n, &msg) != VAERN_OK) {
		fprintf(stderr, "seed: %s\n", msg.text);
		abort();
	}
	free(r);
	snprintf(dst, sizeof(dst), "%s/%s", seeds, name);
	if ((in = fopen(src, "rb")) == NULL ||
	    (out = fopen(dst, "wb")) == NULL || fseek(in, HDR, SEEK_SET) != 0)
		abort();
	while ((got = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, got, out) != got)
			abort();
	fclose(in);
	if (fclose(out) != 0)
		abort();
}

/* ---- the checks --------------------------------------------------------- */

struct seen {
	const struct traffic_query *q;
};

static int
in_cells(const struct traffic_query *q, uint32_t cell)
{
	for (size_t i = 0; i < q->ncells; i++)
		if (q->cells[i] == cell)
			return 1;
	return 0;
}

/* A record handed over must match the query. */
static enum vaern_err
check_record(void *arg, const struct traffic_record *r)
{
	const struct traffic_query *q = ((struct seen *)arg)->q;
	int ok;

	if (r->kind >= TRAFFIC_KINDS || r->start < q->from || r->start >= q->to)
		abort();
	switch (q->target) {
	case TRAFFIC_BY_MSISDN:
		ok = r->a == q->value || r->b == q->value || r->c == q->value;
		break;
	case TRAFFIC_BY_IMSI: ok = r->imsi == q->value; break;
	case TRAFFIC_BY_IMEI: ok = r->imei == q->value; break;
	default:
		ok = in_cells(q, r->cell_start) || in_cells(q, r->cell_end);
		break;
	}
	if (!ok)
		abort();
	return VAERN_OK;
}

static enum vaern_err
check_day(void *arg, const struct traffic_day *d)
{
	(void)arg;
	if (d->day != DAY)
		abort();
	return VAERN_OK;
}

/* Writes the header and data as day DAY's file. */
static void
day_write(const uint8_t *data, size_t size)
{
	unsigned char hdr[HDR] = "VTRDAY02";
	char path[160];
	int fd;

	for (int i = 0; i < 8; i++)
		hdr[8 + i] = (unsigned char)((uint64_t)DAY >> (8 * i));
	snprintf(path, sizeof(path), "%s/%s/fuzz/%s", dir, TRAFFIC_DIR,
	         DAY_PATH);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, hdr, HDR) != HDR ||
	    (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    close(fd) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t area[] = {0, 2};
	const int64_t start = (int64_t)DAY * 86400;
	struct traffic_query qs[] = {
	        {TRAFFIC_BY_MSISDN, MSISDN, NULL, 0, start, start + 86400},
	        {TRAFFIC_BY_IMSI, IMSI, NULL, 0, start, start + 86400},
	        {TRAFFIC_BY_IMEI, IMEI, NULL, 0, start, start + 86400},
	        {TRAFFIC_BY_CELLS, 0, area, 2, start, start + 86400},
	        {TRAFFIC_BY_MSISDN, MSISDN, NULL, 0, start + 3600,
	         start + 7200},
	};
	struct vaern_msg msg;

	if (store == NULL) {
		const char *seeds = getenv("FUZZ_TRAFFIC_DAY_SEEDS");

		store = fuzz_traffic_open(dir, fixed_key);
		if (seeds != NULL) {
			seed_write(seeds, "v3", TRAFFIC_LAYOUT_V3, 300);
			seed_write(seeds, "v2", TRAFFIC_LAYOUT_V2, 300);
			seed_write(seeds, "v3-one", TRAFFIC_LAYOUT_V3, 1);
			exit(0);
		}
	}
	day_write(data, size);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		struct seen s = {&qs[i]};

		(void)traffic_query(store, &qs[i], check_record, &s, &msg);
	}
	(void)traffic_plan(store, start + 86400, check_day, NULL, &msg);
	return 0;
}
