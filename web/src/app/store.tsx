// The store profile (GET /api/settings): name, currency and timezone used for all
// formatting. Loaded once signed in; `reload()` after Settings saves.
import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { api, call } from '../api/client';
import type { components } from '../api/schema';
import { useI18n } from '../i18n';
import {
  formatDate,
  formatDateTime,
  formatMoney,
  formatMoneyCompact,
  formatNumber,
  formatPercentChange,
  todayIn,
  type Money,
} from '../i18n/format';

export type StoreSettings = components['schemas']['StoreSettings'];

export interface StoreInfo {
  name: string;
  currency: string;
  timezone: string;
  settings: StoreSettings | null;
  reload(): void;
}

const FALLBACK: StoreInfo = {
  name: 'SIPREMS',
  currency: 'IDR',
  timezone: 'Asia/Jakarta',
  settings: null,
  reload: () => undefined,
};

const StoreContext = createContext<StoreInfo>(FALLBACK);

export function StoreProvider(props: { enabled: boolean; children: (store: StoreInfo) => ComponentChildren }) {
  const [settings, setSettings] = useState<StoreSettings | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!props.enabled) return;
    let live = true;
    call(api.GET('/api/settings'))
      .then((s) => live && setSettings(s))
      .catch(() => undefined); // formatting falls back to IDR / Asia/Jakarta
    return () => {
      live = false;
    };
  }, [props.enabled, version]);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  const value = useMemo<StoreInfo>(
    () =>
      settings
        ? {
            name: settings.store_name,
            currency: settings.currency,
            timezone: settings.timezone,
            settings,
            reload,
          }
        : { ...FALLBACK, reload },
    [settings, reload],
  );
  return <StoreContext.Provider value={value}>{props.children(value)}</StoreContext.Provider>;
}

export function useStore(): StoreInfo {
  return useContext(StoreContext);
}

/** Formatters bound to the UI language and the store's currency and timezone. */
export function useFormat() {
  const { locale } = useI18n();
  const { currency, timezone } = useStore();
  return useMemo(
    () => ({
      locale,
      currency,
      timezone,
      money: (v: Money) => formatMoney(v, currency, locale),
      moneyCompact: (v: Money) => formatMoneyCompact(v, currency, locale),
      number: (v: number | string) => formatNumber(v, locale),
      percentChange: (v: number | string) => formatPercentChange(v, locale),
      dateTime: (iso: string) => formatDateTime(iso, timezone, locale),
      date: (d: string, style: 'medium' | 'short' = 'medium') => formatDate(d, locale, style),
      today: () => todayIn(timezone),
    }),
    [locale, currency, timezone],
  );
}
