import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { translate } from '../../i18n/core';
import { assistant } from '../../i18n/messages/assistant';
import {
  applyEvent,
  historyTurns,
  isRetryable,
  parseFrame,
  pendingAnswer,
  sourceView,
  suggestionTopics,
  trimRecords,
  type ChatReply,
  type Source,
  type StreamEvent,
  type Turn,
} from './conversation';

const reply: ChatReply = {
  session_id: '6ad8bcb1-6ef0-449a-abdd-e4ae593bd1e2',
  reply: { role: 'assistant', content: 'Top sellers: Kopi Susu.', timestamp: '2026-12-01T19:03:16.269Z' },
  sources: [{ tool: 'top_sellers', arguments: {}, figures: {}, from: '2026-11-01', to: '2026-11-30' }],
  actions: [],
};

/** The bytes the server sends for one turn, as SSE. */
function sse(events: Array<[string, unknown]>): string {
  return events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join('');
}

/** Feed `text` in chunks of `size` characters and fold every event into one answer. */
function fold(text: string, size: number): { turn: Turn; seen: StreamEvent[] } {
  let turn = pendingAnswer('a1', 'top sellers last month');
  const seen: StreamEvent[] = [];
  const parser = createParser({
    onEvent(m) {
      const ev = parseFrame(m);
      if (!ev) return;
      seen.push(ev);
      turn = applyEvent(turn, ev);
    },
  });
  for (let i = 0; i < text.length; i += size) parser.feed(text.slice(i, i + size));
  return { turn, seen };
}

describe('stream events → the answer', () => {
  const stream = sse([
    ['tool', { name: 'top_sellers', arguments: { from: '2026-11-01' } }],
    ['token', 'Top '],
    ['token', 'sellers: '],
    ['token', 'Kopi Susu.'],
    ['done', reply],
  ]);

  it('is the same however the bytes are split into chunks', () => {
    for (const size of [1, 3, 7, 64, stream.length]) {
      const { turn, seen } = fold(stream, size);
      expect(seen.map((e) => e.type)).toEqual(['tool', 'token', 'token', 'token', 'done']);
      expect(turn.content).toBe('Top sellers: Kopi Susu.');
      expect(turn.status).toBe('done');
      expect(turn.tools).toEqual(['top_sellers']);
      expect(turn.sources).toHaveLength(1);
    }
  });

  it('thinks while tools run, streams with the first token, and accumulates tokens in order', () => {
    let t = pendingAnswer('a1', 'q');
    t = applyEvent(t, { type: 'tool', name: 'sales', arguments: {} });
    expect(t.status).toBe('thinking');
    t = applyEvent(t, { type: 'token', text: 'Rp ' });
    expect(t.status).toBe('streaming');
    t = applyEvent(t, { type: 'token', text: '1.000' });
    expect(t.content).toBe('Rp 1.000');
  });

  it('takes the final text from `done`, not the pieces', () => {
    let t = applyEvent(pendingAnswer('a1', 'q'), { type: 'token', text: 'partial' });
    t = applyEvent(t, { type: 'done', reply });
    expect(t.content).toBe('Top sellers: Kopi Susu.');
    expect(t.timestamp).toBe('2026-12-01T19:03:16.269Z');
  });

  it('keeps multi-line tokens (a data line per line) whole', () => {
    const { turn } = fold('event: token\ndata: "line 1\\nline 2"\n\n', 5);
    expect(turn.content).toBe('line 1\nline 2');
  });

  it('reads an error event as a failure carrying the error body', () => {
    const ev = parseFrame({ event: 'error', data: JSON.stringify({ code: 'assistant_provider_failed', error: 'upstream 500' }) });
    expect(ev).toEqual({ type: 'error', body: { code: 'assistant_provider_failed', error: 'upstream 500' } });
    const t = applyEvent(pendingAnswer('a', 'q'), ev as StreamEvent);
    expect(t.status).toBe('failed');
  });

  it('ignores unknown events and refuses a malformed known one', () => {
    expect(parseFrame({ event: 'ping', data: '{}' })).toBeNull();
    expect(parseFrame({ data: '"x"' })).toBeNull();
    expect(() => parseFrame({ event: 'token', data: '{"not":"a string"}' })).toThrow();
    expect(() => parseFrame({ event: 'done', data: '{}' })).toThrow();
  });
});

