#!/usr/bin/env python3
"""Black-box tests of issue 19: vaern as a Debian daemon, through the real
binary, the shipped unit (debian/vaern.service) and man pages (man/).

  - Type=notify: `vaern serve` tells $NOTIFY_SOCKET READY=1 only once its
    port accepts connections; RELOADING=1 then READY=1 around a SIGHUP
    reload (the unit's ExecReload); STOPPING=1 on SIGTERM.
  - The unit passes `systemd-analyze verify` (ExecStart pointed at the
    binary under test; the packaged unit is verified as installed by
    scripts/package-test) and carries the sandboxing issue 19 names.
  - The configuration file (`vaern serve --config FILE`; the package's
    /etc/vaern/vaern.conf is debian/vaern.conf): its options take effect,
    the command line overrides them, and an unknown key, a key given
    twice, a bad value, a secret others may read or a file others may
    write is refused at start with FILE:LINE and the reason, never the
    value.
  - The man pages format without a warning, and vaern(1) names every
    command and global option `vaern help` prints.

The Debian package itself: scripts/package-test (run by ./check).
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api import BASE_ENV, ROOT, TELENOR, VAERN, run_vaern  # noqa: E402

UNIT = os.path.join(ROOT, "debian", "vaern.service")
CONF = os.path.join(ROOT, "debian", "vaern.conf")
MAN1 = os.path.join(ROOT, "man", "vaern.1")
MAN5 = os.path.join(ROOT, "man", "vaern-policy.5")
MANCONF = os.path.join(ROOT, "man", "vaern.conf.5")
TIMEOUT = 10


class Notify(unittest.TestCase):
    """sd_notify readiness, reload and stop, as systemd would see them."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vaern-notify-")
        self.data = os.path.join(self.tmp, "data")
        r = run_vaern(["--data", self.data, "init", "--policy", TELENOR])
        self.assertEqual(r.rc, 0, r)
        self.sock_path = os.path.join(self.tmp, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.proc = None

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc is not None:
            self.proc.stdout.close()
        self.sock.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def message(self):
        self.sock.settimeout(TIMEOUT)
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            self.fail("vaern serve sent nothing to $NOTIFY_SOCKET")
        return dict(line.split("=", 1)
                    for line in data.decode().split("\n") if "=" in line)

    def start(self, env):
        self.proc = subprocess.Popen(
            [VAERN, "--data", self.data, "serve", "--listen", "127.0.0.1:0",
             "--quiet", "--sweep-every", "off"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)

    def test_ready_reload_stopping(self):
        env = dict(BASE_ENV, NOTIFY_SOCKET=self.sock_path)
        self.start(env)
        msg = self.message()
        self.assertEqual(msg.get("READY"), "1", msg)
        # READY means the port accepts: the ready line is out already
        # and a connection succeeds at once.
        line = self.proc.stdout.readline()
        port = int(re.search(rb'"port": (\d+)', line).group(1))
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        self.proc.send_signal(signal.SIGHUP)
        self.assertEqual(self.message().get("RELOADING"), "1")
        self.assertEqual(self.message().get("READY"), "1")
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.message().get("STOPPING"), "1")
        self.assertEqual(self.proc.wait(timeout=TIMEOUT), 0)

    def test_without_notify_socket_serves_as_before(self):
        self.start(BASE_ENV)
        line = self.proc.stdout.readline()
        self.assertIn(b'"listening"', line)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=TIMEOUT), 0)
        self.sock.settimeout(0.2)
        with self.assertRaises(socket.timeout):
            self.sock.recv(4096)


