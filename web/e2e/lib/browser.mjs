// Debian's Chromium driven by playwright-core (never a downloaded browser), the two
// device sizes, and what every page records: console errors, page errors, API answers
// with status 429 or 5xx, and every request (for "no admin-only data requested").

import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = join(here, '..', 'screenshots');
export const CHROMIUM = process.env.SIPREMS_E2E_CHROMIUM ?? '/usr/bin/chromium';

export const SIZES = {
  tablet: { viewport: { width: 820, height: 1180 }, deviceScaleFactor: 1, isMobile: false, hasTouch: true },
  desktop: { viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 },
};

/** Default timeout of every wait in the tests (elements, responses). */
export const TIMEOUT = Number(process.env.SIPREMS_E2E_TIMEOUT ?? 15_000);

export async function launch() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    headless: true,
  });
}

/**
 * @typedef {object} Recorder
 * @property {string[]} consoleErrors
 * @property {string[]} pageErrors
 * @property {{url: string, status: number, method: string}[]} failures  429s and 5xx answers
 * @property {{url: string, method: string}[]} requests
 */

/**
 * A fresh context (its own storage) at a device size, in a language set the way the app
 * keeps it (see `setLanguage`), with a recorder of what went wrong.
 * @param {import('playwright-core').Browser} browser
 * @param {keyof typeof SIZES} size
 * @param {{baseURL: string, lang?: 'en'|'id'}} options
 */
export async function newContext(browser, size, options) {
  const context = await browser.newContext({
    ...SIZES[size],
    baseURL: options.baseURL,
    locale: options.lang === 'id' ? 'id-ID' : 'en-US',
    timezoneId: 'Asia/Jakarta',
  });
  context.setDefaultTimeout(TIMEOUT);
  context.setDefaultNavigationTimeout(TIMEOUT);
  if (options.lang) await setLanguage(context, options.lang);
  /** @type {Recorder} */
  const recorder = { consoleErrors: [], pageErrors: [], failures: [], requests: [] };
  const watch = (/** @type {import('playwright-core').Page} */ page) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error') recorder.consoleErrors.push(`${page.url()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => recorder.pageErrors.push(`${page.url()}: ${err.stack || err.message || String(err)} (uncaught ${err.name || typeof err})`));
    page.on('request', (req) => recorder.requests.push({ url: req.url(), method: req.method() }));
    page.on('response', (res) => {
      const status = res.status();
      if (status === 429 || status >= 500) {
        recorder.failures.push({ url: res.url(), status, method: res.request().method() });
      }
    });
  };
  context.on('page', watch);
  return { context, recorder };
}

/** The localStorage key under which the web app keeps the chosen language. */
export const LANGUAGE_KEY = process.env.SIPREMS_E2E_LANGUAGE_KEY ?? 'siprems.locale';

/**
 * Sets the app's language before any of its script runs, as a returning user's choice.
 * @param {import('playwright-core').BrowserContext} context @param {'en'|'id'} lang
 */
export async function setLanguage(context, lang) {
  await context.addInitScript(
    ([key, value]) => {
      try {
        if (!sessionStorage.getItem('e2e-lang-set')) {
          localStorage.setItem(key, value);
          sessionStorage.setItem('e2e-lang-set', '1');
        }
      } catch {}
    },
    [LANGUAGE_KEY, lang],
  );
}

/**
 * Asserts nothing went wrong in the browser: no uncaught errors, no 429 (normal use
 * never meets one), no 5xx. Returns a description of problems (empty when fine).
 * @param {Recorder} recorder
 */
export function problems(recorder) {
  const lines = [];
  for (const e of recorder.pageErrors) lines.push(`page error: ${e}`);
  for (const f of recorder.failures) lines.push(`HTTP ${f.status} on ${f.method} ${f.url}`);
  return lines;
}

/**
 * Saves a full-page screenshot to web/e2e/screenshots/<name>-<size>.png.
 * @param {import('playwright-core').Page} page @param {string} name @param {string} size
 */
export async function screenshot(page, name, size) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}-${size}.png`);
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  return path;
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core in the page (WCAG 2.x A/AA rules and best practices) and returns the
 * serious and critical violations, each already formatted for a failure message.
 * @param {import('playwright-core').Page} page @param {string} screen
 */
export async function axe(page, screen) {
  const loaded = await page.evaluate(() => typeof (/** @type {any} */ (window).axe) !== 'undefined');
  // page.addScriptTag({content}) would be an inline <script>, which the app's CSP
  // (script-src 'self') rightly blocks; evaluating the source through the DevTools
  // protocol defines window.axe in the page without loosening the CSP.
  if (!loaded) await page.evaluate(AXE_SOURCE);
  /** @type {any} */
  const result = await page.evaluate(async () => {
    const w = /** @type {any} */ (window);
    return w.axe.run(document, { resultTypes: ['violations'] });
  });
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  return bad.map((v) => {
    const nodes = v.nodes
      .slice(0, 5)
      .map((n) => `      - ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ').slice(0, 300)}`)
      .join('\n');
    return `[${screen}] ${v.impact} ${v.id}: ${v.help} (${v.nodes.length} node(s)) ${v.helpUrl}\n${nodes}`;
  });
}
