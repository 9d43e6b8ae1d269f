/*
 * vault_notify.c -- the person is told where their request stands
 * (GDPR-12, issue 10): registering a request, extending its deadline,
 * completing and refusing it each send a message through the outbox
 * (the spool, or SMTP), in the controller's language, naming the due
 * date and the reason. Each send is audited, never with the address.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../rights/rights.h"
#include "vault_internal.h"

#define NOTIFY_BODY_MAX 2048 /* bytes of one message body */
#define NOTIFY_WHY_MAX  240  /* bytes of its audit reason */

enum notice { N_RECEIVED, N_EXTENDED, N_COMPLETED, N_REFUSED, N_COUNT };

struct lang_text {
	const char *title[N_COUNT];
	const char *body[N_COUNT]; /* with {type}, {received}, {due},
	                              {reason} */
	const char *type[RIGHTS_TYPE_COUNT_];
	const char *no_reason;
	const char *complain; /* before the authority's name */
};

/* Each body names the request's type, the day it was received, the
 * deadline in force and the reason by placeholders (expand()). */
static const struct lang_text texts[3] = {
        /* English */
        {{"We have received your request", "Your request: more time",
          "Your request has been completed", "Your request has been refused"},
         {"We received your {type} request on {received}. We will answer by "
          "{due} at the "
          "latest (GDPR Art. 12(3)).{reason}",
          "We need more time for your {type} request received on {received}. "
          "The new "
          "deadline is {due} (GDPR Art. 12(3)). Reason: {reason}",
          "Your {type} request received on {received} has been completed "
          "(deadline {due}). "
          "{reason}",
          "Your {type} request received on {received} has been refused "
          "(deadline {due}). "
          "Reason: {reason}"},
         {"access", "data portability", "rectification", "erasure",
          "restriction", "objection", "consent withdrawal"},
         "",
         " You may complain to the supervisory authority: "},
        /* Danish */
        {{"Vi har modtaget din anmodning", "Din anmodning: længere frist",
          "Din anmodning er gennemført", "Din anmodning er afvist"},
         {"Vi modtog din anmodning om {type} den {received}. Vi svarer senest "
          "{due} "
          "(databeskyttelsesforordningen art. 12, stk. 3).{reason}",
          "Vi har brug for mere tid til din anmodning om {type} modtaget den "
          "{received}. "
          "Den nye frist er {due} (databeskyttelsesforordningen art. 12, "
          "stk. 3). Begrundelse: {reason}",
          "Din anmodning om {type} modtaget den {received} er gennemført "
          "(frist {due}). {reason}",
          "Din anmodning om {type} modtaget den {received} er afvist (frist "
          "{due}). "
          "Begrundelse: {reason}"},
         {"indsigt", "dataportabilitet", "berigtigelse", "sletning",
          "begrænsning", "indsigelse", "tilbagetrækning af samtykke"},
         "",
         " Du kan klage til tilsynsmyndigheden: "},
        /* Swedish */
        {{"Vi har tagit emot din begäran", "Din begäran: längre tid",
          "Din begäran är genomförd", "Din begäran har avslagits"},
         {"Vi tog emot din begäran om {type} den {received}. Vi svarar senast "
          "{due} "
          "(dataskyddsförordningen artikel 12.3).{reason}",
          "Vi behöver mer tid för din begäran om {type} som togs emot den "
          "{received}. "
          "Den nya tidsfristen är {due} (dataskyddsförordningen artikel 12.3). "
          "Skäl: {reason}",
          "Din begäran om {type} som togs emot den {received} är genomförd "
          "(tidsfrist "
          "{due}). {reason}",
          "Din begäran om {type} som togs emot den {received} har avslagits "
          "(tidsfrist "
          "{due}). Skäl: {reason}"},
         {"tillgång", "dataportabilitet", "rättelse", "radering", "begränsning",
          "invändning", "återkallelse av samtycke"},
         "",
         " Du kan klaga hos tillsynsmyndigheten: "},
};

static int
lang_index(const char *lang)
{
	if (strcmp(lang, "da") == 0)
		return 1;
	if (strcmp(lang, "sv") == 0)
		return 2;
	return 0;
}

/* Writes template into out with its placeholders replaced by values[]. */
static void
expand(const char *template, const char *const values[4], char *out,
       size_t size)
{
	static const char *const names[4] = {"{type}", "{received}", "{due}",
	                                     "{reason}"};
	size_t used = 0;

	for (const char *q = template; *q != '\0' && used + 1 < size;) {
		const char *v = NULL;
		size_t nl = 0, vl;

		for (int k = 0; k < 4 && v == NULL; k++) {
			nl = strlen(names[k]);
			if (strncmp(q, names[k], nl) == 0)
				v = values[k];
		}
		if (v == NULL) {
			out[used++] = *q++;
			continue;
		}
		vl = strlen(v);
		if (vl > size - used - 1)
			vl = size - used - 1;
		memcpy(out + used, v, vl);
		used += vl;
		q += nl;
	}
	out[used] = '\0';
}

