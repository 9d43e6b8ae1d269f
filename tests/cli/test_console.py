#!/usr/bin/env python3
"""Black-box tests of the staff console's parts (issue 20): the real `vaern`
CLI with concrete instants (--as-of), on the shipped policies/cekura.yaml.

Clauses of mission/CLAUSES.md proved here, each named in the test:
  GDPR-32  security of processing: staff console access needs a password
           (argon2id, never stored in clear) and a TOTP code (RFC 6238;
           the secret sealed, never in clear on disk); a wrong code, a
           code used twice (replay) and a code outside the window are
           refused; wrong tries are throttled, then lock the actor out;
           every try is audited, allowed or not, without a value
  CEK-RET-1..5, CEK-HOLD-1, GDPR-18
           the retention chart counts what the plan deletes, per month
           and rule, undated and held facts called out (test_console_chart)
  GDPR-12  the request queue (test_console_queue)

Standard library only: the codes are computed here with hmac (RFC 6238).
"""
import base64
import calendar
import glob
import html.parser
import hashlib
import hmac
import json
import os
import sqlite3
import stat
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_api as api  # noqa: E402  (Result, BASE_ENV, policies)

VAERN = os.environ.get("VAERN_BIN")
CEKURA = api.CEKURA
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
PASSWORD = "korrekt hest batteri hæfteklamme"
DENIED = "vaern: actor: the name, password or code is not valid\n"


def instant(text):
    """Unix seconds of an ISO instant 2026-03-02T10:00:00Z."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def totp(secret_b32, t, step=30, digits=6):
    """RFC 6238 with HMAC-SHA1, independent of vaern's liboath."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", t // step), hashlib.sha1).digest()
    off = mac[-1] & 15
    n = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return "%0*d" % (digits, n % 10 ** digits)


