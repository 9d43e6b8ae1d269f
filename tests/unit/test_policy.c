/*
 * test_policy.c -- the policy loader and checker (src/policy).
 *
 * Most cases are table-driven: a valid base policy with one defect edited
 * in; each checks that loading fails, that nothing is returned, and that a
 * diagnostic with the expected words stands at the expected line. The
 * clause each case proves is named in its row.
 */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"

/* A valid policy that exercises every section. Line numbers matter: the
 * table below refers to them. */
static const char base_policy[] =
        "vaern: 1\n"                                             /*  1 */
        "controller:\n"                                          /*  2 */
        "  id: shop\n"                                           /*  3 */
        "  name: Test ApS\n"                                     /*  4 */
        "  country: DK\n"                                        /*  5 */
        "  registration: \"21628549\"\n"                         /*  6 */
        "  email: privacy@example.dk\n"                          /*  7 */
        "  authority: {name: Datatilsynet, url: https://x.dk}\n" /*  8 */
        "  policy_version: 2026-01-01\n"                         /*  9 */
        "events:\n"                                              /* 10 */
        "  relationship_end: The relationship ended\n"           /* 11 */
        "categories:\n"                                          /* 12 */
        "  name: {description: Full name}\n"                     /* 13 */
        "  email: {identifier: email}\n"                         /* 14 */
        "  health: {special: health}\n"                          /* 15 */
        "  location: {source: automatic}\n"                      /* 16 */
        "purposes:\n"                                            /* 17 */
        "  customer_admin:\n"                                    /* 18 */
        "    basis: b\n"                                         /* 19 */
        "    categories: [name, email]\n"                        /* 20 */
        "  care:\n"                                              /* 21 */
        "    basis: [a]\n"                                       /* 22 */
        "    art9: a\n"                                          /* 23 */
        "    categories: [health]\n"                             /* 24 */
        "    consent: {sources: [web_form]}\n"                   /* 25 */
        "  logging:\n"                                           /* 26 */
        "    basis: c\n"                                         /* 27 */
        "    categories: [location]\n"                           /* 28 */
        "    requires_clearance: true\n"                         /* 29 */
        "  stats:\n"                                             /* 30 */
        "    basis: f\n"                                         /* 31 */
        "    legitimate_interests: Improve the service\n"        /* 32 */
        "    categories: [name]\n"                               /* 33 */
        "retention:\n"                                           /* 34 */
        "  customers:\n"                                         /* 35 */
        "    categories: [name, email, health]\n"                /* 36 */
        "    anchor: relationship_end\n"                         /* 37 */
        "    period: 2 years\n"                                  /* 38 */
        "  log:\n"                                               /* 39 */
        "    categories: [location]\n"                           /* 40 */
        "    anchor: collected\n"                                /* 41 */
        "    period: 1 year\n"                                   /* 42 */
        "recipients:\n"                                          /* 43 */
        "  host:\n"                                              /* 44 */
        "    name: Hosting provider\n"                           /* 45 */
        "    type: processor\n"                                  /* 46 */
        "    agreement: DPA-1\n"                                 /* 47 */
        "    purposes: [customer_admin]\n"                       /* 48 */
        "  police:\n"                                            /* 49 */
        "    name: Police\n"                                     /* 50 */
        "    type: authority\n"                                  /* 51 */
        "    needs: legal_demand\n"                              /* 52 */
        "    demand: court_order\n"                              /* 53 */
        "    purposes: [logging]\n"                              /* 54 */
        "transfers: none\n"                                      /* 55 */
        "roles:\n"                                               /* 56 */
        "  support:\n"                                           /* 57 */
        "    purposes: [customer_admin, care]\n"                 /* 58 */
        "  security:\n"                                          /* 59 */
        "    purposes: [logging]\n"                              /* 60 */
        "    cleared: true\n";                                   /* 61 */

/* One edit: the first occurrence of find becomes replace. */
struct edit {
	const char *find;
	const char *replace;
};

struct bad_case {
	const char *name; /* what is wrong, and the clause it proves */
	struct edit edits[3];
	const char *expect; /* a substring of the diagnostic */
	unsigned line;      /* where it must stand */
};

/* As bad_case, with the column the diagnostic must stand at too. */
struct bad_pos_case {
	const char *name;
	struct edit edits[3];
	const char *expect;
	unsigned line, column;
};

