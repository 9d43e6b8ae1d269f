/*
 * keys_backup_pg.c -- vaern backup and restore of a data directory whose
 * store is in PostgreSQL (issue 14; GDPR-32, GDPR-17).
 *
 * The backup is the one format of both engines: SQLite files (vaern.db,
 * audit.db; keystore.db in a keystore backup) with the same manifest. On
 * PostgreSQL they are written from one SERIALIZABLE READ ONLY DEFERRABLE
 * snapshot of the database -- every table of the schemas public and audit
 * (ks for a keystore backup) -- while the nodes write: a consistent copy,
 * in which the change and its audit entry (one transaction on PostgreSQL)
 * are both or neither. So a backup of either engine restores into
 * either: a restore into PostgreSQL loads the files, checked and purged
 * as for SQLite, into an empty database in one transaction.
 *
 * The recommended backup of a PostgreSQL deployment stays PostgreSQL's own
 * (pg_basebackup with WAL archiving: point-in-time recovery); this copy
 * is logical, takes the whole database into memory one page of rows at
 * a time, and suits the sizes one file can hold (docs/operations.md).
 */
#include "../store/db.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audit/audit.h"
#include "../store/store.h"
#include "../store/store_copy.h"
#include "keys.h"
#include "keys_internal.h"

/* Connects to the PostgreSQL database of the data directory dir. */
static enum vaern_err
pg_connect(const char *dir, struct db **db, struct vaern_msg *msg)
{
	char path[PATH_MAX];
	enum vaern_err err;

	*db = NULL;
	if ((err = keys_path_join(path, dir, "vaern.db", msg)) != VAERN_OK)
		return err;
	if (db_open_file(path, SQLITE_OPEN_READWRITE, 10000, db) != DB_OK ||
	    *db == NULL || db_engine(*db) != DB_POSTGRESQL)
		return vaern_fail(
		        msg, VAERN_E_STORE, "the PostgreSQL store of %s: %s",
		        dir, *db != NULL ? db_errmsg(*db) : "out of memory");
	return VAERN_OK;
}

/* One snapshot for every read up to the COMMIT, taken when no
 * serialisable writer can make it inconsistent (DEFERRABLE). */
static enum vaern_err
snapshot(struct db *db, struct vaern_msg *msg)
{
	if (db_exec(db,
	            "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE",
	            NULL) != DB_OK)
		return vaern_fail(msg, VAERN_E_STORE, "begin: %s",
		                  db_errmsg(db));
	return VAERN_OK;
}

/* Makes dir/file, a SQLite file holding part, from the snapshot open
 * on pg. */
static enum vaern_err
part_to_file(struct db *pg, enum store_copy_part part, const char *dir,
             const char *file, int live_keys, struct vaern_msg *msg)
{
	char path[PATH_MAX];
	struct db *lite = NULL;
	enum vaern_err err;

	if ((err = keys_path_join(path, dir, file, msg)) != VAERN_OK)
		return err;
	if ((err = store_copy_make_sqlite(path, part, &lite, msg)) ==
	    VAERN_OK) {
		if (db_exec(lite, "BEGIN", NULL) != DB_OK)
			err = vaern_fail(msg, VAERN_E_STORE, "%s: %s", path,
			                 db_errmsg(lite));
		else if ((err = store_copy_tables(
		                  pg, store_copy_pg_schema(part), lite, "main",
		                  live_keys, NULL, msg)) != VAERN_OK)
			(void)db_exec(lite, "ROLLBACK", NULL);
		else if (db_exec(lite, "COMMIT", NULL) != DB_OK)
			err = vaern_fail(msg, VAERN_E_STORE, "%s: %s", path,
			                 db_errmsg(lite));
	}
	db_close(lite);
	return err;
}

enum vaern_err
keys_pg_backup_data(const char *dir, const char *out, char vault_id[64],
                    char schema[16], char seq[32], char head[65],
                    struct vaern_msg *msg)
{
	struct db *db = NULL;
	enum vaern_err err;

