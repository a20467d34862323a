// Balance losses against their closed forms (uniform routing: Switch 1, sequence-wise 1, group-level 1, MSE 0, z-loss
// (ln E)² at zero logits) and hand-computed worked examples; metrics; the aux-loss-free bias update on a skewed stream.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  MoELayer,
  auxFreeBiasUpdate,
  expertCounts,
  groupBalanceLoss,
  loadMetrics,
  mseLoss,
  routerEntropy,
  sequenceWiseLoss,
  switchLoss,
  zLoss,
} from "../../lib/moe";
import { randomNormal, seed } from "../../lib/random";
import { expectClose, expectNoLeak } from "../ops/helpers";

const value = (t: tf.Tensor) => t.dataSync()[0];

/** T tokens, E experts, top-k, uniform scores 1/E and selections spread evenly (every sequence of E tokens balanced). */
function uniform(T: number, E: number, k: number): { scores: tf.Tensor2D; indices: tf.Tensor2D } {
  const idx = Array.from({ length: T * k }, (_, p) => (Math.floor(p / k) + (p % k)) % E);
  return { scores: tf.fill([T, E], 1 / E) as tf.Tensor2D, indices: tf.tensor2d(idx, [T, k], "int32") };
}

describe("balance losses: closed forms under uniform routing", () => {
  it("Switch 1, sequence-wise 1, group-level 1, MSE 0, z-loss (ln E)² at zero logits", () => {
    for (const [T, E, k] of [
      [16, 8, 2],
      [12, 4, 1],
      [64, 16, 4],
    ]) {
      const { scores, indices } = uniform(T, E, k);
      expectNoLeak(() =>
        tf.tidy(() => {
          expect(value(switchLoss(scores, indices).loss)).toBeCloseTo(1, 5);
          expect(value(sequenceWiseLoss(scores, indices, E).loss)).toBeCloseTo(1, 5);
          expect(value(groupBalanceLoss(scores, indices, 2).loss)).toBeCloseTo(1, 5);
          expect(value(mseLoss(scores).loss)).toBeCloseTo(0, 10);
          expect(value(zLoss(tf.zeros([T, E]) as tf.Tensor2D))).toBeCloseTo(Math.log(E) ** 2, 5);
        }),
      );
      tf.dispose([scores, indices]);
    }
  });
});

describe("balance losses: worked examples", () => {
  // E = 2, k = 1: both tokens pick expert 0; scores rows [0.9, 0.1], [0.6, 0.4].
  const scores = () =>
    tf.tensor2d([
      [0.9, 0.1],
      [0.6, 0.4],
    ]);
  const indices = () => tf.tensor2d([[0], [0]], [2, 1], "int32");

  it("Switch: E·Σ fᵢPᵢ = 2·(1·0.75 + 0·0.25) = 1.5", () => {
    tf.tidy(() => {
      const r = switchLoss(scores(), indices());
      expectClose(r.f.dataSync(), [1, 0], 1e-7);
      expectClose(r.P.dataSync(), [0.75, 0.25], 1e-6);
      expect(value(r.loss)).toBeCloseTo(1.5, 6);
    });
  });

  it("sequence-wise: fᵢ = E/(k·L)·countᵢ = [2, 0], Pᵢ = [0.75, 0.25] → 1.5; and it sees per-sequence imbalance Switch misses", () => {
    tf.tidy(() => {
      expect(value(sequenceWiseLoss(scores(), indices(), 2).loss)).toBeCloseTo(1.5, 6);
      // Sequence 1 sends both tokens to expert 0, sequence 2 both to expert 1: the batch is balanced (Switch 1.0) but each
      // sequence is not: fᵢ = [2, 0], Pᵢ = [0.9, 0.1] → 1.8 per sequence.
      const s = tf.tensor2d([
        [0.9, 0.1],
        [0.9, 0.1],
        [0.1, 0.9],
        [0.1, 0.9],
      ]);
      const i = tf.tensor2d([[0], [0], [1], [1]], [4, 1], "int32");
      expect(value(sequenceWiseLoss(s, i, 2).loss)).toBeCloseTo(1.8, 6);
      expect(value(switchLoss(s, i).loss)).toBeCloseTo(1.0, 6);
    });
  });

  it("MSE to uniform: (0.75 − 0.5)² + (0.25 − 0.5)² = 0.125; sigmoid scores are normalised first", () => {
    tf.tidy(() => {
      expect(value(mseLoss(scores()).loss)).toBeCloseTo(0.125, 6);
      expect(
        value(
          mseLoss(
            tf.tensor2d([
              [0.9, 0.3],
              [0.2, 0.2],
            ]),
          ).loss,
        ),
      ).toBeCloseTo(2 * (0.625 - 0.5) ** 2, 6);
    });
  });

  it("z-loss: mean(logsumexp²) = ((ln 4)² + (ln 2)²)/2 for rows [0, ln 3], [0, 0]", () => {
    tf.tidy(() => {
      expect(
        value(
          zLoss(
            tf.tensor2d([
              [0, Math.log(3)],
              [0, 0],
            ]),
          ),
        ),
      ).toBeCloseTo((Math.log(4) ** 2 + Math.log(2) ** 2) / 2, 5);
    });
  });

  it("group-level: f' = group means of E/(kT)·count, P' = group sums", () => {
    tf.tidy(() => {
      // E = 4 in 2 groups, k = 1, T = 2: tokens pick experts 0 and 1 (both in group 0).
      const s = tf.tensor2d([
        [0.4, 0.3, 0.2, 0.1],
        [0.1, 0.5, 0.2, 0.2],
      ]);
      const r = groupBalanceLoss(s, tf.tensor2d([[0], [1]], [2, 1], "int32"), 2);
      // fᵢ = 4/2·[1,1,0,0] = [2,2,0,0] → f' = [2, 0]; Pᵢ = [0.25, 0.4, 0.2, 0.15] → P' = [0.65, 0.35]; loss 1.3.
      expectClose(r.f.dataSync(), [2, 0], 1e-6);
      expectClose(r.P.dataSync(), [0.65, 0.35], 1e-6);
      expect(value(r.loss)).toBeCloseTo(1.3, 6);
    });
  });

  it("counts selections with leading groups kept", () => {
    tf.tidy(() => {
      const c = expertCounts(
        tf.tensor3d(
          [
            [
              [0, 2],
              [2, 1],
            ],
            [
              [1, 1],
              [0, 0],
            ],
          ],
          [2, 2, 2],
          "int32",
        ),
        3,
        1,
      );
      expect(Array.from(c.dataSync())).toEqual([1, 1, 2, 2, 2, 0]);
    });
  });

  it("names the argument on bad input", () => {
    tf.tidy(() => {
      expect(() => switchLoss(tf.zeros([4]) as tf.Tensor2D, indices())).toThrow(
        /moe.switchLoss: scores must have shape \[T, E\]/,
      );
      expect(() => switchLoss(scores(), tf.tensor2d([[0]], [1, 1], "int32"))).toThrow(
        /moe.switchLoss: indices must have shape \[T=2, k\]/,
      );
      expect(() => sequenceWiseLoss(scores(), indices(), 3)).toThrow(
        /seqLen must divide the number of tokens 2, got 3/,
      );
      expect(() => groupBalanceLoss(scores(), indices(), 3)).toThrow(
        /nGroups must divide the number of experts 2, got 3/,
      );
      expect(() => auxFreeBiasUpdate(tf.zeros([3]) as tf.Tensor1D, tf.zeros([2]) as tf.Tensor1D, 1e-3)).toThrow(
        /load must have shape \[E=3\]/,
      );
    });
  });
});

