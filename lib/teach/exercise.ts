// What an exercise is to lab.teach.check: named cases run through the student's function and the library's own
// implementation, compared value by value, and known mistakes that explain a failure. Reference: otter-grader
// (in-notebook checks with hints); nbgrader (visible vs hidden tests).
import * as tf from "@tensorflow/tfjs";

/** Plain values a case's outputs are compared as: numbers, nested arrays of numbers, or records of those. */
export type Plain = number | null | Plain[] | { [key: string]: Plain };

/** One test case: inputs built fresh for each run (the student may consume or dispose them). */
export interface ExerciseCase<Args extends unknown[]> {
  /** Shown in the pass/fail table and the hint ("sigmoid + bias, 4 groups keep 2"). */
  name: string;
  /** The arguments passed to both implementations (called inside tf.tidy). */
  args: () => Args;
  /** Visible cases run in the student's check cell; hidden ones only in the grader's restored tests. */
  hidden?: boolean;
}

/** A usual mistake: an implementation of it, and the hint shown when the student's output matches it. */
export interface Mistake<Args extends unknown[]> {
  name: string;
  hint: string;
  impl: (...args: Args) => unknown;
}

/** An exercise: its signature (shown in errors), cases, the reference, the comparison and the known mistakes. */
export interface Exercise<Args extends unknown[] = unknown[]> {
  id: string;
  /** The function the student writes, as TypeScript ("(logits: tf.Tensor2D, ...) => {...}"). */
  signature: string;
  cases: ExerciseCase<Args>[];
  /** The library's own implementation, as the oracle (its code is never shown). */
  reference: (...args: Args) => unknown;
  /** Turns an output (tensors, typed arrays, records) into plain values; throws when it has the wrong form. */
  toPlain: (output: unknown, args: Args) => Plain;
  /** Absolute + relative tolerance for floats (0: exact). */
  tolerance: number;
  mistakes: Mistake<Args>[];
}

/** Tensors and typed arrays as nested plain arrays; records field by field. */
export function plain(value: unknown, what: string): Plain {
  if (value instanceof tf.Tensor) return value.arraySync() as Plain;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return Array.from(value as unknown as ArrayLike<number>);
  if (typeof value === "number" || value === null) return value;
  if (Array.isArray(value)) return value.map((v, i) => plain(v, `${what}[${i}]`));
  throw new Error(
    `${what} is ${value === undefined ? "undefined" : typeof value}; expected a tensor, a typed array or numbers`,
  );
}

/** The field `key` of a returned record, or an error naming it. */
export function field(output: unknown, key: string, fn: string): unknown {
  if (output === null || typeof output !== "object" || !(key in output)) {
    throw new Error(
      `${fn} must return an object with a "${key}" field, got ${output === null ? "null" : typeof output}`,
    );
  }
  return (output as Record<string, unknown>)[key];
}

/** Where two outputs first differ: the path of keys and indices, and a message naming it. */
export interface Difference {
  at: (string | number)[];
  message: string;
}

/** How `got` differs from `want` (the first difference, with its path), or null when they agree within `tol`. */
export function difference(want: Plain, got: Plain, tol: number, at: (string | number)[] = []): Difference | null {
  const path = "output" + at.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("");
  const differ = (message: string): Difference => ({ at, message: `${path}${message}` });
  if (typeof want === "number" || want === null) {
    if (typeof got !== "number" && got !== null) return differ(` should be a number, got ${describe(got)}`);
    const same =
      want === null || got === null
        ? want === got
        : Number.isNaN(want) || Number.isNaN(got)
          ? Number.isNaN(want) && Number.isNaN(got)
          : want === got || Math.abs(want - got) <= tol * (1 + Math.abs(want));
    return same ? null : differ(`: expected ${show(want)}, got ${show(got)}`);
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) return differ(` should be an array of ${want.length}, got ${describe(got)}`);
    if (got.length !== want.length)
      return differ(` has length ${got.length}; expected ${want.length} (shape ${shapeOf(want)})`);
    for (let i = 0; i < want.length; i++) {
      const d = difference(want[i], got[i], tol, [...at, i]);
      if (d) return d;
    }
    return null;
  }
  if (got === null || typeof got !== "object" || Array.isArray(got))
    return differ(` should be a record, got ${describe(got)}`);
  for (const key of Object.keys(want)) {
    const d = difference(want[key], got[key] ?? null, tol, [...at, key]);
    if (d) return d;
  }
  return null;
}

/** The part of `value` at `at` (null where the path does not exist). */
export function valueAt(value: Plain, at: readonly (string | number)[]): Plain {
  let v: Plain | undefined = value;
  for (const key of at) {
    if (v === null || typeof v !== "object") return null;
    v = Array.isArray(v) ? (typeof key === "number" ? v[key] : undefined) : (v as Record<string, Plain>)[String(key)];
  }
  return v ?? null;
}

function shapeOf(value: Plain): string {
  const dims: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) dims.push(v.length);
  return `[${dims.join(", ")}]`;
}

function describe(value: Plain): string {
  return Array.isArray(value)
    ? `an array of shape ${shapeOf(value)}`
    : value === null
      ? "null"
      : typeof value === "object"
        ? "a record"
        : show(value);
}

function show(value: number | null): string {
  if (value === null) return "null";
  return Number.isInteger(value) ? String(value) : value.toPrecision(6);
}
