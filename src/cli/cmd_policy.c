/*
 * cmd_policy.c -- vaern policy check FILE...: check policy files.
 *
 * "load" and "list" need the data directory and live in cmd_init.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policy/policy.h"
#include "cli.h"

const char cli_policy_usage[] = "usage: vaern policy check FILE...\n"
                                "       vaern policy load FILE...\n"
                                "       vaern policy list\n"
                                "       vaern policy render "
                                "FILE|CONTROLLER [--lang L] [--format F]\n"
                                "       vaern policy ropa "
                                "FILE|CONTROLLER [--lang L] [--format F]\n"
                                "       vaern policy history CONTROLLER\n"
                                "       vaern policy diff A B [--lang L]\n"
                                "       vaern policy notices "
                                "[[--controller] ID] [--send]";

void
cli_print_diags(const char *path, const struct policy_diags *d)
{
	size_t i;

	for (i = 0; i < d->count; i++) {
		const struct policy_diag *g = &d->items[i];

		if (g->line == 0)
			fprintf(stderr, "%s: %s\n", path, g->message);
		else
			fprintf(stderr, "%s:%u:%u: %s\n", path, g->line,
			        g->column, g->message);
	}
	if (d->dropped > 0)
		fprintf(stderr, "%s: ... and %zu more problems\n", path,
		        d->dropped);
}

/* Prints ", n noun" in the singular or the plural ("1 role", "5 roles"). */
static void
print_count(size_t n, const char *one, const char *many)
{
	printf(", %zu %s", n, n == 1 ? one : many);
}

/* Keeps the summary on one line whatever the legal name holds. */
static void
print_text(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void
print_summary(const char *path, const struct policy *p)
{
	printf("%s: ok: controller %s (", path, p->controller.id);
	print_text(p->controller.name);
	printf(", %s)", p->controller.country);
	print_count(p->ncategories, "category", "categories");
	print_count(p->npurposes, "purpose", "purposes");
	print_count(p->nretention, "retention rule", "retention rules");
	print_count(p->nrecipients, "recipient", "recipients");
	print_count(p->nroles, "role", "roles");
	putchar('\n');
}

/*
 * Issue 10, TEL-RET-1: a warning (not an error) for every rule under which
 * a fact could be stored and never get a date: no `collected` or
 * `financial_year_end` anchor and no `waits_for`.
 */
static void
print_undated(const char *path, const struct policy *p)
{
	for (size_t r = 0; r < p->nretention; r++) {
		const struct policy_retention *rule = &p->retention[r];

		if (!policy_rule_may_stay_undated(p, r))
			continue;
		fprintf(stderr,
		        "%s:%u:%u: warning: retention rule '%s': a fact "
		        "could be stored and never get a date (no anchor "
		        "'collected'; add it, or 'waits_for: EVENT' if the "
		        "rule waits for the end of a running state)\n",
		        path, rule->line, rule->column, rule->id);
	}
}

/*
 * Checks each file; prints every problem to stderr and, when all pass, a
 * summary per file to stdout. Returns EXIT_OK, EXIT_REFUSED if a policy
 * breaks a rule, or EXIT_FAILURE_ if a file cannot be read.
 */
static int
policy_check(int nfiles, char **files)
{
	struct policy_diags *diags = NULL;
	struct policy **loaded = NULL;
	int i, rc = EXIT_OK;

	/* struct policy_diags is about 52 KiB: not for the stack. */
	diags = calloc(1, sizeof(*diags));
	loaded = calloc((size_t)nfiles, sizeof(*loaded));
	if (diags == NULL || loaded == NULL) {
		rc = cli_report("policy check", VAERN_E_NOMEM, NULL);
		goto done;
	}
	for (i = 0; i < nfiles; i++) {
		enum vaern_err err;

		err = policy_load_file(files[i], &loaded[i], diags);
		cli_print_diags(files[i], diags);
		if (err == VAERN_OK) {
			print_undated(files[i], loaded[i]);
			continue;
		}
		if (err == VAERN_E_INVALID) {
			if (rc == EXIT_OK)
				rc = EXIT_REFUSED;
		} else {
			rc = EXIT_FAILURE_;
		}
	}
	if (rc != EXIT_OK)
		goto done;
	for (i = 0; i < nfiles; i++)
		print_summary(files[i], loaded[i]);
done:
	if (loaded != NULL)
		for (i = 0; i < nfiles; i++)
			policy_free(loaded[i]);
	free(loaded);
	free(diags);
	return rc;
}

int
cmd_policy(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("policy", cli_policy_usage);
	if (strcmp(argv[1], "check") == 0) {
		int first = 2;

		if (argc > first && strcmp(argv[first], "--") == 0)
			first++;
		if (argc <= first)
			return cli_usage("policy check",
			                 "usage: vaern policy check FILE...");
		return policy_check(argc - first, argv + first);
	}
	if (strcmp(argv[1], "load") == 0)
		return cmd_policy_load(argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return cmd_policy_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "render") == 0)
		return cmd_policy_render(argc - 1, argv + 1);
	if (strcmp(argv[1], "ropa") == 0)
		return cmd_policy_ropa(argc - 1, argv + 1);
	if (strcmp(argv[1], "history") == 0)
		return cmd_policy_history(argc - 1, argv + 1);
	if (strcmp(argv[1], "diff") == 0)
		return cmd_policy_diff(argc - 1, argv + 1);
	if (strcmp(argv[1], "notices") == 0)
		return cmd_policy_notices(argc - 1, argv + 1);
	return cli_usage("policy", cli_policy_usage);
}
