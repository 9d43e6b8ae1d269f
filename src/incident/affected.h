/*
 * affected.h -- who was affected by a breach, from the audit trail
 * (issue 17 point 4; GDPR-33): given a time window and what leaked (an
 * actor's token, a role, a recipient, a route, categories), the subjects
 * whose data was released in it, and how many per category.
 *
 * Computed from the audit entries alone (allowed releases naming a
 * subject): exact, and nothing is decrypted. The trail is opened
 * read-only with a connection of its own.
 */
#ifndef VAERN_INCIDENT_AFFECTED_H
#define VAERN_INCIDENT_AFFECTED_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define AFFECTED_UID_BYTES    16
#define AFFECTED_CATEGORIES   64 /* distinct categories counted */
#define AFFECTED_CATEGORY_MAX 64 /* bytes of a category id */

/* What leaked. NULL fields do not filter. */
struct affected_query {
	const char *controller; /* required */
	int64_t from, to;       /* the window, both included */
	const char *actor;      /* the actor whose token leaked */
	const char *role;
	const char *recipient; /* disclosures to it ("disclose:<id>") */
	const char *action;    /* the route's action: read, export, ... */
	const char *const *categories; /* released categories of interest */
	size_t ncategories;            /* 0: any */
};

/* The answer; incident_affected_free releases it. */
struct affected {
	unsigned char (*subjects)[AFFECTED_UID_BYTES]; /* sorted, distinct */
	size_t nsubjects;
	char names[AFFECTED_CATEGORIES][AFFECTED_CATEGORY_MAX + 1];
	size_t counts[AFFECTED_CATEGORIES]; /* subjects per category */
	size_t ncategories;
	int64_t entries; /* matching entries */
};

/*
 * Searches the audit trail at path (DIR/audit.db) for q into out, by its
 * release index (the window's blocks, src/store/store_audit_release.h); a
 * trail made before the index gets it first (a writable open's backfill,
 * once).
 * VAERN_E_INVALID for a query without controller or with from > to;
 * VAERN_E_LIMIT past AFFECTED_CATEGORIES distinct categories.
 */
enum vaern_err incident_affected(const char *path,
                                 const struct affected_query *q,
                                 struct affected *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/*
 * The same answer from a scan of the trail's entries (no index but the
 * trail's own time index): the cross-check of the index and the
 * benchmark's baseline (bench/bench_incident.c). Slow: seconds per
 * million entries.
 */
enum vaern_err
incident_affected_scan(const char *path, const struct affected_query *q,
                       struct affected *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

void incident_affected_free(struct affected *a);

/* The answer as JSON: {"people", "entries", "by_category": {category:
 * people}, "subjects": [hex ids]}; NULL when out of memory. */
json_t *incident_affected_json(const struct affected *a)
        __attribute__((nonnull));

#endif
