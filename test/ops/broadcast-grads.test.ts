import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import "../../lib/ops";
import { useBackend } from "../../lib/backend-select";
import { Rng } from "../../lib/random";
import { OPS_BACKENDS, expectClose, expectNoLeak, numericGradient, randomValues } from "./helpers";

// Σ w ⊙ op(a, b) with a [3,1,5] and b [4,5] broadcast to [3,4,5]; float64 reference and central differences.
const A_SHAPE = [3, 1, 5];
const B_SHAPE = [4, 5];
const OUT = [3, 4, 5];

const ops: Record<string, { tfOp: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor; ref: (a: number, b: number) => number }> =
  {
    maximum: { tfOp: tf.maximum, ref: Math.max },
    minimum: { tfOp: tf.minimum, ref: Math.min },
    squaredDifference: { tfOp: tf.squaredDifference, ref: (a, b) => (a - b) ** 2 },
  };

function reference(op: (a: number, b: number) => number, a: Float64Array, b: Float64Array, w: Float64Array): number {
  let total = 0;
  for (let i = 0; i < OUT[0]; i++)
    for (let j = 0; j < OUT[1]; j++)
      for (let k = 0; k < OUT[2]; k++) total += w[(i * OUT[1] + j) * OUT[2] + k] * op(a[i * 5 + k], b[j * 5 + k]);
  return total;
}

describe.each(OPS_BACKENDS)("broadcasting Maximum/Minimum/SquaredDifference gradients on %s", (backend) => {
  it.each(Object.keys(ops))(
    "%s: gradients reduce to each input's shape and match central differences",
    async (name) => {
      await useBackend(backend);
      const rng = new Rng(17);
      const a = randomValues(rng, 15);
      const b = randomValues(rng, 20);
      const w = randomValues(rng, 60);
      const { tfOp, ref } = ops[name];
      const [ga, gb] = expectNoLeak(() =>
        tf.tidy(() => {
          const wt = tf.tensor(Float32Array.from(w), OUT);
          const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(wt, tfOp(x, y))))([
            tf.tensor(Float32Array.from(a), A_SHAPE),
            tf.tensor(Float32Array.from(b), B_SHAPE),
          ]);
          expect(grads.map((g) => g.shape)).toEqual([A_SHAPE, B_SHAPE]);
          return grads.map((g) => Float64Array.from(g.dataSync()));
        }),
      );
      expectClose(
        ga,
        numericGradient((x) => reference(ref, x, b, w), a),
        1e-5,
      );
      expectClose(
        gb,
        numericGradient((y) => reference(ref, a, y, w), b),
        1e-5,
      );
    },
  );
});
