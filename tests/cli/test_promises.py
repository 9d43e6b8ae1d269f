#!/usr/bin/env python3
"""Every date vaern states is true (issue 10), driven through the real
binary (CLI and `vaern serve`) on the shipped seed policies.

Clauses proved, each named in the test that proves it:
  AOPT-RET-1, SHOP-RET-1, SHOP-RET-3, TEL-RET-1
                 no fact without a way out: collecting is a contact, so a
                 customer with no event recorded gets a date; `policy
                 check` warns of a rule that could leave a fact undated;
                 `retention plan` shows undated facts per rule
  AOPT-CUST-1, CEK-RET-5
                 an event the policy marks known_in_advance may be dated
                 ahead (CLI and API); others are refused
  AOPT-ERASE-1, GDPR-17
                 after an erasure only the law keeps a fact, and the date
                 told is the sweep's (day before: kept; day stated: gone)
  SHOP-MKT-1     unsubscribing (one click, or any withdrawal) records the
                 end event, so the address gets its date and is swept
  TEL-LOG-1      a year is a year: gone at the first midnight (UTC) after
                 the full period, never before, across summer time too
  CEK-RET-2, GDPR-17
                 `vaern subject erase` keeps what a legal obligation keeps,
                 refuses under a legal hold; the override is loud, needs a
                 reason word and is audited
  GDPR-18        restriction stops the sweep; the plan says so
  GDPR-7         a withdrawal dated before the consent's last use is
                 refused
  GDPR-15        the access report says how long each category is kept,
                 in words, in da/sv/en, never a bare null
  GDPR-12        registering, extending, completing and refusing a
                 request each send the person a message through the
                 outbox, audited without the address
"""
import json
import os
import sqlite3

import dbpeek
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_consent import ConsentCase  # noqa: E402

VAERN = os.environ.get("VAERN_BIN")
ROOT = os.environ.get("VAERN_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
POL = os.path.join(ROOT, "policies")
TIMEOUT = 60
EXIT_OK, EXIT_REFUSED = 0, 1
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}

# CEK-MAND-1: name, address and phone make a Cekura customer.
ADDRESS = ("address", "Amagerbrogade 12, 2300 København S")
PHONE = ("phone", "+45 21 22 23 24")

TABLES = ("subject", "identifier", "fact", "event", "consent",
          "consent_state", "request")