describe('historyTurns', () => {
  it('keeps roles, order, sources and actions, with ids stable for the session', () => {
    const turns = historyTurns({
      session_id: 's1',
      title: 't',
      created_at: '',
      updated_at: '',
      messages: [
        { role: 'user', content: 'restock 12 brownies', timestamp: '2026-12-01T10:00:00Z' },
        {
          role: 'assistant',
          content: 'Prepared.',
          timestamp: '2026-12-01T10:00:01Z',
          actions: [
            {
              kind: 'restock',
              product_sku: 'CKE-002',
              product_name: 'Brownies',
              quantity: 12,
              reason: 'r',
              confirm: { method: 'POST', path: '/api/products/CKE-002/stock', body: {}, idempotency_key: 'assistant-1' },
            },
          ],
        },
      ],
    });
    expect(turns.map((t) => [t.id, t.role])).toEqual([
      ['s1:0', 'user'],
      ['s1:1', 'assistant'],
    ]);
    expect(turns[1]?.actions[0]?.quantity).toBe(12);
    expect(turns[0]?.sources).toEqual([]);
  });
});

describe('sourceView', () => {
  it('shows a category sale with its units, revenue (as sent) and period', () => {
    const v = sourceView({
      tool: 'sales',
      arguments: {},
      figures: { category: 'Roti', revenue: '41941000.00', scope: 'category', units: 2720 } as unknown as Source['figures'],
      from: '2026-11-01',
      to: '2026-11-30',
    });
    expect(v.from).toBe('2026-11-01');
    expect(v.to).toBe('2026-11-30');
    expect(v.rows).toEqual([
      {
        label: 'Roti',
        figures: [
          { kind: 'units', value: 2720 },
          { kind: 'revenue', value: '41941000.00' },
        ],
      },
    ]);
  });

  it('labels a product by name, variation and SKU; the store as a whole has no label', () => {
    const product = sourceView({
      tool: 'sales',
      arguments: {},
      figures: { scope: 'product', name: 'Brownies Panggang', sku: 'CKE-002', units: 32, revenue: '1760000.00' } as unknown as Source['figures'],
    });
    expect(product.rows[0]?.label).toBe('Brownies Panggang · CKE-002');
    const store = sourceView({ tool: 'sales', arguments: {}, figures: { scope: 'store', units: 1, revenue: '2', transactions: 3 } as unknown as Source['figures'] });
    expect(store.rows[0]?.label).toBe('');
    expect(store.rows[0]?.figures.map((f) => f.kind)).toEqual(['units', 'revenue', 'transactions']);
    const low = sourceView({
      tool: 'low_stock',
      arguments: {},
      figures: { items: [{ name: 'Lapis Legit', variation: 'Loyang 20 cm', sku: 'CKE-003', stock: 0, stock_status: 'out', price: '150000.00' }] } as unknown as Source['figures'],
    });
    expect(low.rows[0]).toEqual({ label: 'Lapis Legit (Loyang 20 cm) · CKE-003', figures: [{ kind: 'stock', value: 0 }], note: { kind: 'stock', value: 'out' } });
  });

  it('shows the first rows of a list and counts the rest', () => {
    const items = Array.from({ length: 8 }, (_, i) => ({ name: `P${i}`, sku: `S-${i}`, units: 10 - i, revenue: `${i}.00` }));
    const v = sourceView({ tool: 'top_sellers', arguments: {}, figures: { items } as unknown as Source['figures'] }, 5);
    expect(v.rows.map((r) => r.label)).toEqual(['P0 · S-0', 'P1 · S-1', 'P2 · S-2', 'P3 · S-3', 'P4 · S-4']);
    expect(v.more).toBe(3);
  });

  it('restock advice: stock, optimal, gap and stock-out day; products without a model counted', () => {
    const v = sourceView({
      tool: 'restock_recommendations',
      arguments: {},
      figures: {
        horizon_days: 7,
        items: [{ product: 'Croissant', product_sku: 'CRS-002', current: 4, optimal: 60, gap: 56, urgency: 'high', stockout_date: '2026-12-04' }],
        without_model: ['BRD-001', 'BRD-002'],
      } as unknown as Source['figures'],
    });
    expect(v.rows[0]).toEqual({
      label: 'Croissant · CRS-002',
      figures: [
        { kind: 'stock', value: 4 },
        { kind: 'optimal', value: 60 },
        { kind: 'gap', value: 56 },
        { kind: 'stockout', value: '2026-12-04' },
      ],
      note: { kind: 'urgency', value: 'high' },
    });
    expect(v.withoutModel).toEqual(['BRD-001', 'BRD-002']);
  });

  it('restock advice names the variation that tells products of one name apart', () => {
    const v = sourceView({
      tool: 'restock_recommendations',
      arguments: {},
      figures: {
        horizon_days: 7,
        items: [{ product: 'Croissant', product_variation: 'Almond', product_sku: 'CRS-003', current: 4, optimal: 9, gap: 5, urgency: 'high' }],
        without_model: [],
      } as unknown as Source['figures'],
    });
    expect(v.rows[0]?.label).toBe('Croissant (Almond) · CRS-003');
  });

  it('a forecast without a model says its training was queued and shows no figures', () => {
    const v = sourceView({
      tool: 'forecast',
      arguments: {},
      figures: { available: false, days: 7, name: 'Brownies', sku: 'CKE-002', training_queued: true } as unknown as Source['figures'],
    });
    expect(v.trainingQueued).toBe(true);
    expect(v.rows[0]?.figures).toEqual([]);
  });

  it('an event over several days shows both days; a one-day event one', () => {
    const v = sourceView({
      tool: 'upcoming_events',
      arguments: {},
      figures: {
        items: [
          { name: 'Libur Sekolah', date: '2026-12-20', end_date: '2027-01-02', type: 'seasonal' },
          { name: 'Natal', date: '2026-12-25', end_date: null, type: 'holiday' },
        ],
      } as unknown as Source['figures'],
    });
    expect(v.rows.map((r) => r.figures.map((f) => f.value))).toEqual([['2026-12-20', '2027-01-02'], ['2026-12-25']]);
    expect(v.rows[1]?.note).toEqual({ kind: 'event', value: 'holiday' });
  });
});

describe('suggestions', () => {
  it('a cashier is never offered forecasts or restock advice', () => {
    expect(suggestionTopics(false)).not.toContain('forecast');
    expect(suggestionTopics(false)).not.toContain('restock');
    expect(suggestionTopics(true)).toContain('restock');
  });

  it('are written in the UI language', () => {
    expect(translate(assistant, 'en', 's_restock')).toBe('What should I restock this week?');
    expect(translate(assistant, 'id', 's_restock')).toBe('Apa yang perlu di-restock minggu ini?');
  });
});

describe('misc', () => {
  it('provider failures and unavailability are retryable; a refused question is not', () => {
    expect(isRetryable('assistant_provider_failed', 502)).toBe(true);
    expect(isRetryable('unavailable', 503)).toBe(true);
    expect(isRetryable('validation_failed', 400)).toBe(false);
  });

  it('trimRecords keeps the newest records', () => {
    const recs = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, { stock: i }]));
    expect(Object.keys(trimRecords(recs, 3))).toEqual(['k2', 'k3', 'k4']);
    expect(trimRecords(recs, 10)).toBe(recs);
  });
});
