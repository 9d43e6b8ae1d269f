/*
 * cmd_vault.c -- vaern subject ... (init and policy load|list: cmd_init.c)
 *
 * Results go to stdout as JSON, one document per command. Personal data is
 * printed only on stdout and only where asked for (subject show); errors on
 * stderr name fields and categories, never values.
 *
 * Values can be given on the command line (--fact CATEGORY=VALUE) for
 * convenience, but the command line is visible to other users of the
 * machine (ps): real data goes in with --json FILE or --json - (stdin).
 */
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audit/audit.h"
#include "../calendar/calendar.h"
#include "../vault/vault.h"
#include "cli.h"

#define JSON_INPUT_MAX (4 * 1024 * 1024) /* bytes of a --json document */
#define CLI_FACTS_MAX  VAULT_FACTS_PER_DOC

json_t *
cli_json_time(int64_t t)
{
	char buf[21];

	if (t == INT64_MIN)
		return json_null();
	cal_format_instant(t, buf);
	return json_string(buf);
}

/* ---- subject ------------------------------------------------------------ */

const char cli_subject_usage[] =
        "usage:\n"
        "  vaern subject add [--controller ID] [--json FILE|-]\n"
        "        [--purpose P] [--source S] [--collected-at T]\n"
        "        [--fact CATEGORY=VALUE]... [--consent PURPOSE:SOURCE]...\n"
        "  vaern subject add-facts [--controller ID] SUBJECT [--json FILE|-]\n"
        "        [--purpose P] [--source S] [--collected-at T]\n"
        "        [--fact CATEGORY=VALUE]...   (facts for a known person)\n"
        "  vaern subject find [--controller ID] TYPE VALUE|-\n"
        "  vaern subject show [--controller ID] SUBJECT\n"
        "  vaern subject rectify [--controller ID] SUBJECT FACT VALUE|-\n"
        "  vaern subject event [--controller ID] SUBJECT KIND [--at TIME]\n"
        "  vaern subject erase [--controller ID] SUBJECT\n"
        "        [--destroy-legally-kept-data REASON]  (override, audited)\n"
        "  vaern subject restrict|object [--controller ID] SUBJECT [--lift]\n"
        "  vaern subject consent [--controller ID] SUBJECT PURPOSE --source S\n"
        "        [--withdraw] [--at TIME] [--text-hash H]\n"
        "  vaern subject consents [--controller ID] SUBJECT  (the ledger)\n"
        "  vaern subject agreement [--controller ID] SUBJECT RECIPIENT\n"
        "        [--withdraw] [--at TIME]\n"
        "  vaern subject hold [--controller ID] SUBJECT --reason TEXT\n"
        "        [--category C] [--review DATE]      (legal hold)\n"
        "  vaern subject unhold [--controller ID] SUBJECT HOLD\n"
        "  vaern subject holds [--controller ID] SUBJECT\n"
        "A --json document: {\"purpose\": P, \"source\": S, \"facts\": "
        "[{\"category\":\n"
        "C, \"value\": V, \"purpose\": P, \"source\": S, \"collected_at\": "
        "T}],\n"
        "\"consents\": [{\"purpose\": P, \"source\": S, \"given_at\": T}]}.\n"
        "A VALUE of - is read from standard input (keeps it out of ps).\n";

/* The parsed command line of a subject command. */
struct subject_args {
	const char *controller;
	const char *json;         /* --json FILE|- */
	const char *purpose;      /* default purpose of --fact */
	const char *source;       /* default source of --fact */
	const char *collected_at; /* default collection time */
	const char *at;           /* event time */
	const char *reason;       /* hold: why */
	const char *category;     /* hold: one category */
	const char *review;       /* hold: review date */
	const char *text_hash;    /* consent: SHA-256 of a text on record */
	const char *override;     /* erase: --destroy-legally-kept-data */
	char **facts;             /* --fact CATEGORY=VALUE */
	int nfacts;
	char **consents; /* --consent PURPOSE:SOURCE */
	int nconsents;
	char **pos; /* positional arguments */
	int npos;
	int lift;     /* --lift */
	int withdraw; /* --withdraw */
};

static int
subject_parse(int argc, char **argv, struct subject_args *a)
{
	memset(a, 0, sizeof(*a));
	a->facts = calloc((size_t)argc, sizeof(char *));
	a->consents = calloc((size_t)argc, sizeof(char *));
	a->pos = calloc((size_t)argc, sizeof(char *));
	if (a->facts == NULL || a->consents == NULL || a->pos == NULL)
		return -1;
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];
		const char **dst = NULL;

		if (strcmp(o, "--controller") == 0)
			dst = &a->controller;
		else if (strcmp(o, "--json") == 0)
			dst = &a->json;
		else if (strcmp(o, "--purpose") == 0)
			dst = &a->purpose;
		else if (strcmp(o, "--source") == 0)
			dst = &a->source;
		else if (strcmp(o, "--collected-at") == 0)
			dst = &a->collected_at;
		else if (strcmp(o, "--at") == 0)
			dst = &a->at;
		else if (strcmp(o, "--reason") == 0)
			dst = &a->reason;
		else if (strcmp(o, "--category") == 0)
			dst = &a->category;
		else if (strcmp(o, "--review") == 0)
			dst = &a->review;
		else if (strcmp(o, "--text-hash") == 0)
			dst = &a->text_hash;
		else if (strcmp(o, "--destroy-legally-kept-data") == 0)
			dst = &a->override;
		if (dst != NULL) {
			if (i + 1 >= argc)
				return -1;
			*dst = argv[++i];
		} else if (strcmp(o, "--lift") == 0) {
			a->lift = 1;
		} else if (strcmp(o, "--withdraw") == 0) {
			a->withdraw = 1;
		} else if (strcmp(o, "--fact") == 0 && i + 1 < argc) {
			a->facts[a->nfacts++] = argv[++i];
		} else if (strcmp(o, "--consent") == 0 && i + 1 < argc) {
			a->consents[a->nconsents++] = argv[++i];
		} else if (o[0] == '-' && o[1] == '-') {
			return -1;
		} else {
			a->pos[a->npos++] = argv[i];
		}
	}
	return 0;
}

