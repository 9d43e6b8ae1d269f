#!/usr/bin/env python3
"""Black-box tests of the retention engine through the vaern CLI.

Each test loads a seed policy, adds subjects with concrete dates (the
global --as-of clock), records events, and checks `retention plan`,
`retention sweep` and what is left in the vault, by clause:

CEK-RET-1 (2 months after the relationship ends, not while a customer),
CEK-RET-2 (bookkeeping 5 years from the end of the financial year outlasts
the general rule), CEK-HOLD-1 (legal hold: never swept, never erased,
placing and lifting audited), GDPR-17 (crypto-shredding when nothing remains), GDPR-32 (the sweep's
report is in the audit trail, which still verifies).
"""
import json
import os
import sqlite3

import dbpeek
import subprocess
import tempfile
import unittest

VAERN = os.environ.get("VAERN_BIN")
ROOT = os.environ.get("VAERN_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
POL = os.path.join(ROOT, "policies")
TIMEOUT = 60
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}


class Result:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout.decode("utf-8", "replace")
        self.err = p.stderr.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "rc=%d stdout=%r stderr=%r" % (self.rc, self.out[:600],
                                              self.err[:600])


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class RetentionTest(unittest.TestCase):
    policy = "cekura.yaml"
    controller = "cekura"

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-ret-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = os.path.join(self._tmp.name, "data")
        r = self.vaern("init", "--policy", os.path.join(POL, self.policy))
        self.assertEqual(r.rc, EXIT_OK, r)

    def vaern(self, *args, stdin=None, as_of=None):
        pre = ["--data", self.dir]
        if as_of is not None:
            pre += ["--as-of", as_of]
        p = subprocess.run([VAERN, *pre, *args], input=stdin,
                           capture_output=True, env=BASE_ENV,
                           timeout=TIMEOUT)
        return Result(p)

    def add(self, facts, as_of, purpose="customer_admin"):
        doc = {"purpose": purpose,
               "facts": [{"category": c, "value": v} for c, v in facts]}
        r = self.vaern("subject", "add", "--controller", self.controller,
                       "--json", "-", stdin=json.dumps(doc).encode(),
                       as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()["subject"]

    def event(self, sid, kind, at):
        r = self.vaern("subject", "event", "--controller", self.controller,
                       sid, kind, "--at", at, as_of=at)
        self.assertEqual(r.rc, EXIT_OK, r)

    def show(self, sid):
        r = self.vaern("subject", "show", "--controller", self.controller,
                       sid)
        return r

    def categories(self, sid):
        r = self.show(sid)
        if r.rc != EXIT_OK:
            return None
        return sorted(f["category"] for f in r.json()["facts"])

    def expiry(self, sid):
        return {f["category"]: f.get("expires_at")
                for f in self.show(sid).json()["facts"]}

    def sweep(self, as_of, *extra):
        r = self.vaern("retention", "sweep", *extra, as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()

    def plan(self, as_of, *extra):
        r = self.vaern("retention", "plan", "--format", "json", *extra,
                       as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()

    def audit_entries(self):
        r = self.vaern("audit", "show", "--limit", "10000")
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()


CUSTOMER = [("name", "Karen Jensen"), ("address", "Vestergade 3, 8000 Aarhus C"),
            ("phone", "+45 21 22 23 24"), ("email", "karen@example.dk")]


class CekuraTest(RetentionTest):
    def test_CEK_RET_1_two_months_after_relationship_end_GDPR_17(self):
        sid = self.add(CUSTOMER, "2025-03-10")
        self.event(sid, "relationship_start", "2025-03-10")
        # A customer: no clock runs, whatever the dialogue.
        self.event(sid, "last_contact", "2025-04-01")
        self.assertEqual(set(self.expiry(sid).values()), {None})
        self.event(sid, "relationship_end", "2025-12-31")
        # 31 December + 2 months is the end of February.
        self.assertEqual(set(self.expiry(sid).values()),
                         {"2026-02-28T00:00:00Z"})
        rep = self.sweep("2026-02-27")
        self.assertEqual(rep["facts_deleted"], 0, rep)
        self.assertEqual(self.categories(sid), ["address", "email", "name",
                                                "phone"])
        rep = self.sweep("2026-02-28")
        self.assertEqual(rep["facts_deleted"], 4, rep)
        self.assertEqual(rep["subjects_shredded"], 1, rep)
        self.assertEqual(rep["by_rule"], {"cekura/general": 4})
        # Crypto-shredded: the subject and its identifiers are gone.
        self.assertIsNone(self.categories(sid))
        r = self.vaern("subject", "find", "--controller", "cekura", "email",
                       "-", stdin=b"karen@example.dk")
        self.assertNotEqual(r.rc, EXIT_OK, r)
        db = dbpeek.connect(os.path.join(self.dir, "vaern.db"))
        try:
            for t in ("subject", "identifier", "fact", "event"):
                self.assertEqual(db.execute(
                    "SELECT count(*) FROM %s" % t).fetchone()[0], 0, t)
        finally:
            db.close()
        # GDPR-32: the report is in the trail, which still verifies.
        swept = [e for e in self.audit_entries()
                 if e.get("action") == "retention_sweep"]
        self.assertEqual(len(swept), 1, swept)
        self.assertIn("general=4", swept[0]["reason"])
        self.assertNotIn("Karen", json.dumps(swept))
        self.assertEqual(self.vaern("audit", "verify").rc, EXIT_OK)

    def test_CEK_RET_1_returning_customer_is_a_customer_again(self):
        sid = self.add(CUSTOMER, "2024-01-10")
        self.event(sid, "relationship_start", "2024-01-10")
        self.event(sid, "relationship_end", "2024-06-30")
        self.assertEqual(set(self.expiry(sid).values()),
                         {"2024-08-30T00:00:00Z"})
        self.event(sid, "relationship_start", "2024-07-15")
        self.assertEqual(set(self.expiry(sid).values()), {None})
        rep = self.sweep("2025-01-01")
        self.assertEqual(rep["facts_deleted"], 0, rep)

    def test_CEK_RET_2_bookkeeping_outlasts_the_general_rule(self):
        facts = CUSTOMER + [("payment_details", "Betalingsservice, aftale 4411")]
        sid = self.add(facts, "2024-05-02")
        self.event(sid, "relationship_start", "2024-05-02")
        self.event(sid, "relationship_end", "2024-10-31")
        exp = self.expiry(sid)
        # Financial year ends 31 December: 5 years from the end of 2024.
        self.assertEqual(exp["payment_details"], "2030-01-01T00:00:00Z")
        self.assertEqual(exp["name"], "2024-12-31T00:00:00Z")
        rep = self.sweep("2025-01-01")
        self.assertEqual(rep["facts_deleted"], 4, rep)
        self.assertEqual(rep["subjects_shredded"], 0, rep)
        self.assertEqual(self.categories(sid), ["payment_details"])
        plan = self.plan("2025-01-01")
        rows = [p for p in plan["plan"] if p["rule"] == "bookkeeping"]
        self.assertEqual(rows, [{"controller": "cekura", "rule": "bookkeeping",
                                 "clause": "CEK-RET-2", "action": "delete",
                                 "legal_obligation": True, "when": "2030-01",
                                 "facts": 1, "visits": 0}])
        rep = self.sweep("2030-01-01")
        self.assertEqual(rep["facts_deleted"], 1, rep)
        self.assertEqual(rep["subjects_shredded"], 1, rep)

    def test_CEK_HOLD_1_held_data_is_never_swept_nor_erased(self):
        sid = self.add(CUSTOMER, "2025-01-05")
        self.event(sid, "relationship_start", "2025-01-05")
        self.event(sid, "relationship_end", "2025-03-31")
        r = self.vaern("subject", "hold", "--controller", "cekura", sid,
                       "--reason", "Tvist, sag 2025-117", "--review",
                       "2026-06-01", as_of="2025-04-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        hold = r.json()["hold"]
        rep = self.sweep("2025-07-01")
        self.assertEqual(rep["facts_deleted"], 0, rep)
        self.assertEqual(rep["facts_held"], 4, rep)
        self.assertEqual(len(self.categories(sid)), 4)
        r = self.vaern("subject", "erase", "--controller", "cekura", sid)
        self.assertNotEqual(r.rc, EXIT_OK, r)
        self.assertIn("hold", r.err)
        self.assertEqual(len(self.categories(sid)), 4)
        r = self.vaern("subject", "unhold", "--controller", "cekura", sid,
                       str(hold), as_of="2025-07-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        rep = self.sweep("2025-07-02")
        self.assertEqual(rep["facts_deleted"], 4, rep)
        actions = [e["action"] for e in self.audit_entries()]
        self.assertIn("hold_place", actions)
        self.assertIn("hold_lift", actions)
        self.assertNotIn("sag 2025-117", json.dumps(self.audit_entries()))

    def test_CEK_HOLD_1_one_category_held(self):
        sid = self.add(CUSTOMER, "2025-01-05")
        self.event(sid, "relationship_start", "2025-01-05")
        self.event(sid, "relationship_end", "2025-03-31")
        r = self.vaern("subject", "hold", "--controller", "cekura", sid,
                       "--reason", "Dokumentation til myndighed",
                       "--category", "email", as_of="2025-04-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        rep = self.sweep("2025-07-01")
        self.assertEqual(rep["facts_deleted"], 3, rep)
        self.assertEqual(rep["facts_held"], 1, rep)
        self.assertEqual(self.categories(sid), ["email"])

    def test_plan_dry_run_changes_nothing(self):
        sid = self.add(CUSTOMER, "2025-03-10")
        self.event(sid, "relationship_start", "2025-03-10")
        other = self.add([("name", "Bo Lund"), ("address", "Torvet 1, 5000 Odense"),
                          ("phone", "+45 31 32 33 34")], "2025-03-11")
        self.event(other, "relationship_start", "2025-03-11")
        self.event(other, "relationship_end", "2025-05-20")
        plan = self.plan("2025-06-01")
        self.assertEqual(plan["facts"], 7)
        self.assertEqual(plan["waiting"], 4)
        when = {p["when"]: p["facts"] for p in plan["plan"]}
        self.assertEqual(when, {"undated": 4, "2025-07": 3})
        r = self.vaern("retention", "plan", "--format", "csv",
                       as_of="2025-06-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertIn("cekura,general,CEK-RET-1,delete,no,2025-07,3",
                      r.out)
        before = self.categories(other)
        rep = self.sweep("2025-08-01", "--dry-run")
        self.assertEqual(rep["facts_deleted"], 3, rep)
        self.assertEqual(self.categories(other), before)
        self.assertEqual(self.plan("2025-08-01")["overdue"], 3)

    # ---- bad input (issue 4): a clear message, exit non-zero, nothing
    # changes (CONVENTIONS.md habit 5) -----------------------------------

    def _held_customer(self):
        sid = self.add(CUSTOMER, "2025-01-05")
        self.event(sid, "relationship_start", "2025-01-05")
        self.event(sid, "relationship_end", "2025-03-31")
        return sid

    def assert_no_hold(self, sid):
        r = self.vaern("subject", "holds", "--controller", "cekura", sid)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["holds"], [])
        actions = [e["action"] for e in self.audit_entries()]
        self.assertNotIn("hold_place", actions)

    def test_CEK_HOLD_1_bad_hold_input_is_refused(self):
        sid = self._held_customer()
        cases = [
            (["--reason", ""], "reason"),
            ([], "--reason"),
            (["--reason", "x" * 513], "reason"),
            (["--reason", "Tvist\x07"], "reason"),
            (["--reason", "Tvist", "--review", "2026-02-30"], "--review"),
            (["--reason", "Tvist", "--review", "next week"], "--review"),
            (["--reason", "Tvist", "--review", "2025-03-01"], "review"),
            (["--reason", "Tvist", "--category", "shoe_size"],
             "shoe_size"),
        ]
        for extra, named in cases:
            with self.subTest(extra=extra):
                r = self.vaern("subject", "hold", "--controller", "cekura",
                               sid, *extra, as_of="2025-04-02")
                self.assertNotEqual(r.rc, EXIT_OK, r)
                self.assertIn(named, r.err)
                self.assertNotIn("Traceback", r.err)
        self.assert_no_hold(sid)
        # Nothing held: the sweep takes the subject.
        self.assertEqual(self.sweep("2025-07-01")["facts_deleted"], 4)

    def test_bad_retention_arguments_are_refused_and_change_nothing(self):
        sid = self._held_customer()
        cases = [
            (["plan", "--as-of", "2026-02-30"], "--as-of", "day 30"),
            (["sweep", "--as-of", "2026-02-30"], "--as-of", "day 30"),
            (["plan", "--as-of", "yesterday"], "--as-of", "YYYY-MM-DD"),
            (["sweep", "--as-of", "2025-13-01"], "--as-of", "month 13"),
            (["plan", "--format", "xml"], "--format", "table, csv or json"),
            (["plan", "--by", "week"], "--by", "day or month"),
            (["sweep", "--format", "json"], "--format", "plan option"),
            (["sweep", "--by", "day"], "--by", "plan option"),
            (["plan", "--dry-run"], "--dry-run", "sweep option"),
            (["sweep", "--as-of"], "--as-of", "needs a value"),
            (["sweep", "--now"], "usage", ""),
        ]
        for args, named, why in cases:
            with self.subTest(args=args):
                r = self.vaern("retention", *args, as_of="2025-07-01")
                self.assertEqual(r.rc, EXIT_USAGE, r)
                self.assertIn(named, r.err)
                self.assertIn(why, r.err)
        # Due since 2025-06-01, and still there: nothing was swept.
        self.assertEqual(len(self.categories(sid)), 4)
        actions = [e["action"] for e in self.audit_entries()]
        self.assertNotIn("retention_sweep", actions)

    def test_a_bad_birth_date_is_not_echoed_GDPR_32(self):
        """Personal data never in an error: a birth date that is no
        calendar date is refused without its day, month or year."""
        facts = CUSTOMER + [("birth_date", "1987-02-30")]
        doc = {"purpose": "customer_admin",
               "facts": [{"category": c, "value": v} for c, v in facts]}
        r = self.vaern("subject", "add", "--controller", "cekura",
                       "--json", "-", stdin=json.dumps(doc).encode(),
                       as_of="2025-04-02")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("birth_date", r.err)
        self.assertIn("not a real calendar date", r.err)
        for part in ("1987", "30", "02-30", "month 2"):
            self.assertNotIn(part, r.err + r.out)
        # Over HTTP-free paths too: --fact takes the same check.
        r = self.vaern("subject", "add", "--controller", "cekura",
                       "--purpose", "customer_admin",
                       "--fact", "name=Karen Jensen",
                       "--fact", "address=Vestergade 3, 8000 Aarhus C",
                       "--fact", "phone=+45 21 22 23 24",
                       "--fact", "birth_date=1991-13-45", as_of="2025-04-02")
        self.assertNotEqual(r.rc, EXIT_OK, r)
        for part in ("1991", "13", "45"):
            self.assertNotIn(part, r.err + r.out)
        r = self.vaern("audit", "show", "--limit", "100")
        self.assertNotIn("1987", r.out)

    # ---- the progress bar (issue 4) -------------------------------------

    def sweep_on_a_terminal(self, *extra):
        """Runs a sweep with stderr on a pseudo-terminal: (rc, stdout,
        what the terminal showed)."""
        import pty
        master, slave = pty.openpty()
        try:
            p = subprocess.Popen(
                [VAERN, "--data", self.dir, "--as-of", "2025-07-01",
                 "retention", "sweep", *extra],
                stdout=subprocess.PIPE, stderr=slave, env=BASE_ENV)
            os.close(slave)
            slave = None
            shown = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                shown += chunk
            out = p.stdout.read()
            p.wait(timeout=TIMEOUT)
            p.stdout.close()
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
        return p.returncode, out.decode(), shown.decode("utf-8", "replace")

    def test_sweep_draws_a_progress_bar_on_a_terminal(self):
        self._held_customer()
        rc, out, shown = self.sweep_on_a_terminal()
        self.assertEqual(rc, EXIT_OK, shown)
        self.assertEqual(json.loads(out)["facts_deleted"], 4)
        self.assertIn("[##############################] 100%", shown)
        self.assertIn("4 of 4 due facts", shown)
        self.assertTrue(shown.endswith("\r\x1b[K"), repr(shown))

    def test_sweep_quiet_or_piped_draws_no_progress(self):
        self._held_customer()
        rc, out, shown = self.sweep_on_a_terminal("--quiet")
        self.assertEqual(rc, EXIT_OK, shown)
        self.assertEqual(shown, "")
        self._held_customer()
        r = self.vaern("retention", "sweep", as_of="2025-07-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.err, "")

    # ---- the server sweeps on a schedule (issue 4) -----------------------

    def serve(self, *extra, as_of="2025-07-01"):
        """Starts vaern serve on a free loopback port: (process, port)."""
        import signal  # noqa: F401 (the caller stops it with SIGTERM)
        p = subprocess.Popen(
            [VAERN, "--data", self.dir, "--as-of", as_of, "serve",
             "--listen", "127.0.0.1:0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
        self.addCleanup(self._stop, p)
        line = p.stdout.readline()
        self.assertTrue(line, p.stderr.read() if p.poll() is not None
                        else "no listening line")
        return p, json.loads(line)["port"]

    def _stop(self, p):
        if p.poll() is None:
            p.kill()
            p.wait(timeout=TIMEOUT)
        for f in (p.stdout, p.stderr):
            if f is not None:
                f.close()

    def metrics(self, port):
        import urllib.request
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                    timeout=10) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line.startswith("vaern_retention"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def wait_for_sweeps(self, port, n, seconds=30):
        import time
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            m = self.metrics(port)
            if m.get('vaern_retention_sweeps_total{result="ok"}', 0) >= n:
                return m
            time.sleep(0.2)
        self.fail("no scheduled sweep within %d s: %r" % (seconds, m))

    def test_serve_sweeps_on_schedule_GDPR_5_1_e(self):
        """vaern serve --sweep-every: a due subject goes without anyone
        running the CLI; the sweep is audited like the CLI's, its result
        is in /metrics, and SIGTERM stops the server cleanly."""
        import signal
        import time
        sid = self._held_customer()     # due since 2025-06-01
        kept = self.add([("name", "Bo Lund"),
                         ("address", "Torvet 1, 5000 Odense"),
                         ("phone", "+45 31 32 33 34")], "2025-06-20")
        self.event(kept, "relationship_start", "2025-06-20")
        started = time.time()
        p, port = self.serve("--sweep-every", "1s")
        m = self.wait_for_sweeps(port, 1)
        self.assertEqual(m["vaern_retention_sweep_interval_seconds"], 1)
        self.assertEqual(
            m['vaern_retention_sweeps_total{result="failed"}'], 0)
        self.assertEqual(m["vaern_retention_facts_deleted_total"], 4)
        self.assertGreaterEqual(
            m["vaern_retention_sweep_last_success_timestamp_seconds"],
            started - 1)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=TIMEOUT), 0)
        err = p.stderr.read().decode()
        self.assertIn('"retention_sweep":"ok","facts_deleted":4', err)
        self.assertIn('"stopped": true', err)
        self.assertIsNone(self.categories(sid))   # shredded (GDPR-17)
        self.assertEqual(len(self.categories(kept)), 3)  # a customer still
        sweeps = [e for e in self.audit_entries()
                  if e["action"] == "retention_sweep"]
        self.assertEqual(len(sweeps), 1, sweeps)
        self.assertEqual(sweeps[0]["actor"], "retention")
        self.assertIn("deleted 4", sweeps[0]["reason"])
        self.assertIn("general=4", sweeps[0]["reason"])
        self.assertNotIn("Karen", json.dumps(sweeps))
        r = self.vaern("audit", "verify")
        self.assertEqual(r.rc, EXIT_OK, r)

    def test_serve_sweep_off_and_bad_interval(self):
        import signal
        import time
        sid = self._held_customer()
        p, port = self.serve("--sweep-every", "off")
        time.sleep(1.5)
        m = self.metrics(port)
        self.assertEqual(m["vaern_retention_sweep_interval_seconds"], 0)
        self.assertEqual(m['vaern_retention_sweeps_total{result="ok"}'], 0)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=TIMEOUT), 0)
        self.assertEqual(len(self.categories(sid)), 4)
        for bad in ("5x", "-1", "1.5h", "h", "367d", ""):
            with self.subTest(bad=bad):
                r = self.vaern("serve", "--listen", "127.0.0.1:0",
                               "--sweep-every", bad)
                self.assertEqual(r.rc, EXIT_USAGE, r)
                self.assertIn("--sweep-every", r.err)
                self.assertNotIn("listening", r.out)
        self.assertEqual(len(self.categories(sid)), 4)

    # ---- legal holds over HTTP (CEK-HOLD-1) --------------------------------

    def actor(self, name, role):
        r = self.vaern("actor", "add", "--controller", "cekura", "--name",
                       name, "--role", role)
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()["token"]

    def http(self, port, method, path, token, body=None):
        import urllib.error
        import urllib.request
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            "http://127.0.0.1:%d%s" % (port, path), data=data,
            method=method, headers={"Authorization": "Bearer " + token})
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def test_CEK_HOLD_1_holds_over_http(self):
        """PUT/GET/DELETE /v1/subjects/{id}/holds: the DPO (audit: true)
        places, lists and lifts holds, audited under its own name; other
        roles get 403 (audited); bad input is 400 and places nothing;
        the sweep keeps what is held."""
        import signal
        sid = self._held_customer()
        dpo = self.actor("dpo-1", "dpo")
        cs = self.actor("kundeservice-1", "customer_service")
        p, port = self.serve("--sweep-every", "off", as_of="2025-04-02")
        path = "/v1/subjects/%s/holds" % sid
        st, doc = self.http(port, "PUT", path, cs, {"reason": "Tvist"})
        self.assertEqual(st, 403, doc)
        self.assertIn("CEK-HOLD-1", doc["error"]["message"])
        for bad, says in [({}, "reason"),
                          ({"reason": ""}, "reason"),
                          ({"reason": "x" * 513}, "reason"),
                          ({"reason": "Tvist", "category": "shoe_size"},
                           "shoe_size"),
                          ({"reason": "Tvist", "category": 7}, "category"),
                          ({"reason": "Tvist", "review": "2026-02-30"},
                           "review"),
                          ({"reason": "Tvist", "review": "2025-01-01"},
                           "review"),
                          ({"reason": "Tvist", "until": "2026-01-01"},
                           "until")]:
            with self.subTest(body=bad):
                st, doc = self.http(port, "PUT", path, dpo, bad)
                self.assertEqual(st, 400, doc)
                self.assertIn(says, doc["error"]["message"])
        st, doc = self.http(port, "GET", path, dpo)
        self.assertEqual((st, doc["holds"]), (200, []))
        st, doc = self.http(port, "PUT", path, dpo,
                            {"reason": "Tvist, sag 2025-117",
                             "category": "email", "review": "2026-06-01"})
        self.assertEqual(st, 201, doc)
        hold = doc["hold"]
        self.assertEqual(doc["category"], "email")
        self.assertEqual(doc["review_at"], "2026-06-01T00:00:00Z")
        st, doc = self.http(port, "GET", path, cs)
        self.assertEqual(st, 403, doc)
        st, doc = self.http(port, "GET", path, dpo)
        self.assertEqual(st, 200, doc)
        self.assertEqual([(h["hold"], h["category"], h["placed_by"])
                          for h in doc["holds"]],
                         [(hold, "email", "dpo-1")])
        # The sweep (CLI, as of after the due date) keeps the held e-mail.
        rep = self.sweep("2025-07-01")
        self.assertEqual((rep["facts_deleted"], rep["facts_held"]), (3, 1))
        self.assertEqual(self.categories(sid), ["email"])
        st, doc = self.http(port, "DELETE", "%s/%d" % (path, hold), cs)
        self.assertEqual(st, 403, doc)
        st, doc = self.http(port, "DELETE", "%s/%d" % (path, hold), dpo)
        self.assertEqual((st, doc["lifted"]), (200, True))
        st, doc = self.http(port, "DELETE", "%s/%d" % (path, hold), dpo)
        self.assertEqual(st, 404, doc)
        st, doc = self.http(port, "DELETE", path + "/x", dpo)
        self.assertEqual(st, 404, doc)
        # A retention anchor's time is personal data too: a bad one is
        # refused without its parts (GDPR-32).
        st, doc = self.http(port, "POST", "/v1/subjects/%s/events" % sid,
                            cs, {"kind": "relationship_end",
                                 "at": "2025-02-30"})
        self.assertEqual(st, 400, doc)
        self.assertIn("not a real date", doc["error"]["message"])
        for part in ("2025", "30", "month 2"):
            self.assertNotIn(part, doc["error"]["message"])
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=TIMEOUT), 0)
        entries = self.audit_entries()
        mine = [(e["action"], e["actor"], e["role"], e["decision"])
                for e in entries if e["action"].startswith("hold")]
        self.assertIn(("hold_place", "dpo-1", "dpo", "allow"), mine)
        self.assertIn(("hold_lift", "dpo-1", "dpo", "allow"), mine)
        self.assertIn(("hold_place", "kundeservice-1", "customer_service",
                       "deny"), mine)
        self.assertNotIn("sag 2025-117", json.dumps(entries))
        rep = self.sweep("2025-07-02")
        self.assertEqual(rep["facts_deleted"], 1, rep)
        self.assertIsNone(self.categories(sid))


class TelenorTest(RetentionTest):
    """TEL-STAT-1: anonymisation by the sweep; TEL-RET-1: bookkeeping
    outlasts it."""
    policy = "telenor.yaml"
    controller = "telenor"

    def test_TEL_STAT_1_sweep_anonymises_and_keeps_the_invoices(self):
        facts = [("name", "Ole Jensen"),
                 ("address", "Strandvejen 10, 8300 Odder"),
                 ("phone", "+45 41 42 43 44"),
                 ("email", "ole@example.dk"),
                 ("contract_type", "Mobil 100 GB"),
                 ("postcode", "8300"),
                 ("birth_date", "1984-07-09")]
        doc = {"purpose": "contract",
               "facts": [{"category": c, "value": v} for c, v in facts] +
               [{"category": "invoices", "value": "Faktura 1001",
                 "purpose": "bookkeeping"}]}
        r = self.vaern("subject", "add", "--controller", "telenor",
                       "--json", "-", stdin=json.dumps(doc).encode(),
                       as_of="2025-01-10")
        self.assertEqual(r.rc, EXIT_OK, r)
        sid = r.json()["subject"]
        self.event(sid, "relationship_start", "2025-01-10")
        self.event(sid, "relationship_end", "2025-05-31")
        dry = self.sweep("2025-06-01", "--dry-run")
        self.assertEqual(dry["facts_anonymised"], 7, dry)
        rep = self.sweep("2025-06-01")
        self.assertEqual((rep["facts_anonymised"], rep["facts_deleted"],
                          rep["anonymised_records"],
                          rep["subjects_shredded"]), (7, 0, 1, 0), rep)
        self.assertEqual(rep["by_rule"], {"telenor/customer_data": 7})
        self.assertEqual(self.categories(sid), ["invoices"])
        # The identifiers went with their facts: no longer found by them.
        for kind, value in (("email", "ole@example.dk"),
                            ("phone", "+45 41 42 43 44")):
            r = self.vaern("subject", "find", "--controller", "telenor",
                           kind, value)
            self.assertNotEqual(r.rc, EXIT_OK, r)
        # What survives: generalised, without the person (TEL-STAT-1).
        db = dbpeek.connect(os.path.join(self.dir, "vaern.db"))
        try:
            rows = [json.loads(d) for (d,) in
                    db.execute("SELECT data FROM anon")]
        finally:
            db.close()
        self.assertEqual(rows, [{"contract_type": "Mobil 100 GB",
                                 "postcode": "83xx",
                                 "birth_date": "1984"}])
        sweeps = [e for e in self.audit_entries()
                  if e["action"] == "retention_sweep"]
        self.assertEqual(len(sweeps), 1)
        self.assertIn("anonymised 7", sweeps[0]["reason"])
        self.assertNotIn("Ole", json.dumps(sweeps))
        # Bookkeeping: 5 years from the end of the financial year 2025.
        self.assertEqual(self.sweep("2030-12-31")["facts_deleted"], 0)
        rep = self.sweep("2031-01-01")
        self.assertEqual((rep["facts_deleted"], rep["subjects_shredded"]),
                         (1, 1), rep)
        self.assertIsNone(self.categories(sid))

if __name__ == "__main__":
    unittest.main(verbosity=2)
