import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { useFormat, useStore } from '../../app/store';
import { ErrorState } from '../../components/ErrorState';
import { FormError } from '../../components/FormError';
import { LoadingState } from '../../components/LoadingState';
import { PageHeader } from '../../components/PageHeader';
import { useToast } from '../../components/Toast';
import { useApi } from '../../components/useApi';
import { useT } from '../../i18n';
import { nav } from '../../i18n/messages/nav';
import { settings as m } from '../../i18n/messages/settings';

type Settings = components['schemas']['StoreSettings'];
type Field = 'store_name' | 'address' | 'phone' | 'email' | 'timezone' | 'currency' | 'low_stock_threshold';
type Values = Record<Field, string>;

/** Common currencies first; any other ISO code can be typed (the server validates it). */
const CURRENCIES = ['IDR', 'USD', 'EUR', 'SGD', 'MYR', 'THB', 'PHP', 'VND', 'AUD', 'JPY', 'CNY', 'GBP'];

function timezones(current: string): string[] {
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return all.includes(current) ? all : [current, ...all];
}

function toValues(s: Settings): Values {
  return {
    store_name: s.store_name,
    address: s.address,
    phone: s.phone,
    email: s.email,
    timezone: s.timezone,
    currency: s.currency,
    low_stock_threshold: String(s.low_stock_threshold),
  };
}

export default function SettingsScreen() {
  const t = useT(m);
  const tn = useT(nav);
  const settings = useApi((signal) => call(api.GET('/api/settings', { signal })), []);
  return (
    <>
      <PageHeader title={tn('settings')} lead={t('lead')} />
      {settings.error ? (
        <ErrorState error={settings.error} onRetry={settings.reload} />
      ) : !settings.data ? (
        <LoadingState />
      ) : (
        <div class="settings-layout">
          <SettingsForm initial={settings.data} />
          <SystemInfo />
        </div>
      )}
    </>
  );
}

