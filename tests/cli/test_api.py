#!/usr/bin/env python3
"""Black-box tests of the HTTP/JSON API: the real `vaern serve`.

Each test class makes its own data directory (`vaern init --policy ...`),
adds actors with `vaern actor add` (the token is printed once), starts the
real binary (env VAERN_BIN) with `serve --listen 127.0.0.1:0`, reads the
port from the one JSON line it prints, and drives it over HTTP with the
Python standard library. The database behind vaern (DIR/vaern.db) is read
with sqlite3 to prove that a refused request changed nothing, and altered
in the audit-tamper tests once the server has stopped.

Clauses of mission/CLAUSES.md proved here, each named in the test that
proves it:
  AURA-SEC-1      plain HTTP only on loopback; TLS with HSTS
  AURA-SHARE-1    need-to-know roles; processors under a DPA; legal demands
  AURA-XFER-1     a transfer outside the EEA needs a recorded safeguard
  CEK-XFER-1      no transfer outside the EU under `transfers: none`
  CEK-SHARE-1     disclosure only on a prior agreement with the person
  CEK-SPECIAL-1 / SHOP-SPECIAL-1   special categories only with consent
  CEK-RIGHTS-1 / GDPR-21 / TEL-MKT-1   objection to direct marketing
  GDPR-18 / SHOP-RIGHTS-1          restriction of processing
  GDPR-7          consent recorded, withdrawn, kept as a ledger
  GDPR-16         rectification
  GDPR-32         authentication, access control, the audit trail of every
                  decision, the tamper-evident chain, bounded inputs
  TEL-LOG-2       only cleared staff read logging data
  TEL-LOG-3       logging data to the police only on a court order
  SHOP-PAY-1      a full card number is never stored

Standard library only; the whole file runs in well under a minute.
"""
import http.client
import itertools
import json
import os
import re
import select
import shutil
import signal
import socket
import sqlite3

import dbpeek
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.parse

VAERN = os.environ.get("VAERN_BIN")
ROOT = os.environ.get("VAERN_SOURCE_ROOT",
                      os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   "..", ".."))
POLICY_DIR = os.path.join(ROOT, "policies")
TELENOR = os.path.join(POLICY_DIR, "telenor.yaml")
CEKURA = os.path.join(POLICY_DIR, "cekura.yaml")
AURA = os.path.join(POLICY_DIR, "aura-fiber.yaml")
WEBSHOP = os.path.join(POLICY_DIR, "webshop.yaml")
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "vault-test.yaml")

CLI_TIMEOUT = 30
START_TIMEOUT = 10
HTTP_TIMEOUT = 15
COUNTED = ("subject", "fact", "identifier", "consent", "event", "agreement")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
BODY_MAX = 1024 * 1024
HEADER_MAX = 16 * 1024

# No VAERN_* from the caller's shell leaks into a test.
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}


# ---- the CLI ---------------------------------------------------------------

class Result:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout.decode("utf-8", "replace")
        self.err = p.stderr.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "rc=%d stdout=%r stderr=%r" % (self.rc, self.out[:600],
                                              self.err[:600])


def run_vaern(args, stdin=None):
    p = subprocess.run([VAERN, *args], input=stdin, capture_output=True,
                       env=BASE_ENV, timeout=CLI_TIMEOUT)
    return Result(p)


# ---- HTTP ------------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value
        self.body = body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "HTTP %d %r" % (self.status, self.text[:600])


def encode_body(body):
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


