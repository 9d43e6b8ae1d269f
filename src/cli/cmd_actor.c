/*
 * cmd_actor.c -- vaern actor add|list|revoke: who may call the API.
 *
 * "actor add" prints the bearer token once; vaern keeps only a hash of its
 * secret, so a lost token is revoked and replaced, never recovered.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../vault/vault.h"
#include "cli.h"

const char cli_actor_usage[] =
        "usage: vaern actor add --controller ID --name NAME --role ROLE\n"
        "       vaern actor list --controller ID\n"
        "       vaern actor revoke --controller ID NAME";

static json_t *
time_or_null(int64_t t)
{
	char buf[21];

	if (t == INT64_MIN)
		return json_null();
	cal_format_instant(t, buf);
	return json_string(buf);
}

static enum vaern_err
list_one(void *arg, const char *name, const char *role, int64_t created_at,
         int64_t revoked_at)
{
	json_t *o = json_pack("{s:s, s:s, s:o, s:o}", "name", name, "role",
	                      role, "created_at", time_or_null(created_at),
	                      "revoked_at", time_or_null(revoked_at));

	if (o == NULL || json_array_append_new(arg, o) != 0)
		return VAERN_E_NOMEM;
	return VAERN_OK;
}

int
cmd_actor(int argc, char **argv)
{
	const char *controller = NULL, *name = NULL, *role = NULL, *sub;
	const char *pos = NULL;
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
		else if (argv[i][0] != '-' && pos == NULL)
			pos = argv[i];
		else
			return cli_usage("actor", cli_actor_usage);
	}
	if (controller == NULL ||
	    (strcmp(sub, "add") == 0 &&
	     (name == NULL || role == NULL || pos != NULL)) ||
	    (strcmp(sub, "list") == 0 && pos != NULL) ||
	    (strcmp(sub, "revoke") == 0 && pos == NULL))
		return cli_usage("actor", cli_actor_usage);
	if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 &&
	    strcmp(sub, "revoke") != 0)
		return cli_usage("actor", cli_actor_usage);
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
		list = json_array();
		err = vault_actor_foreach(v, controller, list_one, list, &msg);
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
