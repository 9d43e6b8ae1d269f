#!/usr/bin/env python3
"""Black-box tests of the self-service portal (issue 16): the real `vaern
serve` on loopback, driven over HTTP as a browser without JavaScript
would (forms, cookies, redirects), on the shipped seed policies.

Clauses: AURA-LOGIN-1 (the policy's identifier sets, one-time codes, no
enumeration, throttling), AURA-PORTAL-1 (a session holds only the
person's id: hashed token, __Host- cookie, idle and absolute timeouts,
logout; every page read through the gate as the data subject, audited),
AURA-PORTAL-2 (agreement and products, a product change under basis b),
AURA-COOKIE-1 and AOPT-COOKIE-1 (the banner, statistics only when
accepted, Sec-GPC, gpc.json), AURA-SEC-1 (CSP, CSRF token and Origin),
GDPR-7, GDPR-12, GDPR-15, GDPR-20, GDPR-21 (the rights on the portal,
through the staff's request queue).
Standard library only.
"""
import glob
import hashlib
import base64
import http.client
import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

import dbpeek
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api import (AURA, CEKURA, BASE_ENV, HTTP_TIMEOUT, VAERN,  # noqa
                      ApiCase, Server, fact, q, run_vaern, serial)

SESSION = "__Host-vaern_session"
LOGIN = "__Host-vaern_login"
FLOOR = 0.4  # PORTAL_LOGIN_FLOOR_MS


class Page:
    def __init__(self, status, headers, cookies, body):
        self.status = status
        self.headers = headers      # lower-case name -> last value
        self.cookies = cookies      # every Set-Cookie line
        self.body = body
        self.text = body.decode("utf-8", "replace")

    def header(self, name):
        return self.headers.get(name.lower())

    def csrf(self):
        m = re.search(r'name="csrf" value="([A-Za-z0-9_-]+)"', self.text)
        assert m, "no CSRF field in %r" % self.text[:400]
        return m.group(1)

    def __repr__(self):
        return "HTTP %d %r" % (self.status, self.text[:400])


