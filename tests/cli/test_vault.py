#!/usr/bin/env python3
"""Black-box tests of the encrypted subject vault through the vaern CLI.

Starts the real vaern binary (env VAERN_BIN) on a private data directory per
test and drives `init`, `policy load|list` and `subject
add|find|show|rectify|event|erase`. Personal data goes in as `--json -` on
standard input, the documented way (and `--fact` once). The database behind
vaern (DIR/vaern.db) is read, and in the tamper tests altered, with Python's
sqlite3 module.

Each test names the clause of mission/CLAUSES.md it proves: GDPR-32
(encryption at rest, key protection, blind indexes, tamper detection, no
personal data in messages), GDPR-7 (consent), GDPR-16 (rectification),
GDPR-17 (erasure), SHOP-PAY-1 (card data), CEK-SPECIAL-1 and SHOP-SPECIAL-1
(special categories), CEK-MAND-1 (mandatory categories), TEL-CAT-3 (source
recorded), CEK-CONTACT-1 (data given by the person recorded as such).
"""
import json
import os
import re
import sqlite3

import dbpeek
import stat
import subprocess
import tempfile
import unittest

VAERN = os.environ.get("VAERN_BIN")
ROOT = os.environ.get("VAERN_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "vault-test.yaml")
EXAMPLE = os.path.join(ROOT, "policies", "example.yaml")
TIMEOUT = 30

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3
ID_EMAIL = 5  # enum id_type in src/ids/ids.h
HEX32 = re.compile(r"^[0-9a-f]{32}$")
TABLES = ("meta", "controller", "label", "subject", "identifier", "fact",
          "event", "consent")

# No VAERN_* from the caller's shell leaks into a test.
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}


class Result:
    def __init__(self, p):
        self.rc = p.returncode
        self.outb = p.stdout
        self.errb = p.stderr
        self.out = p.stdout.decode("utf-8", "replace")
        self.err = p.stderr.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "rc=%d stdout=%r stderr=%r" % (self.rc, self.out[:400],
                                              self.err[:400])


def run_vaern(args, stdin=None, env=None):
    e = dict(BASE_ENV)
    if env:
        e.update(env)
    p = subprocess.run([VAERN, *args], input=stdin, capture_output=True,
                       env=e, timeout=TIMEOUT)
    return Result(p)


def fact(category, value, **kw):
    f = {"category": category, "value": value}
    f.update(kw)
    return f


def customer(name="Anna Hansen", address="Nørregade 7, 1165 København K",
             phone="+45 20 30 40 50", email="Anna@Example.DK",
             cpr="010190-1234", extra=(), consents=None):
    """A customer_admin document with the mandatory categories (CEK-MAND-1)
    and the identifiers the test policy declares."""
    facts = [fact("name", name), fact("address", address),
             fact("phone", phone)]
    if email is not None:
        facts.append(fact("email", email))
    if cpr is not None:
        facts.append(fact("cpr", cpr))
    facts.extend(extra)
    doc = {"purpose": "customer_admin", "facts": facts}
    if consents is not None:
        doc["consents"] = consents
    return doc


def values_in(doc):
    """Every fact value in a document: what must never reach stderr."""
    out = []
    for f in doc.get("facts", []) if isinstance(doc, dict) else []:
        if isinstance(f, dict) and isinstance(f.get("value"), str):
            out.append(f["value"])
    return out


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class VaultTest(unittest.TestCase):
    """A fresh data directory with the test policy loaded, per test."""

    policies = (FIXTURE,)

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-cli-")
        self.addCleanup(self._tmp.cleanup)
        self.tmp = self._tmp.name
        self.dir = os.path.join(self.tmp, "data")
        self.db = os.path.join(self.dir, "vaern.db")
        self.key = os.path.join(self.dir, "master.key")
        args = ["init"]
        for p in self.policies:
            args += ["--policy", p]
        r = self.vaern(*args)
        self.assertEqual(r.rc, EXIT_OK, r)

    # -- helpers ------------------------------------------------------------

    def vaern(self, *args, stdin=None, env=None):
        return run_vaern(["--data", self.dir, *args], stdin=stdin, env=env)

    def add(self, doc, *args, env=None):
        data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        return self.vaern("subject", "add", "--json", "-", *args, stdin=data,
                          env=env)

    def add_ok(self, doc, *args, env=None):
        r = self.add(doc, *args, env=env)
        self.assertEqual(r.rc, EXIT_OK, r)
        j = r.json()
        self.assertRegex(j["subject"], HEX32)
        return j["subject"]

    def find(self, typ, value, *args):
        return self.vaern("subject", "find", *args, typ, value)

    def show(self, sid, *args):
        r = self.vaern("subject", "show", *args, sid)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()

    def facts_by_category(self, sid, *args):
        return {f["category"]: f for f in self.show(sid, *args)["facts"]}

    def sql(self, query, params=()):
        con = dbpeek.connect(self.db)
        try:
            # the wrapped keys are in the keystore (issue 13)
            con.execute("ATTACH ? AS ks", (os.path.join(self.dir,
                                                        "keystore.db"),))
            rows = con.execute(query, params).fetchall()
            con.commit()
            return rows
        finally:
            con.close()

    def snapshot(self):
        """Every row of every table: the state a refusal must not change."""
        con = dbpeek.connect(self.db)
        try:
            return {t: sorted(con.execute("SELECT * FROM " + t).fetchall(),
                              key=repr)
                    for t in TABLES}
        finally:
            con.close()

    def counts(self):
        return {t: len(rows) for t, rows in self.snapshot().items()}

    def subject_rowid(self, sid):
        rows = self.sql("SELECT id FROM subject WHERE uid = ?",
                        (bytes.fromhex(sid),))
        return rows[0][0] if rows else None

    def db_bytes(self):
        return dbpeek.store_bytes(self.db)

    def assert_no_value(self, text, values):
        """GDPR-32, CONVENTIONS habit 4: no personal data in a message."""
        for v in values:
            if isinstance(v, bytes):
                v = v.decode("utf-8", "replace")
            if len(v.strip()) < 4:
                continue
            self.assertNotIn(v, text, "personal data in message")
            # identifiers also in their digit-only spelling
            d = "".join(c for c in v if c.isdigit())
            if len(d) >= 6:
                self.assertNotIn(d, "".join(c for c in text if c.isdigit()),
                                 "identifier digits in message")

    def assert_refused(self, r, words, values, code=EXIT_REFUSED):
        self.assertEqual(r.rc, code, r)
        self.assertEqual(r.out, "", "a refused command printed a result")
        self.assertTrue(r.err.startswith("vaern"), r)
        for w in words:
            self.assertIn(w, r.err)
        self.assert_no_value(r.err, values)


# ---- init and the master key ---------------------------------------------