static const struct bad_case bad_cases[] = {
        /* Issue 10: the new keys of events and rules. */
        {"known_in_advance is a boolean (AOPT-CUST-1)",
         {{"  relationship_end: The relationship ended\n",
           "  relationship_end: {known_in_advance: yes}\n"}},
         "known_in_advance must be true or false",
         11},
        {"on_withdrawal names an undefined purpose (SHOP-MKT-1)",
         {{"  relationship_end: The relationship ended\n",
           "  relationship_end: {on_withdrawal: newsletter}\n"}},
         "on_withdrawal names undefined purpose 'newsletter'",
         11},
        {"on_consent names a purpose that records no consent (SHOP-MKT-1)",
         {{"  relationship_end: The relationship ended\n",
           "  relationship_end: {on_consent: customer_admin}\n"}},
         "purpose 'customer_admin' records no consent",
         11},
        {"waits_for names no anchor of the rule (TEL-RET-1)",
         {{"    period: 2 years\n",
           "    period: 2 years\n    waits_for: last_contact\n"}},
         "waits_for 'last_contact' is not an event of its anchor",
         39},
        {"waits_for an event that ends no state (TEL-RET-1)",
         {{"    period: 2 years\n",
           "    period: 2 years\n    waits_for: relationship_end\n"}},
         "waits_for 'relationship_end' ends no running state",
         39},
        /* docs/policy.md: an unknown key is an error. */
        {"unknown key",
         {{"    period: 2 years\n", "    retension: 5 years\n"
                                    "    period: 2 years\n"}},
         "unknown key 'retension' in retention rule 'customers'",
         38},
        {"unknown key suggests the known one",
         {{"    period: 2 years\n", "    perid: 2 years\n"}},
         "did you mean 'period'?",
         38},
        {"unknown top-level key",
         {{"transfers: none\n", "transfers: none\ntransfer: none\n"}},
         "unknown key 'transfer'",
         56},
        {"duplicate key",
         {{"  name: Test ApS\n", "  name: Test ApS\n  name: Other ApS\n"}},
         "duplicate key 'name'",
         5},
        {"duplicate id in a section",
         {{"  location: {source: automatic}\n",
           "  location: {source: automatic}\n  name: {}\n"}},
         "duplicate key 'name' (first at line 13)",
         17},
        {"undefined category, with suggestion",
         {{"categories: [name, email]", "categories: [name, emial]"}},
         "undefined category 'emial' in purpose 'customer_admin' (did you "
         "mean 'email'?)",
         20},
        {"undefined purpose in a role",
         {{"[customer_admin, care]", "[customer_admin, caer]"}},
         "undefined purpose 'caer' in role 'support'",
         58},
        {"undefined purpose in a recipient",
         {{"purposes: [customer_admin]", "purposes: [custmer_admin]"}},
         "undefined purpose 'custmer_admin' in recipient 'host'",
         48},
        {"undefined event as retention anchor",
         {{"anchor: relationship_end", "anchor: relation_end"}},
         "undefined event 'relation_end' in retention rule 'customers'",
         37},
        {"category listed twice",
         {{"categories: [name, email]", "categories: [name, name]"}},
         "listed twice",
         20},
        /* CEK-SPECIAL-1, SHOP-SPECIAL-1: Art. 9 data needs art9. */
        {"special category without art9 (CEK-SPECIAL-1)",
         {{"    art9: a\n", ""}},
         "category 'health' is special (Art. 9) but purpose 'care' has no "
         "art9 condition",
         23},
        {"special category in a basis-f purpose (SHOP-SPECIAL-1)",
         {{"categories: [name]\n", "categories: [name, health]\n"}},
         "category 'health' is special (Art. 9) but purpose 'stats'",
         33},
        {"art9 letter out of range",
         {{"    art9: a\n", "    art9: k\n"}},
         "art9 'k' is not a letter a-j",
         23},
        /* GDPR-7: consent is recorded, so the purpose says how. */
        {"consent basis without consent sources (GDPR-7)",
         {{"    consent: {sources: [web_form]}\n", ""}},
         "purpose 'care' uses basis (a) but has no consent.sources",
         22},
        {"consent with an empty list of sources (GDPR-7)",
         {{"{sources: [web_form]}", "{sources: []}"}},
         "purpose 'care' uses basis (a) but has no consent.sources",
         22},
        {"explicit consent (art9 a) without sources (GDPR-7)",
         {{"    basis: [a]\n", "    basis: [b]\n"},
          {"    consent: {sources: [web_form]}\n", ""}},
         "uses art9 (a), explicit consent, but has no consent.sources",
         23},
        {"basis f without legitimate interests",
         {{"    legitimate_interests: Improve the service\n", ""}},
         "purpose 'stats' uses basis (f) but states no legitimate_interests",
         31},
        {"basis not a letter a-f",
         {{"    basis: b\n", "    basis: g\n"}},
         "basis 'g' is not a letter a-f",
         19},
        {"purpose without basis",
         {{"    basis: b\n", ""}},
         "purpose 'customer_admin' has no basis",
         18},
        /* CEK-MAND-1: mandatory categories are among the purpose's. */
        {"mandatory category outside the purpose (CEK-MAND-1)",
         {{"categories: [name, email]\n",
           "categories: [name, email]\n    mandatory: [name, health]\n"}},
         "mandatory category 'health' is not in the categories of purpose "
         "'customer_admin'",
         21},
        /* TEL-MKT-1: service messages are not marketing. */
        {"direct marketing and service message at once (TEL-MKT-1)",
         {{"    categories: [name]\n", "    categories: [name]\n"
                                       "    direct_marketing: true\n"
                                       "    service_message: true\n"}},
         "cannot be both direct_marketing and service_message",
         35},
        /* AURA-COOKIE-1, SHOP-MKT-2: the cookie category of a purpose. */
        {"unknown cookie category (AURA-COOKIE-1)",
         {{"    legitimate_interests: Improve the service\n",
           "    legitimate_interests: Improve the service\n"
           "    cookie: analytics\n"}},
         "cookie 'analytics' is not a cookie category",
         33},
        {"marketing cookie purpose that is not marketing (SHOP-MKT-2)",
         {{"    legitimate_interests: Improve the service\n",
           "    legitimate_interests: Improve the service\n"
           "    cookie: marketing\n"}},
         "cookie 'marketing' needs direct_marketing: true",
         33},
        {"one cookie category named by two purposes (AURA-COOKIE-1)",
         {{"    basis: b\n", "    basis: b\n    cookie: statistics\n"},
          {"    legitimate_interests: Improve the service\n",
           "    legitimate_interests: Improve the service\n"
           "    cookie: statistics\n"}},
         "cookie category 'statistics' is already that of purpose "
         "'customer_admin'",
         34},
        {"boolean other than true/false",
         {{"    cleared: true\n", "    cleared: yes\n"}},
         "cleared must be true or false",
         61},
        /* Retention: anchor and period are required. */
        {"retention rule without anchor",
         {{"    anchor: collected\n", ""}},
         "retention rule 'log' has no anchor",
         39},
        {"retention rule without period",
         {{"    period: 1 year\n", ""}},
         "retention rule 'log' has no period",
         39},
        {"retention rule with a bad period",
         {{"period: 1 year", "period: 1 fortnight"}},
         "retention rule 'log': period",
         42},
        {"retention keep without anonymise",
         {{"    period: 1 year\n", "    period: 1 year\n"
                                   "    keep: [location]\n"}},
         "keep needs action: anonymise",
         43},
        /* TEL-RET-1: every category has a rule that ends it. */
        {"category without a retention rule (TEL-RET-1)",
         {{"[name, email, health]", "[name, email]"}},
         "category 'health' has no retention rule",
         15},
        /* Controller. */
        {"invalid CVR", {{"\"21628549\"", "\"21628548\""}}, "registration:", 6},
        {"invalid organisationsnummer",
         {{"  country: DK\n  registration: \"21628549\"\n",
           "  country: SE\n  registration: 559331-7324\n"}},
         "registration:",
         6},
        {"valid organisationsnummer, invalid CVR format for DK",
         {{"\"21628549\"", "559331-7323"}},
         "registration:",
         6},
        {"DK controller without registration",
         {{"  registration: \"21628549\"\n", ""}},
         "controller has no registration",
         2},
        {"unknown country code",
         {{"  country: DK\n", "  country: DN\n"}},
         "country 'DN' is not an ISO 3166 alpha-2 country code",
         5},
        {"lower-case country code",
         {{"  country: DK\n", "  country: dk\n"}},
         "country 'dk' is not an ISO 3166",
         5},
        {"UK instead of GB",
         {{"    name: Hosting provider\n", "    name: Hosting provider\n"
                                           "    country: UK\n"}},
         "use GB",
         46},
        {"invalid controller e-mail",
         {{"privacy@example.dk", "privacy.example.dk"}},
         "controller: email",
         7},
        /* AURA-VER-1: the policy carries its version date. */
        {"missing policy_version (AURA-VER-1)",
         {{"  policy_version: 2026-01-01\n", ""}},
         "controller has no policy_version",
         2},
        {"policy_version not a real date (AURA-VER-1)",
         {{"2026-01-01", "2026-02-30"}},
         "policy_version",
         9},
        {"financial year ending 02-29",
         {{"  policy_version: 2026-01-01\n", "  policy_version: 2026-01-01\n"
                                             "  financial_year_end: 02-29\n"}},
         "financial_year_end",
         10},
        {"language not da, sv or en",
         {{"  policy_version: 2026-01-01\n", "  policy_version: 2026-01-01\n"
                                             "  language: de\n"}},
         "unknown language 'de'",
         10},
        {"authority without name",
         {{"{name: Datatilsynet, url: https://x.dk}", "{url: https://x.dk}"}},
         "controller.authority has no name",
         8},
        {"missing language version",
         {{"vaern: 1\n", ""}},
         "the policy has no vaern",
         1},
        {"wrong language version",
         {{"vaern: 1\n", "vaern: 2\n"}},
         "language version 1",
         1},
        {"invalid id",
         {{"  support:\n", "  Support:\n"}},
         "role id 'Support' is not valid",
         57},
        {"id longer than 64 bytes",
         {{"  support:\n",
           "  a234567890123456789012345678901234567890123456789012345678901"
           "2345:\n"}},
         "is not valid",
         57},
        /* CEK-XFER-1: no transfer outside the EU/EEA at all. */
        {"recipient outside the EEA under transfers: none (CEK-XFER-1)",
         {{"    name: Hosting provider\n", "    name: Hosting provider\n"
                                           "    country: US\n"}},
         "transfers: none, but recipient 'host' is in US (outside the "
         "EU/EEA)",
         46},
        /* CEK-XFER-1: "never outside the EU" holds for the EEA's three
         * non-members (issue 11, point 7). */
        {"recipient in Norway under transfers: eu_only (CEK-XFER-1)",
         {{"    name: Hosting provider\n", "    name: Hosting provider\n"
                                           "    country: NO\n"},
          {"transfers: none\n", "transfers: eu_only\n"}},
         "transfers: eu_only, but recipient 'host' is in NO (outside the "
         "EU)",
         46},
        {"recipient in the US under transfers: eu_only (CEK-XFER-1)",
         {{"    name: Hosting provider\n", "    name: Hosting provider\n"
                                           "    country: US\n"},
          {"transfers: none\n", "transfers: eu_only\n"}},
         "transfers: eu_only, but recipient 'host' is in US",
         46},
        {"transfers neither a word nor a list",
         {{"transfers: none\n", "transfers: eu\n"}},
         "transfers must be eu_only, eea_only (or none)",
         55},
        /* TEL-CAT-3, GDPR-20: declared sources (issue 11, point 5). */
        {"source without kind (TEL-CAT-3)",
         {{"    cleared: true\n", "    cleared: true\nsources:\n"
                                  "  krak: {name: Krak (118.dk)}\n"}},
         "source 'krak' has no kind",
         63},
        {"source of an unknown kind (TEL-CAT-3)",
         {{"    cleared: true\n", "    cleared: true\nsources:\n"
                                  "  krak: {name: Krak, kind: gossip}\n"}},
         "unknown kind 'gossip'",
         63},
        {"source without name (TEL-CAT-3)",
         {{"    cleared: true\n", "    cleared: true\nsources:\n"
                                  "  krak: {kind: third_party}\n"}},
         "has no name",
         63},
        /* SHOP-PAY-1: the card-expiry warning names fitting categories. */
        {"card_expiry_warning on categories of the wrong format (SHOP-PAY-1)",
         {{"    categories: [name, email]\n",
           "    categories: [name, email]\n"
           "    card_expiry_warning: {card: name, next_payment: name, "
           "to: email}\n"}},
         "card must be a category of the purpose with format "
         "card_last4_expiry",
         21},
        {"card_expiry_warning to a category the purpose lacks (SHOP-PAY-1)",
         {{"    categories: [name, email]\n",
           "    categories: [name, email]\n"
           "    card_expiry_warning: {card: name, next_payment: name, "
           "to: health}\n"}},
         "to must be a category of the purpose with identifier email",
         21},
        /* AURA-XFER-1: a transfer outside needs a recorded safeguard. */
        {"recipient outside the EEA without safeguard (AURA-XFER-1)",
         {{"    name: Hosting provider\n", "    name: Hosting provider\n"
                                           "    country: US\n"},
          {"transfers: none\n", "transfers:\n  - {country: US, safeguard: "
                                "scc}\n"}},
         "recipient 'host' in US has no safeguard",
         46},
        {"safeguard with no matching transfers entry (AURA-XFER-1)",
         {{"    name: Hosting provider\n", "    name: Hosting provider\n"
                                           "    country: US\n"
                                           "    safeguard: bcr\n"},
          {"transfers: none\n", "transfers:\n  - {country: US, safeguard: "
                                "scc}\n"}},
         "safeguard matches no transfers entry for US",
         47},
        {"transfer entry without safeguard (AURA-XFER-1)",
         {{"transfers: none\n", "transfers:\n  - {country: US}\n"}},
         "transfer has no safeguard",
         56},
        /* AURA-SHARE-1: processors act under an agreement. */
        {"processor without agreement (AURA-SHARE-1)",
         {{"    agreement: DPA-1\n", ""}},
         "recipient 'host' is a processor but has no agreement",
         46},
        {"third party without a condition (AURA-SHARE-1, CEK-SHARE-1)",
         {{"    type: processor\n", "    type: third_party\n"},
          {"    agreement: DPA-1\n", ""}},
         "is a third party but has no needs",
         46},
        /* TEL-LOG-3: the police get logging data on a court order. */
        {"authority without legal demand (TEL-LOG-3)",
         {{"    needs: legal_demand\n", "    needs: consent\n"}},
         "recipient 'police' is an authority but needs no legal_demand",
         52},
        {"authority with no needs at all (TEL-LOG-3)",
         {{"    needs: legal_demand\n", ""}},
         "recipient 'police' is an authority but needs no legal_demand",
         51},
        {"legal demand without the kind of demand (TEL-LOG-3)",
         {{"    demand: court_order\n", ""}},
         "names no demand",
         52},
        {"recipient category no purpose of it uses",
         {{"    purposes: [customer_admin]\n",
           "    purposes: [customer_admin]\n"
           "    categories: [health]\n"}},
         "receives category 'health', which none of its purposes uses",
         49},
        /* TEL-LOG-2: only cleared staff read logging data. */
        {"uncleared role with a clearance purpose (TEL-LOG-2)",
         {{"    cleared: true\n", ""}},
         "role 'security' lists purpose 'logging' which requires clearance, "
         "but the role is not cleared",
         60},
        /* SHOP-PAY-1: never a full card number. */
        {"identifier card (SHOP-PAY-1)",
         {{"{identifier: email}", "{identifier: card}"}},
         "identifier: card is refused: vaern never stores a full card number",
         14},
        {"unknown special kind",
         {{"{special: health}", "{special: wealth}"}},
         "special 'wealth' is not an Art. 9 kind",
         15},
        {"third-party source without naming the party (TEL-CAT-3)",
         {{"{source: automatic}", "{source: third_party}"}},
         "category 'location' has no from",
         16},
        {"unknown right",
         {{"transfers: none\n",
           "transfers: none\nrights: [access, oblivion]\n"}},
         "unknown right 'oblivion'",
         56},
        {"AOPT-ACCESS-1 request_channels: unknown request type",
         {{"transfers: none\n",
           "transfers: none\nrequest_channels:\n  oblivion: [email]\n"}},
         "unknown request type 'oblivion'",
         57},
        {"AOPT-ACCESS-1 request_channels: unknown channel",
         {{"transfers: none\n",
           "transfers: none\nrequest_channels:\n  access: [email, "
           "pigeon]\n"}},
         "access: unknown channel 'pigeon'",
         57},
        {"AOPT-ACCESS-1 request_channels: no channel at all",
         {{"transfers: none\n",
           "transfers: none\nrequest_channels:\n  access: []\n"}},
         "access accepts no channel at all",
         57},
        /* Plain YAML only: no anchors, aliases or tags (billion laughs). */
        {"anchor",
         {{"  name: {description", "  name: &n {description"}},
         "anchors (&n) are not allowed",
         13},
        {"alias",
         {{"  name: {description", "  name: &n {description"},
          {"  email: {identifier: email}", "  email: *n"}},
         "aliases (*n) are not allowed",
         14},
        {"tag",
         {{"period: 2 years", "period: !!str 2 years"}},
         "tags (!!str) are not allowed",
         38},
        {"value of the wrong type",
         {{"period: 2 years", "period: [2 years]"}},
         "period must be a single value, not a list",
         38},
        {"a list where a mapping is wanted",
         {{"  care:\n", "  care: [a]\n  old:\n"}},
         "purpose 'care' must be a mapping",
         21},
        /* The bytes. */
        {"non-UTF-8 bytes", {{"Full name", "Full \xff name"}}, "not UTF-8", 13},
        {"NUL byte in a value",
         {{"Full name", "\"Full \\0 name\""}},
         "NUL character",
         13},
        {"YAML syntax error",
         {{"  name: Test ApS\n", "  name: [Test ApS\n"}},
         "YAML",
         6},
        {"two YAML documents",
         {{"    cleared: true\n", "    cleared: true\n---\nvaern: 1\n"}},
         "one YAML document",
         62},
};

