/*
 * store_sqlite_schema.c -- the SQLite engine's schema and its migrations:
 * the tables a new vault gets, and the steps that bring an older one up to
 * date (moved from store_sqlite.c).
 */
#include "store.h"

#include "store_audit.h"
#include "store_console.h"
#include "store_incident.h"
#include "store_notice.h"
#include "store_portal.h"
#include "store_sqlite_engine_internal.h"
#include "store_webhook.h"

#include "db.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION "7"

static const char schema_sql[] =
        "CREATE TABLE IF NOT EXISTS meta("
        " key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS controller("
        " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
        " policy TEXT NOT NULL, loaded_at INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS label("
        " id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);"
        "CREATE TABLE IF NOT EXISTS subject("
        " id INTEGER PRIMARY KEY, controller INTEGER NOT NULL,"
        " uid BLOB NOT NULL, blinds BLOB NOT NULL,"
        " state INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
        "CREATE UNIQUE INDEX IF NOT EXISTS subject_uid ON subject(uid);"
        /* GDPR-18, issue 10: the few subjects a restriction holds (not
         * what an erasure left), read once per sweep transaction. */
        "CREATE INDEX IF NOT EXISTS subject_restricted ON subject(id)"
        " WHERE (state & 1) != 0 AND (state & 4) = 0;"
        "CREATE TABLE IF NOT EXISTS identifier("
        " controller INTEGER NOT NULL, type INTEGER NOT NULL,"
        " blind BLOB NOT NULL, subject INTEGER NOT NULL,"
        " PRIMARY KEY(controller, type, blind)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS fact("
        " subject INTEGER NOT NULL, id INTEGER NOT NULL,"
        " category INTEGER NOT NULL, purpose INTEGER NOT NULL,"
        " source INTEGER NOT NULL, collected_at INTEGER NOT NULL,"
        " provided INTEGER NOT NULL, expires_at INTEGER, ct BLOB NOT NULL,"
        " rule INTEGER,"
        " PRIMARY KEY(subject, id)) WITHOUT ROWID;"
        /* Retention reads only what is due (DESIGN.md "Data model"), and
         * the plan counts by rule and day from this index alone. NULL
         * expiry (waiting for an event) sorts first. */
        "CREATE INDEX IF NOT EXISTS fact_due ON fact(expires_at, rule);"
        /* Legal holds (CEK-HOLD-1): category NULL holds the whole
         * subject. */
        "CREATE TABLE IF NOT EXISTS hold("
        " id INTEGER PRIMARY KEY, subject INTEGER NOT NULL,"
        " category INTEGER, reason TEXT NOT NULL, review_at INTEGER,"
        " placed_at INTEGER NOT NULL, placed_by TEXT NOT NULL,"
        " lifted_at INTEGER);"
        "CREATE INDEX IF NOT EXISTS hold_subject ON hold(subject);"
        /* What anonymisation keeps (TEL-STAT-1): no subject, no key. */
        "CREATE TABLE IF NOT EXISTS anon("
        " id INTEGER PRIMARY KEY, controller INTEGER NOT NULL,"
        " rule INTEGER NOT NULL, at INTEGER NOT NULL, data TEXT NOT NULL);"
        /* Consent texts, each kept once, by SHA-256 (GDPR-7). */
        "CREATE TABLE IF NOT EXISTS consent_text("
        " hash BLOB PRIMARY KEY, text TEXT NOT NULL) WITHOUT ROWID;"
        /* Per subject and purpose: the consent's last use and when its
         * records go (TEL-MKT-2); NULL while the consent is in force
         * (kept, and keeping its subject), or after a withdrawal no rule
         * holds (they go with the subject). */
        "CREATE TABLE IF NOT EXISTS consent_state("
        " subject INTEGER NOT NULL, purpose INTEGER NOT NULL,"
        " last_used INTEGER, expires_at INTEGER,"
        " PRIMARY KEY(subject, purpose)) WITHOUT ROWID;"
        "CREATE INDEX IF NOT EXISTS consent_due ON consent_state(expires_at)"
        " WHERE expires_at IS NOT NULL;"
        /* Unsubscribe tokens (SHOP-MKT-1): only their hash. */
        "CREATE TABLE IF NOT EXISTS unsubscribe("
        " token_hash BLOB PRIMARY KEY, subject INTEGER NOT NULL,"
        " purpose INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE INDEX IF NOT EXISTS unsubscribe_subject"
        " ON unsubscribe(subject);"
        /* Cookie choices per visitor (AURA-COOKIE-1): the visitor id only
         * as a blind index. Appended; the latest decides. */
        "CREATE TABLE IF NOT EXISTS visitor_choice("
        " controller INTEGER NOT NULL, visitor BLOB NOT NULL,"
        " seq INTEGER NOT NULL, at INTEGER NOT NULL,"
        " statistics INTEGER NOT NULL, marketing INTEGER NOT NULL,"
        " source INTEGER NOT NULL,"
        " PRIMARY KEY(controller, visitor, seq)) WITHOUT ROWID;"
        /* Data collected automatically about a visitor (schema 4;
         * AURA-COOKIE-1, SHOP-MKT-2): the visitor as its blind index,
         * kind 1 a visit (statistics), 2 a pixel (marketing), the
         * payload sealed under the key of its expiry day (ks.day_key,
         * in the keystore).
         * Swept by its expiry and rule (AURA-RET-1), like facts. */
        "CREATE TABLE IF NOT EXISTS visit("
        " id INTEGER PRIMARY KEY, controller INTEGER NOT NULL,"
        " visitor BLOB NOT NULL, kind INTEGER NOT NULL,"
        " at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
        " rule INTEGER NOT NULL, ct BLOB NOT NULL);"
        "CREATE INDEX IF NOT EXISTS visit_visitor"
        " ON visit(controller, visitor, kind);"
        "CREATE INDEX IF NOT EXISTS visit_due ON visit(expires_at, rule);"
        /* The day keys of visits are in the keystore (ks.day_key). */
        "CREATE TABLE IF NOT EXISTS event("
        " subject INTEGER NOT NULL, kind INTEGER NOT NULL, at INTEGER NOT NULL,"
        " PRIMARY KEY(subject, kind, at)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS consent("
        " subject INTEGER NOT NULL, purpose INTEGER NOT NULL,"
        " seq INTEGER NOT NULL, given_at INTEGER NOT NULL,"
        " withdrawn_at INTEGER, source INTEGER NOT NULL, text_hash BLOB,"
        " PRIMARY KEY(subject, purpose, seq)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS agreement("
        " subject INTEGER NOT NULL, recipient INTEGER NOT NULL,"
        " seq INTEGER NOT NULL, at INTEGER NOT NULL, withdrawn INTEGER NOT "
        "NULL,"
        " PRIMARY KEY(subject, recipient, seq)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS actor("
        " id INTEGER PRIMARY KEY, controller INTEGER NOT NULL,"
        " name TEXT NOT NULL, role TEXT NOT NULL, token_id TEXT NOT NULL "
        "UNIQUE,"
        " token_hash BLOB NOT NULL, created_at INTEGER NOT NULL,"
        " revoked_at INTEGER);"
        /* A name is unique among the valid actors; revoked ones stay on
         * record and their names can be given again. */
        "CREATE UNIQUE INDEX IF NOT EXISTS actor_name ON actor(controller, "
        "name)"
        " WHERE revoked_at IS NULL;"
        /* Rights requests (issue 5; GDPR-12): one row each, named by a
         * public UUID, scoped by controller (AURA-RIGHTS-1). The subject
         * is its public uid, so the request outlives an erasure. */
        "CREATE TABLE IF NOT EXISTS request("
        " id INTEGER PRIMARY KEY, controller INTEGER NOT NULL,"
        " rid TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
        " subject BLOB NOT NULL, channel TEXT NOT NULL,"
        " received_at INTEGER NOT NULL, due INTEGER NOT NULL,"
        " extended_months INTEGER NOT NULL DEFAULT 0,"
        " extension_reason TEXT, extended_at INTEGER,"
        " status TEXT NOT NULL, status_reason TEXT,"
        " verified_at INTEGER, verified_by TEXT, verify_method TEXT,"
        " attestation TEXT, created_by TEXT NOT NULL,"
        " updated_at INTEGER NOT NULL);"
        "CREATE INDEX IF NOT EXISTS request_due"
        " ON request(controller, due);"
        /* Every status change, appended (no personal data). */
        "CREATE TABLE IF NOT EXISTS request_transition("
        " request INTEGER NOT NULL, seq INTEGER NOT NULL,"
        " at INTEGER NOT NULL, from_status TEXT, to_status TEXT NOT NULL,"
        " actor TEXT NOT NULL, reason TEXT,"
        " PRIMARY KEY(request, seq)) WITHOUT ROWID;"
        /* One-time codes (AOPT-ACCESS-1): only a keyed hash of each. */
        "CREATE TABLE IF NOT EXISTS request_code("
        " request INTEGER NOT NULL, seq INTEGER NOT NULL,"
        " hash BLOB NOT NULL, contact TEXT NOT NULL,"
        " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
        " attempts INTEGER NOT NULL DEFAULT 0, used_at INTEGER,"
        " PRIMARY KEY(request, seq)) WITHOUT ROWID;"
        /* Card-expiry warnings sent (SHOP-PAY-1, schema 5): one row per
         * card and payment, as a keyed hash of the two; no card data. */
        "CREATE TABLE IF NOT EXISTS card_warning("
        " subject INTEGER NOT NULL, mark BLOB NOT NULL,"
        " sent_at INTEGER NOT NULL,"
        " PRIMARY KEY(subject, mark)) WITHOUT ROWID;"
        /* AURA-RIGHTS-1: the data a request concerns (category ids of
         * the policy, comma-separated); no row: all of it. Created on
         * open, no version step: older directories just have none. */
        "CREATE TABLE IF NOT EXISTS request_scope("
        " request INTEGER PRIMARY KEY, categories TEXT NOT NULL);"
        /* Every policy text ever loaded, per controller (issue 15 point
         * 3): created on open in any schema, filled from the next load. */
        "CREATE TABLE IF NOT EXISTS policy_version("
        " id INTEGER PRIMARY KEY, controller TEXT NOT NULL,"
        " digest TEXT NOT NULL, policy TEXT NOT NULL,"
        " loaded_at INTEGER NOT NULL);"
        "CREATE INDEX IF NOT EXISTS policy_version_controller"
        " ON policy_version(controller, id);"
        /* The audit entries of changes, committed with them, and the
         * trail's head (store_audit.h). */
        AUDIT_VAULT_SCHEMA_SQL "INSERT OR IGNORE INTO meta(key, value) VALUES"
        " ('schema_version', '" SCHEMA_VERSION "');"
        /* Names this vault: its keystore and its backups carry it. */
        "INSERT OR IGNORE INTO meta(key, value) VALUES"
        " ('vault_id', lower(hex(randomblob(16))));";