class Result:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout.decode("utf-8", "replace")
        self.err = p.stderr.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "rc=%d stdout=%r stderr=%r" % (self.rc, self.out[:800],
                                              self.err[:800])


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class CliCase(unittest.TestCase):
    """A data directory with one seed policy, driven by the CLI."""

    policy = None
    controller = None

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-i10-")
        self.addCleanup(self._tmp.cleanup)
        self.tmp = self._tmp.name
        self.dir = os.path.join(self.tmp, "data")
        r = self.vaern("init", "--policy", os.path.join(POL, self.policy))
        self.assertEqual(r.rc, EXIT_OK, r)

    def vaern(self, *args, stdin=None, as_of=None, env=None):
        pre = ["--data", self.dir]
        if as_of is not None:
            pre += ["--as-of", as_of]
        p = subprocess.run([VAERN, *pre, *args], input=stdin,
                           capture_output=True,
                           env=dict(BASE_ENV, **(env or {})),
                           timeout=TIMEOUT)
        return Result(p)

    def add(self, purpose, facts, as_of, collected_at=None):
        doc = {"purpose": purpose,
               "facts": [{"category": c, "value": v} for c, v in facts]}
        if collected_at is not None:
            for f in doc["facts"]:
                f["collected_at"] = collected_at
        r = self.vaern("subject", "add", "--controller", self.controller,
                       "--json", "-", stdin=json.dumps(doc).encode(),
                       as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()["subject"]

    def event(self, sid, kind, at, as_of):
        return self.vaern("subject", "event", "--controller",
                          self.controller, sid, kind, "--at", at,
                          as_of=as_of)

    def show(self, sid):
        r = self.vaern("subject", "show", "--controller", self.controller,
                       sid)
        return r.json() if r.rc == EXIT_OK else None

    def expiry(self, sid):
        return {f["category"]: f.get("expires_at")
                for f in self.show(sid)["facts"]}

    def categories(self, sid):
        doc = self.show(sid)
        return None if doc is None else sorted(
            f["category"] for f in doc["facts"])

    def sweep(self, as_of):
        r = self.vaern("retention", "sweep", as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()

    def plan(self, as_of):
        r = self.vaern("retention", "plan", "--format", "json", as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()

    def sql(self, query, args=()):
        con = dbpeek.connect("file:%s?mode=ro" % os.path.join(
            self.dir, "vaern.db"), uri=True)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def rows(self):
        """Every row of the vault's tables, to prove a refusal changed
        nothing."""
        return {t: self.sql("SELECT * FROM %s" % t) for t in TABLES}

    def audit(self):
        r = self.vaern("audit", "show", "--limit", "10000")
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()


# ---- 1. no fact without a way out ------------------------------------------

class AuroraUndatedTest(CliCase):
    policy = "aurora-optimal.yaml"
    controller = "aurora-optimal"

    def test_AOPT_RET_1_customer_with_no_event_gets_a_date(self):
        """Collecting is a customer contact: 3 years from it, swept on the
        day, kept the day before."""
        sid = self.add("orders", [("name", "Sven Berg"),
                                  ("email", "sven@example.se")],
                       as_of="2026-03-10")
        self.assertEqual(set(self.expiry(sid).values()),
                         {"2029-03-10T00:00:00Z"})
        self.assertEqual(self.sweep("2029-03-09")["facts_deleted"], 0)
        self.assertEqual(self.categories(sid), ["email", "name"])
        rep = self.sweep("2029-03-10")
        self.assertEqual(rep["facts_deleted"], 2, rep)
        self.assertIsNone(self.categories(sid))

    def test_AOPT_RET_1_a_later_contact_still_moves_the_date(self):
        sid = self.add("orders", [("name", "Sven Berg")], as_of="2026-03-10")
        r = self.event(sid, "last_contact", "2027-05-01", as_of="2027-05-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(self.expiry(sid)["name"], "2030-05-01T00:00:00Z")


class WebshopUndatedTest(CliCase):
    policy = "webshop.yaml"
    controller = "webshop"

    def test_SHOP_RET_1_contact_form_data_dated_from_the_contact(self):
        sid = self.add("contact_requests",
                       [("contact_name", "Mette Holm"),
                        ("contact_email", "mette@example.dk")],
                       as_of="2026-04-01")
        self.assertEqual(set(self.expiry(sid).values()),
                         {"2028-04-01T00:00:00Z"})
        self.assertEqual(self.sweep("2028-03-31")["facts_deleted"], 0)
        self.assertEqual(self.sweep("2028-04-01")["facts_deleted"], 2)

    def test_SHOP_RET_3_direct_contact_dated_from_the_contact(self):
        sid = self.add("direct_contacts", [("direct_contact_name",
                                            "Jens Dahl")],
                       as_of="2026-04-01")
        self.assertEqual(self.expiry(sid)["direct_contact_name"],
                         "2031-04-01T00:00:00Z")
        self.assertEqual(self.sweep("2031-03-31")["facts_deleted"], 0)
        self.assertEqual(self.sweep("2031-04-01")["facts_deleted"], 1)

    def test_SHOP_RET_2_plan_lists_undated_facts_per_rule(self):
        """A customer whose relationship start was never recorded waits
        for its end: the DPO sees the undated facts, per rule."""
        self.add("orders", [("customer_name", "Mette Lund"),
                            ("orders", "kaffe")], as_of="2026-04-01")
        plan = self.plan("2026-05-01")
        undated = [(p["rule"], p["facts"]) for p in plan["plan"]
                   if p["when"] == "undated"]
        self.assertEqual(undated, [("customers", 2)], plan)
        self.assertEqual(plan["undated"], 2)
        r = self.vaern("retention", "plan", as_of="2026-05-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertIn("undated", r.out)
        self.assertIn("customers", r.out)


class PolicyCheckUndatedTest(CliCase):
    policy = "webshop.yaml"
    controller = "webshop"

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def webshop(self, anchor_line, extra=""):
        with open(os.path.join(POL, "webshop.yaml"), encoding="utf-8") as f:
            src = f.read()
        old = "    anchor: [collected, last_contact, relationship_end]\n"
        self.assertIn(old, src)
        return src.replace(old, anchor_line + extra, 1)

    def test_TEL_RET_1_policy_check_warns_of_a_rule_that_leaves_facts_undated(
            self):
        path = self.write("undated.yaml", self.webshop(
            "    anchor: [last_contact, relationship_end]\n"))
        r = self.vaern("policy", "check", path)
        self.assertEqual(r.rc, EXIT_OK, r)  # a warning, not an error
        self.assertIn("warning: retention rule 'contact_form'", r.err)
        self.assertIn("no anchor 'collected'", r.err)
        self.assertIn("waits_for", r.err)
        self.assertEqual(r.err.count("warning"), 1, r)
        # A rule that says it waits for the end of a running state: quiet.
        path = self.write("waits.yaml", self.webshop(
            "    anchor: [last_contact, relationship_end]\n",
            "    waits_for: relationship_end\n"))
        r = self.vaern("policy", "check", path)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertNotIn("warning", r.err)
        # waits_for must name an anchor that ends a state.
        path = self.write("bad.yaml", self.webshop(
            "    anchor: [last_contact, relationship_end]\n",
            "    waits_for: last_contact\n"))
        before = self.rows()
        r = self.vaern("policy", "check", path)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("retention rule 'contact_form': waits_for "
                      "'last_contact' ends no running state", r.err)
        r = self.vaern("policy", "load", path)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertEqual(self.rows(), before)

    def test_TEL_RET_1_seed_policies_leave_no_fact_undated_unsaid(self):
        for name in sorted(os.listdir(POL)):
            if not name.endswith(".yaml"):
                continue
            with self.subTest(policy=name):
                r = self.vaern("policy", "check", os.path.join(POL, name))
                self.assertEqual(r.rc, EXIT_OK, r)
                self.assertEqual(r.err, "", r)


class TelenorUndatedTest(CliCase):
    policy = "telenor.yaml"
    controller = "telenor"

    def test_TEL_RET_1_running_relationship_shown_undated_then_dated(self):
        sid = self.add("contract", [("name", "Ole Jensen")],
                       as_of="2026-01-05")
        plan = self.plan("2026-02-01")
        self.assertIn(("customer_data", 1),
                      [(p["rule"], p["facts"]) for p in plan["plan"]
                       if p["when"] == "undated"], plan)
        r = self.event(sid, "relationship_end", "2026-06-30",
                       as_of="2026-07-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(self.expiry(sid)["name"], "2026-06-30T00:00:00Z")


# ---- 2. events known in advance ----------------------------------------------

class AdvanceEventTest(CliCase):
    policy = "aurora-optimal.yaml"
    controller = "aurora-optimal"

    def test_AOPT_CUST_1_warranty_end_dated_ahead_at_the_sale(self):
        sid = self.add("orders", [("name", "Sven Berg")], as_of="2026-01-10")
        r = self.event(sid, "warranty_end", "2027-01-10", as_of="2026-01-10")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["at"], "2027-01-10T00:00:00Z")
        # 3 years from the warranty's end, not from the sale.
        self.assertEqual(self.expiry(sid)["name"], "2030-01-10T00:00:00Z")
        self.assertEqual(self.sweep("2030-01-09")["facts_deleted"], 0)
        self.assertEqual(self.sweep("2030-01-10")["facts_deleted"], 1)

    def test_AOPT_CUST_1_other_events_never_lie_ahead(self):
        sid = self.add("orders", [("name", "Sven Berg")], as_of="2026-01-10")
        before = self.rows()
        r = self.event(sid, "last_contact", "2026-01-11", as_of="2026-01-10")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("event 'last_contact' is in the future", r.err)
        self.assertIn("known_in_advance", r.err)
        self.assertEqual(self.rows(), before)
        # The day itself is not ahead.
        r = self.event(sid, "last_contact", "2026-01-10", as_of="2026-01-10")
        self.assertEqual(r.rc, EXIT_OK, r)


class CekuraCompetitionTest(CliCase):
    policy = "cekura.yaml"
    controller = "cekura"

    def test_CEK_RET_5_competition_end_known_when_it_opens(self):
        sid = self.add("competitions", [("competition_entries", "svar: B")],
                       as_of="2026-03-01")
        # Without its end on record: 1 year from the entry, at most.
        self.assertEqual(self.expiry(sid)["competition_entries"],
                         "2027-03-01T00:00:00Z")
        r = self.event(sid, "competition_end", "2026-06-30",
                       as_of="2026-03-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(self.expiry(sid)["competition_entries"],
                         "2027-06-30T00:00:00Z")
        self.assertEqual(self.sweep("2027-06-29")["facts_deleted"], 0)
        self.assertEqual(self.sweep("2027-06-30")["facts_deleted"], 1)


class AdvanceEventApiTest(ConsentCase):
    policies = (os.path.join(POL, "aurora-optimal.yaml"),)
    roles = (("aurora-optimal", "customer_service"),)

    def test_AOPT_CUST_1_api_dates_a_warranty_ahead_refuses_others(self):
        self.serve("2026-01-10")
        sid = self.create("customer_service", {
            "purpose": "orders", "source": "web_form",
            "facts": [{"category": "name", "value": "Sven Berg"}]})
        path = "/v1/subjects/%s/events" % sid
        r = self.call("POST", path, {"kind": "warranty_end",
                                     "at": "2027-01-10"},
                      "customer_service")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["at"], "2027-01-10T00:00:00Z")
        before = self.sql("SELECT count(*) FROM event")
        r = self.call("POST", path, {"kind": "last_contact",
                                     "at": "2026-02-01"},
                      "customer_service")
        self.assertError(r, 400, mentions="last_contact")
        self.assertIn("known_in_advance", r.json()["error"]["message"])
        self.assertEqual(self.sql("SELECT count(*) FROM event"), before)


# ---- 3 and 6. erasure: the law's date is the sweep's ------------------------

class AuroraErasureTest(CliCase):
    policy = "aurora-optimal.yaml"
    controller = "aurora-optimal"

    def customer(self):
        return self.add("invoicing", [("name", "Sven Berg"),
                                      ("email", "sven@example.se"),
                                      ("customer_number", "K-1001")],
                        as_of="2026-03-10")

    def erasure_request(self, sid, as_of):
        r = self.vaern("requests", "add", "--controller", self.controller,
                       "--type", "erasure", "--subject", sid, "--channel",
                       "email", as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        rid = r.json()["id"]
        r = self.vaern("requests", "verify", "--controller", self.controller,
                       rid, "--attest", "id card seen", as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return rid

    def test_AOPT_ERASE_1_GDPR_17_erasure_date_is_the_sweeps(self):
        sid = self.customer()
        # A running subscription: the general rule gives no date at all.
        r = self.event(sid, "subscription_start", "2026-03-10",
                       as_of="2026-03-10")
        self.assertEqual(r.rc, EXIT_OK, r)
        rid = self.erasure_request(sid, "2026-04-01")
        r = self.vaern("requests", "erase", "--controller", self.controller,
                       rid, as_of="2026-04-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        kept = r.json()["erasure"]["kept"]
        self.assertEqual(kept, [{
            "category": "customer_number", "facts": 1,
            "law": "Bokföringslagen (1999:1078) 7 kap. 2 §",
            "rule": "bookkeeping", "until": "2034-01-01"}])
        self.assertIn("customer_number until 2034-01-01",
                      r.json()["status_reason"])
        self.assertEqual(self.expiry(sid),
                         {"customer_number": "2034-01-01T00:00:00Z"})
        # An event after the erasure does not bring the general rule back.
        r = self.event(sid, "subscription_start", "2027-01-01",
                       as_of="2027-01-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(self.expiry(sid),
                         {"customer_number": "2034-01-01T00:00:00Z"})
        rep = self.sweep("2033-12-31")
        self.assertEqual(rep["facts_deleted"], 0, rep)
        self.assertEqual(self.categories(sid), ["customer_number"])
        rep = self.sweep("2034-01-01")
        self.assertEqual(rep["facts_deleted"], 1, rep)
        self.assertEqual(rep["subjects_shredded"], 1, rep)
        self.assertIsNone(self.categories(sid))

    def test_GDPR_17_operator_erase_keeps_what_the_law_keeps(self):
        sid = self.customer()
        r = self.vaern("subject", "erase", "--controller", self.controller,
                       sid, as_of="2026-04-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        doc = r.json()
        self.assertEqual((doc["erased"], doc["facts"], doc["shredded"]),
                         (True, 2, False), doc)
        self.assertEqual(doc["kept"][0]["until"], "2034-01-01")
        self.assertEqual(self.categories(sid), ["customer_number"])
        # The e-mail address no longer finds the person.
        r = self.vaern("subject", "find", "--controller", self.controller,
                       "email", "-", stdin=b"sven@example.se")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertEqual(self.sweep("2033-12-31")["facts_deleted"], 0)
        self.assertEqual(self.sweep("2034-01-01")["facts_deleted"], 1)
        entries = [e for e in self.audit() if e.get("action") == "erase"]
        self.assertEqual(len(entries), 1, entries)
        self.assertEqual(entries[0]["role"], "operator")
        self.assertIn("1 categories kept by law", entries[0]["reason"])
        self.assertNotIn("sven", json.dumps(entries).lower())


class CekuraOperatorEraseTest(CliCase):
    policy = "cekura.yaml"
    controller = "cekura"

    def customer(self):
        return self.add("customer_admin",
                        [("name", "Karen Holm"), ADDRESS, PHONE,
                         ("email", "karen@example.dk"),
                         ("payment_details", "Betalingsservice 4411")],
                        as_of="2026-05-02")

    def test_CEK_RET_2_GDPR_17_subject_erase_keeps_bookkeeping(self):
        sid = self.customer()
        r = self.vaern("subject", "erase", "--controller", "cekura", sid,
                       as_of="2026-06-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        kept = r.json()["kept"]
        self.assertEqual([(k["category"], k["law"], k["until"])
                          for k in kept],
                         [("payment_details", "Bogføringsloven § 10",
                           "2032-01-01")])
        self.assertEqual(self.categories(sid), ["payment_details"])
        self.assertEqual(self.sweep("2031-12-31")["facts_deleted"], 0)
        rep = self.sweep("2032-01-01")
        self.assertEqual((rep["facts_deleted"], rep["subjects_shredded"]),
                         (1, 1), rep)

    def test_CEK_HOLD_1_subject_erase_refused_under_a_legal_hold(self):
        sid = self.customer()
        r = self.vaern("subject", "hold", "--controller", "cekura", sid,
                       "--reason", "tvist om regning", as_of="2026-06-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        before = self.rows()
        for extra in ((), ("--destroy-legally-kept-data", "court_order")):
            r = self.vaern("subject", "erase", "--controller", "cekura", sid,
                           *extra, as_of="2026-06-02")
            self.assertEqual(r.rc, EXIT_REFUSED, r)
            self.assertIn("legal hold", r.err)
            self.assertNotIn("Karen", r.err)
            self.assertEqual(self.rows(), before)

    def test_GDPR_17_override_is_loud_needs_a_reason_and_is_audited(self):
        sid = self.customer()
        before = self.rows()
        r = self.vaern("subject", "erase", "--controller", "cekura", sid,
                       "--destroy-legally-kept-data", "because I say so",
                       as_of="2026-06-02")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("court_order", r.err)
        self.assertEqual(self.rows(), before)
        r = self.vaern("subject", "erase", "--controller", "cekura", sid,
                       "--destroy-legally-kept-data", "court_order",
                       as_of="2026-06-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual((r.json()["shredded"], r.json()["override"]),
                         (True, "court_order"))
        self.assertIsNone(self.categories(sid))
        loud = [e for e in self.audit()
                if e.get("action") == "erase_override"]
        self.assertEqual(len(loud), 1, loud)
        self.assertIn("OVERRIDE", loud[0]["reason"])
        self.assertIn("court_order", loud[0]["reason"])
        self.assertIn("payment_details", loud[0]["reason"])
        self.assertNotIn("Karen", json.dumps(loud))


class ErasureApiTest(ConsentCase):
    policies = (os.path.join(POL, "aurora-optimal.yaml"),)
    roles = (("aurora-optimal", "finance"),)

    def test_AOPT_ERASE_1_GDPR_18_what_erasure_left_stays_only_stored(self):
        self.serve("2026-03-10")
        sid = self.create("finance", {
            "purpose": "invoicing", "source": "web_form",
            "facts": [{"category": "name", "value": "Sven Berg"},
                      # The policy says customer numbers come from the
                      # controller (TEL-CAT-3: a source fits its category).
                      {"category": "customer_number", "value": "K-77",
                       "source": "controller"}]})
        r = self.call("POST", "/v1/requests", {
            "type": "erasure", "subject": sid, "channel": "email"},
            "finance")
        self.assertEqual(r.status, 201, r)
        rid = r.json()["id"]
        r = self.call("POST", "/v1/requests/%s/verification" % rid,
                      {"attestation": "id card seen"}, "finance")
        self.assertEqual(r.status, 200, r)
        r = self.call("POST", "/v1/requests/%s/erasure" % rid, None,
                      "finance")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["erasure"]["kept"][0]["until"],
                         "2034-01-01")
        # Lifting a restriction does not free what only the law keeps.
        r = self.call("DELETE", "/v1/subjects/%s/restriction" % sid, None,
                      "finance")
        self.assertEqual(r.status, 200, r)
        r = self.read("finance", sid, "invoicing")
        self.assertError(r, 403)
        # Bookkeeping, allowed while restricted, still reads it.
        r = self.read("finance", sid, "bookkeeping")
        self.assertEqual(r.status, 200, r)
        self.assertEqual([f["category"] for f in r.json()["facts"]],
                         ["customer_number"])


# ---- 4. unsubscribing ends the subscription ---------------------------------

class UnsubscribeTest(ConsentCase):
    policies = (os.path.join(POL, "webshop.yaml"),)
    roles = (("webshop", "marketing"),)

    def subscriber(self):
        r = self.call("POST", "/v1/subjects", {
            "purpose": "newsletter", "source": "web_form",
            "facts": [{"category": "newsletter_email",
                       "value": "lars@example.dk"}],
            "consents": [{"purpose": "newsletter", "source": "web_form"}]},
            "marketing")
        self.assertEqual(r.status, 201, r)
        return r.json()["subject"], r.json()["unsubscribe_tokens"][
            "newsletter"]

    def expires(self, sid):
        r = self.cli("subject", "show", "--controller", "webshop", sid)
        if r.returncode != 0:
            return None
        return {f["category"]: f.get("expires_at")
                for f in json.loads(r.stdout)["facts"]}

    def events(self, sid):
        r = self.cli("subject", "show", "--controller", "webshop", sid)
        return [e["kind"] for e in json.loads(r.stdout)["events"]]

    def test_SHOP_MKT_1_one_click_unsubscribe_dates_the_address(self):
        self.serve("2026-02-01T10:00:00Z")
        sid, token = self.subscriber()
        self.stop()
        # Subscribed: the address waits for the unsubscription.
        self.assertEqual(self.expires(sid), {"newsletter_email": None})
        self.assertEqual(self.events(sid), ["newsletter_subscribed"])
        self.serve("2026-05-04T09:30:00Z")
        r = self.call("POST", "/v1/unsubscribe/" + token,
                      b"List-Unsubscribe=One-Click",
                      content_type="application/x-www-form-urlencoded")
        self.assertEqual(r.json()["unsubscribed"], True, r)
        self.stop()
        self.assertEqual(self.events(sid), ["newsletter_subscribed",
                                            "newsletter_unsubscribed"])
        # 0 days from the unsubscription: gone at the next midnight.
        self.assertEqual(self.expires(sid),
                         {"newsletter_email": "2026-05-05T00:00:00Z"})
        r = self.cli("retention", "sweep", as_of="2026-05-04T23:59:59Z")
        self.assertEqual(json.loads(r.stdout)["facts_deleted"], 0, r)
        r = self.cli("retention", "sweep", as_of="2026-05-05")
        self.assertEqual(json.loads(r.stdout)["facts_deleted"], 1, r)

    def test_SHOP_MKT_1_any_withdrawal_ends_the_subscription(self):
        self.serve("2026-02-01")
        sid, _ = self.subscriber()
        self.stop()
        r = self.cli("subject", "consent", "--controller", "webshop", sid,
                     "newsletter", "--source", "phone", "--withdraw",
                     as_of="2026-03-01")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(self.expires(sid),
                         {"newsletter_email": "2026-03-01T00:00:00Z"})
        # Subscribing again opens the subscription once more.
        r = self.cli("subject", "consent", "--controller", "webshop", sid,
                     "newsletter", "--source", "web_form",
                     as_of="2026-03-02")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(self.expires(sid), {"newsletter_email": None})


# ---- 5. a year is a year -----------------------------------------------------

class YearTest(CliCase):
    """TEL-LOG-1: a year is a full year. Since issue 18 Telenor's logging
    data lives in the retained-data store (docs/traffic.md): a day of
    records goes whole at the midnight after the anniversary of the day,
    so no record -- its last second included -- goes before it is a full
    year old, in any time zone."""
    policy = "telenor.yaml"
    controller = "telenor"

    def logged(self, at):
        cells = os.path.join(self.tmp, "cells.csv")
        with open(cells, "w") as f:
            f.write("mcc,mnc,lac,ci,lat,lon,azimuth\n"
                    "238,01,100,1001,55.6761,12.5683,120\n")
        r = self.vaern("traffic", "cells", "--controller", "telenor", cells)
        self.assertEqual(r.rc, EXIT_OK, r)
        csv = ("kind,start,end,a,b,c,imsi,imei,start_cell,end_cell\n"
               "sms,%s,,+4512345678,+4587654321,,238010000000001,"
               "490154203237518,238-01-100-1001,\n" % at)
        r = self.vaern("traffic", "import", "--controller", "telenor", "-",
                       stdin=csv.encode(), as_of=at)
        self.assertEqual(r.rc, EXIT_OK, r)
        return at[:10]

    def deleted_from(self, day, as_of):
        r = self.vaern("traffic", "plan", "--controller", "telenor",
                       as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return {d["date"]: d["deleted_from"] for d in r.json()["days"]}[day]

    def tsweep(self, t):
        r = self.vaern("traffic", "sweep", as_of=t)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()["records"]

    def test_TEL_LOG_1_a_year_is_a_full_year(self):
        day = self.logged("2026-01-10T22:30:00Z")
        self.assertEqual(self.deleted_from(day, "2026-01-11"), "2027-01-11")
        # At 22:29 and at the very end of the anniversary: kept.
        for t in ("2027-01-10T22:29:00Z", "2027-01-10T23:59:59Z"):
            self.assertEqual(self.tsweep(t), 0, t)
        self.assertEqual(self.tsweep("2027-01-11T00:00:00Z"), 1)

    def test_TEL_LOG_1_a_year_across_summer_time(self):
        """Collected 00:30 Danish time on 29 March 2026, the night clocks
        go forward (2026-03-28T23:30Z): kept until the UTC day after its
        anniversary, so never less than a year in any time zone."""
        spring = self.logged("2026-03-28T23:30:00Z")
        autumn = self.logged("2026-10-24T23:30:00Z")  # clocks go back 25th
        self.assertEqual(self.deleted_from(spring, "2026-11-01"),
                         "2027-03-29")
        self.assertEqual(self.deleted_from(autumn, "2026-11-01"),
                         "2027-10-25")
        self.assertEqual(self.tsweep("2027-03-28T23:59:59Z"), 0)
        self.assertEqual(self.tsweep("2027-03-29T00:00:00Z"), 1)
        self.assertEqual(self.tsweep("2027-10-24T23:59:59Z"), 0)
        self.assertEqual(self.tsweep("2027-10-25T00:00:00Z"), 1)

    def test_TEL_LOG_1_collected_at_midnight_kept_a_full_year(self):
        """A record at 00:00 shares its day with the day's last second:
        the day goes at the midnight after the anniversary (a day later
        than the record alone would need; never earlier)."""
        day = self.logged("2026-01-10T00:00:00Z")
        self.assertEqual(self.deleted_from(day, "2026-01-11"), "2027-01-11")
        self.assertEqual(self.tsweep("2027-01-10T23:59:59Z"), 0)
        self.assertEqual(self.tsweep("2027-01-11"), 1)


# ---- 7. restriction stops the sweep -----------------------------------------

class RestrictionTest(CliCase):
    policy = "cekura.yaml"
    controller = "cekura"

    def test_GDPR_18_restricted_data_is_kept_and_the_plan_says_so(self):
        sid = self.add("customer_admin", [("name", "Karen Holm"), ADDRESS,
                                          PHONE,
                                          ("email", "karen@example.dk")],
                       as_of="2026-01-10")
        self.assertEqual(set(self.expiry(sid).values()),
                         {"2026-03-10T00:00:00Z"})
        r = self.vaern("subject", "restrict", "--controller", "cekura", sid,
                       as_of="2026-02-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        rep = self.sweep("2026-03-10")
        self.assertEqual((rep["facts_deleted"], rep["facts_held"]), (0, 4),
                         rep)
        self.assertEqual(self.categories(sid),
                         ["address", "email", "name", "phone"])
        plan = self.plan("2026-03-10")
        self.assertIn(("general", 4),
                      [(p["rule"], p["facts"]) for p in plan["plan"]
                       if p["when"] == "restricted"], plan)
        self.assertEqual(plan["restricted"], 4)
        r = self.vaern("subject", "restrict", "--controller", "cekura", sid,
                       "--lift", as_of="2026-04-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(self.plan("2026-04-01")["restricted"], 0)
        rep = self.sweep("2026-04-01")
        self.assertEqual(rep["facts_deleted"], 4, rep)


class RestrictedLedgerTest(CliCase):
    policy = "telenor.yaml"
    controller = "telenor"

    def test_GDPR_18_restricted_consent_ledger_is_kept_too(self):
        sid = self.add("contract", [("name", "Ole Jensen")],
                       as_of="2026-01-05")
        for extra, at in (((), "2026-01-05"), (("--withdraw",), "2026-02-01")):
            r = self.vaern("subject", "consent", "--controller", "telenor",
                           sid, "marketing", "--source", "web_form", *extra,
                           as_of=at)
            self.assertEqual(r.rc, EXIT_OK, r)
        r = self.vaern("subject", "restrict", "--controller", "telenor", sid,
                       as_of="2026-03-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        # TEL-MKT-2: 2 years after the withdrawal, but restricted: kept.
        self.assertEqual(self.sweep("2028-02-01")["consents_expired"], 0)
        self.assertEqual(len(self.sql("SELECT * FROM consent")), 2)
        r = self.vaern("subject", "restrict", "--controller", "telenor", sid,
                       "--lift", as_of="2028-02-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(self.sweep("2028-02-02")["consents_expired"], 1)
        self.assertEqual(len(self.sql("SELECT * FROM consent")), 0)


# ---- 8. withdrawal is never retroactive --------------------------------------

class WithdrawalTest(ConsentCase):
    policies = (os.path.join(POL, "telenor.yaml"),)
    roles = (("telenor", "customer_service"), ("telenor", "marketing"))

    # The API withdraws as of now only (DELETE .../consents/P): a
    # withdrawal dated in the past is the CLI's --at, bounded below.

    def test_GDPR_7_cli_withdrawal_bounded_by_the_last_use(self):
        self.serve("2026-01-05")
        sid = self.create("customer_service", {
            "purpose": "contract", "source": "web_form",
            "facts": [{"category": "name", "value": "Ole Jensen"},
                      {"category": "email", "value": "ole.c@example.dk"}]})
        self.give("marketing", sid, "marketing", "web_form")
        self.serve("2026-03-01T09:00:00Z")
        self.assertEqual(self.read("marketing", sid, "marketing").status, 200)
        self.stop()
        before = self.counts()
        r = self.cli("subject", "consent", "--controller", "telenor", sid,
                     "marketing", "--source", "phone", "--withdraw", "--at",
                     "2026-02-15", as_of="2026-04-01")
        self.assertEqual(r.returncode, 1, r)
        err = r.stderr.decode()
        self.assertIn("before its last use (2026-03-01T09:00:00Z", err)
        self.assertIn("GDPR-7", err)
        self.assertNotIn("ole.c", err)
        self.assertEqual(self.counts(), before)
        # At the last use itself, or after: taken.
        r = self.cli("subject", "consent", "--controller", "telenor", sid,
                     "marketing", "--source", "phone", "--withdraw", "--at",
                     "2026-03-01T09:00:00Z", as_of="2026-04-01")
        self.assertEqual(r.returncode, 0, r)


# ---- 9. the access report gives a period or its criteria ---------------------

class ReportWordsTest(ConsentCase):
    policies = (os.path.join(POL, "cekura.yaml"),)
    roles = (("cekura", "customer_service"), ("cekura", "dpo"))

    def test_GDPR_15_retention_in_words_while_a_relationship_runs(self):
        self.serve("2026-01-05")
        sid = self.create("customer_service", {
            "purpose": "customer_admin", "source": "phone",
            "facts": [{"category": "name", "value": "Karen Holm"},
                      {"category": "address", "value": ADDRESS[1]},
                      {"category": "phone", "value": PHONE[1]},
                      {"category": "payment_details",
                       "value": "Betalingsservice 4411"}]})
        r = self.call("POST", "/v1/subjects/%s/events" % sid,
                      {"kind": "relationship_start"}, "customer_service")
        self.assertEqual(r.status, 201, r)
        r = self.call("GET", "/v1/subjects/%s/report" % sid, None, "dpo")
        self.assertEqual(r.status, 200, r)
        cats = {c["category"]: c for c in r.json()["categories"]}
        for c in cats.values():
            self.assertIsInstance(c["retention_text"], str, c)
            self.assertTrue(c["retention_text"], c)
        # Danish, the controller's language; the criteria, not a date.
        self.assertIn("2 måneder efter", cats["name"]["retention_text"])
        self.assertIn("Du er stoppet som kunde", cats["name"]["retention_text"])
        self.assertIn("5 år efter", cats["payment_details"]["retention_text"])
        self.assertIn("Bogføringsloven", cats["payment_details"]["retention_text"])
        for f in cats["name"]["facts"]:
            # No date yet: never a bare null, the words stand beside it.
            self.assertIsNone(f["deleted_by"])
            self.assertEqual(f["retention_text"],
                             cats["name"]["retention_text"])
        for lang, words in (("da", "2 måneder efter"),
                            ("sv", "2 månader efter"),
                            ("en", "2 months after")):
            with self.subTest(lang=lang):
                r = self.call("GET", "/v1/subjects/%s/report?format=html"
                              "&lang=%s" % (sid, lang), None, "dpo")
                self.assertEqual(r.status, 200, r)
                self.assertIn(words, r.text)
                r = self.call("GET", "/v1/subjects/%s/report?lang=%s"
                              % (sid, lang), None, "dpo")
                self.assertEqual(r.status, 200, r)
                name = [c for c in r.json()["categories"]
                        if c["category"] == "name"][0]
                self.assertIn(words, name["retention_text"])


# ---- 10. the person is told ----------------------------------------------

class RequestMessageTest(CliCase):
    policy = "cekura.yaml"
    controller = "cekura"

    def spool(self, rid):
        d = os.path.join(self.dir, "outbox")
        out = []
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if rid in name:
                with open(os.path.join(d, name), encoding="utf-8") as f:
                    out.append(json.load(f))
        return out

    def req(self, *args, as_of):
        r = self.vaern("requests", *args, "--controller", "cekura",
                       as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()

    def test_GDPR_12_each_step_is_told_to_the_person(self):
        sid = self.add("customer_admin", [("name", "Karen Holm"), ADDRESS,
                                          PHONE,
                                          ("email", "karen@example.dk")],
                       as_of="2026-01-05")
        rid = self.req("add", "--type", "access", "--subject", sid,
                       "--channel", "email", as_of="2026-01-10")["id"]
        msgs = self.spool(rid)
        self.assertEqual(len(msgs), 1, msgs)
        text = json.dumps(msgs[0], ensure_ascii=False)
        self.assertIn("karen@example.dk", text)  # the spool holds the address
        self.assertIn("Vi svarer senest 2026-02-10", text)  # Danish, due date
        self.req("verify", rid, "--attest", "id card seen",
                 as_of="2026-01-11")
        self.req("extend", rid, "--months", "2", "--reason",
                 "mange oplysninger fra flere systemer", as_of="2026-02-01")
        msgs = self.spool(rid)
        self.assertEqual(len(msgs), 2, msgs)
        text = json.dumps(msgs[1], ensure_ascii=False)
        self.assertIn("Den nye frist er 2026-04-10", text)
        self.assertIn("mange oplysninger fra flere systemer", text)
        self.req("status", rid, "refused", "--reason",
                 "anmodningen er åbenlyst grundløs", as_of="2026-02-02")
        msgs = self.spool(rid)
        self.assertEqual(len(msgs), 3, msgs)
        text = json.dumps(msgs[2], ensure_ascii=False)
        self.assertIn("er afvist", text)
        self.assertIn("anmodningen er åbenlyst grundløs", text)
        self.assertIn("Datatilsynet", text)
        sent = [e for e in self.audit()
                if e.get("action") == "request_message_sent"]
        self.assertEqual(len(sent), 3, sent)
        trail = json.dumps(sent)
        self.assertNotIn("karen", trail)
        self.assertNotIn("grundløs", trail)
        self.assertIn("sent by email", sent[0]["reason"])

    def test_GDPR_12_completion_told_no_address_no_message(self):
        sid = self.add("customer_admin", [("name", "Karen Holm"), ADDRESS,
                                          PHONE,
                                          ("email", "karen2@example.dk")],
                       as_of="2026-01-05")
        rid = self.req("add", "--type", "erasure", "--subject", sid,
                       "--channel", "email", as_of="2026-01-10")["id"]
        self.req("verify", rid, "--attest", "id card seen",
                 as_of="2026-01-11")
        self.req("erase", rid, as_of="2026-01-12")
        msgs = self.spool(rid)
        self.assertEqual(len(msgs), 2, msgs)
        # Told at the address the erasure removed, read before it went.
        self.assertIn("karen2@example.dk", json.dumps(msgs[1]))
        self.assertIn("er gennemført", json.dumps(msgs[1],
                                                  ensure_ascii=False))
        # A person with a phone number only: by phone.
        sid2 = self.add("customer_admin", [("name", "Bo Berg"), ADDRESS,
                                           ("phone", "+45 31 32 33 34")],
                        as_of="2026-01-05")
        rid2 = self.req("add", "--type", "access", "--subject", sid2,
                        "--channel", "letter", as_of="2026-01-10")["id"]
        self.assertEqual([m["channel"] for m in self.spool(rid2)], ["phone"])
        # A person with no address on record: nothing sent, and audited.
        sid3 = self.add("competitions", [("name", "Lis Lund"),
                                         ("competition_entries", "svar: A")],
                        as_of="2026-01-05")
        rid3 = self.req("add", "--type", "access", "--subject", sid3,
                        "--channel", "letter", as_of="2026-01-10")["id"]
        self.assertEqual(self.spool(rid3), [])
        unsent = [e for e in self.audit()
                  if e.get("action") == "request_message_not_sent"]
        self.assertEqual(len(unsent), 1, unsent)
        self.assertIn("no e-mail address or phone number on record",
                      unsent[0]["reason"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
