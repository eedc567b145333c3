import { useMemo, useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { useFormat } from '../../app/store';
import { Chart } from '../../components/Chart';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState } from '../../components/ErrorState';
import { LoadingState } from '../../components/LoadingState';
import { Money } from '../../components/Money';
import { PageHeader } from '../../components/PageHeader';
import { useApi } from '../../components/useApi';
import { useT } from '../../i18n';
import { dashboard } from '../../i18n/messages/dashboard';
import { nav } from '../../i18n/messages/nav';
import type { ChartOption } from '../../components/Chart';
import { RangePicker, type DashboardRange } from './RangePicker';

type Stats = components['schemas']['DashboardStats'];

function rangeQuery(r: DashboardRange) {
  return r.kind === 'custom' ? { range: r.kind, from: r.from, to: r.to } : { range: r.kind };
}

export default function DashboardScreen() {
  const t = useT(dashboard);
  const tn = useT(nav);
  const [range, setRange] = useState<DashboardRange>({ kind: '7d' });
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
  const change = s.change as Stats['change'] | undefined; // older servers do not send it
  return (
    <div class="dash">
      <section class="kpis" aria-label={t('range')}>
        <Kpi label={t('revenue')} value={f.money(s.revenue)} change={change?.revenue_pct} />
        <Kpi label={t('transactions')} value={f.number(s.transactions)} change={change?.transactions_pct} />
        <Kpi label={t('units')} value={f.number(s.units_sold)} change={change?.units_sold_pct} />
      </section>

      <section class="card trend" aria-labelledby="trend-h">
        <h2 id="trend-h">{t('trend')}</h2>
        {s.transactions === 0 ? <EmptyState title={t('noSales')} /> : <TrendChart stats={s} />}
      </section>

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
                    {p.variation ? `${p.name} · ${p.variation}` : p.name}
                    <small class="muted">{p.sku}</small>
                  </span>
                  <span class={p.stock === 0 ? 'stock-badge critical' : 'stock-badge low'}>
                    {t('inStock', { n: f.number(p.stock) })}
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

function Kpi(props: { label: string; value: string; change: number | null | undefined }) {
  const t = useT(dashboard);
  const f = useFormat();
  const c = props.change;
  return (
    <article class="card kpi">
      <h2 class="kpi-label">{props.label}</h2>
      <p class="kpi-value">{props.value}</p>
      {c !== undefined && c !== null && (
        <p class={`kpi-change ${c > 0 ? 'up' : c < 0 ? 'down' : ''}`}>
          <span aria-hidden="true">{c > 0 ? '▲ ' : c < 0 ? '▼ ' : ''}</span>
          {f.percentChange(c)} <span class="muted">{t('vsPrevious')}</span>
        </p>
      )}
    </article>
  );
}

function TrendChart(props: { stats: Stats }) {
  const t = useT(dashboard);
  const f = useFormat();
  const points = props.stats.sales_trend;
  const option = useMemo<ChartOption>(
    () => ({
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: {
        trigger: 'axis',
        valueFormatter: (v) => (typeof v === 'number' || typeof v === 'string' ? f.money(v) : ''),
      },
      xAxis: {
        type: 'category',
        boundaryGap: false,
        data: points.map((p) => f.date(p.date, 'short')),
        axisTick: { show: false },
      },
      yAxis: {
        type: 'value',
        axisLabel: { formatter: (v: number) => f.moneyCompact(v) },
        splitLine: { lineStyle: { type: 'dashed' } },
      },
      series: [
        {
          name: t('trendRevenue'),
          type: 'line',
          smooth: true,
          showSymbol: points.length <= 31,
          areaStyle: { opacity: 0.12 },
          // Chart coordinates only (display); no arithmetic is done on money.
          data: points.map((p) => Number(p.revenue)),
        },
      ],
    }),
    [points, f, t],
  );
  return <Chart option={option} label={t('trend')} height={280} />;
}