/*
 * The keystore (keystore.db, attached as "ks"; src/keys/keys.h): every
 * wrapped key, apart from the data so that it is backed up more often and
 * an erasure survives a restore of an older data backup (issue 13).
 *   kek:         one row per master key generation: its check value,
 *                state (current, next, retired) and, during a rotation
 *                only, each of the two keys wrapped under the other;
 *   subject_key: a subject's data key, wrapped (kek: the generation);
 *   day_key:     a controller's visit key of one expiry day, wrapped;
 *   root_key:    named root keys (the blind-index root), wrapped;
 *   traffic_key: the data key of one day of a controller's traffic
 *                store (issue 18), wrapped: deleting the row
 *                crypto-erases the day.
 */
static const char ks_schema_sql[] =
        "CREATE TABLE IF NOT EXISTS ks.meta("
        " key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS ks.kek("
        " gen INTEGER PRIMARY KEY, check_value TEXT NOT NULL,"
        " state TEXT NOT NULL, created_at INTEGER NOT NULL,"
        " retired_at INTEGER, up BLOB, down BLOB);"
        "CREATE TABLE IF NOT EXISTS ks.subject_key("
        " uid BLOB NOT NULL PRIMARY KEY, controller INTEGER NOT NULL,"
        " kek INTEGER NOT NULL, wrapped BLOB NOT NULL);"
        "CREATE TABLE IF NOT EXISTS ks.day_key("
        " controller INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
        " kek INTEGER NOT NULL, wrapped BLOB NOT NULL,"
        " PRIMARY KEY(controller, expires_at));"
        "CREATE TABLE IF NOT EXISTS ks.root_key("
        " name TEXT NOT NULL PRIMARY KEY, kek INTEGER NOT NULL,"
        " wrapped BLOB NOT NULL);"
        "CREATE TABLE IF NOT EXISTS ks.traffic_key("
        " id INTEGER PRIMARY KEY, controller INTEGER NOT NULL,"
        " day INTEGER NOT NULL, kek INTEGER NOT NULL,"
        " wrapped BLOB NOT NULL, UNIQUE(controller, day));";

