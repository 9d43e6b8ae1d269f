/*
 * render_chart.c -- the retention view of the staff console (issue 20,
 * point 2): what the retention plan deletes per month and per rule over
 * the next 24 months, drawn as SVG by vaern itself (no chart library, no
 * script), with the counts in a table beside it and the undated and held
 * facts called out. Counts and rule ids only: nothing personal.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "render_internal.h"

/* The drawing's geometry, in SVG user units. */
#define CH_LEFT   64 /* the y axis' labels */
#define CH_TOP    24
#define CH_PLOT_H 240 /* the bars' full height */
#define CH_SLOT   34  /* one month */
#define CH_BAR    24
#define CH_AXIS_H 56 /* the month labels, turned */
#define CH_ROW    20 /* a legend line */
#define CH_WIDTH  (CH_LEFT + RENDER_CHART_MONTHS * CH_SLOT + 16)

/* Colours that stay apart for the colour-blind (Okabe and Ito), then
 * darker ones; a rule's colour is its position in the chart. */
static const char *const palette[] = {
        "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
        "#F0E442", "#000000", "#5D3A9B", "#8C564B", "#1B7837", "#B2182B",
};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

/* "YYYY-MM" of month i of c (years 0..9999). */
static void
month_name(const struct render_chart *c, int i, char out[8])
{
	long m = c->first_month + i;
	unsigned y = (unsigned)(m / 12) % 10000u, mo = (unsigned)(m % 12) + 1;

	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + mo / 10);
	out[6] = (char)('0' + mo % 10);
	out[7] = '\0';
}

static int64_t
month_total(const struct render_chart *c, int i)
{
	int64_t n = 0;

	for (size_t s = 0; s < c->nseries; s++)
		n += c->series[s].month[i];
	return n;
}

/* The top of the y axis: the largest bar rounded up to 1, 2 or 5 times
 * a power of ten, so the ticks are round numbers. */
static int64_t
axis_top(const struct render_chart *c)
{
	int64_t most = 0, step = 1;

	for (int i = 0; i < RENDER_CHART_MONTHS; i++)
		if (month_total(c, i) > most)
			most = month_total(c, i);
	for (;;) {
		if (most <= step)
			return step;
		if (most <= 2 * step)
			return 2 * step;
		if (most <= 5 * step)
			return 5 * step;
		if (step > INT64_MAX / 10)
			return most;
		step *= 10;
	}
}

/* The rule's name as the legend and the table show it. */
static void
series_label(struct rw *w, const struct render_chart_series *s)
{
	rw_text(w, s->rule);
	if (s->visits) {
		rw_raw(w, " (");
		rw_word(w, R_chart_visits);
		rw_raw(w, ")");
	}
}

