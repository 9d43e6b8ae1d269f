#!/usr/bin/env python3
"""Black-box tests of `vaern import` (issue 4): a customer base from CSV.

Starts the real vaern binary (env VAERN_BIN) on a private data directory per
test, with the test policy tests/fixtures/vault-test.yaml (controller
testshop), writes CSV files and mapping files into a temporary directory and
imports them. What was written is read back through the CLI (`subject find`,
`subject show`) and, to prove that a refused import wrote nothing, by
counting the rows of vaern.db with Python's sqlite3 module.

Each test names the clause of mission/CLAUSES.md it proves: GDPR-32 (no
personal data in any message; every input across a trust boundary has a
validator), SHOP-PAY-1 (no full card number stored), CEK-MAND-1 (mandatory
categories), GDPR-7 (consent recorded with the data, and nothing under a
consent purpose without it).
"""
import json
import os
import pty
import re
import select
import sqlite3

import dbpeek
import subprocess
import tempfile
import unittest

VAERN = os.environ.get("VAERN_BIN")
ROOT = os.environ.get("VAERN_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "vault-test.yaml")
TIMEOUT = 60

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3
EXIT_PARTIAL = 4  # --skip-bad with rows skipped (docs/import.md)
HEX32 = re.compile(r"^[0-9a-f]{32}$")
TABLES = ("subject", "identifier", "fact", "event", "consent")

BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}

HEADER = "name,address,phone,email,cpr,birth_date,notes"


def person(i, **over):
    """A valid customer_admin row of the test policy, as a dict."""
    p = {
        "name": "Kunde Nummer%d Hansen" % i,
        "address": "Vestergade %d, 8000 Aarhus C" % (10 + i),
        "phone": "+45 %08d" % (21000000 + i),
        "email": "kunde%d@example.dk" % i,
        "cpr": "%02d0190-%04d" % (1 + i % 28, 1000 + i),
        "birth_date": "1990-01-%02d" % (1 + i % 28),
        "notes": "likes blue %d" % i,
    }
    p.update(over)
    return p


