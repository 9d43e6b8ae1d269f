#!/usr/bin/env python3
"""Black-box tests of issue 12, point 6: reads and creates at once on the
real `vaern serve` (shipped policies/telenor.yaml). The rates are the
benchmark's (scripts/bench-api, bench/README.md); these tests prove what
must hold whatever the rate.

Clauses proved here, each named in the test that proves it:
  GDPR-32   availability and resilience (Art. 32(1)(b)): many connections
            from one address (a reverse proxy, a portal's pool) are all
            served, none accepted and dropped; reads and creates at once
            all succeed, every create is stored and audited, and the
            trail verifies; a read's answer never waits for the data
            store's write lock (which a create holds through its commit's
            fsyncs), and the data store learns the trail's head once the
            lock is free; the trail's log is copied into its database and
            started over beside steady reads, and the data store's
            beside steady creates (each copy off its writer's commits),
            and the trail verifies; a new subject's id is a coarse clock
            (1/16 s, shifted by an offset keyed per controller) and then
            96 random bits: ids made together share their clock (a
            create appends to the id indexes instead of dirtying a random
            page of each), ids made a second apart are 16 ticks apart,
            the random part never repeats a pattern, and one controller's
            clock does not give away another's or the time itself

The server and its helpers come from test_api.py.
"""
import http.client
import json
import os
import socket
import sys
import sqlite3
import threading
import time
import unittest

import dbpeek

DB_LOCK_STORE = 0x7661657201  # src/store/db.h

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api import (CEKURA, HTTP_TIMEOUT, TELENOR, ApiCase,  # noqa: E402
                      cekura_customer, run_vaern, telenor_customer)

# More than the server's former per-address limit (64), which turned the
# connections past it into accept-and-close loops.
CONNECTIONS = 160


class ManyConnectionsTest(ApiCase):
    actors = (("telenor", "customer_service"),)

    def test_160_connections_from_one_address_all_served_GDPR_32(self):
        socks = []
        try:
            for _ in range(CONNECTIONS):
                socks.append(socket.create_connection(
                    ("127.0.0.1", self.server.port), timeout=HTTP_TIMEOUT))
            # Two requests on each, all connections open at once: none
            # is closed unanswered, and each stays open (keep-alive).
            for round_ in range(2):
                for s in socks:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: vaern\r\n\r\n")
                for i, s in enumerate(socks):
                    got = b""
                    while b"\r\n\r\n" not in got:
                        b = s.recv(4096)
                        self.assertTrue(b, "connection %d of %d closed "
                                        "unanswered (round %d)"
                                        % (i + 1, CONNECTIONS, round_))
                        got += b
                    self.assertTrue(got.startswith(b"HTTP/1.1 200"), got)
                    # The body, by its length, before the next request.
                    head, _, body = got.partition(b"\r\n\r\n")
                    n = [int(h.split(b":")[1]) for h in head.split(b"\r\n")
                         if h.lower().startswith(b"content-length:")][0]
                    while len(body) < n:
                        b = s.recv(4096)
                        self.assertTrue(b)
                        body += b
        finally:
            for s in socks:
                s.close()


class ReadsAndCreatesTest(ApiCase):
    actors = (("telenor", "customer_service"), ("telenor", "dpo"))
    CS = ("telenor", "customer_service")

    def test_reads_and_creates_at_once_all_succeed_and_audited_GDPR_32(self):
        sids = [self.create(self.CS, telenor_customer()) for _ in range(4)]
        token = self.tokens[self.CS]
        port = self.server.port
        failures, created = [], []
        lock = threading.Lock()

        def client(kind, n):
            conn = http.client.HTTPConnection("127.0.0.1", port,
                                              timeout=HTTP_TIMEOUT)
            h = {"Authorization": "Bearer " + token,
                 "Content-Type": "application/json"}
            try:
                for i in range(n):
                    if kind == "read":
                        conn.request("GET", "/v1/subjects/%s/facts?purpose="
                                     "contract" % sids[i % len(sids)],
                                     headers=h)
                    else:
                        conn.request("POST", "/v1/subjects", headers=h,
                                     body=json.dumps(telenor_customer()))
                    r = conn.getresponse()
                    body = r.read()
                    ok = 200 if kind == "read" else 201
                    with lock:
                        if r.status != ok:
                            failures.append((kind, r.status, body[:200]))
                        elif kind == "create":
                            created.append(body)
            except OSError as e:
                with lock:
                    failures.append((kind, repr(e)))
            finally:
                conn.close()

        threads = [threading.Thread(target=client, args=("read", 60))
                   for _ in range(12)]
        threads += [threading.Thread(target=client, args=("create", 25))
                    for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertEqual(failures, [])
        self.assertEqual(len(created), 150)
        # Every create is stored and has its audit entry; the trail
        # verifies.
        self.assertEqual(self.counts()["subject"], 154)
        r = run_vaern(["--data", self.dir, "audit", "verify"])
        self.assertEqual(r.rc, 0, r)
        entries = self.audit("telenor", limit=1000)
        self.assertEqual(len([e for e in entries
                              if e["action"] == "create"]), 154)
        self.assertEqual(len([e for e in entries if e["action"] == "read"
                              and e["allowed"]]), 720)


def sql(db, query):
    con = dbpeek.connect(db, timeout=10)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def steady_load(port, clients, n, request, ok, log):
    """clients threads, each sending n requests (request() gives method,
    path, body, headers) on one connection, while the size of file log is
    sampled. Returns (failures, the largest size seen)."""
    failures, sizes = [], [0]

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port,
                                          timeout=HTTP_TIMEOUT)
        try:
            for _ in range(n):
                conn.request(*request())
                r = conn.getresponse()
                r.read()
                if r.status != ok:
                    failures.append(r.status)
        except OSError as e:
            failures.append(repr(e))
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if os.path.exists(log):
            sizes.append(os.path.getsize(log))
        time.sleep(0.02)
    for t in threads:
        t.join()
    return failures, max(sizes)


