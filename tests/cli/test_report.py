#!/usr/bin/env python3
"""Black-box tests of the person's reports through the real `vaern serve`:

  GDPR-15          the access report: the data, and per category its
                   purposes, legal basis, recipients, source and the date
                   each fact goes; the processing recorded; the rights
  TEL-CAT-3        the source of each category is in the report
  AURA-COMPLAIN-1, AOPT-COMPLAIN-1, CEK-COMPLAIN-1
                   who to complain to, in the report
  GDPR-20, SHOP-RIGHTS-1
                   the portable copy: only what the person provided under
                   consent or contract, as JSON and CSV
  GDPR-32          only the data-protection officer's role gets a report;
                   every answer, given or refused, is audited first

The server and its helpers come from test_api.py.
"""
import csv
import io
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_api  # noqa: E402
from test_api import (AURA, CEKURA, POLICY_DIR, TELENOR, WEBSHOP,  # noqa
                      ApiCase, aura_customer, cekura_customer, fact, q,
                      telenor_customer, uniq_email)

AOPT = os.path.join(POLICY_DIR, "aurora-optimal.yaml")


def aopt_customer():
    return {"purpose": "orders", "source": "web_form", "facts": [
        fact("name", "Sven Berg"),
        fact("email", uniq_email("sven")),
        fact("address", "Storgatan 1, 111 22 Stockholm"),
    ]}


