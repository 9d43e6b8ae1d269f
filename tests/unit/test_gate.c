/*
 * test_gate.c -- the policy decision point (src/gate/gate.h).
 *
 * Table-driven: each row of `cases` is one request against one compiled
 * policy and the decision expected (allow or deny, the rule that decided,
 * a piece of the reason). The row's name starts with the clause it proves.
 * The policies are
 *   - TP: a compact policy written here with every construct the gate
 *     reads (clearance, restriction, direct marketing, service messages,
 *     consent alone and consent among other bases, a special category
 *     under art9 a and under art9 f, a processor, third parties needing
 *     consent, prior agreement or either, an authority on court order, a
 *     recipient in the US under a transfers entry);
 *   - NOX: the same with `transfers: none` and no recipient outside the
 *     EU/EEA (the loader refuses one: test_transfers_none_refused);
 *   - the seed policies policies/{telenor,cekura,webshop,aura-fiber}.yaml,
 *     for the seed clauses (TEL-LOG-2/3, TEL-MKT-1, CEK-SHARE-1,
 *     CEK-SPECIAL-1, AURA-SHARE-1, GDPR-7/18/21).
 * Where the loader refuses a construct (an uncleared role on a clearance
 * purpose, a special category without art9, a recipient outside the EU/EEA
 * under `transfers: none`) a row "tweaks" the compiled policy by hand for
 * the one decision, to show the gate refuses it too (defence in depth).
 *
 * The source root comes from VAERN_SOURCE_ROOT (set by meson), else ".".
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate/gate.h"
#include "policy/policy.h"

/* ------------------------------------------------------------------ */
/* Policies                                                           */
/* ------------------------------------------------------------------ */

#define TP_HEAD                                                                \
	"vaern: 1\n"                                                           \
	"controller:\n"                                                        \
	"  id: test\n"                                                         \
	"  name: Test A/S\n"                                                   \
	"  country: DK\n"                                                      \
	"  registration: \"34046352\"\n"                                       \
	"  authority:\n"                                                       \
	"    name: Datatilsynet\n"                                             \
	"  policy_version: 2024-01-01\n"                                       \
	"events:\n"                                                            \
	"  relationship_end: The customer relationship ended\n"                \
	"categories:\n"                                                        \
	"  name: {}\n"                                                         \
	"  email:\n"                                                           \
	"    identifier: email\n"                                              \
	"  phone: {}\n"                                                        \
	"  logging_data:\n"                                                    \
	"    source: automatic\n"                                              \
	"  health:\n"                                                          \
	"    special: health\n"                                                \
	"  invoices:\n"                                                        \
	"    source: controller\n"                                             \
	"purposes:\n"                                                          \
	"  customer_admin:\n"                                                  \
	"    basis: b\n"                                                       \
	"    categories: [name, email, phone]\n"                               \
	"  logging:\n"                                                         \
	"    basis: c\n"                                                       \
	"    requires_clearance: true\n"                                       \
	"    while_restricted: true\n"                                         \
	"    categories: [logging_data]\n"                                     \
	"  legal_claims:\n"                                                    \
	"    basis: f\n"                                                       \
	"    legitimate_interests: Legal claims.\n"                            \
	"    while_restricted: true\n"                                         \
	"    categories: [name, email, invoices]\n"                            \
	"  marketing:\n"                                                       \
	"    basis: a\n"                                                       \
	"    direct_marketing: true\n"                                         \
	"    categories: [name, email]\n"                                      \
	"    consent:\n"                                                       \
	"      sources: [web_form]\n"                                          \
	"  loyalty:\n"                                                         \
	"    basis: [a, b]\n"                                                  \
	"    categories: [name, email]\n"                                      \
	"    consent:\n"                                                       \
	"      sources: [web_form]\n"                                          \
	"  service_messages:\n"                                                \
	"    basis: b\n"                                                       \
	"    service_message: true\n"                                          \
	"    categories: [name, phone]\n"                                      \
	"  care:\n"                                                            \
	"    basis: b\n"                                                       \
	"    art9: a\n"                                                        \
	"    categories: [health, name]\n"                                     \
	"    consent:\n"                                                       \
	"      sources: [web_form]\n"                                          \
	"  health_claims:\n"                                                   \
	"    basis: f\n"                                                       \
	"    legitimate_interests: Legal claims.\n"                            \
	"    art9: f\n"                                                        \
	"    categories: [health]\n"                                           \
	"retention:\n"                                                         \
	"  all:\n"                                                             \
	"    categories: [name, email, phone, logging_data, health,\n"         \
	"                 invoices]\n"                                         \
	"    anchor: relationship_end\n"                                       \
	"    period: 1 year\n"

#define TP_PROCESSOR_EU                                                        \
	"  it_supplier:\n"                                                     \
	"    name: IT supplier\n"                                              \
	"    type: processor\n"                                                \
	"    agreement: DPA-1\n"                                               \
	"    purposes: [customer_admin, service_messages]\n"

#define TP_RECIPIENTS                                                          \
	"recipients:\n" TP_PROCESSOR_EU "  partner:\n"                         \
	"    name: Partner\n"                                                  \
	"    type: third_party\n"                                              \
	"    needs: consent\n"                                                 \
	"    purposes: [marketing, loyalty]\n"                                 \
	"    categories: [name, email]\n"                                      \
	"  family:\n"                                                          \
	"    name: Family members\n"                                           \
	"    type: third_party\n"                                              \
	"    needs: prior_agreement\n"                                         \
	"    purposes: [care, customer_admin]\n"                               \
	"  advisor:\n"                                                         \
	"    name: Advisor\n"                                                  \
	"    type: third_party\n"                                              \
	"    needs: consent_or_prior_agreement\n"                              \
	"    purposes: [loyalty]\n"                                            \
	"  police:\n"                                                          \
	"    name: Police\n"                                                   \
	"    type: authority\n"                                                \
	"    needs: legal_demand\n"                                            \
	"    demand: court_order\n"                                            \
	"    purposes: [logging]\n"                                            \
	"  cloud_us:\n"                                                        \
	"    name: Cloud\n"                                                    \
	"    type: processor\n"                                                \
	"    agreement: DPA-2\n"                                               \
	"    country: US\n"                                                    \
	"    safeguard: scc\n"                                                 \
	"    purposes: [customer_admin]\n"                                     \
	"    categories: [name, email]\n"

#define TP_ROLES                                                               \
	"roles:\n"                                                             \
	"  support:\n"                                                         \
	"    purposes: [customer_admin, service_messages]\n"                   \
	"  logging_officer:\n"                                                 \
	"    cleared: true\n"                                                  \
	"    purposes: [logging]\n"                                            \
	"  marketer:\n"                                                        \
	"    purposes: [marketing, loyalty]\n"                                 \
	"  carer:\n"                                                           \
	"    purposes: [care, customer_admin]\n"                               \
	"  counsel:\n"                                                         \
	"    purposes: [legal_claims, health_claims]\n"

/* AURA-XFER-1: the US recipient under a transfers entry. */
static const char tp_yaml[] =
        TP_HEAD TP_RECIPIENTS "transfers:\n"
                              "  - country: US\n"
                              "    safeguard: scc\n" TP_ROLES;

/* CEK-XFER-1: the same recipients under `transfers: none`: refused. */
static const char tp_none_us_yaml[] =
        TP_HEAD TP_RECIPIENTS "transfers: none\n" TP_ROLES;

/* transfers: none with an EU processor only: loads. */
static const char nox_yaml[] =
        TP_HEAD "recipients:\n" TP_PROCESSOR_EU "transfers: none\n" TP_ROLES;

enum pol { TP, NOX, TEL, CEK, SHOP, AURA, NPOLS };

static const char *const pol_name[NPOLS] = {
        "(test policy)", "(transfers none)", "telenor.yaml",
        "cekura.yaml",   "webshop.yaml",     "aura-fiber.yaml",
};

static struct policy *loaded[NPOLS];

static const char *
source_root(void)
{
	const char *root = getenv("VAERN_SOURCE_ROOT");
	return root && *root ? root : ".";
}

static void
print_diags(const char *what, const struct policy_diags *d)
{
	for (size_t i = 0; i < d->count; i++)
		print_error("%s:%u:%u: %s\n", what, d->items[i].line,
		            d->items[i].column, d->items[i].message);
}

