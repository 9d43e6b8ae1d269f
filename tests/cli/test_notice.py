#!/usr/bin/env python3
"""Black-box tests of the policy rendered back (issue 15 points 1, 2): the
privacy notice (`vaern policy render`, GET /privacy/{controller}) and the
records of processing (`vaern policy ropa`, GET /v1/ropa), driven through
the real binary on the shipped seed policies.

Clauses of mission/CLAUSES.md proved here, each named in its test:
  AURA-VER-1       the notice carries the policy's version date
  AURA-COMPLAIN-1  complaints: the controller or Datatilsynet (datatilsynet.dk)
  AOPT-COMPLAIN-1  complaints: the Swedish supervisory authority
  CEK-COMPLAIN-1   complaints: first the customer service manager, then
                   Datatilsynet
  GDPR-30          records of processing, Art. 30(1)(a)-(g), for the DPO
The golden tests compare the five seed notices x three languages with the
committed files in docs/notices/ (scripts/notices writes them).

The server and its helpers come from test_api.py.
"""
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api import (AURA, CEKURA, POLICY_DIR, ROOT, TELENOR,  # noqa: E402
                      WEBSHOP, ApiCase, run_vaern)

AOPT = os.path.join(POLICY_DIR, "aurora-optimal.yaml")
SEEDS = ("aura-fiber", "aurora-optimal", "webshop", "cekura", "telenor")
NOTICES = os.path.join(ROOT, "docs", "notices")
LANGS = ("da", "sv", "en")


def render(*args):
    return run_vaern(["policy", "render", *args])


def ropa(*args):
    return run_vaern(["policy", "ropa", *args])


def tree_digest(path):
    """A digest of every file's name and bytes under path."""
    h = hashlib.sha256()
    for d, _, files in sorted(os.walk(path)):
        for f in sorted(files):
            p = os.path.join(d, f)
            h.update(p.encode())
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


class Golden(unittest.TestCase):
    """The five seed notices in three languages, as committed."""

    def test_seed_notices_match_committed_files(self):
        """AURA-VER-1, every *-COMPLAIN-1: each of the 5 x 3 notices, HTML
        and Markdown, is byte for byte the file under docs/notices/."""
        n = 0
        for seed in SEEDS:
            for lang in LANGS:
                for fmt in ("html", "md"):
                    path = os.path.join(NOTICES,
                                        "%s.%s.%s" % (seed, lang, fmt))
                    with open(path, encoding="utf-8") as f:
                        want = f.read()
                    r = render(os.path.join(POLICY_DIR, seed + ".yaml"),
                               "--lang", lang, "--format", fmt)
                    self.assertEqual(r.rc, 0, r)
                    self.assertEqual(r.out, want,
                                     "%s differs: run scripts/notices "
                                     "and review the diff" % path)
                    n += 1
        self.assertEqual(n, 30)

    def test_templates_are_complete_or_the_build_fails(self):
        """A missing translation fails the build (scripts/strings.py)."""
        tdir = os.path.join(ROOT, "templates", "notice")
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(os.path.join(tdir, "en.strings"), tmp)
            shutil.copy(os.path.join(tdir, "sv.strings"), tmp)
            with open(os.path.join(tdir, "da.strings"),
                      encoding="utf-8") as f:
                lines = [ln for ln in f
                         if not ln.startswith("h_complaints =")]
            with open(os.path.join(tmp, "da.strings"), "w",
                      encoding="utf-8") as f:
                f.writelines(lines)
            args = [sys.executable,
                    os.path.join(ROOT, "scripts", "strings.py"),
                    os.path.join(tmp, "out.h")] + [
                os.path.join(tmp, l + ".strings") for l in ("en", "da", "sv")]
            p = subprocess.run(args, capture_output=True, text=True)
            self.assertEqual(p.returncode, 1, p)
            self.assertIn("missing translation of 'h_complaints'", p.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "out.h")))
            # The shipped templates pass.
            args[3:] = [os.path.join(tdir, l + ".strings")
                        for l in ("en", "da", "sv")]
            p = subprocess.run(args, capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p)


def policy_events(path):
    """The event names under `events:` of a policy file (two-space keys)."""
    names, inside = [], False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("events:"):
                inside = True
            elif inside and line[:1] not in (" ", "#", "\n"):
                inside = False
            elif inside and line.startswith("  ") and \
                    line[2:3].isalpha() and ":" in line:
                names.append(line[2:line.index(":")])
    return names


