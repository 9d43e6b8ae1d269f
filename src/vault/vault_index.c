/*
 * vault_index.c -- the rebuild of the identifier indexes when a data
 * directory of schema 4 (one index per identifier type) is first opened
 * under schema 5 (one index per category, AURA-LOGIN-1).
 *
 * The blind indexes are keyed hashes: only the vault, which holds the
 * keys, can compute them, so the store's migration only flags the rebuild
 * and the vault does it, all controllers in one transaction, before the
 * directory is used. A crash half-way leaves the flag set and the old
 * indexes whole; the next open starts again.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vault_internal.h"

#define INDEX_META    "identifier_index"
#define INDEX_REBUILD "rebuild"
#define INDEX_CURRENT "category"

/* One subject's rebuild: the new blinds, written as the facts are read. */
struct reindex {
	struct vault *v;
	struct controller *c;
	struct store_subject *s;
	struct vaern_msg *msg;
};

static enum vaern_err
reindex_fact(void *arg, const struct vault_fact_out *f)
{
	struct reindex *r = arg;
	struct store_subject *s = r->s;
	long ci = policy_category_index(r->c->policy, f->category);
	const struct policy_category *cat;
	unsigned char e[1 + STORE_BLIND_BYTES];
	enum vaern_err err;

	if (ci < 0)
		return VAERN_OK; /* a category gone from the policy: no index */
	cat = &r->c->policy->categories[ci];
	if (cat->format != FORMAT_IDENTIFIER)
		return VAERN_OK;
	e[0] = (unsigned char)cat->identifier;
	/* The value is stored in its normal form. */
	vlt_blind_index(vlt_blind_key(r->v, r->c), cat->identifier, cat->id,
	                f->value, e + 1);
	for (size_t k = 0; k < s->blinds_len; k += sizeof(e))
		if (memcmp(s->blinds + k, e, sizeof(e)) == 0)
			return VAERN_OK;
	if (s->blinds_len + sizeof(e) > sizeof(s->blinds))
		return vaern_fail(
		        r->msg, VAERN_E_LIMIT,
		        "identifier index rebuild: a subject has more "
		        "than %d identifiers",
		        STORE_IDS_PER_SUBJECT);
	err = store_identifier_insert(r->v->store, r->c->rowid, e[0], e + 1,
	                              s->rowid, r->msg);
	if (err == VAERN_E_EXISTS)
		err = vaern_fail(
		        r->msg, VAERN_E_EXISTS,
		        "identifier index rebuild: two subjects of '%s' "
		        "have the same %s (category '%s')",
		        r->c->name, id_type_name(cat->identifier), cat->id);
	if (err != VAERN_OK)
		return err;
	memcpy(s->blinds + s->blinds_len, e, sizeof(e));
	s->blinds_len += sizeof(e);
	return VAERN_OK;
}

static enum vaern_err
reindex_subject(struct vault *v, struct controller *c, int64_t rowid,
                struct vaern_msg *msg)
{
	struct store_subject s;
	struct fact_walk w;
	struct reindex r;
	unsigned char key[KEY_BYTES];
	enum vaern_err err;

	if ((err = store_subject_by_rowid(v->store, rowid, &s, msg)) !=
	    VAERN_OK)
		return err;
	if ((err = vlt_unwrap_key(v, &s, key, msg)) != VAERN_OK)
		goto done;
	s.blinds_len = 0;
	r.v = v;
	r.c = c;
	r.s = &s;
	r.msg = msg;
	memset(&w, 0, sizeof(w));
	w.v = v;
	w.s = &s;
	w.key = key;
	w.fn = reindex_fact;
	w.arg = &r;
	w.msg = msg;
	if ((err = store_fact_foreach(v->store, s.rowid, vlt_fact_open_upkeep,
	                              &w, msg)) != VAERN_OK)
		goto done;
	err = store_subject_set_blinds(v->store, s.rowid, s.blinds,
	                               s.blinds_len, msg);
done:
	sodium_memzero(key, sizeof(key));
	return err;
}

static enum vaern_err
reindex_controller(void *arg, const char *name, int64_t loaded_at)
{
	struct fact_walk *ctx = arg; /* v and msg only */
	struct vault *v = ctx->v;
	struct vaern_msg *msg = ctx->msg;
	struct controller *c;
	int64_t *ids = NULL;
	size_t n = 0;
	enum vaern_err err;

	(void)loaded_at;
	if ((err = vlt_controller(v, name, &c, msg)) != VAERN_OK)
		return err;
	if ((err = store_subject_rowids(v->store, c->rowid, &ids, &n, msg)) !=
	    VAERN_OK)
		return err;
	err = store_identifier_clear(v->store, c->rowid, msg);
	for (size_t i = 0; i < n && err == VAERN_OK; i++)
		err = reindex_subject(v, c, ids[i], msg);
	free(ids);
	return err;
}

enum vaern_err
vlt_identifier_reindex(struct vault *v, struct vaern_msg *msg)
{
	char flag[32];
	struct fact_walk ctx;
	enum vaern_err err;

	err = store_meta_get(v->store, INDEX_META, flag, sizeof(flag), msg);
	if (err == VAERN_E_NOTFOUND)
		return VAERN_OK; /* made under schema 5: per category */
	if (err != VAERN_OK)
		return err;
	if (strcmp(flag, INDEX_REBUILD) != 0)
		return VAERN_OK;
	memset(&ctx, 0, sizeof(ctx));
	ctx.v = v;
	ctx.msg = msg;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_controller_foreach(v->store, reindex_controller, &ctx, msg);
	if (err == VAERN_OK)
		err = store_meta_put(v->store, INDEX_META, INDEX_CURRENT, msg);
	return vlt_end(v, err, msg);
}
