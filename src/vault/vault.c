/*
 * vault.c -- the encrypted subject vault (see vault.h for the contract).
 */
#include "vault.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../calendar/calendar.h"
#include "../common/crash.h"
#include "../common/utf8.h"
#include "../keys/keys.h"
#include "../retention/retention.h"
#include "../store/db.h"
#include "../store/store.h"
#include "vault_internal.h"

#define NONCE_BYTES   crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES     crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEAL_OVERHEAD (NONCE_BYTES + TAG_BYTES)
#define AD_MAX        VLT_AD_MAX
#define KEY_HEX       (2 * KEY_BYTES)

/* crypto_kdf contexts: 8 bytes each, one per use of the master key. */

/*
 * Random bytes (ids, keys, nonces) come from the kernel CSPRNG, fetched
 * RANDOM_POOL bytes at a time: one getrandom() per ~20 subjects instead of
 * nine per subject. Handed-out bytes are wiped from the pool at once.
 */
#define RANDOM_POOL 4096

static void
random_take(struct vault *v, unsigned char *out, size_t n)
{
	if (n > RANDOM_POOL) {
		randombytes_buf(out, n);
		return;
	}
	if (RANDOM_POOL - v->pool_used < n) {
		randombytes_buf(v->pool, RANDOM_POOL);
		v->pool_used = 0;
	}
	memcpy(out, v->pool + v->pool_used, n);
	sodium_memzero(v->pool + v->pool_used, n);
	v->pool_used += n;
}

/* ---- small helpers ---------------------------------------------------- */

static void
put_le64(unsigned char *p, int64_t v)
{
	uint64_t u = (uint64_t)v;

	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(u >> (8 * i));
}

void
vault_uid_format(const unsigned char uid[VAULT_UID_BYTES],
                 char out[VAULT_UID_HEX])
{
	sodium_bin2hex(out, VAULT_UID_HEX, uid, VAULT_UID_BYTES);
}

enum vaern_err
vault_uid_parse(const char *hex, unsigned char uid[VAULT_UID_BYTES],
                struct vaern_msg *msg)
{
	size_t len = 0;
	const char *end = NULL;

	if (strlen(hex) != 2 * VAULT_UID_BYTES ||
	    sodium_hex2bin(uid, VAULT_UID_BYTES, hex, 2 * VAULT_UID_BYTES, NULL,
	                   &len, &end) != 0 ||
	    len != VAULT_UID_BYTES || *end != '\0')
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a subject id is 32 hexadecimal digits");
	return VAERN_OK;
}

/* Returns 1 if s (len bytes) is valid UTF-8 without NUL and without
 * control characters other than tab, newline and carriage return. */
static int
text_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((n = utf8_decode(p + i, len - i, &cp)) == 0)
			return 0;
		if (utf8_is_control(cp) && cp != '\t' && cp != '\n' &&
		    cp != '\r')
			return 0;
		i += n;
	}
	return 1;
}

/* ---- keys --------------------------------------------------------------- */

static enum vaern_err
path_join(char *out, size_t outsz, const char *dir, const char *file,
          struct vaern_msg *msg)
{
	int n = snprintf(out, outsz, "%s/%s", dir, file);

	if (n < 0 || (size_t)n >= outsz)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the data directory path is too long");
	return VAERN_OK;
}

/* ---- open, init, close ----------------------------------------------- */

