import './dashboard.css';
import { useCallback, useMemo, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { useFormat } from '../../app/store';
import { Chart, type ChartSpec, type ChartTable } from '../../components/Chart';
import { dateToDay } from '../../components/chartDays';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState } from '../../components/ErrorState';
import { LoadingState } from '../../components/LoadingState';
import { Money } from '../../components/Money';
import { PageHeader } from '../../components/PageHeader';
import { useApi } from '../../components/useApi';
import { useT } from '../../i18n';
import { dashboard } from '../../i18n/messages/dashboard';
import { nav } from '../../i18n/messages/nav';
import { persisted } from '../../lib/persisted';
import { RangePicker, type DashboardRange } from './RangePicker';
import { trendPoints, type TrendPoint } from './trend';
import { productLabel } from '../../lib/productLabel';

type Stats = components['schemas']['DashboardStats'];

const savedRange = persisted<DashboardRange>('dashboard.range', { kind: '7d' });

function rangeQuery(r: DashboardRange) {
  return r.kind === 'custom' ? { range: r.kind, from: r.from, to: r.to } : { range: r.kind };
}

export default function DashboardScreen() {
  const t = useT(dashboard);
  const tn = useT(nav);
  const [range, setRangeState] = useState<DashboardRange>(() => savedRange.get());
  const setRange = useCallback((r: DashboardRange) => {
    savedRange.set(r);
    setRangeState(r);
  }, []);
  const stats = useApi(
    (signal) => call(api.GET('/api/dashboard-stats', { params: { query: rangeQuery(range) }, signal })),
    [range.kind, range.kind === 'custom' ? `${range.from}|${range.to}` : ''],
  );

  return (
    <>
      <PageHeader title={tn('dashboard')} lead={t('lead')} actions={<RangePicker value={range} onChange={setRange} />} />
      {stats.error ? (
        <ErrorState error={stats.error} onRetry={stats.reload} />
      ) : !stats.data ? (
        <LoadingState />
      ) : (
        <div aria-busy={stats.loading ? 'true' : undefined}>
          <DashboardBody stats={stats.data} />
        </div>
      )}
    </>
  );
}

