/*
 * test_vault.c -- the encrypted vault through its C API.
 *
 * Each test makes a fresh data directory under /tmp, loads
 * tests/fixtures/vault-test.yaml (controller "testshop") and works on it.
 * Clause IDs are named in the test names and comments.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "store/db.h"
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "calendar/calendar.h"
#include "keys/keys_internal.h"
#include "store/store.h"
#include "vault/vault.h"

struct fixture {
	char dir[64];
	char db[96];
	struct vault *v;
};

static const char *
source_root(void)
{
	const char *r = getenv("VAERN_SOURCE_ROOT");

	return r != NULL ? r : ".";
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vaern_msg msg = {{0}};
	struct policy_diags *d = calloc(1, sizeof(*d));
	char policy[4096];

	if (f == NULL || d == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vaern-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	rmdir(f->dir); /* vault_init creates it */
	snprintf(f->db, sizeof(f->db), "%s/%s", f->dir, VAULT_DB_FILE);
	clock_set(1767225600); /* 2026-01-01T00:00:00Z */
	assert_int_equal(vault_init(f->dir, &msg), VAERN_OK);
	assert_int_equal(vault_open(f->dir, &f->v, &msg), VAERN_OK);
	snprintf(policy, sizeof(policy), "%s/tests/fixtures/vault-test.yaml",
	         source_root());
	if (vault_policy_load(f->v, policy, d, NULL, &msg) != VAERN_OK)
		fail_msg("load: %s (%s)", msg.text,
		         d->count ? d->items[0].message : "");
	free(d);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	vault_close(f->v);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	clock_unset();
	free(f);
	return 0;
}

/* Opens the database with the keystore attached as "ks" (issue 13). */
static struct db *
open_db(struct fixture *f)
{
	struct db *db;
	char sql[160];

	snprintf(sql, sizeof(sql), "ATTACH '%s/keystore.db' AS ks", f->dir);
	assert_int_equal(
	        db_open_sqlite(f->db,
	                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 5000,
	                       &db),
	        DB_OK);
	assert_int_equal(db_exec(db, sql, NULL), DB_OK);
	return db;
}

/* Counts rows of table in the database, behind the vault's back. */
static long
rows(struct fixture *f, const char *table)
{
	struct db *db;
	struct db_stmt *s;
	char sql[128];
	long n = -1;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	db = open_db(f);
	assert_int_equal(db_prepare(db, sql, 0, &s), DB_OK);
	if (db_step(s) == DB_ROW)
		n = db_column_int64(s, 0);
	db_finalize(s);
	db_close(db);
	return n;
}

static void
exec_sql(struct fixture *f, const char *sql)
{
	struct db *db = open_db(f);

	assert_int_equal(db_exec(db, sql, NULL), DB_OK);
	db_close(db);
}

#define FACT(c, val, p)                                                        \
	{                                                                      \
		(c), (val), (p), NULL, INT64_MIN, NULL                         \
	}

static const struct vault_fact_in customer[] = {
        FACT("name", "Anna Hansen", "customer_admin"),
        FACT("address", "Eksempelvej 2, 8000 Aarhus C", "customer_admin"),
        FACT("phone", "+45 20 30 40 50", "customer_admin"),
        FACT("email", "Anna@Example.DK", "customer_admin"),
        FACT("cpr", "010190-1234", "customer_admin"),
};
#define NCUSTOMER (sizeof(customer) / sizeof(customer[0]))

static void
add_customer(struct fixture *f, unsigned char uid[VAULT_UID_BYTES])
{
	struct vaern_msg msg = {{0}};

	if (vault_subject_add(f->v, "testshop", customer, NCUSTOMER, NULL, 0,
	                      uid, &msg) != VAERN_OK)
		fail_msg("add: %s", msg.text);
}

struct collected {
	char values[16][128];
	char categories[16][64];
	int64_t collected_at[16];
	int provided[16];
	size_t n;
};

static enum vaern_err
collect(void *arg, const struct vault_fact_out *fo)
{
	struct collected *c = arg;

	assert_true(c->n < 16);
	snprintf(c->values[c->n], 128, "%s", fo->value);
	snprintf(c->categories[c->n], 64, "%s", fo->category);
	c->collected_at[c->n] = fo->collected_at;
	c->provided[c->n] = fo->provided_by_subject;
	c->n++;
	return VAERN_OK;
}

/* The audit entries of read_facts's gated reads. */
static int read_audits;

/* An audit hook that counts the entries in *(int *)arg. */
static enum vaern_err
audit_none(void *arg, const struct vault_audit_event *e, struct vaern_msg *msg)
{
	(void)e;
	(void)msg;
	(*(int *)arg)++;
	return VAERN_OK;
}

/*
 * Every fact of the subject, read as the local operator through the gate
 * (GATE_ROLE_OPERATOR, vault_subject_access): the only way a fact opens.
 * Attaches its own audit hook: a caller with another re-attaches it.
 */
/* The local operator of controller (a static actor, one at a time). */
static const struct vault_actor *
operator_of(const char *controller)
{
	static struct vault_actor a;

	memset(&a, 0, sizeof(a));
	snprintf(a.controller, sizeof(a.controller), "%s", controller);
	snprintf(a.name, sizeof(a.name), "operator:test");
	snprintf(a.role, sizeof(a.role), "operator");
	return &a;
}

static enum vaern_err
read_facts(struct vault *v, const char *controller, const unsigned char *uid,
           enum vaern_err (*fn)(void *arg, const struct vault_fact_out *fo),
           void *arg, struct vaern_msg *msg)
{
	struct vault_actor actor;
	struct vault_access acc;
	struct gate_decision d;
	enum vaern_err err;

	memset(&actor, 0, sizeof(actor));
	snprintf(actor.controller, sizeof(actor.controller), "%s", controller);
	snprintf(actor.name, sizeof(actor.name), "operator:test");
	snprintf(actor.role, sizeof(actor.role), "operator");
	memset(&acc, 0, sizeof(acc));
	acc.actor = &actor;
	acc.action = GATE_READ;
	vault_set_audit(v, audit_none, &read_audits);
	err = vault_subject_access(v, uid, &acc, fn, arg, &d, msg);
	if (err != VAERN_OK && msg != NULL)
		print_message("read_facts: %s\n", msg->text);
	return err;
}

/* GDPR-32: stored encrypted, found by identifiers in normal form. */
static void
test_add_find_show_GDPR_32(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES], found[VAULT_UID_BYTES];
	struct collected c;

	add_customer(f, uid);
	/* Another spelling of the same e-mail, phone and CPR. */
	assert_int_equal(vault_subject_find(f->v, "testshop", ID_EMAIL,
	                                    "anna@example.dk", found, &msg),
	                 VAERN_OK);
	assert_memory_equal(uid, found, VAULT_UID_BYTES);
	assert_int_equal(vault_subject_find(f->v, "testshop", ID_PHONE,
	                                    "20304050", found, &msg),
	                 VAERN_OK);
	assert_memory_equal(uid, found, VAULT_UID_BYTES);
	assert_int_equal(vault_subject_find(f->v, "testshop", ID_CPR,
	                                    "0101901234", found, &msg),
	                 VAERN_OK);
	assert_int_equal(vault_subject_find(f->v, "testshop", ID_EMAIL,
	                                    "other@example.dk", found, &msg),
	                 VAERN_E_NOTFOUND);

	memset(&c, 0, sizeof(c));
	assert_int_equal(read_facts(f->v, "testshop", uid, collect, &c, &msg),
	                 VAERN_OK);
	assert_int_equal(c.n, NCUSTOMER);
	assert_string_equal(c.values[0], "Anna Hansen");
	assert_string_equal(c.values[2], "+4520304050"); /* normal form */
	assert_string_equal(c.values[3], "anna@example.dk");
	assert_int_equal(c.collected_at[0], 1767225600); /* the clock */
	assert_int_equal(c.provided[0], 1);
	assert_int_equal(rows(f, "subject"), 1);
	assert_int_equal(rows(f, "identifier"), 3);
	assert_int_equal(rows(f, "fact"), (long)NCUSTOMER);
}

/*
 * A read snapshot (one per HTTP request): reads in it do not see another
 * connection's commit until it ends; a write on the same vault ends it
 * and succeeds.
 */
static void
test_read_snapshot(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct vault *v2 = NULL;
	unsigned char uid[VAULT_UID_BYTES], found[VAULT_UID_BYTES];
	size_t erased = 0;

	assert_int_equal(vault_open(f->dir, &v2, &msg), VAERN_OK);
	assert_int_equal(vault_read_begin(f->v, &msg), VAERN_OK);
	assert_int_equal(vault_subject_find(f->v, "testshop", ID_EMAIL,
	                                    "anna@example.dk", found, &msg),
	                 VAERN_E_NOTFOUND);
	if (vault_subject_add(v2, "testshop", customer, NCUSTOMER, NULL, 0, uid,
	                      &msg) != VAERN_OK)
		fail_msg("add: %s", msg.text);
	/* Still the snapshot taken before the add. */
	assert_int_equal(vault_subject_find(f->v, "testshop", ID_EMAIL,
	                                    "anna@example.dk", found, &msg),
	                 VAERN_E_NOTFOUND);
	vault_read_end(f->v);
	assert_int_equal(vault_subject_find(f->v, "testshop", ID_EMAIL,
	                                    "anna@example.dk", found, &msg),
	                 VAERN_OK);
	assert_memory_equal(uid, found, VAULT_UID_BYTES);

	/* A write inside a snapshot ends it and is committed. */
	assert_int_equal(vault_read_begin(f->v, &msg), VAERN_OK);
	assert_int_equal(vault_subject_exists(f->v, "testshop", uid, &msg),
	                 VAERN_OK);
	assert_int_equal(
	        vault_subject_erase(f->v, "testshop", uid, &erased, &msg),
	        VAERN_OK);
	assert_int_equal(erased, NCUSTOMER);
	vault_read_end(f->v); /* nothing left to end: a no-op */
	assert_int_equal(vault_subject_find(v2, "testshop", ID_EMAIL,
	                                    "anna@example.dk", found, &msg),
	                 VAERN_E_NOTFOUND);
	vault_close(v2);
}

/* GDPR-32: no value and no identifier is in the database file in clear. */
static void
test_nothing_in_clear_GDPR_32(void **state)
{
	struct fixture *f = *state;
	static const char *const secrets[] = {"Anna Hansen", "Eksempelvej",
	                                      "example.dk", "4520304050",
	                                      "010190"};
	unsigned char uid[VAULT_UID_BYTES];
	char path[128];

	add_customer(f, uid);
	vault_close(f->v);
	f->v = NULL;
	for (int k = 0; k < 2; k++) {
		FILE *fp;
		char *buf;
		long len;

		snprintf(path, sizeof(path), "%s%s", f->db, k ? "-wal" : "");
		if ((fp = fopen(path, "rb")) == NULL)
			continue;
		fseek(fp, 0, SEEK_END);
		len = ftell(fp);
		fseek(fp, 0, SEEK_SET);
		buf = malloc((size_t)len + 1);
		assert_non_null(buf);
		assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
		fclose(fp);
		for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]);
		     i++)
			assert_null(memmem(buf, (size_t)len, secrets[i],
			                   strlen(secrets[i])));
		free(buf);
	}
	assert_int_equal(vault_open(f->dir, &f->v, NULL), VAERN_OK);
}

