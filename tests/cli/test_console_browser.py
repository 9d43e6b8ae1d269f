#!/usr/bin/env python3
"""Browser test of the staff console (issue 20): the real `vaern serve`
with the CEKURA seed policy, driven in Debian's chromium by
playwright-core (tests/browser/console.mjs), axe-core checking every
page. Screenshots of each page in da, sv and en are kept under
$VAERN_ARTEFACTS (the build directory's console-screenshots/ under
meson).

Flows: enrol TOTP in the browser and log in (GDPR-32), the queue and its
filters (GDPR-12), the search by identifier, work an erasure request from
registration to completion: verify by attestation, extend with a reason,
erase (GDPR-12, GDPR-17); customer service gets 403 on a DPO-only page,
the DPO opens it (GDPR-32); logout.

Needs node and tests/browser/node_modules (scripts/deps: npm ci from the
committed lockfile); a missing one fails the test, it is never skipped.
"""
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api import ROOT, VAERN  # noqa: E402
from test_console import PASSWORD  # noqa: E402
from test_console_web import ConsoleWebCase  # noqa: E402

BROWSER = os.path.join(ROOT, "tests", "browser")
SCRIPT = os.path.join(BROWSER, "console.mjs")


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class ConsoleBrowser(ConsoleWebCase):

    def test_console_in_chromium(self):
        """The issue's browser list for the queue and a request, every
        page in da, sv, en with a screenshot, and no serious or critical
        axe-core violation."""
        node = shutil.which("node")
        if node is None:
            self.fail("node is missing: install Node.js (scripts/deps)")
        if not os.path.isdir(os.path.join(BROWSER, "node_modules",
                                          "playwright-core")):
            self.fail("tests/browser/node_modules is missing: scripts/deps "
                      "runs npm ci there")
        artefacts = os.environ.get("VAERN_ARTEFACTS") or os.path.join(
            self.tmp, "screenshots")
        sid, number = self.person()
        rid = self.new_request(sid, "erasure")
        cs, cs_secret, _ = self.enrol("customer_service")
        dpo, dpo_secret, _ = self.enrol("dpo")
        cfg = {"cs": {"name": cs, "secret": cs_secret},
               "dpo": {"name": dpo, "secret": dpo_secret},
               "password": PASSWORD, "request": rid,
               "customer_number": number}
        # localhost: a secure context to Chromium, which then keeps the
        # console's Secure __Host- cookies over plain loopback HTTP.
        env = dict(os.environ, VAERN_URL="http://localhost:%d"
                   % self.server.port, VAERN_ARTEFACTS=artefacts,
                   VAERN_CONSOLE=json.dumps(cfg))
        p = subprocess.run([node, SCRIPT], capture_output=True, env=env,
                           timeout=600, cwd=BROWSER)
        out = p.stdout.decode() + p.stderr.decode()
        self.assertEqual(p.returncode, 0, out[-6000:])
        print(out)
        # What the browser did, as the CLI shows it.
        shown = self.show(rid)
        self.assertEqual(shown["status"], "completed")
        self.assertEqual(shown["verified_by"], cs)
        self.assertEqual(shown["extension"]["months"], 1)
        shots = [f for f in os.listdir(artefacts) if f.endswith(".png")]
        for lang in ("da", "sv", "en"):
            for page in ("login", "queue", "request", "staff"):
                self.assertIn("%s-%s.png" % (page, lang), shots)


if __name__ == "__main__":
    unittest.main(verbosity=2)
