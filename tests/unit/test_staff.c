/*
 * test_staff.c -- table-driven tests of the staff console's credentials
 * (issue 20, point 1; GDPR-32: access control): the RFC 6238 test vectors
 * through liboath, the window and the time step a code belongs to, the
 * password rules and argon2id, the otpauth URI, the QR code as SVG.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "staff/staff.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* RFC 6238 Appendix B: the seeds and the 8-digit codes of each time. */
static void
test_GDPR_32_rfc6238_vectors(void **state)
{
	static const char seed20[] = "12345678901234567890";
	static const char seed32[] = "12345678901234567890123456789012";
	static const char seed64[] = "1234567890123456789012345678901234567890"
	                             "123456789012345678901234";
	static const struct {
		int64_t t;
		const char *sha1, *sha256, *sha512;
	} cases[] = {
	        {59, "94287082", "46119246", "90693936"},
	        {1111111109, "07081804", "68084774", "25091201"},
	        {1111111111, "14050471", "67062674", "99943326"},
	        {1234567890, "89005924", "91819424", "93441116"},
	        {2000000000, "69279037", "90698825", "38618901"},
	        {20000000000, "65353130", "77737706", "47863826"},
	};
	char code[STAFF_CODE_MAX + 1];

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		assert_int_equal(staff_totp_code((const unsigned char *)seed20,
		                                 20, cases[i].t, 30, 8,
		                                 STAFF_SHA1, code, NULL),
		                 VAERN_OK);
		assert_string_equal(code, cases[i].sha1);
		assert_int_equal(staff_totp_code((const unsigned char *)seed32,
		                                 32, cases[i].t, 30, 8,
		                                 STAFF_SHA256, code, NULL),
		                 VAERN_OK);
		assert_string_equal(code, cases[i].sha256);
		assert_int_equal(staff_totp_code((const unsigned char *)seed64,
		                                 64, cases[i].t, 30, 8,
		                                 STAFF_SHA512, code, NULL),
		                 VAERN_OK);
		assert_string_equal(code, cases[i].sha512);
	}
	/* What liboath refuses, refused. */
	assert_int_equal(staff_totp_code((const unsigned char *)seed20, 20, 59,
	                                 30, 5, STAFF_SHA1, code, NULL),
	                 VAERN_E_INVALID);
}

/* A code is good in its own step and one step either side (clock drift),
 * and the step it belongs to is reported (the caller refuses a replay). */
static void
test_GDPR_32_totp_window_and_step(void **state)
{
	unsigned char secret[STAFF_TOTP_SECRET];
	char code[STAFF_CODE_MAX + 1], wrong[STAFF_CODE_MAX + 1];
	const int64_t t = 1767225600; /* 2026-01-01, a step boundary */
	static const struct {
		int64_t at; /* checked at t + at, code made at t */
		int good;
	} cases[] = {
	        {0, 1},   {29, 1}, {-1, 1},  {30, 1}, {59, 1},
	        {-30, 1}, {60, 0}, {-31, 0}, {90, 0}, {-60, 0},
	};
	int64_t step;

	(void)state;
	staff_totp_secret_new(secret);
	assert_int_equal(staff_totp_code(secret, sizeof(secret), t,
	                                 STAFF_TOTP_STEP, STAFF_TOTP_DIGITS,
	                                 STAFF_SHA1, code, NULL),
	                 VAERN_OK);
	assert_int_equal(strlen(code), STAFF_TOTP_DIGITS);
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		assert_int_equal(
		        staff_totp_check(secret, t + cases[i].at, code, &step),
		        cases[i].good);
		if (cases[i].good)
			assert_int_equal(step, t / STAFF_TOTP_STEP);
	}
	/* A wrong code, a short one, letters: refused. */
	memcpy(wrong, code, sizeof(wrong));
	wrong[0] = wrong[0] == '9' ? '0' : (char)(wrong[0] + 1);
	assert_int_equal(staff_totp_check(secret, t, wrong, &step), 0);
	assert_int_equal(staff_totp_check(secret, t, "12345", &step), 0);
	assert_int_equal(staff_totp_check(secret, t, "12a456", &step), 0);
	assert_int_equal(staff_totp_check(secret, t, "", &step), 0);
	assert_int_equal(step, -1);
}

