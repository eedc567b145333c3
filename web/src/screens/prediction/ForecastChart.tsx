import { useCallback, useMemo } from 'preact/hooks';
import { useFormat } from '../../app/store';
import { Chart, type ChartSpec, type ChartTable } from '../../components/Chart';
import { dateToDay } from '../../components/chartDays';
import { useT } from '../../i18n';
import { prediction } from '../../i18n/messages/prediction';
import { formatUnits, placeLabels, type EventMarker, type ForecastSeries, type SeriesPoint } from './series';

const MARGIN_LEFT = 44;
const MARGIN_RIGHT = 20;
const ROW_PX = 15;
const MAX_LABEL_CHARS = 24;
const MAX_LABEL_ROWS = 5;

/**
 * Actuals (history), the forecast line, the 95% band and event markers (a dashed rule at
 * each event's first day, each event labelled once with its name). Marks carry class names (chart-actual, chart-forecast,
 * chart-band, chart-event, chart-event-label) so tests can find them.
 */
export function ForecastChart(props: { series: ForecastSeries; product: string; days: number }) {
  const t = useT(prediction);
  const f = useFormat();
  const s = props.series;
  const units = useCallback((v: number) => formatUnits(v, f.locale), [f.locale]);

  const spec = useCallback<ChartSpec>(
    (P, { width }) => {
      const tipText = (d: SeriesPoint) =>
        [
          f.date(d.day),
          d.actual !== null ? t('tipActual', { v: units(d.actual) }) : null,
          d.predicted !== null ? t('tipForecast', { v: units(d.predicted) }) : null,
          d.lower !== null && d.upper !== null ? t('tipBand', { lo: units(d.lower), hi: units(d.upper) }) : null,
          d.event ? t('tipEvent', { name: d.event }) : null,
        ]
          .filter(Boolean)
          .join('\n');
      const last = s.forecast[s.forecast.length - 1];
      // Event labels: one per event (its first day in range; a recurring or multi-day
      // event's later markers are rules only), placed in the top margin without overlap.
      const first = s.points[0]?.date.getTime() ?? 0;
      const span = (s.points[s.points.length - 1]?.date.getTime() ?? first) - first || 1;
      const inner = width - MARGIN_LEFT - MARGIN_RIGHT;
      const labelled = s.events.filter((e) => e.labelled);
      const places = placeLabels(
        labelled.map((e) => ({ x: ((e.date.getTime() - first) / span) * inner, name: e.name })),
        inner,
        { maxChars: MAX_LABEL_CHARS, maxRows: MAX_LABEL_ROWS },
      );
      const rows = Math.max(1, ...places.map((p) => (p.row ?? 0) + 1));
      const labelMarks = places
        .map((p, i) => ({ side: p.side, row: p.row, event: labelled[i] }))
        .filter((p): p is { side: 'start' | 'end'; row: number; event: EventMarker } => p.event !== undefined && p.row !== null)
        .map((p) =>
          P.text([p.event], {
            x: 'date',
            text: 'name',
            frameAnchor: 'top',
            lineAnchor: 'bottom',
            textAnchor: p.side,
            lineWidth: MAX_LABEL_CHARS * 0.6,
            textOverflow: 'ellipsis',
            dx: p.side === 'start' ? 3 : -3,
            dy: -4 - p.row * ROW_PX,
            fill: 'var(--sp-chart-3)',
            fontWeight: 600,
            className: 'chart-event-label',
            title: 'name',
          }),
        );
      return {
        marginLeft: MARGIN_LEFT,
        marginRight: MARGIN_RIGHT,
        marginTop: 14 + rows * ROW_PX,
        style: { fontSize: '12px', color: 'var(--pico-muted-color)', background: 'transparent' },
        x: {
          type: 'utc',
          label: null,
          ticks: Math.max(2, Math.floor(width / 90)),
          tickFormat: (d: Date) => f.date(dateToDay(d), 'short'),
        },
        y: { label: null, grid: true, nice: true, zero: true, tickFormat: units },
        marks: [
          P.areaY(s.forecast, {
            x: 'date',
            y1: 'lower',
            y2: 'upper',
            fill: 'var(--sp-chart-1)',
            fillOpacity: 0.16,
            curve: 'monotone-x',
            className: 'chart-band',
          }),
          s.forecastStart
            ? P.ruleX([s.forecastStart], { stroke: 'var(--pico-muted-color)', strokeOpacity: 0.5, strokeDasharray: '2,3' })
            : null,
          P.lineY(s.history, {
            x: 'date',
            y: 'actual',
            stroke: 'var(--sp-chart-2)',
            strokeWidth: 1.5,
            className: 'chart-actual',
          }),
          P.lineY(s.forecast, {
            x: 'date',
            y: 'predicted',
            stroke: 'var(--sp-chart-1)',
            strokeWidth: 2.25,
            curve: 'monotone-x',
            className: 'chart-forecast',
          }),
          P.ruleX(s.events, {
            x: 'date',
            stroke: 'var(--sp-chart-3)',
            strokeWidth: 1.5,
            strokeDasharray: '4,3',
            className: 'chart-event',
            title: 'name',
          }),
          ...labelMarks,
          // Direct labels at the forecast's end (in the SVG, so the chart names its series).
          last
            ? P.text([last], {
                x: 'date',
                y: 'upper',
                text: () => t('legendForecast'),
                textAnchor: 'end',
                lineAnchor: 'bottom',
                dy: -4,
                fill: 'var(--sp-chart-1)',
                fontWeight: 600,
                className: 'chart-series-label',
              })
            : null,
          last
            ? P.text([last], {
                x: 'date',
                y: 'lower',
                text: () => t('legendBand'),
                textAnchor: 'end',
                lineAnchor: 'top',
                dy: 4,
                fill: 'var(--pico-muted-color)',
                className: 'chart-series-label',
              })
            : null,
          P.tip(
            s.points,
            P.pointerX({ x: 'date', y: (d: SeriesPoint) => d.actual ?? d.predicted ?? 0, title: tipText, fontSize: 12 }),
          ),
        ],
      };
    },
    [s, f, t, units],
  );

  const table = useMemo<ChartTable>(
    () => ({
      columns: [t('colDate'), t('colActual'), t('colForecast'), t('colLower'), t('colUpper'), t('colEvent')],
      rows: s.points.map((p) => [
        f.date(p.day),
        p.actual !== null ? units(p.actual) : '—',
        p.predicted !== null ? units(p.predicted) : '—',
        p.lower !== null ? units(p.lower) : '—',
        p.upper !== null ? units(p.upper) : '—',
        p.event ?? '',
      ]),
    }),
    [s, f, t, units],
  );

  return (
    <div class="forecast-chart">
      <ul class="chart-legend" aria-hidden="true">
        <li>
          <span class="swatch actual" />
          {t('legendActual')}
        </li>
        <li>
          <span class="swatch forecast" />
          {t('legendForecast')}
        </li>
        <li>
          <span class="swatch band" />
          {t('legendBand')}
        </li>
        {s.events.length > 0 && (
          <li>
            <span class="swatch event" />
            {t('legendEvent')}
          </li>
        )}
      </ul>
      <Chart
        spec={spec}
        label={t('chartLabel', { product: props.product, n: props.days })}
        height={320}
        table={table}
      />
    </div>
  );
}