class Init(VaultTest):

    @dbpeek.sqlite_only("checks the SQLite database file")
    def test_init_creates_key_0600_and_database(self):
        """GDPR-32: the master key is created mode 0600 beside vaern.db."""
        st = os.stat(self.key)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertTrue(os.path.isfile(self.db))
        self.assertEqual(stat.S_IMODE(os.stat(self.dir).st_mode) & 0o077, 0)
        with open(self.key, "rb") as f:
            self.assertRegex(f.read(), rb"^[0-9a-f]{64}\n$")

    @dbpeek.sqlite_only("the pg suite's wrapper adds its own --store")
    def test_GDPR_32_init_store_bad_input_changes_nothing(self):
        """issue 14: a connection string with a password is refused on the
        command line, one that is not PostgreSQL's is refused, and a
        server that cannot be reached fails init naming the cause, never
        the password; each leaves no store.conf, key or database."""
        secret = "hunter2secret"
        cases = [
            (["--store", "postgresql://vaern:%s@db1/vaern" % secret], 2,
             "password"),
            (["--store", "host=db1 dbname=vaern password=%s" % secret], 2,
             "password"),
            (["--store", "mysql-thing"], 2, "PostgreSQL"),
        ]
        conf = os.path.join(self.tmp, "store-file.conf")
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("host=/nonexistent-vaern-socket dbname=vaern "
                    "password=%s\n" % secret)
        cases.append((["--store-file", conf], 3, "PostgreSQL"))
        for i, (args, rc, words) in enumerate(cases):
            with self.subTest(args=args[0], case=i):
                d = os.path.join(self.tmp, "store-bad-%d" % i)
                r = run_vaern(["--data", d, "init", *args])
                self.assertEqual(r.rc, rc, r)
                self.assertIn(words, r.err)
                self.assertNotIn(secret, r.err + r.out)
                for f in ("store.conf", "master.key", "vaern.db"):
                    self.assertFalse(os.path.exists(os.path.join(d, f)), f)

    def test_init_output(self):
        d = os.path.join(self.tmp, "other")
        r = run_vaern(["--data", d, "init", "--policy", FIXTURE,
                       "--policy", EXAMPLE])
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json(), {"data": d,
                                    "controllers": ["testshop", "example"]})

    def test_second_init_refuses_and_keeps_key(self):
        """GDPR-32: init never replaces a key (it would lose every subject)."""
        with open(self.key, "rb") as f:
            key_before = f.read()
        sid = self.add_ok(customer())
        snap = self.snapshot()
        for args in (["init"], ["init", "--policy", FIXTURE],
                     ["init", "--policy", EXAMPLE]):
            with self.subTest(args=args):
                r = self.vaern(*args)
                self.assertEqual(r.rc, EXIT_REFUSED, r)
                self.assertIn("already initialised", r.err)
                with open(self.key, "rb") as f:
                    self.assertEqual(f.read(), key_before)
                self.assertEqual(stat.S_IMODE(os.stat(self.key).st_mode),
                                 0o600)
        self.assertEqual(self.snapshot(), snap)
        self.assertEqual(self.facts_by_category(sid)["name"]["value"],
                         "Anna Hansen")

    def test_key_readable_by_others_refused_everywhere(self):
        """GDPR-32: a key file group/other can read makes every command
        refuse, with a message telling to chmod 600."""
        sid = self.add_ok(customer())
        snap = self.snapshot()
        commands = [
            ("policy", "list"),
            ("policy", "load", FIXTURE),
            ("subject", "find", "email", "anna@example.dk"),
            ("subject", "show", sid),
            ("subject", "rectify", sid, "1", "Anna Berg"),
            ("subject", "event", sid, "last_contact"),
            ("subject", "erase", sid),
        ]
        for mode in (0o644, 0o640, 0o604, 0o660):
            os.chmod(self.key, mode)
            for cmd in commands:
                with self.subTest(mode=oct(mode), cmd=cmd):
                    r = self.vaern(*cmd)
                    self.assert_refused(r, ["chmod 600"], ["Anna Hansen"])
            with self.subTest(mode=oct(mode), cmd="subject add"):
                r = self.add(customer(email="x@example.dk", cpr=None,
                                      phone="20304099"))
                self.assert_refused(r, ["chmod 600"], ["Anna Hansen"])
        self.assertEqual(self.snapshot(), snap)
        os.chmod(self.key, 0o600)
        self.assertEqual(self.find("email", "anna@example.dk").rc, EXIT_OK)

    def test_wrong_master_key_is_a_crypto_failure(self):
        """GDPR-32: VAERN_MASTER_KEY with another key: show exits 3 with a
        crypto error and prints no value."""
        doc = customer()
        sid = self.add_ok(doc)
        wrong = "ab" * 32
        r = self.vaern("subject", "show", sid,
                       env={"VAERN_MASTER_KEY": wrong})
        self.assertEqual(r.rc, EXIT_FAILURE, r)
        self.assertIn("master key does not belong", r.err)
        self.assert_no_value(r.out + r.err, values_in(doc) + [
            "+4520304050", "anna@example.dk"])
        # every command refuses a key that is not the vault's, so
        # nothing can be written that the real key could not read
        r = self.vaern("subject", "find", "email", "anna@example.dk",
                       env={"VAERN_MASTER_KEY": wrong})
        self.assertEqual(r.rc, EXIT_FAILURE, r)
        self.assertIn("master key does not belong", r.err)

    def test_right_master_key_in_environment(self):
        """GDPR-32: the key may come from VAERN_MASTER_KEY, not the file."""
        with open(self.key) as f:
            hexkey = f.read().strip()
        sid = self.add_ok(customer())
        os.unlink(self.key)
        r = self.vaern("subject", "show", sid,
                       env={"VAERN_MASTER_KEY": hexkey})
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["facts"][0]["value"], "Anna Hansen")

    def test_malformed_master_key_in_environment(self):
        """GDPR-32: a malformed VAERN_MASTER_KEY is refused and not echoed."""
        sid = self.add_ok(customer())
        for bad in ("zz" * 32, "ab" * 31, "ab" * 33):
            with self.subTest(key=bad):
                r = self.vaern("subject", "show", sid,
                               env={"VAERN_MASTER_KEY": bad})
                self.assertEqual(r.rc, EXIT_REFUSED, r)
                self.assertIn("VAERN_MASTER_KEY", r.err)
                self.assertNotIn(bad, r.err)
                self.assertEqual(r.out, "")

    def test_wrong_master_key_cannot_write(self):
        """GDPR-32: a wrong VAERN_MASTER_KEY must not let data in that the
        real key can never read, nor bypass the identifier uniqueness."""
        self.add_ok(customer())
        snap = self.snapshot()
        r = self.add(customer(name="Mallory"), env={
            "VAERN_MASTER_KEY": "ab" * 32})
        self.assertNotEqual(r.rc, EXIT_OK,
                            "subject add with a wrong master key succeeded "
                            "(same e-mail/phone/CPR as an existing subject)")
        self.assertEqual(self.snapshot(), snap)

    def test_not_a_data_directory(self):
        """GDPR-32: no key, no vault; the message says how to make one."""
        r = run_vaern(["--data", os.path.join(self.tmp, "nowhere"),
                       "policy", "list"])
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("vaern init", r.err)

    def test_vaern_data_environment(self):
        """VAERN_DATA names the data directory when --data is absent."""
        r = run_vaern(["policy", "list"], env={"VAERN_DATA": self.dir})
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual([c["controller"] for c in r.json()["controllers"]],
                         ["testshop"])


# ---- add, find, show ------------------------------------------------------