	if ((err = pg_connect(dir, &db, msg)) != VAERN_OK ||
	    (err = snapshot(db, msg)) != VAERN_OK)
		goto done;
	if (!keys_query_text(
	            db, "SELECT value FROM public.meta WHERE key = 'vault_id'",
	            vault_id, 64) ||
	    !keys_query_text(db,
	                     "SELECT value FROM public.meta"
	                     " WHERE key = 'schema_version'",
	                     schema, 16)) {
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "the PostgreSQL store of %s has no vault id; "
		                 "open it with vaern once",
		                 dir);
		goto done;
	}
	if (!keys_query_text(db, "SELECT max(seq) FROM audit.audit", seq, 32))
		(void)snprintf(seq, 32, "0");
	if (!keys_query_text(db,
	                     "SELECT encode(hash, 'hex') FROM audit.audit"
	                     " ORDER BY seq DESC LIMIT 1",
	                     head, 65))
		head[0] = '\0';
	/* The data and its trail from the one snapshot: a change and its
	 * entry (the outbox's or the trail's) are both in it or neither. */
	if ((err = part_to_file(db, STORE_COPY_DATA, out, "vaern.db", 0,
	                        msg)) == VAERN_OK)
		err = part_to_file(db, STORE_COPY_AUDIT, out, AUDIT_DB_FILE, 0,
		                   msg);
done:
	if (db != NULL)
		(void)db_exec(db, "ROLLBACK", NULL);
	db_close(db);
	return err;
}

enum vaern_err
keys_pg_backup_keystore(const char *dir, const char *out, int live,
                        char vault_id[64], struct vaern_msg *msg)
{
	struct db *db = NULL;
	enum vaern_err err;

	if ((err = pg_connect(dir, &db, msg)) != VAERN_OK ||
	    (err = snapshot(db, msg)) != VAERN_OK)
		goto done;
	if (!keys_query_text(db,
	                     "SELECT value FROM ks.meta WHERE key = 'vault_id'",
	                     vault_id, 64)) {
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "the PostgreSQL keystore of %s has no vault "
		                 "id",
		                 dir);
		goto done;
	}
	err = part_to_file(db, STORE_COPY_KEYSTORE, out, STORE_KEYSTORE_FILE,
	                   live, msg);
done:
	if (db != NULL)
		(void)db_exec(db, "ROLLBACK", NULL);
	db_close(db);
	return err;
}

/* Opens dir/file, a checked and staged copy (read-write: a staged file
 * may be in WAL mode, which a read-only open cannot always read). */
static enum vaern_err
open_file(const char *dir, const char *file, struct db **db,
          struct vaern_msg *msg)
{
	char path[PATH_MAX];
	enum vaern_err err;

	*db = NULL;
	if ((err = keys_path_join(path, dir, file, msg)) != VAERN_OK)
		return err;
	if (db_open_sqlite(path, SQLITE_OPEN_READWRITE, 5000, db) != DB_OK)
		return vaern_fail(msg, VAERN_E_INVALID, "%s: not a database",
		                  path);
	return VAERN_OK;
}

enum vaern_err
keys_pg_load(const char *target, const char *from, struct vaern_msg *msg)
{
	static const struct {
		enum store_copy_part part;
		const char *file;
	} parts[] = {
	        {STORE_COPY_DATA, "vaern.db"},
	        {STORE_COPY_KEYSTORE, STORE_KEYSTORE_FILE},
	        {STORE_COPY_AUDIT, AUDIT_DB_FILE},
	};
	struct db *pg = NULL, *lite = NULL;
	char *errmsg = NULL;
	enum vaern_err err;
	int empty;

	if ((err = pg_connect(target, &pg, msg)) != VAERN_OK)
		goto done;
	/* Into an empty database only: a restore never merges. */
	if ((empty = store_copy_pg_empty(pg)) != 1) {
		err = empty < 0 ? vaern_fail(msg, VAERN_E_STORE, "%s",
		                             db_errmsg(pg))
		                : vaern_fail(msg, VAERN_E_EXISTS,
		                             "the PostgreSQL database of %s "
		                             "is not empty: it holds a vault; "
		                             "a restore goes into an empty "
		                             "database",
		                             target);
		goto done;
	}
	if (db_begin(pg, DB_WRITE, DB_LOCK_SCHEMA) != DB_OK ||
	    store_copy_pg_create(pg, &errmsg) != DB_OK) {
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "cannot make the PostgreSQL store: %s",
		                 errmsg != NULL ? errmsg : db_errmsg(pg));
		goto done;
	}
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if ((err = open_file(from, parts[i].file, &lite, msg)) ||
		    (err = store_copy_tables(
		             lite, "main", pg,
		             store_copy_pg_schema(parts[i].part), 0, NULL,
		             msg)))
			goto done;
		db_close(lite);
		lite = NULL;
	}
	if (db_exec(pg, "COMMIT", NULL) != DB_OK)
		err = vaern_fail(msg, VAERN_E_STORE, "commit: %s",
		                 db_errmsg(pg));
done:
	db_free(errmsg);
	db_close(lite);
	/* All or nothing: a failure leaves the database empty. */
	if (pg != NULL && err != VAERN_OK)
		(void)db_exec(pg, "ROLLBACK", NULL);
	db_close(pg);
	return err;
}
