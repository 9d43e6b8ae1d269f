#!/usr/bin/env python3
"""Black-box tests of the staff console's views (issue 20, points 3 to 6):
the real `vaern serve` on loopback, each page through a real login (name,
password and a TOTP code computed here per RFC 6238), its numbers checked
against the CLI, on the shipped policies/cekura.yaml.

Clauses of mission/CLAUSES.md proved here, each named in its test:
  CEK-RET-1, CEK-RET-4  the retention view draws what `vaern retention
           plan` deletes, per month and rule; undated facts called out
  CEK-HOLD-1  legal holds listed with their review date, placed and lifted
           from the view through the same vault calls as `vaern subject
           hold|unhold`, audited as the logged-in DPO; customer service
           cannot (403, audited)
  GDPR-32  the audit view: entries of the DPO's controller filtered by
           subject (a POST form, never in the address), actor, purpose,
           decision and time, equal to `vaern audit show` filtered; pages;
           the chain's verification; the CSV export with formulas
           defused; every view audited naming no value; customer service
           gets 403 on the DPO's pages, audited
  SHOP-BREACH-2, GDPR-33  the incidents: receipt, feedback and the
           72-hour clock on both sides of their bounds; the register's
           fields as a form, equal to `vaern incidents show`
  AURA-SEC-1  every POST needs its CSRF token; strict CSP, no script
Standard library only.
"""
import atexit
import base64
import calendar
import csv
import hashlib
import hmac
import html.parser
import io
import json
import os
import re
import shutil
import struct
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api import (CEKURA, VAERN, ApiCase, fact, run_vaern,  # noqa
                      serial)
from test_portal import Browser  # noqa: E402

PASSWORD = "korrekt hest batteri hæfteklamme"
BASE = "/console/cekura"


