import { beforeAll, describe, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import "../../lib/ops";
import { Rng } from "../../lib/random";
import { expectClose, gradientOf, numericGradient, OPS_BACKENDS, randomValues } from "./helpers";

// Slices of a [4, 3, 2] tensor picked by 2-D indices, one repeated (its gradient adds up).
const SHAPE = [4, 3, 2];
const INDICES = [
  [3, 1],
  [0, 2],
  [3, 1],
  [2, 0],
];
const offset = ([a, b]: number[]) => (a * SHAPE[1] + b) * SHAPE[2];

describe.each(OPS_BACKENDS)("gatherND / scatterND gradients on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("gatherND params gradient matches float64 central differences", () => {
    const rng = new Rng(21);
    const params = randomValues(rng, 24);
    const ws = randomValues(rng, INDICES.length * 2);
    const reference = (p: Float64Array) =>
      INDICES.reduce((s, ij, r) => s + p[offset(ij)] * ws[2 * r] + p[offset(ij) + 1] * ws[2 * r + 1], 0);
    const x = tf.tensor3d(Float32Array.from(params), SHAPE as [number, number, number]);
    const idx = tf.tensor2d(INDICES, undefined, "int32");
    const w = tf.tensor2d(Float32Array.from(ws), [INDICES.length, 2]);
    expectClose(
      gradientOf((v) => tf.gatherND(v, idx).mul(w).sum(), x),
      numericGradient(reference, params),
      1e-5,
    );
    // Indices computed from the differentiated tensor get a (zero) gradient instead of breaking backprop.
    const viaArgMax = (v: tf.Tensor) =>
      tf.gatherND(v, tf.stack([v.sum([1, 2]).argMax(), tf.scalar(1, "int32")]).expandDims(0)).sum();
    const g = gradientOf(viaArgMax, x);
    const row = Array.from({ length: 4 }, (_, a) =>
      params.slice(a * 6, a * 6 + 6).reduce((s, p) => s + Math.fround(p), 0),
    );
    const top = row.indexOf(Math.max(...row));
    expectClose(
      g,
      Float64Array.from({ length: 24 }, (_, i) => (i >= offset([top, 1]) && i < offset([top, 1]) + 2 ? 1 : 0)),
      0,
    );
    tf.dispose([x, idx, w]);
  });

  it("scatterND updates gradient matches float64 central differences", () => {
    const rng = new Rng(22);
    const updates = randomValues(rng, INDICES.length * 2);
    const ws = randomValues(rng, 24);
    const reference = (u: Float64Array) =>
      INDICES.reduce((s, ij, r) => s + u[2 * r] * ws[offset(ij)] + u[2 * r + 1] * ws[offset(ij) + 1], 0);
    const u = tf.tensor2d(Float32Array.from(updates), [INDICES.length, 2]);
    const idx = tf.tensor2d(INDICES, undefined, "int32");
    const w = tf.tensor(Float32Array.from(ws), SHAPE);
    expectClose(
      gradientOf((v) => tf.scatterND(idx, v, SHAPE).mul(w).sum(), u),
      numericGradient(reference, updates),
      1e-5,
    );
    tf.dispose([u, idx, w]);
  });
});
