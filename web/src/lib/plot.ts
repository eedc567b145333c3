// The one place Observable Plot is imported: only the marks the screens use (named
// imports, so the bundler drops the rest). Loaded on demand by components/Chart.tsx as
// its own chunk, so a screen's numbers render before the chart code arrives.
// Need another mark (bars, text, ...)? Export it here.
export { plot, lineY, areaY, ruleX, ruleY, dot, tip, text, pointerX, gridY } from '@observablehq/plot';
export type { PlotOptions, Markish } from '@observablehq/plot';