class Server:
    """One `vaern serve` process on a free loopback port."""

    def __init__(self, data_dir, log_path, extra=(), listen="127.0.0.1:0",
                 tls_ca=None):
        self.data_dir = data_dir
        self.log_path = log_path
        self.extra = list(extra)
        self.listen = listen
        self.tls_ca = tls_ca
        self.proc = None
        self.port = None
        self.ready = None

    def start(self):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [VAERN, "--data", self.data_dir, "serve", "--listen",
             self.listen, *self.extra],
            stdout=subprocess.PIPE, stderr=self._log, env=BASE_ENV)
        line = b""
        deadline = time.monotonic() + START_TIMEOUT
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise AssertionError("vaern serve printed no ready line")
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if not r:
                continue
            b = os.read(self.proc.stdout.fileno(), 1)
            if not b:
                rc = self.proc.wait(timeout=5)
                raise AssertionError("vaern serve exited %d before ready: %s"
                                     % (rc, self.log(2000)))
            line += b
        self.ready = json.loads(line)
        self.port = int(self.ready["port"])
        return self

    def log(self, tail=None):
        """What the server wrote on stderr (its request log)."""
        with open(self.log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        return text[-tail:] if tail else text

    def connection(self):
        if self.tls_ca is not None:
            ctx = ssl.create_default_context(cafile=self.tls_ca)
            return http.client.HTTPSConnection("127.0.0.1", self.port,
                                               timeout=HTTP_TIMEOUT,
                                               context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=HTTP_TIMEOUT)

    def request(self, method, path, body=None, token=None, headers=None,
                content_type="application/json"):
        h = {}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        data = encode_body(body)
        if data is not None and content_type is not None:
            h["Content-Type"] = content_type
        if headers:
            h.update(headers)
        conn = self.connection()
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            payload = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            return Response(r.status, hdrs, payload)
        finally:
            conn.close()

    def raw(self, data, more=None):
        """Sends bytes on a fresh socket and reads until the server closes;
        returns (status, whole answer)."""
        s = socket.create_connection(("127.0.0.1", self.port),
                                     timeout=HTTP_TIMEOUT)
        try:
            s.sendall(data)
            if more is not None:
                try:
                    s.sendall(more)
                except OSError:
                    pass  # the server answered early and closed
            out = b""
            while True:
                try:
                    b = s.recv(65536)
                except ConnectionResetError:
                    break
                if not b:
                    break
                out += b
        finally:
            s.close()
        m = re.match(rb"HTTP/1\.[01] (\d{3}) ", out)
        return (int(m.group(1)) if m else None), out

    def stop(self, timeout=15):
        """SIGTERM; returns the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("vaern serve did not stop on SIGTERM")
        self._close()
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._close()

    def _close(self):
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None


def audit_db(data_dir):
    """The database that holds the audit table: DIR/audit.db (or, in
    older layouts, DIR/vaern.db)."""
    p = os.path.join(data_dir, "audit.db")
    if dbpeek.ON_POSTGRESQL or os.path.exists(p):
        return p  # on PostgreSQL, dbpeek.connect opens the schema audit
    return os.path.join(data_dir, "vaern.db")


def q(path, **params):
    """A path with its query string."""
    return path + "?" + urllib.parse.urlencode(params)


def seg(text):
    """One path segment, percent-encoded."""
    return urllib.parse.quote(text, safe="")


def fact(category, value, **kw):
    f = {"category": category, "value": value}
    f.update(kw)
    return f


_serial = itertools.count(1)


def serial():
    """A number unique in this run (thread-safe: next() holds the GIL)."""
    return next(_serial)


def uniq_email(tag="kunde"):
    return "%s.%d@example.dk" % (tag, serial())


def uniq_phone():
    n = serial()
    return "+45 2%03d %04d" % (n % 1000, 1000 + n)


# ---- the base class --------------------------------------------------------

@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class ApiCase(unittest.TestCase):
    """A data directory with `policies` loaded, an actor per (controller,
    role) of `actors`, and one running server for the whole class."""

    policies = (TELENOR,)
    actors = ()          # (controller, role)
    serve = True
    serve_extra = ()

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="vaern-api-")
        cls.tmp = cls._tmp.name
        cls.dir = os.path.join(cls.tmp, "data")
        cls.db = os.path.join(cls.dir, "vaern.db")
        args = ["--data", cls.dir, "init"]
        for p in cls.policies:
            args += ["--policy", p]
        r = run_vaern(args)
        if r.rc != 0:
            cls._tmp.cleanup()
            raise AssertionError("vaern init failed: %r" % r)
        cls.tokens = {}
        for controller, role in cls.actors:
            cls.tokens[(controller, role)] = cls.add_actor(controller, role,
                                                           role)
        cls.server = None
        if cls.serve:
            cls.server = Server(cls.dir, os.path.join(cls.tmp, "serve.log"),
                                extra=cls.serve_extra)
            try:
                cls.server.start()
            except BaseException:
                cls._tmp.cleanup()
                raise
        try:
            cls.prepare()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def prepare(cls):
        """Class-wide state made once the server runs (subclasses)."""

    @classmethod
    def tearDownClass(cls):
        problem = None
        try:
            if cls.server is not None:
                # SIGTERM drains and exits 0; a crash or a sanitizer
                # report during the class is a failure.
                rc = cls.server.stop() if cls.server.proc.poll() is None \
                    else cls.server.proc.returncode
                log = cls.server.log()
                if rc != 0 or "Sanitizer" in log or "runtime error" in log:
                    problem = "vaern serve exited %r: %s" % (rc, log[-3000:])
        finally:
            if cls.server is not None:
                cls.server.kill()
            cls._tmp.cleanup()
        if problem:
            raise AssertionError(problem)

    @classmethod
    def add_actor(cls, controller, name, role):
        r = run_vaern(["--data", cls.dir, "actor", "add", "--controller",
                       controller, "--name", name, "--role", role])
        if r.rc != 0:
            raise AssertionError("actor add failed: %r" % r)
        tok = r.json()["token"]
        assert tok.startswith("vaern_"), tok
        return tok

    # -- requests --

    def tok(self, who):
        if who is None or isinstance(who, str):
            return who
        return self.tokens[who]

    def call(self, method, path, body=None, who=None, **kw):
        return self.server.request(method, path, body=body,
                                   token=self.tok(who), **kw)

    def create(self, who, doc, status=201):
        r = self.call("POST", "/v1/subjects", doc, who)
        self.assertEqual(r.status, status, r)
        if status != 201:
            return r
        sid = r.json()["subject"]
        self.assertRegex(sid, HEX32)
        return sid

    def read(self, who, sid, purpose, categories=None):
        params = {"purpose": purpose}
        if categories is not None:
            params["categories"] = ",".join(categories)
        return self.call("GET", q("/v1/subjects/%s/facts" % sid, **params),
                         who=who)

    def disclose(self, who, sid, recipient, purpose, **extra):
        body = {"recipient": recipient, "purpose": purpose}
        body.update(extra)
        return self.call("POST", "/v1/subjects/%s/disclosures" % sid, body,
                         who)

    def audit(self, controller, status=200, **params):
        r = self.call("GET", q("/v1/audit", **params) if params
                      else "/v1/audit", who=(controller, "dpo"))
        self.assertEqual(r.status, status, r)
        return r.json()["entries"] if status == 200 else r

    # -- assertions --

    def assertError(self, r, status, code=None, secrets=(), mentions=None):
        """A JSON error {"error": {"code", "message"}} with the status;
        no personal-data value of the request in it."""
        self.assertEqual(r.status, status, r)
        ctype = r.header("Content-Type") or ""
        self.assertTrue(ctype.startswith("application/json"), (ctype, r))
        doc = r.json()
        self.assertIsInstance(doc, dict, r)
        self.assertEqual(set(doc), {"error"}, r)
        self.assertIsInstance(doc["error"].get("code"), str, r)
        self.assertIsInstance(doc["error"].get("message"), str, r)
        self.assertTrue(doc["error"]["message"], r)
        if code is not None:
            self.assertEqual(doc["error"]["code"], code, r)
        if mentions is not None:
            self.assertIn(mentions, doc["error"]["message"], r)
        for s in secrets:
            self.assertNotIn(s, r.text, "personal data echoed: %r" % r)
            self.assertNotIn(json.dumps(s)[1:-1], r.text,
                             "personal data echoed: %r" % r)
        return doc["error"]

    def assertReleased(self, r, categories):
        """200, and the released facts are exactly of these categories."""
        self.assertEqual(r.status, 200, r)
        got = sorted({f["category"] for f in r.json()["facts"]})
        self.assertEqual(got, sorted(set(categories)), r)
        return r.json()

    def assertDenied(self, r, *rules):
        """403 whose message names one of the rules."""
        err = self.assertError(r, 403, "forbidden")
        self.assertTrue(any(rule in err["message"] for rule in rules),
                        "expected one of %s in %r" % (rules, err))
        return err

    def counts(self):
        con = dbpeek.connect("file:%s?mode=ro" % self.db, uri=True,
                              timeout=10)
        try:
            return {t: con.execute("SELECT count(*) FROM %s" % t)
                    .fetchone()[0] for t in COUNTED}
        finally:
            con.close()

    def subject_rowid(self, sid):
        con = dbpeek.connect("file:%s?mode=ro" % self.db, uri=True,
                              timeout=10)
        try:
            row = con.execute("SELECT id FROM subject WHERE uid = ?",
                              (bytes.fromhex(sid),)).fetchone()
        finally:
            con.close()
        self.assertIsNotNone(row, sid)
        return row[0]

    def sql(self, query, args=()):
        con = dbpeek.connect("file:%s?mode=ro" % self.db, uri=True,
                              timeout=10)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def audited(self, controller, sid, allowed, rule, **match):
        """The DPO of controller sees an entry for subject sid with the
        decision and the rule (and the fields in match)."""
        entries = self.audit(controller, subject=sid)
        for e in entries:
            self.assertEqual(e["controller"], controller, e)
            self.assertEqual(e["subject"], sid, e)
        hits = [e for e in entries
                if e["allowed"] is allowed and e["rule"] == rule
                and all(e.get(k) == v for k, v in match.items())]
        self.assertTrue(hits, "no audit entry allowed=%s rule=%s %s in %s"
                        % (allowed, rule, match,
                           json.dumps(entries, indent=1)[:3000]))
        return hits[-1]


# ---- documents of the seed controllers -------------------------------------

def telenor_customer(email=None, phone=None):
    return {"purpose": "contract", "source": "web_form", "facts": [
        fact("name", "Ole Jensen"),
        fact("address", "Nørregade 7, 1165 København K"),
        fact("email", email or uniq_email("ole")),
        fact("phone", phone or uniq_phone()),
        fact("contract_type", "postpaid 100 GB"),
    ]}


def cekura_customer(extra=(), consents=None):
    doc = {"purpose": "customer_admin", "source": "phone", "facts": [
        fact("name", "Karen Holm"),
        fact("address", "Amagerbrogade 12, 2300 København S"),
        fact("phone", uniq_phone()),
        fact("email", uniq_email("karen")),
        *extra,
    ]}
    if consents is not None:
        doc["consents"] = consents
    return doc


def aura_customer():
    n = serial()
    return {"purpose": "identification", "source": "portal", "facts": [
        fact("username", "fiberkunde%d" % n),
        fact("installation_number", "INST-%d" % (4000 + n)),
        fact("contract_number", "K-%d" % (9000 + n)),
    ]}


def webshop_customer():
    return {"purpose": "orders", "source": "checkout", "facts": [
        fact("customer_name", "Mette Lund"),
        fact("customer_email", uniq_email("mette")),
        fact("billing_address", "Vestergade 3, 8000 Aarhus C"),
        fact("orders", "Abonnement: kaffe, månedlig"),
    ]}


def logging_subject():
    return {"purpose": "data_retention_logging", "source": "network",
            "facts": [fact("logging_data",
                           "Mast 4711 Odder, opkald 2026-01-05T10:00:00Z")]}


# ---- 1. the server ---------------------------------------------------------

class ServerTest(ApiCase):
    """/healthz, /metrics, the OpenAPI document, tokens, several
    controllers in one server."""

    policies = (TELENOR, CEKURA)
    actors = (("telenor", "customer_service"), ("telenor", "marketing"),
              ("telenor", "network_operations"), ("telenor", "dpo"),
              ("cekura", "customer_service"), ("cekura", "dpo"))

    CS = ("telenor", "customer_service")

    def test_healthz(self):
        r = self.call("GET", "/healthz")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"status": "ok"})
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        self.assertEqual(self.server.ready["tls"], False)
        # Plain HTTP on loopback: no HSTS (AURA-SEC-1 applies to TLS).
        self.assertIsNone(r.header("Strict-Transport-Security"))

    def test_GDPR_32_create_of_more_facts_than_one_insert_holds(self):
        """Issue 14: a create's facts are written by one multi-row insert
        of up to 8 rows; 11 facts (8 + 3) are all stored, each with its
        id, value and category, read back through the gate."""
        doc = telenor_customer()
        doc["facts"] += [fact("address", "Vej %d, 1000 København K" % i)
                         for i in range(6)]
        sid = self.create(self.CS, doc)
        r = self.call("GET", "/v1/subjects/%s/facts?purpose=contract" % sid,
                      who=self.CS)
        self.assertEqual(r.status, 200, r)
        got = [(f["id"], f["category"], f["value"]) for f in r.json()["facts"]]
        # A phone number is stored normalised (no spaces).
        want = [(i + 1, f["category"],
                 f["value"].replace(" ", "") if f["category"] == "phone"
                 else f["value"])
                for i, f in enumerate(doc["facts"])]
        self.assertEqual(got, want)

    @staticmethod
    def gate_counts(text):
        out = {}
        for d in ("allow", "deny"):
            m = re.search(r'^vaern_gate_decisions_total\{decision="%s"\} '
                          r'(\d+)$' % d, text, re.M)
            out[d] = int(m.group(1)) if m else None
        return out

    def test_metrics_move_GDPR_32(self):
        """/metrics: request counters, the latency histogram and the gate
        decisions, which move after an allowed and a denied read."""
        sid = self.create(self.CS, telenor_customer())
        series = {
            "ok": r'vaern_http_requests_total\{route="subject_facts",'
                  r'status="200"\} (\d+)',
            "refused": r'vaern_http_requests_total\{route="subject_facts",'
                       r'status="403"\} (\d+)',
            "inf": r'vaern_http_request_duration_seconds_bucket\{route='
                   r'"subject_facts",le="\+Inf"\} (\d+)',
            "count": r'vaern_http_request_duration_seconds_count\{route='
                     r'"subject_facts"\} (\d+)',
            "allow": r'vaern_gate_decisions_total\{decision="allow"\} (\d+)',
            "deny": r'vaern_gate_decisions_total\{decision="deny"\} (\d+)',
        }

        def scrape():
            r = self.call("GET", "/metrics")
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.header("Content-Type").startswith(
                "text/plain"), r.headers)
            out = {}
            for k, rx in series.items():
                m = re.search(rx, r.text, re.M)
                out[k] = int(m.group(1)) if m else 0
            return out, r.text

        b, text = scrape()
        self.assertIn('vaern_gate_decisions_total{decision="allow"}', text)
        self.assertIn('vaern_gate_decisions_total{decision="deny"}', text)
        self.assertIn("# TYPE vaern_http_request_duration_seconds "
                      "histogram", text)
        self.assertIn("# TYPE vaern_http_requests_total counter", text)
        self.assertEqual(self.read(self.CS, sid, "contract").status, 200)
        self.assertEqual(self.read(("telenor", "network_operations"), sid,
                                   "contract").status, 403)
        want = dict(b, ok=b["ok"] + 1, refused=b["refused"] + 1,
                    inf=b["inf"] + 2, count=b["count"] + 2,
                    allow=b["allow"] + 1, deny=b["deny"] + 1)
        # A request is counted once its response is sent, which the client
        # may see first: allow the counters a moment.
        deadline = time.monotonic() + 3
        while True:
            a, text = scrape()
            if a == want or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(a, want)
        self.assertRegex(text, r'vaern_http_request_duration_seconds_sum'
                               r'\{route="subject_facts"\} \d')
        self.assertRegex(text, r'vaern_http_request_duration_seconds_bucket'
                               r'\{route="subject_facts",le="0.0005"\} \d')
        # No path, query or personal data reaches the metrics.
        self.assertNotIn(sid, text)
        self.assertNotIn("Ole", text)

    def test_openapi_documents_every_route(self):
        """/v1/openapi.json parses, and every documented path and method
        answers (not 404/405) with a valid token and a real subject."""
        r = self.call("GET", "/v1/openapi.json")
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertIn("openapi", doc)
        paths = doc["paths"]
        self.assertIn("/v1/subjects/{id}/facts", paths)
        email = uniq_email("openapi")
        sid = self.create(self.CS, telenor_customer(email=email))
        # A consent with its unsubscribe link and text, for the consent
        # routes (issue 4).
        r = self.call("POST", "/v1/subjects/%s/consents" % sid,
                      {"purpose": "marketing", "source": "web_form"},
                      ("telenor", "marketing"))
        self.assertEqual(r.status, 201, r)
        consent = r.json()
        # A rights request of the same subject (issue 5 routes).
        r = self.call("POST", "/v1/requests", {
            "type": "access", "subject": sid, "channel": "email"}, self.CS)
        self.assertEqual(r.status, 201, r)
        values = {"id": sid, "fact": "1", "purpose": "marketing",
                  "recipient": "marketing_partners", "hold": "1",
                  "hash": consent["text_hash"],
                  "token": consent["unsubscribe_token"],
                  "visitor_id": "openapi-visitor-1", "controller": "telenor",
                  "request": r.json()["id"],
                  "case": "SB-222222222222", "n": "1",
                  "controller": "telenor"}
        bodies = {
            ("post", "/v1/subjects"): telenor_customer(),
            ("post", "/v1/subjects/lookup"): {
                "type": "email", "value": email,
                "purpose": "contract"},
            ("patch", "/v1/subjects/{id}/facts/{fact}"): {"value": "Ole J"},
            ("post", "/v1/subjects/{id}/events"): {"kind": "consent_end"},
            ("post", "/v1/subjects/{id}/consents"): {
                "purpose": "marketing", "source": "web_form"},
            ("post", "/v1/subjects/{id}/disclosures"): {
                "recipient": "marketing_partners", "purpose": "marketing"},
            ("put", "/v1/visitors/{visitor_id}/choices"): {
                "statistics": False, "marketing": False},
            ("post", "/v1/visitors/{visitor_id}/visits"): {
                "ip": "192.0.2.1"},
            # The request is an unverified access request: each right's
            # execution answers 400 (wrong type), never 404/405.
            ("post", "/v1/requests/{request}/rectification"): {
                "fact": 1, "value": "Ole J"},
            ("post", "/v1/requests/{request}/restriction"): {
                "lift": False},
            ("post", "/v1/requests/{request}/objection"): {
                "purposes": ["marketing"]},
            ("post", "/v1/requests/{request}/consent-withdrawal"): {
                "purpose": "marketing"},
        }
        tried = 0
        for path, ops in paths.items():
            concrete = re.sub(r"\{([a-z_]+)\}",
                              lambda m: seg(values[m.group(1)]), path)
            for method in ops:
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                url = concrete
                if path == "/v1/subjects/{id}/facts":
                    url = q(concrete, purpose="contract")
                body = bodies.get((method, path))
                if body is None and method in ("post", "put", "patch"):
                    body = {}
                if method in ("put", "delete") and body == {}:
                    body = None
                r = self.call(method.upper(), url, body, self.CS)
                tried += 1
                self.assertNotIn(r.status, (404, 405),
                                 "%s %s: %r" % (method, url, r))
                self.assertLess(r.status, 500, "%s %s: %r"
                                % (method, url, r))
        self.assertGreaterEqual(tried, 25)

    def test_undocumented_route_404(self):
        for path in ("/v1/nope", "/v1/subjects/x/y/z/w", "/admin",
                     "/v1/openapi.yaml", "/v2/policy"):
            r = self.call("GET", path, who=self.CS)
            self.assertError(r, 404)
        # A documented path with an undocumented method.
        r = self.call("DELETE", "/v1/policy", who=self.CS)
        self.assertIn(r.status, (404, 405), r)
        self.assertError(r, r.status)

    # -- tokens (GDPR-32) --

    def test_no_token_401_GDPR_32(self):
        for method, path, body in (
                ("GET", "/v1/policy", None),
                ("POST", "/v1/subjects", telenor_customer()),
                ("GET", "/v1/audit", None)):
            r = self.call(method, path, body)
            self.assertError(r, 401, "unauthorized")
            self.assertTrue((r.header("WWW-Authenticate") or "")
                            .startswith("Bearer"), r.headers)
        r = self.call("GET", "/v1/policy",
                      headers={"Authorization": "Basic dXNlcjpwYXNz"})
        self.assertError(r, 401, "unauthorized")
        self.assertIsNotNone(r.header("WWW-Authenticate"))

    def test_bad_token_401_GDPR_32(self):
        good = self.tokens[self.CS]
        forged = good[:-4] + ("AAAA" if not good.endswith("AAAA")
                              else "BBBB")
        for t in ("nonsense", "vaern_", "vaern_0123456789abcdef_xyz",
                  forged, good + "x", good.upper(), "' OR 1=1 --"):
            r = self.call("GET", "/v1/policy", who=t)
            self.assertError(r, 401, "unauthorized")
            self.assertIn("invalid_token", r.header("WWW-Authenticate")
                          or "", r.headers)
            self.assertNotIn(t, r.text)

    def test_revoked_token_401_GDPR_32(self):
        """Revoked with the CLI while the server runs: the next request
        is refused (the actor table is read per request)."""
        tok = self.add_actor("telenor", "temp_cs", "customer_service")
        self.assertEqual(self.call("GET", "/v1/policy", who=tok).status,
                         200)
        r = run_vaern(["--data", self.dir, "actor", "revoke",
                       "--controller", "telenor", "temp_cs"])
        self.assertEqual(r.rc, 0, r)
        r = self.call("GET", "/v1/policy", who=tok)
        self.assertError(r, 401, "unauthorized")
        r = self.call("POST", "/v1/subjects", telenor_customer(), tok)
        self.assertError(r, 401, "unauthorized")

    def test_role_without_right_403_AURA_SHARE_1(self):
        sid = self.create(self.CS, telenor_customer())
        before = self.counts()
        # Marketing may not collect for the contract (need-to-know).
        r = self.call("POST", "/v1/subjects", telenor_customer(),
                      ("telenor", "marketing"))
        self.assertDenied(r, "AURA-SHARE-1")
        self.assertEqual(self.counts(), before)
        r = self.read(("telenor", "network_operations"), sid, "contract")
        self.assertDenied(r, "AURA-SHARE-1")
        # Only a role with audit: true reads the trail.
        r = self.call("GET", "/v1/audit", who=self.CS)
        self.assertError(r, 403, "forbidden")
        # The DPO uses no purpose.
        r = self.read(("telenor", "dpo"), sid, "contract")
        self.assertDenied(r, "AURA-SHARE-1")

    def test_concurrent_requests_GDPR_32(self):
        """Parallel clients: every request answered, none 5xx; the audit
        chain still verifies while the server runs."""
        import threading
        statuses, lock = [], threading.Lock()
        # One read first: the first reads of a fresh server race on the
        # label table (FirstReadRaceTest); this test is about the rest.
        sid = self.create(self.CS, telenor_customer())
        self.assertEqual(self.read(self.CS, sid, "contract").status, 200)

        def client():
            for _ in range(5):
                r = self.call("POST", "/v1/subjects", telenor_customer(),
                              self.CS)
                got = [r.status]
                if r.status != 201:
                    got.append(r.text)
                if r.status == 201:
                    got.append(self.read(self.CS, r.json()["subject"],
                                         "contract").status)
                with lock:
                    statuses.extend(got)

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(set(statuses)), [200, 201], statuses)
        self.assertEqual(len(statuses), 80)
        r = run_vaern(["--data", self.dir, "audit", "verify"])
        self.assertEqual(r.rc, 0, r)

    def test_policy_is_the_actors_controller(self):
        r = self.call("GET", "/v1/policy", who=self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["controller"]["id"], "telenor")
        r = self.call("GET", "/v1/policy", who=("cekura", "customer_service"))
        self.assertEqual(r.json()["controller"]["id"], "cekura")
        self.assertTrue(r.json()["transfers_none"])

    def test_other_controllers_subject_is_404(self):
        """One installation, several controllers: an actor of cekura
        cannot see, find or change a telenor subject."""
        email = uniq_email("skjult")
        sid = self.create(self.CS, telenor_customer(email=email))
        cek = ("cekura", "customer_service")
        before = self.counts()
        r = self.read(cek, sid, "customer_admin")
        self.assertError(r, 404, "not_found")
        r = self.call("POST", "/v1/subjects/lookup",
                      {"type": "email", "value": email,
                       "purpose": "customer_admin"}, cek)
        self.assertError(r, 404, "not_found", secrets=(email,))
        for method, path, body in (
                ("PUT", "/v1/subjects/%s/restriction" % sid, None),
                ("PUT", "/v1/subjects/%s/objection" % sid, None),
                ("PATCH", "/v1/subjects/%s/facts/1" % sid,
                 {"value": "Hacked"}),
                ("POST", "/v1/subjects/%s/events" % sid,
                 {"kind": "relationship_end"}),
                ("POST", "/v1/subjects/%s/consents" % sid,
                 {"purpose": "marketing_consent", "source": "web_form"}),
                ("PUT", "/v1/subjects/%s/agreements/family_members" % sid,
                 None)):
            r = self.call(method, path, body, cek)
            self.assertError(r, 404, "not_found")
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.sql("SELECT state FROM subject WHERE uid=?",
                                  (bytes.fromhex(sid),)), [(0,)])
        r = self.read(self.CS, sid, "contract", ["name"])
        self.assertEqual([f["value"] for f in r.json()["facts"]],
                         ["Ole Jensen"])
        # The DPO of cekura sees nothing of telenor's subject.
        self.assertEqual(self.audit("cekura", subject=sid), [])
        self.assertTrue(self.audit("telenor", subject=sid))


class DrainTest(ApiCase):
    """SIGTERM: in-flight requests complete, the process exits 0."""

    policies = (TELENOR,)
    actors = (("telenor", "customer_service"),)

    def test_sigterm_drains_in_flight_and_exits_0(self):
        tok = self.tokens[("telenor", "customer_service")]
        body = encode_body(telenor_customer())
        head = ("POST /v1/subjects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer %s\r\nContent-Type: application/json"
                "\r\nContent-Length: %d\r\n\r\n" % (tok, len(body))).encode()
        s = socket.create_connection(("127.0.0.1", self.server.port),
                                     timeout=HTTP_TIMEOUT)
        try:
            s.sendall(head + body[:20])
            time.sleep(0.3)  # the headers have arrived: in flight
            self.server.proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            self.assertIsNone(self.server.proc.poll(),
                              "exited with a request in flight")
            s.sendall(body[20:])
            out = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                out += b
                if b"\r\n\r\n" in out:
                    head_end = out.index(b"\r\n\r\n") + 4
                    m = re.search(rb"Content-Length: (\d+)", out[:head_end],
                                  re.I)
                    if m and len(out) >= head_end + int(m.group(1)):
                        break
        finally:
            s.close()
        self.assertTrue(out.startswith(b"HTTP/1.1 201 "), out[:300])
        sid = json.loads(out.split(b"\r\n\r\n", 1)[1])["subject"]
        rc = self.server.proc.wait(timeout=15)
        self.assertEqual(rc, 0, self.server.log(2000))
        self.assertIn('"stopped": true', self.server.log())
        # The subject was written, and so was its audit entry.
        self.assertEqual(self.counts()["subject"], 1)
        r = run_vaern(["--data", self.dir, "audit", "show", "--subject",
                       sid])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual([e["action"] for e in json.loads(r.out)],
                         ["create"])
        # After the stop nothing listens.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.server.port),
                                     timeout=2).close()


class HeldAnswerTest(ApiCase):
    """GDPR-32: an answer is held until its audit entry is durable: no
    handler waits for the disk, but no answer (and so no personal data)
    goes out before the entry is committed, and none if it cannot be."""

    policies = (TELENOR,)
    actors = (("telenor", "customer_service"), ("telenor", "marketing"))
    CS = ("telenor", "customer_service")
    MKT = ("telenor", "marketing")

    def entries_of(self, sid):
        """Entries about sid committed in the trail, read on a connection
        of the test's own."""
        con = dbpeek.connect("file:%s?mode=ro"
                              % os.path.join(self.dir, "audit.db"),
                              uri=True, timeout=10)
        try:
            return con.execute("SELECT action, decision FROM audit"
                               " WHERE subject = ? ORDER BY seq",
                               (bytes.fromhex(sid),)).fetchall()
        finally:
            con.close()

    def test_answer_only_after_entry_is_durable_GDPR_32(self):
        """Parallel creates, reads, lookups and refused reads: each
        answer finds its own entry already committed."""
        import threading
        problems, lock = [], threading.Lock()

        def client():
            for _ in range(4):
                doc = telenor_customer()
                email = doc["facts"][2]["value"]
                r = self.call("POST", "/v1/subjects", doc, self.CS)
                if r.status != 201:
                    with lock:
                        problems.append(("create", r.status, r.text))
                    continue
                sid = r.json()["subject"]
                seen = [self.entries_of(sid)]
                r1 = self.read(self.CS, sid, "contract")
                seen.append(self.entries_of(sid))
                r2 = self.call("POST", "/v1/subjects/lookup",
                               {"type": "email", "value": email,
                                "purpose": "contract"}, self.CS)
                seen.append(self.entries_of(sid))
                r3 = self.read(self.MKT, sid, "contract")
                seen.append(self.entries_of(sid))
                got = [len(e) for e in seen]
                if ([r1.status, r2.status, r3.status] != [200, 200, 403]
                        or got != [1, 2, 3, 4]
                        or seen[0][0] != ("create", 1)
                        or seen[3][3][1] != 0):
                    with lock:
                        problems.append((r1.status, r2.status, r3.status,
                                         seen))

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(problems, [])
        r = run_vaern(["--data", self.dir, "audit", "verify"])
        self.assertEqual(r.rc, 0, r)

    def test_no_durable_entry_no_data_GDPR_32(self):
        """While the trail cannot commit, reads, lookups and creates
        answer 500 with no fact in them; afterwards all is as before."""
        doc = telenor_customer()
        email = doc["facts"][2]["value"]
        sid = self.create(self.CS, doc)
        audit_db = os.path.join(self.dir, "audit.db")
        con = dbpeek.connect(audit_db, timeout=10)
        try:
            dbpeek.break_inserts(con, "audit")
            before = len(self.entries_of(sid))
            secrets = ("Ole Jensen", "Nørregade", email)
            r = self.read(self.CS, sid, "contract")
            self.assertError(r, 500, "internal", secrets=secrets)
            r = self.call("POST", "/v1/subjects/lookup",
                          {"type": "email", "value": email,
                           "purpose": "contract"}, self.CS)
            self.assertError(r, 500, "internal", secrets=secrets)
            r = self.read(self.MKT, sid, "contract")
            self.assertError(r, 500, "internal")
            r = self.call("POST", "/v1/subjects", telenor_customer(),
                          self.CS)
            self.assertError(r, 500, "internal", secrets=("Ole Jensen",))
            self.assertEqual(len(self.entries_of(sid)), before)
            r = self.call("GET", "/metrics")
            self.assertRegex(r.text, r"vaern_audit_failures_total [1-9]")
        finally:
            dbpeek.mend_inserts(con, "audit")
            con.close()
        r = self.read(self.CS, sid, "contract")
        self.assertReleased(r, ["name", "address", "email", "phone",
                                "contract_type"])
        self.assertEqual(len(self.entries_of(sid)), before + 1)
        r = run_vaern(["--data", self.dir, "audit", "verify"])
        self.assertEqual(r.rc, 0, r)


class FirstReadRaceTest(ApiCase):
    """GDPR-32: parallel first reads on a fresh server all answer 200.
    Before the first consent is stored, the label of each consent purpose
    does not exist yet, and a read looks its consent up: parallel readers
    must not trip over one another there."""

    policies = (WEBSHOP,)
    serve = False
    ROUNDS = 3
    CLIENTS = 16

    def one_round(self, n):
        import threading
        d = os.path.join(self.tmp, "race%d" % n)
        r = run_vaern(["--data", d, "init", "--policy", WEBSHOP])
        self.assertEqual(r.rc, 0, r)
        r = run_vaern(["--data", d, "actor", "add", "--controller",
                       "webshop", "--name", "cs", "--role",
                       "customer_service"])
        self.assertEqual(r.rc, 0, r)
        tok = r.json()["token"]
        srv = Server(d, os.path.join(self.tmp, "race%d.log" % n),
                     extra=["--threads", str(self.CLIENTS)]).start()
        answers = []
        try:
            sids = []
            for _ in range(self.CLIENTS):
                r = srv.request("POST", "/v1/subjects", webshop_customer(),
                                tok)
                self.assertEqual(r.status, 201, r)
                sids.append(r.json()["subject"])
            barrier = threading.Barrier(self.CLIENTS)

            def client(sid):
                barrier.wait(10)
                r = srv.request("GET", q("/v1/subjects/%s/facts" % sid,
                                         purpose="orders"), token=tok)
                answers.append((r.status, r.text if r.status != 200
                                else ""))

            threads = [threading.Thread(target=client, args=(sid,))
                       for sid in sids]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
        finally:
            self.assertEqual(srv.stop(), 0)
        return answers

    def test_parallel_first_reads_all_200_GDPR_32(self):
        bad = []
        for n in range(self.ROUNDS):
            answers = self.one_round(n)
            self.assertEqual(len(answers), self.CLIENTS)
            bad += [a for a in answers if a[0] != 200]
        self.assertEqual(bad, [], "%d of %d parallel reads failed"
                         % (len(bad), self.ROUNDS * self.CLIENTS))


# ---- AURA-SEC-1: TLS --------------------------------------------------------

@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class TlsTest(unittest.TestCase):
    """AURA-SEC-1: the API is served over TLS; plain HTTP only on
    loopback or with --insecure."""

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="vaern-tls-")
        cls.tmp = cls._tmp.name
        cls.dir = os.path.join(cls.tmp, "data")
        r = run_vaern(["--data", cls.dir, "init", "--policy", AURA])
        assert r.rc == 0, r

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def serve_args(self, *args):
        return [VAERN, "--data", self.dir, "serve", *args]

    def test_public_plain_http_refused_AURA_SEC_1(self):
        p = subprocess.run(self.serve_args("--listen", "0.0.0.0:0"),
                           capture_output=True, env=BASE_ENV,
                           timeout=CLI_TIMEOUT)
        self.assertNotEqual(p.returncode, 0, p)
        self.assertIn(b"AURA-SEC-1", p.stderr, p)
        self.assertNotIn(b"listening", p.stdout, p)

    def test_public_plain_http_with_insecure_starts(self):
        srv = Server(self.dir, os.path.join(self.tmp, "insecure.log"),
                     extra=["--insecure"], listen="0.0.0.0:0")
        srv.start()
        try:
            r = srv.request("GET", "/healthz")
            self.assertEqual(r.status, 200, r)
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_tls_key_without_cert_refused(self):
        p = subprocess.run(self.serve_args("--listen", "127.0.0.1:0",
                                           "--tls-key", "/nonexistent"),
                           capture_output=True, env=BASE_ENV,
                           timeout=CLI_TIMEOUT)
        self.assertNotEqual(p.returncode, 0, p)
        self.assertNotIn(b"listening", p.stdout, p)

    # openssl comes with scripts/deps: a missing one fails, never skips.
    def test_tls_healthz_has_hsts_AURA_SEC_1(self):
        cert = os.path.join(self.tmp, "cert.pem")
        key = os.path.join(self.tmp, "key.pem")
        p = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", key, "-out", cert, "-days", "2", "-subj",
             "/CN=127.0.0.1", "-addext",
             "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0,
                         "openssl could not make a certificate: %r"
                         % p.stderr[-300:])
        # On every address, TLS satisfies AURA-SEC-1 without --insecure.
        for listen in ("127.0.0.1:0", "0.0.0.0:0"):
            srv = Server(self.dir, os.path.join(self.tmp, "tls.log"),
                         extra=["--tls-cert", cert, "--tls-key", key],
                         listen=listen, tls_ca=cert)
            srv.start()
            try:
                self.assertIs(srv.ready["tls"], True)
                r = srv.request("GET", "/healthz")
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json(), {"status": "ok"})
                hsts = r.header("Strict-Transport-Security")
                self.assertIsNotNone(hsts, r.headers)
                self.assertIn("max-age=", hsts)
                r = srv.request("GET", "/v1/nope")
                self.assertEqual(r.status, 404, r)
                self.assertIsNotNone(r.header("Strict-Transport-Security"))
                # Plain HTTP on the TLS port gets no answer.
                conn = http.client.HTTPConnection("127.0.0.1", srv.port,
                                                  timeout=5)
                try:
                    conn.request("GET", "/healthz")
                    status = conn.getresponse().status
                except (OSError, http.client.HTTPException):
                    status = None
                finally:
                    conn.close()
                self.assertNotEqual(status, 200)
            finally:
                self.assertEqual(srv.stop(), 0)


