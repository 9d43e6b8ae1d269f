/*
 * audit_chain.c -- appending to the keyed chain, moving the outbox and
 * keeping the data store's head (issue 12; audit.h says what each is).
 *
 * An entry reaches the trail one of two ways: straight (a gate decision:
 * nothing in the data store changed) or from the data store's outbox (a
 * change: the entry committed with it). An outbox entry is moved inside
 * the trail's write transaction after a look-up of its outbox id in the
 * trail's unique index, so a move retried after a crash, or done by two
 * processes at once, writes it once. Only after the trail's commit does
 * the data store lose the row and learn the new head (settle), so at
 * every instant each change has its entry in the outbox, in the trail,
 * or both, and the data store's head is one the trail has.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../common/crash.h"
#include "../store/store_audit.h"
#include "audit_internal.h"

#define FLUSH_BATCH 4096 /* outbox rows one flush transaction moves */

enum vaern_err
audit_chain_moved_add(struct audit_chain *c, int64_t id, struct vaern_msg *msg)
{
	if (c->nmoved == c->capmoved) {
		size_t cap = c->capmoved ? 2 * c->capmoved : 256;
		int64_t *m = realloc(c->moved, cap * sizeof(*m));

		if (m == NULL)
			return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		c->moved = m;
		c->capmoved = cap;
	}
	c->moved[c->nmoved++] = id;
	return VAERN_OK;
}

enum vaern_err
audit_chain_open(struct audit_chain *c, const struct audit_trail *t,
                 struct vaern_msg *msg)
{
	struct audit_head_row h;
	enum vaern_err err;

	memset(c, 0, sizeof(*c));
	memcpy(c->key, t->key, AUDIT_KEY_BYTES);
	c->keyed_from = 1;
	if ((err = audit_store_open(t->path, 1, &c->st, msg)) != VAERN_OK)
		goto done;
	if (t->outbox_path == NULL)
		goto done;
	if ((err = audit_vault_open(t->outbox_path, &c->av, msg)) != VAERN_OK)
		goto done;
	/* A read, no lock: a caller may hold the data store's write lock
	 * (an entry audited inside a change's transaction). */
	err = audit_vault_head_get(c->av, &h, msg);
	if (err == VAERN_E_NOTFOUND) {
		/* The key is made with a pending head: a head missing now
		 * was removed. Write nothing until verify has said so. */
		err = vaern_fail(msg, VAERN_E_DENIED,
		                 "the data store keeps an audit key but no "
		                 "audit head (removed); run 'vaern audit "
		                 "verify'");
		goto done;
	}
	if (err != VAERN_OK)
		goto done;
	if (h.seq == AUDIT_HEAD_PENDING) {
		/*
		 * The first keyed writer of a trail made before the key
		 * (vaern init records the head at once): every entry from
		 * the next on is keyed; those before stay version 1. Whoever
		 * records the head first wins; no keyed entry is written
		 * before one is recorded.
		 */
		if ((err = audit_vault_begin(c->av, msg)) != VAERN_OK ||
		    (err = audit_store_head(c->st, &h.seq, h.mac, msg)) !=
		            VAERN_OK)
			goto done;
		h.keyed_from = h.seq + 1;
		audit_head_tag(c->key, &h, h.tag);
		if ((err = audit_vault_head_init(c->av, &h, msg)) != VAERN_OK ||
		    (err = audit_vault_head_get(c->av, &h, msg)) != VAERN_OK ||
		    (err = audit_vault_commit(c->av, msg)) != VAERN_OK)
			goto done;
	}
	c->keyed_from = h.keyed_from;
	c->settled = h.seq;
done:
	if (err != VAERN_OK)
		audit_chain_close(c);
	return err;
}

/*
 * A data store restored from a backup older than the trail must not hand
 * out an outbox id the trail has moved already: raises the outbox's
 * counter to the highest id moved (a write transaction on the data
 * store).
 */
static enum vaern_err
chain_floor(struct audit_chain *c, struct vaern_msg *msg)
{
	enum vaern_err err;
	int64_t max = 0;

	if (c->av == NULL)
		return VAERN_OK;
	if ((err = audit_store_moved_max(c->st, &max, msg)) != VAERN_OK ||
	    (err = audit_vault_begin(c->av, msg)) != VAERN_OK)
		return err;
	if ((err = audit_vault_outbox_floor(c->av, max, msg)) != VAERN_OK) {
		audit_vault_rollback(c->av);
		return err;
	}
	return audit_vault_commit(c->av, msg);
}

void
audit_chain_close(struct audit_chain *c)
{
	audit_store_close(c->st);
	audit_vault_close(c->av);
	free(c->moved);
	sodium_memzero(c, sizeof(*c));
}

enum vaern_err
audit_chain_begin(struct audit_chain *c, struct vaern_msg *msg)
{
	enum vaern_err err;

	if ((err = audit_store_begin(c->st, msg)) != VAERN_OK)
		return err;
	if ((err = audit_store_head(c->st, &c->seq, c->mac, msg)) != VAERN_OK) {
		audit_store_rollback(c->st);
		return err;
	}
	c->nmoved_begin = c->nmoved;
	return VAERN_OK;
}

enum vaern_err
audit_chain_add(struct audit_chain *c, const struct audit_row *r, int64_t *seq,
                struct vaern_msg *msg)
{
	unsigned char next[AUDIT_HASH_BYTES];
	struct audit_row row = *r;
	enum vaern_err err;
	int64_t had;

