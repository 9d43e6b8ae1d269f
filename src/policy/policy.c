/*
 * policy.c -- load a policy from YAML, check every rule, compile it.
 *
 * Three stages:
 *  1. libfyaml's event parser feeds a small tree of our own (struct ynode)
 *     that keeps the line and column of every node. While the tree is
 *     built the limits are enforced (depth, entries, text, node count) and
 *     anchors, aliases, tags and duplicate keys are refused, so nothing
 *     later walks unbounded input and nothing is ever expanded (no
 *     "billion laughs").
 *  2. Each section is compiled into struct policy and its references are
 *     resolved to indexes. A problem is reported and compilation goes on,
 *     so one run lists every problem (docs/policy.md).
 *  3. The diagnostics are sorted into file order.
 *
 * Every string and array of the compiled policy is allocated here and
 * freed by policy_free(); the tree is freed before returning.
 *
 * This file holds the controller, the order the sections are compiled in,
 * the API and the lookups; stage 1 is in policy_yaml.c, the diagnostics
 * in policy_diag.c and the sections in policy_purposes.c,
 * policy_retention.c, policy_recipients.c, policy_roles.c and
 * policy_traffic.c. What they share is in policy_internal.h.
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

/* ---------------------------------------------------------------------
 * Stage 2: the sections.
 */

static const char *const top_keys[] = {
        "vaern",     "controller", "events",           "categories",
        "purposes",  "retention",  "recipients",       "transfers",
        "roles",     "rights",     "request_channels", "security",
        "incidents", "sources",    "traffic",          "notice_period",
        "portal",    NULL};

static const char *const controller_keys[] = {"id",
                                              "name",
                                              "country",
                                              "registration",
                                              "address",
                                              "email",
                                              "phone",
                                              "complaints",
                                              "authority",
                                              "policy_version",
                                              "financial_year_end",
                                              "language",
                                              "dpo",
                                              "representative",
                                              "notice_period",
                                              NULL};

static const char *const authority_keys[] = {"name", "url", NULL};

static const char *const dpo_keys[] = {"name", "email", "phone", "address",
                                       NULL};

static const char *const language_names[] = {"da", "sv", "en", NULL};

/* In the order of policy.request_channels (rights_type of src/rights). */
const char *const policy_request_type_names[POLICY_REQUEST_TYPES + 1] = {
        "access",      "portability", "rectification",      "erasure",
        "restriction", "objection",   "consent_withdrawal", NULL};

/* The section of the root named key: a mapping, or NULL (reported when
 * required, or when it is not a mapping). */
const struct ynode *
policy_get_section(struct loader *ld, const struct ynode *root, const char *key,
                   int required)
{
	const struct ynode *v = policy_map_get(root, key, NULL);

	if (v == NULL || policy_is_null(v)) {
		if (required)
			policy_diag(ld, v != NULL ? v : root,
			            "the policy has no %s", key);
		return NULL;
	}
	if (v->kind != Y_MAP) {
		if (!v->bad)
			policy_diag(ld, v, "%s must be a mapping of ids", key);
		return NULL;
	}
	return v;
}

/* "MM-DD", a real day in a year that is not a leap year. */
static int
parse_month_day(const char *s, int *month, int *day)
{
	int m, d;

	if (strlen(s) != 5 || s[2] != '-' || s[0] < '0' || s[0] > '9' ||
	    s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '9' ||
	    s[4] < '0' || s[4] > '9')
		return 0;
	m = (s[0] - '0') * 10 + (s[1] - '0');
	d = (s[3] - '0') * 10 + (s[4] - '0');
	if (m < 1 || m > 12 || d < 1)
		return 0;
	/* Feb 29 is not the end of a financial year every year. */
	if (d > cal_days_in_month(2023, m))
		return 0;
	*month = m;
	*day = d;
	return 1;
}

