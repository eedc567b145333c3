import './chart.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { PlotOptions } from '../lib/plot';

/** The chart library (lib/plot.ts), handed to a spec so screens never import it eagerly. */
export type PlotLib = typeof import('../lib/plot');

/**
 * What to draw, given the library and the box's size. Return Plot options without
 * width/height (the component sets them). Memoise the spec (`useCallback`/`useMemo`):
 * a new function redraws the chart.
 */
export type ChartSpec = (lib: PlotLib, size: { width: number; height: number }) => PlotOptions;

/** The numbers behind a chart, as a table for screen readers (visually hidden). */
export interface ChartTable {
  columns: readonly string[];
  rows: readonly (readonly string[])[];
}

let loading: Promise<PlotLib> | null = null;
function loadPlot(): Promise<PlotLib> {
  loading ??= import('../lib/plot');
  return loading;
}

/**
 * An Observable Plot chart (SVG) that fills its box's width and redraws when the data
 * or the width changes. `label` is its one accessible name (the box is an image so
 * named; the SVG inside is hidden from screen readers); give `table` the numbers it
 * shows (a visually hidden table captioned with the label). Plot is a separate chunk
 * fetched when the first chart mounts, so the rest of the screen renders without waiting
 * for it. Colours: pass CSS variables (`'var(--sp-chart-1)'`).
 */
export function Chart(props: { spec: ChartSpec; label: string; height?: number; table?: ChartTable; class?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [lib, setLib] = useState<PlotLib | null>(null);
  const [width, setWidth] = useState(0);
  const [failed, setFailed] = useState(false);
  const height = props.height ?? 280;

  useEffect(() => {
    let live = true;
    loadPlot().then(
      (l) => live && setLib(l),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setWidth(Math.floor(el.clientWidth));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const el = box.current;
    if (!lib || !el || width <= 0) return;
    const figure = lib.plot({
      ...props.spec(lib, { width, height }),
      width,
      height,
    });
    // The drawing is hidden from assistive technology: the box (role img) names the chart
    // and the visually hidden table reads out its numbers. Plot labels its own groups
    // (`<g aria-label="line">`, "area", "tip", ...), which ARIA prohibits on an element
    // with no role; hiding the root also covers the tips Plot redraws on pointer moves.
    figure.setAttribute('aria-hidden', 'true');
    el.replaceChildren(figure);
    return () => figure.remove();
  }, [lib, width, height, props.spec]);

  return (
    <figure class={['chart', props.class].filter(Boolean).join(' ')}>
      <div
        ref={box}
        class="chart-box"
        role="img"
        aria-label={props.label}
        aria-busy={lib || failed ? undefined : 'true'}
        style={{ minHeight: `${height}px` }}
      />
      {props.table && (
        // The wrapper hides it: a table ignores a 1px width and would widen the page.
        <div class="visually-hidden">
          <table>
            <caption>{props.label}</caption>
            <thead>
              <tr>
                {props.table.columns.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {props.table.rows.map((r, i) => (
                <tr key={i}>
                  {r.map((c, j) => (j === 0 ? <th key={j} scope="row">{c}</th> : <td key={j}>{c}</td>))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </figure>
  );
}
