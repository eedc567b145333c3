import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors';
import {
  EMPTY,
  addProduct,
  beginCheckout,
  checkoutFailure,
  clearCart,
  isLocked,
  newIdempotencyKey,
  normalizePaid,
  revive,
  setPaid,
  setPromo,
  setQuantity,
  settle,
  shortagesOf,
  toRequest,
  type PosState,
} from './cart';

const bread = { sku: 'BRD-1', name: 'Roti tawar', price: '18000.00' };
const milk = { sku: 'MLK-1', name: 'Susu', price: '9500.00', variation: '1 L' };

function keys(...ks: string[]) {
  let i = 0;
  return () => ks[i++] ?? `extra-${i}`;
}

describe('cart lines', () => {
  it('a second add of the same product increments its line', () => {
    let s = addProduct(EMPTY, bread);
    s = addProduct(s, milk);
    s = addProduct(s, bread);
    expect(s.lines.map((l) => [l.sku, l.quantity])).toEqual([
      ['BRD-1', 2],
      ['MLK-1', 1],
    ]);
  });

  it('quantity 0 removes the line; the promo flag goes into the request', () => {
    let s = addProduct(addProduct(EMPTY, bread), milk);
    s = setPromo(s, 'MLK-1', true);
    s = setQuantity(s, 'BRD-1', 0);
    expect(toRequest(s.lines, '20000')).toEqual({
      items: [{ product_sku: 'MLK-1', quantity: 1, is_promo: true }],
      paid_amount: '20000',
    });
    expect(toRequest(s.lines, '')).not.toHaveProperty('paid_amount');
  });
});

describe('checkout key lifecycle', () => {
  const cart = (): PosState => setPaid(addProduct(addProduct(EMPTY, bread), milk), '50000');

  it('pressing Pay makes a key and keeps it with the cart', () => {
    const s = beginCheckout(cart(), toRequest(cart().lines, '50000'), keys('k1'));
    expect(s.pending?.key).toBe('k1');
    // persisted as JSON and read back (a reload): the key survives
    expect(revive(JSON.parse(JSON.stringify(s))).pending?.key).toBe('k1');
  });

  it('an unconfirmed checkout is retried with the same key, and the cart is locked', () => {
    const next = keys('k1', 'k2');
    const req = toRequest(cart().lines, '50000');
    let s = beginCheckout(cart(), req, next);
    s = settle(s, checkoutFailure(ApiError.network(new TypeError('Failed to fetch'))));
    expect(isLocked(s)).toBe(true);
    expect(addProduct(s, bread)).toBe(s); // no change while unconfirmed
    expect(clearCart(s)).toBe(s);
    s = beginCheckout(s, req, next);
    expect(s.pending?.key).toBe('k1');
    s = settle(s, checkoutFailure(new ApiError({ status: 503, code: 'unavailable', message: '' })));
    expect(beginCheckout(s, req, next).pending?.key).toBe('k1');
  });

  it('only a confirmed sale clears the cart and the key; the next sale gets a new key', () => {
    const next = keys('k1', 'k2');
    let s = beginCheckout(cart(), toRequest(cart().lines, '50000'), next);
    s = settle(s, 'confirmed');
    expect(s).toEqual(EMPTY);
    s = addProduct(s, bread);
    expect(beginCheckout(s, toRequest(s.lines, ''), next).pending?.key).toBe('k2');
  });

  it('a refusal (409 stock, 422 payment) drops the key but keeps the cart', () => {
    const next = keys('k1', 'k2');
    let s = beginCheckout(cart(), toRequest(cart().lines, '50000'), next);
    const stock = new ApiError({ status: 409, code: 'insufficient_stock', message: '', details: [] });
    expect(checkoutFailure(stock)).toBe('refused');
    s = settle(s, 'refused');
    expect(s.pending).toBeNull();
    expect(s.lines).toHaveLength(2);
    s = setQuantity(s, 'BRD-1', 1);
    expect(beginCheckout(s, toRequest(s.lines, '50000'), next).pending?.key).toBe('k2');
    expect(checkoutFailure(new ApiError({ status: 422, code: 'unprocessable', message: '' }))).toBe('refused');
    expect(checkoutFailure(new ApiError({ status: 409, code: 'idempotency_key_in_flight', message: '' }))).toBe('unknown');
  });
});

describe('normalizePaid', () => {
  it('reads the cashier’s notation per language', () => {
    expect(normalizePaid('50.000', 'id')).toBe('50000');
    expect(normalizePaid('12,5', 'id')).toBe('12.5');
    expect(normalizePaid('50,000', 'en')).toBe('50000');
    expect(normalizePaid('12.50', 'en')).toBe('12.50');
    expect(normalizePaid('Rp 100.000', 'id')).toBe('100000');
    expect(normalizePaid('', 'id')).toBe('');
  });
  it('rejects what is not an amount', () => {
    expect(normalizePaid('5.00.0', 'id')).toBeNull();
    expect(normalizePaid('-5', 'en')).toBeNull();
    expect(normalizePaid('abc', 'en')).toBeNull();
    expect(normalizePaid('12.345', 'en')).toBeNull();
  });
});

describe('helpers', () => {
  it('reads the short lines of a 409', () => {
    expect(shortagesOf([{ product_sku: 'A', requested: 3, available: 1 }, { nope: 1 }])).toEqual([
      { product_sku: 'A', requested: 3, available: 1 },
    ]);
    expect(shortagesOf(null)).toEqual([]);
  });

  it('makes a v4 UUID without crypto.randomUUID (plain http)', () => {
    const k = newIdempotencyKey({ getRandomValues: <T extends ArrayBufferView | null>(a: T) => a } as Pick<Crypto, 'getRandomValues'>);
    expect(k).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('revives garbage as an empty till', () => {
    expect(revive('x')).toEqual(EMPTY);
    expect(revive({ lines: [{ sku: 1 }], paid: 3 })).toEqual(EMPTY);
  });
});
