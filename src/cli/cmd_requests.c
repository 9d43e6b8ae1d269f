/*
 * cmd_requests.c -- vaern requests: rights requests (issue 5).
 *
 *   vaern requests add --type T --subject ID --channel C [--received TIME]
 *   vaern requests list [--due-within 7d] [--overdue] [--type T]
 *                       [--status S] [--all] [--format json|html] [--lang L]
 *   vaern requests show REQUEST
 *   vaern requests verify REQUEST --send-code [--contact email|phone]
 *   vaern requests verify REQUEST --code -|CODE
 *   vaern requests verify REQUEST --attest METHOD
 *   vaern requests extend REQUEST --months 1|2 --reason TEXT
 *   vaern requests status REQUEST STATUS [--reason TEXT]
 *   vaern requests erase REQUEST     (a verified erasure request)
 *   vaern requests report REQUEST [--format json|html|csv] [--lang L]
 *                                    (a verified access/portability one)
 *   vaern requests rectify REQUEST --fact N --value -|TEXT [--in-progress]
 *   vaern requests restrict REQUEST [--complete]
 *   vaern requests restrict REQUEST --lift --reason TEXT
 *   vaern requests add ... [--categories C,D]  (the data concerned)
 *   vaern requests object REQUEST [--purposes P,Q]
 *   vaern requests withdraw-consent REQUEST [--purposes P,Q]
 *
 * Every command takes [--controller ID] (optional with one controller)
 * and [--actor NAME] (default "operator:<OS user>"), recorded with each
 * transition
 * and in the audit trail. A code, and a rectified value, are best given
 * on stdin (--code -, --value -): the command line is visible to other
 * users of the machine.
 */
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/api_console.h"
#include "../api/api_report.h"
#include "../calendar/calendar.h"
#include "../outbox/smtp.h"
#include "../vault/vault.h"
#include "cli.h"

const char cli_requests_usage[] =
        "usage: vaern requests add --type TYPE --subject SUBJECT --channel C\n"
        "                          [--received TIME] [--categories C,D]\n"
        "       vaern requests list [--due-within N[d|w]] [--overdue] "
        "[--type T]\n"
        "                           [--status S] [--all] [--format "
        "json|html] [--lang L]\n"
        "       vaern requests show REQUEST\n"
        "       vaern requests verify REQUEST --send-code [--contact "
        "email|phone]\n"
        "       vaern requests verify REQUEST --code -|CODE\n"
        "       vaern requests verify REQUEST --attest METHOD\n"
        "       vaern requests extend REQUEST --months 1|2 --reason TEXT\n"
        "       vaern requests status REQUEST "
        "in_progress|completed|refused|cancelled\n"
        "                             [--reason TEXT]\n"
        "       vaern requests erase REQUEST\n"
        "       vaern requests report REQUEST [--format json|html|csv] "
        "[--lang da|sv|en]\n"
        "       vaern requests rectify REQUEST --fact N --value -|TEXT "
        "[--in-progress]\n"
        "       vaern requests restrict REQUEST [--complete]\n"
        "       vaern requests restrict REQUEST --lift --reason TEXT\n"
        "       vaern requests object REQUEST [--purposes P,Q]\n"
        "       vaern requests withdraw-consent REQUEST [--purposes P,Q]\n"
        "  every command: [--controller ID] [--actor NAME]\n"
        "  TYPE: access portability rectification erasure restriction\n"
        "        objection consent_withdrawal\n"
        "  C: email letter phone web portal in_person api opendsr\n";

