import { describe, expect, it } from 'vitest';
import { ApiError, parseRetryAfter } from './errors';

describe('ApiError', () => {
  it('reads the server body', () => {
    const e = ApiError.fromResponse(409, { error: 'short', code: 'insufficient_stock', details: [{ product_sku: 'A' }] });
    expect(e.code).toBe('insufficient_stock');
    expect(e.status).toBe(409);
    expect(e.details).toEqual([{ product_sku: 'A' }]);
  });
  it('falls back to the status when the body is not ours', () => {
    expect(ApiError.fromResponse(502, 'Bad gateway').code).toBe('unavailable');
    expect(ApiError.fromResponse(429, null).code).toBe('rate_limited');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and dates', () => {
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 5_000)).toBe(5);
    expect(parseRetryAfter(null)).toBeNull();
  });
});
