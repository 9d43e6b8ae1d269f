/*
 * cmd_traffic.c -- vaern traffic: the telecom retained-data store (issue
 * 18; TEL-LOG-1..3, TEL-CAT-2; docs/traffic.md).
 *
 *   vaern traffic cells  --controller ID FILE
 *   vaern traffic import --controller ID [--format csv|ndjson|binary]
 *                        [--skip-bad] FILE|-
 *   vaern traffic plan   --controller ID
 *   vaern traffic sweep  [--controller ID]
 *   vaern traffic query  --controller ID --token TOKEN
 *                        --authority A --reference R --case C
 *                        [--country CC] --from T --to T
 *                        (--msisdn N | --imsi N | --imei N | --cell ID
 *                         | --area LAT,LON,LAT,LON) [--format json|xml]
 *   vaern traffic verify --controller ID FILE|-
 *   vaern traffic pubkey --controller ID
 *
 * The query takes the caller's bearer token (or VAERN_TOKEN): only a
 * cleared role reads the store (TEL-LOG-2), and every answer or refusal is
 * audited in DIR/audit.db before anything is printed.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audit/audit.h"
#include "../calendar/calendar.h"
#include "../traffic/traffic_access.h"
#include "../vault/vault.h"
#include "cli.h"

const char cli_traffic_usage[] =
        "usage: vaern traffic cells  --controller ID FILE\n"
        "       vaern traffic import --controller ID "
        "[--format csv|ndjson|binary] "
        "[--skip-bad] FILE|-\n"
        "       vaern traffic plan   --controller ID\n"
        "       vaern traffic sweep  [--controller ID]\n"
        "       vaern traffic query  --controller ID --token TOKEN "
        "--authority A\n"
        "                            --reference R --case C [--country CC]\n"
        "                            --from TIME --to TIME (--msisdn N | "
        "--imsi N |\n"
        "                            --imei N | --cell ID | --area "
        "LAT,LON,LAT,LON)\n"
        "                            [--format json|xml]\n"
        "       vaern traffic verify --controller ID FILE|-\n"
        "       vaern traffic pubkey --controller ID\n";

#define IMPORT_MAX ((size_t)1 << 31) /* bytes of one import file */

/* The options of every subcommand; a subcommand refuses what it does not
 * take. */
struct opts {
	const char *controller, *format, *token, *authority, *reference,
	        *case_id, *country, *from, *to, *msisdn, *imsi, *imei, *cell,
	        *area, *file;
	int skip_bad;
};

static int
usage(const char *text)
{
	fprintf(stderr, "vaern traffic: %s\n%s", text, cli_traffic_usage);
	return EXIT_USAGE;
}

static int
take_opts(int argc, char **argv, struct opts *o)
{
	static const char *const names[] = {
	        "--controller", "--format", "--token",   "--authority",
	        "--reference",  "--case",   "--country", "--from",
	        "--to",         "--msisdn", "--imsi",    "--imei",
	        "--cell",       "--area"};
	const char **slots[] = {&o->controller, &o->format,    &o->token,
	                        &o->authority,  &o->reference, &o->case_id,
	                        &o->country,    &o->from,      &o->to,
	                        &o->msisdn,     &o->imsi,      &o->imei,
	                        &o->cell,       &o->area};

	for (int i = 1; i < argc; i++) {
		size_t k;

		if (strcmp(argv[i], "--skip-bad") == 0) {
			o->skip_bad = 1;
			continue;
		}
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcmp(argv[i], names[k]) == 0)
				break;
		if (k < sizeof(names) / sizeof(names[0])) {
			if (i + 1 >= argc)
				return -1;
			*slots[k] = argv[++i];
			continue;
		}
		if ((argv[i][0] == '-' && argv[i][1] != '\0') ||
		    o->file != NULL)
			return -1;
		o->file = argv[i];
	}
	return 0;
}

struct session {
	struct vault *v;
	struct traffic_store *st;
	const struct policy *p;
	struct cli_audit_local al; /* where its audit entries go */
};

static enum vaern_err
audit_to_file(void *arg, const struct audit_entry *e, struct vaern_msg *msg)
{
	struct session *s = arg;

	return cli_traffic_audit(&s->al, e, msg);
}

