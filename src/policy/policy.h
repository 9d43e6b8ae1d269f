/*
 * policy.h -- a controller's privacy policy, loaded from YAML and compiled.
 *
 * The YAML language is documented in docs/policy.md; that document and this
 * header are the contract. policy_load_file() parses a file with libfyaml,
 * checks every rule at once and either returns a compiled policy or a list
 * of diagnostics, each with the line and column it refers to.
 *
 * A compiled policy is immutable: every string and array in it is owned by
 * the struct policy and freed by policy_free(). References between sections
 * (a purpose's categories, a role's purposes, ...) are resolved to indexes
 * into the arrays of the struct policy, so the gate never compares names.
 */
#ifndef VAERN_POLICY_H
#define VAERN_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "../calendar/calendar.h"
#include "../common/err.h"
#include "../ids/ids.h"

/* Limits of the loader (a policy over them is refused, not truncated). */
#define POLICY_FILE_MAX  (1024 * 1024) /* bytes in one YAML file */
#define POLICY_NAME_MAX  64            /* bytes in an id (key) */
#define POLICY_TEXT_MAX  4096          /* bytes in a free-text field */
#define POLICY_ITEMS_MAX 512           /* entries in one section or list */
#define POLICY_DIAG_MAX  200           /* diagnostics kept; more are counted */

/* GDPR Art. 6(1) legal bases, as a bit set: (a) is bit 0 ... (f) bit 5. */
#define BASIS_A (1u << 0) /* consent */
#define BASIS_B (1u << 1) /* contract */
#define BASIS_C (1u << 2) /* legal obligation */
#define BASIS_D (1u << 3) /* vital interests */
#define BASIS_E (1u << 4) /* public task */
#define BASIS_F (1u << 5) /* legitimate interests */

/* Where a category's data comes from (GDPR Art. 13/14; TEL-CAT-1..3). */
enum data_source {
	SOURCE_SUBJECT,     /* the person gave it */
	SOURCE_AUTOMATIC,   /* collected automatically (cookies, network) */
	SOURCE_THIRD_PARTY, /* a named third party (credit agency, ...) */
	SOURCE_CONTROLLER   /* created by the controller (customer number) */
};

/* How the vault validates a category's values. */
enum value_format {
	FORMAT_TEXT,          /* free text (never a full card number) */
	FORMAT_DATE,          /* YYYY-MM-DD */
	FORMAT_IDENTIFIER,    /* validated by ids.h as category.identifier */
	FORMAT_CARD_LAST4_EXP /* "NNNN MM/YY": last 4 digits and expiry only
	                         (SHOP-PAY-1) */
};

struct policy_category {
	char *id;                /* the key in `categories:` */
	char *description;       /* free text or NULL */
	int special;             /* 1 if an Art. 9 special category */
	char *special_kind;      /* "health", ... when special; else NULL */
	enum id_type identifier; /* ID_NONE unless values are identifiers */
	enum value_format format;
	enum data_source source;
	char *source_party;    /* the third party named, SOURCE_THIRD_PARTY */
	int about_others;      /* 1 if given by a person about someone else
	                          (CEK-CONTACT-1) */
	int traffic;           /* 1 (`store: traffic`): kept in the
	                          retained-data store, never as a fact of a
	                          person (issue 18, TEL-LOG-1) */
	unsigned line, column; /* where it is defined */
};

/* The cookie categories a visitor chooses (AURA-COOKIE-1, AOPT-COOKIE-1,
 * SHOP-MKT-2). A purpose that names one collects data automatically only
 * when the visitor's latest choice has that category on. */
enum policy_cookie {
	COOKIE_NONE,       /* not collected through cookies */
	COOKIE_NECESSARY,  /* session cookies (login, cart): never refused */
	COOKIE_STATISTICS, /* visit statistics, IP address */
	COOKIE_MARKETING   /* marketing pixels */
};

