/*
 * cmd_render.c -- vaern policy render and vaern policy ropa: the privacy
 * notice (Art. 13/14) and the records of processing (Art. 30) of a policy
 * file or of a controller loaded in the data directory (issue 15).
 * Rendering reads only: nothing is written, nothing is audited (the policy
 * holds no personal data).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../policy/policy.h"
#include "../render/render.h"
#include "../vault/vault.h"
#include "cli.h"

static const char render_usage[] =
        "usage: vaern [--data DIR] policy render FILE|CONTROLLER "
        "[--lang da|sv|en] [--format html|md|txt]";
static const char ropa_usage[] =
        "usage: vaern [--data DIR] policy ropa FILE|CONTROLLER "
        "[--lang da|sv|en] [--format json|csv|html]";

/* The parsed command line of render and ropa. */
struct render_args {
	const char *what;   /* "policy render" or "policy ropa" */
	const char *source; /* FILE or CONTROLLER */
	const char *lang;   /* --lang, or NULL: the policy's language */
	const char *format; /* --format, or NULL: the default */
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
 * The policy a->source names into *owned (a file: the caller frees it) or
 * *p (a controller: valid while *v is open; the caller closes *v).
 * Returns 0, or the exit code after reporting.
 */
static int
open_policy(const struct render_args *a, struct policy **owned,
            struct vault **v, const struct policy **p)
{
	struct vaern_msg msg = {{0}};
	enum vaern_err err;

	if (is_file(a->source)) {
		struct policy_diags *diags = calloc(1, sizeof(*diags));

		if (diags == NULL)
			return cli_report(a->what, VAERN_E_NOMEM, NULL);
		err = policy_load_file(a->source, owned, diags);
		cli_print_diags(a->source, diags);
		free(diags);
		if (err != VAERN_OK)
			return err == VAERN_E_INVALID ? EXIT_REFUSED
			                              : EXIT_FAILURE_;
		*p = *owned;
		return 0;
	}
	if ((err = vault_open(cli_globals.data_dir, v, &msg)) != VAERN_OK)
		return cli_report(a->what, err, &msg);
	if ((err = vault_policy(*v, a->source, p, &msg)) != VAERN_OK)
		return cli_report(a->what, err, &msg);
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
	                        NULL, NULL};
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
	if ((rc = open_policy(&a, &owned, &v, &p)) != 0)
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
