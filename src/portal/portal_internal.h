/*
 * portal_internal.h -- what the portal's files share. Not an API:
 * portal.h is.
 *
 *   portal.c        the request's context (portal_begin): controller,
 *                   language, session, CSRF; the page frame, the cookie
 *                   banner, error pages, the style sheet, gpc.json
 *   portal_login.c  login, code, logout, password
 *   portal_pages.c  overview and product change, my data, consents and
 *                   objection, requests
 *   portal_report.c the weakness report and its status (issue 17)
 */
#ifndef VAERN_PORTAL_INTERNAL_H
#define VAERN_PORTAL_INTERNAL_H

#include "../api/api_internal.h"
#include "../vault/vault_portal.h"
#include "../web/web.h"
#include "portal.h"
#include "portal_strings.h"

#define PORTAL_SESSION_COOKIE "__Host-vaern_session"
#define PORTAL_LOGIN_COOKIE   "__Host-vaern_login"
#define PORTAL_PRE_COOKIE     "__Host-vaern_pre"     /* CSRF before login */
#define PORTAL_CHOICE_COOKIE  "__Host-vaern_cookies" /* the banner's */
#define PORTAL_VISITOR_COOKIE "__Host-vaern_visitor" /* statistics only */
#define PORTAL_LOGIN_FLOOR_MS 400 /* a login start answers no sooner */

/* One portal request. */
struct portal {
	struct ctx c; /* the API's context: the thread's vault, its audit
	                 hook holding the response, the actor (the person,
	                 once logged in) and the policy */
	struct http_request *req;
	struct http_response *res;
	const char *controller; /* the path's, checked: a loaded policy
	                           with a portal */
	enum web_lang lang;
	int logged_in;
	struct vault_portal_session session;
	char token[VAULT_PORTAL_TOKEN_LEN + 1]; /* the session cookie */
	char csrf[VAULT_PORTAL_TOKEN_LEN + 1];  /* every form's token */
	int new_pre;     /* csrf is a new pre-login token: set it */
	int gpc;         /* Sec-GPC: 1 (AURA-COOKIE-1) */
	char choice[16]; /* the banner's cookie: "", "necessary",
	                    "statistics" */
	char base[POLICY_NAME_MAX + 16]; /* "/portal/<controller>" */
};

/* Starts a portal request: the controller of the path (404 page for one
 * without a portal), the language, the session if any (need_session:
 * 303 to the login page without one), the forms' token. 1 once it has
 * answered. */
int portal_begin(struct http_request *req, struct http_response *res, void *app,
                 struct portal *p, int need_session);

/* AURA-SEC-1: a form must come from this site (Origin) and carry the
 * token (csrf). 1 once it has answered (403 page, audited). */
int portal_form_check(struct portal *p, const char *csrf);

/* Reads the request's form (web_form) and checks it (portal_form_check):
 * 1 once it has answered (4xx page; a refused form is audited). */
int portal_form(struct portal *p, const char *const *keys, const char **values,
                char **buf);

/* The text of key in the page's language. */
const char *portal_s(const struct portal *p, enum portal_key key);

/* The page's head, header, navigation and cookie banner. */
void portal_page_start(struct portal *p, struct web_html *h,
                       enum portal_key title);
/* The footer and the end. */
void portal_page_end(struct portal *p, struct web_html *h);
/* A hidden field with the form's token. */
void portal_csrf_field(struct portal *p, struct web_html *h);

/* Answers the page (cookies the request set included). */
int portal_respond(struct portal *p, int status, struct web_html *h);

/* A page with a message (key) and, if not NULL, the refusal's reason
 * (ids and rules, never a value). */
int portal_message(struct portal *p, int status, enum portal_key key,
                   const char *detail);

/* Records a visit when the visitor accepted statistics and sends no
 * Sec-GPC (AURA-COOKIE-1); nothing otherwise. */
void portal_visit(struct portal *p, const char *page);

/* A date (day) as YYYY-MM-DD into out (11 bytes). */
void portal_date(int64_t t, char out[11]);

#endif
