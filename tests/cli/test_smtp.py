#!/usr/bin/env python3
"""Black-box tests of the SMTP outbox (issue 5): the real `vaern serve
--smtp ...` (and `vaern requests verify --send-code` with VAERN_SMTP_*)
sending one-time codes to a minimal SMTP server written here with
socketserver, on a free loopback port. The mail is read back with the
`email` package, the code taken from its body and used to verify the
request.

Clauses of mission/CLAUSES.md proved here, each named in the test:
  AOPT-ACCESS-1  the identity is verified by a code sent to the e-mail
                 address on record: by SMTP, as a proper RFC 5322
                 message; a refused or unreachable mail server, or a
                 phone contact with no SMS sender, leaves no code behind
                 and answers without the address or the code
  GDPR-12        a dead mail server cannot hold a request thread or the
                 vault: the API answers within the SMTP timeout and the
                 request stays open, due as before, for another way of
                 verifying
  AURA-SEC-1     (its rule, for mail) no mail in the clear except to a
                 relay on loopback, asked for with --smtp-insecure;
                 otherwise STARTTLS is required

Standard library only.
"""
import base64
import email
import email.policy
import email.utils
import json
import os
import re
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_api as api  # noqa: E402  (the Server helper, run_vaern)

VAERN = os.environ.get("VAERN_BIN")
EXAMPLE = os.path.join(api.ROOT, "policies", "example.yaml")
FROM = "noreply@example.dk"
# The controller's name, with Danish and Swedish letters, goes into the
# body: it must arrive intact through quoted-printable.
CONTROLLER_NAME = "Søgård & Åkerö ApS"
CODE = re.compile(r" is (\d{8})\.")


def write_policy(dirname):
    """example.yaml with a controller name that is not ASCII."""
    with open(EXAMPLE, encoding="utf-8") as f:
        text = f.read()
    assert "name: Eksempel ApS" in text
    path = os.path.join(dirname, "smtp-example.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace("name: Eksempel ApS",
                             "name: " + CONTROLLER_NAME, 1))
    return path


def customer(email_addr, phone=None):
    facts = [{"category": "name", "value": "Anna Hansen"},
             {"category": "email", "value": email_addr}]
    if phone is not None:
        facts.append({"category": "phone", "value": phone})
    return json.dumps({"purpose": "customer_admin", "facts": facts})


# ---- a minimal SMTP server (RFC 5321) ----------------------------------------

