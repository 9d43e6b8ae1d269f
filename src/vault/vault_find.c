/*
 * vault_find.c -- finding a subject by its identifiers (AURA-LOGIN-1): one
 * blind index per identifier category, a lookup by type across the
 * categories of the type, by one category, or by a login pair that must
 * name one person.
 */
#include <string.h>

#include <sodium.h>

#include "../calendar/calendar.h"
#include "vault_internal.h"

/*
 * The subject whose identifier of category cat is value: VAERN_OK and uid,
 * VAERN_E_NOTFOUND, or VAERN_E_INVALID when value is not valid for it.
 */
static enum vaern_err
find_in_category(struct vault *v, const struct controller *c,
                 const struct policy_category *cat, const char *value,
                 unsigned char uid[VAULT_UID_BYTES], struct vaern_msg *msg)
{
	enum vaern_err err;
	struct vaern_msg why = {{0}};
	unsigned char blind[STORE_BLIND_BYTES];
	char norm[ID_NORM_MAX];

	if (id_normalise(cat->identifier, value, c->policy->controller.country,
	                 clock_today(), norm, sizeof(norm), &why) != VAERN_OK) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "category '%s': not a valid %s: %s", cat->id,
		                 id_type_name(cat->identifier), why.text);
		goto done;
	}
	vlt_blind_index(vlt_blind_key(v, c), cat->identifier, cat->id, norm,
	                blind);
	err = store_identifier_find_uid(v->store, c->rowid,
	                                (int)cat->identifier, blind, uid, msg);
done:
	sodium_memzero(norm, sizeof(norm));
	return err;
}

enum vaern_err
vault_subject_find(struct vault *v, const char *controller, enum id_type type,
                   const char *value, unsigned char uid[VAULT_UID_BYTES],
                   struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	unsigned char one[VAULT_UID_BYTES];
	const char *first = NULL;
	int found = 0, valid = 0;

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if (type == ID_NONE || type == ID_CARD)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "subjects are not found by that type");
	/* AURA-LOGIN-1: each category of the type has its own index; the
	 * value must name one person across them, or the caller names the
	 * category. */
	for (size_t i = 0; i < c->policy->ncategories; i++) {
		const struct policy_category *cat = &c->policy->categories[i];

		if (cat->format != FORMAT_IDENTIFIER || cat->identifier != type)
			continue;
		err = find_in_category(v, c, cat, value, one, msg);
		if (err == VAERN_E_INVALID)
			continue;
		valid = 1;
		if (err == VAERN_E_NOTFOUND)
			continue;
		if (err != VAERN_OK)
			return err;
		if (found && memcmp(one, uid, VAULT_UID_BYTES) != 0)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "this %s is held in categories '%s' "
			        "and '%s' by different subjects: name "
			        "the category (AURA-LOGIN-1)",
			        id_type_name(type), first, cat->id);
		memcpy(uid, one, VAULT_UID_BYTES);
		first = cat->id;
		found = 1;
	}
	sodium_memzero(one, sizeof(one));
	if (found)
		return VAERN_OK;
	if (!valid) {
		struct vaern_msg why = {{0}};
		char norm[ID_NORM_MAX];

		/* No category of the type, or the value is not valid: say
		 * which, as the type's own check does. */
		err = id_normalise(type, value, c->policy->controller.country,
		                   clock_today(), norm, sizeof(norm), &why);
		sodium_memzero(norm, sizeof(norm));
		if (err != VAERN_OK)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "not a valid %s: %s",
			                  id_type_name(type), why.text);
	}
	return vaern_fail(msg, VAERN_E_NOTFOUND,
	                  "no subject has that identifier");
}

enum vaern_err
vault_subject_find_identities(struct vault *v, const char *controller,
                              const struct vault_identity *ids, size_t n,
                              unsigned char uid[VAULT_UID_BYTES],
                              struct vaern_msg *msg)
{
	enum vaern_err err;
	struct controller *c;
	unsigned char one[VAULT_UID_BYTES];

	if ((err = vlt_controller(v, controller, &c, msg)) != VAERN_OK)
		return err;
	if (n == 0 || n > VAULT_IDENTITIES_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "1 to %d identifiers name a subject",
		                  VAULT_IDENTITIES_MAX);
	for (size_t i = 0; i < n; i++) {
		long ci = ids[i].category != NULL
		                  ? policy_category_index(c->policy,
		                                          ids[i].category)
		                  : -1;
		const struct policy_category *cat;

		if (ci < 0 || ids[i].value == NULL)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "identifier %zu: the policy of '%s' has "
			        "no category '%.64s'",
			        i + 1, controller,
			        ids[i].category ? ids[i].category : "");
		cat = &c->policy->categories[ci];
		if (cat->format != FORMAT_IDENTIFIER)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "identifier %zu: category '%s' is not "
			        "an identifier",
			        i + 1, cat->id);
		for (size_t k = 0; k < i; k++)
			if (strcmp(ids[k].category, cat->id) == 0)
				return vaern_fail(
				        msg, VAERN_E_INVALID,
				        "identifier %zu: category '%s' "
				        "is named twice",
				        i + 1, cat->id);
		err = find_in_category(v, c, cat, ids[i].value, one, msg);
		if (err == VAERN_OK && i > 0 &&
		    memcmp(one, uid, VAULT_UID_BYTES) != 0)
			err = VAERN_E_NOTFOUND; /* the pair names no one person
			                         */
		if (err == VAERN_E_NOTFOUND)
			return vaern_fail(msg, VAERN_E_NOTFOUND,
			                  "no subject holds these identifiers");
		if (err != VAERN_OK)
			return err;
		memcpy(uid, one, VAULT_UID_BYTES);
	}
	sodium_memzero(one, sizeof(one));
	return VAERN_OK;
}