static void
subject_args_free(struct subject_args *a)
{
	free(a->facts);
	free(a->consents);
	free(a->pos);
}

/*
 * Reads a value given as "-" from stdin: all of it, up to bufsz - 1 bytes
 * (more is refused: NULL), one final newline dropped.
 */
static char *
value_arg(const char *arg, char *buf, size_t bufsz)
{
	size_t n;

	if (strcmp(arg, "-") != 0)
		return (char *)arg;
	n = fread(buf, 1, bufsz - 1, stdin);
	if (n == 0 || n == bufsz - 1 || memchr(buf, '\0', n) != NULL)
		return NULL;
	if (buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return buf;
}

static enum vaern_err
time_arg(const char *text, const char *what, int64_t *t, struct vaern_msg *msg)
{
	struct vaern_msg why = {{0}};

	*t = INT64_MIN;
	if (text == NULL)
		return VAERN_OK;
	if (cal_parse_instant(text, t, &why) != VAERN_OK)
		return vaern_fail(msg, VAERN_E_INVALID, "%s: %s", what,
		                  why.text);
	return VAERN_OK;
}

/* A subject add request being assembled from --json and flags. */
struct add_request {
	struct vault_fact_in facts[CLI_FACTS_MAX];
	size_t nfacts;
	struct vault_consent_in consents[CLI_FACTS_MAX];
	size_t nconsents;
	json_t *doc; /* the --json document, which owns its strings */
	char *split; /* copies of --fact / --consent arguments */
};

static enum vaern_err
check_keys(json_t *obj, const char *const *allowed, const char *where,
           struct vaern_msg *msg)
{
	const char *key;
	json_t *val;

	json_object_foreach(obj, key, val)
	{
		int ok = 0;

		(void)val;
		for (size_t i = 0; allowed[i] != NULL; i++)
			ok |= strcmp(allowed[i], key) == 0;
		if (!ok)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "%s: unknown key '%.64s'", where,
			                  key);
	}
	return VAERN_OK;
}

/* Gets an optional string member; VAERN_E_INVALID if not a string. */
static enum vaern_err
get_str(json_t *obj, const char *key, const char **out, const char *where,
        struct vaern_msg *msg)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return VAERN_OK;
	if (!json_is_string(v))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "%s: '%s' must be a string", where, key);
	*out = json_string_value(v);
	return VAERN_OK;
}

/* A description of a JSON parse error that quotes none of the input. */
static const char *
json_error_kind(const json_error_t *e)
{
	switch (json_error_code(e)) {
	case json_error_invalid_utf8: return "invalid UTF-8";
	case json_error_premature_end_of_input: return "the input ends early";
	case json_error_end_of_input_expected:
		return "text after the JSON value";
	case json_error_null_character:
	case json_error_null_byte_in_key: return "a NUL character";
	case json_error_duplicate_key: return "a duplicate key";
	case json_error_numeric_overflow: return "a number out of range";
	case json_error_stack_overflow: return "nested too deeply";
	case json_error_out_of_memory: return "out of memory";
	default: return "invalid JSON syntax";
	}
}

static enum vaern_err
parse_json_request(const char *path, const char *flag_purpose,
                   const char *flag_source, int64_t flag_collected,
                   struct add_request *r, struct vaern_msg *msg)
{
	static const char *const top_keys[] = {"purpose", "source",   "visitor",
	                                       "facts",   "consents", NULL};
	static const char *const fact_keys[] = {
	        "category",     "value",   "purpose", "source",
	        "collected_at", "visitor", NULL};
	static const char *const consent_keys[] = {"purpose", "source",
	                                           "given_at", NULL};
	enum vaern_err err;
	json_error_t jerr;
	const char *dpurpose = flag_purpose, *dsource = flag_source;
	const char *dvisitor = NULL;
	json_t *facts, *consents, *item;
	char *buf;
	size_t i, len;
	FILE *f;

	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL)
		return vaern_fail(msg, VAERN_E_IO, "--json %s: cannot open",
		                  path);
	/* Read at most the limit (plus one byte to notice more). */
	if ((buf = malloc(JSON_INPUT_MAX + 1)) == NULL) {
		if (f != stdin)
			fclose(f);
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	}
	len = fread(buf, 1, JSON_INPUT_MAX + 1, f);
	if (f != stdin)
		fclose(f);
	if (len > JSON_INPUT_MAX) {
		explicit_bzero(buf, JSON_INPUT_MAX + 1);
		free(buf);
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "--json %s: over %d bytes", path,
		                  JSON_INPUT_MAX);
	}
	r->doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	explicit_bzero(buf, len);
	free(buf);
	if (r->doc == NULL)
		/* jansson's own text quotes the input near the error, which
		 * may be personal data: say only where and what kind. */
		return vaern_fail(msg, VAERN_E_INVALID, "--json %s:%d:%d: %s",
		                  path, jerr.line, jerr.column,
		                  json_error_kind(&jerr));
	if (!json_is_object(r->doc))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "--json %s: expected an object", path);
	if ((err = check_keys(r->doc, top_keys, "--json", msg)) ||
	    (err = get_str(r->doc, "purpose", &dpurpose, "--json", msg)) ||
	    (err = get_str(r->doc, "source", &dsource, "--json", msg)) ||
	    (err = get_str(r->doc, "visitor", &dvisitor, "--json", msg)))
		return err;
	facts = json_object_get(r->doc, "facts");
	consents = json_object_get(r->doc, "consents");
	if ((facts != NULL && !json_is_array(facts)) ||
	    (consents != NULL && !json_is_array(consents)))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "--json: 'facts' and 'consents' are arrays");
	if (json_array_size(facts) > CLI_FACTS_MAX ||
	    json_array_size(consents) > CLI_FACTS_MAX)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "--json: at most %d facts and consents",
		                  CLI_FACTS_MAX);
	json_array_foreach(facts, i, item)
	{
		struct vault_fact_in *fi = &r->facts[r->nfacts];
		const char *at = NULL;
		char where[32];

		(void)snprintf(where, sizeof(where), "fact %zu", i + 1);
		if (!json_is_object(item))
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "%s: expected an object", where);
		memset(fi, 0, sizeof(*fi));
		fi->purpose = dpurpose;
		fi->source = dsource;
		fi->visitor = dvisitor;
		if ((err = check_keys(item, fact_keys, where, msg)) ||
		    (err = get_str(item, "category", &fi->category, where,
		                   msg)) ||
		    (err = get_str(item, "value", &fi->value, where, msg)) ||
		    (err = get_str(item, "purpose", &fi->purpose, where,
		                   msg)) ||
		    (err = get_str(item, "source", &fi->source, where, msg)) ||
		    (err = get_str(item, "visitor", &fi->visitor, where,
		                   msg)) ||
		    (err = get_str(item, "collected_at", &at, where, msg)) ||
		    (err = time_arg(at, where, &fi->collected_at, msg)))
			return err;
		if (at == NULL) /* --collected-at is the default */
			fi->collected_at = flag_collected;
		r->nfacts++;
	}
	json_array_foreach(consents, i, item)
	{
		struct vault_consent_in *ci = &r->consents[r->nconsents];
		const char *at = NULL;
		char where[32];

		(void)snprintf(where, sizeof(where), "consent %zu", i + 1);
		if (!json_is_object(item))
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "%s: expected an object", where);
		memset(ci, 0, sizeof(*ci));
		if ((err = check_keys(item, consent_keys, where, msg)) ||
		    (err = get_str(item, "purpose", &ci->purpose, where,
		                   msg)) ||
		    (err = get_str(item, "source", &ci->source, where, msg)) ||
		    (err = get_str(item, "given_at", &at, where, msg)) ||
		    (err = time_arg(at, where, &ci->given_at, msg)))
			return err;
		if (ci->purpose == NULL || ci->source == NULL)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "%s: purpose and source are required",
			                  where);
		r->nconsents++;
	}
	return VAERN_OK;
}

