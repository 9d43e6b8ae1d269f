/*
 * api_audit.c -- GET /v1/audit: the audit trail, read by the
 * data-protection officer (roles with audit: true), one controller's
 * entries only (GDPR-32).
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../audit/audit.h"
#include "../vault/vault.h"
#include "api_internal.h"

static enum vaern_err
audit_json(void *arg, const struct audit_record *r)
{
	char hex[VAULT_UID_HEX] = "", hash[AUDIT_HASH_HEX];
	json_t *o;

	if (r->malformed) {
		/* A row changed behind vaern's back: say so, show nothing of
		 * it (vaern audit verify names it). */
		o = json_pack("{s:I, s:b}", "seq", (json_int_t)r->seq,
		              "malformed", 1);
		if (o == NULL || json_array_append_new(arg, o) != 0)
			return VAERN_E_NOMEM;
		return VAERN_OK;
	}
	if (r->entry.subject != NULL)
		vault_uid_format(r->entry.subject, hex);
	sodium_bin2hex(hash, sizeof(hash), r->hash, sizeof(r->hash));
	o = json_pack("{s:I, s:o, s:s*, s:s*, s:s*, s:s*, s:s*, s:s*, s:s*, "
	              "s:b, s:s*, s:s*, s:s, s:s*}",
	              "seq", (json_int_t)r->seq, "at", time_json(r->at),
	              "controller", r->entry.controller, "actor",
	              r->entry.actor, "role", r->entry.role, "purpose",
	              r->entry.purpose, "action", r->entry.action, "subject",
	              r->entry.subject ? hex : NULL, "categories",
	              r->entry.categories, "allowed", r->entry.allowed, "rule",
	              r->entry.rule, "reason", r->entry.reason, "hash", hash,
	              "policy_digest", r->entry.policy);
	if (o == NULL || json_array_append_new(arg, o) != 0)
		return VAERN_E_NOMEM;
	return VAERN_OK;
}

/* Keeps only the entries of one controller. */
struct audit_scope {
	const char *controller;
	json_t *list;
};

static enum vaern_err
audit_scoped(void *arg, const struct audit_record *r)
{
	struct audit_scope *s = arg;

	if (r->entry.controller == NULL ||
	    strcmp(r->entry.controller, s->controller) != 0)
		return VAERN_OK;
	return audit_json(s->list, r);
}

/* GET /v1/audit?subject=HEX&from=T&to=T&after=SEQ&limit=N: the
 * data-protection officer's view (roles with audit: true). */
int
h_audit(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	struct audit_filter f;
	struct audit_scope scope;
	unsigned char uid[VAULT_UID_BYTES];
	const char *q;
	char *end = NULL;
	enum vaern_err err;

	if (begin(req, res, app, &c))
		return 0;     /* answered */
	if (!role_audits(&c)) /* the refusal is itself audited */
		return refuse(&c, res, "audit_read", NULL, NULL, "GDPR-32",
		              "role '%s' may not read the audit trail",
		              c.actor.role);
	memset(&f, 0, sizeof(f));
	f.from_at = INT64_MIN;
	f.to_at = INT64_MAX;
	f.limit = 1000;
	if ((q = http_request_query(req, "subject")) != NULL) {
		if (vault_uid_parse(q, uid, &c.msg) != VAERN_OK)
			return http_respond_error(res, 400, "invalid", "%s",
			                          c.msg.text);
		f.subject = uid;
	}
	if (parse_time(http_request_query(req, "from"), &f.from_at, &c.msg) ||
	    parse_time(http_request_query(req, "to"), &f.to_at, &c.msg))
		return http_respond_error(res, 400, "invalid", "%s",
		                          c.msg.text);
	/* parse_time leaves INT64_MIN for a missing bound. */
	if (http_request_query(req, "to") == NULL)
		f.to_at = INT64_MAX;
	if ((q = http_request_query(req, "after")) != NULL) {
		f.after_seq = strtoll(q, &end, 10);
		if (end == q || *end != '\0' || f.after_seq < 0)
			return http_respond_error(
			        res, 400, "invalid",
			        "'after' is a sequence number");
	}
	if ((q = http_request_query(req, "limit")) != NULL) {
		f.limit = strtoll(q, &end, 10);
		if (end == q || *end != '\0' || f.limit < 1 || f.limit > 10000)
			return http_respond_error(res, 400, "invalid",
			                          "'limit' is 1 to 10000");
	}
	/* One controller's DPO sees that controller's entries only. */
	f.controller = c.actor.controller;
	scope.controller = c.actor.controller;
	scope.list = json_array();
	err = audit_read(c.api->db_path, &f, audit_scoped, &scope, &c.msg);
	if (err != VAERN_OK) {
		json_decref(scope.list);
		return fail(res, err, &c.msg);
	}
	return http_respond_json(res, 200,
	                         json_pack("{s:o}", "entries", scope.list));
}
