/*
 * vault_hold.c -- legal holds (issue 4; DESIGN.md "Retention"): placing
 * and lifting one, listing them, and whether a subject's category is held;
 * the sweep that honours them is in vault_retention.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../common/crash.h"
#include "../common/utf8.h"
#include "../retention/retention.h"
#include "vault_internal.h"

/* ---- holds -------------------------------------------------------------- */

/* The event of a change by actor in role (NULL: "retention", the sweep,
 * the local operator) into e. */
static void
change_event(struct vault_audit_event *e, const char *controller,
             const char *actor, const char *role, const char *action,
             const unsigned char *uid, const char *categories, const char *rule,
             const char *reason)
{
	memset(e, 0, sizeof(*e));
	e->controller = controller;
	e->actor = actor;
	e->role = role != NULL ? role : "retention";
	e->purpose = "retention";
	e->action = action;
	e->subject = uid;
	e->categories = categories;
	e->allowed = 1;
	e->rule = rule;
	e->reason = reason;
}

enum vaern_err
vault_hold_place(struct vault *v, const char *controller,
                 const unsigned char uid[VAULT_UID_BYTES], const char *category,
                 const char *reason, int64_t review_at, const char *placed_by,
                 const char *role, int64_t *id, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_subject s;
	struct store_hold h;
	struct vault_audit_event e;
	enum vaern_err err;
	unsigned char key[KEY_BYTES];
	char why[64], sealed[VLT_TEXT_SEALED_MAX];

	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	if (category != NULL && policy_category_index(c->policy, category) < 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the policy of '%s' has no category '%.64s'",
		                  controller, category);
	if (!utf8_line_ok(reason, VAULT_HOLD_REASON_MAX))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a hold's reason is 1 to %d bytes of UTF-8 "
		                  "text without control characters",
		                  VAULT_HOLD_REASON_MAX);
	if ((err = id_refuse_card(reason, "a hold's reason", msg)) != VAERN_OK)
		return err;
	if (review_at != INT64_MIN && review_at <= clock_now())
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a hold's review date must be in the future");
	/* The operator's words about the person: sealed under the person's
	 * key, so they go with the erasure (issue 11, point 5). */
	if ((err = vlt_unwrap_key(v, &s, key, msg)) != VAERN_OK)
		return err;
	err = vlt_text_seal(v, &s, key, "hold reason", reason, sealed,
	                    sizeof(sealed), msg);
	sodium_memzero(key, sizeof(key));
	if (err != VAERN_OK)
		return err;
	h.subject = s.rowid;
	h.category = category;
	h.reason = sealed;
	h.review_at = review_at == INT64_MIN ? STORE_NO_TIME : review_at;
	h.placed_at = clock_now();
	h.placed_by = placed_by;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_hold_insert(v->store, &h, msg);
	/* The reason is the operator's words: not in the trail. */
	(void)snprintf(why, sizeof(why), "hold %lld placed", (long long)h.id);
	change_event(&e, controller, placed_by, role, "hold_place", uid,
	             category, "CEK-HOLD-1", why);
	if ((err = vlt_change_end(v, err, &e, msg)) == VAERN_OK)
		*id = h.id;
	return err;
}

enum vaern_err
vault_hold_lift(struct vault *v, const char *controller,
                const unsigned char uid[VAULT_UID_BYTES], int64_t id,
                const char *lifted_by, const char *role, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_subject s;
	enum vaern_err err;
	struct vault_audit_event e;
	char why[64];

	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = store_hold_lift(v->store, s.rowid, id, clock_now(), msg);
	(void)snprintf(why, sizeof(why), "hold %lld lifted", (long long)id);
	change_event(&e, controller, lifted_by, role, "hold_lift", uid, NULL,
	             "CEK-HOLD-1", why);
	return vlt_change_end(v, err, &e, msg);
}

struct hold_walk {
	enum vaern_err (*fn)(void *arg, const struct vault_hold *h);
	void *arg;
	const char *category; /* vault_subject_held: NULL any */
	int held;
	const struct store_subject *s; /* with fn: opens the reasons */
	const unsigned char *key;
	struct vaern_msg *msg;
};

static enum vaern_err
hold_out(void *arg, const struct store_hold *h)
{
	struct hold_walk *w = arg;
	struct vault_hold o;

	if (w->fn == NULL) {
		if (h->lifted_at == STORE_NO_TIME &&
		    (h->category == NULL || w->category == NULL ||
		     strcmp(h->category, w->category) == 0))
			w->held = 1;
		return VAERN_OK;
	}
	{
		char reason[VAULT_HOLD_REASON_MAX + 1];
		enum vaern_err err;

		err = vlt_text_open(w->s, w->key, "hold reason", h->reason,
		                    reason, sizeof(reason), w->msg);
		if (err != VAERN_OK)
			return err;
		o.id = h->id;
		o.category = h->category;
		o.reason = reason;
		o.review_at = h->review_at == STORE_NO_TIME ? INT64_MIN
		                                            : h->review_at;
		o.placed_at = h->placed_at;
		o.placed_by = h->placed_by;
		o.lifted_at = h->lifted_at == STORE_NO_TIME ? INT64_MIN
		                                            : h->lifted_at;
		err = w->fn(w->arg, &o);
		sodium_memzero(reason, sizeof(reason));
		return err;
	}
}

enum vaern_err
vault_hold_foreach(struct vault *v, const char *controller,
                   const unsigned char uid[VAULT_UID_BYTES],
                   enum vaern_err (*fn)(void *arg, const struct vault_hold *h),
                   void *arg, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_subject s;
	struct hold_walk w = {fn, arg, NULL, 0, NULL, NULL, msg};
	unsigned char key[KEY_BYTES];
	enum vaern_err err;

	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	if ((err = vlt_unwrap_key(v, &s, key, msg)) != VAERN_OK)
		return err;
	w.s = &s;
	w.key = key;
	err = store_hold_foreach(v->store, s.rowid, hold_out, &w, msg);
	sodium_memzero(key, sizeof(key));
	return err;
}

enum vaern_err
vlt_subject_held(struct vault *v, int64_t subject, const char *category,
                 int *held, struct vaern_msg *msg)
{
	struct hold_walk w = {NULL, NULL, category, 0, NULL, NULL, msg};
	enum vaern_err err;

	err = store_hold_foreach(v->store, subject, hold_out, &w, msg);
	*held = w.held;
	return err;
}

enum vaern_err
vault_subject_held(struct vault *v, const char *controller,
                   const unsigned char uid[VAULT_UID_BYTES],
                   const char *category, int *held, struct vaern_msg *msg)
{
	struct controller *c;
	struct store_subject s;
	enum vaern_err err;

	*held = 0;
	if ((err = vlt_subject(v, controller, uid, &c, &s, msg)) != VAERN_OK)
		return err;
	return vlt_subject_held(v, s.rowid, category, held, msg);
}
