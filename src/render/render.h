/*
 * render.h -- the policy given back in words: the privacy notice (GDPR
 * Art. 13/14) and the records of processing activities (Art. 30(1)), both
 * generated from the one compiled policy the gate enforces (issue 15).
 *
 * Every word that is not the policy's own text comes from the templates
 * in templates/notice/{en,da,sv}.strings, compiled in at build time; a
 * missing translation fails the build (scripts/strings.py). Rendering
 * reads the policy only: it never writes anything.
 *
 * The policy holds no personal data, only the controller's published
 * wording, so what is rendered may be shown to anyone.
 */
#ifndef VAERN_RENDER_H
#define VAERN_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../policy/policy.h"

/* The most bytes one rendered document may take (a policy is at most
 * POLICY_FILE_MAX bytes; its notice is a few times that at most). */
#define RENDER_MAX (8u * 1024 * 1024)

/* Bytes of the Content-Security-Policy value of a rendered HTML page. */
#define RENDER_CSP_MAX 160

/* The languages of the templates, in the order of the template table. */
enum render_lang { RENDER_EN, RENDER_DA, RENDER_SV };

enum render_format { RENDER_HTML, RENDER_MD, RENDER_TXT };

/* The formats of the records of processing. */
enum render_ropa_format { ROPA_JSON, ROPA_CSV, ROPA_HTML };

/* "en", "da", "sv" to *out: 0, or -1 if s is none of them. */
int render_lang_parse(const char *s, enum render_lang *out)
        __attribute__((warn_unused_result, nonnull));

/* The policy's own language (controller.language) as a render_lang. */
enum render_lang render_policy_lang(const struct policy *p)
        __attribute__((nonnull));

/* "html", "md", "txt" to *out: 0, or -1. */
int render_format_parse(const char *s, enum render_format *out)
        __attribute__((warn_unused_result, nonnull));

/* "json", "csv", "html" to *out: 0, or -1. */
int render_ropa_format_parse(const char *s, enum render_ropa_format *out)
        __attribute__((warn_unused_result, nonnull));

/*
 * VAERN_OK if p can be rendered in lang: every word the policy does not
 * give in lang has a template (an event's, ev_<name>, outside the
 * policy's own language); else VAERN_E_INVALID with msg naming the event
 * and the template file (issue 15: a missing translation is refused).
 */
enum vaern_err render_lang_check(const struct policy *p, enum render_lang lang,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/*
 * Renders p's privacy notice in lang and format (Art. 13/14; every
 * *-COMPLAIN-1, AURA-VER-1). On VAERN_OK *out is a NUL-ended text of *len
 * bytes the caller frees with free(); on VAERN_E_NOMEM, VAERN_E_LIMIT
 * (over RENDER_MAX) or VAERN_E_INVALID (render_lang_check) *out is NULL
 * and msg says which.
 */
enum vaern_err render_notice(const struct policy *p, enum render_lang lang,
                             enum render_format format, char **out, size_t *len,
                             struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 4, 5)));

/*
 * Renders p's records of processing (GDPR-30; Art. 30(1)(a)-(g)): JSON,
 * CSV (one row per purpose) or HTML; the words of periods and of what the
 * policy does not state in lang. Ownership and errors as render_notice.
 */
enum vaern_err render_ropa(const struct policy *p, enum render_lang lang,
                           enum render_ropa_format format, char **out,
                           size_t *len, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 4, 5)));

/*
 * What changed from a to b, two versions of one controller's policy, in
 * words in lang, one "- ..." line per change (issue 15 point 3): the
 * version date, purposes, legal bases, categories, recipients, transfers,
 * retention periods, rights, the complaint route; a line saying there is
 * no change otherwise. Ids as the policies name them; a period's event
 * as render_retention_words words it. VAERN_E_INVALID (msg says so) if a
 * and b are of different controllers. Ownership as render_notice.
 */
enum vaern_err render_policy_diff(const struct policy *a,
                                  const struct policy *b, enum render_lang lang,
                                  char **out, size_t *len,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 4, 5)));

/*
 * CEK-PURP-5: the message telling a person that the purposes
 * purposes[0..npurposes) (indexes of p) are new or widened in p and apply
 * to their data from from_day (days since the epoch): a title and a plain
 * text body in lang, each NUL-ended (truncated to fit).
 */
void render_change_notice(const struct policy *p, enum render_lang lang,
                          const size_t *purposes, size_t npurposes,
                          long from_day, char *title, size_t title_len,
                          char *body, size_t body_len)
        __attribute__((nonnull(1, 6, 8)));

/*
 * The Content-Security-Policy of a rendered HTML page: nothing may load,
 * no script runs, only the page's own style block (by its hash) applies.
 * Written into out, NUL-ended.
 */
void render_csp(char out[static RENDER_CSP_MAX]) __attribute__((nonnull));

