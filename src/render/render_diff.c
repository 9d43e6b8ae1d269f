/*
 * render_diff.c -- what changed between two versions of one controller's
 * policy, in words (issue 15 point 3): purposes, categories, legal bases,
 * recipients, transfers and retention periods added, removed or changed.
 * One line per change, in English (the CLI's language), ids as the policy
 * names them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "render_internal.h"

static const char *const type_words[] = {"processor", "third party",
                                         "authority"};
static const char *const need_words[] = {
        "a data processing agreement", "consent", "prior agreement",
        "consent or prior agreement", "a legal demand"};
static const char *const right_words[] = {"access",      "rectification",
                                          "erasure",     "restriction",
                                          "portability", "objection"};

/* One change: "- " and the words, a line of its own. */
static void line(struct rw *w, size_t *n, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void
line(struct rw *w, size_t *n, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rw_raw(w, "- ");
	rw_text(w, buf);
	rw_raw(w, "\n");
	(*n)++;
}

/* Is category id in b's purpose (by id)? */
static int
has_category(const struct policy *p, const size_t *idx, size_t n,
             const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(p->categories[idx[i]].id, id) == 0)
			return 1;
	return 0;
}

static int
has_purpose(const struct policy *p, const size_t *idx, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(p->purposes[idx[i]].id, id) == 0)
			return 1;
	return 0;
}

/* The ids of idx (in pa) not in ib (in pb), comma-separated, into out. */
static void
missing_categories(const struct policy *pa, const size_t *ia, size_t na,
                   const struct policy *pb, const size_t *ib, size_t nb,
                   char *out, size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < na; i++) {
		const char *id = pa->categories[ia[i]].id;

		if (has_category(pb, ib, nb, id))
			continue;
		used += (size_t)snprintf(out + used, outlen - used, "%s%s",
		                         used > 0 ? ", " : "", id);
		if (used >= outlen) {
			out[outlen - 1] = '\0';
			return;
		}
	}
}

static void
missing_purposes(const struct policy *pa, const size_t *ia, size_t na,
                 const struct policy *pb, const size_t *ib, size_t nb,
                 char *out, size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < na; i++) {
		const char *id = pa->purposes[ia[i]].id;

		if (has_purpose(pb, ib, nb, id))
			continue;
		used += (size_t)snprintf(out + used, outlen - used, "%s%s",
		                         used > 0 ? ", " : "", id);
		if (used >= outlen) {
			out[outlen - 1] = '\0';
			return;
		}
	}
}

static int
same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
diff_purposes(struct rw *w, const struct policy *a, const struct policy *b,
              size_t *n)
{
	char la[16], lb[16], list[1024];

	for (size_t i = 0; i < a->npurposes; i++)
		if (policy_purpose_index(b, a->purposes[i].id) < 0)
			line(w, n, "purpose removed: %s", a->purposes[i].id);
	for (size_t i = 0; i < b->npurposes; i++) {
		const struct policy_purpose *pb = &b->purposes[i];
		long j = policy_purpose_index(a, pb->id);
		const struct policy_purpose *pa;

		render_basis_letters(pb->basis, lb);
		if (j < 0) {
			line(w, n, "purpose added: %s (basis %s)", pb->id, lb);
			continue;
		}
		pa = &a->purposes[j];
		render_basis_letters(pa->basis, la);
		if (pa->basis != pb->basis)
			line(w, n,
			     "purpose %s: legal basis changed from %s to %s",
			     pb->id, la, lb);
		if (pa->art9 != pb->art9)
			line(w, n,
			     "purpose %s: Art. 9(2) condition changed "
			     "from %c to %c",
			     pb->id, pa->art9 ? pa->art9 : '-',
			     pb->art9 ? pb->art9 : '-');
		missing_categories(b, pb->categories, pb->ncategories, a,
		                   pa->categories, pa->ncategories, list,
		                   sizeof(list));
		if (list[0] != '\0')
			line(w, n, "purpose %s: categories added: %s", pb->id,
			     list);
		missing_categories(a, pa->categories, pa->ncategories, b,
		                   pb->categories, pb->ncategories, list,
		                   sizeof(list));
		if (list[0] != '\0')
			line(w, n, "purpose %s: categories removed: %s", pb->id,
			     list);
		if (!same_text(pa->legitimate_interests,
		               pb->legitimate_interests))
			line(w, n, "purpose %s: legitimate interests changed",
			     pb->id);
		if (!same_text(pa->description, pb->description))
			line(w, n, "purpose %s: description changed", pb->id);
		if (pa->direct_marketing != pb->direct_marketing)
			line(w, n, "purpose %s: %s direct marketing", pb->id,
			     pb->direct_marketing ? "now" : "no longer");
	}
}

