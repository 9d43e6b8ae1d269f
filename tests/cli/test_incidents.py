#!/usr/bin/env python3
"""Black-box tests of security-weakness reports and the breach register
(issue 17): the real `vaern` CLI with concrete dates (--as-of) and the real
`vaern serve` on loopback, on the shipped policies/webshop.yaml.

Clauses of mission/CLAUSES.md proved here, each named in the test:
  SHOP-BREACH-1  anyone reports a weakness, anonymously or with a contact:
                 a case number and a secret; screenshots PNG/JPEG only,
                 sealed; sizes and a per-address rate limited; whitespace
                 refused; nothing stored in clear, nothing rendered
                 unescaped
  SHOP-BREACH-2  the receipt due in 2 Danish working days (Easter,
                 Christmas), the feedback in 2 weeks; both through the
                 outbox; near and past due listed; the reporter's status
                 by secret
  SHOP-BREACH-3  the DPO (or a role with `incidents: true`) classifies and
                 decides on notifying, with its reason; other roles refused
  GDPR-33        the 72 hours from awareness, a late notification needs its
                 reason, an awareness in the future refused, every change
                 audited, the register as JSON, CSV and HTML

Standard library only.
"""
import base64
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
import test_api as api  # noqa: E402  (Server, run_vaern, Result)

VAERN = os.environ.get("VAERN_BIN")
WEBSHOP = api.WEBSHOP
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2

