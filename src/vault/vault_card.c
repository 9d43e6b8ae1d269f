/*
 * vault_card.c -- the card-expiry warning (SHOP-PAY-1).
 *
 * The shop keeps no more of a card than its last 4 digits and expiry
 * ("NNNN MM/YY", format card_last4_expiry), and the date of the next
 * recurring payment (a date category). A purpose with
 * `card_expiry_warning: {card, next_payment, to}` asks vaern to e-mail the
 * customer when the card runs out before that payment: once per card and
 * payment (a keyed hash of the two marks it sent), in the controller's
 * language, through the outbox (spool or SMTP, as the one-time codes), and
 * audited without the address. Run by the scheduled sweep and by
 * `vaern card-warnings`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../calendar/calendar.h"
#include "../gate/gate.h"
#include "vault_internal.h"

#define WARN_CARDS     8  /* cards of one subject looked at */
#define WARN_VALUE_MAX 16 /* "NNNN MM/YY" and "YYYY-MM-DD", NUL-ended */
#define WARN_TO_MAX    320

/* What one subject holds for the warning, read from its sealed facts. */
struct card_facts {
	const struct policy *p;
	const struct policy_purpose *pp;
	char cards[WARN_CARDS][WARN_VALUE_MAX];
	size_t ncards;
	long payment; /* the next payment's day (days since the epoch) */
	int has_payment;
	long today;
	char to[WARN_TO_MAX];
};

static enum vaern_err
card_fact(void *arg, const struct vault_fact_out *f)
{
	struct card_facts *cf = arg;
	long ci = policy_category_index(cf->p, f->category), day;

	if (ci < 0)
		return VAERN_OK;
	if (ci == cf->pp->warn_card && cf->ncards < WARN_CARDS &&
	    f->len < WARN_VALUE_MAX) {
		memcpy(cf->cards[cf->ncards], f->value, f->len + 1);
		cf->ncards++;
	} else if (ci == cf->pp->warn_payment &&
	           cal_parse_date(f->value, &day, NULL) == VAERN_OK &&
	           day >= cf->today &&
	           (!cf->has_payment || day < cf->payment)) {
		/* The next payment: the earliest one not yet past. */
		cf->payment = day;
		cf->has_payment = 1;
	} else if (ci == cf->pp->warn_to && cf->to[0] == '\0' &&
	           f->len < sizeof(cf->to)) {
		memcpy(cf->to, f->value, f->len + 1);
	}
	return VAERN_OK;
}

/*
 * The first day after the card's last valid day: a card "MM/YY" is valid
 * through the last day of that month. -1 if the value is not "NNNN MM/YY".
 */
static long
card_end(const char *card, int *month, int *year)
{
	char first[16];
	long day;
	int m, y;

	if (strlen(card) != 10 || card[4] != ' ' || card[7] != '/')
		return -1;
	m = (card[5] - '0') * 10 + (card[6] - '0');
	y = 2000 + (card[8] - '0') * 10 + (card[9] - '0');
	if (m < 1 || m > 12)
		return -1;
	*month = m;
	*year = y;
	if (m == 12) {
		m = 0;
		y++;
	}
	(void)snprintf(first, sizeof(first), "%04d-%02d-01", y, m + 1);
	return cal_parse_date(first, &day, NULL) == VAERN_OK ? day : -1;
}

/* The message in the controller's language (da, sv, else en). */
static void
warning_text(const struct policy *p, const char *last4, int month, int year,
             const char *payment, char *title, size_t tn, char *body, size_t bn)
{
	const char *lang = p->controller.language;
	const char *name = p->controller.name;

	if (lang != NULL && strcmp(lang, "da") == 0) {
		(void)snprintf(title, tn,
		               "Dit betalingskort udløber før din "
		               "næste betaling");
		(void)snprintf(
		        body, bn,
		        "Kære kunde. Betalingskortet, der ender på %s, "
		        "udløber med udgangen af %02d/%04d, før din næste "
		        "betaling den %s. Opdater venligst dit kort hos %s "
		        "inden da.",
		        last4, month, year, payment, name);
	} else if (lang != NULL && strcmp(lang, "sv") == 0) {
		(void)snprintf(title, tn,
		               "Ditt betalkort går ut före nästa "
		               "betalning");
		(void)snprintf(
		        body, bn,
		        "Hej! Betalkortet som slutar på %s går ut i slutet "
		        "av %02d/%04d, före din nästa betalning den %s. "
		        "Uppdatera ditt kort hos %s före dess.",
		        last4, month, year, payment, name);
	} else {
		(void)snprintf(title, tn,
		               "Your payment card expires before "
		               "your next payment");
		(void)snprintf(
		        body, bn,
		        "Dear customer, the payment card ending in %s "
		        "expires at the end of %02d/%04d, before your next "
		        "payment on %s. Please update your card with %s "
		        "before then.",
		        last4, month, year, payment, name);
	}
}

