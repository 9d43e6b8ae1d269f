#!/usr/bin/env python3
"""Black-box tests of the key hierarchy, master-key rotation, backups and
restores (issue 13) through the real vaern binary (env VAERN_BIN), on the
shipped policy policies/example.yaml.

Clauses: GDPR-32 (security of processing: keys from a file, the environment
or a command; rotation while serving, resumable, audited; online backup and
restore; keys in locked memory, no core dumps) and GDPR-17 (an erasure
survives the restore of an older data backup; keystore backups expire).

The keystore (DIR/keystore.db) and the data (DIR/vaern.db) are read with
Python's sqlite3 module to check what is stored, never to drive vaern.
"""
import http.client
import json
import os
import random
import re
import select
import shutil
import signal
import sqlite3

import dbpeek
import stat
import subprocess
import tempfile
import threading
import time
import unittest

VAERN = os.environ.get("VAERN_BIN")
ROOT = os.environ.get("VAERN_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
POLICY = os.path.join(ROOT, "policies", "example.yaml")
TIMEOUT = 60
EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}


def sanitized():
    """AddressSanitizer makes mlock a no-op: locked memory is not seen in
    a sanitizer build."""
    # on PostgreSQL VAERN is vaern-on-pg, a script: the binary is its
    # PG_WRAP_REAL_BIN
    with open(os.environ.get("PG_WRAP_REAL_BIN", VAERN), "rb") as f:
        return b"__asan_init" in f.read()


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


def run(args, stdin=None, env=None, timeout=TIMEOUT):
    e = dict(BASE_ENV)
    e.update(env or {})
    return Result(subprocess.run([VAERN, *args], input=stdin,
                                 capture_output=True, env=e,
                                 timeout=timeout))


def person(name, email):
    return json.dumps({"purpose": "customer_admin", "facts": [
        {"category": "name", "value": name},
        {"category": "email", "value": email}]}).encode()


def tree(path):
    """Every file under path with its bytes: what a refusal must not
    change."""
    out = {}
    for base, _, files in os.walk(path):
        for f in files:
            p = os.path.join(base, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, path)] = fh.read()
    return out