/* GDPR-32: a ciphertext moved to another row does not open. */
static void
test_moved_ciphertext_fails_GDPR_32(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	struct collected c;

	add_customer(f, uid);
	vault_close(f->v);
	f->v = NULL;
	exec_sql(f, "UPDATE fact SET ct = (SELECT ct FROM fact WHERE id = 2)"
	            " WHERE id = 1");
	assert_int_equal(vault_open(f->dir, &f->v, &msg), VAERN_OK);
	memset(&c, 0, sizeof(c));
	assert_int_equal(read_facts(f->v, "testshop", uid, collect, &c, &msg),
	                 VAERN_E_CRYPTO);
	assert_null(strstr(msg.text, "Eksempelvej"));
}

/* GDPR-32: the master key file must be private. */
static void
test_key_file_mode_GDPR_32(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct vault *v2 = NULL;
	char key[96];

	snprintf(key, sizeof(key), "%s/%s", f->dir, VAULT_KEY_FILE);
	assert_int_equal(chmod(key, 0640), 0);
	assert_int_equal(vault_open(f->dir, &v2, &msg), VAERN_E_DENIED);
	assert_null(v2);
	assert_non_null(strstr(msg.text, "chmod 600"));
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(vault_open(f->dir, &v2, &msg), VAERN_OK);
	vault_close(v2);
	/* init never replaces a key */
	assert_int_equal(vault_init(f->dir, &msg), VAERN_E_EXISTS);
}

/* One bad fact among good ones: refused, and nothing is written. */
struct bad_case {
	const char *what;
	struct vault_fact_in fact; /* added to a valid customer */
	const char *consent;       /* purpose consented to, or NULL */
	enum vaern_err expect;
	const char *message; /* a substring of the message */
};

static void
test_bad_input_changes_nothing(void **state)
{
	struct fixture *f = *state;
	static const struct bad_case cases[] = {
	        {"unknown category", FACT("shoe_size", "42", "customer_admin"),
	         NULL, VAERN_E_INVALID, "no category 'shoe_size'"},
	        {"unknown purpose", FACT("name", "x", "profiling"), NULL,
	         VAERN_E_INVALID, "no purpose 'profiling'"},
	        {"purpose does not use category",
	         FACT("health", "diabetes", "customer_admin"), NULL,
	         VAERN_E_DENIED, "does not use category 'health'"},
	        {"invalid CPR", FACT("cpr", "320190-1234", "customer_admin"),
	         NULL, VAERN_E_INVALID, "not a valid cpr"},
	        {"invalid e-mail", FACT("email", "anna@", "customer_admin"),
	         NULL, VAERN_E_INVALID, "not a valid email"},
	        /* SHOP-PAY-1: never a full card number. */
	        {"card number in text",
	         FACT("notes", "card 4111 1111 1111 1111 exp 12/27",
	              "customer_admin"),
	         NULL, VAERN_E_DENIED, "SHOP-PAY-1"},
	        {"card category with the full number",
	         FACT("card", "4111111111111111", "customer_admin"), NULL,
	         VAERN_E_INVALID, "SHOP-PAY-1"},
	        {"card expiry month 13",
	         FACT("card", "1111 13/27", "customer_admin"), NULL,
	         VAERN_E_INVALID, "last 4 digits"},
	        {"not a date",
	         FACT("birth_date", "1990-02-30", "customer_admin"), NULL,
	         VAERN_E_INVALID, "not a real calendar date"},
	        /* CEK-SPECIAL-1, SHOP-SPECIAL-1: consent and from the person */
	        {"special category without consent",
	         FACT("health", "diabetes", "care"), NULL, VAERN_E_DENIED,
	         "consent"},
	        {"special category from a third party",
	         {"health", "diabetes", "care", "third_party", INT64_MIN, NULL},
	         "care",
	         VAERN_E_DENIED,
	         "must come from the person"},
	        /* GDPR-7: consent-only purpose needs the consent */
	        {"newsletter without consent",
	         FACT("email", "anna.news@example.dk", "newsletter"), NULL,
	         VAERN_E_DENIED, "rests on consent"},
	        {"collected in the future",
	         {"notes", "x", "customer_admin", NULL, 1893456000, NULL},
	         NULL,
	         VAERN_E_INVALID,
	         "future"},
	        {"control characters",
	         FACT("notes", "a\001b", "customer_admin"), NULL,
	         VAERN_E_INVALID, "UTF-8"},
	        {"not UTF-8", FACT("notes", "caf\xe9", "customer_admin"), NULL,
	         VAERN_E_INVALID, "UTF-8"},
	        {"empty value", FACT("notes", "", "customer_admin"), NULL,
	         VAERN_E_INVALID, "empty"},
	};
	unsigned char uid[VAULT_UID_BYTES];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vault_fact_in facts[NCUSTOMER + 1];
		struct vault_consent_in consent = {cases[i].consent, "web_form",
		                                   INT64_MIN};
		struct vaern_msg msg = {{0}};
		enum vaern_err err;

		memcpy(facts, customer, sizeof(customer));
		facts[NCUSTOMER] = cases[i].fact;
		err = vault_subject_add(f->v, "testshop", facts, NCUSTOMER + 1,
		                        &consent, cases[i].consent ? 1 : 0, uid,
		                        &msg);
		if (err != cases[i].expect ||
		    strstr(msg.text, cases[i].message) == NULL)
			fail_msg("%s: got %d '%s'", cases[i].what, err,
			         msg.text);
		/* The value itself never reaches the message. */
		if (cases[i].fact.value[0] != '\0' &&
		    strstr(msg.text, cases[i].fact.value) != NULL)
			fail_msg("%s: the message holds the value",
			         cases[i].what);
		assert_int_equal(rows(f, "subject"), 0);
		assert_int_equal(rows(f, "fact"), 0);
		assert_int_equal(rows(f, "identifier"), 0);
		assert_int_equal(rows(f, "consent"), 0);
	}
}

/* CEK-MAND-1: name, address and phone are needed to become a customer. */
static void
test_mandatory_categories_CEK_MAND_1(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];

	/* customer[] without the phone (index 2) */
	struct vault_fact_in facts[] = {customer[0], customer[1], customer[3]};

	assert_int_equal(vault_subject_add(f->v, "testshop", facts, 3, NULL, 0,
	                                   uid, &msg),
	                 VAERN_E_INVALID);
	assert_non_null(strstr(msg.text, "'phone' (mandatory)"));
	assert_int_equal(rows(f, "subject"), 0);
}

/* GDPR-7, CEK-SPECIAL-1, SHOP-SPECIAL-1: with consent it is accepted, and
 * the consent is recorded with its source and the text's hash. */
static void
test_consent_recorded_GDPR_7_CEK_SPECIAL_1(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	struct vault_fact_in facts[] = {
	        FACT("health", "diabetes", "care"),
	        FACT("email", "news@example.dk", "newsletter"),
	};
	struct vault_consent_in consents[] = {
	        {"care", "phone", INT64_MIN},
	        {"newsletter", "web_form", 1767139200},
	};
	struct vault_consent_in bad = {"newsletter", "carrier_pigeon",
	                               INT64_MIN};

	assert_int_equal(vault_subject_add(f->v, "testshop", facts + 1, 1, &bad,
	                                   1, uid, &msg),
	                 VAERN_E_INVALID);
	assert_non_null(strstr(msg.text, "not a way the policy records"));
	if (vault_subject_add(f->v, "testshop", facts, 2, consents, 2, uid,
	                      &msg) != VAERN_OK)
		fail_msg("%s", msg.text);
	assert_int_equal(rows(f, "consent"), 2);
	assert_int_equal(rows(f, "fact"), 2);
}

/* GDPR-7: a text hash is 64 hex digits, nothing else. */
static void
test_text_hash_parse_GDPR_7(void **state)
{
	static const struct {
		const char *hex;
		int ok;
	} cases[] = {
	        {"00112233445566778899aabbccddeeff"
	         "00112233445566778899aabbccddeeff",
	         1},
	        {"00112233445566778899AABBCCDDEEFF"
	         "00112233445566778899AABBCCDDEEFF",
	         1},
	        {"", 0},
	        {"abc", 0},
	        {"00112233445566778899aabbccddeeff"
	         "00112233445566778899aabbccddeef",
	         0},
	        {"00112233445566778899aabbccddeeff"
	         "00112233445566778899aabbccddeeff0",
	         0},
	        {"g0112233445566778899aabbccddeeff"
	         "00112233445566778899aabbccddeeff",
	         0},
	        {"00112233445566778899aabbccddeeff"
	         "00112233445566778899aabbccddee f",
	         0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char hash[VAULT_TEXT_HASH_BYTES];
		struct vaern_msg msg = {{0}};
		enum vaern_err err =
		        vault_text_hash_parse(cases[i].hex, hash, &msg);

		if ((err == VAERN_OK) != cases[i].ok)
			fail_msg("case %zu: %s", i, msg.text);
		if (!cases[i].ok)
			assert_non_null(strstr(msg.text, "text_hash"));
	}
}

/* GDPR-7: the ledger is appended to, a withdrawal is not retroactive and
 * needs a consent in force; bad input writes nothing. AURA-COOKIE-1: a
 * visitor id is checked and only its blind index is kept. */
static void
test_consent_ledger_GDPR_7_AURA_COOKIE_1(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	struct vault_consent_act act;
	struct vault_consent_done done;
	struct vault_choice ch = {1, 0, "banner", INT64_MIN};
	char source[VAULT_SOURCE_MAX + 1];

	add_customer(f, uid);
	memset(&act, 0, sizeof(act));
	act.purpose = "newsletter";
	act.source = "web_form";
	act.at = 1767139200; /* 2025-12-31 */
	act.text = "Send me the newsletter, monthly.";
	if (vault_consent_apply(f->v, "testshop", uid, &act, &done, &msg))
		fail_msg("give: %s", msg.text);
	assert_true(done.has_text_hash);
	assert_true(done.unsubscribe_token[0] != '\0');
	assert_int_equal(rows(f, "consent"), 1);
	assert_int_equal(rows(f, "consent_text"), 1);
	assert_int_equal(rows(f, "unsubscribe"), 1);
	/* Dated before the consent: refused, nothing written. */
	memset(&act, 0, sizeof(act));
	act.purpose = "newsletter";
	act.source = "phone";
	act.withdraw = 1;
	act.at = 1767139200 - 86400;
	assert_int_equal(
	        vault_consent_apply(f->v, "testshop", uid, &act, &done, &msg),
	        VAERN_E_INVALID);
	assert_non_null(strstr(msg.text, "retroactive"));
	assert_int_equal(rows(f, "consent"), 1);
	act.at = INT64_MIN;
	if (vault_consent_apply(f->v, "testshop", uid, &act, &done, &msg))
		fail_msg("withdraw: %s", msg.text);
	assert_int_equal(rows(f, "consent"), 2);
	assert_int_equal(
	        vault_consent_apply(f->v, "testshop", uid, &act, &done, &msg),
	        VAERN_E_EXISTS);
	assert_int_equal(rows(f, "consent"), 2);
	/* Visitor ids. */
	assert_int_equal(
	        vault_choice_put(f->v, "testshop", "short", &ch, NULL, &msg),
	        VAERN_E_INVALID);
	assert_int_equal(vault_choice_put(f->v, "testshop", "has space 123456",
	                                  &ch, NULL, &msg),
	                 VAERN_E_INVALID);
	assert_int_equal(rows(f, "visitor_choice"), 0);
	assert_int_equal(vault_choice_get(f->v, "testshop", "visitor-0001", &ch,
	                                  source, &msg),
	                 VAERN_E_NOTFOUND);
	ch.statistics = 1;
	ch.marketing = 0;
	ch.source = "banner";
	ch.at = INT64_MIN;
	if (vault_choice_put(f->v, "testshop", "visitor-0001", &ch, NULL, &msg))
		fail_msg("choice: %s", msg.text);
	memset(&ch, 0, sizeof(ch));
	if (vault_choice_get(f->v, "testshop", "visitor-0001", &ch, source,
	                     &msg))
		fail_msg("choice: %s", msg.text);
	assert_int_equal(ch.statistics, 1);
	assert_int_equal(ch.marketing, 0);
	assert_string_equal(source, "banner");
}

/* Identifiers are unique per controller and type: a second subject with
 * the same e-mail is refused and the first is untouched. */
static void
test_duplicate_identifier(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES], uid2[VAULT_UID_BYTES];
	struct vault_fact_in facts[NCUSTOMER];

	add_customer(f, uid);
	memcpy(facts, customer, sizeof(customer));
	facts[2].value = "+45 99 88 77 66";
	facts[4].value = "020290-4321";
	facts[3].value = "ANNA@example.dk"; /* same address, other case */
	assert_int_equal(vault_subject_add(f->v, "testshop", facts, NCUSTOMER,
	                                   NULL, 0, uid2, &msg),
	                 VAERN_E_EXISTS);
	assert_non_null(strstr(msg.text, "already has this email"));
	assert_int_equal(rows(f, "subject"), 1);
	assert_int_equal(rows(f, "identifier"), 3);
	assert_int_equal(rows(f, "fact"), (long)NCUSTOMER);
}

