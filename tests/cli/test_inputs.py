#!/usr/bin/env python3
"""Black-box tests of what enters vaern (issue 11, points 3-8 and 12): the
real `vaern` binary, through its CLI and `vaern serve`, on the shipped seed
policies (policies/*.yaml).

Clauses of mission/CLAUSES.md proved here, each named in the test that
proves it:
  AURA-LOGIN-1    one identifier index per category; a login pair
                  (installation and contract number) finds one person
  AURA-COOKIE-1 / AOPT-COOKIE-1  data of a cookie purpose only where the
                  visitor's cookie choice allows it, on every route
  TEL-CAT-3 / GDPR-20  a fact's source is one the policy declares and fits
                  its category; the named third party is in the report
  CEK-CONTACT-1   data given about others is marked in report and copy
  SHOP-PAY-1      no full card number in any text that enters (facts,
                  reasons, consent texts, CSV cells), however it is spelled;
                  the card-expiry warning through the outbox, once per card
                  and payment, from the CLI and the scheduled sweep
  CEK-XFER-1      "never outside the EU": Norway, Iceland, Liechtenstein too
  AURA-XFER-1     EU/EEA recipients need no safeguard; others do

The helpers (Server, ApiCase, run_vaern, ...) are those of test_api.py.
Standard library only.
"""
import glob
import json
import os
import re
import sqlite3

import dbpeek
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_api as h  # noqa: E402  (the shared helpers, not its tests)
import test_consent as hc  # noqa: E402  (its Server takes --as-of)

fact = h.fact
run_vaern = h.run_vaern

CARD_SPELLINGS = (
    "4111.1111.1111.1111",
    "4111/1111/1111/1111",
    "4111  1111  1111  1111",
    "4111\u00a01111\u00a01111\u00a01111",
    "4111 - 1111 - 1111 - 1111",
    "6011 1111 1111 1117",
    "3782 822463 10005",
    "2221-0000-0000-0009",
    "3530.1113.3330.0000",
    "6212 3456 7890 1232",
)


def cli_add(data_dir, controller, doc):
    """vaern subject add, the document on stdin."""
    return run_vaern(["--data", data_dir, "subject", "add", "--controller",
                      controller, "--json", "-"],
                     stdin=json.dumps(doc).encode())


def sql_counts(db, tables):
    con = dbpeek.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return {t: con.execute("SELECT count(*) FROM %s" % t).fetchone()[0]
                for t in tables}
    finally:
        con.close()


# ---- 3. cookie-bound purposes (AURA-COOKIE-1, AOPT-COOKIE-1) ------------

