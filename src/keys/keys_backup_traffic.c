/*
 * keys_backup_traffic.c -- the telecom retained-data store in a data
 * backup and its restore (issue 18 point 5; TEL-LOG-1, GDPR-32).
 *
 * DATA/traffic/<controller>/ holds files, not rows (src/traffic): the
 * reference of cells (cells.csv) and one file per day, appended whole
 * segments at a time under an exclusive flock. A data backup copies each
 * under a shared flock (no batch half-appended) into
 * OUT/traffic/<controller>/ and lists it in its manifest's "traffic"
 * object, "<controller>/<file>": {bytes, blake2b}, as the databases are
 * listed in "files". No key is copied: the day keys are keystore entries,
 * so a restore brings a day back readable only if the keystore it takes
 * still holds that day's key; a day whose key was destroyed (swept after
 * the data backup) is removed again, as a subject erased after the data
 * backup is.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../calendar/calendar.h"
#include "../store/db.h"
#include "../store/store.h"
#include "keys.h"
#include "keys_internal.h"

#define TRAFFIC_TREE      "traffic" /* DATA/traffic, as src/traffic names it */
#define DAY_SUFFIX        ".day"
#define TRAFFIC_CELLS     "cells.csv"
#define TRAFFIC_FILES_MAX 100000 /* files one backup may list */

