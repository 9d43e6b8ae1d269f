/*
 * test_keys.c -- unit tests of the key sources and the key hierarchy's
 * building blocks (src/keys; issue 13, GDPR-32). Table-driven. The
 * rotation, backups and restores are driven through the real binary in
 * tests/cli/test_keys.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "../../src/keys/keys.h"
#include "../../src/store/store.h"
#include "../../src/vault/vault.h"

#define HEX64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define HEXFF "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define HEXEE "ee112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

struct file_case {
	const char *content; /* written as is */
	mode_t mode;
	enum vaern_err want;
	const char *says; /* in the message, or NULL */
};

static const struct file_case file_cases[] = {
        {HEX64 "\n", 0600, VAERN_OK, NULL},
        {HEX64, 0600, VAERN_OK, NULL},
        {HEX64 "\n", 0400, VAERN_OK, NULL},
        {HEX64 "\n", 0640, VAERN_E_DENIED, "group or others"},
        {HEX64 "\n", 0604, VAERN_E_DENIED, "group or others"},
        {"0011", 0600, VAERN_E_INVALID, "malformed key"},
        {HEX64 "0\n", 0600, VAERN_E_INVALID, "malformed key"},
        {HEX64 "\n\n", 0600, VAERN_E_INVALID, "malformed key"},
        {"zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
         0600, VAERN_E_INVALID, "malformed key"},
        {"", 0600, VAERN_E_INVALID, "malformed key"},
};

/* GDPR-32: a key file is 64 hex digits (and a newline), the user's, and
 * no one else's to read. */
static void
test_key_file_GDPR_32(void **state)
{
	char dir[] = "/tmp/vaern-keys-XXXXXX", path[64];
	unsigned char *key = sodium_malloc(KEYS_BYTES);

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k", dir);
	for (size_t i = 0; i < sizeof(file_cases) / sizeof(file_cases[0]);
	     i++) {
		const struct file_case *c = &file_cases[i];
		struct vaern_msg msg = {{0}};
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(c->content, f);
		fclose(f);
		assert_int_equal(chmod(path, c->mode), 0);
		assert_int_equal(keys_file_read(path, key, &msg), c->want);
		if (c->says != NULL)
			assert_non_null(strstr(msg.text, c->says));
		/* a key is never echoed */
		assert_null(strstr(msg.text, "00112233"));
		unlink(path);
	}
	{
		struct vaern_msg msg = {{0}};

		assert_int_equal(keys_file_read(path, key, &msg),
		                 VAERN_E_NOTFOUND);
	}
	rmdir(dir);
	sodium_free(key);
}

struct command_case {
	const char *command;
	enum vaern_err want;
	const char *says;
};

static const struct command_case command_cases[] = {
        {"echo " HEX64, VAERN_OK, NULL},
        {"printf %s " HEX64, VAERN_OK, NULL},
        {"echo " HEX64 "; echo more", VAERN_E_INVALID, "printed no key"},
        {"exit 9", VAERN_E_INVALID, "exit status 9"},
        {"echo " HEX64 "; exit 1", VAERN_E_INVALID, "exit status 1"},
        {"echo not-a-key", VAERN_E_INVALID, "printed no key"},
        {"head -c 100000 /dev/zero", VAERN_E_INVALID, "command failed"},
        {"true", VAERN_E_INVALID, "printed no key"},
};

/* GDPR-32: a command that prints the key (a KMS, an HSM, systemd-creds). */
static void
test_key_command_GDPR_32(void **state)
{
	unsigned char *key = sodium_malloc(KEYS_BYTES);

	(void)state;
	for (size_t i = 0; i < sizeof(command_cases) / sizeof(command_cases[0]);
	     i++) {
		const struct command_case *c = &command_cases[i];
		struct vaern_msg msg = {{0}};

		assert_int_equal(keys_command_read(c->command, key, &msg),
		                 c->want);
		if (c->says != NULL)
			assert_non_null(strstr(msg.text, c->says));
		if (c->want == VAERN_OK)
			assert_int_equal(key[1], 0x11);
		assert_null(strstr(msg.text, "not-a-key"));
	}
	sodium_free(key);
}

/* The sources in their order: command, then the key itself, then a file
 * elsewhere, then DIR/master.key. */
static void
test_key_source_order_GDPR_32(void **state)
{
	char dir[] = "/tmp/vaern-keys-XXXXXX", path[64],
	     source[KEYS_SOURCE_MAX];
	unsigned char *key = sodium_malloc(KEYS_BYTES);
	struct vaern_msg msg = {{0}};
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, KEYS_FILE);
	assert_int_equal(keys_file_create(path, NULL, &msg), VAERN_OK);
	assert_int_equal(keys_file_create(path, NULL, &msg), VAERN_E_EXISTS);
	assert_true(keys_source_is_default());
	assert_int_equal(keys_master_load(dir, key, source, &msg), VAERN_OK);
	assert_string_equal(source, KEYS_FILE);
	snprintf(path, sizeof(path), "%s/other", dir);
	f = fopen(path, "w");
	fputs(HEX64 "\n", f);
	fclose(f);
	chmod(path, 0600);
	setenv(KEYS_ENV_FILE, path, 1);
	assert_false(keys_source_is_default());
	assert_int_equal(keys_master_load(dir, key, source, &msg), VAERN_OK);
	assert_string_equal(source, "the key file");
	assert_int_equal(key[0], 0x00);
	setenv(KEYS_ENV_HEX, HEXFF, 1);
	assert_int_equal(keys_master_load(dir, key, source, &msg), VAERN_OK);
	assert_string_equal(source, KEYS_ENV_HEX);
	assert_int_equal(key[0], 0xff);
	setenv(KEYS_ENV_COMMAND, "echo " HEXEE, 1);
	assert_int_equal(keys_master_load(dir, key, source, &msg), VAERN_OK);
	assert_string_equal(source, "the master key command");
	assert_int_equal(key[0], 0xee);
	setenv(KEYS_ENV_HEX, "12", 1);
	unsetenv(KEYS_ENV_COMMAND);
	assert_int_equal(keys_master_load(dir, key, source, &msg),
	                 VAERN_E_INVALID);
	unsetenv(KEYS_ENV_HEX);
	unsetenv(KEYS_ENV_FILE);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, KEYS_FILE);
	unlink(path);
	assert_int_equal(keys_master_load(dir, key, source, &msg),
	                 VAERN_E_NOTFOUND);
	rmdir(dir);
	sodium_free(key);
}

