// Plots: plotly figure builders with text summaries, and show() for notebooks and terminals.
// Reference: DESIGN.md §1 (viz) and §2 (plots: plotly.js, PNG via puppeteer-core + Debian chromium).

export { DEFAULT_STYLE } from "./figure";
export type { AxisOptions, Figure, FigureOptions, FigureStyle, Layout, PlotlyAxis, PlotlyTrace } from "./figure";
export { FigureInputError } from "./validate";
export { compact } from "./format";
export { line } from "./line";
export type { LineOptions, LineSeries } from "./line";
export { bar, groupedBar } from "./bar";
export type { BarGroup, BarOptions, GroupedBarOptions } from "./bar";
export { heatmap } from "./heatmap";
export type { HeatmapOptions } from "./heatmap";
export { radar } from "./radar";
export type { RadarOptions, RadarSeries } from "./radar";
export { pie } from "./pie";
export type { PieOptions } from "./pie";
export { scatter } from "./scatter";
export type { ScatterOptions, ScatterSeries } from "./scatter";
export { table } from "./table";
export type { TableCell, TableOptions } from "./table";
export { show, PLOTLY_MIME } from "./show";
export {
  closeRenderer,
  configureRenderer,
  findChromium,
  renderPng,
  renderPngBase64,
  DEFAULT_RENDERER_CONFIG,
} from "./renderer";
export type { RendererConfig } from "./renderer";
export { plotlySource } from "./plotlyjs";
