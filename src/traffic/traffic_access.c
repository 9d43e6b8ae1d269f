/*
 * traffic_access.c -- the one door to the telecom retained-data store:
 * clearance (TEL-LOG-2), the court order (TEL-LOG-3), the audit entry
 * before the delivery leaves (GDPR-32).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policy/policy.h"
#include "traffic_access.h"
#include "traffic_internal.h"

/* The day keys live in the vault's keystore (issue 18 point 4). */
static enum vaern_err
day_key_get(void *arg, const char *controller, long day, int create,
            unsigned char *key, struct vaern_msg *msg)
{
	return vault_traffic_day_key(arg, controller, day, create, key, msg);
}

static enum vaern_err
day_keys_drop(void *arg, const char *controller, long day,
              struct vaern_msg *msg)
{
	int64_t dropped;

	return vault_traffic_day_keys_drop(arg, controller, day, &dropped, msg);
}

enum vaern_err
traffic_store_for(struct vault *v, const char *data_dir, const char *controller,
                  struct traffic_store **out, const struct policy **policy,
                  struct vaern_msg *msg)
{
	const struct policy *p;
	struct traffic_keys keys = {day_key_get, day_keys_drop, v};
	enum vaern_err err;

	*out = NULL;
	if ((err = vault_policy(v, controller, &p, msg)) != VAERN_OK)
		return err;
	if (!p->traffic.declared)
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "the policy of '%s' declares no traffic store "
		        "(traffic:)",
		        controller);
	err = traffic_open(data_dir, controller, &keys, p->traffic.period, out,
	                   msg);
	if (err == VAERN_OK && policy != NULL)
		*policy = p;
	return err;
}

void
traffic_signing_seed(struct vault *v, const char *controller,
                     unsigned char seed[TRAFFIC_SIGN_SEED_BYTES])
{
	unsigned char base[VAULT_TRAFFIC_KEY_BYTES];

	/* One key per controller: a delivery names whose it is. */
	vault_traffic_signing_base(v, base);
	crypto_generichash(seed, TRAFFIC_SIGN_SEED_BYTES,
	                   (const unsigned char *)controller,
	                   strlen(controller), base, sizeof(base));
	sodium_memzero(base, sizeof(base));
}

enum vaern_err
traffic_authorize(const struct policy *p, const char *controller,
                  const struct vault_actor *actor, enum traffic_use use,
                  struct vaern_msg *msg)
{
	const struct policy_role *role = NULL;
	size_t ri = 0;

	/* A cleared role of another controller is no clearance here. */
	if (strcmp(actor->controller, controller) != 0)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "the actor belongs to another controller "
		                  "(TEL-LOG-2)");
	for (; ri < p->nroles; ri++)
		if (strcmp(p->roles[ri].id, actor->role) == 0) {
			role = &p->roles[ri];
			break;
		}
	if (role == NULL || !role->cleared)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "role '%s' is not security-cleared for the "
		                  "traffic store (TEL-LOG-2)",
		                  actor->role);
	if (use == TRAFFIC_USE_INGEST) {
		for (size_t i = 0; i < p->traffic.ningest; i++)
			if (p->traffic.ingest[i] == ri)
				return VAERN_OK;
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "role '%s' is not an ingest role of the "
		                  "traffic store (TEL-LOG-2)",
		                  actor->role);
	}
	for (size_t i = 0; i < role->npurposes; i++)
		if (role->purposes[i] == p->traffic.purpose)
			return VAERN_OK;
	return vaern_fail(msg, VAERN_E_DENIED,
	                  "role '%s' does not have the purpose '%s' of the "
	                  "traffic store (TEL-LOG-2)",
	                  actor->role, p->purposes[p->traffic.purpose].id);
}

enum vaern_err
traffic_audit(traffic_audit_fn audit, void *audit_arg, struct vault *v,
              const char *controller, const char *actor, const char *role,
              const char *action, int allowed, const char *rule,
              const char *reason, struct vaern_msg *msg)
{
	struct audit_entry e = {0};
	const struct policy *p;
	struct vaern_msg m;

	e.controller = controller;
	e.actor = actor;
	e.role = role != NULL && role[0] != '\0' ? role : NULL;
	if (vault_policy(v, controller, &p, &m) == VAERN_OK &&
	    p->traffic.declared)
		e.purpose = p->purposes[p->traffic.purpose].id;
	e.action = action;
	e.categories = "traffic";
	e.allowed = allowed;
	e.rule = rule;
	e.reason = reason;
	e.policy = vault_policy_version(v, controller);
	return audit(audit_arg, &e, msg);
}

/* "LAT,LON,LAT,LON" in millionths of a degree, as a box. */
static int
parse_area(const char *s, int32_t box[4])
{
	int32_t v[4];

	for (int i = 0; i < 4; i++) {
		char *end;
		double d = strtod(s, &end);

		if (end == s || (i < 3 && *end != ',') ||
		    (i == 3 && *end != '\0') || !(d >= -180.0 && d <= 180.0))
			return -1;
		v[i] = (int32_t)(d * 1e6 + (d < 0 ? -0.5 : 0.5));
		s = end + 1;
	}
	box[0] = v[0] < v[2] ? v[0] : v[2]; /* south */
	box[1] = v[1] < v[3] ? v[1] : v[3]; /* west */
	box[2] = v[0] < v[2] ? v[2] : v[0]; /* north */
	box[3] = v[1] < v[3] ? v[3] : v[1]; /* east */
	return 0;
}

