/*
 * render_internal.h -- what the files of src/render share: the bounded
 * document writer and the template table. Not an API: render.h is.
 *
 *   render.c       the writer, the words (periods, bases, ...) and the
 *                  privacy notice
 *   render_ropa.c  the records of processing (Art. 30)
 */
#ifndef VAERN_RENDER_INTERNAL_H
#define VAERN_RENDER_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "render.h"
#include "render_strings.h" /* generated: enum render_key, render_table */

/* A document being written, in one format. Bounded by RENDER_MAX. */
struct rw {
	char *data;             /* owned until rw_take */
	size_t len, cap;        /* bytes written, allocated */
	int failed;             /* 1 after a write failed (sticky) */
	int over;               /* 1 if it failed on RENDER_MAX */
	enum render_format fmt; /* how text is escaped and laid out */
	enum render_lang lang;  /* the templates' language */
	int csv;                /* 1: text is escaped as a CSV field */
	int cell_start;         /* 1 before a CSV cell's first byte */
};

/* The template text of key in lang. */
const char *render_word(enum render_lang lang, enum render_key key);

void rw_init(struct rw *w, enum render_format fmt, enum render_lang lang);
void rw_free(struct rw *w);

/* Appends s as it is (markup, punctuation). */
void rw_raw(struct rw *w, const char *s);
void rw_rawf(struct rw *w, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Appends policy text or a word, escaped for the format. */
void rw_text(struct rw *w, const char *s);

/* Appends the template word of key, escaped. */
void rw_word(struct rw *w, enum render_key key);

/* Ends the document: VAERN_OK with *out and *len the caller's, or the
 * error (msg set) with *out NULL; w is freed either way. */
enum vaern_err rw_take(struct rw *w, char **out, size_t *len,
                       struct vaern_msg *msg)
        __attribute__((warn_unused_result));

/* The page's style block, and the start and end of an HTML page. */
extern const char render_style[];
void rw_html_begin(struct rw *w, const char *title);
void rw_html_end(struct rw *w);

/* The words of event ev (an index into p->events) in lang: the policy's
 * description in its own language, else the template ev_<name>, else
 * (render_lang_check refuses that) the description as written. */
const char *render_event_words(const struct policy *p, size_t ev,
                               enum render_lang lang);

/* The basis letters of bits as "b, f". */
void render_basis_letters(unsigned basis, char out[static 16]);

#endif
