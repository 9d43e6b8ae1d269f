#!/usr/bin/env python3
"""Browser test of the staff console's views (issue 20, points 3 to 6):
the real `vaern serve` with CEKURA's seed policy, driven in Debian's
chromium by playwright-core (tests/browser/console_views.mjs), axe-core
checking every page. Screenshots of each view in da, sv and en are kept
under $VAERN_ARTEFACTS (the build directory's console-screenshots/ under
meson).

Flows: log in with a password and a TOTP code (GDPR-32); read the
retention chart (CEK-RET-1); place and lift a legal hold (CEK-HOLD-1);
filter the audit trail by actor and by one person through a POST form
(GDPR-32); a case's page (SHOP-BREACH-2); the policies; customer service
gets 403 on the DPO's pages and reads the plan without the holds.

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
from test_api import ROOT, VAERN, run_vaern, serial  # noqa: E402
from test_console_views import (PASSWORD, ViewsCase, customer,  # noqa: E402
                                expected_chart)

BROWSER = os.path.join(ROOT, "tests", "browser")
SCRIPT = os.path.join(BROWSER, "console_views.mjs")


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class ConsoleViewsBrowser(ViewsCase):

    def test_console_views_in_chromium(self):
        """The views in da, sv, en with a screenshot each, no serious or
        critical axe-core violation; the chart's bars as read in the
        browser equal `vaern retention plan` (CEK-RET-1); a hold placed
        and lifted, the audit
        trail filtered, customer service refused the DPO's pages."""
        node = shutil.which("node")
        if node is None:
            self.fail("node is missing: install Node.js (scripts/deps)")
        if not os.path.isdir(os.path.join(BROWSER, "node_modules",
                                          "playwright-core")):
            self.fail("tests/browser/node_modules is missing: scripts/deps "
                      "runs npm ci there")
        artefacts = os.environ.get("VAERN_ARTEFACTS") or os.path.join(
            self.tmp, "screenshots")
        sid = self.create(("cekura", "customer_service"), customer(serial()))
        r = run_vaern(["--data", self.dir, "incidents", "report", "--json",
                       "-"], stdin=json.dumps(
            {"description": "En fejl i kundeportalen"}).encode())
        self.assertEqual(r.rc, 0, r)
        cfg = {"dpo": {"name": "dpo1", "password": PASSWORD,
                       "secret": self.secrets["dpo1"]},
               "cs": {"name": "cs1", "password": PASSWORD,
                      "secret": self.secrets["cs1"]},
               "subject": sid, "case": r.json()["case"],
               # CEK-RET-1: the bars the chart must draw, from `vaern
               # retention plan` (rule, month, facts).
               "bars": sorted([rule, month, n] for (rule, _, month), n
                              in expected_chart(self.plan())[0].items())}
        self.assertTrue(cfg["bars"], "no fact is due in the chart's window")
        # localhost: a secure context to Chromium, which then keeps the
        # console's Secure __Host- cookies over plain loopback HTTP.
        env = dict(os.environ, VAERN_URL="http://localhost:%d"
                   % self.server.port, VAERN_ARTEFACTS=artefacts,
                   VAERN_CONSOLE=json.dumps(cfg))
        p = subprocess.run([node, SCRIPT], capture_output=True, env=env,
                           timeout=600, cwd=BROWSER)
        out = p.stdout.decode() + p.stderr.decode()
        self.assertEqual(p.returncode, 0, out[-6000:])
        shots = [f for f in os.listdir(artefacts) if f.endswith(".png")]
        for lang in ("da", "sv", "en"):
            for view in ("retention", "audit", "incidents", "policies"):
                self.assertIn("console-%s-%s.png" % (view, lang), shots)


if __name__ == "__main__":
    unittest.main(verbosity=2)
