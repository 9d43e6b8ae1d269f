/*
 * vault_add.c -- new subjects into the vault: each checked against the
 * policy and sealed (subject_prepare), then written in the open
 * transaction (subject_write); one at a time (vault_subject_add), prepared
 * apart from the write (vault_subject_prepare, vault_subject_write), or in
 * bulk with sealing on a second thread (vault_subject_add_many).
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../calendar/calendar.h"
#include "../keys/keys.h"
#include "../store/store.h"
#include "vault_internal.h"

/* A fact encrypted and ready to write. */
struct sealed_fact {
	const char *category; /* policy-owned */
	const char *purpose;  /* policy-owned */
	const char *source;   /* the caller's or a static string */
	int64_t collected_at;
	int provided;
	unsigned char *ct; /* into the prepared record's buffer */
	size_t ctlen;
};

/* A consent ready to write. */
struct sealed_consent {
	const char *purpose; /* policy-owned */
	const char *source;  /* the caller's */
	int64_t given_at;
	int has_hash;
	unsigned char text_hash[crypto_hash_sha256_BYTES];
	const char *text; /* policy-owned: the text hashed, kept once */
	int has_token;    /* an unsubscribe token was made (SHOP-MKT-1) */
	unsigned char token_hash[32];
	char token[VAULT_UNSUB_TOKEN_MAX]; /* handed out once, wiped */
};

/*
 * A subject checked, its identifiers blind-indexed and its facts and data
 * key sealed: everything the store needs and nothing in clear. Made by
 * subject_prepare (no store access, so it can run on another thread than
 * the writer), written by subject_write.
 */
struct prepared {
	struct store_subject s;       /* uid, wrapped key, blinds */
	unsigned char key[KEY_BYTES]; /* the data key, until written:
	                                 re-wrapped if a rotation moved on
	                                 since it was sealed; wiped */
	int cookie_need; /* STORE_VISIT_* bits the visitor's choice must have
	                    on (AURA-COOKIE-1); 0: no cookie purpose */
	const char *cookie_purpose[2]; /* policy-owned: the purpose needing
	                                  statistics [0], marketing [1] */
	unsigned char visitor[STORE_BLIND_BYTES]; /* its blind index */
	size_t nids;
	const char *id_category[STORE_IDS_PER_SUBJECT]; /* policy-owned: the
	                                                   category of each
	                                                   blind */
	struct sealed_fact *facts; /* in the allocation of this record */
	size_t nfacts;
	struct sealed_consent *consents;
	size_t nconsents;
	void *mem; /* the one allocation behind facts,
	              consents and the ciphertexts */
};

static void
prepared_clear(struct prepared *pr)
{
	sodium_memzero(pr->key, sizeof(pr->key));
	if (pr->consents != NULL)
		sodium_memzero(pr->consents,
		               pr->nconsents * sizeof(*pr->consents));
	free(pr->mem);
	pr->mem = NULL;
}

/*
 * AURA-COOKIE-1, AOPT-COOKIE-1, SHOP-MKT-2: data of a purpose collected
 * through statistics or marketing cookies is taken only where a visitor's
 * choice allows it, whatever the route. Notes in pr which choice the
 * writer must find on for which visitor (one per subject); refuses a fact
 * that names no visitor. Session cookies (`cookie: necessary`) cannot be
 * refused through vaern and need no choice.
 */