class Browser:
    """A cookie jar and forms over the real server: what a browser
    without JavaScript does."""

    def __init__(self, server, lang="en"):
        self.server = server
        self.jar = {}
        self.lang = lang

    def request(self, method, path, body=None, headers=None):
        h = {"Host": "127.0.0.1:%d" % self.server.port}
        if self.lang:
            h["Accept-Language"] = self.lang
        if self.jar:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.jar.items())
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port,
                                          timeout=HTTP_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            payload = r.read()
            cookies = [v for k, v in r.getheaders()
                       if k.lower() == "set-cookie"]
            headers = {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()
        for c in cookies:
            name, _, rest = c.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in c:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return Page(r.status, headers, cookies, payload)

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def post(self, path, fields, csrf=None, origin=True, headers=None):
        h = dict(headers or {})
        if origin:
            h["Origin"] = "http://127.0.0.1:%d" % self.server.port
        pairs = list(fields.items()) if isinstance(fields, dict) else fields
        if csrf is not None:
            pairs = [("csrf", csrf)] + pairs
        return self.request("POST", path, urlencode(pairs).encode(), h)


def spooled_codes(data_dir):
    """Every one-time login code spooled so far, oldest first, with its
    message."""
    out = []
    files = glob.glob(os.path.join(data_dir, "outbox", "*portal-login*.json"))
    # The name holds the (maybe fixed) clock, then the real time in ns.
    for f in sorted(files, key=lambda f: re.search(
            r"Z-(\d{19})-", os.path.basename(f)).group(1)):
        with open(f) as fh:
            msg = json.load(fh)
        out.append((re.search(r"(\d{8})", msg["body"]).group(1), msg))
    return out


class PortalCase(ApiCase):
    policies = (AURA, CEKURA)
    actors = (("aura-fiber", "customer_service"), ("aura-fiber", "dpo"),
              ("cekura", "customer_service"), ("cekura", "dpo"))

    def aura_person(self, agreement="Fiber 500/500 Mbit"):
        """A new AURA customer: (subject id, username, installation and
        contract numbers, e-mail)."""
        n = serial()
        user, inst, contract = "kunde%d" % n, "INST-%d" % n, "K-%d" % n
        email = "kunde%d@example.dk" % n
        sid = self.create(("aura-fiber", "customer_service"), {
            "purpose": "identification",
            "facts": [fact("username", user), fact("installation_number",
                                                    inst),
                      fact("contract_number", contract),
                      fact("email", email),
                      fact("agreement", agreement, purpose="self_service")],
            "consents": []})
        return sid, user, inst, contract, email

    def start_login(self, b, controller, way, values, status=303):
        page = b.get("/portal/%s/login" % controller)
        self.assertEqual(page.status, 200, page)
        fields = [("way", str(way))]
        fields += [("v%d" % (i + 1), v) for i, v in enumerate(values)]
        fields.append(("proof", "code"))
        r = b.post("/portal/%s/login" % controller, fields, page.csrf())
        self.assertEqual(r.status, status, r)
        if status == 303:
            self.delivered()
        return r

    def delivered(self, timeout=20):
        """Waits until the delivery thread has taken every queued code
        (AURA-LOGIN-1: a login queues its code, nobody's too; the thread
        sends it or drops it): the spool then holds what it will."""
        deadline = time.monotonic() + timeout
        while self.sql("SELECT count(*) FROM portal_code_out")[0][0]:
            self.assertLess(time.monotonic(), deadline,
                            "a queued code was never delivered")
            time.sleep(0.02)

    def login(self, controller, way, values, lang="en"):
        """A browser logged in by a code from the spool."""
        b = Browser(self.server, lang)
        before = len(spooled_codes(self.dir))
        self.start_login(b, controller, way, values)
        codes = spooled_codes(self.dir)
        self.assertEqual(len(codes), before + 1, "no code spooled")
        page = b.get("/portal/%s/code" % controller)
        r = b.post("/portal/%s/code" % controller, {"code": codes[-1][0]},
                   page.csrf())
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.header("Location"),
                         "/portal/%s/overview" % controller)
        self.assertIn(SESSION, b.jar)
        return b

    def audit_actions(self, controller, sid=None):
        entries = self.audit(controller, **({"subject": sid} if sid
                                            else {}))
        return entries


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Login(PortalCase):

    def test_AURA_LOGIN_1_username_and_code(self):
        """AURA-LOGIN-1: a username proved by a one-time code sent to the
        e-mail on record opens a session; the overview shows the
        agreement (AURA-PORTAL-2)."""
        sid, user, _, _, email = self.aura_person("Fiber 1000")
        b = self.login("aura-fiber", 1, [user])
        code, msg = spooled_codes(self.dir)[-1]
        self.assertEqual(msg["to"], email)
        page = b.get("/portal/aura-fiber/overview")
        self.assertEqual(page.status, 200, page)
        self.assertIn("Fiber 1000", page.text)

    def test_AURA_LOGIN_1_installation_and_contract_pair(self):
        """AURA-LOGIN-1: installation number plus contract number is the
        other way in; one of them alone, or with another's, names no
        one (the same answer, and the code never works)."""
        sid, _, inst, contract, _ = self.aura_person("Fiber 300")
        b = self.login("aura-fiber", 2, [inst, contract])
        self.assertIn("Fiber 300", b.get("/portal/aura-fiber/overview").text)
        other = self.aura_person()
        b2 = Browser(self.server)
        before = len(spooled_codes(self.dir))
        self.start_login(b2, "aura-fiber", 2, [inst, other[3]])
        self.assertEqual(len(spooled_codes(self.dir)), before,
                         "a code went out for a pair that names no one")

    def test_AURA_LOGIN_1_no_enumeration(self):
        """AURA-LOGIN-1: a known and an unknown username get the same
        answer (status, redirect, cookie, page) no sooner than the floor;
        only the known one gets a code, and no code opens the unknown."""
        _, user, _, _, _ = self.aura_person()
        answers = []
        for name in (user, "nobody%d" % serial()):
            b = Browser(self.server)
            t0 = time.monotonic()
            r = self.start_login(b, "aura-fiber", 1, [name])
            answers.append((r.status, r.header("Location"),
                            sorted(c.split("=")[0] for c in r.cookies),
                            time.monotonic() - t0, b))
        (s1, l1, c1, t1, _), (s2, l2, c2, t2, nobody) = answers
        self.assertEqual((s1, l1, c1), (s2, l2, c2))
        self.assertGreaterEqual(min(t1, t2), FLOOR - 0.01)
        for b in (Browser(self.server), nobody):
            page = b.get("/portal/aura-fiber/code")
            self.assertEqual(page.status, 200)
        # The code page reads the same whoever was named.
        page = nobody.get("/portal/aura-fiber/code")
        self.assertIn("If the details match a customer", page.text)
        code = spooled_codes(self.dir)[-1][0]
        r = nobody.post("/portal/aura-fiber/code", {"code": code},
                        page.csrf())
        self.assertEqual(r.status, 401, r)
        self.assertNotIn(SESSION, nobody.jar)

    def test_AURA_LOGIN_1_code_dies_after_five_wrong(self):
        """AURA-LOGIN-1: four wrong codes, then the right one, logs in;
        five wrong codes lock the code: the right one no longer works.
        Each failure and the lockout are audited without the username."""
        sid, user, _, _, _ = self.aura_person()
        for wrong, works in ((4, True), (5, False)):
            b = Browser(self.server)
            self.start_login(b, "aura-fiber", 1, [user])
            code = spooled_codes(self.dir)[-1][0]
            bad = "%08d" % ((int(code) + 1) % 100000000)
            for i in range(wrong):
                page = b.get("/portal/aura-fiber/code")
                r = b.post("/portal/aura-fiber/code", {"code": bad},
                           page.csrf())
                self.assertEqual(r.status, 401, r)
                self.assertNotIn(bad, r.text)
            page = b.get("/portal/aura-fiber/code")
            r = b.post("/portal/aura-fiber/code", {"code": code},
                       page.csrf())
            self.assertEqual(r.status, 303 if works else 401, (wrong, r))
        entries = self.audit("aura-fiber", subject=sid)
        actions = [e["action"] for e in entries]
        self.assertEqual(actions.count("portal_login_failed"), 4 + 4 + 1,
                         actions)
        self.assertEqual(actions.count("portal_lockout"), 1, actions)
        self.assertEqual(actions.count("portal_login"), 1, actions)
        for e in entries:
            self.assertNotIn(user, json.dumps(e))

    def test_AURA_LOGIN_1_bad_input(self):
        """AURA-LOGIN-1: a way the policy lacks, a missing value, a code
        that is not 8 digits: 400 naming the field, nothing sent."""
        b = Browser(self.server)
        page = b.get("/portal/aura-fiber/login")
        before = len(spooled_codes(self.dir))
        for fields, word in (([("way", "3"), ("v1", "x")], "way"),
                             ([("way", "2"), ("v1", "INST-1")],
                              "contract_number"),
                             ([("way", "1"), ("v1", "a"), ("v2", "b")],
                              "does not take")):
            r = b.post("/portal/aura-fiber/login", fields, page.csrf())
            self.assertEqual(r.status, 400, r)
            self.assertIn(word, r.text)
        self.assertEqual(len(spooled_codes(self.dir)), before)
        page = b.get("/portal/aura-fiber/code")
        r = b.post("/portal/aura-fiber/code", {"code": "12345"}, page.csrf())
        self.assertEqual(r.status, 400, r)

    def test_AURA_LOGIN_1_a_code_for_another_person(self):
        """AURA-LOGIN-1: a code sent for one person's login does not open
        another login (each code is bound to its login token)."""
        _, u1, _, _, _ = self.aura_person()
        _, u2, _, _, _ = self.aura_person()
        a, b = Browser(self.server), Browser(self.server)
        self.start_login(a, "aura-fiber", 1, [u1])
        code_a = spooled_codes(self.dir)[-1][0]
        self.start_login(b, "aura-fiber", 1, [u2])
        page = b.get("/portal/aura-fiber/code")
        r = b.post("/portal/aura-fiber/code", {"code": code_a}, page.csrf())
        self.assertEqual(r.status, 401, r)
        self.assertNotIn(SESSION, b.jar)

    def test_AURA_LOGIN_1_password(self):
        """AURA-LOGIN-1: a password the person set (argon2id, only its
        hash kept) logs in; a wrong one and an unknown username get the
        same 401 page; a password under 10 characters is refused."""
        sid, user, _, _, _ = self.aura_person()
        b = self.login("aura-fiber", 1, [user])
        page = b.get("/portal/aura-fiber/overview")
        r = b.post("/portal/aura-fiber/password", {"password": "kort"},
                   page.csrf())
        self.assertEqual(r.status, 400, r)
        r = b.post("/portal/aura-fiber/password",
                   {"password": "et langt kodeord"}, page.csrf())
        self.assertEqual(r.status, 200, r)
        stored = self.sql("SELECT hash FROM portal_password WHERE "
                          "subject = ?", (bytes.fromhex(sid),))[0][0]
        self.assertTrue(stored.startswith("$argon2id$"), stored)
        texts = []
        for name, pw, status in ((user, "forkert kodeord", 401),
                                 ("nobody%d" % serial(), "et langt kodeord",
                                  401),
                                 (user, "et langt kodeord", 303)):
            c = Browser(self.server)
            page = c.get("/portal/aura-fiber/login")
            r = c.post("/portal/aura-fiber/login",
                       [("way", "1"), ("v1", name), ("proof", "password"),
                        ("password", pw)], page.csrf())
            self.assertEqual(r.status, status, (name, r))
            self.assertNotIn(pw, r.text)
            texts.append(re.sub(r'value="[A-Za-z0-9_-]{43}"', "", r.text))
        self.assertEqual(texts[0], texts[1])
        self.assertIn(SESSION, c.jar)
        self.assertEqual(c.get("/portal/aura-fiber/overview").status, 200)

    def test_AURA_PORTAL_1_erasure_takes_the_portal_rows(self):
        """AURA-PORTAL-1, GDPR-17: erasing the person removes their
        password and sessions: the session cookie then opens nothing."""
        sid, user, _, _, _ = self.aura_person()
        b = self.login("aura-fiber", 1, [user])
        page = b.get("/portal/aura-fiber/overview")
        r = b.post("/portal/aura-fiber/password",
                   {"password": "et langt kodeord"}, page.csrf())
        self.assertEqual(r.status, 200, r)
        key = (bytes.fromhex(sid),)
        for table in ("portal_password", "portal_session"):
            self.assertEqual(self.sql("SELECT count(*) FROM %s WHERE "
                                      "subject = ?" % table, key)[0][0], 1)
        r = run_vaern(["--data", self.dir, "subject", "erase",
                       "--controller", "aura-fiber", sid])
        self.assertEqual(r.rc, 0, r)
        for table in ("portal_password", "portal_session", "portal_login",
                      "portal_code_out"):
            self.assertEqual(self.sql("SELECT count(*) FROM %s WHERE "
                                      "subject = ?" % table, key)[0][0], 0)
        self.assertEqual(b.get("/portal/aura-fiber/overview").status, 303)

    def test_portal_unknown_controller_404(self):
        """A controller that is not loaded has no portal."""
        r = Browser(self.server).get("/portal/nosuch/login")
        self.assertEqual(r.status, 404, r)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Session(PortalCase):

    def test_AURA_PORTAL_1_cookie_and_only_a_hash_kept(self):
        """AURA-PORTAL-1: the session is a __Host- cookie, HttpOnly,
        Secure, SameSite=Strict, Path=/, 256 random bits; the database
        holds its BLAKE2b hash and the person's id, nothing else."""
        sid, user, _, _, _ = self.aura_person()
        b = Browser(self.server)
        self.start_login(b, "aura-fiber", 1, [user])
        page = b.get("/portal/aura-fiber/code")
        r = b.post("/portal/aura-fiber/code",
                   {"code": spooled_codes(self.dir)[-1][0]}, page.csrf())
        line = [c for c in r.cookies if c.startswith(SESSION + "=")][0]
        for attr in ("Path=/", "Secure", "HttpOnly", "SameSite=Strict"):
            self.assertIn(attr, line)
        self.assertNotIn("Domain", line)
        token = b.jar[SESSION]
        raw = base64.urlsafe_b64decode(token + "=")
        self.assertEqual(len(raw), 32)
        rows = self.sql("SELECT token_hash, subject FROM portal_session"
                        " WHERE subject = ?", (bytes.fromhex(sid),))
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][0], hashlib.blake2b(raw,
                                                     digest_size=32).digest())
        self.assertNotIn(token.encode(), dbpeek.store_bytes(self.db))
        cols = [r[1] for r in self.sql("PRAGMA table_info(portal_session)")]
        self.assertEqual(cols, ["id", "token_hash", "controller", "subject",
                                "proof", "created_at", "seen_at",
                                "ended_at"])

    def test_AURA_PORTAL_1_pages_read_through_gate_as_the_person(self):
        """AURA-PORTAL-1: the overview is a gated read by the data subject
        (actor and role data_subject, the portal's purpose, rule
        AURA-PORTAL-1), audited; the page is not cached (no-store)."""
        sid, user, _, _, _ = self.aura_person("Fiber 250")
        b = self.login("aura-fiber", 1, [user])
        before = len(self.audit("aura-fiber", subject=sid))
        page = b.get("/portal/aura-fiber/overview")
        self.assertEqual(page.status, 200)
        self.assertEqual(page.header("Cache-Control"), "no-store")
        entries = self.audit("aura-fiber", subject=sid)
        new = entries[before:] if len(entries) > before else entries
        reads = [e for e in entries if e["action"] == "read" and
                 e["actor"] == "data_subject"]
        self.assertTrue(reads, new)
        e = reads[-1]
        self.assertEqual((e["role"], e["purpose"], e["allowed"],
                          e["rule"]),
                         ("data_subject", "self_service", True,
                          "AURA-PORTAL-1"))
        self.assertNotIn("Fiber 250", json.dumps(entries))

    def test_AURA_PORTAL_1_forged_and_missing_cookies(self):
        """AURA-PORTAL-1: no cookie, a forged one, a malformed one: the
        login page (303), nothing shown; a forged one is audited."""
        for cookie in (None, base64.urlsafe_b64encode(
                secrets.token_bytes(32)).decode().rstrip("="), "a;b",
                "x" * 43):
            b = Browser(self.server)
            if cookie:
                b.jar[SESSION] = cookie
            r = b.get("/portal/aura-fiber/overview")
            self.assertEqual(r.status, 303, (cookie, r))
            self.assertEqual(r.header("Location"), "/portal/aura-fiber/login")
        refused = [e for e in self.audit("aura-fiber")
                   if e["action"] == "portal_session_refused"]
        self.assertTrue(refused)

    def test_AURA_PORTAL_1_logout_and_logout_everywhere(self):
        """AURA-PORTAL-1: logout ends this session (a replayed cookie is
        refused) and leaves the person's other one; logout everywhere
        ends them all."""
        sid, user, _, _, _ = self.aura_person()
        a = self.login("aura-fiber", 1, [user])
        b = self.login("aura-fiber", 1, [user])
        c = self.login("aura-fiber", 1, [user])
        old = a.jar[SESSION]
        page = a.get("/portal/aura-fiber/overview")
        r = a.post("/portal/aura-fiber/logout", {}, page.csrf())
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(SESSION, a.jar)
        a.jar[SESSION] = old  # replayed
        self.assertEqual(a.get("/portal/aura-fiber/overview").status, 303)
        self.assertEqual(b.get("/portal/aura-fiber/overview").status, 200)
        page = b.get("/portal/aura-fiber/overview")
        r = b.post("/portal/aura-fiber/logout", {"all": "1"}, page.csrf())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(c.get("/portal/aura-fiber/overview").status, 303)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Pages(PortalCase):

    def test_AURA_PORTAL_2_product_change(self):
        """AURA-PORTAL-2: a product change is a new fact of the person
        under self_service (basis b), audited as collected by the data
        subject (rule AURA-PORTAL-2), and shown in the overview; a
        category the portal does not let the person change is refused
        and nothing is stored."""
        sid, user, _, _, _ = self.aura_person("Fiber 100")
        b = self.login("aura-fiber", 1, [user])
        page = b.get("/portal/aura-fiber/overview")
        self.assertIn('name="category" value="product_change"', page.text)
        before = self.counts()
        r = b.post("/portal/aura-fiber/change",
                   {"category": "agreement", "value": "Gratis"},
                   page.csrf())
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.counts(), before)
        r = b.post("/portal/aura-fiber/change",
                   {"category": "product_change",
                    "value": "Skift til Fiber 1000"}, page.csrf())
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.counts()["fact"], before["fact"] + 1)
        page = b.get("/portal/aura-fiber/overview?done=change")
        self.assertIn("Skift til Fiber 1000", page.text)
        self.assertIn("Your change is recorded.", page.text)
        collect = [e for e in self.audit("aura-fiber", subject=sid)
                   if e["action"] == "collect"][-1]
        self.assertEqual((collect["actor"], collect["purpose"],
                          collect["rule"], collect["allowed"]),
                         ("data_subject", "self_service", "AURA-PORTAL-2",
                          True))
        r = self.read(("aura-fiber", "customer_service"), sid,
                      "self_service", ["product_change"])
        self.assertEqual(r.status, 200, r)
        f = r.json()["facts"][0]
        self.assertEqual((f["value"], f["purpose"], f["source"]),
                         ("Skift til Fiber 1000", "self_service", "portal"))

    def test_GDPR_15_20_downloads_are_fulfilled_requests(self):
        """GDPR-15, GDPR-20: the access report (HTML) and the portable
        copy (JSON, CSV) download from "my data", each recorded as an
        access or portability request of channel portal, completed."""
        sid, user, _, _, _ = self.aura_person("Fiber 42")
        b = self.login("aura-fiber", 1, [user])
        page = b.get("/portal/aura-fiber/data")
        self.assertEqual(page.status, 200)
        # The agreement comes from AURA's systems: in the report, not in
        # the portable copy (GDPR-20: what the person provided).
        for kind, ctype, needle in (("report-html", "text/html", "Fiber 42"),
                                    ("copy-json", "application/json", user),
                                    ("copy-csv", "text/csv", user)):
            r = b.post("/portal/aura-fiber/data/" + kind, {}, page.csrf())
            self.assertEqual(r.status, 200, (kind, r))
            self.assertTrue(r.header("Content-Type").startswith(ctype), r)
            self.assertIn("attachment", r.header("Content-Disposition"))
            self.assertIn(needle, r.text)
        reqs = self.call("GET", "/v1/requests?all=1",
                         who=("aura-fiber", "dpo")).json()["requests"]
        mine = [x for x in reqs if x["subject"] == sid]
        self.assertEqual(sorted(x["type"] for x in mine),
                         ["access", "portability", "portability"])
        for x in mine:
            self.assertEqual((x["channel"], x["status"]),
                             ("portal", "completed"), x)

    def test_GDPR_12_request_filed_listed_once(self):
        """GDPR-12, AURA-RIGHTS-1: an erasure request filed on the portal
        names the data concerned, is in the staff's queue (channel
        portal, verified by the login), listed to the person with its due
        date one month on; a second one while it is open is refused
        (409) and nothing is added; an extension and its reason show."""
        sid, user, _, _, _ = self.aura_person()
        b = self.login("aura-fiber", 1, [user])
        page = b.get("/portal/aura-fiber/requests")
        self.assertEqual(page.status, 200)
        box = re.search(r'name="(c\d+)" value="1"> Din aftale', page.text)
        r = b.post("/portal/aura-fiber/requests",
                   {"type": "erasure", box.group(1): "1"}, page.csrf())
        self.assertEqual(r.status, 303, r)
        reqs = [x for x in self.call("GET", "/v1/requests?all=1",
                                     who=("aura-fiber", "dpo"))
                .json()["requests"] if x["subject"] == sid]
        self.assertEqual(len(reqs), 1, reqs)
        x = reqs[0]
        self.assertEqual((x["type"], x["channel"], x["status"]),
                         ("erasure", "portal", "verified"))
        one = self.call("GET", "/v1/requests/" + x["id"],
                        who=("aura-fiber", "dpo")).json()
        self.assertEqual(one.get("categories"), ["agreement"], one)
        page = b.get("/portal/aura-fiber/requests")
        self.assertIn(x["due_date"], page.text)
        n = self.sql("SELECT count(*) FROM request")[0][0]
        r = b.post("/portal/aura-fiber/requests", {"type": "erasure"},
                   page.csrf())
        self.assertEqual(r.status, 409, r)
        self.assertEqual(self.sql("SELECT count(*) FROM request")[0][0], n)
        r = self.call("POST", "/v1/requests/%s/extension" % x["id"],
                      {"months": 2, "reason": "Mange anmodninger"},
                      who=("aura-fiber", "dpo"))
        if r.status == 200:
            page = b.get("/portal/aura-fiber/requests")
            self.assertIn("Mange anmodninger", page.text)

    def test_GDPR_7_consent_give_and_withdraw(self):
        """GDPR-7: a consent is shown with its text, date and source;
        giving and withdrawing are one button each; the withdrawal is an
        executed consent-withdrawal request; the ledger keeps both."""
        n = serial()
        sid = self.create(("cekura", "customer_service"), {
            "purpose": "customer_admin",
            "facts": [fact("name", "Kunde %d" % n),
                      fact("address", "Vej %d" % n),
                      fact("phone", "+4520%06d" % (n % 1000000)),
                      fact("email", "c%d@example.dk" % n),
                      fact("customer_number", "C-%d" % n)],
            "consents": []})
        b = self.login("cekura", 1, ["C-%d" % n])
        page = b.get("/portal/cekura/consents")
        self.assertIn("Markedsføring elektronisk eller telefonisk", page.text)
        self.assertIn("Not given", page.text)
        r = b.post("/portal/cekura/consents",
                   {"purpose": "marketing_consent", "action": "give"},
                   page.csrf())
        self.assertEqual(r.status, 303, r)
        page = b.get("/portal/cekura/consents")
        self.assertIn("given (source portal)", page.text)
        r = b.post("/portal/cekura/consents",
                   {"purpose": "marketing_consent", "action": "withdraw"},
                   page.csrf())
        self.assertEqual(r.status, 303, r)
        page = b.get("/portal/cekura/consents")
        self.assertIn("withdrawn (source portal)", page.text)
        self.assertIn("Not given", page.text)
        r = b.post("/portal/cekura/consents",
                   {"purpose": "marketing_consent", "action": "withdraw"},
                   page.csrf())
        self.assertEqual(r.status, 409, r)
        reqs = [x for x in self.call("GET", "/v1/requests?all=1",
                                     who=("cekura", "dpo"))
                .json()["requests"] if x["subject"] == sid]
        self.assertEqual([(x["type"], x["status"]) for x in reqs],
                         [("consent_withdrawal", "completed")] * len(reqs))

    def test_GDPR_21_objection(self):
        """GDPR-21: the objection to direct marketing is one button: an
        executed objection request; afterwards the gate refuses every
        direct-marketing read of the person."""
        n = serial()
        sid = self.create(("cekura", "customer_service"), {
            "purpose": "customer_admin",
            "facts": [fact("name", "Kunde %d" % n),
                      fact("address", "Vej %d" % n),
                      fact("phone", "+4521%06d" % (n % 1000000)),
                      fact("email", "o%d@example.dk" % n),
                      fact("customer_number", "O-%d" % n)],
            "consents": []})
        b = self.login("cekura", 2, ["o%d@example.dk" % n])
        page = b.get("/portal/cekura/consents")
        r = b.post("/portal/cekura/objection", {}, page.csrf())
        self.assertEqual(r.status, 303, r)
        reqs = [x for x in self.call("GET", "/v1/requests?all=1",
                                     who=("cekura", "dpo"))
                .json()["requests"] if x["subject"] == sid]
        self.assertEqual([(x["type"], x["channel"], x["status"])
                          for x in reqs],
                         [("objection", "portal", "completed")])


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Security(PortalCase):

    def test_AURA_SEC_1_csp_and_no_inline_script_or_style(self):
        """AURA-SEC-1: every page has a CSP without inline script or
        style, frame-ancestors 'none'; no page holds a script, an inline
        style or a third-party resource."""
        sid, user, _, _, _ = self.aura_person()
        b = self.login("aura-fiber", 1, [user])
        for path in ("/portal/aura-fiber/login", "/portal/aura-fiber/code",
                     "/portal/aura-fiber/overview", "/portal/aura-fiber/data",
                     "/portal/aura-fiber/consents",
                     "/portal/aura-fiber/requests"):
            page = b.get(path)
            self.assertEqual(page.status, 200, (path, page))
            csp = page.header("Content-Security-Policy")
            self.assertIn("default-src 'self'", csp)
            self.assertIn("script-src 'none'", csp)
            self.assertIn("frame-ancestors 'none'", csp)
            self.assertNotIn("unsafe-inline", csp)
            self.assertNotIn("<script", page.text)
            self.assertNotIn("style=", page.text)
            self.assertNotIn("<style", page.text)
            self.assertNotRegex(page.text, r'(src|href)="(https?:)?//')

    def test_AURA_SEC_1_csrf_token_and_origin(self):
        """AURA-SEC-1: a form without its token, with another token, or
        posted from another origin is refused (403), audited, and changes
        nothing; the same form with the token from this site works."""
        sid, user, _, _, _ = self.aura_person()
        b = self.login("aura-fiber", 1, [user])
        page = b.get("/portal/aura-fiber/overview")
        fields = {"category": "product_change", "value": "Fiber X"}
        before = self.counts()
        for csrf, headers in ((None, {}), ("A" * 43, {}),
                              (page.csrf(),
                               {"Origin": "https://evil.example"}),
                              (page.csrf(),
                               {"Sec-Fetch-Site": "cross-site"})):
            r = b.post("/portal/aura-fiber/change", fields, csrf,
                       origin="Origin" not in headers, headers=headers)
            self.assertEqual(r.status, 403, (csrf, headers, r))
        self.assertEqual(self.counts(), before)
        refused = [e for e in self.audit("aura-fiber", subject=sid)
                   if e["action"] == "portal_form_refused"]
        self.assertEqual(len(refused), 4, refused)
        r = b.post("/portal/aura-fiber/change", fields, page.csrf())
        self.assertEqual(r.status, 303, r)

    def test_AURA_SEC_1_form_limits(self):
        """A field over 1024 bytes (413), an unknown field or one twice
        (400): refused, naming the field, never its value; audited;
        nothing changed. 1024 bytes are taken."""
        sid, user, _, _, _ = self.aura_person()
        b = self.login("aura-fiber", 1, [user])
        page = b.get("/portal/aura-fiber/overview")
        before = self.counts()
        long = "Z" * 1025
        r = b.post("/portal/aura-fiber/change",
                   {"category": "product_change", "value": long},
                   page.csrf())
        self.assertEqual(r.status, 413, r)
        self.assertIn("value", r.text)
        self.assertNotIn(long, r.text)
        r = b.post("/portal/aura-fiber/change",
                   [("category", "product_change"), ("value", "a"),
                    ("value", "b")], page.csrf())
        self.assertEqual(r.status, 400, r)
        r = b.post("/portal/aura-fiber/change",
                   {"category": "product_change", "colour": "a"},
                   page.csrf())
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.counts(), before)
        refused = [e for e in self.audit("aura-fiber", subject=sid)
                   if e["action"] == "portal_form_refused"]
        self.assertEqual(len(refused), 3, refused)
        self.assertNotIn(long, json.dumps(refused))
        r = b.post("/portal/aura-fiber/change",
                   {"category": "product_change", "value": "Y" * 1024},
                   page.csrf())
        self.assertEqual(r.status, 303, r)

    def test_AURA_SEC_1_plain_http_off_loopback_refused(self):
        """AURA-SEC-1: the portal is served by `vaern serve`, which
        refuses plain HTTP on an address other than loopback."""
        r = run_vaern(["--data", self.dir, "serve", "--listen",
                       "0.0.0.0:0"])
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn("AURA-SEC-1", r.err)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Tls(PortalCase):
    """AURA-SEC-1 over TLS: HSTS, and the Origin check expects https."""

    serve = False

    @classmethod
    def prepare(cls):
        cls.cert = os.path.join(cls.tmp, "cert.pem")
        key = os.path.join(cls.tmp, "key.pem")
        p = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", key, "-out", cls.cert, "-days", "2", "-subj",
             "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr[-300:]
        cls.server = Server(cls.dir, os.path.join(cls.tmp, "serve.log"),
                            extra=["--tls-cert", cls.cert, "--tls-key", key],
                            tls_ca=cls.cert).start()

    def test_AURA_SEC_1_hsts_and_https_origin(self):
        """AURA-SEC-1: over TLS every portal page carries HSTS; a form
        posted with the http:// origin of the same host is refused."""
        ctx = ssl.create_default_context(cafile=self.cert)
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port,
                                           timeout=HTTP_TIMEOUT, context=ctx)
        try:
            conn.request("GET", "/portal/aura-fiber/login")
            r = conn.getresponse()
            body = r.read().decode()
            self.assertEqual(r.status, 200)
            self.assertIn("max-age=", r.getheader(
                "Strict-Transport-Security") or "")
            jar = r.getheader("Set-Cookie").split(";")[0]
            csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
            host = "127.0.0.1:%d" % self.server.port
            for origin, status in (("http://" + host, 403),
                                   ("https://" + host, 303)):
                conn.request("POST", "/portal/aura-fiber/cookies",
                             body=urlencode({"csrf": csrf,
                                             "choice": "necessary"}),
                             headers={"Cookie": jar, "Origin": origin,
                                      "Host": host,
                                      "Content-Type": "application/"
                                      "x-www-form-urlencoded"})
                r = conn.getresponse()
                r.read()
                self.assertEqual(r.status, status, origin)
        finally:
            conn.close()


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class PolicySection(unittest.TestCase):
    """The `portal:` section of the policy language (issue 16): a wrong
    one is refused by `vaern policy check` with its position."""

    def check(self, portal):
        with open(AURA) as f:
            text = f.read()
        text = text[:text.index("\nportal:")] + "\n" + portal
        with tempfile.NamedTemporaryFile("w", suffix=".yaml",
                                         delete=False) as f:
            f.write(text)
        try:
            return run_vaern(["policy", "check", f.name])
        finally:
            os.unlink(f.name)

    def test_AURA_LOGIN_1_portal_section_checked(self):
        """AURA-LOGIN-1: login sets name identifier categories; the
        purpose rests on basis (b) (AURA-PORTAL-2); changes are the
        purpose's; the shipped section passes."""
        ok = ("portal:\n  purpose: self_service\n  login:\n"
              "    - [username]\n"
              "    - [installation_number, contract_number]\n"
              "  proofs: [code]\n  changes: [product_change]\n")
        self.assertEqual(self.check(ok).rc, 0)
        for bad, words in (
                (ok.replace("[username]", "[agreement]"),
                 "not an identifier"),
                (ok.replace("[username]", "[usrname]"), "unknown category"),
                (ok.replace("purpose: self_service",
                            "purpose: visit_statistics"), "basis (b)"),
                (ok.replace("[product_change]", "[ip_address]"),
                 "not used by the portal's purpose"),
                (ok.replace("[code]", "[sms]"), "unknown proof"),
                (ok.replace("  login:\n    - [username]\n"
                            "    - [installation_number, contract_number]"
                            "\n", ""), "login is required")):
            r = self.check(bad)
            self.assertEqual(r.rc, 1, (bad, r))
            self.assertIn(words, r.err)
            self.assertRegex(r.err, r":\d+:\d+: ")


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class EverySeed(PortalCase):
    """Every seed controller (and the example) has its portal: the login
    page offers the policy's ways, and a customer logs in by a code to
    their e-mail and sees the portal's purpose."""

    policies = tuple(os.path.join(os.path.dirname(AURA), f) for f in (
        "aura-fiber.yaml", "aurora-optimal.yaml", "cekura.yaml",
        "telenor.yaml", "webshop.yaml", "example.yaml"))
    actors = tuple((c, "customer_service") for c in (
        "aura-fiber", "aurora-optimal", "cekura", "telenor", "webshop",
        "example")) + (("aura-fiber", "dpo"),)

    def test_AURA_LOGIN_1_every_seed_has_its_portal(self):
        """AURA-LOGIN-1 for every controller: one login form per set of
        the policy's portal section; a code to the e-mail on record
        logs in by the first set, and the overview shows the data."""
        n = serial()
        people = {
            "aurora-optimal": ("identify_customer", [
                fact("name", "Kund %d" % n),
                fact("email", "a%d@example.se" % n),
                fact("customer_number", "AO-%d" % n)], "AO-%d" % n, 2),
            "cekura": ("customer_admin", [
                fact("name", "Kunde %d" % n), fact("address", "Vej %d" % n),
                fact("phone", "+4523%06d" % (n % 1000000)),
                fact("email", "c%d@example.dk" % n),
                fact("customer_number", "CK-%d" % n)], "CK-%d" % n, 2),
            "telenor": ("contract", [
                fact("name", "Kunde %d" % n),
                fact("email", "t%d@example.dk" % n),
                fact("phone", "+4524%06d" % (n % 1000000))],
                "+4524%06d" % (n % 1000000), 2),
            "webshop": ("customer_account", [
                fact("customer_name", "Kunde %d" % n),
                fact("customer_email", "w%d@example.dk" % n),
                fact("username", "web%d" % n)], "web%d" % n, 2),
            "example": ("customer_admin", [
                fact("name", "Kunde %d" % n),
                fact("email", "e%d@example.dk" % n)],
                "e%d@example.dk" % n, 1),
        }
        for controller, (purpose, facts, login, ways) in people.items():
            page = Browser(self.server).get("/portal/%s/login" % controller)
            self.assertEqual(page.status, 200, (controller, page))
            self.assertEqual(page.text.count('class="way"'), ways,
                             controller)
            self.create((controller, "customer_service"),
                        {"purpose": purpose, "facts": facts,
                         "consents": []})
            b = self.login(controller, 1, [login])
            page = b.get("/portal/%s/overview" % controller)
            self.assertEqual(page.status, 200, (controller, page))
            self.assertIn("Kund", page.text, controller)