function DashboardBody(props: { stats: Stats }) {
  const s = props.stats;
  const t = useT(dashboard);
  const f = useFormat();
  const prev = s.previous;
  const prevRange = { from: f.date(prev.from, 'short'), to: f.date(prev.to, 'short') };
  const period = s.from === s.to ? f.date(s.from) : t('periodLabel', { from: f.date(s.from), to: f.date(s.to) });
  return (
    <div class="dash">
      <p class="dash-period muted">
        {period} · <span title={t('previousPeriod', { from: f.date(prev.from), to: f.date(prev.to) })}>{t('vsRange', prevRange)}</span>
      </p>
      <section class="kpis" aria-label={t('range')}>
        <Kpi
          label={t('revenue')}
          value={f.money(s.revenue)}
          change={s.change.revenue_pct}
          previous={t('previousValue', { from: f.date(prev.from), to: f.date(prev.to), value: f.money(prev.revenue) })}
        />
        <Kpi
          label={t('transactions')}
          value={f.number(s.transactions)}
          change={s.change.transactions_pct}
          previous={t('previousValue', { from: f.date(prev.from), to: f.date(prev.to), value: f.number(prev.transactions) })}
        />
        <Kpi
          label={t('units')}
          value={f.number(s.units_sold)}
          change={s.change.units_sold_pct}
          previous={t('previousValue', { from: f.date(prev.from), to: f.date(prev.to), value: f.number(prev.units_sold) })}
        />
      </section>

      <div class="dash-main">
        <section class="card trend" aria-labelledby="trend-h">
          <h2 id="trend-h">{t('trend')}</h2>
          {s.transactions === 0 ? <EmptyState title={t('noSales')} /> : <TrendChart stats={s} />}
        </section>
        <StockHealth health={s.stock_health} />
      </div>

      <div class="dash-lists">
        <section class="card" aria-labelledby="top-p-h">
          <h2 id="top-p-h">{t('topProducts')}</h2>
          {s.top_products.length === 0 ? (
            <EmptyState title={t('noSales')} />
          ) : (
            <ol class="rank-list">
              {s.top_products.map((p) => (
                <li key={p.sku}>
                  <span class="rank-name">
                    {p.name}
                    <small class="muted">{t('unitsSold', { n: f.number(p.units) })}</small>
                  </span>
                  <Money value={p.revenue} />
                </li>
              ))}
            </ol>
          )}
        </section>
        <section class="card" aria-labelledby="top-c-h">
          <h2 id="top-c-h">{t('topCategories')}</h2>
          {s.top_categories.length === 0 ? (
            <EmptyState title={t('noSales')} />
          ) : (
            <ol class="rank-list">
              {s.top_categories.map((c) => (
                <li key={c.category}>
                  <span class="rank-name">
                    {c.category}
                    <small class="muted">{t('unitsSold', { n: f.number(c.units) })}</small>
                  </span>
                  <Money value={c.revenue} />
                </li>
              ))}
            </ol>
          )}
        </section>
        <section class="card" aria-labelledby="low-h">
          <h2 id="low-h">{t('lowStock')}</h2>
          {s.low_stock.length === 0 ? (
            <EmptyState title={t('lowStockEmpty')} />
          ) : (
            <ul class="rank-list">
              {s.low_stock.map((p) => (
                <li key={p.sku}>
                  <span class="rank-name">
                    {productLabel(p.name, p.variation)}
                    <small class="muted">{p.sku}</small>
                  </span>
                  <span class={p.stock === 0 ? 'stock-badge critical' : 'stock-badge low'}>
                    {p.stock === 0 ? t('critical') : t('inStock', { n: f.number(p.stock) })}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}

/** A headline figure and its change against the previous period (sign, arrow and colour). */
function Kpi(props: { label: string; value: string; change: number | null | undefined; previous: string }) {
  const t = useT(dashboard);
  const f = useFormat();
  const c = props.change;
  const dir = c === null || c === undefined ? 'none' : c > 0 ? 'up' : c < 0 ? 'down' : 'same';
  return (
    <article class="card kpi">
      <h2 class="kpi-label">{props.label}</h2>
      <p class="kpi-value">{props.value}</p>
      {dir === 'none' ? (
        <p class="kpi-change" title={props.previous}>
          <span aria-hidden="true">— </span>
          <span class="muted">{t('noPrevious')}</span>
        </p>
      ) : (
        <p class={`kpi-change ${dir}`} title={props.previous}>
          <span aria-hidden="true">{dir === 'up' ? '▲ ' : dir === 'down' ? '▼ ' : '= '}</span>
          <span class="visually-hidden">{t(dir)} </span>
          <strong>{f.percentChange(c as number)}</strong> <span class="muted">{t('vsPrevious')}</span>
        </p>
      )}
      <p class="visually-hidden">{props.previous}</p>
    </article>
  );
}

/** Out of stock / low / fine counts, each a link to the products screen filtered to match. */
function StockHealth(props: { health: Stats['stock_health'] }) {
  const t = useT(dashboard);
  const f = useFormat();
  const h = props.health;
  const n = f.number(h.low_stock_threshold);
  const rows = [
    { key: 'critical', count: h.critical, hint: t('criticalHint'), href: '/products?stock_status=out' },
    { key: 'low', count: h.low, hint: t('lowHint', { n }), href: '/products?stock_status=low' },
    { key: 'fine', count: h.fine, hint: t('fineHint', { n }), href: '/products?stock_status=fine' },
  ] as const;
  return (
    <section class="card stock-health" aria-labelledby="health-h">
      <h2 id="health-h">{t('stockHealth')}</h2>
      <ul class="health-list">
        {rows.map((r) => (
          <li key={r.key}>
            {/* The name is the visible text ("2 Out of stock, stock 0"), so a voice user can
                say what they see (WCAG 2.5.3), then where the link goes, for a screen reader. */}
            <a href={r.href} class={`health-item ${r.key}`}>
              <span class="health-count">{f.number(r.count)}</span>
              <span class="health-name">
                {t(r.key)}
                <small class="muted">
                  <span class="visually-hidden">, </span>
                  {r.hint}
                </small>
              </span>
              <span class="visually-hidden">{t('viewThese')}</span>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

function TrendChart(props: { stats: Stats }) {
  const t = useT(dashboard);
  const f = useFormat();
  const points = useMemo(() => trendPoints(props.stats.sales_trend), [props.stats.sales_trend]);
  const spec = useCallback<ChartSpec>(
    (P, { width }) => {
      const tipText = (d: TrendPoint) =>
        t('trendTip', {
          date: f.date(d.day),
          revenue: f.money(d.revenueText),
          transactions: f.number(d.transactions),
          units: f.number(d.units),
        });
      return {
        marginLeft: 72,
        marginRight: 16,
        marginTop: 16,
        style: { fontSize: '12px', color: 'var(--pico-muted-color)', background: 'transparent' },
        x: {
          type: 'utc',
          label: null,
          ticks: Math.max(2, Math.floor(width / 90)),
          tickFormat: (d: Date) => f.date(dateToDay(d), 'short'),
          ...(points.length === 1 && points[0] ? { domain: [points[0].date, points[0].date] } : {}),
        },
        y: { label: null, grid: true, nice: true, zero: true, tickFormat: (v: number) => f.moneyCompact(v) },
        marks: [
          P.areaY(points, { x: 'date', y: 'revenue', fill: 'var(--sp-chart-1)', fillOpacity: 0.1, curve: 'monotone-x' }),
          P.lineY(points, { x: 'date', y: 'revenue', stroke: 'var(--sp-chart-1)', strokeWidth: 2, curve: 'monotone-x' }),
          points.length <= 45
            ? P.dot(points, { x: 'date', y: 'revenue', fill: 'var(--sp-chart-1)', r: 2.5 })
            : null,
          P.ruleY([0], { stroke: 'var(--sp-border)' }),
          P.tip(points, P.pointerX({ x: 'date', y: 'revenue', title: tipText, fontSize: 12 })),
        ],
      };
    },
    [points, f, t],
  );
  const table = useMemo<ChartTable>(
    () => ({
      columns: [t('date'), t('revenue'), t('transactions'), t('units')],
      rows: points.map((p) => [f.date(p.day), f.money(p.revenueText), f.number(p.transactions), f.number(p.units)]),
    }),
    [points, f, t],
  );
  return <Chart spec={spec} label={t('trend')} height={280} table={table} />;
}

