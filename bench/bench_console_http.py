#!/usr/bin/env python3
"""The staff console's queue page over HTTP (issue 20, "Speed"): the
page GET /console/bench/requests served by `vaern serve` to a logged-in
staff session, beside the API's list of the same requests (GET
/v1/requests with a bearer token) from the same server in the same run.
Requests one after another on loopback (a loop, not wrk: one page of
10,000 rows is the figure, not the throughput); the medians of R runs,
time to the last byte.

usage: bench_console_http.py VAERN DATA_DIR [RUNS]
DATA_DIR is the one vaern-bench-console filled (--dir): controller
"bench", its clock at 2026-03-02T00:00:00Z, which the server keeps too.
Not a test: it prints figures, it never fails on one.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import struct
import subprocess
import sys
import time
import urllib.parse

T0 = 1772409600  # 2026-03-02T00:00:00Z, the bench's clock
AS_OF = "2026-03-02T00:00:00Z"
PASSWORD = "bench console password"
GOAL_MS = 50.0


def totp(secret, t):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", t // 30), hashlib.sha1).digest()
    off = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0]
                      & 0x7FFFFFFF) % 1000000)


def vaern(binary, data, *args, stdin=None):
    p = subprocess.run([binary, "--data", data, *args], input=stdin,
                       capture_output=True, env=dict(os.environ,
                                                     VAERN_AS_OF=AS_OF))
    if p.returncode != 0:
        sys.exit("vaern %s: %s" % (" ".join(args), p.stderr.decode()))
    return json.loads(p.stdout)


def fetch(port, method, path, headers, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    t = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    ms = (time.perf_counter() - t) * 1e3
    conn.close()
    return r, data, ms


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    binary, data = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 9
    n = os.getpid()
    staff = vaern(binary, data, "actor", "add", "--controller", "bench",
                  "--name", "console%d" % n, "--role", "staff", "--console",
                  stdin=(PASSWORD + "\n").encode())
    secret = urllib.parse.parse_qs(urllib.parse.urlparse(
        staff["otpauth_uri"]).query)["secret"][0]
    token = vaern(binary, data, "actor", "add", "--controller", "bench",
                  "--name", "api%d" % n, "--role", "staff")["token"]
    server = subprocess.Popen(
        [binary, "--data", data, "serve", "--listen", "127.0.0.1:0",
         "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env=dict(os.environ, VAERN_AS_OF=AS_OF))
    try:
        port = int(re.search(rb'"port": (\d+)',
                             server.stdout.readline()).group(1))
        host = {"Host": "127.0.0.1:%d" % port}
        r, page, _ = fetch(port, "GET", "/console/bench/login", host)
        pre = re.search(r"__Host-vaern_console_pre=([^;]+)",
                        r.getheader("Set-Cookie")).group(1)
        csrf = re.search(rb'name="csrf" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({
            "csrf": csrf.decode(), "name": "console%d" % n,
            "password": PASSWORD, "code": totp(secret, T0)})
        r, _, _ = fetch(port, "POST", "/console/bench/login", dict(
            host, Cookie="__Host-vaern_console_pre=" + pre,
            **{"Content-Type": "application/x-www-form-urlencoded"}), body)
        if r.status != 303:
            sys.exit("console login: HTTP %d" % r.status)
        cookie = re.search(r"__Host-vaern_console=([^;]+)",
                           r.getheader("Set-Cookie")).group(1)
        page_h = dict(host, Cookie="__Host-vaern_console=" + cookie)
        api_h = dict(host, Authorization="Bearer " + token)
        t_page, t_api = [], []
        for _ in range(runs):
            r, body, ms = fetch(port, "GET", "/console/bench/requests",
                                page_h)
            if r.status != 200:
                sys.exit("queue page: HTTP %d" % r.status)
            t_page.append(ms)
            page_len, rows = len(body), body.count(b"data-days-left")
            r, body, ms = fetch(port, "GET", "/v1/requests", api_h)
            if r.status != 200:
                sys.exit("API list: HTTP %d" % r.status)
            t_api.append(ms)
            api_len = len(body)
            n_api = len(json.loads(body)["requests"])
    finally:
        server.terminate()
        server.wait()
    print("over HTTP (loopback, one request at a time, median of %d):"
          % runs)
    print("                               wall ms      bytes   requests")
    print("console queue page (session): %8.1f  %9d  %9d   goal < %.0f "
          "ms: %s" % (median(t_page), page_len, rows, GOAL_MS,
                      "met" if median(t_page) < GOAL_MS else "MISSED"))
    print("API list GET /v1/requests:    %8.1f  %9d  %9d   baseline"
          % (median(t_api), api_len, n_api))


if __name__ == "__main__":
    main()
