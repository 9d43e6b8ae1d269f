#!/usr/bin/env python3
"""Black-box tests of the staff console's pages (issue 20): the real
`vaern serve` on loopback, driven over HTTP as a browser without
JavaScript would (forms, cookies, redirects), on the shipped
policies/cekura.yaml; the TOTP codes computed here per RFC 6238 (hmac),
independent of vaern's liboath.

Clauses of mission/CLAUSES.md proved here, each named in its test:
  GDPR-32  staff login: password and TOTP code, a session bound to the
           actor (__Host- cookie, only its hash stored), a wrong code and
           a throttled try refused, a per-address throttle; the first
           login's enrolment shows the secret until a first code, never
           after; a customer-service role gets 403 on a DPO-only page,
           audited, the DPO gets the page; every action audited as the
           actor; the search's value never in a URL or the audit trail
  AURA-SEC-1  CSRF token and Origin on every form; strict CSP, no script
  GDPR-12  the queue (by due day, filters, days left) and a request's
           actions (verify, extend with a reason, refuse with a reason)
           change the request as the CLI shows
  GDPR-17  an erasure executed from the console, as the CLI shows
  GDPR-18  a restriction executed from the console, as the CLI shows
  GDPR-21  an objection executed from the console, as the CLI shows
  GDPR-16  a rectification executed on the facts the request's page
           shows (read through the gate as the actor, audited): the new
           value as `vaern subject show` and the API return it; bad input
           and a role that may not process the category change nothing
  AURA-SHARE-1  the DPO and a bookkeeper may not rectify the address (403,
           audited); the page shows a role only what it processes
  AURA-RIGHTS-1  only the data the request concerns is shown and changed
  GDPR-18  the restriction lifted with a reason (and refused without)
  GDPR-7   a consent withdrawn from the console, as the API's ledger shows
  GDPR-15, GDPR-20  the report link served through the gate, audited
  AOPT-ACCESS-1  a code sent from the console, a wrong one refused, the
           right one verifies the request
Standard library only.
"""
import glob
import json
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dbpeek  # noqa: E402
from test_api import ApiCase, CEKURA, fact, run_vaern, serial  # noqa: E402
from test_console import PASSWORD, totp  # noqa: E402
from test_portal import Browser, TimedServer  # noqa: E402

SESSION = "__Host-vaern_console"
BASE = "/console/cekura"
DENIED = "The name, password or code is not valid."


class ConsoleWebCase(ApiCase):
    policies = (CEKURA,)
    actors = (("cekura", "customer_service"),)

    def enrol(self, role, name=None):
        """A new actor with console access: (name, TOTP secret, URI)."""
        name = name or "%s%d" % (role.replace("_", ""), serial())
        r = run_vaern(["--data", self.dir, "actor", "add", "--controller",
                       "cekura", "--name", name, "--role", role,
                       "--console"], stdin=(PASSWORD + "\n").encode())
        self.assertEqual(r.rc, 0, r)
        uri = r.json()["otpauth_uri"]
        secret = urllib.parse.parse_qs(
            urllib.parse.urlparse(uri).query)["secret"][0]
        return name, secret, uri

    clock = None  # Unix seconds of a TimedServer's fixed clock

    def code(self, secret):
        """The code of the server's current 30-second step."""
        return totp(secret, self.clock if self.clock is not None
                    else int(time.time()))

    def login(self, role, lang="en"):
        """A browser logged in as a new actor of role: (browser, name)."""
        name, secret, _ = self.enrol(role)
        b = Browser(self.server, lang)
        page = b.get(BASE + "/login")
        self.assertEqual(page.status, 200, page)
        r = b.post(BASE + "/login", {"name": name, "password": PASSWORD,
                                     "code": self.code(secret)},
                   page.csrf())
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.header("Location"), BASE + "/requests")
        return b, name

    def all_audit(self):
        r = run_vaern(["--data", self.dir, "audit", "show"])
        self.assertEqual(r.rc, 0, r)
        return r.json()

    def audit(self, action):
        return [e for e in self.all_audit() if e["action"] == action]

    def show(self, rid):
        r = run_vaern(["--data", self.dir, "requests", "show",
                       "--controller", "cekura", rid])
        self.assertEqual(r.rc, 0, r)
        return r.json()

    def person(self, extra=(), consents=()):
        """A new customer (name, address, phone, e-mail, customer number,
        then the facts extra): (subject id, customer number)."""
        n = serial()
        sid = self.create(("cekura", "customer_service"), {
            "purpose": "customer_admin",
            "facts": [fact("name", "Kunde %d" % n),
                      fact("address", "Vej %d" % n),
                      fact("phone", "+4521%06d" % (n % 1000000)),
                      fact("email", "c%d@example.dk" % n),
                      fact("customer_number", "C-%d" % n)] + list(extra),
            "consents": list(consents)})
        return sid, "C-%d" % n

    def not_offered(self, b, rid, action, fields):
        """Before verification: the page has no form for action and a
        forged post of it is refused (400), the request still received."""
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertNotIn('class="act-%s"' % action, page.text)
        r = self.act(b, rid, action, fields)
        self.assertEqual(r.status, 400, (action, r))
        self.assertEqual(self.show(rid)["status"], "received")

    def new_request(self, sid, rtype="erasure"):
        r = self.call("POST", "/v1/requests",
                      {"type": rtype, "subject": sid, "channel": "email"},
                      ("cekura", "customer_service"))
        self.assertEqual(r.status, 201, r)
        return r.json()["id"]

    def act(self, b, rid, action, fields):
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertEqual(page.status, 200, page)
        return b.post("%s/requests/%s/%s" % (BASE, rid, action), fields,
                      page.csrf())


