"""dbpeek -- a test reads (or tampers with) a data directory's store as it
would read SQLite's file, on either engine (issue 14).

connect(path) takes what sqlite3.connect takes ("DIR/vaern.db",
"file:DIR/audit.db?mode=ro" with uri=True, "DIR/keystore.db"). A data
directory on SQLite gives sqlite3's own connection. One on PostgreSQL
(DIR/store.conf holds the connection string) gives a connection to its
database with search_path set to the schema that stands for the file:
public (vaern.db), audit (audit.db), ks (keystore.db); "?N" and "?"
parameters work, bytea reads back as bytes, and a read-only URI opens a
read-only session. Only the SQL both engines accept works on both.

ON_POSTGRESQL is true when the suite runs on PostgreSQL
(VAERN_TEST_ENGINE=postgresql, tests/meson.build), so a test of
something only SQLite has (the file itself, its pages, its WAL) can say
why it does not apply: @sqlite_only("reason").
"""
import os
import re
import sqlite3

import unittest

ON_POSTGRESQL = os.environ.get("VAERN_TEST_ENGINE") == "postgresql"

SCHEMAS = {"vaern.db": "public", "audit.db": "audit", "keystore.db": "ks",
           "store.db": "public"}


def sqlite_only(reason):
    """Skips a test (or a class) on PostgreSQL, saying why."""
    return unittest.skipIf(ON_POSTGRESQL, "SQLite only: " + reason)


def _file_of(path, uri):
    if uri and path.startswith("file:"):
        path = path[5:]
        ro = "mode=ro" in path
        return path.split("?", 1)[0], ro
    return path, False


def store_conf(path):
    """The connection string of the data directory path names (a
    directory, or a file in it), or None when it is on SQLite."""
    d = path if os.path.isdir(path) else os.path.dirname(path)
    conf = os.path.join(d, "store.conf")
    if not os.path.exists(conf):
        return None
    with open(conf) as f:
        return f.read().strip()


def _to_pg(sql):
    """?N and ? to psycopg2's %s, with the argument order they need."""
    order = []
    count = [0]

    def one(m):
        if m.group(1):
            n = int(m.group(1))
        else:
            n = count[0] + 1
        count[0] = max(count[0], n)
        order.append(n - 1)
        return "%s"

    out, pos = [], 0
    # Leave quoted literals alone.
    for m in re.finditer(r"'(?:[^']|'')*'", sql):
        out.append(re.sub(r"\?(\d*)", one, sql[pos:m.start()].replace(
            "%", "%%")))
        out.append(m.group(0).replace("%", "%%"))
        pos = m.end()
    out.append(re.sub(r"\?(\d*)", one, sql[pos:].replace("%", "%%")))
    return "".join(out), order


