/*
 * cmd_retention.c -- vaern retention plan|sweep: what goes when, and
 * taking it (issue 4; DESIGN.md "Retention").
 *
 *   vaern retention plan [--controller ID] [--as-of DATE]
 *                        [--format table|csv|json] [--by day|month]
 *       counts the facts, and the visitors' visits and pixels, that will
 *       go, by rule and by month (or day): "overdue" for what is due at
 *       --as-of and not swept yet, "waiting" for facts whose clock has
 *       not started (an open customer relationship, an event not yet
 *       recorded). A table on a terminal, JSON otherwise, unless --format
 *       says.
 *
 *   vaern retention sweep [--as-of DATE] [--dry-run] [--quiet]
 *       removes what is due: deletes facts or keeps their anonymised
 *       survivors, crypto-shreds subjects with nothing left, leaves held
 *       data alone, deletes visitors' visits and pixels (AURA-RET-1). Each
 * batch is committed whole and audited with its counts by rule. A progress bar
 * on a terminal (stderr). Prints the report as JSON.
 *
 * --as-of is the global clock (vaern --as-of DATE retention ...) or the
 * command's own; both mean the same instant.
 */
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../audit/audit.h"
#include "../calendar/calendar.h"
#include "../outbox/smtp.h"
#include "../render/render.h"
#include "../traffic/traffic_access.h"
#include "../vault/vault.h"
#include "../vault/vault_console.h"
#include "cli.h"

const char cli_retention_usage[] =
        "usage: vaern retention plan [--controller ID] [--as-of DATE]\n"
        "                            [--format table|csv|json] [--by "
        "day|month]\n"
        "       vaern retention sweep [--as-of DATE] [--dry-run] [--quiet]\n"
        "       vaern retention card-warnings [--controller ID] [--as-of "
        "DATE] [--dry-run]\n"
        "       vaern retention chart [--controller ID] [--as-of DATE]\n"
        "                             [--svg FILE|-] [--html FILE|-] "
        "[--lang da|sv|en]\n";

struct args {
	const char *controller;
	const char *as_of;
	const char *format;
	const char *by;
	const char *svg;  /* chart: the SVG's file, "-" for stdout */
	const char *html; /* chart: the page's file, "-" for stdout */
	const char *lang; /* chart: da, sv, en */
	int dry_run;
	int quiet;
};

static int
parse(int argc, char **argv, struct args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 2; i < argc; i++) {
		const char **dst = NULL;

		if (strcmp(argv[i], "--controller") == 0)
			dst = &a->controller;
		else if (strcmp(argv[i], "--as-of") == 0)
			dst = &a->as_of;
		else if (strcmp(argv[i], "--format") == 0)
			dst = &a->format;
		else if (strcmp(argv[i], "--by") == 0)
			dst = &a->by;
		else if (strcmp(argv[i], "--svg") == 0)
			dst = &a->svg;
		else if (strcmp(argv[i], "--html") == 0)
			dst = &a->html;
		else if (strcmp(argv[i], "--lang") == 0)
			dst = &a->lang;
		else if (strcmp(argv[i], "--dry-run") == 0)
			a->dry_run = 1;
		else if (strcmp(argv[i], "--quiet") == 0)
			a->quiet = 1;
		else
			return -1;
		if (dst != NULL) {
			if (i + 1 >= argc)
				return -1;
			*dst = argv[++i];
		}
	}
	return 0;
}

/* The audit trail of this process's data directory: one per process. */
static struct cli_trail local_trail;

/* At exit: the MAC key goes with the process. */
static void
local_trail_wipe(void)
{
	sodium_memzero(&local_trail.t, sizeof(local_trail.t));
}

/*
 * The audit hook of a local command: a gate decision straight into
 * DIR/audit.db; a change's entry, committed with it in the outbox, moved
 * from there (with any a crash left before it).
 */
static enum vaern_err
audit_direct(void *arg, const struct vault_audit_event *e,
             struct vaern_msg *msg)
{
	struct cli_audit_local *al = arg;
	struct audit_entry a = {0};

	if (e->outbox_id != 0)
		return audit_outbox_flush(&al->trail->t, NULL, msg);
	a.controller = e->controller;
	a.actor = e->actor;
	a.role = e->role;
	a.purpose = e->purpose;
	a.action = e->action;
	a.subject = e->subject;
	a.categories = e->categories;
	a.allowed = e->allowed;
	a.rule = e->rule;
	a.reason = e->reason;
	a.at = e->at;
	/* Issue 12: the policy version it was decided under. */
	a.policy = e->policy;
	if (a.policy == NULL && a.controller != NULL)
		a.policy = vault_policy_version(al->v, a.controller);
	return audit_append_direct(&al->trail->t, &a, 1, NULL, msg);
}

