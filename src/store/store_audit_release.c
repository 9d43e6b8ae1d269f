/*
 * store_audit_release.c -- the release index of the audit trail (issue 17
 * point 4; GDPR-33; store_audit_release.h): written with each entry it
 * indexes, in blocks of a hundred fixed records, backfilled once for a
 * trail made before it, read by the affected-people search block by block.
 *
 * Names (controller, actor, role, action, a category set) are small
 * integers of audit_name; the writer keeps the ids it has seen in a small
 * table in memory, forgotten at a rollback, and the newest block of each
 * controller it appends to, written back before the commit.
 */
#include "store_audit_release.h"

#include <stdlib.h>
#include <string.h>

/* The tables and their indexes; every index covers the search's columns.
 * The actor (and role) 0 is "none": no name has id 0. */
static const char release_schema_sql[] =
        "CREATE TABLE IF NOT EXISTS audit_meta("
        " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
        " value INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS audit_name("
        " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
        "CREATE TABLE IF NOT EXISTS audit_release("
        " id INTEGER PRIMARY KEY, controller INTEGER NOT NULL,"
        " at_min INTEGER NOT NULL, at_max INTEGER NOT NULL,"
        " entries INTEGER NOT NULL, records BLOB NOT NULL);"
        "CREATE INDEX IF NOT EXISTS audit_release_window"
        " ON audit_release(controller, at_min);"
        "CREATE INDEX IF NOT EXISTS audit_release_last"
        " ON audit_release(controller, id);";

#define VERSION_GET_SQL                                                        \
	"SELECT value FROM audit_meta WHERE name = 'schema_version'"

/* Written after the backfill, in its transaction. */
static const char version_put_sql[] =
        "INSERT INTO audit_meta(name, value) VALUES ('schema_version', ?1)"
        " ON CONFLICT(name) DO UPDATE SET value = excluded.value";

/* The entries a backfill reads: the allowed ones naming a subject. */
static const char backfill_sql[] =
        "SELECT seq, at, controller, actor, role, action, subject,"
        " categories FROM audit WHERE decision = 1 AND subject IS NOT NULL"
        " ORDER BY seq";

int
audit_row_is_release(const struct audit_row *r)
{
	const char *a = r->action;

	if (r->decision != 1 || r->subject == NULL || r->controller == NULL ||
	    r->categories == NULL || a == NULL || r->categories[0] == '\0')
		return 0;
	switch (a[0]) {
	case 'r':
		return strcmp(a, "read") == 0 ||
		       strcmp(a, "request_report") == 0;
	case 'e': return strcmp(a, "export") == 0;
	case 'd': return strncmp(a, "disclose:", 9) == 0 && a[9] != '\0';
	default: return 0;
	}
}

/* ---- names ------------------------------------------------------------- */

#define NAME_SLOTS 4096 /* a power of two; the cache empties when half full */

struct name_slot {
	char *name; /* NULL: free */
	int64_t id;
};

enum wstmt {
	W_NAME_GET,
	W_NAME_PUT,
	W_LAST,      /* a controller's newest block */
	W_NEW,       /* a new block */
	W_PUT,       /* a block's records and their newest instant */
	W_PUT_START, /* a block's oldest instant (an older entry moved late) */
	W_COUNT_,
};

static const char *const wstmt_sql[W_COUNT_] = {
        [W_NAME_GET] = "SELECT id FROM audit_name WHERE name = ?1",
        [W_NAME_PUT] = "INSERT INTO audit_name(name) VALUES (?1)"
                       " RETURNING id",
        [W_LAST] = "SELECT id, at_min, at_max, entries, records"
                   " FROM audit_release WHERE controller = ?1"
                   " ORDER BY id DESC LIMIT 1",
        [W_NEW] = "INSERT INTO audit_release(controller, at_min, at_max,"
                  " entries, records) VALUES (?1, ?2, ?3, ?4, ?5)"
                  " RETURNING id",
        [W_PUT] = "UPDATE audit_release SET at_max = ?2, entries = ?3,"
                  " records = ?4 WHERE id = ?1",
        [W_PUT_START] = "UPDATE audit_release SET at_min = ?2 WHERE id = ?1",
};

#define BLOCK_BYTES (AUDIT_RELEASE_BLOCK * AUDIT_RELEASE_RECORD)
#define BLOCKS      8 /* controllers appended to in one transaction */