static void
compile_controller(struct loader *ld, const struct ynode *root)
{
	struct policy_controller *c = &ld->p->controller;
	const struct ynode *at, *map, *v, *auth, *raw;
	const char *ctx = "controller";
	struct vaern_msg msg;
	char norm[ID_NORM_MAX];
	int country_ok = 0, i;

	map = policy_map_get(root, "controller", &at);
	if (map == NULL || policy_is_null(map)) {
		policy_diag(ld, map != NULL ? map : root,
		            "the policy has no controller");
		return;
	}
	if (map->kind != Y_MAP) {
		if (!map->bad)
			policy_diag(ld, map, "controller must be a mapping");
		return;
	}
	policy_check_keys(ld, map, controller_keys, ctx);

	v = policy_get_scalar(ld, map, "id", at, ctx, 1);
	if (v != NULL) {
		policy_check_id(ld, v, "controller");
		c->id = policy_pstrndup(ld, v->text, v->len);
	}
	c->name = policy_get_text(ld, map, "name", at, ctx, 1);

	v = policy_get_scalar(ld, map, "country", at, ctx, 1);
	if (v != NULL)
		country_ok =
		        policy_take_country(ld, v, ctx, "country", c->country);

	/* Registration: CVR for DK, organisationsnummer for SE. */
	raw = policy_map_get(map, "registration", NULL);
	v = policy_get_scalar(ld, map, "registration", NULL, ctx, 0);
	if (country_ok &&
	    (strcmp(c->country, "DK") == 0 || strcmp(c->country, "SE") == 0)) {
		enum id_type type = c->country[0] == 'D' ? ID_CVR : ID_ORGNR;

		c->registration_type = type;
		if (raw == NULL || policy_is_null(raw))
			policy_diag(
			        ld, raw != NULL ? raw : at,
			        "controller has no registration (the %s number "
			        "is required for %s)",
			        type == ID_CVR ? "CVR" : "organisationsnummer",
			        c->country);
		if (v != NULL) {
			memset(&msg, 0, sizeof(msg));
			if (id_normalise(type, v->text, c->country, 0, norm,
			                 sizeof(norm), &msg) != VAERN_OK)
				policy_diag(ld, v, "registration: %s",
				            msg.text[0] != '\0'
				                    ? msg.text
				                    : (type == ID_CVR
				                               ? "not a valid "
				                                 "CVR number"
				                               : "not a valid "
				                                 "organisations"
				                                 "nummer"));
			else
				c->registration = policy_pstrdup(ld, norm);
		}
	} else if (v != NULL) {
		c->registration_type = ID_OTHER;
		c->registration = policy_pstrndup(ld, v->text, v->len);
	}

	c->address = policy_get_text(ld, map, "address", at, ctx, 0);
	c->phone = policy_get_text(ld, map, "phone", at, ctx, 0);
	c->complaints = policy_get_text(ld, map, "complaints", at, ctx, 0);

	v = policy_get_scalar(ld, map, "email", at, ctx, 0);
	if (v != NULL) {
		memset(&msg, 0, sizeof(msg));
		if (id_normalise(ID_EMAIL, v->text, NULL, 0, norm, sizeof(norm),
		                 &msg) != VAERN_OK)
			policy_diag(ld, v, "controller: email: %s",
			            msg.text[0] != '\0'
			                    ? msg.text
			                    : "not a valid e-mail address");
		else
			c->email = policy_pstrdup(ld, norm);
	}

	/* GDPR Art. 13(1)(d): the supervisory authority is named. */
	auth = policy_map_get(map, "authority", NULL);
	if (auth == NULL || policy_is_null(auth)) {
		policy_diag(ld, auth != NULL ? auth : at,
		            "controller has no authority");
	} else if (auth->kind != Y_MAP) {
		if (!auth->bad)
			policy_diag(ld, auth,
			            "controller: authority must be a "
			            "mapping (name, url)");
	} else {
		policy_check_keys(ld, auth, authority_keys,
		                  "controller.authority");
		c->authority_name = policy_get_text(ld, auth, "name", auth,
		                                    "controller.authority", 1);
		c->authority_url = policy_get_text(ld, auth, "url", auth,
		                                   "controller.authority", 0);
	}

	/* GDPR Art. 13(1)(b), 30(1)(a): the DPO's contact, where one is
	 * designated; the representative (Art. 27). */
	v = policy_map_get(map, "dpo", NULL);
	if (v != NULL && !policy_is_null(v) && !v->bad) {
		if (v->kind != Y_MAP) {
			policy_diag(ld, v,
			            "controller: dpo must be a mapping (name, "
			            "email, "
			            "phone, address)");
		} else {
			policy_check_keys(ld, v, dpo_keys, "controller.dpo");
			c->dpo_name = policy_get_text(ld, v, "name", v,
			                              "controller.dpo", 0);
			c->dpo_email = policy_get_text(ld, v, "email", v,
			                               "controller.dpo", 0);
			c->dpo_phone = policy_get_text(ld, v, "phone", v,
			                               "controller.dpo", 0);
			c->dpo_address = policy_get_text(ld, v, "address", v,
			                                 "controller.dpo", 0);
			if (c->dpo_email == NULL && c->dpo_phone == NULL &&
			    c->dpo_address == NULL)
				policy_diag(ld, v,
				            "controller.dpo needs a contact "
				            "(email, "
				            "phone or address)");
		}
	}
	c->representative =
	        policy_get_text(ld, map, "representative", at, ctx, 0);

	/* AURA-VER-1: the policy carries its version date. */
	v = policy_get_scalar(ld, map, "policy_version", at, ctx, 1);
	if (v != NULL) {
		memset(&msg, 0, sizeof(msg));
		if (cal_parse_date(v->text, &c->policy_version, &msg) !=
		    VAERN_OK)
			policy_diag(ld, v, "controller: policy_version: %s",
			            msg.text[0] != '\0'
			                    ? msg.text
			                    : "not a date (YYYY-MM-DD)");
	}

	c->fy_end_month = 12;
	c->fy_end_day = 31;
	v = policy_get_scalar(ld, map, "financial_year_end", at, ctx, 0);
	if (v != NULL &&
	    !parse_month_day(v->text, &c->fy_end_month, &c->fy_end_day))
		policy_diag(
		        ld, v,
		        "controller: financial_year_end must be a day MM-DD "
		        "of every year (e.g. 12-31; not 02-29)");

	i = policy_get_choice(ld, map, "language", ctx, language_names, -1);
	if (i >= 0)
		memcpy(c->language, language_names[i], 3);
	else if (strcmp(c->country, "DK") == 0)
		memcpy(c->language, "da", 3);
	else if (strcmp(c->country, "SE") == 0)
		memcpy(c->language, "sv", 3);
	else
		memcpy(c->language, "en", 3);
}

