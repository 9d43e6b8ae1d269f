#!/usr/bin/env python3
"""Black-box tests of CEK-PURP-5 (issue 15 point 4): told before a new
purpose is used.

CEK-PURP-5  "Before data is used for a new purpose, the person is told."
            The seed (cekura.yaml, section 4): "Hvis vi behandler dine
            personoplysninger til et andet formål ... vil vi ... give dig
            besked om det nye formål, inden vi begynder behandlingen."

Driven through the real binary on the shipped seed policies/cekura.yaml
and a next version of it made here (a new purpose, or a purpose given a
new category): the CLI (`subject add-facts`, `policy notices [--send]`)
and HTTP (`GET /v1/subjects/{id}/facts?purpose=`) on both sides of the
day the notice period ends. Every command runs on a fixed clock
(`vaern --as-of DATE`).

The timeline of the tests: the person is added on 2026-01-02; the next
version is loaded on 2026-02-01 and `policy load` tells the person then;
the notice period (30 days, the seed's `notice_period`) ends on
2026-03-03 (2026-02-01 + 30 days): refused on 2026-03-02, allowed on
2026-03-03. When the outbox fails at the load, the person is told later
(`policy notices --send`, or the server's sweep) and the period runs from
that day.
"""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_consent import (BASE_ENV, CLI_TIMEOUT, POL, VAERN,  # noqa: E402
                          ConsentCase)

CEKURA = os.path.join(POL, "cekura.yaml")
ADDED = "2026-01-02"
LOADED = "2026-02-01"
DAY_BEFORE = "2026-03-02"  # the notice period has not run yet
DAY_OF = "2026-03-03"      # LOADED + 30 days: the first day of use
NEW = "satisfaction_survey"


def cekura_text():
    with open(CEKURA, encoding="utf-8") as f:
        return f.read()


def with_new_purpose(text):
    """Cekura's next version: a new purpose, used by customer service."""
    text = text.replace("purposes:\n  customer_admin:", """purposes:
  satisfaction_survey:
    subjects: [Eksisterende kunder]
    description: Tilfredshedsundersøgelser blandt vores kunder
    basis: [f]
    legitimate_interests: At forbedre vores produkter og service.
    categories: [name, email, orders]
  customer_admin:""", 1)
    text = text.replace(
        "purposes: [customer_admin, special_needs, competitions]",
        "purposes: [customer_admin, special_needs, competitions, "
        "satisfaction_survey]", 1)
    assert NEW in text and "satisfaction_survey]" in text
    return text


def with_wider_competitions(text):
    """Cekura's next version: competitions also use the birth date."""
    old = "categories: [name, email, phone, competition_entries]"
    assert old in text, "the seed's competitions purpose changed"
    return text.replace(
        old, "categories: [name, email, phone, competition_entries, "
        "birth_date]", 1)