static int
notice_of(const char *status, enum notice *n)
{
	static const char *const names[N_COUNT] = {"received", "extended",
	                                           "completed", "refused"};

	for (int i = 0; i < N_COUNT; i++) {
		if (strcmp(names[i], status) == 0) {
			*n = (enum notice)i;
			return 1;
		}
	}
	return 0;
}

void
vlt_contact_wipe(struct vlt_contact *ct)
{
	sodium_memzero(ct, sizeof(*ct));
}

static enum vaern_err
notify_audit(struct vault *v, const char *controller,
             const struct vault_request_actor *who, const unsigned char *uid,
             int sent, const char *why, struct vaern_msg *msg)
{
	struct vault_audit_event e;

	memset(&e, 0, sizeof(e));
	e.controller = controller;
	e.actor = who->name;
	e.role = who->role;
	e.purpose = "rights_request";
	e.action = sent ? "request_message_sent" : "request_message_not_sent";
	e.subject = uid;
	e.allowed = sent;
	e.rule = "GDPR-12";
	e.reason = why;
	return v->audit_fn(v->audit_arg, &e, msg);
}

enum vaern_err
vlt_request_notify(struct vault *v, const char *controller,
                   const struct controller *c, const struct store_request *s,
                   const struct vault_request_actor *who,
                   struct vlt_contact *known, struct vaern_msg *msg)
{
	const struct policy_controller *pc = &c->policy->controller;
	const struct lang_text *t = &texts[lang_index(pc->language)];
	struct vlt_contact own;
	struct vlt_contact *ct = known;
	struct vault_message m;
	struct vaern_msg sm = {{0}};
	enum rights_type type;
	enum notice n;
	enum vaern_err err;
	char body[NOTIFY_BODY_MAX], why[NOTIFY_WHY_MAX], received[11], due[11];
	char reason[NOTIFY_BODY_MAX];
	const char *kind;
	int sent = 0;

	if (!notice_of(s->status, &n))
		return VAERN_OK;
	if (ct == NULL || !ct->found) {
		struct vaern_msg cm = {{0}};

		/* Read through the gate, audited; a subject gone (erased)
		 * has no address, and then nothing is sent. */
		if (vlt_request_contact(v, c, s->id, s->subject, who, &own,
		                        &cm) != VAERN_OK)
			memset(&own, 0, sizeof(own));
		ct = &own;
	}
	kind = rights_type_parse(s->type, &type, NULL) == VAERN_OK
	               ? t->type[type]
	               : s->type;
	cal_format_date(cal_day_of(s->received_at), received);
	cal_format_date(s->due, due);
	/* The reason is what staff wrote for the person (GDPR-12). */
	reason[0] = '\0';
	if (n == N_EXTENDED)
		(void)snprintf(reason, sizeof(reason), "%s",
		               s->extension_reason);
	else if (n == N_COMPLETED || n == N_REFUSED)
		(void)snprintf(reason, sizeof(reason), "%s", s->status_reason);
	if (n == N_REFUSED && pc->authority_name != NULL) {
		size_t len = strlen(reason);

		(void)snprintf(reason + len, sizeof(reason) - len, ".%s%s",
		               t->complain, pc->authority_name);
	}
	{
		const char *values[4] = {kind, received, due,
		                         n == N_RECEIVED ? t->no_reason
		                                         : reason};

		expand(t->body[n], values, body, sizeof(body));
	}
	if (ct->found && v->outbox_fn != NULL) {
		m.controller = controller;
		m.request = s->id;
		m.contact_type = ct->type;
		m.to = ct->to;
		m.title = t->title[n];
		m.body = body;
		sent = v->outbox_fn(v->outbox_arg, &m, &sm) == VAERN_OK;
	}
	/* The address stays out of the trail; the type of contact does
	 * not identify the person. */
	if (sent)
		(void)snprintf(
		        why, sizeof(why),
		        "request %s (%s): %s; message sent by %s, due %s",
		        s->id, s->type, s->status, ct->type, due);
	else
		(void)snprintf(why, sizeof(why),
		               "request %s (%s): %s; no message sent: %s",
		               s->id, s->type, s->status,
		               !ct->found ? "no e-mail address or phone number "
		                            "on record"
		                          : "the outbox failed");
	sodium_memzero(body, sizeof(body));
	sodium_memzero(reason, sizeof(reason));
	if (ct == &own)
		vlt_contact_wipe(&own);
	err = notify_audit(v, controller, who, s->subject, sent, why, msg);
	return err;
}
