#!/usr/bin/env python3
"""Deterministic counts of the mixed load (issue 12 point 6): what the
server's threads do per request, not how fast, so that two binaries can
be compared on a busy machine.

    bench/mixed_counts.py [--creators C] [--creates N] [--readers R]
                          [--reads M] LABEL=VAERN [LABEL=VAERN ...]

For each binary (the first is the baseline): a fresh data directory with
policies/telenor.yaml, `vaern serve` under `strace -f -y` (fsync,
fdatasync, pwrite64, clock_nanosleep), and three phases on it, each C
clients x N creates and/or R clients x M reads of the facts of subjects
created before (a keep-alive connection per client, Python's http.client):

  creates alone, reads alone, reads and creates at once.

Per phase it prints, from the strace lines stamped inside the phase:
syncs (fsync + fdatasync) per create and per request, and by file; copies
of a log into its database (checkpoints: a sync of vaern.db, keystore.db
or audit.db itself); starts of a log (its 32-byte header written at
offset 0: the first write after a restart); SQLite's busy-handler sleeps
(clock_nanosleep: a thread waiting for a lock; the server sleeps
nowhere else while serving), by thread name; and the largest size each
log reached.
Standard library and strace only. Not a test: it never fails on a figure.
"""
import argparse
import http.client
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
POLICY = os.path.join(ROOT, "policies", "telenor.yaml")
ENV = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}
FILES = ("vaern.db", "keystore.db", "audit.db")
LINE = re.compile(r"^\s*(\d+)\s+(\d+\.\d+)\s+(\w+)\((.*)$")
FD = re.compile(r"^\d+<([^>]*)>")
HEADER = re.compile(r", 32, 0(\) = 32| <unfinished \.\.\.>)$")


def vaern(binary, data, *args):
    p = subprocess.run([binary, "--data", data, *args], env=ENV,
                       capture_output=True, timeout=60)
    if p.returncode != 0:
        sys.exit("%s %s: %s" % (binary, " ".join(args), p.stderr[-500:]))
    return p.stdout


def body(i, run):
    n = run * 1000000 + i
    return json.dumps({"purpose": "contract", "source": "web_form",
                       "facts": [
                           {"category": "name", "value": "Bench Person"},
                           {"category": "address",
                            "value": "Benchvej 1, 8000 Aarhus C"},
                           {"category": "email",
                            "value": "p%d@bench.example" % n},
                           {"category": "phone",
                            "value": "+45%08d" % (20000000 + n)},
                           {"category": "contract_type",
                            "value": "postpaid 100 GB"}]})


class Load:
    """Clients, each on its own connection; returns the failures."""

    def __init__(self, port, token):
        self.port, self.token = port, token
        self.failures = []
        self.ids = []
        self.lock = threading.Lock()

    def client(self, n, request, ok):
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=60)
        try:
            for i in range(n):
                conn.request(*request(i))
                r = conn.getresponse()
                data = r.read()
                if r.status != ok:
                    with self.lock:
                        self.failures.append(r.status)
                elif ok == 201:
                    with self.lock:
                        self.ids.append(json.loads(data)["subject"])
        except OSError as e:
            with self.lock:
                self.failures.append(repr(e))
        finally:
            conn.close()

    def creates(self, clients, n, run):
        head = {"Authorization": "Bearer " + self.token,
                "Content-Type": "application/json"}
        return [threading.Thread(
            target=self.client,
            args=(n, lambda i, c=c: ("POST", "/v1/subjects",
                                     body(c * 100000 + i, run), head), 201))
            for c in range(clients)]

    def reads(self, clients, n, ids):
        head = {"Authorization": "Bearer " + self.token}
        return [threading.Thread(
            target=self.client,
            args=(n, lambda i, c=c: (
                "GET", "/v1/subjects/%s/facts?purpose=contract"
                % ids[(c * 7919 + i) % len(ids)], None, head), 200))
            for c in range(clients)]


def run_phase(threads, data):
    """Runs the threads; returns (start, end, largest log sizes)."""
    largest = {f: 0 for f in FILES}
    t0 = time.time()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        for f in FILES:
            try:
                largest[f] = max(largest[f], os.path.getsize(
                    os.path.join(data, f + "-wal")))
            except OSError:
                pass
        time.sleep(0.01)
    for t in threads:
        t.join()
    return t0, time.time(), largest


