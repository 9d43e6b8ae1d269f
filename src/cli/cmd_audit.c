/*
 * cmd_audit.c -- vaern audit verify|show: the tamper-evident trail of
 * every gate decision (GDPR-32: logging of access).
 *
 *   vaern audit verify [--anchor SEQ:HASH]
 *       recomputes the whole chain. Exit 0 and {"ok": true, "entries",
 *       "head_seq", "head"} if it holds; exit 1 and {"ok": false,
 *       "first_bad", "problem", "message"} naming the first entry that
 *       was changed, removed or reordered; exit 3 if the trail could not
 *       be read. Keep the printed head somewhere else and pass it back
 *       with --anchor: that is what catches entries cut off the end.
 *
 *   vaern audit show [--subject ID] [--controller NAME] [--from TIME]
 *                    [--to TIME] [--after SEQ] [--limit N]
 *       prints the entries as a JSON list, one entry a line, in sequence
 *       order: one subject's, one controller's, or those with
 *       FROM <= time < TO (the bounds combine).
 *
 * The trail holds ids and policy words, never a personal-data value, so
 * everything here may go to stdout and stderr. The local operator reads
 * it; over HTTP only the data-protection officer's role will.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audit/audit.h"
#include "../audit/audit_checkpoints.h"
#include "../calendar/calendar.h"
#include "../vault/vault.h"
#include "cli.h"

#define SHOW_LIMIT_DEFAULT 1000
#define SHOW_LIMIT_MAX     10000000

const char cli_audit_usage[] =
        "usage: vaern audit verify [--anchor SEQ:HASH] [--checkpoints DIR\n"
        "                          [--public-key HEX]]\n"
        "       vaern audit checkpoint --key FILE --dir DIR\n"
        "       vaern audit show [--subject ID] [--controller NAME]\n"
        "                        [--from TIME] [--to TIME] [--after SEQ]\n"
        "                        [--limit N]\n"
        "TIME: YYYY-MM-DD or an ISO 8601 instant; FROM <= time < TO;\n"
        "--limit: 1..10000000 entries, default 1000";

static int
usage(const char *text)
{
	return cli_usage("audit", text != NULL ? text : cli_audit_usage);
}

/* The audit database of the data directory: DIR/audit.db. */
static int
db_path(char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", cli_globals.data_dir,
	                 AUDIT_DB_FILE);

	return n > 0 && (size_t)n < size;
}

/* Parses exactly len bytes of hex from text into out (strict). */
static int
parse_hex(const char *text, unsigned char *out, size_t len)
{
	size_t got = 0;
	const char *end = NULL;

	return strlen(text) == 2 * len &&
	       sodium_hex2bin(out, len, text, 2 * len, NULL, &got, &end) == 0 &&
	       got == len && end == text + 2 * len;
}

/* Prints j compact, on one line, to stdout. Frees j. 0 on error. */
static int
print_line(json_t *j)
{
	int ok = j != NULL &&
	         json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0;

	json_decref(j);
	return ok;
}

static json_t *
json_hex(const unsigned char *bin, size_t len)
{
	char hex[2 * AUDIT_HASH_BYTES + 1];

	if (bin == NULL || 2 * len + 1 > sizeof(hex))
		return json_null();
	sodium_bin2hex(hex, sizeof(hex), bin, len);
	return json_string(hex);
}

static const char *
problem_name(enum audit_problem p)
{
	switch (p) {
	case AUDIT_INTACT: return "intact";
	case AUDIT_CHANGED: return "changed";
	case AUDIT_MISSING: return "missing";
	case AUDIT_LINK: return "reordered";
	case AUDIT_ANCHOR: return "anchor";
	case AUDIT_HEAD: return "head";
	case AUDIT_CHECKPOINT: return "checkpoint";
	}
	return "unknown";
}

enum vaern_err
cli_trail_of(struct vault *v, struct cli_trail *ct, struct vaern_msg *msg)
{
	int n = snprintf(ct->path, sizeof(ct->path), "%s/%s",
	                 cli_globals.data_dir, AUDIT_DB_FILE);
	int m = snprintf(ct->outbox, sizeof(ct->outbox), "%s/%s",
	                 cli_globals.data_dir, VAULT_DB_FILE);

	memset(&ct->t, 0, sizeof(ct->t));
	if (n < 0 || (size_t)n >= sizeof(ct->path) || m < 0 ||
	    (size_t)m >= sizeof(ct->outbox))
		return vaern_fail(msg, VAERN_E_LIMIT, "path too long");
	ct->t.path = ct->path;
	ct->t.outbox_path = ct->outbox;
	return vault_audit_key(v, 1, ct->t.key, msg);
}

