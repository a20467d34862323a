// Hinton et al. 2015 distillation loss: α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − α)·CE, against values computed
// by hand in plain JS, with its edge cases (α = 0 is CE; equal logits give KL 0), gradients and named errors.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { distillationLoss } from "../../lib/adapt";

beforeAll(async () => {
  await selectBackend();
});

const S = [
  [1.0, -0.5, 2.0, 0.3],
  [0.2, 0.1, -1.0, 1.5],
];
const T = [
  [0.5, 0.5, 1.5, -0.2],
  [1.0, -0.3, -0.5, 2.0],
];
const Y = [2, 3];

function logSoftmax(row: number[], temp: number): number[] {
  const z = row.map((v) => v / temp);
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

function byHand(temp: number, alpha: number): { loss: number; kl: number; ce: number } {
  let kl = 0;
  let ce = 0;
  S.forEach((s, i) => {
    const ls = logSoftmax(s, temp);
    const lt = logSoftmax(T[i], temp);
    kl += lt.reduce((acc, l, j) => acc + Math.exp(l) * (l - ls[j]), 0);
    ce -= logSoftmax(s, 1)[Y[i]];
  });
  kl /= S.length;
  ce /= S.length;
  return { loss: alpha * temp * temp * kl + (1 - alpha) * ce, kl, ce };
}

describe("distillationLoss", () => {
  it.each([
    [1, 0.5],
    [2, 0.9],
    [4, 0.3],
    [3, 0],
    [2, 1],
  ])("T = %d, α = %d matches the hand computation", (temp, alpha) => {
    const [s, t, y] = [tf.tensor2d(S), tf.tensor2d(T), tf.tensor1d(Y, "int32")];
    const n0 = tf.memory().numTensors;
    const out = distillationLoss(s, t, y, { temperature: temp, alpha });
    const want = byHand(temp, alpha);
    expect(out.loss.dataSync()[0]).toBeCloseTo(want.loss, 5);
    expect(out.kl.dataSync()[0]).toBeCloseTo(want.kl, 5);
    expect(out.ce.dataSync()[0]).toBeCloseTo(want.ce, 5);
    tf.dispose([out.loss, out.kl, out.ce]);
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([s, t, y]);
  });

  it("KL is 0 when the student equals the teacher; no gradient reaches the teacher; the student's gradient matches finite differences", () => {
    const [s, y] = [tf.tensor2d(S), tf.tensor1d(Y, "int32")];
    const same = distillationLoss(s, s, y, { alpha: 1 });
    expect(Math.abs(same.kl.dataSync()[0])).toBeLessThan(1e-6);
    tf.dispose([same.loss, same.kl, same.ce]);
    const t = tf.tensor2d(T);
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      distillationLoss(a as tf.Tensor2D, b as tf.Tensor2D, y, { temperature: 2, alpha: 0.7 }).loss;
    const [ds, dt] = tf.grads(f)([s, t]);
    expect(Array.from(dt.dataSync()).every((v) => v === 0)).toBe(true);
    const g = ds.arraySync() as number[][];
    const h = 1e-3;
    for (const [i, j] of [
      [0, 0],
      [0, 2],
      [1, 3],
    ]) {
      const bump = (d: number) => {
        const m = S.map((r) => [...r]);
        m[i][j] += d;
        return tf.tidy(() => f(tf.tensor2d(m), t).dataSync()[0]);
      };
      expect(g[i][j]).toBeCloseTo((bump(h) - bump(-h)) / (2 * h), 2);
    }
    tf.dispose([s, t, y, ds, dt]);
  });

  it("names bad input", () => {
    const [s, y] = [tf.tensor2d(S), tf.tensor1d(Y, "int32")];
    expect(() => distillationLoss(s, s, y, { temperature: 0 })).toThrow(
      /config.temperature must be a finite number > 0/,
    );
    expect(() => distillationLoss(s, s, y, { alpha: 1.5 })).toThrow(/config.alpha must be a finite number in \[0, 1\]/);
    const t3 = tf.zeros([2, 3]);
    expect(() => distillationLoss(s, t3 as tf.Tensor2D, y)).toThrow(/one shape \[N, V\]/);
    tf.dispose([s, y, t3]);
  });
});
