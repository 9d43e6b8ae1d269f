/*
 * cmd_init.c -- vaern init, policy load, policy list: the data directory
 * and the policies loaded into it (cmd_policy.c checks policy files).
 *
 * Results go to stdout as JSON, one document per command.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../audit/audit.h"
#include "../calendar/calendar.h"
#include "../store/db.h"
#include "../vault/vault.h"
#include "cli.h"

/* ---- init, policy load, policy list ---------------------------------------
 */

const char cli_init_usage[] =
        "usage: vaern [--data DIR] init [--store URL | --store-file FILE]\n"
        "                               [--policy FILE]...\n"
        "Creates DIR (default ./vaern-data): the database, the keystore and\n"
        "a new master key (DIR/master.key, mode 0600) unless\n"
        "--master-key-file, --master-key-command or $VAERN_MASTER_KEY names\n"
        "one; then checks and loads each --policy FILE. With --store (or\n"
        "--store-file FILE, or $VAERN_STORE) the data, the keystore and the\n"
        "audit trail go to PostgreSQL: the connection string is kept in\n"
        "DIR/store.conf (mode 0600); a password never on the command line.";

/*
 * Checks every policy file before anything is written, so a bad file in
 * the list leaves the data directory as it was. Returns EXIT_OK or prints
 * the diagnostics and returns EXIT_REFUSED.
 */
static int
check_policies(int n, char **paths)
{
	struct policy_diags *diags = calloc(1, sizeof(*diags));
	int rc = EXIT_OK;

	if (diags == NULL)
		return cli_report("policy", VAERN_E_NOMEM, NULL);
	for (int i = 0; i < n; i++) {
		struct policy *p = NULL;

		memset(diags, 0, sizeof(*diags));
		if (policy_load_file(paths[i], &p, diags) != VAERN_OK) {
			cli_print_diags(paths[i], diags);
			fprintf(stderr,
			        "vaern: %s: not loaded; nothing was "
			        "changed\n",
			        paths[i]);
			rc = EXIT_REFUSED;
		}
		policy_free(p);
	}
	free(diags);
	return rc;
}

/* Loads each policy file into the open vault; prints what was loaded. */
static int
load_policies(struct vault *v, int n, char **paths, json_t *loaded)
{
	struct policy_diags *diags = calloc(1, sizeof(*diags));
	struct vaern_msg msg = {{0}};
	int rc = EXIT_OK;

	if (diags == NULL)
		return cli_report("policy load", VAERN_E_NOMEM, NULL);
	for (int i = 0; i < n; i++) {
		const char *controller = NULL;
		enum vaern_err err;

		memset(diags, 0, sizeof(*diags));
		err = vault_policy_load(v, paths[i], diags, &controller, &msg);
		if (err != VAERN_OK) {
			cli_print_diags(paths[i], diags);
			rc = cli_report("policy load", err, &msg);
			break;
		}
		json_array_append_new(loaded, json_string(controller));
	}
	free(diags);
	return rc;
}

/*
 * The PostgreSQL engine (issue 14): a connection string given with
 * --store (never with a password: the command line is visible to every
 * user of the machine), read from --store-file, or from the environment
 * (VAERN_STORE). It goes into DIR/store.conf, mode 0600, before anything
 * else is made, so every later open of DIR finds the database.
 */
#define STORE_CONNINFO_MAX 1023

static int
has_password(const char *c)
{
	const char *at = strchr(c, '@'), *scheme = strstr(c, "://");

	if (strstr(c, "password") != NULL)
		return 1;
	/* postgresql://user:secret@host/... */
	return scheme != NULL && at != NULL && at > scheme &&
	       memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) != NULL;
}

