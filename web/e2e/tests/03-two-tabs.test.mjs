// 4. Two tabs of one session refresh at once after the access token expired; neither is
//    logged out, both keep working, and the server's session stays intact.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, withEvidence } from '../lib/harness.mjs';
import { expect } from '../lib/expect.mjs';
import { T, go, loginToDashboard } from '../lib/ui.mjs';

const TTL = 3;
const { state, open, assertClean } = useServer({ warmUp: false, accessTokenTtl: TTL });

/** Resolves once the access tokens issued before `since` have expired (wall clock). */
function expiry(since) {
  const wait = since + TTL * 1000 + 1500 - Date.now();
  return new Promise((r) => setTimeout(r, Math.max(0, wait)));
}

test('two tabs refresh an expired session at once and neither is logged out', async () => {
  const { context, page, recorder } = await open('desktop', 'en');
  await withEvidence(() => ({ page, recorder }), 'two-tabs', async () => {
    /** @type {{status: number, page: string}[]} */
    const refreshes = [];
    /** @type {string[]} */
    const unauthorized = [];
    context.on('response', (res) => {
      const url = res.url();
      if (url.endsWith('/api/auth/refresh')) refreshes.push({ status: res.status(), page: res.frame()?.page()?.url() ?? '' });
      else if (url.includes('/api/') && res.status() === 401) unauthorized.push(url);
    });

    await loginToDashboard(page, state.server.adminEmail, state.server.adminPassword);
    let issued = Date.now();
    const second = await context.newPage();
    await second.goto('/');
    await expect(second.getByRole('heading', { name: T.dashboard, level: 1 })).toBeVisible();
    issued = Math.min(issued, Date.now());

    for (const [round, screen] of /** @type {const} */ ([[1, 'products'], [2, 'transactions']])) {
      // The token both tabs hold has expired; both need the API at the same moment.
      await expiry(issued);
      const before = refreshes.length;
      await Promise.all([go(page, screen), go(second, screen)]);
      for (const tab of [page, second]) {
        await expect(tab.getByRole('heading', { name: T.nav[screen], level: 1 })).toBeVisible();
        await expect(tab.getByRole('table').or(tab.getByRole('list')).first()).toBeVisible();
        await expect(tab.getByLabel(T.email)).toBeHidden();
        assert.doesNotMatch(tab.url(), /login/, `round ${round}: a tab went to the login screen`);
      }
      issued = Date.now();
      const made = refreshes.slice(before);
      assert.ok(made.length >= 1, `round ${round}: the expired token was refreshed`);
      assert.ok(made.every((r) => r.status === 200), `round ${round}: every refresh succeeded: ${JSON.stringify(made)}`);
      // Single-flight: one refresh serves both tabs (issue 10, item 4).
      assert.equal(made.length, 1, `round ${round}: ${made.length} refresh requests for one expiry (not single-flight): ${JSON.stringify(made)}`);
    }

    // The server's session is intact: a reload of either tab is still signed in.
    await second.reload();
    await expect(second.getByRole('heading', { name: T.nav.transactions, level: 1 })).toBeVisible();
    await expect(second.getByLabel(T.email)).toBeHidden();
    assert.deepEqual(refreshes.filter((r) => r.status !== 200), [], 'no refused refresh');
    await assertClean(page, recorder, 'two-tabs');
  });
});
