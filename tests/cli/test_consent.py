#!/usr/bin/env python3
"""Black-box tests of the consent ledger, unsubscribe links and cookie
choices: the real `vaern serve` on a loopback port, and the CLI.

Every server runs on a fixed clock (`vaern --as-of DATE serve`), so the
dates of the ledger are concrete; a test restarts the server on another
date to move time on. The database behind vaern (DIR/vaern.db) and the
audit trail (DIR/audit.db) are read with sqlite3 to prove that a refused
request changed nothing and that no personal data reached the trail.

Clauses proved, each named in the test that proves it:
  GDPR-7         consent with time, source and the text shown (kept once
                 by its SHA-256); withdrawal as easy as giving, appended,
                 not retroactive; the history read back
  TEL-MKT-2      the gate records the last use; a consent is kept while
                 valid and until 2 years after its end and last use
  SHOP-MKT-1     a newsletter lasts until unsubscribed; every subscriber
                 can unsubscribe by a link, without logging in (RFC 8058)
  AOPT-MKT-1     newsletter consent can be withdrawn at any time, by any
                 channel
  AURA-COOKIE-1  visit statistics (IP address) only after the visitor
                 accepts statistics cookies
  AOPT-COOKIE-1  session cookies are not refusable (refusing them means
                 no ordering); persistent ones are off until chosen
  SHOP-MKT-2     marketing pixels only with the marketing choice; Sec-GPC
                 refuses marketing; a pixel is stored until its rule's date
                 and goes at once when marketing is refused
  AURA-RET-1     visits are stored encrypted (the address is nowhere in
                 the database file) and swept exactly 24 calendar months
                 after collection (29 February -> 28 February); a
                 withdrawn statistics choice deletes them at once; the
                 DPO, and only the DPO, reads a visitor's stored visits
  TEL-MKT-1      withdrawing marketing consent leaves service messages
"""
import hashlib
import http.client
import json
import os
import select
import signal
import sqlite3

import dbpeek
import subprocess
import tempfile
import time
import unittest
import urllib.parse

VAERN = os.environ.get("VAERN_BIN")
ROOT = os.environ.get("VAERN_SOURCE_ROOT",
                      os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   "..", ".."))
POL = os.path.join(ROOT, "policies")
CLI_TIMEOUT = 30
START_TIMEOUT = 10
HTTP_TIMEOUT = 15
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}
LEDGER = ("consent", "consent_text", "consent_state", "unsubscribe",
          "visitor_choice", "visit", "visit_key")
# The day keys of visits are in the keystore (issue 13).
LEDGER_TABLE = {"visit_key": "ks.day_key"}


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)

    def __repr__(self):
        return "HTTP %d %r" % (self.status, self.text[:600])


class Server:
    """One `vaern --as-of DATE serve` on a free loopback port."""

    def __init__(self, data_dir, log_path, as_of, extra=()):
        self.data_dir = data_dir
        self.log_path = log_path
        self.as_of = as_of
        self.extra = list(extra)
        self.proc = None
        self.port = None

    def start(self):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [VAERN, "--data", self.data_dir, "--as-of", self.as_of, "serve",
             "--listen", "127.0.0.1:0", *self.extra],
            stdout=subprocess.PIPE, stderr=self._log, env=BASE_ENV)
        line = b""
        deadline = time.monotonic() + START_TIMEOUT
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise AssertionError("vaern serve printed no ready line")
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if not r:
                continue
            b = os.read(self.proc.stdout.fileno(), 1)
            if not b:
                raise AssertionError("vaern serve exited before ready")
            line += b
        self.port = int(json.loads(line)["port"])
        return self

    def request(self, method, path, body=None, token=None, headers=None,
                content_type="application/json"):
        h = {}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode("utf-8")
        if body is not None and content_type is not None:
            h["Content-Type"] = content_type
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=HTTP_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return Response(r.status, {k.lower(): v for k, v in
                                       r.getheaders()}, r.read())
        finally:
            conn.close()

    def stop(self):
        """SIGTERM; returns the log if the server did not exit cleanly."""
        if self.proc is None:
            return None
        problem = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                rc = "killed"
        else:
            rc = self.proc.returncode
        self.proc.stdout.close()
        self._log.close()
        with open(self.log_path, "rb") as f:
            log = f.read().decode("utf-8", "replace")
        if rc != 0 or "Sanitizer" in log or "runtime error" in log:
            problem = "vaern serve exited %r: %s" % (rc, log[-3000:])
        self.proc = None
        return problem


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class ConsentCase(unittest.TestCase):
    """A data directory with `policies` loaded and an actor per role of
    `roles`; self.serve(DATE) starts (or moves) the server."""

    policies = ()
    roles = ()  # (controller, role)

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-consent-")
        self.addCleanup(self._tmp.cleanup)
        self.tmp = self._tmp.name
        self.dir = os.path.join(self.tmp, "data")
        args = ["init"]
        for p in self.policies:
            args += ["--policy", p]
        r = self.cli(*args)
        self.assertEqual(r.returncode, 0, r)
        self.tokens = {}
        for controller, role in self.roles:
            r = self.cli("actor", "add", "--controller", controller,
                         "--name", role, "--role", role)
            self.assertEqual(r.returncode, 0, r)
            self.tokens[role] = json.loads(r.stdout)["token"]
        self.server = None
        self.addCleanup(self.stop)

    def cli(self, *args, stdin=None, as_of=None):
        pre = ["--data", self.dir]
        if as_of is not None:
            pre += ["--as-of", as_of]
        return subprocess.run([VAERN, *pre, *args], input=stdin,
                              capture_output=True, env=BASE_ENV,
                              timeout=CLI_TIMEOUT)

    def serve(self, as_of, *extra):
        self.stop()
        self.server = Server(self.dir, os.path.join(self.tmp, "serve.log"),
                             as_of, extra).start()

    def stop(self):
        if self.server is not None:
            problem = self.server.stop()
            self.server = None
            if problem:
                raise AssertionError(problem)

    def call(self, method, path, body=None, who=None, **kw):
        token = self.tokens[who] if who is not None else None
        return self.server.request(method, path, body, token, **kw)

    def create(self, who, doc):
        r = self.call("POST", "/v1/subjects", doc, who)
        self.assertEqual(r.status, 201, r)
        return r.json()["subject"]

    def give(self, who, sid, purpose, source, status=201, **extra):
        body = {"purpose": purpose, "source": source}
        body.update(extra)
        r = self.call("POST", "/v1/subjects/%s/consents" % sid, body, who)
        self.assertEqual(r.status, status, r)
        return r.json()

    def withdraw(self, who, sid, purpose, source=None, status=200):
        path = "/v1/subjects/%s/consents/%s" % (sid, purpose)
        if source is not None:
            path += "?source=" + source
        r = self.call("DELETE", path, None, who)
        self.assertEqual(r.status, status, r)
        return r.json()

    def history(self, who, sid):
        r = self.call("GET", "/v1/subjects/%s/consents" % sid, None, who)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def read(self, who, sid, purpose):
        return self.call("GET", "/v1/subjects/%s/facts?purpose=%s"
                         % (sid, purpose), None, who)

    def assertError(self, r, status, code=None, mentions=None, secrets=()):
        self.assertEqual(r.status, status, r)
        err = r.json()["error"]
        if code is not None:
            self.assertEqual(err["code"], code, r)
        if mentions is not None:
            self.assertIn(mentions, err["message"], r)
        for s in secrets:
            self.assertNotIn(s, r.text, r)
        return err

    def counts(self):
        con = dbpeek.connect("file:%s?mode=ro" % os.path.join(
            self.dir, "vaern.db"), uri=True, timeout=10)
        try:
            con.execute("ATTACH ? AS ks", ("file:%s?mode=ro" % os.path.join(
                self.dir, "keystore.db"),))
            return {t: con.execute("SELECT count(*) FROM %s"
                                   % LEDGER_TABLE.get(t, t))
                    .fetchone()[0] for t in LEDGER}
        finally:
            con.close()

    def sql(self, query, args=()):
        con = dbpeek.connect("file:%s?mode=ro" % os.path.join(
            self.dir, "vaern.db"), uri=True, timeout=10)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def audit(self):
        con = dbpeek.connect("file:%s?mode=ro" % os.path.join(
            self.dir, "audit.db"), uri=True, timeout=10)
        con.row_factory = sqlite3.Row
        try:
            tables = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
            rows = []
            for t in tables:
                rows += [dict(r) for r in con.execute("SELECT * FROM %s" % t)]
            return rows
        finally:
            con.close()

    def audit_file_bytes(self):
        return dbpeek.store_bytes(os.path.join(self.dir, "audit.db"))

    def vault_file_bytes(self):
        return dbpeek.store_bytes(os.path.join(self.dir, "vaern.db"))

    def audit_actions(self):
        r = self.cli("audit", "show", "--limit", "10000")
        self.assertEqual(r.returncode, 0, r)
        doc = json.loads(r.stdout)
        return doc if isinstance(doc, list) else doc.get("entries", doc)