def template_keys(lang):
    keys = set()
    with open(os.path.join(ROOT, "templates", "notice", lang + ".strings"),
              encoding="utf-8") as f:
        for line in f:
            if " = " in line and not line.startswith("#"):
                keys.add(line.split(" = ", 1)[0])
    return keys


class Translations(unittest.TestCase):
    """Issue 15 point 2: every word of the notice in its language; the
    events a period runs from too."""

    def test_every_event_of_the_shipped_policies_has_its_words(self):
        """Each event of each shipped policy has its ev_<name> template in
        da, sv and en, and each policy renders in all three."""
        policies = sorted(f for f in os.listdir(POLICY_DIR)
                          if f.endswith(".yaml"))
        self.assertGreaterEqual(len(policies), 6)
        for lang in LANGS:
            keys = template_keys(lang)
            for pol in policies:
                events = policy_events(os.path.join(POLICY_DIR, pol))
                self.assertTrue(events, pol)
                for ev in events:
                    self.assertIn("ev_" + ev, keys, (pol, lang))
                r = render(os.path.join(POLICY_DIR, pol), "--lang", lang,
                           "--format", "txt")
                self.assertEqual(r.rc, 0, (pol, lang, r))

    def test_event_words_in_each_language(self):
        """The Danish seed's events in en and sv are the templates' words,
        never the Danish policy text; in da the controller's own."""
        want = {"en": "2 months after the end of your subscription",
                "sv": "2 månader efter slutet av ditt abonnemang",
                "da": "2 måneder efter Abonnementet er opsagt"}
        for lang, text in want.items():
            r = render(CEKURA, "--lang", lang, "--format", "txt")
            self.assertEqual(r.rc, 0, r)
            self.assertIn(text, r.out, lang)
            if lang != "da":
                for danish in ("Abonnementet er opsagt",
                               "Du er stoppet som kunde",
                               "Konkurrencen er udløbet"):
                    self.assertNotIn(danish, r.out, lang)
        # The Swedish seed in Danish and English likewise.
        for lang, text in (("da", "den sidste afbetaling på et køb"),
                           ("en", "the last instalment of a purchase")):
            r = render(AOPT, "--lang", lang, "--format", "txt")
            self.assertEqual(r.rc, 0, r)
            self.assertIn(text, r.out, lang)
            self.assertNotIn("Sista avbetalningen", r.out, lang)

    def test_event_without_words_refused_in_other_languages(self):
        """An event with no template can be rendered only in the policy's
        own language: elsewhere exit 1 naming the event and the template
        file, nothing printed (notice and records alike)."""
        with open(CEKURA, encoding="utf-8") as f:
            text = f.read()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "cekura.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace(
                    "events:\n", "events:\n  audit_done: Revisionen er "
                    "afsluttet\n", 1))
            r = render(path, "--lang", "da", "--format", "md")
            self.assertEqual(r.rc, 0, r)
            for lang in ("en", "sv"):
                r = render(path, "--lang", lang)
                self.assertEqual((r.rc, r.out), (1, ""), r)
                self.assertIn("event 'audit_done' has no wording in '%s': "
                              "templates/notice/%s.strings needs "
                              "ev_audit_done" % (lang, lang), r.err)
                r = ropa(path, "--lang", lang)
                self.assertEqual((r.rc, r.out), (1, ""), r)
                self.assertIn("ev_audit_done", r.err)

    def test_notice_says_the_notice_period_cek_purp_5(self):
        """CEK-PURP-5, Art. 13(3): the notice says that a new purpose is
        told first, and the policy's notice period, in each language."""
        want = {"en": "we start only 30 days after telling you",
                "da": "vi begynder først 30 dage efter beskeden",
                "sv": "vi börjar först 30 dagar efter meddelandet"}
        for lang, text in want.items():
            r = render(CEKURA, "--lang", lang, "--format", "txt")
            self.assertEqual(r.rc, 0, r)
            self.assertIn(text, r.out, lang)
        with open(CEKURA, encoding="utf-8") as f:
            text = f.read()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "cekura.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace("notice_period: 30 days",
                                     "notice_period: 6 weeks", 1))
            r = render(path, "--lang", "en", "--format", "txt")
            self.assertIn("we start only 6 weeks after telling you", r.out)


