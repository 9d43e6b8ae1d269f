/*
 * render_diff.c -- what changed between two versions of one controller's
 * policy, in words (issue 15 point 3): purposes, categories, legal bases,
 * recipients, transfers and retention periods added, removed or changed.
 * One line per change in da, sv or en, the words from
 * templates/notice/{en,da,sv}.strings (diff_*), ids as the policy names
 * them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "render_internal.h"

static const enum render_key type_words[] = {
        R_diff_type_processor, R_diff_type_third_party, R_diff_type_authority};
static const enum render_key need_words[] = {
        R_diff_need_agreement, R_diff_need_consent, R_diff_need_prior,
        R_diff_need_consent_or_prior, R_diff_need_demand};
static const enum render_key right_words[] = {
        R_diff_right_access,      R_diff_right_rectification,
        R_diff_right_erasure,     R_diff_right_restriction,
        R_diff_right_portability, R_diff_right_objection};

/* The most values one line's template fills in ({1}..{4}). */
#define LINE_ARGS 4

/*
 * One change: "- " and the template key in w's language with {1}..{4}
 * replaced by the NULL-ended values that follow, a line of its own.
 */
static void
line(struct rw *w, size_t *n, enum render_key key, ...)
{
	const char *v[LINE_ARGS] = {NULL, NULL, NULL, NULL};
	const char *t = render_word(w->lang, key);
	char buf[4096];
	size_t len = 0, k = 0;
	va_list ap;

	va_start(ap, key);
	while (k < LINE_ARGS && (v[k] = va_arg(ap, const char *)) != NULL)
		k++;
	va_end(ap);
	buf[0] = '\0';
	while (*t != '\0' && len + 1 < sizeof(buf)) {
		const char *s = NULL;
		size_t m;

		if (t[0] == '{' && t[1] >= '1' && t[1] <= '0' + LINE_ARGS &&
		    t[2] == '}') {
			s = v[t[1] - '1'] != NULL ? v[t[1] - '1'] : "";
			t += 3;
		}
		if (s == NULL) {
			buf[len++] = *t++;
			continue;
		}
		m = strlen(s);
		if (m > sizeof(buf) - 1 - len)
			m = sizeof(buf) - 1 - len;
		memcpy(buf + len, s, m);
		len += m;
	}
	buf[len] = '\0';
	rw_raw(w, "- ");
	rw_text(w, buf);
	rw_raw(w, "\n");
	(*n)++;
}

/* The template word of key in w's language. */
static const char *
word(const struct rw *w, enum render_key key)
{
	return render_word(w->lang, key);
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
			line(w, n, R_diff_purpose_removed, a->purposes[i].id,
			     NULL);
	for (size_t i = 0; i < b->npurposes; i++) {
		const struct policy_purpose *pb = &b->purposes[i];
		long j = policy_purpose_index(a, pb->id);
		const struct policy_purpose *pa;

		render_basis_letters(pb->basis, lb);
		if (j < 0) {
			line(w, n, R_diff_purpose_added, pb->id, lb, NULL);
			continue;
		}
		pa = &a->purposes[j];
		render_basis_letters(pa->basis, la);
		if (pa->basis != pb->basis)
			line(w, n, R_diff_basis, pb->id, la, lb, NULL);
		if (pa->art9 != pb->art9) {
			char ca[2] = {pa->art9 ? pa->art9 : '-', '\0'};
			char cb[2] = {pb->art9 ? pb->art9 : '-', '\0'};

			line(w, n, R_diff_art9, pb->id, ca, cb, NULL);
		}
		missing_categories(b, pb->categories, pb->ncategories, a,
		                   pa->categories, pa->ncategories, list,
		                   sizeof(list));
		if (list[0] != '\0')
			line(w, n, R_diff_cats_added, pb->id, list, NULL);
		missing_categories(a, pa->categories, pa->ncategories, b,
		                   pb->categories, pb->ncategories, list,
		                   sizeof(list));
		if (list[0] != '\0')
			line(w, n, R_diff_cats_removed, pb->id, list, NULL);
		if (!same_text(pa->legitimate_interests,
		               pb->legitimate_interests))
			line(w, n, R_diff_interests, pb->id, NULL);
		if (!same_text(pa->description, pb->description))
			line(w, n, R_diff_description, pb->id, NULL);
		if (pa->direct_marketing != pb->direct_marketing)
			line(w, n,
			     pb->direct_marketing ? R_diff_now_marketing
			                          : R_diff_no_longer_marketing,
			     pb->id, NULL);
	}
}

static void
diff_categories(struct rw *w, const struct policy *a, const struct policy *b,
                size_t *n)
{
	for (size_t i = 0; i < a->ncategories; i++)
		if (policy_category_index(b, a->categories[i].id) < 0)
			line(w, n, R_diff_category_removed, a->categories[i].id,
			     NULL);
	for (size_t i = 0; i < b->ncategories; i++) {
		const struct policy_category *cb = &b->categories[i];
		long j = policy_category_index(a, cb->id);

		if (j < 0) {
			line(w, n,
			     cb->special ? R_diff_category_added_special
			                 : R_diff_category_added,
			     cb->id, NULL);
			continue;
		}
		if (a->categories[j].special != cb->special)
			line(w, n,
			     cb->special ? R_diff_now_special
			                 : R_diff_no_longer_special,
			     cb->id, NULL);
		if (a->categories[j].source != cb->source ||
		    !same_text(a->categories[j].source_party, cb->source_party))
			line(w, n, R_diff_source, cb->id, NULL);
	}
}