static int
session_open(const char *what, const char *controller, struct session *s)
{
	struct vaern_msg msg = {{0}};
	enum vaern_err err;

	memset(s, 0, sizeof(*s));
	if (controller == NULL)
		return usage("--controller is required");
	if ((err = vault_open(cli_globals.data_dir, &s->v, &msg)) != VAERN_OK)
		return cli_report(what, err, &msg);
	if (cli_audit_local(s->v, &s->al) != 0) {
		vault_close(s->v);
		s->v = NULL;
		return EXIT_FAILURE_;
	}
	err = traffic_store_for(s->v, cli_globals.data_dir, controller, &s->st,
	                        &s->p, &msg);
	if (err != VAERN_OK) {
		vault_close(s->v);
		s->v = NULL;
		return cli_report(what, err, &msg);
	}
	return EXIT_OK;
}

static void
session_close(struct session *s)
{
	traffic_close(s->st);
	vault_close(s->v);
}

static int
cmd_cells(const struct opts *o)
{
	struct session s;
	struct vaern_msg msg = {{0}};
	size_t added;
	enum vaern_err err;
	int rc;

	if (o->file == NULL)
		return usage("cells: a FILE is required");
	if ((rc = session_open("traffic cells", o->controller, &s)) != EXIT_OK)
		return rc;
	err = traffic_cells_load(s.st, o->file, &added, &msg);
	session_close(&s);
	if (err != VAERN_OK)
		return cli_report("traffic cells", err, &msg);
	return cli_print_json(json_pack("{s:I}", "added", (json_int_t)added));
}

/* TEL-LOG-1, TEL-CAT-2: validated, all or nothing per batch. */
static int
traffic_import(const struct opts *o)
{
	struct session s;
	struct vaern_msg msg = {{0}};
	struct traffic_batch b = {0};
	struct traffic_errors errs;
	enum traffic_format fmt = TRAFFIC_CSV;
	char *text = NULL, reason[AUDIT_TEXT_MAX];
	size_t len = 0;
	enum vaern_err err;
	int rc;

	memset(&errs, 0, sizeof(errs));
	if (o->file == NULL)
		return usage("import: a FILE (or -) is required");
	if (o->format != NULL && strcmp(o->format, "ndjson") == 0)
		fmt = TRAFFIC_NDJSON;
	else if (o->format != NULL && strcmp(o->format, "binary") == 0)
		fmt = TRAFFIC_BINARY;
	else if (o->format != NULL && strcmp(o->format, "csv") != 0)
		return usage("--format: csv, ndjson or binary");
	else if (o->format == NULL && strlen(o->file) > 7 &&
	         strcmp(o->file + strlen(o->file) - 7, ".ndjson") == 0)
		fmt = TRAFFIC_NDJSON;
	else if (o->format == NULL && strlen(o->file) > 5 &&
	         strcmp(o->file + strlen(o->file) - 5, ".vtrb") == 0)
		fmt = TRAFFIC_BINARY;
	if ((rc = session_open("traffic import", o->controller, &s)) != EXIT_OK)
		return rc;
	err = traffic_read_file(o->file, IMPORT_MAX, &text, &len, &msg);
	if (err == VAERN_OK)
		err = traffic_parse(s.st, fmt, text, len, clock_now(), &b,
		                    &errs, &msg);
	if (text != NULL) {
		sodium_memzero(text, len);
		free(text);
	}
	if (err != VAERN_OK) {
		rc = cli_report("traffic import", err, &msg);
		goto done;
	}
	if (errs.count > 0) {
		for (size_t i = 0; i < errs.count && i < TRAFFIC_ERRORS_MAX;
		     i++)
			fprintf(stderr,
			        fmt == TRAFFIC_BINARY
			                ? "vaern: traffic import: %s: record "
			                  "%zu: %s\n"
			                : "vaern: traffic import: %s:%zu: %s\n",
			        strcmp(o->file, "-") == 0 ? "stdin" : o->file,
			        errs.items[i].line, errs.items[i].what);
		if (errs.count > TRAFFIC_ERRORS_MAX)
			fprintf(stderr,
			        "vaern: traffic import: ... %zu bad records "
			        "in all\n",
			        errs.count);
		if (!o->skip_bad) {
			fprintf(stderr,
			        "vaern: traffic import: %zu bad records: "
			        "nothing stored (--skip-bad stores the "
			        "others)\n",
			        errs.count);
			rc = EXIT_REFUSED;
			goto done;
		}
	}
	if ((err = traffic_append(s.st, b.recs, b.n, &msg)) != VAERN_OK) {
		rc = cli_report("traffic import", err, &msg);
		goto done;
	}
	snprintf(reason, sizeof(reason),
	         "%zu records stored, %zu bad records skipped", b.n,
	         errs.count);
	err = traffic_audit(audit_to_file, &s, s.v, o->controller, "operator",
	                    NULL, "traffic-ingest", 1, "TEL-LOG-1", reason,
	                    &msg);
	if (err != VAERN_OK) {
		rc = cli_report("traffic import", err, &msg);
		goto done;
	}
	rc = cli_print_json(json_pack("{s:I,s:I}", "stored", (json_int_t)b.n,
	                              "skipped", (json_int_t)errs.count));
done:
	traffic_batch_free(&b);
	session_close(&s);
	return rc;
}

