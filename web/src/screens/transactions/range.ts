// Date ranges of the transactions history (store-timezone days, YYYY-MM-DD) and the URL
// query that keeps them. Calendar arithmetic only; no business figures.

export type Preset = 'today' | '7d' | '30d';
export interface Range {
  from: string;
  to: string;
}

const YMD = /^\d{4}-\d{2}-\d{2}$/;

/** `ymd` moved by `days` (negative: back), as YYYY-MM-DD. */
export function addDays(ymd: string, days: number): string {
  const [y, m, d] = ymd.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The range of a preset ending today (both days included). */
export function presetRange(preset: Preset, today: string): Range {
  const back = preset === 'today' ? 0 : preset === '7d' ? 6 : 29;
  return { from: addDays(today, -back), to: today };
}

/** Which preset a range is, if any. */
export function presetOf(r: Range, today: string): Preset | null {
  for (const p of ['today', '7d', '30d'] as const) {
    const pr = presetRange(p, today);
    if (pr.from === r.from && pr.to === r.to) return p;
  }
  return null;
}

export function validDay(v: string | undefined): v is string {
  if (!v || !YMD.test(v)) return false;
  return addDays(v, 0) === v; // rejects 2025-02-30
}

/** The range in the URL query, or the last 7 days. */
export function rangeFromQuery(q: Record<string, string | undefined>, today: string): Range {
  const from = q['from'];
  const to = q['to'];
  if (validDay(from) && validDay(to) && from <= to) return { from, to };
  return presetRange('7d', today);
}

export const PAGE_SIZE = 25;

export function pageFromQuery(q: Record<string, string | undefined>): number {
  const n = Number(q['page']);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** "transactions_2025-01-01_2025-01-31.csv" */
export function csvFilename(r: Range): string {
  return r.from === r.to ? `transactions_${r.from}.csv` : `transactions_${r.from}_${r.to}.csv`;
}

/** A query string from the non-empty values. */
export function toQuery(values: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}
