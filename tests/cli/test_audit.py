#!/usr/bin/env python3
"""Black-box tests of the audit trail's defences (issue 12, points 4 and 5)
through the real binary: `vaern serve`, `vaern retention sweep`,
`vaern audit verify|checkpoint`, on the shipped seed policies.

GDPR-32 (logging of access; the tamper-evident trail), proved by case:
  - a keyed chain: a byte edit, a deleted row, a reorder, rows numbered 0
    or below, and an entry appended with a recomputed hash are each named
    by `vaern audit verify` (exit 1, the entry, the problem);
  - the data store keeps the trail's head: a cut tail and an emptied
    table are caught without an anchor; a forged head fails its MAC;
  - signed checkpoints (`vaern audit checkpoint`): a trail rolled back
    under a checkpoint, and a checkpoint forged or changed, are caught;
  - a trail made before the key (version 1, unkeyed) keeps verifying;
  - no change without its entry, even after kill -9 (the crash points of
    the test binary vaern-crashtest, env VAERN_CRASH_AT): a sweep and an
    HTTP create killed at each step leave a trail that verifies and holds
    an entry for every change, and none twice.
GDPR-5(1)(e) / CEK-RET-1: the sweep whose entry must survive the crash.
"""
import hashlib
import json
import os
import shutil
import sqlite3

import dbpeek
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api import (BASE_ENV, CEKURA, TELENOR, VAERN, Server,  # noqa: E402
                      run_vaern, telenor_customer)

CRASHTEST = os.environ.get("VAERN_CRASHTEST")
TIMEOUT = 60


