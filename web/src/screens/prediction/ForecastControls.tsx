import { useEffect, useRef, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { useApi } from '../../components/useApi';
import { useT } from '../../i18n';
import { prediction } from '../../i18n/messages/prediction';
import { productLabel } from '../../lib/productLabel';

type ProductView = components['schemas']['ProductView'];

export const HORIZONS = [7, 14, 30, 60, 90] as const;

const optionLabel = (p: Pick<ProductView, 'sku' | 'name' | 'variation'>) => `${p.sku} · ${productLabel(p.name, p.variation)}`;

/**
 * Searchable product select: a search field (server-side search, debounced) and a
 * select of the matches showing SKU and name. The selection is kept in the list even
 * when the search no longer matches it.
 */
export function ProductPicker(props: { value: string | null; onChange: (sku: string) => void }) {
  const t = useT(prediction);
  const [text, setText] = useState('');
  const [query, setQuery] = useState('');
  const known = useRef(new Map<string, string>());
  useEffect(() => {
    const h = setTimeout(() => setQuery(text.trim()), 250);
    return () => clearTimeout(h);
  }, [text]);
  const list = useApi(
    (signal) => call(api.GET('/api/products', { params: { query: { search: query || undefined, limit: 100 } }, signal })),
    [query],
  );
  const items = list.data?.items ?? [];
  for (const p of items) known.current.set(p.sku, optionLabel(p));
  const selectedMissing = props.value !== null && !items.some((p) => p.sku === props.value);

  return (
    <div class="product-picker">
      <label>
        {t('productHint')}
        <input type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} autocomplete="off" />
      </label>
      <label>
        {t('product')}
        <select
          value={props.value ?? ''}
          aria-busy={list.loading ? 'true' : undefined}
          onChange={(e) => e.currentTarget.value && props.onChange(e.currentTarget.value)}
        >
          {props.value === null && (
            <option value="" disabled>
              {items.length === 0 && !list.loading ? t('noMatch') : t('choose')}
            </option>
          )}
          {selectedMissing && props.value && (
            <option value={props.value}>{known.current.get(props.value) ?? props.value}</option>
          )}
          {items.map((p) => (
            <option key={p.sku} value={p.sku}>
              {optionLabel(p)}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

/** 7 / 14 / 30 / 60 / 90 days, or any number of days 1–365 ("Other"). */
export function HorizonPicker(props: { value: number; onChange: (days: number) => void }) {
  const t = useT(prediction);
  const preset = (HORIZONS as readonly number[]).includes(props.value);
  const [custom, setCustom] = useState(!preset);
  const [text, setText] = useState(String(props.value));
  const n = Number(text);
  const valid = Number.isInteger(n) && n >= 1 && n <= 365;
  return (
    <div class="horizon-picker">
      <label>
        {t('horizon')}
        <select
          value={custom ? 'custom' : String(props.value)}
          onChange={(e) => {
            const v = e.currentTarget.value;
            if (v === 'custom') {
              setCustom(true);
              return;
            }
            setCustom(false);
            setText(v);
            props.onChange(Number(v));
          }}
        >
          {HORIZONS.map((d) => (
            <option key={d} value={String(d)}>
              {t('days', { n: d })}
            </option>
          ))}
          <option value="custom">{t('custom')}</option>
        </select>
      </label>
      {custom && (
        <label>
          {t('customDays')}
          <input
            type="number"
            inputMode="numeric"
            min={1}
            max={365}
            step={1}
            required
            value={text}
            aria-invalid={text !== '' && !valid ? 'true' : undefined}
            onInput={(e) => {
              const v = e.currentTarget.value;
              setText(v);
              const k = Number(v);
              if (Number.isInteger(k) && k >= 1 && k <= 365) props.onChange(k);
            }}
          />
        </label>
      )}
    </div>
  );
}