enum vaern_err
vault_init(const char *dir, struct vaern_msg *msg)
{
	enum vaern_err err;
	char kpath[PATH_MAX], dpath[PATH_MAX], spath[PATH_MAX];
	unsigned char *master = NULL;
	struct store *st = NULL;
	struct stat sb;
	int made_key = 0;

	if ((err = path_join(kpath, sizeof(kpath), dir, VAULT_KEY_FILE, msg)) ||
	    (err = path_join(dpath, sizeof(dpath), dir, VAULT_DB_FILE, msg)) ||
	    (err = path_join(spath, sizeof(spath), dir, STORE_KEYSTORE_FILE,
	                     msg)))
		return err;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return vaern_fail(msg, VAERN_E_IO, "cannot create %s: %s", dir,
		                  strerror(errno));
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return vaern_fail(msg, VAERN_E_IO, "%s is not a directory",
		                  dir);
	if (stat(kpath, &sb) == 0 || stat(dpath, &sb) == 0 ||
	    stat(spath, &sb) == 0)
		return vaern_fail(msg, VAERN_E_EXISTS,
		                  "%s is already initialised", dir);
	if ((master = sodium_malloc(KEY_BYTES)) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	/* A key from another source (the environment, a file elsewhere,
	 * a command) is used as given; otherwise a new one in DIR. */
	if (keys_source_is_default()) {
		if ((err = keys_file_create(kpath, NULL, msg)) != VAERN_OK)
			goto done;
		made_key = 1;
	}
	if ((err = keys_master_load(dir, master, NULL, msg)) != VAERN_OK ||
	    (err = store_open_sqlite(dpath, 1, &st, msg)) != VAERN_OK ||
	    (err = store_begin(st, msg)) != VAERN_OK)
		goto done;
	if ((err = keys_init(st, master, msg)) != VAERN_OK) {
		store_rollback(st);
		/* A shared database (PostgreSQL) that holds a vault already:
		 * a second node joins it with the same master key and
		 * store.conf, never with a second init (issue 14). */
		if (err == VAERN_E_EXISTS)
			err = vaern_fail(msg, VAERN_E_EXISTS,
			                 "the database already holds a vault; "
			                 "to add a node, copy its master key "
			                 "and store.conf into %s and start "
			                 "vaern serve (docs/operations.md)",
			                 dir);
	} else
		err = store_commit(st, msg);
done:
	sodium_free(master);
	store_close(st);
	if (err != VAERN_OK) {
		if (made_key)
			(void)unlink(kpath);
		(void)unlink(dpath);
		(void)unlink(spath);
	}
	return err;
}

/* A data directory whose store is PostgreSQL (DIR/store.conf) has no
 * vaern.db. */
static int
on_postgresql(const char *dir)
{
	char probe[8];
	int on = db_store_conf(dir, 1, probe, sizeof(probe));

	sodium_memzero(probe, sizeof(probe));
	return on != 0;
}

enum vaern_err
vault_open(const char *dir, struct vault **out, struct vaern_msg *msg)
{
	enum vaern_err err;
	char dpath[PATH_MAX];
	struct vault *v;

	*out = NULL;
	if ((err = path_join(dpath, sizeof(dpath), dir, VAULT_DB_FILE, msg)))
		return err;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	v->scratch_len = VAULT_VALUE_MAX + SEAL_OVERHEAD + 1;
	v->pool_used = RANDOM_POOL; /* empty: filled on first use */
	if ((v->keys = sodium_malloc(sizeof(*v->keys))) == NULL ||
	    (v->pool = sodium_malloc(RANDOM_POOL)) == NULL ||
	    (v->scratch = malloc(v->scratch_len)) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	/* Messages to people go to the spool by default (issue 5). */
	if ((err = path_join(v->outbox_dir, sizeof(v->outbox_dir), dir,
	                     VAULT_OUTBOX_DIR, msg)) != VAERN_OK)
		goto done;
	vault_set_outbox(v, vault_outbox_spool, v->outbox_dir);
	if (access(dpath, F_OK) != 0 && !on_postgresql(dir)) {
		err = vaern_fail(msg, VAERN_E_NOTFOUND,
		                 "%s: no database; is %s a data directory? "
		                 "(vaern init --data %s)",
		                 dpath, dir, dir);
		goto done;
	}
	if ((err = store_open_sqlite(dpath, 0, &v->store, msg)) != VAERN_OK)
		goto done;
	/* The master key must be one of the keystore's (issue 13). */
	err = keys_ring_open(v->store, dir, &v->ring, msg);
	/* Older directories: per-category indexes (AURA-LOGIN-1). */
	if (err == VAERN_OK)
		err = vlt_identifier_reindex(v, msg);
done:
	if (err != VAERN_OK) {
		vault_close(v);
		return err;
	}
	*out = v;
	return VAERN_OK;
}

void
vault_close(struct vault *v)
{
	if (v == NULL)
		return;
	keys_ring_free(v->ring); /* before the store: a statement of its */
	store_close(v->store);
	vlt_controllers_clear(v);
	if (v->scratch != NULL) {
		sodium_memzero(v->scratch, v->scratch_len);
		free(v->scratch);
	}
	sodium_free(v->keys); /* wipes */
	sodium_free(v->pool);
	free(v);
}

void
vault_set_cache_kib(struct vault *v, long kib)
{
	store_set_cache_kib(v->store, kib);
}

void
vault_set_shared_reads(struct vault *v)
{
	/*
	 * No mmap (issue 12, point 6). In WAL mode SQLite drops a
	 * connection's whole mapping (and page cache) at the start of every
	 * read transaction that follows another connection's commit
	 * (pagerBeginReadTransaction: sqlite3OsUnfetch(fd, 0, 0)). With
	 * creates committing a hundred times a second beside the reads,
	 * every read paid a munmap and then page faults on each page it
	 * touched: 16% of the server's CPU in munmap and faults (perf), and
	 * reads fell to a third of their rate alone. A private cache read
	 * by pread costs a copy per page instead, and the same whether or
	 * not something was written in between.
	 */
	store_set_mmap(v->store, 0);
	store_set_cache_kib(v->store, 2048);
}

int
vault_checkpoint_apart(struct vault *v, int apart)
{
	return store_checkpoint_apart(v->store, apart);
}

int
vault_log_frames(const struct vault *v)
{
	return store_log_frames(v->store);
}

enum vaern_err
vault_checkpoint_passive(struct vault *v, struct vaern_msg *msg)
{
	return store_checkpoint_passive(v->store, msg);
}

int
vault_log_restart(struct vault *v, int wait_ms)
{
	return store_log_restart(v->store, wait_ms);
}

/* ---- transactions ------------------------------------------------------- */

enum vaern_err
vault_read_begin(struct vault *v, struct vaern_msg *msg)
{
	return v->batch ? VAERN_OK : store_read_begin(v->store, msg);
}

void
vault_read_end(struct vault *v)
{
	store_read_end(v->store);
}

static enum vaern_err
vault_begin_as(struct vault *v, int shared, struct vaern_msg *msg)
{
	enum vaern_err err = shared ? store_begin_shared(v->store, msg)
	                            : store_begin(v->store, msg);

	/* Inside the write lock the keystore's generations stand still: a
	 * key wrapped now is wrapped under one that is not retired. */
	if (err == VAERN_OK &&
	    (err = keys_ring_refresh(v->ring, v->store, msg)) != VAERN_OK)
		store_rollback(v->store);
	if (err == VAERN_OK)
		v->batch = 1;
	return err;
}

enum vaern_err
vault_begin(struct vault *v, struct vaern_msg *msg)
{
	return vault_begin_as(v, 0, msg);
}

/*
 * Issue 14: what a create writes is safe beside another node's create
 * without the exclusive lock: the subject, its key, facts, consents,
 * events, unsubscribe token and outbox row are new rows of its own;
 * labels and consent texts are INSERT ... ON CONFLICT DO NOTHING and
 * read back; an identifier taken by two nodes at once is decided by its
 * unique index (the loser waits for the winner's commit, then hears
 * "already exists", as on SQLite). The keystore's generations stand
 * still: a rotation takes the lock exclusively.
 */
enum vaern_err
vault_begin_creates(struct vault *v, struct vaern_msg *msg)
{
	return vault_begin_as(v, 1, msg);
}

enum vaern_err
vault_commit(struct vault *v, struct vaern_msg *msg)
{
	enum vaern_err err = store_commit(v->store, msg);

	if (err == VAERN_OK)
		v->batch = 0;
	return err;
}

void
vault_rollback(struct vault *v)
{
	store_rollback(v->store);
	v->batch = 0;
}

/* Opens the operation's own transaction unless a batch is open. */
enum vaern_err
vlt_begin(struct vault *v, struct vaern_msg *msg)
{
	enum vaern_err err;

	if (v->batch)
		return VAERN_OK;
	if ((err = store_begin(v->store, msg)) == VAERN_OK &&
	    (err = keys_ring_refresh(v->ring, v->store, msg)) != VAERN_OK)
		store_rollback(v->store);
	return err;
}

/* Ends the operation: commits on success, rolls back on failure. */
enum vaern_err
vlt_end(struct vault *v, enum vaern_err err, struct vaern_msg *msg)
{
	if (v->batch)
		return err;
	/* The change's audit entry commits with it (issue 12). */
	if (err == VAERN_OK && v->next_change != NULL) {
		if (v->next_prepare != NULL)
			v->next_prepare(v->next_prepare_arg, v->next_change);
		err = vault_audit_outbox(v, v->next_change, msg);
		vault_audit_next_change(v, NULL);
	}
	if (err == VAERN_OK) {
		if ((err = store_commit(v->store, msg)) == VAERN_OK)
			crash_point("change_committed");
		return err;
	}
	store_rollback(v->store);
	return err;
}

/* ---- cryptography ------------------------------------------------------- */

/* Computes the blind index of an identifier's normal form. */
void
vlt_blind_index(const unsigned char *key, enum id_type type,
                const char *category, const char *norm,
                unsigned char out[STORE_BLIND_BYTES])
{
	crypto_generichash_state h;
	unsigned char t = (unsigned char)type;

	crypto_generichash_init(&h, key, KEY_BYTES, STORE_BLIND_BYTES);
	crypto_generichash_update(&h, &t, 1);
	/* The category's id and its NUL: "ab"+"c" is not "a"+"bc". */
	crypto_generichash_update(&h, (const unsigned char *)category,
	                          strlen(category) + 1);
	crypto_generichash_update(&h, (const unsigned char *)norm,
	                          strlen(norm));
	crypto_generichash_final(&h, out, STORE_BLIND_BYTES);
}

size_t
vlt_fact_ad(unsigned char ad[VLT_AD_MAX],
            const unsigned char uid[VAULT_UID_BYTES], int64_t fact_id,
            const char *category)
{
	size_t clen = strlen(category);

	if (clen > POLICY_NAME_MAX)
		clen = POLICY_NAME_MAX;
	memcpy(ad, uid, VAULT_UID_BYTES);
	put_le64(ad + VAULT_UID_BYTES, fact_id);
	memcpy(ad + VAULT_UID_BYTES + 8, category, clen);
	return VAULT_UID_BYTES + 8 + clen;
}

/* Seals len bytes of value into out (len + SEAL_OVERHEAD bytes). */
static void
seal(struct vault *v, unsigned char *out, const char *value, size_t len,
     const unsigned char *ad, size_t adlen, const unsigned char *key)
{
	random_take(v, out, NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	        out + NONCE_BYTES, NULL, (const unsigned char *)value, len, ad,
	        adlen, NULL, out, key);
}

/* Opens a sealed value into out (ctlen - SEAL_OVERHEAD bytes + NUL). */
static enum vaern_err
unseal(unsigned char *out, const unsigned char *ct, size_t ctlen,
       const unsigned char *ad, size_t adlen, const unsigned char *key,
       size_t *len, struct vaern_msg *msg)
{
	unsigned long long n = 0;

	if (ctlen < SEAL_OVERHEAD ||
	    crypto_aead_xchacha20poly1305_ietf_decrypt(
	            out, &n, NULL, ct + NONCE_BYTES, ctlen - NONCE_BYTES, ad,
	            adlen, ct, key) != 0)
		return vaern_fail(
		        msg, VAERN_E_CRYPTO,
		        "a ciphertext failed authentication: wrong "
		        "master key, or the row was altered or moved");
	out[n] = '\0';
	*len = (size_t)n;
	return VAERN_OK;
}

void
vlt_random(struct vault *v, unsigned char *out, size_t n)
{
	random_take(v, out, n);
}

void
vlt_seal(struct vault *v, unsigned char *out, const unsigned char *value,
         size_t len, const unsigned char *ad, size_t adlen,
         const unsigned char *key)
{
	seal(v, out, (const char *)value, len, ad, adlen, key);
}

enum vaern_err
vlt_unseal(unsigned char *out, const unsigned char *ct, size_t ctlen,
           const unsigned char *ad, size_t adlen, const unsigned char *key,
           size_t *len, struct vaern_msg *msg)
{
	return unseal(out, ct, ctlen, ad, adlen, key, len, msg);
}

/* Unwraps the subject's data key into key (wiped by the caller). */
enum vaern_err
vlt_unwrap_key(struct vault *v, const struct store_subject *s,
               unsigned char key[KEY_BYTES], struct vaern_msg *msg)
{
	unsigned char ad[KEYS_AD_MAX];
	size_t adlen = keys_ad_subject(ad, s->uid, s->controller);

	if (s->wrapped_len != KEYS_WRAPPED)
		return vaern_fail(msg, VAERN_E_CRYPTO, "malformed wrapped key");
	return keys_unwrap(v->ring, v->store, s->kek, s->wrapped_key,
	                   s->wrapped_len, ad, adlen, key, msg);
}

/* Wraps key for the subject s under the newest generation. */
void
vlt_subject_key_wrap(struct vault *v, struct store_subject *s,
                     const unsigned char key[KEY_BYTES])
{
	unsigned char ad[KEYS_AD_MAX], nonce[KEYS_NONCE_BYTES];
	size_t adlen = keys_ad_subject(ad, s->uid, s->controller);

	random_take(v, nonce, sizeof(nonce));
	keys_wrap(v->ring, key, ad, adlen, nonce, s->wrapped_key, &s->kek);
	s->wrapped_len = KEYS_WRAPPED;
}

/* ---- validation --------------------------------------------------------- */

static const char *
source_name(enum data_source s)
{
	switch (s) {
	case SOURCE_SUBJECT: return "subject";
	case SOURCE_AUTOMATIC: return "automatic";
	case SOURCE_THIRD_PARTY: return "third_party";
	case SOURCE_CONTROLLER: return "controller";
	}
	return "subject";
}

/* Returns 1 if purpose rests on consent alone (no other Art. 6 basis). */
static int
consent_only(const struct policy_purpose *pp)
{
	return pp->basis == BASIS_A;
}

/*
 * Validates value for category c; the value to store is written to *stored
 * (value itself, or norm holding the normal form of an identifier).
 * Messages name the fact by position and category, never the value.
 */
static enum vaern_err
value_check(const struct policy *p, const struct policy_category *c,
            const char *value, size_t pos, char norm[ID_NORM_MAX],
            const char **stored, struct vaern_msg *msg)
{
	size_t len = strlen(value);
	struct vaern_msg why = {{0}};
	long days;

	*stored = value;
	if (len == 0)
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "fact %zu (category '%s'): the value is empty", pos,
		        c->id);
	if (len > VAULT_VALUE_MAX)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "fact %zu (category '%s'): the value is over "
		                  "%d bytes",
		                  pos, c->id, VAULT_VALUE_MAX);
	if (!text_ok(value, len))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "fact %zu (category '%s'): the value is not "
		                  "valid UTF-8 text (or holds control "
		                  "characters)",
		                  pos, c->id);
	/* SHOP-PAY-1, PCI DSS: a full card number is never stored, in no
	 * format (an identifier of type other or username included); the
	 * card format's own check below refuses anything but "NNNN MM/YY". */
	if (c->format != FORMAT_CARD_LAST4_EXP &&
	    id_contains_card_number(value))
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "fact %zu (category '%s'): the value holds a "
		                  "full payment card number, which vaern never "
		                  "stores (SHOP-PAY-1); keep only the last 4 "
		                  "digits and the expiry",
		                  pos, c->id);
	switch (c->format) {
	case FORMAT_IDENTIFIER:
		if (id_normalise(c->identifier, value, p->controller.country,
		                 clock_today(), norm, ID_NORM_MAX,
		                 &why) != VAERN_OK)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "fact %zu (category '%s'): not a valid "
			        "%s: %s",
			        pos, c->id, id_type_name(c->identifier),
			        why.text);
		*stored = norm;
		return VAERN_OK;
	case FORMAT_DATE:
		/* The value is personal data (a birth date): say what is
		 * wrong, never which day or month it named. */
		if (cal_parse_date(value, &days, NULL) != VAERN_OK)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "fact %zu (category '%s'): not a "
			                  "real calendar date (YYYY-MM-DD)",
			                  pos, c->id);
		return VAERN_OK;
	case FORMAT_CARD_LAST4_EXP:
		/* SHOP-PAY-1: "NNNN MM/YY", the last 4 digits and expiry. */
		if (len != 10 || value[4] != ' ' || value[7] != '/' ||
		    strspn(value, "0123456789") != 4 ||
		    strspn(value + 5, "0123456789") != 2 ||
		    strspn(value + 8, "0123456789") != 2 ||
		    !((value[5] == '0' && value[6] >= '1') ||
		      (value[5] == '1' && value[6] <= '2')))
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "fact %zu (category '%s'): only the "
			        "last 4 digits and the expiry may be "
			        "stored, as \"NNNN MM/YY\" (SHOP-PAY-1)",
			        pos, c->id);
		return VAERN_OK;
	case FORMAT_TEXT: break;
	}
	return VAERN_OK;
}