static int
setup_policies(void **state)
{
	static struct policy_diags diags;
	(void)state;
	for (int i = 0; i < NPOLS; i++) {
		enum vaern_err err;
		memset(&diags, 0, sizeof diags);
		if (i == TP || i == NOX) {
			const char *y = i == TP ? tp_yaml : nox_yaml;
			err = policy_load_buffer(y, strlen(y), &loaded[i],
			                         &diags);
		} else {
			char path[4096];
			int n = snprintf(path, sizeof path, "%s/policies/%s",
			                 source_root(), pol_name[i]);
			if (n < 0 || (size_t)n >= sizeof path)
				return -1;
			err = policy_load_file(path, &loaded[i], &diags);
		}
		if (err != VAERN_OK) {
			print_diags(pol_name[i], &diags);
			print_error("%s refused: %s\n", pol_name[i],
			            vaern_strerror(err));
			return -1;
		}
	}
	return 0;
}

static int
teardown_policies(void **state)
{
	(void)state;
	for (int i = 0; i < NPOLS; i++) {
		policy_free(loaded[i]);
		loaded[i] = NULL;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

/* Changes made by hand to the compiled policy for one decision, for what
 * the loader refuses to compile. Undone after the decision. */
enum tweak {
	TWEAK_NONE,
	TWEAK_UNCLEARED,    /* the row's role loses its clearance */
	TWEAK_NO_ART9,      /* the row's purpose loses its art9 letter */
	TWEAK_OUTSIDE_EEA,  /* the row's recipient moves to US */
	TWEAK_TO_CN,        /* the row's recipient moves to CN (no entry) */
	TWEAK_NO_SAFEGUARD, /* the row's recipient loses its safeguard */
	TWEAK_NO_AGREEMENT  /* the row's processor loses its agreement */
};

struct case_state {
	int restricted;
	int objected_marketing;
	const char *const *consent; /* purpose ids consented to */
	const char *const *agreed;  /* recipient ids agreed beforehand */
};

struct gate_case {
	const char *name;
	enum pol pol;
	const char *role;
	const char *purpose;
	enum gate_action action;
	const char *const *categories; /* ids; NULL: all */
	const char *recipient;         /* id or NULL */
	const char *demand;
	const char *demand_ref;
	struct case_state state;
	enum tweak tweak;
	int allow;
	const char *rule;
	const char *reason; /* a substring of the reason */
};

#define IDS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ALL      NULL
#define NOBODY   NULL
#define NODEMAND NULL, NULL
#define NONE     NULL
#define CLEAN                                                                  \
	{                                                                      \
		0, 0, NONE, NONE                                               \
	}
#define RESTRICTED(consent)                                                    \
	{                                                                      \
		1, 0, consent, NONE                                            \
	}
#define OBJECTED(consent)                                                      \
	{                                                                      \
		0, 1, consent, NONE                                            \
	}
#define CONSENT(...)                                                           \
	{                                                                      \
		0, 0, IDS(__VA_ARGS__), NONE                                   \
	}
#define AGREED(...)                                                            \
	{                                                                      \
		0, 0, NONE, IDS(__VA_ARGS__)                                   \
	}
#define ALLOW 1
#define DENY  0
#define R     GATE_READ
#define X     GATE_EXPORT
#define D     GATE_DISCLOSE
#define C     GATE_COLLECT
#define COURT "court_order"
#define REF   "BS-4711/2025"

// clang-format off
static const struct gate_case cases[] = {
/* name, policy, role, purpose, action, categories, recipient, demand, ref,
 * state, tweak, allow, rule, reason */

/* ---- the compact test policy: every construct ---- */
{"GDPR-32 plain read of all the purpose uses", TP, "support",
 "customer_admin", R, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NONE, ALLOW,
 "GDPR-32", "role 'support' may read for purpose 'customer_admin'"},
{"GDPR-32 export of the categories asked for", TP, "support",
 "customer_admin", X, IDS("email", "name"), NOBODY, NODEMAND, CLEAN,
 TWEAK_NONE, ALLOW, "GDPR-32", "may export"},
{"GDPR-32 a category asked twice is released once", TP, "support",
 "customer_admin", R, IDS("phone", "phone", "name"), NOBODY, NODEMAND,
 CLEAN, TWEAK_NONE, ALLOW, "GDPR-32", "customer_admin"},
{"GDPR-32 a category outside the purpose is refused, named", TP, "support",
 "customer_admin", R, IDS("name", "invoices"), NOBODY, NODEMAND, CLEAN,
 TWEAK_NONE, DENY, "GDPR-32",
 "category 'invoices' is not used by purpose 'customer_admin'"},
{"AURA-SHARE-1 need-to-know: role without the purpose", TP, "support",
 "legal_claims", R, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NONE, DENY,
 "AURA-SHARE-1", "role 'support' may not use purpose 'legal_claims'"},
{"TEL-LOG-2 cleared role reads the clearance purpose", TP,
 "logging_officer", "logging", R, ALL, NOBODY, NODEMAND, CLEAN,
 TWEAK_NONE, ALLOW, "GDPR-32", "logging_officer"},
{"TEL-LOG-2 uncleared role on a clearance purpose (hand-built)", TP,
 "logging_officer", "logging", R, ALL, NOBODY, NODEMAND, CLEAN,
 TWEAK_UNCLEARED, DENY, "TEL-LOG-2",
 "purpose 'logging' requires clearance; role 'logging_officer' is not "
 "cleared"},
{"GDPR-18 restricted: an ordinary purpose is refused", TP, "support",
 "customer_admin", R, ALL, NOBODY, NODEMAND, RESTRICTED(NONE), TWEAK_NONE,
 DENY, "GDPR-18", "purpose 'customer_admin' is not allowed while restricted"},
{"GDPR-18 SHOP-RIGHTS-1 restricted: legal claims pass", TP, "counsel",
 "legal_claims", R, ALL, NOBODY, NODEMAND, RESTRICTED(NONE), TWEAK_NONE,
 ALLOW, "GDPR-32", "legal_claims"},
{"GDPR-18 restricted and objected: restriction decides first", TP,
 "marketer", "marketing", R, ALL, NOBODY, NODEMAND,
 {1, 1, IDS("marketing"), NONE}, TWEAK_NONE, DENY, "GDPR-18", "marketing"},
{"GDPR-21 objection stops direct marketing despite consent", TP,
 "marketer", "marketing", R, ALL, NOBODY, NODEMAND,
 OBJECTED(IDS("marketing")), TWEAK_NONE, DENY, "GDPR-21",
 "purpose 'marketing' is direct marketing"},
{"TEL-MKT-1 objection does not stop service messages", TP, "support",
 "service_messages", R, ALL, NOBODY, NODEMAND, OBJECTED(NONE), TWEAK_NONE,
 ALLOW, "GDPR-32", "service_messages"},
{"GDPR-7 consent-only purpose without consent", TP, "marketer",
 "marketing", R, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NONE, DENY, "GDPR-7",
 "purpose 'marketing' rests on consent; none on record"},
{"GDPR-7 consent to another purpose does not count", TP, "marketer",
 "marketing", R, ALL, NOBODY, NODEMAND, CONSENT("loyalty"), TWEAK_NONE,
 DENY, "GDPR-7", "marketing"},
{"GDPR-7 consent-only purpose with consent", TP, "marketer", "marketing",
 R, ALL, NOBODY, NODEMAND, CONSENT("marketing"), TWEAK_NONE, ALLOW,
 "GDPR-32", "marketing"},
{"GDPR-7 consent among other bases is not required", TP, "marketer",
 "loyalty", R, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NONE, ALLOW, "GDPR-32",
 "loyalty"},
{"CEK-SPECIAL-1 art9 a special category without consent", TP, "carer",
 "care", R, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NONE, DENY,
 "CEK-SPECIAL-1",
 "category 'health' is special; purpose 'care' needs explicit consent"},
{"CEK-SPECIAL-1 art9 a special category with consent", TP, "carer",
 "care", R, ALL, NOBODY, NODEMAND, CONSENT("care"), TWEAK_NONE, ALLOW,
 "GDPR-32", "care"},
{"CEK-SPECIAL-1 no special category asked: no consent needed", TP,
 "carer", "care", R, IDS("name"), NOBODY, NODEMAND, CLEAN, TWEAK_NONE,
 ALLOW, "GDPR-32", "care"},
{"SHOP-SPECIAL-1 special category under art9 f needs no consent", TP,
 "counsel", "health_claims", R, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NONE,
 ALLOW, "GDPR-32", "health_claims"},
{"CEK-SPECIAL-1 special category with no art9 (hand-built)", TP,
 "counsel", "health_claims", R, ALL, NOBODY, NODEMAND, CLEAN,
 TWEAK_NO_ART9, DENY, "CEK-SPECIAL-1",
 "category 'health' is special; purpose 'health_claims' has no Art. 9"},
{"AURA-SHARE-1 processor under its agreement", TP, "support",
 "customer_admin", D, ALL, "it_supplier", NODEMAND, CLEAN, TWEAK_NONE,
 ALLOW, "AURA-SHARE-1",
 "processor 'it_supplier' for purpose 'customer_admin' under agreement "
 "'DPA-1'"},
{"AOPT-SHARE-1 processor without agreement (hand-built)", TP, "support",
 "customer_admin", D, ALL, "it_supplier", NODEMAND, CLEAN,
 TWEAK_NO_AGREEMENT, DENY, "AURA-SHARE-1",
 "processor 'it_supplier' has no data processing agreement"},
{"AURA-SHARE-1 recipient not listed for the purpose", TP, "marketer",
 "loyalty", D, ALL, "it_supplier", NODEMAND, CLEAN, TWEAK_NONE, DENY,
 "AURA-SHARE-1",
 "recipient 'it_supplier' does not receive data for purpose 'loyalty'"},
{"AURA-SHARE-1 category outside the recipient's", TP, "support",
 "customer_admin", D, IDS("name", "phone"), "cloud_us", NODEMAND, CLEAN,
 TWEAK_NONE, DENY, "AURA-SHARE-1",
 "recipient 'cloud_us' does not receive category 'phone'"},
{"AURA-SHARE-1 third party needing consent, none on record", TP,
 "marketer", "loyalty", D, ALL, "partner", NODEMAND, CLEAN, TWEAK_NONE,
 DENY, "AURA-SHARE-1",
 "recipient 'partner' needs consent to purpose 'loyalty', none on record"},
{"AURA-SHARE-1 third party needing consent, consent on record", TP,
 "marketer", "loyalty", D, ALL, "partner", NODEMAND, CONSENT("loyalty"),
 TWEAK_NONE, ALLOW, "AURA-SHARE-1", "with consent on record"},
{"GDPR-21 objection stops disclosure for marketing", TP, "marketer",
 "marketing", D, ALL, "partner", NODEMAND, OBJECTED(IDS("marketing")),
 TWEAK_NONE, DENY, "GDPR-21", "marketing"},
{"CEK-SHARE-1 prior agreement, none on record", TP, "carer",
 "customer_admin", D, ALL, "family", NODEMAND, CLEAN, TWEAK_NONE, DENY,
 "CEK-SHARE-1", "recipient 'family' needs a prior agreement"},
{"CEK-SHARE-1 consent does not stand in for a prior agreement", TP,
 "carer", "care", D, ALL, "family", NODEMAND, CONSENT("care"), TWEAK_NONE,
 DENY, "CEK-SHARE-1", "recipient 'family' needs a prior agreement"},
{"CEK-SHARE-1 prior agreement on record", TP, "carer", "care", D, ALL,
 "family", NODEMAND, {0, 0, IDS("care"), IDS("family")}, TWEAK_NONE, ALLOW,
 "CEK-SHARE-1", "with a prior agreement on record"},
{"CEK-SHARE-1 prior agreement with another recipient does not count", TP,
 "carer", "customer_admin", D, ALL, "family", NODEMAND, AGREED("advisor"),
 TWEAK_NONE, DENY, "CEK-SHARE-1", "family"},
{"CEK-SHARE-1 consent_or_prior_agreement: neither", TP, "marketer",
 "loyalty", D, ALL, "advisor", NODEMAND, CLEAN, TWEAK_NONE, DENY,
 "CEK-SHARE-1", "neither on record"},
{"CEK-SHARE-1 consent_or_prior_agreement: consent", TP, "marketer",
 "loyalty", D, ALL, "advisor", NODEMAND, CONSENT("loyalty"), TWEAK_NONE,
 ALLOW, "CEK-SHARE-1", "with consent on record"},
{"CEK-SHARE-1 consent_or_prior_agreement: prior agreement", TP, "marketer",
 "loyalty", D, ALL, "advisor", NODEMAND, AGREED("advisor"), TWEAK_NONE,
 ALLOW, "CEK-SHARE-1", "with a prior agreement on record"},
{"TEL-LOG-3 authority with court order and reference", TP,
 "logging_officer", "logging", D, ALL, "police", COURT, REF, CLEAN,
 TWEAK_NONE, ALLOW, "TEL-LOG-3", "on a court_order"},
{"TEL-LOG-3 authority without a demand", TP, "logging_officer", "logging",
 D, ALL, "police", NODEMAND, CLEAN, TWEAK_NONE, DENY, "TEL-LOG-3",
 "recipient 'police' needs a court_order"},
{"TEL-LOG-3 authority with another kind of demand", TP, "logging_officer",
 "logging", D, ALL, "police", "statutory_obligation", REF, CLEAN,
 TWEAK_NONE, DENY, "TEL-LOG-3", "needs a court_order"},
{"TEL-LOG-3 court order without reference", TP, "logging_officer",
 "logging", D, ALL, "police", COURT, NULL, CLEAN, TWEAK_NONE, DENY,
 "TEL-LOG-3", "the court_order has no reference"},
{"TEL-LOG-3 court order with an empty reference", TP, "logging_officer",
 "logging", D, ALL, "police", COURT, "", CLEAN, TWEAK_NONE, DENY,
 "TEL-LOG-3", "has no reference"},
{"TEL-LOG-2 clearance before the court order", TP, "logging_officer",
 "logging", D, ALL, "police", COURT, REF, CLEAN, TWEAK_UNCLEARED, DENY,
 "TEL-LOG-2", "requires clearance"},
{"AURA-XFER-1 outside the EU/EEA under a recorded safeguard", TP,
 "support", "customer_admin", D, IDS("name"), "cloud_us", NODEMAND, CLEAN,
 TWEAK_NONE, ALLOW, "AURA-SHARE-1", "processor 'cloud_us'"},
{"AURA-XFER-1 outside the EU/EEA without safeguard (hand-built)", TP,
 "support", "customer_admin", D, IDS("name"), "cloud_us", NODEMAND, CLEAN,
 TWEAK_NO_SAFEGUARD, DENY, "AURA-XFER-1",
 "recipient 'cloud_us' is in US, outside the EU/EEA, with no recorded "
 "safeguard"},
{"AURA-XFER-1 safeguard for another country (hand-built)", TP, "support",
 "customer_admin", D, IDS("name"), "cloud_us", NODEMAND, CLEAN,
 TWEAK_TO_CN, DENY, "AURA-XFER-1", "is in CN"},
{"AURA-XFER-1 a recipient moved outside with no safeguard (hand-built)",
 TP, "carer", "customer_admin", D, ALL, "family", NODEMAND,
 AGREED("family"), TWEAK_OUTSIDE_EEA, DENY, "AURA-XFER-1",
 "recipient 'family' is in US"},
{"CEK-XFER-1 transfers none: EU processor passes", NOX, "support",
 "customer_admin", D, ALL, "it_supplier", NODEMAND, CLEAN, TWEAK_NONE,
 ALLOW, "AURA-SHARE-1", "it_supplier"},
{"CEK-XFER-1 transfers none: a recipient outside (hand-built)", NOX,
 "support", "customer_admin", D, ALL, "it_supplier", NODEMAND, CLEAN,
 TWEAK_OUTSIDE_EEA, DENY, "CEK-XFER-1",
 "recipient 'it_supplier' is in US, outside the EU/EEA, and the policy "
 "promises no transfer"},


/* ---- every rule, one row per action (issue 11 point 6): a gate that
 * skips a rule for export or disclosure fails here ---- */
{"AURA-SHARE-1 need-to-know: export of a purpose the role lacks", TP,
 "support", "legal_claims", X, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NONE,
 DENY, "AURA-SHARE-1", "role 'support' may not use purpose 'legal_claims'"},
{"AURA-SHARE-1 need-to-know: disclosure for a purpose the role lacks", TP,
 "marketer", "customer_admin", D, ALL, "it_supplier", NODEMAND, CLEAN,
 TWEAK_NONE, DENY, "AURA-SHARE-1",
 "role 'marketer' may not use purpose 'customer_admin'"},
{"TEL-LOG-2 uncleared role exports a clearance purpose (hand-built)", TP,
 "logging_officer", "logging", X, ALL, NOBODY, NODEMAND, CLEAN,
 TWEAK_UNCLEARED, DENY, "TEL-LOG-2", "requires clearance"},
{"TEL-LOG-2 uncleared role discloses a clearance purpose (hand-built)", TP,
 "logging_officer", "logging", D, ALL, "police", COURT, REF, CLEAN,
 TWEAK_UNCLEARED, DENY, "TEL-LOG-2", "requires clearance"},
{"GDPR-18 restricted: export for an ordinary purpose is refused", TP,
 "support", "customer_admin", X, ALL, NOBODY, NODEMAND, RESTRICTED(NONE),
 TWEAK_NONE, DENY, "GDPR-18",
 "purpose 'customer_admin' is not allowed while restricted"},
{"GDPR-18 restricted: disclosure to a processor is refused", TP, "support",
 "customer_admin", D, ALL, "it_supplier", NODEMAND, RESTRICTED(NONE),
 TWEAK_NONE, DENY, "GDPR-18",
 "purpose 'customer_admin' is not allowed while restricted"},
{"GDPR-18 restricted: disclosure to a consented partner is refused", TP,
 "marketer", "loyalty", D, ALL, "partner", NODEMAND,
 {1, 0, IDS("loyalty"), NONE}, TWEAK_NONE, DENY, "GDPR-18", "loyalty"},
{"GDPR-18 SHOP-RIGHTS-1 restricted: legal claims export passes", TP,
 "counsel", "legal_claims", X, ALL, NOBODY, NODEMAND, RESTRICTED(NONE),
 TWEAK_NONE, ALLOW, "GDPR-32", "may export"},
{"GDPR-18 TEL-LOG-3 restricted: logging disclosure on a court order", TP,
 "logging_officer", "logging", D, ALL, "police", COURT, REF,
 RESTRICTED(NONE), TWEAK_NONE, ALLOW, "TEL-LOG-3", "court_order"},
{"GDPR-21 objection stops an export for direct marketing", TP, "marketer",
 "marketing", X, ALL, NOBODY, NODEMAND, OBJECTED(IDS("marketing")),
 TWEAK_NONE, DENY, "GDPR-21", "purpose 'marketing' is direct marketing"},
{"GDPR-7 consent-only purpose: export without consent", TP, "marketer",
 "marketing", X, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NONE, DENY, "GDPR-7",
 "purpose 'marketing' rests on consent; none on record"},
{"GDPR-7 consent-only purpose: disclosure without consent", TP, "marketer",
 "marketing", D, ALL, "partner", NODEMAND, CLEAN, TWEAK_NONE, DENY, "GDPR-7",
 "purpose 'marketing' rests on consent; none on record"},
{"GDPR-32 export of a category outside the purpose", TP, "support",
 "customer_admin", X, IDS("invoices"), NOBODY, NODEMAND, CLEAN, TWEAK_NONE,
 DENY, "GDPR-32",
 "category 'invoices' is not used by purpose 'customer_admin'"},
{"GDPR-32 disclosure of a category outside the purpose", TP, "support",
 "customer_admin", D, IDS("name", "invoices"), "it_supplier", NODEMAND,
 CLEAN, TWEAK_NONE, DENY, "GDPR-32",
 "category 'invoices' is not used by purpose 'customer_admin'"},
{"CEK-SPECIAL-1 export of a special category without consent", TP,
 "carer", "care", X, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NONE, DENY,
 "CEK-SPECIAL-1", "category 'health' is special"},
{"CEK-SPECIAL-1 disclosure of a special category without consent", TP,
 "carer", "care", D, ALL, "family", NODEMAND, AGREED("family"), TWEAK_NONE,
 DENY, "CEK-SPECIAL-1", "category 'health' is special"},
{"CEK-SPECIAL-1 export of a special category, no art9 (hand-built)", TP,
 "counsel", "health_claims", X, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NO_ART9,
 DENY, "CEK-SPECIAL-1", "has no Art. 9 condition"},
/* ---- Telenor ---- */
{"AURA-SHARE-1 need-to-know: collection for a purpose the role lacks", TP,
 "support", "legal_claims", C, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NONE,
 DENY, "AURA-SHARE-1", "role 'support' may not use purpose 'legal_claims'"},
{"TEL-LOG-2 uncleared role collects for a clearance purpose (hand-built)",
 TP, "logging_officer", "logging", C, ALL, NOBODY, NODEMAND, CLEAN,
 TWEAK_UNCLEARED, DENY, "TEL-LOG-2", "requires clearance"},
{"TEL-LOG-1 the cleared officer collects logging data", TP,
 "logging_officer", "logging", C, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NONE,
 ALLOW, "GDPR-32", "may collect for purpose 'logging'"},
{"GDPR-18 restricted: no new collection for an ordinary purpose", TP,
 "support", "customer_admin", C, IDS("name"), NOBODY, NODEMAND,
 RESTRICTED(NONE), TWEAK_NONE, DENY, "GDPR-18", "customer_admin"},
{"GDPR-18 restricted: collection for legal claims goes on", TP, "counsel",
 "legal_claims", C, ALL, NOBODY, NODEMAND, RESTRICTED(NONE), TWEAK_NONE,
 ALLOW, "GDPR-32", "legal_claims"},
{"GDPR-21 objection stops collection for direct marketing", TP,
 "marketer", "marketing", C, ALL, NOBODY, NODEMAND,
 OBJECTED(IDS("marketing")), TWEAK_NONE, DENY, "GDPR-21", "marketing"},
{"GDPR-7 consent-only purpose: collection without consent", TP, "marketer",
 "marketing", C, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NONE, DENY, "GDPR-7",
 "rests on consent"},
{"GDPR-32 collection of a category outside the purpose", TP, "support",
 "customer_admin", C, IDS("invoices"), NOBODY, NODEMAND, CLEAN, TWEAK_NONE,
 DENY, "GDPR-32", "category 'invoices' is not used by purpose"},
{"CEK-SPECIAL-1 collection of a special category without consent", TP,
 "carer", "care", C, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NONE, DENY,
 "CEK-SPECIAL-1", "category 'health' is special"},
{"TEL-LOG-2 customer service cannot read logging data", TEL,
 "customer_service", "data_retention_logging", R, ALL, NOBODY, NODEMAND,
 CLEAN, TWEAK_NONE, DENY, "TEL-LOG-2",
 "purpose 'data_retention_logging' requires clearance; role "
 "'customer_service' is not cleared"},
{"TEL-LOG-2 the cleared logging officer reads logging data", TEL,
 "logging_officer", "data_retention_logging", R, IDS("logging_data"),
 NOBODY, NODEMAND, CLEAN, TWEAK_NONE, ALLOW, "GDPR-32",
 "role 'logging_officer' may read for purpose 'data_retention_logging'"},
{"TEL-LOG-2 logging officer without clearance (hand-built)", TEL,
 "logging_officer", "data_retention_logging", R, ALL, NOBODY, NODEMAND,
 CLEAN, TWEAK_UNCLEARED, DENY, "TEL-LOG-2", "requires clearance"},
{"TEL-LOG-3 police on a court order with reference", TEL,
 "logging_officer", "data_retention_logging", D, ALL, "police", COURT, REF,
 CLEAN, TWEAK_NONE, ALLOW, "TEL-LOG-3",
 "may disclose to recipient 'police' for purpose 'data_retention_logging' "
 "on a court_order"},
{"TEL-LOG-3 police without a court order", TEL, "logging_officer",
 "data_retention_logging", D, ALL, "police", NODEMAND, CLEAN, TWEAK_NONE,
 DENY, "TEL-LOG-3", "needs a court_order"},
{"TEL-LOG-3 police with a court order but no reference", TEL,
 "logging_officer", "data_retention_logging", D, ALL, "police", COURT, "",
 CLEAN, TWEAK_NONE, DENY, "TEL-LOG-3", "no reference"},
{"TEL-LOG-3 GDPR-18 logging duty continues while restricted", TEL,
 "logging_officer", "data_retention_logging", D, ALL, "police", COURT, REF,
 RESTRICTED(NONE), TWEAK_NONE, ALLOW, "TEL-LOG-3", "court_order"},
{"TEL-MKT-1 marketing with consent", TEL, "marketing", "marketing", R,
 ALL, NOBODY, NODEMAND, CONSENT("marketing"), TWEAK_NONE, ALLOW,
 "GDPR-32", "marketing"},
{"TEL-MKT-1 GDPR-7 marketing without consent", TEL, "marketing",
 "marketing", R, ALL, NOBODY, NODEMAND, CLEAN, TWEAK_NONE, DENY, "GDPR-7",
 "purpose 'marketing' rests on consent"},
{"TEL-MKT-1 GDPR-21 opt-out stops marketing", TEL, "marketing",
 "marketing", R, ALL, NOBODY, NODEMAND, OBJECTED(IDS("marketing")),
 TWEAK_NONE, DENY, "GDPR-21", "objected to direct marketing"},
{"TEL-MKT-1 opt-out does not stop service messages", TEL,
 "customer_service", "service_messages", R, ALL, NOBODY, NODEMAND,
 OBJECTED(NONE), TWEAK_NONE, ALLOW, "GDPR-32", "service_messages"},
{"TEL-MKT-1 marketing partners with consent", TEL, "marketing",
 "marketing", D, IDS("name", "email"), "marketing_partners", NODEMAND,
 CONSENT("marketing"), TWEAK_NONE, ALLOW, "AURA-SHARE-1",
 "recipient 'marketing_partners'"},
{"TEL-MKT-1 marketing partners get no usage data", TEL, "marketing",
 "marketing", D, ALL, "marketing_partners", NODEMAND, CONSENT("marketing"),
 TWEAK_NONE, DENY, "AURA-SHARE-1",
 "recipient 'marketing_partners' does not receive category "
 "'contract_type'"},
{"GDPR-18 Telenor: contract use stops while restricted", TEL,
 "customer_service", "contract", R, ALL, NOBODY, NODEMAND,
 RESTRICTED(NONE), TWEAK_NONE, DENY, "GDPR-18", "contract"},
{"GDPR-18 Telenor: bookkeeping continues while restricted", TEL,
 "bookkeeper", "bookkeeping", R, ALL, NOBODY, NODEMAND, RESTRICTED(NONE),
 TWEAK_NONE, ALLOW, "GDPR-32", "bookkeeping"},

/* ---- CEKURA ---- */
{"CEK-SHARE-1 family members without prior agreement", CEK,
 "customer_service", "customer_admin", D, IDS("name", "phone"),
 "family_members", NODEMAND, CLEAN, TWEAK_NONE, DENY, "CEK-SHARE-1",
 "recipient 'family_members' needs a prior agreement"},
{"CEK-SHARE-1 family members with prior agreement", CEK,
 "customer_service", "customer_admin", D, IDS("name", "phone"),
 "family_members", NODEMAND, AGREED("family_members"), TWEAK_NONE, ALLOW,
 "CEK-SHARE-1", "prior agreement on record"},
{"CEK-SHARE-1 GP with consent but no prior agreement", CEK,
 "customer_service", "special_needs", D, ALL, "general_practitioner",
 NODEMAND, CONSENT("special_needs"), TWEAK_NONE, DENY, "CEK-SHARE-1",
 "general_practitioner"},
{"CEK-SHARE-1 CEK-SPECIAL-1 GP with consent and prior agreement", CEK,
 "customer_service", "special_needs", D, IDS("health", "name"),
 "general_practitioner", NODEMAND,
 {0, 0, IDS("special_needs"), IDS("general_practitioner")}, TWEAK_NONE,
 ALLOW, "CEK-SHARE-1", "general_practitioner"},
{"CEK-SHARE-1 public authorities: agreement with family does not count",
 CEK, "customer_service", "customer_admin", D, ALL, "public_authorities",
 NODEMAND, AGREED("family_members"), TWEAK_NONE, DENY, "CEK-SHARE-1",
 "public_authorities"},
{"CEK-SHARE-1 GP does not receive data for customer administration", CEK,
 "customer_service", "customer_admin", D, ALL, "general_practitioner",
 NODEMAND, AGREED("general_practitioner"), TWEAK_NONE, DENY,
 "AURA-SHARE-1", "does not receive data for purpose 'customer_admin'"},
{"CEK-XFER-1 family members moved outside the EU (hand-built)", CEK,
 "customer_service", "customer_admin", D, ALL, "family_members", NODEMAND,
 AGREED("family_members"), TWEAK_OUTSIDE_EEA, DENY, "CEK-XFER-1",
 "promises no transfer"},
{"CEK-SPECIAL-1 GDPR-7 special needs without consent", CEK,
 "customer_service", "special_needs", R, ALL, NOBODY, NODEMAND, CLEAN,
 TWEAK_NONE, DENY, "GDPR-7", "special_needs"},
{"CEK-SPECIAL-1 special needs with consent", CEK, "customer_service",
 "special_needs", R, ALL, NOBODY, NODEMAND, CONSENT("special_needs"),
 TWEAK_NONE, ALLOW, "GDPR-32", "special_needs"},
{"CEK-SPECIAL-1 special needs without art9 (hand-built)", CEK,
 "customer_service", "special_needs", R, IDS("family_relations"), NOBODY,
 NODEMAND, CONSENT("special_needs"), TWEAK_NO_ART9, DENY, "CEK-SPECIAL-1",
 "category 'family_relations' is special"},
{"CEK-SPECIAL-1 health is not released for customer administration", CEK,
 "customer_service", "customer_admin", R, IDS("health"), NOBODY, NODEMAND,
 CLEAN, TWEAK_NONE, DENY, "GDPR-32",
 "category 'health' is not used by purpose 'customer_admin'"},
{"CEK-RIGHTS-1 GDPR-21 objection stops postal marketing", CEK, "marketing",
 "marketing_post", R, ALL, NOBODY, NODEMAND, OBJECTED(NONE), TWEAK_NONE,
 DENY, "GDPR-21", "marketing_post"},
{"CEK-PURP-2 postal marketing under (f) needs no consent", CEK,
 "marketing", "marketing_post", R, ALL, NOBODY, NODEMAND, CLEAN,
 TWEAK_NONE, ALLOW, "GDPR-32", "marketing_post"},
{"CEK-PURP-2 GDPR-7 electronic marketing without consent", CEK,
 "marketing", "marketing_consent", R, ALL, NOBODY, NODEMAND, CLEAN,
 TWEAK_NONE, DENY, "GDPR-7", "marketing_consent"},
{"GDPR-18 CEK-HOLD-1 disputes continue while restricted", CEK,
 "customer_service_manager", "disputes", R, ALL, NOBODY, NODEMAND,
 RESTRICTED(NONE), TWEAK_NONE, ALLOW, "GDPR-32", "disputes"},
{"GDPR-18 CEKURA: customer administration stops while restricted", CEK,
 "customer_service_manager", "customer_admin", R, ALL, NOBODY, NODEMAND,
 RESTRICTED(NONE), TWEAK_NONE, DENY, "GDPR-18", "customer_admin"},

/* ---- web shop ---- */
{"SHOP-RIGHTS-1 GDPR-18 legal claims while restricted", SHOP,
 "management", "legal_claims", R, ALL, NOBODY, NODEMAND, RESTRICTED(NONE),
 TWEAK_NONE, ALLOW, "GDPR-32", "legal_claims"},
{"SHOP-RIGHTS-1 GDPR-18 orders stop while restricted", SHOP,
 "customer_service", "orders", R, ALL, NOBODY, NODEMAND, RESTRICTED(NONE),
 TWEAK_NONE, DENY, "GDPR-18", "orders"},
{"SHOP-RIGHTS-1 GDPR-21 objection stops the newsletter", SHOP, "marketing",
 "newsletter", R, ALL, NOBODY, NODEMAND, OBJECTED(IDS("newsletter")),
 TWEAK_NONE, DENY, "GDPR-21", "newsletter"},
{"SHOP-MKT-2 pixels to Google with cookie consent", SHOP, "marketing",
 "marketing_pixels", D, ALL, "google", NODEMAND,
 CONSENT("marketing_pixels"), TWEAK_NONE, ALLOW, "AURA-SHARE-1", "google"},
{"SHOP-MKT-2 GDPR-7 pixels without consent", SHOP, "marketing",
 "marketing_pixels", D, ALL, "google", NODEMAND, CLEAN, TWEAK_NONE, DENY,
 "GDPR-7", "marketing_pixels"},
{"SHOP-PAY-1 payment gateway gets no order history", SHOP,
 "customer_service", "orders", D, ALL, "payment_gateway", NODEMAND, CLEAN,
 TWEAK_NONE, DENY, "AURA-SHARE-1",
 "recipient 'payment_gateway' does not receive category 'orders'"},
{"SHOP-PAY-1 AOPT-SHARE-1 payment gateway under its agreement", SHOP,
 "customer_service", "orders", D, IDS("customer_name", "billing_address"),
 "payment_gateway", NODEMAND, CLEAN, TWEAK_NONE, ALLOW, "AURA-SHARE-1",
 "agreement 'DPA-SHOP-PAY-001'"},
{"TEL-LOG-3 shop authorities on a statutory obligation with reference", SHOP, "bookkeeper",
 "bookkeeping", D, ALL, "authorities", "statutory_obligation",
 "SKAT-2025-1", CLEAN, TWEAK_NONE, ALLOW, "TEL-LOG-3",
 "statutory_obligation"},
{"TEL-LOG-3 shop authorities refuse another kind of demand", SHOP,
 "bookkeeper", "bookkeeping", D, ALL, "authorities", COURT, REF, CLEAN,
 TWEAK_NONE, DENY, "TEL-LOG-3", "needs a statutory_obligation"},

/* ---- AURA Fiber ---- */
{"AURA-SHARE-1 web analytics may not use self-service data", AURA,
 "web_analytics", "self_service", R, ALL, NOBODY, NODEMAND, CLEAN,
 TWEAK_NONE, DENY, "AURA-SHARE-1",
 "role 'web_analytics' may not use purpose 'self_service'"},
{"AURA-SHARE-1 customer service reads self-service data", AURA,
 "customer_service", "self_service", R, ALL, NOBODY, NODEMAND, CLEAN,
 TWEAK_NONE, ALLOW, "GDPR-32",
 "role 'customer_service' may read for purpose 'self_service'"},
{"AURA-SHARE-1 IT supplier under its processor agreement", AURA,
 "customer_service", "identification", D, ALL, "it_suppliers", NODEMAND,
 CLEAN, TWEAK_NONE, ALLOW, "AURA-SHARE-1",
 "processor 'it_suppliers' for purpose 'identification' under agreement "
 "'DPA-AURA-IT-001'"},
{"AURA-SHARE-1 a role without the purpose cannot disclose it", AURA,
 "customer_service", "visit_statistics", D, ALL, "it_suppliers", NODEMAND,
 CLEAN, TWEAK_NONE, DENY, "AURA-SHARE-1",
 "role 'customer_service' may not use purpose 'visit_statistics'"},
{"AURA-SHARE-1 authorities get no visit statistics", AURA,
 "web_analytics", "visit_statistics", D, ALL, "authorities",
 "statutory_obligation", "REF-1", CLEAN, TWEAK_NONE, DENY, "AURA-SHARE-1",
 "recipient 'authorities' does not receive data for purpose "
 "'visit_statistics'"},
{"AURA-SHARE-1 processor without agreement (hand-built)", AURA,
 "customer_service", "self_service", D, ALL, "it_suppliers", NODEMAND,
 CLEAN, TWEAK_NO_AGREEMENT, DENY, "AURA-SHARE-1",
 "no data processing agreement"},
{"AURA-COOKIE-1 GDPR-7 basis (f) needs no consent record in the gate",
 AURA, "web_analytics", "visit_statistics", R, ALL, NOBODY, NODEMAND,
 CLEAN, TWEAK_NONE, ALLOW, "GDPR-32", "visit_statistics"},
};
// clang-format on

#define NCASES (sizeof cases / sizeof cases[0])

/* ------------------------------------------------------------------ */
/* Running a row                                                      */
/* ------------------------------------------------------------------ */

static size_t
index_of(long idx, const char *kind, const char *id, const char *row)
{
	if (idx < 0)
		fail_msg("%s: no %s '%s' in the policy", row, kind, id);
	return (size_t)idx;
}

/* The saved fields a tweak changes. */
struct undo {
	int cleared;
	char art9;
	int outside_eea;
	char country[3];
	char *safeguard;
	char *agreement;
};

static void
apply_tweak(struct policy *p, const struct gate_case *c,
            const struct gate_request *r, struct undo *u)
{
	struct policy_role *role = &p->roles[r->role];
	struct policy_purpose *pp = &p->purposes[r->purpose];
	struct policy_recipient *rc =
	        r->recipient >= 0 ? &p->recipients[r->recipient] : NULL;

	memset(u, 0, sizeof(*u));
	u->cleared = role->cleared;
	u->art9 = pp->art9;
	if (rc != NULL) {
		u->outside_eea = rc->outside_eea;
		memcpy(u->country, rc->country, sizeof u->country);
		u->safeguard = rc->safeguard;
		u->agreement = rc->agreement;
	}
	switch (c->tweak) {
	case TWEAK_NONE: break;
	case TWEAK_UNCLEARED: role->cleared = 0; break;
	case TWEAK_NO_ART9: pp->art9 = 0; break;
	case TWEAK_OUTSIDE_EEA:
		assert_non_null(rc);
		rc->outside_eea = 1;
		memcpy(rc->country, "US", 3);
		break;
	case TWEAK_TO_CN:
		assert_non_null(rc);
		rc->outside_eea = 1;
		memcpy(rc->country, "CN", 3);
		break;
	case TWEAK_NO_SAFEGUARD:
		assert_non_null(rc);
		rc->safeguard = NULL;
		break;
	case TWEAK_NO_AGREEMENT:
		assert_non_null(rc);
		rc->agreement = NULL;
		break;
	}
}

static void
undo_tweak(struct policy *p, const struct gate_request *r, const struct undo *u)
{
	struct policy_recipient *rc =
	        r->recipient >= 0 ? &p->recipients[r->recipient] : NULL;

	p->roles[r->role].cleared = u->cleared;
	p->purposes[r->purpose].art9 = u->art9;
	if (rc != NULL) {
		rc->outside_eea = u->outside_eea;
		memcpy(rc->country, u->country, sizeof rc->country);
		rc->safeguard = u->safeguard;
		rc->agreement = u->agreement;
	}
}

static void
run_case(void **state)
{
	const struct gate_case *c = *state;
	struct policy *p = loaded[c->pol];
	size_t cats[16], ncats = 0, expect[POLICY_ITEMS_MAX], nexpect = 0;
	unsigned char consent[POLICY_ITEMS_MAX] = {0};
	unsigned char agreed[POLICY_ITEMS_MAX] = {0};
	size_t released[POLICY_ITEMS_MAX];
	struct gate_request r = {0};
	struct gate_decision d;
	struct undo u = {0};
	size_t i, j;

	assert_non_null(p);
	r.role = index_of(policy_role_index(p, c->role), "role", c->role,
	                  c->name);
	r.purpose = index_of(policy_purpose_index(p, c->purpose), "purpose",
	                     c->purpose, c->name);
	r.action = c->action;
	r.recipient = -1;
	if (c->recipient != NULL)
		r.recipient =
		        (long)index_of(policy_recipient_index(p, c->recipient),
		                       "recipient", c->recipient, c->name);
	r.demand = c->demand;
	r.demand_ref = c->demand_ref;
	if (c->categories != NULL) {
		for (i = 0; c->categories[i] != NULL; i++) {
			assert_true(ncats < 16);
			cats[ncats++] = index_of(
			        policy_category_index(p, c->categories[i]),
			        "category", c->categories[i], c->name);
		}
		r.categories = cats;
		r.ncategories = ncats;
	}
	for (i = 0; c->state.consent && c->state.consent[i]; i++) {
		size_t k =
		        index_of(policy_purpose_index(p, c->state.consent[i]),
		                 "purpose", c->state.consent[i], c->name);

		assert_true(k < POLICY_ITEMS_MAX);
		if (k < POLICY_ITEMS_MAX)
			consent[k] = 1;
	}
	for (i = 0; c->state.agreed && c->state.agreed[i]; i++) {
		size_t k =
		        index_of(policy_recipient_index(p, c->state.agreed[i]),
		                 "recipient", c->state.agreed[i], c->name);

		assert_true(k < POLICY_ITEMS_MAX);
		if (k < POLICY_ITEMS_MAX)
			agreed[k] = 1;
	}
	struct gate_state s = {
	        .restricted = c->state.restricted,
	        .objected_marketing = c->state.objected_marketing,
	        .consent = consent,
	        .agreed = agreed,
	};

	/* Garbage in the outputs: the gate must set every field. */
	memset(&d, 0x5a, sizeof d);
	d.allow = !c->allow;
	d.nreleased = 999;

	apply_tweak(p, c, &r, &u);
	enum vaern_err err = gate_decide(p, &r, &s, &d, released);
	undo_tweak(p, &r, &u);

	assert_int_equal(err, VAERN_OK);
	if (d.allow != c->allow || d.rule == NULL ||
	    strcmp(d.rule, c->rule) != 0 || strstr(d.reason, c->reason) == NULL)
		fail_msg("%s:\n  expected %s %s \"...%s...\"\n  got      %s "
		         "%s \"%s\"",
		         c->name, c->allow ? "allow" : "deny", c->rule,
		         c->reason, d.allow ? "allow" : "deny",
		         d.rule ? d.rule : "(null)", d.reason);
	assert_non_null(memchr(d.reason, '\0', sizeof d.reason));
	/* A reason names ids, never a value (the case reference). */
	if (c->demand_ref != NULL && c->demand_ref[0] != '\0')
		assert_null(strstr(d.reason, c->demand_ref));

	if (!c->allow) {
		assert_int_equal(d.nreleased, 0); /* a deny releases nothing */
		return;
	}
	/* Released: the categories asked for, once each, in order; or all
	 * the purpose uses. */
	if (c->categories != NULL) {
		for (i = 0; i < ncats; i++) {
			for (j = 0; j < nexpect && expect[j] != cats[i]; j++)
				;
			if (j == nexpect)
				expect[nexpect++] = cats[i];
		}
	} else {
		const struct policy_purpose *pp = &p->purposes[r.purpose];
		for (i = 0; i < pp->ncategories; i++)
			expect[nexpect++] = pp->categories[i];
	}
	assert_int_equal(d.nreleased, nexpect);
	for (i = 0; i < nexpect; i++) {
		assert_int_equal(released[i], expect[i]);
		assert_true(policy_purpose_uses(p, r.purpose, released[i]));
	}
}

/* ------------------------------------------------------------------ */
/* Malformed requests                                                 */
/* ------------------------------------------------------------------ */

/* GDPR-32: an index out of range is a caller bug: VAERN_E_INVALID and a
 * deny that releases nothing. */
static void
test_malformed(void **state)
{
	const struct policy *p = loaded[TP];
	size_t released[POLICY_ITEMS_MAX];
	size_t ok_cat[1], bad_cat[2];
	long support = policy_role_index(p, "support");
	long admin = policy_purpose_index(p, "customer_admin");
	long it = policy_recipient_index(p, "it_supplier");
	struct gate_state s = {0};
	(void)state;

	assert_true(support >= 0 && admin >= 0 && it >= 0);
	ok_cat[0] = (size_t)policy_category_index(p, "name");
	bad_cat[0] = ok_cat[0];
	bad_cat[1] = p->ncategories;

	const struct {
		const char *name;
		struct gate_request r;
		const char *reason;
	} rows[] = {
	        {"role out of range",
	         {p->nroles, (size_t)admin, GATE_READ, NULL, 0, -1, NULL, NULL,
	          0, NULL, 0},
	         "role index"},
	        {"purpose out of range",
	         {(size_t)support, p->npurposes, GATE_READ, NULL, 0, -1, NULL,
	          NULL, 0, NULL, 0},
	         "purpose index"},
	        {"category out of range",
	         {(size_t)support, (size_t)admin, GATE_READ, bad_cat, 2, -1,
	          NULL, NULL, 0, NULL, 0},
	         "category index"},
	        {"empty category list",
	         {(size_t)support, (size_t)admin, GATE_READ, ok_cat, 0, -1,
	          NULL, NULL, 0, NULL, 0},
	         "empty list"},
	        {"unknown action",
	         {(size_t)support, (size_t)admin, (enum gate_action)5, NULL, 0,
	          -1, NULL, NULL, 0, NULL, 0},
	         "unknown action"},
	        {"disclose without recipient",
	         {(size_t)support, (size_t)admin, GATE_DISCLOSE, NULL, 0, -1,
	          NULL, NULL, 0, NULL, 0},
	         "disclose needs a recipient"},
	        {"disclose to a recipient out of range",
	         {(size_t)support, (size_t)admin, GATE_DISCLOSE, NULL, 0,
	          (long)p->nrecipients, NULL, NULL, 0, NULL, 0},
	         "out of range"},
	        {"read with a recipient",
	         {(size_t)support, (size_t)admin, GATE_READ, NULL, 0, it, NULL,
	          NULL, 0, NULL, 0},
	         "only disclose has a recipient"},
	        {"export with a recipient",
	         {(size_t)support, (size_t)admin, GATE_EXPORT, NULL, 0, it,
	          NULL, NULL, 0, NULL, 0},
	         "only disclose has a recipient"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct gate_decision d;
		memset(&d, 0x5a, sizeof d);
		enum vaern_err err =
		        gate_decide(p, &rows[i].r, &s, &d, released);
		if (err != VAERN_E_INVALID || d.allow != 0 ||
		    d.nreleased != 0 || d.rule == NULL ||
		    strcmp(d.rule, "GDPR-32") != 0 ||
		    strstr(d.reason, rows[i].reason) == NULL)
			fail_msg("GDPR-32 malformed request, %s: got %s %d "
			         "%s \"%s\"",
			         rows[i].name, vaern_strerror(err), d.allow,
			         d.rule ? d.rule : "(null)", d.reason);
	}
}

/* CEK-XFER-1: under `transfers: none` the loader refuses a recipient
 * outside the EU/EEA (the gate refuses one too: the hand-built rows). */
static void
test_transfers_none_refused(void **state)
{
	static struct policy_diags diags;
	struct policy *p = NULL;
	int seen = 0;
	(void)state;

	memset(&diags, 0, sizeof diags);
	assert_int_equal(policy_load_buffer(tp_none_us_yaml,
	                                    strlen(tp_none_us_yaml), &p,
	                                    &diags),
	                 VAERN_E_INVALID);
	assert_null(p);
	for (size_t i = 0; i < diags.count; i++)
		if (strstr(diags.items[i].message, "CEK-XFER-1") != NULL &&
		    strstr(diags.items[i].message, "cloud_us") != NULL)
			seen = 1;
	if (!seen)
		print_diags("(transfers none, US recipient)", &diags);
	assert_true(seen);
}

/* The gate is a pure function: the same question, the same answer; NULL
 * state arrays read as all zero (no consent, no agreement). */
static void
test_pure_and_null_state(void **state)
{
	const struct policy *p = loaded[CEK];
	size_t rel1[POLICY_ITEMS_MAX], rel2[POLICY_ITEMS_MAX];
	struct gate_decision d1, d2;
	struct gate_state s = {0};
	struct gate_request r = {
	        .role = (size_t)policy_role_index(p, "customer_service"),
	        .purpose = (size_t)policy_purpose_index(p, "customer_admin"),
	        .action = GATE_READ,
	        .recipient = -1,
	};
	(void)state;

	assert_int_equal(gate_decide(p, &r, &s, &d1, rel1), VAERN_OK);
	assert_int_equal(gate_decide(p, &r, &s, &d2, rel2), VAERN_OK);
	assert_int_equal(d1.allow, 1);
	assert_int_equal(d1.allow, d2.allow);
	assert_string_equal(d1.rule, d2.rule);
	assert_string_equal(d1.reason, d2.reason);
	assert_int_equal(d1.nreleased, d2.nreleased);
	assert_memory_equal(rel1, rel2, d1.nreleased * sizeof rel1[0]);

	/* GDPR-7, CEK-SHARE-1 with NULL consent and agreed arrays. */
	r.purpose = (size_t)policy_purpose_index(p, "marketing_consent");
	r.role = (size_t)policy_role_index(p, "marketing");
	assert_int_equal(gate_decide(p, &r, &s, &d1, rel1), VAERN_OK);
	assert_int_equal(d1.allow, 0);
	assert_string_equal(d1.rule, "GDPR-7");
	r.role = (size_t)policy_role_index(p, "customer_service");
	r.purpose = (size_t)policy_purpose_index(p, "customer_admin");
	r.action = GATE_DISCLOSE;
	r.recipient = policy_recipient_index(p, "family_members");
	assert_int_equal(gate_decide(p, &r, &s, &d1, rel1), VAERN_OK);
	assert_int_equal(d1.allow, 0);
	assert_string_equal(d1.rule, "CEK-SHARE-1");
}

/* ------------------------------------------------------------------ */
/* Answers to the person (GATE_ANSWER), the operator, the release      */
/* ------------------------------------------------------------------ */

static size_t
role_of(const struct policy *p, const char *id)
{
	long r = policy_role_index(p, id);

	assert_true(r >= 0);
	return (size_t)r;
}

static int
released_has(const size_t *released, size_t n, size_t ci)
{
	for (size_t i = 0; i < n; i++)
		if (released[i] == ci)
			return 1;
	return 0;
}

/* GDPR-15, GDPR-20, TEL-LOG-2, AOPT-ACCESS-1, table-driven on Telenor:
 * who answers, and which categories the answer may show. */
static void
test_answer_GDPR_15_TEL_LOG_2(void **state)
{
	const struct policy *p = loaded[TEL];
	size_t released[POLICY_ITEMS_MAX];
	size_t logging = (size_t)policy_category_index(p, "logging_data");
	size_t email = (size_t)policy_category_index(p, "email");
	struct gate_state restricted = {1, 0, NULL, NULL, NULL};
	static const struct gate_rights_request verified = {
	        1, 1, 1, 1, "access", "received", "code"};
	static const struct gate_rights_request unverified = {
	        1, 1, 1, 0, "access", "received", NULL};
	static const struct gate_rights_request closed = {
	        1, 1, 0, 1, "access", "completed", "code"};
	static const struct gate_rights_request other_kind = {
	        1, 1, 1, 1, "erasure", "received", "code"};
	static const struct gate_rights_request other_subject = {
	        1, 0, 1, 1, "access", "received", "code"};
	const struct {
		const char *name;
		size_t role;
		int portability;
		const struct gate_rights_request *q;
		int allow;
		const char *rule, *reason;
		int logging_shown;
	} rows[] = {
	        {"GDPR-15 the DPO answers; logging data withheld (TEL-LOG-2)",
	         role_of(p, "dpo"), 0, NULL, 1, "GDPR-15", "answered by role",
	         0},
	        {"GDPR-20 the DPO's portable copy; logging data withheld",
	         role_of(p, "dpo"), 1, NULL, 1, "GDPR-20", "portability", 0},
	        {"GDPR-15 customer service without a request is refused",
	         role_of(p, "customer_service"), 0, NULL, 0, "GDPR-15",
	         "audit: true", 0},
	        {"AOPT-ACCESS-1 customer service with a verified request",
	         role_of(p, "customer_service"), 0, &verified, 1, "GDPR-15",
	         "verified by code", 0},
	        {"TEL-LOG-2 the cleared logging officer's answer shows it",
	         role_of(p, "logging_officer"), 0, &verified, 1, "GDPR-15",
	         "verified", 1},
	        {"GDPR-32 the local operator answers and sees every category",
	         GATE_ROLE_OPERATOR, 0, NULL, 1, "GDPR-15", "operator", 1},
	        {"AOPT-ACCESS-1 an unverified request is refused",
	         role_of(p, "customer_service"), 0, &unverified, 0, "GDPR-15",
	         "AOPT-ACCESS-1", 0},
	        {"GDPR-15 a closed request is refused",
	         role_of(p, "customer_service"), 0, &closed, 0, "GDPR-15",
	         "the request is completed", 0},
	        {"GDPR-15 a request of another kind is refused",
	         role_of(p, "customer_service"), 0, &other_kind, 0, "GDPR-15",
	         "not access", 0},
	        {"GDPR-20 an access request does not authorise the copy",
	         role_of(p, "customer_service"), 1, &verified, 0, "GDPR-20",
	         "not portability", 0},
	        {"GDPR-15 a request about another subject is refused",
	         role_of(p, "customer_service"), 0, &other_subject, 0,
	         "GDPR-15", "another subject", 0},
	};
	(void)state;

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct gate_request r = {0};
		struct gate_decision d;

		r.role = rows[i].role;
		r.action = GATE_ANSWER;
		r.recipient = -1;
		r.portability = rows[i].portability;
		r.request = rows[i].q;
		/* Restricted: the person's own right is not restricted. */
		assert_int_equal(gate_decide(p, &r, &restricted, &d, released),
		                 VAERN_OK);
		if (d.allow != rows[i].allow || strcmp(d.rule, rows[i].rule) ||
		    strstr(d.reason, rows[i].reason) == NULL)
			fail_msg("%s: got %s %s \"%s\"", rows[i].name,
			         d.allow ? "allow" : "deny", d.rule, d.reason);
		if (!d.allow) {
			assert_int_equal(d.nreleased, 0);
			continue;
		}
		assert_true(released_has(released, d.nreleased, email));
		if (released_has(released, d.nreleased, logging) !=
		    rows[i].logging_shown)
			fail_msg("%s: logging_data %s", rows[i].name,
			         rows[i].logging_shown ? "withheld" : "shown");
	}
}

/* GDPR-32: the local operator reads, and neither exports for a purpose
 * nor discloses. */
static void
test_operator_GDPR_32(void **state)
{
	const struct policy *p = loaded[TEL];
	size_t released[POLICY_ITEMS_MAX];
	struct gate_state s = {0};
	struct gate_request r = {0};
	struct gate_decision d;
	(void)state;

	r.role = GATE_ROLE_OPERATOR;
	r.action = GATE_READ;
	r.recipient = -1;
	assert_int_equal(gate_decide(p, &r, &s, &d, released), VAERN_OK);
	assert_true(d.allow);
	assert_int_equal(d.nreleased, p->ncategories);
	r.action = GATE_EXPORT;
	assert_int_equal(gate_decide(p, &r, &s, &d, released), VAERN_OK);
	assert_false(d.allow);
	assert_int_equal(d.nreleased, 0);
	r.action = GATE_DISCLOSE;
	r.recipient = 0;
	assert_int_equal(gate_decide(p, &r, &s, &d, released), VAERN_OK);
	assert_false(d.allow);
}

/* CEK-PURP-5, table-driven on Cekura: a purpose the person has not been
 * told of (long enough) is refused to staff and to the local operator
 * naming it; the other purposes, and the person's own answer, are not. */
static void
test_untold_CEK_PURP_5(void **state)
{
	const struct policy *p = loaded[CEK];
	size_t released[POLICY_ITEMS_MAX];
	unsigned char untold[POLICY_ITEMS_MAX] = {0};
	size_t cs = (size_t)policy_role_index(p, "customer_service");
	size_t admin = (size_t)policy_purpose_index(p, "customer_admin");
	size_t comp = (size_t)policy_purpose_index(p, "competitions");
	static const struct {
		int role_operator;  /* 1: the local operator */
		int purpose_untold; /* 1: the purpose asked is untold */
		enum gate_action action;
		int allow;
	} rows[] = {
	        {0, 1, GATE_READ, 0},    {0, 0, GATE_READ, 1},
	        {0, 1, GATE_COLLECT, 0}, {0, 1, GATE_EXPORT, 0},
	        {1, 1, GATE_COLLECT, 0}, {1, 0, GATE_COLLECT, 1},
	};
	(void)state;

	untold[comp] = 1;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct gate_state s = {0};
		struct gate_request r = {0};
		struct gate_decision d;

		s.untold = untold;
		r.role = rows[i].role_operator ? GATE_ROLE_OPERATOR : cs;
		r.purpose = rows[i].purpose_untold ? comp : admin;
		r.action = rows[i].action;
		r.recipient = -1;
		assert_int_equal(gate_decide(p, &r, &s, &d, released),
		                 VAERN_OK);
		assert_int_equal(d.allow, rows[i].allow);
		if (!rows[i].allow)
			assert_string_equal(d.rule, "CEK-PURP-5");
	}
}

/* CONVENTIONS.md item 13: only an allow mints a release, once, after an
 * audit entry; the release opens its subject's released categories only. */
static void
test_release_minted_by_allow_only(void **state)
{
	const struct policy *p = loaded[TEL];
	size_t released[POLICY_ITEMS_MAX];
	struct gate_state s = {0};
	struct gate_request r = {0};
	struct gate_decision d, forged;
	struct gate_release rel;
	static const unsigned char uid[GATE_SUBJECT_BYTES] = {1, 2, 3};
	static const unsigned char other[GATE_SUBJECT_BYTES] = {9};
	size_t logging = (size_t)policy_category_index(p, "logging_data");
	size_t name = (size_t)policy_category_index(p, "name");
	(void)state;

	/* A deny mints nothing. */
	r.role = role_of(p, "customer_service");
	r.purpose = (size_t)policy_purpose_index(p, "data_retention_logging");
	r.action = GATE_READ;
	r.recipient = -1;
	assert_int_equal(gate_decide(p, &r, &s, &d, released), VAERN_OK);
	assert_false(d.allow);
	assert_int_equal(gate_release_mint(p, &d, released, uid, 1, &rel),
	                 VAERN_E_DENIED);
	assert_int_not_equal(rel.magic, 0x6a7e4e1eUL);
	/* A decision built by hand (allow = 1, no mark) mints nothing. */
	memset(&forged, 0, sizeof forged);
	forged.allow = 1;
	forged.nreleased = 1;
	released[0] = logging;
	assert_int_equal(gate_release_mint(p, &forged, released, uid, 1, &rel),
	                 VAERN_E_DENIED);
	/* An allow without an audit entry mints nothing. */
	r.purpose = (size_t)policy_purpose_index(p, "contract");
	assert_int_equal(gate_decide(p, &r, &s, &d, released), VAERN_OK);
	assert_true(d.allow);
	assert_int_equal(gate_release_mint(p, &d, released, uid, 0, &rel),
	                 VAERN_E_DENIED);
	/* After its entry it mints once; the release opens the released
	 * categories of that subject only. */
	assert_int_equal(gate_release_mint(p, &d, released, uid, 7, &rel),
	                 VAERN_OK);
	assert_int_equal(rel.audit_seq, 7);
	assert_true(gate_release_allows(&rel, uid, name));
	assert_false(gate_release_allows(&rel, uid, logging));
	assert_false(gate_release_allows(&rel, other, name));
	assert_int_equal(gate_release_mint(p, &d, released, uid, 8, &rel),
	                 VAERN_E_DENIED); /* spent */
}

int
main(void)
{
	static struct CMUnitTest tests[7 + NCASES];
	size_t n = 0;

	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_malformed);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(
	        test_transfers_none_refused);
	tests[n++] =
	        (struct CMUnitTest)cmocka_unit_test(test_pure_and_null_state);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(
	        test_answer_GDPR_15_TEL_LOG_2);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_operator_GDPR_32);
	tests[n++] =
	        (struct CMUnitTest)cmocka_unit_test(test_untold_CEK_PURP_5);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(
	        test_release_minted_by_allow_only);
	for (size_t i = 0; i < NCASES; i++) {
		tests[n].name = cases[i].name;
		tests[n].test_func = run_case;
		tests[n].setup_func = NULL;
		tests[n].teardown_func = NULL;
		/* cmocka hands initial_state back as *state; run_case only
		 * reads it. */
		tests[n].initial_state = (void *)(uintptr_t)&cases[i];
		n++;
	}
	return cmocka_run_group_tests(tests, setup_policies, teardown_policies);
}
