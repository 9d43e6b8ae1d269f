/*
 * cmd_actor.c -- vaern actor add|list|revoke: who may call the API; and
 * the staff console's credentials (issue 20, point 1):
 *
 *   vaern actor add ... --console [--qr FILE]
 *   vaern actor console NAME [--qr FILE]   (re-)enrol an existing actor
 *       the password is the first line of stdin (never an argument: a
 *       command line is visible to every user); prints the otpauth URI
 *       and the QR code of it as SVG (into FILE, mode 0600, or in the
 *       JSON as "qr_svg")
 *   vaern actor login NAME     password and code, one a line on stdin:
 *       checks a console login as the console will (throttle, lockout,
 *       replay, audit); exit 0 and the actor, or 1
 *   vaern actor unlock NAME    lifts a lockout
 *
 * "actor add" prints the bearer token once; vaern keeps only a hash of its
 * secret, so a lost token is revoked and replaced, never recovered.
 */
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../calendar/calendar.h"
#include "../staff/staff.h"
#include "../vault/vault.h"
#include "../vault/vault_staff.h"
#include "cli.h"

const char cli_actor_usage[] =
        "usage: vaern actor add --controller ID --name NAME --role ROLE\n"
        "                       [--console [--qr FILE]]\n"
        "       vaern actor list --controller ID\n"
        "       vaern actor revoke --controller ID NAME\n"
        "       vaern actor console --controller ID NAME [--qr FILE]\n"
        "       vaern actor login --controller ID NAME   (password, code "
        "on stdin)\n"
        "       vaern actor unlock --controller ID NAME";

/* A secret line of stdin: the first line, without its end, into buf
 * (size bytes); 1 if there was one that fits. */
static int
read_secret_line(char *buf, size_t size)
{
	size_t n;

	if (fgets(buf, (int)size, stdin) == NULL)
		return 0;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (!feof(stdin))
		return 0; /* longer than size: refused, not cut */
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return 1;
}

/* Writes the QR code's SVG to path, mode 0600 (it holds the secret). */
static int
qr_write(const char *path, const char *svg, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, svg, len);
	if (close(fd) != 0 || w < 0 || (size_t)w != len)
		return -1;
	return 0;
}

/* The JSON of an enrolment: the otpauth URI and its QR code (to qr, or
 * in the JSON). */
static int
enrolment_print(json_t *j, const char *uri, const char *qr)
{
	char *svg = NULL;
	size_t len = 0;
	struct vaern_msg msg = {{0}};
	enum vaern_err err = staff_qr_svg(uri, &svg, &len, &msg);
	int rc;

	if (err != VAERN_OK) {
		json_decref(j);
		return cli_report("actor", err, &msg);
	}
	if (qr != NULL && qr_write(qr, svg, len) != 0) {
		sodium_memzero(svg, len);
		free(svg);
		json_decref(j);
		fprintf(stderr, "vaern: actor: cannot write the QR code to "
		                "--qr\n");
		return EXIT_FAILURE_;
	}
	json_object_set_new(j, "otpauth_uri", json_string(uri));
	json_object_set_new(j, "qr_svg",
	                    qr != NULL ? json_string(qr) : json_string(svg));
	sodium_memzero(svg, len);
	free(svg);
	rc = cli_print_json(j);
	return rc;
}

static json_t *
time_or_null(int64_t t)
{
	char buf[21];

	if (t == INT64_MIN)
		return json_null();
	cal_format_instant(t, buf);
	return json_string(buf);
}

struct list_walk {
	json_t *list;
	struct vault *v;
	const char *controller;
};

static enum vaern_err
list_one(void *arg, const char *name, const char *role, int64_t created_at,
         int64_t revoked_at)
{
	struct list_walk *w = arg;
	int enrolled = 0;
	int64_t locked = INT64_MIN, failures = 0;
	enum vaern_err err = VAERN_OK;
	json_t *o;

	/* Issue 20: who has console access, and who is locked out. */
	if (revoked_at == INT64_MIN)
		err = vault_console_status(w->v, w->controller, name, &enrolled,
		                           &locked, &failures, NULL);
	if (err != VAERN_OK)
		return err;
	o = json_pack("{s:s, s:s, s:o, s:o, s:b}", "name", name, "role", role,
	              "created_at", time_or_null(created_at), "revoked_at",
	              time_or_null(revoked_at), "console", enrolled);
	if (o != NULL && enrolled)
		json_object_set_new(o, "console_locked_until",
		                    time_or_null(locked));
	if (o == NULL || json_array_append_new(w->list, o) != 0)
		return VAERN_E_NOMEM;
	return VAERN_OK;
}

/*
 * The console's commands: add --console (role set), console (re-enrol),
 * login, unlock; each audited into DIR/audit.db as the operator.
 */