class Config(unittest.TestCase):
    """vaern serve --config FILE."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="vaern-conf-")
        self.data = os.path.join(self.tmp, "data")
        r = run_vaern(["--data", self.data, "init", "--policy", TELENOR])
        self.assertEqual(r.rc, 0, r)
        self.conf = os.path.join(self.tmp, "vaern.conf")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, text, mode=0o644):
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(self.conf, mode)

    def serve(self, conf, *extra):
        """Starts serve; returns (ready line or None, stderr)."""
        p = subprocess.Popen(
            [VAERN, "--data", self.data, "serve", "--config", conf,
             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=BASE_ENV)
        try:
            line = p.stdout.readline()
            if line:
                p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        return (line.decode() if line else None), err.decode(), p.returncode

    def test_options_from_the_file_take_effect(self):
        self.write("# a comment\n\nlisten = 127.0.0.1:0\n"
                   "sweep_every = off\nquiet = true\n"
                   "per_address_max = 8\n")
        line, err, rc = self.serve(self.conf)
        self.assertIsNotNone(line, err)
        self.assertIn('"listening": "127.0.0.1:0"', line)
        self.assertEqual(rc, 0, err)

    def test_command_line_overrides_the_file(self):
        # Plain HTTP off loopback is refused (AURA-SEC-1): the file's
        # listen would stop the start, the command line's wins.
        self.write("listen = 192.0.2.1:0\nsweep_every = off\n")
        line, err, rc = self.serve(self.conf)
        self.assertIsNone(line)
        self.assertNotEqual(rc, 0)
        line, err, rc = self.serve(self.conf, "--listen", "127.0.0.1:0")
        self.assertIsNotNone(line, err)
        self.assertEqual(rc, 0, err)

    def test_the_shipped_file_is_valid(self):
        line, err, rc = self.serve(CONF, "--listen", "127.0.0.1:0",
                                   "--sweep-every", "off")
        self.assertIsNotNone(line, err)
        self.assertEqual(rc, 0, err)

    def test_bad_files_are_refused_with_file_and_line(self):
        secret = os.path.join(self.tmp, "smtp-password-x7")
        with open(secret, "w", encoding="utf-8") as f:
            f.write("hunter2-secret\n")
        os.chmod(secret, 0o644)
        cases = [
            ("listen = 127.0.0.1:0\n\nlisen = 127.0.0.1:9\n", 3,
             "unknown key", "lisen"),
            ("listen = 127.0.0.1:0\nthreads = lots-x7\n", 2,
             "threads: not a whole number", "lots-x7"),
            ("threads = 0\n", 1, "threads: not a whole number", None),
            ("sweep_every = 3 weeks-x7\n", 1, "sweep_every: not a duration",
             "weeks-x7"),
            ("quiet = yes-x7\n", 1, "quiet: not true or false", "yes-x7"),
            ("listen = 127.0.0.1:0\nlisten = 127.0.0.1:1\n", 2,
             "listen: given twice (first at line 1)", None),
            ("listen 127.0.0.1:0-x7\n", 1, "not \"key = value\"", "x7"),
            ("smtp_password_file = %s\n" % secret, 1,
             "smtp_password_file: a secret that group or others may read",
             "x7"),
            ("tls_key = %s-missing\n" % secret, 1, "tls_key: no such file",
             "x7"),
        ]
        for text, line_no, why, value in cases:
            with self.subTest(text=text):
                self.write(text)
                line, err, rc = self.serve(self.conf)
                self.assertIsNone(line, err)
                self.assertEqual(rc, 1, err)
                self.assertIn("%s:%d: %s" % (self.conf, line_no, why), err)
                if value is not None:
                    self.assertNotIn(value, err.replace(self.conf, ""))
        os.chmod(secret, 0o600)
        self.write("smtp_password_file = %s\nlisten = 127.0.0.1:0\n"
                   "smtp = smtp://127.0.0.1:2525\nsmtp_from = a@b.dk\n"
                   "smtp_user = u\nsmtp_insecure = true\n"
                   "sweep_every = off\n" % secret)
        line, err, rc = self.serve(self.conf)
        self.assertIsNotNone(line, err)
        self.assertNotIn("hunter2", err)

    def test_a_file_others_may_write_is_refused(self):
        self.write("listen = 127.0.0.1:0\n", mode=0o666)
        line, err, rc = self.serve(self.conf)
        self.assertIsNone(line)
        self.assertEqual(rc, 1)
        self.assertIn("group or others may write it", err)


def unit_settings():
    settings = {}
    with open(UNIT, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "[")):
                k, v = line.split("=", 1)
                settings.setdefault(k, []).append(v)
    return settings


class Unit(unittest.TestCase):

    def test_unit_is_hardened(self):
        s = unit_settings()
        want = {"Type": "notify", "User": "vaern", "ProtectSystem": "strict",
                "ProtectHome": "yes", "PrivateTmp": "yes",
                "NoNewPrivileges": "yes", "StateDirectory": "vaern",
                "StateDirectoryMode": "0700", "CapabilityBoundingSet": "",
                "MemoryDenyWriteExecute": "yes",
                "ExecReload": "/bin/kill -HUP $MAINPID"}
        for k, v in want.items():
            self.assertEqual(s.get(k, [None])[0], v, k)
        self.assertIn("@system-service", s["SystemCallFilter"])
        self.assertTrue(s["LoadCredentialEncrypted"][0].startswith(
            "vaern-master:"))
        self.assertIn("--master-key-file %d/vaern-master",
                      s["ExecStart"][0])
        self.assertIn("--data /var/lib/vaern", s["ExecStart"][0])
        self.assertIn("serve --config /etc/vaern/vaern.conf",
                      s["ExecStart"][0])

    @unittest.skipUnless(shutil.which("systemd-analyze"),
                         "systemd-analyze is not installed")
    def test_systemd_analyze_verify(self):
        tmp = tempfile.mkdtemp(prefix="vaern-unit-")
        try:
            with open(UNIT, encoding="utf-8") as f:
                text = f.read()
            self.assertIn("ExecStart=/usr/bin/vaern ", text)
            path = os.path.join(tmp, "vaern.service")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace("/usr/bin/vaern ",
                                     os.path.abspath(VAERN) + " "))
            p = subprocess.run(["systemd-analyze", "verify", "--man=no",
                                path], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotIn("vaern.service", p.stderr)
            # A broken unit is reported: the check can fail.
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace("Type=notify", "Type=notifyy").replace(
                    "/usr/bin/vaern ", os.path.abspath(VAERN) + " "))
            p = subprocess.run(["systemd-analyze", "verify", "--man=no",
                                path], capture_output=True, text=True,
                               timeout=60)
            self.assertIn("vaern.service:", p.stderr)
            self.assertIn("notifyy", p.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


    @unittest.skipUnless(shutil.which("systemd-analyze"),
                         "systemd-analyze is not installed")
    def test_systemd_analyze_security_exposure_at_most_1_5(self):
        # The figure in docs/operations.md ("The service"): 1.4 OK.
        tmp = tempfile.mkdtemp(prefix="vaern-unit-")
        try:
            shutil.copy(UNIT, tmp)
            p = subprocess.run(["systemd-analyze", "security",
                                "--offline=true", "--no-pager",
                                "--threshold=15", "vaern.service"],
                               cwd=tmp, capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout[-400:])
            self.assertRegex(p.stdout, r"Overall exposure level for "
                             r"vaern.service: 1\.[0-5]")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class Help(unittest.TestCase):
    """`vaern help COMMAND` prints that command's usage (on stdout, exit
    0), the same text the command prints when misused, never the general
    usage; every command `vaern help` lists has one (issue 19)."""

    def commands(self):
        r = run_vaern(["help"])
        self.assertEqual(r.rc, 0, r)
        self.general = r.out
        names = set(re.findall(r"^  ([a-z]+) ",
                               r.out.split("global options")[0], re.M))
        self.assertGreaterEqual(len(names), 16)
        return sorted(names - {"help"})

    def test_every_command_has_its_own_usage(self):
        for name in self.commands():
            with self.subTest(command=name):
                r = run_vaern(["help", name])
                self.assertEqual((r.rc, r.err), (0, ""), r)
                self.assertNotEqual(r.out, self.general)
                self.assertTrue(r.out.startswith("usage:"), r.out)
                self.assertRegex(r.out, r"vaern (\[--data DIR\] )?%s\b"
                                 % name)
                # No other command's usage line.
                others = set(re.findall(
                    r"^(?:usage: *|\s+)vaern (?:\[--data DIR\] )?"
                    r"([a-z]+)\b", r.out, re.M))
                self.assertEqual(others, {name}, r.out)
                # The text the command prints when misused is the same.
                bad = run_vaern([name, "--no-such-option", "x"])
                self.assertEqual(bad.rc, 2, bad)
                self.assertIn(r.out.rstrip("\n"), bad.err, name)

    def test_help_without_a_command_is_the_general_usage(self):
        for argv in (["help"], ["--help"], ["-h"]):
            r = run_vaern(argv)
            self.assertEqual(r.rc, 0, r)
            self.assertIn("global options", r.out)

    def test_unknown_command_is_a_usage_error(self):
        r = run_vaern(["help", "nosuch"])
        self.assertEqual((r.rc, r.out), (2, ""), r)
        self.assertIn("unknown command 'nosuch'", r.err)
        r = run_vaern(["help", "nosuch", "add"])
        self.assertEqual((r.rc, r.out), (2, ""), r)

    def test_help_with_a_subcommand_is_the_commands_usage(self):
        r = run_vaern(["help", "requests", "add"])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.out, run_vaern(["help", "requests"]).out)
        self.assertIn("vaern requests add --type TYPE", r.out)


class ManPages(unittest.TestCase):

    @unittest.skipUnless(shutil.which("groff"), "groff is not installed")
    def test_man_pages_format_without_warnings(self):
        for page in (MAN1, MAN5, MANCONF):
            p = subprocess.run(["groff", "-mdoc", "-ww", "-z", "-Tutf8",
                                page], capture_output=True, text=True)
            self.assertEqual((p.returncode, p.stderr), (0, ""), page)

    def test_vaern_1_names_every_command_of_help(self):
        r = run_vaern(["help"])
        self.assertEqual(r.rc, 0, r)
        commands = set(re.findall(r"^  ([a-z]+) ",
                                  r.out.split("global options")[0], re.M))
        self.assertIn("serve", commands)
        with open(MAN1, encoding="utf-8") as f:
            man = f.read()
        documented = set(re.findall(r"^\.It Cm ([a-z]+)", man, re.M))
        self.assertEqual(commands - documented, set())
        self.assertEqual(documented - commands - {"help"}, set())
        options = set(re.findall(r"(--[a-z-]+)", r.out.split(
            "global options")[1]))
        for opt in options:
            self.assertIn(".It Fl " + opt[1:] + " ", man, opt)

    def test_vaern_conf_5_names_every_key_the_shipped_file_lists(self):
        with open(CONF, encoding="utf-8") as f:
            keys = set(re.findall(r"^#([a-z_]+) =", f.read(), re.M))
        with open(MANCONF, encoding="utf-8") as f:
            man = f.read()
        self.assertGreater(len(keys), 20)
        for key in keys:
            self.assertTrue(re.search(r"^\.It Ic .*\b%s\b" % key, man,
                                      re.M), key)
            # Each key the file lists is one serve accepts.
            self.write_and_check(key)

    def write_and_check(self, key):
        tmp = tempfile.mkdtemp(prefix="vaern-key-")
        try:
            path = os.path.join(tmp, "c.conf")
            with open(path, "w", encoding="utf-8") as f:
                f.write("%s =\n" % key)
            r = run_vaern(["--data", tmp, "serve", "--config", path])
            self.assertEqual(r.rc, 1, r)
            self.assertIn("c.conf:1: %s: no value" % key, r.err)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_version(self):
        r = run_vaern(["--version"])
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, r"^vaern \d+\.\d+\.\d+\n$")


if __name__ == "__main__":
    unittest.main()
