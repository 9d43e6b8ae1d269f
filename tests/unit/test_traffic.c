/*
 * test_traffic.c -- the retained-data store's parts (issue 18), table
 * driven: the identifier validators (TEL-CAT-2), the record parser's
 * errors by line and field, the sealed day partitions (a changed byte is
 * caught, a torn tail is not read), the sweep's edge (TEL-LOG-1) and the
 * delivery's signature (TEL-LOG-3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "traffic/traffic.h"

/* ---- the validators ----------------------------------------------------- */

struct id_case {
	const char *what;
	int kind; /* 0 msisdn, 1 imsi, 2 imei */
	const char *text;
	int ok;
	uint64_t value;
};

static const struct id_case id_cases[] = {
        {"TEL-CAT-2 Danish mobile", 0, "+4512345678", 1, 4512345678ULL},
        {"TEL-CAT-2 15 digits", 0, "+123456789012345", 1, 123456789012345ULL},
        {"TEL-CAT-2 16 digits", 0, "+1234567890123456", 0, 0},
        {"TEL-CAT-2 no plus", 0, "4512345678", 0, 0},
        {"TEL-CAT-2 country code 0", 0, "+0512345678", 0, 0},
        {"TEL-CAT-2 too short", 0, "+45123", 0, 0},
        {"TEL-CAT-2 a letter", 0, "+45123a5678", 0, 0},
        {"TEL-CAT-2 empty", 0, "", 0, 0},
        {"TEL-CAT-2 IMSI 15", 1, "238010000000001", 1, 238010000000001ULL},
        {"TEL-CAT-2 IMSI 14", 1, "23801000000001", 1, 23801000000001ULL},
        {"TEL-CAT-2 IMSI 13", 1, "2380100000001", 0, 0},
        {"TEL-CAT-2 IMSI 16", 1, "2380100000000011", 0, 0},
        {"TEL-CAT-2 IMSI MCC 1xx", 1, "138010000000001", 0, 0},
        {"TEL-CAT-2 IMEI Luhn ok", 2, "490154203237518", 1, 490154203237518ULL},
        {"TEL-CAT-2 IMEI Luhn ok 2", 2, "356938035643809", 1,
         356938035643809ULL},
        {"TEL-CAT-2 IMEI Luhn bad", 2, "490154203237519", 0, 0},
        {"TEL-CAT-2 IMEI 14 digits", 2, "49015420323751", 0, 0},
};

static void
test_identifiers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(id_cases) / sizeof(id_cases[0]); i++) {
		const struct id_case *c = &id_cases[i];
		uint64_t v = 0;
		uint8_t nd;
		enum vaern_err err =
		        c->kind == 0   ? traffic_parse_msisdn(c->text, &v)
		        : c->kind == 1 ? traffic_parse_imsi(c->text, &v, &nd)
		                       : traffic_parse_imei(c->text, &v);

		if ((err == VAERN_OK) != c->ok)
			fail_msg("%s: expected %s", c->what,
			         c->ok ? "valid" : "invalid");
		if (c->ok && v != c->value)
			fail_msg("%s: value", c->what);
	}
}

/* ---- a store on a temporary directory ----------------------------------- */

struct fixture {
	char dir[64];
	struct traffic_store *st;
	unsigned char key[TRAFFIC_KEY_BYTES]; /* the day keys' secret */
	long erased_before;                   /* days before it: no key */
};

/* The day keys of the fixture, in memory: a keyed hash of the day, none
 * for a day erased. */
static enum vaern_err
mem_key_get(void *arg, const char *controller, long day, int create,
            unsigned char *key, struct vaern_msg *msg)
{
	struct fixture *f = arg;
	unsigned char in[8];

	(void)controller;
	(void)create;
	if (day < f->erased_before)
		return vaern_fail(msg, VAERN_E_NOTFOUND, "no day key");
	memcpy(in, &day, sizeof(in));
	crypto_generichash(key, TRAFFIC_KEY_BYTES, in, sizeof(in), f->key,
	                   sizeof(f->key));
	return VAERN_OK;
}

static enum vaern_err
mem_key_drop(void *arg, const char *controller, long day, struct vaern_msg *msg)
{
	struct fixture *f = arg;

	(void)controller;
	(void)msg;
	if (day > f->erased_before)
		f->erased_before = day;
	return VAERN_OK;
}

static const char cells_csv[] = "mcc,mnc,lac,ci,lat,lon,azimuth\n"
                                "238,01,100,1001,55.6761,12.5683,120\n"
                                "238,01,100,1002,55.68,12.57,\n";

