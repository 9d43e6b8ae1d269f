#!/usr/bin/env python3
"""Browser test of the public privacy notice (issue 15 point 1): the real
`vaern serve` answers GET /privacy/cekura?lang=en, and headless Chromium
(Debian's `chromium`, installed by scripts/deps) loads it under the page's
own Content-Security-Policy, takes a screenshot and dumps the DOM.

The test fails if Chromium is missing, if the page does not load, if the
screenshot is blank, or if the page's style was blocked (the CSP allows
the style block by its hash only: the text would then start at the left
edge instead of in the centred column).

Clauses: AURA-VER-1 and CEK-COMPLAIN-1 (the version date and the complaint
route are on the rendered page); Art. 12(1) (an easily accessible notice).
Standard library only (PNG decoded with zlib).
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api import BASE_ENV, CEKURA, ApiCase  # noqa: E402

CHROMIUM = os.environ.get("VAERN_CHROMIUM", "/usr/bin/chromium")
WIDTH, HEIGHT = 1200, 1600
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--hide-scrollbars"]


def png_pixels(path):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        ftype, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xff
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xff
            elif ftype == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 0xff
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xff
        rows.append(bytes(line))
        prev = line
    return width, height, [[tuple(r[x * bpp:x * bpp + 3])
                            for x in range(width)] for r in rows]


class Browser(ApiCase):
    policies = (CEKURA,)

    def chromium(self, *args):
        if not os.path.exists(CHROMIUM):
            self.fail("%s is missing: scripts/deps installs Debian's "
                      "chromium" % CHROMIUM)
        with tempfile.TemporaryDirectory(prefix="vaern-chromium-") as ud:
            p = subprocess.run([CHROMIUM, *FLAGS, "--user-data-dir=" + ud,
                                *args], capture_output=True, timeout=120,
                               env=BASE_ENV)
        return p

    def test_notice_renders_in_chromium(self):
        """The served notice renders: a non-blank screenshot with the page
        style applied under the strict CSP, and the DOM holds the h1, the
        version date (AURA-VER-1) and the complaint route
        (CEK-COMPLAIN-1)."""
        url = "http://127.0.0.1:%d/privacy/cekura?lang=en" % self.server.port
        p = self.chromium("--dump-dom", url)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        dom = p.stdout.decode("utf-8", "replace")
        self.assertIn("<h1>Privacy notice - CEKURA A/S</h1>", dom)
        self.assertIn("Version of 2018-05-25", dom)
        self.assertIn("supervisory authority: Datatilsynet", dom)
        shot = os.path.join(self.tmp, "notice.png")
        p = self.chromium("--window-size=%d,%d" % (WIDTH, HEIGHT),
                          "--screenshot=" + shot, url)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertTrue(os.path.exists(shot), p.stderr[-2000:])
        if os.environ.get("VAERN_KEEP_SCREENSHOT"):
            shutil.copy(shot, os.environ["VAERN_KEEP_SCREENSHOT"])
        width, height, px = png_pixels(shot)
        self.assertEqual((width, height), (WIDTH, HEIGHT))
        dark = [(x, y) for y in range(0, height, 2)
                for x in range(0, width, 2) if sum(px[y][x]) < 300]
        # Text was drawn (a blank or error page has almost none) ...
        self.assertGreater(len(dark), 2000, "the page looks blank")
        # ... in the centred column of the page's style: 46rem wide, so
        # nothing left of (1200 - 736) / 2 px. Without the style (blocked
        # by the CSP) text starts at 8 px.
        self.assertGreater(min(x for x, _ in dark), 200,
                           "the page's style did not apply")
        # The background is the style's white.
        self.assertEqual(px[5][5], (255, 255, 255))


if __name__ == "__main__":
    unittest.main(verbosity=2)
