// Text rendering helpers for figure summaries: compact numbers and aligned tables.
// Reference: none (plain-text conventions of tqdm/pandas reprs).

/** Formats a number in at most ~4 significant digits: 0.1235, 12.5, 123457, 1.235e6, 2e-5, NaN, inf. */
export function compact(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
  if (n === 0) return "0";
  const a = Math.abs(n);
  if (a >= 1e6 || a < 1e-3) {
    const [mantissa, exponent] = n.toExponential(3).split("e");
    return `${String(Number(mantissa))}e${Number(exponent)}`;
  }
  if (a >= 1000) return String(Math.round(n));
  return String(Number(n.toPrecision(4)));
}

/** Fixed decimals, or `compact` when `decimals` is undefined. */
export function formatNumber(n: number, decimals?: number): string {
  return decimals === undefined || !Number.isFinite(n) ? compact(n) : n.toFixed(decimals);
}

/** Column alignment: left or right. */
export type Align = "l" | "r";

/** Pads `text` to `width` on the side `align` says. */
function pad(text: string, width: number, align: Align): string {
  return align === "r" ? text.padStart(width) : text.padEnd(width);
}

function widths(rows: readonly (readonly string[])[]): number[] {
  const w: number[] = [];
  for (const row of rows) row.forEach((cell, j) => (w[j] = Math.max(w[j] ?? 0, [...cell].length)));
  return w;
}

/** Borderless columns separated by two spaces; `align[j]` per column (default left). */
export function alignColumns(rows: readonly (readonly string[])[], align: readonly Align[] = []): string[] {
  const w = widths(rows);
  return rows.map((row) =>
    row
      .map((cell, j) => pad(cell, w[j], align[j] ?? "l"))
      .join("  ")
      .trimEnd(),
  );
}

/** A bordered ASCII table with a header row; `align[j]` applies to the header and the cells of column j. */
export function asciiTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string[] {
  const w = widths([header, ...rows]);
  const rule = "+" + w.map((n) => "-".repeat(n + 2)).join("+") + "+";
  const line = (row: readonly string[]) =>
    "| " + w.map((n, j) => pad(row[j] ?? "", n, align[j] ?? "l")).join(" | ") + " |";
  return [rule, line(header), rule, ...rows.map((r) => line(r)), rule];
}

/** Index of the smallest and largest non-NaN value (first occurrence), or null when all are NaN. */
export function extremes(values: readonly number[]): { min: number; max: number } | null {
  let min = -1;
  let max = -1;
  values.forEach((v, i) => {
    if (Number.isNaN(v)) return;
    if (min < 0 || v < values[min]) min = i;
    if (max < 0 || v > values[max]) max = i;
  });
  return min < 0 ? null : { min, max };
}
