#!/usr/bin/env python3
"""Black-box tests of rights requests (issue 5): the real `vaern` CLI with
concrete dates (the global --as-of clock) and the real `vaern serve` on a
loopback port (the Server helper of test_api.py), both on one data
directory.

Clauses of mission/CLAUSES.md proved here, each named in the test:
  GDPR-12        due one calendar month after receipt; one extension by up
                 to two months with a reason; near and past due listed;
                 every transition audited; illegal transitions refused
  AOPT-ACCESS-1  identity verified before anything: a one-time code sent to
                 a contact on record (single use, expiring, attempts
                 limited, only a hash stored) or a staff attestation
  AURA-RIGHTS-1  a request names its controller; one controller never sees
                 another's subjects or requests
  GDPR-17 / AOPT-ERASE-1  a verified erasure request removes everything
                 but what a legal obligation holds, and says what was kept,
                 under which law, until when; CEK-HOLD-1 refuses it
  GDPR-15 / GDPR-20 / TEL-CAT-3 / *-COMPLAIN-1  the access report: data,
                 purposes with basis, recipients, source, retention date,
                 rights and the authority; portability: what the person
                 provided
and the OpenDSR v2 field names beside the native API.

Standard library only.
"""
import glob
import json
import os
import re
import sqlite3

import dbpeek
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_api as api  # noqa: E402  (the Server helper, run_vaern)

VAERN = os.environ.get("VAERN_BIN")
ROOT = api.ROOT
EXAMPLE = os.path.join(ROOT, "policies", "example.yaml")
AURA = os.path.join(ROOT, "policies", "aura-fiber.yaml")
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}"
                  r"-[0-9a-f]{12}$")
SERVER_NOW = "2026-03-02T09:00:00Z"


def customer(email, name="Anna Hansen"):
    return json.dumps({"purpose": "customer_admin",
                       "facts": [{"category": "name", "value": name},
                                 {"category": "email", "value": email}]})


