/*
 * vault_text.c -- free text kept with a person, sealed under the person's
 * data key (issue 11, point 5; GDPR-5(1)(f)): a hold's reason is the
 * operator's words about someone, so it is stored as ciphertext that goes
 * with the erasure (the key is shredded), never in clear.
 *
 * Stored form: "sealed:" and the URL-safe base64 of the XChaCha20-Poly1305
 * ciphertext, bound to the subject's uid and the field's name. A value
 * without the prefix was written before sealing began and is shown as is.
 */
#include <string.h>

#include <sodium.h>

#include "vault_internal.h"

#define SEALED_PREFIX "sealed:"

static size_t
text_ad(unsigned char *ad, size_t adsz, const struct store_subject *s,
        const char *field)
{
	size_t flen = strlen(field);

	if (flen > adsz - VAULT_UID_BYTES)
		flen = adsz - VAULT_UID_BYTES;
	memcpy(ad, s->uid, VAULT_UID_BYTES);
	memcpy(ad + VAULT_UID_BYTES, field, flen);
	return VAULT_UID_BYTES + flen;
}

enum vaern_err
vlt_text_seal(struct vault *v, const struct store_subject *s,
              const unsigned char key[KEY_BYTES], const char *field,
              const char *text, char *out, size_t outsz, struct vaern_msg *msg)
{
	unsigned char ad[VAULT_UID_BYTES + 32];
	unsigned char ct[VLT_TEXT_MAX + VLT_SEAL_OVERHEAD];
	size_t len = strlen(text), adlen = text_ad(ad, sizeof(ad), s, field);
	size_t need;

	if (len > VLT_TEXT_MAX)
		return vaern_fail(msg, VAERN_E_LIMIT, "%s is over %d bytes",
		                  field, VLT_TEXT_MAX);
	need = sizeof(SEALED_PREFIX) - 1 +
	       sodium_base64_encoded_len(
	               len + VLT_SEAL_OVERHEAD,
	               sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (need > outsz)
		return vaern_fail(msg, VAERN_E_LIMIT, "%s is too long", field);
	vlt_seal(v, ct, (const unsigned char *)text, len, ad, adlen, key);
	memcpy(out, SEALED_PREFIX, sizeof(SEALED_PREFIX) - 1);
	sodium_bin2base64(out + sizeof(SEALED_PREFIX) - 1,
	                  outsz - (sizeof(SEALED_PREFIX) - 1), ct,
	                  len + VLT_SEAL_OVERHEAD,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return VAERN_OK;
}

enum vaern_err
vlt_text_open(const struct store_subject *s, const unsigned char key[KEY_BYTES],
              const char *field, const char *stored, char *out, size_t outsz,
              struct vaern_msg *msg)
{
	unsigned char ad[VAULT_UID_BYTES + 32];
	unsigned char ct[VLT_TEXT_MAX + VLT_SEAL_OVERHEAD];
	size_t adlen = text_ad(ad, sizeof(ad), s, field), ctlen = 0, len = 0;
	const char *b64;
	enum vaern_err err;

	if (strncmp(stored, SEALED_PREFIX, sizeof(SEALED_PREFIX) - 1) != 0) {
		/* Written before sealing began. */
		if (strlen(stored) >= outsz)
			return vaern_fail(msg, VAERN_E_LIMIT, "%s: too long",
			                  field);
		memcpy(out, stored, strlen(stored) + 1);
		return VAERN_OK;
	}
	b64 = stored + sizeof(SEALED_PREFIX) - 1;
	if (sodium_base642bin(ct, sizeof(ct), b64, strlen(b64), NULL, &ctlen,
	                      NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    ctlen < VLT_SEAL_OVERHEAD || ctlen - VLT_SEAL_OVERHEAD >= outsz)
		return vaern_fail(msg, VAERN_E_CRYPTO, "%s: not a sealed text",
		                  field);
	err = vlt_unseal((unsigned char *)out, ct, ctlen, ad, adlen, key, &len,
	                 msg);
	if (err != VAERN_OK)
		return vaern_fail(msg, err, "%s: does not authenticate", field);
	out[len] = '\0';
	return VAERN_OK;
}