class Notice(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-notice-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def edited(self, src, old, new):
        with open(src, encoding="utf-8") as f:
            text = f.read()
        self.assertIn(old, text)
        path = os.path.join(self.tmp, os.path.basename(src))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new, 1))
        return path

    def test_version_date_aura_ver_1(self):
        """AURA-VER-1: the notice names the version date in force (23 March
        2021), and a day earlier in the policy is a day earlier in the
        notice: the date comes from the policy, not the renderer."""
        r = render(AURA, "--lang", "en", "--format", "txt")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("Version of 2021-03-23\n", r.out)
        r = render(AURA, "--lang", "da", "--format", "txt")
        self.assertIn("Version af 2021-03-23\n", r.out)
        day_before = self.edited(AURA, "policy_version: 2021-03-23",
                                 "policy_version: 2021-03-22")
        r = render(day_before, "--lang", "en", "--format", "txt")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("Version of 2021-03-22\n", r.out)
        self.assertNotIn("2021-03-23", r.out)

    def test_complaints_aura_complain_1(self):
        """AURA-COMPLAIN-1: the controller or Datatilsynet (datatilsynet.dk),
        with a working link in HTML."""
        r = render(AURA, "--lang", "da", "--format", "html")
        self.assertEqual(r.rc, 0, r)
        section = r.out.split("<h2>Klage</h2>", 1)[1]
        self.assertIn("Du kan klage til tilsynsmyndigheden: Datatilsynet",
                      section)
        self.assertIn('href="https://www.datatilsynet.dk', section)

    def test_complaints_aopt_complain_1(self):
        """AOPT-COMPLAIN-1: the Swedish supervisory authority, in Swedish."""
        r = render(AOPT, "--format", "txt")  # the policy's language: sv
        self.assertEqual(r.rc, 0, r)
        self.assertIn("Klagomål\n--------\n", r.out)
        section = r.out.split("Klagomål\n", 1)[1]
        self.assertRegex(section, r"klaga till tillsynsmyndigheten: "
                                  r"Integritetsskyddsmyndigheten")
        self.assertIn("imy.se", section)

    def test_complaints_cek_complain_1(self):
        """CEK-COMPLAIN-1: first the customer service manager, then
        Datatilsynet; a policy without `complaints` names only the
        authority (the controller's line comes from the policy)."""
        r = render(CEKURA, "--lang", "en", "--format", "txt")
        self.assertEqual(r.rc, 0, r)
        section = r.out.split("Complaints\n", 1)[1]
        first = section.index("You can complain to us: Vores "
                              "kundeservicechef")
        then = section.index("You can complain to the supervisory "
                             "authority: Datatilsynet")
        self.assertLess(first, then)
        without = self.edited(CEKURA, "  complaints: >-", "  x_gone: >-")
        with open(without, encoding="utf-8") as f:
            text = f.read()
        text = text.replace("  x_gone: >-\n    Vores kundeservicechef, "
                            "CEKURA A/S, Amagerbrogade 41, 1., 2300 "
                            "København\n    S, tlf. 32 31 60 50, "
                            "mail@cekura.dk. Er du utilfreds med svaret, "
                            "kan du\n    klage til Datatilsynet.\n", "")
        with open(without, "w", encoding="utf-8") as f:
            f.write(text)
        r = render(without, "--lang", "en", "--format", "txt")
        self.assertEqual(r.rc, 0, r)
        self.assertNotIn("You can complain to us", r.out)
        self.assertIn("supervisory authority: Datatilsynet", r.out)

    def test_notice_is_complete(self):
        """Art. 13/14: identity and contact, every purpose with its basis
        and legitimate interests, special categories with the Art. 9
        condition, sources (a third party by name, TEL-CAT-3), recipients,
        transfers, retention in words, rights, consent withdrawal,
        cookies, complaints."""
        r = render(CEKURA, "--lang", "en", "--format", "txt")
        self.assertEqual(r.rc, 0, r)
        t = r.out
        for want in ("CEKURA A/S", "Registration number: 34046352",
                     "Amagerbrogade 41", "mail@cekura.dk",
                     "a contract with you, or steps before one (GDPR Art. "
                     "6(1)(b)); our legitimate interests",
                     "Our legitimate interests: At sikre",
                     "Special categories are processed under GDPR Art. "
                     "9(2), point a",
                     "Helbredsmæssige oplysninger (special category",
                     "Praktiserende læger (independent controller; only "
                     "when agreed with you beforehand)",
                     "None: your data is not transferred outside the "
                     "EU/EEA.",
                     "5 years after the end of the financial year "
                     "(Required by Bogføringsloven § 10)",
                     "2 months after the latest of: it was collected; "
                     "the end of your customer relationship with us",
                     "data portability", "You can withdraw your consent",
                     "Markedsføring elektronisk eller telefonisk"):
            self.assertIn(want, t)
        r = render(TELENOR, "--lang", "en", "--format", "txt")
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, r"from a third party: \S")  # TEL-CAT-3
        r = render(AURA, "--lang", "en", "--format", "txt")
        self.assertIn("Statistics cookies (only if you accept them): ",
                      r.out)  # AURA-COOKIE-1

    def test_rights_and_how_to_use_them_aopt_access_1(self):
        """AOPT-ACCESS-1: the notice says an access request is accepted
        only in writing (the policy's request_channels); a right without a
        restriction is listed without one."""
        r = render(AOPT, "--format", "txt")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("  * tillgång till dina uppgifter (endast via e-post, "
                      "brev, webbformuläret, kundportalen, vårt API, "
                      "OpenDSR)\n", r.out)
        self.assertIn("  * radering\n", r.out)
        self.assertNotIn("telefon)", r.out)
        r = render(CEKURA, "--lang", "en", "--format", "txt")
        self.assertIn("  * access to your data\n", r.out)

    def test_retention_in_words_each_language(self):
        """SHOP-RET-2 in words in each language, from the policy's event."""
        want = {"en": "5 years after ", "da": "5 år efter ",
                "sv": "5 år efter "}
        for lang, text in want.items():
            r = render(WEBSHOP, "--lang", lang, "--format", "txt")
            self.assertEqual(r.rc, 0, r)
            self.assertIn(text, r.out, lang)
        r = render(WEBSHOP, "--lang", "da", "--format", "txt")
        self.assertIn("2 år efter", r.out)  # SHOP-RET-1

    def test_html_is_static_accessible_printable(self):
        """HTML: a language attribute, one h1, headings, no script, no
        external resource, a print style."""
        r = render(CEKURA, "--lang", "da", "--format", "html")
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(r.out.startswith("<!DOCTYPE html>\n<html lang=\"da\">"))
        self.assertEqual(r.out.count("<h1>"), 1)
        self.assertGreaterEqual(r.out.count("<h2>"), 8)
        self.assertNotIn("<script", r.out.lower())
        self.assertNotIn("src=", r.out)
        self.assertIn("@media print", r.out)

    def test_policy_text_is_escaped(self):
        """Policy text is text: markup in a description is escaped."""
        p = self.edited(CEKURA, "description: Navn\n",
                        "description: \"<b>Navn</b> & *x*\"\n")
        r = render(p, "--lang", "en", "--format", "html")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("&lt;b&gt;Navn&lt;/b&gt; &amp; *x*", r.out)
        self.assertNotIn("<b>Navn", r.out)
        r = render(p, "--lang", "en", "--format", "md")
        self.assertIn("\\<b\\>Navn\\</b\\> & \\*x\\*", r.out)

    def test_bad_input_is_refused_and_nothing_written(self):
        """A language without templates, an unknown format, a controller
        that is not loaded, a bad policy: exit 1 with the reason; the data
        directory is unchanged (rendering never writes)."""
        data = os.path.join(self.tmp, "data")
        r = run_vaern(["--data", data, "init", "--policy", CEKURA])
        self.assertEqual(r.rc, 0, r)
        before = tree_digest(data)
        r = run_vaern(["--data", data, "policy", "render", "cekura",
                       "--lang", "fr"])
        self.assertEqual(r.rc, 1, r)
        self.assertIn("--lang: no templates for that language (one of da, "
                      "sv, en)", r.err)
        self.assertEqual(r.out, "")
        r = run_vaern(["--data", data, "policy", "render", "cekura",
                       "--format", "pdf"])
        self.assertEqual(r.rc, 1, r)
        self.assertIn("--format: one of html, md, txt", r.err)
        r = run_vaern(["--data", data, "policy", "ropa", "cekura",
                       "--format", "xml"])
        self.assertEqual(r.rc, 1, r)
        self.assertIn("--format: one of json, csv, html", r.err)
        r = run_vaern(["--data", data, "policy", "render", "nosuch"])
        self.assertEqual(r.rc, 1, r)
        self.assertIn("nosuch", r.err)
        bad = self.edited(CEKURA, "  policy_version: 2018-05-25",
                          "  policy_version: 2018-02-30")
        r = render(bad)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("policy_version", r.err)
        self.assertEqual(r.out, "")
        # A loaded controller renders as its file does.
        r = run_vaern(["--data", data, "policy", "render", "cekura",
                       "--lang", "sv", "--format", "md"])
        self.assertEqual(r.rc, 0, r)
        with open(os.path.join(NOTICES, "cekura.sv.md"),
                  encoding="utf-8") as f:
            self.assertEqual(r.out, f.read())
        self.assertEqual(tree_digest(data), before)


