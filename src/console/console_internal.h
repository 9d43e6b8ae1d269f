/*
 * console_internal.h -- the staff console's framework (issue 20): what
 * every page of the console shares. Not an API: console.h is (the
 * handlers the server's route table names).
 *
 *   console.c          the request's context (console_begin): the staff
 *                      session, the role, the language, the CSRF token;
 *                      the shared layout (console_page_open / _close),
 *                      forms (console_form), messages, the style sheet
 *   console_login.c    login (name, password, TOTP code), the first
 *                      login's enrolment (QR), logout
 *   console_queue.c    the request queue and the search by identifier
 *   console_request.c  a request's page and its actions
 *
 * A page handler:
 *
 *	struct console cx;
 *	struct web_html h;
 *
 *	if (console_begin(req, res, app, "audit", 1, &cx))
 *		return 0;                       (answered: login, 403)
 *	console_page_open(&h, &cx, console_s(&cx, C_nav_audit));
 *	...                                     (web_html_text for data)
 *	console_page_close(&h, &cx);
 *	return console_respond(&cx, 200, &h);
 *
 * and a form's handler console_form(req, &cx, keys, values, &buf) first
 * (keys[0] must be "csrf"). Every page is the actor's: cx.c.actor is the
 * session's actor in its role, so every vault call a page makes goes
 * through the gate as that actor and the audit entries name it (as the
 * API's do for a bearer token).
 */
#ifndef VAERN_CONSOLE_INTERNAL_H
#define VAERN_CONSOLE_INTERNAL_H

#include "../api/api_internal.h"
#include "../vault/vault_staff.h"
#include "../web/web.h"
#include "console.h"
#include "console_strings.h"

#define CONSOLE_SESSION_COOKIE "__Host-vaern_console"
#define CONSOLE_PRE_COOKIE                                                     \
	"__Host-vaern_console_pre" /* CSRF before                              \
	                              login */
#define CONSOLE_PAGE_MAX                                                       \
	((size_t)16 * 1024 * 1024) /* the queue of                             \
	                             10,000 */
#define CONSOLE_LOGIN_FLOOR_MS 400 /* a login answers no sooner */

/* One console request: the page's context. */
struct console {
	struct ctx c; /* the API's context: the thread's vault with its
	                 audit hook, the actor (the session's, in its
	                 role) and its controller's policy */
	struct http_request *req;
	struct http_response *res;
	const char *controller; /* the path's, a loaded policy */
	const char *page;       /* the page's id (nav, audit entries) */
	enum web_lang lang;     /* the chosen language */
	int logged_in;          /* 1 with a session */
	int dpo;                /* 1: the role reads the audit trail */
	struct vault_console_session session;
	char token[VAULT_CONSOLE_TOKEN_LEN + 1]; /* the session cookie */
	char csrf[VAULT_CONSOLE_TOKEN_LEN + 1];  /* every form's token */
	int new_pre; /* csrf is a new pre-login token: set its cookie */
	char base[POLICY_NAME_MAX + 16]; /* "/console/<controller>" */
};

/*
 * Starts a console page page_id (a nav id: "requests", "retention",
 * "audit", "incidents", "policies", "staff" ...): the controller of the
 * path (404 without a loaded policy), the language, the staff session
 * (none: a GET is sent to the login page, 303; another method 401), the
 * role (dpo_only and a role that does not read the audit trail: a 403
 * page, audited "console_page" denied, GDPR-32), the forms' token.
 * Returns 0 to go on, 1 once it has answered.
 */
int console_begin(struct http_request *req, struct http_response *res,
                  void *app, const char *page_id, int dpo_only,
                  struct console *cx);

/* console_begin for the pages before login (login, enrolment): no
 * session needed; one if there is. */
int console_begin_public(struct http_request *req, struct http_response *res,
                         void *app, const char *page_id, struct console *cx);

/*
 * Reads the request's form into values (web_form: keys NULL-terminated,
 * keys[0] "csrf") and checks it: from this site (Origin, Sec-Fetch-Site)
 * and carrying the session's (or the pre-login) token (AURA-SEC-1). 0
 * to go on; 1 once it has answered (4xx page; a refused form audited
 * "console_form_refused", naming the field, never its value). *buf is
 * the caller's to web_form_free either way.
 */
int console_form(struct http_request *req, struct console *cx,
                 const char *const *keys, const char **values, char **buf);

/* The text of key in the page's language. */
const char *console_s(const struct console *cx, enum console_key key);

/*
 * The shared layout: head (the style sheet, no script), the skip link,
 * the header with the controller and the actor's name and role, the nav
 * (a link to every console page the role may open, the current one
 * marked), the language switch, the logout form with its token; then
 * <main> and the title as h1. h is initialised here (CONSOLE_PAGE_MAX).
 */
void console_page_open(struct web_html *h, struct console *cx,
                       const char *title);
/* </main>, the footer, the end. */
void console_page_close(struct web_html *h, struct console *cx);
/* A hidden field with the form's token. */
void console_csrf_field(struct web_html *h, struct console *cx);

/* Answers the page (and the cookies the request sets: the pre-login
 * token, the language chosen by ?lang=). */
int console_respond(struct console *cx, int status, struct web_html *h);

/* Ends and answers the page h with status; if err (a read for the page
 * failed on the way), drops h and answers a 500 page instead. */
int console_page_send(struct console *cx, struct web_html *h, int status,
                      enum vaern_err err);

/* A page with a message (key) and, if not NULL, a detail (ids, rules,
 * a vault message; never a value). */
int console_message(struct console *cx, int status, enum console_key key,
                    const char *detail);

/* A message above a page's content: key and, if not NULL, detail (ids,
 * rules, a vault message; never a value); error: styled and announced
 * as a refusal (role alert), else as a status. */
void console_note(struct web_html *h, struct console *cx, int error,
                  enum console_key key, const char *detail);

/* Opens a table (id) with a head row of the texts of keys (n) and its
 * body; the caller writes the rows and "</tbody></table>". */
void console_table_open(struct web_html *h, struct console *cx, const char *id,
                        const enum console_key *keys, size_t n);

/* A date (day) as YYYY-MM-DD into out ("-" for INT64_MIN). */
void console_date(int64_t t, char out[11]);
/* An instant as YYYY-MM-DD HH:MM UTC into out. */
void console_instant(int64_t t, char out[24]);

#endif