/*
 * The retention period of rule r in words in lang ("5 years after the end
 * of the financial year", "2 months after the latest of: ..."), appended
 * NUL-ended to out (truncated to outlen). The one wording of periods:
 * the access report should use it too (issue 10 point 9).
 */
void render_retention_words(const struct policy *p,
                            const struct policy_retention *r,
                            enum render_lang lang, char *out, size_t outlen)
        __attribute__((nonnull));

/* ---- the staff console's views (issue 20; render_chart.c,
 * render_queue.c): counts and ids only, never a personal value ---------- */

#define RENDER_CHART_MONTHS 24 /* months the retention chart draws */
#define RENDER_CHART_SERIES 64 /* rules (and their visits) one chart draws */

/* One rule's counts, facts or visitors' visits and pixels. */
struct render_chart_series {
	const char *rule;   /* the rule id */
	const char *clause; /* the clause it implements, or NULL */
	int visits;         /* 1: visits and pixels, 0: facts */
	int legal;          /* 1: a legal obligation keeps it until then */
	int64_t month[RENDER_CHART_MONTHS]; /* due in month i (0: the
	                                       month of first_month) */
	int64_t overdue;                    /* due before, not swept yet */
	int64_t later;                      /* due after the last month */
	int64_t undated;    /* waiting for an event (issue 10) */
	int64_t restricted; /* held by restriction (GDPR-18), also counted
	                       in their months */
	int64_t held;       /* under a legal hold (CEK-HOLD-1), also
	                       counted in their months */
};

/* What the retention chart draws (issue 20, point 2). */
struct render_chart {
	const char *controller;
	long first_month; /* year * 12 + month - 1 of month 0 */
	const struct render_chart_series *series;
	size_t nseries; /* at most RENDER_CHART_SERIES */
};

/*
 * The retention chart as an SVG document: per month, a bar stacked by
 * rule of what the plan deletes, every bar segment a <rect> carrying
 * data-rule, data-kind (facts|visits), data-month (YYYY-MM) and
 * data-count, with a <title>; axes, a legend. No script, no style
 * element (presentation attributes only). Ownership and errors as
 * render_notice.
 */
enum vaern_err render_chart_svg(const struct render_chart *c,
                                enum render_lang lang, char **out, size_t *len,
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));

/*
 * The retention view as one HTML page in lang: the chart (inline SVG),
 * the table of the counts beside it (a row per month, a column per rule,
 * each cell with data-rule, data-kind, data-month, data-count), overdue
 * and later rows, and the undated, restricted and legally held facts
 * called out per rule. The page works with render_csp (its style by
 * hash, no script). Ownership and errors as render_notice.
 */
enum vaern_err render_chart_html(const struct render_chart *c,
                                 enum render_lang lang, char **out, size_t *len,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));

/*
 * The chart (inline SVG in a <figure>) and its tables as render_chart_html
 * writes them, without the page around them: for a page of the staff
 * console, which has its own frame and style sheet. Ownership and errors
 * as render_notice.
 */
enum vaern_err render_chart_fragment(const struct render_chart *c,
                                     enum render_lang lang, char **out,
                                     size_t *len, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));

/* One request of the queue page: ids, words and days only. */
struct render_queue_row {
	const char *id;      /* the request's UUID */
	const char *type;    /* a rights type name */
	const char *status;  /* a rights status name */
	const char *channel; /* how it arrived */
	long received;       /* day of receipt */
	long due;            /* the due day in force */
	long days_left;      /* due - today; negative: overdue */
	int extended;        /* 1: the deadline was extended */
	int verified;        /* 1: the person's identity is verified */
};

/* The queue page being written (render_queue_begin .. _end). */
struct render_queue;

/*
 * The request queue page of the staff console (issue 20, point 3), row
 * by row: begin (controller, today, lang), one render_queue_row call per
 * request in the order given (by due day), end. Each row shows the days
 * left in words and colour (overdue, 7 days or fewer, more). The page
 * uses render_console_csp. end: VAERN_OK with *out (free()) and *len, or
 * VAERN_E_NOMEM / VAERN_E_LIMIT (over RENDER_MAX) with *out NULL; q is
 * freed either way (render_queue_free frees one not ended).
 */
struct render_queue *render_queue_begin(const char *controller, long today,
                                        enum render_lang lang)
        __attribute__((nonnull));
/* The same queue as a table and its count only, for a page that has its
 * own head and style (the console's), each request's id a link to
 * link/<id> (link: program text, a path). */
struct render_queue *render_queue_begin_table(const char *link, long today,
                                              enum render_lang lang)
        __attribute__((nonnull));
void render_queue_row(struct render_queue *q, const struct render_queue_row *r)
        __attribute__((nonnull));
enum vaern_err render_queue_end(struct render_queue *q, char **out, size_t *len,
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(2, 3)));
void render_queue_free(struct render_queue *q);

/* The Content-Security-Policy of the console's pages (the queue): as
 * render_csp, for their own style block. */
void render_console_csp(char out[static RENDER_CSP_MAX])
        __attribute__((nonnull));

#endif
