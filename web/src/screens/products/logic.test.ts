import { describe, expect, it } from 'vitest';
import { newIdempotencyKey, parseWholeNumber } from './logic';

describe('parseWholeNumber', () => {
  it('reads whole numbers, signed or not, around blanks', () => {
    expect(parseWholeNumber('12')).toBe(12);
    expect(parseWholeNumber('+12')).toBe(12);
    expect(parseWholeNumber(' -3 ')).toBe(-3);
    expect(parseWholeNumber('0')).toBe(0); // the server, not the UI, refuses a zero change
  });
  it('refuses what is not a whole number', () => {
    expect(parseWholeNumber('')).toBeNull();
    expect(parseWholeNumber('1.5')).toBeNull();
    expect(parseWholeNumber('1.000')).toBeNull();
    expect(parseWholeNumber('abc')).toBeNull();
    expect(parseWholeNumber('--3')).toBeNull();
  });
});

describe('newIdempotencyKey', () => {
  it('makes distinct v4 UUIDs', () => {
    const a = newIdempotencyKey();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newIdempotencyKey()).not.toBe(a);
  });
});