class Server:
    """One `vaern serve` on a free loopback port."""

    def __init__(self, data_dir, log_path, env=None):
        self.data_dir, self.log_path = data_dir, log_path
        self.env = dict(BASE_ENV)
        self.env.update(env or {})
        self.proc = None

    def start(self):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [VAERN, "--data", self.data_dir, "serve", "--listen",
             "127.0.0.1:0", "--sweep-every", "off"],
            stdout=subprocess.PIPE, stderr=self._log, env=self.env)
        line = b""
        deadline = time.monotonic() + 15
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise AssertionError("vaern serve printed no ready line")
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                b = os.read(self.proc.stdout.fileno(), 1)
                if not b:
                    raise AssertionError("vaern serve exited: %s"
                                         % self.log())
                line += b
        self.port = int(json.loads(line)["port"])
        return self

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-3000:]

    def request(self, method, path, body=None, token=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=30)
        h = {"Authorization": "Bearer " + token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()
        return self.proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class KeysCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-keys-")
        self.addCleanup(self._tmp.cleanup)
        self.tmp = self._tmp.name
        self.dir = self.path("data")
        r = self.vaern("init", "--policy", POLICY)
        self.assertEqual(r.rc, EXIT_OK, r)

    def path(self, *p):
        return os.path.join(self.tmp, *p)

    def vaern(self, *args, data=None, env=None, stdin=None):
        return run(["--data", data or self.dir, *args], stdin=stdin, env=env)

    def add(self, name, email, data=None, env=None):
        r = self.vaern("subject", "add", "--json", "-", data=data, env=env,
                       stdin=person(name, email))
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()["subject"]

    def readable(self, sid, name, data=None, env=None):
        r = self.vaern("subject", "show", sid, data=data, env=env)
        self.assertEqual(r.rc, EXIT_OK, r)
        values = [f["value"] for f in r.json()["facts"]]
        self.assertIn(name, values)

    def found(self, email, data=None, env=None):
        r = self.vaern("subject", "find", "email", "-", data=data, env=env,
                       stdin=email.encode())
        return r.json()["subject"] if r.rc == EXIT_OK else None

    def keystore(self, query, data=None):
        con = dbpeek.connect("file:%s?mode=ro" % os.path.join(
            data or self.dir, "keystore.db"), uri=True, timeout=30)
        try:
            return con.execute(query).fetchall()
        finally:
            con.close()

    def key_hex(self, data=None):
        with open(os.path.join(data or self.dir, "master.key")) as f:
            return f.read().strip()

    def write_key(self, name, hexkey, mode=0o600):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(hexkey + "\n")
        os.chmod(p, mode)
        return p

    def import_people(self, n, prefix="p"):
        csv = self.path("%s.csv" % prefix)
        with open(csv, "w") as f:
            f.write("name,email\n")
            for i in range(n):
                f.write("Person %s%d,%s%d@example.dk\n" % (prefix, i, prefix,
                                                            i))
        r = self.vaern("import", "--purpose", "customer_admin", csv)
        self.assertEqual(r.rc, EXIT_OK, r)


# ---- 1. key sources ---------------------------------------------------------

class KeySourceTest(KeysCase):
    """GDPR-32: the master key from a file (0600), the environment or a
    command; each refused clearly when wrong, and nothing written."""

    def setUp(self):
        super().setUp()
        self.sid = self.add("Anna Hansen", "anna@example.dk")
        self.hex = self.key_hex()
        # the key moves out of the data directory
        self.keyfile = self.write_key("elsewhere.key", self.hex)
        os.unlink(os.path.join(self.dir, "master.key"))

    def test_GDPR_32_key_from_a_file_elsewhere(self):
        r = self.vaern("subject", "show", self.sid)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("no master key", r.err)
        self.readable(self.sid, "Anna Hansen",
                      env={"VAERN_MASTER_KEY_FILE": self.keyfile})
        r = run(["--data", self.dir, "--master-key-file", self.keyfile,
                 "subject", "show", self.sid])
        self.assertEqual(r.rc, EXIT_OK, r)

    def test_GDPR_32_key_file_others_can_read_is_refused(self):
        os.chmod(self.keyfile, 0o644)
        before = tree(self.dir)
        r = run(["--data", self.dir, "--master-key-file", self.keyfile,
                 "subject", "add", "--json", "-"],
                stdin=person("Bo Berg", "bo@example.dk"))
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("accessible by group or others", r.err)
        self.assertNotIn(self.hex, r.err)
        self.assertEqual(tree(self.dir).keys(), before.keys())

    def test_GDPR_32_key_from_a_command(self):
        cmd = "cat %s" % self.keyfile
        r = run(["--data", self.dir, "--master-key-command", cmd,
                 "subject", "show", self.sid])
        self.assertEqual(r.rc, EXIT_OK, r)
        self.readable(self.sid, "Anna Hansen",
                      env={"VAERN_MASTER_KEY_COMMAND": cmd})

    def test_GDPR_32_key_command_that_fails_or_prints_no_key(self):
        for cmd, says in (("exit 7", "exit status 7"),
                          ("echo not-a-key", "printed no key"),
                          ("echo %s" % ("ab" * 31), "printed no key")):
            with self.subTest(cmd=cmd):
                r = run(["--data", self.dir, "--master-key-command", cmd,
                         "subject", "add", "--json", "-"],
                        stdin=person("Bo Berg", "bo@example.dk"))
                self.assertEqual(r.rc, EXIT_REFUSED, r)
                self.assertIn(says, r.err)
                self.assertNotIn("not-a-key", r.err)
                self.assertNotIn("abab", r.err)
        self.assertEqual(self.keystore("SELECT count(*) FROM subject_key"),
                         [(1,)])

    def test_GDPR_32_wrong_key_from_a_command_writes_nothing(self):
        before = self.keystore("SELECT uid, wrapped FROM subject_key")
        r = run(["--data", self.dir, "--master-key-command",
                 "echo %s" % ("cd" * 32), "subject", "add", "--json", "-"],
                stdin=person("Bo Berg", "bo@example.dk"))
        self.assertEqual(r.rc, EXIT_FAILURE, r)
        self.assertIn("does not belong", r.err)
        self.assertEqual(self.keystore("SELECT uid, wrapped FROM"
                                       " subject_key"), before)

    def test_GDPR_32_key_from_the_environment(self):
        self.readable(self.sid, "Anna Hansen",
                      env={"VAERN_MASTER_KEY": self.hex})


# ---- 2. rotation --------------------------------------------------------------

class RotateTest(KeysCase):
    """GDPR-32: vaern key rotate re-wraps every key under a new master key,
    never re-indexes, audits itself, and retires the old key."""

    def test_GDPR_32_rotate_rewraps_every_key_and_retires_the_old(self):
        a = self.add("Anna Hansen", "anna@example.dk")
        b = self.add("Bo Berg", "bo@example.dk")
        old = self.key_hex()
        blinds = dbpeek.connect(os.path.join(self.dir, "vaern.db")) \
            .execute("SELECT blind FROM identifier ORDER BY 1").fetchall()
        wrapped = dict(self.keystore("SELECT uid, wrapped FROM subject_key"))
        r = self.vaern("key", "rotate", "--quiet")
        self.assertEqual(r.rc, EXIT_OK, r)
        doc = r.json()
        self.assertEqual((doc["retired_generation"], doc["generation"]),
                         (1, 2))
        # 2 subjects, the index root, the audit MAC key (issue 12)
        self.assertEqual(doc["rewrapped"], 4)
        self.assertTrue(doc["key_file_replaced"])
        self.assertNotEqual(self.key_hex(), old)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(
            self.dir, "master.key")).st_mode), 0o600)
        self.assertFalse(os.path.exists(os.path.join(self.dir,
                                                     "master.key.next")))
        # every key re-wrapped; the old generation retired, no cross-wrap
        self.assertEqual(self.keystore("SELECT DISTINCT kek FROM subject_key"
                                       " UNION SELECT kek FROM root_key"),
                         [(2,)])
        for uid, w in self.keystore("SELECT uid, wrapped FROM subject_key"):
            self.assertNotEqual(w, wrapped[uid])
        self.assertEqual(self.keystore("SELECT gen, state, up IS NULL,"
                                       " down IS NULL FROM kek ORDER BY gen"),
                         [(1, "retired", 1, 1), (2, "current", 1, 1)])
        # nothing re-indexed: the blind indexes are the same bytes
        self.assertEqual(dbpeek.connect(os.path.join(self.dir, "vaern.db"))
                         .execute("SELECT blind FROM identifier ORDER BY 1")
                         .fetchall(), blinds)
        self.readable(a, "Anna Hansen")
        self.assertEqual(self.found("bo@example.dk"), b)
        # the retired key opens nothing
        r = self.vaern("subject", "show", a, env={"VAERN_MASTER_KEY": old})
        self.assertEqual(r.rc, EXIT_FAILURE, r)
        self.assertIn("retired", r.err)
        # audited
        r = self.vaern("audit", "show")
        actions = [e["action"] for e in r.json()]
        self.assertIn("key-rotate-begin", actions)
        self.assertIn("key-rotate-end", actions)
        r = self.vaern("audit", "verify")
        self.assertEqual(r.rc, EXIT_OK, r)

    def test_GDPR_32_rotate_to_a_given_key_file(self):
        a = self.add("Anna Hansen", "anna@example.dk")
        new = self.write_key("new.key", "5a" * 32)
        r = self.vaern("key", "rotate", "--new-key-file", new)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertFalse(r.json()["key_file_replaced"])
        self.assertIn("note", r.json())
        # master.key is the retired key now; the new one reads
        r = self.vaern("subject", "show", a)
        self.assertEqual(r.rc, EXIT_FAILURE, r)
        self.assertIn("retired", r.err)
        self.readable(a, "Anna Hansen", env={"VAERN_MASTER_KEY_FILE": new})

    def test_GDPR_32_rotate_bad_input_changes_nothing(self):
        self.add("Anna Hansen", "anna@example.dk")
        cur = self.write_key("cur.key", self.key_hex())
        loose = self.write_key("loose.key", "5b" * 32, mode=0o644)
        cases = [
            (["--new-key-file", cur], EXIT_REFUSED, "not new"),
            (["--new-key-file", loose], EXIT_REFUSED, "group or others"),
            (["--new-key-file", self.path("none.key")], EXIT_REFUSED,
             "no master key"),
            (["--new-key-command", "exit 3"], EXIT_REFUSED, "exit status 3"),
            (["--new-key-file", cur, "--new-key-command", "true"],
             EXIT_USAGE, "not both"),
            (["--batch", "0"], EXIT_USAGE, "--batch"),
        ]
        before = self.keystore("SELECT * FROM kek")
        keys = self.keystore("SELECT * FROM subject_key")
        for args, rc, says in cases:
            with self.subTest(args=args):
                r = self.vaern("key", "rotate", *args)
                self.assertEqual(r.rc, rc, r)
                self.assertIn(says, r.err)
                self.assertNotIn("5b" * 32, r.err)
                self.assertEqual(self.keystore("SELECT * FROM kek"), before)
                self.assertEqual(self.keystore("SELECT * FROM subject_key"),
                                 keys)
        # a wrong master key: refused, exit 1, nothing changed
        r = self.vaern("key", "rotate", env={"VAERN_MASTER_KEY": "c1" * 32})
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("does not belong", r.err)
        self.assertEqual(self.keystore("SELECT * FROM kek"), before)

    def check_no_key_lost(self, n, gens):
        """Every key is under a generation that is held (not retired), and
        the keystore holds every subject's key."""
        rows = self.keystore("SELECT kek, count(*) FROM subject_key"
                             " GROUP BY kek")
        self.assertEqual(sum(c for _, c in rows), n)
        live = {g for g, s in self.keystore("SELECT gen, state FROM kek")
                if s != "retired"}
        for kek, _ in rows:
            self.assertIn(kek, live)
        gens.update(live)

    def test_GDPR_32_rotate_resumes_after_kill_9_at_any_point(self):
        n = 400
        self.import_people(n)
        rng = random.Random(13)
        kills = 0
        gens = set()
        while True:
            p = subprocess.Popen([VAERN, "--data", self.dir, "key", "rotate",
                                  "--batch", "1", "--quiet"],
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=BASE_ENV)
            time.sleep(rng.uniform(0.0, 0.25))
            # 20 kills at random points; then the run may finish (a slow
            # sanitizer build may need it)
            if p.poll() is None and kills < 20:
                p.kill()
                kills += 1
            out, err = p.communicate(timeout=TIMEOUT)
            self.check_no_key_lost(n, gens)
            # whichever key the data directory has now opens everything
            r = self.vaern("subject", "find", "email", "-",
                           stdin=b"p%d@example.dk" % rng.randrange(n))
            if p.returncode == EXIT_OK:
                self.assertEqual(r.rc, EXIT_OK, r)
                break
            self.assertEqual(p.returncode, -signal.SIGKILL, err)
            if r.rc != EXIT_OK:
                # killed between the retirement and the key file's
                # rename: the message says to run rotate again
                self.assertIn("rotate", r.err)
        self.assertGreater(kills, 0)
        # one live generation (a run killed after its rename had finished
        # its rotation, and the next run made another)
        (cur,), = self.keystore("SELECT gen FROM kek WHERE state <> "
                                "'retired'")
        self.assertGreaterEqual(cur, 2)
        self.assertEqual(self.keystore("SELECT DISTINCT kek FROM"
                                       " subject_key"), [(cur,)])
        for i in rng.sample(range(n), 10):
            sid = self.found("p%d@example.dk" % i)
            self.readable(sid, "Person p%d" % i)

    def test_GDPR_32_an_interrupted_rotation_finishes_to_its_own_key(self):
        self.import_people(400)
        for delay in [0.02, 0.05, 0.1, 0.15, 0.2] * 4:
            p = subprocess.Popen([VAERN, "--data", self.dir, "key", "rotate",
                                  "--batch", "1", "--quiet"],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env=BASE_ENV)
            time.sleep(delay)
            p.kill()
            p.wait()
            caught = self.keystore("SELECT gen FROM kek WHERE state = 'next'")
            if caught:
                break
        else:
            self.skipTest("never caught the rotation half-way")
        # An earlier run may have finished a whole rotation before its
        # kill: the one caught half-way is then to a later generation.
        (nxt,), = caught
        other = self.write_key("other.key", "6c" * 32)
        before = self.keystore("SELECT * FROM kek")
        r = self.vaern("key", "rotate", "--new-key-file", other)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("another key is under way", r.err)
        self.assertEqual(self.keystore("SELECT * FROM kek"), before)
        r = self.vaern("key", "rotate")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertTrue(r.json()["resumed"])
        self.assertEqual(self.keystore("SELECT gen, state FROM kek"),
                         [(g, "retired") for g in range(1, nxt)] +
                         [(nxt, "current")])
        self.assertIsNotNone(self.found("p7@example.dk"))

    def test_GDPR_32_a_key_that_does_not_open_stops_the_rotation(self):
        """No key is ever dropped: one that does not authenticate stops the
        rotation before anything is retired; fixed, the rotation ends."""
        a = self.add("Anna Hansen", "anna@example.dk")
        b = self.add("Bo Berg", "bo@example.dk")
        ks = os.path.join(self.dir, "keystore.db")
        con = dbpeek.connect(ks)
        (uid, w), = con.execute("SELECT uid, wrapped FROM subject_key"
                                " ORDER BY uid LIMIT 1").fetchall()
        bad = bytes([w[0] ^ 1]) + w[1:]
        con.execute("UPDATE subject_key SET wrapped = ? WHERE uid = ?",
                    (bad, uid))
        con.commit()
        con.close()
        old = self.key_hex()
        r = self.vaern("key", "rotate")
        self.assertEqual(r.rc, EXIT_FAILURE, r)
        self.assertIn("does not open under master key generation 1", r.err)
        self.assertNotIn("retired", self.keystore(
            "SELECT state FROM kek WHERE gen = 1")[0])
        # the batch it was in rolled back whole: both keys still there,
        # under generation 1, the bad one as it was
        self.assertEqual(self.keystore("SELECT kek, count(*) FROM"
                                       " subject_key GROUP BY kek"), [(1, 2)])
        self.assertIn((bad,), self.keystore("SELECT wrapped FROM"
                                            " subject_key"))
        self.assertEqual(self.key_hex(), old)
        actions = [e["action"] for e in self.vaern("audit", "show").json()]
        self.assertIn("key-rotate-stopped", actions)
        con = dbpeek.connect(ks)
        con.execute("UPDATE subject_key SET wrapped = ? WHERE uid = ?",
                    (w, uid))
        con.commit()
        con.close()
        r = self.vaern("key", "rotate")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertTrue(r.json()["resumed"])
        self.readable(a, "Anna Hansen")
        self.readable(b, "Bo Berg")

    def test_GDPR_32_rotate_finishes_a_run_killed_before_the_rename(self):
        """The one state kill -9 rarely hits by chance: the retirement
        committed, master.key.next not yet renamed onto master.key."""
        a = self.add("Anna Hansen", "anna@example.dk")
        keyp = os.path.join(self.dir, "master.key")
        shutil.copy(keyp, self.path("old.key"))
        r = self.vaern("key", "rotate")
        self.assertEqual(r.rc, EXIT_OK, r)
        os.rename(keyp, os.path.join(self.dir, "master.key.next"))
        shutil.copy(self.path("old.key"), keyp)
        r = self.vaern("subject", "show", a)
        self.assertEqual(r.rc, EXIT_FAILURE, r)
        self.assertIn("vaern key rotate", r.err)
        r = self.vaern("key", "rotate")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertTrue(r.json()["resumed"])
        self.assertTrue(r.json()["key_file_replaced"])
        self.readable(a, "Anna Hansen")

    def test_GDPR_32_an_idle_server_goes_on_after_a_rotation(self):
        """A server that touched no key while the rotation ran reads its
        key source again (master.key is the new key by then)."""
        a = self.add("Anna Hansen", "anna@example.dk")
        r = self.vaern("actor", "add", "--controller", "example", "--name",
                       "cs", "--role", "customer_service")
        token = r.json()["token"]
        srv = Server(self.dir, self.path("serve.log")).start()
        try:
            r = self.vaern("key", "rotate")
            self.assertEqual(r.rc, EXIT_OK, r)
            st, body = srv.request("GET", "/v1/subjects/%s/facts?purpose="
                                   "customer_admin" % a, None, token)
            self.assertEqual(st, 200, body)
            self.assertIn(b"Anna Hansen", body)
            st, body = srv.request("POST", "/v1/subjects", {
                "purpose": "customer_admin", "facts": [
                    {"category": "name", "value": "After"},
                    {"category": "email", "value": "after@example.dk"}]},
                token)
            self.assertEqual(st, 201, body)
        finally:
            self.assertEqual(srv.stop(), 0, srv.log())
        self.assertEqual(self.keystore("SELECT DISTINCT kek FROM"
                                       " subject_key"), [(2,)])

    def test_GDPR_32_reads_and_writes_succeed_during_a_rotation(self):
        self.import_people(600)
        r = self.vaern("actor", "add", "--controller", "example", "--name",
                       "cs", "--role", "customer_service")
        self.assertEqual(r.rc, EXIT_OK, r)
        token = r.json()["token"]
        srv = Server(self.dir, self.path("serve.log")).start()
        try:
            made, failures = [], []
            rot = subprocess.Popen([VAERN, "--data", self.dir, "key",
                                    "rotate", "--batch", "5", "--quiet"],
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=BASE_ENV)
            i = 0
            while rot.poll() is None or i < 5:
                st, body = srv.request("POST", "/v1/subjects", {
                    "purpose": "customer_admin", "facts": [
                        {"category": "name", "value": "Live %d" % i},
                        {"category": "email",
                         "value": "live%d@example.dk" % i}]}, token)
                if st != 201:
                    failures.append((st, body))
                else:
                    made.append((i, json.loads(body)["subject"]))
                for _, sid in made[-2:]:
                    st, body = srv.request(
                        "GET", "/v1/subjects/%s/facts?purpose="
                        "customer_admin" % sid, None, token)
                    if st != 200:
                        failures.append((st, body))
                i += 1
            out, err = rot.communicate(timeout=TIMEOUT)
            self.assertEqual(rot.returncode, EXIT_OK, err)
            self.assertEqual(failures, [])
            # after the retirement the server goes on, under generation 2
            st, body = srv.request("POST", "/v1/subjects", {
                "purpose": "customer_admin", "facts": [
                    {"category": "name", "value": "After"},
                    {"category": "email", "value": "after@example.dk"}]},
                token)
            self.assertEqual(st, 201, body)
            made.append(("after", json.loads(body)["subject"]))
            for _, sid in made:
                st, body = srv.request("GET", "/v1/subjects/%s/facts?"
                                       "purpose=customer_admin" % sid,
                                       None, token)
                self.assertEqual(st, 200, body)
        finally:
            self.assertEqual(srv.stop(), 0, srv.log())
        self.assertEqual(self.keystore("SELECT DISTINCT kek FROM"
                                       " subject_key"), [(2,)])
        for i, sid in made[:3] + made[-1:]:
            self.readable(sid, "Live %d" % i if i != "after" else "After")


