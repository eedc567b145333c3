import { describe, expect, it } from 'vitest';
import { formatDate, formatMoney, formatPercentChange, todayIn } from './format';
import { defaultLocale, interpolate } from './core';

const nbsp = (s: string) => s.replace(/\u00a0/g, ' ');

describe('formatMoney', () => {
  it('shows rupiah without minor units in id-ID', () => {
    expect(nbsp(formatMoney('18000.00', 'IDR', 'id'))).toBe('Rp 18.000');
    expect(nbsp(formatMoney(18000, 'IDR', 'id'))).toBe('Rp 18.000');
  });
  it('keeps cents when an IDR amount has them', () => {
    expect(nbsp(formatMoney('1500.50', 'IDR', 'id'))).toBe('Rp 1.500,50');
  });
  it('formats large decimal strings exactly (no float rounding)', () => {
    expect(nbsp(formatMoney('12345678901234567.89', 'USD', 'en'))).toBe('$12,345,678,901,234,567.89');
  });
});

describe('dates', () => {
  it('formats a calendar date without shifting the day', () => {
    expect(formatDate('2026-01-31', 'en')).toBe('Jan 31, 2026');
  });
  it('knows today in the store timezone', () => {
    expect(todayIn('Asia/Jakarta', new Date('2026-01-31T18:00:00Z'))).toBe('2026-02-01');
  });
});

describe('i18n core', () => {
  it('prefers Indonesian for IDR or an id browser', () => {
    expect(defaultLocale(['en-US'], 'IDR')).toBe('id');
    expect(defaultLocale(['id-ID', 'en'])).toBe('id');
    expect(defaultLocale(['en-GB'])).toBe('en');
  });
  it('fills placeholders', () => {
    expect(interpolate('{n} sold', { n: 3 })).toBe('3 sold');
  });
  it('signs percent changes', () => {
    expect(formatPercentChange(12.5, 'en')).toBe('+12.5%');
  });
});