struct policy_purpose {
	char *id;
	char *description;          /* free text or NULL */
	unsigned basis;             /* BASIS_* bits, at least one */
	char art9;                  /* Art. 9(2) letter 'a'..'j', or 0 */
	char *legitimate_interests; /* required when BASIS_F is set */
	size_t *categories;         /* indexes into policy.categories */
	size_t ncategories;
	size_t *mandatory; /* categories that must be given to collect
	                      under this purpose (CEK-MAND-1) */
	size_t nmandatory;
	char **consent_sources; /* how consent is recorded (web_form, ...);
	                           required when BASIS_A is set */
	size_t nconsent_sources;
	char *consent_text;     /* the text shown when asking, or NULL */
	int direct_marketing;   /* 1 for direct marketing (GDPR-21) */
	int service_message;    /* 1 for messages about the person's own
	                           service, which opt-out does not stop
	                           (TEL-MKT-1) */
	int requires_clearance; /* only cleared roles (TEL-LOG-2) */
	int while_restricted;   /* allowed while restricted: legal claims,
	                           protection of a person, public interest
	                           (GDPR-18) */
	char **subjects;        /* categories of data subjects, as the policy
	                           words them (GDPR Art. 30(1)(c)); none: not
	                           stated */
	size_t nsubjects;
	enum policy_cookie cookie; /* the cookie category whose choice
	                              allows collecting under it
	                              (AURA-COOKIE-1, SHOP-MKT-2) */
	/* SHOP-PAY-1 `card_expiry_warning: {card, next_payment, to}`: the
	 * categories (indexes, or -1 when the purpose sends no warning) of
	 * the card's last 4 digits and expiry, the next recurring payment's
	 * date, and the e-mail address the warning goes to. */
	long warn_card, warn_payment, warn_to;
	unsigned line, column;
};

enum retention_action { RETENTION_DELETE, RETENTION_ANONYMISE };

/*
 * How a kept category survives anonymisation (TEL-STAT-1: the policy names
 * what survives). The loader allows each only on the category formats it
 * fits; src/retention/retention.h applies them to values.
 */
enum generalise {
	GENERALISE_AS_IS,    /* unchanged: only plain text that is not an
	                        identifier, a date or special (Art. 9) data */
	GENERALISE_YEAR,     /* a date (format date) to its year: "1984" */
	GENERALISE_AGE_BAND, /* a birth date (format date) to a ten-year age
	                        band on the day of anonymisation: "30-39" */
	GENERALISE_AREA,     /* a Danish or Swedish postcode (format text) to
	                        its first two digits: "83xx" */
	GENERALISE_DROP      /* does not survive: the same as not kept */
};

/* Built-in anchors; any other anchor names an event in policy.events. */
#define ANCHOR_COLLECTED "collected" /* the fact's time */
#define ANCHOR_FINANCIAL_YEAR_END                                              \
	"financial_year_end" /* end of the                                     \
financial year in which the fact was collected */

/* policy_retention.anchor_event of the built-in anchors (events are >= 0). */
#define ANCHOR_EVENT_COLLECTED (-1L)
#define ANCHOR_EVENT_FY_END    (-2L)

struct policy_retention {
	char *id;
	char *clause;       /* the CLAUSES.md id it implements, or NULL */
	size_t *categories; /* indexes into policy.categories; none when the
	                       rule holds consent records only */
	size_t ncategories;
	char **anchors; /* the period runs from the latest of these */
	size_t nanchors;
	long *anchor_event; /* parallel to anchors: the index into
	                       policy.events, or ANCHOR_EVENT_COLLECTED or
	                       ANCHOR_EVENT_FY_END */
	struct period period;
	enum retention_action action;
	size_t *keep; /* anonymise: categories that survive */
	size_t nkeep;
	enum generalise *keep_as; /* parallel to keep: how each survives
	                             (never GENERALISE_DROP; TEL-STAT-1) */
	size_t *consents; /* purposes (consent-based) whose consent records
	                     the rule holds: kept while the consent is valid
	                     and until period after the later of its end and
	                     its last use (TEL-MKT-2) */
	size_t nconsents;
	char *legal_obligation; /* the law that requires keeping, or NULL;
	                           when set, erasure waits for it (GDPR-17) */
	long waits_for; /* `waits_for: E`: the rule says it waits for E, an
	                   event anchor that ends a running state (a
	                   customer relationship), so a fact held by it
	                   only is undated until E: an index into
	                   policy.events, or -1 */
	unsigned line, column;
};

enum recipient_type {
	RECIPIENT_PROCESSOR,   /* acts on instructions under a DPA */
	RECIPIENT_THIRD_PARTY, /* an independent controller */
	RECIPIENT_AUTHORITY    /* police, tax authority, ... */
};

