/*
 * report_retention.c -- how long a category is kept, in words (GDPR-15,
 * issue 10): the access report names the period, or the criteria that
 * set it, for every category, in Danish, Swedish or English, so a fact
 * with no date yet ("kept while the customer relationship runs") is never
 * a bare null.
 */
#include <stdio.h>
#include <string.h>

#include "report.h"

/* Words of one language. */
struct words {
	const char *unit[4][2]; /* period_unit: singular, plural */
	const char *after;      /* between the period and its start */
	const char *latest;     /* joins anchors: "whichever is latest" */
	const char *or_;        /* between anchors */
	const char *collected;  /* the anchor `collected` */
	const char *fy_end;     /* the anchor `financial_year_end` */
	const char *law;        /* before a legal obligation */
	const char *longest;    /* between rules: the latest date wins */
	const char *until;      /* before the whole */
};

static const struct words words[3] = {
        /* English */
        {{{"day", "days"},
          {"week", "weeks"},
          {"month", "months"},
          {"year", "years"}},
         " after ",
         " (whichever is latest)",
         " or ",
         "it was collected",
         "the end of the financial year it was collected in",
         "required by ",
         "; the latest of these applies",
         "until "},
        /* Danish */
        {{{"dag", "dage"}, {"uge", "uger"}, {"måned", "måneder"}, {"år", "år"}},
         " efter ",
         " (det seneste af dem)",
         " eller ",
         "indsamlingen",
         "udløbet af det regnskabsår, hvor den blev indsamlet",
         "krævet af ",
         "; den seneste af disse gælder",
         "indtil "},
        /* Swedish */
        {{{"dag", "dagar"},
          {"vecka", "veckor"},
          {"månad", "månader"},
          {"år", "år"}},
         " efter ",
         " (det senaste av dem)",
         " eller ",
         "insamlingen",
         "slutet av det räkenskapsår då den samlades in",
         "krävs enligt ",
         "; det senaste av dessa gäller",
         "till "},
};

static int
lang_index(const char *lang)
{
	if (lang != NULL && strcmp(lang, "da") == 0)
		return 1;
	if (lang != NULL && strcmp(lang, "sv") == 0)
		return 2;
	return 0;
}

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

/* The words of one anchor: an event by its description (the policy's
 * own words, in its language), else its id. */
static const char *
anchor_words(const struct policy *p, const struct words *w, long a)
{
	if (a == ANCHOR_EVENT_COLLECTED)
		return w->collected;
	if (a == ANCHOR_EVENT_FY_END)
		return w->fy_end;
	if (a >= 0 && (size_t)a < p->nevents)
		return p->events[a].description != NULL
		               ? p->events[a].description
		               : p->events[a].id;
	return "?";
}

size_t
report_retention_words(const struct policy *p, size_t category,
                       const char *lang, char *out, size_t size)
{
	const struct words *w = &words[lang_index(lang)];
	size_t used = 0, nrules = 0;

	if (size == 0)
		return 0;
	out[0] = '\0';
	if (category >= p->ncategories)
		return 0;
	for (size_t r = 0; r < p->nretention; r++) {
		const struct policy_retention *rule = &p->retention[r];
		char anchors[1024], one[1280];
		size_t au = 0, k;
		int holds = 0;

		for (k = 0; k < rule->ncategories; k++)
			holds |= rule->categories[k] == category;
		if (!holds)
			continue;
		anchors[0] = '\0';
		for (k = 0; k < rule->nanchors; k++) {
			if (k > 0)
				add(anchors, sizeof(anchors), &au, w->or_);
			add(anchors, sizeof(anchors), &au,
			    anchor_words(p, w, rule->anchor_event[k]));
		}
		if (rule->nanchors > 1)
			add(anchors, sizeof(anchors), &au, w->latest);
		(void)snprintf(one, sizeof(one), "%d %s%s%s",
		               rule->period.count,
		               w->unit[rule->period.unit]
		                      [rule->period.count == 1 ? 0 : 1],
		               w->after, anchors);
		add(out, size, &used, nrules == 0 ? w->until : "; ");
		add(out, size, &used, one);
		if (rule->legal_obligation != NULL) {
			add(out, size, &used, " (");
			add(out, size, &used, w->law);
			add(out, size, &used, rule->legal_obligation);
			add(out, size, &used, ")");
		}
		nrules++;
	}
	if (nrules > 1)
		add(out, size, &used, w->longest);
	return used;
}
