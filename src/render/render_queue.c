/*
 * render_queue.c -- the request queue page of the staff console (issue
 * 20, point 3; GDPR-12): open rights requests by due day, each with its
 * days left in words and colour. Ids, words and days only; no script;
 * its own style block, allowed by hash (render_console_csp).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "render_internal.h"

/* The notice's style (render_style, kept as the committed notices have
 * it) and the queue's colours: overdue, due within a week, later. */
static const char console_style[] =
        "body{font-family:system-ui,sans-serif;line-height:1.4;"
        "margin:1rem;color:#111;background:#fff}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;"
        "padding:.2rem .4rem;text-align:left}"
        "td.days{text-align:right}"
        "tr.over td.days{background:#f8d0d0;color:#600}"
        "tr.soon td.days{background:#fbe7b0;color:#530}"
        "tr.ok td.days{background:#d8eedd;color:#063}";

#define SOON_DAYS 7 /* a week or less left: amber */

struct render_queue {
	struct rw w;
	long today;
	size_t n;       /* rows written */
	int whole;      /* 1: a whole document; 0: the table (the console) */
	char link[160]; /* the request pages' path, "" for no links */
};

void
render_console_csp(char out[static RENDER_CSP_MAX])
{
	rw_csp(console_style, "'self'", out);
}

/* The table's head. */
static void
table_head(struct render_queue *q)
{
	static const enum render_key heads[] = {
	        R_queue_request,   R_queue_type,     R_queue_status,
	        R_queue_channel,   R_queue_received, R_queue_due,
	        R_queue_days_left, R_queue_verified,
	};

	rw_raw(&q->w, "<table id=\"queue\">\n<thead><tr>");
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		rw_raw(&q->w, "<th scope=\"col\">");
		rw_word(&q->w, heads[i]);
		rw_raw(&q->w, "</th>");
	}
	rw_raw(&q->w, "</tr></thead>\n<tbody>\n");
}

struct render_queue *
render_queue_begin(const char *controller, long today, enum render_lang lang)
{
	struct render_queue *q = calloc(1, sizeof(*q));
	char day[11];

	if (q == NULL)
		return NULL;
	rw_init(&q->w, RENDER_HTML, lang);
	q->today = today;
	q->whole = 1;
	rw_rawf(&q->w,
	        "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n"
	        "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	        "content=\"width=device-width, initial-scale=1\">\n<title>",
	        lang == RENDER_DA   ? "da"
	        : lang == RENDER_SV ? "sv"
	                            : "en");
	rw_word(&q->w, R_queue_title);
	rw_raw(&q->w, "</title>\n<style>");
	rw_raw(&q->w, console_style);
	rw_raw(&q->w, "</style>\n</head>\n<body>\n<main>\n<h1>");
	rw_word(&q->w, R_queue_title);
	rw_raw(&q->w, "</h1>\n<p>");
	rw_text(&q->w, controller);
	cal_format_date(today, day);
	rw_rawf(&q->w, " \xc2\xb7 <time datetime=\"%s\">%s</time></p>\n", day,
	        day);
	table_head(q);
	return q;
}

struct render_queue *
render_queue_begin_table(const char *link, long today, enum render_lang lang)
{
	struct render_queue *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	rw_init(&q->w, RENDER_HTML, lang);
	q->today = today;
	(void)snprintf(q->link, sizeof(q->link), "%s", link);
	table_head(q);
	return q;
}

void
render_queue_row(struct render_queue *q, const struct render_queue_row *r)
{
	struct rw *w = &q->w;
	char received[11], due[11], cells[160];
	const char *cls = r->days_left < 0            ? "over"
	                  : r->days_left <= SOON_DAYS ? "soon"
	                                              : "ok";
	int n;

	cal_format_date(r->received, received);
	cal_format_date(r->due, due);
	/* The id is a UUID and the words are names from fixed lists, but
	 * they are escaped all the same. */
	n = snprintf(cells, sizeof(cells),
	             "<tr class=\"%s\" data-days-left=\"%ld\"><td>", cls,
	             r->days_left);
	rw_putn(w, cells, n > 0 && (size_t)n < sizeof(cells) ? (size_t)n : 0);
	if (q->link[0] != '\0') {
		rw_raw(w, "<a href=\"");
		rw_text(w, q->link);
		rw_raw(w, "/");
		rw_text(w, r->id);
		rw_raw(w, "\">");
		rw_text(w, r->id);
		rw_raw(w, "</a>");
	} else {
		rw_text(w, r->id);
	}
	rw_raw(w, "</td><td>");
	rw_text(w, r->type);
	rw_raw(w, "</td><td>");
	rw_text(w, r->status);
	rw_raw(w, "</td><td>");
	rw_text(w, r->channel);
	n = snprintf(cells, sizeof(cells), "</td><td>%s</td><td>%s", received,
	             due);
	rw_putn(w, cells, n > 0 && (size_t)n < sizeof(cells) ? (size_t)n : 0);
	if (r->extended) {
		rw_raw(w, " (");
		rw_word(w, R_queue_extended);
		rw_raw(w, ")");
	}
	n = snprintf(cells, sizeof(cells), "</td><td class=\"days\">%ld",
	             r->days_left);
	rw_putn(w, cells, n > 0 && (size_t)n < sizeof(cells) ? (size_t)n : 0);
	if (r->days_left < 0) {
		rw_raw(w, " ");
		rw_word(w, R_queue_overdue);
	}
	rw_raw(w, "</td><td>");
	rw_word(w, r->verified ? R_queue_yes : R_queue_no);
	rw_raw(w, "</td></tr>\n");
	q->n++;
}

enum vaern_err
render_queue_end(struct render_queue *q, char **out, size_t *len,
                 struct vaern_msg *msg)
{
	enum vaern_err err;

	*out = NULL;
	*len = 0;
	if (q == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	rw_raw(&q->w, "</tbody>\n</table>\n<p>");
	if (q->n == 0)
		rw_word(&q->w, R_queue_empty);
	else {
		rw_rawf(&q->w, "%zu ", q->n);
		rw_word(&q->w, R_queue_count);
	}
	rw_raw(&q->w,
	       q->whole ? "</p>\n</main>\n</body>\n</html>\n" : "</p>\n");
	err = rw_take(&q->w, out, len, msg);
	free(q);
	return err;
}

void
render_queue_free(struct render_queue *q)
{
	if (q == NULL)
		return;
	rw_free(&q->w);
	free(q);
}