void
cli_operator_name(char out[CLI_OPERATOR_MAX + 1])
{
	static const char name_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                 "abcdefghijklmnopqrstuvwxyz"
	                                 "0123456789._-";
	struct passwd *pw = getpwuid(geteuid());
	size_t n;

	if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0')
		(void)snprintf(out, CLI_OPERATOR_MAX + 1, "operator:%s",
		               pw->pw_name);
	else
		(void)snprintf(out, CLI_OPERATOR_MAX + 1, "operator:uid%lu",
		               (unsigned long)geteuid());
	/* Printable ids only in the trail: anything else becomes '_'. */
	n = strlen(out);
	for (size_t i = sizeof("operator:") - 1; i < n; i++)
		if (strchr(name_chars, out[i]) == NULL)
			out[i] = '_';
}

int
cli_audit_local(struct vault *v, struct cli_audit_local *al)
{
	struct vaern_msg msg = {{0}};
	int n = snprintf(al->path, sizeof(al->path), "%s/%s",
	                 cli_globals.data_dir, AUDIT_DB_FILE);

	if (n < 0 || (size_t)n >= sizeof(al->path))
		return -1;
	if (cli_trail_of(v, &local_trail, &msg) != VAERN_OK) {
		fprintf(stderr, "vaern: %s\n", msg.text);
		return -1;
	}
	(void)atexit(local_trail_wipe);
	al->v = v;
	al->trail = &local_trail;
	vault_set_audit(v, audit_direct, al);
	return 0;
}

/* The retained-data store's audit entries go into the same trail. */
enum vaern_err
cli_traffic_audit(void *arg, const struct audit_entry *e, struct vaern_msg *msg)
{
	struct cli_audit_local *al = arg;

	return audit_append_direct(&al->trail->t, e, 1, NULL, msg);
}

/* ---- plan --------------------------------------------------------------- */

struct plan_line {
	char controller[72];
	char rule[72];
	char action[12];
	char clause[32];
	int legal;
	char when[12]; /* "undated", "restricted", "overdue", "YYYY-MM" or
	                  "YYYY-MM-DD" */
	int64_t facts;
	int64_t visits; /* visits and pixels of visitors */
};

struct plan {
	struct plan_line *lines;
	size_t n, cap;
	int64_t as_of;
	int by_day;
	int64_t total, overdue, waiting;
	int64_t restricted; /* facts a restriction holds (GDPR-18) */
	int64_t visits, visits_overdue;
};

static enum vaern_err
plan_add(void *arg, const struct vault_plan_row *r)
{
	struct plan *p = arg;
	struct plan_line l;
	char day[11];

	memset(&l, 0, sizeof(l));
	(void)snprintf(l.controller, sizeof(l.controller), "%s", r->controller);
	(void)snprintf(l.rule, sizeof(l.rule), "%s", r->rule);
	(void)snprintf(l.action, sizeof(l.action), "%s", r->action);
	(void)snprintf(l.clause, sizeof(l.clause), "%s",
	               r->clause ? r->clause : "");
	l.legal = r->legal;
	l.facts = r->facts;
	l.visits = r->visits;
	if (r->restricted) {
		/* GDPR-18: kept while restricted, whatever the date; these
		 * facts are in their own rows too. */
		(void)snprintf(l.when, sizeof(l.when), "restricted");
		p->restricted += r->facts;
		goto add;
	} else if (r->due == INT64_MIN) {
		/* Issue 10: undated facts, a line per rule for the DPO. */
		(void)snprintf(l.when, sizeof(l.when), "undated");
		p->waiting += r->facts;
	} else if (r->due <= p->as_of) {
		(void)snprintf(l.when, sizeof(l.when), "overdue");
		p->overdue += r->facts;
		p->visits_overdue += r->visits;
	} else {
		cal_format_date((long)(r->due / 86400), day);
		(void)snprintf(l.when, sizeof(l.when), "%.*s",
		               p->by_day ? 10 : 7, day);
	}
	p->total += r->facts;
	p->visits += r->visits;
add:
	/* Rows come in due order: merge into the line of the same rule and
	 * period, searching back over this period's lines only. */
	for (size_t i = p->n; i-- > 0;) {
		struct plan_line *o = &p->lines[i];

		if (strcmp(o->when, l.when) != 0)
			break;
		if (strcmp(o->controller, l.controller) == 0 &&
		    strcmp(o->rule, l.rule) == 0) {
			o->facts += l.facts;
			o->visits += l.visits;
			return VAERN_OK;
		}
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 256;
		struct plan_line *nl = realloc(p->lines, cap * sizeof(*nl));

		if (nl == NULL)
			return VAERN_E_NOMEM;
		p->lines = nl;
		p->cap = cap;
	}
	p->lines[p->n++] = l;
	return VAERN_OK;
}

