// rl.gae against a hand-worked trajectory with an episode boundary in the middle (cleanrl's convention: dones[t]
// marks that observation t starts a new episode), several environments, the Monte-Carlo limit, and named errors.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { gae } from "../../lib/rl";

const data = (x: tf.Tensor) => Array.from(x.dataSync());

describe("rl.gae", () => {
  // One environment, 4 steps, γ = 0.9, λ = 0.8. Step 1 ends an episode, so observation 2 starts a new one.
  const single = {
    rewards: tf.tensor1d([1, 1, 1, 1]),
    values: tf.tensor1d([0.5, 0.4, 0.3, 0.2]),
    dones: tf.tensor1d([0, 0, 1, 0]),
    nextValue: tf.scalar(0.1),
    nextDone: tf.scalar(0),
  };
  // By hand: δ3 = 1 + 0.9·0.1 − 0.2 = 0.89, A3 = 0.89; δ2 = 1 + 0.9·0.2 − 0.3 = 0.88, A2 = 0.88 + 0.72·0.89 = 1.5208;
  // δ1 = 1 − 0.4 = 0.6 (no bootstrap across the boundary), A1 = 0.6; δ0 = 1 + 0.9·0.4 − 0.5 = 0.86, A0 = 0.86 + 0.72·0.6.
  const advantages = [1.292, 0.6, 1.5208, 0.89];

  it("matches the hand-worked advantages and returns with a terminal in the middle", () => {
    const out = gae(single, { gamma: 0.9, lambda: 0.8 });
    data(out.advantages).forEach((a, i) => expect(a).toBeCloseTo(advantages[i], 5));
    data(out.returns).forEach((r, i) => expect(r).toBeCloseTo(advantages[i] + [0.5, 0.4, 0.3, 0.2][i], 5));
  });

  it("does not bootstrap from nextValue when the next observation starts an episode", () => {
    const out = gae({ ...single, nextDone: tf.scalar(1) }, { gamma: 0.9, lambda: 0.8 });
    expect(data(out.advantages)[3]).toBeCloseTo(1 - 0.2, 6);
  });

  it("runs environments independently ([T, N]) and reduces to discounted returns at λ = 1", () => {
    const out = gae(
      {
        rewards: tf.tensor2d([
          [1, 0],
          [1, 2],
          [1, 0],
        ]),
        values: tf.tensor2d([
          [0, 0],
          [0, 0],
          [0, 0],
        ]),
        dones: tf.tensor2d([
          [0, 0],
          [0, 1],
          [0, 0],
        ]),
        nextValue: tf.tensor1d([0, 10]),
        nextDone: tf.tensor1d([1, 0]),
      },
      { gamma: 0.5, lambda: 1 },
    );
    // Env 0: returns 1 + 0.5 + 0.25, 1 + 0.5, 1. Env 1: step 0 ends its episode (0); then 2 + 0.5·0 + 0.25·10, 0 + 0.5·10.
    expect(data(out.returns)).toEqual([1.75, 0, 1.5, 4.5, 1, 5]);
  });

  it("names the input and expected shape on bad input", () => {
    expect(() => gae({ ...single, values: tf.tensor1d([1, 2, 3]) })).toThrow(
      /rl\.gae: inputs\.values must have shape \[T=4\], got \[3\] \(T is 3\)/,
    );
    expect(() => gae({ ...single, nextValue: tf.tensor1d([1]) })).toThrow(
      /inputs\.nextValue must have shape \[\], got \[1\]/,
    );
    expect(() => gae({ ...single, rewards: tf.tensor1d([1, NaN, 1, 1]) })).toThrow(
      /inputs\.rewards\[1\] is NaN; expected finite numbers/,
    );
    expect(() => gae({ ...single, dones: tf.tensor1d([0, 0.5, 0, 0]) })).toThrow(
      /inputs\.dones\[1\] is 0\.5; expected 0 or 1/,
    );
    expect(() => gae({ ...single, rewards: tf.tensor1d([]), values: tf.tensor1d([]), dones: tf.tensor1d([]) })).toThrow(
      /rewards is empty/,
    );
    expect(() => gae(single, { gamma: 1.5 })).toThrow(/config\.gamma must be a finite number in \[0, 1\]/);
  });

  it("keeps the tensor count flat", () => {
    const before = tf.memory().numTensors;
    tf.dispose(Object.values(gae(single)));
    expect(tf.memory().numTensors).toBe(before);
  });
});