/* The mark of one warning: a keyed hash of card and payment day. */
static void
warning_mark(struct vault *v, const struct controller *c, const char *card,
             long payment, unsigned char mark[STORE_BLIND_BYTES])
{
	static const char domain[] = "vaern card warning\n";
	crypto_generichash_state h;
	char day[16];

	(void)snprintf(day, sizeof(day), "\n%ld", payment);
	crypto_generichash_init(&h, vlt_blind_key(v, c), KEY_BYTES,
	                        STORE_BLIND_BYTES);
	crypto_generichash_update(&h, (const unsigned char *)domain,
	                          sizeof(domain) - 1);
	crypto_generichash_update(&h, (const unsigned char *)card,
	                          strlen(card));
	crypto_generichash_update(&h, (const unsigned char *)day, strlen(day));
	crypto_generichash_final(&h, mark, STORE_BLIND_BYTES);
	sodium_memzero(&h, sizeof(h));
}

/*
 * Records (sent 1) or unrecords (sent 0) the warning marked mark, with its
 * audit entry, in one transaction: never the address or the card.
 */
static enum vaern_err
warn_record(struct vault *v, const struct controller *c,
            const struct store_subject *s, const struct card_facts *cf,
            const unsigned char *mark, const char *actor, int sent,
            const char *why, struct vaern_msg *msg)
{
	struct vault_audit_event e;
	enum vaern_err err;

	if ((err = vlt_begin(v, msg)) != VAERN_OK)
		return err;
	err = sent ? store_card_warning_put(v->store, s->rowid, mark,
	                                    clock_now(), msg)
	           : store_card_warning_delete(v->store, s->rowid, mark, msg);
	if (err == VAERN_OK) {
		memset(&e, 0, sizeof(e));
		e.controller = c->name;
		e.actor = actor;
		e.role = "card_warning";
		e.purpose = cf->pp->id;
		e.action = "card_expiry_warning";
		e.subject = s->uid;
		e.categories = c->policy->categories[cf->pp->warn_card].id;
		e.allowed = sent;
		e.rule = "SHOP-PAY-1";
		e.reason = why;
		err = v->audit_fn(v->audit_arg, &e, msg);
	}
	return vlt_end(v, err, msg);
}

/* Sends (or, dry, counts) the warning for one card; records and audits. */
static enum vaern_err
warn_card(struct vault *v, struct controller *c, const struct store_subject *s,
          const struct card_facts *cf, const char *card, const char *actor,
          int dry_run, struct vault_card_report *rep, struct vaern_msg *msg)
{
	struct vault_message m;
	unsigned char mark[STORE_BLIND_BYTES];
	char title[128], body[512], payment[11];
	enum vaern_err err;
	int month, year, sent = 0;
	long end = card_end(card, &month, &year);

	if (end < 0 || cf->payment < end)
		return VAERN_OK; /* valid through the payment: no warning */
	warning_mark(v, c, card, cf->payment, mark);
	if ((err = store_card_warning_sent(v->store, s->rowid, mark, &sent,
	                                   msg)) != VAERN_OK)
		return err;
	if (sent) {
		rep->already_sent++;
		return VAERN_OK;
	}
	rep->due++;
	if (dry_run)
		return VAERN_OK;
	if (cf->to[0] == '\0') {
		rep->no_address++;
		return VAERN_OK;
	}
	cal_format_date(cf->payment, payment);
	/* The body names the last 4 digits only: cut the expiry off. */
	{
		char last4[5];

		memcpy(last4, card, 4);
		last4[4] = '\0';
		warning_text(c->policy, last4, month, year, payment, title,
		             sizeof(title), body, sizeof(body));
	}
	memset(&m, 0, sizeof(m));
	m.controller = c->name;
	m.request = "card-expiry";
	m.contact_type = "email";
	m.to = cf->to;
	m.title = title;
	m.body = body;
	/* Recorded and audited first, then sent (nothing leaves before its
	 * audit entry, GDPR-32); a message the outbox refuses is unrecorded
	 * again, with an entry saying so, and tried at the next run. */
	if ((err = warn_record(v, c, s, cf, mark, actor, 1,
	                       "card-expiry warning handed to the outbox "
	                       "(email): the card expires before the next "
	                       "payment",
	                       msg)) != VAERN_OK)
		goto done;
	if ((err = v->outbox_fn(v->outbox_arg, &m, msg)) != VAERN_OK) {
		struct vaern_msg why2 = {{0}};

		(void)warn_record(v, c, s, cf, mark, actor, 0,
		                  "card-expiry warning not sent: the outbox "
		                  "refused it",
		                  &why2);
		goto done;
	}
	rep->sent++;
done:
	sodium_memzero(body, sizeof(body));
	return err;
}