class Strings(unittest.TestCase):
    """Every string of the portal comes from templates/portal; a missing
    translation fails the build (scripts/strings.py, run by meson)."""

    def test_portal_missing_translation_fails_the_build(self):
        from test_api import ROOT
        src = os.path.join(ROOT, "templates", "portal")
        script = os.path.join(ROOT, "scripts", "strings.py")
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for lang in ("en", "da", "sv"):
                with open(os.path.join(src, lang + ".strings")) as f:
                    text = f.read()
                if lang == "sv":
                    text = re.sub(r"(?m)^code_submit = .*\n", "", text)
                paths.append(os.path.join(tmp, lang + ".strings"))
                with open(paths[-1], "w") as f:
                    f.write(text)
            out = os.path.join(tmp, "portal_strings.h")
            args = [sys.executable, script, out] + paths + ["portal", "P"]
            p = subprocess.run(args, capture_output=True, text=True)
            self.assertEqual(p.returncode, 1, p)
            self.assertIn("missing translation of 'code_submit'", p.stderr)
            ok = [sys.executable, script, out] + [
                os.path.join(src, l + ".strings") for l in ("en", "da", "sv")
            ] + ["portal", "P"]
            p = subprocess.run(ok, capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Cookies(PortalCase):

    def visits(self, visitor):
        r = self.call("GET", "/v1/visitors/%s/visits" % visitor,
                      who=("aura-fiber", "dpo"))
        self.assertEqual(r.status, 200, r)
        return [v for v in r.json()["visits"] if v["kind"] == "visit"]

    def test_AURA_COOKIE_1_banner_and_necessary_only(self):
        """AURA-COOKIE-1, AOPT-COOKIE-1: before a choice the banner shows
        and only necessary cookies are set (the form token); choosing
        only necessary cookies sets no visitor id and keeps no visit."""
        b = Browser(self.server)
        page = b.get("/portal/aura-fiber/login")
        self.assertIn('value="statistics"', page.text)
        self.assertEqual(sorted(c.split("=")[0] for c in page.cookies),
                         ["__Host-vaern_pre"])
        r = b.post("/portal/aura-fiber/cookies", {"choice": "necessary"},
                   page.csrf())
        self.assertEqual(r.status, 303, r)
        self.assertNotIn("__Host-vaern_visitor", b.jar)
        page = b.get("/portal/aura-fiber/login")
        self.assertNotIn('value="statistics"', page.text)

    def test_AURA_COOKIE_1_statistics_only_when_accepted(self):
        """AURA-COOKIE-1: with statistics accepted a page visit is kept
        (IP address and page, for the DPO); with Sec-GPC: 1 none is,
        whatever the cookie says (AOPT-COOKIE-1)."""
        b = Browser(self.server)
        page = b.get("/portal/aura-fiber/login")
        r = b.post("/portal/aura-fiber/cookies", {"choice": "statistics"},
                   page.csrf())
        self.assertEqual(r.status, 303, r)
        visitor = b.jar["__Host-vaern_visitor"]
        self.assertEqual(len(self.visits(visitor)), 0)
        b.get("/portal/aura-fiber/login")
        self.assertEqual(len(self.visits(visitor)), 1)
        b.get("/portal/aura-fiber/login", headers={"Sec-GPC": "1"})
        self.assertEqual(len(self.visits(visitor)), 1)

    def test_AOPT_COOKIE_1_gpc_refuses_statistics(self):
        """AOPT-COOKIE-1: with Sec-GPC: 1 the banner says so, and
        accepting statistics records a refusal (source gpc)."""
        b = Browser(self.server)
        page = b.get("/portal/aura-fiber/login", headers={"Sec-GPC": "1"})
        self.assertIn("Global Privacy Control", page.text)
        r = b.post("/portal/aura-fiber/cookies", {"choice": "statistics"},
                   page.csrf(), headers={"Sec-GPC": "1"})
        self.assertEqual(r.status, 303, r)
        self.assertIn("necessary", b.jar["__Host-vaern_cookies"])
        g = Browser(self.server).get("/.well-known/gpc.json")
        self.assertEqual(g.status, 200)
        self.assertEqual(json.loads(g.text)["gpc"], True)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Languages(PortalCase):

    def test_portal_languages(self):
        """da, sv, en: Accept-Language chooses, ?lang= switches and is
        kept in a cookie, and the policy's language is the default."""
        b = Browser(self.server, lang=None)
        self.assertIn('<html lang="da">', b.get("/portal/aura-fiber/login")
                      .text)
        b = Browser(self.server, lang="sv-SE,sv;q=0.9")
        page = b.get("/portal/aura-fiber/login")
        self.assertIn('<html lang="sv">', page.text)
        self.assertIn("Logga in", page.text)
        page = b.get("/portal/aura-fiber/login?lang=en")
        self.assertIn('<html lang="en">', page.text)
        self.assertEqual(b.jar.get("__Host-vaern_lang"), "en")
        self.assertIn('<html lang="en">',
                      b.get("/portal/aura-fiber/login").text)
        b = Browser(self.server, lang="da")
        self.assertIn("Log ind", b.get("/portal/aura-fiber/login").text)


class TimedServer(Server):
    """`vaern serve` with its clock fixed at as_of (VAERN_AS_OF)."""

    def __init__(self, data_dir, log_path, as_of):
        super().__init__(data_dir, log_path)
        self.as_of = as_of

    def start(self):
        import test_api
        env = dict(BASE_ENV, VAERN_AS_OF=self.as_of)
        saved = test_api.BASE_ENV
        test_api.BASE_ENV = env
        try:
            return super().start()
        finally:
            test_api.BASE_ENV = saved


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Timeouts(PortalCase):
    """The clock of each server is fixed: a session or code is tried on
    either side of its limit by restarting the server at another time."""

    serve = True

    def at(self, instant):
        self.server.stop()
        self.server.kill()
        type(self).server = TimedServer(self.dir, os.path.join(
            self.tmp, "serve.log"), instant).start()
        return self.server

    def test_AURA_PORTAL_1_idle_timeout_15_minutes(self):
        """AURA-PORTAL-1: a session idle for 14:59 still works; one idle
        for 15:00 is ended (and stays ended)."""
        sid, user, _, _, _ = self.aura_person()
        self.at("2026-12-01T10:00:00Z")
        a = self.login("aura-fiber", 1, [user])
        b = self.login("aura-fiber", 1, [user])
        self.at("2026-12-01T10:14:59Z")
        for br in (a, b):
            br.server = self.server
        self.assertEqual(a.get("/portal/aura-fiber/overview").status, 200)
        self.at("2026-12-01T10:15:00Z")
        b.server = self.server
        self.assertEqual(b.get("/portal/aura-fiber/overview").status, 303)

    def test_AURA_PORTAL_1_absolute_timeout_8_hours(self):
        """AURA-PORTAL-1: a session used every 14 minutes still works at
        7:59:59 after the login and is ended at 8:00:00."""
        sid, user, _, _, _ = self.aura_person()
        t0 = 1796205600  # 2026-12-02T10:00:00Z

        def at(offset):
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                  time.gmtime(t0 + offset))
            self.at(stamp)
            b.server = self.server
            return b.get("/portal/aura-fiber/overview").status

        self.at(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)))
        b = self.login("aura-fiber", 1, [user])
        for minutes in range(14, 8 * 60, 14):
            self.assertEqual(at(minutes * 60), 200, minutes)
        self.assertEqual(at(8 * 3600 - 1), 200)
        self.assertEqual(at(8 * 3600), 303)

    def test_AURA_LOGIN_1_code_expires_after_10_minutes(self):
        """AURA-LOGIN-1: a code entered 9:59 after it was sent works; one
        entered at 10:00 does not."""
        sid, user, _, _, _ = self.aura_person()
        self.at("2026-12-02T10:00:00Z")
        late, early = Browser(self.server), Browser(self.server)
        self.start_login(late, "aura-fiber", 1, [user])
        late_code = spooled_codes(self.dir)[-1][0]
        self.start_login(early, "aura-fiber", 1, [user])
        early_code = spooled_codes(self.dir)[-1][0]
        self.at("2026-12-02T10:09:59Z")
        early.server = self.server
        page = early.get("/portal/aura-fiber/code")
        r = early.post("/portal/aura-fiber/code", {"code": early_code},
                       page.csrf())
        self.assertEqual(r.status, 303, r)
        self.at("2026-12-02T10:10:00Z")
        late.server = self.server
        page = late.get("/portal/aura-fiber/code")
        r = late.post("/portal/aura-fiber/code", {"code": late_code},
                      page.csrf())
        self.assertEqual(r.status, 401, r)

    def test_AURA_LOGIN_1_throttle_per_identifier(self):
        """AURA-LOGIN-1: ten code requests for one username go out; the
        eleventh at the same instant waits (429, Retry-After), and so
        does one for a username no one holds (no enumeration); a second
        later it goes out again."""
        sid, user, _, _, _ = self.aura_person()
        self.at("2026-12-03T10:00:00Z")
        pages = []
        for name in (user, "nobody%d" % serial()):
            b = Browser(self.server)
            for i in range(10):
                self.start_login(b, "aura-fiber", 1, [name])
            r = self.start_login(b, "aura-fiber", 1, [name], status=429)
            self.assertEqual(r.header("Retry-After"), "1")
            pages.append(re.sub(r"[A-Za-z0-9_-]{43}", "T", r.text))
        # The throttled page reads the same whoever was named.
        self.assertEqual(pages[0], pages[1])
        self.assertNotIn(user, pages[0])
        self.at("2026-12-03T10:00:01Z")
        self.start_login(Browser(self.server), "aura-fiber", 1, [user])



