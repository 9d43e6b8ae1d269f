/*
 * vault_notice.h -- told before a new purpose is used (CEK-PURP-5, issue
 * 15 point 4). When a loaded version adds a purpose, or widens one (new
 * categories, a new recipient, a new legal basis or Art. 9 condition),
 * the gate refuses to use the data of the people who were in the vault
 * before that version for it until each was told through the outbox and
 * the policy's notice_period (default 30 days) has run from that day: from
 * the first midnight (UTC) at or after the exact end, never earlier.
 * People added after the change were told by the notice in force when
 * they were added. Each person is told of a version once.
 *
 * The plan names people by subject id only; the audit entries of the
 * messages never carry the address.
 */
#ifndef VAERN_VAULT_NOTICE_H
#define VAERN_VAULT_NOTICE_H

#include <stdint.h>

#include "vault.h"

/* One version whose new or widened purposes are in force. */
struct vault_notice_change {
	const char *version;  /* the version's digest (hex) */
	int64_t since;        /* when it was loaded */
	const char *purposes; /* "purpose (what changed); ..." */
	int64_t to_tell;      /* filled after the people: still to tell */
	int64_t told;         /* told (before or in this run) */
	int64_t no_contact;   /* no e-mail address or phone on record */
};

/* One person who was in the vault before a change. */
struct vault_notice_person {
	const char *version;          /* the change's version */
	const unsigned char *subject; /* the person's id (VAULT_UID_BYTES) */
	const char *status;  /* "to_tell", "told", "sent" (in this run),
	                        "no_contact" */
	int64_t told_at;     /* when told, or 0 */
	int64_t usable_from; /* from when the changed purposes may use the
	                        person's data, or 0 while not told */
};

struct vault_notices_out {
	/* Called for each version with changes in force, after its
	 * people (the counts filled). */
	enum vaern_err (*change)(void *arg,
	                         const struct vault_notice_change *c);
	/* Called for each person of that version before it. */
	enum vaern_err (*person)(void *arg,
	                         const struct vault_notice_person *p);
	void *arg;
};

/*
 * The plan of controller's notices (vaern policy notices): for each
 * version with new or widened purposes still in force, who must be (or
 * was) told, and from when the purposes apply to them. With send, each
 * person not yet told is sent the notice of the change through the
 * outbox, in the controller's language, and the day recorded, audited
 * per person (action policy_change_notice, rule CEK-PURP-5, never the
 * address); one told before is never sent it again. Send needs the
 * outbox and the audit trail.
 */
enum vaern_err
vault_policy_notices(struct vault *v, const char *controller, int send,
                     const struct vault_request_actor *who,
                     const struct vault_notices_out *out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 4, 5)));

/* vault_policy_notices with send for controller (NULL: every one, the
 * server's scheduled sweep); *sent: the people told now. */
enum vaern_err vault_policy_notices_send(struct vault *v,
                                         const char *controller,
                                         const struct vault_request_actor *who,
                                         int64_t *sent, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));

#endif
