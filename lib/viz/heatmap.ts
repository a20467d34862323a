// Heatmap of a matrix with optional row/column labels; row 0 is drawn at the top, like the matrix is written.
// Reference: plotly.js heatmap trace, https://plotly.com/javascript/heatmaps/

import { AxisOptions, Figure, PlotlyTrace, axis, baseLayout, withTitle } from "./figure";
import { alignColumns, compact } from "./format";
import { FigureInputError, figureSize, labels, nonEmpty, numbers, sameLength } from "./validate";

/** Options of `heatmap`. */
export interface HeatmapOptions extends AxisOptions {
  /** One label per row (default: 0, 1, 2 …). */
  rowLabels?: string[];
  /** One label per column (default: 0, 1, 2 …). */
  colLabels?: string[];
  /** A plotly colorscale name or [position, color] stops (default: "Viridis"). */
  colorscale?: string | [number, string][];
  /** Value mapped to the low end of the colorscale (default: the matrix minimum). */
  zmin?: number;
  /** Value mapped to the high end of the colorscale (default: the matrix maximum). */
  zmax?: number;
  /** Write each value in its cell (default: false). */
  showValues?: boolean;
  /** Title of the color bar (default: none). */
  colorbarTitle?: string;
}

/** Largest matrix the summary prints in full (rows and columns); larger ones are cut to this corner. */
export const SUMMARY_MATRIX_LIMIT = 12;

/** A heatmap of `z[row][col]`; NaN cells are left blank. */
export function heatmap(z: number[][], opts: HeatmapOptions = {}): Figure {
  const B = "heatmap";
  figureSize(B, opts);
  const rows = nonEmpty<number[]>(B, "z", z);
  const cols = numbers(B, "z[0]", rows[0], { allowNaN: true }).length;
  rows.forEach((r, i) => {
    if (!Array.isArray(r)) throw new FigureInputError(B, `z[${i}]`, "must be an array of numbers (z is a matrix)");
    if (r.length !== cols) {
      throw new FigureInputError(
        B,
        `z[${i}]`,
        `has ${r.length} columns but z[0] has ${cols} (the matrix must be rectangular)`,
      );
    }
    numbers(B, `z[${i}]`, r, { allowNaN: true });
  });
  const rowNames =
    opts.rowLabels === undefined ? rows.map((_, i) => String(i)) : labels(B, "options.rowLabels", opts.rowLabels);
  const colNames =
    opts.colLabels === undefined ? rows[0].map((_, j) => String(j)) : labels(B, "options.colLabels", opts.colLabels);
  sameLength(B, "options.rowLabels", rowNames.length, "z (rows)", rows.length);
  sameLength(B, "options.colLabels", colNames.length, "z[0] (columns)", cols);
  for (const k of ["zmin", "zmax"] as const) {
    const v = opts[k];
    if (v !== undefined && !Number.isFinite(v))
      throw new FigureInputError(B, `options.${k}`, `must be a finite number, got ${v}`);
  }
  if (opts.zmin !== undefined && opts.zmax !== undefined && !(opts.zmin < opts.zmax)) {
    throw new FigureInputError(B, "options.zmin", `must be below options.zmax (${opts.zmin} >= ${opts.zmax})`);
  }

  let lo: [number, number] | null = null;
  let hi: [number, number] | null = null;
  for (let i = 0; i < rows.length; i++) {
    for (let j = 0; j < cols; j++) {
      const v = rows[i][j];
      if (Number.isNaN(v)) continue;
      if (!lo || v < rows[lo[0]][lo[1]]) lo = [i, j];
      if (!hi || v > rows[hi[0]][hi[1]]) hi = [i, j];
    }
  }
  if (!lo || !hi) throw new FigureInputError(B, "z", "has no values (all NaN)");

  const trace: PlotlyTrace = {
    type: "heatmap",
    z: rows.map((r) => r.map((v) => (Number.isNaN(v) ? null : v))),
    colorscale: opts.colorscale ?? "Viridis",
    hoverongaps: false,
  };
  // Always set: the axes are categorical, and plotly draws an empty (zero-width) plot for a category axis without them.
  trace.y = rowNames;
  trace.x = colNames;
  if (opts.zmin !== undefined) trace.zmin = opts.zmin;
  if (opts.zmax !== undefined) trace.zmax = opts.zmax;
  if (opts.colorbarTitle) trace.colorbar = { title: { text: opts.colorbarTitle } };
  if (opts.showValues) {
    trace.text = rows.map((r) => r.map((v) => (Number.isNaN(v) ? "" : compact(v))));
    trace.texttemplate = "%{text}";
  }
  const layout = baseLayout(opts);
  layout.xaxis = axis(opts.xTitle, { type: "category", showgrid: false });
  layout.yaxis = axis(opts.yTitle, { type: "category", autorange: "reversed", showgrid: false });

  const at = ([i, j]: [number, number]) => `${compact(rows[i][j])} at (${rowNames[i]}, ${colNames[j]})`;
  const body = [`${rows.length}×${cols} matrix (rows × columns), min ${at(lo)}, max ${at(hi)}`];
  const shownRows = Math.min(rows.length, SUMMARY_MATRIX_LIMIT);
  const shownCols = Math.min(cols, SUMMARY_MATRIX_LIMIT);
  const grid = [
    ["", ...colNames.slice(0, shownCols)],
    ...rows.slice(0, shownRows).map((r, i) => [rowNames[i], ...r.slice(0, shownCols).map(compact)]),
  ];
  body.push(...alignColumns(grid, ["l", ...colNames.slice(0, shownCols).map(() => "r" as const)]));
  if (shownRows < rows.length || shownCols < cols) {
    body.push(`(truncated: showing the first ${shownRows} of ${rows.length} rows and ${shownCols} of ${cols} columns)`);
  }
  return { data: [trace], layout, summary: withTitle(opts.title, body) };
}