def csv_field(v):
    if any(c in v for c in ',"\r\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def csv_row(p, header=HEADER):
    return ",".join(csv_field(p.get(h, "")) for h in header.split(","))


def csv_text(rows, header=HEADER, eol="\n"):
    return eol.join([header] + [csv_row(r, header) for r in rows]) + eol


class Result:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout.decode("utf-8", "replace")
        self.err = p.stderr.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "rc=%d stdout=%r stderr=%r" % (self.rc, self.out[:600],
                                              self.err[:1500])


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class ImportTest(unittest.TestCase):
    """A fresh data directory with the test policy, per test."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-import-")
        self.addCleanup(self._tmp.cleanup)
        self.tmp = self._tmp.name
        self.dir = os.path.join(self.tmp, "data")
        self.db = os.path.join(self.dir, "vaern.db")
        r = self.vaern("init", "--policy", FIXTURE)
        self.assertEqual(r.rc, EXIT_OK, r)

    # -- helpers ------------------------------------------------------------

    def vaern(self, *args, stdin=None, env=None):
        e = dict(BASE_ENV)
        if env:
            e.update(env)
        p = subprocess.run([VAERN, "--data", self.dir, *args], input=stdin,
                           capture_output=True, env=e, timeout=TIMEOUT)
        return Result(p)

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    def imp(self, path, *args, purpose="customer_admin", env=None):
        extra = ["--purpose", purpose] if purpose else []
        return self.vaern("import", "--controller", "testshop", *extra,
                          *args, path, env=env)

    def find(self, typ, value):
        """The subject id with this identifier, or None."""
        r = self.vaern("subject", "find", typ, "-", stdin=value.encode())
        if r.rc == EXIT_OK:
            return r.json()["subject"]
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        return None

    def show(self, sid):
        r = self.vaern("subject", "show", sid)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()

    def facts(self, sid):
        return {(f["category"], f["purpose"]): f
                for f in self.show(sid)["facts"]}

    def counts(self):
        con = dbpeek.connect(self.db)
        try:
            return {t: con.execute("SELECT count(*) FROM " + t).fetchone()[0]
                    for t in TABLES}
        finally:
            con.close()

    def assert_nothing_written(self):
        self.assertEqual(self.counts(), {t: 0 for t in TABLES})

    def assert_no_value(self, text, values):
        """GDPR-32, CONVENTIONS habit 4: no personal data in a message."""
        digits = "".join(c for c in text if c.isdigit())
        for v in values:
            if len(v.strip()) < 4:
                continue
            self.assertNotIn(v, text, "personal data in output")
            d = "".join(c for c in v if c.isdigit())
            if len(d) >= 6:
                self.assertNotIn(d, digits, "identifier digits in output")

    def values(self, rows):
        out = []
        for p in rows:
            out.extend(v for k, v in p.items() if k != "birth_date")
        return out

    def bad_lines(self, err, path):
        """{line: message} of every FILE:LINE: report."""
        name = re.escape(path)
        out = {}
        for ln in err.splitlines():
            m = re.match(name + r":(\d+): (.*)$", ln)
            if m:
                out[int(m.group(1))] = m.group(2)
        return out

    # -- a good file ---------------------------------------------------------

    def test_good_file_loads_every_subject(self):
        """Every row becomes a subject, found by each identifier and shown
        with its values as given; no value reaches stdout or stderr
        (GDPR-32)."""
        rows = [person(i) for i in range(1, 8)]
        rows[2]["address"] = 'c/o "Jensen",\nNørregade 7\n1165 København K'
        rows[4]["notes"] = ""  # an empty cell: no fact
        path = self.write("good.csv", "\ufeff" + csv_text(rows, eol="\r\n"))
        r = self.imp(path)
        self.assertEqual(r.rc, EXIT_OK, r)
        s = r.json()
        self.assertEqual(s["controller"], "testshop")
        self.assertEqual((s["rows"], s["imported"], s["bad"]), (7, 7, 0))
        self.assertEqual(s["facts"], 7 * 7 - 1)
        self.assertTrue(s["committed"])
        self.assertEqual(r.err, "")
        self.assert_no_value(r.out + r.err, self.values(rows))
        for p in rows:
            sid = self.find("email", p["email"])
            self.assertRegex(sid or "", HEX32)
            self.assertEqual(self.find("phone", p["phone"]), sid)
            self.assertEqual(self.find("cpr", p["cpr"]), sid)
            facts = self.facts(sid)
            for cat in ("name", "address", "birth_date", "notes"):
                if p[cat]:
                    self.assertEqual(
                        facts[(cat, "customer_admin")]["value"], p[cat])
            self.assertEqual(("notes", "customer_admin") in facts,
                             p["notes"] != "")
            self.assertEqual(facts[("email", "customer_admin")]["value"],
                             p["email"])

    def test_batches_of_any_size_give_the_same_result(self):
        """The pipeline (read, prepare on workers, write) keeps file order
        and finds a duplicate across batch boundaries."""
        rows = [person(i) for i in range(1, 12)]
        rows.append(person(40, email=rows[1]["email"]))  # line 13 dup line 3
        path = self.write("b.csv", csv_text(rows))
        for batch in ("1", "2", "5", "100"):
            with self.subTest(batch=batch):
                r = self.imp(path, "--batch", batch)
                self.assertEqual(r.rc, EXIT_REFUSED, r)
                self.assertEqual(self.bad_lines(r.err, path),
                                 {13: 'column "email": the same email as '
                                      'line 3'})
                self.assert_nothing_written()

    def test_header_only_and_blank_lines(self):
        path = self.write("h.csv", HEADER + "\n")
        r = self.imp(path)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual((r.json()["rows"], r.json()["imported"]), (0, 0))
        rows = [person(1), person(2)]
        text = HEADER + "\n\n" + csv_row(rows[0]) + "\n\n" + \
            csv_row(rows[1]) + "\n\n"
        path = self.write("blank.csv", text)
        r = self.imp(path)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual((r.json()["rows"], r.json()["imported"]), (2, 2))

    def test_empty_file_refused(self):
        path = self.write("empty.csv", "")
        r = self.imp(path)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("no header", r.err)

    def test_stdin_and_semicolons(self):
        rows = [person(1), person(2)]
        text = csv_text(rows).replace(",", ";")
        r = self.vaern("import", "--purpose", "customer_admin",
                       "--delimiter", ";", "-", stdin=text.encode())
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["imported"], 2)
        self.assertIsNotNone(self.find("email", rows[1]["email"]))

    # -- bad rows ------------------------------------------------------------

    def bad_file(self):
        """Good and bad rows; the first row's address spans 3 lines, so
        every later row starts 2 lines further down than its index."""
        good = [person(1, address="Nørregade 7\n2. tv\n1165 København K"),
                person(2), person(3)]
        bad = {
            # line: (row, what the message says)
            6: (person(4, email="not-an-email"),
                'column "email": not a valid email'),
            7: (person(5, phone=""),
                "purpose 'customer_admin' needs category 'phone' "
                "(mandatory), which is missing"),
            8: (person(6, notes="kort 4111 1111 1111 1111 udl. 12/27"),
                'column "notes": the value holds a full payment card '
                'number'),
            9: (person(7, birth_date="1990-02-30"),
                'column "birth_date": not a real calendar date '
                '(YYYY-MM-DD)'),
            10: (None, "the row has 3 fields, the header 7"),
            11: (person(8, email=good[0]["email"]),
                 'column "email": the same email as line 2'),
            12: (person(9, cpr="310299-1234"),
                 'column "cpr": not a valid cpr'),
        }
        lines = [HEADER, csv_row(good[0]), csv_row(good[1])]
        for ln in sorted(bad):
            row, _ = bad[ln]
            lines.append(csv_row(row) if row else
                         "Ragged Row Person,Somewhere 1,+45 21 99 99 99")
        lines.append(csv_row(good[2]))
        path = self.write("bad.csv", "\n".join(lines) + "\n")
        everyone = good + [row for row, _ in bad.values() if row]
        return path, good, bad, everyone

    def test_bad_rows_reported_by_line_nothing_written(self):
        """All or nothing: every bad row reported as FILE:LINE: column
        "HEADER": what, line numbers counted across a multi-line quoted
        field; nothing is written; no value in the messages (GDPR-32,
        SHOP-PAY-1, CEK-MAND-1)."""
        path, good, bad, everyone = self.bad_file()
        r = self.imp(path)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertEqual(r.out, "")
        got = self.bad_lines(r.err, path)
        self.assertEqual(sorted(got), sorted(bad), r)
        for ln, (_, says) in bad.items():
            self.assertTrue(got[ln].startswith(says), (ln, got[ln], says))
        self.assertIn("7 of 10 rows are bad; nothing was imported", r.err)
        self.assert_no_value(r.err, self.values(everyone) +
                             ["1990-02-30", "4111 1111 1111 1111",
                              "Ragged Row Person"])
        self.assertNotIn("30", got[9])
        self.assert_nothing_written()
        for p in good:
            self.assertIsNone(self.find("email", p["email"]))

    def test_skip_bad_loads_exactly_the_good_rows(self):
        """--skip-bad: the good rows are committed, the bad ones reported
        and left out, exit 4 with the summary on stdout."""
        path, good, bad, everyone = self.bad_file()
        r = self.imp(path, "--skip-bad")
        self.assertEqual(r.rc, EXIT_PARTIAL, r)
        s = r.json()
        self.assertEqual((s["rows"], s["imported"], s["bad"]), (10, 3, 7))
        self.assertEqual(sorted(self.bad_lines(r.err, path)), sorted(bad))
        self.assert_no_value(r.out + r.err, self.values(everyone))
        self.assertEqual(self.counts()["subject"], 3)
        for p in good:
            sid = self.find("email", p["email"])
            self.assertIsNotNone(sid)
            self.assertEqual(self.facts(sid)[("address", "customer_admin")]
                             ["value"], p["address"])
        for ln, (p, _) in bad.items():
            if p is None or ln == 11:
                continue
            self.assertIsNone(self.find("phone", p["phone"])
                              if p["phone"] else None)
        # the duplicate's own phone was not loaded either
        self.assertIsNone(self.find("phone", bad[11][0]["phone"]))

    def test_duplicate_of_a_subject_already_in_the_vault(self):
        existing = person(1)
        doc = {"purpose": "customer_admin",
               "facts": [{"category": c, "value": existing[c]}
                         for c in ("name", "address", "phone", "email")]}
        r = self.vaern("subject", "add", "--json", "-",
                       stdin=json.dumps(doc).encode())
        self.assertEqual(r.rc, EXIT_OK, r)
        before = self.counts()
        rows = [person(2), person(3, phone=existing["phone"])]
        path = self.write("dup.csv", csv_text(rows))
        r = self.imp(path)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertEqual(self.bad_lines(r.err, path),
                         {3: 'column "phone": a subject of \'testshop\' '
                             'already in the vault has this phone'})
        self.assertEqual(self.counts(), before)
        self.assert_no_value(r.err, self.values(rows))

    def test_max_errors_caps_the_list_not_the_count(self):
        rows = [person(i, email="bad%d" % i) for i in range(1, 6)]
        path = self.write("many.csv", csv_text(rows))
        r = self.imp(path, "--max-errors", "2")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertEqual(sorted(self.bad_lines(r.err, path)), [2, 3])
        self.assertIn("3 more bad rows not listed", r.err)
        self.assertIn("5 of 5 rows are bad", r.err)

    def test_event_in_the_future_undoes_the_subject(self):
        """An event column is recorded after the subject is written; a
        refused event takes the subject out again."""
        header = HEADER + ",relationship_end"
        rows = [person(1, relationship_end="2025-06-30"),
                person(2, relationship_end="2030-01-01"),
                person(3, relationship_end="")]
        path = self.write("ev.csv", csv_text(rows, header))
        env = {"VAERN_AS_OF": "2026-02-01"}
        r = self.imp(path, "--skip-bad", env=env)
        self.assertEqual(r.rc, EXIT_PARTIAL, r)
        self.assertEqual(self.bad_lines(r.err, path),
                         {3: 'column "relationship_end": event '
                             '\'relationship_end\' is in the future, and '
                             'the policy does not declare it '
                             'known_in_advance'})
        self.assertEqual(r.json()["events"], 1)
        self.assertIsNone(self.find("email", rows[1]["email"]))
        self.assertIsNone(self.find("phone", rows[1]["phone"]))
        sid = self.find("email", rows[0]["email"])
        self.assertEqual(self.show(sid)["events"],
                         [{"kind": "relationship_end",
                           "at": "2025-06-30T00:00:00Z"}])
        self.assertEqual(self.show(self.find("email", rows[2]["email"]))
                         ["events"], [])

    # -- the CSV itself ------------------------------------------------------

    def assert_csv_refused(self, data, where, says, secret):
        path = self.write("broken.csv", data)
        for extra in ((), ("--skip-bad",)):
            r = self.imp(path, *extra)
            self.assertEqual(r.rc, EXIT_REFUSED, r)
            self.assertEqual(r.out, "")
            self.assertIn("%s:%s: " % (path, where), r.err)
            self.assertIn(says, r.err)
            self.assertIn("nothing was imported", r.err)
            self.assert_no_value(r.err, secret)
            self.assert_nothing_written()

    def test_malformed_csv_refused_with_position(self):
        """GDPR-32: the CSV reader says where and what, never the text."""
        good = csv_row(person(1))
        cases = [
            ("unterminated quote",
             HEADER + "\n" + good + '\nAnna Secretsen,"Hemmeligvej 12\n',
             "3:16", "never closed"),
            ("quote inside a field",
             HEADER + '\nAnna Se"cretsen,x,y,z,w,v,u\n', "2:8",
             "quote inside an unquoted field"),
            ("text after a closing quote",
             HEADER + '\n"Anna Secretsen"x,a,b,c,d,e,f\n', "2:17",
             "after the closing quote"),
            ("lone carriage return",
             HEADER + "\nAnna Secretsen,a\rb,c,d,e,f,g\n", "2:17",
             "carriage return"),
        ]
        for name, data, where, says in cases:
            with self.subTest(name):
                self.assert_csv_refused(data, where, says,
                                        ["Anna Secretsen",
                                         "Hemmeligvej 12"])

    def test_ragged_row_is_a_bad_row(self):
        rows = [person(1)]
        text = csv_text(rows) + csv_row(person(2)) + ",extra\n"
        path = self.write("ragged.csv", text)
        r = self.imp(path)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertEqual(self.bad_lines(r.err, path),
                         {3: "the row has 8 fields, the header 7"})
        self.assert_nothing_written()

    def test_non_utf8_refused(self):
        """A Latin-1 file is refused at the first byte that is not UTF-8,
        by line and column, without quoting it."""
        text = csv_text([person(1), person(2, name="Søren Ærø")])
        data = text.encode("latin-1")
        self.assert_csv_refused(data, "3:2", "not valid UTF-8",
                                ["Vestergade 12"])

    # -- the mapping ---------------------------------------------------------

    def assert_mapping_refused(self, path, args, says, purpose="customer_admin"):
        r = self.imp(path, *args, purpose=purpose)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertEqual(r.out, "")
        self.assertIn(says, r.err)
        self.assertIn("with the mapping; nothing was imported", r.err)
        self.assert_nothing_written()
        return r

    def test_mapping_errors_refused(self):
        rows = [person(1)]
        path = self.write("m.csv", csv_text(rows))
        odd = self.write("odd.csv", csv_text(
            [dict(person(1), shoe_size="44")], HEADER + ",shoe_size"))
        cases = [
            ("column not in the file", path, ["--column", "Mail=email"],
             'no column "Mail" in ' + path),
            ("unknown category", path, ["--column", "email=emial"],
             'column "email": the policy of \'testshop\' has no category '
             "'emial'"),
            ("purpose does not use category", path,
             ["--column", "notes=notes@newsletter"],
             "purpose 'newsletter' does not use category 'notes'"),
            ("unknown purpose", path, ["--purpose", "marketing"],
             "has no purpose 'marketing'"),
            ("unknown event", path, ["--column", "notes=event:moved"],
             "declares no event 'moved'"),
            ("unknown consent source", path,
             ["--column", "notes=consent:newsletter:shop_counter"],
             "'shop_counter' is not a way the policy records consent to "
             "'newsletter'"),
            ("header not a category", odd, [],
             'column "shoe_size": neither a category nor an event of '
             "'testshop'"),
            ("malformed spec", path, ["--column", "notes"],
             "expected HEADER = SPEC"),
        ]
        for name, p, args, says in cases:
            with self.subTest(name):
                self.assert_mapping_refused(p, args, says)
        # an unmapped column may be left out
        r = self.imp(odd, "--column", "shoe_size=-")
        self.assertEqual(r.rc, EXIT_OK, r)

    def test_no_purpose_refused(self):
        path = self.write("np.csv", csv_text([person(1)]))
        self.assert_mapping_refused(path, [], "no purpose for category",
                                    purpose=None)

    def test_map_file_with_dates_events_and_consent(self):
        """A --map file for a file whose headers are not the policy's
        words: collection time and an event from columns, a newsletter
        consent column (GDPR-7): the e-mail is kept for the newsletter only
        for rows with a consent date, with the consent recorded."""
        header = ("Fulde navn,Adresse,Telefon,E-mail,Kunde siden,Ophørt,"
                  "Nyhedsbrev,Intern note")
        rows = [
            {"Fulde navn": "Anna Hansen", "Adresse": "Nørregade 7",
             "Telefon": "+45 20 30 40 50", "E-mail": "anna@example.dk",
             "Kunde siden": "2019-03-01", "Ophørt": "2025-05-31",
             "Nyhedsbrev": "2020-01-15T10:00:00Z", "Intern note": "x"},
            {"Fulde navn": "Bo Berg", "Adresse": "Vestergade 1",
             "Telefon": "+45 20 30 40 51", "E-mail": "bo@example.dk",
             "Kunde siden": "2021-11-30", "Ophørt": "",
             "Nyhedsbrev": "", "Intern note": "y"},
        ]
        mapfile = self.write("kunder.map", "\n".join([
            "# kundekartotek -> testshop",
            "Fulde navn = name",
            "Adresse    = address@customer_admin",
            "Telefon = phone",
            "E-mail = email",
            "E-mail = email@newsletter",
            "Kunde siden = collected_at",
            "Ophørt = event:relationship_end",
            "Nyhedsbrev = consent:newsletter:web_form",
            "Intern note = -",
            "",
        ]))
        path = self.write("kunder.csv", csv_text(rows, header))
        r = self.imp(path, "--map", mapfile,
                     env={"VAERN_AS_OF": "2026-01-10"})
        self.assertEqual(r.rc, EXIT_OK, r)
        s = r.json()
        self.assertEqual((s["imported"], s["facts"], s["consents"],
                          s["events"]), (2, 9, 1, 1))
        anna = self.find("email", "anna@example.dk")
        bo = self.find("email", "bo@example.dk")
        fa, fb = self.facts(anna), self.facts(bo)
        self.assertEqual(fa[("email", "newsletter")]["value"],
                         "anna@example.dk")
        self.assertNotIn(("email", "newsletter"), fb)
        self.assertEqual(fa[("name", "customer_admin")]["collected_at"],
                         "2019-03-01T00:00:00Z")
        self.assertEqual(fb[("phone", "customer_admin")]["collected_at"],
                         "2021-11-30T00:00:00Z")
        self.assertEqual(self.show(anna)["events"],
                         [{"kind": "relationship_end",
                           "at": "2025-05-31T00:00:00Z"}])
        self.assertEqual(self.show(bo)["events"], [])
        con = dbpeek.connect(self.db)
        try:
            self.assertEqual(con.execute(
                "SELECT count(*) FROM consent").fetchone()[0], 1)
        finally:
            con.close()
        self.assertNotIn("x", [f["value"] for f in fa.values()])

    def test_bad_date_in_mapped_columns(self):
        header = HEADER + ",Kunde siden"
        rows = [person(1, **{"Kunde siden": "2019-02-29"})]
        path = self.write("d.csv", csv_text(rows, header))
        r = self.imp(path, "--column", "Kunde siden=collected_at")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertEqual(self.bad_lines(r.err, path),
                         {2: 'column "Kunde siden": not a date (YYYY-MM-DD) '
                             'or an instant (YYYY-MM-DDTHH:MM:SSZ)'})
        self.assertNotIn("2019", r.err)
        self.assert_nothing_written()

    def test_collected_at_flag_date(self):
        path = self.write("c.csv", csv_text([person(1)]))
        r = self.imp(path, "--collected-at", "2018-05-25")
        self.assertEqual(r.rc, EXIT_OK, r)
        sid = self.find("email", person(1)["email"])
        self.assertEqual(self.facts(sid)[("name", "customer_admin")]
                         ["collected_at"], "2018-05-25T00:00:00Z")
        r = self.imp(path, "--collected-at", "last spring")
        self.assertEqual(r.rc, EXIT_USAGE, r)

    def test_card_category_takes_only_last4_and_expiry(self):
        """SHOP-PAY-1: a card column with a full number is a bad row."""
        header = HEADER + ",card"
        rows = [person(1, card="4242 12/27"),
                person(2, card="4111111111111111")]
        path = self.write("card.csv", csv_text(rows, header))
        r = self.imp(path)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        got = self.bad_lines(r.err, path)
        self.assertEqual(sorted(got), [3])
        self.assertIn("SHOP-PAY-1", got[3])
        self.assertTrue(got[3].startswith('column "card": '))
        self.assert_no_value(r.err, ["4111111111111111"])
        self.assert_nothing_written()

    # -- the command line and the terminal -----------------------------------

    def test_usage(self):
        path = self.write("u.csv", csv_text([person(1)]))
        for args in ([], ["--batch", "0", path], ["--batch", "x", path],
                     ["--bogus", path], [path, path],
                     ["--delimiter", '"', path]):
            with self.subTest(args=args):
                r = self.vaern("import", *args)
                self.assertEqual(r.rc, EXIT_USAGE, r)
        r = self.vaern("import", os.path.join(self.tmp, "missing.csv"))
        self.assertEqual(r.rc, EXIT_FAILURE, r)

    def test_no_progress_when_stderr_is_not_a_terminal(self):
        path = self.write("p.csv", csv_text([person(i) for i in range(5)]))
        r = self.imp(path)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertNotIn("\r", r.err)
        self.assertNotIn("rows/s", r.err)

    def test_progress_on_a_terminal(self):
        """On a terminal, stderr shows a progress line with rows/s; the
        summary still goes to stdout."""
        rows = [person(i) for i in range(300)]
        path = self.write("t.csv", csv_text(rows))
        master, slave = pty.openpty()
        try:
            p = subprocess.Popen(
                [VAERN, "--data", self.dir, "import", "--purpose",
                 "customer_admin", "--batch", "10", path],
                stdout=subprocess.PIPE, stderr=slave, env=BASE_ENV)
            os.close(slave)
            slave = None
            err = b""
            while True:
                ready, _, _ = select.select([master], [], [], TIMEOUT)
                if not ready:
                    break
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                err += chunk
            out, _ = p.communicate(timeout=TIMEOUT)
        finally:
            os.close(master)
            if slave is not None:
                os.close(slave)
        self.assertEqual(p.returncode, EXIT_OK, err)
        self.assertEqual(json.loads(out)["imported"], 300)
        text = err.decode("utf-8", "replace")
        self.assertIn("rows/s", text)
        self.assertIn("\r", text)
        self.assert_no_value(text + out.decode(), self.values(rows))


if __name__ == "__main__":
    unittest.main(verbosity=2)
