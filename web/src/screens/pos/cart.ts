// The till's state and its rules, kept pure (no DOM, no fetch) so they are unit-tested:
// the cart lines, the amount paid, and the Idempotency-Key of a checkout that the
// server has not confirmed yet. The whole state is persisted (localStorage) on every
// change, so a reload, a crash or a session expiry loses nothing and a retried checkout
// reuses its key: the server then sells once.
//
// No money arithmetic here: prices are shown as the API sent them, totals and change
// come from the server's quote.
import type { components } from '../../api/schema';
import { ApiError } from '../../api/errors';

type Product = components['schemas']['ProductView'];
export type CheckoutRequest = components['schemas']['CheckoutRequest'];
export type Sale = components['schemas']['SaleView'];
export type Shortage = components['schemas']['Shortage'];

export interface CartLine {
  sku: string;
  name: string;
  variation: string | null;
  /** Unit price as the product list/lookup sent it (display only until the quote comes). */
  price: string;
  quantity: number;
  is_promo: boolean;
}

/** A checkout sent (or about to be) whose outcome the server has not confirmed. */
export interface PendingCheckout {
  key: string;
  request: CheckoutRequest;
}

export interface PosState {
  lines: CartLine[];
  /** What the cashier typed in "amount paid" (raw text). */
  paid: string;
  pending: PendingCheckout | null;
}

export const EMPTY: PosState = { lines: [], paid: '', pending: null };

export const MAX_QUANTITY = 100_000;

/** Reads a persisted value defensively: anything malformed becomes an empty till. */
export function revive(value: unknown): PosState {
  if (typeof value !== 'object' || value === null) return EMPTY;
  const v = value as Partial<PosState>;
  const lines = Array.isArray(v.lines)
    ? v.lines.filter(
        (l): l is CartLine =>
          typeof l === 'object' && l !== null && typeof l.sku === 'string' && typeof l.name === 'string' &&
          Number.isInteger(l.quantity) && l.quantity >= 1,
      )
    : [];
  const pending =
    v.pending && typeof v.pending.key === 'string' && typeof v.pending.request === 'object' ? v.pending : null;
  return { lines, paid: typeof v.paid === 'string' ? v.paid : '', pending };
}

/** True while a checkout awaits the server's confirmation: the cart must not change. */
export function isLocked(s: PosState): boolean {
  return s.pending !== null;
}

/** Adds one unit of a product: a new line, or +1 on its line. */
export function addProduct(s: PosState, p: Pick<Product, 'sku' | 'name' | 'price'> & { variation?: string | null }): PosState {
  if (isLocked(s)) return s;
  const i = s.lines.findIndex((l) => l.sku === p.sku);
  if (i >= 0) return setQuantity(s, p.sku, (s.lines[i]?.quantity ?? 0) + 1);
  const line: CartLine = { sku: p.sku, name: p.name, variation: p.variation ?? null, price: p.price, quantity: 1, is_promo: false };
  return { ...s, lines: [...s.lines, line] };
}

export function setQuantity(s: PosState, sku: string, quantity: number): PosState {
  if (isLocked(s) || !Number.isInteger(quantity)) return s;
  if (quantity < 1) return removeLine(s, sku);
  const q = Math.min(quantity, MAX_QUANTITY);
  return { ...s, lines: s.lines.map((l) => (l.sku === sku ? { ...l, quantity: q } : l)) };
}

export function removeLine(s: PosState, sku: string): PosState {
  if (isLocked(s)) return s;
  return { ...s, lines: s.lines.filter((l) => l.sku !== sku) };
}

export function setPromo(s: PosState, sku: string, is_promo: boolean): PosState {
  if (isLocked(s)) return s;
  return { ...s, lines: s.lines.map((l) => (l.sku === sku ? { ...l, is_promo } : l)) };
}

export function setPaid(s: PosState, paid: string): PosState {
  if (isLocked(s)) return s;
  return { ...s, paid };
}

export function clearCart(s: PosState): PosState {
  return isLocked(s) ? s : EMPTY;
}