# ---- 3. the gate, rule by rule ----------------------------------------------

class GateTest(ApiCase):
    """One test per gate rule through the API, each checked in the audit
    trail by the controller's DPO."""

    policies = (TELENOR, CEKURA, AURA, WEBSHOP)
    actors = (
        ("telenor", "customer_service"), ("telenor", "marketing"),
        ("telenor", "logging_officer"), ("telenor", "dpo"),
        ("cekura", "customer_service"), ("cekura", "marketing"),
        ("cekura", "dpo"),
        ("aura-fiber", "customer_service"), ("aura-fiber", "web_analytics"),
        ("aura-fiber", "dpo"),
        ("webshop", "customer_service"), ("webshop", "management"),
        ("webshop", "marketing"), ("webshop", "dpo"),
    )

    def test_AURA_SHARE_1_need_to_know(self):
        cs = ("aura-fiber", "customer_service")
        wa = ("aura-fiber", "web_analytics")
        sid = self.create(cs, aura_customer())
        r = self.read(wa, sid, "self_service")
        err = self.assertDenied(r, "AURA-SHARE-1")
        self.assertIn("web_analytics", err["message"])
        self.assertNotIn("fiberkunde", r.text)
        self.assertReleased(self.read(cs, sid, "identification"),
                            ["username", "installation_number",
                             "contract_number"])
        e = self.audited("aura-fiber", sid, False, "AURA-SHARE-1",
                         role="web_analytics", purpose="self_service")
        self.assertEqual(e["action"], "read")
        self.assertEqual(e["actor"], "web_analytics")
        self.audited("aura-fiber", sid, True, "GDPR-32",
                     role="customer_service", purpose="identification")
        # Nor may the role collect for a purpose it does not have.
        before = self.counts()
        r = self.call("POST", "/v1/subjects", aura_customer(), wa)
        self.assertDenied(r, "AURA-SHARE-1")
        self.assertEqual(self.counts(), before)

    def test_AURA_SHARE_1_processor_with_dpa(self):
        """Processors under a data processing agreement receive; disclosure
        the law requires goes on the named demand."""
        cs = ("aura-fiber", "customer_service")
        sid = self.create(cs, aura_customer())
        r = self.disclose(cs, sid, "it_suppliers", "identification")
        body = self.assertReleased(r, ["username", "installation_number",
                                       "contract_number"])
        self.assertEqual(body["rule"], "AURA-SHARE-1")
        e = self.audited("aura-fiber", sid, True, "AURA-SHARE-1",
                         action="disclose:it_suppliers")
        self.assertIn("DPA-AURA-IT-001", e["reason"])
        # A recipient not listed at all.
        r = self.disclose(cs, sid, "facebook", "identification")
        self.assertError(r, 400, "invalid")
        # The authority, on a legal demand only.
        r = self.disclose(cs, sid, "authorities", "identification")
        self.assertDenied(r, "TEL-LOG-3")
        self.audited("aura-fiber", sid, False, "TEL-LOG-3",
                     action="disclose:authorities")
        r = self.disclose(cs, sid, "authorities", "identification",
                          demand="statutory_obligation",
                          demand_ref="SKAT-2026-17")
        self.assertEqual(r.status, 200, r)
        # webshop: a processor gets only its categories.
        wcs = ("webshop", "customer_service")
        wid = self.create(wcs, webshop_customer())
        r = self.disclose(wcs, wid, "payment_gateway", "orders",
                          categories=["customer_name", "billing_address"])
        self.assertReleased(r, ["customer_name", "billing_address"])
        r = self.disclose(wcs, wid, "payment_gateway", "orders",
                          categories=["orders"])
        self.assertDenied(r, "AURA-SHARE-1")
        self.audited("webshop", wid, False, "AURA-SHARE-1",
                     action="disclose:payment_gateway", categories="orders")

    def test_AURA_SHARE_1_third_party_needs_consent(self):
        """SHOP-MKT-2: to a third party for marketing only with consent."""
        cs = ("webshop", "customer_service")
        mk = ("webshop", "marketing")
        wid = self.create(cs, webshop_customer())
        r = self.disclose(mk, wid, "marketing_partners", "marketing",
                          categories=["customer_name"])
        self.assertDenied(r, "GDPR-7", "AURA-SHARE-1")
        r = self.call("POST", "/v1/subjects/%s/consents" % wid,
                      {"purpose": "marketing", "source": "web_form"}, mk)
        self.assertEqual(r.status, 201, r)
        r = self.disclose(mk, wid, "marketing_partners", "marketing",
                          categories=["customer_name"])
        self.assertReleased(r, ["customer_name"])
        self.assertEqual(r.json()["rule"], "AURA-SHARE-1")

    # Telenor's logging data lives in the retained-data store (issue 18),
    # not as facts of a person: the gate's door to it is /v1/traffic/query
    # (tests/cli/test_traffic.py proves ingest, retention and delivery).
    def traffic_order(self, **over):
        order = {"authority": "NSK", "reference": "RETSBOG-2026-0042",
                 "case": "C-1", "msisdn": "+4512345678",
                 "from": "2026-01-01T00:00:00Z",
                 "to": "2026-01-02T00:00:00Z"}
        order.update(over)
        return order

    def traffic_audit_since(self, seq):
        return [e for e in self.audit("telenor") if e["seq"] > seq
                and e.get("purpose") == "data_retention_logging"]

    def audit_head(self):
        return max([e["seq"] for e in self.audit("telenor")] or [0])

    def test_TEL_LOG_2_only_cleared_staff_read_logging_data(self):
        lo = ("telenor", "logging_officer")
        cs = ("telenor", "customer_service")
        head = self.audit_head()
        # Not a fact of the person any more.
        r = self.create(lo, logging_subject(), status=400)
        self.assertIn("category 'logging_data' is kept in the traffic store",
                      r.text)
        r = self.call("POST", "/v1/traffic/query", self.traffic_order(), cs)
        err = self.assertDenied(r, "TEL-LOG-2")
        self.assertIn("not security-cleared", err["message"])
        r = self.call("POST", "/v1/traffic/query", self.traffic_order(), lo)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["RDMessage"]["rdPayload"]
                         ["responsePayload"]["numberOfRecords"], 0)
        entries = self.traffic_audit_since(head)
        self.assertEqual([(e["role"], e["allowed"], e["rule"])
                          for e in entries],
                         [("customer_service", False, "TEL-LOG-2"),
                          ("logging_officer", True, "TEL-LOG-3")], entries)

    def test_TEL_LOG_3_police_only_on_court_order(self):
        lo = ("telenor", "logging_officer")
        head = self.audit_head()
        for over in ({"reference": None}, {"reference": ""},
                     {"authority": None}, {"case": None}):
            order = {k: v for k, v in self.traffic_order(**over).items()
                     if v is not None}
            r = self.call("POST", "/v1/traffic/query", order, lo)
            self.assertError(r, 400, "invalid")
            self.assertIn("TEL-LOG-3", r.json()["error"]["message"])
        r = self.call("POST", "/v1/traffic/query", self.traffic_order(), lo)
        self.assertEqual(r.status, 200, r)
        # Uncleared staff cannot ask even with a court order.
        r = self.call("POST", "/v1/traffic/query", self.traffic_order(),
                      ("telenor", "customer_service"))
        self.assertDenied(r, "TEL-LOG-2")
        entries = self.traffic_audit_since(head)
        self.assertEqual([(e["allowed"], e["rule"]) for e in entries],
                         [(False, "TEL-LOG-3")] * 4 + [(True, "TEL-LOG-3"),
                                                       (False, "TEL-LOG-2")])
        self.assertEqual(entries[4]["action"], "disclose:police")
        self.assertIn("court order RETSBOG-2026-0042", entries[4]["reason"])

    def test_CEK_SHARE_1_prior_agreement(self):
        cs = ("cekura", "customer_service")
        sid = self.create(cs, cekura_customer())
        path = "/v1/subjects/%s/agreements/family_members" % sid

        def share():
            return self.disclose(cs, sid, "family_members", "customer_admin",
                                 categories=["name", "phone"])

        self.assertDenied(share(), "CEK-SHARE-1")
        r = self.call("PUT", path, None, cs)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["agreed"], True)
        self.assertReleased(share(), ["name", "phone"])
        # The agreement is with family members, not with the doctor.
        r = self.disclose(cs, sid, "general_practitioner", "special_needs",
                          categories=["name"])
        self.assertEqual(r.status, 403, r)
        r = self.call("DELETE", path, None, cs)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["agreed"], False)
        self.assertDenied(share(), "CEK-SHARE-1")
        self.audited("cekura", sid, True, "CEK-SHARE-1",
                     action="disclose:family_members")
        self.audited("cekura", sid, False, "CEK-SHARE-1",
                     action="disclose:family_members")
        self.audited("cekura", sid, True, "CEK-SHARE-1", action="agreement",
                     reason="family_members")
        self.audited("cekura", sid, True, "CEK-SHARE-1",
                     action="agreement_withdraw")
        # An agreement with a recipient the policy does not list.
        before = self.counts()
        r = self.call("PUT", "/v1/subjects/%s/agreements/neighbour" % sid,
                      None, cs)
        self.assertError(r, 400, "invalid")
        self.assertEqual(self.counts(), before)

    def test_GDPR_7_consent_given_withdrawn_ledger(self):
        cs = ("cekura", "customer_service")
        mk = ("cekura", "marketing")
        sid = self.create(cs, cekura_customer())
        self.assertDenied(self.read(mk, sid, "marketing_consent"), "GDPR-7")
        # A way of giving consent the policy does not name.
        before = self.counts()
        r = self.call("POST", "/v1/subjects/%s/consents" % sid,
                      {"purpose": "marketing_consent", "source": "phone"}, mk)
        self.assertError(r, 400, "invalid")
        self.assertEqual(self.counts(), before)
        r = self.call("POST", "/v1/subjects/%s/consents" % sid,
                      {"purpose": "marketing_consent", "source": "web_form"},
                      mk)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["consent"], "given")
        self.assertReleased(self.read(mk, sid, "marketing_consent"),
                            ["name", "email", "phone"])
        r = self.call("DELETE", "/v1/subjects/%s/consents/marketing_consent"
                      % sid, None, mk)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["consent"], "withdrawn")
        self.assertDenied(self.read(mk, sid, "marketing_consent"), "GDPR-7")
        # The ledger keeps both records: withdrawal is not retroactive.
        rows = self.sql("SELECT given_at, withdrawn_at, text_hash FROM "
                        "consent WHERE subject = ? ORDER BY seq",
                        (self.subject_rowid(sid),))
        self.assertEqual(len(rows), 2, rows)
        self.assertIsNone(rows[0][1], rows)
        self.assertIsNotNone(rows[0][2], "no proof of the consent text")
        self.assertIsNotNone(rows[1][1], rows)
        self.audited("cekura", sid, False, "GDPR-7",
                     purpose="marketing_consent", action="read")
        self.audited("cekura", sid, True, "GDPR-7",
                     action="consent_give", purpose="marketing_consent")
        self.audited("cekura", sid, True, "GDPR-7",
                     action="consent_withdraw", purpose="marketing_consent")
        # Consent to a purpose that does not rest on it is refused.
        r = self.call("POST", "/v1/subjects/%s/consents" % sid,
                      {"purpose": "customer_admin", "source": "web_form"},
                      cs)
        self.assertError(r, 400, "invalid")

    def test_GDPR_21_TEL_MKT_1_objection_stops_marketing_only(self):
        cs = ("telenor", "customer_service")
        mk = ("telenor", "marketing")
        sid = self.create(cs, telenor_customer())
        r = self.call("POST", "/v1/subjects/%s/consents" % sid,
                      {"purpose": "marketing", "source": "web_form"}, mk)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.read(mk, sid, "marketing").status, 200)
        r = self.call("PUT", "/v1/subjects/%s/objection" % sid, None, cs)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["objected"], True)
        self.assertDenied(self.read(mk, sid, "marketing"), "GDPR-21")
        r = self.disclose(mk, sid, "marketing_partners", "marketing",
                          categories=["name"])
        self.assertDenied(r, "GDPR-21")
        # TEL-MKT-1: service messages about own services continue.
        self.assertReleased(self.read(cs, sid, "service_messages"),
                            ["name", "email", "phone", "contract_type"])
        self.audited("telenor", sid, False, "GDPR-21", purpose="marketing")
        self.audited("telenor", sid, True, "GDPR-32",
                     purpose="service_messages")
        self.audited("telenor", sid, True, "GDPR-21", action="object")
        r = self.call("DELETE", "/v1/subjects/%s/objection" % sid, None, cs)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.read(mk, sid, "marketing").status, 200)

    def test_CEK_RIGHTS_1_objection_is_unconditional(self):
        """Direct marketing on legitimate interests (f) stops too."""
        cs = ("cekura", "customer_service")
        mk = ("cekura", "marketing")
        sid = self.create(cs, cekura_customer())
        self.assertReleased(self.read(mk, sid, "marketing_post"),
                            ["name", "address"])
        r = self.call("PUT", "/v1/subjects/%s/objection" % sid, None, cs)
        self.assertEqual(r.status, 200, r)
        self.assertDenied(self.read(mk, sid, "marketing_post"), "GDPR-21")
        # Customer administration continues.
        self.assertEqual(self.read(cs, sid, "customer_admin").status, 200)
        self.audited("cekura", sid, False, "GDPR-21",
                     purpose="marketing_post")

    def test_GDPR_18_SHOP_RIGHTS_1_restriction(self):
        cs = ("webshop", "customer_service")
        mg = ("webshop", "management")
        wid = self.create(cs, webshop_customer())
        self.assertEqual(self.read(cs, wid, "orders").status, 200)
        r = self.call("PUT", "/v1/subjects/%s/restriction" % wid, None, cs)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["restricted"], True)
        self.assertDenied(self.read(cs, wid, "orders"), "GDPR-18")
        r = self.disclose(cs, wid, "payment_gateway", "orders",
                          categories=["customer_name"])
        self.assertDenied(r, "GDPR-18")
        # Legal claims continue while restricted (SHOP-RIGHTS-1).
        self.assertReleased(self.read(mg, wid, "legal_claims"),
                            ["customer_name", "customer_email",
                             "billing_address", "orders"])
        self.audited("webshop", wid, False, "GDPR-18", purpose="orders")
        self.audited("webshop", wid, True, "GDPR-32",
                     purpose="legal_claims")
        self.audited("webshop", wid, True, "GDPR-18", action="restrict")
        r = self.call("DELETE", "/v1/subjects/%s/restriction" % wid, None,
                      cs)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["restricted"], False)
        self.assertEqual(self.read(cs, wid, "orders").status, 200)
        self.audited("webshop", wid, True, "GDPR-18", action="lift")

    def test_CEK_SPECIAL_1_special_category_only_with_consent(self):
        cs = ("cekura", "customer_service")
        health = fact("health", "Diabetes type 1", purpose="special_needs",
                      source="subject")
        consent = {"purpose": "special_needs", "source": "web_form"}
        before = self.counts()
        # Without the person's consent: refused, nothing stored.
        r = self.call("POST", "/v1/subjects", cekura_customer([health]), cs)
        self.assertDenied(r, "consent")
        self.assertNotIn("Diabetes", r.text)
        # Not given by the person (a third party told it): refused.
        told = dict(health, source="third_party")
        r = self.call("POST", "/v1/subjects",
                      cekura_customer([told], [consent]), cs)
        self.assertError(r, 403, "forbidden", secrets=("Diabetes type 1",))
        self.assertEqual(self.counts(), before)
        sid = self.create(cs, cekura_customer([health], [consent]))
        body = self.assertReleased(self.read(cs, sid, "special_needs",
                                             ["health"]), ["health"])
        self.assertEqual(body["facts"][0]["value"], "Diabetes type 1")
        self.assertTrue(body["facts"][0]["provided_by_subject"])
        # Another purpose does not release it.
        self.assertError(self.read(cs, sid, "customer_admin", ["health"]),
                         403, "forbidden")
        r = self.read(cs, sid, "customer_admin")
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("health", [f["category"] for f in r.json()["facts"]])
        self.assertNotIn("Diabetes", r.text)
        # Consent withdrawn: no longer released.
        r = self.call("DELETE", "/v1/subjects/%s/consents/special_needs"
                      % sid, None, cs)
        self.assertEqual(r.status, 200, r)
        r = self.read(cs, sid, "special_needs", ["health"])
        self.assertDenied(r, "CEK-SPECIAL-1", "GDPR-7")
        self.assertNotIn("Diabetes", r.text)
        e = self.audit("cekura", subject=sid)
        denied = [x for x in e if x["purpose"] == "special_needs"
                  and x["action"] == "read" and not x["allowed"]]
        self.assertTrue(denied, e)
        self.assertIn(denied[-1]["rule"], ("CEK-SPECIAL-1", "GDPR-7"))
        self.assertNotIn("Diabetes", json.dumps(e))

    def test_AURA_SHARE_1_rectify_needs_need_to_know(self):
        """Rectification writes personal data: a role with no purpose over
        the fact's category (web analytics; the DPO, who uses no purpose)
        may not overwrite it. Expected 403 naming AURA-SHARE-1 and the
        value unchanged."""
        cs = ("aura-fiber", "customer_service")
        sid = self.create(cs, aura_customer())
        facts = self.read(cs, sid, "identification", ["username"]).json()
        fid, old = facts["facts"][0]["id"], facts["facts"][0]["value"]
        for who in (("aura-fiber", "web_analytics"), ("aura-fiber", "dpo")):
            r = self.call("PATCH", "/v1/subjects/%s/facts/%d" % (sid, fid),
                          {"value": "overtaget%d" % serial()}, who)
            with self.subTest(role=who[1]):
                self.assertDenied(r, "AURA-SHARE-1")
        r = self.read(cs, sid, "identification", ["username"])
        self.assertEqual([f["value"] for f in r.json()["facts"]], [old])

    def test_refused_collection_is_audited_GDPR_32(self):
        """Every decision is audited, allowed or denied: a collection the
        need-to-know rule refuses (403 AURA-SHARE-1) shows in the DPO's
        trail as a denied entry."""
        wa = ("aura-fiber", "web_analytics")
        before = [e["seq"] for e in self.audit("aura-fiber", limit=10000)]
        r = self.call("POST", "/v1/subjects", aura_customer(), wa)
        self.assertDenied(r, "AURA-SHARE-1")
        after = [e for e in self.audit("aura-fiber", limit=10000)
                 if e["seq"] not in before]
        hits = [e for e in after if e["allowed"] is False
                and e["rule"] == "AURA-SHARE-1"
                and e["role"] == "web_analytics"]
        self.assertTrue(hits, "the refused collection left no audit entry; "
                        "new entries: %s" % after)

    def test_SHOP_SPECIAL_1_no_special_category_declared(self):
        """The shop names no sensitive data: none can be stored."""
        cs = ("webshop", "customer_service")
        before = self.counts()
        doc = webshop_customer()
        doc["facts"].append(fact("health", "Gravid, termin i maj"))
        r = self.call("POST", "/v1/subjects", doc, cs)
        self.assertError(r, 400, "invalid", secrets=("Gravid",))
        self.assertEqual(self.counts(), before)

    # -- the audit trail (GDPR-32) --

    def test_audit_only_for_dpo_GDPR_32(self):
        for who in (("telenor", "customer_service"),
                    ("telenor", "logging_officer"),
                    ("cekura", "marketing")):
            r = self.call("GET", "/v1/audit", who=who)
            self.assertError(r, 403, "forbidden")
        # Each refusal is itself in the trail, like every other one.
        refused = [e for e in self.audit("telenor", limit=10000)
                   if e["action"] == "audit_read"]
        self.assertEqual([(e["role"], e["allowed"], e["rule"])
                          for e in refused],
                         [("customer_service", False, "GDPR-32"),
                          ("logging_officer", False, "GDPR-32")])
        self.assertIn("audit_read", {e["action"] for e in
                                     self.audit("cekura", limit=10000)})

    def test_audit_dpo_sees_own_controller_only_GDPR_32(self):
        tid = self.create(("telenor", "customer_service"), telenor_customer())
        cid = self.create(("cekura", "customer_service"), cekura_customer())
        self.read(("telenor", "customer_service"), tid, "contract")
        self.read(("cekura", "customer_service"), cid, "customer_admin")
        tel = self.audit("telenor", limit=10000)
        cek = self.audit("cekura", limit=10000)
        self.assertTrue(tel and cek)
        self.assertEqual({e["controller"] for e in tel}, {"telenor"})
        self.assertEqual({e["controller"] for e in cek}, {"cekura"})
        self.assertIn(tid, {e.get("subject") for e in tel})
        self.assertNotIn(cid, {e.get("subject") for e in tel})
        self.assertEqual(self.audit("telenor", subject=cid), [])
        self.assertEqual(self.audit("cekura", subject=tid), [])
        self.assertNotIn("Ole Jensen", json.dumps(tel))

    def test_audit_filters_subject_and_time_GDPR_32(self):
        cs = ("telenor", "customer_service")
        a = self.create(cs, telenor_customer())
        b = self.create(cs, telenor_customer())
        self.read(cs, a, "contract")
        self.read(cs, b, "contract")
        ea = self.audit("telenor", subject=a)
        self.assertEqual({e["subject"] for e in ea}, {a})
        self.assertEqual([e["action"] for e in ea], ["create", "read"])
        seqs = [e["seq"] for e in ea]
        self.assertEqual(seqs, sorted(seqs))
        at = ea[-1]["at"]
        self.assertRegex(at, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        # FROM <= time < TO
        got = self.audit("telenor", subject=a, **{"from": at})
        self.assertIn(ea[-1]["seq"], [e["seq"] for e in got])
        got = self.audit("telenor", subject=a, to=at)
        self.assertNotIn(ea[-1]["seq"], [e["seq"] for e in got])
        self.assertEqual(self.audit("telenor", to="2000-01-01"), [])
        self.assertEqual(self.audit("telenor", **{"from": "2999-01-01"}), [])
        all_t = self.audit("telenor", **{"from": "2000-01-01",
                                         "to": "2999-01-01"})
        self.assertTrue({a, b} <= {e.get("subject") for e in all_t})
        got = self.audit("telenor", after=ea[0]["seq"], subject=a)
        self.assertEqual([e["seq"] for e in got], seqs[1:])
        self.assertEqual(len(self.audit("telenor", limit=1)), 1)
        for bad in ({"subject": "' OR 1=1 --"}, {"subject": "xyz"},
                    {"from": "yesterday"}, {"to": "2026-13-45"},
                    {"limit": "0"}, {"limit": "-1"}, {"after": "x"}):
            self.assertError(self.audit("telenor", 400, **bad), 400)


# ---- CEK-XFER-1, AURA-XFER-1: transfers ---------------------------------------

US_PROCESSOR = """recipients:
  us_cloud:
    name: US Cloud Inc.
    type: processor
    agreement: DPA-US-CLOUD-1
    country: US
%s    purposes: [%s]
"""


def with_us_processor(src, purpose, safeguard=None, transfers=None):
    """The policy text src with a processor in the US (and optionally a
    transfers list) added."""
    block = US_PROCESSOR % ("    safeguard: %s\n" % safeguard
                            if safeguard else "", purpose)
    assert src.count("\nrecipients:\n") == 1
    out = src.replace("\nrecipients:\n", "\n" + block, 1)
    if transfers is not None:
        out = re.sub(r"(?m)^transfers: .*$", transfers, out)
    return out


class TransferTest(ApiCase):
    """CEK-XFER-1, AURA-XFER-1: a recipient outside the EU/EEA."""

    policies = (CEKURA,)
    serve = False

    def policy_check(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path, run_vaern(["policy", "check", path])

    def test_CEK_XFER_1_no_transfer_at_all(self):
        with open(CEKURA, encoding="utf-8") as f:
            src = f.read()
        _, r = self.policy_check("cek-ok.yaml", src)
        self.assertEqual(r.rc, 0, r)
        for sg in (None, "SCC-2021"):
            _, r = self.policy_check("cek-us.yaml",
                                     with_us_processor(src, "customer_admin",
                                                       sg))
            self.assertNotEqual(r.rc, 0, r)
            self.assertIn("CEK-XFER-1", r.err, r)
        # Nor can such a policy be loaded into a running installation.
        path, _ = self.policy_check("cek-us.yaml",
                                    with_us_processor(src, "customer_admin"))
        r = run_vaern(["--data", self.dir, "policy", "load", path])
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn("CEK-XFER-1", r.err, r)

    def test_serve_policy_option_checks_CEK_XFER_1(self):
        """serve --policy loads a policy before serving, and refuses one
        the checker refuses (here: a transfer under transfers: none)."""
        with open(CEKURA, encoding="utf-8") as f:
            src = f.read()
        bad, _ = self.policy_check("cek-us-serve.yaml",
                                   with_us_processor(src, "customer_admin",
                                                     "SCC-2021"))
        p = subprocess.run([VAERN, "--data", self.dir, "serve", "--listen",
                            "127.0.0.1:0", "--policy", bad],
                           capture_output=True, env=BASE_ENV,
                           timeout=CLI_TIMEOUT)
        self.assertNotEqual(p.returncode, 0, p)
        self.assertIn(b"CEK-XFER-1", p.stderr, p)
        self.assertNotIn(b"listening", p.stdout, p)
        srv = Server(self.dir, os.path.join(self.tmp, "opt.log"),
                     extra=["--policy", WEBSHOP]).start()
        try:
            tok = self.add_actor("webshop", "cs", "customer_service")
            r = srv.request("POST", "/v1/subjects", webshop_customer(), tok)
            self.assertEqual(r.status, 201, r)
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_AURA_XFER_1_safeguard_required(self):
        with open(AURA, encoding="utf-8") as f:
            src = f.read()
        # No safeguard.
        _, r = self.policy_check("aura-nosg.yaml",
                                 with_us_processor(src, "identification"))
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn("AURA-XFER-1", r.err, r)
        # A safeguard that no transfers entry records.
        _, r = self.policy_check("aura-unrec.yaml",
                                 with_us_processor(src, "identification",
                                                   "SCC-2021"))
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn("AURA-XFER-1", r.err, r)
        _, r = self.policy_check(
            "aura-wrong.yaml",
            with_us_processor(src, "identification", "BCR-X",
                              "transfers:\n  - {country: US, safeguard: "
                              "SCC-2021}"))
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn("AURA-XFER-1", r.err, r)

    def test_AURA_XFER_1_recorded_safeguard_allows_transfer(self):
        with open(AURA, encoding="utf-8") as f:
            src = f.read()
        path, r = self.policy_check(
            "aura-sg.yaml",
            with_us_processor(src, "identification", "SCC-2021",
                              "transfers:\n  - {country: US, safeguard: "
                              "SCC-2021}"))
        self.assertEqual(r.rc, 0, r)
        d = os.path.join(self.tmp, "xfer")
        r = run_vaern(["--data", d, "init", "--policy", path])
        self.assertEqual(r.rc, 0, r)
        r = run_vaern(["--data", d, "actor", "add", "--controller",
                       "aura-fiber", "--name", "cs", "--role",
                       "customer_service"])
        self.assertEqual(r.rc, 0, r)
        tok = r.json()["token"]
        srv = Server(d, os.path.join(self.tmp, "xfer.log")).start()
        try:
            r = srv.request("POST", "/v1/subjects", aura_customer(), tok)
            self.assertEqual(r.status, 201, r)
            sid = r.json()["subject"]
            r = srv.request("POST", "/v1/subjects/%s/disclosures" % sid,
                            {"recipient": "us_cloud",
                             "purpose": "identification"}, tok)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["rule"], "AURA-SHARE-1")
            self.assertEqual(len(r.json()["facts"]), 3)
            # Only for the purposes it is listed for.
            r = srv.request("POST", "/v1/subjects/%s/disclosures" % sid,
                            {"recipient": "us_cloud",
                             "purpose": "self_service"}, tok)
            self.assertEqual(r.status, 403, r)
        finally:
            self.assertEqual(srv.stop(), 0)


# ---- 4. bad input ---------------------------------------------------------------

class BadInputTest(ApiCase):
    """GDPR-32, CONVENTIONS habit 5: every bad input gets a clear 4xx JSON
    error, nothing changes, and the value sent is not echoed."""

    policies = (FIXTURE,)
    actors = (("testshop", "staff"), ("testshop", "marketing"))
    STAFF = ("testshop", "staff")
    EMAIL = "anna.hansen@example.dk"
    PHONE = "+45 20 30 40 50"

    @classmethod
    def prepare(cls):
        doc = cls.customer_doc(cls.EMAIL, cls.PHONE)
        r = cls.server.request("POST", "/v1/subjects", doc,
                               cls.tokens[cls.STAFF])
        assert r.status == 201, r
        cls.sid = r.json()["subject"]

    @staticmethod
    def customer_doc(email, phone, extra=()):
        return {"purpose": "customer_admin", "source": "web_form", "facts": [
            fact("name", "Anna Hansen"),
            fact("address", "Nørregade 7, 1165 København K"),
            fact("phone", phone),
            fact("email", email),
            *extra]}

    def setUp(self):
        self.before = self.counts()

    def unchanged(self):
        self.assertEqual(self.counts(), self.before)
        r = self.call("POST", "/v1/subjects/lookup",
                      {"type": "email", "value": self.EMAIL,
                       "purpose": "customer_admin"}, self.STAFF)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["subject"], self.sid)
        self.assertEqual(sorted((f["category"], f["value"])
                                for f in r.json()["facts"]),
                         [("address", "Nørregade 7, 1165 København K"),
                          ("email", self.EMAIL), ("name", "Anna Hansen"),
                          ("phone", "+4520304050")])
        self.assertEqual(self.call("GET", "/healthz").status, 200)
        self.assertIsNone(self.server.proc.poll(), "the server died")

    def new_doc(self, *extra):
        return self.customer_doc(uniq_email("ny"), uniq_phone(), extra)

    def post(self, body, **kw):
        return self.call("POST", "/v1/subjects", body, self.STAFF, **kw)

    def test_malformed_json(self):
        for text in ('{"purpose": "customer_admin", "facts": [',
                     "{'purpose': 'customer_admin'}", "",
                     '{"purpose": "customer_admin",}', "[1, 2", "null",
                     '"just a string"', "42",
                     '{"purpose": "customer_admin"} trailing'):
            r = self.post(text)
            self.assertIn(r.status, (400,), (text, r))
            self.assertError(r, 400, secrets=("customer_admin",)
                             if "customer" in text else ())
        self.unchanged()

    def test_body_over_1_MiB_413(self):
        big = self.new_doc(fact("notes", "x" * (BODY_MAX + 10)))
        data = encode_body(big)
        tok = self.tokens[self.STAFF]
        head = ("POST /v1/subjects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer %s\r\nContent-Type: application/json"
                "\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                % (tok, len(data))).encode()
        status, out = self.server.raw(head, data)
        self.assertEqual(status, 413, out[:400])
        body = json.loads(out.split(b"\r\n\r\n", 1)[1])
        self.assertIn("code", body["error"])
        # Chunked, with no length up front.
        head = ("POST /v1/subjects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer %s\r\nContent-Type: application/json"
                "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                % tok).encode()
        chunks = b"".join(b"%x\r\n" % len(data[i:i + 65536])
                          + data[i:i + 65536] + b"\r\n"
                          for i in range(0, len(data), 65536)) + b"0\r\n\r\n"
        status, out = self.server.raw(head, chunks)
        self.assertEqual(status, 413, out[:400])
        self.unchanged()

    def test_headers_over_16_KiB_431(self):
        r = self.call("GET", "/v1/policy", who=self.STAFF,
                      headers={"X-Padding": "a" * (HEADER_MAX + 100)})
        self.assertError(r, 431)
        r = self.call("POST", "/v1/subjects", self.new_doc(), self.STAFF,
                      headers={"X-Padding-%d" % i: "b" * 1000
                               for i in range(20)})
        self.assertError(r, 431)
        self.unchanged()

    def test_non_utf8_body(self):
        good = json.dumps(self.new_doc()).encode()
        for bad in (good.replace(b"Anna", b"An\xffna"),
                    good.replace(b"Anna", b"An\xc3\x28na"),
                    good.replace(b"Anna", b"\xed\xa0\x80Anna"),
                    good.replace(b"Anna", b"Anna\\ud800"),
                    good.replace(b"Anna", b"An\\u0000na"),
                    b"\xff\xfe{\x00}\x00"):
            self.assertNotEqual(bad, good)
            r = self.post(bad)
            self.assertError(r, 400, secrets=("Anna",))
        # A control character inside a value.
        r = self.post(self.new_doc(fact("notes", "line\u0001break")))
        self.assertError(r, 400)
        self.unchanged()

    def test_unknown_purpose(self):
        doc = self.new_doc()
        doc["purpose"] = "world_domination"
        r = self.post(doc)
        self.assertIn(r.status, (400, 403), r)
        self.assertError(r, r.status, secrets=(doc["facts"][3]["value"],))
        r = self.call("GET", q("/v1/subjects/%s/facts" % self.sid,
                               purpose="world_domination"), who=self.STAFF)
        self.assertError(r, 400, "invalid")
        r = self.call("POST", "/v1/subjects/lookup",
                      {"type": "email", "value": self.EMAIL,
                       "purpose": "world_domination"}, self.STAFF)
        self.assertError(r, 400, "invalid", secrets=(self.EMAIL,))
        r = self.call("POST", "/v1/subjects/%s/consents" % self.sid,
                      {"purpose": "world_domination", "source": "web_form"},
                      self.STAFF)
        self.assertError(r, 400, "invalid")
        r = self.call("DELETE", "/v1/subjects/%s/consents/world_domination"
                      % self.sid, None, self.STAFF)
        self.assertError(r, 400, "invalid")
        self.unchanged()

    def test_unknown_category(self):
        r = self.post(self.new_doc(fact("shoe_size", "43")))
        self.assertError(r, 400, "invalid", secrets=())
        r = self.call("GET", q("/v1/subjects/%s/facts" % self.sid,
                               purpose="customer_admin",
                               categories="name,shoe_size"), who=self.STAFF)
        self.assertError(r, 400, "invalid")
        r = self.call("POST", "/v1/subjects/lookup",
                      {"type": "email", "value": self.EMAIL,
                       "purpose": "customer_admin",
                       "categories": ["shoe_size"]}, self.STAFF)
        self.assertError(r, 400, "invalid", secrets=(self.EMAIL,))
        # A category the purpose does not use (GDPR Art. 5(1)(b)).
        r = self.call("GET", q("/v1/subjects/%s/facts" % self.sid,
                               purpose="newsletter", categories="address"),
                      who=self.STAFF)
        self.assertError(r, 403, "forbidden")
        # An empty category list is not "all".
        r = self.call("GET", q("/v1/subjects/%s/facts" % self.sid,
                               purpose="customer_admin", categories=""),
                      who=self.STAFF)
        self.assertIn(r.status, (400, 403), r)
        self.assertNotIn("Anna", r.text)
        self.unchanged()

    def test_wrong_token(self):
        doc = self.new_doc()
        r = self.call("POST", "/v1/subjects", doc,
                      "vaern_0123456789abcdef_" + "A" * 43)
        self.assertError(r, 401, "unauthorized",
                         secrets=(doc["facts"][3]["value"],))
        self.unchanged()

    def test_sql_and_path_in_lookup_values(self):
        for t in ("email", "phone", "cpr", "username", "other"):
            for v in ("' OR 1=1 --", "../../etc/passwd",
                      "x'; DROP TABLE subject; --", "%00", "*"):
                r = self.call("POST", "/v1/subjects/lookup",
                              {"type": t, "value": v,
                               "purpose": "customer_admin"}, self.STAFF)
                self.assertIn(r.status, (400, 404), (t, v, r))
                self.assertError(r, r.status, secrets=(v,) if len(v) > 2
                                 else ())
                self.assertNotIn("Anna", r.text)
        r = self.call("POST", "/v1/subjects/lookup",
                      {"type": "' OR 1=1 --", "value": self.EMAIL,
                       "purpose": "customer_admin"}, self.STAFF)
        self.assertError(r, 400, secrets=(self.EMAIL,))
        self.unchanged()

    def test_sql_and_path_in_id_segment(self):
        probes = ("' OR 1=1 --", "../../etc/passwd", "..", "%",
                  self.sid.upper() + "00", self.sid[:-1] + "g",
                  "0" * 32, "x" * 300)
        for p in probes:
            for method, tmpl, body in (
                    ("GET", "/v1/subjects/%s/facts?purpose=customer_admin",
                     None),
                    ("PATCH", "/v1/subjects/%s/facts/1", {"value": "X"}),
                    ("POST", "/v1/subjects/%s/events",
                     {"kind": "last_contact"}),
                    ("PUT", "/v1/subjects/%s/restriction", None),
                    ("POST", "/v1/subjects/%s/consents",
                     {"purpose": "newsletter", "source": "web_form"})):
                r = self.call(method, tmpl % seg(p), body, self.STAFF)
                self.assertIn(r.status, (400, 404), (method, p, r))
                self.assertError(r, r.status)
                self.assertNotIn("Anna", r.text)
        # Unencoded dot segments and traversal in the other segments.
        for path in ("/v1/subjects/../../etc/passwd/facts?purpose=x",
                     "/v1/subjects/%s/../../../etc/passwd" % self.sid,
                     "/v1/subjects/%2e%2e%2f%2e%2e%2fetc%2fpasswd/facts"
                     "?purpose=customer_admin",
                     "/v1/subjects/%s/facts/%s" % (self.sid,
                                                   seg("1 OR 1=1")),
                     "/v1/subjects/%s/facts/-1" % self.sid,
                     "/v1/subjects/%s/facts/999999" % self.sid,
                     "/v1/subjects/%s/consents/%s" % (self.sid,
                                                      seg("' OR 1=1 --")),
                     "/v1/subjects/%s/agreements/%s"
                     % (self.sid, seg("../../etc/passwd"))):
            for method in ("GET", "PATCH", "DELETE", "PUT"):
                r = self.call(method, path,
                              {"value": "X"} if method == "PATCH" else None,
                              self.STAFF)
                self.assertIn(r.status, (400, 404, 405), (method, path, r))
                self.assertError(r, r.status)
        self.unchanged()

    def test_duplicate_json_keys(self):
        text = json.dumps(self.new_doc())
        dup = '{"purpose": "newsletter", ' + text[1:]
        r = self.post(dup)
        self.assertError(r, 400)
        inner = text.replace('"category": "name"',
                             '"category": "name", "category": "notes"', 1)
        self.assertNotEqual(inner, text)
        r = self.post(inner)
        self.assertError(r, 400, secrets=("Anna Hansen",))
        self.unchanged()

    def test_unknown_json_keys(self):
        doc = self.new_doc()
        doc["is_admin"] = True
        self.assertError(self.post(doc), 400, "invalid")
        doc = self.new_doc()
        doc["facts"][0]["encrypted"] = "no"
        self.assertError(self.post(doc), 400, "invalid",
                         secrets=(doc["facts"][3]["value"],))
        r = self.call("POST", "/v1/subjects/lookup",
                      {"type": "email", "value": self.EMAIL,
                       "purpose": "customer_admin", "role": "admin"},
                      self.STAFF)
        self.assertError(r, 400, "invalid", secrets=(self.EMAIL,))
        r = self.call("PATCH", "/v1/subjects/%s/facts/1" % self.sid,
                      {"value": "Eve", "category": "email"}, self.STAFF)
        self.assertError(r, 400, "invalid", secrets=("Eve",))
        # A value of the wrong JSON type.
        doc = self.new_doc()
        doc["facts"][0]["value"] = 12345
        self.assertIn(self.post(doc).status, (400,))
        self.unchanged()

    def test_wrong_content_type_415(self):
        data = encode_body(self.new_doc())
        for ctype in ("text/plain", "application/x-www-form-urlencoded",
                      "multipart/form-data; boundary=x", "application/xml",
                      None):
            r = self.post(data, content_type=ctype)
            self.assertError(r, 415)
        r = self.call("PATCH", "/v1/subjects/%s/facts/1" % self.sid,
                      {"value": "Eve"}, self.STAFF, content_type="text/json")
        self.assertError(r, 415)
        self.unchanged()

    def test_full_card_number_refused_SHOP_PAY_1(self):
        for cat, value in (("notes", "Kort 4111 1111 1111 1111 udl. 12/29"),
                           ("notes", "4111111111111111"),
                           ("card", "4111 1111 1111 1111"),
                           ("card", "5500-0000-0000-0004 12/29")):
            r = self.post(self.new_doc(fact(cat, value)))
            self.assertIn(r.status, (400, 403), (cat, r))
            err = self.assertError(r, r.status,
                                   secrets=(value, "4111111111111111",
                                            "1111 1111", "5500"))
            self.assertIn("SHOP-PAY-1", err["message"])
        # Nor by rectification.
        r = self.call("PATCH", "/v1/subjects/%s/facts/1" % self.sid,
                      {"value": "4111 1111 1111 1111"}, self.STAFF)
        self.assertIn(r.status, (400, 403), r)
        self.assertError(r, r.status, secrets=("4111 1111 1111 1111",))
        self.unchanged()
        # The last 4 digits and the expiry are fine.
        r = self.post(self.new_doc(fact("card", "1111 12/29")))
        self.assertEqual(r.status, 201, r)

    def test_missing_purpose_on_read_400(self):
        r = self.call("GET", "/v1/subjects/%s/facts" % self.sid,
                      who=self.STAFF)
        self.assertError(r, 400, "invalid", mentions="purpose")
        self.assertNotIn("Anna", r.text)
        r = self.call("POST", "/v1/subjects/lookup",
                      {"type": "email", "value": self.EMAIL}, self.STAFF)
        self.assertError(r, 400, "invalid", secrets=(self.EMAIL,))
        r = self.call("POST", "/v1/subjects/%s/disclosures" % self.sid,
                      {"recipient": "x"}, self.STAFF)
        self.assertError(r, 400, "invalid")
        doc = self.new_doc()
        del doc["purpose"]
        self.assertError(self.post(doc), 400, "invalid")
        self.unchanged()

    def test_invalid_identifier_not_echoed(self):
        for field, value in (("email", "anna.hansen@@example.dk"),
                             ("email", "anna hansen@example.dk"),
                             ("phone", "+45 1234567890123456"),
                             ("phone", "ring 20304050")):
            doc = self.new_doc()
            for f in doc["facts"]:
                if f["category"] == field:
                    f["value"] = value
            r = self.post(doc)
            self.assertError(r, 400, "invalid", secrets=(value,))
            r = self.call("POST", "/v1/subjects/lookup",
                          {"type": field, "value": value,
                           "purpose": "customer_admin"}, self.STAFF)
            self.assertError(r, 400, "invalid", secrets=(value,))
        self.unchanged()

    def test_rectify_to_another_subjects_identifier_GDPR_16(self):
        other = uniq_email("anden")
        r = self.post(self.customer_doc(other, uniq_phone()))
        self.assertEqual(r.status, 201, r)
        osid = r.json()["subject"]
        self.before = self.counts()
        r = self.call("GET", q("/v1/subjects/%s/facts" % osid,
                               purpose="customer_admin", categories="email"),
                      who=self.STAFF)
        fid = r.json()["facts"][0]["id"]
        r = self.call("PATCH", "/v1/subjects/%s/facts/%d" % (osid, fid),
                      {"value": self.EMAIL}, self.STAFF)
        self.assertError(r, 409, "conflict", secrets=(self.EMAIL,))
        r = self.call("POST", "/v1/subjects/lookup",
                      {"type": "email", "value": other,
                       "purpose": "customer_admin", "categories": ["email"]},
                      self.STAFF)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["subject"], osid)
        self.assertEqual([f["value"] for f in r.json()["facts"]], [other])
        self.unchanged()

    def test_duplicate_identifier_conflict(self):
        r = self.post(self.customer_doc(self.EMAIL, uniq_phone()))
        self.assertIn(r.status, (400, 409), r)
        self.assertError(r, r.status, secrets=(self.EMAIL,))
        self.unchanged()

    def test_consent_purpose_without_consent_refused_GDPR_7(self):
        doc = self.new_doc()
        doc["facts"].append(fact("notes", "x"))
        for f in doc["facts"]:
            if f["category"] == "email":
                f["purpose"] = "newsletter"
        r = self.post(doc)
        self.assertDenied(r, "consent")
        self.unchanged()

    def test_special_category_needs_consent_SHOP_SPECIAL_1(self):
        h = fact("health", "Astma", purpose="care", source="subject")
        r = self.post(self.new_doc(h))
        self.assertError(r, 403, "forbidden", secrets=("Astma",))
        r = self.post(self.new_doc(dict(h, purpose="customer_admin")))
        self.assertIn(r.status, (400, 403), r)
        self.assertError(r, r.status, secrets=("Astma",))
        self.unchanged()


# ---- 5. audit tamper --------------------------------------------------------------

class AuditTamperTest(ApiCase):
    """GDPR-32: the audit trail is a hash chain; `vaern audit verify`
    names the first entry changed or removed."""

    policies = (TELENOR,)
    actors = (("telenor", "customer_service"), ("telenor", "marketing"),
              ("telenor", "dpo"))

    @classmethod
    def prepare(cls):
        cs = cls.tokens[("telenor", "customer_service")]
        mk = cls.tokens[("telenor", "marketing")]
        for _ in range(3):
            r = cls.server.request("POST", "/v1/subjects",
                                   telenor_customer(), cs)
            assert r.status == 201, r
            sid = r.json()["subject"]
            cls.server.request("GET", q("/v1/subjects/%s/facts" % sid,
                                        purpose="contract"), token=cs)
            cls.server.request("GET", q("/v1/subjects/%s/facts" % sid,
                                        purpose="marketing"), token=mk)
        cls.stop_rc = cls.server.stop()

    def copy(self, name):
        d = os.path.join(self.tmp, name)
        dbpeek.copy_data_dir(self.dir, d)
        return d, audit_db(d)

    def verify(self, d):
        return run_vaern(["--data", d, "audit", "verify"])

    def test_clean_trail_verifies(self):
        self.assertEqual(self.stop_rc, 0)
        r = self.verify(self.dir)
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(r.json()["ok"])
        self.assertEqual(r.json()["entries"], 9)

    def test_changed_reason_named_GDPR_32(self):
        d, db = self.copy("changed")
        con = dbpeek.connect(db)
        with con:
            n = con.execute("UPDATE audit SET reason = 'nothing to see' "
                            "WHERE seq = 5").rowcount
        con.close()
        self.assertEqual(n, 1)
        r = self.verify(d)
        self.assertEqual(r.rc, 1, r)
        doc = r.json()
        self.assertFalse(doc["ok"])
        self.assertEqual(doc["first_bad"], 5, doc)
        self.assertEqual(doc["problem"], "changed", doc)
        self.assertIn("5", r.err)

    def test_changed_decision_named_GDPR_32(self):
        d, db = self.copy("decision")
        con = dbpeek.connect(db)
        with con:
            con.execute("UPDATE audit SET decision = 1 - decision "
                        "WHERE seq = 3")
        con.close()
        r = self.verify(d)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.json()["first_bad"], 3, r)

    def test_deleted_row_named_GDPR_32(self):
        d, db = self.copy("deleted")
        con = dbpeek.connect(db)
        with con:
            con.execute("DELETE FROM audit WHERE seq = 4")
        con.close()
        r = self.verify(d)
        self.assertEqual(r.rc, 1, r)
        doc = r.json()
        self.assertEqual(doc["first_bad"], 4, doc)
        self.assertEqual(doc["problem"], "missing", doc)
        self.assertIn("4", doc["message"])

    def test_tampered_trail_read_by_dpo(self):
        """The DPO's view over HTTP still answers after tampering."""
        d, db = self.copy("served")
        con = dbpeek.connect(db)
        with con:
            con.execute("UPDATE audit SET reason = 'x' WHERE seq = 2")
        con.close()
        srv = Server(d, os.path.join(self.tmp, "served.log")).start()
        try:
            r = srv.request("GET", "/v1/audit",
                            token=self.tokens[("telenor", "dpo")])
            self.assertEqual(r.status, 200, r)
            self.assertEqual(len(r.json()["entries"]), 9)
        finally:
            self.assertEqual(srv.stop(), 0)


