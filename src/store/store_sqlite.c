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
#include "store_incident.h"
#include "store_sqlite_engine_internal.h"

#include "db.h"
#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Issue 14: a create's facts in one statement, up to STORE_FACT_ROWS_MAX
 * rows (S_FACT_INSERT + n - 1 inserts n). */
#define FACT_INSERT                                                            \
	"INSERT INTO fact(subject, id, category, purpose, source, "            \
	"collected_at,"                                                        \
	" provided, expires_at, ct, rule) VALUES"
#define FACT_ROW_1 "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
#define FACT_ROW_2 "(?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
#define FACT_ROW_3 "(?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)"
#define FACT_ROW_4 "(?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40)"
#define FACT_ROW_5 "(?41, ?42, ?43, ?44, ?45, ?46, ?47, ?48, ?49, ?50)"
#define FACT_ROW_6 "(?51, ?52, ?53, ?54, ?55, ?56, ?57, ?58, ?59, ?60)"
#define FACT_ROW_7 "(?61, ?62, ?63, ?64, ?65, ?66, ?67, ?68, ?69, ?70)"
#define FACT_ROW_8 "(?71, ?72, ?73, ?74, ?75, ?76, ?77, ?78, ?79, ?80)"

static const char *const stmt_sql[S_COUNT_] = {
        [S_BEGIN] = "BEGIN IMMEDIATE",
        [S_COMMIT] = "COMMIT",
        [S_ROLLBACK] = "ROLLBACK",
        [S_READ_BEGIN] = "BEGIN DEFERRED",
        [S_LABEL_GET] = "SELECT id FROM label WHERE text = ?1",
        [S_LABEL_PUT] = "INSERT INTO label(text) VALUES (?1)"
                        " ON CONFLICT DO NOTHING",
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
                              " CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)",
        [S_POLICY_GEN] = "SELECT CAST(value AS INTEGER) FROM meta"
                         " WHERE key = 'policy_generation'",
        [S_SUBJ_INSERT] = "INSERT INTO subject(controller, uid,"
                          " blinds, state, created_at)"
                          " VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
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
        [S_SUBJ_DELETE_CARD_WARNINGS] = "DELETE FROM card_warning"
                                        " WHERE subject = ?1",
        [S_CARD_WARNING_GET] = "SELECT sent_at FROM card_warning"
                               " WHERE subject = ?1 AND mark = ?2",
        [S_CARD_WARNING_PUT] = "INSERT INTO card_warning(subject, mark,"
                               " sent_at) VALUES (?1, ?2, ?3)",
        [S_CARD_WARNING_DELETE] = "DELETE FROM card_warning"
                                  " WHERE subject = ?1 AND mark = ?2",
        [S_SUBJ_COUNT] = "SELECT count(*) FROM subject WHERE controller = ?1",
        [S_SUBJ_OF_CONTROLLER] = "SELECT id FROM subject WHERE controller = ?1"
                                 " ORDER BY id",
        [S_ID_CLEAR] = "DELETE FROM identifier WHERE controller = ?1",
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
        [S_FACT_INSERT] = FACT_INSERT " " FACT_ROW_1,
        [S_FACT_INSERT2] = FACT_INSERT " " FACT_ROW_1 ", " FACT_ROW_2,
        [S_FACT_INSERT3] =
                FACT_INSERT " " FACT_ROW_1 ", " FACT_ROW_2 ", " FACT_ROW_3,
        [S_FACT_INSERT4] = FACT_INSERT " " FACT_ROW_1 ", " FACT_ROW_2
                                       ", " FACT_ROW_3 ", " FACT_ROW_4,
        [S_FACT_INSERT5] =
                FACT_INSERT " " FACT_ROW_1 ", " FACT_ROW_2 ", " FACT_ROW_3
                            ", " FACT_ROW_4 ", " FACT_ROW_5,
        [S_FACT_INSERT6] =
                FACT_INSERT " " FACT_ROW_1 ", " FACT_ROW_2 ", " FACT_ROW_3
                            ", " FACT_ROW_4 ", " FACT_ROW_5 ", " FACT_ROW_6,
        [S_FACT_INSERT7] = FACT_INSERT
        " " FACT_ROW_1 ", " FACT_ROW_2 ", " FACT_ROW_3 ", " FACT_ROW_4
        ", " FACT_ROW_5 ", " FACT_ROW_6 ", " FACT_ROW_7,
        [S_FACT_INSERT8] = FACT_INSERT
        " " FACT_ROW_1 ", " FACT_ROW_2 ", " FACT_ROW_3 ", " FACT_ROW_4
        ", " FACT_ROW_5 ", " FACT_ROW_6 ", " FACT_ROW_7 ", " FACT_ROW_8,
        [S_FACT_MAX] = "SELECT max(id) FROM fact WHERE subject = ?1",
        [S_FACT_UPDATE] = "UPDATE fact SET ct = ?3, collected_at = ?4,"
                          " source = ?5 WHERE subject = ?1 AND id = ?2",
        [S_FACT_LIST] = "SELECT subject, id, category, purpose, source,"
                        " collected_at, provided, expires_at, ct"
                        " FROM fact WHERE subject = ?1 ORDER BY id",
        [S_FACT_GET] = "SELECT subject, id, category, purpose, source,"
                       " collected_at, provided, expires_at, ct"
                       " FROM fact WHERE subject = ?1 AND id = ?2",
        [S_EVENT_INSERT] = "INSERT INTO event(subject, kind, at)"
                           " VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
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
                           " ?5, ?6) RETURNING id",
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
                           " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                           " RETURNING id",
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
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
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
        [S_CTEXT_PUT] = "INSERT INTO consent_text(hash, text)"
                        " VALUES (?1, ?2) ON CONFLICT DO NOTHING",
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
        /* Issue 18: the data keys of the traffic store's days. */
        [S_TKEY_GET] = "SELECT wrapped, kek FROM ks.traffic_key"
                       " WHERE controller = ?1 AND day = ?2",
        [S_TKEY_PUT] = "INSERT INTO ks.traffic_key(controller, day, kek,"
                       " wrapped) VALUES (?1, ?2, ?3, ?4)",
        [S_TKEY_DROP_BEFORE] = "DELETE FROM ks.traffic_key"
                               " WHERE controller = ?1 AND day < ?2",
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
                         " ?8, ?9, ?10) RETURNING id",
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
        /* Issue 16: the portal's session, found by its token's hash. */
        [S_PORTAL_SESSION_GET] = "SELECT id, controller, subject, proof,"
                                 " created_at, seen_at, ended_at"
                                 " FROM portal_session WHERE token_hash = ?1",
};

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
	struct db_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_LABEL_GET, msg)) == NULL)
		return -1;
	db_bind_text(s, 1, text, (int)len);
	if ((err = sqlu_step_row(&st->conn, s, "label", NULL, msg)) == VAERN_OK)
		*id = db_column_int64(s, 0);
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
enum vaern_err
store_sqlite_label_find(struct store *st, const char *text, int create,
                        int64_t *id, struct vaern_msg *msg)
{
	size_t len = strlen(text), slot;
	struct db_stmt *p;
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
	db_bind_text(p, 1, text, (int)len);
	if (db_step(p) != DB_DONE) {
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

enum vaern_err
store_sqlite_label_id(struct store *st, const char *text, int64_t *id,
                      struct vaern_msg *msg)
{
	return store_sqlite_label_find(st, text, 1, id, msg);
}

/* Copies the text of label id into st->label_text. */
const char *
store_sqlite_label_text(struct store *st, int64_t id, struct vaern_msg *msg)
{
	struct db_stmt *s;
	const char *result = NULL;
	int rc;

	if (id >= 0 && id < LABEL_CACHE && st->by_id[id] != NULL)
		return st->by_id[id];
	if ((s = sqlu_stmt(&st->conn, S_LABEL_TEXT, msg)) == NULL)
		return NULL;
	db_bind_int64(s, 1, id);
	rc = db_step(s);
	if (rc != DB_ROW && rc != DB_DONE) {
		/* busy, I/O, corruption: say that, not "missing" */
		(void)sqlu_fail(&st->conn, msg, "read a label");
		sqlu_reset(s);
		return NULL;
	}
	if (rc == DB_ROW) {
		const char *t = (const char *)db_column_text(s, 0);
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
	struct db_stmt *s = NULL;
	struct db *tmp = NULL;
	int rc;

	n = snprintf(kspath, sizeof(kspath), "%.*s/%s", dirlen,
	             slash != NULL ? path : ".", STORE_KEYSTORE_FILE);
	if (n < 0 || (size_t)n >= sizeof(kspath))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the data directory path is too long");
	*made = access(kspath, F_OK) != 0;
	if (*made && !create) {
		int v = store_sqlite_schema_version(st->conn.db);

		if (v == 0 || v >= 5)
			return vaern_fail(msg, VAERN_E_NOTFOUND,
			                  "%s is missing: it holds the wrapped "
			                  "keys; restore it from a keystore "
			                  "backup (docs/operations.md)",
			                  kspath);
		rc = db_open_sqlite(kspath,
		                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
		                    0, &tmp);
		db_close(tmp);
		if (rc != DB_OK)
			return vaern_fail(msg, VAERN_E_IO, "cannot create %s",
			                  kspath);
	}
	rc = db_prepare(st->conn.db, "ATTACH ?1 AS ks", 0, &s);
	if (rc == DB_OK) {
		db_bind_text(s, 1, kspath, -1);
		rc = db_step(s);
	}
	db_finalize(s);
	if (rc != DB_DONE && rc != DB_OK)
		return sqlu_fail(&st->conn, msg, "keystore");
	if (db_exec(st->conn.db,
	            "PRAGMA ks.journal_mode=WAL;"
	            "PRAGMA ks.synchronous=FULL;"
	            "PRAGMA ks.secure_delete=ON;"
	            "PRAGMA ks.cache_size=-65536;",
	            NULL) != DB_OK)
		return sqlu_fail(&st->conn, msg, "keystore");
	return VAERN_OK;
}

/* A keystore from another vault would turn every subject into noise. */
static enum vaern_err
ks_check_vault(struct store *st, struct vaern_msg *msg)
{
	struct db_stmt *s = NULL;
	int same = 0;

	if (db_prepare(st->conn.db,
	               "SELECT (SELECT value FROM ks.meta"
	               " WHERE key = 'vault_id') IS (SELECT value"
	               " FROM main.meta WHERE key = 'vault_id')",
	               0, &s) == DB_OK &&
	    db_step(s) == DB_ROW)
		same = db_column_int(s, 0);
	db_finalize(s);
	if (!same)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "%s belongs to another vault than %s",
		                  STORE_KEYSTORE_FILE, "vaern.db");
	return VAERN_OK;
}

struct db *
store_sqlite_db(struct store *st)
{
	return st->conn.db;
}

/* A store written by a newer vaern is refused before anything touches
 * it (issue 14; the schema set-up checks again under its lock). */
static enum vaern_err
schema_not_newer(struct store *st, struct vaern_msg *msg)
{
	int v = store_sqlite_schema_version(st->conn.db);

	if (v > STORE_SCHEMA_VERSION)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the store is at schema version %d, newer "
		                  "than this vaern's %d: upgrade vaern",
		                  v, STORE_SCHEMA_VERSION);
	return VAERN_OK;
}

/*
 * The PostgreSQL engine (issue 14): the connection string is in the data
 * directory's DB_STORE_CONF; the keystore is the schema "ks" of the same
 * database (so a subject and its key commit together), and the schema is
 * made or checked at the first open.
 */
static enum vaern_err
open_pg(struct store *st, const char *path, struct vaern_msg *msg)
{
	char conninfo[1024];
	char *errmsg = NULL;
	enum vaern_err err = VAERN_OK;
	int on = db_store_conf(path, 0, conninfo, sizeof(conninfo));

	if (on < 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "%s is unreadable or open to others: it must "
		                  "be a file of mode 0600 holding a PostgreSQL "
		                  "connection string",
		                  DB_STORE_CONF);
	err = sqlu_open_pg(&st->conn, conninfo, NULL, msg);
	explicit_bzero(conninfo, sizeof(conninfo));
	if (err != VAERN_OK)
		return err;
	db_busy_timeout(st->conn.db, 5000);
	if ((err = schema_not_newer(st, msg)) != VAERN_OK)
		return err;
	if (store_pg_schema_setup(st->conn.db, &errmsg) != DB_OK)
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "cannot set up the PostgreSQL store: %s",
		                 errmsg ? errmsg : db_errmsg(st->conn.db));
	db_free(errmsg);
	return err;
}

