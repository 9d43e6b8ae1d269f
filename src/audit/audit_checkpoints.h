/*
 * audit_checkpoints.h -- a directory of signed checkpoints of the audit
 * trail (issue 12): `vaern audit checkpoint --dir DIR` writes
 * DIR/checkpoint.pub and one ckpt-SEQ-AT.json per checkpoint
 * (cmd_checkpoint.c); these read them back as anchors for audit_verify.
 */
#ifndef VAERN_AUDIT_CHECKPOINTS_H
#define VAERN_AUDIT_CHECKPOINTS_H

#include <limits.h>
#include <stddef.h>

#include "audit.h"

/*
 * Reads every checkpoint in dir, checks its signature with the public key
 * pk_hex (NULL: dir/checkpoint.pub) and makes each an anchor (*out, *n;
 * the caller frees them with audit_checkpoints_free). VAERN_OK;
 * VAERN_E_DENIED with msg naming the checkpoint whose signature fails;
 * another error if dir cannot be read.
 */
enum vaern_err audit_checkpoints_read(const char *dir, const char *pk_hex,
                                      struct audit_anchor **out, size_t *n,
                                      struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));
void audit_checkpoints_free(struct audit_anchor *a, size_t n);

/* Reads a file of at most max - 1 bytes into buf, NUL-terminated, with
 * trailing white space cut. 0 on failure (errno set). */
int audit_file_read(const char *path, char *buf, size_t max)
        __attribute__((nonnull));
/* Exactly len bytes of hex from text into out: 1, or 0. */
int audit_hex_exact(const char *text, unsigned char *out, size_t len)
        __attribute__((nonnull(2)));
/* dir/name into out (PATH_MAX); 0 if too long. */
int audit_path_join(char out[PATH_MAX], const char *dir, const char *name)
        __attribute__((nonnull));

#endif
