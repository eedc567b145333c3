// The assistant's conversation as data, framework-free (unit-tested in conversation.test.ts):
// stream events folded into the answer being written, history turned into turns, and a
// tool's figures turned into the few rows the "Sources" list shows. No business
// arithmetic: every figure shown is one the server sent.
import type { components } from '../../api/schema';
import { productLabel } from '../../lib/productLabel';

export type ChatReply = components['schemas']['ChatReply'];
export type ChatHistory = components['schemas']['ChatHistory'];
export type Source = components['schemas']['Source'];
export type Action = components['schemas']['Action'];
export type ErrorBody = components['schemas']['ErrorBody'];

/** The longest message the API accepts (ChatRequest.message). */
export const MAX_MESSAGE = 2000;

/** One event of `POST /api/chat/stream`, parsed. */
export type StreamEvent =
  | { type: 'tool'; name: string; arguments: unknown }
  | { type: 'token'; text: string }
  | { type: 'done'; reply: ChatReply }
  | { type: 'error'; body: ErrorBody };

/** A raw SSE frame: `event:` name (absent when the server sent none) and `data:`. */
export interface SseFrame {
  event?: string | undefined;
  data: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parse one frame. Unknown event names (a newer server) are ignored (`null`); a known
 * event whose data is not what the API documents throws, since the answer can no
 * longer be trusted.
 */
export function parseFrame(frame: SseFrame): StreamEvent | null {
  switch (frame.event) {
    case 'tool': {
      const d: unknown = JSON.parse(frame.data);
      if (!isObject(d) || typeof d['name'] !== 'string') throw new Error('bad tool event');
      return { type: 'tool', name: d['name'], arguments: d['arguments'] ?? {} };
    }
    case 'token': {
      const d: unknown = JSON.parse(frame.data);
      if (typeof d !== 'string') throw new Error('bad token event');
      return { type: 'token', text: d };
    }
    case 'done': {
      const d: unknown = JSON.parse(frame.data);
      if (!isObject(d) || typeof d['session_id'] !== 'string' || !isObject(d['reply'])) throw new Error('bad done event');
      return { type: 'done', reply: d as unknown as ChatReply };
    }
    case 'error': {
      let d: unknown = null;
      try {
        d = JSON.parse(frame.data);
      } catch {
        /* an unreadable error is still an error */
      }
      const body: ErrorBody = isObject(d) && typeof d['code'] === 'string' ? (d as unknown as ErrorBody) : { code: 'internal', error: frame.data };
      return { type: 'error', body };
    }
    default:
      return null;
  }
}

export type TurnStatus = 'thinking' | 'streaming' | 'done' | 'failed';

/** A message on screen: the user's, or the assistant's (possibly still being written). */
export interface Turn {
  /** Stable within the page (list keys). */
  id: string;
  role: 'user' | 'assistant';
  content: string;
  timestamp?: string | undefined;
  status: TurnStatus;
  /** Tools the answer used so far, in order (names as the API sends them). */
  tools: string[];
  sources: Source[];
  actions: Action[];
  /** Why the answer failed (`failed`): an ApiError, or the stream's error body. */
  error?: unknown;
  /** The question this answer replies to (to retry a failed one). */
  question?: string | undefined;
}

export function userTurn(id: string, content: string): Turn {
  return { id, role: 'user', content, status: 'done', tools: [], sources: [], actions: [] };
}

export function pendingAnswer(id: string, question: string): Turn {
  return { id, role: 'assistant', content: '', status: 'thinking', tools: [], sources: [], actions: [], question };
}

/** Fold one stream event into the answer being written. */
export function applyEvent(turn: Turn, ev: StreamEvent): Turn {
  switch (ev.type) {
    case 'tool':
      return { ...turn, tools: [...turn.tools, ev.name], status: turn.content ? 'streaming' : 'thinking' };
    case 'token':
      return { ...turn, content: turn.content + ev.text, status: 'streaming' };
    case 'done': {
      // The final body is the answer of record: its text wins over the pieces.
      const r = ev.reply;
      return {
        ...turn,
        content: r.reply.content,
        timestamp: r.reply.timestamp,
        status: 'done',
        sources: r.sources ?? [],
        actions: r.actions ?? [],
        error: undefined,
      };
    }
    case 'error':
      return { ...turn, status: 'failed', error: ev.body };
  }
}

/** Stored history → turns (ids derived from the session and position, so they are stable across reloads). */
export function historyTurns(history: ChatHistory): Turn[] {
  return history.messages.map((m, i) => ({
    id: `${history.session_id}:${i}`,
    role: m.role === 'user' ? 'user' : 'assistant',
    content: m.content,
    timestamp: m.timestamp,
    status: 'done',
    tools: [],
    sources: m.sources ?? [],
    actions: m.actions ?? [],
  }));
}

/** Is this error one the user may simply try again (the model or the server was unavailable)? */
export function isRetryable(code: string | undefined, status?: number): boolean {
  if (code === 'assistant_provider_failed' || code === 'unavailable' || code === 'rate_limited' || code === 'internal') return true;
  return status !== undefined && (status === 0 || status >= 500);
}

// ---- Sources → display rows ----

/** What a figure is, so the screen formats it (number, money, date) and labels it. */
export type FigureKind = 'units' | 'revenue' | 'stock' | 'price' | 'gap' | 'optimal' | 'forecastUnits' | 'stockout' | 'date' | 'transactions';

export interface Figure {
  kind: FigureKind;
  value: string | number;
}

export interface Note {
  kind: 'urgency' | 'stock' | 'event';
  value: string;
}

const note = (kind: Note['kind'], v: unknown): Note | undefined => (typeof v === 'string' && v !== '' ? { kind, value: v } : undefined);

export interface SourceRow {
  /** What the row is about (a product, a category, an event); empty for the store as a whole. */
  label: string;
  figures: Figure[];
  /** An extra word from the data: a restock's urgency, a product's stock status, an event's type. */
  note?: Note | undefined;
}

export interface SourceView {
  tool: string;
  from?: string | undefined;
  to?: string | undefined;
  rows: SourceRow[];
  /** Rows not shown (only the first `limit` are). */
  more: number;
  /** Products the tool could not answer for (no forecast model yet): their SKUs. */
  withoutModel: string[];
  /** A forecast that had no model: its training was queued. */
  trainingQueued: boolean;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const money = (v: unknown): string | number | undefined => (typeof v === 'string' && v !== '' ? v : num(v));

/** A product in a tool's figures (products carry `variation`, restock advice `product_variation`). */
function itemLabel(o: Record<string, unknown>): string {
  const base = productLabel(text(o['name']) ?? text(o['product']) ?? '', text(o['variation']) ?? text(o['product_variation']));
  const sku = text(o['sku']) ?? text(o['product_sku']);
  return sku ? (base ? `${base} · ${sku}` : sku) : base;
}

function figures(pairs: Array<[FigureKind, string | number | undefined]>): Figure[] {
  return pairs.filter((p): p is [FigureKind, string | number] => p[1] !== undefined).map(([kind, value]) => ({ kind, value }));
}

function itemRow(tool: string, o: Record<string, unknown>): SourceRow {
  switch (tool) {
    case 'restock_recommendations':
      return {
        label: itemLabel(o),
        figures: figures([
          ['stock', num(o['current'])],
          ['optimal', num(o['optimal'])],
          ['gap', num(o['gap'])],
          ['stockout', text(o['stockout_date'])],
        ]),
        note: note('urgency', o['urgency']),
      };
    case 'top_sellers':
      return { label: itemLabel(o), figures: figures([['units', num(o['units'])], ['revenue', money(o['revenue'])]]) };
    case 'upcoming_events': {
      const from = text(o['date']);
      const to = text(o['end_date']);
      return { label: text(o['name']) ?? '', figures: figures([['date', from], ['date', to && to !== from ? to : undefined]]), note: note('event', o['type']) };
    }
    default:
      // low_stock, find_products and anything else listing products
      return {
        label: itemLabel(o),
        figures: figures([['stock', num(o['stock'])], ['price', tool === 'find_products' ? money(o['price']) : undefined]]),
        note: note('stock', o['stock_status']),
      };
  }
}

/** One source as the rows the screen shows: at most `limit` of them, the rest counted. */
export function sourceView(source: Source, limit = 5): SourceView {
  const f: Record<string, unknown> = isObject(source.figures) ? source.figures : {};
  const view: SourceView = {
    tool: source.tool,
    from: source.from ?? undefined,
    to: source.to ?? undefined,
    rows: [],
    more: 0,
    withoutModel: Array.isArray(f['without_model']) ? f['without_model'].filter((s): s is string => typeof s === 'string') : [],
    trainingQueued: f['training_queued'] === true,
  };
  let rows: SourceRow[];
  if (Array.isArray(f['items'])) {
    rows = f['items'].filter(isObject).map((o) => itemRow(source.tool, o));
  } else if (source.tool === 'sales') {
    const label = f['scope'] === 'product' ? itemLabel(f) : f['scope'] === 'category' ? (text(f['category']) ?? '') : '';
    rows = [{ label, figures: figures([['units', num(f['units'])], ['revenue', money(f['revenue'])], ['transactions', num(f['transactions'])]]) }];
  } else if (source.tool === 'forecast') {
    const rec = isObject(f['recommendation']) ? f['recommendation'] : {};
    rows = [
      {
        label: itemLabel(f),
        figures: figures([
          ['forecastUnits', num(f['total_units'])],
          ['stock', num(rec['current'])],
          ['gap', num(rec['gap'])],
          ['stockout', text(rec['stockout_date'])],
        ]),
      },
    ];
  } else {
    rows = [];
  }
  view.rows = rows.slice(0, limit);
  view.more = Math.max(0, rows.length - view.rows.length);
  return view;
}

// ---- Suggested questions ----

export type SuggestionTopic = 'restock' | 'lowStock' | 'salesCategory' | 'topSellers' | 'events' | 'forecast';

/** Topics a role may ask about: a cashier's assistant has no forecasts or restock advice. */
export function suggestionTopics(isAdmin: boolean): SuggestionTopic[] {
  return isAdmin
    ? ['restock', 'lowStock', 'salesCategory', 'topSellers', 'forecast', 'events']
    : ['lowStock', 'salesCategory', 'topSellers', 'events'];
}

// ---- Confirmed actions, kept across reloads (by the action's own Idempotency-Key) ----

export interface ActionRecord {
  /** The product's stock after the confirmed change (from the API's answer; -1 if it gave none). */
  stock: number;
}

/** Keep at most `max` records (the newest, by insertion order). */
export function trimRecords(records: Record<string, ActionRecord>, max = 100): Record<string, ActionRecord> {
  const keys = Object.keys(records);
  if (keys.length <= max) return records;
  const out: Record<string, ActionRecord> = {};
  for (const k of keys.slice(keys.length - max)) out[k] = records[k] as ActionRecord;
  return out;
}