class AddFindShow(VaultTest):

    def test_add_find_show(self):
        """GDPR-15 (source, purpose, category shown), CEK-CAT-1 identifiers:
        add, then find by e-mail, phone and CPR in any spelling."""
        r = self.add(customer())
        self.assertEqual(r.rc, EXIT_OK, r)
        j = r.json()
        self.assertRegex(j["subject"], HEX32)
        self.assertEqual(j["controller"], "testshop")
        self.assertEqual(j["facts"], 5)
        self.assertEqual(j["consents"], 0)
        sid = j["subject"]
        finds = [("email", "Anna@Example.DK"), ("email", "anna@example.dk"),
                 ("email", "anna@EXAMPLE.dk"), ("email", " anna@example.dk "),
                 ("phone", "+45 20 30 40 50"), ("phone", "20304050"),
                 ("phone", "+4520304050"), ("phone", "0045 20-30-40-50"),
                 ("cpr", "010190-1234"), ("cpr", "0101901234"),
                 ("cpr", "010190 1234")]
        for typ, value in finds:
            with self.subTest(type=typ, value=value):
                r = self.find(typ, value)
                self.assertEqual(r.rc, EXIT_OK, r)
                self.assertEqual(r.json(), {"subject": sid,
                                            "controller": "testshop"})
        s = self.show(sid)
        self.assertEqual(s["subject"], sid)
        self.assertEqual(s["controller"], "testshop")
        self.assertEqual(s["events"], [])
        got = [(f["id"], f["category"], f["value"]) for f in s["facts"]]
        self.assertEqual(got, [
            (1, "name", "Anna Hansen"),
            (2, "address", "Nørregade 7, 1165 København K"),
            (3, "phone", "+4520304050"),          # stored in normal form
            (4, "email", "anna@example.dk"),
            (5, "cpr", "010190-1234")])
        for f in s["facts"]:
            self.assertEqual(f["purpose"], "customer_admin")
            self.assertEqual(f["source"], "subject")
            self.assertIs(f["provided_by_subject"], True)
            self.assertRegex(f["collected_at"],
                             r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertIn("expires_at", f)

    def test_email_case_does_not_matter(self):
        """ids.h: an e-mail address is lower-cased whole, so every spelling
        finds the one person."""
        sid = self.add_ok(customer(email="Anna@Example.DK"))
        for spelling in ("anna@example.dk", "ANNA@EXAMPLE.DK",
                         "aNNa@example.DK"):
            with self.subTest(spelling=spelling):
                r = self.find("email", spelling)
                self.assertEqual((r.rc, r.json()["subject"]), (EXIT_OK, sid))
        self.assertEqual(self.find("email", "anna2@example.dk").rc,
                         EXIT_REFUSED)

    def test_add_from_json_file(self):
        """--json FILE as well as --json - (CONVENTIONS habit 5)."""
        path = os.path.join(self.tmp, "subject.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(customer(), f)
        r = self.vaern("subject", "add", "--json", path)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(self.find("cpr", "010190-1234").json()["subject"],
                         r.json()["subject"])

    def test_find_from_stdin(self):
        """GDPR-32: `find TYPE -` keeps the identifier out of ps."""
        sid = self.add_ok(customer())
        r = self.vaern("subject", "find", "cpr", "-", stdin=b"0101901234\n")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["subject"], sid)

    def test_find_not_found_and_invalid(self):
        """GDPR-32: find refusals never echo the identifier; SHOP-PAY-1:
        no lookup by card number."""
        self.add_ok(customer())
        r = self.find("email", "nobody@example.dk")
        self.assert_refused(r, [], ["nobody@example.dk"])
        r = self.find("cpr", "320190-1234")
        self.assert_refused(r, ["cpr"], ["320190-1234"])
        r = self.find("card", "4111111111111111")
        self.assert_refused(r, [], ["4111111111111111"])
        r = self.find("iban", "DK5000400440116243")
        self.assertEqual(r.rc, EXIT_USAGE, r)
        self.assertNotIn("DK5000400440116243", r.err)

    def test_add_with_fact_options(self):
        """--fact CATEGORY=VALUE and --consent PURPOSE:SOURCE (GDPR-7)."""
        r = self.vaern("subject", "add", "--purpose", "customer_admin",
                       "--fact", "name=Carl Carlsen",
                       "--fact", "address=Algade 1, 4000 Roskilde",
                       "--fact", "phone=40 50 60 70",
                       "--fact", "notes=likes a=b signs")
        self.assertEqual(r.rc, EXIT_OK, r)
        sid = r.json()["subject"]
        f = self.facts_by_category(sid)
        self.assertEqual(f["name"]["value"], "Carl Carlsen")
        self.assertEqual(f["phone"]["value"], "+4540506070")
        self.assertEqual(f["notes"]["value"], "likes a=b signs")
        r = self.vaern("subject", "add", "--purpose", "newsletter",
                       "--fact", "email=carl2@example.dk",
                       "--consent", "newsletter:web_form")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["consents"], 1)
        # bad --fact syntax is a usage error
        r = self.vaern("subject", "add", "--purpose", "customer_admin",
                       "--fact", "=Carl")
        self.assertEqual(r.rc, EXIT_USAGE, r)

    def test_fact_option_invalid_utf8(self):
        """A value that is not UTF-8 (raw bytes on the command line)."""
        snap = self.snapshot()
        p = subprocess.run(
            [VAERN, "--data", self.dir, "subject", "add", "--purpose",
             "customer_admin", "--fact", b"name=Secret\xff\xfeName",
             "--fact", "address=Algade 1", "--fact", "phone=40506070"],
            capture_output=True, env=BASE_ENV, timeout=TIMEOUT)
        self.assertEqual(p.returncode, EXIT_REFUSED, p)
        self.assertIn(b"'name'", p.stderr)
        self.assertIn(b"UTF-8", p.stderr)
        self.assertNotIn(b"Secret", p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertEqual(self.snapshot(), snap)

    def test_third_party_source_recorded(self):
        """TEL-CAT-3, GDPR-20: the source is recorded; a category the
        policy says comes from a third party is not marked provided by the
        person; an explicit source names one the policy declares."""
        doc = customer(extra=[fact("credit_rating", "A",
                                   source="credit_agency"),
                              fact("notes", "called about the invoice",
                                   source="phone")])
        sid = self.add_ok(doc)
        f = self.facts_by_category(sid)
        self.assertEqual(f["credit_rating"]["source"], "credit_agency")
        self.assertIs(f["credit_rating"]["provided_by_subject"], False)
        self.assertEqual(f["notes"]["source"], "phone")
        self.assertIs(f["notes"]["provided_by_subject"], True)
        self.assertIs(f["name"]["provided_by_subject"], True)

    def test_TEL_CAT_3_source_is_declared_and_fits(self):
        """No caller's free text as a source; third-party data cannot be
        labelled as the person's (TEL-CAT-3, GDPR-20): refused, nothing
        changed, the text not echoed."""
        snap = self.snapshot()
        for extra, says in (
                (fact("notes", "x", source="phone call with spouse"),
                 "declares"),
                (fact("credit_rating", "A", source="subject"),
                 "third_party"),
                (fact("credit_rating", "A", source="phone"), "third_party"),
                (fact("name", "Anna", source="credit_agency"), "subject")):
            r = self.vaern("subject", "add", "--json", "-",
                           stdin=json.dumps(customer(extra=[extra]))
                           .encode())
            self.assertEqual(r.rc, EXIT_REFUSED, r)
            self.assertIn("TEL-CAT-3", r.err)
            self.assertIn(says, r.err)
            self.assertNotIn("spouse", r.err)
        self.assertEqual(self.snapshot(), snap)

    def test_card_last4_expiry_accepted(self):
        """SHOP-PAY-1: the last 4 digits and expiry are kept."""
        sid = self.add_ok(customer(extra=[fact("card", "1111 12/27"),
                                          fact("birth_date", "1990-01-01")]))
        f = self.facts_by_category(sid)
        self.assertEqual(f["card"]["value"], "1111 12/27")
        self.assertEqual(f["birth_date"]["value"], "1990-01-01")

    def test_special_category_with_consent_accepted(self):
        """CEK-SPECIAL-1, SHOP-SPECIAL-1: health data the person gives with
        explicit consent to 'care' is accepted."""
        doc = {"facts": [fact("health", "asthma", purpose="care")],
               "consents": [{"purpose": "care", "source": "web_form"}]}
        r = self.add(doc)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["consents"], 1)
        f = self.facts_by_category(r.json()["subject"])
        self.assertEqual(f["health"]["value"], "asthma")
        self.assertEqual(f["health"]["purpose"], "care")
        self.assertIs(f["health"]["provided_by_subject"], True)
        rows = self.sql("SELECT count(*) FROM consent")
        self.assertEqual(rows[0][0], 1)

    def test_newsletter_with_consent_accepted(self):
        """GDPR-7, AOPT-MKT-1: a newsletter sign-up with its consent; the
        consent is recorded with the time and a hash of the text (proof)."""
        doc = {"purpose": "newsletter",
               "facts": [fact("name", "Nina"),
                         fact("email", "nina@example.dk")],
               "consents": [{"purpose": "newsletter", "source": "web_form",
                             "given_at": "2026-01-02T10:00:00Z"}]}
        r = self.add(doc, "--as-of", "2026-06-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        rows = self.sql("SELECT given_at, withdrawn_at, text_hash "
                        "FROM consent")
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][0], 1767348000)    # 2026-01-02T10:00:00Z
        self.assertIsNone(rows[0][1])
        self.assertEqual(len(rows[0][2]), 32)        # SHA-256 of the text

    def test_sql_in_values_is_data(self):
        """GDPR-32: values are bound, never spliced into SQL."""
        evil = "'; DROP TABLE subject; --"
        evil2 = "Robert'); DELETE FROM fact; --"
        mail = "o'brien'--@example.dk"
        sid = self.add_ok(customer(name=evil2, email=mail,
                                   extra=[fact("notes", evil)]))
        f = self.facts_by_category(sid)
        self.assertEqual(f["notes"]["value"], evil)
        self.assertEqual(f["name"]["value"], evil2)
        self.assertEqual(f["email"]["value"], mail)
        r = self.find("email", mail)
        self.assertEqual((r.rc, r.json()["subject"]), (EXIT_OK, sid))
        r = self.find("email", "x' OR '1'='1@example.dk")
        self.assertEqual(r.rc, EXIT_REFUSED)
        self.assertEqual(self.counts()["subject"], 1)
        self.assertEqual(self.counts()["fact"], 6)
        tables = {r[0] for r in self.sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        self.assertTrue(set(TABLES) <= tables)

    def test_utf8_and_multiline_values_round_trip(self):
        """GDPR-15: values come back exactly as given (UTF-8, newlines)."""
        notes = "Ærø 🐟 — line one\nline two\ttab"
        sid = self.add_ok(customer(extra=[fact("notes", notes)]))
        self.assertEqual(self.facts_by_category(sid)["notes"]["value"], notes)

    def test_duplicate_email_across_subjects(self):
        """Identifiers are unique per controller: a second subject with the
        same e-mail (spelled differently) is refused, the first intact."""
        sid = self.add_ok(customer())
        before = self.show(sid)
        snap = self.snapshot()
        for email in ("anna@example.dk", "anna@EXAMPLE.DK"):
            with self.subTest(email=email):
                doc = customer(name="Other Person", phone="20304060",
                               cpr=None, email=email)
                r = self.add(doc)
                self.assert_refused(r, ["email"], values_in(doc))
                self.assertEqual(self.snapshot(), snap)
        for typ, doc in (
                ("phone", customer(name="Other Person", email=None, cpr=None,
                                   phone="20 30 40 50")),
                ("cpr", customer(name="Other Person", email=None,
                                 phone="20304060", cpr="0101901234"))):
            with self.subTest(type=typ):
                r = self.add(doc)
                self.assert_refused(r, [typ], values_in(doc))
                self.assertEqual(self.snapshot(), snap)
        self.assertEqual(self.show(sid), before)
        r = self.find("email", "anna@example.dk")
        self.assertEqual(r.json()["subject"], sid)


# ---- encryption at rest, blind indexes, tampering ---------------------------


class AtRest(VaultTest):

    def test_nothing_in_clear_in_database_files(self):
        """GDPR-32: no fact value and no identifier (any spelling) appears
        in clear in vaern.db or its WAL."""
        doc = customer(name="Zacharias Quistgaard",
                       address="Quistgaardsvej 99, 9999 Zyx",
                       email="zacharias.quist@Quistmail.DK",
                       phone="+45 61 72 83 94", cpr="311299-4567",
                       extra=[fact("notes", "likes rhubarb-xylophones"),
                              fact("card", "9876 11/29"),
                              fact("birth_date", "1999-12-31")])
        sid = self.add_ok(doc)
        # the database must be readable while vaern is not running
        self.assertTrue(dbpeek.ON_POSTGRESQL or os.path.exists(self.db))
        data = self.db_bytes()
        self.assertGreater(len(data), 0)
        needles = ["Zacharias", "Quistgaard", "Quistgaardsvej", "rhubarb",
                   "zacharias.quist", "quistmail.dk", "Quistmail.DK",
                   "61728394", "+4561728394", "61 72 83 94",
                   "311299-4567", "3112994567", "9876 11/29", "1999-12-31"]
        for n in needles:
            for enc in ("utf-8", "utf-16-le", "utf-16-be"):
                with self.subTest(value=n, encoding=enc):
                    self.assertNotIn(n.encode(enc), data)
        # the subject id is the only thing in the subject row in clear
        self.assertIsNotNone(self.subject_rowid(sid))
        # and the values still come back
        f = self.facts_by_category(sid)
        self.assertEqual(f["notes"]["value"], "likes rhubarb-xylophones")

    def test_blind_index_per_controller(self):
        """GDPR-32: one e-mail in two controllers gives two subjects and two
        unrelated blind indexes (no linking across controllers)."""
        r = self.vaern("policy", "load", EXAMPLE)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json(), {"loaded": ["example"]})
        s1 = self.add_ok(customer(email="same@example.dk"),
                         "--controller", "testshop")
        s2 = self.add_ok({"purpose": "customer_admin",
                          "facts": [fact("name", "Anna Hansen"),
                                    fact("email", "same@example.dk")]},
                         "--controller", "example")
        self.assertNotEqual(s1, s2)
        for ctrl, sid in (("testshop", s1), ("example", s2)):
            r = self.find("email", "same@example.dk", "--controller", ctrl)
            self.assertEqual((r.rc, r.json()["subject"]), (EXIT_OK, sid))
        rows = self.sql("SELECT i.controller, i.blind FROM identifier i "
                        "WHERE i.type = ?", (ID_EMAIL,))
        self.assertEqual(len(rows), 2)
        self.assertNotEqual(rows[0][0], rows[1][0])
        self.assertNotEqual(rows[0][1], rows[1][1])
        for _, blind in rows:
            self.assertGreaterEqual(len(blind), 16)
            self.assertNotIn(b"same@example.dk", blind)
        # a subject is only visible through its own controller
        r = self.vaern("subject", "show", "--controller", "example", s1)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertEqual(r.out, "")

    def test_swapped_ciphertexts_fail_authentication(self):
        """GDPR-32: a ciphertext moved to another row fails to open: show
        exits 3 naming authentication, and prints no value."""
        doc = customer()
        sid = self.add_ok(doc)
        rowid = self.subject_rowid(sid)
        rows = dict(self.sql("SELECT id, ct FROM fact WHERE subject = ?",
                             (rowid,)))
        self.sql("UPDATE fact SET ct = ? WHERE subject = ? AND id = 1",
                 (rows[2], rowid))
        self.sql("UPDATE fact SET ct = ? WHERE subject = ? AND id = 2",
                 (rows[1], rowid))
        r = self.vaern("subject", "show", sid)
        self.assertEqual(r.rc, EXIT_FAILURE, r)
        self.assertIn("authentication", r.err)
        self.assertEqual(r.out, "")
        self.assert_no_value(r.out + r.err,
                             values_in(doc) + ["+4520304050"])

    def test_ciphertext_moved_between_subjects_or_flipped(self):
        """GDPR-32: a fact moved to another subject, a flipped bit, and a
        wrapped key moved between subjects are all detected (exit 3)."""
        a = self.add_ok(customer())
        b = self.add_ok(customer(name="Bent Bentsen", phone="20304060",
                                 email="bent@example.dk", cpr="020290-1234"))
        ra, rb = self.subject_rowid(a), self.subject_rowid(b)
        # a's name ciphertext into b's name row
        ct_a = self.sql("SELECT ct FROM fact WHERE subject = ? AND id = 1",
                        (ra,))[0][0]
        self.sql("UPDATE fact SET ct = ? WHERE subject = ? AND id = 1",
                 (ct_a, rb))
        r = self.vaern("subject", "show", b)
        self.assertEqual(r.rc, EXIT_FAILURE, r)
        self.assertIn("authentication", r.err)
        self.assertEqual(r.out, "")
        self.assertNotIn("Anna", r.err)
        # one flipped bit in a's address
        ct = bytearray(self.sql("SELECT ct FROM fact WHERE subject = ? AND "
                                "id = 2", (ra,))[0][0])
        ct[-1] ^= 1
        self.sql("UPDATE fact SET ct = ? WHERE subject = ? AND id = 2",
                 (bytes(ct), ra))
        r = self.vaern("subject", "show", a)
        self.assertEqual(r.rc, EXIT_FAILURE, r)
        self.assertEqual(r.out, "")
        # wrapped keys swapped
        wk = dict(self.sql("SELECT s.id, k.wrapped FROM subject AS s"
                           " JOIN ks.subject_key AS k ON k.uid = s.uid"))
        self.sql("UPDATE ks.subject_key SET wrapped = ? WHERE uid ="
                 " (SELECT uid FROM subject WHERE id = ?)", (wk[rb], ra))
        r = self.vaern("subject", "show", a)
        self.assertEqual(r.rc, EXIT_FAILURE, r)
        self.assertEqual(r.out, "")