/*
 * CEK-PURP-5 (issue 15 point 4): how long a new or widened purpose waits
 * after the person is told, `notice_period` in `controller:` (or at the
 * top level, not both); default 30 days.
 */
static void
compile_notice_period(struct loader *ld, const struct ynode *root)
{
	struct policy_controller *c = &ld->p->controller;
	const struct ynode *ctl = policy_map_get(root, "controller", NULL);
	const struct ynode *in_ctl = NULL, *top, *v;
	struct vaern_msg msg;

	c->notice_period.count = 30;
	c->notice_period.unit = PERIOD_DAYS;
	if (ctl != NULL && ctl->kind == Y_MAP && !ctl->bad)
		in_ctl = policy_get_scalar(ld, ctl, "notice_period", ctl,
		                           "controller", 0);
	top = policy_get_scalar(ld, root, "notice_period", root, "the policy",
	                        0);
	if (in_ctl != NULL && top != NULL) {
		policy_diag(ld, top,
		            "notice_period is given twice (in controller and "
		            "at the top level): keep one");
		return;
	}
	if ((v = in_ctl != NULL ? in_ctl : top) == NULL)
		return;
	memset(&msg, 0, sizeof(msg));
	if (cal_parse_period(v->text, &c->notice_period, &msg) != VAERN_OK)
		policy_diag(ld, v, "%snotice_period: %s",
		            in_ctl != NULL ? "controller: " : "",
		            msg.text[0] != '\0' ? msg.text : "not a period");
}

/*
 * The common start of a section of named entries (categories, purposes,
 * retention, recipients, roles, events): allocates one struct of size
 * elem per key into *array, and names each from its key: the char *id at
 * offset id_off and, when line_off is not NO_POS, the unsigned line and
 * column at line_off and col_off. *count is the number named. Returns the
 * section, or NULL if it is absent or the allocation failed (nothing
 * named then).
 */
#define NO_POS ((size_t)-1)

const struct ynode *
policy_name_entries(struct loader *ld, const struct ynode *root,
                    const char *section, int required, const char *kind,
                    size_t elem, size_t id_off, size_t line_off, size_t col_off,
                    void **array, size_t *count)
{
	const struct ynode *sec =
	        policy_get_section(ld, root, section, required);
	char *base;

	*array = NULL;
	*count = 0;
	if (sec == NULL)
		return NULL;
	if ((base = policy_pcalloc(ld, sec->n / 2, elem)) == NULL)
		return NULL;
	*array = base;
	for (size_t i = 0; i + 1 < sec->n; i += 2) {
		const struct ynode *k = sec->items[i];
		char *e = base + (*count)++ * elem;
		char *id = policy_pstrndup(ld, k->text, k->len);

		memcpy(e + id_off, &id, sizeof(id));
		if (line_off != NO_POS) {
			memcpy(e + line_off, &k->line, sizeof(unsigned));
			memcpy(e + col_off, &k->column, sizeof(unsigned));
		}
		policy_check_id(ld, k, kind);
	}
	return sec;
}

