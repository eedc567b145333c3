// 8. The assistant (issue 11, item 8):
//    - ask "what should I restock this week?": the answer streams in (several token events,
//      the text on screen grows, then the final text), its sources show the tool and period;
//    - ask "restock 12 brownies": a proposal card; Confirm clicked twice quickly restocks
//      exactly 12 once (checked through the API);
//    - a reload keeps the conversation (its id is persisted, its turns come from the server);
//    - a cashier's assistant offers no forecast questions and shows no actions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, withEvidence } from '../lib/harness.mjs';
import { expect, eventually } from '../lib/expect.mjs';
import { go, loginToDashboard } from '../lib/ui.mjs';
import { screenshot } from '../lib/browser.mjs';

const { state, open, assertClean } = useServer({ warmUp: true });

const escape = (/** @type {string} */ s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const squash = (/** @type {string} */ s) => s.replace(/\s+/g, ' ').trim();

/** The events of an SSE body: [{event, data}]. */
function sseEvents(/** @type {string} */ text) {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim())
    .map((block) => {
      let event = 'message';
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      return { event, data: data.join('\n') };
    });
}

/** Brownies in the demo shop (the product "restock 12 brownies" means). */
async function brownies() {
  const page = await state.api.get('/api/products?search=brownies&limit=10');
  assert.equal(page.items.length, 1, `one product matches "brownies": ${page.items.map((p) => p.name).join(', ')}`);
  return page.items[0];
}

/** Records every text the newest answer region shows while it is written. */
async function watchAnswers(/** @type {import('playwright-core').Page} */ page) {
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__answerTexts = [];
    const look = () => {
      const regions = document.querySelectorAll('main [aria-live="polite"]');
      const last = /** @type {HTMLElement|undefined} */ (regions[regions.length - 1]);
      // the answer's text (its first paragraph), not the "Thinking…" / "Using: …" lines
      const text = /** @type {HTMLElement|null} */ (last?.querySelector('p'))?.innerText;
      if (last && text !== undefined) w.__answerTexts.push({ text, busy: last.getAttribute('aria-busy') });
    };
    w.__answerObserver?.disconnect();
    w.__answerObserver = new MutationObserver(look);
    w.__answerObserver.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

test('assistant: a streamed answer with sources, a confirmed restock applied once, kept across a reload', async () => {
  // Restock advice needs trained models (warm-up trains the demo shop with ETS in seconds).
  await eventually(async () => (await state.api.get('/api/recommendations')).items?.length > 0, 'restock recommendations', 120_000, 500);
  const product = await brownies();

  const { context, page, recorder } = await open('tablet', 'en');
  await withEvidence(() => ({ page, recorder }), 'assistant', async () => {
    await loginToDashboard(page, state.server.adminEmail, state.server.adminPassword);
    await go(page, 'assistant');

    // An empty conversation offers suggestions in the UI language.
    const suggestions = page.getByRole('list', { name: /suggested questions/i });
    await expect(suggestions).toBeVisible();
    await expect(suggestions.getByRole('button', { name: 'What should I restock this week?' })).toBeVisible();
    await screenshot(page, 'assistant-empty', 'tablet');

    // Slow the network down so the stream visibly arrives in pieces.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: 3000, uploadThroughput: -1 });
    await watchAnswers(page);

    const box = page.getByRole('textbox', { name: /^message$/i });
    const streamed = page.waitForResponse((r) => r.url().endsWith('/api/chat/stream') && r.request().method() === 'POST');
    await box.fill('what should I restock this week?');
    await box.press('Enter'); // Enter sends
    const response = await streamed;
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-type'] ?? '', /text\/event-stream/);
    assert.equal(await response.finished(), null, 'the stream completed');
    const events = sseEvents(await response.text());
    const tokens = events.filter((e) => e.event === 'token').map((e) => JSON.parse(e.data));
    const done = events.find((e) => e.event === 'done');
    assert.ok(done, `the stream ended with done: ${events.map((e) => e.event).join(',')}`);
    const reply = JSON.parse(done.data);
    assert.ok(tokens.length >= 3, `the answer came as several tokens (${tokens.length})`);
    assert.equal(tokens.join(''), reply.reply.content, 'the tokens add up to the final answer');
    assert.ok(events.findIndex((e) => e.event === 'tool') < events.findIndex((e) => e.event === 'token'), 'the tool ran before the answer');

    const log = page.locator('main [aria-live="polite"]').last();
    await expect(log).toContainText(squash(reply.reply.content).slice(0, 60));
    await eventually(async () => (await log.getAttribute('aria-busy')) === 'false', 'the answer finished');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    // On screen: the text grew token by token (partial texts seen, each a prefix of the
    // final one), then the final text.
    /** @type {{text: string, busy: string|null}[]} */
    const seen = await page.evaluate(() => /** @type {any} */ (window).__answerTexts);
    const final = squash(reply.reply.content);
    const partial = [...new Set(seen.map((s) => squash(s.text)).filter((t) => t && t.length < final.length && final.startsWith(t)))];
    assert.ok(partial.length >= 2, `the answer appeared piece by piece (partial texts seen: ${partial.length}; snapshots: ${JSON.stringify(seen.map((s) => s.text.slice(0, 50)))})`);
    assert.equal(squash(await log.innerText()), final, 'the final text is the answer');

    // Its sources: the tool, its period and the products it found.
    const sources = page.getByText(/^Sources \(\d+\)$/).last();
    await sources.click();
    const first = reply.sources[0];
    assert.equal(first.tool, 'restock_recommendations');
    const region = page.locator('main details').last();
    await expect(region).toContainText('Restock advice');
    await expect(region).toContainText(first.figures.items[0].product_sku);
    await screenshot(page, 'assistant-answer', 'tablet');

    // A proposed restock, confirmed with a double tap: stock goes up by 12, once.
    const before = (await state.api.product(product.sku)).stock;
    const stockPosts = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().includes(`/api/products/${product.sku}/stock`)) stockPosts.push(r.headers()['idempotency-key']);
    });
    const proposed = page.waitForResponse((r) => r.url().endsWith('/api/chat/stream') && r.request().method() === 'POST');
    await box.fill('restock 12 brownies');
    await page.getByRole('button', { name: /^send$/i }).click();
    const proposal = JSON.parse(sseEvents(await (await proposed).text()).find((e) => e.event === 'done').data).actions[0];
    const card = page.getByRole('article', { name: new RegExp(`Restock 12 × ${escape(product.name)}`) });
    await expect(card).toBeVisible();
    const confirm = card.getByRole('button', { name: /confirm/i });
    await expect(confirm).toBeEnabled();
    await screenshot(page, 'assistant-proposal', 'tablet');
    await confirm.dblclick();
    await expect(card).toContainText(new RegExp(`now has ${before + 12} in stock`));
    await screenshot(page, 'assistant-confirmed', 'tablet');
    assert.equal((await state.api.product(product.sku)).stock, before + 12, 'stock went up by exactly 12');
    assert.ok(stockPosts.length >= 1 && stockPosts.every((k) => k === proposal.confirm.idempotency_key), `every confirm carried the proposal's Idempotency-Key: ${stockPosts}`);
    // A second confirm with the same key (a retry) changes nothing.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await state.api.product(product.sku)).stock, before + 12, 'still +12 after the double tap');

    // A reload keeps the conversation (and the card stays done: no second restock offered).
    await page.reload();
    const conversation = page.getByRole('region', { name: /current conversation/i });
    await expect(conversation.getByText('what should I restock this week?', { exact: true })).toBeVisible();
    await expect(conversation.getByText('restock 12 brownies', { exact: true })).toBeVisible();
    const again = page.getByRole('article', { name: new RegExp(`Restock 12 × ${escape(product.name)}`) });
    await expect(again).toContainText(new RegExp(`now has ${before + 12} in stock`));
    await expect(again.getByRole('button', { name: /confirm/i })).toHaveCount(0);
    assert.equal((await state.api.product(product.sku)).stock, before + 12);
    await assertClean(page, recorder, 'assistant');
  });
});

