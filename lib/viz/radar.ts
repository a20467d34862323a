// Radar (spider) chart: several series scored over the same named axes.
// Reference: plotly.js scatterpolar trace, https://plotly.com/javascript/radar-chart/

import { Figure, FigureOptions, baseLayout, withTitle } from "./figure";
import { alignColumns, compact } from "./format";
import { FigureInputError, figureSize, labels, nonEmpty, numbers, sameLength } from "./validate";

/** One polygon of a radar chart. */
export interface RadarSeries {
  /** Legend and summary name. */
  name: string;
  /** One value per axis, in the axes' order. */
  values: number[];
}

/** Options of `radar`. */
export interface RadarOptions extends FigureOptions {
  /** Radial range [low, high] (default: plotly's automatic range). */
  range?: [number, number];
  /** Fill each polygon with a translucent color (default: true). */
  fill?: boolean;
}

/** Fewest axes a radar chart needs to enclose an area. */
export const RADAR_MIN_AXES = 3;

/** A radar chart of one or several series over `axes`. */
export function radar(axes: string[], series: RadarSeries | RadarSeries[], opts: RadarOptions = {}): Figure {
  const B = "radar";
  figureSize(B, opts);
  const names = labels(B, "axes", axes);
  if (names.length < RADAR_MIN_AXES) {
    throw new FigureInputError(B, "axes", `needs at least ${RADAR_MIN_AXES} axes, got ${names.length}`);
  }
  const list = nonEmpty<RadarSeries>(B, "series", Array.isArray(series) ? series : [series]).map((s, i) => {
    if (typeof s?.name !== "string") throw new FigureInputError(B, `series[${i}].name`, "must be a string");
    const values = numbers(B, `series[${i}].values`, s.values);
    sameLength(B, `series[${i}].values`, values.length, "axes", names.length);
    return { name: s.name, values };
  });
  if (opts.range !== undefined) {
    const r = numbers(B, "options.range", opts.range);
    if (r.length !== 2 || !(r[0] < r[1]))
      throw new FigureInputError(B, "options.range", "must be [low, high] with low < high");
  }
  const fill = opts.fill ?? true;
  const layout = baseLayout(opts);
  layout.polar = { radialaxis: { visible: true, ...(opts.range ? { range: [...opts.range] } : {}) } };
  layout.showlegend = list.length > 1;
  const rows = [
    ["", ...list.map((s) => s.name)],
    ...names.map((a, i) => [a, ...list.map((s) => compact(s.values[i]))]),
  ];
  return {
    // The first point is repeated at the end so each polygon closes.
    data: list.map((s) => ({
      type: "scatterpolar",
      name: s.name,
      r: [...s.values, s.values[0]],
      theta: [...names, names[0]],
      ...(fill ? { fill: "toself", opacity: 0.6 } : {}),
    })),
    layout,
    summary: withTitle(opts.title, alignColumns(rows, ["l", ...list.map(() => "r" as const)])),
  };
}