def telenor_customer(email):
    return {"purpose": "contract", "source": "web_form", "facts": [
        {"category": "name", "value": "Ole Jensen"},
        {"category": "email", "value": email},
        {"category": "phone", "value": "+45 40 41 42 43"},
        {"category": "contract_type", "value": "mobil abonnement"}]}


# ---- the ledger (GDPR-7, TEL-MKT-2, TEL-MKT-1) ----------------------------

class TelenorLedgerTest(ConsentCase):
    policies = (os.path.join(POL, "telenor.yaml"),)
    roles = (("telenor", "customer_service"), ("telenor", "marketing"),
             ("telenor", "dpo"))

    def test_GDPR_7_consent_with_source_and_text_history_append_only(self):
        self.serve("2024-01-10")
        sid = self.create("customer_service",
                          telenor_customer("ole.7@example.dk"))
        text = "Ja tak, Telenor må sende mig tilbud på sms og e-mail (v2)."
        g = self.give("marketing", sid, "marketing", "phone", text=text)
        self.assertEqual(g["consent"], "given")
        self.assertEqual(g["source"], "phone")
        self.assertEqual(g["at"], "2024-01-10T00:00:00Z")
        self.assertEqual(g["text_hash"], sha256(text))
        # The text is kept once, under its hash.
        r = self.call("GET", "/v1/consent-texts/" + sha256(text), None,
                      "marketing")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["text"], text)
        # Given again by hash: the text is not stored twice.
        self.serve("2024-02-01")
        g2 = self.give("marketing", sid, "marketing", "web_form",
                       text_hash=sha256(text))
        self.assertEqual(g2["text_hash"], sha256(text))
        self.assertEqual(self.sql("SELECT count(*) FROM consent_text "
                                  "WHERE hash = ?",
                                  (bytes.fromhex(sha256(text)),))[0][0], 1)
        before = self.history("marketing", sid)["consents"]
        self.serve("2024-03-15")
        w = self.withdraw("marketing", sid, "marketing", source="phone")
        self.assertEqual(w["consent"], "withdrawn")
        self.assertEqual(w["at"], "2024-03-15T00:00:00Z")
        h = self.history("marketing", sid)
        rows = h["consents"]
        self.assertEqual(len(rows), 3, rows)
        # Append-only: the earlier rows are exactly as they were.
        self.assertEqual(rows[:2], before)
        self.assertEqual([(x["event"], x["source"], x["at"]) for x in rows],
                         [("given", "phone", "2024-01-10T00:00:00Z"),
                          ("given", "web_form", "2024-02-01T00:00:00Z"),
                          ("withdrawn", "phone", "2024-03-15T00:00:00Z")])
        self.assertEqual(rows[0]["text_hash"], sha256(text))
        self.assertIsNone(rows[2]["text_hash"])
        self.assertFalse(h["purposes"]["marketing"]["in_force"])
        # Withdrawing again: nothing in force, nothing written.
        before = self.counts()
        r = self.call("DELETE", "/v1/subjects/%s/consents/marketing" % sid,
                      None, "marketing")
        self.assertError(r, 409, "conflict", mentions="in force")
        self.assertEqual(self.counts(), before)
        # The CLI reads the same ledger.
        self.stop()
        r = self.cli("subject", "consents", "--controller", "telenor", sid)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(json.loads(r.stdout)["consents"], rows)
        # Audited, with ids and the hash only: no text, no person.
        trail = self.audit_file_bytes()
        for secret in (text.encode(), b"Ole Jensen", b"ole.7@example.dk"):
            self.assertNotIn(secret, trail)
        acts = [e for e in self.audit_actions()
                if e.get("action") in ("consent_give", "consent_withdraw")]
        self.assertEqual([e["action"] for e in acts],
                         ["consent_give", "consent_give", "consent_withdraw"])
        self.assertTrue(all(e["rule"] == "GDPR-7" for e in acts), acts)
        self.assertIn(sha256(text)[:16], acts[0]["reason"])

    def test_GDPR_7_bad_input_is_refused_and_changes_nothing(self):
        self.serve("2024-05-01")
        sid = self.create("customer_service",
                          telenor_customer("ole.bad@example.dk"))
        self.give("marketing", sid, "marketing", "web_form")
        before = self.counts()
        path = "/v1/subjects/%s/consents" % sid
        cases = [
            ({"purpose": "no_such", "source": "web_form"}, "no_such"),
            ({"purpose": "consent_documentation", "source": "web_form"},
             "does not rest on consent"),
            ({"purpose": "marketing", "source": "carrier_pigeon"},
             "carrier_pigeon"),
            ({"purpose": "marketing", "source": "web_form",
              "text_hash": "xyz"}, "text_hash"),
            ({"purpose": "marketing", "source": "web_form",
              "text_hash": "ab" * 32}, "no consent text with this hash"),
            ({"purpose": "marketing", "source": "web_form", "text": "A",
              "text_hash": sha256("B")}, "not the SHA-256"),
            ({"purpose": "marketing", "source": "web_form", "text": ""},
             "'text'"),
            ({"purpose": "marketing", "source": "web_form",
              "given_at": "2030-01-01"}, "future"),
            ({"purpose": "marketing", "source": "web_form",
              "given_at": "2020-01-01"}, "not retroactive"),
            ({"purpose": "marketing", "source": "web_form",
              "given_at": "yesterday"}, "time"),
            ({"purpose": "marketing", "source": "web_form",
              "colour": "red"}, "colour"),
        ]
        for body, mention in cases:
            r = self.call("POST", path, body, "marketing")
            self.assertError(r, 400, "invalid", mentions=mention)
        r = self.call("GET", "/v1/consent-texts/nothex", None, "marketing")
        self.assertError(r, 400, "invalid", mentions="64 hex")
        r = self.call("GET", "/v1/consent-texts/" + "cd" * 32, None,
                      "marketing")
        self.assertError(r, 404)
        r = self.call("GET", "/v1/consent-texts/" + "cd" * 32)
        self.assertError(r, 401)
        r = self.call("DELETE", path + "/no_such", None, "marketing")
        self.assertError(r, 400, "invalid", mentions="no_such")
        self.assertEqual(self.counts(), before)

    def test_TEL_MKT_2_consent_kept_two_years_after_last_use(self):
        self.serve("2023-01-05")
        sid = self.create("customer_service",
                          telenor_customer("ole.mkt2@example.dk"))
        self.give("marketing", sid, "marketing", "web_form")
        self.assertIsNone(
            self.history("marketing", sid)["purposes"]["marketing"]
            ["last_used"])
        # The gate records the use when it releases data under the
        # consent.
        self.serve("2023-03-01T09:00:00Z")
        self.assertEqual(self.read("marketing", sid, "marketing").status, 200)
        st = self.history("marketing", sid)["purposes"]["marketing"]
        self.assertEqual(st["last_used"], "2023-03-01T09:00:00Z")
        self.assertIsNone(st["kept_until"])  # while valid: kept
        # Once a day: a later read that day writes nothing.
        self.serve("2023-03-01T17:30:00Z")
        self.assertEqual(self.read("marketing", sid, "marketing").status, 200)
        self.assertEqual(self.history("marketing", sid)["purposes"]
                         ["marketing"]["last_used"], "2023-03-01T09:00:00Z")
        # A read under a purpose that does not rest on consent is no use.
        self.serve("2023-04-02")
        self.assertEqual(self.read("customer_service", sid,
                                   "service_messages").status, 200)
        self.serve("2023-04-03")
        self.assertEqual(self.read("marketing", sid, "marketing").status, 200)
        self.assertEqual(self.history("marketing", sid)["purposes"]
                         ["marketing"]["last_used"], "2023-04-03T00:00:00Z")
        self.stop()
        # While valid, the ledger is never due.
        r = self.cli("retention", "sweep", as_of="2031-01-01")
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(json.loads(r.stdout)["consents_expired"], 0)
        self.assertEqual(self.counts()["consent"], 1)
        # Withdrawn: kept 2 years from the later of the end and last use.
        self.serve("2023-06-10")
        w = self.withdraw("marketing", sid, "marketing")
        self.assertEqual(w["kept_until"], "2025-06-10T00:00:00Z")
        st = self.history("marketing", sid)["purposes"]["marketing"]
        self.assertEqual(st["kept_until"], "2025-06-10T00:00:00Z")
        self.assertEqual(st["last_used"], "2023-04-03T00:00:00Z")
        self.stop()
        r = self.cli("retention", "sweep", as_of="2025-06-09")
        self.assertEqual(json.loads(r.stdout)["consents_expired"], 0, r)
        self.assertEqual(self.counts()["consent"], 2)
        r = self.cli("retention", "sweep", as_of="2025-06-10")
        self.assertEqual(json.loads(r.stdout)["consents_expired"], 1, r)
        c = self.counts()
        self.assertEqual((c["consent"], c["consent_state"]), (0, 0), c)
        # The person's other data is not touched by it.
        r = self.cli("subject", "show", "--controller", "telenor", sid)
        self.assertEqual(r.returncode, 0, r)

    def test_TEL_MKT_2_consent_in_force_keeps_its_subject_through_a_sweep(
            self):
        # A customer who consents to marketing, then leaves: the customer
        # data goes the day after the relationship ends (TEL-RET-1,
        # anonymised), but the consent is still in force, so its ledger
        # is kept as documentation -- and the subject with it.
        self.serve("2024-01-10")
        sid = self.create("customer_service",
                          telenor_customer("ole.keep@example.dk"))
        self.give("marketing", sid, "marketing", "web_form")
        for kind, at in (("relationship_start", "2024-01-10"),
                         ("relationship_end", "2024-06-30")):
            self.serve(at)
            r = self.call("POST", "/v1/subjects/%s/events" % sid,
                          {"kind": kind, "at": at}, "customer_service")
            self.assertEqual(r.status, 201, r)
        self.stop()
        r = self.cli("retention", "sweep", as_of="2024-07-01")
        self.assertEqual(r.returncode, 0, r)
        rep = json.loads(r.stdout)
        self.assertEqual(rep["facts_anonymised"], 4, rep)
        self.assertEqual(rep["subjects_shredded"], 0, rep)
        self.assertEqual(self.sql("SELECT count(*) FROM fact")[0][0], 0)
        self.assertEqual(self.sql("SELECT count(*) FROM subject")[0][0], 1)
        r = self.cli("subject", "consents", "--controller", "telenor", sid,
                     as_of="2024-07-01")
        self.assertEqual(r.returncode, 0, r)
        led = json.loads(r.stdout)
        self.assertEqual([x["event"] for x in led["consents"]], ["given"])
        self.assertTrue(led["purposes"]["marketing"]["in_force"])
        # Unused for more than 2 years, still in force: kept (the clause
        # keeps it "while valid"; vaern does not end a consent the person
        # has not withdrawn).
        r = self.cli("retention", "sweep", as_of="2026-09-01")
        self.assertEqual(json.loads(r.stdout)["subjects_shredded"], 0, r)
        self.assertEqual(self.counts()["consent"], 1)
        # Withdrawn: 2 years from the withdrawal (never used), then the
        # ledger goes and with it the last of the subject.
        self.serve("2026-09-01")
        w = self.withdraw("marketing", sid, "marketing")
        self.assertEqual(w["kept_until"], "2028-09-01T00:00:00Z")
        self.stop()
        r = self.cli("retention", "sweep", as_of="2028-08-31")
        rep = json.loads(r.stdout)
        self.assertEqual((rep["consents_expired"], rep["subjects_shredded"]),
                         (0, 0), rep)
        self.assertEqual(self.sql("SELECT count(*) FROM subject")[0][0], 1)
        r = self.cli("retention", "sweep", as_of="2028-09-01")
        rep = json.loads(r.stdout)
        self.assertEqual((rep["consents_expired"], rep["subjects_shredded"]),
                         (1, 1), rep)
        self.assertEqual(self.sql("SELECT count(*) FROM subject")[0][0], 0)
        self.assertEqual(self.counts()["consent"], 0)

    def test_TEL_MKT_1_withdrawn_marketing_leaves_service_messages(self):
        self.serve("2024-09-01")
        sid = self.create("customer_service",
                          telenor_customer("ole.tel1@example.dk"))
        self.give("marketing", sid, "marketing", "web_form")
        self.assertEqual(self.read("marketing", sid, "marketing").status, 200)
        self.withdraw("marketing", sid, "marketing")
        r = self.read("marketing", sid, "marketing")
        self.assertError(r, 403, "forbidden", mentions="GDPR-7")
        r = self.read("customer_service", sid, "service_messages")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sorted({f["category"] for f in r.json()["facts"]}),
                         ["contract_type", "email", "name", "phone"])
        # An objection on top stops marketing, still not service.
        r = self.call("PUT", "/v1/subjects/%s/objection" % sid, None,
                      "customer_service")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.read("customer_service", sid,
                                   "service_messages").status, 200)
        # A disclosure to a marketing partner is refused too.
        r = self.call("POST", "/v1/subjects/%s/disclosures" % sid,
                      {"recipient": "marketing_partners",
                       "purpose": "marketing", "categories": ["name"]},
                      "marketing")
        self.assertEqual(r.status, 403, r)