class CookieRouteTest(h.ApiCase):
    """Data of a purpose with `cookie:` is taken only where the visitor's
    choice allows it, whatever the route: POST /v1/subjects, subject add."""

    policies = (h.AURA,)
    actors = (("aura-fiber", "web_analytics"), ("aura-fiber", "dpo"))

    def visit_doc(self, visitor=None):
        doc = {"purpose": "visit_statistics", "facts": [
            fact("ip_address", "192.0.2.%d" % (h.serial() % 250 + 1)),
            fact("visit_statistics", "forside, fiberpriser"),
        ]}
        if visitor is not None:
            doc["visitor"] = visitor
        return doc

    def choose(self, visitor, statistics):
        r = self.call("PUT", "/v1/visitors/%s/choices" % visitor,
                      {"necessary": True, "statistics": statistics,
                       "marketing": False},
                      ("aura-fiber", "web_analytics"))
        self.assertIn(r.status, (200, 201), r)

    def test_AURA_COOKIE_1_api_without_choice_refused(self):
        before = self.counts()
        r = self.call("POST", "/v1/subjects", self.visit_doc(),
                      ("aura-fiber", "web_analytics"))
        err = self.assertError(r, 403, mentions="AURA-COOKIE-1",
                               secrets=("192.0.2.",))
        self.assertIn("visitor", err["message"])
        self.assertEqual(self.counts(), before)
        # A visitor who never chose: statistics off.
        r = self.call("POST", "/v1/subjects",
                      self.visit_doc("never-chose-%d" % h.serial()),
                      ("aura-fiber", "web_analytics"))
        self.assertError(r, 403, mentions="AURA-COOKIE-1")
        self.assertEqual(self.counts(), before)

    def test_AURA_COOKIE_1_api_choice_off_refused_on_taken(self):
        off = "visitor-off-%d" % h.serial()
        self.choose(off, False)
        before = self.counts()
        r = self.call("POST", "/v1/subjects", self.visit_doc(off),
                      ("aura-fiber", "web_analytics"))
        self.assertError(r, 403, mentions="AURA-COOKIE-1")
        self.assertEqual(self.counts(), before)
        on = "visitor-on-%d" % h.serial()
        self.choose(on, True)
        r = self.call("POST", "/v1/subjects", self.visit_doc(on),
                      ("aura-fiber", "web_analytics"))
        self.assertEqual(r.status, 201, r)
        # The choice turned off again: the next collection is refused.
        self.choose(on, False)
        r = self.call("POST", "/v1/subjects", self.visit_doc(on),
                      ("aura-fiber", "web_analytics"))
        self.assertError(r, 403, mentions="AURA-COOKIE-1")

    def test_AURA_COOKIE_1_cli_add_needs_choice(self):
        doc = self.visit_doc()
        before = self.counts()
        r = cli_add(self.dir, "aura-fiber", doc)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("AURA-COOKIE-1", r.err)
        self.assertNotIn("192.0.2.", r.err)
        self.assertEqual(self.counts(), before)
        on = "cli-visitor-%d" % h.serial()
        self.choose(on, True)
        r = cli_add(self.dir, "aura-fiber", self.visit_doc(on))
        self.assertEqual(r.rc, 0, r)

    def test_AURA_COOKIE_1_import_cannot_name_a_choice(self):
        """A CSV import names no visitor: facts of a cookie purpose are
        bad rows, nothing is stored."""
        path = os.path.join(self.tmp, "visits.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("ip_address,visit_statistics\n")
            f.write("192.0.2.77,forside\n")
        before = self.counts()
        r = run_vaern(["--data", self.dir, "import", "--controller",
                       "aura-fiber", "--purpose", "visit_statistics", path])
        self.assertEqual(r.rc, 1, r)
        self.assertIn("AURA-COOKIE-1", r.err)
        self.assertNotIn("192.0.2.77", r.err)
        self.assertEqual(self.counts(), before)

    def test_AURA_COOKIE_1_other_purposes_need_no_choice(self):
        """The boundary: a purpose without `cookie:` is not affected."""
        tok = self.add_actor("aura-fiber", "cs-%d" % h.serial(),
                             "customer_service")
        r = self.call("POST", "/v1/subjects", h.aura_customer(), tok)
        self.assertEqual(r.status, 201, r)


class AoptCookieRouteTest(h.ApiCase):
    """AOPT-COOKIE-1: Aurora Optimal's persistent (statistics) cookies need
    the visitor's choice on every route; session cookies (ordering) cannot
    be refused through vaern and need none."""

    policies = (os.path.join(h.POLICY_DIR, "aurora-optimal.yaml"),)
    actors = (("aurora-optimal", "marketing"),
              ("aurora-optimal", "customer_service"))
    MKT = ("aurora-optimal", "marketing")

    def stats_doc(self, visitor=None):
        doc = {"purpose": "site_statistics", "facts": [
            fact("ip_address", "198.51.100.%d" % (h.serial() % 250 + 1)),
            fact("site_usage", "kassan, 3 sidor")]}
        if visitor:
            doc["visitor"] = visitor
        return doc

    def test_AOPT_COOKIE_1_statistics_need_the_choice(self):
        before = self.counts()
        r = self.call("POST", "/v1/subjects", self.stats_doc(), self.MKT)
        self.assertError(r, 403, mentions="AURA-COOKIE-1")
        visitor = "aopt-visitor-%d" % h.serial()
        r = self.call("PUT", "/v1/visitors/%s/choices" % visitor,
                      {"necessary": True, "statistics": False,
                       "marketing": False}, self.MKT)
        self.assertIn(r.status, (200, 201), r)
        r = self.call("POST", "/v1/subjects", self.stats_doc(visitor),
                      self.MKT)
        self.assertError(r, 403)
        self.assertEqual(self.counts(), before)
        r = self.call("PUT", "/v1/visitors/%s/choices" % visitor,
                      {"necessary": True, "statistics": True,
                       "marketing": False}, self.MKT)
        self.assertIn(r.status, (200, 201), r)
        r = self.call("POST", "/v1/subjects", self.stats_doc(visitor),
                      self.MKT)
        self.assertEqual(r.status, 201, r)


# ---- 4. identifier categories do not collide (AURA-LOGIN-1) --------------

def aura_login(installation, contract):
    return {"purpose": "identification", "source": "portal", "facts": [
        fact("username", "fiber%d" % h.serial()),
        fact("installation_number", installation),
        fact("contract_number", contract),
    ]}


class LoginPairTest(h.ApiCase):
    """AURA's installation_number and contract_number are both
    `identifier: other`: each has its own index; a login pair finds the one
    person holding both."""

    policies = (h.AURA,)
    actors = (("aura-fiber", "customer_service"),)
    CS = ("aura-fiber", "customer_service")

    @classmethod
    def prepare(cls):
        n = h.serial()
        cls.inst_a, cls.contract_a = "A%d-12" % n, "X%d-99" % n
        cls.inst_b, cls.contract_b = cls.contract_a, "B%d-34" % n
        r = cls.server.request("POST", "/v1/subjects",
                               aura_login(cls.inst_a, cls.contract_a),
                               token=cls.tokens[cls.CS])
        assert r.status == 201, r
        cls.sid_a = r.json()["subject"]
        # B's installation number is A's contract number: not a clash.
        r = cls.server.request("POST", "/v1/subjects",
                               aura_login(cls.inst_b, cls.contract_b),
                               token=cls.tokens[cls.CS])
        assert r.status == 201, r
        cls.sid_b = r.json()["subject"]

    def lookup(self, body):
        body = dict(body, purpose="identification")
        return self.call("POST", "/v1/subjects/lookup", body, self.CS)

    @dbpeek.sqlite_only("migrates an older SQLite data directory")
    def test_AURA_LOGIN_1_schema_4_directory_reindexed(self):
        """A data directory of schema 4 (one index per type) opens as 5:
        the indexes are rebuilt per category from the sealed facts, so the
        login pair finds the person. Here the old rows are dropped
        altogether: only a real rebuild finds them again."""
        d = os.path.join(self.tmp, "schema4")
        r = run_vaern(["--data", d, "init", "--policy", h.AURA])
        self.assertEqual(r.rc, 0, r)
        r = cli_add(d, "aura-fiber", aura_login("S4-1", "S4-2"))
        self.assertEqual(r.rc, 0, r)
        sid = r.json()["subject"]
        con = dbpeek.connect(os.path.join(d, "vaern.db"))
        con.executescript(
            "DELETE FROM identifier;"
            " DELETE FROM meta WHERE key = 'identifier_index';"
            " UPDATE meta SET value = '4' WHERE key = 'schema_version';")
        con.close()
        r = run_vaern(["--data", d, "subject", "find", "--controller",
                       "aura-fiber", "installation_number", "-",
                       "contract_number", "-"], stdin=b"S4-1\nS4-2\n")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["subject"], sid)
        con = dbpeek.connect(os.path.join(d, "vaern.db"))
        try:
            self.assertEqual(con.execute(
                "SELECT value FROM meta WHERE key = 'identifier_index'")
                .fetchall(), [("category",)])
            self.assertEqual(con.execute(
                "SELECT count(*) FROM identifier").fetchone()[0], 3)
        finally:
            con.close()

    def test_AURA_LOGIN_1_same_value_other_category_taken(self):
        self.assertNotEqual(self.sid_a, self.sid_b)

    def test_AURA_LOGIN_1_same_category_still_unique(self):
        before = self.counts()
        r = self.call("POST", "/v1/subjects",
                      aura_login(self.inst_a, "Z%d" % h.serial()), self.CS)
        err = self.assertError(r, 409, secrets=(self.inst_a,))
        self.assertIn("installation_number", err["message"])
        self.assertEqual(self.counts(), before)

    def test_AURA_LOGIN_1_lookup_names_the_category(self):
        r = self.lookup({"category": "installation_number",
                         "value": self.inst_b})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["subject"], self.sid_b)
        r = self.lookup({"category": "contract_number",
                         "value": self.contract_a})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["subject"], self.sid_a)
        # By type alone the value is ambiguous: refused, naming both.
        r = self.lookup({"type": "other", "value": self.contract_a})
        err = self.assertError(r, 400, secrets=(self.contract_a,))
        self.assertIn("installation_number", err["message"])
        self.assertIn("contract_number", err["message"])

    def test_AURA_LOGIN_1_login_pair_api(self):
        r = self.lookup({"identifiers": [
            {"category": "installation_number", "value": self.inst_a},
            {"category": "contract_number", "value": self.contract_a}]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["subject"], self.sid_a)
        r = self.lookup({"identifiers": [
            {"category": "installation_number", "value": self.inst_b},
            {"category": "contract_number", "value": self.contract_b}]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["subject"], self.sid_b)
        # A pair taken from two people names nobody.
        r = self.lookup({"identifiers": [
            {"category": "installation_number", "value": self.inst_b},
            {"category": "contract_number", "value": self.contract_a}]})
        self.assertError(r, 404, secrets=(self.inst_b, self.contract_a))
        # Not an identifier category.
        r = self.lookup({"identifiers": [
            {"category": "agreement", "value": "x"}]})
        self.assertError(r, 400, mentions="agreement")

    def test_AURA_LOGIN_1_login_pair_cli(self):
        base = ["--data", self.dir, "subject", "find", "--controller",
                "aura-fiber"]
        r = run_vaern(base + ["installation_number", "-", "contract_number",
                              "-"],
                      stdin=("%s\n%s\n" % (self.inst_a, self.contract_a))
                      .encode())
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["subject"], self.sid_a)
        r = run_vaern(base + ["installation_number", "-"],
                      stdin=self.inst_b.encode())
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["subject"], self.sid_b)
        r = run_vaern(base + ["installation_number", "-", "contract_number",
                              "-"],
                      stdin=("%s\n%s\n" % (self.inst_b, self.contract_a))
                      .encode())
        self.assertEqual(r.rc, 1, r)
        self.assertNotIn(self.inst_b, r.err)
        r = run_vaern(base + ["other", "-"], stdin=self.contract_a.encode())
        self.assertEqual(r.rc, 1, r)
        self.assertIn("name the category", r.err)


