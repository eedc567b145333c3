import type { components } from '../../api/schema';
import { dayToDate } from '../../components/chartDays';

type DayPoint = components['schemas']['DayPoint'];

export interface TrendPoint {
  date: Date;
  day: string;
  /** Chart coordinate only (a float): never summed or shown; `revenueText` is shown. */
  revenue: number;
  revenueText: string;
  transactions: number;
  units: number;
}

/** The API's daily sales as chart points, in date order. */
export function trendPoints(points: readonly DayPoint[]): TrendPoint[] {
  return points
    .map((p) => ({
      date: dayToDate(p.date),
      day: p.date.slice(0, 10),
      revenue: Number(p.revenue),
      revenueText: p.revenue,
      transactions: p.transactions,
      units: p.units,
    }))
    .sort((a, b) => a.date.getTime() - b.date.getTime());
}