static void
plan_csv(const struct plan *p)
{
	printf("controller,rule,clause,action,legal_obligation,when,facts,"
	       "visits\n");
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_line *l = &p->lines[i];

		printf("%s,%s,%s,%s,%s,%s,%lld,%lld\n", l->controller, l->rule,
		       l->clause, l->action, l->legal ? "yes" : "no", l->when,
		       (long long)l->facts, (long long)l->visits);
	}
}

static void
plan_table(const struct plan *p)
{
	printf("%-16s %-22s %-12s %-9s %-10s %12s %12s\n", "CONTROLLER", "RULE",
	       "CLAUSE", "ACTION", "WHEN", "FACTS", "VISITS");
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_line *l = &p->lines[i];

		printf("%-16s %-22s %-12s %-9s %-10s %12lld %12lld%s\n",
		       l->controller, l->rule, l->clause, l->action, l->when,
		       (long long)l->facts, (long long)l->visits,
		       l->legal ? "  (legal obligation)" : "");
	}
	printf("%lld facts: %lld overdue, %lld undated (waiting for an "
	       "event), %lld held by restriction\n",
	       (long long)p->total, (long long)p->overdue,
	       (long long)p->waiting, (long long)p->restricted);
	printf("%lld visits and pixels: %lld overdue\n", (long long)p->visits,
	       (long long)p->visits_overdue);
}

static int
plan_json(const struct plan *p)
{
	json_t *rows = json_array();

	for (size_t i = 0; rows != NULL && i < p->n; i++) {
		const struct plan_line *l = &p->lines[i];

		json_array_append_new(
		        rows,
		        json_pack("{s:s, s:s, s:s*, s:s, s:b, s:s, s:I, s:I}",
		                  "controller", l->controller, "rule", l->rule,
		                  "clause", l->clause[0] ? l->clause : NULL,
		                  "action", l->action, "legal_obligation",
		                  l->legal, "when", l->when, "facts",
		                  (json_int_t)l->facts, "visits",
		                  (json_int_t)l->visits));
	}
	return cli_print_json(json_pack(
	        "{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "plan", rows,
	        "facts", (json_int_t)p->total, "overdue",
	        (json_int_t)p->overdue, "waiting", (json_int_t)p->waiting,
	        "undated", (json_int_t)p->waiting, "restricted",
	        (json_int_t)p->restricted, "visits", (json_int_t)p->visits,
	        "visits_overdue", (json_int_t)p->visits_overdue));
}

static int
plan_cmd(struct vault *v, const struct args *a, int64_t as_of)
{
	struct plan p;
	struct vaern_msg msg = {{0}};
	enum vaern_err err;
	const char *fmt = a->format;
	int rc;

	memset(&p, 0, sizeof(p));
	p.as_of = as_of;
	/* --by and --format were checked before the vault was opened. */
	p.by_day = a->by != NULL && strcmp(a->by, "day") == 0;
	if (fmt == NULL)
		fmt = isatty(STDOUT_FILENO) ? "table" : "json";
	err = vault_retention_plan(v, a->controller, plan_add, &p, &msg);
	if (err != VAERN_OK) {
		free(p.lines);
		return cli_report("retention plan", err, &msg);
	}
	rc = EXIT_OK;
	if (strcmp(fmt, "table") == 0)
		plan_table(&p);
	else if (strcmp(fmt, "csv") == 0)
		plan_csv(&p);
	else
		rc = plan_json(&p);
	free(p.lines);
	return rc;
}

/* ---- chart (issue 20, point 2) ------------------------------------------ */

/* Writes text (len bytes) to path, or stdout for "-". */
static int
chart_write(const char *path, const char *text, size_t len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	int bad;

	if (f == NULL)
		return -1;
	bad = fwrite(text, 1, len, f) != len;
	if (f != stdout)
		bad |= fclose(f) != 0;
	else
		bad |= fflush(f) != 0;
	return bad ? -1 : 0;
}