static void
diff_categories(struct rw *w, const struct policy *a, const struct policy *b,
                size_t *n)
{
	for (size_t i = 0; i < a->ncategories; i++)
		if (policy_category_index(b, a->categories[i].id) < 0)
			line(w, n, "category removed: %s", a->categories[i].id);
	for (size_t i = 0; i < b->ncategories; i++) {
		const struct policy_category *cb = &b->categories[i];
		long j = policy_category_index(a, cb->id);

		if (j < 0) {
			line(w, n, "category added: %s%s", cb->id,
			     cb->special ? " (special category, Art. 9)" : "");
			continue;
		}
		if (a->categories[j].special != cb->special)
			line(w, n, "category %s: %s a special category", cb->id,
			     cb->special ? "now" : "no longer");
		if (a->categories[j].source != cb->source ||
		    !same_text(a->categories[j].source_party, cb->source_party))
			line(w, n, "category %s: source changed", cb->id);
	}
}

static void
diff_recipients(struct rw *w, const struct policy *a, const struct policy *b,
                size_t *n)
{
	char list[1024];

	for (size_t i = 0; i < a->nrecipients; i++)
		if (policy_recipient_index(b, a->recipients[i].id) < 0)
			line(w, n, "recipient removed: %s",
			     a->recipients[i].id);
	for (size_t i = 0; i < b->nrecipients; i++) {
		const struct policy_recipient *rb = &b->recipients[i];
		long j = policy_recipient_index(a, rb->id);
		const struct policy_recipient *ra;

		if (j < 0) {
			line(w, n, "recipient added: %s (%s, on %s%s%s)",
			     rb->id, type_words[rb->type],
			     need_words[rb->needs],
			     rb->outside_eea ? ", outside the EU/EEA: " : "",
			     rb->outside_eea ? rb->country : "");
			continue;
		}
		ra = &a->recipients[j];
		if (ra->type != rb->type)
			line(w, n, "recipient %s: now a %s (was a %s)", rb->id,
			     type_words[rb->type], type_words[ra->type]);
		if (ra->needs != rb->needs)
			line(w, n, "recipient %s: now on %s (was on %s)",
			     rb->id, need_words[rb->needs],
			     need_words[ra->needs]);
		if (strcmp(ra->country, rb->country) != 0)
			line(w, n,
			     "recipient %s: country changed from %s to %s",
			     rb->id, ra->country, rb->country);
		if (!same_text(ra->safeguard, rb->safeguard))
			line(w, n, "recipient %s: safeguard changed", rb->id);
		missing_purposes(b, rb->purposes, rb->npurposes, a,
		                 ra->purposes, ra->npurposes, list,
		                 sizeof(list));
		if (list[0] != '\0')
			line(w, n, "recipient %s: now receives for: %s", rb->id,
			     list);
		missing_purposes(a, ra->purposes, ra->npurposes, b,
		                 rb->purposes, rb->npurposes, list,
		                 sizeof(list));
		if (list[0] != '\0')
			line(w, n, "recipient %s: no longer receives for: %s",
			     rb->id, list);
	}
}

static const struct policy_transfer *
find_transfer(const struct policy *p, const char *country)
{
	for (size_t i = 0; i < p->ntransfers; i++)
		if (strcmp(p->transfers[i].country, country) == 0)
			return &p->transfers[i];
	return NULL;
}

