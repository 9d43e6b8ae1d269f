/*
 * api_traffic.c -- the telecom retained-data store over HTTP (issue 18;
 * docs/traffic.md):
 *
 *   POST /v1/traffic          NDJSON records from a mediation system (or
 *                             a binary batch, Content-Type
 *                             API_TRAFFIC_BINARY_TYPE); a
 *                             cleared ingest role (TEL-LOG-1, TEL-LOG-2);
 *                             all or nothing unless ?skip_bad=1
 *   POST /v1/traffic/query    a court-order query (TEL-LOG-3); a cleared
 *                             role with the store's purpose; the signed
 *                             delivery as JSON, or XML with
 *                             "format": "xml"
 *
 * Every other role, the DPO included, gets 403, audited.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../audit/audit.h"
#include "../calendar/calendar.h"
#include "../traffic/traffic_access.h"
#include "api_internal.h"

/* The audit sink of a request: held until durable (GDPR-32). */
static enum vaern_err
traffic_audit_submit(void *arg, const struct audit_entry *e,
                     struct vaern_msg *msg)
{
	return audit_submit(arg, e, msg);
}

/* Refuses with status, after auditing the refusal (rule, the reason in
 * c->msg). */
static int
traffic_refuse(struct ctx *c, struct http_response *res, const char *action,
               enum vaern_err why, const char *rule)
{
	struct vaern_msg am = {{0}};
	enum vaern_err err;

	err = traffic_audit(traffic_audit_submit, c, c->v, c->actor.controller,
	                    c->actor.name, c->actor.role, action, 0, rule,
	                    c->msg.text, &am);
	if (err != VAERN_OK)
		return fail(res, err, &am);
	return fail(res, why, &c->msg);
}

int
h_traffic_ingest(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	struct traffic_store *st = NULL;
	const struct policy *p;
	struct traffic_batch b = {0};
	struct traffic_errors errs;
	const char *text, *skip = NULL, *ctype;
	enum traffic_format fmt;
	char reason[AUDIT_TEXT_MAX];
	size_t len = 0;
	enum vaern_err err;
	int rc;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	memset(&errs, 0, sizeof(errs));
	err = traffic_store_for(c.v, c.api->dir, c.actor.controller, &st, &p,
	                        &c.msg);
	if (err != VAERN_OK)
		return fail(res, err, &c.msg);
	/* TEL-LOG-2: only the store's cleared ingest roles feed it. */
	if ((err = traffic_authorize(p, c.actor.controller, &c.actor,
	                             TRAFFIC_USE_INGEST, &c.msg)) != VAERN_OK) {
		rc = traffic_refuse(&c, res, "traffic-ingest", err,
		                    "TEL-LOG-2");
		goto done;
	}
	skip = http_request_query(req, "skip_bad");
	text = http_request_body(req, &len);
	ctype = http_request_header(req, "Content-Type");
	/* The compact binary batch by its media type; NDJSON otherwise. */
	fmt = ctype != NULL && strncasecmp(ctype, API_TRAFFIC_BINARY_TYPE,
	                                   strlen(API_TRAFFIC_BINARY_TYPE)) == 0
	              ? TRAFFIC_BINARY
	              : TRAFFIC_NDJSON;
	err = traffic_parse(st, fmt, text != NULL ? text : "",
	                    text != NULL ? len : 0, clock_now(), &b, &errs,
	                    &c.msg);
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	if (errs.count > 0 && !(skip != NULL && strcmp(skip, "1") == 0)) {
		json_t *list = json_array();

		for (size_t i = 0; i < errs.count && i < TRAFFIC_ERRORS_MAX;
		     i++)
			json_array_append_new(
			        list, json_pack("{s:I,s:s}",
			                        fmt == TRAFFIC_BINARY ? "record"
			                                              : "line",
			                        (json_int_t)errs.items[i].line,
			                        "error", errs.items[i].what));
		rc = http_respond_json(
		        res, 400,
		        json_pack("{s:s,s:s,s:I,s:o}", "error", "invalid",
		                  "message",
		                  "bad records: nothing stored (skip_bad=1 "
		                  "stores the others)",
		                  "bad", (json_int_t)errs.count, "records",
		                  list));
		goto done;
	}
	if ((err = traffic_append(st, b.recs, b.n, &c.msg)) != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	snprintf(reason, sizeof(reason),
	         "%zu records stored, %zu bad records skipped", b.n,
	         errs.count);
	err = traffic_audit(traffic_audit_submit, &c, c.v, c.actor.controller,
	                    c.actor.name, c.actor.role, "traffic-ingest", 1,
	                    "TEL-LOG-1", reason, &c.msg);
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	rc = http_respond_json(res, 200,
	                       json_pack("{s:I,s:I}", "stored", (json_int_t)b.n,
	                                 "skipped", (json_int_t)errs.count));
done:
	traffic_batch_free(&b);
	traffic_close(st);
	return rc;
}

static const char *const query_keys[] = {
        "authority", "reference", "case", "country", "from",   "to", "msisdn",
        "imsi",      "imei",      "cell", "area",    "format", NULL};

static const char *
str(json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key));
}

int
h_traffic_query(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	struct traffic_ask a;
	json_t *doc = NULL;
	const char *from, *to, *format;
	char *out = NULL;
	size_t outlen = 0;
	enum vaern_err err;
	int rc;

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (body(req, res, query_keys, &doc))
		return 0; /* answered */
	memset(&a, 0, sizeof(a));
	a.controller = c.actor.controller;
	a.actor = &c.actor;
	a.order.authority = str(doc, "authority");
	a.order.reference = str(doc, "reference");
	a.order.case_id = str(doc, "case");
	a.order.country =
	        str(doc, "country") != NULL ? str(doc, "country") : "DK";
	a.target.msisdn = str(doc, "msisdn");
	a.target.imsi = str(doc, "imsi");
	a.target.imei = str(doc, "imei");
	a.target.cell = str(doc, "cell");
	a.target.area = str(doc, "area");
	format = str(doc, "format");
	a.xml = format != NULL && strcmp(format, "xml") == 0;
	/* A missing or malformed time leaves an empty range, which the
	 * disclosure refuses -- after the clearance check (TEL-LOG-2). */
	from = str(doc, "from");
	to = str(doc, "to");
	if (from == NULL || to == NULL ||
	    cal_parse_instant(from, &a.from, &c.msg) != VAERN_OK ||
	    cal_parse_instant(to, &a.to, &c.msg) != VAERN_OK)
		a.from = a.to = 0;
	err = traffic_disclose(c.v, c.api->dir, &a, traffic_audit_submit, &c,
	                       &out, &outlen, &c.msg);
	if (err != VAERN_OK) {
		rc = fail(res, err, &c.msg);
		goto done;
	}
	rc = http_respond_body(res, 200,
	                       a.xml ? "application/xml" : "application/json",
	                       out, outlen);
	sodium_memzero(out, outlen);
	free(out);
done:
	json_decref(doc);
	return rc;
}