class LoginTest(ConsoleWebCase):

    def test_GDPR_32_login_with_password_and_totp(self):
        """GDPR-32: the right name, password and code open a session in a
        __Host- cookie (Secure, HttpOnly, SameSite=Strict) whose token is
        stored only as a hash; the pages are the actor's; the login is
        audited under the actor's name."""
        b, name = self.login("customer_service")
        cookie = [c for c in b.jar if c == SESSION]
        self.assertEqual(cookie, [SESSION])
        token = b.jar[SESSION]
        page = b.get(BASE + "/requests")
        self.assertEqual(page.status, 200, page)
        self.assertIn(name, page.text)
        self.assertIn("Request queue", page.text)
        csp = page.header("Content-Security-Policy")
        self.assertIn("script-src 'none'", csp)
        self.assertNotIn("<script", page.text)
        self.assertNotIn(token.encode(), dbpeek.store_bytes(self.db))
        logins = [e for e in self.audit("console_login")
                  if e["actor"] == name and e["decision"] == "allow"]
        self.assertEqual(len(logins), 1, logins)

    def test_GDPR_32_session_cookie_attributes(self):
        """GDPR-32, AURA-SEC-1: the session cookie is __Host-, Secure,
        HttpOnly, SameSite=Strict, Path=/."""
        name, secret, _ = self.enrol("customer_service")
        b = Browser(self.server)
        page = b.get(BASE + "/login")
        r = b.post(BASE + "/login", {"name": name, "password": PASSWORD,
                                     "code": self.code(secret)},
                   page.csrf())
        self.assertEqual(r.status, 303, r)
        line = [c for c in r.cookies if c.startswith(SESSION + "=")][0]
        for attr in ("Path=/", "Secure", "HttpOnly", "SameSite=Strict"):
            self.assertIn(attr, line)

    def test_GDPR_32_wrong_code_refused_then_throttled(self):
        """GDPR-32: a wrong code is 401 without a session, audited
        denied; after three wrong tries the next is 429 without being
        checked, even with the right code."""
        name, secret, _ = self.enrol("customer_service")
        right = self.code(secret)
        wrong = "%06d" % ((int(right) + 1) % 1000000)
        b = Browser(self.server)
        for i in range(3):
            page = b.get(BASE + "/login")
            r = b.post(BASE + "/login", {"name": name, "password": PASSWORD,
                                         "code": wrong}, page.csrf())
            self.assertEqual(r.status, 401, r)
            self.assertIn(DENIED, r.text)
            self.assertNotIn(SESSION, b.jar)
        page = b.get(BASE + "/login")
        r = b.post(BASE + "/login", {"name": name, "password": PASSWORD,
                                     "code": right}, page.csrf())
        self.assertEqual(r.status, 429, r)
        self.assertNotIn(SESSION, b.jar)
        denied = [e for e in self.audit("console_login")
                  if e["actor"] == name and e["decision"] != "allow"]
        self.assertEqual(len(denied), 4, denied)
        self.assertTrue(all(wrong not in str(e) for e in denied))

    def test_GDPR_32_logout_ends_the_session(self):
        """GDPR-32: logout ends the session: the old cookie opens
        nothing (303 to the login page), audited."""
        b, name = self.login("customer_service")
        token = b.jar[SESSION]
        page = b.get(BASE + "/requests")
        r = b.post(BASE + "/logout", {}, page.csrf())
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(SESSION, b.jar)
        b.jar[SESSION] = token
        r = b.get(BASE + "/requests")
        self.assertEqual(r.status, 303, r)
        self.assertEqual(r.header("Location"), BASE + "/login")
        self.assertTrue([e for e in self.audit("console_logout")
                         if e["actor"] == name])

    def test_GDPR_32_no_session_no_page(self):
        """GDPR-32: without a session every page sends to the login page
        (GET) or is 401 (POST); a forged cookie is no session."""
        b = Browser(self.server)
        r = b.get(BASE + "/requests")
        self.assertEqual(r.status, 303, r)
        b.jar[SESSION] = "A" * 43
        r = b.get(BASE + "/requests")
        self.assertEqual(r.status, 303, r)

    def test_GDPR_32_enrolment_in_the_browser(self):
        """GDPR-32 (issue 20 point 3): the first login with the right
        password and no code shows the otpauth URI (the CLI's) and its QR
        code as SVG; the first code confirms it and opens a session;
        after that a login without a code never shows the secret again;
        a wrong password shows nothing."""
        name, secret, uri = self.enrol("customer_service")
        b = Browser(self.server)
        page = b.get(BASE + "/login")
        r = b.post(BASE + "/login", {"name": name, "password": "wrong " * 3},
                   page.csrf())
        self.assertEqual(r.status, 401, r)
        self.assertNotIn(secret, r.text)
        page = b.get(BASE + "/login")
        r = b.post(BASE + "/login", {"name": name, "password": PASSWORD},
                   page.csrf())
        self.assertEqual(r.status, 200, r)
        self.assertIn("<svg", r.text)
        self.assertIn(secret, r.text)
        self.assertIn(uri.replace("&", "&amp;"), r.text)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        r = b.post(BASE + "/login", {"name": name, "password": PASSWORD,
                                     "code": self.code(secret)}, r.csrf())
        self.assertEqual(r.status, 303, r)
        self.assertIn(SESSION, b.jar)
        b2 = Browser(self.server)
        page = b2.get(BASE + "/login")
        r = b2.post(BASE + "/login", {"name": name, "password": PASSWORD},
                    page.csrf())
        self.assertEqual(r.status, 400, r)
        self.assertNotIn(secret, r.text)
        self.assertNotIn("<svg", r.text)
        self.assertTrue([e for e in self.audit("console_enrol_shown")
                         if e["actor"] == name])