# ---- 6. round trip ------------------------------------------------------------------

class RoundTripTest(ApiCase):
    """Create, look up, read by category, rectify (GDPR-16), events."""

    policies = (TELENOR,)
    actors = (("telenor", "customer_service"), ("telenor", "dpo"))
    CS = ("telenor", "customer_service")

    def test_round_trip_GDPR_16(self):
        email, phone = uniq_email("rundtur"), uniq_phone()
        before = self.counts()
        r = self.call("POST", "/v1/subjects", telenor_customer(email, phone),
                      self.CS)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["facts"], 5)
        self.assertIsNotNone(r.header("Location"))
        sid = r.json()["subject"]
        self.assertRegex(sid, HEX32)
        self.assertNotIn("Ole", r.text)
        after = self.counts()
        self.assertEqual(after["subject"], before["subject"] + 1)
        self.assertEqual(after["fact"], before["fact"] + 5)
        self.assertEqual(after["identifier"], before["identifier"] + 2)

        # Look up by e-mail (normalised), with a purpose.
        r = self.call("POST", "/v1/subjects/lookup",
                      {"type": "email", "value": email.upper(),
                       "purpose": "contract"}, self.CS)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["subject"], sid)
        self.assertEqual(doc["purpose"], "contract")
        by_cat = {f["category"]: f for f in doc["facts"]}
        self.assertEqual(set(by_cat), {"name", "address", "email", "phone",
                                       "contract_type"})
        self.assertEqual(by_cat["name"]["value"], "Ole Jensen")
        self.assertEqual(by_cat["email"]["value"], email)
        self.assertEqual(by_cat["contract_type"]["source"], "web_form")
        # Only the categories asked for.
        r = self.call("POST", "/v1/subjects/lookup",
                      {"type": "phone", "value": phone, "purpose": "contract",
                       "categories": ["name"]}, self.CS)
        self.assertReleased(r, ["name"])
        r = self.read(self.CS, sid, "contract", ["name", "email"])
        self.assertReleased(r, ["name", "email"])
        r = self.read(self.CS, sid, "service_messages")
        self.assertReleased(r, ["name", "email", "phone", "contract_type"])

        # Rectify the e-mail (GDPR-16): the new value, found by it.
        fid = by_cat["email"]["id"]
        new_email = uniq_email("rettet")
        r = self.call("PATCH", "/v1/subjects/%s/facts/%d" % (sid, fid),
                      {"value": new_email}, self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["rectified"], True)
        self.assertNotIn(new_email, r.text)
        r = self.read(self.CS, sid, "contract", ["email"])
        self.assertEqual([f["value"] for f in r.json()["facts"]], [new_email])
        r = self.call("POST", "/v1/subjects/lookup",
                      {"type": "email", "value": new_email,
                       "purpose": "contract", "categories": ["email"]},
                      self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["subject"], sid)
        r = self.call("POST", "/v1/subjects/lookup",
                      {"type": "email", "value": email,
                       "purpose": "contract"}, self.CS)
        self.assertError(r, 404, "not_found", secrets=(email,))
        # Rectify a plain fact.
        nid = by_cat["name"]["id"]
        r = self.call("PATCH", "/v1/subjects/%s/facts/%d" % (sid, nid),
                      {"value": "Ole B. Jensen"}, self.CS)
        self.assertEqual(r.status, 200, r)
        r = self.read(self.CS, sid, "contract", ["name"])
        self.assertEqual([f["value"] for f in r.json()["facts"]],
                         ["Ole B. Jensen"])
        self.assertEqual(self.counts()["fact"], after["fact"])
        # A fact that does not exist; an invalid value.
        r = self.call("PATCH", "/v1/subjects/%s/facts/999" % sid,
                      {"value": "x"}, self.CS)
        self.assertError(r, 404)
        r = self.call("PATCH", "/v1/subjects/%s/facts/%d" % (sid, fid),
                      {"value": "not an e-mail"}, self.CS)
        self.assertError(r, 400, "invalid", secrets=("not an e-mail",))
        self.audited("telenor", sid, True, "GDPR-16", action="rectify")

        # Events.
        n_events = self.counts()["event"]
        r = self.call("POST", "/v1/subjects/%s/events" % sid,
                      {"kind": "relationship_end"}, self.CS)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["event"], "relationship_end")
        r = self.call("POST", "/v1/subjects/%s/events" % sid,
                      {"kind": "consent_last_used",
                       "at": "2026-01-02T03:04:05Z"}, self.CS)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["at"], "2026-01-02T03:04:05Z")
        self.assertEqual(self.counts()["event"], n_events + 2)
        for bad in ({"kind": "birthday"}, {"kind": "relationship_end",
                                           "at": "soon"},
                    {"kind": "relationship_end", "at": "2999-01-01"}, {}):
            r = self.call("POST", "/v1/subjects/%s/events" % sid, bad,
                          self.CS)
            self.assertError(r, 400, "invalid")
        self.assertEqual(self.counts()["event"], n_events + 2)
        self.audited("telenor", sid, True, "GDPR-32", action="event",
                     reason="relationship_end")
        self.audited("telenor", sid, True, "GDPR-32", action="create")
        # The request log holds routes and statuses, no personal data.
        log = self.server.log()
        self.assertIn('"route":"subject_lookup"', log)
        for secret in ("Ole", "Jensen", email, new_email, phone, sid,
                       "Nørregade", "postpaid"):
            self.assertNotIn(secret, log)