/**
 * The amount paid as the API takes it ("50000" or "12.50"), from what the cashier typed
 * in their language's notation: Indonesian "50.000" / "12,50", English "50,000" / "12.50".
 * '' when nothing was typed; null when it is not an amount.
 */
export function normalizePaid(raw: string, locale: 'id' | 'en'): string | null {
  const s = raw.replace(/[\s\u00a0\u202f]|Rp|\$/gi, '');
  if (s === '') return '';
  const [group, decimal] = locale === 'id' ? ['.', ','] : [',', '.'];
  // Grouping separators only between groups of three digits.
  const grouped = new RegExp(`^\\d{1,3}(\\${group}\\d{3})+(\\${decimal}\\d{1,2})?$`);
  const plain = new RegExp(`^\\d+(\\${decimal}\\d{1,2})?$`);
  if (!grouped.test(s) && !plain.test(s)) return null;
  const out = s.split(group).join('').replace(decimal, '.').replace(/^0+(?=\d)/, '');
  return out.split('.')[0]!.length > 13 ? null : out;
}

/** The body for POST /api/transactions(/quote). `paid` is normalizePaid's result. */
export function toRequest(lines: readonly CartLine[], paid: string | null): CheckoutRequest {
  const body: CheckoutRequest = {
    items: lines.map((l) => ({ product_sku: l.sku, quantity: l.quantity, is_promo: l.is_promo })),
  };
  if (paid) body.paid_amount = paid;
  return body;
}

function sameRequest(a: CheckoutRequest, b: CheckoutRequest): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The cashier pressed Pay: the checkout to send. A checkout still pending for the same
 * cart keeps its key (a retry); otherwise a fresh key is made and kept with the cart.
 */
export function beginCheckout(s: PosState, request: CheckoutRequest, newKey: () => string): PosState {
  if (s.pending && sameRequest(s.pending.request, request)) return s;
  if (s.pending) return s; // locked: the unconfirmed checkout must be settled first
  return { ...s, pending: { key: newKey(), request } };
}

/**
 * What a failed checkout means for the sale:
 * - 'unknown': it may or may not have been recorded (no answer, timeout, 5xx, the same
 *   key still in flight): keep the key and retry with it;
 * - 'refused': the server answered and did not sell (stock, validation, payment): the
 *   key is dropped, the cart stays for the cashier to fix.
 */
export function checkoutFailure(e: unknown): 'unknown' | 'refused' {
  if (!(e instanceof ApiError)) return 'unknown';
  if (e.network) return 'unknown';
  if (e.code === 'idempotency_key_in_flight') return 'unknown';
  if (e.status >= 500 || e.status === 429 || e.status === 401) return 'unknown';
  return 'refused';
}

/** The outcome of a checkout attempt applied to the till. */
export function settle(s: PosState, outcome: 'confirmed' | 'refused' | 'unknown'): PosState {
  switch (outcome) {
    case 'confirmed':
      return EMPTY; // sold: a new sale starts empty and will get a new key
    case 'refused':
      return { ...s, pending: null };
    case 'unknown':
      return s;
  }
}

/** The short lines of a 409 insufficient_stock (its `details`), or []. */
export function shortagesOf(details: unknown): Shortage[] {
  const list = Array.isArray(details)
    ? details
    : typeof details === 'object' && details !== null && Array.isArray((details as { items?: unknown }).items)
      ? (details as { items: unknown[] }).items
      : [];
  return list.filter(
    (d): d is Shortage =>
      typeof d === 'object' && d !== null && typeof (d as Shortage).product_sku === 'string' &&
      typeof (d as Shortage).available === 'number',
  );
}

/** An Idempotency-Key: a random UUID (v4), also where crypto.randomUUID is missing (plain http). */
export function newIdempotencyKey(c: Pick<Crypto, 'getRandomValues'> & { randomUUID?: () => string } = crypto): string {
  if (typeof c.randomUUID === 'function') {
    try {
      return c.randomUUID();
    } catch {
      /* not a secure context: fall through */
    }
  }
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