# ---- newsletters (SHOP-MKT-1, AOPT-MKT-1) ---------------------------------

class WebshopNewsletterTest(ConsentCase):
    policies = (os.path.join(POL, "webshop.yaml"),)
    roles = (("webshop", "customer_service"), ("webshop", "marketing"))

    def subscriber(self):
        sid = self.create("customer_service", {
            "purpose": "contact_requests", "source": "web_form",
            "facts": [{"category": "contact_name", "value": "Mette Holm"},
                      {"category": "contact_email",
                       "value": "mette@example.dk"}]})
        g = self.give("marketing", sid, "newsletter", "web_form")
        return sid, g["unsubscribe_token"]

    def test_SHOP_MKT_1_unsubscribe_link_without_login(self):
        self.serve("2024-02-01")
        sid, token = self.subscriber()
        self.assertRegex(token, r"^[A-Za-z0-9_-]{43}$")
        # Only the token's hash is kept.
        self.assertNotIn(token.encode(), self.vault_file_bytes())
        self.assertEqual(self.counts()["unsubscribe"], 1)
        # The subscription lasts until unsubscribed: years later, still on.
        self.serve("2027-02-01")
        self.assertEqual(self.read("marketing", sid, "newsletter").status, 200)
        before = self.counts()
        # GET shows what a POST would do, without a bearer token, and
        # changes nothing.
        r = self.call("GET", "/v1/unsubscribe/" + token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"controller": "webshop",
                                    "purpose": "newsletter",
                                    "subscribed": True,
                                    "unsubscribed": False})
        r = self.call("GET", "/v1/unsubscribe/" + token,
                      headers={"Accept": "text/html"})
        self.assertEqual(r.status, 200, r)
        self.assertIn("text/html", r.headers["content-type"])
        self.assertIn("List-Unsubscribe", r.text)
        self.assertNotIn("Mette", r.text)
        self.assertEqual(self.counts(), before)
        # A body that is not the one-click form: refused, nothing changes.
        r = self.call("POST", "/v1/unsubscribe/" + token, b"please",
                      content_type="text/plain")
        self.assertError(r, 400, "invalid", mentions="One-Click")
        self.assertEqual(self.counts(), before)
        # RFC 8058 one click.
        r = self.call("POST", "/v1/unsubscribe/" + token,
                      b"List-Unsubscribe=One-Click",
                      content_type="application/x-www-form-urlencoded")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["unsubscribed"], True)
        self.assertEqual(r.json()["subscribed"], False)
        r = self.read("marketing", sid, "newsletter")
        self.assertError(r, 403, mentions="GDPR-7")
        rows = self.history("marketing", sid)["consents"]
        self.assertEqual([(x["event"], x["source"]) for x in rows],
                         [("given", "web_form"),
                          ("withdrawn", "unsubscribe_link")])
        # A second click changes nothing.
        before = self.counts()
        r = self.call("POST", "/v1/unsubscribe/" + token, None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["unsubscribed"], False)
        self.assertEqual(self.counts(), before)
        # Audited as the person's own act, with no token in the trail.
        self.stop()
        acts = [e for e in self.audit_actions()
                if e.get("action") == "consent_withdraw"]
        self.assertEqual(len(acts), 1, acts)
        self.assertEqual(acts[0]["actor"], "unsubscribe_link")
        self.assertEqual(acts[0]["rule"], "SHOP-MKT-1")
        self.assertNotIn(token.encode(), self.audit_file_bytes())

    def test_SHOP_MKT_1_every_subscriber_gets_a_link_at_sign_up(self):
        """A subscriber created with the newsletter consent in the same
        request gets the link in the create answer, once."""
        self.serve("2024-03-01")
        r = self.call("POST", "/v1/subjects", {
            "purpose": "newsletter", "source": "web_form",
            "facts": [{"category": "newsletter_email",
                       "value": "lars@example.dk"}],
            "consents": [{"purpose": "newsletter", "source": "web_form"}]},
            "marketing")
        self.assertEqual(r.status, 201, r)
        sid = r.json()["subject"]
        token = r.json()["unsubscribe_tokens"]["newsletter"]
        self.assertNotIn(token.encode(), self.vault_file_bytes())
        rows = self.history("marketing", sid)["consents"]
        self.assertEqual(len(rows), 1, rows)
        # The policy's text is kept, so the hash proves what was shown.
        r = self.call("GET", "/v1/consent-texts/" + rows[0]["text_hash"],
                      None, "marketing")
        self.assertEqual(r.status, 200, r)
        self.assertIn("nyhedsbrevet", r.json()["text"])
        r = self.call("POST", "/v1/unsubscribe/" + token,
                      b"List-Unsubscribe=One-Click",
                      content_type="application/x-www-form-urlencoded")
        self.assertEqual(r.json()["unsubscribed"], True, r)
        self.assertError(self.read("marketing", sid, "newsletter"), 403,
                         mentions="GDPR-7")
        # A create without a newsletter consent has no link.
        r = self.call("POST", "/v1/subjects", {
            "purpose": "contact_requests", "source": "web_form",
            "facts": [{"category": "contact_name", "value": "Lis"}]},
            "customer_service")
        self.assertEqual(r.status, 201, r)
        self.assertNotIn("unsubscribe_tokens", r.json())

    def test_SHOP_MKT_1_unknown_token_reveals_nothing(self):
        self.serve("2024-02-01")
        sid, token = self.subscriber()
        before = self.counts()
        msgs = set()
        for bad in ("A" * 43, "short", token[:-1] + ("A" if token[-1] != "A"
                                                    else "B"),
                    "%2e%2e", "x" * 200):
            for method in ("GET", "POST"):
                r = self.call(method, "/v1/unsubscribe/" + bad, None)
                err = self.assertError(r, 404, "not_found")
                msgs.add(err["message"])
        self.assertEqual(len(msgs), 1, msgs)
        self.assertNotIn("webshop", msgs.pop())
        self.assertEqual(self.counts(), before)


