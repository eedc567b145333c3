import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChartOption } from '../lib/echarts';

export type { ChartOption };

type ChartInstance = ReturnType<typeof import('../lib/echarts').init>;

/** Series colours and text colours come from tokens.css (--sp-chart-*, --pico-*). */
function themeFromCss(el: Element) {
  const css = getComputedStyle(el);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return {
    color: [1, 2, 3, 4, 5].map((i) => v(`--sp-chart-${i}`)).filter(Boolean),
    textStyle: { color: v('--pico-muted-color') || '#555', fontFamily: v('--pico-font-family') || 'sans-serif' },
  };
}

/**
 * An ECharts chart (SVG) that fills its box and follows its size. Give it a `label`
 * for screen readers (describe what it shows; put the numbers in a table or list too).
 * `option` is applied with notMerge, so pass the complete option each time (memoise it).
 * ECharts itself is a separate chunk, fetched when the first chart mounts, so the rest
 * of a screen renders without waiting for it.
 */
export function Chart(props: { option: ChartOption; label: string; height?: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const [chart, setChart] = useState<ChartInstance | null>(null);

  useEffect(() => {
    let disposed = false;
    let instance: ChartInstance | null = null;
    let ro: ResizeObserver | null = null;
    void import('../lib/echarts').then(({ init }) => {
      const el = ref.current;
      if (disposed || !el) return;
      instance = init(el, null, { renderer: 'svg' });
      ro = new ResizeObserver(() => instance?.resize());
      ro.observe(el);
      setChart(instance);
    });
    return () => {
      disposed = true;
      ro?.disconnect();
      instance?.dispose();
    };
  }, []);

  useEffect(() => {
    const el = ref.current;
    if (!chart || !el) return;
    chart.setOption({ ...themeFromCss(el), ...props.option }, { notMerge: true });
  }, [chart, props.option]);

  return (
    <div
      ref={ref}
      class="chart"
      role="img"
      aria-label={props.label}
      aria-busy={chart ? undefined : 'true'}
      style={{ height: `${props.height ?? 280}px` }}
    />
  );
}