/*
 * How many cards of cf are due a warning not yet sent (*due), and how many
 * were warned for this payment already (*sent).
 */
static enum vaern_err
due_count(struct vault *v, const struct controller *c,
          const struct store_subject *s, const struct card_facts *cf,
          int64_t *due, int64_t *sent, struct vaern_msg *msg)
{
	unsigned char mark[STORE_BLIND_BYTES];
	enum vaern_err err;
	int month, year, was;

	*due = *sent = 0;
	for (size_t i = 0; i < cf->ncards; i++) {
		long end = card_end(cf->cards[i], &month, &year);

		if (end < 0 || cf->payment < end)
			continue;
		warning_mark(v, c, cf->cards[i], cf->payment, mark);
		if ((err = store_card_warning_sent(v->store, s->rowid, mark,
		                                   &was, msg)) != VAERN_OK)
			return err;
		if (was)
			(*sent)++;
		else
			(*due)++;
	}
	return VAERN_OK;
}

/*
 * The facts the warning needs, released by the gate to the local operator
 * for the purpose (audited before anything is decrypted for the message,
 * GDPR-32), into cf.
 */
static enum vaern_err
release_for_warning(struct vault *v, const struct controller *c,
                    const struct store_subject *s,
                    const struct policy_purpose *pp, const char *actor,
                    struct card_facts *cf, struct vaern_msg *msg)
{
	const struct policy *p = c->policy;
	size_t cats[3] = {(size_t)pp->warn_card, (size_t)pp->warn_payment,
	                  (size_t)pp->warn_to};
	size_t *released = calloc(p->ncategories + 1, sizeof(*released));
	unsigned char *untold = calloc(p->npurposes + 1, 1);
	struct gate_request r;
	struct gate_state gs;
	struct gate_decision d;
	struct gate_release rel;
	enum vaern_err err;

	if (released == NULL || untold == NULL) {
		free(released);
		free(untold);
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	}
	memset(&r, 0, sizeof(r));
	memset(&gs, 0, sizeof(gs));
	r.purpose = (size_t)(pp - p->purposes);
	/* CEK-PURP-5: a purpose new since the person was added waits for
	 * their notice like any other use: no warning under it until then
	 * (nothing read, cf stays without a payment). */
	if ((err = vlt_untold(v, c, s, NULL, untold, msg)) != VAERN_OK ||
	    untold[r.purpose])
		goto done;
	gs.untold = untold;
	r.role = GATE_ROLE_OPERATOR;
	r.action = GATE_READ;
	r.categories = cats;
	r.ncategories = 3;
	r.recipient = -1;
	err = vlt_gate(v, c, s->uid, s->uid, actor, "operator", &r, &gs, pp->id,
	               "read", "the card-expiry warning (SHOP-PAY-1)", &d,
	               released, &rel, msg);
	if (err == VAERN_OK)
		err = vlt_release_walk(v, s, &rel, card_fact, cf, NULL, msg);
done:
	free(released);
	free(untold);
	return err;
}