static int
read_conninfo_file(const char *cmd, const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "vaern: %s: --store-file %s: cannot read it\n",
		        cmd, path);
		return EXIT_REFUSED;
	}
	n = fread(out, 1, size - 1, f);
	(void)fclose(f);
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	if (n == 0 || n >= size - 1) {
		fprintf(stderr,
		        "vaern: %s: --store-file %s: empty, or longer than "
		        "%d bytes\n",
		        cmd, path, STORE_CONNINFO_MAX - 1);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

static int
is_pg_url(const char *c)
{
	return strncmp(c, "postgresql://", 13) == 0 ||
	       strncmp(c, "postgres://", 11) == 0 ||
	       strchr(c, '=') != NULL; /* "host=... dbname=..." */
}

int
cli_store_conf_write(const char *cmd, const char *dir, const char *conninfo)
{
	char path[PATH_MAX];
	size_t len = strlen(conninfo);
	int fd, w;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "vaern: %s: cannot create %s: %s\n", cmd, dir,
		        strerror(errno));
		return EXIT_FAILURE_;
	}
	w = snprintf(path, sizeof(path), "%s/%s", dir, DB_STORE_CONF);
	if (w < 0 || (size_t)w >= sizeof(path))
		return cli_usage(cmd, "the data directory path is too long");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	          0600);
	if (fd < 0) {
		fprintf(stderr, "vaern: %s: %s: %s\n", cmd, path,
		        errno == EEXIST ? "already initialised"
		                        : strerror(errno));
		return errno == EEXIST ? EXIT_REFUSED : EXIT_FAILURE_;
	}
	if (write(fd, conninfo, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
		(void)close(fd);
		(void)unlink(path);
		fprintf(stderr, "vaern: %s: cannot write %s\n", cmd, path);
		return EXIT_FAILURE_;
	}
	(void)close(fd);
	return EXIT_OK;
}

void
cli_store_conf_drop(const char *dir)
{
	char path[PATH_MAX];
	int w = snprintf(path, sizeof(path), "%s/%s", dir, DB_STORE_CONF);

	if (w > 0 && (size_t)w < sizeof(path))
		(void)unlink(path);
}

int
cli_store_conninfo(const char *cmd, const char *store, const char *store_file,
                   char *conninfo, size_t size)
{
	int rc;

	conninfo[0] = '\0';
	if (store == NULL && store_file == NULL)
		store = getenv("VAERN_STORE");
	else if (store != NULL && has_password(store))
		return cli_usage(
		        cmd, "--store: a password does not go on the command "
		             "line; put the connection string in a file of "
		             "mode 0600 (--store-file) or in VAERN_STORE, or "
		             "use ~/.pgpass");
	if (store_file != NULL &&
	    (rc = read_conninfo_file(cmd, store_file, conninfo, size)) !=
	            EXIT_OK)
		return rc;
	if (store != NULL && *store != '\0' &&
	    (size_t)snprintf(conninfo, size, "%s", store) >= size)
		return cli_usage(cmd, "--store: longer than 1022 bytes");
	if (conninfo[0] != '\0' && strcmp(conninfo, "sqlite") != 0 &&
	    !is_pg_url(conninfo))
		return cli_usage(cmd, "--store: give a PostgreSQL connection "
		                      "string (postgresql://... or "
		                      "\"host=... dbname=...\") or sqlite");
	return EXIT_OK;
}

int
cmd_init(int argc, char **argv)
{
	char conninfo[STORE_CONNINFO_MAX + 1] = "";
	const char *store = NULL, *store_file = NULL;
	struct vaern_msg msg = {{0}};
	struct vault *v = NULL;
	char **paths;
	json_t *out, *loaded;
	enum vaern_err err;
	int n = 0, rc;

	if ((paths = calloc((size_t)argc, sizeof(*paths))) == NULL)
		return cli_report("init", VAERN_E_NOMEM, NULL);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
			paths[n++] = argv[++i];
		} else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
			store = argv[++i];
		} else if (strcmp(argv[i], "--store-file") == 0 &&
		           i + 1 < argc) {
			store_file = argv[++i];
		} else {
			free(paths);
			return cli_usage("init", cli_init_usage);
		}
	}
	if ((rc = cli_store_conninfo("init", store, store_file, conninfo,
	                             sizeof(conninfo))) != EXIT_OK) {
		sodium_memzero(conninfo, sizeof(conninfo));
		free(paths);
		return rc;
	}
	if ((rc = check_policies(n, paths)) != EXIT_OK) {
		free(paths);
		return rc;
	}
	if (conninfo[0] != '\0' && strcmp(conninfo, "sqlite") != 0 &&
	    (rc = cli_store_conf_write("init", cli_globals.data_dir,
	                               conninfo)) != EXIT_OK) {
		sodium_memzero(conninfo, sizeof(conninfo));
		free(paths);
		return rc;
	}
	if ((err = vault_init(cli_globals.data_dir, &msg)) != VAERN_OK) {
		if (conninfo[0] != '\0' && strcmp(conninfo, "sqlite") != 0)
			cli_store_conf_drop(cli_globals.data_dir);
		sodium_memzero(conninfo, sizeof(conninfo));
		free(paths);
		return cli_report("init", err, &msg);
	}
	sodium_memzero(conninfo, sizeof(conninfo));
	/* The audit trail has its own database (src/audit/audit.h). */
	{
		char apath[4096];
		int w = snprintf(apath, sizeof(apath), "%s/%s",
		                 cli_globals.data_dir, AUDIT_DB_FILE);

		if (w < 0 || (size_t)w >= sizeof(apath) ||
		    (err = audit_create(apath, &msg)) != VAERN_OK) {
			free(paths);
			return cli_report("init", err ? err : VAERN_E_INVALID,
			                  &msg);
		}
	}
	if ((err = vault_open(cli_globals.data_dir, &v, &msg)) != VAERN_OK) {
		free(paths);
		return cli_report("init", err, &msg);
	}
	/* The audit MAC key and the trail's head from the start (issue 12),
	 * so no later command changes the data store just to make them. */
	{
		struct cli_trail ct;

		if ((err = cli_trail_of(v, &ct, &msg)) == VAERN_OK)
			err = audit_outbox_flush(&ct.t, NULL, &msg);
		sodium_memzero(&ct.t, sizeof(ct.t));
		if (err != VAERN_OK) {
			vault_close(v);
			free(paths);
			return cli_report("init", err, &msg);
		}
	}
	loaded = json_array();
	rc = load_policies(v, n, paths, loaded);
	vault_close(v);
	free(paths);
	if (rc != EXIT_OK) {
		json_decref(loaded);
		return rc;
	}
	out = json_pack("{s:s, s:o}", "data", cli_globals.data_dir,
	                "controllers", loaded);
	return cli_print_json(out);
}