class ConsoleBase(unittest.TestCase):
    """A data directory with CEKURA's policy, driven by the CLI."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-console-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = os.path.join(self._tmp.name, "data")
        r = self.vaern("init", "--policy", CEKURA)
        self.assertEqual(r.rc, EXIT_OK, r)

    def vaern(self, *args, stdin=None, as_of=None):
        pre = ["--data", self.dir]
        if as_of is not None:
            pre += ["--as-of", as_of]
        if isinstance(stdin, str):
            stdin = stdin.encode()
        p = subprocess.run([VAERN, *pre, *args], input=stdin,
                           capture_output=True, env=api.BASE_ENV,
                           timeout=120)
        return api.Result(p)

    def audit(self):
        r = self.vaern("audit", "show")
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()

    def raw_files(self):
        data = b""
        for f in glob.glob(os.path.join(self.dir, "*")):
            if os.path.isfile(f):
                with open(f, "rb") as fh:
                    data += fh.read()
        return data

    def enrol(self, name="dpo1", role="dpo", as_of="2026-03-02T10:00:00Z",
              qr=None):
        args = ["actor", "add", "--controller", "cekura", "--name", name,
                "--role", role, "--console"]
        if qr is not None:
            args += ["--qr", qr]
        r = self.vaern(*args, stdin=PASSWORD + "\n", as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        doc = r.json()
        uri = urllib.parse.urlparse(doc["otpauth_uri"])
        secret = urllib.parse.parse_qs(uri.query)["secret"][0]
        return doc, secret

    def login(self, at, code, name="dpo1", password=PASSWORD):
        return self.vaern("actor", "login", "--controller", "cekura", name,
                          stdin="%s\n%s\n" % (password, code), as_of=iso(at))

    def console_audit(self):
        return [e for e in self.audit()
                if e["action"] in ("console_login", "console_enrol",
                                   "console_unlock")]


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class EnrolTest(ConsoleBase):
    """GDPR-32: enrolment gives a password and a TOTP secret, shows the
    otpauth URI and its QR code, keeps neither secret in clear."""

    def test_GDPR_32_enrol_prints_uri_and_qr(self):
        qr = os.path.join(self._tmp.name, "qr.svg")
        doc, secret = self.enrol(qr=qr)
        self.assertEqual(doc["role"], "dpo")
        self.assertTrue(doc["token"].startswith("vaern_"))
        self.assertTrue(doc["otpauth_uri"].startswith(
            "otpauth://totp/vaern%20cekura:dpo1?secret="), doc)
        self.assertIn("&algorithm=SHA1&digits=6&period=30",
                      doc["otpauth_uri"])
        self.assertEqual(
            len(base64.b32decode(secret + "=" * (-len(secret) % 8))), 20)
        self.assertEqual(doc["qr_svg"], qr)
        self.assertEqual(stat.S_IMODE(os.stat(qr).st_mode), 0o600)
        with open(qr) as fh:
            svg = fh.read()
        self.assertTrue(svg.startswith("<svg xmlns="), svg[:80])
        self.assertNotIn("<script", svg)
        # Without --qr the SVG is in the answer.
        r = self.vaern("actor", "console", "--controller", "cekura", "dpo1",
                       stdin=PASSWORD + "\n")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertTrue(r.json()["qr_svg"].startswith("<svg "))
        self.assertNotIn("token", r.json())

    def test_GDPR_32_no_secret_in_clear(self):
        doc, secret = self.enrol()
        raw = self.raw_files()
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        self.assertNotIn(key, raw)
        self.assertNotIn(secret.encode(), raw)
        self.assertNotIn(PASSWORD.encode(), raw)
        self.assertIn(b"$argon2id$", raw)
        # Nor in the audit trail, which names the actor only.
        entries = json.dumps(self.console_audit())
        self.assertNotIn(secret, entries)
        self.assertNotIn(PASSWORD, entries)
        self.assertIn("console_enrol", entries)

    def test_GDPR_32_bad_password_changes_nothing(self):
        cases = [("", "password: 12 to 256 bytes"),
                 ("kort kode", "password: 12 to 256 bytes"),
                 ("x" * 257, "the password is the first line of stdin"),
                 ("tab\there is bad", "password: UTF-8 text without "
                                      "control characters")]
        for pw, want in cases:
            r = self.vaern("actor", "add", "--controller", "cekura",
                           "--name", "cs1", "--role", "customer_service",
                           "--console", stdin=pw + "\n")
            self.assertEqual(r.rc, EXIT_REFUSED, r)
            self.assertIn(want, r.err)
            if pw:
                self.assertNotIn(pw, r.err)
        r = self.vaern("actor", "list", "--controller", "cekura")
        self.assertEqual(r.json()["actors"], [])
        self.assertEqual(self.console_audit(), [])

    def test_GDPR_32_console_of_unknown_actor(self):
        r = self.vaern("actor", "console", "--controller", "cekura", "nobody",
                       stdin=PASSWORD + "\n")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("no valid actor named 'nobody'", r.err)
        self.assertEqual(self.console_audit(), [])

    def test_GDPR_32_password_not_on_the_command_line(self):
        r = self.vaern("actor", "add", "--controller", "cekura", "--name",
                       "x", "--role", "dpo", "--console", "--password", "p")
        self.assertEqual(r.rc, EXIT_USAGE, r)
        r = self.vaern("actor", "list", "--controller", "cekura", "--qr",
                       "f.svg")
        self.assertEqual(r.rc, EXIT_USAGE, r)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class LoginTest(ConsoleBase):
    """GDPR-32: a login needs the password and a fresh code of the
    window; wrong, replayed and stale codes are refused and audited."""

    T = instant("2026-03-02T10:00:00Z")  # a step boundary

    def test_GDPR_32_login_and_wrong_code(self):
        _, secret = self.enrol()
        good = totp(secret, self.T)
        wrong = "%06d" % ((int(good) + 1) % 1000000)
        r = self.login(self.T, wrong)
        self.assertEqual((r.rc, r.err), (EXIT_REFUSED, DENIED))
        r = self.login(self.T, good, password=PASSWORD + "x")
        self.assertEqual((r.rc, r.err), (EXIT_REFUSED, DENIED))
        r = self.login(self.T, good)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json(), {"controller": "cekura", "name": "dpo1",
                                    "role": "dpo", "login": True})
        logins = [e for e in self.console_audit()
                  if e["action"] == "console_login"]
        self.assertEqual([(e["decision"], e["reason"]) for e in logins],
                         [("deny", "wrong code (wrong try 1)"),
                          ("deny", "wrong password (wrong try 2)"),
                          ("allow", "console login")])
        text = json.dumps(logins)
        for secret_value in (good, wrong, PASSWORD, secret):
            self.assertNotIn(secret_value, text)

    def test_GDPR_32_code_replay_refused(self):
        _, secret = self.enrol()
        code = totp(secret, self.T)
        self.assertEqual(self.login(self.T, code).rc, EXIT_OK)
        # The same code again, in the same step: refused.
        r = self.login(self.T + 10, code)
        self.assertEqual((r.rc, r.err), (EXIT_REFUSED, DENIED))
        # An older step's code, inside the window: refused too.
        r = self.login(self.T + 20, totp(secret, self.T - 30))
        self.assertEqual((r.rc, r.err), (EXIT_REFUSED, DENIED))
        # The same code in the next step, still inside the window: refused.
        r = self.login(self.T + 31, code)
        self.assertEqual((r.rc, r.err), (EXIT_REFUSED, DENIED))
        # A newer step's code, once the 3 wrong tries' wait is over: good.
        r = self.login(self.T + 61, totp(secret, self.T + 60))
        self.assertEqual(r.rc, EXIT_OK, r)
        reasons = [e["reason"] for e in self.console_audit()
                   if e["action"] == "console_login"]
        self.assertEqual(reasons[1:4], ["replayed code (wrong try 1)",
                                        "replayed code (wrong try 2)",
                                        "replayed code (wrong try 3)"])

    def test_GDPR_32_code_window_boundary(self):
        _, secret = self.enrol()
        code = totp(secret, self.T)
        # One step late (the clock drifted): the last second of it works,
        # the first second after it does not.
        r = self.login(self.T + 60, code)
        self.assertEqual((r.rc, r.err), (EXIT_REFUSED, DENIED))
        r = self.login(self.T + 59, code)
        self.assertEqual(r.rc, EXIT_OK, r)
        # One step early works, two do not.
        early = totp(secret, self.T + 150)
        r = self.login(self.T + 89, early)  # step T+60: two early
        self.assertEqual((r.rc, r.err), (EXIT_REFUSED, DENIED))
        r = self.login(self.T + 89, totp(secret, self.T + 90))
        self.assertEqual(r.rc, EXIT_OK, r)

    def test_GDPR_32_secret_survives_key_rotation(self):
        _, secret = self.enrol()
        r = self.vaern("key", "rotate")
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.login(self.T, totp(secret, self.T))
        self.assertEqual(r.rc, EXIT_OK, r)

    def test_GDPR_32_unknown_actor_and_no_console(self):
        _, secret = self.enrol()
        r = self.vaern("actor", "add", "--controller", "cekura", "--name",
                       "api1", "--role", "customer_service")
        self.assertEqual(r.rc, EXIT_OK, r)
        for name in ("nobody", "api1"):
            r = self.login(self.T, totp(secret, self.T), name=name)
            self.assertEqual((r.rc, r.err), (EXIT_REFUSED, DENIED))
        # The name typed is never recorded: it may be anything.
        denied = [e for e in self.console_audit()
                  if e["action"] == "console_login"]
        self.assertEqual([e["actor"] for e in denied],
                         ["(unknown)", "(unknown)"])
        # A revoked actor cannot log in either, and its password hash and
        # sealed secret go with it.
        r = self.vaern("actor", "revoke", "--controller", "cekura", "dpo1")
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.login(self.T, totp(secret, self.T))
        self.assertEqual((r.rc, r.err), (EXIT_REFUSED, DENIED))
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            self.dir, "vaern.db"), uri=True)
        try:
            n = con.execute("SELECT count(*) FROM console_credential"
                            ).fetchone()[0]
        finally:
            con.close()
        self.assertEqual(n, 0)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class ThrottleTest(ConsoleBase):
    """GDPR-32: after 3 wrong tries a wait of 30 s (doubled after each
    further one); after 10 the actor is locked out for an hour; audited."""

    T = instant("2026-03-02T10:00:00Z")

    def wrong(self, at):
        return self.login(at, "000000", password="not the password at all")

    def test_GDPR_32_throttle_after_three_wrong_tries(self):
        _, secret = self.enrol()
        for i in range(3):
            r = self.wrong(self.T + i)
            self.assertEqual((r.rc, r.err), (EXIT_REFUSED, DENIED))
        # The 4th try, even the right one, 29 s after the 3rd: not tried.
        at = self.T + 2 + 29
        r = self.login(at, totp(secret, at))
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertEqual(r.err, "vaern: actor: too many wrong tries: try "
                                "again in 1 seconds\n")
        # 30 s after the 3rd: tried, and good.
        at = self.T + 2 + 30
        r = self.login(at, totp(secret, at))
        self.assertEqual(r.rc, EXIT_OK, r)
        reasons = [(e["decision"], e["reason"]) for e in self.console_audit()
                   if e["action"] == "console_login"]
        self.assertEqual(reasons[3:], [("deny", "throttled after wrong "
                                                "tries"),
                                       ("allow", "console login")])

    def test_GDPR_32_lockout_after_ten_wrong_tries(self):
        _, secret = self.enrol()
        at = self.T
        for i in range(10):
            r = self.wrong(at)
            self.assertEqual((r.rc, r.err), (EXIT_REFUSED, DENIED), i)
            # Wait out each throttle: 30 s after the 3rd, doubled after.
            at += 30 * 2 ** max(0, i - 2) if i >= 2 else 1
        last = at - 30 * 2 ** 7
        unlock = last + 3600
        # Locked: the right password and code are refused, the second
        # before the hour is over; tried again at the hour.
        for t in (last + 60, unlock - 1):
            r = self.login(t, totp(secret, t))
            self.assertEqual(r.rc, EXIT_REFUSED, r)
            self.assertEqual(r.err, "vaern: actor: console access is locked "
                                    "after 10 wrong tries until %s\n"
                             % iso(unlock))
        r = self.login(unlock, totp(secret, unlock))
        self.assertEqual(r.rc, EXIT_OK, r)
        reasons = [e["reason"] for e in self.console_audit()
                   if e["action"] == "console_login"]
        self.assertEqual(reasons[9], "wrong password (wrong try 10, locked)")
        self.assertEqual(reasons[10:12], ["locked after wrong tries"] * 2)

    def test_GDPR_32_unlock_by_operator(self):
        _, secret = self.enrol()
        at = self.T
        for i in range(10):
            self.assertEqual(self.wrong(at).rc, EXIT_REFUSED)
            last = at
            at += 30 * 2 ** max(0, i - 2) if i >= 2 else 1
        at = last + 60
        r = self.login(at, totp(secret, at))
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("locked", r.err)
        # actor list tells who has console access and who is locked out.
        r = self.vaern("actor", "list", "--controller", "cekura",
                       as_of=iso(at))
        self.assertEqual(r.json()["actors"][0]["console"], True)
        self.assertEqual(r.json()["actors"][0]["console_locked_until"],
                         iso(last + 3600))
        r = self.vaern("actor", "unlock", "--controller", "cekura", "dpo1",
                       as_of=iso(at))
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.vaern("actor", "list", "--controller", "cekura",
                       as_of=iso(at))
        self.assertIsNone(r.json()["actors"][0]["console_locked_until"])
        r = self.login(at + 30, totp(secret, at + 30))
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertIn("console_unlock",
                      [e["action"] for e in self.console_audit()])
        r = self.vaern("actor", "unlock", "--controller", "cekura", "nobody")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("no actor named 'nobody' with console access", r.err)


SVG_NS = "{http://www.w3.org/2000/svg}"


class CountCells(html.parser.HTMLParser):
    """The data-count cells of the retention page's tables."""

    def __init__(self):
        super().__init__()
        self.cells = {}  # (rule, kind, row) -> count
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "td" and "data-rule" in a:
            key = (a["data-rule"], a["data-kind"], a["data-month"])
            self.cells[key] = int(a["data-count"])