/* GDPR-16: rectification replaces the value and moves the identifier. */
static void
test_rectify_GDPR_16(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES], found[VAULT_UID_BYTES];
	struct collected c;

	add_customer(f, uid);
	assert_int_equal(
	        vault_fact_rectify(f->v, "testshop", uid, 1, "Anna Holm", &msg),
	        VAERN_OK);
	assert_int_equal(vault_fact_rectify(f->v, "testshop", uid, 4,
	                                    "anna.holm@example.dk", &msg),
	                 VAERN_OK);
	assert_int_equal(vault_fact_rectify(f->v, "testshop", uid, 4,
	                                    "not an e-mail", &msg),
	                 VAERN_E_INVALID);
	assert_int_equal(
	        vault_fact_rectify(f->v, "testshop", uid, 99, "x", &msg),
	        VAERN_E_NOTFOUND);
	memset(&c, 0, sizeof(c));
	assert_int_equal(read_facts(f->v, "testshop", uid, collect, &c, &msg),
	                 VAERN_OK);
	assert_string_equal(c.values[0], "Anna Holm");
	assert_string_equal(c.values[3], "anna.holm@example.dk");
	assert_int_equal(vault_subject_find(f->v, "testshop", ID_EMAIL,
	                                    "anna.holm@example.dk", found,
	                                    &msg),
	                 VAERN_OK);
	assert_memory_equal(uid, found, VAULT_UID_BYTES);
	assert_int_equal(vault_subject_find(f->v, "testshop", ID_EMAIL,
	                                    "anna@example.dk", found, &msg),
	                 VAERN_E_NOTFOUND);
	assert_int_equal(rows(f, "identifier"), 3);
}

static enum vaern_err
count_events(void *arg, const char *kind, int64_t at)
{
	(void)kind;
	(void)at;
	(*(int *)arg)++;
	return VAERN_OK;
}

/* Events anchor retention; only kinds the policy declares. */
static void
test_events(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	int n = 0;

	add_customer(f, uid);
	assert_int_equal(vault_event_record(f->v, "testshop", uid,
	                                    "relationship_end", 1764547200,
	                                    &msg),
	                 VAERN_OK);
	assert_int_equal(vault_event_record(f->v, "testshop", uid, "birthday",
	                                    INT64_MIN, &msg),
	                 VAERN_E_INVALID);
	assert_int_equal(vault_event_record(f->v, "testshop", uid,
	                                    "last_contact", 1893456000, &msg),
	                 VAERN_E_INVALID);
	assert_int_equal(vault_subject_events(f->v, "testshop", uid,
	                                      count_events, &n, &msg),
	                 VAERN_OK);
	assert_int_equal(n, 1);
}

/* GDPR-17: erasure removes every row and the wrapped key. */
static void
test_erase_GDPR_17(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES], found[VAULT_UID_BYTES];
	size_t n = 0;

	add_customer(f, uid);
	assert_int_equal(vault_event_record(f->v, "testshop", uid,
	                                    "last_contact", INT64_MIN, &msg),
	                 VAERN_OK);
	assert_int_equal(vault_subject_erase(f->v, "testshop", uid, &n, &msg),
	                 VAERN_OK);
	assert_int_equal(n, NCUSTOMER);
	assert_int_equal(rows(f, "subject"), 0);
	assert_int_equal(rows(f, "fact"), 0);
	assert_int_equal(rows(f, "identifier"), 0);
	assert_int_equal(rows(f, "event"), 0);
	assert_int_equal(vault_subject_find(f->v, "testshop", ID_EMAIL,
	                                    "anna@example.dk", found, &msg),
	                 VAERN_E_NOTFOUND);
	assert_int_equal(vault_subject_erase(f->v, "testshop", uid, &n, &msg),
	                 VAERN_E_NOTFOUND);
	/* The same person can come back as a new subject. */
	add_customer(f, found);
	assert_memory_not_equal(uid, found, VAULT_UID_BYTES);
}

/* Returns 1 if the database or its log holds the bytes needle. */
static int
files_hold(struct fixture *f, const unsigned char *needle, size_t len)
{
	int found = 0;

	for (int k = 0; k < 4; k++) {
		char path[128];
		FILE *fp;
		char *buf;
		long n;

		/* the database and the keystore, each with its log */
		if (k < 2)
			snprintf(path, sizeof(path), "%s%s", f->db,
			         k ? "-wal" : "");
		else
			snprintf(path, sizeof(path), "%s/keystore.db%s", f->dir,
			         k == 3 ? "-wal" : "");
		if ((fp = fopen(path, "rb")) == NULL)
			continue;
		fseek(fp, 0, SEEK_END);
		n = ftell(fp);
		fseek(fp, 0, SEEK_SET);
		buf = malloc((size_t)n + 1);
		assert_non_null(buf);
		assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
		fclose(fp);
		found |= memmem(buf, (size_t)n, needle, len) != NULL;
		free(buf);
	}
	return found;
}

/* GDPR-17: after an erasure the subject's wrapped data key is in neither
 * the database nor its write-ahead log (crypto-shredding). */
static void
test_erase_shreds_key_GDPR_17(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES], wrapped[256];
	int wrapped_len = 0;
	struct db *db;
	struct db_stmt *s;

	add_customer(f, uid);
	db = open_db(f);
	assert_int_equal(db_prepare(db,
	                            "SELECT wrapped FROM"
	                            " ks.subject_key",
	                            0, &s),
	                 DB_OK);
	assert_int_equal(db_step(s), DB_ROW);
	wrapped_len = db_column_bytes(s, 0);
	assert_true(wrapped_len > 0 && wrapped_len <= 256);
	memcpy(wrapped, db_column_blob(s, 0), (size_t)wrapped_len);
	db_finalize(s);
	db_close(db);
	assert_true(files_hold(f, wrapped, (size_t)wrapped_len));
	assert_int_equal(vault_subject_erase(f->v, "testshop", uid, NULL, &msg),
	                 VAERN_OK);
	assert_false(files_hold(f, wrapped, (size_t)wrapped_len));
}

/* A subject of one controller is invisible to another, and one e-mail in
 * two controllers gives unrelated blind indexes. */
static void
test_controllers_separate(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct policy_diags *d = calloc(1, sizeof(*d));
	unsigned char uid[VAULT_UID_BYTES], uid2[VAULT_UID_BYTES];
	struct vault_fact_in ex[] = {
	        FACT("name", "Anna Hansen", "customer_admin"),
	        FACT("email", "anna@example.dk", "customer_admin"),
	};
	char policy[4096];
	struct collected c;
	struct db *db;
	struct db_stmt *s;
	int distinct = 0;

	assert_non_null(d);
	snprintf(policy, sizeof(policy), "%s/policies/example.yaml",
	         source_root());
	assert_int_equal(vault_policy_load(f->v, policy, d, NULL, &msg),
	                 VAERN_OK);
	free(d);
	add_customer(f, uid);
	if (vault_subject_add(f->v, "example", ex, 2, NULL, 0, uid2, &msg) !=
	    VAERN_OK)
		fail_msg("%s", msg.text);
	memset(&c, 0, sizeof(c));
	assert_int_equal(read_facts(f->v, "example", uid, collect, &c, &msg),
	                 VAERN_E_NOTFOUND);
	assert_int_equal(
	        db_open_sqlite(f->db,
	                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 5000,
	                       &db),
	        DB_OK);
	assert_int_equal(db_prepare(db,
	                            "SELECT count(DISTINCT blind) FROM"
	                            " identifier WHERE type = 5",
	                            0, &s),
	                 DB_OK);
	assert_int_equal(db_step(s), DB_ROW);
	distinct = db_column_int(s, 0);
	db_finalize(s);
	db_close(db);
	assert_int_equal(ID_EMAIL, 5);
	assert_int_equal(distinct, 2);
}

/* A batch: a failure inside it leaves the whole batch to roll back. */
static void
test_batch_rollback(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];

	assert_int_equal(vault_begin(f->v, &msg), VAERN_OK);
	add_customer(f, uid);
	assert_int_equal(vault_subject_add(f->v, "testshop", customer,
	                                   NCUSTOMER, NULL, 0, uid, &msg),
	                 VAERN_E_EXISTS);
	vault_rollback(f->v);
	assert_int_equal(rows(f, "subject"), 0);
	assert_int_equal(vault_begin(f->v, &msg), VAERN_OK);
	add_customer(f, uid);
	assert_int_equal(vault_commit(f->v, &msg), VAERN_OK);
	assert_int_equal(rows(f, "subject"), 1);
}