class RightsBase(unittest.TestCase):
    """A data directory with example (and aura-fiber) loaded."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-rights-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = os.path.join(self._tmp.name, "data")
        self.db = os.path.join(self.dir, "vaern.db")
        r = self.vaern("init", "--policy", EXAMPLE, "--policy", AURA)
        self.assertEqual(r.rc, EXIT_OK, r)

    def vaern(self, *args, stdin=None, as_of=None):
        pre = ["--data", self.dir]
        if as_of is not None:
            pre += ["--as-of", as_of]
        p = subprocess.run([VAERN, *pre, *args], input=stdin,
                           capture_output=True, env=api.BASE_ENV,
                           timeout=60)
        return api.Result(p)

    def subject(self, email, as_of="2026-01-01"):
        r = self.vaern("subject", "add", "--controller", "example",
                       "--json", "-", stdin=customer(email).encode(),
                       as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()["subject"]

    def add(self, sid, as_of, type_="access", channel="email"):
        r = self.vaern("requests", "add", "--controller", "example",
                       "--type", type_, "--subject", sid, "--channel",
                       channel, as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        doc = r.json()
        self.assertRegex(doc["id"], UUID)
        return doc

    def req(self, *args, as_of=None, stdin=None):
        return self.vaern("requests", *args, "--controller", "example",
                          as_of=as_of, stdin=stdin)

    def sql(self, query, args=()):
        con = dbpeek.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def rows(self):
        return {t: self.sql("SELECT count(*) FROM %s" % t)[0][0]
                for t in ("request", "request_transition", "request_code")}

    def spooled_code(self, request_id):
        """The latest code the outbox spooled for the request."""
        files = sorted(glob.glob(os.path.join(self.dir, "outbox",
                                              "*%s*.json" % request_id)),
                       key=os.path.basename)  # named in the order written
        self.assertTrue(files, "nothing spooled")
        for f in files:
            self.assertEqual(os.stat(f).st_mode & 0o077, 0, f)
        with open(files[-1]) as f:
            msg = json.load(f)
        return re.search(r" is (\d{8})\.", msg["body"]).group(1), msg


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class DueDateTest(RightsBase):
    """GDPR-12 through the CLI, on concrete dates."""

    def test_GDPR_12_due_one_calendar_month_31_jan_to_28_feb(self):
        sid = self.subject("a@example.dk")
        doc = self.add(sid, "2026-01-31T15:00:00Z")
        self.assertEqual(doc["due_date"], "2026-02-28")
        self.assertEqual(doc["status"], "received")
        self.assertEqual(doc["received_at"], "2026-01-31T15:00:00Z")
        self.assertEqual(doc["days_left"], 28)

    def test_GDPR_12_due_leap_year_and_30_nov(self):
        sid = self.subject("b@example.dk", as_of="2023-01-01")
        self.assertEqual(self.add(sid, "2024-01-31")["due_date"],
                         "2024-02-29")
        self.assertEqual(self.add(sid, "2026-11-30")["due_date"],
                         "2026-12-30")

    def test_GDPR_12_extension_two_months_from_31_jan_to_30_apr(self):
        sid = self.subject("c@example.dk")
        rid = self.add(sid, "2026-01-31")["id"]
        r = self.req("extend", rid, "--months", "2", "--reason",
                     "many requests this month", as_of="2026-02-20")
        self.assertEqual(r.rc, EXIT_OK, r)
        doc = r.json()
        self.assertEqual(doc["due_date"], "2026-04-30")
        self.assertEqual(doc["due_date_original"], "2026-02-28")
        self.assertEqual(doc["status"], "extended")
        self.assertEqual(doc["extension"]["months"], 2)
        self.assertEqual(doc["extension"]["reason"],
                         "many requests this month")

    def test_GDPR_12_extension_once_only_beyond_two_months_refused(self):
        sid = self.subject("d@example.dk")
        rid = self.add(sid, "2026-01-31")["id"]
        before = self.rows()
        for months, mention in (("3", "not 3"), ("0", "not 0"),
                                ("-1", "not -1")):
            r = self.req("extend", rid, "--months", months, "--reason",
                         "x", as_of="2026-02-10")
            self.assertEqual(r.rc, EXIT_REFUSED, r)
            self.assertIn(mention, r.err)
        # No reason: usage; the reason is told to the person.
        r = self.req("extend", rid, "--months", "1", as_of="2026-02-10")
        self.assertEqual(r.rc, EXIT_USAGE, r)
        self.assertEqual(self.rows(), before)
        r = self.req("extend", rid, "--months", "1", "--reason", "load",
                     as_of="2026-02-10")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["due_date"], "2026-03-31")
        before = self.rows()
        r = self.req("extend", rid, "--months", "1", "--reason", "again",
                     as_of="2026-02-11")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("once", r.err)
        self.assertEqual(self.rows(), before)
        r = self.req("show", rid)
        self.assertEqual(r.json()["due_date"], "2026-03-31")

    def test_GDPR_12_extension_after_the_first_month_refused(self):
        sid = self.subject("e@example.dk")
        rid = self.add(sid, "2026-01-31")["id"]
        r = self.req("extend", rid, "--months", "2", "--reason", "late",
                     as_of="2026-03-01")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("2026-02-28", r.err)

    def test_GDPR_12_due_within_lists_near_and_overdue(self):
        sid = self.subject("f@example.dk")
        early = self.add(sid, "2026-01-05")["id"]   # due 2026-02-05
        near = self.add(sid, "2026-01-31")["id"]    # due 2026-02-28
        later = self.add(sid, "2026-02-20")["id"]   # due 2026-03-20
        r = self.req("list", "--due-within", "7d", as_of="2026-02-23")
        self.assertEqual(r.rc, EXIT_OK, r)
        got = {d["id"]: d for d in r.json()["requests"]}
        self.assertEqual(set(got), {early, near})
        self.assertTrue(got[early]["overdue"])
        self.assertFalse(got[near]["overdue"])
        self.assertEqual(got[near]["days_left"], 5)
        # Closed requests leave the list; --all shows them.
        r = self.req("status", early, "refused", "--reason",
                     "manifestly unfounded", as_of="2026-02-23")
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.req("list", "--due-within", "7d", as_of="2026-02-23")
        self.assertEqual([d["id"] for d in r.json()["requests"]], [near])
        r = self.req("list", "--all", as_of="2026-02-23")
        self.assertEqual(len(r.json()["requests"]), 3)
        self.assertIn(later, [d["id"] for d in r.json()["requests"]])
        r = self.req("list", "--due-within", "soon")
        self.assertEqual(r.rc, EXIT_USAGE, r)

    def test_GDPR_12_bad_input_changes_nothing(self):
        sid = self.subject("g@example.dk")
        before = self.rows()
        cases = [
            (["--type", "deletion", "--subject", sid, "--channel", "email"],
             "unknown request type"),
            (["--type", "access", "--subject", "0" * 32, "--channel",
              "email"], "no such subject"),
            (["--type", "access", "--subject", "xyz", "--channel", "email"],
             "subject"),
            (["--type", "access", "--subject", sid, "--channel", "pigeon"],
             "unknown channel"),
            (["--type", "access", "--subject", sid, "--channel", "email",
              "--received", "2026-02-30"], "received"),
            (["--type", "access", "--subject", sid, "--channel", "email",
              "--received", "2026-03-01"], "future"),
        ]
        for args, mention in cases:
            r = self.vaern("requests", "add", "--controller", "example",
                           *args, as_of="2026-02-01")
            self.assertEqual(r.rc, EXIT_REFUSED, (args, r))
            self.assertIn(mention, r.err, args)
            self.assertNotIn("g@example.dk", r.err)
        self.assertEqual(self.rows(), before)

    def test_AOPT_ACCESS_1_code_expires_and_is_stored_hashed(self):
        sid = self.subject("h@example.dk")
        rid = self.add(sid, "2026-02-01T10:00:00Z")["id"]
        r = self.req("verify", rid, "--send-code",
                     as_of="2026-02-01T10:00:00Z")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["sent_to"], "email")
        self.assertEqual(r.json()["expires_at"], "2026-02-01T10:30:00Z")
        code, msg = self.spooled_code(rid)
        self.assertNotIn(code, r.out)  # the code is not printed
        self.assertEqual(msg["to"], "h@example.dk")
        # Only a keyed hash is stored.
        (h,), = self.sql("SELECT hash FROM request_code")
        self.assertEqual(len(h), 32)
        self.assertNotIn(code.encode(), dbpeek.store_bytes(self.db))
        r = self.req("verify", rid, "--code", "-", stdin=code.encode(),
                     as_of="2026-02-01T10:30:00Z")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("expired", r.err)
        self.assertNotIn(code, r.err)
        self.assertEqual(self.req("show", rid).json()["status"], "received")
        # A new code works.
        r = self.req("verify", rid, "--send-code",
                     as_of="2026-02-01T11:00:00Z")
        code, _ = self.spooled_code(rid)
        r = self.req("verify", rid, "--code", "-", stdin=code.encode(),
                     as_of="2026-02-01T11:10:00Z")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["status"], "verified")
        self.assertEqual(r.json()["verify_method"], "code")

    def test_AOPT_ACCESS_1_no_contact_on_record_needs_attestation(self):
        r = self.vaern("subject", "add", "--controller", "aura-fiber",
                       "--json", "-", stdin=json.dumps({
                           "purpose": "identification",
                           "facts": [{"category": "username",
                                      "value": "kunde42"}]}).encode())
        self.assertEqual(r.rc, EXIT_OK, r)
        sid = r.json()["subject"]
        r = self.vaern("requests", "add", "--controller", "aura-fiber",
                       "--type", "erasure", "--subject", sid, "--channel",
                       "letter")
        self.assertEqual(r.rc, EXIT_OK, r)
        rid = r.json()["id"]
        r = self.vaern("requests", "verify", rid, "--send-code",
                       "--controller", "aura-fiber")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("attestation", r.err)
        r = self.vaern("requests", "verify", rid, "--attest",
                       "passport shown at the counter", "--actor",
                       "mette", "--controller", "aura-fiber")
        self.assertEqual(r.rc, EXIT_OK, r)
        doc = r.json()
        self.assertEqual(doc["verified_by"], "mette")
        self.assertEqual(doc["verify_method"], "attestation")
        self.assertEqual(doc["attestation"], "passport shown at the counter")

    @dbpeek.sqlite_only("migrates an older SQLite data directory")
    def test_schema_v2_data_directory_migrates_to_v3(self):
        """A data directory of schema 2 (before issue 5) opens, gains the
        request tables and says the current schema, 5 (issue 13)."""
        sid = self.subject("m@example.dk")
        con = dbpeek.connect(self.db)
        con.executescript(
            "DROP TABLE request; DROP TABLE request_transition;"
            " DROP TABLE request_code;"
            " UPDATE meta SET value = '2' WHERE key = 'schema_version';")
        con.close()
        self.assertEqual(self.sql("SELECT value FROM meta WHERE key ="
                                  " 'schema_version'"), [("2",)])
        doc = self.add(sid, "2026-01-31")
        self.assertEqual(doc["due_date"], "2026-02-28")
        self.assertEqual(self.sql("SELECT value FROM meta WHERE key ="
                                  " 'schema_version'"), [("7",)])
        r = self.vaern("subject", "show", "--controller", "example", sid)
        self.assertEqual(r.rc, EXIT_OK, r)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class ErasureTest(RightsBase):
    """GDPR-17, AOPT-ERASE-1: executing a verified erasure request."""

    def customer_with_orders(self, email):
        doc = {"purpose": "customer_admin",
               "facts": [{"category": "name", "value": "Ole Olsen"},
                         {"category": "email", "value": email},
                         {"category": "orders", "value": "order 17"}]}
        r = self.vaern("subject", "add", "--controller", "example",
                       "--json", "-", stdin=json.dumps(doc).encode(),
                       as_of="2026-01-10")
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()["subject"]

    def verified_erasure(self, sid, as_of="2026-02-01"):
        rid = self.add(sid, as_of, type_="erasure")["id"]
        r = self.req("verify", rid, "--attest", "id card seen",
                     as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return rid

    def test_GDPR_17_AOPT_ERASE_1_keeps_only_what_law_holds(self):
        sid = self.customer_with_orders("ole@example.dk")
        rid = self.verified_erasure(sid)
        r = self.req("erase", rid, as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        doc = r.json()
        self.assertEqual(doc["status"], "completed")
        self.assertEqual(doc["erasure"]["erased"], 2)
        self.assertFalse(doc["erasure"]["shredded"])
        self.assertEqual(doc["erasure"]["kept"], [{
            "category": "orders", "facts": 1, "law": "Bogføringsloven § 10",
            "rule": "bookkeeping", "until": "2032-01-01"}])
        # The answer to the person says what was kept, why, until when.
        self.assertIn("orders until 2032-01-01 (Bogføringsloven § 10)",
                      doc["status_reason"])
        r = self.vaern("subject", "show", "--controller", "example", sid)
        self.assertEqual([f["category"] for f in r.json()["facts"]],
                         ["orders"])
        # The e-mail address no longer finds the person.
        r = self.vaern("subject", "find", "--controller", "example",
                       "email", "-", stdin=b"ole@example.dk")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        # What is kept is only stored (GDPR-18).
        (state,), = self.sql("SELECT state FROM subject WHERE uid = ?",
                             (bytes.fromhex(sid),))
        self.assertEqual(state & 1, 1)
        r = self.vaern("audit", "show", "--subject", sid)
        self.assertIn("request_erasure", r.out)
        self.assertNotIn("ole@example.dk", r.out)

    def test_GDPR_17_nothing_kept_shreds_the_subject(self):
        sid = self.subject("shred@example.dk")
        rid = self.verified_erasure(sid)
        r = self.req("erase", rid, as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertTrue(r.json()["erasure"]["shredded"])
        self.assertEqual(r.json()["erasure"]["kept"], [])
        self.assertEqual(self.sql("SELECT count(*) FROM subject WHERE"
                                  " uid = ?", (bytes.fromhex(sid),)),
                         [(0,)])
        # The request outlives the subject.
        self.assertEqual(self.req("show", rid).json()["status"],
                         "completed")

    def test_AOPT_ACCESS_1_CEK_HOLD_1_erasure_refusals_change_nothing(self):
        sid = self.customer_with_orders("held@example.dk")
        rid = self.add(sid, "2026-02-01", type_="erasure")["id"]
        before = self.rows()
        r = self.req("erase", rid, as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("AOPT-ACCESS-1", r.err)
        access = self.add(sid, "2026-02-01")["id"]
        self.req("verify", access, "--attest", "seen", as_of="2026-02-01")
        r = self.req("erase", access, as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("not erasure", r.err)
        self.req("verify", rid, "--attest", "seen", as_of="2026-02-01")
        r = self.vaern("subject", "hold", "--controller", "example", sid,
                       "--reason", "dispute", as_of="2026-02-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        before = self.rows()
        r = self.req("erase", rid, as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("CEK-HOLD-1", r.err)
        self.assertEqual(self.rows(), before)
        r = self.vaern("subject", "show", "--controller", "example", sid)
        self.assertEqual(len(r.json()["facts"]), 3)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class ExecuteCliTest(RightsBase):
    """GDPR-16, GDPR-18, GDPR-21, GDPR-7, CEK-RIGHTS-1 through `vaern
    requests rectify|restrict|object|withdraw-consent`, dated."""

    def newsletter_subject(self, email):
        r = self.vaern("subject", "add", "--controller", "example",
                       "--json", "-", stdin=json.dumps({
                           "purpose": "customer_admin",
                           "facts": [{"category": "name",
                                      "value": "Ib Lund"},
                                     {"category": "email", "value": email}],
                           "consents": [{"purpose": "newsletter",
                                         "source": "web_form"}]}).encode(),
                       as_of="2026-01-05")
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()["subject"]

    def verified(self, sid, type_, as_of="2026-02-01"):
        rid = self.add(sid, as_of, type_=type_)["id"]
        r = self.req("verify", rid, "--attest", "id card", as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return rid

    def facts(self, sid):
        r = self.vaern("subject", "show", "--controller", "example", sid)
        self.assertEqual(r.rc, EXIT_OK, r)
        return {f["category"]: f["value"] for f in r.json()["facts"]}

    def state(self, sid):
        (state,), = self.sql("SELECT state FROM subject WHERE uid = ?",
                             (bytes.fromhex(sid),))
        return state

    def test_GDPR_16_cli_rectify_value_on_stdin(self):
        sid = self.subject("r@example.dk")
        rid = self.verified(sid, "rectification")
        before = self.rows()
        r = self.req("rectify", rid, "--fact", "2", "--value", "-",
                     stdin=b"not-an-address\n", as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("email", r.err)
        self.assertNotIn("not-an-address", r.err)
        r = self.req("rectify", rid, "--fact", "x", "--value", "y")
        self.assertEqual(r.rc, EXIT_USAGE, r)
        self.assertEqual(self.rows(), before)
        self.assertEqual(self.facts(sid)["email"], "r@example.dk")
        r = self.req("rectify", rid, "--fact", "2", "--value", "-",
                     stdin=b"ny@example.dk\n", as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        doc = r.json()
        self.assertEqual(doc["status"], "completed")
        self.assertEqual(doc["updated_at"], "2026-02-02T00:00:00Z")
        self.assertEqual(doc["rectification"]["facts"],
                         [{"fact": 2, "category": "email"}])
        self.assertNotIn("ny@example.dk", r.out)
        self.assertEqual(self.facts(sid)["email"], "ny@example.dk")
        r = self.vaern("audit", "show", "--subject", sid)
        self.assertIn("request_rectification", r.out)
        self.assertNotIn("ny@example.dk", r.out)

    def test_GDPR_18_cli_restrict_then_lift(self):
        sid = self.subject("s@example.dk")
        rid = self.verified(sid, "restriction")
        r = self.req("restrict", rid, as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["status"], "in_progress")
        self.assertEqual(self.state(sid) & 1, 1)
        r = self.req("restrict", rid, "--lift", as_of="2026-02-03")
        self.assertEqual(r.rc, EXIT_USAGE, r)
        self.assertEqual(self.state(sid) & 1, 1)
        r = self.req("restrict", rid, "--lift", "--reason",
                     "accuracy confirmed", as_of="2026-02-03")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["status"], "completed")
        self.assertEqual(r.json()["status_reason"], "accuracy confirmed")
        self.assertEqual(self.state(sid) & 1, 0)

    def test_GDPR_21_GDPR_7_CEK_RIGHTS_1_cli_object_and_withdraw(self):
        sid = self.newsletter_subject("o@example.dk")
        rid = self.verified(sid, "objection")
        r = self.req("object", rid, "--purposes", "customer_admin",
                     as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("not direct marketing", r.err)
        self.assertEqual(self.state(sid) & 2, 0)
        r = self.req("object", rid, as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["objection"]["purposes_refused"],
                         ["newsletter"])
        self.assertEqual(self.state(sid) & 2, 2)
        wid = self.verified(sid, "consent_withdrawal")
        r = self.req("withdraw-consent", wid, "--purposes", "newsletter,",
                     as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_USAGE, r)
        r = self.req("withdraw-consent", wid, as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual([p["purpose"] for p in
                          r.json()["consent_withdrawal"]["purposes"]],
                         ["newsletter"])
        rows = self.sql("SELECT c.withdrawn_at IS NOT NULL, l.text FROM"
                        " consent c JOIN label l ON l.id = c.source"
                        " ORDER BY c.seq")
        self.assertEqual([tuple(x) for x in rows],
                         [(0, "web_form"), (1, "email")])


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class AccessReportTest(RightsBase):
    """GDPR-15, GDPR-20, TEL-CAT-3, *-COMPLAIN-1: the access report."""

    TELENOR = os.path.join(ROOT, "policies", "telenor.yaml")

    def test_GDPR_15_TEL_CAT_3_report_purposes_basis_source_complaints(self):
        r = self.vaern("policy", "load", self.TELENOR)
        self.assertEqual(r.rc, EXIT_OK, r)
        doc = api.telenor_customer(email="t@example.dk")
        doc["facts"].append({"category": "credit_rating", "value": "A",
                             "purpose": "credit_check",
                             "source": "kreditoplysningsbureau"})
        r = self.vaern("subject", "add", "--controller", "telenor",
                       "--json", "-", stdin=json.dumps(doc).encode(),
                       as_of="2026-01-10")
        self.assertEqual(r.rc, EXIT_OK, r)
        sid = r.json()["subject"]
        r = self.vaern("requests", "add", "--controller", "telenor",
                       "--type", "access", "--subject", sid, "--channel",
                       "web", as_of="2026-02-01")
        rid = r.json()["id"]
        # AOPT-ACCESS-1: nothing before verification.
        r = self.vaern("requests", "report", rid, "--controller", "telenor")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("AOPT-ACCESS-1", r.err)
        self.assertEqual(r.out, "")
        self.vaern("requests", "verify", rid, "--attest", "MitID",
                   "--controller", "telenor", as_of="2026-02-01")
        r = self.vaern("requests", "report", rid, "--controller", "telenor",
                       as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        rep = r.json()
        # The subject's report (src/report) with the request named.
        self.assertEqual(rep["report"], "access")
        self.assertEqual(rep["request"], rid)
        self.assertEqual(rep["request_type"], "access")
        self.assertEqual(rep["subject"], sid)
        self.assertEqual(rep["generated_at"], "2026-02-02T00:00:00Z")
        cats = {c["category"]: c for c in rep["categories"]}
        self.assertEqual(cats["email"]["facts"][0]["value"], "t@example.dk")
        credit = cats["credit_rating"]
        self.assertEqual(credit["source"], "third_party")
        self.assertEqual(credit["source_party"], "kreditoplysningsbureau")
        self.assertIn("credit_check", [p["id"] for p in credit["purposes"]])
        self.assertTrue(all(p["legal_basis"] for p in credit["purposes"]))
        for c in cats.values():
            self.assertIn("recipients", c)
            self.assertTrue(all("deleted_by" in f for f in c["facts"]))
        self.assertIn("access", rep["rights"])
        self.assertIn("erasure", rep["rights"])
        self.assertEqual(rep["controller"]["authority"]["name"],
                         "Datatilsynet")
        self.assertEqual(rep["controller"]["id"], "telenor")
        # The readable page, in Swedish on request.
        r = self.vaern("requests", "report", rid, "--controller", "telenor",
                       "--format", "html", "--lang", "sv",
                       as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertIn('<html lang="sv">', r.out)
        self.assertIn("Din begäran", r.out)
        self.assertIn(rid, r.out)
        r = self.vaern("requests", "report", rid, "--controller", "telenor",
                       "--format", "csv")
        self.assertEqual(r.rc, EXIT_USAGE, r)
        # Audited, naming the request, never the values.
        r = self.vaern("audit", "show", "--subject", sid)
        entry = [e for e in json.loads(r.out)
                 if e["action"] == "request_report"][-1]
        self.assertEqual(entry["rule"], "GDPR-15")
        # The categories the gate released (the operator: all of them).
        self.assertIn("email", entry["categories"])
        self.assertIn("logging_data", entry["categories"])
        self.assertEqual(entry["decision"], "allow")
        self.assertIn(rid, entry["reason"])
        self.assertNotIn("t@example.dk", r.out)

    def test_GDPR_20_portability_only_what_the_person_provided(self):
        sid = self.subject("p@example.dk")
        rid = self.add(sid, "2026-02-01", type_="portability")["id"]
        self.req("verify", rid, "--attest", "seen", as_of="2026-02-01")
        r = self.req("report", rid, as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        doc = r.json()
        self.assertEqual(doc["format"], "vaern-portable/1")
        self.assertEqual(doc["request"], rid)
        self.assertEqual(doc["request_type"], "portability")
        self.assertEqual(sorted(d["category"] for d in doc["data"]),
                         ["email", "name"])
        r = self.req("report", rid, "--format", "csv", as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertTrue(r.out.startswith(
            "category,value,purpose,collected_at\r\n"), r.out)
        self.assertIn("email,p@example.dk,customer_admin,", r.out)
        r = self.req("report", rid, "--format", "html")
        self.assertEqual(r.rc, EXIT_USAGE, r)
        erasure = self.add(sid, "2026-02-01", type_="erasure")["id"]
        self.req("verify", erasure, "--attest", "seen", as_of="2026-02-01")
        r = self.req("report", erasure, as_of="2026-02-02")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("access and portability", r.err)
        self.assertEqual(r.out, "")


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class RightsApiTest(api.ApiCase):
    """The native routes and OpenDSR on `vaern serve`, clock fixed."""

    policies = (EXAMPLE, AURA)
    actors = (("example", "customer_service"), ("example", "dpo"),
              ("example", "bookkeeper"), ("aura-fiber", "customer_service"))
    serve_extra = ("--as-of", SERVER_NOW)
    CS = ("example", "customer_service")
    AURA_CS = ("aura-fiber", "customer_service")

    def subject(self, email=None):
        email = email or api.uniq_email("rights")
        r = api.run_vaern(["--data", self.dir, "subject", "add",
                           "--controller", "example", "--json", "-"],
                          stdin=customer(email).encode())
        self.assertEqual(r.rc, 0, r)
        return r.json()["subject"], email

    def new_request(self, sid, who=None, **extra):
        body = {"type": "access", "subject": sid, "channel": "email"}
        body.update(extra)
        r = self.call("POST", "/v1/requests", body, who or self.CS)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def code_for(self, rid):
        files = sorted(glob.glob(os.path.join(self.dir, "outbox",
                                              "*%s*.json" % rid)),
                       key=os.path.basename)  # named in the order written
        self.assertTrue(files)
        with open(files[-1]) as f:
            return re.search(r" is (\d{8})\.",
                             json.load(f)["body"]).group(1)

    def nrequests(self):
        return self.sql("SELECT count(*) FROM request")[0][0], \
            self.sql("SELECT count(*) FROM request_transition")[0][0]

    def test_GDPR_12_api_due_date_and_history(self):
        sid, _ = self.subject()
        doc = self.new_request(sid, received_at="2026-01-31T08:00:00Z")
        self.assertEqual(doc["due_date"], "2026-02-28")
        self.assertTrue(doc["overdue"])  # the server's clock: 2 March
        r = self.call("GET", "/v1/requests/" + doc["id"], who=self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([t["to"] for t in r.json()["transitions"]],
                         ["received"])
        r = self.call("GET", "/v1/requests?due_within=7d", who=self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertIn(doc["id"], [d["id"] for d in r.json()["requests"]])
        r = self.call("GET", "/v1/requests?due_within=x", who=self.CS)
        self.assertError(r, 400)

    def test_GDPR_12_api_bad_input_4xx_changes_nothing(self):
        sid, email = self.subject()
        before = self.nrequests()
        cases = [
            ({"type": "deletion", "subject": sid, "channel": "email"}, 400),
            ({"type": "access", "subject": "0" * 32, "channel": "email"},
             404),
            ({"type": "access", "subject": "nope", "channel": "email"}, 400),
            ({"type": "access", "subject": sid, "channel": "fax"}, 400),
            ({"type": "access", "subject": sid}, 400),
            ({"type": "access", "subject": sid, "channel": "email",
              "received_at": "2026-13-01"}, 400),
            ({"type": "access", "subject": sid, "channel": "email",
              "received_at": "2026-04-01"}, 400),
            ({"type": "access", "subject": sid, "channel": "email",
              "email": email}, 400),
            ({"type": 3, "subject": sid, "channel": "email"}, 400),
        ]
        for body, status in cases:
            r = self.call("POST", "/v1/requests", body, self.CS)
            self.assertError(r, status, secrets=(email,))
        self.assertEqual(self.nrequests(), before)

    def test_GDPR_12_api_extension_twice_and_beyond_two_months_4xx(self):
        sid, _ = self.subject()
        rid = self.new_request(sid)["id"]
        path = "/v1/requests/%s/extension" % rid
        before = self.nrequests()
        for body in ({"months": 3, "reason": "x"}, {"months": 0,
                                                    "reason": "x"},
                     {"months": 2}, {"months": "2", "reason": "x"},
                     {"months": 2, "reason": ""}):
            self.assertError(self.call("POST", path, body, self.CS), 400)
        self.assertEqual(self.nrequests(), before)
        r = self.call("POST", path, {"months": 2, "reason": "complex"},
                      self.CS)
        self.assertEqual(r.status, 200, r)
        # received 2 March: 1 + 2 months.
        self.assertEqual(r.json()["due_date"], "2026-06-02")
        before = self.nrequests()
        err = self.assertError(self.call("POST", path, {
            "months": 1, "reason": "again"}, self.CS), 400)
        self.assertIn("once", err["message"])
        self.assertEqual(self.nrequests(), before)

    def test_GDPR_12_illegal_transitions_refused(self):
        sid, _ = self.subject()
        rid = self.new_request(sid)["id"]
        path = "/v1/requests/" + rid
        before = self.nrequests()
        for body, mention in (
                ({"status": "in_progress"}, "AOPT-ACCESS-1"),
                ({"status": "completed"}, "AOPT-ACCESS-1"),
                ({"status": "verified"}, "attestation"),
                ({"status": "extended"}, "extended"),
                ({"status": "received"}, "received"),
                ({"status": "refused"}, "reason"),
                ({"status": "done"}, "unknown")):
            err = self.assertError(self.call("PATCH", path, body, self.CS),
                                   400)
            self.assertIn(mention, err["message"], body)
        self.assertEqual(self.nrequests(), before)
        r = self.call("PATCH", path, {"status": "cancelled"}, self.CS)
        self.assertEqual(r.status, 200, r)
        err = self.assertError(self.call("PATCH", path,
                                         {"status": "in_progress"},
                                         self.CS), 400)
        self.assertIn("cancelled", err["message"])

    def test_AOPT_ACCESS_1_code_single_use(self):
        sid, email = self.subject()
        rid = self.new_request(sid)["id"]
        r = self.call("POST", "/v1/requests/%s/code" % rid, {}, self.CS)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json()["sent_to"], "email")
        self.assertNotIn(email, r.text)
        code = self.code_for(rid)
        self.assertNotIn(code, r.text)
        path = "/v1/requests/%s/verification" % rid
        r = self.call("POST", path, {"code": code}, self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "verified")
        self.assertTrue(r.json()["verified"])
        # Used up: the same code again is refused and changes nothing.
        before = self.nrequests()
        self.assertError(self.call("POST", path, {"code": code}, self.CS),
                         400, secrets=(code,))
        self.assertEqual(self.nrequests(), before)
        # Now the request can be handled.
        r = self.call("PATCH", "/v1/requests/" + rid,
                      {"status": "in_progress"}, self.CS)
        self.assertEqual(r.status, 200, r)
        r = self.call("PATCH", "/v1/requests/" + rid,
                      {"status": "completed"}, self.CS)
        self.assertEqual(r.status, 200, r)
        r = self.call("GET", "/v1/requests/" + rid, who=self.CS)
        self.assertEqual([t["to"] for t in r.json()["transitions"]],
                         ["received", "verified", "in_progress",
                          "completed"])

    def test_AOPT_ACCESS_1_attempts_limited(self):
        sid, _ = self.subject()
        rid = self.new_request(sid)["id"]
        r = self.call("POST", "/v1/requests/%s/code" % rid,
                      {"contact": "email"}, self.CS)
        self.assertEqual(r.status, 202, r)
        attempts = r.json()["attempts"]
        code = self.code_for(rid)
        wrong = "%08d" % ((int(code) + 1) % 100000000)
        path = "/v1/requests/%s/verification" % rid
        for i in range(attempts):
            err = self.assertError(self.call("POST", path, {"code": wrong},
                                             self.CS), 403)
            self.assertIn("wrong code", err["message"])
        # Out of attempts: even the right code is refused now.
        err = self.assertError(self.call("POST", path, {"code": code},
                                         self.CS), 403, secrets=(code,))
        self.assertIn("too many", err["message"])
        r = self.call("GET", "/v1/requests/" + rid, who=self.CS)
        self.assertEqual(r.json()["status"], "received")
        # Malformed codes are 400 and not counted.
        for bad in ("123", "abcdefgh", "123456789"):
            self.assertError(self.call("POST", path, {"code": bad},
                                       self.CS), 400)
        # The rejections are audited, without the code.
        entries = self.audit("example", subject=sid)
        rejected = [e for e in entries
                    if e["action"] == "request_code_rejected"]
        self.assertEqual(len(rejected), attempts)
        self.assertTrue(all(e["allowed"] is False for e in rejected))
        # A new code still gets through; at most 5 codes per request.
        for _ in range(4):
            r = self.call("POST", "/v1/requests/%s/code" % rid, {},
                          self.CS)
            self.assertEqual(r.status, 202, r)
        self.assertError(self.call("POST", "/v1/requests/%s/code" % rid, {},
                                   self.CS), 429)
        r = self.call("POST", path, {"code": self.code_for(rid)}, self.CS)
        self.assertEqual(r.status, 200, r)

    def test_AOPT_ACCESS_1_staff_attestation_with_actor(self):
        sid, _ = self.subject()
        rid = self.new_request(sid)["id"]
        path = "/v1/requests/%s/verification" % rid
        self.assertError(self.call("POST", path, {}, self.CS), 400)
        self.assertError(self.call("POST", path, {
            "code": "12345678", "attestation": "x"}, self.CS), 400)
        r = self.call("POST", path, {"attestation": "called back on the "
                                     "number on the contract"}, self.CS)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["verify_method"], "attestation")
        self.assertEqual(doc["verified_by"], "customer_service")
        self.assertError(self.call("POST", path, {"attestation": "again"},
                                   self.CS), 400)

    def test_GDPR_12_transitions_audited_without_personal_data(self):
        sid, email = self.subject()
        rid = self.new_request(sid)["id"]
        self.call("POST", "/v1/requests/%s/code" % rid, {}, self.CS)
        code = self.code_for(rid)
        self.call("POST", "/v1/requests/%s/verification" % rid,
                  {"code": code}, self.CS)
        self.call("POST", "/v1/requests/%s/extension" % rid,
                  {"months": 1, "reason": "secret reason about Anna"},
                  self.CS)
        self.call("PATCH", "/v1/requests/" + rid,
                  {"status": "refused", "reason": "another secret"},
                  self.CS)
        entries = self.audit("example", subject=sid)
        actions = [e["action"] for e in entries
                   if e["purpose"] == "rights_request"]
        # GDPR-12: each message to the person is audited, without the
        # address or the reason's text; the address is read through the
        # gate, audited too.
        self.assertEqual(actions, ["request_received", "read",
                                   "request_message_sent",
                                   "request_code_sent",
                                   "request_verified", "request_extended",
                                   "read", "request_message_sent",
                                   "request_refused",
                                   "read", "request_message_sent"])
        text = json.dumps(entries)
        for secret in (email, code, "secret reason", "another secret",
                       "Anna"):
            self.assertNotIn(secret, text)
        raw = dbpeek.store_bytes(api.audit_db(self.dir))
        for secret in (email, code, "secret reason"):
            self.assertNotIn(secret.encode(), raw)
        self.assertNotIn(code, self.server.log())
        self.assertNotIn(email, self.server.log())

    def test_AURA_RIGHTS_1_controller_sees_only_its_own(self):
        sid, _ = self.subject()
        rid = self.new_request(sid)["id"]
        before = self.nrequests()
        # aura-fiber's staff cannot file a request about example's subject.
        r = self.call("POST", "/v1/requests", {
            "type": "access", "subject": sid, "channel": "email"},
            self.AURA_CS)
        self.assertError(r, 404)
        self.assertEqual(self.nrequests(), before)
        # ... nor read, change, verify or list example's requests.
        self.assertError(self.call("GET", "/v1/requests/" + rid,
                                   who=self.AURA_CS), 404)
        self.assertError(self.call("PATCH", "/v1/requests/" + rid,
                                   {"status": "cancelled"}, self.AURA_CS),
                         404)
        self.assertError(self.call("POST", "/v1/requests/%s/code" % rid,
                                   {}, self.AURA_CS), 404)
        self.assertError(self.call("GET", "/v1/opendsr/requests/" + rid,
                                   who=self.AURA_CS), 404)
        r = self.call("GET", "/v1/requests?all=true", who=self.AURA_CS)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(rid, r.text)
        self.assertNotIn(sid, r.text)
        r = self.call("GET", "/v1/requests/" + rid, who=self.CS)
        self.assertEqual(r.json()["status"], "received")
        self.assertEqual(r.json()["controller"], "example")

    def test_GDPR_17_api_erasure_lists_what_was_kept(self):
        sid, email = self.subject()
        rid = self.new_request(sid, type="erasure")["id"]
        path = "/v1/requests/%s/erasure" % rid
        self.assertError(self.call("POST", path, None, self.CS), 400)
        self.call("POST", "/v1/requests/%s/verification" % rid,
                  {"attestation": "id card"}, self.CS)
        self.assertDenied(self.call("POST", path, None,
                                    ("example", "dpo")), "AURA-SHARE-1")
        r = self.call("POST", path, None, self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "completed")
        self.assertTrue(r.json()["erasure"]["shredded"])
        self.assertNotIn(email, r.text)
        self.assertError(self.call("POST", path, None, self.CS), 400)

    def test_GDPR_15_api_report_after_verification_only(self):
        """GDPR-15, AOPT-ACCESS-1, dated 2026-03-02: the request's report
        is the subject's report naming the request; nothing before the
        identity is verified; the DPO or any role of the controller may
        fetch it once verified; audited naming the request."""
        sid, email = self.subject()
        rid = self.new_request(sid)["id"]
        path = "/v1/requests/%s/report" % rid
        err = self.assertError(self.call("GET", path, who=self.CS), 400,
                               secrets=(email,))
        self.assertIn("AOPT-ACCESS-1", err["message"])
        self.call("POST", "/v1/requests/%s/verification" % rid,
                  {"attestation": "id card"}, self.CS)
        for who in (self.CS, ("example", "dpo"),
                    ("example", "bookkeeper")):
            r = self.call("GET", path, who=who)
            self.assertEqual(r.status, 200, (who, r))
        rep = r.json()
        self.assertEqual(rep["report"], "access")
        self.assertEqual((rep["request"], rep["request_type"]),
                         (rid, "access"))
        self.assertEqual(rep["generated_at"], SERVER_NOW)
        cats = {c["category"]: c for c in rep["categories"]}
        self.assertEqual(sorted(cats), ["email", "name"])
        self.assertEqual(cats["email"]["facts"][0]["value"], email)
        self.assertIn("processing", rep)
        # The readable page (GDPR-15: in the controller's language, or
        # the one asked for).
        r = self.call("GET", path + "?format=html", who=self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertIn('<html lang="da">', r.text)
        self.assertIn("Din anmodning", r.text)
        self.assertIn(rid, r.text)
        r = self.call("GET", path + "?format=html&lang=en", who=self.CS)
        self.assertIn("Your request", r.text)
        self.assertError(self.call("GET", path + "?format=csv",
                                   who=self.CS), 400)
        self.assertError(self.call("GET", path + "?format=html&lang=de",
                                   who=self.CS), 400)
        self.assertError(self.call("GET", path, who=self.AURA_CS), 404)
        entries = [e for e in self.audit("example", subject=sid)
                   if e["action"] == "request_report"]
        self.assertEqual([e["role"] for e in entries if e["allowed"]],
                         ["customer_service", "dpo", "bookkeeper",
                          "customer_service", "customer_service"])
        self.assertTrue(all(rid in e["reason"] and e["rule"] == "GDPR-15"
                            for e in entries))
        self.assertNotIn(email, json.dumps(entries))
        # Once the request is closed the report is no longer released.
        self.call("PATCH", "/v1/requests/" + rid, {"status": "completed"},
                  self.CS)
        err = self.assertError(self.call("GET", path, who=self.CS), 400,
                               secrets=(email,))
        self.assertIn("completed", err["message"])

    def test_GDPR_20_api_portability_request_json_and_csv(self):
        """GDPR-20, dated 2026-03-02: the portable copy answers a verified
        portability request, only what the person provided, as JSON and
        CSV; the bare /export stays the DPO's."""
        sid, email = self.subject()
        rid = self.verified(sid, "portability")
        path = "/v1/requests/%s/report" % rid
        r = self.call("GET", path, who=self.CS)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["format"], "vaern-portable/1")
        self.assertEqual((doc["request"], doc["request_type"]),
                         (rid, "portability"))
        self.assertEqual(doc["generated_at"], SERVER_NOW)
        self.assertEqual(sorted(d["category"] for d in doc["data"]),
                         ["email", "name"])
        r = self.call("GET", path + "?format=csv", who=self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/csv"))
        self.assertIn("email,%s,customer_admin," % email, r.text)
        self.assertError(self.call("GET", path + "?format=html",
                                   who=self.CS), 400)
        # Without a request, customer service gets no copy.
        self.assertDenied(self.call("GET", "/v1/subjects/%s/export" % sid,
                                    who=self.CS), "audit: true")
        # An erasure request has no report.
        erase = self.verified(sid, "erasure")
        err = self.assertError(self.call(
            "GET", "/v1/requests/%s/report" % erase, who=self.CS), 400)
        self.assertIn("access and portability", err["message"])

    # -- executing the other rights (issue 5, "What each right does") --

    def verified(self, sid, type_):
        rid = self.new_request(sid, type=type_)["id"]
        r = self.call("POST", "/v1/requests/%s/verification" % rid,
                      {"attestation": "id card seen"}, self.CS)
        self.assertEqual(r.status, 200, r)
        return rid

    def facts_of(self, sid, purpose="customer_admin", who=None):
        r = self.call("GET", api.q("/v1/subjects/%s/facts" % sid,
                                   purpose=purpose), who=who or self.CS)
        return r

    def values(self, sid):
        r = self.facts_of(sid)
        self.assertEqual(r.status, 200, r)
        return {f["id"]: f["value"] for f in r.json()["facts"]}

    def entries(self, sid, action):
        return [e for e in self.audit("example", subject=sid)
                if e["action"] == action]

    def newsletter_subject(self):
        """A customer who signed up for the newsletter, created on the
        server's clock (the consent's time)."""
        email = api.uniq_email("news")
        sid = self.create(self.CS, {
            "purpose": "customer_admin",
            "facts": [{"category": "name", "value": "Ida Holm"},
                      {"category": "email", "value": email}],
            "consents": [{"purpose": "newsletter", "source": "web_form"}]})
        return sid, email

    def test_GDPR_16_rectification_request_replaces_values_audited(self):
        """GDPR-16, dated 2026-03-02: a verified rectification request
        replaces the old values (read back through the gate), all or none,
        audited with the request and the categories, never a value."""
        sid, email = self.subject()
        new_email = api.uniq_email("moved")
        rid = self.new_request(sid, type="rectification")["id"]
        path = "/v1/requests/%s/rectification" % rid
        before = self.values(sid)
        name_id = [k for k, v in before.items() if v == "Anna Hansen"][0]
        email_id = [k for k, v in before.items() if v == email][0]
        err = self.assertError(self.call("POST", path, {
            "fact": name_id, "value": "Anna Berg"}, self.CS), 400,
            secrets=("Anna Berg",))
        self.assertIn("AOPT-ACCESS-1", err["message"])
        self.call("POST", "/v1/requests/%s/verification" % rid,
                  {"attestation": "passport"}, self.CS)
        nreq = self.nrequests()
        bad = [
            ({"fact": 999, "value": "x"}, 404, "fact 999"),
            ({"fact": email_id, "value": "no-at-sign"}, 400, "email"),
            ({"facts": [{"fact": name_id, "value": "Anna Berg"},
                        {"fact": email_id, "value": "no-at-sign"}]}, 400,
             "email"),
            ({"facts": [{"fact": name_id, "value": "A"},
                        {"fact": name_id, "value": "B"}]}, 400, "twice"),
            ({"fact": name_id}, 400, "value"),
            ({"fact": "1", "value": "Anna Berg"}, 400, "fact"),
            ({"fact": name_id, "value": "Anna Berg", "complete": "yes"},
             400, "complete"),
            ({"fact": name_id, "value": "Anna Berg", "facts": []}, 400,
             "facts"),
            ({"facts": [{"fact": name_id, "value": "A", "x": 1}]}, 400,
             "unknown key"),
            ({}, 400, "fact"),
        ]
        for body, status, mention in bad:
            err = self.assertError(self.call("POST", path, body, self.CS),
                                   status, secrets=("no-at-sign",
                                                    "Anna Berg", email))
            self.assertIn(mention, err["message"], body)
        # Nothing changed: not the first fact of a refused pair either.
        self.assertEqual(self.values(sid), before)
        self.assertEqual(self.nrequests(), nreq)
        # AURA-SHARE-1: only a role that processes the category, and not
        # the DPO (as for PATCH /v1/subjects/{id}/facts/{fact}).
        self.assertDenied(self.call("POST", path, {
            "fact": email_id, "value": new_email},
            ("example", "bookkeeper")), "AURA-SHARE-1")
        self.assertDenied(self.call("POST", path, {
            "fact": name_id, "value": "Anna Berg"}, ("example", "dpo")),
            "AURA-SHARE-1")
        self.assertEqual(self.values(sid), before)
        # One change now, the request kept open for another.
        r = self.call("POST", path, {"fact": name_id, "value": "Anna Berg",
                                     "complete": False}, self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "in_progress")
        self.assertNotIn("Anna Berg", r.text)
        r = self.call("POST", path, {"facts": [
            {"fact": email_id, "value": new_email}]}, self.CS)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["status"], "completed")
        self.assertEqual(doc["updated_at"], SERVER_NOW)
        self.assertEqual(doc["rectification"]["facts"],
                         [{"fact": email_id, "category": "email"}])
        self.assertNotIn(new_email, r.text)
        after = self.values(sid)
        self.assertEqual((after[name_id], after[email_id]),
                         ("Anna Berg", new_email))
        # The blind index moved with the e-mail address.
        r = self.call("POST", "/v1/subjects/lookup", {
            "type": "email", "value": new_email,
            "purpose": "customer_admin"}, self.CS)
        self.assertEqual(r.status, 200, r)
        r = self.call("POST", "/v1/subjects/lookup", {
            "type": "email", "value": email,
            "purpose": "customer_admin"}, self.CS)
        self.assertError(r, 404, secrets=(email,))
        r = self.call("GET", "/v1/requests/" + rid, who=self.CS)
        self.assertEqual([t["to"] for t in r.json()["transitions"]],
                         ["received", "verified", "in_progress",
                          "completed"])
        entries = self.entries(sid, "request_rectification")
        self.assertEqual([e["allowed"] for e in entries],
                         [False, True, True])  # the bookkeeper refused
        entries = [e for e in entries if e["allowed"]]
        self.assertEqual([(e["rule"], e["categories"]) for e in entries],
                         [("GDPR-16", "name"), ("GDPR-16", "email")])
        self.assertTrue(all(rid in e["reason"] for e in entries))
        text = json.dumps(self.audit("example", subject=sid))
        for secret in ("Anna Berg", new_email, "no-at-sign"):
            self.assertNotIn(secret, text)
            self.assertNotIn(secret, self.server.log())
        # Closed now; and a request of another type is not rectification.
        err = self.assertError(self.call("POST", path, {
            "fact": name_id, "value": "Anna C"}, self.CS), 400)
        self.assertIn("completed", err["message"])
        access = self.verified(sid, "access")
        err = self.assertError(self.call(
            "POST", "/v1/requests/%s/rectification" % access,
            {"fact": name_id, "value": "Anna C"}, self.CS), 400)
        self.assertIn("not rectification", err["message"])
        self.assertEqual(self.values(sid)[name_id], "Anna Berg")

    def test_GDPR_18_restriction_request_and_its_lifting(self):
        """GDPR-18, dated 2026-03-02: while restricted the data is only
        stored (and used for purposes allowed while restricted: the
        bookkeeping of the example); lifting needs its reason and
        restores processing."""
        sid, email = self.subject()
        rid = self.verified(sid, "restriction")
        path = "/v1/requests/%s/restriction" % rid
        self.assertEqual(self.facts_of(sid).status, 200)
        # Nothing to lift yet; a lift without its reason; bad flags.
        nreq = self.nrequests()
        for body, mention in (({"lift": True, "reason": "checked"},
                               "not restricted"),
                              ({"lift": True}, "reason"),
                              ({"lift": "yes"}, "lift"),
                              ({"complete": 1}, "complete"),
                              ({"other": 1}, "unknown key")):
            err = self.assertError(self.call("POST", path, body, self.CS),
                                   400)
            self.assertIn(mention, err["message"], body)
            self.assertEqual(self.facts_of(sid).status, 200)
        self.assertDenied(self.call("POST", path, {}, ("example", "dpo")),
                          "AURA-SHARE-1")
        r = self.call("POST", path, {}, self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "in_progress")
        self.assertTrue(r.json()["restriction"]["restricted"])
        self.assertGreater(self.nrequests()[1], nreq[1])
        # Only stored: the contract's purpose is refused ...
        self.assertDenied(self.facts_of(sid), "GDPR-18")
        # ... the bookkeeping (while_restricted: legal claims) is not.
        r = self.facts_of(sid, "bookkeeping", ("example", "bookkeeper"))
        self.assertEqual(r.status, 200, r)
        # Lifting: the reason is told to the person, kept in the
        # request's history, not in the audit trail.
        err = self.assertError(self.call("POST", path, {"lift": True},
                                         self.CS), 400)
        self.assertIn("reason", err["message"])
        self.assertDenied(self.facts_of(sid), "GDPR-18")
        r = self.call("POST", path, {"lift": True, "reason":
                                     "the address was checked and is "
                                     "correct"}, self.CS)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["status"], "completed")
        self.assertFalse(doc["restriction"]["restricted"])
        self.assertEqual(doc["status_reason"],
                         "the address was checked and is correct")
        self.assertEqual(self.facts_of(sid).status, 200)
        entries = self.entries(sid, "request_restriction") + \
            self.entries(sid, "request_restriction_lifted")
        self.assertEqual(len(entries), 2)
        self.assertTrue(all(e["rule"] == "GDPR-18" and rid in e["reason"]
                            for e in entries))
        self.assertNotIn("was checked", json.dumps(entries))
        self.assertError(self.call("POST", path, {}, self.CS), 400)
        # Restricted for good (Art. 18(1)(b), (c)): completed at once.
        rid2 = self.verified(sid, "restriction")
        r = self.call("POST", "/v1/requests/%s/restriction" % rid2,
                      {"complete": True}, self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "completed")
        self.assertDenied(self.facts_of(sid), "GDPR-18")

    def test_GDPR_21_CEK_RIGHTS_1_objection_to_direct_marketing(self):
        """GDPR-21, CEK-RIGHTS-1, dated 2026-03-02: an objection to direct
        marketing is absolute: the newsletter is refused even with the
        consent in force; other purposes go on; an objection to a purpose
        that is not direct marketing is not executed."""
        sid, email = self.newsletter_subject()
        rid = self.verified(sid, "objection")
        path = "/v1/requests/%s/objection" % rid
        self.assertEqual(self.facts_of(sid, "newsletter").status, 200)
        nreq = self.nrequests()
        for body, mention in (
                ({"purposes": ["customer_admin"]}, "not direct marketing"),
                ({"purposes": ["nope"]}, "no purpose 'nope'"),
                ({"purposes": "newsletter"}, "purposes"),
                ({"purposes": []}, "purposes"),
                ({"purposes": ["newsletter", "newsletter"]}, "twice"),
                ({"purpose": "newsletter", "purposes": ["newsletter"]},
                 "not both")):
            err = self.assertError(self.call("POST", path, body, self.CS),
                                   400)
            self.assertIn(mention, err["message"], body)
        self.assertEqual(self.nrequests(), nreq)
        self.assertEqual(self.facts_of(sid, "newsletter").status, 200)
        r = self.call("POST", path, {"purposes": ["newsletter"]}, self.CS)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["status"], "completed")
        self.assertEqual(doc["objection"], {"direct_marketing": True,
                                            "purposes_refused":
                                            ["newsletter"]})
        self.assertDenied(self.facts_of(sid, "newsletter"), "GDPR-21")
        self.assertEqual(self.facts_of(sid).status, 200)
        # The consent is still on record: the objection wins over it.
        r = self.call("GET", "/v1/subjects/%s/consents" % sid, who=self.CS)
        self.assertTrue(r.json()["purposes"]["newsletter"]["in_force"])
        (e,) = self.entries(sid, "request_objection")
        self.assertEqual(e["rule"], "GDPR-21")
        self.assertIn(rid, e["reason"])
        self.assertNotIn(email, json.dumps(e))
        err = self.assertError(self.call("POST", path, {}, self.CS), 400)
        self.assertIn("completed", err["message"])

    def test_GDPR_7_CEK_RIGHTS_1_consent_withdrawal_request(self):
        """GDPR-7, CEK-RIGHTS-1, dated 2026-03-02: a verified withdrawal
        request appends a withdrawal to the ledger (by the request's
        channel; the giving stays on record: not retroactive) and the
        newsletter is refused from then on."""
        sid, email = self.newsletter_subject()
        rid = self.verified(sid, "consent_withdrawal")
        path = "/v1/requests/%s/consent-withdrawal" % rid
        ledger = self.sql("SELECT count(*) FROM consent")[0][0]
        for body, status, mention in (
                ({"purpose": "customer_admin"}, 400, "rest on consent"),
                ({"purpose": "nope"}, 400, "no purpose"),
                ({"purpose": 3}, 400, "purpose"),
                ({"purposes": ["newsletter", 1]}, 400, "purpose ids")):
            err = self.assertError(self.call("POST", path, body, self.CS),
                                   status)
            self.assertIn(mention, err["message"], body)
        self.assertEqual(self.sql("SELECT count(*) FROM consent")[0][0],
                         ledger)
        self.assertEqual(self.facts_of(sid, "newsletter").status, 200)
        self.assertDenied(self.call("POST", path, {}, ("example", "dpo")),
                          "AURA-SHARE-1")
        r = self.call("POST", path, {"purpose": "newsletter"}, self.CS)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["status"], "completed")
        self.assertEqual([p["purpose"] for p in
                          doc["consent_withdrawal"]["purposes"]],
                         ["newsletter"])
        self.assertDenied(self.facts_of(sid, "newsletter"), "GDPR-7")
        self.assertEqual(self.facts_of(sid).status, 200)
        r = self.call("GET", "/v1/subjects/%s/consents" % sid, who=self.CS)
        hist = [(h["event"], h["source"], h["at"])
                for h in r.json()["consents"]]
        self.assertEqual(hist, [("given", "web_form", SERVER_NOW),
                                ("withdrawn", "email", SERVER_NOW)])
        self.assertFalse(r.json()["purposes"]["newsletter"]["in_force"])
        (e,) = self.entries(sid, "request_consent_withdrawal")
        self.assertEqual(e["rule"], "GDPR-7")
        self.assertIn(rid, e["reason"])
        self.assertIn("newsletter", e["reason"])
        # Nothing left in force: a second request says so (409) and
        # stays open.
        rid2 = self.verified(sid, "consent_withdrawal")
        self.assertError(self.call(
            "POST", "/v1/requests/%s/consent-withdrawal" % rid2, {},
            self.CS), 409)
        r = self.call("GET", "/v1/requests/" + rid2, who=self.CS)
        self.assertEqual(r.json()["status"], "verified")

    def test_OpenDSR_discovery_field_names(self):
        r = self.call("GET", "/v1/opendsr/discovery", who=self.CS)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["controller_id"], "example")
        self.assertEqual(set(doc["supported_subject_request_types"]),
                         {"access", "portability", "erasure"})
        self.assertIn({"identity_type": "email", "identity_format": "raw"},
                      doc["supported_identities"])
        self.assertIn("api_version", doc)
        self.assertError(self.call("GET", "/v1/opendsr/discovery"), 401)

    def test_OpenDSR_request_status_cancel_field_names(self):
        sid, email = self.subject()
        rid = "6f1ac3b2-4c1d-4e8a-9b7f-0123456789ab"
        r = self.call("POST", "/v1/opendsr/requests", {
            "subject_request_id": rid,
            "subject_request_type": "erasure",
            "submitted_time": "2026-01-31T12:00:00Z",
            "subject_identities": [{"identity_type": "email",
                                    "identity_value": email,
                                    "identity_format": "raw"}],
            "api_version": "2.0"}, self.CS)
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        self.assertEqual(doc["subject_request_id"], rid)
        self.assertEqual(doc["controller_id"], "example")
        self.assertEqual(doc["expected_completion_time"],
                         "2026-02-28T23:59:59Z")
        self.assertNotIn(email, r.text)
        r = self.call("GET", "/v1/opendsr/requests/" + rid, who=self.CS)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["request_status"], "pending")
        self.assertEqual(doc["subject_request_type"], "erasure")
        self.assertEqual(doc["subject_request_id"], rid)
        # The same request in the native API, with the subject found.
        r = self.call("GET", "/v1/requests/" + rid, who=self.CS)
        self.assertEqual(r.json()["subject"], sid)
        self.assertEqual(r.json()["channel"], "opendsr")
        # The same id again: 409.
        r = self.call("POST", "/v1/opendsr/requests", {
            "subject_request_id": rid, "subject_request_type": "access",
            "submitted_time": "2026-02-01T00:00:00Z",
            "subject_identities": [{"identity_type":
                                    "controller_customer_id",
                                    "identity_value": sid}]}, self.CS)
        self.assertError(r, 409)
        r = self.call("DELETE", "/v1/opendsr/requests/" + rid, who=self.CS)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json()["request_status"], "cancelled")
        r = self.call("GET", "/v1/opendsr/requests/" + rid, who=self.CS)
        self.assertEqual(r.json()["request_status"], "cancelled")
        self.assertError(self.call("DELETE", "/v1/opendsr/requests/" + rid,
                                   who=self.CS), 400)

    def test_OpenDSR_bad_input_4xx_changes_nothing(self):
        sid, email = self.subject()
        before = self.nrequests()
        ident = [{"identity_type": "email", "identity_value": email}]
        base = {"subject_request_type": "access",
                "submitted_time": "2026-02-01T00:00:00Z",
                "subject_identities": ident}
        cases = [
            (dict(base, subject_request_type="rectification"), 400),
            (dict(base, submitted_time="yesterday"), 400),
            (dict(base, submitted_time="2027-01-01T00:00:00Z"), 400),
            (dict(base, subject_identities=[]), 400),
            (dict(base, subject_identities=[{"identity_type": "email",
                                             "identity_value": email,
                                             "identity_format": "sha256"}]),
             400),
            (dict(base, subject_identities=[{"identity_type": "ios_id",
                                             "identity_value": "x"}]), 400),
            (dict(base, subject_identities=[{
                "identity_type": "email",
                "identity_value": "nobody@example.dk"}]), 404),
            (dict(base, subject_request_id="not-a-uuid"), 400),
            (dict(base, unknown=1), 400),
        ]
        for body, status in cases:
            self.assertError(self.call("POST", "/v1/opendsr/requests", body,
                                       self.CS), status,
                             secrets=(email, "nobody@example.dk"))
        self.assertEqual(self.nrequests(), before)


