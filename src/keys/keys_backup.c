/*
 * keys_backup.c -- online backups of the data and of the keystore, and
 * their restore (issue 13; GDPR-32, GDPR-17). See keys.h.
 *
 * A data backup is the data store and the audit trail, copied from one
 * read snapshot each by SQLite's backup API while vaern serves; it holds
 * no key. A keystore backup is the keystore alone, taken more often and
 * expired after a number of days. A restore takes one data backup and
 * the newest keystore backup: a person erased after the data backup has
 * no key in the keystore, so their rows are noise and are removed.
 */
#include "../store/db.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../audit/audit.h"
#include "../calendar/calendar.h"
#include "../store/store.h"
#include "../store/store_audit.h"
#include "keys.h"
#include "keys_internal.h"

#define DATA_DB      "vaern.db"
#define HASH_BYTES   32
#define HASH_HEX     (2 * HASH_BYTES + 1)
#define COPY_CHUNK   65536
#define MANIFEST_MAX 65536 /* bytes of a manifest */

static const char *const data_files[] = {DATA_DB, AUDIT_DB_FILE};

/* ---- files ------------------------------------------------------------ */

static enum vaern_err
join(char *out, const char *dir, const char *file, struct vaern_msg *msg)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, file);

	if (n < 0 || n >= PATH_MAX)
		return vaern_fail(msg, VAERN_E_INVALID, "a path is too long");
	return VAERN_OK;
}

/* BLAKE2b-256 of the file at path, in hex, and its size. */
static enum vaern_err
file_hash(const char *path, char hex[HASH_HEX], int64_t *bytes,
          struct vaern_msg *msg)
{
	crypto_generichash_state h;
	unsigned char buf[COPY_CHUNK], out[HASH_BYTES];
	ssize_t n;
	int fd;

	*bytes = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return vaern_fail(
		        msg, errno == ENOENT ? VAERN_E_INVALID : VAERN_E_IO,
		        "%s: %s", path, strerror(errno));
	crypto_generichash_init(&h, NULL, 0, HASH_BYTES);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		crypto_generichash_update(&h, buf, (size_t)n);
		*bytes += n;
	}
	close(fd);
	if (n < 0)
		return vaern_fail(msg, VAERN_E_IO, "%s: %s", path,
		                  strerror(errno));
	crypto_generichash_final(&h, out, sizeof(out));
	sodium_bin2hex(hex, HASH_HEX, out, sizeof(out));
	return VAERN_OK;
}

static void
sync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Copies src to the new file dst (mode 0600, never replacing one). */
static enum vaern_err
file_copy(const char *src, const char *dst, struct vaern_msg *msg)
{
	unsigned char buf[COPY_CHUNK];
	enum vaern_err err = VAERN_OK;
	ssize_t n;
	int in, out;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return vaern_fail(msg, VAERN_E_IO, "%s: %s", src,
		                  strerror(errno));
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	           0600);
	if (out < 0) {
		err = vaern_fail(msg, VAERN_E_IO, "%s: %s", dst,
		                 strerror(errno));
		close(in);
		return err;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	if (n < 0 || fsync(out) != 0)
		err = vaern_fail(msg, VAERN_E_IO, "%s: %s", dst,
		                 strerror(errno));
	close(in);
	if (close(out) != 0 && err == VAERN_OK)
		err = vaern_fail(msg, VAERN_E_IO, "%s: %s", dst,
		                 strerror(errno));
	return err;
}

/* What keys_backup_traffic.c shares of the above (keys_internal.h). */
enum vaern_err
keys_path_join(char *out, const char *dir, const char *file,
               struct vaern_msg *msg)
{
	return join(out, dir, file, msg);
}

enum vaern_err
keys_hash_file(const char *path, char hex[KEYS_HASH_HEX], int64_t *bytes,
               struct vaern_msg *msg)
{
	return file_hash(path, hex, bytes, msg);
}

enum vaern_err
keys_file_copy(const char *src, const char *dst, struct vaern_msg *msg)
{
	return file_copy(src, dst, msg);
}

enum vaern_err
keys_backup_file(const char *src, const char *dst, char hex[KEYS_HASH_HEX],
                 int64_t *bytes, struct vaern_msg *msg)
{
	enum vaern_err err = file_copy(src, dst, msg);

	return err != VAERN_OK ? err : file_hash(dst, hex, bytes, msg);
}

void
keys_sync_tree(const char *dir)
{
	sync_path(dir, 1);
}

/*
 * Makes dir (mode 0700) or checks that it is empty; allow (if not NULL)
 * names the one file it may hold all the same.
 */
static enum vaern_err
dir_empty(const char *dir, const char *allow, const char *allow2,
          struct vaern_msg *msg)
{
	struct dirent *e;
	DIR *d;
	int other = 0;

	if (mkdir(dir, 0700) == 0)
		return VAERN_OK;
	if (errno != EEXIST)
		return vaern_fail(msg, VAERN_E_IO, "cannot create %s: %s", dir,
		                  strerror(errno));
	if ((d = opendir(dir)) == NULL)
		return vaern_fail(msg, VAERN_E_INVALID, "%s is not a directory",
		                  dir);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") &&
		    (allow == NULL || strcmp(e->d_name, allow) != 0) &&
		    (allow2 == NULL || strcmp(e->d_name, allow2) != 0))
			other = 1;
	closedir(d);
	if (other)
		return vaern_fail(msg, VAERN_E_EXISTS,
		                  "%s is not empty: a backup or a restore goes "
		                  "into a new or empty directory",
		                  dir);
	return VAERN_OK;
}