class RoleTest(ConsoleWebCase):

    def test_GDPR_32_customer_service_403_on_dpo_page_audited(self):
        """GDPR-32: a customer-service actor gets 403 on a DPO-only page
        (the staff page), audited as denied under its name; the DPO
        opens the same page (200); customer service has no link to it."""
        b, name = self.login("customer_service")
        page = b.get(BASE + "/requests")
        self.assertNotIn(BASE + "/staff", page.text)
        r = b.get(BASE + "/staff")
        self.assertEqual(r.status, 403, r)
        denied = [e for e in self.audit("console_page")
                  if e["actor"] == name and e["decision"] != "allow"]
        self.assertEqual(len(denied), 1, denied)
        self.assertIn("staff", denied[0]["reason"])
        d, dpo = self.login("dpo")
        r = d.get(BASE + "/staff")
        self.assertEqual(r.status, 200, r)
        self.assertIn(name, r.text)
        self.assertIn(BASE + "/staff", r.text)
        self.assertFalse([e for e in self.audit("console_page")
                          if e["actor"] == dpo])

    def test_GDPR_32_dpo_lifts_a_lockout(self):
        """GDPR-32: the DPO's staff page lists an actor's wrong tries with
        a button to lift them; lifting forgets them (the next right login
        is checked at once), audited as console_unlock by the DPO; a
        customer-service post to it is 403 and lifts nothing."""
        name, secret, _ = self.enrol("customer_service")
        b = Browser(self.server)
        for _ in range(3):
            page = b.get(BASE + "/login")
            r = b.post(BASE + "/login", {"name": name, "password": "x" * 12,
                                         "code": "000000"}, page.csrf())
            self.assertEqual(r.status, 401, r)
        page = b.get(BASE + "/login")
        r = b.post(BASE + "/login", {"name": name, "password": PASSWORD,
                                     "code": self.code(secret)},
                   page.csrf())
        self.assertEqual(r.status, 429, r)  # throttled: not checked
        cs, _ = self.login("customer_service")
        page = cs.get(BASE + "/requests")
        r = cs.post(BASE + "/staff", {"name": name}, page.csrf())
        self.assertEqual(r.status, 403, r)
        d, dpo = self.login("dpo")
        page = d.get(BASE + "/staff")
        self.assertIn('name="name" value="%s"' % name, page.text)
        r = d.post(BASE + "/staff", {"name": name}, page.csrf())
        self.assertEqual(r.status, 200, r)
        self.assertIn("The lockout is lifted.", r.text)
        self.assertTrue([e for e in self.audit("console_unlock")
                         if e["actor"] == dpo and e["role"] == "dpo"
                         and name in e["reason"]])
        page = b.get(BASE + "/login")
        r = b.post(BASE + "/login", {"name": name, "password": PASSWORD,
                                     "code": self.code(secret)},
                   page.csrf())
        self.assertEqual(r.status, 303, r)

    def test_GDPR_32_dpo_may_not_erase(self):
        """AURA-SHARE-1 as the API: the DPO (no purpose) may not execute
        an erasure from the console: 403, audited, nothing changed."""
        sid, _ = self.person()
        rid = self.new_request(sid)
        cs, _ = self.login("customer_service")
        r = self.act(cs, rid, "attest", {"attestation": "passport seen"})
        self.assertEqual(r.status, 303, r)
        d, dpo = self.login("dpo")
        r = self.act(d, rid, "erase", {})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.show(rid)["status"], "verified")
        self.assertTrue([e for e in self.audit("request_execute")
                         if e["actor"] == dpo and e["decision"] != "allow"])


class CsrfTest(ConsoleWebCase):

    def test_AURA_SEC_1_form_without_token_or_from_elsewhere(self):
        """AURA-SEC-1: a login form without its token, an action with a
        wrong token or from another origin is 403 and changes nothing
        (the CLI shows the request as it was); audited."""
        b = Browser(self.server)
        b.get(BASE + "/login")
        r = b.post(BASE + "/login", {"name": "x", "password": PASSWORD,
                                     "code": "123456"})
        self.assertEqual(r.status, 403, r)
        sid, _ = self.person()
        rid = self.new_request(sid)
        b, name = self.login("customer_service")
        r = b.post("%s/requests/%s/attest" % (BASE, rid),
                   {"attestation": "seen"}, "B" * 43)
        self.assertEqual(r.status, 403, r)
        page = b.get("%s/requests/%s" % (BASE, rid))
        r = b.post("%s/requests/%s/attest" % (BASE, rid),
                   {"attestation": "seen"}, page.csrf(), origin=False,
                   headers={"Origin": "https://evil.example"})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.show(rid)["status"], "received")
        refused = [e for e in self.audit("console_form_refused")
                   if e["actor"] == name]
        self.assertEqual(len(refused), 2, refused)
        # The right token and origin: the other side of the rule.
        r = b.post("%s/requests/%s/attest" % (BASE, rid),
                   {"attestation": "seen"}, page.csrf())
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.show(rid)["status"], "verified")


