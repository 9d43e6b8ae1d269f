#!/usr/bin/env python3
"""Black-box tests of `vaern id check TYPE VALUE|-`.

Drives the real vaern binary (env VAERN_BIN) through its command line.
Each identifier type is checked with a table of valid inputs (exit 0, the
one normal form on stdout) and invalid inputs (exit 1, a reason on stderr
that never echoes the value: GDPR-32, CONVENTIONS.md habit 4).

Clauses: CEK-CAT-1, TEL-CAT-1, AOPT-CAT-1 (the identifier categories),
SHOP-PAY-1 (card numbers), GDPR-32 (no personal data in messages), and the
registration numbers printed in the seeds (AURA CVR 21628549, CEKURA CVR
34046352, Aurora Optimal organisationsnummer 559331-7323).
"""
import os
import subprocess
import unittest

VAERN = os.environ.get("VAERN_BIN")
TIMEOUT = 20

# The environment vaern runs in: no VAERN_* from the caller's shell, and a
# fixed clock so personnummer centuries do not move with the calendar.
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}
BASE_ENV["VAERN_AS_OF"] = "2026-06-01"


def vaern(*args, stdin=None, env=None):
    """Runs vaern with args; returns (exit code, stdout, stderr) as text."""
    e = dict(BASE_ENV)
    if env:
        e.update(env)
    p = subprocess.run([VAERN, *args], input=stdin, capture_output=True,
                       env=e, timeout=TIMEOUT)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


# (type, input, normal form)
VALID = [
    # Danish CPR (CEK-CAT-1, TEL-CAT-1): three spellings, one normal form.
    ("cpr", "010190-1234", "010190-1234"),
    ("cpr", "0101901234", "010190-1234"),
    ("cpr", "010190 1234", "010190-1234"),
    ("cpr", " 010190-1234\t", "010190-1234"),
    ("cpr", "290200-4000", "290200-4000"),  # 7th digit 4: 2000, leap year
    ("cpr", "010157-5000", "010157-5000"),      # 7th digit 5, yy <= 57: 2057
    # Swedish personnummer (AOPT-CAT-1).
    ("personnummer", "811218-9876", "19811218-9876"),
    ("personnummer", "8112189876", "19811218-9876"),
    ("personnummer", "19811218-9876", "19811218-9876"),
    ("personnummer", "198112189876", "19811218-9876"),
    ("personnummer", "811218+9876", "18811218-9876"),   # '+': 100 or older
    ("personnummer", "701063-2391", "19701063-2391"),   # coordination number
    # Danish CVR: the seeds' numbers (AURA, CEKURA) as printed, and variants.
    ("cvr", "21 62 85 49", "21628549"),
    ("cvr", "21628549", "21628549"),
    ("cvr", "34046352", "34046352"),
    ("cvr", "DK34046352", "34046352"),
    ("cvr", "dk 34046352", "34046352"),
    # Swedish organisationsnummer: the seed's number (Aurora Optimal AB).
    ("orgnr", "559331-7323", "559331-7323"),
    ("orgnr", "5593317323", "559331-7323"),
    ("orgnr", "16559331-7323", "559331-7323"),
    ("orgnr", "165593317323", "559331-7323"),
    # E-mail: lower-cased whole (one person, one address).
    ("email", "Anna@Example.DK", "anna@example.dk"),
    ("email", "ANNA@EXAMPLE.DK", "anna@example.dk"),
    ("email", "anna@example.dk", "anna@example.dk"),
    ("email", "  A.B+Tag@Sub.Example.com ", "a.b+tag@sub.example.com"),
    ("email", "fiberpersondata@etrack.aura.dk",
     "fiberpersondata@etrack.aura.dk"),
    ("email", "mail@cekura.dk", "mail@cekura.dk"),
    ("email", "support@auroraoptimal.com", "support@auroraoptimal.com"),
    ("email", "kundeservice@telenor.dk", "kundeservice@telenor.dk"),
    # Phone in E.164; the seeds' numbers as printed (AURA, CEKURA, Telenor).
    ("phone", "+45 20 30 40 50", "+4520304050"),
    ("phone", "20304050", "+4520304050"),
    ("phone", "20-30-40-50", "+4520304050"),
    ("phone", "0045 20304050", "+4520304050"),
    ("phone", "(+45) 20 30 40 50", "+4520304050"),
    ("phone", "87 92 55 77", "+4587925577"),
    ("phone", "32 31 60 50", "+4532316050"),
    ("phone", "72 100 100", "+4572100100"),
    ("phone", "+46 (0)70 123 45 67", "+46701234567"),
    ("phone", "+46 70 123 45 67", "+46701234567"),
    ("phone", "+1 202 555 0100", "+12025550100"),
    # Payment card (SHOP-PAY-1): digits only.
    ("card", "4111 1111 1111 1111", "4111111111111111"),
    ("card", "4111-1111-1111-1111", "4111111111111111"),
    ("card", "4111111111111111", "4111111111111111"),
    ("card", "378282246310005", "378282246310005"),
    # username and other: trimmed text.
    ("username", "  anna_h ", "anna_h"),
    ("username", "Åse", "Åse"),
    ("username", "u" * 64, "u" * 64),
    ("other", "KUNDE-12345", "KUNDE-12345"),
    ("other", " installation 778 / contract 99 ",
     "installation 778 / contract 99"),  # AURA-LOGIN-1
    ("other", "o" * 128, "o" * 128),
]

