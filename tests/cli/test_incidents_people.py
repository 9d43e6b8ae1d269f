#!/usr/bin/env python3
"""Black-box tests of the people a breach affected and the messages they
get (issue 17 points 4 and 5): the real `vaern` CLI with concrete dates
(--as-of) on the shipped policies/webshop.yaml.

Clauses of mission/CLAUSES.md proved here, each named in the test:
  GDPR-33  the people affected are identified from the audit trail's
           release index: by window (both edges), by the actor whose token
           leaked, by category; a create releases nothing; a trail made
           before the index gets it (the backfill) with the same answer;
           the Art. 34 message goes to each in their own language (da, sv,
           en), worded from templates/incident, never twice

Standard library only.
"""
import json
import os
import sqlite3
import sys
import unittest

import dbpeek

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_incidents as inc  # noqa: E402  (CliBase: vaern, audit, outbox)

VAERN = os.environ.get("VAERN_BIN")
EXIT_OK, EXIT_REFUSED = 0, 1

DAY = "2026-12-02"


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class PeopleBase(inc.CliBase):
    """A data directory with the web shop's policy (CliBase) and people
    read by the local operator (a gated, audited release) at chosen
    instants."""

    def person(self, email, phone=None):
        facts = [{"category": "customer_name", "value": "Kunde"},
                 {"category": "customer_email", "value": email}]
        if phone is not None:
            facts.append({"category": "billing_phone", "value": phone})
        r = self.vaern("subject", "add", "--controller", "webshop",
                       "--json", "-", as_of="2026-12-01T09:00:00Z",
                       stdin=json.dumps({"purpose": "orders",
                                         "facts": facts}))
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()["subject"]

    def show(self, sid, at):
        r = self.vaern("subject", "show", "--controller", "webshop", sid,
                       as_of=at)
        self.assertEqual(r.rc, EXIT_OK, r)

    def affected(self, *args):
        r = self.vaern("incidents", "affected", *args)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()


class AffectedTest(PeopleBase):
    def setUp(self):
        super().setUp()
        self.p1 = self.person("p1@example.dk")
        self.p2 = self.person("p2@example.dk")
        self.p3 = self.person("p3@example.dk")  # created, never read
        self.show(self.p1, DAY + "T10:00:00Z")
        self.show(self.p2, DAY + "T12:00:00Z")
        reads = [e for e in self.audit() if e["action"] == "read"]
        self.actor = reads[0]["actor"]

    def window(self, frm, to, *more):
        return self.affected("--from", frm, "--to", to, *more)

    def test_GDPR_33_window_edges(self):
        """Both ends of the window are included, to the second."""
        doc = self.window(DAY + "T00:00:00Z", DAY + "T23:59:59Z")
        self.assertEqual(doc["subjects"], sorted([self.p1, self.p2]))
        self.assertEqual(doc["entries"], 2)
        self.assertEqual(self.window(DAY + "T10:00:00Z",
                                     DAY + "T11:59:59Z")["subjects"],
                         [self.p1])
        self.assertEqual(self.window(DAY + "T09:59:59Z",
                                     DAY + "T10:00:00Z")["subjects"],
                         [self.p1])
        self.assertEqual(self.window(DAY + "T00:00:00Z",
                                     DAY + "T09:59:59Z")["people"], 0)
        self.assertEqual(self.window(DAY + "T12:00:00Z",
                                     DAY + "T12:00:00Z")["subjects"],
                         [self.p2])
        self.assertEqual(self.window(DAY + "T12:00:01Z",
                                     "2026-12-31T00:00:00Z")["people"], 0)

    def test_GDPR_33_an_entry_dated_before_the_ones_written_earlier(self):
        """An entry may be dated before those written before it (an
        audit outbox moved late, a clock set back): the release index
        still finds it in its window, and only there."""
        self.show(self.p3, DAY + "T08:00:00Z")
        self.assertEqual(self.window(DAY + "T07:00:00Z",
                                     DAY + "T09:00:00Z")["subjects"],
                         [self.p3])
        self.assertEqual(self.window(DAY + "T08:00:00Z",
                                     DAY + "T08:00:00Z")["subjects"],
                         [self.p3])
        self.assertEqual(self.window(DAY + "T07:00:00Z",
                                     DAY + "T07:59:59Z")["people"], 0)
        self.assertEqual(self.window(DAY + "T00:00:00Z",
                                     DAY + "T23:59:59Z")["people"], 3)

    def test_GDPR_33_a_create_releases_nothing(self):
        """The day of the creates (and the third person, never read) is
        no release: nobody is affected by it."""
        doc = self.window("2026-12-01T00:00:00Z", "2026-12-01T23:59:59Z")
        self.assertEqual(doc["people"], 0)
        doc = self.window("2026-12-01T00:00:00Z", "2026-12-31T00:00:00Z")
        self.assertNotIn(self.p3, doc["subjects"])

    def test_GDPR_33_by_actor_and_by_category(self):
        frm, to = DAY + "T00:00:00Z", DAY + "T23:59:59Z"
        doc = self.window(frm, to, "--leaked-actor", self.actor)
        self.assertEqual(doc["subjects"], sorted([self.p1, self.p2]))
        self.assertEqual(self.window(frm, to, "--leaked-actor",
                                     "someone_else")["people"], 0)
        doc = self.window(frm, to, "--categories",
                          "customer_email,billing_phone")
        self.assertEqual(doc["subjects"], sorted([self.p1, self.p2]))
        # Two categories of one entry: the entry counted once.
        self.assertEqual(doc["entries"], 2)
        self.assertEqual(doc["by_category"],
                         {"customer_email": 2, "billing_phone": 2})
        self.assertEqual(self.window(frm, to, "--categories",
                                     "no_such_category")["people"], 0)
        self.assertEqual(self.window(frm, to, "--route", "export")
                         ["people"], 0)
        self.assertEqual(self.window(frm, to, "--route", "read")
                         ["people"], 2)

    def test_GDPR_33_older_trail_gets_its_release_index(self):
        """A trail made before the release index (its tables gone, no
        schema version) is indexed at its next open: the same answer."""
        frm, to = DAY + "T00:00:00Z", DAY + "T23:59:59Z"
        want = self.window(frm, to)
        self.assertEqual(want["people"], 2)
        db = os.path.join(self.dir, "audit.db")
        con = dbpeek.connect(db)
        con.executescript("DROP TABLE audit_release;"
                          " DROP TABLE audit_name; DROP TABLE audit_meta;")
        con.close()
        self.assertEqual(self.window(frm, to), want)
        con = dbpeek.connect("file:%s?mode=ro" % db, uri=True)
        try:
            self.assertEqual(con.execute(
                "SELECT value FROM audit_meta WHERE name ="
                " 'schema_version'").fetchall(), [(2,)])
            self.assertEqual(con.execute(
                "SELECT sum(entries) FROM audit_release").fetchone()[0], 2)
            # No personal value in the index: ids and names only.
            names = [n for (n,) in con.execute(
                "SELECT name FROM audit_name")]
        finally:
            con.close()
        self.assertFalse([n for n in names if "@" in n], names)
        r = self.vaern("audit", "verify")
        self.assertEqual(r.rc, EXIT_OK, r)


