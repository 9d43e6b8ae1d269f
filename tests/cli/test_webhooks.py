#!/usr/bin/env python3
"""Black-box tests of signed webhooks (issue 19, point 6), through the real
`vaern serve` and a receiver on loopback:

  - every event (request created, verified, extended, completed; due soon
    and overdue; breach clock; sweep done; policy loaded) is POSTed with
    Vaern-Event-Id, Idempotency-Key and Vaern-Signature: t=T,v1=HMAC-
    SHA256(secret, "T." + body); the body holds ids, types and dates,
    never a personal value;
  - a failing receiver gets the same event again, with the same id, after
    1 s then 2 s (backoff), and the events behind it wait;
  - kill -9 mid delivery: after a restart every event is delivered, in
    order per request, and none twice under two ids;
  - bad configuration (an http:// URL off loopback, no secret, a secret
    others may read) stops the start, naming the file and line.
"""
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_api as api  # noqa: E402

VAERN = api.VAERN
ROOT = api.ROOT
EXAMPLE = os.path.join(ROOT, "policies", "example.yaml")
WEBSHOP = os.path.join(ROOT, "policies", "webshop.yaml")
SECRET = "s3cr3t-webhook-key-for-the-tests-0123456789"
EMAIL = "webhook.person@example.dk"
NAME = "Wilhelmine Webhooksen"
WAIT = 20