/* ---- manifests ----------------------------------------------------------- */

static void
time_text(int64_t t, char out[32])
{
	char text[21];

	cal_format_instant(t, text); /* 2026-12-07T08:30:00Z */
	(void)snprintf(out, 32, "%s", text);
}

/* Adds {"bytes", "blake2b"} of dir/file to files. */
static enum vaern_err
manifest_file(json_t *files, const char *dir, const char *file,
              struct vaern_msg *msg)
{
	char path[PATH_MAX], hex[HASH_HEX];
	enum vaern_err err;
	int64_t bytes;

	if ((err = join(path, dir, file, msg)) ||
	    (err = file_hash(path, hex, &bytes, msg)))
		return err;
	if (json_object_set_new(files, file,
	                        json_pack("{sIss}", "bytes", (json_int_t)bytes,
	                                  "blake2b", hex)) != 0)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	return VAERN_OK;
}

/* Writes m to dir/manifest.json (by a rename: all or nothing). */
static enum vaern_err
manifest_write(json_t *m, const char *dir, struct vaern_msg *msg)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	enum vaern_err err;

	if ((err = join(path, dir, KEYS_MANIFEST, msg)) ||
	    (err = join(tmp, dir, ".manifest.tmp", msg)))
		return err;
	if (json_dump_file(m, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
		return vaern_fail(msg, VAERN_E_IO, "%s: cannot write", tmp);
	sync_path(tmp, 0);
	if (rename(tmp, path) != 0)
		return vaern_fail(msg, VAERN_E_IO, "%s: %s", path,
		                  strerror(errno));
	sync_path(dir, 1);
	return VAERN_OK;
}

/* The manifest of a backup of kind in dir, checked against its files:
 * every file named is there with its size and hash. */
static enum vaern_err
manifest_check(const char *dir, const char *kind, json_t **out,
               struct vaern_msg *msg)
{
	char path[PATH_MAX], hex[HASH_HEX];
	const char *name, *fmt, *k, *want;
	enum vaern_err err;
	json_error_t jerr;
	json_t *m, *files, *f;
	int64_t bytes;

	*out = NULL;
	if ((err = join(path, dir, KEYS_MANIFEST, msg)))
		return err;
	m = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (m == NULL)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "%s: no readable manifest (line %d): not a "
		                  "complete vaern backup",
		                  path, jerr.line);
	fmt = json_string_value(json_object_get(m, "format"));
	k = json_string_value(json_object_get(m, "kind"));
	files = json_object_get(m, "files");
	if (fmt == NULL || strcmp(fmt, KEYS_BACKUP_FORMAT) != 0 || k == NULL ||
	    strcmp(k, kind) != 0 || !json_is_object(files) ||
	    json_string_value(json_object_get(m, "vault_id")) == NULL) {
		json_decref(m);
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "%s: not the manifest of a vaern %s backup",
		                  path, kind);
	}
	json_object_foreach(files, name, f)
	{
		if (strchr(name, '/') != NULL || name[0] == '.' ||
		    (want = json_string_value(json_object_get(f, "blake2b"))) ==
		            NULL) {
			err = vaern_fail(msg, VAERN_E_INVALID,
			                 "%s: file entry '%s' is malformed",
			                 path, name);
			break;
		}
		if ((err = join(path, dir, name, msg)) != VAERN_OK ||
		    (err = file_hash(path, hex, &bytes, msg)) != VAERN_OK)
			break;
		if (bytes != json_integer_value(json_object_get(f, "bytes")) ||
		    strcmp(hex, want) != 0) {
			err = vaern_fail(
			        msg, VAERN_E_INVALID,
			        "%s: does not match the manifest (%s): "
			        "truncated or altered",
			        path,
			        bytes != json_integer_value(
			                         json_object_get(f, "bytes"))
			                ? "size"
			                : "checksum");
			break;
		}
	}
	if (err != VAERN_OK) {
		json_decref(m);
		return err;
	}
	*out = m;
	return VAERN_OK;
}

/* ---- copying ------------------------------------------------------------- */

/* Copies database schema of src (inside its read snapshot) to dst_path. */
static enum vaern_err
db_copy(struct db *src, const char *schema, const char *dst_path,
        struct vaern_msg *msg)
{
	struct db *dst = NULL;
	sqlite3_backup *b;
	enum vaern_err err = VAERN_OK;
	int rc;

	if (db_open_sqlite(dst_path,
	                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                           SQLITE_OPEN_EXCLUSIVE,
	                   5000, &dst) != DB_OK) {
		err = vaern_fail(msg, VAERN_E_IO, "%s: cannot create",
		                 dst_path);
		goto done;
	}
	if ((b = sqlite3_backup_init(dst->lite, "main", src->lite, schema)) ==
	    NULL) {
		err = vaern_fail(msg, VAERN_E_STORE, "backup of %s: %s", schema,
		                 db_errmsg(dst));
		goto done;
	}
	rc = sqlite3_backup_step(b, -1);
	if (sqlite3_backup_finish(b) != DB_OK || rc != DB_DONE) {
		err = vaern_fail(msg, VAERN_E_STORE, "backup of %s: %s", schema,
		                 sqlite3_errstr(rc));
		goto done;
	}
	/* One self-contained file: no log beside it. */
	if (db_exec(dst, "PRAGMA journal_mode=DELETE", NULL) != DB_OK)
		err = vaern_fail(msg, VAERN_E_STORE, "%s: %s", dst_path,
		                 db_errmsg(dst));
done:
	db_close(dst);
	if (err == VAERN_OK)
		sync_path(dst_path, 0);
	return err;
}