# ---- 3 and 4. backup and restore ---------------------------------------------

class BackupTest(KeysCase):
    """GDPR-32: online backups with a manifest, restored into an empty data
    directory with the audit trail intact. GDPR-17: an erasure survives the
    restore of an older data backup."""

    def restore(self, backup, keystore, target, env=None):
        if env is None:
            os.makedirs(target, mode=0o700, exist_ok=True)
            shutil.copy(os.path.join(self.dir, "master.key"), target)
        return self.vaern("restore", backup, "--keystore", keystore,
                          data=target, env=env)

    def test_GDPR_17_erased_after_the_backup_stays_erased(self):
        a = self.add("Anna Hansen", "anna@example.dk")
        b = self.add("Bo Berg", "bo@example.dk")
        r = self.vaern("backup", self.path("bk"))
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.vaern("backup", "--keystore", self.path("ks"))
        self.assertEqual(r.rc, EXIT_OK, r)  # taken before the erasure
        r = self.vaern("subject", "erase", a)
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.vaern("backup", "--keystore", self.path("ks"))
        self.assertEqual(r.rc, EXIT_OK, r)
        # the data backup holds A's rows; no key is in it
        self.assertFalse(os.path.exists(self.path("bk", "keystore.db")))
        target = self.path("restored")
        r = self.restore(self.path("bk"), self.path("ks"), target)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["erased_removed"], 1)
        r = self.vaern("subject", "show", a, data=target)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIsNone(self.found("anna@example.dk", data=target))
        self.readable(b, "Bo Berg", data=target)
        self.assertEqual(self.found("bo@example.dk", data=target), b)
        r = self.vaern("audit", "verify", data=target)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertNotIn(b"anna", dbpeek.store_bytes(
            os.path.join(target, "vaern.db")))

    def test_GDPR_17_restore_takes_the_live_keystore_by_default(self):
        """Add A and B, back up, erase A, restore the backup (no keystore
        named: the live one of the data directory it came from)."""
        a = self.add("Anna Hansen", "anna@example.dk")
        b = self.add("Bo Berg", "bo@example.dk")
        self.assertEqual(self.vaern("backup", self.path("bk")).rc, EXIT_OK)
        self.assertEqual(self.vaern("subject", "erase", a).rc, EXIT_OK)
        target = self.path("restored")
        os.makedirs(target, mode=0o700)
        shutil.copy(os.path.join(self.dir, "master.key"), target)
        r = self.vaern("restore", self.path("bk"), data=target)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["keystore"], os.path.realpath(self.dir))
        r = self.vaern("subject", "show", a, data=target)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIsNone(self.found("anna@example.dk", data=target))
        self.readable(b, "Bo Berg", data=target)
        self.assertEqual(self.vaern("audit", "verify", data=target).rc,
                         EXIT_OK)
        # the same with the data directory named as the keystore
        target2 = self.path("restored2")
        r = self.vaern("restore", self.path("bk"), "--keystore", self.dir,
                       data=target2,
                       env={"VAERN_MASTER_KEY": self.key_hex()})
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertIsNone(self.found("anna@example.dk", data=target2,
                                     env={"VAERN_MASTER_KEY":
                                          self.key_hex()}))

    def test_GDPR_17_an_erasure_cut_by_a_crash_stays_erased_in_a_restore(
            self):
        """A crash between an erasure's two commits (the data store's
        first) leaves the key behind: neither a restore from the live
        keystore nor a keystore backup brings the person back."""
        a = self.add("Anna Hansen", "anna@example.dk")
        b = self.add("Bo Berg", "bo@example.dk")
        self.assertEqual(self.vaern("backup", self.path("bk")).rc, EXIT_OK)
        # the state such a crash leaves: the subject row gone, its key not
        con = dbpeek.connect(os.path.join(self.dir, "vaern.db"))
        con.execute("DELETE FROM subject WHERE lower(hex(uid)) = ?", (a,))
        con.commit()
        con.close()
        self.assertEqual(self.keystore("SELECT count(*) FROM subject_key"),
                         [(2,)])
        target = self.path("restored")
        r = self.restore(self.path("bk"), self.dir, target)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertIsNone(self.found("anna@example.dk", data=target))
        self.readable(b, "Bo Berg", data=target)
        r = self.vaern("backup", "--keystore", self.path("ks"))
        self.assertEqual(r.rc, EXIT_OK, r)
        target = self.path("restored2")
        r = self.restore(self.path("bk"), self.path("ks"), target)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertIsNone(self.found("anna@example.dk", data=target))
        self.readable(b, "Bo Berg", data=target)

    def test_GDPR_17_a_keystore_backup_from_before_the_erasure_still_opens(
            self):
        """The other side of the promise: until the keystore backups taken
        before an erasure expire, they still hold the key."""
        a = self.add("Anna Hansen", "anna@example.dk")
        self.assertEqual(self.vaern("backup", self.path("bk")).rc, EXIT_OK)
        self.assertEqual(self.vaern("backup", "--keystore",
                                    self.path("old")).rc, EXIT_OK)
        self.assertEqual(self.vaern("subject", "erase", a).rc, EXIT_OK)
        target = self.path("restored")
        r = self.restore(self.path("bk"), self.path("old"), target)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.readable(a, "Anna Hansen", data=target)

    def test_GDPR_17_keystore_backups_expire_after_keep_days(self):
        ks = self.path("ks")
        r = run(["--data", self.dir, "--as-of", "2026-01-01", "backup",
                 "--keystore", ks])
        self.assertEqual(r.rc, EXIT_OK, r)
        first = r.json()["backup"]
        # 30 days later: kept (the day of the limit)
        r = run(["--data", self.dir, "--as-of", "2026-01-31", "backup",
                 "--keystore", ks, "--keep-days", "30"])
        self.assertEqual((r.rc, r.json()["expired"]), (EXIT_OK, 0), r)
        self.assertTrue(os.path.isdir(first))
        # 31 days later: gone
        r = run(["--data", self.dir, "--as-of", "2026-02-01", "backup",
                 "--keystore", ks, "--keep-days", "30"])
        self.assertEqual((r.rc, r.json()["expired"]), (EXIT_OK, 1), r)
        self.assertFalse(os.path.exists(first))
        self.assertEqual(len(os.listdir(ks)), 2)

    def test_GDPR_32_manifest_names_time_schema_head_and_checksums(self):
        self.add("Anna Hansen", "anna@example.dk")
        r = self.vaern("backup", self.path("bk"))
        self.assertEqual(r.rc, EXIT_OK, r)
        with open(self.path("bk", "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual(m["kind"], "data")
        self.assertEqual(m["schema"], "7")
        self.assertRegex(m["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        head = self.vaern("audit", "verify").json()
        self.assertLessEqual(m["audit_head"]["seq"], head["head_seq"])
        self.assertEqual(sorted(m["files"]), ["audit.db", "vaern.db"])
        for f in m["files"].values():
            self.assertRegex(f["blake2b"], r"^[0-9a-f]{64}$")
        for mode in (os.stat(self.path("bk", n)).st_mode
                     for n in ("vaern.db", "audit.db", "manifest.json")):
            self.assertEqual(stat.S_IMODE(mode) & 0o077, 0)
        # into a directory that is not empty: refused
        r = self.vaern("backup", self.path("bk"))
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("not empty", r.err)

    def test_GDPR_32_backup_under_load_holds_every_acknowledged_write(self):
        r = self.vaern("actor", "add", "--controller", "example", "--name",
                       "cs", "--role", "customer_service")
        token = r.json()["token"]
        srv = Server(self.dir, self.path("serve.log")).start()
        acked, stop = [], threading.Event()

        def writer():
            i = 0
            while not stop.is_set():
                st, body = srv.request("POST", "/v1/subjects", {
                    "purpose": "customer_admin", "facts": [
                        {"category": "name", "value": "W %d" % i},
                        {"category": "email", "value": "w%d@example.dk" % i}
                    ]}, token)
                if st == 201:
                    acked.append((i, json.loads(body)["subject"]))
                i += 1

        t = threading.Thread(target=writer)
        t.start()
        try:
            while len(acked) < 30:
                time.sleep(0.02)
            before = list(acked)  # acknowledged before the backup began
            r = self.vaern("backup", self.path("bk"))
            self.assertEqual(r.rc, EXIT_OK, r)
            time.sleep(0.2)  # writes go on after it
        finally:
            stop.set()
            t.join()
        r = self.vaern("backup", "--keystore", self.path("ks"))
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(srv.stop(), 0, srv.log())
        target = self.path("restored")
        r = self.restore(self.path("bk"), self.path("ks"), target)
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.vaern("audit", "verify", data=target)
        self.assertEqual(r.rc, EXIT_OK, r)
        audited = {e.get("subject") for e in
                   self.vaern("audit", "show", "--limit", "100000",
                              data=target).json()}
        for i, sid in before:
            self.assertEqual(self.found("w%d@example.dk" % i, data=target),
                             sid)
            self.assertIn(sid, audited)
        for i, sid in before[:3] + before[-3:]:
            self.readable(sid, "W %d" % i, data=target)

    @dbpeek.sqlite_only("the keystore is a file (on PostgreSQL, the"
                        " schema ks of the one database)")
    def test_GDPR_32_a_missing_or_foreign_keystore_is_refused(self):
        a = self.add("Anna Hansen", "anna@example.dk")
        ks = os.path.join(self.dir, "keystore.db")
        os.rename(ks, self.path("keystore.db"))
        r = self.vaern("subject", "show", a)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("keystore.db is missing", r.err)
        self.assertFalse(os.path.exists(ks))  # not made empty in its place
        other = self.path("other")
        self.assertEqual(run(["--data", other, "init", "--policy",
                              POLICY]).rc, EXIT_OK)
        shutil.copy(os.path.join(other, "keystore.db"), ks)
        r = self.vaern("subject", "show", a)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("belongs to another vault", r.err)
        os.unlink(ks)
        os.rename(self.path("keystore.db"), ks)
        self.readable(a, "Anna Hansen")

    def test_GDPR_32_restore_refuses_a_password_on_the_command_line(self):
        """issue 14: --store names the database to restore into, never
        with a password (the command line is visible to every user); a
        connection string without one is taken (CrossEngineTest)."""
        self.assertEqual(self.vaern("backup", self.path("bk")).rc, EXIT_OK)
        target = self.path("target")
        # the binary itself: vaern-on-pg would add a --store of its own
        r = Result(subprocess.run(
            [os.environ.get("PG_WRAP_REAL_BIN", VAERN), "--data", target,
             "restore", self.path("bk"), "--store",
             "postgresql://vaern:s3cr3t@localhost/vaern"],
            capture_output=True, env=BASE_ENV, timeout=TIMEOUT))
        self.assertEqual(r.rc, EXIT_USAGE, r)
        self.assertIn("a password does not go on the command line", r.err)
        self.assertNotIn("s3cr3t", r.err + r.out)
        self.assertFalse(os.path.exists(target))

    # -- bad input: a clear error, exit 1, nothing written to the target --

    def bad_restore(self, backup, keystore, says, env=None,
                    target_files=None):
        target = self.path("target")
        if target_files is not None:
            os.makedirs(target, exist_ok=True)
            for name, data in target_files.items():
                with open(os.path.join(target, name), "wb") as f:
                    f.write(data)
        before = tree(target) if os.path.exists(target) else None
        r = self.vaern("restore", backup, "--keystore", keystore,
                       data=target, env=env or {"VAERN_MASTER_KEY":
                                                self.key_hex()})
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn(says, r.err)
        self.assertNotIn(self.key_hex(), r.err)
        if before is None:
            self.assertFalse(os.path.exists(target), os.listdir(target)
                             if os.path.exists(target) else None)
        else:
            self.assertEqual(tree(target), before)
            shutil.rmtree(target)

    def test_GDPR_32_restore_refuses_bad_input_and_writes_nothing(self):
        self.add("Anna Hansen", "anna@example.dk")
        bk, ks = self.path("bk"), self.path("ks")
        self.assertEqual(self.vaern("backup", bk).rc, EXIT_OK)
        self.assertEqual(self.vaern("backup", "--keystore", ks).rc, EXIT_OK)

        def copy(name):
            d = self.path(name)
            shutil.copytree(bk, d)
            return d

        # the good one restores (the boundary)
        env = {"VAERN_MASTER_KEY": self.key_hex()}
        r = self.vaern("restore", bk, "--keystore", ks,
                       data=self.path("good"), env=env)
        self.assertEqual(r.rc, EXIT_OK, r)
        # truncated
        d = copy("truncated")
        with open(os.path.join(d, "vaern.db"), "r+b") as f:
            f.truncate(4096)
        self.bad_restore(d, ks, "does not match the manifest (size)")
        # tampered: one flipped byte in the audit trail
        d = copy("tampered")
        with open(os.path.join(d, "audit.db"), "r+b") as f:
            f.seek(5000)
            c = f.read(1)
            f.seek(5000)
            f.write(bytes([c[0] ^ 1]))
        self.bad_restore(d, ks, "does not match the manifest (checksum)")
        # no manifest
        d = copy("nomanifest")
        os.unlink(os.path.join(d, "manifest.json"))
        self.bad_restore(d, ks, "not a complete vaern backup")
        # a manifest that does not match the files it names
        d = copy("manifest")
        with open(os.path.join(d, "manifest.json")) as f:
            m = json.load(f)
        m["vault_id"] = "0" * 32
        with open(os.path.join(d, "manifest.json"), "w") as f:
            json.dump(m, f)
        self.bad_restore(d, ks, "another vault")
        # a keystore from another vault
        other = self.path("other")
        self.assertEqual(run(["--data", other, "init", "--policy",
                              POLICY]).rc, EXIT_OK)
        self.assertEqual(run(["--data", other, "backup", "--keystore",
                              self.path("otherks")]).rc, EXIT_OK)
        self.bad_restore(bk, self.path("otherks"), "another vault")
        # a wrong master key
        self.bad_restore(bk, ks, "master key is not the key",
                         env={"VAERN_MASTER_KEY": "e7" * 32})
        # a target that is not empty: untouched
        self.bad_restore(bk, ks, "not empty",
                         target_files={"notes.txt": b"mine"})
        # a data backup given as the keystore
        self.bad_restore(bk, bk, "not the manifest of a vaern keystore")


@unittest.skipUnless(dbpeek.ON_POSTGRESQL,
                     "moves between the engines (suite pg)")
class CrossEngineTest(KeysCase):
    """GDPR-32 (issue 14): a backup has one format on both engines, so a
    PostgreSQL store's backup restores into SQLite (a way off PostgreSQL)
    and a SQLite one into an empty PostgreSQL database; a database that
    already holds a vault is refused and left as it was."""

    REAL = os.environ.get("PG_WRAP_REAL_BIN")

    def real(self, *args, data, env=None, stdin=None):
        """The binary itself, not vaern-on-pg: no --store added."""
        e = dict(BASE_ENV)
        e.update(env or {})
        return Result(subprocess.run([self.REAL, "--data", data, *args],
                                     input=stdin, capture_output=True,
                                     env=e, timeout=TIMEOUT))

    def test_GDPR_32_a_postgresql_backup_restores_into_sqlite(self):
        a = self.add("Anna Hansen", "anna@example.dk")
        b = self.add("Bo Berg", "bo@example.dk")
        r = self.vaern("backup", self.path("bk"))
        self.assertEqual(r.rc, EXIT_OK, r)
        with open(self.path("bk", "manifest.json")) as f:
            self.assertEqual(json.load(f)["engine"], "postgresql")
        self.assertEqual(self.vaern("subject", "erase", a).rc, EXIT_OK)
        self.assertEqual(self.vaern("backup", "--keystore",
                                    self.path("ks")).rc, EXIT_OK)
        target = self.path("lite")
        os.makedirs(target, mode=0o700)
        shutil.copy(os.path.join(self.dir, "master.key"), target)
        r = self.real("restore", self.path("bk"), "--keystore",
                      self.path("ks"), data=target)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["erased_removed"], 1)
        self.assertFalse(os.path.exists(os.path.join(target,
                                                     "store.conf")))
        self.assertTrue(os.path.exists(os.path.join(target, "vaern.db")))
        r = self.real("subject", "show", b, data=target)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertIn("Bo Berg", r.out)
        r = self.real("subject", "show", a, data=target)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        r = self.real("audit", "verify", data=target)
        self.assertEqual(r.rc, EXIT_OK, r)
        # the SQLite copy goes on: a new subject, found again
        r = self.real("subject", "add", "--json", "-", data=target,
                      stdin=person("Cai Dahl", "cai@example.dk"))
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.real("subject", "find", "email", "-", data=target,
                      stdin=b"cai@example.dk")
        self.assertEqual(r.rc, EXIT_OK, r)

    def test_GDPR_32_a_sqlite_backup_restores_into_postgresql(self):
        lite = self.path("lite")
        r = self.real("init", "--policy", POLICY, data=lite)
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.real("subject", "add", "--json", "-", data=lite,
                      stdin=person("Anna Hansen", "anna@example.dk"))
        self.assertEqual(r.rc, EXIT_OK, r)
        sid = r.json()["subject"]
        r = self.real("backup", self.path("bk"), data=lite)
        self.assertEqual(r.rc, EXIT_OK, r)
        with open(self.path("bk", "manifest.json")) as f:
            self.assertEqual(json.load(f)["engine"], "sqlite")
        target = self.path("onpg")
        os.makedirs(target, mode=0o700)
        shutil.copy(os.path.join(lite, "master.key"), target)
        # vaern-on-pg adds --store: a new, empty database
        r = self.vaern("restore", self.path("bk"), "--keystore", lite,
                       data=target)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertTrue(os.path.exists(os.path.join(target, "store.conf")))
        self.assertEqual(sorted(os.listdir(target)),
                         ["master.key", "store.conf"])
        self.readable(sid, "Anna Hansen", data=target)
        self.assertEqual(self.found("anna@example.dk", data=target), sid)
        self.assertEqual(self.vaern("audit", "verify", data=target).rc,
                         EXIT_OK)
        # the restored store takes new rows: its ids go on past the
        # copied ones
        b = self.add("Bo Berg", "bo@example.dk", data=target)
        self.readable(b, "Bo Berg", data=target)
        self.assertEqual(self.vaern("audit", "verify", data=target).rc,
                         EXIT_OK)

    def test_GDPR_32_restore_into_a_database_with_a_vault_is_refused(self):
        """The boundary: an empty database takes the restore (above); one
        that holds a vault -- here the source's own -- is refused, and
        neither the database nor the target directory changes."""
        a = self.add("Anna Hansen", "anna@example.dk")
        self.assertEqual(self.vaern("backup", self.path("bk")).rc, EXIT_OK)
        with open(os.path.join(self.dir, "store.conf")) as f:
            conninfo = f.read().strip()
        before = self.keystore("SELECT uid, kek, wrapped FROM subject_key"
                               " ORDER BY uid")
        target = self.path("target")
        r = self.real("restore", self.path("bk"), "--store", conninfo,
                      data=target, env={"VAERN_MASTER_KEY": self.key_hex()})
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("is not empty", r.err)
        self.assertNotIn(self.key_hex(), r.err)
        self.assertFalse(os.path.exists(target))
        self.assertEqual(self.keystore("SELECT uid, kek, wrapped FROM"
                                       " subject_key ORDER BY uid"), before)
        self.readable(a, "Anna Hansen")


# ---- 5. secrets in memory -----------------------------------------------------

class MemoryTest(KeysCase):
    """GDPR-32: vaern serve writes no core dump and is not dumpable; its
    keys are in locked memory."""

    def test_GDPR_32_serve_no_core_dumps_locked_keys(self):
        srv = Server(self.dir, self.path("serve.log")).start()
        try:
            pid = srv.proc.pid
            with open("/proc/%d/limits" % pid) as f:
                core = [l for l in f if l.startswith("Max core file size")]
            self.assertEqual(core[0].split()[4:6], ["0", "0"], core)
            # not dumpable: its /proc files belong to root, not to us
            self.assertEqual(os.stat("/proc/%d/environ" % pid).st_uid, 0)
            with open("/proc/%d/status" % pid) as f:
                status = f.read()
            locked = int(re.search(r"VmLck:\s+(\d+) kB", status).group(1))
            if not sanitized():
                self.assertGreater(locked, 0, status)
        finally:
            self.assertEqual(srv.stop(), 0, srv.log())

    def test_GDPR_32_a_cli_command_stays_dumpable(self):
        """The other side: only the long-lived server drops dumpability
        (a short command keeps the user's own core settings)."""
        p = subprocess.Popen([VAERN, "--data", self.dir, "subject", "find",
                              "email", "-"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=BASE_ENV)
        try:
            if os.geteuid() != 0:
                self.assertEqual(os.stat("/proc/%d/environ" % p.pid).st_uid,
                                 os.geteuid())
        finally:
            p.communicate(b"x@example.dk", timeout=TIMEOUT)


if __name__ == "__main__":
    unittest.main(verbosity=2)
