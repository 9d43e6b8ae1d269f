/*
 * cmd_key.c -- vaern key rotate, vaern backup, vaern restore (issue 13;
 * docs/operations.md).
 *
 *   vaern key rotate [--new-key-file FILE | --new-key-command CMD]
 *                    [--batch N] [--quiet]
 *       re-wraps every wrapped key under a new master key while vaern
 *       serve goes on, then retires the old key; resumable (run it again
 *       after a crash). Audited when it begins and when it ends.
 *   vaern backup DIR
 *       the data store and the audit trail, online, into the new or
 *       empty DIR, with DIR/manifest.json. No key is in it.
 *   vaern backup --keystore DIR [--keep-days N]
 *       the keystore into DIR/keystore-<time>/; backups in DIR older than
 *       N days (default 30) are deleted.
 *   vaern restore BACKUP [--keystore DIR] [--store URL | --store-file F]
 *       into the data directory (--data), which must be new or empty (a
 *       master.key alone is allowed): checks everything first. The
 *       keystore: the newest backup in DIR, or DIR's live one if DIR is
 *       a data directory; without --keystore, the live keystore of the
 *       data directory the backup was taken from. With --store (or
 *       --store-file, or $VAERN_STORE) into an empty PostgreSQL database.
 *       A backup of either engine restores into either (issue 14).
 *
 * Messages name files and generations, never a key or a value.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../audit/audit.h"
#include "../keys/keys.h"
#include "../vault/vault.h"
#include "cli.h"

#define BATCH_MAX     1000000
#define KEEP_DAYS_MAX 36500

const char cli_key_usage[] =
        "usage: vaern key rotate [--new-key-file FILE | --new-key-command "
        "CMD]\n"
        "                        [--batch N] [--quiet]";
const char cli_backup_usage[] =
        "usage: vaern backup DIR\n"
        "       vaern backup --keystore DIR [--keep-days N]";
const char cli_restore_usage[] =
        "usage: vaern restore BACKUP [--keystore DIR]\n"
        "                            [--store URL | --store-file FILE]";

/* The data directory's audit trail and its MAC key (issue 12), loaded
 * by the first audit_op that can open the vault; wiped at exit. */
static struct cli_trail op_trail;
static int op_trail_ready;

static void
op_trail_wipe(void)
{
	sodium_memzero(&op_trail.t, sizeof(op_trail.t));
}

/* Loads op_trail if it is not yet: VAERN_OK, or why the vault would not
 * open (a rotation half done: its master key retired). */
static enum vaern_err
op_trail_load(struct vaern_msg *msg)
{
	struct vault *v = NULL;
	enum vaern_err err;

	if (op_trail_ready)
		return VAERN_OK;
	if ((err = vault_open(cli_globals.data_dir, &v, msg)) == VAERN_OK)
		err = cli_trail_of(v, &op_trail, msg);
	vault_close(v);
	if (err == VAERN_OK) {
		op_trail_ready = 1;
		(void)atexit(op_trail_wipe);
	}
	return err;
}

/*
 * One operator entry in the data directory's audit trail (GDPR-32). When
 * the vault cannot be opened yet (a rotation to finish, its master key
 * retired) and defer is set, the entry waits in *later (one) for the next
 * audit_op that can write it.
 */
static enum vaern_err
audit_op(const char *dir, const char *action, const char *reason,
         struct vaern_msg *msg)
{
	static struct {
		int waiting;
		char action[64];
		char reason[512];
	} later;
	struct audit_entry e[2];
	size_t n = 0;
	enum vaern_err err;

	(void)dir; /* the data directory's: cli_globals.data_dir */
	memset(e, 0, sizeof(e));
	if ((err = op_trail_load(msg)) != VAERN_OK) {
		if (strcmp(action, "key-rotate-begin") != 0 || later.waiting)
			return err;
		/* Written with the rotation's end, once the vault opens. */
		later.waiting = 1;
		(void)snprintf(later.action, sizeof(later.action), "%s",
		               action);
		(void)snprintf(later.reason, sizeof(later.reason), "%s",
		               reason);
		return VAERN_OK;
	}
	if (later.waiting) {
		e[n].action = later.action;
		e[n++].reason = later.reason;
		later.waiting = 0;
	}
	e[n].action = action;
	e[n++].reason = reason;
	for (size_t i = 0; i < n; i++) {
		e[i].actor = "operator";
		e[i].allowed = 1;
		e[i].rule = "GDPR-32";
	}
	return audit_append_direct(&op_trail.t, e, n, NULL, msg);
}