int
keys_query_text(struct db *db, const char *sql, char *out, size_t outsz)
{
	struct db_stmt *s = NULL;
	int ok = 0;

	out[0] = '\0';
	if (db_prepare(db, sql, 0, &s) == DB_OK && db_step(s) == DB_ROW &&
	    db_column_type(s, 0) != DB_NULL) {
		(void)snprintf(out, outsz, "%s", db_column_text(s, 0));
		ok = 1;
	}
	db_finalize(s);
	return ok;
}

/* Opens path read-write on its own connection (no create). */
static enum vaern_err
db_open(const char *path, int flags, struct db **db, struct vaern_msg *msg)
{
	*db = NULL;
	if (access(path, F_OK) != 0)
		return vaern_fail(msg, VAERN_E_NOTFOUND, "%s: missing", path);
	if (db_open_sqlite(path, flags, 5000, db) != DB_OK)
		return vaern_fail(msg, VAERN_E_STORE, "%s: %s", path,
		                  *db ? db_errmsg(*db) : "cannot open");
	db_busy_timeout(*db, 10000);
	return VAERN_OK;
}

static enum vaern_err
attach(struct db *db, const char *path, const char *as, struct vaern_msg *msg)
{
	struct db_stmt *s = NULL;
	char sql[64];
	int rc = SQLITE_ERROR;

	(void)snprintf(sql, sizeof(sql), "ATTACH ?1 AS %s", as);
	if (db_prepare(db, sql, 0, &s) == DB_OK) {
		db_bind_text(s, 1, path, -1);
		rc = db_step(s);
	}
	db_finalize(s);
	if (rc != DB_DONE)
		return vaern_fail(msg, VAERN_E_STORE, "%s: %s", path,
		                  db_errmsg(db));
	return VAERN_OK;
}

/*
 * 1 if the data directory dir keeps its store in PostgreSQL (issue 14):
 * its backups are written from a snapshot of the database into the same
 * SQLite files (keys_backup_pg.c); -1 if its store.conf is unreadable.
 */
static int
on_pg(const char *dir)
{
	char conninfo[1024];
	int on = db_store_conf(dir, 1, conninfo, sizeof(conninfo));

	explicit_bzero(conninfo, sizeof(conninfo));
	return on;
}

static enum vaern_err
conf_unreadable(const char *dir, struct vaern_msg *msg)
{
	return vaern_fail(msg, VAERN_E_INVALID,
	                  "%s/%s is unreadable or open to others: it must be "
	                  "a file of mode 0600 holding a PostgreSQL "
	                  "connection string",
	                  dir, DB_STORE_CONF);
}

enum vaern_err
keys_backup_data(const char *dir, const char *out, struct vaern_msg *msg)
{
	char src[PATH_MAX], aud[PATH_MAX], dst[PATH_MAX], vault_id[64];
	char real[PATH_MAX];
	char schema[16], seq[32], head[HASH_HEX], when[32];
	enum vaern_err err;
	struct db *db = NULL;
	json_t *m = NULL, *files = NULL, *traffic = NULL;
	int began = 0, pg = on_pg(dir);

	if (pg < 0)
		return conf_unreadable(dir, msg);
	if (pg) {
		if ((err = dir_empty(out, NULL, NULL, msg)) != VAERN_OK ||
		    (err = keys_pg_backup_data(dir, out, vault_id, schema, seq,
		                               head, msg)) != VAERN_OK)
			goto done;
		goto manifest;
	}
	if ((err = join(src, dir, DATA_DB, msg)) ||
	    (err = join(aud, dir, AUDIT_DB_FILE, msg)))
		return err;
	if ((err = db_open(src, SQLITE_OPEN_READWRITE, &db, msg)) != VAERN_OK)
		goto done;
	if (access(aud, F_OK) != 0) {
		err = vaern_fail(msg, VAERN_E_NOTFOUND, "%s: missing", aud);
		goto done;
	}
	if ((err = attach(db, aud, "audit", msg)) != VAERN_OK ||
	    (err = dir_empty(out, NULL, NULL, msg)) != VAERN_OK)
		goto done;
	/* The data's snapshot first, then the trail's: the trail holds the
	 * entry of every change in the data whose entry was written by then
	 * (an acknowledged write's always is: it is audited before it is
	 * answered). */
	if (db_exec(db, "BEGIN", NULL) != DB_OK) {
		err = vaern_fail(msg, VAERN_E_STORE, "begin: %s",
		                 db_errmsg(db));
		goto done;
	}
	began = 1;
	if (!keys_query_text(
	            db, "SELECT value FROM main.meta WHERE key = 'vault_id'",
	            vault_id, sizeof(vault_id)) ||
	    !keys_query_text(db,
	                     "SELECT value FROM main.meta"
	                     " WHERE key = 'schema_version'",
	                     schema, sizeof(schema))) {
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "%s: no vault id; open it with vaern once",
		                 src);
		goto done;
	}
	if (!keys_query_text(db, "SELECT max(seq) FROM audit.audit", seq,
	                     sizeof(seq)))
		(void)snprintf(seq, sizeof(seq), "0");
	if (!keys_query_text(db,
	                     "SELECT lower(hex(hash)) FROM audit.audit"
	                     " ORDER BY seq DESC LIMIT 1",
	                     head, sizeof(head)))
		head[0] = '\0';
	for (size_t i = 0; i < 2 && err == VAERN_OK; i++)
		if ((err = join(dst, out, data_files[i], msg)) == VAERN_OK)
			err = db_copy(db, i == 0 ? "main" : "audit", dst, msg);
	(void)db_exec(db, "COMMIT", NULL);
	began = 0;
	if (err != VAERN_OK)
		goto done;