/* ---- the local operator, audited (GDPR-32) ------------------------------ */

/* Set by cmd_subject for the command it runs: where the audit entries go
 * and who the operator is. */
static struct cli_audit_local operator_audit_db;
static char operator_name[CLI_OPERATOR_MAX + 1];

/*
 * Audits what the local operator did to (or read of) subject uid, like
 * the API audits its callers: actor "operator:<OS user>", role
 * "operator"; ids and counts only, never a value.
 */
static enum vaern_err
operator_audit_for(struct vault *v, const char *controller, const char *purpose,
                   const char *action, const unsigned char *uid,
                   const char *categories, const char *rule, const char *reason,
                   struct vaern_msg *msg)
{
	struct vault_audit_event e;

	memset(&e, 0, sizeof(e));
	e.controller = controller;
	e.actor = operator_name;
	e.role = "operator";
	e.purpose = purpose;
	e.action = action;
	e.subject = uid;
	e.categories = categories;
	e.allowed = 1;
	e.rule = rule;
	e.reason = reason;
	return vault_audit_record(v, &e, msg);
}

/* operator_audit_for under the purpose "vault_operation": the
 * operator's own upkeep of the vault, not one of the policy's purposes. */
static enum vaern_err
operator_audit(struct vault *v, const char *controller, const char *action,
               const unsigned char *uid, const char *categories,
               const char *rule, const char *reason, struct vaern_msg *msg)
{
	return operator_audit_for(v, controller, "vault_operation", action, uid,
	                          categories, rule, reason, msg);
}

/* The distinct category ids of facts as "a,b" (cut where it is full). */
static void
fact_categories(const struct vault_fact_in *facts, size_t n, char *buf,
                size_t bufsz)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(facts[i].category);
		int seen = 0;

		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(facts[k].category, facts[i].category) ==
			       0;
		if (seen)
			continue;
		if (off + len + 2 > bufsz)
			break;
		if (off > 0)
			buf[off++] = ',';
		memcpy(buf + off, facts[i].category, len + 1);
		off += len;
	}
}

/* The local operator as the vault's actor (GATE_ROLE_OPERATOR). */
static void
operator_actor(struct vault_actor *actor, const char *controller)
{
	memset(actor, 0, sizeof(*actor));
	(void)snprintf(actor->controller, sizeof(actor->controller), "%s",
	               controller);
	(void)snprintf(actor->name, sizeof(actor->name), "%s", operator_name);
	(void)snprintf(actor->role, sizeof(actor->role), "operator");
}

/* Facts added to a known person (AURA-PORTAL-2, TEL-LOG-1, CEK-RET-4),
 * through the gate and audited by the vault (action "collect"). */
static int
facts_add(struct vault *v, struct subject_args *a, struct add_request *r)
{
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	struct vault_actor actor;
	enum vaern_err err;
	int64_t first = 0;
	json_t *ids;

	if (r->nconsents > 0)
		return cli_usage("subject add-facts",
		                 "consents are given with `subject consent`");
	if ((err = vault_uid_parse(a->pos[0], uid, &msg)) != VAERN_OK)
		return cli_report("subject add-facts", err, &msg);
	operator_actor(&actor, a->controller);
	if ((err = vault_facts_add(v, &actor, uid, r->facts, r->nfacts, &first,
	                           &msg)) != VAERN_OK)
		return cli_report("subject add-facts", err, &msg);
	ids = json_array();
	for (size_t i = 0; ids != NULL && i < r->nfacts; i++)
		json_array_append_new(ids, json_integer(first + (json_int_t)i));
	return cli_print_json(json_pack("{s:s, s:s, s:I, s:o*}", "subject",
	                                a->pos[0], "controller", a->controller,
	                                "facts", (json_int_t)r->nfacts,
	                                "fact_ids", ids));
}

/* `subject add` (existing 0) and `subject add-facts SUBJECT` (1): the
 * same options make the facts. */