static void
test_GDPR_32_password_rules(void **state)
{
	static const struct {
		const char *pw;
		enum vaern_err want;
	} cases[] = {
	        {"correct horse", VAERN_OK},
	        {"123456789012", VAERN_OK}, /* 12 bytes: the least */
	        {"12345678901", VAERN_E_INVALID},
	        {"", VAERN_E_INVALID},
	        {"tab\tinside is bad", VAERN_E_INVALID},
	        {"newline\ninside bad", VAERN_E_INVALID},
	        {"bad utf8 \xff\xfe here", VAERN_E_INVALID},
	        {"rødgrød med fløde", VAERN_OK},
	};
	char longest[STAFF_PASSWORD_MAX + 2];
	struct vaern_msg msg = {{0}};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		assert_int_equal(staff_password_check(cases[i].pw,
		                                      strlen(cases[i].pw),
		                                      &msg),
		                 cases[i].want);
		/* The message names the rule, never the password. */
		if (cases[i].want != VAERN_OK && cases[i].pw[0] != '\0')
			assert_null(strstr(msg.text, cases[i].pw));
	}
	memset(longest, 'a', sizeof(longest));
	longest[STAFF_PASSWORD_MAX] = '\0';
	assert_int_equal(
	        staff_password_check(longest, STAFF_PASSWORD_MAX, NULL),
	        VAERN_OK);
	longest[STAFF_PASSWORD_MAX] = 'a';
	longest[STAFF_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(
	        staff_password_check(longest, STAFF_PASSWORD_MAX + 1, NULL),
	        VAERN_E_INVALID);
}

static void
test_GDPR_32_password_argon2id(void **state)
{
	char hash[STAFF_HASH_MAX], again[STAFF_HASH_MAX];
	const char *pw = "correct horse battery";

	(void)state;
	assert_int_equal(staff_password_hash(pw, strlen(pw), hash, NULL),
	                 VAERN_OK);
	assert_non_null(strstr(hash, "$argon2id$"));
	assert_null(strstr(hash, pw));
	assert_int_equal(staff_password_verify(hash, pw, strlen(pw)), 1);
	assert_int_equal(staff_password_verify(hash, pw, strlen(pw) - 1), 0);
	assert_int_equal(staff_password_verify(hash, "Correct horse battery",
	                                       strlen(pw)),
	                 0);
	/* A salt of its own each time. */
	assert_int_equal(staff_password_hash(pw, strlen(pw), again, NULL),
	                 VAERN_OK);
	assert_string_not_equal(hash, again);
	/* Not an argon2id string: no match. */
	assert_int_equal(staff_password_verify("$argon2i$v=19$m=65536,t=2,p=1$",
	                                       pw, strlen(pw)),
	                 0);
	assert_int_equal(staff_password_verify("", pw, strlen(pw)), 0);
}

static void
test_GDPR_32_otpauth_uri(void **state)
{
	unsigned char secret[STAFF_TOTP_SECRET];
	char uri[STAFF_URI_MAX], label[STAFF_LABEL_MAX + 2];

	(void)state;
	memcpy(secret, "12345678901234567890", STAFF_TOTP_SECRET);
	assert_int_equal(
	        staff_otpauth_uri("vaern cekura", "dpo@x", secret, uri, NULL),
	        VAERN_OK);
	/* RFC 4648 base32 of the RFC 6238 seed, without padding. */
	assert_string_equal(uri, "otpauth://totp/vaern%20cekura:dpo%40x?"
	                         "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	                         "&issuer=vaern%20cekura&algorithm=SHA1"
	                         "&digits=6&period=30");
	memset(label, 'a', sizeof(label));
	label[STAFF_LABEL_MAX + 1] = '\0';
	assert_int_equal(staff_otpauth_uri(label, "x", secret, uri, NULL),
	                 VAERN_E_INVALID);
	assert_int_equal(staff_otpauth_uri("", "x", secret, uri, NULL),
	                 VAERN_E_INVALID);
}

static void
test_GDPR_32_qr_svg(void **state)
{
	char *svg = NULL;
	size_t len = 0;
	char big[8000];

	(void)state;
	assert_int_equal(
	        staff_qr_svg("otpauth://totp/x:y?secret=ABC", &svg, &len, NULL),
	        VAERN_OK);
	assert_int_equal(strlen(svg), len);
	assert_true(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"",
	                    39) == 0);
	assert_non_null(strstr(svg, "<path fill=\"#000\" d=\"M"));
	assert_null(strstr(svg, "<script"));
	assert_non_null(strstr(svg, "</svg>\n"));
	free(svg);
	/* More than a QR code holds: refused. */
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(staff_qr_svg(big, &svg, &len, NULL), VAERN_E_LIMIT);
	assert_null(svg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_GDPR_32_rfc6238_vectors),
	        cmocka_unit_test(test_GDPR_32_totp_window_and_step),
	        cmocka_unit_test(test_GDPR_32_password_rules),
	        cmocka_unit_test(test_GDPR_32_password_argon2id),
	        cmocka_unit_test(test_GDPR_32_otpauth_uri),
	        cmocka_unit_test(test_GDPR_32_qr_svg),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