class FakeSMTP:
    """EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; AUTH PLAIN and
    STARTTLS when configured. Records each message taken and every
    command. refuse_rcpt answers RCPT with a 550 that quotes the address
    (as real servers do); silent accepts and never greets; greet_delay
    greets late."""

    def __init__(self, refuse_rcpt=False, silent=False, greet_delay=0.0,
                 tls_context=None, auth=None, eightbit=True):
        self.refuse_rcpt = refuse_rcpt
        self.silent = silent
        self.greet_delay = greet_delay
        self.tls_context = tls_context
        self.auth = auth  # (user, password) required, or None
        self.eightbit = eightbit
        self.messages = []  # {"from", "rcpts", "data", "tls", "auth"}
        self.commands = []
        self.connections = 0
        self.cond = threading.Condition()
        self.server = None

    def start(self):
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                conn = {"sock": self.request}
                try:
                    fake._session(conn)
                finally:
                    if conn["sock"] is not self.request:
                        conn["sock"].close()  # the TLS socket

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0),
                                                      Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def url(self):
        return "smtp://127.0.0.1:%d" % self.port

    def wait(self, n, timeout=10):
        """Waits for n messages in all; returns them."""
        with self.cond:
            self.cond.wait_for(lambda: len(self.messages) >= n, timeout)
            return list(self.messages)

    def _session(self, conn):
        sock = conn["sock"]
        with self.cond:
            self.connections += 1
        sock.settimeout(30)
        if self.silent:
            try:
                while sock.recv(4096):
                    pass
            except OSError:
                pass
            return
        time.sleep(self.greet_delay)
        conn.update(file=sock.makefile("rb"), tls=False)

        def send(text):
            conn["sock"].sendall(text.encode("ascii") + b"\r\n")

        def reset():
            return {"from": None, "rcpts": [], "auth": None}

        state = reset()
        authed = None
        send("220 fake.example ESMTP ready")
        while True:
            try:
                raw = conn["file"].readline(2048)
            except OSError:
                return
            if not raw:
                return
            line = raw.rstrip(b"\r\n").decode("ascii", "replace")
            with self.cond:
                self.commands.append(line)
            verb = line.split(" ", 1)[0].upper()
            arg = line[len(verb):].strip()
            if verb == "EHLO":
                caps = ["fake.example"]
                if self.eightbit:
                    caps.append("8BITMIME")
                if self.tls_context is not None and not conn["tls"]:
                    caps.append("STARTTLS")
                if self.auth is not None:
                    caps.append("AUTH PLAIN")
                for c in caps[:-1]:
                    send("250-" + c)
                send("250 " + caps[-1])
            elif verb == "HELO":
                send("250 fake.example")
            elif verb == "STARTTLS" and self.tls_context is not None \
                    and not conn["tls"]:
                send("220 2.0.0 go ahead")
                try:
                    tls = self.tls_context.wrap_socket(conn["sock"],
                                                       server_side=True)
                except (OSError, ssl.SSLError):
                    return
                conn.update(sock=tls, file=tls.makefile("rb"), tls=True)
                state, authed = reset(), None
            elif verb == "AUTH" and self.auth is not None:
                parts = arg.split(" ", 1)
                if parts[0].upper() != "PLAIN":
                    send("504 5.5.4 unsupported")
                    continue
                if len(parts) == 1:
                    send("334 ")
                    parts.append(conn["file"].readline(2048).strip()
                                 .decode("ascii", "replace"))
                try:
                    _, user, pw = base64.b64decode(parts[1]).split(b"\0")
                except ValueError:
                    send("501 5.5.2 bad")
                    continue
                if (user.decode(), pw.decode()) == self.auth:
                    authed = user.decode()
                    send("235 2.7.0 ok")
                else:
                    send("535 5.7.8 bad credentials")
            elif verb == "MAIL":
                if self.auth is not None and authed is None:
                    send("530 5.7.0 authentication required")
                    continue
                state = reset()
                state["from"] = arg
                send("250 2.1.0 ok")
            elif verb == "RCPT":
                if self.refuse_rcpt:
                    # Real servers quote the address back.
                    m = re.search(r"<([^>]*)>", arg)
                    send("550 5.1.1 <%s>: Recipient address rejected: "
                         "User unknown" % (m.group(1) if m else arg))
                    continue
                state["rcpts"].append(arg)
                send("250 2.1.5 ok")
            elif verb == "DATA":
                if not state["rcpts"]:
                    send("503 5.5.1 no valid recipients")
                    continue
                send("354 end with <CRLF>.<CRLF>")
                data = b""
                while True:
                    chunk = conn["file"].readline(65536)
                    if not chunk or chunk == b".\r\n":
                        break
                    if chunk.startswith(b".."):
                        chunk = chunk[1:]  # RFC 5321 4.5.2
                    data += chunk
                with self.cond:
                    self.messages.append({"from": state["from"],
                                          "rcpts": state["rcpts"],
                                          "data": data, "tls": conn["tls"],
                                          "auth": authed})
                    self.cond.notify_all()
                send("250 2.0.0 queued")
                state = reset()
            elif verb == "RSET":
                state = reset()
                send("250 2.0.0 ok")
            elif verb == "NOOP":
                send("250 2.0.0 ok")
            elif verb == "QUIT":
                send("221 2.0.0 bye")
                return
            else:
                send("502 5.5.2 not implemented")


