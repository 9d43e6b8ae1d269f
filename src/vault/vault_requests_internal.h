/*
 * vault_requests_internal.h -- what vault_requests.c shares with the files
 * that execute a verified request (vault_erase.c, vault_exec.c). Not part
 * of the vault API.
 */
#ifndef VAERN_VAULT_REQUESTS_INTERNAL_H
#define VAERN_VAULT_REQUESTS_INTERNAL_H

#include "vault_internal.h"

#define AUDIT_CATS_MAX 1024 /* categories named in the audit */
#define AUDIT_WHY_MAX  480  /* bytes of an audit reason (< AUDIT_TEXT_MAX) */

/* Copies src (NULL: "") into dst, cut to size - 1 bytes. */
void vlt_word_copy(char *dst, size_t size, const char *src);

/* store row -> vault view. */
enum vaern_err vlt_request_out(const struct store_request *s,
                               struct vault_request *r, struct vaern_msg *msg);

/* One audit entry per transition: ids, statuses and the clause only --
 * never a reason, an attestation, a code or an address (they may hold
 * personal data). categories (ids, or NULL) are those acted on. */
void vlt_request_event(struct vault_audit_event *e, const char *controller,
                       const struct vault_request_actor *who,
                       const char *action, const unsigned char *uid,
                       const char *categories, int allowed, const char *rule,
                       const char *reason);

enum vaern_err vlt_audit_categories(struct vault *v, const char *controller,
                                    const struct vault_request_actor *who,
                                    const char *action,
                                    const unsigned char *uid,
                                    const char *categories, int allowed,
                                    const char *rule, const char *reason,
                                    struct vaern_msg *msg);

/* VAERN_E_DENIED without an audit trail, VAERN_E_INVALID without an
 * actor. */
enum vaern_err vlt_need_audit(struct vault *v,
                              const struct vault_request_actor *who,
                              struct vaern_msg *msg);

/* Loads controller and request; VAERN_E_NOTFOUND names neither value. */
/* Opens every sealed text of s in place (after a read from the store):
 * reasons and attestation under the person's key, or "(erased with the
 * person)". */
void vlt_request_texts_open(struct vault *v, struct store_request *s);

enum vaern_err vlt_request_load(struct vault *v, const char *controller,
                                const char *id, struct controller **c,
                                struct store_request *s, struct vaern_msg *msg);

/* Writes s with its texts sealed (s itself keeps them in clear); reason,
 * if not NULL, is sealed into reason_out (VLT_TEXT_SEALED_MAX bytes) for
 * the transition. */
enum vaern_err vlt_request_store(struct vault *v, const struct store_request *s,
                                 int update, const char *reason,
                                 char *reason_out, struct vaern_msg *msg);

/* Writes s and its transition from -> s->status in the open transaction. */
enum vaern_err vlt_request_write(struct vault *v, struct store_request *s,
                                 const char *from,
                                 const struct vault_request_actor *who,
                                 const char *reason, struct vaern_msg *msg);

#endif