enum recipient_condition {
	NEEDS_AGREEMENT_ON_RECORD, /* processor: its DPA (policy.agreement) */
	NEEDS_CONSENT,             /* the person's consent */
	NEEDS_PRIOR_AGREEMENT,     /* agreed with the person beforehand */
	NEEDS_CONSENT_OR_PRIOR_AGREEMENT,
	NEEDS_LEGAL_DEMAND /* a legal demand (court order, ...) */
};

struct policy_recipient {
	char *id;
	char *name;
	enum recipient_type type;
	enum recipient_condition needs;
	char *agreement;  /* processor: the DPA reference */
	char *demand;     /* authority: the kind of demand ("court_order") */
	char country[3];  /* ISO 3166 alpha-2 */
	int outside_eea;  /* 1 if country is outside the EU/EEA */
	int outside_eu;   /* 1 if country is outside the EU (NO, IS, LI too) */
	char *safeguard;  /* Art. 46 safeguard when outside_eea */
	size_t *purposes; /* purposes it may receive data for */
	size_t npurposes;
	size_t *categories;
	size_t ncategories;
	unsigned line, column;
};

struct policy_transfer {
	char country[3];
	char *safeguard; /* "scc", "adequacy", "bcr", ... */
	unsigned line, column;
};

struct policy_role {
	char *id;
	char *description;
	size_t *purposes; /* indexes into policy.purposes */
	size_t npurposes;
	int cleared;   /* security clearance (TEL-LOG-2) */
	int audit;     /* may read the audit trail: the data-protection
	                  officer (GDPR-32) */
	int incidents; /* may handle security reports and the breach
	                  register (issue 17; SHOP-BREACH-3) */
	unsigned line, column;
};

/*
 * The deadlines of security-weakness reports (SHOP-BREACH-2): the
 * receipt within receipt_working_days working days of the controller's
 * country (DK/SE holiday calendars), the feedback within a calendar
 * period. The `incidents:` section; absent: 2 working days, 2 weeks.
 */
struct policy_incidents {
	int receipt_working_days; /* 1..30 */
	struct period feedback;   /* e.g. 2 weeks */
	unsigned line, column;    /* of the section, 0 if absent */
};

struct policy_event {
	char *id; /* e.g. "relationship_end" */
	char *description;
	long ends; /* the event whose state this one ends (`ends:`), as an
	              index into policy.events, or -1: an anchor that ends a
	              state is open while the state has started again since
	              (CEK-RET-1, AOPT-CUST-1) */
	int known_in_advance;  /* `known_in_advance: true`: may be recorded
	                          with a future date (a warranty's end at the
	                          sale, a competition's end; AOPT-CUST-1,
	                          CEK-RET-5); others never lie ahead */
	long on_consent;       /* `on_consent: P`: recorded whenever consent
	                          to purpose P (an index) is given, by any
	                          route; -1 if none */
	long on_withdrawal;    /* `on_withdrawal: P`: recorded whenever
	                          consent to P is withdrawn, by any route
	                          (SHOP-MKT-1); -1 if none */
	unsigned line, column; /* where it is defined */
};

struct policy_controller {
	char *id; /* short name used by the CLI and the API */
	char *name;
	char country[3];                /* "DK", "SE", ... */
	enum id_type registration_type; /* ID_CVR or ID_ORGNR */
	char *registration;             /* normalised registration number */
	char *address;
	char *email;
	char *phone;
	char *complaints; /* who handles complaints first (CEK-COMPLAIN-1) */
	char *authority_name;
	char *authority_url;
	long policy_version; /* days since the epoch (AURA-VER-1) */
	int fy_end_month;    /* financial-year end, 1..12 */
	int fy_end_day;      /* 1..31 */
	char language[3];    /* "da", "sv", "en" */
	char *dpo_name;      /* the data-protection officer (Art. 37), */
	char *dpo_email;     /* each NULL when not declared; a declared */
	char *dpo_phone;     /* dpo has at least one contact */
	char *dpo_address;
	char *representative;        /* Art. 27 representative, or NULL */
	struct period notice_period; /* CEK-PURP-5: how long after a person
	                                is told of a new or widened purpose
	                                it may be used for their data;
	                                `notice_period`, default 30 days */
};

enum rights_bit {
	RIGHT_ACCESS = 1u << 0,
	RIGHT_RECTIFICATION = 1u << 1,
	RIGHT_ERASURE = 1u << 2,
	RIGHT_RESTRICTION = 1u << 3,
	RIGHT_PORTABILITY = 1u << 4,
	RIGHT_OBJECTION = 1u << 5
};

