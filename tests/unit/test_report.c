/*
 * test_report.c -- the person's reports (src/report/), from a fixture
 * policy and hand-made facts: GDPR-15 (only the categories the person has
 * data in; purposes, legal basis, source, the date each fact goes; valid
 * JSON whatever the values hold), GDPR-20 (the portable copy holds only
 * what the person provided under consent or contract; CSV that no
 * spreadsheet runs as a formula), and the HTML page escapes every value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

#define T0 1767225600LL /* 2026-01-01T00:00:00Z */

static struct policy *
fixture(void)
{
	struct policy_diags *d = calloc(1, sizeof(*d));
	struct policy *p = NULL;
	char path[1024];
	const char *root = getenv("VAERN_SOURCE_ROOT");

	snprintf(path, sizeof(path), "%s/tests/fixtures/vault-test.yaml",
	         root ? root : ".");
	assert_non_null(d);
	assert_int_equal(policy_load_file(path, &p, d), VAERN_OK);
	free(d);
	return p;
}

static const struct report_fact facts[] = {
        {1, "name", "customer_admin", T0, T0 + 86400 * 400, 1,
         "Anna \"A\" Hansen\n<b>&", "subject"},
        {2, "email", "newsletter", T0, REPORT_NEVER, 1, "anna@example.dk",
         "web_form"},
        {3, "notes", "customer_admin", T0, INT64_MIN, 0,
         "=HYPERLINK(\"http://x\")", NULL},
        {4, "credit_rating", "customer_admin", T0, REPORT_NEVER, 0, "A",
         "credit_agency"},
        {5, "notes", "customer_admin", T0, REPORT_NEVER, 1, "-2+3, \"q\"",
         "phone"},
};
#define NFACTS (sizeof(facts) / sizeof(facts[0]))

/* GDPR-15, issue 10: how long a category is kept, in words, per
 * language, from the seed policies' own rules; never empty. */
static void
test_retention_words_GDPR_15(void **state)
{
	static const struct {
		const char *seed, *category, *lang, *want[3];
	} cases[] = {
	        {"cekura.yaml",
	         "name",
	         "da",
	         {"2 måneder efter det seneste af: ", "Du er stoppet som kunde",
	          "de blev indsamlet"}},
	        {"cekura.yaml",
	         "name",
	         "en",
	         {"2 months after the latest of: ", "it was collected; ",
	          "your latest contact with us"}},
	        {"cekura.yaml",
	         "payment_details",
	         "sv",
	         {"2 månader efter", "5 år efter räkenskapsårets slut",
	          "(Bogføringsloven § 10). Det senaste av dessa gäller."}},
	        {"telenor.yaml",
	         "logging_data",
	         "da",
	         {"1 år efter de blev indsamlet", "(Logningsbekendtgørelsen)",
	          "1 år"}},
	        {"webshop.yaml",
	         "newsletter_email",
	         "en",
	         {"0 days after your unsubscribing from the newsletter",
	          "0 days", "unsubscribing"}},
	};
	const char *root = getenv("VAERN_SOURCE_ROOT");
	size_t failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy_diags *d = calloc(1, sizeof(*d));
		struct policy *p = NULL;
		char path[1024], out[REPORT_RETENTION_WORDS_MAX];
		long ci;

		snprintf(path, sizeof(path), "%s/policies/%s",
		         root ? root : ".", cases[i].seed);
		assert_non_null(d);
		assert_int_equal(policy_load_file(path, &p, d), VAERN_OK);
		ci = policy_category_index(p, cases[i].category);
		assert_true(ci >= 0);
		assert_true(report_retention_words(p, (size_t)ci, cases[i].lang,
		                                   out, sizeof(out)) > 0);
		for (size_t k = 0; k < 3; k++) {
			if (strstr(out, cases[i].want[k]) == NULL) {
				print_message(
				        "FAIL %s/%s/%s: '%s' not in '%s'\n",
				        cases[i].seed, cases[i].category,
				        cases[i].lang, cases[i].want[k], out);
				failures++;
			}
		}
		/* A short buffer is cut, never overrun. */
		assert_true(report_retention_words(p, (size_t)ci, cases[i].lang,
		                                   out, 8) < 8);
		assert_int_equal(
		        report_retention_words(p, 9999, "en", out, sizeof(out)),
		        0);
		policy_free(p);
		free(d);
	}
	assert_int_equal(failures, 0);
}

static struct report_input
input(const struct policy *p)
{
	static const struct report_use uses[] = {
	        {7, T0 + 60, "customer_service", "customer_admin", "read",
	         "name,email", 1, "GDPR-32"},
	};
	struct report_input in = {p,         "00112233445566778899aabbccddeeff",
	                          T0 + 3600, facts,
	                          NFACTS,    NULL,
	                          0,         uses,
	                          1,         NULL,
	                          NULL,      NULL,
	                          0,         NULL};

	return in;
}

/* GDPR-15, TEL-CAT-3: the categories the person has data in and no other,
 * each with its source, purposes and legal basis, and each fact's end. */
