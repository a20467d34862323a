// tfjs 4.22's own Cumsum gradient, captured before lib/ops replaces it: wrong off the last axis. If a tfjs upgrade
// fixes it, this test fails and lib/ops/cumsum.ts's gradient can go.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";

const tfjsCumsumGrad = tf.getGradient("Cumsum");

describe("tfjs's Cumsum gradient (before lib/ops)", () => {
  let ours: tf.GradConfig;
  beforeAll(async () => {
    await useBackend("cpu");
    ours = (await import("../../lib/ops/cumsum")).cumsumGradConfig;
    (await import("../../lib/ops")).registerGradients();
  });

  const w = () =>
    tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
  const grad = (axis: number) => (v: tf.Tensor) => tf.cumsum(v, axis).mul(w()).sum();

  it("throws on a non-square tensor along axis 0 and transposes the gradient of a square one", () => {
    expect(tfjsCumsumGrad).toBeDefined();
    expect(tfjsCumsumGrad).not.toBe(ours);
    tf.registerGradient(tfjsCumsumGrad!);
    try {
      tf.tidy(() => {
        expect(() => tf.grad((v) => tf.cumsum(v, 0).sum())(tf.zeros([2, 3]))).toThrow(
          /has shape '3,2', which does not match the shape of the input '2,3'/,
        );
        // d/dx Σ w ⊙ cumsum(x, 0) = reverse cumsum of w along axis 0 = [[4, 6], [3, 4]]; tfjs returns its transpose.
        expect(
          tf
            .grad(grad(0))(tf.zeros([2, 2]))
            .arraySync(),
        ).toEqual([
          [4, 3],
          [6, 4],
        ]);
        // On the last axis it is right.
        expect(
          tf
            .grad(grad(1))(tf.zeros([2, 2]))
            .arraySync(),
        ).toEqual([
          [3, 2],
          [7, 4],
        ]);
      });
    } finally {
      tf.registerGradient(ours);
    }
  });

  it("is fixed once lib/ops registered its gradient", () => {
    expect(tf.getGradient("Cumsum")).toBe(ours);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      expect(
        tf
          .grad(grad(0))(tf.zeros([2, 2]))
          .arraySync(),
      ).toEqual([
        [4, 6],
        [3, 4],
      ]);
      expect(
        tf
          .grad((v) => tf.cumsum(v, 0).sum())(tf.zeros([2, 3]))
          .arraySync(),
      ).toEqual([
        [2, 2, 2],
        [1, 1, 1],
      ]);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