static void
progress(void *arg, int64_t done, int64_t total)
{
	(void)arg;
	if (total > 0)
		fprintf(stderr, "\r%lld of %lld keys re-wrapped",
		        (long long)done, (long long)total);
}

static int
key_rotate(int argc, char **argv)
{
	struct keys_rotate_opts o;
	struct keys_rotate_report rep;
	struct vaern_msg msg = {{0}};
	enum vaern_err err;
	char reason[512];
	int64_t v;
	int quiet = 0;
	json_t *j;

	memset(&o, 0, sizeof(o));
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--new-key-file") == 0 && i + 1 < argc)
			o.new_key_file = argv[++i];
		else if (strcmp(argv[i], "--new-key-command") == 0 &&
		         i + 1 < argc)
			o.new_key_command = argv[++i];
		else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
			if (!cli_parse_i64(argv[++i], 1, BATCH_MAX, &v))
				return cli_usage("key rotate",
				                 "--batch: 1..1000000 keys");
			o.batch = (size_t)v;
		} else if (strcmp(argv[i], "--quiet") == 0)
			quiet = 1;
		else
			return cli_usage("key", cli_key_usage);
	}
	if (o.new_key_file != NULL && o.new_key_command != NULL)
		return cli_usage(
		        "key rotate",
		        "--new-key-file or --new-key-command, not both");
	if (!quiet && isatty(STDERR_FILENO))
		o.progress = progress;
	if ((err = audit_op(cli_globals.data_dir, "key-rotate-begin",
	                    "master key rotation begun or resumed", &msg)))
		return cli_report("key rotate", err, &msg);
	err = keys_rotate(cli_globals.data_dir, &o, &rep, &msg);
	if (o.progress != NULL)
		fputs("\r\033[K", stderr);
	if (err != VAERN_OK) {
		struct vaern_msg m2 = {{0}};

		(void)snprintf(reason, sizeof(reason),
		               "master key rotation stopped: %.400s", msg.text);
		(void)audit_op(cli_globals.data_dir, "key-rotate-stopped",
		               reason, &m2);
		return cli_report("key rotate", err, &msg);
	}
	(void)snprintf(reason, sizeof(reason),
	               "master key generation %lld retired; %lld keys "
	               "re-wrapped under generation %lld",
	               (long long)rep.from_gen, (long long)rep.rewrapped,
	               (long long)rep.to_gen);
	if ((err = audit_op(cli_globals.data_dir, "key-rotate-end", reason,
	                    &msg)) != VAERN_OK)
		return cli_report("key rotate", err, &msg);
	j = json_pack("{sIsIsIsbsbsf}", "retired_generation",
	              (json_int_t)rep.from_gen, "generation",
	              (json_int_t)rep.to_gen, "rewrapped",
	              (json_int_t)rep.rewrapped, "resumed", rep.resumed,
	              "key_file_replaced", rep.key_file_renamed, "seconds",
	              rep.seconds);
	if (!rep.key_file_renamed && j != NULL)
		json_object_set_new(
		        j, "note",
		        json_string("give vaern the new master key from now "
		                    "on: the old one is retired"));
	return cli_print_json(j);
}

int
cmd_key(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "rotate") == 0)
		return key_rotate(argc, argv);
	return cli_usage("key", cli_key_usage);
}

