/*
 * report_retention.c -- how long a category is kept, in words (GDPR-15,
 * issue 10): the access report names the period, or the criteria that
 * set it, for every category, in Danish, Swedish or English, so a fact
 * with no date yet ("kept while the customer relationship runs") is never
 * a bare null. Each rule in the one wording of periods the privacy notice
 * uses (render_retention_words).
 */
#include <stdio.h>
#include <string.h>

#include "../render/render.h"
#include "report.h"

/* Bytes of one rule's words (render_retention_words). */
#define RULE_WORDS_MAX 1024

/* After the rules, when several hold the category: the latest date wins
 * (retention.h). Indexed by enum render_lang. */
static const char *const latest_applies[] = {
        [RENDER_EN] = " The latest of these applies.",
        [RENDER_DA] = " Den seneste af disse gælder.",
        [RENDER_SV] = " Det senaste av dessa gäller.",
};

/* Appends text to out (size bytes, NUL-terminated), truncating. */
static void
add(char *out, size_t size, size_t *used, const char *text)
{
	int n;

	if (*used + 1 >= size)
		return;
	n = snprintf(out + *used, size - *used, "%s", text);
	if (n < 0)
		return;
	*used += (size_t)n < size - *used ? (size_t)n : size - *used - 1;
}

size_t
report_retention_words(const struct policy *p, size_t category,
                       const char *lang, char *out, size_t size)
{
	enum render_lang rl;
	size_t used = 0, nrules = 0;

	if (size == 0)
		return 0;
	out[0] = '\0';
	if (category >= p->ncategories)
		return 0;
	if (render_lang_parse(lang, &rl) != 0)
		rl = RENDER_EN;
	for (size_t r = 0; r < p->nretention; r++) {
		const struct policy_retention *rule = &p->retention[r];
		char one[RULE_WORDS_MAX];
		int holds = 0;

		for (size_t k = 0; k < rule->ncategories; k++)
			holds |= rule->categories[k] == category;
		if (!holds)
			continue;
		render_retention_words(p, rule, rl, one, sizeof(one));
		if (nrules > 0)
			add(out, size, &used, ". ");
		add(out, size, &used, one);
		if (rule->legal_obligation != NULL) {
			add(out, size, &used, " (");
			add(out, size, &used, rule->legal_obligation);
			add(out, size, &used, ")");
		}
		nrules++;
	}
	if (nrules > 1) {
		add(out, size, &used, ".");
		add(out, size, &used, latest_applies[rl]);
	}
	return used;
}
