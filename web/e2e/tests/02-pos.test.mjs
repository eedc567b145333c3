// 2. Sell a cart at the POS by scanning two barcodes (keyboard wedge, no click into a
//    field first); the receipt; stock and the dashboard change.
// 3. A checkout whose response is lost is retried with the same Idempotency-Key and
//    sells once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, withEvidence } from '../lib/harness.mjs';
import { expect, eventually } from '../lib/expect.mjs';
import { T, cart, go, loginToDashboard, moneyPattern, scan } from '../lib/ui.mjs';
import { screenshot } from '../lib/browser.mjs';

const { state, open, assertClean } = useServer({ warmUp: false });

/** Two different in-stock demo products with barcodes. */
async function scannable(count = 2, skip = new Set()) {
  const products = await state.api.products();
  const picked = products.filter((p) => p.barcode && p.stock >= 5 && p.is_active !== false && !skip.has(p.sku));
  assert.ok(picked.length >= count, `the demo shop has ${count} in-stock products with barcodes (found ${picked.length})`);
  return picked.slice(0, count);
}

/** Pays the cart at the POS with the exact total (or more) and returns the API's sale. */
async function pay(page, total) {
  const paid = page.getByLabel(T.amountPaid).first();
  if (await paid.count()) await paid.fill(String(Math.ceil(Number(total))));
  await page.getByRole('button', { name: T.pay }).first().click();
}

