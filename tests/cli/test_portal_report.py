#!/usr/bin/env python3
"""Black-box tests of the weakness report on the portal (issue 17 point
1): the real `vaern serve` on loopback with the shipped
policies/webshop.yaml, driven over HTTP as a browser without JavaScript
would (GET the form, POST it as multipart/form-data).

Clauses of mission/CLAUSES.md proved here, each named in the test:
  SHOP-BREACH-1  anyone reports a weakness on the portal, without logging
                 in: texts and up to 5 screenshots (PNG/JPEG by their
                 magic bytes, 5 MiB each) sealed by the same vault call
                 as POST /v1/reports and readable by the DPO byte for
                 byte; the case number, the secret and the deadlines on
                 the answer page; the same per-address rate limit as the
                 API; a form from another site or without its token
                 refused; bad input (whitespace, fake or large images, six
                 files, a malformed body) a 4xx page naming the field,
                 nothing stored, nothing rendered unescaped
  SHOP-BREACH-2  the reporter sees the receipt and the feedback with the
                 case number and secret (a POST form: the secret never in
                 a URL)

Standard library only.
"""
import http.client
import json
import os
import re
import sys
import unittest
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dbpeek  # noqa: E402
import test_api as api  # noqa: E402

WEBSHOP = api.WEBSHOP
MIB = 1024 * 1024
PNG = (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 13 +
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32 + b"\xff\xd9"
GIF = b"GIF89a" + b"\x00" * 40
SCRIPT = "<script>alert('x')</script>"
BOUNDARY = "----vaernTestBoundary7MA4YWxkTrZu0gW"
CASE = re.compile(r"SB-[2-9A-HJ-NP-Z]{12}")


def multipart(fields, files=(), boundary=BOUNDARY):
    """A multipart/form-data body as a browser sends it: fields a list of
    (name, text), files a list of (name, filename, content type, bytes)."""
    out = []
    for name, value in fields:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\""
                    "\r\n\r\n" % (boundary, name)).encode() +
                   value.encode() + b"\r\n")
    for name, filename, ctype, data in files:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; "
                    "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n"
                    % (boundary, name, filename, ctype)).encode() +
                   data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out)


def png_of(size, tag=b""):
    """A PNG (by its magic bytes) of exactly size bytes."""
    body = PNG + tag
    return body + b"\x00" * (size - len(body))


class Page:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.text = body.decode("utf-8", "replace")

    def header(self, name):
        return self.headers.get(name.lower())

    def token(self):
        m = re.search(r'name="token" value="([A-Za-z0-9_-]+)"', self.text)
        assert m, "no token in %r" % self.text[:600]
        return m.group(1)

    def __repr__(self):
        return "HTTP %d %r" % (self.status, self.text[:600])


@unittest.skipIf(not api.VAERN, "VAERN_BIN is not set")
class ReportBase(api.ApiCase):
    """The web shop's data directory and server; a browser's requests."""

    policies = (WEBSHOP,)
    actors = (("webshop", "dpo"), ("webshop", "security"))
    serve_extra = ("--trusted-proxy", "127.0.0.1")
    _n = 0

    # -- the browser --

    def request(self, method, path, body=None, ctype=None, lang="da",
                origin=True, addr=None, headers=None):
        h = {"Host": "127.0.0.1:%d" % self.server.port,
             "Accept-Language": lang}
        if origin:
            h["Origin"] = "http://127.0.0.1:%d" % self.server.port
        if ctype is not None:
            h["Content-Type"] = ctype
        if addr is None:
            ReportBase._n += 1
            addr = "198.51.100.%d" % (ReportBase._n % 250 + 1)
        h["X-Forwarded-For"] = addr
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port,
                                          timeout=api.HTTP_TIMEOUT)
        try:
            try:
                conn.request(method, path, body=body, headers=h)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused before the body was read: the answer
            r = conn.getresponse()
            payload = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()
        return Page(r.status, hdrs, payload)

    def form_token(self, page="report"):
        path = "/portal/webshop/report" + ("/status" if page == "status"
                                           else "")
        r = self.request("GET", path)
        self.assertEqual(r.status, 200, r)
        return r.token()

    def report(self, fields, files=(), token=None, addr=None, **kw):
        if token is None:
            token = self.form_token()
        pairs = ([("token", token)] if token else []) + list(fields)
        return self.request("POST", "/portal/webshop/report",
                            multipart(pairs, files),
                            "multipart/form-data; boundary=" + BOUNDARY,
                            addr=addr, **kw)

    def rows(self):
        con = dbpeek.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            return (con.execute("SELECT count(*) FROM incident").fetchone()[0],
                    con.execute("SELECT count(*) FROM incident_file")
                    .fetchone()[0])
        finally:
            con.close()

    def case_and_secret(self, r):
        self.assertEqual(r.status, 201, r)
        case = CASE.search(r.text).group(0)
        secret = re.search(r"<td>([A-Za-z0-9_-]{43})</td>", r.text).group(1)
        return case, secret

    def screenshot(self, case, n):
        return self.call("GET", "/v1/incidents/%s/screenshots/%d" % (case, n),
                         who=("webshop", "dpo"))