/* The retention keys: each defect at its line and column. */
static const struct bad_pos_case bad_pos_cases[] = {
        /* Events that end a state (`ends:`; CEK-RET-1, AOPT-CUST-1). */
        {"event ends an undefined event (CEK-RET-1)",
         {{"  relationship_end: The relationship ended\n",
           "  relationship_start: Started\n"
           "  relationship_end: {description: Ended, ends: rel_begin}\n"}},
         "event 'relationship_end': ends undefined event 'rel_begin'",
         12,
         48},
        {"event ends itself (CEK-RET-1)",
         {{"  relationship_end: The relationship ended\n",
           "  relationship_end: {ends: relationship_end}\n"}},
         "event 'relationship_end' cannot end itself",
         11,
         28},
        {"event ends an end (AOPT-CUST-1)",
         {{"  relationship_end: The relationship ended\n",
           "  relationship_start: Started\n"
           "  relationship_end: {ends: relationship_start}\n"
           "  relationship_end_end: {ends: relationship_end}\n"}},
         "event 'relationship_end_end' ends 'relationship_end', which "
         "itself ends a state",
         13,
         32},
        {"unknown key in an event",
         {{"  relationship_end: The relationship ended\n",
           "  relationship_start: Started\n"
           "  relationship_end: {description: Ended, end: "
           "relationship_start}\n"}},
         "unknown key 'end' in event 'relationship_end' (did you mean "
         "'ends'?)",
         12,
         42},
        {"event that is a list",
         {{"  relationship_end: The relationship ended\n",
           "  relationship_end: [ended]\n"}},
         "event 'relationship_end' must have a description (text) or be a "
         "mapping",
         11,
         21},
        /* TEL-STAT-1: what survives anonymisation fits its category. */
        {"keep year on a text category (TEL-STAT-1)",
         {{"    period: 2 years\n", "    period: 2 years\n"
                                    "    action: anonymise\n"
                                    "    keep: {name: year}\n"}},
         "retention rule 'customers': category 'name' cannot be kept as "
         "year: it needs a category of format date",
         40,
         18},
        {"keep area on an identifier (TEL-STAT-1)",
         {{"    period: 2 years\n", "    period: 2 years\n"
                                    "    action: anonymise\n"
                                    "    keep:\n"
                                    "      name: as_is\n"
                                    "      email: area\n"}},
         "category 'email' cannot be kept as area: it needs a postcode "
         "category of format text",
         42,
         14},
        {"keep lists an identifier, kept as is (TEL-STAT-1)",
         {{"    period: 2 years\n", "    period: 2 years\n"
                                    "    action: anonymise\n"
                                    "    keep: [name, email]\n"}},
         "keep lists category 'email', which would survive as is, but an "
         "identifier kept as is still identifies",
         40,
         18},
        {"keep special data (TEL-STAT-1, CEK-SPECIAL-1)",
         {{"    period: 2 years\n", "    period: 2 years\n"
                                    "    action: anonymise\n"
                                    "    keep: {health: as_is}\n"}},
         "category 'health' cannot be kept as as_is: special (Art. 9) data "
         "does not survive anonymisation",
         40,
         20},
        {"keep with an unknown generalisation (TEL-STAT-1)",
         {{"    period: 2 years\n", "    period: 2 years\n"
                                    "    action: anonymise\n"
                                    "    keep: {name: blur}\n"}},
         "keep 'name': unknown generalisation 'blur' (one of: as_is, year, "
         "age_band, area, drop)",
         40,
         18},
        {"keep an undefined category, with suggestion",
         {{"    period: 2 years\n", "    period: 2 years\n"
                                    "    action: anonymise\n"
                                    "    keep: {nme: as_is}\n"}},
         "undefined category 'nme' in retention rule 'customers' keep (did "
         "you mean 'name'?)",
         40,
         12},
        {"keep a category of another rule",
         {{"    period: 2 years\n", "    period: 2 years\n"
                                    "    action: anonymise\n"
                                    "    keep: {location: as_is}\n"}},
         "retention rule 'customers' keeps category 'location', which is "
         "not one of its categories",
         40,
         12},
        {"keep that is a single value",
         {{"    period: 2 years\n", "    period: 2 years\n"
                                    "    action: anonymise\n"
                                    "    keep: name\n"}},
         "keep must be a mapping (category: generalisation) or a list",
         40,
         11},
        /* TEL-MKT-2: rules that hold consent records. */
        {"consents of a purpose without consent (TEL-MKT-2)",
         {{"  log:\n", "  consent_records:\n"
                       "    consents: [care, customer_admin]\n"
                       "    period: 2 years\n"
                       "  log:\n"}},
         "purpose 'customer_admin' records no consent (basis a, art9 a or "
         "consent.sources)",
         40,
         22},
        {"consents of an undefined purpose (TEL-MKT-2)",
         {{"  log:\n", "  consent_records:\n"
                       "    consents: [carx]\n"
                       "    period: 2 years\n"
                       "  log:\n"}},
         "undefined purpose 'carx' in retention rule 'consent_records' (did "
         "you mean 'care'?)",
         40,
         16},
        {"consent records with an anchor (TEL-MKT-2)",
         {{"  log:\n", "  consent_records:\n"
                       "    consents: [care]\n"
                       "    anchor: collected\n"
                       "    period: 2 years\n"
                       "  log:\n"}},
         "anchor applies to categories; a consent record is kept from the "
         "later of the consent's end and its last use",
         41,
         13},
        {"consent records anonymised (TEL-MKT-2, GDPR-7)",
         {{"  log:\n", "  consent_records:\n"
                       "    consents: [care]\n"
                       "    period: 2 years\n"
                       "    action: anonymise\n"
                       "  log:\n"}},
         "consent records are documentation: they are deleted, not "
         "anonymised",
         42,
         13},
        {"retention rule with neither categories nor consents",
         {{"    categories: [location]\n    anchor: collected\n",
           "    anchor: collected\n"}},
         "retention rule 'log' has no categories",
         39,
         3},
};

