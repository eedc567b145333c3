// The web app's budgets (issue 10, item 7), measured in Debian's Chromium against a real
// `siprems serve` on loopback, printed as a markdown table for the README. Not asserted:
// timings on a shared 2-core machine are reported, not tested.
//
//   a. compressed JavaScript the dashboard needs after login, chart included (< 150 KB)
//   b. the login screen interactive from a cold load (< 1 s, median of 9)
//   c. a scanned barcode rendered in the POS cart (< 50 ms, median and p95 of 20)

import { existsSync } from 'node:fs';
import { request } from 'node:http';
import zlib, { brotliCompressSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { REPO, startServer } from './lib/server.mjs';
import { launch, newContext, problems } from './lib/browser.mjs';
import { checker } from './lib/api.mjs';
import { T, cart, go, loginToDashboard } from './lib/ui.mjs';
import { expect } from './lib/expect.mjs';

const release = join(REPO, 'target/release/siprems');
const debug = join(REPO, 'target/debug/siprems');
const bin = process.env.SIPREMS_BIN ?? (existsSync(release) ? release : debug);
process.env.SIPREMS_BIN = bin;
const build = bin === release ? 'release' : bin === debug ? 'debug' : bin;
const LOGIN_RUNS = Number(process.env.BUDGET_LOGIN_RUNS ?? 9);
const SCANS = Number(process.env.BUDGET_SCANS ?? 20);

/** @param {number[]} xs @param {number} q */
function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return s[lo] + (s[hi] - s[lo]) * (i - lo);
}

/**
 * A response body as served with the given Accept-Encoding. When the server sends it
 * uncompressed (a debug build reads web/dist from disk), the size is what the release
 * build's precompression would send: brotli at quality 11, gzip at level 9.
 */
function servedSize(url, encoding) {
  return new Promise((ok, fail) => {
    const req = request(url, { headers: { 'accept-encoding': encoding } }, (res) => {
      /** @type {Buffer[]} */
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const served = res.headers['content-encoding'] ?? 'identity';
        if (served !== 'identity' || encoding === 'identity') return ok({ bytes: body.length, encoding: served, computed: false });
        const packed =
          encoding === 'br'
            ? brotliCompressSync(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } })
            : gzipSync(body, { level: 9 });
        ok({ bytes: packed.length, encoding: 'identity', computed: true });
      });
    });
    req.on('error', fail);
    req.end();
  });
}

const server = await startServer({ warmUp: false });
const browser = await launch();
const chromiumVersion = browser.version();
/** @type {string[]} */
const rows = [];
/** @type {string[]} */
const notes = [];
const kb = (/** @type {number} */ n) => `${(n / 1024).toFixed(1)} KB`;
const ms = (/** @type {number} */ n) => `${n.toFixed(1)} ms`;
const verdict = (/** @type {boolean} */ ok) => (ok ? 'within' : '**over**');

