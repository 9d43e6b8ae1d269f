/*
 * console_views.h -- what the files of the staff console's views share
 * (issue 20, points 3 to 6): the retention view, the audit view, the
 * incidents and the policies. Not an API: the handlers are declared in
 * console.h with the rest of the console.
 *
 *   console_views.c      the views' words, dates, links and the style
 *                        sheet's additions; the retention view
 *   console_audit.c      the audit trail: filters, pages, CSV
 *   console_incidents.c  the cases, a case, its register as a form
 *   console_policies.c   the versions, the notice preview, the diff
 *
 * Each view's body is written by a function of its own (struct web_html
 * in, the data in), so the unit tests check the markup without a
 * server; the handlers read the data as the logged-in actor, through the
 * same vault calls as the CLI and the API, and audit before answering.
 */
#ifndef VAERN_CONSOLE_VIEWS_H
#define VAERN_CONSOLE_VIEWS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../audit/audit.h"
#include "../policy/policy.h"
#include "../render/render.h"
#include "../web/web.h"
#include "console_views_strings.h" /* generated: enum cview_key */

#define CVIEW_HOLDS_MAX    500 /* holds one retention page lists */
#define CVIEW_ID_MAX       129 /* an actor, purpose or category id, NUL */
#define CVIEW_VERSIONS_MAX 200 /* policy versions one page lists */

/* What every view's body needs of its request. */
struct cview {
	enum web_lang lang;
	const char *base; /* "/console/<controller>": program text */
	const char *csrf; /* the session's form token */
	int dpo;          /* 1: the role reads the audit trail (audit: true) */
};

/* The view context of a console request (console_internal.h). */
struct console;
void cview_of(const struct console *cx, struct cview *v);

/* Starts a view's page: the frame (console_page_open) with title, the
 * views' style sheet, and the status named by ?done= (one of done's
 * words, each a key: a message of a change that redirected here). */
void cview_page_open(struct console *cx, struct web_html *h,
                     enum cview_key title, const char *const *done,
                     const enum cview_key *done_keys, size_t ndone);

/* An error page of a view: key (V_err_input, V_err_refused,
 * V_err_internal) and the vault's message (never a value), status. */
int cview_fail(struct console *cx, int status, enum cview_key key,
               const char *detail);

/* Audits a view read (or an export) by the console's actor before the
 * page answers (GDPR-32): action, the page as purpose, subject (NULL or
 * the person's id), reason (which filters, never their values). 0, or
 * 1 once it has answered (the entry could not be queued: 500). */
int cview_audit(struct console *cx, const char *action, const char *page,
                const unsigned char *subject, const char *reason);

/* cview_fail for a vault error: its status, V_err_input for what the
 * request got wrong (invalid, not found, exists, limit), else
 * V_err_internal; the vault's message (never a value) as the detail. */
int cview_fail_vault(struct console *cx, enum vaern_err err);

/* The status of a vault error (400 invalid, 404 not found, 409 exists,
 * 403 denied, 413 limit, else 500). */
int cview_status_of(enum vaern_err err);

/* The text of key in lang. */
const char *cview_s(enum web_lang lang, enum cview_key key);

/* Appends the text of key, escaped. */
void cview_word(struct web_html *h, const struct cview *v, enum cview_key key);

/* A hidden field with the form's token (every POST form has one). */
void cview_csrf_field(struct web_html *h, const struct cview *v);

/* A status line (role="status"): key, and detail (ids and rules only)
 * when not NULL; alert 1 makes it role="alert". */
void cview_status(struct web_html *h, const struct cview *v, enum cview_key key,
                  const char *detail, int alert);

/* A day as YYYY-MM-DD, an instant as YYYY-MM-DDTHH:MM:SSZ; "-" for
 * INT64_MIN. */
void cview_day(int64_t t, char out[11]);
void cview_instant(int64_t t, char out[21]);

/* Opens a table id (program text) with its header row of cols, in a
 * <div> that scrolls it sideways, focusable and named by label; the
 * caller writes the rows and "</tbody></table></div>". */
void cview_table_open(struct web_html *h, const struct cview *v,
                      enum cview_key label, const char *id,
                      const enum cview_key *cols, size_t ncols);

/* Appends value percent-encoded for a URL's query (RFC 3986 unreserved
 * characters as they are): safe inside a quoted attribute. */
void cview_url_text(struct web_html *h, const char *value);

/* ---- the retention view (point 3) --------------------------------------- */

