#!/usr/bin/env python3
"""Black-box tests of the telecom retained-data store (issue 18) through
the real vaern binary, on the shipped Telenor policy (policies/telenor.yaml):

TEL-CAT-2 / TEL-LOG-1 ingest: CSV and NDJSON records validated (E.164,
IMSI, IMEI, ordered times, known cells), bad records named by line and
field and never by value, all or nothing per batch unless --skip-bad;
sealed by day (no identifier in clear on disk, a day file does not open
under another master key).
TEL-LOG-1 one year: a day is deleted whole by the first sweep after it is
a full year old, and not a second earlier; the plan shows the days.
TEL-LOG-2 cleared roles only: the DPO, customer service, the ingest role
and a cleared role of another controller get refused (CLI exit 1, HTTP
403), audited.
TEL-LOG-3 court order: authority, reference and case are required; one
identifier or an area over at most a year; the delivery (JSON and XML,
ETSI TS 102 657 shape) carries a SHA-256 payload digest signed with
Ed25519, checked by `vaern traffic verify`; audited with the reference,
the count and the digest.
"""
import hashlib
import http.client
import json
import os
import re
import select
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import time
import unittest

import dbpeek

VAERN = os.environ.get("VAERN_BIN")
ROOT = os.environ.get("VAERN_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
POL = os.path.join(ROOT, "policies")
TIMEOUT = 60
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}

CELLS = """mcc,mnc,lac,ci,lat,lon,azimuth
238,01,100,1001,55.676100,12.568300,120
238,01,100,1002,55.680000,12.570000,
238,02,200,2001,56.150000,10.200000,90
"""
HEADER = "kind,start,end,a,b,c,imsi,imei,start_cell,end_cell\n"
A = "+4512345678"          # the subscriber under the court order
IMSI = "238010000000001"
IMEI = "490154203237518"   # Luhn-valid
IMEI2 = "356938035643809"  # Luhn-valid
ROWS = [
    # the day 2025-03-01, its first and its last second
    "call,2025-03-01T00:00:00Z,2025-03-01T00:05:00Z,%s,+4587654321,,%s,%s,"
    "238-01-100-1001,238-01-100-1002" % (A, IMSI, IMEI),
    "sms,2025-03-01T23:59:59Z,,%s,+4511111111,,%s,%s,238-01-100-1001," % (
        A, IMSI, IMEI),
    # the next day, another subscriber calling A, forwarded
    "mms,2025-03-02T00:00:00Z,,+4599999999,%s,+4522222222,238020000000002,"
    "%s,238-02-200-2001," % (A, IMEI2),
]
COURT = ["--authority", "NSK", "--reference", "RET-2025-17",
         "--case", "C-99"]

# ROWS as the compact binary batch (docs/traffic.md).
BIN_ROWS = [
    dict(kind=0, start=1740787200, end=1740787500, a=4512345678,
         b=4587654321, imsi=int(IMSI), imei=int(IMEI),
         start_cell=(238, 1, 100, 1001), end_cell=(238, 1, 100, 1002)),
    dict(kind=1, start=1740873599, end=1740873599, a=4512345678,
         b=4511111111, imsi=int(IMSI), imei=int(IMEI),
         start_cell=(238, 1, 100, 1001)),
    dict(kind=2, start=1740873600, end=1740873600, a=4599999999,
         b=4512345678, c=4522222222, imsi=238020000000002,
         imei=int(IMEI2), start_cell=(238, 2, 200, 2001)),
]


def binary_batch(rows):
    """The header and one 88-byte little-endian record per row."""
    out = [b"VTRBIN01"]
    for r in rows:
        flags = (0x01 if r.get("c") else 0) | \
            (0x02 if r.get("end_cell") else 0) | \
            (0x04 if len(str(r["imsi"])) == 15 else 0)
        end_cell = r.get("end_cell") or (0, 0, 0, 0)
        out.append(struct.pack("<BBHIqqQQQQQHHIIHHII", r["kind"], flags, 0,
                               0, r["start"], r["end"], r["a"], r["b"],
                               r.get("c", 0), r["imsi"], r["imei"],
                               *r["start_cell"], *end_cell))
    return b"".join(out)


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


