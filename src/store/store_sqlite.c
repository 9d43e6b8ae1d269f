/*
 * store_sqlite.c -- the embedded storage engine: SQLite in WAL mode.
 *
 * Rows are the cost (DESIGN.md): a subject is one subject row, one uid
 * index entry, one identifier row per identifier and one fact row per
 * fact. Facts and events are keyed by (subject rowid, ...) in WITHOUT ROWID
 * tables, so a subject's rows are stored together and inserted in key
 * order. The short texts repeated on every fact (category, purpose,
 * source) are interned as small integers in the label table.
 *
 * secure_delete is on, so pages freed by an erasure are overwritten with
 * zeros rather than left for a forensic reader (GDPR-17, GDPR-32).
 */
#include "store.h"

#include "sqlite_util.h"
#include "store_audit.h"

#include <assert.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCHEMA_VERSION "5"
#define LABEL_MAX      128 /* bytes in one interned label */
#define LABEL_CACHE    256 /* labels kept in memory (open addressing) */

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
 *   root_key:    named root keys (the blind-index root), wrapped.
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
        " wrapped BLOB NOT NULL);";

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
has_column(sqlite3 *db, const char *table, const char *column)
{
	sqlite3_stmt *s = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(db,
	                       "SELECT count(*) FROM pragma_table_info(?1)"
	                       " WHERE name = ?2",
	                       -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, column, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			found = sqlite3_column_int(s, 0) > 0;
	}
	sqlite3_finalize(s);
	return found;
}

/* The prepared statements, one per operation, kept for the store's life. */
enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_READ_BEGIN,
	S_LABEL_GET,
	S_LABEL_PUT,
	S_LABEL_TEXT,
	S_CTRL_PUT,
	S_CTRL_GET,
	S_CTRL_LIST,
	S_POLICY_GEN_BUMP,
	S_PVER_BACKFILL,
	S_PVER_PUT,
	S_PVER_LIST,
	S_PVER_GET,
	S_PVER_AT,
	S_POLICY_GEN,
	S_SUBJ_INSERT,
	S_SKEY_INSERT,
	S_SKEY_DELETE,
	S_SUBJ_BY_UID,
	S_SUBJ_BY_ROWID,
	S_SUBJ_SET_BLINDS,
	S_SUBJ_DELETE,
	S_SUBJ_DELETE_FACTS,
	S_SUBJ_DELETE_EVENTS,
	S_SUBJ_DELETE_CONSENTS,
	S_SUBJ_COUNT,
	S_ID_INSERT,
	S_ID_FIND,
	S_ID_DELETE,
	S_ID_FIND_UID,
	S_FACT_INSERT,
	S_FACT_MAX,
	S_FACT_UPDATE,
	S_FACT_LIST,
	S_FACT_GET,
	S_EVENT_INSERT,
	S_EVENT_LIST,
	S_CONSENT_INSERT,
	S_CONSENT_LATEST,
	S_META_GET,
	S_META_PUT,
	S_SAVEPOINT,
	S_RELEASE,
	S_SUBJ_SET_STATE,
	S_SUBJ_DELETE_AGREEMENTS,
	S_AGREEMENT_INSERT,
	S_AGREEMENT_LATEST,
	S_ACTOR_INSERT,
	S_ACTOR_BY_TOKEN,
	S_ACTOR_REVOKE,
	S_ACTOR_LIST,
	S_FACT_SET_EXPIRY,
	S_FACT_DELETE,
	S_FACT_DUE_FIRST,
	S_FACT_DUE_NEXT,
	S_FACT_DUE_NEXT_NULL,
	S_FACT_DUE_COUNT,
	S_FACT_KEYS,
	S_FACT_DELETE_DUE,
	S_FACT_PLAN,
	S_FACT_PLAN_RESTRICTED,
	S_SUBJECT_RESTRICTED,
	S_FACT_ANY,
	S_CONSENT_KEPT,
	S_CONSENT_IN_FORCE,
	S_HOLD_INSERT,
	S_HOLD_LIFT,
	S_HOLD_LIST,
	S_HOLD_ACTIVE,
	S_ANON_INSERT,
	S_ANON_COUNT,
	S_CTEXT_PUT,
	S_CTEXT_GET,
	S_CONSENT_LIST,
	S_CSTATE_GET,
	S_CSTATE_PUT,
	S_CONSENT_DUE,
	S_CONSENT_DELETE,
	S_CSTATE_DELETE,
	S_UNSUB_DELETE,
	S_UNSUB_PUT,
	S_UNSUB_FIND,
	S_CHOICE_INSERT,
	S_CHOICE_LATEST,
	S_VISIT_INSERT,
	S_VISIT_LIST,
	S_VISIT_DELETE_KIND,
	S_VISIT_TAKE_DUE,
	S_VISIT_DUE_COUNT,
	S_VISIT_PLAN,
	S_VKEY_GET,
	S_VKEY_PUT,
	S_VKEY_DROP_DUE,
	S_SUBJ_DELETE_HOLDS,
	S_SUBJ_DELETE_CSTATE,
	S_SUBJ_DELETE_UNSUB,
	S_REQ_INSERT,
	S_REQ_GET,
	S_REQ_UPDATE,
	S_REQ_LIST,
	S_TRANS_INSERT,
	S_TRANS_LIST,
	S_CODE_INSERT,
	S_CODE_LATEST,
	S_CODE_COUNT,
	S_CODE_UPDATE,
	S_REQ_SCOPE_PUT,
	S_REQ_SCOPE_GET,
	S_AUDIT_OUTBOX,
	S_AUDIT_HEAD_PENDING,
	S_COUNT_
};