class WriteLockTest(ApiCase):
    """The audit writer, which every read's answer waits for, records the
    trail's head in the data store (a write transaction there). It did so
    on its own thread, waiting for the data store's write lock, which the
    create writer holds through its commit's fsyncs: reads stood still
    behind creates (issue 12 point 6). Here another connection holds that
    lock, as a create's commit does, for longer."""
    actors = (("telenor", "customer_service"),)
    CS = ("telenor", "customer_service")
    # One worker, whose connection the create opens: a worker's first
    # request opens its connection, which waits for the lock too.
    serve_extra = ("--threads", "1")

    def test_reads_answered_while_data_store_write_locked_GDPR_32(self):
        sid = self.create(self.CS, telenor_customer())
        audit_db = os.path.join(self.dir, "audit.db")
        lock = dbpeek.connect(self.db, timeout=10, isolation_level=None)
        try:
            # The data store's write lock: SQLite's, or on PostgreSQL the
            # advisory lock every write transaction takes (db.h).
            if dbpeek.ON_POSTGRESQL:
                lock.execute("SELECT pg_advisory_lock(?1)", (DB_LOCK_STORE,))
            else:
                lock.execute("BEGIN IMMEDIATE")
            for i in range(6):
                t0 = time.monotonic()
                r = self.read(self.CS, sid, "contract")
                took = time.monotonic() - t0
                self.assertEqual(r.status, 200, r)
                # Before: the second read waited for the lock, until the
                # writer's busy timeout (10 s) gave up.
                self.assertLess(took, 2.0, "read %d took %.1f s with the "
                                "data store locked" % (i + 1, took))
            # Still locked: the head cannot have moved past the reads.
            head = sql(self.db, "SELECT seq FROM audit_head")[0][0]
            last = sql(audit_db, "SELECT max(seq) FROM audit")[0][0]
            self.assertLess(head, last)
        finally:
            if dbpeek.ON_POSTGRESQL:
                lock.execute("SELECT pg_advisory_unlock(?1)", (DB_LOCK_STORE,))
            else:
                lock.execute("ROLLBACK")
            lock.close()
        # Released: the data store learns the head, which the trail has.
        deadline = time.monotonic() + 15
        while True:
            head = sql(self.db, "SELECT seq FROM audit_head")[0][0]
            last = sql(audit_db, "SELECT max(seq) FROM audit")[0][0]
            if head == last or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(head, last)
        r = run_vaern(["--data", self.dir, "audit", "verify"])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json()["entries"], last)


class TrailLogTest(ApiCase):
    """SQLite copies a log into its database (a checkpoint) in the commit
    that makes it longer than 1,000 pages, on the committing thread: the
    audit writer stood still for it, 10 to 30 ms, several times a second
    under load, and every read's answer with it. The bulk is now copied on
    a thread of its own; the writer's part is the few pages committed
    meanwhile and starting the log over (a restart checkpoint, which
    waits briefly for readers still on the log). If that broke, the log
    would only grow (or be copied by the writer again)."""
    actors = (("telenor", "customer_service"),)
    CS = ("telenor", "customer_service")
    READERS, READS = 4, 500
    # A log started over at about 1,000 pages (4 KiB) stays near 4 MiB;
    # the reads here write well over twice the bound without a restart.
    LOG_MAX = 6 << 20

    def test_trail_log_started_over_beside_steady_reads_GDPR_32(self):
        sid = self.create(self.CS, telenor_customer())
        auth = {"Authorization": "Bearer " + self.tokens[self.CS]}
        failures, largest = steady_load(
            self.server.port, self.READERS, self.READS,
            lambda: ("GET", "/v1/subjects/%s/facts?purpose=contract" % sid,
                     None, auth),
            200, os.path.join(self.dir, "audit.db-wal"))
        self.assertEqual(failures, [])
        self.assertLess(largest, self.LOG_MAX)
        r = run_vaern(["--data", self.dir, "audit", "verify"])
        self.assertEqual(r.rc, 0, r)
        self.assertGreaterEqual(r.json()["entries"],
                                self.READERS * self.READS)


