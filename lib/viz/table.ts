// Table figure: a header and rows of strings and numbers, numbers right-aligned and formatted.
// Reference: plotly.js table trace, https://plotly.com/javascript/table/

import { DEFAULT_STYLE, Figure, FigureOptions, baseLayout, withTitle } from "./figure";
import { Align, asciiTable, formatNumber } from "./format";
import { FigureInputError, figureSize, labels, nonEmpty } from "./validate";

/** One cell: text, or a number formatted by the table's `decimals`. */
export type TableCell = string | number;

/** Options of `table`. */
export interface TableOptions extends FigureOptions {
  /** Decimals for numbers: one count for every column or one per column; undefined → compact (~4 significant digits). */
  decimals?: number | (number | undefined)[];
  /** Height of a row in pixels (default: 28); the default figure height fits every row. */
  rowHeight?: number;
}

/** Smallest default table height in pixels. */
const MIN_TABLE_HEIGHT = 120;

/** A table with a header row; numeric columns are right-aligned. */
export function table(header: string[], rows: TableCell[][], opts: TableOptions = {}): Figure {
  const B = "table";
  figureSize(B, opts);
  const head = labels(B, "header", header);
  const body = nonEmpty<TableCell[]>(B, "rows", rows);
  body.forEach((row, i) => {
    if (!Array.isArray(row)) throw new FigureInputError(B, `rows[${i}]`, "must be an array of cells");
    if (row.length !== head.length) {
      throw new FigureInputError(
        B,
        `rows[${i}]`,
        `has ${row.length} cells but header has ${head.length} (lengths must match)`,
      );
    }
    row.forEach((c, j) => {
      if (typeof c !== "string" && typeof c !== "number") {
        throw new FigureInputError(
          B,
          `rows[${i}][${j}]`,
          `must be a string or a number, got ${c === null ? "null" : typeof c}`,
        );
      }
    });
  });
  if (Array.isArray(opts.decimals) && opts.decimals.length !== head.length) {
    throw new FigureInputError(
      B,
      "options.decimals",
      `has ${opts.decimals.length} entries but header has ${head.length} (lengths must match)`,
    );
  }
  const decimals = head.map((_, j) => (Array.isArray(opts.decimals) ? opts.decimals[j] : opts.decimals));
  decimals.forEach((d, j) => {
    if (d !== undefined && !(Number.isInteger(d) && d >= 0 && d <= 20)) {
      throw new FigureInputError(
        B,
        Array.isArray(opts.decimals) ? `options.decimals[${j}]` : "options.decimals",
        `must be an integer in [0, 20], got ${d}`,
      );
    }
  });
  const rowHeight = opts.rowHeight ?? 28;
  if (!(Number.isFinite(rowHeight) && rowHeight > 0))
    throw new FigureInputError(B, "options.rowHeight", `must be a positive number, got ${rowHeight}`);

  const text = body.map((row) => row.map((c, j) => (typeof c === "number" ? formatNumber(c, decimals[j]) : c)));
  const align: Align[] = head.map((_, j) => (body.every((row) => typeof row[j] === "number") ? "r" : "l"));
  const plotlyAlign = align.map((a) => (a === "r" ? "right" : "left"));
  const layout = baseLayout(opts);
  const margin = { ...layout.margin!, l: 16, r: 16, b: 16 };
  layout.margin = margin;
  if (opts.height === undefined)
    layout.height = Math.max(MIN_TABLE_HEIGHT, Math.ceil(margin.t + margin.b + (body.length + 1) * rowHeight + 8));
  return {
    data: [
      {
        type: "table",
        columnwidth: head.map((h, j) => Math.max([...h].length, ...text.map((r) => [...r[j]].length))),
        header: {
          values: head,
          align: plotlyAlign,
          height: rowHeight,
          fill: { color: "#f0f0f0" },
          line: { color: DEFAULT_STYLE.gridColor },
          font: { size: DEFAULT_STYLE.fontSize, color: DEFAULT_STYLE.fontColor },
        },
        // plotly tables take column-major cell values.
        cells: {
          values: head.map((_, j) => text.map((r) => r[j])),
          align: plotlyAlign,
          height: rowHeight,
          fill: { color: DEFAULT_STYLE.background },
          line: { color: DEFAULT_STYLE.gridColor },
          font: { size: DEFAULT_STYLE.fontSize, color: DEFAULT_STYLE.fontColor },
        },
      },
    ],
    layout,
    summary: withTitle(opts.title, asciiTable(head, text, align)),
  };
}
