// Browser test of the weakness report on the portal (issue 17,
// SHOP-BREACH-1): playwright-core drives Debian's chromium against the
// real `vaern serve` that tests/cli/test_portal_report_browser.py
// started with the web shop's seed policy; axe-core checks every page
// for serious or critical accessibility violations. The form is filled
// and sent with a screenshot (a real PNG: chromium's own screenshot of
// the form), then the case is followed on the status page. Nothing is
// downloaded at run time (package-lock.json; scripts/deps runs npm ci).
//
// env: VAERN_URL, VAERN_ARTEFACTS (screenshots), VAERN_RESULT (a JSON
// file this script writes: the case, and the file it uploaded, for the
// Python side to compare with what the DPO reads back).
import fs from "node:fs";
import { axe, check, run, shot as shotIn } from "./checks.mjs";

const URL0 = process.env.VAERN_URL;
const OUT = process.env.VAERN_ARTEFACTS;
const RESULT = process.env.VAERN_RESULT;
const TITLES = { da: "Anmeld en sikkerhedsbrist",
                 sv: "Anmäl en säkerhetsbrist",
                 en: "Report a security weakness" };

function shot(page, name) {
  return shotIn(page, OUT, name);
}

async function main(browser) {
  const ctx = await browser.newContext({ locale: "da-DK" });
  const page = await ctx.newPage();
  // Nothing the page holds may try to run (the CSP would refuse it and
  // say so); a missing favicon is the only other message there is.
  const csp = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/.test(m.text()))
      csp.push(m.text());
  });
  page.on("pageerror", (e) => csp.push(String(e)));

  // The form in da, sv and en: reachable from the login page's footer.
  await page.goto(`${URL0}/portal/webshop/login?lang=da`);
  await page.locator('footer a[href$="/report"]').click();
  await page.waitForURL(/\/portal\/webshop\/report$/);
  let upload = null;
  for (const lang of ["da", "sv", "en"]) {
    await page.goto(`${URL0}/portal/webshop/report?lang=${lang}`);
    check(await page.getAttribute("html", "lang") === lang,
          "the report form in " + lang);
    check((await page.textContent("h1")).includes(TITLES[lang]),
          "its title in " + lang);
    const file = await shot(page, `report-form-${lang}`);
    if (lang === "da")
      upload = file;
    await axe(page, `report form (${lang})`);
  }

  // SHOP-BREACH-1: a report with a screenshot, in Danish.
  await page.goto(`${URL0}/portal/webshop/report?lang=da`);
  await page.fill("#description",
                  "Andres ordrer vises på min konto <script>alert(1)</script>");
  await page.fill("#how_found", "Jeg skiftede ordrenummeret i adressen");
  await page.fill("#where", "/min-konto/ordrer");
  await page.fill("#contact_email", "finder@example.dk");
  await page.setInputFiles("#screenshots", upload);
  await Promise.all([
    page.waitForNavigation(),
    page.locator('form.report button[type="submit"]').click(),
  ]);
  const main = await page.textContent("main");
  check(main.includes("Tak for din anmeldelse"), "the answer page");
  const cells = await page.locator("main table td").allTextContents();
  const [caseId, secret, receiptDue, feedbackDue] = cells;
  check(/^SB-[2-9A-HJ-NP-Z]{12}$/.test(caseId), "a case number: " + caseId);
  check(/^[A-Za-z0-9_-]{43}$/.test(secret), "a secret");
  check(/^\d{4}-\d\d-\d\d$/.test(receiptDue) &&
        /^\d{4}-\d\d-\d\d$/.test(feedbackDue), "the deadlines");
  check(!(await page.content()).includes("<script>alert"),
        "the report's text is nowhere rendered unescaped");
  await shot(page, "report-sent-da");
  await axe(page, "report answer (da)");

  // SHOP-BREACH-2: the status with the case number and the secret.
  await page.goto(`${URL0}/portal/webshop/report/status?lang=en`);
  await page.fill("#case", caseId);
  await page.fill("#secret", secret);
  await Promise.all([
    page.waitForNavigation(),
    page.locator('main form button[type="submit"]').click(),
  ]);
  check(!page.url().includes(secret), "the secret is not in the URL");
  const status = await page.textContent("main table");
  check(status.includes(caseId), "the status names the case");
  check(/Receipt sent\s*\d{4}-/.test(status),
        "the receipt went with the report (a contact was given)");
  await shot(page, "report-status-en");
  await axe(page, "report status (en)");
  check(csp.length === 0, "nothing refused by the CSP: " + csp.join("; "));
  fs.writeFileSync(RESULT, JSON.stringify({ case: caseId, upload }));
  await ctx.close();
}

await run(main);
