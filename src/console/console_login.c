/*
 * console_login.c -- logging in and out of the staff console (issue 20,
 * points 1 to 3): the name, the password (argon2id) and a TOTP code
 * (RFC 6238) checked by vault_console_login with its throttle and
 * lockout per actor, a throttle per client address, a session bound to
 * the actor in a __Host- cookie (only its hash stored), logout.
 *
 * Enrolment in the browser: `vaern actor add ... --console` gives the
 * actor a password and a TOTP secret. Until a first code confirms the
 * second factor, a login with the right password and no code shows the
 * otpauth URI and its QR code (vault_console_enrolment) beside the form
 * for the first code; once confirmed the secret is never shown again.
 * Every try is audited (GDPR-32), never with a value.
 */
#include "console_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../staff/staff.h"

/* The password and code fields and the submit button of a login form
 * (the first login's asks for its first code: required). */
static void
password_code(struct web_html *h, struct console *cx, enum console_key code,
              int required, enum console_key submit)
{
	web_html_raw(h, "<label for=\"password\">");
	web_html_text(h, console_s(cx, C_login_password));
	web_html_raw(h, "</label><input id=\"password\" name=\"password\" "
	                "type=\"password\" required maxlength=\"256\" "
	                "autocomplete=\"current-password\">"
	                "<label for=\"code\">");
	web_html_text(h, console_s(cx, code));
	web_html_raw(h, "</label><input id=\"code\" name=\"code\" ");
	web_html_raw(h, required ? "required " : "");
	web_html_raw(h, "inputmode=\"numeric\" pattern=\"[0-9]{6}\" "
	                "maxlength=\"6\" autocomplete=\"one-time-code\">"
	                "<button type=\"submit\">");
	web_html_text(h, console_s(cx, submit));
	web_html_raw(h, "</button></form>");
}

/* The login form; note: a message above it (C__COUNT: none). */
static int
login_page(struct console *cx, int status, enum console_key note,
           const char *detail)
{
	struct web_html h;

	console_page_open(&h, cx, console_s(cx, C_login_title));
	if (note != C__COUNT)
		console_note(&h, cx, note != C_logged_out, note, detail);
	web_html_raw(&h, "<p>");
	web_html_text(&h, console_s(cx, C_login_intro));
	web_html_raw(&h, "</p><form method=\"post\" action=\"");
	web_html_text(&h, cx->base);
	web_html_raw(&h, "/login\">");
	console_csrf_field(&h, cx);
	web_html_raw(&h, "<label for=\"name\">");
	web_html_text(&h, console_s(cx, C_login_name));
	web_html_raw(&h, "</label><input id=\"name\" name=\"name\" required "
	                 "maxlength=\"64\" autocomplete=\"username\">");
	password_code(&h, cx, C_login_code, 0, C_login_submit);
	web_html_raw(&h, "<p>");
	web_html_text(&h, console_s(cx, C_login_first));
	web_html_raw(&h, "</p>");
	console_page_close(&h, cx);
	return console_respond(cx, status, &h);
}

int
console_login_page(struct http_request *req, struct http_response *res,
                   void *app)
{
	struct console cx;
	char to[sizeof(cx.base) + 16];

	if (console_begin_public(req, res, app, "login", &cx))
		return 0;
	if (cx.logged_in) {
		(void)snprintf(to, sizeof(to), "%s/requests", cx.base);
		return web_redirect(res, to);
	}
	return login_page(&cx, 200, C__COUNT, NULL);
}

/* The first login's page: the secret as URI and QR code, and the form
 * for the first code (the password again: nothing of the first try is
 * kept between the two). */
static int
enrol_page(struct console *cx, const char *name, const char *uri)
{
	struct web_html h;
	char *svg = NULL;
	size_t len = 0;
	int rc;

	if (staff_qr_svg(uri, &svg, &len, &cx->c.msg) != VAERN_OK)
		return console_message(cx, 500, C_err_internal, NULL);
	console_page_open(&h, cx, console_s(cx, C_enrol_title));
	web_html_raw(&h, "<p>");
	web_html_text(&h, console_s(cx, C_enrol_intro));
	web_html_raw(&h, "</p><div class=\"qr\">");
	/* The SVG is vaern's own drawing of the code: a path, no script. */
	web_html_raw(&h, svg);
	web_html_raw(&h, "</div><p>");
	web_html_text(&h, console_s(cx, C_enrol_uri));
	web_html_raw(&h, "</p><p><code class=\"uri\" id=\"otpauth\">");
	web_html_text(&h, uri);
	web_html_raw(&h, "</code></p><form method=\"post\" action=\"");
	web_html_text(&h, cx->base);
	web_html_raw(&h, "/login\">");
	console_csrf_field(&h, cx);
	web_html_raw(&h, "<input type=\"hidden\" name=\"name\" value=\"");
	web_html_text(&h, name);
	web_html_raw(&h, "\">");
	password_code(&h, cx, C_enrol_code, 1, C_enrol_submit);
	console_page_close(&h, cx);
	/* The page holds the secret: never cached (no-store), and the
	 * buffer is wiped when freed (web_html_free). */
	rc = console_respond(cx, 200, &h);
	sodium_memzero(svg, len);
	free(svg);
	return rc;
}

