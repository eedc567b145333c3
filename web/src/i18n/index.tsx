import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { defaultLocale, storeLocale, storedLocale, translate, type Locale, type Messages, type Vars } from './core';

export { defineMessages, type Locale } from './core';

interface I18n {
  locale: Locale;
  setLocale(locale: Locale): void;
}

const I18nContext = createContext<I18n>({ locale: 'id', setLocale: () => undefined });

/** `currency` (from the store settings) picks Indonesian for IDR until the user chooses. */
export function I18nProvider(props: { currency?: string | undefined; children: ComponentChildren }) {
  const [chosen, setChosen] = useState<Locale | null>(storedLocale());
  const locale = chosen ?? defaultLocale(navigator.languages ?? [navigator.language], props.currency);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const setLocale = useCallback((l: Locale) => {
    storeLocale(l);
    setChosen(l);
  }, []);
  const value = useMemo(() => ({ locale, setLocale }), [locale, setLocale]);
  return <I18nContext.Provider value={value}>{props.children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  return useContext(I18nContext);
}

/** `const t = useT(dashboard); t('revenue')` — keys are checked against the area's messages. */
export function useT<K extends string>(messages: Messages<K>): (key: K, vars?: Vars) => string {
  const { locale } = useI18n();
  return useCallback((key: K, vars?: Vars) => translate(messages, locale, key, vars), [messages, locale]);
}
