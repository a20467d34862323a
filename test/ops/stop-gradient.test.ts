import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { stopGradient } from "../../lib/ops";
import { gradientOf, expectNoLeak, OPS_BACKENDS } from "./helpers";

describe.each(OPS_BACKENDS)("stopGradient on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("returns the value unchanged (shape, dtype, data) as a new tensor", () => {
    for (const x of [
      tf.tensor2d([
        [1.5, -2],
        [3, 0.25],
      ]),
      tf.tensor1d([3, -1, 7], "int32"),
      tf.scalar(2),
      tf.zeros([0, 3]),
    ]) {
      expectNoLeak(() => {
        const y = stopGradient(x);
        expect(y).not.toBe(x);
        expect(y.shape).toEqual(x.shape);
        expect(y.dtype).toBe(x.dtype);
        expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
        y.dispose();
      });
      x.dispose();
    }
  });

  it("has a gradient of exactly zero", () => {
    const x = tf.tensor2d([
      [1.5, -2, 4],
      [3, 0.25, -1],
    ]);
    expect(Array.from(gradientOf((v) => stopGradient(v).square().sum(), x))).toEqual([0, 0, 0, 0, 0, 0]);
    x.dispose();
  });

  it("blocks only its own branch inside a larger expression", () => {
    const x = tf.tensor1d([1.5, -2, 4, 0.5]);
    const xs = Array.from(x.dataSync());
    // d/dx Σ x·sg(x) = sg(x) = x (not 2x); d/dx Σ (x² + sg(x³)) = 2x; d/dx Σ exp(sg(x))·x = exp(x).
    expect(Array.from(gradientOf((v) => v.mul(stopGradient(v)).sum(), x))).toEqual(xs);
    expect(
      Array.from(
        gradientOf(
          (v) =>
            v
              .square()
              .add(stopGradient(v.pow(3)))
              .sum(),
          x,
        ),
      ),
    ).toEqual(xs.map((a) => 2 * a));
    const g = gradientOf((v) => stopGradient(v).exp().mul(v).sum(), x);
    xs.forEach((a, i) => expect(g[i]).toBeCloseTo(Math.exp(a), 4));
    x.dispose();
  });

  it("stops the gradient to a variable in an optimizer step", () => {
    const w = tf.variable(tf.tensor1d([2, -3]));
    const { grads, value } = tf.variableGrads(
      () => w.mul(stopGradient(w)).sum().add(stopGradient(w).sum()) as tf.Scalar,
    );
    expect(value.dataSync()[0]).toBeCloseTo(4 + 9 - 1, 5);
    expect(Array.from(grads[w.name].dataSync())).toEqual([2, -3]);
    value.dispose();
    tf.dispose(grads);
    w.dispose();
  });

  it("rejects a non-tensor with a named error", () => {
    expect(() => stopGradient([1, 2] as unknown as tf.Tensor)).toThrow(/stopGradient\(x\): expected a tf.Tensor/);
  });
});