/* Returns base_policy with the edits of c applied (caller frees). */
static char *
apply_edits(const struct edit *edits)
{
	char *text = strdup(base_policy);
	size_t i;

	assert_non_null(text);
	for (i = 0; i < 3 && edits[i].find != NULL; i++) {
		char *at = strstr(text, edits[i].find), *next;
		size_t head, flen = strlen(edits[i].find);
		size_t rlen = strlen(edits[i].replace), tail;

		if (at == NULL)
			fail_msg("edit not found: %s", edits[i].find);
		head = (size_t)(at - text);
		tail = strlen(at + flen);
		next = malloc(head + rlen + tail + 1);
		assert_non_null(next);
		memcpy(next, text, head);
		memcpy(next + head, edits[i].replace, rlen);
		memcpy(next + head + rlen, at + flen, tail + 1);
		free(text);
		text = next;
	}
	return text;
}

static void
print_diags(const struct policy_diags *d)
{
	size_t i;

	for (i = 0; i < d->count; i++)
		print_message("  %u:%u: %s\n", d->items[i].line,
		              d->items[i].column, d->items[i].message);
}

/* Returns 1 if a diagnostic at line (and column, unless 0) holds expect. */
static int
has_diag_at(const struct policy_diags *d, const char *expect, unsigned line,
            unsigned column)
{
	size_t i;

	for (i = 0; i < d->count; i++)
		if (d->items[i].line == line &&
		    (column == 0 || d->items[i].column == column) &&
		    strstr(d->items[i].message, expect) != NULL)
			return 1;
	return 0;
}

