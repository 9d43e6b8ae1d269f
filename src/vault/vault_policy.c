/*
 * vault_policy.c -- the vault's controllers: each one's policy, loaded
 * from the store and compiled, shared by reference with the subjects
 * prepared under it, and dropped when a newer policy is loaded (issue 12,
 * vault_policy_sync); and each one's blind-index key.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../store/store.h"
#include "vault.h"
#include "vault_internal.h"

/* ---- policies by reference ---------------------------------------------- */

struct vlt_policy *
vlt_policy_hold(struct vlt_policy *r)
{
	atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
	return r;
}

void
vlt_policy_release(struct vlt_policy *r)
{
	if (r == NULL ||
	    atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
		return;
	policy_free(r->policy);
	free(r);
}

void
vlt_policy_digest(const char *text, size_t len,
                  char out[VAULT_POLICY_VERSION_LEN + 1])
{
	unsigned char digest[VAULT_POLICY_VERSION_BYTES];

	crypto_generichash(digest, sizeof(digest), (const unsigned char *)text,
	                   len, NULL, 0);
	sodium_bin2hex(out, VAULT_POLICY_VERSION_LEN + 1, digest,
	               sizeof(digest));
}

/* A reference (count 1) to p, which it takes, versioned by text. */
static enum vaern_err
policy_ref_new(struct policy *p, const char *text, size_t len,
               struct vlt_policy **out, struct vaern_msg *msg)
{
	struct vlt_policy *r;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		policy_free(p);
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	}
	vlt_policy_digest(text, len, r->version);
	atomic_init(&r->refs, 1);
	r->policy = p;
	*out = r;
	return VAERN_OK;
}

/* Sets c's policy to r (taken), dropping the one it had. */
static void
controller_set(struct controller *c, struct vlt_policy *r)
{
	vlt_policy_release(c->ref);
	vlt_changes_free(c->changes);
	c->changes = NULL;
	c->ref = r;
	c->policy = r->policy;
}

void
vlt_controllers_clear(struct vault *v)
{
	for (size_t i = 0; i < v->nctrl; i++) {
		free(v->ctrl[i].name);
		vlt_policy_release(v->ctrl[i].ref);
		vlt_changes_free(v->ctrl[i].changes);
		memset(&v->ctrl[i], 0, sizeof(v->ctrl[i]));
	}
	v->nctrl = 0;
}

enum vaern_err
vault_policy_generation(struct vault *v, int64_t *out, struct vaern_msg *msg)
{
	return store_policy_generation(v->store, out, msg);
}

void
vault_policy_sync(struct vault *v, int64_t epoch)
{
	if (epoch == v->policy_epoch)
		return;
	/* Inside a batch the controllers are in use: the next call, at
	 * the start of the next operation, drops them. */
	if (v->batch)
		return;
	vlt_controllers_clear(v);
	v->policy_epoch = epoch;
}

/* ---- controllers -------------------------------------------------------- */

enum vaern_err
vlt_controller(struct vault *v, const char *name, struct controller **out,
               struct vaern_msg *msg)
{
	enum vaern_err err;
	struct policy_diags *diags = NULL;
	struct policy *p = NULL;
	struct vlt_policy *ref = NULL;
	char *text = NULL;
	size_t len = 0;
	int64_t rowid;

	for (size_t i = 0; i < v->nctrl; i++) {
		if (strcmp(v->ctrl[i].name, name) == 0) {
			*out = &v->ctrl[i];
			return VAERN_OK;
		}
	}
	if (v->nctrl == VAULT_CONTROLLERS_MAX)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "more than %d controllers in one vault",
		                  VAULT_CONTROLLERS_MAX);
	if (strlen(name) > POLICY_NAME_MAX)
		return vaern_fail(msg, VAERN_E_NOTFOUND, "no such controller");
	err = store_controller_get(v->store, name, &rowid, &text, &len, msg);
	if (err != VAERN_OK)
		goto done;
	if ((diags = calloc(1, sizeof(*diags))) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	if ((err = policy_load_buffer(text, len, &p, diags)) != VAERN_OK) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "the stored policy of '%s' no longer passes "
		                 "the checks (line %u: %s); load a corrected "
		                 "policy",
		                 name, diags->count ? diags->items[0].line : 0,
		                 diags->count ? diags->items[0].message : "?");
		goto done;
	}
	err = policy_ref_new(p, text, len, &ref, msg);
	p = NULL;
	if (err != VAERN_OK)
		goto done;
	if ((v->ctrl[v->nctrl].name = strdup(name)) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	v->ctrl[v->nctrl].rowid = rowid;
	controller_set(&v->ctrl[v->nctrl], ref);
	ref = NULL;
	/*
	 * The blind-index key of a controller is derived from the index
	 * root (keys.h; the master key before issue 13, so a rotation never
	 * re-indexes) and the controller's row id: one CPR number in two
	 * controllers gives two unrelated blind indexes.
	 */
	crypto_kdf_derive_from_key(v->keys->blind[v->nctrl], KEY_BYTES,
	                           (uint64_t)rowid, KDF_CTX_BLIND,
	                           keys_ring_root(v->ring));
	*out = &v->ctrl[v->nctrl++];
	/* CEK-PURP-5: what is new since people were added. */
	if ((err = vlt_changes_read(v, *out, msg)) != VAERN_OK)
		goto done;
done:
	vlt_policy_release(ref);
	policy_free(p);
	free(diags);
	free(text);
	return err;
}

const unsigned char *
vlt_blind_key(struct vault *v, const struct controller *c)
{
	return v->keys->blind[c - v->ctrl];
}

