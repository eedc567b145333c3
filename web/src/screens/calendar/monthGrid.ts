// The month view's pure logic: which days the grid shows (weeks start on Monday) and
// which events fall on each day (multi-day events from `date` to `end_date`, inclusive).
// Dates are ISO `YYYY-MM-DD` strings throughout; calendar days carry no timezone.

export interface GridDay {
  date: string;
  day: number;
  inMonth: boolean;
  /** 0 = Monday ... 6 = Sunday */
  weekday: number;
}

export interface MonthRef {
  year: number;
  /** 1..12 */
  month: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function isoDate(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

function utc(year: number, month: number, day: number): Date {
  return new Date(Date.UTC(year, month - 1, day));
}

export function parseIso(s: string): Date {
  const [y, m, d] = s.split('-').map(Number) as [number, number, number];
  return utc(y, m, d);
}

export function addDays(iso: string, n: number): string {
  const d = parseIso(iso);
  d.setUTCDate(d.getUTCDate() + n);
  return isoDate(d);
}

export function monthOf(iso: string): MonthRef {
  const [y, m] = iso.split('-').map(Number) as [number, number];
  return { year: y, month: m };
}

export function addMonths(ref: MonthRef, n: number): MonthRef {
  const i = ref.year * 12 + (ref.month - 1) + n;
  return { year: Math.floor(i / 12), month: (i % 12) + 1 };
}

/** Monday = 0 ... Sunday = 6 */
export function weekdayOf(iso: string): number {
  return (parseIso(iso).getUTCDay() + 6) % 7;
}

/** Whole weeks (Monday..Sunday) covering the month: 4 to 6 rows of 7 days. */
export function buildMonth(ref: MonthRef): GridDay[][] {
  const first = isoDate(utc(ref.year, ref.month, 1));
  const start = addDays(first, -weekdayOf(first));
  const lastDay = new Date(Date.UTC(ref.year, ref.month, 0)).getUTCDate();
  const last = isoDate(utc(ref.year, ref.month, lastDay));
  const end = addDays(last, 6 - weekdayOf(last));
  const weeks: GridDay[][] = [];
  let week: GridDay[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) {
    const { year, month } = monthOf(d);
    week.push({ date: d, day: Number(d.slice(8)), inMonth: year === ref.year && month === ref.month, weekday: week.length });
    if (week.length === 7) {
      weeks.push(week);
      week = [];
    }
  }
  return weeks;
}

/** The first and last day the grid shows (the events query range). */
export function gridRange(weeks: GridDay[][]): { from: string; to: string } {
  const first = weeks[0]?.[0];
  const lastWeek = weeks[weeks.length - 1];
  const last = lastWeek?.[lastWeek.length - 1];
  if (!first || !last) throw new Error('empty month grid');
  return { from: first.date, to: last.date };
}

export interface SpanEvent {
  date: string;
  end_date?: string | null;
}

/** Where a day sits in an event: its only day, first, a middle one or the last. */
export type Segment = 'single' | 'start' | 'middle' | 'end';

export interface Placed<E> {
  event: E;
  segment: Segment;
}

/** The last day of an event (`end_date` when it is after `date`). */
export function lastDayOf(e: SpanEvent): string {
  return e.end_date && e.end_date > e.date ? e.end_date : e.date;
}

/**
 * The events of each day from `from` to `to`, longest-running first then by start, so a
 * multi-day event keeps its place at the top of each cell it spans.
 */
export function placeEvents<E extends SpanEvent>(events: readonly E[], from: string, to: string): Map<string, Placed<E>[]> {
  const out = new Map<string, Placed<E>[]>();
  const sorted = [...events].sort((a, b) => a.date.localeCompare(b.date) || lastDayOf(b).localeCompare(lastDayOf(a)));
  for (const e of sorted) {
    const last = lastDayOf(e);
    const start = e.date > from ? e.date : from;
    const end = last < to ? last : to;
    for (let d = start; d <= end; d = addDays(d, 1)) {
      const segment: Segment = e.date === last ? 'single' : d === e.date ? 'start' : d === last ? 'end' : 'middle';
      const list = out.get(d) ?? [];
      list.push({ event: e, segment });
      out.set(d, list);
    }
  }
  return out;
}
