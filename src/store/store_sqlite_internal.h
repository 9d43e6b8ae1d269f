/*
 * store_sqlite_internal.h -- what the SQLite engine's files share (the
 * engine's connection), for a file that holds one area's SQL apart from
 * store_sqlite.c (store_incident.c). Not an API: only src/store reads it.
 */
#ifndef VAERN_STORE_SQLITE_INTERNAL_H
#define VAERN_STORE_SQLITE_INTERNAL_H

#include "sqlite_util.h"
#include "store.h"

/* The store's connection (valid while st is open). */
struct sqlu_conn *store_sqlite_conn(struct store *st) __attribute__((nonnull));

#endif
