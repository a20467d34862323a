// Line chart: several named series over a shared or per-series x, optional log y.
// Reference: plotly.js scatter trace with mode "lines", https://plotly.com/javascript/line-charts/

import { AxisOptions, Figure, PlotlyTrace, axis, baseLayout, withTitle } from "./figure";
import { compact, extremes } from "./format";
import { FigureInputError, figureSize, nonEmpty, numbers, sameLength } from "./validate";

/** One line: `y` values, NaN marking gaps; `x` defaults to the options' `x`, else 0, 1, 2 … */
export interface LineSeries {
  /** Legend and summary name. */
  name: string;
  /** Values; NaN leaves a gap. */
  y: number[];
  /** Positions along x (same length as `y`). */
  x?: number[];
}

/** Options of `line`. */
export interface LineOptions extends AxisOptions {
  /** x positions shared by every series without its own `x` (default: 0, 1, 2 …). */
  x?: number[];
  /** Logarithmic y axis; every y must then be > 0 (default: false). */
  logY?: boolean;
  /** Draw a marker on each point as well as the line (default: false). */
  markers?: boolean;
}

/** A line chart of one or several series. */
export function line(series: LineSeries | LineSeries[], opts: LineOptions = {}): Figure {
  const B = "line";
  figureSize(B, opts);
  const list = nonEmpty<LineSeries>(B, "series", Array.isArray(series) ? series : [series]);
  const shared = opts.x === undefined ? undefined : numbers(B, "options.x", opts.x);
  const resolved = list.map((s, i) => {
    const at = `series[${i}]`;
    if (typeof s?.name !== "string") throw new FigureInputError(B, `${at}.name`, "must be a string");
    const y = numbers(B, `${at}.y`, s.y, { allowNaN: true, positive: opts.logY });
    if (y.every(Number.isNaN)) throw new FigureInputError(B, `${at}.y`, "has no values (all NaN)");
    const x = s.x !== undefined ? numbers(B, `${at}.x`, s.x) : (shared ?? y.map((_, k) => k));
    sameLength(B, `${at}.y`, y.length, s.x !== undefined ? `${at}.x` : "options.x", x.length);
    return { name: s.name, x, y };
  });

  const data: PlotlyTrace[] = resolved.map((s) => ({
    type: "scatter",
    mode: opts.markers ? "lines+markers" : "lines",
    name: s.name,
    x: s.x,
    y: s.y.map((v) => (Number.isNaN(v) ? null : v)),
  }));
  const layout = baseLayout(opts);
  layout.xaxis = axis(opts.xTitle);
  layout.yaxis = axis(opts.yTitle, opts.logY ? { type: "log" } : {});
  layout.showlegend = resolved.length > 1;

  const body = resolved.map((s) => {
    const present = s.y.map((v, i) => i).filter((i) => !Number.isNaN(s.y[i]));
    const first = present[0];
    const last = present[present.length - 1];
    const ext = extremes(s.y)!;
    const gaps = s.y.length - present.length;
    return (
      `${s.name}: ${s.y.length} points${gaps ? ` (${gaps} NaN)` : ""}, ` +
      `${compact(s.y[first])} → ${compact(s.y[last])}, ` +
      `min ${compact(s.y[ext.min])} at x=${compact(s.x[ext.min])}, max ${compact(s.y[ext.max])} at x=${compact(s.x[ext.max])}`
    );
  });
  return { data, layout, summary: withTitle(opts.title, body) };
}
