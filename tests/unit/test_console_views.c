/*
 * test_console_views.c -- the staff console's views without a server
 * (issue 20, points 3 to 6): the audit trail's filter walk and its CSV
 * (GDPR-32; CSV injection defused), and the views' bodies written from
 * data: escaped, with the forms' tokens, no script, no inline style.
 * The black-box tests (tests/cli/test_console_views.py) drive the same
 * pages through a real login.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_query.h"
#include "calendar/calendar.h"
#include "console/console_views.h"

#define T0 1767225600 /* 2026-01-01T00:00:00Z */

static const unsigned char subject_a[AUDIT_SUBJECT_BYTES] = {
        0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* ---- CSV ----------------------------------------------------------------- */

/* GDPR-32: the export opens in a spreadsheet; a cell that would run as
 * a formula begins with an apostrophe (OWASP CSV injection). */
static void
test_csv_cell(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	        {"plain", "plain"},
	        {"=1+1", "'=1+1"},
	        {"+45 1234", "'+45 1234"},
	        {"-2", "'-2"},
	        {"@SUM(A1)", "'@SUM(A1)"},
	        {"\tx", "'\tx"},
	        {"a,b", "\"a,b\""},
	        {"say \"hi\"", "\"say \"\"hi\"\"\""},
	        {"=cmd|' /C calc'!A0,x", "\"'=cmd|' /C calc'!A0,x\""},
	        {"line\nbreak", "\"line\nbreak\""},
	        {"", ""},
	        {"a=b", "a=b"},
	};
	char out[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long n = audit_csv_cell(cases[i].in, out, sizeof(out));

		assert_int_equal(n, (long)strlen(cases[i].out));
		assert_string_equal(out, cases[i].out);
	}
	assert_int_equal(audit_csv_cell(NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* Too small: refused, nothing half written. */
	assert_int_equal(audit_csv_cell("=abcdef", out, 4), -1);
	assert_string_equal(out, "");
}

static void
test_csv_line(void **state)
{
	struct audit_record r;
	char *line = malloc(AUDIT_CSV_LINE_MAX);

	(void)state;
	assert_non_null(line);
	memset(&r, 0, sizeof(r));
	r.seq = 7;
	r.at = T0;
	r.entry.controller = "cekura";
	r.entry.actor = "dpo1";
	r.entry.role = "dpo";
	r.entry.purpose = "console";
	r.entry.action = "console_login";
	r.entry.allowed = 0;
	r.entry.rule = "GDPR-32";
	r.entry.reason = "=HYPERLINK(\"x\"), wrong code";
	assert_true(audit_csv_line(&r, "ab", line) > 0);
	assert_string_equal(line,
	                    "7,2026-01-01T00:00:00Z,cekura,dpo1,dpo,console,"
	                    "console_login,ab,,denied,GDPR-32,"
	                    "\"'=HYPERLINK(\"\"x\"\"), wrong code\",,"
	                    "00000000000000000000000000000000000000000000000000"
	                    "00000000000000"
	                    "\r\n");
	assert_non_null(strstr(audit_csv_header(), "seq,at,controller"));
	free(line);
}

/* ---- the filter walk ----------------------------------------------------- */

struct fixture {
	char dir[64];
	char db[96];
	struct audit_trail t;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vaern_msg msg = {{0}};

	if (f == NULL)
		return -1;
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/vaern-cview-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	(void)snprintf(f->db, sizeof(f->db), "%s/audit.db", f->dir);
	if (audit_create(f->db, &msg) != VAERN_OK)
		return -1;
	f->t.path = f->db;
	memset(f->t.key, 0x42, sizeof(f->t.key));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	clock_unset();
	free(f);
	return 0;
}

/* Appends an entry at T0 + hours. */
static void
append(struct fixture *f, const char *controller, const char *actor,
       const char *purpose, int allowed, const unsigned char *subject,
       int hours)
{
	struct audit_entry e;
	struct vaern_msg msg = {{0}};

	memset(&e, 0, sizeof(e));
	e.controller = controller;
	e.actor = actor;
	e.role = "r";
	e.purpose = purpose;
	e.action = "read";
	e.subject = subject;
	e.categories = "";
	e.allowed = allowed;
	e.rule = "GDPR-32";
	e.reason = "test";
	clock_set(T0 + (int64_t)hours * 3600);
	assert_int_equal(audit_append_direct(&f->t, &e, 1, NULL, &msg),
	                 VAERN_OK);
}

struct got {
	int64_t seqs[64];
	size_t n;
};

static enum vaern_err
collect(void *arg, const struct audit_record *r)
{
	struct got *g = arg;

	if (g->n < 64)
		g->seqs[g->n++] = r->seq;
	return VAERN_OK;
}

/* GDPR-32: the DPO's filters, alone and combined, on both sides of each
 * bound; one controller's entries only; pages with their "more". */
static void
test_query(void **state)
{
	struct fixture *f = *state;
	struct audit_query q;
	struct vaern_msg msg = {{0}};
	struct got g;
	int more;

	append(f, "cekura", "cs1", "customer_admin", 1, subject_a, 0); /* 1 */
	append(f, "cekura", "cs1", "customer_admin", 0, NULL, 1);      /* 2 */
	append(f, "cekura", "dpo1", "console", 1, subject_a, 2);       /* 3 */
	append(f, "other", "cs1", "customer_admin", 1, subject_a, 3);  /* 4 */
	append(f, "cekura", "cs2", "marketing", 0, subject_a, 24);     /* 5 */
	static const struct {
		const char *actor, *purpose;
		int decision, subject, from_h, to_h, after, limit;
		size_t n;
		int64_t first;
		int more;
	} cases[] = {
	        /* all of cekura's, never other's */
	        {NULL, NULL, -1, 0, -1, -1, 0, 0, 4, 1, 0},
	        {"cs1", NULL, -1, 0, -1, -1, 0, 0, 2, 1, 0},
	        {"cs", NULL, -1, 0, -1, -1, 0, 0, 0, 0, 0}, /* exact only */
	        {NULL, "console", -1, 0, -1, -1, 0, 0, 1, 3, 0},
	        {NULL, NULL, 0, 0, -1, -1, 0, 0, 2, 2, 0},
	        {NULL, NULL, 1, 0, -1, -1, 0, 0, 2, 1, 0},
	        {NULL, NULL, -1, 1, -1, -1, 0, 0, 3, 1, 0},
	        {"cs1", NULL, 1, 1, -1, -1, 0, 0, 1, 1, 0},
	        /* time: from is inclusive, to exclusive */
	        {NULL, NULL, -1, 0, 1, -1, 0, 0, 3, 2, 0},
	        {NULL, NULL, -1, 0, -1, 2, 0, 0, 2, 1, 0},
	        {NULL, NULL, -1, 0, 2, 24, 0, 0, 1, 3, 0},
	        /* pages: one more exists, then the next page */
	        {NULL, NULL, -1, 0, -1, -1, 0, 2, 2, 1, 1},
	        {NULL, NULL, -1, 0, -1, -1, 2, 2, 2, 3, 0},
	        {"cs1", NULL, -1, 0, -1, -1, 0, 1, 1, 1, 1},
	        {"cs1", NULL, -1, 0, -1, -1, 1, 1, 1, 2, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		audit_query_init(&q, "cekura");
		q.actor = cases[i].actor;
		q.purpose = cases[i].purpose;
		q.decision = cases[i].decision;
		q.subject = cases[i].subject ? subject_a : NULL;
		if (cases[i].from_h >= 0)
			q.from_at = T0 + cases[i].from_h * 3600;
		if (cases[i].to_h >= 0)
			q.to_at = T0 + cases[i].to_h * 3600;
		q.after_seq = cases[i].after;
		q.limit = cases[i].limit;
		memset(&g, 0, sizeof(g));
		assert_int_equal(
		        audit_query_run(f->db, &q, collect, &g, &more, &msg),
		        VAERN_OK);
		if (g.n != cases[i].n || more != cases[i].more)
			fail_msg("case %zu: %zu entries (more %d), want %zu "
			         "(more %d)",
			         i, g.n, more, cases[i].n, cases[i].more);
		if (g.n > 0)
			assert_int_equal(g.seqs[0], cases[i].first);
	}
	/* No controller: refused, never all of them. */
	audit_query_init(&q, "cekura");
	q.controller = NULL;
	assert_int_equal(audit_query_run(f->db, &q, collect, &g, &more, &msg),
	                 VAERN_E_INVALID);
}

/* ---- the bodies ---------------------------------------------------------- */

static const struct cview view_dpo = {WEB_DA, "/console/cekura", "TOKEN", 1};
static const struct cview view_cs = {WEB_EN, "/console/cekura", "TOKEN", 0};

/* CEK-HOLD-1, issue 10, GDPR-18: the callouts sum the series; the holds
 * and their forms for the DPO only; every text escaped. */
static void
test_retention_body(void **state)
{
	struct render_chart_series s[2];
	struct render_chart c;
	struct cview_hold hold;
	struct web_html h;

	(void)state;
	memset(s, 0, sizeof(s));
	s[0].rule = "general";
	s[0].undated = 3;
	s[0].held = 2;
	s[1].rule = "calls";
	s[1].undated = 1;
	s[1].restricted = 4;
	memset(&c, 0, sizeof(c));
	c.controller = "cekura";
	c.series = s;
	c.nseries = 2;
	memset(&hold, 0, sizeof(hold));
	hold.id = 9;
	(void)snprintf(hold.subject, sizeof(hold.subject), "%s",
	               "00112233445566778899aabbccddeeff");
	(void)snprintf(hold.placed_by, sizeof(hold.placed_by), "%s",
	               "<b>dpo</b>");
	hold.review_at = INT64_MIN;
	web_html_init(&h, 0);
	cview_retention(&h, &view_dpo, &c, "<figure>F</figure>", &hold, 1, 0,
	                NULL);
	assert_false(h.failed);
	assert_non_null(strstr(h.data, "data-callout=\"undated\">4<"));
	assert_non_null(strstr(h.data, "data-callout=\"restricted\">4<"));
	assert_non_null(strstr(h.data, "data-callout=\"held\">2<"));
	assert_non_null(strstr(h.data, "&lt;b&gt;dpo&lt;/b&gt;"));
	assert_null(strstr(h.data, "<b>dpo"));
	assert_non_null(strstr(h.data, "/retention/lift"));
	assert_non_null(strstr(h.data, "name=\"csrf\" value=\"TOKEN\""));
	assert_non_null(strstr(h.data, "Alle kategorier")); /* da */
	assert_null(strstr(h.data, "<script"));
	assert_null(strstr(h.data, "style="));
	web_html_free(&h);
	/* Customer service: the counts, no holds, no forms. */
	web_html_init(&h, 0);
	cview_retention(&h, &view_cs, &c, "<figure>F</figure>", &hold, 1, 0,
	                NULL);
	assert_null(strstr(h.data, "/retention/lift"));
	assert_null(strstr(h.data, "/retention/hold"));
	assert_non_null(strstr(h.data, "data-callout=\"held\">2<"));
	web_html_free(&h);
}

/* GDPR-32: an entry's texts are escaped; a person's id never goes into
 * a link (a POST form carries it). */
static void
test_audit_body(void **state)
{
	struct cview_audit_filter f = {
	        "cs1",        NULL, 0,
	        "2026-01-01", NULL, "00112233445566778899aabbccddeeff"};
	struct cview_chain ch;
	struct audit_record r;
	struct web_html h;

	(void)state;
	memset(&ch, 0, sizeof(ch));
	ch.ok = 1;
	ch.entries = 5;
	memset(&r, 0, sizeof(r));
	r.seq = 3;
	r.at = T0;
	r.entry.actor = "cs1";
	r.entry.action = "read";
	r.entry.reason = "<img src=x onerror=alert(1)>";
	web_html_init(&h, 0);
	cview_audit_begin(&h, &view_dpo, &ch, &f, NULL, NULL, 0);
	cview_audit_row(&h, &view_dpo, &r, "00112233445566778899aabbccddeeff");
	cview_audit_end(&h, &view_dpo, &f, 1, 1, 3);
	assert_false(h.failed);
	assert_null(strstr(h.data, "<img"));
	assert_non_null(strstr(h.data, "&lt;img"));
	assert_non_null(strstr(h.data, "data-entries=\"5\""));
	assert_null(strstr(h.data, "subject=0011"));
	assert_null(strstr(h.data, "href=\"/console/cekura/audit?"));
	assert_non_null(strstr(h.data, "name=\"after\" value=\"3\""));
	assert_non_null(strstr(h.data, "/audit/export\">"));
	web_html_free(&h);
	/* Without a person: links, the filter in the query, encoded. */
	f.subject = NULL;
	f.actor = "a&b c";
	web_html_init(&h, 0);
	cview_audit_end(&h, &view_dpo, &f, 1, 1, 3);
	assert_non_null(strstr(h.data, "audit?actor=a%26b%20c&amp;"
	                               "decision=denied&amp;from=2026-01-01"
	                               "&amp;after=3"));
	assert_non_null(strstr(h.data, "audit/export?actor=a%26b%20c"));
	web_html_free(&h);
}

/* SHOP-BREACH-2, GDPR-33: the clocks in words and colour on both sides
 * of their bounds; the register's form gives a patch. */
static void
test_incidents_body(void **state)
{
	json_t *list = json_pack(
	        "[{s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:i},"
	        " {s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:i},"
	        " {s:s, s:s, s:s, s:s, s:b, s:b, s:s}]",
	        "case", "SB-AAAAAAAAAAAA", "received_at",
	        "2026-01-01T00:00:00Z", "receipt_due", "2026-01-05",
	        "feedback_due", "2026-01-15", "closed", 0, "overdue", 1,
	        "classification", "personal_data_breach", "hours_left", -3,
	        "case", "SB-BBBBBBBBBBBB", "received_at",
	        "2026-01-01T00:00:00Z", "receipt_due", "2026-01-05",
	        "feedback_due", "2026-01-15", "closed", 0, "overdue", 0,
	        "classification", "personal_data_breach", "hours_left", 23,
	        "case", "SB-CCCCCCCCCCCC", "received_at",
	        "2026-01-01T00:00:00Z", "receipt_due", "2026-01-05",
	        "feedback_due", "2026-01-15", "closed", 1, "overdue", 0,
	        "classification", "weakness");
	struct web_html h;
	const char *values[20] = {0};
	struct vaern_msg msg = {{0}};
	json_t *patch;

	(void)state;
	web_html_init(&h, 0);
	cview_incidents(&h, &view_cs, list);
	assert_non_null(strstr(h.data, "data-clock=\"-3\" class=\"clock-late\""
	                               ">3 hours late"));
	assert_non_null(strstr(h.data, "data-clock=\"23\" class=\"clock-soon\""
	                               ">23 hours left"));
	assert_non_null(strstr(h.data, "data-clock=\"none\""));
	assert_non_null(strstr(h.data, "data-receipt=\"overdue\""));
	web_html_free(&h);
	json_decref(list);
	values[1] = "personal_data_breach";
	values[3] = "1";
	values[6] = "email, name";
	values[7] = "12";
	values[13] = "yes";
	values[14] = "the risk is high";
	patch = cview_register_patch(values, &msg);
	assert_non_null(patch);
	assert_string_equal(
	        json_string_value(json_object_get(patch, "classification")),
	        "personal_data_breach");
	assert_int_equal(json_array_size(json_object_get(patch, "nature")), 1);
	assert_int_equal(json_array_size(json_object_get(patch, "categories")),
	                 2);
	assert_int_equal(
	        json_integer_value(json_object_get(patch, "subjects_approx")),
	        12);
	assert_true(json_is_null(json_object_get(patch, "records_approx")));
	assert_true(json_is_true(json_object_get(patch, "notify")));
	json_decref(patch);
	values[7] = "12x";
	assert_null(cview_register_patch(values, &msg));
	assert_non_null(strstr(msg.text, "subjects_approx"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_csv_cell),
	        cmocka_unit_test(test_csv_line),
	        cmocka_unit_test_setup_teardown(test_query, setup, teardown),
	        cmocka_unit_test(test_retention_body),
	        cmocka_unit_test(test_audit_body),
	        cmocka_unit_test(test_incidents_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