struct args {
	const char *controller, *actor, *type, *subject, *channel, *received;
	const char *due_within, *contact, *code, *attest, *months, *reason;
	const char *fact, *value, *purposes, *format, *lang;
	const char *status;     /* list: --status S */
	const char *categories; /* --categories C,D (AURA-RIGHTS-1) */
	int all, send_code, lift, complete, in_progress;
	int overdue; /* list: --overdue */
	const char *pos[2];
	int npos;
	const char *audit_db; /* DIR/audit.db, set for writing commands */
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
	        {"--type", offsetof(struct args, type)},
	        {"--subject", offsetof(struct args, subject)},
	        {"--channel", offsetof(struct args, channel)},
	        {"--received", offsetof(struct args, received)},
	        {"--due-within", offsetof(struct args, due_within)},
	        {"--contact", offsetof(struct args, contact)},
	        {"--code", offsetof(struct args, code)},
	        {"--attest", offsetof(struct args, attest)},
	        {"--months", offsetof(struct args, months)},
	        {"--reason", offsetof(struct args, reason)},
	        {"--fact", offsetof(struct args, fact)},
	        {"--value", offsetof(struct args, value)},
	        {"--purposes", offsetof(struct args, purposes)},
	        {"--categories", offsetof(struct args, categories)},
	        {"--format", offsetof(struct args, format)},
	        {"--lang", offsetof(struct args, lang)},
	        {"--status", offsetof(struct args, status)},
	};
	static const struct {
		const char *flag;
		size_t off;
	} flags[] = {
	        {"--all", offsetof(struct args, all)},
	        {"--send-code", offsetof(struct args, send_code)},
	        {"--lift", offsetof(struct args, lift)},
	        {"--complete", offsetof(struct args, complete)},
	        {"--in-progress", offsetof(struct args, in_progress)},
	        {"--overdue", offsetof(struct args, overdue)},
	};

	memset(a, 0, sizeof(*a));
	for (int i = 2; i < argc; i++) {
		size_t k, n = sizeof(opts) / sizeof(opts[0]);

		for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
			if (strcmp(argv[i], flags[k].flag) == 0)
				break;
		}
		if (k < sizeof(flags) / sizeof(flags[0])) {
			*(int *)((char *)a + flags[k].off) = 1;
			continue;
		}
		for (k = 0; k < n; k++) {
			if (strcmp(argv[i], opts[k].flag) == 0)
				break;
		}
		if (k < n) {
			if (i + 1 >= argc)
				return -1;
			*(const char **)((char *)a + opts[k].off) = argv[++i];
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			return -1;
		if (a->npos == 2)
			return -1;
		a->pos[a->npos++] = argv[i];
	}
	return 0;
}

/* A request's JSON with its transitions. */
static enum vaern_err
transition_json(void *arg, const struct vault_transition *t)
{
	char at[21];

	cal_format_instant(t->at, at);
	return json_array_append_new(
	               arg, json_pack("{s:s, s:s?, s:s, s:s, s:s?}", "at", at,
	                              "from", t->from, "to", t->to, "actor",
	                              t->actor, "reason", t->reason)) == 0
	               ? VAERN_OK
	               : VAERN_E_NOMEM;
}

