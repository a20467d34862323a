// Bar charts: one value per label (`bar`) and categories × groups (`groupedBar`).
// Reference: plotly.js bar trace, https://plotly.com/javascript/bar-charts/

import { AxisOptions, Figure, PlotlyTrace, axis, baseLayout, withTitle } from "./figure";
import { alignColumns, compact } from "./format";
import { FigureInputError, figureSize, labels, nonEmpty, numbers, sameLength } from "./validate";

/** Options of `bar` and `groupedBar`. */
export interface BarOptions extends AxisOptions {
  /** Bars run left to right with labels on the y axis (default: false, vertical bars). */
  horizontal?: boolean;
}

/** Options of `groupedBar`. */
export interface GroupedBarOptions extends BarOptions {
  /** Stack the groups of a category instead of placing them side by side (default: false). */
  stacked?: boolean;
}

/** One group of a grouped bar chart: a value per category. */
export interface BarGroup {
  /** Legend and summary name. */
  name: string;
  /** One value per category, in the categories' order. */
  values: number[];
}

function barTrace(name: string | undefined, cats: string[], values: number[], horizontal: boolean): PlotlyTrace {
  const t: PlotlyTrace = horizontal
    ? { type: "bar", orientation: "h", x: values, y: cats }
    : { type: "bar", x: cats, y: values };
  if (name !== undefined) t.name = name;
  return t;
}

function barLayout(opts: BarOptions, showlegend: boolean) {
  const layout = baseLayout(opts);
  // Categories on the value axis' partner; horizontal charts list the first label at the top.
  layout.xaxis = axis(opts.xTitle, opts.horizontal ? {} : { type: "category" });
  layout.yaxis = axis(opts.yTitle, opts.horizontal ? { type: "category", autorange: "reversed" } : {});
  layout.showlegend = showlegend;
  return layout;
}

/** A bar per label. */
export function bar(labelList: string[], values: number[], opts: BarOptions = {}): Figure {
  const B = "bar";
  figureSize(B, opts);
  const cats = labels(B, "labels", labelList);
  const vals = numbers(B, "values", values);
  sameLength(B, "values", vals.length, "labels", cats.length);
  const rows = cats.map((c, i) => [`${c}:`, compact(vals[i])]);
  return {
    data: [barTrace(undefined, cats, vals, !!opts.horizontal)],
    layout: barLayout(opts, false),
    summary: withTitle(opts.title, alignColumns(rows, ["l", "r"])),
  };
}

/** Bars for each category, one per group, side by side (or stacked). */
export function groupedBar(categories: string[], groups: BarGroup[], opts: GroupedBarOptions = {}): Figure {
  const B = "groupedBar";
  figureSize(B, opts);
  const cats = labels(B, "categories", categories);
  const list = nonEmpty<BarGroup>(B, "groups", groups).map((g, i) => {
    if (typeof g?.name !== "string") throw new FigureInputError(B, `groups[${i}].name`, "must be a string");
    const vals = numbers(B, `groups[${i}].values`, g.values);
    sameLength(B, `groups[${i}].values`, vals.length, "categories", cats.length);
    return { name: g.name, values: vals };
  });
  const layout = barLayout(opts, true);
  layout.barmode = opts.stacked ? "stack" : "group";
  const rows = [
    ["", ...list.map((g) => g.name)],
    ...cats.map((c, i) => [`${c}:`, ...list.map((g) => compact(g.values[i]))]),
  ];
  return {
    data: list.map((g) => barTrace(g.name, cats, g.values, !!opts.horizontal)),
    layout,
    summary: withTitle(opts.title, alignColumns(rows, ["l", ...list.map(() => "r" as const)])),
  };
}