static const char header[] =
        "kind,start,end,a,b,c,imsi,imei,start_cell,end_cell\n";
static const char good[] =
        "call,2025-03-01T10:00:00Z,2025-03-01T10:05:00Z,+4512345678,"
        "+4587654321,,238010000000001,490154203237518,238-01-100-1001,"
        "238-01-100-1002\n";

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct traffic_keys keys = {mem_key_get, mem_key_drop, NULL};
	struct period keep = {1, PERIOD_YEARS};
	struct vaern_msg msg;
	char path[128];
	size_t added;
	FILE *fp;

	if (f == NULL || sodium_init() < 0)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vaern-ttr-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	randombytes_buf(f->key, sizeof(f->key));
	f->erased_before = LONG_MIN;
	keys.arg = f;
	if (traffic_open(f->dir, "telenor", &keys, keep, &f->st, &msg) !=
	    VAERN_OK)
		return -1;
	snprintf(path, sizeof(path), "%s/cells-in.csv", f->dir);
	fp = fopen(path, "w");
	if (fp == NULL)
		return -1;
	fputs(cells_csv, fp);
	fclose(fp);
	if (traffic_cells_load(f->st, path, &added, &msg) != VAERN_OK ||
	    added != 2)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	traffic_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* ---- the parser's errors ------------------------------------------------- */

struct bad_case {
	const char *what;
	const char *from, *to; /* replaced in the good line */
	const char *want;
};

static const struct bad_case bad_cases[] = {
        {"TEL-CAT-2 A-number", "+4512345678", "4512345678",
         "a: not an E.164 number"},
        {"TEL-CAT-2 unknown cell", "238-01-100-1002", "238-01-100-1003",
         "end_cell: not a known cell"},
        {"TEL-CAT-2 malformed cell", "238-01-100-1001", "238-1-100",
         "start_cell: not a cell id"},
        {"TEL-CAT-2 times out of order", "2025-03-01T10:05:00Z",
         "2025-03-01T09:00:00Z", "end: before start"},
        {"TEL-CAT-2 IMEI", "490154203237518", "490154203237517",
         "imei: not an IMEI"},
        {"TEL-CAT-2 kind", "call,", "telex,", "kind: not one of"},
};

static void
test_bad_records(void **state)
{
	struct fixture *f = *state;
	int64_t now = 1743465600; /* 2025-04-01 */

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		char text[1024], line[512];
		const char *at = strstr(good, c->from);
		struct traffic_batch b = {0};
		struct traffic_errors errs;
		struct vaern_msg msg;

		memset(&errs, 0, sizeof(errs));
		assert_non_null(at);
		snprintf(line, sizeof(line), "%.*s%s%s", (int)(at - good), good,
		         c->to, at + strlen(c->from));
		snprintf(text, sizeof(text), "%s%s%s", header, good, line);
		assert_int_equal(traffic_parse(f->st, TRAFFIC_CSV, text,
		                               strlen(text), now, &b, &errs,
		                               &msg),
		                 VAERN_OK);
		if (errs.count != 1 || errs.items[0].line != 3 ||
		    strstr(errs.items[0].what, c->want) == NULL)
			fail_msg("%s: got %zu errors, line %zu '%s'", c->what,
			         errs.count, errs.items[0].line,
			         errs.items[0].what);
		/* No value in the message. */
		assert_null(strstr(errs.items[0].what, "4512345678"));
		assert_int_equal(b.n, 1);
		traffic_batch_free(&b);
	}
}

/*
 * NDJSON lines: the common shape is read without jansson, anything else
 * by jansson; both must answer alike (TEL-CAT-2). want NULL: stored.
 */
#define NDJ_TAIL                                                               \
	"\"a\":\"+4512345678\",\"b\":\"+4587654321\",\"imsi\":"                \
	"\"238010000000001\",\"imei\":\"490154203237518\",\"start_cell\":"     \
	"\"238-01-100-1001\""