static enum vaern_err
cookie_prepare(struct vault *v, const struct controller *c,
               const struct vault_fact_in *facts, const struct fact_plan *plan,
               size_t nfacts, struct prepared *pr, struct vaern_msg *msg)
{
	const char *visitor = NULL;
	enum vaern_err err;

	for (size_t i = 0; i < nfacts; i++) {
		enum policy_cookie k = plan[i].purpose->cookie;
		int bit = k == COOKIE_STATISTICS  ? STORE_VISIT_STATISTICS
		          : k == COOKIE_MARKETING ? STORE_VISIT_MARKETING
		                                  : 0;

		if (bit == 0)
			continue;
		if (facts[i].visitor == NULL)
			return vaern_fail(
			        msg, VAERN_E_DENIED,
			        "fact %zu: purpose '%s' collects through %s "
			        "cookies and is taken only where the visitor's "
			        "cookie choice allows it: 'visitor' is "
			        "required "
			        "(AURA-COOKIE-1, AOPT-COOKIE-1)",
			        i + 1, plan[i].purpose->id,
			        k == COOKIE_STATISTICS ? "statistics"
			                               : "marketing");
		if (visitor != NULL && strcmp(visitor, facts[i].visitor) != 0)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "fact %zu: one subject, one 'visitor'", i + 1);
		if (visitor == NULL &&
		    (err = vlt_visitor_blind(v, c, facts[i].visitor,
		                             pr->visitor, msg)) != VAERN_OK)
			return err;
		visitor = facts[i].visitor;
		pr->cookie_need |= bit;
		pr->cookie_purpose[bit == STORE_VISIT_STATISTICS ? 0 : 1] =
		        plan[i].purpose->id;
	}
	return VAERN_OK;
}

/* In the writing transaction: the visitor's latest choice must have on
 * every cookie category pr needs. */
static enum vaern_err
cookie_check(struct vault *v, const struct controller *c,
             const struct prepared *pr, struct vaern_msg *msg)
{
	struct store_choice ch;
	char source[STORE_LABEL_MAX + 1];
	enum vaern_err err;

	if (pr->cookie_need == 0)
		return VAERN_OK;
	err = store_choice_latest(v->store, c->rowid, pr->visitor, &ch, source,
	                          msg);
	if (err == VAERN_E_NOTFOUND) {
		/* A visitor who never chose has both off. */
		memset(&ch, 0, sizeof(ch));
		err = VAERN_OK;
	}
	if (err != VAERN_OK)
		return err;
	if ((pr->cookie_need & STORE_VISIT_STATISTICS) && !ch.statistics)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "purpose '%s': the visitor's cookie choice "
		                  "does not allow statistics cookies; nothing "
		                  "is stored (AURA-COOKIE-1, AOPT-COOKIE-1)",
		                  pr->cookie_purpose[0]);
	if ((pr->cookie_need & STORE_VISIT_MARKETING) && !ch.marketing)
		return vaern_fail(
		        msg, VAERN_E_DENIED,
		        "purpose '%s': the visitor's cookie choice "
		        "does not allow marketing cookies; nothing is "
		        "stored (SHOP-MKT-2)",
		        pr->cookie_purpose[1]);
	return VAERN_OK;
}

enum vaern_err
vlt_cookie_allowed(struct vault *v, const struct controller *c,
                   const struct vault_fact_in *facts,
                   const struct fact_plan *plan, size_t n,
                   struct vaern_msg *msg)
{
	struct prepared pr;
	enum vaern_err err;

	memset(&pr, 0, sizeof(pr));
	if ((err = cookie_prepare(v, c, facts, plan, n, &pr, msg)) == VAERN_OK)
		err = cookie_check(v, c, &pr, msg);
	sodium_memzero(&pr, sizeof(pr));
	return err;
}

/* The id's clock: 1/16 s (a group commit's creates share 1 to 3 index
 * pages at 5,000 creates/s), in the VAULT_UID_CLOCK_BYTES first bytes. */
#define UID_CLOCK_HZ 16

/*
 * A new subject's id (issue 12 point 6): VAULT_UID_CLOCK_BYTES of coarse
 * clock, then VAULT_UID_RANDOM_BYTES random bytes (96 bits: the id stays
 * unguessable). Ids made close in time share their first bytes, so a
 * create appends to the subject_uid and keystore indexes instead of
 * dirtying a random page of each, which the log and the checkpoint then
 * write again (measured: 39% fewer bytes written per create).
 * The clock is shifted by an offset derived from the controller's
 * blind-index key: one id alone does not say when it was made; two ids
 * of one controller say which was made first and how far apart (to 1/16
 * s), and whoever knows when one was made can date the others (the
 * CEO's decision: docs/api.md "Subject ids").
 */