# ---- 5. sources the policy declares (TEL-CAT-3, GDPR-20) -----------------

class SourceTest(h.ApiCase):
    policies = (h.TELENOR,)
    actors = (("telenor", "customer_service"), ("telenor", "dpo"))
    CS = ("telenor", "customer_service")

    def doc_with(self, extra):
        doc = h.telenor_customer()
        doc["facts"].append(extra)
        return doc

    def labels(self):
        return {t for (t,) in self.sql("SELECT text FROM label")}

    def test_TEL_CAT_3_third_party_data_not_labelled_subject(self):
        before = self.counts()
        for source in ("subject", "web_form"):
            r = self.call("POST", "/v1/subjects", self.doc_with(
                fact("directory_info", "Hemmelig nummer: nej",
                     source=source)), self.CS)
            err = self.assertError(r, 400, mentions="TEL-CAT-3",
                                   secrets=("Hemmelig",))
            self.assertIn("third_party", err["message"])
            self.assertIn("directory_info", err["message"])
        self.assertEqual(self.counts(), before)

    def test_TEL_CAT_3_no_free_text_source_stored(self):
        before, labels = self.counts(), self.labels()
        text = "Fortalt af naboen Hans Hansen"
        r = self.call("POST", "/v1/subjects", self.doc_with(
            fact("directory_info", "Opført i telefonbogen", source=text)),
            self.CS)
        self.assertError(r, 400, mentions="TEL-CAT-3", secrets=(text,))
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.labels(), labels)
        r = cli_add(self.dir, "telenor", self.doc_with(
            fact("directory_info", "Opført", source=text)))
        self.assertEqual(r.rc, 1, r)
        self.assertNotIn("Hans", r.err)
        self.assertEqual(self.labels(), labels)

    def test_TEL_CAT_3_GDPR_20_named_third_party_in_report(self):
        sid = self.create(self.CS, self.doc_with(
            fact("directory_info", "Opført i telefonbogen", source="krak")))
        r = self.call("GET", "/v1/subjects/%s/report" % sid,
                      who=("telenor", "dpo"))
        self.assertEqual(r.status, 200, r)
        cats = {c["category"]: c for c in r.json()["categories"]}
        facts = cats["directory_info"]["facts"]
        self.assertEqual(facts[0]["source"], "krak")
        self.assertEqual(facts[0]["source_name"], "Krak (118.dk)")
        self.assertIs(facts[0]["provided_by_subject"], False)
        r = self.call("GET", h.q("/v1/subjects/%s/report" % sid,
                                 format="html", lang="da"),
                      who=("telenor", "dpo"))
        self.assertEqual(r.status, 200, r)
        self.assertIn("Krak (118.dk)", r.text)
        # GDPR-20: third-party data is not in the portable copy.
        r = self.call("GET", "/v1/subjects/%s/export" % sid,
                      who=("telenor", "dpo"))
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("directory_info",
                         [d["category"] for d in r.json()["data"]])
        self.assertIn("name", [d["category"] for d in r.json()["data"]])

    def test_TEL_CAT_3_policy_lists_its_sources(self):
        r = self.call("GET", "/v1/policy", who=self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["sources"]["krak"],
                         {"name": "Krak (118.dk)", "kind": "third_party"})

    def test_TEL_CAT_3_source_by_its_declared_name(self):
        """The named third party may be given as the policy spells it; it
        is stored by its id."""
        sid = self.create(self.CS, self.doc_with(
            fact("directory_info", "Opført", source="Krak (118.dk)")))
        r = self.call("GET", "/v1/subjects/%s/report" % sid,
                      who=("telenor", "dpo"))
        cats = {c["category"]: c for c in r.json()["categories"]}
        f = cats["directory_info"]["facts"][0]
        self.assertEqual((f["source"], f["source_name"]),
                         ("krak", "Krak (118.dk)"))
        self.assertNotIn("Krak (118.dk)", self.labels())