/* A wrapped key is bound to its row: the associated data of each kind
 * differs with every field and between kinds. */
static void
test_associated_data_binds_the_row(void **state)
{
	unsigned char a[KEYS_AD_MAX], b[KEYS_AD_MAX], uid[16] = {1, 2, 3};
	size_t na, nb;
	char h1[KEYS_HEX + 1], h2[KEYS_HEX + 1];
	unsigned char k1[KEYS_BYTES] = {1}, k2[KEYS_BYTES] = {2};

	(void)state;
	na = keys_ad_subject(a, uid, 1);
	nb = keys_ad_subject(b, uid, 2);
	assert_true(na == nb && memcmp(a, b, na) != 0);
	na = keys_ad_day(a, 1, 100);
	nb = keys_ad_day(b, 1, 101);
	assert_true(na == nb && memcmp(a, b, na) != 0);
	nb = keys_ad_subject(b, uid, 1);
	assert_true(na != nb || memcmp(a, b, na) != 0);
	na = keys_ad_root(a, KEYS_ROOT_INDEX);
	nb = keys_ad_root(b, "audit_mac");
	assert_true(na != nb || memcmp(a, b, na) != 0);
	/* the check value: one per key, and the same each time */
	keys_check_value(k1, h1);
	keys_check_value(k2, h2);
	assert_string_not_equal(h1, h2);
	keys_check_value(k1, h2);
	assert_string_equal(h1, h2);
}

/* Opens the store and ring of dir. */
static void
open_ring(const char *dir, struct store **st, struct keys_ring **r)
{
	struct vaern_msg msg = {{0}};
	char path[96];

	snprintf(path, sizeof(path), "%s/vaern.db", dir);
	assert_int_equal(store_open_sqlite(path, 0, st, &msg), VAERN_OK);
	assert_int_equal(keys_ring_open(*st, dir, r, &msg), VAERN_OK);
}

/* GDPR-32: a named root key (the audit MAC key's place) is made once,
 * read back the same, re-wrapped by a rotation and never changed by it;
 * the retired master key opens nothing afterwards. */
static void
test_root_key_survives_rotation_GDPR_32(void **state)
{
	char dir[] = "/tmp/vaern-keys-XXXXXX", cmd[64];
	unsigned char *k1 = sodium_malloc(KEYS_BYTES);
	unsigned char *k2 = sodium_malloc(KEYS_BYTES);
	struct vaern_msg msg = {{0}};
	struct keys_rotate_opts o;
	struct keys_rotate_report rep;
	struct store *st = NULL;
	struct keys_ring *r = NULL;
	struct vault *v = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(vault_init(dir, &msg), VAERN_OK);
	open_ring(dir, &st, &r);
	assert_int_equal(keys_ring_newest(r), 1);
	assert_int_equal(store_begin(st, &msg), VAERN_OK);
	assert_int_equal(keys_root_get(r, st, "audit_mac", 1, k1, &msg),
	                 VAERN_OK);
	assert_int_equal(store_commit(st, &msg), VAERN_OK);
	assert_int_equal(keys_root_get(r, st, "audit_mac", 0, k2, &msg),
	                 VAERN_OK);
	assert_memory_equal(k1, k2, KEYS_BYTES);
	assert_int_equal(keys_root_get(r, st, "nosuch", 0, k2, &msg),
	                 VAERN_E_NOTFOUND);
	keys_ring_free(r);
	store_close(st);

	memset(&o, 0, sizeof(o));
	assert_int_equal(keys_rotate(dir, &o, &rep, &msg), VAERN_OK);
	assert_int_equal(rep.from_gen, 1);
	assert_int_equal(rep.to_gen, 2);
	assert_int_equal(rep.rewrapped, 2); /* the index root, audit_mac */
	assert_true(rep.key_file_renamed);
	open_ring(dir, &st, &r);
	assert_int_equal(keys_ring_newest(r), 2);
	memset(k2, 0, KEYS_BYTES);
	assert_int_equal(keys_root_get(r, st, "audit_mac", 0, k2, &msg),
	                 VAERN_OK);
	assert_memory_equal(k1, k2, KEYS_BYTES);
	keys_ring_free(r);
	store_close(st);
	assert_int_equal(vault_open(dir, &v, &msg), VAERN_OK);
	vault_close(v);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	sodium_free(k1);
	sodium_free(k2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_key_file_GDPR_32),
	        cmocka_unit_test(test_key_command_GDPR_32),
	        cmocka_unit_test(test_key_source_order_GDPR_32),
	        cmocka_unit_test(test_associated_data_binds_the_row),
	        cmocka_unit_test(test_root_key_survives_rotation_GDPR_32),
	};

	if (sodium_init() < 0)
		return 1;
	unsetenv(KEYS_ENV_COMMAND);
	unsetenv(KEYS_ENV_HEX);
	unsetenv(KEYS_ENV_FILE);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
