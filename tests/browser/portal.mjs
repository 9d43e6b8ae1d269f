// Browser test of the self-service portal (issue 16): playwright-core
// drives Debian's chromium (/usr/bin/chromium) against the real `vaern
// serve` that tests/cli/test_portal_browser.py started; axe-core checks
// every page for serious or critical accessibility violations. Nothing
// is downloaded at run time: both packages come from package-lock.json
// (scripts/deps runs npm ci).
//
// env: VAERN_URL, VAERN_DATA (for the spooled codes), VAERN_PERSONS
// (JSON), VAERN_ARTEFACTS (screenshots), VAERN_STATE (a storage-state
// file), VAERN_PHASE (main | expired).
import fs from "node:fs";
import path from "node:path";
import { axe, check, run, shot as shotIn } from "./checks.mjs";

const URL0 = process.env.VAERN_URL;
const DATA = process.env.VAERN_DATA;
const PERSONS = JSON.parse(process.env.VAERN_PERSONS || "{}");
const OUT = process.env.VAERN_ARTEFACTS;
const STATE = process.env.VAERN_STATE;
const PHASE = process.env.VAERN_PHASE || "main";

// The one-time login codes in the spool, oldest first.
function spooledCodes() {
  const dir = path.join(DATA, "outbox");
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.includes("portal-login"))
    .sort((a, b) => {
      const ka = /Z-(\d{19})-/.exec(a)[1], kb = /Z-(\d{19})-/.exec(b)[1];
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
}

// The newest code once more than `before` are spooled: the server's
// delivery thread sends a code beside the login's answer (AURA-LOGIN-1:
// no login waits for the outbox).
async function newCode(before) {
  const dir = path.join(DATA, "outbox");
  for (let i = 0; i < 200 && spooledCodes().length <= before; i++)
    await new Promise((r) => setTimeout(r, 50));
  const files = spooledCodes();
  const msg = JSON.parse(fs.readFileSync(path.join(dir, files.at(-1)),
                                          "utf8"));
  return /(\d{8})/.exec(msg.body)[1];
}

function shot(page, name) {
  return shotIn(page, OUT, name);
}

async function login(page, controller, way, values) {
  await page.goto(`${URL0}/portal/${controller}/login`);
  const form = page.locator(`form.way[aria-labelledby="way${way}"]`);
  for (let i = 0; i < values.length; i++)
    await form.locator(`input[name="v${i + 1}"]`).fill(values[i]);
  const before = spooledCodes().length;
  await form.locator('button[value="code"]').click();
  await page.waitForURL(/\/code$/);
  await page.fill('input[name="code"]', await newCode(before));
  await page.locator('main button[type="submit"]').click();
  await page.waitForURL(/\/overview$/);
}

async function main(browser) {
  const ctx = await browser.newContext({ locale: "en-GB",
                                         acceptDownloads: true });
  const page = await ctx.newPage();
  const aura = PERSONS.aura;

  // Login pages in da, sv and en, before any cookie choice (the banner).
  for (const lang of ["da", "sv", "en"]) {
    await page.goto(`${URL0}/portal/aura-fiber/login?lang=${lang}`);
    check(await page.getAttribute("html", "lang") === lang,
          "login page in " + lang);
    await shot(page, `login-${lang}`);
    await axe(page, `login (${lang})`);
  }
  check(await page.locator("section.banner").count() === 1,
        "the cookie banner shows before a choice (AURA-COOKIE-1)");
  await Promise.all([
    page.waitForNavigation(),
    page.locator('section.banner button[value="necessary"]').click(),
  ]);
  check(await page.locator("section.banner").count() === 0,
        "only necessary cookies chosen: the banner is gone");

  // AURA-LOGIN-1: username and a code; the agreement (AURA-PORTAL-2).
  await login(page, "aura-fiber", 1, [aura.user]);
  check((await page.textContent("main")).includes(aura.agreement),
        "the overview shows the agreement");
  for (const lang of ["da", "sv", "en"])
    for (const p of ["overview", "data", "consents", "requests"]) {
      await page.goto(`${URL0}/portal/aura-fiber/${p}?lang=${lang}`);
      check(await page.getAttribute("html", "lang") === lang,
            `${p} in ${lang}`);
      await shot(page, `${p}-${lang}`);
      await axe(page, `${p} (${lang})`);
    }

  // AURA-PORTAL-2: a product change, shown at once.
  await page.goto(`${URL0}/portal/aura-fiber/overview?lang=en`);
  await page.fill('input[name="value"]', "Fiber 1000/1000");
  await page.locator('form[action$="/change"] button').click();
  await page.waitForURL(/done=change/);
  check((await page.textContent("main")).includes("Fiber 1000/1000"),
        "the product change is shown (AURA-PORTAL-2)");

  // GDPR-15, GDPR-20: the report and the portable copy as downloads.
  await page.goto(`${URL0}/portal/aura-fiber/data`);
  for (const [kind, needle] of [["report-html", aura.agreement],
                                ["copy-json", aura.user],
                                ["copy-csv", aura.user]]) {
    const [dl] = await Promise.all([
      page.waitForEvent("download"),
      page.locator(`form[action$="/data/${kind}"] button`).click(),
    ]);
    const file = await dl.path();
    const text = fs.readFileSync(file, "utf8");
    check(text.includes(needle), `the ${kind} download holds the data`);
    fs.copyFileSync(file, path.join(OUT, "download-" + kind +
                                    path.extname(dl.suggestedFilename())));
  }

  // GDPR-12: an erasure request, listed with its due date.
  await page.goto(`${URL0}/portal/aura-fiber/requests`);
  await page.selectOption('select[name="type"]', "erasure");
  await page.locator("fieldset label", { hasText: "Din aftale" })
    .locator("input").check();
  await page.locator('form[action$="/requests"] button').click();
  await page.waitForURL(/done=filed/);
  const row = page.locator("tbody tr", { hasText: "Erasure" });
  check(await row.count() === 1, "the erasure request is listed");
  check(/\d{4}-\d{2}-\d{2}.*\d{4}-\d{2}-\d{2}/.test(await row.textContent()),
        "with its received and due dates (GDPR-12)");
  await shot(page, "requests-filed-en");

  // AURA-PORTAL-1: logout ends the session.
  await page.locator('form.logout button:not([name])').click();
  check((await page.textContent("main")).includes("You are logged out"),
        "logged out");
  await page.goto(`${URL0}/portal/aura-fiber/overview`);
  check(page.url().endsWith("/login"), "after logout the overview asks to "
        + "log in");

  // AURA-LOGIN-1: installation number plus contract number; this
  // session is kept for the expiry phase.
  await login(page, "aura-fiber", 2, [aura.inst, aura.contract]);
  check((await page.textContent("main")).includes("Fiber 1000/1000"),
        "logged in by installation and contract number");
  await ctx.storageState({ path: STATE });

  // GDPR-7: give and withdraw a consent, one button each.
  const c2 = await browser.newContext({ locale: "da-DK" });
  const p2 = await c2.newPage();
  await login(p2, "cekura", 1, [PERSONS.cekura.customer_number]);
  await p2.goto(`${URL0}/portal/cekura/consents`);
  await p2.locator('button[value="give"]').first().click();
  await p2.waitForURL(/done=consent/);
  check(await p2.locator('button[value="withdraw"]').count() === 1,
        "the consent is given (GDPR-7)");
  await p2.locator('button[value="withdraw"]').click();
  await p2.waitForURL(/done=consent/);
  check((await p2.textContent("main")).includes("trukket tilbage"),
        "and withdrawn, both in its history");
  await shot(p2, "consents-withdrawn-da");
  await axe(p2, "consents after withdrawal (da)");

  // AURA-LOGIN-1: five wrong codes lock the code.
  const c3 = await browser.newContext({ locale: "en-GB" });
  const p3 = await c3.newPage();
  await p3.goto(`${URL0}/portal/aura-fiber/login`);
  const form = p3.locator('form.way[aria-labelledby="way1"]');
  await form.locator('input[name="v1"]').fill(PERSONS.locked.user);
  const before = spooledCodes().length;
  await form.locator('button[value="code"]').click();
  await p3.waitForURL(/\/code$/);
  const right = await newCode(before);
  const wrong = String((Number(right) + 1) % 100000000).padStart(8, "0");
  for (let i = 0; i < 5; i++) {
    await p3.fill('input[name="code"]', wrong);
    await p3.locator('main button[type="submit"]').click();
  }
  await p3.fill('input[name="code"]', right);
  await p3.locator('main button[type="submit"]').click();
  check(!p3.url().endsWith("/overview") &&
        (await p3.textContent("main")).includes("wrong or has expired"),
        "after five wrong codes the right one is refused");
  await shot(p3, "locked-out-en");
}

async function expired(browser) {
  const ctx = await browser.newContext({ storageState: STATE });
  const page = await ctx.newPage();
  await page.goto(`${URL0}/portal/aura-fiber/overview`);
  check(page.url().endsWith("/login"),
        "a session idle for 16 minutes has expired (AURA-PORTAL-1)");
  await shot(page, "expired-en");
}

await run(async (browser) => {
  if (PHASE === "expired")
    await expired(browser);
  else
    await main(browser);
});