class PortalReportTest(ReportBase):

    def test_SHOP_BREACH_1_form_on_the_portal_in_da_sv_en(self):
        for lang, title in (("da", "Anmeld en sikkerhedsbrist"),
                            ("sv", "Anmäl en säkerhetsbrist"),
                            ("en", "Report a security weakness")):
            r = self.request("GET", "/portal/webshop/report", lang=lang)
            self.assertEqual(r.status, 200, r)
            self.assertIn('<html lang="%s"' % lang, r.text)
            self.assertIn(title, r.text)
            self.assertIn('enctype="multipart/form-data"', r.text)
            self.assertIn('type="file" accept="image/png,image/jpeg" '
                          'multiple', r.text)
            for name in ("description", "how_found", "where",
                         "contact_name", "contact_email", "contact_phone",
                         "screenshots"):
                self.assertIn('name="%s"' % name, r.text)
            self.assertNotIn("<script", r.text)
            self.assertNotIn("style=", r.text)
            csp = r.header("Content-Security-Policy")
            self.assertIn("script-src 'none'", csp)
            self.assertNotIn("unsafe-inline", csp)
            self.assertIn("/portal-assets/portal.css", r.text)
        # Linked from the login page and every page's footer; the plain
        # page stays and links to the form with screenshots.
        r = self.request("GET", "/portal/webshop/login")
        self.assertIn('href="/portal/webshop/report"', r.text)
        r = self.request("GET", "/report/webshop")
        self.assertEqual(r.status, 200, r)
        self.assertIn('<form method="post" action="/report/webshop"', r.text)
        self.assertIn('href="/portal/webshop/report"', r.text)
        # Not a portal of a controller that is not there.
        r = self.request("GET", "/portal/nope/report")
        self.assertEqual(r.status, 404, r)

    def test_SHOP_BREACH_1_five_screenshots_accepted_six_refused(self):
        shots = [("screenshots", "s%d.png" % i, "image/png",
                  png_of(1000 + i, b"shot%d" % i)) for i in range(4)]
        shots.append(("screenshots", "s4.jpg", "image/jpeg", JPEG))
        before = self.rows()
        r = self.report([("description", "Andres ordrer vises")],
                        shots + [shots[0]])
        self.assertEqual(r.status, 413, r)
        self.assertIn("more than 5 files", r.text)
        self.assertEqual(self.rows(), before)
        r = self.report([("description", "Andres ordrer vises"),
                         ("how_found", "Ved et tilfælde\r\nanden linje"),
                         ("where", "/min-konto")], shots)
        case, secret = self.case_and_secret(r)
        self.assertEqual(self.rows(), (before[0] + 1, before[1] + 5))
        self.assertIn("Kvittering senest", r.text)
        self.assertRegex(r.text, r"<td>\d{4}-\d\d-\d\d</td>")
        # Sealed: not in the store in clear; the DPO reads each back.
        raw = dbpeek.store_bytes(self.db)
        self.assertNotIn(b"Andres ordrer", raw)
        for i, (_, _, ctype, data) in enumerate(shots, 1):
            got = self.screenshot(case, i)
            self.assertEqual(got.status, 200, got)
            self.assertEqual(got.body, data)
            self.assertTrue(got.header("Content-Type").startswith(ctype))
        self.assertEqual(self.screenshot(case, 6).status, 404)
        # The texts as sent, line break included (CRLF kept as LF).
        doc = self.call("GET", "/v1/incidents/%s" % case,
                        who=("webshop", "dpo")).json()
        self.assertEqual(doc["report"]["how_found"],
                         "Ved et tilfælde\nanden linje")
        # An empty file input (no file chosen) is no screenshot.
        r = self.report([("description", "uden billede")],
                        [("screenshots", "", "application/octet-stream", b"")])
        case, _ = self.case_and_secret(r)
        self.assertEqual(self.screenshot(case, 1).status, 404)

    def test_SHOP_BREACH_1_five_mib_accepted_one_byte_more_refused(self):
        big = png_of(5 * MIB, b"big")
        before = self.rows()
        r = self.report([("description", "stor")],
                        [("screenshots", "big.png", "image/png",
                          big + b"\x00")])
        self.assertEqual(r.status, 413, r)
        self.assertIn("screenshots", r.text)
        self.assertEqual(self.rows(), before)
        r = self.report([("description", "stor")],
                        [("screenshots", "big.png", "image/png", big)])
        case, _ = self.case_and_secret(r)
        got = self.screenshot(case, 1)
        self.assertEqual(len(got.body), 5 * MIB)
        self.assertEqual(got.body, big)

    def test_SHOP_BREACH_1_five_files_of_five_mib_in_one_form(self):
        """The route reads a form with all five screenshots at their
        limit (the server's own --body-max is 1 MiB); a body past that
        is refused before it is read."""
        shots = [("screenshots", "f%d.png" % i, "image/png",
                  png_of(5 * MIB, b"full%d" % i)) for i in range(5)]
        r = self.report([("description", "fem store")], shots)
        case, _ = self.case_and_secret(r)
        for i, (_, _, _, data) in enumerate(shots, 1):
            self.assertEqual(self.screenshot(case, i).body, data)
        before = self.rows()
        try:
            r = self.report([("description", "for stor"),
                             ("where", "w" * (300 * 1024))], shots)
            self.assertEqual(r.status, 413, r)
        except ConnectionResetError:
            pass  # the 413 lost to the reset of the unread body
        self.assertEqual(self.rows(), before)

    def test_SHOP_BREACH_1_png_and_jpeg_accepted_a_fake_refused(self):
        before = self.rows()
        for name, data in (("fake.png", GIF),
                           ("fake.jpg", b"<svg onload=alert(1)>"),
                           ("empty.png", b"")):
            r = self.report([("description", "falsk")],
                            [("screenshots", name, "image/png", data)])
            self.assertEqual(r.status, 400, (name, r))
            self.assertIn("screenshot 1", r.text)
            self.assertNotIn("<svg", r.text)
        self.assertEqual(self.rows(), before)
        r = self.report([("description", "ægte")],
                        [("screenshots", "a.png", "image/png", PNG),
                         ("screenshots", "b.jpg", "image/jpeg", JPEG)])
        case, _ = self.case_and_secret(r)
        self.assertEqual(self.screenshot(case, 1).body, PNG)
        self.assertEqual(self.screenshot(case, 2).body, JPEG)

    def test_SHOP_BREACH_1_bad_input_names_the_field_stores_nothing(self):
        before = self.rows()
        secret_value = "hemmelig-værdi-4711"
        cases = [
            ([("description", " \r\n\t ")], 400, "description"),
            ([("where", "/x")], 400, "description"),
            ([("description", "x" * 8193)], 413, "description"),
            ([("description", "x"), ("contact_email", secret_value)], 400,
             "contact.email"),
            ([("description", "x"), ("nope", secret_value)], 400,
             "unknown form field"),
            ([("description", "x"), ("description", secret_value)], 400,
             "&#39;description&#39; twice"),
            ([("description", "x\x01" + secret_value)], 400,
             "description"),
            ([("where", "a\nb"), ("description", "x")], 400, "where"),
        ]
        for fields, status, text in cases:
            r = self.report(fields)
            self.assertEqual(r.status, status, (fields, r))
            self.assertIn(text, r.text, fields)
            # The report's page again, with the way back to the form.
            self.assertIn("<h1>Anmeld en sikkerhedsbrist</h1>", r.text)
            self.assertIn('role="alert"', r.text)
            self.assertNotIn(secret_value, r.text)
            self.assertNotIn("<script", r.text)
        self.assertEqual(self.rows(), before)

    def test_SHOP_BREACH_1_malformed_multipart_refused(self):
        token = self.form_token()
        good = multipart([("token", token), ("description", "x")])
        ctype = "multipart/form-data; boundary=" + BOUNDARY
        before = self.rows()
        bodies = [
            (good, "multipart/form-data", 415),
            (good, "multipart/form-data; boundary=other; charset=x", 415),
            (good, "application/x-www-form-urlencoded", 415),
            (b"preamble\r\n" + good, ctype, 400),
            (good[:-len(BOUNDARY) - 8], ctype, 400),  # truncated
            (good + b"epilogue", ctype, 400),
            (good.replace(b"Content-Disposition: form-data",
                          b"Content-Disposition: attachment", 1), ctype, 400),
            (good.replace(b"Content-Disposition:",
                          b"X-Other: 1\r\nContent-Disposition:", 1), ctype,
             400),
            (good.replace(b'name="description"',
                          b'name="description"; filename="a"', 1), ctype,
             400),
            (good.replace(b'name="description"',
                          b'name="description"; name="x"', 1), ctype, 400),
            (good.replace(b"\r\n\r\n", b"\n\n"), ctype, 400),
            (good.replace(b'form-data; name="token"',
                          b"form-data; name=\"token\"" + b" " * 1100, 1),
             ctype, 400),
            # Seventeen parts (empty file inputs, each no file).
            (multipart([("token", token), ("description", "x")],
                       [("screenshots", "", "application/octet-stream",
                         b"")] * 15), ctype, 413),
            (b"", ctype, 400),
        ]
        for body, ct, status in bodies:
            r = self.request("POST", "/portal/webshop/report", body, ct)
            self.assertEqual(r.status, status, (body[:120], ct, r))
            self.assertTrue(r.header("Content-Type").startswith("text/html"),
                            r.headers)
        self.assertEqual(self.rows(), before)
        # The same body, well formed, is taken.
        r = self.request("POST", "/portal/webshop/report", good, ctype)
        self.assertEqual(r.status, 201, r)

    def test_SHOP_BREACH_1_script_in_every_field_rendered_escaped(self):
        fields = [(n, SCRIPT + " " + n) for n in
                  ("description", "how_found", "where", "contact_name")]
        fields.append(("contact_email", "a@example.dk"))
        r = self.report(fields)
        case, _ = self.case_and_secret(r)
        self.assertNotIn("<script", r.text)
        doc = self.call("GET", "/v1/incidents/%s" % case,
                        who=("webshop", "dpo")).json()
        self.assertEqual(doc["report"]["description"],
                         SCRIPT + " description")

    def test_SHOP_BREACH_1_form_token_and_origin(self):
        before = self.rows()
        # No token, a forged one, the status page's token: refused, and
        # audited without the report's text.
        forged = "A" * 54
        seen = len([e for e in self.audit("webshop")
                    if e["action"] == "report_form_refused"])
        for token in ("", forged, self.form_token("status")):
            r = self.report([("description", "hemmelig tekst")],
                            token=token)
            self.assertEqual(r.status, 403, (token, r))
            self.assertIn("Formularen", r.text)
        refused = [e for e in self.audit("webshop")
                   if e["action"] == "report_form_refused"]
        self.assertEqual(len(refused), seen + 3)
        self.assertNotIn("hemmelig", json.dumps(refused))
        self.assertEqual(refused[-1]["rule"], "SHOP-BREACH-1")
        # Another site's page: refused before the body is read.
        r = self.report([("description", "x")], origin=False,
                        headers={"Origin": "https://evil.example"})
        self.assertEqual(r.status, 403, r)
        r = self.report([("description", "x")],
                        headers={"Sec-Fetch-Site": "cross-site"})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.rows(), before)
        # The page's own token is good for more than one report (a
        # reporter may go back and send another).
        token = self.form_token()
        for _ in range(2):
            r = self.report([("description", "x")], token=token)
            self.assertEqual(r.status, 201, r)

    def test_SHOP_BREACH_1_rate_limit_shared_with_the_api(self):
        addr = "203.0.113.91"
        for i in range(4):
            r = self.server.request("POST", "/v1/reports",
                                    body={"description": "api %d" % i},
                                    headers={"X-Forwarded-For": addr})
            self.assertEqual(r.status, 201, r)
        # The fifth report of the hour is taken, from the portal.
        r = self.report([("description", "portal 5")], addr=addr)
        self.assertEqual(r.status, 201, r)
        before = self.rows()
        r = self.report([("description", "portal 6")], addr=addr)
        self.assertEqual(r.status, 429, r)
        self.assertIn("For mange anmeldelser", r.text)
        r = self.server.request("POST", "/v1/reports",
                                body={"description": "api 6"},
                                headers={"X-Forwarded-For": addr})
        self.assertEqual(r.status, 429, r)
        # A large form from that address is refused before it is read.
        try:
            r = self.report([("description", "portal 7")],
                            [("screenshots", "big.png", "image/png",
                              png_of(4 * MIB))], addr=addr)
            self.assertEqual(r.status, 429, r)
        except ConnectionResetError:
            pass  # the 429 lost to the reset of the unread body
        self.assertEqual(self.rows(), before)
        r = self.report([("description", "another")], addr="203.0.113.92")
        self.assertEqual(r.status, 201, r)

    def test_SHOP_BREACH_2_status_by_case_and_secret(self):
        r = self.report([("description", "status"),
                         ("contact_email", "finder@example.dk")])
        case, secret = self.case_and_secret(r)

        def status(case, secret, token=None, lang="da"):
            token = token or self.form_token("status")
            return self.request(
                "POST", "/portal/webshop/report/status",
                urlencode({"token": token, "case": case,
                           "secret": secret}).encode(),
                "application/x-www-form-urlencoded", lang=lang)

        r = self.request("GET", "/portal/webshop/report/status")
        self.assertEqual(r.status, 200, r)
        self.assertIn('<form method="post" action='
                      '"/portal/webshop/report/status">', r.text)
        self.assertIn('type="password"', r.text)
        r = status(case, secret)
        self.assertEqual(r.status, 200, r)
        self.assertIn(case, r.text)
        self.assertIn("Kvittering sendt", r.text)
        self.assertNotIn(secret, r.text)
        # The feedback as the DPO wrote it, escaped, and the case closed.
        r = self.call("POST", "/v1/incidents/%s/feedback" % case,
                      body={"text": "Rettet " + SCRIPT, "closed": True},
                      who=("webshop", "dpo"))
        self.assertEqual(r.status // 100, 2, r)
        r = status(case, secret, lang="en")
        self.assertEqual(r.status, 200, r)
        self.assertIn("Rettet &lt;script&gt;", r.text)
        self.assertNotIn("<script", r.text)
        self.assertRegex(r.text, r"Case closed</th><td>yes</td>")
        # A wrong secret, an unknown case: the same 403, nothing told.
        for c, s in ((case, "x" * 43), ("SB-AAAAAAAAAAAA", secret)):
            r = status(c, s)
            self.assertEqual(r.status, 403, r)
            self.assertIn("Ingen sag", r.text)
            self.assertNotIn("Rettet", r.text)
        r = status(case, secret, token="A" * 54)
        self.assertEqual(r.status, 403, r)


@unittest.skipIf(not api.VAERN, "VAERN_BIN is not set")
class FormTokenLifetime(ReportBase):
    """The form's token holds for VAULT_REPORT_FORM_TTL (2 hours) from
    the instant the form was served: each side of it tried by restarting
    the server with its clock fixed (VAERN_AS_OF)."""

    serve_extra = ()
    T0 = "2026-12-07T10:00:00Z"

    def at(self, instant):
        from test_portal import TimedServer
        if self.server is not None:
            self.server.stop()
            self.server.kill()
        type(self).server = TimedServer(self.dir, os.path.join(
            self.tmp, "serve.log"), instant).start()

    def test_SHOP_BREACH_1_form_token_two_hours(self):
        self.at(self.T0)
        token = self.form_token()
        status_token = self.form_token("status")
        before = self.rows()
        # A token from the future (the clock set back) is not this
        # server's: refused.
        self.at("2026-12-07T09:59:59Z")
        r = self.report([("description", "x")], token=token)
        self.assertEqual(r.status, 403, r)
        self.at("2026-12-07T12:00:01Z")
        r = self.report([("description", "x")], token=token)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.rows(), before)
        self.at("2026-12-07T12:00:00Z")
        r = self.report([("description", "x")], token=token)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.rows(), (before[0] + 1, before[1]))
        r = self.request("POST", "/portal/webshop/report/status",
                         urlencode({"token": status_token,
                                    "case": CASE.search(r.text).group(0),
                                    "secret": "x" * 43}).encode(),
                         "application/x-www-form-urlencoded")
        self.assertEqual(r.status, 403, r)
        self.assertIn("Ingen sag", r.text)  # the token passed


if __name__ == "__main__":
    unittest.main(verbosity=2)
