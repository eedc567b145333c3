import { useState } from 'preact/hooks';
import { useFormat } from '../../app/store';
import { useT } from '../../i18n';
import { dashboard } from '../../i18n/messages/dashboard';

export type DashboardRange = { kind: 'today' | '7d' | '30d' } | { kind: 'custom'; from: string; to: string };

/** Today / 7 days / 30 days as a segmented control, plus a custom from–to range. */
export function RangePicker(props: { value: DashboardRange; onChange: (r: DashboardRange) => void }) {
  const t = useT(dashboard);
  const f = useFormat();
  const [custom, setCustom] = useState(props.value.kind === 'custom');
  const [from, setFrom] = useState(props.value.kind === 'custom' ? props.value.from : '');
  const [to, setTo] = useState(props.value.kind === 'custom' ? props.value.to : f.today());
  const invalid = from !== '' && to !== '' && from > to;

  const presets = [
    ['today', t('today')],
    ['7d', t('days7')],
    ['30d', t('days30')],
  ] as const;

  return (
    <div class="range-picker">
      <div role="group" aria-label={t('range')} class="segmented">
        {presets.map(([kind, label]) => (
          <button
            key={kind}
            type="button"
            class={!custom && props.value.kind === kind ? '' : 'secondary outline'}
            aria-pressed={!custom && props.value.kind === kind}
            onClick={() => {
              setCustom(false);
              props.onChange({ kind });
            }}
          >
            {label}
          </button>
        ))}
        <button
          type="button"
          class={custom ? '' : 'secondary outline'}
          aria-pressed={custom}
          onClick={() => setCustom(true)}
        >
          {t('custom')}
        </button>
      </div>
      {custom && (
        <form
          class="custom-range"
          onSubmit={(e) => {
            e.preventDefault();
            if (from && to && !invalid) props.onChange({ kind: 'custom', from, to });
          }}
        >
          <label>
            {t('from')}
            <input type="date" required value={from} max={to || undefined} onInput={(e) => setFrom(e.currentTarget.value)} />
          </label>
          <label>
            {t('to')}
            <input type="date" required value={to} min={from || undefined} onInput={(e) => setTo(e.currentTarget.value)} aria-invalid={invalid ? 'true' : undefined} />
          </label>
          <button type="submit" disabled={invalid || !from || !to}>
            {t('apply')}
          </button>
          {invalid && <p class="form-error" role="alert">{t('invalidRange')}</p>}
        </form>
      )}
    </div>
  );
}