static const char *const stmt_sql[S_COUNT_] = {
        [S_BEGIN] = "BEGIN IMMEDIATE",
        [S_COMMIT] = "COMMIT",
        [S_ROLLBACK] = "ROLLBACK",
        [S_READ_BEGIN] = "BEGIN DEFERRED",
        [S_LABEL_GET] = "SELECT id FROM label WHERE text = ?1",
        [S_LABEL_PUT] = "INSERT OR IGNORE INTO label(text) VALUES (?1)",
        [S_LABEL_TEXT] = "SELECT text FROM label WHERE id = ?1",
        [S_CTRL_PUT] = "INSERT INTO controller(name, policy, loaded_at)"
                       " VALUES (?1, ?2, ?3) ON CONFLICT(name) DO UPDATE SET"
                       " policy = excluded.policy,"
                       " loaded_at = excluded.loaded_at RETURNING id",
        [S_CTRL_GET] = "SELECT id, policy FROM controller WHERE name = ?1",
        [S_CTRL_LIST] = "SELECT name, loaded_at FROM controller ORDER BY name",
        /* Policy versions (issue 15): the text in force before the first
         * load that kept versions, then each load unless it repeats the
         * latest. */
        [S_PVER_BACKFILL] = "INSERT INTO policy_version(controller, digest,"
                            " policy, loaded_at) SELECT name, ?2, policy,"
                            " loaded_at FROM controller WHERE name = ?1"
                            " AND NOT EXISTS (SELECT 1 FROM policy_version"
                            " WHERE controller = ?1)",
        [S_PVER_PUT] = "INSERT INTO policy_version(controller, digest,"
                       " policy, loaded_at) SELECT ?1, ?2, ?3, ?4"
                       " WHERE NOT EXISTS (SELECT 1 FROM policy_version"
                       " WHERE controller = ?1 AND digest = ?2 AND id ="
                       " (SELECT max(id) FROM policy_version"
                       " WHERE controller = ?1))",
        [S_PVER_LIST] = "SELECT digest, loaded_at, policy FROM policy_version"
                        " WHERE controller = ?1 ORDER BY id",
        [S_PVER_GET] = "SELECT digest, policy FROM policy_version"
                       " WHERE controller = ?1"
                       " AND substr(digest, 1, length(?2)) = ?2"
                       " ORDER BY id DESC",
        [S_PVER_AT] = "SELECT digest, policy FROM policy_version"
                      " WHERE controller = ?1 AND loaded_at <= ?2"
                      " ORDER BY id DESC LIMIT 1",
        /* Counts policy loads: a running server polls it (issue 12). */
        [S_POLICY_GEN_BUMP] = "INSERT INTO meta(key, value)"
                              " VALUES ('policy_generation', '1')"
                              " ON CONFLICT(key) DO UPDATE SET value ="
                              " CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
        [S_POLICY_GEN] = "SELECT CAST(value AS INTEGER) FROM meta"
                         " WHERE key = 'policy_generation'",
        [S_SUBJ_INSERT] = "INSERT INTO subject(controller, uid,"
                          " blinds, state, created_at)"
                          " VALUES (?1, ?2, ?4, ?5, ?6)",
        [S_SKEY_INSERT] = "INSERT INTO ks.subject_key(uid, controller, kek,"
                          " wrapped) VALUES (?1, ?2, ?3, ?4)",
        [S_SKEY_DELETE] = "DELETE FROM ks.subject_key WHERE uid ="
                          " (SELECT uid FROM subject WHERE id = ?1)",
        /* A subject without a key (erased after a data backup that was
         * restored with a newer keystore) is not found (issue 13). */
        [S_SUBJ_BY_UID] = "SELECT s.id, s.controller, s.uid, k.wrapped,"
                          " s.blinds, s.state, s.created_at, k.kek"
                          " FROM subject AS s JOIN ks.subject_key AS k"
                          " ON k.uid = s.uid WHERE s.uid = ?1",
        [S_SUBJ_BY_ROWID] = "SELECT s.id, s.controller, s.uid, k.wrapped,"
                            " s.blinds, s.state, s.created_at, k.kek"
                            " FROM subject AS s JOIN ks.subject_key AS k"
                            " ON k.uid = s.uid WHERE s.id = ?1",
        [S_SUBJ_SET_BLINDS] = "UPDATE subject SET blinds = ?2 WHERE id = ?1",
        [S_SUBJ_DELETE] = "DELETE FROM subject WHERE id = ?1",
        [S_SUBJ_DELETE_FACTS] = "DELETE FROM fact WHERE subject = ?1",
        [S_SUBJ_DELETE_EVENTS] = "DELETE FROM event WHERE subject = ?1",
        [S_SUBJ_DELETE_CONSENTS] = "DELETE FROM consent WHERE subject = ?1",
        [S_SUBJ_COUNT] = "SELECT count(*) FROM subject WHERE controller = ?1",
        [S_ID_INSERT] = "INSERT INTO identifier(controller, type, blind,"
                        " subject) VALUES (?1, ?2, ?3, ?4)",
        [S_ID_FIND] = "SELECT subject FROM identifier"
                      " WHERE controller = ?1 AND type = ?2 AND blind = ?3",
        [S_ID_FIND_UID] = "SELECT s.uid FROM identifier AS i"
                          " JOIN subject AS s ON s.id = i.subject"
                          " JOIN ks.subject_key AS k ON k.uid = s.uid"
                          " WHERE i.controller = ?1 AND i.type = ?2"
                          " AND i.blind = ?3",
        [S_ID_DELETE] = "DELETE FROM identifier"
                        " WHERE controller = ?1 AND type = ?2 AND blind = ?3",
        [S_FACT_INSERT] = "INSERT INTO fact(subject, id, category, purpose,"
                          " source, collected_at, provided, expires_at, ct,"
                          " rule)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        [S_FACT_MAX] = "SELECT max(id) FROM fact WHERE subject = ?1",
        [S_FACT_UPDATE] = "UPDATE fact SET ct = ?3, collected_at = ?4,"
                          " source = ?5 WHERE subject = ?1 AND id = ?2",
        [S_FACT_LIST] = "SELECT subject, id, category, purpose, source,"
                        " collected_at, provided, expires_at, ct"
                        " FROM fact WHERE subject = ?1 ORDER BY id",
        [S_FACT_GET] = "SELECT subject, id, category, purpose, source,"
                       " collected_at, provided, expires_at, ct"
                       " FROM fact WHERE subject = ?1 AND id = ?2",
        [S_EVENT_INSERT] = "INSERT OR IGNORE INTO event(subject, kind, at)"
                           " VALUES (?1, ?2, ?3)",
        [S_EVENT_LIST] = "SELECT subject, kind, at FROM event"
                         " WHERE subject = ?1 ORDER BY at, kind",
        [S_CONSENT_INSERT] =
                "INSERT INTO consent(subject, purpose, seq, given_at,"
                " withdrawn_at, source, text_hash) VALUES (?1, ?2,"
                " (SELECT coalesce(max(seq), 0) + 1 FROM consent"
                "  WHERE subject = ?1 AND purpose = ?2), ?3, ?4, ?5, ?6)",
        [S_SAVEPOINT] = "SAVEPOINT one",
        [S_RELEASE] = "RELEASE one",
        [S_SUBJ_SET_STATE] = "UPDATE subject SET state = ?2 WHERE id = ?1",
        [S_SUBJ_DELETE_AGREEMENTS] = "DELETE FROM agreement WHERE subject = ?1",
        [S_AGREEMENT_INSERT] =
                "INSERT INTO agreement(subject, recipient, seq, at, withdrawn)"
                " VALUES (?1, ?2, (SELECT coalesce(max(seq), 0) + 1 FROM"
                " agreement WHERE subject = ?1 AND recipient = ?2), ?3, ?4)",
        [S_AGREEMENT_LATEST] = "SELECT withdrawn FROM agreement"
                               " WHERE subject = ?1 AND recipient = ?2"
                               " ORDER BY seq DESC LIMIT 1",
        [S_ACTOR_INSERT] = "INSERT INTO actor(controller, name, role, token_id,"
                           " token_hash, created_at) VALUES (?1, ?2, ?3, ?4,"
                           " ?5, ?6)",
        [S_ACTOR_BY_TOKEN] = "SELECT id, controller, name, role, token_id,"
                             " token_hash, created_at, revoked_at FROM actor"
                             " WHERE token_id = ?1",
        [S_ACTOR_REVOKE] = "UPDATE actor SET revoked_at = ?3 WHERE"
                           " controller = ?1 AND name = ?2 AND revoked_at IS"
                           " NULL",
        [S_ACTOR_LIST] = "SELECT id, controller, name, role, token_id,"
                         " token_hash, created_at, revoked_at FROM actor"
                         " WHERE controller = ?1 ORDER BY name",
        [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
        [S_AUDIT_HEAD_PENDING] = AUDIT_HEAD_PENDING_SQL,
        [S_AUDIT_OUTBOX] = "INSERT INTO audit_outbox(at, controller, actor,"
                           " role, purpose, action, subject, categories,"
                           " decision, rule, reason, policy) VALUES (?1, ?2,"
                           " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        [S_META_PUT] = "INSERT INTO meta(key, value) VALUES (?1, ?2)"
                       " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [S_FACT_SET_EXPIRY] = "UPDATE fact SET expires_at = ?3, rule = ?4"
                              " WHERE subject = ?1 AND id = ?2",
        [S_FACT_DELETE] = "DELETE FROM fact WHERE subject = ?1 AND id = ?2",
        /*
         * In the order of the fact_due index (expires_at, rule, then the
         * key), so a page is a range of the index, read from the index
         * alone: no sort, no table row, and each due fact is read once
         * per sweep however many pages there are. A
         * NULL rule (facts of schema 1) sorts first within its day;
         * the row value with a NULL in it is never true, hence the
         * statement for a page that ends on one.
         */
        [S_FACT_DUE_FIRST] = "SELECT expires_at, subject, id,"
                             " coalesce(rule, 0) FROM fact"
                             " WHERE expires_at <= ?1"
                             " ORDER BY expires_at, rule, subject, id"
                             " LIMIT ?2",
        [S_FACT_DUE_NEXT] = "SELECT expires_at, subject, id,"
                            " coalesce(rule, 0) FROM fact"
                            " WHERE expires_at <= ?1"
                            " AND (expires_at, rule, subject, id) >"
                            " (?3, ?6, ?4, ?5)"
                            " ORDER BY expires_at, rule, subject, id"
                            " LIMIT ?2",
        [S_FACT_DUE_NEXT_NULL] =
                "SELECT expires_at, subject, id, coalesce(rule, 0)"
                " FROM fact WHERE expires_at <= ?1 AND (expires_at > ?3"
                " OR (expires_at = ?3 AND (rule IS NOT NULL"
                " OR (subject, id) > (?4, ?5))))"
                " ORDER BY expires_at, rule, subject, id LIMIT ?2",
        [S_FACT_KEYS] = "SELECT id, category, coalesce(rule, 0), expires_at"
                        " FROM fact WHERE subject = ?1 ORDER BY id",
        [S_FACT_DELETE_DUE] = "DELETE FROM fact WHERE subject = ?1"
                              " AND expires_at <= ?2",
        [S_FACT_DUE_COUNT] = "SELECT count(*) FROM fact"
                             " WHERE expires_at <= ?1",
        /* GDPR-18: facts a restriction holds (not what an erasure
         * left: the law keeps that until its date). */
        [S_FACT_PLAN_RESTRICTED] =
                "SELECT coalesce(rule, 0), count(*) FROM fact"
                " WHERE subject IN (SELECT id FROM subject"
                " WHERE (state & 1) != 0 AND (state & 4) = 0)"
                " GROUP BY rule",
        [S_SUBJECT_RESTRICTED] = "SELECT id FROM subject"
                                 " WHERE (state & 1) != 0 AND (state & 4) = 0"
                                 " ORDER BY id",
        [S_FACT_PLAN] = "SELECT coalesce(rule, 0), expires_at, count(*)"
                        " FROM fact GROUP BY expires_at, rule",
        [S_FACT_ANY] = "SELECT 1 FROM fact WHERE subject = ?1 LIMIT 1",
        [S_CONSENT_KEPT] = "SELECT 1 FROM consent_state WHERE subject = ?1"
                           " AND expires_at > ?2 LIMIT 1",
        /* A purpose whose latest record is a give: a consent in force
         * (TEL-MKT-2: kept "while valid"). One seek per purpose of the
         * subject in the consent key. */
        [S_CONSENT_IN_FORCE] = "SELECT 1 FROM consent AS c"
                               " WHERE c.subject = ?1"
                               " AND c.withdrawn_at IS NULL"
                               " AND c.seq = (SELECT max(seq) FROM consent"
                               "  WHERE subject = ?1 AND purpose = c.purpose)"
                               " LIMIT 1",
        [S_HOLD_INSERT] = "INSERT INTO hold(subject, category, reason,"
                          " review_at, placed_at, placed_by)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        [S_HOLD_LIFT] = "UPDATE hold SET lifted_at = ?3 WHERE subject = ?1"
                        " AND id = ?2 AND lifted_at IS NULL",
        [S_HOLD_LIST] = "SELECT id, subject, category, reason, review_at,"
                        " placed_at, placed_by, lifted_at FROM hold"
                        " WHERE subject = ?1 ORDER BY id",
        [S_HOLD_ACTIVE] = "SELECT id, subject, category, reason, review_at,"
                          " placed_at, placed_by, lifted_at FROM hold"
                          " WHERE lifted_at IS NULL ORDER BY subject, id",
        [S_ANON_INSERT] = "INSERT INTO anon(controller, rule, at, data)"
                          " VALUES (?1, ?2, ?3, ?4)",
        [S_ANON_COUNT] = "SELECT count(*) FROM anon WHERE controller = ?1",
        [S_CTEXT_PUT] = "INSERT OR IGNORE INTO consent_text(hash, text)"
                        " VALUES (?1, ?2)",
        [S_CTEXT_GET] = "SELECT text FROM consent_text WHERE hash = ?1",
        [S_CONSENT_LIST] = "SELECT purpose, seq, given_at, withdrawn_at,"
                           " source, text_hash FROM consent"
                           " WHERE subject = ?1 ORDER BY given_at, purpose,"
                           " seq",
        [S_CSTATE_GET] = "SELECT last_used, expires_at FROM consent_state"
                         " WHERE subject = ?1 AND purpose = ?2",
        [S_CSTATE_PUT] = "INSERT INTO consent_state(subject, purpose,"
                         " last_used, expires_at) VALUES (?1, ?2, ?3, ?4)"
                         " ON CONFLICT(subject, purpose) DO UPDATE SET"
                         " last_used = excluded.last_used,"
                         " expires_at = excluded.expires_at",
        /* GDPR-18: a restricted subject's ledger is kept too (what an
         * erasure left is not held by it). */
        [S_CONSENT_DUE] = "SELECT c.subject, c.purpose FROM consent_state c"
                          " JOIN subject s ON s.id = c.subject"
                          " WHERE c.expires_at <= ?1"
                          " AND ((s.state & 1) = 0 OR (s.state & 4) != 0)"
                          " LIMIT ?2",
        [S_CONSENT_DELETE] = "DELETE FROM consent"
                             " WHERE subject = ?1 AND purpose = ?2",
        [S_CSTATE_DELETE] = "DELETE FROM consent_state"
                            " WHERE subject = ?1 AND purpose = ?2",
        [S_UNSUB_DELETE] = "DELETE FROM unsubscribe"
                           " WHERE subject = ?1 AND purpose = ?2",
        [S_UNSUB_PUT] = "INSERT INTO unsubscribe(token_hash, subject, purpose)"
                        " VALUES (?1, ?2, ?3)",
        [S_UNSUB_FIND] = "SELECT subject, purpose FROM unsubscribe"
                         " WHERE token_hash = ?1",
        [S_CHOICE_INSERT] =
                "INSERT INTO visitor_choice(controller, visitor, seq, at,"
                " statistics, marketing, source) VALUES (?1, ?2,"
                " (SELECT coalesce(max(seq), 0) + 1 FROM visitor_choice"
                "  WHERE controller = ?1 AND visitor = ?2), ?3, ?4, ?5, ?6)",
        [S_CHOICE_LATEST] = "SELECT at, statistics, marketing, source"
                            " FROM visitor_choice WHERE controller = ?1"
                            " AND visitor = ?2 ORDER BY seq DESC LIMIT 1",
        [S_VISIT_INSERT] = "INSERT INTO visit(controller, visitor, kind, at,"
                           " expires_at, rule, ct)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        [S_VISIT_LIST] = "SELECT id, kind, at, expires_at, rule, ct"
                         " FROM visit WHERE controller = ?1"
                         " AND visitor = ?2 ORDER BY at, id",
        [S_VISIT_DELETE_KIND] = "DELETE FROM visit WHERE controller = ?1"
                                " AND visitor = ?2 AND kind = ?3",
        /* A page of the due order, deleted in one statement; RETURNING
         * gives each row's rule for the sweep's counts. */
        [S_VISIT_TAKE_DUE] = "DELETE FROM visit WHERE id IN"
                             " (SELECT id FROM visit WHERE expires_at <= ?1"
                             "  ORDER BY expires_at, rule LIMIT ?2)"
                             " RETURNING rule",
        [S_VISIT_DUE_COUNT] = "SELECT rule, count(*) FROM visit"
                              " WHERE expires_at <= ?1 GROUP BY rule",
        [S_VISIT_PLAN] = "SELECT rule, expires_at, count(*) FROM visit"
                         " GROUP BY expires_at, rule",
        [S_VKEY_GET] = "SELECT wrapped, kek FROM ks.day_key"
                       " WHERE controller = ?1 AND expires_at = ?2",
        [S_VKEY_PUT] = "INSERT INTO ks.day_key(controller, expires_at, kek,"
                       " wrapped) VALUES (?1, ?2, ?4, ?3)",
        /* A day's key goes when no visit of that day is left. */
        [S_VKEY_DROP_DUE] = "DELETE FROM ks.day_key WHERE expires_at <= ?1"
                            " AND NOT EXISTS (SELECT 1 FROM main.visit AS v"
                            "  WHERE v.expires_at = day_key.expires_at"
                            "  AND v.controller = day_key.controller)",
        [S_SUBJ_DELETE_HOLDS] = "DELETE FROM hold WHERE subject = ?1",
        [S_SUBJ_DELETE_CSTATE] = "DELETE FROM consent_state"
                                 " WHERE subject = ?1",
        [S_SUBJ_DELETE_UNSUB] = "DELETE FROM unsubscribe WHERE subject = ?1",
        [S_CONSENT_LATEST] = "SELECT withdrawn_at FROM consent"
                             " WHERE subject = ?1 AND purpose = ?2"
                             " ORDER BY seq DESC LIMIT 1",
#define REQ_COLUMNS                                                            \
	"id, controller, rid, type, subject, channel, received_at, due,"       \
	" extended_months, extension_reason, extended_at, status,"             \
	" status_reason, verified_at, verified_by, verify_method,"             \
	" attestation, created_by, updated_at"
        [S_REQ_INSERT] = "INSERT INTO request(controller, rid, type, subject,"
                         " channel, received_at, due, status, created_by,"
                         " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
                         " ?8, ?9, ?10)",
        [S_REQ_GET] = "SELECT " REQ_COLUMNS " FROM request"
                      " WHERE controller = ?1 AND rid = ?2",
        [S_REQ_UPDATE] = "UPDATE request SET due = ?2, extended_months = ?3,"
                         " extension_reason = ?4, extended_at = ?5,"
                         " status = ?6, status_reason = ?7,"
                         " verified_at = ?8, verified_by = ?9,"
                         " verify_method = ?10, attestation = ?11,"
                         " updated_at = ?12 WHERE id = ?1",
        [S_REQ_LIST] = "SELECT " REQ_COLUMNS " FROM request"
                       " WHERE controller = ?1 AND due <= ?2"
                       " AND (?3 = 0 OR status NOT IN"
                       " ('completed', 'refused', 'cancelled'))"
                       " ORDER BY due, received_at, id",
#undef REQ_COLUMNS
        [S_TRANS_INSERT] =
                "INSERT INTO request_transition(request, seq, at,"
                " from_status, to_status, actor, reason) VALUES (?1,"
                " (SELECT coalesce(max(seq), 0) + 1 FROM request_transition"
                "  WHERE request = ?1), ?2, ?3, ?4, ?5, ?6)",
        [S_TRANS_LIST] = "SELECT seq, at, from_status, to_status, actor,"
                         " reason FROM request_transition"
                         " WHERE request = ?1 ORDER BY seq",
        [S_CODE_INSERT] =
                "INSERT INTO request_code(request, seq, hash, contact,"
                " created_at, expires_at) VALUES (?1,"
                " (SELECT coalesce(max(seq), 0) + 1 FROM request_code"
                "  WHERE request = ?1), ?2, ?3, ?4, ?5) RETURNING seq",
        [S_CODE_LATEST] = "SELECT seq, hash, contact, created_at, expires_at,"
                          " attempts, used_at FROM request_code"
                          " WHERE request = ?1 ORDER BY seq DESC LIMIT 1",
        [S_REQ_SCOPE_PUT] = "INSERT INTO request_scope(request, categories)"
                            " VALUES (?1, ?2)",
        [S_REQ_SCOPE_GET] = "SELECT categories FROM request_scope"
                            " WHERE request = ?1",
        [S_CODE_COUNT] = "SELECT count(*) FROM request_code"
                         " WHERE request = ?1",
        [S_CODE_UPDATE] = "UPDATE request_code SET attempts = ?3,"
                          " used_at = ?4 WHERE request = ?1 AND seq = ?2",
};

/* One interned label, cached. */
struct label {
	char *text; /* owned; NULL for an empty slot */
	int64_t id; /* label.id */
};

struct store {
	struct sqlu_conn conn;            /* the connection */
	sqlite3_stmt *stmt[S_COUNT_];     /* conn's statements, prepared
	                                     lazily, finalised on close */
	int in_tx;                        /* 1 between begin and commit */
	int in_read;                      /* 1 in a read transaction */
	struct label labels[LABEL_CACHE]; /* open-addressed by text hash */
	size_t nlabels;                   /* slots in use */
	const char *by_id[LABEL_CACHE];   /* text of cached label id i, for
	                                     ids below LABEL_CACHE: reading a
	                                     fact names 3 labels */
	char label_text[LABEL_MAX + 1];   /* store_fact text of a label id */
};

static void
bind_time(sqlite3_stmt *s, int col, int64_t t)
{
	if (t == STORE_NO_TIME)
		sqlite3_bind_null(s, col);
	else
		sqlite3_bind_int64(s, col, t);
}

static int64_t
column_time(sqlite3_stmt *s, int col)
{
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return STORE_NO_TIME;
	return sqlite3_column_int64(s, col);
}

static uint32_t
label_hash(const char *text)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *text != '\0'; text++)
		h = (h ^ (unsigned char)*text) * 16777619u;
	return h;
}