static void
compile(struct loader *ld, const struct ynode *root)
{
	const struct ynode *v;

	if (root->bad)
		return;
	if (root->kind != Y_MAP) {
		policy_diag(ld, root,
		            "a policy is a YAML mapping (vaern, controller, "
		            "categories, ...)");
		return;
	}
	policy_check_keys(ld, root, top_keys, "the policy");

	v = policy_map_get(root, "vaern", NULL);
	if (v == NULL)
		policy_diag(ld, root,
		            "the policy has no vaern (the language "
		            "version: " POLICY_LANGUAGE_VERSION ")");
	else if (!v->bad && (v->kind != Y_SCALAR ||
	                     strcmp(v->text, POLICY_LANGUAGE_VERSION) != 0))
		policy_diag(ld, v,
		            "vaern: this is language "
		            "version " POLICY_LANGUAGE_VERSION);

	/* The order matters: each section refers only to earlier ones. */
	{
		const struct ynode *tv = policy_map_get(root, "traffic", NULL),
		                   *tp;

		tp = tv != NULL && tv->kind == Y_MAP && !tv->bad
		             ? policy_map_get(tv, "purpose", NULL)
		             : NULL;
		if (tp != NULL && tp->kind == Y_SCALAR && !tp->bad)
			ld->traffic_purpose = tp->text;
	}
	compile_controller(ld, root);
	compile_notice_period(ld, root);
	policy_compile_sources(ld, root);
	policy_compile_events(ld, root);
	policy_compile_categories(ld, root);
	policy_compile_purposes(ld, root);
	policy_compile_event_links(ld, root);
	policy_compile_retention(ld, root);
	policy_compile_transfers(ld, root);
	policy_compile_recipients(ld, root);
	policy_compile_roles(ld, root);
	policy_compile_rights(ld, root);
	policy_compile_incidents(ld, root);
	policy_compile_request_channels(ld, root);
	/* GDPR Art. 30(1)(g), 32: the measures, as the policy states them. */
	policy_take_texts(ld, policy_map_get(root, "security", NULL),
	                  "the policy", "security", &ld->p->security,
	                  &ld->p->nsecurity);
	policy_compile_traffic(ld, root);
	policy_compile_portal(ld, root);
}

/* ---------------------------------------------------------------------
 * The API.
 */

static void
free_strings(char **a, size_t n)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < n; i++)
		free(a[i]);
	free(a);
}

void
policy_free(struct policy *p)
{
	struct policy_controller *c;
	size_t i;

	if (p == NULL)
		return;
	c = &p->controller;
	free(c->id);
	free(c->name);
	free(c->registration);
	free(c->address);
	free(c->email);
	free(c->phone);
	free(c->complaints);
	free(c->authority_name);
	free(c->authority_url);
	free(c->dpo_name);
	free(c->dpo_email);
	free(c->dpo_phone);
	free(c->dpo_address);
	free(c->representative);
	for (i = 0; i < p->ncategories; i++) {
		free(p->categories[i].id);
		free(p->categories[i].description);
		free(p->categories[i].special_kind);
		free(p->categories[i].source_party);
	}
	free(p->categories);
	for (i = 0; i < p->nsources; i++) {
		free(p->sources[i].id);
		free(p->sources[i].name);
	}
	free(p->sources);
	for (i = 0; i < p->npurposes; i++) {
		struct policy_purpose *pp = &p->purposes[i];

		free(pp->id);
		free(pp->description);
		free(pp->legitimate_interests);
		free(pp->categories);
		free(pp->mandatory);
		free_strings(pp->consent_sources, pp->nconsent_sources);
		free(pp->consent_text);
		free_strings(pp->subjects, pp->nsubjects);
	}
	free(p->purposes);
	free_strings(p->security, p->nsecurity);
	for (i = 0; i < p->nretention; i++) {
		struct policy_retention *r = &p->retention[i];

		free(r->id);
		free(r->clause);
		free(r->categories);
		free_strings(r->anchors, r->nanchors);
		free(r->anchor_event);
		free(r->keep);
		free(r->keep_as);
		free(r->consents);
		free(r->legal_obligation);
	}
	free(p->retention);
	for (i = 0; i < p->nrecipients; i++) {
		struct policy_recipient *r = &p->recipients[i];

		free(r->id);
		free(r->name);
		free(r->agreement);
		free(r->demand);
		free(r->safeguard);
		free(r->purposes);
		free(r->categories);
	}
	free(p->recipients);
	for (i = 0; i < p->ntransfers; i++)
		free(p->transfers[i].safeguard);
	free(p->transfers);
	for (i = 0; i < p->nroles; i++) {
		free(p->roles[i].id);
		free(p->roles[i].description);
		free(p->roles[i].purposes);
	}
	free(p->roles);
	free(p->traffic.ingest);
	for (i = 0; i < p->nevents; i++) {
		free(p->events[i].id);
		free(p->events[i].description);
	}
	free(p->events);
	free(p);
}