test("assistant: a cashier's assistant offers no forecasts and shows no actions", async () => {
  const cashier = { email: 'kasir-asst@e2e.test', password: 'Kasir-pass-2026', full_name: 'Kasir Dua', role: /** @type {const} */ ('cashier') };
  await state.api.createUser(cashier);
  const product = await brownies();
  const { page, recorder } = await open('desktop', 'en');
  await withEvidence(() => ({ page, recorder }), 'assistant-cashier', async () => {
    await loginToDashboard(page, cashier.email, cashier.password);
    await go(page, 'assistant');
    const suggestions = page.getByRole('list', { name: /suggested questions/i });
    await expect(suggestions).toBeVisible();
    await expect(suggestions.getByRole('button', { name: /low/i })).toBeVisible();
    await expect(suggestions.getByRole('button', { name: /restock|forecast/i })).toHaveCount(0);

    const box = page.getByRole('textbox', { name: /^message$/i });
    const streamed = page.waitForResponse((r) => r.url().endsWith('/api/chat/stream'));
    await box.fill('restock 12 brownies');
    await box.press('Enter');
    const events = sseEvents(await (await streamed).text());
    const done = events.find((e) => e.event === 'done');
    assert.ok(done, 'the cashier got an answer');
    const reply = JSON.parse(done.data);
    assert.deepEqual(reply.actions, [], 'the server proposes no action to a cashier');
    await expect(page.locator('main [aria-live="polite"]').last()).toContainText(squash(reply.reply.content).slice(0, 40));
    await expect(page.getByRole('button', { name: /confirm/i })).toHaveCount(0);
    await expect(page.getByRole('article', { name: new RegExp(`Restock .*${escape(product.name)}`) })).toHaveCount(0);
    await screenshot(page, 'assistant-cashier', 'desktop');
    await assertClean(page, recorder, 'assistant-cashier');
  });
});
