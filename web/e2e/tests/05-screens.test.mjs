// 10. Screenshots of every screen at tablet and desktop sizes (web/e2e/screenshots/).
// 11. axe-core on every screen: no serious or critical violation.
// A screen that cannot be reached is reported by name with what was seen; every screen
// is still visited, so one run lists everything missing or inaccessible.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from '../lib/harness.mjs';
import { expect } from '../lib/expect.mjs';
import { T, go, login, loginToDashboard, cart, scan } from '../lib/ui.mjs';
import { axe, screenshot, problems } from '../lib/browser.mjs';

const { state, open } = useServer({ warmUp: true });

/**
 * @typedef {{page: import('playwright-core').Page}} Ctx
 * Each screen: its name, how a user reaches it, and the screen it is reached from (when
 * that one is missing, this one is reported as not reached without waiting for it).
 * @type {[string, (ctx: Ctx & {size: string, product: any}) => Promise<void>, string?][]}
 */
const SCREENS = [
  ['dashboard', async ({ page }) => {
    await go(page, 'dashboard');
    await expect(page.getByRole('heading', { name: T.dashboard, level: 1 })).toBeVisible();
    await expect(page.getByRole('main').getByRole('img').first().locator('svg').first()).toBeVisible();
  }],
  ['pos-cart', async ({ page, product }) => {
    await go(page, 'pos');
    await expect(cart(page)).toBeVisible();
    await scan(page, product.barcode);
    await expect(cart(page)).toContainText(product.name);
  }],
  ['receipt', async ({ page, product }) => {
    const paid = page.getByLabel(T.amountPaid).first();
    if (await paid.count()) await paid.fill(String(Math.ceil(Number(product.price))));
    await page.getByRole('button', { name: T.pay }).first().click();
    await expect(page.getByRole('dialog', { name: T.receipt }).or(page.getByRole('region', { name: T.receipt })).or(page.getByRole('article', { name: T.receipt })).first()).toBeVisible();
  }, 'pos-cart'],
  ['products', async ({ page }) => {
    const newSale = page.getByRole('button', { name: T.newSale });
    if (await newSale.count()) await newSale.first().click();
    await go(page, 'products');
    await expect(page.getByRole('heading', { name: T.nav.products, level: 1 })).toBeVisible();
    await expect(page.getByRole('table').first()).toBeVisible();
  }],
  ['product-form', async ({ page }) => {
    await page.getByRole('button', { name: T.newProduct }).or(page.getByRole('link', { name: T.newProduct })).first().click();
    await expect(page.getByLabel(/^sku/i)).toBeVisible();
    await expect(page.getByLabel(/barcode/i)).toBeVisible();
  }, 'products'],
  ['stock-ledger', async ({ page, product }) => {
    // From the products list the form was opened on: close the form, open the product.
    await closeDialogs(page);
    await expect(page.getByRole('table').first()).toBeVisible();
    // The product's link in its own row; the row itself only where it has no link. (A
    // `link.or(row)` locator resolves in document order, so `.first()` was the row, the
    // link's ancestor, and the click landed on the row's centre: the cost cell.)
    const row = page.getByRole('row', { name: new RegExp(product.sku) }).first();
    const link = row.getByRole('link', { name: product.name });
    await ((await link.count()) ? link.first() : row).click();
    await expect(page).toHaveURL(/sku=|\/products\/[^/]+/);
    const ledger = page.getByRole('link', { name: /ledger|stock history/i }).or(page.getByRole('tab', { name: /ledger|stock history/i }));
    if (await ledger.count()) await ledger.first().click();
    await expect(page.getByRole('table', { name: /ledger|stock/i }).or(page.getByRole('heading', { name: /ledger|stock history/i })).first()).toBeVisible();
    await expect(page.getByRole('main')).toContainText(/restock|adjustment|sale|import/i);
  }, 'products'],
  ['transactions', async ({ page }) => {
    await closeDialogs(page);
    await go(page, 'transactions');
    await expect(page.getByRole('heading', { name: T.nav.transactions, level: 1 })).toBeVisible();
    await expect(page.getByRole('table').first()).toBeVisible();
  }],
  ['transaction-detail', async ({ page }) => {
    const table = page.getByRole('table').first();
    await table.getByRole('link').or(table.getByRole('button', { name: /detail|view|open/i })).first().click();
    await expect(page.getByRole('heading', { name: /transaction|sale/i }).first()).toBeVisible();
    await expect(page.getByRole('main')).toContainText(/total/i);
  }, 'transactions'],
  ['calendar', async ({ page }) => {
    await go(page, 'calendar');
    await expect(page.getByRole('grid').or(page.getByRole('table')).first()).toBeVisible();
  }],
  ['prediction', async ({ page, product }) => {
    await state.api.waitForModel(product.sku);
    await go(page, 'prediction');
    const picker = page.getByLabel(/^product/i).first();
    if ((await picker.evaluate((el) => el.tagName)) === 'SELECT') await picker.selectOption(product.sku);
    else {
      await picker.fill(product.name);
      await page.getByRole('option', { name: product.name }).first().click();
    }
    const answered = page.waitForResponse((r) => /\/api\/predict(\/task\/|$)/.test(new URL(r.url()).pathname) && r.status() === 200);
    await page.getByRole('button', { name: T.predict }).first().click();
    await answered;
    await expect(page.getByRole('main').getByRole('img').first().locator('svg').first()).toBeVisible();
  }],
  ['settings', async ({ page }) => {
    await go(page, 'settings');
    await expect(page.getByRole('heading', { name: T.nav.settings, level: 1 })).toBeVisible();
    await expect(page.getByLabel(/time ?zone/i).first()).toBeVisible();
  }],
  ['users', async ({ page }) => {
    await go(page, 'users');
    await expect(page.getByRole('heading', { name: T.nav.users, level: 1 })).toBeVisible();
    await expect(page.getByRole('main')).toContainText(state.server.adminEmail);
  }],
  ['assistant', async ({ page }) => {
    await go(page, 'assistant');
    await expect(page.getByRole('heading', { name: T.nav.assistant, level: 1 })).toBeVisible();
  }],
];