class SealedTextTest(h.ApiCase):
    """Free text kept with a person is sealed under the person's key and
    goes with the erasure (issue 11, point 5): a hold's reason."""

    policies = (h.CEKURA,)
    serve = False

    def db_bytes(self):
        data = dbpeek.store_bytes(self.db)
        return data

    def test_hold_reason_sealed_shown_and_erased(self):
        r = cli_add(self.dir, "cekura", h.cekura_customer())
        self.assertEqual(r.rc, 0, r)
        sid = r.json()["subject"]
        reason = "Tvist med kundens datter Sofie om regning 4471"
        r = run_vaern(["--data", self.dir, "subject", "hold",
                       "--controller", "cekura", sid, "--reason", reason])
        self.assertEqual(r.rc, 0, r)
        hold = r.json()["hold"]
        stored = self.sql("SELECT reason FROM hold WHERE id = ?", (hold,))
        self.assertTrue(stored[0][0].startswith("sealed:"), stored)
        self.assertNotIn(b"Sofie", self.db_bytes())
        # The operator still reads it.
        r = run_vaern(["--data", self.dir, "subject", "holds",
                       "--controller", "cekura", sid])
        self.assertEqual(r.rc, 0, r)
        self.assertIn(reason, r.out)
        # Lifted and erased: the row goes with the person.
        r = run_vaern(["--data", self.dir, "subject", "unhold",
                       "--controller", "cekura", sid, str(hold)])
        self.assertEqual(r.rc, 0, r)
        r = run_vaern(["--data", self.dir, "subject", "erase",
                       "--controller", "cekura", sid])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.sql("SELECT count(*) FROM hold WHERE id = ?",
                                  (hold,)), [(0,)])

    def test_request_texts_sealed_shown_and_erased(self):
        """A refusal's reason, an extension's reason and an attestation
        are the caller's words about a person: sealed under the person's
        key, read back in clear, unreadable once the person is erased."""
        r = cli_add(self.dir, "cekura", h.cekura_customer())
        self.assertEqual(r.rc, 0, r)
        sid = r.json()["subject"]
        req = ["--data", self.dir, "requests"]
        r = run_vaern(req + ["add", "--controller", "cekura", "--type",
                             "access", "--subject", sid, "--channel",
                             "phone"])
        self.assertEqual(r.rc, 0, r)
        rid = r.json()["id"]
        extend = "Sagen kræver svar fra sønnen Mikkel Holm"
        attest = "Kørekort vist i butikken af Karen selv"
        refuse = "Anmodningen kom fra naboen Bent Larsen"
        for args in (["extend", rid, "--months", "1", "--reason", extend],
                     ["verify", rid, "--attest", attest],
                     ["status", rid, "refused", "--reason", refuse]):
            r = run_vaern(req + [*args[:2], "--controller", "cekura",
                                 *args[2:]])
            self.assertEqual(r.rc, 0, (args, r))
        for word in (b"Mikkel", "Kørekort".encode(), b"Bent"):
            self.assertNotIn(word, self.db_bytes())
        r = run_vaern(req + ["show", rid, "--controller", "cekura"])
        self.assertEqual(r.rc, 0, r)
        for text in (extend, attest, refuse):
            self.assertIn(text, r.out)
        r = run_vaern(["--data", self.dir, "subject", "erase",
                       "--controller", "cekura", sid])
        self.assertEqual(r.rc, 0, r)
        r = run_vaern(req + ["show", rid, "--controller", "cekura"])
        self.assertEqual(r.rc, 0, r)
        for text in (extend, attest, refuse):
            self.assertNotIn(text, r.out)
        self.assertIn("(erased with the person)", r.out)