/* A fact checked and ready to write. */

/*
 * TEL-CAT-3, GDPR-20: a fact's source is one the policy allows for its
 * category (the category's kind, its `from:`, or a declared source of
 * that kind), never a caller's free text: third-party data cannot be
 * labelled "subject" and so enter the portable copy. The message names
 * the category and what is allowed, never the source given.
 */
static enum vaern_err
source_check(const struct policy *p, const struct policy_category *c,
             const char *source, size_t pos, int *kind, const char **canonical,
             struct vaern_msg *msg)
{
	const struct policy_source *decl;

	*kind = policy_source_kind(p, c, source, &decl);
	if (decl != NULL)
		*canonical = decl->id; /* stored by its id, policy-owned */
	if (*kind < 0)
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "fact %zu (category '%s'): the source is not one "
		        "the policy declares: '%s' or a source of "
		        "`sources:` of that kind (TEL-CAT-3, GDPR-20)",
		        pos, c->id, policy_source_kind_name(c->source));
	return VAERN_OK;
}

/* The source's kind must be the category's: data the policy says comes
 * from a third party is never labelled as the person's (TEL-CAT-3). */
static enum vaern_err
source_fit(const struct policy_category *c, const char *source, int kind,
           size_t pos, struct vaern_msg *msg)
{
	if (kind == (int)c->source)
		return VAERN_OK;
	return vaern_fail(msg, VAERN_E_INVALID,
	                  "fact %zu (category '%s'): source '%.64s' is %s, and "
	                  "the policy says the category's data comes from %s "
	                  "(TEL-CAT-3, GDPR-20)",
	                  pos, c->id, source,
	                  policy_source_kind_name((enum data_source)kind),
	                  policy_source_kind_name(c->source));
}