manifest:
	time_text(clock_now(), when);
	/* The data directory it came from: its live keystore is the newest
	 * one a restore can take when no keystore backup is named. */
	if (realpath(dir, real) == NULL)
		(void)snprintf(real, sizeof(real), "%s", dir);
	m = json_pack("{sssssssssssssss{sIss}}", "format", KEYS_BACKUP_FORMAT,
	              "kind", "data", "vault_id", vault_id, "schema", schema,
	              "created_at", when, "source", real, "engine",
	              pg ? "postgresql" : "sqlite", "audit_head", "seq",
	              (json_int_t)strtoll(seq, NULL, 10), "hash", head);
	if (m == NULL || (files = json_object()) == NULL ||
	    json_object_set(m, "files", files) != 0) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < 2 && err == VAERN_OK; i++)
		err = manifest_file(files, out, data_files[i], msg);
	/* The retained-data store's files, after the databases and before
	 * the manifest that completes the backup (issue 18). */
	if (err == VAERN_OK && ((traffic = json_object()) == NULL ||
	                        json_object_set(m, "traffic", traffic) != 0))
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	if (err == VAERN_OK)
		err = keys_backup_traffic(dir, out, traffic, msg);
	if (err == VAERN_OK)
		err = manifest_write(m, out, msg);
done:
	if (began)
		(void)db_exec(db, "ROLLBACK", NULL);
	db_close(db);
	json_decref(files);
	json_decref(traffic);
	json_decref(m);
	return err;
}

/* ---- keystore backups ---------------------------------------------------- */

/* The manifest's created_at of the keystore backup in dir; 0 if none. */
static int64_t
backup_time(const char *dir)
{
	char path[PATH_MAX];
	json_t *m;
	int64_t t = 0;
	const char *c;
	struct vaern_msg msg = {{0}};

	if (join(path, dir, KEYS_MANIFEST, &msg) != VAERN_OK ||
	    (m = json_load_file(path, 0, NULL)) == NULL)
		return 0;
	c = json_string_value(json_object_get(m, "created_at"));
	if (c == NULL || cal_parse_instant(c, &t, &msg) != VAERN_OK)
		t = 0;
	json_decref(m);
	return t;
}

/* Removes the backup directory dir and the files in it. */
static void
remove_backup(const char *dir)
{
	struct dirent *e;
	char path[PATH_MAX];
	struct vaern_msg msg = {{0}};
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' ||
		    strcmp(e->d_name, ".manifest.tmp") == 0)
			if (join(path, dir, e->d_name, &msg) == VAERN_OK)
				(void)unlink(path);
	closedir(d);
	(void)rmdir(dir);
}

/* Deletes the keystore backups in out made more than keep_days ago. */
static int
expire(const char *out, int keep_days, int64_t now)
{
	struct dirent *e;
	char path[PATH_MAX];
	struct vaern_msg msg = {{0}};
	DIR *d = opendir(out);
	int n = 0;
	int64_t t;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, KEYS_KEYSTORE_PREFIX,
		            sizeof(KEYS_KEYSTORE_PREFIX) - 1) != 0 ||
		    join(path, out, e->d_name, &msg) != VAERN_OK)
			continue;
		t = backup_time(path);
		if (t != 0 && t < now - (int64_t)keep_days * 86400) {
			remove_backup(path);
			n++;
		}
	}
	closedir(d);
	return n;
}

/*
 * Drops keys whose subject row is gone: an erasure commits the data store
 * first, so a crash between the two commits leaves the key behind, and a
 * keystore backup must not keep it (GDPR-17).
 */
static enum vaern_err
drop_dead_keys(struct db *db, int64_t *n, struct vaern_msg *msg)
{
	*n = 0;
	if (db_exec(db,
	            "DELETE FROM ks.subject_key WHERE NOT EXISTS"
	            " (SELECT 1 FROM subject AS s"
	            "  WHERE s.uid = subject_key.uid)",
	            NULL) != DB_OK)
		return vaern_fail(msg, VAERN_E_STORE, "keystore: %s",
		                  db_errmsg(db));
	*n = db_changes(db);
	return VAERN_OK;
}