try {
  const api = await checker(server);

  // a. JavaScript transferred for the dashboard after login (chart included).
  {
    const { context } = await newContext(browser, 'desktop', { baseURL: server.url, lang: 'en' });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    /** @type {Map<string, {url: string, type: string, encoding: string}>} */
    const responses = new Map();
    /** @type {Map<string, number>} */
    const finished = new Map();
    cdp.on('Network.responseReceived', (e) => {
      const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
      responses.set(e.requestId, { url: e.response.url, type: e.type, encoding: h['content-encoding'] ?? 'identity' });
    });
    cdp.on('Network.loadingFinished', (e) => finished.set(e.requestId, e.encodedDataLength));
    await loginToDashboard(page, server.adminEmail, server.adminPassword);
    await expect(page.getByRole('main').getByRole('img').first().locator('svg').first()).toBeVisible();
    await page.waitForLoadState('networkidle');
    const scripts = [...responses.entries()].filter(([, r]) => r.type === 'Script' || /\.m?js(\?|$)/.test(r.url));
    const transferred = scripts.reduce((sum, [id]) => sum + (finished.get(id) ?? 0), 0);
    const urls = [...new Set(scripts.map(([, r]) => r.url))];
    const sizes = { br: 0, gzip: 0, identity: 0 };
    /** @type {Set<string>} */
    const served = new Set();
    let computed = false;
    for (const url of urls) {
      for (const enc of /** @type {const} */ (['br', 'gzip', 'identity'])) {
        const got = await servedSize(url, enc);
        sizes[enc] += got.bytes;
        computed ||= got.computed;
        served.add(`${enc}->${got.encoding}`);
      }
    }
    const browserEnc = [...new Set(scripts.map(([, r]) => r.encoding))].join(', ');
    const how = computed ? ', compressed here: this server sent it uncompressed' : ', as served';
    rows.push(`| JS for the dashboard after login, brotli (${urls.length} files${how}) | ${kb(sizes.br)} | – | < 150 KB | ${verdict(sizes.br < 150 * 1024)} |`);
    rows.push(`| JS for the dashboard after login, gzip${how} | ${kb(sizes.gzip)} | – | < 150 KB | ${verdict(sizes.gzip < 150 * 1024)} |`);
    rows.push(`| JS as Chromium transferred it (${browserEnc}, headers included) | ${kb(transferred)} | – | < 150 KB | ${verdict(transferred < 150 * 1024)} |`);
    notes.push(`uncompressed JS: ${kb(sizes.identity)}; encodings served: ${[...served].join(' ')}; files: ${urls.map((u) => new URL(u).pathname).join(' ')}`);
    await context.close();
  }

  // b. The login screen interactive from a cold load (a fresh context: empty cache).
  {
    /** @type {number[]} */
    const times = [];
    for (let i = 0; i < LOGIN_RUNS; i++) {
      const { context } = await newContext(browser, 'desktop', { baseURL: server.url, lang: 'en' });
      const page = await context.newPage();
      await page.goto('/', { waitUntil: 'commit' });
      const email = page.getByLabel(T.email);
      await email.waitFor({ state: 'visible' });
      await expect(page.getByRole('button', { name: T.login })).toBeEnabled();
      await expect(email).toBeEnabled();
      // Typable: the field takes a character now.
      await email.focus();
      await page.keyboard.type('a');
      const elapsed = await page.evaluate(() => performance.now());
      if ((await email.inputValue()) !== 'a') throw new Error('the email field did not take a typed character');
      times.push(elapsed);
      await context.close();
    }
    const median = quantile(times, 0.5);
    rows.push(`| Login screen interactive, cold load (median of ${LOGIN_RUNS}) | ${ms(median)} | ${ms(quantile(times, 0.95))} | < 1 s | ${verdict(median < 1000)} |`);
    notes.push(`login interactive runs (ms): ${times.map((t) => t.toFixed(0)).join(', ')}`);
  }

  // c. Barcode scan (Enter) to the item rendered in the cart.
  {
    const products = (await api.products()).filter((p) => p.barcode && p.stock > 3);
    const { context, recorder } = await newContext(browser, 'tablet', { baseURL: server.url, lang: 'en' });
    const page = await context.newPage();
    await loginToDashboard(page, server.adminEmail, server.adminPassword);
    await go(page, 'pos');
    const report = () => problems(recorder).concat(recorder.consoleErrors).join('\n  ');
    const basket = cart(page);
    await expect(basket).toBeVisible();
    const handle = await basket.elementHandle();
    /** @type {number[]} */
    const times = [];
    for (let i = 0; i < SCANS; i++) {
      const product = products[i % products.length];
      // Armed before the scan starts; resolved by the first cart change naming the product.
      await page.evaluate(
        ([el, name]) => {
          /** @type {any} */ (window).__scan = new Promise((ok, fail) => {
            const cartEl = /** @type {HTMLElement} */ (el);
            let start = 0;
            let before = '';
            const onKey = (/** @type {KeyboardEvent} */ e) => {
              if (e.key === 'Enter' && !start) {
                start = performance.now();
                before = cartEl.textContent ?? '';
              }
            };
            window.addEventListener('keydown', onKey, true);
            const observer = new MutationObserver(() => {
              const text = cartEl.textContent ?? '';
              if (start && text !== before && text.includes(name)) {
                const end = performance.now();
                observer.disconnect();
                window.removeEventListener('keydown', onKey, true);
                ok(end - start);
              }
            });
            observer.observe(cartEl, { subtree: true, childList: true, characterData: true, attributes: true });
            setTimeout(() => fail(new Error(`no cart change for ${name} in 10 s`)), 10_000);
          });
        },
        /** @type {const} */ ([handle, product.name]),
      );
      await page.keyboard.type(product.barcode, { delay: 5 });
      await page.keyboard.press('Enter');
      try {
        times.push(await page.evaluate(() => /** @type {any} */ (window).__scan));
      } catch (error) {
        throw new Error(`scan ${i + 1} (${product.barcode}, ${product.name}): ${/** @type {Error} */ (error).message}\n  ${report()}`);
      }
    }
    rows.push(`| Scan (Enter) to item in cart (${SCANS} scans) | ${ms(quantile(times, 0.5))} | ${ms(quantile(times, 0.95))} | < 50 ms | ${verdict(quantile(times, 0.95) < 50)} |`);
    notes.push(`scan-to-cart (ms): ${times.map((t) => t.toFixed(1)).join(', ')}`);
    if (problems(recorder).length) notes.push(`while scanning: ${report()}`);
    await context.close();
  }
} finally {
  await browser.close();
  await server.stop();
}

console.log(`\nBudgets of the web app — ${build} build (${bin}), Chromium ${chromiumVersion}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| budget | median | p95 | target | result |');
console.log('|---|---|---|---|---|');
for (const row of rows) console.log(row);
console.log('');
for (const note of notes) console.log(`- ${note}`);
