/*
 * vault_scope.c -- what a rights request concerns
 * (AURA-RIGHTS-1): the categories a request names, stored with it and
 * read back for its report, rectification and erasure.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "vault_internal.h"

/*
 * The data a request concerns (AURA-RIGHTS-1) as stored: category ids of
 * p, each once, comma-separated; "" for none given (all of it).
 */
enum vaern_err
vlt_scope_build(const struct policy *p, const char *const *cats, size_t n,
                char *out, size_t size, struct vaern_msg *msg)
{
	size_t off = 0;

	out[0] = '\0';
	if (cats != NULL && n == 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "categories: an empty list; leave it out for "
		                  "all the data");
	if (n > VAULT_SCOPE_IDS)
		return vaern_fail(msg, VAERN_E_LIMIT, "categories: at most %d",
		                  VAULT_SCOPE_IDS);
	for (size_t i = 0; cats != NULL && i < n; i++) {
		long ci = cats[i] != NULL ? policy_category_index(p, cats[i])
		                          : -1;
		size_t len;

		if (ci < 0)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "categories: item %zu is not a "
			                  "category of '%s'",
			                  i + 1, p->controller.id);
		for (size_t k = 0; k < i; k++)
			if (strcmp(cats[k], cats[i]) == 0)
				return vaern_fail(msg, VAERN_E_INVALID,
				                  "categories: '%s' is named "
				                  "twice",
				                  p->categories[ci].id);
		len = strlen(p->categories[ci].id);
		if (off + len + 2 > size)
			return vaern_fail(msg, VAERN_E_LIMIT,
			                  "categories: too many");
		off += (size_t)snprintf(out + off, size - off, "%s%s",
		                        off ? "," : "", p->categories[ci].id);
	}
	return VAERN_OK;
}

/* The stored scope of request rowid into out ("" for all of it). */
enum vaern_err
vlt_scope_read(struct vault *v, int64_t rowid, char *out, size_t size,
               struct vaern_msg *msg)
{
	enum vaern_err err =
	        store_request_scope_get(v->store, rowid, out, size, msg);

	if (err == VAERN_E_NOTFOUND) {
		out[0] = '\0';
		return VAERN_OK;
	}
	return err;
}

/* Whether category is in the scope text (comma-separated; "": all). */
int
vlt_scope_has(const char *scope, const char *category)
{
	size_t len = strlen(category);

	if (scope[0] == '\0')
		return 1;
	for (const char *p = scope; p != NULL && *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		if (n == len && strncmp(p, category, n) == 0)
			return 1;
		p = end != NULL ? end + 1 : NULL;
	}
	return 0;
}

json_t *
vault_scope_json(const char *scope)
{
	json_t *list;
	const char *p = scope;

	if (scope[0] == '\0')
		return json_null();
	if ((list = json_array()) == NULL)
		return NULL;
	while (p != NULL) {
		const char *end = strchr(p, ',');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		if (json_array_append_new(list, json_stringn(p, n)) != 0) {
			json_decref(list);
			return NULL;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return list;
}
