// Opens an accesslens HTML report in headless Chromium (Debian's /usr/bin/chromium) and checks
// what a person would: the page loads with no error and no network request, the headline
// numbers equal the expected ones, sorting and filtering work, and it fits a phone's width.
// Saves screenshots. Run by tests/html.rs:
//
//   node check.mjs REPORT.html EXPECTED.json SCREENSHOT_DIR
//
// EXPECTED.json maps a headline key (the page's data-kpi) to its number in summary.parquet.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const [report, expectedFile, shots] = process.argv.slice(2);
const expected = JSON.parse(fs.readFileSync(expectedFile, "utf8"));
const url = pathToFileURL(path.resolve(report)).href;
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "accesslens-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  viewport: { width: 1280, height: 900 },
  colorScheme: "light",
});
try {
  // Anything but the report itself is a request the page must not make: record and refuse it.
  const requests = [];
  await context.route("**/*", (route) => {
    if (route.request().url() === url) return route.continue();
    requests.push(route.request().url());
    return route.abort();
  });
  const page = context.pages()[0] ?? await context.newPage();
  const errors = [];
  page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });
  page.on("pageerror", (err) => errors.push(String(err)));
  page.on("request", (req) => { if (req.url() !== url) requests.push(req.url()); });
  await page.goto(url, { waitUntil: "load" });

  // Headline numbers: the raw value and the shown text.
  for (const [key, want] of Object.entries(expected)) {
    const kpi = page.locator(`[data-kpi="${key}"]`);
    const raw = await kpi.getAttribute("data-value");
    const shown = (await kpi.locator(".v").textContent()).trim();
    if (Number.isInteger(want)) {
      check(Number(raw) === want, `${key}: data-value ${raw}, expected ${want}`);
      check(shown === want.toLocaleString("en-US"), `${key}: shows ${shown}, expected ${want}`);
    } else {
      check(Math.abs(Number(raw) - want) < 1e-9, `${key}: data-value ${raw}, expected ${want}`);
      check(shown === `${(want * 100).toFixed(1)}%`, `${key}: shows ${shown}, expected ${want}`);
    }
  }

  // Sorting the most viewed pages: by page A to Z, then by views largest first and back.
  const pages = page.locator("#t-pages table");
  const column = (i) => pages.evaluate((t, i) =>
    Array.from(t.tBodies[0].rows).filter((r) => !r.hidden).map((r) => r.cells[i].textContent), i);
  const views = async () => (await column(1)).map((v) => Number(v.replace(/,/g, "")));
  // Columns of the most viewed pages: page, views, …
  const header = (name) => pages.locator("thead th").nth(name === "page" ? 0 : 1);
  await header("page").locator("button").click();
  const names = await column(0);
  check(names.length > 5, `the pages table has ${names.length} rows`);
  check(JSON.stringify(names) === JSON.stringify([...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0))),
        `sorting by page: ${names.slice(0, 5)}`);
  check(await header("page").getAttribute("aria-sort") === "ascending", "aria-sort after a click on page");
  await header("views").locator("button").click();
  let v = await views();
  check(v.every((x, i) => i === 0 || v[i - 1] >= x), `views largest first: ${v.slice(0, 8)}`);
  await header("views").locator("button").click();
  v = await views();
  check(v.every((x, i) => i === 0 || v[i - 1] <= x), `views smallest first: ${v.slice(0, 8)}`);

  // Filtering: the rows left are exactly those whose text holds the query.
  const query = names.find((n) => n.length > 3).slice(0, 4).toLowerCase();
  const want = names.filter((n) => n.toLowerCase().includes(query)).length;
  await page.locator("#t-pages input.filter").fill(query);
  const left = await column(0);
  check(left.length > 0 && left.length < names.length && left.every((n) => n.toLowerCase().includes(query)),
        `filter ${JSON.stringify(query)} left ${left.length} of ${names.length} rows`);
  check(left.length >= want, `filter ${JSON.stringify(query)}: ${left.length} rows, ${want} pages match`);
  await page.locator("#t-pages input.filter").fill("");
  check((await column(0)).length === names.length, "clearing the filter shows every row");

  // The attribution switcher shows one model's table at a time.
  const select = page.locator("#attribution-model");
  if (await select.count()) {
    await select.selectOption("linear");
    const shown = await page.locator("[data-model]:visible").evaluateAll((d) => d.map((e) => e.dataset.model));
    check(JSON.stringify(shown) === '["linear"]', `attribution shows ${shown}`);
  }

  fs.mkdirSync(shots, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(shots, "report-light.png") });

  await page.emulateMedia({ colorScheme: "dark" });
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(background !== "rgb(246, 247, 249)", `dark mode background ${background}`);
  await page.screenshot({ path: path.join(shots, "report-dark.png") });
  await page.emulateMedia({ colorScheme: "light" });

  // A phone: nothing wider than the screen but the tables' own scrolling boxes.
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `the page is ${overflow}px wider than a phone`);
  await page.screenshot({ path: path.join(shots, "report-phone.png") });

  // Print: no controls.
  await page.emulateMedia({ media: "print" });
  check(!(await page.locator("nav").isVisible()) && !(await page.locator("input.filter").first().isVisible()),
        "navigation and filters are hidden in print");

  check(errors.length === 0, `console errors: ${errors.join(" | ")}`);
  check(requests.length === 0, `requests: ${requests.join(" ")}`);
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log("ok");
