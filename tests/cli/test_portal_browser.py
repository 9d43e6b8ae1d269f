#!/usr/bin/env python3
"""Browser test of the self-service portal (issue 16): the real `vaern
serve` with the AURA and CEKURA seed policies, driven in Debian's
chromium by playwright-core (tests/browser/portal.mjs), axe-core checking
every page. Screenshots of each page in da, sv and en, and the downloads,
are kept under $VAERN_ARTEFACTS (the build directory's
portal-screenshots/ under meson).

Flows: log in both AURA ways (AURA-LOGIN-1), see the agreement and change
product (AURA-PORTAL-2), download the report and the portable copy
(GDPR-15, GDPR-20), give and withdraw a consent (GDPR-7), file an erasure
request and see it listed with its due date (GDPR-12), log out and have a
session expire (AURA-PORTAL-1), get locked out after five wrong codes
(AURA-LOGIN-1), the cookie banner (AURA-COOKIE-1).

Needs node and tests/browser/node_modules (scripts/deps: npm ci from the
committed lockfile); a missing one fails the test, it is never skipped.
"""
import datetime
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api import ROOT, VAERN, fact, serial  # noqa: E402
from test_portal import PortalCase, TimedServer  # noqa: E402

BROWSER = os.path.join(ROOT, "tests", "browser")
SCRIPT = os.path.join(BROWSER, "portal.mjs")


def node_or_fail(case):
    """Node.js and tests/browser/node_modules, or the test case fails:
    a browser test is never skipped for want of them."""
    node = shutil.which("node")
    if node is None:
        case.fail("node is missing: install Node.js (scripts/deps)")
    if not os.path.isdir(os.path.join(BROWSER, "node_modules",
                                      "playwright-core")):
        case.fail("tests/browser/node_modules is missing: scripts/deps "
                  "runs npm ci there")
    return node


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class PortalBrowser(PortalCase):

    def node(self, phase, persons, state, artefacts):
        node = node_or_fail(self)
        # localhost: a secure context to Chromium, which then keeps the
        # portal's Secure __Host- cookies over plain loopback HTTP.
        env = dict(os.environ, VAERN_URL="http://localhost:%d"
                   % self.server.port, VAERN_DATA=self.dir,
                   VAERN_PERSONS=json.dumps(persons), VAERN_STATE=state,
                   VAERN_ARTEFACTS=artefacts, VAERN_PHASE=phase)
        p = subprocess.run([node, SCRIPT], capture_output=True, env=env,
                           timeout=600, cwd=BROWSER)
        out = p.stdout.decode() + p.stderr.decode()
        self.assertEqual(p.returncode, 0, out[-6000:])
        return out

    def test_portal_in_chromium(self):
        """The issue's browser list, every page in da, sv, en with a
        screenshot, and no serious or critical axe-core violation."""
        artefacts = os.environ.get("VAERN_ARTEFACTS") or os.path.join(
            self.tmp, "screenshots")
        sid, user, inst, contract, _ = self.aura_person("Fiber 500/500")
        _, locked, _, _, _ = self.aura_person()
        n = serial()
        self.create(("cekura", "customer_service"), {
            "purpose": "customer_admin",
            "facts": [fact("name", "Kunde %d" % n),
                      fact("address", "Vej %d" % n),
                      fact("phone", "+4522%06d" % (n % 1000000)),
                      fact("email", "b%d@example.dk" % n),
                      fact("customer_number", "B-%d" % n)],
            "consents": []})
        persons = {"aura": {"user": user, "inst": inst,
                            "contract": contract,
                            "agreement": "Fiber 500/500"},
                   "locked": {"user": locked},
                   "cekura": {"customer_number": "B-%d" % n}}
        state = os.path.join(self.tmp, "state.json")
        print(self.node("main", persons, state, artefacts))
        # AURA-PORTAL-1: the same session 16 minutes later has expired.
        later = (datetime.datetime.now(datetime.timezone.utc) +
                 datetime.timedelta(minutes=16)).strftime(
                     "%Y-%m-%dT%H:%M:%SZ")
        self.server.stop()
        self.server.kill()
        type(self).server = TimedServer(self.dir, os.path.join(
            self.tmp, "serve.log"), later).start()
        print(self.node("expired", persons, state, artefacts))
        shots = [f for f in os.listdir(artefacts) if f.endswith(".png")]
        for lang in ("da", "sv", "en"):
            for page in ("login", "overview", "data", "consents",
                         "requests"):
                self.assertIn("%s-%s.png" % (page, lang), shots)


if __name__ == "__main__":
    unittest.main(verbosity=2)