test('POS: two scanned barcodes, paid, receipt; stock and dashboard change', async () => {
  const products = await scannable(2);
  const before = await Promise.all(products.map((p) => state.api.product(p.sku)));
  const dashBefore = await state.api.dashboard('today');
  const salesBefore = await state.api.transactionCount();

  const { page, recorder } = await open('tablet', 'en');
  await withEvidence(() => ({ page, recorder }), 'pos-sale', async () => {
    await loginToDashboard(page, state.server.adminEmail, state.server.adminPassword);
    await go(page, 'pos');
    const basket = cart(page);
    await expect(basket).toBeVisible();

    // First scan: whatever has the focus after opening the POS.
    await scan(page, products[0].barcode);
    await expect(basket).toContainText(products[0].name);
    // Second scan: after the focus left every field (the cashier touched the screen).
    await page.evaluate(() => /** @type {HTMLElement|null} */ (document.activeElement)?.blur?.());
    await scan(page, products[1].barcode);
    await expect(basket).toContainText(products[1].name);
    const expectedTotal = Number(products[0].price) + Number(products[1].price);
    await expect(basket).toContainText(moneyPattern(expectedTotal));
    await screenshot(page, 'pos-cart', 'tablet');

    const sold = page.waitForResponse((r) => r.url().endsWith('/api/transactions') && r.request().method() === 'POST');
    await pay(page, expectedTotal);
    const response = await sold;
    assert.equal(response.status(), 201, `checkout answered ${response.status()}: ${await response.text()}`);
    const sale = await response.json();
    assert.equal(sale.items.length, 2);
    assert.equal(Number(sale.total), expectedTotal);

    // The receipt: the sale's number, both items and the total.
    const receipt = page.getByRole('dialog', { name: T.receipt }).or(page.getByRole('region', { name: T.receipt })).or(page.getByRole('article', { name: T.receipt })).first();
    await expect(receipt).toBeVisible();
    await expect(receipt).toContainText(products[0].name);
    await expect(receipt).toContainText(products[1].name);
    await expect(receipt).toContainText(moneyPattern(sale.total));
    await expect(receipt).toContainText(String(sale.transaction_id));
    await screenshot(page, 'receipt', 'tablet');

    // The server sold exactly this: one sale, one unit of each taken from stock.
    assert.equal(await state.api.transactionCount(), salesBefore + 1, 'one new sale');
    for (const [i, p] of products.entries()) {
      const now = await state.api.product(p.sku);
      assert.equal(now.stock, before[i].stock - 1, `${p.sku} stock went down by one`);
    }
    const dashAfter = await state.api.dashboard('today');
    assert.equal(dashAfter.transactions, dashBefore.transactions + 1, "today's transactions +1 (API)");
    assert.equal(Number(dashAfter.revenue), Number(dashBefore.revenue) + expectedTotal, "today's revenue + the sale (API)");

    // On screen: the products list shows the new stock…
    const newSale = page.getByRole('button', { name: T.newSale });
    if (await newSale.count()) await newSale.first().click();
    await go(page, 'products');
    const search = page.getByRole('searchbox').or(page.getByLabel(T.search)).first();
    await search.fill(products[0].name);
    const row = page.getByRole('row', { name: new RegExp(products[0].name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }).first();
    await expect(row).toBeVisible();
    await expect(row.getByRole('cell', { name: String(before[0].stock - 1), exact: true })).toBeVisible();

    // …and the dashboard's today figures changed to the server's.
    await go(page, 'dashboard');
    const today = page.getByRole('button', { name: /^today$/i }).or(page.getByRole('radio', { name: /^today$/i })).or(page.getByRole('tab', { name: /^today$/i })).first();
    if (await today.count()) await today.click();
    const main = page.getByRole('main');
    await expect(main).toContainText(moneyPattern(dashAfter.revenue));
    await assertClean(page, recorder, 'pos-sale');
  });
});

test('POS: a checkout whose response was lost is retried with the same key and sells once', async () => {
  const [product] = await scannable(1);
  const before = await state.api.product(product.sku);
  const salesBefore = await state.api.transactionCount();

  const { page, recorder } = await open('desktop', 'en');
  await withEvidence(() => ({ page, recorder }), 'pos-retry', async () => {
    await loginToDashboard(page, state.server.adminEmail, state.server.adminPassword);
    await go(page, 'pos');
    const basket = cart(page);
    await expect(basket).toBeVisible();
    await scan(page, product.barcode);
    await expect(basket).toContainText(product.name);

    /** @type {{key: string|undefined, status: number, body: any}[]} */
    const attempts = [];
    await page.route('**/api/transactions', async (route) => {
      const request = route.request();
      if (request.method() !== 'POST') return route.fallback();
      const key = request.headers()['idempotency-key'];
      if (attempts.length === 0) {
        // The request reaches the server, the server sells; the answer never arrives.
        const response = await route.fetch();
        attempts.push({ key, status: response.status(), body: await response.json().catch(() => null) });
        await route.abort('connectionreset');
        return;
      }
      const response = await route.fetch();
      attempts.push({ key, status: response.status(), body: await response.json().catch(() => null) });
      await route.fulfill({ response });
    });

    await pay(page, product.price);
    // The app retries by itself, or offers a retry button the cashier presses.
    const retry = page.getByRole('button', { name: T.retry }).first();
    await eventually(async () => attempts.length >= 2 || (await retry.isVisible()), 'an automatic retry or a retry button', 20_000);
    if (attempts.length < 2) {
      await screenshot(page, 'pos-checkout-retry', 'desktop');
      await retry.click();
    }
    await eventually(() => attempts.length >= 2, 'the retried checkout request');

    assert.ok(attempts[0].key, 'the checkout carries an Idempotency-Key header');
    assert.equal(attempts[0].status, 201, 'the first attempt sold on the server');
    assert.equal(attempts[1].key, attempts[0].key, 'the retry reuses the same Idempotency-Key');
    assert.ok(attempts[1].status === 201 || attempts[1].status === 200, `the retry answered ${attempts[1].status}`);
    assert.equal(attempts[1].body.transaction_id, attempts[0].body.transaction_id, 'the retry returned the first sale');

    const receipt = page.getByRole('dialog', { name: T.receipt }).or(page.getByRole('region', { name: T.receipt })).or(page.getByRole('article', { name: T.receipt })).first();
    await expect(receipt).toBeVisible();
    await expect(receipt).toContainText(String(attempts[0].body.transaction_id));

    assert.equal(await state.api.transactionCount(), salesBefore + 1, 'exactly one new sale');
    assert.equal((await state.api.product(product.sku)).stock, before.stock - 1, 'stock taken once');

    // A next sale gets a new key (the kept key is dropped once the server confirmed).
    const newSale = page.getByRole('button', { name: T.newSale });
    if (await newSale.count()) await newSale.first().click();
    await expect(basket).not.toContainText(product.name);
    await page.unroute('**/api/transactions');
    await scan(page, product.barcode);
    await expect(basket).toContainText(product.name);
    const next = page.waitForRequest((r) => r.url().endsWith('/api/transactions') && r.method() === 'POST');
    await pay(page, product.price);
    const nextKey = (await next).headers()['idempotency-key'];
    assert.ok(nextKey && nextKey !== attempts[0].key, 'a new sale uses a new Idempotency-Key');
    await expect(receipt).toBeVisible();
    assert.equal(await state.api.transactionCount(), salesBefore + 2);
    await assertClean(page, recorder, 'pos-retry');
  });
});