class DataLogTest(ApiCase):
    """The same for the data store's log, which the create writer's
    commits copied into vaern.db (10 to 380 ms each under load, every
    create waiting): the copy is now a thread's of its own, the create
    writer's part the few pages committed meanwhile and the restart.
    Every create's request reads vaern.db (the token, the policy) on its
    worker, so beside steady creates some reader nearly always used the
    log: a passive finish then left it un-restarted about half the time,
    and it grew to twice the bound (8.4 MB) before the next copy; the
    restart waits for those reads, and tries again at the next commits
    if one stays (src/common/ckpt.h)."""
    actors = (("telenor", "customer_service"), ("telenor", "dpo"))
    CS = ("telenor", "customer_service")
    CREATORS, CREATES = 8, 80
    # Started over at about 1,000 pages: near 4 MiB. These creates write
    # well over twice the bound without a restart.
    LOG_MAX = 6 << 20

    def test_data_log_started_over_beside_steady_creates_GDPR_32(self):
        head = {"Authorization": "Bearer " + self.tokens[self.CS],
                "Content-Type": "application/json"}
        failures, largest = steady_load(
            self.server.port, self.CREATORS, self.CREATES,
            lambda: ("POST", "/v1/subjects",
                     json.dumps(telenor_customer()), head),
            201, self.db + "-wal")
        self.assertEqual(failures, [])
        self.assertLess(largest, self.LOG_MAX)
        n = self.CREATORS * self.CREATES
        self.assertEqual(self.counts()["subject"], n)
        r = run_vaern(["--data", self.dir, "audit", "verify"])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len([e for e in self.audit("telenor", limit=5000)
                              if e["action"] == "create"]), n)


def clock_of(sid):
    """The clock of a subject id (its first 4 bytes; src/vault/vault.h
    VAULT_UID_CLOCK_BYTES), in 1/16 s."""
    return int(sid[:8], 16)


def ticks(a, b):
    """How far clock b is ahead of clock a (the clock wraps at 2^32)."""
    return (b - a) % (1 << 32)


class SubjectIdTest(ApiCase):
    """Issue 12 point 6: ids that sort by time, so the creates' inserts
    into the subject_uid and keystore indexes append (measured: 39% fewer
    bytes written per create), and stay unguessable (96 random bits)."""
    policies = (TELENOR, CEKURA)
    actors = (("telenor", "customer_service"), ("cekura", "customer_service"))
    CS = ("telenor", "customer_service")
    CEKURA_CS = ("cekura", "customer_service")
    N = 40

    def test_ids_made_together_share_a_clock_then_96_random_bits_GDPR_32(self):
        t0 = time.monotonic()
        sids = [self.create(self.CS, telenor_customer())
                for _ in range(self.N)]
        elapsed = time.monotonic() - t0
        self.assertEqual(len(set(sids)), self.N)
        # In the order made, each clock at or after the one before and
        # all within the time they took (in 1/16 s): fully random ids
        # fail this with odds of 1 in 10^300.
        clocks = [clock_of(s) for s in sids]
        for a, b in zip(clocks, clocks[1:]):
            self.assertLessEqual(ticks(a, b), 16 * elapsed + 1, sids)
        self.assertLessEqual(ticks(clocks[0], clocks[-1]), 16 * elapsed + 1)
        # The 12 bytes after the clock are random: at each position the
        # 40 ids take many values (a counter or a constant would not).
        for pos in range(4, 16):
            values = {s[2 * pos:2 * pos + 2] for s in sids}
            self.assertGreaterEqual(len(values), 16, (pos, sids))

    def test_ids_made_a_second_apart_are_16_ticks_apart_GDPR_32(self):
        a = clock_of(self.create(self.CS, telenor_customer()))
        time.sleep(1.0)
        b = clock_of(self.create(self.CS, telenor_customer()))
        # 1 s is 16 ticks; the request's own time and a loaded machine
        # add a few.
        self.assertGreaterEqual(ticks(a, b), 16)
        self.assertLessEqual(ticks(a, b), 16 * 4)

    def test_clock_offset_is_keyed_per_controller_GDPR_32(self):
        # Made within the same tick or two, by two controllers: their
        # clocks are far apart (each controller's offset is derived from
        # its own blind-index key), and neither is the time itself.
        now = int(time.time() * 16) % (1 << 32)
        t = clock_of(self.create(self.CS, telenor_customer()))
        c = clock_of(self.create(self.CEKURA_CS, cekura_customer()))
        self.assertGreater(min(ticks(t, c), ticks(c, t)), 16 * 60)
        for clock in (t, c):
            self.assertGreater(min(ticks(now, clock), ticks(clock, now)),
                               16 * 60)


if __name__ == "__main__":
    unittest.main(verbosity=2)