/* The newest block of one controller, as the open transaction has it. */
struct block {
	int64_t controller; /* name id; 0: slot free */
	int64_t id;         /* its row; 0: not inserted yet */
	int64_t at_min, at_max;
	int64_t at_min_stored; /* at_min as the row has it */
	size_t n;              /* records */
	int dirty;             /* 1: changed since read or written */
	unsigned char records[BLOCK_BYTES];
};

struct audit_release_writer {
	struct db *db;                      /* the audit store's; not owned */
	struct db_stmt *stmt[W_COUNT_];     /* prepared on first use */
	struct name_slot names[NAME_SLOTS]; /* name -> id, committed or
	                                       of the open transaction */
	size_t nnames;
	struct block blocks[BLOCKS]; /* read in the open transaction */
};

static uint64_t
name_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static void
names_clear(struct audit_release_writer *w)
{
	for (size_t i = 0; i < NAME_SLOTS; i++) {
		free(w->names[i].name);
		w->names[i].name = NULL;
	}
	w->nnames = 0;
}

static enum vaern_err
wfail(struct db *db, struct vaern_msg *msg, const char *what)
{
	return vaern_fail(msg, VAERN_E_STORE, "audit release index: %s: %s",
	                  what, db_errmsg(db));
}

/* The statement in *slot (sql, prepared on first use), reset; NULL with
 * msg set if it cannot be prepared. */
static struct db_stmt *
prepared(struct db *db, struct db_stmt **slot, const char *sql,
         struct vaern_msg *msg)
{
	if (*slot == NULL && db_prepare(db, sql, 1, slot) != DB_OK) {
		(void)wfail(db, msg, "prepare");
		return NULL;
	}
	db_reset(*slot);
	db_clear_bindings(*slot);
	return *slot;
}

static struct db_stmt *
wstmt(struct audit_release_writer *w, enum wstmt id, struct vaern_msg *msg)
{
	return prepared(w->db, &w->stmt[id], wstmt_sql[id], msg);
}

/* The id of name (n bytes), made if new. */
static enum vaern_err
name_id(struct audit_release_writer *w, const char *name, size_t n, int64_t *id,
        struct vaern_msg *msg)
{
	size_t j = name_hash(name, n) & (NAME_SLOTS - 1);
	struct db_stmt *s;
	int rc;

	while (w->names[j].name != NULL) {
		if (strncmp(w->names[j].name, name, n) == 0 &&
		    w->names[j].name[n] == '\0') {
			*id = w->names[j].id;
			return VAERN_OK;
		}
		j = (j + 1) & (NAME_SLOTS - 1);
	}
	if ((s = wstmt(w, W_NAME_GET, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, name, (int)n);
	if ((rc = db_step(s)) == DB_DONE) {
		db_reset(s);
		if ((s = wstmt(w, W_NAME_PUT, msg)) == NULL)
			return VAERN_E_STORE;
		db_bind_text(s, 1, name, (int)n);
		rc = db_step(s);
	}
	if (rc != DB_ROW) {
		enum vaern_err err = wfail(w->db, msg, "name");

		db_reset(s);
		return err;
	}
	*id = db_column_int64(s, 0);
	db_reset(s);
	if (w->nnames * 2 >= NAME_SLOTS) {
		names_clear(w);
		j = name_hash(name, n) & (NAME_SLOTS - 1);
	}
	if ((w->names[j].name = malloc(n + 1)) != NULL) {
		memcpy(w->names[j].name, name, n);
		w->names[j].name[n] = '\0';
		w->names[j].id = *id;
		w->nnames++;
	}
	return VAERN_OK;
}

/* The id of text t, 0 for NULL. */
static enum vaern_err
text_id(struct audit_release_writer *w, const char *t, int64_t *id,
        struct vaern_msg *msg)
{
	*id = 0;
	return t == NULL ? VAERN_OK : name_id(w, t, strlen(t), id, msg);
}

struct audit_release_writer *
audit_release_writer_new(struct db *db)
{
	struct audit_release_writer *w = calloc(1, sizeof(*w));

	if (w != NULL)
		w->db = db;
	return w;
}

void
audit_release_writer_free(struct audit_release_writer *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < W_COUNT_; i++)
		db_finalize(w->stmt[i]);
	names_clear(w);
	free(w);
}

void
audit_release_writer_end(struct audit_release_writer *w, int rolled_back)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < BLOCKS; i++)
		w->blocks[i].controller = 0;
	if (rolled_back)
		names_clear(w);
}

