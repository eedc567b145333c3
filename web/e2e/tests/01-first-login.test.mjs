// 1. The bootstrap admin's generated password (printed once on stdout) must be changed at
// first login (the forced change screen), then the dashboard opens.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, withEvidence } from '../lib/harness.mjs';
import { expect } from '../lib/expect.mjs';
import { T, login } from '../lib/ui.mjs';
import { Api } from '../lib/api.mjs';
import { screenshot } from '../lib/browser.mjs';

const { state, open, assertClean } = useServer({ adminPassword: null, warmUp: false });

test('first login: the generated password must be changed, then the dashboard opens', async () => {
  assert.ok(state.server.generatedPassword, 'the server generated the admin password');
  const { page, recorder } = await open('tablet', 'en');
  await withEvidence(() => ({ page, recorder }), 'first-login', async () => {
    await page.goto('/');
    await expect(page.getByLabel(T.email)).toBeVisible();
    await login(page, state.server.adminEmail, state.server.adminPassword);

    // The forced change screen, and nothing else, until the password is changed.
    const heading = page.getByRole('heading', { name: /password/i });
    await expect(heading).toBeVisible();
    await expect(page.getByRole('heading', { name: T.dashboard, level: 1 })).toBeHidden();
    await screenshot(page, 'forced-password-change', 'tablet');

    const current = page.getByLabel(T.currentPassword);
    if (await current.count()) await current.fill(state.server.adminPassword);
    const fresh = 'My-own-secret-2026';
    await page.getByLabel(T.newPassword).fill(fresh);
    const confirm = page.getByLabel(T.confirmPassword);
    if (await confirm.count()) await confirm.fill(fresh);
    const changed = page.waitForResponse((r) => r.url().endsWith('/api/auth/change-password'));
    await page.getByRole('button', { name: T.changePassword }).click();
    assert.equal((await changed).status(), 200, 'POST /api/auth/change-password answered 200');

    await expect(page.getByRole('heading', { name: T.dashboard, level: 1 })).toBeVisible();
    // Still signed in after a reload (the session survives), and no forced screen again.
    await page.reload();
    await expect(page.getByRole('heading', { name: T.dashboard, level: 1 })).toBeVisible();
    await expect(page.getByLabel(T.newPassword)).toBeHidden();
    await assertClean(page, recorder, 'first-login');

    // The server agrees: the old password is refused, the new one works and is no longer
    // marked for a forced change.
    const oldOne = new Api(state.server.url, state.server.adminEmail, state.server.adminPassword);
    await assert.rejects(oldOne.login(), /401/);
    const newOne = new Api(state.server.url, state.server.adminEmail, fresh);
    const result = await newOne.login();
    assert.equal(result.user.must_change_password, false);
  });
});