/* Splits "a,b" into up to max ids in buf (size bytes). */
static int
split_ids(const char *text, char *buf, size_t size, const char **out,
          size_t max, size_t *n)
{
	size_t len;
	char *p;

	*n = 0;
	if (text == NULL)
		return 0;
	if ((len = strlen(text)) == 0 || len >= size)
		return -1;
	memcpy(buf, text, len + 1);
	for (p = buf;;) {
		char *comma = strchr(p, ',');

		if (comma != NULL)
			*comma = '\0';
		if (*p == '\0' || *n == max)
			return -1;
		out[(*n)++] = p;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

static int
print_request(struct vault *v, const char *controller,
              const struct vault_request *r, int history)
{
	struct vaern_msg msg = {{0}};
	json_t *j = vault_request_json(controller, r, clock_today());
	json_t *list;
	enum vaern_err err;
	char scope[VAULT_SCOPE_MAX + 1];

	if (j == NULL)
		return cli_print_json(j);
	/* AURA-RIGHTS-1: the data the request concerns; null: all of it. */
	if ((err = vault_request_scope(v, controller, r->id, scope, &msg))) {
		json_decref(j);
		return cli_report("requests", err, &msg);
	}
	json_object_set_new(j, "categories", vault_scope_json(scope));
	if (!history)
		return cli_print_json(j);
	list = json_array();
	err = vault_request_transitions(v, controller, r->id, transition_json,
	                                list, &msg);
	if (err != VAERN_OK) {
		json_decref(list);
		json_decref(j);
		return cli_report("requests show", err, &msg);
	}
	json_object_set_new(j, "transitions", list);
	return cli_print_json(j);
}

static int
req_add(struct vault *v, const char *controller, struct args *a,
        const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	struct vault_request_in in;
	struct vault_request r;
	unsigned char uid[VAULT_UID_BYTES];
	const char *cats[VAULT_SCOPE_IDS];
	char buf[VAULT_SCOPE_MAX + 1];
	enum vaern_err err;

	if (a->npos != 0 || a->type == NULL || a->subject == NULL)
		return cli_usage("requests add",
		                 "--type and --subject are required");
	memset(&in, 0, sizeof(in));
	in.type = a->type;
	in.channel = a->channel;
	in.received_at = INT64_MIN;
	/* AURA-RIGHTS-1: the data the request concerns (default: all). */
	if (split_ids(a->categories, buf, sizeof(buf), cats, VAULT_SCOPE_IDS,
	              &in.ncategories) != 0)
		return cli_usage("requests add", "--categories is a list of "
		                                 "category ids: C or C,D");
	if (in.ncategories > 0)
		in.categories = cats;
	if (a->received != NULL &&
	    (err = cal_parse_instant(a->received, &in.received_at, &msg)) !=
	            VAERN_OK)
		return cli_report("requests add: --received", err, &msg);
	if ((err = vault_uid_parse(a->subject, uid, &msg)) != VAERN_OK)
		return cli_report("requests add: --subject", err, &msg);
	in.subject = uid;
	if ((err = vault_request_add(v, controller, &in, who, &r, &msg)))
		return cli_report("requests add", err, &msg);
	return print_request(v, controller, &r, 0);
}

struct list_ctx {
	const char *controller;
	json_t *list;
};

static enum vaern_err
list_each(void *arg, const struct vault_request *r)
{
	struct list_ctx *l = arg;
	json_t *j = vault_request_json(l->controller, r, clock_today());

	return j != NULL && json_array_append_new(l->list, j) == 0
	               ? VAERN_OK
	               : VAERN_E_NOMEM;
}

/* vaern requests list: the queue (issue 20, point 3), as JSON or as the
 * console's HTML page, through the one filter and walk of the API. */
static int
req_list(struct vault *v, const char *controller, struct args *a,
         const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	struct list_ctx l = {controller, NULL};
	struct vault_request_filter f;
	enum render_lang lang = RENDER_EN;
	enum vaern_err err;
	char *page = NULL;
	size_t len = 0;
	int html;

	(void)who;
	if (a->npos != 0)
		return cli_usage("requests list", "no argument expected");
	if (a->format != NULL && strcmp(a->format, "json") != 0 &&
	    strcmp(a->format, "html") != 0)
		return cli_usage("requests list", "--format is json or html");
	html = a->format != NULL && strcmp(a->format, "html") == 0;
	if (a->lang != NULL && (!html || render_lang_parse(a->lang, &lang)))
		return cli_usage("requests list",
		                 "--lang is da, sv or en, with --format html");
	if ((err = vault_request_filter_parse(
	             a->type, a->status, a->due_within, a->overdue ? "1" : NULL,
	             a->all ? "1" : NULL, clock_today(), &f, &msg)) !=
	    VAERN_OK) {
		/* The API's parameter names, the command's options. */
		char why[sizeof(msg.text) + 64];

		(void)snprintf(why, sizeof(why),
		               "%s (--type, --status, "
		               "--due-within)",
		               msg.text);
		return cli_usage("requests list", why);
	}
	if (html) {
		err = api_console_queue_html(v, controller, &f, clock_today(),
		                             lang, &page, &len, &msg);
		if (err != VAERN_OK)
			return cli_report("requests list", err, &msg);
		err = fwrite(page, 1, len, stdout) == len && fflush(stdout) == 0
		              ? VAERN_OK
		              : VAERN_E_IO;
		free(page);
		return err == VAERN_OK ? EXIT_OK
		                       : cli_report("requests list", err, NULL);
	}
	if ((l.list = json_array()) == NULL)
		return cli_report("requests list", VAERN_E_NOMEM, NULL);
	err = vault_request_queue(v, controller, &f, list_each, &l, &msg);
	if (err != VAERN_OK) {
		json_decref(l.list);
		return cli_report("requests list", err, &msg);
	}
	return cli_print_json(json_pack("{s:s, s:o}", "controller", controller,
	                                "requests", l.list));
}

static int
req_show(struct vault *v, const char *controller, struct args *a,
         const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	struct vault_request r;
	enum vaern_err err;

	(void)who;
	if (a->npos != 1)
		return cli_usage("requests show", "REQUEST is required");
	if ((err = vault_request_get(v, controller, a->pos[0], &r, &msg)))
		return cli_report("requests show", err, &msg);
	return print_request(v, controller, &r, 1);
}

static int
req_verify(struct vault *v, const char *controller, struct args *a,
           const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	struct vault_request r;
	enum vaern_err err;
	char buf[64];
	int ways =
	        (a->send_code != 0) + (a->code != NULL) + (a->attest != NULL);

	if (a->npos != 1 || ways != 1)
		return cli_usage("requests verify",
		                 "REQUEST and one of --send-code, --code, "
		                 "--attest");
	if (a->send_code) {
		struct vault_code_sent sent;
		enum id_type contact = ID_NONE;
		char until[21];

		if (a->contact != NULL) {
			contact = id_type_from_name(a->contact);
			if (contact != ID_EMAIL && contact != ID_PHONE)
				return cli_usage("requests verify",
				                 "--contact is email or phone");
		}
		/* VAERN_SMTP_URL set: by e-mail, not to the spool (set by
		 * cmd_requests for every writing subcommand). */
		err = vault_request_send_code(v, controller, a->pos[0], contact,
		                              who, &sent, &msg);
		if (err != VAERN_OK)
			return cli_report("requests verify", err, &msg);
		cal_format_instant(sent.expires_at, until);
		return cli_print_json(
		        json_pack("{s:s, s:s, s:s, s:i}", "request", a->pos[0],
		                  "sent_to", sent.contact_type, "expires_at",
		                  until, "attempts", sent.attempts));
	}
	if (a->code != NULL) {
		const char *code = a->code;

		if (strcmp(code, "-") == 0) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, stdin);

			while (n > 0 &&
			       (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
				n--;
			buf[n] = '\0';
			code = buf;
		}
		err = vault_request_check_code(v, controller, a->pos[0], code,
		                               who, &r, &msg);
		sodium_memzero(buf, sizeof(buf));
	} else {
		err = vault_request_attest(v, controller, a->pos[0], a->attest,
		                           who, &r, &msg);
	}
	if (err != VAERN_OK)
		return cli_report("requests verify", err, &msg);
	return print_request(v, controller, &r, 0);
}

static int
req_extend(struct vault *v, const char *controller, struct args *a,
           const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	struct vault_request r;
	enum vaern_err err;
	char *end = NULL;
	long months;

	if (a->npos != 1 || a->months == NULL || a->reason == NULL)
		return cli_usage("requests extend",
		                 "REQUEST, --months and --reason are required");
	months = strtol(a->months, &end, 10);
	if (end == a->months || *end != '\0' || months < -1000 || months > 1000)
		return cli_usage("requests extend", "--months is a number");
	err = vault_request_extend(v, controller, a->pos[0], (int)months,
	                           a->reason, who, &r, &msg);
	if (err != VAERN_OK)
		return cli_report("requests extend", err, &msg);
	return print_request(v, controller, &r, 0);
}

static int
req_status(struct vault *v, const char *controller, struct args *a,
           const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	struct vault_request r;
	enum rights_status to;
	enum vaern_err err;

	if (a->npos != 2)
		return cli_usage("requests status", "REQUEST and STATUS");
	if ((err = rights_status_parse(a->pos[1], &to, &msg)) ||
	    (err = vault_request_set_status(v, controller, a->pos[0], to,
	                                    a->reason, who, &r, &msg)))
		return cli_report("requests status", err, &msg);
	return print_request(v, controller, &r, 0);
}

/* The answer to a verified access or portability request (GDPR-15,
 * GDPR-20): the same document as the subject's report (api_report.c),
 * naming the request; personal data, on stdout only. */
static int
req_report(struct vault *v, const char *controller, struct args *a,
           const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	struct vault_request r;
	struct vault_actor actor;
	const struct policy *p;
	enum api_report_format fmt = API_REPORT_JSON;
	enum vault_export kind;
	enum vaern_err err;
	char *body = NULL;
	size_t len = 0;
	int rc;

	if (a->npos != 1)
		return cli_usage("requests report", "REQUEST is required");
	if (a->lang != NULL && strcmp(a->lang, "da") != 0 &&
	    strcmp(a->lang, "sv") != 0 && strcmp(a->lang, "en") != 0)
		return cli_usage("requests report", "--lang is da, sv or en");
	if ((err = vault_request_get(v, controller, a->pos[0], &r, &msg)) ||
	    (err = vault_policy(v, controller, &p, &msg)))
		return cli_report("requests report", err, &msg);
	if (r.type != RIGHTS_ACCESS && r.type != RIGHTS_PORTABILITY) {
		(void)vaern_fail(
		        &msg, VAERN_E_INVALID,
		        "the request is a %s request: a report answers "
		        "access and portability",
		        rights_type_name(r.type));
		return cli_report("requests report", VAERN_E_INVALID, &msg);
	}
	kind = r.type == RIGHTS_ACCESS ? VAULT_EXPORT_ACCESS
	                               : VAULT_EXPORT_PORTABILITY;
	if (a->format == NULL || strcmp(a->format, "json") == 0)
		fmt = API_REPORT_JSON;
	else if (kind == VAULT_EXPORT_ACCESS && strcmp(a->format, "html") == 0)
		fmt = API_REPORT_HTML;
	else if (kind == VAULT_EXPORT_PORTABILITY &&
	         strcmp(a->format, "csv") == 0)
		fmt = API_REPORT_CSV;
	else
		return cli_usage("requests report",
		                 kind == VAULT_EXPORT_ACCESS
		                         ? "--format is json or html for access"
		                         : "--format is json or csv for "
		                           "portability");
	memset(&actor, 0, sizeof(actor));
	(void)snprintf(actor.controller, sizeof(actor.controller), "%s",
	               controller);
	(void)snprintf(actor.name, sizeof(actor.name), "%s", who->name);
	(void)snprintf(actor.role, sizeof(actor.role), "%s", who->role);
	err = api_report_build(v, a->audit_db, &actor, p, r.subject, kind, fmt,
	                       a->lang, r.id, &body, &len, &msg);
	if (err != VAERN_OK)
		return cli_report("requests report", err, &msg);
	rc = fwrite(body, 1, len, stdout) == len && fputc('\n', stdout) != EOF
	             ? EXIT_OK
	             : cli_report("requests report", VAERN_E_IO, NULL);
	sodium_memzero(body, len);
	free(body);
	return rc;
}

/* Prints the request and, under key, what was done (taken). */
static int
print_done(const char *controller, const struct vault_request *r,
           const char *key, json_t *what)
{
	json_t *j = vault_request_json(controller, r, clock_today());

	if (j == NULL || what == NULL || json_object_set_new(j, key, what)) {
		json_decref(j);
		return cli_report("requests", VAERN_E_NOMEM, NULL);
	}
	return cli_print_json(j);
}

/* Rectifies one fact through a verified rectification request (GDPR-16).
 * The new value is personal data: best on stdin (--value -). */
static int
req_rectify(struct vault *v, const char *controller, struct args *a,
            const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	struct vault_request r;
	struct vault_rectification ch;
	enum vaern_err err;
	char *end = NULL, *buf = NULL;
	long long fact;
	int rc;

	if (a->npos != 1 || a->fact == NULL || a->value == NULL)
		return cli_usage("requests rectify",
		                 "REQUEST, --fact and --value are required");
	fact = strtoll(a->fact, &end, 10);
	if (end == a->fact || *end != '\0' || fact < 1)
		return cli_usage("requests rectify", "--fact is a fact's id");
	memset(&ch, 0, sizeof(ch));
	ch.fact = fact;
	ch.value = a->value;
	if (strcmp(a->value, "-") == 0) {
		size_t n;

		if ((buf = malloc(VAULT_VALUE_MAX + 2)) == NULL)
			return cli_report("requests rectify", VAERN_E_NOMEM,
			                  NULL);
		n = fread(buf, 1, VAULT_VALUE_MAX + 1, stdin);
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			n--;
		buf[n] = '\0';
		ch.value = buf;
	}
	err = vault_request_rectify(v, controller, a->pos[0], &ch, 1,
	                            !a->in_progress, who, &r, &msg);
	ch.value = NULL; /* the answer names the fact, not its value */
	if (buf != NULL) {
		sodium_memzero(buf, VAULT_VALUE_MAX + 2);
		free(buf);
	}
	if (err != VAERN_OK)
		return cli_report("requests rectify", err, &msg);
	rc = print_done(controller, &r, "rectification",
	                vault_rectification_json(&ch, 1));
	return rc;
}

/* Restricts processing, or lifts the restriction (GDPR-18). */
static int
req_restrict(struct vault *v, const char *controller, struct args *a,
             const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	struct vault_request r;
	enum vaern_err err;

	if (a->npos != 1)
		return cli_usage("requests restrict", "REQUEST is required");
	if (a->lift && a->reason == NULL)
		return cli_usage("requests restrict",
		                 "--lift needs --reason: the person is told "
		                 "before the restriction is lifted");
	err = vault_request_restrict(v, controller, a->pos[0], a->lift,
	                             a->complete, a->reason, who, &r, &msg);
	if (err != VAERN_OK)
		return cli_report("requests restrict", err, &msg);
	return print_done(controller, &r, "restriction",
	                  json_pack("{s:b}", "restricted", !a->lift));
}

/* Objection to direct marketing (GDPR-21) or consent withdrawal (GDPR-7):
 * both name purposes (or none: all that apply). */
static int
req_purposes(struct vault *v, const char *controller, struct args *a,
             const struct vault_request_actor *who, int withdraw)
{
	struct vaern_msg msg = {{0}};
	struct vault_request r;
	struct vault_withdrawal *rep = NULL;
	const char *purposes[VAULT_PURPOSES_MAX];
	const char *what =
	        withdraw ? "requests withdraw-consent" : "requests object";
	const struct policy *p;
	char buf[4096];
	enum vaern_err err;
	size_t n;
	int rc;

	if (a->npos != 1)
		return cli_usage(what, "REQUEST is required");
	if (split_ids(a->purposes, buf, sizeof(buf), purposes,
	              VAULT_PURPOSES_MAX, &n) != 0)
		return cli_usage(what, "--purposes is a list of purpose ids: "
		                       "P or P,Q");
	if (!withdraw) {
		if ((err = vault_request_object(v, controller, a->pos[0],
		                                purposes, n, who, &r, &msg)) ||
		    (err = vault_policy(v, controller, &p, &msg)))
			return cli_report(what, err, &msg);
		return print_done(controller, &r, "objection",
		                  vault_objection_json(p));
	}
	if ((rep = calloc(1, sizeof(*rep))) == NULL)
		return cli_report(what, VAERN_E_NOMEM, NULL);
	err = vault_request_withdraw(v, controller, a->pos[0], purposes, n, who,
	                             rep, &r, &msg);
	rc = err != VAERN_OK ? cli_report(what, err, &msg)
	                     : print_done(controller, &r, "consent_withdrawal",
	                                  vault_withdrawal_json(rep));
	free(rep);
	return rc;
}

static int
req_object(struct vault *v, const char *controller, struct args *a,
           const struct vault_request_actor *who)
{
	return req_purposes(v, controller, a, who, 0);
}

static int
req_withdraw(struct vault *v, const char *controller, struct args *a,
             const struct vault_request_actor *who)
{
	return req_purposes(v, controller, a, who, 1);
}

/* Executes a verified erasure request (GDPR-17, AOPT-ERASE-1). */
static int
req_erase(struct vault *v, const char *controller, struct args *a,
          const struct vault_request_actor *who)
{
	struct vaern_msg msg = {{0}};
	struct vault_request r;
	struct vault_erasure *rep = calloc(1, sizeof(*rep));
	enum vaern_err err;
	json_t *j;

	if (rep == NULL)
		return cli_report("requests erase", VAERN_E_NOMEM, NULL);
	if (a->npos != 1) {
		free(rep);
		return cli_usage("requests erase", "REQUEST is required");
	}
	err = vault_request_erase(v, controller, a->pos[0], who, rep, &r, &msg);
	if (err != VAERN_OK) {
		free(rep);
		return cli_report("requests erase", err, &msg);
	}
	j = vault_request_json(controller, &r, clock_today());
	if (j != NULL)
		json_object_set_new(j, "erasure", vault_erasure_json(rep));
	free(rep);
	return cli_print_json(j);
}

int
cmd_requests(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct vault *, const char *, struct args *,
		          const struct vault_request_actor *);
		int writes; /* needs the audit trail */
	} subs[] = {
	        {"add", req_add, 1},
	        {"list", req_list, 0},
	        {"show", req_show, 0},
	        {"verify", req_verify, 1},
	        {"extend", req_extend, 1},
	        {"status", req_status, 1},
	        {"erase", req_erase, 1},
	        {"report", req_report, 1},
	        {"rectify", req_rectify, 1},
	        {"restrict", req_restrict, 1},
	        {"object", req_object, 1},
	        {"withdraw-consent", req_withdraw, 1},
	};
	struct vaern_msg msg = {{0}};
	static char op[CLI_OPERATOR_MAX + 1];
	struct vault_request_actor who = {op, "operator"};
	struct vault *v = NULL;
	struct smtp_outbox *smtp = NULL;
	struct args a;
	char *owned = NULL;
	struct cli_audit_local al;
	const char *controller;
	enum vaern_err err;
	int rc = EXIT_USAGE;

	/* GDPR-32: the local operator as the OS user running the command. */
	cli_operator_name(op);
	if (argc < 2 || strcmp(argv[1], "help") == 0) {
		fputs(cli_requests_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (parse(argc, argv, &a) != 0) {
		fputs(cli_requests_usage, stderr);
		return EXIT_USAGE;
	}
	if (a.actor != NULL)
		who.name = a.actor;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name) != 0)
			continue;
		if ((err = vault_open(cli_globals.data_dir, &v, &msg))) {
			rc = cli_report("requests", err, &msg);
			goto done;
		}
		controller = a.controller;
		if ((rc = cli_controller(v, "requests", &controller, &owned)) !=
		    EXIT_OK)
			goto done;
		if (subs[i].writes && cli_audit_local(v, &al) != 0) {
			rc = cli_report("requests", VAERN_E_INVALID, NULL);
			goto done;
		}
		a.audit_db = al.path;
		/* GDPR-12: a change of a request is told to the person, by
		 * e-mail when VAERN_SMTP_URL is set, else to the spool. */
		if (subs[i].writes &&
		    (rc = cli_outbox_from_env("requests", v, &smtp)) != EXIT_OK)
			goto done;
		rc = subs[i].fn(v, controller, &a, &who);
		goto done;
	}
	fprintf(stderr, "vaern requests: unknown subcommand '%s'\n", argv[1]);
	fputs(cli_requests_usage, stderr);
done:
	vault_close(v);
	smtp_outbox_free(smtp);
	free(owned);
	return rc;
}