enum vaern_err
keys_backup_keystore(const char *dir, const char *out, int keep_days,
                     char *path, int *expired, struct vaern_msg *msg)
{
	char src[PATH_MAX], ksp[PATH_MAX], sub[PATH_MAX], tmp[PATH_MAX];
	char name[64], when[32], vault_id[64], dst[PATH_MAX];
	struct store *st = NULL;
	enum vaern_err err;
	json_t *m = NULL, *files = NULL;
	int64_t now = clock_now(), dead = 0;
	struct db *db;
	int n, pg;

	if (expired != NULL)
		*expired = 0;
	if ((pg = on_pg(dir)) < 0)
		return conf_unreadable(dir, msg);
	if ((err = join(src, dir, DATA_DB, msg)) ||
	    (err = join(ksp, dir, STORE_KEYSTORE_FILE, msg)))
		return err;
	if (!pg && access(src, F_OK) != 0)
		return vaern_fail(msg, VAERN_E_NOTFOUND, "%s: missing", src);
	if (mkdir(out, 0700) != 0 && errno != EEXIST)
		return vaern_fail(msg, VAERN_E_IO, "cannot create %s: %s", out,
		                  strerror(errno));
	time_text(now, when);
	/* keystore-20261207T083000Z: sorts by time */
	(void)snprintf(name, sizeof(name), "%s%.4s%.2s%.2sT%.2s%.2s%.2sZ",
	               KEYS_KEYSTORE_PREFIX, when, when + 5, when + 8,
	               when + 11, when + 14, when + 17);
	for (int i = 0; i < 100; i++) {
		n = i == 0 ? snprintf(sub, sizeof(sub), "%s/%s", out, name)
		           : snprintf(sub, sizeof(sub), "%s/%s-%d", out, name,
		                      i);
		if (n < 0 || (size_t)n >= sizeof(sub))
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "a path is too long");
		if (access(sub, F_OK) != 0)
			break;
	}
	n = snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", out, name);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return vaern_fail(msg, VAERN_E_INVALID, "a path is too long");
	remove_backup(tmp); /* a run that died */
	if ((err = store_open_sqlite(src, 0, &st, msg)) != VAERN_OK)
		return err;
	db = store_sqlite_db(st);
	if (db_begin(db, DB_WRITE, DB_LOCK_STORE) != DB_OK) {
		err = vaern_fail(msg, VAERN_E_STORE, "begin: %s",
		                 db_errmsg(db));
		goto done;
	}
	err = drop_dead_keys(db, &dead, msg);
	if (err == VAERN_OK && db_exec(db, "COMMIT", NULL) != DB_OK)
		err = vaern_fail(msg, VAERN_E_STORE, "commit: %s",
		                 db_errmsg(db));
	if (err != VAERN_OK) {
		(void)db_exec(db, "ROLLBACK", NULL);
		goto done;
	}
	if (mkdir(tmp, 0700) != 0) {
		err = vaern_fail(msg, VAERN_E_IO, "cannot create %s: %s", tmp,
		                 strerror(errno));
		goto done;
	}
	if (pg) {
		if ((err = keys_pg_backup_keystore(dir, tmp, 0, vault_id,
		                                   msg)) != VAERN_OK)
			goto done;
		goto manifest;
	}
	if (db_exec(db, "BEGIN", NULL) != DB_OK ||
	    !keys_query_text(db,
	                     "SELECT value FROM ks.meta WHERE key = 'vault_id'",
	                     vault_id, sizeof(vault_id))) {
		err = vaern_fail(msg, VAERN_E_STORE, "%s: no vault id", ksp);
		(void)db_exec(db, "ROLLBACK", NULL);
		goto done;
	}
	if ((err = join(dst, tmp, STORE_KEYSTORE_FILE, msg)) == VAERN_OK)
		err = db_copy(db, "ks", dst, msg);
	(void)db_exec(db, "COMMIT", NULL);
	if (err != VAERN_OK)
		goto done;
manifest:
	m = json_pack("{ssssssssss}", "format", KEYS_BACKUP_FORMAT, "kind",
	              "keystore", "vault_id", vault_id, "schema", "5",
	              "created_at", when);
	if (m == NULL || (files = json_object()) == NULL ||
	    json_object_set(m, "files", files) != 0) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
	if ((err = manifest_file(files, tmp, STORE_KEYSTORE_FILE, msg)) ||
	    (err = manifest_write(m, tmp, msg)))
		goto done;
	if (rename(tmp, sub) != 0) {
		err = vaern_fail(msg, VAERN_E_IO, "%s: %s", sub,
		                 strerror(errno));
		goto done;
	}
	sync_path(out, 1);
	if (path != NULL)
		(void)snprintf(path, PATH_MAX, "%s", sub);
	if (expired != NULL)
		*expired = expire(out, keep_days, now);
done:
	if (err != VAERN_OK)
		remove_backup(tmp);
	store_close(st);
	json_decref(files);
	json_decref(m);
	return err;
}

/* ---- restore ---------------------------------------------------------------
 */

/* N of keystore-<time>Z-N; 0 without one. */
static long
suffix(const char *name)
{
	const char *z = strrchr(name, 'Z');

	if (z == NULL || z[1] != '-')
		return 0;
	return strtol(z + 2, NULL, 10);
}

/*
 * The newest keystore: dir itself if it is a keystore backup (it has a
 * manifest) or a data directory (its live keystore; *live = 1), else the
 * keystore-* backup in it with the latest created_at.
 */
static enum vaern_err
newest_keystore(const char *dir, char *out, int *live, struct vaern_msg *msg)
{
	char path[PATH_MAX];
	struct dirent *e;
	int64_t best = 0, t;
	long best_suffix = -1;
	DIR *d;

	if (join(path, dir, KEYS_MANIFEST, msg) != VAERN_OK)
		return VAERN_E_INVALID;
	*live = 0;
	if (access(path, F_OK) == 0) {
		(void)snprintf(out, PATH_MAX, "%s", dir);
		return VAERN_OK;
	}
	/* A data directory on PostgreSQL: its live keystore is there. */
	if (on_pg(dir) == 1) {
		*live = 1;
		(void)snprintf(out, PATH_MAX, "%s", dir);
		return VAERN_OK;
	}
	if (join(path, dir, STORE_KEYSTORE_FILE, msg) == VAERN_OK &&
	    access(path, F_OK) == 0 &&
	    join(path, dir, DATA_DB, msg) == VAERN_OK &&
	    access(path, F_OK) == 0) {
		*live = 1;
		(void)snprintf(out, PATH_MAX, "%s", dir);
		return VAERN_OK;
	}
	if ((d = opendir(dir)) == NULL)
		return vaern_fail(msg, VAERN_E_INVALID, "%s: %s", dir,
		                  strerror(errno));
	out[0] = '\0';
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, KEYS_KEYSTORE_PREFIX,
		            sizeof(KEYS_KEYSTORE_PREFIX) - 1) != 0 ||
		    join(path, dir, e->d_name, msg) != VAERN_OK)
			continue;
		/* Two in one second: keystore-<time>-N, N counting up. */
		t = backup_time(path);
		if (t > best ||
		    (t == best && t != 0 && suffix(e->d_name) > best_suffix)) {
			best = t;
			best_suffix = suffix(e->d_name);
			(void)snprintf(out, PATH_MAX, "%s", path);
		}
	}
	closedir(d);
	if (out[0] == '\0')
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "%s: no keystore backup in it", dir);
	return VAERN_OK;
}

