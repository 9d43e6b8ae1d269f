/*
 * vault_console.c -- the staff console's reads (vault_console.h; issue
 * 20): the retention chart built from the plan's rows, and the legal
 * holds in force of a controller.
 */
#include "vault_console.h"

#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../store/store_console_views.h"
#include "vault_internal.h"

struct chart_walk {
	struct vault_chart *out;
	int64_t as_of;
	int over; /* 1: more rules than the chart draws */
};

/* The series of rule and kind, added if new; NULL if the chart is full. */
static struct render_chart_series *
chart_series(struct chart_walk *w, const char *rule, const char *clause,
             int legal, int visits)
{
	struct vault_chart *o = w->out;
	size_t n = o->chart.nseries;

	for (size_t i = 0; i < n; i++)
		if (o->series[i].visits == visits &&
		    strcmp(o->series[i].rule, rule) == 0)
			return &o->series[i];
	if (n == RENDER_CHART_SERIES) {
		w->over = 1;
		return NULL;
	}
	memset(&o->series[n], 0, sizeof(o->series[0]));
	(void)snprintf(o->rule[n], sizeof(o->rule[n]), "%s", rule);
	o->series[n].rule = o->rule[n];
	if (clause != NULL) {
		(void)snprintf(o->clause[n], sizeof(o->clause[n]), "%s",
		               clause);
		o->series[n].clause = o->clause[n];
	}
	o->series[n].legal = legal;
	o->series[n].visits = visits;
	o->chart.nseries = n + 1;
	return &o->series[n];
}

/* The chart's month of day (days since the epoch): year * 12 + month. */
static long
month_of(long day)
{
	char d[11];
	long y, m;

	cal_format_date(day, d);
	y = (d[0] - '0') * 1000L + (d[1] - '0') * 100L + (d[2] - '0') * 10L +
	    (d[3] - '0');
	m = (d[5] - '0') * 10L + (d[6] - '0');
	return y * 12 + m - 1;
}

static enum vaern_err
chart_row(void *arg, const struct vault_plan_row *r)
{
	struct chart_walk *w = arg;

	for (int kind = 0; kind <= 1; kind++) {
		int64_t n = kind ? r->visits : r->facts;
		struct render_chart_series *s;
		long i;

		if (n == 0)
			continue;
		if ((s = chart_series(w, r->rule, r->clause, r->legal, kind)) ==
		    NULL)
			continue;
		if (r->restricted) {
			/* GDPR-18: counted in their due rows too. */
			s->restricted += n;
		} else if (r->due == INT64_MIN) {
			s->undated += n; /* issue 10: waiting for an event */
		} else if (r->due <= w->as_of) {
			s->overdue += n;
		} else {
			i = month_of((long)(r->due / 86400)) -
			    w->out->chart.first_month;
			if (i < 0)
				s->overdue += n;
			else if (i >= RENDER_CHART_MONTHS)
				s->later += n;
			else
				s->month[i] += n;
		}
	}
	return VAERN_OK;
}

static enum vaern_err
chart_held(void *arg, const char *rule, int64_t facts)
{
	struct chart_walk *w = arg;
	struct vault_chart *o = w->out;
	struct render_chart_series *s;

	for (size_t i = 0; i < o->chart.nseries; i++)
		if (!o->series[i].visits &&
		    strcmp(o->series[i].rule, rule) == 0) {
			o->series[i].held += facts;
			return VAERN_OK;
		}
	/* A rule the plan did not list (no fact left but held ones) still
	 * gets its column. */
	if ((s = chart_series(w, rule, NULL, 0, 0)) == NULL)
		return VAERN_OK;
	s->held += facts;
	return VAERN_OK;
}

enum vaern_err
vault_retention_chart(struct vault *v, const char *controller, int64_t as_of,
                      struct vault_chart *out, struct vaern_msg *msg)
{
	struct chart_walk w = {out, as_of, 0};
	enum vaern_err err;

	memset(out, 0, sizeof(*out));
	(void)snprintf(out->controller, sizeof(out->controller), "%s",
	               controller);
	out->chart.controller = out->controller;
	out->chart.series = out->series;
	out->chart.first_month = month_of((long)(as_of / 86400));
	err = vault_retention_plan(v, controller, chart_row, &w, msg);
	if (err == VAERN_OK)
		err = vault_retention_held(v, controller, chart_held, &w, msg);
	if (err == VAERN_OK && w.over)
		err = vaern_fail(msg, VAERN_E_LIMIT,
		                 "the chart draws at most %d rules",
		                 RENDER_CHART_SERIES);
	return err;
}

struct holds_walk {
	enum vaern_err (*fn)(void *arg, const struct vault_hold_row *h);
	void *arg;
};

static enum vaern_err
hold_row(void *arg, const struct store_hold_row *h)
{
	struct holds_walk *w = arg;
	struct vault_hold_row o;

	memcpy(o.subject, h->uid, VAULT_UID_BYTES);
	o.id = h->id;
	o.category = h->category;
	o.review_at = h->review_at == STORE_NO_TIME ? INT64_MIN : h->review_at;
	o.placed_at = h->placed_at;
	o.placed_by = h->placed_by;
	return w->fn(w->arg, &o);
}

enum vaern_err
vault_holds_in_force(struct vault *v, const char *controller,
                     enum vaern_err (*fn)(void *arg,
                                          const struct vault_hold_row *h),
                     void *arg, struct vaern_msg *msg)
{
	struct holds_walk w = {fn, arg};
	struct controller *c;
	enum vaern_err err;

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	return store_holds_in_force(v->store, c->rowid, hold_row, &w, msg);
}