/* A keystore made now is this vault's. */
static const char ks_stamp_sql[] =
        "INSERT OR IGNORE INTO ks.meta(key, value)"
        " SELECT 'vault_id', value FROM main.meta WHERE key = 'vault_id';";

/* From schema 1 (issue 2/3 data directories) to 2: retention columns. */
static const char migrate_1_sql[] =
        "ALTER TABLE fact ADD COLUMN rule INTEGER;"
        "DROP INDEX IF EXISTS fact_expiry;"
        "UPDATE meta SET value = '2' WHERE key = 'schema_version';";

/* From schema 2 (issue 4 data directories) to 3: the rights-request
 * tables, which schema_sql then creates. */
static const char migrate_2_sql[] =
        "UPDATE meta SET value = '3' WHERE key = 'schema_version';";

/* From schema 3 (issue 5 data directories) to 4: the visit tables, which
 * schema_sql then creates. */
static const char migrate_3_sql[] =
        "UPDATE meta SET value = '4' WHERE key = 'schema_version';";

/*
 * From schema 4 to 5 (issue 13): the wrapped keys move to the keystore,
 * under master key generation 1 (the key they were wrapped under), whose
 * check value moves with them. One step, self-contained: it runs after
 * schema_sql (so the visit tables of schema 4 exist) with ks attached.
 */