static const struct ndjson_case {
	const char *what, *line, *want;
} ndjson_cases[] = {
        {"flat",
         "{\"kind\":\"call\",\"start\":\"2025-03-01T10:00:00Z\"," NDJ_TAIL "}",
         NULL},
        {"spaces, null end",
         " { \"kind\" : \"sms\" , \"end\" : null , "
         "\"start\":\"2025-03-01T10:00:00Z\"," NDJ_TAIL " } \r",
         NULL},
        {"an escape (jansson)",
         "{\"kind\":\"c\\u0061ll\",\"start\":"
         "\"2025-03-01T10:00:00Z\"," NDJ_TAIL "}",
         NULL},
        {"empty object", "{}", "kind: missing"},
        {"a missing field", "{\"kind\":\"call\"," NDJ_TAIL "}",
         "start: missing"},
        {"a number",
         "{\"kind\":5,\"start\":\"2025-03-01T10:00:00Z\"," NDJ_TAIL "}",
         "kind: must be a string"},
        {"a repeated key",
         "{\"kind\":\"call\",\"kind\":\"sms\",\"start\":"
         "\"2025-03-01T10:00:00Z\"," NDJ_TAIL "}",
         "line: not a JSON object"},
        {"an unknown key",
         "{\"kind\":\"call\",\"x\":\"1\",\"start\":"
         "\"2025-03-01T10:00:00Z\"," NDJ_TAIL "}",
         "line: unknown key"},
        {"trailing bytes",
         "{\"kind\":\"call\",\"start\":"
         "\"2025-03-01T10:00:00Z\"," NDJ_TAIL "} x",
         "line: not a JSON object"},
        {"not closed", "{\"kind\":\"call\",\"start\":\"2025-03-01",
         "line: "
         "not a JSON "
         "object"},
        {"an empty kind",
         "{\"kind\":\"\",\"start\":"
         "\"2025-03-01T10:00:00Z\"," NDJ_TAIL "}",
         "kind: not one of"},
        {"nul",
         "{\"kind\":nul,\"start\":\"2025-03-01T10:00:00Z\"," NDJ_TAIL "}",
         "line: not a JSON object"},
};

static void
test_TEL_CAT_2_ndjson_shapes(void **state)
{
	struct fixture *f = *state;
	int64_t now = 1743465600; /* 2025-04-01 */

	for (size_t i = 0; i < sizeof(ndjson_cases) / sizeof(ndjson_cases[0]);
	     i++) {
		const struct ndjson_case *c = &ndjson_cases[i];
		struct traffic_batch b = {0};
		struct traffic_errors errs;
		struct vaern_msg msg;

		memset(&errs, 0, sizeof(errs));
		assert_int_equal(traffic_parse(f->st, TRAFFIC_NDJSON, c->line,
		                               strlen(c->line), now, &b, &errs,
		                               &msg),
		                 VAERN_OK);
		if (c->want == NULL ? errs.count != 0 || b.n != 1
		                    : errs.count != 1 || b.n != 0 ||
		                              strstr(errs.items[0].what,
		                                     c->want) == NULL)
			fail_msg("%s: got %zu records, %zu errors, '%s'",
			         c->what, b.n, errs.count,
			         errs.count > 0 ? errs.items[0].what : "");
		traffic_batch_free(&b);
	}
}

/* ---- sealed blocks, torn tails, the sweep's edge ------------------------ */

static enum vaern_err
count(void *arg, const struct traffic_record *r)
{
	(void)r;
	(*(size_t *)arg)++;
	return VAERN_OK;
}

static void
store_one(struct fixture *f)
{
	struct traffic_batch b = {0};
	struct traffic_errors errs;
	struct vaern_msg msg;
	char text[1024];

	memset(&errs, 0, sizeof(errs));
	snprintf(text, sizeof(text), "%s%s", header, good);
	assert_int_equal(traffic_parse(f->st, TRAFFIC_CSV, text, strlen(text),
	                               1743465600, &b, &errs, &msg),
	                 VAERN_OK);
	assert_int_equal(errs.count, 0);
	assert_int_equal(traffic_append(f->st, b.recs, b.n, &msg), VAERN_OK);
	traffic_batch_free(&b);
}

static size_t
query_a(struct fixture *f, enum vaern_err *err)
{
	struct traffic_query q = {0};
	struct vaern_msg msg;
	size_t n = 0;

	q.target = TRAFFIC_BY_MSISDN;
	q.value = 4512345678ULL;
	q.from = 1740787200; /* 2025-03-01 */
	q.to = q.from + 86400;
	*err = traffic_query(f->st, &q, count, &n, &msg);
	return n;
}

static void
test_sealed_block_tamper_and_torn_tail(void **state)
{
	struct fixture *f = *state;
	char path[128];
	enum vaern_err err;
	off_t size;
	int fd;
	unsigned char byte;

	store_one(f);
	assert_int_equal(query_a(f, &err), 1);
	assert_int_equal(err, VAERN_OK);
	snprintf(path, sizeof(path), "%s/traffic/telenor/2025-03-01.day",
	         f->dir);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	size = lseek(fd, 0, SEEK_END);
	/* A changed byte of the sealed records is caught. */
	assert_int_equal(pread(fd, &byte, 1, size - 20), 1);
	byte ^= 1;
	assert_int_equal(pwrite(fd, &byte, 1, size - 20), 1);
	query_a(f, &err);
	assert_int_equal(err, VAERN_E_CRYPTO);
	/* A block cut short (an append under way) is not read. */
	assert_int_equal(ftruncate(fd, size - 10), 0);
	assert_int_equal(query_a(f, &err), 0);
	assert_int_equal(err, VAERN_OK);
	close(fd);
}