describe("metrics", () => {
  it("MaxVio, CV, entropy and dropped fraction of a load vector", () => {
    const m = loadMetrics([6, 2, 2, 2], 3, 15);
    expect(m.maxVio).toBeCloseTo(6 / 3 - 1, 12);
    expect(m.cv).toBeCloseTo(Math.sqrt(3) / 3, 12);
    const p = [0.5, 1 / 6, 1 / 6, 1 / 6];
    expect(m.entropy).toBeCloseTo(-p.reduce((a, q) => a + q * Math.log(q), 0), 12);
    expect(m.droppedFraction).toBeCloseTo(0.2, 12);
    expect(loadMetrics([3, 3, 3]).maxVio).toBe(0);
    expect(loadMetrics([0, 0, 5]).entropy).toBe(0);
    expect(() => loadMetrics([1, -1])).toThrow(/load must be finite numbers ≥ 0/);
    const h = tf.tidy(() => routerEntropy(tf.fill([3, 4], 0.25) as tf.Tensor2D));
    expect(h).toBeCloseTo(Math.log(4), 5);
  });
});

describe("aux-loss-free balancing", () => {
  it("b += γ·sign(mean − load): underloaded experts up, overloaded down, balanced unchanged", () => {
    tf.tidy(() => {
      const b = auxFreeBiasUpdate(tf.tensor1d([0, 0.5, 0, 0]), tf.tensor1d([10, 2, 4, 4]), 0.1);
      expectClose(b.dataSync(), [-0.1, 0.6, 0.1, 0.1], 1e-6);
    });
  });

  it("moves the load toward uniform on a skewed synthetic stream (MaxVio falls)", () => {
    seed(3);
    const E = 8;
    const layer = new MoELayer(16, {
      nRouted: E,
      topK: 2,
      nShared: 0,
      expertHidden: 4,
      scoreFunc: "sigmoid",
      balance: "auxfree",
      biasUpdateRate: 0.02,
    });
    // Skew: experts 0 and 1 get a large positive logit offset for every token.
    layer.gate.weight.assign(
      tf.tidy(() => tf.add(layer.gate.weight, tf.concat([tf.fill([2, 16], 0.6), tf.zeros([E - 2, 16])]))),
    );
    const maxVio: number[] = [];
    const before = tf.memory().numTensors;
    for (let step = 0; step < 60; step++) {
      const x = tf.tidy(() => tf.add(randomNormal([64, 16]), 0.5)) as tf.Tensor2D; // [64, 16] positive mean: skew persists
      const out = layer.forward(x);
      maxVio.push(loadMetrics(out.load.dataSync()).maxVio);
      layer.updateBias(out.load);
      tf.dispose([x, out.y, out.auxLoss, out.load, out.indices]);
    }
    expect(tf.memory().numTensors).toBe(before);
    const first = maxVio.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = maxVio.slice(-10).reduce((a, b) => a + b) / 10;
    expect(first).toBeGreaterThan(1);
    expect(last).toBeLessThan(first / 2);
    const bias = Array.from(layer.gate.bias!.dataSync());
    expect(Math.max(bias[0], bias[1])).toBeLessThan(Math.min(...bias.slice(2))); // the favoured experts were pushed down
    layer.dispose();
  });

  it("updateBias is a no-op without auxfree", () => {
    const layer = new MoELayer(4, { nRouted: 4, topK: 1, balance: "switch" });
    expect(layer.gate.bias).toBeNull();
    const load = tf.tensor1d([4, 0, 0, 0]);
    layer.updateBias(load);
    expect([...layer.namedBuffers().keys()]).toEqual([]);
    tf.dispose(load);
    layer.dispose();
  });
});
