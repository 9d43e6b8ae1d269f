/*
 * main.c -- the vaern command line. See `vaern help` and README.md.
 */
#include <jansson.h>
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calendar/calendar.h"
#include "cli/cli.h"
#include "common/heap.h"

static const char usage_text[] =
        "usage: vaern [--data DIR] [--as-of DATE] COMMAND [ARGS]\n"
        "\n"
        "commands:\n"
        "  init [--store URL] [--policy FILE]...\n"
        "                               create the data directory, database\n"
        "                               and master key (the database on\n"
        "                               PostgreSQL with --store); load\n"
        "                               policies\n"
        "  policy check FILE...         check policy files\n"
        "  policy load FILE...          load (or update) policies in the data\n"
        "                               directory\n"
        "  policy list                  list the controllers loaded\n"
        "  id check TYPE VALUE          validate and normalise an identifier\n"
        "                               (cpr personnummer cvr orgnr email\n"
        "                               phone card username other)\n"
        "  actor add|list|revoke|console|login|unlock ...\n"
        "                               who may call the API (bearer\n"
        "                               tokens), the staff console's\n"
        "                               password and TOTP\n"
        "  serve [--listen ADDR] ...    the HTTP/JSON API (docs/api.md)\n"
        "  audit verify|show ...        the tamper-evident audit trail\n"
        "  import --controller ID FILE.csv ...\n"
        "                               load a customer base from CSV\n"
        "                               (docs/import.md)\n"
        "  retention plan|sweep|chart ...\n"
        "                               what goes when (as a chart),\n"
        "                               and taking it\n"
        "  requests add|list|show|verify|extend|status ...\n"
        "                               rights requests; see\n"
        "                               'vaern requests help'\n"
        "  incidents report|list|show|receipt|feedback|triage|register ...\n"
        "                               security reports and the breach\n"
        "                               register; see 'vaern incidents "
        "help'\n"
        "  traffic cells|import|plan|sweep|query|verify|pubkey ...\n"
        "                               the telecom retained-data store\n"
        "                               (docs/traffic.md)\n"
        "  subject add|find|show|rectify|event|erase ...\n"
        "                               the encrypted vault; see\n"
        "                               'vaern subject help'\n"
        "  key rotate [--new-key-file F | --new-key-command CMD]\n"
        "                               re-wrap every key under a new\n"
        "                               master key, online; retire the old\n"
        "  backup DIR                   the data and the audit trail, online\n"
        "  backup --keystore DIR [--keep-days N]\n"
        "                               the keystore, expiring old copies\n"
        "  restore BACKUP [--keystore DIR] [--store URL]\n"
        "                               into a new data directory (with\n"
        "                               --store: an empty PostgreSQL\n"
        "                               database; either engine's backup)\n"
        "                               (docs/operations.md)\n"
        "  help [COMMAND]               this text, or COMMAND's usage\n"
        "\n"
        "global options (anywhere on the line):\n"
        "  --data DIR     data directory (default $VAERN_DATA or "
        "./vaern-data)\n"
        "  --as-of DATE   run as if now were DATE (YYYY-MM-DD or an ISO 8601\n"
        "                 instant); also $VAERN_AS_OF\n"
        "  --master-key-file FILE     the master key from FILE (mode 0600)\n"
        "                             instead of DIR/master.key\n"
        "  --master-key-command CMD   the master key printed by CMD (sh -c;\n"
        "                             a KMS, an HSM, systemd-creds)\n"
        "  also $VAERN_MASTER_KEY (64 hex digits), $VAERN_MASTER_KEY_FILE,\n"
        "  $VAERN_MASTER_KEY_COMMAND; see docs/operations.md\n";

/* The commands: name, entry point, usage (`vaern help COMMAND`). */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} commands[] = {
        {"init", cmd_init, cli_init_usage},
        {"policy", cmd_policy, cli_policy_usage},
        {"id", cmd_id, cli_id_usage},
        {"subject", cmd_subject, cli_subject_usage},
        {"actor", cmd_actor, cli_actor_usage},
        {"serve", cmd_serve, cli_serve_usage},
        {"audit", cmd_audit, cli_audit_usage},
        {"import", cmd_import, cli_import_usage},
        {"retention", cmd_retention, cli_retention_usage},
        {"requests", cmd_requests, cli_requests_usage},
        {"incidents", cmd_incidents, cli_incidents_usage},
        {"key", cmd_key, cli_key_usage},
        {"backup", cmd_backup, cli_backup_usage},
        {"restore", cmd_restore, cli_restore_usage},
        {"traffic", cmd_traffic, cli_traffic_usage},
};