static int
consent_given(const struct vault_consent_in *consents, size_t n,
              const char *purpose)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(consents[i].purpose, purpose) == 0)
			return 1;
	}
	return 0;
}

enum vaern_err
vlt_consents_check(const struct policy *p, const struct vault_consent_in *cs,
                   size_t n, int64_t now, struct vaern_msg *msg)
{
	for (size_t i = 0; i < n; i++) {
		const struct policy_purpose *pp;
		long idx = policy_purpose_index(p, cs[i].purpose);
		int known = 0;

		if (idx < 0)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "consent %zu: the policy has no purpose "
			        "'%.64s'",
			        i + 1, cs[i].purpose);
		pp = &p->purposes[idx];
		if (!(pp->basis & BASIS_A) && pp->art9 != 'a')
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "consent %zu: purpose '%s' does not rest "
			        "on consent",
			        i + 1, pp->id);
		for (size_t k = 0; k < pp->nconsent_sources; k++)
			known |= strcmp(pp->consent_sources[k], cs[i].source) ==
			         0;
		if (!known)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "consent %zu: '%.64s' is not a way the "
			        "policy records consent to '%s'",
			        i + 1, cs[i].source, pp->id);
		if (cs[i].given_at != INT64_MIN && cs[i].given_at > now)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "consent %zu: given in the future",
			                  i + 1);
	}
	return VAERN_OK;
}