/* A day file left empty (an append killed before its first byte) holds
 * nothing and does not stop a query. */
static void
test_empty_day_file(void **state)
{
	struct fixture *f = *state;
	char path[128];
	enum vaern_err err;
	int fd;

	store_one(f);
	snprintf(path, sizeof(path), "%s/traffic/telenor/2025-03-01.day",
	         f->dir);
	assert_int_equal(unlink(path), 0);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(query_a(f, &err), 0);
	assert_int_equal(err, VAERN_OK);
	store_one(f); /* the day's first append writes its header */
	assert_int_equal(query_a(f, &err), 1);
	assert_int_equal(err, VAERN_OK);
}

static void
test_TEL_LOG_1_sweep_edge(void **state)
{
	struct fixture *f = *state;
	struct vaern_msg msg;
	uint64_t days, recs;
	enum vaern_err err;
	int64_t expiry = 1772409600; /* 2026-03-02: a year after the day */

	store_one(f);
	assert_int_equal(traffic_sweep(f->st, expiry - 1, &days, &recs, &msg),
	                 VAERN_OK);
	assert_int_equal(days, 0);
	assert_int_equal(query_a(f, &err), 1);
	assert_int_equal(traffic_sweep(f->st, expiry, &days, &recs, &msg),
	                 VAERN_OK);
	assert_int_equal(days, 1);
	assert_int_equal(recs, 1);
	assert_int_equal(query_a(f, &err), 0);
}

static enum vaern_err
add_to(void *arg, const struct traffic_record *r)
{
	return traffic_delivery_add(arg, r);
}

static void
test_TEL_LOG_3_signature(void **state)
{
	struct fixture *f = *state;
	struct traffic_order o = {"DK", "NSK", "R-1", "C-1", "19433692"};
	unsigned char seed[TRAFFIC_SIGN_SEED_BYTES], pk[TRAFFIC_PUBKEY_BYTES];
	unsigned char other[TRAFFIC_PUBKEY_BYTES], digest[TRAFFIC_DIGEST_BYTES];
	struct traffic_query q = {0};
	struct vaern_msg msg;
	char *out;
	size_t len;

	store_one(f);
	randombytes_buf(seed, sizeof(seed));
	traffic_sign_pubkey(seed, pk);
	randombytes_buf(other, sizeof(other));
	for (int xml = 0; xml <= 1; xml++) {
		struct traffic_delivery *d = traffic_delivery_new(f->st, &o, 0);

		assert_non_null(d);
		q.target = TRAFFIC_BY_IMSI;
		q.value = 238010000000001ULL;
		q.from = 1740787200;
		q.to = q.from + 86400;
		assert_int_equal(traffic_query(f->st, &q, add_to, d, &msg),
		                 VAERN_OK);
		assert_int_equal(traffic_delivery_count(d), 1);
		assert_int_equal(traffic_delivery_finish(d, xml, seed, &out,
		                                         &len, digest, &msg),
		                 VAERN_OK);
		assert_int_equal(traffic_delivery_verify(out, len, pk, &msg),
		                 VAERN_OK);
		/* Another key: refused. */
		assert_int_equal(traffic_delivery_verify(out, len, other, &msg),
		                 VAERN_E_INVALID);
		/* A changed IMSI digit: refused. */
		char *at = strstr(out, "238010000000001");
		assert_non_null(at);
		at[14] = '9';
		assert_int_equal(traffic_delivery_verify(out, len, pk, &msg),
		                 VAERN_E_INVALID);
		free(out);
		traffic_delivery_free(d);
	}
	/* An order without a reference is refused. */
	o.reference = "";
	assert_int_equal(traffic_order_check(&o, &msg), VAERN_E_INVALID);
	assert_non_null(strstr(msg.text, "reference"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_identifiers),
	        cmocka_unit_test_setup_teardown(test_bad_records, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_TEL_CAT_2_ndjson_shapes,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(
	                test_sealed_block_tamper_and_torn_tail, setup,
	                teardown),
	        cmocka_unit_test_setup_teardown(test_empty_day_file, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_TEL_LOG_1_sweep_edge,
	                                        setup, teardown),
	        cmocka_unit_test_setup_teardown(test_TEL_LOG_3_signature, setup,
	                                        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
