import './transactions.css';
import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import { useSession } from '../../app/session';
import { useFormat } from '../../app/store';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState, useErrorMessage } from '../../components/ErrorState';
import { LoadingState } from '../../components/LoadingState';
import { Money } from '../../components/Money';
import { PageHeader } from '../../components/PageHeader';
import { useToast } from '../../components/Toast';
import { useApi } from '../../components/useApi';
import { useT } from '../../i18n';
import { nav } from '../../i18n/messages/nav';
import { transactions } from '../../i18n/messages/transactions';
import {
  csvFilename,
  PAGE_SIZE,
  pageFromQuery,
  presetOf,
  presetRange,
  rangeFromQuery,
  toQuery,
  validDay,
  type Preset,
  type Range,
} from './range';
import TransactionDetail from './TransactionDetail';

/**
 * Sales history: a date range (kept in the URL), a paginated table, CSV export (admins:
 * the API refuses it to cashiers). `?id=N` opens a sale's detail; Back returns here.
 */
export default function TransactionsScreen() {
  const { query, route } = useLocation();
  const f = useFormat();
  const today = f.today();
  const range = rangeFromQuery(query, today);
  const page = pageFromQuery(query);
  const id = Number(query['id']);

  const listUrl = (r: Range, p: number) => `/transactions${toQuery({ from: r.from, to: r.to, page: p > 1 ? p : undefined })}`;
  if (Number.isInteger(id) && id > 0) {
    return <TransactionDetail id={id} backHref={listUrl(range, page)} />;
  }
  return (
    <TransactionList
      range={range}
      page={page}
      today={today}
      go={(r, p) => route(listUrl(r, p), true)}
      detailHref={(txId) => `/transactions${toQuery({ from: range.from, to: range.to, page: page > 1 ? page : undefined, id: txId })}`}
    />
  );
}

function TransactionList(props: {
  range: Range;
  page: number;
  today: string;
  go: (r: Range, page: number) => void;
  detailHref: (id: number) => string;
}) {
  const t = useT(transactions);
  const tn = useT(nav);
  const f = useFormat();
  const { isAdmin } = useSession();
  const { range, page } = props;
  const offset = (page - 1) * PAGE_SIZE;
  const list = useApi(
    (signal) =>
      call(api.GET('/api/transactions', { params: { query: { from: range.from, to: range.to, limit: PAGE_SIZE, offset } }, signal })),
    [range.from, range.to, offset],
  );
  const data = list.data;
  const active = presetOf(range, props.today);

  return (
    <>
      <PageHeader
        title={tn('transactions')}
        lead={isAdmin ? t('leadAdmin') : t('leadCashier')}
        actions={isAdmin ? <ExportButton range={range} /> : undefined}
      />
      <RangeBar range={range} active={active} today={props.today} onChange={(r) => props.go(r, 1)} />

      {list.error && !data ? (
        <ErrorState error={list.error} onRetry={list.reload} />
      ) : !data ? (
        <LoadingState />
      ) : data.items.length === 0 ? (
        <div class="card">
          <EmptyState title={t('empty')} />
        </div>
      ) : (
        <div class="card flush" aria-busy={list.loading ? 'true' : undefined}>
          <div class="table-wrap">
            <table class="data-table">
              <caption class="visually-hidden">
                {t('tableCaption', { from: f.date(range.from), to: f.date(range.to) })}
              </caption>
              <thead>
                <tr>
                  <th scope="col">{t('time')}</th>
                  <th scope="col">{t('number')}</th>
                  <th scope="col">{t('cashier')}</th>
                  <th scope="col" class="num">
                    {t('items')}
                  </th>
                  <th scope="col" class="num">
                    {t('total')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((s) => (
                  <tr key={s.transaction_id}>
                    <td class="nowrap">{f.dateTime(s.created_at)}</td>
                    <td>
                      <a href={props.detailHref(s.transaction_id)} aria-label={t('open', { id: s.transaction_id })}>
                        #{s.transaction_id}
                      </a>
                    </td>
                    <td>{s.cashier ?? t('noCashier')}</td>
                    <td class="num">{f.number(s.items.length)}</td>
                    <td class="num">
                      <Money value={s.total} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="pagination" aria-label={t('pagination')}>
            <span class="muted">
              {t('showing', {
                first: f.number(offset + 1),
                last: f.number(offset + data.items.length),
                total: f.number(data.total),
              })}
            </span>
            <div class="pagination-buttons">
              <button type="button" class="secondary outline" disabled={page <= 1} onClick={() => props.go(range, page - 1)}>
                {t('previous')}
              </button>
              <button
                type="button"
                class="secondary outline"
                disabled={offset + data.items.length >= data.total}
                onClick={() => props.go(range, page + 1)}
              >
                {t('next')}
              </button>
            </div>
          </nav>
        </div>
      )}
    </>
  );
}

/** Presets (today / 7 / 30 days) and from–to dates; a change applies at once. */
function RangeBar(props: { range: Range; active: Preset | null; today: string; onChange: (r: Range) => void }) {
  const t = useT(transactions);
  const [from, setFrom] = useState(props.range.from);
  const [to, setTo] = useState(props.range.to);
  const [lastRange, setLastRange] = useState(props.range);
  if (lastRange.from !== props.range.from || lastRange.to !== props.range.to) {
    // The URL changed (a preset, Back): show its dates.
    setLastRange(props.range);
    setFrom(props.range.from);
    setTo(props.range.to);
  }
  const invalid = validDay(from) && validDay(to) && from > to;
  const apply = (f: string, tt: string) => {
    if (validDay(f) && validDay(tt) && f <= tt) props.onChange({ from: f, to: tt });
  };
  const presets = [
    ['today', t('today')],
    ['7d', t('days7')],
    ['30d', t('days30')],
  ] as const;
  return (
    <div class="tx-range">
      <div role="group" aria-label={t('range')} class="segmented">
        {presets.map(([p, label]) => (
          <button
            key={p}
            type="button"
            class={props.active === p ? '' : 'secondary outline'}
            aria-pressed={props.active === p}
            onClick={() => props.onChange(presetRange(p, props.today))}
          >
            {label}
          </button>
        ))}
      </div>
      <div class="custom-range">
        <label>
          {t('from')}
          <input
            type="date"
            value={from}
            max={to || undefined}
            onInput={(e) => {
              setFrom(e.currentTarget.value);
              apply(e.currentTarget.value, to);
            }}
          />
        </label>
        <label>
          {t('to')}
          <input
            type="date"
            value={to}
            min={from || undefined}
            aria-invalid={invalid ? 'true' : undefined}
            onInput={(e) => {
              setTo(e.currentTarget.value);
              apply(from, e.currentTarget.value);
            }}
          />
        </label>
      </div>
      {invalid && (
        <p class="form-error" role="alert">
          {t('invalidRange')}
        </p>
      )}
    </div>
  );
}

/** Downloads the range's CSV through the API client (bearer token), as a named file. */
function ExportButton(props: { range: Range }) {
  const t = useT(transactions);
  const toast = useToast();
  const message = useErrorMessage();
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    try {
      const blob = await call(
        api.GET('/api/transactions/export.csv', {
          params: { query: { from: props.range.from, to: props.range.to } },
          parseAs: 'blob',
        }),
      );
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = csvFilename(props.range);
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      toast.show(t('exported'), 'success');
    } catch (e) {
      toast.show(message(e), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" class="secondary" disabled={busy} aria-busy={busy ? 'true' : undefined} onClick={() => void run()}>
      {busy ? t('exporting') : t('export')}
    </button>
  );
}