/* Opens a backed-up database read-only without touching its directory;
 * a live one (a data directory's keystore) read-only as it is. */
static enum vaern_err
db_open_backup(const char *path, int live, struct db **db,
               struct vaern_msg *msg)
{
	char uri[PATH_MAX + 32];
	int n = snprintf(uri, sizeof(uri), "file:%s?immutable=1", path);

	*db = NULL;
	if (live) {
		if (db_open_sqlite(path, SQLITE_OPEN_READONLY, 5000, db) !=
		    DB_OK)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "%s: not a database", path);
		db_busy_timeout(*db, 10000);
		return VAERN_OK;
	}
	if (n < 0 || (size_t)n >= sizeof(uri) || strchr(path, '?') ||
	    strchr(path, '#') || strchr(path, '%'))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "%s: an unusual path; rename it", path);
	if (db_open_sqlite(uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, 5000,
	                   db) != DB_OK)
		return vaern_fail(msg, VAERN_E_INVALID, "%s: not a database",
		                  path);
	return VAERN_OK;
}

#define VAULT_ID_SQL "SELECT value FROM meta WHERE key = 'vault_id'"

/*
 * Opens the backed-up database dir/file into *db (the caller closes it,
 * also on failure) and checks that sql answers want: VAERN_E_INVALID
 * naming the file and what (a manifest that does not match) otherwise.
 */
static enum vaern_err
backup_says(const char *dir, const char *file, int live, const char *sql,
            const char *want, const char *what, struct db **db,
            struct vaern_msg *msg)
{
	char path[PATH_MAX], text[80];
	enum vaern_err err;

	if ((err = join(path, dir, file, msg)) ||
	    (err = db_open_backup(path, live, db, msg)))
		return err;
	if (!keys_query_text(*db, sql, text, sizeof(text)) ||
	    strcmp(text, want) != 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "%s: its %s does not match the manifest",
		                  path, what);
	return VAERN_OK;
}

/* Checks what the files say against their manifests (km NULL: the
 * keystore is a data directory's live one); *gen_ok is 1 if
 * the master key is a live generation of the keystore. */
static enum vaern_err
check_backup(const char *backup, const char *ks, json_t *dm, json_t *km,
             const unsigned char *master, struct keys_restore_report *rep,
             struct vaern_msg *msg)
{
	char text[80], check[KEYS_HEX + 1], sql[160], seq[32];
	const char *vid = json_string_value(json_object_get(dm, "vault_id"));
	const char *kid =
	        km != NULL ? json_string_value(json_object_get(km, "vault_id"))
	                   : vid; /* live: the file says */
	json_t *head = json_object_get(dm, "audit_head");
	enum vaern_err err = VAERN_OK;
	struct db *db = NULL;

	if (strcmp(vid, kid) != 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the keystore backup %s belongs to another "
		                  "vault than the data backup %s",
		                  ks, backup);
	/* each file says what its manifest says: the data store and the
	 * keystore their vault, the trail its head */
	(void)snprintf(
	        seq, sizeof(seq), "%lld",
	        (long long)json_integer_value(json_object_get(head, "seq")));
	if ((err = backup_says(backup, DATA_DB, 0, VAULT_ID_SQL, vid,
	                       "vault id", &db, msg)) != VAERN_OK)
		goto done;
	db_close(db);
	if ((err = backup_says(backup, AUDIT_DB_FILE, 0,
	                       "SELECT coalesce(max(seq), 0) FROM audit", seq,
	                       "head", &db, msg)) != VAERN_OK)
		goto done;
	rep->audit_seq = strtoll(seq, NULL, 10);
	db_close(db);
	if ((err = backup_says(ks, STORE_KEYSTORE_FILE, km == NULL,
	                       VAULT_ID_SQL, vid, "vault id", &db, msg)) !=
	    VAERN_OK)
		goto done;
	keys_check_value(master, check);
	(void)snprintf(sql, sizeof(sql),
	               "SELECT state FROM kek WHERE check_value = '%s'", check);
	if (!keys_query_text(db, sql, text, sizeof(text)) ||
	    strcmp(text, "retired") == 0)
		err = vaern_fail(
		        msg, VAERN_E_INVALID,
		        "the master key is not the key of the keystore "
		        "backup %s%s",
		        ks,
		        text[0] != '\0' ? " (it was retired by a "
		                          "rotation)"
		                        : "");
done:
	db_close(db);
	return err;
}

/*
 * Completes the erasures the data backup predates: a subject whose key is
 * not in the keystore is removed with its rows (its data is noise), and
 * a key whose subject is not in the data (added after the data backup)
 * is dropped.
 */