static int
has_diag(const struct policy_diags *d, const char *expect, unsigned line)
{
	return has_diag_at(d, expect, line, 0);
}

static void
assert_sorted(const struct policy_diags *d)
{
	size_t i;

	for (i = 1; i < d->count; i++) {
		const struct policy_diag *a = &d->items[i - 1],
		                         *b = &d->items[i];

		assert_true(a->line < b->line ||
		            (a->line == b->line && a->column <= b->column));
	}
}

static void
test_base_policy_loads(void **state)
{
	struct policy *p = NULL;
	struct policy_diags d;

	(void)state;
	if (policy_load_buffer(base_policy, strlen(base_policy), &p, &d) !=
	    VAERN_OK) {
		print_diags(&d);
		fail_msg("the base policy must load");
	}
	assert_int_equal(d.count, 0);
	assert_non_null(p);
	policy_free(p);
}

/* Loads base_policy with edits; 1 if refused with expect at line (and
 * column, unless 0), nothing returned; else prints what came. */
static int
refused_at(const char *name, const struct edit *edits, const char *expect,
           unsigned line, unsigned column)
{
	char *text = apply_edits(edits);
	struct policy *p = (struct policy *)&p;
	struct policy_diags d;
	enum vaern_err err;
	int ok;

	err = policy_load_buffer(text, strlen(text), &p, &d);
	ok = err == VAERN_E_INVALID && p == NULL &&
	     has_diag_at(&d, expect, line, column);
	if (!ok) {
		print_message("FAIL %s: err %d, want '%s' at %u:%u; got:\n",
		              name, (int)err, expect, line, column);
		print_diags(&d);
	}
	assert_sorted(&d);
	policy_free(p == (struct policy *)&p ? NULL : p);
	free(text);
	return ok;
}

static void
test_bad_policies(void **state)
{
	size_t i, failures = 0;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		failures +=
		        !refused_at(bad_cases[i].name, bad_cases[i].edits,
		                    bad_cases[i].expect, bad_cases[i].line, 0);
	assert_int_equal(failures, 0);
}

/* CEK-RET-1, AOPT-CUST-1, TEL-STAT-1, TEL-MKT-2: the retention keys'
 * defects, each reported at its line:column. */
static void
test_bad_retention_keys_positioned(void **state)
{
	size_t i, failures = 0;

	(void)state;
	for (i = 0; i < sizeof(bad_pos_cases) / sizeof(bad_pos_cases[0]); i++)
		failures += !refused_at(
		        bad_pos_cases[i].name, bad_pos_cases[i].edits,
		        bad_pos_cases[i].expect, bad_pos_cases[i].line,
		        bad_pos_cases[i].column);
	assert_int_equal(failures, 0);
}

/* Several defects are reported together, in file order. */
static void
test_all_problems_at_once(void **state)
{
	static const struct edit edits[] = {
	        /* listed out of file order on purpose */
	        {"    cleared: true\n", ""},                   /* TEL-LOG-2 */
	        {"{identifier: email}", "{identifier: card}"}, /* SHOP-PAY-1 */
	        {"    agreement: DPA-1\n", ""}, /* AURA-SHARE-1 */
	};
	struct edit three[3];
	struct policy *p = NULL;
	struct policy_diags d;
	char *text;

	(void)state;
	memcpy(three, edits, sizeof(three));
	text = apply_edits(three);
	assert_int_equal(policy_load_buffer(text, strlen(text), &p, &d),
	                 VAERN_E_INVALID);
	assert_null(p);
	print_diags(&d);
	assert_int_equal(d.count, 3);
	assert_int_equal(d.items[0].line, 14);
	assert_non_null(strstr(d.items[0].message, "SHOP-PAY-1"));
	assert_int_equal(d.items[1].line, 46);
	assert_non_null(strstr(d.items[1].message, "AURA-SHARE-1"));
	assert_int_equal(d.items[2].line, 59);
	assert_non_null(strstr(d.items[2].message, "TEL-LOG-2"));
	free(text);
}

/* Many defects: the first POLICY_DIAG_MAX are kept, the rest counted. */
static void
test_diag_overflow(void **state)
{
	size_t cap = 64 * 1024, used, i;
	struct policy *p = NULL;
	struct policy_diags d;
	char *text = malloc(cap);

	(void)state;
	assert_non_null(text);
	used = (size_t)snprintf(text, cap, "vaern: 1\ncategories:\n");
	for (i = 0; i < 300; i++)
		used += (size_t)snprintf(text + used, cap - used,
		                         "  Bad%zu: {}\n", i);
	assert_int_equal(policy_load_buffer(text, used, &p, &d),
	                 VAERN_E_INVALID);
	assert_null(p);
	assert_int_equal(d.count, POLICY_DIAG_MAX);
	assert_true(d.dropped > 0);
	assert_sorted(&d);
	free(text);
}

static void
test_empty_file(void **state)
{
	static const char *const empties[] = {"", "\n\n", "# only a comment\n"};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct policy *p = NULL;
		struct policy_diags d;

		assert_int_equal(policy_load_buffer(empties[i],
		                                    strlen(empties[i]), &p, &d),
		                 VAERN_E_INVALID);
		assert_null(p);
		assert_true(has_diag(&d, "empty", 0));
	}
}

static void
test_not_a_mapping(void **state)
{
	static const char text[] = "- a\n- b\n";
	struct policy *p = NULL;
	struct policy_diags d;

	(void)state;
	assert_int_equal(policy_load_buffer(text, strlen(text), &p, &d),
	                 VAERN_E_INVALID);
	assert_true(has_diag(&d, "a policy is a YAML mapping", 1));
}

/* A billion-laughs document is refused, never expanded. */
static void
test_billion_laughs(void **state)
{
	static const char text[] =
	        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	        "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
	struct policy *p = NULL;
	struct policy_diags d;

	(void)state;
	assert_int_equal(policy_load_buffer(text, strlen(text), &p, &d),
	                 VAERN_E_INVALID);
	assert_null(p);
	assert_true(has_diag(&d, "anchors (&a) are not allowed", 1));
	assert_true(has_diag(&d, "aliases (*d) are not allowed", 5));
}