static int
subject_add_or_facts(struct vault *v, struct subject_args *a, int existing)
{
	struct vaern_msg msg = {{0}};
	struct add_request *r;
	unsigned char uid[VAULT_UID_BYTES];
	char hex[VAULT_UID_HEX], cats[AUDIT_CATEGORIES_MAX], reason[128];
	int64_t collected = INT64_MIN;
	enum vaern_err err = VAERN_OK;
	size_t splitlen = 0, off = 0;
	int rc;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return cli_report("subject add", VAERN_E_NOMEM, NULL);
	if (a->npos != (existing ? 1 : 0)) {
		rc = cli_usage(existing ? "subject add-facts" : "subject add",
		               existing ? "usage: vaern subject add-facts "
		                          "[--controller ID] SUBJECT "
		                          "(--fact C=V ... | --json FILE) "
		                          "[--purpose P]"
		                        : "unexpected argument");
		goto done;
	}
	/* --purpose, --source and --collected-at are the defaults of every
	 * fact, from --json or --fact, that does not say otherwise. */
	if ((err = time_arg(a->collected_at, "--collected-at", &collected,
	                    &msg)) != VAERN_OK)
		goto report;
	if (a->json != NULL &&
	    (err = parse_json_request(a->json, a->purpose, a->source, collected,
	                              r, &msg)) != VAERN_OK)
		goto report;
	for (int i = 0; i < a->nfacts; i++)
		splitlen += strlen(a->facts[i]) + 1;
	for (int i = 0; i < a->nconsents; i++)
		splitlen += strlen(a->consents[i]) + 1;
	if ((r->split = malloc(splitlen + 1)) == NULL) {
		err = VAERN_E_NOMEM;
		goto report;
	}
	for (int i = 0; i < a->nfacts; i++) {
		struct vault_fact_in *fi = &r->facts[r->nfacts];
		char *s = r->split + off, *eq;

		if (r->nfacts == CLI_FACTS_MAX) {
			err = vaern_fail(&msg, VAERN_E_LIMIT, "too many facts");
			goto report;
		}
		memcpy(s, a->facts[i], strlen(a->facts[i]) + 1);
		off += strlen(s) + 1;
		if ((eq = strchr(s, '=')) == NULL || eq == s) {
			rc = cli_usage("subject add",
			               "--fact wants CATEGORY=VALUE");
			goto done;
		}
		*eq = '\0';
		fi->category = s;
		fi->value = eq + 1;
		fi->purpose = a->purpose;
		fi->source = a->source;
		fi->collected_at = collected;
		r->nfacts++;
	}
	for (int i = 0; i < a->nconsents; i++) {
		struct vault_consent_in *ci = &r->consents[r->nconsents];
		char *s = r->split + off, *colon;

		if (r->nconsents == CLI_FACTS_MAX) {
			err = vaern_fail(&msg, VAERN_E_LIMIT,
			                 "too many consents");
			goto report;
		}
		memcpy(s, a->consents[i], strlen(a->consents[i]) + 1);
		off += strlen(s) + 1;
		if ((colon = strchr(s, ':')) == NULL || colon == s) {
			rc = cli_usage("subject add",
			               "--consent wants PURPOSE:SOURCE");
			goto done;
		}
		*colon = '\0';
		ci->purpose = s;
		ci->source = colon + 1;
		ci->given_at = INT64_MIN;
		r->nconsents++;
	}
	for (size_t i = 0; i < r->nfacts; i++) {
		if (r->facts[i].purpose == NULL) {
			err = vaern_fail(&msg, VAERN_E_INVALID,
			                 "fact %zu: no purpose (give --purpose "
			                 "or a purpose per fact)",
			                 i + 1);
			goto report;
		}
	}
	if (existing) {
		rc = facts_add(v, a, r);
		goto done;
	}
	err = vault_subject_add(v, a->controller, r->facts, r->nfacts,
	                        r->consents, r->nconsents, uid, &msg);
	if (err != VAERN_OK)
		goto report;
	fact_categories(r->facts, r->nfacts, cats, sizeof(cats));
	(void)snprintf(reason, sizeof(reason),
	               "subject created by the local operator: %zu facts, "
	               "%zu consents",
	               r->nfacts, r->nconsents);
	if ((err = operator_audit_for(v, a->controller, r->facts[0].purpose,
	                              "create", uid, cats[0] ? cats : NULL,
	                              "GDPR-32", reason, &msg)) != VAERN_OK)
		goto report;
	vault_uid_format(uid, hex);
	rc = cli_print_json(json_pack("{s:s, s:s, s:I, s:I}", "subject", hex,
	                              "controller", a->controller, "facts",
	                              (json_int_t)r->nfacts, "consents",
	                              (json_int_t)r->nconsents));
	goto done;
report:
	rc = cli_report("subject add", err, &msg);
done:
	json_decref(r->doc);
	if (r->split != NULL) {
		explicit_bzero(r->split, splitlen);
		free(r->split);
	}
	free(r);
	return rc;
}

/*
 * The values of a find, from the command line or, for each "-", one line
 * of standard input in order (personal data stays out of `ps`). Writes
 * pointers into buf; returns 0, or -1 when stdin holds too little or too
 * much.
 */
static int
find_values(struct subject_args *a, const char **values, char *buf,
            size_t bufsz)
{
	size_t used = 0, n = 0;
	char *next = NULL; /* the next unread line of stdin */

	for (size_t i = 1; i < (size_t)a->npos; i += 2) {
		char *line, *nl;

		if (strcmp(a->pos[i], "-") != 0) {
			values[n++] = a->pos[i];
			continue;
		}
		if (next == NULL) {
			used = fread(buf, 1, bufsz - 1, stdin);
			if (used == bufsz - 1 || memchr(buf, '\0', used))
				return -1;
			buf[used] = '\0';
			next = buf;
		}
		if (next >= buf + used)
			return -1;
		line = next;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		next = line + strlen(line) + 1;
		if (line[0] == '\0')
			return -1;
		values[n++] = line;
	}
	return 0;
}

/*
 * subject find [--controller ID] TYPE|CATEGORY VALUE|- [CATEGORY VALUE|-]
 * AURA-LOGIN-1: an identifier category's own index, or a login pair
 * (installation number and contract number) that must name one person.
 */