/*
 * Records text as controller's newest policy version, in the caller's
 * transaction; the text in force until now is recorded first when the
 * data directory kept no versions before.
 */
static enum vaern_err
record_version(struct vault *v, const struct policy *p, const char *text,
               size_t len, struct vaern_msg *msg)
{
	const char *controller = p->controller.id;
	char old[VAULT_POLICY_VERSION_LEN + 1],
	        now[VAULT_POLICY_VERSION_LEN + 1];
	char *old_text = NULL;
	size_t old_len = 0;
	int64_t rowid;
	enum vaern_err err;

	err = store_controller_get(v->store, controller, &rowid, &old_text,
	                           &old_len, msg);
	if (err == VAERN_OK)
		vlt_policy_digest(old_text, old_len, old);
	else if (err != VAERN_E_NOTFOUND)
		return err;
	vlt_policy_digest(text, len, now);
	/* CEK-PURP-5: what this version adds or widens waits until the
	 * people already in the vault have been told. */
	if (err == VAERN_OK && strcmp(old, now) != 0) {
		err = vlt_changes_record(v, controller, old_text, old_len, p,
		                         now, clock_now(), msg);
		if (err != VAERN_OK) {
			free(old_text);
			return err;
		}
	}
	free(old_text);
	return store_policy_version_put(v->store, controller,
	                                err == VAERN_OK ? old : NULL, now, text,
	                                len, clock_now(), msg);
}

enum vaern_err
vault_policy_load(struct vault *v, const char *path, struct policy_diags *diags,
                  const char **controller, struct vaern_msg *msg)
{
	enum vaern_err err;
	struct policy *p = NULL;
	struct controller *c;
	char *text = NULL;
	long size;
	int64_t rowid;
	FILE *f = NULL;

	if ((err = policy_load_file(path, &p, diags)) != VAERN_OK) {
		(void)vaern_fail(msg, err, "%s: the policy has %zu problem(s)",
		                 path, diags->count + diags->dropped);
		return err;
	}
	/* Store the very bytes that were checked. */
	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (size = ftell(f)) < 0 || size > POLICY_FILE_MAX ||
	    fseek(f, 0, SEEK_SET) != 0) {
		err = vaern_fail(msg, VAERN_E_IO, "%s: cannot read", path);
		goto done;
	}
	if ((text = malloc((size_t)size + 1)) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	if (fread(text, 1, (size_t)size, f) != (size_t)size) {
		err = vaern_fail(msg, VAERN_E_IO, "%s: cannot read", path);
		goto done;
	}
	text[size] = '\0';
	if ((err = store_begin(v->store, msg)) != VAERN_OK)
		goto done;
	/* Issue 15 point 3: the earlier versions are kept. */
	err = record_version(v, p, text, (size_t)size, msg);
	if (err == VAERN_OK)
		err = store_controller_put(v->store, p->controller.id, text,
		                           (size_t)size, clock_now(), &rowid,
		                           msg);
	/* Issue 19: the webhook event, committed with the load. */
	if (err == VAERN_OK) {
		char version[VAULT_POLICY_VERSION_LEN + 1];

		vlt_policy_digest(text, (size_t)size, version);
		err = vlt_webhook_add(
		        v, "policy.loaded", p->controller.id,
		        json_pack("{s:{s:s}}", "policy", "version", version),
		        NULL, msg);
	}
	if (err == VAERN_OK)
		err = store_commit(v->store, msg);
	if (err != VAERN_OK) {
		store_rollback(v->store);
		goto done;
	}
	/* Replace a cached older version, or load the new one. */
	for (size_t i = 0; i < v->nctrl; i++) {
		struct vlt_policy *ref;

		if (strcmp(v->ctrl[i].name, p->controller.id) != 0)
			continue;
		err = policy_ref_new(p, text, (size_t)size, &ref, msg);
		p = NULL;
		if (err != VAERN_OK)
			goto done;
		c = &v->ctrl[i];
		controller_set(c, ref);
		if ((err = vlt_changes_read(v, c, msg)) != VAERN_OK)
			goto done;
		goto found;
	}
	if ((err = vlt_controller(v, p->controller.id, &c, msg)) != VAERN_OK)
		goto done;
found:
	if (controller != NULL)
		*controller = c->name;
done:
	if (f != NULL)
		fclose(f);
	free(text);
	policy_free(p);
	return err;
}

enum vaern_err
vault_policy(struct vault *v, const char *controller, const struct policy **out,
             struct vaern_msg *msg)
{
	struct controller *c;
	enum vaern_err err = vlt_controller(v, controller, &c, msg);

	*out = err == VAERN_OK ? c->policy : NULL;
	return err;
}

const char *
vault_policy_version(struct vault *v, const char *controller)
{
	struct controller *c;

	if (vlt_controller(v, controller, &c, NULL) != VAERN_OK)
		return NULL;
	return c->ref->version;
}

enum vaern_err
vlt_name_add(void *arg, const char *name, int64_t loaded_at)
{
	struct vlt_names *ns = arg;

	(void)loaded_at;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 8;
		void *more = realloc(ns->name, cap * sizeof(*ns->name));

		if (more == NULL)
			return VAERN_E_NOMEM;
		ns->name = more;
		ns->cap = cap;
	}
	(void)snprintf(ns->name[ns->n++], sizeof(*ns->name), "%s", name);
	return VAERN_OK;
}

enum vaern_err
vault_controller_foreach(struct vault *v,
                         enum vaern_err (*fn)(void *arg, const char *name,
                                              int64_t loaded_at),
                         void *arg, struct vaern_msg *msg)
{
	return store_controller_foreach(v->store, fn, arg, msg);
}