/* A legal hold in force, copied for the page. */
struct cview_hold {
	int64_t id;
	char subject[2 * 16 + 1];    /* the person's public id, hex */
	char category[CVIEW_ID_MAX]; /* "" : all categories */
	int64_t review_at;           /* INT64_MIN: none */
	int64_t placed_at;
	char placed_by[CVIEW_ID_MAX];
};

/*
 * The retention view's body: the chart and its tables (fragment, from
 * render_chart_fragment), the undated, restricted and held facts of c
 * called out, and (v->dpo) the holds in force with a lift form each and
 * the form that places one (p's categories to choose from); more: 1 when
 * more holds are in force than listed.
 */
void cview_retention(struct web_html *h, const struct cview *v,
                     const struct render_chart *c, const char *fragment,
                     const struct cview_hold *holds, size_t nholds, int more,
                     const struct policy *p);

/* The console's additional style rules (appended to its style sheet):
 * the chart beside its table, the clocks' colours. No inline style. */
extern const char cview_css[];

#endif

/* ---- the audit view (point 4) ------------------------------------------- */

/* The filter as the page shows it again (every text validated). */
struct cview_audit_filter {
	const char *actor;   /* NULL: any */
	const char *purpose; /* NULL: any */
	int decision;        /* -1 any, 1 allowed, 0 denied */
	const char *from;    /* YYYY-MM-DD, or NULL */
	const char *to;      /* YYYY-MM-DD, or NULL */
	const char *subject; /* the person's id in hex (from a POST), or NULL */
};

/* The chain's state as the page reports it. */
struct cview_chain {
	int ok;                      /* audit_verify's result */
	int64_t entries;             /* entries intact */
	int64_t head_seq;            /* ok: the last entry */
	char head[2 * 32 + 1];       /* ok: its MAC, hex */
	char problem[VAERN_MSG_MAX]; /* !ok: the first bad entry, named */
	int checkpoint;              /* 0 none, 1 verified, -1 refused */
	int64_t checkpoint_seq;      /* the newest checkpoint's entry */
	int64_t checkpoint_at;       /* when it was signed */
	char checkpoint_problem[VAERN_MSG_MAX];
};

/* The audit view's head: the chain, the filter's GET form (p's purposes
 * to choose from) and the POST form for one person (id_types: the
 * identifier types of p's categories, ntypes of them). */
void cview_audit_begin(struct web_html *h, const struct cview *v,
                       const struct cview_chain *chain,
                       const struct cview_audit_filter *f,
                       const struct policy *p, const char *const *id_types,
                       size_t ntypes);
/* One entry's row; subject: its id in hex, or NULL. */
void cview_audit_row(struct web_html *h, const struct cview *v,
                     const struct audit_record *r, const char *subject);
/* The table's end, the next page (more: after last_seq) and the CSV
 * export of the same filter (a POST form when a person is named, so the
 * id stays out of the address). */
void cview_audit_end(struct web_html *h, const struct cview *v,
                     const struct cview_audit_filter *f, size_t nrows, int more,
                     int64_t last_seq);

/* ---- incidents (point 5) ------------------------------------------------ */

/* The cases (list: vault_incident_list's JSON, every case) with their
 * receipt, feedback and 72-hour clocks, each linked to its page. */
void cview_incidents(struct web_html *h, const struct cview *v, json_t *list);

/* A case's page (c: vault_incident_get's JSON): its deadlines and clock,
 * the receipt and feedback forms, and the register (GDPR Art. 33(5)) as
 * a form of its fields; p gives the categories. */
void cview_incident(struct web_html *h, const struct cview *v, json_t *c,
                    const struct policy *p);

/* The register's form fields (the POST's keys, NULL-terminated, "csrf"
 * first), and the triage patch they make: a blank field removes its key
 * (null), the nature boxes make one list. NULL when out of memory;
 * -1 via *bad (the field's name in msg) for a number that is not one. */
extern const char *const cview_register_keys[];
json_t *cview_register_patch(const char *const *values, struct vaern_msg *msg);

/* ---- policies (point 6) ------------------------------------------------- */

/* One loaded version of the policy. */
struct cview_version {
	char version[65]; /* its digest's hex (vault_policy_version) */
	int64_t loaded_at;
	char policy_date[11]; /* controller.policy_version, or "" */
	int current;          /* 1: the one in force */
};

/* The policies page: the versions (oldest first), the notice preview
 * links in da, sv, en, and the diff form (from, to: the versions chosen,
 * or NULL) with diff (render_policy_diff's text, or NULL). */
void cview_policies(struct web_html *h, const struct cview *v,
                    const struct cview_version *versions, size_t n,
                    const char *from, const char *to, const char *diff);
