/*
 * vault_console.h -- what the staff console's views read from the vault
 * that the CLI and the API had no call for (issue 20, points 3 and 4):
 * the retention chart's counts built from the plan (shared with `vaern
 * retention chart`), and the legal holds in force of one controller.
 * Counts, ids and dates only: nothing here opens a sealed value.
 */
#ifndef VAERN_VAULT_CONSOLE_H
#define VAERN_VAULT_CONSOLE_H

#include "../render/render.h"
#include "vault.h"

#define VAULT_CHART_CLAUSE_MAX 64

/* The retention chart of one controller: the chart (what render_chart_*
 * draws) and the storage its series point into. The caller allocates it
 * (some 40 KiB: not on a worker's stack). */
struct vault_chart {
	struct render_chart chart; /* series = this struct's series */
	struct render_chart_series series[RENDER_CHART_SERIES];
	char rule[RENDER_CHART_SERIES][VAULT_RULE_MAX + 1];
	char clause[RENDER_CHART_SERIES][VAULT_CHART_CLAUSE_MAX];
	char controller[POLICY_NAME_MAX + 1];
};

/*
 * Fills *out with controller's retention plan as of as_of (seconds) as
 * the chart counts it (issue 20, point 2): per rule and kind (facts,
 * visits), what is due in each of the RENDER_CHART_MONTHS months from
 * as_of's month, overdue (due at or before as_of), later, undated
 * (waiting for an event), held by restriction (GDPR-18) and under a
 * legal hold (CEK-HOLD-1). The same numbers as vault_retention_plan
 * and vault_retention_held. VAERN_E_LIMIT when the policy has more
 * rules than the chart draws.
 */
enum vaern_err vault_retention_chart(struct vault *v, const char *controller,
                                     int64_t as_of, struct vault_chart *out,
                                     struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 4)));

/* A legal hold in force, as the retention view lists it. The reason
 * stays sealed (vault_hold_foreach opens it per subject). */
struct vault_hold_row {
	int64_t id;
	unsigned char subject[VAULT_UID_BYTES];
	const char *category; /* NULL: all the subject's data */
	int64_t review_at;    /* INT64_MIN: none */
	int64_t placed_at;
	const char *placed_by; /* the actor (or operator) who placed it */
};

/* Calls fn for each legal hold in force on a subject of controller, by
 * hold number; stops at the first non-OK from fn and returns it. */
enum vaern_err vault_holds_in_force(
        struct vault *v, const char *controller,
        enum vaern_err (*fn)(void *arg, const struct vault_hold_row *h),
        void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

#endif