class Art34LanguageTest(PeopleBase):
    """GDPR-33 / Art. 34: each person's message in their language, from
    templates/incident: the phone's country code, else the e-mail's
    country domain, else the controller's (the web shop: Danish)."""

    PEOPLE = (("se@example.se", None, "sv"),
              ("phone@example.com", "+46 70 123 45 67", "sv"),
              ("uk@example.co.uk", None, "en"),
              ("com@example.com", None, "da"),
              ("dk@example.dk", "+44 7700 900123", "en"))
    TITLES = {"da": "Brud på persondatasikkerheden",
              "sv": "Personuppgiftsincident",
              "en": "Personal data breach"}
    CONSEQUENCES = {"da": "Sandsynlige konsekvenser:",
                    "sv": "Sannolika konsekvenser:",
                    "en": "Likely consequences:"}

    def breach(self):
        r = self.vaern("incidents", "report", "--json", "-",
                       stdin=json.dumps({"description": "token lækket"}),
                       as_of="2026-12-03T08:00:00Z")
        self.assertEqual(r.rc, EXIT_OK, r)
        case = r.json()["case"]
        r = self.vaern("incidents", "triage", case, "--json", "-",
                       as_of="2026-12-03T09:00:00Z", stdin=json.dumps({
                           "classification": "personal_data_breach",
                           "aware_at": "2026-12-03T08:30:00Z",
                           "risk": "high", "consequences": "Spam",
                           "measures_taken": "Token spærret",
                           "measures_proposed": "Ny adgangskode"}))
        self.assertEqual(r.rc, EXIT_OK, r)
        return case

    def test_GDPR_33_art34_message_in_each_persons_language(self):
        sids = {}
        for email, phone, lang in self.PEOPLE:
            sids[email] = self.person(email, phone)
            self.show(sids[email], DAY + "T10:00:00Z")
        case = self.breach()
        # The day before the reads: nobody to tell.
        r = self.vaern("incidents", "notify", case,
                       "--from", "2026-12-01T00:00:00Z",
                       "--to", DAY + "T09:59:59Z")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["sent"], 0)
        r = self.vaern("incidents", "notify", case,
                       "--from", DAY + "T10:00:00Z",
                       "--to", DAY + "T10:00:00Z")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json(), {"sent": 5, "already": 0,
                                    "no_contact": 0})
        got = {m["to"]: m for m in self.outbox() if m["title"] in
               self.TITLES.values()}
        self.assertEqual(set(got), {p[0] for p in self.PEOPLE})
        for email, _, lang in self.PEOPLE:
            m = got[email]
            self.assertEqual(m["title"], self.TITLES[lang], email)
            self.assertIn(self.CONSEQUENCES[lang], m["body"], email)
            self.assertIn("Token spærret", m["body"])
            self.assertIn("Ny adgangskode", m["body"])
            for other in self.CONSEQUENCES.values():
                if other != self.CONSEQUENCES[lang]:
                    self.assertNotIn(other, m["body"], email)
        # Never twice.
        r = self.vaern("incidents", "notify", case,
                       "--from", DAY + "T00:00:00Z",
                       "--to", DAY + "T23:59:59Z")
        self.assertEqual(r.json(), {"sent": 0, "already": 5,
                                    "no_contact": 0})


if __name__ == "__main__":
    unittest.main()