/* Checks every fact; fills plan. Writes nothing. */
enum vaern_err
vlt_facts_check(const struct policy *p, const struct vault_fact_in *facts,
                size_t nfacts, const struct vault_consent_in *consents,
                size_t nconsents, const size_t *have, size_t nhave, int64_t now,
                struct fact_plan *plan, struct vaern_msg *msg)
{
	enum vaern_err err;

	for (size_t i = 0; i < nfacts; i++) {
		const struct vault_fact_in *f = &facts[i];
		struct fact_plan *fp = &plan[i];
		long ci, pi;
		size_t pos = i + 1;
		int kind;

		if (f->category == NULL || f->value == NULL ||
		    f->purpose == NULL)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "fact %zu: category, value and purpose "
			        "are required",
			        pos);
		if ((ci = policy_category_index(p, f->category)) < 0)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "fact %zu: the policy of '%s' has no "
			                  "category '%.64s'",
			                  pos, p->controller.id, f->category);
		/* Issue 18: call, SMS and MMS records are not facts of a
		 * person; they go to the retained-data store. */
		if (p->categories[ci].traffic)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "fact %zu: category '%.64s' is kept in "
			        "the traffic store, not as a fact of a "
			        "person (TEL-LOG-1; vaern traffic "
			        "import)",
			        pos, f->category);
		if ((pi = policy_purpose_index(p, f->purpose)) < 0)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "fact %zu: the policy of '%s' has no "
			                  "purpose '%.64s'",
			                  pos, p->controller.id, f->purpose);
		fp->category = &p->categories[ci];
		fp->purpose = &p->purposes[pi];
		if (!policy_purpose_uses(p, (size_t)pi, (size_t)ci))
			return vaern_fail(msg, VAERN_E_DENIED,
			                  "fact %zu: purpose '%s' does not use "
			                  "category '%s'",
			                  pos, fp->purpose->id,
			                  fp->category->id);
		err = value_check(p, fp->category, f->value, pos, fp->norm,
		                  &fp->value, msg);
		if (err != VAERN_OK)
			return err;
		fp->source = f->source ? f->source
		                       : source_name(fp->category->source);
		if ((err = source_check(p, fp->category, fp->source, pos, &kind,
		                        &fp->source, msg)) != VAERN_OK)
			return err;
		/* GDPR-20: provided by the person when its source is. */
		fp->provided = kind == SOURCE_SUBJECT;
		fp->collected_at =
		        f->collected_at == INT64_MIN ? now : f->collected_at;
		if (fp->collected_at > now)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "fact %zu (category '%s'): collected in "
			        "the future",
			        pos, fp->category->id);
		/* GDPR-7: no consent, no processing on consent alone. */
		if (consent_only(fp->purpose) &&
		    !consent_given(consents, nconsents, fp->purpose->id))
			return vaern_fail(
			        msg, VAERN_E_DENIED,
			        "fact %zu: purpose '%s' rests on "
			        "consent, and no consent to it is given",
			        pos, fp->purpose->id);
		/* CEK-SPECIAL-1, SHOP-SPECIAL-1: special categories only
		 * under an Art. 9 condition; with explicit consent (9(2)(a))
		 * only when the person gave the data and consented. */
		if (fp->category->special) {
			if (fp->purpose->art9 == 0)
				return vaern_fail(
				        msg, VAERN_E_DENIED,
				        "fact %zu: category '%s' is a "
				        "special category and purpose '%s' "
				        "has no Art. 9 condition",
				        pos, fp->category->id, fp->purpose->id);
			if (fp->purpose->art9 == 'a' &&
			    (!fp->provided ||
			     !consent_given(consents, nconsents,
			                    fp->purpose->id)))
				return vaern_fail(
				        msg, VAERN_E_DENIED,
				        "fact %zu: special category '%s' "
				        "needs the person's explicit "
				        "consent to '%s' and must come from "
				        "the person",
				        pos, fp->category->id, fp->purpose->id);
		}
		if ((err = source_fit(fp->category, fp->source, kind, pos,
		                      msg)) != VAERN_OK)
			return err;
	}
	/* CEK-MAND-1: a purpose's mandatory categories come together. */
	for (size_t i = 0; i < nfacts; i++) {
		const struct policy_purpose *pp = plan[i].purpose;
		int first = 1;

		for (size_t k = 0; k < i; k++)
			first &= plan[k].purpose != pp;
		if (!first)
			continue;
		for (size_t m = 0; m < pp->nmandatory; m++) {
			const struct policy_category *mc =
			        &p->categories[pp->mandatory[m]];
			int present = 0;

			for (size_t k = 0; k < nfacts; k++)
				present |= plan[k].purpose == pp &&
				           plan[k].category == mc;
			/* Added to a known person: on record already. */
			for (size_t k = 0; k < nhave; k++)
				present |=
				        &p->purposes[have[2 * k]] == pp &&
				        &p->categories[have[2 * k + 1]] == mc;
			if (!present)
				return vaern_fail(
				        msg, VAERN_E_INVALID,
				        "purpose '%s' needs category '%s' "
				        "(mandatory), which is missing",
				        pp->id, mc->id);
		}
	}
	return VAERN_OK;
}