static json_t *
chart_json(const struct render_chart *c)
{
	json_t *list = json_array();
	char month[48];

	for (size_t i = 0; list != NULL && i < c->nseries; i++) {
		const struct render_chart_series *s = &c->series[i];
		json_t *months = json_object();

		for (int k = 0; months != NULL && k < RENDER_CHART_MONTHS;
		     k++) {
			long mm = c->first_month + k;

			if (s->month[k] == 0)
				continue;
			(void)snprintf(month, sizeof(month), "%04ld-%02ld",
			               mm / 12, mm % 12 + 1);
			json_object_set_new(months, month,
			                    json_integer(s->month[k]));
		}
		json_array_append_new(
		        list,
		        json_pack("{s:s, s:s, s:s*, s:b, s:o, s:I, s:I, s:I, "
		                  "s:I, s:I}",
		                  "rule", s->rule, "kind",
		                  s->visits ? "visits" : "facts", "clause",
		                  s->clause, "legal_obligation", s->legal,
		                  "months", months, "overdue",
		                  (json_int_t)s->overdue, "later",
		                  (json_int_t)s->later, "undated",
		                  (json_int_t)s->undated, "restricted",
		                  (json_int_t)s->restricted, "held",
		                  (json_int_t)s->held));
	}
	return list;
}

/*
 * vaern retention chart: the plan of one controller as the retention
 * view draws it (issue 20, point 2): the SVG (--svg), the page with the
 * table beside it (--html), and the counts as JSON on stdout (unless a
 * document goes there).
 */
static int
chart_cmd(struct vault *v, const struct args *a, int64_t as_of)
{
	struct vault_chart *b = NULL;
	struct vaern_msg msg = {{0}};
	enum render_lang lang = RENDER_EN;
	enum vaern_err err;
	char *owned = NULL, *doc = NULL, day[11];
	const char *controller = a->controller;
	size_t len = 0;
	int rc = EXIT_OK;

	if (a->lang != NULL && render_lang_parse(a->lang, &lang) != 0)
		return cli_usage("retention chart", "--lang is da, sv or en");
	if (a->svg != NULL && a->html != NULL && strcmp(a->svg, "-") == 0 &&
	    strcmp(a->html, "-") == 0)
		return cli_usage("retention chart",
		                 "only one of --svg and --html can be '-'");
	if ((rc = cli_controller(v, "retention chart", &controller, &owned)) !=
	    EXIT_OK)
		return rc;
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		rc = cli_report("retention chart", VAERN_E_NOMEM, NULL);
		goto done;
	}
	/* The one build of the chart, shared with the console's view. */
	err = vault_retention_chart(v, controller, as_of, b, &msg);
	if (err != VAERN_OK) {
		rc = cli_report("retention chart", err, &msg);
		goto done;
	}
	for (int page = 0; page <= 1; page++) {
		const char *to = page ? a->html : a->svg;

		if (to == NULL)
			continue;
		err = page ? render_chart_html(&b->chart, lang, &doc, &len,
		                               &msg)
		           : render_chart_svg(&b->chart, lang, &doc, &len,
		                              &msg);
		if (err == VAERN_OK && chart_write(to, doc, len) != 0)
			err = vaern_fail(&msg, VAERN_E_IO, "cannot write %s",
			                 page ? "--html" : "--svg");
		free(doc);
		doc = NULL;
		if (err != VAERN_OK) {
			rc = cli_report("retention chart", err, &msg);
			goto done;
		}
	}
	if ((a->svg == NULL || strcmp(a->svg, "-") != 0) &&
	    (a->html == NULL || strcmp(a->html, "-") != 0)) {
		cal_format_date((long)(as_of / 86400), day);
		day[7] = '\0';
		rc = cli_print_json(json_pack(
		        "{s:s, s:s, s:i, s:o}", "controller", controller,
		        "first_month", day, "months", RENDER_CHART_MONTHS,
		        "series", chart_json(&b->chart)));
	}
done:
	free(doc);
	free(b);
	free(owned);
	return rc;
}

/* ---- sweep -------------------------------------------------------------- */