@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class AddressThrottle(PortalCase):
    """A server of its own, so that the address's count starts at zero;
    its clock fixed, as Timeouts'."""

    serve = True
    at = Timeouts.at

    def wrong_code(self, b, status=401):
        page = b.get("/portal/aura-fiber/code")
        r = b.post("/portal/aura-fiber/code", {"code": "00000000"},
                   page.csrf())
        self.assertEqual(r.status, status, r)
        return r

    def test_AURA_LOGIN_1_throttle_per_address(self):
        """AURA-LOGIN-1: failures from one address count whoever they
        name (the counter is a row in the store, shared by every node):
        the 20th failure still gets its 401; after 20, the next try from
        the address waits 1 s (429, Retry-After), for a username not
        tried before too; a second later it goes, and one more failure
        doubles the wait."""
        self.at("2026-12-04T10:00:00Z")
        browsers = []
        for i in range(4):
            b = Browser(self.server)
            self.start_login(b, "aura-fiber", 1, ["nobody%d" % serial()])
            browsers.append(b)
        for i in range(20):  # five on each login: the fifth kills it
            self.wrong_code(browsers[i // 5])
        r = self.start_login(Browser(self.server), "aura-fiber", 1,
                             ["nobody%d" % serial()], status=429)
        self.assertEqual(r.header("Retry-After"), "1")
        self.at("2026-12-04T10:00:01Z")
        b = Browser(self.server)
        self.start_login(b, "aura-fiber", 1, ["nobody%d" % serial()])
        self.wrong_code(b)
        r = self.start_login(Browser(self.server), "aura-fiber", 1,
                             ["nobody%d" % serial()], status=429)
        self.assertEqual(r.header("Retry-After"), "2")
        actions = [e["action"] for e in self.audit("aura-fiber")]
        self.assertEqual(actions.count("portal_throttled"), 2, actions)


if __name__ == "__main__":
    unittest.main(verbosity=2)
