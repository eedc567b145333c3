// Pure helpers of the products screen (tested in logic.test.ts). Input checks only
// mirror the API's documented formats so a typo is flagged before sending; the server
// still decides.

export type StockStatus = 'out' | 'low' | 'ok';

/**
 * A product's stock state from the store's low-stock threshold as the API reports it
 * (`/api/products/stats.low_stock_threshold`), with the server's rule: low is
 * `stock <= threshold` (the `low_stock=true` filter), out is 0. `null` threshold
 * (stats not loaded yet): only "out" can be told.
 */
export function stockStatus(stock: number, threshold: number | null): StockStatus {
  if (stock <= 0) return 'out';
  if (threshold !== null && stock <= threshold) return 'low';
  return 'ok';
}

/** EAN-13 or UPC-A (12 digits) with a valid check digit: the format the API accepts. */
export function isValidBarcode(code: string): boolean {
  if (!/^\d{12,13}$/.test(code)) return false;
  const digits = (code.length === 12 ? `0${code}` : code).split('').map(Number);
  const check = digits.pop() as number;
  const sum = digits.reduce((acc, d, i) => acc + d * (i % 2 === 0 ? 1 : 3), 0);
  return (10 - (sum % 10)) % 10 === check;
}

export const SKU_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** The API's money format for requests: digits with at most 2 decimals. */
export function isMoneyInput(s: string): boolean {
  return /^\d{1,13}(\.\d{1,2})?$/.test(s.trim());
}

/**
 * The signed change a stock form asks for, or null when it is not acceptable: a
 * restock is a positive whole number, an adjustment any non-zero whole number.
 */
export function parseStockChange(input: string, reason: 'restock' | 'adjustment'): number | null {
  const s = input.trim().replace(/^\+/, '');
  if (!/^-?\d{1,10}$/.test(s)) return null;
  const n = Number(s);
  if (n === 0 || Math.abs(n) > 1_000_000_000) return null;
  if (reason === 'restock' && n < 0) return null;
  return n;
}

/**
 * A fresh Idempotency-Key. `crypto.randomUUID` needs a secure context; a shop PC reached
 * at http://192.168.x.y has only `getRandomValues`, so build a v4 UUID from it there.
 */
export function newIdempotencyKey(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
