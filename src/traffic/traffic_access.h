/*
 * traffic_access.h -- who may use the telecom retained-data store, and the
 * disclosure under a court order (issue 18; TEL-LOG-2, TEL-LOG-3). The one
 * path from the CLI and the HTTP API to the records: it checks the
 * caller's role against the policy's `traffic:` section, runs the query,
 * builds and signs the delivery, and audits the decision -- allowed or
 * refused -- before any record leaves.
 */
#ifndef VAERN_TRAFFIC_ACCESS_H
#define VAERN_TRAFFIC_ACCESS_H

#include "../audit/audit.h"
#include "../vault/vault.h"
#include "traffic.h"

/* Where an audit entry goes (the CLI: straight into audit.db; the server:
 * its writer). VAERN_OK once it is durable. */
typedef enum vaern_err (*traffic_audit_fn)(void *arg,
                                           const struct audit_entry *e,
                                           struct vaern_msg *msg);

/*
 * Opens the store of controller in data_dir, its day keys in v's keystore
 * (v must outlive the store), with the period of its policy. VAERN_E_NOTFOUND
 * if the controller is unknown, VAERN_E_INVALID if its policy declares no
 * `traffic:`. *policy, if not NULL, gets the policy (valid as vault_policy
 * says).
 */
enum vaern_err
traffic_store_for(struct vault *v, const char *data_dir, const char *controller,
                  struct traffic_store **out, const struct policy **policy,
                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/* The controller's Ed25519 delivery-signing seed (wipe it after use). */
void traffic_signing_seed(struct vault *v, const char *controller,
                          unsigned char seed[TRAFFIC_SIGN_SEED_BYTES]);

enum traffic_use { TRAFFIC_USE_QUERY, TRAFFIC_USE_INGEST };

/*
 * TEL-LOG-2: VAERN_OK if actor may use the store of controller (policy p)
 * so: a query needs a cleared role of that controller with the store's
 * purpose; an ingest a cleared role the store lists under `ingest`.
 * Otherwise VAERN_E_DENIED with msg naming the rule. Audits nothing.
 */
enum vaern_err traffic_authorize(const struct policy *p, const char *controller,
                                 const struct vault_actor *actor,
                                 enum traffic_use use, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* What a query asks for, as text: exactly one of them set. */
struct traffic_target_text {
	const char *msisdn, *imsi, *imei; /* one subscriber identifier */
	const char *cell;                 /* one cell, "MCC-MNC-LAC-CI" */
	const char *area;                 /* "LAT,LON,LAT,LON": the cells of
	                                     the box */
};

/*
 * Fills q's target from t: the identifier's value, or the cells (into
 * cells, TRAFFIC_AREA_CELLS of room, which q then points to).
 * VAERN_E_INVALID naming the field if none or several are set, or the
 * one set is malformed, unknown or empty.
 */
enum vaern_err traffic_target_parse(const struct traffic_store *st,
                                    const struct traffic_target_text *t,
                                    struct traffic_query *q, uint32_t *cells,
                                    struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/* A court-order query as the caller asked it. */
struct traffic_ask {
	const char *controller;
	const struct vault_actor *actor;
	struct traffic_order order;
	struct traffic_target_text target; /* what is asked for */
	int64_t from, to;                  /* [from, to) */
	int xml;                           /* 1: the delivery as XML, 0: JSON */
};

/*
 * The court-order disclosure (TEL-LOG-3): authorises the actor (TEL-LOG-2),
 * checks the order, runs the query, builds and signs the delivery and
 * audits it (reference, records delivered, digest) before handing it over
 * (*out, *outlen: the caller frees it). A refusal is audited too, and
 * returned as VAERN_E_DENIED (role) or VAERN_E_INVALID (the order or the
 * query, msg naming the field).
 */
enum vaern_err traffic_disclose(struct vault *v, const char *data_dir,
                                const struct traffic_ask *a,
                                traffic_audit_fn audit, void *audit_arg,
                                char **out, size_t *outlen,
                                struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 4, 6, 7)));

/*
 * Audits a refusal or an action on the store: action ("traffic-query",
 * "traffic-ingest", "traffic-sweep", ...), the clause that decided, a
 * reason without values.
 */
enum vaern_err traffic_audit(traffic_audit_fn audit, void *audit_arg,
                             struct vault *v, const char *controller,
                             const char *actor, const char *role,
                             const char *action, int allowed, const char *rule,
                             const char *reason, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4, 7, 9)));

/*
 * The retention sweep of the store (TEL-LOG-1): for every controller with
 * a traffic directory whose policy declares the store (only, if
 * controller is not NULL), deletes each day a full period old at now,
 * audited per controller (rule TEL-LOG-1, counts only). *days and
 * *records get the totals. Called by `vaern traffic sweep`, `vaern
 * retention sweep` and the server's scheduled sweep.
 */
enum vaern_err
traffic_sweep_all(struct vault *v, const char *data_dir, const char *controller,
                  int64_t now, traffic_audit_fn audit, void *audit_arg,
                  uint64_t *days, uint64_t *records, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 5, 7, 8)));

#endif