def customer(i):
    """A cekura customer (customer_admin), distinct by i."""
    return {"purpose": "customer_admin", "facts": [
        {"category": c, "value": v} for c, v in (
            ("name", "Karen Jensen"),
            ("address", "Vestergade 3, 8000 Aarhus C"),
            ("phone", "+45 21 22 %02d %02d" % (i // 100, i % 100)),
            ("email", "karen%d@example.dk" % i))]}


def vaern(data, *args, as_of=None, stdin=None, binary=None, env=None):
    pre = ["--data", data] + (["--as-of", as_of] if as_of else [])
    e = dict(BASE_ENV)
    e.update(env or {})
    p = subprocess.run([binary or VAERN, *pre, *args], input=stdin,
                       capture_output=True, env=e, timeout=TIMEOUT)
    return p


def sql(db, query, args=()):
    con = dbpeek.connect(db, timeout=10)
    try:
        with con:
            rows = con.execute(query, args).fetchall()
    finally:
        con.close()
    return rows


def v1_hash(prev, seq, at, row):
    """The unkeyed hash of a version 1 entry (audit.h's encoding)."""
    def field(v):
        if v is None:
            return struct.pack("<I", 0xFFFFFFFF)
        if isinstance(v, str):
            v = v.encode()
        return struct.pack("<I", len(v)) + v
    (controller, actor, role, purpose, action, subject, categories,
     decision, rule, reason) = row
    data = (prev + b"\x01" + struct.pack("<qq", seq, at) + field(controller)
            + field(actor) + field(role) + field(purpose) + field(action)
            + field(subject) + field(categories) + struct.pack("<q", decision)
            + field(rule) + field(reason))
    return hashlib.blake2b(data, digest_size=32).digest()


def verify(data, *extra):
    p = vaern(data, "audit", "verify", *extra)
    return p.returncode, json.loads(p.stdout or b"{}"), p.stderr.decode()


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class TrailTamperTest(unittest.TestCase):
    """GDPR-32: every way of cutting, emptying or forging the trail is
    named by `vaern audit verify`, with no anchor given."""

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="vaern-audit-")
        cls.tmp = cls._tmp.name
        cls.dir = os.path.join(cls.tmp, "data")
        p = vaern(cls.dir, "init", "--policy", TELENOR)
        assert p.returncode == 0, p
        p = vaern(cls.dir, "actor", "add", "--controller", "telenor",
                  "--name", "cs", "--role", "customer_service")
        assert p.returncode == 0, p
        tok = json.loads(p.stdout)["token"]
        srv = Server(cls.dir, os.path.join(cls.tmp, "serve.log")).start()
        try:
            for _ in range(3):
                r = srv.request("POST", "/v1/subjects", telenor_customer(),
                                tok)
                assert r.status == 201, r
                sid = r.json()["subject"]
                srv.request("GET", "/v1/subjects/%s/facts?purpose=contract"
                            % sid, token=tok)
        finally:
            assert srv.stop() == 0

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def copy(self, name):
        d = os.path.join(self.tmp, name)
        dbpeek.copy_data_dir(self.dir, d)
        self.addCleanup(shutil.rmtree, d, True)
        return d, os.path.join(d, "audit.db"), os.path.join(d, "vaern.db")

    def assertBroken(self, d, first_bad, problem, words):
        rc, doc, err = verify(d)
        self.assertEqual(rc, 1, (doc, err))
        self.assertFalse(doc["ok"])
        self.assertEqual(doc["problem"], problem, doc)
        if first_bad is not None:
            self.assertEqual(doc["first_bad"], first_bad, doc)
        self.assertIn(words, doc["message"])
        self.assertIn(words, err)
        for secret in ("Ole", "Jensen", "example.dk"):
            self.assertNotIn(secret, err + json.dumps(doc))
        return doc

    def test_intact_trail_verifies_with_its_head_GDPR_32(self):
        rc, doc, err = verify(self.dir)
        self.assertEqual(rc, 0, err)
        self.assertTrue(doc["ok"])
        self.assertEqual(doc["entries"], 6)
        head = sql(os.path.join(self.dir, "vaern.db"),
                   "SELECT seq, hex(mac), keyed_from FROM audit_head")
        self.assertEqual(head[0][0], 6)
        self.assertEqual(head[0][1].lower(), doc["head"])
        self.assertEqual(head[0][2], 1)

    def test_byte_edit_named_GDPR_32(self):
        d, db, _ = self.copy("edit")
        sql(db, "UPDATE audit SET reason = 'subject creatEd' WHERE seq = 3")
        self.assertBroken(d, 3, "changed", "entry 3: content changed "
                          "(MAC does not match)")

    def test_row_delete_named_GDPR_32(self):
        d, db, _ = self.copy("delete")
        sql(db, "DELETE FROM audit WHERE seq = 4")
        self.assertBroken(d, 4, "missing", "entry 4 is missing")

    def test_reorder_named_GDPR_32(self):
        d, db, _ = self.copy("reorder")
        sql(db, "UPDATE audit SET seq = -seq WHERE seq IN (2, 5)")
        sql(db, "UPDATE audit SET seq = 5 WHERE seq = -2")
        sql(db, "UPDATE audit SET seq = 2 WHERE seq = -5")
        self.assertBroken(d, 2, "reordered", "entry 2: previous hash does "
                          "not match entry 1")

    def test_cut_tail_named_without_anchor_GDPR_32(self):
        # The boundary: nothing cut verifies; one entry cut does not.
        rc, doc, err = verify(self.copy("nocut")[0])
        self.assertEqual(rc, 0, err)
        d, db, _ = self.copy("cut")
        sql(db, "DELETE FROM audit WHERE seq = 6")
        self.assertBroken(d, 6, "head", "entry 6 is missing (the trail "
                          "ends at 5: entries were cut off the end")

    def test_emptied_table_named_GDPR_32(self):
        d, db, _ = self.copy("empty")
        sql(db, "DELETE FROM audit")
        doc = self.assertBroken(d, 6, "head", "the trail ends at 0")
        self.assertIn("the data store's head", doc["message"])

    def forge(self, db, version, key=None):
        """Appends an entry after the last, its hash recomputed: unkeyed
        (version 1), or keyed with a key that is not the trail's."""
        last = sql(db, "SELECT seq, at, hash FROM audit ORDER BY seq DESC "
                   "LIMIT 1")[0]
        row = ("telenor", "cs", "customer_service", "contract", "read",
               None, "name", 1, "GDPR-6", "nothing happened")
        seq, at = last[0] + 1, last[1]
        if version == 1:
            h = v1_hash(last[2], seq, at, row)
        else:
            data = v1_hash(last[2], seq, at, row)  # any 32 bytes will do
            h = hashlib.blake2b(data, digest_size=32, key=key).digest()
        sql(db, "INSERT INTO audit(seq, at, controller, actor, role, "
            "purpose, action, subject, categories, decision, rule, reason, "
            "prev_hash, hash, version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (seq, at, *row, last[2], h, version))
        return seq, h

    def test_forged_append_with_recomputed_hash_named_GDPR_32(self):
        d, db, vdb = self.copy("forged")
        seq, h = self.forge(db, 1)
        self.assertBroken(d, seq, "changed", "entry %d: content changed "
                          "(an unkeyed entry where the chain is keyed)" % seq)
        # Moving the data store's head onto the forgery: its MAC fails.
        sql(vdb, "UPDATE audit_head SET seq = ?, mac = ?", (seq, h))
        self.assertBroken(d, None, "head", "the data store's audit head "
                          "fails its MAC (changed)")

    def test_forged_keyed_append_named_GDPR_32(self):
        d, db, _ = self.copy("forged2")
        seq, _ = self.forge(db, 2, key=b"\x00" * 32)
        self.assertBroken(d, seq, "changed", "entry %d: content changed "
                          "(MAC does not match)" % seq)

    def test_rows_numbered_zero_or_below_named_GDPR_32(self):
        for n in (0, -1):
            d, db, _ = self.copy("zero%d" % -n)
            sql(db, "INSERT INTO audit(seq, at, controller, actor, role, "
                "purpose, action, subject, categories, decision, rule, "
                "reason, prev_hash, hash) SELECT ?, at, controller, actor, "
                "role, purpose, action, subject, categories, decision, "
                "rule, reason, prev_hash, hash FROM audit WHERE seq = 1",
                (n,))
            self.assertBroken(d, n, "changed", "entry %d: sequence number "
                              "out of range" % n)

    def test_head_row_removed_named_GDPR_32(self):
        d, _, vdb = self.copy("nohead")
        sql(vdb, "DELETE FROM audit_head")
        self.assertBroken(d, None, "head", "no audit head (removed)")

    def test_audit_key_is_random_and_wrapped_GDPR_32(self):
        """The MAC key is kept only wrapped, in the keystore among the
        root keys that a master-key rotation re-wraps (72 bytes: nonce,
        key, tag), and two data directories have different keys."""
        d2 = os.path.join(self.tmp, "other")
        self.addCleanup(shutil.rmtree, d2, True)
        self.assertEqual(vaern(d2, "init", "--policy", TELENOR).returncode, 0)
        self.assertEqual(verify(d2)[0], 0)
        keys = [sql(os.path.join(d, "keystore.db"), "SELECT wrapped FROM "
                    "root_key WHERE name = 'audit_mac'")[0][0]
                for d in (self.dir, d2)]
        self.assertEqual([len(k) for k in keys], [72, 72])
        self.assertNotEqual(keys[0], keys[1])


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class CheckpointTest(unittest.TestCase):
    """GDPR-32: signed checkpoints (Ed25519) kept where the server cannot
    write catch a trail rolled back whole, and cannot be forged."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-ckpt-")
        self.addCleanup(self._tmp.cleanup)
        self.tmp = self._tmp.name
        self.dir = os.path.join(self.tmp, "data")
        self.ck = os.path.join(self.tmp, "checkpoints")
        self.key = os.path.join(self.tmp, "signer.key")
        os.mkdir(self.ck)
        self.assertEqual(vaern(self.dir, "init", "--policy",
                               CEKURA).returncode, 0)

    def add(self, n):
        for i in range(n):
            self.n = getattr(self, "n", 0) + 1
            doc = customer(self.n)
            p = vaern(self.dir, "subject", "add", "--controller", "cekura",
                      "--json", "-", stdin=json.dumps(doc).encode())
            self.assertEqual(p.returncode, 0, p)
            sid = json.loads(p.stdout)["subject"]
            # A legal hold is audited (CEK-HOLD-1): one entry each.
            p = vaern(self.dir, "subject", "hold", "--controller", "cekura",
                      sid, "--reason", "Tvist")
            self.assertEqual(p.returncode, 0, p)

    def checkpoint(self, key=None):
        return vaern(self.dir, "audit", "checkpoint", "--key",
                     key or self.key, "--dir", self.ck)

    def test_checkpoint_written_and_checked_GDPR_32(self):
        self.add(2)
        p = self.checkpoint()
        self.assertEqual(p.returncode, 0, p)
        doc = json.loads(p.stdout)
        self.assertTrue(os.path.exists(doc["file"]))
        self.assertEqual(os.stat(self.key).st_mode & 0o777, 0o600)
        rc, v, err = verify(self.dir, "--checkpoints", self.ck)
        self.assertEqual(rc, 0, err)
        self.assertEqual(v["checkpoints"], 1)
        self.assertEqual(v["head_seq"], doc["seq"])
        # Pinned to the right key: ok; to another: the signature fails.
        with open(os.path.join(self.ck, "checkpoint.pub")) as f:
            pub = f.read().strip()
        rc, v, err = verify(self.dir, "--checkpoints", self.ck,
                            "--public-key", pub)
        self.assertEqual(rc, 0, err)
        rc, v, err = verify(self.dir, "--checkpoints", self.ck,
                            "--public-key", "00" * 32)
        self.assertEqual(rc, 1, err)
        self.assertEqual(v["problem"], "checkpoint")

    def test_rolled_back_trail_caught_by_checkpoint_GDPR_32(self):
        """A consistent older copy of both databases (trail and head
        alike) verifies on its own; the later checkpoint names it."""
        self.add(1)
        old = os.path.join(self.tmp, "old")
        dbpeek.copy_data_dir(self.dir, old)
        self.add(2)
        p = self.checkpoint()
        self.assertEqual(p.returncode, 0, p)
        seq = json.loads(p.stdout)["seq"]
        for f in os.listdir(self.dir):
            if f.startswith(("vaern.db", "audit.db")):
                os.remove(os.path.join(self.dir, f))
        for f in os.listdir(old):
            if f.startswith(("vaern.db", "audit.db")):
                shutil.copy(os.path.join(old, f), self.dir)
        if dbpeek.ON_POSTGRESQL:  # the older copy is a database
            shutil.copy(os.path.join(old, "store.conf"), self.dir)
        rc, v, err = verify(self.dir)
        self.assertEqual(rc, 0, err)  # consistent: the head cannot tell
        rc, v, err = verify(self.dir, "--checkpoints", self.ck)
        self.assertEqual(rc, 1, err)
        self.assertEqual(v["problem"], "checkpoint", v)
        self.assertEqual(v["first_bad"], seq, v)
        self.assertIn("cut off the end", v["message"])
        self.assertIn("checkpoint ckpt-", v["message"])

    def test_changed_checkpoint_refused_GDPR_32(self):
        self.add(1)
        p = self.checkpoint()
        self.assertEqual(p.returncode, 0, p)
        path = json.loads(p.stdout)["file"]
        with open(path) as f:
            doc = json.load(f)
        doc["seq"] -= 1  # a checkpoint that would cover less
        os.chmod(path, 0o644)
        with open(path, "w") as f:
            json.dump(doc, f)
        rc, v, err = verify(self.dir, "--checkpoints", self.ck)
        self.assertEqual(rc, 1, err)
        self.assertEqual(v["problem"], "checkpoint")
        self.assertIn("signature does not verify", v["message"])

    def test_other_key_refused_into_the_same_dir_GDPR_32(self):
        self.add(1)
        self.assertEqual(self.checkpoint().returncode, 0)
        p = self.checkpoint(os.path.join(self.tmp, "intruder.key"))
        self.assertEqual(p.returncode, 1, p)
        self.assertIn(b"another checkpoint key", p.stderr)
        self.assertEqual(len([f for f in os.listdir(self.ck)
                              if f.startswith("ckpt-")]), 1)

    def test_broken_trail_gets_no_checkpoint_GDPR_32(self):
        self.add(1)
        sql(os.path.join(self.dir, "audit.db"),
            "UPDATE audit SET reason = 'x' WHERE seq = 1")
        p = self.checkpoint()
        self.assertEqual(p.returncode, 1, p)
        self.assertEqual(os.listdir(self.ck), [])


@dbpeek.sqlite_only("an unkeyed trail of an older SQLite layout")
@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class LegacyTrailTest(unittest.TestCase):
    """GDPR-32: a trail made before the key (version 1 hashes, no outbox
    column) keeps verifying, and is continued keyed."""

    def test_unkeyed_trail_keeps_verifying_GDPR_32(self):
        tmp = tempfile.TemporaryDirectory(prefix="vaern-legacy-")
        self.addCleanup(tmp.cleanup)
        d = os.path.join(tmp.name, "data")
        self.assertEqual(vaern(d, "init", "--policy", CEKURA).returncode, 0)
        db = os.path.join(d, "audit.db")
        # The trail as an old vaern left it: no outbox column, unkeyed.
        sql(db, "DROP TABLE audit")
        sql(db, "CREATE TABLE audit(seq INTEGER PRIMARY KEY, at INTEGER NOT "
            "NULL, controller TEXT, actor TEXT, role TEXT, purpose TEXT, "
            "action TEXT NOT NULL, subject BLOB, categories TEXT, decision "
            "INTEGER NOT NULL, rule TEXT, reason TEXT, prev_hash BLOB NOT "
            "NULL, hash BLOB NOT NULL)")
        prev = bytes(32)
        for seq in (1, 2, 3):
            row = ("cekura", "local", None, None, "policy_load", None,
                   None, 1, "GDPR-32", "entry %d" % seq)
            h = v1_hash(prev, seq, 1767225600 + seq, row)
            sql(db, "INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (seq, 1767225600 + seq, *row, prev, h))
            prev = h
        # ...and a data store without the key and the head (made
        # before issue 12; `vaern init` now makes both).
        sql(os.path.join(d, "keystore.db"), "DELETE FROM root_key WHERE "
            "name = 'audit_mac'")
        sql(os.path.join(d, "vaern.db"), "DROP TABLE audit_head")
        sql(os.path.join(d, "vaern.db"), "DROP TABLE audit_outbox")
        rc, v, err = verify(d)
        self.assertEqual(rc, 0, err)
        self.assertEqual(v["entries"], 3)
        self.assertEqual(sql(os.path.join(d, "vaern.db"),
                             "SELECT keyed_from FROM audit_head"), [(4,)])
        # Continued keyed: a change's entry is entry 4.
        doc = customer(1)
        p = vaern(d, "subject", "add", "--controller", "cekura", "--json",
                  "-", stdin=json.dumps(doc).encode())
        self.assertEqual(p.returncode, 0, p)
        p = vaern(d, "subject", "hold", "--controller", "cekura",
                  json.loads(p.stdout)["subject"], "--reason", "Tvist")
        self.assertEqual(p.returncode, 0, p)
        rc, v, err = verify(d)
        self.assertEqual(rc, 0, err)
        self.assertGreaterEqual(v["entries"], 4)
        self.assertEqual(sql(db, "SELECT min(version) FROM audit WHERE "
                             "seq >= 4"), [(2,)])
        # The old entries are still guarded by their hashes.
        sql(db, "UPDATE audit SET reason = 'entry 9' WHERE seq = 2")
        rc, v, err = verify(d)
        self.assertEqual(rc, 1, err)
        self.assertEqual(v["first_bad"], 2)
        self.assertIn("content changed (hash does not match)", v["message"])


@unittest.skipIf(not VAERN or not CRASHTEST,
                 "VAERN_BIN or VAERN_CRASHTEST is not set")
class CrashTest(unittest.TestCase):
    """GDPR-32: a change and its entry are one unit. The test binary is
    killed (SIGKILL, as kill -9) at each step between a change's commit
    and its entry's; afterwards the trail verifies and holds exactly one
    entry for every change."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-crash-")
        self.addCleanup(self._tmp.cleanup)
        self.tmp = self._tmp.name
        self.dir = os.path.join(self.tmp, "data")

    def init(self, policy):
        self.assertEqual(vaern(self.dir, "init", "--policy",
                               policy).returncode, 0)

    def entries(self, action):
        return sql(os.path.join(self.dir, "audit.db"),
                   "SELECT seq, subject, reason FROM audit WHERE action = ? "
                   "ORDER BY seq", (action,))

    def assertVerifies(self):
        rc, v, err = verify(self.dir)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sql(os.path.join(self.dir, "vaern.db"),
                             "SELECT count(*) FROM audit_outbox"), [(0,)])
        return v

    # -- the sweep (CEK-RET-1 data, GDPR-5(1)(e)) --

    def due_customers(self, n):
        for i in range(n):
            doc = customer(i)
            p = vaern(self.dir, "subject", "add", "--controller", "cekura",
                      "--json", "-", stdin=json.dumps(doc).encode(),
                      as_of="2025-01-05")
            self.assertEqual(p.returncode, 0, p)
            sid = json.loads(p.stdout)["subject"]
            for kind, at in (("relationship_start", "2025-01-05"),
                             ("relationship_end", "2025-03-31")):
                p = vaern(self.dir, "subject", "event", "--controller",
                          "cekura", sid, kind, "--at", at, as_of=at)
                self.assertEqual(p.returncode, 0, p)

    def facts(self):
        return sql(os.path.join(self.dir, "vaern.db"),
                   "SELECT count(*) FROM fact")[0][0]

    def crash_sweep(self, point):
        p = vaern(self.dir, "retention", "sweep", "--quiet",
                  as_of="2025-07-01", binary=CRASHTEST,
                  env={"VAERN_CRASH_AT": point})
        self.assertEqual(p.returncode, -9, p)  # killed at the point

    def test_sweep_killed_after_commit_keeps_its_entry_GDPR_32(self):
        self.init(CEKURA)
        self.due_customers(3)
        self.assertEqual(self.facts(), 12)
        self.crash_sweep("sweep_committed")
        self.assertEqual(self.facts(), 0)  # the batch committed...
        # ...and its entry with it: moved by verify, once.
        self.assertVerifies()
        swept = self.entries("retention_sweep")
        self.assertEqual(len(swept), 1, swept)
        self.assertIn("deleted 12", swept[0][2])
        self.assertIn("general=12", swept[0][2])

    def test_sweep_killed_before_outbox_delete_not_doubled_GDPR_32(self):
        self.init(CEKURA)
        self.due_customers(2)
        self.crash_sweep("trail_committed")
        self.assertEqual(self.facts(), 0)
        # The entry is in the trail and still in the outbox: moved once.
        self.assertEqual(len(self.entries("retention_sweep")), 1)
        self.assertVerifies()
        self.assertEqual(len(self.entries("retention_sweep")), 1)
        p = vaern(self.dir, "retention", "sweep", "--quiet",
                  as_of="2025-07-01")
        self.assertEqual(p.returncode, 0, p)
        self.assertEqual(len(self.entries("retention_sweep")), 1)
        self.assertVerifies()

    def test_sweep_not_killed_control_GDPR_32(self):
        """The same sweep without a crash point: one entry, verified (the
        crash binary is the shipped one otherwise)."""
        self.init(CEKURA)
        self.due_customers(2)
        p = vaern(self.dir, "retention", "sweep", "--quiet",
                  as_of="2025-07-01", binary=CRASHTEST)
        self.assertEqual(p.returncode, 0, p)
        self.assertEqual(len(self.entries("retention_sweep")), 1)
        self.assertVerifies()

    def test_server_sweep_killed_after_commit_keeps_its_entry_GDPR_32(self):
        """The scheduled sweep of `vaern serve` (GDPR-5(1)(e)), killed
        between its batch's commit and the entry's move: the next start
        moves the entry."""
        self.init(CEKURA)
        self.due_customers(2)
        env = dict(BASE_ENV, VAERN_CRASH_AT="sweep_committed")
        proc = subprocess.Popen(
            [CRASHTEST, "--data", self.dir, "--as-of", "2025-07-01",
             "serve", "--listen", "127.0.0.1:0", "--sweep-every", "1s"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        self.assertEqual(proc.wait(timeout=TIMEOUT), -9)
        self.assertEqual(self.facts(), 0)  # committed
        self.assertEqual(self.entries("retention_sweep"), [])  # not moved
        srv = Server(self.dir, os.path.join(self.tmp, "again.log")).start()
        self.assertEqual(srv.stop(), 0)  # its start moved the entry
        self.assertEqual(sql(os.path.join(self.dir, "vaern.db"),
                             "SELECT count(*) FROM audit_outbox"), [(0,)])
        swept = self.entries("retention_sweep")
        self.assertEqual(len(swept), 1, swept)
        self.assertIn("deleted 8", swept[0][2])
        self.assertVerifies()

    def test_hold_killed_after_commit_keeps_its_entry_CEK_HOLD_1(self):
        """CEK-HOLD-1 from the command line: a hold placed and killed
        before its entry moved keeps its entry (verify moves it)."""
        self.init(CEKURA)
        self.due_customers(1)
        sid = sql(os.path.join(self.dir, "vaern.db"),
                  "SELECT hex(uid) FROM subject")[0][0].lower()
        p = vaern(self.dir, "subject", "hold", "--controller", "cekura", sid,
                  "--reason", "Tvist", binary=CRASHTEST,
                  env={"VAERN_CRASH_AT": "change_committed"})
        self.assertEqual(p.returncode, -9, p)
        self.assertEqual(sql(os.path.join(self.dir, "vaern.db"),
                             "SELECT count(*) FROM hold"), [(1,)])
        self.assertEqual(self.entries("hold_place"), [])
        self.assertVerifies()
        held = self.entries("hold_place")
        self.assertEqual(len(held), 1, held)
        self.assertEqual(held[0][2], "hold 1 placed")

    def test_request_killed_after_commit_keeps_its_entry_GDPR_12(self):
        """GDPR-12: a rights request recorded and killed before its entry
        moved keeps its entry (verify moves it)."""
        self.init(CEKURA)
        self.due_customers(1)
        sid = sql(os.path.join(self.dir, "vaern.db"),
                  "SELECT hex(uid) FROM subject")[0][0].lower()
        p = vaern(self.dir, "requests", "add", "--controller", "cekura",
                  "--type", "access", "--subject", sid, "--channel", "email",
                  binary=CRASHTEST, env={"VAERN_CRASH_AT": "change_committed"})
        self.assertEqual(p.returncode, -9, p)
        self.assertEqual(sql(os.path.join(self.dir, "vaern.db"),
                             "SELECT count(*) FROM request"), [(1,)])
        self.assertEqual(self.entries("request_received"), [])
        self.assertVerifies()
        got = self.entries("request_received")
        self.assertEqual(len(got), 1, got)
        self.assertEqual(bytes(got[0][1]).hex(), sid)

    def test_erasure_killed_after_commit_keeps_its_entry_GDPR_17(self):
        """GDPR-17: an erasure executed and killed before its entry moved
        keeps its entry (verify moves it): no person erased unrecorded."""
        self.init(CEKURA)
        self.due_customers(1)
        sid = sql(os.path.join(self.dir, "vaern.db"),
                  "SELECT hex(uid) FROM subject")[0][0].lower()
        p = vaern(self.dir, "requests", "add", "--controller", "cekura",
                  "--type", "erasure", "--subject", sid, "--channel", "email")
        self.assertEqual(p.returncode, 0, p)
        rid = json.loads(p.stdout)["id"]
        p = vaern(self.dir, "requests", "verify", rid, "--attest",
                  "id card seen", "--controller", "cekura")
        self.assertEqual(p.returncode, 0, p)
        p = vaern(self.dir, "requests", "erase", rid, "--controller",
                  "cekura", binary=CRASHTEST,
                  env={"VAERN_CRASH_AT": "change_committed"})
        self.assertEqual(p.returncode, -9, p)
        self.assertEqual(self.facts(), 0)  # erased...
        self.assertEqual(self.entries("request_erasure"), [])
        self.assertVerifies()  # ...and recorded
        got = self.entries("request_erasure")
        self.assertEqual(len(got), 1, got)
        self.assertIn("-> completed", got[0][2])

    def test_import_killed_after_commit_keeps_its_entries_GDPR_32(self):
        """`vaern import` (the operator's creates) killed after its one
        transaction committed: every imported subject has its entry."""
        fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "..", "fixtures", "vault-test.yaml")
        self.init(fixture)
        rows = ["name,address,phone,email"] + [
            "Kunde %d Hansen,Vestergade %d 8000 Aarhus C,+45 %08d,"
            "kunde%d@example.dk" % (i, 10 + i, 21000000 + i, i)
            for i in range(5)]
        p = vaern(self.dir, "import", "--controller", "testshop",
                  "--purpose", "customer_admin", "-",
                  stdin=("\n".join(rows) + "\n").encode(),
                  binary=CRASHTEST, env={"VAERN_CRASH_AT": "change_committed"})
        self.assertEqual(p.returncode, -9, p)
        subjects = self.subjects()
        self.assertEqual(len(subjects), 5)  # committed...
        self.assertEqual(self.created(), [])
        self.assertVerifies()  # ...with their entries
        self.assertEqual(sorted(self.created()), sorted(subjects))

    # -- HTTP create --

    def crash_serve(self, point, srv):
        """Starts vaern-crashtest serve with VAERN_CRASH_AT=point; srv (a
        Server) then talks to it. Returns the process."""
        env = dict(BASE_ENV, VAERN_CRASH_AT=point)
        proc = subprocess.Popen(
            [CRASHTEST, "--data", self.dir, "serve", "--listen",
             "127.0.0.1:0"], stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=env)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        line = proc.stdout.readline()
        self.assertTrue(line, "no ready line")
        srv.port = json.loads(line)["port"]
        return proc

    def serve_crash(self, point, creates=5):
        p = vaern(self.dir, "actor", "add", "--controller", "telenor",
                  "--name", "cs", "--role", "customer_service")
        tok = json.loads(p.stdout)["token"]
        srv = Server(self.dir, os.path.join(self.tmp, "serve.log"))
        srv.extra = []
        proc = self.crash_serve(point, srv)
        answered = 0
        for _ in range(creates):
            try:
                r = srv.request("POST", "/v1/subjects", telenor_customer(),
                                tok)
                answered += r.status == 201
            except OSError:
                break  # killed at the point
        self.assertEqual(proc.wait(timeout=TIMEOUT), -9)
        proc.stdout.close()
        return answered

    def subjects(self):
        return {bytes(r[0]) for r in sql(os.path.join(self.dir, "vaern.db"),
                                          "SELECT uid FROM subject")}

    def created(self):
        return [bytes(r[1]) for r in self.entries("create")]

    def test_create_killed_after_commit_keeps_its_entry_GDPR_32(self):
        self.init(TELENOR)
        answered = self.serve_crash("create_committed")
        self.assertEqual(answered, 0)  # no answer before the entry
        subjects = self.subjects()
        self.assertEqual(len(subjects), 1)  # committed...
        self.assertEqual(self.created(), [])  # ...its entry in the outbox
        # The real server moves it at start-up.
        srv = Server(self.dir, os.path.join(self.tmp, "again.log")).start()
        self.assertEqual(srv.stop(), 0)
        self.assertVerifies()
        self.assertEqual(sorted(self.created()), sorted(subjects))

    def test_create_killed_before_commit_leaves_nothing_GDPR_32(self):
        self.init(TELENOR)
        self.assertEqual(self.serve_crash("create_written"), 0)
        self.assertEqual(self.subjects(), set())
        self.assertVerifies()
        self.assertEqual(self.created(), [])

    def test_create_killed_before_outbox_delete_not_doubled_GDPR_32(self):
        self.init(TELENOR)
        self.serve_crash("trail_committed")
        subjects = self.subjects()
        self.assertEqual(len(subjects), 1)
        self.assertEqual(sorted(self.created()), sorted(subjects))
        self.assertVerifies()  # moves the outbox row again: skipped
        self.assertEqual(sorted(self.created()), sorted(subjects))

    def test_rectify_killed_after_commit_keeps_its_entry_GDPR_16(self):
        """GDPR-16 over HTTP: a rectification killed between its commit
        and its entry's move keeps its entry (the next start moves it);
        the request got no answer."""
        self.init(TELENOR)
        p = vaern(self.dir, "actor", "add", "--controller", "telenor",
                  "--name", "cs", "--role", "customer_service")
        tok = json.loads(p.stdout)["token"]
        srv = Server(self.dir, os.path.join(self.tmp, "one.log")).start()
        r = srv.request("POST", "/v1/subjects", telenor_customer(), tok)
        self.assertEqual(r.status, 201, r)
        sid = r.json()["subject"]
        r = srv.request("GET", "/v1/subjects/%s/facts?purpose=contract"
                        % sid, token=tok)
        fid = [f["id"] for f in r.json()["facts"]
               if f["category"] == "name"][0]
        self.assertEqual(srv.stop(), 0)
        proc = self.crash_serve("change_committed", srv)
        with self.assertRaises(OSError):  # no answer: killed
            srv.request("PATCH", "/v1/subjects/%s/facts/%d" % (sid, fid),
                        {"value": "Ole B. Jensen"}, tok)
        self.assertEqual(proc.wait(timeout=TIMEOUT), -9)
        proc.stdout.close()
        self.assertEqual(self.entries("rectify"), [])
        srv = Server(self.dir, os.path.join(self.tmp, "two.log")).start()
        r = srv.request("GET", "/v1/subjects/%s/facts?purpose=contract&"
                        "categories=name" % sid, token=tok)
        self.assertEqual([f["value"] for f in r.json()["facts"]],
                         ["Ole B. Jensen"])  # the change committed...
        self.assertEqual(srv.stop(), 0)
        rect = self.entries("rectify")  # ...and its entry with it
        self.assertEqual(len(rect), 1, rect)
        self.assertEqual(bytes(rect[0][1]).hex(), sid)
        self.assertVerifies()

    def test_consent_killed_after_commit_keeps_its_entry_GDPR_7(self):
        """GDPR-7 over HTTP: a consent given and killed before its entry
        moved keeps its entry, with the text's hash in its reason."""
        self.init(TELENOR)
        toks = {}
        for role in ("customer_service", "marketing"):
            p = vaern(self.dir, "actor", "add", "--controller", "telenor",
                      "--name", role, "--role", role)
            toks[role] = json.loads(p.stdout)["token"]
        srv = Server(self.dir, os.path.join(self.tmp, "one.log")).start()
        r = srv.request("POST", "/v1/subjects", telenor_customer(),
                        toks["customer_service"])
        self.assertEqual(r.status, 201, r)
        sid = r.json()["subject"]
        self.assertEqual(srv.stop(), 0)
        proc = self.crash_serve("change_committed", srv)
        text = "Ja tak, tilbud på sms (v1)."
        with self.assertRaises(OSError):  # no answer: killed
            srv.request("POST", "/v1/subjects/%s/consents" % sid,
                        {"purpose": "marketing", "source": "phone",
                         "text": text}, toks["marketing"])
        self.assertEqual(proc.wait(timeout=TIMEOUT), -9)
        proc.stdout.close()
        self.assertEqual(sql(os.path.join(self.dir, "vaern.db"),
                             "SELECT count(*) FROM consent"), [(1,)])
        self.assertEqual(self.entries("consent_give"), [])
        self.assertVerifies()
        got = self.entries("consent_give")
        self.assertEqual(len(got), 1, got)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        self.assertEqual(got[0][2], "source phone; text sha256 " + digest)


if __name__ == "__main__":
    unittest.main(verbosity=2)