enum vaern_err
store_open_sqlite(const char *path, int create, struct store **out,
                  struct vaern_msg *msg)
{
	int ks_made = 0;
	enum vaern_err err = VAERN_OK;
	struct store *st;
	char *errmsg = NULL;
	char probe[8];
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
	if (db_store_conf(path, 0, probe, sizeof(probe)) != 0) {
		explicit_bzero(probe, sizeof(probe));
		err = open_pg(st, path, msg);
		goto done;
	}
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	if ((err = sqlu_open(&st->conn, path, flags, 5000, msg)) != VAERN_OK)
		goto done;
	/*
	 * WAL: readers do not block the writer. synchronous=FULL: a commit
	 * that returned is on disk, power loss included ("loses nothing").
	 * secure_delete: erased rows do not linger in free pages.
	 */
	if (db_exec(st->conn.db,
	            "PRAGMA journal_mode=WAL;"
	            "PRAGMA synchronous=FULL;"
	            "PRAGMA secure_delete=ON;"
	            "PRAGMA foreign_keys=OFF;"
	            "PRAGMA temp_store=MEMORY;"
	            "PRAGMA cache_size=-65536;",
	            &errmsg) != DB_OK) {
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "cannot set up the database %s: %s", path,
		                 errmsg ? errmsg : "unknown error");
		goto done;
	}
	if ((err = schema_not_newer(st, msg)) != VAERN_OK)
		goto done;
	if ((err = ks_attach(st, path, create, &ks_made, msg)) != VAERN_OK)
		goto done;
	if (store_sqlite_schema_setup(st->conn.db, ks_made, &errmsg) != DB_OK) {
		err = vaern_fail(msg, VAERN_E_STORE,
		                 "cannot set up the database %s: %s", path,
		                 errmsg ? errmsg : "unknown error");
		goto done;
	}
	err = ks_check_vault(st, msg);