enum vaern_err
traffic_target_parse(const struct traffic_store *st,
                     const struct traffic_target_text *t,
                     struct traffic_query *q, uint32_t *cells,
                     struct vaern_msg *msg)
{
	int n = (t->msisdn != NULL) + (t->imsi != NULL) + (t->imei != NULL) +
	        (t->cell != NULL) + (t->area != NULL);
	int32_t box[4];
	uint8_t nd;

	if (n != 1)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a query names exactly one of msisdn, imsi, "
		                  "imei, cell, area");
	if (t->msisdn != NULL) {
		q->target = TRAFFIC_BY_MSISDN;
		if (traffic_parse_msisdn(t->msisdn, &q->value) != VAERN_OK)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "msisdn: not an E.164 number");
		return VAERN_OK;
	}
	if (t->imsi != NULL) {
		q->target = TRAFFIC_BY_IMSI;
		if (traffic_parse_imsi(t->imsi, &q->value, &nd) != VAERN_OK)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "imsi: not an IMSI");
		return VAERN_OK;
	}
	if (t->imei != NULL) {
		q->target = TRAFFIC_BY_IMEI;
		if (traffic_parse_imei(t->imei, &q->value) != VAERN_OK)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "imei: not an IMEI");
		return VAERN_OK;
	}
	q->target = TRAFFIC_BY_CELLS;
	q->cells = cells;
	if (t->cell != NULL) {
		q->ncells = 1;
		if (traffic_cell_find(st, t->cell, cells) != VAERN_OK)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "cell: not a known cell");
		return VAERN_OK;
	}
	if (parse_area(t->area, box) != 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "area: LAT,LON,LAT,LON in degrees");
	if (traffic_cells_in_area(st, box[0], box[1], box[2], box[3], cells,
	                          TRAFFIC_AREA_CELLS, &q->ncells) != VAERN_OK)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "area: more than %d cells",
		                  TRAFFIC_AREA_CELLS);
	if (q->ncells == 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "area: no known cell in it");
	return VAERN_OK;
}

struct collect {
	struct traffic_delivery *d;
};

static enum vaern_err
collect_one(void *arg, const struct traffic_record *r)
{
	struct collect *c = arg;

	return traffic_delivery_add(c->d, r);
}

/* What the refusal's audit entry says: the rule and msg's reason. */
static enum vaern_err
refuse(const struct traffic_ask *a, struct vault *v, traffic_audit_fn audit,
       void *audit_arg, enum vaern_err why, const char *rule,
       struct vaern_msg *msg)
{
	struct vaern_msg am;
	enum vaern_err err;

	err = traffic_audit(audit, audit_arg, v, a->controller, a->actor->name,
	                    a->actor->role, "traffic-query", 0, rule, msg->text,
	                    &am);
	if (err != VAERN_OK) {
		*msg = am;
		return err;
	}
	return why;
}

enum vaern_err
traffic_disclose(struct vault *v, const char *data_dir,
                 const struct traffic_ask *a, traffic_audit_fn audit,
                 void *audit_arg, char **out, size_t *outlen,
                 struct vaern_msg *msg)
{
	struct traffic_store *st = NULL;
	const struct policy *p;
	struct traffic_delivery *d = NULL;
	struct traffic_order order = a->order;
	struct traffic_query q;
	uint32_t *cells = NULL;
	struct collect c;
	unsigned char seed[TRAFFIC_SIGN_SEED_BYTES];
	unsigned char digest[TRAFFIC_DIGEST_BYTES];
	char dhex[TRAFFIC_DIGEST_BYTES * 2 + 1], reason[AUDIT_TEXT_MAX];
	char action[AUDIT_ID_MAX];
	char *text = NULL;
	size_t len = 0;
	struct vaern_msg local = {{0}};
	enum vaern_err err;