# ---- 8. data about others (CEK-CONTACT-1) ---------------------------------

class AboutOthersTest(h.ApiCase):
    policies = (h.CEKURA,)
    actors = (("cekura", "customer_service"), ("cekura", "dpo"))
    CS = ("cekura", "customer_service")

    def test_CEK_CONTACT_1_marked_in_report_and_copy(self):
        sid = self.create(self.CS, h.cekura_customer([
            fact("contact_persons", "Bogholder: Lis Berg, 20 30 40 50"),
            fact("power_of_attorney", "Fuldmagt til sønnen Jens")]))
        r = self.call("GET", "/v1/subjects/%s/report" % sid,
                      who=("cekura", "dpo"))
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertIs(doc["contains_data_about_others"], True)
        self.assertIn("CEK-CONTACT-1", doc["about_others_note"])
        cats = {c["category"]: c for c in doc["categories"]}
        for c in ("contact_persons", "power_of_attorney"):
            self.assertIs(cats[c]["about_others"], True)
            self.assertIs(cats[c]["facts"][0]["about_others"], True)
        self.assertIs(cats["name"]["about_others"], False)
        self.assertIs(cats["name"]["facts"][0]["about_others"], False)
        r = self.call("GET", h.q("/v1/subjects/%s/report" % sid,
                                 format="html", lang="da"),
                      who=("cekura", "dpo"))
        self.assertIn("om en anden person", r.text)
        r = self.call("GET", "/v1/subjects/%s/export" % sid,
                      who=("cekura", "dpo"))
        self.assertEqual(r.status, 200, r)
        data = {d["category"]: d for d in r.json()["data"]}
        self.assertIs(data["contact_persons"]["about_others"], True)
        self.assertIs(data["name"]["about_others"], False)
        r = self.call("GET", h.q("/v1/subjects/%s/export" % sid,
                                 format="csv"), who=("cekura", "dpo"))
        self.assertTrue(r.text.startswith(
            "category,value,purpose,collected_at,about_others\r\n"), r)

    def test_CEK_CONTACT_1_not_said_when_none(self):
        sid = self.create(self.CS, h.cekura_customer())
        r = self.call("GET", "/v1/subjects/%s/report" % sid,
                      who=("cekura", "dpo"))
        self.assertIs(r.json()["contains_data_about_others"], False)
        self.assertNotIn("about_others_note", r.json())