static enum vaern_err
plan_day(void *arg, const struct traffic_day *d)
{
	json_t *days = arg;
	char date[11], exp[11];

	cal_format_date(d->day, date);
	cal_format_date(d->expires, exp);
	return json_array_append_new(
	               days, json_pack("{s:s,s:I,s:I,s:s,s:b}", "date", date,
	                               "records", (json_int_t)d->records,
	                               "bytes", (json_int_t)d->bytes,
	                               "deleted_from", exp, "due", d->due)) == 0
	               ? VAERN_OK
	               : VAERN_E_NOMEM;
}

/* TEL-LOG-1: the days, their dates and when each goes. */
static int
cmd_plan(const struct opts *o)
{
	struct session s;
	struct vaern_msg msg = {{0}};
	json_t *days = json_array();
	char asof[21];
	enum vaern_err err;
	int rc;

	if (days == NULL)
		return EXIT_FAILURE_;
	if ((rc = session_open("traffic plan", o->controller, &s)) != EXIT_OK) {
		json_decref(days);
		return rc;
	}
	err = traffic_plan(s.st, clock_now(), plan_day, days, &msg);
	session_close(&s);
	if (err != VAERN_OK) {
		json_decref(days);
		return cli_report("traffic plan", err, &msg);
	}
	cal_format_instant(clock_now(), asof);
	return cli_print_json(json_pack("{s:s,s:s,s:o}", "controller",
	                                o->controller, "as_of", asof, "days",
	                                days));
}

/* TEL-LOG-1: every day a full year old goes whole, with its key; every
 * controller's store, or the one --controller names. */
static int
cmd_sweep(const struct opts *o)
{
	struct vault *v = NULL;
	struct vaern_msg msg = {{0}};
	struct cli_audit_local al;
	uint64_t days = 0, recs = 0;
	enum vaern_err err;

	if ((err = vault_open(cli_globals.data_dir, &v, &msg)) != VAERN_OK)
		return cli_report("traffic sweep", err, &msg);
	if (cli_audit_local(v, &al) != 0) {
		vault_close(v);
		return EXIT_FAILURE_;
	}
	err = traffic_sweep_all(v, cli_globals.data_dir, o->controller,
	                        clock_now(), cli_traffic_audit, &al, &days,
	                        &recs, &msg);
	vault_close(v);
	if (err != VAERN_OK)
		return cli_report("traffic sweep", err, &msg);
	return cli_print_json(json_pack("{s:I,s:I}", "days", (json_int_t)days,
	                                "records", (json_int_t)recs));
}

