/*
 * api_report.c -- the person's access report and portable copy, built
 * from the vault and the audit trail (see api_report.h), and the handlers
 * that answer with them: GET /v1/subjects/{id}/report and /export, and
 * report_send for GET /v1/requests/{request}/report (api_requests.c).
 */
#include "api_report.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../audit/audit.h"
#include "../calendar/calendar.h"
#include "../report/report.h"
#include "api_internal.h"

/* Strings copied for a report, in chunks that are wiped when freed: they
 * hold personal data. */
struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	char data[];
};

struct gathered {
	const struct policy *policy;
	const char *controller;
	struct arena_chunk *chunks;
	struct report_fact *facts;
	size_t nfacts, capfacts;
	struct report_event *events;
	size_t nevents, capevents;
	struct report_use *uses;
	size_t nuses, capuses;
};

static const char *
arena_dup(struct gathered *g, const char *s)
{
	size_t n = strlen(s) + 1;
	struct arena_chunk *c = g->chunks;

	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > 65536 ? n : 65536;

		if ((c = malloc(sizeof(*c) + cap)) == NULL)
			return NULL;
		c->next = g->chunks;
		c->used = 0;
		c->cap = cap;
		g->chunks = c;
	}
	memcpy(c->data + c->used, s, n);
	c->used += n;
	return c->data + c->used - n;
}

