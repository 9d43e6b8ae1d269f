/*
 * cli_config.c -- the configuration file of `vaern serve --config FILE`
 * (issue 19, point 3; /etc/vaern/vaern.conf in the package).
 *
 * One format: "key = value" per line, '#' starts a comment line, blank
 * lines are skipped, spaces around key and value are trimmed, no quoting.
 * Each key is a `vaern serve` option without its "--" and with '_' for
 * '-': listen = 127.0.0.1:8080 is --listen 127.0.0.1:8080. Boolean keys
 * take true or false. Every line is checked before the server starts: an
 * unknown key, a key given twice (policy may repeat), a bad value, a
 * secret file others may read, or a configuration file others may write
 * is refused as "FILE:LINE: reason" (never a value: a path may be
 * personal, a value may be a secret). The options become arguments
 * placed before the command line's, so the command line overrides them
 * (the last of an option wins; --policy files add up).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../http/http.h"
#include "../outbox/smtp.h"
#include "../outbox/webhook.h"
#include "../vault/vault.h"
#include "cli.h"

#define CONFIG_LINE_MAX  4096
#define CONFIG_LINES_MAX 1024

enum config_kind {
	CONFIG_TEXT,     /* any non-empty text */
	CONFIG_NUMBER,   /* 1..max */
	CONFIG_DURATION, /* cli_duration */
	CONFIG_BOOL,     /* true or false: a flag */
	CONFIG_FILE,     /* a file that exists */
	CONFIG_SECRET,   /* a file that exists, readable by its owner only */
	CONFIG_WEBHOOK,  /* a webhook URL (webhook_url_check) */
};

static const struct config_key {
	const char *key;
	enum config_kind kind;
	unsigned long max; /* CONFIG_NUMBER */
	int repeat;        /* may be given more than once */
} config_keys[] = {
        {"policy", CONFIG_FILE, 0, 1},
        {"listen", CONFIG_TEXT, 0, 0},
        {"tls_cert", CONFIG_FILE, 0, 0},
        {"tls_key", CONFIG_SECRET, 0, 0},
        {"insecure", CONFIG_BOOL, 0, 0},
        {"threads", CONFIG_NUMBER, HTTP_THREADS_MAX, 0},
        {"body_max", CONFIG_NUMBER, 64ul * 1024 * 1024, 0},
        {"sweep_every", CONFIG_DURATION, 0, 0},
        {"quiet", CONFIG_BOOL, 0, 0},
        {"max_connections", CONFIG_NUMBER, HTTP_CONNECTIONS_MAX_LIMIT, 0},
        {"per_address_max", CONFIG_NUMBER, HTTP_CONNECTIONS_MAX_LIMIT, 0},
        {"header_timeout", CONFIG_NUMBER, HTTP_TIMEOUT_MAX_S, 0},
        {"idle_timeout", CONFIG_NUMBER, HTTP_TIMEOUT_MAX_S, 0},
        {"trusted_proxy", CONFIG_TEXT, 0, 0},
        {"smtp", CONFIG_TEXT, 0, 0},
        {"smtp_from", CONFIG_TEXT, 0, 0},
        {"smtp_user", CONFIG_TEXT, 0, 0},
        {"smtp_password_file", CONFIG_SECRET, 0, 0},
        {"smtp_ca", CONFIG_FILE, 0, 0},
        {"smtp_timeout", CONFIG_NUMBER, SMTP_TIMEOUT_MAX, 0},
        {"smtp_insecure", CONFIG_BOOL, 0, 0},
        {"smtp_spool_phone", CONFIG_BOOL, 0, 0},
        {"webhook", CONFIG_WEBHOOK, 0, 1},
        {"webhook_secret_file", CONFIG_SECRET, 0, 0},
        {"webhook_due_within", CONFIG_NUMBER, VAULT_WEBHOOK_DUE_MAX, 0},
        {"webhook_timeout", CONFIG_NUMBER, WEBHOOK_TIMEOUT_MAX, 0},
        {"checkpoints", CONFIG_TEXT, 0, 0},
};

int
cli_duration(const char *s, unsigned long max, unsigned long *out)
{
	static const struct {
		char unit;
		unsigned long seconds;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	unsigned long n = 0, mult = 1;
	const char *p = s;

	if (strcmp(s, "off") == 0) {
		*out = 0;
		return 0;
	}
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > max)
			return -1;
	}
	if (*p != '\0') {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (units[i].unit == *p)
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]) || p[1] != '\0')
			return -1;
		mult = units[i].seconds;
	}
	if (n > max / mult)
		return -1;
	*out = n * mult;
	return 0;
}

static const struct config_key *
config_key(const char *key)
{
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]);
	     i++)
		if (strcmp(key, config_keys[i].key) == 0)
			return &config_keys[i];
	return NULL;
}

