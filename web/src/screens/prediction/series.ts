// Pure helpers for the prediction screen: the API's chartData as chart series and
// event markers, and the accuracy sentence. No business arithmetic: values are the
// API's, only reshaped and formatted.
import type { components } from '../../api/schema';
import { dayToDate } from '../../components/chartDays';
import { intlLocale, type Locale } from '../../i18n/core';

type ChartPoint = components['schemas']['ChartPoint'];
type Accuracy = components['schemas']['Accuracy'];

export interface SeriesPoint {
  date: Date;
  day: string;
  actual: number | null;
  predicted: number | null;
  lower: number | null;
  upper: number | null;
  event: string | null;
}

/**
 * An event marker: one per run of consecutive days on which one event is on. Several
 * events on one day are separate markers (the API joins their names with ", ").
 */
export interface EventMarker {
  date: Date;
  day: string;
  lastDay: string;
  name: string;
  /** The first marker of its name in the series: the only one that gets a label. */
  labelled: boolean;
}

export interface ForecastSeries {
  /** Every day, in date order (for the tip and the screen-reader table). */
  points: SeriesPoint[];
  /** Days with an actual value (history). */
  history: SeriesPoint[];
  /** Days with a forecast and its band. */
  forecast: SeriesPoint[];
  events: EventMarker[];
  /** The first forecast day (where history ends), or null when there is no forecast. */
  forecastStart: Date | null;
}

const num = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function nextDay(day: string): string {
  const d = dayToDate(day);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** The names of one day's events (the API joins several with ", "). */
export function eventNames(event: string | null): string[] {
  if (!event) return [];
  return [...new Set(event.split(', ').map((n) => n.trim()).filter(Boolean))];
}

/**
 * One marker per event and run of consecutive days (a multi-day event that overlaps
 * another stays one marker), ordered by first day; only each name's first run is labelled.
 */
export function eventMarkers(points: readonly SeriesPoint[]): EventMarker[] {
  const open = new Map<string, EventMarker>();
  const events: EventMarker[] = [];
  for (const p of points) {
    for (const name of eventNames(p.event)) {
      const run = open.get(name);
      if (run && nextDay(run.lastDay) === p.day) {
        run.lastDay = p.day;
      } else {
        const marker = { date: p.date, day: p.day, lastDay: p.day, name, labelled: !open.has(name) };
        open.set(name, marker);
        events.push(marker);
      }
    }
  }
  return events;
}

export function toSeries(chartData: readonly ChartPoint[]): ForecastSeries {
  const points: SeriesPoint[] = chartData
    .map((p) => ({
      date: dayToDate(p.date),
      day: p.date.slice(0, 10),
      actual: num(p.actual),
      predicted: num(p.predicted),
      lower: num(p.lower),
      upper: num(p.upper),
      event: p.event?.trim() ? p.event.trim() : null,
    }))
    .sort((a, b) => a.date.getTime() - b.date.getTime());
  const history = points.filter((p) => p.actual !== null);
  const forecast = points.filter((p) => p.predicted !== null);
  const events = eventMarkers(points);
  return { points, history, forecast, events, forecastStart: forecast[0]?.date ?? null };
}

/** Units (forecasts are fractional): at most one decimal. */
export function formatUnits(value: number, locale: Locale): string {
  return new Intl.NumberFormat(intlLocale(locale), { maximumFractionDigits: 1 }).format(value);
}

export function formatPercent(value: number, locale: Locale): string {
  return `${new Intl.NumberFormat(intlLocale(locale), { maximumFractionDigits: 1 }).format(value)}%`;
}

/**
 * The holdout accuracy in plain words: "off by {wape}% of actual sales on average
 * (about {mae} units a day)", and whether it beats repeating last week (MASE < 1).
 */
export function accuracyWords(
  a: Accuracy,
  locale: Locale,
  t: (key: 'accuracySentence' | 'accuracyBetter' | 'accuracyWorse', vars?: Record<string, string>) => string,
): { sentence: string; comparison: string; beatsNaive: boolean } {
  const beatsNaive = a.mase < 1;
  return {
    sentence: t('accuracySentence', { pct: formatPercent(a.wape, locale), mae: formatUnits(a.mae, locale) }),
    comparison: t(beatsNaive ? 'accuracyBetter' : 'accuracyWorse'),
    beatsNaive,
  };
}

export interface LabelPlace {
  side: 'start' | 'end';
  /** The row (0 = nearest the plot), or null when it fits on none: left out, not overlapped. */
  row: number | null;
}

/**
 * Where event labels go so they do not overlap: right of their rule (or left of it when
 * they would run past the right edge), on the first of `maxRows` rows where they fit; a
 * label that fits on none is left out (its rule still names it in its tooltip, and the
 * chart's table lists it) rather than drawn over another.
 * `x` are the rules' pixel positions in order; label widths are estimated from their
 * length (`charPx` a character, at most `maxChars` characters: longer ones are cut).
 */
export function placeLabels(
  labels: readonly { x: number; name: string }[],
  width: number,
  opts: { charPx?: number; maxChars?: number; maxRows?: number; gap?: number } = {},
): LabelPlace[] {
  const { charPx = 7.5, maxChars = 24, maxRows = 3, gap = 8 } = opts;
  const rows: [number, number][][] = [];
  return labels.map(({ x, name }) => {
    const w = Math.min(name.length, maxChars) * charPx + 4;
    const side = x + w > width ? 'end' : 'start';
    const span: [number, number] = side === 'start' ? [x, x + w] : [x - w, x];
    let row = rows.findIndex((r) => r.every(([a, b]) => span[1] + gap <= a || span[0] >= b + gap));
    if (row < 0 && rows.length < maxRows) row = rows.length;
    if (row < 0) return { side, row: null };
    (rows[row] ??= []).push(span);
    return { side, row };
  });
}
