/*
 * vault_versions.c -- the earlier versions of each controller's policy
 * (issue 15 point 3): every text loaded is kept (vault_policy_load records
 * it), listed oldest first, and any one of them can be compiled again to
 * render what was promised under it. A version is named by the digest
 * every audit entry carries (policy_digest, issue 12).
 */
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"
#include "vault.h"
#include "vault_internal.h"

/* The loaded_at of controller name, from the controller list. */
struct find_loaded {
	const char *name;
	int64_t loaded_at;
	int found;
};

static enum vaern_err
find_loaded(void *arg, const char *name, int64_t loaded_at)
{
	struct find_loaded *f = arg;

	if (strcmp(name, f->name) == 0) {
		f->loaded_at = loaded_at;
		f->found = 1;
	}
	return VAERN_OK;
}

/* Compiles a stored text; VAERN_E_INVALID if it no longer passes. */
static enum vaern_err
compile_text(const char *controller, const char *text, size_t len,
             struct policy **out, struct vaern_msg *msg)
{
	struct policy_diags *diags = calloc(1, sizeof(*diags));
	enum vaern_err err;

	*out = NULL;
	if (diags == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	err = policy_load_buffer(text, len, out, diags);
	if (err == VAERN_E_INVALID)
		err = vaern_fail(
		        msg, err,
		        "a stored version of '%s' no longer passes the "
		        "checks (line %u: %s)",
		        controller, diags->count ? diags->items[0].line : 0,
		        diags->count ? diags->items[0].message : "?");
	else if (err != VAERN_OK)
		err = vaern_fail(msg, err, "cannot compile a stored version");
	free(diags);
	return err;
}

struct history {
	const char *controller;
	vault_version_fn fn;
	void *arg;
	size_t count;
};

static enum vaern_err
history_one(void *arg, const char *digest, int64_t loaded_at, const char *text,
            size_t len)
{
	struct history *h = arg;
	struct policy *p = NULL;
	struct vaern_msg ignored = {{0}};
	enum vaern_err err;

	h->count++;
	/* A version that no longer compiles is still listed, without its
	 * date. */
	if (compile_text(h->controller, text, len, &p, &ignored) ==
	    VAERN_E_NOMEM)
		return VAERN_E_NOMEM;
	err = h->fn(h->arg, digest, loaded_at, p);
	policy_free(p);
	return err;
}

enum vaern_err
vault_policy_history(struct vault *v, const char *controller,
                     vault_version_fn fn, void *arg, struct vaern_msg *msg)
{
	struct history h = {controller, fn, arg, 0};
	struct find_loaded f = {controller, 0, 0};
	const struct policy *cur;
	enum vaern_err err;

	if ((err = vault_policy(v, controller, &cur, msg)) != VAERN_OK)
		return err;
	err = store_policy_version_foreach(v->store, controller, history_one,
	                                   &h, msg);
	if (err != VAERN_OK || h.count > 0)
		return err;
	/* Loaded before versions were kept: the one in force is the one
	 * version known. */
	if ((err = vault_controller_foreach(v, find_loaded, &f, msg)) !=
	    VAERN_OK)
		return err;
	return fn(arg, vault_policy_version(v, controller), f.loaded_at, cur);
}

enum vaern_err
vault_policy_stored(struct vault *v, const char *controller,
                    const char *version, int64_t at, struct policy **out,
                    char found[VAULT_POLICY_VERSION_LEN + 1],
                    struct vaern_msg *msg)
{
	char digest[STORE_DIGEST_HEX];
	char *text = NULL;
	size_t len = 0, n;
	const struct policy *cur;
	enum vaern_err err;

	*out = NULL;
	found[0] = '\0';
	if ((err = vault_policy(v, controller, &cur, msg)) != VAERN_OK)
		return err;
	if (version != NULL) {
		n = strlen(version);
		if (n < 4 || n > VAULT_POLICY_VERSION_LEN ||
		    strspn(version, "0123456789abcdef") != n)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "a version is 4 to %d lowercase hex "
			                  "digits of its digest (vaern policy "
			                  "history)",
			                  VAULT_POLICY_VERSION_LEN);
	}
	err = store_policy_version_get(v->store, controller, version, at,
	                               digest, &text, &len, msg);
	if (err == VAERN_E_NOTFOUND && version != NULL &&
	    strncmp(vault_policy_version(v, controller), version,
	            strlen(version)) == 0) {
		/* Loaded before versions were kept: the one in force. */
		err = store_controller_get(v->store, controller, &(int64_t){0},
		                           &text, &len, msg);
		if (err == VAERN_OK)
			vlt_policy_digest(text, len, digest);
	}
	if (err == VAERN_OK)
		err = compile_text(controller, text, len, out, msg);
	if (err == VAERN_OK)
		memcpy(found, digest, VAULT_POLICY_VERSION_LEN + 1);
	free(text);
	return err;
}