static void
chart_svg(struct rw *w, const struct render_chart *c)
{
	int64_t top = axis_top(c);
	int height = CH_TOP + CH_PLOT_H + CH_AXIS_H +
	             CH_ROW * (int)(c->nseries > 0 ? c->nseries : 1) + 8;
	char month[8];

	rw_rawf(w,
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d "
	        "%d\" width=\"100%%\" role=\"img\" "
	        "aria-labelledby=\"chart-title\" font-family=\"sans-serif\" "
	        "font-size=\"11\">\n<title id=\"chart-title\">",
	        CH_WIDTH, height);
	rw_word(w, R_chart_title);
	rw_raw(w, "</title>\n");
	/* The y axis: 0, half and the top; each line at its label's value
	 * (half of 5 is labelled 2 and drawn at 2, not at 2.5). */
	for (int k = 0; k <= 2; k++) {
		int y = CH_TOP + CH_PLOT_H -
		        (int)(top * k / 2 * CH_PLOT_H / top);

		rw_rawf(w,
		        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		        "stroke=\"#ccc\"/>\n<text x=\"%d\" y=\"%d\" "
		        "text-anchor=\"end\">%lld</text>\n",
		        CH_LEFT, y, CH_WIDTH - 16, y, CH_LEFT - 6, y + 4,
		        (long long)(top * k / 2));
	}
	for (int i = 0; i < RENDER_CHART_MONTHS; i++) {
		int x = CH_LEFT + i * CH_SLOT + (CH_SLOT - CH_BAR) / 2;
		int64_t below = 0;

		month_name(c, i, month);
		for (size_t s = 0; s < c->nseries; s++) {
			const struct render_chart_series *r = &c->series[s];
			int64_t n = r->month[i];
			int y0, y1;

			if (n == 0)
				continue;
			/* Whole units, so that stacked segments meet. */
			y0 = CH_TOP + CH_PLOT_H -
			     (int)((below + n) * CH_PLOT_H / top);
			y1 = CH_TOP + CH_PLOT_H -
			     (int)(below * CH_PLOT_H / top);
			if (y1 - y0 < 1)
				y0 = y1 - 1; /* one fact is still seen */
			rw_rawf(w,
			        "<rect x=\"%d\" y=\"%d\" width=\"%d\" "
			        "height=\"%d\" fill=\"%s\" data-rule=\"",
			        x, y0, CH_BAR, y1 - y0, palette[s % NPALETTE]);
			rw_text(w, r->rule);
			rw_rawf(w,
			        "\" data-kind=\"%s\" data-month=\"%s\" "
			        "data-count=\"%lld\"><title>",
			        r->visits ? "visits" : "facts", month,
			        (long long)n);
			series_label(w, r);
			rw_rawf(w, ", %s: %lld</title></rect>\n", month,
			        (long long)n);
			below += n;
		}
		/* The month, turned, under its bar. */
		rw_rawf(w,
		        "<text x=\"%d\" y=\"%d\" transform=\"rotate(-60 %d "
		        "%d)\" text-anchor=\"end\">%s</text>\n",
		        x + CH_BAR / 2, CH_TOP + CH_PLOT_H + 12, x + CH_BAR / 2,
		        CH_TOP + CH_PLOT_H + 12, month);
	}
	rw_rawf(w,
	        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	        "stroke=\"#000\"/>\n",
	        CH_LEFT, CH_TOP + CH_PLOT_H, CH_WIDTH - 16, CH_TOP + CH_PLOT_H);
	/* The legend, one line per rule. */
	for (size_t s = 0; s < c->nseries; s++) {
		int y = CH_TOP + CH_PLOT_H + CH_AXIS_H + (int)s * CH_ROW;

		rw_rawf(w,
		        "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" "
		        "fill=\"%s\"/>\n<text x=\"%d\" y=\"%d\">",
		        CH_LEFT, y, palette[s % NPALETTE], CH_LEFT + 18,
		        y + 10);
		series_label(w, &c->series[s]);
		if (c->series[s].clause != NULL) {
			rw_raw(w, " \xe2\x80\x94 ");
			rw_text(w, c->series[s].clause);
		}
		rw_raw(w, "</text>\n");
	}
	{
		int64_t any = 0;

		for (int i = 0; i < RENDER_CHART_MONTHS; i++)
			any += month_total(c, i);
		if (any == 0) {
			rw_rawf(w, "<text x=\"%d\" y=\"%d\">", CH_LEFT + 12,
			        CH_TOP + CH_PLOT_H / 2);
			rw_word(w, R_chart_none);
			rw_raw(w, "</text>\n");
		}
	}
	rw_raw(w, "</svg>\n");
}

/* One cell of the table: a count of series s in row `row`. */
static void
count_cell(struct rw *w, const struct render_chart_series *s, const char *row,
           int64_t n)
{
	rw_raw(w, "<td data-rule=\"");
	rw_text(w, s->rule);
	rw_rawf(w, "\" data-kind=\"%s\" data-month=\"%s\" data-count=\"%lld\">",
	        s->visits ? "visits" : "facts", row, (long long)n);
	if (n != 0)
		rw_rawf(w, "%lld", (long long)n);
	rw_raw(w, "</td>");
}

/* A row of the table: word (or the month) and one count per series. */
static void
count_row(struct rw *w, const struct render_chart *c, const char *row,
          enum render_key word, int month)
{
	int64_t total = 0;

	rw_raw(w, "<tr><th scope=\"row\">");
	if (month >= 0)
		rw_raw(w, row);
	else
		rw_word(w, word);
	rw_raw(w, "</th>");
	for (size_t s = 0; s < c->nseries; s++) {
		const struct render_chart_series *r = &c->series[s];
		int64_t n = month >= 0                       ? r->month[month]
		            : strcmp(row, "overdue") == 0    ? r->overdue
		            : strcmp(row, "later") == 0      ? r->later
		            : strcmp(row, "undated") == 0    ? r->undated
		            : strcmp(row, "restricted") == 0 ? r->restricted
		                                             : r->held;

		count_cell(w, r, row, n);
		total += n;
	}
	rw_rawf(w, "<td data-total=\"%s\">%lld</td></tr>\n", row,
	        (long long)total);
}