/* ---- subjects ------------------------------------------------------------ */

/* Loads controller and subject for an operation on an existing subject. */
enum vaern_err
vlt_subject(struct vault *v, const char *controller,
            const unsigned char uid[VAULT_UID_BYTES], struct controller **c,
            struct store_subject *s, struct vaern_msg *msg)
{
	enum vaern_err err = vlt_controller(v, controller, c, msg);

	if (err != VAERN_OK)
		return err;
	return store_subject_by_uid(v->store, (*c)->rowid, uid, s, msg);
}

/* Decrypts fact f for walk w and hands it to w->fn (wiped after). */
static enum vaern_err
fact_open(struct fact_walk *w, const struct store_fact *f)
{
	struct vault_fact_out out;
	unsigned char ad[AD_MAX];
	size_t adlen = vlt_fact_ad(ad, w->s->uid, f->id, f->category), len = 0;
	enum vaern_err err;
	struct vaern_msg why = {{0}};

	if (f->ctlen > w->v->scratch_len - 1)
		return vaern_fail(w->msg, VAERN_E_CRYPTO, "fact %lld: too long",
		                  (long long)f->id);
	err = unseal(w->v->scratch, f->ct, f->ctlen, ad, adlen, w->key, &len,
	             &why);
	if (err != VAERN_OK)
		return vaern_fail(w->msg, err, "fact %lld: %s",
		                  (long long)f->id, why.text);
	out.id = f->id;
	out.category = f->category;
	out.purpose = f->purpose;
	out.source = f->source;
	out.collected_at = f->collected_at;
	out.provided_by_subject = f->provided_by_subject;
	out.expires_at =
	        f->expires_at == STORE_NO_TIME ? INT64_MIN : f->expires_at;
	out.value = (const char *)w->v->scratch;
	out.len = len;
	w->count++;
	err = w->fn != NULL ? w->fn(w->arg, &out) : VAERN_OK;
	sodium_memzero(w->v->scratch, len + 1);
	return err;
}

enum vaern_err
vlt_fact_open(void *arg, const struct store_fact *f)
{
	struct fact_walk *w = arg;
	const struct gate_release *rel = w->rel;
	long ci;

	/* CONVENTIONS.md item 13: no release, no plaintext. */
	assert(rel != NULL && rel->audit_seq > 0 &&
	       rel->audit_seq <= w->v->audited);
	if (rel == NULL || rel->audit_seq <= 0 ||
	    rel->audit_seq > w->v->audited)
		return vaern_fail(w->msg, VAERN_E_INTERNAL,
		                  "a fact read without a gate release");
	ci = policy_category_index(rel->policy, f->category);
	if (ci < 0 || !gate_release_allows(rel, w->s->uid, (size_t)ci)) {
		if (ci >= 0 && w->withheld != NULL)
			w->withheld[ci]++;
		return VAERN_OK; /* not released: never decrypted */
	}
	return fact_open(w, f);
}

enum vaern_err
vlt_fact_open_upkeep(void *arg, const struct store_fact *f)
{
	return fact_open(arg, f);
}

