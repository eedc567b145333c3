// Pure helpers of the products screen (tested in logic.test.ts). No business rule lives
// here: stock status, barcode, SKU, money and stock-change rules are the server's, which
// answers `stock_status` on every product and a validation_failed / bad_request error
// (shown next to the form) for anything it refuses.

/**
 * The whole number typed into a quantity field ("12", "+12", " -3 "), or null when the
 * text is not one. This only turns text into the JSON integer the API takes; whether the
 * number is acceptable (non-zero, a restock positive, in range) is the server's call.
 */
export function parseWholeNumber(input: string): number | null {
  const s = input.trim().replace(/^\+/, '');
  if (!/^-?\d{1,15}$/.test(s)) return null;
  return Number(s);
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