def make_cert(dirname):
    """A self-signed certificate for 127.0.0.1, or None without openssl."""
    if shutil.which("openssl") is None:
        return None
    cert = os.path.join(dirname, "smtp-cert.pem")
    key = os.path.join(dirname, "smtp-key.pem")
    p = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj",
         "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        capture_output=True, timeout=60)
    return (cert, key) if p.returncode == 0 else None


# ---- the server with an SMTP outbox ------------------------------------------

class SmtpCase(api.ApiCase):
    """A server whose outbox is the fake SMTP server of the class."""

    actors = (("example", "customer_service"), ("example", "dpo"))
    CS = ("example", "customer_service")
    fake_options = {}
    smtp_extra = ("--smtp-insecure",)
    smtp_timeout = 5

    @classmethod
    def setUpClass(cls):
        cls._ptmp = tempfile.TemporaryDirectory(prefix="vaern-smtp-")
        try:
            cls.fake = FakeSMTP(**cls.fake_options_for()).start()
            cls.policies = (write_policy(cls._ptmp.name),)
            cls.serve_extra = ("--smtp", cls.fake.url(), "--smtp-from",
                               FROM, "--smtp-timeout",
                               str(cls.smtp_timeout), *cls.smtp_extra_for())
            super().setUpClass()
        except BaseException:
            if getattr(cls, "fake", None) is not None:
                cls.fake.stop()
            cls._ptmp.cleanup()
            raise

    @classmethod
    def fake_options_for(cls):
        return dict(cls.fake_options)

    @classmethod
    def smtp_extra_for(cls):
        return cls.smtp_extra

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.fake.stop()
            cls._ptmp.cleanup()

    def subject(self, phone=None):
        addr = api.uniq_email("smtp")
        r = api.run_vaern(["--data", self.dir, "subject", "add",
                           "--controller", "example", "--json", "-"],
                          stdin=customer(addr, phone).encode())
        self.assertEqual(r.rc, 0, r)
        return r.json()["subject"], addr

    def new_request(self, sid):
        r = self.call("POST", "/v1/requests", {"type": "access",
                                               "subject": sid,
                                               "channel": "email"}, self.CS)
        self.assertEqual(r.status, 201, r)
        return r.json()["id"]

    def ncodes(self):
        return self.sql("SELECT count(*) FROM request_code")[0][0]

    def spooled(self):
        return os.listdir(os.path.join(self.dir, "outbox")) \
            if os.path.isdir(os.path.join(self.dir, "outbox")) else []

    def assertNoPersonalData(self, text, *values):
        for v in values:
            self.assertNotIn(v, text, "personal data in %r" % text[:2000])


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class SmtpSendTest(SmtpCase):
    """A mail server on loopback that takes the mail (in the clear, with
    --smtp-insecure)."""

    def test_AOPT_ACCESS_1_code_by_email_verifies_the_request(self):
        self.assertEqual(self.server.ready["outbox"], "smtp-insecure")
        sid, addr = self.subject()
        rid = self.new_request(sid)
        before = len(self.fake.messages)
        sent_at = datetime.now(timezone.utc)
        r = self.call("POST", "/v1/requests/%s/code" % rid, {}, self.CS)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json()["sent_to"], "email")
        self.assertNoPersonalData(r.text, addr)
        got = self.fake.wait(before + 1)[before:]
        self.assertEqual(len(got), 1)
        mail = got[0]
        self.assertEqual(mail["from"], "FROM:<%s>" % FROM)
        self.assertEqual(mail["rcpts"], ["TO:<%s>" % addr])
        raw = mail["data"]
        # RFC 5322: CRLF only, lines of at most 78; quoted-printable
        # keeps it 7-bit, so no 8BITMIME is needed.
        self.assertTrue(raw.endswith(b"\r\n"))
        for line in raw.split(b"\r\n"):
            self.assertNotIn(b"\n", line)
            self.assertNotIn(b"\r", line)
            self.assertLessEqual(len(line), 78, line)
        self.assertTrue(all(b < 0x80 for b in raw))
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(msg["From"], FROM)
        self.assertEqual(msg["To"], addr)
        self.assertEqual(msg["Subject"], "Your verification code")
        self.assertEqual(msg["MIME-Version"], "1.0")
        self.assertEqual(msg.get_content_type(), "text/plain")
        self.assertEqual(msg.get_content_charset(), "utf-8")
        self.assertEqual(msg["Content-Transfer-Encoding"],
                         "quoted-printable")
        self.assertRegex(msg["Message-ID"], r"^<[0-9a-f]{32}\.vaern@"
                                            r"example\.dk>$")
        date = email.utils.parsedate_to_datetime(msg["Date"])
        self.assertLess(abs((date - sent_at).total_seconds()), 120)
        body = msg.get_content()
        self.assertIn(CONTROLLER_NAME, body)  # æ, ø, å, ö intact
        code = CODE.search(body).group(1)
        # Nothing spooled: the code went by e-mail only.
        self.assertEqual([f for f in self.spooled() if rid in f], [])
        # The code from the mail verifies the request.
        r = self.call("POST", "/v1/requests/%s/verification" % rid,
                      {"code": code}, self.CS)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "verified")
        # Audited without the address or the code; not in the log.
        entries = self.audit("example", subject=sid)
        self.assertIn("request_code_sent", [e["action"] for e in entries])
        self.assertNoPersonalData(json.dumps(entries), addr, code)
        self.assertNoPersonalData(self.server.log(), addr, code)

    def test_AOPT_ACCESS_1_each_code_a_new_mail_only_the_latest_counts(self):
        sid, addr = self.subject()
        rid = self.new_request(sid)
        before = len(self.fake.messages)
        for _ in range(2):
            r = self.call("POST", "/v1/requests/%s/code" % rid, {},
                          self.CS)
            self.assertEqual(r.status, 202, r)
        got = self.fake.wait(before + 2)[before:]
        self.assertEqual(len(got), 2)
        msgs = [email.message_from_bytes(m["data"],
                                         policy=email.policy.default)
                for m in got]
        self.assertNotEqual(msgs[0]["Message-ID"], msgs[1]["Message-ID"])
        old, new = (CODE.search(m.get_content()).group(1) for m in msgs)
        path = "/v1/requests/%s/verification" % rid
        if old != new:
            self.assertError(self.call("POST", path, {"code": old},
                                       self.CS), 403, secrets=(old, addr))
        r = self.call("POST", path, {"code": new}, self.CS)
        self.assertEqual(r.status, 200, r)

    def test_AOPT_ACCESS_1_phone_contact_refused_no_sms_sender(self):
        phone = api.uniq_phone()
        sid, addr = self.subject(phone=phone)
        rid = self.new_request(sid)
        before = (len(self.fake.messages), self.ncodes(), self.spooled())
        r = self.call("POST", "/v1/requests/%s/code" % rid,
                      {"contact": "phone"}, self.CS)
        err = self.assertError(r, 400, "invalid", secrets=(phone, addr))
        self.assertIn("no SMS sender is configured", err["message"])
        self.assertIn("attestation", err["message"])
        # No code stored, nothing sent, nothing spooled.
        self.assertEqual((len(self.fake.messages), self.ncodes(),
                          self.spooled()), before)
        r = self.call("GET", "/v1/requests/" + rid, who=self.CS)
        self.assertEqual(r.json()["status"], "received")


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class SmtpSpoolPhoneTest(SmtpCase):
    """--smtp-spool-phone: phone codes go to the spool DIR/outbox (for an
    SMS gateway), e-mail ones by SMTP."""

    smtp_extra = ("--smtp-insecure", "--smtp-spool-phone")

    def test_AOPT_ACCESS_1_phone_code_spooled_email_code_mailed(self):
        phone = api.uniq_phone()
        sid, addr = self.subject(phone=phone)
        rid = self.new_request(sid)
        before = len(self.fake.messages)
        r = self.call("POST", "/v1/requests/%s/code" % rid,
                      {"contact": "phone"}, self.CS)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json()["sent_to"], "phone")
        files = [f for f in self.spooled() if rid in f]
        self.assertEqual(len(files), 1)
        with open(os.path.join(self.dir, "outbox", files[0])) as f:
            doc = json.load(f)
        self.assertEqual(doc["channel"], "phone")
        self.assertEqual(len(self.fake.messages), before)
        r = self.call("POST", "/v1/requests/%s/code" % rid,
                      {"contact": "email"}, self.CS)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(len(self.fake.wait(before + 1)), before + 1)
        self.assertEqual(len([f for f in self.spooled() if rid in f]), 1)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class SmtpRefusedTest(SmtpCase):
    """A mail server that refuses the recipient, quoting the address."""

    fake_options = {"refuse_rcpt": True}

    def test_AOPT_ACCESS_1_recipient_refused_502_without_the_address(self):
        sid, addr = self.subject()
        rid = self.new_request(sid)
        before = self.ncodes()
        r = self.call("POST", "/v1/requests/%s/code" % rid, {}, self.CS)
        err = self.assertError(r, 502, "bad_gateway", secrets=(addr,))
        self.assertIn("SMTP reply 550", err["message"])
        self.assertIn("no code was sent", err["message"])
        # The server did quote the address; vaern did not pass it on.
        self.assertTrue(any(c.startswith("RCPT") and addr in c
                            for c in self.fake.commands))
        self.assertNoPersonalData(self.server.log(), addr)
        self.assertEqual(self.ncodes(), before)
        self.assertEqual(self.fake.messages, [])
        # The request is as it was, and can be verified another way.
        r = self.call("GET", "/v1/requests/" + rid, who=self.CS)
        self.assertEqual(r.json()["status"], "received")
        r = self.call("POST", "/v1/requests/%s/verification" % rid,
                      {"attestation": "passport shown at the counter"},
                      self.CS)
        self.assertEqual(r.status, 200, r)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class SmtpDeadTest(SmtpCase):
    """A mail server that accepts the connection and never answers."""

    fake_options = {"silent": True}
    smtp_timeout = 2

    def test_GDPR_12_dead_mail_server_answers_in_time_request_open(self):
        sid, addr = self.subject()
        rid = self.new_request(sid)
        due = self.call("GET", "/v1/requests/" + rid,
                        who=self.CS).json()["due_date"]
        t0 = time.monotonic()
        r = self.call("POST", "/v1/requests/%s/code" % rid, {}, self.CS)
        took = time.monotonic() - t0
        err = self.assertError(r, 502, "bad_gateway", secrets=(addr,))
        self.assertIn("did not answer within 2 seconds", err["message"])
        self.assertGreaterEqual(took, 1.5)
        self.assertLess(took, 8)
        self.assertEqual(self.ncodes(), 0)
        r = self.call("GET", "/v1/requests/" + rid, who=self.CS)
        self.assertEqual(r.json()["status"], "received")
        self.assertEqual(r.json()["due_date"], due)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class SmtpSlowTest(SmtpCase):
    """A mail server that greets after 3 seconds: the send waits, the
    vault does not."""

    fake_options = {"greet_delay": 3.0}
    smtp_timeout = 10

    def test_AOPT_ACCESS_1_slow_mail_server_holds_no_write_lock(self):
        sid, addr = self.subject()
        sid2, _ = self.subject()
        # GDPR-12: registering a request tells the person, by this slow
        # server too (its own wait, after its commit).
        rid = self.new_request(sid)
        before = len(self.fake.messages)
        result = {}

        def send():
            t0 = time.monotonic()
            result["r"] = self.call("POST", "/v1/requests/%s/code" % rid,
                                    {}, self.CS)
            result["took"] = time.monotonic() - t0

        t = threading.Thread(target=send)
        t.start()
        time.sleep(0.5)  # the send is waiting for the greeting now
        t0 = time.monotonic()
        r2 = self.call("POST", "/v1/subjects/%s/events" % sid2,
                       {"kind": "last_contact"}, self.CS)  # a write
        took = time.monotonic() - t0
        t.join(30)
        self.assertLess(took, 1.5, "a write waited for the mail server")
        self.assertEqual(result["r"].status, 202, result["r"])
        self.assertGreaterEqual(result["took"], 2.5)
        self.assertEqual(r2.status, 201, r2)
        self.assertEqual(len(self.fake.wait(before + 1)), before + 1)