# ---- bad input --------------------------------------------------------------

M = [fact("name", "Bo Berg"), fact("address", "Vestergade 2, 8000 Aarhus"),
     fact("phone", "20304051")]


def with_m(*extra, purpose="customer_admin", consents=None, **top):
    doc = {"purpose": purpose, "facts": list(M) + list(extra)}
    if consents is not None:
        doc["consents"] = consents
    doc.update(top)
    return doc


def raw(s):
    return s.encode("utf-8") if isinstance(s, str) else s


BIG = ("Gigantic" * 8) * (4 * 1024 * 1024 // 64 + 16)

# (name with clause, document (dict or bytes), extra command-line args,
#  words stderr must contain, extra values stderr must not contain)
BAD_INPUTS = [
    ("unknown_category", with_m(fact("shoe_size", "ShoeSecret44")), [],
     ["shoe_size"], []),
    ("purpose_does_not_use_category",
     with_m(fact("health", "DiabetesSecret")), [],
     ["health", "customer_admin"], []),
    ("unknown_purpose", with_m(fact("notes", "NoteSecret", purpose="fun")),
     [], ["fun"], []),
    ("invalid_cpr_CEK-CAT-1", with_m(fact("cpr", "320190-1234")), [],
     ["cpr"], ["3201901234"]),
    ("invalid_email", with_m(fact("email", "bo.berg.example.dk")), [],
     ["email"], []),
    ("invalid_phone",
     {"purpose": "customer_admin",
      "facts": [fact("name", "Bo Berg"), fact("address", "Vestergade 2"),
                fact("phone", "2030405")]}, [], ["phone"], []),
    ("invalid_date", with_m(fact("birth_date", "1990-02-30")), [],
     ["birth_date"], []),
    ("card_number_in_notes_SHOP-PAY-1",
     with_m(fact("notes", "card 4111 1111 1111 1111")), [],
     ["notes", "SHOP-PAY-1"], ["4111 1111 1111 1111", "4111111111111111",
                               "1111 1111"]),
    ("card_number_solid_in_notes_SHOP-PAY-1",
     with_m(fact("notes", "pay with 5555555555554444 please")), [],
     ["notes", "SHOP-PAY-1"], ["5555555555554444"]),
    ("full_pan_in_card_SHOP-PAY-1",
     with_m(fact("card", "4111111111111111")), [],
     ["card", "SHOP-PAY-1"], ["4111111111111111"]),
    ("card_bad_month_SHOP-PAY-1", with_m(fact("card", "1111 13/27")), [],
     ["card", "SHOP-PAY-1"], []),
    ("card_month_zero_SHOP-PAY-1", with_m(fact("card", "1111 00/27")), [],
     ["card"], []),
    ("card_long_form_SHOP-PAY-1", with_m(fact("card", "1111 12/2027")), [],
     ["card"], []),
    ("card_with_cvc_SHOP-PAY-1", with_m(fact("card", "1111 12/27 123")), [],
     ["card"], []),
    ("health_without_consent_CEK-SPECIAL-1_SHOP-SPECIAL-1",
     {"facts": [fact("health", "AsthmaSecret", purpose="care")]}, [],
     ["care", "consent"], []),
    ("health_from_third_party_CEK-SPECIAL-1",
     {"facts": [fact("health", "AsthmaSecret", purpose="care",
                     source="third_party")],
      "consents": [{"purpose": "care", "source": "web_form"}]}, [],
     ["health", "care"], []),
    ("health_from_relative_CEK-SPECIAL-1",
     {"facts": [fact("health", "AsthmaSecret", purpose="care",
                     source="the mother")],
      "consents": [{"purpose": "care", "source": "phone"}]}, [],
     ["health"], []),
    ("health_consent_to_other_purpose_CEK-SPECIAL-1",
     {"facts": [fact("health", "AsthmaSecret", purpose="care"),
                fact("email", "bo@example.dk", purpose="newsletter")],
      "consents": [{"purpose": "newsletter", "source": "web_form"}]}, [],
     ["care"], []),
    ("newsletter_without_consent_GDPR-7",
     {"purpose": "newsletter",
      "facts": [fact("name", "Nina Secret"),
                fact("email", "nina@example.dk")]}, [],
     ["newsletter", "consent"], []),
    ("consent_unknown_source_GDPR-7",
     {"purpose": "newsletter",
      "facts": [fact("email", "nina@example.dk")],
      "consents": [{"purpose": "newsletter", "source": "carrier_pigeon"}]},
     [], ["newsletter"], []),
    ("consent_to_contract_purpose_GDPR-7",
     with_m(consents=[{"purpose": "customer_admin", "source": "web_form"}]),
     [], ["customer_admin"], []),
    ("consent_in_future_GDPR-7",
     {"purpose": "newsletter",
      "facts": [fact("email", "nina@example.dk")],
      "consents": [{"purpose": "newsletter", "source": "web_form",
                    "given_at": "2099-01-01T00:00:00Z"}]}, [],
     ["future"], []),
    ("missing_mandatory_CEK-MAND-1",
     {"purpose": "customer_admin",
      "facts": [fact("name", "Bo Berg"), fact("address", "Vestergade 2")]},
     [], ["phone", "mandatory", "customer_admin"], []),
    ("missing_mandatory_name_CEK-MAND-1",
     {"purpose": "customer_admin",
      "facts": [fact("address", "Vestergade 2"), fact("phone", "20304051"),
                fact("email", "bo@example.dk")]},
     [], ["name", "mandatory"], []),
    ("empty_value", with_m(fact("notes", "")), [], ["notes", "empty"], []),
    ("value_over_64KiB", with_m(fact("notes", "Secretive" * 7282 + "x")),
     [], ["notes"], []),
    ("control_character_in_value",
     with_m(fact("notes", "Secret\u0001Value")), [], ["notes"],
     ["Secret"]),
    ("future_collected_at",
     with_m(fact("notes", "Futuristic", collected_at="2099-01-01")), [],
     ["future", "notes"], []),
    ("malformed_collected_at",
     with_m(fact("notes", "Futuristic", collected_at="yesterday")), [],
     ["fact 4"], []),
    ("no_facts", {"purpose": "customer_admin", "facts": []}, [],
     ["fact"], []),
    ("fact_without_purpose",
     {"facts": [fact("name", "Bo Berg"), fact("address", "Vestergade 2"),
                fact("phone", "20304051")]}, [], ["purpose"], []),
    ("facts_not_an_array", {"purpose": "customer_admin",
                            "facts": {"name": "Bo Berg"}}, [],
     ["facts"], ["Bo Berg"]),
    ("value_not_a_string", with_m({"category": "notes", "value": 12345678}),
     [], ["value"], ["12345678"]),
    ("document_not_an_object", b'["Bo Berg", "Vestergade 2"]', [],
     ["object"], ["Bo Berg", "Vestergade 2"]),
    ("unknown_json_key_top", with_m(colour="SecretBlue"), [],
     ["colour"], ["SecretBlue"]),
    ("unknown_json_key_fact",
     with_m(fact("notes", "NoteSecret", colour="SecretBlue")), [],
     ["colour"], ["SecretBlue"]),
    ("unknown_json_key_consent",
     {"purpose": "newsletter", "facts": [fact("email", "nina@example.dk")],
      "consents": [{"purpose": "newsletter", "source": "web_form",
                    "colour": "SecretBlue"}]}, [], ["colour"],
     ["SecretBlue"]),
    ("duplicate_json_key_top",
     b'{"purpose":"customer_admin","purpose":"newsletter","facts":['
     b'{"category":"name","value":"Bo Berg"},'
     b'{"category":"address","value":"Vestergade 2"},'
     b'{"category":"phone","value":"20304051"}]}', [],
     ["duplicate"], ["Bo Berg", "Vestergade 2", "20304051"]),
    ("duplicate_json_key_value",
     b'{"purpose":"customer_admin","facts":['
     b'{"category":"name","value":"Bo Berg","value":"Bo Secretson"},'
     b'{"category":"address","value":"Vestergade 2"},'
     b'{"category":"phone","value":"20304051"}]}', [],
     ["duplicate"], ["Bo Berg", "Secretson", "Vestergade 2"]),
    ("malformed_json_truncated",
     b'{"purpose":"customer_admin","facts":[{"category":"name",'
     b'"value":"Bo Secretson"}', [], ["--json"], ["Secretson"]),
    ("malformed_json_unquoted_value",
     b'{"purpose":"customer_admin","facts":[{"category":"name",'
     b'"value":Secretson}]}', [], ["--json"], ["Secretson"]),
    ("malformed_json_missing_comma",
     b'{"purpose":"customer_admin","facts":[{"category":"name",'
     b'"value":"Bo" "Secretson"}]}', [], ["--json"], ["Secretson"]),
    ("malformed_json_unterminated_string",
     b'{"purpose":"customer_admin","facts":[{"category":"name",'
     b'"value":"Bo Secretson\n"}]}', [], ["--json"], ["Secretson"]),
    ("malformed_json_empty", b"", [], ["--json"], []),
    ("json_over_4MiB", with_m(fact("notes", BIG)), [],
     ["over"], ["GiganticGigantic"]),
    ("invalid_utf8_in_value",
     b'{"purpose":"customer_admin","facts":[{"category":"name",'
     b'"value":"Secretson \xff\xfe"},'
     b'{"category":"address","value":"Vestergade 2"},'
     b'{"category":"phone","value":"20304051"}]}', [],
     [], ["Secretson", "Vestergade 2"]),
    ("lone_surrogate_in_value",
     b'{"purpose":"customer_admin","facts":[{"category":"name",'
     b'"value":"Secretson \\udc00"},'
     b'{"category":"address","value":"Vestergade 2"},'
     b'{"category":"phone","value":"20304051"}]}', [],
     [], ["Secretson", "Vestergade 2"]),
    ("unknown_controller", with_m(), ["--controller", "nosuch"],
     ["nosuch"], []),
    ("source_too_long", with_m(fact("notes", "NoteSecret",
                                    source="s" * 129)), [],
     ["source"], []),
    ("source_multiline", with_m(fact("notes", "NoteSecret",
                                     source="a\nb")), [],
     ["source"], []),
]


class BadInput(VaultTest):

    def test_bad_input_refused_and_nothing_changed(self):
        """Every refused input: exit 1, a message naming the field or
        category, never the value (GDPR-32), and no row changed
        (CONVENTIONS habit 5)."""
        keep = self.add_ok(customer())
        snap = self.snapshot()
        shown = self.show(keep)
        for name, doc, args, words, secrets in BAD_INPUTS:
            with self.subTest(name):
                r = self.add(doc, *args)
                values = secrets + (values_in(doc) if isinstance(doc, dict)
                                    else [])
                # a long value: check a fragment, not 4 MiB
                values = [v[:64] for v in values]
                self.assert_refused(r, words, values)
                self.assertEqual(self.snapshot(), snap)
        self.assertEqual(self.show(keep), shown)

    def set_schema_version(self, v):
        con = dbpeek.connect(self.db)
        try:
            con.execute("UPDATE meta SET value = ? WHERE key = "
                        "'schema_version'", (str(v),))
            con.commit()
        finally:
            con.close()

    def test_schema_newer_than_the_binary_refused(self):
        """Issue 14 (bad input, both engines): a store whose schema
        version is one past this binary's is refused by every command
        with a clear error naming both versions, and nothing in it
        changes; at this binary's own version it opens as before."""
        sid = self.add_ok(customer())
        have = int(self.sql("SELECT value FROM meta WHERE key = "
                            "'schema_version'")[0][0])
        self.set_schema_version(have + 1)
        snap = self.snapshot()
        for args in (("subject", "show", sid),
                     ("policy", "load", FIXTURE)):
            with self.subTest(args=args):
                r = self.vaern(*args)
                self.assert_refused(r, [
                    "the store is at schema version %d, newer than this "
                    "vaern's %d: upgrade vaern" % (have + 1, have)],
                    values_in(customer()))
                self.assertEqual(self.snapshot(), snap)
        other = customer(name="Bo Berg", phone="+45 20 30 40 51",
                         email="bo@example.dk", cpr="020290-1234")
        r = self.add(other)
        self.assert_refused(r, ["newer than this vaern"], values_in(other))
        self.assertEqual(self.snapshot(), snap)
        # The other side: the binary's own version opens.
        self.set_schema_version(have)
        self.assertEqual(self.show(sid)["subject"], sid)
        self.add_ok(other)

    def test_bad_fact_options(self):
        """The same rules for --fact: bad --collected-at, a future one, a
        bad value; exit 1, nothing changed, no value in the message."""
        self.add_ok(customer())
        snap = self.snapshot()
        base = ["--purpose", "customer_admin", "--fact", "name=Bo Secretson",
                "--fact", "address=Vestergade 2", "--fact", "phone=20304051"]
        cases = [
            (["--collected-at", "2024-13-01"], ["--collected-at"]),
            (["--collected-at", "2099-01-01"], ["future"]),
            (["--fact", "cpr=320190-1234"], ["cpr"]),
            (["--fact", "notes=card 4111 1111 1111 1111"], ["SHOP-PAY-1"]),
            (["--fact", "health=Asthmatic", "--consent", "care:web_form"],
             ["health"]),
            (["--consent", "newsletter:pigeon"], ["newsletter"]),
            (["--controller", "nosuch"], ["nosuch"]),
        ]
        for extra, words in cases:
            with self.subTest(extra=extra):
                r = self.vaern("subject", "add", *base, *extra)
                self.assert_refused(r, words, [
                    "Secretson", "Vestergade", "20304051", "320190-1234",
                    "4111 1111 1111 1111", "Asthmatic"])
                self.assertEqual(self.snapshot(), snap)

    def test_collected_at_option_not_ignored_with_json(self):
        """`subject add --json - --collected-at T` must not silently drop
        the option: either T is used as the default collection time of
        the document's facts, or the command line is refused."""
        doc = customer()
        r = self.add(doc, "--collected-at", "2020-01-02T03:04:05Z")
        if r.rc == EXIT_OK:
            f = self.show(r.json()["subject"])["facts"][0]
            self.assertEqual(f["collected_at"], "2020-01-02T03:04:05Z",
                             "--collected-at was silently ignored")
        else:
            self.assertEqual(r.rc, EXIT_USAGE, r)

    def test_bad_subject_ids(self):
        """A subject id is 32 hex digits; anything else is refused (exit 1)
        by show, rectify, event and erase; an unknown id is not found."""
        sid = self.add_ok(customer())
        snap = self.snapshot()
        bad = ["xyz", "zz" * 16, sid[:-1], sid + "0", sid[:31] + "g",
               " " + sid[1:], "' OR 1=1 --" + "0" * 21]
        for b in bad:
            for cmd in (["show", b], ["rectify", b, "1", "Anna"],
                        ["event", b, "last_contact"], ["erase", b]):
                with self.subTest(id=b, cmd=cmd[0]):
                    r = self.vaern("subject", *cmd)
                    self.assertEqual(r.rc, EXIT_REFUSED, r)
                    self.assertIn("32 hexadecimal", r.err)
                    self.assertEqual(r.out, "")
        other = "0" * 32 if sid != "0" * 32 else "1" * 32
        for cmd in (["show", other], ["rectify", other, "1", "Anna"],
                    ["event", other, "last_contact"], ["erase", other]):
            with self.subTest(id=other, cmd=cmd[0]):
                r = self.vaern("subject", *cmd)
                self.assertEqual(r.rc, EXIT_REFUSED, r)
                self.assertEqual(r.out, "")
        self.assertEqual(self.snapshot(), snap)
        # upper-case hex names the same subject
        self.assertEqual(self.show(sid.upper())["facts"][0]["value"],
                         "Anna Hansen")

    def test_usage_errors(self):
        """Exit code 2 for a wrong command line; nothing changed."""
        snap = self.snapshot()
        for args in (["subject"], ["subject", "frobnicate"],
                     ["subject", "add", "stray"],
                     ["subject", "add", "--json"],
                     ["subject", "add", "--colour", "red"],
                     ["subject", "find", "email"],
                     ["subject", "show"],
                     ["subject", "rectify", "0" * 32, "one", "x"],
                     ["subject", "rectify", "0" * 32, "0", "x"],
                     ["frobnicate"]):
            with self.subTest(args=args):
                r = self.vaern(*args)
                self.assertEqual(r.rc, EXIT_USAGE, r)
                self.assertEqual(r.out, "")
        self.assertEqual(self.snapshot(), snap)


# ---- rectify, event, erase ------------------------------------------------


class Rectify(VaultTest):

    def test_rectify_name(self):
        """GDPR-16: a rectified value replaces the old one."""
        sid = self.add_ok(customer())
        r = self.vaern("subject", "rectify", sid, "1", "-",
                       stdin="Anna Hansen-Berg\n".encode())
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json(), {"subject": sid, "fact": 1,
                                    "rectified": True})
        f = self.facts_by_category(sid)
        self.assertEqual(f["name"]["value"], "Anna Hansen-Berg")
        self.assertEqual(f["address"]["value"],
                         "Nørregade 7, 1165 København K")
        self.assertEqual(self.counts()["fact"], 5)
        self.assertNotIn(b"Hansen-Berg", self.db_bytes())

    def test_rectify_email_moves_the_blind_index(self):
        """GDPR-16: after rectifying the e-mail, the new one finds the
        subject and the old one does not."""
        sid = self.add_ok(customer())
        r = self.vaern("subject", "rectify", sid, "4", "Anna.H@Example.DK")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(self.facts_by_category(sid)["email"]["value"],
                         "anna.h@example.dk")
        r = self.find("email", "anna.h@example.dk")
        self.assertEqual((r.rc, r.json()["subject"]), (EXIT_OK, sid))
        r = self.find("email", "anna@example.dk")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertEqual(self.counts()["identifier"], 3)
        # phone by another spelling of the same number: no change of index
        r = self.vaern("subject", "rectify", sid, "3", "20 30 40 50")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(self.find("phone", "+4520304050").json()["subject"],
                         sid)
        # the subject can still be erased completely afterwards
        r = self.vaern("subject", "erase", sid)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(self.counts()["identifier"], 0)

    def test_rectify_refusals_change_nothing(self):
        """GDPR-16 with validation: an invalid value, another subject's
        e-mail, a full card number, an unknown fact: exit 1, nothing
        changed, no value in the message."""
        sid = self.add_ok(customer(extra=[fact("card", "1111 12/27")]))
        self.add_ok(customer(name="Bent", phone="20304060",
                             email="bent@example.dk", cpr=None))
        snap = self.snapshot()
        cases = [("4", "not-an-email", ["email"]),
                 ("4", "anna@@example.dk", ["email"]),
                 ("4", "bent@EXAMPLE.dk", ["email"]),
                 ("5", "320190-1234", ["cpr"]),
                 ("3", "2030", ["phone"]),
                 ("6", "4111111111111111", ["card", "SHOP-PAY-1"]),
                 ("1", "card 4111 1111 1111 1111", ["SHOP-PAY-1"]),
                 ("1", "", ["empty"]),
                 ("99", "Anna", [])]
        for fid, value, words in cases:
            with self.subTest(fact=fid, value=value):
                r = self.vaern("subject", "rectify", sid, fid, value)
                self.assert_refused(r, words, [value])
                self.assertEqual(self.snapshot(), snap)
        self.assertEqual(self.facts_by_category(sid)["email"]["value"],
                         "anna@example.dk")
        self.assertEqual(self.find("email", "anna@example.dk").rc, EXIT_OK)