# ---- 6. no card number anywhere (SHOP-PAY-1) ----------------------------

class CardEverywhereTest(h.ApiCase):
    policies = (h.WEBSHOP, h.TELENOR)
    actors = (("webshop", "customer_service"), ("webshop", "marketing"),
              ("webshop", "dpo"), ("telenor", "dpo"))

    def test_SHOP_PAY_1_fact_values_api(self):
        for spelling in CARD_SPELLINGS:
            doc = h.webshop_customer()
            doc["facts"][3] = fact("orders", "betalt med kort " + spelling)
            before = self.counts()
            r = self.call("POST", "/v1/subjects", doc,
                          ("webshop", "customer_service"))
            self.assertError(r, 403, mentions="SHOP-PAY-1",
                             secrets=(spelling,))
            self.assertEqual(self.counts(), before, spelling)
        # The boundary: an order number that is no card number is taken.
        doc = h.webshop_customer()
        doc["facts"][3] = fact("orders", "ordre 4111 1111 1111 1112")
        r = self.call("POST", "/v1/subjects", doc,
                      ("webshop", "customer_service"))
        self.assertEqual(r.status, 201, r)

    def test_SHOP_PAY_1_fact_values_cli(self):
        for spelling in CARD_SPELLINGS[:5]:
            doc = h.webshop_customer()
            doc["facts"][3] = fact("orders", spelling)
            before = self.counts()
            r = cli_add(self.dir, "webshop", doc)
            self.assertEqual(r.rc, 1, r)
            self.assertIn("SHOP-PAY-1", r.err)
            self.assertNotIn(spelling, r.err)
            self.assertEqual(self.counts(), before)

    def test_SHOP_PAY_1_hold_reason(self):
        sid = self.create(("webshop", "customer_service"),
                          h.webshop_customer())
        tables = ("hold",)
        before = sql_counts(self.db, tables)
        for spelling in CARD_SPELLINGS[:4]:
            r = run_vaern(["--data", self.dir, "subject", "hold",
                           "--controller", "webshop", sid, "--reason",
                           "tvist om kort " + spelling])
            self.assertEqual(r.rc, 1, r)
            self.assertIn("SHOP-PAY-1", r.err)
            self.assertNotIn(spelling, r.err)
        self.assertEqual(sql_counts(self.db, tables), before)
        r = run_vaern(["--data", self.dir, "subject", "hold",
                       "--controller", "webshop", sid, "--reason",
                       "tvist om ordre 1234"])
        self.assertEqual(r.rc, 0, r)

    def test_SHOP_PAY_1_consent_text(self):
        sid = self.create(("webshop", "customer_service"),
                          h.webshop_customer())
        before = sql_counts(self.db, ("consent", "consent_text"))
        for spelling in CARD_SPELLINGS[:4]:
            r = self.call("POST", "/v1/subjects/%s/consents" % sid,
                          {"purpose": "newsletter", "source": "web_form",
                           "text": "Ja tak. Kort " + spelling},
                          ("webshop", "marketing"))
            self.assertError(r, 403, mentions="SHOP-PAY-1",
                             secrets=(spelling,))
        self.assertEqual(sql_counts(self.db, ("consent", "consent_text")),
                         before)
        # The boundary: the same text without the number is taken.
        r = self.call("POST", "/v1/subjects/%s/consents" % sid,
                      {"purpose": "newsletter", "source": "web_form",
                       "text": "Ja tak. Ordre 4111"},
                      ("webshop", "marketing"))
        self.assertEqual(r.status, 201, r)

    def test_SHOP_PAY_1_request_reasons(self):
        sid = self.create(("webshop", "customer_service"),
                          h.webshop_customer())
        r = run_vaern(["--data", self.dir, "requests", "add", "--controller",
                       "webshop", "--type", "access", "--subject", sid,
                       "--channel", "email"])
        self.assertEqual(r.rc, 0, r)
        rid = r.json()["id"] if "id" in r.json() else r.json()["request"]
        for args in (["status", rid, "refused", "--reason"],
                     ["extend", rid, "--months", "1", "--reason"]):
            r = run_vaern(["--data", self.dir, "requests", *args[:-1],
                           "--controller", "webshop", args[-1],
                           "kort 4111.1111.1111.1111"])
            self.assertEqual(r.rc, 1, r)
            self.assertIn("SHOP-PAY-1", r.err)
            self.assertNotIn("4111", r.err)

    def test_SHOP_PAY_1_over_http_hold_and_refusal_reasons(self):
        sid = self.create(("webshop", "customer_service"),
                          h.webshop_customer())
        holds = sql_counts(self.db, ("hold",))
        r = self.call("PUT", "/v1/subjects/%s/holds" % sid,
                      {"reason": "tvist, kort 5105 1051 0510 5100"},
                      ("webshop", "dpo"))
        self.assertError(r, 403, mentions="SHOP-PAY-1", secrets=("5105",))
        self.assertEqual(sql_counts(self.db, ("hold",)), holds)
        r = self.call("POST", "/v1/requests", {
            "type": "access", "subject": sid, "channel": "email"},
            ("webshop", "customer_service"))
        self.assertEqual(r.status, 201, r)
        rid = r.json()["id"]
        for spelling in CARD_SPELLINGS[5:]:
            r = self.call("PATCH", "/v1/requests/" + rid,
                          {"status": "refused",
                           "reason": "betalt med " + spelling},
                          ("webshop", "customer_service"))
            self.assertError(r, 403, mentions="SHOP-PAY-1",
                             secrets=(spelling,))
        r = self.call("GET", "/v1/requests/" + rid,
                      who=("webshop", "customer_service"))
        self.assertEqual(r.json()["status"], "received", r)

    def test_SHOP_PAY_1_csv_cells(self):
        path = os.path.join(self.tmp, "cards.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("customer_name,customer_email,billing_address,orders\n")
            f.write("Ida Berg,ida.%d@example.dk,Havnegade 1,"
                    "\"kort 5555 5555 5555 4444\"\n" % h.serial())
        before = self.counts()
        r = run_vaern(["--data", self.dir, "import", "--controller",
                       "webshop", "--purpose", "orders", "--source",
                       "checkout", path])
        self.assertEqual(r.rc, 1, r)
        self.assertIn("SHOP-PAY-1", r.err)
        self.assertNotIn("5555", r.err)
        self.assertEqual(self.counts(), before)


# ---- 12. the card-expiry warning (SHOP-PAY-1) -----------------------------

def card_customer(email, card, payment):
    return {"purpose": "card_expiry_notice", "facts": [
        fact("customer_name", "Mette Lund"),
        fact("customer_email", email),
        fact("card_last4_expiry", card),
        fact("next_payment", payment, source="controller"),
    ]}


class CardWarningTest(h.ApiCase):
    policies = (h.WEBSHOP,)
    serve = False

    def add(self, doc):
        r = cli_add(self.dir, "webshop", doc)
        self.assertEqual(r.rc, 0, r)
        return r.json()["subject"]

    def warn(self, as_of, *extra):
        return run_vaern(["--data", self.dir, "--as-of", as_of, "retention",
                          "card-warnings", *extra])

    def spool(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, "outbox",
                                                  "*.json"))):
            with open(path, encoding="utf-8") as f:
                out.append(json.load(f))
        return out

    def audit_entries(self, sid):
        con = dbpeek.connect("file:%s?mode=ro" % h.audit_db(self.dir),
                              uri=True, timeout=10)
        try:
            cols = [c[1] for c in con.execute("PRAGMA table_info(audit)")]
            return [dict(zip(cols, row)) for row in
                    con.execute("SELECT * FROM audit")], cols
        finally:
            con.close()

    def test_SHOP_PAY_1_warning_once_per_card_and_payment(self):
        email = h.uniq_email("kort")
        sid = self.add(card_customer(email, "1234 12/27", "2028-01-05"))
        # Boundary: a card valid through the payment day gets none.
        other = h.uniq_email("gyldig")
        self.add(card_customer(other, "5678 01/28", "2028-01-31"))
        before = len(self.spool())
        r = self.warn("2027-12-01", "--dry-run")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["due"], 1, r)
        self.assertEqual(len(self.spool()), before)
        r = self.warn("2027-12-01")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["sent"], 1, r)
        msgs = self.spool()[before:]
        self.assertEqual(len(msgs), 1, msgs)
        m = msgs[0]
        self.assertEqual(m["to"], email)
        self.assertEqual(m["channel"], "email")
        # In the controller's language (webshop: Danish), last 4 digits.
        self.assertIn("udløber", m["title"] + m["body"])
        self.assertIn("1234", m["body"])
        self.assertIn("2028-01-05", m["body"])
        self.assertNotIn(other, json.dumps(msgs))
        # Once per card and payment.
        r = self.warn("2027-12-02")
        self.assertEqual(r.json()["sent"], 0, r)
        self.assertEqual(r.json()["already_sent"], 1, r)
        self.assertEqual(len(self.spool()), before + 1)
        # Audited, without the address or the card.
        rows, cols = self.audit_entries(sid)
        hits = [e for e in rows if e.get("action") == "card_expiry_warning"
                and e.get("subject") == bytes.fromhex(sid)]
        self.assertEqual(len(hits), 1, rows[-3:])
        self.assertEqual(hits[0].get("rule"), "SHOP-PAY-1")
        flat = json.dumps(rows, default=str)
        self.assertNotIn(email, flat)
        self.assertNotIn("1234 12/27", flat)
        self.assertNotIn("2028-01-05", flat)

    def test_SHOP_PAY_1_new_payment_date_warns_again(self):
        email = h.uniq_email("ny")
        sid = self.add(card_customer(email, "4321 03/27", "2027-04-01"))
        r = self.warn("2027-03-15")
        self.assertEqual(r.json()["sent"], 1, r)
        # The shop moves the payment: a new warning for the new payment.
        r = run_vaern(["--data", self.dir, "subject", "rectify",
                       "--controller", "webshop", sid, "4", "-"],
                      stdin=b"2027-05-01")
        self.assertEqual(r.rc, 0, r)
        r = self.warn("2027-03-16")
        self.assertEqual(r.json()["sent"], 1, r)

    def test_SHOP_PAY_1_no_more_than_last4_and_expiry(self):
        before = self.counts()
        for value in ("4111 1111 1111 1111", "4111111111111111 12/27",
                      "123 12/27", "1234 13/27"):
            doc = card_customer(h.uniq_email("x"), value, "2028-01-05")
            r = cli_add(self.dir, "webshop", doc)
            self.assertEqual(r.rc, 1, r)
            self.assertIn("SHOP-PAY-1", r.err)
            self.assertNotIn(value, r.err)
        self.assertEqual(self.counts(), before)

    def test_SHOP_PAY_1_scheduled_sweep_sends_it(self):
        email = h.uniq_email("sweep")
        self.add(card_customer(email, "2468 06/27", "2027-07-01"))
        before = len(self.spool())
        srv = hc.Server(self.dir, os.path.join(self.tmp, "sweep.log"),
                        "2027-06-10", ["--sweep-every", "1s"]).start()
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                got = [m for m in self.spool()[before:]
                       if m["to"] == email]
                if got:
                    break
                time.sleep(0.2)
        finally:
            problem = srv.stop()
        self.assertFalse(problem, problem)
        self.assertEqual(len(got), 1, self.spool())
        self.assertIn("2468", got[0]["body"])