static int
subject_find(struct vault *v, struct subject_args *a)
{
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	char hex[VAULT_UID_HEX],
	        buf[VAULT_IDENTITIES_MAX * (ID_INPUT_MAX + 1) + 2], reason[160];
	const char *values[VAULT_IDENTITIES_MAX];
	struct vault_identity ids[VAULT_IDENTITIES_MAX];
	const struct policy *p = NULL;
	enum id_type type;
	enum vaern_err err;
	size_t n;
	int rc;

	if (a->npos < 2 || a->npos % 2 != 0 ||
	    (size_t)a->npos / 2 > VAULT_IDENTITIES_MAX)
		return cli_usage("subject find",
		                 "usage: vaern subject find [--controller ID] "
		                 "TYPE|CATEGORY VALUE|- [CATEGORY VALUE|-]...");
	n = (size_t)a->npos / 2;
	if (find_values(a, values, buf, sizeof(buf)) != 0) {
		explicit_bzero(buf, sizeof(buf));
		return cli_usage("subject find", "no value (or one too long) "
		                                 "on standard input");
	}
	if ((err = vault_policy(v, a->controller, &p, &msg)) != VAERN_OK) {
		explicit_bzero(buf, sizeof(buf));
		return cli_report("subject find", err, &msg);
	}
	type = id_type_from_name(a->pos[0]);
	if (n == 1 && policy_category_index(p, a->pos[0]) < 0) {
		/* By type, in every category of it. */
		if (type == ID_NONE) {
			explicit_bzero(buf, sizeof(buf));
			return cli_usage("subject find",
			                 "not an identifier type or a category "
			                 "of the policy");
		}
		err = vault_subject_find(v, a->controller, type, values[0], uid,
		                         &msg);
	} else {
		for (size_t i = 0; i < n; i++) {
			ids[i].category = a->pos[2 * i];
			ids[i].value = values[i];
		}
		err = vault_subject_find_identities(v, a->controller, ids, n,
		                                    uid, &msg);
	}
	explicit_bzero(buf, sizeof(buf));
	/* What it was found by: the type or the categories (ids of the
	 * policy), never the value. */
	if (n == 1 && policy_category_index(p, a->pos[0]) < 0)
		(void)snprintf(reason, sizeof(reason),
		               "found by the local operator by its %s",
		               id_type_name(type));
	else
		(void)snprintf(
		        reason, sizeof(reason),
		        "found by the local operator by its %.40s%s%.40s",
		        a->pos[0], n > 1 ? " and " : "",
		        n > 1 ? a->pos[2] : "");
	if (err == VAERN_OK)
		err = operator_audit(v, a->controller, "find", uid, NULL,
		                     "GDPR-32", reason, &msg);
	if (err != VAERN_OK)
		return cli_report("subject find", err, &msg);
	vault_uid_format(uid, hex);
	rc = cli_print_json(json_pack("{s:s, s:s}", "subject", hex,
	                              "controller", a->controller));
	return rc;
}

static enum vaern_err
show_fact(void *arg, const struct vault_fact_out *f)
{
	json_t *o = json_pack("{s:I, s:s, s:s%, s:s, s:s, s:o, s:b, s:o}", "id",
	                      (json_int_t)f->id, "category", f->category,
	                      "value", f->value, f->len, "purpose", f->purpose,
	                      "source", f->source, "collected_at",
	                      cli_json_time(f->collected_at),
	                      "provided_by_subject", f->provided_by_subject,
	                      "expires_at", cli_json_time(f->expires_at));

	if (o == NULL || json_array_append_new(arg, o) != 0)
		return VAERN_E_NOMEM;
	return VAERN_OK;
}

static enum vaern_err
show_event(void *arg, const char *kind, int64_t at)
{
	json_t *o =
	        json_pack("{s:s, s:o}", "kind", kind, "at", cli_json_time(at));

	if (o == NULL || json_array_append_new(arg, o) != 0)
		return VAERN_E_NOMEM;
	return VAERN_OK;
}

static int
subject_add(struct vault *v, struct subject_args *a)
{
	return subject_add_or_facts(v, a, 0);
}

static int
subject_add_facts(struct vault *v, struct subject_args *a)
{
	return subject_add_or_facts(v, a, 1);
}

/*
 * The local operator reads a subject through the gate like any caller
 * (GATE_ROLE_OPERATOR): the decision is audited before a fact is
 * decrypted (GDPR-32).
 */
static int
subject_show(struct vault *v, struct subject_args *a)
{
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	json_t *facts = NULL, *events = NULL;
	struct vault_actor actor;
	struct vault_access acc;
	struct gate_decision d;
	enum vaern_err err;

	if (a->npos != 1)
		return cli_usage("subject show", "usage: vaern subject show "
		                                 "[--controller ID] SUBJECT");
	if ((err = vault_uid_parse(a->pos[0], uid, &msg)) != VAERN_OK)
		return cli_report("subject show", err, &msg);
	operator_actor(&actor, a->controller);
	memset(&acc, 0, sizeof(acc));
	acc.actor = &actor;
	acc.action = GATE_READ;
	facts = json_array();
	events = json_array();
	if ((err = vault_subject_access(v, uid, &acc, show_fact, facts, &d,
	                                &msg)) != VAERN_OK ||
	    (err = vault_subject_events(v, a->controller, uid, show_event,
	                                events, &msg)) != VAERN_OK) {
		json_decref(facts);
		json_decref(events);
		return cli_report("subject show", err, &msg);
	}
	return cli_print_json(json_pack("{s:s, s:s, s:o, s:o}", "subject",
	                                a->pos[0], "controller", a->controller,
	                                "facts", facts, "events", events));
}