/* The progress line on a terminal, drawn as cmd_import.c draws its. */
struct progress {
	double started, drawn; /* CLOCK_MONOTONIC seconds */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
progress_bar(void *arg, int64_t done, int64_t total)
{
	struct progress *p = arg;
	double t = now_s(), secs = t - p->started;
	char bar[31];
	size_t full;

	if (t - p->drawn < 0.2 && done < total)
		return 0;
	p->drawn = t;
	full = total > 0 ? (size_t)(done * 30 / total) : 30;
	if (full > 30)
		full = 30;
	memset(bar, '#', full);
	memset(bar + full, '.', 30 - full);
	bar[30] = '\0';
	fprintf(stderr, "\r\033[K[%s] %3d%% %lld of %lld due facts, %.0f/s",
	        bar, total > 0 ? (int)(done * 100 / total) : 100,
	        (long long)done, (long long)total,
	        secs > 0 ? (double)done / secs : 0.0);
	fflush(stderr);
	return 0;
}

static int
sweep_cmd(struct vault *v, const struct args *a, int64_t as_of)
{
	struct vault_sweep_report rep;
	struct vaern_msg msg = {{0}};
	struct cli_audit_local al;
	enum vaern_err err;
	int bar = !a->quiet && isatty(STDERR_FILENO);
	struct progress prog = {now_s(), 0.0};
	uint64_t traffic_days = 0, traffic_records = 0;
	json_t *rules, *vrules;

	if (!a->dry_run && cli_audit_local(v, &al) != 0)
		return cli_report("retention sweep", VAERN_E_INVALID, NULL);
	err = vault_retention_sweep(v, as_of, a->dry_run,
	                            bar ? progress_bar : NULL, &prog, &rep,
	                            &msg);
	if (bar)
		fputs("\r\033[K", stderr);
	/* TEL-LOG-1: the retained-data store's days go in the same sweep. */
	if (err == VAERN_OK && !a->dry_run)
		err = traffic_sweep_all(v, cli_globals.data_dir, NULL, as_of,
		                        cli_traffic_audit, &al, &traffic_days,
		                        &traffic_records, &msg);
	/* Issue 19: the webhook event of a sweep done. */
	if (err == VAERN_OK && !a->dry_run)
		err = vault_webhook_sweep(v, &rep, traffic_days, &msg);
	if (err != VAERN_OK)
		return cli_report("retention sweep", err, &msg);
	rules = json_object();
	vrules = json_object();
	for (size_t i = 0; rules != NULL && vrules != NULL && i < rep.nrules;
	     i++) {
		if (rep.rules[i].facts > 0)
			json_object_set_new(rules, rep.rules[i].rule,
			                    json_integer(rep.rules[i].facts));
		if (rep.rules[i].visits > 0)
			json_object_set_new(vrules, rep.rules[i].rule,
			                    json_integer(rep.rules[i].visits));
	}
	return cli_print_json(json_pack(
	        "{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:o, s:I, s:I}",
	        "dry_run", a->dry_run, "facts_deleted",
	        (json_int_t)rep.facts_deleted, "facts_anonymised",
	        (json_int_t)rep.facts_anonymised, "anonymised_records",
	        (json_int_t)rep.anon_records, "subjects_shredded",
	        (json_int_t)rep.subjects_shredded, "facts_held",
	        (json_int_t)rep.facts_held, "consents_expired",
	        (json_int_t)rep.consents_expired, "by_rule", rules,
	        "visits_deleted", (json_int_t)rep.visits_deleted,
	        "visits_by_rule", vrules, "traffic_days_deleted",
	        (json_int_t)traffic_days, "traffic_records_deleted",
	        (json_int_t)traffic_records));
}

/*
 * SHOP-PAY-1: the card-expiry warnings due as of as_of, sent through the
 * outbox (the spool, or SMTP from VAERN_SMTP_URL) and audited; the
 * scheduled sweep of `vaern serve` runs the same.
 */
static int
card_warnings_cmd(struct vault *v, const struct args *a, int64_t as_of)
{
	struct vault_card_report rep;
	struct vaern_msg msg = {{0}};
	struct smtp_outbox *smtp = NULL;
	struct cli_audit_local al;
	enum vaern_err err;
	int rc;

	if (!a->dry_run && cli_audit_local(v, &al) != 0)
		return cli_report("retention card-warnings", VAERN_E_INVALID,
		                  NULL);
	if (!a->dry_run && (rc = cli_outbox_from_env("retention card-warnings",
	                                             v, &smtp)) != EXIT_OK)
		return rc;
	err = vault_card_warnings(v, a->controller, as_of, a->dry_run,
	                          "local-operator", &rep, &msg);
	smtp_outbox_free(smtp);
	if (err != VAERN_OK)
		return cli_report("retention card-warnings", err, &msg);
	return cli_print_json(json_pack(
	        "{s:b, s:I, s:I, s:I, s:I, s:I}", "dry_run", a->dry_run,
	        "subjects", (json_int_t)rep.subjects, "due",
	        (json_int_t)rep.due, "sent", (json_int_t)rep.sent,
	        "already_sent", (json_int_t)rep.already_sent, "no_address",
	        (json_int_t)rep.no_address));
}

int
cmd_retention(int argc, char **argv)
{
	struct args a;
	struct vault *v = NULL;
	struct vaern_msg msg = {{0}};
	enum vaern_err err;
	int64_t as_of;
	int rc;

	if (argc < 2 || strcmp(argv[1], "help") == 0) {
		fputs(cli_retention_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if ((strcmp(argv[1], "plan") != 0 && strcmp(argv[1], "sweep") != 0 &&
	     strcmp(argv[1], "card-warnings") != 0 &&
	     strcmp(argv[1], "chart") != 0) ||
	    parse(argc, argv, &a) != 0) {
		fputs(cli_retention_usage, stderr);
		return EXIT_USAGE;
	}
	/* Each subcommand takes its own options only: a plan option given
	 * to a sweep must not be silently ignored while the sweep runs. */
	if (strcmp(argv[1], "sweep") == 0 &&
	    (a.format != NULL || a.by != NULL || a.controller != NULL))
		return cli_usage("retention sweep",
		                 a.format != NULL ? "--format is a plan option"
		                 : a.by != NULL   ? "--by is a plan option"
		                                  : "a sweep takes no "
		                                    "--controller: it sweeps "
		                                    "every controller");
	if (strcmp(argv[1], "card-warnings") == 0 &&
	    (a.format != NULL || a.by != NULL || a.quiet))
		return cli_usage("retention card-warnings",
		                 "takes --controller, --as-of and --dry-run "
		                 "only");
	if (strcmp(argv[1], "chart") != 0 &&
	    (a.svg != NULL || a.html != NULL || a.lang != NULL))
		return cli_usage(argv[1], "--svg, --html and --lang are chart "
		                          "options");
	if (strcmp(argv[1], "chart") == 0 &&
	    (a.dry_run || a.quiet || a.format != NULL || a.by != NULL))
		return cli_usage(
		        "retention chart",
		        "takes --controller, --as-of, --svg, --html and "
		        "--lang only");
	if (strcmp(argv[1], "plan") == 0 && (a.dry_run || a.quiet))
		return cli_usage("retention plan",
		                 a.dry_run ? "--dry-run is a sweep option "
		                             "(a plan changes nothing)"
		                           : "--quiet is a sweep option");
	if (a.as_of != NULL) {
		char why[sizeof(msg.text) + 80];

		if (cal_parse_instant(a.as_of, &as_of, &msg) != VAERN_OK) {
			/* An operator's argument, not personal data: say
			 * exactly what is wrong. */
			(void)snprintf(why, sizeof(why),
			               "--as-of: %s (a date YYYY-MM-DD or an "
			               "ISO 8601 instant)",
			               msg.text);
			return cli_usage(argv[1][0] == 'p' ? "retention plan"
			                                   : "retention sweep",
			                 why);
		}
		clock_set(as_of);
	}
	if (a.by != NULL && strcmp(a.by, "day") != 0 &&
	    strcmp(a.by, "month") != 0)
		return cli_usage("retention plan", "--by is day or month");
	if (a.format != NULL && strcmp(a.format, "table") != 0 &&
	    strcmp(a.format, "csv") != 0 && strcmp(a.format, "json") != 0)
		return cli_usage("retention plan",
		                 "--format is table, csv or json");
	as_of = clock_now();
	if ((err = vault_open(cli_globals.data_dir, &v, &msg)) != VAERN_OK)
		return cli_report("retention", err, &msg);
	if (strcmp(argv[1], "plan") == 0)
		rc = plan_cmd(v, &a, as_of);
	else if (strcmp(argv[1], "card-warnings") == 0)
		rc = card_warnings_cmd(v, &a, as_of);
	else if (strcmp(argv[1], "chart") == 0)
		rc = chart_cmd(v, &a, as_of);
	else
		rc = sweep_cmd(v, &a, as_of);
	vault_close(v);
	return rc;
}