# ---- STARTTLS ----------------------------------------------------------------

class TlsTmp:
    """A certificate made once for the TLS classes."""
    tmp = None
    pair = None

    @classmethod
    def get(cls):
        if cls.tmp is None:
            cls.tmp = tempfile.TemporaryDirectory(prefix="vaern-smtp-tls-")
            cls.pair = make_cert(cls.tmp.name)
        return cls.pair


def tearDownModule():
    if TlsTmp.tmp is not None:
        TlsTmp.tmp.cleanup()


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class SmtpStartTlsTest(SmtpCase):
    """smtp:// without --smtp-insecure: STARTTLS with the server's
    certificate checked, then AUTH PLAIN with the password from a file."""

    PASSWORD = "correct horse battery staple"

    @classmethod
    def setUpClass(cls):
        # openssl comes with scripts/deps: a missing one fails.
        assert TlsTmp.get() is not None, \
            "openssl cannot make a certificate (scripts/deps installs it)"
        super().setUpClass()

    @classmethod
    def fake_options_for(cls):
        cert, key = TlsTmp.get()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        return {"tls_context": ctx, "auth": ("vaern", cls.PASSWORD)}

    @classmethod
    def smtp_extra_for(cls):
        pw = os.path.join(cls._ptmp.name, "smtp-password")
        with open(pw, "w") as f:
            f.write(cls.PASSWORD + "\n")
        os.chmod(pw, 0o600)
        return ("--smtp-ca", TlsTmp.get()[0], "--smtp-user", "vaern",
                "--smtp-password-file", pw)

    def test_AOPT_ACCESS_1_starttls_and_login_then_verified(self):
        self.assertEqual(self.server.ready["outbox"], "smtp")
        sid, addr = self.subject()
        rid = self.new_request(sid)
        r = self.call("POST", "/v1/requests/%s/code" % rid, {}, self.CS)
        self.assertEqual(r.status, 202, r)
        # The first mail told the person the request arrived (GDPR-12).
        mail = self.fake.wait(2)[1]
        self.assertTrue(mail["tls"], "sent before STARTTLS")
        self.assertEqual(mail["auth"], "vaern")
        self.assertIn("STARTTLS", self.fake.commands)
        # The password is nowhere on the command line or in the log.
        with open("/proc/%d/cmdline" % self.server.proc.pid, "rb") as f:
            self.assertNotIn(self.PASSWORD.encode(), f.read())
        self.assertNotIn(self.PASSWORD, self.server.log())
        msg = email.message_from_bytes(mail["data"],
                                       policy=email.policy.default)
        code = CODE.search(msg.get_content()).group(1)
        r = self.call("POST", "/v1/requests/%s/verification" % rid,
                      {"code": code}, self.CS)
        self.assertEqual(r.status, 200, r)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class SmtpNoStartTlsTest(SmtpCase):
    """smtp:// without --smtp-insecure to a server that offers no
    STARTTLS: nothing goes in the clear."""

    smtp_extra = ()

    def test_AURA_SEC_1_no_starttls_no_mail(self):
        self.assertEqual(self.server.ready["outbox"], "smtp")
        sid, addr = self.subject()
        rid = self.new_request(sid)
        r = self.call("POST", "/v1/requests/%s/code" % rid, {}, self.CS)
        err = self.assertError(r, 502, "bad_gateway", secrets=(addr,))
        self.assertIn("STARTTLS", err["message"])
        self.assertFalse(any(c.upper().startswith(("MAIL", "RCPT", "DATA"))
                             for c in self.fake.commands),
                         self.fake.commands)
        self.assertEqual(self.ncodes(), 0)