int
cmd_backup(int argc, char **argv)
{
	struct vaern_msg msg = {{0}};
	const char *dir = NULL, *ksdir = NULL;
	char path[PATH_MAX], reason[PATH_MAX + 64];
	enum vaern_err err;
	int64_t keep = KEYS_KEEP_DAYS;
	int expired = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--keystore") == 0 && i + 1 < argc)
			ksdir = argv[++i];
		else if (strcmp(argv[i], "--keep-days") == 0 && i + 1 < argc) {
			if (!cli_parse_i64(argv[++i], 1, KEEP_DAYS_MAX, &keep))
				return cli_usage("backup",
				                 "--keep-days: 1..36500 days");
		} else if (argv[i][0] != '-' && dir == NULL)
			dir = argv[i];
		else
			return cli_usage("backup", cli_backup_usage);
	}
	if ((dir == NULL) == (ksdir == NULL))
		return cli_usage("backup", cli_backup_usage);
	if (ksdir != NULL) {
		err = keys_backup_keystore(cli_globals.data_dir, ksdir,
		                           (int)keep, path, &expired, &msg);
		if (err != VAERN_OK)
			return cli_report("backup", err, &msg);
		(void)snprintf(reason, sizeof(reason),
		               "keystore backup made; %d expired", expired);
		if ((err = audit_op(cli_globals.data_dir, "backup-keystore",
		                    reason, &msg)))
			return cli_report("backup", err, &msg);
		return cli_print_json(json_pack("{sssssi}", "kind", "keystore",
		                                "backup", path, "expired",
		                                expired));
	}
	/* The entry first: the backup's trail then records it. */
	if ((err = audit_op(cli_globals.data_dir, "backup-data",
	                    "data backup made", &msg)) != VAERN_OK ||
	    (err = keys_backup_data(cli_globals.data_dir, dir, &msg)))
		return cli_report("backup", err, &msg);
	return cli_print_json(
	        json_pack("{ssss}", "kind", "data", "backup", dir));
}

int
cmd_restore(int argc, char **argv)
{
	struct keys_restore_report rep;
	struct vaern_msg msg = {{0}};
	const char *backup = NULL, *ksdir = NULL, *store = NULL;
	const char *store_file = NULL;
	char reason[256], conninfo[1024];
	enum vaern_err err;
	struct stat sb;
	int rc, wrote_conf = 0, had_dir;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--keystore") == 0 && i + 1 < argc)
			ksdir = argv[++i];
		else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc)
			store = argv[++i];
		else if (strcmp(argv[i], "--store-file") == 0 && i + 1 < argc)
			store_file = argv[++i];
		else if (argv[i][0] != '-' && backup == NULL)
			backup = argv[i];
		else
			return cli_usage("restore", cli_restore_usage);
	}
	if (backup == NULL)
		return cli_usage("restore", cli_restore_usage);
	/* Into PostgreSQL (issue 14): the data directory's store.conf names
	 * an empty database, written here as `vaern init --store` writes it
	 * and removed again if the restore fails. */
	if ((rc = cli_store_conninfo("restore", store, store_file, conninfo,
	                             sizeof(conninfo))) != EXIT_OK) {
		sodium_memzero(conninfo, sizeof(conninfo));
		return rc;
	}
	had_dir = stat(cli_globals.data_dir, &sb) == 0;
	if (conninfo[0] != '\0' && strcmp(conninfo, "sqlite") != 0) {
		rc = cli_store_conf_write("restore", cli_globals.data_dir,
		                          conninfo);
		sodium_memzero(conninfo, sizeof(conninfo));
		if (rc != EXIT_OK)
			return rc;
		wrote_conf = 1;
	}
	err = keys_restore(backup, ksdir, cli_globals.data_dir, &rep, &msg);
	if (err != VAERN_OK) {
		if (wrote_conf) {
			cli_store_conf_drop(cli_globals.data_dir);
			if (!had_dir)
				(void)rmdir(cli_globals.data_dir);
		}
		return cli_report("restore", err, &msg);
	}
	(void)snprintf(reason, sizeof(reason),
	               "restored; %lld subjects erased after the data backup "
	               "removed, %lld keys without data dropped, %lld traffic "
	               "days swept after the data backup removed",
	               (long long)rep.purged, (long long)rep.dead_keys,
	               (long long)rep.traffic_days);
	if ((err = audit_op(cli_globals.data_dir, "restore", reason, &msg)))
		return cli_report("restore", err, &msg);
	return cli_print_json(json_pack(
	        "{sssssIsIsIsI}", "restored", cli_globals.data_dir, "keystore",
	        rep.keystore, "erased_removed", (json_int_t)rep.purged,
	        "dead_keys", (json_int_t)rep.dead_keys, "traffic_days_removed",
	        (json_int_t)rep.traffic_days, "audit_head",
	        (json_int_t)rep.audit_seq));
}