/* Bulk ingest: all or nothing, and the subject at fault is named. */
static void
test_add_many(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	enum { N = 700 }; /* several chunks of the sealing pipeline */
	static char emails[N][48], phones[N][24];
	static struct vault_fact_in facts[N][4];
	static struct vault_subject_in in[N];
	static unsigned char uids[N][VAULT_UID_BYTES];
	unsigned char found[VAULT_UID_BYTES];
	size_t failed_at = 0;

	for (int i = 0; i < N; i++) {
		snprintf(emails[i], sizeof(emails[i]), "p%d@example.dk", i);
		snprintf(phones[i], sizeof(phones[i]), "+45%08d", 30000000 + i);
		facts[i][0] = (struct vault_fact_in)FACT("name", "P",
		                                         "customer_admin");
		facts[i][1] = (struct vault_fact_in)FACT("address", "A",
		                                         "customer_admin");
		facts[i][2] = (struct vault_fact_in)FACT("phone", phones[i],
		                                         "customer_admin");
		facts[i][3] = (struct vault_fact_in)FACT("email", emails[i],
		                                         "customer_admin");
		in[i] = (struct vault_subject_in){facts[i], 4, NULL, 0};
	}
	/* Subject 601 is invalid: nothing at all is written. */
	facts[600][3].value = "not an e-mail";
	assert_int_equal(vault_subject_add_many(f->v, "testshop", in, N, uids,
	                                        &failed_at, &msg),
	                 VAERN_E_INVALID);
	assert_int_equal(failed_at, 600);
	assert_non_null(strstr(msg.text, "subject 601"));
	assert_int_equal(rows(f, "subject"), 0);
	/* A duplicate found while writing: also nothing. */
	facts[600][3].value = emails[3];
	assert_int_equal(vault_subject_add_many(f->v, "testshop", in, N, uids,
	                                        &failed_at, &msg),
	                 VAERN_E_EXISTS);
	assert_int_equal(failed_at, 600);
	assert_int_equal(rows(f, "subject"), 0);
	facts[600][3].value = emails[600];
	assert_int_equal(vault_subject_add_many(f->v, "testshop", in, N, uids,
	                                        &failed_at, &msg),
	                 VAERN_OK);
	assert_int_equal(rows(f, "subject"), N);
	assert_int_equal(rows(f, "fact"), 4 * N);
	assert_int_equal(vault_subject_find(f->v, "testshop", ID_EMAIL,
	                                    "p599@example.dk", found, &msg),
	                 VAERN_OK);
	assert_memory_equal(found, uids[599], VAULT_UID_BYTES);
}

/* The first batch is committed and audited: die like kill -9. */
static int
die_after_batch(void *arg, int64_t done, int64_t total)
{
	(void)arg;
	(void)done;
	(void)total;
	raise(SIGKILL);
	return 0;
}

/*
 * Issue 4: a sweep killed half-way (SIGKILL after its first committed
 * batch) leaves every subject whole or shredded, never half-deleted, and
 * the next sweep completes it (GDPR-17, TEL-RET-1).
 */
static void
test_sweep_killed_half_way_completes_GDPR_17(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	enum { N = 700 }; /* 2800 due facts: more than one sweep batch */
	static char emails[N][48], phones[N][24];
	static struct vault_fact_in facts[N][4];
	static struct vault_subject_in in[N];
	static unsigned char uids[N][VAULT_UID_BYTES];
	struct vault_sweep_report rep;
	int audits = 0, status;
	pid_t pid;
	long left;

	for (int i = 0; i < N; i++) {
		snprintf(emails[i], sizeof(emails[i]), "k%d@example.dk", i);
		snprintf(phones[i], sizeof(phones[i]), "+45%08d", 40000000 + i);
		facts[i][0] = (struct vault_fact_in)FACT("name", "P",
		                                         "customer_admin");
		facts[i][1] = (struct vault_fact_in)FACT("address", "A",
		                                         "customer_admin");
		facts[i][2] = (struct vault_fact_in)FACT("phone", phones[i],
		                                         "customer_admin");
		facts[i][3] = (struct vault_fact_in)FACT("email", emails[i],
		                                         "customer_admin");
		in[i] = (struct vault_subject_in){facts[i], 4, NULL, 0};
	}
	assert_int_equal(vault_subject_add_many(f->v, "testshop", in, N, uids,
	                                        NULL, &msg),
	                 VAERN_OK);
	/* The relationship ended 2026-01-01: due 2026-03-01 (2 months). */
	assert_int_equal(vault_begin(f->v, &msg), VAERN_OK);
	for (int i = 0; i < N; i++)
		assert_int_equal(vault_event_record(f->v, "testshop", uids[i],
		                                    "relationship_end",
		                                    INT64_MIN, &msg),
		                 VAERN_OK);
	assert_int_equal(vault_commit(f->v, &msg), VAERN_OK);
	assert_int_equal(rows(f, "fact"), 4 * N);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct vault *v;

		if (vault_open(f->dir, &v, &msg) != VAERN_OK)
			_exit(3);
		vault_set_audit(v, audit_none, &audits);
		if (vault_retention_sweep(v, 1772323200 /* 2026-03-01 */, 0,
		                          die_after_batch, NULL, &rep,
		                          &msg) != VAERN_OK)
			_exit(5);
		_exit(4); /* not reached: killed after the first batch */
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* Part done, and nothing half-deleted: every subject left has its
	 * 4 facts and its 2 identifiers. */
	left = rows(f, "subject");
	assert_true(left > 0 && left < N);
	assert_int_equal(rows(f, "fact"), 4 * left);
	assert_int_equal(rows(f, "identifier"), 2 * left);
	/* Not due yet the day before: nothing moves. */
	vault_set_audit(f->v, audit_none, &audits);
	assert_int_equal(vault_retention_sweep(f->v, 1772236800, 0, NULL, NULL,
	                                       &rep, &msg),
	                 VAERN_OK);
	assert_int_equal(rep.facts_deleted, 0);
	assert_int_equal(rows(f, "subject"), left);
	/* The next sweep completes it. */
	assert_int_equal(vault_retention_sweep(f->v, 1772323200, 0, NULL, NULL,
	                                       &rep, &msg),
	                 VAERN_OK);
	assert_int_equal(rep.facts_deleted, 4 * left);
	assert_int_equal(rep.subjects_shredded, left);
	assert_true(audits >= 1);
	assert_int_equal(rows(f, "subject"), 0);
	assert_int_equal(rows(f, "fact"), 0);
	assert_int_equal(rows(f, "identifier"), 0);
	assert_int_equal(rows(f, "event"), 0);
}

/*
 * Issue 4: a subject whose due facts fall under two rules lies in two
 * places of the due order (bench/bench-retention.yaml: visits a year
 * after collection, the e-mail ten years after). Killed after the first
 * batch, which holds only visit facts, no subject is left with its
 * e-mail alone: each subject is swept whole, all its due facts in one
 * transaction (GDPR-17).
 */
static void
test_sweep_takes_each_subject_whole_GDPR_17(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct policy_diags *d = calloc(1, sizeof(*d));
	enum { N = 1500 }; /* 3000 due facts: the first page is 1024 */
	static char emails[N][48];
	static struct vault_fact_in facts[N][2];
	static struct vault_subject_in in[N];
	struct vault_sweep_report rep;
	int64_t collected = 1767225600 - 11 * 366 * 86400LL;
	char policy[4096];
	int audits = 0, status;
	pid_t pid;
	long left;

	assert_non_null(d);
	snprintf(policy, sizeof(policy), "%s/bench/bench-retention.yaml",
	         source_root());
	assert_int_equal(vault_policy_load(f->v, policy, d, NULL, &msg),
	                 VAERN_OK);
	free(d);
	for (int i = 0; i < N; i++) {
		snprintf(emails[i], sizeof(emails[i]), "w%d@example.dk", i);
		facts[i][0] = (struct vault_fact_in){
		        "email", emails[i], "customer_admin",
		        NULL,    collected, NULL};
		facts[i][1] = (struct vault_fact_in){
		        "visits", "3 visits", "customer_admin",
		        NULL,     collected,  NULL};
		in[i] = (struct vault_subject_in){facts[i], 2, NULL, 0};
	}
	assert_int_equal(
	        vault_subject_add_many(f->v, "bench", in, N, NULL, NULL, &msg),
	        VAERN_OK);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct vault *v;

		if (vault_open(f->dir, &v, &msg) != VAERN_OK)
			_exit(3);
		vault_set_audit(v, audit_none, &audits);
		if (vault_retention_sweep(v, 1767225600, 0, die_after_batch,
		                          NULL, &rep, &msg) != VAERN_OK)
			_exit(5);
		_exit(4);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	left = rows(f, "subject");
	assert_true(left > 0 && left < N);
	assert_int_equal(rows(f, "fact"), 2 * left);
	assert_int_equal(rows(f, "identifier"), left);
	vault_set_audit(f->v, audit_none, &audits);
	assert_int_equal(vault_retention_sweep(f->v, 1767225600, 0, NULL, NULL,
	                                       &rep, &msg),
	                 VAERN_OK);
	assert_int_equal(rep.facts_deleted, 2 * left);
	assert_int_equal(rep.subjects_shredded, left);
	assert_int_equal(rows(f, "subject"), 0);
	assert_int_equal(rows(f, "identifier"), 0);
}

static int
stop_after_batch(void *arg, int64_t done, int64_t total)
{
	int64_t *seen = arg;

	seen[0] = done;
	seen[1] = total;
	return 1;
}

/*
 * A server stopping (SIGTERM) stops its sweep between batches: what was
 * done is committed and audited, the report says it stopped, and the next
 * sweep takes the rest (issue 4).
 */
static void
test_sweep_stops_between_batches(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	enum { N = 700 };
	static char emails[N][48], phones[N][24];
	static struct vault_fact_in facts[N][4];
	static struct vault_subject_in in[N];
	static unsigned char uids[N][VAULT_UID_BYTES];
	struct vault_sweep_report rep;
	int64_t seen[2] = {0, 0};
	int audits = 0;
	long left;

	for (int i = 0; i < N; i++) {
		snprintf(emails[i], sizeof(emails[i]), "s%d@example.dk", i);
		snprintf(phones[i], sizeof(phones[i]), "+45%08d", 50000000 + i);
		facts[i][0] = (struct vault_fact_in)FACT("name", "P",
		                                         "customer_admin");
		facts[i][1] = (struct vault_fact_in)FACT("address", "A",
		                                         "customer_admin");
		facts[i][2] = (struct vault_fact_in)FACT("phone", phones[i],
		                                         "customer_admin");
		facts[i][3] = (struct vault_fact_in)FACT("email", emails[i],
		                                         "customer_admin");
		in[i] = (struct vault_subject_in){facts[i], 4, NULL, 0};
	}
	assert_int_equal(vault_subject_add_many(f->v, "testshop", in, N, uids,
	                                        NULL, &msg),
	                 VAERN_OK);
	assert_int_equal(vault_begin(f->v, &msg), VAERN_OK);
	for (int i = 0; i < N; i++)
		assert_int_equal(vault_event_record(f->v, "testshop", uids[i],
		                                    "relationship_end",
		                                    INT64_MIN, &msg),
		                 VAERN_OK);
	assert_int_equal(vault_commit(f->v, &msg), VAERN_OK);
	vault_set_audit(f->v, audit_none, &audits);
	assert_int_equal(vault_retention_sweep(f->v, 1772323200, 0,
	                                       stop_after_batch, seen, &rep,
	                                       &msg),
	                 VAERN_OK);
	assert_int_equal(rep.stopped, 1);
	assert_int_equal(seen[1], 4 * N); /* the total, counted first */
	assert_true(seen[0] > 0 && seen[0] < 4 * N);
	assert_int_equal(audits, 1);
	left = rows(f, "subject");
	assert_true(left > 0 && left < N);
	assert_int_equal(rows(f, "fact"), 4 * left);
	assert_int_equal(rep.facts_deleted, 4 * (N - left));
	assert_int_equal(vault_retention_sweep(f->v, 1772323200, 0, NULL, NULL,
	                                       &rep, &msg),
	                 VAERN_OK);
	assert_int_equal(rep.stopped, 0);
	assert_int_equal(rep.subjects_shredded, left);
	assert_int_equal(rows(f, "subject"), 0);
}

