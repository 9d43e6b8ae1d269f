/*
 * test_render.c -- src/render: retention periods in words in each
 * language (table-driven, every unit, singular and plural, built-in and
 * event anchors), the option parsers, the CSP of a rendered page, and the
 * new policy keys of issue 15 (controller.dpo, purposes.*.subjects,
 * security) on a policy built in the test (GDPR-30).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/render.h"

static const char policy_text[] =
        "vaern: 1\n"
        "controller:\n"
        "  id: t\n"
        "  name: T A/S\n"
        "  country: DK\n"
        "  registration: \"34046352\"\n"
        "  authority: {name: Datatilsynet}\n"
        "  policy_version: 2024-01-31\n"
        "  dpo: {name: D, email: dpo@example.dk}\n"
        "events:\n"
        "  relationship_end: Du er stoppet som kunde\n"
        "categories:\n"
        "  name: {description: Navn}\n"
        "purposes:\n"
        "  p:\n"
        "    basis: b\n"
        "    categories: [name]\n"
        "    subjects: [Kunder, Leverandører]\n"
        "retention:\n"
        "  r1: {categories: [name], anchor: collected, period: 1 day}\n"
        "  r2: {categories: [name], anchor: collected, period: 3 weeks}\n"
        "  r3: {categories: [name], anchor: financial_year_end,\n"
        "       period: 5 years}\n"
        "  r4: {categories: [name], anchor: relationship_end, period: 1 "
        "month}\n"
        "  r5: {categories: [name], anchor: [relationship_end, collected],\n"
        "       period: 2 months}\n"
        "transfers: none\n"
        "roles:\n"
        "  staff: {purposes: [p]}\n"
        "security: [\"=1+1\", Kryptering]\n";

static struct policy *
fixture(void)
{
	struct policy_diags *d = calloc(1, sizeof(*d));
	struct policy *p = NULL;
	enum vaern_err err;

	assert_non_null(d);
	err = policy_load_buffer(policy_text, sizeof(policy_text) - 1, &p, d);
	if (err != VAERN_OK && d->count > 0)
		fprintf(stderr, "%u: %s\n", d->items[0].line,
		        d->items[0].message);
	assert_int_equal(err, VAERN_OK);
	free(d);
	return p;
}

static void
test_retention_words(void **state)
{
	static const struct {
		const char *rule;
		enum render_lang lang;
		const char *want;
	} cases[] = {
	        {"r1", RENDER_EN, "1 day after it was collected"},
	        {"r1", RENDER_DA, "1 dag efter de blev indsamlet"},
	        {"r2", RENDER_SV, "3 veckor efter att de samlades in"},
	        {"r3", RENDER_EN,
	         "5 years after the end of the financial year"},
	        {"r3", RENDER_DA, "5 år efter udløbet af regnskabsåret"},
	        {"r3", RENDER_SV, "5 år efter räkenskapsårets slut"},
	        {"r4", RENDER_EN,
	         "1 month after the end of your customer relationship with us"},
	        {"r5", RENDER_DA,
	         "2 måneder efter det seneste af: Du er stoppet som kunde; "
	         "de blev indsamlet"},
	};
	struct policy *p = fixture();
	char out[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct policy_retention *r = NULL;

		for (size_t j = 0; j < p->nretention; j++)
			if (strcmp(p->retention[j].id, cases[i].rule) == 0)
				r = &p->retention[j];
		assert_non_null(r);
		render_retention_words(p, r, cases[i].lang, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
	}
	/* Truncated, never overrun. */
	render_retention_words(p, &p->retention[0], RENDER_EN, out, 6);
	assert_string_equal(out, "1 day");
	policy_free(p);
}

static void
test_parsers(void **state)
{
	enum render_lang l;
	enum render_format f;
	enum render_ropa_format r;

	(void)state;
	assert_int_equal(render_lang_parse("sv", &l), 0);
	assert_int_equal(l, RENDER_SV);
	assert_int_equal(render_lang_parse("fr", &l), -1);
	assert_int_equal(render_lang_parse("", &l), -1);
	assert_int_equal(render_format_parse("md", &f), 0);
	assert_int_equal(f, RENDER_MD);
	assert_int_equal(render_format_parse("pdf", &f), -1);
	assert_int_equal(render_ropa_format_parse("csv", &r), 0);
	assert_int_equal(r, ROPA_CSV);
	assert_int_equal(render_ropa_format_parse("HTML", &r), -1);
}

