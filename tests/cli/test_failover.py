#!/usr/bin/env python3
"""Failover loses nothing acknowledged (issue 14, point 5; GDPR-32:
integrity and availability of the processing).

Runs in the suite "pg" only (tests/meson.build). The test makes its own
two PostgreSQL clusters with scripts/pg-cluster, fsync on, in a temporary
folder under /tmp: a primary and a synchronous hot standby
(synchronous_standby_names names it, synchronous_commit = on), and stops
both at the end, also when it fails. Then, through the real binary
(PG_WRAP_REAL_BIN, not vaern-on-pg):

  1. `vaern init --store PRIMARY` and `vaern serve`;
  2. several threads POST creates; every 201 is recorded with its subject
     id and the e-mail it carried;
  3. once creates flow, the primary's postmaster and every one of its
     children are killed with SIGKILL (its process group: pg_ctl starts
     the postmaster as a session leader) while creates are in flight;
  4. the standby is promoted (`pg_ctl promote`, as the cluster's owner);
  5. DIR/store.conf is rewritten (mode 0600) with the standby's connection
     string and `vaern serve` is started again: the engine reconnects to
     the connection string it was started with (PQreset), so a running
     node is restarted to follow a new primary;
  6. every acknowledged create is found by its e-mail over HTTP, with its
     facts readable, and `vaern audit verify` passes on the new primary.

The other side of the boundary: an e-mail that was never acknowledged is
not found, and the new primary takes new creates.
"""
import collections
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import dbpeek
import test_api as api

REAL = os.environ.get("PG_WRAP_REAL_BIN")
PG_CLUSTER = os.path.join(api.ROOT, "scripts", "pg-cluster")
PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")
THREADS = 4
MIN_ACKED = 30          # creates acknowledged before the primary dies
MIN_LOAD_SECONDS = 1.5  # and at least this long under load
DEADLINE = 120          # seconds for any one wait (a loaded 2-core machine)
# The same machine under ASan, with seven builds beside: generous.
api.START_TIMEOUT = max(api.START_TIMEOUT, 60)
api.HTTP_TIMEOUT = max(api.HTTP_TIMEOUT, 60)


def sh(args, timeout=DEADLINE, env=None):
    p = subprocess.run(args, capture_output=True, text=True,
                       timeout=timeout, env=env)
    if p.returncode != 0:
        raise AssertionError("%s: rc=%d %s" % (" ".join(args), p.returncode,
                                               p.stderr[-1500:]))
    return p.stdout.strip()


def as_owner(cluster_dir, args):
    """Runs args as the owner of the cluster in cluster_dir (PostgreSQL
    refuses root; pg-cluster gives the folder to its user)."""
    if os.getuid() == 0:
        owner = pwd.getpwuid(os.stat(cluster_dir).st_uid).pw_name
        args = ["runuser", "-u", owner, "--"] + args
    return sh(args)


def psql(cluster_dir, sql):
    return as_owner(cluster_dir, [os.path.join(PGBIN, "psql"), "-X", "-At",
                                  "-h", cluster_dir, "-U", "vaern", "-d",
                                  "postgres", "-c", sql])


def poll(what, fn, deadline=DEADLINE, every=0.05):
    """fn() until it returns something true; fails naming what."""
    end = time.monotonic() + deadline
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(every)