function SettingsForm(props: { initial: Settings }) {
  const t = useT(m);
  const f = useFormat();
  const store = useStore();
  const toast = useToast();
  const [saved, setSaved] = useState<Settings>(props.initial);
  const [v, setV] = useState<Values>(toValues(props.initial));
  const [errs, setErrs] = useState<Partial<Record<Field, string>>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const zones = useMemo(() => timezones(saved.timezone), [saved.timezone]);
  useEffect(() => setV(toValues(saved)), [saved]);

  const set = (k: Field) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });

  async function submit(e: Event) {
    e.preventDefault();
    if (busy) return;
    const er: Partial<Record<Field, string>> = {};
    if (!v.store_name.trim()) er.store_name = t('required');
    if (v.email.trim() && !/^[^@\s]+@[^@\s.][^@\s]*\.[^@\s]*[^@\s.]$/.test(v.email.trim())) er.email = t('emailInvalid');
    if (!/^[A-Za-z]{3}$/.test(v.currency.trim())) er.currency = t('currencyInvalid');
    const th = v.low_stock_threshold.trim();
    if (!/^\d{1,7}$/.test(th) || Number(th) > 1_000_000) er.low_stock_threshold = t('thresholdInvalid');
    setErrs(er);
    if (Object.keys(er).length) return;
    setBusy(true);
    setError(null);
    try {
      const next = await call(
        api.PUT('/api/settings', {
          body: {
            store_name: v.store_name.trim(),
            address: v.address.trim(),
            phone: v.phone.trim(),
            email: v.email.trim(),
            timezone: v.timezone as NonNullable<components['schemas']['SettingsUpdate']['timezone']>,
            currency: v.currency.trim().toUpperCase(),
            low_stock_threshold: Number(th),
          },
        }),
      );
      setSaved(next);
      store.reload();
      toast.show(t('saved'), 'success');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const help = (k: Field, hint?: string) => (
    <small id={`st-${k}-help`} class={errs[k] ? 'field-error' : undefined}>
      {errs[k] ?? hint ?? ''}
    </small>
  );
  const inv = (k: Field) => ({ 'aria-invalid': errs[k] ? ('true' as const) : undefined, 'aria-describedby': `st-${k}-help` });

  return (
    <form class="stack" onSubmit={submit} noValidate>
      <section class="card" aria-labelledby="profile-h">
        <h2 id="profile-h">{t('profile')}</h2>
        <div class="form-grid">
          <label class="form-grid-full">
            {t('storeName')}
            <input name="store_name" value={v.store_name} required onInput={set('store_name')} {...inv('store_name')} />
            {help('store_name')}
          </label>
          <label class="form-grid-full">
            {t('address')}
            <textarea name="address" rows={2} value={v.address} onInput={set('address')} {...inv('address')} />
            {help('address')}
          </label>
          <label>
            {t('phone')}
            <input name="phone" type="tel" value={v.phone} onInput={set('phone')} {...inv('phone')} />
            {help('phone')}
          </label>
          <label>
            {t('email')}
            <input name="email" type="email" value={v.email} onInput={set('email')} {...inv('email')} />
            {help('email')}
          </label>
        </div>
      </section>
      <section class="card" aria-labelledby="regional-h">
        <h2 id="regional-h">{t('regional')}</h2>
        <div class="form-grid">
          <label class="form-grid-full">
            {t('timezone')}
            <select name="timezone" value={v.timezone} onChange={set('timezone')} {...inv('timezone')}>
              {zones.map((z) => (
                <option key={z} value={z}>
                  {z.replace(/_/g, ' ')}
                </option>
              ))}
            </select>
            {help('timezone', t('timezoneHint'))}
          </label>
          <label>
            {t('currency')}
            <input name="currency" list="st-currencies" value={v.currency} maxLength={3} autocomplete="off" onInput={set('currency')} {...inv('currency')} />
            {help('currency', t('currencyHint'))}
          </label>
          <datalist id="st-currencies">
            {CURRENCIES.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
          <label>
            {t('threshold')}
            <input name="low_stock_threshold" type="number" min={0} max={1000000} step={1} inputMode="numeric" value={v.low_stock_threshold} onInput={set('low_stock_threshold')} {...inv('low_stock_threshold')} />
            {help('low_stock_threshold', t('thresholdHint'))}
          </label>
        </div>
      </section>
      <FormError error={error} />
      <div class="form-actions">
        <span class="muted small">{t('updatedAt', { when: f.dateTime(saved.updated_at) })}</span>
        <button type="submit" disabled={busy} aria-busy={busy ? 'true' : undefined}>
          {t('save')}
        </button>
      </div>
    </form>
  );
}

function SystemInfo() {
  const t = useT(m);
  const f = useFormat();
  const status = useApi((signal) => call(api.GET('/api/settings/status', { signal })), []);
  const s = status.data;
  const up = (secs: number) => t('uptimeValue', { d: Math.floor(secs / 86400), h: Math.floor((secs % 86400) / 3600), m: Math.floor((secs % 3600) / 60) });
  return (
    <section class="card system-info" aria-labelledby="system-h">
      <h2 id="system-h">{t('system')}</h2>
      {status.error ? (
        <ErrorState error={status.error} onRetry={status.reload} />
      ) : !s ? (
        <LoadingState />
      ) : (
        <dl>
          <dt>{t('version')}</dt>
          <dd>{s.version}</dd>
          <dt>{t('database')}</dt>
          <dd>{s.database}</dd>
          <dt>{t('today')}</dt>
          <dd>{f.date(s.today)}</dd>
          <dt>{t('products')}</dt>
          <dd>{f.number(s.products)}</dd>
          <dt>{t('transactions')}</dt>
          <dd>{f.number(s.transactions)}</dd>
          <dt>{t('users')}</dt>
          <dd>{f.number(s.users)}</dd>
          <dt>{t('events')}</dt>
          <dd>{f.number(s.events)}</dd>
          <dt>{t('uptime')}</dt>
          <dd>{up(s.uptime_seconds)}</dd>
        </dl>
      )}
    </section>
  );
}