class QueueTest(ConsoleWebCase):

    def test_GDPR_12_work_a_request_to_completion(self):
        """GDPR-12, GDPR-17: verify by attestation, extend with a reason,
        execute the erasure from the request's page: each step changes
        the request as `vaern requests show` shows, audited under the
        actor's name; a step its state does not allow is refused and
        changes nothing."""
        sid, _ = self.person()
        rid = self.new_request(sid, "erasure")
        b, name = self.login("customer_service")
        # Not verified yet: the erasure is refused, nothing changes.
        r = self.act(b, rid, "erase", {})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.show(rid)["status"], "received")
        r = self.act(b, rid, "attest", {"attestation": "passport seen"})
        self.assertEqual(r.status, 303, r)
        shown = self.show(rid)
        self.assertEqual(shown["status"], "verified")
        self.assertEqual(shown["verify_method"], "attestation")
        self.assertEqual(shown["verified_by"], name)
        # An extension without a reason is refused (GDPR-12).
        r = self.act(b, rid, "extend", {"months": "1"})
        self.assertEqual(r.status, 400, r)
        self.assertIsNone(self.show(rid)["extension"])
        r = self.act(b, rid, "extend", {"months": "1",
                                        "reason": "many systems to search"})
        self.assertEqual(r.status, 303, r)
        shown = self.show(rid)
        self.assertEqual(shown["extension"]["months"], 1)
        self.assertNotEqual(shown["due_date"], shown["due_date_original"])
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertIn("many systems to search", page.text)
        r = self.act(b, rid, "erase", {})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.show(rid)["status"], "completed")
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertIn("The request is closed", page.text)
        self.assertNotIn("/erase\"", page.text)
        mine = [e for e in self.all_audit() if e["actor"] == name]
        done = {e["action"] for e in mine if e["decision"] == "allow"}
        for action in ("request_verified", "request_extended",
                       "request_erasure"):
            self.assertIn(action, done)
        self.assertTrue([e for e in mine
                         if e["action"] == "console_request_view"])

    def test_AOPT_ACCESS_1_send_code_and_verify_by_code(self):
        """AOPT-ACCESS-1: "send a code" from the request's page sends one
        to the contact on record (the spool); a wrong code is refused and
        changes nothing; the right one verifies the request by code, as
        the CLI shows."""
        sid, _ = self.person()
        rid = self.new_request(sid, "access")
        b, name = self.login("customer_service")
        r = self.act(b, rid, "code", {"contact": "email"})
        self.assertEqual(r.status, 303, r)
        codes = []
        for path in sorted(glob.glob(os.path.join(self.dir, "outbox",
                                                  "*%s*.json" % rid))):
            with open(path) as f:
                m = re.search(r" is (\d{8})\.", json.load(f)["body"])
            if m:
                codes.append(m.group(1))
        self.assertEqual(len(codes), 1, codes)
        code = codes[0]
        wrong = "%08d" % ((int(code) + 1) % 100000000)
        r = self.act(b, rid, "verify", {"code": wrong})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.show(rid)["status"], "received")
        r = self.act(b, rid, "verify", {"code": code})
        self.assertEqual(r.status, 303, r)
        shown = self.show(rid)
        self.assertEqual(shown["status"], "verified")
        self.assertEqual(shown["verify_method"], "code")
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertIn("/report?format=html", page.text)
        self.assertNotIn('class="act-verify"', page.text)

    def test_GDPR_18_restriction_executed(self):
        """GDPR-18: a verified restriction request executed from the
        console (and completed) as the CLI shows; before verification the
        page offers no restriction and a forged post is refused."""
        sid, _ = self.person()
        rid = self.new_request(sid, "restriction")
        b, name = self.login("customer_service")
        self.not_offered(b, rid, "restrict", {"complete": "1"})
        self.assertEqual(self.act(b, rid, "attest", {
            "attestation": "called back on the number on record"}).status,
            303)
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertIn('class="act-restrict"', page.text)
        r = self.act(b, rid, "restrict", {"complete": "1"})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.show(rid)["status"], "completed")

    def test_GDPR_21_objection_executed(self):
        """GDPR-21: a verified objection executed from the console with a
        purpose named in the form, as the CLI shows; an unknown purpose is
        refused (400) and changes nothing."""
        sid, _ = self.person()
        rid = self.new_request(sid, "objection")
        b, name = self.login("customer_service")
        self.assertEqual(self.act(b, rid, "attest", {
            "attestation": "signed letter"}).status, 303)
        r = self.act(b, rid, "object", {"purposes": "no_such_purpose"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.show(rid)["status"], "verified")
        r = self.act(b, rid, "object", {"purposes": " marketing_post "})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.show(rid)["status"], "completed")

    def test_GDPR_12_refuse_with_a_reason(self):
        """GDPR-12: refusing needs a reason (400 without one, nothing
        changed); with one the request is refused as the CLI shows."""
        sid, _ = self.person()
        rid = self.new_request(sid, "access")
        b, name = self.login("customer_service")
        r = self.act(b, rid, "refuse", {})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.show(rid)["status"], "received")
        r = self.act(b, rid, "refuse", {"reason": "manifestly unfounded"})
        self.assertEqual(r.status, 303, r)
        shown = self.show(rid)
        self.assertEqual(shown["status"], "refused")
        self.assertEqual(shown["status_reason"], "manifestly unfounded")

    def test_GDPR_12_queue_by_due_day_and_filters(self):
        """GDPR-12: the queue lists open requests by due day with their
        days left; the type filter keeps only that type; a bad due_within
        is 400 naming the parameter."""
        sid, _ = self.person()
        e = self.new_request(sid, "erasure")
        a = self.new_request(sid, "access")
        b, _ = self.login("customer_service")
        page = b.get(BASE + "/requests")
        self.assertEqual(page.status, 200, page)
        self.assertIn(e, page.text)
        self.assertIn(a, page.text)
        self.assertRegex(page.text, r'data-days-left="\d+"')
        page = b.get(BASE + "/requests?type=erasure&status=&due_within=")
        self.assertEqual(page.status, 200, page)
        self.assertIn(e, page.text)
        self.assertNotIn(a, page.text)
        page = b.get(BASE + "/requests?due_within=soon")
        self.assertEqual(page.status, 400, page)
        self.assertIn("due_within", page.text)
        page = b.get(BASE + "/requests?overdue=true")
        self.assertEqual(page.status, 200, page)
        self.assertNotIn(e, page.text)  # due in a month: not overdue
        # The queue's order is the API's.
        ids = re.findall(r'/requests/([0-9a-f-]{36})"', b.get(
            BASE + "/requests").text)
        api = self.call("GET", "/v1/requests", who=("cekura",
                                                     "customer_service"))
        self.assertEqual(ids, [x["id"] for x in api.json()["requests"]])

    def test_GDPR_32_search_by_identifier_not_in_url(self):
        """GDPR-32: the search takes the identifier in a POST body; the
        answer lists the person's requests; the value is in no URL, no
        audit entry; a value nobody holds finds nothing (404)."""
        sid, number = self.person()
        rid = self.new_request(sid, "access")
        b, name = self.login("customer_service")
        page = b.get(BASE + "/requests")
        self.assertIn('method="post"', page.text)
        r = b.post(BASE + "/search", {"category": "customer_number",
                                      "value": number}, page.csrf())
        self.assertEqual(r.status, 200, r)
        self.assertIn(rid, r.text)
        self.assertNotIn(number, "".join(re.findall(r'href="([^"]*)"',
                                                    r.text)))
        found = [e for e in self.audit("console_search")
                 if e["actor"] == name]
        self.assertEqual(len(found), 1, found)
        self.assertNotIn(number, str(found))
        r = b.post(BASE + "/search", {"category": "customer_number",
                                      "value": "C-nobody"}, page.csrf())
        self.assertEqual(r.status, 404, r)
        r = b.post(BASE + "/search", {"category": "request", "value": rid},
                   page.csrf())
        self.assertEqual(r.status, 303, r)


