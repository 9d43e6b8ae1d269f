// Browser test of the staff console (issue 20): playwright-core drives
// Debian's chromium (/usr/bin/chromium) against the real `vaern serve`
// that tests/cli/test_console_browser.py started; axe-core checks every
// page for serious or critical accessibility violations. Nothing is
// downloaded at run time (package-lock.json; scripts/deps runs npm ci).
//
// env: VAERN_URL, VAERN_ARTEFACTS (screenshots), VAERN_CONSOLE (JSON:
// the enrolled actors' names and TOTP secrets, the password, the
// request to work).
import { axe, check, run, shot as shotIn, totp } from "./checks.mjs";

const URL0 = process.env.VAERN_URL;
const OUT = process.env.VAERN_ARTEFACTS;
const CFG = JSON.parse(process.env.VAERN_CONSOLE || "{}");
const BASE = `${URL0}/console/cekura`;

const shot = (page, name) => shotIn(page, OUT, name);

// Every page of a list in the three languages: lang, screenshot, axe.
async function languages(page, url, name) {
  for (const lang of ["da", "sv", "en"]) {
    await page.goto(`${url}${url.includes("?") ? "&" : "?"}lang=${lang}`);
    check(await page.getAttribute("html", "lang") === lang,
          `${name} in ${lang}`);
    await shot(page, `${name}-${lang}`);
    await axe(page, `${name} (${lang})`);
  }
}

async function submit(page, form, url) {
  await Promise.all([page.waitForURL(url),
                     page.locator(`${form} button[type="submit"]`).click()]);
}

async function main(browser) {
  const ctx = await browser.newContext({ locale: "en-GB" });
  const page = await ctx.newPage();
  const cs = CFG.cs, rid = CFG.request;

  await languages(page, `${BASE}/login`, "login");

  // Enrolment (issue 20 point 3): the first login without a code shows
  // the QR code; the first code confirms it.
  await page.goto(`${BASE}/login?lang=en`);
  await page.fill('input[name="name"]', cs.name);
  await page.fill('input[name="password"]', CFG.password);
  await page.locator('main button[type="submit"]').click();
  await page.waitForSelector(".qr svg");
  check((await page.textContent("#otpauth")).includes(cs.secret),
        "the enrolment page shows the otpauth URI");
  await shot(page, "enrol-en");
  await axe(page, "enrolment (en)");
  await page.fill('input[name="password"]', CFG.password);
  await page.fill('input[name="code"]', totp(cs.secret));
  await submit(page, "main form", /\/requests$/);
  check((await page.textContent("header")).includes(cs.name),
        "logged in: the header names the actor");

  await languages(page, `${BASE}/requests`, "queue");
  check((await page.textContent("#queue")).includes(rid),
        "the queue lists the request");
  await page.goto(`${BASE}/requests?type=erasure&overdue=true&lang=en`);
  check(!(await page.textContent("main")).includes(rid),
        "the overdue filter leaves out a request due in a month");
  await page.goto(`${BASE}/requests?lang=en`);
  await page.selectOption('select[name="type"]', "erasure");
  await submit(page, "form.filters:not([role])", /type=erasure/);
  check((await page.textContent("#queue")).includes(rid),
        "the type filter keeps the erasure request");

  // The search by identifier: a POST, the value in no URL.
  await page.selectOption('select[name="category"]', "customer_number");
  await page.fill('input[name="value"]', CFG.customer_number);
  await page.locator('form[role="search"] button').click();
  await page.waitForSelector("#found");
  check(!page.url().includes(CFG.customer_number) &&
        (await page.textContent("#found")).includes(rid),
        "the search finds the person's request, the value in no URL");
  await shot(page, "search-en");
  await axe(page, "search (en)");

  // Work the request from registration to completion.
  await languages(page, `${BASE}/requests/${rid}`, "request");
  await page.goto(`${BASE}/requests/${rid}?lang=en`);
  await page.fill('form.act-attest input[name="attestation"]',
                  "passport checked at the counter");
  await submit(page, "form.act-attest", /done=attest/);
  check((await page.textContent("#request")).includes("verified"),
        "verified by attestation");
  await page.selectOption('form.act-extend select[name="months"]', "1");
  await page.fill('form.act-extend input[name="reason"]',
                  "the archives must be searched");
  await submit(page, "form.act-extend", /done=extend/);
  check((await page.textContent("#request")).includes(
    "the archives must be searched"), "extended with its reason");
  await shot(page, "request-verified-en");
  await submit(page, "form.act-erase", /done=erase/);
  check((await page.textContent("#request")).includes("completed"),
        "the erasure completed the request");
  check(await page.locator("form.act-refuse").count() === 0,
        "a closed request offers no action");
  await shot(page, "request-completed-en");
  await axe(page, "completed request (en)");

  // Customer service on a DPO-only page: 403.
  const r = await page.goto(`${BASE}/staff?lang=en`);
  check(r.status() === 403, "customer service gets 403 on the staff page");
  await shot(page, "forbidden-en");

  await page.locator("form.logout button").click();
  await page.waitForSelector("input[name=name]");
  await page.goto(`${BASE}/requests`);
  check(page.url().endsWith("/login"), "after logout the queue asks to "
        + "log in");

  // The DPO: the staff page in three languages.
  const c2 = await browser.newContext({ locale: "da-DK" });
  const p2 = await c2.newPage();
  await p2.goto(`${BASE}/login`);
  await p2.fill('input[name="name"]', CFG.dpo.name);
  await p2.fill('input[name="password"]', CFG.password);
  await p2.fill('input[name="code"]', totp(CFG.dpo.secret));
  await submit(p2, "main form", /\/requests$/);
  await languages(p2, `${BASE}/staff`, "staff");
  check((await p2.textContent("#staff")).includes(cs.name),
        "the DPO sees the staff's console access");
}

await run(main);
