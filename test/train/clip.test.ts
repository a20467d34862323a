// Global-norm clipping against hand-computed norms (torch.nn.utils.clip_grad_norm_'s rule).
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { clipByGlobalNorm, CLIP_EPS, globalNorm } from "../../lib/train/clip";

describe("clipByGlobalNorm", () => {
  it("measures the norm of all gradients together and scales by maxNorm/(norm+eps) when above", () => {
    const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor2d([[0], [4]]) }; // global norm 5
    const before = tf.memory().numTensors;
    const { grads: out, norm } = clipByGlobalNorm(grads, 1);
    expect(norm.dataSync()[0]).toBe(5);
    const coef = Math.fround(1 / (5 + CLIP_EPS));
    expect(out.a.dataSync()[0]).toBeCloseTo(3 * coef, 6);
    expect(out.b.dataSync()[1]).toBeCloseTo(4 * coef, 6);
    expect(globalNorm([out.a, out.b]).dataSync()[0]).toBeCloseTo(1, 5);
    expect(tf.memory().numTensors).toBe(before + 3 + 1); // two clipped gradients, the norm, the checking norm above
    tf.dispose([out.a, out.b, norm, grads.a, grads.b]);
  });
  it("leaves gradients below maxNorm unchanged, and only measures with null", () => {
    const grads = { a: tf.tensor1d([0.3, 0.4]) };
    const small = clipByGlobalNorm(grads, 1);
    expect(Array.from(small.grads.a.dataSync())).toEqual(Array.from(grads.a.dataSync()));
    const measured = clipByGlobalNorm(grads, null);
    expect(measured.grads.a).toBe(grads.a);
    expect(measured.norm.dataSync()[0]).toBeCloseTo(0.5, 7);
    tf.dispose([small.grads.a, small.norm, measured.norm, grads.a]);
  });
  it("rejects a non-positive maxNorm and an empty gradient list", () => {
    expect(() => clipByGlobalNorm({ a: tf.scalar(1) }, 0)).toThrow(
      "clipByGlobalNorm(grads, maxNorm): maxNorm must be > 0 or null, got 0",
    );
    expect(() => globalNorm([])).toThrow("globalNorm(grads): expected at least one gradient");
  });
});