class Events(VaultTest):

    def test_event_recorded_and_shown(self):
        """Retention anchors (SHOP-RET-2, CEK-RET-1): a declared event is
        stored with its time and shown."""
        sid = self.add_ok(customer(), "--as-of", "2026-06-01")
        r = self.vaern("subject", "event", sid, "relationship_end", "--at",
                       "2026-01-31", "--as-of", "2026-06-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json(), {"subject": sid,
                                    "event": "relationship_end",
                                    "at": "2026-01-31T00:00:00Z"})
        r = self.vaern("--as-of", "2026-06-01T12:30:00Z", "subject", "event",
                       sid, "last_contact")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["at"], "2026-06-01T12:30:00Z")
        self.assertEqual(self.show(sid)["events"], [
            {"kind": "relationship_end", "at": "2026-01-31T00:00:00Z"},
            {"kind": "last_contact", "at": "2026-06-01T12:30:00Z"}])

    def test_event_refusals(self):
        sid = self.add_ok(customer(), "--as-of", "2026-06-01")
        snap = self.snapshot()
        cases = [(["birthday"], EXIT_REFUSED, ["birthday"]),
                 (["relationship_end", "--at", "2026-07-01"], EXIT_REFUSED,
                  ["future"]),
                 (["relationship_end", "--at", "2099-01-01"], EXIT_REFUSED,
                  ["future"]),
                 (["relationship_end", "--at", "31/01/2026"], EXIT_REFUSED,
                  ["--at"]),
                 (["relationship_end", "--at"], EXIT_USAGE, [])]
        for args, code, words in cases:
            with self.subTest(args=args):
                r = self.vaern("--as-of", "2026-06-01", "subject", "event",
                               sid, *args)
                self.assertEqual(r.rc, code, r)
                self.assertEqual(r.out, "")
                for w in words:
                    self.assertIn(w, r.err)
                self.assertEqual(self.snapshot(), snap)
        self.assertEqual(self.show(sid)["events"], [])