class AoptNewsletterTest(ConsentCase):
    policies = (os.path.join(POL, "aurora-optimal.yaml"),)
    roles = (("aurora-optimal", "customer_service"),
             ("aurora-optimal", "marketing"))

    def test_AOPT_MKT_1_newsletter_consent_withdrawn_at_any_time(self):
        self.serve("2025-04-01")
        sid = self.create("customer_service", {
            "purpose": "orders", "source": "web_form",
            "facts": [{"category": "name", "value": "Sara Lind"},
                      {"category": "email", "value": "sara@example.se"}]})
        # Without consent: no newsletter.
        self.assertError(self.read("marketing", sid, "newsletter"), 403,
                         mentions="GDPR-7")
        g = self.give("marketing", sid, "newsletter", "purchase")
        self.assertTrue(g["unsubscribe_token"])
        self.assertEqual(self.read("marketing", sid, "newsletter").status, 200)
        # Withdrawn through customer service by phone: any channel.
        self.serve("2025-04-02")
        w = self.withdraw("marketing", sid, "newsletter", source="phone")
        self.assertEqual(w["consent"], "withdrawn")
        self.assertError(self.read("marketing", sid, "newsletter"), 403,
                         mentions="GDPR-7")
        # The old link now says so and changes nothing.
        r = self.call("GET", "/v1/unsubscribe/" + g["unsubscribe_token"])
        self.assertEqual(r.json()["subscribed"], False, r)
        # Subscribing again makes a new link; the ledger keeps all three.
        self.serve("2025-05-01")
        g2 = self.give("marketing", sid, "newsletter", "web_form")
        self.assertNotEqual(g2["unsubscribe_token"], g["unsubscribe_token"])
        rows = self.history("marketing", sid)["consents"]
        self.assertEqual([x["event"] for x in rows],
                         ["given", "withdrawn", "given"])
        # Withdrawn by the newer link.
        r = self.call("POST", "/v1/unsubscribe/" + g2["unsubscribe_token"],
                      b"List-Unsubscribe=One-Click",
                      content_type="application/x-www-form-urlencoded")
        self.assertEqual(r.json()["unsubscribed"], True, r)


