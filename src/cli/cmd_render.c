/*
 * cmd_render.c -- the policy given back (issue 15): vaern policy render
 * (the privacy notice, Art. 13/14), ropa (the records of processing, Art.
 * 30), history (the stored versions) and diff (what changed, in words), of
 * a policy file, of a controller loaded in the data directory, or of one
 * of its stored versions (CONTROLLER@VERSION, or --at DATE: the version in
 * force that day). Reads only: nothing is written, nothing is audited
 * (the policy holds no personal data).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "../calendar/calendar.h"
#include "../policy/policy.h"
#include "../render/render.h"
#include "../vault/vault.h"
#include "cli.h"

static const char render_usage[] =
        "usage: vaern [--data DIR] policy render FILE|CONTROLLER[@VERSION] "
        "[--at DATE] [--lang da|sv|en] [--format html|md|txt]";
static const char ropa_usage[] =
        "usage: vaern [--data DIR] policy ropa FILE|CONTROLLER[@VERSION] "
        "[--at DATE] [--lang da|sv|en] [--format json|csv|html]";

/* The parsed command line of render and ropa. */
struct render_args {
	const char *what;   /* "policy render" or "policy ropa" */
	const char *source; /* FILE or CONTROLLER */
	const char *lang;   /* --lang, or NULL: the policy's language */
	const char *format; /* --format, or NULL: the default */
	const char *at;     /* --at DATE, or NULL */
};

/* 0, or the exit code after saying what is wrong. */
static int
parse_args(int argc, char **argv, struct render_args *a, const char *usage)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc)
			a->lang = argv[++i];
		else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			a->format = argv[++i];
		else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc)
			a->at = argv[++i];
		else if (argv[i][0] == '-' && strcmp(argv[i], "-") != 0)
			return cli_usage(a->what, usage);
		else if (a->source == NULL)
			a->source = argv[i];
		else
			return cli_usage(a->what, usage);
	}
	if (a->source == NULL)
		return cli_usage(a->what, usage);
	return 0;
}

/* A FILE is a path that names a regular file; anything else is taken as
 * a controller id of the data directory. */
static int
is_file(const char *s)
{
	struct stat st;

	return strchr(s, '/') != NULL ||
	       (stat(s, &st) == 0 && S_ISREG(st.st_mode));
}

/*
 * The policy source names into *owned (a file or a stored version: the
 * caller frees it) or *p (a controller's policy in force: valid while *v
 * is open; the caller closes *v). source is FILE, CONTROLLER or
 * CONTROLLER@VERSION; at (a date, or NULL) picks the version in force at
 * the end of that day. Returns 0, or the exit code after reporting.
 */
static int
open_policy(const char *what, const char *source, const char *at,
            struct policy **owned, struct vault **v, const struct policy **p)
{
	struct vaern_msg msg = {{0}};
	char name[POLICY_NAME_MAX + 1], found[VAULT_POLICY_VERSION_LEN + 1];
	const char *version = NULL, *sep;
	long day = 0;
	enum vaern_err err;

	if (is_file(source)) {
		struct policy_diags *diags;

		if (at != NULL) {
			fprintf(stderr,
			        "vaern: %s: --at picks a stored version: give "
			        "a CONTROLLER, not a file\n",
			        what);
			return EXIT_REFUSED;
		}
		if ((diags = calloc(1, sizeof(*diags))) == NULL)
			return cli_report(what, VAERN_E_NOMEM, NULL);
		err = policy_load_file(source, owned, diags);
		cli_print_diags(source, diags);
		free(diags);
		if (err != VAERN_OK)
			return err == VAERN_E_INVALID ? EXIT_REFUSED
			                              : EXIT_FAILURE_;
		*p = *owned;
		return 0;
	}
	sep = strchr(source, '@');
	if ((size_t)(sep != NULL ? sep - source : (long)strlen(source)) >
	    POLICY_NAME_MAX) {
		fprintf(stderr, "vaern: %s: no such controller\n", what);
		return EXIT_REFUSED;
	}
	snprintf(name, sizeof(name), "%.*s",
	         (int)(sep != NULL ? sep - source : (long)strlen(source)),
	         source);
	if (sep != NULL)
		version = sep + 1;
	if (at != NULL) {
		if (version != NULL) {
			fprintf(stderr,
			        "vaern: %s: give @VERSION or --at, not both\n",
			        what);
			return EXIT_REFUSED;
		}
		if (cal_parse_date(at, &day, &msg) != VAERN_OK) {
			fprintf(stderr, "vaern: %s: --at: %s\n", what,
			        msg.text);
			return EXIT_REFUSED;
		}
	}
	if ((err = vault_open(cli_globals.data_dir, v, &msg)) != VAERN_OK)
		return cli_report(what, err, &msg);
	if (version == NULL && at == NULL) {
		if ((err = vault_policy(*v, name, p, &msg)) != VAERN_OK)
			return cli_report(what, err, &msg);
		return 0;
	}
	/* The end of the day asked for: what had been loaded by then. */
	err = vault_policy_stored(*v, name, version,
	                          ((int64_t)day + 1) * 86400 - 1, owned, found,
	                          &msg);
	if (err != VAERN_OK)
		return cli_report(what, err, &msg);
	*p = *owned;
	return 0;
}