/*
 * The trail of the data directory, with what a crash left in the outbox
 * moved into it first, so that a verify sees every change's entry. An
 * exit code when it fails (-1 when it did not).
 */
static int
trail_ready(const char *what, struct cli_trail *ct)
{
	struct vaern_msg msg = {{0}};
	struct vault *v = NULL;
	enum vaern_err err;

	if ((err = vault_open(cli_globals.data_dir, &v, &msg)) == VAERN_OK)
		err = cli_trail_of(v, ct, &msg);
	vault_close(v);
	if (err == VAERN_OK)
		err = audit_outbox_flush(&ct->t, NULL, &msg);
	/* A head removed: nothing is moved, and verify names it. */
	if (err == VAERN_OK ||
	    (err == VAERN_E_DENIED && strcmp(what, "audit verify") == 0))
		return -1;
	sodium_memzero(&ct->t, sizeof(ct->t));
	(void)cli_report(what, err, &msg);
	return EXIT_FAILURE_;
}

/* Verifies ct's trail against anchors, printing the verdict: exit 0 ok,
 * 1 broken, 3 unreadable. res gets the verdict. */
static int
verify_print(struct cli_trail *ct, const struct audit_anchor *anchors, size_t n,
             size_t checkpoints, struct audit_verify_result *res)
{
	struct vaern_msg msg = {{0}};
	enum vaern_err err;
	json_t *j;

	if ((err = audit_verify(&ct->t, anchors, n, res, &msg)) != VAERN_OK) {
		/* Not a verdict on the trail: it could not be read. Exit 1
		 * stays reserved for "the chain is broken". */
		(void)cli_report("audit verify", err, &msg);
		return EXIT_FAILURE_;
	}
	if (res->ok) {
		j = json_pack("{s:b, s:I, s:I, s:o, s:I}", "ok", 1, "entries",
		              (json_int_t)res->entries, "head_seq",
		              (json_int_t)res->head_seq, "head",
		              json_hex(res->head, AUDIT_HASH_BYTES),
		              "checkpoints", (json_int_t)checkpoints);
		return cli_print_json(j);
	}
	fprintf(stderr, "vaern audit verify: %s\n", res->message);
	j = json_pack("{s:b, s:I, s:I, s:s, s:s}", "ok", 0, "entries",
	              (json_int_t)res->entries, "first_bad",
	              (json_int_t)res->first_bad, "problem",
	              problem_name(res->problem), "message", res->message);
	return cli_print_json(j) == EXIT_OK ? EXIT_REFUSED : EXIT_FAILURE_;
}

/* A verdict of "broken" that is not an entry's: a checkpoint forged. */
static int
verify_refused(const char *problem, const char *message)
{
	fprintf(stderr, "vaern audit verify: %s\n", message);
	return cli_print_json(json_pack("{s:b, s:I, s:s, s:s}", "ok", 0,
	                                "entries", (json_int_t)0, "problem",
	                                problem, "message", message)) == EXIT_OK
	               ? EXIT_REFUSED
	               : EXIT_FAILURE_;
}

static int
cmd_audit_verify(int argc, char **argv)
{
	struct vaern_msg msg = {{0}};
	struct audit_verify_result res;
	struct audit_anchor *list = NULL;
	const char *ckdir = NULL, *pk = NULL;
	struct cli_trail ct;
	size_t n = 0, nck = 0;
	enum vaern_err err;
	int rc;

	if ((list = calloc(1, sizeof(*list))) == NULL)
		return cli_report("audit verify", VAERN_E_NOMEM, NULL);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--anchor") == 0 && i + 1 < argc &&
		    n == 0) {
			const char *a = argv[++i], *colon = strchr(a, ':');
			char num[24];

			if (colon == NULL || (size_t)(colon - a) >= sizeof(num))
				return usage("--anchor: SEQ:HASH (as "
				             "'vaern audit verify' prints "
				             "head_seq and head)");
			memcpy(num, a, (size_t)(colon - a));
			num[colon - a] = '\0';
			if (!cli_parse_i64(num, 1, INT64_MAX, &list[0].seq) ||
			    !parse_hex(colon + 1, list[0].hash,
			               AUDIT_HASH_BYTES))
				return usage("--anchor: SEQ:HASH, SEQ from 1, "
				             "HASH 64 hex digits");
			n = 1;
		} else if (strcmp(argv[i], "--checkpoints") == 0 &&
		           i + 1 < argc && ckdir == NULL) {
			ckdir = argv[++i];
		} else if (strcmp(argv[i], "--public-key") == 0 &&
		           i + 1 < argc && pk == NULL) {
			pk = argv[++i];
		} else {
			free(list);
			return usage(NULL);
		}
	}
	if (pk != NULL && ckdir == NULL) {
		free(list);
		return usage("--public-key: with --checkpoints DIR");
	}
	if ((rc = trail_ready("audit verify", &ct)) >= 0) {
		free(list);
		return rc;
	}
	if (ckdir != NULL) {
		struct audit_anchor *ck = NULL, *all;

		err = audit_checkpoints_read(ckdir, pk, &ck, &nck, &msg);
		if (err == VAERN_E_DENIED) {
			rc = verify_refused("checkpoint", msg.text);
			goto done;
		}
		if (err != VAERN_OK) {
			rc = cli_report("audit verify", err, &msg);
			goto done;
		}
		if ((all = realloc(list, (n + nck + 1) * sizeof(*all))) ==
		    NULL) {
			audit_checkpoints_free(ck, nck);
			rc = cli_report("audit verify", VAERN_E_NOMEM, NULL);
			goto done;
		}
		list = all;
		if (nck > 0)
			memcpy(list + n, ck, nck * sizeof(*ck));
		free(ck); /* the sources now belong to list */
	}
	rc = verify_print(&ct, list, n + nck, nck, &res);