static void
subject_uid_new(struct vault *v, const struct controller *c,
                unsigned char uid[VAULT_UID_BYTES])
{
	static const char context[] = "vaern subject id clock";
	unsigned char offset[crypto_generichash_BYTES_MIN];
	struct timespec ts;
	uint32_t t;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	/* Apart from the blind indexes of the same key: another output
	 * length (BLAKE2b's parameters) and no identifier type 'v'. */
	crypto_generichash(offset, sizeof(offset),
	                   (const unsigned char *)context, sizeof(context) - 1,
	                   vlt_blind_key(v, c), KEY_BYTES);
	t = (uint32_t)((uint64_t)ts.tv_sec * UID_CLOCK_HZ +
	               (uint64_t)ts.tv_nsec / (1000000000 / UID_CLOCK_HZ));
	t += (uint32_t)offset[0] << 24 | (uint32_t)offset[1] << 16 |
	     (uint32_t)offset[2] << 8 | offset[3];
	sodium_memzero(offset, sizeof(offset));
	/* Big-endian: the store compares ids bytewise. */
	uid[0] = (unsigned char)(t >> 24);
	uid[1] = (unsigned char)(t >> 16);
	uid[2] = (unsigned char)(t >> 8);
	uid[3] = (unsigned char)t;
	vlt_random(v, uid + VAULT_UID_CLOCK_BYTES, VAULT_UID_RANDOM_BYTES);
}

/*
 * Checks one subject against the policy and seals it into *pr (cleared
 * with prepared_clear). Uses the random pool of v: one thread at a time.
 */