class CliConsentTest(ConsentCase):
    policies = (os.path.join(POL, "example.yaml"),)

    def test_GDPR_7_cli_consent_give_withdraw_and_history(self):
        doc = {"purpose": "customer_admin", "facts": [
            {"category": "name", "value": "Anna Hansen"},
            {"category": "email", "value": "anna@example.dk"}]}
        r = self.cli("subject", "add", "--controller", "example", "--json",
                     "-", stdin=json.dumps(doc).encode(), as_of="2025-01-02")
        self.assertEqual(r.returncode, 0, r)
        sid = json.loads(r.stdout)["subject"]
        r = self.cli("subject", "consent", sid, "newsletter", "--source",
                     "web_form", as_of="2025-01-03")
        self.assertEqual(r.returncode, 0, r)
        g = json.loads(r.stdout)
        self.assertEqual(g["text_hash"], sha256("Ja tak, send mig nyhedsbrevet."))
        self.assertTrue(g["unsubscribe_token"])
        # Withdrawal dated before the consent: refused (not retroactive).
        r = self.cli("subject", "consent", sid, "newsletter", "--source",
                     "phone", "--withdraw", "--at", "2025-01-01",
                     as_of="2025-01-05")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("retroactive", r.stderr.decode())
        r = self.cli("subject", "consent", sid, "newsletter", "--source",
                     "phone", "--withdraw", as_of="2025-01-05")
        self.assertEqual(r.returncode, 0, r)
        r = self.cli("subject", "consents", sid)
        self.assertEqual(r.returncode, 0, r)
        h = json.loads(r.stdout)
        self.assertEqual([(x["event"], x["source"], x["at"])
                          for x in h["consents"]],
                         [("given", "web_form", "2025-01-03T00:00:00Z"),
                          ("withdrawn", "phone", "2025-01-05T00:00:00Z")])
        self.assertFalse(h["purposes"]["newsletter"]["in_force"])
        acts = [e["action"] for e in self.audit_actions()
                if e.get("action", "").startswith("consent_")]
        self.assertEqual(acts, ["consent_give", "consent_withdraw"])
        r = self.cli("subject", "consent", sid, "newsletter", "--source",
                     "web_form", "--text-hash", "00")
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("text_hash", r.stderr.decode())

    def test_GDPR_7_missing_text_is_refused(self):
        """A purpose whose policy has no consent text: the caller must send
        the text shown."""
        with open(os.path.join(POL, "example.yaml"), encoding="utf-8") as f:
            text = f.read()
        line = "      text: Ja tak, send mig nyhedsbrevet.\n"
        self.assertIn(line, text)
        path = os.path.join(self.tmp, "notext.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(line, ""))
        r = self.cli("policy", "load", path)
        self.assertEqual(r.returncode, 0, r)
        r = self.cli("actor", "add", "--controller", "example", "--name",
                     "cs", "--role", "customer_service")
        self.tokens["cs"] = json.loads(r.stdout)["token"]
        self.serve("2025-03-01")
        sid = self.create("cs", {"purpose": "customer_admin", "facts": [
            {"category": "name", "value": "Bo Berg"},
            {"category": "email", "value": "bo@example.dk"}]})
        before = self.counts()
        r = self.call("POST", "/v1/subjects/%s/consents" % sid,
                      {"purpose": "newsletter", "source": "web_form"}, "cs")
        self.assertError(r, 400, "invalid", mentions="text shown is missing")
        self.assertEqual(self.counts(), before)
        g = self.give("cs", sid, "newsletter", "web_form",
                      text="Send mig nyhedsbrevet hver måned.")
        self.assertEqual(g["text_hash"],
                         sha256("Send mig nyhedsbrevet hver måned."))


# ---- cookie choices (AURA-COOKIE-1, AOPT-COOKIE-1, SHOP-MKT-2) -------------

VISITOR = "v-3f9c2a7d1e8b4c60"


class AuraCookieTest(ConsentCase):
    policies = (os.path.join(POL, "aura-fiber.yaml"),)
    roles = (("aura-fiber", "web_analytics"), ("aura-fiber", "customer_service"),
             ("aura-fiber", "dpo"))

    def choices(self, visitor, body, who="web_analytics", status=200,
                **kw):
        r = self.call("PUT", "/v1/visitors/%s/choices" % visitor, body, who,
                      **kw)
        self.assertEqual(r.status, status, r)
        return r.json()

    def visit(self, visitor, ip="192.0.2.17", **kw):
        return self.call("POST", "/v1/visitors/%s/visits" % visitor,
                         {"ip": ip, "page": "/fiber/priser"},
                         "web_analytics", **kw)

    def test_AURA_COOKIE_1_statistics_only_after_accepting(self):
        self.serve("2025-06-01")
        before = self.counts()
        # No choice yet: nothing automatic is collected.
        r = self.visit(VISITOR)
        self.assertError(r, 403, "no_statistics_consent",
                         mentions="AURA-COOKIE-1", secrets=("192.0.2.17",))
        self.assertEqual(self.counts(), before)
        r = self.call("GET", "/v1/visitors/%s/choices" % VISITOR, None,
                      "web_analytics")
        self.assertEqual(r.json(), {"necessary": True, "statistics": False,
                                    "marketing": False, "chosen": False,
                                    "source": None, "at": None,
                                    "gpc": False})
        # Refused: still nothing.
        self.choices(VISITOR, {"statistics": False, "marketing": False})
        self.assertError(self.visit(VISITOR), 403, "no_statistics_consent")
        # Accepted: the visit is taken.
        c = self.choices(VISITOR, {"necessary": True, "statistics": True,
                                   "marketing": False})
        self.assertEqual((c["statistics"], c["source"]), (True, "banner"))
        r = self.visit(VISITOR)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["purpose"], "visit_statistics")
        r = self.visit(VISITOR, ip="2001:db8::1")
        self.assertEqual(r.status, 201, r)
        # Withdrawn again: refused again.
        self.choices(VISITOR, {"statistics": False, "marketing": False})
        self.assertError(self.visit(VISITOR), 403, "no_statistics_consent")
        # Appended, against a blind index: the id itself is not stored.
        self.assertEqual(self.counts()["visitor_choice"], 3)
        self.assertNotIn(VISITOR.encode(), self.vault_file_bytes())
        r = self.call("GET", "/v1/visitors/%s/choices" % VISITOR, None,
                      "web_analytics")
        self.assertEqual(r.json()["statistics"], False)
        self.assertEqual(r.json()["chosen"], True)
        # Other visitors are not affected.
        r = self.visit("v-someone-else-0001")
        self.assertError(r, 403, "no_statistics_consent")
        self.stop()
        # Every decision is in the trail, no address or visitor id.
        trail = self.audit_file_bytes()
        for secret in (b"192.0.2.17", b"2001:db8::1", VISITOR.encode(),
                       b"/fiber/priser"):
            self.assertNotIn(secret, trail)
        visits = [e for e in self.audit_actions()
                  if e.get("action") == "visit"]
        self.assertEqual([e["decision"] for e in visits],
                         ["deny", "deny", "allow", "allow", "deny", "deny"])
        self.assertEqual(visits[2]["categories"],
                         ["ip_address", "visit_statistics"])
        self.assertEqual(visits[2]["rule"], "AURA-COOKIE-1")

    def test_AURA_COOKIE_1_bad_input_changes_nothing(self):
        self.serve("2025-06-01")
        self.choices(VISITOR, {"statistics": True, "marketing": False})
        before = self.counts()
        for bad in ("short", "has%20space%20in%20it", "x" * 65, "%C3%A6" * 8):
            r = self.call("PUT", "/v1/visitors/%s/choices" % bad,
                          {"statistics": True, "marketing": False},
                          "web_analytics")
            self.assertError(r, 400, "invalid", mentions="visitor id")
            r = self.call("POST", "/v1/visitors/%s/visits" % bad,
                          {"ip": "192.0.2.1"}, "web_analytics")
            self.assertError(r, 400, "invalid", mentions="visitor id")
        for body, mention in (
                ({"statistics": "yes", "marketing": False}, "true or false"),
                ({"marketing": False}, "required"),
                ({"statistics": True, "marketing": False, "ads": True},
                 "ads")):
            r = self.call("PUT", "/v1/visitors/%s/choices" % VISITOR, body,
                          "web_analytics")
            self.assertError(r, 400, "invalid", mentions=mention)
        for body, mention in (({"ip": "300.1.1.1"}, "'ip'"),
                              ({"page": "/x"}, "'ip'"),
                              ({"ip": "192.0.2.1", "page": "a\nb"},
                               "'page'"),
                              ({"ip": "192.0.2.1", "cookie": "x"},
                               "cookie")):
            r = self.call("POST", "/v1/visitors/%s/visits" % VISITOR, body,
                          "web_analytics")
            self.assertError(r, 400, "invalid", mentions=mention,
                             secrets=("300.1.1.1",))
        # No token, or a role without the statistics purpose.
        r = self.call("POST", "/v1/visitors/%s/visits" % VISITOR,
                      {"ip": "192.0.2.1"})
        self.assertError(r, 401)
        r = self.call("POST", "/v1/visitors/%s/visits" % VISITOR,
                      {"ip": "192.0.2.1"}, "customer_service")
        self.assertError(r, 403, "forbidden", mentions="AURA-SHARE-1")
        r = self.call("PUT", "/v1/visitors/%s/choices" % VISITOR,
                      {"statistics": True, "marketing": True}, "dpo")
        self.assertError(r, 403, "forbidden")
        self.assertEqual(self.counts(), before)


    def dpo_visits(self, visitor, who="dpo"):
        return self.call("GET", "/v1/visitors/%s/visits" % visitor, None,
                         who)

    def test_AURA_COOKIE_1_visit_stored_encrypted_only_with_statistics_on(
            self):
        self.serve("2024-02-29T10:30:00Z")
        self.assertError(self.visit(VISITOR), 403, "no_statistics_consent")
        self.choices(VISITOR, {"statistics": False, "marketing": True})
        self.assertError(self.visit(VISITOR), 403, "no_statistics_consent")
        self.assertEqual(self.counts()["visit"], 0)
        self.choices(VISITOR, {"statistics": True, "marketing": False})
        r = self.visit(VISITOR)
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        self.assertEqual((doc["accepted"], doc["stored"], doc["rule"]),
                         (True, True, "cookie_data"), doc)
        # AURA-RET-1: 24 calendar months from a leap day is 28 February,
        # and a visit at 23:59:59 is kept through that day (TEL-LOG-1
        # rule, issue 10: the first midnight after the full period).
        self.assertEqual(doc["kept_until"], "2026-03-01T00:00:00Z")
        r = self.visit(VISITOR, ip="2001:DB8:0::1")
        self.assertEqual(r.status, 201, r)
        c = self.counts()
        # One data key for the day both visits are due.
        self.assertEqual((c["visit"], c["visit_key"]), (2, 1), c)
        visits = self.dpo_visits(VISITOR).json()["visits"]
        self.assertEqual([(v["kind"], v["ip"], v["page"], v["at"])
                          for v in visits],
                         [("visit", "192.0.2.17", "/fiber/priser",
                           "2024-02-29T10:30:00Z"),
                          ("visit", "2001:db8::1", "/fiber/priser",
                           "2024-02-29T10:30:00Z")])
        self.stop()
        # GDPR-32: sealed; neither the address, the page nor the visitor
        # id is anywhere in the database files, nor in the trail.
        db = self.vault_file_bytes()
        trail = self.audit_file_bytes()
        for secret in (b"192.0.2.17", b"2001:db8::1", b"2001:DB8",
                       b"/fiber/priser", VISITOR.encode()):
            self.assertNotIn(secret, db)
            self.assertNotIn(secret, trail)
        rows = self.sql("SELECT kind, length(ct) FROM visit")
        self.assertEqual([k for k, _ in rows], [1, 1])
        stored = [e for e in self.audit_actions()
                  if e.get("action") == "visit" and e["decision"] == "allow"]
        self.assertEqual(len(stored), 2)
        self.assertIn("2026-03-01", stored[0]["reason"])

    def test_AURA_RET_1_visits_swept_24_calendar_months_after_collection(
            self):
        self.serve("2024-02-29T23:59:59Z")
        self.choices(VISITOR, {"statistics": True, "marketing": False})
        self.assertEqual(self.visit(VISITOR).status, 201)
        self.serve("2024-03-31T12:00:00Z")
        self.assertEqual(self.visit(VISITOR).status, 201)
        self.stop()
        r = self.cli("retention", "plan", "--format", "json",
                     as_of="2026-01-01")
        self.assertEqual(r.returncode, 0, r)
        plan = json.loads(r.stdout)
        rows = [(p["rule"], p["when"], p["facts"], p["visits"])
                for p in plan["plan"]]
        # Kept through the day 24 months on: gone at the next midnight.
        self.assertEqual(rows, [("cookie_data", "2026-03", 0, 1),
                                ("cookie_data", "2026-04", 0, 1)])
        self.assertEqual((plan["visits"], plan["visits_overdue"]), (2, 0))
        r = self.cli("retention", "plan", "--format", "csv", "--by", "day",
                     as_of="2026-01-01")
        self.assertIn("aura-fiber,cookie_data,AURA-RET-1,delete,no,"
                      "2026-03-01,0,1", r.stdout.decode())
        # A dry run counts and changes nothing.
        r = self.cli("retention", "sweep", "--dry-run", as_of="2026-03-01")
        self.assertEqual(json.loads(r.stdout)["visits_deleted"], 1, r)
        self.assertEqual(self.counts()["visit"], 2)
        # Not a second before its 24 calendar months have run.
        r = self.cli("retention", "sweep", as_of="2026-02-28T23:59:59Z")
        self.assertEqual(json.loads(r.stdout)["visits_deleted"], 0, r)
        self.assertEqual(self.counts()["visit"], 2)
        r = self.cli("retention", "sweep", as_of="2026-03-01")
        rep = json.loads(r.stdout)
        self.assertEqual(rep["visits_deleted"], 1, rep)
        self.assertEqual(rep["visits_by_rule"],
                         {"aura-fiber/cookie_data": 1}, rep)
        self.assertEqual(rep["by_rule"], {}, rep)
        c = self.counts()
        # The emptied day's key went with it: backups of it are noise.
        self.assertEqual((c["visit"], c["visit_key"]), (1, 1), c)
        r = self.cli("retention", "plan", "--format", "json",
                     as_of="2026-02-28")
        self.assertEqual(json.loads(r.stdout)["visits"], 1)
        r = self.cli("retention", "sweep", as_of="2026-03-31T23:59:59Z")
        self.assertEqual(json.loads(r.stdout)["visits_deleted"], 0, r)
        r = self.cli("retention", "sweep", as_of="2026-04-01")
        self.assertEqual(json.loads(r.stdout)["visits_deleted"], 1, r)
        c = self.counts()
        self.assertEqual((c["visit"], c["visit_key"]), (0, 0), c)
        # Each sweep that took visits is in the trail, with its counts.
        sweeps = [e for e in self.audit_actions()
                  if e.get("action") == "retention_sweep"]
        self.assertEqual(len(sweeps), 2, sweeps)
        self.assertIn("visits 1", sweeps[0]["reason"])
        self.assertIn("cookie_data:visits=1", sweeps[0]["reason"])
        r = self.cli("audit", "verify")
        self.assertEqual(r.returncode, 0, r)

    def test_AURA_RET_1_the_servers_scheduled_sweep_deletes_due_visits(self):
        """vaern serve --sweep-every: a visit past its 24 months goes
        without anyone running the CLI, and /metrics counts it."""
        self.serve("2024-02-29T23:59:59Z")
        self.choices(VISITOR, {"statistics": True, "marketing": False})
        self.assertEqual(self.visit(VISITOR).status, 201)
        self.serve("2024-03-31T12:00:00Z")
        self.assertEqual(self.visit(VISITOR).status, 201)
        self.serve("2026-03-01", "--sweep-every", "1s")
        deadline = time.monotonic() + 30
        metrics = {}
        while time.monotonic() < deadline:
            r = self.server.request("GET", "/metrics")
            self.assertEqual(r.status, 200, r)
            metrics = dict(line.rsplit(" ", 1) for line in
                           r.text.splitlines()
                           if line and not line.startswith("#"))
            if metrics.get('vaern_retention_sweeps_total{result="ok"}',
                           "0") != "0":
                break
            time.sleep(0.2)
        self.assertEqual(metrics["vaern_retention_visits_deleted_total"],
                         "1", metrics)
        self.assertEqual(
            metrics["vaern_retention_sweep_last_visits_deleted"], "1")
        self.assertEqual(metrics["vaern_retention_facts_deleted_total"], "0")
        self.stop()
        # The February visit went; March's waits for 2026-03-31.
        self.assertEqual(self.counts()["visit"], 1)
        with open(os.path.join(self.tmp, "serve.log")) as f:
            self.assertIn('"visits_deleted":1', f.read())

    def test_AURA_COOKIE_1_statistics_withdrawn_deletes_stored_visits(self):
        self.serve("2025-06-01")
        other = "v-another-visitor-42"
        for v in (VISITOR, other):
            self.choices(v, {"statistics": True, "marketing": False})
        for v in (VISITOR, VISITOR, other):
            self.assertEqual(self.visit(v).status, 201)
        # Withdrawn: what was collected under it goes now, not in 24
        # months (GDPR-7, GDPR-21); the answer says how much.
        c = self.choices(VISITOR, {"statistics": False, "marketing": False})
        self.assertEqual(c["deleted"], {"visits": 2, "pixels": 0}, c)
        self.assertEqual(self.counts()["visit"], 1)
        self.assertEqual(self.dpo_visits(VISITOR).json()["visits"], [])
        self.assertEqual(len(self.dpo_visits(other).json()["visits"]), 1)
        # Choosing again deletes nothing more.
        c = self.choices(VISITOR, {"statistics": False, "marketing": False})
        self.assertEqual(c["deleted"], {"visits": 0, "pixels": 0}, c)
        self.stop()
        choices = [e for e in self.audit_actions()
                   if e.get("action") == "cookie_choice"]
        self.assertIn("deleted 2 visits", choices[-2]["reason"])

    def test_AURA_RET_1_only_the_dpo_reads_a_visitors_visits(self):
        self.serve("2025-06-01T08:15:00Z")
        self.choices(VISITOR, {"statistics": True, "marketing": False})
        self.assertEqual(self.visit(VISITOR).status, 201)
        r = self.dpo_visits(VISITOR)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"truncated": False, "visits": [{
            "kind": "visit", "at": "2025-06-01T08:15:00Z",
            "ip": "192.0.2.17", "page": "/fiber/priser",
            "recipient": None, "kept_until": "2027-06-02T00:00:00Z",
            "rule": "cookie_data"}]})
        for who in ("web_analytics", "customer_service"):
            r = self.dpo_visits(VISITOR, who)
            self.assertError(r, 403, "forbidden", mentions="audit: true",
                             secrets=("192.0.2.17",))
        self.assertError(self.dpo_visits(VISITOR, None), 401)
        self.assertError(self.dpo_visits("short"), 400, "invalid",
                         mentions="visitor id")
        self.assertEqual(self.dpo_visits("v-never-seen-000").json()["visits"],
                         [])
        self.stop()
        reads = [(e["role"], e["decision"], e["rule"])
                 for e in self.audit_actions()
                 if e.get("action") == "visitor_visits"]
        self.assertEqual(reads, [("dpo", "allow", "GDPR-15"),
                                 ("web_analytics", "deny", "GDPR-32"),
                                 ("customer_service", "deny", "GDPR-32"),
                                 ("dpo", "allow", "GDPR-15")])
        self.assertNotIn(b"192.0.2.17", self.audit_file_bytes())