static const char migrate_4_sql[] =
        "CREATE TABLE IF NOT EXISTS visit_key("
        " controller INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
        " wrapped BLOB NOT NULL, PRIMARY KEY(controller, expires_at));"
        "INSERT INTO ks.subject_key(uid, controller, kek, wrapped)"
        " SELECT uid, controller, 1, wrapped_key FROM subject;"
        "ALTER TABLE subject DROP COLUMN wrapped_key;"
        "INSERT INTO ks.day_key(controller, expires_at, kek, wrapped)"
        " SELECT controller, expires_at, 1, wrapped FROM visit_key;"
        "DROP TABLE visit_key;"
        "INSERT INTO ks.kek(gen, check_value, state, created_at)"
        " SELECT 1, value, 'current', unixepoch() FROM meta"
        " WHERE key = 'master_key_check';"
        "DELETE FROM meta WHERE key = 'master_key_check';"
        "UPDATE meta SET value = '5' WHERE key = 'schema_version';";

/* Schema 4 to 5 for a database whose keys have moved already. */
static const char migrate_4_done_sql[] =
        "UPDATE meta SET value = '5' WHERE key = 'schema_version';";

/* 1 if table has column (a schema step that may have been taken). */
static int
has_column(struct db *db, const char *table, const char *column)
{
	struct db_stmt *s = NULL;
	int found = 0;

	if (db_prepare(db,
	               "SELECT count(*) FROM pragma_table_info(?1)"
	               " WHERE name = ?2",
	               0, &s) == DB_OK) {
		db_bind_text(s, 1, table, -1);
		db_bind_text(s, 2, column, -1);
		if (db_step(s) == DB_ROW)
			found = db_column_int(s, 0) > 0;
	}
	db_finalize(s);
	return found;
}

/* From schema 5 to 6: the incident tables (issue 17), which
 * store_incident_schema then creates. */
static const char migrate_5_sql[] =
        "UPDATE meta SET value = '6' WHERE key = 'schema_version';";

/* From schema 6 to 7 (issue 11, AURA-LOGIN-1): one identifier index per
 * category, not per identifier type. The blinds of an older directory
 * are keyed by type only; the vault, which holds the keys, rebuilds them
 * at its next open (vlt_identifier_reindex) and sets 'identifier_index'
 * to 'category'. Until then the flag says 'rebuild'. One step,
 * self-contained. */