def write_store_conf(data, conninfo):
    """DIR/store.conf, mode 0600, replaced whole (a reader never sees half
    of it)."""
    tmp = os.path.join(data, "store.conf.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(conninfo + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(data, "store.conf"))


def proc_stat(pid):
    """(state, ppid) of a process from /proc/PID/stat, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return rest[0], int(rest[1])


def children_of(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st is not None and st[1] == pid:
                out.append(int(d))
    return out


def zombie(pid):
    st = proc_stat(pid)
    return st is None or st[0] == "Z"


def cli(data, *args):
    p = subprocess.run([REAL, "--data", data] + list(args),
                       capture_output=True, env=api.BASE_ENV,
                       timeout=DEADLINE)
    return api.Result(p)


class RealServer(api.Server):
    """`vaern serve` of the real binary (test_api.Server runs VAERN_BIN)."""

    def start(self):
        saved = api.VAERN
        api.VAERN = REAL
        try:
            return super().start()
        finally:
            api.VAERN = saved


@unittest.skipIf(not REAL, "PG_WRAP_REAL_BIN is not set")
@unittest.skipUnless(dbpeek.ON_POSTGRESQL,
                     "a PostgreSQL primary and its standby (suite pg)")
class Failover(unittest.TestCase):
    def setUp(self):
        # Under /tmp, open to the clusters' owner (pg-cluster runs the
        # servers as a non-root user when the tests run as root).
        self.tmp = tempfile.mkdtemp(prefix="vaern-failover-", dir="/tmp")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o755)
        self.primary = os.path.join(self.tmp, "primary")
        self.standby = os.path.join(self.tmp, "standby")
        self.data = os.path.join(self.tmp, "vault")
        env = {k: v for k, v in os.environ.items()
               if k != "PG_CLUSTER_FSYNC"}  # fsync on
        # Cleanups run last in, first out: the standby stops, then the
        # primary, whatever happened in between.
        self.addCleanup(self.stop_cluster, self.primary)
        self.primary_conninfo = sh([PG_CLUSTER, "start", self.primary],
                                   env=env)
        self.addCleanup(self.stop_cluster, self.standby)
        self.standby_conninfo = sh([PG_CLUSTER, "standby", self.primary,
                                    self.standby], env=env)
        self.assertEqual(psql(self.primary, "SHOW fsync"), "on")
        self.assertEqual(psql(self.primary, "SHOW synchronous_commit"), "on")
        self.assertEqual(psql(
            self.primary, "SELECT sync_state FROM pg_stat_replication"),
            "sync")
        self.server = None
        self.addCleanup(self.stop_server)

    def stop_cluster(self, d):
        if os.path.isdir(d):
            subprocess.run([PG_CLUSTER, "stop", d], capture_output=True,
                           timeout=DEADLINE)

    def stop_server(self):
        if self.server is not None:
            self.server.kill()
            self.server = None

    def serve(self, name):
        self.stop_server()
        self.server = RealServer(self.data,
                                 os.path.join(self.tmp, name + ".log"))
        self.server.start()
        return self.server

    def check_log(self, server, acked):
        """No sanitizer report, and no personal value, in what the node
        logged (a lost database included)."""
        text = server.log()
        for bad in ("Sanitizer", "runtime error:"):
            self.assertNotIn(bad, text)
        for _, email in acked:
            self.assertNotIn(email, text)
        self.assertNotIn("Ole Jensen", text)

    def kill_primary(self):
        """SIGKILL to the postmaster, then to every one of its children
        (each child leads its own session, so no process group holds them
        all). The postmaster is stopped first so it forks no new child
        while they are listed."""
        with open(os.path.join(self.primary, "data", "postmaster.pid")) as f:
            pid = int(f.readline())
        os.kill(pid, signal.SIGSTOP)
        children = children_of(pid)
        self.assertTrue(children, "the primary has no child processes")
        for p in [pid] + children:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass

        def gone():
            return not any(os.path.exists("/proc/%d" % p)
                           and not zombie(p) for p in [pid] + children)
        poll("the primary's processes to die", gone)

    def load(self, tok, acked, calls, stop):
        """POSTs creates until stop is set; acked gets (subject, e-mail)
        of every 201, calls (start, end, status) of every request (status
        None: no answer)."""
        while not stop.is_set():
            doc = api.telenor_customer(email=api.uniq_email("failover"))
            email = doc["facts"][2]["value"]
            t0 = time.monotonic()
            try:
                r = self.server.request("POST", "/v1/subjects", doc, tok)
                status = r.status
            except OSError:
                status = None
            t1 = time.monotonic()
            calls.append((t0, t1, status))
            if status == 201:
                acked.append((r.json()["subject"], email))
            elif status is None:
                time.sleep(0.05)  # the server is gone: do not spin
            else:
                time.sleep(0.01)  # the database is gone: do not spin

    def lookup(self, tok, email):
        return self.server.request("POST", "/v1/subjects/lookup",
                                   {"type": "email", "value": email,
                                    "purpose": "contract"}, tok)

    def both_hosts(self):
        """One connection string naming the primary and the standby, for
        a writable session only: libpq tries them in order and keeps the
        one that takes writes (docs/operations.md)."""
        return ("postgresql:///vaern?host=%s,%s&user=vaern"
                "&target_session_attrs=read-write"
                % (self.primary, self.standby))

    def failover(self, before_load=None, before_promote=None,
                 follow=False):
        """The scenario: a vault on the primary, creates under load, the
        primary killed, the standby promoted, the node repointed and
        restarted. Returns (token, acknowledged creates, the ones not
        found with their facts on the new primary).

        follow: the vault's connection string names both servers
        (both_hosts) and the node is NOT restarted: it must find the
        promoted standby by itself; the load goes on through the
        promotion until creates are acknowledged again."""
        r = cli(self.data, "init", "--policy", api.TELENOR,
                "--store", self.both_hosts() if follow
                else self.primary_conninfo)
        self.assertEqual(r.rc, 0, r)
        r = cli(self.data, "actor", "add", "--controller", "telenor",
                "--name", "cs", "--role", "customer_service")
        self.assertEqual(r.rc, 0, r)
        tok = r.json()["token"]
        self.serve("primary")
        if before_load is not None:
            before_load()

        acked, calls, stop = [], [], threading.Event()
        ts = [threading.Thread(target=self.load,
                               args=(tok, acked, calls, stop))
              for _ in range(THREADS)]
        t_load = time.monotonic()
        for t in ts:
            t.start()
        try:
            poll("%d acknowledged creates" % MIN_ACKED,
                 lambda: len(acked) >= MIN_ACKED and
                 time.monotonic() - t_load >= MIN_LOAD_SECONDS)
            t_kill = time.monotonic()
            self.kill_primary()
            # Every process of the primary is dead from here on; a create
            # begun while the signals went out may still have been
            # acknowledged (and must then be on the standby).
            t_dead = time.monotonic()
            # The server no longer acknowledges anything.
            poll("a refused create after the kill",
                 lambda: any(c[0] > t_kill and c[2] != 201
                             for c in list(calls)))
            if follow:
                # Not ready while no server takes writes.
                poll("/healthz 503 after the kill",
                     lambda: self.server.request(
                         "GET", "/healthz").status == 503)
                self.assertFalse([c for c in calls if c[0] > t_dead and
                                  c[2] == 201],
                                 "a create acknowledged after the kill")
                if before_promote is not None:
                    before_promote()
                t_promote = self.promote()
                # The same process, no restart: creates are acknowledged
                # again once it has found the new primary.
                poll("a create acknowledged by the new primary",
                     lambda: any(c[0] > t_promote and c[2] == 201
                                 for c in list(calls)))
                poll("/healthz 200 on the new primary",
                     lambda: self.server.request(
                         "GET", "/healthz").status == 200)
        finally:
            stop.set()
            for t in ts:
                t.join(timeout=DEADLINE)
        self.assertFalse(any(t.is_alive() for t in ts))
        in_flight = [c for c in calls if c[0] < t_kill < c[1]]
        self.assertTrue(in_flight, "no create was in flight at the kill")
        if not follow:
            self.assertFalse([c for c in calls if c[0] > t_dead and
                              c[2] == 201],
                             "a create acknowledged after the kill")
        # A database that went away is the server's failure, never a
        # verdict on the caller (a 401 would tell it to drop its token).
        after = collections.Counter(c[2] for c in calls if c[1] > t_kill)
        self.assertLessEqual(set(after), {201, 500, 503, None}, after)
        acked = list(acked)
        self.assertGreaterEqual(len(acked), MIN_ACKED)
        if follow:
            return tok, acked, self.missing(tok, acked, in_flight, after,
                                            "still running")
        if before_promote is not None:
            before_promote()
        self.promote()

        # Point the node at it and start it again: the engine reconnects
        # only to the connection string it started with. A node whose
        # database is gone still stops cleanly on SIGTERM.
        rc_old = self.server.stop(timeout=DEADLINE)
        self.assertEqual(rc_old, 0)
        self.check_log(self.server, acked)
        self.server = None
        write_store_conf(self.data, self.standby_conninfo)
        self.assertEqual(os.stat(os.path.join(self.data,
                                              "store.conf")).st_mode & 0o777,
                         0o600)
        self.assertEqual(dbpeek.store_conf(self.data), self.standby_conninfo)
        self.serve("standby")
        return tok, acked, self.missing(tok, acked, in_flight, after,
                                        "exited %s" % rc_old)

    def promote(self):
        """Promotes the standby; it takes writes once out of recovery.
        Returns the monotonic time it did."""
        as_owner(self.standby, [os.path.join(PGBIN, "pg_ctl"), "-D",
                                os.path.join(self.standby, "data"),
                                "promote", "-w", "-t", str(DEADLINE)])
        poll("the standby to leave recovery",
             lambda: psql(self.standby, "SELECT pg_is_in_recovery()") == "f")
        return time.monotonic()

    def missing(self, tok, acked, in_flight, after, node):
        """The acknowledged creates not found, with their facts, on the
        node now serving."""
        missing = []
        for sid, email in acked:
            r = self.lookup(tok, email)
            if r.status != 200 or r.json().get("subject") != sid:
                missing.append((sid, r.status))
                continue
            r = self.server.request(
                "GET", "/v1/subjects/%s/facts?purpose=contract" % sid,
                token=tok)
            if r.status != 200 or "Ole Jensen" not in r.text:
                missing.append((sid, r.status))
        print("\nfailover: %d creates acknowledged, %d in flight at the "
              "kill, %d not found on the promoted standby; answers after "
              "the kill: %s; the first node %s"
              % (len(acked), len(in_flight), len(missing), dict(after),
                 node))
        return missing

    def test_GDPR_32_failover_loses_nothing_acknowledged(self):
        tok, acked, missing = self.failover()
        self.assertEqual(missing, [], "acknowledged creates lost "
                         "(%d of %d)" % (len(missing), len(acked)))

        # What was never acknowledged is not found; the new primary takes
        # creates.
        r = self.lookup(tok, api.uniq_email("never"))
        self.assertEqual(r.status, 404, r)
        r = self.server.request("POST", "/v1/subjects",
                                api.telenor_customer(), tok)
        self.assertEqual(r.status, 201, r)

        # One chain, unbroken, with an entry for every acknowledged create.
        self.assertEqual(self.server.stop(timeout=DEADLINE), 0)
        self.check_log(self.server, acked)
        self.server = None
        r = cli(self.data, "audit", "verify")
        self.assertEqual(r.rc, 0, r)
        self.assertGreaterEqual(r.json()["entries"], len(acked) + 1)

    def test_GDPR_32_a_running_node_follows_the_new_primary(self):
        """Point 4: the vault's connection string names both servers
        with target_session_attrs=read-write; the primary is killed under
        load and the standby promoted, and the same `vaern serve` (no
        restart, no new store.conf) finds the new primary by itself:
        /healthz 503 meanwhile and 200 after, every acknowledged create
        found, creates taken again, and one unbroken chain."""
        pid = None

        def remember():
            nonlocal pid
            pid = self.server.proc.pid

        tok, acked, missing = self.failover(before_load=remember,
                                            follow=True)
        self.assertEqual(self.server.proc.pid, pid)
        self.assertIsNone(self.server.proc.poll(), "the node exited")
        self.assertEqual(missing, [], "acknowledged creates lost "
                         "(%d of %d)" % (len(missing), len(acked)))
        self.assertEqual(dbpeek.store_conf(self.data), self.both_hosts())
        r = self.lookup(tok, api.uniq_email("never"))
        self.assertEqual(r.status, 404, r)
        r = self.server.request("POST", "/v1/subjects",
                                api.telenor_customer(), tok)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.server.stop(timeout=DEADLINE), 0)
        self.check_log(self.server, acked)
        self.server = None
        r = cli(self.data, "audit", "verify")
        self.assertEqual(r.rc, 0, r)
        self.assertGreaterEqual(r.json()["entries"], len(acked) + 1)

    def test_GDPR_32_an_asynchronous_standby_loses_acknowledged_creates(self):
        """The other side of the boundary, and proof that the check above
        sees a loss: the same failover with the standby made asynchronous
        and its WAL receiver frozen under the load. The primary then
        acknowledges creates the standby never receives, and they are
        missing after the promotion."""
        psql(self.primary, "ALTER SYSTEM SET synchronous_standby_names = ''")
        psql(self.primary, "SELECT pg_reload_conf()")
        poll("the standby to turn asynchronous", lambda: psql(
            self.primary, "SELECT sync_state FROM pg_stat_replication")
            == "async")
        receiver = []

        def freeze():
            pid = int(poll("the WAL receiver", lambda: psql(
                self.standby, "SELECT pid FROM pg_stat_wal_receiver")))
            os.kill(pid, signal.SIGSTOP)
            receiver.append(pid)
            self.addCleanup(thaw)

        def thaw():
            for pid in receiver:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass

        _, acked, missing = self.failover(before_load=freeze,
                                          before_promote=thaw)
        self.assertTrue(missing, "an asynchronous standby lost nothing")



@unittest.skipIf(not REAL, "PG_WRAP_REAL_BIN is not set")
@unittest.skipUnless(dbpeek.ON_POSTGRESQL,
                     "a PostgreSQL cluster of its own (suite pg)")
class DatabaseDown(unittest.TestCase):
    """Bad input (issue 14): the database goes down under a running node
    and comes back. Its own cluster (the suite's is shared by the other
    tests): `pg-cluster down` stops the server (its socket goes), `up`
    starts it again."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vaern-down-", dir="/tmp")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o755)
        self.cluster = os.path.join(self.tmp, "pg")
        self.data = os.path.join(self.tmp, "vault")
        self.addCleanup(lambda: subprocess.run(
            [PG_CLUSTER, "stop", self.cluster], capture_output=True,
            timeout=DEADLINE))
        self.conninfo = sh([PG_CLUSTER, "start", self.cluster])
        r = cli(self.data, "init", "--policy", api.TELENOR,
                "--store", self.conninfo)
        self.assertEqual(r.rc, 0, r)
        r = cli(self.data, "actor", "add", "--controller", "telenor",
                "--name", "cs", "--role", "customer_service")
        self.assertEqual(r.rc, 0, r)
        self.tok = r.json()["token"]
        self.server = RealServer(self.data,
                                 os.path.join(self.tmp, "serve.log"))
        self.server.start()
        self.addCleanup(self.server.kill)

    def health(self):
        return self.server.request("GET", "/healthz")

    def create(self, doc):
        return self.server.request("POST", "/v1/subjects", doc, self.tok)

    def lookup(self, email):
        return self.server.request("POST", "/v1/subjects/lookup",
                                   {"type": "email", "value": email,
                                    "purpose": "contract"}, self.tok)

    def test_healthz_not_ready_while_the_database_is_down(self):
        """/healthz 200 with the database up; 503 naming the cause within
        a second or two of it going down, and a create refused cleanly
        (5xx, no value in the answer or the log, nothing half-written);
        200 again once it is back, with no restart of the node, and the
        create taken; the trail verifies."""
        r = self.health()
        self.assertEqual((r.status, r.json()), (200, {"status": "ok"}))
        before = api.telenor_customer()
        self.assertEqual(self.create(before).status, 201)

        sh([PG_CLUSTER, "down", self.cluster])
        r = poll("/healthz 503", lambda: (lambda r: r if r.status == 503
                                          else None)(self.health()),
                 deadline=10)
        self.assertEqual(r.json(), {"status": "unavailable",
                                    "reason": "the database is "
                                              "unreachable"})
        self.assertNotIn(self.tmp, r.text)  # no host, no socket path
        lost = api.telenor_customer()
        email = lost["facts"][2]["value"]
        for _ in range(3):  # every worker's connection, not just one
            r = self.create(lost)
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.json()["error"]["message"],
                             "the database is unreachable: try again")
            self.assertNotIn(self.tmp, r.text)  # no socket path, no host
            self.assertNotIn(email, r.text)
            self.assertNotIn("Ole Jensen", r.text)
        self.assertEqual(self.health().status, 503)

        sh([PG_CLUSTER, "up", self.cluster])
        poll("/healthz 200 again", lambda: self.health().status == 200,
             deadline=15)
        self.assertEqual(self.health().json(), {"status": "ok"})
        # Nothing of the refused create was written; it goes in now.
        self.assertEqual(self.lookup(email).status, 404)
        r = poll("a create taken again",
                 lambda: (lambda r: r if r.status == 201 else None)(
                     self.create(lost)), deadline=15)
        sid = r.json()["subject"]
        r = self.lookup(email)
        self.assertEqual((r.status, r.json().get("subject")), (200, sid))
        r = self.lookup(before["facts"][2]["value"])
        self.assertEqual(r.status, 200, r)

        self.assertEqual(self.server.stop(timeout=DEADLINE), 0)
        text = self.server.log()
        self.assertNotIn(email, text)
        self.assertNotIn("Ole Jensen", text)
        for bad in ("Sanitizer", "runtime error:"):
            self.assertNotIn(bad, text)
        r = cli(self.data, "audit", "verify")
        self.assertEqual(r.rc, 0, r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
