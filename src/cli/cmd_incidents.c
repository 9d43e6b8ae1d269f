/*
 * cmd_incidents.c -- vaern incidents: security-weakness reports and the
 * breach register (issue 17), beside the API's /v1/reports and
 * /v1/incidents.
 *
 *   vaern incidents report --json FILE|-     a report taken by phone,
 *                                            letter ... (SHOP-BREACH-1)
 *   vaern incidents list [--due-within 2d] [--all]       (SHOP-BREACH-2)
 *   vaern incidents show CASE
 *   vaern incidents receipt CASE
 *   vaern incidents feedback CASE --text FILE|- [--closed]
 *   vaern incidents triage CASE --json FILE|-  (SHOP-BREACH-3, GDPR-33)
 *   vaern incidents register [--format json|csv|html]  (GDPR Art. 33(5))
 *   vaern incidents status CASE --secret FILE|-  the reporter's view
 *   vaern incidents affected --from T --to T [--leaked-actor A] [--role R]
 *         [--recipient X | --route ACTION] [--categories C,D]  (GDPR-33)
 *   vaern incidents notify CASE --from T --to T [filters]  Art. 34
 *   vaern incidents notification CASE [--lang da|sv|en] [--format F]
 *
 * Every command takes [--controller ID] (optional with one controller)
 * and [--actor NAME] (default "operator"). Texts come from a file or
 * stdin, never the command line (visible to other users of the machine).
 */
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../incident/affected.h"
#include "../outbox/smtp.h"
#include "../vault/vault_incident.h"
#include "cli.h"

#define INPUT_MAX ((size_t)64 * 1024) /* bytes of a --json or --text */

const char cli_incidents_usage[] =
        "usage: vaern incidents report --json FILE|-\n"
        "       vaern incidents list [--due-within N[d|w]] [--all]\n"
        "       vaern incidents show CASE\n"
        "       vaern incidents receipt CASE\n"
        "       vaern incidents feedback CASE --text FILE|- [--closed]\n"
        "       vaern incidents triage CASE --json FILE|-\n"
        "       vaern incidents register [--format json|csv|html]\n"
        "       vaern incidents status CASE --secret FILE|-\n"
        "       vaern incidents affected --from TIME --to TIME [--leaked-actor "
        "A]\n"
        "             [--role R] [--recipient X | --route ACTION]\n"
        "             [--categories C,D]\n"
        "       vaern incidents notify CASE --from TIME --to TIME [the "
        "same filters]\n"
        "       vaern incidents notification CASE [--lang da|sv|en]\n"
        "             [--format json|html]\n"
        "  every command: [--controller ID] [--actor NAME]\n";

struct args {
	const char *controller, *actor, *json, *text, *secret, *due_within;
	const char *format, *from, *to, *who, *role, *recipient, *route;
	const char *categories, *lang;
	int all, closed;
	const char *pos;
	int npos;
};

static int
parse(int argc, char **argv, struct args *a)
{
	static const struct {
		const char *flag;
		size_t off;
	} opts[] = {
	        {"--controller", offsetof(struct args, controller)},
	        {"--actor", offsetof(struct args, actor)},
	        {"--json", offsetof(struct args, json)},
	        {"--text", offsetof(struct args, text)},
	        {"--secret", offsetof(struct args, secret)},
	        {"--due-within", offsetof(struct args, due_within)},
	        {"--format", offsetof(struct args, format)},
	        {"--from", offsetof(struct args, from)},
	        {"--to", offsetof(struct args, to)},
	        {"--leaked-actor", offsetof(struct args, who)},
	        {"--role", offsetof(struct args, role)},
	        {"--recipient", offsetof(struct args, recipient)},
	        {"--route", offsetof(struct args, route)},
	        {"--categories", offsetof(struct args, categories)},
	        {"--lang", offsetof(struct args, lang)},
	};

	memset(a, 0, sizeof(*a));
	for (int i = 2; i < argc; i++) {
		size_t k, n = sizeof(opts) / sizeof(opts[0]);

		if (strcmp(argv[i], "--all") == 0) {
			a->all = 1;
			continue;
		}
		if (strcmp(argv[i], "--closed") == 0) {
			a->closed = 1;
			continue;
		}
		for (k = 0; k < n; k++)
			if (strcmp(argv[i], opts[k].flag) == 0)
				break;
		if (k < n) {
			if (i + 1 >= argc)
				return -1;
			*(const char **)((char *)a + opts[k].off) = argv[++i];
			continue;
		}
		if ((argv[i][0] == '-' && argv[i][1] != '\0') || a->npos == 1)
			return -1;
		a->pos = argv[i];
		a->npos++;
	}
	return 0;
}