class Erase(VaultTest):

    def test_erase_removes_every_row(self):
        """GDPR-17: erasure removes the subject, its facts, identifiers,
        events and consents; it can no longer be found or shown; a second
        erase is refused; other subjects are untouched."""
        doc = customer(extra=[fact("email", "anna.n@example.dk",
                                   purpose="newsletter")],
                       consents=[{"purpose": "newsletter",
                                  "source": "web_form"}])
        sid = self.add_ok(doc)
        other = self.add_ok(customer(name="Bent", phone="20304060",
                                     email="bent@example.dk",
                                     cpr="020290-1234"))
        other_before = self.show(other)
        r = self.vaern("subject", "event", sid, "last_contact")
        self.assertEqual(r.rc, EXIT_OK, r)
        rowid = self.subject_rowid(sid)
        for t in ("fact", "event", "consent", "identifier"):
            self.assertGreater(self.sql(
                "SELECT count(*) FROM %s WHERE subject = ?" % t,
                (rowid,))[0][0], 0, t)
        r = self.vaern("subject", "erase", sid)
        self.assertEqual(r.rc, EXIT_OK, r)
        # GDPR-17(3): nothing here is kept by a legal obligation.
        self.assertEqual(r.json(), {"subject": sid, "erased": True,
                                    "facts": 6, "shredded": True,
                                    "kept": [], "not_concerned": 0})
        for typ, value in (("email", "anna@example.dk"),
                           ("email", "anna.n@example.dk"),
                           ("phone", "20304050"), ("cpr", "010190-1234")):
            with self.subTest(find=value):
                self.assertEqual(self.find(typ, value).rc, EXIT_REFUSED)
        r = self.vaern("subject", "show", sid)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertEqual(r.out, "")
        self.assertEqual(self.sql("SELECT count(*) FROM subject WHERE uid = ?",
                                  (bytes.fromhex(sid),))[0][0], 0)
        for t in ("fact", "event", "consent", "identifier"):
            with self.subTest(table=t):
                self.assertEqual(self.sql(
                    "SELECT count(*) FROM %s WHERE subject = ?" % t,
                    (rowid,))[0][0], 0)
        self.assertEqual(self.counts()["subject"], 1)
        self.assertEqual(self.counts()["identifier"], 3)
        snap = self.snapshot()
        r = self.vaern("subject", "erase", sid)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertEqual(self.snapshot(), snap)
        self.assertEqual(self.show(other), other_before)
        # the identifiers are free again
        self.add_ok(customer())


