/*
 * test_incident.c -- table-driven tests of the incident model (issue 17):
 * screenshot magic bytes and report texts (SHOP-BREACH-1), the deadlines
 * (SHOP-BREACH-2) and the register fields (GDPR-33), escaping in the
 * exports.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdlib.h>
#include <string.h>

#include "incident/incident.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* SHOP-BREACH-1: PNG and JPEG by their bytes, nothing else. */
static void
test_SHOP_BREACH_1_image_types(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		const char *type;
	} cases[] = {
	        {"\x89PNG\r\n\x1a\n0123456789abcdefXX", 26, "image/png"},
	        {"\x89PNG\r\n\x1a\n", 8, NULL}, /* a header alone */
	        {"\xff\xd8\xff\xe0......\xff\xd9", 12, "image/jpeg"},
	        {"\xff\xd8\xff\xe0......", 10, NULL}, /* no end marker */
	        {"GIF89a0123456789012345678", 25, NULL},
	        {"<svg onload=alert(1)>", 21, NULL},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const char *t = incident_image_type(
		        (const unsigned char *)cases[i].bytes, cases[i].len);

		if (cases[i].type == NULL)
			assert_null(t);
		else
			assert_string_equal(t, cases[i].type);
	}
}

static void
test_SHOP_BREACH_1_texts(void **state)
{
	static const struct {
		const char *text;
		int required;
		enum vaern_err want;
	} cases[] = {
	        {"Andres ordrer", 1, VAERN_OK},
	        {"linje 1\nlinje 2\ttab", 1, VAERN_OK},
	        {" \n\t ", 1, VAERN_E_INVALID},
	        {"\xc2\xa0\xe2\x80\x83", 1, VAERN_E_INVALID}, /* nbsp, em sp */
	        {" \n ", 0, VAERN_OK},
	        {NULL, 1, VAERN_E_INVALID},
	        {NULL, 0, VAERN_OK},
	        {"bad \xff byte", 0, VAERN_E_INVALID},
	        {"bell \a", 0, VAERN_E_INVALID},
	};
	char *big = malloc(INCIDENT_TEXT_MAX + 2);

	(void)state;
	assert_non_null(big);
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};

		assert_int_equal(incident_text_check(cases[i].text, "f",
		                                     cases[i].required, &msg),
		                 cases[i].want);
	}
	memset(big, 'x', INCIDENT_TEXT_MAX + 1);
	big[INCIDENT_TEXT_MAX + 1] = '\0';
	{
		struct vaern_msg msg = {{0}};

		assert_int_equal(incident_text_check(big, "f", 1, &msg),
		                 VAERN_E_LIMIT);
		big[INCIDENT_TEXT_MAX] = '\0';
		assert_int_equal(incident_text_check(big, "f", 1, &msg),
		                 VAERN_OK);
	}
	free(big);
}

/* SHOP-BREACH-2: 2 working days in DK and SE, the feedback 2 weeks. */
static void
test_SHOP_BREACH_2_deadlines(void **state)
{
	static const struct {
		const char *country, *received, *receipt, *feedback;
	} cases[] = {
	        {"DK", "2026-12-07", "2026-12-09", "2026-12-21"},
	        {"DK", "2026-12-24", "2026-12-29", "2027-01-07"},
	        {"DK", "2026-04-01", "2026-04-08", "2026-04-15"}, /* Easter */
	        {"SE", "2026-04-01", "2026-04-07", "2026-04-15"},
	        {"SE", "2026-12-23", "2026-12-29", "2027-01-06"},
	        {"SE", "2026-06-18", "2026-06-23",
	         "2026-07-02"}, /* Midsummer */
	        {"DK", "2026-12-04", "2026-12-08", "2026-12-18"}, /* a Friday */
	};
	struct policy p;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};
		long day, want;

		memset(&p, 0, sizeof(p));
		memcpy(p.controller.country, cases[i].country, 3);
		p.incidents.receipt_working_days = 2;
		p.incidents.feedback.count = 2;
		p.incidents.feedback.unit = PERIOD_WEEKS;
		assert_int_equal(cal_parse_date(cases[i].received, &day, &msg),
		                 VAERN_OK);
		assert_int_equal(cal_parse_date(cases[i].receipt, &want, &msg),
		                 VAERN_OK);
		assert_int_equal(incident_receipt_due(&p, day), want);
		assert_int_equal(cal_parse_date(cases[i].feedback, &want, &msg),
		                 VAERN_OK);
		assert_int_equal(incident_feedback_due(&p, day), want);
	}
}