class Ropa(unittest.TestCase):
    """GDPR-30 through the CLI."""

    def test_ropa_json_art_30_1_a_to_g_gdpr_30(self):
        """GDPR-30: (a) controller, representative, DPO; (b) purposes;
        (c) subjects and data; (d) recipients; (e) transfers; (f) erasure
        limits; (g) security measures; what the policy does not state is
        said to be not stated."""
        r = ropa(CEKURA, "--lang", "en")
        self.assertEqual(r.rc, 0, r)
        doc = r.json()
        self.assertEqual(doc["controller"]["name"], "CEKURA A/S")
        self.assertEqual(doc["controller"]["registration"], "34046352")
        self.assertEqual(doc["representative"], "not stated")
        self.assertEqual(doc["dpo"], "not stated")
        procs = {p["id"]: p for p in doc["processing"]}
        self.assertEqual(len(procs), 9)
        admin = procs["customer_admin"]
        self.assertEqual(admin["legal_basis"], "b, f")
        self.assertEqual(admin["data_subjects"],
                         ["Potentielle og eksisterende kunder",
                          "Kontaktpersoner hos erhvervskunder"])
        self.assertEqual(procs["marketing_post"]["data_subjects"],
                         "not stated")
        self.assertIn("cpr", [c["id"] for c in admin["categories"]])
        self.assertEqual([x["id"] for x in procs["special_needs"]
                          ["recipients"]],
                         ["family_members", "general_practitioner",
                          "public_authorities"])
        self.assertEqual(doc["transfers"],
                         "None: your data is not transferred outside the "
                         "EU/EEA.")
        books = procs["bookkeeping"]["erasure"]
        self.assertIn("5 years after the end of the financial year",
                      [e["period"] for e in books])
        self.assertEqual(doc["security"],
                         ["Et højt sikkerhedsniveau ved behandling af "
                          "personoplysninger, såvel i organisationen som i "
                          "systemerne"])
        # The seed that states no measures says so (AOPT).
        r = ropa(AOPT)
        self.assertEqual(r.json()["security"], "inte angivet")

    def test_ropa_declared_dpo_and_representative_gdpr_30(self):
        """GDPR-30 (a): a declared DPO and representative are named; the
        notice gets a DPO section only then (Art. 13(1)(b))."""
        with open(CEKURA, encoding="utf-8") as f:
            text = f.read()
        text = text.replace("  language: da\n",
                            "  language: da\n  dpo:\n    name: DPO A/S\n"
                            "    email: dpo@cekura.dk\n"
                            "  representative: Ingen (etableret i EU)\n", 1)
        with tempfile.TemporaryDirectory() as tmp:
            p = os.path.join(tmp, "cekura.yaml")
            with open(p, "w", encoding="utf-8") as f:
                f.write(text)
            r = ropa(p)
            self.assertEqual(r.rc, 0, r)
            self.assertEqual(r.json()["dpo"], {"name": "DPO A/S",
                                               "email": "dpo@cekura.dk",
                                               "phone": None,
                                               "address": None})
            self.assertEqual(r.json()["representative"],
                             "Ingen (etableret i EU)")
            r = render(p, "--lang", "en", "--format", "txt")
            self.assertIn("Data protection officer\n", r.out)
            self.assertIn("E-mail: dpo@cekura.dk", r.out)
            r = render(CEKURA, "--lang", "en", "--format", "txt")
            self.assertNotIn("Data protection officer", r.out)
            # A DPO without any contact is refused, at its position.
            bad = text.replace("    email: dpo@cekura.dk\n", "")
            with open(p, "w", encoding="utf-8") as f:
                f.write(bad)
            r = ropa(p)
            self.assertEqual(r.rc, 1, r)
            self.assertRegex(r.err, r"cekura\.yaml:\d+:\d+: controller\.dpo "
                                    r"needs a contact")

    def test_ropa_csv_one_row_per_purpose_gdpr_30(self):
        """GDPR-30: CSV, a header and one row per purpose, every column
        (a)-(g) filled."""
        r = ropa(WEBSHOP, "--format", "csv", "--lang", "en")
        self.assertEqual(r.rc, 0, r)
        rows = list(csv.reader(io.StringIO(r.out)))
        self.assertEqual(rows[0][:4], ["Controller", "Representative",
                                       "Data protection officer",
                                       "Purpose"])
        self.assertEqual(len(rows[0]), 10)
        r2 = ropa(WEBSHOP)
        self.assertEqual(len(rows) - 1, len(r2.json()["processing"]))
        for row in rows[1:]:
            self.assertEqual(len(row), 10, row)
            self.assertTrue(all(cell for cell in row), row)

    def test_ropa_html(self):
        """GDPR-30: an HTML table with a header row, no script."""
        r = ropa(TELENOR, "--format", "html")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("<table>", r.out)
        self.assertIn('<th scope="col">Kategorier af registrerede</th>',
                      r.out)
        self.assertNotIn("<script", r.out)