/* Writes the document to stdout; EXIT_OK or EXIT_FAILURE_. */
static int
put(const char *what, const char *text, size_t len)
{
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "vaern: %s: cannot write the output\n", what);
		return EXIT_FAILURE_;
	}
	return EXIT_OK;
}

/* The language asked for, or the policy's; -1 after reporting. */
static int
take_lang(const struct render_args *a, const struct policy *p,
          enum render_lang *lang)
{
	*lang = render_policy_lang(p);
	if (a->lang != NULL && render_lang_parse(a->lang, lang) != 0) {
		fprintf(stderr,
		        "vaern: %s: --lang: no templates for that language "
		        "(one of da, sv, en)\n",
		        a->what);
		return -1;
	}
	return 0;
}

static int
run(int argc, char **argv, int ropa)
{
	struct render_args a = {ropa ? "policy ropa" : "policy render", NULL,
	                        NULL, NULL, NULL};
	struct policy *owned = NULL;
	struct vault *v = NULL;
	const struct policy *p = NULL;
	struct vaern_msg msg = {{0}};
	enum render_format format = RENDER_HTML;
	enum render_ropa_format rformat = ROPA_JSON;
	enum render_lang lang;
	char *text = NULL;
	size_t len = 0;
	enum vaern_err err;
	int rc;

	if ((rc = parse_args(argc, argv, &a,
	                     ropa ? ropa_usage : render_usage)) != 0)
		return rc;
	/* Bad options are refused before anything is opened. */
	if (a.format != NULL &&
	    (ropa ? render_ropa_format_parse(a.format, &rformat)
	          : render_format_parse(a.format, &format)) != 0) {
		fprintf(stderr, "vaern: %s: --format: one of %s\n", a.what,
		        ropa ? "json, csv, html" : "html, md, txt");
		return EXIT_REFUSED;
	}
	if (a.lang != NULL && render_lang_parse(a.lang, &lang) != 0) {
		fprintf(stderr,
		        "vaern: %s: --lang: no templates for that language "
		        "(one of da, sv, en)\n",
		        a.what);
		return EXIT_REFUSED;
	}
	if ((rc = open_policy(a.what, a.source, a.at, &owned, &v, &p)) != 0)
		goto done;
	if (take_lang(&a, p, &lang) != 0) {
		rc = EXIT_REFUSED;
		goto done;
	}
	err = ropa ? render_ropa(p, lang, rformat, &text, &len, &msg)
	           : render_notice(p, lang, format, &text, &len, &msg);
	if (err != VAERN_OK) {
		rc = cli_report(a.what, err, &msg);
		goto done;
	}
	rc = put(a.what, text, len);
done:
	free(text);
	policy_free(owned);
	if (v != NULL)
		vault_close(v);
	return rc;
}

int
cmd_policy_render(int argc, char **argv)
{
	return run(argc, argv, 0);
}

int
cmd_policy_ropa(int argc, char **argv)
{
	return run(argc, argv, 1);
}

/* ---- history and diff (issue 15 point 3) ------------------------------- */

struct history_ctx {
	json_t *list;        /* the versions, oldest first */
	const char *current; /* the version in force */
};