/* GDPR-33: the register fields, and a refused merge changes nothing. */
static void
test_GDPR_33_register_merge(void **state)
{
	static const struct {
		const char *patch;
		enum vaern_err want;
	} cases[] = {
	        {"{\"classification\": \"weakness\"}", VAERN_OK},
	        {"{\"classification\": \"bad\"}", VAERN_E_INVALID},
	        {"{\"aware_at\": \"2026-12-07T12:00:00Z\"}", VAERN_OK},
	        {"{\"aware_at\": \"2026-12-07T12:00:01Z\"}", VAERN_E_INVALID},
	        {"{\"nature\": [\"integrity\"]}", VAERN_OK},
	        {"{\"nature\": [\"secrecy\"]}", VAERN_E_INVALID},
	        {"{\"risk\": \"high\"}", VAERN_OK},
	        {"{\"subjects_approx\": -1}", VAERN_E_INVALID},
	        {"{\"notify\": true}", VAERN_E_INVALID},
	        {"{\"notify\": true, \"notify_reason\": \"x\"}", VAERN_OK},
	        {"{\"notify\": true, \"notify_reason\": \"x\", \"aware_at\":"
	         " \"2026-12-01T00:00:00Z\", \"notified_at\":"
	         " \"2026-12-04T00:00:00Z\"}",
	         VAERN_OK},
	        {"{\"notify\": true, \"notify_reason\": \"x\", \"aware_at\":"
	         " \"2026-12-01T00:00:00Z\", \"notified_at\":"
	         " \"2026-12-04T00:00:01Z\"}",
	         VAERN_E_INVALID},
	        {"{\"consequences\": \"  \"}", VAERN_E_INVALID},
	        {"{\"nope\": 1}", VAERN_E_INVALID},
	        {"{}", VAERN_E_INVALID},
	};
	struct policy p;
	int64_t now = 1796644800; /* 2026-12-07T12:00:00Z */

	(void)state;
	memset(&p, 0, sizeof(p));
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};
		json_t *reg = json_object(),
		       *patch = json_loads(cases[i].patch, 0, NULL);

		assert_non_null(patch);
		assert_int_equal(
		        incident_register_merge(&p, reg, patch, now, &msg),
		        cases[i].want);
		if (cases[i].want != VAERN_OK)
			assert_int_equal(json_object_size(reg), 0);
		json_decref(patch);
		json_decref(reg);
	}
}

static void
test_GDPR_33_exports_escape(void **state)
{
	json_t *list = json_pack("[{s:s, s:s, s:s}]", "case", "SB-X",
	                         "consequences", "<script>\"x\"</script>",
	                         "measures_taken", "=HYPERLINK(1)");
	char *csv, *html;

	(void)state;
	csv = incident_register_csv(list);
	html = incident_register_html(list, "A & B");
	assert_non_null(csv);
	assert_non_null(html);
	assert_null(strstr(html, "<script"));
	assert_non_null(strstr(html, "&lt;script&gt;&quot;x&quot;"));
	assert_non_null(strstr(html, "A &amp; B"));
	assert_non_null(strstr(csv, "\"'=HYPERLINK(1)\""));
	assert_non_null(strstr(csv, "\"<script>\"\"x\"\"</script>\""));
	free(csv);
	free(html);
	json_decref(list);
}

/* SHOP-BREACH-1: the intake page's urlencoded form. */
static void
test_SHOP_BREACH_1_form_decode(void **state)
{
	static const char *const keys[] = {"description", "where", NULL};
	static const struct {
		const char *body;
		int rc;
		const char *description, *where;
	} cases[] = {
	        {"description=a+b%3Cc%3E&where=%2Fx", 0, "a b<c>", "/x"},
	        {"description=x&where=", 0, "x", NULL},
	        {"where=y", 0, NULL, "y"},
	        {"", 0, NULL, NULL},
	        {"description=x&description=y", -1, NULL, NULL},
	        {"evil=1", -1, NULL, NULL},
	        {"description", -1, NULL, NULL},
	        {"description=%zz", -1, NULL, NULL},
	        {"description=%00", -1, NULL, NULL},
	        {"description=%4", -1, NULL, NULL},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct vaern_msg msg = {{0}};
		const char *values[3];
		char *body = strdup(cases[i].body);
		int rc;

		assert_non_null(body);
		rc = incident_form_decode(body, keys, values, &msg);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0) {
			if (cases[i].description == NULL)
				assert_null(values[0]);
			else
				assert_string_equal(values[0],
				                    cases[i].description);
			if (cases[i].where == NULL)
				assert_null(values[1]);
			else
				assert_string_equal(values[1], cases[i].where);
		} else {
			assert_non_null(strstr(msg.text, "form"));
		}
		free(body);
	}
}

/* GDPR Art. 34 (GDPR-33): the person's language, from the phone's
 * country code, else the e-mail's country domain, else the controller's. */
static void
test_GDPR_33_person_language(void **state)
{
	static const struct {
		const char *email, *phone, *fallback, *want;
	} rows[] = {
	        {NULL, "+46701234567", "da", "sv"},
	        {NULL, "+4520123456", "sv", "da"},
	        {NULL, "+447700900123", "da", "en"},
	        {"a@example.se", NULL, "da", "sv"},
	        {"a@example.DK", NULL, "sv", "da"},
	        {"a@example.co.uk", NULL, "da", "en"},
	        {"a@example.com", NULL, "da", "da"},
	        {"a@example.eu", NULL, "sv", "sv"},
	        {"a@example.info", NULL, "sv", "sv"},
	        /* The phone first: it names a country, a domain may not. */
	        {"a@example.dk", "+46701234567", "da", "sv"},
	        {NULL, NULL, "sv", "sv"},
	        {NULL, NULL, "", "en"},
	        {NULL, NULL, NULL, "en"},
	        /* Not E.164: says nothing. */
	        {NULL, "20123456", "sv", "sv"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_string_equal(incident_person_lang(rows[i].email,
		                                         rows[i].phone,
		                                         rows[i].fallback),
		                    rows[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_SHOP_BREACH_1_image_types),
	        cmocka_unit_test(test_SHOP_BREACH_1_texts),
	        cmocka_unit_test(test_SHOP_BREACH_2_deadlines),
	        cmocka_unit_test(test_GDPR_33_register_merge),
	        cmocka_unit_test(test_GDPR_33_exports_escape),
	        cmocka_unit_test(test_SHOP_BREACH_1_form_decode),
	        cmocka_unit_test(test_GDPR_33_person_language),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