PNG = (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 13 +
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32 + b"\xff\xd9"
SCRIPT = "<script>alert('x')</script>"


def b64(data):
    return base64.b64encode(data).decode()


class CliBase(unittest.TestCase):
    """A data directory with the web shop's policy, driven by the CLI."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-inc-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = os.path.join(self._tmp.name, "data")
        self.db = os.path.join(self.dir, "vaern.db")
        r = self.vaern("init", "--policy", WEBSHOP)
        self.assertEqual(r.rc, EXIT_OK, r)

    def vaern(self, *args, stdin=None, as_of=None):
        pre = ["--data", self.dir]
        if as_of is not None:
            pre += ["--as-of", as_of]
        if isinstance(stdin, str):
            stdin = stdin.encode()
        p = subprocess.run([VAERN, *pre, *args], input=stdin,
                           capture_output=True, env=api.BASE_ENV,
                           timeout=60)
        return api.Result(p)

    def report(self, as_of, doc=None):
        doc = doc or {"description": "Jeg kan se andres ordrer",
                      "where": "/ordrer",
                      "contact": {"email": "finder@example.dk"}}
        r = self.vaern("incidents", "report", "--json", "-",
                       stdin=json.dumps(doc), as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()

    def inc(self, *args, as_of=None, stdin=None):
        return self.vaern("incidents", *args, as_of=as_of, stdin=stdin)

    def sql(self, query):
        con = dbpeek.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            return con.execute(query).fetchall()
        finally:
            con.close()

    def audit(self):
        r = self.vaern("audit", "show")
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()

    def raw_db(self):
        return dbpeek.store_bytes(self.db)

    def outbox(self):
        """The messages in the spool, oldest first."""
        msgs = []
        for f in sorted(glob.glob(os.path.join(self.dir, "outbox",
                                               "*.json"))):
            with open(f) as fh:
                msgs.append(json.load(fh))
        return msgs


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class DeadlineTest(CliBase):
    """SHOP-BREACH-2: the receipt in 2 Danish working days, the feedback
    in 2 weeks, across Easter and Christmas."""

    def test_SHOP_BREACH_2_receipt_due_across_christmas(self):
        # Thu 24 Dec 2026: 25 and 26 Dec are holidays, 27 a Sunday;
        # Mon 28 is the first working day, Tue 29 the second.
        doc = self.report("2026-12-24T10:00:00Z")
        self.assertEqual(doc["receipt_due"], "2026-12-29")
        self.assertEqual(doc["feedback_due"], "2027-01-07")

    def test_SHOP_BREACH_2_receipt_due_across_easter(self):
        # Wed 1 Apr 2026: Maundy Thursday 2, Good Friday 3, Easter
        # Monday 6 April are Danish holidays: 7 and 8 April.
        doc = self.report("2026-04-01T09:00:00Z")
        self.assertEqual(doc["receipt_due"], "2026-04-08")
        self.assertEqual(doc["feedback_due"], "2026-04-15")

    def test_SHOP_BREACH_2_receipt_due_ordinary_week(self):
        # Mon 7 Dec 2026 with no holiday: Wednesday.
        self.assertEqual(self.report("2026-12-07T08:00:00Z")["receipt_due"],
                         "2026-12-09")

    def test_SHOP_BREACH_2_listed_on_each_side_of_the_boundary(self):
        # An anonymous report: no receipt can go out, so it stays due.
        doc = self.report("2026-12-24T10:00:00Z",
                          {"description": "Jeg kan se andres ordrer"})
        self.assertFalse(doc["receipt_sent"])
        case = doc["case"]
        # due 29 Dec: on 26 Dec "within 2 days" reaches 28 Dec: not yet.
        r = self.inc("list", "--due-within", "2d", as_of="2026-12-26")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["cases"], [])
        # on 27 Dec it reaches 29 Dec: listed, not overdue.
        r = self.inc("list", "--due-within", "2d", as_of="2026-12-27")
        cases = r.json()["cases"]
        self.assertEqual([c["case"] for c in cases], [case])
        self.assertFalse(cases[0]["overdue"])
        # 29 Dec is the last day; on 30 Dec the receipt is overdue.
        r = self.inc("list", "--due-within", "0", as_of="2026-12-29")
        self.assertFalse(r.json()["cases"][0]["overdue"])
        r = self.inc("list", "--due-within", "0", as_of="2026-12-30")
        self.assertTrue(r.json()["cases"][0]["overdue"])
        # The receipt sent: it leaves the list until the feedback nears.
        r = self.inc("receipt", case, as_of="2026-12-30T09:00:00Z")
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.inc("list", "--due-within", "2d", as_of="2026-12-30")
        self.assertEqual(r.json()["cases"], [])
        r = self.inc("list", "--due-within", "2d", as_of="2027-01-05")
        self.assertEqual([c["case"] for c in r.json()["cases"]], [case])

    def test_SHOP_BREACH_2_receipt_sent_when_the_report_is_received(self):
        """"Du vil altid inden for 1-2 hverdage modtage en kvittering ...
        så du ved, at vi har modtaget den": with a contact, the receipt
        goes out with the report itself, before any staff action, and the
        case is then due only for its feedback."""
        doc = self.report("2026-12-24T10:00:00Z")
        self.assertTrue(doc["receipt_sent"])
        msgs = self.outbox()
        self.assertEqual(len(msgs), 1, msgs)
        self.assertEqual(msgs[0]["to"], "finder@example.dk")
        self.assertIn("Kvittering", msgs[0]["title"])
        self.assertIn(doc["case"], msgs[0]["body"])
        # The feedback's day (2 weeks after the receipt's), in Danish.
        self.assertIn("senest 2027-01-07", msgs[0]["body"])
        self.assertNotIn("Jeg kan se", msgs[0]["body"])
        r = self.inc("status", doc["case"], "--secret", "-",
                     stdin=doc["secret"])
        self.assertEqual(r.json()["receipt_at"], "2026-12-24T10:00:00Z")
        # Never due, never overdue: on the receipt's last day and after
        # it the case is not listed (an anonymous one is, above).
        for day in ("2026-12-27", "2026-12-29", "2026-12-30"):
            r = self.inc("list", "--due-within", "2d", as_of=day)
            self.assertEqual(r.json()["cases"], [], day)
        r = self.inc("list", "--due-within", "2d", as_of="2027-01-05")
        self.assertEqual([c["case"] for c in r.json()["cases"]],
                         [doc["case"]])
        # Audited as the intake's, without the address.
        receipts = [e for e in self.audit() if e["action"] ==
                    "incident_receipt"]
        self.assertEqual(len(receipts), 1, receipts)
        self.assertNotIn("finder@", json.dumps(receipts))

    def test_SHOP_BREACH_2_receipt_in_the_reporters_language(self):
        """A reporter writing from a Swedish address gets the receipt in
        Swedish from the Danish shop; a .com address in the shop's
        Danish."""
        self.report("2026-12-07T08:00:00Z",
                    {"description": "x", "contact": {"email": "a@example.se"}})
        self.report("2026-12-07T08:00:00Z",
                    {"description": "x",
                     "contact": {"email": "b@example.com"}})
        titles = {m["to"]: m["title"] for m in self.outbox()}
        self.assertEqual(titles["a@example.se"],
                         "Kvitto på din anmälan om en säkerhetsbrist")
        self.assertEqual(titles["b@example.com"],
                         "Kvittering for din anmeldelse af en "
                         "sikkerhedsbrist")

    def test_SHOP_BREACH_2_receipt_and_feedback_through_the_outbox(self):
        doc = self.report("2026-12-07T08:00:00Z")
        case = doc["case"]
        # The receipt went out with the report: never twice.
        r = self.inc("receipt", case, as_of="2026-12-08T10:00:00Z")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("already", r.err)
        # An anonymous case's receipt is recorded by staff.
        anon = self.report("2026-12-07T08:00:00Z", {"description": "y"})
        r = self.inc("receipt", anon["case"], as_of="2026-12-08T09:00:00Z")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["receipt_at"], "2026-12-08T09:00:00Z")
        r = self.inc("feedback", case, "--text", "-", "--closed",
                     stdin="Fejlen er rettet.", as_of="2026-12-15T09:00:00Z")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertTrue(r.json()["closed"])
        files = sorted(glob.glob(os.path.join(self.dir, "outbox", "*.json")))
        self.assertEqual(len(files), 2, files)
        msgs = []
        for f in files:
            with open(f) as fh:
                msgs.append(json.load(fh))
        self.assertTrue(all(m["to"] == "finder@example.dk" for m in msgs))
        self.assertTrue(any("Kvittering" in m["title"] for m in msgs))
        self.assertTrue(any("Fejlen er rettet." in m["body"] for m in msgs))
        # The reporter sees the status with the secret; a wrong one is
        # refused with the same answer as an unknown case.
        r = self.inc("status", case, "--secret", "-", stdin=doc["secret"])
        self.assertEqual(r.rc, EXIT_OK, r)
        st = r.json()
        self.assertEqual(st["feedback"], "Fejlen er rettet.")
        self.assertTrue(st["closed"])
        r = self.inc("status", case, "--secret", "-", stdin="wrong")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("no case with this number and secret", r.err)
        # A closed case takes no more feedback.
        r = self.inc("feedback", case, "--text", "-", stdin="mere")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        # No text of the report or feedback reaches the audit trail.
        trail = json.dumps(self.audit())
        self.assertIn("incident_feedback", trail)
        self.assertNotIn("rettet", trail)
        self.assertNotIn("finder@", trail)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class MigrationTest(CliBase):
    def test_SHOP_BREACH_1_schema_5_data_directory_gains_the_tables(self):
        """A data directory of schema 5 (before issue 17) opens, gains
        the incident tables and says the latest schema, 7."""
        con = dbpeek.connect(self.db)
        con.executescript(
            "DROP TABLE incident; DROP TABLE incident_file;"
            " DROP TABLE incident_notice;"
            " UPDATE meta SET value = '5' WHERE key = 'schema_version';")
        con.close()
        self.report("2026-12-07T08:00:00Z")
        self.assertEqual(self.sql("SELECT value FROM meta WHERE key ="
                                  " 'schema_version'"), [("7",)])
        self.assertEqual(self.sql("SELECT count(*) FROM incident"), [(1,)])


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class KeyRotationTest(CliBase):
    def test_SHOP_BREACH_1_cases_open_after_a_master_key_rotation(self):
        """The case keys hang off the keystore's root key: a rotation
        re-wraps it, and every case still opens with the new key."""
        case = self.report("2026-12-07T08:00:00Z")["case"]
        r = self.vaern("key", "rotate", "--quiet")
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.inc("show", case)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["report"]["description"],
                         "Jeg kan se andres ordrer")


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class SwedishDeadlineTest(CliBase):
    """SHOP-BREACH-2 deadlines follow the controller's country: a Swedish
    controller (policies/aurora-optimal.yaml, no incidents section: 2
    working days, 2 weeks) counts Swedish working days."""

    POLICY = os.path.join(api.POLICY_DIR, "aurora-optimal.yaml")

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-inc-se-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = os.path.join(self._tmp.name, "data")
        self.db = os.path.join(self.dir, "vaern.db")
        r = self.vaern("init", "--policy", self.POLICY)
        self.assertEqual(r.rc, EXIT_OK, r)

    def test_SHOP_BREACH_2_swedish_easter_differs_from_danish(self):
        # Wed 1 Apr 2026: Maundy Thursday is a working day in Sweden
        # (not in Denmark): 2 April and, after Good Friday and Easter
        # Monday, 7 April.
        doc = self.report("2026-04-01T09:00:00Z", {"description": "x"})
        self.assertEqual(doc["receipt_due"], "2026-04-07")

    def test_SHOP_BREACH_2_swedish_christmas_eve_and_midsummer(self):
        # Wed 23 Dec 2026: Christmas Eve, Christmas Day, the weekend:
        # Mon 28 and Tue 29 Dec.
        doc = self.report("2026-12-23T09:00:00Z", {"description": "x"})
        self.assertEqual(doc["receipt_due"], "2026-12-29")
        self.assertEqual(doc["feedback_due"], "2027-01-06")
        # Thu 18 Jun 2026: Midsummer Eve Friday: Mon 22, Tue 23 June.
        doc = self.report("2026-06-18T09:00:00Z", {"description": "x"})
        self.assertEqual(doc["receipt_due"], "2026-06-23")


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class RegisterCliTest(CliBase):
    """SHOP-BREACH-3 and GDPR-33 through the CLI."""

    def triage(self, case, doc, as_of):
        return self.inc("triage", case, "--json", "-", stdin=json.dumps(doc),
                        as_of=as_of)

    def test_GDPR_33_72_hours_from_awareness(self):
        case = self.report("2026-12-07T08:00:00Z")["case"]
        r = self.triage(case, {"classification": "personal_data_breach",
                               "aware_at": "2026-12-07T10:00:00Z",
                               "nature": ["confidentiality"],
                               "categories": ["customer_email", "orders"],
                               "subjects_approx": 40,
                               "records_approx": 120,
                               "risk": "high"}, "2026-12-07T12:00:00Z")
        self.assertEqual(r.rc, EXIT_OK, r)
        doc = r.json()
        self.assertEqual(doc["notify_by"], "2026-12-10T10:00:00Z")
        self.assertEqual(doc["hours_left"], 70)
        # The last hour before, and past the 72 hours.
        r = self.inc("show", case, as_of="2026-12-10T09:30:00Z")
        self.assertEqual(r.json()["hours_left"], 0)
        r = self.inc("show", case, as_of="2026-12-10T10:30:00Z")
        self.assertEqual(r.json()["hours_left"], -1)

    def test_GDPR_33_late_notification_needs_the_reason(self):
        case = self.report("2026-12-07T08:00:00Z")["case"]
        base = {"classification": "personal_data_breach",
                "aware_at": "2026-12-07T10:00:00Z", "notify": True,
                "notify_reason": "Risiko for de registrerede"}
        # Notified exactly at 72 hours: no reason for delay needed.
        r = self.triage(case, dict(base, notified_at="2026-12-10T10:00:00Z"),
                        "2026-12-11")
        self.assertEqual(r.rc, EXIT_OK, r)
        # One second later without the reason: refused, nothing changed.
        case2 = self.report("2026-12-07T08:00:00Z")["case"]
        before = self.sql("SELECT register FROM incident WHERE case_id='%s'"
                          % case2)
        r = self.triage(case2, dict(base, notified_at="2026-12-10T10:00:01Z"),
                        "2026-12-11")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("delay_reason", r.err)
        self.assertEqual(before, self.sql(
            "SELECT register FROM incident WHERE case_id='%s'" % case2))
        r = self.triage(case2, dict(base, notified_at="2026-12-10T10:00:01Z",
                                    delay_reason="Weekend"), "2026-12-11")
        self.assertEqual(r.rc, EXIT_OK, r)

    def test_GDPR_33_awareness_in_the_future_refused(self):
        case = self.report("2026-12-07T08:00:00Z")["case"]
        r = self.triage(case, {"aware_at": "2026-12-07T12:00:01Z"},
                        "2026-12-07T12:00:00Z")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("'aware_at' lies in the future", r.err)
        r = self.triage(case, {"aware_at": "2026-12-07T12:00:00Z"},
                        "2026-12-07T12:00:00Z")
        self.assertEqual(r.rc, EXIT_OK, r)

    def test_SHOP_BREACH_3_decision_needs_its_reason(self):
        case = self.report("2026-12-07T08:00:00Z")["case"]
        r = self.triage(case, {"classification": "weakness",
                               "notify": False}, "2026-12-08")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("notify_reason", r.err)
        r = self.triage(case, {"classification": "weakness", "notify": False,
                               "notify_reason": "Ingen persondata"},
                        "2026-12-08")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["classification"], "weakness")
        for bad in ({"classification": "bad"}, {"risk": "extreme"},
                    {"nature": ["secrecy"]}, {"categories": ["nope"]},
                    {"subjects_approx": -1}, {"unknown": 1}):
            r = self.triage(case, bad, "2026-12-08")
            self.assertEqual(r.rc, EXIT_REFUSED, (bad, r))

    def test_GDPR_33_register_exports_escaped(self):
        case = self.report("2026-12-07T08:00:00Z")["case"]
        self.report("2026-12-07T09:00:00Z")  # not a breach: not listed
        r = self.triage(case, {"classification": "personal_data_breach",
                               "aware_at": "2026-12-07T10:00:00Z",
                               "consequences": SCRIPT,
                               "measures_taken": "=cmd|' /C calc'!A0",
                               "risk": "low", "notify": False,
                               "notify_reason": "Lav risiko"},
                        "2026-12-08")
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.inc("register", as_of="2026-12-08")
        self.assertEqual(r.rc, EXIT_OK, r)
        breaches = r.json()["breaches"]
        self.assertEqual([b["case"] for b in breaches], [case])
        self.assertEqual(breaches[0]["consequences"], SCRIPT)
        r = self.inc("register", "--format", "html", as_of="2026-12-08")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertNotIn("<script", r.out)
        self.assertIn("&lt;script&gt;", r.out)
        r = self.inc("register", "--format", "csv", as_of="2026-12-08")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertIn("\"'=cmd", r.out)
        # Every change audited, and no text in the trail or in clear.
        trail = self.audit()
        actions = [e["action"] for e in trail]
        self.assertIn("incident_triage", actions)
        self.assertIn("incident_register", actions)
        self.assertNotIn("alert", json.dumps(trail))
        self.assertNotIn(b"alert(", self.raw_db())
        self.assertNotIn(b"Lav risiko", self.raw_db())


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class IntakeApiTest(api.ApiCase):
    """SHOP-BREACH-1 and the roles (point 6) through `vaern serve`."""

    policies = (WEBSHOP,)
    actors = (("webshop", "dpo"), ("webshop", "security"),
              ("webshop", "customer_service"))
    serve_extra = ("--trusted-proxy", "127.0.0.1")
    _n = 0

    def post(self, body, addr=None):
        IntakeApiTest._n += 1
        addr = addr or "198.51.100.%d" % IntakeApiTest._n
        return self.server.request("POST", "/v1/reports", body=body,
                                   headers={"X-Forwarded-For": addr})

    def rows(self):
        con = dbpeek.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            return (con.execute("SELECT count(*) FROM incident").fetchone()[0],
                    con.execute("SELECT count(*) FROM incident_file")
                    .fetchone()[0])
        finally:
            con.close()

    def raw_db(self):
        return dbpeek.store_bytes(self.db)

    def test_SHOP_BREACH_1_anonymous_report_with_screenshots(self):
        before = self.rows()
        r = self.post({"description": "Andres ordrer vises " + SCRIPT,
                       "how_found": "Ved et tilfælde",
                       "where": "/min-konto",
                       "screenshots": [b64(PNG), b64(JPEG)]})
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        self.assertRegex(doc["case"], r"^SB-[2-9A-HJ-NP-Z]{12}$")
        self.assertGreaterEqual(len(doc["secret"]), 43)
        self.assertEqual(self.rows(), (before[0] + 1, before[1] + 2))
        # Sealed: neither the text nor the images are in the database.
        raw = self.raw_db()
        self.assertNotIn(b"Andres ordrer", raw)
        self.assertNotIn(PNG, raw)
        # The reporter follows the case with the secret alone.
        r = self.server.request("POST", "/v1/reports/%s/status" % doc["case"],
                                body={"secret": doc["secret"]})
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json()["receipt_at"])
        r = self.server.request("POST", "/v1/reports/%s/status" % doc["case"],
                                body={"secret": "x" * 43})
        self.assertError(r, 403, "forbidden")
        # Staff open the screenshots, as the images they were checked to be.
        r = self.call("GET", "/v1/incidents/%s/screenshots/1" % doc["case"],
                      who=("webshop", "security"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, PNG)
        self.assertTrue(r.header("Content-Type").startswith("image/png"))
        r = self.call("GET", "/v1/incidents/%s/screenshots/2" % doc["case"],
                      who=("webshop", "security"))
        self.assertEqual(r.body, JPEG)
        r = self.call("GET", "/v1/incidents/%s/screenshots/3" % doc["case"],
                      who=("webshop", "security"))
        self.assertError(r, 404, "not_found")
        r = self.call("GET", "/v1/incidents/%s/screenshots/1" % doc["case"],
                      who=("webshop", "customer_service"))
        self.assertError(r, 403, "forbidden")
        # Staff see the text as JSON data, escaped by JSON.
        r = self.call("GET", "/v1/incidents/%s" % doc["case"],
                      who=("webshop", "security"))
        self.assertEqual(r.status, 200, r)
        self.assertIn(SCRIPT, r.json()["report"]["description"])
        self.assertTrue(r.header("Content-Type").startswith(
            "application/json"))

    def test_SHOP_BREACH_2_receipt_sent_with_the_report_over_http(self):
        """The receipt reaches a reporter with a contact when the report
        is received, before any staff action; an anonymous reporter has
        the 201 answer only, and the receipt stays due for staff."""
        spool = os.path.join(self.dir, "outbox")
        email = api.uniq_email("finder")
        r = self.post({"description": "Andres ordrer",
                       "contact": {"email": email}})
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        self.assertTrue(doc["receipt_sent"])
        got = []
        for f in glob.glob(os.path.join(spool, "*%s*" % doc["case"])):
            with open(f) as fh:
                got.append(json.load(fh))
        self.assertEqual([m["to"] for m in got], [email])
        self.assertIn("Kvittering", got[0]["title"])
        self.assertIn(doc["case"], got[0]["body"])
        self.assertNotIn("Andres ordrer", got[0]["body"])
        r = self.server.request("POST", "/v1/reports/%s/status" % doc["case"],
                                body={"secret": doc["secret"]})
        self.assertIsNotNone(r.json()["receipt_at"])
        r = self.call("POST", "/v1/incidents/%s/receipt" % doc["case"],
                      who=("webshop", "dpo"))
        self.assertEqual(r.status // 100, 4, r)
        # Anonymous: nothing sent, the receipt still due.
        r = self.post({"description": "Andres ordrer"})
        anon = r.json()
        self.assertFalse(anon["receipt_sent"])
        self.assertEqual(glob.glob(os.path.join(spool, "*%s*" %
                                                anon["case"])), [])
        r = self.server.request("POST", "/v1/reports/%s/status" %
                                anon["case"], body={"secret": anon["secret"]})
        self.assertIsNone(r.json()["receipt_at"])

    def test_SHOP_BREACH_1_plain_page_and_its_form(self):
        import urllib.parse
        r = self.server.request("GET", "/report/webshop")
        self.assertEqual(r.status, 200, r)
        self.assertIn('<form method="post" action="/report/webshop"', r.text)
        self.assertIn("Anmeld en sikkerhedsbrist", r.text)
        self.assertNotIn("<script", r.text)
        self.assertIn("form-action 'self'",
                      r.header("Content-Security-Policy"))
        r = self.server.request("GET", "/report/nope")
        self.assertError(r, 404, "not_found")
        before = self.rows()

        def form(fields, addr="198.51.100.250"):
            return self.server.request(
                "POST", "/report/webshop",
                body=urllib.parse.urlencode(fields).encode(),
                content_type="application/x-www-form-urlencoded",
                headers={"X-Forwarded-For": addr})

        for fields, status in (({"description": "   "}, 400),
                               ({"description": "x", "evil": "1"}, 400),
                               ({"where": "/x", "description": ""}, 400)):
            r = form(fields)
            self.assertEqual(r.status, status, (fields, r))
        self.assertEqual(self.rows(), before)
        r = form({"description": SCRIPT + " i formularen",
                  "where": "<img src=x onerror=alert(1)>",
                  "contact_email": "", "contact_name": ""})
        self.assertEqual(r.status, 201, r)
        self.assertNotIn("<script", r.text)
        self.assertNotIn("<img", r.text)
        case = re.search(r"SB-[2-9A-HJ-NP-Z]{12}", r.text).group(0)
        secret = re.search(r"<td>([A-Za-z0-9_-]{43})</td>", r.text).group(1)
        r = self.server.request("POST", "/v1/reports/%s/status" % case,
                                body={"secret": secret})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.rows(), (before[0] + 1, before[1]))

    def test_SHOP_BREACH_1_bad_input_stores_nothing(self):
        before = self.rows()
        cases = [
            ({"description": " \n\t "}, 400, "white space"),
            ({"where": "/x"}, 400, "'description' is required"),
            ({"description": "x", "screenshots": [b64(b"GIF89a" + b"0" * 40)]},
             400, "screenshot 1 is not a PNG or JPEG"),
            ({"description": "x", "screenshots": [b64(PNG)] * 6}, 413,
             "at most 5 screenshots"),
            ({"description": "x" * 8193}, 413, "longer than"),
            ({"description": "x", "contact": {"email": "no-at-sign"}}, 400,
             "contact.email"),
            ({"description": "x", "extra": 1}, 400, None),
        ]
        for body, status, text in cases:
            r = self.post(body)
            self.assertEqual(r.status, status, (body, r))
            if text:
                self.assertIn(text, r.json()["error"]["message"], r)
            self.assertNotIn("no-at-sign", r.body.decode())
        self.assertEqual(self.rows(), before)

    def test_SHOP_BREACH_1_rate_limit_per_address(self):
        addr = "203.0.113.77"
        for _ in range(5):
            r = self.post({"description": "rapport"}, addr=addr)
            self.assertEqual(r.status, 201, r)
        before = self.rows()
        r = self.post({"description": "rapport"}, addr=addr)
        self.assertError(r, 429, "too_many")
        self.assertEqual(self.rows(), before)
        # Another address is not limited by it.
        r = self.post({"description": "rapport"}, addr="203.0.113.78")
        self.assertEqual(r.status, 201, r)

    def test_SHOP_BREACH_3_roles(self):
        r = self.post({"description": "rolle"})
        case = r.json()["case"]
        for who in (("webshop", "dpo"), ("webshop", "security")):
            r = self.call("GET", "/v1/incidents?all=1", who=who)
            self.assertEqual(r.status, 200, (who, r))
            self.assertIn(case, [c["case"] for c in r.json()["cases"]])
        r = self.call("GET", "/v1/incidents?all=1",
                      who=("webshop", "customer_service"))
        self.assertError(r, 403, "forbidden")
        r = self.call("PATCH", "/v1/incidents/%s" % case,
                      {"classification": "not_breach"},
                      who=("webshop", "customer_service"))
        self.assertError(r, 403, "forbidden")
        r = self.call("GET", "/v1/incidents", who=None)
        self.assertEqual(r.status, 401, r)
        r = self.call("PATCH", "/v1/incidents/%s" % case,
                      {"classification": "not_breach"},
                      who=("webshop", "dpo"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["classification"], "not_breach")
        # The refusal and the change are both audited.
        entries = self.audit("webshop")
        refused = [e for e in entries if e["action"] == "incident_triage"
                   and not e["allowed"]]
        self.assertTrue(refused, entries[-5:])

    def test_GDPR_33_affected_people_from_the_audit_trail(self):
        cs, dpo = ("webshop", "customer_service"), ("webshop", "dpo")
        sids = []
        for i in range(3):
            sids.append(self.create(cs, {
                "purpose": "customer_account",
                "facts": [{"category": "customer_name", "value": "P %d" % i},
                          {"category": "customer_email",
                           "value": api.uniq_email("aff")}]}))
        # Customer service reads two of them (emails only for one).
        for sid, cats in ((sids[0], ["customer_email"]),
                          (sids[1], ["customer_name", "customer_email"])):
            r = self.read(cs, sid, "customer_account", cats)
            self.assertEqual(r.status, 200, r)
        reads = [e for e in self.audit("webshop")
                 if e["action"] == "read" and e["allowed"]
                 and e["subject"] in sids]
        self.assertEqual(len(reads), 2, reads)
        first, last = reads[0]["at"], reads[-1]["at"]

        def affected(**params):
            r = self.call("GET", api.q("/v1/incidents/affected", **params),
                          who=dpo)
            self.assertEqual(r.status, 200, r)
            return r.json()

        doc = affected(**{"from": first, "to": last,
                          "role": "customer_service"})
        self.assertEqual(doc["subjects"], sorted(sids[:2]))
        self.assertEqual(doc["by_category"],
                         {"customer_email": 2, "customer_name": 1})
        # Only what leaked: the name category reaches one person.
        doc = affected(**{"from": first, "to": last,
                          "categories": "customer_name"})
        self.assertEqual(doc["subjects"], [sids[1]])
        # The window's edges: the second before the first read, none;
        # another role, none; a disclosure recipient, none.
        import datetime
        before = (datetime.datetime.strptime(first, "%Y-%m-%dT%H:%M:%SZ")
                  - datetime.timedelta(seconds=1)).strftime(
                      "%Y-%m-%dT%H:%M:%SZ")
        self.assertEqual(affected(**{"from": before, "to": before})
                         ["people"], 0)
        self.assertEqual(affected(**{"from": first, "to": last,
                                     "role": "marketing"})["people"], 0)
        self.assertEqual(affected(**{"from": first, "to": last,
                                     "recipient": "google"})["people"], 0)
        self.assertGreaterEqual(affected(**{"from": first, "to": first})
                                ["people"], 1)
        # The search is audited; customer service may not search.
        self.assertIn("incident_affected",
                      [e["action"] for e in self.audit("webshop")])
        r = self.call("GET", api.q("/v1/incidents/affected", **{
            "from": first, "to": last}), who=cs)
        self.assertError(r, 403, "forbidden")
        r = self.call("GET", api.q("/v1/incidents/affected", **{
            "from": first, "to": before}), who=dpo)
        self.assertError(r, 400, "invalid")

    def test_GDPR_33_notification_draft_and_art34_messages_once(self):
        # An actor of its own: the leaked token is this actor's.
        cs = self.add_actor("webshop", "cs_art34", "customer_service")
        dpo = ("webshop", "dpo")
        emails = [api.uniq_email("art34") for _ in range(2)]
        sids = [self.create(cs, {
            "purpose": "customer_account",
            "facts": [{"category": "customer_name", "value": "N"},
                      {"category": "customer_email", "value": e}]})
            for e in emails]
        for sid in sids:
            self.assertEqual(self.read(cs, sid, "customer_account",
                                       ["customer_email"]).status, 200)
        reads = [e for e in self.audit("webshop")
                 if e["action"] == "read" and e["subject"] in sids]
        window = {"from": reads[0]["at"], "to": reads[-1]["at"],
                  "actor": "cs_art34"}
        case = self.post({"description": "lækket token"}).json()["case"]
        # Not a breach yet: no draft, no messages.
        r = self.call("GET", "/v1/incidents/%s/notification" % case,
                      who=dpo)
        self.assertError(r, 400, "invalid")
        r = self.call("PATCH", "/v1/incidents/%s" % case, {
            "classification": "personal_data_breach",
            "aware_at": reads[-1]["at"], "nature": ["confidentiality"],
            "categories": ["customer_email"], "subjects_approx": 2,
            "risk": "low", "consequences": "Spam " + SCRIPT,
            "measures_taken": "Token spærret"}, who=dpo)
        self.assertEqual(r.status, 200, r)
        # Low risk: no Art. 34 messages.
        r = self.call("POST", api.q("/v1/incidents/%s/notices" % case,
                                    **window), who=dpo)
        self.assertError(r, 400, "invalid")
        r = self.call("GET", "/v1/incidents/%s/notification?lang=da" % case,
                      who=dpo)
        self.assertEqual(r.status, 200, r)
        draft = r.json()
        self.assertEqual(draft["authority"], "Datatilsynet")
        fields = {f["id"]: f for f in draft["fields"]}
        self.assertEqual(fields["nature"]["value"], ["Brud på fortroligheden"])
        self.assertEqual(fields["aware_at"]["label"],
                         "Tidspunkt for konstatering af bruddet")
        r = self.call("GET", "/v1/incidents/%s/notification?lang=sv"
                      "&format=html" % case, who=dpo)
        self.assertEqual(r.status, 200, r)
        self.assertIn("Konfidentialitet", r.text)
        self.assertNotIn("<script", r.text)
        r = self.call("PATCH", "/v1/incidents/%s" % case, {"risk": "high"},
                      who=dpo)
        self.assertEqual(r.status, 200, r)
        spool = os.path.join(self.dir, "outbox")
        before = set(glob.glob(os.path.join(spool, "*%s*" % case)))
        r = self.call("POST", api.q("/v1/incidents/%s/notices" % case,
                                    **window), who=dpo)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"sent": 2, "already": 0,
                                    "no_contact": 0})
        sent = set(glob.glob(os.path.join(spool, "*%s*" % case))) - before
        self.assertEqual(len(sent), 2)
        tos = set()
        for f in sent:
            with open(f) as fh:
                m = json.load(fh)
            tos.add(m["to"])
            self.assertIn("Token spærret", m["body"])
        self.assertEqual(tos, set(emails))
        # Never twice.
        r = self.call("POST", api.q("/v1/incidents/%s/notices" % case,
                                    **window), who=dpo)
        self.assertEqual(r.json(), {"sent": 0, "already": 2,
                                    "no_contact": 0})
        notices = [e for e in self.audit("webshop")
                   if e["action"] == "incident_notice"]
        self.assertEqual(sorted(e["subject"] for e in notices), sorted(sids))

    def test_GDPR_33_register_html_and_metrics(self):
        case = self.post({"description": "brud"}).json()["case"]
        r = self.call("PATCH", "/v1/incidents/%s" % case,
                      {"classification": "personal_data_breach",
                       "aware_at": "2026-01-01T00:00:00Z",
                       "consequences": SCRIPT},
                      who=("webshop", "dpo"))
        self.assertEqual(r.status, 200, r)
        r = self.call("GET", "/v1/incidents/register?format=html",
                      who=("webshop", "dpo"))
        self.assertEqual(r.status, 200, r)
        body = r.body.decode()
        self.assertNotIn("<script", body)
        self.assertIn(case, body)
        r = self.call("GET", "/v1/incidents/register?format=pdf",
                      who=("webshop", "dpo"))
        self.assertError(r, 400, "invalid")
        r = self.call("GET", "/metrics")
        self.assertEqual(r.status, 200, r)
        text = r.body.decode()
        self.assertRegex(text, r"(?m)^vaern_incidents_open \d+$")
        self.assertRegex(text, r"(?m)^vaern_breaches_late [1-9]\d*$")


if __name__ == "__main__":
    unittest.main()
