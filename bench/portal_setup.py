#!/usr/bin/env python3
"""Set-up of scripts/bench-portal (issue 16): N AURA customers added over
the API, each logged in to the portal once by a one-time code from the
spool; writes the session cookies (one a line) to SESSIONS and the
subject ids to SUBJECTS. Not a test.

usage: portal_setup.py URL DATA_DIR TOKEN N SESSIONS SUBJECTS
"""
import glob
import http.client
import json
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlparse

url, data, token, n, sessions_path, subjects_path = sys.argv[1:7]
n = int(n)
u = urlparse(url)


def request(method, path, body=None, headers=None):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.getheaders(), r.read().decode()
    finally:
        c.close()


def add(i):
    doc = {"purpose": "identification", "facts": [
        {"category": "username", "value": "bench%d" % i},
        {"category": "installation_number", "value": "INST-%d" % i},
        {"category": "contract_number", "value": "K-%d" % i},
        {"category": "email", "value": "bench%d@example.dk" % i},
        {"category": "agreement", "value": "Fiber %d/1000 Mbit" % i,
         "purpose": "self_service"},
        {"category": "product_change", "value": "Fiber 1000 fra %d" % i,
         "purpose": "self_service", "source": "portal"}], "consents": []}
    st, _, body = request("POST", "/v1/subjects", json.dumps(doc),
                          {"Authorization": "Bearer " + token,
                           "Content-Type": "application/json"})
    assert st == 201, body
    return json.loads(body)["subject"]


def cookies(headers):
    out = {}
    for k, v in headers:
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            out[name] = rest.split(";")[0]
    return out


def login(i):
    host = "%s:%d" % (u.hostname, u.port)
    st, h, page = request("GET", "/portal/aura-fiber/login")
    jar = cookies(h)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    hdr = {"Cookie": "; ".join("%s=%s" % kv for kv in jar.items()),
           "Origin": "http://" + host, "Host": host,
           "Content-Type": "application/x-www-form-urlencoded"}
    st, h, _ = request("POST", "/portal/aura-fiber/login",
                       urlencode({"csrf": csrf, "way": "1",
                                  "v1": "bench%d" % i, "proof": "code"}),
                       hdr)
    assert st == 303, st
    jar.update(cookies(h))
    mine = [f for f in glob.glob(os.path.join(data, "outbox",
                                              "*portal-login*.json"))]
    code = None
    for f in mine:
        with open(f) as fh:
            m = json.load(fh)
        if m["to"] == "bench%d@example.dk" % i:
            code = re.search(r"(\d{8})", m["body"]).group(1)
    hdr["Cookie"] = "; ".join("%s=%s" % kv for kv in jar.items())
    st, h, _ = request("POST", "/portal/aura-fiber/code",
                       urlencode({"csrf": csrf, "code": code}), hdr)
    assert st == 303, st
    return cookies(h)["__Host-vaern_session"]


with ThreadPoolExecutor(16) as ex:
    subjects = list(ex.map(add, range(n)))
    sessions = list(ex.map(login, range(n)))
with open(sessions_path, "w") as f:
    f.write("\n".join(sessions) + "\n")
with open(subjects_path, "w") as f:
    f.write("\n".join(subjects) + "\n")
print("%d customers, %d sessions" % (len(subjects), len(sessions)))