static void
diff_recipients(struct rw *w, const struct policy *a, const struct policy *b,
                size_t *n)
{
	char list[1024];

	for (size_t i = 0; i < a->nrecipients; i++)
		if (policy_recipient_index(b, a->recipients[i].id) < 0)
			line(w, n, R_diff_recipient_removed,
			     a->recipients[i].id, NULL);
	for (size_t i = 0; i < b->nrecipients; i++) {
		const struct policy_recipient *rb = &b->recipients[i];
		long j = policy_recipient_index(a, rb->id);
		const struct policy_recipient *ra;

		if (j < 0) {
			line(w, n,
			     rb->outside_eea ? R_diff_recipient_added_outside
			                     : R_diff_recipient_added,
			     rb->id, word(w, type_words[rb->type]),
			     word(w, need_words[rb->needs]), rb->country, NULL);
			continue;
		}
		ra = &a->recipients[j];
		if (ra->type != rb->type)
			line(w, n, R_diff_recipient_type, rb->id,
			     word(w, type_words[rb->type]),
			     word(w, type_words[ra->type]), NULL);
		if (ra->needs != rb->needs)
			line(w, n, R_diff_recipient_needs, rb->id,
			     word(w, need_words[rb->needs]),
			     word(w, need_words[ra->needs]), NULL);
		if (strcmp(ra->country, rb->country) != 0)
			line(w, n, R_diff_recipient_country, rb->id,
			     ra->country, rb->country, NULL);
		if (!same_text(ra->safeguard, rb->safeguard))
			line(w, n, R_diff_recipient_safeguard, rb->id, NULL);
		missing_purposes(b, rb->purposes, rb->npurposes, a,
		                 ra->purposes, ra->npurposes, list,
		                 sizeof(list));
		if (list[0] != '\0')
			line(w, n, R_diff_recipient_purposes_added, rb->id,
			     list, NULL);
		missing_purposes(a, ra->purposes, ra->npurposes, b,
		                 rb->purposes, rb->npurposes, list,
		                 sizeof(list));
		if (list[0] != '\0')
			line(w, n, R_diff_recipient_purposes_removed, rb->id,
			     list, NULL);
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
		line(w, n,
		     b->transfers_none ? R_diff_transfers_now_none
		                       : R_diff_transfers_no_longer_none,
		     NULL);
	for (size_t i = 0; i < a->ntransfers; i++)
		if (find_transfer(b, a->transfers[i].country) == NULL)
			line(w, n, R_diff_transfer_removed,
			     a->transfers[i].country, NULL);
	for (size_t i = 0; i < b->ntransfers; i++) {
		const struct policy_transfer *ta =
		        find_transfer(a, b->transfers[i].country);

		if (ta == NULL)
			line(w, n, R_diff_transfer_added,
			     b->transfers[i].country, b->transfers[i].safeguard,
			     NULL);
		else if (!same_text(ta->safeguard, b->transfers[i].safeguard))
			line(w, n, R_diff_transfer_safeguard, ta->country,
			     ta->safeguard, b->transfers[i].safeguard, NULL);
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
			line(w, n, R_diff_rule_removed, a->retention[i].id,
			     NULL);
	for (size_t i = 0; i < b->nretention; i++) {
		const struct policy_retention *rb = &b->retention[i];
		long j = rule_index(a, rb->id);
		const struct policy_retention *ra;

		render_retention_words(b, rb, w->lang, wb, sizeof(wb));
		if (j < 0) {
			line(w, n, R_diff_rule_added, rb->id, wb, NULL);
			continue;
		}
		ra = &a->retention[j];
		render_retention_words(a, ra, w->lang, wa, sizeof(wa));
		if (strcmp(wa, wb) != 0)
			line(w, n, R_diff_rule_period, rb->id, wa, wb, NULL);
		missing_categories(b, rb->categories, rb->ncategories, a,
		                   ra->categories, ra->ncategories, list,
		                   sizeof(list));
		if (list[0] != '\0')
			line(w, n, R_diff_rule_cats_added, rb->id, list, NULL);
		missing_categories(a, ra->categories, ra->ncategories, b,
		                   rb->categories, rb->ncategories, list,
		                   sizeof(list));
		if (list[0] != '\0')
			line(w, n, R_diff_rule_cats_removed, rb->id, list,
			     NULL);
	}
}

enum vaern_err
render_policy_diff(const struct policy *a, const struct policy *b,
                   enum render_lang lang, char **out, size_t *len,
                   struct vaern_msg *msg)
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
	rw_init(&w, RENDER_TXT, lang);
	cal_format_date(a->controller.policy_version, da);
	cal_format_date(b->controller.policy_version, db);
	if (strcmp(da, db) != 0)
		line(&w, &n, R_diff_version, da, db, NULL);
	diff_purposes(&w, a, b, &n);
	diff_categories(&w, a, b, &n);
	diff_recipients(&w, a, b, &n);
	diff_transfers(&w, a, b, &n);
	diff_retention(&w, a, b, &n);
	for (unsigned i = 0; i < 6; i++) {
		unsigned bit = 1u << i;

		if ((a->rights & bit) != (b->rights & bit))
			line(&w, &n,
			     (b->rights & bit) ? R_diff_right_added
			                       : R_diff_right_removed,
			     word(&w, right_words[i]), NULL);
	}
	if (!same_text(a->controller.complaints, b->controller.complaints) ||
	    !same_text(a->controller.authority_name,
	               b->controller.authority_name))
		line(&w, &n, R_diff_complaints, NULL);
	if (n == 0) {
		rw_text(&w, word(&w, R_diff_none));
		rw_raw(&w, "\n");
	}
	return rw_take(&w, out, len, msg);
}