static int
console_cmd(const char *sub, const char *controller, const char *name,
            const char *role, const char *qr)
{
	struct vaern_msg msg = {{0}};
	struct vault *v = NULL;
	struct cli_audit_local al;
	struct vault_actor who;
	char password[STAFF_PASSWORD_MAX + 2], code[STAFF_CODE_MAX + 2];
	char token[VAULT_TOKEN_MAX], uri[VAULT_CONSOLE_URI_MAX];
	char op[CLI_OPERATOR_MAX + 1];
	enum vaern_err err = VAERN_OK;
	int rc = EXIT_OK, login = strcmp(sub, "login") == 0;
	int unlock = strcmp(sub, "unlock") == 0;

	password[0] = code[0] = token[0] = uri[0] = '\0';
	if (!unlock && !read_secret_line(password, sizeof(password))) {
		fprintf(stderr,
		        "vaern: actor: the password is the first line "
		        "of stdin (at most %d bytes)\n",
		        STAFF_PASSWORD_MAX);
		return EXIT_REFUSED;
	}
	if (login && !read_secret_line(code, sizeof(code))) {
		sodium_memzero(password, sizeof(password));
		fprintf(stderr, "vaern: actor: the code is the second line of "
		                "stdin\n");
		return EXIT_REFUSED;
	}
	cli_operator_name(op);
	if ((err = vault_open(cli_globals.data_dir, &v, &msg)) != VAERN_OK)
		goto done;
	if (cli_audit_local(v, &al) != 0) {
		rc = EXIT_FAILURE_;
		goto done;
	}
	if (login) {
		err = vault_console_login(v, controller, name, password,
		                          strlen(password), code, &who, &msg);
		if (err == VAERN_OK)
			rc = cli_print_json(
			        json_pack("{s:s, s:s, s:s, s:b}", "controller",
			                  who.controller, "name", who.name,
			                  "role", who.role, "login", 1));
	} else if (unlock) {
		err = vault_console_unlock(v, controller, name, op, "operator",
		                           &msg);
		if (err == VAERN_OK)
			rc = cli_print_json(json_pack(
			        "{s:s, s:s, s:b}", "controller", controller,
			        "name", name, "unlocked", 1));
	} else {
		err = vault_console_enrol(v, controller, name, role, password,
		                          strlen(password), op, token, uri,
		                          &msg);
		if (err == VAERN_OK) {
			json_t *j = json_pack("{s:s, s:s, s:b}", "controller",
			                      controller, "name", name,
			                      "console", 1);

			if (role != NULL) {
				json_object_set_new(j, "role",
				                    json_string(role));
				json_object_set_new(j, "token",
				                    json_string(token));
			}
			rc = enrolment_print(j, uri, qr);
		}
	}
done:
	sodium_memzero(password, sizeof(password));
	sodium_memzero(code, sizeof(code));
	sodium_memzero(token, sizeof(token));
	sodium_memzero(uri, sizeof(uri));
	vault_close(v);
	if (err != VAERN_OK)
		return cli_report("actor", err, &msg);
	return rc;
}

int
cmd_actor(int argc, char **argv)
{
	const char *controller = NULL, *name = NULL, *role = NULL, *sub;
	const char *pos = NULL, *qr = NULL;
	int console = 0;
	struct vaern_msg msg = {{0}};
	struct vault *v = NULL;
	char token[VAULT_TOKEN_MAX];
	enum vaern_err err = VAERN_OK;
	json_t *list;
	int rc;

	if (argc < 2)
		return cli_usage("actor", cli_actor_usage);
	sub = argv[1];
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--controller") == 0 && i + 1 < argc)
			controller = argv[++i];
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else if (strcmp(argv[i], "--qr") == 0 && i + 1 < argc)
			qr = argv[++i];
		else if (strcmp(argv[i], "--console") == 0)
			console = 1;
		else if (argv[i][0] != '-' && pos == NULL)
			pos = argv[i];
		else
			return cli_usage("actor", cli_actor_usage);
	}
	if (controller == NULL ||
	    (strcmp(sub, "add") == 0 &&
	     (name == NULL || role == NULL || pos != NULL)) ||
	    (strcmp(sub, "add") != 0 && strcmp(sub, "console") != 0 &&
	     (qr != NULL || console)) ||
	    (strcmp(sub, "add") == 0 && qr != NULL && !console) ||
	    (strcmp(sub, "list") == 0 && pos != NULL) ||
	    (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 &&
	     (pos == NULL || name != NULL || role != NULL)))
		return cli_usage("actor", cli_actor_usage);
	if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 &&
	    strcmp(sub, "revoke") != 0 && strcmp(sub, "console") != 0 &&
	    strcmp(sub, "login") != 0 && strcmp(sub, "unlock") != 0)
		return cli_usage("actor", cli_actor_usage);
	if (console || strcmp(sub, "console") == 0 ||
	    strcmp(sub, "login") == 0 || strcmp(sub, "unlock") == 0)
		return console_cmd(sub, controller, name != NULL ? name : pos,
		                   role, qr);
	if ((err = vault_open(cli_globals.data_dir, &v, &msg)) != VAERN_OK)
		return cli_report("actor", err, &msg);
	if (strcmp(sub, "add") == 0) {
		err = vault_actor_add(v, controller, name, role, token, &msg);
		if (err == VAERN_OK)
			rc = cli_print_json(json_pack("{s:s, s:s, s:s, s:s}",
			                              "controller", controller,
			                              "name", name, "role",
			                              role, "token", token));
		explicit_bzero(token, sizeof(token));
	} else if (strcmp(sub, "list") == 0) {
		struct list_walk w = {json_array(), v, controller};

		list = w.list;
		err = vault_actor_foreach(v, controller, list_one, &w, &msg);
		if (err == VAERN_OK)
			rc = cli_print_json(json_pack("{s:s, s:o}",
			                              "controller", controller,
			                              "actors", list));
		else
			json_decref(list);
	} else {
		err = vault_actor_revoke(v, controller, pos, &msg);
		if (err == VAERN_OK)
			rc = cli_print_json(json_pack(
			        "{s:s, s:s, s:b}", "controller", controller,
			        "name", pos, "revoked", 1));
	}
	vault_close(v);
	if (err != VAERN_OK)
		return cli_report("actor", err, &msg);
	return rc;
}
