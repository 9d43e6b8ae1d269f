/*
 * render.h -- the policy given back in words: the privacy notice (GDPR
 * Art. 13/14) and the records of processing activities (Art. 30(1)), both
 * generated from the one compiled policy the gate enforces (issue 15).
 *
 * Every word that is not the policy's own text comes from the templates
 * in templates/notice/{en,da,sv}.strings, compiled in at build time; a
 * missing translation fails the build (scripts/strings.py). Rendering
 * reads the policy only: it never writes anything.
 *
 * The policy holds no personal data, only the controller's published
 * wording, so what is rendered may be shown to anyone.
 */
#ifndef VAERN_RENDER_H
#define VAERN_RENDER_H

#include <stddef.h>

#include "../common/err.h"
#include "../policy/policy.h"

/* The most bytes one rendered document may take (a policy is at most
 * POLICY_FILE_MAX bytes; its notice is a few times that at most). */
#define RENDER_MAX (8u * 1024 * 1024)

/* Bytes of the Content-Security-Policy value of a rendered HTML page. */
#define RENDER_CSP_MAX 160

/* The languages of the templates, in the order of the template table. */
enum render_lang { RENDER_EN, RENDER_DA, RENDER_SV };

enum render_format { RENDER_HTML, RENDER_MD, RENDER_TXT };

/* The formats of the records of processing. */
enum render_ropa_format { ROPA_JSON, ROPA_CSV, ROPA_HTML };

/* "en", "da", "sv" to *out: 0, or -1 if s is none of them. */
int render_lang_parse(const char *s, enum render_lang *out)
        __attribute__((warn_unused_result, nonnull));

/* The policy's own language (controller.language) as a render_lang. */
enum render_lang render_policy_lang(const struct policy *p)
        __attribute__((nonnull));

/* "html", "md", "txt" to *out: 0, or -1. */
int render_format_parse(const char *s, enum render_format *out)
        __attribute__((warn_unused_result, nonnull));

/* "json", "csv", "html" to *out: 0, or -1. */
int render_ropa_format_parse(const char *s, enum render_ropa_format *out)
        __attribute__((warn_unused_result, nonnull));

/*
 * VAERN_OK if p can be rendered in lang: every word the policy does not
 * give in lang has a template (an event's, ev_<name>, outside the
 * policy's own language); else VAERN_E_INVALID with msg naming the event
 * and the template file (issue 15: a missing translation is refused).
 */
enum vaern_err render_lang_check(const struct policy *p, enum render_lang lang,
                                 struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

/*
 * Renders p's privacy notice in lang and format (Art. 13/14; every
 * *-COMPLAIN-1, AURA-VER-1). On VAERN_OK *out is a NUL-ended text of *len
 * bytes the caller frees with free(); on VAERN_E_NOMEM, VAERN_E_LIMIT
 * (over RENDER_MAX) or VAERN_E_INVALID (render_lang_check) *out is NULL
 * and msg says which.
 */
enum vaern_err render_notice(const struct policy *p, enum render_lang lang,
                             enum render_format format, char **out, size_t *len,
                             struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 4, 5)));

/*
 * Renders p's records of processing (GDPR-30; Art. 30(1)(a)-(g)): JSON,
 * CSV (one row per purpose) or HTML; the words of periods and of what the
 * policy does not state in lang. Ownership and errors as render_notice.
 */
enum vaern_err render_ropa(const struct policy *p, enum render_lang lang,
                           enum render_ropa_format format, char **out,
                           size_t *len, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 4, 5)));

/*
 * What changed from a to b, two versions of one controller's policy, in
 * words in lang, one "- ..." line per change (issue 15 point 3): the
 * version date, purposes, legal bases, categories, recipients, transfers,
 * retention periods, rights, the complaint route; a line saying there is
 * no change otherwise. Ids as the policies name them; a period's event
 * as render_retention_words words it. VAERN_E_INVALID (msg says so) if a
 * and b are of different controllers. Ownership as render_notice.
 */
enum vaern_err render_policy_diff(const struct policy *a,
                                  const struct policy *b, enum render_lang lang,
                                  char **out, size_t *len,
                                  struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 4, 5)));

/*
 * CEK-PURP-5: the message telling a person that the purposes
 * purposes[0..npurposes) (indexes of p) are new or widened in p and apply
 * to their data from from_day (days since the epoch): a title and a plain
 * text body in lang, each NUL-ended (truncated to fit).
 */
void render_change_notice(const struct policy *p, enum render_lang lang,
                          const size_t *purposes, size_t npurposes,
                          long from_day, char *title, size_t title_len,
                          char *body, size_t body_len)
        __attribute__((nonnull(1, 6, 8)));

/*
 * The Content-Security-Policy of a rendered HTML page: nothing may load,
 * no script runs, only the page's own style block (by its hash) applies.
 * Written into out, NUL-ended.
 */
void render_csp(char out[static RENDER_CSP_MAX]) __attribute__((nonnull));

/*
 * The retention period of rule r in words in lang ("5 years after the end
 * of the financial year", "2 months after the latest of: ..."), appended
 * NUL-ended to out (truncated to outlen). The one wording of periods:
 * the access report should use it too (issue 10 point 9).
 */
void render_retention_words(const struct policy *p,
                            const struct policy_retention *r,
                            enum render_lang lang, char *out, size_t outlen)
        __attribute__((nonnull));

#endif