static int
subject_rectify(struct vault *v, struct subject_args *a)
{
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	static char buf[VAULT_VALUE_MAX + 2];
	const char *value;
	char *end = NULL, reason[96];
	long long fact;
	enum vaern_err err;

	if (a->npos != 3)
		return cli_usage("subject rectify",
		                 "usage: vaern subject rectify "
		                 "[--controller ID] SUBJECT FACT VALUE|-");
	if ((err = vault_uid_parse(a->pos[0], uid, &msg)) != VAERN_OK)
		return cli_report("subject rectify", err, &msg);
	fact = strtoll(a->pos[1], &end, 10);
	if (end == a->pos[1] || *end != '\0' || fact < 1)
		return cli_usage("subject rectify",
		                 "FACT is a fact id (a positive number)");
	if ((value = value_arg(a->pos[2], buf, sizeof(buf))) == NULL)
		return cli_usage(
		        "subject rectify",
		        "no value (or one too long) on standard input");
	err = vault_fact_rectify(v, a->controller, uid, fact, value, &msg);
	explicit_bzero(buf, sizeof(buf));
	(void)snprintf(reason, sizeof(reason),
	               "fact %lld rectified by the local operator", fact);
	if (err == VAERN_OK)
		err = operator_audit(v, a->controller, "rectify", uid, NULL,
		                     "GDPR-16", reason, &msg);
	if (err != VAERN_OK)
		return cli_report("subject rectify", err, &msg);
	return cli_print_json(json_pack("{s:s, s:I, s:b}", "subject", a->pos[0],
	                                "fact", (json_int_t)fact, "rectified",
	                                1));
}

static int
subject_event(struct vault *v, struct subject_args *a)
{
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	enum vaern_err err;
	int64_t at;

	if (a->npos != 2)
		return cli_usage("subject event",
		                 "usage: vaern subject event [--controller ID] "
		                 "SUBJECT KIND [--at TIME]");
	if ((err = vault_uid_parse(a->pos[0], uid, &msg)) ||
	    (err = time_arg(a->at, "--at", &at, &msg)) ||
	    (err = vault_event_record(v, a->controller, uid, a->pos[1], at,
	                              &msg)) ||
	    (err = operator_audit(v, a->controller, "event", uid, NULL,
	                          "GDPR-32", a->pos[1], &msg)))
		return cli_report("subject event", err, &msg);
	return cli_print_json(json_pack(
	        "{s:s, s:s, s:o}", "subject", a->pos[0], "event", a->pos[1],
	        "at", cli_json_time(at == INT64_MIN ? clock_now() : at)));
}

static int
subject_erase(struct vault *v, struct subject_args *a)
{
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	struct vault_erasure *rep;
	struct cli_audit_local al;
	enum vaern_err err;
	json_t *out;
	struct vault_request_actor who = {operator_name, "operator"};

	if (a->npos != 1)
		return cli_usage(
		        "subject erase",
		        "usage: vaern subject erase [--controller ID] "
		        "SUBJECT [--destroy-legally-kept-data REASON]");
	if (cli_audit_local(v, &al) != 0)
		return cli_report("subject erase", VAERN_E_INVALID, NULL);
	if ((rep = calloc(1, sizeof(*rep))) == NULL)
		return cli_report("subject erase", VAERN_E_NOMEM, NULL);
	/* GDPR-17(3), CEK-RET-2: what a legal obligation keeps stays, with
	 * the date the sweep removes it, unless the override says why. */
	if ((err = vault_uid_parse(a->pos[0], uid, &msg)) ||
	    (err = vault_operator_erase(v, a->controller, uid, &who,
	                                a->override, rep, &msg))) {
		free(rep);
		return cli_report("subject erase", err, &msg);
	}
	out = vault_erasure_json(rep);
	if (out != NULL) {
		json_object_set_new(out, "subject", json_string(a->pos[0]));
		json_object_set_new(out, "erased", json_true());
		json_object_set_new(out, "facts",
		                    json_integer((json_int_t)rep->erased));
		if (a->override != NULL)
			json_object_set_new(out, "override",
			                    json_string(a->override));
	}
	free(rep);
	return cli_print_json(out);
}

/* Legal holds (CEK-HOLD-1): placed and lifted by the local operator,
 * audited. */
static int
subject_hold(struct vault *v, struct subject_args *a)
{
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	struct cli_audit_local al;
	enum vaern_err err;
	int64_t review, id;

	if (a->npos != 1)
		return cli_usage("subject hold",
		                 "usage: vaern subject hold [--controller ID] "
		                 "SUBJECT --reason TEXT [--category C] "
		                 "[--review DATE]");
	if (a->reason == NULL)
		return cli_usage("subject hold",
		                 "--reason TEXT is required: why the data is "
		                 "held (a case, a claim)");
	if (cli_audit_local(v, &al) != 0)
		return cli_report("subject hold", VAERN_E_INVALID, NULL);
	if ((err = vault_uid_parse(a->pos[0], uid, &msg)) ||
	    (err = time_arg(a->review, "--review", &review, &msg)) ||
	    (err = vault_hold_place(v, a->controller, uid, a->category,
	                            a->reason, review, operator_name, NULL, &id,
	                            &msg)))
		return cli_report("subject hold", err, &msg);
	return cli_print_json(json_pack("{s:s, s:I, s:s*, s:o}", "subject",
	                                a->pos[0], "hold", (json_int_t)id,
	                                "category", a->category, "review_at",
	                                cli_json_time(review)));
}

static int
subject_unhold(struct vault *v, struct subject_args *a)
{
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	struct cli_audit_local al;
	char *end = NULL;
	enum vaern_err err;
	long long id;

	if (a->npos != 2)
		return cli_usage(
		        "subject unhold",
		        "usage: vaern subject unhold [--controller ID] "
		        "SUBJECT HOLD");
	id = strtoll(a->pos[1], &end, 10);
	if (end == a->pos[1] || *end != '\0' || id <= 0)
		return cli_usage("subject unhold", "HOLD is a hold's number");
	if (cli_audit_local(v, &al) != 0)
		return cli_report("subject unhold", VAERN_E_INVALID, NULL);
	if ((err = vault_uid_parse(a->pos[0], uid, &msg)) ||
	    (err = vault_hold_lift(v, a->controller, uid, id, operator_name,
	                           NULL, &msg)))
		return cli_report("subject unhold", err, &msg);
	return cli_print_json(json_pack("{s:s, s:I, s:b}", "subject", a->pos[0],
	                                "hold", (json_int_t)id, "lifted", 1));
}

