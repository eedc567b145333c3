// A small auto-waiting `expect` for playwright-core (the full one ships with
// @playwright/test, whose runner wants its own browser download). Each assertion
// re-checks until it holds or the timeout passes, then fails with what it last saw.

import { TIMEOUT } from './browser.mjs';

/**
 * @param {() => Promise<boolean>} check
 * @param {() => Promise<string>|string} describe
 * @param {number} timeout
 */
async function until(check, describe, timeout, interval = 100) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const what = await describe();
      throw new Error(`${what}${lastError ? ` (last error: ${lastError.message?.split('\n')[0]})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval)); // polling interval
  }
}

/** @param {any} value @param {RegExp|string} expected */
const matches = (value, expected) =>
  expected instanceof RegExp ? expected.test(value) : String(value).includes(expected);

/** What the element shows: innerText for HTML, textContent for SVG (which has no innerText). */
const text = (/** @type {any} */ locator) =>
  locator.first().evaluate((/** @type {any} */ el) => (typeof el.innerText === 'string' ? el.innerText : el.textContent ?? ''));

/**
 * @param {any} subject a Locator or a Page
 * @param {{timeout?: number}} [options]
 */
export function expect(subject, options = {}) {
  const timeout = options.timeout ?? TIMEOUT;
  const isPage = typeof subject.goto === 'function';
  const api = {
    async toBeVisible() {
      try {
        await subject.first().waitFor({ state: 'visible', timeout });
      } catch (e) {
        throw new Error(`expected ${subject} to be visible within ${timeout} ms`);
      }
    },
    async toBeHidden() {
      await until(async () => !(await subject.first().isVisible()), () => `expected ${subject} to be hidden`, timeout);
    },
    async toBeEnabled() {
      await until(() => subject.isEnabled(), () => `expected ${subject} to be enabled`, timeout);
    },
    /** @param {string} name @param {RegExp|string} expected */
    async toHaveAttribute(name, expected) {
      let last = null;
      await until(
        async () => matches((last = await subject.first().getAttribute(name)) ?? '', expected),
        () => `expected ${subject} to have ${name}=${expected}, it is ${last}`,
        timeout,
      );
    },
    /** @param {number} n */
    async toHaveCount(n) {
      let last = -1;
      await until(
        async () => (last = await subject.count()) === n,
        () => `expected ${subject} to have count ${n}, saw ${last}`,
        timeout,
      );
    },
    /** @param {RegExp|string} expected */
    async toContainText(expected) {
      let last = '';
      await until(
        async () => matches((last = await text(subject)), expected),
        () => `expected ${subject} to contain ${expected}; it reads:\n${last.slice(0, 2000)}`,
        timeout,
      );
    },
    /** @param {RegExp|string} expected */
    async toHaveURL(expected) {
      if (!isPage) throw new Error('toHaveURL needs a page');
      await until(
        async () => matches(new URL(subject.url()).pathname + new URL(subject.url()).search, expected),
        () => `expected the URL to match ${expected}, it is ${subject.url()}`,
        timeout,
      );
    },
    get not() {
      return {
        /** @param {RegExp|string} expected */
        async toContainText(expected) {
          let last = '';
          await until(
            async () => !matches((last = await text(subject)), expected),
            () => `expected ${subject} not to contain ${expected}; it reads:\n${last.slice(0, 2000)}`,
            timeout,
          );
        },
        async toBeVisible() {
          return api.toBeHidden();
        },
      };
    },
  };
  return api;
}

/**
 * Waits until `fn` returns a truthy value (polling), and returns it.
 * @template T @param {() => Promise<T>|T} fn @param {string} what @param {number} [timeout] @param {number} [interval]
 * @returns {Promise<T>}
 */
export async function eventually(fn, what, timeout = TIMEOUT, interval = 100) {
  /** @type {any} */
  let value;
  await until(async () => Boolean((value = await fn())), () => `timed out waiting for ${what}`, timeout, interval);
  return value;
}
