// The fused residual add + RMSNorm: both outputs and the gradients in x, residual and gain (through both outputs)
// against a float64 reference and central differences, on cpu (the composite) and native (the fused kernel); no
// tensor leaks; bad input named. test/ops/fused-ops-isa.test.ts reruns this file on the AVX2 and scalar paths.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { addRmsNorm } from "../../lib/ops";
import { hasFusedKernel } from "../../lib/ops/fused";
import { FUSED_KERNELS } from "../../lib/kernel-names";
import { Rng } from "../../lib/random";
import { expectClose, expectNoLeak, numericGradient, randomValues } from "./helpers";

const [R, d, eps] = [7, 37, 1e-5]; // d = 37: vector tails on every ISA

/** float64 reference: Σ (x + r)·w1 + Σ rmsNorm(x + r)·g·w2. */
function reference(x: Float64Array, r: Float64Array, g: Float64Array, w1: Float64Array, w2: Float64Array): number {
  let loss = 0;
  for (let i = 0; i < R; i++) {
    const s = Array.from({ length: d }, (_, j) => x[i * d + j] + r[i * d + j]);
    const scale = 1 / Math.sqrt(s.reduce((a, v) => a + v * v, 0) / d + eps);
    s.forEach((v, j) => (loss += v * w1[i * d + j] + v * scale * g[j] * w2[i * d + j]));
  }
  return loss;
}

describe("addRmsNorm", () => {
  for (const backend of ["cpu", "native"] as const) {
    it(`${backend}: both outputs and the x/residual/gain gradients equal the float64 reference`, async () => {
      await useBackend(backend);
      expect(hasFusedKernel(FUSED_KERNELS.addRmsNorm)).toBe(backend === "native");
      const rng = new Rng(5);
      const [x, r, g, w1, w2] = [R * d, R * d, d, R * d, R * d].map((n) => randomValues(rng, n));
      const t = (v: Float64Array, shape: number[]) => tf.tensor(Float32Array.from(v), shape);
      const [tx, tr, tg, tw1, tw2] = [t(x, [R, d]), t(r, [R, d]), t(g, [d]), t(w1, [R, d]), t(w2, [R, d])];
      const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.tidy(() => {
          const [sum, normed] = addRmsNorm(a, b, c, eps);
          return tf.add(tf.sum(tf.mul(sum, tw1)), tf.sum(tf.mul(normed, tw2)));
        });
      const [value, grads] = expectNoLeak(() => {
        const l = loss(tx, tr, tg);
        const gs = tf.grads(loss)([tx, tr, tg]);
        const out = [l.dataSync()[0], gs.map((v) => Float64Array.from(v.dataSync()))] as const;
        tf.dispose([l, ...gs]);
        return out;
      });
      expect(Math.abs(value - reference(x, r, g, w1, w2))).toBeLessThan(1e-4 * Math.max(1, Math.abs(value)));
      const fd = [
        numericGradient((v) => reference(v, r, g, w1, w2), x),
        numericGradient((v) => reference(x, v, g, w1, w2), r),
        numericGradient((v) => reference(x, r, v, w1, w2), g),
      ];
      grads.forEach((gr, i) => expectClose(gr, fd[i], 2e-5));
      tf.dispose([tx, tr, tg, tw1, tw2]);
    });
  }

  it("names bad arguments", () => {
    const x = tf.zeros([2, 3]);
    expect(() => addRmsNorm(x, tf.zeros([3, 2]), tf.ones([3]))).toThrow(
      /addRmsNorm\(residual\): expected float32 \[2,3\]/,
    );
    expect(() => addRmsNorm(x, x, tf.ones([2]))).toThrow(/addRmsNorm\(gain\): expected a float32 tensor \[3\]/);
    expect(() => addRmsNorm(x, x, tf.ones([3]), -1)).toThrow(/addRmsNorm\(eps\)/);
  });
});
