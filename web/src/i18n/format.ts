// Display formatting with Intl. Money arrives from the API as a decimal string (or
// number); it is formatted, never computed with.
import { intlLocale, type Locale } from './core';

export type Money = string | number;

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function numberFormat(key: string, make: () => Intl.NumberFormat): Intl.NumberFormat {
  let f = cache.get(key);
  if (!f) {
    f = make();
    cache.set(key, f);
  }
  return f as Intl.NumberFormat;
}

function dateFormat(key: string, make: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let f = cache.get(key);
  if (!f) {
    f = make();
    cache.set(key, f);
  }
  return f as Intl.DateTimeFormat;
}

/** Currencies whose amounts are shown without minor units when they have none. */
const WHOLE_UNIT_CURRENCIES = new Set(['IDR', 'JPY', 'KRW', 'VND']);

function hasFraction(value: Money): boolean {
  const s = String(value);
  const dot = s.indexOf('.');
  return dot >= 0 && /[1-9]/.test(s.slice(dot + 1));
}

/**
 * `formatMoney('18000.00', 'IDR', 'id')` -> `Rp 18.000`. The decimal string is handed
 * to Intl unchanged (Intl formats decimal strings exactly; no float conversion).
 */
export function formatMoney(value: Money, currency: string, locale: Locale): string {
  const whole = WHOLE_UNIT_CURRENCIES.has(currency) && !hasFraction(value);
  const f = numberFormat(`m|${locale}|${currency}|${whole}`, () =>
    new Intl.NumberFormat(intlLocale(locale), {
      style: 'currency',
      currency,
      minimumFractionDigits: whole ? 0 : 2,
      maximumFractionDigits: whole ? 0 : 2,
    }),
  );
  return f.format(value as number);
}

/** Compact money for chart axes: `Rp 1,2 jt`. */
export function formatMoneyCompact(value: Money, currency: string, locale: Locale): string {
  const f = numberFormat(`mc|${locale}|${currency}`, () =>
    new Intl.NumberFormat(intlLocale(locale), {
      style: 'currency',
      currency,
      notation: 'compact',
      maximumFractionDigits: 1,
    }),
  );
  return f.format(value as number);
}

export function formatNumber(value: number | string, locale: Locale): string {
  const f = numberFormat(`n|${locale}`, () => new Intl.NumberFormat(intlLocale(locale)));
  return f.format(value as number);
}

/** `12.5` -> `+12,5%` (a percentage value, not a ratio). */
export function formatPercentChange(value: number | string, locale: Locale): string {
  const f = numberFormat(`p|${locale}`, () =>
    new Intl.NumberFormat(intlLocale(locale), {
      maximumFractionDigits: 1,
      signDisplay: 'exceptZero',
    }),
  );
  return `${f.format(value as number)}%`;
}

/** An instant (RFC 3339) shown as date and time in the store's timezone. */
export function formatDateTime(iso: string, timeZone: string, locale: Locale): string {
  const f = dateFormat(`dt|${locale}|${timeZone}`, () =>
    new Intl.DateTimeFormat(intlLocale(locale), { dateStyle: 'medium', timeStyle: 'short', timeZone }),
  );
  return f.format(new Date(iso));
}

/** A calendar date `YYYY-MM-DD` (no timezone shift: it is already the store's day). */
export function formatDate(date: string, locale: Locale, style: 'medium' | 'short' = 'medium'): string {
  const f = dateFormat(`d|${locale}|${style}`, () =>
    style === 'short'
      ? new Intl.DateTimeFormat(intlLocale(locale), { day: 'numeric', month: 'short', timeZone: 'UTC' })
      : new Intl.DateTimeFormat(intlLocale(locale), { dateStyle: 'medium', timeZone: 'UTC' }),
  );
  return f.format(new Date(`${date.slice(0, 10)}T00:00:00Z`));
}

/** Today's date `YYYY-MM-DD` in the store's timezone. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
  return parts; // en-CA formats as YYYY-MM-DD
}
