// 4. Two tabs of one session refresh at once after the access token expired; neither is
//    logged out, both keep working, and the server's session stays intact.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, withEvidence } from '../lib/harness.mjs';
import { expect, eventually } from '../lib/expect.mjs';
import { http } from '../lib/api.mjs';
import { T, loginToDashboard } from '../lib/ui.mjs';

const TTL = 3;
const { state, open, assertClean } = useServer({ warmUp: false, accessTokenTtl: TTL });

/**
 * Resolves once the server refuses the access token the tabs hold (its lifetime plus the
 * server's clock leeway), asking the server itself from the checker's address.
 * @param {import('playwright-core').Page} page
 */
async function expiry(page) {
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem('siprems.session') ?? 'null')?.access_token);
  assert.ok(token, 'the tab holds an access token');
  await eventually(
    async () => (await http(`${state.server.url}/api/auth/profile`, { headers: { authorization: `Bearer ${token}` } })).status === 401,
    'the access token to expire on the server',
    60_000,
    500,
  );
}

test('two tabs refresh an expired session at once and neither is logged out', async () => {
  const { context, page, recorder } = await open('desktop', 'en');
  await withEvidence(() => ({ page, recorder }), 'two-tabs', async () => {
    /** @type {{status: number, page: string}[]} */
    const refreshes = [];
    context.on('response', (res) => {
      const url = res.url();
      if (process.env.E2E_DEBUG && url.includes('/api/')) console.log(Date.now() % 100000, res.status(), res.request().method(), url, res.request().headers()['authorization']?.slice(-12));
      if (url.endsWith('/api/auth/refresh')) refreshes.push({ status: res.status(), page: res.frame()?.page()?.url() ?? '' });
    });

    await loginToDashboard(page, state.server.adminEmail, state.server.adminPassword);
    const second = await context.newPage();
    await second.goto('/');
    await expect(second.getByRole('heading', { name: T.dashboard, level: 1 })).toBeVisible();

    // Each round: the token both tabs hold has expired, and both ask the API for the
    // dashboard's figures at the same moment (the period buttons).
    for (const [round, period] of /** @type {const} */ ([[1, /^30 days$/i], [2, /^today$/i]])) {
      await expiry(page);
      const before = refreshes.length;
      const answered = [page, second].map((tab) =>
        // The answer the screen ends with (a 401 first is the expected trigger to refresh).
        tab.waitForResponse((r) => r.url().includes('/api/dashboard-stats') && r.status() !== 401),
      );
      // Both buttons are visible and enabled; dispatching the clicks together (rather
      // than two actionability-checked clicks, a frame or more apart in a background
      // tab) makes both tabs meet the expired token at the same moment.
      for (const tab of [page, second]) await expect(tab.getByRole('button', { name: period })).toBeEnabled();
      await Promise.all([page, second].map((tab) => tab.getByRole('button', { name: period }).dispatchEvent('click')));
      const responses = await Promise.all(answered);
      for (const [i, tab] of [page, second].entries()) {
        assert.equal(responses[i].status(), 200, `round ${round}: tab ${i + 1}'s figures answered ${responses[i].status()}`);
        await expect(tab.getByRole('button', { name: period })).toHaveAttribute('aria-pressed', 'true');
        await expect(tab.getByRole('heading', { name: T.dashboard, level: 1 })).toBeVisible();
        // Not signed out, and no "session ended" sign-in dialog over the screen.
        await expect(tab.getByRole('dialog')).toHaveCount(0);
        await expect(tab.getByLabel(T.email)).toHaveCount(0);
        const stored = await tab.evaluate(() => JSON.parse(localStorage.getItem('siprems.session') ?? 'null'));
        assert.ok(stored?.access_token && stored?.refresh_token, `round ${round}: tab ${i + 1} still holds a session`);
      }
      const made = refreshes.slice(before);
      assert.ok(made.length >= 1, `round ${round}: the expired token was refreshed`);
      assert.ok(made.every((r) => r.status === 200), `round ${round}: every refresh succeeded: ${JSON.stringify(made)}`);
      // Single-flight: one refresh serves both tabs (issue 10, item 4).
      assert.equal(made.length, 1, `round ${round}: ${made.length} refresh requests for one expiry (not single-flight): ${JSON.stringify(made)}`);
    }

    // The server's session is intact: a reload of either tab is still signed in.
    await second.reload();
    await expect(second.getByRole('heading', { name: T.dashboard, level: 1 })).toBeVisible();
    await expect(second.getByLabel(T.email)).toBeHidden();
    assert.deepEqual(refreshes.filter((r) => r.status !== 200), [], 'no refused refresh');
    await assertClean(page, recorder, 'two-tabs');
  });
});