def vaern_env(args, **env):
    """Runs vaern with extra environment (VAERN_AS_OF: the clock)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}
    e.update(env)
    p = subprocess.run([os.environ.get("VAERN_BIN"), *args],
                       capture_output=True, env=e, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class Versions(unittest.TestCase):
    """Issue 15 point 3: earlier versions kept, listed, compared in words,
    rendered as they were on a date."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="vaern-versions-")
        self.tmp = self._tmp.name
        self.data = os.path.join(self.tmp, "data")
        with open(CEKURA, encoding="utf-8") as f:
            text = f.read()
        for old, new in (
                ("policy_version: 2018-05-25", "policy_version: 2026-03-01"),
                ("    categories: [digital_behaviour]\n",
                 "    categories: [digital_behaviour, email]\n"),
                ("    anchor: [collected, competition_end]\n"
                 "    period: 1 year\n",
                 "    anchor: [collected, competition_end]\n"
                 "    period: 2 years\n"),
                ("    # taking part is on the competition's terms: (b).\n"
                 "    basis: b\n",
                 "    basis: [a]\n    consent:\n"
                 "      sources: [competition_entry]\n")):
            self.assertIn(old, text)
            text = text.replace(old, new, 1)
        self.v2 = os.path.join(self.tmp, "cekura-v2.yaml")
        with open(self.v2, "w", encoding="utf-8") as f:
            f.write(text)
        r = vaern_env(["--data", self.data, "init", "--policy", CEKURA],
                      VAERN_AS_OF="2026-01-10")
        self.assertEqual(r[0], 0, r)
        r = vaern_env(["--data", self.data, "policy", "load", self.v2],
                      VAERN_AS_OF="2026-03-01T09:00:00Z")
        self.assertEqual(r[0], 0, r)

    def tearDown(self):
        self._tmp.cleanup()

    def cli(self, *args):
        return vaern_env(["--data", self.data, *args])

    def history(self):
        rc, out, err = self.cli("policy", "history", "cekura")
        self.assertEqual(rc, 0, err)
        return json.loads(out)["versions"]

    def test_history_keeps_earlier_versions(self):
        """Loading keeps the earlier version; the list is oldest first,
        names the version in force; loading the same text again adds
        nothing."""
        h = self.history()
        self.assertEqual([v["policy_version"] for v in h],
                         ["2018-05-25", "2026-03-01"])
        self.assertEqual([v["current"] for v in h], [False, True])
        self.assertEqual(h[0]["loaded_at"], "2026-01-10T00:00:00Z")
        self.assertEqual(h[1]["loaded_at"], "2026-03-01T09:00:00Z")
        rc, out, _ = self.cli("policy", "list")
        self.assertIn(h[1]["version"], out)
        r = vaern_env(["--data", self.data, "policy", "load", self.v2],
                      VAERN_AS_OF="2026-03-02")
        self.assertEqual(r[0], 0, r)
        self.assertEqual(len(self.history()), 2)
        # Back to the first text: a third entry, the first text again.
        r = vaern_env(["--data", self.data, "policy", "load", CEKURA],
                      VAERN_AS_OF="2026-03-03")
        self.assertEqual(r[0], 0, r)
        h3 = self.history()
        self.assertEqual(len(h3), 3)
        self.assertEqual(h3[2]["version"], h[0]["version"])
        self.assertEqual([v["current"] for v in h3], [True, False, True])

    def test_diff_in_words(self):
        """vaern policy diff A B says what changed: bases, categories,
        retention periods, the version date; files and stored versions
        alike; the same policy: no change."""
        want = ("- version date changed from 2018-05-25 to 2026-03-01\n"
                "- purpose competitions: legal basis changed from b to a\n"
                "- purpose digital_services: categories added: email\n"
                "- retention competitions: period changed from 1 year "
                "after the latest of: it was collected; the end of the "
                "competition to 2 years after the latest of: it was "
                "collected; the end of the competition\n")
        rc, out, err = self.cli("policy", "diff", CEKURA, self.v2)
        self.assertEqual((rc, out), (0, want), err)
        old = self.history()[0]["version"]
        rc, out, err = self.cli("policy", "diff", "cekura@" + old[:8],
                                "cekura")
        self.assertEqual((rc, out), (0, want), err)
        rc, out, err = self.cli("policy", "diff", "cekura", self.v2)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "no changes to purposes, categories, bases, "
                              "recipients, transfers or retention\n")

    def test_diff_in_each_language(self):
        """Issue 15 point 3: the diff in da, sv and en (--lang; English by
        default), every word from the templates, the periods' events in
        the language asked for; a language without templates refused."""
        want = {
            "da": ("- versionsdato ændret fra 2018-05-25 til 2026-03-01\n"
                   "- formål competitions: behandlingsgrundlag ændret fra "
                   "b til a\n"
                   "- formål digital_services: kategorier tilføjet: email\n"
                   "- opbevaring competitions: periode ændret fra 1 år "
                   "efter det seneste af: de blev indsamlet; Konkurrencen "
                   "er udløbet til 2 år efter det seneste af: de blev "
                   "indsamlet; Konkurrencen er udløbet\n"),
            "sv": ("- versionsdatum ändrat från 2018-05-25 till 2026-03-01\n"
                   "- ändamål competitions: rättslig grund ändrad från b "
                   "till a\n"
                   "- ändamål digital_services: kategorier tillagda: "
                   "email\n"
                   "- lagring competitions: tid ändrad från 1 år efter det "
                   "senaste av: att de samlades in; tävlingens slut till 2 "
                   "år efter det senaste av: att de samlades in; tävlingens "
                   "slut\n")}
        for lang, text in want.items():
            rc, out, err = self.cli("policy", "diff", CEKURA, self.v2,
                                    "--lang", lang)
            self.assertEqual((rc, out), (0, text), err)
        rc, en, err = self.cli("policy", "diff", "--lang", "en", CEKURA,
                               self.v2)
        rc2, default, _ = self.cli("policy", "diff", CEKURA, self.v2)
        self.assertEqual((rc, rc2), (0, 0), err)
        self.assertEqual(en, default)
        self.assertIn("- purpose competitions: legal basis changed", en)
        rc, out, _ = self.cli("policy", "diff", "cekura", self.v2, "--lang",
                              "da")
        self.assertEqual((rc, out), (0, "ingen ændringer af formål, "
                                        "kategorier, grundlag, modtagere, "
                                        "overførsler eller opbevaring\n"))
        rc, out, err = self.cli("policy", "diff", CEKURA, self.v2, "--lang",
                                "fr")
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("--lang: no templates for that language", err)
        rc, out, err = self.cli("policy", "diff", CEKURA, self.v2, "--lang")
        self.assertEqual((rc, out), (2, ""))

    def test_render_a_stored_version_and_the_day_before(self):
        """AURA-VER-1: the notice of a stored version; --at the day before
        the new version gives the old one, the day of it the new one."""
        old = self.history()[0]["version"]
        rc, out, err = self.cli("policy", "render", "cekura@" + old,
                                "--lang", "en", "--format", "md")
        self.assertEqual(rc, 0, err)
        with open(os.path.join(NOTICES, "cekura.en.md"),
                  encoding="utf-8") as f:
            self.assertEqual(out, f.read())
        rc, out, err = self.cli("policy", "render", "cekura", "--at",
                                "2026-02-28", "--format", "txt")
        self.assertEqual(rc, 0, err)
        self.assertIn("Version af 2018-05-25", out)
        rc, out, err = self.cli("policy", "render", "cekura", "--at",
                                "2026-03-01", "--format", "txt")
        self.assertEqual(rc, 0, err)
        self.assertIn("Version af 2026-03-01", out)
        rc, out, err = self.cli("policy", "ropa", "cekura", "--at",
                                "2026-02-28")
        self.assertEqual(rc, 0, err)
        procs = {p["id"]: p for p in json.loads(out)["processing"]}
        self.assertEqual(procs["competitions"]["legal_basis"], "b")

    def test_bad_versions_refused_nothing_written(self):
        """A version that does not exist, a malformed one, a date before
        the first load, a diff of two controllers: exit 1 with the reason;
        nothing in the data directory changes."""
        before = tree_digest(self.data)
        for args, msg in (
                (("policy", "render", "cekura@ffffffff"),
                 "'cekura' has no stored version 'ffffffff'"),
                (("policy", "render", "cekura@XYZ"),
                 "a version is 4 to 32 lowercase hex digits"),
                (("policy", "render", "cekura", "--at", "2026-01-09"),
                 "'cekura' had no policy loaded by then"),
                (("policy", "render", "cekura", "--at", "2026-02-30"),
                 "--at: "),
                (("policy", "diff", "cekura", TELENOR),
                 "the two policies are of different controllers (cekura, "
                 "telenor)"),
                (("policy", "history", "nosuch"), "nosuch")):
            rc, out, err = self.cli(*args)
            self.assertEqual(rc, 1, (args, err))
            self.assertIn(msg, err, args)
            self.assertEqual(out, "", args)
        self.assertEqual(tree_digest(self.data), before)


