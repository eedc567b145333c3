import { describe, expect, it } from 'vitest';
import { addMonths, buildMonth, gridRange, placeEvents, weekdayOf } from './monthGrid';

describe('buildMonth', () => {
  it('starts weeks on Monday and pads with the neighbouring months', () => {
    // December 2026 starts on a Tuesday and ends on a Thursday.
    const weeks = buildMonth({ year: 2026, month: 12 });
    expect(weeks).toHaveLength(5);
    expect(weeks.every((w) => w.length === 7)).toBe(true);
    expect(weeks[0]?.[0]).toMatchObject({ date: '2026-11-30', inMonth: false, weekday: 0 });
    expect(weeks[0]?.[1]).toMatchObject({ date: '2026-12-01', inMonth: true, day: 1 });
    expect(gridRange(weeks)).toEqual({ from: '2026-11-30', to: '2027-01-03' });
  });
  it('a February that starts on Monday and has 28 days is exactly 4 weeks', () => {
    const weeks = buildMonth({ year: 2027, month: 2 });
    expect(weeks).toHaveLength(4);
    expect(gridRange(weeks)).toEqual({ from: '2027-02-01', to: '2027-02-28' });
  });
  it('a month that needs 6 rows (Aug 2026 starts on a Saturday)', () => {
    const weeks = buildMonth({ year: 2026, month: 8 });
    expect(weeks).toHaveLength(6);
    expect(weeks.flat().filter((d) => d.inMonth)).toHaveLength(31);
  });
  it('handles leap years', () => {
    expect(buildMonth({ year: 2028, month: 2 }).flat().filter((d) => d.inMonth)).toHaveLength(29);
  });
});

describe('month arithmetic', () => {
  it('wraps years both ways', () => {
    expect(addMonths({ year: 2026, month: 12 }, 1)).toEqual({ year: 2027, month: 1 });
    expect(addMonths({ year: 2026, month: 1 }, -1)).toEqual({ year: 2025, month: 12 });
  });
  it('weekdayOf is Monday-based', () => {
    expect(weekdayOf('2026-12-07')).toBe(0); // Monday
    expect(weekdayOf('2026-12-06')).toBe(6); // Sunday
  });
});

describe('placeEvents', () => {
  const events = [
    { id: 1, date: '2026-12-24', end_date: null },
    { id: 2, date: '2026-12-20', end_date: '2027-01-02' },
    { id: 3, date: '2026-11-28', end_date: '2026-12-01' },
  ];
  it('puts a multi-day event on every day it spans, clipped to the range', () => {
    const placed = placeEvents(events, '2026-11-30', '2027-01-03');
    const daysOf = (id: number) => [...placed].filter(([, list]) => list.some((p) => p.event.id === id)).map(([d]) => d);
    expect(daysOf(2)).toHaveLength(14);
    expect(daysOf(3)).toEqual(['2026-11-30', '2026-12-01']);
    expect(daysOf(1)).toEqual(['2026-12-24']);
  });
  it('marks the segments: start, middle, end, single', () => {
    const placed = placeEvents(events, '2026-11-30', '2027-01-03');
    const seg = (d: string, id: number) => placed.get(d)?.find((p) => p.event.id === id)?.segment;
    expect(seg('2026-12-20', 2)).toBe('start');
    expect(seg('2026-12-25', 2)).toBe('middle');
    expect(seg('2027-01-02', 2)).toBe('end');
    expect(seg('2026-12-24', 1)).toBe('single');
    expect(seg('2026-11-30', 3)).toBe('middle'); // started before the visible range
  });
  it('keeps the longer-running event first on a shared day', () => {
    const placed = placeEvents(events, '2026-11-30', '2027-01-03');
    expect(placed.get('2026-12-24')?.map((p) => p.event.id)).toEqual([2, 1]);
  });
  it('an end_date before the date counts as a one-day event', () => {
    const placed = placeEvents([{ date: '2026-12-10', end_date: '2026-12-01' }], '2026-11-30', '2027-01-03');
    expect([...placed.keys()]).toEqual(['2026-12-10']);
  });
});
