/*
 * fuzz_traffic.c -- libFuzzer harness for the record parser of the
 * retained-data store (src/traffic, issue 18): `vaern traffic import` and
 * POST /v1/traffic.
 *
 * The first byte picks the format (its low two bits: 0 CSV, 2 the binary
 * batch, 1 or 3 NDJSON); the rest is the batch. A store with
 * two cells is opened once in a temporary directory. Besides the
 * sanitizers it checks the contract of traffic.h: every record kept has a
 * known kind and cells, start <= end <= now; every bad record has a line
 * inside the input and a message; good and bad add up to no more lines
 * than the input has.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_traffic_store.h"
#include "traffic/traffic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct traffic_store *store;
static char dir[] = "/tmp/vaern-fuzz-traffic-XXXXXX";

/* The parser never asks for a day key. */
static enum vaern_err
no_key(void *arg, const char *controller, long day, int create,
       unsigned char *key, struct vaern_msg *msg)
{
	(void)arg;
	(void)controller;
	(void)day;
	(void)create;
	(void)key;
	return vaern_fail(msg, VAERN_E_NOTFOUND, "no day key");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct traffic_batch b = {0};
	struct traffic_errors errs;
	struct vaern_msg msg;
	int64_t now = 1743465600; /* 2025-04-01 */
	enum traffic_format fmt;
	size_t lines = 1;

	if (store == NULL)
		store = fuzz_traffic_open(dir, no_key);
	if (size < 1)
		return 0;
	memset(&errs, 0, sizeof(errs));
	fmt = (data[0] & 3) == 0   ? TRAFFIC_CSV
	      : (data[0] & 3) == 2 ? TRAFFIC_BINARY
	                           : TRAFFIC_NDJSON;
	/* The positions a bad record may have: lines, or records. */
	if (fmt == TRAFFIC_BINARY)
		lines = size - 1 < TRAFFIC_BIN_HEADER
		                ? 0
		                : (size - 1 - TRAFFIC_BIN_HEADER) /
		                          TRAFFIC_BIN_RECORD;
	else
		for (size_t i = 1; i < size; i++)
			lines += data[i] == '\n';
	if (traffic_parse(store, fmt, (const char *)data + 1, size - 1, now, &b,
	                  &errs, &msg) != VAERN_OK) {
		traffic_batch_free(&b);
		return 0;
	}
	for (size_t i = 0; i < b.n; i++) {
		const struct traffic_record *r = &b.recs[i];

		if (r->kind >= TRAFFIC_KINDS || r->start > r->end ||
		    r->end > now ||
		    traffic_cell_at(store, r->cell_start) == NULL ||
		    traffic_cell_at(store, r->cell_end) == NULL)
			abort();
	}
	for (size_t i = 0; i < errs.count && i < TRAFFIC_ERRORS_MAX; i++)
		if (errs.items[i].line == 0 || errs.items[i].line > lines ||
		    errs.items[i].what[0] == '\0')
			abort();
	if (b.n + errs.count > lines + 1)
		abort();
	traffic_batch_free(&b);
	return 0;
}