def totp(secret_b32, t, step=30, digits=6):
    """RFC 6238 with HMAC-SHA1, independent of vaern's liboath."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", t // step), hashlib.sha1).digest()
    off = mac[-1] & 15
    n = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return "%0*d" % (digits, n % 10 ** digits)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))



def expected_chart(plan):
    """What the console's chart must show for `vaern retention plan
    --format json`: the bars {(rule, "facts", "YYYY-MM"): facts} of the
    24 months from this one, and the table's cells, which add "overdue"
    and "later" columns."""
    now = time.gmtime()
    first = now.tm_year * 12 + now.tm_mon - 1
    want_bars, want_cells = {}, {}
    for row in plan["plan"]:
        if not row["facts"]:
            continue
        when = row["when"]
        if when[:1].isdigit():
            i = int(when[:4]) * 12 + int(when[5:7]) - 1 - first
            when = (when[:7] if 0 <= i < 24 else
                    "later" if i >= 24 else "overdue")
        key = (row["rule"], "facts", when)
        want_cells[key] = want_cells.get(key, 0) + row["facts"]
        if when[:1].isdigit():
            want_bars[key] = want_bars.get(key, 0) + row["facts"]
    return want_bars, want_cells

class Cells(html.parser.HTMLParser):
    """The data-* attributes of a console page: the chart's bars and
    cells, callouts, holds, entries, cases."""

    def __init__(self):
        super().__init__()
        self.bars, self.cells, self.callouts = {}, {}, {}
        self.holds, self.entries, self.cases = [], [], {}
        self.scripts = self.styles = 0
        self._callout = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if "style" in a or tag == "style":
            self.styles += 1
        if tag == "rect" and "data-rule" in a:
            self.bars[(a["data-rule"], a["data-kind"],
                       a["data-month"])] = int(a["data-count"])
        if tag == "td" and "data-rule" in a:
            self.cells[(a["data-rule"], a["data-kind"],
                        a["data-month"])] = int(a["data-count"])
        if tag == "strong" and "data-callout" in a:
            self._callout = a["data-callout"]
        if tag == "tr" and "data-hold" in a:
            self.holds.append(int(a["data-hold"]))
        if tag == "tr" and "data-seq" in a:
            self.entries.append(int(a["data-seq"]))
        if tag == "tr" and "data-case" in a:
            self.cases[a["data-case"]] = {}
            self._case = a["data-case"]
        if tag == "td" and "data-clock" in a and self.cases:
            self.cases[self._case]["clock"] = (a["data-clock"],
                                               a.get("class"))
        if tag == "td" and "data-receipt" in a and self.cases:
            self.cases[self._case]["receipt"] = a["data-receipt"]
        if tag == "td" and "data-feedback" in a and self.cases:
            self.cases[self._case]["feedback"] = a["data-feedback"]

    def handle_data(self, data):
        if self._callout is not None:
            self.callouts[self._callout] = int(data)
            self._callout = None


def parse(page):
    p = Cells()
    p.feed(page.text)
    return p


def customer(i):
    return {"purpose": "customer_admin", "source": "phone", "facts": [
        fact("name", "Karen Holm"),
        fact("address", "Amagerbrogade 12, 2300 København S"),
        fact("phone", "+452012%04d" % i),
        fact("email", "karen.views%d@example.dk" % i)]}


def recorded(i):
    return {"purpose": "call_recording", "source": "phone", "facts": [
        fact("name", "Jens Holm"), fact("phone", "+453012%04d" % i),
        fact("call_recordings", "optagelse %d" % i)]}


class ViewsCase(ApiCase):
    """CEKURA with its bearer actors (to make data through the API) and
    two console actors: dpo1 (dpo) and cs1 (customer_service)."""
    policies = (CEKURA,)
    actors = (("cekura", "customer_service"), ("cekura", "dpo"),
              ("cekura", "customer_service_manager"))
    secrets = {}

    @classmethod
    def prepare(cls):
        for name, role in (("dpo1", "dpo"), ("cs1", "customer_service")):
            r = run_vaern(["--data", cls.dir, "actor", "add",
                           "--controller", "cekura", "--name", name,
                           "--role", role, "--console"],
                          stdin=(PASSWORD + "\n").encode())
            if r.rc != 0:
                raise AssertionError("actor add --console: %r" % r)
            uri = urllib.parse.urlparse(r.json()["otpauth_uri"])
            cls.secrets[name] = urllib.parse.parse_qs(uri.query)[
                "secret"][0]
        cls.browsers = {}

    def vaern(self, *args, stdin=None):
        return run_vaern(["--data", self.dir, *args], stdin=stdin)

    def console(self, name="dpo1", lang="en"):
        """A browser logged in as name (one login per actor and class:
        a TOTP code is good once, RFC 6238 5.2)."""
        key = (name, lang)
        if key in self.browsers:
            self.browsers[key].lang = lang
            return self.browsers[key]
        for (n, _), b in self.browsers.items():
            if n == name:
                nb = Browser(self.server, lang)
                nb.jar = dict(b.jar)
                self.browsers[key] = nb
                return nb
        b = Browser(self.server, lang)
        page = b.get(BASE + "/login")
        self.assertEqual(page.status, 200, page)
        # A code of the next 30-second step: never one used before.
        for _ in range(3):
            t = int(time.time())
            r = b.post(BASE + "/login", {
                "name": name, "password": PASSWORD,
                "code": totp(self.secrets[name], t)}, page.csrf())
            if r.status == 303:
                break
            time.sleep(31 - t % 30)
            page = b.get(BASE + "/login")
        self.assertEqual(r.status, 303, r)
        self.browsers[key] = b
        return b

    def page(self, b, path, status=200):
        p = b.get(path)
        self.assertEqual(p.status, status, p)
        if status == 200:
            csp = p.header("Content-Security-Policy") or ""
            self.assertIn("script-src 'none'", csp)
            cells = parse(p)
            self.assertEqual(cells.scripts, 0)
            self.assertEqual(cells.styles, 0, "inline style")
        return p

    def cli_audit(self):
        r = self.vaern("audit", "show", "--controller", "cekura",
                       "--limit", "100000")
        self.assertEqual(r.rc, 0, r)
        entries = r.json()
        for e in entries:
            e["allowed"] = e.get("decision") == "allow"
        return entries

    def plan(self):
        r = self.vaern("--as-of", iso(int(time.time())), "retention",
                       "plan", "--format", "json")
        self.assertEqual(r.rc, 0, r)
        return r.json()


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Retention(ViewsCase):

    @classmethod
    def prepare(cls):
        super().prepare()
        cls.people = []
        for i in range(3):
            sid = cls.server_create(("cekura", "customer_service"),
                                    customer(serial()))
            cls.people.append(sid)
        cls.server_create(("cekura", "customer_service_manager"),
                          recorded(serial()))

    @classmethod
    def server_create(cls, who, doc):
        r = cls.server.request("POST", "/v1/subjects", body=doc,
                               token=cls.tokens[who])
        assert r.status == 201, r
        return r.json()["subject"]

    def test_CEK_RET_1_retention_view_matches_plan(self):
        """CEK-RET-1, CEK-RET-4: every bar and cell of the console's chart
        is what `vaern retention plan` deletes in that month; undated
        facts (call recordings wait for the subscription's end) called
        out; customer service reads the same counts."""
        for name in ("dpo1", "cs1"):
            page = self.page(self.console(name), BASE + "/retention")
            plan = self.plan()
            cells = parse(page)
            want_bars, want_cells = expected_chart(plan)
            self.assertEqual(cells.bars, want_bars)
            self.assertEqual({k: v for k, v in cells.cells.items()
                              if v and k[2] != "held"}, want_cells)
            self.assertTrue(want_bars, "no fact is due in the window")
            self.assertEqual(cells.callouts["undated"], plan["undated"])
            self.assertGreater(plan["undated"], 0)
            # The DPO sees the holds; customer service does not.
            self.assertEqual("/retention/hold" in page.text,
                             name == "dpo1")

    def test_CEK_HOLD_1_place_and_lift_from_the_view(self):
        """CEK-HOLD-1: the DPO places a hold on a person's category from
        the view (the review date the day after today: accepted; today:
        refused, nothing placed), it is listed with its review date,
        `vaern subject holds` shows it and the held facts are called out;
        lifting it from its row ends it. Both audited as dpo1 (dpo)."""
        b = self.console("dpo1")
        sid = self.people[0]
        page = self.page(b, BASE + "/retention")
        today = time.strftime("%Y-%m-%d", time.gmtime())
        tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time()
                                                          + 86400))
        r = b.post(BASE + "/retention/hold", {
            "subject": sid, "category": "phone",
            "reason": "tvist om faktura", "review": today}, page.csrf())
        self.assertEqual(r.status, 400, r)
        self.assertIn("review date must be in the future", r.text)
        self.assertEqual(self.holds(sid), [])
        r = b.post(BASE + "/retention/hold", {
            "subject": sid, "category": "phone",
            "reason": "tvist om faktura", "review": tomorrow}, page.csrf())
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.header("Location"),
                         BASE + "/retention?done=placed")
        holds = self.holds(sid)
        self.assertEqual(len(holds), 1, holds)
        hold = holds[0]
        self.assertEqual(hold["category"], "phone")
        self.assertIsNone(hold["lifted_at"])
        page = self.page(b, BASE + "/retention?done=placed")
        cells = parse(page)
        self.assertIn(hold["hold"], cells.holds)
        self.assertIn('data-review="%s"' % tomorrow, page.text)
        self.assertEqual(cells.callouts["held"], 1)
        self.assertNotIn("tvist om faktura", page.text)  # stays sealed
        r = b.post(BASE + "/retention/lift", {
            "subject": sid, "hold": str(hold["hold"])}, page.csrf())
        self.assertEqual(r.status, 303, r)
        self.assertIsNotNone(self.holds(sid)[0]["lifted_at"])
        self.assertNotIn(hold["hold"],
                         parse(self.page(b, BASE + "/retention")).holds)
        # Lifting it again: 404, nothing changes.
        r = b.post(BASE + "/retention/lift", {
            "subject": sid, "hold": str(hold["hold"])}, page.csrf())
        self.assertEqual(r.status, 404, r)
        acts = [(e["action"], e["actor"], e["role"]) for e in
                self.cli_audit() if e["subject"] == sid and
                e["action"] in ("hold_place", "hold_lift")]
        self.assertEqual(acts, [("hold_place", "dpo1", "dpo"),
                                ("hold_lift", "dpo1", "dpo")])
        for e in self.cli_audit():
            self.assertNotIn("tvist", json.dumps(e))

    def holds(self, sid):
        r = self.vaern("subject", "holds", "--controller", "cekura", sid)
        self.assertEqual(r.rc, 0, r)
        return r.json()["holds"]

    def test_CEK_HOLD_1_customer_service_cannot_hold(self):
        """CEK-HOLD-1, GDPR-32: a hold is the DPO's: customer service's
        POST is 403, audited denied, and places nothing; a POST without
        its CSRF token is refused (AURA-SEC-1)."""
        b = self.console("cs1")
        page = self.page(b, BASE + "/retention")
        sid = self.people[1]
        r = b.post(BASE + "/retention/hold", {
            "subject": sid, "reason": "x"}, page.csrf())
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.holds(sid), [])
        denied = [e for e in self.cli_audit() if e["actor"] == "cs1"
                  and not e["allowed"]]
        self.assertTrue(denied, "the refusal was not audited")
        d = self.console("dpo1")
        r = d.post(BASE + "/retention/hold", {
            "subject": sid, "reason": "x"}, "not-the-token")
        self.assertEqual(r.status, 403, r)
        r = d.post(BASE + "/retention/hold", {
            "subject": "zz", "reason": "x"}, self.page(
                d, BASE + "/retention").csrf())
        self.assertEqual(r.status, 400, r)
        self.assertIn("subject", r.text)
        self.assertEqual(self.holds(sid), [])


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Audit(ViewsCase):

    @classmethod
    def prepare(cls):
        super().prepare()
        cs = cls.tokens[("cekura", "customer_service")]
        doc = customer(serial())
        r = cls.server.request("POST", "/v1/subjects", body=doc, token=cs)
        assert r.status == 201, r
        cls.sid = r.json()["subject"]
        cls.email = doc["facts"][3]["value"]
        # A read allowed and one denied (a purpose customer service may
        # not use), both about the person.
        for purpose in ("customer_admin", "call_recording"):
            cls.server.request(
                "GET", "/v1/subjects/%s/facts?purpose=%s" % (cls.sid,
                                                             purpose),
                token=cs)

    def filtered(self, **want):
        out = []
        for e in self.cli_audit():
            if all(e.get(k) == v for k, v in want.items()):
                out.append(e["seq"])
        return out

    def entries(self, page):
        return parse(page).entries

    def assert_prefix(self, got, want):
        """The page is the trail's entries, but for the view's own entry
        (queued as the page was read: in it or not yet)."""
        self.assertEqual(got, want[:len(got)])
        self.assertGreaterEqual(len(got), min(50, len(want)) - 1)
        self.assertTrue(got)

    def test_GDPR_32_audit_filters_equal_the_cli(self):
        """GDPR-32: each filter alone and combined gives exactly the
        entries `vaern audit show` has with those fields; the view is
        audited naming its filters, never their values."""
        b = self.console("dpo1")
        self.page(b, BASE + "/audit")
        cases = [({"actor": "customer_service"},
                  {"actor": "customer_service"}),
                 ({"purpose": "call_recording"},
                  {"purpose": "call_recording"}),
                 ({"decision": "denied", "actor": "customer_service"},
                  {"allowed": False, "actor": "customer_service"}),
                 ({"decision": "allowed", "purpose": "customer_admin"},
                  {"allowed": True, "purpose": "customer_admin"})]
        for query, want in cases:
            page = self.page(b, BASE + "/audit?" + urllib.parse.urlencode(
                dict(query, after="0")))
            got = self.entries(page)
            expect = self.filtered(**want)[:50]
            self.assertEqual(got, expect, query)
            self.assertTrue(got, query)
        # Time: from is inclusive, to exclusive (both sides of a day).
        today = time.strftime("%Y-%m-%d", time.gmtime())
        tomorrow = time.strftime("%Y-%m-%d",
                                 time.gmtime(time.time() + 86400))
        got = self.entries(self.page(b, BASE + "/audit?actor=dpo1&to="
                                     + today))
        self.assertEqual(got, [])
        got = self.entries(self.page(b, BASE + "/audit?actor=dpo1&from="
                                     + today + "&to=" + tomorrow))
        self.assertTrue(got)
        views = [e for e in self.cli_audit()
                 if e["action"] == "console_audit_view"]
        self.assertTrue(views)
        self.assertEqual(views[-1]["actor"], "dpo1")
        self.assertIn("actor", views[-1]["reason"])
        self.assertNotIn("dpo1", views[-1]["reason"])

    def test_GDPR_32_audit_bad_filters(self):
        """GDPR-32: a bad filter is 400 naming its field, never echoing
        the value; the page of a good one is 200."""
        b = self.console("dpo1")
        for query, field in (("decision=maybe", "decision"),
                             ("from=2026-13-45", "from"),
                             ("to=yesterday", "to"),
                             ("from=2026-02-01&to=2026-01-01", "from"),
                             ("after=-1", "after"),
                             ("actor=a%20b", "actor")):
            r = b.get(BASE + "/audit?" + query)
            self.assertEqual(r.status, 400, (query, r))
            self.assertIn(field + ":", r.text)
            self.assertNotIn("2026-13-45", r.text)
        self.page(b, BASE + "/audit?decision=allowed&from=2026-01-01")

    def test_GDPR_32_audit_subject_by_post_only(self):
        """GDPR-32: one person's entries through the POST form (the id,
        or an identifier typed), equal to `vaern audit show --subject`;
        the id in the address is refused; pages carry it in POST forms."""
        b = self.console("dpo1")
        page = self.page(b, BASE + "/audit")
        r = b.get(BASE + "/audit?subject=" + self.sid)
        self.assertEqual(r.status, 400, r)
        r = b.post(BASE + "/audit", {"subject": self.sid}, page.csrf())
        self.assertEqual(r.status, 200, r)
        self.assert_prefix(self.entries(r), self.filtered(subject=self.sid))
        self.assertNotIn("subject=" + self.sid, r.text)
        r2 = b.post(BASE + "/audit", {"id_type": "email",
                                       "id_value": self.email},
                    page.csrf())
        self.assertEqual(r2.status, 200, r2)
        self.assert_prefix(self.entries(r2),
                           self.filtered(subject=self.sid))
        self.assertNotIn(self.email, r2.text)
        r3 = b.post(BASE + "/audit", {"id_type": "email",
                                       "id_value": "nobody@example.dk"},
                    page.csrf())
        self.assertEqual(r3.status, 404, r3)
        self.assertNotIn("nobody@example.dk", r3.text)
        last = [e for e in self.cli_audit()
                if e["action"] == "console_audit_view"][-1]
        self.assertNotIn("example.dk", json.dumps(last))

    def test_GDPR_32_audit_pages(self):
        """GDPR-32: a page of 50, and the next from its last entry; the
        two pages are the trail's first 100 entries of the controller."""
        b = self.console("dpo1")
        for _ in range(110):  # each view is an entry: over two pages
            self.page(b, BASE + "/audit?actor=nobody")
        page = self.page(b, BASE + "/audit")
        want = self.filtered()
        self.assertGreater(len(want), 100)
        first = self.entries(page)
        self.assertEqual(first, want[:50])
        m = re.search(r'id="next" rel="next" href="([^"]+)"', page.text)
        self.assertTrue(m, page)
        self.assertTrue(m.group(1).endswith("after=%d" % first[-1]))
        nxt = self.page(b, m.group(1).replace("&amp;", "&"))
        self.assertEqual(self.entries(nxt), want[50:100])
        # The last page has no next link.
        last = self.page(b, BASE + "/audit?after=%d" % want[-3])
        self.assertEqual(self.entries(last)[:2], want[-2:])
        self.assertNotIn('id="next"', last.text)

    def test_GDPR_32_chain_status(self):
        """GDPR-32: the page says the chain verifies, with as many entries
        as `vaern audit verify` finds."""
        b = self.console("dpo1")
        page = self.page(b, BASE + "/audit")
        m = re.search(r'id="chain" data-ok="1"', page.text)
        self.assertTrue(m, page.text[:2000])
        r = self.vaern("audit", "verify")
        self.assertEqual(r.rc, 0, r)
        n = int(re.search(r'data-entries="(\d+)"', page.text).group(1))
        self.assertLessEqual(n, r.json()["entries"])
        self.assertGreater(n, 0)

    def test_GDPR_32_csv_export(self):
        """GDPR-32: the CSV export holds the filter's entries, as the
        page; a cell beginning with = + - @ is defused with '."""
        b = self.console("dpo1")
        r = b.get(BASE + "/audit/export?actor=customer_service")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/csv"))
        rows = list(csv.DictReader(io.StringIO(r.text)))
        self.assertEqual([int(x["seq"]) for x in rows],
                         self.filtered(actor="customer_service"))
        for x in rows:
            for v in x.values():
                self.assertFalse(v[:1] in ("=", "+", "-", "@"), x)
        page = self.page(b, BASE + "/audit")
        want = self.filtered(subject=self.sid)
        r = b.post(BASE + "/audit/export", {"subject": self.sid},
                   page.csrf())
        self.assertEqual(r.status, 200, r)
        rows = list(csv.DictReader(io.StringIO(r.text)))
        # The export's own entry (the person's id in it) comes after.
        self.assertEqual([int(x["seq"]) for x in rows], want)
        self.assertEqual(self.filtered(subject=self.sid)[-1],
                         max(e["seq"] for e in self.cli_audit()
                             if e["action"] == "console_audit_export"))
        exports = [e for e in self.cli_audit()
                   if e["action"] == "console_audit_export"]
        self.assertEqual(len(exports), 2)

    def test_GDPR_32_customer_service_gets_403(self):
        """GDPR-32: the audit view, the incidents and the policies are the
        DPO's: customer service gets 403, each refusal audited."""
        b = self.console("cs1")
        before = len([e for e in self.cli_audit() if e["actor"] == "cs1"
                      and not e["allowed"]])
        for path in ("/audit", "/audit/export", "/incidents",
                     "/policies"):
            r = b.get(BASE + path)
            self.assertEqual(r.status, 403, (path, r))
        after = len([e for e in self.cli_audit() if e["actor"] == "cs1"
                     and not e["allowed"]])
        self.assertEqual(after, before + 4)


CHECKPOINTS = tempfile.mkdtemp(prefix="vaern-ckpt-")
atexit.register(shutil.rmtree, CHECKPOINTS, True)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Checkpoints(ViewsCase):
    """GDPR-32: with `serve --checkpoints DIR` the audit view checks the
    trail against every signed checkpoint and shows the newest."""
    serve_extra = ("--checkpoints", CHECKPOINTS)

    def checkpoint_line(self, b):
        page = self.page(b, BASE + "/audit")
        m = re.search(r'<p id="checkpoint">(.*?)</p>', page.text, re.S)
        self.assertTrue(m, page.text[:3000])
        return page, m.group(1)

    def test_GDPR_32_latest_checkpoint(self):
        b = self.console("dpo1")
        # None written yet: none shown, the chain still verifies.
        page, line = self.checkpoint_line(b)
        self.assertNotIn("data-checkpoint-seq", line)
        self.assertIn('data-ok="1"', page.text)
        key = os.path.join(self.tmp, "ckpt.key")
        seqs = []
        for _ in range(2):
            self.page(b, BASE + "/audit")  # one more entry
            r = self.vaern("audit", "checkpoint", "--key", key, "--dir",
                           CHECKPOINTS)
            self.assertEqual(r.rc, 0, r)
            seqs.append(r.json()["seq"])
        page, line = self.checkpoint_line(b)
        self.assertIn('data-checkpoint-seq="%d"' % max(seqs), line)
        self.assertIn('data-ok="1"', page.text)
        # A checkpoint changed on disk: its signature fails, named.
        name = sorted(f for f in os.listdir(CHECKPOINTS)
                      if f.startswith("ckpt-"))[0]
        path = os.path.join(CHECKPOINTS, name)
        with open(path) as fh:
            doc = json.load(fh)
        doc["seq"] = doc["seq"] + 1
        os.chmod(path, 0o644)
        with open(path, "w") as fh:
            json.dump(doc, fh)
        page, line = self.checkpoint_line(b)
        self.assertNotIn("data-checkpoint-seq", line)
        self.assertIn(name, line)
        self.assertIn("does not verify", line)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Incidents(ViewsCase):

    def report(self):
        r = self.vaern("incidents", "report", "--json", "-", stdin=json.dumps(
            {"description": "Jeg kunne se en anden kundes faktura",
             "contact": {"email": "reporter%d@example.dk" % serial()}})
            .encode())
        self.assertEqual(r.rc, 0, r)
        return r.json()["case"]

    def show(self, case):
        r = self.vaern("incidents", "show", case)
        self.assertEqual(r.rc, 0, r)
        return r.json()

    def register(self, b, case, **fields):
        page = self.page(b, BASE + "/incidents/" + case)
        r = b.post(BASE + "/incidents/%s/register" % case, fields,
                   page.csrf())
        return r

    def test_SHOP_BREACH_2_cases_and_deadlines(self):
        """SHOP-BREACH-2: a case is listed with its receipt and feedback
        due; the receipt recorded from the case page shows as sent, as in
        `vaern incidents show`."""
        case = self.report()
        b = self.console("dpo1")
        cells = parse(self.page(b, BASE + "/incidents"))
        self.assertIn(case, cells.cases)
        shown = self.show(case)
        self.assertEqual(cells.cases[case]["receipt"],
                         "sent" if shown["receipt_at"] else "due")
        self.assertEqual(cells.cases[case]["clock"][0], "none")
        if not shown["receipt_at"]:
            page = self.page(b, BASE + "/incidents/" + case)
            r = b.post(BASE + "/incidents/%s/receipt" % case, {},
                       page.csrf())
            self.assertEqual(r.status, 303, r)
            self.assertTrue(self.show(case)["receipt_at"])
        cells = parse(self.page(b, BASE + "/incidents"))
        self.assertEqual(cells.cases[case]["receipt"], "sent")
        page = self.page(b, BASE + "/incidents/" + case)
        r = b.post(BASE + "/incidents/%s/feedback" % case,
                   {"text": "Rettet; tak for indberetningen",
                    "closed": "1"}, page.csrf())
        self.assertEqual(r.status, 303, r)
        shown = self.show(case)
        self.assertTrue(shown["closed"])
        self.assertEqual(parse(self.page(b, BASE + "/incidents"))
                         .cases[case]["feedback"], "sent")

    def test_GDPR_33_register_form_and_clock(self):
        """GDPR-33: the register's fields saved from the form are the
        case's (`vaern incidents show`); the 72-hour clock runs from
        awareness: 71 hours ago leaves 1 hour (amber), 73 hours ago is 1
        hour late (red); bad input changes nothing."""
        case = self.report()
        b = self.console("dpo1")
        now = int(time.time())
        r = self.register(b, case, classification="personal_data_breach",
                          aware_at=iso(now - 71 * 3600), nature_c="1",
                          categories="email, name", subjects_approx="12",
                          risk="high")
        self.assertEqual(r.status, 303, r)
        reg = self.show(case)["register"]
        self.assertEqual(reg["nature"], ["confidentiality"])
        self.assertEqual(reg["categories"], ["email", "name"])
        self.assertEqual(reg["subjects_approx"], 12)
        self.assertEqual(reg["risk"], "high")
        clock = parse(self.page(b, BASE + "/incidents")).cases[case]["clock"]
        self.assertIn(clock[0], ("0", "1"))
        self.assertEqual(clock[1], "clock-soon")
        r = self.register(b, case, classification="personal_data_breach",
                          aware_at=iso(now - 73 * 3600))
        self.assertEqual(r.status, 303, r)
        clock = parse(self.page(b, BASE + "/incidents")).cases[case]["clock"]
        self.assertIn(clock[0], ("-1", "-2"))
        self.assertEqual(clock[1], "clock-late")
        before = self.show(case)["register"]
        # AURA-SEC-1: without the form's token, refused; nothing changes.
        r = b.post(BASE + "/incidents/%s/register" % case,
                   {"classification": "weakness"}, "not-the-token")
        self.assertEqual(r.status, 403, r)
        r = self.register(b, case, classification="personal_data_breach",
                          aware_at=iso(now - 73 * 3600),
                          subjects_approx="twelve")
        self.assertEqual(r.status, 400, r)
        self.assertIn("subjects_approx", r.text)
        r = self.register(b, case, classification="personal_data_breach",
                          aware_at=iso(now - 73 * 3600), notify="yes")
        self.assertEqual(r.status, 400, r)
        self.assertIn("notify_reason", r.text)
        self.assertEqual(self.show(case)["register"], before)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Policies(ViewsCase):

    def test_policies_versions_preview_and_diff(self):
        """Issue 20 point 6 (AURA-VER-1): the loaded versions are `vaern
        policy history`'s; the notice preview in da, sv, en is the
        public notice's; the diff is `vaern policy diff`'s."""
        with open(CEKURA, encoding="utf-8") as fh:
            text = fh.read()
        changed = os.path.join(self.tmp, "cekura2.yaml")
        with open(changed, "w", encoding="utf-8") as fh:
            fh.write(text.replace("policy_version: 2018-05-25",
                                  "policy_version: 2026-12-01", 1))
        r = self.vaern("policy", "load", changed)
        self.assertEqual(r.rc, 0, r)
        r = self.vaern("policy", "history", "cekura")
        self.assertEqual(r.rc, 0, r)
        versions = [v["version"] for v in r.json()["versions"]]
        self.assertGreaterEqual(len(versions), 2)
        b = self.console("dpo1", "da")
        # The server reloads the policy within a moment.
        for _ in range(50):
            page = self.page(b, BASE + "/policies")
            got = re.findall(r'data-version="([0-9a-f]+)"', page.text)
            if got == versions:
                break
            time.sleep(0.2)
        self.assertEqual(got, versions)
        a, z = versions[-2], versions[-1]
        page = self.page(b, BASE + "/policies?from=%s&to=%s" % (a, z))
        r = self.vaern("policy", "diff", "cekura@" + a, "cekura@" + z,
                       "--lang", "da")
        self.assertEqual(r.rc, 0, r)
        m = re.search(r'<pre class="diff" id="diff">(.*?)</pre>', page.text,
                      re.S)
        self.assertTrue(m, page.text[-2000:])
        import html as h
        self.assertEqual(h.unescape(m.group(1)).strip(), r.out.strip())
        for lang in ("da", "sv", "en"):
            p = b.get(BASE + "/policies/notice?version=%s&lang=%s"
                      % (z, lang))
            self.assertEqual(p.status, 200, p)
            self.assertIn("2026", p.text)
            for _ in range(50):  # the server's reload of version z
                pub = self.server.request("GET",
                                          "/privacy/cekura?lang=" + lang)
                if pub.text == p.text:
                    break
                time.sleep(0.2)
            self.assertEqual(p.text, pub.text)
            csp = p.header("Content-Security-Policy") or ""
            self.assertIn("default-src 'none'", csp)  # no script at all
            self.assertNotIn("unsafe-inline", csp)


if __name__ == "__main__":
    unittest.main()