class AoptCookieTest(ConsentCase):
    policies = (os.path.join(POL, "aurora-optimal.yaml"),)
    roles = (("aurora-optimal", "marketing"),)

    def test_AOPT_COOKIE_1_session_cookies_not_refusable_others_opt_in(self):
        self.serve("2025-08-01")
        visitor = "aopt-visitor-0042"
        # Persistent cookies are off until chosen.
        r = self.call("GET", "/v1/visitors/%s/choices" % visitor, None,
                      "marketing")
        self.assertEqual((r.json()["necessary"], r.json()["statistics"],
                          r.json()["marketing"]), (True, False, False), r)
        r = self.call("POST", "/v1/visitors/%s/visits" % visitor,
                      {"ip": "198.51.100.4"}, "marketing")
        self.assertError(r, 403, "no_statistics_consent")
        # Refusing the session cookies means no ordering: not a choice
        # vaern records.
        before = self.counts()
        r = self.call("PUT", "/v1/visitors/%s/choices" % visitor,
                      {"necessary": False, "statistics": False,
                       "marketing": False}, "marketing")
        err = self.assertError(r, 400, "invalid", mentions="AOPT-COOKIE-1")
        self.assertIn("order", err["message"])
        self.assertEqual(self.counts(), before)
        r = self.call("PUT", "/v1/visitors/%s/choices" % visitor,
                      {"statistics": True, "marketing": False}, "marketing")
        self.assertEqual(r.status, 200, r)
        r = self.call("POST", "/v1/visitors/%s/visits" % visitor,
                      {"ip": "198.51.100.4"}, "marketing")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["purpose"], "site_statistics")


