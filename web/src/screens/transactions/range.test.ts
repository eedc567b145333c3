import { describe, expect, it } from 'vitest';
import { addDays, csvFilename, pageFromQuery, presetOf, presetRange, rangeFromQuery, toQuery, validDay } from './range';

describe('date ranges', () => {
  it('moves across months, years and leap days', () => {
    expect(addDays('2025-03-01', -1)).toBe('2025-02-28');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(addDays('2025-01-01', -1)).toBe('2024-12-31');
  });

  it('presets end today and include it', () => {
    expect(presetRange('today', '2025-01-10')).toEqual({ from: '2025-01-10', to: '2025-01-10' });
    expect(presetRange('7d', '2025-01-10')).toEqual({ from: '2025-01-04', to: '2025-01-10' });
    expect(presetRange('30d', '2025-01-10')).toEqual({ from: '2024-12-12', to: '2025-01-10' });
    expect(presetOf({ from: '2025-01-04', to: '2025-01-10' }, '2025-01-10')).toBe('7d');
    expect(presetOf({ from: '2025-01-05', to: '2025-01-10' }, '2025-01-10')).toBeNull();
  });

  it('reads the URL, falling back to 7 days on nonsense', () => {
    expect(rangeFromQuery({ from: '2025-01-01', to: '2025-01-31' }, '2025-02-01')).toEqual({ from: '2025-01-01', to: '2025-01-31' });
    expect(rangeFromQuery({ from: '2025-02-30', to: '2025-03-01' }, '2025-03-10')).toEqual({ from: '2025-03-04', to: '2025-03-10' });
    expect(rangeFromQuery({ from: '2025-02-01', to: '2025-01-01' }, '2025-03-10').from).toBe('2025-03-04');
    expect(validDay('2025-13-01')).toBe(false);
    expect(pageFromQuery({ page: '3' })).toBe(3);
    expect(pageFromQuery({ page: '-1' })).toBe(1);
  });

  it('names the CSV after the range', () => {
    expect(csvFilename({ from: '2025-01-01', to: '2025-01-31' })).toBe('transactions_2025-01-01_2025-01-31.csv');
    expect(csvFilename({ from: '2025-01-01', to: '2025-01-01' })).toBe('transactions_2025-01-01.csv');
    expect(toQuery({ from: 'a', page: 1, id: undefined })).toBe('?from=a&page=1');
  });
});