/*
 * The telecom retained-data store (`traffic:`, issue 18; TEL-LOG-1..3):
 * declared means the controller keeps call, SMS and MMS records in
 * src/traffic, not as facts of a person.
 */
struct policy_traffic {
	int declared;         /* 1 if the policy has `traffic:` */
	size_t purpose;       /* index into purposes: requires clearance;
	                         cleared roles with it may query */
	size_t recipient;     /* index into recipients: the authority a
	                         delivery goes to (a court order) */
	struct period period; /* a day is kept this long after it ends */
	size_t *ingest;       /* indexes into roles: cleared roles that
	                         may feed the store (a mediation system) */
	size_t ningest;
	unsigned line, column;
};

/* The self-service portal (`portal:`, issue 16). */
#define POLICY_PORTAL_LOGINS_MAX 4  /* identifier sets that log in */
#define POLICY_PORTAL_SET_MAX    4  /* categories in one set */
#define POLICY_PORTAL_CHANGES    16 /* categories the person may record */
#define POLICY_PROOF_CODE                                                      \
	1u /* a one-time code to the contact on                                \
	      record (e-mail, else phone) */
#define POLICY_PROOF_PASSWORD                                                  \
	2u /* a password the person set                                        \
	      (argon2id) */

/* One way to log in (AURA-LOGIN-1): the identifier categories that
 * together name one person. */
struct policy_portal_login {
	size_t categories[POLICY_PORTAL_SET_MAX]; /* indexes into categories,
	                                             each an identifier */
	size_t n;
};

struct policy_portal {
	int declared;   /* 1 if the policy has `portal:` */
	size_t purpose; /* the self-service purpose (basis b): what the
	                   overview shows (AURA-PORTAL-1, -2) */
	struct policy_portal_login logins[POLICY_PORTAL_LOGINS_MAX];
	size_t nlogins;
	unsigned proofs;                       /* POLICY_PROOF_* bits */
	size_t changes[POLICY_PORTAL_CHANGES]; /* categories of the purpose
	                   the person may record a new value of (a product
	                   change, AURA-PORTAL-2) */
	size_t nchanges;
	long source; /* index into sources (kind subject) a change and a
	                consent given on the portal come from; -1: the
	                category's kind */
	unsigned line, column;
};

/* A source of facts the policy declares (TEL-CAT-3, GDPR-20): a fact's
 * `source` names one, never free text of the caller. */
struct policy_source {
	char *id;              /* the key in `sources:` ("krak") */
	char *name;            /* shown to the person ("Krak (118.dk)") */
	enum data_source kind; /* which categories it may feed */
	unsigned line, column;
};
/* The channels a rights request arrives by, in the order of the bits of
 * policy.request_channels (request_channels: in docs/policy.md). */
#define POLICY_CHANNELS_TEXT                                                   \
	"email, letter, phone, web, portal, in_person, api, opendsr"
#define POLICY_REQUEST_TYPES 7 /* access ... consent_withdrawal */

struct policy {
	struct policy_controller controller;
	struct policy_source *sources; /* `sources:`, possibly none */
	size_t nsources;
	struct policy_category *categories;
	size_t ncategories;
	struct policy_purpose *purposes;
	size_t npurposes;
	struct policy_retention *retention;
	size_t nretention;
	struct policy_recipient *recipients;
	size_t nrecipients;
	int transfers_none; /* 1 if `transfers: none`, `eea_only` or `eu_only`:
	                       nothing leaves the EU/EEA */
	int transfers_eu_only; /* 1 if `transfers: eu_only`: nothing leaves
	                          the EU, not even for Norway, Iceland or
	                          Liechtenstein (CEK-XFER-1) */
	struct policy_transfer *transfers;
	size_t ntransfers;
	struct policy_role *roles;
	size_t nroles;
	struct policy_event *events;
	size_t nevents;
	unsigned rights;                                 /* RIGHT_* bits */
	unsigned request_channels[POLICY_REQUEST_TYPES]; /* per request type
	                             (policy_request_channel_ok): a bit per
	                             channel accepted; 0: any channel
	                             (AOPT-ACCESS-1: "written" only) */
	char **security; /* technical and organisational measures as the
	                    policy states them (Art. 30(1)(g), 32); none:
	                    not stated */
	size_t nsecurity;
	struct policy_incidents incidents; /* issue 17 */
	struct policy_traffic traffic;     /* issue 18 */
	struct policy_portal portal;       /* issue 16 */
	unsigned char sha256[32];          /* of the file's bytes */
};