# ---- the configuration, refused at startup -----------------------------------

@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class SmtpStartupTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="vaern-smtp-start-")
        cls.dir = os.path.join(cls._tmp.name, "data")
        r = api.run_vaern(["--data", cls.dir, "init", "--policy", EXAMPLE])
        assert r.rc == 0, r

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def serve(self, *args):
        p = subprocess.run([VAERN, "--data", self.dir, "serve", "--listen",
                            "127.0.0.1:0", *args], capture_output=True,
                           env=api.BASE_ENV, timeout=api.CLI_TIMEOUT)
        self.assertNotEqual(p.returncode, 0, p)
        self.assertNotIn(b"listening", p.stdout, p)
        return p.returncode, p.stderr.decode("utf-8", "replace")

    def test_AURA_SEC_1_plain_smtp_off_loopback_refused_at_startup(self):
        for url in ("smtp://192.0.2.25:25", "smtp://mail.example.dk:25",
                    "smtp://localhost:25"):
            rc, err = self.serve("--smtp", url, "--smtp-from", FROM,
                                 "--smtp-insecure")
            self.assertEqual(rc, 1, err)
            self.assertIn("refusing to send mail in the clear", err)
            self.assertIn("loopback", err)
            self.assertIn("STARTTLS", err)

    def test_smtp_settings_refused_at_startup(self):
        pw = os.path.join(self._tmp.name, "open-password")
        with open(pw, "w") as f:
            f.write("hunter2-secret\n")
        os.chmod(pw, 0o644)
        cases = [
            (("--smtp", "smtp://vaern:hunter2-secret@127.0.0.1:25",
              "--smtp-from", FROM), "password file"),
            (("--smtp", "http://127.0.0.1:25", "--smtp-from", FROM),
             "smtp://"),
            (("--smtp", "smtps://127.0.0.1:465", "--smtp-from", FROM,
              "--smtp-insecure"), "smtp:// only"),
            (("--smtp", "smtp://127.0.0.1:25"), "--smtp-from"),
            (("--smtp-from", FROM), "--smtp URL"),
            (("--smtp-insecure",), "--smtp URL"),
            # Header injection through the sender's address.
            (("--smtp", "smtp://127.0.0.1:25", "--smtp-from",
              FROM + "\r\nBcc: eve@evil.example"), "sender"),
            (("--smtp", "smtp://127.0.0.1:25", "--smtp-from", FROM,
              "--smtp-user", "vaern"), "password file"),
            (("--smtp", "smtp://127.0.0.1:25", "--smtp-from", FROM,
              "--smtp-user", "vaern", "--smtp-password-file", pw),
             "readable or writable by others"),
            (("--smtp", "smtp://127.0.0.1:25", "--smtp-from", FROM,
              "--smtp-timeout", "0"), "1 to 300"),
            (("--smtp", "smtp://127.0.0.1:25", "--smtp-from", FROM,
              "--smtp-password", "hunter2-secret"), "from a file"),
        ]
        for args, mention in cases:
            rc, err = self.serve(*args)
            self.assertIn(rc, (1, 2), (args, err))
            self.assertIn(mention, err, args)
            self.assertNotIn("hunter2-secret", err, args)
            self.assertNotIn("evil", err, args)

    def test_help_names_the_smtp_options(self):
        p = subprocess.run([VAERN, "serve", "--help"], capture_output=True,
                           env=api.BASE_ENV, timeout=api.CLI_TIMEOUT)
        text = (p.stdout + p.stderr).decode()
        for opt in ("--smtp URL", "--smtp-from", "--smtp-password-file",
                    "--smtp-insecure", "--smtp-spool-phone", "STARTTLS"):
            self.assertIn(opt, text)

    def test_starttls_to_a_remote_server_starts(self):
        # Nothing is sent before a code is asked for: no connection.
        srv = api.Server(self.dir, os.path.join(self._tmp.name, "s.log"),
                         extra=["--smtp", "smtp://mail.example.invalid:587",
                                "--smtp-from", FROM])
        srv.start()
        try:
            self.assertEqual(srv.ready["outbox"], "smtp")
        finally:
            self.assertEqual(srv.stop(), 0)