static enum vaern_err
purge(struct store *st, struct keys_restore_report *rep, struct vaern_msg *msg)
{
	struct db *db = store_sqlite_db(st);
	struct db_stmt *s = NULL;
	enum vaern_err err = VAERN_OK;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;

	if ((err = store_begin(st, msg)) != VAERN_OK)
		return err;
	if (db_prepare(db,
	               "SELECT id FROM main.subject AS s WHERE NOT"
	               " EXISTS (SELECT 1 FROM ks.subject_key AS k"
	               " WHERE k.uid = s.uid)",
	               0, &s) != DB_OK) {
		err = vaern_fail(msg, VAERN_E_STORE, "purge: %s",
		                 db_errmsg(db));
		goto done;
	}
	while (db_step(s) == DB_ROW) {
		if (n == cap) {
			int64_t *p = realloc(ids, (cap ? 2 * cap : 64) *
			                                  sizeof(*ids));

			if (p == NULL) {
				err = vaern_fail(msg, VAERN_E_NOMEM,
				                 "out of memory");
				goto done;
			}
			ids = p;
			cap = cap ? 2 * cap : 64;
		}
		ids[n++] = db_column_int64(s, 0);
	}
	db_finalize(s);
	s = NULL;
	if (n > 0 && db_exec(db,
	                     "DELETE FROM main.identifier WHERE subject"
	                     " IN (SELECT id FROM main.subject AS s"
	                     " WHERE NOT EXISTS (SELECT 1 FROM"
	                     " ks.subject_key AS k WHERE k.uid = s.uid))",
	                     NULL) != DB_OK) {
		err = vaern_fail(msg, VAERN_E_STORE, "purge: %s",
		                 db_errmsg(db));
		goto done;
	}
	for (size_t i = 0; i < n && err == VAERN_OK; i++)
		err = store_subject_delete(st, ids[i], msg);
	rep->purged = (int64_t)n;
	if (err == VAERN_OK)
		err = drop_dead_keys(db, &rep->dead_keys, msg);
done:
	db_finalize(s);
	free(ids);
	if (err == VAERN_OK)
		err = store_commit(st, msg);
	else
		store_rollback(st);
	if (err == VAERN_OK)
		err = store_checkpoint(st, msg);
	return err;
}

/*
 * Copies a live keystore (a data directory's, maybe being written) from
 * one read snapshot, without the keys whose subject the live data no
 * longer holds: an erasure cut by a crash between its two commits leaves
 * its key behind, and a restore must not bring the person back with it
 * (GDPR-17).
 */
static enum vaern_err
live_copy(const char *src, const char *dst, struct vaern_msg *msg)
{
	char data[PATH_MAX], text[80];
	const char *slash = strrchr(src, '/');
	enum vaern_err err;
	struct db *db = NULL;
	int n;

	n = snprintf(data, sizeof(data), "%.*s/%s",
	             slash != NULL ? (int)(slash - src) : 1,
	             slash != NULL ? src : ".", DATA_DB);
	if (n < 0 || (size_t)n >= sizeof(data))
		return vaern_fail(msg, VAERN_E_INVALID, "a path is too long");
	if ((err = db_open_backup(src, 1, &db, msg)) == VAERN_OK) {
		if (db_exec(db, "BEGIN", NULL) != DB_OK ||
		    !keys_query_text(db, VAULT_ID_SQL, text, sizeof(text)))
			err = vaern_fail(msg, VAERN_E_STORE, "%s: %s", src,
			                 db_errmsg(db));
		else
			err = db_copy(db, "main", dst, msg);
		(void)db_exec(db, "COMMIT", NULL);
	}
	db_close(db);
	db = NULL;
	if (err != VAERN_OK)
		return err;
	/* the live data as it is now: later than the copy, so a subject
	 * erased meanwhile loses its key here too */
	if ((err = db_open(dst, SQLITE_OPEN_READWRITE, &db, msg)) == VAERN_OK &&
	    (err = attach(db, data, "live", msg)) == VAERN_OK &&
	    db_exec(db,
	            "DELETE FROM main.subject_key WHERE NOT EXISTS"
	            " (SELECT 1 FROM live.subject AS s"
	            "  WHERE s.uid = subject_key.uid)",
	            NULL) != DB_OK)
		err = vaern_fail(msg, VAERN_E_STORE, "%s: %s", dst,
		                 db_errmsg(db));
	db_close(db);
	return err;
}

/* Removes a staging directory and every file in it (a SQLite file's
 * logs included). */
static void
remove_stage(const char *dir)
{
	struct dirent *e;
	char path[PATH_MAX];
	struct vaern_msg msg = {{0}};
	DIR *d;

	if (dir[0] == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") &&
		    join(path, dir, e->d_name, &msg) == VAERN_OK)
			(void)unlink(path);
	closedir(d);
	(void)rmdir(dir);
}

/* A new private directory: tmpl ("DIR/NAME-XXXXXX") made by mkdtemp. */
static enum vaern_err
make_stage(char *tmpl, const char *dir, const char *name, struct vaern_msg *msg)
{
	int n = snprintf(tmpl, PATH_MAX, "%s/%s-XXXXXX", dir, name);

	if (n < 0 || n >= PATH_MAX)
		return vaern_fail(msg, VAERN_E_INVALID, "a path is too long");
	if (mkdtemp(tmpl) == NULL) {
		n = errno;
		tmpl[0] = '\0';
		return vaern_fail(msg, VAERN_E_IO, "cannot create %s/%s: %s",
		                  dir, name, strerror(n));
	}
	return VAERN_OK;
}

/*
 * A restore: the backup's files into the data directory target, the
 * keystore's from ks (live: a data directory's own, copied without its
 * dead keys), then the purge. Into PostgreSQL (target holds store.conf)
 * the files go to a staging directory in target first, are purged there,
 * and are loaded into the empty database in one transaction: on failure
 * the database stays empty and the staging directory goes.
 */