enum vaern_err
vlt_release_walk(struct vault *v, const struct store_subject *s,
                 const struct gate_release *rel,
                 enum vaern_err (*fn)(void *arg,
                                      const struct vault_fact_out *f),
                 void *arg, size_t *withheld, struct vaern_msg *msg)
{
	enum vaern_err err;
	struct fact_walk w;
	unsigned char key[KEY_BYTES];

	if ((err = vlt_unwrap_key(v, s, key, msg)) != VAERN_OK)
		goto done;
	w.v = v;
	w.s = s;
	w.key = key;
	w.rel = rel;
	w.withheld = withheld;
	w.fn = fn;
	w.arg = arg;
	w.msg = msg;
	w.count = 0;
	err = store_fact_foreach(v->store, s->rowid, vlt_fact_open, &w, msg);
done:
	sodium_memzero(key, sizeof(key));
	return err;
}

struct event_walk {
	enum vaern_err (*fn)(void *arg, const char *kind, int64_t at);
	void *arg;
};

static enum vaern_err
event_each(void *arg, const struct store_event *e)
{
	struct event_walk *w = arg;

	return w->fn(w->arg, e->kind, e->at);
}

enum vaern_err
vault_subject_events(struct vault *v, const char *controller,
                     const unsigned char uid[VAULT_UID_BYTES],
                     enum vaern_err (*fn)(void *arg, const char *kind,
                                          int64_t at),
                     void *arg, struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct store_subject s;
	struct event_walk w = {fn, arg};

	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	return store_event_foreach(v->store, s.rowid, event_each, &w, msg);
}

/* The old value of a fact being rectified, read inside the transaction. */
struct rectify_old {
	char category[POLICY_NAME_MAX + 1];
	char source[VAULT_SOURCE_MAX + 1];
	char norm[ID_NORM_MAX]; /* the old value, if an identifier */
	int64_t collected_at;
};

static enum vaern_err
rectify_read(void *arg, const struct vault_fact_out *f)
{
	struct rectify_old *o = arg;
	size_t n = strlen(f->category);

	if (n > POLICY_NAME_MAX || strlen(f->source) > VAULT_SOURCE_MAX)
		return VAERN_E_INTERNAL;
	memcpy(o->category, f->category, n + 1);
	memcpy(o->source, f->source, strlen(f->source) + 1);
	o->collected_at = f->collected_at;
	if (f->len < ID_NORM_MAX)
		memcpy(o->norm, f->value, f->len + 1);
	return VAERN_OK;
}

/* Replaces the blind entry old with new in the subject's list. */
static void
blinds_replace(struct store_subject *s, const unsigned char *old,
               const unsigned char *new)
{
	for (size_t k = 0; k + 1 + STORE_BLIND_BYTES <= s->blinds_len;
	     k += 1 + STORE_BLIND_BYTES) {
		if (memcmp(s->blinds + k, old, 1 + STORE_BLIND_BYTES) == 0) {
			memcpy(s->blinds + k, new, 1 + STORE_BLIND_BYTES);
			return;
		}
	}
}

enum vaern_err
vault_fact_rectify(struct vault *v, const char *controller,
                   const unsigned char uid[VAULT_UID_BYTES], int64_t fact_id,
                   const char *value, struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct store_subject s;
	struct rectify_old old;
	struct fact_walk w;
	const struct policy_category *cat;
	unsigned char key[KEY_BYTES], ad[AD_MAX];
	unsigned char oldb[1 + STORE_BLIND_BYTES], newb[1 + STORE_BLIND_BYTES];
	char norm[ID_NORM_MAX];
	const char *stored;
	size_t adlen, len;
	long ci;
	int began = 0;

	memset(&old, 0, sizeof(old));
	memset(key, 0, sizeof(key));
	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		goto done;
	began = 1;
	if ((err = vlt_unwrap_key(v, &s, key, msg)) != VAERN_OK)
		goto done;
	w.v = v;
	w.s = &s;
	w.key = key;
	w.rel = NULL;
	w.withheld = NULL;
	w.fn = rectify_read;
	w.arg = &old;
	w.msg = msg;
	w.count = 0;
	if ((err = store_fact_get(v->store, s.rowid, fact_id,
	                          vlt_fact_open_upkeep, &w, msg)) != VAERN_OK)
		goto done;
	if ((ci = policy_category_index(c->policy, old.category)) < 0) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "fact %lld: category '%s' is no longer in the "
		                 "policy",
		                 (long long)fact_id, old.category);
		goto done;
	}
	cat = &c->policy->categories[ci];
	if ((err = value_check(c->policy, cat, value, (size_t)fact_id, norm,
	                       &stored, msg)) != VAERN_OK)
		goto done;
	if (cat->format == FORMAT_IDENTIFIER) {
		oldb[0] = newb[0] = (unsigned char)cat->identifier;
		vlt_blind_index(vlt_blind_key(v, c), cat->identifier, cat->id,
		                old.norm, oldb + 1);
		vlt_blind_index(vlt_blind_key(v, c), cat->identifier, cat->id,
		                stored, newb + 1);
		if (memcmp(oldb, newb, sizeof(oldb)) != 0) {
			if ((err = store_identifier_delete(v->store, c->rowid,
			                                   oldb[0], oldb + 1,
			                                   msg)) != VAERN_OK)
				goto done;
			err = store_identifier_insert(v->store, c->rowid,
			                              newb[0], newb + 1,
			                              s.rowid, msg);
			if (err == VAERN_E_EXISTS)
				err = vaern_fail(
				        msg, VAERN_E_EXISTS,
				        "another subject of '%s' already "
				        "has this %s (category '%s')",
				        controller,
				        id_type_name(cat->identifier), cat->id);
			if (err != VAERN_OK)
				goto done;
			blinds_replace(&s, oldb, newb);
			if ((err = store_subject_set_blinds(v->store, s.rowid,
			                                    s.blinds,
			                                    s.blinds_len, msg)))
				goto done;
		}
	}
	len = strlen(stored);
	adlen = vlt_fact_ad(ad, s.uid, fact_id, cat->id);
	seal(v, v->scratch, stored, len, ad, adlen, key);
	err = store_fact_update(v->store, s.rowid, fact_id, v->scratch,
	                        len + SEAL_OVERHEAD, old.collected_at,
	                        old.source, msg);