enum vaern_err
policy_load_buffer(const char *buf, size_t len, struct policy **out,
                   struct policy_diags *diags)
{
	struct loader ld;
	struct ynode *root = NULL;
	enum vaern_err err = VAERN_E_INVALID;
	size_t valid;

	*out = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.suggest_budget = SUGGEST_BUDGET;

	if (len > POLICY_FILE_MAX) {
		policy_diag_at(&ld, 0, 0,
		               "the policy file is larger than %d bytes",
		               POLICY_FILE_MAX);
		goto done;
	}
	/* libfyaml passes some invalid bytes through; refuse them here. */
	valid = utf8_valid_prefix((const unsigned char *)buf, len);
	if (valid == len && memchr(buf, '\0', len) != NULL)
		valid = (size_t)((const char *)memchr(buf, '\0', len) - buf);
	if (valid < len) {
		unsigned line = 1, column = 1;
		size_t i;

		for (i = 0; i < valid; i++) {
			if (buf[i] == '\n') {
				line++;
				column = 1;
			} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
				column++;
			}
		}
		policy_diag_at(
		        &ld, line, column,
		        "the policy file is not UTF-8 text (byte 0x%02x)",
		        (unsigned char)buf[valid]);
		goto done;
	}
	ld.p = calloc(1, sizeof(*ld.p));
	if (ld.p == NULL) {
		ld.nomem = 1;
		goto done;
	}
	root = policy_build_tree(&ld, buf, len);
	if (root == NULL)
		goto done;
	compile(&ld, root);
	if (ld.nomem || ld.ndiags > 0 || ld.dropped > 0)
		goto done;
	if (sodium_init() < 0) {
		err = VAERN_E_INTERNAL;
		goto done;
	}
	crypto_hash_sha256(ld.p->sha256, (const unsigned char *)buf, len);
	*out = ld.p;
	ld.p = NULL;
	err = VAERN_OK;
done:
	if (ld.nomem)
		err = VAERN_E_NOMEM;
	if (err != VAERN_OK && err != VAERN_E_INVALID && ld.ndiags == 0)
		policy_diag_at(&ld, 0, 0, "%s", vaern_strerror(err));
	policy_diags_export(&ld, diags);
	policy_ynode_free(root);
	policy_free(ld.p);
	free(ld.categories.refs);
	free(ld.purposes.refs);
	free(ld.events.refs);
	free(ld.diags);
	return err;
}

/* Reads at most POLICY_FILE_MAX + 1 bytes of fd into a new buffer. */
static enum vaern_err
read_limited(int fd, char **bufp, size_t *lenp, int *errnop)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap), *grown;
	ssize_t got;

	*bufp = NULL;
	*lenp = 0;
	*errnop = 0;
	if (buf == NULL)
		return VAERN_E_NOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > POLICY_FILE_MAX)
				break;
			cap = cap * 2 > POLICY_FILE_MAX + 1
			              ? POLICY_FILE_MAX + 1
			              : cap * 2;
			grown = realloc(buf, cap);
			if (grown == NULL) {
				free(buf);
				return VAERN_E_NOMEM;
			}
			buf = grown;
		}
		got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			*errnop = errno;
			free(buf);
			return VAERN_E_IO;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	*bufp = buf;
	*lenp = len;
	return VAERN_OK;
}

enum vaern_err
policy_load_file(const char *path, struct policy **out,
                 struct policy_diags *diags)
{
	enum vaern_err err;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, errnum = 0;

