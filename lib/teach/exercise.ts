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
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  if (typeof value === "number" || value === null) return value;
  if (Array.isArray(value)) return value.map((v, i) => plain(v, `${what}[${i}]`));
  throw new Error(`${what} is ${value === undefined ? "undefined" : typeof value}; expected a tensor, a typed array or numbers`);
}

/** The field `key` of a returned record, or an error naming it. */
export function field(output: unknown, key: string, fn: string): unknown {
  if (output === null || typeof output !== "object" || !(key in output)) {
    throw new Error(`${fn} must return an object with a "${key}" field, got ${output === null ? "null" : typeof output}`);
  }
  return (output as Record<string, unknown>)[key];
}

/** How `got` differs from `want` (first difference, with its path), or null when they agree within `tol`. */
export function difference(want: Plain, got: Plain, tol: number, path = "output"): string | null {
  if (typeof want === "number" || want === null) {
    if (typeof got !== "number" && got !== null) return `${path} should be a number, got ${describe(got)}`;
    if (want === null || got === null) return want === got ? null : `${path}: expected ${show(want)}, got ${show(got)}`;
    if (Number.isNaN(want) || Number.isNaN(got)) return Number.isNaN(want) && Number.isNaN(got) ? null : `${path}: expected ${show(want)}, got ${show(got)}`;
    const ok = want === got || Math.abs(want - got) <= tol * (1 + Math.abs(want));
    return ok ? null : `${path}: expected ${show(want)}, got ${show(got)}`;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) return `${path} should be an array of ${want.length}, got ${describe(got)}`;
    if (got.length !== want.length) return `${path} has length ${got.length}; expected ${want.length} (shape ${shapeOf(want)})`;
    for (let i = 0; i < want.length; i++) {
      const d = difference(want[i], got[i], tol, `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (got === null || typeof got !== "object" || Array.isArray(got)) return `${path} should be a record, got ${describe(got)}`;
  for (const key of Object.keys(want)) {
    const d = difference(want[key], got[key] ?? null, tol, `${path}.${key}`);
    if (d) return d;
  }
  return null;
}

function shapeOf(value: Plain): string {
  const dims: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) dims.push(v.length);
  return `[${dims.join(", ")}]`;
}

function describe(value: Plain): string {
  return Array.isArray(value) ? `an array of shape ${shapeOf(value)}` : value === null ? "null" : typeof value === "object" ? "a record" : show(value);
}

function show(value: number | null): string {
  if (value === null) return "null";
  return Number.isInteger(value) ? String(value) : value.toPrecision(6);
}
