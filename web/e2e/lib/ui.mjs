// What a user sees, in one place: roles, labels and visible texts of the SIPREMS web app.
// Tests set the language explicitly (English unless a test says otherwise), so these
// patterns are English; `T.id` holds the Indonesian ones the language test needs.

import { expect } from './expect.mjs';

/** English texts (patterns) of the app. */
export const T = {
  email: /e-?mail/i,
  password: /^password$|^kata sandi$/i,
  login: /^(log ?in|sign ?in)$/i,
  currentPassword: /current password/i,
  newPassword: /^new password/i,
  confirmPassword: /confirm|repeat|again/i,
  changePassword: /change password|save password|set password|update password/i,
  dashboard: /dashboard/i,
  nav: {
    dashboard: /dashboard/i,
    pos: /^(pos|point of sale|cashier|till)$/i,
    products: /^products?$/i,
    transactions: /^(transactions|sales history|sales)$/i,
    calendar: /^(calendar|events)$/i,
    prediction: /prediction|forecast/i,
    settings: /^settings$/i,
    users: /^users$/i,
    assistant: /assistant/i,
  },
  cart: /cart/i,
  pay: /^(pay|charge|checkout|complete sale)/i,
  amountPaid: /amount paid|paid|cash received|tendered/i,
  receipt: /receipt/i,
  newSale: /new sale/i,
  retry: /retry|try again/i,
  notAllowed: /not allowed|no permission|not permitted|forbidden|access denied|admins? only/i,
  newProduct: /^\+?\s*(new|add|create) product/i,
  save: /^(save|create|add)( product| event)?$/i,
  search: /search/i,
  newEvent: /^\+?\s*(new|add|create) event/i,
  predict: /^(predict|run prediction|run forecast|forecast)$/i,
  recommendations: /recommendation|restock/i,
  language: /language|bahasa/i,
  id: {
    dashboard: /dasbor|dashboard/i,
    products: /^produk$/i,
    transactions: /^transaksi$/i,
  },
};

/** The main navigation (a sidebar on desktop, a drawer on tablet and phone). */
export function nav(/** @type {import('playwright-core').Page} */ page) {
  return page.getByRole('navigation', { name: /main navigation|navigasi utama/i });
}

/**
 * Makes the main navigation visible: on a tablet it is a drawer behind the menu button.
 * @param {import('playwright-core').Page} page
 */
export async function openNav(page) {
  if (await nav(page).isVisible()) return nav(page);
  await page.getByRole('button', { name: /^menu$/i }).click();
  await expect(nav(page)).toBeVisible();
  return nav(page);
}

/**
 * Opens a screen from the navigation, as a user would.
 * @param {import('playwright-core').Page} page @param {keyof typeof T.nav} screen
 */
export async function go(page, screen) {
  const menu = await openNav(page);
  await menu.getByRole('link', { name: T.nav[screen] }).first().click();
  await expect(page).toHaveURL(new RegExp(`^${screenPath(screen)}(\\?|$)`));
  await expect(page.getByRole('heading', { name: T.nav[screen], level: 1 })).toBeVisible();
  // Fail fast, and say so, where the screen is still the "being built" placeholder.
  if (await page.getByText(PLACEHOLDER).first().isVisible()) {
    throw new Error(`the ${screen} screen (${page.url()}) is still a placeholder: "This screen is being built."`);
  }
}

export const PLACEHOLDER = /this screen is being built|layar ini sedang dibuat/i;

/** The URL path each screen is expected at (the names). */
export function screenPath(/** @type {keyof typeof T.nav} */ screen) {
  return (
    {
      dashboard: '/',
      pos: '/pos',
      products: '/products',
      transactions: '/transactions',
      calendar: '/(calendar|events)',
      prediction: '/(prediction|predict|forecast)',
      settings: '/settings',
      users: '/users',
      assistant: '/assistant',
    }[screen] ?? ''
  );
}

/**
 * Logs in through the login screen.
 * @param {import('playwright-core').Page} page @param {string} email @param {string} password
 */
export async function login(page, email, password) {
  if (page.url() === 'about:blank') await page.goto('/');
  await page.getByLabel(T.email).fill(email);
  await page.getByLabel(T.password).fill(password);
  await page.getByRole('button', { name: T.login }).click();
}

/**
 * Logs in and waits for the dashboard (accounts without a forced password change).
 * @param {import('playwright-core').Page} page @param {string} email @param {string} password
 */
export async function loginToDashboard(page, email, password) {
  await login(page, email, password);
  await expect(page.getByRole('heading', { name: T.dashboard, level: 1 })).toBeVisible();
}

/** The cart of the POS screen. @param {import('playwright-core').Page} page */
export function cart(page) {
  return page
    .getByRole('region', { name: T.cart })
    .or(page.getByRole('complementary', { name: T.cart }))
    .or(page.getByRole('list', { name: T.cart }))
    .or(page.getByRole('table', { name: T.cart }))
    .first();
}

/**
 * Scans a barcode like a keyboard-wedge scanner: digits then Enter, into whatever has
 * the focus (no click into a field first).
 * @param {import('playwright-core').Page} page @param {string} code
 */
export async function scan(page, code) {
  await page.keyboard.type(code, { delay: 5 });
  await page.keyboard.press('Enter');
}

/**
 * A regular expression matching an amount of money however the locale groups digits
 * ("18.000", "18,000", "18 000"), optionally with ",00"/".00" decimals.
 * @param {string|number} amount
 */
export function moneyPattern(amount) {
  const whole = String(Math.round(Number(amount)));
  const groups = whole.replace(/\B(?=(\d{3})+(?!\d))/g, '\u0000').split('\u0000');
  return new RegExp(`(?<![\\d.,])${groups.join('[.,\\s\\u00a0\\u202f]?')}(?:[.,]00)?(?![\\d])`);
}

/** Today's date in the store's timezone (Asia/Jakarta), as YYYY-MM-DD, plus `days`. */
export function storeDate(days = 0) {
  const now = new Date(Date.now() + days * 86_400_000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Jakarta' }).format(now);
}