# ---- clock, policies, controllers -----------------------------------------


class Clock(VaultTest):

    def test_as_of_sets_collected_at(self):
        """The vaern clock: --as-of (anywhere on the line) and VAERN_AS_OF
        give the collection time of a new fact."""
        variants = [
            (["--as-of", "2024-02-29"], None, "anna1@example.dk"),
            (["--as-of=2024-02-29"], None, "anna2@example.dk"),
            ([], {"VAERN_AS_OF": "2024-02-29"}, "anna3@example.dk"),
        ]
        for i, (args, env, email) in enumerate(variants):
            with self.subTest(args=args, env=env):
                doc = customer(email=email, cpr=None,
                               phone="2030405%d" % i)
                data = json.dumps(doc).encode()
                r = run_vaern(["subject", "--data", self.dir, "add", "--json",
                               "-", *args], stdin=data, env=env)
                self.assertEqual(r.rc, EXIT_OK, r)
                for f in self.show(r.json()["subject"])["facts"]:
                    self.assertEqual(f["collected_at"],
                                     "2024-02-29T00:00:00Z")
        # --as-of wins over VAERN_AS_OF
        doc = customer(email="anna4@example.dk", cpr=None, phone="20304059")
        r = self.add(doc, "--as-of", "2025-03-01T08:00:00+01:00",
                     env={"VAERN_AS_OF": "2024-02-29"})
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(self.show(r.json()["subject"])["facts"][0]
                         ["collected_at"], "2025-03-01T07:00:00Z")

    def test_collected_at_before_now_kept(self):
        doc = customer()
        doc["facts"][0]["collected_at"] = "2023-05-06T07:08:09Z"
        sid = self.add_ok(doc, "--as-of", "2024-02-29")
        f = self.facts_by_category(sid)
        self.assertEqual(f["name"]["collected_at"], "2023-05-06T07:08:09Z")
        self.assertEqual(f["address"]["collected_at"], "2024-02-29T00:00:00Z")
        # one second after the clock is the future
        doc = customer(email="b@example.dk", cpr=None, phone="20304099")
        doc["facts"][0]["collected_at"] = "2024-02-29T00:00:01Z"
        snap = self.snapshot()
        r = self.add(doc, "--as-of", "2024-02-29")
        self.assert_refused(r, ["future"], values_in(doc))
        self.assertEqual(self.snapshot(), snap)

    def test_malformed_as_of_is_usage_error(self):
        snap = self.snapshot()
        for args, env in ((["--as-of", "2023-02-29"], None),
                          (["--as-of", "yesterday"], None),
                          (["--as-of", "2024-02-29T25:00:00Z"], None),
                          (["--as-of"], None),
                          (["--as-of="], None),
                          ([], {"VAERN_AS_OF": "29-02-2024"})):
            with self.subTest(args=args, env=env):
                r = run_vaern(["--data", self.dir, "subject", "add",
                               "--json", "-", *args],
                              stdin=json.dumps(customer()).encode(), env=env)
                self.assertEqual(r.rc, EXIT_USAGE, r)
                self.assertEqual(r.out, "")
                self.assertIn("as-of", r.err.lower().replace("_", "-"))
        self.assertEqual(self.snapshot(), snap)


class Policies(VaultTest):

    def test_policy_list_shows_both_controllers(self):
        """AURA (one installation hosts several controllers): policy list
        shows each loaded controller and its version (AURA-VER-1)."""
        r = self.vaern("policy", "load", EXAMPLE)
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.vaern("policy", "list")
        self.assertEqual(r.rc, EXIT_OK, r)
        ctrls = {c["controller"]: c for c in r.json()["controllers"]}
        self.assertEqual(sorted(ctrls), ["example", "testshop"])
        self.assertEqual(ctrls["testshop"]["name"], "Testshop ApS")
        self.assertEqual(ctrls["example"]["name"], "Eksempel ApS")
        self.assertEqual(ctrls["testshop"]["country"], "DK")
        self.assertEqual(ctrls["testshop"]["policy_version"], "2026-01-01")
        self.assertRegex(ctrls["example"]["loaded_at"], r"Z$")

    def write_policy(self, name, replace):
        with open(FIXTURE, encoding="utf-8") as f:
            text = f.read()
        for old, new in replace:
            self.assertIn(old, text)
            text = text.replace(old, new, 1)
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_bad_policy_load_keeps_earlier_version(self):
        """A policy load that fails the checks exits 1 with file:line:col
        diagnostics and leaves the loaded version in place."""
        sid = self.add_ok(customer())
        before = self.vaern("policy", "list").json()
        snap = self.snapshot()
        bad_ref = self.write_policy("bad-ref.yaml", [
            ("name: Testshop ApS", "name: Changed ApS"),
            ("mandatory: [name, address, phone]",
             "mandatory: [name, address, shoe_size]")])
        bad_yaml = self.write_policy("bad-yaml.yaml", [
            ("name: Testshop ApS", "name: Changed ApS"),
            ("  notes: {}", "  notes: {\n  ]")])
        for path in (bad_ref, bad_yaml):
            with self.subTest(path=os.path.basename(path)):
                r = self.vaern("policy", "load", path)
                self.assertEqual(r.rc, EXIT_REFUSED, r)
                self.assertEqual(r.out, "")
                self.assertRegex(r.err, r"(?m)^" + re.escape(path) +
                                 r":\d+:\d+: ")
                self.assertEqual(self.vaern("policy", "list").json(), before)
                self.assertEqual(self.snapshot(), snap)
        # the earlier version still works
        self.assertEqual(self.find("email", "anna@example.dk").rc, EXIT_OK)
        self.add_ok(customer(email="n@example.dk", cpr=None,
                             phone="20304099"))

    def test_refused_policy_load_of_several_files_loads_none(self):
        """CONVENTIONS habit 5: `policy load GOOD BAD` exits 1 (and prints
        no result); a refused command must leave nothing changed, so GOOD
        must not be half-loaded behind the user's back."""
        bad = self.write_policy("bad.yaml", [("  notes: {}",
                                              "  notes: {\n  ]")])
        before = self.vaern("policy", "list").json()
        r = self.vaern("policy", "load", EXAMPLE, bad)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertEqual(r.out, "")
        self.assertEqual(self.vaern("policy", "list").json(), before,
                         "example was loaded although the command failed")

    def test_refused_init_leaves_no_vault(self):
        """CONVENTIONS habit 5: `init --policy BAD` exits 1; it must not
        leave a half-made vault (key and database) that makes the corrected
        `init --policy GOOD` fail with 'already initialised'."""
        bad = self.write_policy("bad.yaml", [("  notes: {}",
                                              "  notes: {\n  ]")])
        d = os.path.join(self.tmp, "fresh")
        r = run_vaern(["--data", d, "init", "--policy", bad])
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertRegex(r.err, r"(?m)^" + re.escape(bad) + r":\d+:\d+: ")
        r = run_vaern(["--data", d, "init", "--policy", FIXTURE])
        self.assertEqual(r.rc, EXIT_OK,
                         "init after a refused init: %r" % (r,))

    def test_policy_reload_keeps_subjects(self):
        """An updated policy replaces the old one; the blind-index key and
        subjects stay (the controller keeps its identity)."""
        sid = self.add_ok(customer())
        newer = self.write_policy("newer.yaml", [
            ("name: Testshop ApS", "name: Testshop Two ApS")])
        r = self.vaern("policy", "load", newer)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json(), {"loaded": ["testshop"]})
        ctrls = self.vaern("policy", "list").json()["controllers"]
        self.assertEqual([c["name"] for c in ctrls], ["Testshop Two ApS"])
        r = self.find("email", "anna@example.dk")
        self.assertEqual((r.rc, r.json()["subject"]), (EXIT_OK, sid))
        self.assertEqual(self.show(sid)["facts"][0]["value"], "Anna Hansen")


