/*
 * vault_traffic.c -- the traffic store's day keys in the keystore (issue
 * 18; TEL-LOG-1): made, unwrapped and destroyed here, under the key
 * hierarchy of src/keys, so that deleting a day's key crypto-erases the
 * day and rotations and keystore backups cover the keys.
 */
#include <sodium.h>
#include <string.h>

#include "../keys/keys.h"
#include "../store/store.h"
#include "vault.h"
#include "vault_internal.h"

enum vaern_err
vault_traffic_day_key(struct vault *v, const char *controller, long day,
                      int create, unsigned char key[VAULT_TRAFFIC_KEY_BYTES],
                      struct vaern_msg *msg)
{
	unsigned char wrapped[STORE_WRAPPED_MAX], ad[KEYS_AD_MAX];
	unsigned char nonce[KEYS_NONCE_BYTES];
	struct controller *c;
	size_t len = 0, adlen;
	enum vaern_err err;
	int64_t kek = 0;

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	adlen = keys_ad_traffic(ad, c->rowid, day);
	if (!create) {
		err = store_traffic_key_get(v->store, c->rowid, day, wrapped,
		                            &len, &kek, msg);
		if (err == VAERN_OK)
			err = keys_unwrap(v->ring, v->store, kek, wrapped, len,
			                  ad, adlen, key, msg);
		return err;
	}
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_traffic_key_get(v->store, c->rowid, day, wrapped, &len,
	                            &kek, msg);
	if (err == VAERN_OK) {
		err = keys_unwrap(v->ring, v->store, kek, wrapped, len, ad,
		                  adlen, key, msg);
	} else if (err == VAERN_E_NOTFOUND) {
		/* A new day: its own random data key (issue 18 point 2). */
		vlt_random(v, key, VAULT_TRAFFIC_KEY_BYTES);
		vlt_random(v, nonce, sizeof(nonce));
		keys_wrap(v->ring, key, ad, adlen, nonce, wrapped, &kek);
		err = store_traffic_key_put(v->store, c->rowid, day, wrapped,
		                            KEYS_WRAPPED, kek, msg);
	}
	if (err != VAERN_OK)
		sodium_memzero(key, VAULT_TRAFFIC_KEY_BYTES);
	return vlt_end(v, err, msg);
}

enum vaern_err
vault_traffic_day_keys_drop(struct vault *v, const char *controller, long day,
                            int64_t *dropped, struct vaern_msg *msg)
{
	struct controller *c;
	enum vaern_err err;

	*dropped = 0;
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_traffic_key_drop_before(v->store, c->rowid, day, dropped,
	                                    msg);
	err = vlt_end(v, err, msg);
	/* As an erasure does: the deleted rows' earlier versions wait in
	 * the keystore's log until a checkpoint. A busy reader may delay it;
	 * the next one completes it. */
	if (err == VAERN_OK && *dropped > 0 && !v->batch)
		(void)store_checkpoint(v->store, NULL);
	return err;
}