static const char migrate_6_sql[] =
        "INSERT OR REPLACE INTO meta(key, value)"
        " VALUES ('identifier_index', 'rebuild');"
        "UPDATE meta SET value = '7' WHERE key = 'schema_version';";

/*
 * Creates the schema, or brings an older one up to date, in one
 * transaction: a crash half-way leaves the old schema whole.
 */
int
store_sqlite_schema_setup(struct db *db, int ks_new, char **errmsg)
{
	struct db_stmt *s = NULL;
	int rc, old = 0;

	if ((rc = db_exec(db, "BEGIN IMMEDIATE", errmsg)) != DB_OK)
		return rc;
	if (db_prepare(db,
	               "SELECT value FROM meta"
	               " WHERE key = 'schema_version'",
	               0, &s) == DB_OK &&
	    db_step(s) == DB_ROW) {
		const char *v = (const char *)db_column_text(s, 0);

		if (v != NULL)
			old = (int)strtol(v, NULL, 10);
	}
	db_finalize(s);
	/* A newer binary wrote it: nothing here may touch it. */
	if (old > STORE_SCHEMA_VERSION)
		rc = store_schema_newer(old, errmsg);
	if (rc == DB_OK && old == 1)
		rc = db_exec(db, migrate_1_sql, errmsg);
	if (rc == DB_OK && (old == 1 || old == 2))
		rc = db_exec(db, migrate_2_sql, errmsg);
	if (rc == DB_OK && old >= 1 && old <= 3)
		rc = db_exec(db, migrate_3_sql, errmsg);
	if (rc == DB_OK)
		rc = db_exec(db, schema_sql, errmsg);
	if (rc == DB_OK)
		rc = db_exec(db, ks_schema_sql, errmsg);
	if (rc == DB_OK && old >= 1 && old <= 4)
		rc = db_exec(db,
		             has_column(db, "subject", "wrapped_key")
		                     ? migrate_4_sql
		                     : migrate_4_done_sql,
		             errmsg);
	if (rc == DB_OK && ks_new)
		rc = db_exec(db, ks_stamp_sql, errmsg);
	if (rc == DB_OK)
		rc = store_incident_schema(db, errmsg);
	if (rc == DB_OK)
		rc = store_portal_schema(db, errmsg);
	/* CEK-PURP-5 (issue 15 point 4): created on open in any schema. */
	if (rc == DB_OK)
		rc = store_notice_schema(db, errmsg);
	/* The webhook queue (issue 19): created on open in any schema. */
	if (rc == DB_OK)
		rc = store_webhook_schema(db, errmsg);
	/* Issue 20: a new table only, made on open of any older schema. */
	if (rc == DB_OK)
		rc = store_console_schema(db, errmsg);
	if (rc == DB_OK && old >= 1 && old <= 5)
		rc = db_exec(db, migrate_5_sql, errmsg);
	if (rc == DB_OK && old >= 1 && old <= 6)
		rc = db_exec(db, migrate_6_sql, errmsg);
	if (rc == DB_OK)
		rc = db_exec(db, "COMMIT", errmsg);
	if (rc != DB_OK)
		(void)db_exec(db, "ROLLBACK", NULL);
	return rc;
}

int
store_schema_newer(int version, char **errmsg)
{
	if (errmsg != NULL && (*errmsg = malloc(160)) != NULL)
		(void)snprintf(*errmsg, 160,
		               "the store is at schema version %d, newer than "
		               "this vaern's %d: upgrade vaern",
		               version, STORE_SCHEMA_VERSION);
	return DB_ERROR;
}

/* The schema version of the open main database; 0 if it has none. */
int
store_sqlite_schema_version(struct db *db)
{
	struct db_stmt *s = NULL;
	int v = 0;

	if (db_prepare(db,
	               "SELECT value FROM main.meta"
	               " WHERE key = 'schema_version'",
	               0, &s) == DB_OK &&
	    db_step(s) == DB_ROW) {
		const char *t = (const char *)db_column_text(s, 0);

		if (t != NULL)
			v = (int)strtol(t, NULL, 10);
	}
	db_finalize(s);
	return v;
}