static void
diff_transfers(struct rw *w, const struct policy *a, const struct policy *b,
               size_t *n)
{
	if (a->transfers_none != b->transfers_none)
		line(w, n, "transfers: %s",
		     b->transfers_none ? "now none outside the EU/EEA"
		                       : "no longer 'none outside the EU/EEA'");
	for (size_t i = 0; i < a->ntransfers; i++)
		if (find_transfer(b, a->transfers[i].country) == NULL)
			line(w, n, "transfer removed: %s",
			     a->transfers[i].country);
	for (size_t i = 0; i < b->ntransfers; i++) {
		const struct policy_transfer *ta =
		        find_transfer(a, b->transfers[i].country);

		if (ta == NULL)
			line(w, n, "transfer added: %s (safeguard: %s)",
			     b->transfers[i].country,
			     b->transfers[i].safeguard);
		else if (!same_text(ta->safeguard, b->transfers[i].safeguard))
			line(w, n,
			     "transfer to %s: safeguard changed from %s "
			     "to %s",
			     ta->country, ta->safeguard,
			     b->transfers[i].safeguard);
	}
}

static long
rule_index(const struct policy *p, const char *id)
{
	for (size_t i = 0; i < p->nretention; i++)
		if (strcmp(p->retention[i].id, id) == 0)
			return (long)i;
	return -1;
}

static void
diff_retention(struct rw *w, const struct policy *a, const struct policy *b,
               size_t *n)
{
	char wa[1024], wb[1024], list[1024];

	for (size_t i = 0; i < a->nretention; i++)
		if (rule_index(b, a->retention[i].id) < 0)
			line(w, n, "retention rule removed: %s",
			     a->retention[i].id);
	for (size_t i = 0; i < b->nretention; i++) {
		const struct policy_retention *rb = &b->retention[i];
		long j = rule_index(a, rb->id);
		const struct policy_retention *ra;

		render_retention_words(b, rb, RENDER_EN, wb, sizeof(wb));
		if (j < 0) {
			line(w, n, "retention rule added: %s (%s)", rb->id, wb);
			continue;
		}
		ra = &a->retention[j];
		render_retention_words(a, ra, RENDER_EN, wa, sizeof(wa));
		if (strcmp(wa, wb) != 0)
			line(w, n, "retention %s: period changed from %s to %s",
			     rb->id, wa, wb);
		missing_categories(b, rb->categories, rb->ncategories, a,
		                   ra->categories, ra->ncategories, list,
		                   sizeof(list));
		if (list[0] != '\0')
			line(w, n, "retention %s: categories added: %s", rb->id,
			     list);
		missing_categories(a, ra->categories, ra->ncategories, b,
		                   rb->categories, rb->ncategories, list,
		                   sizeof(list));
		if (list[0] != '\0')
			line(w, n, "retention %s: categories removed: %s",
			     rb->id, list);
	}
}

enum vaern_err
render_policy_diff(const struct policy *a, const struct policy *b, char **out,
                   size_t *len, struct vaern_msg *msg)
{
	struct rw w;
	size_t n = 0;
	char da[11], db[11];

	*out = NULL;
	*len = 0;
	if (strcmp(a->controller.id, b->controller.id) != 0)
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "the two policies are of different controllers "
		        "(%s, %s): a diff compares versions of one",
		        a->controller.id, b->controller.id);
	rw_init(&w, RENDER_TXT, RENDER_EN);
	cal_format_date(a->controller.policy_version, da);
	cal_format_date(b->controller.policy_version, db);
	if (strcmp(da, db) != 0)
		line(&w, &n, "version date changed from %s to %s", da, db);
	diff_purposes(&w, a, b, &n);
	diff_categories(&w, a, b, &n);
	diff_recipients(&w, a, b, &n);
	diff_transfers(&w, a, b, &n);
	diff_retention(&w, a, b, &n);
	for (unsigned i = 0; i < 6; i++) {
		unsigned bit = 1u << i;

		if ((a->rights & bit) != (b->rights & bit))
			line(&w, &n, "right %s: %s", right_words[i],
			     (b->rights & bit) ? "added" : "removed");
	}
	if (!same_text(a->controller.complaints, b->controller.complaints) ||
	    !same_text(a->controller.authority_name,
	               b->controller.authority_name))
		line(&w, &n, "complaint route changed");
	if (n == 0)
		rw_raw(&w, "no changes to purposes, categories, bases, "
		           "recipients, transfers or retention\n");
	return rw_take(&w, out, len, msg);
}
