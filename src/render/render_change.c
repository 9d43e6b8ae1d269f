/*
 * render_change.c -- the message that tells a person of a new or widened
 * purpose before it is used for their data (CEK-PURP-5, issue 15 point
 * 4), in the words of templates/notice/{en,da,sv}.strings.
 */
#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "render_internal.h"

/* Appends s to out (size n, NUL-ended, used *len), truncating. */
static void
put(char *out, size_t n, size_t *len, const char *s)
{
	size_t k = strlen(s);

	if (*len + 1 >= n)
		return;
	if (k > n - 1 - *len)
		k = n - 1 - *len;
	memcpy(out + *len, s, k);
	*len += k;
	out[*len] = '\0';
}

void
render_change_notice(const struct policy *p, enum render_lang lang,
                     const size_t *purposes, size_t npurposes, long from_day,
                     char *title, size_t title_len, char *body, size_t body_len)
{
	const struct policy_controller *pc = &p->controller;
	const char *t = render_word(lang, R_change_body);
	char version[11], from[11], list[2048], contact[512];
	size_t len = 0;

	(void)snprintf(title, title_len, "%s",
	               render_word(lang, R_change_title));
	cal_format_date(pc->policy_version, version);
	cal_format_date(from_day, from);
	list[0] = '\0';
	for (size_t i = 0; i < npurposes; i++) {
		const struct policy_purpose *pp = &p->purposes[purposes[i]];

		put(list, sizeof(list), &len, i > 0 ? "; " : "");
		put(list, sizeof(list), &len,
		    pp->description != NULL ? pp->description : pp->id);
	}
	(void)snprintf(contact, sizeof(contact), "%s%s%s%s%s", pc->name,
	               pc->email != NULL ? ", " : "",
	               pc->email != NULL ? pc->email : "",
	               pc->phone != NULL ? ", " : "",
	               pc->phone != NULL ? pc->phone : "");
	/* {version}, {from}, {purposes}, {contact} in the template. */
	len = 0;
	body[0] = '\0';
	while (*t != '\0') {
		static const char *const names[] = {"{version}", "{from}",
		                                    "{purposes}", "{contact}"};
		const char *values[] = {version, from, list, contact};
		size_t k;

		for (k = 0; k < 4; k++)
			if (strncmp(t, names[k], strlen(names[k])) == 0)
				break;
		if (k < 4) {
			put(body, body_len, &len, values[k]);
			t += strlen(names[k]);
		} else {
			char one[2] = {*t++, '\0'};

			put(body, body_len, &len, one);
		}
	}
}