/*
 * Facts due with no rule on record (data directories of schema 1) stay,
 * and the sweep pages past them: with half the due facts ruleless, the
 * first page ends on one (they sort first), and the rest is swept.
 */
static void
test_sweep_pages_past_facts_without_a_rule(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	enum { N = 700 };
	static char emails[N][48], phones[N][24];
	static struct vault_fact_in facts[N][4];
	static struct vault_subject_in in[N];
	static unsigned char uids[N][VAULT_UID_BYTES];
	struct vault_sweep_report rep;
	int audits = 0;

	for (int i = 0; i < N; i++) {
		snprintf(emails[i], sizeof(emails[i]), "r%d@example.dk", i);
		snprintf(phones[i], sizeof(phones[i]), "+45%08d", 70000000 + i);
		facts[i][0] = (struct vault_fact_in)FACT("name", "P",
		                                         "customer_admin");
		facts[i][1] = (struct vault_fact_in)FACT("address", "A",
		                                         "customer_admin");
		facts[i][2] = (struct vault_fact_in)FACT("phone", phones[i],
		                                         "customer_admin");
		facts[i][3] = (struct vault_fact_in)FACT("email", emails[i],
		                                         "customer_admin");
		in[i] = (struct vault_subject_in){facts[i], 4, NULL, 0};
	}
	assert_int_equal(vault_subject_add_many(f->v, "testshop", in, N, uids,
	                                        NULL, &msg),
	                 VAERN_OK);
	assert_int_equal(vault_begin(f->v, &msg), VAERN_OK);
	for (int i = 0; i < N; i++)
		assert_int_equal(vault_event_record(f->v, "testshop", uids[i],
		                                    "relationship_end",
		                                    INT64_MIN, &msg),
		                 VAERN_OK);
	assert_int_equal(vault_commit(f->v, &msg), VAERN_OK);
	exec_sql(f, "UPDATE fact SET rule = NULL WHERE subject % 2 = 0");
	vault_set_audit(f->v, audit_none, &audits);
	assert_int_equal(vault_retention_sweep(f->v, 1772323200, 0, NULL, NULL,
	                                       &rep, &msg),
	                 VAERN_OK);
	assert_int_equal(rep.facts_deleted, 4 * (N / 2));
	assert_int_equal(rep.subjects_shredded, N / 2);
	assert_int_equal(rows(f, "subject"), N / 2);
	assert_int_equal(rows(f, "fact"), 4 * (N / 2));
	/* Again: nothing more goes, and the sweep ends. */
	assert_int_equal(vault_retention_sweep(f->v, 1772323200, 0, NULL, NULL,
	                                       &rep, &msg),
	                 VAERN_OK);
	assert_int_equal(rep.facts_deleted, 0);
}

struct hold_meanwhile {
	struct vault *v;
	const unsigned char *uid;
	int placed;
};

static int
hold_after_batch(void *arg, int64_t done, int64_t total)
{
	struct hold_meanwhile *h = arg;
	struct vaern_msg msg = {{0}};
	int64_t id;

	(void)done;
	(void)total;
	if (!h->placed++)
		assert_int_equal(vault_hold_place(h->v, "testshop", h->uid,
		                                  NULL, "Tvist", INT64_MIN,
		                                  "dpo", NULL, &id, &msg),
		                 VAERN_OK);
	return 0;
}

/*
 * CEK-HOLD-1: a hold placed while a sweep runs (here between its
 * batches, as another connection would) is honoured: each batch reads
 * the holds again inside its transaction.
 */
static void
test_sweep_honours_a_hold_placed_meanwhile_CEK_HOLD_1(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	enum { N = 700 };
	static char emails[N][48], phones[N][24];
	static struct vault_fact_in facts[N][4];
	static struct vault_subject_in in[N];
	static unsigned char uids[N][VAULT_UID_BYTES];
	struct vault_sweep_report rep;
	struct hold_meanwhile h = {f->v, uids[N - 1], 0};
	int audits = 0, held;

	for (int i = 0; i < N; i++) {
		snprintf(emails[i], sizeof(emails[i]), "h%d@example.dk", i);
		snprintf(phones[i], sizeof(phones[i]), "+45%08d", 60000000 + i);
		facts[i][0] = (struct vault_fact_in)FACT("name", "P",
		                                         "customer_admin");
		facts[i][1] = (struct vault_fact_in)FACT("address", "A",
		                                         "customer_admin");
		facts[i][2] = (struct vault_fact_in)FACT("phone", phones[i],
		                                         "customer_admin");
		facts[i][3] = (struct vault_fact_in)FACT("email", emails[i],
		                                         "customer_admin");
		in[i] = (struct vault_subject_in){facts[i], 4, NULL, 0};
	}
	assert_int_equal(vault_subject_add_many(f->v, "testshop", in, N, uids,
	                                        NULL, &msg),
	                 VAERN_OK);
	assert_int_equal(vault_begin(f->v, &msg), VAERN_OK);
	for (int i = 0; i < N; i++)
		assert_int_equal(vault_event_record(f->v, "testshop", uids[i],
		                                    "relationship_end",
		                                    INT64_MIN, &msg),
		                 VAERN_OK);
	assert_int_equal(vault_commit(f->v, &msg), VAERN_OK);
	vault_set_audit(f->v, audit_none, &audits);
	/* The last subject added is the last in the due order: its page
	 * comes after the first batch. */
	assert_int_equal(vault_retention_sweep(f->v, 1772323200, 0,
	                                       hold_after_batch, &h, &rep,
	                                       &msg),
	                 VAERN_OK);
	assert_true(h.placed >= 2); /* more than one batch */
	assert_int_equal(rep.facts_held, 4);
	assert_int_equal(rep.facts_deleted, 4 * (N - 1));
	assert_int_equal(rows(f, "subject"), 1);
	assert_int_equal(rows(f, "fact"), 4);
	assert_int_equal(vault_subject_held(f->v, "testshop", uids[N - 1], NULL,
	                                    &held, &msg),
	                 VAERN_OK);
	assert_true(held);
}

/* Gives (withdraw 0) or withdraws the newsletter consent of uid at at. */
static void
newsletter(struct fixture *f, const unsigned char uid[VAULT_UID_BYTES],
           int withdraw, int64_t at, struct vault_consent_done *done)
{
	struct vaern_msg msg = {{0}};
	struct vault_consent_act act;

	memset(&act, 0, sizeof(act));
	act.purpose = "newsletter";
	act.source = "web_form";
	act.withdraw = withdraw;
	act.at = at;
	if (vault_consent_apply(f->v, "testshop", uid, &act, done, &msg))
		fail_msg("consent: %s", msg.text);
}

/*
 * TEL-MKT-2: a consent in force is documented while valid, so it keeps
 * its subject (and the key) when every fact of the subject is swept.
 * The testshop's newsletter ledger is held by no rule: withdrawn, it goes
 * with the subject -- at the next sweep when the consent was all that
 * kept the subject (A), with the facts when they go (B).
 */
static void
test_sweep_keeps_a_subject_with_a_consent_in_force_TEL_MKT_2(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct vault_consent_done done;
	struct vault_sweep_report rep;
	struct vault_consent_state cs;
	static const struct vault_fact_in other[] = {
	        FACT("name", "Bo Lund", "customer_admin"),
	        FACT("address", "Torvet 1, 5000 Odense C", "customer_admin"),
	        FACT("phone", "+45 31 32 33 34", "customer_admin"),
	};
	unsigned char a[VAULT_UID_BYTES], b[VAULT_UID_BYTES];
	int audits = 0;

	vault_set_audit(f->v, audit_none, &audits);
	add_customer(f, a); /* 2026-01-01 */
	if (vault_subject_add(f->v, "testshop", other, 3, NULL, 0, b, &msg))
		fail_msg("add: %s", msg.text);
	newsletter(f, a, 0, INT64_MIN, &done);
	newsletter(f, b, 0, INT64_MIN, &done);
	/* B withdraws while its facts are kept: its ledger waits for them. */
	newsletter(f, b, 1, INT64_MIN, &done);
	assert_true(done.expires_at == INT64_MIN);
	assert_int_equal(vault_event_record(f->v, "testshop", a,
	                                    "relationship_end", INT64_MIN,
	                                    &msg),
	                 VAERN_OK);
	assert_int_equal(vault_event_record(f->v, "testshop", b,
	                                    "relationship_end", INT64_MIN,
	                                    &msg),
	                 VAERN_OK);
	/* 2026-03-01, 2 months on: every fact of both is due. */
	assert_int_equal(vault_retention_sweep(f->v, 1772323200, 0, NULL, NULL,
	                                       &rep, &msg),
	                 VAERN_OK);
	assert_int_equal(rep.facts_deleted, (int64_t)NCUSTOMER + 3);
	assert_int_equal(rep.subjects_shredded, 1); /* B only */
	assert_int_equal(rows(f, "subject"), 1);
	assert_int_equal(rows(f, "fact"), 0);
	assert_int_equal(rows(f, "identifier"), 0);
	assert_int_equal(vault_consent_state(f->v, "testshop", a, "newsletter",
	                                     &cs, &msg),
	                 VAERN_OK);
	assert_true(cs.in_force);
	/* Years later, unused, still in force: still kept. */
	assert_int_equal(vault_retention_sweep(f->v,
	                                       1861920000 /* 2029-01-01 */, 0,
	                                       NULL, NULL, &rep, &msg),
	                 VAERN_OK);
	assert_int_equal(rep.subjects_shredded, 0);
	assert_int_equal(rows(f, "consent"), 1);
	/* A withdraws on 2029-01-10: nothing else keeps it, so the ledger
	 * goes with the subject at the next sweep, not before it. */
	clock_set(1862697600);
	newsletter(f, a, 1, INT64_MIN, &done);
	assert_true(done.expires_at == 1862697600);
	assert_int_equal(vault_retention_sweep(f->v, 1862697600 - 1, 0, NULL,
	                                       NULL, &rep, &msg),
	                 VAERN_OK);
	assert_int_equal(rep.subjects_shredded, 0);
	assert_int_equal(vault_retention_sweep(f->v, 1862697600, 0, NULL, NULL,
	                                       &rep, &msg),
	                 VAERN_OK);
	assert_int_equal(rep.consents_expired, 1);
	assert_int_equal(rep.subjects_shredded, 1);
	assert_int_equal(rows(f, "subject"), 0);
	assert_int_equal(rows(f, "consent"), 0);
	assert_int_equal(rows(f, "consent_state"), 0);
	assert_int_equal(rows(f, "unsubscribe"), 0);
}

/* Loads policies/aura-fiber.yaml beside the testshop. */
static void
load_aura(struct fixture *f)
{
	struct vaern_msg msg = {{0}};
	struct policy_diags *d = calloc(1, sizeof(*d));
	char policy[4096];

	assert_non_null(d);
	snprintf(policy, sizeof(policy), "%s/policies/aura-fiber.yaml",
	         source_root());
	if (vault_policy_load(f->v, policy, d, NULL, &msg) != VAERN_OK)
		fail_msg("load: %s", msg.text);
	free(d);
}