static const struct command *
command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * vaern help [COMMAND [SUBCOMMAND...]]: the general usage, or that
 * command's own (the text it prints when misused, which covers its
 * subcommands), on stdout. An unknown command is a usage error (exit 2).
 */
static int
help(int argc, char **argv)
{
	const struct command *c;

	if (argc == 0) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if ((c = command(argv[0])) == NULL) {
		fprintf(stderr,
		        "vaern help: unknown command '%s' (see 'vaern "
		        "help')\n",
		        argv[0]);
		return EXIT_USAGE;
	}
	if (fputs(c->usage, stdout) == EOF || fputc('\n', stdout) == EOF ||
	    fflush(stdout) != 0)
		return EXIT_FAILURE_;
	return EXIT_OK;
}

/*
 * Takes "--data DIR" and "--as-of DATE" out of argv wherever they stand,
 * so every command accepts them. Returns 0, or -1 after printing an error.
 */
static int
take_globals(int *argc, char **argv)
{
	struct vaern_msg msg = {{0}};
	const char *env;
	int i, j;

	env = getenv("VAERN_DATA");
	if (env != NULL && env[0] != '\0')
		cli_globals.data_dir = env;
	if (clock_init_env(&msg) != VAERN_OK) {
		fprintf(stderr, "vaern: %s: %s\n", CLOCK_ENV, msg.text);
		return -1;
	}
	for (i = 1, j = 1; i < *argc; i++) {
		const char *opt = argv[i];
		const char *val = NULL;
		size_t len;

		if (strcmp(opt, "--") == 0) {
			while (i < *argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strncmp(opt, "--master-key-", 13) == 0) {
			/* The key sources are read by src/keys from the
			 * environment: the options set it for this run. */
			const char *var = NULL;

			if (strncmp(opt + 13, "file", 4) == 0 &&
			    (opt[17] == '\0' || opt[17] == '=')) {
				var = "VAERN_MASTER_KEY_FILE";
				len = 17;
			} else if (strncmp(opt + 13, "command", 7) == 0 &&
			           (opt[20] == '\0' || opt[20] == '=')) {
				var = "VAERN_MASTER_KEY_COMMAND";
				len = 20;
			}
			if (var != NULL) {
				val = opt[len] == '=' ? opt + len + 1
				      : i + 1 < *argc ? argv[++i]
				                      : NULL;
				if (val == NULL || val[0] == '\0') {
					fprintf(stderr,
					        "vaern: %.*s needs a value\n",
					        (int)len, opt);
					return -1;
				}
				if (setenv(var, val, 1) != 0)
					return -1;
				continue;
			}
		}
		if (strncmp(opt, "--data", 6) == 0 &&
		    (opt[6] == '\0' || opt[6] == '='))
			len = 6;
		else if (strncmp(opt, "--as-of", 7) == 0 &&
		         (opt[7] == '\0' || opt[7] == '='))
			len = 7;
		else {
			argv[j++] = argv[i];
			continue;
		}
		if (opt[len] == '=')
			val = opt + len + 1;
		else if (i + 1 < *argc)
			val = argv[++i];
		if (val == NULL || val[0] == '\0') {
			fprintf(stderr, "vaern: %.*s needs a value\n", (int)len,
			        opt);
			return -1;
		}
		if (len == 6) {
			cli_globals.data_dir = val;
		} else {
			int64_t t;

			if (cal_parse_instant(val, &t, &msg) != VAERN_OK) {
				fprintf(stderr, "vaern: --as-of: %s\n",
				        msg.text);
				return -1;
			}
			clock_set(t);
		}
	}
	argv[j] = NULL;
	*argc = j;
	return 0;
}

/*
 * jansson holds decrypted values while a result is printed: its buffers
 * are wiped before they go back to the allocator (CONVENTIONS.md habit 4).
 */
static void *
json_alloc(size_t size)
{
	return malloc(size);
}

static void
json_wipe_free(void *p)
{
	if (p != NULL)
		explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

int
main(int argc, char **argv)
{
	const struct command *c;
	const char *cmd;

	if (sodium_init() < 0) {
		fputs("vaern: libsodium failed to initialise\n", stderr);
		return EXIT_FAILURE_;
	}
	/* Every file vaern creates (database, WAL, key) is the user's alone. */
	umask(077);
	heap_keep_freed();
	json_set_alloc_funcs(json_alloc, json_wipe_free);
	if (take_globals(&argc, argv) != 0)
		return EXIT_USAGE;
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0)
		return help(argc - 2, argv + 2);
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		puts("vaern 0.1.0");
		return EXIT_OK;
	}
	if ((c = command(cmd)) != NULL)
		return c->run(argc - 1, argv + 1);
	fprintf(stderr, "vaern: unknown command '%s'\n", cmd);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}