def customer(n):
    return json.dumps({
        "purpose": "customer_admin",
        "facts": [{"category": "name", "value": "Kunde %d" % n},
                  {"category": "address", "value": "Vej %d" % n},
                  {"category": "phone", "value": "+45 20 00 00 %02d" % n},
                  {"category": "email",
                   "value": "kunde%d@example.dk" % n},
                  {"category": "orders", "value": "ordre %d" % n}],
        "consents": []}).encode()


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class CekPurp5Test(ConsentCase):
    policies = (CEKURA,)
    roles = (("cekura", "customer_service"),)

    def setUp(self):
        super().setUp()
        r = self.cli("subject", "add", "--controller", "cekura", "--json",
                     "-", stdin=customer(1), as_of=ADDED)
        self.assertEqual(r.returncode, 0, r)
        self.sid = json.loads(r.stdout)["subject"]

    # -- helpers --

    def load(self, text, as_of=LOADED, env=None):
        """Loads text as Cekura's next version; the JSON printed."""
        path = os.path.join(self.tmp, "next.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        r = subprocess.run([VAERN, "--data", self.dir, "--as-of", as_of,
                            "policy", "load", path], capture_output=True,
                           env=dict(BASE_ENV, **(env or {})),
                           timeout=CLI_TIMEOUT)
        self.assertEqual(r.returncode, 0, r)
        self.stderr = r.stderr
        return json.loads(r.stdout)

    def load_with_dead_outbox(self, text):
        """Loads text while the outbox (SMTP on a closed loopback port)
        takes nothing: nobody is told at the load."""
        doc = self.load(text, env={"VAERN_SMTP_URL": "smtp://127.0.0.1:9",
                                   "VAERN_SMTP_FROM": "privacy@example.dk",
                                   "VAERN_SMTP_INSECURE": "1"})
        self.assertNotIn("notices_sent", doc)
        self.assertIn(b"vaern policy notices --send tries again",
                      self.stderr)
        self.assertEqual(self.outbox(), [])
        return doc

    def add_fact(self, purpose, category, value, as_of):
        return self.cli("subject", "add-facts", "--controller", "cekura",
                        self.sid, "--purpose", purpose, "--fact",
                        "%s=%s" % (category, value), as_of=as_of)

    def facts(self):
        return self.sql("SELECT count(*) FROM fact")[0][0]

    def notices(self, *args, as_of=LOADED):
        r = self.cli("policy", "notices", "cekura", *args, as_of=as_of)
        self.assertEqual(r.returncode, 0, r)
        return json.loads(r.stdout)

    def outbox(self):
        d = os.path.join(self.dir, "outbox")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def read(self, purpose):
        return self.call("GET", "/v1/subjects/%s/facts?purpose=%s"
                         % (self.sid, purpose), who="customer_service")

    def assertRefused(self, r):
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(b"CEK-PURP-5", r.stderr)
        self.assertNotIn(b"kunde1@example.dk", r.stderr)

    # -- the tests --

    def test_seed_states_its_notice_period_CEK_PURP_5(self):
        """CEK-PURP-5: the seed's notice period is 30 days, and a policy
        loaded with no change of purpose has nothing to tell."""
        self.assertIn("notice_period: 30 days", cekura_text())
        doc = self.notices()
        self.assertEqual(doc["notice_period"], "30 days")
        self.assertEqual(doc["changes"], [])
        # The controller by --controller, or the sole one loaded.
        for args in (("--controller", "cekura"), ()):
            r = self.cli("policy", "notices", *args)
            self.assertEqual(r.returncode, 0, r)
            self.assertEqual(json.loads(r.stdout), doc)

    def test_new_purpose_refused_until_told_and_period_run_CEK_PURP_5(self):
        """CEK-PURP-5 (CLI): a purpose added by a new version is refused
        for a person already in the vault until they are told (the load
        tells them through the outbox) and the notice period has run:
        refused the day before it ends, allowed on the day; the person is
        told once."""
        before = self.facts()
        doc = self.load(with_new_purpose(cekura_text()))
        self.assertEqual(doc, {"loaded": ["cekura"],
                               "notices_sent": {"cekura": 1}})
        files = self.outbox()
        self.assertEqual(len(files), 1, files)
        with open(os.path.join(self.dir, "outbox", files[0]),
                  encoding="utf-8") as f:
            msg = json.load(f)
        # In the controller's language, to the contact on record, naming
        # the new purpose and the day it applies.
        self.assertEqual(msg["to"], "kunde1@example.dk")
        self.assertIn("Tilfredshedsundersøgelser blandt vores kunder",
                      msg["body"])
        self.assertIn("Fra %s" % DAY_OF, msg["body"])
        self.assertIn("personoplysninger", msg["title"])

        # Told, but the period has not run: refused, nothing stored.
        self.assertRefused(self.add_fact(NEW, "orders", "x", LOADED))
        self.assertRefused(self.add_fact(NEW, "orders", "x", DAY_BEFORE))
        self.assertEqual(self.facts(), before)
        # The purposes in force before the change go on.
        r = self.add_fact("customer_admin", "orders", "y", LOADED)
        self.assertEqual(r.returncode, 0, r)
        before = self.facts()

        plan = self.notices()
        self.assertEqual(len(plan["changes"]), 1, plan)
        ch = plan["changes"][0]
        self.assertEqual(ch["purposes"], "%s (new purpose)" % NEW)
        self.assertEqual(ch["loaded_at"], LOADED + "T00:00:00Z")
        self.assertEqual((ch["to_tell"], ch["told"]), (0, 1))
        self.assertEqual(ch["people"], [{
            "subject": self.sid, "status": "told",
            "told_at": LOADED + "T00:00:00Z",
            "usable_from": DAY_OF + "T00:00:00Z"}])

        # Nothing is sent twice: not by --send, not by loading again.
        again = self.notices("--send", as_of="2026-02-10")
        self.assertEqual(again["changes"][0]["people"][0]["status"], "told")
        self.assertEqual(self.load(with_new_purpose(cekura_text()),
                                   as_of="2026-02-11"),
                         {"loaded": ["cekura"]})
        self.assertEqual(len(self.outbox()), 1)

        # The day the period ends: used.
        r = self.add_fact(NEW, "orders", "x", DAY_OF)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(self.facts(), before + 1)

        # Audited: the refusals under the rule, the message without the
        # address.
        entries = self.audit()
        rules = [e.get("rule") for e in entries]
        self.assertIn("CEK-PURP-5", rules)
        for e in entries:
            self.assertNotIn("kunde1@example.dk", json.dumps(e, default=str))

    def test_period_runs_from_the_day_told_CEK_PURP_5(self):
        """CEK-PURP-5: when the outbox takes nothing at the load, the
        person is not told and stays refused, however long after; told
        later (policy notices --send), the period runs from that day."""
        self.load_with_dead_outbox(with_new_purpose(cekura_text()))
        plan = self.notices()
        self.assertEqual(plan["changes"][0]["people"][0]["status"],
                         "to_tell")
        self.assertRefused(self.add_fact(NEW, "orders", "x", "2026-12-01"))
        sent = self.notices("--send", as_of="2026-02-10")
        person = sent["changes"][0]["people"][0]
        self.assertEqual(person["status"], "sent")
        self.assertEqual(person["told_at"], "2026-02-10T00:00:00Z")
        self.assertEqual(person["usable_from"], "2026-03-12T00:00:00Z")
        self.assertEqual(len(self.outbox()), 1)
        self.assertRefused(self.add_fact(NEW, "orders", "x", "2026-03-11"))
        r = self.add_fact(NEW, "orders", "x", "2026-03-12")
        self.assertEqual(r.returncode, 0, r)

    def test_new_purpose_over_http_both_sides_of_the_day_CEK_PURP_5(self):
        """CEK-PURP-5 (HTTP): a read for the new purpose is 403 naming
        the clause the day before the notice period ends and 200 on the
        day; the purposes in force before are read all along."""
        self.load(with_new_purpose(cekura_text()))
        self.serve(DAY_BEFORE)
        r = self.read(NEW)
        self.assertEqual(r.status, 403, r)
        self.assertIn("CEK-PURP-5", r.text)
        self.assertNotIn("kunde1", r.text)
        r = self.read("customer_admin")
        self.assertEqual(r.status, 200, r)
        self.serve(DAY_OF)
        r = self.read(NEW)
        self.assertEqual(r.status, 200, r)
        got = sorted({f["category"] for f in r.json()["facts"]})
        self.assertEqual(got, ["email", "name", "orders"])

    def test_the_server_sweep_tells_them_once_CEK_PURP_5(self):
        """CEK-PURP-5: `vaern serve --sweep-every` sends the notices of a
        loaded version itself, each person once, and the period runs from
        that day."""
        self.load_with_dead_outbox(with_new_purpose(cekura_text()))
        self.serve(LOADED, "--sweep-every", "1s")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not self.outbox():
            time.sleep(0.2)
        time.sleep(1.5)  # at least one more sweep: nothing sent twice
        self.stop()
        self.assertEqual(len(self.outbox()), 1, self.outbox())
        person = self.notices(as_of=LOADED)["changes"][0]["people"][0]
        self.assertEqual(person["status"], "told")
        self.assertEqual(person["usable_from"], DAY_OF + "T00:00:00Z")
        self.assertRefused(self.add_fact(NEW, "orders", "x", DAY_BEFORE))
        r = self.add_fact(NEW, "orders", "x", DAY_OF)
        self.assertEqual(r.returncode, 0, r)

    def test_untold_person_refused_over_http_CEK_PURP_5(self):
        """CEK-PURP-5 (HTTP): never told (the outbox took nothing), still
        refused months after the version was loaded."""
        self.load_with_dead_outbox(with_new_purpose(cekura_text()))
        self.serve("2026-09-01")
        r = self.read(NEW)
        self.assertEqual(r.status, 403, r)
        self.assertIn("CEK-PURP-5", r.text)

    def test_person_added_after_the_change_was_told_by_it_CEK_PURP_5(self):
        """CEK-PURP-5: a person added after the version was loaded was
        told by the notice in force then: the new purpose is used at
        once, and they are not in the plan."""
        self.load(with_new_purpose(cekura_text()))
        r = self.cli("subject", "add", "--controller", "cekura", "--json",
                     "-", stdin=customer(2), as_of="2026-02-05")
        self.assertEqual(r.returncode, 0, r)
        later = json.loads(r.stdout)["subject"]
        r = self.cli("subject", "add-facts", "--controller", "cekura",
                     later, "--purpose", NEW, "--fact", "orders=z",
                     as_of="2026-02-05")
        self.assertEqual(r.returncode, 0, r)
        people = self.notices()["changes"][0]["people"]
        self.assertEqual([p["subject"] for p in people], [self.sid])

    def test_widened_purpose_needs_notice_too_CEK_PURP_5(self):
        """CEK-PURP-5: a purpose given a new category is a change the
        person is told of first: refused until then."""
        self.load(with_wider_competitions(cekura_text()))
        plan = self.notices()
        self.assertEqual(plan["changes"][0]["purposes"],
                         "competitions (new categories: birth_date)")
        r = self.cli("subject", "add-facts", "--controller", "cekura",
                     self.sid, "--purpose", "competitions", "--fact",
                     "competition_entries=quiz", as_of=LOADED)
        self.assertRefused(r)
        for day, rc in ((DAY_BEFORE, 1), (DAY_OF, 0)):
            r = self.cli("subject", "add-facts", "--controller", "cekura",
                         self.sid, "--purpose", "competitions", "--fact",
                         "competition_entries=quiz", as_of=day)
            self.assertEqual(r.returncode, rc, (day, r))

    def test_new_recipient_and_weaker_basis_widen_CEK_PURP_5(self):
        """CEK-PURP-5: a purpose given a new recipient, or a legal basis
        it did not rest on (other than consent), is widened: the plan
        names both; a purpose that only changes its description is
        not."""
        text = cekura_text()
        old = ("    purposes: [customer_admin, special_needs]\n"
               "  general_practitioner:")
        self.assertIn(old, text)
        text = text.replace(old, "    purposes: [customer_admin, "
                            "special_needs, competitions]\n"
                            "  general_practitioner:", 1)
        old = "    basis: f\n    legitimate_interests: >-\n      At afsætte"
        self.assertIn(old, text)
        text = text.replace(old, "    basis: [b, f]\n    legitimate_"
                            "interests: >-\n      At afsætte", 1)
        old = ("description: Optagelse af telefonsamtaler til "
               "dokumentation og uddannelse af medarbejdere")
        self.assertIn(old, text)
        text = text.replace(old, "description: Optagelse af "
                            "telefonsamtaler til dokumentation", 1)
        self.load(text)
        got = {p.split(" (")[0]: p for p in
               self.notices()["changes"][0]["purposes"].split("; ")}
        self.assertEqual(got, {
            "competitions": "competitions (new recipients: family_members)",
            "digital_services": "digital_services (new legal basis)"})

    def test_consent_to_a_new_purpose_is_being_told_CEK_PURP_5(self):
        """CEK-PURP-5, GDPR-7: a new purpose resting on consent is refused
        until the person consents; their consent, given knowing the
        purpose, is being told: used at once, no notice period."""
        text = cekura_text().replace("purposes:\n  customer_admin:", """purposes:
  product_panel:
    subjects: [Eksisterende kunder]
    description: Deltagelse i vores produktpanel
    basis: a
    consent:
      sources: [web_form]
      text: Ja tak, jeg vil gerne deltage i produktpanelet.
    categories: [name, email, orders]
  customer_admin:""", 1)
        text = text.replace(
            "purposes: [customer_admin, special_needs, competitions]",
            "purposes: [customer_admin, special_needs, competitions, "
            "product_panel]", 1)
        self.load_with_dead_outbox(text)
        r = self.cli("subject", "add-facts", "--controller", "cekura",
                     self.sid, "--purpose", "product_panel", "--fact",
                     "orders=panel", as_of="2026-02-02")
        self.assertEqual(r.returncode, 1, r)  # no consent yet (GDPR-7)
        r = self.cli("subject", "consent", "--controller", "cekura",
                     self.sid, "product_panel", "--source", "web_form",
                     as_of="2026-02-02")
        self.assertEqual(r.returncode, 0, r)
        r = self.cli("subject", "add-facts", "--controller", "cekura",
                     self.sid, "--purpose", "product_panel", "--fact",
                     "orders=panel", as_of="2026-02-02")
        self.assertEqual(r.returncode, 0, r)

    def test_bad_input_CEK_PURP_5(self):
        """CEK-PURP-5: an unknown controller, a stray option and a bad
        notice_period are refused with a clear error; nothing changes."""
        r = self.cli("policy", "notices", "nosuch")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(b"nosuch", r.stderr)
        r = self.cli("policy", "notices", "cekura", "--bogus")
        self.assertEqual(r.returncode, 2, r)
        path = os.path.join(self.tmp, "bad.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(cekura_text().replace("notice_period: 30 days",
                                          "notice_period: soon"))
        r = self.cli("policy", "check", path)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(b"notice_period", r.stderr)
        r = self.cli("policy", "load", path)
        self.assertEqual(r.returncode, 1, r)
        self.assertEqual(self.notices()["changes"], [])
        # Given twice (in controller and at the top level): refused.
        with open(path, "w", encoding="utf-8") as f:
            f.write(cekura_text().replace(
                "vaern: 1\n", "vaern: 1\nnotice_period: 2 weeks\n", 1))
        r = self.cli("policy", "check", path)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(b"notice_period is given twice", r.stderr)

    def test_notice_period_at_the_top_level_CEK_PURP_5(self):
        """CEK-PURP-5: `notice_period` may stand at the top level too; its
        period, not the default, decides the day: 2026-02-01 + 2 weeks."""
        text = cekura_text().replace("  notice_period: 30 days\n", "", 1)
        text = text.replace("vaern: 1\n", "vaern: 1\nnotice_period: 2 weeks\n",
                            1)
        self.load(with_new_purpose(text))
        self.assertEqual(self.notices()["notice_period"], "2 weeks")
        self.assertRefused(self.add_fact(NEW, "orders", "x", "2026-02-14"))
        r = self.add_fact(NEW, "orders", "x", "2026-02-15")
        self.assertEqual(r.returncode, 0, r)


if __name__ == "__main__":
    unittest.main()
