/*
 * policy_roles.c -- who may act and how requests arrive: `roles:`,
 * `rights:` and `request_channels:`.
 */
#include <errno.h>
#include <fcntl.h>
#include <libfyaml.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "policy_internal.h"

#include "../common/utf8.h"

static const char *const role_keys[] = {"description", "purposes",  "cleared",
                                        "audit",       "incidents", NULL};

/* In the order of enum rights_bit. */
static const char *const right_names[] = {
        "access",      "rectification", "erasure", "restriction",
        "portability", "objection",     NULL};

/* The bits of policy.request_channels, in POLICY_CHANNELS_TEXT order. */
static const char *const channel_names[] = {"email", "letter",  "phone",
                                            "web",   "portal",  "in_person",
                                            "api",   "opendsr", NULL};

static void
compile_role(struct loader *ld, const struct ynode *k, const struct ynode *v,
             struct policy_role *role)
{
	const struct ynode *pv;
	struct ref *refs;
	char ctx[CTX_MAX], nb[SHOW_BUF], pb[SHOW_BUF];
	size_t nrefs, i;

	snprintf(ctx, sizeof(ctx), "role '%s'", policy_show(nb, k->text));
	if (v->bad)
		return;
	if (v->kind != Y_MAP) {
		policy_diag(ld, v, "%s must be a mapping", ctx);
		return;
	}
	policy_check_keys(ld, v, role_keys, ctx);
	role->description = policy_get_text(ld, v, "description", k, ctx, 0);
	role->cleared = policy_get_bool(ld, v, "cleared", ctx);
	role->audit = policy_get_bool(ld, v, "audit", ctx);
	role->incidents = policy_get_bool(ld, v, "incidents", ctx);
	/* An empty list is a role that may use nothing, but the key is
	 * required so that no role is left open by omission. */
	pv = policy_map_get(v, "purposes", NULL);
	if (pv == NULL || policy_is_null(pv))
		policy_diag(ld, pv != NULL ? pv : k, "%s has no purposes", ctx);
	refs = policy_take_refs(ld, v, "purposes", k, ctx, "purpose",
	                        &ld->purposes, 0, &role->purposes,
	                        &role->npurposes, &nrefs);
	/* TEL-LOG-2: only security-cleared staff read logging data. */
	for (i = 0; i < nrefs && !role->cleared; i++) {
		const struct policy_purpose *pp = &ld->p->purposes[refs[i].idx];

		if (pp->requires_clearance)
			policy_diag(
			        ld, refs[i].at,
			        "role '%s' lists purpose '%s' which requires "
			        "clearance, but the role is not cleared "
			        "(TEL-LOG-2)",
			        policy_show(nb, k->text),
			        policy_show(pb, pp->id));
	}
	free(refs);
}

void
policy_compile_roles(struct loader *ld, const struct ynode *root)
{
	struct policy *p = ld->p;
	const struct ynode *sec =
	        NAME_ENTRIES(ld, root, "roles", 1, "role", struct policy_role,
	                     p->roles, p->nroles);

	if (sec == NULL)
		return;
	for (size_t i = 0; i + 1 < sec->n; i += 2)
		compile_role(ld, sec->items[i], sec->items[i + 1],
		             &p->roles[i / 2]);
}

void
policy_compile_rights(struct loader *ld, const struct ynode *root)
{
	const struct ynode *v = policy_map_get(root, "rights", NULL);
	const struct ynode *const *items;
	size_t n, i;

	/* AURA-RIGHTS-1, SHOP-RIGHTS-1: all six unless the policy says. */
	ld->p->rights = RIGHT_ACCESS | RIGHT_RECTIFICATION | RIGHT_ERASURE |
	                RIGHT_RESTRICTION | RIGHT_PORTABILITY | RIGHT_OBJECTION;
	if (v == NULL || policy_is_null(v))
		return;
	ld->p->rights = 0;
	n = policy_list_items(ld, v, "the policy", "rights", NULL, &items);
	if (v->kind == Y_SEQ && n == 0)
		policy_diag(ld, v, "rights must not be empty");
	for (i = 0; i < n; i++) {
		const struct ynode *it = items[i];
		char nb[SHOW_BUF];
		int r;

		if (it->bad)
			continue;
		r = it->kind == Y_SCALAR
		            ? policy_word_index(right_names, it->text)
		            : -1;
		if (r < 0)
			policy_diag(ld, it,
			            "unknown right '%s' (one of: access, "
			            "rectification, erasure, restriction, "
			            "portability, objection)",
			            it->kind == Y_SCALAR
			                    ? policy_show(nb, it->text)
			                    : "...");
		else
			ld->p->rights |= 1u << r;
	}
}

