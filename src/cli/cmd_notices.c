/*
 * cmd_notices.c -- vaern policy notices [CONTROLLER] [--send] (CEK-PURP-5,
 * issue 15 point 4): the plan of who must be (or was) told of each
 * version's new or widened purposes, and from when those purposes apply
 * to them; --send tells those not yet told through the outbox (the spool,
 * or SMTP from VAERN_SMTP_URL), each once, audited. `vaern policy load`
 * tells them right after the load (cli_notices_after_load).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../outbox/smtp.h"
#include "../vault/vault.h"
#include "../vault/vault_notice.h"
#include "cli.h"

static const char usage[] =
        "usage: vaern [--data DIR] policy notices [[--controller] ID] "
        "[--send]";

struct plan {
	json_t *changes; /* the versions, each with its people */
	json_t *people;  /* the people of the version being listed */
};

static json_t *
instant(int64_t t)
{
	char buf[21];

	if (t == 0)
		return json_null();
	cal_format_instant(t, buf);
	return json_string(buf);
}

static enum vaern_err
person(void *arg, const struct vault_notice_person *p)
{
	struct plan *pl = arg;
	char uid[VAULT_UID_HEX];
	json_t *o;

	vault_uid_format(p->subject, uid);
	o = json_pack("{s:s, s:s, s:o, s:o}", "subject", uid, "status",
	              p->status, "told_at", instant(p->told_at), "usable_from",
	              instant(p->usable_from));
	if (o == NULL || json_array_append_new(pl->people, o) != 0)
		return VAERN_E_NOMEM;
	return VAERN_OK;
}

static enum vaern_err
change(void *arg, const struct vault_notice_change *c)
{
	struct plan *pl = arg;
	json_t *o = json_pack(
	        "{s:s, s:o, s:s, s:I, s:I, s:I, s:O}", "version", c->version,
	        "loaded_at", instant(c->since), "purposes", c->purposes,
	        "to_tell", (json_int_t)c->to_tell, "told", (json_int_t)c->told,
	        "no_contact", (json_int_t)c->no_contact, "people", pl->people);

	json_decref(pl->people);
	pl->people = json_array();
	if (o == NULL || pl->people == NULL ||
	    json_array_append_new(pl->changes, o) != 0)
		return VAERN_E_NOMEM;
	return VAERN_OK;
}

int
cmd_policy_notices(int argc, char **argv)
{
	struct vaern_msg msg = {{0}};
	struct vault *v = NULL;
	struct smtp_outbox *smtp = NULL;
	struct cli_audit_local al;
	struct plan pl = {NULL, NULL};
	struct vault_notices_out out = {change, person, &pl};
	char operator_name[CLI_OPERATOR_MAX + 1];
	struct vault_request_actor who = {operator_name, "operator"};
	const struct policy *p;
	const char *controller = NULL;
	char *only = NULL;
	char period[32];
	enum vaern_err err;
	int send = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--send") == 0)
			send = 1;
		else if (strcmp(argv[i], "--controller") == 0 && i + 1 < argc &&
		         controller == NULL)
			controller = argv[++i];
		else if (argv[i][0] == '-' || controller != NULL)
			return cli_usage("policy notices", usage);
		else
			controller = argv[i];
	}
	if ((err = vault_open(cli_globals.data_dir, &v, &msg)) != VAERN_OK)
		return cli_report("policy notices", err, &msg);
	if ((rc = cli_controller(v, "policy notices", &controller, &only)) !=
	    EXIT_OK)
		goto done;
	if ((err = vault_policy(v, controller, &p, &msg)) != VAERN_OK) {
		rc = cli_report("policy notices", err, &msg);
		goto done;
	}
	cli_operator_name(operator_name);
	if (send && cli_audit_local(v, &al) != 0) {
		rc = cli_report("policy notices", VAERN_E_INVALID, NULL);
		goto done;
	}
	if (send &&
	    (rc = cli_outbox_from_env("policy notices", v, &smtp)) != EXIT_OK)
		goto done;
	pl.changes = json_array();
	pl.people = json_array();
	if (pl.changes == NULL || pl.people == NULL) {
		rc = cli_report("policy notices", VAERN_E_NOMEM, NULL);
		goto done;
	}
	err = vault_policy_notices(v, controller, send, &who, &out, &msg);
	if (err != VAERN_OK) {
		rc = cli_report("policy notices", err, &msg);
		goto done;
	}
	{
		static const char *const units[] = {"day", "week", "month",
		                                    "year"};
		const struct period *np = &p->controller.notice_period;

		(void)snprintf(period, sizeof(period), "%d %s%s", np->count,
		               units[np->unit], np->count != 1 ? "s" : "");
	}
	rc = cli_print_json(json_pack("{s:s, s:s, s:b, s:O}", "controller",
	                              controller, "notice_period", period,
	                              "sent", send, "changes", pl.changes));
done:
	smtp_outbox_free(smtp);
	json_decref(pl.changes);
	json_decref(pl.people);
	free(only);
	vault_close(v);
	return rc;
}

int
cli_notices_after_load(struct vault *v, json_t *loaded, json_t **sent)
{
	struct vaern_msg msg = {{0}};
	struct smtp_outbox *smtp = NULL;
	struct cli_audit_local al;
	char operator_name[CLI_OPERATOR_MAX + 1];
	struct vault_request_actor who = {operator_name, "operator"};
	enum vaern_err err = VAERN_OK;
	size_t i;
	json_t *name;
	int rc;

	*sent = NULL;
	cli_operator_name(operator_name);
	if (cli_audit_local(v, &al) != 0)
		return cli_report("policy load", VAERN_E_INVALID, NULL);
	if ((rc = cli_outbox_from_env("policy load", v, &smtp)) != EXIT_OK)
		return rc;
	json_array_foreach(loaded, i, name)
	{
		int64_t n = 0;

		err = vault_policy_notices_send(v, json_string_value(name),
		                                &who, &n, &msg);
		if (n > 0) {
			if (*sent == NULL)
				*sent = json_object();
			if (*sent != NULL)
				json_object_set_new(*sent,
				                    json_string_value(name),
				                    json_integer(n));
		}
		if (err != VAERN_OK)
			break;
	}
	smtp_outbox_free(smtp);
	if (err != VAERN_OK) {
		/* The load stands; the notices can be sent again. */
		fprintf(stderr,
		        "vaern: policy load: loaded, but not every notice of "
		        "the change was sent (%s); vaern policy notices --send "
		        "tries again\n",
		        msg.text);
	}
	return EXIT_OK;
}