done:
	for (size_t i = n; i < n + nck; i++)
		free((char *)list[i].source);
	free(list);
	sodium_memzero(&ct.t, sizeof(ct.t));
	return rc;
}

/*
 * vaern audit checkpoint --key FILE --dir DIR: verifies the trail and
 * signs its head into DIR (cmd_checkpoint.c). A broken trail gets no
 * checkpoint: exit 1, as verify.
 */
static int
cmd_audit_checkpoint(int argc, char **argv)
{
	const char *key = NULL, *dir = NULL;
	struct audit_verify_result res;
	struct vaern_msg msg = {{0}};
	struct cli_trail ct;
	enum vaern_err err;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--key") == 0 && i + 1 < argc && !key)
			key = argv[++i];
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc && !dir)
			dir = argv[++i];
		else
			return usage(NULL);
	}
	if (key == NULL || dir == NULL)
		return usage("audit checkpoint: --key FILE and --dir DIR");
	if ((rc = trail_ready("audit checkpoint", &ct)) >= 0)
		return rc;
	err = audit_verify(&ct.t, NULL, 0, &res, &msg);
	sodium_memzero(&ct.t, sizeof(ct.t));
	if (err != VAERN_OK)
		return cli_report("audit checkpoint", err, &msg);
	if (!res.ok) {
		fprintf(stderr,
		        "vaern audit checkpoint: the trail does not verify, "
		        "no checkpoint written: %s\n",
		        res.message);
		return EXIT_REFUSED;
	}
	return cli_checkpoint_write(key, dir, res.head_seq, res.head);
}

/* ---- show ---------------------------------------------------------------- */

struct show {
	int64_t limit;   /* entries to print */
	int64_t printed; /* so far */
	int64_t last;    /* seq of the last printed */
	int more;        /* one more than the limit exists */
	int failed;      /* stdout failed */
};

/* A stored text; a value jansson refuses (not UTF-8: tampering) is null
 * and marks the entry malformed. */
static json_t *
json_text(const char *s, int *malformed)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) == NULL) {
		*malformed = 1;
		return json_null();
	}
	return j;
}

/* "a,b,c" as ["a", "b", "c"]. */
static json_t *
json_categories(const char *s, int *malformed)
{
	json_t *list;

	if (s == NULL)
		return json_null();
	if ((list = json_array()) == NULL)
		return NULL;
	while (*s != '\0') {
		size_t n = strcspn(s, ",");
		json_t *c = json_stringn(s, n);

		if (c == NULL)
			*malformed = 1;
		else
			json_array_append_new(list, c);
		s += n;
		if (*s == ',')
			s++;
	}
	return list;
}