# ---- the CLI: vaern requests verify --send-code with VAERN_SMTP_* ------------

@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class SmtpCliTest(unittest.TestCase):

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-smtp-cli-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = os.path.join(self._tmp.name, "data")
        self.fake = FakeSMTP().start()
        self.addCleanup(self.fake.stop)
        r = self.vaern("init", "--policy", write_policy(self._tmp.name))
        self.assertEqual(r.rc, 0, r)

    def vaern(self, *args, stdin=None, env=None):
        p = subprocess.run([VAERN, "--data", self.dir, *args], input=stdin,
                           capture_output=True,
                           env=dict(api.BASE_ENV, **(env or {})),
                           timeout=60)
        return api.Result(p)

    def test_AOPT_ACCESS_1_cli_send_code_by_smtp_from_the_environment(self):
        addr = api.uniq_email("cli")
        r = self.vaern("subject", "add", "--controller", "example",
                       "--json", "-", stdin=customer(addr).encode())
        self.assertEqual(r.rc, 0, r)
        sid = r.json()["subject"]
        r = self.vaern("requests", "add", "--type", "access", "--subject",
                       sid, "--channel", "email")
        self.assertEqual(r.rc, 0, r)
        rid = r.json()["id"]
        env = {"VAERN_SMTP_URL": self.fake.url(),
               "VAERN_SMTP_FROM": FROM, "VAERN_SMTP_INSECURE": "1",
               "VAERN_SMTP_TIMEOUT": "5"}
        # GDPR-12: the receipt went to the spool (no SMTP set then).
        spool = os.path.join(self.dir, "outbox")
        self.assertEqual(len([f for f in os.listdir(spool)
                              if rid in f]), 1)
        for f in os.listdir(spool):
            os.remove(os.path.join(spool, f))
        r = self.vaern("requests", "verify", rid, "--send-code", env=env)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["sent_to"], "email")
        self.assertNotIn(addr, r.out + r.err)
        self.assertFalse(os.path.isdir(os.path.join(self.dir, "outbox"))
                         and os.listdir(os.path.join(self.dir, "outbox")))
        mail = self.fake.wait(1)[0]
        self.assertEqual(mail["rcpts"], ["TO:<%s>" % addr])
        msg = email.message_from_bytes(mail["data"],
                                       policy=email.policy.default)
        self.assertIn(CONTROLLER_NAME, msg.get_content())
        code = CODE.search(msg.get_content()).group(1)
        r = self.vaern("requests", "verify", rid, "--code", "-",
                       stdin=code.encode())
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["status"], "verified")

    def test_AOPT_ACCESS_1_cli_refused_recipient_exit_3_no_code(self):
        self.fake.refuse_rcpt = True
        addr = api.uniq_email("cli")
        r = self.vaern("subject", "add", "--controller", "example",
                       "--json", "-", stdin=customer(addr).encode())
        sid = r.json()["subject"]
        rid = self.vaern("requests", "add", "--type", "access", "--subject",
                         sid, "--channel", "email").json()["id"]
        env = {"VAERN_SMTP_URL": self.fake.url(),
               "VAERN_SMTP_FROM": FROM, "VAERN_SMTP_INSECURE": "1"}
        r = self.vaern("requests", "verify", rid, "--send-code", env=env)
        self.assertEqual(r.rc, 3, r)
        self.assertIn("SMTP reply 550", r.err)
        self.assertNotIn(addr, r.out + r.err)
        # Off loopback in the clear: refused before anything is sent.
        env["VAERN_SMTP_URL"] = "smtp://192.0.2.25:25"
        r = self.vaern("requests", "verify", rid, "--send-code", env=env)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("loopback", r.err)


if __name__ == "__main__":
    unittest.main()
