#!/usr/bin/env python3
"""Black-box tests of `vaern policy check`: they run the real binary.

VAERN_BIN names the binary, VAERN_SOURCE_ROOT the source tree (both set by
meson test). Bad policies are written into a private temporary directory.
"""
import glob
import os
import re
import subprocess
import tempfile
import unittest

VAERN = os.environ.get("VAERN_BIN", "build/vaern")
ROOT = os.environ.get("VAERN_SOURCE_ROOT", ".")
EXAMPLE = os.path.join(ROOT, "policies", "example.yaml")

# FILE:LINE:COLUMN: message, or FILE: message for a problem with no place.
DIAG = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<msg>.+)$")


def run(*args):
    """Runs vaern with args; returns (exit code, stdout, stderr)."""
    proc = subprocess.run([VAERN, *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    return proc.returncode, proc.stdout, proc.stderr


def example_text():
    with open(EXAMPLE, encoding="utf-8") as f:
        return f.read()


class PolicyCheck(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def diags(self, stderr):
        """Parses the FILE:LINE:COL lines of stderr."""
        out = []
        for line in stderr.splitlines():
            m = DIAG.match(line)
            self.assertIsNotNone(m, "not FILE:LINE:COL: message: " + line)
            out.append((m["file"], int(m["line"]), int(m["col"]), m["msg"]))
        return out

    def test_example_passes_with_summary(self):
        rc, out, err = run("policy", "check", EXAMPLE)
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "")
        self.assertEqual(
            out,
            EXAMPLE + ": ok: controller example (Eksempel ApS, DK), "
            "5 categories, 3 purposes, 2 retention rules, 1 recipient, "
            "3 roles\n")

    def test_bad_file_lists_every_problem_in_order(self):
        # Three defects, each on its own line: SHOP-PAY-1 (identifier
        # card), AURA-SHARE-1 (processor without agreement) and an
        # undefined category reference.
        text = example_text()
        text = text.replace("phone: {identifier: phone}",
                            "phone: {identifier: card}")
        text = text.replace("    agreement: DPA-2026-01\n", "")
        text = text.replace("categories: [name, email]\n    direct_marketing",
                            "categories: [name, emial]\n    direct_marketing")
        bad = self.write("bad.yaml", text)
        rc, out, err = run("policy", "check", bad)
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        got = self.diags(err)
        self.assertEqual(len(got), 3, err)
        self.assertTrue(all(d[0] == bad for d in got))
        lines = [d[1] for d in got]
        self.assertEqual(lines, sorted(lines))
        self.assertIn("identifier: card is refused", got[0][3])
        self.assertIn("SHOP-PAY-1", got[0][3])
        self.assertEqual(got[0][1], 23)
        self.assertIn("undefined category 'emial'", got[1][3])
        self.assertIn("did you mean 'email'?", got[1][3])
        self.assertEqual(got[1][1], 35)
        self.assertIn("is a processor but has no agreement", got[2][3])
        self.assertIn("AURA-SHARE-1", got[2][3])
        self.assertEqual(got[2][1], 59)

    def test_duplicate_and_unknown_keys(self):
        text = example_text().replace(
            "    period: 2 years\n",
            "    period: 2 years\n    retension: 3 years\n"
            "    period: 3 years\n")
        bad = self.write("dup.yaml", text)
        rc, _, err = run("policy", "check", bad)
        self.assertEqual(rc, 1)
        got = self.diags(err)
        self.assertEqual([d[1] for d in got], [50, 51])
        self.assertIn("unknown key 'retension' in retention rule "
                      "'customers'", got[0][3])
        self.assertIn("duplicate key 'period'", got[1][3])

    def test_transfer_outside_eea_under_none(self):
        # CEK-XFER-1: transfers: none and a recipient in the US.
        text = example_text().replace("    type: processor\n",
                                      "    type: processor\n"
                                      "    country: US\n")
        bad = self.write("xfer.yaml", text)
        rc, _, err = run("policy", "check", bad)
        self.assertEqual(rc, 1)
        got = self.diags(err)
        self.assertEqual(len(got), 1, err)
        self.assertIn("transfers: none, but recipient 'webhost' is in US",
                      got[0][3])
        self.assertIn("CEK-XFER-1", got[0][3])

    def test_several_files(self):
        good = self.write("good.yaml", example_text())
        rc, out, err = run("policy", "check", EXAMPLE, good)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out.splitlines()), 2)
        self.assertTrue(out.startswith(EXAMPLE + ": ok: "))
        self.assertIn(good + ": ok: controller example", out)

        # One bad file among good ones: exit 1, no summary, and the
        # problems of the bad one only (AURA-VER-1: missing version date).
        bad = self.write("bad.yaml", example_text().replace(
            "  policy_version: 2026-01-01\n", ""))
        rc, out, err = run("policy", "check", good, bad, EXAMPLE)
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        got = self.diags(err)
        self.assertEqual(len(got), 1, err)
        self.assertEqual(got[0][0], bad)
        self.assertIn("controller has no policy_version", got[0][3])

    def test_file_level_problems_have_no_position(self):
        empty = self.write("empty.yaml", "")
        rc, _, err = run("policy", "check", empty)
        self.assertEqual(rc, 1)
        self.assertEqual(err, empty + ": the policy file is empty\n")

        big = os.path.join(self.tmp.name, "big.yaml")
        with open(big, "w", encoding="ascii") as f:
            f.write("#" * (1024 * 1024) + "\n")
        rc, _, err = run("policy", "check", big)
        self.assertEqual(rc, 1)
        self.assertIn(big + ": the policy file is larger than", err)

    def test_not_utf8(self):
        path = os.path.join(self.tmp.name, "latin1.yaml")
        with open(path, "wb") as f:
            f.write(example_text().replace("Eksempel", "Eks\u00e6mpel")
                    .encode("latin-1"))
        rc, _, err = run("policy", "check", path)
        self.assertEqual(rc, 1)
        got = self.diags(err)
        self.assertEqual(got[0][1], 6)
        self.assertIn("not UTF-8", got[0][3])

    def test_unreadable_file(self):
        missing = os.path.join(self.tmp.name, "missing.yaml")
        rc, out, err = run("policy", "check", missing)
        self.assertEqual(rc, 3)  # EXIT_FAILURE_: i/o
        self.assertEqual(out, "")
        self.assertIn(missing + ": cannot read", err)

    def test_usage(self):
        rc, out, err = run("policy", "check")
        self.assertEqual(rc, 2)
        self.assertEqual(out, "")
        self.assertIn("usage", err)
        rc, _, _ = run("policy")
        self.assertEqual(rc, 2)
        rc, _, _ = run("policy", "frobnicate")
        self.assertEqual(rc, 2)

    def test_seed_policies_pass(self):
        # The five seed controllers (AURA, AOPT, SHOP, CEK, TEL) and the
        # example must all check clean.
        files = sorted(glob.glob(os.path.join(ROOT, "policies", "*.yaml")))
        self.assertGreaterEqual(len(files), 1)
        rc, out, err = run("policy", "check", *files)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out.splitlines()), len(files))


if __name__ == "__main__":
    unittest.main()