static enum vaern_err
show_one(void *arg, const struct audit_record *r)
{
	struct show *sh = arg;
	const struct audit_entry *e = &r->entry;
	char at[21];
	int malformed = r->malformed;
	json_t *j;

	if (sh->printed == sh->limit) {
		sh->more = 1;
		return VAERN_E_LIMIT; /* stop the walk */
	}
	cal_format_instant(r->at, at);
	j = json_object();
	if (j == NULL)
		return VAERN_E_NOMEM;
	json_object_set_new(j, "seq", json_integer((json_int_t)r->seq));
	json_object_set_new(j, "at", json_string(at));
	json_object_set_new(j, "controller",
	                    json_text(e->controller, &malformed));
	json_object_set_new(j, "actor", json_text(e->actor, &malformed));
	json_object_set_new(j, "role", json_text(e->role, &malformed));
	json_object_set_new(j, "purpose", json_text(e->purpose, &malformed));
	json_object_set_new(j, "action", json_text(e->action, &malformed));
	json_object_set_new(j, "subject",
	                    json_hex(e->subject, AUDIT_SUBJECT_BYTES));
	json_object_set_new(j, "categories",
	                    json_categories(e->categories, &malformed));
	json_object_set_new(j, "decision",
	                    json_string(e->allowed ? "allow" : "deny"));
	json_object_set_new(j, "rule", json_text(e->rule, &malformed));
	json_object_set_new(j, "reason", json_text(e->reason, &malformed));
	json_object_set_new(j, "policy_digest",
	                    json_text(e->policy, &malformed));
	json_object_set_new(j, "hash", json_hex(r->hash, AUDIT_HASH_BYTES));
	if (malformed)
		json_object_set_new(j, "malformed", json_true());
	/* Streamed: "[", the entries one a line with "," between, "]";
	 * nothing is printed before the first entry is read, so a failure
	 * to open the trail leaves stdout empty. */
	if (fputs(sh->printed == 0 ? "[\n" : ",\n", stdout) == EOF ||
	    !print_line(j)) {
		sh->failed = 1;
		return VAERN_E_IO;
	}
	sh->printed++;
	sh->last = r->seq;
	return VAERN_OK;
}

static int
cmd_audit_show(int argc, char **argv)
{
	struct vaern_msg msg = {{0}};
	struct audit_filter f = {NULL, INT64_MIN, INT64_MAX, 0, 0, NULL};
	struct show sh = {SHOW_LIMIT_DEFAULT, 0, 0, 0, 0};
	unsigned char subject[AUDIT_SUBJECT_BYTES];
	char path[PATH_MAX];
	enum vaern_err err;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i],
		           *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (val == NULL)
			return usage(NULL);
		i++;
		if (strcmp(opt, "--subject") == 0) {
			if (!parse_hex(val, subject, sizeof(subject)))
				return usage("--subject: a subject id, 32 hex "
				             "digits");
			f.subject = subject;
		} else if (strcmp(opt, "--from") == 0) {
			if (cal_parse_instant(val, &f.from_at, &msg) !=
			    VAERN_OK)
				return usage("--from: YYYY-MM-DD or an ISO "
				             "8601 instant");
		} else if (strcmp(opt, "--to") == 0) {
			if (cal_parse_instant(val, &f.to_at, &msg) != VAERN_OK)
				return usage("--to: YYYY-MM-DD or an ISO 8601 "
				             "instant");
		} else if (strcmp(opt, "--controller") == 0) {
			f.controller = val;
		} else if (strcmp(opt, "--after") == 0) {
			if (!cli_parse_i64(val, 0, INT64_MAX, &f.after_seq))
				return usage("--after: an entry number");
		} else if (strcmp(opt, "--limit") == 0) {
			if (!cli_parse_i64(val, 1, SHOW_LIMIT_MAX, &sh.limit))
				return usage("--limit: 1 to 10000000");
		} else {
			return usage(NULL);
		}
	}
	if (f.from_at > f.to_at)
		return usage("--from is after --to");
	if (!db_path(path, sizeof(path)))
		return cli_report("audit show", VAERN_E_LIMIT, NULL);
	f.limit = sh.limit + 1; /* one more tells whether more follow */
	err = audit_read(path, &f, show_one, &sh, &msg);
	if (err == VAERN_E_LIMIT && sh.more)
		err = VAERN_OK;
	if (err != VAERN_OK) {
		if (sh.failed)
			(void)vaern_fail(&msg, err, "cannot write to stdout");
		if (sh.printed > 0) /* close the list printed so far */
			fputs("\n]\n", stdout);
		fflush(stdout);
		return cli_report("audit show", err, &msg);
	}
	if (fputs(sh.printed > 0 ? "\n]\n" : "[]\n", stdout) == EOF ||
	    fflush(stdout) != 0)
		return cli_report("audit show", VAERN_E_IO, NULL);
	if (sh.more)
		fprintf(stderr,
		        "vaern audit show: more entries follow; continue with "
		        "--after %" PRId64 "\n",
		        sh.last);
	return EXIT_OK;
}

int
cmd_audit(int argc, char **argv)
{
	if (argc < 2)
		return usage(NULL);
	if (strcmp(argv[1], "verify") == 0)
		return cmd_audit_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return cmd_audit_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "checkpoint") == 0)
		return cmd_audit_checkpoint(argc - 1, argv + 1);
	if (strcmp(argv[1], "help") == 0) {
		printf("%s\n", cli_audit_usage);
		return EXIT_OK;
	}
	return usage(NULL);
}