/*
 * request_channels: {access: [email, letter, web, portal], ...}: the
 * channels a request of each type may arrive by (AOPT-ACCESS-1: an access
 * request must be written). A type left out accepts any channel.
 */
void
policy_compile_request_channels(struct loader *ld, const struct ynode *root)
{
	const struct ynode *sec =
	        policy_get_section(ld, root, "request_channels", 0);
	char nb[SHOW_BUF];

	memset(ld->p->request_channels, 0, sizeof(ld->p->request_channels));
	if (sec == NULL)
		return;
	for (size_t i = 0; i + 1 < sec->n; i += 2) {
		const struct ynode *k = sec->items[i], *v = sec->items[i + 1];
		const struct ynode *one = NULL;
		const struct ynode *const *items;
		int t = k->bad ? -1
		               : policy_word_index(policy_request_type_names,
		                                   k->text);
		size_t n;

		if (k->bad)
			continue;
		if (t < 0) {
			policy_diag(
			        ld, k,
			        "request_channels: unknown request type '%s' "
			        "(one "
			        "of: access, portability, rectification, "
			        "erasure, "
			        "restriction, objection, consent_withdrawal)",
			        policy_show(nb, k->text));
			continue;
		}
		n = policy_list_items(ld, v, "request_channels", k->text, &one,
		                      &items);
		if (v->kind == Y_SEQ && n == 0)
			policy_diag(ld, v,
			            "request_channels: %s accepts no channel "
			            "at all; "
			            "leave it out to accept any",
			            k->text);
		for (size_t j = 0; j < n; j++) {
			const struct ynode *it = items[j];
			int c = it->kind == Y_SCALAR && !it->bad
			                ? policy_word_index(channel_names,
			                                    it->text)
			                : -1;

			if (it->bad)
				continue;
			if (c < 0)
				policy_diag(
				        ld, it,
				        "request_channels: %s: unknown channel "
				        "'%s' (one of: " POLICY_CHANNELS_TEXT
				        ")",
				        k->text,
				        it->kind == Y_SCALAR
				                ? policy_show(nb, it->text)
				                : "...");
			else
				ld->p->request_channels[t] |= 1u << c;
		}
	}
}

/* The channels of set, comma-separated, into out (cut where full). */
static void
channel_list(unsigned set, char *out, size_t size)
{
	size_t off = 0;

	if (size > 0)
		out[0] = '\0';
	for (int i = 0; channel_names[i] != NULL; i++) {
		int w;

		if (!(set & (1u << i)))
			continue;
		w = snprintf(out + off, size - off, "%s%s", off ? ", " : "",
		             channel_names[i]);
		if (w < 0 || (size_t)w >= size - off)
			break;
		off += (size_t)w;
	}
}

int
policy_request_channel_ok(const struct policy *p, const char *type,
                          const char *channel, char *accepted,
                          size_t accepted_size)
{
	int t = policy_word_index(policy_request_type_names, type);
	int c = policy_word_index(channel_names, channel);
	unsigned set;

	if (accepted != NULL && accepted_size > 0)
		accepted[0] = '\0';
	if (t < 0 || c < 0)
		return 0;
	set = p->request_channels[t];
	if (set == 0 || (set & (1u << c)))
		return 1;
	if (accepted != NULL)
		channel_list(set, accepted, accepted_size);
	return 0;
}

int
policy_request_channels(const struct policy *p, const char *type, char *out,
                        size_t size)
{
	int t = policy_word_index(policy_request_type_names, type);

	if (size > 0)
		out[0] = '\0';
	if (t < 0 || p->request_channels[t] == 0)
		return 0;
	channel_list(p->request_channels[t], out, size);
	return 1;
}