static void
chart_table(struct rw *w, const struct render_chart *c)
{
	char month[8];

	rw_raw(w, "<table id=\"counts\">\n<caption>");
	rw_word(w, R_chart_title);
	rw_raw(w, "</caption>\n<thead><tr><th scope=\"col\">");
	rw_word(w, R_chart_month);
	rw_raw(w, "</th>");
	for (size_t s = 0; s < c->nseries; s++) {
		rw_raw(w, "<th scope=\"col\">");
		series_label(w, &c->series[s]);
		if (c->series[s].clause != NULL) {
			rw_raw(w, "<br>");
			rw_text(w, c->series[s].clause);
		}
		rw_raw(w, "</th>");
	}
	rw_raw(w, "<th scope=\"col\">");
	rw_word(w, R_chart_total);
	rw_raw(w, "</th></tr></thead>\n<tbody>\n");
	count_row(w, c, "overdue", R_chart_overdue, -1);
	for (int i = 0; i < RENDER_CHART_MONTHS; i++) {
		month_name(c, i, month);
		count_row(w, c, month, R_chart_month, i);
	}
	count_row(w, c, "later", R_chart_later, -1);
	rw_raw(w, "</tbody>\n</table>\n");
	/* Issue 10, CEK-HOLD-1, GDPR-18: what has no date or is held, per
	 * rule, called out apart from the months. */
	rw_raw(w, "<table id=\"callouts\">\n<thead><tr><th></th>");
	for (size_t s = 0; s < c->nseries; s++) {
		rw_raw(w, "<th scope=\"col\">");
		series_label(w, &c->series[s]);
		rw_raw(w, "</th>");
	}
	rw_raw(w, "<th scope=\"col\">");
	rw_word(w, R_chart_total);
	rw_raw(w, "</th></tr></thead>\n<tbody>\n");
	count_row(w, c, "undated", R_chart_undated, -1);
	count_row(w, c, "restricted", R_chart_restricted, -1);
	count_row(w, c, "held", R_chart_held, -1);
	rw_raw(w, "</tbody>\n</table>\n<p>");
	rw_word(w, R_chart_note_held);
	rw_raw(w, "</p>\n");
}

/* The SVG alone (page 0), the page with the table (1), or the figure
 * and the tables without the page around them (2). */
static enum vaern_err
chart_render(const struct render_chart *c, enum render_lang lang, int page,
             char **out, size_t *len, struct vaern_msg *msg)
{
	struct rw w;

	*out = NULL;
	*len = 0;
	if (c->nseries > RENDER_CHART_SERIES)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "the chart draws at most %d rules",
		                  RENDER_CHART_SERIES);
	rw_init(&w, RENDER_HTML, lang);
	if (page == 1) {
		rw_html_begin(&w, render_word(lang, R_chart_title));
		rw_raw(&w, "<h1>");
		rw_word(&w, R_chart_title);
		rw_raw(&w, "</h1>\n<p>");
		rw_text(&w, c->controller);
		rw_raw(&w, "</p>\n");
	}
	if (page)
		rw_raw(&w, "<figure>\n");
	chart_svg(&w, c);
	if (page) {
		rw_raw(&w, "</figure>\n");
		chart_table(&w, c);
	}
	if (page == 1)
		rw_html_end(&w);
	return rw_take(&w, out, len, msg);
}

enum vaern_err
render_chart_svg(const struct render_chart *c, enum render_lang lang,
                 char **out, size_t *len, struct vaern_msg *msg)
{
	return chart_render(c, lang, 0, out, len, msg);
}

enum vaern_err
render_chart_html(const struct render_chart *c, enum render_lang lang,
                  char **out, size_t *len, struct vaern_msg *msg)
{
	return chart_render(c, lang, 1, out, len, msg);
}

enum vaern_err
render_chart_fragment(const struct render_chart *c, enum render_lang lang,
                      char **out, size_t *len, struct vaern_msg *msg)
{
	return chart_render(c, lang, 2, out, len, msg);
}