class WrittenRequestTest(api.ApiCase):
    """AOPT-ACCESS-1: Aurora Optimal takes an access request only in
    writing (policies/aurora-optimal.yaml, request_channels); a request by
    phone or in person is refused with the reason and nothing is stored.
    Other rights, and other controllers, accept any channel."""

    policies = (api.TELENOR, os.path.join(api.POLICY_DIR,
                                          "aurora-optimal.yaml"))
    actors = (("aurora-optimal", "customer_service"),
              ("telenor", "customer_service"))
    AOPT = ("aurora-optimal", "customer_service")

    def aopt_subject(self):
        r = self.call("POST", "/v1/subjects", {
            "purpose": "orders", "source": "web_form", "facts": [
                api.fact("name", "Sven Berg"),
                api.fact("email", api.uniq_email("sven"))]}, self.AOPT)
        self.assertEqual(r.status, 201, r)
        return r.json()["subject"]

    def nrequests(self):
        return self.sql("SELECT count(*) FROM request")[0][0]

    def test_AOPT_ACCESS_1_access_by_phone_or_in_person_refused(self):
        sid = self.aopt_subject()
        before = self.nrequests()
        for channel in ("phone", "in_person"):
            r = self.call("POST", "/v1/requests", {
                "type": "access", "subject": sid, "channel": channel},
                self.AOPT)
            err = self.assertError(r, 400, "invalid",
                                   mentions="AOPT-ACCESS-1")
            self.assertIn("not by %s" % channel, err["message"])
            self.assertIn("email, letter, web, portal", err["message"])
        self.assertEqual(self.nrequests(), before)
        # The CLI refuses alike (exit 1, the same reason).
        r = api.run_vaern(["--data", self.dir, "requests", "add",
                           "--controller", "aurora-optimal", "--type",
                           "access", "--channel", "phone", "--subject",
                           sid])
        self.assertEqual(r.rc, 1, r)
        self.assertIn("AOPT-ACCESS-1", r.err)
        self.assertEqual(self.nrequests(), before)

    def test_AOPT_ACCESS_1_written_access_and_other_rights_accepted(self):
        # The policy says so, for any caller to read.
        r = self.call("GET", "/v1/policy", who=self.AOPT)
        self.assertEqual(r.json()["request_channels"], {
            "access": ["email", "letter", "web", "portal", "api",
                       "opendsr"]})
        r = self.call("GET", "/v1/policy", who=("telenor",
                                                "customer_service"))
        self.assertEqual(r.json()["request_channels"], {})
        sid = self.aopt_subject()
        for channel in ("email", "letter", "web", "portal"):
            r = self.call("POST", "/v1/requests", {
                "type": "access", "subject": sid, "channel": channel},
                self.AOPT)
            self.assertEqual(r.status, 201, (channel, r))
        # Erasure by phone: the policy restricts access requests only.
        r = self.call("POST", "/v1/requests", {
            "type": "erasure", "subject": sid, "channel": "phone"},
            self.AOPT)
        self.assertEqual(r.status, 201, r)
        # Telenor's policy declares no channels: an access request by
        # phone is taken.
        r = self.call("POST", "/v1/subjects", api.telenor_customer(),
                      ("telenor", "customer_service"))
        tsid = r.json()["subject"]
        r = self.call("POST", "/v1/requests", {
            "type": "access", "subject": tsid, "channel": "phone"},
            ("telenor", "customer_service"))
        self.assertEqual(r.status, 201, r)


