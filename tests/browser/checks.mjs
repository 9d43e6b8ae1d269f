// What the browser tests (portal.mjs, report.mjs, console.mjs,
// console_views.mjs) share: Debian's
// chromium launched by playwright-core, a check that counts failures,
// axe-core on a page (serious or critical violations fail), full-page
// screenshots. Nothing is downloaded at run time: both packages come
// from package-lock.json (scripts/deps runs npm ci).
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"),
                                  "utf8");
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
               "--disable-quic", "--no-first-run",
               "--disable-background-networking",
               "--disable-component-update", "--disable-sync"];

let failures = 0;

export function check(ok, what) {
  if (!ok) {
    failures++;
    console.error("FAIL: " + what);
  } else {
    console.log("ok: " + what);
  }
}

export async function axe(page, what) {
  // Evaluated over the DevTools protocol: the page's CSP (no script at
  // all) stays in force for the page itself.
  await page.evaluate(axeSource);
  const res = await page.evaluate(async () =>
    await globalThis.axe.run(document, { resultTypes: ["violations"] }));
  const bad = res.violations.filter((v) =>
    v.impact === "serious" || v.impact === "critical");
  check(bad.length === 0, "axe on " + what + ": " +
        bad.map((v) => v.id + " (" + v.impact + ")").join(", "));
}

// A full-page screenshot as DIR/NAME.png; returns the file's path.
export async function shot(page, dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Runs body(browser) in a headless chromium, then exits 0 if every check
// passed (and nothing threw), 1 otherwise.
export async function run(body) {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium", args: FLAGS, headless: true });
  try {
    await body(browser);
  } catch (e) {
    failures++;
    console.error("FAIL: " + (e && e.stack ? e.stack : e));
  } finally {
    await browser.close();
  }
  console.log(failures === 0 ? "PASS" : `${failures} FAILED`);
  process.exit(failures === 0 ? 0 : 1);
}

// RFC 6238 (HMAC-SHA1, 6 digits, 30 s steps) for the base32 secret at
// unix time t (default now), written here from the RFC: the tests do not
// trust vaern's own TOTP (liboath).
export function totp(secret, t = Date.now() / 1000) {
  const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, ""))
    bits += alpha.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++)
    key[i] = parseInt(bits.slice(8 * i, 8 * i + 8), 2);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const mac = crypto.createHmac("sha1", key).update(msg).digest();
  const off = mac[mac.length - 1] & 15;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, "0");
}