/*
 * Empties the label cache. A rollback calls it: a label read back inside
 * the transaction may have been made in it, and is gone now.
 */
static void
label_cache_clear(struct store *st)
{
	for (size_t i = 0; i < LABEL_CACHE; i++) {
		free(st->labels[i].text);
		st->labels[i].text = NULL;
		st->by_id[i] = NULL;
	}
	st->nlabels = 0;
}

/* Caches label text -> id. */
static void
label_cache(struct store *st, const char *text, int64_t id)
{
	size_t slot = label_hash(text) % LABEL_CACHE;

	if (st->nlabels >= LABEL_CACHE / 2)
		return;
	for (size_t n = 0; n < LABEL_CACHE; n++) {
		struct label *l = &st->labels[(slot + n) % LABEL_CACHE];

		if (l->text != NULL && strcmp(l->text, text) == 0)
			return;
		if (l->text == NULL) {
			if ((l->text = strdup(text)) != NULL) {
				l->id = id;
				st->nlabels++;
				if (id >= 0 && id < LABEL_CACHE)
					st->by_id[id] = l->text;
			}
			return;
		}
	}
}

/* Reads the id of label text: 1 found, 0 not found, -1 error. */
static int
label_select(struct store *st, const char *text, size_t len, int64_t *id,
             struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_LABEL_GET, msg)) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, text, (int)len, SQLITE_STATIC);
	if ((err = sqlu_step_row(&st->conn, s, "label", NULL, msg)) == VAERN_OK)
		*id = sqlite3_column_int64(s, 0);
	sqlu_reset(s);
	return err == VAERN_OK ? 1 : err == VAERN_E_NOTFOUND ? 0 : -1;
}

/*
 * Returns in *id the label id of text; with create, makes the label if it
 * is missing, else VAERN_E_NOTFOUND (a read never writes). Labels are
 * policy words (category, purpose, source, event kind), never personal
 * data. INSERT OR IGNORE then SELECT: two connections creating the same
 * label at once both end with its one id.
 */
static enum vaern_err
label_find(struct store *st, const char *text, int create, int64_t *id,
           struct vaern_msg *msg)
{
	size_t len = strlen(text), slot;
	sqlite3_stmt *p;
	int found;

	if (len == 0 || len > LABEL_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "a label must be 1 to %d bytes", LABEL_MAX);
	slot = label_hash(text) % LABEL_CACHE;
	for (size_t n = 0; n < LABEL_CACHE; n++) {
		struct label *l = &st->labels[(slot + n) % LABEL_CACHE];

		if (l->text == NULL)
			break;
		if (strcmp(l->text, text) == 0) {
			*id = l->id;
			return VAERN_OK;
		}
	}
	if ((found = label_select(st, text, len, id, msg)) < 0)
		return VAERN_E_STORE;
	if (found) {
		label_cache(st, text, *id);
		return VAERN_OK;
	}
	if (!create)
		return vaern_fail(msg, VAERN_E_NOTFOUND, "no label");
	if ((p = sqlu_stmt(&st->conn, S_LABEL_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_text(p, 1, text, (int)len, SQLITE_STATIC);
	if (sqlite3_step(p) != SQLITE_DONE) {
		enum vaern_err err = sqlu_fail(&st->conn, msg, "label");

		sqlu_reset(p);
		return err;
	}
	sqlu_reset(p);
	/* A rollback empties the cache, so caching here is safe. */
	if ((found = label_select(st, text, len, id, msg)) <= 0)
		return found < 0 ? VAERN_E_STORE
		                 : vaern_fail(msg, VAERN_E_STORE,
		                              "label vanished");
	label_cache(st, text, *id);
	return VAERN_OK;
}

static enum vaern_err
label_id(struct store *st, const char *text, int64_t *id, struct vaern_msg *msg)
{
	return label_find(st, text, 1, id, msg);
}

/* Copies the text of label id into st->label_text. */
static const char *
label_text(struct store *st, int64_t id, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	const char *result = NULL;
	int rc;

	if (id >= 0 && id < LABEL_CACHE && st->by_id[id] != NULL)
		return st->by_id[id];
	if ((s = sqlu_stmt(&st->conn, S_LABEL_TEXT, msg)) == NULL)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		/* busy, I/O, corruption: say that, not "missing" */
		(void)sqlu_fail(&st->conn, msg, "read a label");
		sqlu_reset(s);
		return NULL;
	}
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		size_t len = t == NULL ? 0 : strlen(t);

		if (len <= LABEL_MAX) {
			memcpy(st->label_text, t, len);
			st->label_text[len] = '\0';
			result = st->label_text;
		}
		/* Cache it by id (a committed label: it was read back). */
		if (result != NULL)
			label_cache(st, result, id);
	}
	if (result == NULL) /* no row, or text over LABEL_MAX */
		(void)vaern_fail(msg, VAERN_E_STORE, "label %lld is missing",
		                 (long long)id);
	sqlu_reset(s);
	return result;
}

/* Copies the text of label id into buf: label_text's own buffer is shared,
 * and a row often names several labels. */
static inline enum vaern_err
label_copy(struct store *st, int64_t id, char buf[LABEL_MAX + 1],
           struct vaern_msg *msg)
{
	const char *t = label_text(st, id, msg);