class RectifyTest(ConsoleWebCase):
    """Issue 20 point 2: a rectification executed from the request's
    page, on the facts the page shows (read through the gate)."""

    def rectification(self, sid, categories=("address",)):
        doc = {"type": "rectification", "subject": sid, "channel": "email"}
        if categories:
            doc["categories"] = list(categories)
        r = self.call("POST", "/v1/requests", doc,
                      ("cekura", "customer_service"))
        self.assertEqual(r.status, 201, r)
        return r.json()["id"]

    def values(self, sid):
        """The person's facts as `vaern subject show` shows them."""
        r = run_vaern(["--data", self.dir, "subject", "show",
                       "--controller", "cekura", sid])
        self.assertEqual(r.rc, 0, r)
        return {f["id"]: (f["category"], f["value"])
                for f in r.json()["facts"]}

    def fact_of(self, sid, category):
        (fid,) = [i for i, (c, _) in self.values(sid).items()
                  if c == category]
        return fid

    def shown_facts(self, page):
        return [int(x) for x in re.findall(
            r'<input type="hidden" name="fact" value="(\d+)">', page.text)]

    def test_GDPR_16_rectify_a_fact_shown_on_the_request_page(self):
        """GDPR-16, AURA-RIGHTS-1, GDPR-32: on a verified rectification
        request about the address, the page shows the person's address
        (escaped) read through the gate as the actor (audited before the
        page answers), and not the data the request does not concern;
        the corrected value given in its form is what `vaern subject
        show` and the API then return, the old one gone; the request
        stays in progress, then is completed; audited under the actor,
        no value in the trail."""
        sid, _ = self.person()
        rid = self.rectification(sid)
        old = self.values(sid)
        address = self.fact_of(sid, "address")
        b, name = self.login("customer_service")
        # Not verified yet: no facts read, nothing shown.
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertEqual(page.status, 200, page)
        self.assertEqual(self.shown_facts(page), [])
        self.assertNotIn(old[address][1], page.text)
        self.assertFalse([e for e in self.all_audit()
                          if e["actor"] == name and e["action"] == "read"])
        self.assertEqual(self.act(b, rid, "attest", {
            "attestation": "passport seen"}).status, 303)
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertEqual(self.shown_facts(page), [address])
        self.assertIn(old[address][1], page.text)
        for cat, value in old.values():
            if cat != "address":
                self.assertNotIn(value, page.text)
        reads = [e for e in self.all_audit() if e["actor"] == name
                 and e["action"] == "read"]
        self.assertEqual(len(reads), 1, reads)
        self.assertEqual(reads[0]["decision"], "allow")
        self.assertEqual(reads[0]["role"], "customer_service")
        self.assertEqual(reads[0]["purpose"], "customer_admin")
        self.assertEqual(reads[0]["categories"], ["address"])
        self.assertEqual(reads[0]["subject"], sid)
        # The fact id the page shows is the API's for this person.
        api = self.read(("cekura", "customer_service"), sid,
                        "customer_admin", ["address"])
        self.assertEqual([f["id"] for f in api.json()["facts"]], [address])
        new = "Nyvej 7 <b>&</b> %d" % serial()
        r = self.act(b, rid, "rectify", {"fact": str(address),
                                         "value": new})
        self.assertEqual(r.status, 303, r)
        self.assertIn("done=rectify", r.header("Location"))
        now = self.values(sid)
        self.assertEqual(now[address], ("address", new))
        self.assertNotIn(old[address][1], json.dumps(now))
        for fid, fv in old.items():
            if fid != address:
                self.assertEqual(now[fid], fv)
        api = self.read(("cekura", "customer_service"), sid,
                        "customer_admin", ["address"])
        self.assertEqual([f["value"] for f in api.json()["facts"]], [new])
        self.assertEqual(self.show(rid)["status"], "in_progress")
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertIn("Nyvej 7 &lt;b&gt;&amp;&lt;/b&gt;", page.text)
        self.assertNotIn("<b>&</b>", page.text)
        # A second correction completes the request.
        r = self.act(b, rid, "rectify", {"fact": str(address),
                                         "value": "Torvet 1",
                                         "complete": "1"})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.values(sid)[address], ("address", "Torvet 1"))
        self.assertEqual(self.show(rid)["status"], "completed")
        done = [e for e in self.audit("request_rectification")
                if e["actor"] == name]
        self.assertEqual(len(done), 2, done)
        self.assertTrue(all(e["decision"] == "allow" and
                            e["role"] == "customer_service" and
                            e["rule"] == "GDPR-16" and rid in e["reason"]
                            for e in done))
        trail = json.dumps(self.all_audit())
        for value in (new, "Torvet 1", old[address][1]):
            self.assertNotIn(value, trail)

    def test_GDPR_16_all_data_each_fact_once(self):
        """GDPR-16, GDPR-32: a rectification of all the person's data
        lists each fact the role may read once (read per purpose of the
        role, each read audited as the actor); a purpose the gate refuses
        (special_needs without the person's consent, CEK-SPECIAL-1) is
        named with the gate's reason, audited as denied, and its read
        releases nothing."""
        sid, _ = self.person()
        rid = self.rectification(sid, ())
        facts = self.values(sid)
        b, name = self.login("customer_service")
        self.assertEqual(self.act(b, rid, "attest", {
            "attestation": "passport seen"}).status, 303)
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertEqual(page.status, 200, page)
        self.assertEqual(sorted(self.shown_facts(page)), sorted(facts))
        for _, value in facts.values():
            self.assertIn(value, page.text)
        reads = [(e["purpose"], e["decision"]) for e in self.all_audit()
                 if e["actor"] == name and e["action"] == "read"]
        self.assertIn(("customer_admin", "allow"), reads)
        self.assertIn(("special_needs", "deny"), reads)
        self.assertIn("The gate did not release the data for: "
                      "special_needs:", page.text)

    def test_GDPR_16_bad_input_changes_nothing(self):
        """GDPR-16, AURA-RIGHTS-1: an empty value (400), a fact id of
        another person (404), a fact the request does not concern (400),
        a value its category refuses, a form without its token (403):
        each refused with a message naming the fact or field, never a
        value, and nothing changed (the facts as `vaern subject show`,
        the request as `vaern requests show`)."""
        sid, _ = self.person()
        # Fact ids are the person's own: another person's fact is one
        # this person has no fact of (a sixth).
        other, _ = self.person([fact("address", "Sommerhus %d" % serial())])
        rid = self.rectification(sid, ("address", "email"))
        address = self.fact_of(sid, "address")
        email = self.fact_of(sid, "email")
        name_fact = self.fact_of(sid, "name")
        foreign = max(self.values(other))
        self.assertNotIn(foreign, self.values(sid))
        before, before_other = self.values(sid), self.values(other)
        b, name = self.login("customer_service")
        self.assertEqual(self.act(b, rid, "attest", {
            "attestation": "passport seen"}).status, 303)
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertEqual(sorted(self.shown_facts(page)),
                         sorted([address, email]))
        for fields, status, mention in (
                ({"fact": str(address), "value": ""}, 400, "value"),
                ({"fact": str(address)}, 400, "value"),
                ({"fact": "", "value": "Vej 1"}, 400, "fact"),
                ({"fact": "x1", "value": "Vej 1"}, 400, "fact"),
                ({"fact": str(foreign), "value": "Vej 1"}, 404,
                 "no fact %d" % foreign),
                ({"fact": str(name_fact), "value": "Anna"}, 400,
                 "AURA-RIGHTS-1"),
                ({"fact": str(email), "value": "not an e-mail"}, 400,
                 "fact %d" % email)):
            r = self.act(b, rid, "rectify", fields)
            self.assertEqual(r.status, status, (fields, r))
            self.assertIn(mention, r.text, fields)
            for value in fields.values():
                if len(value) > 2:
                    self.assertNotIn('">%s' % value, r.text)
            self.assertEqual(self.values(sid), before, fields)
            self.assertEqual(self.values(other), before_other, fields)
            self.assertEqual(self.show(rid)["status"], "verified")
        # Without the session's token: refused before anything is read.
        r = b.post("%s/requests/%s/rectify" % (BASE, rid),
                   {"fact": str(address), "value": "Vej 1"}, "B" * 43)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.values(sid), before)
        self.assertFalse([e for e in self.audit("request_rectification")
                          if e["actor"] == name])

    def test_AURA_SHARE_1_role_that_may_not_rectify(self):
        """AURA-SHARE-1, GDPR-32: the DPO (no purpose) is shown no facts
        and its rectification is 403, audited; a bookkeeper, whose
        purposes do not use the address, is shown no address and its
        rectification of it is 403, audited as denied naming the
        category; nothing changed. Customer service's is accepted (the
        other side)."""
        sid, _ = self.person()
        rid = self.rectification(sid)
        address = self.fact_of(sid, "address")
        before = self.values(sid)
        cs, _ = self.login("customer_service")
        self.assertEqual(self.act(cs, rid, "attest", {
            "attestation": "passport seen"}).status, 303)
        d, dpo = self.login("dpo")
        page = d.get("%s/requests/%s" % (BASE, rid))
        self.assertEqual(self.shown_facts(page), [])
        self.assertNotIn(before[address][1], page.text)
        r = self.act(d, rid, "rectify", {"fact": str(address),
                                         "value": "Vej 1"})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.values(sid), before)
        self.assertTrue([e for e in self.audit("request_execute")
                         if e["actor"] == dpo and e["decision"] != "allow"
                         and e["rule"] == "AURA-SHARE-1"])
        k, keeper = self.login("bookkeeper")
        page = k.get("%s/requests/%s" % (BASE, rid))
        self.assertEqual(page.status, 200, page)
        self.assertEqual(self.shown_facts(page), [])
        self.assertNotIn(before[address][1], page.text)
        self.assertIn("No fact of these categories", page.text)
        r = self.act(k, rid, "rectify", {"fact": str(address),
                                         "value": "Vej 1"})
        self.assertEqual(r.status, 403, r)
        self.assertIn("category &#39;address&#39;", r.text)
        self.assertEqual(self.values(sid), before)
        self.assertEqual(self.show(rid)["status"], "verified")
        denied = [e for e in self.audit("request_rectification")
                  if e["actor"] == keeper]
        self.assertEqual(len(denied), 1, denied)
        self.assertEqual(denied[0]["decision"], "deny")
        self.assertEqual(denied[0]["rule"], "AURA-SHARE-1")
        self.assertEqual(denied[0]["subject"], sid)
        r = self.act(cs, rid, "rectify", {"fact": str(address),
                                          "value": "Vej 1"})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.values(sid)[address], ("address", "Vej 1"))