# (type, input, a word the reason must contain)
INVALID = [
    ("cpr", "320190-1234", "day"),
    ("cpr", "011390-1234", "month"),
    ("cpr", "290201-4000", "birth date"),      # 2001 is no leap year
    ("cpr", "12345", "DDMMYY"),
    ("cpr", "010190-12345", "DDMMYY"),
    ("cpr", "010190/1234", "DDMMYY"),
    ("cpr", "0101901234\x01", "control"),
    ("personnummer", "811218-9875", "check digit"),
    ("personnummer", "811318-9876", "month"),
    ("personnummer", "20811218-9876", "future"),   # Luhn ok, born in 2081
    ("personnummer", "81121898", "expected"),
    ("cvr", "21628548", "check digit"),
    ("cvr", "2162854", "8 digits"),
    ("cvr", "216285499", "8 digits"),
    ("cvr", "01628549", "first digit"),
    ("cvr", "21.62.85.49", "digits"),
    ("orgnr", "559331-7324", "check digit"),
    ("orgnr", "550331-7323", "third digit"),
    ("orgnr", "55933-17323", "expected"),
    ("orgnr", "17559331-7323", "prefix 16"),
    ("email", "anna.example.dk", "@"),
    ("email", "anna@@example.dk", "more than one"),
    ("email", "anna@localhost", "no dot"),
    ("email", "anna@exa_mple.dk", "domain"),
    ("email", ".anna@example.dk", "dot"),
    ("email", "an na@example.dk", "local part"),
    ("email", "anna@-example.dk", "'-'"),
    ("email", "   ", "empty"),
    ("phone", "2030405", "8 digits"),
    ("phone", "+45 2030 405", "8 digits"),
    ("phone", "2030405x", "only digits"),
    ("phone", "20+304050", "'+'"),
    ("phone", "+0 20304050", "country code"),
    ("phone", "+46 12345", "digits"),
    ("card", "4111 1111 1111 1112", "check digit"),
    ("card", "4111  1111 1111 1111", "singly"),
    ("card", "411111111111", "13 to 19"),
    ("card", "4111 1111 1111 111a", "only digits"),
    ("username", "u" * 65, "64"),
    ("username", "ab\x01cd", "control"),
    ("username", "ab\u0085cd", "control"),       # a C1 control character
    ("other", "o" * 129, "128"),
    ("other", "x" * 255, "254"),
]


def digits_of(s):
    return "".join(c for c in s if c.isdigit())


