/*
 * api_notice.c -- the policy given back (issue 15): the public privacy
 * notice, GET /privacy/{controller}?lang=&format=, and the records of
 * processing for the data-protection officer, GET /v1/ropa?format=&lang=
 * (GDPR-30). Both are rendered by src/render from the policy the workers
 * enforce, so what is published and what is done cannot drift apart.
 * Neither reads personal data nor writes anything.
 */
#include <stdlib.h>
#include <string.h>

#include "../render/render.h"
#include "api_internal.h"

static const char *const notice_types[] = {
        [RENDER_HTML] = "text/html; charset=utf-8",
        [RENDER_MD] = "text/markdown; charset=utf-8",
        [RENDER_TXT] = "text/plain; charset=utf-8"};

static const char *const ropa_types[] = {[ROPA_JSON] = "application/json",
                                         [ROPA_CSV] = "text/csv; charset=utf-8",
                                         [ROPA_HTML] =
                                                 "text/html; charset=utf-8"};

/* ?lang= into *lang (absent: the policy's own); 1 once it has answered
 * 400. */
static int
lang_param(struct http_request *req, struct http_response *res,
           const struct policy *p, enum render_lang *lang)
{
	const char *q = http_request_query(req, "lang");

	*lang = render_policy_lang(p);
	if (q != NULL && render_lang_parse(q, lang) != 0) {
		(void)http_respond_error(res, 400, "invalid",
		                         "lang: no templates for that language "
		                         "(one of da, sv, en)");
		return 1;
	}
	return 0;
}

/* Answers a rendered document; an HTML page gets its strict CSP. */
static int
answer(struct http_response *res, const char *type, int html, char *text,
       size_t len)
{
	char csp[RENDER_CSP_MAX];
	int rc;

	if (html) {
		render_csp(csp);
		if (http_respond_header(res, "Content-Security-Policy", csp) !=
		    0) {
			free(text);
			return http_respond_error(res, 500, "internal",
			                          "cannot set the page's CSP");
		}
	}
	rc = http_respond_body(res, 200, type, text, len);
	free(text);
	return rc;
}

/* GET /privacy/{controller}?lang=da|sv|en&format=html|md|txt: public,
 * no token (Art. 12(1): the notice is easily accessible). */
int
h_privacy(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	const struct policy *p = NULL;
	const char *id = http_request_param(req, "controller");
	const char *q = http_request_query(req, "format");
	enum render_format format = RENDER_HTML;
	enum render_lang lang;
	char *text = NULL;
	size_t len = 0;
	enum vaern_err err;

	if (q != NULL && render_format_parse(q, &format) != 0)
		return http_respond_error(res, 400, "invalid",
		                          "format: one of html, md, txt");
	if (begin_public(req, res, app, &c))
		return 0; /* answered */
	if (id == NULL || vault_policy(c.v, id, &p, &c.msg) != VAERN_OK)
		return http_respond_error(res, 404, "not_found",
		                          "no such controller");
	if (lang_param(req, res, p, &lang))
		return 0;
	if ((err = render_notice(p, lang, format, &text, &len, &c.msg)) !=
	    VAERN_OK)
		return fail(res, err, &c.msg);
	return answer(res, notice_types[format], format == RENDER_HTML, text,
	              len);
}

/* GET /v1/ropa?format=json|csv|html&lang=: the actor's controller's
 * records of processing, for the data-protection officer (roles with
 * audit: true; GDPR-30). */
int
h_ropa(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	const char *q = http_request_query(req, "format");
	enum render_ropa_format format = ROPA_JSON;
	enum render_lang lang;
	char *text = NULL;
	size_t len = 0;
	enum vaern_err err;

	if (begin(req, res, app, &c))
		return 0;     /* answered */
	if (!role_audits(&c)) /* the refusal is itself audited */
		return refuse(&c, res, "ropa_read", NULL, NULL, "GDPR-30",
		              "role '%s' may not read the records of "
		              "processing",
		              c.actor.role);
	if (q != NULL && render_ropa_format_parse(q, &format) != 0)
		return http_respond_error(res, 400, "invalid",
		                          "format: one of json, csv, html");
	if (lang_param(req, res, c.policy, &lang))
		return 0;
	if ((err = render_ropa(c.policy, lang, format, &text, &len, &c.msg)) !=
	    VAERN_OK)
		return fail(res, err, &c.msg);
	return answer(res, ropa_types[format], format == ROPA_HTML, text, len);
}
