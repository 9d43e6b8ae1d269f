#!/usr/bin/env python3
"""Black-box test of the server's logs (issue 19, point 5; GDPR-32).

One `vaern serve` with webhooks (to a receiver that fails, so delivery
failures are logged), a scheduled sweep every second, a reload, and a run
of the API and the CLI with seeded personal values: people created, found
by e-mail, read, rectified, refused for bad values that quote personal
data, rights requests, a public security report with a contact address.
Then the whole stderr of the server is read:

  - every line is one JSON object with an "event";
  - each request line carries the id the answer sent as X-Request-Id,
    the route name, the status and the latency in ms;
  - not one seeded personal value (nor the webhook secret, nor the
    receiver's URL, nor a subject id) appears anywhere in it.
"""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_api as api  # noqa: E402
from test_webhooks import SECRET, WebhookBase, WEBSHOP  # noqa: E402

PEOPLE = [
    ("Karoline Logfri", "karoline.logfri@example.dk", "+4520304050"),
    ("Sune Sporløs", "sune.sporlos@example.se", "+46701234567"),
]
BAD_EMAIL = "gunnar-hemmelig-at-example.dk"
REPORTER = "reporter.logfri@example.dk"
DESCRIPTION = "Ordrerne for Karoline Logfri kan ses af alle"


@unittest.skipIf(not api.VAERN, "VAERN_BIN is not set")
class Logs(WebhookBase):

    def test_GDPR_32_no_personal_data_in_a_full_run(self):
        # The web shop's policy as well: the public intake.
        r = self.vaern("policy", "load", WEBSHOP)
        self.assertEqual(r.rc, 0, r)
        self.recv.fail = 3
        self.start("--sweep-every", "1s")
        tok = {}
        for name, role in (("cs", "customer_service"), ("dpo", "dpo")):
            r = self.vaern("actor", "add", "--controller", "example",
                           "--name", name, "--role", role)
            self.assertEqual(r.rc, 0, r)
            tok[name] = r.json()["token"]
        call = self.server.request
        sids = []
        ids = []
        for name, email, phone in PEOPLE:
            r = call("POST", "/v1/subjects", {
                "purpose": "customer_admin", "source": "web_form",
                "facts": [{"category": "name", "value": name},
                          {"category": "email", "value": email},
                          {"category": "phone", "value": phone}]},
                token=tok["cs"])
            self.assertEqual(r.status, 201, r)
            sids.append(r.json()["subject"])
            ids.append(r.header("X-Request-Id"))
            r = call("POST", "/v1/subjects/lookup",
                     {"type": "email", "value": email,
                      "purpose": "customer_admin"}, token=tok["cs"])
            self.assertEqual(r.status, 200, r)
            ids.append(r.header("X-Request-Id"))
            r = call("GET", "/v1/subjects/%s/facts?purpose=customer_admin"
                     % sids[-1], token=tok["cs"])
            self.assertEqual(r.status, 200, r)
            facts = r.json()["facts"]
            fid = [f["id"] for f in facts if f["category"] == "email"][0]
            # Refused: a value that is not an e-mail address.
            r = call("PATCH", "/v1/subjects/%s/facts/%d" % (sids[-1], fid),
                     {"value": BAD_EMAIL}, token=tok["cs"])
            self.assertEqual(r.status, 400, r)
            ids.append(r.header("X-Request-Id"))
        # A lookup of nobody, a create with a bad value.
        r = call("POST", "/v1/subjects/lookup",
                 {"type": "email", "value": "nobody.logfri@example.dk",
                  "purpose": "customer_admin"}, token=tok["cs"])
        self.assertEqual(r.status, 404, r)
        r = call("POST", "/v1/subjects", {
            "purpose": "customer_admin",
            "facts": [{"category": "email", "value": BAD_EMAIL}]},
            token=tok["cs"])
        self.assertEqual(r.status, 400, r)
        # Rights requests through the CLI (webhook events).
        for sid in sids:
            r = self.vaern("requests", "add", "--controller", "example",
                           "--type", "access", "--subject", sid,
                           "--channel", "email")
            self.assertEqual(r.rc, 0, r)
        # The public intake, with a contact address.
        r = call("POST", "/v1/reports",
                 {"controller": "webshop", "description": DESCRIPTION,
                  "where": "/ordrer", "contact": {"email": REPORTER}})
        self.assertEqual(r.status, 201, r)
        # A reload and the scheduled sweep.
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            log = self.server.log()
            if '"retention_sweep"' in log and '"policy_reload"' in log \
                    and '"webhook_failed"' in log:
                break
            time.sleep(0.2)
        self.recv.wait_for(lambda e: len({x["id"] for _, x, _ in e}) >= 2,
                           "two events")
        self.assertEqual(self.server.stop(), 0)
        log = self.server.log()

        events = set()
        seen_ids = set()
        for line in log.splitlines():
            doc = json.loads(line)  # one JSON object a line
            self.assertIsInstance(doc, dict, line)
            self.assertIn("event", doc, line)
            events.add(doc["event"])
            if doc["event"] == "request":
                self.assertEqual(set(doc), {"event", "id", "method", "route",
                                            "status", "ms"}, line)
                seen_ids.add(str(doc["id"]))
        self.assertTrue({"request", "retention_sweep", "policy_reload",
                         "webhook_failed", "stopped"} <= events, events)
        self.assertTrue(set(ids) <= seen_ids, (ids, seen_ids))
        seeded = [v for p in PEOPLE for v in p] + [
            BAD_EMAIL, REPORTER, DESCRIPTION, "nobody.logfri@example.dk",
            SECRET, self.recv.url, "127.0.0.1:%d" % self.recv.httpd.
            server_port] + sids
        for value in seeded:
            self.assertNotIn(value, log)
            # Nor a distinctive part of it (a local part, a number).
            self.assertNotIn(value.split("@")[0].lstrip("+"), log)


if __name__ == "__main__":
    unittest.main()