	if (t == NULL)
		return VAERN_E_STORE;
	memcpy(buf, t, strlen(t) + 1);
	return VAERN_OK;
}

/*
 * Creates the schema, or brings an older one up to date, in one
 * transaction: a crash half-way leaves the old schema whole.
 */
static int
schema_setup(sqlite3 *db, int ks_new, char **errmsg)
{
	sqlite3_stmt *s = NULL;
	int rc, old = 0;

	if ((rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, errmsg)) !=
	    SQLITE_OK)
		return rc;
	if (sqlite3_prepare_v2(db,
	                       "SELECT value FROM meta"
	                       " WHERE key = 'schema_version'",
	                       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);

		if (v != NULL)
			old = (int)strtol(v, NULL, 10);
	}
	sqlite3_finalize(s);
	if (old == 1)
		rc = sqlite3_exec(db, migrate_1_sql, NULL, NULL, errmsg);
	if (rc == SQLITE_OK && (old == 1 || old == 2))
		rc = sqlite3_exec(db, migrate_2_sql, NULL, NULL, errmsg);
	if (rc == SQLITE_OK && old >= 1 && old <= 3)
		rc = sqlite3_exec(db, migrate_3_sql, NULL, NULL, errmsg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, schema_sql, NULL, NULL, errmsg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, ks_schema_sql, NULL, NULL, errmsg);
	if (rc == SQLITE_OK && old >= 1 && old <= 4)
		rc = sqlite3_exec(db,
		                  has_column(db, "subject", "wrapped_key")
		                          ? migrate_4_sql
		                          : migrate_4_done_sql,
		                  NULL, NULL, errmsg);
	if (rc == SQLITE_OK && ks_new)
		rc = sqlite3_exec(db, ks_stamp_sql, NULL, NULL, errmsg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, errmsg);
	if (rc != SQLITE_OK)
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* The schema version of the open main database; 0 if it has none. */
static int
schema_version(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	int v = 0;

	if (sqlite3_prepare_v2(db,
	                       "SELECT value FROM main.meta"
	                       " WHERE key = 'schema_version'",
	                       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);

		if (t != NULL)
			v = (int)strtol(t, NULL, 10);
	}
	sqlite3_finalize(s);
	return v;
}

/*
 * Attaches the keystore beside the database at path as "ks" (issue 13).
 * A missing keystore is made only with a new database or for the
 * migration from schema 4; otherwise it is an error: without it no
 * subject can be read. *made is 1 if it was made now.
 */
static enum vaern_err
ks_attach(struct store *st, const char *path, int create, int *made,
          struct vaern_msg *msg)
{
	char kspath[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int dirlen = slash != NULL ? (int)(slash - path) : 1, n;
	sqlite3_stmt *s = NULL;
	sqlite3 *tmp = NULL;
	int rc;

	n = snprintf(kspath, sizeof(kspath), "%.*s/%s", dirlen,
	             slash != NULL ? path : ".", STORE_KEYSTORE_FILE);
	if (n < 0 || (size_t)n >= sizeof(kspath))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the data directory path is too long");
	*made = access(kspath, F_OK) != 0;
	if (*made && !create) {
		int v = schema_version(st->conn.db);

		if (v == 0 || v >= 5)
			return vaern_fail(msg, VAERN_E_NOTFOUND,
			                  "%s is missing: it holds the wrapped "
			                  "keys; restore it from a keystore "
			                  "backup (docs/operations.md)",
			                  kspath);
		rc = sqlite3_open_v2(kspath, &tmp,
		                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
		                     NULL);
		sqlite3_close(tmp);
		if (rc != SQLITE_OK)
			return vaern_fail(msg, VAERN_E_IO, "cannot create %s",
			                  kspath);
	}
	rc = sqlite3_prepare_v2(st->conn.db, "ATTACH ?1 AS ks", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, kspath, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		return sqlu_fail(&st->conn, msg, "keystore");
	if (sqlite3_exec(st->conn.db,
	                 "PRAGMA ks.journal_mode=WAL;"
	                 "PRAGMA ks.synchronous=FULL;"
	                 "PRAGMA ks.secure_delete=ON;"
	                 "PRAGMA ks.cache_size=-65536;",
	                 NULL, NULL, NULL) != SQLITE_OK)
		return sqlu_fail(&st->conn, msg, "keystore");
	return VAERN_OK;
}

/* A keystore from another vault would turn every subject into noise. */
static enum vaern_err
ks_check_vault(struct store *st, struct vaern_msg *msg)
{
	sqlite3_stmt *s = NULL;
	int same = 0;

	if (sqlite3_prepare_v2(st->conn.db,
	                       "SELECT (SELECT value FROM ks.meta"
	                       " WHERE key = 'vault_id') IS (SELECT value"
	                       " FROM main.meta WHERE key = 'vault_id')",
	                       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		same = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (!same)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "%s belongs to another vault than %s",
		                  STORE_KEYSTORE_FILE, "vaern.db");
	return VAERN_OK;
}

struct sqlite3 *
store_sqlite_db(struct store *st)
{
	return st->conn.db;
}

enum vaern_err
store_open_sqlite(const char *path, int create, struct store **out,
                  struct vaern_msg *msg)
{
	int ks_made = 0;
	enum vaern_err err = VAERN_OK;
	struct store *st;
	char *errmsg = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

	*out = NULL;
	/*
	 * No global memory statistics: they take a process-wide mutex on
	 * every allocation. Effective only before SQLite initialises (the
	 * first open); later calls fail harmlessly.
	 */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	st->conn.sql = stmt_sql;
	st->conn.stmt = st->stmt;
	st->conn.nstmt = S_COUNT_;
	st->conn.prefix = "";
	st->conn.any_constraint = 1;
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	if ((err = sqlu_open(&st->conn, path, flags, 5000, msg)) != VAERN_OK)
		goto done;
	/*
	 * WAL: readers do not block the writer. synchronous=FULL: a commit
	 * that returned is on disk, power loss included ("loses nothing").
	 * secure_delete: erased rows do not linger in free pages.
	 */
	if (sqlite3_exec(st->conn.db,
	                 "PRAGMA journal_mode=WAL;"
	                 "PRAGMA synchronous=FULL;"
	                 "PRAGMA secure_delete=ON;"
	                 "PRAGMA foreign_keys=OFF;"
	                 "PRAGMA temp_store=MEMORY;"
	                 "PRAGMA cache_size=-65536;",
	                 NULL, NULL, &errmsg) != SQLITE_OK) {
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "cannot set up the database %s: %s", path,
		                 errmsg ? errmsg : "unknown error");
		goto done;
	}
	if ((err = ks_attach(st, path, create, &ks_made, msg)) != VAERN_OK)
		goto done;
	if (schema_setup(st->conn.db, ks_made, &errmsg) != SQLITE_OK) {
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "cannot set up the database %s: %s", path,
		                 errmsg ? errmsg : "unknown error");
		goto done;
	}
	err = ks_check_vault(st, msg);
done:
	sqlite3_free(errmsg);
	if (err != VAERN_OK) {
		store_close(st);
		return err;
	}
	*out = st;
	return VAERN_OK;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->in_tx)
		store_rollback(st);
	store_read_end(st);
	for (size_t i = 0; i < LABEL_CACHE; i++)
		free(st->labels[i].text);
	sqlu_close(&st->conn);
	free(st);
}

enum vaern_err
store_checkpoint(struct store *st, struct vaern_msg *msg)
{
	int logged = 0, done = 0;

	assert(!st->in_tx);
	store_read_end(st);
	if (sqlite3_wal_checkpoint_v2(st->conn.db, NULL,
	                              SQLITE_CHECKPOINT_TRUNCATE, &logged,
	                              &done) != SQLITE_OK)
		return sqlu_fail(&st->conn, msg, "checkpoint");
	return VAERN_OK;
}

void
store_set_mmap(struct store *st, long long bytes)
{
	char sql[64];

	(void)snprintf(sql, sizeof(sql), "PRAGMA mmap_size=%lld", bytes);
	(void)sqlite3_exec(st->conn.db, sql, NULL, NULL, NULL);
}

void
store_set_autocheckpoint(struct store *st, int pages)
{
	(void)sqlite3_wal_autocheckpoint(st->conn.db, pages);
}

void
store_set_cache_kib(struct store *st, long kib)
{
	char sql[64];

	(void)snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%ld", kib);
	(void)sqlite3_exec(st->conn.db, sql, NULL, NULL, NULL);
}

enum vaern_err
store_savepoint(struct store *st, struct vaern_msg *msg)
{
	assert(st->in_tx);
	return sqlu_exec(&st->conn, S_SAVEPOINT, "savepoint", msg);
}

enum vaern_err
store_savepoint_release(struct store *st, struct vaern_msg *msg)
{
	return sqlu_exec(&st->conn, S_RELEASE, "savepoint", msg);
}

void
store_savepoint_rollback(struct store *st)
{
	(void)sqlite3_exec(st->conn.db, "ROLLBACK TO one; RELEASE one", NULL,
	                   NULL, NULL);
	label_cache_clear(st);
}

enum vaern_err
store_begin(struct store *st, struct vaern_msg *msg)
{
	enum vaern_err err;

	assert(!st->in_tx);
	/* A write ends the read snapshot: it sees the latest data. */
	store_read_end(st);
	if ((err = sqlu_exec(&st->conn, S_BEGIN, "begin", msg)) == VAERN_OK)
		st->in_tx = 1;
	return err;
}

enum vaern_err
store_read_begin(struct store *st, struct vaern_msg *msg)
{
	enum vaern_err err;

	if (st->in_tx || st->in_read)
		return VAERN_OK;
	if ((err = sqlu_exec(&st->conn, S_READ_BEGIN, "begin", msg)) ==
	    VAERN_OK)
		st->in_read = 1;
	return err;
}

void
store_read_end(struct store *st)
{
	sqlite3_stmt *s;

	if (!st->in_read)
		return;
	st->in_read = 0;
	if ((s = sqlu_stmt(&st->conn, S_COMMIT, NULL)) == NULL ||
	    sqlite3_step(s) != SQLITE_DONE)
		(void)sqlite3_exec(st->conn.db, "ROLLBACK", NULL, NULL, NULL);
	if (s != NULL)
		sqlu_reset(s);
}

enum vaern_err
store_commit(struct store *st, struct vaern_msg *msg)
{
	enum vaern_err err;

	assert(st->in_tx);
	if ((err = sqlu_exec(&st->conn, S_COMMIT, "commit", msg)) == VAERN_OK)
		st->in_tx = 0;
	return err;
}

void
store_rollback(struct store *st)
{
	if (!st->in_tx)
		return;
	(void)sqlite3_exec(st->conn.db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = 0;
	label_cache_clear(st);
}

enum vaern_err
store_controller_put(struct store *st, const char *name,
                     const char *policy_text, size_t len, int64_t loaded_at,
                     int64_t *rowid, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;

	if ((s = sqlu_stmt(&st->conn, S_CTRL_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, policy_text, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, loaded_at);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*rowid = sqlite3_column_int64(s, 0);
		if (sqlite3_step(s) != SQLITE_DONE)
			err = sqlu_fail(&st->conn, msg, "controller");
	} else {
		err = sqlu_fail(&st->conn, msg, "controller");
	}
	sqlu_reset(s);
	if (err != VAERN_OK)
		return err;
	/* In the same transaction: a reader sees the new policy and the
	 * new generation together, or neither. */
	if ((s = sqlu_stmt(&st->conn, S_POLICY_GEN_BUMP, msg)) == NULL)
		return VAERN_E_STORE;
	return sqlu_step_done(&st->conn, s, "policy generation", msg);
}

enum vaern_err
store_policy_generation(struct store *st, int64_t *out, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	*out = 0;
	if ((s = sqlu_stmt(&st->conn, S_POLICY_GEN, msg)) == NULL)
		return VAERN_E_STORE;
	err = sqlu_step_row(&st->conn, s, "policy generation", NULL, msg);
	if (err == VAERN_OK)
		*out = sqlite3_column_int64(s, 0);
	else if (err == VAERN_E_NOTFOUND)
		err = VAERN_OK; /* no policy loaded since the counter came */
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_controller_get(struct store *st, const char *name, int64_t *rowid,
                     char **policy_text, size_t *len, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	*policy_text = NULL;
	*len = 0;
	if ((s = sqlu_stmt(&st->conn, S_CTRL_GET, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	err = sqlu_step_row(&st->conn, s, "controller", NULL, msg);
	if (err == VAERN_OK) {
		const char *t = (const char *)sqlite3_column_text(s, 1);
		size_t n = (size_t)sqlite3_column_bytes(s, 1);

		*rowid = sqlite3_column_int64(s, 0);
		if ((*policy_text = malloc(n + 1)) == NULL) {
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		} else {
			memcpy(*policy_text, t, n);
			(*policy_text)[n] = '\0';
			*len = n;
		}
	} else if (err == VAERN_E_NOTFOUND) {
		err = vaern_fail(msg, VAERN_E_NOTFOUND,
		                 "no controller '%s' is loaded", name);
	}
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_controller_foreach(struct store *st,
                         enum vaern_err (*fn)(void *arg, const char *name,
                                              int64_t loaded_at),
                         void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_CTRL_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((err = fn(arg, (const char *)sqlite3_column_text(s, 0),
		              sqlite3_column_int64(s, 1))) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "controller list", msg);
}

enum vaern_err
store_policy_version_put(struct store *st, const char *name,
                         const char *old_digest, const char *digest,
                         const char *policy_text, size_t len, int64_t loaded_at,
                         struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	if (old_digest != NULL) {
		if ((s = sqlu_stmt(&st->conn, S_PVER_BACKFILL, msg)) == NULL)
			return VAERN_E_STORE;
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, old_digest, -1, SQLITE_STATIC);
		err = sqlu_step_done(&st->conn, s, "policy version", msg);
		if (err != VAERN_OK)
			return err;
	}
	if ((s = sqlu_stmt(&st->conn, S_PVER_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, policy_text, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, loaded_at);
	return sqlu_step_done(&st->conn, s, "policy version", msg);
}

enum vaern_err
store_policy_version_foreach(struct store *st, const char *name,
                             enum vaern_err (*fn)(void *arg, const char *digest,
                                                  int64_t loaded_at,
                                                  const char *policy_text,
                                                  size_t len),
                             void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_PVER_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((err = fn(arg, (const char *)sqlite3_column_text(s, 0),
		              sqlite3_column_int64(s, 1),
		              (const char *)sqlite3_column_text(s, 2),
		              (size_t)sqlite3_column_bytes(s, 2))) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "policy versions", msg);
}

enum vaern_err
store_policy_version_get(struct store *st, const char *name, const char *prefix,
                         int64_t at, char digest[STORE_DIGEST_HEX],
                         char **policy_text, size_t *len, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	*policy_text = NULL;
	*len = 0;
	digest[0] = '\0';
	if ((s = sqlu_stmt(&st->conn, prefix != NULL ? S_PVER_GET : S_PVER_AT,
	                   msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (prefix != NULL)
		sqlite3_bind_text(s, 2, prefix, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 2, at);
	err = sqlu_step_row(&st->conn, s, "policy version", NULL, msg);
	if (err == VAERN_OK) {
		const char *d = (const char *)sqlite3_column_text(s, 0);
		const char *t = (const char *)sqlite3_column_text(s, 1);
		size_t n = (size_t)sqlite3_column_bytes(s, 1);

		snprintf(digest, STORE_DIGEST_HEX, "%s", d != NULL ? d : "");
		if ((*policy_text = malloc(n + 1)) == NULL) {
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		} else {
			memcpy(*policy_text, t, n);
			(*policy_text)[n] = '\0';
			*len = n;
		}
		/* A prefix that names two different versions names none. */
		while (err == VAERN_OK && prefix != NULL &&
		       sqlite3_step(s) == SQLITE_ROW) {
			d = (const char *)sqlite3_column_text(s, 0);
			if (d != NULL && strcmp(d, digest) != 0)
				err = vaern_fail(msg, VAERN_E_INVALID,
				                 "version '%s' of '%s' is "
				                 "ambiguous: give more digits",
				                 prefix, name);
		}
	} else if (err == VAERN_E_NOTFOUND) {
		err = vaern_fail(msg, VAERN_E_NOTFOUND,
		                 prefix != NULL ? "'%s' has no stored version "
		                                  "'%s'"
		                                : "'%s' had no policy loaded "
		                                  "by then%s",
		                 name, prefix != NULL ? prefix : "");
	}
	if (err != VAERN_OK) {
		free(*policy_text);
		*policy_text = NULL;
		*len = 0;
	}
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_subject_insert(struct store *st, struct store_subject *subj,
                     struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_SUBJ_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subj->controller);
	sqlite3_bind_blob(s, 2, subj->uid, STORE_UID_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, subj->blinds, (int)subj->blinds_len,
	                  SQLITE_STATIC);
	sqlite3_bind_int(s, 5, subj->state);
	sqlite3_bind_int64(s, 6, subj->created_at);
	if ((err = sqlu_step_done(&st->conn, s, "subject", msg)) != VAERN_OK)
		return err;
	subj->rowid = sqlite3_last_insert_rowid(st->conn.db);
	/* The wrapped key goes to the keystore, in the same transaction. */
	if ((s = sqlu_stmt(&st->conn, S_SKEY_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_blob(s, 1, subj->uid, STORE_UID_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, subj->controller);
	sqlite3_bind_int64(s, 3, subj->kek);
	sqlite3_bind_blob(s, 4, subj->wrapped_key, (int)subj->wrapped_len,
	                  SQLITE_STATIC);
	return sqlu_step_done(&st->conn, s, "subject key", msg);
}

/* Copies a blob column into buf (size max); returns 0 if it does not fit. */
static int
column_copy(sqlite3_stmt *s, int col, unsigned char *buf, size_t max,
            size_t *len)
{
	const void *p = sqlite3_column_blob(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);

	*len = 0;
	if (n > max)
		return 0;
	if (n > 0)
		memcpy(buf, p, n);
	*len = n;
	return 1;
}

/* Steps s (bound) and copies the subject row into *subj. */
static enum vaern_err
subject_lookup(struct store *st, sqlite3_stmt *s, struct store_subject *subj,
               struct vaern_msg *msg)
{
	enum vaern_err err;
	size_t uidlen;

	err = sqlu_step_row(&st->conn, s, "subject", "no such subject", msg);
	if (err == VAERN_OK) {
		subj->rowid = sqlite3_column_int64(s, 0);
		subj->controller = sqlite3_column_int64(s, 1);
		subj->state = sqlite3_column_int(s, 5);
		subj->created_at = sqlite3_column_int64(s, 6);
		subj->kek = sqlite3_column_int64(s, 7);
		if (!column_copy(s, 2, subj->uid, STORE_UID_BYTES, &uidlen) ||
		    uidlen != STORE_UID_BYTES ||
		    !column_copy(s, 3, subj->wrapped_key, STORE_WRAPPED_MAX,
		                 &subj->wrapped_len) ||
		    !column_copy(s, 4, subj->blinds, STORE_BLINDS_MAX,
		                 &subj->blinds_len))
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "subject %lld: malformed row",
			                 (long long)subj->rowid);
	}
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_subject_by_uid(struct store *st, int64_t controller,
                     const unsigned char *uid, struct store_subject *subj,
                     struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_SUBJ_BY_UID, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_blob(s, 1, uid, STORE_UID_BYTES, SQLITE_STATIC);
	err = subject_lookup(st, s, subj, msg);
	/* One controller's subject is invisible to another controller. */
	if (err == VAERN_OK && subj->controller != controller)
		err = vaern_fail(msg, VAERN_E_NOTFOUND, "no such subject");
	return err;
}

enum vaern_err
store_subject_by_rowid(struct store *st, int64_t rowid,
                       struct store_subject *subj, struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_SUBJ_BY_ROWID, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, rowid);
	return subject_lookup(st, s, subj, msg);
}

enum vaern_err
store_subject_set_blinds(struct store *st, int64_t rowid,
                         const unsigned char *blinds, size_t len,
                         struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_SUBJ_SET_BLINDS, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, rowid);
	sqlite3_bind_blob(s, 2, blinds, (int)len, SQLITE_STATIC);
	return sqlu_step_done(&st->conn, s, "subject", msg);
}

static enum vaern_err
delete_by_subject(struct store *st, enum stmt_id id, int64_t rowid,
                  struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, id, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, rowid);
	return sqlu_step_done(&st->conn, s, "erase", msg);
}

enum vaern_err
store_subject_delete(struct store *st, int64_t rowid, struct vaern_msg *msg)
{
	enum vaern_err err;

	if ((err = delete_by_subject(st, S_SUBJ_DELETE_FACTS, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE_EVENTS, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE_CONSENTS, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE_AGREEMENTS, rowid,
	                             msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE_HOLDS, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE_CSTATE, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE_UNSUB, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SKEY_DELETE, rowid, msg)) ||
	    (err = delete_by_subject(st, S_SUBJ_DELETE, rowid, msg)))
		return err;
	if (sqlite3_changes(st->conn.db) != 1)
		return vaern_fail(msg, VAERN_E_NOTFOUND, "no such subject");
	return VAERN_OK;
}

enum vaern_err
store_subject_count(struct store *st, int64_t controller, int64_t *count,
                    struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_SUBJ_COUNT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, controller);
	return sqlu_step_int64(&st->conn, s, count, "subject count", msg);
}

static void
bind_identifier(sqlite3_stmt *s, int64_t controller, int type,
                const unsigned char *blind)
{
	sqlite3_bind_int64(s, 1, controller);
	sqlite3_bind_int(s, 2, type);
	sqlite3_bind_blob(s, 3, blind, STORE_BLIND_BYTES, SQLITE_STATIC);
}

enum vaern_err
store_identifier_insert(struct store *st, int64_t controller, int type,
                        const unsigned char *blind, int64_t subject,
                        struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_ID_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	bind_identifier(s, controller, type, blind);
	sqlite3_bind_int64(s, 4, subject);
	return sqlu_step_done(&st->conn, s, "identifier", msg);
}

enum vaern_err
store_identifier_find(struct store *st, int64_t controller, int type,
                      const unsigned char *blind, int64_t *subject,
                      struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_ID_FIND, msg)) == NULL)
		return VAERN_E_STORE;
	bind_identifier(s, controller, type, blind);
	if ((err = sqlu_step_row(&st->conn, s, "identifier",
	                         "no subject has that identifier", msg)) ==
	    VAERN_OK)
		*subject = sqlite3_column_int64(s, 0);
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_identifier_find_uid(struct store *st, int64_t controller, int type,
                          const unsigned char *blind, unsigned char *uid,
                          struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;
	size_t len = 0;

	if ((s = sqlu_stmt(&st->conn, S_ID_FIND_UID, msg)) == NULL)
		return VAERN_E_STORE;
	bind_identifier(s, controller, type, blind);
	err = sqlu_step_row(&st->conn, s, "identifier",
	                    "no subject has that identifier", msg);
	if (err == VAERN_OK &&
	    (!column_copy(s, 0, uid, STORE_UID_BYTES, &len) ||
	     len != STORE_UID_BYTES))
		err = vaern_fail(msg, VAERN_E_STORE, "subject: malformed row");
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_identifier_delete(struct store *st, int64_t controller, int type,
                        const unsigned char *blind, struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_ID_DELETE, msg)) == NULL)
		return VAERN_E_STORE;
	bind_identifier(s, controller, type, blind);
	return sqlu_step_done(&st->conn, s, "identifier", msg);
}

enum vaern_err
store_fact_insert(struct store *st, const struct store_fact *f,
                  struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t cat, purpose, source, rule = 0;
	enum vaern_err err;

	if ((err = label_id(st, f->category, &cat, msg)) != VAERN_OK ||
	    (err = label_id(st, f->purpose, &purpose, msg)) != VAERN_OK ||
	    (err = label_id(st, f->source, &source, msg)) != VAERN_OK ||
	    (f->rule != NULL &&
	     (err = label_id(st, f->rule, &rule, msg)) != VAERN_OK))
		return err;
	if ((s = sqlu_stmt(&st->conn, S_FACT_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, f->subject);
	sqlite3_bind_int64(s, 2, f->id);
	sqlite3_bind_int64(s, 3, cat);
	sqlite3_bind_int64(s, 4, purpose);
	sqlite3_bind_int64(s, 5, source);
	sqlite3_bind_int64(s, 6, f->collected_at);
	sqlite3_bind_int(s, 7, f->provided_by_subject);
	bind_time(s, 8, f->expires_at);
	sqlite3_bind_blob(s, 9, f->ct, (int)f->ctlen, SQLITE_STATIC);
	if (rule != 0)
		sqlite3_bind_int64(s, 10, rule);
	return sqlu_step_done(&st->conn, s, "fact", msg);
}

enum vaern_err
store_fact_max_id(struct store *st, int64_t subject, int64_t *max,
                  struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_FACT_MAX, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	/* max(id) of no fact is NULL, which reads as 0 */
	return sqlu_step_int64(&st->conn, s, max, "fact", msg);
}

enum vaern_err
store_fact_update(struct store *st, int64_t subject, int64_t id,
                  const unsigned char *ct, size_t ctlen, int64_t collected_at,
                  const char *source, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t src;
	enum vaern_err err;

	if ((err = label_id(st, source, &src, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_FACT_UPDATE, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	sqlite3_bind_int64(s, 2, id);
	sqlite3_bind_blob(s, 3, ct, (int)ctlen, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, collected_at);
	sqlite3_bind_int64(s, 5, src);
	return sqlu_step_changed(&st->conn, s, "fact", msg, "no fact %lld",
	                         (long long)id);
}

/* Steps s and calls fn for each fact row. */
static enum vaern_err
facts_each(struct store *st, sqlite3_stmt *s,
           enum vaern_err (*fn)(void *arg, const struct store_fact *f),
           void *arg, int *seen, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	char cat[LABEL_MAX + 1], purpose[LABEL_MAX + 1], source[LABEL_MAX + 1];
	int rc;

	*seen = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_fact f;

		if ((err = label_copy(st, sqlite3_column_int64(s, 2), cat,
		                      msg)) != VAERN_OK ||
		    (err = label_copy(st, sqlite3_column_int64(s, 3), purpose,
		                      msg)) != VAERN_OK ||
		    (err = label_copy(st, sqlite3_column_int64(s, 4), source,
		                      msg)) != VAERN_OK)
			break;
		f.subject = sqlite3_column_int64(s, 0);
		f.id = sqlite3_column_int64(s, 1);
		f.category = cat;
		f.purpose = purpose;
		f.source = source;
		f.collected_at = sqlite3_column_int64(s, 5);
		f.provided_by_subject = sqlite3_column_int(s, 6);
		f.expires_at = column_time(s, 7);
		f.rule = NULL;
		f.ct = sqlite3_column_blob(s, 8);
		f.ctlen = (size_t)sqlite3_column_bytes(s, 8);
		*seen = 1;
		if ((err = fn(arg, &f)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "fact", msg);
}

enum vaern_err
store_fact_foreach(struct store *st, int64_t subject,
                   enum vaern_err (*fn)(void *arg, const struct store_fact *f),
                   void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int seen;

	if ((s = sqlu_stmt(&st->conn, S_FACT_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	return facts_each(st, s, fn, arg, &seen, msg);
}

enum vaern_err
store_fact_get(struct store *st, int64_t subject, int64_t id,
               enum vaern_err (*fn)(void *arg, const struct store_fact *f),
               void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;
	int seen;

	if ((s = sqlu_stmt(&st->conn, S_FACT_GET, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	sqlite3_bind_int64(s, 2, id);
	err = facts_each(st, s, fn, arg, &seen, msg);
	if (err == VAERN_OK && !seen)
		err = vaern_fail(msg, VAERN_E_NOTFOUND, "no fact %lld",
		                 (long long)id);
	return err;
}

enum vaern_err
store_event_insert(struct store *st, const struct store_event *e,
                   struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t kind;
	enum vaern_err err;

	if ((err = label_id(st, e->kind, &kind, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_EVENT_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, e->subject);
	sqlite3_bind_int64(s, 2, kind);
	sqlite3_bind_int64(s, 3, e->at);
	return sqlu_step_done(&st->conn, s, "event", msg);
}

enum vaern_err
store_event_foreach(struct store *st, int64_t subject,
                    enum vaern_err (*fn)(void *arg,
                                         const struct store_event *e),
                    void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	char kind[LABEL_MAX + 1];
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_EVENT_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_event e;

		if ((err = label_copy(st, sqlite3_column_int64(s, 1), kind,
		                      msg)) != VAERN_OK)
			break;
		e.subject = sqlite3_column_int64(s, 0);
		e.kind = kind;
		e.at = sqlite3_column_int64(s, 2);
		if ((err = fn(arg, &e)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "event", msg);
}

enum vaern_err
store_consent_insert(struct store *st, const struct store_consent *c,
                     struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t purpose, source;
	enum vaern_err err;

	if ((err = label_id(st, c->purpose, &purpose, msg)) != VAERN_OK ||
	    (err = label_id(st, c->source, &source, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_CONSENT_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, c->subject);
	sqlite3_bind_int64(s, 2, purpose);
	sqlite3_bind_int64(s, 3, c->given_at);
	bind_time(s, 4, c->withdrawn_at);
	sqlite3_bind_int64(s, 5, source);
	if (c->text_hash != NULL)
		sqlite3_bind_blob(s, 6, c->text_hash, 32, SQLITE_STATIC);
	return sqlu_step_done(&st->conn, s, "consent", msg);
}

enum vaern_err
store_consent_valid(struct store *st, int64_t subject, const char *purpose,
                    int *valid, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t pid;
	enum vaern_err err;

	*valid = 0;
	if ((err = label_find(st, purpose, 0, &pid, NULL)) == VAERN_E_NOTFOUND)
		return VAERN_OK; /* no consent to it was ever recorded */
	if (err != VAERN_OK)
		return vaern_fail(msg, err, "consent: label lookup failed");
	if ((s = sqlu_stmt(&st->conn, S_CONSENT_LATEST, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	sqlite3_bind_int64(s, 2, pid);
	if ((err = sqlu_step_row(&st->conn, s, "consent", NULL, msg)) ==
	    VAERN_OK)
		*valid = sqlite3_column_type(s, 0) == SQLITE_NULL;
	sqlu_reset(s);
	return err == VAERN_E_NOTFOUND ? VAERN_OK : err;
}

enum vaern_err
store_meta_get(struct store *st, const char *key, char *buf, size_t bufsz,
               struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_META_GET, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	err = sqlu_step_row(&st->conn, s, "meta", NULL, msg);
	if (err == VAERN_OK) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		size_t n = (size_t)sqlite3_column_bytes(s, 0);

		if (t == NULL || n >= bufsz)
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "meta '%s' is malformed", key);
		else
			memcpy(buf, t, n + 1);
	} else if (err == VAERN_E_NOTFOUND) {
		err = vaern_fail(msg, VAERN_E_NOTFOUND, "meta '%s' is unset",
		                 key);
	}
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_meta_put(struct store *st, const char *key, const char *value,
               struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_META_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	return sqlu_step_done(&st->conn, s, "meta", msg);
}

enum vaern_err
store_audit_head_pending(struct store *st, struct vaern_msg *msg)
{
	return sqlu_exec(&st->conn, S_AUDIT_HEAD_PENDING, "audit head", msg);
}

enum vaern_err
store_audit_outbox_add(struct store *st, const struct audit_row *r, int64_t *id,
                       struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_AUDIT_OUTBOX, msg)) == NULL)
		return VAERN_E_STORE;
	audit_row_bind_entry(s, 1, r);
	audit_bind_text(s, 12, r->policy);
	if ((err = sqlu_step_done(&st->conn, s, "audit outbox", msg)) ==
	    VAERN_OK)
		*id = sqlite3_last_insert_rowid(st->conn.db);
	return err;
}

enum vaern_err
store_subject_set_state(struct store *st, int64_t rowid, int state,
                        struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_SUBJ_SET_STATE, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, rowid);
	sqlite3_bind_int(s, 2, state);
	return sqlu_step_changed(&st->conn, s, "subject", msg,
	                         "no such subject");
}

enum vaern_err
store_agreement_insert(struct store *st, int64_t subject, const char *recipient,
                       int64_t at, int withdrawn, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t rid;
	enum vaern_err err;

	if ((err = label_id(st, recipient, &rid, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_AGREEMENT_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	sqlite3_bind_int64(s, 2, rid);
	sqlite3_bind_int64(s, 3, at);
	sqlite3_bind_int(s, 4, withdrawn != 0);
	return sqlu_step_done(&st->conn, s, "agreement", msg);
}

enum vaern_err
store_agreement_valid(struct store *st, int64_t subject, const char *recipient,
                      int *valid, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t rid;
	enum vaern_err err;

	*valid = 0;
	if ((err = label_find(st, recipient, 0, &rid, NULL)) ==
	    VAERN_E_NOTFOUND)
		return VAERN_OK; /* no agreement was ever recorded */
	if (err != VAERN_OK)
		return vaern_fail(msg, err, "agreement: label lookup failed");
	if ((s = sqlu_stmt(&st->conn, S_AGREEMENT_LATEST, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	sqlite3_bind_int64(s, 2, rid);
	if ((err = sqlu_step_row(&st->conn, s, "agreement", NULL, msg)) ==
	    VAERN_OK)
		*valid = sqlite3_column_int(s, 0) == 0;
	sqlu_reset(s);
	return err == VAERN_E_NOTFOUND ? VAERN_OK : err;
}

/* Copies text column col into buf (max + 1 bytes); 0 if it does not fit. */
static int
column_text_copy(sqlite3_stmt *s, int col, char *buf, size_t max)
{
	const char *t = (const char *)sqlite3_column_text(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);

	if (t == NULL || n > max)
		return 0;
	memcpy(buf, t, n);
	buf[n] = '\0';
	return 1;
}

static int
actor_from_row(sqlite3_stmt *s, struct store_actor *a)
{
	size_t hlen = 0;

	a->id = sqlite3_column_int64(s, 0);
	a->controller = sqlite3_column_int64(s, 1);
	a->created_at = sqlite3_column_int64(s, 6);
	a->revoked_at = column_time(s, 7);
	return column_text_copy(s, 2, a->name, STORE_NAME_MAX) &&
	       column_text_copy(s, 3, a->role, STORE_NAME_MAX) &&
	       column_text_copy(s, 4, a->token_id, STORE_TOKEN_ID_HEX) &&
	       column_copy(s, 5, a->token_hash, sizeof(a->token_hash), &hlen) &&
	       hlen == sizeof(a->token_hash);
}

enum vaern_err
store_actor_insert(struct store *st, struct store_actor *a,
                   struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_ACTOR_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, a->controller);
	sqlite3_bind_text(s, 2, a->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, a->role, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, a->token_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, a->token_hash, sizeof(a->token_hash),
	                  SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, a->created_at);
	err = sqlu_step_done(&st->conn, s, "actor", msg);
	if (err == VAERN_E_EXISTS)
		return vaern_fail(msg, VAERN_E_EXISTS,
		                  "an actor named '%s' already exists",
		                  a->name);
	if (err == VAERN_OK)
		a->id = sqlite3_last_insert_rowid(st->conn.db);
	return err;
}

enum vaern_err
store_actor_by_token_id(struct store *st, const char *token_id,
                        struct store_actor *a, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_ACTOR_BY_TOKEN, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_text(s, 1, token_id, -1, SQLITE_STATIC);
	err = sqlu_step_row(&st->conn, s, "actor", "no such token", msg);
	if (err == VAERN_OK && !actor_from_row(s, a))
		err = vaern_fail(msg, VAERN_E_STORE, "actor: malformed row");
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_actor_revoke(struct store *st, int64_t controller, const char *name,
                   int64_t at, struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_ACTOR_REVOKE, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, controller);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, at);
	return sqlu_step_changed(&st->conn, s, "actor", msg,
	                         "no valid actor named '%.64s'", name);
}

enum vaern_err
store_actor_foreach(struct store *st, int64_t controller,
                    enum vaern_err (*fn)(void *arg,
                                         const struct store_actor *a),
                    void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_ACTOR_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, controller);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_actor a;

		if (!actor_from_row(s, &a)) {
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "actor: malformed row");
			break;
		}
		if ((err = fn(arg, &a)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "actor", msg);
}

/* ---- retention -------------------------------------------------------- */

enum vaern_err
store_label_text(struct store *st, int64_t id, char buf[STORE_LABEL_MAX + 1],
                 struct vaern_msg *msg)
{
	return label_copy(st, id, buf, msg);
}

enum vaern_err
store_label_id(struct store *st, const char *text, int64_t *id,
               struct vaern_msg *msg)
{
	return label_id(st, text, id, msg);
}

enum vaern_err
store_fact_set_expiry(struct store *st, int64_t subject, int64_t id,
                      int64_t expires_at, const char *rule,
                      struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t r = 0;
	enum vaern_err err;

	if (rule != NULL && (err = label_id(st, rule, &r, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_FACT_SET_EXPIRY, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	sqlite3_bind_int64(s, 2, id);
	bind_time(s, 3, expires_at);
	if (r != 0)
		sqlite3_bind_int64(s, 4, r);
	return sqlu_step_done(&st->conn, s, "fact", msg);
}

enum vaern_err
store_fact_delete(struct store *st, int64_t subject, int64_t id,
                  struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_FACT_DELETE, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	sqlite3_bind_int64(s, 2, id);
	return sqlu_step_changed(&st->conn, s, "fact", msg, "no fact %lld",
	                         (long long)id);
}

enum vaern_err
store_fact_due(struct store *st, int64_t now, const struct store_due *after,
               struct store_due *out, size_t max, size_t *n,
               struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	*n = 0;
	s = sqlu_stmt(&st->conn,
	              after == NULL      ? S_FACT_DUE_FIRST
	              : after->rule != 0 ? S_FACT_DUE_NEXT
	                                 : S_FACT_DUE_NEXT_NULL,
	              msg);
	if (s == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	if (after != NULL) {
		sqlite3_bind_int64(s, 3, after->expires_at);
		sqlite3_bind_int64(s, 4, after->subject);
		sqlite3_bind_int64(s, 5, after->id);
		if (after->rule != 0)
			sqlite3_bind_int64(s, 6, after->rule);
	}
	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_due *d = &out[(*n)++];

		d->expires_at = sqlite3_column_int64(s, 0);
		d->subject = sqlite3_column_int64(s, 1);
		d->id = sqlite3_column_int64(s, 2);
		d->rule = sqlite3_column_int64(s, 3);
	}
	if (*n < max && rc != SQLITE_DONE)
		err = sqlu_fail(&st->conn, msg, "retention");
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_fact_key_foreach(struct store *st, int64_t subject,
                       enum vaern_err (*fn)(void *arg,
                                            const struct store_fact_key *k),
                       void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_FACT_KEYS, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_fact_key k;

		k.id = sqlite3_column_int64(s, 0);
		k.category = sqlite3_column_int64(s, 1);
		k.rule = sqlite3_column_int64(s, 2);
		k.expires_at = column_time(s, 3);
		if ((err = fn(arg, &k)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "fact", msg);
}

enum vaern_err
store_fact_delete_due(struct store *st, int64_t subject, int64_t now,
                      int64_t *deleted, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	*deleted = 0;
	if ((s = sqlu_stmt(&st->conn, S_FACT_DELETE_DUE, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	sqlite3_bind_int64(s, 2, now);
	if ((err = sqlu_step_done(&st->conn, s, "fact", msg)) == VAERN_OK)
		*deleted = sqlite3_changes(st->conn.db);
	return err;
}

enum vaern_err
store_fact_due_count(struct store *st, int64_t now, int64_t *count,
                     struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	*count = 0;
	if ((s = sqlu_stmt(&st->conn, S_FACT_DUE_COUNT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, now);
	return sqlu_step_int64(&st->conn, s, count, "retention", msg);
}

enum vaern_err
store_fact_plan(struct store *st,
                enum vaern_err (*fn)(void *arg, int64_t rule,
                                     int64_t expires_at, int64_t count),
                void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_FACT_PLAN, msg)) == NULL)
		return VAERN_E_STORE;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((err = fn(arg, sqlite3_column_int64(s, 0),
		              column_time(s, 1), sqlite3_column_int64(s, 2))) !=
		    VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "retention plan", msg);
}

enum vaern_err
store_fact_plan_restricted(struct store *st,
                           enum vaern_err (*fn)(void *arg, int64_t rule,
                                                int64_t count),
                           void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_FACT_PLAN_RESTRICTED, msg)) == NULL)
		return VAERN_E_STORE;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((err = fn(arg, sqlite3_column_int64(s, 0),
		              sqlite3_column_int64(s, 1))) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "retention plan", msg);
}

enum vaern_err
store_subject_restricted_foreach(struct store *st,
                                 enum vaern_err (*fn)(void *arg,
                                                      int64_t subject),
                                 void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_SUBJECT_RESTRICTED, msg)) == NULL)
		return VAERN_E_STORE;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((err = fn(arg, sqlite3_column_int64(s, 0))) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "restricted subjects", msg);
}

/* Runs s (bound already) and sets *found to whether it returned a row. */
static enum vaern_err
step_exists(struct store *st, sqlite3_stmt *s, int *found,
            struct vaern_msg *msg)
{
	enum vaern_err err = sqlu_step_row(&st->conn, s, "lookup", NULL, msg);

	*found = err == VAERN_OK;
	sqlu_reset(s);
	return err == VAERN_E_NOTFOUND ? VAERN_OK : err;
}

enum vaern_err
store_subject_remains(struct store *st, int64_t subject, int64_t now,
                      int *remains, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_FACT_ANY, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	if ((err = step_exists(st, s, remains, msg)) != VAERN_OK || *remains)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_CONSENT_KEPT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	sqlite3_bind_int64(s, 2, now);
	if ((err = step_exists(st, s, remains, msg)) != VAERN_OK || *remains)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_CONSENT_IN_FORCE, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	return step_exists(st, s, remains, msg);
}

enum vaern_err
store_hold_insert(struct store *st, struct store_hold *h, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t cat = 0;
	enum vaern_err err;

	if (h->category != NULL &&
	    (err = label_id(st, h->category, &cat, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_HOLD_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, h->subject);
	if (h->category != NULL)
		sqlite3_bind_int64(s, 2, cat);
	sqlite3_bind_text(s, 3, h->reason, -1, SQLITE_STATIC);
	bind_time(s, 4, h->review_at);
	sqlite3_bind_int64(s, 5, h->placed_at);
	sqlite3_bind_text(s, 6, h->placed_by, -1, SQLITE_STATIC);
	if ((err = sqlu_step_done(&st->conn, s, "hold", msg)) == VAERN_OK)
		h->id = sqlite3_last_insert_rowid(st->conn.db);
	return err;
}

enum vaern_err
store_hold_lift(struct store *st, int64_t subject, int64_t id, int64_t at,
                struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_HOLD_LIFT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	sqlite3_bind_int64(s, 2, id);
	sqlite3_bind_int64(s, 3, at);
	return sqlu_step_changed(&st->conn, s, "hold", msg,
	                         "no hold %lld in force on this subject",
	                         (long long)id);
}

enum vaern_err
store_hold_foreach(struct store *st, int64_t subject,
                   enum vaern_err (*fn)(void *arg, const struct store_hold *h),
                   void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	char cat[LABEL_MAX + 1];
	int rc;

	if ((s = sqlu_stmt(&st->conn, subject ? S_HOLD_LIST : S_HOLD_ACTIVE,
	                   msg)) == NULL)
		return VAERN_E_STORE;
	if (subject)
		sqlite3_bind_int64(s, 1, subject);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_hold h;

		h.category = NULL;
		if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
			if ((err = label_copy(st, sqlite3_column_int64(s, 2),
			                      cat, msg)) != VAERN_OK)
				break;
			h.category = cat;
		}
		h.id = sqlite3_column_int64(s, 0);
		h.subject = sqlite3_column_int64(s, 1);
		h.reason = (const char *)sqlite3_column_text(s, 3);
		h.review_at = column_time(s, 4);
		h.placed_at = sqlite3_column_int64(s, 5);
		h.placed_by = (const char *)sqlite3_column_text(s, 6);
		h.lifted_at = column_time(s, 7);
		if (h.reason == NULL || h.placed_by == NULL) {
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
			break;
		}
		if ((err = fn(arg, &h)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "hold", msg);
}

enum vaern_err
store_anon_insert(struct store *st, int64_t controller, const char *rule,
                  int64_t at, const char *data, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t r;
	enum vaern_err err;

	if ((err = label_id(st, rule, &r, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_ANON_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, controller);
	sqlite3_bind_int64(s, 2, r);
	sqlite3_bind_int64(s, 3, at);
	sqlite3_bind_text(s, 4, data, -1, SQLITE_STATIC);
	return sqlu_step_done(&st->conn, s, "anonymised record", msg);
}

enum vaern_err
store_anon_count(struct store *st, int64_t controller, int64_t *count,
                 struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_ANON_COUNT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, controller);
	return sqlu_step_int64(&st->conn, s, count, "anonymised records", msg);
}

/* ---- the consent ledger ------------------------------------------------ */

enum vaern_err
store_consent_text_put(struct store *st, const unsigned char hash[32],
                       const char *text, struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_CTEXT_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
	return sqlu_step_done(&st->conn, s, "consent text", msg);
}

enum vaern_err
store_consent_text_get(struct store *st, const unsigned char hash[32],
                       char **text, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	*text = NULL;
	if ((s = sqlu_stmt(&st->conn, S_CTEXT_GET, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	if ((err = sqlu_step_row(&st->conn, s, "consent text",
	                         "no such consent text", msg)) == VAERN_OK) {
		const char *t = (const char *)sqlite3_column_text(s, 0);

		if (t == NULL || (*text = strdup(t)) == NULL)
			err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	}
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_consent_foreach(struct store *st, int64_t subject,
                      enum vaern_err (*fn)(void *arg,
                                           const struct store_consent_rec *r),
                      void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	char purpose[LABEL_MAX + 1], source[LABEL_MAX + 1];
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_CONSENT_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_consent_rec r;

		if ((err = label_copy(st, sqlite3_column_int64(s, 0), purpose,
		                      msg)) != VAERN_OK ||
		    (err = label_copy(st, sqlite3_column_int64(s, 4), source,
		                      msg)) != VAERN_OK)
			break;
		r.purpose = purpose;
		r.seq = sqlite3_column_int64(s, 1);
		r.at = sqlite3_column_int64(s, 2);
		r.withdrawn = sqlite3_column_type(s, 3) != SQLITE_NULL;
		r.source = source;
		r.text_hash = sqlite3_column_bytes(s, 5) == 32
		                      ? sqlite3_column_blob(s, 5)
		                      : NULL;
		if ((err = fn(arg, &r)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "consent", msg);
}

enum vaern_err
store_consent_state_get(struct store *st, int64_t subject, const char *purpose,
                        struct store_consent_state *cs, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t pid;
	enum vaern_err err;

	cs->last_used = STORE_NO_TIME;
	cs->expires_at = STORE_NO_TIME;
	if ((err = label_find(st, purpose, 0, &pid, NULL)) == VAERN_E_NOTFOUND)
		return VAERN_OK;
	if (err != VAERN_OK)
		return vaern_fail(msg, err, "consent: label lookup failed");
	if ((s = sqlu_stmt(&st->conn, S_CSTATE_GET, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	sqlite3_bind_int64(s, 2, pid);
	if ((err = sqlu_step_row(&st->conn, s, "consent state", NULL, msg)) ==
	    VAERN_OK) {
		cs->last_used = column_time(s, 0);
		cs->expires_at = column_time(s, 1);
	}
	sqlu_reset(s);
	return err == VAERN_E_NOTFOUND ? VAERN_OK : err;
}

enum vaern_err
store_consent_state_put(struct store *st, int64_t subject, const char *purpose,
                        const struct store_consent_state *cs,
                        struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t pid;
	enum vaern_err err;

	if ((err = label_id(st, purpose, &pid, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_CSTATE_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, subject);
	sqlite3_bind_int64(s, 2, pid);
	bind_time(s, 3, cs->last_used);
	bind_time(s, 4, cs->expires_at);
	return sqlu_step_done(&st->conn, s, "consent state", msg);
}

enum vaern_err
store_consent_due(struct store *st, int64_t now, int64_t *subjects,
                  int64_t *purposes, size_t max, size_t *n,
                  struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc = SQLITE_DONE;

	*n = 0;
	if ((s = sqlu_stmt(&st->conn, S_CONSENT_DUE, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		subjects[*n] = sqlite3_column_int64(s, 0);
		purposes[*n] = sqlite3_column_int64(s, 1);
		(*n)++;
	}
	if (*n < max && rc != SQLITE_DONE)
		err = sqlu_fail(&st->conn, msg, "consent retention");
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_consent_delete(struct store *st, int64_t subject, int64_t purpose,
                     struct vaern_msg *msg)
{
	static const enum stmt_id ids[] = {S_CONSENT_DELETE, S_CSTATE_DELETE,
	                                   S_UNSUB_DELETE};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		sqlite3_stmt *s = sqlu_stmt(&st->conn, ids[i], msg);
		enum vaern_err err;

		if (s == NULL)
			return VAERN_E_STORE;
		sqlite3_bind_int64(s, 1, subject);
		sqlite3_bind_int64(s, 2, purpose);
		if ((err = sqlu_step_done(&st->conn, s, "consent", msg)) !=
		    VAERN_OK)
			return err;
	}
	return VAERN_OK;
}

enum vaern_err
store_unsubscribe_put(struct store *st, const unsigned char hash[32],
                      int64_t subject, const char *purpose,
                      struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t pid;
	enum vaern_err err;

	if ((err = label_id(st, purpose, &pid, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_UNSUB_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, subject);
	sqlite3_bind_int64(s, 3, pid);
	return sqlu_step_done(&st->conn, s, "unsubscribe token", msg);
}

enum vaern_err
store_unsubscribe_find(struct store *st, const unsigned char hash[32],
                       int64_t *subject, char purpose[STORE_LABEL_MAX + 1],
                       struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;
	int64_t pid = 0;

	if ((s = sqlu_stmt(&st->conn, S_UNSUB_FIND, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_blob(s, 1, hash, 32, SQLITE_STATIC);
	if ((err = sqlu_step_row(&st->conn, s, "unsubscribe token",
	                         "no such unsubscribe token", msg)) ==
	    VAERN_OK) {
		*subject = sqlite3_column_int64(s, 0);
		pid = sqlite3_column_int64(s, 1);
	}
	sqlu_reset(s);
	if (err == VAERN_OK)
		err = store_label_text(st, pid, purpose, msg);
	return err;
}

enum vaern_err
store_choice_insert(struct store *st, int64_t controller,
                    const unsigned char *visitor, const struct store_choice *c,
                    struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t src;
	enum vaern_err err;

	if ((err = label_id(st, c->source, &src, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_CHOICE_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, controller);
	sqlite3_bind_blob(s, 2, visitor, STORE_BLIND_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, c->at);
	sqlite3_bind_int(s, 4, c->statistics);
	sqlite3_bind_int(s, 5, c->marketing);
	sqlite3_bind_int64(s, 6, src);
	return sqlu_step_done(&st->conn, s, "cookie choice", msg);
}

enum vaern_err
store_choice_latest(struct store *st, int64_t controller,
                    const unsigned char *visitor, struct store_choice *c,
                    char source[STORE_LABEL_MAX + 1], struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;
	int64_t src = 0;

	if ((s = sqlu_stmt(&st->conn, S_CHOICE_LATEST, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, controller);
	sqlite3_bind_blob(s, 2, visitor, STORE_BLIND_BYTES, SQLITE_STATIC);
	if ((err = sqlu_step_row(&st->conn, s, "cookie choice",
	                         "the visitor has made no choice", msg)) ==
	    VAERN_OK) {
		c->at = sqlite3_column_int64(s, 0);
		c->statistics = sqlite3_column_int(s, 1);
		c->marketing = sqlite3_column_int(s, 2);
		src = sqlite3_column_int64(s, 3);
	}
	sqlu_reset(s);
	if (err == VAERN_OK &&
	    (err = store_label_text(st, src, source, msg)) == VAERN_OK)
		c->source = source;
	return err;
}

/* ---- visit data (AURA-RET-1, AURA-COOKIE-1, SHOP-MKT-2) ---------------- */

enum vaern_err
store_visit_insert(struct store *st, const struct store_visit *v,
                   struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int64_t rule;
	enum vaern_err err;

	if ((err = label_id(st, v->rule, &rule, msg)) != VAERN_OK)
		return err;
	if ((s = sqlu_stmt(&st->conn, S_VISIT_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, v->controller);
	sqlite3_bind_blob(s, 2, v->visitor, STORE_BLIND_BYTES, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, v->kind);
	sqlite3_bind_int64(s, 4, v->at);
	sqlite3_bind_int64(s, 5, v->expires_at);
	sqlite3_bind_int64(s, 6, rule);
	sqlite3_bind_blob(s, 7, v->ct, (int)v->ctlen, SQLITE_STATIC);
	return sqlu_step_done(&st->conn, s, "visit", msg);
}

enum vaern_err
store_visit_foreach(struct store *st, int64_t controller,
                    const unsigned char *visitor,
                    enum vaern_err (*fn)(void *arg,
                                         const struct store_visit *v),
                    void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	char rule[STORE_LABEL_MAX + 1];
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_VISIT_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, controller);
	sqlite3_bind_blob(s, 2, visitor, STORE_BLIND_BYTES, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_visit v;

		v.id = sqlite3_column_int64(s, 0);
		v.controller = controller;
		v.visitor = visitor;
		v.kind = sqlite3_column_int(s, 1);
		v.at = sqlite3_column_int64(s, 2);
		v.expires_at = sqlite3_column_int64(s, 3);
		if ((err = label_copy(st, sqlite3_column_int64(s, 4), rule,
		                      msg)) != VAERN_OK)
			break;
		v.rule = rule;
		v.ct = sqlite3_column_blob(s, 5);
		v.ctlen = (size_t)sqlite3_column_bytes(s, 5);
		if ((err = fn(arg, &v)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "visit", msg);
}

enum vaern_err
store_visit_delete(struct store *st, int64_t controller,
                   const unsigned char *visitor, int kind, int64_t *deleted,
                   struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	*deleted = 0;
	if ((s = sqlu_stmt(&st->conn, S_VISIT_DELETE_KIND, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, controller);
	sqlite3_bind_blob(s, 2, visitor, STORE_BLIND_BYTES, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, kind);
	if ((err = sqlu_step_done(&st->conn, s, "visit", msg)) == VAERN_OK)
		*deleted = sqlite3_changes64(st->conn.db);
	return err;
}

enum vaern_err
store_visit_take_due(struct store *st, int64_t now, size_t max,
                     void (*fn)(void *arg, int64_t rule), void *arg, size_t *n,
                     struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	int rc;

	*n = 0;
	if ((s = sqlu_stmt(&st->conn, S_VISIT_TAKE_DUE, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		fn(arg, sqlite3_column_int64(s, 0));
		(*n)++;
	}
	return sqlu_rows_end(&st->conn, s, rc, VAERN_OK, "visit retention",
	                     msg);
}

/* Calls fn(arg, rule, expires_at, count) for each row of s. */
static enum vaern_err
rule_counts(struct store *st, sqlite3_stmt *s, int with_time,
            enum vaern_err (*fn)(void *arg, int64_t rule, int64_t expires_at,
                                 int64_t count),
            void *arg, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((err = fn(arg, sqlite3_column_int64(s, 0),
		              with_time ? sqlite3_column_int64(s, 1)
		                        : STORE_NO_TIME,
		              sqlite3_column_int64(s, with_time ? 2 : 1))) !=
		    VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "visit retention", msg);
}

enum vaern_err
store_visit_due_count(struct store *st, int64_t now,
                      enum vaern_err (*fn)(void *arg, int64_t rule,
                                           int64_t expires_at, int64_t count),
                      void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_VISIT_DUE_COUNT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, now);
	return rule_counts(st, s, 0, fn, arg, msg);
}

enum vaern_err
store_visit_plan(struct store *st,
                 enum vaern_err (*fn)(void *arg, int64_t rule,
                                      int64_t expires_at, int64_t count),
                 void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_VISIT_PLAN, msg)) == NULL)
		return VAERN_E_STORE;
	return rule_counts(st, s, 1, fn, arg, msg);
}

enum vaern_err
store_visit_key_get(struct store *st, int64_t controller, int64_t expires_at,
                    unsigned char wrapped[STORE_WRAPPED_MAX], size_t *len,
                    int64_t *kek, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	*len = 0;
	if ((s = sqlu_stmt(&st->conn, S_VKEY_GET, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, controller);
	sqlite3_bind_int64(s, 2, expires_at);
	err = sqlu_step_row(&st->conn, s, "visit key", "no visit key", msg);
	if (err == VAERN_OK &&
	    !column_copy(s, 0, wrapped, STORE_WRAPPED_MAX, len))
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "a visit key is malformed");
	if (err == VAERN_OK)
		*kek = sqlite3_column_int64(s, 1);
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_visit_key_put(struct store *st, int64_t controller, int64_t expires_at,
                    const unsigned char *wrapped, size_t len, int64_t kek,
                    struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_VKEY_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, controller);
	sqlite3_bind_int64(s, 2, expires_at);
	sqlite3_bind_blob(s, 3, wrapped, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, kek);
	return sqlu_step_done(&st->conn, s, "visit key", msg);
}

enum vaern_err
store_visit_key_drop_due(struct store *st, int64_t now, int64_t *dropped,
                         struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	*dropped = 0;
	if ((s = sqlu_stmt(&st->conn, S_VKEY_DROP_DUE, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, now);
	if ((err = sqlu_step_done(&st->conn, s, "visit key", msg)) == VAERN_OK)
		*dropped = sqlite3_changes64(st->conn.db);
	return err;
}

/* ---- rights requests (issue 5) ---------------------------------------- */

/* Copies text column col (NULL: "") into buf of max bytes + 1. */
static int
column_word(sqlite3_stmt *s, int col, char *buf, size_t max)
{
	if (sqlite3_column_type(s, col) == SQLITE_NULL) {
		buf[0] = '\0';
		return 1;
	}
	return column_text_copy(s, col, buf, max);
}

static void
bind_text_or_null(sqlite3_stmt *s, int col, const char *t)
{
	if (t == NULL || t[0] == '\0')
		sqlite3_bind_null(s, col);
	else
		sqlite3_bind_text(s, col, t, -1, SQLITE_STATIC);
}

static int
request_from_row(sqlite3_stmt *s, struct store_request *r)
{
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	r->rowid = sqlite3_column_int64(s, 0);
	r->controller = sqlite3_column_int64(s, 1);
	r->received_at = sqlite3_column_int64(s, 6);
	r->due = (long)sqlite3_column_int64(s, 7);
	r->extended_months = sqlite3_column_int(s, 8);
	r->extended_at = column_time(s, 10);
	r->verified_at = column_time(s, 13);
	r->updated_at = sqlite3_column_int64(s, 18);
	return column_word(s, 2, r->id, STORE_REQUEST_ID_LEN) &&
	       column_word(s, 3, r->type, STORE_WORD_MAX) &&
	       column_copy(s, 4, r->subject, STORE_UID_BYTES, &n) &&
	       n == STORE_UID_BYTES &&
	       column_word(s, 5, r->channel, STORE_WORD_MAX) &&
	       column_word(s, 9, r->extension_reason, STORE_TEXT_MAX) &&
	       column_word(s, 11, r->status, STORE_WORD_MAX) &&
	       column_word(s, 12, r->status_reason, STORE_TEXT_MAX) &&
	       column_word(s, 14, r->verified_by, STORE_NAME_MAX) &&
	       column_word(s, 15, r->verify_method, STORE_WORD_MAX) &&
	       column_word(s, 16, r->attestation, STORE_TEXT_MAX) &&
	       column_word(s, 17, r->created_by, STORE_NAME_MAX);
}

enum vaern_err
store_request_insert(struct store *st, struct store_request *r,
                     struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_REQ_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, r->controller);
	sqlite3_bind_text(s, 2, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->type, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, r->subject, STORE_UID_BYTES, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->channel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, r->received_at);
	sqlite3_bind_int64(s, 7, r->due);
	sqlite3_bind_text(s, 8, r->status, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, r->created_by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 10, r->updated_at);
	if ((err = sqlu_step_done(&st->conn, s, "request", msg)) == VAERN_OK)
		r->rowid = sqlite3_last_insert_rowid(st->conn.db);
	return err;
}

enum vaern_err
store_request_get(struct store *st, int64_t controller, const char *id,
                  struct store_request *r, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_REQ_GET, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, controller);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	err = sqlu_step_row(&st->conn, s, "request", "no such request", msg);
	if (err == VAERN_OK && !request_from_row(s, r))
		err = vaern_fail(msg, VAERN_E_STORE, "request: malformed row");
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_request_scope_put(struct store *st, int64_t request,
                        const char *categories, struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_REQ_SCOPE_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, request);
	sqlite3_bind_text(s, 2, categories, -1, SQLITE_STATIC);
	return sqlu_step_done(&st->conn, s, "request scope", msg);
}

enum vaern_err
store_request_scope_get(struct store *st, int64_t request, char *categories,
                        size_t size, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;
	const char *t;

	if ((s = sqlu_stmt(&st->conn, S_REQ_SCOPE_GET, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, request);
	err = sqlu_step_row(&st->conn, s, "request scope", "no scope", msg);
	if (err == VAERN_OK) {
		t = (const char *)sqlite3_column_text(s, 0);
		if (t == NULL || strlen(t) >= size)
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "request scope: malformed row");
		else
			memcpy(categories, t, strlen(t) + 1);
	}
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_request_update(struct store *st, const struct store_request *r,
                     struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_REQ_UPDATE, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, r->rowid);
	sqlite3_bind_int64(s, 2, r->due);
	sqlite3_bind_int(s, 3, r->extended_months);
	bind_text_or_null(s, 4, r->extension_reason);
	bind_time(s, 5, r->extended_at);
	sqlite3_bind_text(s, 6, r->status, -1, SQLITE_STATIC);
	bind_text_or_null(s, 7, r->status_reason);
	bind_time(s, 8, r->verified_at);
	bind_text_or_null(s, 9, r->verified_by);
	bind_text_or_null(s, 10, r->verify_method);
	bind_text_or_null(s, 11, r->attestation);
	sqlite3_bind_int64(s, 12, r->updated_at);
	return sqlu_step_changed(&st->conn, s, "request", msg,
	                         "no such request");
}

enum vaern_err
store_request_foreach(struct store *st, int64_t controller, long due_by,
                      int open_only,
                      enum vaern_err (*fn)(void *arg,
                                           const struct store_request *r),
                      void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_REQ_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, controller);
	sqlite3_bind_int64(s, 2, due_by);
	sqlite3_bind_int(s, 3, open_only);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_request r;

		if (!request_from_row(s, &r)) {
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "request: malformed row");
			break;
		}
		if ((err = fn(arg, &r)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "request", msg);
}

enum vaern_err
store_transition_insert(struct store *st, int64_t request,
                        const struct store_transition *t, struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_TRANS_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, request);
	sqlite3_bind_int64(s, 2, t->at);
	bind_text_or_null(s, 3, t->from);
	sqlite3_bind_text(s, 4, t->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, t->actor, -1, SQLITE_STATIC);
	bind_text_or_null(s, 6, t->reason);
	return sqlu_step_done(&st->conn, s, "request transition", msg);
}

enum vaern_err
store_transition_foreach(struct store *st, int64_t request,
                         enum vaern_err (*fn)(void *arg,
                                              const struct store_transition *t),
                         void *arg, struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_TRANS_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, request);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_transition t;

		t.seq = sqlite3_column_int64(s, 0);
		t.at = sqlite3_column_int64(s, 1);
		t.from = (const char *)sqlite3_column_text(s, 2);
		t.to = (const char *)sqlite3_column_text(s, 3);
		t.actor = (const char *)sqlite3_column_text(s, 4);
		t.reason = (const char *)sqlite3_column_text(s, 5);
		if (t.to == NULL || t.actor == NULL) {
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "request transition: malformed row");
			break;
		}
		if ((err = fn(arg, &t)) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "request transition", msg);
}

enum vaern_err
store_code_insert(struct store *st, int64_t request, struct store_code *c,
                  struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_CODE_INSERT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, request);
	sqlite3_bind_blob(s, 2, c->hash, sizeof(c->hash), SQLITE_STATIC);
	sqlite3_bind_text(s, 3, c->contact, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, c->created_at);
	sqlite3_bind_int64(s, 5, c->expires_at);
	/* RETURNING seq: the insert is done by the first step */
	return sqlu_step_int64(&st->conn, s, &c->seq, "verification code", msg);
}

enum vaern_err
store_code_latest(struct store *st, int64_t request, struct store_code *c,
                  struct vaern_msg *msg)
{
	sqlite3_stmt *s;
	enum vaern_err err;
	size_t n = 0;

	if ((s = sqlu_stmt(&st->conn, S_CODE_LATEST, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, request);
	err = sqlu_step_row(&st->conn, s, "verification code",
	                    "no verification code was sent for this request",
	                    msg);
	if (err == VAERN_OK) {
		c->seq = sqlite3_column_int64(s, 0);
		c->created_at = sqlite3_column_int64(s, 3);
		c->expires_at = sqlite3_column_int64(s, 4);
		c->attempts = sqlite3_column_int(s, 5);
		c->used_at = column_time(s, 6);
		if (!column_copy(s, 1, c->hash, sizeof(c->hash), &n) ||
		    n != sizeof(c->hash) ||
		    !column_word(s, 2, c->contact, STORE_WORD_MAX))
			err = vaern_fail(msg, VAERN_E_STORE,
			                 "verification code: malformed row");
	}
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_code_count(struct store *st, int64_t request, int64_t *n,
                 struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_CODE_COUNT, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, request);
	return sqlu_step_int64(&st->conn, s, n, "verification code", msg);
}

enum vaern_err
store_code_update(struct store *st, int64_t request, const struct store_code *c,
                  struct vaern_msg *msg)
{
	sqlite3_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_CODE_UPDATE, msg)) == NULL)
		return VAERN_E_STORE;
	sqlite3_bind_int64(s, 1, request);
	sqlite3_bind_int64(s, 2, c->seq);
	sqlite3_bind_int(s, 3, c->attempts);
	bind_time(s, 4, c->used_at);
	return sqlu_step_done(&st->conn, s, "verification code", msg);
}