static void
test_deep_nesting(void **state)
{
	char text[512];
	size_t i, n = 0;
	struct policy *p = NULL;
	struct policy_diags d;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "vaern: ");
	for (i = 0; i < 40; i++)
		text[n++] = '[';
	for (i = 0; i < 40; i++)
		text[n++] = ']';
	text[n++] = '\n';
	text[n] = '\0';
	assert_int_not_equal(policy_load_buffer(text, n, &p, &d), VAERN_OK);
	assert_null(p);
	assert_true(d.count > 0);
	assert_true(has_diag(&d, "nested more than", 1) ||
	            has_diag(&d, "YAML", 1));
}

static void
test_too_many_entries(void **state)
{
	size_t cap = 16 * 1024, used, i;
	struct policy *p = NULL;
	struct policy_diags d;
	char *text = malloc(cap);

	(void)state;
	assert_non_null(text);
	used = (size_t)snprintf(text, cap, "rights: [");
	for (i = 0; i <= POLICY_ITEMS_MAX; i++)
		used += (size_t)snprintf(text + used, cap - used, "access, ");
	used += (size_t)snprintf(text + used, cap - used, "access]\n");
	assert_int_equal(policy_load_buffer(text, used, &p, &d),
	                 VAERN_E_INVALID);
	assert_true(has_diag(&d, "more than 512 entries", 1));
	free(text);
}

static void
test_text_too_long(void **state)
{
	size_t n = POLICY_TEXT_MAX + 1;
	char *text = malloc(n + 64), *at;
	struct policy *p = NULL;
	struct policy_diags d;

	(void)state;
	assert_non_null(text);
	at = text + snprintf(text, 64, "vaern: 1\ncomplaints: ");
	memset(at, 'x', n);
	at[n] = '\n';
	at[n + 1] = '\0';
	assert_int_equal(policy_load_buffer(text, strlen(text), &p, &d),
	                 VAERN_E_INVALID);
	assert_true(has_diag(&d, "text longer than 4096 bytes", 2));
	free(text);
}

/* A buffer or a file over POLICY_FILE_MAX is refused before parsing. */
static void
test_file_too_large(void **state)
{
	size_t n = POLICY_FILE_MAX + 1;
	char *big = malloc(n), path[] = "/tmp/vaern-test-policy-XXXXXX";
	struct policy *p = NULL;
	struct policy_diags d;
	int fd;

	(void)state;
	assert_non_null(big);
	memset(big, '#', n);
	big[n - 1] = '\n';
	assert_int_equal(policy_load_buffer(big, n, &p, &d), VAERN_E_INVALID);
	assert_null(p);
	assert_true(has_diag(&d, "larger than", 0));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, big, n), (ssize_t)n);
	close(fd);
	assert_int_equal(policy_load_file(path, &p, &d), VAERN_E_INVALID);
	assert_null(p);
	assert_int_equal(d.count, 1);
	assert_true(has_diag(&d, "larger than", 0));
	unlink(path);
	free(big);
}

static void
test_missing_file(void **state)
{
	struct policy *p = NULL;
	struct policy_diags d;

	(void)state;
	assert_int_equal(policy_load_file("/nonexistent/vaern.yaml", &p, &d),
	                 VAERN_E_IO);
	assert_null(p);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.items[0].line, 0);
	assert_non_null(strstr(d.items[0].message, "cannot read"));
}

static const char *
source_path(char *buf, size_t size, const char *rel)
{
	const char *root = getenv("VAERN_SOURCE_ROOT");

	snprintf(buf, size, "%s/%s", root != NULL ? root : ".", rel);
	return buf;
}

static size_t
idx(long i)
{
	assert_true(i >= 0);
	return (size_t)i;
}

/* policies/example.yaml loads, and its references resolve to indexes. */
static void
test_example_compiles(void **state)
{
	struct policy *p = NULL;
	struct policy_diags d;
	const struct policy_purpose *news, *admin;
	const struct policy_recipient *host;
	const struct policy_retention *book;
	const struct policy_role *cs;
	unsigned char sha[32];
	char path[4096];
	size_t i, name, email, orders;
	FILE *f;
	char *buf;
	long len;

	(void)state;
	source_path(path, sizeof(path), "policies/example.yaml");
	if (policy_load_file(path, &p, &d) != VAERN_OK) {
		print_diags(&d);
		fail_msg("policies/example.yaml must load");
	}
	assert_non_null(p);

	/* Controller, with its defaults. */
	assert_string_equal(p->controller.id, "example");
	assert_string_equal(p->controller.country, "DK");
	assert_int_equal(p->controller.registration_type, ID_CVR);
	assert_string_equal(p->controller.registration, "21628549");
	assert_string_equal(p->controller.language, "da");
	assert_int_equal(p->controller.fy_end_month, 12);
	assert_int_equal(p->controller.fy_end_day, 31);
	assert_string_equal(p->controller.authority_name, "Datatilsynet");
	{
		long days;

		assert_int_equal(cal_parse_date("2026-01-01", &days, NULL),
		                 VAERN_OK);
		/* AURA-VER-1 */
		assert_int_equal(p->controller.policy_version, days);
	}
	assert_int_equal(p->rights, 0x3f); /* all six by default */
	assert_int_equal(p->transfers_none, 1);

	/* Sections and lookups. */
	assert_int_equal(p->ncategories, 5);
	assert_int_equal(p->npurposes, 3);
	assert_int_equal(p->nretention, 2);
	assert_int_equal(p->nrecipients, 1);
	assert_int_equal(p->nroles, 3);
	assert_int_equal(p->nevents, 2);
	/* GDPR-32: the data-protection officer reads the audit trail. */
	assert_int_equal(p->roles[idx(policy_role_index(p, "dpo"))].audit, 1);
	assert_int_equal(
	        p->roles[idx(policy_role_index(p, "customer_service"))].audit,
	        0);
	name = idx(policy_category_index(p, "name"));
	email = idx(policy_category_index(p, "email"));
	orders = idx(policy_category_index(p, "orders"));
	assert_int_equal(policy_category_index(p, "nope"), -1);
	assert_int_equal(policy_purpose_index(p, "nope"), -1);
	assert_int_equal(policy_role_index(p, "nope"), -1);
	assert_int_equal(policy_recipient_index(p, "nope"), -1);
	assert_int_equal(policy_event_index(p, "nope"), -1);
	assert_int_equal(p->categories[email].identifier, ID_EMAIL);
	assert_int_equal(p->categories[email].format, FORMAT_IDENTIFIER);
	assert_int_equal(p->categories[name].format, FORMAT_TEXT);
	assert_int_equal(p->categories[name].line, 21);

	/* Purposes: bases, categories, consent (GDPR-7), CEK-MAND-1. */
	news = &p->purposes[idx(policy_purpose_index(p, "newsletter"))];
	assert_int_equal(news->basis, BASIS_A);
	assert_int_equal(news->ncategories, 2);
	assert_int_equal(news->categories[0], name);
	assert_int_equal(news->categories[1], email);
	assert_int_equal(news->nconsent_sources, 2);
	assert_string_equal(news->consent_sources[0], "web_form");
	assert_string_equal(news->consent_sources[1], "portal");
	assert_non_null(news->consent_text);
	assert_int_equal(news->direct_marketing, 1);
	admin = &p->purposes[idx(policy_purpose_index(p, "customer_admin"))];
	assert_int_equal(admin->basis, BASIS_B);
	/* Issue 16: the portal, logged in to by e-mail and a code. */
	assert_true(p->portal.declared);
	assert_int_equal(p->portal.purpose,
	                 (size_t)policy_purpose_index(p, "customer_admin"));
	assert_int_equal(p->portal.nlogins, 1);
	assert_int_equal(p->portal.logins[0].n, 1);
	assert_int_equal(p->portal.logins[0].categories[0], email);
	assert_int_equal(p->portal.proofs, POLICY_PROOF_CODE);
	assert_int_equal(admin->ncategories, 5);
	assert_int_equal(admin->nmandatory, 2);
	assert_int_equal(admin->mandatory[0], name);
	assert_int_equal(admin->mandatory[1], email);
	assert_int_equal(
	        p->purposes[idx(policy_purpose_index(p, "bookkeeping"))]
	                .while_restricted,
	        1);
	assert_true(policy_purpose_uses(
	        p, idx(policy_purpose_index(p, "newsletter")), email));
	assert_false(policy_purpose_uses(
	        p, idx(policy_purpose_index(p, "newsletter")), orders));
	assert_false(policy_purpose_uses(p, 99, 0));

	/* Retention: anchors, period, legal obligation (GDPR-17). */
	book = &p->retention[1];
	assert_string_equal(book->id, "bookkeeping");
	assert_int_equal(book->ncategories, 1);
	assert_int_equal(book->categories[0], orders);
	assert_int_equal(book->nanchors, 1);
	assert_string_equal(book->anchors[0], ANCHOR_FINANCIAL_YEAR_END);
	assert_int_equal(book->period.count, 5);
	assert_int_equal(book->period.unit, PERIOD_YEARS);
	assert_non_null(book->legal_obligation);
	assert_int_equal(p->retention[0].nanchors, 3);
	assert_string_equal(p->retention[0].anchors[0], "collected");
	assert_string_equal(p->retention[0].anchors[1], "relationship_end");
	assert_string_equal(p->retention[0].anchors[2], "last_contact");
	assert_int_equal(p->retention[0].action, RETENTION_DELETE);

	/* Recipient: default country and categories (those of its
	 * purposes), processor under agreement (AURA-SHARE-1). */
	host = &p->recipients[idx(policy_recipient_index(p, "webhost"))];
	assert_int_equal(host->type, RECIPIENT_PROCESSOR);
	assert_int_equal(host->needs, NEEDS_AGREEMENT_ON_RECORD);
	assert_string_equal(host->country, "DK");
	assert_int_equal(host->outside_eea, 0);
	assert_int_equal(host->npurposes, 1);
	assert_int_equal(host->purposes[0],
	                 idx(policy_purpose_index(p, "customer_admin")));
	assert_int_equal(host->ncategories, admin->ncategories);
	for (i = 0; i < host->ncategories; i++)
		assert_true(policy_purpose_uses(p, host->purposes[0],
		                                host->categories[i]));

	/* Roles. */
	cs = &p->roles[idx(policy_role_index(p, "customer_service"))];
	assert_int_equal(cs->npurposes, 2);
	assert_int_equal(cs->purposes[1],
	                 idx(policy_purpose_index(p, "newsletter")));
	assert_int_equal(cs->cleared, 0);
	assert_int_equal(idx(policy_event_index(p, "last_contact")), 1);

	/* The hash is of the file's bytes. */
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	crypto_hash_sha256(sha, (unsigned char *)buf, (unsigned long long)len);
	assert_memory_equal(sha, p->sha256, 32);
	free(buf);
	policy_free(p);
	policy_free(NULL);
}