done:
	db_free(errmsg);
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

struct sqlu_conn *
store_sqlite_conn(struct store *st)
{
	return &st->conn;
}

enum vaern_err
store_checkpoint(struct store *st, struct vaern_msg *msg)
{
	int logged = 0, done = 0;

	assert(!st->in_tx);
	store_read_end(st);
	if (db_engine(st->conn.db) != DB_SQLITE)
		return VAERN_OK; /* the server's own checkpoints */
	if (sqlite3_wal_checkpoint_v2(st->conn.db->lite, NULL,
	                              SQLITE_CHECKPOINT_TRUNCATE, &logged,
	                              &done) != DB_OK)
		return sqlu_fail(&st->conn, msg, "checkpoint");
	return VAERN_OK;
}

void
store_set_mmap(struct store *st, long long bytes)
{
	char sql[64];

	if (db_engine(st->conn.db) != DB_SQLITE)
		return;
	(void)snprintf(sql, sizeof(sql), "PRAGMA mmap_size=%lld", bytes);
	(void)db_exec(st->conn.db, sql, NULL);
}

void
store_set_autocheckpoint(struct store *st, int pages)
{
	if (db_engine(st->conn.db) == DB_SQLITE)
		(void)sqlite3_wal_autocheckpoint(st->conn.db->lite, pages);
}