# ---- issue 11: facts added to a known person --------------------------------

class FactsAddTest(ApiCase):
    """POST /v1/subjects/{id}/facts (AURA-PORTAL-2, TEL-LOG-1, CEK-RET-4):
    every check of a create, through the gate per purpose, audited."""
    policies = (TELENOR, CEKURA, AURA)
    actors = (("telenor", "customer_service"), ("telenor", "logging_officer"),
              ("telenor", "bookkeeper"), ("telenor", "dpo"),
              ("cekura", "customer_service"),
              ("cekura", "customer_service_manager"), ("cekura", "dpo"),
              ("aura-fiber", "customer_service"), ("aura-fiber", "dpo"))
    CS = ("telenor", "customer_service")
    LOG = ("telenor", "logging_officer")

    def add(self, who, sid, body):
        return self.call("POST", "/v1/subjects/%s/facts" % sid, body, who)

    def deleted_by(self, who, sid, category):
        """The dates the facts of category go, from the answer to a
        verified access request fetched by who."""
        r = self.call("POST", "/v1/requests", {
            "type": "access", "subject": sid, "channel": "letter"}, who)
        self.assertEqual(r.status, 201, r)
        rid = r.json()["id"]
        r = self.call("POST", "/v1/requests/%s/verification" % rid,
                      {"attestation": "id card seen"}, who)
        self.assertEqual(r.status, 200, r)
        r = self.call("GET", "/v1/requests/%s/report" % rid, who=who)
        self.assertEqual(r.status, 200, r)
        self.call("PATCH", "/v1/requests/" + rid, {"status": "completed"},
                  who)
        return [f["deleted_by"] for c in r.json()["categories"]
                if c["category"] == category for f in c["facts"]]

    def test_TEL_LOG_1_logging_data_is_not_a_fact_of_the_customer(self):
        """TEL-LOG-1 (issue 18): a call's location goes to the retained-data
        store, never as a fact of the customer who made it -- not even by
        the cleared officer: refused, nothing changed, no value echoed."""
        sid = self.create(self.CS, telenor_customer())
        before = self.counts()
        r = self.add(self.LOG, sid, fact(
            "logging_data", "Mast 17 Aarhus, opkald kl. 10:00",
            purpose="data_retention_logging",
            collected_at="2026-01-05T10:00:00Z"))
        self.assertError(r, 400, "invalid")
        self.assertIn("category 'logging_data' is kept in the traffic store",
                      r.text)
        self.assertNotIn("Mast 17", r.text)
        self.assertEqual(self.counts(), before)

    def test_TEL_LOG_2_AURA_SHARE_1_role_must_use_the_purpose(self):
        """The gate decides the collection: customer service may not store
        logging data (TEL-LOG-2), nor a purpose it lacks (AURA-SHARE-1);
        refused, audited, nothing changed."""
        sid = self.create(self.CS, telenor_customer())
        before = self.counts()
        # Logging data is no fact at all (issue 18): refused before the
        # gate, for every role.
        r = self.add(self.CS, sid, fact("logging_data", "Mast 9 Odder",
                                        purpose="data_retention_logging"))
        self.assertError(r, 400, "invalid")
        self.assertNotIn("Mast 9", r.text)
        r = self.add(self.CS, sid, fact("invoices", "Faktura 1001",
                                        purpose="bookkeeping"))
        self.assertDenied(r, "AURA-SHARE-1")
        self.assertEqual(self.counts(), before)
        self.audited("telenor", sid, False, "AURA-SHARE-1", action="collect",
                     role="customer_service")

    def test_AURA_PORTAL_2_bulk_product_change(self):
        """AURA-PORTAL-2: a product change from Mit AURA is stored with the
        known customer under self_service (basis b), several at once."""
        cs = ("aura-fiber", "customer_service")
        sid = self.create(cs, aura_customer())
        r = self.add(cs, sid, {"purpose": "self_service", "source": "portal",
                               "facts": [
                                   fact("product_change", "1000/1000 Mbit"),
                                   fact("agreement", "Fiber 1000",
                                        source="controller")]})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["facts"], 2)
        first, second = r.json()["fact_ids"]
        self.assertEqual(second, first + 1)
        got = self.assertReleased(
            self.read(cs, sid, "self_service",
                      ["product_change", "agreement"]),
            ["product_change", "agreement"])
        self.assertEqual(sorted(f["value"] for f in got["facts"]),
                         ["1000/1000 Mbit", "Fiber 1000"])

    def test_CEK_RET_4_call_recording_kept_2_months_after_subscription(self):
        """CEK-RET-4: a call recorded during the subscription is kept until
        2 months after it ends (the day before: kept; the day: goes)."""
        sid = self.create(("cekura", "customer_service"), cekura_customer())
        csm = ("cekura", "customer_service_manager")
        r = self.add(csm, sid, fact("call_recordings", "opkald-2026-01-05.ogg",
                                    purpose="call_recording"))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.deleted_by(csm, sid, "call_recordings"),
                         [None])
        for kind, at in (("subscription_start", "2026-01-01"),
                         ("subscription_end", "2026-03-15")):
            r = self.call("POST", "/v1/subjects/%s/events" % sid,
                          {"kind": kind, "at": at}, csm)
            self.assertEqual(r.status, 201, r)
        # Deleted by 2026-05-15: kept on 2026-05-14, gone on the 15th.
        self.assertEqual(self.deleted_by(csm, sid, "call_recordings"),
                         ["2026-05-15"])

    def test_GDPR_32_bad_input_names_the_fact_changes_nothing(self):
        """Each refusal names the fact and the rule, never the value, and
        nothing changes (all or nothing)."""
        sid = self.create(self.CS, telenor_customer())
        other = self.create(self.CS, telenor_customer())
        taken = [f["value"] for f in telenor_customer()["facts"]
                 if f["category"] == "email"]
        before = self.counts()
        cases = [
            ({"purpose": "contract", "facts": [
                fact("name", "Ole J"), fact("shoe_size", "44")]}, 400,
             "fact 2"),
            ({"purpose": "contract", "facts": [
                fact("payment_details", "4111 1111 1111 1111")]}, 403,
             "SHOP-PAY-1"),
            ({"purpose": "contract", "facts": [
                fact("email", "not-an-address")]}, 400, "fact 1"),
            ({"purpose": "contract", "facts": [
                fact("name", "Ole J"), fact("usage", "x",
                                            purpose="marketing")]},
             403, "rests on consent"),
            ({"purpose": "contract", "facts": []}, 400, "1 to"),
            ({"category": "name", "value": "x", "facts": []}, 400,
             "not both"),
            ({"purpose": "contract", "facts": [
                fact("name", "Ole J", collected_at="2999-01-01")]}, 400,
             "future"),
        ]
        for body, status, mention in cases:
            r = self.add(self.CS, sid, body)
            self.assertError(r, status, mentions=mention,
                             secrets=("4111 1111", "not-an-address",
                                      "Ole J"))
        # Another subject's e-mail: 409, nothing stored.
        r = self.call("GET", q("/v1/subjects/%s/facts" % other,
                               purpose="contract", categories="email"),
                      who=self.CS)
        email = r.json()["facts"][0]["value"]
        r = self.add(self.CS, sid, {"purpose": "contract", "facts": [
            fact("name", "Ole J"), fact("email", email)]})
        self.assertError(r, 409, "conflict", secrets=(email,))
        self.assertEqual(self.counts(), before)
        self.assertError(self.add(self.CS, "00" * 16, fact(
            "name", "x", purpose="contract")), 404)
        del taken

    def test_GDPR_18_restricted_subject_only_while_restricted_purposes(self):
        """GDPR-18: while restricted, nothing new is collected for an
        ordinary purpose; bookkeeping (while_restricted) goes on."""
        sid = self.create(self.CS, telenor_customer())
        r = self.call("PUT", "/v1/subjects/%s/restriction" % sid, None,
                      self.CS)
        self.assertIn(r.status, (200, 201, 204), r)
        before = self.counts()
        self.assertDenied(self.add(self.CS, sid, fact(
            "customer_service_contacts", "Ringede om regning",
            purpose="contract")), "GDPR-18")
        self.assertEqual(self.counts(), before)
        r = self.add(("telenor", "bookkeeper"), sid, fact(
            "invoices", "Faktura 1001: 299 kr", purpose="bookkeeping"))
        self.assertEqual(r.status, 201, r)
        # The new e-mail of an identifier category is found by lookup.

    def test_AURA_PORTAL_2_new_identifier_is_found(self):
        """A new identifier added to a person finds that person."""
        sid = self.create(self.CS, telenor_customer())
        email = uniq_email("ny")
        r = self.add(self.CS, sid, fact("email", email, purpose="contract"))
        self.assertEqual(r.status, 201, r)
        r = self.call("POST", "/v1/subjects/lookup", {
            "type": "email", "value": email, "purpose": "contract",
            "categories": ["email"]}, self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["subject"], sid)


if __name__ == "__main__":
    unittest.main(verbosity=2)