class ActionsTest(ConsoleWebCase):
    """Issue 20 point 2: lift, withdraw, start, complete and the report,
    each through the console's forms, checked against the CLI and API."""

    def verified(self, rtype, sid=None):
        sid = sid or self.person()[0]
        rid = self.new_request(sid, rtype)
        r = run_vaern(["--data", self.dir, "requests", "verify",
                       "--controller", "cekura", rid, "--attest",
                       "id card seen"])
        self.assertEqual(r.rc, 0, r)
        return sid, rid

    def restricted(self, sid):
        r = self.call("GET", "/v1/subjects/%s/facts?purpose=customer_admin"
                      % sid, who=("cekura", "customer_service"))
        return r.status == 403 and "GDPR-18" in r.text

    def test_GDPR_18_lift_the_restriction(self):
        """GDPR-18(3): the restriction placed from the console (in
        progress) is lifted from the console with a reason: the request is
        completed with it as the CLI shows and processing is allowed
        again (the API's read); without a reason, from the DPO, or
        without the token it is refused and the person stays
        restricted; audited under the actor."""
        sid, rid = self.verified("restriction")
        b, name = self.login("customer_service")
        r = self.act(b, rid, "restrict", {})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.show(rid)["status"], "in_progress")
        self.assertTrue(self.restricted(sid))
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertIn('class="act-lift"', page.text)
        r = self.act(b, rid, "lift", {})
        self.assertEqual(r.status, 400, r)
        self.assertIn("reason", r.text)
        d, dpo = self.login("dpo")
        r = self.act(d, rid, "lift", {"reason": "checked"})
        self.assertEqual(r.status, 403, r)
        r = b.post("%s/requests/%s/lift" % (BASE, rid),
                   {"reason": "checked"}, "B" * 43)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.show(rid)["status"], "in_progress")
        self.assertTrue(self.restricted(sid))
        self.assertTrue([e for e in self.audit("request_execute")
                         if e["actor"] == dpo and e["decision"] != "allow"])
        r = self.act(b, rid, "lift", {"reason": "the address is correct"})
        self.assertEqual(r.status, 303, r)
        shown = self.show(rid)
        self.assertEqual(shown["status"], "completed")
        self.assertEqual(shown["status_reason"], "the address is correct")
        self.assertFalse(self.restricted(sid))
        self.assertTrue([e for e in self.audit(
            "request_restriction_lifted") if e["actor"] == name
            and e["decision"] == "allow" and e["rule"] == "GDPR-18"])
        # Closed: a second lift is refused (wrong state).
        r = self.act(b, rid, "lift", {"reason": "again"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.show(rid)["status_reason"],
                         "the address is correct")

    def test_GDPR_18_lift_not_restricted_refused(self):
        """GDPR-18: lifting a person who is not restricted is refused
        (400) and the request stays verified; an unverified request is
        offered no lift and a forged one is refused."""
        sid, _ = self.person()
        rid = self.new_request(sid, "restriction")
        b, _ = self.login("customer_service")
        self.not_offered(b, rid, "lift", {"reason": "checked"})
        sid, rid = self.verified("restriction")
        r = self.act(b, rid, "lift", {"reason": "checked"})
        self.assertEqual(r.status, 400, r)
        self.assertIn("not restricted", r.text)
        self.assertEqual(self.show(rid)["status"], "verified")

    def consenting(self):
        return self.person(consents=[{"purpose": "marketing_consent",
                                      "source": "web_form"}])[0]

    def in_force(self, sid):
        r = self.call("GET", "/v1/subjects/%s/consents" % sid,
                      who=("cekura", "customer_service"))
        self.assertEqual(r.status, 200, r)
        return r.json()["purposes"]["marketing_consent"]["in_force"]

    def test_GDPR_7_withdraw_consent(self):
        """GDPR-7(3): a verified withdrawal request executed from the
        console withdraws the consent (the API's ledger: no longer in
        force), the request completed as the CLI shows; a purpose that
        does not rest on consent or is unknown (400), the DPO (403,
        audited), an unverified request (400) and a form without its
        token (403) change nothing."""
        sid = self.consenting()
        rid0 = self.new_request(sid, "consent_withdrawal")
        b, name = self.login("customer_service")
        self.not_offered(b, rid0, "withdraw",
                         {"purposes": "marketing_consent"})
        _, rid = self.verified("consent_withdrawal", sid)
        for purposes, mention in (("customer_admin", "consent"),
                                  ("nope", "no purpose &#39;nope&#39;")):
            r = self.act(b, rid, "withdraw", {"purposes": purposes})
            self.assertEqual(r.status, 400, r)
            self.assertIn(mention, r.text)
        d, dpo = self.login("dpo")
        r = self.act(d, rid, "withdraw", {"purposes": "marketing_consent"})
        self.assertEqual(r.status, 403, r)
        r = b.post("%s/requests/%s/withdraw" % (BASE, rid),
                   {"purposes": "marketing_consent"}, "B" * 43)
        self.assertEqual(r.status, 403, r)
        self.assertTrue(self.in_force(sid))
        self.assertEqual(self.show(rid)["status"], "verified")
        self.assertTrue([e for e in self.audit("request_execute")
                         if e["actor"] == dpo and e["decision"] != "allow"])
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertIn('class="act-withdraw"', page.text)
        r = self.act(b, rid, "withdraw", {"purposes": "marketing_consent"})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.show(rid)["status"], "completed")
        self.assertFalse(self.in_force(sid))
        (e,) = [e for e in self.audit("request_consent_withdrawal")
                if e["actor"] == name]
        self.assertEqual((e["decision"], e["rule"]), ("allow", "GDPR-7"))
        self.assertIn(rid, e["reason"])

    def test_GDPR_12_start_and_complete(self):
        """GDPR-12: "start" moves a verified request to in progress and
        "complete" closes it with its note, as the CLI shows, each
        audited under the actor; on an unverified request neither is
        offered and both are refused (400), a completed request refuses
        both, a form without its token is refused, nothing changed."""
        sid, _ = self.person()
        rid = self.new_request(sid, "access")
        b, name = self.login("customer_service")
        for action in ("start", "complete"):
            self.not_offered(b, rid, action, {})
        self.assertEqual(self.act(b, rid, "attest", {
            "attestation": "passport seen"}).status, 303)
        r = b.post("%s/requests/%s/start" % (BASE, rid), {}, "B" * 43)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.show(rid)["status"], "verified")
        r = self.act(b, rid, "start", {})
        self.assertEqual(r.status, 303, r)
        self.assertEqual(self.show(rid)["status"], "in_progress")
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertNotIn('class="act-start"', page.text)
        self.assertIn('class="act-complete"', page.text)
        r = self.act(b, rid, "start", {})
        self.assertEqual(r.status, 400, r)
        r = b.post("%s/requests/%s/complete" % (BASE, rid),
                   {"reason": "answered"}, "B" * 43)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.show(rid)["status"], "in_progress")
        r = self.act(b, rid, "complete", {"reason": "answered by letter"})
        self.assertEqual(r.status, 303, r)
        shown = self.show(rid)
        self.assertEqual(shown["status"], "completed")
        self.assertEqual(shown["status_reason"], "answered by letter")
        for action in ("start", "complete"):
            r = self.act(b, rid, action, {"reason": "again"})
            self.assertEqual(r.status, 400, (action, r))
        self.assertEqual(self.show(rid)["status_reason"],
                         "answered by letter")
        hist = [(t["to"], t["actor"]) for t in self.show(rid)["transitions"]]
        self.assertIn(("in_progress", name), hist)
        self.assertIn(("completed", name), hist)

    def test_GDPR_15_GDPR_20_report_through_the_gate(self):
        """GDPR-15, GDPR-20, GDPR-32: the report link of a verified access
        request serves the person's data (the API's report of the same
        request), audited under the actor before it answers; a portable
        copy likewise; before verification, of an erasure request, or
        without a session, no report and no personal value."""
        sid, number = self.person()
        rid = self.new_request(sid, "access")
        b, name = self.login("customer_service")
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertNotIn("/report?", page.text)
        r = b.get("%s/requests/%s/report?format=json" % (BASE, rid))
        self.assertIn(r.status, (400, 403), r)
        self.assertNotIn(number, r.text)
        self.assertEqual(self.act(b, rid, "attest", {
            "attestation": "passport seen"}).status, 303)
        page = b.get("%s/requests/%s" % (BASE, rid))
        self.assertIn("/report?format=json", page.text)
        r = b.get("%s/requests/%s/report?format=json" % (BASE, rid))
        self.assertEqual(r.status, 200, r)
        mine = json.loads(r.text)
        self.assertIn(number, r.text)
        api = self.call("GET", "/v1/requests/%s/report?format=json" % rid,
                        who=("cekura", "customer_service"))
        self.assertEqual(api.status, 200, api)

        def values(doc):
            return sorted(json.dumps(x, sort_keys=True)
                          for x in re.findall(r'"value": ?"[^"]*"',
                                              json.dumps(doc)))
        self.assertEqual(values(mine), values(api.json()))
        reports = [e for e in self.audit("request_report")
                   if e["actor"] == name]
        self.assertEqual([e["decision"] for e in reports],
                         ["deny", "allow"], reports)
        self.assertIn("AOPT-ACCESS-1", reports[0]["reason"])
        reports = reports[1:]
        self.assertEqual(reports[0]["subject"], sid)
        self.assertIn(rid, reports[0]["reason"])
        self.assertNotIn(number, json.dumps(reports))
        r = b.get("%s/requests/%s/report?format=html" % (BASE, rid))
        self.assertEqual(r.status, 200, r)
        self.assertIn(number, r.text)
        _, pid = self.verified("portability", sid)
        r = b.get("%s/requests/%s/report?format=csv" % (BASE, pid))
        self.assertEqual(r.status, 200, r)
        self.assertIn("Kunde %s" % number[2:], r.text)
        self.assertTrue([e for e in self.audit("request_report")
                         if e["actor"] == name and pid in e["reason"]])
        eid = self.new_request(sid, "erasure")
        r = b.get("%s/requests/%s/report?format=json" % (BASE, eid))
        self.assertEqual(r.status, 400, r)
        self.assertNotIn(number, r.text)
        other = Browser(self.server)
        r = other.get("%s/requests/%s/report?format=json" % (BASE, rid))
        self.assertEqual(r.status, 303, r)
        self.assertNotIn(number, r.text)


