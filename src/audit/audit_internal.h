/*
 * audit_internal.h -- what the files of src/audit share. Not an API.
 */
#ifndef VAERN_AUDIT_INTERNAL_H
#define VAERN_AUDIT_INTERNAL_H

#include "../store/store_audit.h"
#include "audit.h"

/* The chain hash of row r (its prev_hash and hash members unused). */
void audit_hash_row(const unsigned char prev[AUDIT_HASH_BYTES],
                    const struct audit_row *r,
                    unsigned char out[AUDIT_HASH_BYTES])
        __attribute__((nonnull));

#endif
