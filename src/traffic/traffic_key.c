/*
 * traffic_key.c -- wrapping a day's data key under the store's key (issue
 * 18, "sealed by day"): the one place that does, so that the key
 * hierarchy (issue 13) can take it over.
 */
#include <stdio.h>
#include <string.h>

#include "traffic_internal.h"

/* The associated data: the controller and the day, so that a wrapped key
 * moved to another day's file does not open. */
static size_t
key_ad(const char *controller, long day, unsigned char *ad, size_t cap)
{
	int n = snprintf((char *)ad, cap, "vaern-traffic-day:%s:%ld",
	                 controller, day);

	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

void
traffic_key_wrap(const unsigned char *wrap_key, const char *controller,
                 long day, const unsigned char *day_key,
                 unsigned char out[TRAFFIC_WRAPPED_BYTES])
{
	unsigned char ad[128];
	size_t adlen = key_ad(controller, day, ad, sizeof(ad));

	randombytes_buf(out, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	        out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL,
	        day_key, TRAFFIC_KEY_BYTES, ad, adlen, NULL, out, wrap_key);
}

enum vaern_err
traffic_key_unwrap(const unsigned char *wrap_key, const char *controller,
                   long day, const unsigned char *in, unsigned char *day_key)
{
	unsigned char ad[128];
	size_t adlen = key_ad(controller, day, ad, sizeof(ad));

	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
	            day_key, NULL, NULL,
	            in + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	            TRAFFIC_KEY_BYTES +
	                    crypto_aead_xchacha20poly1305_ietf_ABYTES,
	            ad, adlen, in, wrap_key) != 0)
		return VAERN_E_CRYPTO;
	return VAERN_OK;
}
