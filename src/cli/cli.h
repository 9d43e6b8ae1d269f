/*
 * cli.h -- the vaern command line: one function per command.
 *
 * main() takes the global options out of argv (wherever they stand), sets
 * the clock, and hands the rest to a command. A command writes its result
 * to stdout (JSON for the vault commands), its diagnostics to stderr, and
 * returns one of the exit codes below. No command prints personal data to
 * stderr.
 */
#ifndef VAERN_CLI_H
#define VAERN_CLI_H

#include <limits.h>
#include <stdint.h>

#include "../audit/audit.h"
#include "../common/err.h"

/* Exit codes, the same for every command. */
#define EXIT_OK       0 /* done */
#define EXIT_REFUSED  1 /* the input is invalid or the policy refuses it */
#define EXIT_USAGE    2 /* the command line is wrong */
#define EXIT_FAILURE_ 3 /* i/o, storage, crypto or internal failure */

/* The data directory when neither --data nor VAERN_DATA names one. */
#define CLI_DEFAULT_DATA "vaern-data"

/* Global options, set by main() before a command runs. */
struct cli_globals {
	const char *data_dir; /* --data DIR, VAERN_DATA, or CLI_DEFAULT_DATA */
};

extern struct cli_globals cli_globals;

/* Each command gets argv with argv[0] = its own name ("policy", ...). */
int cmd_init(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_id(int argc, char **argv);
int cmd_subject(int argc, char **argv);
int cmd_actor(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_retention(int argc, char **argv);
int cmd_requests(int argc, char **argv); /* rights requests (issue 5) */
/* Keys and backups (issue 13): in cmd_key.c. */
int cmd_key(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_incidents(int argc, char **argv); /* security reports (issue 17) */
int cmd_traffic(int argc, char **argv);   /* retained data (issue 18) */
int cmd_import(int argc, char **argv);    /* CSV import, cmd_import.c */

/*
 * Each command's usage, as `vaern help COMMAND` prints it (on stdout,
 * exit 0) and as the command prints it on stderr when misused (exit 2):
 * one text for both, so they cannot drift apart. Defined beside the
 * command they describe.
 */
extern const char cli_init_usage[];      /* cmd_init.c */
extern const char cli_policy_usage[];    /* cmd_policy.c */
extern const char cli_id_usage[];        /* cmd_id.c */
extern const char cli_subject_usage[];   /* cmd_vault.c */
extern const char cli_actor_usage[];     /* cmd_actor.c */
extern const char cli_serve_usage[];     /* cmd_serve.c */
extern const char cli_audit_usage[];     /* cmd_audit.c */
extern const char cli_import_usage[];    /* cmd_import.c */
extern const char cli_retention_usage[]; /* cmd_retention.c */
extern const char cli_requests_usage[];  /* cmd_requests.c */
extern const char cli_incidents_usage[]; /* cmd_incidents.c */
extern const char cli_key_usage[];       /* cmd_key.c */
extern const char cli_backup_usage[];    /* cmd_key.c */
extern const char cli_restore_usage[];   /* cmd_key.c */
extern const char cli_traffic_usage[];   /* cmd_traffic.c */

struct vault;
/* Where a local command's audit events go: DIR/audit.db, each entry
 * naming the policy version of v it was decided under (issue 12). */
/* The audit trail of the data directory: its paths and MAC key. */
struct cli_trail {
	char path[PATH_MAX];   /* DIR/audit.db */
	char outbox[PATH_MAX]; /* DIR/vaern.db: the outbox, the head */
	struct audit_trail t;  /* points into the two; the key */
};

struct cli_audit_local {
	char path[PATH_MAX];     /* DIR/audit.db */
	struct vault *v;         /* the command's vault */
	struct cli_trail *trail; /* the trail's paths and MAC key: the
	                            process's one, wiped at exit */
};

/* Sends the vault's audit events of a local command straight into
 * DIR/audit.db (a change's entry from the outbox it committed with, issue
 * 12); al must outlive the vault's use. 0 on success; -1 with the reason
 * on stderr. In cmd_retention.c. */
int cli_audit_local(struct vault *v, struct cli_audit_local *al);

/* A traffic_audit_fn (src/traffic/traffic_access.h) writing into the
 * trail of al (arg), set up by cli_audit_local. In cmd_retention.c. */
struct audit_entry;
enum vaern_err cli_traffic_audit(void *arg, const struct audit_entry *e,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* The local operator's name in the audit trail (GDPR-32): "operator:"
 * and the OS user running the command (its uid if it has no name), in
 * A-Z a-z 0-9 . _ - only. In cmd_retention.c. */
#define CLI_OPERATOR_MAX 64
void cli_operator_name(char out[CLI_OPERATOR_MAX + 1]);

/* Fills ct for the data directory of v, whose audit MAC key it reads
 * (made if there is none). In cmd_audit.c. */
enum vaern_err cli_trail_of(struct vault *v, struct cli_trail *ct,
                            struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/*
 * Signed checkpoints of the audit trail (issue 12), in cmd_checkpoint.c.
 * cli_checkpoint_write signs (seq, head, now) with the Ed25519 key whose
 * 32-byte seed is in key_file (made, mode 0600, if missing) and writes
 * it to dir as ckpt-SEQ-AT.json, after dir/checkpoint.pub (made if
 * missing, else it must be this key's). Prints what it wrote. Returns an
 * exit code.
 */
int cli_checkpoint_write(const char *key_file, const char *dir, int64_t seq,
                         const unsigned char head[AUDIT_HASH_BYTES]);

/* "vaern policy load|list": in cmd_vault.c, called by cmd_policy. */
int cmd_policy_load(int argc, char **argv);
int cmd_policy_list(int argc, char **argv);

/* "vaern policy render|ropa": in cmd_render.c (issue 15). */
int cmd_policy_render(int argc, char **argv);
int cmd_policy_ropa(int argc, char **argv);
int cmd_policy_history(int argc, char **argv);
int cmd_policy_diff(int argc, char **argv);
/* "vaern policy notices": in cmd_notices.c (CEK-PURP-5). */
int cmd_policy_notices(int argc, char **argv);
/*
 * CEK-PURP-5: after `policy load`, tells the people of each controller
 * named in loaded (a JSON array of names) of its new or widened purposes
 * through the outbox (the spool, or SMTP from the environment), each
 * once, audited. *sent: {controller: count} of those told now, or NULL
 * if none. A send that fails is reported on stderr and left for `policy
 * notices --send`: the load stands. Returns an exit code.
 */
struct json_t;
int cli_notices_after_load(struct vault *v, struct json_t *loaded,
                           struct json_t **sent);

/*
 * The controller a command works for, when its --controller may be left
 * out: *controller as given, or else the sole loaded one (a copy in
 * *owned, which the caller frees; *owned is NULL at first). None or more
 * than one loaded is a usage error naming --controller, reported as
 * "vaern: <what>: ...". Returns an exit code: EXIT_OK, or what was
 * reported.
 */
int cli_controller(struct vault *v, const char *what, const char **controller,
                   char **owned);

/*
 * Prints "vaern: <what>: <message>" to stderr and returns the exit code
 * that err maps to (EXIT_REFUSED for invalid/denied/not found/exists,
 * EXIT_FAILURE_ otherwise). msg may be NULL or empty.
 */
int cli_report(const char *what, enum vaern_err err,
               const struct vaern_msg *msg);

struct policy_diags;
struct json_t;

/* Prints j (indented) and a newline to stdout and frees j; returns
 * EXIT_OK, or EXIT_FAILURE_ if j is NULL (out of memory) or stdout fails. */
int cli_print_json(struct json_t *j);

/* t as JSON: an RFC 3339 instant, or null for INT64_MIN. In cmd_vault.c. */
struct json_t *cli_json_time(int64_t t);

/* Prints every problem of a policy file to stderr as
 * FILE:LINE:COLUMN: message (docs/policy.md). */
void cli_print_diags(const char *path, const struct policy_diags *d);

/* Parses a whole decimal number in [min, max] (no sign, no spaces) into
 * *out: 1, or 0 if text is not one. */
int cli_parse_i64(const char *text, int64_t min, int64_t max, int64_t *out);

/* ---- the configuration file (cli_config.c, issue 19) ---- */

#define CLI_CONFIG_ARGS_MAX 256
/* The longest duration: 366 days. */
#define CLI_DURATION_MAX (366ul * 24 * 3600)

/* A configuration file read into `vaern serve` options ("--listen",
 * "127.0.0.1:8080", ...), each an owned copy. */
struct cli_config {
	char *args[CLI_CONFIG_ARGS_MAX];
	int nargs;
};

/* Reads and checks the whole file at path into cfg; EXIT_OK, or the exit
 * code after printing "vaern: FILE:LINE: reason" (cfg then holds
 * nothing). Free with cli_config_free. */
int cli_config_read(const char *path, struct cli_config *cfg)
        __attribute__((warn_unused_result));
void cli_config_free(struct cli_config *cfg);

/* Parses a duration: "N" seconds, or N followed by s, m, h or d; "0" and
 * "off" are 0. At most max seconds. 0, or -1 if s is not one. */
int cli_duration(const char *s, unsigned long max, unsigned long *out)
        __attribute__((warn_unused_result));

/* Prints "vaern <command>: <text>" and a usage hint; returns EXIT_USAGE. */
int cli_usage(const char *command, const char *text);

/* ---- the SMTP outbox (cli_outbox.c) ---- */

/* The --smtp* options as given (pointers into argv); NULL: not given. */
struct cli_smtp {
	const char *url, *from, *user, *password_file, *ca_file, *timeout;
	int insecure;    /* --smtp-insecure: smtp:// on loopback in the clear */
	int spool_phone; /* --smtp-spool-phone: phone codes to DIR/outbox */
};

struct smtp_outbox;

/* Takes the --smtp* option at argv[*i] (and its value, moving *i on).
 * 1: taken; 0: not an --smtp option; -1: bad (a value missing, or
 * --smtp-password, which is refused: a password comes from a file). */
int cli_smtp_option(struct cli_smtp *s, int argc, char **argv, int *i);

/*
 * Opens the SMTP outbox s names; when s names no server, the VAERN_SMTP_*
 * variables (URL, FROM, USER, PASSWORD_FILE, CA, TIMEOUT, INSECURE,
 * SPOOL_PHONE) do. *out is NULL if neither names one (the spool stays).
 * Returns EXIT_OK, or the exit code after reporting the problem.
 */
int cli_smtp_open(const char *command, struct cli_smtp *s,
                  struct smtp_outbox **out);

/* cli_smtp_open from the environment alone, plugged into v's outbox.
 * The caller frees *out (smtp_outbox_free) after its last send. */
int cli_outbox_from_env(const char *command, struct vault *v,
                        struct smtp_outbox **out);

/* ---- a store in PostgreSQL (cmd_init.c; issue 14) ---- */

/*
 * The connection string of a new data directory's store into conninfo
 * (size bytes; "" for SQLite): --store (refused with a password in it:
 * the command line is visible to every user), --store-file (a file), or,
 * when neither is given, $VAERN_STORE. Returns EXIT_OK, or the exit code
 * after printing why (naming cmd; never the string).
 */
int cli_store_conninfo(const char *cmd, const char *store,
                       const char *store_file, char *conninfo, size_t size);
/* Writes DIR/store.conf (mode 0600, never over an existing one; DIR made
 * if missing): EXIT_OK or the exit code after printing why. */
int cli_store_conf_write(const char *cmd, const char *dir,
                         const char *conninfo);
/* Removes DIR/store.conf after a failed command, so a retry starts
 * clean. */
void cli_store_conf_drop(const char *dir);

#endif