class Controllers(VaultTest):

    def test_controller_omitted_with_one_loaded(self):
        """AURA: with one controller loaded, --controller may be omitted."""
        sid = self.add_ok(customer())
        r = self.vaern("subject", "find", "email", "anna@example.dk")
        self.assertEqual(r.json()["controller"], "testshop")
        r = self.vaern("subject", "show", "--controller", "testshop", sid)
        self.assertEqual(r.rc, EXIT_OK, r)

    def test_controller_required_with_two_loaded(self):
        """AURA: with several controllers a subject command must name one
        (exit 2), never guess."""
        sid = self.add_ok(customer())
        self.assertEqual(self.vaern("policy", "load", EXAMPLE).rc, EXIT_OK)
        snap = self.snapshot()
        for args in (["find", "email", "anna@example.dk"], ["show", sid],
                     ["erase", sid], ["event", sid, "last_contact"]):
            with self.subTest(args=args):
                r = self.vaern("subject", *args)
                self.assertEqual(r.rc, EXIT_USAGE, r)
                self.assertIn("--controller", r.err)
                self.assertEqual(r.out, "")
        r = self.add(customer(email="x@example.dk", cpr=None,
                              phone="20304099"))
        self.assertEqual(r.rc, EXIT_USAGE, r)
        self.assertEqual(self.snapshot(), snap)
        r = self.vaern("subject", "show", sid, "--controller", "testshop")
        self.assertEqual(r.rc, EXIT_OK, r)

    def test_no_controller_loaded(self):
        """A vault without a policy takes no personal data."""
        d = os.path.join(self.tmp, "empty")
        self.assertEqual(run_vaern(["--data", d, "init"]).rc, EXIT_OK)
        r = run_vaern(["--data", d, "subject", "add", "--json", "-"],
                      stdin=json.dumps(customer()).encode())
        self.assertEqual(r.rc, EXIT_USAGE, r)
        self.assert_no_value(r.err, values_in(customer()))
        r = run_vaern(["--data", d, "policy", "list"])
        self.assertEqual(r.json(), {"controllers": []})


# ---- issue 11: the operator is audited, and reads through the gate ------

TELENOR = os.path.join(ROOT, "policies", "telenor.yaml")


class OperatorAudited(VaultTest):
    """GDPR-32: the local operator's commands that read or change personal
    data leave audit entries (actor operator:<OS user>, role operator),
    like the API; a read is decided by the gate and audited before any
    fact is decrypted."""

    policies = (TELENOR,)

    def operator(self):
        import pwd
        return "operator:" + pwd.getpwuid(os.geteuid()).pw_name

    def trail(self, sid):
        r = self.vaern("audit", "show", "--subject", sid)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()

    def customer(self):
        return self.add_ok({"purpose": "contract", "source": "subject",
                            "facts": [
                                {"category": "name", "value": "Ole Jensen"},
                                {"category": "email",
                                 "value": "ole.jensen@example.dk"}]})

    def test_GDPR_32_every_operator_command_is_audited(self):
        sid = self.customer()
        self.show(sid)
        r = self.find("email", "ole.jensen@example.dk")
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.vaern("subject", "add-facts", sid, "--purpose",
                       "network_operation", "--fact",
                       "location=Mast 17 Aarhus")
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.vaern("requests", "add", "--type", "access", "--channel",
                       "letter", "--subject", sid)
        self.assertEqual(r.rc, EXIT_OK, r)
        for what in ("consents", "holds"):
            r = self.vaern("subject", what, sid)
            self.assertEqual(r.rc, EXIT_OK, r)
        r = self.vaern("subject", "rectify", sid, "1", "Ole Juhl Jensen")
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.vaern("subject", "restrict", sid)
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.vaern("subject", "erase", sid)
        self.assertEqual(r.rc, EXIT_OK, r)
        entries = self.trail(sid)
        got = [(e["action"], e["decision"]) for e in entries]
        self.assertEqual(got, [("create", "allow"), ("read", "allow"),
                               ("find", "allow"), ("collect", "allow"),
                               ("request_received", "allow"),
                               # GDPR-12 (issue 10): the person is told,
                               # the address read through the gate.
                               ("read", "allow"),
                               ("request_message_sent", "allow"),
                               ("consents_read", "allow"),
                               ("holds_read", "allow"),
                               ("rectify", "allow"), ("restrict", "allow"),
                               ("erase", "allow")], entries)
        for e in entries:
            self.assertEqual(e["actor"], self.operator(), e)
            self.assertEqual(e["role"], "operator", e)
        text = json.dumps(entries)
        for secret in ("Ole", "ole.jensen", "Mast 17", "Juhl"):
            self.assertNotIn(secret, text)

    def test_GDPR_32_import_is_audited(self):
        csv_path = os.path.join(self.tmp, "in.csv")
        with open(csv_path, "w") as f:
            f.write("name,email\nAnne Holm,anne.holm@example.dk\n")
        r = self.vaern("import", "--purpose", "contract", "--source",
                       "subject", csv_path)
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.find("email", "anne.holm@example.dk")
        self.assertEqual(r.rc, EXIT_OK, r)
        sid = r.json()["subject"]
        entries = self.trail(sid)
        self.assertEqual([e["action"] for e in entries][:1], ["create"],
                         entries)
        self.assertEqual(entries[0]["actor"], self.operator())
        self.assertNotIn("anne.holm", json.dumps(entries))

    def test_GDPR_32_no_audit_entry_no_release(self):
        """The gate's decision must be written before a fact opens: with
        the audit trail unwritable, `subject show` releases nothing."""
        sid = self.customer()
        audit = os.path.join(self.dir, "audit.db")
        if dbpeek.ON_POSTGRESQL:  # the trail refuses every row
            dbpeek.break_inserts(dbpeek.connect(audit), "audit")
        else:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(audit + suffix):
                    os.remove(audit + suffix)
            os.mkdir(audit)  # not a database: every append fails
        r = self.vaern("subject", "show", sid)
        self.assertNotEqual(r.rc, EXIT_OK, r)
        self.assertNotIn("Ole", r.out + r.err)
        self.assertNotIn("ole.jensen", r.out + r.err)

    def test_AURA_PORTAL_2_add_facts_checks_like_add(self):
        """`subject add-facts`: every check of `subject add`; a refusal
        names the fact and the rule, never the value; nothing changes."""
        sid = self.customer()
        before = self.snapshot()
        for args, words in (
                (["--purpose", "contract", "--fact", "name=Ole J",
                  "--fact", "shoe_size=44"], ["fact 2", "shoe_size"]),
                (["--purpose", "contract", "--fact",
                  "payment_details=4111 1111 1111 1111"], ["SHOP-PAY-1"]),
                (["--purpose", "marketing", "--fact", "name=Ole J"],
                 ["consent"]),
                (["--purpose", "contract", "--fact",
                  "email=not-an-address"], ["fact 1"])):
            r = self.vaern("subject", "add-facts", sid, *args)
            self.assert_refused(r, words, ["4111 1111 1111 1111",
                                           "not-an-address", "Ole J"])
        r = self.vaern("subject", "add-facts", "00" * 16, "--purpose",
                       "contract", "--fact", "name=X")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        after = self.snapshot()
        # Refusals are audited (in audit.db), the vault is unchanged.
        self.assertEqual(before, after)


if __name__ == "__main__":
    unittest.main()