/* A name of the tree: [A-Za-z0-9._-], not starting with a dot. */
static int
name_ok(const char *s, size_t len)
{
	if (len == 0 || len > 128 || s[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!(s[i] == '.' || s[i] == '_' || s[i] == '-' ||
		      (s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return 1;
}

/* A file of a controller's store that a backup holds: the cells'
 * reference and the days ("YYYY-MM-DD.day"); not a writer's temporary
 * file (cells.csv.new). */
static int
file_kept(const char *name)
{
	size_t l = strlen(name);

	return name_ok(name, l) && (strcmp(name, TRAFFIC_CELLS) == 0 ||
	                            (l == 10 + strlen(DAY_SUFFIX) &&
	                             strcmp(name + 10, DAY_SUFFIX) == 0));
}

/* "controller/file", a controller's name and a file kept. */
static int
entry_ok(const char *e)
{
	const char *slash = strchr(e, '/');

	return slash != NULL && name_ok(e, (size_t)(slash - e)) &&
	       file_kept(slash + 1);
}

/* Makes dir (0700) if it is not there. */
static enum vaern_err
make_dir(const char *dir, struct vaern_msg *msg)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return vaern_fail(msg, VAERN_E_IO, "cannot create %s: %s", dir,
		                  strerror(errno));
	return VAERN_OK;
}

/* Copies one file of the tree (src to the new dst) under a shared lock
 * and lists it in files as entry. */
static enum vaern_err
copy_one(const char *src, const char *dst, const char *entry, json_t *files,
         struct vaern_msg *msg)
{
	char hex[KEYS_HASH_HEX];
	enum vaern_err err;
	struct stat sb;
	int64_t bytes = 0;
	int fd = open(src, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? VAERN_OK /* swept meanwhile */
		                       : vaern_fail(msg, VAERN_E_IO, "%s: %s",
		                                    src, strerror(errno));
	/* An append holds the day exclusively until its batch is whole. */
	(void)flock(fd, LOCK_SH);
	if (fstat(fd, &sb) == 0 && sb.st_size == 0) {
		close(fd); /* a day being made: nothing in it yet */
		return VAERN_OK;
	}
	err = keys_backup_file(src, dst, hex, &bytes, msg);
	close(fd);
	if (err == VAERN_OK &&
	    json_object_set_new(files, entry,
	                        json_pack("{sIss}", "bytes", (json_int_t)bytes,
	                                  "blake2b", hex)) != 0)
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	return err;
}

/* Copies the files of one controller's store. */
static enum vaern_err
backup_controller(const char *from, const char *to, const char *controller,
                  json_t *files, struct vaern_msg *msg)
{
	char src[PATH_MAX], dst[PATH_MAX], entry[PATH_MAX];
	enum vaern_err err = VAERN_OK;
	struct dirent *e;
	DIR *d;

	if ((d = opendir(from)) == NULL)
		return vaern_fail(msg, VAERN_E_IO, "%s: %s", from,
		                  strerror(errno));
	if ((err = make_dir(to, msg)) != VAERN_OK) {
		closedir(d);
		return err;
	}
	while (err == VAERN_OK && (e = readdir(d)) != NULL) {
		int n;

		if (!file_kept(e->d_name))
			continue; /* ".", "..", a writer's temporary file */
		if (json_object_size(files) >= TRAFFIC_FILES_MAX) {
			err = vaern_fail(msg, VAERN_E_LIMIT,
			                 "more than %d traffic files",
			                 TRAFFIC_FILES_MAX);
			break;
		}
		n = snprintf(entry, sizeof(entry), "%s/%s", controller,
		             e->d_name);
		if (n < 0 || (size_t)n >= sizeof(entry) ||
		    (err = keys_path_join(src, from, e->d_name, msg)) ||
		    (err = keys_path_join(dst, to, e->d_name, msg)))
			err = err ? err
			          : vaern_fail(msg, VAERN_E_INVALID,
			                       "a path is too long");
		else
			err = copy_one(src, dst, entry, files, msg);
	}
	closedir(d);
	return err;
}

enum vaern_err
keys_backup_traffic(const char *dir, const char *out, json_t *files,
                    struct vaern_msg *msg)
{
	char from[PATH_MAX], to[PATH_MAX], cfrom[PATH_MAX], cto[PATH_MAX];
	enum vaern_err err = VAERN_OK;
	struct dirent *e;
	DIR *d;

	if ((err = keys_path_join(from, dir, TRAFFIC_TREE, msg)) ||
	    (err = keys_path_join(to, out, TRAFFIC_TREE, msg)))
		return err;
	if ((d = opendir(from)) == NULL)
		return errno == ENOENT ? VAERN_OK /* no store */
		                       : vaern_fail(msg, VAERN_E_IO, "%s: %s",
		                                    from, strerror(errno));
	if ((err = make_dir(to, msg)) != VAERN_OK) {
		closedir(d);
		return err;
	}
	while (err == VAERN_OK && (e = readdir(d)) != NULL) {
		if (!name_ok(e->d_name, strlen(e->d_name)))
			continue;
		if ((err = keys_path_join(cfrom, from, e->d_name, msg)) ||
		    (err = keys_path_join(cto, to, e->d_name, msg)))
			break;
		err = backup_controller(cfrom, cto, e->d_name, files, msg);
	}
	closedir(d);
	if (err == VAERN_OK)
		keys_sync_tree(to);
	return err;
}

enum vaern_err
keys_traffic_check(const char *backup, json_t *files, struct vaern_msg *msg)
{
	char path[PATH_MAX], hex[KEYS_HASH_HEX];
	const char *entry, *want;
	enum vaern_err err;
	json_t *f;
	int64_t bytes;

	if (files == NULL)
		return VAERN_OK; /* a backup from before issue 18 point 5 */
	if (!json_is_object(files))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "%s: the manifest's traffic entry is "
		                  "malformed",
		                  backup);
	json_object_foreach(files, entry, f)
	{
		int n;

		if (!entry_ok(entry) ||
		    (want = json_string_value(json_object_get(f, "blake2b"))) ==
		            NULL)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "%s: traffic entry '%.64s' is "
			                  "malformed",
			                  backup, entry);
		n = snprintf(path, sizeof(path), "%s/%s/%s", backup,
		             TRAFFIC_TREE, entry);
		if (n < 0 || (size_t)n >= sizeof(path))
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "a path is too long");
		if ((err = keys_hash_file(path, hex, &bytes, msg)) != VAERN_OK)
			return err;
		if (bytes != json_integer_value(json_object_get(f, "bytes")) ||
		    strcmp(hex, want) != 0)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "%s: does not match the manifest: "
			                  "truncated or altered",
			                  path);
	}
	return VAERN_OK;
}

enum vaern_err
keys_restore_traffic(const char *backup, const char *target, json_t *files,
                     struct vaern_msg *msg)
{
	char src[PATH_MAX], dst[PATH_MAX], dir[PATH_MAX];
	const char *entry;
	enum vaern_err err = VAERN_OK;
	json_t *f;