static enum vaern_err
warn_subject(struct vault *v, struct controller *c,
             const struct policy_purpose *pp, int64_t rowid, long today,
             const char *actor, int dry_run, struct vault_card_report *rep,
             struct vaern_msg *msg)
{
	struct store_subject s;
	struct fact_walk w;
	struct card_facts *cf;
	unsigned char key[KEY_BYTES];
	enum vaern_err err;
	int64_t due = 0, sent = 0;

	if ((err = store_subject_by_rowid(v->store, rowid, &s, msg)) !=
	    VAERN_OK)
		return err;
	/* GDPR-18: a restricted subject's data is not used for this. */
	if (s.state & STORE_STATE_RESTRICTED)
		return VAERN_OK;
	if ((cf = sodium_malloc(sizeof(*cf))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	memset(cf, 0, sizeof(*cf));
	cf->p = c->policy;
	cf->pp = pp;
	cf->today = today;
	/* Whether a warning is due is the vault's own upkeep: what is read
	 * here never leaves it. */
	if ((err = vlt_unwrap_key(v, &s, key, msg)) != VAERN_OK)
		goto done;
	memset(&w, 0, sizeof(w));
	w.v = v;
	w.s = &s;
	w.key = key;
	w.fn = card_fact;
	w.arg = cf;
	w.msg = msg;
	err = store_fact_foreach(v->store, s.rowid, vlt_fact_open_upkeep, &w,
	                         msg);
	sodium_memzero(key, sizeof(key));
	if (err != VAERN_OK || !cf->has_payment)
		goto done;
	rep->subjects++;
	if ((err = due_count(v, c, &s, cf, &due, &sent, msg)) != VAERN_OK)
		goto done;
	if (dry_run || due == 0) {
		rep->due += due;
		rep->already_sent += sent;
		goto done;
	}
	/* Due: what the message holds is released by the gate. */
	memset(cf, 0, sizeof(*cf));
	cf->p = c->policy;
	cf->pp = pp;
	cf->today = today;
	if ((err = release_for_warning(v, c, &s, pp, actor, cf, msg)) !=
	            VAERN_OK ||
	    !cf->has_payment)
		goto done;
	for (size_t i = 0; i < cf->ncards && err == VAERN_OK; i++)
		err = warn_card(v, c, &s, cf, cf->cards[i], actor, 0, rep, msg);
done:
	sodium_free(cf); /* wipes */
	return err;
}

enum vaern_err
vault_card_warnings(struct vault *v, const char *controller, int64_t as_of,
                    int dry_run, const char *actor,
                    struct vault_card_report *rep, struct vaern_msg *msg)
{
	struct vlt_names ns = {NULL, 0, 0};
	enum vaern_err err = VAERN_OK;
	long today = (long)(as_of >= 0 ? as_of / 86400
	                               : -((-as_of + 86399) / 86400));

	memset(rep, 0, sizeof(*rep));
	if (!dry_run && v->outbox_fn == NULL)
		return vaern_fail(msg, VAERN_E_IO, "no outbox is set");
	if (!dry_run && v->audit_fn == NULL)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "card-expiry warnings need the audit trail");
	if (controller != NULL)
		err = vlt_name_add(&ns, controller, 0);
	else
		err = store_controller_foreach(v->store, vlt_name_add, &ns,
		                               msg);
	if (err == VAERN_E_NOMEM)
		err = vaern_fail(msg, err, "out of memory");
	for (size_t k = 0; k < ns.n && err == VAERN_OK; k++) {
		struct controller *c;
		int64_t *ids = NULL;
		size_t n = 0;

		if ((err = vlt_controller(v, ns.name[k], &c, msg)) != VAERN_OK)
			break;
		for (size_t pi = 0;
		     pi < c->policy->npurposes && err == VAERN_OK; pi++) {
			const struct policy_purpose *pp =
			        &c->policy->purposes[pi];

			if (pp->warn_card < 0)
				continue;
			if (ids == NULL && (err = store_subject_rowids(
			                            v->store, c->rowid, &ids,
			                            &n, msg)) != VAERN_OK)
				break;
			for (size_t i = 0; i < n && err == VAERN_OK; i++)
				err = warn_subject(v, c, pp, ids[i], today,
				                   actor, dry_run, rep, msg);
		}
		free(ids);
	}
	free(ns.name);
	return err;
}