static enum vaern_err
history_one(void *arg, const char *version, int64_t loaded_at,
            const struct policy *p)
{
	struct history_ctx *h = arg;
	char at[21], date[11] = "";
	json_t *o;

	cal_format_instant(loaded_at, at);
	if (p != NULL)
		cal_format_date(p->controller.policy_version, date);
	o = json_pack("{s:s, s:s, s:s?, s:b}", "version", version, "loaded_at",
	              at, "policy_version", p != NULL ? date : NULL, "current",
	              strcmp(version, h->current) == 0);
	if (o == NULL || json_array_append_new(h->list, o) != 0)
		return VAERN_E_NOMEM;
	return VAERN_OK;
}

/* vaern policy history CONTROLLER: the stored versions, oldest first. */
int
cmd_policy_history(int argc, char **argv)
{
	struct vaern_msg msg = {{0}};
	struct vault *v = NULL;
	struct history_ctx h = {NULL, NULL};
	const struct policy *p;
	enum vaern_err err;
	int rc;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage("policy history",
		                 "usage: vaern [--data DIR] policy history "
		                 "CONTROLLER");
	if ((err = vault_open(cli_globals.data_dir, &v, &msg)) != VAERN_OK)
		return cli_report("policy history", err, &msg);
	if ((err = vault_policy(v, argv[1], &p, &msg)) != VAERN_OK) {
		rc = cli_report("policy history", err, &msg);
		goto done;
	}
	h.current = vault_policy_version(v, argv[1]);
	h.list = json_array();
	if (h.list == NULL || h.current == NULL) {
		rc = cli_report("policy history", VAERN_E_NOMEM, NULL);
		goto done;
	}
	err = vault_policy_history(v, argv[1], history_one, &h, &msg);
	if (err != VAERN_OK) {
		rc = cli_report("policy history", err, &msg);
		goto done;
	}
	rc = cli_print_json(json_pack("{s:s, s:O}", "controller", argv[1],
	                              "versions", h.list));
done:
	json_decref(h.list);
	vault_close(v);
	return rc;
}

/* vaern policy diff A B [--lang da|sv|en]: A and B are FILE, CONTROLLER
 * (the version in force) or CONTROLLER@VERSION, of one controller; in
 * English unless --lang says otherwise (issue 15 point 3). */
int
cmd_policy_diff(int argc, char **argv)
{
	static const char usage[] =
	        "usage: vaern [--data DIR] policy diff A B [--lang da|sv|en]"
	        "   (each FILE, CONTROLLER or CONTROLLER@VERSION)";
	struct policy *owned[2] = {NULL, NULL};
	struct vault *v[2] = {NULL, NULL};
	const struct policy *p[2] = {NULL, NULL};
	struct vaern_msg msg = {{0}};
	enum render_lang lang = RENDER_EN;
	const char *src[2] = {NULL, NULL};
	char *text = NULL;
	size_t len = 0, nsrc = 0;
	enum vaern_err err;
	int rc = EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc) {
			if (render_lang_parse(argv[++i], &lang) != 0) {
				fprintf(stderr,
				        "vaern: policy diff: --lang: no "
				        "templates for that language (one of "
				        "da, sv, en)\n");
				return EXIT_REFUSED;
			}
		} else if (argv[i][0] == '-' || nsrc == 2) {
			return cli_usage("policy diff", usage);
		} else {
			src[nsrc++] = argv[i];
		}
	}
	if (nsrc != 2)
		return cli_usage("policy diff", usage);
	for (int i = 0; i < 2 && rc == EXIT_OK; i++)
		rc = open_policy("policy diff", src[i], NULL, &owned[i], &v[i],
		                 &p[i]);
	if (rc != EXIT_OK)
		goto done;
	if ((err = render_policy_diff(p[0], p[1], lang, &text, &len, &msg)) !=
	    VAERN_OK) {
		rc = cli_report("policy diff", err, &msg);
		goto done;
	}
	rc = put("policy diff", text, len);
done:
	free(text);
	for (int i = 0; i < 2; i++) {
		policy_free(owned[i]);
		if (v[i] != NULL)
			vault_close(v[i]);
	}
	return rc;
}