static enum vaern_err
visit_collect(void *arg, const struct vault_visit_out *o)
{
	struct collected *c = arg;

	assert_true(c->n < 16);
	snprintf(c->values[c->n], 128, "%s|%s|%s", o->ip ? o->ip : "-",
	         o->page ? o->page : "-", o->recipient ? o->recipient : "-");
	snprintf(c->categories[c->n], 64, "%s", o->rule);
	c->collected_at[c->n] = o->expires_at;
	c->n++;
	return VAERN_OK;
}

static void
choose_statistics(struct fixture *f, const char *visitor, int on)
{
	struct vaern_msg msg = {{0}};
	struct vault_choice ch = {on, 0, "banner", INT64_MIN};

	if (vault_choice_put(f->v, "aura-fiber", visitor, &ch, NULL, &msg))
		fail_msg("choice: %s", msg.text);
}

/*
 * AURA-COOKIE-1, AURA-RET-1, GDPR-32: a visit is stored only with the
 * statistics choice, sealed under the controller's key of its expiry day
 * (2026-01-01 + 24 months), bound to its visitor and kind; bad input is
 * refused and writes nothing.
 */
static void
test_visits_sealed_under_day_keys_AURA_RET_1(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct vault_visit_in in = {VAULT_VISIT, "192.0.2.9", "/fiber", NULL};
	struct vault_visit_done done;
	struct collected c;
	static const struct {
		const char *visitor, *ip, *page, *recipient, *mention;
		enum vaern_err err;
	} bad[] = {
	        {"short", "192.0.2.9", NULL, NULL, "visitor id",
	         VAERN_E_INVALID},
	        {"visitor-0001", "300.1.2.3", NULL, NULL, "'ip'",
	         VAERN_E_INVALID},
	        {"visitor-0001", NULL, NULL, NULL, "'ip'", VAERN_E_INVALID},
	        {"visitor-0001", "192.0.2.9", "a\nb", NULL, "'page'",
	         VAERN_E_INVALID},
	        {"visitor-0001", "192.0.2.9", NULL, "it_suppliers",
	         "'recipient'", VAERN_E_INVALID},
	        {"visitor-0002", "192.0.2.9", NULL, NULL, "statistics",
	         VAERN_E_DENIED}, /* never chose */
	};

	load_aura(f);
	choose_statistics(f, "visitor-0001", 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vault_visit_in b = {VAULT_VISIT, bad[i].ip, bad[i].page,
		                           bad[i].recipient};

		msg.text[0] = '\0';
		assert_int_equal(vault_visit_add(f->v, "aura-fiber",
		                                 bad[i].visitor, &b, &done,
		                                 &msg),
		                 bad[i].err);
		if (strstr(msg.text, bad[i].mention) == NULL)
			fail_msg("case %zu: %s", i, msg.text);
		assert_null(strstr(msg.text, "300.1.2.3"));
	}
	/* The testshop has no statistics purpose. */
	assert_int_equal(vault_visit_add(f->v, "testshop", "visitor-0001", &in,
	                                 &done, &msg),
	                 VAERN_E_DENIED);
	assert_int_equal(rows(f, "visit"), 0);
	assert_int_equal(rows(f, "ks.day_key"), 0);
	if (vault_visit_add(f->v, "aura-fiber", "visitor-0001", &in, &done,
	                    &msg))
		fail_msg("visit: %s", msg.text);
	assert_true(done.expires_at == 1830297600); /* 2028-01-01 */
	assert_string_equal(done.rule, "cookie_data");
	assert_string_equal(done.purpose, "visit_statistics");
	in.ip = "2001:DB8::0:1";
	in.page = NULL;
	if (vault_visit_add(f->v, "aura-fiber", "visitor-0001", &in, &done,
	                    &msg))
		fail_msg("visit: %s", msg.text);
	assert_int_equal(rows(f, "visit"), 2);
	assert_int_equal(rows(f, "ks.day_key"), 1);
	/* Reading them is a gated answer, audited first (GDPR-32). */
	vault_set_audit(f->v, audit_none, &read_audits);
	memset(&c, 0, sizeof(c));
	assert_int_equal(vault_visit_foreach(f->v, operator_of("aura-fiber"),
	                                     "visitor-0001", visit_collect, &c,
	                                     &msg),
	                 VAERN_OK);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.values[0], "192.0.2.9|/fiber|-");
	assert_string_equal(c.values[1], "2001:db8::1|-|-");
	assert_string_equal(c.categories[0], "cookie_data");
	/* Another visitor's, another controller's: nothing. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(vault_visit_foreach(f->v, operator_of("aura-fiber"),
	                                     "visitor-0002", visit_collect, &c,
	                                     &msg),
	                 VAERN_OK);
	assert_int_equal(c.n, 0);
	/* A row moved to another kind is outside the release (AURA has no
	 * marketing cookie purpose): never decrypted, never shown. */
	exec_sql(f, "UPDATE visit SET kind = 2 WHERE id = 1");
	memset(&c, 0, sizeof(c));
	assert_int_equal(vault_visit_foreach(f->v, operator_of("aura-fiber"),
	                                     "visitor-0001", visit_collect, &c,
	                                     &msg),
	                 VAERN_OK);
	assert_int_equal(c.n, 1);
	exec_sql(f, "UPDATE visit SET kind = 1 WHERE id = 1");
	/* Without its day key the data is noise. */
	exec_sql(f, "DELETE FROM ks.day_key");
	memset(&c, 0, sizeof(c));
	assert_int_equal(vault_visit_foreach(f->v, operator_of("aura-fiber"),
	                                     "visitor-0001", visit_collect, &c,
	                                     &msg),
	                 VAERN_E_CRYPTO);
	assert_non_null(strstr(msg.text, "day key"));
}

/*
 * AURA-RET-1: more due visits than one sweep transaction takes: every
 * batch committed and audited, each visit counted by its rule, and the
 * day keys dropped at the end; a statistics choice turned off deletes a
 * visitor's visits at once (GDPR-21).
 */
static void
test_sweep_takes_visits_in_batches_AURA_RET_1(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct vault_visit_in in = {VAULT_VISIT, "198.51.100.7", NULL, NULL};
	struct vault_visit_done done;
	struct vault_sweep_report rep;
	struct vault_choice off = {0, 0, "banner", INT64_MIN};
	struct vault_choice_done cd;
	enum { N = 16384 + 300 };
	int audits = 0;

	load_aura(f);
	vault_set_audit(f->v, audit_none, &audits);
	choose_statistics(f, "visitor-0001", 1);
	choose_statistics(f, "visitor-0002", 1);
	assert_int_equal(vault_begin(f->v, &msg), VAERN_OK);
	for (int i = 0; i < N; i++)
		if (vault_visit_add(f->v, "aura-fiber", "visitor-0001", &in,
		                    &done, &msg))
			fail_msg("visit %d: %s", i, msg.text);
	assert_int_equal(vault_commit(f->v, &msg), VAERN_OK);
	clock_set(1767225600 + 86400); /* the next day: another day key */
	for (int i = 0; i < 3; i++)
		if (vault_visit_add(f->v, "aura-fiber", "visitor-0002", &in,
		                    &done, &msg))
			fail_msg("visit: %s", msg.text);
	assert_int_equal(rows(f, "visit"), N + 3);
	assert_int_equal(rows(f, "ks.day_key"), 2);
	/* The day before 2028-01-01 nothing goes. */
	assert_int_equal(vault_retention_sweep(f->v, 1830297600 - 1, 0, NULL,
	                                       NULL, &rep, &msg),
	                 VAERN_OK);
	assert_int_equal(rep.visits_deleted, 0);
	assert_int_equal(audits, 0);
	assert_int_equal(vault_retention_sweep(f->v, 1830297600, 0, NULL, NULL,
	                                       &rep, &msg),
	                 VAERN_OK);
	assert_int_equal(rep.visits_deleted, N);
	assert_int_equal(rep.nrules, 1);
	assert_string_equal(rep.rules[0].rule, "aura-fiber/cookie_data");
	assert_int_equal(rep.rules[0].visits, N);
	assert_int_equal(rep.rules[0].facts, 0);
	assert_int_equal(audits, 2); /* two transactions, each audited */
	assert_int_equal(rows(f, "visit"), 3);
	assert_int_equal(rows(f, "ks.day_key"), 1);
	/* Withdrawn: the rest goes now, not in 2028. */
	clock_set(1767225600 + 2 * 86400);
	if (vault_choice_put(f->v, "aura-fiber", "visitor-0002", &off, &cd,
	                     &msg))
		fail_msg("choice: %s", msg.text);
	assert_int_equal(cd.visits_deleted, 3);
	assert_int_equal(cd.pixels_deleted, 0);
	assert_int_equal(rows(f, "visit"), 0);
	assert_int_equal(vault_visit_add(f->v, "aura-fiber", "visitor-0002",
	                                 &in, &done, &msg),
	                 VAERN_E_DENIED);
	/* Its key goes with the sweep of its day. */
	assert_int_equal(vault_retention_sweep(f->v, 1830384000, 0, NULL, NULL,
	                                       &rep, &msg),
	                 VAERN_OK);
	assert_int_equal(rows(f, "ks.day_key"), 0);
}

/* Schema 3 (issue 5 data directories) opens as 5, with the visit tables
 * and the wrapped keys moved to a new keystore under generation 1 (issue
 * 13); what it held is untouched and readable. */