/* SQLite's word after each commit, per database: its log's length.
 * Setting the hook ends the automatic checkpoints. */
static int
store_log_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *st = arg;

	(void)db;
	st->log_frames[strcmp(name, "main") == 0 ? 0 : 1] = frames;
	return SQLITE_OK;
}

int
store_checkpoint_apart(struct store *st, int apart)
{
	if (db_engine(st->conn.db) != DB_SQLITE)
		return 0; /* PostgreSQL checkpoints on its own */
	if (!apart) {
		/* Replaces the hook: SQLite's own checkpoints again. */
		store_set_autocheckpoint(st, STORE_AUTOCHECKPOINT_DEFAULT);
		st->log_frames[0] = st->log_frames[1] = 0;
		return 1;
	}
	(void)sqlite3_wal_hook(st->conn.db->lite, store_log_hook, st);
	return 1;
}

int
store_log_frames(const struct store *st)
{
	return st->log_frames[0] > st->log_frames[1] ? st->log_frames[0]
	                                             : st->log_frames[1];
}

enum vaern_err
store_checkpoint_passive(struct store *st, struct vaern_msg *msg)
{
	int rc;

	assert(!st->in_tx);
	store_read_end(st);
	if (db_engine(st->conn.db) != DB_SQLITE)
		return VAERN_OK; /* the server's own checkpoints */
	rc = sqlite3_wal_checkpoint_v2(st->conn.db->lite, NULL,
	                               SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
		return sqlu_fail(&st->conn, msg, "checkpoint");
	return VAERN_OK;
}

int
store_log_restart(struct store *st, int wait_ms)
{
	assert(!st->in_tx);
	store_read_end(st);
	return db_log_restart(st->conn.db, wait_ms);
}

void
store_set_cache_kib(struct store *st, long kib)
{
	char sql[64];

	if (db_engine(st->conn.db) != DB_SQLITE)
		return;
	(void)snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%ld", kib);
	(void)db_exec(st->conn.db, sql, NULL);
}

enum vaern_err
store_lock_try(struct store *st, int64_t key, int *got, struct vaern_msg *msg)
{
	struct db_stmt *s = NULL;
	enum vaern_err err = VAERN_OK;

	*got = 1;
	if (db_engine(st->conn.db) == DB_SQLITE)
		return VAERN_OK;
	if (db_prepare(st->conn.db, "SELECT pg_try_advisory_lock(?1)", 0, &s) !=
	    DB_OK)
		return sqlu_fail(&st->conn, msg, "lock");
	db_bind_int64(s, 1, key);
	if (db_step(s) == DB_ROW)
		*got = db_column_int64(s, 0) != 0;
	else
		err = sqlu_fail(&st->conn, msg, "lock");
	db_finalize(s);
	return err;
}

void
store_lock_release(struct store *st, int64_t key)
{
	struct db_stmt *s = NULL;

	if (db_engine(st->conn.db) == DB_SQLITE)
		return;
	if (db_prepare(st->conn.db, "SELECT pg_advisory_unlock(?1)", 0, &s) ==
	    DB_OK) {
		db_bind_int64(s, 1, key);
		(void)db_step(s);
	}
	db_finalize(s);
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
	(void)db_exec(st->conn.db, "ROLLBACK TO one; RELEASE one", NULL);
	label_cache_clear(st);
}

int
store_busy(struct store *st)
{
	return st->conn.db != NULL && db_errkind(st->conn.db) == DB_EK_BUSY;
}

static enum vaern_err
store_begin_how(struct store *st, enum db_begin how, struct vaern_msg *msg)
{
	enum vaern_err err;

	assert(!st->in_tx);
	/* A write ends the read snapshot: it sees the latest data. */
	store_read_end(st);
	if ((err = sqlu_begin(&st->conn, S_BEGIN, how, DB_LOCK_STORE, msg)) ==
	    VAERN_OK)
		st->in_tx = 1;
	return err;
}

enum vaern_err
store_begin(struct store *st, struct vaern_msg *msg)
{
	return store_begin_how(st, DB_WRITE, msg);
}

enum vaern_err
store_begin_shared(struct store *st, struct vaern_msg *msg)
{
	return store_begin_how(st, DB_WRITE_SHARED, msg);
}

enum vaern_err
store_read_begin(struct store *st, struct vaern_msg *msg)
{
	enum vaern_err err;

	if (st->in_tx || st->in_read)
		return VAERN_OK;
	if ((err = sqlu_begin(&st->conn, S_READ_BEGIN, DB_READ, 0, msg)) ==
	    VAERN_OK)
		st->in_read = 1;
	return err;
}

void
store_read_end(struct store *st)
{
	struct db_stmt *s;

	if (!st->in_read)
		return;
	st->in_read = 0;
	if ((s = sqlu_stmt(&st->conn, S_COMMIT, NULL)) == NULL ||
	    db_step(s) != DB_DONE)
		(void)db_exec(st->conn.db, "ROLLBACK", NULL);
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
	(void)db_exec(st->conn.db, "ROLLBACK", NULL);
	st->in_tx = 0;
	label_cache_clear(st);
}

enum vaern_err
store_controller_put(struct store *st, const char *name,
                     const char *policy_text, size_t len, int64_t loaded_at,
                     int64_t *rowid, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;

	if ((s = sqlu_stmt(&st->conn, S_CTRL_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, name, -1);
	db_bind_text(s, 2, policy_text, (int)len);
	db_bind_int64(s, 3, loaded_at);
	if (db_step(s) == DB_ROW) {
		*rowid = db_column_int64(s, 0);
		if (db_step(s) != DB_DONE)
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
	struct db_stmt *s;
	enum vaern_err err;

	*out = 0;
	if ((s = sqlu_stmt(&st->conn, S_POLICY_GEN, msg)) == NULL)
		return VAERN_E_STORE;
	err = sqlu_step_row(&st->conn, s, "policy generation", NULL, msg);
	if (err == VAERN_OK)
		*out = db_column_int64(s, 0);
	else if (err == VAERN_E_NOTFOUND)
		err = VAERN_OK; /* no policy loaded since the counter came */
	sqlu_reset(s);
	return err;
}

enum vaern_err
store_controller_get(struct store *st, const char *name, int64_t *rowid,
                     char **policy_text, size_t *len, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	*policy_text = NULL;
	*len = 0;
	if ((s = sqlu_stmt(&st->conn, S_CTRL_GET, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, name, -1);
	err = sqlu_step_row(&st->conn, s, "controller", NULL, msg);
	if (err == VAERN_OK) {
		const char *t = (const char *)db_column_text(s, 1);
		size_t n = (size_t)db_column_bytes(s, 1);

		*rowid = db_column_int64(s, 0);
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
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_CTRL_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	while ((rc = db_step(s)) == DB_ROW) {
		if ((err = fn(arg, (const char *)db_column_text(s, 0),
		              db_column_int64(s, 1))) != VAERN_OK)
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
	struct db_stmt *s;
	enum vaern_err err;

	if (old_digest != NULL) {
		if ((s = sqlu_stmt(&st->conn, S_PVER_BACKFILL, msg)) == NULL)
			return VAERN_E_STORE;
		db_bind_text(s, 1, name, -1);
		db_bind_text(s, 2, old_digest, -1);
		err = sqlu_step_done(&st->conn, s, "policy version", msg);
		if (err != VAERN_OK)
			return err;
	}
	if ((s = sqlu_stmt(&st->conn, S_PVER_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, name, -1);
	db_bind_text(s, 2, digest, -1);
	db_bind_text(s, 3, policy_text, (int)len);
	db_bind_int64(s, 4, loaded_at);
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
	struct db_stmt *s;
	enum vaern_err err = VAERN_OK;
	int rc;

	if ((s = sqlu_stmt(&st->conn, S_PVER_LIST, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, name, -1);
	while ((rc = db_step(s)) == DB_ROW) {
		if ((err = fn(arg, (const char *)db_column_text(s, 0),
		              db_column_int64(s, 1),
		              (const char *)db_column_text(s, 2),
		              (size_t)db_column_bytes(s, 2))) != VAERN_OK)
			break;
	}
	return sqlu_rows_end(&st->conn, s, rc, err, "policy versions", msg);
}

enum vaern_err
store_policy_version_get(struct store *st, const char *name, const char *prefix,
                         int64_t at, char digest[STORE_DIGEST_HEX],
                         char **policy_text, size_t *len, struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	*policy_text = NULL;
	*len = 0;
	digest[0] = '\0';
	if ((s = sqlu_stmt(&st->conn, prefix != NULL ? S_PVER_GET : S_PVER_AT,
	                   msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, name, -1);
	if (prefix != NULL)
		db_bind_text(s, 2, prefix, -1);
	else
		db_bind_int64(s, 2, at);
	err = sqlu_step_row(&st->conn, s, "policy version", NULL, msg);
	if (err == VAERN_OK) {
		const char *d = (const char *)db_column_text(s, 0);
		const char *t = (const char *)db_column_text(s, 1);
		size_t n = (size_t)db_column_bytes(s, 1);

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
		       db_step(s) == DB_ROW) {
			d = (const char *)db_column_text(s, 0);
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
store_meta_get(struct store *st, const char *key, char *buf, size_t bufsz,
               struct vaern_msg *msg)
{
	struct db_stmt *s;
	enum vaern_err err;

	if ((s = sqlu_stmt(&st->conn, S_META_GET, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, key, -1);
	err = sqlu_step_row(&st->conn, s, "meta", NULL, msg);
	if (err == VAERN_OK) {
		const char *t = (const char *)db_column_text(s, 0);
		size_t n = (size_t)db_column_bytes(s, 0);

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
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_META_PUT, msg)) == NULL)
		return VAERN_E_STORE;
	db_bind_text(s, 1, key, -1);
	db_bind_text(s, 2, value, -1);
	return sqlu_step_done(&st->conn, s, "meta", msg);
}

enum vaern_err
store_audit_head_pending(struct store *st, struct vaern_msg *msg)
{
	static const unsigned char zeros[AUDIT_HASH_BYTES];
	struct db_stmt *s = sqlu_stmt(&st->conn, S_AUDIT_HEAD_PENDING, msg);

	if (s == NULL)
		return VAERN_E_STORE;
	db_bind_blob(s, 1, zeros, sizeof(zeros));
	return sqlu_step_done(&st->conn, s, "audit head", msg);
}

enum vaern_err
store_audit_outbox_add(struct store *st, const struct audit_row *r, int64_t *id,
                       struct vaern_msg *msg)
{
	struct db_stmt *s;

	if ((s = sqlu_stmt(&st->conn, S_AUDIT_OUTBOX, msg)) == NULL)
		return VAERN_E_STORE;
	audit_row_bind_entry(s, 1, r);
	audit_bind_text(s, 12, r->policy);
	return sqlu_step_int64(&st->conn, s, id, "audit outbox", msg);
}

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
	return store_sqlite_label_id(st, text, id, msg);
}