class ReportTest(ApiCase):
    policies = (TELENOR, CEKURA, AURA, WEBSHOP, AOPT)
    actors = (
        ("telenor", "customer_service"), ("telenor", "dpo"),
        ("telenor", "logging_officer"),
        ("cekura", "customer_service"), ("cekura", "dpo"),
        ("aura-fiber", "customer_service"), ("aura-fiber", "dpo"),
        ("webshop", "customer_service"), ("webshop", "dpo"),
        ("aurora-optimal", "customer_service"), ("aurora-optimal", "dpo"),
    )

    def report(self, controller, sid, status=200, **params):
        r = self.call("GET", q("/v1/subjects/%s/report" % sid, **params)
                      if params else "/v1/subjects/%s/report" % sid,
                      who=(controller, "dpo"))
        self.assertEqual(r.status, status, r)
        return r

    def policy(self, controller, who):
        r = self.call("GET", "/v1/policy", who=(controller, who))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_GDPR_15_access_report_TEL_CAT_3(self):
        cs = ("telenor", "customer_service")
        doc = telenor_customer()
        sid = self.create(cs, doc)
        # A read the report must show as processing.
        self.assertEqual(self.read(cs, sid, "contract").status, 200)
        rep = self.report("telenor", sid).json()
        self.assertEqual(rep["report"], "access")
        self.assertEqual(rep["subject"], sid)
        self.assertEqual(rep["controller"]["id"], "telenor")
        # Exactly the categories the person has data in: none other.
        got = sorted(c["category"] for c in rep["categories"])
        self.assertEqual(got, sorted(f["category"] for f in doc["facts"]))
        values = {c["category"]: [f["value"] for f in c["facts"]]
                  for c in rep["categories"]}
        self.assertEqual(values["name"], ["Ole Jensen"])
        for c in rep["categories"]:
            # TEL-CAT-3: where the data came from.
            self.assertIn(c["source"], ("subject", "automatic",
                                        "third_party", "controller"), c)
            self.assertTrue(c["purposes"], c)
            for p in c["purposes"]:
                self.assertTrue(p["legal_basis"], p)
                self.assertTrue(set(p["legal_basis"]) <= {
                    "consent", "contract", "legal_obligation",
                    "vital_interests", "public_task",
                    "legitimate_interests"}, p)
            self.assertIsInstance(c["recipients"], list)
            for f in c["facts"]:
                # The date the fact goes, or null while no rule ends it.
                d = f["deleted_by"]
                self.assertTrue(d is None or (len(d) == 10 and d[4] == "-"),
                                f)
        # The purposes named are the policy's own for the category.
        pol = self.policy("telenor", "customer_service")["purposes"]
        for c in rep["categories"]:
            for p in c["purposes"]:
                self.assertIn(p["id"], pol)
                self.assertIn(c["category"], pol[p["id"]]["categories"])
        # The read above is in the processing part.
        reads = [u for u in rep["processing"]
                 if u["action"] == "read" and u["purpose"] == "contract"]
        self.assertTrue(reads, rep["processing"])
        self.assertIn("access", rep["rights"])
        self.assertIn("withdraw_consent", rep["rights"])
        # Audited before it was released.
        self.audited("telenor", sid, True, "GDPR-15", action="export",
                     role="dpo")

    def logging_customer(self):
        """A Telenor customer. Logging data (TEL-LOG-1) is refused as a
        fact even from the cleared officer: since issue 18 it lives in the
        retained-data store, outside the person's facts and reports."""
        sid = self.create(("telenor", "customer_service"),
                          telenor_customer())
        r = self.call("POST", "/v1/subjects/%s/facts" % sid, fact(
            "logging_data", "Mast 4711 Odder 2026-01-05T10:00",
            purpose="data_retention_logging"),
            who=("telenor", "logging_officer"))
        self.assertEqual(r.status, 400, r)
        self.assertIn("kept in the traffic store", r.text)
        return sid, "Mast 4711 Odder"

    def verified_request(self, sid, who, type_="access"):
        r = self.call("POST", "/v1/requests", {
            "type": type_, "subject": sid, "channel": "letter"}, who)
        self.assertEqual(r.status, 201, r)
        rid = r.json()["id"]
        r = self.call("POST", "/v1/requests/%s/verification" % rid,
                      {"attestation": "id card seen"}, who)
        self.assertEqual(r.status, 200, r)
        return rid

    def assertWithheld(self, rep, secret):
        """No logging data among the person's facts (issue 18: the
        retained-data store holds it), and no value of it anywhere."""
        cats = {c["category"]: c for c in rep["categories"]}
        if "logging_data" in cats:
            self.assertEqual(cats["logging_data"]["facts"], [])
        # The rest of the report is there.
        self.assertTrue(cats["name"]["facts"])
        self.assertNotIn("withheld", cats["name"])
        self.assertNotIn(secret, json.dumps(rep))

    def test_TEL_LOG_1_GDPR_15_dpo_report_has_no_logging_facts(self):
        """TEL-LOG-1 (issue 18), GDPR-15: logging data is no fact of the
        person, so the DPO's report (JSON and HTML) and portable copy hold
        none of it; it is in the retained-data store."""
        sid, secret = self.logging_customer()
        r = self.report("telenor", sid)
        self.assertWithheld(r.json(), secret)
        html = self.report("telenor", sid, format="html").text
        self.assertNotIn(secret, html)
        r = self.call("GET", "/v1/subjects/%s/export" % sid,
                      who=("telenor", "dpo"))
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(secret, r.text)
        r = self.call("GET", q("/v1/subjects/%s/export" % sid,
                               format="csv"), who=("telenor", "dpo"))
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(secret, r.text)
        # Audited with what was released: everything but logging_data.
        entries = [e for e in self.audit("telenor", subject=sid)
                   if e["action"] == "export" and e["role"] == "dpo"]
        self.assertTrue(entries)
        for e in entries:
            self.assertNotIn("logging_data", e["categories"], e)
            self.assertIn("name", e["categories"], e)

    def test_TEL_LOG_2_AOPT_ACCESS_1_request_report_by_role(self):
        """TEL-LOG-2: customer service and the cleared logging officer
        answer verified requests; neither report carries logging data,
        which since issue 18 only a court order releases (TEL-LOG-3)."""
        sid, secret = self.logging_customer()
        cs = ("telenor", "customer_service")
        rid = self.verified_request(sid, cs)
        r = self.call("GET", "/v1/requests/%s/report" % rid, who=cs)
        self.assertEqual(r.status, 200, r)
        self.assertWithheld(r.json(), secret)
        r = self.call("GET", q("/v1/requests/%s/report" % rid,
                               format="html"), who=cs)
        self.assertNotIn(secret, r.text)
        # The cleared logging officer answering the same request finds no
        # logging data among the facts either: it is in the traffic store,
        # released only on a court order (TEL-LOG-3, test_traffic.py).
        log = ("telenor", "logging_officer")
        r = self.call("GET", "/v1/requests/%s/report" % rid, who=log)
        self.assertEqual(r.status, 200, r)
        self.assertWithheld(r.json(), secret)
        # A portability request answered by customer service: no
        # logging data either (it is not the person's to carry anyway).
        rid = self.verified_request(sid, cs, "portability")
        r = self.call("GET", "/v1/requests/%s/report" % rid, who=cs)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(secret, r.text)

    def test_GDPR_15_only_the_dpo_GDPR_32(self):
        cs = ("telenor", "customer_service")
        sid = self.create(cs, telenor_customer())
        r = self.call("GET", "/v1/subjects/%s/report" % sid, who=cs)
        self.assertDenied(r, "audit: true")
        self.assertNotIn("Ole Jensen", r.text)
        self.audited("telenor", sid, False, "GDPR-15",
                     role="customer_service")
        r = self.call("GET", "/v1/subjects/%s/export" % sid, who=cs)
        self.assertDenied(r, "audit: true")
        self.audited("telenor", sid, False, "GDPR-20",
                     role="customer_service")

    def test_AURA_RIGHTS_1_one_controller_per_report(self):
        """One installation, several companies: another controller's DPO
        does not find the subject."""
        sid = self.create(("telenor", "customer_service"),
                          telenor_customer())
        r = self.call("GET", "/v1/subjects/%s/report" % sid,
                      who=("cekura", "dpo"))
        self.assertError(r, 404, secrets=("Ole Jensen",))

    def test_CEK_COMPLAIN_1_AURA_COMPLAIN_1_AOPT_COMPLAIN_1_in_report(self):
        for controller, doc in (("cekura", cekura_customer()),
                                ("aura-fiber", aura_customer()),
                                ("aurora-optimal", aopt_customer())):
            with self.subTest(controller=controller):
                sid = self.create((controller, "customer_service"), doc)
                rep = self.report(controller, sid).json()
                auth = rep["controller"]["authority"]
                self.assertTrue(auth["name"], rep["controller"])
                self.assertTrue(auth["url"].startswith("http"), auth)
                html = self.report(controller, sid, format="html").text
                self.assertIn(auth["url"], html)
                if controller == "cekura":
                    # CEK-COMPLAIN-1: to the company first.
                    self.assertTrue(rep["controller"]["complaints"])

    def test_GDPR_15_html_in_the_controllers_language(self):
        sid = self.create(("telenor", "customer_service"),
                          telenor_customer())
        r = self.report("telenor", sid, format="html")
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        self.assertIn('<html lang="da">', r.text)
        self.assertIn("Dine personoplysninger", r.text)
        self.assertIn("Ole Jensen", r.text)
        sid2 = self.create(("aurora-optimal", "customer_service"),
                           aopt_customer())
        r = self.report("aurora-optimal", sid2, format="html")
        self.assertIn('<html lang="sv">', r.text)
        self.assertIn("Dina personuppgifter", r.text)
        r = self.report("aurora-optimal", sid2, format="html", lang="en")
        self.assertIn("Your personal data", r.text)

    def test_GDPR_15_html_escapes_values(self):
        doc = telenor_customer()
        doc["facts"][0] = fact("name", "<script>alert(1)</script> & Co")
        sid = self.create(("telenor", "customer_service"), doc)
        r = self.report("telenor", sid, format="html")
        self.assertNotIn("<script>", r.text)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co",
                      r.text)

    def test_GDPR_20_SHOP_RIGHTS_1_portable_copy(self):
        """Only what the person provided, under consent or contract."""
        doc = {"purpose": "orders", "facts": [
            fact("customer_name", "Mette Lund", source="subject"),
            fact("customer_email", uniq_email("mette"), source="checkout"),
            # Not given by the person: the shop wrote it (a category the
            # policy says comes from the controller, TEL-CAT-3).
            fact("invoices", "Faktura 1001: kaffe, \"månedlig\"",
                 purpose="bookkeeping", source="controller"),
        ]}
        r = test_api.run_vaern(["--data", self.dir, "subject", "add",
                                "--controller", "webshop", "--json", "-"],
                               stdin=json.dumps(doc).encode())
        self.assertEqual(r.rc, 0, r)
        sid = r.json()["subject"]
        r = self.call("GET", "/v1/subjects/%s/export" % sid,
                      who=("webshop", "dpo"))
        self.assertEqual(r.status, 200, r)
        exp = r.json()
        self.assertEqual(exp["format"], "vaern-portable/1")
        self.assertEqual(exp["subject"], sid)
        cats = sorted(d["category"] for d in exp["data"])
        self.assertEqual(cats, ["customer_email", "customer_name"])
        r = self.call("GET", q("/v1/subjects/%s/export" % sid, format="csv"),
                      who=("webshop", "dpo"))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/csv"))
        rows = list(csv.reader(io.StringIO(r.text)))
        self.assertEqual(rows[0], ["category", "value", "purpose",
                                   "collected_at"])
        self.assertEqual(sorted(x[0] for x in rows[1:]),
                         ["customer_email", "customer_name"])
        self.assertIn(["customer_name", "Mette Lund", "orders"],
                      [x[:3] for x in rows[1:]])
        self.audited("webshop", sid, True, "GDPR-20", action="export")

    def test_bad_input_changes_nothing(self):
        sid = self.create(("telenor", "customer_service"),
                          telenor_customer())
        before = self.counts()
        for path, mention in (
                (q("/v1/subjects/%s/report" % sid, format="xml"), "format"),
                (q("/v1/subjects/%s/report" % sid, format="html",
                   lang="de"), "lang"),
                (q("/v1/subjects/%s/export" % sid, format="html"),
                 "format")):
            r = self.call("GET", path, who=("telenor", "dpo"))
            self.assertError(r, 400, "invalid", mentions=mention)
        r = self.call("GET", "/v1/subjects/%s/report" % ("0" * 32),
                      who=("telenor", "dpo"))
        self.assertError(r, 404)
        r = self.call("GET", "/v1/subjects/..%2f..%2fetc/report",
                      who=("telenor", "dpo"))
        self.assertIn(r.status, (400, 404), r)
        self.assertEqual(self.counts(), before)


