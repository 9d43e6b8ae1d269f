#!/usr/bin/env python3
"""Browser test of the weakness report on the portal (issue 17 point 1):
the real `vaern serve` with the shipped policies/webshop.yaml, driven in
Debian's chromium by playwright-core (tests/browser/report.mjs), axe-core
checking every page. Screenshots of the form in da, sv and en, the answer
and the status page are kept under $VAERN_ARTEFACTS (the build
directory's portal-screenshots/ under meson).

SHOP-BREACH-1: a report filed in the browser with a screenshot (a real
PNG), the case number, the secret and the deadlines shown; the DPO reads
the screenshot back byte for byte. SHOP-BREACH-2: the status by case
number and secret.

Needs node and tests/browser/node_modules (scripts/deps: npm ci from the
committed lockfile); a missing one fails the test, it is never skipped.
"""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_api as api  # noqa: E402
from test_portal_browser import BROWSER, node_or_fail  # noqa: E402

SCRIPT = os.path.join(BROWSER, "report.mjs")


@unittest.skipIf(not api.VAERN, "VAERN_BIN is not set")
class ReportBrowser(api.ApiCase):
    policies = (api.WEBSHOP,)
    actors = (("webshop", "dpo"),)

    def test_SHOP_BREACH_1_report_with_a_screenshot_in_chromium(self):
        node = node_or_fail(self)
        artefacts = os.environ.get("VAERN_ARTEFACTS") or os.path.join(
            self.tmp, "screenshots")
        result = os.path.join(self.tmp, "result.json")
        # localhost: a secure context to Chromium (the portal's Secure
        # __Host- cookies over plain loopback HTTP).
        env = dict(os.environ, VAERN_URL="http://localhost:%d"
                   % self.server.port, VAERN_ARTEFACTS=artefacts,
                   VAERN_RESULT=result)
        p = subprocess.run([node, SCRIPT], capture_output=True, env=env,
                           timeout=600, cwd=BROWSER)
        out = p.stdout.decode() + p.stderr.decode()
        print(out)
        self.assertEqual(p.returncode, 0, out[-6000:])
        with open(result) as f:
            got = json.load(f)
        with open(got["upload"], "rb") as f:
            sent = f.read()
        self.assertTrue(sent.startswith(b"\x89PNG"))
        r = self.call("GET", "/v1/incidents/%s/screenshots/1" % got["case"],
                      who=("webshop", "dpo"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, sent)
        self.assertTrue(r.header("Content-Type").startswith("image/png"))
        shots = os.listdir(artefacts)
        for lang in ("da", "sv", "en"):
            self.assertIn("report-form-%s.png" % lang, shots)


if __name__ == "__main__":
    unittest.main(verbosity=2)
