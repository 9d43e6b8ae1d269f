/*
 * policy_internal.h -- what the files of the policy loader (policy.c and
 * policy_*.c) share: the limits, the YAML tree, the loader, and the
 * helpers one file defines and others call. Not an API: only those files
 * read it.
 */
#ifndef VAERN_POLICY_INTERNAL_H
#define VAERN_POLICY_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "policy.h"

/* The language version this loader reads (`vaern: 1`). */
#define POLICY_LANGUAGE_VERSION "1"

/* The schema nests 6 deep (root, purposes, purpose, consent, sources,
 * source); anything deeper is refused without being built. */
#define YAML_DEPTH_MAX 16

/* Nodes in one tree. A 1 MiB file could hold about 500,000 ("[a,a,a...");
 * a real policy holds a few thousand. */
#define YAML_NODES_MAX (1u << 18)

/* Diagnostics collected before sorting; more are only counted. */
#define LOADER_DIAG_MAX (4 * POLICY_DIAG_MAX)

/* Edit-distance computations spent on "did you mean" suggestions. */
#define SUGGEST_BUDGET 20000

/* A name shown in a message: at most this many bytes, then "...". */
#define SHOW_MAX 48
#define SHOW_BUF (SHOW_MAX + 4)

/* "retention rule '<name>'" and the like. */
#define CTX_MAX 96

/* ---------------------------------------------------------------------
 * The tree.
 */

enum ykind { Y_SCALAR, Y_MAP, Y_SEQ };

struct ynode {
	enum ykind kind;
	unsigned line, column; /* 1-based; 0 when libfyaml gave no mark */
	int plain;             /* scalar written plain (not quoted/block) */
	int bad;               /* refused while building (alias, too long...):
	                          already reported, checks skip it quietly */
	char *text;            /* scalar: NUL-terminated copy, never NULL */
	size_t len;            /* scalar: bytes in text */
	struct ynode **items;  /* seq: items; map: key, value, key, value... */
	size_t n, cap;         /* items used and allocated */
	size_t seen;           /* map: children seen, dropped ones included,
	                          so the parity says key or value */
	int drop_value;        /* map: the key just seen was refused, so its
	                          value is dropped too */
	int overflow_reported; /* POLICY_ITEMS_MAX reported once */
};

struct diag_entry {
	struct policy_diag d;
	size_t seq; /* order of discovery: ties in position keep it */
};

/* A name and its index in a section, for resolving references. */
struct name_ref {
	const char *name;
	size_t idx;
};

struct name_index {
	struct name_ref *refs; /* sorted by name */
	size_t n;
};

struct loader {
	struct policy *p;         /* being compiled */
	struct diag_entry *diags; /* LOADER_DIAG_MAX entries, lazily */
	size_t ndiags;
	size_t dropped;      /* diagnostics beyond LOADER_DIAG_MAX */
	int nomem;           /* an allocation failed */
	long suggest_budget; /* SUGGEST_BUDGET, counting down */
	struct name_index categories, purposes, events;
	const char *traffic_purpose; /* the purpose `traffic:` names: its
	                                records are in the traffic store, so
	                                its category list may be empty */
};

/* A "did you mean" search: the closest candidate seen so far. */
struct closest {
	const char *word; /* the unknown word */
	size_t len;       /* its length */
	size_t best;      /* distance of found */
	const char *found;
};

/* A resolved reference and the node that named it. */
struct ref {
	size_t idx;
	const struct ynode *at;
};

/* policy_diag.c */

void policy_diag_at(struct loader *ld, unsigned line, unsigned column,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void policy_diag(struct loader *ld, const struct ynode *at, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));
const char *policy_show(char *buf, const char *s);
void policy_closest_init(struct closest *c, const char *word);
void policy_closest_try(struct loader *ld, struct closest *c, const char *cand);
const char *policy_closest_result(const struct closest *c);
const char *policy_suggest(struct loader *ld, const char *word,
                           const char *const *cands, size_t ncands);
void policy_diags_export(struct loader *ld, struct policy_diags *out);
char *policy_pstrndup(struct loader *ld, const char *s, size_t len);
char *policy_pstrdup(struct loader *ld, const char *s);
void *policy_pcalloc(struct loader *ld, size_t n, size_t size);

/* policy_yaml.c */

void policy_ynode_free(struct ynode *n);
struct ynode *policy_build_tree(struct loader *ld, const char *buf, size_t len);
int policy_is_null(const struct ynode *n);
const struct ynode *policy_map_get(const struct ynode *map, const char *key,
                                   const struct ynode **keyp);
