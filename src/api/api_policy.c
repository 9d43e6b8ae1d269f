/*
 * api_policy.c -- what the API and the controller's rules are: the
 * OpenAPI document (GET /v1/openapi.json) and the actor's controller's
 * policy (GET /v1/policy).
 */
#include <string.h>

#include "../calendar/calendar.h"
#include "../policy/policy.h"
#include "api_internal.h"
#include "openapi.h"

int
h_openapi(struct http_request *req, struct http_response *res, void *app)
{
	(void)req;
	(void)app;
	return http_respond_text(res, 200, "application/json", openapi_json);
}

static json_t *
ids_of_categories(const struct policy *p, const size_t *idx, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(p->categories[idx[i]].id));
	return a;
}

static json_t *
basis_json(unsigned basis)
{
	json_t *a = json_array();

	for (int i = 0; i < 6; i++) {
		char letter[2] = {(char)('a' + i), '\0'};

		if (basis & (1u << i))
			json_array_append_new(a, json_string(letter));
	}
	return a;
}

int
h_policy(struct http_request *req, struct http_response *res, void *app)
{
	struct ctx c;
	const struct policy *p;
	json_t *cats, *purposes, *recipients, *roles, *channels, *sources;
	char ver[11];

	if (begin(req, res, app, &c))
		return 0; /* answered */
	p = c.policy;
	cats = json_object();
	for (size_t i = 0; i < p->ncategories; i++) {
		const struct policy_category *pc = &p->categories[i];

		json_object_set_new(
		        cats, pc->id,
		        json_pack("{s:s?, s:b, s:s?, s:s?}", "description",
		                  pc->description, "special", pc->special,
		                  "special_kind", pc->special_kind,
		                  "identifier",
		                  pc->identifier ? id_type_name(pc->identifier)
		                                 : NULL));
	}
	purposes = json_object();
	for (size_t i = 0; i < p->npurposes; i++) {
		const struct policy_purpose *pp = &p->purposes[i];
		char art9[2] = {pp->art9, '\0'};

		json_object_set_new(
		        purposes, pp->id,
		        json_pack("{s:s?, s:o, s:s?, s:s?, s:o, s:b, s:b, s:b, "
		                  "s:b}",
		                  "description", pp->description, "basis",
		                  basis_json(pp->basis), "art9",
		                  pp->art9 ? art9 : NULL,
		                  "legitimate_interests",
		                  pp->legitimate_interests, "categories",
		                  ids_of_categories(p, pp->categories,
		                                    pp->ncategories),
		                  "direct_marketing", pp->direct_marketing,
		                  "service_message", pp->service_message,
		                  "requires_clearance", pp->requires_clearance,
		                  "while_restricted", pp->while_restricted));
	}
	recipients = json_object();
	for (size_t i = 0; i < p->nrecipients; i++) {
		const struct policy_recipient *r = &p->recipients[i];
		static const char *const types[] = {"processor", "third_party",
		                                    "authority"};

		json_object_set_new(
		        recipients, r->id,
		        json_pack("{s:s, s:s, s:s, s:o}", "name", r->name,
		                  "type", types[r->type], "country", r->country,
		                  "categories",
		                  ids_of_categories(p, r->categories,
		                                    r->ncategories)));
	}
	roles = json_object();
	for (size_t i = 0; i < p->nroles; i++) {
		const struct policy_role *r = &p->roles[i];
		json_t *list = json_array();

		for (size_t k = 0; k < r->npurposes; k++)
			json_array_append_new(
			        list,
			        json_string(p->purposes[r->purposes[k]].id));
		json_object_set_new(roles, r->id,
		                    json_pack("{s:o, s:b, s:b}", "purposes",
		                              list, "cleared", r->cleared,
		                              "audit", r->audit));
	}
	/* AOPT-ACCESS-1: the channels each request type is accepted by
	 * (a type not listed: any channel). */
	channels = json_object();
	for (size_t i = 0; policy_request_type_names[i] != NULL; i++) {
		char list[256];
		json_t *a;

		if (!policy_request_channels(p, policy_request_type_names[i],
		                             list, sizeof(list)))
			continue;
		a = json_array();
		for (char *q = list, *end; q != NULL; q = end) {
			if ((end = strstr(q, ", ")) != NULL) {
				*end = '\0';
				end += 2;
			}
			json_array_append_new(a, json_string(q));
		}
		json_object_set_new(channels, policy_request_type_names[i], a);
	}
	/* TEL-CAT-3: the sources a fact may name. */
	sources = json_object();
	for (size_t i = 0; i < p->nsources; i++)
		json_object_set_new(
		        sources, p->sources[i].id,
		        json_pack("{s:s?, s:s}", "name", p->sources[i].name,
		                  "kind",
		                  policy_source_kind_name(p->sources[i].kind)));
	cal_format_date(p->controller.policy_version, ver);
	return http_respond_json(
	        res, 200,
	        json_pack("{s:{s:s, s:s, s:s, s:s?, s:s, s:s?}, s:o, s:o, s:o, "
	                  "s:o, s:o, s:b, s:b, s:o, s:s?}",
	                  "controller", "id", p->controller.id, "name",
	                  p->controller.name, "country", p->controller.country,
	                  "registration", p->controller.registration,
	                  "policy_version", ver, "authority",
	                  p->controller.authority_name, "categories", cats,
	                  "purposes", purposes, "recipients", recipients,
	                  "roles", roles, "sources", sources, "transfers_none",
	                  p->transfers_none, "transfers_eu_only",
	                  p->transfers_eu_only, "request_channels", channels,
	                  "policy_digest",
	                  vault_policy_version(c.v, c.actor.controller)));
}
