// 5. Create a product (with a barcode) and find it in the list.
// 6. Add an event: the calendar's month view shows it, the prediction chart marks it.
// 7. Run a prediction: the forecast line, the 95% band, the recommendations.
// 8. Switch language (en <-> id): texts change, money is `Rp 18.000` in Indonesian.
// 9. A cashier cannot open admin screens.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, withEvidence } from '../lib/harness.mjs';
import { expect, eventually } from '../lib/expect.mjs';
import { T, go, loginToDashboard, storeDate, nav, openNav } from '../lib/ui.mjs';
import { screenshot } from '../lib/browser.mjs';

const { state, open, assertClean } = useServer({ warmUp: true });

const escape = (/** @type {string} */ s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** An EAN-13 with a valid check digit from 12 digits. */
function ean13(twelve) {
  const sum = [...twelve].reduce((acc, d, i) => acc + Number(d) * (i % 2 ? 3 : 1), 0);
  return twelve + ((10 - (sum % 10)) % 10);
}

test('products: create a product with a barcode and find it in the list', async () => {
  const { page, recorder } = await open('desktop', 'en');
  await withEvidence(() => ({ page, recorder }), 'product-create', async () => {
    const sku = `E2E-${Date.now() % 100000}`;
    const name = `Roti E2E ${sku}`;
    const barcode = ean13(`899${String(Date.now()).slice(-9)}`);
    await loginToDashboard(page, state.server.adminEmail, state.server.adminPassword);
    await go(page, 'products');
    await page.getByRole('button', { name: T.newProduct }).or(page.getByRole('link', { name: T.newProduct })).first().click();
    const form = page.getByRole('dialog').or(page.getByRole('form')).first();
    await expect(form).toBeVisible();
    await form.getByLabel(/^sku/i).fill(sku);
    await form.getByLabel(/barcode/i).fill(barcode);
    await form.getByLabel(/^name/i).fill(name);
    const category = form.getByLabel(/^category/i).first();
    if ((await category.evaluate((el) => el.tagName)) === 'SELECT') await category.selectOption({ index: 1 });
    else await category.fill('Bread');
    await form.getByLabel(/^(sale )?price/i).first().fill('18500');
    const cost = form.getByLabel(/cost/i);
    if (await cost.count()) await cost.first().fill('11000');
    const stock = form.getByLabel(/^(opening |initial )?stock/i);
    if (await stock.count()) await stock.first().fill('12');
    const created = page.waitForResponse((r) => r.url().endsWith('/api/products') && r.request().method() === 'POST');
    await form.getByRole('button', { name: T.save }).first().click();
    assert.equal((await created).status(), 201, 'POST /api/products answered 201');
    // The dialog closes once the app has taken the answer in. Until then the page behind
    // the modal is inert, and Playwright's fill() would type into the dialog instead.
    await expect(page.getByRole('dialog')).toHaveCount(0);

    const product = await state.api.product(sku);
    assert.equal(product.barcode, barcode);
    assert.equal(product.name, name);

    // Found in the list by searching its name.
    if (!/\/products\/?(\?.*)?$/.test(new URL(page.url()).pathname)) await go(page, 'products');
    const search = page.getByRole('searchbox').or(page.getByLabel(T.search)).first();
    await search.fill(name);
    await expect(page.getByRole('row', { name: new RegExp(escape(name)) }).first()).toBeVisible();
    await assertClean(page, recorder, 'product-create');
  });
});

test('calendar: an event shows in the month view and as a marker on the prediction chart', async () => {
  const { page, recorder } = await open('desktop', 'en');
  await withEvidence(() => ({ page, recorder }), 'event-marker', async () => {
    const name = `E2E Festival ${Date.now() % 10000}`;
    const date = storeDate(2);
    await loginToDashboard(page, state.server.adminEmail, state.server.adminPassword);
    await go(page, 'calendar');
    await page.getByRole('button', { name: T.newEvent }).first().click();
    const form = page.getByRole('dialog').or(page.getByRole('form')).first();
    await expect(form).toBeVisible();
    await form.getByLabel(/^(name|title)/i).fill(name);
    await form.getByLabel(/^(start )?date|^from/i).first().fill(date);
    const type = form.getByLabel(/^type/i);
    if (await type.count()) await type.first().selectOption('promotion');
    const include = form.getByLabel(/prediction|forecast/i).first();
    if ((await include.count()) && !(await include.isChecked())) await include.check();
    const created = page.waitForResponse((r) => r.url().endsWith('/api/events') && r.request().method() === 'POST');
    await form.getByRole('button', { name: T.save }).first().click();
    const response = await created;
    assert.equal(response.status(), 201, `POST /api/events answered ${response.status()}`);
    const event = await response.json();
    assert.equal(event.include_in_prediction, true, 'the event feeds the forecast');
    await expect(page.getByRole('dialog')).toHaveCount(0);

    // The month view: move to the event's month if it is next month, then see it.
    const grid = page.getByRole('grid').or(page.getByRole('table')).first();
    await expect(grid).toBeVisible();
    if (storeDate(0).slice(0, 7) !== date.slice(0, 7)) await page.getByRole('button', { name: /next/i }).first().click();
    await expect(grid).toContainText(name);
    await screenshot(page, 'calendar-with-event', 'desktop');

    // The prediction chart marks it.
    const [product] = (await state.api.products()).filter((p) => p.is_active !== false);
    await state.api.waitForModel(product.sku);
    await go(page, 'prediction');
    const chart = await runPrediction(page, product, 14);
    await expect(chart).toContainText(name);
    await assertClean(page, recorder, 'event-marker');
  });
});

/**
 * Picks a product and horizon on the prediction screen, runs it, waits for the answer,
 * and returns the chart's SVG locator.
 * @param {import('playwright-core').Page} page @param {any} product @param {number} days
 */
async function runPrediction(page, product, days) {
  const picker = page.getByLabel(/^product/i).first();
  if ((await picker.evaluate((el) => el.tagName)) === 'SELECT') await picker.selectOption(product.sku);
  else {
    await picker.fill(product.name);
    await page.getByRole('option', { name: new RegExp(escape(product.name)) }).first().click();
  }
  const horizon = page.getByLabel(/horizon|days/i).first();
  if (await horizon.count()) {
    if ((await horizon.evaluate((el) => el.tagName)) === 'SELECT') await horizon.selectOption(String(days));
    else await horizon.fill(String(days));
  }
  const answered = page.waitForResponse((r) => /\/api\/predict(\/task\/|$)/.test(new URL(r.url()).pathname) && r.status() === 200);
  await page.getByRole('button', { name: T.predict }).first().click();
  await answered;
  // The chart: an element with role img named for the forecast (ECharts draws its SVG inside).
  const chart = page.getByRole('img', { name: /forecast|prediction|prakira|prediksi/i }).first().locator('svg').first();
  await expect(chart).toBeVisible();
  return chart;
}

test('prediction: the chart has the forecast line and the 95% band; recommendations are listed', async () => {
  const { page, recorder } = await open('desktop', 'en');
  await withEvidence(() => ({ page, recorder }), 'prediction', async () => {
    const products = (await state.api.products()).filter((p) => p.is_active !== false);
    const product = products[1] ?? products[0];
    await state.api.waitForModel(product.sku);
    const expected = await state.api.post('/api/predict', { product_sku: product.sku, days: 14 });
    const recommendations = await state.api.get('/api/recommendations?days=7');

    await loginToDashboard(page, state.server.adminEmail, state.server.adminPassword);
    await go(page, 'prediction');
    const chart = await runPrediction(page, product, 14);
    // Legend/series names, as the chart draws them.
    await expect(chart).toContainText(/forecast|predict/i);
    await expect(chart).toContainText(/95/);
    const shape = await chart.evaluate((svg) => {
      const paths = [...svg.querySelectorAll('path')];
      const segments = (/** @type {Element} */ p) => (p.getAttribute('d') ?? '').split(/[LCQ]/i).length;
      // ECharts' SVG renderer styles paths inline: read the computed fill and stroke.
      const isNone = (/** @type {string} */ v) => !v || v === 'none' || v === 'transparent' || /rgba\(.*,\s*0\)$/.test(v);
      const style = (/** @type {Element} */ p) => getComputedStyle(p);
      return {
        // A series line: stroked, unfilled, many segments.
        lines: paths.filter((p) => isNone(style(p).fill) && !isNone(style(p).stroke) && segments(p) > 8).length,
        // A band: a filled area with many segments (upper edge and back along the lower).
        bands: paths.filter((p) => !isNone(style(p).fill) && Number(style(p).fillOpacity) > 0 && segments(p) > 8).length,
      };
    });
    assert.ok(shape.lines >= 1, `the chart draws at least one line (found ${JSON.stringify(shape)})`);
    assert.ok(shape.bands >= 1, `the chart draws a filled 95% band (found ${JSON.stringify(shape)})`);
    // Accuracy on held-out data and the model version are shown.
    const main = page.getByRole('main');
    await expect(main).toContainText(new RegExp(`\\b${escape(String(expected.model.version))}\\b`));
    await expect(main).toContainText(/accuracy|smape|mase|wape/i);

    // The restock recommendations for all products, most urgent first.
    const list = page.getByRole('region', { name: T.recommendations }).or(page.getByRole('table', { name: T.recommendations })).or(page.getByRole('list', { name: T.recommendations })).first();
    await expect(list).toBeVisible();
    const first = recommendations.items?.[0] ?? recommendations[0];
    assert.ok(first, 'the API has recommendations');
    await expect(list).toContainText(first.product);
    await screenshot(page, 'prediction-run', 'desktop');
    await assertClean(page, recorder, 'prediction');
  });
});

test('language: English and Indonesian switch the texts, rupiah as "Rp 18.000"', async () => {
  const { page, recorder } = await open('tablet', 'en');
  await withEvidence(() => ({ page, recorder }), 'language', async () => {
    await loginToDashboard(page, state.server.adminEmail, state.server.adminPassword);
    await expect((await openNav(page)).getByRole('link', { name: /^products$/i })).toBeVisible();
    await page.keyboard.press('Escape');

    await switchLanguage(page, 'id');
    await expect((await openNav(page)).getByRole('link', { name: T.id.products })).toBeVisible();
    await expect(nav(page).getByRole('link', { name: /^products$/i })).toBeHidden();
    await expect(page.locator('html')).toHaveAttribute('lang', /^id/);
    // Money in Indonesian: "Rp 18.000" (a space, dots between thousands, no decimals).
    await expect(page.getByRole('main')).toContainText(/Rp[\s\u00a0]\d{1,3}(\.\d{3})+(?![\d,])/);
    await screenshot(page, 'dashboard-id', 'tablet');
    // The choice survives a reload.
    await page.reload();
    await expect((await openNav(page)).getByRole('link', { name: T.id.products })).toBeVisible();

    await switchLanguage(page, 'en');
    await expect((await openNav(page)).getByRole('link', { name: /^products$/i })).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('lang', /^en/);
    await assertClean(page, recorder, 'language');
  });
});

/** Uses the app's own language switch. @param {import('playwright-core').Page} page @param {'en'|'id'} lang */
async function switchLanguage(page, lang) {
  const label = lang === 'id' ? /bahasa indonesia|^id$|indonesia/i : /english|^en$/i;
  const control = page.getByRole('combobox', { name: T.language }).or(page.getByLabel(T.language)).first();
  if (await control.count()) {
    if ((await control.evaluate((el) => el.tagName)) === 'SELECT') {
      await control.selectOption({ label: lang === 'id' ? 'Bahasa Indonesia' : 'English' }).catch(() => control.selectOption(lang));
      return;
    }
    await control.click();
  }
  await page.getByRole('button', { name: label }).or(page.getByRole('menuitemradio', { name: label })).or(page.getByRole('radio', { name: label })).or(page.getByRole('option', { name: label })).first().click();
}

test('a cashier cannot open admin screens and requests no admin-only data', async () => {
  const cashier = { email: 'kasir@e2e.test', password: 'Kasir-pass-2026', full_name: 'Kasir Satu', role: /** @type {const} */ ('cashier') };
  await state.api.createUser(cashier);
  // Where the admin finds the admin screens.
  const admin = await open('desktop', 'en');
  await loginToDashboard(admin.page, state.server.adminEmail, state.server.adminPassword);
  /** @type {Record<string,string>} */
  const paths = {};
  for (const screen of /** @type {const} */ (['users', 'prediction'])) {
    const href = await (await openNav(admin.page)).getByRole('link', { name: T.nav[screen] }).first().getAttribute('href');
    assert.ok(href, `the admin's navigation links to ${screen}`);
    paths[screen] = href;
  }
  await admin.context.close();

  const { page, recorder } = await open('tablet', 'en');
  await withEvidence(() => ({ page, recorder }), 'cashier', async () => {
    /** @type {{url: string, status: number}[]} */
    const forbidden = [];
    page.on('response', (r) => {
      if (r.url().includes('/api/') && r.status() === 403) forbidden.push({ url: r.url(), status: 403 });
    });
    await loginToDashboard(page, cashier.email, cashier.password);
    const menu = await openNav(page);
    await expect(menu.getByRole('link', { name: T.nav.pos })).toBeVisible();
    for (const screen of /** @type {const} */ (['users', 'prediction'])) {
      await expect(menu.getByRole('link', { name: T.nav[screen] })).toHaveCount(0);
    }
    for (const [screen, path] of Object.entries(paths)) {
      await page.goto(path);
      await expect(page.getByRole('main')).toContainText(T.notAllowed);
      await screenshot(page, `cashier-${screen}-not-allowed`, 'tablet');
    }
    const adminOnly = /\/api\/(users|predict|recommendations|tasks|products\/[^/]+\/(models|stock)|transactions\/export\.csv)/;
    const asked = recorder.requests.filter((r) => adminOnly.test(new URL(r.url).pathname) && !(r.method === 'POST' && /\/stock$/.test(r.url)));
    assert.deepEqual(asked.map((r) => `${r.method} ${r.url}`), [], 'the cashier\'s app asked for admin-only data');
    assert.deepEqual(forbidden, [], 'the cashier\'s app met 403 answers');
    await assertClean(page, recorder, 'cashier');
  });
});