def telenor_facts_policy():
    """Telenor's seed policy as it was before issue 18 moved logging data
    into the retained-data store: `logging_data` a category of facts
    again (no `store: traffic`, no `traffic:` section), still reserved to
    the cleared roles by its only purpose's `requires_clearance`. The one
    seed category a report withholds by clearance (TEL-LOG-2)."""
    import re
    import tempfile
    with open(TELENOR, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("    store: traffic\n", "", 1)
    text = re.sub(r"\ntraffic:.*?\n\n", "\n\n", text, count=1,
                  flags=re.S)
    assert "store: traffic" not in text and "\ntraffic:" not in text
    d = tempfile.mkdtemp(prefix="vaern-telenor-facts-")
    path = os.path.join(d, "telenor.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


class ClearanceWithheldTest(ApiCase):
    """TEL-LOG-2, GDPR-15: a report withholds, category by category,
    what the answering role may not see, and says so with the rule, the
    purpose and the retention; the cleared role's answer carries it."""
    policies = (telenor_facts_policy(),)
    actors = (("telenor", "customer_service"), ("telenor", "dpo"),
              ("telenor", "logging_officer"))

    def customer(self):
        sid = self.create(("telenor", "customer_service"),
                          telenor_customer())
        secret = "Mast 4711 Odder"
        r = self.call("POST", "/v1/subjects/%s/facts" % sid, fact(
            "logging_data", secret + " 2026-01-05T10:00",
            purpose="data_retention_logging"),
            who=("telenor", "logging_officer"))
        self.assertEqual(r.status, 201, r)
        return sid, secret

    def request(self, sid, who, type_="access"):
        r = self.call("POST", "/v1/requests", {
            "type": type_, "subject": sid, "channel": "letter"}, who)
        self.assertEqual(r.status, 201, r)
        rid = r.json()["id"]
        r = self.call("POST", "/v1/requests/%s/verification" % rid,
                      {"attestation": "id card seen"}, who)
        self.assertEqual(r.status, 200, r)
        return rid

    def assertWithheldByClearance(self, rep, secret):
        cats = {c["category"]: c for c in rep["categories"]}
        self.assertIn("logging_data", cats)
        c = cats["logging_data"]
        w = c.get("withheld")
        self.assertIsNotNone(w, c)
        self.assertEqual(w["rule"], "TEL-LOG-2", w)
        self.assertEqual(w["facts"], 1, w)
        self.assertEqual(c["facts"], [], c)
        # Told what it is kept for and how long, never what it says.
        self.assertIn("data_retention_logging",
                      [p["id"] for p in c["purposes"]], c)
        self.assertTrue(c["retention"], c)
        self.assertTrue(c["retention_text"], c)
        self.assertNotIn(secret, json.dumps(rep))
        # The rest of the report is there, not withheld.
        self.assertTrue(cats["name"]["facts"])
        self.assertNotIn("withheld", cats["name"])

    def test_TEL_LOG_2_GDPR_15_uncleared_report_withholds_category(self):
        sid, secret = self.customer()
        cs = ("telenor", "customer_service")
        rid = self.request(sid, cs)
        r = self.call("GET", "/v1/requests/%s/report" % rid, who=cs)
        self.assertEqual(r.status, 200, r)
        self.assertWithheldByClearance(r.json(), secret)
        r = self.call("GET", q("/v1/requests/%s/report" % rid,
                               format="html"), who=cs)
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(secret, r.text)
        self.assertIn("withheld", r.text)
        # The DPO (not cleared) is refused the same category.
        r = self.call("GET", "/v1/subjects/%s/report" % sid,
                      who=("telenor", "dpo"))
        self.assertEqual(r.status, 200, r)
        self.assertWithheldByClearance(r.json(), secret)
        # What was released is audited, without the withheld category.
        entries = [e for e in self.audit("telenor", subject=sid)
                   if e["role"] in ("customer_service", "dpo")
                   and e["action"] in ("request_report", "export")]
        self.assertTrue(entries)
        for e in entries:
            self.assertNotIn("logging_data", e["categories"], e)

    def test_TEL_LOG_2_GDPR_15_cleared_report_carries_category(self):
        # The other side: the cleared logging officer answering the same
        # kind of request reads the category and nothing is withheld.
        sid, secret = self.customer()
        log = ("telenor", "logging_officer")
        rid = self.request(sid, ("telenor", "customer_service"))
        r = self.call("GET", "/v1/requests/%s/report" % rid, who=log)
        self.assertEqual(r.status, 200, r)
        cats = {c["category"]: c for c in r.json()["categories"]}
        self.assertNotIn("withheld", cats["logging_data"])
        self.assertIn(secret, json.dumps(cats["logging_data"]["facts"]))
        entries = [e for e in self.audit("telenor", subject=sid)
                   if e["role"] == "logging_officer"
                   and e["action"] == "request_report"]
        self.assertTrue(entries)
        self.assertIn("logging_data", entries[-1]["categories"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