static void
test_csp(void **state)
{
	char csp[RENDER_CSP_MAX];

	(void)state;
	render_csp(csp);
	assert_true(strncmp(csp, "default-src 'none'; style-src 'sha256-",
	                    38) == 0);
	assert_null(strstr(csp, "unsafe"));
	assert_null(strstr(csp, "script"));
}

/* GDPR-30: the new keys reach the compiled policy and the records. */
static void
test_new_keys_gdpr_30(void **state)
{
	struct policy *p = fixture();
	struct vaern_msg msg = {{0}};
	char *out = NULL;
	size_t len = 0;

	(void)state;
	assert_string_equal(p->controller.dpo_email, "dpo@example.dk");
	assert_null(p->controller.representative);
	assert_int_equal(p->purposes[0].nsubjects, 2);
	assert_string_equal(p->purposes[0].subjects[1], "Leverandører");
	assert_int_equal(p->nsecurity, 2);
	assert_int_equal(render_ropa(p, RENDER_EN, ROPA_CSV, &out, &len, &msg),
	                 VAERN_OK);
	assert_non_null(strstr(out, "\"Kunder | Leverandører\""));
	/* A cell never starts a formula. */
	assert_non_null(strstr(out, "\"'=1+1 | Kryptering\""));
	assert_non_null(strstr(out, "\"not stated\"")); /* representative */
	free(out);
	assert_int_equal(
	        render_notice(p, RENDER_EN, RENDER_TXT, &out, &len, &msg),
	        VAERN_OK);
	assert_int_equal(strlen(out), len);
	assert_non_null(strstr(out, "Data protection officer\n"));
	assert_non_null(strstr(out, "Version of 2024-01-31\n"));
	free(out);
	policy_free(p);
}