def customer(i):
    return {"purpose": "customer_admin", "source": "phone", "facts": [
        {"category": "name", "value": "Karen Holm"},
        {"category": "address", "value": "Amagerbrogade 12, 2300 København S"},
        {"category": "phone", "value": "+45201234%02d" % i},
        {"category": "email", "value": "karen%d@example.dk" % i}]}


def recorded(i):
    return {"purpose": "call_recording", "source": "phone", "facts": [
        {"category": "name", "value": "Jens Holm"},
        {"category": "phone", "value": "+45301234%02d" % i},
        {"category": "call_recordings", "value": "optagelse %d" % i}]}


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class ChartTest(ConsoleBase):
    """Issue 20 point 2: the retention chart draws what `retention plan`
    deletes, per month and rule, 24 months from --as-of; undated,
    restricted and legally held facts called out (CEK-RET-1, CEK-RET-4,
    CEK-HOLD-1, GDPR-18)."""

    def setUp(self):
        super().setUp()
        self.subjects = []
        # CEK-RET-1: 2 months after collection: 3 people in May 2026,
        # one in June.
        for i, day in enumerate(["2026-03-02", "2026-03-03", "2026-03-31",
                                 "2026-04-01"]):
            r = self.vaern("subject", "add", "--controller", "cekura",
                           "--json", "-", stdin=json.dumps(customer(i)),
                           as_of=day)
            self.assertEqual(r.rc, EXIT_OK, r)
            self.subjects.append(r.json()["subject"])
        # CEK-RET-4: call recordings wait for the subscription's end.
        for i in range(2):
            r = self.vaern("subject", "add", "--controller", "cekura",
                           "--json", "-", stdin=json.dumps(recorded(i)),
                           as_of="2026-03-02")
            self.assertEqual(r.rc, EXIT_OK, r)

    def plan(self, as_of):
        r = self.vaern("retention", "plan", "--format", "json",
                       as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()

    def chart(self, as_of):
        svg = os.path.join(self._tmp.name, "chart.svg")
        page = os.path.join(self._tmp.name, "chart.html")
        r = self.vaern("retention", "chart", "--svg", svg, "--html", page,
                       as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        bars = {}
        for rect in ET.parse(svg).getroot().iter(SVG_NS + "rect"):
            if rect.get("data-rule") is not None:
                key = (rect.get("data-rule"), rect.get("data-kind"),
                       rect.get("data-month"))
                bars[key] = int(rect.get("data-count"))
        with open(svg) as fh:
            self.assertNotIn("<script", fh.read())
        cells = CountCells()
        with open(page) as fh:
            cells.feed(fh.read())
        self.assertEqual(cells.scripts, 0)
        return r.json(), bars, cells.cells

    def assert_matches_plan(self, as_of):
        """Every count of the chart, its table and its JSON is the plan's."""
        plan = self.plan(as_of)
        doc, bars, cells = self.chart(as_of)
        first = doc["first_month"]
        y0, m0 = int(first[:4]), int(first[5:7])
        want_bars, want_cells = {}, {}
        for row in plan["plan"]:
            key_when = row["when"]
            if key_when[:1].isdigit():
                i = int(key_when[:4]) * 12 + int(key_when[5:7]) - (
                    y0 * 12 + m0)
                key_when = (key_when if 0 <= i < 24 else
                            "later" if i >= 24 else "overdue")
            key = (row["rule"], "facts", key_when)
            want_cells[key] = want_cells.get(key, 0) + row["facts"]
            if key_when[:1].isdigit():
                want_bars[key] = want_bars.get(key, 0) + row["facts"]
        self.assertEqual(bars, want_bars)
        got_cells = {k: v for k, v in cells.items()
                     if v != 0 and k[2] != "held"}
        self.assertEqual(got_cells, want_cells)
        return doc, bars, cells

    def test_CEK_RET_1_chart_matches_plan(self):
        doc, bars, cells = self.assert_matches_plan("2026-04-02")
        self.assertEqual(doc["first_month"], "2026-04")
        # 3 customers' 4 facts and the 2 recorded people's name and phone
        # in May, the 4th customer in June.
        self.assertEqual(bars, {("general", "facts", "2026-05"): 16,
                                ("general", "facts", "2026-06"): 4})
        general = [s for s in doc["series"] if s["rule"] == "general"][0]
        self.assertEqual(general["months"], {"2026-05": 16, "2026-06": 4})
        self.assertEqual(general["clause"], "CEK-RET-1")

    def test_CEK_RET_1_chart_window_boundary(self):
        # Facts due in May 2026: the 24th month of a chart from June
        # 2024, after the last month of one from May 2024.
        doc, bars, cells = self.assert_matches_plan("2024-06-30")
        self.assertEqual(bars[("general", "facts", "2026-05")], 16)
        self.assertEqual(cells[("general", "facts", "later")], 4)
        doc, bars, cells = self.assert_matches_plan("2024-05-31")
        self.assertNotIn(("general", "facts", "2026-05"), bars)
        self.assertEqual(cells[("general", "facts", "later")], 20)
        # Past due, not swept yet: overdue, not drawn. The 4th customer
        # (collected 1 April) is due on 1 June: drawn in June the day
        # before, overdue on the day.
        doc, bars, cells = self.assert_matches_plan("2026-05-31")
        self.assertEqual(cells[("general", "facts", "overdue")], 16)
        self.assertEqual(bars, {("general", "facts", "2026-06"): 4})
        doc, bars, cells = self.assert_matches_plan("2026-06-01")
        self.assertEqual(cells[("general", "facts", "overdue")], 20)
        self.assertEqual(bars, {})

    def test_CEK_RET_4_undated_called_out(self):
        doc, bars, cells = self.assert_matches_plan("2026-04-02")
        self.assertEqual(cells[("call_recordings", "facts", "undated")], 2)
        self.assertNotIn("call_recordings", [k[0] for k in bars])

    def test_GDPR_18_restricted_called_out(self):
        r = self.vaern("subject", "restrict", "--controller", "cekura",
                       self.subjects[0], as_of="2026-04-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        doc, bars, cells = self.assert_matches_plan("2026-04-02")
        self.assertEqual(cells[("general", "facts", "restricted")], 4)

    def test_CEK_HOLD_1_held_called_out(self):
        doc, bars, cells = self.chart("2026-04-02")
        self.assertEqual(cells[("general", "facts", "held")], 0)
        r = self.vaern("subject", "hold", "--controller", "cekura",
                       self.subjects[1], "--reason", "tvist om faktura",
                       as_of="2026-04-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.vaern("subject", "hold", "--controller", "cekura",
                       self.subjects[2], "--reason", "klage",
                       "--category", "email", as_of="2026-04-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        doc, bars, cells = self.assert_matches_plan("2026-04-02")
        self.assertEqual(cells[("general", "facts", "held")], 5)
        general = [s for s in doc["series"] if s["rule"] == "general"][0]
        self.assertEqual(general["held"], 5)
        # The hold's reason is nowhere in the view.
        with open(os.path.join(self._tmp.name, "chart.html")) as fh:
            self.assertNotIn("tvist", fh.read())

    def test_chart_languages_and_usage(self):
        for lang, word in (("da", "Sletteplan"), ("sv", "Gallringsplan"),
                           ("en", "Retention plan")):
            r = self.vaern("retention", "chart", "--html", "-", "--lang",
                           lang, as_of="2026-04-02")
            self.assertEqual(r.rc, EXIT_OK, r)
            self.assertIn('<html lang="%s">' % lang, r.out)
            self.assertIn(word, r.out)
        r = self.vaern("retention", "chart", "--lang", "de")
        self.assertEqual(r.rc, EXIT_USAGE, r)
        r = self.vaern("retention", "plan", "--svg", "x.svg")
        self.assertEqual(r.rc, EXIT_USAGE, r)
        r = self.vaern("retention", "chart", "--controller", "nosuch")
        self.assertEqual(r.rc, EXIT_REFUSED, r)


class QueueCells(html.parser.HTMLParser):
    """The rows of the queue page: (id, class, days left, cells)."""

    def __init__(self):
        super().__init__()
        self.rows, self._row, self._cell = [], None, None
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "tr" and "data-days-left" in a:
            self._row = [a["class"], int(a["data-days-left"]), []]
        elif tag == "td" and self._row is not None:
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag == "td" and self._row is not None:
            self._row[2].append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None


class QueueBase(ConsoleBase):
    """Four requests of one CEKURA customer, received on chosen days."""

    def setUp(self):
        super().setUp()
        r = self.vaern("subject", "add", "--controller", "cekura", "--json",
                       "-", stdin=json.dumps(customer(1)), as_of="2026-01-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.sid = r.json()["subject"]
        self.ids = {}
        for name, kind, received in (
                ("r1", "access", "2026-01-31"),         # due 2026-02-28
                ("r2", "erasure", "2026-02-20"),        # due 2026-03-20
                ("r3", "rectification", "2026-03-01"),  # due 2026-04-01
                ("r4", "objection", "2026-02-28")):     # due 2026-03-28
            r = self.vaern("requests", "add", "--controller", "cekura",
                           "--type", kind, "--subject", self.sid,
                           "--channel", "email", "--received", received,
                           as_of="2026-03-01")
            self.assertEqual(r.rc, EXIT_OK, r)
            self.ids[name] = r.json()["id"]
        self.names = {v: k for k, v in self.ids.items()}
        r = self.vaern("requests", "status", "--controller", "cekura",
                       self.ids["r4"], "refused", "--reason",
                       "anmodningen er åbenbart grundløs",
                       as_of="2026-03-01")
        self.assertEqual(r.rc, EXIT_OK, r)

    def queue(self, *args, as_of="2026-03-02"):
        r = self.vaern("requests", "list", "--controller", "cekura", *args,
                       as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return [(self.names[d["id"]], d["days_left"])
                for d in r.json()["requests"]]


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class QueueTest(QueueBase):
    """GDPR-12: the request queue, open requests by due date with the
    days left, filtered by type, status, due within N days and overdue
    (issue 20 point 3); the same filter as GET /v1/requests."""

    def test_GDPR_12_queue_by_due_date(self):
        self.assertEqual(self.queue(), [("r1", -2), ("r2", 18),
                                        ("r3", 30)])
        # Closed ones with --all, or by asking for their status.
        self.assertEqual(self.queue("--all"), [("r1", -2), ("r2", 18),
                                               ("r4", 26), ("r3", 30)])
        self.assertEqual(self.queue("--status", "refused"), [("r4", 26)])
        self.assertEqual(self.queue("--status", "received"),
                         [("r1", -2), ("r2", 18), ("r3", 30)])

    def test_GDPR_12_queue_overdue_boundary(self):
        # r1 is due on 28 February: on the day it is not overdue, the day
        # after it is.
        self.assertEqual(self.queue("--overdue", as_of="2026-02-28"), [])
        self.assertEqual(self.queue(as_of="2026-02-28")[0], ("r1", 0))
        self.assertEqual(self.queue("--overdue", as_of="2026-03-01"),
                         [("r1", -1)])

    def test_GDPR_12_queue_due_within_boundary(self):
        self.assertEqual(self.queue("--due-within", "18"),
                         [("r1", -2), ("r2", 18)])
        self.assertEqual(self.queue("--due-within", "17d"), [("r1", -2)])
        self.assertEqual(self.queue("--due-within", "4w"),
                         [("r1", -2), ("r2", 18)])
        self.assertEqual(self.queue("--due-within", "30"),
                         [("r1", -2), ("r2", 18), ("r3", 30)])

    def test_GDPR_12_queue_by_type(self):
        self.assertEqual(self.queue("--type", "erasure"), [("r2", 18)])
        self.assertEqual(self.queue("--type", "objection"), [])
        self.assertEqual(self.queue("--type", "objection", "--all"),
                         [("r4", 26)])
        self.assertEqual(self.queue("--type", "erasure", "--overdue"), [])

    def test_GDPR_12_queue_bad_filter(self):
        for args, want in ((("--type", "sletning"), "'type' is access"),
                           (("--status", "done"), "'status' is received"),
                           (("--due-within", "soon"), "'due_within' is a "
                                                      "number of days"),
                           (("--format", "xml"), "--format is json or "
                                                 "html"),
                           (("--lang", "da"), "--lang is da, sv or en, "
                                              "with --format html")):
            r = self.vaern("requests", "list", "--controller", "cekura",
                           *args)
            self.assertEqual(r.rc, EXIT_USAGE, r)
            self.assertIn(want, r.err)

    def test_GDPR_12_queue_page(self):
        r = self.vaern("requests", "list", "--controller", "cekura",
                       "--format", "html", "--lang", "da",
                       as_of="2026-03-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertIn('<html lang="da">', r.out)
        self.assertIn("Anmodninger om rettigheder", r.out)
        page = QueueCells()
        page.feed(r.out)
        self.assertEqual(page.scripts, 0)
        # The rows of the JSON queue, in its order, days left in colour.
        self.assertEqual([(self.names[row[2][0]], row[1], row[0])
                          for row in page.rows],
                         [("r1", -2, "over"), ("r2", 18, "ok"),
                          ("r3", 30, "ok")])
        r1 = page.rows[0][2]
        self.assertEqual(r1[1:6], ["access", "received", "email",
                                   "2026-01-31", "2026-02-28"])
        self.assertEqual(r1[6], "-2 overskredet")
        # A week or less: amber; and the refusal's reason is not shown.
        r = self.vaern("requests", "list", "--controller", "cekura",
                       "--format", "html", "--all", as_of="2026-03-13")
        page = QueueCells()
        page.feed(r.out)
        self.assertEqual([(self.names[row[2][0]], row[0])
                          for row in page.rows],
                         [("r1", "over"), ("r2", "soon"), ("r4", "ok"),
                          ("r3", "ok")])
        self.assertNotIn("grundløs", r.out)
        r = self.vaern("requests", "list", "--controller", "cekura",
                       "--format", "html", "--type", "portability")
        self.assertIn("No request matches.", r.out)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class QueueApiTest(QueueBase):
    """GDPR-12: GET /v1/requests takes the same filter as the queue and
    lists the same requests."""

    def test_GDPR_12_api_queue_matches_cli(self):
        r = self.vaern("actor", "add", "--controller", "cekura", "--name",
                       "cs", "--role", "customer_service")
        self.assertEqual(r.rc, EXIT_OK, r)
        token = r.json()["token"]
        server = api.Server(self.dir, os.path.join(self._tmp.name, "s.log"),
                            extra=("--as-of", "2026-03-02")).start()
        self.addCleanup(server.stop)
        for query, args in (("", ()), ("?all=1", ("--all",)),
                            ("?overdue=true", ("--overdue",)),
                            ("?type=erasure", ("--type", "erasure")),
                            ("?status=refused", ("--status", "refused")),
                            ("?due_within=17d", ("--due-within", "17d"))):
            res = server.request("GET", "/v1/requests" + query, token=token)
            self.assertEqual(res.status, 200, res)
            got = [(self.names[d["id"]], d["days_left"])
                   for d in res.json()["requests"]]
            self.assertEqual(got, self.queue(*args), query)
        for query, word in (("?type=x", "'type'"), ("?status=x", "'status'"),
                            ("?overdue=maybe", "'overdue'"),
                            ("?all=2", "'all'"),
                            ("?due_within=-1", "'due_within'")):
            res = server.request("GET", "/v1/requests" + query, token=token)
            self.assertEqual(res.status, 400, res)
            self.assertIn(word, res.json()["error"]["message"])


if __name__ == "__main__":
    unittest.main()
