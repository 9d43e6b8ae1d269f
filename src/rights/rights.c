/*
 * rights.c -- types, statuses, deadlines and transitions of rights
 * requests. See rights.h.
 */
#include "rights.h"

#include <string.h>

#include "../calendar/calendar.h"

static const char *const type_names[RIGHTS_TYPE_COUNT_] = {
        [RIGHTS_ACCESS] = "access",
        [RIGHTS_PORTABILITY] = "portability",
        [RIGHTS_RECTIFICATION] = "rectification",
        [RIGHTS_ERASURE] = "erasure",
        [RIGHTS_RESTRICTION] = "restriction",
        [RIGHTS_OBJECTION] = "objection",
        [RIGHTS_CONSENT_WITHDRAWAL] = "consent_withdrawal",
};

static const char *const status_names[RIGHTS_STATUS_COUNT_] = {
        [RIGHTS_RECEIVED] = "received",       [RIGHTS_VERIFIED] = "verified",
        [RIGHTS_IN_PROGRESS] = "in_progress", [RIGHTS_COMPLETED] = "completed",
        [RIGHTS_REFUSED] = "refused",         [RIGHTS_EXTENDED] = "extended",
        [RIGHTS_CANCELLED] = "cancelled",
};

const char *
rights_type_name(enum rights_type t)
{
	return (unsigned)t < RIGHTS_TYPE_COUNT_ ? type_names[t] : "?";
}

const char *
rights_status_name(enum rights_status s)
{
	return (unsigned)s < RIGHTS_STATUS_COUNT_ ? status_names[s] : "?";
}

enum vaern_err
rights_type_parse(const char *name, enum rights_type *t, struct vaern_msg *msg)
{
	for (int i = 0; i < RIGHTS_TYPE_COUNT_; i++) {
		if (strcmp(name, type_names[i]) == 0) {
			*t = (enum rights_type)i;
			return VAERN_OK;
		}
	}
	return vaern_fail(msg, VAERN_E_INVALID,
	                  "unknown request type '%.32s' (access, portability, "
	                  "rectification, erasure, restriction, objection, "
	                  "consent_withdrawal)",
	                  name);
}

enum vaern_err
rights_status_parse(const char *name, enum rights_status *s,
                    struct vaern_msg *msg)
{
	for (int i = 0; i < RIGHTS_STATUS_COUNT_; i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*s = (enum rights_status)i;
			return VAERN_OK;
		}
	}
	return vaern_fail(msg, VAERN_E_INVALID,
	                  "unknown request status '%.32s' (received, verified, "
	                  "in_progress, completed, refused, extended, "
	                  "cancelled)",
	                  name);
}

int
rights_status_final(enum rights_status s)
{
	return s == RIGHTS_COMPLETED || s == RIGHTS_REFUSED ||
	       s == RIGHTS_CANCELLED;
}

/* GDPR Art. 12(3): "within one month of receipt of the request". */
long
rights_due(long received)
{
	struct period p = {1, PERIOD_MONTHS};

	return cal_add_period(received, p);
}

/* "... extended by two further months where necessary": counted from the
 * receipt, so the month-end clamp of the first month does not shorten
 * the extension (31 Jan -> 30 Apr, not 28 Apr). */
long
rights_due_extended(long received, int months)
{
	struct period p = {1 + months, PERIOD_MONTHS};

	return cal_add_period(received, p);
}

enum vaern_err
rights_transition(enum rights_status from, enum rights_status to, int verified,
                  struct vaern_msg *msg)
{
	/* allowed[from] is a bit set of the statuses that may follow. */
#define B(s) (1u << (s))
	static const unsigned allowed[RIGHTS_STATUS_COUNT_] = {
	        [RIGHTS_RECEIVED] = B(RIGHTS_VERIFIED) | B(RIGHTS_EXTENDED) |
	                            B(RIGHTS_REFUSED) | B(RIGHTS_CANCELLED),
	        [RIGHTS_VERIFIED] = B(RIGHTS_IN_PROGRESS) |
	                            B(RIGHTS_COMPLETED) | B(RIGHTS_EXTENDED) |
	                            B(RIGHTS_REFUSED) | B(RIGHTS_CANCELLED),
	        [RIGHTS_IN_PROGRESS] = B(RIGHTS_COMPLETED) |
	                               B(RIGHTS_EXTENDED) | B(RIGHTS_REFUSED) |
	                               B(RIGHTS_CANCELLED),
	        [RIGHTS_EXTENDED] = B(RIGHTS_VERIFIED) | B(RIGHTS_IN_PROGRESS) |
	                            B(RIGHTS_COMPLETED) | B(RIGHTS_REFUSED) |
	                            B(RIGHTS_CANCELLED),
	};
#undef B
	if ((unsigned)from >= RIGHTS_STATUS_COUNT_ ||
	    (unsigned)to >= RIGHTS_STATUS_COUNT_)
		return vaern_fail(msg, VAERN_E_INVALID, "no such status");
	if (rights_status_final(from))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the request is %s: nothing may follow",
		                  status_names[from]);
	if (to == RIGHTS_VERIFIED && verified)
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "the requester's identity is already verified");
	if ((to == RIGHTS_IN_PROGRESS || to == RIGHTS_COMPLETED) && !verified)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a request may not go to %s before the "
		                  "requester's identity is verified "
		                  "(AOPT-ACCESS-1)",
		                  status_names[to]);
	if (!(allowed[from] & (1u << to)))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a request may not go from %s to %s",
		                  status_names[from], status_names[to]);
	return VAERN_OK;
}

enum vaern_err
rights_extension_check(enum rights_status status, int already_extended,
                       int months, long received, long today,
                       struct vaern_msg *msg)
{
	char due[11];

	if (rights_status_final(status))
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "the request is %s: its deadline can no longer "
		        "be extended",
		        status_names[status]);
	if (already_extended)
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "the deadline was already extended; it can be "
		        "extended once (GDPR-12)");
	if (months < 1 || months > RIGHTS_EXTENSION_MAX_MONTHS)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "an extension is 1 or %d months, not %d "
		                  "(GDPR-12)",
		                  RIGHTS_EXTENSION_MAX_MONTHS, months);
	if (today > rights_due(received)) {
		cal_format_date(rights_due(received), due);
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "the request was due on %s: an extension must "
		        "be told within the first month (GDPR-12)",
		        due);
	}
	return VAERN_OK;
}
