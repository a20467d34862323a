import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { cumsum } from "../../lib/ops";
import { Rng } from "../../lib/random";
import { expectClose, gradientOf, numericGradient, OPS_BACKENDS, randomValues } from "./helpers";

const SHAPE = [3, 4, 5];

/** Float64 reference cumulative sum of a row-major tensor of `shape` along `axis`. */
function cumsumRef(x: Float64Array, shape: number[], axis: number, exclusive: boolean, reverse: boolean): Float64Array {
  const out = new Float64Array(x.length);
  const n = shape[axis];
  const stride = tf.util.sizeFromShape(shape.slice(axis + 1));
  const outer = x.length / (n * stride);
  for (let o = 0; o < outer; o++) {
    for (let s = 0; s < stride; s++) {
      let acc = 0;
      for (let step = 0; step < n; step++) {
        const i = o * n * stride + (reverse ? n - 1 - step : step) * stride + s;
        if (exclusive) {
          out[i] = acc;
          acc += x[i];
        } else {
          acc += x[i];
          out[i] = acc;
        }
      }
    }
  }
  return out;
}

const COMBINATIONS = [0, 1, 2].flatMap((axis) =>
  [false, true].flatMap((exclusive) => [false, true].map((reverse) => ({ axis, exclusive, reverse }))),
);

describe.each(OPS_BACKENDS)("cumsum gradient on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each(COMBINATIONS)(
    "axis $axis, exclusive $exclusive, reverse $reverse matches float64 central differences",
    ({ axis, exclusive, reverse }) => {
      const rng = new Rng(axis * 4 + (exclusive ? 2 : 0) + (reverse ? 1 : 0));
      const xs = randomValues(rng, 60);
      const ws = randomValues(rng, 60);
      const x = tf.tensor(Float32Array.from(xs), SHAPE);
      const w = tf.tensor(Float32Array.from(ws), SHAPE);
      const loss = (v: Float64Array) =>
        cumsumRef(v, SHAPE, axis, exclusive, reverse).reduce((s, c, i) => s + c * ws[i], 0);
      const expected = numericGradient(loss, xs);
      // Plain tf.cumsum uses the registered (fixed) gradient; the wrapper is the same op.
      expectClose(
        gradientOf((v) => tf.cumsum(v, axis, exclusive, reverse).mul(w).sum(), x),
        expected,
        1e-5,
      );
      expectClose(
        gradientOf((v) => cumsum(v, axis, exclusive, reverse).mul(w).sum(), x),
        expected,
        1e-5,
      );
      // The forward is the function the reference differentiates.
      const y = tf.cumsum(x, axis, exclusive, reverse);
      expectClose(y.dataSync(), cumsumRef(xs, SHAPE, axis, exclusive, reverse), 1e-6);
      tf.dispose([x, w, y]);
    },
  );

  it("wrapper takes a negative axis and names a bad one", () => {
    const x = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const y = cumsum(x, -2);
    expect(y.arraySync()).toEqual([
      [1, 2, 3],
      [5, 7, 9],
    ]);
    expect(
      Array.from(
        gradientOf(
          (v) =>
            cumsum(v, -1, true)
              .mul(
                tf.tensor2d([
                  [1, 2, 3],
                  [4, 5, 6],
                ]),
              )
              .sum(),
          x,
        ),
      ),
    ).toEqual([5, 3, 0, 11, 6, 0]);
    expect(() => cumsum(x, 2)).toThrow(
      /cumsum\(x, axis\): expected an integer axis in \[-2, 2\) for a rank-2 x, got 2/,
    );
    expect(() => cumsum(x, 0.5)).toThrow(/got 0.5/);
    tf.dispose([x, y]);
  });
});