class ScopedRequestTest(api.ApiCase):
    """AURA-RIGHTS-1: a request names the company and may name the data it
    concerns; its report and rectification are limited to them."""

    policies = (api.TELENOR, api.AURA, api.CEKURA)
    actors = (("telenor", "customer_service"),
              ("aura-fiber", "customer_service"),
              ("cekura", "customer_service_manager"))
    CS = ("telenor", "customer_service")

    def test_CEK_RET_4_call_recording_erased_sooner_on_request(self):
        """CEK-RET-4: call recordings go sooner on request: an erasure
        request naming them erases the recording and nothing else."""
        csm = ("cekura", "customer_service_manager")
        r = self.call("POST", "/v1/subjects", api.cekura_customer(), csm)
        self.assertEqual(r.status, 201, r)
        sid = r.json()["subject"]
        r = self.call("POST", "/v1/subjects/%s/facts" % sid, api.fact(
            "call_recordings", "opkald-0105.ogg", purpose="call_recording"),
            csm)
        self.assertEqual(r.status, 201, r)
        r = self.call("POST", "/v1/requests", {
            "type": "erasure", "subject": sid, "channel": "phone",
            "controller": "cekura", "categories": ["call_recordings"]},
            csm)
        self.assertEqual(r.status, 201, r)
        rid = r.json()["id"]
        r = self.call("POST", "/v1/requests/%s/verification" % rid,
                      {"attestation": "called back on the number"}, csm)
        self.assertEqual(r.status, 200, r)
        r = self.call("POST", "/v1/requests/%s/erasure" % rid, None, csm)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["erasure"]["erased"], 1, r)
        got = self.read(csm, sid, "call_recording")
        self.assertEqual(got.status, 200, got)
        cats = [f["category"] for f in got.json()["facts"]]
        self.assertNotIn("call_recordings", cats)
        self.assertIn("name", cats)

    def customer(self):
        doc = api.telenor_customer()
        r = self.call("POST", "/v1/subjects", doc, self.CS)
        self.assertEqual(r.status, 201, r)
        sid = r.json()["subject"]
        r = self.read(self.CS, sid, "contract")
        ids = {f["category"]: f["id"] for f in r.json()["facts"]}
        return sid, ids, doc

    def request(self, sid, status=201, **extra):
        body = {"type": "access", "subject": sid, "channel": "email",
                "controller": "telenor"}
        body.update(extra)
        r = self.call("POST", "/v1/requests", body, self.CS)
        self.assertEqual(r.status, status, r)
        return r

    def verify(self, rid):
        r = self.call("POST", "/v1/requests/%s/verification" % rid,
                      {"attestation": "id card seen"}, self.CS)
        self.assertEqual(r.status, 200, r)

    def test_AURA_RIGHTS_1_company_and_categories_recorded(self):
        sid, _, _ = self.customer()
        n = self.sql("SELECT count(*) FROM request")[0][0]
        r = self.request(sid, categories=["email", "phone"])
        self.assertEqual(r.json()["categories"], ["email", "phone"])
        self.assertEqual(r.json()["controller"], "telenor")
        rid = r.json()["id"]
        r = self.call("GET", "/v1/requests/" + rid, who=self.CS)
        self.assertEqual(r.json()["categories"], ["email", "phone"])
        # Without categories: all the data.
        self.assertIsNone(self.request(sid).json()["categories"])
        # The CLI takes them too.
        r = api.run_vaern(["--data", self.dir, "requests", "add",
                           "--controller", "telenor", "--type", "erasure",
                           "--channel", "letter", "--subject", sid,
                           "--categories", "phone,email"])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["categories"], ["phone", "email"])
        r = api.run_vaern(["--data", self.dir, "requests", "add",
                           "--controller", "telenor", "--type", "erasure",
                           "--channel", "letter", "--subject", sid,
                           "--categories", "phone,shoe_size"])
        self.assertEqual(r.rc, 1, r)
        self.assertIn("categories: item 2", r.err)
        n += 3
        # Bad input: another company, an unknown or repeated category.
        for body, mention in (
                ({"controller": "aura-fiber"}, "'controller'"),
                ({"categories": ["shoe_size"]}, "categories: item 1"),
                ({"categories": ["email", "email"]}, "twice"),
                ({"categories": []}, "'categories'"),
                ({"categories": "email"}, "'categories'")):
            r = self.request(sid, status=400, **body)
            self.assertError(r, 400, "invalid", mentions=mention)
        self.assertEqual(self.sql("SELECT count(*) FROM request")[0][0], n)

    def test_AURA_RIGHTS_1_report_limited_to_the_data_concerned(self):
        sid, _, doc = self.customer()
        rid = self.request(sid, categories=["email"]).json()["id"]
        self.verify(rid)
        r = self.call("GET", "/v1/requests/%s/report" % rid, who=self.CS)
        self.assertEqual(r.status, 200, r)
        cats = [c["category"] for c in r.json()["categories"]]
        self.assertEqual(cats, ["email"])
        self.assertNotIn("Ole Jensen", r.text)
        # The other side: a request for all the data shows the name.
        rid = self.request(sid).json()["id"]
        self.verify(rid)
        r = self.call("GET", "/v1/requests/%s/report" % rid, who=self.CS)
        self.assertIn("Ole Jensen", r.text)
        self.assertEqual(len(r.json()["categories"]), len(doc["facts"]))

    def test_AURA_RIGHTS_1_rectification_limited_to_the_data_concerned(self):
        sid, ids, _ = self.customer()
        rid = self.request(sid, type="rectification",
                           categories=["address"]).json()["id"]
        self.verify(rid)
        r = self.call("POST", "/v1/requests/%s/rectification" % rid,
                      {"fact": ids["name"], "value": "Ole Juhl"}, self.CS)
        err = self.assertError(r, 400, "invalid", secrets=("Ole Juhl",))
        self.assertIn("AURA-RIGHTS-1", err["message"])
        got = self.read(self.CS, sid, "contract", ["name"]).json()
        self.assertEqual(got["facts"][0]["value"], "Ole Jensen")
        r = self.call("POST", "/v1/requests/%s/rectification" % rid,
                      {"fact": ids["address"],
                       "value": "Vestergade 1, 8000 Aarhus C"}, self.CS)
        self.assertEqual(r.status, 200, r)
        got = self.read(self.CS, sid, "contract", ["address"]).json()
        self.assertEqual(got["facts"][0]["value"],
                         "Vestergade 1, 8000 Aarhus C")

    def test_AURA_RIGHTS_1_erasure_limited_to_the_data_concerned(self):
        """An erasure request naming the phone number erases that, and
        leaves the rest (not restricted, still found); one naming
        nothing shreds the subject."""
        sid, ids, doc = self.customer()
        phone = [f["value"] for f in doc["facts"]
                 if f["category"] == "phone"][0]
        email = [f["value"] for f in doc["facts"]
                 if f["category"] == "email"][0]
        rid = self.request(sid, type="erasure",
                           categories=["phone"]).json()["id"]
        self.verify(rid)
        r = self.call("POST", "/v1/requests/%s/erasure" % rid, None,
                      self.CS)
        self.assertEqual(r.status, 200, r)
        er = r.json()["erasure"]
        self.assertEqual((er["erased"], er["shredded"],
                          er["not_concerned"]),
                         (1, False, len(doc["facts"]) - 1))
        got = self.read(self.CS, sid, "contract")
        self.assertEqual(got.status, 200, got)  # not restricted
        self.assertNotIn("phone", [f["category"]
                                   for f in got.json()["facts"]])
        for typ, value, found in (("phone", phone, False),
                                  ("email", email, True)):
            r = self.call("POST", "/v1/subjects/lookup", {
                "type": typ, "value": value, "purpose": "contract"},
                self.CS)
            self.assertEqual(r.status, 200 if found else 404, r)
        # The other side: the whole of it.
        rid = self.request(sid, type="erasure").json()["id"]
        self.verify(rid)
        r = self.call("POST", "/v1/requests/%s/erasure" % rid, None,
                      self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["erasure"]["shredded"], r)


if __name__ == "__main__":
    unittest.main()
