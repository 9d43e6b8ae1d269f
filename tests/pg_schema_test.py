#!/usr/bin/env python3
"""The PostgreSQL schema matches the SQLite one (issue 14).

A data directory that the real binary makes on SQLite (vaern init, one
subject added) is the reference: every table of its vaern.db, keystore.db
and audit.db must be in src/store/schema_pg.sql, in the schema its file
maps to (public, ks, audit), with the same columns in the same order, the
same types (INTEGER as bigint, BLOB as bytea, TEXT as text), the same NOT
NULL, defaults and primary key, and every index and unique constraint of
SQLite with the same columns, uniqueness and (for a named index) name. So
a column added on one engine only fails here.

Run by meson test pg_schema, under scripts/pg-cluster run (which sets
VAERN_PG_CONNINFO); VAERN_BIN and VAERN_SOURCE_ROOT as for tests/cli.
"""
import os
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.environ.get("VAERN_SOURCE_ROOT") or os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))
PSQL = os.path.join(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"),
                    "psql")
FILES = {"vaern.db": "public", "keystore.db": "ks", "audit.db": "audit"}
TYPES = {"INTEGER": "bigint", "BLOB": "bytea", "TEXT": "text"}


def psql(sql):
    out = subprocess.run(
        [PSQL, "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
         os.environ["VAERN_PG_CONNINFO"], "-c", sql],
        capture_output=True, text=True, check=True)
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def sqlite_tables(path):
    """{table: (columns, pk, indexes)} of one SQLite file."""
    db = sqlite3.connect(path)
    tables = {}
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE"
                              " type = 'table' AND name NOT LIKE 'sqlite_%'"):
        cols, pk = [], []
        for _, col, typ, notnull, dflt, pkn in db.execute(
                f"PRAGMA table_info('{name}')"):
            cols.append((col, TYPES.get(typ.upper(), typ.lower()),
                         bool(notnull) or pkn > 0,
                         None if dflt is None else str(dflt).strip("'")))
            if pkn:
                pk.append((pkn, col))
        pk = tuple(c for _, c in sorted(pk))
        indexes = set()
        for _, iname, unique, origin, partial in db.execute(
                f"PRAGMA index_list('{name}')"):
            icols = tuple(r[2] for r in db.execute(
                f"PRAGMA index_info('{iname}')"))
            if origin == "pk" or icols == pk:
                continue
            named = origin == "c"
            indexes.add((iname if named else None,
                         icols if None not in icols else None,
                         bool(unique), bool(partial)))
        tables[name] = (cols, pk, indexes)
    db.close()
    return tables


def pg_tables(schema):
    tables = {}
    for name, in psql("SELECT table_name FROM information_schema.tables"
                      f" WHERE table_schema = '{schema}'"):
        cols = [(c, t, n == "NO",
                 None if d == "" or d.startswith("nextval") else d)
                for c, t, n, d in psql(
                    "SELECT column_name, data_type, is_nullable,"
                    " coalesce(column_default, '')"
                    " FROM information_schema.columns"
                    f" WHERE table_schema = '{schema}'"
                    f" AND table_name = '{name}' ORDER BY ordinal_position")]
        pk, indexes = (), set()
        for iname, primary, unique, partial, icols in psql(
                "SELECT i.relname, x.indisprimary, x.indisunique,"
                " x.indpred IS NOT NULL,"
                " coalesce((SELECT string_agg(a.attname, ',' ORDER BY k.n)"
                "  FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)"
                "  JOIN pg_attribute a ON a.attrelid = x.indrelid"
                "  AND a.attnum = k.attnum"
                "  HAVING bool_and(k.attnum > 0)), '')"
                " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
                " JOIN pg_class t ON t.oid = x.indrelid"
                " JOIN pg_namespace s ON s.oid = t.relnamespace"
                f" WHERE s.nspname = '{schema}' AND t.relname = '{name}'"):
            icols = tuple(icols.split(",")) if icols else None
            if primary == "t":
                pk = icols
                continue
            indexes.add((iname, icols, unique == "t", partial == "t"))
        tables[name] = (cols, pk, indexes)
    return tables


def compare(where, lite, pg, fail):
    for name, (cols, pk, indexes) in sorted(lite.items()):
        if name not in pg:
            fail(f"{where}.{name}: no such table on PostgreSQL")
            continue
        pcols, ppk, pindexes = pg[name]
        if [c[0] for c in cols] != [c[0] for c in pcols]:
            fail(f"{where}.{name}: columns {[c[0] for c in cols]} on SQLite,"
                 f" {[c[0] for c in pcols]} on PostgreSQL")
            continue
        for lc, pc in zip(cols, pcols):
            if lc != pc:
                fail(f"{where}.{name}.{lc[0]}: (type, not null, default)"
                     f" {lc[1:]} on SQLite, {pc[1:]} on PostgreSQL")
        if pk != ppk:
            fail(f"{where}.{name}: primary key {pk} on SQLite, {ppk} on"
                 " PostgreSQL")
        for iname, icols, unique, partial in sorted(indexes, key=str):
            match = [p for p in pindexes
                     if (iname is None or p[0] == iname)
                     and (icols is None or p[1] == icols)
                     and p[2] == unique and p[3] == partial]
            if not match:
                fail(f"{where}.{name}: index {iname or icols} (unique"
                     f" {unique}, partial {partial}) missing on PostgreSQL")
    for name in sorted(set(pg) - set(lite)):
        fail(f"{where}.{name}: on PostgreSQL only")


def main():
    failures = []
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        env = dict(os.environ)
        subprocess.run([os.environ["VAERN_BIN"], "--data", data, "init",
                        "--policy", os.path.join(ROOT, "policies",
                                                 "webshop.yaml")],
                       env=env, check=True, capture_output=True)
        # One subject: every table an open and a write create is there.
        subprocess.run([os.environ["VAERN_BIN"], "--data", data, "subject",
                        "add", "--purpose", "newsletter", "--fact",
                        "newsletter_email=schema@example.org", "--consent",
                        "newsletter:web_form"],
                       env=env, check=True, capture_output=True)
        psql(open(os.path.join(ROOT, "src", "store", "schema_pg.sql"),
                  encoding="utf-8").read())
        for f, schema in FILES.items():
            lite = sqlite_tables(os.path.join(data, f))
            checked += len(lite)
            compare(schema, lite, pg_tables(schema), failures.append)
    for f in failures:
        print("FAIL " + f)
    bad = len({f.split(":")[0].split(".")[0] + "." + f.split(":")[0]
               .split(".")[1] for f in failures})
    print(f"pg_schema: {checked - bad} passed, {bad} failed (tables)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
