// The keeper's transparency page in a real browser (issue 18): Debian's headless Chromium driven
// by playwright-core. Run by scripts/browser-test.sh against `opg keeper run` on the embedded
// chain after an `opg loadgen` load and a finalized epoch with calls.
//
//   node test.mjs <keeper base URL> <finalized epoch with calls> <screenshot path>
//
// Checks: the page loads with no console error and no failed request; the split shown for the
// finalized epoch equals the pool's EpochReport (read from the keeper's JSON API
// GET /v1/epochs/{e}, which returns the pool's answer unchanged), both the data-value attributes
// and the text a person reads; the epoch links of the list open the epoch's page; the page fits a
// phone's width. Exits non-zero on the first failure.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const [base, epochArg, screenshot] = process.argv.slice(2);
if (!base || epochArg === undefined || !screenshot) {
  console.error("usage: node test.mjs <base URL> <epoch> <screenshot.png>");
  process.exit(2);
}
const epoch = Number(epochArg);

const micro = (v) => {
  // "1500000" -> "1.5" (exact, thousands separated), as keeper/src/report/figures.rs
  const n = BigInt(v);
  const int = n / 1000000n;
  const frac = (n % 1000000n).toString().padStart(6, "0").replace(/0+$/, "");
  const intS = int.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return frac ? `${intS}.${frac}` : intS;
};
const usd = (v) => {
  const n = BigInt(v);
  const int = (n / 1000000n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  let frac = (n % 1000000n).toString().padStart(6, "0").replace(/0+$/, "");
  while (frac.length < 2) frac += "0";
  return `$${int}.${frac}`;
};
const thousands = (v) => BigInt(v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const errors = [];
try {
  // a phone: 390 CSS px wide
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });

  const res = await page.goto(`${base}/`, { waitUntil: "load" });
  assert.equal(res.status(), 200, "GET / status");
  assert.equal(await page.locator("script").count(), 0, "no JavaScript on the page");
  const refresh = await page.locator('meta[http-equiv="refresh"]').getAttribute("content");
  assert.ok(Number(refresh) > 0, `auto-refresh meta, got ${refresh}`);

  // the pool's report of the epoch, as the keeper's JSON API returns it
  const api = await (await fetch(`${base}/v1/epochs/${epoch}`)).json();
  const pool = api.pool;
  assert.equal(pool.finalized, true, `epoch ${epoch} finalized on chain`);
  console.log(`pool report of epoch ${epoch}: ${JSON.stringify(pool)}`);

  // the headline split is the latest finalized epoch; open the one under test by its link
  const link = page.locator(`#epoch-list a[href="/epochs/${epoch}"]`);
  assert.equal(await link.count(), 1, `a link to epoch ${epoch} in the epoch list`);
  await Promise.all([page.waitForURL(`${base}/epochs/${epoch}`), link.click()]);
  const split = page.locator("#split");
  assert.equal(await split.getAttribute("data-epoch"), String(epoch), "the detailed epoch");

  const cell = (field) => split.locator(`td[data-field="${field}"]`);
  const checks = [];
  for (const cls of ["commercial", "community"]) {
    const c = pool[cls];
    checks.push([`${cls}.nodes`, c.nodes, thousands(c.nodes)]);
    checks.push([`${cls}.calls`, c.calls, thousands(c.calls)]);
    checks.push([`${cls}.raw_value`, c.raw_value, usd(c.raw_value)]);
    checks.push([`${cls}.counted_value`, c.counted_value, usd(c.counted_value)]);
    checks.push([`${cls}.usage_rewards`, c.usage_rewards, `${micro(c.usage_rewards)} OPG`]);
    checks.push([`${cls}.stipend`, c.stipend, `${micro(c.stipend)} OPG`]);
  }
  for (const [field, want, text] of checks) {
    const td = cell(field);
    assert.equal(await td.count(), 1, `one cell ${field}`);
    assert.equal(await td.getAttribute("data-value"), String(want), `${field} data-value`);
    assert.equal((await td.innerText()).trim(), text, `${field} as shown`);
  }
  const calls = pool.commercial.calls + pool.community.calls;
  assert.ok(calls > 0, "the finalized epoch has calls");
  assert.equal(await cell("calls").getAttribute("data-value"), String(calls), "calls of both classes");
  for (const field of ["budget", "usage_budget", "stipend_budget", "usage_unpaid", "stipend_unpaid", "rate", "v_cap", "paid"]) {
    const td = page.locator(`section[data-epoch="${epoch}"] td[data-field="${field}"]`).first();
    assert.equal(await td.getAttribute("data-value"), String(pool[field]), `${field} data-value`);
  }
  console.log(
    `split shown for epoch ${epoch} equals the pool's: ${calls} calls ` +
      `(${pool.commercial.calls} commercial, ${pool.community.calls} community), budget ${pool.budget} uopg`,
  );

  // every epoch link of the front page's list opens its page
  await page.goto(`${base}/`, { waitUntil: "load" });
  const hrefs = await page.locator("#epoch-list a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
  assert.ok(hrefs.length >= 1, "epoch links");
  for (const href of hrefs) {
    const e = href.split("/").pop();
    const r = await page.goto(`${base}${href}`, { waitUntil: "load" });
    assert.equal(r.status(), 200, `GET ${href}`);
    assert.equal(await page.locator("#split").getAttribute("data-epoch"), e, `${href} details epoch ${e}`);
  }
  // the prev/next links of an epoch page
  await page.goto(`${base}/epochs/${epoch}`, { waitUntil: "load" });
  const next = page.locator('nav a[rel="next"]');
  if ((await next.count()) === 1) {
    await Promise.all([page.waitForURL(`${base}/epochs/${epoch + 1}`), next.click()]);
  }

  // fits a phone: the document does not scroll sideways (wide tables scroll in their box)
  await page.goto(`${base}/epochs/${epoch}`, { waitUntil: "load" });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) {
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll("body *")]
        .filter((el) => el.getBoundingClientRect().right > window.innerWidth && !el.closest(".scroll"))
        .slice(0, 5)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}px`),
    );
    console.error(`elements past the viewport: ${wide.join(", ")}`);
  }
  assert.ok(overflow <= 0, `page wider than the phone viewport by ${overflow}px`);
  assert.ok((await page.locator("figure svg").count()) >= 5, "charts");

  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
  assert.deepEqual(errors, [], "no console errors or failed requests");
  console.log(`browser test passed (${hrefs.length} epoch links followed, Chromium ${browser.version()})`);
} catch (e) {
  if (errors.length) console.error(errors.join("\n"));
  throw e;
} finally {
  await browser.close();
}