class Http(ApiCase):
    """The public notice and the DPO's records over HTTP."""

    policies = (CEKURA, AURA)
    actors = (("cekura", "dpo"), ("cekura", "customer_service"))

    def test_public_notice_gdpr_13(self):
        """GET /privacy/{controller}?lang=: no token; the notice the CLI
        renders; strict CSP (no script, only the page's own style)."""
        r = self.call("GET", "/privacy/cekura?lang=en")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/html"))
        with open(os.path.join(NOTICES, "cekura.en.html"),
                  encoding="utf-8") as f:
            self.assertEqual(r.text, f.read())
        csp = r.header("Content-Security-Policy")
        self.assertRegex(csp, r"^default-src 'none'; style-src "
                              r"'sha256-[A-Za-z0-9+/]+=*'; ")
        self.assertNotIn("unsafe", csp)
        self.assertNotIn("script-src", csp)
        r = self.call("GET", "/privacy/aura-fiber")  # its own language
        self.assertEqual(r.status, 200, r)
        self.assertIn('<html lang="da">', r.text)
        r = self.call("GET", "/privacy/aura-fiber?lang=sv&format=md")
        self.assertEqual(r.status, 200, r)
        with open(os.path.join(NOTICES, "aura-fiber.sv.md"),
                  encoding="utf-8") as f:
            self.assertEqual(r.text, f.read())

    def test_public_notice_bad_input(self):
        """An unknown language or format: 400 naming the parameter; an
        unknown controller: 404."""
        r = self.call("GET", "/privacy/cekura?lang=fr")
        self.assertError(r, 400, "invalid", mentions="lang")
        r = self.call("GET", "/privacy/cekura?format=pdf")
        self.assertError(r, 400, "invalid", mentions="format")
        r = self.call("GET", "/privacy/nosuch")
        self.assertError(r, 404, "not_found")

    def test_ropa_for_the_dpo_only_gdpr_30(self):
        """GDPR-30: the DPO reads the records of processing of their own
        controller; another role is refused (403), and the refusal is in
        the audit trail."""
        r = self.call("GET", "/v1/ropa", who=("cekura", "dpo"))
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["controller"]["id"], "cekura")
        self.assertEqual(doc, ropa(CEKURA).json())
        r = self.call("GET", "/v1/ropa?format=csv&lang=en",
                      who=("cekura", "dpo"))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/csv"))
        self.assertEqual(r.text, ropa(CEKURA, "--format", "csv", "--lang",
                                      "en").out)
        r = self.call("GET", "/v1/ropa?format=html", who=("cekura", "dpo"))
        self.assertEqual(r.status, 200, r)
        self.assertIn("style-src 'sha256-",
                      r.header("Content-Security-Policy"))
        r = self.call("GET", "/v1/ropa?format=xml", who=("cekura", "dpo"))
        self.assertError(r, 400, "invalid", mentions="format")
        r = self.call("GET", "/v1/ropa", who=("cekura", "customer_service"))
        self.assertError(r, 403)
        refused = [e for e in self.audit("cekura")
                   if e["action"] == "ropa_read"]
        self.assertTrue(refused)
        self.assertFalse(refused[-1]["allowed"])
        self.assertEqual(refused[-1]["rule"], "GDPR-30")
        r = self.call("GET", "/v1/ropa")
        self.assertEqual(r.status, 401, r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
