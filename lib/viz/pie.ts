// Pie (or donut) chart of non-negative shares.
// Reference: plotly.js pie trace, https://plotly.com/javascript/pie-charts/

import { Figure, FigureOptions, baseLayout, withTitle } from "./figure";
import { alignColumns, compact } from "./format";
import { FigureInputError, figureSize, labels, numbers, sameLength } from "./validate";

/** Options of `pie`. */
export interface PieOptions extends FigureOptions {
  /** Fraction of the radius cut out of the middle, 0 ≤ hole < 1 (default: 0, a full pie). */
  hole?: number;
}

/** A pie of `values` (each ≥ 0, not all 0) labelled by `labels`. */
export function pie(labelList: string[], values: number[], opts: PieOptions = {}): Figure {
  const B = "pie";
  figureSize(B, opts);
  const names = labels(B, "labels", labelList);
  const vals = numbers(B, "values", values, { nonNegative: true });
  sameLength(B, "values", vals.length, "labels", names.length);
  const total = vals.reduce((a, b) => a + b, 0);
  if (total <= 0) throw new FigureInputError(B, "values", "must not all be 0 (nothing to divide)");
  const hole = opts.hole ?? 0;
  if (!(hole >= 0 && hole < 1)) throw new FigureInputError(B, "options.hole", `must be in [0, 1), got ${hole}`);
  const layout = baseLayout(opts);
  layout.showlegend = true;
  const rows = names.map((n, i) => [`${n}:`, compact(vals[i]), `${((100 * vals[i]) / total).toFixed(1)}%`]);
  return {
    data: [{ type: "pie", labels: names, values: vals, hole, sort: false, textinfo: "percent" }],
    layout,
    summary: withTitle(opts.title, alignColumns(rows, ["l", "r", "r"])),
  };
}