/* TEL-LOG-3: one identifier or an area over a range, on a court order. */
static int
cmd_query(const struct opts *o)
{
	struct session s;
	struct vaern_msg msg = {{0}};
	struct vault_actor actor;
	struct traffic_ask a;
	const char *token = o->token != NULL ? o->token : getenv("VAERN_TOKEN");
	char *out = NULL;
	size_t outlen = 0;
	enum vaern_err err;
	int rc;

	memset(&a, 0, sizeof(a));
	if (token == NULL)
		return usage("query: --token (or VAERN_TOKEN) is required");
	if (o->from == NULL || o->to == NULL)
		return usage("query: --from and --to are required");
	if (o->format != NULL && strcmp(o->format, "xml") != 0 &&
	    strcmp(o->format, "json") != 0)
		return usage("--format: json or xml");
	if ((rc = session_open("traffic query", o->controller, &s)) != EXIT_OK)
		return rc;
	if ((err = vault_actor_auth(s.v, token, &actor, &msg)) != VAERN_OK) {
		rc = cli_report("traffic query", err, &msg);
		goto done;
	}
	a.controller = o->controller;
	a.actor = &actor;
	a.order.authority = o->authority;
	a.order.reference = o->reference;
	a.order.case_id = o->case_id;
	a.order.country = o->country != NULL ? o->country : "DK";
	a.xml = o->format != NULL && strcmp(o->format, "xml") == 0;
	if (cal_parse_instant(o->from, &a.from, &msg) != VAERN_OK) {
		rc = cli_report("traffic query", VAERN_E_INVALID,
		                &(struct vaern_msg){"from: not an instant"});
		goto done;
	}
	if (cal_parse_instant(o->to, &a.to, &msg) != VAERN_OK) {
		rc = cli_report("traffic query", VAERN_E_INVALID,
		                &(struct vaern_msg){"to: not an instant"});
		goto done;
	}
	a.target.msisdn = o->msisdn;
	a.target.imsi = o->imsi;
	a.target.imei = o->imei;
	a.target.cell = o->cell;
	a.target.area = o->area;
	err = traffic_disclose(s.v, cli_globals.data_dir, &a, audit_to_file, &s,
	                       &out, &outlen, &msg);
	if (err != VAERN_OK) {
		rc = cli_report("traffic query", err, &msg);
		goto done;
	}
	rc = fwrite(out, 1, outlen, stdout) == outlen && fflush(stdout) == 0
	             ? EXIT_OK
	             : EXIT_FAILURE_;
	sodium_memzero(out, outlen);
	free(out);
done:
	session_close(&s);
	return rc;
}

static int
cmd_pubkey(const struct opts *o, int verify)
{
	struct session s;
	struct vaern_msg msg = {{0}};
	unsigned char seed[TRAFFIC_SIGN_SEED_BYTES], pk[TRAFFIC_PUBKEY_BYTES];
	char hex[TRAFFIC_PUBKEY_BYTES * 2 + 1], *text = NULL;
	size_t len;
	enum vaern_err err;
	int rc;

	if (verify && o->file == NULL)
		return usage("verify: a FILE (or -) is required");
	if ((rc = session_open(verify ? "traffic verify" : "traffic pubkey",
	                       o->controller, &s)) != EXIT_OK)
		return rc;
	traffic_signing_seed(s.v, o->controller, seed);
	traffic_sign_pubkey(seed, pk);
	sodium_memzero(seed, sizeof(seed));
	session_close(&s);
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
	if (!verify)
		return cli_print_json(json_pack("{s:s,s:s}", "algorithm",
		                                "Ed25519", "publicKey", hex));
	err = traffic_read_file(o->file, IMPORT_MAX, &text, &len, &msg);
	if (err == VAERN_OK)
		err = traffic_delivery_verify(text, len, pk, &msg);
	free(text);
	if (err != VAERN_OK)
		return cli_report("traffic verify", err, &msg);
	return cli_print_json(
	        json_pack("{s:b,s:s}", "verified", 1, "publicKey", hex));
}

int
cmd_traffic(int argc, char **argv)
{
	struct opts o;

	memset(&o, 0, sizeof(o));
	if (argc < 2)
		return usage("a subcommand is required");
	if (take_opts(argc - 1, argv + 1, &o) != 0)
		return usage("unknown option or missing value");
	if (strcmp(argv[1], "cells") == 0)
		return cmd_cells(&o);
	if (strcmp(argv[1], "import") == 0)
		return traffic_import(&o);
	if (strcmp(argv[1], "plan") == 0)
		return cmd_plan(&o);
	if (strcmp(argv[1], "sweep") == 0)
		return cmd_sweep(&o);
	if (strcmp(argv[1], "query") == 0)
		return cmd_query(&o);
	if (strcmp(argv[1], "verify") == 0)
		return cmd_pubkey(&o, 1);
	if (strcmp(argv[1], "pubkey") == 0)
		return cmd_pubkey(&o, 0);
	return usage("unknown subcommand");
}