class ShopPixelTest(ConsentCase):
    policies = (os.path.join(POL, "webshop.yaml"),)
    roles = (("webshop", "marketing"), ("webshop", "customer_service"),
             ("webshop", "dpo"))

    def pixel(self, visitor, recipient="google", **kw):
        body = {"page": "/kurv"}
        if recipient is not None:
            body["recipient"] = recipient
        return self.call("POST", "/v1/visitors/%s/pixels" % visitor, body,
                         "marketing", **kw)

    def test_SHOP_MKT_2_pixels_only_with_marketing_choice_and_gpc(self):
        self.serve("2025-10-01")
        visitor = "shop-visitor-7781"
        self.assertError(self.pixel(visitor), 403, "no_marketing_consent",
                         mentions="SHOP-MKT-2")
        r = self.call("PUT", "/v1/visitors/%s/choices" % visitor,
                      {"statistics": False, "marketing": True}, "marketing")
        self.assertEqual(r.status, 200, r)
        r = self.pixel(visitor)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["purpose"], "marketing_pixels")
        self.assertEqual(self.pixel(visitor, recipient=None).status, 201)
        # Sec-GPC: 1 refuses marketing, and is recorded as the choice.
        r = self.pixel(visitor, headers={"Sec-GPC": "1"})
        self.assertError(r, 403, "no_marketing_consent", mentions="Sec-GPC")
        r = self.call("GET", "/v1/visitors/%s/choices" % visitor, None,
                      "marketing")
        self.assertEqual((r.json()["marketing"], r.json()["source"]),
                         (False, "gpc"), r)
        # It sticks without the header until the visitor chooses again.
        self.assertError(self.pixel(visitor), 403, "no_marketing_consent")
        # A banner "yes" sent with Sec-GPC: 1 is stored as a "no".
        n = self.counts()["visitor_choice"]
        r = self.call("PUT", "/v1/visitors/%s/choices" % visitor,
                      {"statistics": False, "marketing": True}, "marketing",
                      headers={"Sec-GPC": "1"})
        self.assertEqual((r.json()["marketing"], r.json()["gpc"]),
                         (False, True), r)
        self.assertEqual(self.counts()["visitor_choice"], n + 1)
        # A GPC signal on a visitor whose marketing is already off writes
        # nothing more.
        self.assertError(self.pixel(visitor, headers={"Sec-GPC": "1"}), 403)
        self.assertEqual(self.counts()["visitor_choice"], n + 1)
        # A recipient that does not take the pixel purpose; the shop has
        # no statistics purpose at all.
        before = self.counts()
        r = self.pixel(visitor, recipient="payment_gateway")
        self.assertError(r, 400, "invalid", mentions="recipient")
        r = self.call("POST", "/v1/visitors/%s/visits" % visitor,
                      {"ip": "203.0.113.9"}, "marketing")
        self.assertError(r, 403, "forbidden", mentions="cookie: statistics",
                         secrets=("203.0.113.9",))
        r = self.call("POST", "/v1/visitors/%s/pixels" % visitor,
                      {"recipient": "google"}, "customer_service")
        self.assertError(r, 403, "forbidden", mentions="AURA-SHARE-1")
        self.assertEqual(self.counts(), before)
        self.stop()
        pixels = [e for e in self.audit_actions()
                  if e.get("action", "").startswith("pixel")]
        self.assertEqual([(e["action"], e["decision"]) for e in pixels][:3],
                         [("pixel:google", "deny"), ("pixel:google", "allow"),
                          ("pixel", "allow")])

    def test_SHOP_MKT_2_pixels_stored_with_marketing_on_gone_when_refused(
            self):
        self.serve("2025-10-01T09:00:00Z")
        visitor = "shop-visitor-0815"
        self.assertError(self.pixel(visitor), 403, "no_marketing_consent")
        self.assertEqual(self.counts()["visit"], 0)
        r = self.call("PUT", "/v1/visitors/%s/choices" % visitor,
                      {"statistics": False, "marketing": True}, "marketing")
        self.assertEqual(r.status, 200, r)
        r = self.pixel(visitor)
        self.assertEqual(r.status, 201, r)
        # The shop's rule keeps pixel data 0 days: due at the next
        # midnight, it goes with the next sweep after it.
        self.assertEqual((r.json()["stored"], r.json()["rule"],
                          r.json()["kept_until"]),
                         (True, "web_behaviour", "2025-10-02T00:00:00Z"))
        self.assertEqual(self.pixel(visitor, recipient=None).status, 201)
        r = self.call("GET", "/v1/visitors/%s/visits" % visitor, None, "dpo")
        self.assertEqual([(v["kind"], v["recipient"], v["page"], v["ip"])
                          for v in r.json()["visits"]],
                         [("pixel", "google", "/kurv", None),
                          ("pixel", None, "/kurv", None)])
        self.assertEqual(self.sql("SELECT kind FROM visit"), [(2,), (2,)])
        # Sec-GPC: 1 refuses marketing: nothing more is stored, and what
        # was stored under the marketing choice goes now.
        r = self.pixel(visitor, headers={"Sec-GPC": "1"})
        self.assertError(r, 403, "no_marketing_consent", mentions="Sec-GPC")
        self.assertEqual(self.counts()["visit"], 0)
        # Chosen again: stored again; the first sweep after the day's
        # midnight takes it (0 days end at the next midnight, issue 10).
        r = self.call("PUT", "/v1/visitors/%s/choices" % visitor,
                      {"statistics": False, "marketing": True}, "marketing")
        self.assertEqual(self.pixel(visitor).status, 201)
        self.stop()
        r = self.cli("retention", "sweep", as_of="2025-10-02")
        rep = json.loads(r.stdout)
        self.assertEqual(rep["visits_by_rule"],
                         {"webshop/web_behaviour": 1}, rep)
        c = self.counts()
        self.assertEqual((c["visit"], c["visit_key"]), (0, 0), c)
        gpc = [e for e in self.audit_actions()
               if e.get("action") == "cookie_choice"
               and e["rule"] == "SHOP-MKT-2"]
        self.assertEqual(len(gpc), 1, gpc)
        self.assertIn("deleted 0 visits, 2 pixels", gpc[0]["reason"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
