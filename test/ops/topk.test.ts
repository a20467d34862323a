import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { topk } from "../../lib/ops";
import { Rng } from "../../lib/random";
import { expectClose, expectNoLeak, gradientOf, numericGradient, OPS_BACKENDS } from "./helpers";

/** Float64 reference: Σ w ⊙ (top-k values of each row along the last axis, descending). */
function weightedTopk(x: Float64Array, n: number, k: number, w: Float64Array): number {
  let total = 0;
  for (let r = 0; r < x.length / n; r++) {
    const row = Array.from(x.subarray(r * n, (r + 1) * n)).sort((a, b) => b - a);
    for (let j = 0; j < k; j++) total += w[r * k + j] * row[j];
  }
  return total;
}

/** Distinct entries at least 0.4 apart (so a ±1e-6 probe never reorders them), shuffled, as float32-exact values. */
function distinctValues(rng: Rng, size: number): Float64Array {
  const order = rng.shuffle(Array.from({ length: size }, (_, i) => i));
  return Float64Array.from(Float32Array.from(order, (o) => o - size / 2 + 0.3 * rng.uniform()));
}

const CASES: { shape: number[]; k: number }[] = [
  { shape: [7], k: 3 },
  { shape: [7], k: 1 },
  { shape: [7], k: 7 }, // k = n
  { shape: [4, 9], k: 3 }, // 2-D: rows independent
  { shape: [2, 3, 5], k: 2 },
  { shape: [3, 17], k: 17 },
];

describe.each(OPS_BACKENDS)("topk gradient on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each(CASES)("matches float64 central differences for shape $shape, k = $k", ({ shape, k }) => {
    const rng = new Rng(shape.length * 100 + k);
    const n = shape[shape.length - 1];
    const xs = distinctValues(rng, tf.util.sizeFromShape(shape));
    const ws = Float64Array.from(Float32Array.from({ length: (xs.length / n) * k }, () => rng.normal()));
    const x = tf.tensor(Float32Array.from(xs), shape);
    const w = tf.tensor(Float32Array.from(ws), [...shape.slice(0, -1), k]);
    const expected = numericGradient((v) => weightedTopk(v, n, k, ws), xs);
    // Both the lab's wrapper and plain tf.topk are differentiable (the gradient is registered for the kernel).
    expectClose(
      gradientOf((v) => topk(v, k).values.mul(w).sum(), x),
      expected,
      1e-6,
    );
    expectClose(
      gradientOf((v) => tf.topk(v, k).values.mul(w).sum(), x),
      expected,
      1e-6,
    );
    // The forward is the function the reference differentiates.
    const value = expectNoLeak(() => tf.tidy(() => tf.topk(x, k).values.mul(w).sum().dataSync()[0]));
    expect(value).toBeCloseTo(weightedTopk(xs, n, k, ws), 4);
    tf.dispose([x, w]);
  });

  it("sends the gradient of tied values to the indices topk returned", () => {
    const x = tf.tensor2d([
      [1, 3, 3, 0, 3],
      [2, 2, 2, 2, 2],
      [-1, 4, -1, -1, 0],
    ]);
    const w = tf.tensor2d([
      [10, 20, 30],
      [1, 2, 3],
      [5, 6, 7],
    ]);
    const indices = tf.topk(x, 3).indices.arraySync() as number[][];
    const expected = [0, 0, 0].map(() => new Array<number>(5).fill(0));
    const wv = w.arraySync() as number[][];
    indices.forEach((row, r) => row.forEach((col, j) => (expected[r][col] += wv[r][j])));
    // Every row got k distinct positions, each holding exactly one upstream gradient.
    indices.forEach((row) => expect(new Set(row).size).toBe(3));
    expect(Array.from(gradientOf((v) => topk(v, 3).values.mul(w).sum(), x))).toEqual(expected.flat());
    expect(indices[0].slice().sort()).toEqual([1, 2, 4]);
    tf.dispose([x, w]);
  });

  it("flows through a composite expression (softmax over the top-k, as in a router)", () => {
    const rng = new Rng(7);
    const xs = distinctValues(rng, 2 * 6);
    const ws = Float64Array.from({ length: 2 * 2 }, () => rng.normal());
    const reference = (v: Float64Array) => {
      let total = 0;
      for (let r = 0; r < 2; r++) {
        const top = Array.from(v.subarray(r * 6, r * 6 + 6))
          .sort((a, b) => b - a)
          .slice(0, 2);
        const z = top.reduce((s, t) => s + Math.exp(t - top[0]), 0);
        top.forEach((t, j) => (total += ws[r * 2 + j] * (Math.exp(t - top[0]) / z)));
      }
      return total;
    };
    const x = tf.tensor2d(Float32Array.from(xs), [2, 6]);
    const w = tf.tensor2d(Float32Array.from(ws), [2, 2]);
    expectClose(
      gradientOf((v) => tf.softmax(topk(v, 2).values).mul(w).sum(), x),
      numericGradient(reference, xs),
      1e-5,
    );
    tf.dispose([x, w]);
  });

  it("gives a zero gradient when only the indices are used, and for k = 0", () => {
    const x = tf.tensor2d([
      [0.5, 2, -1],
      [3, 1, 2],
    ]);
    const viaIndices = (v: tf.Tensor) =>
      tf.gather(v.flatten(), tf.topk(v, 1).indices.flatten()).sum().mul(0).add(v.sum());
    expect(Array.from(gradientOf(viaIndices, x))).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Array.from(gradientOf((v) => topk(v, 0).values.sum().add(v.sum().mul(0)), x))).toEqual([0, 0, 0, 0, 0, 0]);
    x.dispose();
  });
});