static void
test_schema_3_migrates_to_5(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	struct vault_visit_in in = {VAULT_VISIT, "192.0.2.1", NULL, NULL};
	struct vault_visit_done done;
	struct collected c;
	char version[16];
	struct db *db;
	struct db_stmt *s;

	/* Before issue 13 the blind indexes derived from the master key
	 * itself: make this vault's index root the master key, as a
	 * migration does, so its identifiers are those of an old vault. */
	vault_close(f->v);
	f->v = NULL;
	{
		struct store *st = NULL;
		struct keys_ring *r = NULL;
		unsigned char *m = sodium_malloc(KEYS_BYTES);
		unsigned char ad[KEYS_AD_MAX], w[KEYS_WRAPPED];
		unsigned char nonce[KEYS_NONCE_BYTES] = {0};
		int64_t gen;

		assert_int_equal(store_open_sqlite(f->db, 0, &st, &msg),
		                 VAERN_OK);
		assert_int_equal(keys_ring_open(st, f->dir, &r, &msg),
		                 VAERN_OK);
		assert_int_equal(keys_master_load(f->dir, m, NULL, &msg),
		                 VAERN_OK);
		keys_wrap(r, m, ad, keys_ad_root(ad, KEYS_ROOT_INDEX), nonce, w,
		          &gen);
		assert_int_equal(keys_root_put(store_sqlite_db(st),
		                               KEYS_ROOT_INDEX, gen, w, &msg),
		                 VAERN_OK);
		sodium_free(m);
		keys_ring_free(r);
		store_close(st);
	}
	assert_int_equal(vault_open(f->dir, &f->v, &msg), VAERN_OK);
	load_aura(f);
	add_customer(f, uid);
	vault_close(f->v);
	f->v = NULL;
	/* Back to schema 3: the wrapped key in the subject row, the check
	 * value in meta, no keystore. */
	exec_sql(f, "ALTER TABLE subject ADD COLUMN wrapped_key BLOB;"
	            " UPDATE subject SET wrapped_key = (SELECT wrapped FROM"
	            " ks.subject_key AS k WHERE k.uid = subject.uid);"
	            " INSERT INTO meta(key, value) SELECT 'master_key_check',"
	            " check_value FROM ks.kek WHERE gen = 1;"
	            " DELETE FROM meta WHERE key = 'vault_id';"
	            " DROP TABLE visit;"
	            " UPDATE meta SET value = '3'"
	            " WHERE key = 'schema_version'");
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/keystore.db", f->dir);
		assert_int_equal(unlink(path), 0);
		snprintf(path, sizeof(path), "%s/keystore.db-wal", f->dir);
		(void)unlink(path);
		snprintf(path, sizeof(path), "%s/keystore.db-shm", f->dir);
		(void)unlink(path);
	}
	assert_int_equal(vault_open(f->dir, &f->v, &msg), VAERN_OK);
	assert_int_equal(
	        db_open_sqlite(f->db,
	                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 5000,
	                       &db),
	        DB_OK);
	assert_int_equal(db_prepare(db,
	                            "SELECT value FROM meta WHERE key"
	                            " = 'schema_version'",
	                            0, &s),
	                 DB_OK);
	assert_int_equal(db_step(s), DB_ROW);
	snprintf(version, sizeof(version), "%s", db_column_text(s, 0));
	db_finalize(s);
	db_close(db);
	/* Through schema 5 (issue 13's keystore), 6 (issue 17's incidents)
	 * and 7 (issue 11's per-category indexes). */
	assert_string_equal(version, "7");
	assert_int_equal(rows(f, "ks.subject_key"), 1);
	assert_int_equal(rows(f, "ks.kek"), 1);
	assert_int_equal(rows(f, "visit"), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(read_facts(f->v, "testshop", uid, collect, &c, &msg),
	                 VAERN_OK);
	assert_int_equal(c.n, NCUSTOMER);
	/* found by identifier: the blind indexes did not move */
	{
		unsigned char found[VAULT_UID_BYTES];

		assert_int_equal(vault_subject_find(f->v, "testshop", ID_EMAIL,
		                                    "anna@example.dk", found,
		                                    &msg),
		                 VAERN_OK);
		assert_memory_equal(found, uid, VAULT_UID_BYTES);
	}
	choose_statistics(f, "visitor-0001", 1);
	assert_int_equal(vault_visit_add(f->v, "aura-fiber", "visitor-0001",
	                                 &in, &done, &msg),
	                 VAERN_OK);
	assert_int_equal(rows(f, "visit"), 1);
}

/* Schema 4 (one identifier index per type) opens as 5: the vault rebuilds
 * the indexes per category from the sealed facts, and the subject is
 * found as before (AURA-LOGIN-1). Here the old index rows are dropped
 * altogether, so only a real rebuild finds them again. */
static void
test_schema_4_reindexes_per_category_AURA_LOGIN_1(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES], found[VAULT_UID_BYTES];
	int ids;

	add_customer(f, uid);
	ids = rows(f, "identifier");
	assert_true(ids >= 3);
	vault_close(f->v);
	f->v = NULL;
	exec_sql(f, "DELETE FROM identifier; DELETE FROM meta WHERE key ="
	            " 'identifier_index'; UPDATE meta SET value = '4'"
	            " WHERE key = 'schema_version'");
	assert_int_equal(rows(f, "identifier"), 0);
	assert_int_equal(vault_open(f->dir, &f->v, &msg), VAERN_OK);
	assert_int_equal(rows(f, "identifier"), ids);
	assert_int_equal(vault_subject_find(f->v, "testshop", ID_EMAIL,
	                                    "anna@example.dk", found, &msg),
	                 VAERN_OK);
	assert_memory_equal(found, uid, VAULT_UID_BYTES);
	/* Done once: a second open changes nothing. */
	vault_close(f->v);
	f->v = NULL;
	assert_int_equal(vault_open(f->dir, &f->v, &msg), VAERN_OK);
	assert_int_equal(rows(f, "identifier"), ids);
}

/* Bearer tokens: shown once, only a hash kept, constant-time check,
 * revocable (issue 3, section 2). */
static void
test_actors_and_tokens(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct vault_actor a;
	char token[VAULT_TOKEN_MAX], token2[VAULT_TOKEN_MAX],
	        bad[VAULT_TOKEN_MAX];
	size_t len;

	assert_int_equal(vault_actor_add(f->v, "testshop", "alice", "staff",
	                                 token, &msg),
	                 VAERN_OK);
	assert_int_equal(strncmp(token, "vaern_", 6), 0);
	assert_int_equal(vault_actor_add(f->v, "testshop", "alice", "staff",
	                                 token2, &msg),
	                 VAERN_E_EXISTS);
	assert_int_equal(
	        vault_actor_add(f->v, "testshop", "bob", "admin", token2, &msg),
	        VAERN_E_INVALID); /* no such role */
	assert_int_equal(vault_actor_add(f->v, "testshop", "bob smith", "staff",
	                                 token2, &msg),
	                 VAERN_E_INVALID); /* bad name */
	assert_int_equal(vault_actor_auth(f->v, token, &a, &msg), VAERN_OK);
	assert_string_equal(a.controller, "testshop");
	assert_string_equal(a.name, "alice");
	assert_string_equal(a.role, "staff");
	/* The secret is not stored: the database does not hold it. */
	assert_false(files_hold(f, (const unsigned char *)token + 6 + 17,
	                        strlen(token) - 6 - 17));
	/* A changed secret, id, prefix or length is refused alike. */
	len = strlen(token);
	memcpy(bad, token, len + 1);
	bad[len - 1] = bad[len - 1] == 'A' ? 'B' : 'A';
	assert_int_equal(vault_actor_auth(f->v, bad, &a, &msg), VAERN_E_DENIED);
	assert_string_equal(msg.text, "the bearer token is not valid");
	memcpy(bad, token, len + 1);
	bad[8] = bad[8] == '0' ? '1' : '0';
	assert_int_equal(vault_actor_auth(f->v, bad, &a, &msg), VAERN_E_DENIED);
	assert_int_equal(vault_actor_auth(f->v, token + 1, &a, &msg),
	                 VAERN_E_DENIED);
	assert_int_equal(vault_actor_auth(f->v, "", &a, &msg), VAERN_E_DENIED);
	memcpy(bad, token, len - 3);
	bad[len - 3] = '\0';
	assert_int_equal(vault_actor_auth(f->v, bad, &a, &msg), VAERN_E_DENIED);
	/* Revoked: refused; the name can be given to a new actor. */
	assert_int_equal(vault_actor_revoke(f->v, "testshop", "alice", &msg),
	                 VAERN_OK);
	assert_int_equal(vault_actor_auth(f->v, token, &a, &msg),
	                 VAERN_E_DENIED);
	assert_int_equal(vault_actor_revoke(f->v, "testshop", "alice", &msg),
	                 VAERN_E_NOTFOUND);
	assert_int_equal(vault_actor_add(f->v, "testshop", "alice", "staff",
	                                 token2, &msg),
	                 VAERN_OK);
	assert_int_equal(vault_actor_auth(f->v, token2, &a, &msg), VAERN_OK);
}

/* The audit hook of the gated-read tests: keeps the last event. */
struct audit_log {
	int n;
	int allowed;
	char categories[256];
	char rule[32];
	char purpose[64];
	int fail; /* 1: the audit trail refuses (disk full, ...) */
};

static enum vaern_err
audit_hook(void *arg, const struct vault_audit_event *e, struct vaern_msg *msg)
{
	struct audit_log *l = arg;

	if (l->fail)
		return vaern_fail(msg, VAERN_E_IO, "audit trail unavailable");
	l->n++;
	l->allowed = e->allowed;
	snprintf(l->categories, sizeof(l->categories), "%s", e->categories);
	snprintf(l->rule, sizeof(l->rule), "%s", e->rule);
	snprintf(l->purpose, sizeof(l->purpose), "%s", e->purpose);
	return VAERN_OK;
}

/* DESIGN "One gate", GDPR-32: every read goes through the gate and is
 * audited first; only released categories are decrypted. AURA-SHARE-1
 * need-to-know, GDPR-18 restriction, GDPR-21 objection, GDPR-7 consent. */
static void
test_gated_read_AURA_SHARE_1_GDPR_18_GDPR_21(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct audit_log log;
	struct gate_decision d;
	struct vault_actor staff = {1, "testshop", "alice", "staff", 0, {0}};
	struct vault_actor mkt = {2, "testshop", "bob", "marketing", 0, {0}};
	unsigned char uid[VAULT_UID_BYTES];
	const char *only_name[] = {"name"};
	struct vault_access acc = {
	        &staff, "customer_admin", GATE_READ, NULL, 0, NULL, NULL, NULL};
	struct collected c;

	add_customer(f, uid);
	memset(&log, 0, sizeof(log));
	memset(&c, 0, sizeof(c));
	/* No audit trail attached: nothing is released. */
	assert_int_equal(
	        vault_subject_access(f->v, uid, &acc, collect, &c, &d, &msg),
	        VAERN_E_DENIED);
	assert_int_equal(c.n, 0);
	vault_set_audit(f->v, audit_hook, &log);

	/* Allowed, audited, only the purpose's categories. */
	assert_int_equal(
	        vault_subject_access(f->v, uid, &acc, collect, &c, &d, &msg),
	        VAERN_OK);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.allowed, 1);
	assert_int_equal(c.n, NCUSTOMER);
	/* Asking for one category releases that one only. */
	memset(&c, 0, sizeof(c));
	acc.categories = only_name;
	acc.ncategories = 1;
	assert_int_equal(
	        vault_subject_access(f->v, uid, &acc, collect, &c, &d, &msg),
	        VAERN_OK);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.values[0], "Anna Hansen");
	assert_string_equal(log.categories, "name");

	/* AURA-SHARE-1: a role without the purpose gets nothing, and the
	 * refusal is audited too. */
	memset(&c, 0, sizeof(c));
	acc.actor = &mkt;
	assert_int_equal(
	        vault_subject_access(f->v, uid, &acc, collect, &c, &d, &msg),
	        VAERN_E_DENIED);
	assert_int_equal(c.n, 0);
	assert_int_equal(log.n, 3);
	assert_int_equal(log.allowed, 0);
	assert_string_equal(log.rule, "AURA-SHARE-1");

	/* GDPR-7: the newsletter rests on consent; none is on record. */
	acc.purpose = "newsletter";
	acc.categories = NULL;
	acc.ncategories = 0;
	assert_int_equal(
	        vault_subject_access(f->v, uid, &acc, collect, &c, &d, &msg),
	        VAERN_E_DENIED);
	assert_string_equal(log.rule, "GDPR-7");
	assert_int_equal(vault_consent_record(f->v, "testshop", uid,
	                                      "newsletter", "web_form", 0,
	                                      INT64_MIN, &msg),
	                 VAERN_OK);
	assert_int_equal(
	        vault_subject_access(f->v, uid, &acc, collect, &c, &d, &msg),
	        VAERN_OK);
	/* GDPR-21: an objection to direct marketing stops it. */
	assert_int_equal(vault_subject_object(f->v, "testshop", uid, 1, &msg),
	                 VAERN_OK);
	assert_int_equal(
	        vault_subject_access(f->v, uid, &acc, collect, &c, &d, &msg),
	        VAERN_E_DENIED);
	assert_string_equal(log.rule, "GDPR-21");
	assert_int_equal(vault_subject_object(f->v, "testshop", uid, 0, &msg),
	                 VAERN_OK);
	/* GDPR-7: withdrawal stops it again, and is not retroactive: the
	 * ledger keeps both records. */
	assert_int_equal(vault_consent_record(f->v, "testshop", uid,
	                                      "newsletter", "phone", 1,
	                                      INT64_MIN, &msg),
	                 VAERN_OK);
	assert_int_equal(
	        vault_subject_access(f->v, uid, &acc, collect, &c, &d, &msg),
	        VAERN_E_DENIED);
	assert_int_equal(rows(f, "consent"), 2);

	/* GDPR-18: while restricted, only storage. */
	acc.actor = &staff;
	acc.purpose = "customer_admin";
	assert_int_equal(vault_subject_restrict(f->v, "testshop", uid, 1, &msg),
	                 VAERN_OK);
	memset(&c, 0, sizeof(c));
	assert_int_equal(
	        vault_subject_access(f->v, uid, &acc, collect, &c, &d, &msg),
	        VAERN_E_DENIED);
	assert_string_equal(log.rule, "GDPR-18");
	assert_int_equal(c.n, 0);
	assert_int_equal(vault_subject_restrict(f->v, "testshop", uid, 0, &msg),
	                 VAERN_OK);

	/* No audit entry, no release. */
	log.fail = 1;
	assert_int_equal(
	        vault_subject_access(f->v, uid, &acc, collect, &c, &d, &msg),
	        VAERN_E_IO);
	assert_int_equal(c.n, 0);
}

