/*
 * traffic_internal.h -- what the files of src/traffic share; not an API.
 */
#ifndef VAERN_TRAFFIC_INTERNAL_H
#define VAERN_TRAFFIC_INTERNAL_H

#include <limits.h>
#include <sodium.h>

#include "traffic.h"

#define TRAFFIC_PATH_MAX     PATH_MAX
#define TRAFFIC_CELLS_FILE   "cells.csv"
#define TRAFFIC_DURATION_MAX 0xffffff /* seconds: the packed field */

/* The cells-and-masts reference, with an open-addressing index by id. */
struct traffic_cells {
	struct traffic_cell *cells; /* index = row of cells.csv */
	size_t n, cap;
	uint32_t *slots;  /* 1 + index into cells, 0 empty */
	size_t slots_cap; /* a power of two */
};

struct traffic_store {
	char dir[TRAFFIC_PATH_MAX - 64]; /* DATA/traffic/<controller>: room
	                                    left for a file name */
	char controller[72];             /* the controller's policy id */
	struct traffic_keys keys;        /* where the day keys are kept */
	struct period keep;              /* how long a day is kept */
	unsigned seg_blocks;             /* full blocks per index segment
	                                    an append writes */
	enum traffic_layout layout;      /* of the segments appends write */
	struct traffic_cells cells;      /* the reference */
};

/* The n-byte little-endian unsigned integer at p (the day files, the
 * binary batch). */
static inline uint64_t
traffic_le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Reads DIR/cells.csv into st->cells (none: empty). */
enum vaern_err traffic_cells_read(struct traffic_store *st,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

void traffic_cells_free(struct traffic_cells *t);

/* Appends a copy of r to b, growing it (wiping what it drops) up to
 * TRAFFIC_BATCH_MAX records: VAERN_E_LIMIT past it. */
enum vaern_err traffic_batch_push(struct traffic_batch *b,
                                  const struct traffic_record *r)
        __attribute__((warn_unused_result, nonnull(1, 2)));

#endif