done:
	if (began)
		err = vlt_end(v, err, msg);
	sodium_memzero(&old, sizeof(old));
	sodium_memzero(norm, sizeof(norm));
	sodium_memzero(key, sizeof(key));
	return err;
}

enum vaern_err
vault_subject_exists(struct vault *v, const char *controller,
                     const unsigned char uid[VAULT_UID_BYTES],
                     struct vaern_msg *msg)
{
	struct controller *c;
	struct store_subject s;

	return vlt_subject(v, controller, uid, &c, &s, msg);
}

static enum vaern_err
copy_category(void *arg, const struct store_fact *f)
{
	size_t n = strlen(f->category);

	if (n > POLICY_NAME_MAX)
		return VAERN_E_STORE;
	memcpy(arg, f->category, n + 1);
	return VAERN_OK;
}

enum vaern_err
vault_fact_category(struct vault *v, const char *controller,
                    const unsigned char uid[VAULT_UID_BYTES], int64_t fact_id,
                    char category[POLICY_NAME_MAX + 1], struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct store_subject s;

	category[0] = '\0';
	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	return store_fact_get(v->store, s.rowid, fact_id, copy_category,
	                      category, msg);
}

enum vaern_err
vault_event_record(struct vault *v, const char *controller,
                   const unsigned char uid[VAULT_UID_BYTES], const char *kind,
                   int64_t at, struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct store_subject s;
	struct store_event e;
	long ei;

	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	if ((ei = policy_event_index(c->policy, kind)) < 0)
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "the policy of '%s' declares no event '%.64s'",
		        controller, kind);
	if (at == INT64_MIN)
		at = clock_now();
	/* AOPT-CUST-1, CEK-RET-5: only an event the policy declares
	 * known_in_advance (a warranty's end, a competition's end) may lie
	 * ahead; any other has happened when it is recorded. */
	if (at > clock_now() && !c->policy->events[ei].known_in_advance)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "event '%s' is in the future, and the policy "
		                  "does not declare it known_in_advance",
		                  kind);
	if (at < RETENTION_TIME_MIN || at > RETENTION_TIME_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "event '%s': the time is out of range", kind);
	e.subject = s.rowid;
	e.kind = kind;
	e.at = at;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	if ((err = store_event_insert(v->store, &e, msg)) == VAERN_OK)
		err = vlt_retention_recompute(v, c, s.rowid, msg);
	return vlt_end(v, err, msg);
}

static enum vaern_err
count_fact(void *arg, const struct store_fact *f)
{
	(void)f;
	(*(size_t *)arg)++;
	return VAERN_OK;
}

enum vaern_err
vault_subject_erase(struct vault *v, const char *controller,
                    const unsigned char uid[VAULT_UID_BYTES], size_t *nfacts,
                    struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct store_subject s;
	size_t n = 0;

	int held;

	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	/* CEK-HOLD-1: held data is never erased while the hold stands. */
	if ((err = vlt_subject_held(v, s.rowid, NULL, &held, msg)) != VAERN_OK)
		return err;
	if (held)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "the subject is under a legal hold "
		                  "(CEK-HOLD-1): lift the hold first");
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	if ((err = store_fact_foreach(v->store, s.rowid, count_fact, &n, msg)))
		goto done;
	for (size_t k = 0; k + 1 + STORE_BLIND_BYTES <= s.blinds_len;
	     k += 1 + STORE_BLIND_BYTES) {
		if ((err = store_identifier_delete(
		             v->store, c->rowid, s.blinds[k], s.blinds + k + 1,
		             msg)) != VAERN_OK)
			goto done;
	}
	/* GDPR-17: the wrapped key goes with the subject row. */
	err = store_subject_delete(v->store, s.rowid, msg);
done:
	err = vlt_end(v, err, msg);
	/*
	 * The deleted rows' pages are zeroed (secure_delete), but earlier
	 * versions of them wait in the write-ahead log and in the database
	 * until a checkpoint: force one, so the wrapped key is gone from both
	 * when the erasure returns. A busy reader may delay it (SQLITE_BUSY):
	 * the erasure itself stands, and the next checkpoint completes it.
	 */
	if (err == VAERN_OK && !v->batch)
		(void)store_checkpoint(v->store, NULL);
	if (err == VAERN_OK && nfacts != NULL)
		*nfacts = n;
	return err;
}

void
vault_traffic_signing_base(const struct vault *v,
                           unsigned char out[VAULT_TRAFFIC_KEY_BYTES])
{
	/* From the index root (issue 13): re-wrapped by every master-key
	 * rotation and never changed, so a delivery verifies for good.
	 * (Subkey 1 wrapped the day keys before they moved into the
	 * keystore.) */
	crypto_kdf_derive_from_key(out, VAULT_TRAFFIC_KEY_BYTES, 2, "vaerntrf",
	                           keys_ring_root(v->ring));
}