static void
test_uid_parse(void **state)
{
	unsigned char uid[VAULT_UID_BYTES];
	char hex[VAULT_UID_HEX];

	(void)state;
	assert_int_equal(
	        vault_uid_parse("00112233445566778899aabbccddeeff", uid, NULL),
	        VAERN_OK);
	vault_uid_format(uid, hex);
	assert_string_equal(hex, "00112233445566778899aabbccddeeff");
	assert_int_equal(vault_uid_parse("0011", uid, NULL), VAERN_E_INVALID);
	assert_int_equal(
	        vault_uid_parse("00112233445566778899aabbccddeefg", uid, NULL),
	        VAERN_E_INVALID);
	assert_int_equal(
	        vault_uid_parse("'; DROP TABLE subject; --xxxxxxx", uid, NULL),
	        VAERN_E_INVALID);
}

static enum vaern_err
count_facts(void *arg, const struct vault_fact_out *fo)
{
	(void)fo;
	(*(int *)arg)++;
	return VAERN_OK;
}

/* A verified request of type about uid; its id into id. */
static void
verified_request(struct fixture *f, const unsigned char *uid, const char *type,
                 char id[VAULT_REQUEST_ID_LEN])
{
	static const struct vault_request_actor who = {"mette", "staff"};
	struct vault_request_in in = {type, uid,  "email", INT64_MIN,
	                              NULL, NULL, 0};
	struct vault_request r;
	struct vaern_msg msg = {{0}};

	if (vault_request_add(f->v, "testshop", &in, &who, &r, &msg) ||
	    vault_request_attest(f->v, "testshop", r.id, "id card", &who, &r,
	                         &msg))
		fail_msg("request: %s", msg.text);
	memcpy(id, r.id, VAULT_REQUEST_ID_LEN);
}

/*
 * Issue 5: a right executed through a request is one transaction with
 * the request's transition (GDPR-16: all or none), joins a caller's
 * batch, and is refused on a closed request; a request authorises the
 * release of its report only when verified, open, of that kind and about
 * that subject, every decision audited (GDPR-15, AOPT-ACCESS-1).
 */
static void
test_request_executions_GDPR_16_GDPR_15(void **state)
{
	static const struct vault_request_actor who = {"mette", "staff"};
	struct fixture *f = *state;
	struct vaern_msg msg = {{0}};
	struct vault_actor staff = {1, "testshop", "mette", "staff", 0, {0}};
	unsigned char uid[VAULT_UID_BYTES], other[VAULT_UID_BYTES];
	char rect[VAULT_REQUEST_ID_LEN], access[VAULT_REQUEST_ID_LEN];
	struct vault_rectification ch[2];
	struct vault_request r;
	struct collected c;
	int audits = 0, before, n = 0;
	const struct vault_fact_in second[] = {
	        FACT("name", "Bo Berg", "customer_admin"),
	        FACT("address", "Eksempelvej 3, 8000 Aarhus C",
	             "customer_admin"),
	        FACT("phone", "+45 21 31 41 51", "customer_admin"),
	};

	vault_set_audit(f->v, audit_none, &audits);
	add_customer(f, uid);
	verified_request(f, uid, "rectification", rect);
	memset(ch, 0, sizeof(ch));
	ch[0].fact = 1;
	ch[0].value = "Anna Holm";
	ch[1].fact = 4;
	ch[1].value = "not an e-mail";
	/* Inside a caller's batch: the failure leaves it to roll back. */
	assert_int_equal(vault_begin(f->v, &msg), VAERN_OK);
	assert_int_equal(vault_request_rectify(f->v, "testshop", rect, ch, 2, 1,
	                                       &who, &r, &msg),
	                 VAERN_E_INVALID);
	assert_non_null(strstr(msg.text, "category 'email'"));
	assert_null(strstr(msg.text, "not an e-mail"));
	vault_rollback(f->v);
	memset(&c, 0, sizeof(c));
	assert_int_equal(read_facts(f->v, "testshop", uid, collect, &c, &msg),
	                 VAERN_OK);
	vault_set_audit(f->v, audit_none, &audits);
	assert_string_equal(c.values[0], "Anna Hansen");
	assert_int_equal(vault_request_get(f->v, "testshop", rect, &r, &msg),
	                 VAERN_OK);
	assert_int_equal(r.status, RIGHTS_VERIFIED);
	/* Its own transaction: both values, the request completed, its
	 * audit entry. */
	ch[1].value = "anna.holm@example.dk";
	before = audits;
	assert_int_equal(vault_request_rectify(f->v, "testshop", rect, ch, 2, 1,
	                                       &who, &r, &msg),
	                 VAERN_OK);
	assert_int_equal(r.status, RIGHTS_COMPLETED);
	assert_string_equal(ch[1].category, "email");
	/* The execution's entry, and the message telling the person it is
	 * completed (GDPR-12, issue 10): the gate's read of the address, and
	 * the send. */
	assert_int_equal(audits, before + 3);
	memset(&c, 0, sizeof(c));
	assert_int_equal(read_facts(f->v, "testshop", uid, collect, &c, &msg),
	                 VAERN_OK);
	vault_set_audit(f->v, audit_none, &audits);
	assert_string_equal(c.values[0], "Anna Holm");
	assert_string_equal(c.values[3], "anna.holm@example.dk");
	ch[0].value = "Anna Berg";
	assert_int_equal(vault_request_rectify(f->v, "testshop", rect, ch, 1, 1,
	                                       &who, &r, &msg),
	                 VAERN_E_INVALID);
	assert_non_null(strstr(msg.text, "completed"));
	/* The report's authority. */
	verified_request(f, uid, "access", access);
	assert_int_equal(
	        vault_subject_export(f->v, &staff, uid, VAULT_EXPORT_ACCESS,
	                             NULL, count_facts, &n, NULL, NULL, &msg),
	        VAERN_E_DENIED); /* no request: the DPO only */
	before = audits;
	assert_int_equal(vault_subject_export(
	                         f->v, &staff, uid, VAULT_EXPORT_PORTABILITY,
	                         access, count_facts, &n, NULL, NULL, &msg),
	                 VAERN_E_INVALID);
	assert_non_null(strstr(msg.text, "not portability"));
	assert_int_equal(
	        vault_subject_export(f->v, &staff, uid, VAULT_EXPORT_ACCESS,
	                             rect, count_facts, &n, NULL, NULL, &msg),
	        VAERN_E_INVALID);
	assert_int_equal(audits, before + 2); /* refusals are audited */
	assert_int_equal(n, 0);
	if (vault_subject_add(f->v, "testshop", second, 3, NULL, 0, other,
	                      &msg) != VAERN_OK)
		fail_msg("add: %s", msg.text);
	assert_int_equal(
	        vault_subject_export(f->v, &staff, other, VAULT_EXPORT_ACCESS,
	                             access, count_facts, &n, NULL, NULL, &msg),
	        VAERN_E_INVALID);
	assert_non_null(strstr(msg.text, "another subject"));
	assert_int_equal(
	        vault_subject_export(f->v, &staff, uid, VAULT_EXPORT_ACCESS,
	                             "6f1ac3b2-4c1d-4e8a-9b7f-0123456789ab",
	                             count_facts, &n, NULL, NULL, &msg),
	        VAERN_E_NOTFOUND);
	assert_int_equal(n, 0);
	assert_int_equal(
	        vault_subject_export(f->v, &staff, uid, VAULT_EXPORT_ACCESS,
	                             access, count_facts, &n, NULL, NULL, &msg),
	        VAERN_OK);
	assert_int_equal(n, (int)NCUSTOMER);
	assert_int_equal(vault_request_set_status(f->v, "testshop", access,
	                                          RIGHTS_COMPLETED, NULL, &who,
	                                          &r, &msg),
	                 VAERN_OK);
	assert_int_equal(
	        vault_subject_export(f->v, &staff, uid, VAULT_EXPORT_ACCESS,
	                             access, count_facts, &n, NULL, NULL, &msg),
	        VAERN_E_INVALID);
	assert_int_equal(n, (int)NCUSTOMER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_add_find_show_GDPR_32,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_nothing_in_clear_GDPR_32,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_read_snapshot, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_moved_ciphertext_fails_GDPR_32, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_key_file_mode_GDPR_32,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bad_input_changes_nothing,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_mandatory_categories_CEK_MAND_1, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_consent_recorded_GDPR_7_CEK_SPECIAL_1, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_duplicate_identifier,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_rectify_GDPR_16, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_erase_GDPR_17, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_erase_shreds_key_GDPR_17,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_controllers_separate,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_batch_rollback, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_add_many, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_sweep_killed_half_way_completes_GDPR_17, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_sweep_takes_each_subject_whole_GDPR_17, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_sweep_stops_between_batches, setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_sweep_honours_a_hold_placed_meanwhile_CEK_HOLD_1,
	                setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_sweep_pages_past_facts_without_a_rule, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_sweep_keeps_a_subject_with_a_consent_in_force_TEL_MKT_2,
	                setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_visits_sealed_under_day_keys_AURA_RET_1, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_sweep_takes_visits_in_batches_AURA_RET_1, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_schema_4_reindexes_per_category_AURA_LOGIN_1,
	                setup, teardown),
	        cmocka_unit_test_setup_teardown(test_schema_3_migrates_to_5,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_actors_and_tokens, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(
	                test_gated_read_AURA_SHARE_1_GDPR_18_GDPR_21, setup,
	                teardown),
	        cmocka_unit_test(test_uid_parse),
	        cmocka_unit_test(test_text_hash_parse_GDPR_7),
	        cmocka_unit_test_setup_teardown(
	                test_consent_ledger_GDPR_7_AURA_COOKIE_1, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(
	                test_request_executions_GDPR_16_GDPR_15, setup,
	                teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
