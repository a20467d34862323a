// Shared helpers for the ops tests: the backends every gradient must work on, float64 central differences, a
// closeness check, and a tensor-leak guard.
import { expect } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/random";

/** Backends the ops must work on; useBackend throws (and the tests fail) if one is not available. */
export const OPS_BACKENDS = ["cpu", "wasm", "native"] as const;

/** Central-difference gradient of a float64 function at `x`. */
export function numericGradient(f: (x: Float64Array) => number, x: Float64Array, eps = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  const probe = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    probe[i] = x[i] + eps;
    const up = f(probe);
    probe[i] = x[i] - eps;
    const down = f(probe);
    probe[i] = x[i];
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

/** Asserts |actual − expected| ≤ tol · max(1, max|expected|) elementwise, naming the first offending index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol * scale)) {
      expect.fail(`index ${i}: got ${actual[i]}, expected ${expected[i]} (|err| ${err} > ${tol} × ${scale})`);
    }
  }
}

/** `n` float32-representable normal samples, as float64 (so the float64 reference sees exactly tfjs's inputs). */
export function randomValues(rng: Rng, n: number): Float64Array {
  return Float64Array.from(Float32Array.from({ length: n }, () => rng.normal()));
}

/** Runs `fn` and asserts it left no tensor behind. */
export function expectNoLeak<T>(fn: () => T): T {
  const before = tf.memory().numTensors;
  const result = fn();
  expect(tf.memory().numTensors).toBe(before);
  return result;
}

/** The gradient of `f` at `x` as a float64 array, computed and disposed without leaking a tensor. */
export function gradientOf(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): Float64Array {
  return expectNoLeak(() => {
    const g = tf.grad(f)(x);
    expect(g.shape).toEqual(x.shape);
    expect(g.dtype).toBe("float32");
    const values = Float64Array.from(g.dataSync());
    g.dispose();
    return values;
  });
}

/** erf in float64: Taylor series below 2.5, Laplace's continued fraction for erfc above (both ~1e-15). */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (Number.isNaN(x) || ax === 0) return x;
  let r: number;
  if (ax < 2.5) {
    const x2 = ax * ax;
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const c = term / (2 * n + 1);
      sum += c;
      if (Math.abs(c) < 1e-17 * sum) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let t = ax;
    for (let k = 120; k >= 1; k--) t = ax + k / 2 / t;
    r = 1 - Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * t);
  }
  return x < 0 ? -r : r;
}