	if (r->outbox_id != 0) {
		err = audit_store_moved(c->st, r->outbox_id, &had, msg);
		if (err == VAERN_OK) {
			if (seq != NULL)
				*seq = had;
			return audit_chain_moved_add(c, r->outbox_id, msg);
		}
		if (err != VAERN_E_NOTFOUND)
			return err;
	}
	row.seq = c->seq + 1;
	/* Written now, so keyed: keyed_from is at most the head + 1. */
	row.version = AUDIT_ENCODING_VERSION;
	audit_hash_row(c->key, c->mac, &row, next);
	row.prev_hash = c->mac;
	row.hash = next;
	row.malformed = 0;
	if ((err = audit_store_insert(c->st, &row, msg)) != VAERN_OK)
		return err;
	if (r->outbox_id != 0 &&
	    (err = audit_chain_moved_add(c, r->outbox_id, msg)) != VAERN_OK)
		return err;
	c->seq = row.seq;
	memcpy(c->mac, next, AUDIT_HASH_BYTES);
	if (seq != NULL)
		*seq = row.seq;
	return VAERN_OK;
}

enum vaern_err
audit_chain_commit(struct audit_chain *c, struct vaern_msg *msg)
{
	enum vaern_err err = audit_store_commit(c->st, msg);

	if (err != VAERN_OK)
		c->nmoved = c->nmoved_begin; /* nothing was moved */
	else
		crash_point("trail_committed");
	return err;
}

void
audit_chain_rollback(struct audit_chain *c)
{
	audit_store_rollback(c->st);
	c->nmoved = c->nmoved_begin;
}

enum vaern_err
audit_chain_settle(struct audit_chain *c, struct vaern_msg *msg)
{
	struct audit_head_row h;
	enum vaern_err err;

	if (c->av == NULL) {
		c->nmoved = 0;
		return VAERN_OK;
	}
	c->settle_deferred = 0;
	if (c->nmoved == 0 && c->seq <= c->settled)
		return VAERN_OK;
	if (c->settle_nowait) {
		int locked = 0;

		if ((err = audit_vault_try_begin(c->av, &locked, msg)) !=
		    VAERN_OK)
			return err;
		if (!locked) {
			c->settle_deferred = 1; /* the next commit tries */
			return VAERN_OK;
		}
	} else if ((err = audit_vault_begin_settle(c->av, msg)) != VAERN_OK) {
		return err;
	}
	for (size_t i = 0; i < c->nmoved; i++) {
		if ((err = audit_vault_outbox_delete(c->av, c->moved[i],
		                                     msg)) != VAERN_OK)
			goto done;
	}
	if (c->seq > c->settled) {
		memset(&h, 0, sizeof(h));
		h.seq = c->seq;
		memcpy(h.mac, c->mac, AUDIT_HASH_BYTES);
		h.keyed_from = c->keyed_from;
		audit_head_tag(c->key, &h, h.tag);
		if ((err = audit_vault_head_put(c->av, &h, msg)) != VAERN_OK)
			goto done;
	}
	err = audit_vault_commit(c->av, msg);
done:
	if (err != VAERN_OK) {
		audit_vault_rollback(c->av);
		return err;
	}
	c->nmoved = 0;
	if (c->seq > c->settled)
		c->settled = c->seq;
	return VAERN_OK;
}

/* A flush's walk of the outbox. */
struct flush_walk {
	struct audit_chain *c;
	struct vaern_msg *msg;
};

/* Moves one outbox row into the trail. */
static enum vaern_err
flush_one(void *arg, const struct audit_row *r)
{
	struct flush_walk *fw = arg;

	return audit_chain_add(fw->c, r, NULL, fw->msg);
}

enum vaern_err
audit_chain_flush(struct audit_chain *c, int64_t *moved, struct vaern_msg *msg)
{
	struct flush_walk fw = {c, msg};
	enum vaern_err err = VAERN_OK;

	if (moved != NULL)
		*moved = 0;
	if ((err = chain_floor(c, msg)) != VAERN_OK)
		return err;
	while (c->av != NULL) {
		int64_t before;
		size_t rows;

		if ((err = audit_chain_begin(c, msg)) != VAERN_OK)
			break;
		before = c->seq;
		err = audit_vault_outbox_each(c->av, FLUSH_BATCH, flush_one,
		                              &fw, msg);
		rows = c->nmoved - c->nmoved_begin;
		if (err != VAERN_OK || rows == 0) {
			audit_chain_rollback(c); /* nothing to move */
			break;
		}
		if ((err = audit_chain_commit(c, msg)) != VAERN_OK)
			break;
		if (moved != NULL)
			*moved += c->seq - before;
		if ((err = audit_chain_settle(c, msg)) != VAERN_OK ||
		    rows < FLUSH_BATCH)
			break;
	}
	return err;
}

enum vaern_err
audit_outbox_flush(const struct audit_trail *t, int64_t *moved,
                   struct vaern_msg *msg)
{
	struct audit_chain c;
	enum vaern_err err;

	if (moved != NULL)
		*moved = 0;
	if (t->outbox_path == NULL)
		return VAERN_OK;
	if (sodium_init() < 0)
		return vaern_fail(msg, VAERN_E_CRYPTO,
		                  "libsodium failed to initialise");
	if ((err = audit_chain_open(&c, t, msg)) != VAERN_OK)
		return err;
	err = audit_chain_flush(&c, moved, msg);
	audit_chain_close(&c);
	return err;
}
