// Tiny typed i18n: every screen area has `messages/<area>.ts` built with
// `defineMessages`, whose `en` block must have exactly the keys of the `id` block
// (Bahasa Indonesia is the reference language). `{name}` placeholders are filled by `t`.

export const LOCALES = ['id', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

export type Messages<K extends string> = { readonly id: Record<K, string>; readonly en: Record<K, string> };

/** Declare an area's strings. A key missing or extra in `en` is a type error. */
export function defineMessages<K extends string>(m: {
  id: Record<K, string>;
  en: Record<NoInfer<K>, string>;
}): Messages<K> {
  return m;
}

export type Vars = Record<string, string | number>;

export function interpolate(template: string, vars?: Vars): string {
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = vars[name];
    return v === undefined ? whole : String(v);
  });
}

export function translate<K extends string>(
  messages: Messages<K>,
  locale: Locale,
  key: K,
  vars?: Vars,
): string {
  return interpolate(messages[locale][key], vars);
}

/** BCP 47 tag used with Intl for a UI language. */
export function intlLocale(locale: Locale): string {
  return locale === 'id' ? 'id-ID' : 'en-US';
}

const STORAGE_KEY = 'siprems.locale';

export function storedLocale(): Locale | null {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return v === 'id' || v === 'en' ? v : null;
  } catch {
    return null;
  }
}

export function storeLocale(locale: Locale): void {
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
}

/**
 * The language before the user chose one: Indonesian when the browser prefers it or
 * the store trades in rupiah, English otherwise.
 */
export function defaultLocale(languages: readonly string[], currency?: string): Locale {
  if (currency === 'IDR') return 'id';
  const first = languages.find((l) => /^(id|en)\b/i.test(l));
  if (first && /^id\b/i.test(first)) return 'id';
  if (languages.some((l) => /^(id|in)\b/i.test(l))) return 'id';
  return 'en';
}