def traced(pid):
    """The pid of the process strace (pid) runs, or None."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as fp:
            return int(fp.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def thread_names(child):
    """tid -> name of every thread of process child."""
    names = {}
    try:
        for tid in os.listdir("/proc/%d/task" % child):
            with open("/proc/%d/task/%s/comm" % (child, tid)) as fp:
                names[tid] = fp.read().strip()
    except OSError:
        pass
    return names


def count(trace, t0, t1, names):
    """Counts of the strace lines stamped in [t0, t1]."""
    c = {"sync": {}, "ckpt": {}, "start": {}, "sleeps": {}}
    with open(trace, errors="replace") as fp:
        for line in fp:
            m = LINE.match(line)
            if m is None or not t0 <= float(m.group(2)) <= t1:
                continue
            call, rest = m.group(3), m.group(4)
            if call == "clock_nanosleep":
                who = names.get(m.group(1), "other")
                c["sleeps"][who] = c["sleeps"].get(who, 0) + 1
                continue
            fd = FD.match(rest)
            name = os.path.basename(fd.group(1)) if fd else "?"
            if call in ("fsync", "fdatasync"):
                c["sync"][name] = c["sync"].get(name, 0) + 1
                if name in FILES:
                    c["ckpt"][name] = c["ckpt"].get(name, 0) + 1
            elif call == "pwrite64" and name.endswith("-wal") and \
                    HEADER.search(line.rstrip()):
                c["start"][name] = c["start"].get(name, 0) + 1
    return c


def measure(label, binary, args, tmp):
    data = os.path.join(tmp, label)
    vaern(binary, data, "init", "--policy", POLICY)
    token = json.loads(vaern(binary, data, "actor", "add", "--controller",
                             "telenor", "--name", "bench", "--role",
                             "customer_service"))["token"]
    trace = os.path.join(tmp, label + ".strace")
    log = open(os.path.join(tmp, label + ".log"), "wb")
    proc = subprocess.Popen(
        ["strace", "-f", "-y", "-ttt", "-qq", "--seccomp-bpf", "-o", trace,
         "-e", "trace=fsync,fdatasync,pwrite64,clock_nanosleep",
         binary, "--data", data, "serve", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=log, env=ENV)
    line = b""
    deadline = time.monotonic() + 30
    while not line.endswith(b"\n") and time.monotonic() < deadline:
        if select.select([proc.stdout], [], [], 1)[0]:
            b = os.read(proc.stdout.fileno(), 1)
            if not b:
                break
            line += b
    if not line.endswith(b"\n"):
        proc.kill()
        sys.exit("%s: vaern serve printed no ready line" % label)
    port = int(json.loads(line)["port"])
    # Signals go to vaern itself: strace, signalled, would detach and
    # leave the server running.
    child = traced(proc.pid)
    if child is None:
        proc.kill()
        sys.exit("%s: vaern serve not found under strace" % label)
    load = Load(port, token)
    results = []
    try:
        # The subjects the reads read, not counted.
        run_phase(load.creates(4, 50, 0), data)
        ids = list(load.ids)
        phases = (
            ("creates alone", lambda: load.creates(
                args.creators, args.creates, 1), args.creators * args.creates,
             0),
            ("reads alone", lambda: load.reads(args.readers, args.reads, ids),
             0, args.readers * args.reads),
            ("reads and creates at once", lambda: load.reads(
                args.readers, args.reads, ids) + load.creates(
                args.creators, args.creates, 2),
             args.creators * args.creates, args.readers * args.reads),
        )
        for name, threads, creates, reads in phases:
            t0, t1, largest = run_phase(threads(), data)
            results.append((name, creates, reads, t0, t1, largest))
        names = thread_names(child)
    finally:
        os.kill(child, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.kill(child, signal.SIGKILL)
            proc.kill()
            proc.wait()
        log.close()
    if load.failures:
        sys.exit("%s: %d requests failed: %r" % (label, len(load.failures),
                                                 load.failures[:5]))
    out = []
    for name, creates, reads, t0, t1, largest in results:
        out.append((name, creates, reads, t1 - t0, largest,
                    count(trace, t0, t1, names)))
    vaern(binary, data, "audit", "verify")
    return out


def per(n, d):
    return "%.3f" % (n / d) if d else "-"


def report(label, rows):
    print("== %s" % label)
    for name, creates, reads, secs, largest, c in rows:
        syncs = sum(c["sync"].values())
        ckpts = sum(c["ckpt"].values())
        starts = sum(c["start"].values())
        print("  %s: %d creates, %d reads in %.1f s" % (name, creates, reads,
                                                       secs))
        print("    syncs %d: %s per create, %s per request; by file %s"
              % (syncs, per(syncs, creates), per(syncs, creates + reads),
                 dict(sorted(c["sync"].items()))))
        print("    checkpoints (syncs of the database files) %d: %s"
              % (ckpts, dict(sorted(c["ckpt"].items()))))
        print("    log starts %d: %s" % (starts,
                                         dict(sorted(c["start"].items()))))
        sleeps = sum(c["sleeps"].values())
        print("    busy-handler sleeps %d (%s per request): %s"
              % (sleeps, per(sleeps, creates + reads),
                 dict(sorted(c["sleeps"].items()))))
        print("    largest log, MiB: %s" % ", ".join(
            "%s %.1f" % (f, largest[f] / 1048576) for f in FILES))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--creators", type=int, default=8)
    ap.add_argument("--creates", type=int, default=150)
    ap.add_argument("--readers", type=int, default=8)
    ap.add_argument("--reads", type=int, default=300)
    ap.add_argument("binaries", nargs="+", metavar="LABEL=VAERN")
    args = ap.parse_args()
    if shutil.which("strace") is None:
        sys.exit("strace is needed (scripts/deps strace)")
    tmp = tempfile.mkdtemp(prefix="vaern-mixed-counts-")
    try:
        for spec in args.binaries:
            label, _, binary = spec.partition("=")
            if not binary or not label.isidentifier():
                sys.exit("LABEL=VAERN expected, got %r" % spec)
            report(label, measure(label, os.path.abspath(binary), args,
                                  tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