/* Explicit values override the defaults. */
static void
test_explicit_values(void **state)
{
	static const struct edit edits[] = {
	        {"  policy_version: 2026-01-01\n",
	         "  policy_version: 2026-01-01\n  financial_year_end: 06-30\n"
	         "  language: en\n"},
	        {"transfers: none\n",
	         "transfers:\n  - {country: US, safeguard: scc}\n"
	         "rights: [access, erasure]\n"},
	        {"    name: Hosting provider\n",
	         "    name: Hosting provider\n    country: US\n"
	         "    safeguard: scc\n    categories: [email]\n"},
	};
	struct edit three[3];
	struct policy *p = NULL;
	struct policy_diags d;
	const struct policy_recipient *host;
	char *text;

	(void)state;
	memcpy(three, edits, sizeof(three));
	text = apply_edits(three);
	if (policy_load_buffer(text, strlen(text), &p, &d) != VAERN_OK) {
		print_diags(&d);
		fail_msg("must load");
	}
	assert_int_equal(p->controller.fy_end_month, 6);
	assert_int_equal(p->controller.fy_end_day, 30);
	assert_string_equal(p->controller.language, "en");
	assert_int_equal(p->rights, RIGHT_ACCESS | RIGHT_ERASURE);
	assert_int_equal(p->transfers_none, 0);
	assert_int_equal(p->ntransfers, 1);
	assert_string_equal(p->transfers[0].country, "US");
	host = &p->recipients[0];
	assert_string_equal(host->country, "US");
	assert_int_equal(host->outside_eea, 1); /* AURA-XFER-1 */
	assert_string_equal(host->safeguard, "scc");
	assert_int_equal(host->ncategories, 1);
	assert_int_equal(host->categories[0],
	                 idx(policy_category_index(p, "email")));
	assert_int_equal(p->recipients[1].needs,
	                 NEEDS_LEGAL_DEMAND); /* TEL-LOG-3 */
	assert_string_equal(p->recipients[1].demand, "court_order");
	assert_int_equal(p->roles[1].cleared, 1); /* TEL-LOG-2 */
	assert_int_equal(p->purposes[2].requires_clearance, 1);
	assert_int_equal(p->categories[2].special, 1); /* CEK-SPECIAL-1 */
	assert_string_equal(p->categories[2].special_kind, "health");
	assert_int_equal(p->purposes[1].art9, 'a');
	assert_int_equal(p->categories[3].source, SOURCE_AUTOMATIC);
	policy_free(p);
	free(text);
}

/*
 * The retention keys of the language: an event that ends the state
 * another starts (CEK-RET-1, AOPT-CUST-1), anchors resolved to events,
 * kept categories with their generalisation (TEL-STAT-1), and a rule
 * holding consent records (TEL-MKT-2).
 */
