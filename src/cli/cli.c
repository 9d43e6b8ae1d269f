#include "cli.h"

#include "../vault/vault.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cli_globals cli_globals = {CLI_DEFAULT_DATA};

int
cli_report(const char *what, enum vaern_err err, const struct vaern_msg *msg)
{
	if (msg != NULL && msg->text[0] != '\0')
		fprintf(stderr, "vaern: %s: %s\n", what, msg->text);
	else
		fprintf(stderr, "vaern: %s: %s\n", what, vaern_strerror(err));
	switch (err) {
	case VAERN_OK: return EXIT_OK;
	case VAERN_E_INVALID:
	case VAERN_E_DENIED:
	case VAERN_E_NOTFOUND:
	case VAERN_E_EXISTS:
	case VAERN_E_LIMIT: return EXIT_REFUSED;
	default: return EXIT_FAILURE_;
	}
}

int
cli_usage(const char *command, const char *text)
{
	fprintf(stderr, "vaern %s: %s\n(see 'vaern help')\n", command, text);
	return EXIT_USAGE;
}

int
cli_print_json(json_t *j)
{
	int rc = EXIT_OK;

	if (j == NULL) {
		fputs("vaern: out of memory\n", stderr);
		return EXIT_FAILURE_;
	}
	if (json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
	    fputc('\n', stdout) == EOF || fflush(stdout) != 0)
		rc = EXIT_FAILURE_;
	json_decref(j);
	return rc;
}

int
cli_parse_i64(const char *text, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (text[0] < '0' || text[0] > '9')
		return 0;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

/* Finds the sole loaded controller: *arg (a char **, NULL at first) gets
 * a copy of the one name; a second frees it, sets it back to NULL and
 * stops the walk with VAERN_E_EXISTS. */
static enum vaern_err
only_controller(void *arg, const char *name, int64_t loaded_at)
{
	char **one = arg;

	(void)loaded_at;
	if (*one != NULL) {
		free(*one);
		*one = NULL;
		return VAERN_E_EXISTS; /* more than one: the caller must say */
	}
	*one = strdup(name);
	return *one == NULL ? VAERN_E_NOMEM : VAERN_OK;
}

int
cli_controller(struct vault *v, const char *what, const char **controller,
               char **owned)
{
	struct vaern_msg msg = {{0}};
	enum vaern_err err;

	if (*controller != NULL)
		return EXIT_OK;
	err = vault_controller_foreach(v, only_controller, owned, &msg);
	if (err == VAERN_E_EXISTS || (err == VAERN_OK && *owned == NULL)) {
		free(*owned);
		*owned = NULL;
		return cli_usage(what, "name the controller with --controller "
		                       "ID (none or more than one is loaded: "
		                       "see 'vaern policy list')");
	}
	if (err != VAERN_OK)
		return cli_report(what, err, &msg);
	*controller = *owned;
	return EXIT_OK;
}
