#!/usr/bin/env python3
"""Several `vaern serve` nodes on one PostgreSQL (issue 14, point 3).

Runs in the suite "pg" only (tests/meson.build): node A is initialised
(vaern-on-pg makes its database), node B is a second data directory with
A's master key and store.conf and nothing else, as docs/operations.md
says a second node is made. Each test drives both nodes through the real
binary over HTTP on loopback, and the CLI of either.
"""
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import dbpeek
import test_api as api
import test_console as console
import test_portal as portal

VAERN = api.VAERN
TELENOR = api.TELENOR
STORE_LOCK_SWEEP = 0x7661657210  # src/store/store.h
DB_LOCK_STORE = 0x7661657201  # src/store/db.h: the vault's write lock


def cli(data, *args):
    return api.run_vaern(["--data", data] + list(args))


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
@unittest.skipUnless(dbpeek.ON_POSTGRESQL,
                     "several nodes share one PostgreSQL (suite pg)")
class TwoNodes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="vaern-nodes-")
        cls.tmp = cls._tmp.name
        cls.a = os.path.join(cls.tmp, "a")
        cls.b = os.path.join(cls.tmp, "b")
        r = cli(cls.a, "init", "--policy", TELENOR)
        assert r.rc == 0, r
        os.mkdir(cls.b, 0o700)
        for f in ("master.key", "store.conf"):
            shutil.copy2(os.path.join(cls.a, f), os.path.join(cls.b, f))
        r = cli(cls.a, "actor", "add", "--controller", "telenor",
                "--name", "cs", "--role", "customer_service")
        assert r.rc == 0, r
        cls.tok = r.json()["token"]
        cls.na = api.Server(cls.a, os.path.join(cls.tmp, "a.log")).start()
        cls.nb = api.Server(cls.b, os.path.join(cls.tmp, "b.log")).start()

    @classmethod
    def tearDownClass(cls):
        for n in (cls.na, cls.nb):
            n.stop()
        cls._tmp.cleanup()

    def create(self, node, doc=None):
        r = node.request("POST", "/v1/subjects",
                         doc or api.telenor_customer(), self.tok)
        self.assertEqual(r.status, 201, r)
        return r.json()["subject"]

    def lookup(self, node, email):
        return node.request("POST", "/v1/subjects/lookup",
                            {"type": "email", "value": email,
                             "purpose": "contract"}, self.tok)

    def assert_one_subject(self, email):
        """Both nodes find email, as the same one subject."""
        sids = set()
        for node in (self.na, self.nb):
            r = self.lookup(node, email)
            self.assertEqual(r.status, 200, r)
            sids.add(r.json()["subject"])
        self.assertEqual(len(sids), 1, sids)

    def test_a_second_node_is_not_a_second_vault(self):
        """`init` over a database that holds a vault is refused, and says
        how a node joins instead; the vault is untouched."""
        c = os.path.join(self.tmp, "c")
        os.mkdir(c, 0o700)
        with open(os.path.join(self.a, "store.conf")) as f:
            conninfo = f.read().strip()
        # The real binary, not vaern-on-pg (which makes a fresh database).
        p = subprocess.run([os.environ["PG_WRAP_REAL_BIN"], "--data", c,
                            "init", "--store", conninfo],
                           capture_output=True, text=True, timeout=60)
        rc, err = p.returncode, p.stderr
        self.assertEqual(rc, 1, err)
        self.assertIn("already holds a vault", err)
        self.assertNotIn("password", err)
        self.assertFalse(os.path.exists(os.path.join(c, "store.conf")))
        self.assertEqual(cli(self.a, "audit", "verify").rc, 0)

    def test_create_on_one_found_on_the_other(self):
        doc = api.telenor_customer()
        email = doc["facts"][2]["value"]
        sid = self.create(self.na, doc)
        r = self.lookup(self.nb, email)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["subject"], sid)
        r = self.nb.request("GET", "/v1/subjects/%s/facts?purpose=contract"
                            % sid, token=self.tok)
        self.assertEqual(r.status, 200, r)
        self.assertIn("Ole Jensen", r.text)

    def test_GDPR_17_erasure_on_one_is_final_on_all(self):
        doc = api.telenor_customer()
        email = doc["facts"][2]["value"]
        sid = self.create(self.nb, doc)
        self.assertEqual(self.lookup(self.na, email).status, 200)
        r = cli(self.a, "subject", "erase", sid)
        self.assertEqual(r.rc, 0, r)
        for node in (self.na, self.nb):
            r = node.request("GET", "/v1/subjects/%s/facts?purpose=contract"
                             % sid, token=self.tok)
            self.assertEqual(r.status, 404, r)
            self.assertNotIn("Ole", r.text)
            self.assertEqual(self.lookup(node, email).status, 404)

    def test_one_identifier_is_unique_across_nodes_under_a_race(self):
        """The same e-mail created on both nodes at once, ten times: each
        time exactly one create wins and the other is refused."""
        for _ in range(10):
            doc = api.telenor_customer()
            out = []

            def go(node):
                out.append(node.request("POST", "/v1/subjects", doc,
                                        self.tok).status)

            ts = [threading.Thread(target=go, args=(n,))
                  for n in (self.na, self.nb)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            self.assertEqual(sorted(out)[0], 201, out)
            self.assertEqual(out.count(201), 1, out)
            self.assertTrue(all(s in (201, 409) for s in out), out)

    def test_one_identifier_raced_leaves_exactly_one_subject(self):
        """Issue 14: creates of two nodes run at once (the store's lock in
        shared mode, the statements pipelined): the same e-mail raced on
        both nodes, each time beside other creates of both, leaves one
        subject with it, found by either node, and every other create
        of the round is written."""
        con = dbpeek.connect(os.path.join(self.a, "vaern.db"))
        try:
            for _ in range(5):
                doc = api.telenor_customer()
                email = doc["facts"][2]["value"]
                before = con.execute(
                    "SELECT count(*) FROM subject").fetchone()[0]
                con.commit()
                out = []

                def go(node, d):
                    out.append(node.request("POST", "/v1/subjects", d,
                                            self.tok).status)

                ts = [threading.Thread(target=go, args=(n, doc))
                      for n in (self.na, self.nb)]
                ts += [threading.Thread(target=go,
                                        args=(n, api.telenor_customer()))
                       for n in (self.na, self.nb, self.na, self.nb)]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                self.assertEqual(out.count(201), 5, out)
                self.assertEqual(out.count(409), 1, out)
                after = con.execute(
                    "SELECT count(*) FROM subject").fetchone()[0]
                con.commit()
                self.assertEqual(after, before + 5)
                self.assert_one_subject(email)
        finally:
            con.close()
        self.assertEqual(cli(self.a, "audit", "verify").rc, 0)

    def test_same_people_in_opposite_orders_on_two_nodes(self):
        """Issue 14: the same people sent to both nodes at once, to one
        in order and to the other in reverse, so that two create batches
        take the same new identifiers in opposite orders (PostgreSQL
        fails one of a deadlocked pair, which the create writer writes
        again in its next batch): every create is answered 201 or 409
        (never a store error), each person is created exactly once and
        found by both nodes, and the trail verifies."""
        con = dbpeek.connect(os.path.join(self.a, "vaern.db"))
        try:
            for _ in range(12):
                docs = [api.telenor_customer() for _ in range(8)]
                before = con.execute(
                    "SELECT count(*) FROM subject").fetchone()[0]
                con.commit()
                out = {}

                def go(node, i):
                    r = node.request("POST", "/v1/subjects", docs[i],
                                     self.tok)
                    out[(node.port, i)] = r.status

                ts = []
                for k in range(len(docs)):
                    ts.append(threading.Thread(target=go,
                                               args=(self.na, k)))
                    ts.append(threading.Thread(
                        target=go, args=(self.nb, len(docs) - 1 - k)))
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                for i in range(len(docs)):
                    got = sorted(out[(n.port, i)]
                                 for n in (self.na, self.nb))
                    self.assertEqual(got, [201, 409], out)
                after = con.execute(
                    "SELECT count(*) FROM subject").fetchone()[0]
                con.commit()
                self.assertEqual(after, before + len(docs))
                for d in docs:
                    self.assert_one_subject(d["facts"][2]["value"])
        finally:
            con.close()
        for d in (self.a, self.b):
            r = cli(d, "audit", "verify")
            self.assertEqual(r.rc, 0, r)

    def hold_store_lock(self, shared):
        """A connection that holds the store's write lock as another
        node's open create transaction (shared) or an erasure, a sweep,
        a policy load (exclusive) holds it."""
        con = dbpeek.connect(os.path.join(self.a, "vaern.db"))
        con.execute("SELECT pg_advisory_lock%s(?1)"
                    % ("_shared" if shared else ""), (DB_LOCK_STORE,))
        return con

    def release_store_lock(self, con, shared):
        con.execute("SELECT pg_advisory_unlock%s(?1)"
                    % ("_shared" if shared else ""), (DB_LOCK_STORE,))
        con.close()

    def test_a_create_does_not_wait_for_another_nodes_create(self):
        """Issue 14 (two nodes lose nothing against one): while the
        store's lock is held as another node's open create transaction
        holds it (shared), a create on either node is answered at once
        (with the lock exclusive it would wait for it, then fail)."""
        con = self.hold_store_lock(shared=True)
        try:
            t0 = time.monotonic()
            self.create(self.nb)
            # The lock held exclusively, it would wait 5 s (the
            # store's lock timeout) and fail.
            self.assertLess(time.monotonic() - t0, 4)
            self.create(self.na)
        finally:
            self.release_store_lock(con, shared=True)

    def test_a_create_waits_for_an_exclusive_writer(self):
        """The other side: while a writer that must be alone (an erasure,
        the sweep's batch, a policy load, a rotation) holds the store's
        lock, no create is written; it is once the lock is free."""
        con = self.hold_store_lock(shared=False)
        out = []
        t = threading.Thread(target=lambda: out.append(
            self.nb.request("POST", "/v1/subjects", api.telenor_customer(),
                            self.tok).status))
        try:
            t.start()
            t.join(1.5)
            self.assertTrue(t.is_alive(), out)
            self.assertEqual(out, [])
        finally:
            self.release_store_lock(con, shared=False)
        t.join(30)
        self.assertEqual(out, [201])

    def test_GDPR_32_one_chain_however_many_nodes_write(self):
        """Both nodes write the trail at once; it stays one chain that
        `audit verify` accepts on either node, with every entry."""
        before = cli(self.a, "audit", "verify").json()["entries"]
        ts = [threading.Thread(target=lambda n=n: [self.create(n)
                                                   for _ in range(15)])
              for n in (self.na, self.nb)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for d in (self.a, self.b):
            r = cli(d, "audit", "verify")
            self.assertEqual(r.rc, 0, r)
            self.assertGreaterEqual(r.json()["entries"], before + 30)

    def test_sweep_runs_on_one_node_at_a_time(self):
        """While another node holds the sweep's lock, a sweep does nothing
        and says so; once it is free, the sweep runs."""
        con = dbpeek.connect(os.path.join(self.a, "vaern.db"))
        try:
            con.execute("SELECT pg_advisory_lock(?1)", (STORE_LOCK_SWEEP,))
            r = cli(self.b, "retention", "sweep")
            self.assertEqual(r.rc, 1, r)
            self.assertIn("another node", r.err)
        finally:
            con.execute("SELECT pg_advisory_unlock(?1)",
                        (STORE_LOCK_SWEEP,))
            con.close()
        r = cli(self.b, "retention", "sweep")
        self.assertEqual(r.rc, 0, r)

    def test_policy_loaded_through_one_node_takes_effect_on_all(self):
        """A policy version loaded on node A is what node B serves within
        one second."""
        with open(TELENOR) as f:
            text = f.read()
        newer = os.path.join(self.tmp, "telenor-newer.yaml")
        with open(newer, "w") as f:
            f.write(text.replace("name: Telenor", "name: Telenor Nodes", 1))
        self.assertNotEqual(text, open(newer).read())
        r = cli(self.a, "policy", "load", newer)
        self.assertEqual(r.rc, 0, r)
        t0 = time.monotonic()
        while True:
            r = self.nb.request("GET", "/v1/policy", token=self.tok)
            if "Telenor Nodes" in r.text:
                break
            self.assertLess(time.monotonic() - t0, 1.0,
                            "node B still serves the old version")
            time.sleep(0.05)
        r = cli(self.a, "policy", "load", TELENOR)
        self.assertEqual(r.rc, 0, r)



def second_node(a, b):
    """Node B of node A's vault: A's master key and store.conf, nothing
    else (docs/operations.md)."""
    os.mkdir(b, 0o700)
    for f in ("master.key", "store.conf"):
        shutil.copy2(os.path.join(a, f), os.path.join(b, f))


class PortalNodes(portal.PortalCase):
    """AURA's portal served by two nodes of one vault: node A is the
    class's server, node B a second data directory on the same database.
    as_of: both nodes' fixed clock (None: the real one)."""

    as_of = None
    serve = False

    @classmethod
    def prepare(cls):
        cls.b = os.path.join(cls.tmp, "b")
        second_node(cls.dir, cls.b)
        cls.server = cls.node(cls.dir, "a")
        cls.nb = cls.node(cls.b, "b")

    @classmethod
    def node(cls, data, name):
        log = os.path.join(cls.tmp, name + ".log")
        srv = (portal.TimedServer(data, log, cls.as_of) if cls.as_of
               else api.Server(data, log))
        return srv.start()

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "nb", None) is not None:
            cls.nb.stop()
            cls.nb.kill()
        super().tearDownClass()

    def browser(self, node):
        b = portal.Browser(node)
        return b


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
@unittest.skipUnless(dbpeek.ON_POSTGRESQL,
                     "several nodes share one PostgreSQL (suite pg)")
class PortalCodeTriesShared(PortalNodes):
    """AURA-LOGIN-1 across nodes: the wrong codes entered on node A and
    on node B count together against one code."""

    def test_AURA_LOGIN_1_wrong_codes_on_two_nodes_count_together(self):
        """A code sent by node A; wrong entries alternate A, B, A ...;
        the right code is entered on node B. Four wrong in all: it logs
        in; five wrong in all (three on A, two on B, each node under
        five alone): the code is dead on both."""
        _, user, _, _, _ = self.aura_person()
        for wrong, works in ((4, True), (5, False)):
            b = self.browser(self.server)
            self.start_login(b, "aura-fiber", 1, [user])
            code = portal.spooled_codes(self.dir)[-1][0]
            bad = "%08d" % ((int(code) + 1) % 100000000)
            for i in range(wrong):
                b.server = (self.server, self.nb)[i % 2]
                page = b.get("/portal/aura-fiber/code")
                r = b.post("/portal/aura-fiber/code", {"code": bad},
                           page.csrf())
                self.assertEqual(r.status, 401, (i, r))
            b.server = self.nb
            page = b.get("/portal/aura-fiber/code")
            r = b.post("/portal/aura-fiber/code", {"code": code},
                       page.csrf())
            self.assertEqual(r.status, 303 if works else 401, (wrong, r))
            self.assertEqual(portal.SESSION in b.jar, works)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
@unittest.skipUnless(dbpeek.ON_POSTGRESQL,
                     "several nodes share one PostgreSQL (suite pg)")
class PortalThrottleShared(PortalNodes):
    """AURA-LOGIN-1 across nodes: code requests for one username on
    node A and node B count together (both clocks at one instant)."""

    as_of = "2026-12-03T10:00:00Z"

    def test_AURA_LOGIN_1_throttle_counts_requests_on_both_nodes(self):
        """Ten code requests for one username, alternating A and B, all
        go out (five on each node); the eleventh waits (429,
        Retry-After) on either node, for a name no one holds too."""
        _, user, _, _, _ = self.aura_person()
        for name, last in ((user, self.nb),
                           ("nobody%d" % api.serial(), self.server)):
            for i in range(10):
                node = (self.server, self.nb)[i % 2]
                self.start_login(self.browser(node), "aura-fiber", 1,
                                 [name])
            r = self.start_login(self.browser(last), "aura-fiber", 1,
                                 [name], status=429)
            self.assertEqual(r.header("Retry-After"), "1")


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
@unittest.skipUnless(dbpeek.ON_POSTGRESQL,
                     "several nodes share one PostgreSQL (suite pg)")
class ConsoleThrottleShared(console.ConsoleBase):
    """GDPR-32 across nodes: wrong console logins through node A's data
    directory count on node B's (the throttle and the lockout are rows
    of the shared store)."""

    T = console.instant("2026-03-02T10:00:00Z")

    def setUp(self):
        super().setUp()
        self.a = self.dir
        self.b = os.path.join(self._tmp.name, "b")
        second_node(self.a, self.b)

    def on(self, node, *args, **kw):
        saved, self.dir = self.dir, node
        try:
            return self.vaern(*args, **kw)
        finally:
            self.dir = saved

    def login_on(self, node, at, code, password=console.PASSWORD):
        return self.on(node, "actor", "login", "--controller", "cekura",
                       "dpo1", stdin="%s\n%s\n" % (password, code),
                       as_of=console.iso(at))

    def test_GDPR_32_wrong_tries_on_node_a_throttle_node_b(self):
        """Three wrong tries on node A; on node B the right password and
        code 29 s after the third are not tried (throttled), 30 s after
        it they log in."""
        _, secret = self.enrol()
        for i in range(3):
            r = self.login_on(self.a, self.T + i, "000000",
                              password="not the password at all")
            self.assertEqual((r.rc, r.err), (console.EXIT_REFUSED,
                                             console.DENIED))
        at = self.T + 2 + 29
        r = self.login_on(self.b, at, console.totp(secret, at))
        self.assertEqual(r.rc, console.EXIT_REFUSED, r)
        self.assertEqual(r.err, "vaern: actor: too many wrong tries: try "
                                "again in 1 seconds\n")
        at = self.T + 2 + 30
        r = self.login_on(self.b, at, console.totp(secret, at))
        self.assertEqual(r.rc, console.EXIT_OK, r)

    def test_GDPR_32_lockout_on_node_a_holds_on_node_b(self):
        """Ten wrong tries on node A lock the actor out for an hour: node
        B refuses the right password and code a second before the hour
        and takes them at the hour."""
        _, secret = self.enrol()
        at = self.T
        for i in range(10):
            r = self.login_on(self.a, at, "000000",
                              password="not the password at all")
            self.assertEqual((r.rc, r.err), (console.EXIT_REFUSED,
                                             console.DENIED), i)
            at += 30 * 2 ** max(0, i - 2) if i >= 2 else 1
        unlock = at - 30 * 2 ** 7 + 3600
        r = self.login_on(self.b, unlock - 1,
                          console.totp(secret, unlock - 1))
        self.assertEqual(r.rc, console.EXIT_REFUSED, r)
        self.assertIn("console access is locked after 10 wrong tries",
                      r.err)
        r = self.login_on(self.b, unlock, console.totp(secret, unlock))
        self.assertEqual(r.rc, console.EXIT_OK, r)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
@unittest.skipUnless(dbpeek.ON_POSTGRESQL,
                     "several nodes share one PostgreSQL (suite pg)")
class RotationOnTwoNodes(unittest.TestCase):
    """GDPR-32 (issue 14): `vaern key rotate` on PostgreSQL while two
    nodes read and write; killed half-way on node A, it is finished from
    node B (the progress is in the store), audited, and the old key
    retired."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-rot2-")
        self.addCleanup(self._tmp.cleanup)
        self.tmp = self._tmp.name
        self.a = os.path.join(self.tmp, "a")
        self.b = os.path.join(self.tmp, "b")
        r = cli(self.a, "init", "--policy", TELENOR)
        self.assertEqual(r.rc, 0, r)
        os.mkdir(self.b, 0o700)
        for f in ("master.key", "store.conf"):
            shutil.copy2(os.path.join(self.a, f), os.path.join(self.b, f))
        r = cli(self.a, "actor", "add", "--controller", "telenor",
                "--name", "cs", "--role", "customer_service")
        self.assertEqual(r.rc, 0, r)
        self.tok = r.json()["token"]
        shutil.copy2(os.path.join(self.a, "master.key"), self.path_old())
        # the new key, placed beforehand as master.key.next on every node
        # (docs/operations.md): a rotation takes it up, and a node whose
        # worker held only the old key when the rotation ended finds it
        for d in (self.a, self.b):
            fd = os.open(os.path.join(d, "master.key.next"),
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write("7d" * 32 + "\n")
        self.new = os.path.join(self.a, "master.key.next")

    def keystore(self, query):
        con = dbpeek.connect(os.path.join(self.a, "keystore.db"))
        try:
            return con.execute(query).fetchall()
        finally:
            con.close()

    def rotate(self, data, *extra):
        return subprocess.Popen(
            [VAERN, "--data", data, "key", "rotate", "--quiet", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=api.BASE_ENV)

    def test_GDPR_32_rotation_while_two_nodes_serve_resumed_on_the_other(
            self):
        na = api.Server(self.a, os.path.join(self.tmp, "a.log")).start()
        nb = api.Server(self.b, os.path.join(self.tmp, "b.log")).start()
        made, failures, stop = [], [], threading.Event()
        ts = []
        try:
            for i in range(600):
                node = (na, nb)[i % 2]
                r = node.request("POST", "/v1/subjects",
                                 api.telenor_customer(), self.tok)
                self.assertEqual(r.status, 201, r)
                made.append(r.json()["subject"])

            def load(writer, reader):
                while not stop.is_set():
                    r = writer.request("POST", "/v1/subjects",
                                       api.telenor_customer(), self.tok)
                    if r.status != 201:
                        failures.append((r.status, r.text[:200]))
                        continue
                    sid = r.json()["subject"]
                    made.append(sid)
                    r = reader.request("GET", "/v1/subjects/%s/facts?"
                                       "purpose=contract" % sid,
                                       token=self.tok)
                    if r.status != 200 or "Ole Jensen" not in r.text:
                        failures.append((r.status, r.text[:200]))

            ts = [threading.Thread(target=load, args=(na, nb)),
                  threading.Thread(target=load, args=(nb, na))]
            for t in ts:
                t.start()
            # node A begins, one key per batch, and dies half-way
            con = dbpeek.connect(os.path.join(self.a, "keystore.db"))
            p = self.rotate(self.a, "--batch", "1")
            t0 = time.monotonic()
            while not con.execute("SELECT gen FROM kek"
                                  " WHERE state = 'next'").fetchall():
                con.commit()
                self.assertIsNone(p.poll(), "the rotation ended first")
                self.assertLess(time.monotonic() - t0, 30)
                time.sleep(0.005)
            con.close()
            time.sleep(0.1)
            self.assertIsNone(p.poll(), "the rotation ended before the"
                              " kill: more keys, please")
            p.kill()
            p.communicate(timeout=30)
            left = self.keystore("SELECT count(*) FROM subject_key"
                                 " WHERE kek = 1")[0][0]
            # node B finishes it, the nodes still serving
            p = self.rotate(self.b)
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err)
            doc = json.loads(out)
            self.assertTrue(doc["resumed"], doc)
            self.assertEqual((doc["retired_generation"],
                              doc["generation"]), (1, 2))
            self.assertGreaterEqual(doc["rewrapped"], left)
            time.sleep(0.3)
            stop.set()
            for t in ts:
                t.join()
            self.assertEqual(failures, [])
            # every key under the new generation, the old one retired
            self.assertEqual(self.keystore("SELECT DISTINCT kek FROM"
                                           " subject_key"), [(2,)])
            self.assertEqual(self.keystore("SELECT gen, state FROM kek"
                                           " ORDER BY gen"),
                             [(1, "retired"), (2, "current")])
            # both nodes go on with the key they took over
            for node in (na, nb):
                for sid in made[:2] + made[-2:]:
                    r = node.request("GET", "/v1/subjects/%s/facts?"
                                     "purpose=contract" % sid,
                                     token=self.tok)
                    self.assertEqual(r.status, 200, r)
                r = node.request("POST", "/v1/subjects",
                                 api.telenor_customer(), self.tok)
                self.assertEqual(r.status, 201, r)
        finally:
            stop.set()
            for t in ts:
                t.join()
            na.stop()
            nb.stop()
        # B's master.key is the new key; A's is the retired one until its
        # own `vaern key rotate` renames master.key.next onto it
        with open(os.path.join(self.b, "master.key")) as f:
            self.assertEqual(f.read().strip(), "7d" * 32)
        r = cli(self.a, "key", "rotate", "--quiet")
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(r.json()["key_file_replaced"], r)
        self.assertFalse(os.path.exists(self.new))
        r = api.Result(subprocess.run(
            [VAERN, "--data", self.a, "--master-key-file",
             self.path_old(), "subject", "show", made[0]],
            capture_output=True, env=api.BASE_ENV, timeout=60))
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn("retired", r.err)
        r = cli(self.b, "audit", "verify")
        self.assertEqual(r.rc, 0, r)
        actions = [e["action"] for e in
                   cli(self.a, "audit", "show", "--limit", "100000").json()]
        self.assertGreaterEqual(actions.count("key-rotate-end"), 1, actions)
        self.assertGreaterEqual(actions.count("key-rotate-begin"), 2)
        for d in (self.a, self.b):
            for sid in (made[0], made[-1]):
                r = cli(d, "subject", "show", sid)
                self.assertEqual(r.rc, 0, r)
                self.assertIn("Ole Jensen", r.out)

    def path_old(self):
        """The old master key, kept aside (mode 0600)."""
        return os.path.join(self.tmp, "old.key")


if __name__ == "__main__":
    unittest.main(verbosity=2)
