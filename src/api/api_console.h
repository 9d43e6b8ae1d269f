/*
 * api_console.h -- what the staff console's pages are made of, before
 * the pages themselves (issue 20): the request queue rendered from the one
 * queue walk (vault_request_queue), for `vaern requests list --format
 * html`, its benchmark and the console's queue page.
 */
#ifndef VAERN_API_CONSOLE_H
#define VAERN_API_CONSOLE_H

#include <stddef.h>

#include "../common/err.h"
#include "../render/render.h"
#include "../vault/vault.h"

/*
 * The queue page of controller's requests that f lets through, by due
 * day, as of day today, in lang (render_queue_*): *out (free()) and
 * *len. No sealed text is opened (f->texts is ignored): the queue shows
 * ids, types, statuses, channels, days.
 */
enum vaern_err api_console_queue_html(struct vault *v, const char *controller,
                                      const struct vault_request_filter *f,
                                      long today, enum render_lang lang,
                                      char **out, size_t *len,
                                      struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 6, 7)));

/* The same queue as a table for the console's page (its layout, its
 * style sheet): each request's id a link to link/<id>. */
enum vaern_err api_console_queue_table(struct vault *v, const char *controller,
                                       const struct vault_request_filter *f,
                                       long today, enum render_lang lang,
                                       const char *link, char **out,
                                       size_t *len, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 6, 7, 8)));

/*
 * The API's list of the same requests (GET /v1/requests): the JSON
 * document {"requests": [...]} of every request f lets through, each as
 * vault_request_json gives it as of today. *out is the caller's.
 */
struct json_t;
enum vaern_err api_request_list_build(struct vault *v, const char *controller,
                                      const struct vault_request_filter *f,
                                      long today, struct json_t **out,
                                      struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5)));

#endif
