/*
 * store_console_views.h -- the rows the staff console's views read that
 * no other surface lists (issue 20, point 3): the legal holds in force
 * of one controller, with their subjects' public ids. Like store.h: rows
 * only, read inside the caller's snapshot.
 */
#ifndef VAERN_STORE_CONSOLE_VIEWS_H
#define VAERN_STORE_CONSOLE_VIEWS_H

#include <stdint.h>

#include "../common/err.h"
#include "store.h"

#define STORE_UID_BYTES 16 /* a subject's public random id */

/* A hold in force as the retention view lists it: no reason (it stays
 * sealed under the person's key). Pointers valid during the callback. */
struct store_hold_row {
	int64_t id;
	unsigned char uid[STORE_UID_BYTES]; /* the subject's public id */
	const char *category;               /* NULL: the whole subject */
	int64_t review_at;                  /* STORE_NO_TIME: none */
	int64_t placed_at;
	const char *placed_by;
};

/* Calls fn for each hold in force on a subject of controller (the
 * store's controller id), by hold id; stops at the first non-OK. */
enum vaern_err store_holds_in_force(
        struct store *st, int64_t controller,
        enum vaern_err (*fn)(void *arg, const struct store_hold_row *h),
        void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

#endif