/* The text of FILE or - (stdin), at most INPUT_MAX bytes, NUL-ended;
 * the caller frees it. NULL with a message printed. */
static char *
read_input(const char *what, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "vaern incidents: %s: cannot open the file\n",
		        what);
		return NULL;
	}
	if ((buf = malloc(INPUT_MAX + 1)) == NULL) {
		if (f != stdin)
			fclose(f);
		return NULL;
	}
	n = fread(buf, 1, INPUT_MAX + 1, f);
	if (f != stdin)
		fclose(f);
	if (n > INPUT_MAX) {
		fprintf(stderr, "vaern incidents: %s: more than %zu bytes\n",
		        what, INPUT_MAX);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* A JSON object from --json. */
static json_t *
read_json(const char *what, const char *path)
{
	char *text = read_input(what, path);
	json_error_t e;
	json_t *j;

	if (text == NULL)
		return NULL;
	j = json_loads(text, 0, &e);
	free(text);
	if (j == NULL || !json_is_object(j)) {
		fprintf(stderr,
		        "vaern incidents: %s: not a JSON object (line %d, "
		        "column %d)\n",
		        what, e.line, e.column);
		json_decref(j);
		return NULL;
	}
	return j;
}

static int
inc_report(struct vault *v, const char *controller, struct args *a,
           const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	struct vault_report_in in;
	struct vault_report_receipt r;
	struct smtp_outbox *smtp = NULL;
	json_t *doc, *contact;
	char d1[11], d2[11];
	enum vaern_err err;
	int rc;

	(void)who;
	if (a->npos != 0 || a->json == NULL)
		return cli_usage("incidents report",
		                 "--json FILE|- is required");
	if ((doc = read_json("--json", a->json)) == NULL)
		return EXIT_REFUSED;
	/* The receipt goes out with the report (SHOP-BREACH-2). */
	if ((rc = cli_outbox_from_env("incidents report", v, &smtp)) !=
	    EXIT_OK) {
		json_decref(doc);
		return rc;
	}
	memset(&in, 0, sizeof(in));
	in.controller = controller;
	in.description = json_string_value(json_object_get(doc, "description"));
	in.how_found = json_string_value(json_object_get(doc, "how_found"));
	in.where = json_string_value(json_object_get(doc, "where"));
	contact = json_object_get(doc, "contact");
	in.contact_name = json_string_value(json_object_get(contact, "name"));
	in.contact_email = json_string_value(json_object_get(contact, "email"));
	in.contact_phone = json_string_value(json_object_get(contact, "phone"));
	in.client = NULL; /* the operator: no rate limit */
	err = vault_report_add(v, &in, &r, &msg);
	json_decref(doc);
	smtp_outbox_free(smtp);
	if (err != VAERN_OK)
		return cli_report("incidents report", err, &msg);
	cal_format_date(r.receipt_due, d1);
	cal_format_date(r.feedback_due, d2);
	rc = cli_print_json(json_pack(
	        "{s:s, s:s, s:s, s:s, s:s, s:b}", "case", r.case_id, "secret",
	        r.secret, "controller", r.controller, "receipt_due", d1,
	        "feedback_due", d2, "receipt_sent", r.receipt_sent));
	return rc;
}

static int
inc_list(struct vault *v, const char *controller, struct args *a,
         const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	long within = 0, due_by = LONG_MAX;
	json_t *list = NULL;
	enum vaern_err err;

	(void)who;
	if (a->npos != 0)
		return cli_usage("incidents list", "no argument expected");
	if (a->due_within != NULL) {
		if (cal_parse_days(a->due_within, &within) != 0)
			return cli_usage(
			        "incidents list",
			        "--due-within takes days: 2, 2d or 1w");
		due_by = clock_today() + within;
	}
	if ((err = vault_incident_list(v, controller, due_by, a->all, &list,
	                               &msg)) != VAERN_OK)
		return cli_report("incidents list", err, &msg);
	return cli_print_json(json_pack("{s:s, s:o}", "controller", controller,
	                                "cases", list));
}

static int
inc_show(struct vault *v, const char *controller, struct args *a,
         const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	json_t *out = NULL;
	enum vaern_err err;

	if (a->npos != 1)
		return cli_usage("incidents show", "CASE is required");
	if ((err = vault_incident_get(v, controller, a->pos, 1, who, &out,
	                              &msg)) != VAERN_OK)
		return cli_report("incidents show", err, &msg);
	return cli_print_json(out);
}

static int
inc_receipt(struct vault *v, const char *controller, struct args *a,
            const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	struct smtp_outbox *smtp = NULL;
	json_t *out = NULL;
	enum vaern_err err;
	int rc;

	if (a->npos != 1)
		return cli_usage("incidents receipt", "CASE is required");
	if ((rc = cli_outbox_from_env("incidents receipt", v, &smtp)) !=
	    EXIT_OK)
		return rc;
	err = vault_incident_receipt(v, controller, a->pos, who, &out, &msg);
	smtp_outbox_free(smtp);
	if (err != VAERN_OK)
		return cli_report("incidents receipt", err, &msg);
	return cli_print_json(out);
}

static int
inc_feedback(struct vault *v, const char *controller, struct args *a,
             const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	struct smtp_outbox *smtp = NULL;
	json_t *out = NULL;
	enum vaern_err err;
	char *text;
	int rc;

	if (a->npos != 1 || a->text == NULL)
		return cli_usage("incidents feedback",
		                 "CASE and --text FILE|- are required");
	if ((text = read_input("--text", a->text)) == NULL)
		return EXIT_REFUSED;
	if ((rc = cli_outbox_from_env("incidents feedback", v, &smtp)) !=
	    EXIT_OK) {
		free(text);
		return rc;
	}
	err = vault_incident_feedback(v, controller, a->pos, text, a->closed,
	                              who, &out, &msg);
	smtp_outbox_free(smtp);
	free(text);
	if (err != VAERN_OK)
		return cli_report("incidents feedback", err, &msg);
	return cli_print_json(out);
}

static int
inc_triage(struct vault *v, const char *controller, struct args *a,
           const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	json_t *patch, *out = NULL;
	enum vaern_err err;

	if (a->npos != 1 || a->json == NULL)
		return cli_usage("incidents triage",
		                 "CASE and --json FILE|- are required");
	if ((patch = read_json("--json", a->json)) == NULL)
		return EXIT_REFUSED;
	err = vault_incident_triage(v, controller, a->pos, patch, who, &out,
	                            &msg);
	json_decref(patch);
	if (err != VAERN_OK)
		return cli_report("incidents triage", err, &msg);
	return cli_print_json(out);
}

static int
inc_register(struct vault *v, const char *controller, struct args *a,
             const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	const struct policy *p = NULL;
	const char *format = a->format != NULL ? a->format : "json";
	json_t *list = NULL;
	enum vaern_err err;
	char *text;
	int rc = EXIT_OK;

	if (a->npos != 0)
		return cli_usage("incidents register", "no argument expected");
	if (strcmp(format, "json") != 0 && strcmp(format, "csv") != 0 &&
	    strcmp(format, "html") != 0)
		return cli_usage("incidents register",
		                 "--format is json, csv or html");
	if ((err = vault_policy(v, controller, &p, &msg)) != VAERN_OK ||
	    (err = vault_incident_register(v, controller, who, &list, &msg)) !=
	            VAERN_OK)
		return cli_report("incidents register", err, &msg);
	if (strcmp(format, "json") == 0)
		return cli_print_json(json_pack("{s:s, s:o}", "controller",
		                                controller, "breaches", list));
	text = strcmp(format, "csv") == 0
	               ? incident_register_csv(list)
	               : incident_register_html(list, p->controller.name);
	json_decref(list);
	if (text == NULL)
		return cli_report("incidents register", VAERN_E_NOMEM, NULL);
	if (fputs(text, stdout) == EOF || fflush(stdout) != 0)
		rc = EXIT_FAILURE_;
	free(text);
	return rc;
}

static int
inc_status(struct vault *v, const char *controller, struct args *a,
           const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	json_t *out = NULL;
	enum vaern_err err;
	char *secret;
	size_t n;

	(void)controller;
	(void)who;
	if (a->npos != 1 || a->secret == NULL)
		return cli_usage("incidents status",
		                 "CASE and --secret FILE|- are required");
	if ((secret = read_input("--secret", a->secret)) == NULL)
		return EXIT_REFUSED;
	n = strlen(secret);
	while (n > 0 && (secret[n - 1] == '\n' || secret[n - 1] == '\r'))
		secret[--n] = '\0';
	err = vault_report_status(v, a->pos, secret, &out, &msg);
	free(secret);
	if (err != VAERN_OK)
		return cli_report("incidents status", err, &msg);
	return cli_print_json(out);
}

/* The search of --from, --to, --leaked-actor, --role, --recipient,
 * --route, --categories into q (list and buf hold the categories); an
 * exit code, EXIT_OK to go on. */
static int
parse_query(const char *what, const char *controller, struct args *a,
            struct affected_query *q, const char **list, char *buf,
            size_t bufsz)
{
	struct vaern_msg msg = {{0}};
	enum vaern_err err;

	if (a->from == NULL || a->to == NULL)
		return cli_usage(what, "--from and --to are required");
	memset(q, 0, sizeof(*q));
	q->controller = controller;
	if ((err = cal_parse_instant(a->from, &q->from, &msg)) != VAERN_OK ||
	    (err = cal_parse_instant(a->to, &q->to, &msg)) != VAERN_OK)
		return cli_report(what, err, &msg);
	q->actor = a->who;
	q->role = a->role;
	q->recipient = a->recipient;
	q->action = a->route;
	if (a->categories != NULL) {
		char *p, *save = NULL;

		(void)snprintf(buf, bufsz, "%s", a->categories);
		for (p = strtok_r(buf, ",", &save); p != NULL;
		     p = strtok_r(NULL, ",", &save)) {
			if (q->ncategories == AFFECTED_CATEGORIES)
				return cli_usage(what, "too many categories");
			list[q->ncategories++] = p;
		}
		q->categories = list;
	}
	return EXIT_OK;
}

static void
audit_path(char path[PATH_MAX])
{
	(void)snprintf(path, PATH_MAX, "%s/audit.db", cli_globals.data_dir);
}

static int
inc_affected(struct vault *v, const char *controller, struct args *a,
             const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	const char *list[AFFECTED_CATEGORIES];
	char path[PATH_MAX], buf[1024], why[96];
	struct affected_query q;
	struct affected res;
	enum vaern_err err;
	json_t *out;
	int rc;

	if (a->npos != 0)
		return cli_usage("incidents affected", "no argument expected");
	if ((rc = parse_query("incidents affected", controller, a, &q, list,
	                      buf, sizeof(buf))) != EXIT_OK)
		return rc;
	audit_path(path);
	if ((err = incident_affected(path, &q, &res, &msg)) != VAERN_OK)
		return cli_report("incidents affected", err, &msg);
	(void)snprintf(why, sizeof(why), "affected people searched: %zu found",
	               res.nsubjects);
	out = incident_affected_json(&res);
	incident_affected_free(&res);
	if ((err = vault_incident_audit_search(v, controller, who, why,
	                                       &msg)) != VAERN_OK) {
		json_decref(out);
		return cli_report("incidents affected", err, &msg);
	}
	return cli_print_json(out);
}

static int
inc_notify(struct vault *v, const char *controller, struct args *a,
           const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	const char *list[AFFECTED_CATEGORIES];
	char path[PATH_MAX], buf[1024];
	struct vault_notice_report rep;
	struct smtp_outbox *smtp = NULL;
	struct affected_query q;
	struct affected res;
	enum vaern_err err;
	int rc;

	if (a->npos != 1)
		return cli_usage("incidents notify", "CASE is required");
	if ((rc = parse_query("incidents notify", controller, a, &q, list, buf,
	                      sizeof(buf))) != EXIT_OK)
		return rc;
	audit_path(path);
	if ((err = incident_affected(path, &q, &res, &msg)) != VAERN_OK)
		return cli_report("incidents notify", err, &msg);
	if ((rc = cli_outbox_from_env("incidents notify", v, &smtp)) !=
	    EXIT_OK) {
		incident_affected_free(&res);
		return rc;
	}
	err = vault_incident_notify(
	        v, controller, a->pos,
	        (const unsigned char(*)[VAULT_UID_BYTES])res.subjects,
	        res.nsubjects, who, &rep, &msg);
	smtp_outbox_free(smtp);
	incident_affected_free(&res);
	if (err != VAERN_OK)
		return cli_report("incidents notify", err, &msg);
	return cli_print_json(
	        json_pack("{s:i, s:i, s:i}", "sent", (int)rep.sent, "already",
	                  (int)rep.already, "no_contact", (int)rep.no_contact));
}

static int
inc_notification(struct vault *v, const char *controller, struct args *a,
                 const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	const char *format = a->format != NULL ? a->format : "json";
	const struct policy *p = NULL;
	json_t *out = NULL;
	enum vaern_err err;
	char *html;
	int rc = EXIT_OK;

	if (a->npos != 1)
		return cli_usage("incidents notification", "CASE is required");
	if (strcmp(format, "json") != 0 && strcmp(format, "html") != 0)
		return cli_usage("incidents notification",
		                 "--format is json or html");
	if ((err = vault_policy(v, controller, &p, &msg)) != VAERN_OK)
		return cli_report("incidents notification", err, &msg);
	err = vault_incident_notification(
	        v, controller, a->pos,
	        a->lang != NULL ? a->lang : p->controller.language, who, &out,
	        &msg);
	if (err != VAERN_OK)
		return cli_report("incidents notification", err, &msg);
	if (strcmp(format, "json") == 0)
		return cli_print_json(out);
	html = incident_notification_html(out);
	json_decref(out);
	if (html == NULL)
		return cli_report("incidents notification", VAERN_E_NOMEM,
		                  NULL);
	if (fputs(html, stdout) == EOF || fflush(stdout) != 0)
		rc = EXIT_FAILURE_;
	free(html);
	return rc;
}

int
cmd_incidents(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct vault *, const char *, struct args *,
		          const struct vault_request_actor *);
	} subs[] = {
	        {"report", inc_report},
	        {"list", inc_list},
	        {"show", inc_show},
	        {"receipt", inc_receipt},
	        {"feedback", inc_feedback},
	        {"triage", inc_triage},
	        {"register", inc_register},
	        {"status", inc_status},
	        {"affected", inc_affected},
	        {"notify", inc_notify},
	        {"notification", inc_notification},
	};
	struct vaern_msg msg = {{0}};
	struct vault_request_actor who = {"operator", "operator"};
	struct vault *v = NULL;
	struct cli_audit_local al;
	struct args a;
	char *owned = NULL;
	const char *controller;
	enum vaern_err err;
	int rc = EXIT_USAGE;

	if (argc < 2 || strcmp(argv[1], "help") == 0) {
		fputs(cli_incidents_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (parse(argc, argv, &a) != 0) {
		fputs(cli_incidents_usage, stderr);
		return EXIT_USAGE;
	}
	if (a.actor != NULL)
		who.name = a.actor;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name) != 0)
			continue;
		if ((err = vault_open(cli_globals.data_dir, &v, &msg))) {
			rc = cli_report("incidents", err, &msg);
			goto done;
		}
		controller = a.controller;
		if ((rc = cli_controller(v, "incidents", &controller,
		                         &owned)) != EXIT_OK)
			goto done;
		/* Every command audits (a read of the texts too). */
		if (cli_audit_local(v, &al) != 0) {
			rc = cli_report("incidents", VAERN_E_INVALID, NULL);
			goto done;
		}
		rc = subs[i].fn(v, controller, &a, &who);
		goto done;
	}
	fprintf(stderr, "vaern incidents: unknown subcommand '%s'\n", argv[1]);
	fputs(cli_incidents_usage, stderr);
done:
	vault_close(v);
	free(owned);
	return rc;
}