enum vaern_err
keys_restore(const char *backup, const char *keystore, const char *target,
             struct keys_restore_report *rep, struct vaern_msg *msg)
{
	static const char *const files[] = {DATA_DB, AUDIT_DB_FILE,
	                                    STORE_KEYSTORE_FILE};
	char ks[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
	char live_pg[PATH_MAX] = "", stage[PATH_MAX] = "";
	unsigned char *master = NULL;
	json_t *dm = NULL, *km = NULL;
	struct store *st = NULL;
	enum vaern_err err;
	size_t copied = 0;
	int made_dir = 0, live = 0, to_pg;
	const char *into = target, *tmpdir = getenv("TMPDIR");
	struct stat sb;

	memset(rep, 0, sizeof(*rep));
	if ((to_pg = on_pg(target)) < 0)
		return conf_unreadable(target, msg);
	if ((master = sodium_malloc(KEYS_BYTES)) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	/* Everything is checked before anything is written. */
	if ((err = manifest_check(backup, "data", &dm, msg)) != VAERN_OK ||
	    (err = keys_traffic_check(backup, json_object_get(dm, "traffic"),
	                              msg)) != VAERN_OK)
		goto done;
	/* No keystore named: the newest is the live one of the data
	 * directory the backup was taken from, if it is still there. */
	if (keystore == NULL &&
	    (keystore = json_string_value(json_object_get(dm, "source"))) ==
	            NULL) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "the backup does not name its data directory: "
		                 "give --keystore DIR");
		goto done;
	}
	if ((err = newest_keystore(keystore, ks, &live, msg)) != VAERN_OK)
		goto done;
	(void)snprintf(rep->keystore, sizeof(rep->keystore), "%s", ks);
	/* A live keystore in PostgreSQL: copied from one snapshot into a
	 * private directory (never the target's), and read from there. */
	if (live && on_pg(ks) == 1) {
		char vid[64];

		if ((err = make_stage(live_pg,
		                      tmpdir != NULL && tmpdir[0] == '/'
		                              ? tmpdir
		                              : "/tmp",
		                      "vaern-keystore", msg)) != VAERN_OK ||
		    (err = keys_pg_backup_keystore(ks, live_pg, 1, vid, msg)))
			goto done;
		(void)snprintf(ks, sizeof(ks), "%s", live_pg);
		live = 0; /* a copy now: no manifest, no dead key */
	}
	if ((!live && live_pg[0] == '\0' &&
	     (err = manifest_check(ks, "keystore", &km, msg)) != VAERN_OK) ||
	    (err = keys_master_load(target, master, NULL, msg)) != VAERN_OK ||
	    (err = check_backup(backup, ks, dm, km, master, rep, msg)))
		goto done;
	made_dir = stat(target, &sb) != 0;
	if ((err = dir_empty(target, KEYS_FILE, DB_STORE_CONF, msg)) !=
	    VAERN_OK) {
		made_dir = 0;
		goto done;
	}
	if (to_pg) {
		if ((err = make_stage(stage, target, ".restore", msg)))
			goto done;
		into = stage;
	}
	for (copied = 0; copied < 3; copied++) {
		const char *from = copied == 2 ? ks : backup;

		if ((err = join(src, from, files[copied], msg)) ||
		    (err = join(dst, into, files[copied], msg)))
			break;
		err = copied == 2 && live ? live_copy(src, dst, msg)
		                          : file_copy(src, dst, msg);
		if (err != VAERN_OK) {
			copied++; /* a part of it may be there */
			break;
		}
	}
	if (err != VAERN_OK ||
	    (err = keys_restore_traffic(backup, target,
	                                json_object_get(dm, "traffic"), msg)))
		goto done;
	sync_path(into, 1);
	if ((err = join(dst, into, DATA_DB, msg)) ||
	    (err = store_open_sqlite(dst, 0, &st, msg)) ||
	    (err = purge(st, rep, msg)) ||
	    (err = keys_traffic_purge(st, target,
	                              json_object_get(dm, "traffic"),
	                              &rep->traffic_days, msg)))
		goto done;
	store_close(st);
	st = NULL;
	if (to_pg) {
		/* The staged trail at this binary's schema too (a backup from
		 * an older vaern), as its first writable open makes it. */
		struct audit_store *as = NULL;

		if ((err = join(dst, stage, AUDIT_DB_FILE, msg)) ||
		    (err = audit_store_open(dst, 1, &as, msg)))
			goto done;
		audit_store_close(as);
		err = keys_pg_load(target, stage, msg);
	}
done:
	store_close(st);
	remove_stage(stage);
	remove_stage(live_pg);
	if (err != VAERN_OK) {
		if (copied == 3)
			keys_remove_traffic(target,
			                    json_object_get(dm, "traffic"));
		/* Nothing of a failed restore stays in the target: the files
		 * it copied (and their logs), the directory if it made it. */
		for (size_t i = 0; i < copied && i < 3 && !to_pg; i++) {
			static const char *const ext[] = {"", "-wal", "-shm"};

			for (size_t j = 0; j < 3; j++) {
				char p[PATH_MAX + 8];

				(void)snprintf(p, sizeof(p), "%s/%s%s", target,
				               files[i], ext[j]);
				(void)unlink(p);
			}
		}
		if (made_dir)
			(void)rmdir(target);
	}
	sodium_free(master);
	json_decref(dm);
	json_decref(km);
	return err;
}