static void
test_access_json_GDPR_15_TEL_CAT_3(void **state)
{
	struct policy *p = fixture();
	struct report_input in = input(p);
	json_error_t jerr;
	size_t len = 0, i;
	char *s = report_access_json(&in, &len);
	json_t *doc, *c, *cats, *f;
	int seen_name = 0;

	(void)state;
	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	doc = json_loads(s, 0, &jerr); /* valid JSON whatever the values */
	assert_non_null(doc);
	cats = json_object_get(doc, "categories");
	assert_int_equal(json_array_size(cats), 4); /* name email notes cr */
	json_array_foreach(cats, i, c)
	{
		const char *id =
		        json_string_value(json_object_get(c, "category"));

		assert_string_not_equal(id, "health");
		assert_string_not_equal(id, "phone");
		assert_true(json_array_size(json_object_get(c, "purposes")) >
		            0);
		if (strcmp(id, "credit_rating") == 0)
			assert_string_equal(
			        json_string_value(json_object_get(c, "source")),
			        "third_party");
		if (strcmp(id, "name") == 0) {
			seen_name = 1;
			f = json_array_get(json_object_get(c, "facts"), 0);
			assert_string_equal(
			        json_string_value(json_object_get(f, "value")),
			        "Anna \"A\" Hansen\n<b>&");
			/* 400 days after 2026-01-01. */
			assert_string_equal(json_string_value(json_object_get(
			                            f, "deleted_by")),
			                    "2027-02-05");
		}
	}
	assert_true(seen_name);
	assert_int_equal(json_array_size(json_object_get(doc, "processing")),
	                 1);
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_object_get(json_object_get(doc, "controller"),
	                                "authority"),
	                "name")),
	        p->controller.authority_name);
	json_decref(doc);
	free(s);
	policy_free(p);
}

/* GDPR-20: only provided facts under consent or contract. */
static void
test_portable_GDPR_20(void **state)
{
	struct policy *p = fixture();
	struct report_input in = input(p);
	json_t *doc = report_portable(&in), *d;
	size_t len = 0;
	char *csv = report_portable_csv(&in, &len);

	(void)state;
	assert_non_null(doc);
	d = json_object_get(doc, "data");
	assert_int_equal(json_array_size(d), 3); /* facts 1, 2 and 5 */
	assert_non_null(csv);
	assert_int_equal(strlen(csv), len);
	assert_true(strncmp(csv, "category,value,purpose,collected_at\r\n",
	                    37) == 0);
	/* Quotes doubled, the line break kept inside quotes. */
	assert_non_null(strstr(csv, "\"Anna \"\"A\"\" Hansen\n<b>&\""));
	/* Not a formula: a leading - is quoted behind a '. */
	assert_non_null(strstr(csv, "\"'-2+3, \"\"q\"\"\""));
	/* Not provided by the person: not in the copy. */
	assert_null(strstr(csv, "HYPERLINK"));
	assert_null(strstr(csv, "credit_rating"));
	json_decref(doc);
	free(csv);
	policy_free(p);
}

/* The HTML page escapes every value; the language picks the labels. */
static void
test_access_html_escapes(void **state)
{
	struct policy *p = fixture();
	struct report_input in = input(p);
	size_t len = 0;
	char *da = report_access_html(&in, "da", &len);
	char *sv = report_access_html(&in, "sv", &len);
	char *en = report_access_html(&in, "xx", &len);

	(void)state;
	assert_non_null(da);
	assert_non_null(strstr(da, "<html lang=\"da\">"));
	assert_non_null(strstr(da, "Dine personoplysninger"));
	assert_non_null(strstr(sv, "Dina personuppgifter"));
	assert_non_null(strstr(en, "Your personal data"));
	assert_null(strstr(da, "<b>&"));
	assert_non_null(strstr(da, "&quot;A&quot; Hansen\n&lt;b&gt;&amp;"));
	free(da);
	free(sv);
	free(en);
	policy_free(p);
}

/* GDPR-15, GDPR-20: a report that answers a rights request names it (the
 * same document otherwise); the bare report does not. */
static void
test_request_named(void **state)
{
	static const char id[] = "6f1ac3b2-4c1d-4e8a-9b7f-0123456789ab";
	struct policy *p = fixture();
	struct report_input in = input(p);
	size_t len = 0;
	char *bare = report_access_json(&in, &len), *named, *page;
	json_t *doc, *copy;

	(void)state;
	assert_non_null(bare);
	assert_null(strstr(bare, "\"request\""));
	in.request = id;
	in.request_type = "access";
	named = report_access_json(&in, &len);
	doc = json_loads(named, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "request")),
	                    id);
	assert_string_equal(
	        json_string_value(json_object_get(doc, "request_type")),
	        "access");
	/* Only the two fields differ. */
	json_object_del(doc, "request");
	json_object_del(doc, "request_type");
	{
		json_t *b = json_loads(bare, 0, NULL);

		assert_true(json_equal(doc, b));
		json_decref(b);
	}
	page = report_access_html(&in, "sv", &len);
	assert_non_null(strstr(page, "Din begäran"));
	assert_non_null(strstr(page, id));
	in.request_type = "portability";
	copy = report_portable(&in);
	assert_string_equal(
	        json_string_value(json_object_get(copy, "request_type")),
	        "portability");
	json_decref(copy);
	json_decref(doc);
	free(bare);
	free(named);
	free(page);
	policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_access_json_GDPR_15_TEL_CAT_3),
	        cmocka_unit_test(test_portable_GDPR_20),
	        cmocka_unit_test(test_access_html_escapes),
	        cmocka_unit_test(test_request_named),
	        cmocka_unit_test(test_retention_words_GDPR_15),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
