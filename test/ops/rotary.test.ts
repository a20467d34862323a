// The fused RoPE op: forward and gradients (x, cos, sin) against a float64 reference and central differences, both
// pair layouts, tables shared by every sequence [T, dh/2] or per sequence [B, 1, T, dh/2], on cpu (the composite) and
// native (the fused kernel); no tensor leaks; bad input named.
// test/ops/fused-ops-isa.test.ts reruns this file on the AVX2 and scalar paths.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { rotary } from "../../lib/ops";
import { hasFusedKernel } from "../../lib/ops/fused";
import { ROTARY_KERNEL } from "../../lib/kernel-names";
import { Rng } from "../../lib/random";
import { expectClose, expectNoLeak, numericGradient, randomValues } from "./helpers";

const [B, H, T, dh] = [2, 3, 5, 38]; // dh/2 = 19: vector tails on every ISA
const half = dh / 2;

/** float64 reference loss Σ rotate(x)·w. */
function reference(
  x: Float64Array,
  cos: Float64Array,
  sin: Float64Array,
  w: Float64Array,
  interleaved: boolean,
  perRow: boolean,
): number {
  let loss = 0;
  for (let r = 0; r < B * H; r++)
    for (let t = 0; t < T; t++)
      for (let i = 0; i < half; i++) {
        const [ia, ib] = interleaved ? [2 * i, 2 * i + 1] : [i, i + half];
        const o = (r * T + t) * dh;
        const at = ((perRow ? Math.floor(r / H) * T : 0) + t) * half + i; // per-sequence tables: sequence r / H
        const [a, b, c, s] = [x[o + ia], x[o + ib], cos[at], sin[at]];
        loss += (a * c - b * s) * w[o + ia] + (b * c + a * s) * w[o + ib];
      }
  return loss;
}

describe("rotary", () => {
  for (const backend of ["cpu", "native"] as const)
    for (const interleaved of [false, true])
      for (const perRow of [false, true]) {
        it(`${backend}, ${interleaved ? "interleaved" : "half"}, ${perRow ? "per-sequence" : "shared"} tables: value and x/cos/sin gradients equal the float64 reference`, async () => {
          await useBackend(backend);
          expect(hasFusedKernel(ROTARY_KERNEL)).toBe(backend === "native");
          const rng = new Rng(11);
          const tables = (perRow ? B : 1) * T * half;
          const [x, cos, sin, w] = [B * H * T * dh, tables, tables, B * H * T * dh].map((n) => randomValues(rng, n));
          const tx = tf.tensor4d(Float32Array.from(x), [B, H, T, dh]);
          const tableShape = perRow ? [B, 1, T, half] : [T, half];
          const tc = tf.tensor(Float32Array.from(cos), tableShape);
          const ts = tf.tensor(Float32Array.from(sin), tableShape);
          const tw = tf.tensor4d(Float32Array.from(w), [B, H, T, dh]);
          const loss = (a: tf.Tensor, c: tf.Tensor, s: tf.Tensor) =>
            tf.tidy(() =>
              tf.sum(tf.mul(rotary(a as tf.Tensor4D, c as tf.Tensor2D, s as tf.Tensor2D, interleaved), tw)),
            );
          const [value, grads] = expectNoLeak(() => {
            const l = loss(tx, tc, ts);
            const g = tf.grads(loss)([tx, tc, ts]);
            const out = [l.dataSync()[0], g.map((t) => Float64Array.from(t.dataSync()))] as const;
            tf.dispose([l, ...g]);
            return out;
          });
          expect(Math.abs(value - reference(x, cos, sin, w, interleaved, perRow))).toBeLessThan(
            1e-4 * Math.max(1, Math.abs(value)),
          );
          const fd = [
            numericGradient((v) => reference(v, cos, sin, w, interleaved, perRow), x),
            numericGradient((v) => reference(x, v, sin, w, interleaved, perRow), cos),
            numericGradient((v) => reference(x, cos, v, w, interleaved, perRow), sin),
          ];
          grads.forEach((g, i) => expectClose(g, fd[i], 2e-5));
          tf.dispose([tx, tc, ts, tw]);
        });
      }

  it("names bad arguments", () => {
    const x = tf.zeros([1, 1, 2, 4]) as tf.Tensor4D;
    const t = tf.zeros([2, 2]) as tf.Tensor2D;
    expect(() => rotary(tf.zeros([1, 1, 2, 3]) as tf.Tensor4D, t, t, false)).toThrow(
      /rotary\(x\): expected float32 \[B, H, T, dh\] with dh even/,
    );
    expect(() => rotary(x, tf.zeros([3, 2]) as tf.Tensor2D, t, false)).toThrow(
      /rotary\(cos\): expected float32 \[2, 2\]/,
    );
    tf.dispose([x, t]);
  });
});