	*out = NULL;
	memset(diags, 0, sizeof(*diags));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		errnum = errno;
		err = VAERN_E_IO;
		goto done;
	}
	if (fstat(fd, &st) == -1) {
		errnum = errno;
		err = VAERN_E_IO;
		goto done;
	}
	if (S_ISDIR(st.st_mode)) {
		errnum = EISDIR;
		err = VAERN_E_IO;
		goto done;
	}
	/* Refused before reading (a limit checked while parsing). */
	if (S_ISREG(st.st_mode) && st.st_size > POLICY_FILE_MAX) {
		len = POLICY_FILE_MAX + 1;
		err = VAERN_E_INVALID;
		goto done;
	}
	err = read_limited(fd, &buf, &len, &errnum);
	if (err != VAERN_OK)
		goto done;
	if (len > POLICY_FILE_MAX) {
		err = VAERN_E_INVALID;
		goto done;
	}
	err = policy_load_buffer(buf, len, out, diags);
done:
	if (err == VAERN_E_IO) {
		snprintf(diags->items[0].message,
		         sizeof(diags->items[0].message), "cannot read: %s",
		         strerror(errnum));
		diags->count = 1;
	} else if (err == VAERN_E_INVALID && len > POLICY_FILE_MAX) {
		snprintf(diags->items[0].message,
		         sizeof(diags->items[0].message),
		         "the policy file is larger than %d bytes",
		         POLICY_FILE_MAX);
		diags->count = 1;
	} else if (err == VAERN_E_NOMEM && diags->count == 0) {
		snprintf(diags->items[0].message,
		         sizeof(diags->items[0].message), "%s",
		         vaern_strerror(err));
		diags->count = 1;
	}
	free(buf);
	if (fd != -1)
		close(fd);
	return err;
}

/* ---------------------------------------------------------------------
 * Lookups.
 */

/*
 * The index of the entry whose id is id in an array of n structs of size
 * stride, each with its char *id at offset off; -1 if none.
 */
static long
index_by_id(const void *base, size_t n, size_t stride, size_t off,
            const char *id)
{
	const char *p = base;

	if (id == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *const *entry_id =
		        (const char *const *)(const void *)(p + i * stride +
		                                            off);

		if (strcmp(*entry_id, id) == 0)
			return (long)i;
	}
	return -1;
}

#define INDEX_BY_ID(arr, n, type, want)                                        \
	index_by_id((arr), (n), sizeof(type), offsetof(type, id), (want))

long
policy_category_index(const struct policy *p, const char *id)
{
	return p == NULL ? -1
	                 : INDEX_BY_ID(p->categories, p->ncategories,
	                               struct policy_category, id);
}

long
policy_purpose_index(const struct policy *p, const char *id)
{
	return p == NULL ? -1
	                 : INDEX_BY_ID(p->purposes, p->npurposes,
	                               struct policy_purpose, id);
}

long
policy_cookie_purpose(const struct policy *p, enum policy_cookie kind)
{
	for (size_t i = 0; p != NULL && kind != COOKIE_NONE && i < p->npurposes;
	     i++) {
		if (p->purposes[i].cookie == kind)
			return (long)i;
	}
	return -1;
}

long
policy_role_index(const struct policy *p, const char *id)
{
	return p == NULL ? -1
	                 : INDEX_BY_ID(p->roles, p->nroles, struct policy_role,
	                               id);
}

long
policy_recipient_index(const struct policy *p, const char *id)
{
	return p == NULL ? -1
	                 : INDEX_BY_ID(p->recipients, p->nrecipients,
	                               struct policy_recipient, id);
}

long
policy_event_index(const struct policy *p, const char *id)
{
	return p == NULL ? -1
	                 : INDEX_BY_ID(p->events, p->nevents,
	                               struct policy_event, id);
}

int
policy_purpose_uses(const struct policy *p, size_t purpose, size_t category)
{
	const struct policy_purpose *pp;
	size_t i;

	if (p == NULL || purpose >= p->npurposes)
		return 0;
	pp = &p->purposes[purpose];
	for (i = 0; i < pp->ncategories; i++)
		if (pp->categories[i] == category)
			return 1;
	return 0;
}

int
policy_rule_may_stay_undated(const struct policy *p, size_t r)
{
	const struct policy_retention *rule;

	if (r >= p->nretention)
		return 0;
	rule = &p->retention[r];
	if (rule->ncategories == 0 || rule->waits_for >= 0)
		return 0;
	for (size_t i = 0; i < rule->nanchors; i++)
		if (rule->anchor_event[i] == ANCHOR_EVENT_COLLECTED ||
		    rule->anchor_event[i] == ANCHOR_EVENT_FY_END)
			return 0;
	return 1;
}
