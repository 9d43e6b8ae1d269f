/*
 * vault_incident_form.c -- the portal's weakness-report forms' token
 * (vault_incident.h; issue 17, SHOP-BREACH-1).
 *
 * A reporter has no session (anonymous reports are accepted), so a CSRF
 * token cannot be bound to one. The form carries instead the instant it
 * was served and a MAC of it, the controller and the page under the
 * controller's blind-index key: a form the server wrote within the last
 * VAULT_REPORT_FORM_TTL seconds, for this controller and this page. With
 * the Origin check (web_origin_ok) it keeps another site from posting
 * the form from a visitor's browser; the per-address rate limit bounds
 * what one holder of a token can do with it.
 */
#include <sodium.h>
#include <string.h>

#include "vault_incident.h"
#include "vault_internal.h"

#define FORM_TIME_BYTES 8
#define FORM_MAC_BYTES  32

/* The MAC of (page, controller, instant) under controller c's key. */
static void
form_mac(struct vault *v, const struct controller *c, const char *controller,
         const char *page, const unsigned char at[FORM_TIME_BYTES],
         unsigned char out[FORM_MAC_BYTES])
{
	static const char what[] = "report form";
	crypto_generichash_state h;

	crypto_generichash_init(&h, vlt_blind_key(v, c), KEY_BYTES,
	                        FORM_MAC_BYTES);
	crypto_generichash_update(&h, (const unsigned char *)what,
	                          sizeof(what));
	crypto_generichash_update(&h, (const unsigned char *)controller,
	                          strlen(controller) + 1);
	crypto_generichash_update(&h, (const unsigned char *)page,
	                          strlen(page) + 1);
	crypto_generichash_update(&h, at, FORM_TIME_BYTES);
	crypto_generichash_final(&h, out, FORM_MAC_BYTES);
	sodium_memzero(&h, sizeof(h));
}

enum vaern_err
vault_report_form_token(struct vault *v, const char *controller,
                        const char *page, int64_t at,
                        char out[VAULT_REPORT_FORM_TOKEN_LEN + 1],
                        struct vaern_msg *msg)
{
	unsigned char raw[FORM_TIME_BYTES + FORM_MAC_BYTES];
	uint64_t u = (uint64_t)at;
	struct controller *c;
	enum vaern_err err;

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	for (int i = FORM_TIME_BYTES - 1; i >= 0; i--, u >>= 8)
		raw[i] = (unsigned char)(u & 0xff);
	form_mac(v, c, controller, page, raw, raw + FORM_TIME_BYTES);
	sodium_bin2base64(out, VAULT_REPORT_FORM_TOKEN_LEN + 1, raw,
	                  sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return VAERN_OK;
}

int
vault_report_form_check(struct vault *v, const char *controller,
                        const char *page, const char *token, int64_t now)
{
	unsigned char raw[FORM_TIME_BYTES + FORM_MAC_BYTES],
	        mac[FORM_MAC_BYTES];
	struct vaern_msg msg;
	struct controller *c;
	uint64_t u = 0;
	size_t n = 0;
	int64_t at;

	if (token == NULL || strlen(token) != VAULT_REPORT_FORM_TOKEN_LEN ||
	    sodium_base642bin(raw, sizeof(raw), token, strlen(token), NULL, &n,
	                      NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(raw) ||
	    vlt_controller(v, controller, &c, &msg) != VAERN_OK)
		return 0;
	form_mac(v, c, controller, page, raw, mac);
	if (sodium_memcmp(mac, raw + FORM_TIME_BYTES, sizeof(mac)) != 0)
		return 0;
	for (int i = 0; i < FORM_TIME_BYTES; i++)
		u = u << 8 | raw[i];
	at = (int64_t)u;
	/* Served by this server, not in its future, not too long ago. */
	return at <= now && now - at <= VAULT_REPORT_FORM_TTL;
}