class Base(unittest.TestCase):
    """A data directory with Telenor's policy, its cells and one actor
    per role."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-trf-")
        self.addCleanup(self._tmp.cleanup)
        self.tmp = self._tmp.name
        self.dir = os.path.join(self.tmp, "data")
        r = self.vaern("init", "--policy", os.path.join(POL, "telenor.yaml"))
        self.assertEqual(r.rc, EXIT_OK, r)
        cells = self.write("cells.csv", CELLS)
        r = self.vaern("traffic", "cells", "--controller", "telenor", cells)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.tokens = {}
        for name, role in (("officer", "logging_officer"), ("dpo", "dpo"),
                           ("cs", "customer_service"),
                           ("mediation", "mediation")):
            r = self.vaern("actor", "add", "--controller", "telenor",
                           "--name", name, "--role", role)
            self.assertEqual(r.rc, EXIT_OK, r)
            self.tokens[name] = r.json()["token"]

    # ---- helpers ----------------------------------------------------------

    def vaern(self, *args, stdin=None, as_of=None, data=None):
        pre = ["--data", data or self.dir]
        if as_of is not None:
            pre += ["--as-of", as_of]
        p = subprocess.run([VAERN, *pre, *args], input=stdin,
                           capture_output=True, env=BASE_ENV,
                           timeout=TIMEOUT)
        return Result(p)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def day_files(self, data=None):
        d = os.path.join(data or self.dir, "traffic", "telenor")
        return sorted(f for f in os.listdir(d) if f.endswith(".day"))

    def imp(self, rows, as_of="2025-04-01", extra=(), name="rec.csv"):
        path = self.write(name, HEADER + "\n".join(rows) + "\n")
        return self.vaern("traffic", "import", "--controller", "telenor",
                          *extra, path, as_of=as_of)

    def query(self, *target, token="officer", as_of="2025-04-01",
              court=COURT, frm="2025-03-01T00:00:00Z",
              to="2025-03-03T00:00:00Z", fmt=None, data=None):
        args = ["traffic", "query", "--controller", "telenor", "--token",
                self.tokens.get(token, token), *court, "--from", frm,
                "--to", to, *target]
        if fmt:
            args += ["--format", fmt]
        return self.vaern(*args, as_of=as_of, data=data)

    def audit(self):
        r = self.vaern("audit", "show")
        self.assertEqual(r.rc, EXIT_OK, r)
        return r.json()

    def plan(self, as_of):
        r = self.vaern("traffic", "plan", "--controller", "telenor",
                       as_of=as_of)
        self.assertEqual(r.rc, EXIT_OK, r)
        return {d["date"]: d for d in r.json()["days"]}

    @staticmethod
    def records(delivery):
        return (delivery["RDMessage"]["rdPayload"]["responsePayload"]
                ["responseRecords"]["telephonyRecords"])



@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class TrafficTest(Base):
    # ---- TEL-CAT-2, TEL-LOG-1: ingest ---------------------------------------

    def test_TEL_LOG_1_logging_data_is_no_fact_of_a_person(self):
        doc = {"purpose": "data_retention_logging", "source": "network",
               "facts": [{"category": "logging_data",
                          "value": "Mast 4711 Odder"}]}
        r = self.vaern("subject", "add", "--controller", "telenor",
                       "--json", "-", stdin=json.dumps(doc).encode())
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("category 'logging_data' is kept in the traffic store",
                      r.err)
        self.assertNotIn("Mast 4711", r.err)

    def test_TEL_CAT_2_TEL_LOG_1_csv_import_stored_by_day(self):
        r = self.imp(ROWS)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json(), {"stored": 3, "skipped": 0})
        self.assertEqual(self.day_files(),
                         ["2025-03-01.day", "2025-03-02.day"])
        plan = self.plan("2025-04-01")
        self.assertEqual(plan["2025-03-01"]["records"], 2)
        self.assertEqual(plan["2025-03-02"]["records"], 1)
        # Records are not subjects: nothing in the vault.
        db = dbpeek.connect(os.path.join(self.dir, "vaern.db"))
        try:
            n = db.execute("SELECT count(*) FROM subject").fetchone()[0]
        finally:
            db.close()
        self.assertEqual(n, 0)
        # The ingest is audited, with counts only.
        e = [x for x in self.audit() if x["action"] == "traffic-ingest"]
        self.assertEqual(len(e), 1)
        self.assertIn("3 records stored", e[0]["reason"])
        self.assertNotIn("4512345678", json.dumps(self.audit()))

    def test_TEL_CAT_2_ndjson_import(self):
        keys = HEADER.strip().split(",")
        lines = []
        for row in ROWS:
            d = dict(zip(keys, row.split(",")))
            lines.append(json.dumps({k: v for k, v in d.items() if v}))
        path = self.write("rec.ndjson", "\n".join(lines) + "\n")
        r = self.vaern("traffic", "import", "--controller", "telenor",
                       path, as_of="2025-04-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["stored"], 3)
        r = self.query("--msisdn", A)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(len(self.records(r.json())), 3)

    def test_TEL_CAT_2_ndjson_unknown_key_or_repeated_key_refused(self):
        keys = HEADER.strip().split(",")
        d = {k: v for k, v in zip(keys, ROWS[0].split(",")) if v}
        lines = [json.dumps(d), json.dumps(dict(d, note="x")),
                 json.dumps(d)[:-1] + ', "kind": "sms"}',
                 json.dumps(d).replace('"call"', '"c\\u0061ll"')]
        path = self.write("rec.ndjson", "\n".join(lines) + "\n")
        r = self.vaern("traffic", "import", "--controller", "telenor",
                       path, as_of="2025-04-01")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("rec.ndjson:2: line: unknown key", r.err)
        self.assertIn("rec.ndjson:3: line: not a JSON object", r.err)
        self.assertNotIn("rec.ndjson:4", r.err)  # an escape is JSON
        self.assertEqual(self.day_files(), [])

    # ---- the compact binary batch (docs/traffic.md) ---------------------------

    def test_TEL_CAT_2_binary_batch_import(self):
        path = self.write_bin("rec.vtrb", binary_batch(BIN_ROWS))
        r = self.vaern("traffic", "import", "--controller", "telenor",
                       path, as_of="2025-04-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["stored"], 3)
        self.assertEqual(self.day_files(),
                         ["2025-03-01.day", "2025-03-02.day"])
        r = self.query("--msisdn", A)
        self.assertEqual(r.rc, EXIT_OK, r)
        recs = self.records(r.json())
        self.assertEqual([x["eventInformation"] for x in recs],
                         ["call", "sms", "mms"])
        # The same records as the CSV rows: one delivery of each import.
        other = os.path.join(self.tmp, "csv")
        self.assertEqual(self.vaern("init", "--policy", os.path.join(
            POL, "telenor.yaml"), data=other).rc, EXIT_OK)
        self.assertEqual(self.vaern("traffic", "cells", "--controller",
                                    "telenor", os.path.join(self.tmp,
                                                            "cells.csv"),
                                    data=other).rc, EXIT_OK)
        path = self.write("rec.csv", HEADER + "\n".join(ROWS) + "\n")
        self.assertEqual(self.vaern("traffic", "import", "--controller",
                                    "telenor", path, as_of="2025-04-01",
                                    data=other).rc, EXIT_OK)
        tok = self.vaern("actor", "add", "--controller", "telenor",
                         "--name", "o2", "--role", "logging_officer",
                         data=other).json()["token"]
        r2 = self.query("--msisdn", A, token=tok, data=other)
        self.assertEqual(self.records(r2.json()), recs)

    def test_TEL_CAT_2_binary_batch_bad_input_named_by_record(self):
        good = binary_batch(BIN_ROWS)
        # Truncated: refused whole, naming the record cut short.
        for extra in ((), ("--skip-bad",)):
            path = self.write_bin("cut.vtrb", good[:-10])
            r = self.vaern("traffic", "import", "--controller", "telenor",
                           *extra, path, as_of="2025-04-01")
            self.assertEqual(r.rc, EXIT_REFUSED, r)
            self.assertIn("record 3: cut short (78 of 88 bytes)", r.err)
            self.assertEqual(self.day_files(), [])
        path = self.write_bin("hdr.vtrb", b"VTRBIN02" + good[8:])
        r = self.vaern("traffic", "import", "--controller", "telenor",
                       path, as_of="2025-04-01")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("header: not a binary traffic batch", r.err)
        # A bad IMEI (Luhn) in record 2, an unknown cell in record 3.
        rows = [dict(BIN_ROWS[0]), dict(BIN_ROWS[1], imei=490154203237517),
                dict(BIN_ROWS[2], start_cell=(238, 2, 200, 9999))]
        path = self.write_bin("bad.vtrb", binary_batch(rows))
        r = self.vaern("traffic", "import", "--controller", "telenor",
                       path, as_of="2025-04-01")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("bad.vtrb: record 2: imei: not an IMEI", r.err)
        self.assertIn("bad.vtrb: record 3: start_cell: not a known cell",
                      r.err)
        self.assertNotIn("490154203237517", r.err)
        self.assertEqual(self.day_files(), [])
        r = self.vaern("traffic", "import", "--controller", "telenor",
                       "--skip-bad", path, as_of="2025-04-01")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json(), {"stored": 1, "skipped": 2})

    def write_bin(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_TEL_CAT_2_bad_records_named_by_line_nothing_stored(self):
        good = ROWS[0]
        cases = [
            (good.replace(A, "4512345678"), "a: not an E.164 number"),
            (good.replace(A, "+0512345678"), "a: not an E.164 number"),
            (good.replace("+4587654321", "+45876x4321"),
             "b: not an E.164 number"),
            (good.replace(IMSI, "23801000000"), "imsi: not an IMSI"),
            (good.replace(IMEI, "490154203237519"), "imei: not an IMEI"),
            (good.replace("238-01-100-1002", "238-01-100-9999"),
             "end_cell: not a known cell"),
            (good.replace("238-01-100-1001", "nowhere"),
             "start_cell: not a cell id"),
            (good.replace("2025-03-01T00:05:00Z", "2025-02-28T23:00:00Z"),
             "end: before start"),
            (good.replace("call,", "fax,"), "kind: not one of"),
            (good + ",extra", "line: must have 10 fields"),
        ]
        for row, want in cases:
            with self.subTest(want=want):
                r = self.imp([ROWS[1], row])
                self.assertEqual(r.rc, EXIT_REFUSED, r)
                self.assertIn("rec.csv:3: " + want, r.err)
                self.assertIn("nothing stored", r.err)
                # Never a value in the message.
                for value in (A, "4512345678", IMSI, IMEI, "+4587654321"):
                    self.assertNotIn(value, r.err)
                self.assertEqual(self.day_files(), [])
        self.assertEqual([x for x in self.audit()
                          if x["action"] == "traffic-ingest"], [])

    def test_TEL_CAT_2_times_in_the_future_refused(self):
        # The day before the record ends is the future; the day after is not.
        r = self.imp(ROWS[:1], as_of="2025-03-01T00:04:59Z")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("rec.csv:2: end: in the future", r.err)
        self.assertEqual(self.day_files(), [])
        r = self.imp(ROWS[:1], as_of="2025-03-01T00:05:00Z")
        self.assertEqual(r.rc, EXIT_OK, r)

    def test_TEL_CAT_2_bad_header_and_skip_bad(self):
        path = self.write("h.csv", "kind,start\n" + ROWS[0] + "\n")
        r = self.vaern("traffic", "import", "--controller", "telenor", path,
                       as_of="2025-04-01")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("h.csv:1: header", r.err)
        r = self.imp([ROWS[0], ROWS[1].replace(IMEI, "1"), ROWS[2]],
                     extra=("--skip-bad",))
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json(), {"stored": 2, "skipped": 1})
        self.assertIn("rec.csv:3: imei", r.err)

    # ---- sealed by day ------------------------------------------------------

    def test_TEL_LOG_1_sealed_by_day_nothing_in_clear(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        d = os.path.join(self.dir, "traffic", "telenor")
        for name in self.day_files():
            with open(os.path.join(d, name), "rb") as f:
                raw = f.read()
            for value in ("4512345678", IMSI, IMEI, "4587654321"):
                self.assertNotIn(value.encode(), raw)
                self.assertNotIn(int(value).to_bytes(7, "little"), raw)
            # Nor as the 50-bit field of a bit-packed record (layout V3)
            # at any bit offset: the bytes its bits fill alone.
            for value in (IMSI, IMEI):
                for shift in range(8):
                    packed = (int(value) << shift).to_bytes(8, "little")
                    self.assertNotIn(packed[1:6], raw)
        # Another installation (another master key) cannot open the day.
        other = os.path.join(self.tmp, "other")
        r = self.vaern("init", "--policy",
                       os.path.join(POL, "telenor.yaml"), data=other)
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.vaern("actor", "add", "--controller", "telenor", "--name",
                       "o2", "--role", "logging_officer", data=other)
        tok = r.json()["token"]
        r = self.vaern("traffic", "cells", "--controller", "telenor",
                       os.path.join(self.tmp, "cells.csv"), data=other)
        self.assertEqual(r.rc, EXIT_OK, r)
        od = os.path.join(other, "traffic", "telenor")
        for name in self.day_files():
            with open(os.path.join(d, name), "rb") as f, \
                    open(os.path.join(od, name), "wb") as g:
                g.write(f.read())
        r = self.query("--msisdn", A, token=tok, data=other)
        self.assertNotEqual(r.rc, EXIT_OK, r)
        self.assertIn("does not open", r.err)

    def test_TEL_LOG_3_days_outlive_a_master_key_rotation(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        before = self.query("--msisdn", A)
        self.assertEqual(before.rc, EXIT_OK, before)
        r = self.vaern("key", "rotate", "--quiet")
        self.assertEqual(r.rc, EXIT_OK, r)
        after = self.query("--msisdn", A)
        self.assertEqual(after.rc, EXIT_OK, after)
        self.assertEqual(self.records(after.json()),
                         self.records(before.json()))
        # The same signing key: the old delivery still verifies.
        path = self.write("before.json", before.out)
        v = self.vaern("traffic", "verify", "--controller", "telenor", path)
        self.assertEqual(v.rc, EXIT_OK, v)

    # ---- TEL-LOG-1: exactly one year ----------------------------------------

    def test_TEL_LOG_1_day_kept_until_a_full_year_old(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        # The day 2025-03-01 ends at 2025-03-02T00:00; a full year later
        # is 2026-03-02T00:00.
        plan = self.plan("2026-03-01T23:59:59Z")
        self.assertFalse(plan["2025-03-01"]["due"])
        self.assertEqual(plan["2025-03-01"]["deleted_from"], "2026-03-02")
        r = self.vaern("traffic", "sweep", "--controller", "telenor",
                       as_of="2026-03-01T23:59:59Z")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json(), {"days": 0, "records": 0})
        self.assertEqual(len(self.day_files()), 2)
        # Its last record, a year old less a second, is still there.
        r = self.query("--msisdn", A, as_of="2026-03-01T23:59:59Z")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(len(self.records(r.json())), 3)

    def test_TEL_LOG_1_day_deleted_whole_by_first_sweep_after_a_year(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        plan = self.plan("2026-03-02")
        self.assertTrue(plan["2025-03-01"]["due"])
        self.assertFalse(plan["2025-03-02"]["due"])
        r = self.vaern("traffic", "sweep", "--controller", "telenor",
                       as_of="2026-03-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json(), {"days": 1, "records": 2})
        self.assertEqual(self.day_files(), ["2025-03-02.day"])
        r = self.query("--msisdn", A, as_of="2026-03-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        recs = self.records(r.json())
        self.assertEqual([x["eventInformation"] for x in recs], ["mms"])
        e = [x for x in self.audit() if x["action"] == "traffic-sweep"]
        self.assertEqual(len(e), 1)
        self.assertEqual(e[0]["rule"], "TEL-LOG-1")
        # The next day goes a day later.
        r = self.vaern("traffic", "sweep", "--controller", "telenor",
                       as_of="2026-03-03")
        self.assertEqual(r.json(), {"days": 1, "records": 1})
        self.assertEqual(self.day_files(), [])

    def day_keys(self, data=None):
        """The days whose key the keystore holds, and the master key
        generation each is wrapped under (read-only)."""
        con = dbpeek.connect("file:%s?mode=ro" % os.path.join(
            data or self.dir, "keystore.db"), uri=True, timeout=30)
        try:
            import datetime
            epoch = datetime.date(1970, 1, 1)
            return {(epoch + datetime.timedelta(days=day)).isoformat(): kek
                    for day, kek in con.execute(
                        "SELECT day, kek FROM traffic_key ORDER BY day"
                    ).fetchall()}
        finally:
            con.close()

    def test_TEL_LOG_1_day_keys_in_the_keystore_sweep_crypto_erases(self):
        """A day's key is a keystore entry, not part of its file: the
        sweep destroys it, so a copy of the day file kept from before the
        sweep no longer opens; the day before the edge keeps its key."""
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        self.assertEqual(sorted(self.day_keys()),
                         ["2025-03-01", "2025-03-02"])
        d = os.path.join(self.dir, "traffic", "telenor")
        with open(os.path.join(d, "2025-03-01.day"), "rb") as f:
            copy = f.read()
        # The day before the edge: nothing goes.
        r = self.vaern("traffic", "sweep", "--controller", "telenor",
                       as_of="2026-03-01T23:59:59Z")
        self.assertEqual(r.json(), {"days": 0, "records": 0})
        self.assertEqual(sorted(self.day_keys()),
                         ["2025-03-01", "2025-03-02"])
        r = self.vaern("traffic", "sweep", "--controller", "telenor",
                       as_of="2026-03-02")
        self.assertEqual(r.json(), {"days": 1, "records": 2})
        self.assertEqual(sorted(self.day_keys()), ["2025-03-02"])
        # The file put back (a file system's copy, a backup): noise.
        with open(os.path.join(d, "2025-03-01.day"), "wb") as f:
            f.write(copy)
        r = self.query("--msisdn", A, as_of="2026-03-02")
        self.assertNotEqual(r.rc, EXIT_OK, r)
        self.assertIn("does not open", r.err)
        r = self.query("--msisdn", A, as_of="2026-03-02",
                       frm="2025-03-02T00:00:00Z")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(len(self.records(r.json())), 1)

    def test_TEL_LOG_1_day_keys_rewrapped_by_a_rotation(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        self.assertEqual(set(self.day_keys().values()), {1})
        r = self.vaern("key", "rotate", "--quiet")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(set(self.day_keys().values()), {2})
        r = self.query("--msisdn", A)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(len(self.records(r.json())), 3)

    # ---- backup and restore (GDPR-32, TEL-LOG-1) ---------------------------

    def restore(self, backup, keystore, name="restored"):
        target = os.path.join(self.tmp, name)
        os.makedirs(target, mode=0o700)
        shutil.copy(os.path.join(self.dir, "master.key"), target)
        return target, self.vaern("restore", backup, "--keystore", keystore,
                                  data=target)

    def test_TEL_LOG_1_backup_carries_the_days_and_restore_reads_them(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        # A writer's temporary file is not part of the store.
        self.write(os.path.join("data", "traffic", "telenor",
                                "cells.csv.new"), "half")
        bk, ks = (os.path.join(self.tmp, x) for x in ("bk", "ks"))
        self.assertEqual(self.vaern("backup", bk).rc, EXIT_OK)
        self.assertEqual(self.vaern("backup", "--keystore", ks).rc,
                         EXIT_OK)
        with open(os.path.join(bk, "manifest.json")) as f:
            manifest = json.load(f)
        self.assertEqual(sorted(manifest["traffic"]),
                         ["telenor/2025-03-01.day", "telenor/2025-03-02.day",
                          "telenor/cells.csv"])
        target, r = self.restore(bk, ks)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["traffic_days_removed"], 0)
        self.assertEqual(self.day_files(data=target),
                         ["2025-03-01.day", "2025-03-02.day"])
        before = self.query("--msisdn", A)
        after = self.query("--msisdn", A, data=target)
        self.assertEqual(after.rc, EXIT_OK, after)
        self.assertEqual(self.records(after.json()),
                         self.records(before.json()))
        # The reference came along: an area query finds the cells.
        r = self.query("--area", "55.6,12.5,55.7,12.6", data=target)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(len(self.records(r.json())), 2)

    def test_TEL_LOG_1_day_swept_after_the_backup_stays_gone(self):
        """The data backup holds both days; the day swept after it has no
        key in the later keystore: the restore removes it again."""
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        bk, ks = (os.path.join(self.tmp, x) for x in ("bk", "ks"))
        self.assertEqual(self.vaern("backup", bk).rc, EXIT_OK)
        r = self.vaern("traffic", "sweep", "--controller", "telenor",
                       as_of="2026-03-02")
        self.assertEqual(r.json(), {"days": 1, "records": 2})
        self.assertEqual(self.vaern("backup", "--keystore", ks).rc,
                         EXIT_OK)
        target, r = self.restore(bk, ks)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["traffic_days_removed"], 1)
        self.assertEqual(self.day_files(data=target), ["2025-03-02.day"])
        r = self.query("--msisdn", A, as_of="2026-03-02", data=target)
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual([x["eventInformation"]
                          for x in self.records(r.json())], ["mms"])

    def test_TEL_LOG_1_restore_refuses_an_altered_day_writes_nothing(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        bk, ks = (os.path.join(self.tmp, x) for x in ("bk", "ks"))
        self.assertEqual(self.vaern("backup", bk).rc, EXIT_OK)
        self.assertEqual(self.vaern("backup", "--keystore", ks).rc,
                         EXIT_OK)
        day = os.path.join(bk, "traffic", "telenor", "2025-03-02.day")
        with open(day, "r+b") as f:
            f.seek(-1, os.SEEK_END)
            b = f.read(1)
            f.seek(-1, os.SEEK_END)
            f.write(bytes([b[0] ^ 1]))
        target, r = self.restore(bk, ks)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("2025-03-02.day: does not match the manifest", r.err)
        self.assertEqual(os.listdir(target), ["master.key"])

    def test_TEL_LOG_1_retention_sweep_takes_the_days_too(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        r = self.vaern("retention", "sweep", as_of="2026-03-01T23:59:59Z")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["traffic_days_deleted"], 0)
        r = self.vaern("retention", "sweep", as_of="2026-03-02")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual(r.json()["traffic_days_deleted"], 1)
        self.assertEqual(r.json()["traffic_records_deleted"], 2)
        self.assertEqual(self.day_files(), ["2025-03-02.day"])

    def test_TEL_LOG_1_a_day_already_a_year_old_is_not_stored(self):
        r = self.imp(ROWS[1:2], as_of="2026-03-02")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("rec.csv:2: start: older than the retention period "
                      "(TEL-LOG-1)", r.err)
        self.assertEqual(self.day_files(), [])
        r = self.imp(ROWS[1:2], as_of="2026-03-01T23:59:59Z")
        self.assertEqual(r.rc, EXIT_OK, r)

    # ---- TEL-LOG-2: cleared roles only --------------------------------------

    def test_TEL_LOG_2_uncleared_roles_refused_and_audited(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        for who, why in (("dpo", "role 'dpo' is not security-cleared"),
                         ("cs", "role 'customer_service' is not "
                                "security-cleared"),
                         ("mediation", "role 'mediation' does not have the "
                                       "purpose 'data_retention_logging'")):
            with self.subTest(who=who):
                r = self.query("--msisdn", A, token=who)
                self.assertEqual(r.rc, EXIT_REFUSED, r)
                self.assertIn(why, r.err)
                self.assertIn("TEL-LOG-2", r.err)
                self.assertEqual(r.out, "")
        denied = [x for x in self.audit() if x["decision"] == "deny"]
        self.assertEqual(sorted(x["actor"] for x in denied),
                         ["cs", "dpo", "mediation"])
        for x in denied:
            self.assertEqual(x["rule"], "TEL-LOG-2")
            self.assertEqual(x["action"], "traffic-query")
        # The cleared logging officer reads.
        r = self.query("--msisdn", A)
        self.assertEqual(r.rc, EXIT_OK, r)

    def test_TEL_LOG_2_cleared_role_of_another_controller_refused(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        with open(os.path.join(POL, "telenor.yaml")) as f:
            text = f.read()
        other = self.write("other.yaml", text.replace(
            "  id: telenor\n", "  id: telenor-two\n"))
        r = self.vaern("policy", "load", other)
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.vaern("actor", "add", "--controller", "telenor-two",
                       "--name", "spy", "--role", "logging_officer")
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.query("--msisdn", A, token=r.json()["token"])
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("another controller (TEL-LOG-2)", r.err)
        denied = [x for x in self.audit() if x["decision"] == "deny"]
        self.assertEqual([x["actor"] for x in denied], ["spy"])

    def test_TEL_LOG_2_policy_refuses_uncleared_ingest_role(self):
        with open(os.path.join(POL, "telenor.yaml")) as f:
            text = f.read()
        bad = self.write("bad.yaml", text.replace(
            "  ingest: [mediation]", "  ingest: [customer_service]"))
        r = self.vaern("policy", "check", bad)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("traffic: ingest: role 'customer_service' is not "
                      "cleared (TEL-LOG-2)", r.err)
        bad = self.write("bad2.yaml", text.replace(
            "  purpose: data_retention_logging", "  purpose: statistics"))
        r = self.vaern("policy", "check", bad)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("traffic: purpose 'statistics' must require "
                      "clearance (TEL-LOG-2)", r.err)
        # A category kept in the store needs the store declared.
        bad = self.write("bad3.yaml", text[:text.index("\ntraffic:")] + "\n")
        r = self.vaern("policy", "check", bad)
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("category 'logging_data' is kept in the traffic store, "
                      "but the policy declares no traffic:", r.err)

    # ---- TEL-LOG-3: a court order for every disclosure ------------------------

    def test_TEL_LOG_3_delivery_json_signed_and_audited(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        r = self.query("--msisdn", A)
        self.assertEqual(r.rc, EXIT_OK, r)
        doc = r.json()
        msg = doc["RDMessage"]
        self.assertEqual(msg["rdHeader"]["requestID"],
                         {"countryCode": "DK",
                          "authorisedOrganisationID": "NSK",
                          "requestNumber": "RET-2025-17"})
        self.assertEqual(msg["rdHeader"]["cSPID"], "19433692")
        self.assertEqual(msg["rdHeader"]["timeStampUTC"],
                         "2025-04-01T00:00:00Z")
        pay = msg["rdPayload"]["responsePayload"]
        self.assertEqual(pay["caseReference"], "C-99")
        self.assertEqual(pay["numberOfRecords"], 3)
        recs = self.records(doc)
        first = recs[0]
        self.assertEqual(first["eventInformation"], "call")
        self.assertEqual(first["communicationTime"],
                         {"startTime": "2025-03-01T00:00:00Z",
                          "endTime": "2025-03-01T00:05:00Z"})
        self.assertEqual(first["partyInformation"][0],
                         {"partyRole": "originating-Party", "msISDN": A,
                          "iMSI": IMSI, "iMEI": IMEI})
        self.assertEqual(first["locationOfParty"]["atStart"],
                         {"globalCellID": "238-01-100-1001",
                          "latitude": "55.676100",
                          "longitude": "12.568300", "azimuth": 120})
        self.assertEqual(recs[2]["partyInformation"][2],
                         {"partyRole": "forwarded-to-Party",
                          "msISDN": "+4522222222"})
        # The digest is SHA-256 of the canonical payload ...
        canon = json.dumps(msg, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=True).encode()
        digest = hashlib.sha256(canon).hexdigest()
        self.assertEqual(doc["integrity"]["payloadDigest"], digest)
        # ... signed with the controller's published key.
        pk = self.vaern("traffic", "pubkey", "--controller", "telenor")
        self.assertEqual(doc["integrity"]["publicKey"],
                         pk.json()["publicKey"])
        path = self.write("delivery.json", r.out)
        v = self.vaern("traffic", "verify", "--controller", "telenor", path)
        self.assertEqual(v.rc, EXIT_OK, v)
        # An altered record no longer verifies.
        bad = self.write("bad.json", r.out.replace("+4587654321",
                                                   "+4587654322"))
        v = self.vaern("traffic", "verify", "--controller", "telenor", bad)
        self.assertEqual(v.rc, EXIT_REFUSED, v)
        self.assertIn("altered", v.err)
        # Audited with the reference, the count and the digest; no value.
        e = [x for x in self.audit() if x["action"] == "disclose:police"]
        self.assertEqual(len(e), 1)
        self.assertEqual(e[0]["decision"], "allow")
        self.assertEqual(e[0]["rule"], "TEL-LOG-3")
        self.assertIn("court order RET-2025-17", e[0]["reason"])
        self.assertIn("3 records delivered", e[0]["reason"])
        self.assertIn(digest, e[0]["reason"])
        self.assertNotIn("4512345678", json.dumps(self.audit()))

    def test_TEL_LOG_3_delivery_xml_signed(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        r = self.query("--imei", IMEI, fmt="xml")
        self.assertEqual(r.rc, EXIT_OK, r)
        m = re.search(r"<RDMessage.*</RDMessage>", r.out, re.S)
        self.assertIsNotNone(m)
        digest = hashlib.sha256(m.group(0).encode()).hexdigest()
        self.assertIn("<payloadDigest>%s</payloadDigest>" % digest, r.out)
        self.assertIn("<requestNumber>RET-2025-17</requestNumber>", r.out)
        self.assertIn("<numberOfRecords>2</numberOfRecords>", r.out)
        path = self.write("d.xml", r.out)
        v = self.vaern("traffic", "verify", "--controller", "telenor", path)
        self.assertEqual(v.rc, EXIT_OK, v)
        bad = self.write("bad.xml", r.out.replace("<iMSI>238010000000001",
                                                  "<iMSI>238010000000009"))
        v = self.vaern("traffic", "verify", "--controller", "telenor", bad)
        self.assertEqual(v.rc, EXIT_REFUSED, v)

    def test_TEL_LOG_3_one_identifier_or_an_area_over_a_range(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        # IMSI, range edges: [from, to)
        r = self.query("--imsi", IMSI, frm="2025-03-01T00:00:00Z",
                       to="2025-03-01T23:59:59Z")
        self.assertEqual(len(self.records(r.json())), 1, r)
        r = self.query("--imsi", IMSI, frm="2025-03-01T00:00:01Z",
                       to="2025-03-02T00:00:00Z")
        self.assertEqual(len(self.records(r.json())), 1, r)
        # An area: Copenhagen's two cells, not Aarhus'.
        r = self.query("--area", "55.6,12.5,55.7,12.6")
        self.assertEqual(r.rc, EXIT_OK, r)
        self.assertEqual([x["eventInformation"]
                          for x in self.records(r.json())], ["call", "sms"])
        r = self.query("--cell", "238-02-200-2001")
        self.assertEqual([x["eventInformation"]
                          for x in self.records(r.json())], ["mms"])
        # Nobody else's records.
        r = self.query("--msisdn", "+4500000000")
        self.assertEqual(self.records(r.json()), [])

    def test_TEL_LOG_3_no_court_order_refused_and_audited(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        cases = [
            (["--authority", "NSK", "--case", "C-99"],
             "reference: a court order names it (TEL-LOG-3)"),
            (["--authority", "NSK", "--reference", "", "--case", "C-99"],
             "reference: a court order names it (TEL-LOG-3)"),
            (["--reference", "R1", "--case", "C-99"],
             "authority: a court order names it (TEL-LOG-3)"),
            (["--authority", "NSK", "--reference", "R1"],
             "case: a court order names it (TEL-LOG-3)"),
            (["--authority", "NSK", "--reference", "R 1", "--case", "C"],
             "reference: 1 to 64 printable characters"),
        ]
        for court, want in cases:
            with self.subTest(want=want):
                r = self.query("--msisdn", A, court=court)
                self.assertEqual(r.rc, EXIT_REFUSED, r)
                self.assertIn(want, r.err)
                self.assertEqual(r.out, "")
        denied = [x for x in self.audit() if x["decision"] == "deny"]
        self.assertEqual(len(denied), len(cases))
        self.assertTrue(all(x["rule"] == "TEL-LOG-3" for x in denied))

    def test_TEL_LOG_3_range_over_a_year_refused(self):
        self.assertEqual(self.imp(ROWS).rc, EXIT_OK)
        r = self.query("--msisdn", A, frm="2025-01-01T00:00:00Z",
                       to="2026-01-02T00:00:01Z")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("the range is longer than a year", r.err)
        r = self.query("--msisdn", A, frm="2025-03-01T00:00:00Z",
                       to="2026-03-01T00:00:00Z")
        self.assertEqual(r.rc, EXIT_OK, r)
        r = self.query("--msisdn", A, frm="2025-03-02T00:00:00Z",
                       to="2025-03-01T00:00:00Z")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("to: must be after from", r.err)
        r = self.query("--msisdn", "12345")
        self.assertEqual(r.rc, EXIT_REFUSED, r)
        self.assertIn("msisdn: not an E.164 number", r.err)


class Server:
    """One `vaern serve` on a free loopback port."""

    def __init__(self, data_dir, log_path, as_of):
        self.data_dir, self.log_path, self.as_of = data_dir, log_path, as_of

    def __enter__(self):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [VAERN, "--data", self.data_dir, "--as-of", self.as_of, "serve",
             "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=self._log, env=BASE_ENV)
        line = b""
        deadline = time.monotonic() + 30
        while not line.endswith(b"\n"):
            if time.monotonic() > deadline:
                raise AssertionError("vaern serve printed no ready line")
            r, _, _ = select.select([self.proc.stdout], [], [], 1)
            if r:
                b = os.read(self.proc.stdout.fileno(), 1)
                if not b:
                    raise AssertionError("vaern serve exited")
                line += b
        self.port = int(json.loads(line)["port"])
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self._log.close()

    def call(self, method, path, body, token, ctype="application/json"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=30)
        try:
            conn.request(method, path, body=body,
                         headers={"Authorization": "Bearer " + token,
                                  "Content-Type": ctype})
            r = conn.getresponse()
            return r.status, r.getheader("Content-Type"), r.read()
        finally:
            conn.close()


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class TrafficHttpTest(Base):
    """POST /v1/traffic (NDJSON, the ingest role) and POST
    /v1/traffic/query."""

    def ndjson(self, rows):
        keys = HEADER.strip().split(",")
        out = []
        for row in rows:
            d = dict(zip(keys, row.split(",")))
            out.append(json.dumps({k: v for k, v in d.items() if v}))
        return ("\n".join(out) + "\n").encode()

    def test_TEL_LOG_1_TEL_LOG_2_http_ingest_and_query(self):
        with Server(self.dir, os.path.join(self.tmp, "log"),
                    "2025-04-01") as s:
            # Only the cleared ingest role feeds the store.
            for who in ("officer", "dpo", "cs"):
                st, _, body = s.call("POST", "/v1/traffic",
                                     self.ndjson(ROWS), self.tokens[who],
                                     "application/x-ndjson")
                self.assertEqual(st, 403, body)
            self.assertEqual(self.day_files(), [])
            # A bad record: 400 naming the line, nothing stored.
            bad = self.ndjson([ROWS[0], ROWS[1].replace(IMSI, "1")])
            st, _, body = s.call("POST", "/v1/traffic", bad,
                                 self.tokens["mediation"],
                                 "application/x-ndjson")
            self.assertEqual(st, 400, body)
            doc = json.loads(body)
            self.assertEqual(doc["records"][0]["line"], 2)
            self.assertIn("imsi", doc["records"][0]["error"])
            self.assertNotIn(IMSI, body.decode())
            self.assertEqual(self.day_files(), [])
            st, _, body = s.call("POST", "/v1/traffic", self.ndjson(ROWS),
                                 self.tokens["mediation"],
                                 "application/x-ndjson")
            self.assertEqual(st, 200, body)
            self.assertEqual(json.loads(body)["stored"], 3)
            order = {"authority": "NSK", "reference": "RET-2025-17",
                     "case": "C-99", "msisdn": A,
                     "from": "2025-03-01T00:00:00Z",
                     "to": "2025-03-03T00:00:00Z"}
            for who in ("dpo", "cs", "mediation"):
                st, _, body = s.call("POST", "/v1/traffic/query",
                                     json.dumps(order), self.tokens[who])
                self.assertEqual(st, 403, body)
            st, _, body = s.call("POST", "/v1/traffic/query",
                                 json.dumps(dict(order, reference="")),
                                 self.tokens["officer"])
            self.assertEqual(st, 400, body)
            self.assertIn(b"reference", body)
            st, ctype, body = s.call("POST", "/v1/traffic/query",
                                     json.dumps(order),
                                     self.tokens["officer"])
            self.assertEqual(st, 200, body)
            doc = json.loads(body)
            self.assertEqual(len(self.records(doc)), 3)
            st, ctype, body = s.call("POST", "/v1/traffic/query",
                                     json.dumps(dict(order, format="xml")),
                                     self.tokens["officer"])
            self.assertEqual(st, 200, body)
            self.assertEqual(ctype, "application/xml")
        path = self.write("http.xml", body.decode())
        v = self.vaern("traffic", "verify", "--controller", "telenor", path)
        self.assertEqual(v.rc, EXIT_OK, v)
        audit = self.audit()
        denied = [x for x in audit if x["decision"] == "deny"]
        self.assertEqual(len(denied), 7)
        self.assertEqual(len([x for x in audit
                              if x["action"] == "disclose:police"]), 2)

    def test_TEL_CAT_2_http_binary_batch(self):
        binary = "application/vnd.vaern.traffic-batch"
        with Server(self.dir, os.path.join(self.tmp, "log"),
                    "2025-04-01") as s:
            batch = binary_batch(BIN_ROWS)
            st, _, body = s.call("POST", "/v1/traffic", batch[:-1],
                                 self.tokens["mediation"], binary)
            self.assertEqual(st, 400, body)
            self.assertIn(b"record 3: cut short (87 of 88 bytes)", body)
            self.assertEqual(self.day_files(), [])
            bad = binary_batch([BIN_ROWS[0], dict(BIN_ROWS[1], a=12345)])
            st, _, body = s.call("POST", "/v1/traffic", bad,
                                 self.tokens["mediation"], binary)
            self.assertEqual(st, 400, body)
            self.assertEqual(json.loads(body)["records"],
                             [{"record": 2, "error": "a: not an E.164 "
                               "number (6 to 15 digits)"}])
            self.assertEqual(self.day_files(), [])
            st, _, body = s.call("POST", "/v1/traffic", batch,
                                 self.tokens["mediation"], binary)
            self.assertEqual(st, 200, body)
            self.assertEqual(json.loads(body), {"stored": 3, "skipped": 0})
        r = self.query("--msisdn", A)
        self.assertEqual(len(self.records(r.json())), 3)

    def test_TEL_CAT_2_http_batch_past_the_server_body_limit(self):
        """The ingest route reads a mediation batch larger than the
        server's 1 MiB body limit, up to its own 64 MiB, and only from a
        caller whose token is valid; other routes keep the server's
        limit."""
        rows = []
        for i in range(5000):
            t = "2025-03-01T%02d:%02d:%02dZ" % (i // 3600, i // 60 % 60,
                                                i % 60)
            rows.append("call,%s,%s,%s,+4587654321,,%s,%s,238-01-100-1001,"
                        "238-01-100-1002" % (t, t, A, IMSI, IMEI))
        batch = self.ndjson(rows)
        self.assertGreater(len(batch), 1024 * 1024)
        with Server(self.dir, os.path.join(self.tmp, "log"),
                    "2025-04-01") as s:
            def announce(path, token, length):
                """The status of a request that announces a body of
                length bytes and sends none: what the server decides
                before reading a body."""
                conn = http.client.HTTPConnection("127.0.0.1", s.port,
                                                  timeout=30)
                try:
                    conn.putrequest("POST", path)
                    conn.putheader("Authorization", "Bearer " + token)
                    conn.putheader("Content-Length", str(length))
                    conn.endheaders()
                    r = conn.getresponse()
                    return r.status, r.read()
                finally:
                    conn.close()

            # No valid token: refused before the body is read.
            st, body = announce("/v1/traffic", "vaern_not_a_token",
                                len(batch))
            self.assertEqual(st, 401, body)
            self.assertEqual(self.day_files(), [])
            st, _, body = s.call("POST", "/v1/traffic", batch,
                                 self.tokens["mediation"],
                                 "application/x-ndjson")
            self.assertEqual(st, 200, body)
            self.assertEqual(json.loads(body), {"stored": 5000,
                                                "skipped": 0})
            # Past the route's own limit: 413 before a byte of the body.
            st, body = announce("/v1/traffic", self.tokens["mediation"],
                                64 * 1024 * 1024 + 1)
            self.assertEqual(st, 413, body)
            # The query route keeps the server's limit.
            st, body = announce("/v1/traffic/query", self.tokens["officer"],
                                len(batch))
            self.assertEqual(st, 413, body)
            # Without a body there is nothing to admit: the handler
            # refuses the token (401) as for every route.
            st, _, body = s.call("POST", "/v1/traffic", b"",
                                 "vaern_not_a_token")
            self.assertEqual(st, 401, body)
        self.assertEqual(self.plan("2025-04-01")["2025-03-01"]["records"],
                         5000)


if __name__ == "__main__":
    unittest.main()