int
cmd_policy_load(int argc, char **argv)
{
	struct vaern_msg msg = {{0}};
	struct vault *v = NULL;
	json_t *loaded, *sent = NULL;
	enum vaern_err err;
	int rc;

	if (argc < 2)
		return cli_usage("policy load", "usage: vaern [--data DIR] "
		                                "policy load FILE...");
	if ((rc = check_policies(argc - 1, argv + 1)) != EXIT_OK)
		return rc;
	if ((err = vault_open(cli_globals.data_dir, &v, &msg)) != VAERN_OK)
		return cli_report("policy load", err, &msg);
	loaded = json_array();
	rc = load_policies(v, argc - 1, argv + 1, loaded);
	/* CEK-PURP-5: the people already here are told of what is new. */
	if (rc == EXIT_OK)
		rc = cli_notices_after_load(v, loaded, &sent);
	vault_close(v);
	if (rc != EXIT_OK) {
		json_decref(loaded);
		json_decref(sent);
		return rc;
	}
	return cli_print_json(json_pack("{s:o, s:o*}", "loaded", loaded,
	                                "notices_sent", sent));
}

struct list_ctx {
	struct vault *v;
	json_t *list;
};

static enum vaern_err
list_one(void *arg, const char *name, int64_t loaded_at)
{
	struct list_ctx *l = arg;
	struct vaern_msg msg = {{0}};
	const struct policy *p = NULL;
	json_t *o;

	o = json_pack("{s:s, s:o}", "controller", name, "loaded_at",
	              cli_json_time(loaded_at));
	if (vault_policy(l->v, name, &p, &msg) == VAERN_OK) {
		char ver[11];

		cal_format_date(p->controller.policy_version, ver);
		json_object_set_new(o, "name", json_string(p->controller.name));
		json_object_set_new(o, "country",
		                    json_string(p->controller.country));
		json_object_set_new(o, "policy_version", json_string(ver));
		/* Issue 12: what audit entries name as policy_digest. */
		json_object_set_new(
		        o, "policy_digest",
		        json_string(vault_policy_version(l->v, name)));
	} else {
		json_object_set_new(o, "error", json_string(msg.text));
	}
	json_array_append_new(l->list, o);
	return VAERN_OK;
}

int
cmd_policy_list(int argc, char **argv)
{
	struct vaern_msg msg = {{0}};
	struct list_ctx l = {NULL, NULL};
	enum vaern_err err;

	(void)argv;
	if (argc != 1)
		return cli_usage("policy list", "usage: vaern [--data DIR] "
		                                "policy list");
	if ((err = vault_open(cli_globals.data_dir, &l.v, &msg)) != VAERN_OK)
		return cli_report("policy list", err, &msg);
	l.list = json_array();
	err = vault_controller_foreach(l.v, list_one, &l, &msg);
	vault_close(l.v);
	if (err != VAERN_OK) {
		json_decref(l.list);
		return cli_report("policy list", err, &msg);
	}
	return cli_print_json(json_pack("{s:o}", "controllers", l.list));
}