static int
throttled(struct console *cx, int64_t wait, const char *detail)
{
	char after[24];

	if (wait > 0) {
		(void)snprintf(after, sizeof(after), "%lld", (long long)wait);
		(void)http_respond_header(cx->res, "Retry-After", after);
	}
	return login_page(cx, 429, C_err_throttled, detail);
}

int
console_login_post(struct http_request *req, struct http_response *res,
                   void *app)
{
	static const char *const keys[] = {"csrf", "name", "password", "code",
	                                   NULL};
	const char *values[5];
	struct console cx;
	char *buf = NULL, uri[VAULT_CONSOLE_URI_MAX];
	char token[VAULT_CONSOLE_TOKEN_LEN + 1], to[sizeof(cx.base) + 16];
	long long started = web_ms_now();
	const char *name, *password, *code;
	int64_t wait = 0;
	enum vaern_err err;
	int rc;

	uri[0] = token[0] = '\0';
	if (console_begin_public(req, res, app, "login", &cx))
		return 0;
	if (console_form(req, &cx, keys, values, &buf)) {
		rc = 0;
		goto done;
	}
	name = values[1];
	password = values[2];
	code = values[3];
	if (name == NULL || password == NULL) {
		rc = login_page(&cx, 400, C_err_input, "name, password");
		goto done;
	}
	if (code == NULL) {
		/* The first login: the secret until a first code. */
		err = vault_console_address_check(cx.c.v, cx.controller,
		                                  http_request_client(req),
		                                  &wait, &cx.c.msg);
		if (err == VAERN_OK)
			err = vault_console_enrolment(
			        cx.c.v, cx.controller, name, password,
			        strlen(password), uri, &cx.c.msg);
		if ((err == VAERN_E_DENIED || err == VAERN_E_LIMIT) &&
		    wait == 0 &&
		    vault_console_address_hit(cx.c.v, cx.controller,
		                              http_request_client(req),
		                              &cx.c.msg) != VAERN_OK)
			err = VAERN_E_STORE;
		web_floor_wait(started, CONSOLE_LOGIN_FLOOR_MS);
		if (err == VAERN_OK)
			rc = enrol_page(&cx, name, uri);
		else if (err == VAERN_E_EXISTS)
			rc = login_page(&cx, 400, C_err_code_needed, NULL);
		else if (err == VAERN_E_DENIED)
			rc = login_page(&cx, 401, C_err_login, NULL);
		else if (err == VAERN_E_LIMIT)
			rc = throttled(&cx, wait, NULL);
		else
			rc = console_message(&cx, 500, C_err_internal, NULL);
		goto done;
	}
	err = vault_console_web_login(
	        cx.c.v, cx.controller, name, password, strlen(password), code,
	        http_request_client(req), &cx.session, token, &wait, &cx.c.msg);
	web_floor_wait(started, CONSOLE_LOGIN_FLOOR_MS);
	if (err == VAERN_OK) {
		(void)web_cookie_set(res, CONSOLE_SESSION_COOKIE, token, -1);
		(void)web_cookie_set(res, CONSOLE_PRE_COOKIE, "gone", 0);
		(void)snprintf(to, sizeof(to), "%s/requests", cx.base);
		rc = web_redirect(res, to);
	} else if (err == VAERN_E_DENIED) {
		rc = login_page(&cx, 401, C_err_login, NULL);
	} else if (err == VAERN_E_LIMIT) {
		/* The message says how long, or until when: no value. */
		rc = throttled(&cx, wait, cx.c.msg.text);
	} else {
		rc = console_message(&cx, 500, C_err_internal, NULL);
	}
done:
	sodium_memzero(uri, sizeof(uri));
	sodium_memzero(token, sizeof(token));
	web_form_free(buf);
	return rc;
}

int
console_logout(struct http_request *req, struct http_response *res, void *app)
{
	static const char *const keys[] = {"csrf", NULL};
	const char *values[2];
	struct console cx;
	char *buf = NULL;
	int rc;

	if (console_begin(req, res, app, "logout", 0, &cx))
		return 0;
	if (console_form(req, &cx, keys, values, &buf)) {
		rc = 0;
		goto done;
	}
	if (vault_console_logout(cx.c.v, &cx.session, &cx.c.msg) != VAERN_OK) {
		rc = console_message(&cx, 500, C_err_internal, NULL);
		goto done;
	}
	(void)web_cookie_set(res, CONSOLE_SESSION_COOKIE, "gone", 0);
	cx.logged_in = 0;
	cx.dpo = 0;
	web_token_new(cx.csrf); /* the next login's form: a pre-login token */
	cx.new_pre = 1;
	rc = login_page(&cx, 200, C_logged_out, NULL);
done:
	web_form_free(buf);
	return rc;
}
