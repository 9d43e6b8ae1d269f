#!/usr/bin/env python3
"""HTTP bulk ingest of the retained-data store (issue 18), beside the CLI
ingest of the same records in the same run.

    bench_traffic_http.py VAERN [--records N] [--batch B] [--connections C]
                          [--cells K]

Makes two fresh data directories with Telenor's shipped policy
(policies/telenor.yaml), K cells and a `mediation` actor (the cleared
ingest role), and writes N NDJSON records (not timed). Then it times

  cli    `vaern traffic import --format ndjson FILE`, the whole command:
         reading, parsing and validating every record, sealing, fsync;
  http   `vaern serve` on a loopback port and POST /v1/traffic of the
         same records in batches of B (each one request, all or nothing),
         C connections at once, from the first byte sent to the last
         answer; then the same records again as binary batches
         (docs/traffic.md) to the same server;

and prints records/s of both. Never part of the test suite
(bench/README.md).
"""
import argparse
import http.client
import json
import os
import resource
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
AS_OF = "2026-02-01"
DAY0 = 1767225600  # 2026-01-01T00:00:00Z
ENV = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}


def luhn_digit(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def run(vaern, data, *args):
    p = subprocess.run([vaern, "--data", data, "--as-of", AS_OF, *args],
                       capture_output=True, env=ENV)
    if p.returncode != 0:
        sys.exit("bench-traffic-http: vaern %s: %s" %
                 (" ".join(args[:2]), p.stderr.decode()[:400]))
    return p.stdout


def prepare(vaern, data, cells_csv):
    run(vaern, data, "init", "--policy",
        os.path.join(ROOT, "policies", "telenor.yaml"))
    run(vaern, data, "traffic", "cells", "--controller", "telenor",
        cells_csv)
    out = run(vaern, data, "actor", "add", "--controller", "telenor",
              "--name", "mediation", "--role", "mediation")
    return json.loads(out)["token"]


def records(n, ncells, subscribers=100000):
    """n records over two days (2026-01-30 and 31), as a mediation
    system's feed around midnight (each batch touches one or two day
    files; a batch spread over D days costs D fsyncs): the NDJSON lines
    and the same records as binary batch records (docs/traffic.md)."""
    imeis = {}
    lines, packed = [], []
    for i in range(n):
        s = (i * 7919) % subscribers
        t = DAY0 + 86400 * 29 + (i * 97) % (86400 * 2)
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        imei = imeis.get(s)
        if imei is None:
            body = "35000000%06d" % s
            imei = imeis[s] = body + luhn_digit(body)
        lac, ci = 100 + (i % ncells) // 1000, i % ncells
        b = (s * 31) % subscribers
        lines.append(
            '{"kind":"call","start":"%s","end":"%s","a":"+452%07d",'
            '"b":"+453%07d","imsi":"23801%010d","imei":"%s",'
            '"start_cell":"238-01-%d-%d"}' % (start, start, s, b, s, imei,
                                              lac, ci))
        packed.append(struct.pack(
            "<BBHIqqQQQQQHHIIHHII", 0, 0x04, 0, 0, t, t, 4520000000 + s,
            4530000000 + b, 0, 238010000000000 + s, int(imei), 238, 1, lac,
            ci, 0, 0, 0, 0))
    return lines, packed


def serve(vaern, data, log):
    proc = subprocess.Popen([vaern, "--data", data, "--as-of", AS_OF,
                             "serve", "--quiet", "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=log, env=ENV)
    line = b""
    deadline = time.monotonic() + 60
    while not line.endswith(b"\n"):
        if time.monotonic() > deadline:
            sys.exit("bench-traffic-http: vaern serve printed no ready line")
        r, _, _ = select.select([proc.stdout], [], [], 1)
        if r:
            b = os.read(proc.stdout.fileno(), 1)
            if not b:
                sys.exit("bench-traffic-http: vaern serve exited")
            line += b
    return proc, int(json.loads(line)["port"])


def cpu_seconds(pid):
    """User + system CPU time of process pid so far (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def post_all(port, token, batches, connections,
             ctype="application/x-ndjson"):
    """POSTs the batches over `connections` keep-alive connections."""
    todo = list(reversed(batches))
    lock = threading.Lock()
    stored = [0]
    failed = []

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        while True:
            with lock:
                if not todo:
                    break
                body = todo.pop()
            conn.request("POST", "/v1/traffic", body=body,
                         headers={"Authorization": "Bearer " + token,
                                  "Content-Type": ctype})
            r = conn.getresponse()
            answer = r.read()
            if r.status != 200:
                failed.append((r.status, answer[:300]))
                break
            with lock:
                stored[0] += json.loads(answer)["stored"]
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    if failed:
        sys.exit("bench-traffic-http: POST /v1/traffic: %r" % (failed[0],))
    return stored[0], elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vaern")
    ap.add_argument("--records", type=int, default=1000000)
    ap.add_argument("--batch", type=int, default=200000)
    ap.add_argument("--connections", type=int, default=2)
    ap.add_argument("--cells", type=int, default=20000)
    o = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vaern-bench-traffic-http-")
    try:
        cells = os.path.join(tmp, "cells.csv")
        with open(cells, "w") as f:
            f.write("mcc,mnc,lac,ci,lat,lon,azimuth\n")
            for i in range(o.cells):
                f.write("238,01,%d,%d,55.%06d,12.%06d,%d\n" %
                        (100 + i // 1000, i, i % 1000000,
                         (i * 7) % 1000000, i % 360))
        lines, packed = records(o.records, o.cells)
        path = os.path.join(tmp, "records.ndjson")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        batches = [("\n".join(lines[i:i + o.batch]) + "\n").encode()
                   for i in range(0, len(lines), o.batch)]
        bin_batches = [b"VTRBIN01" + b"".join(packed[i:i + o.batch])
                       for i in range(0, len(packed), o.batch)]
        del lines, packed

        cli_dir = os.path.join(tmp, "cli")
        prepare(o.vaern, cli_dir, cells)
        c0 = children_cpu()
        t0 = time.monotonic()
        out = run(o.vaern, cli_dir, "traffic", "import", "--controller",
                  "telenor", "--format", "ndjson", path)
        t_cli = time.monotonic() - t0
        cpu_cli = children_cpu() - c0
        n_cli = json.loads(out)["stored"]

        http_dir = os.path.join(tmp, "http")
        token = prepare(o.vaern, http_dir, cells)
        with open(os.path.join(tmp, "serve.log"), "ab") as log:
            proc, port = serve(o.vaern, http_dir, log)
            try:
                c0 = cpu_seconds(proc.pid)
                n_http, t_http = post_all(port, token, batches,
                                          o.connections)
                cpu_http = cpu_seconds(proc.pid) - c0
                # The same records again as binary batches.
                c0 = cpu_seconds(proc.pid)
                n_bin, t_bin = post_all(
                    port, token, bin_batches, o.connections,
                    "application/vnd.vaern.traffic-batch")
                cpu_bin = cpu_seconds(proc.pid) - c0
            finally:
                proc.terminate()
                proc.wait(timeout=60)
                proc.stdout.close()
        if n_http != o.records or n_cli != o.records or \
                n_bin != o.records:
            sys.exit("bench-traffic-http: stored %d over HTTP, %d by the "
                     "CLI, of %d" % (n_http, n_cli, o.records))
        mb = os.path.getsize(path) / 1e6
        print("HTTP bulk ingest: %d NDJSON records (%.0f MB), batches of "
              "%d, %d connections" % (o.records, mb, o.batch,
                                      o.connections))
        print("%-28s %14.0f %14.0f  (CLI: vaern traffic import, same "
              "records)" % ("HTTP ingest records/s", n_http / t_http,
                            n_cli / t_cli))
        # The steadier figure on a shared machine: CPU time per record
        # (the server's, all threads; the CLI process's).
        print("%-28s %11.2f us %11.2f us" %
              ("CPU per record", 1e6 * cpu_http / n_http,
               1e6 * cpu_cli / n_cli))
        print("%-28s %14.0f %14.0f  (binary batches over HTTP, same "
              "records; NDJSON over HTTP)" %
              ("HTTP binary records/s", n_bin / t_bin, n_http / t_http))
        print("%-28s %11.2f us %11.2f us" %
              ("CPU per record", 1e6 * cpu_bin / n_bin,
               1e6 * cpu_http / n_http))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