/* Bad values of the new keys are refused at their position. */
static void
test_new_keys_refused(void **state)
{
	static const struct {
		const char *from, *to, *want;
	} cases[] = {
	        {"  dpo: {name: D, email: dpo@example.dk}\n",
	         "  dpo: {name: D}\n",
	         "controller.dpo needs a contact (email, phone or address)"},
	        {"  dpo: {name: D, email: dpo@example.dk}\n", "  dpo: D\n",
	         "controller: dpo must be a mapping"},
	        {"    subjects: [Kunder, Leverandører]\n", "    subjects: []\n",
	         "purpose 'p': subjects must not be empty"},
	        {"security: [\"=1+1\", Kryptering]\n", "security: {a: b}\n",
	         "the policy: security must be a list"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy_diags *d = calloc(1, sizeof(*d));
		struct policy *p = NULL;
		char text[sizeof(policy_text) + 64];
		const char *at = strstr(policy_text, cases[i].from);
		int n;

		assert_non_null(d);
		assert_non_null(at);
		n = snprintf(text, sizeof(text), "%.*s%s%s",
		             (int)(at - policy_text), policy_text, cases[i].to,
		             at + strlen(cases[i].from));
		assert_true(n > 0 && (size_t)n < sizeof(text));
		assert_int_equal(policy_load_buffer(text, (size_t)n, &p, d),
		                 VAERN_E_INVALID);
		assert_null(p);
		assert_true(d->count >= 1);
		assert_true(d->items[0].line > 0);
		if (strstr(d->items[0].message, cases[i].want) == NULL)
			fail_msg("case %zu: '%s'", i, d->items[0].message);
		free(d);
	}
}

/* Issue 20, point 2: what the chart draws, bar by bar, and what it calls
 * out; a rule name is escaped; an empty plan says so. */
static void
test_chart_counts(void **state)
{
	struct render_chart_series s[2];
	struct render_chart c = {"cekura", 2026 * 12 + 2, s, 2};
	char *out = NULL;
	size_t len = 0;

	(void)state;
	memset(s, 0, sizeof(s));
	s[0].rule = "general";
	s[0].clause = "CEK-RET-1";
	s[0].month[0] = 3;
	s[0].month[23] = 1;
	s[0].undated = 7;
	s[0].held = 2;
	s[1].rule = "a<b";
	s[1].visits = 1;
	s[1].month[2] = 5;
	assert_int_equal(render_chart_svg(&c, RENDER_EN, &out, &len, NULL),
	                 VAERN_OK);
	assert_int_equal(strlen(out), len);
	assert_non_null(strstr(out, "data-rule=\"general\" data-kind=\"facts\" "
	                            "data-month=\"2026-03\" data-count=\"3\""));
	assert_non_null(strstr(out, "data-month=\"2028-02\" data-count=\"1\""));
	assert_non_null(strstr(out, "data-rule=\"a&lt;b\" data-kind=\"visits\" "
	                            "data-month=\"2026-05\" data-count=\"5\""));
	assert_null(strstr(out, "a<b"));
	assert_null(strstr(out, "<script"));
	free(out);
	assert_int_equal(render_chart_html(&c, RENDER_DA, &out, &len, NULL),
	                 VAERN_OK);
	assert_non_null(strstr(out, "data-month=\"undated\" data-count=\"7\""));
	assert_non_null(strstr(out, "data-month=\"held\" data-count=\"2\""));
	assert_non_null(strstr(out, "Sletteplan"));
	free(out);
	c.nseries = 0;
	assert_int_equal(render_chart_svg(&c, RENDER_SV, &out, &len, NULL),
	                 VAERN_OK);
	assert_non_null(strstr(out, "Inget förfaller"));
	free(out);
	c.nseries = RENDER_CHART_SERIES + 1;
	assert_int_equal(render_chart_svg(&c, RENDER_EN, &out, &len, NULL),
	                 VAERN_E_LIMIT);
	assert_null(out);
}

/* Issue 20, point 3: the colour of the days left on each side of its
 * bounds: overdue below 0, amber to 7, green after. */
static void
test_queue_colours(void **state)
{
	static const struct {
		long days;
		const char *cls;
	} cases[] = {
	        {-30, "over"}, {-1, "over"}, {0, "soon"},
	        {7, "soon"},   {8, "ok"},    {31, "ok"},
	};
	char want[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct render_queue *q =
		        render_queue_begin("cekura", 20514, RENDER_EN);
		struct render_queue_row r = {
		        "8500dcca-5325-4806-89eb-40b339b40655",
		        "access",
		        "received",
		        "email",
		        20500,
		        20514 + cases[i].days,
		        cases[i].days,
		        0,
		        1};
		char *out = NULL;
		size_t len = 0;

		render_queue_row(q, &r);
		assert_int_equal(render_queue_end(q, &out, &len, NULL),
		                 VAERN_OK);
		(void)snprintf(want, sizeof(want),
		               "<tr class=\"%s\" data-days-left=\"%ld\">",
		               cases[i].cls, cases[i].days);
		assert_non_null(strstr(out, want));
		assert_non_null(strstr(out, "1 requests"));
		free(out);
	}
}

/* Issue 20, point 4: the console page's table: no document around it, no
 * style block (the console's style sheet), each id a link to its page,
 * escaped. */
static void
test_queue_table(void **state)
{
	struct render_queue *q = render_queue_begin_table(
	        "/console/cekura/requests", 20514, RENDER_DA);
	struct render_queue_row r = {"8500dcca-5325-4806-89eb-40b339b40655",
	                             "erasure",
	                             "received",
	                             "email",
	                             20500,
	                             20510,
	                             -4,
	                             1,
	                             0};
	char *out = NULL;
	size_t len = 0;

	(void)state;
	render_queue_row(q, &r);
	assert_int_equal(render_queue_end(q, &out, &len, NULL), VAERN_OK);
	assert_int_equal(strncmp(out, "<table id=\"queue\">", 18), 0);
	assert_null(strstr(out, "<style"));
	assert_null(strstr(out, "<html"));
	assert_null(strstr(out, "</html>"));
	assert_non_null(strstr(out, "<a href=\"/console/cekura/requests/"
	                            "8500dcca-5325-4806-89eb-40b339b40655\">"));
	assert_non_null(
	        strstr(out, "<tr class=\"over\" data-days-left=\"-4\">"));
	free(out);
}

/* The console's CSP allows its own style block, and forms to itself. */
static void
test_console_csp(void **state)
{
	char a[RENDER_CSP_MAX], b[RENDER_CSP_MAX];

	(void)state;
	render_csp(a);
	render_console_csp(b);
	assert_string_not_equal(a, b);
	assert_non_null(strstr(b, "default-src 'none'; style-src 'sha256-"));
	assert_non_null(strstr(b, "form-action 'self'"));
	assert_null(strstr(b, "script"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_retention_words),
	        cmocka_unit_test(test_parsers),
	        cmocka_unit_test(test_csp),
	        cmocka_unit_test(test_new_keys_gdpr_30),
	        cmocka_unit_test(test_new_keys_refused),
	        cmocka_unit_test(test_chart_counts),
	        cmocka_unit_test(test_queue_colours),
	        cmocka_unit_test(test_queue_table),
	        cmocka_unit_test(test_console_csp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