# ---- 7. transfers: EU only vs EU/EEA (CEK-XFER-1, AURA-XFER-1) ----------

def with_processor_in(src, purpose, country):
    block = ("recipients:\n  hosting_%s:\n    name: Hosting\n"
             "    type: processor\n    agreement: DPA-X-1\n"
             "    country: %s\n    purposes: [%s]\n"
             % (country.lower(), country, purpose))
    assert src.count("\nrecipients:\n") == 1
    return src.replace("\nrecipients:\n", "\n" + block, 1)


class EuOnlyTest(h.ApiCase):
    policies = (h.CEKURA,)
    serve = False

    check = h.TransferTest.policy_check  # writes name, checks it

    def test_CEK_XFER_1_seed_says_eu_only(self):
        with open(h.CEKURA, encoding="utf-8") as f:
            src = f.read()
        self.assertRegex(src, r"(?m)^transfers: eu_only\b")

    def test_CEK_XFER_1_eea_outside_eu_refused(self):
        with open(h.CEKURA, encoding="utf-8") as f:
            src = f.read()
        for country in ("NO", "IS", "LI"):
            path, r = self.check("cek-%s.yaml" % country,
                                 with_processor_in(src, "customer_admin",
                                                   country))
            self.assertEqual(r.rc, 1, r)
            self.assertIn("CEK-XFER-1", r.err)
            self.assertIn("outside the EU", r.err)
            r = run_vaern(["--data", self.dir, "policy", "load", path])
            self.assertEqual(r.rc, 1, r)
        # The boundary: an EU member state is fine.
        for country in ("FI", "DE", "SE"):
            _, r = self.check("cek-%s.yaml" % country,
                              with_processor_in(src, "customer_admin",
                                                country))
            self.assertEqual(r.rc, 0, r)

    def test_AURA_XFER_1_eea_is_not_a_transfer(self):
        """AURA promises safeguards outside the EU/EEA: Norway needs none,
        the US does."""
        with open(h.AURA, encoding="utf-8") as f:
            src = f.read()
        _, r = self.check("aura-no.yaml",
                          with_processor_in(src, "identification", "NO"))
        self.assertEqual(r.rc, 0, r)
        _, r = self.check("aura-us.yaml",
                          with_processor_in(src, "identification", "US"))
        self.assertEqual(r.rc, 1, r)
        self.assertIn("AURA-XFER-1", r.err)

    def test_CEK_XFER_1_language_eea_only(self):
        with open(h.CEKURA, encoding="utf-8") as f:
            src = f.read().replace("transfers: eu_only", "transfers: eea_only")
        _, r = self.check("cek-eea.yaml",
                          with_processor_in(src, "customer_admin", "NO"))
        self.assertEqual(r.rc, 0, r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