/** Closes an open modal dialog (a form left open by the previous screen). */
async function closeDialogs(/** @type {import('playwright-core').Page} */ page) {
  if (await page.getByRole('dialog').count()) await page.keyboard.press('Escape');
  // Escape closes a modal dialog (WAI-ARIA dialog pattern).
  await expect(page.getByRole('dialog')).toHaveCount(0);
}

for (const size of /** @type {const} */ (['tablet', 'desktop'])) {
  test(`every screen at ${size} size: screenshot and axe-core (no serious/critical)`, async () => {
    const [product] = (await state.api.products()).filter((p) => p.barcode && p.stock > 3);
    /** @type {string[]} */ const missing = [];
    /** @type {string[]} */ const violations = [];
    /** @type {string[]} */ const shots = [];

    /** @type {Set<string>} */ const unreached = new Set();
    /** @param {import('playwright-core').Page} page @param {string} name @param {() => Promise<void>} reach @param {string} [needs] */
    const visit = async (page, name, reach, needs = '') => {
      if (needs && unreached.has(needs)) {
        unreached.add(name);
        missing.push(`${name}: not reached, it is opened from ${needs}, which is missing`);
        return;
      }
      try {
        await reach();
      } catch (error) {
        unreached.add(name);
        const shot = await screenshot(page, `MISSING-${name}`, size).catch(() => '');
        missing.push(`${name}: ${/** @type {Error} */ (error).message.split('\n').slice(0, 3).join(' | ')} (url ${page.url()}, screenshot ${shot})`);
        return;
      }
      shots.push(await screenshot(page, name, size));
      violations.push(...(await axe(page, `${name} @ ${size}`)));
    };

    // Signed out: the login screen.
    const first = await open(size, 'en');
    await visit(first.page, 'login', async () => {
      await first.page.goto('/');
      await expect(first.page.getByLabel(T.email)).toBeVisible();
      await expect(first.page.getByRole('button', { name: T.login })).toBeVisible();
    });

    // An account whose password an admin set: the forced change screen.
    const forced = { email: `forced-${size}@e2e.test`, password: 'Forced-pass-2026', full_name: 'Forced Change', role: /** @type {const} */ ('cashier') };
    await state.api.createUser(forced, { keepForcedChange: true });
    await visit(first.page, 'forced-password-change', async () => {
      await login(first.page, forced.email, forced.password);
      await expect(first.page.getByLabel(T.newPassword)).toBeVisible();
    });
    const firstProblems = problems(first.recorder);
    await first.context.close();

    // The owner, through every screen.
    const { page, recorder } = await open(size, 'en');
    await loginToDashboard(page, state.server.adminEmail, state.server.adminPassword);
    for (const [name, reach, needs] of SCREENS) await visit(page, name, () => reach({ page, size, product }), needs);

    const trouble = [...firstProblems, ...problems(recorder)];
    console.log(`screenshots (${size}): ${shots.length} saved in web/e2e/screenshots/`);
    const report = [
      missing.length ? `screens not reached (${missing.length}):\n  ${missing.join('\n  ')}` : '',
      violations.length ? `axe-core serious/critical violations (${violations.length}):\n${violations.join('\n')}` : '',
      trouble.length ? `browser problems:\n  ${trouble.join('\n  ')}` : '',
    ].filter(Boolean);
    assert.equal(report.length, 0, report.join('\n\n'));
  });
}