struct policy_diag {
	unsigned line;   /* 1-based; 0 if the problem has no position */
	unsigned column; /* 1-based */
	char message[256];
};

struct policy_diags {
	struct policy_diag items[POLICY_DIAG_MAX];
	size_t count;   /* items kept */
	size_t dropped; /* problems beyond POLICY_DIAG_MAX */
};

/*
 * Loads and checks the policy in path. On success returns VAERN_OK and sets
 * *out to a new policy the caller frees with policy_free(); diags is then
 * empty. On failure returns VAERN_E_INVALID (the file breaks rules: every
 * problem found is in diags, in file order) or VAERN_E_IO (the file cannot
 * be read: one diag with line 0) or VAERN_E_NOMEM; *out is NULL.
 */
enum vaern_err policy_load_file(const char *path, struct policy **out,
                                struct policy_diags *diags)
        __attribute__((warn_unused_result, nonnull));

/* As policy_load_file, from a buffer of len bytes (need not be NUL-ended). */
enum vaern_err policy_load_buffer(const char *buf, size_t len,
                                  struct policy **out,
                                  struct policy_diags *diags)
        __attribute__((warn_unused_result, nonnull));

/*
 * Whether a rights request of type (access, portability, rectification,
 * erasure, restriction, objection, consent_withdrawal) may arrive by
 * channel under p's request_channels (AOPT-ACCESS-1): 1 or 0 (an unknown
 * type or channel: 0). With 0 and accepted (may be NULL), the channels
 * accepted are written there, comma-separated.
 */
int policy_request_channel_ok(const struct policy *p, const char *type,
                              const char *channel, char *accepted,
                              size_t accepted_size)
        __attribute__((nonnull(1, 2, 3)));

/* 1 if p restricts the channels of request type, with them written to
 * out ("email, letter"); 0 if every channel is accepted (out ""). */
int policy_request_channels(const struct policy *p, const char *type, char *out,
                            size_t size) __attribute__((nonnull(1, 2, 3)));

/* The request types of request_channels, in order (NULL-terminated). */
extern const char *const policy_request_type_names[];

/* Frees p and everything it owns. Accepts NULL. */
void policy_free(struct policy *p);

/* Lookups by id; each returns the index, or -1 if there is none. */
long policy_category_index(const struct policy *p, const char *id);
long policy_purpose_index(const struct policy *p, const char *id);
long policy_role_index(const struct policy *p, const char *id);
long policy_recipient_index(const struct policy *p, const char *id);
long policy_event_index(const struct policy *p, const char *id);

/* Returns 1 if purpose uses category (both indexes), 0 otherwise. */
int policy_purpose_uses(const struct policy *p, size_t purpose,
                        size_t category);

/*
 * The kind of the source a fact of category c names: a kind word
 * (`subject`, `automatic`, `third_party`, `controller`), the category's
 * `from:` text (third_party), or a declared source (its kind; *out then
 * points to it, else NULL). Returns -1 if the policy declares no such
 * source. The fact is taken only when the kind is the category's own.
 */
int policy_source_kind(const struct policy *p, const struct policy_category *c,
                       const char *source, const struct policy_source **out)
        __attribute__((nonnull(1, 2, 3, 4)));

/* The declared source with this id (or, failing that, this name), or
 * NULL. */
const struct policy_source *policy_source_find(const struct policy *p,
                                               const char *id)
        __attribute__((nonnull));

/* "subject", "automatic", "third_party" or "controller". */
const char *policy_source_kind_name(enum data_source kind);

/* The first purpose declaring cookie category kind, or -1. */
long policy_cookie_purpose(const struct policy *p, enum policy_cookie kind);

/*
 * Returns 1 if a fact held by retention rule r could be stored and never
 * get a date: r holds categories, none of its anchors is `collected` or
 * `financial_year_end`, and it does not say `waits_for` (issue 10;
 * TEL-RET-1). `vaern policy check` warns of such rules.
 */
int policy_rule_may_stay_undated(const struct policy *p, size_t r)
        __attribute__((nonnull));

/* Returns 1 if the ISO 3166 alpha-2 code is an EU/EEA country. */
int policy_country_in_eea(const char *country);

/* Returns 1 if the ISO 3166 alpha-2 code is an EU member state. */
int policy_country_in_eu(const char *country);

#endif
