/*
 * cli_outbox.c -- where one-time codes go (AOPT-ACCESS-1): the spool
 * DIR/outbox by default, or a mail server (src/outbox/smtp.h) named by
 * `vaern serve --smtp URL ...` or by the VAERN_SMTP_* environment, which
 * `vaern requests verify --send-code` reads too.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../outbox/smtp.h"
#include "../vault/vault.h"
#include "cli.h"

/* Each option and the variable that stands in for it. */
static const struct {
	const char *flag, *env;
	size_t off;
} smtp_strings[] = {
        {"--smtp", "VAERN_SMTP_URL", offsetof(struct cli_smtp, url)},
        {"--smtp-from", "VAERN_SMTP_FROM", offsetof(struct cli_smtp, from)},
        {"--smtp-user", "VAERN_SMTP_USER", offsetof(struct cli_smtp, user)},
        {"--smtp-password-file", "VAERN_SMTP_PASSWORD_FILE",
         offsetof(struct cli_smtp, password_file)},
        {"--smtp-ca", "VAERN_SMTP_CA", offsetof(struct cli_smtp, ca_file)},
        {"--smtp-timeout", "VAERN_SMTP_TIMEOUT",
         offsetof(struct cli_smtp, timeout)},
};

int
cli_smtp_option(struct cli_smtp *s, int argc, char **argv, int *i)
{
	const char *o = argv[*i];

	if (strncmp(o, "--smtp", 6) != 0)
		return 0;
	if (strcmp(o, "--smtp-insecure") == 0) {
		s->insecure = 1;
		return 1;
	}
	if (strcmp(o, "--smtp-spool-phone") == 0) {
		s->spool_phone = 1;
		return 1;
	}
	if (strcmp(o, "--smtp-password") == 0) {
		/* Other users of the machine can read a command line. */
		fputs("vaern: the SMTP password is read from a file "
		      "(--smtp-password-file FILE), never from the command "
		      "line\n",
		      stderr);
		return -1;
	}
	for (size_t k = 0; k < sizeof(smtp_strings) / sizeof(smtp_strings[0]);
	     k++) {
		if (strcmp(o, smtp_strings[k].flag) != 0)
			continue;
		if (*i + 1 >= argc)
			return -1;
		*(const char **)((char *)s + smtp_strings[k].off) = argv[++*i];
		return 1;
	}
	return 0;
}

/* 1 if the variable is set to a true value. */
static int
env_flag(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 ||
	                     strcmp(v, "true") == 0);
}

int
cli_smtp_open(const char *command, struct cli_smtp *s, struct smtp_outbox **out)
{
	struct smtp_config cfg;
	struct vaern_msg msg = {{0}};
	char spool[PATH_MAX];
	enum vaern_err err;
	int from_env = s->url == NULL;

	*out = NULL;
	/* The environment fills what the command line left out, but only
	 * for a mail server the command line did not name itself. */
	for (size_t k = 0; k < sizeof(smtp_strings) / sizeof(smtp_strings[0]);
	     k++) {
		const char **field =
		        (const char **)((char *)s + smtp_strings[k].off);

		if (from_env && *field == NULL)
			*field = getenv(smtp_strings[k].env);
	}
	if (from_env) {
		s->insecure |= env_flag("VAERN_SMTP_INSECURE");
		s->spool_phone |= env_flag("VAERN_SMTP_SPOOL_PHONE");
	}
	if (s->url == NULL || s->url[0] == '\0') {
		if (s->from != NULL || s->user != NULL ||
		    s->password_file != NULL || s->ca_file != NULL ||
		    s->timeout != NULL || s->insecure || s->spool_phone)
			return cli_usage(command,
			                 "the --smtp-* options need --smtp URL "
			                 "(or VAERN_SMTP_URL)");
		return EXIT_OK; /* the spool */
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.url = s->url;
	cfg.from = s->from;
	cfg.user = s->user;
	cfg.password_file = s->password_file;
	cfg.ca_file = s->ca_file;
	cfg.insecure = s->insecure;
	if (s->from == NULL)
		return cli_usage(command, "--smtp needs --smtp-from ADDRESS");
	if (s->timeout != NULL) {
		char *end = NULL;
		unsigned long t = strtoul(s->timeout, &end, 10);

		if (s->timeout[0] < '0' || s->timeout[0] > '9' ||
		    *end != '\0' || t == 0 || t > SMTP_TIMEOUT_MAX)
			return cli_usage(command,
			                 "--smtp-timeout is 1 to 300 seconds");
		cfg.timeout = (unsigned)t;
	}
	if (s->spool_phone) {
		if (snprintf(spool, sizeof(spool), "%s/%s",
		             cli_globals.data_dir,
		             VAULT_OUTBOX_DIR) >= (int)sizeof(spool))
			return cli_report(command, VAERN_E_INVALID, NULL);
		cfg.phone_spool = spool;
	}
	if ((err = smtp_outbox_new(&cfg, out, &msg)) != VAERN_OK)
		return cli_report(command, err, &msg);
	return EXIT_OK;
}

int
cli_outbox_from_env(const char *command, struct vault *v,
                    struct smtp_outbox **out)
{
	struct cli_smtp s;
	int rc;

	memset(&s, 0, sizeof(s));
	if ((rc = cli_smtp_open(command, &s, out)) != EXIT_OK)
		return rc;
	if (*out != NULL)
		vault_set_outbox(v, smtp_outbox_send, *out);
	return EXIT_OK;
}