void policy_check_keys(struct loader *ld, const struct ynode *map,
                       const char *const *allowed, const char *ctx);
const struct ynode *policy_get_scalar(struct loader *ld,
                                      const struct ynode *map, const char *key,
                                      const struct ynode *at, const char *ctx,
                                      int required);
char *policy_get_text(struct loader *ld, const struct ynode *map,
                      const char *key, const struct ynode *at, const char *ctx,
                      int required);
int policy_get_bool(struct loader *ld, const struct ynode *map, const char *key,
                    const char *ctx);
int policy_word_index(const char *const *words, const char *word);
int policy_get_choice(struct loader *ld, const struct ynode *map,
                      const char *key, const char *ctx,
                      const char *const *words, int dflt);
int policy_is_id(const char *s, size_t len);
void policy_check_id(struct loader *ld, const struct ynode *n,
                     const char *what);
size_t policy_list_items(struct loader *ld, const struct ynode *v,
                         const char *ctx, const char *key,
                         const struct ynode **one,
                         const struct ynode *const **items);
void policy_take_texts(struct loader *ld, const struct ynode *v,
                       const char *ctx, const char *key, char ***out,
                       size_t *n);
void policy_index_build(struct loader *ld, struct name_index *ix, size_t n,
                        const char *(*name_at)(const struct policy *, size_t));
long policy_index_find(const struct name_index *ix, const char *name);
const char *policy_index_suggest(struct loader *ld, const struct name_index *ix,
                                 const char *w);
const char *policy_category_name(const struct policy *p, size_t i);
const char *policy_purpose_name(const struct policy *p, size_t i);
const char *policy_event_name(const struct policy *p, size_t i);
size_t policy_resolve_list(struct loader *ld, const struct ynode *v,
                           const char *key, const char *ctx, const char *noun,
                           const struct name_index *ix, struct ref **refs);
struct ref *policy_take_refs(struct loader *ld, const struct ynode *map,
                             const char *key, const struct ynode *at,
                             const char *ctx, const char *noun,
                             const struct name_index *ix, int required,
                             size_t **out, size_t *nout, size_t *nrefs);

/* policy_purposes.c */

void policy_compile_sources(struct loader *ld, const struct ynode *root);
void policy_compile_events(struct loader *ld, const struct ynode *root);
void policy_compile_event_links(struct loader *ld, const struct ynode *root);
void policy_compile_categories(struct loader *ld, const struct ynode *root);
void policy_compile_purposes(struct loader *ld, const struct ynode *root);

/* policy_retention.c */

void policy_compile_retention(struct loader *ld, const struct ynode *root);

/* policy_recipients.c */

int policy_take_country(struct loader *ld, const struct ynode *v,
                        const char *ctx, const char *key, char out[3]);
void policy_compile_transfers(struct loader *ld, const struct ynode *root);
void policy_compile_recipients(struct loader *ld, const struct ynode *root);

/* policy_roles.c */

void policy_compile_roles(struct loader *ld, const struct ynode *root);
void policy_compile_rights(struct loader *ld, const struct ynode *root);
void policy_compile_request_channels(struct loader *ld,
                                     const struct ynode *root);

/* policy_traffic.c */

void policy_compile_traffic(struct loader *ld, const struct ynode *root);
void policy_compile_incidents(struct loader *ld, const struct ynode *root);

/* policy_portal.c */

void policy_compile_portal(struct loader *ld, const struct ynode *root);

/* policy.c */

const struct ynode *policy_get_section(struct loader *ld,
                                       const struct ynode *root,
                                       const char *key, int required);
const struct ynode *
policy_name_entries(struct loader *ld, const struct ynode *root,
                    const char *section, int required, const char *kind,
                    size_t elem, size_t id_off, size_t line_off, size_t col_off,
                    void **array, size_t *count);

/* The entries of a section of named structs of type, named from their keys
 * (policy_name_entries() with type's id, line and column). */
#define NAME_ENTRIES(ld, root, section, required, kind, type, arr, n)          \
	policy_name_entries((ld), (root), (section), (required), (kind),       \
	                    sizeof(type), offsetof(type, id),                  \
	                    offsetof(type, line), offsetof(type, column),      \
	                    (void **)&(arr), &(n))

#endif /* VAERN_POLICY_INTERNAL_H */
