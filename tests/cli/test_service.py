#!/usr/bin/env python3
"""Black-box tests of issue 19: vaern as a Debian daemon, through the real
binary, the shipped unit (debian/vaern.service) and man pages (man/).

  - Type=notify: `vaern serve` tells $NOTIFY_SOCKET READY=1 only once its
    port accepts connections; RELOADING=1 then READY=1 around a SIGHUP
    reload (the unit's ExecReload); STOPPING=1 on SIGTERM.
  - The unit passes `systemd-analyze verify` (ExecStart pointed at the
    binary under test; the packaged unit is verified as installed by
    scripts/package-test) and carries the sandboxing issue 19 names.
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
MAN1 = os.path.join(ROOT, "man", "vaern.1")
MAN5 = os.path.join(ROOT, "man", "vaern-policy.5")
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


class ManPages(unittest.TestCase):

    @unittest.skipUnless(shutil.which("groff"), "groff is not installed")
    def test_man_pages_format_without_warnings(self):
        for page in (MAN1, MAN5):
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

    def test_version(self):
        r = run_vaern(["--version"])
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, r"^vaern \d+\.\d+\.\d+\n$")


if __name__ == "__main__":
    unittest.main()
