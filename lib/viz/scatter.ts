// Scatter plot: points of one or several series, optionally labelled.
// Reference: plotly.js scatter trace with mode "markers", https://plotly.com/javascript/line-and-scatter/

import { AxisOptions, Figure, PlotlyTrace, axis, baseLayout, withTitle } from "./figure";
import { alignColumns, compact } from "./format";
import { FigureInputError, figureSize, labels, nonEmpty, numbers, sameLength } from "./validate";

/** One set of points. */
export interface ScatterSeries {
  /** Legend and summary name (default: "series <i>"). */
  name?: string;
  /** x of each point. */
  x: number[];
  /** y of each point. */
  y: number[];
  /** Text written next to each point (same length as `x`). */
  labels?: string[];
}

/** Options of `scatter`. */
export interface ScatterOptions extends AxisOptions {
  /** Logarithmic x axis; every x must then be > 0 (default: false). */
  logX?: boolean;
  /** Logarithmic y axis; every y must then be > 0 (default: false). */
  logY?: boolean;
  /** Marker diameter in pixels (default: 9). */
  markerSize?: number;
}

/** Most labelled points the summary lists one by one (per series). */
export const SUMMARY_POINT_LIMIT = 12;

/** A scatter plot of one or several point sets. */
export function scatter(series: ScatterSeries | ScatterSeries[], opts: ScatterOptions = {}): Figure {
  const B = "scatter";
  figureSize(B, opts);
  if (opts.markerSize !== undefined && !(Number.isFinite(opts.markerSize) && opts.markerSize > 0)) {
    throw new FigureInputError(B, "options.markerSize", `must be a positive number, got ${opts.markerSize}`);
  }
  const list = nonEmpty<ScatterSeries>(B, "series", Array.isArray(series) ? series : [series]).map((s, i) => {
    const at = `series[${i}]`;
    if (s?.name !== undefined && typeof s.name !== "string")
      throw new FigureInputError(B, `${at}.name`, "must be a string");
    const x = numbers(B, `${at}.x`, s?.x, { positive: opts.logX });
    const y = numbers(B, `${at}.y`, s.y, { positive: opts.logY });
    sameLength(B, `${at}.y`, y.length, `${at}.x`, x.length);
    const text = s.labels === undefined ? undefined : labels(B, `${at}.labels`, s.labels);
    if (text) sameLength(B, `${at}.labels`, text.length, `${at}.x`, x.length);
    return { name: s.name ?? `series ${i}`, x, y, text };
  });

  const data: PlotlyTrace[] = list.map((s) => ({
    type: "scatter",
    mode: s.text ? "markers+text" : "markers",
    name: s.name,
    x: s.x,
    y: s.y,
    marker: { size: opts.markerSize ?? 9 },
    ...(s.text ? { text: s.text, textposition: "top center" } : {}),
  }));
  const layout = baseLayout(opts);
  layout.xaxis = axis(opts.xTitle, opts.logX ? { type: "log" } : {});
  layout.yaxis = axis(opts.yTitle, opts.logY ? { type: "log" } : {});
  layout.showlegend = list.length > 1;

  const range = (v: number[]) => `${compact(Math.min(...v))} … ${compact(Math.max(...v))}`;
  const body: string[] = [];
  for (const s of list) {
    body.push(`${s.name}: ${s.x.length} points, x ${range(s.x)}, y ${range(s.y)}`);
    if (s.text && s.x.length <= SUMMARY_POINT_LIMIT) {
      const rows = s.text.map((t, i) => [`  ${t}`, `(${compact(s.x[i])},`, `${compact(s.y[i])})`]);
      body.push(...alignColumns(rows, ["l", "r", "r"]));
    }
  }
  return { data, layout, summary: withTitle(opts.title, body) };
}