/* Grows *arr (of elem bytes) to hold one more; 0 on success. */
static int
grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	void *p;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	if ((p = realloc(*arr, ncap * elem)) == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

static void
gathered_free(struct gathered *g)
{
	while (g->chunks != NULL) {
		struct arena_chunk *next = g->chunks->next;

		sodium_memzero(g->chunks->data, g->chunks->cap);
		free(g->chunks);
		g->chunks = next;
	}
	free(g->facts);
	free(g->events);
	free(g->uses);
}

static enum vaern_err
gather_fact(void *arg, const struct vault_fact_out *f)
{
	struct gathered *g = arg;
	struct report_fact *r;

	if (grow((void **)&g->facts, &g->capfacts, g->nfacts, sizeof(*r)))
		return VAERN_E_NOMEM;
	r = &g->facts[g->nfacts];
	r->id = f->id;
	r->category = arena_dup(g, f->category);
	r->purpose = arena_dup(g, f->purpose);
	r->value = arena_dup(g, f->value);
	r->collected_at = f->collected_at;
	/* No clock runs yet (a relationship still open): no date. */
	r->expires_at =
	        f->expires_at == INT64_MIN ? REPORT_NEVER : f->expires_at;
	r->provided = f->provided_by_subject;
	r->source = f->source != NULL ? arena_dup(g, f->source) : NULL;
	if (r->category == NULL || r->purpose == NULL || r->value == NULL)
		return VAERN_E_NOMEM;
	g->nfacts++;
	return VAERN_OK;
}

static enum vaern_err
gather_event(void *arg, const char *kind, int64_t at)
{
	struct gathered *g = arg;
	struct report_event *e;

	if (grow((void **)&g->events, &g->capevents, g->nevents, sizeof(*e)))
		return VAERN_E_NOMEM;
	e = &g->events[g->nevents];
	e->kind = arena_dup(g, kind);
	e->at = at;
	if (e->kind == NULL)
		return VAERN_E_NOMEM;
	g->nevents++;
	return VAERN_OK;
}

static const char *
dup_or_empty(struct gathered *g, const char *s)
{
	return arena_dup(g, s != NULL ? s : "");
}

static enum vaern_err
gather_use(void *arg, const struct audit_record *r)
{
	struct gathered *g = arg;
	struct report_use *u;

	if (r->entry.controller == NULL ||
	    strcmp(r->entry.controller, g->controller) != 0)
		return VAERN_OK;
	if (grow((void **)&g->uses, &g->capuses, g->nuses, sizeof(*u)))
		return VAERN_E_NOMEM;
	u = &g->uses[g->nuses];
	u->seq = r->seq;
	u->at = r->at;
	u->allowed = r->entry.allowed;
	if ((u->role = dup_or_empty(g, r->entry.role)) == NULL ||
	    (u->purpose = dup_or_empty(g, r->entry.purpose)) == NULL ||
	    (u->action = dup_or_empty(g, r->entry.action)) == NULL ||
	    (u->categories = dup_or_empty(g, r->entry.categories)) == NULL ||
	    (u->rule = dup_or_empty(g, r->entry.rule)) == NULL)
		return VAERN_E_NOMEM;
	g->nuses++;
	return VAERN_OK;
}

enum vaern_err
api_report_build(struct vault *v, const char *audit_db,
                 const struct vault_actor *actor, const struct policy *p,
                 const unsigned char uid[VAULT_UID_BYTES],
                 enum vault_export kind, enum api_report_format format,
                 const char *lang, const char *request, char **body,
                 size_t *len, struct vaern_msg *msg)
{
	struct gathered g;
	struct report_input in;
	struct vault_withheld *wh = NULL;
	struct report_withheld *rw = NULL;
	size_t nwh = 0;
	struct audit_filter f;
	char hex[VAULT_UID_HEX];
	enum vaern_err err;
	json_t *doc;

	*body = NULL;
	*len = 0;
	memset(&g, 0, sizeof(g));
	g.policy = p;
	g.controller = actor->controller;
	wh = calloc(p->ncategories + 1, sizeof(*wh));
	rw = calloc(p->ncategories + 1, sizeof(*rw));
	if (wh == NULL || rw == NULL) {
		free(wh);
		free(rw);
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	}
	/* The gate decides, category by category, what this role may show
	 * (TEL-LOG-2); the rest is listed as withheld. */
	err = vault_subject_export(v, actor, uid, kind, request, gather_fact,
	                           &g, wh, &nwh, msg);
	for (size_t i = 0; i < nwh; i++) {
		rw[i].category = wh[i].category;
		rw[i].facts = wh[i].facts;
		rw[i].rule = wh[i].rule;
		rw[i].reason = wh[i].reason;
	}
	if (err == VAERN_OK && kind == VAULT_EXPORT_ACCESS)
		err = vault_subject_events(v, actor->controller, uid,
		                           gather_event, &g, msg);
	if (err == VAERN_OK && kind == VAULT_EXPORT_ACCESS) {
		memset(&f, 0, sizeof(f));
		f.subject = uid;
		f.from_at = INT64_MIN;
		f.to_at = INT64_MAX;
		f.controller = actor->controller;
		err = audit_read(audit_db, &f, gather_use, &g, msg);
	}
	if (err != VAERN_OK)
		goto done;
	vault_uid_format(uid, hex);
	in.policy = p;
	in.subject = hex;
	in.now = clock_now();
	in.facts = g.facts;
	in.nfacts = g.nfacts;
	in.events = g.events;
	in.nevents = g.nevents;
	in.uses = g.uses;
	in.nuses = g.nuses;
	in.request = request;
	in.request_type =
	        kind == VAULT_EXPORT_ACCESS ? "access" : "portability";
	in.withheld = rw;
	in.nwithheld = nwh;
	in.lang = lang; /* the retention words of the JSON too (GDPR-15) */
	if (format == API_REPORT_CSV) {
		*body = report_portable_csv(&in, len);
	} else if (kind == VAULT_EXPORT_ACCESS) {
		*body = format == API_REPORT_HTML
		                ? report_access_html(
		                          &in,
		                          lang != NULL ? lang
		                                       : p->controller.language,
		                          len)
		                : report_access_json(&in, len);
	} else if ((doc = report_portable(&in)) != NULL) {
		*body = json_dumps(doc, JSON_COMPACT);
		*len = *body != NULL ? strlen(*body) : 0;
		json_decref(doc);
	}
	err = *body != NULL ? VAERN_OK
	                    : vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
done:
	gathered_free(&g);
	free(wh);
	free(rw);
	return err;
}

/* ---- the person's reports (GDPR-15, GDPR-20) --------------------------- */

/*
 * Answers the access report (GDPR-15) or portable copy (GDPR-20) of the
 * subject uid, as format=json|html[&lang=da|sv|en] for access and
 * format=json|csv for portability (api_report_build). request: the
 * rights request it answers, or NULL for the bare report.
 */
int
report_send(struct ctx *c, struct http_request *req, struct http_response *res,
            const unsigned char uid[VAULT_UID_BYTES], enum vault_export kind,
            const char *request)
{
	const char *format = http_request_query(req, "format");
	const char *lang = http_request_query(req, "lang");
	enum api_report_format fmt;
	enum vaern_err err;
	char *body = NULL;
	size_t len = 0;
	int rc;

	if (format == NULL || strcmp(format, "json") == 0)
		fmt = API_REPORT_JSON;
	else if (kind == VAULT_EXPORT_ACCESS && strcmp(format, "html") == 0)
		fmt = API_REPORT_HTML;
	else if (kind == VAULT_EXPORT_PORTABILITY && strcmp(format, "csv") == 0)
		fmt = API_REPORT_CSV;
	else
		return http_respond_error(res, 400, "invalid", "format: %s",
		                          kind == VAULT_EXPORT_ACCESS
		                                  ? "json or html"
		                                  : "json or csv");
	if (lang != NULL && strcmp(lang, "da") != 0 &&
	    strcmp(lang, "sv") != 0 && strcmp(lang, "en") != 0)
		return http_respond_error(res, 400, "invalid",
		                          "lang: da, sv or en");
	err = api_report_build(c->v, c->api->db_path, &c->actor, c->policy, uid,
	                       kind, fmt, lang, request, &body, &len, &c->msg);
	if (err != VAERN_OK)
		return fail(res, err, &c->msg);
	rc = http_respond_body(
	        res, 200,
	        fmt == API_REPORT_HTML  ? "text/html; charset=utf-8"
	        : fmt == API_REPORT_CSV ? "text/csv; charset=utf-8"
	                                : "application/json",
	        body, len);
	sodium_memzero(body, len);
	free(body);
	return rc;
}

/*
 * GET /v1/subjects/{id}/report and /export: the bare reports, for the
 * data-protection officer's role only (roles with audit: true).
 */
static int
report_respond(struct http_request *req, struct http_response *res, void *app,
               enum vault_export kind)
{
	struct ctx c;
	unsigned char uid[VAULT_UID_BYTES];

	if (begin(req, res, app, &c))
		return 0; /* answered */
	if (subject_param(req, res, uid))
		return 0; /* answered */
	return report_send(&c, req, res, uid, kind, NULL);
}

int
h_report(struct http_request *req, struct http_response *res, void *app)
{
	return report_respond(req, res, app, VAULT_EXPORT_ACCESS);
}

int
h_export(struct http_request *req, struct http_response *res, void *app)
{
	return report_respond(req, res, app, VAULT_EXPORT_PORTABILITY);
}
