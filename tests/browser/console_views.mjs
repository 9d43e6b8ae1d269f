// Browser test of the staff console's views (issue 20, points 3 to 6):
// playwright-core drives Debian's chromium (/usr/bin/chromium) against the
// real `vaern serve` that tests/cli/test_console_views_browser.py started;
// axe-core checks every page for serious or critical accessibility
// violations; a screenshot of every view in da, sv and en. Nothing is
// downloaded at run time (package-lock.json, scripts/deps: npm ci).
//
// env: VAERN_URL, VAERN_ARTEFACTS (screenshots), VAERN_CONSOLE (JSON:
// {"dpo": {"name", "password", "secret"}, "cs": {...}, "subject": ID,
// "case": CASE}).
import { axe, check, run, shot as shotIn, totp } from "./checks.mjs";

const URL0 = process.env.VAERN_URL;
const OUT = process.env.VAERN_ARTEFACTS;
const CFG = JSON.parse(process.env.VAERN_CONSOLE || "{}");
const BASE = `${URL0}/console/cekura`;

const shot = (page, name) => shotIn(page, OUT, name);

async function login(page, who) {
  await page.goto(`${BASE}/login`);
  await page.fill("#name", who.name);
  await page.fill("#password", who.password);
  // A code of a step not used before (a code is good once).
  const t = Date.now() / 1000;
  await page.fill("#code", totp(who.secret, Math.floor(t)));
  await Promise.all([page.waitForNavigation(),
                     page.locator('main button[type="submit"]').click()]);
  check(/\/requests$/.test(page.url()), `${who.name} logged in`);
}

async function main(browser) {
  const ctx = await browser.newContext({ locale: "en-GB",
                                         acceptDownloads: true });
  const page = await ctx.newPage();
  await login(page, CFG.dpo);

  // Every view in da, sv and en: the page's language, a screenshot, axe.
  const views = ["retention", "audit", "incidents", `incidents/${CFG.case}`,
                 "policies"];
  for (const lang of ["da", "sv", "en"])
    for (const v of views) {
      const r = await page.goto(`${BASE}/${v}?lang=${lang}`);
      check(r.status() === 200, `${v} (${lang}): 200`);
      check(await page.getAttribute("html", "lang") === lang,
            `${v} in ${lang}`);
      await shot(page, `console-${v.replace("/", "-")}-${lang}`);
      await axe(page, `${v} (${lang})`);
    }

  // The retention chart: its bars are SVG drawn by vaern, no script ran.
  await page.goto(`${BASE}/retention?lang=en`);
  check(await page.locator("svg rect[data-count]").count() > 0,
        "the chart has bars");
  check(await page.locator("script").count() === 0, "no script");
  // CEK-RET-1: the bars as drawn, summed per rule and month, are the
  // plan's (`vaern retention plan`, passed in by the runner).
  const drawn = await page.locator('svg rect[data-kind="facts"]')
    .evaluateAll(rs => rs.map(r => [r.dataset.rule, r.dataset.month,
                                    Number(r.dataset.count)]));
  const sums = new Map();
  for (const [rule, month, n] of drawn) {
    const k = `${rule} ${month}`;
    sums.set(k, (sums.get(k) || 0) + n);
  }
  const got = [...sums].map(([k, n]) => [...k.split(" "), n]).sort();
  const want = CFG.bars.map(b => [b[0], b[1], b[2]]).sort();
  check(JSON.stringify(got) === JSON.stringify(want),
        `the chart's bars are the plan's: ${JSON.stringify(got)} ` +
        `against ${JSON.stringify(want)}`);

  // CEK-HOLD-1: place a hold and lift it through the forms.
  await page.fill("#hold-subject", CFG.subject);
  await page.selectOption("#hold-category", "phone");
  await page.fill("#hold-reason", "dispute about an invoice");
  await Promise.all([page.waitForNavigation(),
                     page.locator('form[aria-labelledby="place-h"] ' +
                                  'button[type="submit"]').click()]);
  check(/done=placed/.test(page.url()), "the hold is placed");
  const rows = page.locator("#holds tbody tr");
  check(await rows.count() === 1, "one hold listed");
  await shot(page, "console-retention-hold-en");
  await Promise.all([page.waitForNavigation(),
                     rows.first().locator("button").click()]);
  check(/done=lifted/.test(page.url()), "the hold is lifted");
  check(await page.locator("#holds tbody tr").count() === 0,
        "no hold listed after the lift");

  // GDPR-32: filter the audit trail by actor and decision; one person by
  // a POST form (the id never in the address).
  await page.goto(`${BASE}/audit?lang=en`);
  await page.fill("#f-actor", "dpo1");
  await Promise.all([page.waitForNavigation(),
                     page.locator('form[method="get"] button').click()]);
  const actors = await page.locator("#entries tbody tr td:nth-child(3)")
    .allTextContents();
  check(actors.length > 0 && actors.every((a) => a === "dpo1"),
        "the actor filter shows dpo1's entries only");
  await page.fill("#s-subject", CFG.subject);
  await Promise.all([page.waitForNavigation(),
                     page.locator('form[method="post"] ' +
                                  'button[type="submit"]').last().click()]);
  check(!page.url().includes(CFG.subject), "the id is not in the address");
  const subjects = await page.locator("#entries tbody tr td:nth-child(7)")
    .allTextContents();
  check(subjects.length > 0 && subjects.every((s) => s === CFG.subject),
        "one person's entries");
  await shot(page, "console-audit-subject-en");
  await ctx.close();

  // GDPR-32: customer service cannot open the DPO's pages (403).
  const ctx2 = await browser.newContext({ locale: "en-GB" });
  const page2 = await ctx2.newPage();
  await login(page2, CFG.cs);
  for (const v of ["audit", "incidents", "policies"]) {
    const r = await page2.goto(`${BASE}/${v}`);
    check(r.status() === 403, `customer service: ${v} is 403`);
  }
  const r = await page2.goto(`${BASE}/retention`);
  check(r.status() === 200 &&
        await page2.locator("#holds").count() === 0,
        "customer service reads the plan, not the holds");
  await shot(page2, "console-retention-customer-service-en");
  await ctx2.close();
}

await run(main);
