import { describe, expect, it } from 'vitest';
import { trendPoints } from './trend';

describe('trendPoints', () => {
  it('orders days and keeps the exact revenue text for display', () => {
    const pts = trendPoints([
      { date: '2026-03-02', revenue: '1500.50', transactions: 2, units: 3 },
      { date: '2026-03-01', revenue: '18000.00', transactions: 1, units: 1 },
    ]);
    expect(pts.map((p) => p.day)).toEqual(['2026-03-01', '2026-03-02']);
    expect(pts[0]?.date.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(pts[1]?.revenue).toBe(1500.5);
    expect(pts[1]?.revenueText).toBe('1500.50');
  });
});