static void
put_u32(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put_i64(unsigned char *p, int64_t v)
{
	uint64_t u = (uint64_t)v;

	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(u >> (8 * i));
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int64_t
get_i64(const unsigned char *p)
{
	uint64_t u = 0;

	for (int i = 7; i >= 0; i--)
		u = u << 8 | p[i];
	return (int64_t)u;
}

/* Writes block b back: its row, made if new. */
static enum vaern_err
block_write(struct audit_release_writer *w, struct block *b,
            struct vaern_msg *msg)
{
	struct db_stmt *s;
	int rc;

	if (!b->dirty)
		return VAERN_OK;
	if ((s = wstmt(w, b->id == 0 ? W_NEW : W_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	if (b->id == 0) {
		db_bind_int64(s, 1, b->controller);
		db_bind_int64(s, 2, b->at_min);
		db_bind_int64(s, 3, b->at_max);
		db_bind_int64(s, 4, (int64_t)b->n);
		db_bind_blob(s, 5, b->records,
		             (int)(b->n * AUDIT_RELEASE_RECORD));
		if ((rc = db_step(s)) == DB_ROW) {
			b->id = db_column_int64(s, 0);
			b->at_min_stored = b->at_min;
		}
	} else {
		db_bind_int64(s, 1, b->id);
		db_bind_int64(s, 2, b->at_max);
		db_bind_int64(s, 3, (int64_t)b->n);
		db_bind_blob(s, 4, b->records,
		             (int)(b->n * AUDIT_RELEASE_RECORD));
		rc = db_step(s);
	}
	db_reset(s);
	db_clear_bindings(s);
	if (rc != DB_ROW && rc != DB_DONE)
		return wfail(w->db, msg, "release block");
	/* The oldest instant is in the window index: written only when an
	 * older entry (moved late from the outbox) lowered it. */
	if (b->at_min != b->at_min_stored) {
		if ((s = wstmt(w, W_PUT_START, msg)) == NULL)
			return VAERN_E_STORE;
		db_bind_int64(s, 1, b->id);
		db_bind_int64(s, 2, b->at_min);
		rc = db_step(s);
		db_reset(s);
		if (rc != DB_DONE)
			return wfail(w->db, msg, "release block");
		b->at_min_stored = b->at_min;
	}
	b->dirty = 0;
	return VAERN_OK;
}

/* The block controller ctl appends to in this transaction: its newest
 * (read once per transaction), or a new one when that is full. */
static enum vaern_err
block_of(struct audit_release_writer *w, int64_t ctl, struct block **out,
         struct vaern_msg *msg)
{
	struct block *b = NULL;
	struct db_stmt *s;
	enum vaern_err err;
	int rc;

	for (size_t i = 0; i < BLOCKS; i++) {
		if (w->blocks[i].controller == ctl) {
			b = &w->blocks[i];
			goto full;
		}
		if (b == NULL && w->blocks[i].controller == 0)
			b = &w->blocks[i];
	}
	if (b == NULL) { /* more controllers than slots: write one out */
		b = &w->blocks[ctl % BLOCKS];
		if ((err = block_write(w, b, msg)) != VAERN_OK)
			return err;
	}
	memset(b, 0, offsetof(struct block, records));
	b->controller = ctl;
	if ((s = wstmt(w, W_LAST, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, ctl);
	if ((rc = db_step(s)) == DB_ROW) {
		int64_t n = db_column_int64(s, 3);
		const void *rec = db_column_blob(s, 4);

		if (n < 0 || n > AUDIT_RELEASE_BLOCK ||
		    db_column_bytes(s, 4) != (int)(n * AUDIT_RELEASE_RECORD) ||
		    (n > 0 && rec == NULL)) {
			db_reset(s);
			b->controller = 0;
			return vaern_fail(msg, VAERN_E_STORE,
			                  "audit release index: block of the "
			                  "wrong size");
		}
		b->id = db_column_int64(s, 0);
		b->at_min = b->at_min_stored = db_column_int64(s, 1);
		b->at_max = db_column_int64(s, 2);
		b->n = (size_t)n;
		if (n > 0)
			memcpy(b->records, rec,
			       (size_t)n * AUDIT_RELEASE_RECORD);
	}
	db_reset(s);
	db_clear_bindings(s);
	if (rc != DB_ROW && rc != DB_DONE) {
		b->controller = 0;
		return wfail(w->db, msg, "release block");
	}
full:
	if (b->n == AUDIT_RELEASE_BLOCK) {
		if ((err = block_write(w, b, msg)) != VAERN_OK)
			return err;
		b->id = 0;
		b->n = 0;
	}
	*out = b;
	return VAERN_OK;
}

enum vaern_err
audit_release_add(struct audit_release_writer *w, const struct audit_row *r,
                  struct vaern_msg *msg)
{
	int64_t ctl, actor, role, action, set;
	struct block *b = NULL;
	unsigned char *rec;
	enum vaern_err err;

	if (!audit_row_is_release(r))
		return VAERN_OK;
	if ((err = text_id(w, r->controller, &ctl, msg)) != VAERN_OK ||
	    (err = text_id(w, r->actor, &actor, msg)) != VAERN_OK ||
	    (err = text_id(w, r->role, &role, msg)) != VAERN_OK ||
	    (err = text_id(w, r->action, &action, msg)) != VAERN_OK ||
	    (err = text_id(w, r->categories, &set, msg)) != VAERN_OK ||
	    (err = block_of(w, ctl, &b, msg)) != VAERN_OK)
		return err;
	if (actor > UINT32_MAX || role > UINT32_MAX || action > UINT32_MAX ||
	    set > UINT32_MAX)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "audit release index: too many names");
	rec = b->records + b->n * AUDIT_RELEASE_RECORD;
	put_i64(rec, r->at);
	put_u32(rec + 8, (uint64_t)actor);
	put_u32(rec + 12, (uint64_t)role);
	put_u32(rec + 16, (uint64_t)action);
	put_u32(rec + 20, (uint64_t)set);
	memcpy(rec + 24, r->subject, AUDIT_SUBJECT_BYTES);
	if (b->n == 0 || r->at < b->at_min)
		b->at_min = r->at;
	if (b->n == 0 || r->at > b->at_max)
		b->at_max = r->at;
	if (b->n == 0 && b->id == 0)
		b->at_min_stored = b->at_min;
	b->n++;
	b->dirty = 1;
	return VAERN_OK;
}

enum vaern_err
audit_release_flush(struct audit_release_writer *w, struct vaern_msg *msg)
{
	enum vaern_err err;

	for (size_t i = 0; i < BLOCKS; i++)
		if (w->blocks[i].controller != 0 &&
		    (err = block_write(w, &w->blocks[i], msg)) != VAERN_OK)
			return err;
	return VAERN_OK;
}

/* ---- the schema and the backfill --------------------------------------- */

/* The trail's schema version (1: none recorded) into *version. */
static int
version_get(struct db *db, int *version)
{
	struct db_stmt *s = NULL;
	int rc;

	*version = 1;
	if ((rc = db_prepare(db, VERSION_GET_SQL, 0, &s)) != DB_OK)
		return rc;
	if ((rc = db_step(s)) == DB_ROW)
		*version = (int)db_column_int64(s, 0);
	db_finalize(s);
	return rc == DB_ROW || rc == DB_DONE ? DB_OK : rc;
}

/* Indexes every release of the trail (a trail made before the index). */
static int
backfill(struct db *db, char **errmsg)
{
	struct audit_release_writer *w = audit_release_writer_new(db);
	struct vaern_msg msg = {{0}};
	struct db_stmt *s = NULL;
	int rc;

	if (w == NULL)
		return DB_ERROR;
	if ((rc = db_prepare(db, backfill_sql, 0, &s)) != DB_OK)
		goto done;
	while ((rc = db_step(s)) == DB_ROW) {
		struct audit_row r;

		memset(&r, 0, sizeof(r));
		r.seq = db_column_int64(s, 0);
		r.at = db_column_int64(s, 1);
		r.controller = (const char *)db_column_text(s, 2);
		r.actor = (const char *)db_column_text(s, 3);
		r.role = (const char *)db_column_text(s, 4);
		r.action = (const char *)db_column_text(s, 5);
		r.categories = (const char *)db_column_text(s, 7);
		r.decision = 1;
		/* A subject of the wrong size (tampering) is no release:
		 * `vaern audit verify` reports it. */
		if (db_column_type(s, 6) != DB_BLOB ||
		    db_column_bytes(s, 6) != AUDIT_SUBJECT_BYTES)
			continue;
		r.subject = db_column_blob(s, 6);
		if (audit_release_add(w, &r, &msg) != VAERN_OK) {
			rc = DB_ERROR;
			*errmsg = strdup(msg.text);
			goto done;
		}
	}
	if (rc == DB_DONE && audit_release_flush(w, &msg) != VAERN_OK) {
		rc = DB_ERROR;
		*errmsg = strdup(msg.text);
		goto done;
	}
	rc = rc == DB_DONE ? DB_OK : rc;
done:
	if (rc != DB_OK && *errmsg == NULL)
		*errmsg = strdup(db_errmsg(db));
	db_finalize(s);
	audit_release_writer_free(w);
	return rc;
}

int
audit_release_schema(struct db *db, char **errmsg)
{
	struct db_stmt *s = NULL;
	int rc, version;

	if ((rc = db_exec(db, release_schema_sql, errmsg)) != DB_OK ||
	    (rc = version_get(db, &version)) != DB_OK)
		return rc;
	if (version >= AUDIT_SCHEMA_VERSION)
		return DB_OK;
	if ((rc = backfill(db, errmsg)) != DB_OK)
		return rc;
	if ((rc = db_prepare(db, version_put_sql, 0, &s)) == DB_OK) {
		db_bind_int(s, 1, AUDIT_SCHEMA_VERSION);
		rc = db_step(s) == DB_DONE ? DB_OK : DB_ERROR;
	}
	db_finalize(s);
	return rc;
}

/* ---- the search's side ------------------------------------------------- */

enum rstmt {
	R_NAME_ID,
	R_NAME_TEXT,
	R_WINDOW,
	R_COUNT_,
};

static const char *const rstmt_sql[R_COUNT_] = {
        [R_NAME_ID] = "SELECT id FROM audit_name WHERE name = ?1",
        [R_NAME_TEXT] = "SELECT name FROM audit_name WHERE id = ?1",
        /* The blocks that may hold an instant of [?2, ?3]: begun by ?3
         * (the index range), ended at ?2 or later (compared here, before
         * the records are read). */
        [R_WINDOW] = ("SELECT at_max, entries, records FROM audit_release"
                      " WHERE controller = ?1 AND at_min <= ?3"),
};

struct audit_release_reader {
	struct db *db;                  /* read-only, its own */
	struct db_stmt *stmt[R_COUNT_]; /* prepared on first use */
	int in_read;                    /* 1: the snapshot is taken */
};

static struct db_stmt *
rstmt(struct audit_release_reader *rd, enum rstmt id, struct vaern_msg *msg)
{
	return prepared(rd->db, &rd->stmt[id], rstmt_sql[id], msg);
}

/* Opens path read-only into *db and reads its schema version (1 when
 * the trail has no audit_meta: made before the release index). */
static enum vaern_err
reader_db(const char *path, struct db **db, int *version, struct vaern_msg *msg)
{
	*version = 1;
	if (db_open_file(path, SQLITE_OPEN_READONLY, 10000, db) != DB_OK)
		return vaern_fail(msg, VAERN_E_STORE,
		                  "cannot read the audit trail: %s",
		                  *db != NULL ? db_errmsg(*db) : "no memory");
	if (version_get(*db, version) != DB_OK)
		*version = 1; /* no such table: the writable open makes it */
	return VAERN_OK;
}

enum vaern_err
audit_release_reader_open(const char *path, struct audit_release_reader **out,
                          struct vaern_msg *msg)
{
	struct audit_release_reader *rd;
	struct audit_store *w = NULL;
	enum vaern_err err;
	int version;

	*out = NULL;
	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	if ((err = reader_db(path, &rd->db, &version, msg)) != VAERN_OK)
		goto done;
	if (version < AUDIT_SCHEMA_VERSION) {
		/* A trail made before the index: a writable open adds it
		 * (the backfill), once. */
		db_close(rd->db);
		rd->db = NULL;
		if ((err = audit_store_open(path, 1, &w, msg)) != VAERN_OK)
			goto done;
		audit_store_close(w);
		if ((err = reader_db(path, &rd->db, &version, msg)) != VAERN_OK)
			goto done;
		if (version < AUDIT_SCHEMA_VERSION) {
			err = vaern_fail(
			        msg, VAERN_E_STORE,
			        "the audit trail has no release index");
			goto done;
		}
	}
done:
	if (err != VAERN_OK) {
		audit_release_reader_close(rd);
		return err;
	}
	*out = rd;
	return VAERN_OK;
}

void
audit_release_reader_close(struct audit_release_reader *rd)
{
	if (rd == NULL)
		return;
	for (size_t i = 0; i < R_COUNT_; i++)
		db_finalize(rd->stmt[i]);
	if (rd->db != NULL && !db_autocommit(rd->db))
		(void)db_exec(rd->db, "ROLLBACK", NULL);
	db_close(rd->db);
	free(rd);
}

/* Takes the read snapshot every later statement of rd reads. */
static enum vaern_err
snapshot(struct audit_release_reader *rd, struct vaern_msg *msg)
{
	if (rd->in_read)
		return VAERN_OK;
	if (db_begin(rd->db, DB_READ, 0) != DB_OK)
		return wfail(rd->db, msg, "read");
	rd->in_read = 1;
	return VAERN_OK;
}

enum vaern_err
audit_release_name_id(struct audit_release_reader *rd, const char *name,
                      int64_t *id, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	*id = 0;
	if ((err = snapshot(rd, msg)) != VAERN_OK)
		return err;
	if ((s = rstmt(rd, R_NAME_ID, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, name, -1);
	if ((rc = db_step(s)) == DB_ROW)
		*id = db_column_int64(s, 0);
	else if (rc == DB_DONE)
		err = VAERN_E_NOTFOUND;
	else
		err = wfail(rd->db, msg, "name");
	db_reset(s);
	db_clear_bindings(s);
	return err;
}

enum vaern_err
audit_release_name_text(struct audit_release_reader *rd, int64_t id, char **out,
                        struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	const unsigned char *t;

	*out = NULL;
	if ((err = snapshot(rd, msg)) != VAERN_OK)
		return err;
	if ((s = rstmt(rd, R_NAME_TEXT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, id);
	if (db_step(s) == DB_ROW && (t = db_column_text(s, 0)) != NULL) {
		size_t n = (size_t)db_column_bytes(s, 0);

		if ((*out = malloc(n + 1)) == NULL) {
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		} else {
			memcpy(*out, t, n);
			(*out)[n] = '\0';
		}
	} else {
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "audit release index: name %lld is missing",
		                 (long long)id);
	}
	db_reset(s);
	return err;
}

enum vaern_err
audit_release_scan(struct audit_release_reader *rd, int64_t controller,
                   int64_t from, int64_t to,
                   enum vaern_err (*fn)(void *arg,
                                        const struct audit_release_hit *h),
                   void *arg, struct vaern_msg *msg)
{
	struct audit_release_hit h;
	enum vaern_err err;
	struct db_stmt *s;
	int rc;

	if ((err = snapshot(rd, msg)) != VAERN_OK)
		return err;
	if ((s = rstmt(rd, R_WINDOW, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_int64(s, 1, controller);
	db_bind_int64(s, 3, to);
	while ((rc = db_step(s)) == DB_ROW) {
		const unsigned char *rec;
		int64_t n;

		if (db_column_int64(s, 0) < from)
			continue; /* ended before the window */
		n = db_column_int64(s, 1);
		rec = db_column_blob(s, 2);
		if (n < 0 || n > AUDIT_RELEASE_BLOCK ||
		    db_column_bytes(s, 2) != (int)(n * AUDIT_RELEASE_RECORD) ||
		    (n > 0 && rec == NULL)) {
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "audit release index: block of the "
			                 "wrong size");
			break;
		}
		for (int64_t i = 0; i < n; i++, rec += AUDIT_RELEASE_RECORD) {
			h.at = get_i64(rec);
			if (h.at < from || h.at > to)
				continue;
			h.actor = get_u32(rec + 8);
			h.role = get_u32(rec + 12);
			h.action = get_u32(rec + 16);
			h.categories = get_u32(rec + 20);
			h.subject = rec + 24;
			if ((err = fn(arg, &h)) != VAERN_OK)
				break;
		}
		if (err != VAERN_OK)
			break;
	}
	if (err == VAERN_OK && rc != DB_DONE)
		err = wfail(rd->db, msg, "search");
	db_reset(s);
	return err;
}
