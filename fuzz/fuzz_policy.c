/*
 * fuzz_policy.c -- libFuzzer harness for the policy loader.
 *
 * Feeds each input to policy_load_buffer and frees the result. Besides the
 * sanitizers it checks the contract of policy.h: a success returns a
 * policy and no diagnostic; an invalid policy returns none and at least
 * one diagnostic; diagnostics are NUL-terminated and in file order; and
 * every index of a compiled policy points into its arrays.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_indexes(const size_t *idx, size_t n, size_t bound)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (idx[i] >= bound)
			abort();
}

static void
check_policy(const struct policy *p)
{
	size_t i;

	for (i = 0; i < p->npurposes; i++) {
		const struct policy_purpose *pp = &p->purposes[i];

		check_indexes(pp->categories, pp->ncategories, p->ncategories);
		check_indexes(pp->mandatory, pp->nmandatory, p->ncategories);
		if (pp->basis == 0 || pp->basis > 0x3f)
			abort();
		/* GDPR-7: consent-based purposes say how consent is given. */
		if ((pp->basis & BASIS_A) && pp->nconsent_sources == 0)
			abort();
	}
	for (i = 0; i < p->nretention; i++) {
		const struct policy_retention *r = &p->retention[i];

		check_indexes(r->categories, r->ncategories, p->ncategories);
		check_indexes(r->keep, r->nkeep, p->ncategories);
		if (r->nanchors == 0)
			abort();
	}
	for (i = 0; i < p->nrecipients; i++) {
		const struct policy_recipient *r = &p->recipients[i];

		check_indexes(r->purposes, r->npurposes, p->npurposes);
		check_indexes(r->categories, r->ncategories, p->ncategories);
		/* CEK-XFER-1, AURA-XFER-1 */
		if (r->outside_eea &&
		    (p->transfers_none || r->safeguard == NULL))
			abort();
	}
	for (i = 0; i < p->nroles; i++)
		check_indexes(p->roles[i].purposes, p->roles[i].npurposes,
		              p->npurposes);
	for (i = 0; i < p->ncategories; i++)
		if (policy_category_index(p, p->categories[i].id) != (long)i ||
		    p->categories[i].identifier == ID_CARD) /* SHOP-PAY-1 */
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* About 52 KiB: kept off the stack. */
	static struct policy_diags diags;
	struct policy *p = NULL;
	enum vaern_err err;
	size_t i;

	err = policy_load_buffer((const char *)data, size, &p, &diags);
	if (err == VAERN_OK) {
		if (p == NULL || diags.count != 0)
			abort();
		check_policy(p);
	} else {
		if (p != NULL)
			abort();
		if (err == VAERN_E_INVALID && diags.count == 0)
			abort();
	}
	if (diags.count > POLICY_DIAG_MAX)
		abort();
	for (i = 0; i < diags.count; i++) {
		const struct policy_diag *d = &diags.items[i];

		if (memchr(d->message, '\0', sizeof(d->message)) == NULL ||
		    d->message[0] == '\0')
			abort();
		if (i > 0 &&
		    (d[-1].line > d->line ||
		     (d[-1].line == d->line && d[-1].column > d->column)))
			abort();
	}
	policy_free(p);
	return 0;
}