	*out = NULL;
	*outlen = 0;
	memset(&q, 0, sizeof(q));
	if (msg == NULL)
		msg = &local;
	err = traffic_store_for(v, data_dir, a->controller, &st, &p, msg);
	if (err != VAERN_OK)
		return err;
	/* TEL-LOG-2 first: an uncleared caller learns nothing more. */
	if ((err = traffic_authorize(p, a->controller, a->actor,
	                             TRAFFIC_USE_QUERY, msg)) != VAERN_OK) {
		err = refuse(a, v, audit, audit_arg, err, "TEL-LOG-2", msg);
		goto done;
	}
	if ((err = traffic_order_check(&a->order, msg)) != VAERN_OK) {
		err = refuse(a, v, audit, audit_arg, err, "TEL-LOG-3", msg);
		goto done;
	}
	if (a->to <= a->from || a->to - a->from > TRAFFIC_RANGE_MAX) {
		vaern_fail(msg, VAERN_E_INVALID,
		           a->to <= a->from
		                   ? "to: must be after from"
		                   : "the range is longer than a year");
		err = refuse(a, v, audit, audit_arg, VAERN_E_INVALID,
		             "TEL-LOG-3", msg);
		goto done;
	}
	q.from = a->from;
	q.to = a->to;
	cells = calloc(TRAFFIC_AREA_CELLS, sizeof(*cells));
	if (cells == NULL) {
		err = VAERN_E_NOMEM;
		goto done;
	}
	if ((err = traffic_target_parse(st, &a->target, &q, cells, msg)) !=
	    VAERN_OK) {
		err = refuse(a, v, audit, audit_arg, err, "TEL-LOG-3", msg);
		goto done;
	}
	order.provider = p->controller.registration != NULL
	                         ? p->controller.registration
	                         : a->controller;
	d = traffic_delivery_new(st, &order, clock_now());
	if (d == NULL) {
		err = VAERN_E_NOMEM;
		goto done;
	}
	c.d = d;
	if ((err = traffic_query(st, &q, collect_one, &c, msg)) != VAERN_OK)
		goto done;
	traffic_signing_seed(v, a->controller, seed);
	err = traffic_delivery_finish(d, a->xml, seed, &text, &len, digest,
	                              msg);
	sodium_memzero(seed, sizeof(seed));
	if (err != VAERN_OK)
		goto done;
	sodium_bin2hex(dhex, sizeof(dhex), digest, sizeof(digest));
	/* TEL-LOG-3: the reference, the count and the digest -- no value. */
	snprintf(reason, sizeof(reason),
	         "court order %s of %s (%s), case %s: %zu records delivered, "
	         "payload SHA-256 %s",
	         a->order.reference, a->order.authority, a->order.country,
	         a->order.case_id, traffic_delivery_count(d), dhex);
	snprintf(action, sizeof(action), "disclose:%s",
	         p->recipients[p->traffic.recipient].id);
	err = traffic_audit(audit, audit_arg, v, a->controller, a->actor->name,
	                    a->actor->role, action, 1, "TEL-LOG-3", reason,
	                    msg);
	if (err != VAERN_OK)
		goto done;
	*out = text;
	*outlen = len;
	text = NULL;
done:
	if (text != NULL) {
		sodium_memzero(text, len);
		free(text);
	}
	traffic_delivery_free(d);
	traffic_close(st);
	free(cells);
	return err;
}

/* Sweeps one controller's store; audits what went. */
static enum vaern_err
sweep_one(struct vault *v, const char *data_dir, const char *controller,
          int64_t now, traffic_audit_fn audit, void *audit_arg, uint64_t *days,
          uint64_t *records, struct vaern_msg *msg)
{
	struct traffic_store *st;
	uint64_t d = 0, r = 0;
	char reason[AUDIT_TEXT_MAX];
	enum vaern_err err;

	err = traffic_store_for(v, data_dir, controller, &st, NULL, msg);
	if (err != VAERN_OK)
		return err;
	err = traffic_sweep(st, now, &d, &r, msg);
	traffic_close(st);
	*days += d;
	*records += r;
	if (d == 0 && err == VAERN_OK)
		return VAERN_OK;
	/* What went is audited even when the sweep stopped part way. */
	snprintf(reason, sizeof(reason),
	         "%llu days (%llu records) of retained data deleted with "
	         "their keys, a full retention period after they ended",
	         (unsigned long long)d, (unsigned long long)r);
	if (d > 0) {
		struct vaern_msg am;
		enum vaern_err aerr;

		aerr = traffic_audit(audit, audit_arg, v, controller,
		                     "retention", NULL, "traffic-sweep", 1,
		                     "TEL-LOG-1", reason, &am);
		if (err == VAERN_OK && aerr != VAERN_OK) {
			*msg = am;
			err = aerr;
		}
	}
	return err;
}

enum vaern_err
traffic_sweep_all(struct vault *v, const char *data_dir, const char *controller,
                  int64_t now, traffic_audit_fn audit, void *audit_arg,
                  uint64_t *days, uint64_t *records, struct vaern_msg *msg)
{
	char dir[PATH_MAX];
	struct dirent *e;
	enum vaern_err err = VAERN_OK;
	DIR *d;

	*days = 0;
	*records = 0;
	if (controller != NULL)
		return sweep_one(v, data_dir, controller, now, audit, audit_arg,
		                 days, records, msg);
	snprintf(dir, sizeof(dir), "%s/%s", data_dir, TRAFFIC_DIR);
	d = opendir(dir);
	if (d == NULL)
		return VAERN_OK; /* no store yet */
	while (err == VAERN_OK && (e = readdir(d)) != NULL) {
		const struct policy *p;
		struct vaern_msg m;

		if (e->d_name[0] == '.')
			continue;
		/* A controller no longer loaded, or whose policy dropped
		 * the store, keeps its days until an operator decides. */
		if (vault_policy(v, e->d_name, &p, &m) != VAERN_OK ||
		    !p->traffic.declared)
			continue;
		err = sweep_one(v, data_dir, e->d_name, now, audit, audit_arg,
		                days, records, msg);
	}
	closedir(d);
	return err;
}