def _value_in(v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        import psycopg2
        return psycopg2.Binary(bytes(v))
    return v


def _value_out(v):
    if isinstance(v, memoryview):
        return bytes(v)
    if isinstance(v, bool):
        return int(v)
    return v


class _Row(tuple):
    """sqlite3.Row's part the tests use: by index, by name, dict(row)."""

    def __new__(cls, values, names):
        r = super().__new__(cls, values)
        r._names = names
        return r

    def __getitem__(self, k):
        if isinstance(k, str):
            return tuple.__getitem__(self, self._names.index(k))
        return tuple.__getitem__(self, k)

    def keys(self):
        return list(self._names)


class _Cursor:
    def __init__(self, cur, rows_by_name=False):
        self._cur = cur
        self._by_name = rows_by_name

    def _row(self, r):
        values = tuple(_value_out(v) for v in r)
        if not self._by_name:
            return values
        return _Row(values, [d[0] for d in self._cur.description])

    def execute(self, sql, params=()):
        # One database holds what SQLite keeps in three files (schemas
        # public, ks, audit): attaching is nothing to do; SQLite's pragmas
        # and BEGIN modes have no meaning here (psycopg2 opens the
        # transaction itself).
        head = sql.lstrip().upper()
        m = re.match(r"\s*PRAGMA\s+TABLE_INFO\((\w+)\)", sql, re.I)
        if m:  # SQLite's (cid, name, type, notnull, default, pk)
            self._cur.execute(
                "SELECT ordinal_position - 1, column_name, data_type, 0,"
                " NULL, 0 FROM information_schema.columns"
                " WHERE table_schema = current_schema()"
                " AND table_name = %s ORDER BY ordinal_position",
                (m.group(1),))
            return self
        if head.startswith(("ATTACH", "DETACH", "PRAGMA", "BEGIN")):
            return self
        # SQLite's catalogue, for the tests that list the tables.
        sql = sql.replace("FROM sqlite_master", "FROM (SELECT tablename AS"
                          " name, 'table' AS type FROM pg_tables WHERE"
                          " schemaname = current_schema()) AS sqlite_master")
        text, order = _to_pg(sql)
        args = [_value_in(params[i]) for i in order] if order else None
        self._cur.execute(text, args)
        return self

    def executemany(self, sql, seq):
        for p in seq:
            self.execute(sql, p)
        return self

    def fetchone(self):
        if self._cur.description is None:
            return None
        r = self._cur.fetchone()
        return None if r is None else self._row(r)

    def fetchall(self):
        if self._cur.description is None:
            return []
        return [self._row(r) for r in self._cur.fetchall()]

    def __iter__(self):
        return iter(self.fetchall())

    @property
    def rowcount(self):
        return self._cur.rowcount

    def close(self):
        self._cur.close()


class _PgConnection:
    def __init__(self, conninfo, schema, readonly):
        import psycopg2
        self._con = psycopg2.connect(conninfo)
        with self._con.cursor() as c:
            # SQLite's hex(), which the tests' SQL uses, for bytea; two
            # connections may race to make it: the loser finds it made.
            c.execute("SELECT 1 FROM pg_proc WHERE proname = 'hex'")
            if c.fetchone() is None:
                try:
                    c.execute("CREATE FUNCTION public.hex(bytea)"
                              " RETURNS text LANGUAGE sql IMMUTABLE AS"
                              " $$SELECT upper(encode($1, 'hex'))$$")
                    self._con.commit()
                except psycopg2.Error:
                    self._con.rollback()
            c.execute("SET search_path = " + schema + ", public")
        self._con.commit()
        self._con.set_session(readonly=readonly)

    row_factory = None  # sqlite3.Row: rows by name too

    def cursor(self):
        return _Cursor(self._con.cursor(), self.row_factory is sqlite3.Row)

    def execute(self, sql, params=()):
        return self.cursor().execute(sql, params)

    def executemany(self, sql, seq):
        return self.cursor().executemany(sql, seq)

    def executescript(self, script):
        with self._con.cursor() as c:
            c.execute(script)
        return self

    def commit(self):
        self._con.commit()

    def rollback(self):
        self._con.rollback()

    def close(self):
        self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        # As sqlite3's: commit or roll back, but stay open.
        if kind is None:
            self._con.commit()
        else:
            self._con.rollback()
        return False


def connect(path, timeout=5.0, uri=False, **kw):
    """sqlite3.connect on SQLite; the same calls on PostgreSQL."""
    file, ro = _file_of(path, uri)
    conninfo = store_conf(file)
    if conninfo is None:
        return sqlite3.connect(path, timeout=timeout, uri=uri, **kw)
    schema = SCHEMAS.get(os.path.basename(file), "public")
    return _PgConnection(conninfo, schema, ro)


def copy_data_dir(src, dst):
    """shutil.copytree of a data directory; on PostgreSQL its database is
    copied too (CREATE DATABASE ... TEMPLATE), and the copy's store.conf
    names the copy, so tampering with one leaves the other whole."""
    import shutil
    shutil.copytree(src, dst)
    conninfo = store_conf(src)
    if conninfo is None:
        return
    import hashlib
    import psycopg2
    name = conninfo.split("///", 1)[1].split("?", 1)[0]
    copy = "v_" + hashlib.md5(os.path.abspath(dst).encode()).hexdigest()[:24]
    admin = conninfo.replace("///" + name, "///postgres", 1)
    con = psycopg2.connect(admin)
    con.autocommit = True
    with con.cursor() as c:
        c.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % copy)
        # A template must have no other session: a server just stopped
        # may leave one closing.
        c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                  " WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        c.execute("CREATE DATABASE %s TEMPLATE %s" % (copy, name))
    con.close()
    conf = os.path.join(dst, "store.conf")
    os.unlink(conf)
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(conninfo.replace("///" + name, "///" + copy, 1) + "\n")


def store_bytes(path):
    """What a reader of the storage sees: on SQLite the bytes of the file
    at path and its -wal, -shm and -journal files; on PostgreSQL every
    row of every table of the schema that stands for the file (public,
    ks or audit) in COPY's binary format, bytea as its raw bytes -- so
    "not in clear at rest" is checked on the values the server keeps."""
    conninfo = store_conf(path)
    if conninfo is None:
        data = b""
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(path + suffix):
                with open(path + suffix, "rb") as f:
                    data += f.read()
        return data
    import io
    import psycopg2
    con = psycopg2.connect(conninfo)
    out = io.BytesIO()
    schema = SCHEMAS.get(os.path.basename(path), "public")
    with con.cursor() as c:
        c.execute("SELECT schemaname, tablename FROM pg_tables"
                  " WHERE schemaname = %s", (schema,))
        for schema, table in c.fetchall():
            c.copy_expert('COPY "%s"."%s" TO STDOUT (FORMAT binary)'
                          % (schema, table), out)
    con.close()
    return out.getvalue()


def break_inserts(con, table):
    """Makes every INSERT into table fail ("disk trouble"), on either
    engine, until mend_inserts: a trail that cannot commit."""
    if isinstance(con, sqlite3.Connection):
        con.execute("CREATE TRIGGER no_insert BEFORE INSERT ON %s"
                    " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END" % table)
    else:
        con.execute("CREATE OR REPLACE FUNCTION public.no_insert()"
                    " RETURNS trigger LANGUAGE plpgsql AS"
                    " $$BEGIN RAISE EXCEPTION 'disk trouble'; END$$")
        con.execute("CREATE TRIGGER no_insert BEFORE INSERT ON %s"
                    " FOR EACH ROW EXECUTE FUNCTION public.no_insert()"
                    % table)
    con.commit()


def mend_inserts(con, table):
    if isinstance(con, sqlite3.Connection):
        con.execute("DROP TRIGGER IF EXISTS no_insert")
    else:
        con.execute("DROP TRIGGER IF EXISTS no_insert ON %s" % table)
    con.commit()