static enum vaern_err
hold_json(void *arg, const struct vault_hold *h)
{
	json_array_append_new(
	        arg,
	        json_pack("{s:I, s:s*, s:s, s:o, s:o, s:s, s:o}", "hold",
	                  (json_int_t)h->id, "category", h->category, "reason",
	                  h->reason, "review_at", cli_json_time(h->review_at),
	                  "placed_at", cli_json_time(h->placed_at), "placed_by",
	                  h->placed_by, "lifted_at",
	                  cli_json_time(h->lifted_at)));
	return VAERN_OK;
}

static int
subject_holds(struct vault *v, struct subject_args *a)
{
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	enum vaern_err err;
	json_t *list = json_array();

	if (a->npos != 1) {
		json_decref(list);
		return cli_usage("subject holds", "usage: vaern subject holds "
		                                  "[--controller ID] SUBJECT");
	}
	if ((err = vault_uid_parse(a->pos[0], uid, &msg)) ||
	    (err = vault_hold_foreach(v, a->controller, uid, hold_json, list,
	                              &msg)) ||
	    (err = operator_audit(v, a->controller, "holds_read", uid, NULL,
	                          "GDPR-32",
	                          "the subject's legal holds read by the "
	                          "local operator",
	                          &msg))) {
		json_decref(list);
		return cli_report("subject holds", err, &msg);
	}
	return cli_print_json(
	        json_pack("{s:s, s:o}", "subject", a->pos[0], "holds", list));
}

/* restrict and object: a state flag on or off (GDPR-18, GDPR-21). */
static int
subject_flag(struct vault *v, struct subject_args *a, const char *what,
             enum vaern_err (*set)(struct vault *, const char *,
                                   const unsigned char *, int,
                                   struct vaern_msg *))
{
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	enum vaern_err err;

	if (a->npos != 1)
		return cli_usage(what, "usage: vaern subject restrict|object "
		                       "[--controller ID] SUBJECT [--lift]");
	if ((err = vault_uid_parse(a->pos[0], uid, &msg)) ||
	    (err = set(v, a->controller, uid, !a->lift, &msg)) ||
	    (err = operator_audit(
	             v, a->controller,
	             strcmp(what, "subject restrict") == 0 ? "restrict"
	                                                   : "object",
	             uid, NULL,
	             strcmp(what, "subject restrict") == 0 ? "GDPR-18"
	                                                   : "GDPR-21",
	             a->lift ? "lifted by the local operator"
	                     : "set by the local operator",
	             &msg)))
		return cli_report(what, err, &msg);
	return cli_print_json(json_pack("{s:s, s:b}", "subject", a->pos[0],
	                                strcmp(what, "subject restrict") == 0
	                                        ? "restricted"
	                                        : "objected_to_marketing",
	                                !a->lift));
}

static int
subject_restrict(struct vault *v, struct subject_args *a)
{
	return subject_flag(v, a, "subject restrict", vault_subject_restrict);
}

static int
subject_object(struct vault *v, struct subject_args *a)
{
	return subject_flag(v, a, "subject object", vault_subject_object);
}

/* Audits a consent given or withdrawn by the local operator (GDPR-7). */
static enum vaern_err
consent_audit(struct vault *v, const char *controller, const unsigned char *uid,
              const char *purpose, int withdraw, const char *source,
              const struct vault_consent_done *done, struct vaern_msg *msg)
{
	struct vault_audit_event e;
	char hex[2 * VAULT_TEXT_HASH_BYTES + 1], reason[160];

	if (done->has_text_hash) {
		sodium_bin2hex(hex, sizeof(hex), done->text_hash,
		               sizeof(done->text_hash));
		(void)snprintf(reason, sizeof(reason),
		               "source %.64s; text sha256 %.16s", source, hex);
	} else {
		(void)snprintf(reason, sizeof(reason), "source %.64s", source);
	}
	memset(&e, 0, sizeof(e));
	e.controller = controller;
	e.actor = operator_name;
	e.role = "operator";
	e.purpose = purpose;
	e.action = withdraw ? "consent_withdraw" : "consent_give";
	e.subject = uid;
	e.allowed = 1;
	e.rule = "GDPR-7";
	e.reason = reason;
	return vault_audit_record(v, &e, msg);
}

static int
subject_consent(struct vault *v, struct subject_args *a)
{
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES], hash[VAULT_TEXT_HASH_BYTES];
	struct vault_consent_act act;
	struct vault_consent_done done;
	struct cli_audit_local al;
	char hex[2 * VAULT_TEXT_HASH_BYTES + 1];
	enum vaern_err err;
	json_t *out;
	int rc;

	if (a->npos != 2 || a->source == NULL)
		return cli_usage("subject consent",
		                 "usage: vaern subject consent [--controller "
		                 "ID] SUBJECT PURPOSE --source S [--withdraw] "
		                 "[--at TIME] [--text-hash H]");
	if (cli_audit_local(v, &al) != 0)
		return cli_report("subject consent", VAERN_E_INVALID, NULL);
	memset(&act, 0, sizeof(act));
	act.purpose = a->pos[1];
	act.source = a->source;
	act.withdraw = a->withdraw;
	if ((err = vault_uid_parse(a->pos[0], uid, &msg)) ||
	    (err = time_arg(a->at, "--at", &act.at, &msg)) ||
	    (a->text_hash != NULL &&
	     (err = vault_text_hash_parse(a->text_hash, hash, &msg))))
		return cli_report("subject consent", err, &msg);
	if (a->text_hash != NULL)
		act.text_hash = hash;
	if ((err = vault_consent_apply(v, a->controller, uid, &act, &done,
	                               &msg)) ||
	    (err = consent_audit(v, a->controller, uid, act.purpose,
	                         act.withdraw, act.source, &done, &msg))) {
		sodium_memzero(&done, sizeof(done));
		return cli_report("subject consent", err, &msg);
	}
	out = json_pack("{s:s, s:s, s:s, s:s, s:o}", "subject", a->pos[0],
	                "purpose", a->pos[1], "consent",
	                a->withdraw ? "withdrawn" : "given", "source",
	                act.source, "at", cli_json_time(done.at));
	if (done.has_text_hash) {
		sodium_bin2hex(hex, sizeof(hex), done.text_hash,
		               sizeof(done.text_hash));
		json_object_set_new(out, "text_hash", json_string(hex));
	}
	if (a->withdraw)
		json_object_set_new(out, "kept_until",
		                    cli_json_time(done.expires_at));
	if (done.unsubscribe_token[0] != '\0')
		json_object_set_new(out, "unsubscribe_token",
		                    json_string(done.unsubscribe_token));
	rc = cli_print_json(out);
	sodium_memzero(&done, sizeof(done));
	return rc;
}