static void
test_retention_keys_compile(void **state)
{
	static const struct edit edits[] = {
	        {"  relationship_end: The relationship ended\n",
	         "  relationship_start: Started\n"
	         "  relationship_end:\n"
	         "    description: Ended\n"
	         "    ends: relationship_start\n"},
	        {"  location: {source: automatic}\n",
	         "  location: {source: automatic}\n"
	         "  birth: {format: date}\n"
	         "  zip: {}\n"},
	        {"    categories: [name, email, health]\n"
	         "    anchor: relationship_end\n"
	         "    period: 2 years\n",
	         "    categories: [name, email, health, birth, zip]\n"
	         "    anchor: [relationship_end, collected]\n"
	         "    period: 2 years\n"
	         "    action: anonymise\n"
	         "    keep: {birth: age_band, zip: area, name: drop}\n"
	         "  care_consents:\n"
	         "    consents: [care]\n"
	         "    period: 1 year\n"},
	};
	struct edit three[3];
	struct policy *p = NULL;
	struct policy_diags d;
	const struct policy_retention *r;
	char *text;

	(void)state;
	memcpy(three, edits, sizeof(three));
	text = apply_edits(three);
	if (policy_load_buffer(text, strlen(text), &p, &d) != VAERN_OK) {
		print_diags(&d);
		fail_msg("must load");
	}
	/* relationship_end ends relationship_start; its position is kept. */
	assert_int_equal(p->nevents, 2);
	assert_string_equal(p->events[1].id, "relationship_end");
	assert_string_equal(p->events[1].description, "Ended");
	assert_int_equal(p->events[1].ends, 0);
	assert_int_equal(p->events[0].ends, -1);
	assert_string_equal(p->events[0].description, "Started");
	assert_int_equal(p->events[1].line, 12);
	assert_int_equal(p->events[1].column, 3);

	r = &p->retention[0];
	assert_string_equal(r->id, "customers");
	assert_int_equal(r->nanchors, 2);
	assert_int_equal(r->anchor_event[0], 1);
	assert_int_equal(r->anchor_event[1], ANCHOR_EVENT_COLLECTED);
	assert_int_equal(r->action, RETENTION_ANONYMISE);
	/* name: drop says it does not survive: it is not kept. */
	assert_int_equal(r->nkeep, 2);
	assert_int_equal(r->keep[0], idx(policy_category_index(p, "birth")));
	assert_int_equal(r->keep_as[0], GENERALISE_AGE_BAND);
	assert_int_equal(r->keep[1], idx(policy_category_index(p, "zip")));
	assert_int_equal(r->keep_as[1], GENERALISE_AREA);
	assert_int_equal(r->nconsents, 0);

	/* TEL-MKT-2: consent records only: no categories, no anchor. */
	r = &p->retention[1];
	assert_string_equal(r->id, "care_consents");
	assert_int_equal(r->ncategories, 0);
	assert_int_equal(r->nanchors, 0);
	assert_int_equal(r->nconsents, 1);
	assert_int_equal(r->consents[0], idx(policy_purpose_index(p, "care")));
	assert_int_equal(r->period.count, 1);
	assert_int_equal(r->period.unit, PERIOD_YEARS);
	assert_int_equal(p->retention[2].anchor_event[0],
	                 ANCHOR_EVENT_COLLECTED);
	policy_free(p);
	free(text);
}

/* The list form of keep stays valid for plain text (kept as is), and the
 * plain string form of an event stays valid (ends: none). */
static void
test_keep_list_form_and_plain_events(void **state)
{
	static const struct edit edits[] = {
	        {"    period: 2 years\n", "    period: 2 years\n"
	                                  "    action: anonymise\n"
	                                  "    keep: [name]\n"},
	        {"    anchor: collected\n", "    anchor: financial_year_end\n"},
	        {NULL, NULL},
	};
	struct edit three[3];
	struct policy *p = NULL;
	struct policy_diags d;
	char *text;

	(void)state;
	memcpy(three, edits, sizeof(three));
	text = apply_edits(three);
	if (policy_load_buffer(text, strlen(text), &p, &d) != VAERN_OK) {
		print_diags(&d);
		fail_msg("must load");
	}
	assert_int_equal(p->retention[0].nkeep, 1);
	assert_int_equal(p->retention[0].keep[0],
	                 idx(policy_category_index(p, "name")));
	assert_int_equal(p->retention[0].keep_as[0], GENERALISE_AS_IS);
	assert_int_equal(p->events[0].ends, -1);
	assert_int_equal(p->retention[0].anchor_event[0], 0);
	assert_int_equal(p->retention[1].anchor_event[0], ANCHOR_EVENT_FY_END);
	policy_free(p);
	free(text);
}

/* Issue 10: known_in_advance, on_consent/on_withdrawal, waits_for, and
 * which rules may leave a fact undated (TEL-RET-1, SHOP-MKT-1). */
static void
test_issue10_keys_compile(void **state)
{
	static const struct edit edits[] = {
	        {"  relationship_end: The relationship ended\n",
	         "  relationship_start: {on_consent: care}\n"
	         "  relationship_end: {ends: relationship_start, "
	         "on_withdrawal: care}\n"
	         "  warranty_end: {known_in_advance: true}\n"},
	        {"    period: 2 years\n",
	         "    period: 2 years\n    waits_for: relationship_end\n"},
	        {NULL, NULL}};
	char *text = apply_edits(edits);
	struct policy *p = NULL;
	struct policy_diags d;
	long start, end, warranty, care;

	(void)state;
	assert_int_equal(policy_load_buffer(text, strlen(text), &p, &d),
	                 VAERN_OK);
	start = policy_event_index(p, "relationship_start");
	end = policy_event_index(p, "relationship_end");
	warranty = policy_event_index(p, "warranty_end");
	care = policy_purpose_index(p, "care");
	assert_true(start >= 0 && end >= 0 && warranty >= 0 && care >= 0);
	assert_int_equal(p->events[start].on_consent, care);
	assert_int_equal(p->events[start].on_withdrawal, -1);
	assert_int_equal(p->events[end].on_withdrawal, care);
	assert_int_equal(p->events[end].known_in_advance, 0);
	assert_int_equal(p->events[warranty].known_in_advance, 1);
	assert_int_equal(p->retention[0].waits_for, end);
	/* customers says it waits; log runs from collection. */
	assert_false(policy_rule_may_stay_undated(p, 0));
	assert_false(policy_rule_may_stay_undated(p, 1));
	policy_free(p);
	free(text);

	/* Without waits_for, the event-only rule may leave facts undated. */
	assert_int_equal(
	        policy_load_buffer(base_policy, strlen(base_policy), &p, &d),
	        VAERN_OK);
	assert_int_equal(p->retention[0].waits_for, -1);
	assert_true(policy_rule_may_stay_undated(p, 0));
	assert_false(policy_rule_may_stay_undated(p, 1));
	assert_false(policy_rule_may_stay_undated(p, 99));
	policy_free(p);
}

static void
test_country_in_eea(void **state)
{
	static const char *const eea[] = {
	        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR",
	        "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL",
	        "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO"};
	static const char *const outside[] = {
	        "US", "GB", "CH", "CA", "AU",  "JP", "IN", "CN", "FO", "GL",
	        "EL", "UK", "dk", "D",  "DKK", "",   "TR", "RU", "AX"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(eea) / sizeof(eea[0]); i++)
		assert_true(policy_country_in_eea(eea[i]));
	for (i = 0; i < sizeof(outside) / sizeof(outside[0]); i++)
		assert_false(policy_country_in_eea(outside[i]));
	assert_false(policy_country_in_eea(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_base_policy_loads),
	        cmocka_unit_test(test_bad_policies),
	        cmocka_unit_test(test_bad_retention_keys_positioned),
	        cmocka_unit_test(test_all_problems_at_once),
	        cmocka_unit_test(test_diag_overflow),
	        cmocka_unit_test(test_empty_file),
	        cmocka_unit_test(test_not_a_mapping),
	        cmocka_unit_test(test_billion_laughs),
	        cmocka_unit_test(test_deep_nesting),
	        cmocka_unit_test(test_too_many_entries),
	        cmocka_unit_test(test_text_too_long),
	        cmocka_unit_test(test_file_too_large),
	        cmocka_unit_test(test_missing_file),
	        cmocka_unit_test(test_example_compiles),
	        cmocka_unit_test(test_explicit_values),
	        cmocka_unit_test(test_retention_keys_compile),
	        cmocka_unit_test(test_keep_list_form_and_plain_events),
	        cmocka_unit_test(test_issue10_keys_compile),
	        cmocka_unit_test(test_country_in_eea),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