/* NULL if value suits k, else why not (no value in it). */
static const char *
config_check(const struct config_key *k, const char *value)
{
	struct stat sb;
	unsigned long n;
	char *end = NULL;

	switch (k->kind) {
	case CONFIG_TEXT: return NULL;
	case CONFIG_NUMBER:
		errno = 0;
		n = strtoul(value, &end, 10);
		if (value[0] < '0' || value[0] > '9' || *end != '\0' ||
		    errno != 0 || n == 0 || n > k->max)
			return "not a whole number in range";
		return NULL;
	case CONFIG_DURATION:
		if (cli_duration(value, CLI_DURATION_MAX, &n) != 0)
			return "not a duration (N followed by s, m, h or d, at "
			       "most 366d; 0 or off)";
		return NULL;
	case CONFIG_WEBHOOK: {
		static _Thread_local struct vaern_msg why;

		if (webhook_url_check(value, &why) != VAERN_OK)
			return why.text;
		return NULL;
	}
	case CONFIG_BOOL:
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
			return "not true or false";
		return NULL;
	case CONFIG_FILE:
	case CONFIG_SECRET:
		if (stat(value, &sb) != 0 || !S_ISREG(sb.st_mode))
			return "no such file";
		if (k->kind == CONFIG_SECRET && (sb.st_mode & 077) != 0)
			return "a secret that group or others may read (chmod "
			       "600)";
		return NULL;
	}
	return "unknown kind";
}

/* Trims spaces and tabs on both sides, in place. */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int
config_fail(const char *path, int line, const char *key, const char *why)
{
	if (key != NULL)
		fprintf(stderr, "vaern: %s:%d: %s: %s\n", path, line, key, why);
	else
		fprintf(stderr, "vaern: %s:%d: %s\n", path, line, why);
	return EXIT_REFUSED;
}

/* Adds one argument (a copy) to cfg. 0, or -1 out of memory. */
static int
config_push(struct cli_config *cfg, const char *arg)
{
	char *copy;

	if (cfg->nargs == CLI_CONFIG_ARGS_MAX)
		return -1;
	if ((copy = strdup(arg)) == NULL)
		return -1;
	cfg->args[cfg->nargs++] = copy;
	return 0;
}

/* One "key = value" line of path: checked, then added to cfg. */
static int
config_line(struct cli_config *cfg, const char *path, int line, char *text,
            int seen_line[])
{
	char option[64];
	const struct config_key *k;
	char *eq = strchr(text, '='), *key, *value;
	size_t i;

	if (eq == NULL)
		return config_fail(path, line, NULL,
		                   "not \"key = value\" (a comment starts "
		                   "with #)");
	*eq = '\0';
	key = trim(text);
	value = trim(eq + 1);
	if ((k = config_key(key)) == NULL)
		return config_fail(path, line, NULL,
		                   "unknown key (see vaern.conf in "
		                   "docs/operations.md)");
	i = (size_t)(k - config_keys);
	if (!k->repeat && seen_line[i] != 0) {
		char why[64];

		snprintf(why, sizeof(why), "given twice (first at line %d)",
		         seen_line[i]);
		return config_fail(path, line, key, why);
	}
	seen_line[i] = line;
	if (value[0] == '\0')
		return config_fail(path, line, key, "no value");
	{
		const char *why = config_check(k, value);

		if (why != NULL)
			return config_fail(path, line, key, why);
	}
	if (k->kind == CONFIG_BOOL && strcmp(value, "false") == 0)
		return EXIT_OK;
	snprintf(option, sizeof(option), "--%s", key);
	for (char *p = option; *p != '\0'; p++)
		if (*p == '_')
			*p = '-';
	if (config_push(cfg, option) != 0 ||
	    (k->kind != CONFIG_BOOL && config_push(cfg, value) != 0))
		return cli_report("serve", VAERN_E_NOMEM, NULL);
	return EXIT_OK;
}

int
cli_config_read(const char *path, struct cli_config *cfg)
{
	int seen_line[sizeof(config_keys) / sizeof(config_keys[0])] = {0};
	char buf[CONFIG_LINE_MAX + 2];
	struct stat sb;
	FILE *f = NULL;
	int line = 0, rc = EXIT_OK, fd;

	memset(cfg, 0, sizeof(*cfg));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr,
		        "vaern: %s: cannot open the configuration "
		        "file\n",
		        path);
		return EXIT_REFUSED;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		fprintf(stderr, "vaern: %s: not a regular file\n", path);
		return EXIT_REFUSED;
	}
	/* Whoever may change it may point the server elsewhere. */
	if ((sb.st_mode & 022) != 0) {
		close(fd);
		fprintf(stderr,
		        "vaern: %s: group or others may write it (chmod "
		        "644 or stricter)\n",
		        path);
		return EXIT_REFUSED;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return cli_report("serve", VAERN_E_IO, NULL);
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		size_t len = strlen(buf);
		char *t;

		if (++line > CONFIG_LINES_MAX) {
			rc = config_fail(path, line, NULL, "too many lines");
			break;
		}
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		else if (!feof(f)) {
			rc = config_fail(path, line, NULL,
			                 "line longer than 4096 bytes");
			break;
		}
		t = trim(buf);
		if (t[0] == '\0' || t[0] == '#')
			continue;
		if ((rc = config_line(cfg, path, line, t, seen_line)) !=
		    EXIT_OK)
			break;
	}
	if (rc == EXIT_OK && ferror(f))
		rc = cli_report("serve", VAERN_E_IO, NULL);
	fclose(f);
	if (rc != EXIT_OK)
		cli_config_free(cfg);
	return rc;
}

void
cli_config_free(struct cli_config *cfg)
{
	for (int i = 0; i < cfg->nargs; i++)
		free(cfg->args[i]);
	cfg->nargs = 0;
}