static enum vaern_err
subject_prepare(struct vault *v, struct controller *c,
                const struct vault_fact_in *facts, size_t nfacts,
                const struct vault_consent_in *consents, size_t nconsents,
                int64_t now, struct prepared *pr, struct vaern_msg *msg)
{
	enum vaern_err err;
	struct fact_plan *plan = NULL;
	unsigned char key[KEY_BYTES], ad[VLT_AD_MAX], *ct;
	size_t adlen, ctbytes = 0, nids = 0;

	memset(pr, 0, sizeof(*pr));
	if (nfacts == 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a subject needs at least one fact");
	if (nfacts > VAULT_FACTS_PER_ADD || nconsents > VAULT_FACTS_PER_ADD)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "at most %d facts and %d consents at once",
		                  VAULT_FACTS_PER_ADD, VAULT_FACTS_PER_ADD);
	if ((err = vlt_consents_check(c->policy, consents, nconsents, now,
	                              msg)))
		return err;
	if ((plan = malloc(nfacts * sizeof(*plan))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	err = vlt_facts_check(c->policy, facts, nfacts, consents, nconsents,
	                      NULL, 0, now, plan, msg);
	if (err != VAERN_OK)
		goto done;
	if ((err = cookie_prepare(v, c, facts, plan, nfacts, pr, msg)) !=
	    VAERN_OK)
		goto done;
	for (size_t i = 0; i < nfacts; i++)
		ctbytes += strlen(plan[i].value) + VLT_SEAL_OVERHEAD;
	pr->mem = malloc(nfacts * sizeof(*pr->facts) +
	                 nconsents * sizeof(*pr->consents) + ctbytes);
	if (pr->mem == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	pr->facts = pr->mem;
	pr->consents = (struct sealed_consent *)(pr->facts + nfacts);
	ct = (unsigned char *)(pr->consents + nconsents);

	/* The blind indexes, each identifier type and value once. */
	for (size_t i = 0; i < nfacts; i++) {
		unsigned char *e =
		        pr->s.blinds + nids * (1 + STORE_BLIND_BYTES);
		int dup = 0;

		if (plan[i].category->format != FORMAT_IDENTIFIER)
			continue;
		if (nids == STORE_IDS_PER_SUBJECT) {
			err = vaern_fail(msg, VAERN_E_LIMIT,
			                 "at most %d identifiers per subject",
			                 STORE_IDS_PER_SUBJECT);
			goto done;
		}
		e[0] = (unsigned char)plan[i].category->identifier;
		vlt_blind_index(vlt_blind_key(v, c),
		                plan[i].category->identifier,
		                plan[i].category->id, plan[i].value, e + 1);
		for (size_t k = 0; k < nids; k++)
			dup |= memcmp(pr->s.blinds +
			                      k * (1 + STORE_BLIND_BYTES),
			              e, 1 + STORE_BLIND_BYTES) == 0;
		if (!dup)
			pr->id_category[nids++] = plan[i].category->id;
	}
	pr->nids = nids;
	pr->s.blinds_len = nids * (1 + STORE_BLIND_BYTES);

	subject_uid_new(v, c, pr->s.uid);
	vlt_random(v, key, sizeof(key));
	pr->s.controller = c->rowid;
	pr->s.created_at = now;
	vlt_subject_key_wrap(v, &pr->s, key);
	memcpy(pr->key, key, KEY_BYTES);

	for (size_t i = 0; i < nfacts; i++) {
		struct sealed_fact *sf = &pr->facts[i];
		size_t len = strlen(plan[i].value);

		sf->category = plan[i].category->id;
		sf->purpose = plan[i].purpose->id;
		sf->source = plan[i].source;
		sf->collected_at = plan[i].collected_at;
		sf->provided = plan[i].provided;
		adlen = vlt_fact_ad(ad, pr->s.uid, (int64_t)i + 1,
		                    sf->category);
		vlt_seal(v, ct, (const unsigned char *)plan[i].value, len, ad,
		         adlen, key);
		sf->ct = ct;
		sf->ctlen = len + VLT_SEAL_OVERHEAD;
		ct += sf->ctlen;
	}
	pr->nfacts = nfacts;
	for (size_t i = 0; i < nconsents; i++) {
		struct sealed_consent *sc = &pr->consents[i];
		long pi = policy_purpose_index(c->policy, consents[i].purpose);
		const struct policy_purpose *pp = &c->policy->purposes[pi];

		sc->purpose = pp->id;
		sc->source = consents[i].source;
		sc->given_at = consents[i].given_at == INT64_MIN
		                       ? now
		                       : consents[i].given_at;
		sc->has_hash = pp->consent_text != NULL;
		sc->text = pp->consent_text;
		sc->has_token = v->unsub_tokens && pp->direct_marketing &&
		                (pp->basis & BASIS_A);
		if (sc->has_token)
			vlt_unsub_token_new(sc->token, sc->token_hash);
		if (sc->has_hash)
			/* GDPR-7: proof of the text the person agreed to. */
			crypto_hash_sha256(
			        sc->text_hash,
			        (const unsigned char *)pp->consent_text,
			        strlen(pp->consent_text));
	}
	pr->nconsents = nconsents;
done:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(plan, nfacts * sizeof(*plan));
	free(plan);
	if (err != VAERN_OK)
		prepared_clear(pr);
	return err;
}

/* Writes a prepared subject inside the open transaction. */
static enum vaern_err
subject_write(struct vault *v, struct controller *c, struct prepared *pr,
              struct vaern_msg *msg)
{
	enum vaern_err err;

	if ((err = cookie_check(v, c, pr, msg)) != VAERN_OK)
		return err;
	/* Sealed before the write lock: a rotation may have moved on. */
	if (pr->s.kek != keys_ring_newest(v->ring))
		vlt_subject_key_wrap(v, &pr->s, pr->key);
	if ((err = store_subject_insert(v->store, &pr->s, msg)) != VAERN_OK) {
		if (err == VAERN_E_EXISTS) /* a 2^-128 event, or a bug */
			err = vaern_fail(msg, VAERN_E_INTERNAL,
			                 "subject id collision");
		return err;
	}
	for (size_t k = 0; k < pr->nids; k++) {
		const unsigned char *e =
		        pr->s.blinds + k * (1 + STORE_BLIND_BYTES);

		err = store_identifier_insert(v->store, c->rowid, e[0], e + 1,
		                              pr->s.rowid, msg);
		if (err == VAERN_E_EXISTS)
			err = vaern_fail(msg, VAERN_E_EXISTS,
			                 "another subject of '%s' already has "
			                 "this %s (category '%s')",
			                 c->name,
			                 id_type_name((enum id_type)e[0]),
			                 pr->id_category[k]);
		if (err != VAERN_OK)
			return err;
	}
	/* Issue 14: up to STORE_FACT_ROWS_MAX facts a statement. */
	for (size_t i = 0; i < pr->nfacts;) {
		struct store_fact f[STORE_FACT_ROWS_MAX];
		char rule[STORE_FACT_ROWS_MAX][VAULT_RULE_MAX + 1];
		size_t n = 0;

		for (; n < STORE_FACT_ROWS_MAX && i < pr->nfacts; n++, i++) {
			struct sealed_fact *sf = &pr->facts[i];

			f[n].subject = pr->s.rowid;
			f[n].id = (int64_t)i + 1;
			f[n].category = sf->category;
			f[n].purpose = sf->purpose;
			f[n].source = sf->source;
			f[n].collected_at = sf->collected_at;
			f[n].provided_by_subject = sf->provided;
			if ((err = vlt_fact_expiry(c, sf->category,
			                           sf->collected_at,
			                           &f[n].expires_at, rule[n],
			                           msg)) != VAERN_OK)
				return err;
			f[n].rule = rule[n][0] ? rule[n] : NULL;
			f[n].ct = sf->ct;
			f[n].ctlen = sf->ctlen;
		}
		if ((err = store_facts_insert(v->store, f, n, msg)) != VAERN_OK)
			return err;
	}
	for (size_t i = 0; i < pr->nconsents; i++) {
		struct sealed_consent *sc = &pr->consents[i];
		struct store_consent rec;

		rec.subject = pr->s.rowid;
		rec.purpose = sc->purpose;
		rec.given_at = sc->given_at;
		rec.withdrawn_at = STORE_NO_TIME;
		rec.source = sc->source;
		rec.text_hash = sc->has_hash ? sc->text_hash : NULL;
		/* GDPR-7: the text itself, once, so the hash proves it. */
		if (sc->has_hash &&
		    (err = store_consent_text_put(v->store, sc->text_hash,
		                                  sc->text, msg)) != VAERN_OK)
			return err;
		if ((err = store_consent_insert(v->store, &rec, msg)) !=
		    VAERN_OK)
			return err;
		if (sc->has_token &&
		    (err = store_unsubscribe_put(v->store, sc->token_hash,
		                                 pr->s.rowid, sc->purpose,
		                                 msg)) != VAERN_OK)
			return err;
		/* SHOP-MKT-1: a consent given at sign-up records its event
		 * (a subscription) as any other consent does. */
		if ((err = vlt_consent_events(v, c, pr->s.rowid,
		                              (size_t)policy_purpose_index(
		                                      c->policy, sc->purpose),
		                              0, sc->given_at, msg)) !=
		    VAERN_OK)
			return err;
	}
	return VAERN_OK;
}

enum vaern_err
vault_subject_add(struct vault *v, const char *controller,
                  const struct vault_fact_in *facts, size_t nfacts,
                  const struct vault_consent_in *consents, size_t nconsents,
                  unsigned char uid[VAULT_UID_BYTES], struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct prepared pr;

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if ((err = subject_prepare(v, c, facts, nfacts, consents, nconsents,
	                           clock_now(), &pr, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_begin(v, msg)) == VAERN_OK) {
		err = subject_write(v, c, &pr, msg);
		err = vlt_end(v, err, msg);
	}
	if (err == VAERN_OK)
		memcpy(uid, pr.s.uid, VAULT_UID_BYTES);
	prepared_clear(&pr);
	return err;
}

struct vault_prepared {
	struct prepared pr;
	char controller[POLICY_NAME_MAX + 1];
	struct vlt_policy *policy; /* a reference to the policy pr was
	                              checked under and points into */
};

enum vaern_err
vault_subject_prepare(struct vault *v, const char *controller,
                      const struct vault_fact_in *facts, size_t nfacts,
                      const struct vault_consent_in *consents, size_t nconsents,
                      struct vault_prepared **out, struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	struct vault_prepared *p;

	*out = NULL;
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	(void)snprintf(p->controller, sizeof(p->controller), "%s", c->name);
	err = subject_prepare(v, c, facts, nfacts, consents, nconsents,
	                      clock_now(), &p->pr, msg);
	if (err != VAERN_OK) {
		free(p);
		return err;
	}
	p->policy = vlt_policy_hold(c->ref);
	*out = p;
	return VAERN_OK;
}

enum vaern_err
vault_subject_write(struct vault *v, struct vault_prepared *p,
                    unsigned char uid[VAULT_UID_BYTES], struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;

	v->write_busy = 0;
	if (!v->batch)
		return vaern_fail(msg, VAERN_E_INTERNAL,
		                  "vault_subject_write outside a batch");
	if ((err = vlt_controller(v, p->controller, &c, msg)) != VAERN_OK)
		return err;
	if ((err = store_savepoint(v->store, msg)) != VAERN_OK)
		return err;
	/* On PostgreSQL the release answers for the create's queued
	 * inserts (db_pg.c's pipeline): a failure there is this create's,
	 * and is rolled back alone. */
	if ((err = subject_write(v, c, &p->pr, msg)) != VAERN_OK ||
	    (err = store_savepoint_release(v->store, msg)) != VAERN_OK) {
		/* Before the rollback, which clears the failure's kind. */
		v->write_busy = store_busy(v->store);
		store_savepoint_rollback(v->store);
		return err;
	}
	memcpy(uid, p->pr.s.uid, VAULT_UID_BYTES);
	return VAERN_OK;
}

int
vault_subject_write_busy(const struct vault *v)
{
	return v->write_busy;
}

const char *
vault_prepared_unsubscribe(const struct vault_prepared *p, size_t i,
                           const char **purpose)
{
	const struct sealed_consent *sc;

	*purpose = NULL;
	if (i >= p->pr.nconsents)
		return NULL;
	sc = &p->pr.consents[i];
	*purpose = sc->purpose;
	return sc->has_token ? sc->token : NULL;
}

void
vault_prepared_free(struct vault_prepared *p)
{
	if (p == NULL)
		return;
	prepared_clear(&p->pr);
	vlt_policy_release(p->policy);
	free(p);
}

const char *
vault_prepared_policy_version(const struct vault_prepared *p)
{
	return p->policy->version;
}

/*
 * Bulk ingest. Checking and sealing (validation, BLAKE2b, XChaCha20) run on
 * a second thread, one chunk ahead of the writer, so the two cores share
 * the work: the writer's B-tree inserts are the floor (DESIGN.md).
 */
#define CHUNK 256

struct chunk {
	struct prepared pr[CHUNK];
	size_t n;  /* prepared records in pr */
	int ready; /* 1: filled by the sealer, not yet written */
};

struct pipeline {
	struct vault *v;
	struct controller *c;
	const struct vault_subject_in *in;
	size_t nin;
	int64_t now;
	struct chunk chunks[2];
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int stop;             /* the writer failed: the sealer stops */
	enum vaern_err err;   /* the sealer's failure */
	size_t failed_at;     /* its subject index */
	struct vaern_msg msg; /* its message */
};

static void *
sealer_main(void *arg)
{
	struct pipeline *p = arg;

	for (size_t base = 0, k = 0; base < p->nin; base += CHUNK, k++) {
		struct chunk *ch = &p->chunks[k % 2];
		size_t n = p->nin - base < CHUNK ? p->nin - base : CHUNK;
		enum vaern_err err = VAERN_OK;
		size_t i;

		pthread_mutex_lock(&p->lock);
		while (ch->ready && !p->stop)
			pthread_cond_wait(&p->changed, &p->lock);
		pthread_mutex_unlock(&p->lock);
		if (p->stop)
			break;
		for (i = 0; i < n; i++) {
			const struct vault_subject_in *s = &p->in[base + i];

			err = subject_prepare(p->v, p->c, s->facts, s->nfacts,
			                      s->consents, s->nconsents, p->now,
			                      &ch->pr[i], &p->msg);
			if (err != VAERN_OK)
				break;
		}
		pthread_mutex_lock(&p->lock);
		ch->n = i;
		ch->ready = 1;
		if (err != VAERN_OK) {
			p->err = err;
			p->failed_at = base + i;
		}
		pthread_cond_broadcast(&p->changed);
		pthread_mutex_unlock(&p->lock);
		if (err != VAERN_OK)
			break;
	}
	return NULL;
}

enum vaern_err
vault_subject_add_many(struct vault *v, const char *controller,
                       const struct vault_subject_in *subjects, size_t n,
                       unsigned char (*uids)[VAULT_UID_BYTES],
                       size_t *failed_at, struct vaern_msg *msg)
{
	struct pipeline p;
	struct controller *c;
	enum vaern_err err;
	pthread_t sealer;
	size_t written = 0;
	int began = 0, started = 0;

	memset(&p, 0, sizeof(p));
	if (failed_at != NULL)
		*failed_at = 0;
	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if (n == 0)
		return VAERN_OK;
	p.v = v;
	p.c = c;
	p.in = subjects;
	p.nin = n;
	p.now = clock_now();
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.changed, NULL);
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		goto done;
	began = 1;
	if (pthread_create(&sealer, NULL, sealer_main, &p) != 0) {
		err = vaern_fail(msg, VAERN_E_INTERNAL,
		                 "cannot start the sealing thread");
		goto done;
	}
	started = 1;
	for (size_t k = 0; written < n; k++) {
		struct chunk *ch = &p.chunks[k % 2];

		pthread_mutex_lock(&p.lock);
		while (!ch->ready)
			pthread_cond_wait(&p.changed, &p.lock);
		pthread_mutex_unlock(&p.lock);
		for (size_t i = 0; i < ch->n && err == VAERN_OK; i++) {
			err = subject_write(v, c, &ch->pr[i], msg);
			if (err != VAERN_OK && failed_at != NULL)
				*failed_at = written + i;
			if (err == VAERN_OK && uids != NULL)
				memcpy(uids[written + i], ch->pr[i].s.uid,
				       VAULT_UID_BYTES);
		}
		for (size_t i = 0; i < ch->n; i++)
			prepared_clear(&ch->pr[i]);
		written += ch->n;
		pthread_mutex_lock(&p.lock);
		ch->ready = 0;
		ch->n = 0;
		if (err != VAERN_OK)
			p.stop = 1;
		pthread_cond_broadcast(&p.changed);
		pthread_mutex_unlock(&p.lock);
		if (err != VAERN_OK)
			break;
		if (p.err != VAERN_OK && written == p.failed_at) {
			err = p.err;
			if (failed_at != NULL)
				*failed_at = p.failed_at;
			if (msg != NULL)
				(void)vaern_fail(msg, err, "subject %zu: %s",
				                 p.failed_at + 1, p.msg.text);
			break;
		}
	}
done:
	if (started) {
		pthread_join(sealer, NULL);
		for (int k = 0; k < 2; k++) {
			for (size_t i = 0; i < p.chunks[k].n; i++)
				prepared_clear(&p.chunks[k].pr[i]);
		}
	}
	if (began)
		err = vlt_end(v, err, msg);
	pthread_cond_destroy(&p.changed);
	pthread_mutex_destroy(&p.lock);
	return err;
}
