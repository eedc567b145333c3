// Per-file set-up shared by the tests: a server, the checker (API), one browser, and a
// way to open a page at a device size that fails the test on page errors, 429s and 5xx.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { checker } from './api.mjs';
import { launch, newContext, problems, screenshot } from './browser.mjs';

/**
 * Registers before/after hooks for the calling test file and returns the shared state.
 * @param {import('./server.mjs').ServerOptions} [serverOptions]
 */
export function useServer(serverOptions = {}) {
  /** @type {{server: import('./server.mjs').Server, api: import('./api.mjs').Api, browser: import('playwright-core').Browser}} */
  const state = /** @type {any} */ ({});
  /** @type {{context: import('playwright-core').BrowserContext, recorder: import('./browser.mjs').Recorder}[]} */
  const opened = [];

  before(async () => {
    const [server, browser] = await Promise.all([startServer(serverOptions), launch()]);
    state.server = server;
    state.browser = browser;
    state.api = await checker(server);
  });

  after(async () => {
    await Promise.allSettled(opened.map(({ context }) => context.close()));
    await state.browser?.close();
    await state.server?.stop();
  });

  /**
   * A fresh browser context (own storage) at a size and language, and a page in it.
   * @param {'tablet'|'desktop'} size @param {'en'|'id'} [lang]
   */
  async function open(size = 'tablet', lang = 'en') {
    const { context, recorder } = await newContext(state.browser, size, { baseURL: state.server.url, lang });
    opened.push({ context, recorder });
    const page = await context.newPage();
    // SIPREMS_E2E_CPU_THROTTLE=4 runs the page's JavaScript 4x slower than the test, which
    // shakes out tests that race the app (a loaded CI machine does the same, rarely).
    const throttle = Number(process.env.SIPREMS_E2E_CPU_THROTTLE ?? 1);
    if (throttle > 1) await (await context.newCDPSession(page)).send('Emulation.setCPUThrottlingRate', { rate: throttle });
    return { context, page, recorder };
  }

  /**
   * Fails with what the browser recorded (page errors, 429s, 5xx), saving a screenshot.
   * @param {import('playwright-core').Page} page @param {import('./browser.mjs').Recorder} recorder @param {string} name
   */
  async function assertClean(page, recorder, name) {
    const found = problems(recorder);
    if (found.length) {
      const shot = await screenshot(page, `FAIL-${name}`, 'x').catch(() => '(no screenshot)');
      assert.fail(`${name}: the browser met problems (screenshot ${shot}):\n  ${found.join('\n  ')}\nconsole errors:\n  ${recorder.consoleErrors.join('\n  ')}`);
    }
  }

  return { state, open, assertClean };
}

/**
 * Runs a test body; on failure, saves a screenshot of the page and adds the browser's
 * console errors to the message, so a failure carries its evidence.
 * @param {() => {page?: import('playwright-core').Page, recorder?: import('./browser.mjs').Recorder}} current
 * @param {string} name
 * @param {() => Promise<void>} body
 */
export async function withEvidence(current, name, body) {
  try {
    await body();
  } catch (error) {
    const { page, recorder } = current();
    let shot = '(no page)';
    if (page && !page.isClosed()) shot = await screenshot(page, `FAIL-${name}`, 'x').catch((e) => `(screenshot failed: ${e.message})`);
    const extra = [
      `screenshot: ${shot}`,
      page && !page.isClosed() ? `url: ${page.url()}` : '',
      recorder?.consoleErrors.length ? `console errors:\n  ${recorder.consoleErrors.slice(-10).join('\n  ')}` : '',
      recorder ? problems(recorder).map((p) => `  ${p}`).join('\n') : '',
    ]
      .filter(Boolean)
      .join('\n');
    /** @type {any} */ (error).message = `${/** @type {any} */ (error).message}\n${extra}`;
    throw error;
  }
}