static enum vaern_err
consent_row_json(void *arg, const struct vault_consent_rec *r)
{
	char hex[2 * VAULT_TEXT_HASH_BYTES + 1];
	json_t *o;

	if (r->text_hash != NULL)
		sodium_bin2hex(hex, sizeof(hex), r->text_hash,
		               VAULT_TEXT_HASH_BYTES);
	o = json_pack("{s:s, s:I, s:o, s:s, s:s, s:s?}", "purpose", r->purpose,
	              "seq", (json_int_t)r->seq, "at", cli_json_time(r->at),
	              "event", r->withdrawn ? "withdrawn" : "given", "source",
	              r->source, "text_hash", r->text_hash ? hex : NULL);
	if (o == NULL || json_array_append_new(arg, o) != 0)
		return VAERN_E_NOMEM;
	return VAERN_OK;
}

/* The consent ledger of a subject (GDPR-7), with each purpose's state
 * (TEL-MKT-2). */
static int
subject_consents(struct vault *v, struct subject_args *a)
{
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	enum vaern_err err;
	json_t *rows = json_array(), *states = json_object(), *row;
	size_t i;

	if (a->npos != 1) {
		json_decref(rows);
		json_decref(states);
		return cli_usage("subject consents",
		                 "usage: vaern subject consents [--controller "
		                 "ID] SUBJECT");
	}
	err = vault_uid_parse(a->pos[0], uid, &msg);
	if (err == VAERN_OK)
		err = vault_consent_history(v, a->controller, uid,
		                            consent_row_json, rows, &msg);
	json_array_foreach(rows, i, row)
	{
		const char *p =
		        json_string_value(json_object_get(row, "purpose"));
		struct vault_consent_state st;

		if (err != VAERN_OK)
			break;
		if (json_object_get(states, p) != NULL)
			continue;
		if ((err = vault_consent_state(v, a->controller, uid, p, &st,
		                               &msg)) != VAERN_OK)
			break;
		json_object_set_new(
		        states, p,
		        json_pack("{s:b, s:o, s:o}", "in_force", st.in_force,
		                  "last_used", cli_json_time(st.last_used),
		                  "kept_until", cli_json_time(st.expires_at)));
	}
	if (err == VAERN_OK)
		err = operator_audit(v, a->controller, "consents_read", uid,
		                     NULL, "GDPR-32",
		                     "the subject's consent ledger read by the "
		                     "local operator",
		                     &msg);
	if (err != VAERN_OK) {
		json_decref(rows);
		json_decref(states);
		return cli_report("subject consents", err, &msg);
	}
	return cli_print_json(json_pack("{s:s, s:o, s:o}", "subject", a->pos[0],
	                                "consents", rows, "purposes", states));
}

static int
subject_agreement(struct vault *v, struct subject_args *a)
{
	struct vaern_msg msg = {{0}};
	unsigned char uid[VAULT_UID_BYTES];
	enum vaern_err err;
	int64_t at;

	if (a->npos != 2)
		return cli_usage("subject agreement",
		                 "usage: vaern subject agreement [--controller "
		                 "ID] SUBJECT RECIPIENT [--withdraw] [--at "
		                 "TIME]");
	if ((err = vault_uid_parse(a->pos[0], uid, &msg)) ||
	    (err = time_arg(a->at, "--at", &at, &msg)) ||
	    (err = vault_agreement_record(v, a->controller, uid, a->pos[1],
	                                  a->withdraw, at, &msg)) ||
	    (err = operator_audit(v, a->controller,
	                          a->withdraw ? "agreement_withdraw"
	                                      : "agreement_give",
	                          uid, NULL, "CEK-SHARE-1", a->pos[1], &msg)))
		return cli_report("subject agreement", err, &msg);
	return cli_print_json(json_pack("{s:s, s:s, s:s}", "subject", a->pos[0],
	                                "recipient", a->pos[1], "agreement",
	                                a->withdraw ? "withdrawn" : "given"));
}

int
cmd_subject(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct vault *, struct subject_args *);
	} subs[] = {
	        {"add", subject_add},
	        {"add-facts", subject_add_facts},
	        {"find", subject_find},
	        {"show", subject_show},
	        {"rectify", subject_rectify},
	        {"event", subject_event},
	        {"erase", subject_erase},
	        {"restrict", subject_restrict},
	        {"object", subject_object},
	        {"consent", subject_consent},
	        {"consents", subject_consents},
	        {"agreement", subject_agreement},
	        {"hold", subject_hold},
	        {"unhold", subject_unhold},
	        {"holds", subject_holds},
	};
	struct vaern_msg msg = {{0}};
	struct subject_args a;
	struct vault *v = NULL;
	char *owned = NULL;
	enum vaern_err err;
	int rc = EXIT_USAGE;

	if (argc < 2 || strcmp(argv[1], "help") == 0) {
		fputs(cli_subject_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (subject_parse(argc, argv, &a) != 0) {
		subject_args_free(&a);
		fputs(cli_subject_usage, stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[1], subs[i].name) != 0)
			continue;
		if ((err = vault_open(cli_globals.data_dir, &v, &msg))) {
			rc = cli_report("subject", err, &msg);
			goto done;
		}
		cli_operator_name(operator_name);
		if (cli_audit_local(v, &operator_audit_db) != 0) {
			rc = cli_report("subject", VAERN_E_INVALID, NULL);
			goto done;
		}
		if ((rc = cli_controller(v, "subject", &a.controller,
		                         &owned)) == EXIT_OK)
			rc = subs[i].fn(v, &a);
		goto done;
	}
	fprintf(stderr, "vaern subject: unknown subcommand '%s'\n", argv[1]);
	fputs(cli_subject_usage, stderr);
done:
	vault_close(v);
	free(owned);
	subject_args_free(&a);
	return rc;
}