	if (files == NULL || json_object_size(files) == 0)
		return VAERN_OK;
	if ((err = keys_path_join(dir, target, TRAFFIC_TREE, msg)) ||
	    (err = make_dir(dir, msg)))
		return err;
	json_object_foreach(files, entry, f)
	{
		const char *slash = strchr(entry, '/');
		int n;

		/* Checked by keys_traffic_check: "controller/file". */
		n = snprintf(dir, sizeof(dir), "%s/%s/%.*s", target,
		             TRAFFIC_TREE, (int)(slash - entry), entry);
		if (n < 0 || (size_t)n >= sizeof(dir) ||
		    (err = make_dir(dir, msg)))
			return err ? err
			           : vaern_fail(msg, VAERN_E_INVALID,
			                        "a path is too long");
		if (snprintf(src, sizeof(src), "%s/%s/%s", backup, TRAFFIC_TREE,
		             entry) >= (int)sizeof(src) ||
		    snprintf(dst, sizeof(dst), "%s/%s/%s", target, TRAFFIC_TREE,
		             entry) >= (int)sizeof(dst))
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "a path is too long");
		if ((err = keys_file_copy(src, dst, msg)) != VAERN_OK)
			return err;
	}
	keys_sync_tree(dir);
	return VAERN_OK;
}

/* 1 if the keystore holds the key of controller's day. */
static int
day_has_key(struct db *db, int64_t controller, long day)
{
	struct db_stmt *s = NULL;
	int found = 0;

	if (db_prepare(db,
	               "SELECT 1 FROM ks.traffic_key"
	               " WHERE controller = ?1 AND day = ?2",
	               0, &s) == DB_OK) {
		db_bind_int64(s, 1, controller);
		db_bind_int64(s, 2, day);
		found = db_step(s) == DB_ROW;
	}
	db_finalize(s);
	return found;
}

/* The store's id of controller, or 0 (not in the data). */
static int64_t
controller_id(struct db *db, const char *name)
{
	struct db_stmt *s = NULL;
	int64_t id = 0;

	if (db_prepare(db, "SELECT id FROM main.controller WHERE name = ?1", 0,
	               &s) == DB_OK) {
		db_bind_text(s, 1, name, -1);
		if (db_step(s) == DB_ROW)
			id = db_column_int64(s, 0);
	}
	db_finalize(s);
	return id;
}

enum vaern_err
keys_traffic_purge(struct store *st, const char *target, json_t *files,
                   int64_t *removed, struct vaern_msg *msg)
{
	struct db *db = store_sqlite_db(st);
	char path[PATH_MAX], ctl[PATH_MAX], date[11];
	const char *entry;
	json_t *f;

	*removed = 0;
	if (files == NULL)
		return VAERN_OK;
	json_object_foreach(files, entry, f)
	{
		const char *slash = strchr(entry, '/'), *file = slash + 1;
		size_t l = strlen(file);
		struct vaern_msg m;
		long day;

		if (l != 10 + strlen(DAY_SUFFIX) ||
		    strcmp(file + 10, DAY_SUFFIX) != 0)
			continue; /* the reference of cells */
		memcpy(date, file, 10);
		date[10] = '\0';
		(void)snprintf(ctl, sizeof(ctl), "%.*s", (int)(slash - entry),
		               entry);
		if (cal_parse_date(date, &day, &m) != VAERN_OK ||
		    day_has_key(db, controller_id(db, ctl), day))
			continue;
		/* Swept (its key destroyed) after the data backup: it stays
		 * gone (TEL-LOG-1). */
		(void)snprintf(path, sizeof(path), "%s/%s/%s", target,
		               TRAFFIC_TREE, entry);
		if (unlink(path) != 0 && errno != ENOENT)
			return vaern_fail(msg, VAERN_E_IO, "%s: %s", path,
			                  strerror(errno));
		(*removed)++;
	}
	return VAERN_OK;
}

void
keys_remove_traffic(const char *target, json_t *files)
{
	char path[PATH_MAX];
	const char *entry;
	json_t *f;

	if (files == NULL)
		return;
	json_object_foreach(files, entry, f)
	{
		const char *slash = strchr(entry, '/');

		if (slash == NULL)
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s/%s", target,
		               TRAFFIC_TREE, entry);
		(void)unlink(path);
		(void)snprintf(path, sizeof(path), "%s/%s/%.*s", target,
		               TRAFFIC_TREE, (int)(slash - entry), entry);
		(void)rmdir(path);
	}
	(void)snprintf(path, sizeof(path), "%s/%s", target, TRAFFIC_TREE);
	(void)rmdir(path);
}