class Receiver:
    """A loopback HTTP receiver that records every POST. fail: how many
    attempts to answer 500; hang: the next attempt is held unanswered."""

    def __init__(self):
        self.got = []  # (headers dict, body bytes, monotonic time)
        self.fail = 0
        self.hang = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with outer.lock:
                    outer.got.append(({k.lower(): v for k, v in
                                       self.headers.items()}, body,
                                      time.monotonic()))
                    fail = outer.fail > 0
                    if fail:
                        outer.fail -= 1
                if outer.hang.is_set():
                    outer.release.wait(30)
                    return
                self.send_response(500 if fail else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d/hook" % self.httpd.server_port
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def events(self):
        with self.lock:
            return [(h, json.loads(b), t) for h, b, t in self.got]

    def wait_for(self, pred, what):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            evs = self.events()
            if pred(evs):
                return evs
            time.sleep(0.05)
        raise AssertionError("receiver: no %s in %s" % (
            what, [e["type"] for _, e, _ in self.events()]))


class WebhookBase(unittest.TestCase):
    policy = EXAMPLE

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vaern-hook-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.dir = os.path.join(self.tmp, "data")
        r = self.vaern("init", "--policy", self.policy)
        self.assertEqual(r.rc, 0, r)
        self.secret = os.path.join(self.tmp, "webhook.key")
        with open(self.secret, "w") as f:
            f.write(SECRET + "\n")
        os.chmod(self.secret, 0o600)
        self.recv = Receiver()
        self.addCleanup(self.recv.close)
        self.server = None
        self.addCleanup(self.stop_server)

    def vaern(self, *args, stdin=None, as_of=None):
        pre = ["--data", self.dir]
        if as_of is not None:
            pre += ["--as-of", as_of]
        r = api.run_vaern(pre + list(args), stdin=stdin)
        return r

    def start(self, *extra, as_of=None):
        args = ["--webhook", self.recv.url, "--webhook-secret-file",
                self.secret, "--sweep-every", "off", *extra]
        if as_of is not None:
            args = ["--as-of", as_of] + args
        self.server = api.Server(self.dir, os.path.join(self.tmp, "log"),
                                 extra=args)
        return self.server.start()

    def stop_server(self):
        """SIGTERM drains and exits 0; a sanitizer report fails."""
        if self.server is None or self.server.proc is None or \
                self.server.proc.poll() is not None:
            return
        rc = self.server.stop()
        log = self.server.log()
        self.assertEqual(rc, 0, log[-2000:])
        self.assertNotIn("runtime error", log)
        self.assertNotIn("Sanitizer", log)

    def subject(self, email=EMAIL, as_of=None):
        doc = {"purpose": "customer_admin",
               "facts": [{"category": "name", "value": NAME},
                         {"category": "email", "value": email}]}
        r = self.vaern("subject", "add", "--controller", "example",
                       "--json", "-", stdin=json.dumps(doc).encode(),
                       as_of=as_of)
        self.assertEqual(r.rc, 0, r)
        return r.json()["subject"]

    def request(self, sid, as_of=None):
        r = self.vaern("requests", "add", "--controller", "example",
                       "--type", "access", "--subject", sid, "--channel",
                       "email", as_of=as_of)
        self.assertEqual(r.rc, 0, r)
        return r.json()["id"]

    def check_signed(self):
        """Every POST so far: signed over t.body, ids agree."""
        with self.recv.lock:
            got = list(self.recv.got)
        self.assertTrue(got)
        for h, body, _ in got:
            parts = dict(p.split("=", 1)
                         for p in h["vaern-signature"].split(","))
            t = parts["t"]
            self.assertLess(abs(time.time() - int(t)), 300)
            want = hmac.new(SECRET.encode(), t.encode() + b"." + body,
                            hashlib.sha256).hexdigest()
            self.assertEqual(parts["v1"], want)
            doc = json.loads(body)
            self.assertEqual(h["vaern-event-id"], doc["id"])
            self.assertEqual(h["idempotency-key"], doc["id"])
            self.assertEqual(h["vaern-event-type"], doc["type"])
            self.assertEqual(h["content-type"], "application/json")
            for secret in (EMAIL, NAME, SECRET):
                self.assertNotIn(secret.encode(), body)
        return got


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Events(WebhookBase):

    def test_request_steps_are_signed_events_in_order(self):
        self.start()
        sid = self.subject()
        rid = self.request(sid)
        r = self.vaern("requests", "verify", rid, "--controller", "example",
                       "--attest", "id_card_checked")
        self.assertEqual(r.rc, 0, r)
        r = self.vaern("requests", "extend", rid, "--controller", "example",
                       "--months", "1", "--reason", "many records")
        self.assertEqual(r.rc, 0, r)
        r = self.vaern("requests", "status", rid, "in_progress",
                       "--controller", "example")
        self.assertEqual(r.rc, 0, r)
        r = self.vaern("requests", "status", rid, "completed",
                       "--controller", "example")
        self.assertEqual(r.rc, 0, r)
        want = ["request.created", "request.verified", "request.extended",
                "request.in_progress", "request.completed"]
        evs = self.recv.wait_for(lambda e: len(e) >= len(want), "5 events")
        self.assertEqual([e["type"] for _, e, _ in evs], want)
        for _, e, _ in evs:
            self.assertEqual(e["controller"], "example")
            self.assertEqual(e["data"]["request"]["id"], rid)
            self.assertEqual(e["data"]["request"]["type"], "access")
            # Ids and types only: no subject, reason or attestation.
            self.assertNotIn(sid, json.dumps(e))
            self.assertNotIn("many records", json.dumps(e))
            self.assertNotIn("id_card_checked", json.dumps(e))
        self.assertEqual(evs[2][1]["data"]["request"]["extended_months"], 1)
        self.assertEqual(len({e["id"] for _, e, _ in evs}), 5)
        self.check_signed()
        # Per-endpoint metrics.
        m = self.metrics()
        self.assertRegex(m, r'vaern_webhook_delivered_total\{endpoint="'
                            r'[0-9a-f]{12}"\} 5\n')
        self.assertRegex(m, r'vaern_webhook_failures_total\{endpoint="'
                            r'[0-9a-f]{12}"\} 0\n')
        self.assertNotIn("127.0.0.1:%d" % self.recv.httpd.server_port, m)

    def test_alert_rules_use_only_metrics_vaern_exports(self):
        """docs/prometheus/vaern-alerts.yml (issue 19, point 5): every
        vaern_* series a rule reads is on the real /metrics."""
        self.start()
        with open(os.path.join(ROOT, "docs", "prometheus",
                               "vaern-alerts.yml")) as f:
            rules = f.read()
        wanted = set(re.findall(r"\b(vaern_[a-z_]+)", rules))
        self.assertGreaterEqual(len(wanted), 10)
        exported = set(re.findall(r"^(vaern_[a-z_]+)[{ ]", self.metrics(),
                                  re.M))
        self.assertEqual(wanted - exported, set())

    def metrics(self):
        r = self.server.request("GET", "/metrics")
        self.assertEqual(r.status, 200)
        return r.body.decode()

    def test_policy_load_and_sweep_are_events(self):
        self.start()
        r = self.vaern("policy", "load", EXAMPLE)
        self.assertEqual(r.rc, 0, r)
        r = self.vaern("retention", "sweep", "--quiet")
        self.assertEqual(r.rc, 0, r)
        evs = self.recv.wait_for(lambda e: len(e) >= 2, "2 events")
        self.assertEqual([e["type"] for _, e, _ in evs],
                         ["policy.loaded", "retention.sweep_done"])
        self.assertRegex(evs[0][1]["data"]["policy"]["version"],
                         r"^[0-9a-f]{32}$")
        self.assertIn("facts_deleted", evs[1][1]["data"]["sweep"])
        self.check_signed()

    def test_nothing_is_queued_without_an_endpoint(self):
        """Events queue only while a server has endpoints registered: a
        server started without webhooks drops them from the store."""
        self.start()
        self.server.stop()
        self.server = api.Server(self.dir, os.path.join(self.tmp, "log2"),
                                 extra=["--sweep-every", "off"]).start()
        self.request(self.subject())
        self.server.stop()
        import sqlite3
        con = sqlite3.connect(os.path.join(self.dir, "vaern.db"))
        try:
            n = con.execute("SELECT count(*) FROM webhook_endpoint"
                            ).fetchone()[0]
            q = con.execute("SELECT count(*) FROM webhook_event"
                            ).fetchone()[0]
        finally:
            con.close()
        self.assertEqual((n, q), (0, 0))


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Deadlines(WebhookBase):
    """request.due_soon within --webhook-due-within days, each side of the
    boundary; request.overdue the day after the deadline (GDPR-12)."""

    def due_events(self, within, as_of, expect):
        sid = self.subject(as_of="2026-01-01")
        rid = self.request(sid, as_of="2026-01-01T10:00:00Z")  # due 02-01
        self.start("--webhook-due-within", str(within), as_of=as_of)
        # The created event precedes any deadline event (it was queued
        # first); the scan runs at start. Then time for one too many.
        self.recv.wait_for(lambda e: len(e) >= expect, "%d events" % expect)
        time.sleep(1.5)
        return rid, [e for _, e, _ in self.recv.events()]

    def test_GDPR_12_due_soon_on_the_boundary_day(self):
        # 2026-01-27: five days left; within 5 tells it.
        self.start()  # registers the endpoint
        self.server.stop()
        rid, evs = self.due_events(5, "2026-01-27T09:00:00Z", 2)
        soon = [e for e in evs if e["type"] == "request.due_soon"]
        self.assertEqual(len(soon), 1, evs)
        self.assertEqual(soon[0]["data"]["request"]["id"], rid)
        self.assertEqual(soon[0]["data"]["request"]["due"], "2026-02-01")
        self.assertEqual(soon[0]["data"]["request"]["days_left"], 5)
        # Once per deadline: a restart does not tell it again.
        self.server.stop()
        n = len(self.recv.events())
        self.start("--webhook-due-within", "5",
                   as_of="2026-01-28T09:00:00Z")
        time.sleep(1.5)
        self.assertEqual(len(self.recv.events()), n)

    def test_GDPR_12_not_due_soon_the_day_before_the_boundary(self):
        self.start()
        self.server.stop()
        _, evs = self.due_events(4, "2026-01-27T09:00:00Z", 1)
        self.assertEqual([e["type"] for e in evs], ["request.created"])

    def test_GDPR_12_overdue_the_day_after_the_deadline(self):
        self.start()
        self.server.stop()
        rid, evs = self.due_events(7, "2026-02-02T09:00:00Z", 2)
        self.assertEqual([e["type"] for e in evs],
                         ["request.created", "request.overdue"])
        self.assertEqual(evs[1]["data"]["request"]["days_left"], -1)

    def test_GDPR_12_on_the_deadline_day_not_overdue(self):
        self.start()
        self.server.stop()
        _, evs = self.due_events(7, "2026-02-01T09:00:00Z", 2)
        self.assertEqual([e["type"] for e in evs],
                         ["request.created", "request.due_soon"])


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Breach(WebhookBase):
    """GDPR-33: a breach case's 72-hour clock as events."""
    policy = WEBSHOP

    def test_GDPR_33_breach_clock_events(self):
        self.start()
        self.server.stop()
        r = self.vaern("incidents", "report", "--json", "-",
                       stdin=json.dumps({"description": "andres ordrer",
                                         "where": "/ordrer"}).encode(),
                       as_of="2026-12-07T08:00:00Z")
        self.assertEqual(r.rc, 0, r)
        case = r.json()["case"]
        r = self.vaern("incidents", "triage", case, "--json", "-",
                       stdin=json.dumps({
                           "classification": "personal_data_breach",
                           "aware_at": "2026-12-07T10:00:00Z",
                           "nature": ["confidentiality"],
                           "categories": ["customer_email"],
                           "subjects_approx": 4, "records_approx": 4,
                           "risk": "low"}).encode(),
                       as_of="2026-12-07T12:00:00Z")
        self.assertEqual(r.rc, 0, r)
        # 2026-12-09T11:00Z: 23 hours left of the 72.
        self.start(as_of="2026-12-09T11:00:00Z")
        evs = self.recv.wait_for(lambda e: len(e) >= 4, "4 events")
        types = [e["type"] for _, e, _ in evs]
        self.assertEqual(types[:2], ["incident.reported", "incident.triage"])
        self.assertIn("breach.clock_started", types)
        self.assertIn("breach.deadline_near", types)
        self.assertNotIn("breach.deadline_passed", types)
        for _, e, _ in evs:
            self.assertEqual(e["data"]["case"]["id"], case)
            self.assertNotIn("andres ordrer", json.dumps(e))
        self.check_signed()


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class Delivery(WebhookBase):

    def test_failures_retried_with_backoff_and_the_same_id(self):
        self.start()
        self.recv.fail = 2
        rid1 = self.request(self.subject())
        rid2 = self.request(self.subject("other.webhook@example.dk"))
        evs = self.recv.wait_for(lambda e: len(e) >= 4, "4 attempts")
        ids = [e["id"] for _, e, _ in evs]
        # The first event three times under one id, then the second.
        self.assertEqual(ids[0], ids[1])
        self.assertEqual(ids[1], ids[2])
        self.assertNotEqual(ids[2], ids[3])
        self.assertEqual([e["data"]["request"]["id"] for _, e, _ in evs],
                         [rid1, rid1, rid1, rid2])
        t = [x for _, _, x in evs]
        self.assertGreaterEqual(t[1] - t[0], 0.9)   # 1 s
        self.assertGreaterEqual(t[2] - t[1], 1.9)   # then 2 s
        r = self.server.request("GET", "/metrics")
        self.assertRegex(r.body.decode(), r'vaern_webhook_failures_total'
                                          r'\{endpoint="[0-9a-f]{12}"\} 2\n')
        log = self.server.log()
        self.assertIn('"event":"webhook_failed"', log)
        self.assertNotIn(self.recv.url, log)
        self.assertNotIn(EMAIL, log)

    def test_kill_9_mid_delivery_loses_nothing(self):
        self.start()
        self.recv.hang.set()
        sid = self.subject()
        rids = [self.request(sid) for _ in range(3)]
        self.recv.wait_for(lambda e: len(e) >= 1, "the first attempt")
        # Killed while the first POST waits for its answer.
        self.server.kill()
        self.recv.hang.clear()
        self.recv.release.set()
        # Queued while no server runs.
        rids.append(self.request(sid))
        self.start()
        evs = self.recv.wait_for(
            lambda e: len({x["id"] for _, x, _ in e}) >= 4 and
            e[-1][1]["data"]["request"]["id"] == rids[-1], "4 events")
        # Every event delivered, in order; the one cut off sent again
        # under its own id (never twice under two ids).
        by_id = {}
        for _, e, _ in evs:
            by_id.setdefault(e["id"], set()).add(e["data"]["request"]["id"])
        self.assertEqual(len(by_id), 4)
        self.assertTrue(all(len(v) == 1 for v in by_id.values()))
        order = []
        for _, e, _ in evs:
            if not order or order[-1] != e["data"]["request"]["id"]:
                order.append(e["data"]["request"]["id"])
        self.assertEqual(order, rids)
        self.check_signed()


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class BadConfig(WebhookBase):
    """Refused at start with file:line and the reason, never the value."""

    def conf(self, text):
        path = os.path.join(self.tmp, "vaern.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    def serve(self, *args):
        return self.vaern("serve", "--listen", "127.0.0.1:0", *args)

    def test_http_url_off_loopback_refused(self):
        path = self.conf("# hooks\nwebhook = http://tickets.example.com/h\n")
        r = self.serve("--config", path)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("%s:2: webhook: a webhook URL must be https://" % path,
                      r.err)
        self.assertNotIn("tickets.example.com", r.err)
        r = self.serve("--webhook", "http://tickets.example.com/h")
        self.assertEqual(r.rc, 2, r)

    def test_https_and_loopback_accepted_by_the_checker(self):
        path = self.conf("webhook = https://tickets.example.com/h\n"
                         "webhook = http://127.0.0.1:9/h\n"
                         "webhook_secret_file = %s\n"
                         "webhook_due_within = 7\n"
                         "webhook_timeout = 5\nlisten = nonsense\n"
                         % self.secret)
        r = self.vaern("serve", "--config", path)
        # Past the config check: it fails only on the listen address.
        self.assertNotIn("vaern.conf:", r.err)

    def test_world_readable_secret_refused(self):
        os.chmod(self.secret, 0o644)
        path = self.conf("webhook_secret_file = %s\n" % self.secret)
        r = self.serve("--config", path)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("%s:1: webhook_secret_file: a secret that group or "
                      "others may read" % path, r.err)

    def test_webhook_without_secret_refused(self):
        r = self.serve("--webhook", self.recv.url)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("--webhook-secret-file", r.err)
        self.assertEqual(self.recv.events(), [])

    def test_short_secret_refused(self):
        with open(self.secret, "w") as f:
            f.write("short\n")
        r = self.serve("--webhook", self.recv.url, "--webhook-secret-file",
                       self.secret)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("first line, 16 to 256 bytes", r.err)


if __name__ == "__main__":
    unittest.main()