@unittest.skipIf(not VAERN, "VAERN_BIN is not set")
class IdCheck(unittest.TestCase):

    def test_valid_identifiers_normalise(self):
        """CEK-CAT-1, TEL-CAT-1, AOPT-CAT-1, SHOP-PAY-1: valid -> exit 0
        and the normal form on stdout, nothing on stderr."""
        for typ, value, norm in VALID:
            with self.subTest(type=typ, value=value):
                rc, out, err = vaern("id", "check", typ, value)
                self.assertEqual(rc, 0, err)
                self.assertEqual(out, norm + "\n")
                self.assertEqual(err, "")

    def test_valid_identifiers_from_stdin(self):
        """`-` reads the value from standard input (keeps it out of ps)."""
        for typ, value, norm in VALID:
            with self.subTest(type=typ, value=value):
                rc, out, err = vaern("id", "check", typ, "-",
                                     stdin=(value + "\n").encode())
                self.assertEqual(rc, 0, err)
                self.assertEqual(out, norm + "\n")

    def test_normal_form_is_a_fixed_point(self):
        """The normal form checks as itself (the blind index is stable)."""
        for typ, _, norm in VALID:
            with self.subTest(type=typ, value=norm):
                rc, out, _ = vaern("id", "check", typ, norm)
                self.assertEqual(rc, 0)
                self.assertEqual(out, norm + "\n")

    def check_refused(self, typ, value, why, rc, out, err):
        self.assertEqual(rc, 1, err)
        self.assertEqual(out, "")
        self.assertIn("not a valid " + typ, err)
        self.assertIn(why, err)
        # GDPR-32: the reason never echoes the value.
        stripped = value.strip()
        if len(stripped) >= 4:
            self.assertNotIn(stripped, err)
        d = digits_of(value)
        if len(d) >= 6:
            self.assertNotIn(d, digits_of(err))

    def test_invalid_identifiers_refused_without_echo(self):
        """Invalid -> exit 1, a reason on stderr, never the value (GDPR-32)."""
        for typ, value, why in INVALID:
            with self.subTest(type=typ, value=value):
                rc, out, err = vaern("id", "check", typ, value)
                self.check_refused(typ, value, why, rc, out, err)

    def test_invalid_identifiers_from_stdin(self):
        for typ, value, why in INVALID:
            if "\n" in value:
                continue
            with self.subTest(type=typ, value=value):
                rc, out, err = vaern("id", "check", typ, "-",
                                     stdin=(value + "\n").encode())
                self.check_refused(typ, value, why, rc, out, err)

    def test_invalid_utf8_refused(self):
        """username/other must be valid UTF-8 (value given as raw bytes)."""
        for typ in ("username", "other"):
            with self.subTest(type=typ):
                p = subprocess.run([VAERN, "id", "check", typ, "-"],
                                   input=b"ab\xff\xfecd\n",
                                   capture_output=True, env=BASE_ENV,
                                   timeout=TIMEOUT)
                self.assertEqual(p.returncode, 1)
                self.assertIn(b"UTF-8", p.stderr)
                self.assertNotIn(b"ab\xff", p.stderr)
                self.assertEqual(p.stdout, b"")

    def test_seed_registration_numbers(self):
        """AURA-VER-1 / CEK / AOPT: every registration number printed in the
        seeds passes, in the spelling the seed prints."""
        seeds = [("cvr", "21 62 85 49", "21628549"),   # AURA Fiber A/S
                 ("cvr", "21628549", "21628549"),
                 ("cvr", "34046352", "34046352"),      # CEKURA A/S
                 ("orgnr", "559331-7323", "559331-7323")]  # Aurora Optimal AB
        for typ, value, norm in seeds:
            with self.subTest(type=typ, value=value):
                rc, out, err = vaern("id", "check", typ, value)
                self.assertEqual((rc, out), (0, norm + "\n"), err)

    def test_seed_files_hold_those_numbers(self):
        """The numbers above are really the ones the seeds print."""
        seeds_dir = "/work/shared/seeds"
        if not os.path.isdir(seeds_dir):
            self.skipTest("seeds not available")
        text = ""
        for name in sorted(os.listdir(seeds_dir)):
            with open(os.path.join(seeds_dir, name), encoding="utf-8") as f:
                text += f.read()
        for printed in ("21 62 85 49", "34046352", "559331-7323"):
            self.assertIn(printed, text)

    def test_usage_errors_exit_2(self):
        cases = [
            ("unknown type", ["id", "check", "iban", "DK5000400440116243"]),
            ("type name case", ["id", "check", "CPR", "010190-1234"]),
            ("no value", ["id", "check", "cpr"]),
            ("extra argument", ["id", "check", "cpr", "010190-1234", "x"]),
            ("wrong verb", ["id", "validate", "cpr", "010190-1234"]),
            ("nothing", ["id"]),
        ]
        for name, args in cases:
            with self.subTest(name):
                rc, out, err = vaern(*args)
                self.assertEqual(rc, 2, err)
                self.assertEqual(out, "")
                self.assertNotEqual(err, "")
                self.assertNotIn("DK5000400440116243", err)

    def test_empty_stdin_is_a_usage_error(self):
        rc, out, err = vaern("id", "check", "cpr", "-", stdin=b"")
        self.assertEqual(rc, 2)
        self.assertEqual(out, "")

    def test_as_of_moves_personnummer_century(self):
        """The century of a 10-digit personnummer follows the vaern clock
        (--as-of): 811218-9876 is someone born in 1881 as of 1980."""
        rc, out, err = vaern("--as-of", "1980-01-01", "id", "check",
                             "personnummer", "811218-9876")
        self.assertEqual((rc, out), (0, "18811218-9876\n"), err)
        rc, out, err = vaern("id", "check", "personnummer", "811218-9876",
                             "--as-of", "2026-06-01")
        self.assertEqual((rc, out), (0, "19811218-9876\n"), err)


if __name__ == "__main__":
    unittest.main()
