// Argument checks for the figure builders: each failure names the builder, the argument and what was expected.
// Reference: none (project convention, DESIGN.md §5).

/** Thrown when a figure builder gets data it cannot draw. `argument` names the offending argument. */
export class FigureInputError extends Error {
  constructor(
    readonly builder: string,
    readonly argument: string,
    expected: string,
  ) {
    super(`${builder}: ${argument} ${expected}`);
    this.name = "FigureInputError";
  }
}

/** What a numeric series may contain besides finite numbers. */
export interface NumberRules {
  /** NaN marks a gap (drawn as a hole, left out of summaries). */
  allowNaN?: boolean;
  /** Values must be > 0 (log axes). */
  positive?: boolean;
  /** Values must be >= 0 (pie slices). */
  nonNegative?: boolean;
}

/** Checks that `value` is a non-empty array of numbers obeying `rules`; returns it typed. */
export function numbers(builder: string, argument: string, value: unknown, rules: NumberRules = {}): number[] {
  if (!Array.isArray(value))
    throw new FigureInputError(builder, argument, `must be an array of numbers, got ${describe(value)}`);
  if (value.length === 0) throw new FigureInputError(builder, argument, "must not be empty");
  value.forEach((v, i) => {
    if (typeof v !== "number")
      throw new FigureInputError(builder, `${argument}[${i}]`, `must be a number, got ${describe(v)}`);
    if (Number.isNaN(v)) {
      if (!rules.allowNaN) throw new FigureInputError(builder, `${argument}[${i}]`, "is NaN (not allowed here)");
      return;
    }
    if (!Number.isFinite(v)) throw new FigureInputError(builder, `${argument}[${i}]`, `must be finite, got ${v}`);
    if (rules.positive && v <= 0)
      throw new FigureInputError(builder, `${argument}[${i}]`, `must be > 0 (log axis), got ${v}`);
    if (rules.nonNegative && v < 0) throw new FigureInputError(builder, `${argument}[${i}]`, `must be >= 0, got ${v}`);
  });
  return value as number[];
}

/** Checks that `value` is a non-empty array of strings; returns it typed. */
export function labels(builder: string, argument: string, value: unknown): string[] {
  if (!Array.isArray(value))
    throw new FigureInputError(builder, argument, `must be an array of strings, got ${describe(value)}`);
  if (value.length === 0) throw new FigureInputError(builder, argument, "must not be empty");
  value.forEach((v, i) => {
    if (typeof v !== "string")
      throw new FigureInputError(builder, `${argument}[${i}]`, `must be a string, got ${describe(v)}`);
  });
  return value as string[];
}

/** Checks that `value` is a non-empty array (of series, rows ...); returns it typed. */
export function nonEmpty<T>(builder: string, argument: string, value: readonly T[] | unknown): T[] {
  if (!Array.isArray(value)) throw new FigureInputError(builder, argument, `must be an array, got ${describe(value)}`);
  if (value.length === 0) throw new FigureInputError(builder, argument, "must not be empty");
  return value as T[];
}

/** Checks that an array has the length another argument fixes. */
export function sameLength(builder: string, argument: string, actual: number, other: string, expected: number): void {
  if (actual !== expected) {
    throw new FigureInputError(
      builder,
      argument,
      `has ${actual} entries but ${other} has ${expected} (lengths must match)`,
    );
  }
}

/** Checks an optional positive size (width, height ...). */
function size(builder: string, argument: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw new FigureInputError(
      builder,
      argument,
      `must be a positive integer number of pixels, got ${describe(value)}`,
    );
  }
}

/** Checks the sizes every builder accepts. */
export function figureSize(builder: string, opts: { width?: number; height?: number }): void {
  size(builder, "options.width", opts.width);
  size(builder, "options.height", opts.height);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  if (typeof v === "number") return String(v);
  return typeof v;
}