class AddressThrottleTest(ConsoleWebCase):

    def test_GDPR_32_throttle_per_client_address(self):
        """GDPR-32: past 10 failed logins from one address (whichever
        names they tried) the next try from it waits (429, audited), even
        for another actor with the right code; below that it is
        checked."""
        name, secret, _ = self.enrol("customer_service")
        b = Browser(self.server)
        for i in range(10):
            page = b.get(BASE + "/login")
            r = b.post(BASE + "/login", {"name": "nobody%d" % i,
                                         "password": PASSWORD,
                                         "code": "000000"}, page.csrf())
            self.assertEqual(r.status, 401, r)
        page = b.get(BASE + "/login")
        r = b.post(BASE + "/login", {"name": name, "password": PASSWORD,
                                     "code": self.code(secret)},
                   page.csrf())
        self.assertEqual(r.status, 429, r)
        self.assertNotIn(SESSION, b.jar)
        self.assertTrue(r.header("Retry-After"))
        self.assertTrue([e for e in self.audit("console_login")
                         if "one address" in e["reason"]])


class Timeouts(ConsoleWebCase):
    """The server's clock fixed: a session tried on either side of its
    limits by restarting the server at another time."""

    T0 = 1796119200  # 2026-12-01T10:00:00Z

    def at(self, offset):
        self.server.stop()
        self.server.kill()
        type(self).server = TimedServer(self.dir, os.path.join(
            self.tmp, "serve.log"), time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.T0 + offset))).start()
        self.clock = self.T0 + offset
        return self.server

    def test_GDPR_32_idle_timeout_15_minutes(self):
        """GDPR-32 (as AURA-PORTAL-1): a staff session idle for 14:59
        still works; one idle for 15:00 is ended, audited."""
        self.at(0)
        a, _ = self.login("customer_service")
        b, name = self.login("customer_service")
        self.at(15 * 60 - 1)
        a.server = self.server
        self.assertEqual(a.get(BASE + "/requests").status, 200)
        self.at(15 * 60)
        b.server = self.server
        self.assertEqual(b.get(BASE + "/requests").status, 303)
        self.assertTrue([e for e in self.audit("console_session_refused")
                         if e["actor"] == name and "idle" in e["reason"]])

    def test_GDPR_32_absolute_timeout_8_hours(self):
        """GDPR-32 (as AURA-PORTAL-1): a staff session used every 14
        minutes still works at 7:59:59 and is ended at 8:00:00."""
        self.at(3 * 86400)
        self.T0 += 3 * 86400
        b, _ = self.login("customer_service")
        try:
            for minutes in range(14, 8 * 60, 14):
                self.at(minutes * 60)
                b.server = self.server
                self.assertEqual(b.get(BASE + "/requests").status, 200,
                                 minutes)
            self.at(8 * 3600 - 1)
            b.server = self.server
            self.assertEqual(b.get(BASE + "/requests").status, 200)
            self.at(8 * 3600)
            b.server = self.server
            self.assertEqual(b.get(BASE + "/requests").status, 303)
        finally:
            self.T0 -= 3 * 86400


if __name__ == "__main__":
    unittest.main()
